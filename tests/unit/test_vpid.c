/* VPID allocator tests: never 0, unique, exhaustion, reuse, and panics on misuse. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "vmx/cpu/vpid.h"
#include "tests/unit/fake.h"

#define USABLE_VPIDS VPID_MAX /* 1 ... VPID_MAX: 0 is the host's */
#define FEW_VPIDS    100

static bool seen[VPID_MAX + 1];

static int reset(void **state)
{
    (void)state;
    vpid_reset_for_test();
    memset(seen, 0, sizeof(seen));
    return 0;
}

/* Allocates and checks the VPID is non-zero and not already held. */
static uint16_t alloc_unique(void)
{
    uint16_t vpid = vpid_alloc();
    if (vpid == 0)
        fail_msg("vpid_alloc returned 0 with VPIDs left");
    if (seen[vpid])
        fail_msg("VPID %u handed out twice", (unsigned)vpid);
    seen[vpid] = true;
    return vpid;
}

static void alloc_all(void)
{
    for (unsigned i = 0; i < USABLE_VPIDS; i++)
        alloc_unique();
}

static void test_never_zero_and_unique(void **state)
{
    (void)state;
    for (unsigned i = 0; i < FEW_VPIDS; i++)
        assert_int_equal(alloc_unique(), i + 1); /* lowest free first */
}

static void test_exhaustion_returns_zero(void **state)
{
    (void)state;
    alloc_all();
    assert_int_equal(vpid_alloc(), 0);
    assert_int_equal(vpid_alloc(), 0);
    for (unsigned v = 1; v <= VPID_MAX; v++)
        assert_true(seen[v]);
}

static void test_free_and_realloc(void **state)
{
    (void)state;
    alloc_all();
    vpid_free(1234);
    vpid_free(VPID_MAX);
    assert_int_equal(vpid_alloc(), 1234);
    assert_int_equal(vpid_alloc(), VPID_MAX);
    assert_int_equal(vpid_alloc(), 0);
    vpid_free(1);
    assert_int_equal(vpid_alloc(), 1);
}

static void test_free_zero_panics(void **state)
{
    (void)state;
    EXPECT_PANIC(vpid_free(0), "VPID 0");
    assert_int_equal(vpid_alloc(), 1); /* allocator still usable */
}

static void test_double_free_panics(void **state)
{
    (void)state;
    uint16_t a = vpid_alloc(), b = vpid_alloc();
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    vpid_free(b);
    EXPECT_PANIC(vpid_free(b), "VPID 2 is not allocated");
    /* The lock was released before panicking: allocation still works and b comes back. */
    assert_int_equal(vpid_alloc(), 2);
    assert_int_equal(vpid_alloc(), 3);
}

static void test_free_never_allocated_panics(void **state)
{
    (void)state;
    EXPECT_PANIC(vpid_free(500), "VPID 500 is not allocated");
    EXPECT_PANIC(vpid_free(VPID_MAX), "VPID 65535 is not allocated");
    assert_int_equal(vpid_alloc(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_never_zero_and_unique, reset),
        cmocka_unit_test_setup(test_exhaustion_returns_zero, reset),
        cmocka_unit_test_setup(test_free_and_realloc, reset),
        cmocka_unit_test_setup(test_free_zero_panics, reset),
        cmocka_unit_test_setup(test_double_free_panics, reset),
        cmocka_unit_test_setup(test_free_never_allocated_panics, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
