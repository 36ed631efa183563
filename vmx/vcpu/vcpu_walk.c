#include "vmx/vcpu/vcpu_walk.h"
#include "kernel/lib/x86.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"

void vcpu_walk_ctx(struct vcpu *v, struct walk_ctx *c)
{
    c->cr0 = vcpu_field(v, VCPU_CR0);
    c->cr3 = vcpu_field(v, VCPU_CR3);
    c->cr4 = vcpu_field(v, VCPU_CR4);
    c->efer = vcpu_efer(v);
    c->cpl = (unsigned)vcpu_cpl(v);
    c->rflags_ac = vcpu_rflags(v) & RFLAGS_AC;
    c->mem = &v->guest->mem;
    c->pdpte[0] = vmcs_read64(VMCS_GUEST_PDPTE0);
    c->pdpte[1] = vmcs_read64(VMCS_GUEST_PDPTE1);
    c->pdpte[2] = vmcs_read64(VMCS_GUEST_PDPTE2);
    c->pdpte[3] = vmcs_read64(VMCS_GUEST_PDPTE3);
}

void vcpu_walk_failed(struct vcpu *v, int result, const struct walk_fault *f, unsigned access)
{
    if (result == WALK_OUTSIDE_RAM) {
        const char *letter = (access & WALK_WRITE) ? "W" : (access & WALK_FETCH) ? "X" : "R";
        guest_end(v->guest, "killed(EPT violation at GPA 0x%llx %s)", (unsigned long long)f->gpa,
                  letter);
        return;
    }
    if (result == WALK_PAGE_FAULT) {
        v->regs.cr2 = f->cr2;
        vcpu_inject_exception(v, EXC_PF, true, f->error_code);
    } else if (result == WALK_NON_CANONICAL) {
        vcpu_inject_gp0(v);
    } else {
        guest_end(v->guest, "killed(guest paging structures invalid or outside guest RAM)");
    }
}
