/* Virtual INIT and SIPI (vmx/vcpu/vcpu_startup.h; SDM vol. 3 §9.1.1 Table 9-1, §9.4). */
#include "vmx/vcpu/vcpu_startup.h"
#include "drivers/vdev/vlapic.h"
#include "kernel/lib/string.h"
#include "kernel/lib/x86.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmcs_setup.h"
#include "vmx/cpu/vmx_arch.h"
#include "vmx/vcpu/vcpu_debug.h"

/* Table 9-1: after INIT the processor fetches at FFFFFFF0 (CS F000, base FFFF0000, IP FFF0). */
#define INIT_RESET_VECTOR 0xFFFFFFF0ull
/* A SIPI's vector is a page number below 1 MiB (§9.4.4): CS = vector << 8, base vector << 12. */
#define SIPI_SELECTOR_SHIFT 8
#define SIPI_BASE_SHIFT     12
/* Table 9-1: SS, DS, ES, FS, GS selector 0, base 0, limit FFFF, present read/write accessed. */
#define INIT_DATA_LIMIT 0xFFFFu
#define INIT_DATA_AR    (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
/* Table 9-1: INIT leaves CR0.CD and CR0.NW as they were (power-up sets them); CR0.ET is 1. */
#define INIT_CR0_KEPT (CR0_CD | CR0_NW)
#define XCR0_X87      1ull /* XCR0 after INIT: x87 state only */

/* The guest-state fields the rewrite replaces: the cache must read them again. */
#define GUEST_STATE_FIELDS                                                                         \
    (VCPU_FIELD_BIT(VCPU_RIP) | VCPU_FIELD_BIT(VCPU_RFLAGS) |                                      \
     VCPU_FIELD_BIT(VCPU_INTERRUPTIBILITY) | VCPU_FIELD_BIT(VCPU_RSP) |                            \
     VCPU_FIELD_BIT(VCPU_CS_AR) | VCPU_FIELD_BIT(VCPU_SS_AR) | VCPU_FIELD_BIT(VCPU_CR0) |          \
     VCPU_FIELD_BIT(VCPU_CR3) | VCPU_FIELD_BIT(VCPU_CR4) | VCPU_FIELD_BIT(VCPU_EFER) |             \
     VCPU_FIELD_BIT(VCPU_CR0_SHADOW) | VCPU_FIELD_BIT(VCPU_CR4_SHADOW))

void vcpu_post_init(struct vcpu *v)
{
    __atomic_fetch_or(&v->startup_pending, VCPU_STARTUP_INIT, __ATOMIC_RELEASE);
}

/* The vector is written before the bit is set (release): a CPU that sees the bit sees it. */
void vcpu_post_sipi(struct vcpu *v, uint8_t vector)
{
    __atomic_store_n(&v->sipi_vector, vector, __ATOMIC_RELAXED);
    __atomic_fetch_or(&v->startup_pending, VCPU_STARTUP_SIPI, __ATOMIC_RELEASE);
}

/* Table 9-1's data segments (vmcs_setup_guest_real gives them CS's values instead). The VMCS
   lays out each segment's selector, limit, AR and base fields at the same distance from ES's
   (SDM vol. 3 Appendix B). */
static void init_data_segments(void)
{
    static const enum vmcs_field sels[] = {VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_SS_SELECTOR,
                                           VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR,
                                           VMCS_GUEST_GS_SELECTOR};
    for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
        unsigned index = (sels[i] - VMCS_GUEST_ES_SELECTOR) / 2;
        vmcs_write16(sels[i], 0);
        vmcs_write32(VMCS_GUEST_ES_LIMIT + 2 * index, INIT_DATA_LIMIT);
        vmcs_write32(VMCS_GUEST_ES_AR + 2 * index, INIT_DATA_AR);
        vmcs_writenat(VMCS_GUEST_ES_BASE + 2 * index, 0);
    }
}

/* Nothing to deliver or re-deliver: the queue, an interrupted delivery, the window exits. */
static void drop_pending_events(struct vcpu *v)
{
    v->event_count = 0;
    vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
    v->regs.vmcs[VCPU_IDT_VECTORING_INFO] = 0; /* exit information: valid, never written back */
    v->cache.valid |= VCPU_FIELD_BIT(VCPU_IDT_VECTORING_INFO);
    vcpu_set_window_exiting(v, PROC_INT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING, false);
}

/* The processor state of Table 9-1's INIT column, written into the VMCS. MSRs (PAT, MTRRs,
   SYSCALL), the TSC and the FPU/SSE area are left as they are (the x87 part, which INIT resets,
   is not: the guest initializes its FPU before using it), and EDX holds 0, not the processor
   signature. */
static void init_cpu_state(struct vcpu *v)
{
    uint64_t cr0_kept = vcpu_visible_cr0(v) & INIT_CR0_KEPT;
    uint64_t pat = vmcs_read64(VMCS_GUEST_PAT);
    vmcs_setup_guest_real(INIT_RESET_VECTOR);
    vmcs_write64(VMCS_GUEST_PAT, pat);
    vmcs_writenat(VMCS_CR0_READ_SHADOW, CR0_ET | cr0_kept);
    init_data_segments();
    v->cache.valid &= ~GUEST_STATE_FIELDS;
    v->cache.dirty &= ~GUEST_STATE_FIELDS;
    memset(v->regs.gpr, 0, sizeof(v->regs.gpr));
    v->regs.cr2 = 0;
    v->guest_xcr0 = XCR0_X87;
    vcpu_debug_reset(v);
    drop_pending_events(v);
    v->halted = v->halted_irq_off = false;
    vcpu_flush_guest_tlb(v); /* Table 9-1: INIT invalidates the TLBs */
}

static void take_init(struct vcpu *v)
{
    init_cpu_state(v);
    if (v->lapic)
        vlapic_reset_on_init(v->lapic);
    v->wait_for_sipi = true;
}

/* §9.4.4: only a processor in wait-for-SIPI takes it. The state is the INIT state again (an AP
   that never saw an INIT holds its creation state) with CS:IP = vector:0000. */
static void take_sipi(struct vcpu *v, uint8_t vector)
{
    if (!v->wait_for_sipi)
        return;
    init_cpu_state(v);
    vmcs_write16(VMCS_GUEST_CS_SELECTOR, (uint16_t)(vector << SIPI_SELECTOR_SHIFT));
    vmcs_writenat(VMCS_GUEST_CS_BASE, (uint64_t)vector << SIPI_BASE_SHIFT);
    vmcs_writenat(VMCS_GUEST_RIP, 0);
    v->wait_for_sipi = false;
}

void vcpu_take_startup_slow(struct vcpu *v)
{
    uint32_t pending = __atomic_exchange_n(&v->startup_pending, 0, __ATOMIC_ACQUIRE);
    if (pending & VCPU_STARTUP_INIT)
        take_init(v);
    if (pending & VCPU_STARTUP_SIPI)
        take_sipi(v, __atomic_load_n(&v->sipi_vector, __ATOMIC_RELAXED));
}

/* Runnable once taken: a posted INIT makes a vCPU wait, a posted SIPI (taken after the INIT)
   starts a waiting one and leaves a running one running. */
bool vcpu_runnable(const struct vcpu *v)
{
    uint32_t pending = __atomic_load_n(&v->startup_pending, __ATOMIC_ACQUIRE);
    bool waits = v->wait_for_sipi || (pending & VCPU_STARTUP_INIT);
    return !waits || (pending & VCPU_STARTUP_SIPI);
}

void vcpu_startup_reset_ap(struct vcpu *v)
{
    v->wait_for_sipi = true;
}
