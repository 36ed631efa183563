; hello: the smallest useful guest. Multiboot 1 entry state (32-bit protected mode, paging off).
; Prints a line through the virtual COM1 and one through the console hypercall, executes CPUID
; and ends with isa-debug-exit status 0.
bits 32
%define COM1        0x3F8
%define DEBUG_EXIT  0xF4
%define HC_CONSOLE_WRITE 1

section .text
global _start
_start:
    mov esp, stack_top
    mov esi, msg_port
    call puts_port
    xor eax, eax
    cpuid                           ; first light: a CPUID exit
    mov eax, HC_CONSOLE_WRITE
    mov ebx, msg_call
    mov ecx, msg_call_len
    vmcall
    mov al, 0
    out DEBUG_EXIT, al              ; exit(0)
.hang:
    hlt
    jmp .hang

puts_port:
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    ret

section .rodata
msg_port: db "hello from a guest, through COM1", 10, 0
msg_call: db "hello from a guest, through a hypercall", 10
msg_call_len equ $ - msg_call

section .bss
align 16
    resb 4096
stack_top:
