; modreader: reads the modules hv hands it (data modules with initrd-for=NAME, docs/guest-abi.md
; §4) from the Multiboot 1 information and prints, for each, its string and its contents:
;   modreader: N module(s)
;   module I: string 'STRING', 0xSTART-0xEND
;   ...the module's bytes, as text...
;   module I: end
; Checks what §4 promises: flag bit 3 set, every module page-aligned, at or above 1 MiB and past
; this guest's own image, in order without overlap. Ends exit(0) (PASS) or exit(1) (FAIL).
bits 32
%include "guest.inc"

%define PAGE_MASK  0xFFF
%define MODULE_MIN 0x100000         ; modules load at or above 1 MiB

extern _end                         ; end of the image (.bss included), from the linker

section .text
global _start
_start:
    mov esp, stack_top
    cmp eax, MB1_MAGIC
    jne .fail
    test dword [ebx + MB1_INFO_FLAGS], MB1_FLAG_MODS
    jz .fail
    mov ecx, [ebx + MB1_INFO_MODS_COUNT]
    mov edi, [ebx + MB1_INFO_MODS_ADDR]
    PUTS msg_title
    mov eax, ecx
    call putdec32
    PUTS msg_count
    mov ebp, _end                   ; lowest address the next module may start at
    xor edx, edx                    ; module number
.module:
    test ecx, ecx
    jz .pass
    call show_module
    jc .fail
    add edi, MB1_MOD_BYTES
    inc edx
    dec ecx
    jmp .module
.pass:
    PUTS msg_pass
    mov al, 0
    GUEST_EXIT_AL
.fail:
    PUTS msg_fail
    mov al, 1
    GUEST_EXIT_AL

; show_module: EDI = the module-list entry, EDX = its number, EBP = where the previous one ended.
; Prints it and advances EBP; CF=1 when the placement breaks §4.
show_module:
    pushad
    PUTS msg_module
    mov eax, edx
    call putdec32
    PUTS msg_string
    PUTS [edi + MB1_MOD_STRING]
    PUTS msg_range
    mov eax, [edi + MB1_MOD_START]
    call puthex32
    PUTS msg_dash
    mov eax, [edi + MB1_MOD_END]
    call puthex32
    PUTS msg_nl
    mov esi, [edi + MB1_MOD_START]
    mov ecx, [edi + MB1_MOD_END]
    test esi, PAGE_MASK
    jnz .bad
    cmp esi, MODULE_MIN
    jb .bad
    cmp esi, ebp
    jb .bad
    sub ecx, esi
    jb .bad
    call putn32
    PUTS msg_module
    mov eax, edx
    call putdec32
    PUTS msg_end
    mov eax, [edi + MB1_MOD_END]
    mov [esp + 8], eax              ; the saved EBP (pushad order: EDI ESI EBP ...)
    popad
    clc
    ret
.bad:
    popad
    stc
    ret

; putn32: writes ECX bytes from ESI to COM1, then a newline unless the last byte was one.
putn32:
    pushad
    mov dx, COM1
    mov al, 10
.next:
    test ecx, ecx
    jz .done
    lodsb
    out dx, al
    dec ecx
    jmp .next
.done:
    cmp al, 10
    je .ret
    mov al, 10
    out dx, al
.ret:
    popad
    ret

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PUTDEC32

section .rodata
msg_title:  db "modreader: ", 0
msg_count:  db " module(s)", 10, 0
msg_module: db "module ", 0
msg_string: db ": string '", 0
msg_range:  db "', ", 0
msg_dash:   db "-", 0
msg_end:    db ": end", 10, 0
msg_nl:     db 10, 0
msg_pass:   db "modreader: PASS", 10, 0
msg_fail:   db "modreader: FAIL", 10, 0

section .bss
align 16
    resb 4096
stack_top:
