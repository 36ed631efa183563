; pcbench: the local-APIC figures of make bench (tools/bench), measured from inside a guest on
; hv's virtual PC. hv gives a local APIC only to a guest whose module is a Linux bzImage
; (vmx/loader/bzimage.c), so this is one: a setup header that satisfies the 64-bit boot
; protocol (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header" and "64-bit Boot
; Protocol") and a "kernel" whose startup_64 (load address + 0x200) is the benchmark.
;
; Entry state (docs/guest-abi.md "Linux guests"): 64-bit mode, interrupts off, CS = __BOOT_CS,
; RSI = boot_params (unused), the first 4 GiB identity-mapped (the xAPIC page uncacheable).
;
; Under Bochs with one CPU the TSC advances by one per emulated instruction and hv does not
; offset the guest's TSC, so a TSC difference is an instruction count. As in guests/bench/bench.c
; each figure is the median of SAMPLES samples minus the median of the same sequence with a
; NOP in place of the operation (the loop's own cost); one line per figure, the bench guest's
; format, parsed by tools/bench:
;     bench: NAME median=M loop=L min=A max=B samples=N
;
;   tsc_deadline_irq  RDTSC; WRMSR IA32_TSC_DEADLINE = that TSC (already reached, so the timer
;                     fires at once) ... RDTSC as the timer handler's first instruction. The
;                     span covers the WRMSR exit, hv's deadline and interrupt handling, the VM
;                     entry that injects the vector and the CPU's delivery through the IDT.
;                     Loop twin: the same sequence with a NOP for the WRMSR, ended by RDTSC.
;   lapic_eoi         RDTSC around one 32-bit store of 0 to the xAPIC EOI register
;                     (0xFEE000B0), taken inside that timer handler, so the timer vector is in
;                     service (the EOI every Linux interrupt handler ends with). Loop twin: the
;                     same sequence with a NOP, taken in the same handler just before.
;
; Then the guest powers off by ACPI S5 (the FADT's PM1a control port, as Linux's poweroff does),
; which hv reports as `exit(0)`. Anything unexpected (no TSC-deadline timer, a stray interrupt
; or exception, a timer interrupt that never comes) prints why and halts with interrupts off:
; verdict `halted`.
%include "guest.inc"

; ---- the boot protocol (boot.rst; the same numbers as vmx/loader/bzimage.h) ----
; pref_address: 4 MiB (a non-relocatable kernel is loaded exactly there). Not Linux's 1 MiB: hv's
; own code runs at linear 1 MiB and up, and at 4 MiB it never executes (as for the bench guest's
; timed code, guests/bench/bench.ld), so a Bochs linear breakpoint there stops only in the guest.
%define LOAD_ADDR         0x400000
%define SETUP_SECTS       1           ; the real-mode part: boot sector + 1 sector (header only)
%define SECTOR            512
%define SETUP_BYTES       ((SETUP_SECTS + 1) * SECTOR)
%define HDR_OFFSET        0x1F1       ; the setup header's place in the boot sector
%define HDR_END_215       0x26C       ; its end with every 2.15 field
%define BOOT_FLAG         0xAA55
%define BOOT_PROTOCOL     0x020F      ; 2.15: the header up to kernel_info_offset
%define LOADED_HIGH       (1 << 0)    ; loadflags: protected-mode code at 1 MiB (a bzImage)
%define XLF_KERNEL_64     (1 << 0)    ; xloadflags: the 64-bit entry at +0x200 exists
%define ENTRY64_OFFSET    0x200       ; startup_64 = load address + 0x200
%define CMDLINE_SIZE      255         ; longest command line accepted (it is ignored)
%define INITRD_ADDR_MAX   0x7FFFFFFF  ; no initrd is used; the usual value
%define KERNEL_ALIGN      0x200000    ; meaningless for a non-relocatable kernel; Linux's value
%define PARAGRAPH         16          ; syssize counts 16-byte paragraphs

; ---- x86 (SDM vol. 3) ----
%define IDT_VECTORS       256
%define IDT_GATE_BYTES    16          ; §7.14.1: 64-bit IDT gate descriptors are 16 bytes
%define GATE_INT64        0x8E00      ; P = 1, DPL 0, type 0xE (64-bit interrupt gate), IST 0
%define BOOT_CS           0x10        ; __BOOT_CS of hv's boot GDT (boot.rst), CS at entry
%define CPUID_FEATURES    1
%define CPUID_1_ECX_TSC_DEADLINE (1 << 24)
%define MSR_IA32_TSC_DEADLINE    0x6E0

; ---- the local APIC (SDM vol. 3 ch. "APIC"; offsets as in drivers/vdev/vlapic.h) ----
%define LAPIC_BASE        0xFEE00000
%define APIC_OFF_EOI      0x0B0
%define APIC_OFF_SVR      0x0F0
%define APIC_OFF_LVT_TMR  0x320
%define APIC_SVR_ENABLE   (1 << 8)
%define SPURIOUS_VECTOR   0xFF
%define APIC_TMR_DEADLINE (2 << 17)   ; LVT timer mode 10b: TSC-deadline
%define TIMER_VECTOR      0x40        ; any vector above the exceptions' 0-31

; ---- COM1 (16550) ----
%define LSR_THRE          (1 << 5)    ; transmit holding register empty

; ---- the benchmark ----
%define SAMPLES           1001        ; odd: the median is one sample
%define WAIT_SPINS        1000000     ; polls of irq_seen before the interrupt counts as lost

bits 64

; ================================================================ the real-mode part (header)
section setup start=0 vstart=0
    times HDR_OFFSET - ($ - $$) db 0
    db SETUP_SECTS                          ; 0x1F1 setup_sects
    dw 0                                    ; 0x1F2 root_flags
    dd (kernel_end - kernel_start) / PARAGRAPH ; 0x1F4 syssize
    dw 0                                    ; 0x1F8 ram_size
    dw 0                                    ; 0x1FA vid_mode
    dw 0                                    ; 0x1FC root_dev
    dw BOOT_FLAG                            ; 0x1FE boot_flag
    db 0xEB, header_end - ($ + 2)           ; 0x200 jump: a short JMP over the header
    db "HdrS"                               ; 0x202 header
    dw BOOT_PROTOCOL                        ; 0x206 version
    dd 0                                    ; 0x208 realmode_swtch
    dw 0                                    ; 0x20C start_sys_seg
    dw 0                                    ; 0x20E kernel_version
    db 0                                    ; 0x210 type_of_loader (the loader writes it)
    db LOADED_HIGH                          ; 0x211 loadflags
    dw 0                                    ; 0x212 setup_move_size
    dd LOAD_ADDR                            ; 0x214 code32_start
    dd 0                                    ; 0x218 ramdisk_image
    dd 0                                    ; 0x21C ramdisk_size
    dd 0                                    ; 0x220 bootsect_kludge
    dw 0                                    ; 0x224 heap_end_ptr
    db 0                                    ; 0x226 ext_loader_ver
    db 0                                    ; 0x227 ext_loader_type
    dd 0                                    ; 0x228 cmd_line_ptr
    dd INITRD_ADDR_MAX                      ; 0x22C initrd_addr_max
    dd KERNEL_ALIGN                         ; 0x230 kernel_alignment
    db 0                                    ; 0x234 relocatable_kernel: no, load at pref_address
    db 0                                    ; 0x235 min_alignment
    dw XLF_KERNEL_64                        ; 0x236 xloadflags
    dd CMDLINE_SIZE                         ; 0x238 cmdline_size
    dd 0                                    ; 0x23C hardware_subarch: a PC
    dq 0                                    ; 0x240 hardware_subarch_data
    dd 0                                    ; 0x248 payload_offset
    dd 0                                    ; 0x24C payload_length
    dq 0                                    ; 0x250 setup_data
    dq LOAD_ADDR                            ; 0x258 pref_address
    dd bss_end - LOAD_ADDR                  ; 0x260 init_size: the image and its bss
    dd 0                                    ; 0x264 handover_offset
    dd 0                                    ; 0x268 kernel_info_offset
header_end:
    ; The header ends at 0x26C (protocol 2.15): a negative TIMES count fails the build otherwise.
    times -((header_end - $$) != HDR_END_215) db 0
    times SETUP_BYTES - ($ - $$) db 0

; ================================================================ the protected-mode kernel
section kernel follows=setup vstart=LOAD_ADDR
kernel_start:
    ; startup_32 (the 32-bit entry) is never used: hv enters at startup_64.
    times ENTRY64_OFFSET - ($ - $$) db 0xF4 ; HLT
startup_64:
    mov rsp, stack_top
    call setup_idt
    mov eax, CPUID_FEATURES
    cpuid
    test ecx, CPUID_1_ECX_TSC_DEADLINE
    jz .no_deadline
    ; Software-enable the APIC (SDM APIC "Spurious-Interrupt Vector Register"), then the timer
    ; LVT in TSC-deadline mode, unmasked. MFENCE: SDM APIC "TSC-Deadline Mode" orders the LVT
    ; write before the first WRMSR to IA32_TSC_DEADLINE, which would otherwise be ignored.
    mov ecx, LAPIC_BASE + APIC_OFF_SVR
    mov dword [rcx], APIC_SVR_ENABLE | SPURIOUS_VECTOR
    mov ecx, LAPIC_BASE + APIC_OFF_LVT_TMR
    mov dword [rcx], APIC_TMR_DEADLINE | TIMER_VECTOR
    mfence
    sti
    xor r12d, r12d                          ; r12: the sample index (the handler reads it)
.sample:
    mov byte [rel irq_seen], 0
    ; tsc_deadline_irq: EDX:EAX of the RDTSC is the deadline, reached by the time hv sees it.
    ; From here to the handler nothing may live in RAX or RDX (its first RDTSC takes them).
    rdtsc
    mov r8, rdx
    shl r8, 32
    or r8, rax
    mov ecx, MSR_IA32_TSC_DEADLINE
    wrmsr
    mov r9d, WAIT_SPINS
.wait:
    cmp byte [rel irq_seen], 0
    jne .arrived
    dec r9d
    jnz .wait
    jmp .lost
.arrived:
    mov rax, [rel irq_tsc]
    sub rax, r8
    mov [irq_op + r12 * 8], rax
    ; Its loop twin: the same instructions up to the NOP, then RDTSC.
    rdtsc
    mov r8, rdx
    shl r8, 32
    or r8, rax
    mov ecx, MSR_IA32_TSC_DEADLINE
    nop
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r8
    mov [irq_nop + r12 * 8], rax
    inc r12d
    cmp r12d, SAMPLES
    jb .sample
    cli

    mov rsi, name_eoi
    mov rdi, eoi_op
    mov rbx, eoi_nop
    call report
    mov rsi, name_irq
    mov rdi, irq_op
    mov rbx, irq_nop
    call report
    mov rsi, msg_done
    call puts
    ; ACPI S5: SLP_TYP 0 (the DSDT's _S5) with SLP_EN, to the FADT's PM1a control block.
    mov dx, ACPI_PM1A_CNT
    mov ax, ACPI_SLEEP_S5
    out dx, ax
    jmp halt

.no_deadline:
    mov rsi, msg_no_deadline
    jmp fail
.lost:
    mov rsi, msg_lost
    jmp fail

; The timer interrupt. RDTSC first: the end of the tsc_deadline_irq sample (the interrupted code
; keeps nothing in RAX and RDX). Then the two lapic_eoi samples, loop twin first, so that the
; timed EOI is the one that takes the timer vector out of service.
timer_isr:
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov [rel irq_tsc], rax
    push r8
    push rcx
    rdtsc
    mov r8, rdx
    shl r8, 32
    or r8, rax
    mov ecx, LAPIC_BASE + APIC_OFF_EOI
    xor eax, eax
    nop
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r8
    mov [eoi_nop + r12 * 8], rax
    rdtsc
    mov r8, rdx
    shl r8, 32
    or r8, rax
    mov ecx, LAPIC_BASE + APIC_OFF_EOI
    xor eax, eax
    mov [rcx], eax                          ; the EOI write (Linux: native_apic_mem_eoi)
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r8
    mov [eoi_op + r12 * 8], rax
    mov byte [rel irq_seen], 1
    pop rcx
    pop r8
    iretq

; Every other vector: nothing else is programmed to interrupt, so this is a bug.
unexpected_isr:
    mov rsi, msg_unexpected
fail:
    call puts
halt:
    cli
    hlt
    jmp halt

; All IDT_VECTORS gates to unexpected_isr, TIMER_VECTOR to timer_isr.
setup_idt:
    mov rdi, idt
    mov rax, unexpected_isr
    mov ecx, IDT_VECTORS
.gate:
    call write_gate
    add rdi, IDT_GATE_BYTES
    dec ecx
    jnz .gate
    mov rdi, idt + TIMER_VECTOR * IDT_GATE_BYTES
    mov rax, timer_isr
    call write_gate
    lidt [rel idtr]
    ret

; The 64-bit interrupt gate at RDI for the handler at RAX (SDM vol. 3 §7.14.1): offset 15:0,
; selector, IST/type/attributes, offset 31:16, offset 63:32, reserved.
write_gate:
    mov [rdi], ax
    mov word [rdi + 2], BOOT_CS
    mov word [rdi + 4], GATE_INT64
    mov rdx, rax
    shr rdx, 16
    mov [rdi + 6], dx
    shr rdx, 16
    mov [rdi + 8], edx
    mov dword [rdi + 12], 0
    ret

; report RSI = name, RDI = op samples, RBX = loop-twin samples: sorts both and prints
; "bench: NAME median=M loop=L min=A max=B samples=N".
report:
    push rsi
    mov rsi, rdi
    call sort
    mov rsi, rbx
    call sort
    mov rsi, msg_bench
    call puts
    pop rsi
    call puts
    mov rsi, msg_median
    call puts
    mov rax, [rdi + (SAMPLES / 2) * 8]
    call put_dec
    mov rsi, msg_loop
    call puts
    mov rax, [rbx + (SAMPLES / 2) * 8]
    call put_dec
    mov rsi, msg_min
    call puts
    mov rax, [rdi]
    call put_dec
    mov rsi, msg_max
    call puts
    mov rax, [rdi + (SAMPLES - 1) * 8]
    call put_dec
    mov rsi, msg_samples
    call puts
    mov eax, SAMPLES
    call put_dec
    mov al, 10
    call putc
    ret

; sort RSI: insertion sort of SAMPLES unsigned qwords, ascending (clobbers RAX, RCX, RDX, R8).
sort:
    mov ecx, 1
.outer:
    mov rax, [rsi + rcx * 8]
    mov rdx, rcx
.inner:
    mov r8, [rsi + rdx * 8 - 8]
    cmp r8, rax
    jbe .place
    mov [rsi + rdx * 8], r8
    dec rdx
    jnz .inner
.place:
    mov [rsi + rdx * 8], rax
    inc ecx
    cmp ecx, SAMPLES
    jb .outer
    ret

; put_dec RAX: unsigned decimal to COM1 (clobbers RAX, RCX, RDX, R8).
put_dec:
    lea r8, [rel dec_buf_end]
    mov ecx, 10
.digit:
    xor edx, edx
    div rcx
    add dl, '0'
    dec r8
    mov [r8], dl
    test rax, rax
    jnz .digit
    push rsi
    mov rsi, r8
    call puts
    pop rsi
    ret

; puts RSI: the NUL-terminated string to COM1 (clobbers RSI, AL).
puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

; putc AL: one byte to COM1's transmit holding register once the 16550 says it is empty.
putc:
    push rdx
    push rax
    mov dx, COM1_LSR
.busy:
    in al, dx
    test al, LSR_THRE
    jz .busy
    pop rax
    mov dx, COM1
    out dx, al
    pop rdx
    ret

align 8
idtr:
    dw IDT_VECTORS * IDT_GATE_BYTES - 1
    dq idt
name_eoi:        db "lapic_eoi", 0
name_irq:        db "tsc_deadline_irq", 0
msg_bench:       db "bench: ", 0
msg_median:      db " median=", 0
msg_loop:        db " loop=", 0
msg_min:         db " min=", 0
msg_max:         db " max=", 0
msg_samples:     db " samples=", 0
msg_done:        db "bench: done", 10, 0
msg_no_deadline: db "pcbench: no TSC-deadline timer (CPUID.1:ECX[24] clear)", 10, 0
msg_lost:        db "pcbench: the TSC-deadline interrupt did not arrive", 10, 0
msg_unexpected:  db "pcbench: unexpected interrupt or exception", 10, 0
    align PARAGRAPH, db 0
kernel_end:

; ================================================================ bss (inside init_size)
section kbss nobits follows=kernel
idt:         resb IDT_VECTORS * IDT_GATE_BYTES
irq_op:      resq SAMPLES
irq_nop:     resq SAMPLES
eoi_op:      resq SAMPLES
eoi_nop:     resq SAMPLES
irq_tsc:     resq 1
irq_seen:    resb 1
dec_buf:     resb 24
dec_buf_end:
    alignb 16
             resb 4096
stack_top:
bss_end:
