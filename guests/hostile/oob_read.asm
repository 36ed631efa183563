; oob_read: reads a dword at the guest-physical address given as its command line
; (cmdline=0xADDR), which must lie outside guest RAM: hv must end the guest with
; `killed(EPT violation at GPA 0xADDR R)`. Everything lives in .text so the image fits in
; one page: with mem=1028K the guest owns GPA [0, 0x101000) and can aim at hv's own physical
; addresses (hv's image sits at host 1 MiB, just above this guest's RAM). Uses the entry
; stack (ESP = 0x9FC00, in RAM). Prints FAIL and ends exit(1) if the access does not end it.
bits 32
%include "guest.inc"

section .text
global _start
_start:
    MB1_CMDLINE_OR no_address
    call parse_hex
    jc no_address
    mov edi, eax
    PUTS msg_try
    mov eax, edi
    call puthex32
    PUTS msg_nl
    mov eax, [edi]                  ; data read outside RAM
    PUTS msg_survived               ; hv let the access through: a bug
    mov al, 1
    GUEST_EXIT_AL

no_address:
    PUTS msg_usage
    mov al, 2
    GUEST_EXIT_AL

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PARSE_HEX

msg_try:      db "reads a dword at GPA ", 0
msg_nl:       db 10, 0
msg_survived: db "FAIL: the access outside guest RAM did not end the guest", 10, 0
msg_usage:    db "FAIL: needs cmdline=0xADDR", 10, 0
