/*
 * The virtual local APIC (drivers/vdev/vlapic.h; Intel SDM vol. 3, chapter "Advanced
 * Programmable Interrupt Controller (APIC)", cited as "SDM APIC 10.x").
 */
#include "drivers/vdev/vlapic.h"
#include "drivers/vdev/vapic_dest.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/panic.h"

/* ---- the register map: who may access which register (SDM APIC tables 10-1 and 10-6) ---- */

#define ACC_XAPIC   1u /* implemented in xAPIC mode (writes to read-only ones are ignored) */
#define ACC_X2_R    2u /* readable through RDMSR */
#define ACC_X2_W    4u /* writable through WRMSR */
#define ACC_X2_RW   (ACC_X2_R | ACC_X2_W)
#define ACC_BOTH_R  (ACC_XAPIC | ACC_X2_R)
#define ACC_BOTH_RW (ACC_XAPIC | ACC_X2_RW)

#define IDX(off) ((off) / VLAPIC_REG_STRIDE)

static const uint8_t reg_access[VLAPIC_REG_COUNT] = {
    [IDX(APIC_OFF_ID)] = ACC_BOTH_R,
    [IDX(APIC_OFF_VERSION)] = ACC_BOTH_R,
    [IDX(APIC_OFF_TPR)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_APR)] = ACC_XAPIC,
    [IDX(APIC_OFF_PPR)] = ACC_BOTH_R,
    [IDX(APIC_OFF_EOI)] = ACC_XAPIC | ACC_X2_W,
    [IDX(APIC_OFF_RRD)] = ACC_XAPIC,
    [IDX(APIC_OFF_LDR)] = ACC_BOTH_R, /* xAPIC: writable, see reg_write */
    [IDX(APIC_OFF_DFR)] = ACC_XAPIC,
    [IDX(APIC_OFF_SVR)] = ACC_BOTH_RW,
    /* ISR, TMR, IRR: see reg_flags */
    [IDX(APIC_OFF_ESR)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_ICR_LO)] = ACC_BOTH_RW, /* x2APIC: the whole 64-bit ICR */
    [IDX(APIC_OFF_ICR_HI)] = ACC_XAPIC,
    [IDX(APIC_OFF_LVT_TMR)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_LVT_THM)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_LVT_PMC)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_LINT0)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_LINT1)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_LVT_ERR)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_TMICT)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_TMCCT)] = ACC_BOTH_R,
    [IDX(APIC_OFF_TDCR)] = ACC_BOTH_RW,
    [IDX(APIC_OFF_SELF)] = ACC_X2_W,
};

/* Who may access register `idx` (offset / 16); ISR, TMR and IRR are 24 read-only registers. */
static unsigned reg_flags(unsigned idx)
{
    if (idx >= VLAPIC_REG_COUNT)
        return 0;
    if (idx >= IDX(APIC_OFF_ISR0) && idx < IDX(APIC_OFF_ESR))
        return ACC_BOTH_R;
    return reg_access[idx];
}

/* The writable bits of each LVT entry (SDM APIC figure "Local Vector Table"). */
static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
    [VLAPIC_LVT_TIMER] = APIC_LVT_VECTOR | APIC_LVT_MASKED | APIC_LVT_TMR_MODE,
    [VLAPIC_LVT_THERMAL] = APIC_LVT_VECTOR | APIC_LVT_DM_MASK | APIC_LVT_MASKED,
    [VLAPIC_LVT_PERF] = APIC_LVT_VECTOR | APIC_LVT_DM_MASK | APIC_LVT_MASKED,
    [VLAPIC_LVT_LINT0] =
        APIC_LVT_VECTOR | APIC_LVT_DM_MASK | APIC_LVT_POLARITY | APIC_LVT_LEVEL | APIC_LVT_MASKED,
    [VLAPIC_LVT_LINT1] =
        APIC_LVT_VECTOR | APIC_LVT_DM_MASK | APIC_LVT_POLARITY | APIC_LVT_LEVEL | APIC_LVT_MASKED,
    [VLAPIC_LVT_ERROR] = APIC_LVT_VECTOR | APIC_LVT_MASKED,
};

/* ---- small helpers ---- */

bool vlapic_x2apic_mode(const struct vlapic *a)
{
    return (a->base_flags & APIC_BASE_EXTD) != 0;
}

bool vlapic_enabled(const struct vlapic *a)
{
    return (a->base_flags & APIC_BASE_EN) != 0;
}

static bool sw_enabled(const struct vlapic *a)
{
    return (a->svr & APIC_SVR_ENABLE) != 0;
}

static uint64_t now(const struct vlapic *a)
{
    return a->host->now(a->host->ctx);
}

static bool bit_test(const uint32_t *v, unsigned n)
{
    return (v[n / 32] >> (n % 32)) & 1u;
}

static void bit_set(uint32_t *v, unsigned n)
{
    v[n / 32] |= 1u << (n % 32);
}

