/*
 * APIC-register virtualization (SDM vol. 3 "APIC Virtualization and Virtual Interrupts"): the
 * second way a virtual-PC vCPU reaches its local APIC's xAPIC page, chosen when the CPU offers
 * "use TPR shadow", "virtualize APIC accesses" and "APIC-register virtualization"
 * (vmx_config.apic_register_virt). The first way, on every CPU, is the EPT-violation decode
 * path (vmx/exit/exit_mmio.c): the page is not mapped and every access exits.
 *
 * With virtualization the guest's EPT maps VLAPIC_BASE_ADDR to a 4 KiB APIC-access page (per
 * VM; its contents are never used) and each vCPU has a virtual-APIC page that its vlapic keeps
 * equal to its registers (drivers/vdev/vlapic.h). Most reads are then served from that page
 * without a VM exit; TPR writes go there without one; other register writes land there and
 * cause a trap-like APIC-write exit (vmx/exit/exit_apic.c); the rest (PPR, the timer's current
 * count, reserved offsets, non-32-bit accesses) are APIC-access exits, decoded like an EPT
 * violation. Virtual-interrupt delivery is not used: hv injects every interrupt itself.
 *
 * The xAPIC page only answers while the APIC is enabled and not in x2APIC mode (SDM APIC
 * 10.12.2: otherwise reads are all ones and writes are dropped). The CPU cannot show that, so
 * while any vCPU's APIC does not decode the page the VM's EPT does not map it and every vCPU
 * takes the decode path, which does.
 */
#pragma once
#include <stdbool.h>
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu.h"

/* The vCPU has a virtual-APIC page (0 in a zeroed vcpu counts as none). */
static inline bool vcpu_has_apicv(const struct vcpu *v)
{
    return v->vapic_page && v->vapic_page != PADDR_NONE;
}

/* The VM's APIC-access page, mapped at VLAPIC_BASE_ADDR. 0, or -1 when out of memory (the
   guest is then refused: it asked for nothing the decode path could not do, but hv does not
   silently run a different configuration than it announced). */
int vcpu_apicv_init_guest(struct guest *g);
/* The vCPU's virtual-APIC page, attached to its vlapic, and its VMCS controls and addresses;
   its VMCS must be current. 0, or -1 when out of memory. */
int vcpu_apicv_init(struct vcpu *v);
/* Before every VM entry of a vCPU that has a virtual-APIC page: the page is brought up to date,
   the TPR threshold set, and the xAPIC page's mapping follows the APICs' modes. */
void vcpu_apicv_before_entry(struct vcpu *v);
/* Frames held (for the VM's teardown check) and their release. */
unsigned vcpu_apicv_frames(const struct vcpu *v);
void vcpu_apicv_destroy(struct vcpu *v);
unsigned vcpu_apicv_guest_frames(const struct guest *g);
void vcpu_apicv_destroy_guest(struct guest *g);
