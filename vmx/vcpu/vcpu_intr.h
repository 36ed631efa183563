/*
 * External interrupts for a vCPU from the virtual PC's interrupt controllers: its local APIC
 * (vector from IRR above PPR, SDM vol. 3 "Interrupt, Task, and Processor Priority") and, while
 * LINT0 is in ExtINT mode or the APIC is disabled (virtual-wire mode, MP spec §3.6.2.2), the
 * 8259 pair's INTR output. hv-ABI guests have neither: nothing is ever pending for them.
 */
#pragma once
#include <stdbool.h>
#include "vmx/vcpu/vcpu.h"

/* An external interrupt waits for the vCPU (nothing is acknowledged). */
bool vcpu_external_interrupt_pending(const struct vcpu *v);
/* What ends a halted vCPU's HLT: an interrupt it would take now or a pending NMI. */
bool vcpu_wakeup_pending(const struct vcpu *v);
/* Acknowledges the pending interrupt at injection time (the APIC moves the vector from IRR to
   ISR; the 8259 runs its INTA cycle, which may give the spurious vector) and returns the vector
   to inject, or -1 when nothing is pending. */
int vcpu_ack_external_interrupt(struct vcpu *v);
/* An NMI the local APIC raised (LINT1 or an NMI IPI), taken once. */
bool vcpu_take_nmi(struct vcpu *v);
