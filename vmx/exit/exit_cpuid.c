/* CPUID: the VM's CPU model (vmx/exit/cpu_model.c, the host's answers filtered at creation)
   plus what is each vCPU's own. No host CPUID runs here. */
#include "kernel/lib/hw.h"
#include "kernel/lib/string.h"
#include "kernel/lib/x86.h"
#include "kernel/lib/cpuid_leaves.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/guest_cpu.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"

/* The per-vCPU bits of leaf 1; the rest is the VM's (cpu_model.c). */
static void filter_features(struct vcpu *v, struct cpuid_regs *r)
{
    /* OSXSAVE mirrors the guest's own CR4.OSXSAVE. */
    if (vcpu_visible_cr4(v) & CR4_OSXSAVE)
        r->ecx |= CPUID_1_ECX_OSXSAVE;
    r->ebx |= v->id << CPUID_1_EBX_APIC_ID_SHIFT;
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

static bool has_vcpu_parts(uint32_t leaf)
{
    return leaf == CPUID_LEAF_FEATURES || leaf == CPUID_LEAF_TOPOLOGY || leaf == CPUID_LEAF_XSAVE ||
           leaf == CPUID_LEAF_TOPOLOGY_V2;
}

/* Any leaf: the VM's answer, then what is the vCPU's own. Out of line, so that the common case
   below needs no register saves (make bench counts them). */
static void __attribute__((noinline))
cpuid_with_vcpu_parts(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    cpu_model_cpuid(v->guest->cpu, leaf, subleaf, r);
    switch (leaf) {
    case CPUID_LEAF_FEATURES:
        filter_features(v, r);
        break;
    case CPUID_LEAF_TOPOLOGY:
    case CPUID_LEAF_TOPOLOGY_V2:
        topology(v, subleaf, r);
        break;
    case CPUID_LEAF_XSAVE: /* EBX: the XSAVE area size for the features enabled in XCR0 */
        if (subleaf == 0)
            r->ebx = cpu_model_xsave_size(v->guest->cpu, v->guest_xcr0);
        break;
    default:
        break;
    }
}

/* The VM's answer (its CPU model, built at creation) plus the parts that are the vCPU's own. */
void cpuid_for_guest(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    const struct cpu_model *m = v->guest->cpu;
    if (leaf <= m->basic_max && !has_vcpu_parts(leaf))
        cpu_model_answer(m, &m->basic[leaf], subleaf, r);
    else
        cpuid_with_vcpu_parts(v, leaf, subleaf, r);
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
