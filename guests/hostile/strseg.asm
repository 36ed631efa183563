; strseg: INS/OUTS must make the segment checks the CPU makes before the I/O exit is taken
; (SDM vol. 3 §26.1.1: the exit comes first, so hv owes them; issue 16 item 5). In 32-bit
; protected mode, on an unclaimed port, each check expects #GP(0) or no fault:
;   - OUTSB through a byte-granular data segment (limit 0xFFF): offset 0xFFF passes, 0x1000
;     faults, OUTSW at 0xFFF (the word straddles the limit) faults;
;   - REP OUTSB from 0xFFE with ECX=4 faults after two iterations (ECX=2, ESI=0x1000 kept);
;   - an expand-down segment (limit 0xFFF, B=1): offset 0x800 faults, 0x2000 passes;
;   - INSB through a read-only ES and through a NULL ES faults; through a writable ES passes.
; OUTS reaches its segment through an FS override, so the exception handler's DS stays flat.
; Prints one line per check and ends exit(0) when all hold, else exit(1).
bits 32
%include "guest.inc"

%define SCRATCH_PORT 0x2F8          ; COM2: unclaimed
%define SMALL_SEL    0x18           ; data, read/write, base 0, limit 0xFFF (G=0)
%define RO_SEL       0x20           ; data, read-only, flat
%define DOWN_SEL     0x28           ; data, read/write, expand-down, limit 0xFFF, B=1
%define NO_FAULT     -1

; CHECK expected, name, setup, instruction: runs setup, then the instruction under PROBE,
; then `check` with EAX = the expected vector (NO_FAULT: none) and ESI = the name.
%macro CHECK 4
    mov dword [fault_count], 0
    %3
    PROBE %4
    mov eax, %1
    mov esi, %2
    call check
%endmacro

section .text
global _start
_start:
    mov esp, stack_top
    lgdt [seg_gdtr]
    jmp FLAT_CODE_SEL:.flat
.flat:
    mov ax, FLAT_DATA_SEL
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    call idt_install_exceptions
    call idt_load
    cld
    mov dx, SCRATCH_PORT

    mov ax, SMALL_SEL
    mov fs, ax
    CHECK NO_FAULT, c_limit_in, {mov esi, 0xFFF}, {fs outsb}
    CHECK VEC_GP, c_limit_out, {mov esi, 0x1000}, {fs outsb}
    CHECK VEC_GP, c_limit_word, {mov esi, 0xFFF}, {fs outsw}
    mov dword [fault_count], 0
    mov esi, 0xFFE
    mov ecx, 4
    PROBE fs rep outsb
    cmp ecx, 2
    jne .rep_bad
    cmp esi, 0x1000
    jne .rep_bad
    mov eax, VEC_GP
    mov esi, c_rep
    call check
    jmp .rep_done
.rep_bad:
    mov esi, msg_rep_bad
    call puts32
    inc dword [failures]
.rep_done:

    mov ax, DOWN_SEL
    mov fs, ax
    CHECK VEC_GP, c_down_low, {mov esi, 0x800}, {fs outsb}
    CHECK NO_FAULT, c_down_high, {mov esi, 0x2000}, {fs outsb}

    mov ax, RO_SEL
    mov es, ax
    CHECK VEC_GP, c_ins_readonly, {mov edi, scratch}, {insb}
    xor eax, eax
    mov es, ax
    CHECK VEC_GP, c_ins_null, {mov edi, scratch}, {insb}
    mov ax, FLAT_DATA_SEL
    mov es, ax
    CHECK NO_FAULT, c_ins_flat, {mov edi, scratch}, {insb}

    mov ax, FLAT_DATA_SEL
    mov fs, ax
    cmp dword [failures], 0
    EXIT_FAIL_IF ne, .fail

; EAX = expected vector or NO_FAULT, ESI = the check's name: prints "ok NAME" or a FAIL line.
check:
    pushad
    cmp eax, NO_FAULT
    je .none
    cmp dword [fault_count], 1
    jne .bad
    cmp [fault_vector], eax
    jne .bad
    cmp dword [fault_error], 0
    jne .bad
    jmp .good
.none:
    cmp dword [fault_count], 0
    jne .bad
.good:
    push esi
    mov esi, msg_ok
    call puts32
    pop esi
    call puts32
    mov esi, msg_nl
    call puts32
    popad
    ret
.bad:
    inc dword [failures]
    push esi
    mov esi, msg_bad
    call puts32
    pop esi
    call puts32
    mov esi, msg_faults
    call puts32
    mov eax, [fault_count]
    call puthex32
    mov esi, msg_vector
    call puts32
    mov eax, [fault_vector]
    call puthex32
    mov esi, msg_nl
    call puts32
    popad
    ret

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_IDT

section .rodata
align 8
seg_gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08 code: flat, 32-bit, execute/read
    dq 0x00CF92000000FFFF           ; 0x10 data: flat, read/write
    dq 0x0040920000000FFF           ; 0x18 data: read/write, limit 0xFFF, byte granular
    dq 0x00CF90000000FFFF           ; 0x20 data: read-only, flat
    dq 0x0040960000000FFF           ; 0x28 data: read/write, expand-down, limit 0xFFF, B=1
seg_gdt_end:
seg_gdtr:
    dw seg_gdt_end - seg_gdt - 1
    dd seg_gdt

c_limit_in:     db "OUTSB at the limit (0xFFF)", 0
c_limit_out:    db "OUTSB past the limit (0x1000): #GP(0)", 0
c_limit_word:   db "OUTSW straddling the limit (0xFFF): #GP(0)", 0
c_rep:          db "REP OUTSB over the limit: #GP(0) after 2 of 4, ECX=2 ESI=0x1000", 0
c_down_low:     db "OUTSB below an expand-down limit (0x800): #GP(0)", 0
c_down_high:    db "OUTSB above an expand-down limit (0x2000)", 0
c_ins_readonly: db "INSB through a read-only ES: #GP(0)", 0
c_ins_null:     db "INSB through a NULL ES: #GP(0)", 0
c_ins_flat:     db "INSB through a writable ES", 0
msg_ok:         db "ok ", 0
msg_bad:        db "FAIL ", 0
msg_faults:     db ": faults ", 0
msg_vector:     db ", last vector ", 0
msg_rep_bad:    db "FAIL REP OUTSB over the limit: ECX or ESI not left at the faulting element", 10, 0
msg_nl:         db 10, 0
msg_pass:       db "PASS: string I/O makes the CPU's segment checks", 10, 0
msg_fail:       db "FAIL: a string I/O segment check is missing", 10, 0

section .bss
alignb 4
failures: resd 1
scratch:  resd 1
alignb 16
resb 4096
stack_top:
