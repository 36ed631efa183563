; excstorm: exception storms inside the guest, none of which hv intercepts:
;  1. UD2 whose #UD handler returns to the same UD2 UD_STORM times (then skips it);
;  2. INT3 whose #BP handler executes INT3 again, nesting BP_NEST deep before unwinding;
;  3. DIV by zero whose #DE handler returns to the same DIV DE_STORM times.
; Ends exit(0) when every counter reached its target (hv stayed out of the way and the
; neighbours still ran), else exit(1).
bits 32
%include "guest.inc"

%define UD2_BYTES 2
%define DIV_BYTES 2                 ; div ecx
%define UD_STORM  5000
%define BP_NEST   1000
%define DE_STORM  5000

section .text
global _start
_start:
    mov esp, stack_top
    LOAD_FLAT_GDT
    call idt_install_exceptions
    mov eax, VEC_UD
    mov edx, ud_handler
    call idt_set_gate
    mov eax, VEC_BP
    mov edx, bp_handler
    call idt_set_gate
    mov eax, VEC_DE
    mov edx, de_handler
    call idt_set_gate
    call idt_load

    ud2
    int3
    xor ecx, ecx
    xor edx, edx
    mov eax, 1
    div ecx

    PUTS msg_ud
    mov eax, [ud_count]
    call putdec32
    PUTS msg_bp
    mov eax, [bp_count]
    call putdec32
    PUTS msg_bp_depth
    mov eax, [bp_max_depth]
    call putdec32
    PUTS msg_de
    mov eax, [de_count]
    call putdec32
    PUTS msg_nl
    cmp dword [ud_count], UD_STORM
    jne .fail
    cmp dword [bp_count], BP_NEST
    jne .fail
    cmp dword [bp_max_depth], BP_NEST
    jne .fail
    cmp dword [de_count], DE_STORM
    jne .fail
    cmp dword [bp_depth], 0
    jne .fail
    cmp dword [fault_count], 0      ; no other exception reached the default handlers
    EXIT_FAIL_IF ne, .fail

; #UD (a fault: EIP points at the UD2): return to it until the storm is over, then skip it.
ud_handler:
    inc dword [ud_count]
    cmp dword [ud_count], UD_STORM
    jb .again
    add dword [esp], UD2_BYTES
.again:
    iret

; #BP (a trap: EIP is past the INT3): raise it again from inside the handler, BP_NEST deep.
bp_handler:
    inc dword [bp_count]
    inc dword [bp_depth]
    mov eax, [bp_depth]
    cmp eax, [bp_max_depth]
    jbe .deeper
    mov [bp_max_depth], eax
.deeper:
    cmp dword [bp_count], BP_NEST
    jae .unwind
    int3
.unwind:
    dec dword [bp_depth]
    iret

; #DE (a fault): return to the DIV until the storm is over, then skip it.
de_handler:
    inc dword [de_count]
    cmp dword [de_count], DE_STORM
    jb .again
    add dword [esp], DIV_BYTES
.again:
    iret

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PUTDEC32
DEFINE_FLAT_GDT
DEFINE_IDT

section .rodata
msg_ud:       db "#UD ", 0
msg_bp:       db ", #BP ", 0
msg_bp_depth: db " (nested ", 0
msg_de:       db " deep), #DE ", 0
msg_nl:       db 10, 0
msg_pass:     db "PASS: exception storms survived", 10, 0
msg_fail:     db "FAIL: an exception storm went wrong", 10, 0

section .bss
alignb 4
ud_count:     resd 1
bp_count:     resd 1
bp_depth:     resd 1
bp_max_depth: resd 1
de_count:     resd 1
alignb 16
    resb 32768                      ; BP_NEST frames of 12 bytes, with room to spare
stack_top:
