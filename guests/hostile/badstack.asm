; badstack: points ESP far outside guest RAM (0xF0000000) and pushes: the write at
; 0xEFFFFFFC must end the guest with `killed(EPT violation at GPA 0xeffffffc W)`.
bits 32
%include "guest.inc"

%define BAD_STACK 0xF0000000

section .text
global _start
_start:
    mov esi, msg
    call puts32
    mov esp, BAD_STACK
    push eax
    mov esp, 0x9FC00                ; still alive: hv let the write through
    mov esi, msg_survived
    call puts32
    mov al, 1
    GUEST_EXIT_AL

DEFINE_PUTS32

msg:          db "pushing at ESP 0xF0000000", 10, 0
msg_survived: db "FAIL: the push outside guest RAM did not end the guest", 10, 0