static void bit_clear(uint32_t *v, unsigned n)
{
    v[n / 32] &= ~(1u << (n % 32));
}

/* The highest set bit of a 256-bit array: the highest-priority vector (SDM APIC 10.8.3.1). */
static int highest(const uint32_t *v)
{
    for (int w = VLAPIC_WORDS - 1; w >= 0; w--)
        if (v[w])
            return w * 32 + 31 - __builtin_clz(v[w]);
    return -1;
}

/* The TPR. With a virtual-APIC page the guest writes it there without a VM exit (SDM vol. 3
   "TPR Virtualization"): the page is then the register. */
static uint32_t tpr(const struct vlapic *a)
{
    if (a->vapic_page)
        return a->vapic_page[APIC_OFF_TPR / sizeof(uint32_t)] & APIC_TPR_MASK;
    return a->tpr;
}

static void set_tpr(struct vlapic *a, uint32_t value)
{
    a->tpr = value & APIC_TPR_MASK;
    if (a->vapic_page)
        a->vapic_page[APIC_OFF_TPR / sizeof(uint32_t)] = a->tpr;
}

/* Register state the virtual-APIC page mirrors changed: vlapic_refresh_page rewrites the
   registers marked here, so the common changes (a vector posted, accepted or retired) rewrite
   3 of the page's 64 registers instead of all of them. */
#define PAGE_ALL_REGS UINT64_MAX
_Static_assert(VLAPIC_REG_COUNT == 64, "one bit of page_stale per register");

static void changed(struct vlapic *a)
{
    a->page_stale = PAGE_ALL_REGS;
}

static void changed_reg(struct vlapic *a, unsigned idx)
{
    a->page_stale |= 1ull << idx;
}

/* The register of a 256-bit ISR/TMR/IRR array (at `base`) that holds `vector`. */
static void changed_vector(struct vlapic *a, unsigned base, unsigned vector)
{
    changed_reg(a, IDX(base) + vector / 32);
}

/* SDM APIC 10.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] with bits 3:0 zero. */
static uint32_t ppr(const struct vlapic *a)
{
    int isrv = highest(a->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & APIC_PRIO_CLASS;
    uint32_t t = tpr(a);
    if ((t & APIC_PRIO_CLASS) >= isr_class)
        return t;
    return isr_class;
}

static void kick(const struct vlapic *a)
{
    if (a->host->kick_vcpu)
        a->host->kick_vcpu(a->host->ctx, a->apic_id);
}

static void kick_if_pending(const struct vlapic *a)
{
    if (vlapic_pending_intr(a) >= 0)
        kick(a);
}

/* Accepts a legal vector into IRR; TMR is set for level and cleared for edge (SDM APIC
   10.8.4). */
static void post(struct vlapic *a, unsigned vector, bool level)
{
    bit_set(a->irr, vector);
    if (level)
        bit_set(a->tmr, vector);
    else
        bit_clear(a->tmr, vector);
    changed_vector(a, APIC_OFF_IRR0, vector);
    changed_vector(a, APIC_OFF_TMR0, vector);
    /* Kicked even when the vector must wait (the same vector in service, a higher one, TPR):
       its vCPU may share a CPU with the sender, and then runs only if kicked — its next EOI
       is what makes the vector deliverable. */
    kick(a);
}

/* An error (SDM APIC 10.5.3): latched for the next ESR write, and signalled through the LVT
   error entry when unmasked. An illegal error vector only adds "receive illegal vector" (it
   would otherwise signal itself without end). */
static void signal_error(struct vlapic *a, uint32_t bits)
{
    uint32_t lvt = a->lvt[VLAPIC_LVT_ERROR];
    unsigned vector = lvt & APIC_LVT_VECTOR;
    a->esr_pending |= bits;
    if (lvt & APIC_LVT_MASKED)
        return;
    if (vector < VLAPIC_ILLEGAL_VECTORS) {
        a->esr_pending |= APIC_ESR_RECV_ILLEGAL;
        return;
    }
    post(a, vector, false);
}

/* A locally generated fixed interrupt (LVT, self IPI): vectors 0-15 are an error. */
static bool post_local(struct vlapic *a, unsigned vector, bool level)
{
    if (vector < VLAPIC_ILLEGAL_VECTORS) {
        signal_error(a, APIC_ESR_RECV_ILLEGAL);
        return false;
    }
    post(a, vector, level);
    return true;
}

static void raise_nmi(struct vlapic *a)
{
    a->nmi_pending = true;
    kick(a);
}

/* ---- the timer (SDM APIC 10.5.4) ---- */

static unsigned timer_mode(const struct vlapic *a)
{
    return (a->lvt[VLAPIC_LVT_TIMER] & APIC_LVT_TMR_MODE) >> APIC_LVT_TMR_SHIFT;
}

/* TDCR bits 3,1,0: 000 -> 2, 001 -> 4, ..., 110 -> 128, 111 -> 1 (SDM APIC figure "Divide
   Configuration Register"): the divisor is 2^((code + 1) mod 8). */
static uint64_t divisor(const struct vlapic *a)
{
    unsigned code = (a->tdcr & 3u) | ((a->tdcr >> 1) & 4u);
    return 1ull << ((code + 1) & 7u);
}

/* The current count: TSC ticks left to count_end, in units of `divisor` TSC ticks, rounded up
   (the count drops by one when a full divisor period has passed). A periodic count past its end
   has reloaded (the timer service may not have run yet). */
static uint32_t current_count(const struct vlapic *a, uint64_t t)
{
    uint64_t div = divisor(a), left;
    if (!a->counting || timer_mode(a) == APIC_TMR_DEADLINE)
        return 0;
    if (t < a->count_end) {
        left = a->count_end - t;
    } else if (timer_mode(a) == APIC_TMR_PERIODIC) {
        uint64_t period = (uint64_t)a->tmict * div;
        left = period - (t - a->count_end) % period;
    } else {
        return 0;
    }
    return (uint32_t)((left + div - 1) / div);
}

static void deliver_timer(struct vlapic *a)
{
    uint32_t lvt = a->lvt[VLAPIC_LVT_TIMER];
    if (lvt & APIC_LVT_MASKED)
        return; /* the count ran out while masked: no interrupt */
    if (post_local(a, lvt & APIC_LVT_VECTOR, false))
        a->timer_irqs++;
}

/* The count reached 0 (or the TSC deadline passed). A periodic timer reloads from the previous
   end, not from now, so late service adds no drift; when whole periods were missed it skips to
   the first boundary after now. */
static void timer_fire(void *dev, uint64_t t)
{
    struct vlapic *a = dev;
    if (timer_mode(a) == APIC_TMR_DEADLINE) {
        if (!a->tsc_deadline)
            return;
        a->tsc_deadline = 0; /* SDM APIC 10.5.4.1: the timer disarms and clears the MSR */
        deliver_timer(a);
        return;
    }
    if (!a->counting)
        return;
    deliver_timer(a);
    if (timer_mode(a) != APIC_TMR_PERIODIC) {
        a->counting = false;
        return;
    }
    uint64_t period = (uint64_t)a->tmict * divisor(a);
    uint64_t next = a->count_end + period;
    if (next <= t)
        next += period * ((t - next) / period + 1);
    a->count_end = next;
    vdev_timer_arm(&a->timer, next);
}

/* Runs an expiry that is due but not yet served, so a reprogramming sees a consistent state. */
static void timer_catch_up(struct vlapic *a, uint64_t t)
{
    if (a->timer.armed && a->timer.deadline <= t) {
        a->timer.armed = false;
        timer_fire(a, t);
    }
}

static void timer_stop(struct vlapic *a)
{
    a->counting = false;
    a->tsc_deadline = 0;
    vdev_timer_cancel(&a->timer);
}

/* Writing the initial count starts the count (0 stops it); ignored in TSC-deadline mode. */
static void write_tmict(struct vlapic *a, uint32_t value)
{
    uint64_t t = now(a);
    timer_catch_up(a, t);
    if (timer_mode(a) == APIC_TMR_DEADLINE)
        return;
    a->tmict = value;
    if (!value) {
        timer_stop(a);
        return;
    }
    a->counting = true;
    a->count_end = t + (uint64_t)value * divisor(a);
    vdev_timer_arm(&a->timer, a->count_end);
}

/* A new divisor applies from now on: the current count is kept and counts at the new rate. */
static void write_tdcr(struct vlapic *a, uint32_t value)
{
    uint64_t t = now(a);
    timer_catch_up(a, t);
    uint32_t count = current_count(a, t);
    a->tdcr = value & APIC_TDCR_MASK;
    if (!a->counting || !count)
        return;
    a->count_end = t + (uint64_t)count * divisor(a);
    vdev_timer_arm(&a->timer, a->count_end);
}

/* A timer-mode change between TSC-deadline and the count modes disarms the timer (SDM APIC
   10.5.4.1); one-shot <-> periodic keeps the running count, the new mode applies at its end.
   The reserved mode 11b is ignored (the mode stays). */
static void write_lvt_timer(struct vlapic *a, uint32_t value)
{
    uint32_t old = a->lvt[VLAPIC_LVT_TIMER];
    unsigned mode = (value & APIC_LVT_TMR_MODE) >> APIC_LVT_TMR_SHIFT;
    timer_catch_up(a, now(a));
    if (mode == APIC_TMR_RESERVED)
        value = (value & ~APIC_LVT_TMR_MODE) | (old & APIC_LVT_TMR_MODE);
    bool was_deadline = timer_mode(a) == APIC_TMR_DEADLINE;
    a->lvt[VLAPIC_LVT_TIMER] = value;
    if (was_deadline != (timer_mode(a) == APIC_TMR_DEADLINE)) {
        a->tmict = 0;
        timer_stop(a);
    }
}

uint64_t vlapic_get_tsc_deadline(const struct vlapic *a)
{
    if (!vlapic_enabled(a) || timer_mode(a) != APIC_TMR_DEADLINE)
        return 0;
    return a->tsc_deadline;
}

/* SDM APIC 10.5.4.1: a non-zero value arms, 0 disarms; a deadline already reached fires at
   once. Outside TSC-deadline mode the write is ignored. */
void vlapic_set_tsc_deadline(struct vlapic *a, uint64_t deadline)
{
    if (!vlapic_enabled(a) || timer_mode(a) != APIC_TMR_DEADLINE)
        return;
    uint64_t t = now(a);
    timer_catch_up(a, t); /* an old deadline that passed has already fired */
    a->tsc_deadline = deadline;
    vdev_timer_cancel(&a->timer);
    if (!deadline)
        return;
    if (deadline <= t)
        timer_fire(a, t);
    else
        vdev_timer_arm(&a->timer, deadline);
}

uint64_t vlapic_timer_interrupts(const struct vlapic *a)
{
    return a->timer_irqs;
}

/* ---- reset and init ---- */

/* The power-up state (SDM APIC 10.4.7.1): everything 0 except DFR all ones, SVR 0xFF and the
   LVT mask bits; the APIC is software-disabled. The ID survives. */
static void reset_regs(struct vlapic *a)
{
    timer_stop(a);
    set_tpr(a, 0);
    a->ldr = 0;
    a->dfr = APIC_DFR_FLAT;
    a->svr = APIC_SVR_RESET;
    a->esr = a->esr_pending = 0;
    a->icr_lo = a->icr_hi = 0;
    for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
        a->lvt[i] = APIC_LVT_MASKED;
    memset(a->irr, 0, sizeof(a->irr));
    memset(a->isr, 0, sizeof(a->isr));
    memset(a->tmr, 0, sizeof(a->tmr));
    a->tmict = a->tdcr = 0;
    a->nmi_pending = false;
    changed(a);
}

void vlapic_init(struct vlapic *a, const struct vdev_host *host, struct vdev_timers *timers,
                 unsigned apic_id, bool bsp, vlapic_eoi_fn eoi, vlapic_ipi_fn ipi, void *cb_ctx)
{
    memset(a, 0, sizeof(*a));
    a->host = host;
    a->eoi = eoi;
    a->ipi = ipi;
    a->cb_ctx = cb_ctx;
    a->apic_id = apic_id;
    a->bsp = bsp;
    /* The VM sizes its timer service for its devices: a full one is an hv bug. */
    if (vdev_timer_add(timers, &a->timer, timer_fire, a) < 0)
        panic("vlapic: no room in the timer service for APIC %u", apic_id);
    a->base_flags = APIC_BASE_EN; /* xAPIC mode after reset (SDM APIC 10.12.5) */
    reset_regs(a);
}

/* SDM APIC 10.4.7.3 and 10.12.5.1 ("x2APIC State Transitions"): INIT keeps the APIC ID and
   the mode (IA32_APIC_BASE EN, EXTD and BSP are unchanged) and initializes every other
   register; in x2APIC mode the LDR stays the one derived from the ID (it is read-only there). */
void vlapic_reset_on_init(struct vlapic *a)
{
    reset_regs(a);
    if (vlapic_x2apic_mode(a))
        a->ldr = vapic_x2apic_ldr(a->apic_id);
}

void vlapic_set_virtual_wire(struct vlapic *a)
{
    a->svr |= APIC_SVR_ENABLE;
    a->lvt[VLAPIC_LVT_LINT0] = APIC_DM_EXTINT << APIC_LVT_DM_SHIFT;
    a->lvt[VLAPIC_LVT_LINT1] = APIC_DM_NMI << APIC_LVT_DM_SHIFT;
    changed(a);
}

/* ---- interrupt acceptance and delivery (SDM APIC 10.8) ---- */

int vlapic_set_intr(struct vlapic *a, unsigned vector, bool level)
{
    if (vector >= VLAPIC_VECTORS)
        return -1;
    if (vector < VLAPIC_ILLEGAL_VECTORS) {
        if (vlapic_enabled(a))
            signal_error(a, APIC_ESR_RECV_ILLEGAL);
        return -1;
    }
    if (!vlapic_enabled(a) || !sw_enabled(a))
        return 0; /* SDM APIC 10.4.7.2: a disabled APIC takes no fixed interrupts */
    post(a, vector, level);
    return 0;
}

/* SDM APIC 10.8.3.1: the highest IRR vector is delivered when its class is above PPR's. */
int vlapic_pending_intr(const struct vlapic *a)
{
    if (!vlapic_enabled(a))
        return -1;
    int v = highest(a->irr);
    if (v < 0 || ((uint32_t)v & APIC_PRIO_CLASS) <= (ppr(a) & APIC_PRIO_CLASS))
        return -1;
    return v;
}

void vlapic_intr_accepted(struct vlapic *a, unsigned vector)
{
    if (vector >= VLAPIC_VECTORS || !bit_test(a->irr, vector)) {
        log_warn("vlapic %u: accepted vector %u is not pending", a->apic_id, vector);
        return;
    }
    bit_clear(a->irr, vector);
    bit_set(a->isr, vector);
    changed_vector(a, APIC_OFF_IRR0, vector);
    changed_vector(a, APIC_OFF_ISR0, vector);
    changed_reg(a, IDX(APIC_OFF_PPR));
}

/* EOI (SDM APIC 10.8.5): retires the highest in-service vector; a level-triggered one (TMR)
   sends an EOI message to the IOAPIC. */
static void do_eoi(struct vlapic *a)
{
    int v = highest(a->isr);
    if (v < 0)
        return;
    bit_clear(a->isr, (unsigned)v);
    changed_vector(a, APIC_OFF_ISR0, (unsigned)v);
    changed_reg(a, IDX(APIC_OFF_PPR));
    if (bit_test(a->tmr, (unsigned)v) && a->eoi)
        a->eoi(a->cb_ctx, (unsigned)v);
    kick_if_pending(a);
}

bool vlapic_accepts_pic_intr(const struct vlapic *a)
{
    uint32_t lint0 = a->lvt[VLAPIC_LVT_LINT0];
    if (!vlapic_enabled(a))
        return true; /* SDM APIC 10.4.3: LINT0 is then the processor's INTR pin */
    return !(lint0 & APIC_LVT_MASKED) &&
           ((lint0 & APIC_LVT_DM_MASK) >> APIC_LVT_DM_SHIFT) == APIC_DM_EXTINT;
}

void vlapic_lint(struct vlapic *a, unsigned pin)
{
    if (pin > 1)
        return;
    if (!vlapic_enabled(a)) {
        if (pin == 1)
            raise_nmi(a); /* SDM APIC 10.4.3: LINT1 is then the NMI pin */
        return;
    }
    uint32_t lvt = a->lvt[VLAPIC_LVT_LINT0 + pin];
    if (lvt & APIC_LVT_MASKED)
        return;
    switch ((lvt & APIC_LVT_DM_MASK) >> APIC_LVT_DM_SHIFT) {
    case APIC_DM_FIXED:
        /* SDM APIC 10.5.1: LINT1 is always edge-triggered */
        post_local(a, lvt & APIC_LVT_VECTOR, pin == 0 && (lvt & APIC_LVT_LEVEL));
        break;
    case APIC_DM_NMI:
        raise_nmi(a);
        break;
    default: /* ExtINT: the VM asks the PIC; SMI, INIT: not modelled */
        break;
    }
}

void vlapic_nmi(struct vlapic *a)
{
    raise_nmi(a);
}

bool vlapic_take_nmi(struct vlapic *a)
{
    bool nmi = a->nmi_pending;
    a->nmi_pending = false;
    return nmi;
}

uint64_t vlapic_get_cr8(const struct vlapic *a)
{
    return (tpr(a) & APIC_PRIO_CLASS) >> 4;
}

void vlapic_set_cr8(struct vlapic *a, uint64_t cr8)
{
    set_tpr(a, (uint32_t)(cr8 << 4) & APIC_PRIO_CLASS);
    kick_if_pending(a);
}

/* ---- IPIs (SDM APIC 10.6) ---- */

/* Does `dest` (physical or logical, SDM APIC 10.6.2) name this APIC? The format is its own
   mode's (drivers/vdev/vapic_dest.h). */
static bool dest_is_me(const struct vlapic *a, uint32_t dest, bool logical)
{
    const struct vapic_dest d = {dest, APIC_SH_NONE, logical, vlapic_x2apic_mode(a)};
    return vapic_dest_names(a, &d);
}

static void send_ipi(struct vlapic *a, uint32_t lo, uint32_t dest)
{
    unsigned vector = lo & APIC_ICR_VECTOR;
    unsigned mode = (lo >> APIC_ICR_DM_SHIFT) & 7u;
    unsigned sh = (lo & APIC_ICR_SH_MASK) >> APIC_ICR_SH_SHIFT;
    bool logical = (lo & APIC_ICR_LOGICAL) != 0;
    bool fixed = mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST;
    if (fixed && vector < VLAPIC_ILLEGAL_VECTORS) {
        signal_error(a, APIC_ESR_SEND_ILLEGAL); /* not sent */
        return;
    }
    /* INIT level de-assert only re-synchronizes arbitration IDs (SDM APIC 10.6.1) */
    if (mode == APIC_DM_INIT && (lo & APIC_ICR_TRIGGER) && !(lo & APIC_ICR_LEVEL))
        return;
    bool to_me = sh == APIC_SH_SELF || sh == APIC_SH_ALL ||
                 (sh == APIC_SH_NONE && dest_is_me(a, dest, logical));
    bool only_me = sh == APIC_SH_SELF || (sh == APIC_SH_NONE && !logical && dest == a->apic_id);
    if (to_me && fixed)
        post(a, vector, false);
    else if (to_me && mode == APIC_DM_NMI)
        raise_nmi(a);
    bool local_mode = fixed || mode == APIC_DM_NMI;
    if ((!only_me || !local_mode) && a->ipi)
        a->ipi(a->cb_ctx, a->apic_id, dest, sh, logical, mode, vector);
}

static void self_ipi(struct vlapic *a, uint32_t vector)
{
    vector &= APIC_ICR_VECTOR;
    if (vector < VLAPIC_ILLEGAL_VECTORS) {
        signal_error(a, APIC_ESR_SEND_ILLEGAL);
        return;
    }
    post(a, vector, false);
}

/* ---- register reads and writes common to both interfaces ---- */

static uint32_t reg_read(const struct vlapic *a, unsigned idx)
{
    unsigned off = idx * VLAPIC_REG_STRIDE;
    if (off >= APIC_OFF_ISR0 && off < APIC_OFF_TMR0)
        return a->isr[idx - IDX(APIC_OFF_ISR0)];
    if (off >= APIC_OFF_TMR0 && off < APIC_OFF_IRR0)
        return a->tmr[idx - IDX(APIC_OFF_TMR0)];
    if (off >= APIC_OFF_IRR0 && off < APIC_OFF_ESR)
        return a->irr[idx - IDX(APIC_OFF_IRR0)];
    if (off >= APIC_OFF_LVT_TMR && off <= APIC_OFF_LVT_ERR)
        return a->lvt[idx - IDX(APIC_OFF_LVT_TMR)];
    switch (off) {
    case APIC_OFF_ID:
        return vlapic_x2apic_mode(a) ? a->apic_id : a->apic_id << APIC_ID_SHIFT;
    case APIC_OFF_VERSION:
        return APIC_VERSION_VALUE;
    case APIC_OFF_TPR:
        return tpr(a);
    case APIC_OFF_PPR:
        return ppr(a);
    case APIC_OFF_LDR:
        return a->ldr;
    case APIC_OFF_DFR:
        return a->dfr;
    case APIC_OFF_SVR:
        return a->svr;
    case APIC_OFF_ESR:
        return a->esr;
    case APIC_OFF_ICR_LO:
        return a->icr_lo;
    case APIC_OFF_ICR_HI:
        return a->icr_hi;
    case APIC_OFF_TMICT:
        return a->tmict;
    case APIC_OFF_TMCCT:
        return current_count(a, now(a));
    case APIC_OFF_TDCR:
        return a->tdcr;
    default: /* APR, EOI, RRD, SELF IPI */
        return 0;
    }
}

/* SVR (SDM APIC 10.9): clearing the enable bit masks every LVT entry (10.4.7.2). */
static void write_svr(struct vlapic *a, uint32_t value)
{
    a->svr = value & APIC_SVR_WRITABLE;
    if (sw_enabled(a))
        return;
    for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
        a->lvt[i] |= APIC_LVT_MASKED;
}

/* LVT entries keep their mask set while the APIC is software-disabled (SDM APIC 10.4.7.2). */
static void write_lvt(struct vlapic *a, unsigned lvt, uint32_t value)
{
    value &= lvt_writable[lvt];
    if (!sw_enabled(a))
        value |= APIC_LVT_MASKED;
    if (lvt == VLAPIC_LVT_TIMER)
        write_lvt_timer(a, value);
    else
        a->lvt[lvt] = value;
}

static void reg_write(struct vlapic *a, unsigned idx, uint32_t value)
{
    unsigned off = idx * VLAPIC_REG_STRIDE;
    /* An EOI changes only what do_eoi marks (and the EOI register the guest wrote on the page);
       any other write may change several registers (SVR masks the LVTs, ...): all of them. */
    if (off == APIC_OFF_EOI)
        changed_reg(a, idx);
    else
        changed(a);
    if (off >= APIC_OFF_LVT_TMR && off <= APIC_OFF_LVT_ERR) {
        write_lvt(a, idx - IDX(APIC_OFF_LVT_TMR), value);
        return;
    }
    switch (off) {
    case APIC_OFF_TPR:
        set_tpr(a, value);
        kick_if_pending(a);
        break;
    case APIC_OFF_EOI:
        do_eoi(a);
        break;
    case APIC_OFF_LDR:
        if (!vlapic_x2apic_mode(a))
            a->ldr = value & APIC_LDR_MASK;
        break;
    case APIC_OFF_DFR:
        a->dfr = (value & APIC_DFR_MODEL_MASK) | APIC_DFR_RESERVED;
        break;
    case APIC_OFF_SVR:
        write_svr(a, value);
        break;
    case APIC_OFF_ESR: /* SDM APIC 10.5.3: a write latches the errors seen since the last one */
        a->esr = a->esr_pending;
        a->esr_pending = 0;
        break;
    case APIC_OFF_ICR_LO:
        a->icr_lo = value & APIC_ICR_LO_WRITABLE;
        send_ipi(a, a->icr_lo, a->icr_hi >> APIC_ID_SHIFT);
        break;
    case APIC_OFF_ICR_HI:
        a->icr_hi = value & APIC_ICR_HI_DEST;
        break;
    case APIC_OFF_TMICT:
        write_tmict(a, value);
        break;
    case APIC_OFF_TDCR:
        write_tdcr(a, value);
        break;
    case APIC_OFF_SELF:
        self_ipi(a, value);
        break;
    default: /* read-only registers: the write is ignored */
        break;
    }
}

/* ---- the xAPIC page ---- */

static bool page_decoded(const struct vlapic *a)
{
    return vlapic_enabled(a) && !vlapic_x2apic_mode(a);
}

/* A register the xAPIC page has, or -1 (unaligned: -2, which is not an error). */
static int xapic_index(struct vlapic *a, unsigned offset)
{
    if (offset % VLAPIC_REG_STRIDE)
        return -2;
    unsigned idx = offset / VLAPIC_REG_STRIDE;
    if (!(reg_flags(idx) & ACC_XAPIC)) {
        signal_error(a, APIC_ESR_ILLEGAL_REG); /* SDM APIC 10.5.3, bit 7 */
        return -1;
    }
    return (int)idx;
}

uint32_t vlapic_mmio_read(struct vlapic *a, unsigned offset)
{
    if (!page_decoded(a) || offset >= VLAPIC_PAGE_SIZE)
        return UINT32_MAX;
    int idx = xapic_index(a, offset);
    return idx < 0 ? 0 : reg_read(a, (unsigned)idx);
}

void vlapic_mmio_write(struct vlapic *a, unsigned offset, uint32_t value)
{
    if (!page_decoded(a) || offset >= VLAPIC_PAGE_SIZE)
        return;
    int idx = xapic_index(a, offset);
    if (idx >= 0)
        reg_write(a, (unsigned)idx, value);
}

static uint64_t bus_read(void *dev, uint64_t offset, unsigned size)
{
    uint32_t v = vlapic_mmio_read(dev, (unsigned)(offset & ~3ull));
    v >>= (offset & 3u) * 8;
    if (size == 1)
        return v & 0xFFu;
    if (size == 2)
        return v & 0xFFFFu;
    return v;
}

static void bus_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    if (size == 4) /* SDM APIC 10.4.1: registers are written with 32-bit stores */
        vlapic_mmio_write(dev, (unsigned)offset, (uint32_t)value);
}

const struct vdev_mmio_ops vlapic_mmio_ops = {bus_read, bus_write};

/* ---- x2APIC MSRs (SDM APIC 10.12.1) ---- */

static int x2apic_index(const struct vlapic *a, uint32_t msr, unsigned need)
{
    if (!vlapic_x2apic_mode(a) || msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_LAST)
        return -1;
    unsigned idx = msr - X2APIC_MSR_BASE;
    if (!(reg_flags(idx) & need))
        return -1;
    return (int)idx;
}

int vlapic_rdmsr(struct vlapic *a, uint32_t msr, uint64_t *value)
{
    int idx = x2apic_index(a, msr, ACC_X2_R);
    if (idx < 0)
        return -1;
    if (msr == X2APIC_MSR_ICR)
        *value = (uint64_t)a->icr_hi << 32 | a->icr_lo;
    else
        *value = reg_read(a, (unsigned)idx);
    return 0;
}

int vlapic_wrmsr(struct vlapic *a, uint32_t msr, uint64_t value)
{
    int idx = x2apic_index(a, msr, ACC_X2_W);
    if (idx < 0)
        return -1;
    if (msr == X2APIC_MSR_ICR) {
        a->icr_hi = (uint32_t)(value >> 32);
        a->icr_lo = (uint32_t)value & APIC_ICR_LO_WRITABLE;
        send_ipi(a, a->icr_lo, a->icr_hi);
        return 0;
    }
    if (value >> 32)
        return -1; /* bits 63:32 are reserved outside the ICR */
    unsigned off = (unsigned)idx * VLAPIC_REG_STRIDE;
    if ((off == APIC_OFF_EOI || off == APIC_OFF_ESR) && value)
        return -1; /* SDM APIC 10.12.1.2: only 0 may be written */
    reg_write(a, (unsigned)idx, (uint32_t)value);
    return 0;
}

/* ---- IA32_APIC_BASE (SDM APIC 10.4.4, 10.12.5) ---- */

uint64_t vlapic_get_base(const struct vlapic *a)
{
    return VLAPIC_BASE_ADDR | a->base_flags | (a->bsp ? APIC_BASE_BSP : 0);
}

/* The legal EN/EXTD transitions: xAPIC <-> disabled, xAPIC -> x2APIC, x2APIC -> disabled.
   EXTD without EN is invalid; x2APIC -> xAPIC and disabled -> x2APIC must pass through the
   other state. */
static bool transition_ok(uint32_t from, uint32_t to)
{
    const uint32_t x2 = APIC_BASE_EN | APIC_BASE_EXTD;
    if (to == APIC_BASE_EXTD)
        return false;
    if (from == x2 && to == APIC_BASE_EN)
        return false;
    return !(from == 0 && to == x2);
}

int vlapic_set_base(struct vlapic *a, uint64_t value)
{
    const uint64_t flags = APIC_BASE_EN | APIC_BASE_EXTD;
    /* hv cannot move the page: another base (or a reserved bit) is #GP. BSP is read-only. */
    if ((value & ~(flags | APIC_BASE_BSP)) != VLAPIC_BASE_ADDR)
        return -1;
    uint32_t to = (uint32_t)(value & flags);
    if (to == a->base_flags)
        return 0;
    if (!transition_ok(a->base_flags, to))
        return -1;
    if (!to)
        reset_regs(a); /* no register state survives disabling, except the ID */
    else if (to & APIC_BASE_EXTD)
        a->ldr = vapic_x2apic_ldr(a->apic_id); /* SDM APIC 10.12.10.2: set on entering x2APIC */
    a->base_flags = to;
    changed(a);
    return 0;
}

/* ---- the virtual-APIC page ---- */

/* Every register at its offset; the words between registers stay as they are (zero: nothing
   writes them, SDM vol. 3 "Virtualizing Writes to the APIC-Access Page" sends such writes to
   hv as APIC-access VM exits). The TPR is written back as it is. */
static void write_page_reg(const struct vlapic *a, uint32_t *page, unsigned idx)
{
    page[(size_t)idx * (VLAPIC_REG_STRIDE / sizeof(uint32_t))] =
        reg_flags(idx) ? reg_read(a, idx) : 0;
}

void vlapic_sync_to_page(const struct vlapic *a, uint32_t *page)
{
    for (unsigned idx = 0; idx < VLAPIC_REG_COUNT; idx++)
        write_page_reg(a, page, idx);
}

void vlapic_attach_page(struct vlapic *a, uint32_t *page)
{
    uint32_t t = tpr(a);
    a->vapic_page = page;
    memset(page, 0, VLAPIC_PAGE_SIZE);
    set_tpr(a, t);
    vlapic_sync_to_page(a, page);
    a->page_stale = 0;
}

void vlapic_refresh_page(struct vlapic *a)
{
    if (!a->vapic_page || !a->page_stale)
        return;
    for (uint64_t stale = a->page_stale; stale; stale &= stale - 1)
        write_page_reg(a, a->vapic_page, (unsigned)__builtin_ctzll(stale));
    a->page_stale = 0;
}

bool vlapic_page_decoded(const struct vlapic *a)
{
    return page_decoded(a);
}

/* SDM vol. 3 "TPR Virtualization": with a TPR threshold, lowering VTPR[7:4] below it exits.
   Worth it only when the highest pending vector waits for the TPR alone (not for an in-service
   vector of its class or above, whose EOI hv sees anyway). The threshold then is at most
   VTPR[7:4], as VM entry requires when virtual-interrupt delivery is off. */
unsigned vlapic_tpr_threshold(const struct vlapic *a)
{
    int v = highest(a->irr), isrv = highest(a->isr);
    if (v < 0 || !vlapic_enabled(a))
        return 0;
    uint32_t irr_class = (uint32_t)v & APIC_PRIO_CLASS;
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & APIC_PRIO_CLASS;
    if (irr_class <= isr_class || irr_class > (tpr(a) & APIC_PRIO_CLASS))
        return 0;
    return irr_class >> 4;
}

void vlapic_apic_write(struct vlapic *a, unsigned offset)
{
    if (!a->vapic_page || offset >= VLAPIC_PAGE_SIZE || offset % sizeof(uint32_t))
        return;
    uint32_t value = a->vapic_page[offset / sizeof(uint32_t)];
    /* The CPU may have virtualized the ICR-high write without an APIC-write exit of its own (it
       is no "APIC-write emulation" trigger on every implementation: Bochs stores it only): the
       destination is what the page holds when the low half is written, as KVM reads it. */
    if (offset == APIC_OFF_ICR_LO)
        a->icr_hi = a->vapic_page[APIC_OFF_ICR_HI / sizeof(uint32_t)] & APIC_ICR_HI_DEST;
    vlapic_mmio_write(a, offset, value);
}
