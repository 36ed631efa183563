/* The 8254 PIT and port 0x61 (drivers/vdev/vpit.c) against the 8254 datasheet, with a fake
   guest clock, the timer service and the interrupt-line router feeding a recording sink. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vdev.h"
#include "drivers/vdev/vpic.h"
#include "drivers/vdev/vpit.h"
#include "tests/unit/fake.h"

#define TSC_HZ 2893123457ull /* no simple ratio to 1193182 Hz */
#define T0     1000000007ull /* the clock does not start at 0 */

#define CH0 0x40
#define CH1 0x41
#define CH2 0x42
#define CTL PIT_PORT_CONTROL

/* control words: counter << 6 | rw << 4 | mode << 1 */
#define CW(ch, rw, mode) ((uint8_t)((ch) << 6 | (rw) << 4 | (mode) << 1))

static struct vpit pit;
static struct vdev_bus bus;
static struct vdev_irq_router router;
static struct vdev_timers timers;
static uint64_t clock_now;

struct line_event {
    unsigned line;
    bool level;
    uint64_t at;
};
static struct line_event events[4096];
static unsigned event_count;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return clock_now;
}

static struct vdev_host host = {.ctx = 0, .now = fake_now, .name = "pittest"};

static void sink_set_line(void *ctl, unsigned line, bool asserted)
{
    (void)ctl;
    if (event_count < sizeof(events) / sizeof(events[0]))
        events[event_count++] = (struct line_event){line, asserted, clock_now};
}

/* Rising edges seen on ISA IRQ 0. */
static unsigned irq0_edges(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < event_count; i++)
        if (events[i].line == VDEV_IRQ_PIT && events[i].level)
            n++;
    return n;
}

/* The first TSC at which `clocks` PIT clocks have passed since `start` (exact arithmetic). */
static uint64_t tsc_at(uint64_t start, uint64_t clocks)
{
    unsigned __int128 num = (unsigned __int128)clocks * TSC_HZ;
    return start + (uint64_t)((num + PIT_HZ - 1) / PIT_HZ);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)vdev_bus_in(&bus, port, 1);
}

static void outb(uint16_t port, uint8_t value)
{
    vdev_bus_out(&bus, port, 1, value);
}

static void program(unsigned ch, unsigned mode, uint16_t count)
{
    outb(CTL, CW(ch, PIT_RW_WORD, mode));
    outb((uint16_t)(CH0 + ch), (uint8_t)count);
    outb((uint16_t)(CH0 + ch), (uint8_t)(count >> 8));
}

/* The counter latch command, then LSB and MSB. */
static uint16_t latched(unsigned ch)
{
    outb(CTL, CW(ch, PIT_RW_LATCH, 0));
    uint16_t lo = inb((uint16_t)(CH0 + ch));
    return (uint16_t)(lo | inb((uint16_t)(CH0 + ch)) << 8);
}

static uint8_t status(unsigned ch)
{
    outb(CTL, (uint8_t)(PIT_CW_SC_READ << PIT_CW_SC_SHIFT | PIT_RB_NO_COUNT |
                        1u << (PIT_RB_CNT_SHIFT + ch)));
    return inb((uint16_t)(CH0 + ch));
}

static bool out(unsigned ch)
{
    return status(ch) & PIT_STATUS_OUT;
}

static void at_clock(uint64_t start, uint64_t clocks)
{
    clock_now = tsc_at(start, clocks);
}

/* Runs the timer service at its next deadline (as the VM's run loop does). */
static uint64_t run_next(void)
{
    uint64_t next = vdev_timers_next(&timers);
    assert_true(next != UINT64_MAX);
    clock_now = next;
    assert_int_equal(vdev_timers_run(&timers, clock_now), 1);
    return next;
}

