/* The virtual MC146818 RTC (drivers/vdev/vrtc.c) against the MC146818 datasheet: calendar
   arithmetic, the time registers in BCD/binary and 12/24-hour formats, UIP, SET, registers
   A-D, periodic / update-ended / alarm interrupts on IRQ 8, CMOS RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vrtc.h"
#include "tests/unit/fake.h"

#define HZ 1000000ull /* 1 tick = 1 us */

static struct {
    struct vdev_host host;
    struct vdev_bus bus;
    struct vdev_irq_router router;
    struct vdev_timers timers;
    struct vrtc r;
    uint64_t now;
    bool line[VDEV_ISA_IRQS];
} t;

static uint64_t now(void *ctx)
{
    assert_ptr_equal(ctx, &t);
    return t.now;
}

static void set_line(void *ctl, unsigned line, bool asserted)
{
    assert_ptr_equal(ctl, &t);
    t.line[line] = asserted;
}

/* 2026-12-02 (a Wednesday) 23:59:50 */
static const struct vrtc_time boot = {2026, 12, 2, 23, 59, 50};

static void start(uint64_t tsc_hz)
{
    fake_log_reset();
    memset(&t, 0, sizeof(t));
    t.now = 5000; /* the clock does not start at TSC 0 */
    t.host = (struct vdev_host){.ctx = &t, .now = now, .tsc_hz = tsc_hz, .name = "rtctest"};
    vdev_bus_init(&t.bus, &t.host);
    vdev_irq_init(&t.router);
    vdev_timers_init(&t.timers);
    const struct vdev_irq_sink sink = {VDEV_IRQ_ISA, set_line, &t};
    assert_int_equal(vdev_irq_add_sink(&t.router, &sink), 0);
    vrtc_init(&t.r, &t.host, &t.timers, &t.router, &boot);
    assert_int_equal(vrtc_attach(&t.r, &t.bus), 0);
}

static int setup(void **state)
{
    (void)state;
    start(HZ);
    return 0;
}

static uint8_t cmos_read(uint8_t reg)
{
    vdev_bus_out(&t.bus, VRTC_PORT_INDEX, 1, reg);
    return (uint8_t)vdev_bus_in(&t.bus, VRTC_PORT_DATA, 1);
}

static void cmos_write(uint8_t reg, uint8_t value)
{
    vdev_bus_out(&t.bus, VRTC_PORT_INDEX, 1, reg);
    vdev_bus_out(&t.bus, VRTC_PORT_DATA, 1, value);
}

/* Moves guest time on and fires what expired, as the VM's run loop does. */
static void advance(uint64_t ticks)
{
    t.now += ticks;
    vdev_timers_run(&t.timers, t.now);
}

static bool irq8(void)
{
    return t.line[VDEV_IRQ_RTC];
}

static void assert_time(const struct vrtc_time *a, unsigned y, unsigned mo, unsigned d, unsigned h,
                        unsigned mi, unsigned s)
{
    assert_int_equal(a->year, y);
    assert_int_equal(a->month, mo);
    assert_int_equal(a->day, d);
    assert_int_equal(a->hour, h);
    assert_int_equal(a->minute, mi);
    assert_int_equal(a->second, s);
}

/* ---- calendar arithmetic ---- */

static void test_advance_carries_into_the_next_day(void **state)
{
    (void)state;
    struct vrtc_time a = {2026, 6, 30, 23, 59, 59};
    vrtc_time_advance(&a, 1);
    assert_time(&a, 2026, 7, 1, 0, 0, 0);
    vrtc_time_advance(&a, 3661);
    assert_time(&a, 2026, 7, 1, 1, 1, 1);
}

static void test_advance_across_the_year_end(void **state)
{
    (void)state;
    struct vrtc_time a = {2026, 12, 31, 23, 59, 59};
    vrtc_time_advance(&a, 1);
    assert_time(&a, 2027, 1, 1, 0, 0, 0);
}

static void test_advance_knows_leap_years(void **state)
{
    (void)state;
    struct vrtc_time a = {2024, 2, 28, 12, 0, 0};
    vrtc_time_advance(&a, 86400);
    assert_time(&a, 2024, 2, 29, 12, 0, 0);
    struct vrtc_time b = {2023, 2, 28, 12, 0, 0};
    vrtc_time_advance(&b, 86400);
    assert_time(&b, 2023, 3, 1, 12, 0, 0);
    struct vrtc_time c = {2100, 2, 28, 0, 0, 0}; /* a century: no leap day */
    vrtc_time_advance(&c, 86400);
    assert_time(&c, 2100, 3, 1, 0, 0, 0);
    struct vrtc_time d = {2000, 2, 28, 0, 0, 0}; /* divisible by 400: leap */
    vrtc_time_advance(&d, 86400);
    assert_time(&d, 2000, 2, 29, 0, 0, 0);
}

static void test_advance_by_years(void **state)
{
    (void)state;
    struct vrtc_time a = {2026, 1, 1, 0, 0, 0};
    vrtc_time_advance(&a, 1461ull * 86400); /* 2026, 2027, 2028 (leap), 2029 */
    assert_time(&a, 2030, 1, 1, 0, 0, 0);
    struct vrtc_time b = {1999, 12, 31, 0, 0, 0};
    vrtc_time_advance(&b, 146097ull * 86400); /* one 400-year cycle */
    assert_time(&b, 2399, 12, 31, 0, 0, 0);
}

static void test_advance_clamps_invalid_fields(void **state)
{
    (void)state;
    struct vrtc_time a = {2026, 13, 40, 25, 61, 99};
    vrtc_time_advance(&a, 0);
    assert_time(&a, 2026, 12, 31, 23, 59, 59);
    struct vrtc_time b = {2026, 2, 31, 0, 0, 0};
    vrtc_time_advance(&b, 0);
    assert_time(&b, 2026, 2, 28, 0, 0, 0);
}

static void test_day_of_week_counts_from_sunday(void **state)
{
    (void)state;
    const struct vrtc_time wed = {2026, 12, 2, 0, 0, 0};
    const struct vrtc_time sat = {2000, 1, 1, 0, 0, 0};
    const struct vrtc_time thu = {2024, 2, 29, 0, 0, 0};
    const struct vrtc_time sun = {2026, 3, 1, 0, 0, 0};
    assert_int_equal(vrtc_day_of_week(&wed), 4);
    assert_int_equal(vrtc_day_of_week(&sat), 7);
    assert_int_equal(vrtc_day_of_week(&thu), 5);
    assert_int_equal(vrtc_day_of_week(&sun), 1);
}

/* ---- registers ---- */

static void test_reset_register_values(void **state)
{
    (void)state;
    assert_int_equal(cmos_read(VRTC_REG_A), 0x26);
    assert_int_equal(cmos_read(VRTC_REG_B), 0x02);
    assert_int_equal(cmos_read(VRTC_REG_C), 0);
    assert_int_equal(cmos_read(VRTC_REG_D), 0x80);
}

static void test_boot_time_reads_in_bcd(void **state)
{
    (void)state;
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50);
    assert_int_equal(cmos_read(VRTC_MINUTES), 0x59);
    assert_int_equal(cmos_read(VRTC_HOURS), 0x23);
    assert_int_equal(cmos_read(VRTC_DAY_OF_WEEK), 4);
    assert_int_equal(cmos_read(VRTC_DAY_OF_MONTH), 0x02);
    assert_int_equal(cmos_read(VRTC_MONTH), 0x12);
    assert_int_equal(cmos_read(VRTC_YEAR), 0x26);
    assert_int_equal(cmos_read(VRTC_CENTURY), 0x20);
}

static void test_binary_mode(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_DM);
    assert_int_equal(cmos_read(VRTC_SECONDS), 50);
    assert_int_equal(cmos_read(VRTC_HOURS), 23);
    assert_int_equal(cmos_read(VRTC_MONTH), 12);
    assert_int_equal(cmos_read(VRTC_CENTURY), 20);
}

static void test_twelve_hour_mode(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_B, 0);                            /* BCD, 12-hour */
    assert_int_equal(cmos_read(VRTC_HOURS), 0x80 | 0x11); /* 23:xx = 11 PM */
    advance(10 * HZ);                                     /* midnight: 12 AM */
    assert_int_equal(cmos_read(VRTC_HOURS), 0x12);
    cmos_write(VRTC_HOURS, 0x80 | 0x12); /* 12 PM = noon */
    cmos_write(VRTC_REG_B, VRTC_B_24H);
    assert_int_equal(cmos_read(VRTC_HOURS), 0x12);
    cmos_write(VRTC_REG_B, VRTC_B_DM); /* binary 12-hour */
    cmos_write(VRTC_HOURS, 0x80 | 1);  /* 1 PM */
    cmos_write(VRTC_REG_B, VRTC_B_DM | VRTC_B_24H);
    assert_int_equal(cmos_read(VRTC_HOURS), 13);
}

static void test_time_advances_with_guest_time(void **state)
{
    (void)state;
    advance(HZ - 1);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50);
    advance(1);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x51);
    advance(10 * HZ); /* past midnight into the next month? 2026-12-03 */
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x01);
    assert_int_equal(cmos_read(VRTC_MINUTES), 0x00);
    assert_int_equal(cmos_read(VRTC_HOURS), 0x00);
    assert_int_equal(cmos_read(VRTC_DAY_OF_MONTH), 0x03);
    assert_int_equal(cmos_read(VRTC_DAY_OF_WEEK), 5);
}

static void test_uip_in_the_last_244us_of_a_second(void **state)
{
    (void)state;
    advance(HZ - 245);
    assert_false(cmos_read(VRTC_REG_A) & VRTC_A_UIP);
    advance(1);
    assert_true(cmos_read(VRTC_REG_A) & VRTC_A_UIP);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50); /* the old second is still valid */
    advance(243);
    assert_true(cmos_read(VRTC_REG_A) & VRTC_A_UIP);
    advance(1);
    assert_false(cmos_read(VRTC_REG_A) & VRTC_A_UIP);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x51);
}

static void test_linux_uip_poll_terminates(void **state)
{
    (void)state;
    advance(HZ - 100); /* inside the UIP window */
    unsigned polls = 0;
    /* each port access costs the guest at least a microsecond of TSC */
    while (cmos_read(VRTC_REG_A) & VRTC_A_UIP) {
        advance(1);
        polls++;
        assert_true(polls < 1000);
    }
    assert_int_equal(polls, 100);
}

static void test_set_stops_the_clock_and_sets_the_time(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE);
    cmos_write(VRTC_REG_B, VRTC_B_SET | VRTC_B_24H | VRTC_B_UIE);
    assert_int_equal(cmos_read(VRTC_REG_B), VRTC_B_SET | VRTC_B_24H); /* SET clears UIE */
    cmos_write(VRTC_YEAR, 0x24);
    cmos_write(VRTC_MONTH, 0x02); /* Feb 2 ... */
    cmos_write(VRTC_DAY_OF_MONTH, 0x29);
    cmos_write(VRTC_HOURS, 0x08);
    cmos_write(VRTC_MINUTES, 0x30);
    cmos_write(VRTC_SECONDS, 0x00);
    advance(5 * HZ - 10); /* stopped: no update, no UIP */
    assert_false(cmos_read(VRTC_REG_A) & VRTC_A_UIP);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x00);
    cmos_write(VRTC_REG_B, VRTC_B_24H);
    advance(HZ - 1); /* a fresh second began at the SET release */
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x00);
    advance(1);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x01);
    assert_int_equal(cmos_read(VRTC_DAY_OF_MONTH), 0x29);
    assert_int_equal(cmos_read(VRTC_MONTH), 0x02);
    assert_int_equal(cmos_read(VRTC_YEAR), 0x24);
    assert_int_equal(cmos_read(VRTC_CENTURY), 0x20);
    assert_int_equal(cmos_read(VRTC_DAY_OF_WEEK), 5);
}

static void test_write_while_running_keeps_the_phase(void **state)
{
    (void)state;
    advance(HZ / 2);
    cmos_write(VRTC_MINUTES, 0x10);
    advance(HZ / 2 - 1);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50);
    assert_int_equal(cmos_read(VRTC_MINUTES), 0x10);
    advance(1);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x51);
}

static void test_century_register_sets_the_century(void **state)
{
    (void)state;
    cmos_write(VRTC_CENTURY, 0x19);
    assert_int_equal(cmos_read(VRTC_YEAR), 0x26);
    assert_int_equal(cmos_read(VRTC_CENTURY), 0x19);
}

static void test_divider_reset_stops_the_clock(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_A, VRTC_A_DV_RESET | 0x06);
    advance(3 * HZ);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50);
    cmos_write(VRTC_REG_A, VRTC_A_RESET);
    advance(HZ);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x51);
}

static void test_register_a_uip_is_read_only(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_A, 0xFF & (uint8_t)~VRTC_A_DV_RESET); /* keep the divider running */
    assert_int_equal(cmos_read(VRTC_REG_A), 0x1F);
}

static void test_registers_c_and_d_are_read_only(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_C, 0xFF);
    cmos_write(VRTC_REG_D, 0x00);
    assert_int_equal(cmos_read(VRTC_REG_C), 0);
    assert_int_equal(cmos_read(VRTC_REG_D), VRTC_D_VRT);
}

static void test_index_keeps_the_nmi_disable_bit(void **state)
{
    (void)state;
    vdev_bus_out(&t.bus, VRTC_PORT_INDEX, 1, VRTC_INDEX_NMI_DISABLE | VRTC_REG_D);
    assert_true(t.r.nmi_disabled);
    assert_int_equal(vdev_bus_in(&t.bus, VRTC_PORT_DATA, 1), VRTC_D_VRT);
    vdev_bus_out(&t.bus, VRTC_PORT_INDEX, 1, VRTC_REG_D);
    assert_false(t.r.nmi_disabled);
}

static void test_cmos_ram_holds_bytes(void **state)
{
    (void)state;
    unsigned count = 0;
    for (unsigned reg = VRTC_REG_D + 1; reg < VRTC_CMOS_SIZE; reg++) {
        if (reg == VRTC_CENTURY)
            continue;
        cmos_write((uint8_t)reg, (uint8_t)(reg ^ 0x5A));
        count++;
    }
    for (unsigned reg = VRTC_REG_D + 1; reg < VRTC_CMOS_SIZE; reg++)
        if (reg != VRTC_CENTURY)
            assert_int_equal(cmos_read((uint8_t)reg), reg ^ 0x5A);
    assert_int_equal(count, 113);                    /* 114 bytes with the century */
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50); /* the clock untouched */
}

static void test_alarm_registers_read_back(void **state)
{
    (void)state;
    cmos_write(VRTC_SECONDS_ALARM, 0x11);
    cmos_write(VRTC_MINUTES_ALARM, 0x22);
    cmos_write(VRTC_HOURS_ALARM, 0x33);
    assert_int_equal(cmos_read(VRTC_SECONDS_ALARM), 0x11);
    assert_int_equal(cmos_read(VRTC_MINUTES_ALARM), 0x22);
    assert_int_equal(cmos_read(VRTC_HOURS_ALARM), 0x33);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50);
}

static void test_attach_claims_two_ports_and_a_timer(void **state)
{
    (void)state;
    assert_int_equal(t.timers.count, 1);
    assert_int_equal(vdev_bus_in(&t.bus, 0x72, 1), 0xFF);
    struct vrtc other;
    vrtc_init(&other, &t.host, &t.timers, &t.router, &boot);
    assert_int_equal(vrtc_attach(&other, &t.bus), -1);
}

/* ---- interrupts ---- */

static void test_periodic_interrupt_at_the_rate_of_register_a(void **state)
{
    (void)state;
    cmos_read(VRTC_REG_C);
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE); /* RS = 6: 1024 Hz, 976 us */
    assert_int_equal(vdev_timers_next(&t.timers), t.now + HZ / 1024);
    advance(HZ / 1024 - 1);
    assert_false(irq8());
    advance(1);
    assert_true(irq8());
    assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_IRQF | VRTC_C_PF);
    assert_false(irq8());
    assert_int_equal(cmos_read(VRTC_REG_C), 0);
    advance(HZ / 1024);
    assert_true(irq8());
}

static void test_periodic_rate_select_table(void **state)
{
    (void)state;
    static const struct {
        uint8_t rs;
        uint64_t hz;
    } rate[] = {{1, 256}, {2, 128}, {3, 8192}, {6, 1024}, {15, 2}};
    for (unsigned i = 0; i < sizeof(rate) / sizeof(rate[0]); i++) {
        cmos_write(VRTC_REG_A, VRTC_A_DV_32KHZ | rate[i].rs);
        cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE);
        assert_int_equal(vdev_timers_next(&t.timers) - t.now, HZ / rate[i].hz);
        cmos_write(VRTC_REG_B, VRTC_B_24H);
    }
    cmos_write(VRTC_REG_A, VRTC_A_DV_32KHZ); /* RS = 0: none */
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE);
    assert_int_equal(vdev_timers_next(&t.timers), UINT64_MAX);
}

static void test_pf_without_pie_raises_no_irq(void **state)
{
    (void)state;
    assert_int_equal(vdev_timers_next(&t.timers), UINT64_MAX); /* nothing to wake for */
    advance(HZ / 100);
    assert_false(irq8());
    uint8_t c = cmos_read(VRTC_REG_C);
    assert_true(c & VRTC_C_PF);
    assert_false(c & VRTC_C_IRQF);
}

static void test_update_ended_interrupt_each_second(void **state)
{
    (void)state;
    cmos_read(VRTC_REG_C);
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE);
    advance(HZ - 1);
    assert_false(irq8());
    advance(1);
    assert_true(irq8());
    assert_int_equal(cmos_read(VRTC_REG_C) & (VRTC_C_IRQF | VRTC_C_UF), VRTC_C_IRQF | VRTC_C_UF);
    assert_false(irq8());
    advance(HZ);
    assert_true(irq8());
}

static void test_alarm_interrupt_at_the_alarm_time(void **state)
{
    (void)state;
    cmos_write(VRTC_HOURS_ALARM, 0x23);
    cmos_write(VRTC_MINUTES_ALARM, 0x59);
    cmos_write(VRTC_SECONDS_ALARM, 0x53);
    cmos_read(VRTC_REG_C);
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_AIE);
    advance(2 * HZ);
    assert_false(irq8());
    advance(HZ);
    assert_true(irq8());
    assert_int_equal(cmos_read(VRTC_REG_C) & (VRTC_C_IRQF | VRTC_C_AF), VRTC_C_IRQF | VRTC_C_AF);
    advance(HZ);
    assert_false(irq8());
}

static void test_alarm_dont_care_matches_every_second(void **state)
{
    (void)state;
    cmos_write(VRTC_HOURS_ALARM, VRTC_ALARM_DONTCARE);
    cmos_write(VRTC_MINUTES_ALARM, 0xFF);
    cmos_write(VRTC_SECONDS_ALARM, 0xC5);
    cmos_read(VRTC_REG_C);
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_AIE);
    for (int i = 0; i < 3; i++) {
        advance(HZ);
        assert_true(irq8());
        assert_true(cmos_read(VRTC_REG_C) & VRTC_C_AF);
    }
}

static void test_clearing_the_enable_drops_irqf(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE);
    advance(HZ);
    assert_true(irq8());
    cmos_write(VRTC_REG_B, VRTC_B_24H);
    assert_false(irq8());
    assert_int_equal(cmos_read(VRTC_REG_C) & (VRTC_C_IRQF | VRTC_C_UF), VRTC_C_UF);
}

static void test_unknown_tsc_rate_keeps_the_clock_still(void **state)
{
    (void)state;
    start(0);
    advance(10 * HZ);
    assert_int_equal(cmos_read(VRTC_SECONDS), 0x50);
    assert_false(cmos_read(VRTC_REG_A) & VRTC_A_UIP);
    cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE | VRTC_B_UIE);
    assert_int_equal(vdev_timers_next(&t.timers), UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advance_carries_into_the_next_day),
        cmocka_unit_test(test_advance_across_the_year_end),
        cmocka_unit_test(test_advance_knows_leap_years),
        cmocka_unit_test(test_advance_by_years),
        cmocka_unit_test(test_advance_clamps_invalid_fields),
        cmocka_unit_test(test_day_of_week_counts_from_sunday),
        cmocka_unit_test_setup(test_reset_register_values, setup),
        cmocka_unit_test_setup(test_boot_time_reads_in_bcd, setup),
        cmocka_unit_test_setup(test_binary_mode, setup),
        cmocka_unit_test_setup(test_twelve_hour_mode, setup),
        cmocka_unit_test_setup(test_time_advances_with_guest_time, setup),
        cmocka_unit_test_setup(test_uip_in_the_last_244us_of_a_second, setup),
        cmocka_unit_test_setup(test_linux_uip_poll_terminates, setup),
        cmocka_unit_test_setup(test_set_stops_the_clock_and_sets_the_time, setup),
        cmocka_unit_test_setup(test_write_while_running_keeps_the_phase, setup),
        cmocka_unit_test_setup(test_century_register_sets_the_century, setup),
        cmocka_unit_test_setup(test_divider_reset_stops_the_clock, setup),
        cmocka_unit_test_setup(test_register_a_uip_is_read_only, setup),
        cmocka_unit_test_setup(test_registers_c_and_d_are_read_only, setup),
        cmocka_unit_test_setup(test_index_keeps_the_nmi_disable_bit, setup),
        cmocka_unit_test_setup(test_cmos_ram_holds_bytes, setup),
        cmocka_unit_test_setup(test_alarm_registers_read_back, setup),
        cmocka_unit_test_setup(test_attach_claims_two_ports_and_a_timer, setup),
        cmocka_unit_test_setup(test_periodic_interrupt_at_the_rate_of_register_a, setup),
        cmocka_unit_test_setup(test_periodic_rate_select_table, setup),
        cmocka_unit_test_setup(test_pf_without_pie_raises_no_irq, setup),
        cmocka_unit_test_setup(test_update_ended_interrupt_each_second, setup),
        cmocka_unit_test_setup(test_alarm_interrupt_at_the_alarm_time, setup),
        cmocka_unit_test_setup(test_alarm_dont_care_matches_every_second, setup),
        cmocka_unit_test_setup(test_clearing_the_enable_drops_irqf, setup),
        cmocka_unit_test_setup(test_unknown_tsc_rate_keeps_the_clock_still, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
