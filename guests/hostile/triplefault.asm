; triplefault: loads an empty IDT (limit 0) and executes UD2: the #UD cannot be delivered
; (#GP), nor can the #GP (#DF), nor the #DF: a triple fault. hv must end the guest with
; `triple-fault` (the machine, and hv, keep running).
bits 32
%include "guest.inc"

section .text
global _start
_start:
    mov esp, stack_top
    LOAD_FLAT_GDT
    lidt [empty_idt]
    PUTS msg
    ud2
    PUTS msg_survived
    mov al, 1
    GUEST_EXIT_AL

DEFINE_PUTS32
DEFINE_FLAT_GDT

section .rodata
empty_idt:    dw 0
              dd 0
msg:          db "UD2 with an empty IDT", 10, 0
msg_survived: db "FAIL: still running after UD2", 10, 0

section .bss
alignb 16
    resb 4096
stack_top:
