/* I/O and MSR intercept bitmap tests (SDM vol. 3 §25.6.4, §25.6.9). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/msr.h"
#include "vmx/vcpu/intercept.h"
#include "vmx/vm/vm.h"
#include "tests/unit/fake.h"

#define BITMAP_BYTES   4096
#define MSR_READ_HIGH  1024
#define MSR_WRITE_LOW  2048
#define MSR_WRITE_HIGH 3072

static uint8_t io_a[BITMAP_BYTES], io_b[BITMAP_BYTES], msrs[BITMAP_BYTES];
static uint8_t io_a_before[BITMAP_BYTES], io_b_before[BITMAP_BYTES], msrs_before[BITMAP_BYTES];

static int setup(void **state)
{
    (void)state;
    memset(io_a, 0, sizeof(io_a));
    memset(io_b, 0, sizeof(io_b));
    memset(msrs, 0xFF, sizeof(msrs)); /* hv's default: every MSR exits */
    return 0;
}

static void snapshot(void)
{
    memcpy(io_a_before, io_a, BITMAP_BYTES);
    memcpy(io_b_before, io_b, BITMAP_BYTES);
    memcpy(msrs_before, msrs, BITMAP_BYTES);
}

static void assert_unchanged(void)
{
    assert_memory_equal(io_a, io_a_before, BITMAP_BYTES);
    assert_memory_equal(io_b, io_b_before, BITMAP_BYTES);
    assert_memory_equal(msrs, msrs_before, BITMAP_BYTES);
}

static unsigned bits_set(const uint8_t *bitmap)
{
    unsigned n = 0;
    for (size_t i = 0; i < BITMAP_BYTES; i++)
        n += (unsigned)__builtin_popcount(bitmap[i]);
    return n;
}

static void test_io_single_port(void **state)
{
    (void)state;
    assert_int_equal(intercept_io(io_a, io_b, 0x3F8, 1, true), 0);
    assert_int_equal(io_a[0x3F8 / 8], 1u << (0x3F8 % 8));
    assert_int_equal(bits_set(io_a), 1);
    assert_int_equal(bits_set(io_b), 0);
    assert_true(intercept_io_is(io_a, io_b, 0x3F8));
    assert_false(intercept_io_is(io_a, io_b, 0x3F9));
    assert_int_equal(intercept_io(io_a, io_b, 0x3F8, 1, false), 0);
    assert_int_equal(bits_set(io_a), 0);
}

static void test_io_range_spans_both_bitmaps(void **state)
{
    (void)state;
    assert_int_equal(intercept_io(io_a, io_b, 0x7FFE, 4, true), 0);
    assert_int_equal(io_a[0xFFF], 0xC0); /* ports 0x7FFE, 0x7FFF */
    assert_int_equal(io_b[0], 0x03);     /* ports 0x8000, 0x8001 */
    assert_int_equal(bits_set(io_a) + bits_set(io_b), 4);
    assert_true(intercept_io_is(io_a, io_b, 0x8001));
    assert_false(intercept_io_is(io_a, io_b, 0x8002));
}

static void test_io_last_port_and_limits(void **state)
{
    (void)state;
    assert_int_equal(intercept_io(io_a, io_b, 0xFFFF, 1, true), 0);
    assert_int_equal(io_b[0xFFF], 0x80);
    assert_int_equal(intercept_io(io_a, io_b, 0, 0x10000, true), 0);
    assert_int_equal(bits_set(io_a) + bits_set(io_b), 0x10000);
    assert_int_equal(intercept_io(io_a, io_b, 0, 0, false), 0); /* empty range: no-op */
    snapshot();
    assert_int_equal(intercept_io(io_a, io_b, 0xFFFF, 2, false), -1);
    assert_int_equal(intercept_io(io_a, io_b, 0x10000, 1, false), -1);
    assert_int_equal(intercept_io(io_a, io_b, 0x10, 0xFFFFFFFF, false), -1); /* no wrap-around */
    assert_unchanged();
    assert_true(intercept_io_is(io_a, io_b, 0x10000)); /* beyond the bitmaps: always exits */
}

static void test_msr_low_range(void **state)
{
    (void)state;
    assert_int_equal(intercept_msr(msrs, MSR_IA32_SYSENTER_CS, false, false), 0);
    unsigned byte = MSR_IA32_SYSENTER_CS / 8, bit = MSR_IA32_SYSENTER_CS % 8;
    assert_int_equal(msrs[byte], (uint8_t) ~(1u << bit));
    assert_int_equal(msrs[MSR_WRITE_LOW + byte], (uint8_t) ~(1u << bit));
    assert_int_equal(bits_set(msrs), BITMAP_BYTES * 8 - 2);
    assert_false(intercept_msr_is(msrs, MSR_IA32_SYSENTER_CS, false));
    assert_false(intercept_msr_is(msrs, MSR_IA32_SYSENTER_CS, true));
    assert_true(intercept_msr_is(msrs, MSR_IA32_SYSENTER_ESP, false));
}

