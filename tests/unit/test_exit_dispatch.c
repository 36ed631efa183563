/* Exit dispatch tests (vmx/exit/exit.c): per-reason counting, the handler table, unhandled reasons,
   the decoded-exit log and exit reason names (SDM vol. 3 Appendix C), against the fake VMCS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx_arch.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RIP0      0x3000ull
#define AR_CODE32 (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)
#define AR_SS0    (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
#define UNKNOWN   "unknown exit reason"

static struct vm vm;
static struct vcpu *v;

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "disptest");
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE32);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS0);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 2);
    return 0;
}

static uint64_t counted(void)
{
    uint64_t sum = 0;
    for (unsigned r = 0; r < VMX_EXIT_COUNT; r++)
        sum += v->exit_counts[r];
    return sum;
}

/* ---- names ---- */

static void test_every_reason_named(void **state)
{
    (void)state;
    assert_int_equal(VMX_EXIT_COUNT, 78);
    for (uint32_t r = 0; r < VMX_EXIT_COUNT; r++) {
        const char *name = exit_reason_name(r);
        if (!name || !name[0] || !strcmp(name, UNKNOWN))
            fail_msg("exit reason %u has no name", r);
        for (uint32_t s = 0; s < r; s++)
            if (!strcmp(name, exit_reason_name(s)))
                fail_msg("exit reasons %u and %u are both \"%s\"", s, r, name);
    }
    assert_string_equal(exit_reason_name(0), "exception or NMI");
    assert_string_equal(exit_reason_name(10), "CPUID");
    assert_string_equal(exit_reason_name(15), "RDPMC");
    assert_string_equal(exit_reason_name(30), "I/O instruction");
    assert_string_equal(exit_reason_name(33), "VM-entry failure: invalid guest state");
    assert_string_equal(exit_reason_name(48), "EPT violation");
    assert_string_equal(exit_reason_name(52), "VMX-preemption timer expired");
    assert_string_equal(exit_reason_name(77), "TDCALL");
    assert_string_equal(exit_reason_name(78), UNKNOWN);
    assert_string_equal(exit_reason_name(0xFFFF), UNKNOWN);
    assert_string_equal(exit_reason_name(0xFFFFFFFF), UNKNOWN);
}

/* ---- counting and dispatch ---- */

static void test_counts_per_reason_and_calls_handler(void **state)
{
    (void)state;
    fake_hw_set_cpuid(0, 0, (struct cpuid_regs){0xD, 0x756E6547, 0x6C65746E, 0x49656E69});
    fake_vm_cpu_model(&vm, 0);
    for (int i = 0; i < 3; i++) {
        v->regs.gpr[REG_RAX] = 0;
        v->regs.gpr[REG_RCX] = 0;
        fake_vcpu_dispatch(v, VMX_EXIT_CPUID);
    }
    assert_int_equal(v->regs.gpr[REG_RAX], 0xD);
    assert_int_equal(v->regs.gpr[REG_RBX], 0x756E6547);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 3 * 2);
    fake_vcpu_dispatch(v, VMX_EXIT_WBINVD);
    fake_vcpu_dispatch(v, VMX_EXIT_PREEMPTION_TIMER);
    assert_int_equal(v->exits, 5);
    assert_int_equal(v->exit_counts[VMX_EXIT_CPUID], 3);
    assert_int_equal(v->exit_counts[VMX_EXIT_WBINVD], 1);
    assert_int_equal(v->exit_counts[VMX_EXIT_PREEMPTION_TIMER], 1);
    assert_int_equal(counted(), 5);
    assert_false(vm.g.ended);
    assert_non_null(strstr(fake_log, "vm disptest: exit CPUID at RIP 0x3000\n"));
}

static void test_reason_flags_masked(void **state)
{
    (void)state;
    /* bit 27 (enclave mode) and bit 28 (pending MTF) are not part of the basic reason */
    fake_vcpu_dispatch(v, (1u << 27) | (1u << 28) | VMX_EXIT_HLT);
    assert_int_equal(v->exit_counts[VMX_EXIT_HLT], 1);
    assert_string_equal(vm.g.verdict, "halted");
}

static void test_unhandled_task_switch(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, 0x1234);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, 0x56);
    fake_vmcs_set(VMCS_GUEST_LINEAR_ADDRESS, 0xDEAD);
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, 0xBEEF000);
    fake_vmcs_set(VMCS_EXIT_INTR_INFO, 0x80000B0E);
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, 0x80000030);
    fake_vcpu_dispatch(v, VMX_EXIT_TASK_SWITCH);
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "killed(unhandled exit task switch)");
    assert_int_equal(v->exits, 1);
    assert_int_equal(v->exit_counts[VMX_EXIT_TASK_SWITCH], 1);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_non_null(strstr(fake_log, "vm disptest: exit 9 (task switch) qualification=0x1234 "
                                     "RIP=0x3000 len=2 info=0x56\n"));
    assert_non_null(strstr(fake_log, "vm disptest:   guest-linear=0xdead guest-physical=0xbeef000 "
                                     "intr-info=0x80000b0e idt-vectoring=0x80000030\n"));
}

static void test_other_unhandled_reasons(void **state)
{
    (void)state;
    static const uint32_t reasons[] = {
        VMX_EXIT_TASK_SWITCH, VMX_EXIT_INVLPG,
        VMX_EXIT_RDTSC,       VMX_EXIT_RSM,
        VMX_EXIT_DR_ACCESS,   VMX_EXIT_PAUSE,
        VMX_EXIT_RDTSCP,      VMX_EXIT_RDRAND,
        VMX_EXIT_INVPCID,     VMX_EXIT_GDTR_IDTR_ACCESS,
        VMX_EXIT_TDCALL,      VMX_EXIT_RESERVED_35,
        VMX_EXIT_XSAVES,
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        setup(NULL);
        fake_vcpu_dispatch(v, reasons[i]);
        char want[GUEST_VERDICT_MAX];
        snprintf(want, sizeof(want), "killed(unhandled exit %s)", exit_reason_name(reasons[i]));
        if (!vm.g.ended || strcmp(vm.g.verdict, want))
            fail_msg("reason %u: verdict \"%s\", want \"%s\"", reasons[i], vm.g.verdict, want);
        assert_int_equal(v->exit_counts[reasons[i]], 1);
    }
}

static void test_reason_beyond_table(void **state)
{
    (void)state;
    fake_vcpu_dispatch(v, VMX_EXIT_COUNT);
    assert_string_equal(vm.g.verdict, "killed(unhandled exit " UNKNOWN ")");
    assert_int_equal(v->exits, 1);
    assert_int_equal(counted(), 0); /* no per-reason slot for it */
    assert_non_null(strstr(fake_log, "vm disptest: exit 78 (" UNKNOWN ")"));
    setup(NULL);
    fake_vcpu_dispatch(v, 0xFFFF);
    assert_string_equal(vm.g.verdict, "killed(unhandled exit " UNKNOWN ")");
    assert_int_equal(counted(), 0);
}

static void test_entry_failure_reason(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_REASON, VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_ENTRY_FAIL_GUEST_STATE);
    fake_vcpu_dispatch(v, VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_ENTRY_FAIL_GUEST_STATE);
    assert_int_equal(v->exit_counts[VMX_EXIT_ENTRY_FAIL_GUEST_STATE], 1);
    assert_true(vm.g.ended);
    assert_non_null(strstr(vm.g.verdict, "invalid guest state"));
}

static void test_log_decoded_marks_entry_failure(void **state)
{
    (void)state;
    exit_log_decoded(v, VMX_EXIT_REASON_ENTRY_FAIL | VMX_EXIT_ENTRY_FAIL_MSR_LOAD);
    assert_non_null(strstr(fake_log, "vm disptest: exit 34 (VM-entry failure: MSR loading) "
                                     "[VM-entry failure] qualification=0x0 RIP=0x3000"));
    assert_false(vm.g.ended);
}

/* The handler table sends each kind of exit to the right place. */
static void test_vmx_instructions_dispatch_to_ud(void **state)
{
    (void)state;
    static const uint32_t reasons[] = {
        VMX_EXIT_VMCLEAR,  VMX_EXIT_VMLAUNCH, VMX_EXIT_VMPTRLD, VMX_EXIT_VMPTRST, VMX_EXIT_VMREAD,
        VMX_EXIT_VMRESUME, VMX_EXIT_VMWRITE,  VMX_EXIT_VMXOFF,  VMX_EXIT_VMXON,   VMX_EXIT_INVEPT,
        VMX_EXIT_INVVPID,  VMX_EXIT_VMFUNC,   VMX_EXIT_GETSEC,  VMX_EXIT_MONITOR, VMX_EXIT_MWAIT,
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        setup(NULL);
        fake_vcpu_dispatch(v, reasons[i]);
        if (vm.g.ended || v->event_count != 1 || v->events[0].vector != EXC_UD)
            fail_msg("reason %u (%s): no #UD", reasons[i], exit_reason_name(reasons[i]));
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    }
}

static void test_window_exits_dispatch(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_PROC_BASED_CTLS, PROC_HLT_EXITING | PROC_INT_WINDOW_EXITING);
    fake_vcpu_dispatch(v, VMX_EXIT_INTERRUPT_WINDOW);
    assert_int_equal(fake_vmcs_get(VMCS_PROC_BASED_CTLS), PROC_HLT_EXITING);
    fake_vmcs_set(VMCS_PROC_BASED_CTLS, PROC_HLT_EXITING | PROC_NMI_WINDOW_EXITING);
    fake_vcpu_dispatch(v, VMX_EXIT_NMI_WINDOW);
    assert_int_equal(fake_vmcs_get(VMCS_PROC_BASED_CTLS), PROC_HLT_EXITING);
    assert_false(vm.g.ended);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

static void test_fatal_exits_dispatch(void **state)
{
    (void)state;
    fake_vcpu_dispatch(v, VMX_EXIT_TRIPLE_FAULT);
    assert_string_equal(vm.g.verdict, "triple-fault");
    setup(NULL);
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, 0x1000000);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, 0x2);
    fake_vcpu_dispatch(v, VMX_EXIT_EPT_VIOLATION);
    assert_string_equal(vm.g.verdict, "killed(EPT violation at GPA 0x1000000 W)");
}

static void test_harmless_exits_dispatch(void **state)
{
    (void)state;
    static const uint32_t reasons[] = {VMX_EXIT_INIT, VMX_EXIT_SIPI, VMX_EXIT_PREEMPTION_TIMER};
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        fake_vcpu_dispatch(v, reasons[i]);
    assert_false(vm.g.ended);
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_int_equal(v->exits, 3);
}

/* ---- the report with the per-exit counts (vmx/vm/vm_verdict.c) ---- */

static void test_report_lists_counts(void **state)
{
    (void)state;
    fake_hw_set_cpuid(0, 0, (struct cpuid_regs){0xD, 0, 0, 0});
    fake_vm_cpu_model(&vm, 0);
    fake_vcpu_dispatch(v, VMX_EXIT_CPUID);
    fake_vcpu_dispatch(v, VMX_EXIT_CPUID);
    fake_vcpu_dispatch(v, VMX_EXIT_TASK_SWITCH);
    fake_log_reset();
    vm_report(&vm);
    char want[256];
    snprintf(want, sizeof(want),
             "hv: guest disptest ended: killed(unhandled exit task switch) exits=3\n"
             "  disptest: exits %-28s 1\n  disptest: exits %-28s 2\n",
             "task switch", "CPUID");
    assert_string_equal(fake_log, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_every_reason_named, setup),
        cmocka_unit_test_setup(test_counts_per_reason_and_calls_handler, setup),
        cmocka_unit_test_setup(test_reason_flags_masked, setup),
        cmocka_unit_test_setup(test_unhandled_task_switch, setup),
        cmocka_unit_test_setup(test_other_unhandled_reasons, setup),
        cmocka_unit_test_setup(test_reason_beyond_table, setup),
        cmocka_unit_test_setup(test_entry_failure_reason, setup),
        cmocka_unit_test_setup(test_log_decoded_marks_entry_failure, setup),
        cmocka_unit_test_setup(test_vmx_instructions_dispatch_to_ud, setup),
        cmocka_unit_test_setup(test_window_exits_dispatch, setup),
        cmocka_unit_test_setup(test_fatal_exits_dispatch, setup),
        cmocka_unit_test_setup(test_harmless_exits_dispatch, setup),
        cmocka_unit_test_setup(test_report_lists_counts, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
