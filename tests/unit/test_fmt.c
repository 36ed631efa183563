/* Unit tests for kernel/lib/fmt.c: the freestanding snprintf. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <string.h>
#include "kernel/lib/fmt.h"
#include "tests/unit/fake.h"

#define BUF_SIZE 256

/* Formats into a large buffer and asserts the text and the returned length. */
#define CHECK(expect, ...)                                                                         \
    do {                                                                                           \
        char buf_[BUF_SIZE];                                                                       \
        memset(buf_, 'Z', sizeof(buf_));                                                           \
        int n_ = fmt_snprintf(buf_, sizeof(buf_), __VA_ARGS__);                                    \
        assert_string_equal(buf_, expect);                                                         \
        assert_int_equal(n_, strlen(expect));                                                      \
    } while (0)

/* fmt_vsnprintf without the printf format attribute, for formats the compiler would reject
   (hv's own extensions and deliberate misuse). */
static int unchecked(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#define CHECK_UNCHECKED(expect, ...)                                                               \
    do {                                                                                           \
        char buf_[BUF_SIZE];                                                                       \
        int n_ = unchecked(buf_, sizeof(buf_), __VA_ARGS__);                                       \
        assert_string_equal(buf_, expect);                                                         \
        assert_int_equal(n_, strlen(expect));                                                      \
    } while (0)

static void test_plain_text(void **state)
{
    (void)state;
    CHECK("hello, world", "hello, world");
    CHECK("", "%s", "");
    CHECK("100%", "100%%");
    CHECK("%%", "%%%%");
}

static void test_signed(void **state)
{
    (void)state;
    CHECK("0", "%d", 0);
    CHECK("42", "%d", 42);
    CHECK("-42", "%d", -42);
    CHECK("-7", "%i", -7);
    CHECK("2147483647", "%d", INT_MAX);
    CHECK("-2147483648", "%d", INT_MIN);
    CHECK("-2147483648", "%i", INT_MIN);
    CHECK("9223372036854775807", "%ld", LONG_MAX);
    CHECK("-9223372036854775808", "%ld", LONG_MIN);
    CHECK("-1", "%li", -1L);
    CHECK("9223372036854775807", "%lld", (long long)INT64_MAX);
    CHECK("-9223372036854775808", "%lld", (long long)INT64_MIN);
    CHECK("-9223372036854775808", "%lli", (long long)INT64_MIN);
    CHECK("-5", "%zd", (ptrdiff_t)-5);
    CHECK("123456789012", "%zi", (ptrdiff_t)123456789012);
}

static void test_signed_reads_only_an_int(void **state)
{
    (void)state;
    /* %d must read an int, not 64 bits: the next argument must still line up. */
    CHECK("-1 x", "%d %s", -1, "x");
    CHECK("-1 -2 3", "%d %lld %d", -1, -2LL, 3);
}

static void test_unsigned(void **state)
{
    (void)state;
    CHECK("0", "%u", 0u);
    CHECK("4294967295", "%u", UINT_MAX);
    CHECK("4294967295", "%u", (unsigned)-1);
    CHECK("18446744073709551615", "%lu", ULONG_MAX);
    CHECK("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    CHECK("18446744073709551615", "%zu", SIZE_MAX);
    CHECK("1234", "%zu", (size_t)1234);
}

static void test_hex(void **state)
{
    (void)state;
    CHECK("0", "%x", 0u);
    CHECK("deadbeef", "%x", 0xdeadbeefu);
    CHECK("DEADBEEF", "%X", 0xdeadbeefu);
    CHECK("ffffffff", "%x", (unsigned)-1);
    CHECK("ffffffffffffffff", "%lx", ULONG_MAX);
    CHECK("FFFFFFFFFFFFFFFF", "%llX", (unsigned long long)UINT64_MAX);
    CHECK("123456789abcdef0", "%llx", 0x123456789abcdef0ull);
    CHECK("1000", "%zx", (size_t)0x1000);
    CHECK("0000beef", "%08x", 0xbeefu);
    CHECK("0000BEEF", "%08X", 0xbeefu);
    CHECK("ab    |", "%-6x|", 0xabu);
    /* %X must not leak upper case into the next conversion */
    CHECK("AB ab", "%X %x", 0xabu, 0xabu);
}

static void test_width_and_flags(void **state)
{
    (void)state;
    CHECK("   42", "%5d", 42);
    CHECK("  -42", "%5d", -42);
    CHECK("42   |", "%-5d|", 42);
    CHECK("-42  |", "%-5d|", -42);
    CHECK("00042", "%05d", 42);
    CHECK("-0042", "%05d", -42);
    CHECK("12345", "%3d", 12345); /* width is a minimum, never truncates */
    CHECK("12345", "%05d", 12345);
    CHECK("7", "%1d", 7);
    CHECK("        4294967295", "%18u", UINT_MAX);
    CHECK("000000000000ffffffff", "%020llx", 0xffffffffull);
    CHECK("                  12", "%20zu", (size_t)12);
    CHECK("0042", "%04lu", 42UL);
}

static void test_left_flag_overrides_zero(void **state)
{
    (void)state;
    /* C: "If the 0 and - flags both appear, the 0 flag is ignored." */
    CHECK_UNCHECKED("42   |", "%-05d|", 42);
    CHECK_UNCHECKED("-42  |", "%0-5d|", -42);
}

static void test_int64_min_with_width(void **state)
{
    (void)state;
    CHECK("  -9223372036854775808", "%22lld", (long long)INT64_MIN);
    CHECK("-009223372036854775808", "%022lld", (long long)INT64_MIN);
    CHECK("-9223372036854775808  |", "%-22lld|", (long long)INT64_MIN);
    CHECK("-9223372036854775808", "%5lld", (long long)INT64_MIN);
}

static void test_pointer(void **state)
{
    (void)state;
    CHECK("0x1234", "%p", (void *)0x1234);
    CHECK("0xffffffff80000000", "%p", (void *)0xffffffff80000000ull);
    CHECK("0x0", "%p", (void *)NULL); /* hv's choice; glibc prints "(nil)" */
    CHECK("[0xabc]", "[%p]", (void *)0xabc);
}

static void test_string_and_char(void **state)
{
    (void)state;
    CHECK("abc", "%s", "abc");
    /* NULL %s is undefined in C (and gcc rejects it at compile time); hv prints "(null)". */
    CHECK_UNCHECKED("(null)", "%s", (const char *)NULL);
    CHECK_UNCHECKED("  (null)", "%8s", (const char *)NULL);
    CHECK("      ab", "%8s", "ab");
    CHECK("ab      |", "%-8s|", "ab");
    CHECK("abcdef", "%3s", "abcdef");
    CHECK("x", "%c", 'x');
    CHECK("  x", "%3c", 'x');
    CHECK("x  |", "%-3c|", 'x');
    CHECK("%", "%%");
    CHECK("a=1 b=ok c=! 0xff", "a=%d b=%s c=%c 0x%x", 1, "ok", '!', 0xffu);
}

static void test_unknown_and_dangling(void **state)
{
    (void)state;
    /* Unknown conversions print literally so the mistake is visible. */
    CHECK_UNCHECKED("%q", "%q");
    CHECK_UNCHECKED("a%qb", "a%qb");
    /* A lone '%' (or a dangling length modifier) at the end is dropped. */
    CHECK_UNCHECKED("abc", "abc%");
    CHECK_UNCHECKED("abc", "abc%5");
    CHECK_UNCHECKED("abc", "abc%l");
    CHECK_UNCHECKED("abc", "abc%ll");
    CHECK_UNCHECKED("abc", "abc%z");
}

static void test_truncation(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 5, "hello world"), 11);
    assert_string_equal(buf, "hell");
    assert_int_equal(buf[5], 'Z'); /* nothing written past size */

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 6, "hello"), 5); /* exact fit */
    assert_string_equal(buf, "hello");
    assert_int_equal(buf[6], 'Z');

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 5, "hello"), 5); /* one short */
    assert_string_equal(buf, "hell");

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 1, "%s", "abc"), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'Z');

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 8, "%lld", (long long)INT64_MIN), 20);
    assert_string_equal(buf, "-922337");
    assert_int_equal(buf[8], 'Z');

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 4, "%10d|", 5), 11);
    assert_string_equal(buf, "   ");

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 3, "%-10s|", "abcd"), 11);
    assert_string_equal(buf, "ab");
}

static void test_size_zero(void **state)
{
    (void)state;
    assert_int_equal(fmt_snprintf(NULL, 0, "hello %d", 12345), 11);
    assert_int_equal(unchecked(NULL, 0, ""), 0);
    char buf[4] = {'Z', 'Z', 'Z', 'Z'};
    assert_int_equal(fmt_snprintf(buf, 0, "%s", "abc"), 3);
    assert_memory_equal(buf, "ZZZZ", 4); /* not even a NUL */
}

/* The measure-then-format pattern: fmt_vsnprintf must leave the caller's va_list usable. */
static int measure_then_format(char *buf, size_t size, int *measured, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *measured = fmt_vsnprintf(NULL, 0, fmt, ap);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void test_vsnprintf_leaves_va_list_usable(void **state)
{
    (void)state;
    char buf[32];
    int measured = -1;
    assert_int_equal(measure_then_format(buf, sizeof(buf), &measured, "%s-%d", "ab", -3), 5);
    assert_int_equal(measured, 5);
    assert_string_equal(buf, "ab--3");
}

/*
 * Regressions for two bugs these tests found in kernel/lib/fmt.c:
 * 1. %p with a width: the "0x" prefix was written before the padding and not counted in
 *    the width ("%10p" of 0x1234 gave "0x      1234").
 * 2. %c with '\0' wrote nothing (length 0) instead of one NUL character (length 1).
 */
static void test_pointer_width(void **state)
{
    (void)state;
    CHECK("    0x1234", "%10p", (void *)0x1234);
    CHECK("0x1234    |", "%-10p|", (void *)0x1234);
    CHECK_UNCHECKED("0x0000000000001234", "%018p", (void *)0x1234);
}

static void test_nul_char(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, sizeof(buf), "a%cb", '\0'), 3);
    assert_memory_equal(buf, "a\0b", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_signed_reads_only_an_int),
        cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_width_and_flags),
        cmocka_unit_test(test_left_flag_overrides_zero),
        cmocka_unit_test(test_int64_min_with_width),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_string_and_char),
        cmocka_unit_test(test_unknown_and_dangling),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_size_zero),
        cmocka_unit_test(test_vsnprintf_leaves_va_list_usable),
        cmocka_unit_test(test_pointer_width),
        cmocka_unit_test(test_nul_char),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
