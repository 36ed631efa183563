; flood: floods the console forever, alternating a 4096-byte console hypercall (HC_CONSOLE_MAX)
; with a 4096-iteration REP OUTSB to COM1. Run with a timeout beside a guest that needs the
; CPU (worker): hv must queue the flood in flood's own console ring and stall only flood when
; that is full, so the neighbour keeps its share of the CPU (issue 16 item 7).
bits 32
%include "guest.inc"

%define FLOOD_BYTES HC_CONSOLE_MAX

section .text
global _start
_start:
    mov esp, stack_top
    mov edi, buf                    ; lines of 63 letters and a newline
    xor ecx, ecx
.fill:
    mov eax, ecx
    and eax, 63
    cmp eax, 63
    je .newline
    mov byte [edi + ecx], 'f'
    jmp .filled
.newline:
    mov byte [edi + ecx], 10
.filled:
    inc ecx
    cmp ecx, FLOOD_BYTES
    jb .fill
.flood:
    mov eax, HC_CONSOLE_WRITE
    mov ebx, buf
    mov ecx, FLOOD_BYTES
    vmcall
    mov esi, buf
    mov ecx, FLOOD_BYTES
    mov dx, COM1
    rep outsb
    jmp .flood

section .bss
align 16
buf: resb FLOOD_BYTES
resb 4096
stack_top:
