/* External interrupt sources of a vCPU (vmx/vcpu/vcpu_intr.h). */
#include "vmx/vcpu/vcpu_intr.h"
#include "drivers/vdev/vlapic.h"
#include "drivers/vdev/vpic.h"
#include "vmx/vcpu/guest.h"

/* The 8259's output reaches this vCPU: only vCPU 0's LINT0 is wired to it. */
static bool pic_reaches(const struct vcpu *v)
{
    const struct vpic *pic = v->guest->pic;
    return pic && v->id == 0 && vlapic_accepts_pic_intr(v->lapic) && vpic_has_intr(pic);
}

bool vcpu_external_interrupt_pending(const struct vcpu *v)
{
    if (!v->lapic)
        return false;
    return vlapic_pending_intr(v->lapic) >= 0 || pic_reaches(v);
}

bool vcpu_wakeup_pending(const struct vcpu *v)
{
    /* An NMI ends HLT, and so does an interrupt if IF = 1 (SDM vol. 2 "HLT"); an INIT is taken
       by the scheduler before it looks at this (vmx/vcpu/vcpu_startup.h). */
    bool nmi = v->lapic && v->lapic->nmi_pending;
    return v->halted_irq_off ? nmi : nmi || vcpu_external_interrupt_pending(v);
}

int vcpu_ack_external_interrupt(struct vcpu *v)
{
    if (!v->lapic)
        return -1;
    int vector = vlapic_pending_intr(v->lapic);
    if (vector >= 0) {
        vlapic_intr_accepted(v->lapic, (unsigned)vector);
        return vector;
    }
    if (pic_reaches(v))
        return vpic_ack(v->guest->pic);
    return -1;
}

bool vcpu_take_nmi(struct vcpu *v)
{
    return v->lapic && vlapic_take_nmi(v->lapic);
}
