; strio_oob: a REP string I/O instruction whose memory operand runs off the end of guest RAM
; (mem=2M): cmdline=out does REP OUTSB from 0x1FFFFC, cmdline=in does REP INSB to 0x1FFFFC,
; 8 bytes each, on an unclaimed port. hv emulates string I/O itself, reading or writing guest
; memory on the guest's behalf; the element at GPA 0x200000 is outside RAM and must end the
; guest exactly as the same access by a MOV would: `killed(EPT violation at GPA 0x200000 R)`
; for OUTS (a data read), `... W)` for INS (a data write). Prints FAIL and ends exit(1) if it
; survives; exit(2) for a bad command line.
bits 32
%include "guest.inc"

%define RAM_END      0x200000       ; mem=2M
%define BYTES_BEFORE 4              ; elements still inside RAM
%define ELEMENTS     8
%define SCRATCH_PORT 0x2F8          ; COM2: unclaimed

section .text
global _start
_start:
    MB1_CMDLINE_OR bad_cmdline
    cmp word [esi], 'in'
    je .ins
    cmp word [esi], 'ou'
    jne bad_cmdline
    mov esi, msg_outs
    call puts32
    mov esi, RAM_END - BYTES_BEFORE
    mov ecx, ELEMENTS
    mov dx, SCRATCH_PORT
    cld
    rep outsb
    jmp survived
.ins:
    mov esi, msg_ins
    call puts32
    mov edi, RAM_END - BYTES_BEFORE
    mov ecx, ELEMENTS
    mov dx, SCRATCH_PORT
    cld
    rep insb
survived:
    mov esi, msg_survived
    call puts32
    mov al, 1
    GUEST_EXIT_AL
bad_cmdline:
    mov esi, msg_usage
    call puts32
    mov al, 2
    GUEST_EXIT_AL

DEFINE_PUTS32

msg_outs:     db "REP OUTSB from 0x1FFFFC, 8 bytes", 10, 0
msg_ins:      db "REP INSB to 0x1FFFFC, 8 bytes", 10, 0
msg_survived: db "FAIL: string I/O outside guest RAM did not end the guest", 10, 0
msg_usage:    db "FAIL: needs cmdline=in or cmdline=out", 10, 0
