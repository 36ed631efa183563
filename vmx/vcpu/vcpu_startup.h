/*
 * Virtual INIT and SIPI (Intel SDM vol. 3 §9.4 "Multiple-Processor (MP) Initialization" and the
 * APIC chapter's "INIT" and "Start-Up" delivery modes, 10.6.1): what another vCPU's ICR write
 * does to this vCPU.
 *
 *   INIT: the vCPU takes the INIT state of SDM vol. 3 Table 9-1 (real mode at F000:FFF0, CS base
 *     FFFF0000), its local APIC is reset except the ID (vlapic_reset_on_init) and it waits for a
 *     SIPI: it is not entered until one comes.
 *   SIPI (STARTUP IPI): a vCPU waiting for one starts in real mode at vector:0000 (CS selector
 *     vector << 8, base vector << 12, IP 0). A SIPI to a vCPU that is not waiting is ignored
 *     (§9.4.4: the second SIPI of Linux's INIT-SIPI-SIPI, or a stray one).
 *
 * Posting and taking are split across CPUs: the sender's CPU posts (vcpu_post_init,
 * vcpu_post_sipi: atomic bit set, then the caller kicks the vCPU), the vCPU's own CPU takes what
 * was posted (vcpu_take_startup) with the vCPU's VMCS current, before it enters the guest.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "vmx/vcpu/vcpu.h"

/* Sender side, any CPU: posts an INIT or a SIPI; the caller kicks the vCPU afterwards. */
void vcpu_post_init(struct vcpu *v);
void vcpu_post_sipi(struct vcpu *v, uint8_t vector);

/* Is an INIT or a SIPI posted and not yet taken? (Any CPU; a cheap load.) */
static inline bool vcpu_startup_pending(const struct vcpu *v)
{
    return __atomic_load_n(&v->startup_pending, __ATOMIC_ACQUIRE) != 0;
}

/*
 * The vCPU's own CPU, with its VMCS current and the VM's device lock held (an INIT resets the
 * vCPU's local APIC), before the vCPU's FPU, MSR and debug-register state is loaded into the CPU
 * (an INIT resets DR0-DR3 and DR6 in struct vcpu): takes the posted INIT, then the posted SIPI.
 * The guest state is rewritten in the VMCS and the vCPU's field cache forgets it.
 */
void vcpu_take_startup_slow(struct vcpu *v);
static inline void vcpu_take_startup(struct vcpu *v)
{
    if (vcpu_startup_pending(v))
        vcpu_take_startup_slow(v);
}

/* May the vCPU be entered once what is posted is taken? Not while it waits for a SIPI (an AP
   before its start-up, any vCPU after an INIT). Halted vCPUs are the scheduler's business. */
bool vcpu_runnable(const struct vcpu *v);

/* An application processor of a multi-vCPU VM at creation: it waits for its SIPI (the Linux
   boot protocol's APs). Setting v->wait_for_sipi is all it does: a SIPI rewrites the whole guest
   state, so the VMCS may hold any valid entry state until then. */
void vcpu_startup_reset_ap(struct vcpu *v);