static int setup(void **state)
{
    (void)state;
    fake_log_reset();
    clock_now = T0;
    host.tsc_hz = TSC_HZ;
    event_count = 0;
    vdev_bus_init(&bus, &host);
    vdev_irq_init(&router);
    const struct vdev_irq_sink sink = {VDEV_IRQ_ISA, sink_set_line, 0};
    assert_int_equal(vdev_irq_add_sink(&router, &sink), 0);
    vdev_timers_init(&timers);
    vpit_init(&pit, &host, &timers, &router);
    assert_int_equal(vpit_attach(&pit, &bus), 0);
    return 0;
}

/* ---- attachment ---- */

static void test_attach_claims_ports(void **state)
{
    (void)state;
    struct vpit other;
    struct vdev_timers t2;
    vdev_timers_init(&t2);
    vpit_init(&other, &host, &t2, &router);
    assert_int_equal(vpit_attach(&other, &bus), -1); /* 0x40-0x43 taken */
    assert_int_equal(inb(CTL), 0xFF);                /* write-only */
    assert_int_equal(inb(0x44), 0xFF);               /* not the PIT's */
}

static void test_attach_fails_when_timer_service_full(void **state)
{
    (void)state;
    struct vdev_timers full;
    static struct vdev_timer dummies[VDEV_MAX_TIMERS];
    vdev_timers_init(&full);
    for (unsigned i = 0; i < VDEV_MAX_TIMERS; i++)
        assert_int_equal(vdev_timer_add(&full, &dummies[i], 0, 0), 0);
    static struct vdev_bus fresh;
    vdev_bus_init(&fresh, &host);
    struct vpit other;
    vpit_init(&other, &host, &full, &router);
    assert_int_equal(vpit_attach(&other, &fresh), -1);
}

static void test_idle_after_power_up(void **state)
{
    (void)state;
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    clock_now += TSC_HZ;
    assert_int_equal(event_count, 0);
}

/* ---- mode 0: interrupt on terminal count ---- */

static void test_mode0_counts_down_and_out_rises_at_terminal_count(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_TC_INT, 1000);
    assert_false(out(0));
    assert_int_equal(latched(0), 1000);
    at_clock(start, 1);
    assert_int_equal(latched(0), 999);
    at_clock(start, 999);
    assert_int_equal(latched(0), 1);
    assert_false(out(0));
    clock_now = tsc_at(start, 1000) - 1; /* one TSC tick before the terminal count */
    assert_false(out(0));
    at_clock(start, 1000);
    assert_true(out(0));
    assert_int_equal(latched(0), 0);
    at_clock(start, 1003);
    assert_int_equal(latched(0), 0xFFFD); /* the counter wraps and keeps counting */
    assert_true(out(0));                  /* OUT stays high */
}

static void test_mode0_irq0_rises_once_at_terminal_count(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_TC_INT, 5000);
    assert_int_equal(irq0_edges(), 0);
    assert_int_equal(vdev_timers_next(&timers), tsc_at(start, 5000));
    assert_int_equal(vdev_timers_run(&timers, tsc_at(start, 5000) - 1), 0);
    run_next();
    assert_int_equal(irq0_edges(), 1);
    assert_true(router.isa_level & 1u); /* mode 0: the line stays high */
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
}

static void test_mode0_new_count_lowers_irq0_and_restarts(void **state)
{
    (void)state;
    program(0, PIT_MODE_TC_INT, 100);
    run_next();
    assert_true(router.isa_level & 1u);
    /* Linux's one-shot clockevent writes only the count for each event */
    uint64_t start = clock_now + 12345;
    clock_now = start;
    outb(CH0, 0x10);
    assert_false(router.isa_level & 1u);                     /* the first byte sets OUT low */
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX); /* and disables counting */
    outb(CH0, 0x02);
    assert_int_equal(vdev_timers_next(&timers), tsc_at(start, 0x210));
    run_next();
    assert_int_equal(irq0_edges(), 2);
}

static void test_overdue_edge_delivered_before_reprogramming(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_TC_INT, 100);
    at_clock(start, 150); /* the run loop has not fired the timer yet */
    outb(CTL, CW(0, PIT_RW_WORD, PIT_MODE_TC_INT));
    assert_int_equal(irq0_edges(), 1);
    assert_false(router.isa_level & 1u);
}

/* ---- mode 2: rate generator ---- */

static void test_mode2_counts_n_to_1_with_one_low_clock(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, 10);
    assert_true(out(0));
    assert_int_equal(latched(0), 10);
    at_clock(start, 8);
    assert_int_equal(latched(0), 2);
    assert_true(out(0));
    at_clock(start, 9);
    assert_int_equal(latched(0), 1);
    assert_false(out(0)); /* low for the clock at count 1 */
    at_clock(start, 10);
    assert_int_equal(latched(0), 10); /* reloaded */
    assert_true(out(0));
    at_clock(start, 25);
    assert_int_equal(latched(0), 5);
}

static void test_mode2_irq0_period_is_exact_without_drift(void **state)
{
    (void)state;
    const uint16_t n = 11932; /* Linux's LATCH for HZ=100 */
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, n);
    for (uint64_t k = 1; k <= 2000; k++) {
        uint64_t deadline = vdev_timers_next(&timers);
        assert_int_equal(deadline, tsc_at(start, k * n));
        /* fire a little late: the next deadline must not move */
        clock_now = deadline + (k % 7) * 1000;
        assert_int_equal(vdev_timers_run(&timers, clock_now), 1);
        assert_int_equal(irq0_edges(), k);
    }
    /* 2000 periods later the grid is exactly where the first period predicts */
    assert_int_equal(vdev_timers_next(&timers), tsc_at(start, 2001ull * n));
    assert_false(router.isa_level & 1u); /* pulses leave the line low */
}

static void test_mode2_period_deltas_are_n_clocks_of_tsc(void **state)
{
    (void)state;
    const uint64_t n = 1193; /* about 1 kHz */
    const uint64_t floor_period = n * TSC_HZ / PIT_HZ;
    uint64_t prev = clock_now;
    program(0, PIT_MODE_RATE, (uint16_t)n);
    uint64_t sum = 0;
    for (unsigned k = 1; k <= 1000; k++) {
        uint64_t at = run_next();
        uint64_t delta = at - prev;
        assert_true(delta == floor_period || delta == floor_period + 1);
        sum += delta;
        prev = at;
    }
    /* 1000 periods are 1000 * N clocks of TSC, to one tick */
    assert_true(sum >= 1000 * n * TSC_HZ / PIT_HZ);
    assert_true(sum <= 1000 * n * TSC_HZ / PIT_HZ + 1);
}

static void test_mode2_exact_tsc_multiple(void **state)
{
    (void)state;
    host.tsc_hz = PIT_HZ * 1000ull; /* 1000 TSC ticks per PIT clock */
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, 500);
    for (uint64_t k = 1; k <= 100; k++)
        assert_int_equal(run_next(), start + k * 500 * 1000);
}

static void test_large_guest_tsc_values(void **state)
{
    (void)state;
    clock_now = 1ull << 60; /* decades of uptime: no overflow in the conversions */
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, 11932);
    for (uint64_t k = 1; k <= 10; k++)
        assert_int_equal(run_next(), tsc_at(start, k * 11932));
    at_clock(start, 10 * 11932 + 32);
    assert_int_equal(latched(0), 11900);
}

static void pic_sink(void *ctl, unsigned line, bool asserted)
{
    vpic_set_irq(ctl, line, asserted);
}

static void test_irq0_reaches_the_pic_through_the_router(void **state)
{
    (void)state;
    struct vpic pic;
    vpic_init(&pic, &host);
    const struct vdev_irq_sink sink = {VDEV_IRQ_ISA, pic_sink, &pic};
    assert_int_equal(vdev_irq_add_sink(&router, &sink), 0);
    vpic_write(&pic, PIC_MASTER_CMD, PIC_ICW1 | PIC_ICW1_IC4);
    vpic_write(&pic, PIC_MASTER_DATA, 0x30);
    vpic_write(&pic, PIC_MASTER_DATA, 0x04);
    vpic_write(&pic, PIC_MASTER_DATA, PIC_ICW4_UPM);
    program(0, PIT_MODE_RATE, 1000);
    for (unsigned k = 0; k < 5; k++) {
        assert_false(vpic_has_intr(&pic));
        run_next();
        assert_true(vpic_has_intr(&pic));
        assert_int_equal(vpic_ack(&pic), 0x30);
        vpic_write(&pic, PIC_MASTER_CMD, PIC_OCW2_EOI);
    }
    /* a one-shot (mode 0) event: the level rises once */
    program(0, PIT_MODE_TC_INT, 300);
    run_next();
    assert_int_equal(vpic_ack(&pic), 0x30);
    vpic_write(&pic, PIC_MASTER_CMD, PIC_OCW2_EOI);
    assert_false(vpic_has_intr(&pic)); /* OUT still high: no new edge */
}

static void test_mode2_late_run_coalesces_and_keeps_phase(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, 1000);
    clock_now = tsc_at(start, 5500); /* five and a half periods without a run */
    assert_int_equal(vdev_timers_run(&timers, clock_now), 1);
    assert_int_equal(irq0_edges(), 1);
    assert_int_equal(vdev_timers_next(&timers), tsc_at(start, 6000));
}

static void test_mode2_new_count_takes_effect_at_period_end(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, 1000);
    at_clock(start, 400);
    outb(CH0, 100);
    outb(CH0, 0);
    assert_true(status(0) & PIT_STATUS_NULL); /* not yet in the counting element */
    assert_int_equal(latched(0), 600);        /* the current period continues */
    assert_int_equal(run_next(), tsc_at(start, 1000));
    assert_false(status(0) & PIT_STATUS_NULL);
    uint64_t second = tsc_at(start, 1000);
    assert_int_equal(run_next(), tsc_at(second, 100));
    assert_int_equal(run_next(), tsc_at(second, 200));
    assert_int_equal(irq0_edges(), 3);
}

static void test_control_word_stops_counter(void **state)
{
    (void)state;
    program(0, PIT_MODE_RATE, 1000);
    assert_true(vdev_timers_next(&timers) != UINT64_MAX);
    outb(CTL, CW(0, PIT_RW_WORD, PIT_MODE_RATE));
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    assert_true(status(0) & PIT_STATUS_NULL);
    assert_true(out(0));
}

static void test_count_zero_means_65536(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, 0);
    assert_int_equal(vdev_timers_next(&timers), tsc_at(start, 65536));
    at_clock(start, 1);
    assert_int_equal(latched(0), 65535);
    outb(PIT_PORT_B, PORTB_GATE2);
    start = clock_now;
    program(2, PIT_MODE_TC_INT, 0);
    at_clock(start, 65535);
    assert_false(inb(PIT_PORT_B) & PORTB_OUT2);
    at_clock(start, 65536);
    assert_true(inb(PIT_PORT_B) & PORTB_OUT2);
}

/* ---- mode 3: square wave ---- */

static void test_mode3_even_count_square_wave(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_SQUARE, 8);
    assert_true(out(0));
    at_clock(start, 1);
    assert_int_equal(latched(0), 6); /* decrements by two */
    at_clock(start, 3);
    assert_true(out(0));
    assert_int_equal(latched(0), 2);
    at_clock(start, 4);
    assert_false(out(0)); /* second half */
    assert_int_equal(latched(0), 8);
    at_clock(start, 7);
    assert_false(out(0));
    at_clock(start, 8);
    assert_true(out(0));
}

static void test_mode3_odd_count_high_one_clock_longer(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_SQUARE, 5); /* high 3, low 2; the counter runs from N-1 = 4 */
    static const uint16_t want[] = {4, 2, 0, 4, 2, 4};
    for (unsigned k = 0; k < 6; k++) {
        at_clock(start, k);
        assert_int_equal(latched(0), want[k]);
        assert_int_equal(out(0), k < 3 || k == 5);
    }
}

static void test_mode3_irq0_every_period(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_SQUARE, 0); /* the BIOS's 18.2 Hz */
    for (uint64_t k = 1; k <= 50; k++)
        assert_int_equal(run_next(), tsc_at(start, k * 65536));
    assert_int_equal(irq0_edges(), 50);
}

/* ---- modes 1, 4, 5 ---- */

static void test_mode4_strobe_low_for_one_clock(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_SW_STROBE, 50);
    assert_true(out(0));
    at_clock(start, 49);
    assert_true(out(0));
    at_clock(start, 50);
    assert_false(out(0));
    assert_int_equal(vdev_timers_next(&timers), tsc_at(start, 51));
    run_next();
    assert_int_equal(irq0_edges(), 1);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX); /* no repeat */
    at_clock(start, 52);
    assert_true(out(0));
}

static void test_mode1_one_shot_needs_gate_trigger(void **state)
{
    (void)state;
    program(2, PIT_MODE_ONESHOT, 20);
    assert_true(inb(PIT_PORT_B) & PORTB_OUT2); /* not triggered: OUT high */
    assert_true(status(2) & PIT_STATUS_NULL);
    uint64_t start = clock_now;
    outb(PIT_PORT_B, PORTB_GATE2); /* rising edge: trigger */
    assert_false(inb(PIT_PORT_B) & PORTB_OUT2);
    assert_false(status(2) & PIT_STATUS_NULL);
    at_clock(start, 10);
    assert_int_equal(latched(2), 10);
    outb(PIT_PORT_B, 0); /* GATE low does not stop mode 1 */
    at_clock(start, 19);
    assert_false(inb(PIT_PORT_B) & PORTB_OUT2);
    at_clock(start, 20);
    assert_true(inb(PIT_PORT_B) & PORTB_OUT2);
    /* retrigger restarts the full count */
    start = clock_now;
    outb(PIT_PORT_B, PORTB_GATE2);
    at_clock(start, 19);
    assert_false(inb(PIT_PORT_B) & PORTB_OUT2);
}

static void test_mode1_on_counter0_never_triggers(void **state)
{
    (void)state;
    program(0, PIT_MODE_ONESHOT, 20);
    clock_now += TSC_HZ;
    assert_true(out(0));
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
}

static void test_mode5_strobe_on_gate_trigger(void **state)
{
    (void)state;
    program(2, PIT_MODE_HW_STROBE, 30);
    uint64_t start = clock_now;
    outb(PIT_PORT_B, PORTB_GATE2);
    at_clock(start, 29);
    assert_true(status(2) & PIT_STATUS_OUT);
    at_clock(start, 30);
    assert_false(status(2) & PIT_STATUS_OUT);
    at_clock(start, 31);
    assert_true(status(2) & PIT_STATUS_OUT);
}

/* ---- access modes, latches, read-back ---- */

static void test_lsb_only_and_msb_only_access(void **state)
{
    (void)state;
    outb(CTL, CW(1, PIT_RW_LSB, PIT_MODE_RATE));
    outb(CH1, 0x34);
    assert_int_equal(inb(CH1), 0x34); /* MSB is zero */
    assert_int_equal(inb(CH1), 0x34); /* every read is the LSB */
    outb(CTL, CW(1, PIT_RW_MSB, PIT_MODE_RATE));
    outb(CH1, 0x12);
    assert_int_equal(inb(CH1), 0x12);
    outb(CTL, CW(1, PIT_RW_LATCH, 0));
    outb(CTL, CW(1, PIT_RW_LATCH, 0));
    assert_int_equal(inb(CH1), 0x12);
    assert_int_equal(status(1) & 0x3F, PIT_RW_MSB << 4 | PIT_MODE_RATE << 1);
}

static void test_word_reads_alternate_lsb_msb(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(1, PIT_MODE_TC_INT, 0x1234);
    assert_int_equal(inb(CH1), 0x34);
    at_clock(start, 0x100); /* the unlatched read sees the count as it runs */
    assert_int_equal(inb(CH1), 0x11);
    assert_int_equal(inb(CH1), 0x34);
}

static void test_counter_latch_holds_until_read(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_TC_INT, 5000);
    at_clock(start, 100);
    outb(CTL, CW(0, PIT_RW_LATCH, 0));
    at_clock(start, 300);
    outb(CTL, CW(0, PIT_RW_LATCH, 0)); /* ignored: the first is not read yet */
    assert_int_equal(inb(CH0), (4900 & 0xFF));
    at_clock(start, 400);
    assert_int_equal(inb(CH0), 4900 >> 8);
    assert_int_equal(latched(0), 4600); /* unlatched after both bytes */
}

static void test_read_back_latches_several_counters(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    program(0, PIT_MODE_RATE, 1000);
    program(1, PIT_MODE_TC_INT, 3000);
    at_clock(start, 10);
    /* status and count of counters 0 and 1 */
    outb(CTL, (uint8_t)(PIT_CW_SC_READ << PIT_CW_SC_SHIFT | 0x06));
    at_clock(start, 500);
    assert_int_equal(inb(CH0), PIT_STATUS_OUT | PIT_RW_WORD << 4 | PIT_MODE_RATE << 1);
    assert_int_equal(inb(CH0), 990 & 0xFF);
    assert_int_equal(inb(CH0), 990 >> 8);
    assert_int_equal(inb(CH1), PIT_RW_WORD << 4 | PIT_MODE_TC_INT << 1); /* OUT low */
    assert_int_equal(inb(CH1), 2990 & 0xFF);
    assert_int_equal(inb(CH1), 2990 >> 8);
    assert_int_equal(latched(0), 500); /* latches consumed */
}

static void test_status_read_before_latched_count(void **state)
{
    (void)state;
    program(0, PIT_MODE_TC_INT, 0x0102);
    outb(CTL, CW(0, PIT_RW_LATCH, 0));
    outb(CTL, (uint8_t)(PIT_CW_SC_READ << PIT_CW_SC_SHIFT | PIT_RB_NO_COUNT | 0x02));
    assert_int_equal(inb(CH0), PIT_RW_WORD << 4);
    assert_int_equal(inb(CH0), 0x02);
    assert_int_equal(inb(CH0), 0x01);
}

static void test_null_count_until_count_written(void **state)
{
    (void)state;
    outb(CTL, CW(0, PIT_RW_WORD, PIT_MODE_TC_INT));
    assert_true(status(0) & PIT_STATUS_NULL);
    outb(CH0, 1);
    assert_true(status(0) & PIT_STATUS_NULL);
    outb(CH0, 1);
    assert_false(status(0) & PIT_STATUS_NULL);
}

static void test_reads_and_writes_interleave(void **state)
{
    (void)state;
    /* the datasheet's example: read LSB, write LSB, read MSB, write MSB */
    program(1, PIT_MODE_SW_STROBE, 0xABCD);
    assert_int_equal(inb(CH1), 0xCD);
    outb(CH1, 0x22);
    assert_int_equal(inb(CH1), 0xAB);
    outb(CH1, 0x11);
    assert_int_equal(latched(1), 0x1122);
}

static void test_bcd_counting(void **state)
{
    (void)state;
    uint64_t start = clock_now;
    outb(CTL, CW(1, PIT_RW_WORD, PIT_MODE_TC_INT) | PIT_CW_BCD);
    outb(CH1, 0x00);
    outb(CH1, 0x10); /* 1000 decimal */
    at_clock(start, 1);
    assert_int_equal(latched(1), 0x0999);
    at_clock(start, 1001);
    assert_int_equal(latched(1), 0x9999); /* wraps in decimal */
    assert_int_equal(status(1) & PIT_CW_BCD, PIT_CW_BCD);
    start = clock_now;
    outb(CTL, CW(0, PIT_RW_WORD, PIT_MODE_RATE) | PIT_CW_BCD);
    outb(CH0, 0);
    outb(CH0, 0); /* BCD 0 is 10000 */
    assert_int_equal(vdev_timers_next(&timers), tsc_at(start, 10000));
}

static void test_mode_aliases(void **state)
{
    (void)state;
    outb(CTL, CW(1, PIT_RW_WORD, 6));
    assert_int_equal((status(1) >> 1) & 7, PIT_MODE_RATE);
    outb(CTL, CW(1, PIT_RW_WORD, 7));
    assert_int_equal((status(1) >> 1) & 7, PIT_MODE_SQUARE);
}

/* ---- port 0x61 and counter 2 ---- */

static void test_port61_bits(void **state)
{
    (void)state;
    outb(PIT_PORT_B, 0xFF);
    uint8_t v = inb(PIT_PORT_B);
    assert_int_equal(v & PORTB_WRITABLE, PORTB_WRITABLE);
    assert_int_equal(v & 0xC0, 0); /* no NMI sources */
    outb(PIT_PORT_B, PORTB_SPEAKER);
    assert_int_equal(inb(PIT_PORT_B) & PORTB_WRITABLE, PORTB_SPEAKER);
}

static void test_port61_refresh_bit_toggles(void **state)
{
    (void)state;
    uint8_t a = inb(PIT_PORT_B) & PORTB_REFRESH;
    uint8_t b = inb(PIT_PORT_B) & PORTB_REFRESH;
    uint8_t c = inb(PIT_PORT_B) & PORTB_REFRESH;
    assert_int_not_equal(a, b);
    assert_int_equal(a, c);
}

static void test_gate2_pauses_mode0(void **state)
{
    (void)state;
    program(2, PIT_MODE_TC_INT, 100); /* GATE 2 low: loaded, not counting */
    clock_now += 1000000;
    assert_int_equal(latched(2), 100);
    uint64_t start = clock_now;
    outb(PIT_PORT_B, PORTB_GATE2);
    at_clock(start, 30);
    assert_int_equal(latched(2), 70);
    outb(PIT_PORT_B, 0);
    clock_now += 1000000;
    assert_int_equal(latched(2), 70);
    start = clock_now;
    outb(PIT_PORT_B, PORTB_GATE2);
    at_clock(start, 69);
    assert_false(inb(PIT_PORT_B) & PORTB_OUT2);
    at_clock(start, 70);
    assert_true(inb(PIT_PORT_B) & PORTB_OUT2);
}

static void test_gate2_low_stops_mode2_and_rise_reloads(void **state)
{
    (void)state;
    outb(PIT_PORT_B, PORTB_GATE2);
    uint64_t start = clock_now;
    program(2, PIT_MODE_RATE, 100);
    at_clock(start, 40);
    outb(PIT_PORT_B, 0);
    assert_true(inb(PIT_PORT_B) & PORTB_OUT2); /* forced high */
    clock_now += 1000000;
    assert_int_equal(latched(2), 60); /* stopped */
    start = clock_now;
    outb(PIT_PORT_B, PORTB_GATE2);
    assert_int_equal(latched(2), 100); /* reloaded */
    at_clock(start, 99);
    assert_false(inb(PIT_PORT_B) & PORTB_OUT2);
}

/* Linux's pit_calibrate_tsc (arch/x86/kernel/tsc.c): GATE 2 high, speaker off, counter 2 in
   mode 0 with a 10 ms latch, then spin on port 0x61 bit 5. Each IN is a VM exit that costs
   guest time; the loop must end when 10 ms of guest TSC have passed. */
static void test_linux_pit_calibrate_tsc_loop(void **state)
{
    (void)state;
    const uint16_t latch = PIT_HZ / 100;
    const uint64_t exit_cost = 3000; /* TSC ticks per IN */
    outb(PIT_PORT_B, (uint8_t)((inb(PIT_PORT_B) & ~PORTB_SPEAKER) | PORTB_GATE2));
    outb(CTL, 0xB0);
    outb(CH2, latch & 0xFF);
    outb(CH2, latch >> 8);
    uint64_t t1 = clock_now;
    unsigned loops = 0;
    while (!(inb(PIT_PORT_B) & PORTB_OUT2)) {
        clock_now += exit_cost;
        loops++;
        assert_true(loops < 100000);
    }
    uint64_t took = clock_now - t1;
    assert_true(took >= tsc_at(0, latch));
    assert_true(took < tsc_at(0, latch) + exit_cost);
    assert_true(loops > 1000); /* Linux wants at least loopmin iterations */
}

/* Linux's quick_pit_calibrate: counter 2 in mode 0 from 0xFFFF; it reads LSB then MSB and
   expects the MSB to step down by one every 256 clocks. */
static void test_linux_quick_pit_calibrate_msb_steps(void **state)
{
    (void)state;
    outb(PIT_PORT_B, PORTB_GATE2);
    outb(CTL, 0xB0);
    outb(CH2, 0xFF);
    uint64_t start = clock_now;
    outb(CH2, 0xFF);
    for (unsigned i = 0; i < 200; i++) {
        at_clock(start, 256ull * i + 100);
        (void)inb(CH2);
        assert_int_equal(inb(CH2), 0xFF - i);
    }
}

/* ---- odd corners ---- */

static void test_tsc_hz_zero_never_arms(void **state)
{
    (void)state;
    host.tsc_hz = 0;
    program(0, PIT_MODE_RATE, 1000);
    assert_int_equal(vdev_timers_next(&timers), UINT64_MAX);
    clock_now += 1000000000;
    assert_int_equal(latched(0), 1000); /* no clock */
}

static void test_word_access_splits_into_bytes(void **state)
{
    (void)state;
    outb(CTL, CW(1, PIT_RW_WORD, PIT_MODE_TC_INT));
    vdev_bus_out(&bus, CH1, 1, 0x78);
    vdev_bus_out(&bus, CH1, 1, 0x56);
    /* CH1's LSB, then CH2's (idle, no count: 0) */
    assert_int_equal(vdev_bus_in(&bus, CH1, 2), 0x0078);
    assert_int_equal(inb(CH1), 0x56);
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_attach_claims_ports),
        T(test_attach_fails_when_timer_service_full),
        T(test_idle_after_power_up),
        T(test_mode0_counts_down_and_out_rises_at_terminal_count),
        T(test_mode0_irq0_rises_once_at_terminal_count),
        T(test_mode0_new_count_lowers_irq0_and_restarts),
        T(test_overdue_edge_delivered_before_reprogramming),
        T(test_mode2_counts_n_to_1_with_one_low_clock),
        T(test_mode2_irq0_period_is_exact_without_drift),
        T(test_mode2_period_deltas_are_n_clocks_of_tsc),
        T(test_mode2_exact_tsc_multiple),
        T(test_large_guest_tsc_values),
        T(test_irq0_reaches_the_pic_through_the_router),
        T(test_mode2_late_run_coalesces_and_keeps_phase),
        T(test_mode2_new_count_takes_effect_at_period_end),
        T(test_control_word_stops_counter),
        T(test_count_zero_means_65536),
        T(test_mode3_even_count_square_wave),
        T(test_mode3_odd_count_high_one_clock_longer),
        T(test_mode3_irq0_every_period),
        T(test_mode4_strobe_low_for_one_clock),
        T(test_mode1_one_shot_needs_gate_trigger),
        T(test_mode1_on_counter0_never_triggers),
        T(test_mode5_strobe_on_gate_trigger),
        T(test_lsb_only_and_msb_only_access),
        T(test_word_reads_alternate_lsb_msb),
        T(test_counter_latch_holds_until_read),
        T(test_read_back_latches_several_counters),
        T(test_status_read_before_latched_count),
        T(test_null_count_until_count_written),
        T(test_reads_and_writes_interleave),
        T(test_bcd_counting),
        T(test_mode_aliases),
        T(test_port61_bits),
        T(test_port61_refresh_bit_toggles),
        T(test_gate2_pauses_mode0),
        T(test_gate2_low_stops_mode2_and_rise_reloads),
        T(test_linux_pit_calibrate_tsc_loop),
        T(test_linux_quick_pit_calibrate_msb_steps),
        T(test_tsc_hz_zero_never_arms),
        T(test_word_access_splits_into_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
