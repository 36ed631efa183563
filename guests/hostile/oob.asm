; oob: one access to a guest-physical address outside guest RAM, given on the command line as
; cmdline=R:0xADDR (read a dword), W:0xADDR (write one) or X:0xADDR (jump there: an instruction
; fetch). hv must end the guest with `killed(EPT violation at GPA 0xADDR R|W|X)`. Everything
; lives in .text so the image fits in one page: with mem=1028K the guest owns GPA [0, 0x101000)
; and can aim at hv's own physical addresses (hv's image sits at host 1 MiB, just above this
; guest's RAM). Uses the entry stack (ESP = 0x9FC00, in RAM). Prints FAIL and ends exit(1) if
; the access does not end it.
bits 32
%include "guest.inc"

section .text
global _start
_start:
    MB1_CMDLINE_OR usage
    mov bl, [esi]                   ; the access: R, W or X (EBX is not needed any more)
    cmp byte [esi + 1], ':'
    jne usage
    add esi, 2
    call parse_hex
    jc usage
    mov edi, eax
    PUTS msg_try
    mov al, bl
    call putc32
    PUTS msg_at
    mov eax, edi
    call puthex32
    PUTS msg_nl
    cmp bl, 'R'
    je .read
    cmp bl, 'W'
    je .write
    cmp bl, 'X'
    jne usage
    call edi                        ; instruction fetch outside RAM
    jmp survived
.read:
    mov eax, [edi]                  ; data read outside RAM
    jmp survived
.write:
    mov dword [edi], 0x0BADC0DE     ; data write outside RAM

survived:
    PUTS msg_survived               ; hv let the access through: a bug
    mov al, 1
    GUEST_EXIT_AL

usage:
    PUTS msg_usage
    mov al, 2
    GUEST_EXIT_AL

putc32:
    mov dx, COM1
    out dx, al
    ret

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PARSE_HEX

msg_try:      db "access ", 0
msg_at:       db " at GPA ", 0
msg_nl:       db 10, 0
msg_survived: db "FAIL: the access outside guest RAM did not end the guest", 10, 0
msg_usage:    db "FAIL: needs cmdline=R:0xADDR, W:0xADDR or X:0xADDR", 10, 0
