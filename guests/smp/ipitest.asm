; ipitest: the SMP test guest of hv's virtual PC (issue 14; tests/e2e/cases_smp.py). It starts
; the application processors the ACPI MADT lists with INIT-SIPI-SIPI, as an OS does, and checks
; the inter-processor interrupts of the local APIC between them. hv gives a local APIC (and
; vcpus=N) only to a guest whose module is a Linux bzImage, so like guests/bench/pcbench.asm
; this is one: a setup header for the 64-bit boot protocol and a "kernel" whose startup_64
; (load address + 0x200) is the test. Run it with `vcpus=N` (2..8).
;
; Modes, by a word of the module's cmdline= (boot_params.hdr.cmd_line_ptr):
;   (none)    the checks below, each printing `ipitest: PASS NAME` or `ipitest: FAIL NAME: WHY`,
;             then `ipitest: N passed, N failed`;
;   storm     the BSP and the first AP send fixed IPIs to each other as fast as the ICR takes
;             them for STORM_TICKS (or `ticks=N`) TSC ticks, then print what they sent and got;
;   pingpong  the IPI round trip BSP -> AP -> BSP in TSC ticks, the median of PING_SAMPLES:
;             `ipitest: ipi round trip median N ticks min=A max=B samples=S` (make bench);
;   shootdown the first AP spins in the guest (PAUSE, interrupts off) until released; once it
;             says it spins, the BSP switches its own local APIC to x2APIC mode (WRMSR
;             IA32_APIC_BASE with EXTD): hv unmaps the APIC-access page, which the AP's CPU may
;             still cache, and shoots that CPU down while the AP is in guest mode (hv logs
;             `ept: guest NAME: shootdown took N TSC ticks, 1 vCPU(s) ...`, make bench's
;             figure). Then the BSP releases the AP and prints
;             `ipitest: shootdown bsp in x2apic mode, ap released`, check `shootdown`.
; Every mode ends by ACPI S5 (the FADT's PM1a control port), which hv reports as exit(0); the
; e2e cases judge the PASS/FAIL lines. A guest that cannot go on (no MADT, an unexpected
; interrupt or exception on the BSP) prints why and halts with interrupts off: `halted`.
;
; The checks (default mode):
;   madt-lapics           the MADT (checksum valid) lists 2..8 enabled local APICs, the BSP's
;                         among them; the line `ipitest: madt lists N local APICs` says N
;   ap-startup            INIT, 10 ms, SIPI, 200 us, SIPI (SDM vol. 3 "MP Initialization",
;                         the MP spec's sequence) to each AP's APIC ID in MADT order; each AP
;                         runs the real-mode trampoline at the SIPI vector's page, goes through
;                         protected mode to long mode, enables its APIC and prints
;                         `ap N up apic-id M` (N: the order it came up, M: its xAPIC ID)
;   ap-apic-ids           each AP's xAPIC ID register = its CPUID.1:EBX[31:24] = the ID the
;                         SIPI went to
;   sipi-once             the second SIPI of each pair did not start an AP again (a CPU takes a
;                         SIPI only in wait-for-SIPI state)
;   fixed-bsp-to-ap       a fixed IPI (physical destination) to each AP: its handler ran once
;   fixed-ap-to-bsp       each AP sends one to the BSP: the BSP's handler ran once per AP
;   broadcast-all-but-self  the all-excluding-self shorthand from the BSP: every AP once, the
;                         BSP never
;   broadcast-all         the all-including-self shorthand: every CPU once, the BSP too
;   nmi-ipi               an NMI IPI to each AP: its NMI handler (vector 2) ran once
;   logical-destination   flat logical mode (DFR all ones, LDR = 1 << (24 + APIC ID)): a fixed
;                         IPI to the mask of the odd APIC IDs reaches those APs, not the others
;   init-sipi-nonexistent INIT, SIPI, SIPI to an APIC ID the MADT does not list (7, or the
;                         first free one above): harmless, no AP starts, no counter moves, and
;                         a fixed IPI afterwards still reaches the first AP
;
; Console: COM1 polled (LSR THRE), one line at a time under a spin lock in guest memory (the
; APs print too); interrupt handlers never print. Each CPU's stack is STACK_BYTES aligned and
; holds its APIC ID in its lowest dword, so a handler finds its CPU's counters from RSP
; without touching the APIC.
;
; For debugging without hv the image also carries a Multiboot2 header (address and entry tags):
; `HVRUN_NO_BUILD=1 HVRUN_KERNEL=build/guests/ipitest.bzimage tools/hvrun --emu=bochs --cpus=2
; --hv-args=MODE` boots it on Bochs' bare (emulated) CPUs, with Bochs' BIOS tables; it then
; ends through Bochs' shutdown port (0x8900) instead of hv's PM1a port.
%include "guest.inc"

; ---- the boot protocol (boot.rst; as in pcbench.asm and vmx/loader/bzimage.h) ----
%define LOAD_ADDR         0x400000    ; non-relocatable: loaded exactly here (pref_address)
%define SETUP_SECTS       1
%define SECTOR            512
%define SETUP_BYTES       ((SETUP_SECTS + 1) * SECTOR)
%define HDR_OFFSET        0x1F1
%define HDR_END_215       0x26C
%define BOOT_FLAG         0xAA55
%define BOOT_PROTOCOL     0x020F
%define LOADED_HIGH       (1 << 0)
%define XLF_KERNEL_64     (1 << 0)
%define ENTRY64_OFFSET    0x200
%define CMDLINE_SIZE      255
%define INITRD_ADDR_MAX   0x7FFFFFFF
%define KERNEL_ALIGN      0x200000
%define PARAGRAPH         16
%define BP_ACPI_RSDP      0x070       ; boot_params.acpi_rsdp_addr (u64)
%define BP_CMD_LINE_PTR   0x228       ; boot_params.hdr.cmd_line_ptr (u32)

; ---- Multiboot2 (the bare-Bochs debugging path) ----
%define MB2_MAGIC         0xE85250D6
%define MB2_ARCH_I386     0
%define MB2_TAG_ADDRESS   2
%define MB2_TAG_ENTRY     3
%define MB2_INFO_CMDLINE  1           ; boot information tag: the command line
%define MB2_BOOT_MAGIC    0x36D76289  ; EAX at the Multiboot2 entry

; ---- x86 (SDM vol. 3) ----
%define IDT_VECTORS       256
%define IDT_GATE_BYTES    16
%define GATE_INT64        0x8E00
%define SEL_CODE32        0x08        ; our GDT: 32-bit code for the AP trampoline
%define SEL_CODE64        0x10        ; 64-bit code: __BOOT_CS, as hv's boot GDT has it
%define SEL_DATA          0x18        ; flat data: __BOOT_DS
%define CR0_PE            (1 << 0)
%define CR0_PG            (1 << 31)
%define CR4_PAE           (1 << 5)
%define MSR_EFER          0xC0000080
%define EFER_LME          (1 << 8)
%define PTE_P_W           0x003
%define PDE_LARGE         0x083       ; P | W | PS (2 MiB page)
%define PDE_UC            0x018       ; PWT | PCD: the MMIO above 0xFE000000 uncached
%define CPUID_FEATURES    1
%define CPUID_TSC_LEAF    0x15
%define CPUID1_ECX_X2APIC 21          ; bit: x2APIC supported
%define MSR_APIC_BASE     0x1B
%define APIC_BASE_EXTD    (1 << 10)   ; x2APIC mode (with EN, bit 11, already set: xAPIC on)

; ---- the local APIC (SDM vol. 3 "Advanced Programmable Interrupt Controller") ----
%define LAPIC_BASE        0xFEE00000
%define APIC_ID           0x020
%define APIC_EOI          0x0B0
%define APIC_LDR          0x0D0
%define APIC_DFR          0x0E0
%define APIC_SVR          0x0F0
%define APIC_ICR_LO       0x300
%define APIC_ICR_HI       0x310
%define APIC_SVR_ENABLE   (1 << 8)
%define ICR_FIXED         0x000
%define ICR_NMI           0x400
%define ICR_INIT          0x500
%define ICR_STARTUP       0x600
%define ICR_LOGICAL       (1 << 11)
%define ICR_BUSY          (1 << 12)   ; delivery status: send pending
%define ICR_ASSERT        (1 << 14)
%define ICR_ALL_BUT_SELF  (3 << 18)
%define ICR_ALL           (2 << 18)
%define DFR_FLAT          0xFFFFFFFF

; ---- vectors ----
%define VEC_NMI           2
%define VEC_FIXED         0x40
%define VEC_BCAST         0x41
%define VEC_LOGICAL       0x42
%define VEC_STORM         0x43
%define VEC_PING          0x44
%define VEC_PONG          0x45
%define VEC_KICK          0x46        ; wakes an AP from HLT to read its mailbox
%define VEC_SPURIOUS      0xFF

; ---- the test ----
%define MAX_CPUS          8           ; hv's vcpus= limit; APIC IDs must be below it too
%define STACK_SHIFT       14
%define STACK_BYTES       (1 << STACK_SHIFT) ; per CPU, aligned to itself (see the header)
%define TRAMP_ADDR        0x70000     ; the APs' start page: free RAM below 1 MiB on hv's PC
%define TRAMP_VECTOR      (TRAMP_ADDR >> 12)
%define NONEXISTENT_ID    7           ; the INIT/SIPI target no CPU has (or the first free above)
%define TSC_HZ_DEFAULT    50000000    ; Bochs' ips, when CPUID leaf 0x15 gives nothing
%define STORM_TICKS       100000000   ; 2 s at 50 MHz: longer than a cpuburn run beside it
%define PING_SAMPLES      101         ; odd: the median is one sample
%define ICR_SPINS         1000        ; polls of the delivery-status bit before sending anyway
                                      ; (it clears within a microsecond; hv never sets it)
; mailbox commands (AP idle loop)
%define CMD_NONE          0
%define CMD_FIXED_TO_BSP  1
%define CMD_STORM         2
%define CMD_SPIN          3           ; spin in the guest until spin_release (shootdown mode)

%define LSR_THRE          (1 << 5)
%define LSR_TEMT          (1 << 6)    ; transmitter empty: the last byte is out
%define PIC1_DATA         0x21
%define PIC2_DATA         0xA1
%define BOCHS_SHUTDOWN    0x8900

; APIC register access through R11 (a 32-bit absolute address would be sign-extended).
%macro APIC_WR 2                        ; offset, 32-bit register or immediate
    mov r11d, LAPIC_BASE + %1
    mov dword [r11], %2
%endmacro
%macro APIC_RD 2                        ; 32-bit register, offset
    mov r11d, LAPIC_BASE + %2
    mov %1, [r11]
%endmacro

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
    db 0xEB, header_end - ($ + 2)           ; 0x200 jump over the header
    db "HdrS"                               ; 0x202 header
    dw BOOT_PROTOCOL                        ; 0x206 version
    dd 0                                    ; 0x208 realmode_swtch
    dw 0                                    ; 0x20C start_sys_seg
    dw 0                                    ; 0x20E kernel_version
    db 0                                    ; 0x210 type_of_loader
    db LOADED_HIGH                          ; 0x211 loadflags
    dw 0                                    ; 0x212 setup_move_size
    dd LOAD_ADDR                            ; 0x214 code32_start
    dd 0                                    ; 0x218 ramdisk_image
    dd 0                                    ; 0x21C ramdisk_size
    dd 0                                    ; 0x220 bootsect_kludge
    dw 0                                    ; 0x224 heap_end_ptr
    db 0                                    ; 0x226 ext_loader_ver
    db 0                                    ; 0x227 ext_loader_type
    dd 0                                    ; 0x228 cmd_line_ptr (the loader writes it)
    dd INITRD_ADDR_MAX                      ; 0x22C initrd_addr_max
    dd KERNEL_ALIGN                         ; 0x230 kernel_alignment
    db 0                                    ; 0x234 relocatable_kernel: no
    db 0                                    ; 0x235 min_alignment
    dw XLF_KERNEL_64                        ; 0x236 xloadflags
    dd CMDLINE_SIZE                         ; 0x238 cmdline_size
    dd 0                                    ; 0x23C hardware_subarch
    dq 0                                    ; 0x240 hardware_subarch_data
    dd 0                                    ; 0x248 payload_offset
    dd 0                                    ; 0x24C payload_length
    dq 0                                    ; 0x250 setup_data
    dq LOAD_ADDR                            ; 0x258 pref_address
    dd bss_end - LOAD_ADDR                  ; 0x260 init_size
    dd 0                                    ; 0x264 handover_offset
    dd 0                                    ; 0x268 kernel_info_offset
header_end:
    times -((header_end - $$) != HDR_END_215) db 0
    times SETUP_BYTES - ($ - $$) db 0

; ================================================================ the protected-mode kernel
section kernel follows=setup vstart=LOAD_ADDR
kernel_start:
; The Multiboot2 header (only for the bare-Bochs path, see the top): GRUB loads the whole file
; at LOAD_ADDR - SETUP_BYTES (so the kernel lands at LOAD_ADDR, as hv puts it), zeroes the bss
; and enters mb2_entry in 32-bit protected mode. hv never reads it: it enters at startup_64.
mb2_header:
    dd MB2_MAGIC, MB2_ARCH_I386, mb2_header_end - mb2_header
    dd (0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))) & 0xFFFFFFFF
    dw MB2_TAG_ADDRESS, 0
    dd 24
    dd mb2_header                           ; header_addr
    dd LOAD_ADDR - SETUP_BYTES              ; load_addr: the file's first byte
    dd 0                                    ; load_end_addr: the whole file
    dd bss_end                              ; bss_end_addr
    dw MB2_TAG_ENTRY, 0
    dd 12
    dd mb2_entry
    dd 0                                    ; padding: tags are 8-byte aligned
    dw 0, 0                                 ; the end tag
    dd 8
