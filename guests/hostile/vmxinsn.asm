; vmxinsn: executes each VMX instruction (VMXON, VMCLEAR, VMPTRLD, VMREAD, VMWRITE, VMLAUNCH,
; VMRESUME, VMXOFF, INVEPT, INVVPID). hv offers no nested VMX, so each must raise #UD; the
; IDT handler counts it and resumes after the instruction (PROBE). Ends exit(0) when all ten
; raised #UD and nothing else, else exit(1).
bits 32
%include "guest.inc"

%define VMX_INSNS 10

section .text
global _start
_start:
    mov esp, stack_top
    LOAD_FLAT_GDT
    call idt_install_exceptions
    call idt_load
    ; plausible operands: a zeroed, page-aligned region and descriptors
    mov eax, vmx_region
    mov [region_ptr], eax
    xor eax, eax
    xor ebx, ebx

    PROBE vmxon [region_ptr]
    PROBE vmclear [region_ptr]
    PROBE vmptrld [region_ptr]
    PROBE vmread eax, ebx
    PROBE vmwrite ebx, eax
    PROBE vmlaunch
    PROBE vmresume
    PROBE vmxoff
    mov eax, 1                      ; single-context
    PROBE invept eax, [invept_desc]
    PROBE invvpid eax, [invvpid_desc]

    PUTS msg_ud
    mov eax, [fault_counts + VEC_UD * 4]
    call putdec32
    PUTS msg_all
    mov eax, [fault_count]
    call putdec32
    PUTS msg_nl
    cmp dword [fault_counts + VEC_UD * 4], VMX_INSNS
    jne .fail
    cmp dword [fault_count], VMX_INSNS
    EXIT_FAIL_IF ne, .fail

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PUTDEC32
DEFINE_FLAT_GDT
DEFINE_IDT

section .rodata
msg_ud:   db "#UD raised ", 0
msg_all:  db ", exceptions in all ", 0
msg_nl:   db 10, 0
msg_pass: db "PASS: every VMX instruction raised #UD", 10, 0
msg_fail: db "FAIL: expected 10 #UD and no other exception", 10, 0

section .data
align 16
invept_desc:  dq 0, 0               ; EPTP 0
invvpid_desc: dq 1, 0               ; VPID 1, linear address 0
region_ptr:   dq 0

section .bss
alignb 4096
vmx_region: resb 4096
alignb 16
    resb 4096
stack_top:
