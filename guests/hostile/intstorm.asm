; intstorm: INT 0x80 INT_STORM times; the handler counts and IRETs. Software interrupts
; never exit to hv: this stresses event delivery while hv preempts and reschedules.
; Ends exit(0) when the handler ran exactly INT_STORM times, else exit(1).
bits 32
%include "guest.inc"

%define INT_VECTOR 0x80
%define INT_STORM  100000

section .text
global _start
_start:
    mov esp, stack_top
    LOAD_FLAT_GDT
    call idt_install_exceptions
    mov eax, INT_VECTOR
    mov edx, int_handler
    call idt_set_gate
    call idt_load

    mov ecx, INT_STORM
.raise:
    int INT_VECTOR
    loop .raise

    PUTS msg_count
    mov eax, [int_count]
    call putdec32
    PUTS msg_nl
    cmp dword [int_count], INT_STORM
    jne .fail
    cmp dword [fault_count], 0
    EXIT_FAIL_IF ne, .fail

int_handler:
    inc dword [int_count]
    iret

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PUTDEC32
DEFINE_FLAT_GDT
DEFINE_IDT

section .rodata
msg_count: db "INT 0x80 handled ", 0
msg_nl:    db 10, 0
msg_pass:  db "PASS: interrupt storm survived", 10, 0
msg_fail:  db "FAIL: wrong interrupt count", 10, 0

section .bss
alignb 4
int_count: resd 1
alignb 16
    resb 4096
stack_top:
