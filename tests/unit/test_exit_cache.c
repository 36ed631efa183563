/* The vCPU's VMCS cache (vmx/vcpu/vcpu.h): one exit, made as the run loop (vmx/vm/sched.c) makes
   it (the exit stub's reads, exit reason, dispatch, event delivery, write-back), reads each cached
   field with at most one VMREAD and writes each changed field with one VMWRITE, for the exits of
   `make bench` and a CR0 write; the controls stay cached across exits. Against the fake VMCS's
   per-field counters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/uart16550.h"
#include "kernel/lib/cpuid_leaves.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx_arch.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RIP0                0x401000ull
#define AR_CODE64           (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_L | SEG_AR_G)
#define AR_SS0              (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
#define PROC_BASE           0xB60065FAu
#define OWNED_CR4           CR4_VMXE
#define GUEST_CR0           (CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG)
#define GUEST_CR4           (CR4_PAE | CR4_OSFXSR | CR4_OSXSAVE)
#define HOST_XCR0           (XCR0_X87 | XCR0_SSE | XCR0_AVX)
#define PORT_UNUSED         0x80
#define IOQ_IN              (1u << 3)
#define IOQ_PORT(p)         ((uint64_t)(p) << 16)
#define CRQ_MOV_TO_CR0(gpr) ((uint64_t)(gpr) << 8)
#define UNKNOWN_HYPERCALL   0x7FFF

static struct vm vm;
static struct vcpu *v;

/* The fields every exit reads or may write through the cache. */
static const uint32_t cached[] = {
    VMCS_EXIT_REASON,
    VMCS_EXIT_QUALIFICATION,
    VMCS_EXIT_INSTRUCTION_LEN,
    VMCS_IDT_VECTORING_INFO,
    VMCS_IDT_VECTORING_ERROR_CODE,
    VMCS_GUEST_RIP,
    VMCS_GUEST_RSP,
    VMCS_GUEST_RFLAGS,
    VMCS_GUEST_INTERRUPTIBILITY,
    VMCS_GUEST_CS_AR,
    VMCS_GUEST_SS_AR,
    VMCS_GUEST_CR0,
    VMCS_GUEST_CR3,
    VMCS_GUEST_CR4,
    VMCS_GUEST_EFER,
    VMCS_PROC_BASED_CTLS,
    VMCS_CR0_GUEST_HOST_MASK,
    VMCS_CR4_GUEST_HOST_MASK,
    VMCS_CR0_READ_SHADOW,
    VMCS_CR4_READ_SHADOW,
};

/* A 64-bit guest at CPL 0 with XSAVE enabled, COM1 on its bus. */
static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "cachetest");
    assert_int_equal(vm_devices_init(&vm), 0);
    struct cpuid_regs features = {0, 0, CPUID_1_ECX_XSAVE, 0};
    struct cpuid_regs xsave = {(uint32_t)HOST_XCR0, 0, 0, 0};
    fake_hw_set_cpuid(CPUID_LEAF_FEATURES, 0, features);
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 0, xsave);
    fake_vm_cpu_model(&vm, 0); /* the CPU model from this fake host, as vm_create builds it */
    fake_hw_set_msr(MSR_IA32_PAT, 0x0007040600070406ull);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE64);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS0);
    fake_vmcs_set(VMCS_GUEST_EFER, EFER_LME | EFER_LMA);
    fake_vmcs_set(VMCS_ENTRY_CTLS, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_EFER);
    fake_vmcs_set(VMCS_GUEST_CR0, GUEST_CR0);
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, GUEST_CR0);
    fake_vmcs_set(VMCS_GUEST_CR4, GUEST_CR4 | CR4_VMXE);
    fake_vmcs_set(VMCS_CR4_GUEST_HOST_MASK, OWNED_CR4);
    fake_vmcs_set(VMCS_PROC_BASED_CTLS, PROC_BASE);
    fake_vmcs_set(VMCS_GUEST_PAT, 0x0007040600070406ull);
    v->guest_xcr0 = XCR0_X87;
    return 0;
}

/* One exit with this reason, qualification and instruction length, as the run loop makes it. */
static void one_exit(uint32_t reason, uint64_t qual, uint32_t len)
{
    fake_vmcs_set(VMCS_EXIT_REASON, reason);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, qual);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, len);
    fake_vmcs_reset_counts();
    assert_int_equal(vmx_enter(&v->regs, 1), 0); /* the fake's exit stub reads its fields */
    vcpu_exit_begin(v);
    exit_dispatch(v, vcpu_exit_reason(v));
    vcpu_deliver_events(v);
    vcpu_write_back(v);
}

static void assert_each_cached_field_read_at_most_once(void)
{
    for (size_t i = 0; i < sizeof(cached) / sizeof(cached[0]); i++)
        if (fake_vmcs_reads(cached[i]) > 1 || fake_vmcs_writes(cached[i]) > 1)
            fail_msg("field 0x%x: %u VMREADs, %u VMWRITEs in one exit", cached[i],
                     fake_vmcs_reads(cached[i]), fake_vmcs_writes(cached[i]));
}

/* The instruction completed: RIP advanced (one VMWRITE), nothing injected, guest running. */
static void assert_completed(uint32_t len)
{
    assert_each_cached_field_read_at_most_once();
    assert_false(vm.g.ended);
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + len);
    assert_int_equal(fake_vmcs_writes(VMCS_GUEST_RIP), 1);
    assert_int_equal(fake_vmcs_reads(VMCS_EXIT_REASON), 1);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
}

static void test_cpuid(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = 0;
    one_exit(VMX_EXIT_CPUID, 0, 2);
    assert_completed(2);
    v->regs.gpr[REG_RAX] = CPUID_LEAF_FEATURES; /* reads the visible CR4 */
    one_exit(VMX_EXIT_CPUID, 0, 2);
    assert_completed(2);
    assert_true(v->regs.gpr[REG_RCX] & CPUID_1_ECX_OSXSAVE);
}

static void test_vmcall(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = UNKNOWN_HYPERCALL;
    one_exit(VMX_EXIT_VMCALL, 0, 3);
    assert_completed(3);
    assert_int_equal(fake_vmcs_reads(VMCS_GUEST_SS_AR), 1); /* CPL checked */
}

static void test_out_to_com1(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = 0x5A;
    one_exit(VMX_EXIT_IO_INSTRUCTION, IOQ_PORT(UART_COM1_BASE + UART_SCR), 1);
    assert_completed(1);
}

static void test_in_unclaimed(void **state)
{
    (void)state;
    one_exit(VMX_EXIT_IO_INSTRUCTION, IOQ_PORT(PORT_UNUSED) | IOQ_IN, 2);
    assert_completed(2);
    assert_int_equal(v->regs.gpr[REG_RAX] & 0xFF, 0xFF);
}

static void test_rdmsr(void **state)
{
    (void)state;
    v->regs.gpr[REG_RCX] = MSR_IA32_PAT;
    one_exit(VMX_EXIT_RDMSR, 0, 2);
    assert_completed(2);
    assert_int_equal(v->regs.gpr[REG_RAX], 0x00070406ull);
}

static void test_xsetbv(void **state)
{
    (void)state;
    v->regs.gpr[REG_RCX] = 0;
    v->regs.gpr[REG_RAX] = XCR0_X87 | XCR0_SSE;
    v->regs.gpr[REG_RDX] = 0;
    one_exit(VMX_EXIT_XSETBV, 0, 3);
    assert_completed(3);
    assert_int_equal(v->guest_xcr0, XCR0_X87 | XCR0_SSE);
}

/* MOV CR0, RAX setting TS: the state is read once although every check looks at it, and the
   new CR0 is written once, with its read shadow. */
static void test_cr0_write(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = GUEST_CR0 | CR0_TS;
    one_exit(VMX_EXIT_CR_ACCESS, CRQ_MOV_TO_CR0(REG_RAX), 3);
    assert_completed(3);
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), GUEST_CR0 | CR0_TS);
    assert_int_equal(fake_vmcs_writes(VMCS_CR0_READ_SHADOW), 1);
    assert_int_equal(fake_vmcs_writes(VMCS_GUEST_CR0), 1);
}

/* A handler that changes the mode changes it in the cache too: MOV CR0 turning paging on with
   EFER.LME sets EFER.LMA, and the RIP advance after it already sees IA-32e mode (with CS.L:
   64-bit mode, no 32-bit wrap). A stale EFER would wrap RIP to 0x1. */
static void test_mode_change_seen_by_rip_advance(void **state)
{
    (void)state;
    uint64_t cr0 = CR0_PE | CR0_ET | CR0_NE;
    fake_vmcs_set(VMCS_GUEST_CR0, cr0);
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, cr0);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE);
    fake_vmcs_set(VMCS_GUEST_EFER, EFER_LME);
    fake_vmcs_set(VMCS_ENTRY_CTLS, ENTRY_LOAD_EFER);
    fake_vmcs_set(VMCS_GUEST_RIP, 0xFFFFFFFEull);
    v->regs.gpr[REG_RAX] = cr0 | CR0_PG;
    one_exit(VMX_EXIT_CR_ACCESS, CRQ_MOV_TO_CR0(REG_RAX), 3);
    assert_each_cached_field_read_at_most_once();
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), EFER_LME | EFER_LMA);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_CTLS), ENTRY_LOAD_EFER | ENTRY_IA32E_MODE_GUEST);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0x100000001ull);
    assert_int_equal(fake_vmcs_reads(VMCS_GUEST_EFER), 1);
}

/* The controls and read shadows are hv's own: after the first exit they cost no VMREAD. */
static void test_controls_stay_cached_across_exits(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = CPUID_LEAF_FEATURES;
    one_exit(VMX_EXIT_CPUID, 0, 2);
    assert_int_equal(fake_vmcs_reads(VMCS_PROC_BASED_CTLS), 1);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->regs.gpr[REG_RAX] = CPUID_LEAF_FEATURES;
    one_exit(VMX_EXIT_CPUID, 0, 2);
    assert_completed(2);
    assert_int_equal(fake_vmcs_reads(VMCS_PROC_BASED_CTLS), 0);
    assert_int_equal(fake_vmcs_reads(VMCS_CR4_GUEST_HOST_MASK), 0);
    assert_int_equal(fake_vmcs_reads(VMCS_CR4_READ_SHADOW), 0);
    assert_int_equal(fake_vmcs_reads(VMCS_GUEST_CR4), 1); /* guest state: new each exit */
}

/* Nothing changed, nothing written: an exit that only reads writes no cached field back. */
static void test_unchanged_fields_not_written(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INTR_INFO, 0);
    one_exit(VMX_EXIT_PREEMPTION_TIMER, 0, 0);
    for (size_t i = 0; i < sizeof(cached) / sizeof(cached[0]); i++)
        assert_int_equal(fake_vmcs_writes(cached[i]), 0);
}

/* Before the first exit there is no exit information: the first entry reads none of it. */
static void test_new_vcpu_has_no_exit_information(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, INTR_INFO_VALID | EXC_GP);
    vcpu_cache_init(v);
    fake_vmcs_reset_counts();
    vcpu_deliver_events(v);
    vcpu_write_back(v);
    assert_int_equal(fake_vmcs_reads(VMCS_IDT_VECTORING_INFO), 0);
    assert_false(fake_vmcs_written(VMCS_ENTRY_INTR_INFO));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cpuid, setup),
        cmocka_unit_test_setup(test_vmcall, setup),
        cmocka_unit_test_setup(test_out_to_com1, setup),
        cmocka_unit_test_setup(test_in_unclaimed, setup),
        cmocka_unit_test_setup(test_rdmsr, setup),
        cmocka_unit_test_setup(test_xsetbv, setup),
        cmocka_unit_test_setup(test_cr0_write, setup),
        cmocka_unit_test_setup(test_mode_change_seen_by_rip_advance, setup),
        cmocka_unit_test_setup(test_controls_stay_cached_across_exits, setup),
        cmocka_unit_test_setup(test_unchanged_fields_not_written, setup),
        cmocka_unit_test_setup(test_new_vcpu_has_no_exit_information, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
