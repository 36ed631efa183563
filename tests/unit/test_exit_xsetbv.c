/* XSETBV exit handler tests: the XCR0 rules, #UD without CR4.OSXSAVE, #GP paths, RIP advance.
   Each XSETBV runs on a CPU model built from the fake machine as it is then (as vm_create does)
   and must run no host CPUID. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/x86.h"
#include "kernel/lib/cpuid_leaves.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RIP0       0x8000ull
#define AR_SS(dpl) (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P | ((dpl) << SEG_AR_DPL_SHIFT))
#define XCR0_PKRU  (1ull << 9)
#define HOST_XCR0  (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU)
#define OWNED_CR4  CR4_VMXE /* the CR4 guest/host mask on a typical CPU */

static struct vm vm;
static struct vcpu *v;

static void set_host_xsave(uint64_t xcr0_supported)
{
    struct cpuid_regs features = {0, 0, CPUID_1_ECX_XSAVE, 0};
    struct cpuid_regs xsave = {(uint32_t)xcr0_supported, 0, 0, (uint32_t)(xcr0_supported >> 32)};
    fake_hw_set_cpuid(CPUID_LEAF_FEATURES, 0, features);
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 0, xsave);
}

/* The guest's CR4 as the VMCS holds it: OSXSAVE is guest-owned, so it lives in GUEST_CR4. */
static void set_guest_cr4(uint64_t cr4)
{
    fake_vmcs_set(VMCS_CR4_GUEST_HOST_MASK, OWNED_CR4);
    fake_vmcs_set(VMCS_GUEST_CR4, cr4 | CR4_VMXE);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, cr4 & OWNED_CR4);
}

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "xsetbvtest");
    v->guest_xcr0 = XCR0_X87;
    set_host_xsave(HOST_XCR0);
    set_guest_cr4(CR4_PAE | CR4_OSXSAVE);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS(0));
    fake_vmcs_set(VMCS_GUEST_CS_AR, SEG_AR_L);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 3);
    return 0;
}

static void xsetbv(uint32_t index, uint64_t value)
{
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = 0xFFFFFFFF00000000ull | index; /* only ECX counts */
    v->regs.gpr[REG_RAX] = 0x5555555500000000ull | (uint32_t)value;
    v->regs.gpr[REG_RDX] = 0x6666666600000000ull | (uint32_t)(value >> 32);
    fake_vm_cpu_model(&vm, 0);
    fake_hw.cpuid_calls = 0;
    fake_vcpu_exit(v, exit_handle_xsetbv);
    assert_int_equal(fake_hw.cpuid_calls, 0);
}

static void xsetbv_ok(uint64_t value)
{
    xsetbv(0, value);
    assert_int_equal(v->event_count, 0);
    assert_int_equal(v->guest_xcr0, value);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 3);
}

static void assert_fault(unsigned vector, bool has_error)
{
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, vector);
    assert_int_equal(v->events[0].type, INTR_TYPE_HW_EXCEPTION);
    assert_int_equal(v->events[0].has_error_code, has_error);
    assert_int_equal(v->events[0].error_code, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_int_equal(v->guest_xcr0, XCR0_X87);
}

static void xsetbv_gp(uint32_t index, uint64_t value)
{
    xsetbv(index, value);
    assert_fault(EXC_GP, true);
}

static void test_valid_values(void **state)
{
    (void)state;
    xsetbv_ok(XCR0_X87 | XCR0_SSE);
    xsetbv_ok(XCR0_X87 | XCR0_SSE | XCR0_AVX);
    xsetbv_ok(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512);
    xsetbv_ok(XCR0_X87);
    assert_int_equal(fake_hw.xcr0_writes, 0); /* the run loop loads it, not the handler */
}

static void test_odd_instruction_length(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 7);
    xsetbv(0, XCR0_X87 | XCR0_SSE);
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 7);
}

static void test_no_osxsave_ud(void **state)
{
    (void)state;
    set_guest_cr4(CR4_PAE);
    xsetbv(0, XCR0_X87 | XCR0_SSE);
    assert_fault(EXC_UD, false);
}

static void test_osxsave_set_without_cr_exit_is_seen(void **state)
{
    (void)state;
    /* OSXSAVE set natively (no CR exit): the read shadow lacks it, GUEST_CR4 has it. */
    set_guest_cr4(CR4_PAE | CR4_OSXSAVE);
    xsetbv_ok(XCR0_X87 | XCR0_SSE);
}

static void test_cpl3_gp(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS(3));
    xsetbv_gp(0, XCR0_X87 | XCR0_SSE);
}

static void test_bad_index_gp(void **state)
{
    (void)state;
    xsetbv_gp(1, XCR0_X87);
    xsetbv_gp(0x80000000, XCR0_X87);
}

static void test_x87_required(void **state)
{
    (void)state;
    xsetbv_gp(0, XCR0_SSE);
    xsetbv_gp(0, 0);
}

static void test_avx_requires_sse(void **state)
{
    (void)state;
    xsetbv_gp(0, XCR0_X87 | XCR0_AVX);
}

static void test_avx512_all_or_nothing_with_avx(void **state)
{
    (void)state;
    xsetbv_gp(0, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK);
    xsetbv_gp(0, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK | XCR0_ZMM_HI256);
    xsetbv_gp(0, XCR0_X87 | XCR0_SSE | XCR0_AVX512); /* without AVX */
}

static void test_only_supported_bits(void **state)
{
    (void)state;
    xsetbv_gp(0, XCR0_X87 | XCR0_SSE | XCR0_PKRU); /* host has it, hv's policy does not */
    xsetbv_gp(0, XCR0_X87 | (1ull << 62));
    set_host_xsave(XCR0_X87 | XCR0_SSE); /* a host without AVX */
    xsetbv_gp(0, XCR0_X87 | XCR0_SSE | XCR0_AVX);
}

static void test_host_without_xsave(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_FEATURES, 0, (struct cpuid_regs){0, 0, 0, 0});
    xsetbv_gp(0, XCR0_X87);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_valid_values, setup),
        cmocka_unit_test_setup(test_odd_instruction_length, setup),
        cmocka_unit_test_setup(test_no_osxsave_ud, setup),
        cmocka_unit_test_setup(test_osxsave_set_without_cr_exit_is_seen, setup),
        cmocka_unit_test_setup(test_cpl3_gp, setup),
        cmocka_unit_test_setup(test_bad_index_gp, setup),
        cmocka_unit_test_setup(test_x87_required, setup),
        cmocka_unit_test_setup(test_avx_requires_sse, setup),
        cmocka_unit_test_setup(test_avx512_all_or_nothing_with_avx, setup),
        cmocka_unit_test_setup(test_only_supported_bits, setup),
        cmocka_unit_test_setup(test_host_without_xsave, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
