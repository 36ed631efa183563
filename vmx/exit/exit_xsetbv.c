/* XSETBV (exit 55): the guest's XCR0, checked as the CPU would (SDM vol. 2C XSETBV, vol. 1
   §13.3). The value is kept in v->guest_xcr0; the run loop loads it before VM entry. */
#include "kernel/log.h"
#include "kernel/lib/x86.h"
#include "kernel/lib/cpuid_leaves.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"

#define XCR_INDEX_XCR0 0
#define LOW32          0xFFFFFFFFull
#define HIGH_SHIFT     32

/* The architectural rules for XCR0 (XSETBV #GP conditions) plus the VM's supported set. */
static bool xcr0_valid(const struct cpu_model *m, uint64_t value)
{
    if (!(value & XCR0_X87))
        return false; /* x87 state can never be disabled */
    if ((value & XCR0_AVX) && !(value & XCR0_SSE))
        return false;
    uint64_t avx512 = value & XCR0_AVX512;
    if (avx512 && (avx512 != XCR0_AVX512 || !(value & XCR0_AVX)))
        return false; /* opmask, ZMM_Hi256 and Hi16_ZMM go together, and need AVX */
    return (value & ~m->xcr0_mask) == 0;
}

void exit_handle_xsetbv(struct vcpu *v)
{
    /* #UD outranks #GP: without CR4.OSXSAVE the instruction does not exist for the guest. */
    if (!(vcpu_visible_cr4(v) & CR4_OSXSAVE)) {
        vcpu_inject_ud(v);
        return;
    }
    uint32_t index = (uint32_t)v->regs.gpr[REG_RCX];
    uint64_t value =
        ((v->regs.gpr[REG_RDX] & LOW32) << HIGH_SHIFT) | (v->regs.gpr[REG_RAX] & LOW32);
    if (vcpu_cpl(v) != 0 || index != XCR_INDEX_XCR0 || !xcr0_valid(v->guest->cpu, value)) {
        log_debug("vm %s: XSETBV xcr%u = 0x%llx refused (#GP)", v->guest->name, index,
                  (unsigned long long)value);
        vcpu_inject_gp0(v);
        return;
    }
    v->guest_xcr0 = value;
    vcpu_skip_instruction(v);
}
