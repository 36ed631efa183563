; crvmxe: tries to turn on VMX inside the guest and to load a garbage XCR0.
;  - MOV CR4 with CR4.VMXE set must raise #GP (hv hides VMX) and CR4.VMXE must read 0 after;
;  - with CR4.OSXSAVE set (when CPUID offers XSAVE), XSETBV of garbage must raise #GP:
;    every bit set, x87 cleared, AVX without SSE, and XCR index 1; then XCR0 = x87 must
;    load and XGETBV must return it.
; Ends exit(0) when every step behaved, else prints what did not and ends exit(1).
bits 32
%include "guest.inc"

%define CR4_VMXE        (1 << 13)
%define CR4_OSXSAVE     (1 << 18)
%define CPUID_1_XSAVE   (1 << 26)  ; CPUID.1:ECX
%define XCR0_X87        1
%define XCR0_AVX        4
%define XCR_INDEX_XCR0  0
%define XCR_INDEX_BAD   1

; XSETBV_EXPECT_GP index, high, low, message: XSETBV must raise #GP.
%macro XSETBV_EXPECT_GP 4
    mov ecx, %1
    mov edx, %2
    mov eax, %3
    mov ebx, [fault_counts + VEC_GP * 4]
    PROBE xsetbv
    cmp ebx, [fault_counts + VEC_GP * 4]
    jne %%ok
    PUTS %4
    inc dword [count_bad]
%%ok:
%endmacro

section .text
global _start
_start:
    mov esp, stack_top
    LOAD_FLAT_GDT
    call idt_install_exceptions
    call idt_load

    ; ---- CR4.VMXE
    mov eax, cr4
    or eax, CR4_VMXE
    PROBE mov cr4, eax
    cmp dword [fault_counts + VEC_GP * 4], 1
    je .vmxe_faulted
    PUTS msg_vmxe_no_gp
    inc dword [count_bad]
.vmxe_faulted:
    mov eax, cr4
    test eax, CR4_VMXE
    jz .vmxe_clear
    PUTS msg_vmxe_set
    inc dword [count_bad]
.vmxe_clear:
    PUTS msg_vmxe_done

    ; ---- XCR0
    mov eax, 1
    cpuid
    test ecx, CPUID_1_XSAVE
    jnz .has_xsave
    PUTS msg_no_xsave               ; nothing more to try: count it as a failure, the
    inc dword [count_bad]           ; CPU models hv is tested on all have XSAVE
    jmp .report
.has_xsave:
    mov eax, cr4
    or eax, CR4_OSXSAVE
    mov ebx, [fault_count]
    PROBE mov cr4, eax
    cmp ebx, [fault_count]
    je .osxsave_on
    PUTS msg_osxsave_gp
    inc dword [count_bad]
    jmp .report
.osxsave_on:
    XSETBV_EXPECT_GP XCR_INDEX_XCR0, 0xFFFFFFFF, 0xFFFFFFFF, msg_all_ones
    XSETBV_EXPECT_GP XCR_INDEX_XCR0, 0, 0, msg_no_x87
    XSETBV_EXPECT_GP XCR_INDEX_XCR0, 0, XCR0_X87 | XCR0_AVX, msg_avx_no_sse
    XSETBV_EXPECT_GP XCR_INDEX_XCR0, 0x80000000, XCR0_X87, msg_high_bit
    XSETBV_EXPECT_GP XCR_INDEX_BAD, 0, XCR0_X87, msg_bad_index
    ; a valid value loads
    mov ecx, XCR_INDEX_XCR0
    xor edx, edx
    mov eax, XCR0_X87
    mov ebx, [fault_count]
    PROBE xsetbv
    cmp ebx, [fault_count]
    je .valid_loaded
    PUTS msg_valid_gp
    inc dword [count_bad]
    jmp .report
.valid_loaded:
    mov ecx, XCR_INDEX_XCR0
    PROBE xgetbv
    cmp eax, XCR0_X87
    jne .xgetbv_wrong
    test edx, edx
    jz .report
.xgetbv_wrong:
    PUTS msg_xgetbv
    call puthex32
    PUTS msg_nl
    inc dword [count_bad]

.report:
    PUTS msg_gp_count
    mov eax, [fault_counts + VEC_GP * 4]
    call putdec32
    PUTS msg_nl
    cmp dword [count_bad], 0
    jne .fail
    PUTS msg_pass
    mov al, 0
    GUEST_EXIT_AL
.fail:
    mov al, 1
    GUEST_EXIT_AL

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PUTDEC32
DEFINE_FLAT_GDT
DEFINE_IDT

section .rodata
msg_vmxe_no_gp: db "FAIL: setting CR4.VMXE did not raise #GP", 10, 0
msg_vmxe_set:   db "FAIL: CR4.VMXE reads as set", 10, 0
msg_vmxe_done:  db "CR4.VMXE refused", 10, 0
msg_no_xsave:   db "FAIL: CPUID offers no XSAVE, cannot test XCR0", 10, 0
msg_osxsave_gp: db "FAIL: setting CR4.OSXSAVE faulted although CPUID offers XSAVE", 10, 0
msg_all_ones:   db "FAIL: XSETBV XCR0 = all ones did not raise #GP", 10, 0
msg_no_x87:     db "FAIL: XSETBV XCR0 = 0 (no x87) did not raise #GP", 10, 0
msg_avx_no_sse: db "FAIL: XSETBV XCR0 = x87|AVX (no SSE) did not raise #GP", 10, 0
msg_high_bit:   db "FAIL: XSETBV XCR0 with bit 63 did not raise #GP", 10, 0
msg_bad_index:  db "FAIL: XSETBV of XCR1 did not raise #GP", 10, 0
msg_valid_gp:   db "FAIL: XSETBV XCR0 = x87 raised an exception", 10, 0
msg_xgetbv:     db "FAIL: XGETBV after XCR0 = x87 gave ", 0
msg_gp_count:   db "#GP raised ", 0
msg_pass:       db "PASS: CR4.VMXE and bad XCR0 values refused", 10, 0
msg_nl:         db 10, 0

section .bss
alignb 4
count_bad: resd 1
alignb 16
    resb 4096
stack_top:
