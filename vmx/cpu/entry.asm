; VM entry and exit (SDM vol. 3 §28 VM entries, §29 VM exits).
;
; int vmx_enter(struct vcpu_regs *regs, int launched)
;   Loads the guest's general registers and CR2 from *regs and executes VMLAUNCH (first entry)
;   or VMRESUME. Returns 0 after a VM exit (guest registers saved back into *regs), or
;   VMX_FAIL_INVALID (1) / VMX_FAIL_VALID (2) when the instruction itself failed.
;
; HOST_RSP is this stack, with *regs on top, so the exit stub finds where to save the guest's
; registers. It is written only when it differs from regs->host_rsp (what the VMCS holds): the
; run loop enters from the same frame of the vCPU's own host stack, so after the first entry the
; VMWRITE is skipped. HOST_RIP is vmx_exit_stub (set once per VMCS).
bits 64

%define VMCS_HOST_RSP 0x6C14

; struct vcpu_regs layout (vmx/cpu/entry.h): indexed by the x86 register number.
%define R_RAX 0
%define R_RCX 8
%define R_RDX 16
%define R_RBX 24
%define R_RSP 32                    ; unused: the guest's RSP lives in the VMCS
%define R_RBP 40
%define R_RSI 48
%define R_RDI 56
%define R_R8  64
%define R_R9  72
%define R_R10 80
%define R_R11 88
%define R_R12 96
%define R_R13 104
%define R_R14 112
%define R_R15 120
%define R_CR2 128
%define R_HOST_RSP 136
%define R_VMCS 144                  ; uint64_t vmcs[], indexed as VMX_STUB_* (vmx/cpu/entry.h)

; Read by the exit stub, in the order of VMX_STUB_* (SDM vol. 3 Appendix B encodings).
%define VMCS_EXIT_REASON            0x4402
%define VMCS_IDT_VECTORING_INFO     0x4408
%define VMCS_EXIT_INSTRUCTION_LEN   0x440C
%define VMCS_GUEST_RIP              0x681E
%define VMCS_GUEST_RFLAGS           0x6820
%define VMCS_GUEST_INTERRUPTIBILITY 0x4824

global vmx_enter
global vmx_exit_stub
global call_on_stack

section .text
vmx_enter:
    push rbp
    mov rbp, rsp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdi                        ; *regs, found at [HOST_RSP] after an exit

    cmp rsp, [rdi + R_HOST_RSP]
    je .host_rsp_set
    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
    jbe .fail_early                 ; CF or ZF: the VMWRITE failed
    mov [rdi + R_HOST_RSP], rsp
.host_rsp_set:

    mov rax, [rdi + R_CR2]
    mov cr2, rax
    test esi, esi                   ; launched?
    mov rax, [rdi + R_RAX]
    mov rcx, [rdi + R_RCX]
    mov rdx, [rdi + R_RDX]
    mov rbx, [rdi + R_RBX]
    mov rbp, [rdi + R_RBP]
    mov rsi, [rdi + R_RSI]
    mov r8,  [rdi + R_R8]
    mov r9,  [rdi + R_R9]
    mov r10, [rdi + R_R10]
    mov r11, [rdi + R_R11]
    mov r12, [rdi + R_R12]
    mov r13, [rdi + R_R13]
    mov r14, [rdi + R_R14]
    mov r15, [rdi + R_R15]
    mov rdi, [rdi + R_RDI]          ; last: it held the pointer (MOV leaves flags alone)
    jnz .resume
    vmlaunch
    jmp .failed
.resume:
    vmresume
.failed:
    ; Still in hv with the guest's registers loaded: recover our pointer and report.
    setc al
    setz bl
    mov rdi, [rsp]
    movzx eax, al
    movzx ebx, bl
    lea eax, [eax + ebx * 2]        ; CF -> 1 (VMfailInvalid), ZF -> 2 (VMfailValid)
    jmp .out

.fail_early:
    setc al
    setz bl
    movzx eax, al
    movzx ebx, bl
    lea eax, [eax + ebx * 2]
.out:
    add rsp, 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; void call_on_stack(void (*fn)(void *), void *arg, void *stack_top)
; Runs fn(arg) on another stack (a vCPU's host stack), then returns on this one. RBP keeps the
; frame chain, so a backtrace from inside fn still reaches the caller.
call_on_stack:
    push rbp
    mov rbp, rsp
    mov rsp, rdx
    mov rax, rdi
    mov rdi, rsi
    call rax
    mov rsp, rbp
    pop rbp
    ret

; The CPU arrives here on every VM exit, with RSP = HOST_RSP and the guest's registers live.
vmx_exit_stub:
    push rdi                        ; guest RDI
    mov rdi, [rsp + 8]              ; *regs
    mov [rdi + R_RAX], rax
    mov [rdi + R_RCX], rcx
    mov [rdi + R_RDX], rdx
    mov [rdi + R_RBX], rbx
    mov [rdi + R_RBP], rbp
    mov [rdi + R_RSI], rsi
    mov [rdi + R_R8],  r8
    mov [rdi + R_R9],  r9
    mov [rdi + R_R10], r10
    mov [rdi + R_R11], r11
    mov [rdi + R_R12], r12
    mov [rdi + R_R13], r13
    mov [rdi + R_R14], r14
    mov [rdi + R_R15], r15
    pop rax
    mov [rdi + R_RDI], rax
    mov rax, cr2
    mov [rdi + R_CR2], rax
    ; The fields every exit uses, once each (VMREAD zero-extends a 32-bit field). They cannot
    ; fail: this CPU's VMCS is current and the encodings exist on every VMX CPU.
    mov eax, VMCS_EXIT_REASON
    vmread [rdi + R_VMCS + 0 * 8], rax
    mov eax, VMCS_IDT_VECTORING_INFO
    vmread [rdi + R_VMCS + 1 * 8], rax
    mov eax, VMCS_EXIT_INSTRUCTION_LEN
    vmread [rdi + R_VMCS + 2 * 8], rax
    mov eax, VMCS_GUEST_RIP
    vmread [rdi + R_VMCS + 3 * 8], rax
    mov eax, VMCS_GUEST_RFLAGS
    vmread [rdi + R_VMCS + 4 * 8], rax
    mov eax, VMCS_GUEST_INTERRUPTIBILITY
    vmread [rdi + R_VMCS + 5 * 8], rax
    xor eax, eax
    jmp vmx_enter.out
