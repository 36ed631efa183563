; The guest of kvm_bench (tests/bench/kvm/kvm_bench.c): the same exiting instructions as
; guests/bench/bench.c, timed the same way (RDTSC before, the case's setup, the operation,
; RDTSC after; every sample of the operation followed by its twin with a NOP instead),
; SAMPLES times each. The deltas go to guest memory (ES:DI: operation at OP_ARRAY, twin at
; NOP_ARRAY); an OUT to PORT_DONE with the case number in AL hands them to the program, which
; takes the medians like tools/bench. An OUT to PORT_FINISHED ends, one to PORT_ERROR (AL: an
; ERR_ code) reports what went wrong.
; Loaded at 0000:1000 (GUEST_ENTRY in kvm_bench.c), ES = DATA_SEG. The bench guest's cases
; run in real mode; then the guest enters 32-bit protected mode (flat segments, paging off:
; SDM vol. 3 §10.9.1 "Switching to Protected Mode") for the local-APIC figures of
; guests/bench/pcbench.asm, timed as there against KVM's in-kernel local APIC
; (KVM_CREATE_IRQCHIP) at its xAPIC MMIO page, which real mode cannot address:
;   tsc_deadline_irq  RDTSC; WRMSR IA32_TSC_DEADLINE = that TSC (already reached: the timer
;                     fires at once) ... RDTSC as the timer handler's first instruction. Twin:
;                     the same with a NOP for the WRMSR, ended by RDTSC.
;   lapic_eoi         RDTSC around one 32-bit store of 0 to the xAPIC EOI register
;                     (0xFEE000B0) inside that handler (the timer vector in service). Twin:
;                     the same with a NOP, taken in the same handler just before.
; Their samples: IRQ_OP/IRQ_NOP and EOI_OP/EOI_NOP, 32-bit deltas as above, indexed by EDI.
bits 16
org 0x1000

%define SAMPLES        1001          ; as guests/bench/bench.c: odd, the median is one sample
%define DATA_SEG       0x2000        ; the sample arrays at 0x20000 (DATA_PHYS in kvm_bench.c)
%define OP_ARRAY       0x0000
%define NOP_ARRAY      0x1000        ; 1001 * 4 bytes fit below it
%define PORT_DONE      0x501         ; no KVM device: exits to the program
%define PORT_FINISHED  0x502
%define PORT_UART_SCR  0x3ff         ; no KVM device (no in-kernel UART): exits to userspace
%define PORT_PIC1_DATA 0x21          ; the in-kernel 8259 (KVM_CREATE_IRQCHIP): handled in KVM
%define MSR_IA32_PAT   0x277         ; KVM intercepts it (not in VMX's pass-through list)
%define HC_UNKNOWN     0x7fff        ; KVM answers -KVM_ENOSYS
%define XCR0_X87_SSE   3
%define PORT_ERROR     0x503         ; AL = ERR_*: kvm_bench prints why and stops
%define ERR_NO_DEADLINE 1            ; CPUID.1:ECX[24] clear
%define ERR_LOST       2             ; the TSC-deadline interrupt did not arrive
%define ERR_UNEXPECTED 3             ; another interrupt or an exception

; The local-APIC cases (protected mode, flat: addresses are physical).
%define CASE_LAPIC_EOI 7             ; kvm_bench.c's case numbers
%define CASE_TSC_DEADLINE_IRQ 8
%define DATA_PHYS      (DATA_SEG << 4)
%define IRQ_OP         0x0000
%define IRQ_NOP        0x1000
%define EOI_OP         0x2000
%define EOI_NOP        0x3000        ; EOI_* as in kvm_bench.c's cases table
%define STACK_TOP      0x10000       ; above this image, below the samples
%define IDT_BASE       0x18000       ; IDT_VECTORS * 8 bytes, below the samples
%define WAIT_SPINS     1000000       ; polls of irq_seen before the interrupt counts as lost

; ---- x86 (SDM vol. 3) ----
%define CR0_PE         1
%define CODE_SEL       0x08          ; the GDT below: flat 32-bit code
%define DATA_SEL       0x10          ; flat data
%define IDT_VECTORS    256
%define IDT_GATE_BYTES 8             ; §7.11: 32-bit gate descriptors are 8 bytes
%define GATE_INT32     0x8E00        ; P = 1, DPL 0, type 0xE (32-bit interrupt gate)
%define CPUID_FEATURES 1
%define CPUID_1_ECX_TSC_DEADLINE (1 << 24)
%define MSR_IA32_TSC_DEADLINE    0x6E0

; ---- the local APIC (SDM vol. 3 ch. "APIC"; as guests/bench/pcbench.asm) ----
%define LAPIC_BASE        0xFEE00000 ; IA32_APIC_BASE as kvm_bench.c sets it
%define APIC_OFF_EOI      0x0B0
%define APIC_OFF_SVR      0x0F0
%define APIC_OFF_LVT_TMR  0x320
%define APIC_SVR_ENABLE   (1 << 8)
%define SPURIOUS_VECTOR   0xFF
%define APIC_TMR_DEADLINE (2 << 17)  ; LVT timer mode 10b: TSC-deadline
%define TIMER_VECTOR      0x40       ; any vector above the exceptions' 0-31

; One timed sample, stored at [es:di + %2]: TSC before (low 32 bits: a sample is far
; shorter than 2^32 instructions), the case's setup (macro setup_%1), the operation (macro
; op_%1, or a NOP when %3 is nop), TSC after.
%macro TIMED 3
    rdtsc
    mov esi, eax
    setup_%1
  %ifidn %3, nop
    nop
  %else
    op_%1
  %endif
    rdtsc
    sub eax, esi
    mov [es:di + %2], eax
%endmacro

; A case: its name (setup_NAME, op_NAME) and number (the index into kvm_bench.c's
; case_names, reported in AL to PORT_DONE).
%macro CASE 2
    xor di, di
    mov bp, SAMPLES
%%sample:
    TIMED %1, OP_ARRAY, op
    TIMED %1, NOP_ARRAY, nop
    add di, 4
    dec bp
    jnz %%sample
    mov dx, PORT_DONE
    mov al, %2
    out dx, al
%endmacro

%macro setup_cpuid 0
    xor eax, eax
    xor ecx, ecx
%endmacro
%macro op_cpuid 0
    cpuid
%endmacro
%macro setup_vmcall 0
    mov eax, HC_UNKNOWN
    xor ebx, ebx
    xor ecx, ecx
%endmacro
%macro op_vmcall 0
    vmcall
%endmacro
%macro setup_out_uart 0
    mov dx, PORT_UART_SCR
    mov al, 0x5a
%endmacro
%macro op_out_uart 0
    out dx, al
%endmacro
%macro setup_in_pic 0
    mov dx, PORT_PIC1_DATA
%endmacro
%macro op_in_pic 0
    in al, dx
%endmacro
%macro setup_rdmsr 0
    mov ecx, MSR_IA32_PAT
%endmacro
%macro op_rdmsr 0
    rdmsr
%endmacro
%macro setup_xsetbv 0
    xor ecx, ecx
    mov eax, XCR0_X87_SSE
    xor edx, edx
%endmacro
%macro op_xsetbv 0
    xsetbv
%endmacro
%macro setup_mov_cr0 0
    mov eax, cr0
%endmacro
%macro op_mov_cr0 0
    mov cr0, eax
%endmacro

start:
    cli
    mov ax, DATA_SEG
    mov es, ax
    CASE cpuid, 0
    CASE vmcall, 1
    CASE out_uart, 2
    CASE in_pic, 3
    CASE rdmsr, 4
    CASE xsetbv, 5
    CASE mov_cr0, 6

    ; Protected mode (SDM vol. 3 §10.9.1): LGDT, CR0.PE, a far JMP to load CS, then the data
    ; segments. DS is 0 here (KVM's reset state, kvm_bench.c sets only CS): gdtr is addressable.
    o32 lgdt [gdtr]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword CODE_SEL:pm_entry

bits 32
pm_entry:
    mov ax, DATA_SEL
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, STACK_TOP
    call setup_idt
    mov eax, CPUID_FEATURES
    cpuid
    test ecx, CPUID_1_ECX_TSC_DEADLINE
    jz .no_deadline
    ; Software-enable the APIC (SDM APIC "Spurious-Interrupt Vector Register"), then the timer
    ; LVT in TSC-deadline mode, unmasked. MFENCE: SDM APIC "TSC-Deadline Mode" orders the LVT
    ; write before the first WRMSR to IA32_TSC_DEADLINE, which would otherwise be ignored.
    mov dword [LAPIC_BASE + APIC_OFF_SVR], APIC_SVR_ENABLE | SPURIOUS_VECTOR
    mov dword [LAPIC_BASE + APIC_OFF_LVT_TMR], APIC_TMR_DEADLINE | TIMER_VECTOR
    mfence
    sti
    xor edi, edi                            ; EDI: the sample's byte offset (the handler reads it)
.sample:
    mov byte [irq_seen], 0
    ; tsc_deadline_irq: EDX:EAX of the RDTSC is the deadline, reached by the time KVM sees it.
    ; From here to the handler nothing may live in EAX or EDX (its first RDTSC takes them).
    rdtsc
    mov esi, eax
    mov ecx, MSR_IA32_TSC_DEADLINE
    wrmsr
    mov ebx, WAIT_SPINS
.wait:
    cmp byte [irq_seen], 0
    jne .arrived
    dec ebx
    jnz .wait
    mov al, ERR_LOST
    jmp fail
.arrived:
    mov eax, [irq_tsc]
    sub eax, esi
    mov [DATA_PHYS + IRQ_OP + edi], eax
    ; Its loop twin: the same instructions up to the NOP, then RDTSC.
    rdtsc
    mov esi, eax
    mov ecx, MSR_IA32_TSC_DEADLINE
    nop
    rdtsc
    sub eax, esi
    mov [DATA_PHYS + IRQ_NOP + edi], eax
    add edi, 4
    cmp edi, SAMPLES * 4
    jb .sample
    cli
    mov dx, PORT_DONE
    mov al, CASE_LAPIC_EOI
    out dx, al
    mov al, CASE_TSC_DEADLINE_IRQ
    out dx, al
    mov dx, PORT_FINISHED
    out dx, al
    jmp halt
.no_deadline:
    mov al, ERR_NO_DEADLINE
    jmp fail

; The timer interrupt. RDTSC first: the end of the tsc_deadline_irq sample (the interrupted code
; keeps nothing in EAX and EDX). Then the two lapic_eoi samples, loop twin first, so that the
; timed EOI is the one that takes the timer vector out of service.
timer_isr:
    rdtsc
    mov [irq_tsc], eax
    push ecx
    push esi
    rdtsc
    mov esi, eax
    mov ecx, LAPIC_BASE + APIC_OFF_EOI
    xor eax, eax
    nop
    rdtsc
    sub eax, esi
    mov [DATA_PHYS + EOI_NOP + edi], eax
    rdtsc
    mov esi, eax
    mov ecx, LAPIC_BASE + APIC_OFF_EOI
    xor eax, eax
    mov [ecx], eax                          ; the EOI write (Linux: native_apic_mem_eoi)
    rdtsc
    sub eax, esi
    mov [DATA_PHYS + EOI_OP + edi], eax
    mov byte [irq_seen], 1
    pop esi
    pop ecx
    iretd

; Every other vector: nothing else is programmed to interrupt, so this is a bug.
unexpected_isr:
    mov al, ERR_UNEXPECTED
fail:
    mov dx, PORT_ERROR
    out dx, al
halt:
    cli
    hlt
    jmp halt

; All IDT_VECTORS gates to unexpected_isr, TIMER_VECTOR to timer_isr.
setup_idt:
    mov edi, IDT_BASE
    mov eax, unexpected_isr
    mov ecx, IDT_VECTORS
.gate:
    call write_gate
    add edi, IDT_GATE_BYTES
    dec ecx
    jnz .gate
    mov edi, IDT_BASE + TIMER_VECTOR * IDT_GATE_BYTES
    mov eax, timer_isr
    call write_gate
    lidt [idtr]
    ret

; The 32-bit interrupt gate at EDI for the handler at EAX (SDM vol. 3 §7.11): offset 15:0,
; selector, attributes, offset 31:16.
write_gate:
    mov [edi], ax
    mov word [edi + 2], CODE_SEL
    mov word [edi + 4], GATE_INT32
    mov edx, eax
    shr edx, 16
    mov [edi + 6], dx
    ret

align 8
; Flat 4 GiB segments (SDM vol. 3 §3.4.5): base 0, limit 0xFFFFF in 4 KiB units, 32-bit.
gdt:
    dq 0
    dq 0x00CF9A000000FFFF                   ; CODE_SEL: present, ring 0, execute/read
    dq 0x00CF92000000FFFF                   ; DATA_SEL: present, ring 0, read/write
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt
idtr:
    dw IDT_VECTORS * IDT_GATE_BYTES - 1
    dd IDT_BASE
irq_tsc:  dd 0
irq_seen: db 0
