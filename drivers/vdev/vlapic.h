/*
 * The virtual local APIC: one per vCPU (Intel SDM vol. 3, chapter "Advanced Programmable
 * Interrupt Controller (APIC)", below "SDM APIC"; section numbers are those of the 10.x
 * chapter of the SDM editions that number it 10).
 *
 * Both register interfaces: the xAPIC page (32-bit accesses at 16-byte aligned offsets from
 * 0xFEE00000, vlapic_mmio_read/write or the bus ops vlapic_mmio_ops) and x2APIC through MSRs
 * 0x800-0x8FF (MSR = 0x800 + offset / 16; ICR is one 64-bit MSR; no DFR; LDR read-only and
 * derived from the APIC ID; SELF IPI at 0x83F).
 *
 * Choices (the SDM leaves them to the implementation):
 *   - Version register 0x00050014: version 0x14, max LVT entry 5 (six LVTs: timer, thermal,
 *     performance, LINT0, LINT1, error; no CMCI, so 0x2F0 / MSR 0x82F is reserved), no
 *     EOI-broadcast suppression (SVR bit 12 reads 0).
 *   - The timer's base clock is the TSC: the timer counts at tsc_hz / divide. hv reports the
 *     TSC rate as the core crystal clock in CPUID 0x15 (ECX = tsc_hz, ratio 1:1), and Linux takes
 *     the crystal clock as the APIC timer's clock, so it needs no calibration.
 *   - The APIC ID register is read-only in both modes (the MADT announces the ID; SDM APIC
 *     10.4.6 makes writability model specific).
 *   - IA32_APIC_BASE cannot be relocated: any base other than 0xFEE00000 is #GP (-1).
 *   - APR reads 0; the remote-read register reads 0; LVT delivery-status and remote-IRR bits
 *     read 0 (a virtual APIC delivers at once).
 *   - The spurious vector is stored but never delivered: acceptance (vlapic_intr_accepted) is
 *     atomic with the pending check, so the race that produces a spurious interrupt cannot
 *     happen.
 *   - A fixed interrupt sent to a software-disabled APIC is dropped (SDM APIC 10.4.7.2: only
 *     INIT, NMI, SMI and SIPI are still taken); what is already in IRR stays deliverable.
 *   - A periodic timer that fell several periods behind (the vCPU did not run) delivers one
 *     interrupt and keeps its phase: the next deadline is the first period boundary after now.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/vdev.h"
#include "kernel/lib/msr.h" /* MSR_IA32_APIC_BASE, MSR_IA32_TSC_DEADLINE */

/* ---- the xAPIC register page (SDM APIC table "Local APIC Register Address Map") ---- */

#define VLAPIC_BASE_ADDR  0xFEE00000u
#define VLAPIC_PAGE_SIZE  0x1000u
#define VLAPIC_REG_STRIDE 0x10u /* one register per 16 bytes */
#define VLAPIC_REG_COUNT  0x40u /* offsets 0x000-0x3F0 */

#define APIC_OFF_ID      0x020u
#define APIC_OFF_VERSION 0x030u
#define APIC_OFF_TPR     0x080u
#define APIC_OFF_APR     0x090u
#define APIC_OFF_PPR     0x0A0u
#define APIC_OFF_EOI     0x0B0u
#define APIC_OFF_RRD     0x0C0u
#define APIC_OFF_LDR     0x0D0u
#define APIC_OFF_DFR     0x0E0u
#define APIC_OFF_SVR     0x0F0u
#define APIC_OFF_ISR0    0x100u /* ISR, TMR, IRR: 8 registers of 32 bits each */
#define APIC_OFF_TMR0    0x180u
#define APIC_OFF_IRR0    0x200u
#define APIC_OFF_ESR     0x280u
#define APIC_OFF_CMCI    0x2F0u
#define APIC_OFF_ICR_LO  0x300u
#define APIC_OFF_ICR_HI  0x310u
#define APIC_OFF_LVT_TMR 0x320u
#define APIC_OFF_LVT_THM 0x330u
#define APIC_OFF_LVT_PMC 0x340u
#define APIC_OFF_LINT0   0x350u
#define APIC_OFF_LINT1   0x360u
#define APIC_OFF_LVT_ERR 0x370u
#define APIC_OFF_TMICT   0x380u /* timer initial count */
#define APIC_OFF_TMCCT   0x390u /* timer current count */
#define APIC_OFF_TDCR    0x3E0u /* timer divide configuration */
#define APIC_OFF_SELF    0x3F0u /* SELF IPI: x2APIC only */

/* ---- x2APIC MSRs (SDM APIC 10.12.1.2) ---- */

#define X2APIC_MSR_BASE  0x800u
#define X2APIC_MSR_LAST  0x8FFu
#define X2APIC_MSR_ICR   0x830u
#define X2APIC_MSR_SELF  0x83Fu
#define X2APIC_BROADCAST 0xFFFFFFFFu

/* ---- IA32_APIC_BASE (MSR 0x1B, SDM APIC 10.4.4) and IA32_TSC_DEADLINE ---- */

#define APIC_BASE_BSP  (1u << 8)
#define APIC_BASE_EXTD (1u << 10) /* x2APIC mode */
#define APIC_BASE_EN   (1u << 11) /* APIC global enable */

/* ---- register fields ---- */

#define APIC_VERSION_VALUE  0x00050014u /* max LVT entry 5 << 16 | version 0x14 */
#define APIC_ID_SHIFT       24          /* xAPIC ID in bits 31:24 */
#define APIC_TPR_MASK       0xFFu
#define APIC_PRIO_CLASS     0xF0u /* priority class: bits 7:4 of a vector or priority */
#define APIC_LDR_MASK       0xFF000000u
#define APIC_DFR_MODEL_MASK 0xF0000000u
#define APIC_DFR_RESERVED   0x0FFFFFFFu /* reads as ones */
#define APIC_DFR_FLAT       0xFFFFFFFFu
#define APIC_DFR_CLUSTER    0x0FFFFFFFu
#define APIC_SVR_VECTOR     0xFFu
#define APIC_SVR_ENABLE     (1u << 8)
#define APIC_SVR_FOCUS_OFF  (1u << 9)
#define APIC_SVR_WRITABLE   (APIC_SVR_VECTOR | APIC_SVR_ENABLE | APIC_SVR_FOCUS_OFF)
#define APIC_SVR_RESET      0xFFu

/* ESR bits (SDM APIC 10.5.3) */
#define APIC_ESR_SEND_ILLEGAL (1u << 5)
#define APIC_ESR_RECV_ILLEGAL (1u << 6)
#define APIC_ESR_ILLEGAL_REG  (1u << 7)

/* LVT fields (SDM APIC 10.5.1) */
#define APIC_LVT_VECTOR    0xFFu
#define APIC_LVT_DM_SHIFT  8
#define APIC_LVT_DM_MASK   (7u << APIC_LVT_DM_SHIFT)
#define APIC_LVT_POLARITY  (1u << 13)
#define APIC_LVT_LEVEL     (1u << 15) /* trigger mode: LINT0/LINT1 only */
#define APIC_LVT_MASKED    (1u << 16)
#define APIC_LVT_TMR_SHIFT 17
#define APIC_LVT_TMR_MODE  (3u << APIC_LVT_TMR_SHIFT)
#define APIC_TMR_ONESHOT   0u
#define APIC_TMR_PERIODIC  1u
#define APIC_TMR_DEADLINE  2u
#define APIC_TMR_RESERVED  3u

/* Delivery modes (LVT and ICR bits 10:8) */
#define APIC_DM_FIXED   0u
#define APIC_DM_LOWEST  1u
#define APIC_DM_SMI     2u
#define APIC_DM_NMI     4u
#define APIC_DM_INIT    5u
#define APIC_DM_STARTUP 6u
#define APIC_DM_EXTINT  7u

/* ICR (SDM APIC 10.6.1) */
#define APIC_ICR_VECTOR      0xFFu
#define APIC_ICR_DM_SHIFT    8
#define APIC_ICR_LOGICAL     (1u << 11)
#define APIC_ICR_STATUS      (1u << 12) /* delivery status: always reads idle (0) */
#define APIC_ICR_LEVEL       (1u << 14)
#define APIC_ICR_TRIGGER     (1u << 15)
#define APIC_ICR_SH_SHIFT    18
#define APIC_ICR_SH_MASK     (3u << APIC_ICR_SH_SHIFT)
#define APIC_ICR_LO_WRITABLE 0x000CCFFFu /* vector, mode, dest mode, level, trigger, shorthand */
#define APIC_ICR_HI_DEST     0xFF000000u /* xAPIC destination, bits 63:56 */
#define APIC_SH_NONE         0u
#define APIC_SH_SELF         1u
#define APIC_SH_ALL          2u /* all including self */
#define APIC_SH_OTHERS       3u /* all excluding self */
#define XAPIC_BROADCAST      0xFFu

/* Timer divide configuration: bits 0, 1 and 3 (SDM APIC 10.5.4) */
#define APIC_TDCR_MASK 0xBu

/* The six LVT entries, in register order from 0x320. */
enum vlapic_lvt {
    VLAPIC_LVT_TIMER,
    VLAPIC_LVT_THERMAL,
    VLAPIC_LVT_PERF,
    VLAPIC_LVT_LINT0,
    VLAPIC_LVT_LINT1,
    VLAPIC_LVT_ERROR,
    VLAPIC_LVT_COUNT
};

#define VLAPIC_VECTORS         256
#define VLAPIC_WORDS           (VLAPIC_VECTORS / 32)
#define VLAPIC_ILLEGAL_VECTORS 16 /* vectors 0-15 are never accepted (SDM APIC 10.5.2) */

/* EOI of a level-triggered vector (its TMR bit set): the VM forwards it to the IOAPIC. */
typedef void (*vlapic_eoi_fn)(void *ctx, unsigned vector);
/* An IPI that may address other APICs (INIT and SIPI always come here). The sender's own share
   (a self shorthand, its own physical ID, a broadcast, a matching logical destination) is
   delivered locally before this is called: the callback serves the other vCPUs only. A
   lowest-priority IPI is treated as fixed: if it names this APIC it is delivered here, and the
   VM must not deliver it to a second vCPU. An INIT level de-assert is dropped (it only
   re-synchronizes arbitration IDs). */
typedef void (*vlapic_ipi_fn)(void *ctx, unsigned src_apic_id, uint32_t dest, unsigned shorthand,
                              bool dest_logical, unsigned delivery_mode, unsigned vector);

struct vlapic {
    const struct vdev_host *host;
    struct vdev_timer timer; /* the APIC timer in the VM's timer service */
    vlapic_eoi_fn eoi;
    vlapic_ipi_fn ipi;
    void *cb_ctx;
    uint32_t apic_id;
    bool bsp;
    uint32_t base_flags; /* IA32_APIC_BASE EN and EXTD */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;         /* what ESR reads: latched by the last ESR write */
    uint32_t esr_pending; /* errors detected since the last ESR write */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[VLAPIC_LVT_COUNT];
    uint32_t irr[VLAPIC_WORDS], isr[VLAPIC_WORDS], tmr[VLAPIC_WORDS];
    uint32_t tmict, tdcr;
    bool counting;         /* one-shot/periodic count running (it may already have reached 0) */
    uint64_t count_end;    /* guest TSC at which the current count reaches 0 */
    uint64_t tsc_deadline; /* IA32_TSC_DEADLINE: 0 = disarmed */
    bool nmi_pending;
    uint64_t timer_irqs;
    /* APIC-register virtualization (vmx/vcpu/vcpu_apicv.c): the vCPU's virtual-APIC page, or
       NULL on the EPT-violation decode path. */
    uint32_t *vapic_page;
    uint64_t page_stale; /* registers (bit = offset / 16) changed since the page was written */
};

void vlapic_init(struct vlapic *a, const struct vdev_host *host, struct vdev_timers *timers,
                 unsigned apic_id, bool bsp, vlapic_eoi_fn eoi, vlapic_ipi_fn ipi, void *cb_ctx);
/* An INIT (virtual INIT IPI, vmx/vcpu/vcpu_startup.h): the power-up register state except the
   APIC ID; the mode (xAPIC, x2APIC, disabled) and the BSP flag stay. Pending interrupts, the
   pending NMI and the timer are dropped. */
void vlapic_reset_on_init(struct vlapic *a);
/* The state firmware leaves (MP spec virtual-wire mode): APIC software-enabled, LINT0 ExtINT,
   LINT1 NMI, both unmasked. hv has no BIOS; the VM calls this for the BSP if it wants PIC
   interrupts to reach a guest that does not program its APIC. */
void vlapic_set_virtual_wire(struct vlapic *a);

/* xAPIC page: `offset` in the 4 KiB page. Not 16-byte aligned: reads 0, write ignored. In
   x2APIC mode or with the APIC globally disabled the page is not decoded: reads all ones,
   writes dropped (SDM APIC 10.12.2). */
uint32_t vlapic_mmio_read(struct vlapic *a, unsigned offset);
void vlapic_mmio_write(struct vlapic *a, unsigned offset, uint32_t value);
/* For the bus: each processor sees its own local APIC at VLAPIC_BASE_ADDR, so a VM registers
   its array of APICs as a banked range (vdev_bus_add_mmio_banked, one bank per vCPU). 1-8 byte
   reads take bytes of the 32-bit register; writes other than 4 bytes are dropped. */
extern const struct vdev_mmio_ops vlapic_mmio_ops;

/* x2APIC MSRs 0x800-0x8FF; -1 = #GP (not in x2APIC mode, reserved MSR, read of a write-only or
   write of a read-only register, bits 63:32 set outside the ICR, non-zero EOI/ESR write). */
int vlapic_rdmsr(struct vlapic *a, uint32_t msr, uint64_t *value);
int vlapic_wrmsr(struct vlapic *a, uint32_t msr, uint64_t value);

/* IA32_APIC_BASE; set returns -1 (#GP) for a relocation, reserved bits or an illegal
   EN/EXTD transition (SDM APIC 10.12.5). */
uint64_t vlapic_get_base(const struct vlapic *a);
int vlapic_set_base(struct vlapic *a, uint64_t value);
/* IA32_TSC_DEADLINE: reads 0 and ignores writes unless the timer is in TSC-deadline mode. */
uint64_t vlapic_get_tsc_deadline(const struct vlapic *a);
void vlapic_set_tsc_deadline(struct vlapic *a, uint64_t deadline);
bool vlapic_x2apic_mode(const struct vlapic *a);
bool vlapic_enabled(const struct vlapic *a); /* globally enabled (IA32_APIC_BASE EN) */

/* CR8 is TPR[7:4] (SDM vol. 3 "Task Priority in IA-32e Mode"). */
uint64_t vlapic_get_cr8(const struct vlapic *a);
void vlapic_set_cr8(struct vlapic *a, uint64_t cr8);

/* An interrupt message (IOAPIC, MSI, IPI): sets IRR, and TMR for level. -1 for an illegal
   vector (0-15: ESR "receive illegal vector"); 0 otherwise, also when dropped because the APIC
   is software- or globally disabled. */
int vlapic_set_intr(struct vlapic *a, unsigned vector, bool level);
/* The vector to inject now (its class above PPR's), or -1. */
int vlapic_pending_intr(const struct vlapic *a);
/* hv injected `vector` (the one vlapic_pending_intr returned): IRR -> ISR. */
void vlapic_intr_accepted(struct vlapic *a, unsigned vector);
/* May the 8259's INTR be delivered to this vCPU? (LINT0 unmasked in ExtINT mode, or the APIC
   globally disabled, when LINT0 is the processor's INTR pin.) */
bool vlapic_accepts_pic_intr(const struct vlapic *a);
/* An edge on LINT0/LINT1 (pin 0 or 1), delivered as its LVT says: fixed -> IRR, NMI -> a
   pending NMI; ExtINT is the PIC's business (vlapic_accepts_pic_intr); masked -> dropped.
   With the APIC globally disabled LINT1 is the NMI pin. */
void vlapic_lint(struct vlapic *a, unsigned pin);
/* An NMI message (IOAPIC redirection entry or IPI in NMI mode): pending until taken. It is
   accepted whether or not the APIC is software-enabled (SDM APIC 10.4.7.2). */
void vlapic_nmi(struct vlapic *a);
/* A pending NMI (LINT1, NMI IPI to self): returns it once and clears it. */
bool vlapic_take_nmi(struct vlapic *a);
uint64_t vlapic_timer_interrupts(const struct vlapic *a); /* timer interrupts put into IRR */

/* Mirrors the registers into a 4 KiB virtual-APIC page layout (page[offset / 4] = register at
   offset), for APIC-register virtualization. */
void vlapic_sync_to_page(const struct vlapic *a, uint32_t *page);

/* ---- APIC-register virtualization (SDM vol. 3 "APIC Virtualization and Virtual Interrupts") ----
   With a virtual-APIC page the CPU serves most xAPIC reads from it and writes into it; hv keeps
   the page equal to the registers, and the page's TPR is the TPR (the guest changes it there
   without a VM exit). */

/* From now on `page` (4 KiB, the vCPU's virtual-APIC page) mirrors the registers. */
void vlapic_attach_page(struct vlapic *a, uint32_t *page);
/* Before VM entry: rewrites the page if a register changed since it was last written. */
void vlapic_refresh_page(struct vlapic *a);
/* Does the xAPIC page answer (APIC globally enabled, not in x2APIC mode, SDM APIC 10.12.2)? */
bool vlapic_page_decoded(const struct vlapic *a);
/* The TPR threshold for VM entry (bits 3:0): the class of a pending vector that only the TPR
   holds back, else 0. */
unsigned vlapic_tpr_threshold(const struct vlapic *a);
/* An APIC-write VM exit: the guest's 32-bit write at `offset` is on the page already; it takes
   effect as an xAPIC register write. */
void vlapic_apic_write(struct vlapic *a, unsigned offset);