static void test_msr_read_only_pass_through(void **state)
{
    (void)state;
    assert_int_equal(intercept_msr(msrs, MSR_IA32_FS_BASE, false, true), 0);
    unsigned index = MSR_IA32_FS_BASE - 0xC0000000u;
    assert_int_equal(msrs[MSR_READ_HIGH + index / 8], (uint8_t) ~(1u << (index % 8)));
    assert_int_equal(msrs[MSR_WRITE_HIGH + index / 8], 0xFF);
    assert_false(intercept_msr_is(msrs, MSR_IA32_FS_BASE, false));
    assert_true(intercept_msr_is(msrs, MSR_IA32_FS_BASE, true));
    assert_int_equal(intercept_msr(msrs, MSR_IA32_FS_BASE, true, true), 0);
    assert_int_equal(bits_set(msrs), BITMAP_BYTES * 8);
}

static void test_msr_range_edges(void **state)
{
    (void)state;
    memset(msrs, 0, sizeof(msrs));
    assert_int_equal(intercept_msr(msrs, 0x1FFF, false, true), 0);
    assert_int_equal(msrs[MSR_WRITE_LOW + 1023], 0x80);
    assert_int_equal(intercept_msr(msrs, 0xC0001FFF, true, false), 0);
    assert_int_equal(msrs[MSR_READ_HIGH + 1023], 0x80);
    assert_int_equal(intercept_msr(msrs, 0, true, false), 0);
    assert_int_equal(msrs[0], 0x01);
    assert_int_equal(intercept_msr(msrs, 0xC0000000, false, true), 0);
    assert_int_equal(msrs[MSR_WRITE_HIGH], 0x01);
    assert_int_equal(bits_set(msrs), 4);
    snapshot();
    assert_int_equal(intercept_msr(msrs, 0x2000, true, true), -1);
    assert_int_equal(intercept_msr(msrs, 0xBFFFFFFF, true, true), -1);
    assert_int_equal(intercept_msr(msrs, 0xC0002000, true, true), -1);
    assert_int_equal(intercept_msr(msrs, 0x40000000, true, true), -1);
    assert_unchanged();
    assert_true(intercept_msr_is(msrs, 0x2000, false)); /* outside the bitmap: always exits */
    assert_true(intercept_msr_is(msrs, 0xC0002000, true));
}

static void test_vcpu_wrappers_use_vm_bitmaps(void **state)
{
    (void)state;
    static struct vm vm;
    memset(&vm, 0, sizeof(vm));
    vm.vcpus[0].guest = &vm.g;
    vm.g.io_bitmap[0] = (paddr_t)(uintptr_t)io_a; /* host tests: physical = host pointer */
    vm.g.io_bitmap[1] = (paddr_t)(uintptr_t)io_b;
    vm.g.msr_bitmap = (paddr_t)(uintptr_t)msrs;
    assert_int_equal(vcpu_set_io_intercept(&vm.vcpus[0], 0x60, 5, true), 0);
    assert_int_equal(io_a[0x60 / 8], 0x1F);
    assert_int_equal(vcpu_set_io_intercept(&vm.vcpus[0], 0xCF8, 8, true), 0);
    assert_int_equal(vcpu_set_io_intercept(&vm.vcpus[0], 0xFFF8, 16, true), -1);
    assert_int_equal(bits_set(io_a) + bits_set(io_b), 13);
    assert_int_equal(vcpu_set_msr_intercept(&vm.vcpus[0], MSR_IA32_TSC_AUX, false, false), 0);
    assert_false(intercept_msr_is(msrs, MSR_IA32_TSC_AUX, false));
    assert_false(intercept_msr_is(msrs, MSR_IA32_TSC_AUX, true));
    assert_int_equal(vcpu_set_msr_intercept(&vm.vcpus[0], 0x40000000, false, false), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_io_single_port, setup),
        cmocka_unit_test_setup(test_io_range_spans_both_bitmaps, setup),
        cmocka_unit_test_setup(test_io_last_port_and_limits, setup),
        cmocka_unit_test_setup(test_msr_low_range, setup),
        cmocka_unit_test_setup(test_msr_read_only_pass_through, setup),
        cmocka_unit_test_setup(test_msr_range_edges, setup),
        cmocka_unit_test_setup(test_vcpu_wrappers_use_vm_bitmaps, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