mb2_header_end:
    ; startup_32 (the 32-bit boot protocol entry) is never used.
    times ENTRY64_OFFSET - ($ - $$) db 0xF4 ; HLT

; hv's entry: 64-bit mode, interrupts off, RSI = boot_params, hv's page tables (4 GiB identity).
startup_64:
    lea rsp, [rel stacks + STACK_BYTES]     ; a stack until the BSP's own (common64)
    mov [rel boot_params], rsi
    jmp common64

; ---------------------------------------------------------------- the BSP
common64:
    ; Our own GDT (the APs use it too), CS reloaded by a far return.
    lgdt [rel gdtr]
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    push SEL_CODE64
    lea rax, [rel .cs_loaded]
    push rax
    retfq
.cs_loaded:
    ; The BSP's stack is the one of its APIC ID (see the header).
    APIC_RD eax, APIC_ID
    shr eax, 24
    cmp eax, MAX_CPUS
    jae bsp_id_too_big
    mov [rel bsp_id], eax
    call stack_of                           ; RDI = stack base for APIC ID EAX
    mov [rdi], eax
    lea rsp, [rdi + STACK_BYTES]
    call read_cmdline
    call tsc_rate
    call setup_idt
    lidt [rel idtr]
    ; Mask both 8259s: only APIC interrupts are expected (a BIOS leaves the PIT's IRQ 0 on
    ; vector 8, which the bare-Bochs path would otherwise take for a double fault).
    mov al, 0xFF
    out PIC1_DATA, al
    out PIC2_DATA, al
    ; Software-enable the APIC, spurious vector 0xFF; flat logical destinations.
    APIC_WR APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS
    APIC_WR APIC_DFR, DFR_FLAT
    mov ecx, [rel bsp_id]
    mov eax, 1 << 24
    shl eax, cl
    APIC_WR APIC_LDR, eax
    sti

    call parse_madt
    mov rsi, mode_storm
    call cmdline_has
    jnz storm_mode
    mov rsi, mode_pingpong
    call cmdline_has
    jnz pingpong_mode
    mov rsi, mode_shootdown
    call cmdline_has
    jnz shootdown_mode
    jmp test_mode

bsp_id_too_big:
    mov rsi, msg_bsp_id
    jmp die

; ---------------------------------------------------------------- default mode: the checks
test_mode:
    mov eax, [rel ncpus]
    cmp eax, 2
    jb .madt_few
    cmp dword [rel madt_bad], 0
    jne .madt_badsum
    cmp dword [rel bsp_listed], 0
    je .madt_nobsp
    cmp dword [rel ncpus_raw], MAX_CPUS
    ja .madt_many
    xor edi, edi
    jmp .madt_check
.madt_few:
    mov rdi, why_madt_few
    jmp .madt_check
.madt_badsum:
    mov rdi, why_madt_sum
    jmp .madt_check
.madt_nobsp:
    mov rdi, why_madt_nobsp
    jmp .madt_check
.madt_many:
    mov rdi, why_madt_many
.madt_check:
    mov rsi, chk_madt
    call check
    cmp dword [rel ncpus], 2
    jb finish                               ; nothing to start: the other checks need an AP

    ; ap-startup / ap-apic-ids / sipi-once
    call start_aps                          ; EAX = APs that came up
    xor edi, edi
    mov ecx, [rel ncpus]
    dec ecx
    cmp eax, ecx
    je .startup_ok
    mov rdi, why_ap_missing
.startup_ok:
    mov rsi, chk_startup
    call check
    cmp dword [rel ap_online_n], 0
    je finish                               ; no AP: the IPI checks cannot run

    call check_ap_ids
    mov rsi, chk_ap_ids
    call check
    ; A second SIPI restarting an AP would have run the trampoline again: wait a little more.
    mov rdi, [rel ticks_50ms]
    call delay
    xor edi, edi
    mov eax, [rel ap_entries]
    cmp eax, [rel ap_online_n]
    je .once_ok
    mov rdi, why_sipi_twice
.once_ok:
    mov rsi, chk_sipi_once
    call check

    call test_fixed_to_aps
    mov rsi, chk_fixed_bsp_ap
    call check
    call test_fixed_to_bsp
    mov rsi, chk_fixed_ap_bsp
    call check
    call test_bcast_but_self
    mov rsi, chk_bcast_but_self
    call check
    call test_bcast_all
    mov rsi, chk_bcast_all
    call check
    call test_nmi
    mov rsi, chk_nmi
    call check
    call test_logical
    mov rsi, chk_logical
    call check
    call test_nonexistent
    mov rsi, chk_nonexistent
    call check
finish:
    call con_lock
    mov rsi, msg_summary
    call puts
    mov eax, [rel passed]
    call put_dec
    mov rsi, msg_passed
    call puts
    mov eax, [rel failed]
    call put_dec
    mov rsi, msg_failed
    call puts
    call con_unlock
    jmp power_off

; start_aps: INIT-SIPI-SIPI to each MADT APIC ID but the BSP's, one after the other, each
; awaited (up to 2 s) before the next. Returns EAX = how many came up.
start_aps:
    push rbx
    push r12
    ; The trampoline to its page, with the CR3 the BSP runs on (below 4 GiB: hv's tables at
    ; 0x2000, or ours in the bss).
    lea rsi, [rel tramp_start]
    mov edi, TRAMP_ADDR
    mov ecx, tramp_end - tramp_start
    cld
    rep movsb
    mov rax, cr3
    mov dword [TRAMP_ADDR + tramp_cr3 - tramp_start], eax
    xor ebx, ebx                            ; index into cpu_ids
.next:
    cmp ebx, [rel ncpus]
    jae .done
    mov r12d, [cpu_ids + rbx * 4]
    inc ebx
    cmp r12d, [rel bsp_id]
    je .next
    mov edi, r12d
    call init_sipi_sipi
    ; Wait for this AP to say it is up.
    lea rdi, [ap_online + r12 * 4]
    mov esi, 1
    mov rdx, [rel ticks_2s]
    call wait_ge
    jmp .next
.done:
    mov eax, [rel ap_online_n]
    pop r12
    pop rbx
    ret

; init_sipi_sipi EDI = APIC ID: the SDM's universal start-up sequence to one CPU.
init_sipi_sipi:
    push rbx
    mov ebx, edi
    mov esi, ICR_INIT | ICR_ASSERT
    call send_ipi
    mov rdi, [rel ticks_10ms]
    call delay
    mov edi, ebx
    mov esi, ICR_STARTUP | ICR_ASSERT | TRAMP_VECTOR
    call send_ipi
    mov rdi, [rel ticks_200us]
    call delay
    mov edi, ebx
    mov esi, ICR_STARTUP | ICR_ASSERT | TRAMP_VECTOR
    call send_ipi
    mov rdi, [rel ticks_200us]
    call delay
    pop rbx
    ret

; check_ap_ids -> RDI = 0 or the reason: every AP that came up has xAPIC ID = CPUID ID and
; came up for the SIPI to that ID (ap_online[id] set by the AP of that ID).
check_ap_ids:
    xor ecx, ecx
.loop:
    cmp ecx, MAX_CPUS
    jae .ok
    cmp dword [ap_online + rcx * 4], 0
    je .skip
    mov eax, [ap_cpuid_id + rcx * 4]
    cmp eax, ecx
    jne .bad
.skip:
    inc ecx
    jmp .loop
.ok:
    xor edi, edi
    ret
.bad:
    mov rdi, why_ap_ids
    ret

; Each test_* returns RDI = 0 (pass) or a reason string.

; A fixed IPI to each AP in turn; each AP's VEC_FIXED handler ran exactly once.
test_fixed_to_aps:
    push rbx
    xor ebx, ebx
.next:
    cmp ebx, MAX_CPUS
    jae .ok
    cmp dword [ap_online + rbx * 4], 0
    je .skip
    mov edi, ebx
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_FIXED
    call send_ipi
    lea rdi, [fixed_count + rbx * 4]
    mov esi, 1
    mov rdx, [rel ticks_1s]
    call wait_ge
    jz .lost
.skip:
    inc ebx
    jmp .next
.ok:
    call settle
    call only_aps_once_fixed
    pop rbx
    ret
.lost:
    mov rdi, why_not_delivered
    pop rbx
    ret

