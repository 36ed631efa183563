/* VM entry and exit (vmx/cpu/entry.asm): the guest register file the entry code loads and saves,
   and the entry points. */
#pragma once
#include <stdint.h>

/* Guest general registers, indexed by the x86 register number (0 RAX ... 15 R15) so exit
   qualifications can name them directly. Slot 4 (RSP) is unused: RSP lives in the VMCS.
   vmx/cpu/entry.asm depends on this layout. */
enum {
    REG_RAX,
    REG_RCX,
    REG_RDX,
    REG_RBX,
    REG_RSP,
    REG_RBP,
    REG_RSI,
    REG_RDI,
    REG_R8,
    REG_R9,
    REG_R10,
    REG_R11,
    REG_R12,
    REG_R13,
    REG_R14,
    REG_R15,
    REG_COUNT
};

struct vcpu_regs {
    uint64_t gpr[REG_COUNT];
    uint64_t cr2;
};

/* Entry assembly: 0 after a VM exit, else the vmx_status of the failed VMLAUNCH/VMRESUME. */
int vmx_enter(struct vcpu_regs *regs, int launched);
void vmx_exit_stub(void);
/* Runs fn(arg) on another stack (a vCPU's host stack), then returns on this one. */
void call_on_stack(void (*fn)(void *), void *arg, void *stack_top);
