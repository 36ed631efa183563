; Application-processor start-up (SDM vol. 3 §9.4 "Multiple-Processor (MP) Initialization";
; the INIT-SIPI-SIPI sequence is in kernel/smp_hw.c). A SIPI with vector V starts the AP in real
; mode at V:0000, physical V * 4 KiB, so this code runs from a copy kernel/smp_hw.c puts at
; AP_TRAMPOLINE_PA (below 1 MiB); every address in it is that copy's. It goes from real mode to
; protected mode to long mode on the boot page tables (boot/entry.asm: they identity-map the
; first 4 GiB, the copy included), jumps to ap_entry64 in hv's image, which switches to hv's own
; page tables and stack and calls ap_main. The mailbox at the copy's end carries what the BSP
; filled in for this AP; the BSP starts one AP at a time.
%include "boot/long_mode.inc"
%define AP_TRAMPOLINE_PA 0x8000 ; kernel/smp_hw.c
%define SEL_CODE32  0x08
%define SEL_DATA    0x10
%define SEL_CODE64  0x18
; An address inside the copy.
%define T(x) (AP_TRAMPOLINE_PA + (x) - ap_trampoline_start)

extern ap_main
global ap_trampoline_start, ap_trampoline_end, ap_mailbox

section .rodata
align 16
bits 16
ap_trampoline_start:
    cli
    cld
    xor ax, ax
    mov ds, ax
    o32 lgdt [T(tramp_gdt_ptr)]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:T(tramp_prot32)

bits 32
tramp_prot32:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, [T(mb_boot_cr3)]
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_WP | CR0_PE
    mov cr0, eax
    jmp SEL_CODE64:T(tramp_long64)

bits 64
tramp_long64:
    mov rax, [T(mb_entry)]
    jmp rax                         ; into hv's image, mapped in both page tables

align 8
tramp_gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 32-bit code, base 0, 4 GiB
    dq 0x00CF92000000FFFF           ; data, base 0, 4 GiB
    dq 0x00AF9A000000FFFF           ; 64-bit code
tramp_gdt_ptr:
    dw 4 * 8 - 1
    dd T(tramp_gdt)

; struct ap_mailbox (kernel/smp_hw.c), filled by the BSP in the copy before each start.
align 8
ap_mailbox:
mb_boot_cr3: dq 0                   ; boot/entry.asm's page tables (below 4 GiB)
mb_cr3:      dq 0                   ; hv's page tables
mb_stack:    dq 0                   ; the AP's boot stack top
mb_entry:    dq 0                   ; ap_entry64
mb_arg:      dq 0                   ; the AP's struct percpu
ap_trampoline_end:

section .text
bits 64
global ap_entry64
; Still on the boot page tables, which map the copy: read the mailbox, then leave them.
ap_entry64:
    mov rsp, [T(mb_stack)]
    mov rdi, [T(mb_arg)]
    mov rax, [T(mb_cr3)]
    mov cr3, rax
    xor rbp, rbp                    ; end of the frame-pointer chain
    call ap_main
.hang:
    cli
    hlt
    jmp .hang
