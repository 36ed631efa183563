/* APIC-register virtualization (vmx/vcpu/vcpu_apicv.c, vmx/exit/exit_apic.c) against the SDM
   vol. 3 chapter "APIC Virtualization and Virtual Interrupts": the VMCS set-up, the APIC-write
   and APIC-access exits, the TPR threshold and the xAPIC page's mapping following the APIC's
   mode. Fake VMCS, fake frames (a physical address is the host pointer). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "drivers/vdev/vlapic.h"
#include "kernel/lib/x86.h"
#include "mm/layout.h"
#include "vmx/cpu/ept.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx_arch.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/vcpu_apicv.h"
#include "vmx/vm/vm.h"
#include "tests/unit/fake_frames.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RAM_SIZE     0x10000ull
#define RIP0         0x2000ull
#define AR_CODE32    (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)
#define AR_SS0       (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
#define QUAL_TYPE(t) ((uint64_t)(t) << 12)
#define VEC_A        0x41u
#define VEC_B        0x62u

static struct vm vm;
static struct vcpu *v;
static uint8_t ram[RAM_SIZE];
static struct vdev_timers timers;
static struct vlapic apic;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return 1000;
}

static const struct vdev_host host = {.now = fake_now, .tsc_hz = 1000000000ull, .name = "t"};

static uint32_t *page(void)
{
    return phys_to_virt(v->vapic_page);
}

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "apicv");
    memset(ram, 0, sizeof(ram));
    fake_vm_ram(&vm, ram, RAM_SIZE);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_ET | CR0_NE);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE32);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS0);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    vdev_timers_init(&timers);
    vlapic_init(&apic, &host, &timers, 0, true, 0, 0, 0);
    vlapic_mmio_write(&apic, APIC_OFF_SVR, APIC_SVR_ENABLE | APIC_SVR_RESET);
    v->lapic = &apic;
    const struct ept_caps caps = {false, true, false};
    assert_int_equal(ept_init(&vm.g.ept, &caps), 0);
    vm.g.apic_access.page = PADDR_NONE;
    assert_int_equal(vcpu_apicv_init_guest(&vm.g), 0);
    assert_int_equal(vcpu_apicv_init(v), 0);
    fake_vcpu_forget(v);
    vdev_bus_add_mmio(&vm.dev.bus, "lapic", VLAPIC_BASE_ADDR, VLAPIC_PAGE_SIZE, &vlapic_mmio_ops,
                      &apic);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vcpu_apicv_destroy(v);
    ept_destroy(&vm.g.ept);
    vcpu_apicv_destroy_guest(&vm.g);
    assert_int_equal(fake_frames_in_use(), 0);
    return 0;
}

static void test_init_sets_controls_and_maps_the_access_page(void **state)
{
    (void)state;
    assert_true(fake_vmcs_get(VMCS_PROC_BASED_CTLS) & PROC_TPR_SHADOW);
    uint64_t proc2 = fake_vmcs_get(VMCS_PROC_BASED_CTLS2);
    assert_true(proc2 & PROC2_VIRT_APIC_ACCESSES);
    assert_true(proc2 & PROC2_APIC_REG_VIRT);
    assert_false(proc2 & PROC2_VIRT_INTR_DELIVERY); /* hv injects every interrupt itself */
    assert_int_equal(fake_vmcs_get(VMCS_VIRTUAL_APIC_ADDR), v->vapic_page);
    assert_int_equal(fake_vmcs_get(VMCS_APIC_ACCESS_ADDR), vm.g.apic_access.page);
    paddr_t hpa;
    unsigned perms;
    uint64_t size;
    assert_int_equal(ept_translate(&vm.g.ept, VLAPIC_BASE_ADDR, &hpa, &perms, 0, &size), 0);
    assert_int_equal(hpa, vm.g.apic_access.page);
    assert_int_equal(size, VLAPIC_PAGE_SIZE); /* SDM: the APIC-access page needs a 4 KiB page */
    assert_int_equal(perms, EPT_READ | EPT_WRITE);
    /* the page shows the registers from the start */
    assert_int_equal(page()[APIC_OFF_VERSION / 4], APIC_VERSION_VALUE);
    assert_int_equal(page()[APIC_OFF_SVR / 4], APIC_SVR_ENABLE | APIC_SVR_RESET);
}

static void test_apic_write_eoi_retires_in_service_vector(void **state)
{
    (void)state;
    vlapic_set_intr(&apic, VEC_A, false);
    vlapic_intr_accepted(&apic, VEC_A);
    vcpu_apicv_before_entry(v);
    assert_int_equal(page()[(APIC_OFF_ISR0 + 0x20) / 4], 1u << (VEC_A - 0x40));
    page()[APIC_OFF_EOI / 4] = 0; /* what the CPU stored before the trap-like exit */
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, APIC_OFF_EOI);
    fake_vcpu_exit(v, exit_handle_apic_write);
    assert_false(vm.g.ended);
    assert_int_equal(apic.isr[VEC_A / 32], 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0); /* trap-like: RIP is already past */
    vcpu_apicv_before_entry(v);
    assert_int_equal(page()[(APIC_OFF_ISR0 + 0x20) / 4], 0);
}

static void test_apic_write_takes_register_semantics(void **state)
{
    (void)state;
    /* SVR: only the writable bits stay; the page shows what the register holds */
    page()[APIC_OFF_SVR / 4] = 0xFFFFFFFFu;
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, APIC_OFF_SVR);
    fake_vcpu_exit(v, exit_handle_apic_write);
    assert_int_equal(apic.svr, APIC_SVR_WRITABLE);
    vcpu_apicv_before_entry(v);
    assert_int_equal(page()[APIC_OFF_SVR / 4], APIC_SVR_WRITABLE);
    page()[APIC_OFF_TMICT / 4] = 5000;
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, APIC_OFF_TMICT);
    fake_vcpu_exit(v, exit_handle_apic_write);
    assert_int_equal(apic.tmict, 5000);
}

static void test_apic_write_without_page_kills(void **state)
{
    (void)state;
    vcpu_apicv_destroy(v);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, APIC_OFF_EOI);
    fake_vcpu_exit(v, exit_handle_apic_write);
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "killed(APIC-write exit without a virtual-APIC page)");
}

static void test_apic_access_read_of_ppr_is_emulated(void **state)
{
    (void)state;
    page()[APIC_OFF_TPR / 4] = 0x30; /* the guest's TPR, written without an exit */
    v->regs.gpr[REG_RAX] = ~0ull;
    const uint8_t insn[] = {0x8B, 0x05, 0xA0, 0x00, 0xE0, 0xFE}; /* mov 0xFEE000A0,%eax */
    memcpy(ram + RIP0, insn, sizeof(insn));
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, QUAL_TYPE(0) | APIC_OFF_PPR);
    fake_vcpu_exit(v, exit_handle_apic_access);
    if (vm.g.ended)
        fail_msg("verdict %s", vm.g.verdict);
    assert_int_equal(v->regs.gpr[REG_RAX], 0x30); /* PPR = TPR with nothing in service */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + sizeof(insn));
}

static void test_apic_access_write_is_emulated(void **state)
{
    (void)state;
    v->regs.gpr[REG_RDX] = 0x1234;
    const uint8_t insn[] = {0x89, 0x15, 0x80, 0x03, 0xE0, 0xFE}; /* mov %edx,0xFEE00380 */
    memcpy(ram + RIP0, insn, sizeof(insn));
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, QUAL_TYPE(1) | APIC_OFF_TMICT);
    fake_vcpu_exit(v, exit_handle_apic_access);
    assert_false(vm.g.ended);
    assert_int_equal(apic.tmict, 0x1234);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + sizeof(insn));
}

/* With several vCPUs the xAPIC page is banked (vmx/vm/vm_devices.c): vCPU 1's APIC-access exit
   reaches vCPU 1's local APIC, not vCPU 0's. */
static void test_apic_access_reaches_the_accessing_vcpus_apic(void **state)
{
    (void)state;
    static struct vlapic apics[2];
    vdev_bus_init(&vm.dev.bus, &host);
    for (unsigned i = 0; i < 2; i++) {
        vlapic_init(&apics[i], &host, &timers, i, i == 0, 0, 0, 0);
        vlapic_mmio_write(&apics[i], APIC_OFF_SVR, APIC_SVR_ENABLE | APIC_SVR_RESET);
    }
    assert_int_equal(vdev_bus_add_mmio_banked(&vm.dev.bus, "lapic", VLAPIC_BASE_ADDR,
                                              VLAPIC_PAGE_SIZE, &vlapic_mmio_ops, apics,
                                              sizeof(apics[0]), 2),
                     0);
    struct vcpu *v1 = &vm.vcpus[1];
    v1->guest = &vm.g;
    v1->id = 1;
    v1->lapic = &apics[1];
    v1->regs.gpr[REG_RDX] = 0x1234;
    const uint8_t insn[] = {0x89, 0x15, 0x80, 0x03, 0xE0, 0xFE}; /* mov %edx,0xFEE00380 */
    memcpy(ram + RIP0, insn, sizeof(insn));
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, QUAL_TYPE(1) | APIC_OFF_TMICT);
    fake_vcpu_exit(v1, exit_handle_apic_access);
    assert_false(vm.g.ended);
    assert_int_equal(apics[1].tmict, 0x1234);
    assert_int_equal(apics[0].tmict, 0);
    assert_int_equal(apic.tmict, 0);
}

static void test_apic_access_fetch_and_page_walk_kill(void **state)
{
    (void)state;
    static const struct {
        unsigned type;
        const char *verdict;
    } cases[] = {
        {2, "killed(APIC-access exit: instruction fetch at offset 0x10)"},
        {3, "killed(APIC-access exit: access during event delivery at offset 0x10)"},
        {10, "killed(APIC-access exit: guest-physical access during event delivery at offset "
             "0x10)"},
        {15, "killed(APIC-access exit: guest-physical access (a page walk) at offset 0x10)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vm.g.ended = false;
        vm.g.verdict[0] = 0;
        fake_vmcs_set(VMCS_EXIT_QUALIFICATION, QUAL_TYPE(cases[i].type) | 0x10);
        fake_vcpu_exit(v, exit_handle_apic_access);
        assert_true(vm.g.ended);
        assert_string_equal(vm.g.verdict, cases[i].verdict);
    }
}

static void test_tpr_threshold_follows_blocked_vector(void **state)
{
    (void)state;
    page()[APIC_OFF_TPR / 4] = 0x50; /* class 5 holds back VEC_A (class 4) */
    vlapic_set_intr(&apic, VEC_A, false);
    assert_int_equal(vlapic_pending_intr(&apic), -1);
    vcpu_apicv_before_entry(v);
    assert_int_equal(fake_vmcs_get(VMCS_TPR_THRESHOLD), 4);
    /* the guest lowers its TPR (no exit until below the threshold): the vector is deliverable */
    page()[APIC_OFF_TPR / 4] = 0x30;
    fake_vcpu_exit(v, exit_handle_tpr_below_threshold);
    assert_false(vm.g.ended);
    assert_int_equal(vlapic_pending_intr(&apic), VEC_A);
    vcpu_apicv_before_entry(v);
    assert_int_equal(fake_vmcs_get(VMCS_TPR_THRESHOLD), 0);
}

static void test_x2apic_mode_unmaps_the_page_and_back(void **state)
{
    (void)state;
    unsigned invepts = fake_vmcs_invept_count();
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN | APIC_BASE_EXTD), 0);
    vcpu_apicv_before_entry(v);
    assert_false(fake_vmcs_get(VMCS_PROC_BASED_CTLS2) & PROC2_VIRT_APIC_ACCESSES);
    assert_int_equal(ept_translate(&vm.g.ept, VLAPIC_BASE_ADDR, 0, 0, 0, 0), -1);
    assert_int_equal(fake_vmcs_invept_count(), invepts + 1);
    /* the decode path now answers: all ones in x2APIC mode (SDM APIC 10.12.2) */
    assert_int_equal(vlapic_mmio_read(&apic, APIC_OFF_VERSION), 0xFFFFFFFFu);
    /* x2APIC -> disabled -> xAPIC: decoded again, mapped again */
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR), 0);
    vcpu_apicv_before_entry(v);
    assert_false(fake_vmcs_get(VMCS_PROC_BASED_CTLS2) & PROC2_VIRT_APIC_ACCESSES);
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN), 0);
    vcpu_apicv_before_entry(v);
    assert_true(fake_vmcs_get(VMCS_PROC_BASED_CTLS2) & PROC2_VIRT_APIC_ACCESSES);
    assert_int_equal(ept_translate(&vm.g.ept, VLAPIC_BASE_ADDR, 0, 0, 0, 0), 0);
}

static void test_failed_remap_stays_on_decode_path(void **state)
{
    (void)state;
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR), 0);
    vcpu_apicv_before_entry(v);
    assert_int_equal(vlapic_set_base(&apic, VLAPIC_BASE_ADDR | APIC_BASE_EN), 0);
    fake_frames_fail_after(0);
    vcpu_apicv_before_entry(v);
    fake_frames_fail_after(-1);
    assert_false(fake_vmcs_get(VMCS_PROC_BASED_CTLS2) & PROC2_VIRT_APIC_ACCESSES);
    assert_false(vm.g.apic_access.mapped);
}

static void test_frames_are_counted(void **state)
{
    (void)state;
    assert_int_equal(vcpu_apicv_frames(v), 1);
    assert_int_equal(vcpu_apicv_guest_frames(&vm.g), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    fake_log_reset();
    const struct CMUnitTest tests[] = {
        T(test_init_sets_controls_and_maps_the_access_page),
        T(test_apic_write_eoi_retires_in_service_vector),
        T(test_apic_write_takes_register_semantics),
        T(test_apic_write_without_page_kills),
        T(test_apic_access_read_of_ppr_is_emulated),
        T(test_apic_access_write_is_emulated),
        T(test_apic_access_reaches_the_accessing_vcpus_apic),
        T(test_apic_access_fetch_and_page_walk_kill),
        T(test_tpr_threshold_follows_blocked_vector),
        T(test_x2apic_mode_unmaps_the_page_and_back),
        T(test_failed_remap_stays_on_decode_path),
        T(test_frames_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
