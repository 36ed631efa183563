; hello: the smallest useful guest. Multiboot 1 entry state (32-bit protected mode, paging off).
; Prints a line through the virtual COM1 and one through the console hypercall, executes CPUID
; and ends with isa-debug-exit status 0.
bits 32
%include "guest.inc"

section .text
global _start
_start:
    mov esp, stack_top
    mov esi, msg_port
    call puts32
    xor eax, eax
    cpuid                           ; first light: a CPUID exit
    mov eax, HC_CONSOLE_WRITE
    mov ebx, msg_call
    mov ecx, msg_call_len
    vmcall
    GUEST_EXIT 0
.hang:
    hlt
    jmp .hang

DEFINE_PUTS32

section .rodata
msg_port: db "hello from a guest, through COM1", 10, 0
msg_call: db "hello from a guest, through a hypercall", 10
msg_call_len equ $ - msg_call

section .bss
align 16
    resb 4096
stack_top:
