; worker: needs a fixed amount of CPU (WORK_LOOPS iterations of a 2-instruction loop: 40M
; instructions, 0.8 s at the 50 MHz TSC of hv's Bochs runs: 80 slices of hvrun's 10 ms), then
; ends exit(0). Beside flood it shows whether a console flood takes the CPU from neighbours.
bits 32
%include "guest.inc"

%define WORK_LOOPS 20000000

section .text
global _start
_start:
    mov esp, stack_top
    mov ecx, WORK_LOOPS
.work:
    dec ecx
    jnz .work
    mov esi, msg
    call puts32
    GUEST_EXIT 0

DEFINE_PUTS32

section .rodata
msg: db "worker done", 10, 0

section .bss
resb 4096
stack_top:
