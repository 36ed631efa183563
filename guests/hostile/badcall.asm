; badcall: hypercalls with hostile arguments (docs/guest-abi.md §6), each of which must fail
; cleanly and print nothing:
;   console write of a buffer outside RAM, straddling the end of RAM, longer than 4096 bytes,
;   and with a length that wraps around 4 GiB -> -2 (EINVAL);
;   info into a buffer outside RAM and straddling the end of RAM -> -2 (EINVAL);
;   unknown numbers (3, 0x7FFFFFFF, 0xFFFFFFFF) -> -1 (ENOSYS).
; The full 64-bit RAX is not visible in 32-bit mode: EAX is checked. Ends exit(0) when every
; call returned what it must, else prints the failing call and ends exit(1). Run with mem=2M.
bits 32
%include "guest.inc"

%define RAM_END       0x200000      ; mem=2M
%define HC_EINVAL     -2
%define HC_ENOSYS     -1
%define CONSOLE_MAX   4096
%define INFO_BYTES    64

; CALL_EXPECT number, ebx, ecx, expected-eax
%macro CALL_EXPECT 4
    mov eax, %1
    mov ebx, %2
    mov ecx, %3
    vmcall
    inc dword [count_calls]
    cmp eax, %4
    je %%ok
    push eax
    mov eax, [count_calls]
    mov esi, msg_bad
    call puts32
    call puthex32
    mov esi, msg_gave
    call puts32
    pop eax
    call puthex32
    mov esi, msg_nl
    call puts32
    inc dword [count_bad]
%%ok:
%endmacro

section .text
global _start
_start:
    mov esp, stack_top
    CALL_EXPECT HC_CONSOLE_WRITE, 0xC0000000, 16, HC_EINVAL
    CALL_EXPECT HC_CONSOLE_WRITE, RAM_END - 8, 16, HC_EINVAL
    CALL_EXPECT HC_CONSOLE_WRITE, RAM_END, 1, HC_EINVAL
    CALL_EXPECT HC_CONSOLE_WRITE, text, CONSOLE_MAX + 1, HC_EINVAL
    CALL_EXPECT HC_CONSOLE_WRITE, text, 0xFFFFFFFF, HC_EINVAL
    CALL_EXPECT HC_CONSOLE_WRITE, 0xFFFFFFF0, 0x20, HC_EINVAL       ; wraps past 4 GiB
    CALL_EXPECT HC_INFO, 0xC0000000, 0, HC_EINVAL
    CALL_EXPECT HC_INFO, RAM_END - INFO_BYTES + 1, 0, HC_EINVAL
    CALL_EXPECT HC_INFO, 0xFFFFFFF0, 0, HC_EINVAL
    CALL_EXPECT 3, 0, 0, HC_ENOSYS
    CALL_EXPECT 0x7FFFFFFF, 0, 0, HC_ENOSYS
    CALL_EXPECT 0xFFFFFFFF, 0, 0, HC_ENOSYS
    ; a valid call still works: the last byte of RAM as a 1-byte buffer is inside RAM
    mov byte [RAM_END - 1], 'k'
    CALL_EXPECT HC_CONSOLE_WRITE, RAM_END - 1, 1, 1
    CALL_EXPECT HC_CONSOLE_WRITE, newline, 1, 1
    CALL_EXPECT HC_INFO, RAM_END - INFO_BYTES, 0, 0
    cmp dword [count_bad], 0
    jne .fail
    mov esi, msg_pass
    call puts32
    mov al, 0
    GUEST_EXIT_AL
.fail:
    mov al, 1
    GUEST_EXIT_AL

DEFINE_PUTS32
DEFINE_PUTHEX32

section .rodata
text:     db "THIS MUST NOT BE PRINTED", 10
newline:  db 10
msg_bad:  db "FAIL: call ", 0
msg_gave: db " returned ", 0
msg_nl:   db 10, 0
msg_pass: db "PASS: every bad hypercall refused", 10, 0

section .bss
alignb 4
count_calls: resd 1
count_bad:   resd 1
alignb 16
    resb 4096
stack_top:
