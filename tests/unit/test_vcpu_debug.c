/* The vCPU's debug registers (vmx/vcpu/vcpu_debug.c): the reset values, and a switch between two
   vCPUs that carries none of one guest's DR0-DR3/DR6 into the other. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "vmx/vcpu/vcpu_debug.h"
#include "vmx/vm/vm.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define DR6_RESET 0xFFFF0FF0ull
#define DR6_B0    (DR6_RESET | 1ull) /* breakpoint 0 hit */

static struct vm vm, other;
static struct vcpu *v;

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "drtest");
    memset(&other, 0, sizeof(other));
    other.vcpus[0].guest = &other.g;
    vcpu_debug_reset(&other.vcpus[0]);
    return 0;
}

static void assert_cpu_holds(uint64_t dr0, uint64_t dr1, uint64_t dr2, uint64_t dr3, uint64_t dr6)
{
    assert_int_equal(fake_hw.dr[0], dr0);
    assert_int_equal(fake_hw.dr[1], dr1);
    assert_int_equal(fake_hw.dr[2], dr2);
    assert_int_equal(fake_hw.dr[3], dr3);
    assert_int_equal(fake_hw.dr[6], dr6);
}

/* A new vCPU starts as after RESET (SDM vol. 3 Table 10-1), whatever the CPU held before. */
static void test_reset_values_loaded(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 8; i++)
        fake_hw.dr[i] = 0xDEAD0000ull + i;
    vcpu_debug_load(v);
    assert_cpu_holds(0, 0, 0, 0, DR6_RESET);
    assert_int_equal(fake_hw.dr_writes, 5);
}

/* What the guest wrote while it ran (no exit) is saved at the switch away and comes back at its
   next switch in; the other vCPU in between sees only its own values. */
static void test_switch_keeps_each_guests_values(void **state)
{
    (void)state;
    vcpu_debug_load(v);
    fake_hw.dr[0] = 0x401000; /* the guest's MOV DR0..DR3, DR6 */
    fake_hw.dr[1] = 0x402000;
    fake_hw.dr[2] = 0x403000;
    fake_hw.dr[3] = 0x404000;
    fake_hw.dr[6] = DR6_B0;
    vcpu_debug_save(v);
    assert_int_equal(fake_hw.dr_reads, 5);
    vcpu_debug_load(&other.vcpus[0]);
    assert_cpu_holds(0, 0, 0, 0, DR6_RESET);
    fake_hw.dr[0] = 0x999000; /* the other guest's breakpoint */
    vcpu_debug_save(&other.vcpus[0]);
    vcpu_debug_load(v);
    assert_cpu_holds(0x401000, 0x402000, 0x403000, 0x404000, DR6_B0);
    vcpu_debug_load(&other.vcpus[0]);
    assert_cpu_holds(0x999000, 0, 0, 0, DR6_RESET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_values_loaded, setup),
        cmocka_unit_test_setup(test_switch_keeps_each_guests_values, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
