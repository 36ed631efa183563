; Exception entry stubs: make every vector's stack look the same (error code, vector), save the
; general registers into a struct trap_frame and call trap_dispatch (kernel/trap.c).
bits 64
extern trap_dispatch
global isr_table

%macro ISR_NOERR 1
isr_%1:
    push 0
    push %1
    jmp isr_common
%endmacro

%macro ISR_ERR 1                    ; the CPU pushed an error code already
isr_%1:
    push %1
    jmp isr_common
%endmacro

section .text
%assign v 0
%rep 32
%if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
    ISR_ERR v
%else
    ISR_NOERR v
%endif
%assign v v + 1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    call trap_dispatch
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                     ; vector and error code
    iretq

; hv's own interrupts (kernel/smp.h): they only end an idle CPU's HLT; trap_dispatch EOIs them.
%define SMP_TIMER_VECTOR 0xF1
%define SMP_KICK_VECTOR  0xF2
global isr_smp_timer, isr_smp_kick
isr_smp_timer:
    push 0
    push SMP_TIMER_VECTOR
    jmp isr_common
isr_smp_kick:
    push 0
    push SMP_KICK_VECTOR
    jmp isr_common

section .rodata
align 8
isr_table:
%assign v 0
%rep 32
    dq isr_ %+ v
%assign v v + 1
%endrep