; fixed_count: 1 on every online AP; RDI = 0 or the reason (the BSP's is not looked at).
only_aps_once_fixed:
    xor ecx, ecx
.l:
    cmp ecx, MAX_CPUS
    jae .ok
    cmp dword [ap_online + rcx * 4], 0
    je .n
    cmp dword [fixed_count + rcx * 4], 1
    jne .bad
.n:
    inc ecx
    jmp .l
.ok:
    xor edi, edi
    ret
.bad:
    mov rdi, why_count
    ret

; Each AP, told through its mailbox, sends one fixed IPI to the BSP.
test_fixed_to_bsp:
    push rbx
    xor ebx, ebx
.next:
    cmp ebx, MAX_CPUS
    jae .ok
    cmp dword [ap_online + rbx * 4], 0
    je .skip
    mov dword [mailbox + rbx * 4], CMD_FIXED_TO_BSP
    mov edi, ebx
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_KICK
    call send_ipi
    lea rdi, [mailbox + rbx * 4]            ; the AP clears it when done
    call wait_zero
    jz .nocmd
.skip:
    inc ebx
    jmp .next
.ok:
    ; The BSP's handler ran once per AP.
    mov ecx, [rel bsp_id]
    lea rdi, [fixed_count + rcx * 4]
    mov esi, [rel ap_online_n]
    mov rdx, [rel ticks_1s]
    call wait_ge
    jz .lost
    call settle
    mov ecx, [rel bsp_id]
    mov eax, [fixed_count + rcx * 4]
    cmp eax, [rel ap_online_n]
    jne .count
    xor edi, edi
    pop rbx
    ret
.nocmd:
    mov rdi, why_mailbox
    pop rbx
    ret
.lost:
    mov rdi, why_not_delivered
    pop rbx
    ret
.count:
    mov rdi, why_count
    pop rbx
    ret

; All excluding self: each AP once, the BSP never.
test_bcast_but_self:
    xor edi, edi
    mov esi, ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF | VEC_BCAST
    call send_ipi
    call wait_all_aps_bcast
    jz .lost
    call settle
    mov ecx, [rel bsp_id]
    cmp dword [bcast_count + rcx * 4], 0
    jne .self
    mov esi, 1
    call aps_bcast_equal
    ret
.lost:
    mov rdi, why_not_delivered
    ret
.self:
    mov rdi, why_bcast_self
    ret

; All including self: every CPU once more (the counts go to 2 on the APs, 1 on the BSP).
test_bcast_all:
    xor edi, edi
    mov esi, ICR_FIXED | ICR_ASSERT | ICR_ALL | VEC_BCAST
    call send_ipi
    mov ecx, [rel bsp_id]
    lea rdi, [bcast_count + rcx * 4]
    mov esi, 1
    mov rdx, [rel ticks_1s]
    call wait_ge
    jz .lost_self
    mov esi, 2
    call wait_all_aps_bcast_n
    jz .lost
    call settle
    mov ecx, [rel bsp_id]
    cmp dword [bcast_count + rcx * 4], 1
    jne .count
    mov esi, 2
    call aps_bcast_equal
    ret
.lost_self:
    mov rdi, why_bcast_noself
    ret
.lost:
    mov rdi, why_not_delivered
    ret
.count:
    mov rdi, why_count
    ret

wait_all_aps_bcast:
    mov esi, 1
; ESI = count: waits until every online AP's bcast_count >= ESI; ZF set on a timeout.
wait_all_aps_bcast_n:
    push rbx
    push r12
    mov r12d, esi
    xor ebx, ebx
.l:
    cmp ebx, MAX_CPUS
    jae .ok
    cmp dword [ap_online + rbx * 4], 0
    je .n
    lea rdi, [bcast_count + rbx * 4]
    mov esi, r12d
    mov rdx, [rel ticks_1s]
    call wait_ge
    jz .out
.n:
    inc ebx
    jmp .l
.ok:
    or eax, 1                               ; ZF clear
.out:
    pop r12
    pop rbx
    ret

; ESI = count: RDI = 0 when every online AP's bcast_count is exactly ESI.
aps_bcast_equal:
    xor ecx, ecx
.l:
    cmp ecx, MAX_CPUS
    jae .ok
    cmp dword [ap_online + rcx * 4], 0
    je .n
    cmp [bcast_count + rcx * 4], esi
    jne .bad
.n:
    inc ecx
    jmp .l
.ok:
    xor edi, edi
    ret
.bad:
    mov rdi, why_count
    ret

; An NMI IPI to each AP: its NMI handler ran once.
test_nmi:
    push rbx
    xor ebx, ebx
.next:
    cmp ebx, MAX_CPUS
    jae .ok
    cmp dword [ap_online + rbx * 4], 0
    je .skip
    mov edi, ebx
    mov esi, ICR_NMI | ICR_ASSERT
    call send_ipi
    lea rdi, [nmi_count + rbx * 4]
    mov esi, 1
    mov rdx, [rel ticks_1s]
    call wait_ge
    jz .lost
.skip:
    inc ebx
    jmp .next
.ok:
    call settle
    xor ecx, ecx
.l:
    cmp ecx, MAX_CPUS
    jae .pass
    mov eax, [ap_online + rcx * 4]          ; 1 for an online AP, 0 for the BSP and the rest
    cmp [nmi_count + rcx * 4], eax
    jne .count
    inc ecx
    jmp .l
.pass:
    xor edi, edi
    pop rbx
    ret
.lost:
    mov rdi, why_not_delivered
    pop rbx
    ret
.count:
    mov rdi, why_count
    pop rbx
    ret

; Flat logical destination: the mask of the online APs with odd APIC IDs (with 2 CPUs: AP 1).
test_logical:
    push rbx
    xor ebx, ebx                            ; the mask
    xor ecx, ecx
.m:
    cmp ecx, MAX_CPUS
    jae .send
    cmp dword [ap_online + rcx * 4], 0
    je .mn
    test ecx, 1
    jz .mn
    bts ebx, ecx
.mn:
    inc ecx
    jmp .m
.send:
    test ebx, ebx
    jz .nomask
    mov edi, ebx
    mov esi, ICR_FIXED | ICR_ASSERT | ICR_LOGICAL | VEC_LOGICAL
    call send_ipi
    ; Wait for every target, then check every CPU: targets 1, the others 0.
    xor ecx, ecx
.w:
    cmp ecx, MAX_CPUS
    jae .waited
    bt ebx, ecx
    jnc .wn
    push rcx
    lea rdi, [logical_count + rcx * 4]
    mov esi, 1
    mov rdx, [rel ticks_1s]
    call wait_ge
    pop rcx
    jz .lost
.wn:
    inc ecx
    jmp .w
.waited:
    call settle
    xor ecx, ecx
.c:
    cmp ecx, MAX_CPUS
    jae .pass
    xor eax, eax
    bt ebx, ecx
    adc eax, 0
    cmp [logical_count + rcx * 4], eax
    jne .count
    inc ecx
    jmp .c
.pass:
    xor edi, edi
    pop rbx
    ret
.nomask:
    mov rdi, why_no_odd_ap
    pop rbx
    ret
.lost:
    mov rdi, why_not_delivered
    pop rbx
    ret
.count:
    mov rdi, why_logical_count
    pop rbx
    ret

; INIT, SIPI, SIPI to an APIC ID nobody has: nothing happens. Every counter and the AP count
; are compared before and after, then a fixed IPI to the first AP must still arrive.
test_nonexistent:
    push rbx
    ; the target: NONEXISTENT_ID, or the first ID above it that the MADT does not list
    mov ebx, NONEXISTENT_ID
.pick:
    xor ecx, ecx
.scan:
    cmp ecx, [rel ncpus]
    jae .picked
    cmp [cpu_ids + rcx * 4], ebx
    je .taken
    inc ecx
    jmp .scan
.taken:
    inc ebx
    jmp .pick
.picked:
    mov [rel nonexistent_id], ebx
    call snapshot                           ; counters -> snap
    mov edi, ebx
    call init_sipi_sipi
    mov rdi, [rel ticks_50ms]
    call delay
    call snapshot_same
    test rdi, rdi
    jnz .out
    ; still alive: a fixed IPI to the first online AP
    call first_ap
    mov ebx, eax
    mov edi, ebx
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_FIXED
    call send_ipi
    lea rdi, [fixed_count + rbx * 4]
    mov esi, 2                              ; test_fixed_to_aps left it at 1
    mov rdx, [rel ticks_1s]
    call wait_ge
    jz .lost
    xor edi, edi
.out:
    pop rbx
    ret
.lost:
    mov rdi, why_after_nonexistent
    pop rbx
    ret

; snapshot: copies the counter block (counters .. counters_end) and ap_entries to snap.
snapshot:
    lea rsi, [rel counters]
    lea rdi, [rel snap]
    mov ecx, (counters_end - counters) / 4
    cld
    rep movsd
    ret

; snapshot_same -> RDI = 0 when nothing moved since snapshot, else the reason.
snapshot_same:
    lea rsi, [rel counters]
    lea rdi, [rel snap]
    mov ecx, (counters_end - counters) / 4
    cld
    repe cmpsd
    jne .moved
    xor edi, edi
    ret
.moved:
    mov rdi, why_moved
    ret

; first_ap -> EAX = the lowest online AP's APIC ID.
first_ap:
    xor eax, eax
.l:
    cmp dword [ap_online + rax * 4], 0
    jne .done
    inc eax
    cmp eax, MAX_CPUS
    jb .l
    xor eax, eax
.done:
    ret

; settle: 50 ms for stray deliveries to show up before a count is judged.
settle:
    mov rdi, [rel ticks_50ms]
    jmp delay

; ---------------------------------------------------------------- storm mode
; The BSP and the first AP send VEC_STORM to each other until the TSC passes the deadline.
storm_mode:
    cmp dword [rel ncpus], 2
    jb .few
    call start_aps
    test eax, eax
    jz .noap
    call first_ap
    mov [rel storm_partner], eax
    mov rsi, kw_ticks
    call cmdline_number                     ; RAX = ticks= or 0
    test rax, rax
    jnz .budget
    mov eax, STORM_TICKS
.budget:
    mov rbx, rax
    rdtsc
    shl rdx, 32
    or rax, rdx
    add rax, rbx
    mov [rel storm_deadline], rax
    mov ecx, [rel storm_partner]
    mov dword [mailbox + rcx * 4], CMD_STORM
    mov edi, ecx
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_KICK
    call send_ipi
    mov edi, [rel storm_partner]
    call storm_send                         ; EAX = sent
    mov [rel storm_sent_bsp], eax
    ; the AP clears its mailbox when its own loop is over
    mov ecx, [rel storm_partner]
    lea rdi, [mailbox + rcx * 4]
    call wait_zero
    call settle
    call con_lock
    mov rsi, msg_storm
    call puts
    mov eax, [rel storm_sent_bsp]
    call put_dec
    mov rsi, msg_storm_ap
    call puts
    mov eax, [rel storm_sent_ap]
    call put_dec
    mov rsi, msg_storm_rx_bsp
    call puts
    mov ecx, [rel bsp_id]
    mov eax, [storm_rx + rcx * 4]
    call put_dec
    mov rsi, msg_storm_rx_ap
    call puts
    mov ecx, [rel storm_partner]
    mov eax, [storm_rx + rcx * 4]
    call put_dec
    mov rsi, msg_storm_ticks
    call puts
    mov rax, rbx
    call put_dec
    mov al, 10
    call putc
    call con_unlock
    ; PASS when each side sent and received something (a pending vector coalesces repeats).
    xor edi, edi
    mov ecx, [rel storm_partner]
    cmp dword [storm_rx + rcx * 4], 0
    jne .ap_got
    mov rdi, why_not_delivered
.ap_got:
    mov rsi, chk_storm_to_ap
    call check
    xor edi, edi
    mov ecx, [rel bsp_id]
    cmp dword [storm_rx + rcx * 4], 0
    jne .bsp_got
    mov rdi, why_not_delivered
.bsp_got:
    mov rsi, chk_storm_to_bsp
    call check
    jmp finish
.few:
    mov rdi, why_madt_few
    mov rsi, chk_madt
    call check
    jmp finish
.noap:
    mov rdi, why_ap_missing
    mov rsi, chk_startup
    call check
    jmp finish

; storm_send EDI = partner APIC ID: VEC_STORM to it until storm_deadline; EAX = how many.
storm_send:
    push rbx
    push r12
    mov r12d, edi
    xor ebx, ebx
.l:
    rdtsc
    shl rdx, 32
    or rax, rdx
    cmp rax, [rel storm_deadline]
    jae .done
    mov edi, r12d
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_STORM
    call send_ipi
    inc ebx
    jmp .l
.done:
    mov eax, ebx
    pop r12
    pop rbx
    ret

; ---------------------------------------------------------------- pingpong mode
; PING_SAMPLES round trips: the BSP sends VEC_PING to the first AP, whose handler answers
; VEC_PONG; the BSP's handler takes the TSC. Sample = that TSC - the TSC before the ICR write.
pingpong_mode:
    cmp dword [rel ncpus], 2
    jb storm_mode.few
    call start_aps
    test eax, eax
    jz storm_mode.noap
    call first_ap
    mov r12d, eax
    xor ebx, ebx
.sample:
    mov byte [rel pong_seen], 0
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r13, rax
    mov edi, r12d
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_PING
    call send_ipi
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r14, rax
.wait:
    cmp byte [rel pong_seen], 0
    jne .back
    pause
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r14
    cmp rax, [rel ticks_1s]
    jb .wait
    mov rdi, why_not_delivered
    mov rsi, chk_pingpong
    call check
    jmp finish
.back:
    mov rax, [rel pong_tsc]
    sub rax, r13
    mov [ping_rtt + rbx * 8], rax
    inc ebx
    cmp ebx, PING_SAMPLES
    jb .sample
    lea rsi, [rel ping_rtt]
    call sort
    call con_lock
    mov rsi, msg_rtt
    call puts
    mov rax, [ping_rtt + (PING_SAMPLES / 2) * 8]
    call put_dec
    mov rsi, msg_rtt_min
    call puts
    mov rax, [rel ping_rtt]
    call put_dec
    mov rsi, msg_rtt_max
    call puts
    mov rax, [ping_rtt + (PING_SAMPLES - 1) * 8]
    call put_dec
    mov rsi, msg_rtt_samples
    call puts
    mov eax, PING_SAMPLES
    call put_dec
    mov al, 10
    call putc
    call con_unlock
    xor edi, edi
    mov rsi, chk_pingpong
    call check
    jmp finish

; ---------------------------------------------------------------- shootdown mode
; One EPT shootdown with the AP in guest mode on its CPU. hv maps its APIC-access page into the
; guest's EPT while every vCPU uses the xAPIC; the first vCPU to leave xAPIC mode makes hv unmap
; it, and a CPU running another vCPU of the guest may hold the old translation, so hv kicks it
; out of guest mode and waits (vmx/vcpu/guest_ept.c). The AP spins with interrupts off, so
; nothing but that kick makes it exit; the BSP switches only after the AP says it spins (else
; hv would find it halted, not in guest mode, and make none exit: K = 0).
shootdown_mode:
    cmp dword [rel ncpus], 2
    jb storm_mode.few
    call start_aps
    test eax, eax
    jz storm_mode.noap
    mov eax, CPUID_FEATURES
    cpuid
    bt ecx, CPUID1_ECX_X2APIC
    mov rdi, why_no_x2apic
    jnc .fail                               ; WRMSR with EXTD would #GP
    call first_ap
    mov r12d, eax
    mov dword [mailbox + r12 * 4], CMD_SPIN
    mov edi, r12d
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_KICK ; out of its HLT to read the mailbox
    call send_ipi
    lea rdi, [rel spin_ready]
    mov esi, 1
    mov rdx, [rel ticks_1s]
    call wait_ge
    mov rdi, why_mailbox
    jz .fail
    ; From here the BSP's xAPIC page is gone: no APIC MMIO (send_ipi, EOIs) and no interrupts.
    cli
    mov ecx, MSR_APIC_BASE
    rdmsr
    or eax, APIC_BASE_EXTD
    wrmsr                                   ; hv's shootdown: before this vCPU's next entry
    rdmsr
    test eax, APIC_BASE_EXTD
    mov rdi, why_x2apic
    jz .fail
    mov dword [rel spin_release], 1
    lea rdi, [mailbox + r12 * 4]
    call wait_zero                          ; the AP clears it when it left its loop
    mov rdi, why_mailbox
    jz .fail
    call con_lock
    mov rsi, msg_shootdown
    call puts
    call con_unlock
    xor edi, edi
.fail:
    mov rsi, chk_shootdown
    call check
    jmp finish

; sort RSI: insertion sort of PING_SAMPLES unsigned qwords, ascending.
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
    cmp ecx, PING_SAMPLES
    jb .outer
    ret

; ---------------------------------------------------------------- the end
power_off:
    cmp dword [rel bare], 0
    jne .bochs
    ; ACPI S5: SLP_TYP 0 (the DSDT's _S5) with SLP_EN, to the FADT's PM1a control block.
    mov dx, ACPI_PM1A_CNT
    mov ax, ACPI_SLEEP_S5
    out dx, ax
    jmp halt
.bochs:
    ; Bare Bochs (the Multiboot2 path): its shutdown port ends the emulator, once the UART
    ; has sent the last byte (LSR TEMT).
    mov dx, COM1_LSR
.drain:
    in al, dx
    test al, LSR_TEMT
    jz .drain
    mov dx, BOCHS_SHUTDOWN
    mov rsi, msg_shutdown
.s:
    lodsb
    test al, al
    jz halt
    out dx, al
    jmp .s

; die RSI: prints the message and halts this CPU with interrupts off (verdict `halted` when
; it is the BSP).
die:
    push rsi
    call con_lock
    pop rsi
    call puts
    call con_unlock
halt:
    cli
    hlt
    jmp halt

; check RSI = name, RDI = 0 (pass) or the reason: `ipitest: PASS name` / `FAIL name: reason`.
check:
    push rsi
    push rdi
    call con_lock
    mov rsi, msg_prefix
    call puts
    pop rdi
    pop rsi
    test rdi, rdi
    jnz .fail
    inc dword [rel passed]
    push rsi
    mov rsi, msg_pass
    call puts
    pop rsi
    call puts
    jmp .eol
.fail:
    inc dword [rel failed]
    push rdi
    push rsi
    mov rsi, msg_fail
    call puts
    pop rsi
    call puts
    mov rsi, msg_colon
    call puts
    pop rsi
    call puts
.eol:
    mov al, 10
    call putc
    call con_unlock
    ret

; ---------------------------------------------------------------- the APs
; Reached from the trampoline in 64-bit mode on our GDT and the BSP's page tables, interrupts
; off, no stack yet.
ap_entry64:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    lock inc dword [rel ap_entries]         ; every start, also a wrong second one
    APIC_RD eax, APIC_ID
    shr eax, 24
    cmp eax, MAX_CPUS
    jae .bad_id
    mov ebx, eax                            ; EBX = this AP's APIC ID from here on
    mov edi, eax                            ; stack_of, inline: there is no stack yet
    shl rdi, STACK_SHIFT
    add rdi, stacks
    lea rsp, [rdi + STACK_BYTES]
    mov [rdi], ebx
    lidt [rel idtr]
    APIC_WR APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS
    APIC_WR APIC_DFR, DFR_FLAT
    mov ecx, ebx
    mov eax, 1 << 24
    shl eax, cl
    APIC_WR APIC_LDR, eax
    mov eax, CPUID_FEATURES
    cpuid
    shr ebx, 24
    APIC_RD eax, APIC_ID
    shr eax, 24
    xchg eax, ebx                           ; EBX = APIC ID again, EAX = CPUID's initial ID
    mov [ap_cpuid_id + rbx * 4], eax
    cmp ebx, eax
    je .ids_same
    mov dword [ap_cpuid_id + rbx * 4], 0xFFFFFFFF ; mismatch: check_ap_ids reports it
.ids_same:
    mov r12d, 1
    lock xadd [rel ap_order], r12d
    inc r12d                                ; R12 = the order it came up in, from 1
    call con_lock
    mov rsi, msg_ap
    call puts
    mov eax, r12d
    call put_dec
    mov rsi, msg_ap_up
    call puts
    mov eax, ebx
    call put_dec
    mov al, 10
    call putc
    call con_unlock
    mov dword [ap_online + rbx * 4], 1
    lock inc dword [rel ap_online_n]
    ; The idle loop: commands from the mailbox, else HLT with interrupts on (STI's shadow
    ; keeps an interrupt from slipping in between the check and the HLT).
.idle:
    cli
    mov eax, [mailbox + rbx * 4]
    cmp eax, CMD_FIXED_TO_BSP
    je .to_bsp
    cmp eax, CMD_STORM
    je .storm
    cmp eax, CMD_SPIN
    je .spin
    sti
    hlt
    jmp .idle
.to_bsp:
    mov edi, [rel bsp_id]
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_FIXED
    call send_ipi
    mov dword [mailbox + rbx * 4], CMD_NONE
    jmp .idle
.storm:
    sti                                     ; take the BSP's storm while sending ours
    mov edi, [rel bsp_id]
    call storm_send
    mov [rel storm_sent_ap], eax
    mov dword [mailbox + rbx * 4], CMD_NONE
    jmp .idle
.spin:
    ; Interrupts stay off (CLI above): in guest mode until released, bar hv's own exits.
    mov dword [rel spin_ready], 1
.spin_l:
    pause
    cmp dword [rel spin_release], 0
    je .spin_l
    mov dword [mailbox + rbx * 4], CMD_NONE
    jmp .idle
.bad_id:
    jmp halt                                ; no stack of its own: the BSP reports it missing

; stack_of EAX = APIC ID -> RDI = the base of its stack (its first dword holds the ID).
stack_of:
    mov edi, eax
    shl rdi, STACK_SHIFT
    add rdi, stacks
    ret

; ---------------------------------------------------------------- the trampoline
; Copied to TRAMP_ADDR; a SIPI with vector TRAMP_VECTOR starts an AP here in real mode at
; CS:IP = (TRAMP_ADDR >> 4):0000. Addresses inside are offsets from tramp_start (real mode)
; or TRAMP_ADDR + offset (protected mode).
bits 16
tramp_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    o32 lgdt [tramp_gdtr - tramp_start]     ; the GDT in the kernel image, a 32-bit base
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:(TRAMP_ADDR + tramp32 - tramp_start)
bits 32
tramp32:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; Long mode (SDM vol. 3 "Initializing IA-32e Mode"): PAE, CR3, EFER.LME, then paging.
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, [TRAMP_ADDR + tramp_cr3 - tramp_start]
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_PE
    mov cr0, eax
    jmp SEL_CODE64:ap_entry64
align 4
tramp_cr3:   dd 0                           ; the BSP writes its CR3 into the copy
tramp_gdtr:
    dw gdt_end - gdt - 1
    dd gdt
tramp_end:

; ---------------------------------------------------------------- the Multiboot2 entry
; Bare Bochs only: 32-bit protected mode, paging off, EAX = MB2_BOOT_MAGIC, EBX = the boot
; information. Builds 4 GiB of identity-mapped 2 MiB pages in the bss and enters long mode.
mb2_entry:
    mov esp, stacks + STACK_BYTES
    mov dword [bare], 1
    mov [mb2_info], ebx
    ; PML4[0] -> PDPT; PDPT[0..3] -> four page directories; 2048 large pages.
    mov dword [pml4], pdpt + PTE_P_W
    mov edi, pdpt
    mov eax, pds + PTE_P_W
    mov ecx, 4
.pdpt:
    mov [edi], eax
    add edi, 8
    add eax, 4096
    dec ecx
    jnz .pdpt
    mov edi, pds
    xor eax, eax                            ; physical address of the page
    xor ecx, ecx
.pde:
    mov edx, eax
    or edx, PDE_LARGE
    cmp eax, 0xFE000000
    jb .cached
    or edx, PDE_UC
.cached:
    mov [edi + ecx * 8], edx
    mov dword [edi + ecx * 8 + 4], 0
    add eax, 0x200000
    inc ecx
    cmp ecx, 2048
    jb .pde
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    lgdt [gdtr]
    jmp SEL_CODE64:common64
bits 64

; ---------------------------------------------------------------- command line, TSC, MADT
; read_cmdline: copies the command line (boot_params' cmd_line_ptr, or the Multiboot2 tag) to
; cmdline, at most CMDLINE_SIZE bytes, NUL-terminated.
read_cmdline:
    xor esi, esi
    cmp dword [rel bare], 0
    jne .mb2
    mov rax, [rel boot_params]
    test rax, rax
    jz .copy
    mov esi, [rax + BP_CMD_LINE_PTR]
    jmp .copy
.mb2:
    mov eax, [rel mb2_info]                 ; {u32 total_size, u32 reserved, tags...}
    mov edx, [rax]
    add rdx, rax                            ; the end
    add rax, 8
.tag:
    cmp rax, rdx
    jae .copy
    mov ecx, [rax]                          ; type
    test ecx, ecx
    jz .copy                                ; the end tag
    cmp ecx, MB2_INFO_CMDLINE
    je .found
    mov ecx, [rax + 4]                      ; size, then the next 8-byte boundary
    add rax, rcx
    add rax, 7
    and rax, -8
    jmp .tag
.found:
    lea rsi, [rax + 8]
.copy:
    lea rdi, [rel cmdline]
    test rsi, rsi
    jz .end
    mov ecx, CMDLINE_SIZE
.byte:
    lodsb
    test al, al
    jz .end
    stosb
    dec ecx
    jnz .byte
.end:
    mov byte [rdi], 0
    ret

; cmdline_has RSI = a word: ZF clear when the command line holds it as a whole word.
cmdline_has:
    lea rdi, [rel cmdline]
.word:
    ; skip blanks
    cmp byte [rdi], ' '
    jne .cmp
    inc rdi
    jmp .word
.cmp:
    cmp byte [rdi], 0
    je .no
    xor ecx, ecx
.c:
    mov al, [rsi + rcx]
    test al, al
    jz .end_of_word
    cmp al, [rdi + rcx]
    jne .skip
    inc ecx
    jmp .c
.end_of_word:
    mov al, [rdi + rcx]
    test al, al
    jz .yes
    cmp al, ' '
    je .yes
.skip:
    ; to the next blank
    cmp byte [rdi], 0
    je .no
    cmp byte [rdi], ' '
    je .word
    inc rdi
    jmp .skip
.yes:
    or eax, 1
    ret
.no:
    xor eax, eax
    ret

; cmdline_number RSI = "key=": RAX = the decimal after the first occurrence, or 0.
cmdline_number:
    lea rdi, [rel cmdline]
.at:
    cmp byte [rdi], 0
    je .none
    xor ecx, ecx
.c:
    mov al, [rsi + rcx]
    test al, al
    jz .digits
    cmp al, [rdi + rcx]
    jne .next
    inc ecx
    jmp .c
.next:
    inc rdi
    jmp .at
.digits:
    add rdi, rcx
    xor eax, eax
.d:
    movzx ecx, byte [rdi]
    sub ecx, '0'
    cmp ecx, 9
    ja .done
    imul rax, rax, 10
    add rax, rcx
    inc rdi
    jmp .d
.done:
    ret
.none:
    xor eax, eax
    ret

; tsc_rate: the TSC's Hz from CPUID leaf 0x15 (hv's virtual PC gives EAX = EBX = 1, ECX = Hz),
; else TSC_HZ_DEFAULT; then the delays in ticks.
tsc_rate:
    push rbx
    xor eax, eax
    cpuid
    mov r8d, TSC_HZ_DEFAULT
    cmp eax, CPUID_TSC_LEAF
    jb .have
    mov eax, CPUID_TSC_LEAF
    xor ecx, ecx
    cpuid
    test eax, eax
    jz .have
    test ebx, ebx
    jz .have
    test ecx, ecx
    jz .have
    mov r9d, eax
    mov eax, ecx
    mul rbx                                 ; Hz = ECX * EBX / EAX
    div r9
    mov r8, rax
.have:
    mov [rel tsc_hz], r8
    mov rax, r8
    shl rax, 1
    mov [rel ticks_2s], rax
    mov [rel ticks_1s], r8
    xor edx, edx
    mov rax, r8
    mov ecx, 20
    div rcx
    mov [rel ticks_50ms], rax
    xor edx, edx
    mov rax, r8
    mov ecx, 100
    div rcx
    mov [rel ticks_10ms], rax
    xor edx, edx
    mov rax, r8
    mov ecx, 5000
    div rcx
    mov [rel ticks_200us], rax
    pop rbx
    ret

; parse_madt: finds the RSDP (boot_params.acpi_rsdp_addr, else the BIOS-area scan), the RSDT,
; the MADT ("APIC"), and collects the enabled local APICs' IDs in cpu_ids (ncpus of them, at
; most MAX_CPUS; ncpus_raw counts them all). Prints `ipitest: madt lists N local APICs`. No
; MADT at all: prints why and halts.
parse_madt:
    push rbx
    xor eax, eax
    cmp dword [rel bare], 0
    jne .scan
    mov rax, [rel boot_params]
    test rax, rax
    jz .scan
    mov rax, [rax + BP_ACPI_RSDP]
    test rax, rax
    jnz .rsdp
.scan:
    mov esi, 0xE0000
.s:
    cmp dword [rsi], 'RSD '
    jne .sn
    cmp dword [rsi + 4], 'PTR '
    je .found
.sn:
    add esi, 16
    cmp esi, 0x100000
    jb .s
    movzx esi, word [0x40E]                 ; the EBDA's segment, its first KiB
    shl esi, 4
    lea edi, [rsi + 1024]
.e:
    cmp dword [rsi], 'RSD '
    jne .en
    cmp dword [rsi + 4], 'PTR '
    je .found
.en:
    add esi, 16
    cmp esi, edi
    jb .e
    mov rsi, msg_no_rsdp
    jmp die
.found:
    mov eax, esi
.rsdp:
    mov ebx, [rax + 16]                     ; RsdtAddress
    cmp dword [rbx], 'RSDT'
    jne .no_madt
    mov ecx, [rbx + 4]                      ; length
    lea r8, [rbx + rcx]                     ; the end
    lea r9, [rbx + 36]                      ; the entries
.t:
    cmp r9, r8
    jae .no_madt
    mov eax, [r9]
    cmp dword [rax], 'APIC'
    je .madt
    add r9, 4
    jmp .t
.no_madt:
    mov rsi, msg_no_madt
    jmp die
.madt:
    mov rbx, rax
    ; checksum: all bytes of the table add up to 0
    mov ecx, [rbx + 4]
    xor edx, edx
    xor esi, esi
.sum:
    add dl, [rbx + rsi]
    inc esi
    cmp esi, ecx
    jb .sum
    test dl, dl
    jz .sum_ok
    mov dword [rel madt_bad], 1
.sum_ok:
    lea r8, [rbx + rcx]
    lea r9, [rbx + 44]                      ; after the header, the APIC address and flags
.ent:
    cmp r9, r8
    jae .done
    movzx ecx, byte [r9 + 1]                ; the entry's length
    cmp ecx, 2
    jb .done
    cmp byte [r9], 0                        ; processor local APIC
    jne .ent_next
    test dword [r9 + 4], 1                  ; enabled
    jz .ent_next
    movzx eax, byte [r9 + 3]                ; APIC ID
    inc dword [rel ncpus_raw]
    cmp eax, [rel bsp_id]
    jne .not_bsp
    mov dword [rel bsp_listed], 1
.not_bsp:
    mov edx, [rel ncpus]
    cmp edx, MAX_CPUS
    jae .ent_next
    cmp eax, MAX_CPUS                       ; an ID this test cannot index: not started
    jae .ent_next
    mov [cpu_ids + rdx * 4], eax
    inc dword [rel ncpus]
.ent_next:
    add r9, rcx
    jmp .ent
.done:
    call con_lock
    mov rsi, msg_madt
    call puts
    mov eax, [rel ncpus_raw]
    call put_dec
    mov rsi, msg_madt_end
    call puts
    call con_unlock
    pop rbx
    ret

; ---------------------------------------------------------------- APIC and timing helpers
; send_ipi EDI = destination (APIC ID or logical mask), ESI = ICR low. Waits (bounded) for
; the previous IPI's delivery status to clear; the two ICR writes with interrupts off so that
; a handler's own IPI (pingpong) cannot come between them.
send_ipi:
    pushfq
    cli
    mov ecx, ICR_SPINS
.busy:
    APIC_RD eax, APIC_ICR_LO
    test eax, ICR_BUSY
    jz .free
    pause
    dec ecx
    jnz .busy
.free:
    shl edi, 24
    APIC_WR APIC_ICR_HI, edi
    APIC_WR APIC_ICR_LO, esi
    popfq
    ret

; delay RDI = ticks: spins (PAUSE) until the TSC has advanced that far.
delay:
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov rcx, rax
.l:
    pause
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, rcx
    cmp rax, rdi
    jb .l
    ret

; wait_ge RDI = dword address, ESI = value, RDX = timeout ticks: spins until [RDI] >= ESI.
; ZF clear when it got there, set on a timeout.
wait_ge:
    push rbx
    mov r8, rdx
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov rbx, rax
.l:
    cmp [rdi], esi
    jae .yes
    pause
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, rbx
    cmp rax, r8
    jb .l
    xor eax, eax
    pop rbx
    ret
.yes:
    or eax, 1
    pop rbx
    ret

; wait_zero RDI = dword address: spins (up to 1 s) until it is 0; ZF as wait_ge.
wait_zero:
    push rbx
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov rbx, rax
.l:
    cmp dword [rdi], 0
    je .yes
    pause
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, rbx
    cmp rax, [rel ticks_1s]
    jb .l
    xor eax, eax
    pop rbx
    ret
.yes:
    or eax, 1
    pop rbx
    ret

; ---------------------------------------------------------------- interrupt handlers
; this_cpu -> EAX: the APIC ID kept at the base of the current stack.
%macro THIS_CPU 0
    mov rax, rsp
    and rax, -STACK_BYTES
    mov eax, [rax]
%endmacro

; A handler that counts its vector per CPU and ends with an EOI.
%macro COUNTING_ISR 2                   ; label, counter array
%1:
    push rax
    push r11
    THIS_CPU
    lock inc dword [%2 + rax * 4]
    APIC_WR APIC_EOI, 0
    pop r11
    pop rax
    iretq
%endmacro

COUNTING_ISR fixed_isr, fixed_count
COUNTING_ISR bcast_isr, bcast_count
COUNTING_ISR logical_isr, logical_count
COUNTING_ISR storm_isr, storm_rx
COUNTING_ISR kick_isr, kick_count

; NMI: counted, no EOI (an NMI is not an APIC vector in service).
nmi_isr:
    push rax
    THIS_CPU
    lock inc dword [nmi_count + rax * 4]
    pop rax
    iretq

; VEC_PING on the AP: answer VEC_PONG to the BSP at once.
ping_isr:
    push rax
    push rcx
    push rsi
    push rdi
    push r11
    mov edi, [rel bsp_id]
    mov esi, ICR_FIXED | ICR_ASSERT | VEC_PONG
    call send_ipi
    APIC_WR APIC_EOI, 0
    pop r11
    pop rdi
    pop rsi
    pop rcx
    pop rax
    iretq

; VEC_PONG on the BSP: the round trip's end.
pong_isr:
    push rax
    push rdx
    push r11
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov [rel pong_tsc], rax
    mov byte [rel pong_seen], 1
    APIC_WR APIC_EOI, 0
    pop r11
    pop rdx
    pop rax
    iretq

; The spurious vector: no EOI (SDM APIC "Spurious Interrupt").
spurious_isr:
    iretq

; Every other vector: one 16-byte stub each pushes its number; the common part prints it and
; halts this CPU (a stray interrupt or an exception is a bug in hv or in this guest).
align 16
vector_stubs:
%assign v 0
%rep IDT_VECTORS
    push strict dword v
    jmp strict near unexpected
    align 16
%assign v v + 1
%endrep

unexpected:
    ; Not con_lock: the lock may be this CPU's own (an exception while printing); take it if
    ; it comes free soon, print regardless.
    mov ecx, ICR_SPINS
.try:
    lock bts dword [rel console_lock], 0
    jnc .locked
    pause
    dec ecx
    jnz .try
.locked:
    mov rsi, msg_unexpected
    call puts
    mov rax, [rsp]
    call put_dec
    mov rsi, msg_on_apic
    call puts
    THIS_CPU
    call put_dec
    mov al, 10
    call putc
    call con_unlock
    jmp halt

; setup_idt: every gate to its stub, then the handlers this guest expects.
setup_idt:
    lea rdi, [rel idt]
    lea rax, [rel vector_stubs]
    mov ecx, IDT_VECTORS
.gate:
    call write_gate
    add rdi, IDT_GATE_BYTES
    add rax, 16
    dec ecx
    jnz .gate
%macro SET_GATE 2                       ; vector, handler
    lea rdi, [idt + %1 * IDT_GATE_BYTES]
    lea rax, [rel %2]
    call write_gate
%endmacro
    SET_GATE VEC_NMI, nmi_isr
    SET_GATE VEC_FIXED, fixed_isr
    SET_GATE VEC_BCAST, bcast_isr
    SET_GATE VEC_LOGICAL, logical_isr
    SET_GATE VEC_STORM, storm_isr
    SET_GATE VEC_PING, ping_isr
    SET_GATE VEC_PONG, pong_isr
    SET_GATE VEC_KICK, kick_isr
    SET_GATE VEC_SPURIOUS, spurious_isr
    ret

; The 64-bit interrupt gate at RDI for the handler at RAX (SDM vol. 3 §7.14.1).
write_gate:
    mov [rdi], ax
    mov word [rdi + 2], SEL_CODE64
    mov word [rdi + 4], GATE_INT64
    mov rdx, rax
    shr rdx, 16
    mov [rdi + 6], dx
    shr rdx, 16
    mov [rdi + 8], edx
    mov dword [rdi + 12], 0
    ret

; ---------------------------------------------------------------- the console
con_lock:
    lock bts dword [rel console_lock], 0
    jnc .got
.spin:
    pause
    test dword [rel console_lock], 1
    jnz .spin
    jmp con_lock
.got:
    ret

con_unlock:
    mov dword [rel console_lock], 0         ; a plain store releases (x86 stores are ordered)
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
; (dec_buf is shared: callers hold the console lock.)

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

; ---------------------------------------------------------------- data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF                   ; 0x08: 32-bit code, base 0, 4 GiB
    dq 0x00AF9A000000FFFF                   ; 0x10: 64-bit code (L = 1)
    dq 0x00CF92000000FFFF                   ; 0x18: data, base 0, 4 GiB
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dq gdt
idtr:
    dw IDT_VECTORS * IDT_GATE_BYTES - 1
    dq idt

mode_storm:         db "storm", 0
mode_pingpong:      db "pingpong", 0
mode_shootdown:     db "shootdown", 0
msg_shootdown:      db "ipitest: shootdown bsp in x2apic mode, ap released", 10, 0
kw_ticks:           db "ticks=", 0
msg_prefix:         db "ipitest: ", 0
msg_pass:           db "PASS ", 0
msg_fail:           db "FAIL ", 0
msg_colon:          db ": ", 0
msg_summary:        db "ipitest: ", 0
msg_passed:         db " passed, ", 0
msg_failed:         db " failed", 10, 0
msg_madt:           db "ipitest: madt lists ", 0
msg_madt_end:       db " local APICs", 10, 0
msg_ap:             db "ap ", 0
msg_ap_up:          db " up apic-id ", 0
msg_storm:          db "ipitest: storm sent bsp ", 0
msg_storm_ap:       db " ap ", 0
msg_storm_rx_bsp:   db ", received bsp ", 0
msg_storm_rx_ap:    db " ap ", 0
msg_storm_ticks:    db ", ticks ", 0
msg_rtt:            db "ipitest: ipi round trip median ", 0
msg_rtt_min:        db " ticks min=", 0
msg_rtt_max:        db " max=", 0
msg_rtt_samples:    db " samples=", 0
msg_unexpected:     db "ipitest: unexpected vector ", 0
msg_on_apic:        db " on apic-id ", 0
msg_no_rsdp:        db "ipitest: no ACPI RSDP found", 10, 0
msg_no_madt:        db "ipitest: no MADT in the RSDT", 10, 0
msg_bsp_id:         db "ipitest: the BSP's APIC ID is 8 or more", 10, 0
msg_shutdown:       db "Shutdown", 0
chk_madt:           db "madt-lapics", 0
chk_startup:        db "ap-startup", 0
chk_ap_ids:         db "ap-apic-ids", 0
chk_sipi_once:      db "sipi-once", 0
chk_fixed_bsp_ap:   db "fixed-bsp-to-ap", 0
chk_fixed_ap_bsp:   db "fixed-ap-to-bsp", 0
chk_bcast_but_self: db "broadcast-all-but-self", 0
chk_bcast_all:      db "broadcast-all", 0
chk_nmi:            db "nmi-ipi", 0
chk_logical:        db "logical-destination", 0
chk_nonexistent:    db "init-sipi-nonexistent", 0
chk_storm_to_ap:    db "storm-bsp-to-ap", 0
chk_storm_to_bsp:   db "storm-ap-to-bsp", 0
chk_pingpong:       db "pingpong", 0
chk_shootdown:      db "shootdown", 0
why_no_x2apic:      db "CPUID.1:ECX.x2APIC is clear", 0
why_x2apic:         db "IA32_APIC_BASE.EXTD did not stick", 0
why_madt_few:       db "fewer than 2 enabled local APICs (run with vcpus=2..8)", 0
why_madt_sum:       db "MADT checksum is not 0", 0
why_madt_nobsp:     db "the BSP's APIC ID is not listed", 0
why_madt_many:      db "more than 8 local APICs", 0
why_ap_missing:     db "not every AP came up within 2 s of its SIPI", 0
why_ap_ids:         db "an AP's xAPIC ID differs from its CPUID.1 ID or its SIPI's target", 0
why_sipi_twice:     db "an AP ran the trampoline more than once", 0
why_not_delivered:  db "not delivered within 1 s", 0
why_count:          db "a handler ran a wrong number of times", 0
why_mailbox:        db "an AP did not take its mailbox command within 1 s", 0
why_bcast_self:     db "the sender got its own all-excluding-self IPI", 0
why_bcast_noself:   db "the sender did not get its all-including-self IPI", 0
why_no_odd_ap:      db "no AP with an odd APIC ID", 0
why_logical_count:  db "a CPU outside the logical mask got it, or a target did not", 0
why_moved:          db "something happened: an AP started or a handler ran", 0
why_after_nonexistent: db "a fixed IPI to the first AP got lost afterwards", 0
    align PARAGRAPH, db 0
kernel_end:

; ================================================================ bss (inside init_size)
section kbss nobits follows=kernel align=STACK_BYTES
pml4:           resb 4096               ; the Multiboot2 path's page tables
pdpt:           resb 4096
pds:            resb 4 * 4096
alignb STACK_BYTES
stacks:         resb MAX_CPUS * STACK_BYTES
idt:            resb IDT_VECTORS * IDT_GATE_BYTES
boot_params:    resq 1
mb2_info:       resd 1
bare:           resd 1
tsc_hz:         resq 1
ticks_2s:       resq 1
ticks_1s:       resq 1
ticks_50ms:     resq 1
ticks_10ms:     resq 1
ticks_200us:    resq 1
storm_deadline: resq 1
pong_tsc:       resq 1
ping_rtt:       resq PING_SAMPLES
bsp_id:         resd 1
ncpus:          resd 1
ncpus_raw:      resd 1
bsp_listed:     resd 1
madt_bad:       resd 1
cpu_ids:        resd MAX_CPUS
nonexistent_id: resd 1
ap_order:       resd 1
ap_online_n:    resd 1
ap_online:      resd MAX_CPUS
ap_cpuid_id:    resd MAX_CPUS
mailbox:        resd MAX_CPUS
storm_partner:  resd 1
storm_sent_bsp: resd 1
storm_sent_ap:  resd 1
spin_ready:     resd 1
spin_release:   resd 1
passed:         resd 1
failed:         resd 1
console_lock:   resd 1
pong_seen:      resb 1
alignb 4
; The counters init-sipi-nonexistent compares before and after (ap_entries included).
counters:
ap_entries:     resd 1
fixed_count:    resd MAX_CPUS
bcast_count:    resd MAX_CPUS
logical_count:  resd MAX_CPUS
nmi_count:      resd MAX_CPUS
storm_rx:       resd MAX_CPUS
kick_count:     resd MAX_CPUS
counters_end:
snap:           resd (counters_end - counters) / 4
cmdline:        resb CMDLINE_SIZE + 1
dec_buf:        resb 24
dec_buf_end:
    alignb 16
bss_end:
