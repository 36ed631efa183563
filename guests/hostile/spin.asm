; spin: an endless loop that causes no VM exit at all (interrupts off, no I/O). Run with
; timeout=2: hv's preemption timer must still take the CPU back every slice (so neighbours
; run) and end it with `killed(timeout)`.
bits 32
%include "guest.inc"

section .text
global _start
_start:
    mov esi, msg
    call puts32
    jmp $

DEFINE_PUTS32

msg: db "spinning forever", 10, 0
