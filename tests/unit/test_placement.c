/* Unit tests for vmx/vm/placement.c: the home CPU of each vCPU (least-loaded allowed CPU,
   lowest id on ties) and the cpus= check against the CPUs in VMX root operation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "vmx/vm/placement.h"
#include "tests/unit/fake.h"

#define ANY     0u
#define CPU(n)  (1u << (n))
#define CPUS0_3 0xFu

static unsigned place_ok(struct placement *p, uint32_t allowed)
{
    unsigned cpu = 0xDEAD;
    assert_int_equal(placement_place(p, allowed, &cpu), 0);
    assert_true(cpu < p->cpu_count);
    return cpu;
}

/* `guests` 1-vCPU guests without cpus= on `cpus` CPUs land round-robin: 0, 1, ..., 0, 1, ... */
static void spread(unsigned cpus, unsigned guests)
{
    struct placement p;
    placement_init(&p, cpus);
    for (unsigned g = 0; g < guests; g++)
        assert_int_equal(place_ok(&p, ANY), g % cpus);
    for (unsigned n = 0; n < cpus; n++)
        assert_int_equal(p.load[n], guests / cpus + (n < guests % cpus ? 1 : 0));
}

static void test_default_spreading(void **state)
{
    (void)state;
    spread(1, 3);
    spread(2, 5);
    spread(4, 4);
    spread(4, 9);
    spread(MAX_CPUS, 2 * MAX_CPUS + 1);
}

static void test_init(void **state)
{
    (void)state;
    struct placement p;
    memset(&p, 0xAA, sizeof(p));
    placement_init(&p, 3);
    assert_int_equal(p.cpu_count, 3);
    for (unsigned n = 0; n < MAX_CPUS; n++)
        assert_int_equal(p.load[n], 0);
    placement_init(&p, MAX_CPUS + 5); /* more than hv has areas for: clamped */
    assert_int_equal(p.cpu_count, MAX_CPUS);
}

static void test_pinned(void **state)
{
    (void)state;
    struct placement p;
    placement_init(&p, 4);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(place_ok(&p, CPU(1)), 1); /* cpus=1, however loaded */
    assert_int_equal(p.load[1], 3);
    /* Unpinned guests now avoid CPU 1 until the others catch up. */
    assert_int_equal(place_ok(&p, ANY), 0);
    assert_int_equal(place_ok(&p, ANY), 2);
    assert_int_equal(place_ok(&p, ANY), 3);
    assert_int_equal(place_ok(&p, ANY), 0);
    assert_int_equal(placement_first_missing(&p, CPU(1)), -1);
}

static void test_range_on_smaller_machine(void **state)
{
    (void)state;
    struct placement p;
    placement_init(&p, 2);
    /* cpus=0-3 on a 2-CPU machine: the lead rejects it by first_missing; place uses 0-1. */
    assert_int_equal(placement_first_missing(&p, CPUS0_3), 2);
    assert_int_equal(place_ok(&p, CPUS0_3), 0);
    assert_int_equal(place_ok(&p, CPUS0_3), 1);
    assert_int_equal(place_ok(&p, CPUS0_3), 0);
    assert_int_equal(placement_first_missing(&p, CPU(0) | CPU(5) | CPU(3)), 3);
    assert_int_equal(placement_first_missing(&p, CPU(31)), 31);
    assert_int_equal(placement_first_missing(&p, CPU(0) | CPU(1)), -1);
    assert_int_equal(placement_first_missing(&p, ANY), -1); /* no cpus=: nothing missing */
}

static void test_allowed_names_no_online_cpu(void **state)
{
    (void)state;
    struct placement p;
    placement_init(&p, 2);
    unsigned cpu = 0xDEAD;
    assert_int_equal(placement_place(&p, CPU(2) | CPU(7), &cpu), -1);
    assert_int_equal(cpu, 0xDEAD);              /* untouched */
    assert_int_equal(p.load[0] + p.load[1], 0); /* nothing recorded */
    assert_int_equal(placement_first_missing(&p, CPU(2) | CPU(7)), 2);
    placement_init(&p, 0); /* no CPU at all */
    assert_int_equal(placement_place(&p, ANY, &cpu), -1);
}

static void test_multi_vcpu_guests(void **state)
{
    (void)state;
    struct placement p;
    /* A 2-vCPU VM on 2 idle CPUs: one vCPU each. */
    placement_init(&p, 2);
    assert_int_equal(place_ok(&p, ANY), 0);
    assert_int_equal(place_ok(&p, ANY), 1);
    /* A 4-vCPU VM on 2 CPUs: two each, alternating. */
    placement_init(&p, 2);
    for (unsigned v = 0; v < 4; v++)
        assert_int_equal(place_ok(&p, ANY), v % 2);
    assert_int_equal(p.load[0], 2);
    assert_int_equal(p.load[1], 2);
    /* A 2-vCPU VM after a 1-vCPU one on 4 CPUs: CPUs 1 and 2, not 0 again. */
    placement_init(&p, 4);
    assert_int_equal(place_ok(&p, ANY), 0);
    assert_int_equal(place_ok(&p, ANY), 1);
    assert_int_equal(place_ok(&p, ANY), 2);
    /* cpus=0,2-3 spreads over those three only. */
    placement_init(&p, 4);
    const uint32_t some = CPU(0) | CPU(2) | CPU(3);
    assert_int_equal(place_ok(&p, some), 0);
    assert_int_equal(place_ok(&p, some), 2);
    assert_int_equal(place_ok(&p, some), 3);
    assert_int_equal(place_ok(&p, some), 0);
    assert_int_equal(p.load[1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_default_spreading),
        cmocka_unit_test(test_pinned),
        cmocka_unit_test(test_range_on_smaller_machine),
        cmocka_unit_test(test_allowed_names_no_online_cpu),
        cmocka_unit_test(test_multi_vcpu_guests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
