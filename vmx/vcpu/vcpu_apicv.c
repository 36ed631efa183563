/* APIC-register virtualization for virtual-PC vCPUs (vmx/vcpu/vcpu_apicv.h). */
#include "vmx/vcpu/vcpu_apicv.h"
#include "drivers/vdev/vlapic.h"
#include "kernel/log.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "vmx/cpu/ept.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_arch.h"
#include "vmx/cpu/vmx_ops.h"

#define PROC2_APIC_VIRT (PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT)

static int map_access_page(struct guest *g)
{
    return ept_map(&g->ept, VLAPIC_BASE_ADDR, g->apic_access.page, VLAPIC_PAGE_SIZE,
                   EPT_READ | EPT_WRITE, EPT_MT_WB);
}

int vcpu_apicv_init_guest(struct guest *g)
{
    g->apic_access.page = frame_alloc(0, FRAME_ZERO);
    if (g->apic_access.page == PADDR_NONE)
        return -1;
    /* SDM vol. 3 "Issues Pertaining to Page Size and TLB Management": a 4 KiB EPT page. */
    if (map_access_page(g))
        return -1;
    g->apic_access.mapped = true;
    return 0;
}

int vcpu_apicv_init(struct vcpu *v)
{
    v->vapic_page = frame_alloc(0, FRAME_ZERO);
    if (v->vapic_page == PADDR_NONE)
        return -1;
    vlapic_attach_page(v->lapic, phys_to_virt(v->vapic_page));
    vmcs_write32(VMCS_PROC_BASED_CTLS, vmcs_read32(VMCS_PROC_BASED_CTLS) | PROC_TPR_SHADOW);
    vmcs_write32(VMCS_PROC_BASED_CTLS2, vmcs_read32(VMCS_PROC_BASED_CTLS2) | PROC2_APIC_VIRT);
    vmcs_write64(VMCS_VIRTUAL_APIC_ADDR, v->vapic_page);
    vmcs_write64(VMCS_APIC_ACCESS_ADDR, v->guest->apic_access.page);
    vmcs_write32(VMCS_TPR_THRESHOLD, 0);
    v->apic_access_on = true;
    v->apic_page_decoded = true; /* the APIC's reset state: xAPIC mode, enabled */
    return 0;
}

/* The EPT follows the APICs: mapped while none of them bypasses the xAPIC page. A failed
   re-map leaves it unmapped: the decode path is right in every mode, only slower. */
static void update_mapping(struct guest *g)
{
    struct guest_apic_access *aa = &g->apic_access;
    bool want = aa->bypassing == 0;
    if (want == aa->mapped)
        return;
    if (want) {
        if (map_access_page(g)) {
            log_warn("vm %s: cannot map the APIC-access page again; xAPIC accesses are decoded",
                     g->name);
            return;
        }
    } else {
        if (ept_unmap(&g->ept, VLAPIC_BASE_ADDR, VLAPIC_PAGE_SIZE))
            return; /* still mapped: every vCPU keeps the control on, as the mapping says */
        guest_ept_changed(g);
    }
    aa->mapped = want;
}

static void follow_apic_mode(struct vcpu *v)
{
    struct guest_apic_access *aa = &v->guest->apic_access;
    bool decoded = vlapic_page_decoded(v->lapic);
    if (decoded != v->apic_page_decoded) {
        v->apic_page_decoded = decoded;
        aa->bypassing += decoded ? -1u : 1u;
        update_mapping(v->guest);
    }
    if (v->apic_access_on == aa->mapped)
        return;
    /* Off: the EPT no longer maps the page, accesses are EPT violations (decode path). */
    uint32_t proc2 = vmcs_read32(VMCS_PROC_BASED_CTLS2);
    vmcs_write32(VMCS_PROC_BASED_CTLS2,
                 aa->mapped ? proc2 | PROC2_VIRT_APIC_ACCESSES : proc2 & ~PROC2_VIRT_APIC_ACCESSES);
    v->apic_access_on = aa->mapped;
}

void vcpu_apicv_before_entry(struct vcpu *v)
{
    follow_apic_mode(v);
    vlapic_refresh_page(v->lapic);
    uint8_t threshold = (uint8_t)vlapic_tpr_threshold(v->lapic);
    if (threshold != v->tpr_threshold) {
        vmcs_write32(VMCS_TPR_THRESHOLD, threshold);
        v->tpr_threshold = threshold;
    }
}

static unsigned held(paddr_t pa)
{
    return pa != PADDR_NONE && pa ? 1 : 0;
}

unsigned vcpu_apicv_frames(const struct vcpu *v)
{
    return vcpu_has_apicv(v);
}

void vcpu_apicv_destroy(struct vcpu *v)
{
    if (vcpu_has_apicv(v)) {
        if (v->lapic)
            v->lapic->vapic_page = 0;
        frame_free(v->vapic_page, 0);
    }
    v->vapic_page = PADDR_NONE;
}

unsigned vcpu_apicv_guest_frames(const struct guest *g)
{
    return held(g->apic_access.page);
}

/* The EPT is destroyed (and INVEPTed) by the VM; the page only has to come back. */
void vcpu_apicv_destroy_guest(struct guest *g)
{
    if (held(g->apic_access.page))
        frame_free(g->apic_access.page, 0);
    g->apic_access.page = PADDR_NONE;
    g->apic_access.mapped = false;
}
