; Entry of the C guests (ELF64): hv enters in 64-bit mode with paging identity-mapping guest
; RAM and RDI = the Multiboot 1 information (docs/guest-abi.md §2.2). The GDT hv leaves is not
; in guest memory, so we load our own before anything can fault, then an IDT whose stubs feed
; g_exception (guest.c), and call guest_main(info). Its return value becomes exit(STATUS).
bits 64
%define DEBUG_EXIT_PORT 0xF4
%define GDT_CODE64 0x00AF9A000000FFFF
%define GDT_DATA   0x00CF92000000FFFF
%define GDT_CODE32 0x00CF9A000000FFFF
%define GDT_CODE16 0x00009A000000FFFF
%define GDT_DATA16 0x000092000000FFFF

extern guest_main
extern g_exception
extern g_exit
global _start, g_gdt, g_idt, g_idt_ptr, g_try, g_stack_top

section .text.start
_start:
    mov rsp, g_stack_top
    lgdt [g_gdt_ptr]
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    push 0x08
    lea rax, [rel .reload_cs]
    push rax
    retfq
.reload_cs:
    push rdi
    call idt_init
    pop rdi
    call guest_main
    movzx edi, al                   ; g_exit flushes the console line buffer first
    call g_exit
.hang:
    hlt
    jmp .hang

; Fills the 32 exception gates (64-bit interrupt gates, selector 0x08) and loads the IDT.
idt_init:
    xor ecx, ecx
.gate:
    mov rax, [isr_table + rcx * 8]
    mov rdx, rcx
    shl rdx, 4
    lea rdi, [g_idt + rdx]
    mov word [rdi], ax
    mov word [rdi + 2], 0x08
    mov word [rdi + 4], 0x8E00
    shr rax, 16
    mov word [rdi + 6], ax
    shr rax, 16
    mov dword [rdi + 8], eax
    mov dword [rdi + 12], 0
    inc ecx
    cmp ecx, 32
    jb .gate
    lidt [g_idt_ptr]
    ret

; int g_try(void (*fn)(void *), void *arg, struct g_fault *fault)
; Runs fn(arg); returns 0, or 1 with *fault filled if an exception interrupted it (the
; exception handler unwinds to here: see g_exception's try path).
g_try:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    sub rsp, 8                      ; keep the call site 16-byte aligned
    mov [try_rsp], rsp
    mov [try_fault], rdx
    mov byte [try_armed], 1
    mov rax, rdi
    mov rdi, rsi
    call rax
    mov byte [try_armed], 0
    xor eax, eax
try_out:
    add rsp, 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

%macro ISR 2                        ; vector, has-error-code
isr_%1:
%if %2 == 0
    push 0
%endif
    push %1
    jmp isr_common
%endmacro

%assign v 0
%rep 32
%if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
    ISR v, 1
%else
    ISR v, 0
%endif
%assign v v + 1
%endrep

; Stack: vector, error, rip, cs, rflags, rsp, ss.
isr_common:
    cmp byte [try_armed], 0
    je .fatal
    mov byte [try_armed], 0
    mov rdi, [try_fault]            ; fault->vector, ->error, ->rip, ->cr2
    mov rax, [rsp]
    mov [rdi], rax
    mov rax, [rsp + 8]
    mov [rdi + 8], rax
    mov rax, [rsp + 16]
    mov [rdi + 16], rax
    mov rax, cr2
    mov [rdi + 24], rax
    mov rsp, [try_rsp]
    mov eax, 1
    jmp try_out
.fatal:
    mov rdi, rsp                    ; unexpected: g_exception prints and exits(FAIL)
    and rsp, -16
    call g_exception
    jmp _start.hang

section .rodata
align 8
isr_table:
%assign v 0
%rep 32
    dq isr_ %+ v
%assign v v + 1
%endrep

section .data
align 16
g_gdt:
    dq 0
    dq GDT_CODE64                   ; 0x08
    dq GDT_DATA                     ; 0x10
    dq GDT_CODE32                   ; 0x18 (for mode-switch tests)
    dq GDT_CODE16                   ; 0x20
    dq GDT_DATA16                   ; 0x28
g_gdt_end:
g_gdt_ptr:
    dw g_gdt_end - g_gdt - 1
    dq g_gdt
align 16
g_idt_ptr:
    dw 32 * 16 - 1
    dq g_idt

section .bss
align 16
g_idt:    resb 32 * 16
try_rsp:  resq 1
try_fault: resq 1
try_armed: resb 1
alignb 16
          resb 16384
g_stack_top:
