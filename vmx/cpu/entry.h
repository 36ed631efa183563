/* VM entry and exit (vmx/cpu/entry.asm): the guest register file the entry code loads and saves,
   and the entry points. */
#pragma once
#include <stddef.h>
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

/* The VMCS fields the exit stub reads right after every VM exit, into vcpu_regs.vmcs[] at these
   indices, two instructions each: what every exit uses (its reason, the event it interrupted,
   the RIP a handler advances and the state that advance changes). vmx/vcpu/vcpu.h caches more
   fields, read when first used, in the slots after them. */
enum {
    VMX_STUB_EXIT_REASON,
    VMX_STUB_IDT_VECTORING_INFO,
    VMX_STUB_INSTRUCTION_LEN,
    VMX_STUB_RIP,
    VMX_STUB_RFLAGS,
    VMX_STUB_INTERRUPTIBILITY,
    VMX_STUB_FIELDS
};
#define VCPU_REGS_VMCS_SLOTS 24

struct vcpu_regs {
    uint64_t gpr[REG_COUNT];
    uint64_t cr2;
    /* The HOST_RSP this vCPU's VMCS holds (0: not written yet). The entry code writes the field
       only when its stack pointer differs: from the same run loop it never does. */
    uint64_t host_rsp;
    uint64_t vmcs[VCPU_REGS_VMCS_SLOTS]; /* the values of the vCPU's VMCS cache */
};
_Static_assert(offsetof(struct vcpu_regs, cr2) == 128 &&
                   offsetof(struct vcpu_regs, host_rsp) == 136 &&
                   offsetof(struct vcpu_regs, vmcs) == 144,
               "the offsets vmx/cpu/entry.asm uses (R_CR2, R_HOST_RSP, R_VMCS)");

/* Entry assembly: 0 after a VM exit, else the vmx_status of the failed VMLAUNCH/VMRESUME. */
int vmx_enter(struct vcpu_regs *regs, int launched);
void vmx_exit_stub(void);
/* Runs fn(arg) on another stack (a vCPU's host stack), then returns on this one. */
void call_on_stack(void (*fn)(void *), void *arg, void *stack_top);
