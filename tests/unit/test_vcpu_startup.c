/* Virtual INIT and SIPI (vmx/vcpu/vcpu_startup.c) against the fake VMCS: the INIT state of SDM
   vol. 3 Table 9-1, wait-for-SIPI, a SIPI's real-mode start at vector:0000 (§9.4.4), SIPIs
   that are ignored, INIT and SIPI posted together, and the vCPU's field cache staying
   coherent with the rewritten VMCS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/x86.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/vcpu/vcpu_startup.h"
#include "vmx/vm/vm.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define SW_ON       (APIC_SVR_ENABLE | APIC_SVR_RESET)
#define RUNNING_RIP 0x1000000ull
#define SIPI_VECTOR 0x9Au

static struct vm vm;
static struct vcpu *ap; /* vCPU 1 */

/* vCPU 1 of a 2-vCPU virtual PC, "running" in 64-bit mode with some state to lose. */
static int setup(void **state)
{
    (void)state;
    assert_non_null(fake_vm_pc(&vm, "startup", 2));
    ap = &vm.vcpus[1];
    ap->vpid = 2;
    fake_vmcs_set(VMCS_GUEST_CS_SELECTOR, 0x10);
    fake_vmcs_set(VMCS_GUEST_CS_BASE, 0);
    fake_vmcs_set(VMCS_GUEST_DS_SELECTOR, 0x18);
    fake_vmcs_set(VMCS_GUEST_RIP, RUNNING_RIP);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_PG | CR0_ET | CR0_NE);
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_PE | CR0_PG | CR0_ET | CR0_NE | CR0_CD);
    fake_vmcs_set(VMCS_CR0_GUEST_HOST_MASK, CR0_CD | CR0_NW);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE);
    fake_vmcs_set(VMCS_GUEST_EFER, EFER_LME | EFER_LMA);
    fake_vmcs_set(VMCS_GUEST_PAT, 0x0007010600070106ull);
    fake_vmcs_set(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | 0x30);
    for (unsigned r = 0; r < REG_COUNT; r++)
        ap->regs.gpr[r] = 0x1111 * (r + 1);
    ap->regs.cr2 = 0xDEAD000;
    ap->event_count = 1;
    ap->halted = true;
    vlapic_mmio_write(ap->lapic, APIC_OFF_SVR, SW_ON);
    vlapic_set_intr(ap->lapic, 0x40, false);
    vlapic_nmi(ap->lapic);
    return 0;
}

static void take(void)
{
    fake_vcpu_forget(ap); /* a new exit: the cache holds the exit stub's fields only */
    vcpu_take_startup(ap);
    vcpu_write_back(ap);
}

static void assert_init_state(void)
{
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_SELECTOR), 0xF000);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_BASE), 0xFFFF0000ull);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0xFFF0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RFLAGS), RFLAGS_RESERVED1);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_DS_SELECTOR), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_DS_BASE), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_SS_LIMIT), 0xFFFF);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR4), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR3), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0) & (CR0_PE | CR0_PG), 0);
}

/* Table 9-1, INIT column; the local APIC reset except its ID (SDM APIC 10.4.7.3). */
static void test_init_resets_the_vcpu_and_waits_for_sipi(void **state)
{
    (void)state;
    assert_true(vcpu_runnable(ap));
    vcpu_post_init(ap);
    assert_true(vcpu_startup_pending(ap));
    assert_false(vcpu_runnable(ap)); /* it will wait once the INIT is taken */
    take();
    assert_false(vcpu_startup_pending(ap));
    assert_true(ap->wait_for_sipi);
    assert_false(vcpu_runnable(ap));
    assert_init_state();
    /* CD and NW are kept, ET set, the rest cleared */
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_ET | CR0_CD);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PAT), 0x0007010600070106ull); /* unchanged */
    for (unsigned r = 0; r < REG_COUNT; r++)
        assert_int_equal(ap->regs.gpr[r], 0);
    assert_int_equal(ap->regs.cr2, 0);
    assert_int_equal(ap->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTR_INFO), 0);
    assert_false(ap->halted);
    assert_int_equal(ap->guest_xcr0, 1);
    assert_int_equal(vlapic_pending_intr(ap->lapic), -1);
    assert_false(vlapic_take_nmi(ap->lapic));
    assert_int_equal(vlapic_mmio_read(ap->lapic, APIC_OFF_SVR), APIC_SVR_RESET);
    assert_int_equal(vlapic_mmio_read(ap->lapic, APIC_OFF_ID), 1u << APIC_ID_SHIFT);
    assert_false(vm.vcpus[0].wait_for_sipi);        /* the other vCPU is untouched */
    assert_int_equal(fake_vmcs_invvpid_count(), 1); /* INIT flushes its TLB */
    assert_int_equal(fake_vmcs_invvpid_call(0).vpid, ap->vpid);
}

/* An x2APIC stays in x2APIC mode with its ID-derived LDR; the BSP flag stays (10.12.5.1). */
static void test_init_keeps_the_apic_mode(void **state)
{
    (void)state;
    assert_int_equal(vlapic_set_base(ap->lapic, VLAPIC_BASE_ADDR | APIC_BASE_EN | APIC_BASE_EXTD),
                     0);
    vcpu_post_init(ap);
    take();
    assert_true(vlapic_x2apic_mode(ap->lapic));
    uint64_t ldr = 0;
    assert_int_equal(vlapic_rdmsr(ap->lapic, X2APIC_MSR_BASE + APIC_OFF_LDR / 16, &ldr), 0);
    assert_int_equal(ldr, 1u << 1);
    assert_int_equal(vlapic_get_base(ap->lapic) & APIC_BASE_BSP, 0);
}

/* §9.4.4: CS = vector << 8, base vector << 12, IP 0, in real mode. */
static void test_sipi_starts_at_the_vector(void **state)
{
    (void)state;
    vcpu_post_init(ap);
    take();
    vcpu_post_sipi(ap, SIPI_VECTOR);
    assert_true(vcpu_runnable(ap));
    take();
    assert_false(ap->wait_for_sipi);
    assert_true(vcpu_runnable(ap));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_SELECTOR), 0x9A00);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_BASE), 0x9A000);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_DS_SELECTOR), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0) & CR0_PE, 0);
    assert_int_equal(vcpu_rip(ap), 0); /* the cache reads the new state */
}

static void test_sipi_while_running_is_ignored(void **state)
{
    (void)state;
    vcpu_post_sipi(ap, SIPI_VECTOR);
    assert_true(vcpu_runnable(ap));
    take();
    assert_false(ap->wait_for_sipi);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RUNNING_RIP);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_SELECTOR), 0x10);
    assert_int_equal(ap->regs.gpr[REG_RAX], 0x1111);
}

/* Linux's INIT, SIPI, SIPI: the second SIPI finds the vCPU running and changes nothing. */
static void test_second_sipi_is_ignored(void **state)
{
    (void)state;
    vcpu_post_init(ap);
    take();
    vcpu_post_sipi(ap, SIPI_VECTOR);
    take();
    fake_vmcs_set(VMCS_GUEST_RIP, 0x42); /* the AP ran its trampoline a little */
    ap->regs.gpr[REG_RAX] = 7;
    vcpu_post_sipi(ap, 0x10);
    take();
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0x42);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_SELECTOR), 0x9A00);
    assert_int_equal(ap->regs.gpr[REG_RAX], 7);
}

/* Both posted before the vCPU's CPU looked: INIT first, then the SIPI. */
static void test_init_and_sipi_pending_together(void **state)
{
    (void)state;
    vcpu_post_init(ap);
    vcpu_post_sipi(ap, SIPI_VECTOR);
    assert_true(vcpu_runnable(ap));
    take();
    assert_false(ap->wait_for_sipi);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_SELECTOR), 0x9A00);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0);
    assert_int_equal(vlapic_pending_intr(ap->lapic), -1); /* the INIT's APIC reset happened */
}

/* An AP at creation holds the BSP's entry state; its SIPI gives it the whole real-mode state. */
static void test_ap_at_creation_waits_and_starts(void **state)
{
    (void)state;
    vcpu_startup_reset_ap(ap);
    assert_false(vcpu_runnable(ap));
    vcpu_post_sipi(ap, SIPI_VECTOR);
    take();
    assert_true(vcpu_runnable(ap));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CS_BASE), 0x9A000);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR4), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_DS_SELECTOR), 0);
}

/* A handler's cached change (RIP advanced, not yet written back) must not overwrite the INIT
   state at the next entry. */
static void test_cached_changes_do_not_survive_init(void **state)
{
    (void)state;
    fake_vcpu_forget(ap);
    vcpu_set_field(ap, VCPU_RIP, RUNNING_RIP + 3);
    vcpu_set_field(ap, VCPU_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
    vcpu_post_init(ap);
    vcpu_take_startup(ap);
    vcpu_write_back(ap);
    assert_init_state();
    assert_int_equal(vcpu_field(ap, VCPU_IDT_VECTORING_INFO), 0); /* nothing to re-deliver */
}

static void test_nothing_posted_changes_nothing(void **state)
{
    (void)state;
    fake_vmcs_reset_counts();
    take();
    assert_int_equal(fake_vmcs_writes(VMCS_GUEST_RIP), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RUNNING_RIP);
    assert_true(vcpu_runnable(ap));
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_resets_the_vcpu_and_waits_for_sipi),
        T(test_init_keeps_the_apic_mode),
        T(test_sipi_starts_at_the_vector),
        T(test_sipi_while_running_is_ignored),
        T(test_second_sipi_is_ignored),
        T(test_init_and_sipi_pending_together),
        T(test_ap_at_creation_waits_and_starts),
        T(test_cached_changes_do_not_survive_init),
        T(test_nothing_posted_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
