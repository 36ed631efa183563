/* Decoding the machine's CMOS clock (drivers/cmos_rtc.c): BCD and binary, 12- and 24-hour,
   with and without a century byte, and invalid registers (MC146818 datasheet, register B). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/cmos_rtc.h"

static void assert_time(const struct rtc_time *t, unsigned y, unsigned mo, unsigned d, unsigned h,
                        unsigned mi, unsigned s)
{
    assert_int_equal(t->year, y);
    assert_int_equal(t->month, mo);
    assert_int_equal(t->day, d);
    assert_int_equal(t->hour, h);
    assert_int_equal(t->minute, mi);
    assert_int_equal(t->second, s);
}

static void test_bcd_24_hour_with_century(void **state)
{
    (void)state;
    struct cmos_raw raw = {0x59, 0x30, 0x23, 0x31, 0x12, 0x99, 0x19, CMOS_B_24HOUR};
    struct rtc_time t;
    assert_int_equal(cmos_rtc_decode(&raw, &t), 0);
    assert_time(&t, 1999, 12, 31, 23, 30, 59);
}

static void test_binary_mode(void **state)
{
    (void)state;
    struct cmos_raw raw = {7, 8, 9, 2, 12, 26, 20, CMOS_B_24HOUR | CMOS_B_BINARY};
    struct rtc_time t;
    assert_int_equal(cmos_rtc_decode(&raw, &t), 0);
    assert_time(&t, 2026, 12, 2, 9, 8, 7);
}

static void test_12_hour_mode(void **state)
{
    (void)state;
    struct rtc_time t;
    struct cmos_raw pm = {0, 0, CMOS_HOUR_PM | 0x01, 1, 1, 0x26, 0x20, 0}; /* 1 PM, BCD */
    assert_int_equal(cmos_rtc_decode(&pm, &t), 0);
    assert_int_equal(t.hour, 13);
    struct cmos_raw midnight = {0, 0, 0x12, 1, 1, 0x26, 0x20, 0}; /* 12 AM */
    assert_int_equal(cmos_rtc_decode(&midnight, &t), 0);
    assert_int_equal(t.hour, 0);
    struct cmos_raw noon = {0, 0, CMOS_HOUR_PM | 0x12, 1, 1, 0x26, 0x20, 0}; /* 12 PM */
    assert_int_equal(cmos_rtc_decode(&noon, &t), 0);
    assert_int_equal(t.hour, 12);
}

static void test_no_century_byte_means_2000s(void **state)
{
    (void)state;
    struct cmos_raw raw = {0, 0, 0, 1, 1, 0x05, 0, CMOS_B_24HOUR};
    struct rtc_time t;
    assert_int_equal(cmos_rtc_decode(&raw, &t), 0);
    assert_int_equal(t.year, 2005);
}

static void test_invalid_registers(void **state)
{
    (void)state;
    struct rtc_time t;
    struct cmos_raw dead = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}; /* no chip */
    assert_int_equal(cmos_rtc_decode(&dead, &t), -1);
    struct cmos_raw month13 = {0, 0, 0, 1, 0x13, 0x26, 0x20, CMOS_B_24HOUR};
    assert_int_equal(cmos_rtc_decode(&month13, &t), -1);
    struct cmos_raw day0 = {0, 0, 0, 0, 1, 0x26, 0x20, CMOS_B_24HOUR};
    assert_int_equal(cmos_rtc_decode(&day0, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_24_hour_with_century),
        cmocka_unit_test(test_binary_mode),
        cmocka_unit_test(test_12_hour_mode),
        cmocka_unit_test(test_no_century_byte_means_2000s),
        cmocka_unit_test(test_invalid_registers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
