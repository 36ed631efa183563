; hv's entry: GRUB jumps here in 32-bit protected mode, paging off (Multiboot2 spec §3.3),
; EAX = boot-loader magic, EBX = physical address of the boot information.
; We check the CPU, build boot page tables, enter long mode and call kmain(mbi, magic).
%include "boot/multiboot2.inc"
%include "boot/long_mode.inc"

%define COM1                0x3F8
%define BOCHS_E9            0xE9
%define BOCHS_SHUTDOWN      0x8900
%define EFLAGS_ID           (1 << 21)
%define CPUID_EXT_FEATURES  0x80000001
%define CPUID_EXT_LM        (1 << 29)
%define CPUID_EXT_NX        (1 << 20)
%define PTE_P               (1 << 0)
%define PTE_W               (1 << 1)
%define PTE_PS              (1 << 7)
%define DIRECT_MAP_PML4_SLOT 256       ; 0xFFFF800000000000, see mm/layout.h
%define BOOT_STACK_SIZE     32768 ; modargs and the command-line parser hold 2 KiB values

extern kmain
global _start
global boot_pml4, boot_stack_guard, boot_stack_bottom, boot_stack_top, boot_tsc

section .boot.text
bits 32
_start:
    mov edi, eax                    ; keep the magic: RDTSC needs EAX/EDX (CPUID check comes later;
    rdtsc                           ; every x86-64 CPU has RDTSC)
    mov [boot_tsc], eax
    mov [boot_tsc + 4], edx
    mov eax, edi
    cli
    cld
    mov esp, boot_stack_top
    mov edi, eax                    ; keep magic and info pointer safe from CPUID
    mov esi, ebx

    call serial32_init
    cmp edi, MB2_BOOTLOADER_MAGIC
    jne .no_multiboot2

    ; CPUID exists when EFLAGS.ID can be toggled.
    pushfd
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    cmp eax, ecx
    je .no_cpuid

    mov eax, 0x80000000
    cpuid
    cmp eax, CPUID_EXT_FEATURES
    jb .no_long_mode
    mov eax, CPUID_EXT_FEATURES
    cpuid
    test edx, CPUID_EXT_LM
    jz .no_long_mode
    test edx, CPUID_EXT_NX
    jz .no_nx

    call build_boot_page_tables

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_PE | CR0_WP
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp BOOT_CS:long_mode_entry

.no_multiboot2:
    mov esi, msg_no_multiboot2
    jmp boot_fail
.no_cpuid:
    mov esi, msg_no_cpuid
    jmp boot_fail
.no_long_mode:
    mov esi, msg_no_long_mode
    jmp boot_fail
.no_nx:
    mov esi, msg_no_nx
    jmp boot_fail

; Identity map and direct map of the first 4 GiB with 2 MiB pages: enough to reach hv, the boot
; information and the modules until mm/ builds the real tables.
build_boot_page_tables:
    mov eax, boot_pdpt
    or eax, PTE_P | PTE_W
    mov [boot_pml4], eax
    mov [boot_pml4 + DIRECT_MAP_PML4_SLOT * 8], eax
    mov ecx, 0
.pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, PTE_P | PTE_W
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdpt
    mov ecx, 0                      ; 2048 entries of 2 MiB = 4 GiB
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_P | PTE_W | PTE_PS
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                     ; bits 32+ of the physical address
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .pd
    ret

; Prints the string at ESI on COM1 (and on Bochs' port 0xE9), then stops: no triple fault, no
; reboot loop. Under Bochs it also ends the emulator through its shutdown port.
boot_fail:
    call serial32_puts
    in al, BOCHS_E9
    cmp al, BOCHS_E9
    jne .halt
    mov esi, msg_shutdown
    mov dx, BOCHS_SHUTDOWN
.shutdown:
    lodsb
    test al, al
    jz .halt
    out dx, al
    jmp .shutdown
.halt:
    cli
    hlt
    jmp .halt

serial32_init:
    mov dx, COM1 + 1                ; IER: no interrupts
    mov al, 0
    out dx, al
    mov dx, COM1 + 3                ; LCR: DLAB on
    mov al, 0x80
    out dx, al
    mov dx, COM1                    ; divisor 1 = 115200 baud
    mov al, 1
    out dx, al
    mov dx, COM1 + 1
    mov al, 0
    out dx, al
    mov dx, COM1 + 3                ; 8N1, DLAB off
    mov al, 3
    out dx, al
    mov dx, COM1 + 2                ; FIFO on, cleared
    mov al, 0xC7
    out dx, al
    ret

; Writes the NUL-terminated string at ESI to COM1 and port 0xE9. The transmit wait is bounded,
; so a missing UART cannot hang us here.
serial32_puts:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov ecx, 100000
    mov dx, COM1 + 5                ; LSR
.wait:
    in al, dx
    test al, 0x20                   ; THR empty
    jnz .send
    loop .wait
.send:
    mov al, ah
    mov dx, COM1
    out dx, al
    out BOCHS_E9, al
    jmp serial32_puts
.done:
    ret

bits 64
long_mode_entry:
    mov ax, BOOT_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    xor rbp, rbp                    ; end of the frame-pointer chain for backtraces
    mov edi, esi                    ; kmain(mbi_phys, magic)
    mov esi, MB2_BOOTLOADER_MAGIC
    call kmain
.hang:
    cli
    hlt
    jmp .hang

section .rodata
msg_no_multiboot2: db "hv: end: error: not started by a multiboot2 boot loader", 13, 10, 0
msg_no_cpuid:      db "hv: end: error: CPU lacks CPUID", 13, 10, 0
msg_no_long_mode:  db "hv: end: error: CPU lacks long mode (x86-64)", 13, 10, 0
msg_no_nx:         db "hv: end: error: CPU lacks NX (execute disable)", 13, 10, 0
msg_shutdown:      db "Shutdown", 0

align 8
boot_gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 64-bit code, DPL 0
    dq 0x00CF92000000FFFF           ; data, DPL 0
boot_gdt_end:
BOOT_CS equ 0x08
BOOT_DS equ 0x10
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt

section .data
align 8
boot_tsc: dq 0                      ; TSC at hv's first instruction (boot-cost figures)

section .boot.bss nobits alloc write align=4096
boot_pml4:         resb 4096
boot_pdpt:         resb 4096
boot_pd:           resb 4096 * 4
boot_stack_guard:  resb 4096        ; left unmapped by mm/paging.c: overflow faults
boot_stack_bottom: resb BOOT_STACK_SIZE
boot_stack_top:
