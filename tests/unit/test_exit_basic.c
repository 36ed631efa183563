/* Tests of the simple exit handlers (vmx/exit/exit_basic.c): EPT violations and misconfigurations,
   HLT, cache flushes, VMX instructions, entry failures, triple faults, exception/NMI exits,
   event windows and the informational exits, against the fake VMCS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vlapic.h"
#include "vmx/vcpu/vcpu_intr.h"
#include "kernel/smp.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx_arch.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RIP0      0x5000ull
#define AR_CODE32 (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)
#define AR_SS0    (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
#define PROC_BASE 0xB60065FAu
#define GPA_16M   0x1000000ull

/* EPT-violation exit qualification (SDM vol. 3 Table 29-7) */
#define EQ_R          (1ull << 0)
#define EQ_W          (1ull << 1)
#define EQ_X          (1ull << 2)
#define EQ_PERM_R     (1ull << 3)
#define EQ_PERM_W     (1ull << 4)
#define EQ_PERM_X     (1ull << 5)
#define EQ_GLA_VALID  (1ull << 7)
#define EQ_TRANSLATED (1ull << 8)

#define INFO(type, vector)                                                                         \
    (INTR_INFO_VALID | ((uint32_t)(type) << INTR_INFO_TYPE_SHIFT) | (uint32_t)(vector))

static struct vm vm;
static struct vcpu *v;

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "basictest");
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE32);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS0);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 2);
    fake_vmcs_set(VMCS_PROC_BASED_CTLS, PROC_BASE);
    return 0;
}

static void assert_ud_not_advanced(void)
{
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_UD);
    assert_int_equal(v->events[0].type, INTR_TYPE_HW_EXCEPTION);
    assert_false(v->events[0].has_error_code);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_false(vm.g.ended);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- EPT violation ---- */

static void ept_violation(uint64_t gpa, uint64_t qual)
{
    setup(NULL);
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, qual);
    fake_vcpu_exit(v, exit_handle_ept_violation);
}

static void test_ept_violation_verdicts(void **state)
{
    (void)state;
    static const struct {
        uint64_t gpa, qual;
        const char *verdict;
    } cases[] = {
        {GPA_16M, EQ_W, "killed(EPT violation at GPA 0x1000000 W)"},
        {GPA_16M, EQ_R, "killed(EPT violation at GPA 0x1000000 R)"},
        {GPA_16M, EQ_X, "killed(EPT violation at GPA 0x1000000 X)"},
        {0xFEE00030, EQ_R | EQ_W, "killed(EPT violation at GPA 0xfee00030 RW)"},
        {0xFFFFF000, EQ_R | EQ_X | EQ_GLA_VALID | EQ_TRANSLATED,
         "killed(EPT violation at GPA 0xfffff000 RX)"},
        {0x123456789ABull, EQ_W | EQ_PERM_R | EQ_GLA_VALID,
         "killed(EPT violation at GPA 0x123456789ab W)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ept_violation(cases[i].gpa, cases[i].qual);
        if (!vm.g.ended || strcmp(vm.g.verdict, cases[i].verdict))
            fail_msg("case %zu: \"%s\", want \"%s\"", i, vm.g.verdict, cases[i].verdict);
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    }
}

static void test_ept_violation_log_without_gla(void **state)
{
    (void)state;
    ept_violation(GPA_16M, EQ_W | EQ_PERM_R | EQ_PERM_X);
    assert_string_equal(fake_log, "vm basictest: EPT violation: W at GPA 0x1000000, page perms "
                                  "r-x, RIP 0x5000\n");
}

static void test_ept_violation_log_with_gla(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_LINEAR_ADDRESS, 0xFFFFFFFF81000000ull);
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, GPA_16M);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, EQ_X | EQ_PERM_R | EQ_PERM_W | EQ_GLA_VALID);
    fake_vcpu_exit(v, exit_handle_ept_violation);
    assert_string_equal(fake_log, "vm basictest: EPT violation: X at GPA 0x1000000 (GVA "
                                  "0xffffffff81000000), page perms rw-, RIP 0x5000\n");
    assert_string_equal(vm.g.verdict, "killed(EPT violation at GPA 0x1000000 X)");
}

static void test_ept_violation_first_verdict_stands(void **state)
{
    (void)state;
    guest_end(&vm.g, "exit(3)");
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, GPA_16M);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, EQ_W);
    fake_vcpu_exit(v, exit_handle_ept_violation);
    assert_string_equal(vm.g.verdict, "exit(3)");
}

/* ---- EPT misconfiguration ---- */

static void test_ept_misconfig(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, 0xFEC00000);
    fake_vcpu_exit(v, exit_handle_ept_misconfig);
    assert_string_equal(vm.g.verdict, "killed(EPT misconfiguration at GPA 0xfec00000)");
    assert_non_null(strstr(fake_log, "vm basictest: EPT misconfiguration at GPA 0xfec00000\n"));
}

/* ---- HLT ---- */

static void test_hlt_halts(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 1);
    fake_vmcs_set(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI); /* STI; HLT */
    fake_vcpu_exit(v, exit_handle_hlt);
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "halted");
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 1);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_INTERRUPTIBILITY), 0);
}

static void test_hlt_with_queued_event_continues(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 1);
    vcpu_inject_exception(v, EXC_DB, false, 0);
    fake_vcpu_exit(v, exit_handle_hlt);
    assert_false(vm.g.ended);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 1); /* the event returns past HLT */
    assert_int_equal(v->event_count, 1);
}

/*
 * SMP (issue 14): a vCPU of a multi-vCPU virtual-PC guest that executes HLT with IF = 0 is
 * parked, not the guest's end: another vCPU can still wake it with an NMI or INIT (an OS parks
 * its stopped CPUs so). Expected: the guest ends `halted` only when every vCPU is parked or
 * waits for its SIPI; a parked vCPU wakes for an NMI, never for an interrupt.
 */
static void test_hlt_irq_off_parks_a_vcpu_of_an_smp_guest(void **state)
{
    (void)state;
    static struct vm pc;
    struct vcpu *bsp = fake_vm_pc(&pc, "smp", 3);
    assert_non_null(bsp);
    struct vcpu *ap1 = &pc.vcpus[1], *ap2 = &pc.vcpus[2];
    ap2->wait_for_sipi = true; /* never started */
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 1);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1); /* IF = 0 */
    fake_vcpu_exit(ap1, exit_handle_hlt);
    assert_false(pc.g.ended);
    assert_true(ap1->halted_irq_off);
    vlapic_set_intr(ap1->lapic, 0x40, false);
    assert_false(vcpu_wakeup_pending(ap1)); /* IF = 0: an interrupt does not end this HLT */
    vlapic_nmi(ap1->lapic);
    assert_true(vcpu_wakeup_pending(ap1));
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
    fake_vcpu_exit(bsp, exit_handle_hlt);
    assert_true(pc.g.ended); /* BSP and AP 1 parked, AP 2 never started: nothing can run */
    assert_string_equal(pc.g.verdict, "halted");
}

/* ---- cache flushes ---- */

static void test_invd_wbinvd_advance(void **state)
{
    (void)state;
    fake_vcpu_exit(v, exit_handle_cache_flush); /* INVD: 0F 08 */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 2);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 3); /* F3 0F 09: WBNOINVD */
    fake_vcpu_exit(v, exit_handle_cache_flush);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 5);
    assert_false(vm.g.ended);
    assert_int_equal(v->event_count, 0);
}

/* ---- VMX instructions, MONITOR/MWAIT ---- */

static void test_vmx_instruction_ud(void **state)
{
    (void)state;
    fake_vcpu_exit(v, exit_handle_vmx_instruction);
    assert_ud_not_advanced();
}

static void test_monitor_mwait_ud(void **state)
{
    (void)state;
    fake_vcpu_exit(v, exit_handle_monitor_mwait);
    assert_ud_not_advanced();
}

/* ---- entry failures ---- */

static void entry_failure(uint32_t basic, uint64_t qual)
{
    setup(NULL);
    fake_vmcs_set(VMCS_EXIT_REASON, VMX_EXIT_REASON_ENTRY_FAIL | basic);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, qual);
    fake_vcpu_exit(v, exit_handle_entry_failure);
}

static void test_entry_failure_verdicts(void **state)
{
    (void)state;
    static const struct {
        uint32_t basic;
        uint64_t qual;
        const char *verdict, *log;
    } cases[] = {
        {VMX_EXIT_ENTRY_FAIL_GUEST_STATE, 3,
         "killed(VM-entry failure: invalid guest state, qualification 3)",
         "vm basictest: VM entry failed: VM-entry failure: invalid guest state, qualification 3\n"},
        {VMX_EXIT_ENTRY_FAIL_MSR_LOAD, 2, "killed(VM-entry failure: MSR loading, qualification 2)",
         "vm basictest: VM entry failed: VM-entry failure: MSR loading, qualification 2\n"},
        {VMX_EXIT_ENTRY_FAIL_MACHINE_CHECK, 0,
         "killed(VM-entry failure: machine check, qualification 0)",
         "vm basictest: VM entry failed: VM-entry failure: machine check, qualification 0\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        entry_failure(cases[i].basic, cases[i].qual);
        assert_true(vm.g.ended);
        if (strcmp(vm.g.verdict, cases[i].verdict))
            fail_msg("case %zu: verdict \"%s\", want \"%s\"", i, vm.g.verdict, cases[i].verdict);
        assert_int_equal(strncmp(fake_log, cases[i].log, strlen(cases[i].log)), 0);
        assert_non_null(strstr(fake_log, "\nVMCS dump:\n"));
        /* the "VM-entry failure" prefix appears once in the verdict (docs/guest-abi.md §7) */
        assert_int_equal(count(vm.g.verdict, "VM-entry failure"), 1);
    }
}

/* ---- triple fault, exceptions, NMIs ---- */

static void test_triple_fault(void **state)
{
    (void)state;
    fake_vcpu_exit(v, exit_handle_triple_fault);
    assert_string_equal(vm.g.verdict, "triple-fault");
}

static void test_machine_check_exit(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INTR_INFO, INFO(INTR_TYPE_HW_EXCEPTION, EXC_MC));
    fake_vcpu_exit(v, exit_handle_exception_nmi);
    assert_string_equal(vm.g.verdict, "killed(machine check)");
}

static void test_unexpected_exception_exit(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INTR_INFO,
                  INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP) | INTR_INFO_ERROR_CODE_VALID);
    fake_vcpu_exit(v, exit_handle_exception_nmi);
    assert_string_equal(vm.g.verdict, "killed(unexpected exception 13)");
    assert_non_null(strstr(fake_log, "vm basictest: exit 0 (exception or NMI)"));
}

static void test_host_nmi_exit_continues(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INTR_INFO, INFO(INTR_TYPE_NMI, EXC_NMI));
    fake_vcpu_exit(v, exit_handle_exception_nmi);
    assert_false(vm.g.ended);
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_string_equal(fake_log, "vm basictest: host NMI during guest execution\n");
}

/*
 * BUG (vmx/exit/exit_basic.c, exit_handle_external_interrupt): the comment says the warning is
 * given "once per guest", but a function-static flag makes it once per hv run: the second
 * guest's external-interrupt exit is never reported. Expected: one warning per guest.
 * (This must stay the only test in this program that causes external-interrupt exits.)
 */
static void test_external_interrupt_warned_once_per_guest(void **state)
{
    (void)state;
    static struct vm other;
    unsigned eois = fake_hw.lapic_eois;
    fake_vmcs_set(VMCS_EXIT_INTR_INFO, INFO(INTR_TYPE_EXT_INTERRUPT, 0x20));
    fake_vcpu_exit(v, exit_handle_external_interrupt);
    fake_vcpu_exit(v, exit_handle_external_interrupt);
    assert_false(vm.g.ended);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    /* Acknowledged on exit: each one is EOIed in the local APIC, or no other would come. */
    assert_int_equal(fake_hw.lapic_eois, eois + 2);
    assert_int_equal(count(fake_log, "vm basictest: external interrupt exit (info 0x80000020) "
                                     "ignored\n"),
                     1);
    fake_vm_reset(&other, "second");
    fake_vmcs_set(VMCS_EXIT_INTR_INFO, INFO(INTR_TYPE_EXT_INTERRUPT, 0x20));
    fake_vcpu_exit(&other.vcpus[0], exit_handle_external_interrupt);
    assert_int_equal(count(fake_log, "vm second: external interrupt exit"), 1);
}

/*
 * hv's own kick IPI (kernel/smp.h) arrives as an external-interrupt exit acknowledged on exit.
 * Expected: EOI to the local APIC, no warning, the guest goes on at the same RIP.
 */
static void test_kick_ipi_is_eoied_silently(void **state)
{
    (void)state;
    size_t log_before = fake_log_len;
    unsigned eois = fake_hw.lapic_eois;
    fake_vmcs_set(VMCS_EXIT_INTR_INFO, INFO(INTR_TYPE_EXT_INTERRUPT, SMP_KICK_VECTOR));
    fake_vcpu_exit(v, exit_handle_external_interrupt);
    assert_int_equal(fake_hw.lapic_eois, eois + 1);
    assert_int_equal(fake_log_len, log_before);
    assert_false(vm.g.ended);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

/* ---- windows and informational exits ---- */

static void test_event_window_clears_both_windows_only(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_PROC_BASED_CTLS,
                  PROC_BASE | PROC_INT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);
    fake_vcpu_exit(v, exit_handle_event_window);
    assert_int_equal(fake_vmcs_get(VMCS_PROC_BASED_CTLS), PROC_BASE);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

static void test_init_sipi_preemption_timer(void **state)
{
    (void)state;
    fake_vcpu_exit(v, exit_handle_init);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, 0x9A);
    fake_vcpu_exit(v, exit_handle_sipi);
    fake_vcpu_exit(v, exit_handle_preemption_timer);
    assert_false(vm.g.ended);
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    /* real signals to hv's CPU, not the guest's virtual INIT/SIPI: logged, ignored */
    assert_non_null(strstr(fake_log, "vm basictest: stray INIT signal"));
    assert_non_null(strstr(fake_log, "vm basictest: stray SIPI (vector 0x9a)"));
    assert_false(v->wait_for_sipi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ept_violation_verdicts, setup),
        cmocka_unit_test_setup(test_ept_violation_log_without_gla, setup),
        cmocka_unit_test_setup(test_ept_violation_log_with_gla, setup),
        cmocka_unit_test_setup(test_ept_violation_first_verdict_stands, setup),
        cmocka_unit_test_setup(test_ept_misconfig, setup),
        cmocka_unit_test_setup(test_hlt_halts, setup),
        cmocka_unit_test_setup(test_hlt_with_queued_event_continues, setup),
        cmocka_unit_test_setup(test_hlt_irq_off_parks_a_vcpu_of_an_smp_guest, setup),
        cmocka_unit_test_setup(test_invd_wbinvd_advance, setup),
        cmocka_unit_test_setup(test_vmx_instruction_ud, setup),
        cmocka_unit_test_setup(test_monitor_mwait_ud, setup),
        cmocka_unit_test_setup(test_entry_failure_verdicts, setup),
        cmocka_unit_test_setup(test_triple_fault, setup),
        cmocka_unit_test_setup(test_machine_check_exit, setup),
        cmocka_unit_test_setup(test_unexpected_exception_exit, setup),
        cmocka_unit_test_setup(test_host_nmi_exit_continues, setup),
        cmocka_unit_test_setup(test_kick_ipi_is_eoied_silently, setup),
        cmocka_unit_test_setup(test_external_interrupt_warned_once_per_guest, setup),
        cmocka_unit_test_setup(test_event_window_clears_both_windows_only, setup),
        cmocka_unit_test_setup(test_init_sipi_preemption_timer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
