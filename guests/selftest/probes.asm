; selftest probes: single instructions at known addresses (st_insn_NAME), so a test can check
; the RIP of the exception hv injects (a fault reports the faulting instruction, SDM vol. 3
; §6.5), plus the CPL 3 entry, a register-capturing exception handler and a register-preservation
; check for VMCALL. Declarations: selftest.h.
bits 64

%define SEL_DATA          0x10
%define SEL_USER_DATA     0x33
%define SEL_USER_CODE     0x3B
%define RFLAGS_RESERVED1  0x2
%define MSR_UNKNOWN       0x12345
%define HC_UNKNOWN        0x7FFF1234

section .text

; st_probe_NAME(arg in RDI): optional setup, then the instruction at st_insn_NAME, then ret.
%macro PROBE 1
global st_probe_%1, st_insn_%1
st_probe_%1:
%endmacro
%macro INSN 1
st_insn_%1:
%endmacro

PROBE vmxon
    lea rdi, [rel probe_scratch]
INSN vmxon
    vmxon [rdi]
    ret

PROBE vmclear
    lea rdi, [rel probe_scratch]
INSN vmclear
    vmclear [rdi]
    ret

PROBE vmptrld
    lea rdi, [rel probe_scratch]
INSN vmptrld
    vmptrld [rdi]
    ret

PROBE vmptrst
    lea rdi, [rel probe_scratch]
INSN vmptrst
    vmptrst [rdi]
    ret

PROBE vmread
    xor ecx, ecx
INSN vmread
    vmread rax, rcx
    ret

PROBE vmwrite
    xor eax, eax
    xor ecx, ecx
INSN vmwrite
    vmwrite rcx, rax
    ret

PROBE vmlaunch
INSN vmlaunch
    vmlaunch
    ret

PROBE vmresume
INSN vmresume
    vmresume
    ret

PROBE vmxoff
INSN vmxoff
    vmxoff
    ret

PROBE invept
    lea rdi, [rel probe_scratch]
    mov eax, 1                      ; single-context
INSN invept
    invept rax, [rdi]
    ret

PROBE invvpid
    lea rdi, [rel probe_scratch]
    mov eax, 1                      ; single-context
INSN invvpid
    invvpid rax, [rdi]
    ret

PROBE vmfunc
    xor eax, eax                    ; function 0: EPTP switching
    xor ecx, ecx
INSN vmfunc
    vmfunc
    ret

PROBE getsec
    xor eax, eax                    ; CAPABILITIES
INSN getsec
    getsec
    ret

PROBE monitor
    lea rax, [rel probe_scratch]
    xor ecx, ecx
    xor edx, edx
INSN monitor
    monitor
    ret

PROBE mwait
    xor eax, eax
    xor ecx, ecx
INSN mwait
    mwait
    ret

PROBE wrmsr_unknown
    mov ecx, MSR_UNKNOWN
    xor eax, eax
    xor edx, edx
INSN wrmsr_unknown
    wrmsr
    ret

PROBE rdmsr_unknown
    mov ecx, MSR_UNKNOWN
INSN rdmsr_unknown
    rdmsr
    ret

; st_probe_xsetbv(struct st_xcr_arg *): XCR index at +0, value at +8.
PROBE xsetbv
    mov ecx, [rdi]
    mov eax, [rdi + 8]
    mov edx, [rdi + 12]
INSN xsetbv
    xsetbv
    ret

; st_probe_xgetbv(struct st_xcr_arg *): reads XCR[index] into value.
PROBE xgetbv
    mov ecx, [rdi]
INSN xgetbv
    xgetbv
    mov [rdi + 8], eax
    mov [rdi + 12], edx
    ret

; st_probe_mov_cr4(uint64_t *value), st_probe_mov_cr0(uint64_t *value)
PROBE mov_cr4
    mov rax, [rdi]
INSN mov_cr4
    mov cr4, rax
    ret

PROBE mov_cr0
    mov rax, [rdi]
INSN mov_cr0
    mov cr0, rax
    ret

; Native accesses that fault on their own (no exit): the CPU's #PF for comparison.
PROBE read_dword
INSN read_dword
    mov eax, [rdi]
    ret

PROBE write_dword
    xor eax, eax
INSN write_dword
    mov [rdi], eax
    ret

PROBE wbinvd
INSN wbinvd
    wbinvd
    ret

PROBE invd
INSN invd
    invd
    ret

; An IDT handler: records RSI, RDI and RCX as the exception left them, then continues in the
; runtime's own stub for the vector (which unwinds to g_try).
global st_capture_isr
st_capture_isr:
    mov [rel st_captured_regs], rsi
    mov [rel st_captured_regs + 8], rdi
    mov [rel st_captured_regs + 16], rcx
    jmp [rel st_chain_handler]

; A #DB handler that counts the traps and returns to the trapping code (single-step is a trap:
; the saved RIP is the next instruction, or the REP instruction itself between iterations).
global st_count_db
st_count_db:
    inc qword [rel st_db_count]
    iretq

; st_enter_user(struct st_user_ctx *ctx): IRETQ to CPL 3 at ctx->rip, stack ctx->rsp, IF=0.
global st_enter_user
st_enter_user:
    push SEL_USER_DATA
    push qword [rdi + 8]
    push RFLAGS_RESERVED1
    push SEL_USER_CODE
    push qword [rdi]
    iretq

; CPL 3 code: a CPUID (exits, hv answers at any CPL), then a VMCALL that must raise #UD. If the
; VMCALL returns instead, INT3 through a DPL 0 gate raises #GP: the test tells them apart.
global st_user_code, st_insn_user_vmcall
st_user_code:
    xor eax, eax
    xor ecx, ecx
    cpuid
    mov [rel st_user_cpuid_ebx], ebx
    mov eax, HC_UNKNOWN
st_insn_user_vmcall:
    vmcall
    int3
.hang:
    jmp .hang

global st_reload_segments
st_reload_segments:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    ret

; uint32_t st_vmcall_clobbers(void): VMCALL with an unknown number returns -1 in RAX only; every
; other register must keep its value (docs/guest-abi.md §6: the result is in RAX).
%define NPAT 14
global st_vmcall_clobbers
st_vmcall_clobbers:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov rbx, 0x1111111111111111
    mov rcx, 0x2222222222222222
    mov rdx, 0x3333333333333333
    mov rsi, 0x4444444444444444
    mov rdi, 0x5555555555555555
    mov rbp, 0x6666666666666666
    mov r8,  0x7777777777777777
    mov r9,  0x8888888888888888
    mov r10, 0x9999999999999999
    mov r11, 0xAAAAAAAAAAAAAAAA
    mov r12, 0xBBBBBBBBBBBBBBBB
    mov r13, 0xCCCCCCCCCCCCCCCC
    mov r14, 0xDDDDDDDDDDDDDDDD
    mov r15, 0xEEEEEEEEEEEEEEEE
    mov eax, HC_UNKNOWN
    vmcall
    mov [rel regs_after], rbx
    mov [rel regs_after + 8], rcx
    mov [rel regs_after + 16], rdx
    mov [rel regs_after + 24], rsi
    mov [rel regs_after + 32], rdi
    mov [rel regs_after + 40], rbp
    mov [rel regs_after + 48], r8
    mov [rel regs_after + 56], r9
    mov [rel regs_after + 64], r10
    mov [rel regs_after + 72], r11
    mov [rel regs_after + 80], r12
    mov [rel regs_after + 88], r13
    mov [rel regs_after + 96], r14
    mov [rel regs_after + 104], r15
    xor eax, eax                    ; result mask
    xor ecx, ecx                    ; register index
    mov rdx, 0x1111111111111111     ; expected pattern of register n: (n + 1) * 0x1111...
    lea rsi, [rel regs_after]
.compare:
    cmp [rsi + rcx * 8], rdx
    je .same
    bts eax, ecx
.same:
    mov rdi, 0x1111111111111111
    add rdx, rdi
    inc ecx
    cmp ecx, NPAT
    jb .compare
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

section .data
align 8
global st_captured_regs, st_chain_handler, st_user_cpuid_ebx
st_captured_regs: dq 0, 0, 0
global st_db_count
st_db_count: dq 0
st_chain_handler: dq 0
st_user_cpuid_ebx: dd 0

section .bss
alignb 8
regs_after: resq NPAT
alignb 4096
probe_scratch: resb 4096
