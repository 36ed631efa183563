/* The per-VM CPU model (vmx/exit/cpu_model.c): what it captures from a fake host (ranges, indexed
   leaves, limits, out-of-range leaves, XSAVE layout, MSR policy, TSC frequency), and that no
   exit handler runs a host CPUID once it is built: the fake hw_cpuid calls are counted during
   CPUID for every leaf and subleaf a guest can ask for, XSETBV, RDMSR/WRMSR of every MSR the
   handler table knows (and of all their neighbours), and every exit reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/abi/hv_abi.h"
#include "kernel/lib/cpuid_leaves.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/guest_cpu.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RIP0          0x9000ull
#define LEN           3
#define TSC_KHZ       3000000ull
#define AR_CODE64     (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_L)
#define AR_SS0        (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
#define HOST_MAX      0x1Fu
#define HOST_EXT_MAX  0x80000008u
#define OUT_OF_RANGE  0x0BADC0DEu /* what the fake host answers past hv's hypervisor range */
#define LEAF_DCP      0x04        /* deterministic cache parameters: indexed */
#define LEAF_THERMAL  0x06        /* not indexed */
#define ALL_ONES      0xFFFFFFFFu
#define MSR_SCAN_SIZE 0x2000 /* from 0 and from 0xC0000000: every MSR of the handler table */
#define EXT_MSR_BASE  0xC0000000u

static struct vm vm;
static struct vcpu *v;

static struct cpuid_regs regs(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return (struct cpuid_regs){a, b, c, d};
}

static void assert_regs(struct cpuid_regs r, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    if (r.eax != a || r.ebx != b || r.ecx != c || r.edx != d)
        fail_msg("got %08x %08x %08x %08x, want %08x %08x %08x %08x", r.eax, r.ebx, r.ecx, r.edx, a,
                 b, c, d);
}

/* A Skylake-SP-like host: leaves to 0x1F, four cache levels, XSAVE with AVX-512, SPEC_CTRL. */
static void host_skylake(void)
{
    fake_hw_set_cpuid(0, 0, regs(HOST_MAX, 0x756E6547, 0x6C65746E, 0x49656E69));
    fake_hw_set_cpuid(1, 0, regs(0x50654, 0x12345678, ALL_ONES, ALL_ONES));
    for (uint32_t s = 0; s < 4; s++)
        fake_hw_set_cpuid(LEAF_DCP, s, regs(0x121 + s, 0x1C0003F, 0x3F + s, 0));
    for (uint32_t s = 0; s < CPU_MODEL_SUBLEAVES; s++) /* ECX ignored (the fake needs each) */
        fake_hw_set_cpuid(LEAF_THERMAL, s, regs(0x77, 2, 9, 0));
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0,
                      regs(0, ALL_ONES, 0, CPUID_7_EDX_IBRS | CPUID_7_EDX_SSBD));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 0, regs(0xFF, 1088, 2696, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 1, regs(0xF, 0x988, 0x100, 0x1));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 2, regs(256, 576, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 5, regs(64, 1088, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 6, regs(512, 1152, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_XSAVE, 7, regs(1024, 1664, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_EXT_BASE, 0, regs(HOST_EXT_MAX, 0, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_EXT_PROC_FEATURES, 0, regs(0, 0, 0x121, 0x2C100800));
    fake_hw_set_cpuid(HV_ABI_CPUID_LAST + 1, 0, regs(OUT_OF_RANGE, 0, 0, 0));
}

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "modeltest");
    vmx_config.ctl[VMX_CTL_PROC2] = PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID;
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE64);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS0);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_OSXSAVE);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, LEN);
    host_skylake();
    fake_vm_cpu_model(&vm, TSC_KHZ);
    return 0;
}

static struct cpuid_regs model(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    cpu_model_cpuid(&vm.cpu_model, leaf, subleaf, &r);
    return r;
}

/* ---- building ---- */

static void test_ranges_and_limits_from_host(void **state)
{
    (void)state;
    assert_int_equal(vm.cpu_model.basic_max, HOST_MAX);
    assert_int_equal(vm.cpu_model.ext_max, HOST_EXT_MAX);
    assert_int_equal(model(0, 0).eax, HOST_MAX);
    assert_int_equal(model(CPUID_LEAF_EXT_BASE, 0).eax, HOST_EXT_MAX);
    assert_int_equal(vm.cpu_model.tsc_khz, TSC_KHZ);
    assert_regs(model(HV_ABI_CPUID_TIMING, 0), (uint32_t)TSC_KHZ, 0, 0, 0);
    assert_true(vm.cpu_model.answers <= CPU_MODEL_ANSWERS);
}

