/* CPUID: the host's answers, filtered so the guest sees a consistent, VMX-less CPU. */
#include "kernel/lib/hw.h"
#include "kernel/lib/string.h"
#include "kernel/lib/x86.h"
#include "kernel/abi/hv_abi.h"
#include "kernel/lib/cpuid_leaves.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/guest_cpu.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx.h"

uint64_t guest_tsc_khz; /* set by the scheduler from the calibrated TSC; 0 = unknown */

uint64_t xcr0_guest_supported(void)
{
    struct cpuid_regs r;
    struct cpuid_regs f;
    hw_cpuid(CPUID_LEAF_FEATURES, 0, &f);
    if (!(f.ecx & CPUID_1_ECX_XSAVE))
        return 0;
    hw_cpuid(CPUID_LEAF_XSAVE, 0, &r);
    return (((uint64_t)r.edx << 32) | r.eax) & XCR0_GUEST_POLICY;
}

static void filter_features(struct vcpu *v, struct cpuid_regs *r)
{
    r->ecx &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_SMX | CPUID_1_ECX_MONITOR | CPUID_1_ECX_EST |
                CPUID_1_ECX_TM2 | CPUID_1_ECX_PDCM | CPUID_1_ECX_DTES64 | CPUID_1_ECX_DS_CPL |
                CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE);
    r->ecx |= CPUID_1_ECX_HYPERVISOR;
    /* OSXSAVE mirrors the guest's own CR4.OSXSAVE. */
    if (vcpu_visible_cr4(v) & CR4_OSXSAVE)
        r->ecx |= CPUID_1_ECX_OSXSAVE;
    r->edx &=
        ~(CPUID_1_EDX_DS | CPUID_1_EDX_ACPI | CPUID_1_EDX_TM | CPUID_1_EDX_PBE | CPUID_1_EDX_HTT);
    r->ebx = (r->ebx & CPUID_1_EBX_LOW_MASK) | (v->id << CPUID_1_EBX_APIC_ID_SHIFT) |
             (1u << CPUID_1_EBX_LOGICAL_SHIFT);
}

static bool proc2_enabled(uint32_t control)
{
    return vmx_config.ctl[VMX_CTL_PROC2] & control;
}

static void filter_ext_features(uint32_t subleaf, struct cpuid_regs *r)
{
    if (subleaf != 0) {
        memset(r, 0, sizeof(*r));
        return;
    }
    /* Features without VMX support in hv: SGX, MPX, processor trace, user wait. */
    r->ebx &= ~(CPUID_7_EBX_SGX | CPUID_7_EBX_MPX | CPUID_7_EBX_PT);
    r->ecx &= ~(CPUID_7_ECX_WAITPKG | CPUID_7_ECX_SGX_LC);
    if (!proc2_enabled(PROC2_ENABLE_INVPCID)) /* INVPCID without its control is #UD */
        r->ebx &= ~CPUID_7_EBX_INVPCID;
}

/* One vCPU: an SMT level and a core level, each with one logical processor. */
static void topology(const struct vcpu *v, uint32_t subleaf, struct cpuid_regs *r)
{
    memset(r, 0, sizeof(*r));
    r->ecx = subleaf & 0xFF;
    r->edx = v->id;
    if (subleaf == 0) {
        r->ebx = 1;
        r->ecx |= TOPOLOGY_LEVEL_SMT << TOPOLOGY_LEVEL_TYPE_SHIFT;
    } else if (subleaf == 1) {
        r->ebx = 1;
        r->ecx |= TOPOLOGY_LEVEL_CORE << TOPOLOGY_LEVEL_TYPE_SHIFT;
    }
}

/* Size of the XSAVE area for the components in xcr0 (subleaf i gives size in EAX, offset in EBX).
 */
static uint32_t xsave_size(uint64_t xcr0)
{
    uint32_t size = 512 + 64; /* legacy region + XSAVE header */
    for (unsigned i = 2; i < 63; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        struct cpuid_regs c;
        hw_cpuid(CPUID_LEAF_XSAVE, i, &c);
        if (c.eax + c.ebx > size)
            size = c.eax + c.ebx;
    }
    return size;
}

static void xsave_leaf(const struct vcpu *v, uint32_t subleaf, struct cpuid_regs *r)
{
    uint64_t allowed = xcr0_guest_supported();
    if (subleaf == 0) {
        r->eax = (uint32_t)allowed;
        r->edx = (uint32_t)(allowed >> 32);
        r->ebx = xsave_size(v->guest_xcr0);
        r->ecx = xsave_size(allowed);
    } else if (subleaf == 1) {
        r->eax &= ~CPUID_D1_EAX_XSAVES; /* XSAVES is not enabled for guests */
        r->ebx = r->ecx = r->edx = 0;
    } else if (subleaf < 63 && !(allowed & (1ull << subleaf))) {
        memset(r, 0, sizeof(*r));
    }
}

static void hypervisor_leaf(uint32_t leaf, struct cpuid_regs *r)
{
    memset(r, 0, sizeof(*r));
    if (leaf == HV_ABI_CPUID_BASE) {
        r->eax = HV_ABI_CPUID_TIMING;
        memcpy(&r->ebx, HV_CPUID_SIGNATURE, 4);
        memcpy(&r->ecx, &HV_CPUID_SIGNATURE[4], 4);
        memcpy(&r->edx, &HV_CPUID_SIGNATURE[8], 4);
    } else if (leaf == HV_ABI_CPUID_TIMING) {
        r->eax = (uint32_t)guest_tsc_khz;
    }
}

void cpuid_for_guest(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    if (leaf >= HV_ABI_CPUID_BASE && leaf <= HV_ABI_CPUID_LAST) {
        hypervisor_leaf(leaf, r);
        return;
    }
    hw_cpuid(leaf, subleaf, r);
    switch (leaf) {
    case CPUID_LEAF_FEATURES:
        filter_features(v, r);
        break;
    case CPUID_LEAF_EXT_FEATURES:
        filter_ext_features(subleaf, r);
        break;
    case CPUID_LEAF_EXT_PROC_FEATURES: /* RDTSCP without its enable control is #UD (§26.6.2) */
        if (!proc2_enabled(PROC2_ENABLE_RDTSCP))
            r->edx &= ~CPUID_80000001_EDX_RDTSCP;
        break;
    case CPUID_LEAF_PMU: /* no performance-monitoring virtualisation */
        memset(r, 0, sizeof(*r));
        break;
    case CPUID_LEAF_TOPOLOGY:
    case CPUID_LEAF_TOPOLOGY_V2:
        topology(v, subleaf, r);
        break;
    case CPUID_LEAF_XSAVE:
        xsave_leaf(v, subleaf, r);
        break;
    default:
        break;
    }
}

void exit_handle_cpuid(struct vcpu *v)
{
    struct cpuid_regs r;
    cpuid_for_guest(v, (uint32_t)v->regs.gpr[REG_RAX], (uint32_t)v->regs.gpr[REG_RCX], &r);
    v->regs.gpr[REG_RAX] = r.eax;
    v->regs.gpr[REG_RBX] = r.ebx;
    v->regs.gpr[REG_RCX] = r.ecx;
    v->regs.gpr[REG_RDX] = r.edx;
    vcpu_skip_instruction(v);
}
