/* The virtual local APIC (drivers/vdev/vlapic.c) against the Intel SDM vol. 3 APIC chapter:
   both register interfaces, priorities, EOI, errors, the timer with a fake clock, IPIs and
   IA32_APIC_BASE. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include "drivers/vdev/vlapic.h"
#include "tests/unit/fake.h"

#define APIC_ID 3u
#define TSC_HZ  1000000000ull
#define T0      1000000ull /* the fake clock's start */
#define SW_ON   (APIC_SVR_ENABLE | APIC_SVR_RESET)
#define TIMER_V 0xEFu
#define IPI_MAX 8

struct ipi_call {
    unsigned src;
    uint32_t dest;
    unsigned sh;
    bool logical;
    unsigned mode, vector;
};

static struct {
    uint64_t now;
    unsigned kicks, last_kick;
    unsigned eois, eoi_vector;
    struct ipi_call ipi[IPI_MAX];
    unsigned ipis;
} fk;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return fk.now;
}

static void fake_kick(void *ctx, unsigned vcpu)
{
    (void)ctx;
    fk.kicks++;
    fk.last_kick = vcpu;
}

static void fake_eoi(void *ctx, unsigned vector)
{
    (void)ctx;
    fk.eois++;
    fk.eoi_vector = vector;
}

static void fake_ipi(void *ctx, unsigned src, uint32_t dest, unsigned sh, bool logical,
                     unsigned mode, unsigned vector)
{
    (void)ctx;
    if (fk.ipis < IPI_MAX)
        fk.ipi[fk.ipis] = (struct ipi_call){src, dest, sh, logical, mode, vector};
    fk.ipis++;
}

static const struct vdev_host host = {
    .ctx = NULL, .kick_vcpu = fake_kick, .now = fake_now, .tsc_hz = TSC_HZ, .name = "t"};
static struct vdev_timers timers;
static struct vlapic apic;

static uint32_t rd(unsigned off)
{
    return vlapic_mmio_read(&apic, off);
}

static void wr(unsigned off, uint32_t v)
{
    vlapic_mmio_write(&apic, off, v);
}

/* ESR as software reads it: write, then read (SDM APIC 10.5.3). */
static uint32_t esr(void)
{
    wr(APIC_OFF_ESR, 0);
    return rd(APIC_OFF_ESR);
}

static uint64_t msr_rd(uint32_t msr)
{
    uint64_t v = 0xDEAD;
    assert_int_equal(vlapic_rdmsr(&apic, msr, &v), 0);
    return v;
}

static void to_x2apic(void)
{
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN | APIC_BASE_EXTD), 0);
}

/* Advances the fake clock to `t` and runs the timer service, as the VM's run loop does. */
static unsigned advance_to(uint64_t t)
{
    fk.now = t;
    return vdev_timers_run(&timers, t);
}

static bool irr_has(unsigned v)
{
    return (rd(APIC_OFF_IRR0 + (v / 32) * 0x10) >> (v % 32)) & 1u;
}

static void init_apic(unsigned id, bool bsp)
{
    memset(&fk, 0, sizeof(fk));
    fk.now = T0;
    vdev_timers_init(&timers);
    vlapic_init(&apic, &host, &timers, id, bsp, fake_eoi, fake_ipi, NULL);
}

static int setup(void **state)
{
    (void)state;
    fake_log_reset();
    init_apic(APIC_ID, true);
    wr(APIC_OFF_SVR, SW_ON);
    return 0;
}

/* Delivers the pending vector as hv would: pending -> accepted. */
static int take(void)
{
    int v = vlapic_pending_intr(&apic);
    if (v >= 0)
        vlapic_intr_accepted(&apic, (unsigned)v);
    return v;
}

/* ---- reset state and plain registers ---- */

static void test_power_up_state_per_sdm(void **state)
{
    (void)state;
    init_apic(APIC_ID, true);
    assert_int_equal(rd(APIC_OFF_ID), APIC_ID << 24);
    assert_int_equal(rd(APIC_OFF_VERSION), 0x00050014);
    assert_int_equal(rd(APIC_OFF_SVR), 0xFF);
    assert_int_equal(rd(APIC_OFF_DFR), 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_LDR), 0);
    assert_int_equal(rd(APIC_OFF_TPR), 0);
    for (unsigned off = APIC_OFF_LVT_TMR; off <= APIC_OFF_LVT_ERR; off += 0x10)
        assert_int_equal(rd(off), APIC_LVT_MASKED);
    assert_int_equal(rd(APIC_OFF_TMICT), 0);
    assert_int_equal(rd(APIC_OFF_TMCCT), 0);
    assert_int_equal(rd(APIC_OFF_TDCR), 0);
    assert_int_equal(vlapic_get_base(&apic), 0xFEE00900);
    assert_false(vlapic_x2apic_mode(&apic));
    init_apic(1, false);
    assert_int_equal(vlapic_get_base(&apic), 0xFEE00800);
}

static void test_id_version_ppr_are_read_only(void **state)
{
    (void)state;
    wr(APIC_OFF_ID, 0x7F000000);
    wr(APIC_OFF_VERSION, 0);
    wr(APIC_OFF_PPR, 0xF0);
    wr(APIC_OFF_TMCCT, 1234);
    assert_int_equal(rd(APIC_OFF_ID), APIC_ID << 24);
    assert_int_equal(rd(APIC_OFF_VERSION), APIC_VERSION_VALUE);
    assert_int_equal(rd(APIC_OFF_PPR), 0);
    assert_int_equal(rd(APIC_OFF_TMCCT), 0);
    assert_int_equal(esr(), 0); /* writing a read-only register is no error */
}

static void test_reserved_offsets_read_zero_and_set_illegal_register(void **state)
{
    (void)state;
    static const unsigned reserved[] = {0x000, 0x010, 0x040, 0x070, 0x290,
                                        0x2F0, 0x3A0, 0x3F0, 0x400, 0xFF0};
    for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        assert_int_equal(rd(reserved[i]), 0);
        assert_int_equal(esr(), APIC_ESR_ILLEGAL_REG);
        wr(reserved[i], 0xFFFFFFFF);
        assert_int_equal(esr(), APIC_ESR_ILLEGAL_REG);
    }
    assert_int_equal(esr(), 0);
}

static void test_unaligned_offset_reads_zero_without_error(void **state)
{
    (void)state;
    wr(APIC_OFF_TPR, 0x40);
    assert_int_equal(rd(APIC_OFF_TPR + 4), 0);
    wr(APIC_OFF_TPR + 4, 0x80);
    assert_int_equal(rd(APIC_OFF_TPR), 0x40);
    assert_int_equal(esr(), 0);
}

static void test_tpr_holds_eight_bits(void **state)
{
    (void)state;
    wr(APIC_OFF_TPR, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_TPR), 0xFF);
}

static void test_svr_writable_bits(void **state)
{
    (void)state;
    wr(APIC_OFF_SVR, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_SVR), 0x3FF); /* vector, enable, focus; no bit 12 */
    wr(APIC_OFF_SVR, 0x1E0);
    assert_int_equal(rd(APIC_OFF_SVR), 0x1E0);
}

static void test_ldr_and_dfr_in_xapic_mode(void **state)
{
    (void)state;
    wr(APIC_OFF_LDR, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_LDR), 0xFF000000);
    wr(APIC_OFF_DFR, 0x0);
    assert_int_equal(rd(APIC_OFF_DFR), 0x0FFFFFFF); /* bits 27:0 read as ones */
    wr(APIC_OFF_DFR, 0xF0000000);
    assert_int_equal(rd(APIC_OFF_DFR), 0xFFFFFFFF);
}

static void test_lvt_writable_bits(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, 0xFFFDFFFF); /* all ones but mode 10b (TSC-deadline) */
    assert_int_equal(rd(APIC_OFF_LVT_TMR), 0x500FF);
    wr(APIC_OFF_LVT_THM, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_LVT_THM), 0x107FF);
    wr(APIC_OFF_LVT_PMC, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_LVT_PMC), 0x107FF);
    wr(APIC_OFF_LINT0, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_LINT0), 0x1A7FF); /* no delivery status, no remote IRR */
    wr(APIC_OFF_LINT1, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_LINT1), 0x1A7FF);
    wr(APIC_OFF_LVT_ERR, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_LVT_ERR), 0x100FF);
}

static void test_lvt_timer_reserved_mode_keeps_the_mode(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_PERIODIC << 17) | 0x40);
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_RESERVED << 17) | 0x41);
    assert_int_equal(rd(APIC_OFF_LVT_TMR), (APIC_TMR_PERIODIC << 17) | 0x41);
}

/* ---- IRR, ISR, TMR and priorities ---- */

static void test_set_intr_sets_irr_and_tmr_for_level(void **state)
{
    (void)state;
    assert_int_equal(vlapic_set_intr(&apic, 0x41, true), 0);
    assert_int_equal(vlapic_set_intr(&apic, 0xFF, false), 0);
    assert_int_equal(rd(APIC_OFF_IRR0 + 0x20), 1u << 1);
    assert_int_equal(rd(APIC_OFF_TMR0 + 0x20), 1u << 1);
    assert_int_equal(rd(APIC_OFF_IRR0 + 0x70), 1u << 31);
    assert_int_equal(rd(APIC_OFF_TMR0 + 0x70), 0);
    /* an edge for the same vector clears TMR (SDM APIC 10.8.4) */
    vlapic_set_intr(&apic, 0x41, false);
    assert_int_equal(rd(APIC_OFF_TMR0 + 0x20), 0);
}

static void test_irr_isr_tmr_are_read_only(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 0x41, true);
    take();
    vlapic_set_intr(&apic, 0x42, false);
    for (unsigned i = 0; i < 8; i++) {
        wr(APIC_OFF_ISR0 + i * 0x10, 0);
        wr(APIC_OFF_TMR0 + i * 0x10, 0xFFFFFFFF);
        wr(APIC_OFF_IRR0 + i * 0x10, 0);
    }
    assert_int_equal(rd(APIC_OFF_ISR0 + 0x20), 1u << 1);
    assert_int_equal(rd(APIC_OFF_TMR0 + 0x20), 1u << 1);
    assert_int_equal(rd(APIC_OFF_TMR0), 0);
    assert_int_equal(rd(APIC_OFF_IRR0 + 0x20), 1u << 2);
}

static void test_highest_irr_vector_is_delivered_first(void **state)
{
    (void)state;
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    vlapic_set_intr(&apic, 0x31, false);
    vlapic_set_intr(&apic, 0x80, false);
    vlapic_set_intr(&apic, 0x7F, false);
    assert_int_equal(take(), 0x80);
    assert_false(irr_has(0x80));
    assert_int_equal(rd(APIC_OFF_ISR0 + 0x40), 1); /* 0x80 in service */
}

static void test_ppr_is_tpr_or_isr_class(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 0x51, false);
    take();
    wr(APIC_OFF_TPR, 0x30);
    assert_int_equal(rd(APIC_OFF_PPR), 0x50); /* ISRV class, bits 3:0 zero */
    wr(APIC_OFF_TPR, 0x53);
    assert_int_equal(rd(APIC_OFF_PPR), 0x53); /* TPR[7:4] >= ISRV[7:4]: PPR = TPR */
    wr(APIC_OFF_TPR, 0x65);
    assert_int_equal(rd(APIC_OFF_PPR), 0x65);
    wr(APIC_OFF_TPR, 0);
    wr(APIC_OFF_EOI, 0);
    assert_int_equal(rd(APIC_OFF_PPR), 0);
}

static void test_tpr_blocks_vectors_of_its_class_and_below(void **state)
{
    (void)state;
    wr(APIC_OFF_TPR, 0x50);
    vlapic_set_intr(&apic, 0x5F, false);
    assert_int_equal(vlapic_pending_intr(&apic), -1); /* class 5 is not above 5 */
    wr(APIC_OFF_TPR, 0x4F);
    assert_int_equal(vlapic_pending_intr(&apic), 0x5F);
    wr(APIC_OFF_TPR, 0x50);
    vlapic_set_intr(&apic, 0x60, false);
    assert_int_equal(vlapic_pending_intr(&apic), 0x60);
}

static void test_isr_blocks_same_class_and_nests_higher(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 0x45, false);
    assert_int_equal(take(), 0x45);
    vlapic_set_intr(&apic, 0x4A, false);
    assert_int_equal(vlapic_pending_intr(&apic), -1); /* same class as the one in service */
    vlapic_set_intr(&apic, 0x90, false);
    assert_int_equal(take(), 0x90); /* nests */
    vlapic_set_intr(&apic, 0x60, false);
    assert_int_equal(vlapic_pending_intr(&apic), -1); /* below 0x90 in service */
    wr(APIC_OFF_EOI, 0);                              /* retires 0x90, the highest in service */
    assert_int_equal(rd(APIC_OFF_ISR0 + 0x40), 0);
    assert_int_equal(rd(APIC_OFF_ISR0 + 0x20), 1u << 5);
    assert_int_equal(take(), 0x60);
    wr(APIC_OFF_EOI, 0);
    assert_int_equal(vlapic_pending_intr(&apic), -1); /* 0x45 still in service */
    wr(APIC_OFF_EOI, 0);
    assert_int_equal(take(), 0x4A);
}

static void test_eoi_of_edge_vector_sends_no_eoi_message(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 0x40, false);
    take();
    wr(APIC_OFF_EOI, 0);
    assert_int_equal(fk.eois, 0);
    assert_int_equal(rd(APIC_OFF_ISR0 + 0x20), 0);
}

static void test_eoi_of_level_vector_calls_eoi_callback(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 0x40, false);
    take();
    vlapic_set_intr(&apic, 0x71, true);
    take();
    wr(APIC_OFF_EOI, 0);
    assert_int_equal(fk.eois, 1);
    assert_int_equal(fk.eoi_vector, 0x71);
    wr(APIC_OFF_EOI, 0); /* 0x40, edge */
    assert_int_equal(fk.eois, 1);
    wr(APIC_OFF_EOI, 0); /* nothing in service: nothing happens */
    assert_int_equal(fk.eois, 1);
}

static void test_accepting_a_vector_not_pending_changes_nothing(void **state)
{
    (void)state;
    vlapic_intr_accepted(&apic, 0x40);
    assert_int_equal(rd(APIC_OFF_ISR0 + 0x20), 0);
    assert_int_equal(rd(APIC_OFF_PPR), 0);
}

/*
 * Every accepted interrupt kicks its vCPU, also one that must wait (TPR, a vector in service):
 * with SMP the vCPU may share a CPU with the sender, and only a kick makes it run, EOI, and so
 * make the vector deliverable (issue 14: a same-CPU IPI round trip took a whole time slice).
 * Expected: a kick per accepted interrupt, and another when lowering TPR makes one deliverable.
 */
static void test_pending_interrupt_kicks_the_vcpu(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 0x40, false);
    assert_int_equal(fk.kicks, 1);
    assert_int_equal(fk.last_kick, APIC_ID);
    wr(APIC_OFF_TPR, 0xF0);
    vlapic_set_intr(&apic, 0x41, false);
    assert_int_equal(fk.kicks, 2); /* masked by TPR, but its vCPU is told */
    wr(APIC_OFF_TPR, 0);
    assert_int_equal(fk.kicks, 3); /* lowering TPR makes it deliverable */
}

static void test_illegal_vectors_set_receive_illegal_and_are_not_accepted(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 16; v++) {
        assert_int_equal(vlapic_set_intr(&apic, v, false), -1);
        assert_int_equal(esr(), APIC_ESR_RECV_ILLEGAL);
    }
    assert_int_equal(rd(APIC_OFF_IRR0), 0);
    assert_int_equal(vlapic_set_intr(&apic, 16, false), 0);
    assert_int_equal(rd(APIC_OFF_IRR0), 1u << 16);
    assert_int_equal(vlapic_set_intr(&apic, 256, false), -1);
}

static void test_esr_reads_what_the_last_write_latched(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 3, false);
    assert_int_equal(rd(APIC_OFF_ESR), 0); /* not latched yet */
    wr(APIC_OFF_ESR, 0xFFFFFFFF);          /* the value written does not matter */
    assert_int_equal(rd(APIC_OFF_ESR), APIC_ESR_RECV_ILLEGAL);
    assert_int_equal(rd(APIC_OFF_ESR), APIC_ESR_RECV_ILLEGAL); /* reading does not clear */
    wr(APIC_OFF_ESR, 0);
    assert_int_equal(rd(APIC_OFF_ESR), 0);
}

static void test_error_lvt_signals_errors_when_unmasked(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_ERR, 0xFE);
    vlapic_set_intr(&apic, 2, false);
    assert_int_equal(vlapic_pending_intr(&apic), 0xFE);
    /* an illegal error vector does not loop: it only adds "receive illegal" */
    wr(APIC_OFF_LVT_ERR, 0x05);
    rd(0x010);
    assert_int_equal(esr(), APIC_ESR_RECV_ILLEGAL | APIC_ESR_ILLEGAL_REG);
}

/* ---- software disable ---- */

static void test_software_disable_masks_lvts_and_keeps_them_masked(void **state)
{
    (void)state;
    wr(APIC_OFF_LINT0, APIC_DM_EXTINT << 8);
    wr(APIC_OFF_LVT_TMR, TIMER_V);
    wr(APIC_OFF_SVR, 0xFF);
    assert_int_equal(rd(APIC_OFF_LINT0), APIC_LVT_MASKED | (APIC_DM_EXTINT << 8));
    assert_int_equal(rd(APIC_OFF_LVT_TMR), APIC_LVT_MASKED | TIMER_V);
    wr(APIC_OFF_LVT_ERR, 0x33);
    assert_int_equal(rd(APIC_OFF_LVT_ERR), APIC_LVT_MASKED | 0x33);
    wr(APIC_OFF_SVR, SW_ON); /* enabling does not unmask */
    assert_int_equal(rd(APIC_OFF_LVT_ERR), APIC_LVT_MASKED | 0x33);
    wr(APIC_OFF_LVT_ERR, 0x33);
    assert_int_equal(rd(APIC_OFF_LVT_ERR), 0x33);
}

static void test_software_disabled_apic_drops_fixed_interrupts(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, 0x50, false);
    wr(APIC_OFF_SVR, 0xFF);
    assert_int_equal(vlapic_set_intr(&apic, 0x60, false), 0);
    assert_false(irr_has(0x60));
    assert_int_equal(vlapic_pending_intr(&apic), 0x50); /* what was pending is held */
}

/* ---- the timer ---- */

static void start_timer(unsigned mode, uint32_t tdcr, uint32_t count)
{
    wr(APIC_OFF_TDCR, tdcr);
    wr(APIC_OFF_LVT_TMR, (mode << 17) | TIMER_V);
    wr(APIC_OFF_TMICT, count);
}

static void test_every_divide_value(void **state)
{
    (void)state;
    static const struct {
        uint32_t tdcr;
        uint64_t div;
    } dv[] = {{0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1}};
    for (unsigned i = 0; i < 8; i++) {
        uint64_t start = fk.now;
        start_timer(APIC_TMR_ONESHOT, dv[i].tdcr, 1000);
        assert_int_equal(rd(APIC_OFF_TDCR), dv[i].tdcr);
        assert_int_equal(vdev_timers_next(&timers), start + 1000 * dv[i].div);
        advance_to(start + 10 * dv[i].div);
        assert_int_equal(rd(APIC_OFF_TMCCT), 990);
        advance_to(start + 1000 * dv[i].div - 1);
        assert_int_equal(vlapic_timer_interrupts(&apic), i);
        advance_to(start + 1000 * dv[i].div);
        assert_int_equal(vlapic_timer_interrupts(&apic), i + 1);
    }
}

static void test_tdcr_keeps_only_bits_0_1_3(void **state)
{
    (void)state;
    wr(APIC_OFF_TDCR, 0xFFFFFFFF);
    assert_int_equal(rd(APIC_OFF_TDCR), 0xB);
}

static void test_one_shot_fires_once_at_its_exact_deadline(void **state)
{
    (void)state;
    start_timer(APIC_TMR_ONESHOT, 0x3, 500); /* /16: 8000 TSC ticks */
    assert_int_equal(rd(APIC_OFF_TMICT), 500);
    assert_int_equal(advance_to(T0 + 7999), 0);
    assert_false(irr_has(TIMER_V));
    assert_int_equal(advance_to(T0 + 8000), 1);
    assert_true(irr_has(TIMER_V));
    assert_int_equal(vlapic_timer_interrupts(&apic), 1);
    assert_int_equal(rd(APIC_OFF_TMCCT), 0);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    assert_int_equal(rd(APIC_OFF_TMICT), 500); /* the initial count stays */
}

static void test_current_count_counts_down_with_guest_time(void **state)
{
    (void)state;
    start_timer(APIC_TMR_ONESHOT, 0x3, 100);
    assert_int_equal(rd(APIC_OFF_TMCCT), 100);
    fk.now = T0 + 1;
    assert_int_equal(rd(APIC_OFF_TMCCT), 100);
    fk.now = T0 + 16;
    assert_int_equal(rd(APIC_OFF_TMCCT), 99);
    fk.now = T0 + 16 * 99 + 15;
    assert_int_equal(rd(APIC_OFF_TMCCT), 1);
    fk.now = T0 + 1600; /* reached 0, interrupt not yet served */
    assert_int_equal(rd(APIC_OFF_TMCCT), 0);
}

static void test_periodic_rearms_from_previous_deadline_without_drift(void **state)
{
    (void)state;
    start_timer(APIC_TMR_PERIODIC, 0xB, 1000); /* /1: 1000 TSC ticks */
    advance_to(T0 + 1000 + 37);                /* served late */
    assert_int_equal(vlapic_timer_interrupts(&apic), 1);
    assert_int_equal(vdev_timers_next(&timers), T0 + 2000);
    assert_int_equal(rd(APIC_OFF_TMCCT), 1000 - 37);
    advance_to(T0 + 2000);
    assert_int_equal(vdev_timers_next(&timers), T0 + 3000);
    for (unsigned k = 3; k <= 10; k++)
        advance_to(T0 + k * 1000 + 999);
    assert_int_equal(vlapic_timer_interrupts(&apic), 10);
    assert_int_equal(vdev_timers_next(&timers), T0 + 11000);
}

static void test_periodic_that_missed_periods_keeps_its_phase(void **state)
{
    (void)state;
    start_timer(APIC_TMR_PERIODIC, 0xB, 1000);
    advance_to(T0 + 5500);
    assert_int_equal(vlapic_timer_interrupts(&apic), 1);
    assert_int_equal(vdev_timers_next(&timers), T0 + 6000);
    assert_int_equal(rd(APIC_OFF_TMCCT), 500);
}

static void test_periodic_current_count_reloads_before_service(void **state)
{
    (void)state;
    start_timer(APIC_TMR_PERIODIC, 0xB, 1000);
    fk.now = T0 + 1000;
    assert_int_equal(rd(APIC_OFF_TMCCT), 1000);
    fk.now = T0 + 1250;
    assert_int_equal(rd(APIC_OFF_TMCCT), 750);
}

static void test_masked_timer_counts_but_does_not_interrupt(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, APIC_LVT_MASKED | TIMER_V);
    wr(APIC_OFF_TDCR, 0xB);
    wr(APIC_OFF_TMICT, 100);
    fk.now = T0 + 40;
    assert_int_equal(rd(APIC_OFF_TMCCT), 60);
    advance_to(T0 + 100);
    assert_false(irr_has(TIMER_V));
    assert_int_equal(vlapic_timer_interrupts(&apic), 0);
    assert_int_equal(rd(APIC_OFF_TMCCT), 0);
}

static void test_initial_count_zero_stops_the_timer(void **state)
{
    (void)state;
    start_timer(APIC_TMR_PERIODIC, 0xB, 100);
    wr(APIC_OFF_TMICT, 0);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    assert_int_equal(rd(APIC_OFF_TMCCT), 0);
    advance_to(T0 + 1000);
    assert_int_equal(vlapic_timer_interrupts(&apic), 0);
}

static void test_rewriting_initial_count_restarts_the_count(void **state)
{
    (void)state;
    start_timer(APIC_TMR_ONESHOT, 0xB, 100);
    fk.now = T0 + 50;
    wr(APIC_OFF_TMICT, 100);
    assert_int_equal(vdev_timers_next(&timers), T0 + 150);
}

static void test_reprogramming_after_an_unserved_expiry_still_delivers_it(void **state)
{
    (void)state;
    start_timer(APIC_TMR_ONESHOT, 0xB, 100);
    fk.now = T0 + 150; /* expired, the run loop has not served it */
    wr(APIC_OFF_TMICT, 100);
    assert_int_equal(vlapic_timer_interrupts(&apic), 1);
    assert_int_equal(vdev_timers_next(&timers), T0 + 250);
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_DEADLINE << 17) | TIMER_V);
    vlapic_set_tsc_deadline(&apic, T0 + 300);
    fk.now = T0 + 310;
    vlapic_set_tsc_deadline(&apic, T0 + 400);
    assert_int_equal(vlapic_timer_interrupts(&apic), 2);
    assert_int_equal(vlapic_get_tsc_deadline(&apic), T0 + 400);
}

static void test_one_shot_to_periodic_keeps_the_running_count(void **state)
{
    (void)state;
    start_timer(APIC_TMR_ONESHOT, 0xB, 100);
    fk.now = T0 + 30;
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_PERIODIC << 17) | TIMER_V);
    assert_int_equal(rd(APIC_OFF_TMCCT), 70);
    advance_to(T0 + 100);
    assert_int_equal(vdev_timers_next(&timers), T0 + 200); /* it now reloads */
}

static void test_divide_change_keeps_the_current_count(void **state)
{
    (void)state;
    start_timer(APIC_TMR_ONESHOT, 0xB, 100);
    fk.now = T0 + 40;
    wr(APIC_OFF_TDCR, 0x0); /* /2 from now on */
    assert_int_equal(rd(APIC_OFF_TMCCT), 60);
    assert_int_equal(vdev_timers_next(&timers), T0 + 40 + 120);
}

static void test_timer_vector_below_16_is_an_error(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, 0x0F);
    wr(APIC_OFF_TMICT, 1);
    advance_to(T0 + 2);
    assert_int_equal(vlapic_timer_interrupts(&apic), 0);
    assert_int_equal(esr(), APIC_ESR_RECV_ILLEGAL);
}

static void test_tsc_deadline_fires_at_deadline_and_clears_msr(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_DEADLINE << 17) | TIMER_V);
    vlapic_set_tsc_deadline(&apic, T0 + 12345);
    assert_int_equal(vlapic_get_tsc_deadline(&apic), T0 + 12345);
    assert_int_equal(vdev_timers_next(&timers), T0 + 12345);
    advance_to(T0 + 12344);
    assert_false(irr_has(TIMER_V));
    advance_to(T0 + 12345);
    assert_true(irr_has(TIMER_V));
    assert_int_equal(vlapic_get_tsc_deadline(&apic), 0);
    assert_int_equal(vlapic_timer_interrupts(&apic), 1);
}

static void test_tsc_deadline_zero_disarms_and_past_fires_at_once(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_DEADLINE << 17) | TIMER_V);
    vlapic_set_tsc_deadline(&apic, T0 + 100);
    vlapic_set_tsc_deadline(&apic, 0);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    advance_to(T0 + 200);
    assert_int_equal(vlapic_timer_interrupts(&apic), 0);
    vlapic_set_tsc_deadline(&apic, T0 + 150); /* already past */
    assert_true(irr_has(TIMER_V));
    assert_int_equal(vlapic_timer_interrupts(&apic), 1);
    assert_int_equal(vlapic_get_tsc_deadline(&apic), 0);
}

static void test_tsc_deadline_mode_ignores_initial_count(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_DEADLINE << 17) | TIMER_V);
    wr(APIC_OFF_TMICT, 100);
    assert_int_equal(rd(APIC_OFF_TMICT), 0);
    assert_int_equal(rd(APIC_OFF_TMCCT), 0);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
}

static void test_tsc_deadline_msr_ignored_outside_deadline_mode(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, TIMER_V);
    vlapic_set_tsc_deadline(&apic, T0 + 100);
    assert_int_equal(vlapic_get_tsc_deadline(&apic), 0);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
}

static void test_switching_to_and_from_deadline_mode_disarms(void **state)
{
    (void)state;
    start_timer(APIC_TMR_ONESHOT, 0xB, 100);
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_DEADLINE << 17) | TIMER_V);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    assert_int_equal(rd(APIC_OFF_TMICT), 0);
    vlapic_set_tsc_deadline(&apic, T0 + 500);
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_PERIODIC << 17) | TIMER_V);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    wr(APIC_OFF_LVT_TMR, (APIC_TMR_DEADLINE << 17) | TIMER_V);
    assert_int_equal(vlapic_get_tsc_deadline(&apic), 0);
    advance_to(T0 + 1000);
    assert_int_equal(vlapic_timer_interrupts(&apic), 0);
}

static void test_masked_tsc_deadline_expires_without_interrupt(void **state)
{
    (void)state;
    wr(APIC_OFF_LVT_TMR, APIC_LVT_MASKED | (APIC_TMR_DEADLINE << 17) | TIMER_V);
    vlapic_set_tsc_deadline(&apic, T0 + 10);
    advance_to(T0 + 10);
    assert_false(irr_has(TIMER_V));
    assert_int_equal(vlapic_get_tsc_deadline(&apic), 0);
}

/* ---- IA32_APIC_BASE ---- */

static void test_apic_base_legal_transitions(void **state)
{
    (void)state;
    const uint64_t off = VLAPIC_BASE_ADDR, xapic = off | APIC_BASE_EN, x2 = xapic | APIC_BASE_EXTD;
    assert_int_equal(vlapic_set_base(&apic, x2), 0); /* xAPIC -> x2APIC */
    assert_true(vlapic_x2apic_mode(&apic));
    assert_int_equal(vlapic_set_base(&apic, xapic), -1); /* x2APIC -> xAPIC */
    assert_true(vlapic_x2apic_mode(&apic));
    assert_int_equal(vlapic_set_base(&apic, off), 0); /* x2APIC -> disabled */
    assert_int_equal(vlapic_get_base(&apic), off | APIC_BASE_BSP);
    assert_int_equal(vlapic_set_base(&apic, x2), -1);                   /* disabled -> x2APIC */
    assert_int_equal(vlapic_set_base(&apic, off | APIC_BASE_EXTD), -1); /* invalid state */
    assert_int_equal(vlapic_set_base(&apic, xapic), 0);                 /* disabled -> xAPIC */
    assert_false(vlapic_x2apic_mode(&apic));
    assert_int_equal(vlapic_set_base(&apic, xapic | APIC_BASE_BSP), 0); /* no change */
    assert_int_equal(vlapic_set_base(&apic, off | APIC_BASE_EXTD), -1);
}

static void test_apic_base_relocation_and_reserved_bits_are_gp(void **state)
{
    (void)state;
    assert_int_equal(vlapic_set_base(&apic, 0xFED00000 | APIC_BASE_EN), -1);
    assert_int_equal(vlapic_set_base(&apic, 0x1FEE00000ull | APIC_BASE_EN), -1);
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN | 0x200), -1);
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN | 0x1), -1);
    assert_int_equal(vlapic_get_base(&apic), 0xFEE00900);
    /* the BSP flag cannot be changed */
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN), 0);
    assert_int_equal(vlapic_get_base(&apic), 0xFEE00900);
}

static void test_global_disable_resets_state_and_hides_the_page(void **state)
{
    (void)state;
    wr(APIC_OFF_TPR, 0x40);
    vlapic_set_intr(&apic, 0x80, false);
    start_timer(APIC_TMR_PERIODIC, 0xB, 100);
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR), 0);
    assert_int_equal(rd(APIC_OFF_TPR), 0xFFFFFFFF); /* not decoded */
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    assert_int_equal(vlapic_set_intr(&apic, 0x90, false), 0);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    assert_true(vlapic_accepts_pic_intr(&apic));
    vlapic_lint(&apic, 1);
    assert_true(vlapic_take_nmi(&apic)); /* LINT1 is the NMI pin */
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN), 0);
    assert_int_equal(rd(APIC_OFF_TPR), 0);
    assert_int_equal(rd(APIC_OFF_SVR), 0xFF);
    assert_int_equal(rd(APIC_OFF_IRR0 + 0x40), 0);
    assert_int_equal(rd(APIC_OFF_ID), APIC_ID << 24); /* the ID survives */
}

/* ---- x2APIC ---- */

static void test_x2apic_id_and_derived_ldr(void **state)
{
    (void)state;
    init_apic(0x23, false);
    to_x2apic();
    assert_int_equal(msr_rd(0x802), 0x23);
    assert_int_equal(msr_rd(0x80D), (0x2u << 16) | (1u << 3));
    assert_int_equal(msr_rd(0x803), APIC_VERSION_VALUE);
    assert_int_equal(vlapic_wrmsr(&apic, 0x80D, 0), -1); /* LDR read-only */
    assert_int_equal(vlapic_wrmsr(&apic, 0x802, 0), -1); /* ID read-only */
    init_apic(0x10, false);
    to_x2apic();
    assert_int_equal(msr_rd(0x80D), 0x00010001);
}

static void test_x2apic_msrs_gp_outside_x2apic_mode(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(vlapic_rdmsr(&apic, 0x808, &v), -1);
    assert_int_equal(vlapic_wrmsr(&apic, 0x808, 0), -1);
}

static void test_x2apic_reserved_and_write_only_msrs_gp(void **state)
{
    (void)state;
    uint64_t v;
    to_x2apic();
    static const uint32_t no_read[] = {0x800, 0x801, 0x804, 0x809, 0x80B, 0x80C, 0x80E,
                                       0x829, 0x82F, 0x831, 0x83A, 0x83F, 0x840, 0x8FF};
    for (unsigned i = 0; i < sizeof(no_read) / sizeof(no_read[0]); i++)
        assert_int_equal(vlapic_rdmsr(&apic, no_read[i], &v), -1);
    static const uint32_t no_write[] = {0x800, 0x802, 0x803, 0x809, 0x80A, 0x80C, 0x80D, 0x80E,
                                        0x810, 0x818, 0x820, 0x827, 0x831, 0x839, 0x840};
    for (unsigned i = 0; i < sizeof(no_write) / sizeof(no_write[0]); i++)
        assert_int_equal(vlapic_wrmsr(&apic, no_write[i], 0), -1);
    assert_int_equal(vlapic_rdmsr(&apic, 0x7FF, &v), -1);
    assert_int_equal(vlapic_rdmsr(&apic, 0x900, &v), -1);
}

static void test_x2apic_eoi_esr_nonzero_and_high_bits_gp(void **state)
{
    (void)state;
    to_x2apic();
    vlapic_set_intr(&apic, 0x40, true);
    take();
    assert_int_equal(vlapic_wrmsr(&apic, 0x80B, 1), -1);
    assert_int_equal(fk.eois, 0);
    assert_int_equal(vlapic_wrmsr(&apic, 0x80B, 0), 0);
    assert_int_equal(fk.eois, 1);
    assert_int_equal(vlapic_wrmsr(&apic, 0x828, 1), -1);
    assert_int_equal(vlapic_wrmsr(&apic, 0x828, 0), 0);
    assert_int_equal(vlapic_wrmsr(&apic, 0x808, 1ull << 32), -1);
    assert_int_equal(vlapic_wrmsr(&apic, 0x808, 0x20), 0);
    assert_int_equal(msr_rd(0x808), 0x20);
    assert_int_equal(msr_rd(0x80A), 0x20);
}

static void test_x2apic_registers_match_the_xapic_ones(void **state)
{
    (void)state;
    wr(APIC_OFF_TPR, 0x30);
    wr(APIC_OFF_LVT_ERR, 0x44);
    vlapic_set_intr(&apic, 0x91, true);
    to_x2apic();
    assert_int_equal(msr_rd(0x808), 0x30); /* state survives xAPIC -> x2APIC */
    assert_int_equal(msr_rd(0x837), 0x44);
    assert_int_equal(msr_rd(0x824), 1u << 17);
    assert_int_equal(msr_rd(0x81C), 1u << 17);
    assert_int_equal(vlapic_wrmsr(&apic, 0x835, APIC_DM_EXTINT << 8), 0);
    assert_int_equal(msr_rd(0x835), APIC_DM_EXTINT << 8);
    assert_int_equal(vlapic_wrmsr(&apic, 0x83E, 0xB), 0);
    assert_int_equal(vlapic_wrmsr(&apic, 0x832, TIMER_V), 0);
    assert_int_equal(vlapic_wrmsr(&apic, 0x838, 100), 0);
    fk.now = T0 + 25;
    assert_int_equal(msr_rd(0x839), 75);
    assert_int_equal(msr_rd(0x838), 100);
    assert_int_equal(vlapic_wrmsr(&apic, 0x839, 5), -1); /* current count read-only */
    assert_int_equal(rd(APIC_OFF_TPR), 0xFFFFFFFF);      /* the page is not decoded */
}

static void test_x2apic_self_ipi(void **state)
{
    (void)state;
    to_x2apic();
    assert_int_equal(vlapic_wrmsr(&apic, X2APIC_MSR_SELF, 0x61), 0);
    assert_int_equal(vlapic_pending_intr(&apic), 0x61);
    assert_int_equal(fk.ipis, 0);
    assert_int_equal(vlapic_wrmsr(&apic, X2APIC_MSR_SELF, 0x7), 0);
    assert_int_equal(vlapic_wrmsr(&apic, 0x828, 0), 0);
    assert_int_equal(msr_rd(0x828), APIC_ESR_SEND_ILLEGAL);
}

static void test_x2apic_icr_is_one_64bit_register(void **state)
{
    (void)state;
    to_x2apic();
    uint64_t icr = (0x12345678ull << 32) | APIC_ICR_LOGICAL | 0x40;
    assert_int_equal(vlapic_wrmsr(&apic, X2APIC_MSR_ICR, icr), 0);
    assert_int_equal(msr_rd(X2APIC_MSR_ICR), icr);
    assert_int_equal(fk.ipis, 1);
    assert_int_equal(fk.ipi[0].dest, 0x12345678);
    assert_true(fk.ipi[0].logical);
    assert_int_equal(vlapic_pending_intr(&apic), -1); /* cluster 0x1234 is not ours */
    /* physical, our own 32-bit ID: local only */
    assert_int_equal(vlapic_wrmsr(&apic, X2APIC_MSR_ICR, ((uint64_t)APIC_ID << 32) | 0x50), 0);
    assert_int_equal(vlapic_pending_intr(&apic), 0x50);
    assert_int_equal(fk.ipis, 1);
}

static void test_x2apic_logical_destination_matches_cluster_and_bit(void **state)
{
    (void)state;
    to_x2apic(); /* ID 3: cluster 0, bit 3 */
    vlapic_wrmsr(&apic, X2APIC_MSR_ICR, (0x00000008ull << 32) | APIC_ICR_LOGICAL | 0x70);
    assert_int_equal(vlapic_pending_intr(&apic), 0x70);
    vlapic_wrmsr(&apic, X2APIC_MSR_ICR, (0x00010008ull << 32) | APIC_ICR_LOGICAL | 0x80);
    assert_int_equal(vlapic_pending_intr(&apic), 0x70); /* cluster 1 */
    vlapic_wrmsr(&apic, X2APIC_MSR_ICR, (0xFFFFFFFFull << 32) | 0x90);
    assert_int_equal(vlapic_pending_intr(&apic), 0x90); /* broadcast */
    assert_int_equal(fk.ipis, 3);
}

/* ---- ICR in xAPIC mode ---- */

static void send(uint32_t hi, uint32_t lo)
{
    wr(APIC_OFF_ICR_HI, hi);
    wr(APIC_OFF_ICR_LO, lo);
}

static void test_icr_self_shorthand_delivers_locally(void **state)
{
    (void)state;
    send(0, (APIC_SH_SELF << 18) | 0x55);
    assert_int_equal(vlapic_pending_intr(&apic), 0x55);
    assert_int_equal(fk.ipis, 0);
    assert_int_equal(rd(APIC_OFF_ICR_LO), (APIC_SH_SELF << 18) | 0x55);
}

static void test_icr_all_including_self_delivers_and_forwards(void **state)
{
    (void)state;
    send(0, (APIC_SH_ALL << 18) | 0x56);
    assert_int_equal(vlapic_pending_intr(&apic), 0x56);
    assert_int_equal(fk.ipis, 1);
    assert_int_equal(fk.ipi[0].sh, APIC_SH_ALL);
    assert_int_equal(fk.ipi[0].src, APIC_ID);
    assert_int_equal(fk.ipi[0].vector, 0x56);
    assert_int_equal(fk.ipi[0].mode, APIC_DM_FIXED);
}

static void test_icr_all_excluding_self_only_forwards(void **state)
{
    (void)state;
    send(0, (APIC_SH_OTHERS << 18) | 0x57);
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    assert_int_equal(fk.ipis, 1);
    assert_int_equal(fk.ipi[0].sh, APIC_SH_OTHERS);
}

static void test_icr_physical_destination(void **state)
{
    (void)state;
    send(APIC_ID << 24, 0x58);
    assert_int_equal(vlapic_pending_intr(&apic), 0x58);
    assert_int_equal(fk.ipis, 0);
    send(5u << 24, 0x59);
    assert_int_equal(vlapic_pending_intr(&apic), 0x58);
    assert_int_equal(fk.ipis, 1);
    assert_int_equal(fk.ipi[0].dest, 5);
    assert_false(fk.ipi[0].logical);
    send(0xFFu << 24, 0x5A); /* broadcast: us and the others */
    assert_int_equal(vlapic_pending_intr(&apic), 0x5A);
    assert_int_equal(fk.ipis, 2);
}

static void test_icr_logical_flat_destination(void **state)
{
    (void)state;
    wr(APIC_OFF_LDR, 0x04000000);
    send(0x03u << 24, APIC_ICR_LOGICAL | 0x60);
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    send(0x06u << 24, APIC_ICR_LOGICAL | 0x61);
    assert_int_equal(vlapic_pending_intr(&apic), 0x61);
    assert_int_equal(fk.ipis, 2); /* others may match too */
    assert_true(fk.ipi[1].logical);
    assert_int_equal(fk.ipi[1].dest, 0x06);
}

static void test_icr_logical_cluster_destination(void **state)
{
    (void)state;
    wr(APIC_OFF_DFR, APIC_DFR_CLUSTER);
    wr(APIC_OFF_LDR, 0x32000000); /* cluster 3, member bit 1 */
    send(0x22u << 24, APIC_ICR_LOGICAL | 0x60);
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    send(0x31u << 24, APIC_ICR_LOGICAL | 0x61);
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    send(0x36u << 24, APIC_ICR_LOGICAL | 0x62);
    assert_int_equal(vlapic_pending_intr(&apic), 0x62);
}

static void test_icr_illegal_vector_sets_send_illegal(void **state)
{
    (void)state;
    send(0, (APIC_SH_ALL << 18) | 0x0E);
    assert_int_equal(rd(APIC_OFF_IRR0), 0);
    assert_int_equal(fk.ipis, 0);
    assert_int_equal(esr(), APIC_ESR_SEND_ILLEGAL);
}

static void test_icr_nmi_to_self_is_taken_once(void **state)
{
    (void)state;
    assert_false(vlapic_take_nmi(&apic));
    send(0, (APIC_SH_SELF << 18) | (APIC_DM_NMI << 8));
    assert_true(vlapic_take_nmi(&apic));
    assert_false(vlapic_take_nmi(&apic));
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    assert_int_equal(fk.ipis, 0);
    assert_true(fk.kicks > 0);
}

static void test_icr_init_and_startup_go_to_the_callback(void **state)
{
    (void)state;
    send(1u << 24, APIC_ICR_LEVEL | APIC_ICR_TRIGGER | (APIC_DM_INIT << 8));
    send(1u << 24, APIC_ICR_TRIGGER | (APIC_DM_INIT << 8)); /* INIT de-assert: not sent */
    send(1u << 24, (APIC_DM_STARTUP << 8) | 0x9A);
    send(APIC_ID << 24, APIC_ICR_LEVEL | (APIC_DM_INIT << 8)); /* even to ourselves */
    assert_int_equal(fk.ipis, 3);
    assert_int_equal(fk.ipi[0].mode, APIC_DM_INIT);
    assert_int_equal(fk.ipi[0].dest, 1);
    assert_int_equal(fk.ipi[1].mode, APIC_DM_STARTUP);
    assert_int_equal(fk.ipi[1].vector, 0x9A);
    assert_int_equal(fk.ipi[2].dest, APIC_ID);
    assert_int_equal(vlapic_pending_intr(&apic), -1);
}

static void test_icr_delivery_status_reads_idle(void **state)
{
    (void)state;
    send(0xFFFFFFFF, APIC_ICR_STATUS | (APIC_SH_OTHERS << 18) | 0x40);
    assert_int_equal(rd(APIC_OFF_ICR_LO) & APIC_ICR_STATUS, 0);
    assert_int_equal(rd(APIC_OFF_ICR_HI), 0xFF000000);
}

/* ---- LINT0, LINT1, CR8 ---- */

static void test_pic_intr_needs_lint0_extint_unmasked(void **state)
{
    (void)state;
    assert_false(vlapic_accepts_pic_intr(&apic)); /* masked after reset */
    wr(APIC_OFF_LINT0, APIC_DM_EXTINT << 8);
    assert_true(vlapic_accepts_pic_intr(&apic));
    wr(APIC_OFF_LINT0, APIC_LVT_MASKED | (APIC_DM_EXTINT << 8));
    assert_false(vlapic_accepts_pic_intr(&apic));
    wr(APIC_OFF_LINT0, APIC_DM_FIXED << 8);
    assert_false(vlapic_accepts_pic_intr(&apic));
}

static void test_virtual_wire_state(void **state)
{
    (void)state;
    init_apic(0, true);
    vlapic_set_virtual_wire(&apic);
    assert_true(vlapic_accepts_pic_intr(&apic));
    assert_int_equal(rd(APIC_OFF_SVR) & APIC_SVR_ENABLE, APIC_SVR_ENABLE);
    vlapic_lint(&apic, 1);
    assert_true(vlapic_take_nmi(&apic));
    vlapic_lint(&apic, 0); /* ExtINT: the PIC's business */
    assert_int_equal(vlapic_pending_intr(&apic), -1);
}

static void test_lint_pins_follow_their_lvt(void **state)
{
    (void)state;
    vlapic_lint(&apic, 1);
    assert_false(vlapic_take_nmi(&apic)); /* masked */
    wr(APIC_OFF_LINT1, APIC_DM_NMI << 8);
    vlapic_lint(&apic, 1);
    assert_true(vlapic_take_nmi(&apic));
    wr(APIC_OFF_LINT0, APIC_LVT_LEVEL | 0x70);
    vlapic_lint(&apic, 0);
    assert_int_equal(vlapic_pending_intr(&apic), 0x70);
    assert_int_equal(rd(APIC_OFF_TMR0 + 0x30), 1u << 16);
}

static void test_cr8_is_tpr_high_nibble(void **state)
{
    (void)state;
    wr(APIC_OFF_TPR, 0x7C);
    assert_int_equal(vlapic_get_cr8(&apic), 7);
    vlapic_set_cr8(&apic, 0x3);
    assert_int_equal(rd(APIC_OFF_TPR), 0x30);
}

/* ---- the virtual-APIC page and the bus ops ---- */

static void test_sync_to_page_mirrors_registers(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_SIZE / 4];
    memset(page, 0xAA, sizeof(page));
    wr(APIC_OFF_TPR, 0x20);
    vlapic_set_intr(&apic, 0x81, false);
    vlapic_sync_to_page(&apic, page);
    assert_int_equal(page[APIC_OFF_ID / 4], APIC_ID << 24);
    assert_int_equal(page[APIC_OFF_TPR / 4], 0x20);
    assert_int_equal(page[(APIC_OFF_IRR0 + 0x40) / 4], 1u << 1);
    assert_int_equal(page[APIC_OFF_SVR / 4], SW_ON);
    /* only the register words are written (vlapic_attach_page clears the rest once) */
    assert_int_equal(page[APIC_OFF_TPR / 4 + 1], 0xAAAAAAAAu);
    assert_int_equal(page[0x800 / 4], 0xAAAAAAAAu);
}

static void test_attached_page_clears_and_mirrors(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_SIZE / 4];
    memset(page, 0xAA, sizeof(page));
    wr(APIC_OFF_TPR, 0x20);
    vlapic_attach_page(&apic, page);
    assert_int_equal(page[APIC_OFF_TPR / 4], 0x20); /* the TPR moves to the page */
    assert_int_equal(page[APIC_OFF_TPR / 4 + 1], 0);
    assert_int_equal(page[0x800 / 4], 0);
    assert_int_equal(page[APIC_OFF_ID / 4], APIC_ID << 24);
}

/* SDM vol. 3 "TPR Virtualization": the guest writes the page's TPR without an exit. */
static void test_page_tpr_is_the_tpr(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_SIZE / 4];
    vlapic_attach_page(&apic, page);
    vlapic_set_intr(&apic, 0x45, false);
    assert_int_equal(vlapic_pending_intr(&apic), 0x45);
    page[APIC_OFF_TPR / 4] = 0x40;
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    assert_int_equal(rd(APIC_OFF_PPR), 0x40);
    assert_int_equal(vlapic_get_cr8(&apic), 4);
    vlapic_set_cr8(&apic, 1);
    assert_int_equal(page[APIC_OFF_TPR / 4], 0x10);
    assert_int_equal(vlapic_pending_intr(&apic), 0x45);
}

static void test_refresh_rewrites_only_after_a_change(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_SIZE / 4];
    vlapic_attach_page(&apic, page);
    page[APIC_OFF_LVT_ERR / 4] = 0x1234; /* stale contents hv does not rewrite needlessly */
    vlapic_refresh_page(&apic);
    assert_int_equal(page[APIC_OFF_LVT_ERR / 4], 0x1234);
    vlapic_set_intr(&apic, 0x81, false); /* IRR changes: its register follows, nothing else */
    vlapic_refresh_page(&apic);
    assert_int_equal(page[(APIC_OFF_IRR0 + 0x40) / 4], 1u << 1);
    assert_int_equal(page[APIC_OFF_LVT_ERR / 4], 0x1234);
    vlapic_intr_accepted(&apic, 0x81);
    vlapic_refresh_page(&apic);
    assert_int_equal(page[(APIC_OFF_IRR0 + 0x40) / 4], 0);
    assert_int_equal(page[(APIC_OFF_ISR0 + 0x40) / 4], 1u << 1);
    assert_int_equal(page[APIC_OFF_PPR / 4], 0x80);
    assert_int_equal(page[APIC_OFF_LVT_ERR / 4], 0x1234);
    /* an EOI written on the page (an APIC-write exit): ISR, PPR and EOI itself are rewritten */
    page[APIC_OFF_EOI / 4] = 0;
    vlapic_apic_write(&apic, APIC_OFF_EOI);
    vlapic_refresh_page(&apic);
    assert_int_equal(page[(APIC_OFF_ISR0 + 0x40) / 4], 0);
    assert_int_equal(page[APIC_OFF_PPR / 4], 0);
    assert_int_equal(page[APIC_OFF_LVT_ERR / 4], 0x1234);
    /* any other register write may change several registers: the whole page follows */
    page[APIC_OFF_LINT0 / 4] = APIC_LVT_MASKED;
    vlapic_apic_write(&apic, APIC_OFF_LINT0);
    vlapic_refresh_page(&apic);
    assert_int_equal(page[APIC_OFF_LVT_ERR / 4], APIC_LVT_MASKED);
}

static void test_tpr_threshold(void **state)
{
    (void)state;
    assert_int_equal(vlapic_tpr_threshold(&apic), 0); /* nothing pending */
    wr(APIC_OFF_TPR, 0x50);
    vlapic_set_intr(&apic, 0x45, false);
    assert_int_equal(vlapic_tpr_threshold(&apic), 4); /* held back by the TPR alone */
    vlapic_set_intr(&apic, 0x61, false);
    assert_int_equal(vlapic_tpr_threshold(&apic), 0); /* 0x61 is deliverable: no threshold */
    vlapic_intr_accepted(&apic, 0x61);
    assert_int_equal(vlapic_tpr_threshold(&apic), 0); /* 0x45 waits for the EOI of 0x61 */
}

static void test_apic_write_from_page(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_SIZE / 4];
    vlapic_attach_page(&apic, page);
    /* periodic, vector 0xEF, with reserved bits and delivery status set: those do not stick */
    page[APIC_OFF_LVT_TMR / 4] = 0xF00210EFu;
    vlapic_apic_write(&apic, APIC_OFF_LVT_TMR);
    assert_int_equal(rd(APIC_OFF_LVT_TMR), 0x000200EFu);
    vlapic_apic_write(&apic, 0x1001); /* out of the page or unaligned: ignored */
    vlapic_apic_write(&apic, APIC_OFF_LVT_TMR + 1);
}

static void test_bus_ops_byte_reads_and_narrow_writes(void **state)
{
    (void)state;
    assert_int_equal(vlapic_mmio_ops.read(&apic, APIC_OFF_ID + 3, 1), APIC_ID);
    assert_int_equal(vlapic_mmio_ops.read(&apic, APIC_OFF_VERSION + 2, 2), 0x0005);
    vlapic_mmio_ops.write(&apic, APIC_OFF_TPR, 1, 0x80);
    assert_int_equal(rd(APIC_OFF_TPR), 0);
    vlapic_mmio_ops.write(&apic, APIC_OFF_TPR, 4, 0x80);
    assert_int_equal(vlapic_mmio_ops.read(&apic, APIC_OFF_TPR, 4), 0x80);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_power_up_state_per_sdm),
        T(test_id_version_ppr_are_read_only),
        T(test_reserved_offsets_read_zero_and_set_illegal_register),
        T(test_unaligned_offset_reads_zero_without_error),
        T(test_tpr_holds_eight_bits),
        T(test_svr_writable_bits),
        T(test_ldr_and_dfr_in_xapic_mode),
        T(test_lvt_writable_bits),
        T(test_lvt_timer_reserved_mode_keeps_the_mode),
        T(test_set_intr_sets_irr_and_tmr_for_level),
        T(test_irr_isr_tmr_are_read_only),
        T(test_highest_irr_vector_is_delivered_first),
        T(test_ppr_is_tpr_or_isr_class),
        T(test_tpr_blocks_vectors_of_its_class_and_below),
        T(test_isr_blocks_same_class_and_nests_higher),
        T(test_eoi_of_edge_vector_sends_no_eoi_message),
        T(test_eoi_of_level_vector_calls_eoi_callback),
        T(test_accepting_a_vector_not_pending_changes_nothing),
        T(test_pending_interrupt_kicks_the_vcpu),
        T(test_illegal_vectors_set_receive_illegal_and_are_not_accepted),
        T(test_esr_reads_what_the_last_write_latched),
        T(test_error_lvt_signals_errors_when_unmasked),
        T(test_software_disable_masks_lvts_and_keeps_them_masked),
        T(test_software_disabled_apic_drops_fixed_interrupts),
        T(test_every_divide_value),
        T(test_tdcr_keeps_only_bits_0_1_3),
        T(test_one_shot_fires_once_at_its_exact_deadline),
        T(test_current_count_counts_down_with_guest_time),
        T(test_periodic_rearms_from_previous_deadline_without_drift),
        T(test_periodic_that_missed_periods_keeps_its_phase),
        T(test_periodic_current_count_reloads_before_service),
        T(test_masked_timer_counts_but_does_not_interrupt),
        T(test_initial_count_zero_stops_the_timer),
        T(test_rewriting_initial_count_restarts_the_count),
        T(test_reprogramming_after_an_unserved_expiry_still_delivers_it),
        T(test_one_shot_to_periodic_keeps_the_running_count),
        T(test_divide_change_keeps_the_current_count),
        T(test_timer_vector_below_16_is_an_error),
        T(test_tsc_deadline_fires_at_deadline_and_clears_msr),
        T(test_tsc_deadline_zero_disarms_and_past_fires_at_once),
        T(test_tsc_deadline_mode_ignores_initial_count),
        T(test_tsc_deadline_msr_ignored_outside_deadline_mode),
        T(test_switching_to_and_from_deadline_mode_disarms),
        T(test_masked_tsc_deadline_expires_without_interrupt),
        T(test_apic_base_legal_transitions),
        T(test_apic_base_relocation_and_reserved_bits_are_gp),
        T(test_global_disable_resets_state_and_hides_the_page),
        T(test_x2apic_id_and_derived_ldr),
        T(test_x2apic_msrs_gp_outside_x2apic_mode),
        T(test_x2apic_reserved_and_write_only_msrs_gp),
        T(test_x2apic_eoi_esr_nonzero_and_high_bits_gp),
        T(test_x2apic_registers_match_the_xapic_ones),
        T(test_x2apic_self_ipi),
        T(test_x2apic_icr_is_one_64bit_register),
        T(test_x2apic_logical_destination_matches_cluster_and_bit),
        T(test_icr_self_shorthand_delivers_locally),
        T(test_icr_all_including_self_delivers_and_forwards),
        T(test_icr_all_excluding_self_only_forwards),
        T(test_icr_physical_destination),
        T(test_icr_logical_flat_destination),
        T(test_icr_logical_cluster_destination),
        T(test_icr_illegal_vector_sets_send_illegal),
        T(test_icr_nmi_to_self_is_taken_once),
        T(test_icr_init_and_startup_go_to_the_callback),
        T(test_icr_delivery_status_reads_idle),
        T(test_pic_intr_needs_lint0_extint_unmasked),
        T(test_virtual_wire_state),
        T(test_lint_pins_follow_their_lvt),
        T(test_cr8_is_tpr_high_nibble),
        T(test_sync_to_page_mirrors_registers),
        T(test_attached_page_clears_and_mirrors),
        T(test_page_tpr_is_the_tpr),
        T(test_refresh_rewrites_only_after_a_change),
        T(test_tpr_threshold),
        T(test_apic_write_from_page),
        T(test_bus_ops_byte_reads_and_narrow_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