static void test_indexed_and_flat_leaves(void **state)
{
    (void)state;
    /* Leaf 4 answers per subleaf; past the host's last one, zeros (an invalid subleaf). */
    for (uint32_t s = 0; s < 4; s++)
        assert_regs(model(LEAF_DCP, s), 0x121 + s, 0x1C0003F, 0x3F + s, 0);
    assert_regs(model(LEAF_DCP, 4), 0, 0, 0, 0);
    assert_regs(model(LEAF_DCP, 200), 0, 0, 0, 0);
    assert_true(vm.cpu_model.basic[LEAF_DCP].indexed);
    /* Leaf 6 ignores ECX, as on the host. */
    assert_false(vm.cpu_model.basic[LEAF_THERMAL].indexed);
    assert_regs(model(LEAF_THERMAL, 0), 0x77, 2, 9, 0);
    assert_regs(model(LEAF_THERMAL, 5), 0x77, 2, 9, 0);
    assert_regs(model(LEAF_THERMAL, ALL_ONES), 0x77, 2, 9, 0);
    /* Leaf 7 is indexed by policy: subleaf 1 reads zeros even where the host has data. */
    assert_true(vm.cpu_model.basic[CPUID_LEAF_EXT_FEATURES].indexed);
}

static void test_out_of_range_leaves(void **state)
{
    (void)state;
    assert_regs(model(HOST_MAX + 1, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_regs(model(0x3FFFFFFF, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_regs(model(HV_ABI_CPUID_LAST + 1, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_regs(model(HOST_EXT_MAX + 1, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_regs(model(0xC0000000, 0), OUT_OF_RANGE, 0, 0, 0);
    /* Per subleaf, as the host answers them (on an Intel CPU the highest basic leaf's data). */
    assert_regs(model(HOST_MAX + 1, 1), 0, 0, 0, 0);
    fake_hw_set_cpuid(HV_ABI_CPUID_LAST + 1, 1, regs(1, 0, 0, 0));
    fake_hw_set_cpuid(HV_ABI_CPUID_LAST + 1, 2, regs(256, 576, 0, 0));
    fake_vm_cpu_model(&vm, TSC_KHZ);
    assert_regs(model(HOST_MAX + 1, 1), 1, 0, 0, 0);
    assert_regs(model(HOST_EXT_MAX + 1, 2), 256, 576, 0, 0);
    assert_regs(model(HOST_MAX + 1, 3), 0, 0, 0, 0);
    /* A host without extended leaves (EAX below 0x80000000): the whole range is out of range. */
    fake_hw_set_cpuid(CPUID_LEAF_EXT_BASE, 0, regs(0, 0, 0, 0));
    fake_vm_cpu_model(&vm, TSC_KHZ);
    assert_int_equal(vm.cpu_model.ext_max, 0);
    assert_regs(model(CPUID_LEAF_EXT_BASE, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_regs(model(CPUID_LEAF_EXT_PROC_FEATURES, 0), OUT_OF_RANGE, 0, 0, 0);
}

static void test_host_max_above_table(void **state)
{
    (void)state;
    fake_hw_set_cpuid(0, 0, regs(0x7F, 0x756E6547, 0x6C65746E, 0x49656E69));
    fake_hw_set_cpuid(CPUID_LEAF_EXT_BASE, 0, regs(0x800000FF, 0, 0, 0));
    fake_vm_cpu_model(&vm, TSC_KHZ);
    /* The guest is told the highest leaf hv captured, and anything above is out of range. */
    assert_int_equal(vm.cpu_model.basic_max, CPU_MODEL_BASIC_LEAVES - 1);
    assert_int_equal(model(0, 0).eax, CPU_MODEL_BASIC_LEAVES - 1);
    assert_int_equal(model(0, 0).ebx, 0x756E6547);
    assert_regs(model(CPU_MODEL_BASIC_LEAVES, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_int_equal(vm.cpu_model.ext_max, CPUID_LEAF_EXT_BASE + CPU_MODEL_EXT_LEAVES - 1);
    assert_int_equal(model(CPUID_LEAF_EXT_BASE, 0).eax,
                     CPUID_LEAF_EXT_BASE + CPU_MODEL_EXT_LEAVES - 1);
    assert_non_null(strstr(fake_log, "cpu model: host CPUID leaves 0x28-0x7f not offered"));
}

/* A host with every leaf up to the table's last answering three different subleaves: the
   answers fill up, and the guest's highest leaf is the last that fitted. */
static void test_table_full(void **state)
{
    (void)state;
    const uint32_t host_max = CPU_MODEL_BASIC_LEAVES - 1;
    fake_hw_reset();
    fake_hw_set_cpuid(0, 0, regs(host_max, 0x756E6547, 0x6C65746E, 0x49656E69));
    fake_hw_set_cpuid(HV_ABI_CPUID_LAST + 1, 0, regs(OUT_OF_RANGE, 0, 0, 0));
    fake_hw_set_cpuid(CPUID_LEAF_EXT_BASE, 0, regs(HOST_EXT_MAX, 0, 0, 0));
    for (uint32_t leaf = 1; leaf <= host_max; leaf++)
        for (uint32_t s = 0; s < 3; s++)
            fake_hw_set_cpuid(leaf, s, regs(leaf, s + 1, 0, 0));
    fake_vm_cpu_model(&vm, TSC_KHZ);
    uint32_t max = vm.cpu_model.basic_max;
    assert_true(max > CPUID_LEAF_TOPOLOGY_V2 && max < host_max);
    assert_true(vm.cpu_model.answers <= CPU_MODEL_ANSWERS);
    assert_int_equal(model(0, 0).eax, max);
    assert_regs(model(max, 2), max, 3, 0, 0);
    assert_regs(model(max + 1, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_int_equal(vm.cpu_model.ext_max, 0); /* nothing left for the extended leaves */
    assert_regs(model(HOST_EXT_MAX, 0), OUT_OF_RANGE, 0, 0, 0);
    assert_non_null(strstr(fake_log, "not offered to guests"));
}

static void test_xsave_layout(void **state)
{
    (void)state;
    const struct cpu_model *m = &vm.cpu_model;
    assert_int_equal(m->xcr0_mask, XCR0_GUEST_POLICY);
    assert_int_equal(cpu_model_xsave_size(m, XCR0_X87), 576);
    assert_int_equal(cpu_model_xsave_size(m, XCR0_X87 | XCR0_SSE), 576);
    assert_int_equal(cpu_model_xsave_size(m, XCR0_X87 | XCR0_SSE | XCR0_AVX), 832);
    assert_int_equal(cpu_model_xsave_size(m, XCR0_GUEST_POLICY), 2688);
    /* subleaf 0: EDX:EAX the mask, ECX the size for all of it (EBX is the vCPU's) */
    struct cpuid_regs r = model(CPUID_LEAF_XSAVE, 0);
    assert_int_equal(r.eax, XCR0_GUEST_POLICY);
    assert_int_equal(r.ecx, 2688);
    assert_int_equal(r.edx, 0);
}

static void test_msr_policy(void **state)
{
    (void)state;
    assert_true(vm.cpu_model.msr.spec_ctrl);
    assert_true(vm.cpu_model.msr.tsc_adjust);
    static const uint32_t spec_bits[] = {CPUID_7_EDX_IBRS, CPUID_7_EDX_STIBP, CPUID_7_EDX_SSBD};
    for (unsigned i = 0; i < 3; i++) {
        fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0, regs(0, 0, 0, spec_bits[i]));
        fake_vm_cpu_model(&vm, TSC_KHZ);
        assert_true(vm.cpu_model.msr.spec_ctrl);
        assert_false(vm.cpu_model.msr.tsc_adjust);
    }
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0, regs(0, CPUID_7_EBX_TSC_ADJUST, 0, 0));
    fake_vm_cpu_model(&vm, TSC_KHZ);
    assert_false(vm.cpu_model.msr.spec_ctrl);
    assert_true(vm.cpu_model.msr.tsc_adjust);
}

static void test_msr_defaults_at_creation(void **state)
{
    (void)state;
    /* fake_vm_reset does what vm_create does: the MTRR default type is set before any exit. */
    assert_int_equal(v->msr.mtrr_def_type, 0xC06);
}

/* ---- no host CPUID on any exit path ---- */

static void cpuid_exit(uint32_t leaf, uint32_t subleaf)
{
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->regs.gpr[REG_RAX] = leaf;
    v->regs.gpr[REG_RCX] = subleaf;
    fake_vcpu_exit(v, exit_handle_cpuid);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + LEN);
}

static void test_no_host_cpuid_in_cpuid_exits(void **state)
{
    (void)state;
    fake_hw.cpuid_calls = 0;
    for (uint32_t xcr0 = 0; xcr0 < 3; xcr0++) {
        static const uint64_t values[] = {XCR0_X87, XCR0_X87 | XCR0_SSE | XCR0_AVX,
                                          XCR0_GUEST_POLICY};
        v->guest_xcr0 = values[xcr0];
        for (uint32_t leaf = 0; leaf < CPU_MODEL_BASIC_LEAVES + 8; leaf++)
            for (uint32_t s = 0; s < CPU_MODEL_XSAVE_PARTS + 8; s++)
                cpuid_exit(leaf, s);
        for (uint32_t leaf = CPUID_LEAF_EXT_BASE; leaf < CPUID_LEAF_EXT_BASE + 0x20; leaf++)
            for (uint32_t s = 0; s < CPU_MODEL_SUBLEAVES + 2; s++)
                cpuid_exit(leaf, s);
        for (uint32_t leaf = HV_ABI_CPUID_BASE; leaf <= HV_ABI_CPUID_LAST + 2; leaf++)
            cpuid_exit(leaf, 0);
        cpuid_exit(0x12345678, 0);
        cpuid_exit(ALL_ONES, ALL_ONES);
    }
    assert_int_equal(fake_hw.cpuid_calls, 0);
    assert_false(vm.g.ended);
}

static void xsetbv(uint64_t value)
{
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = 0;
    v->regs.gpr[REG_RAX] = (uint32_t)value;
    v->regs.gpr[REG_RDX] = (uint32_t)(value >> 32);
    fake_vcpu_exit(v, exit_handle_xsetbv);
}

static void test_no_host_cpuid_in_xsetbv(void **state)
{
    (void)state;
    fake_hw.cpuid_calls = 0;
    xsetbv(XCR0_X87 | XCR0_SSE | XCR0_AVX);
    assert_int_equal(v->event_count, 0);
    assert_int_equal(v->guest_xcr0, XCR0_X87 | XCR0_SSE | XCR0_AVX);
    xsetbv(XCR0_GUEST_POLICY);
    assert_int_equal(v->event_count, 0);
    xsetbv(XCR0_X87 | XCR0_BNDREGS); /* MPX: not in the policy: #GP */
    assert_int_equal(v->event_count, 1);
    xsetbv(1ull << 62);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(fake_hw.cpuid_calls, 0);
}

static void msr_exits(uint32_t msr)
{
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = msr;
    fake_vcpu_exit(v, exit_handle_rdmsr);
    uint64_t value = (v->regs.gpr[REG_RDX] << 32) | (uint32_t)v->regs.gpr[REG_RAX];
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = msr;
    v->regs.gpr[REG_RAX] = (uint32_t)value;
    v->regs.gpr[REG_RDX] = value >> 32;
    fake_vcpu_exit(v, exit_handle_wrmsr); /* what RDMSR gave back (or zero), accepted or refused */
}

static void test_no_host_cpuid_in_msr_exits(void **state)
{
    (void)state;
    fake_hw.cpuid_calls = 0;
    for (uint32_t msr = 0; msr < MSR_SCAN_SIZE; msr++) {
        msr_exits(msr);
        msr_exits(EXT_MSR_BASE + msr);
    }
    assert_int_equal(fake_hw.cpuid_calls, 0);
    /* The optional MSRs exist here; on a host without them they #GP, still without CPUID. */
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0, regs(0, 0, 0, 0));
    fake_vm_cpu_model(&vm, TSC_KHZ);
    fake_hw.cpuid_calls = 0;
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = MSR_IA32_SPEC_CTRL;
    fake_vcpu_exit(v, exit_handle_rdmsr);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_GP);
    assert_int_equal(fake_hw.cpuid_calls, 0);
}

/* One exit of `reason` on a fresh VM; returns the host CPUIDs it ran. Whatever the handler does
   (emulate, inject, end the VM, panic on a broken invariant), it must run none. */
static unsigned host_cpuids_in_exit(uint32_t reason)
{
    setup(NULL);
    fake_hw.cpuid_calls = 0;
    jmp_buf jb;
    fake_panic_jmp = &jb;
    fake_hw_halt_jmp = &jb;
    if (setjmp(jb) == 0)
        fake_vcpu_dispatch(v, reason);
    fake_panic_jmp = NULL;
    fake_hw_halt_jmp = NULL;
    return fake_hw.cpuid_calls;
}

static void test_no_host_cpuid_in_any_exit(void **state)
{
    (void)state;
    for (uint32_t reason = 0; reason < VMX_EXIT_COUNT; reason++) {
        unsigned n = host_cpuids_in_exit(reason);
        if (n)
            fail_msg("exit reason %u (%s) ran %u host CPUIDs", reason, exit_reason_name(reason), n);
    }
}

/* ---- the virtual PC's CPU (cpu_model_virtual_pc) ---- */

static void test_virtual_pc_cpu(void **state)
{
    (void)state;
    assert_int_equal(cpu_model_virtual_pc(&vm.cpu_model), 0);
    struct cpuid_regs f = model(CPUID_LEAF_FEATURES, 0);
    assert_true(f.ecx & CPUID_1_ECX_X2APIC);
    assert_true(f.ecx & CPUID_1_ECX_TSC_DEADLINE);
    assert_true(f.edx & CPUID_1_EDX_APIC);
    assert_false(f.edx & (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA)); /* the host had every bit */
    assert_regs(model(LEAF_THERMAL, 0), 0, 0, 0, 0);           /* no APERF/MPERF, EPB, HWP */
    assert_false(model(CPUID_LEAF_EXT_FEATURES, 0).edx & CPUID_7_EDX_ARCH_CAPS);
    /* The TSC frequency: crystal = TSC (ratio 1/1), and the MHz leaf. */
    assert_regs(model(CPUID_LEAF_TSC, 0), 1, 1, (uint32_t)(TSC_KHZ * 1000), 0);
    assert_regs(model(CPUID_LEAF_FREQUENCY, 0), (uint32_t)(TSC_KHZ / 1000),
                (uint32_t)(TSC_KHZ / 1000), 100, 0);
    assert_int_equal(model(0, 0).eax, HOST_MAX); /* already above 0x16 */
}

static void test_virtual_pc_raises_max_leaf(void **state)
{
    (void)state;
    fake_hw_set_cpuid(0, 0, regs(0xD, 0x756E6547, 0x6C65746E, 0x49656E69)); /* a Haswell's max */
    fake_vm_cpu_model(&vm, TSC_KHZ);
    assert_int_equal(cpu_model_virtual_pc(&vm.cpu_model), 0);
    assert_int_equal(model(0, 0).eax, CPUID_LEAF_FREQUENCY);
    assert_regs(model(0xE, 0), 0, 0, 0, 0); /* the leaves between read as zeros */
    assert_regs(model(CPUID_LEAF_TSC, 3), 1, 1, (uint32_t)(TSC_KHZ * 1000), 0);
}

static void test_virtual_pc_without_tsc_frequency(void **state)
{
    (void)state;
    fake_hw_set_cpuid(0, 0, regs(0xD, 0x756E6547, 0x6C65746E, 0x49656E69));
    fake_vm_cpu_model(&vm, 0);
    assert_int_equal(cpu_model_virtual_pc(&vm.cpu_model), 0);
    assert_int_equal(model(0, 0).eax, 0xD); /* nothing to report: no 0x15/0x16 */
    assert_true(model(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_X2APIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ranges_and_limits_from_host, setup),
        cmocka_unit_test_setup(test_indexed_and_flat_leaves, setup),
        cmocka_unit_test_setup(test_out_of_range_leaves, setup),
        cmocka_unit_test_setup(test_host_max_above_table, setup),
        cmocka_unit_test_setup(test_table_full, setup),
        cmocka_unit_test_setup(test_xsave_layout, setup),
        cmocka_unit_test_setup(test_msr_policy, setup),
        cmocka_unit_test_setup(test_msr_defaults_at_creation, setup),
        cmocka_unit_test_setup(test_no_host_cpuid_in_cpuid_exits, setup),
        cmocka_unit_test_setup(test_no_host_cpuid_in_xsetbv, setup),
        cmocka_unit_test_setup(test_no_host_cpuid_in_msr_exits, setup),
        cmocka_unit_test_setup(test_no_host_cpuid_in_any_exit, setup),
        cmocka_unit_test_setup(test_virtual_pc_cpu, setup),
        cmocka_unit_test_setup(test_virtual_pc_raises_max_leaf, setup),
        cmocka_unit_test_setup(test_virtual_pc_without_tsc_frequency, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
