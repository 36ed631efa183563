/*
 * The exits of APIC-register virtualization (vmx/vcpu/vcpu_apicv.h; SDM vol. 3 "APIC
 * Virtualization and Virtual Interrupts", exit qualifications in "Exit Qualification for
 * APIC-Access VM Exits" and "... APIC-Write VM Exits").
 *
 *   APIC access (44): fault-like, nothing was done. A data read or write of the xAPIC page the
 *     CPU does not virtualize (PPR, the timer's current count, reserved offsets, accesses other
 *     than 32 bits at a register): emulated like the decode path's EPT violation.
 *   APIC write (56): trap-like, the write is on the virtual-APIC page and RIP is past it; the
 *     register write takes effect now.
 *   TPR below threshold (43): trap-like; the guest lowered its TPR under a pending vector's
 *     class, which the next entry injects. Nothing to do here.
 */
#include "drivers/vdev/vlapic.h"
#include "kernel/log.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu.h"

#define APIC_ACCESS_OFFSET_MASK 0xFFFull /* bits 11:0: the page offset */
#define APIC_ACCESS_TYPE_SHIFT  12       /* bits 15:12: the access type */
#define APIC_ACCESS_TYPE_MASK   0xFu
#define APIC_WRITE_OFFSET_MASK  0xFFFull

enum apic_access_type {
    APIC_ACCESS_LINEAR_READ = 0,
    APIC_ACCESS_LINEAR_WRITE = 1,
    APIC_ACCESS_LINEAR_FETCH = 2,
    APIC_ACCESS_LINEAR_EVENT_DELIVERY = 3,
    APIC_ACCESS_PHYSICAL_EVENT_DELIVERY = 10,
    APIC_ACCESS_PHYSICAL_FETCH_OR_EXEC = 15,
};

static const char *access_type_name(unsigned type)
{
    switch (type) {
    case APIC_ACCESS_LINEAR_FETCH:
        return "instruction fetch";
    case APIC_ACCESS_LINEAR_EVENT_DELIVERY:
        return "access during event delivery";
    case APIC_ACCESS_PHYSICAL_EVENT_DELIVERY:
        return "guest-physical access during event delivery";
    case APIC_ACCESS_PHYSICAL_FETCH_OR_EXEC:
        return "guest-physical access (a page walk)";
    default:
        return "access of an unknown type";
    }
}

void exit_handle_apic_access(struct vcpu *v)
{
    uint64_t qual = vcpu_exit_qualification(v);
    unsigned offset = (unsigned)(qual & APIC_ACCESS_OFFSET_MASK);
    unsigned type = (unsigned)(qual >> APIC_ACCESS_TYPE_SHIFT) & APIC_ACCESS_TYPE_MASK;
    if (type == APIC_ACCESS_LINEAR_READ || type == APIC_ACCESS_LINEAR_WRITE) {
        if (exit_mmio_emulate(v, VLAPIC_BASE_ADDR + offset))
            return;
    }
    /* Code, an IDT, a stack or page tables on the APIC page: no real APIC serves them either. */
    guest_end(v->guest, "killed(APIC-access exit: %s at offset 0x%x)", access_type_name(type),
              offset);
}

void exit_handle_apic_write(struct vcpu *v)
{
    if (!v->lapic || !v->lapic->vapic_page) {
        guest_end(v->guest, "killed(APIC-write exit without a virtual-APIC page)");
        return;
    }
    vlapic_apic_write(v->lapic, (unsigned)(vcpu_exit_qualification(v) & APIC_WRITE_OFFSET_MASK));
}

void exit_handle_tpr_below_threshold(struct vcpu *v)
{
    (void)v; /* the next entry's delivery sees the lower TPR (vmx/vcpu/vcpu.c) */
}
