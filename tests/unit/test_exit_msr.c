/* RDMSR/WRMSR exit handler tests against the fake VMCS and fake machine. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "kernel/lib/cpuid_leaves.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RIP0             0x4000ull
#define LEN              2 /* RDMSR and WRMSR are 0F 32 / 0F 30 */
#define AR_SS(dpl)       (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P | ((dpl) << SEG_AR_DPL_SHIFT))
#define PAT_POWER_ON     0x0007040600070406ull
#define NONCANONICAL     0x0000800000000000ull
#define HIGH_CANONICAL   0xFFFF800000001000ull
#define HOST_TSC         1000000ull
#define MTRR_PHYSBASE(n) (MSR_IA32_MTRR_PHYSBASE0 + 2 * (n))
#define MTRR_PHYSMASK(n) (MSR_IA32_MTRR_PHYSBASE0 + 2 * (n) + 1)

static struct vm vm;
static struct vcpu *v;

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "msrtest");
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS(0));
    fake_vmcs_set(VMCS_GUEST_CS_AR, SEG_AR_L);
    fake_vmcs_set(VMCS_GUEST_PAT, PAT_POWER_ON);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, LEN);
    fake_hw.tsc = HOST_TSC;
    /* CPUID enumerates TSC_ADJUST and SPEC_CTRL (IBRS); test_enumeration_gated clears it. The
       VM's CPU model is built from it, as vm_create does. */
    fake_hw_set_cpuid(CPUID_LEAF_VENDOR, 0, (struct cpuid_regs){CPUID_LEAF_XSAVE, 0, 0, 0});
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0,
                      (struct cpuid_regs){0, CPUID_7_EBX_TSC_ADJUST, 0, CPUID_7_EDX_IBRS});
    fake_vm_cpu_model(&vm, 0);
    /* Host MSRs a leaking handler would change. */
    fake_hw_set_msr(MSR_IA32_LSTAR, 0xFFFFFFFF80001000ull);
    fake_hw_set_msr(MSR_IA32_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
    return 0;
}

/* Runs RDMSR; returns EDX:EAX after checking the RIP advance, or fails on a fault. */
static uint64_t rdmsr_ok(uint32_t msr)
{
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = 0xDEAD000000000000ull | msr; /* only ECX counts */
    v->regs.gpr[REG_RAX] = ~0ull;
    v->regs.gpr[REG_RDX] = ~0ull;
    fake_vcpu_exit(v, exit_handle_rdmsr);
    if (v->event_count)
        fail_msg("RDMSR 0x%x faulted (vector %u)", msr, v->events[0].vector);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + LEN);
    assert_int_equal(v->regs.gpr[REG_RAX] >> 32, 0);
    assert_int_equal(v->regs.gpr[REG_RDX] >> 32, 0);
    return (v->regs.gpr[REG_RDX] << 32) | v->regs.gpr[REG_RAX];
}

static void wrmsr(uint32_t msr, uint64_t value)
{
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = msr;
    v->regs.gpr[REG_RAX] = 0xAAAA000000000000ull | (value & 0xFFFFFFFF); /* upper halves ignored */
    v->regs.gpr[REG_RDX] = 0xBBBB000000000000ull | (value >> 32);
    fake_vcpu_exit(v, exit_handle_wrmsr);
}

static void wrmsr_ok(uint32_t msr, uint64_t value)
{
    wrmsr(msr, value);
    if (v->event_count)
        fail_msg("WRMSR 0x%x = 0x%llx faulted", msr, (unsigned long long)value);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + LEN);
}

static void assert_gp(void)
{
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_GP);
    assert_true(v->events[0].has_error_code);
    assert_int_equal(v->events[0].error_code, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

static void wrmsr_gp(uint32_t msr, uint64_t value)
{
    wrmsr(msr, value);
    assert_gp();
}

static void rdmsr_gp(uint32_t msr)
{
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->event_count = 0;
    v->regs.gpr[REG_RCX] = msr;
    v->regs.gpr[REG_RAX] = 0x1111;
    v->regs.gpr[REG_RDX] = 0x2222;
    fake_vcpu_exit(v, exit_handle_rdmsr);
    assert_gp();
    assert_int_equal(v->regs.gpr[REG_RAX], 0x1111);
    assert_int_equal(v->regs.gpr[REG_RDX], 0x2222);
}

/* ---- EFER ---- */

static void test_efer_read_write(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_EFER, 0);
    wrmsr_ok(MSR_IA32_EFER, EFER_SCE | EFER_LME | EFER_NXE);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), EFER_SCE | EFER_LME | EFER_NXE);
    assert_int_equal(rdmsr_ok(MSR_IA32_EFER), EFER_SCE | EFER_LME | EFER_NXE);
}

static void test_efer_lma_is_read_only(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_EFER, 0);
    wrmsr_ok(MSR_IA32_EFER, EFER_LMA | EFER_SCE); /* LMA in the value is ignored */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), EFER_SCE);
    fake_vmcs_set(VMCS_GUEST_EFER, EFER_LME | EFER_LMA);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_PG);
    wrmsr_ok(MSR_IA32_EFER, EFER_LME | EFER_NXE); /* clearing LMA in the value keeps it */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), EFER_LME | EFER_LMA | EFER_NXE);
}

static void test_efer_reserved_bits_gp(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_EFER, EFER_SCE);
    wrmsr_gp(MSR_IA32_EFER, EFER_SCE | (1ull << 12)); /* SVME: not on Intel */
    wrmsr_gp(MSR_IA32_EFER, EFER_SCE | (1ull << 1));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), EFER_SCE);
    assert_false(fake_vmcs_written(VMCS_GUEST_EFER));
}

static void test_efer_lme_change_with_paging_gp(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_EFER, 0);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_PG);
    wrmsr_gp(MSR_IA32_EFER, EFER_LME);
    assert_false(fake_vmcs_written(VMCS_GUEST_EFER));
    wrmsr_ok(MSR_IA32_EFER, EFER_NXE); /* other bits may change with paging on */
}

/* ---- PAT ---- */

static void test_pat(void **state)
{
    (void)state;
    assert_int_equal(rdmsr_ok(MSR_IA32_PAT), PAT_POWER_ON);
    const uint64_t all_types = 0x0706050401000706ull;
    wrmsr_ok(MSR_IA32_PAT, all_types);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PAT), all_types);
    wrmsr_gp(MSR_IA32_PAT, 0x0000000000000002ull); /* type 2 reserved */
    wrmsr_gp(MSR_IA32_PAT, 0x0300000000000000ull); /* type 3 reserved, top byte */
    wrmsr_gp(MSR_IA32_PAT, 0x0000000000000800ull); /* type 8 */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PAT), all_types);
}

/* ---- VMCS-backed: SYSENTER, FS/GS base ---- */

static void test_sysenter_msrs(void **state)
{
    (void)state;
    wrmsr_ok(MSR_IA32_SYSENTER_CS, 0x10);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_SYSENTER_CS), 0x10);
    wrmsr_ok(MSR_IA32_SYSENTER_ESP, HIGH_CANONICAL);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_SYSENTER_ESP), HIGH_CANONICAL);
    wrmsr_ok(MSR_IA32_SYSENTER_EIP, 0x401000);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_SYSENTER_EIP), 0x401000);
    assert_int_equal(rdmsr_ok(MSR_IA32_SYSENTER_CS), 0x10);
    assert_int_equal(rdmsr_ok(MSR_IA32_SYSENTER_ESP), HIGH_CANONICAL);
    assert_int_equal(rdmsr_ok(MSR_IA32_SYSENTER_EIP), 0x401000);
    wrmsr_gp(MSR_IA32_SYSENTER_EIP, NONCANONICAL);
    wrmsr_gp(MSR_IA32_SYSENTER_ESP, NONCANONICAL);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_SYSENTER_EIP), 0x401000);
}

static void test_fs_gs_base(void **state)
{
    (void)state;
    wrmsr_ok(MSR_IA32_FS_BASE, 0x7FFFFFFFF000ull);
    wrmsr_ok(MSR_IA32_GS_BASE, HIGH_CANONICAL);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_FS_BASE), 0x7FFFFFFFF000ull);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_GS_BASE), HIGH_CANONICAL);
    assert_int_equal(rdmsr_ok(MSR_IA32_FS_BASE), 0x7FFFFFFFF000ull);
    assert_int_equal(rdmsr_ok(MSR_IA32_GS_BASE), HIGH_CANONICAL);
    wrmsr_gp(MSR_IA32_FS_BASE, NONCANONICAL);
    wrmsr_gp(MSR_IA32_GS_BASE, 0x8000000000000000ull);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_FS_BASE), 0x7FFFFFFFF000ull);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_GS_BASE), HIGH_CANONICAL);
}

/* ---- virtual MSRs ---- */

/* Issue 16: the guest's SYSCALL/SWAPGS/RDTSCP MSRs are the real ones while its vCPU runs. */
static void test_syscall_msrs_are_live(void **state)
{
    (void)state;
    wrmsr_ok(MSR_IA32_STAR, 0x0023001000000000ull);
    wrmsr_ok(MSR_IA32_LSTAR, HIGH_CANONICAL);
    wrmsr_ok(MSR_IA32_CSTAR, 0x1000);
    wrmsr_ok(MSR_IA32_FMASK, 0x47700);
    wrmsr_ok(MSR_IA32_KERNEL_GS_BASE, HIGH_CANONICAL + 0x40);
    wrmsr_ok(MSR_IA32_TSC_AUX, 3);
    assert_int_equal(rdmsr_ok(MSR_IA32_STAR), 0x0023001000000000ull);
    assert_int_equal(rdmsr_ok(MSR_IA32_LSTAR), HIGH_CANONICAL);
    assert_int_equal(rdmsr_ok(MSR_IA32_CSTAR), 0x1000);
    assert_int_equal(rdmsr_ok(MSR_IA32_FMASK), 0x47700);
    assert_int_equal(rdmsr_ok(MSR_IA32_KERNEL_GS_BASE), HIGH_CANONICAL + 0x40);
    assert_int_equal(rdmsr_ok(MSR_IA32_TSC_AUX), 3);
    assert_int_equal(v->msr.lstar, HIGH_CANONICAL);
    /* The CPU holds them, so SYSCALL, SWAPGS and RDTSCP in the guest see them. */
    assert_int_equal(fake_hw_get_msr(MSR_IA32_LSTAR), HIGH_CANONICAL);
    assert_int_equal(fake_hw_get_msr(MSR_IA32_STAR), 0x0023001000000000ull);
    assert_int_equal(fake_hw_get_msr(MSR_IA32_FMASK), 0x47700);
    assert_int_equal(fake_hw_get_msr(MSR_IA32_TSC_AUX), 3);
    /* SWAPGS changes KERNEL_GS_BASE without an exit: RDMSR reads the CPU's. */
    fake_hw_set_msr(MSR_IA32_KERNEL_GS_BASE, HIGH_CANONICAL + 0x80);
    assert_int_equal(rdmsr_ok(MSR_IA32_KERNEL_GS_BASE), HIGH_CANONICAL + 0x80);
}

/* A switch loads all six of the next vCPU's values and saves what SWAPGS changed: nothing of
   one guest survives into another. */
static void test_switch_loads_every_live_msr(void **state)
{
    (void)state;
    static struct vm other;
    memset(&other, 0, sizeof(other));
    other.vcpus[0].guest = &other.g;
    exit_msr_reset_vcpu(&other.vcpus[0]);
    wrmsr_ok(MSR_IA32_LSTAR, HIGH_CANONICAL);
    wrmsr_ok(MSR_IA32_KERNEL_GS_BASE, HIGH_CANONICAL + 0x40);
    wrmsr_ok(MSR_IA32_TSC_AUX, 3);
    fake_hw_set_msr(MSR_IA32_KERNEL_GS_BASE, HIGH_CANONICAL + 0x80); /* the guest's SWAPGS */
    exit_msr_save_guest_msrs(v);
    assert_int_equal(v->msr.kernel_gs_base, HIGH_CANONICAL + 0x80);
    exit_msr_load_guest_msrs(&other.vcpus[0]);
    const uint32_t live[] = {MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,  MSR_IA32_LSTAR,
                             MSR_IA32_CSTAR,          MSR_IA32_FMASK, MSR_IA32_TSC_AUX};
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
        if (fake_hw_get_msr(live[i]) != 0)
            fail_msg("MSR 0x%x kept the previous guest's 0x%llx", live[i],
                     (unsigned long long)fake_hw_get_msr(live[i]));
    exit_msr_load_guest_msrs(v);
    assert_int_equal(fake_hw_get_msr(MSR_IA32_KERNEL_GS_BASE), HIGH_CANONICAL + 0x80);
    assert_int_equal(fake_hw_get_msr(MSR_IA32_LSTAR), HIGH_CANONICAL);
}

static void test_virtual_msr_checks(void **state)
{
    (void)state;
    wrmsr_gp(MSR_IA32_LSTAR, NONCANONICAL);
    wrmsr_gp(MSR_IA32_CSTAR, NONCANONICAL);
    wrmsr_gp(MSR_IA32_KERNEL_GS_BASE, NONCANONICAL);
    wrmsr_gp(MSR_IA32_FMASK, 1ull << 32);
    wrmsr_gp(MSR_IA32_TSC_AUX, 1ull << 40);
    assert_int_equal(v->msr.lstar, 0);
    assert_int_equal(v->msr.fmask, 0);
}

static void test_vcpus_do_not_share_virtual_msrs(void **state)
{
    (void)state;
    static struct vm other;
    memset(&other, 0, sizeof(other));
    other.vcpus[0].guest = &other.g;
    wrmsr_ok(MSR_IA32_LSTAR, HIGH_CANONICAL);
    assert_int_equal(other.vcpus[0].msr.lstar, 0);
}

/* ---- TSC ---- */

static void test_tsc_read_adds_offset(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_TSC_OFFSET, 500);
    assert_int_equal(rdmsr_ok(MSR_IA32_TSC), HOST_TSC + 500);
}

static void test_tsc_write_sets_offset_and_adjust(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_TSC_OFFSET, 0);
    wrmsr_ok(MSR_IA32_TSC, 100); /* behind the host: a negative offset */
    assert_int_equal(fake_vmcs_get(VMCS_TSC_OFFSET), 100 - HOST_TSC);
    assert_int_equal(rdmsr_ok(MSR_IA32_TSC), 100);
    assert_int_equal(rdmsr_ok(MSR_IA32_TSC_ADJUST), 100 - HOST_TSC);
    assert_int_equal(fake_hw.msr_writes, 0);
}

static void test_tsc_adjust_moves_offset(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_TSC_OFFSET, 10);
    wrmsr_ok(MSR_IA32_TSC_ADJUST, 1000);
    assert_int_equal(fake_vmcs_get(VMCS_TSC_OFFSET), 1010);
    assert_int_equal(rdmsr_ok(MSR_IA32_TSC_ADJUST), 1000);
    wrmsr_ok(MSR_IA32_TSC_ADJUST, 400);
    assert_int_equal(fake_vmcs_get(VMCS_TSC_OFFSET), 410);
}

/* ---- constant-ish MSRs ---- */

static void test_apic_base(void **state)
{
    (void)state;
    assert_int_equal(rdmsr_ok(MSR_IA32_APIC_BASE), 0xFEE00000ull | (1 << 11) | (1 << 8));
    wrmsr_ok(MSR_IA32_APIC_BASE, 0xFEE00000ull | (1 << 11) | (1 << 8));
    wrmsr_gp(MSR_IA32_APIC_BASE, 0xFEE00000ull | (1 << 8));                         /* disable */
    wrmsr_gp(MSR_IA32_APIC_BASE, 0xFEE00000ull | (1 << 11) | (1 << 10) | (1 << 8)); /* x2APIC */
    wrmsr_gp(MSR_IA32_APIC_BASE, 0xFED00000ull | (1 << 11) | (1 << 8));             /* move */
    v->id = 1;
    assert_int_equal(rdmsr_ok(MSR_IA32_APIC_BASE), 0xFEE00000ull | (1 << 11)); /* not the BSP */
}

static void test_feature_control_locked_without_vmx(void **state)
{
    (void)state;
    assert_int_equal(rdmsr_ok(MSR_IA32_FEATURE_CONTROL), FEATURE_CONTROL_LOCKED);
    wrmsr_gp(MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    wrmsr_gp(MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCKED);
}

static void test_misc_enable(void **state)
{
    (void)state;
    uint64_t value = rdmsr_ok(MSR_IA32_MISC_ENABLE);
    assert_true(value & 1); /* fast strings */
    wrmsr_ok(MSR_IA32_MISC_ENABLE, value);
    wrmsr_ok(MSR_IA32_MISC_ENABLE, value & ~1ull); /* ignored */
    assert_int_equal(rdmsr_ok(MSR_IA32_MISC_ENABLE), value);
    assert_int_equal(fake_hw.msr_writes, 0);
}

static void test_bios_sign_id(void **state)
{
    (void)state;
    wrmsr_ok(MSR_IA32_BIOS_SIGN_ID, 0);
    assert_int_equal(rdmsr_ok(MSR_IA32_BIOS_SIGN_ID), 0);
    assert_int_equal(fake_hw.msr_writes, 0);
}

static void test_spec_ctrl_virtual(void **state)
{
    (void)state;
    wrmsr_ok(MSR_IA32_SPEC_CTRL, 0x5); /* IBRS | SSBD */
    assert_int_equal(rdmsr_ok(MSR_IA32_SPEC_CTRL), 0x5);
    wrmsr_gp(MSR_IA32_SPEC_CTRL, 0x8);
    assert_int_equal(rdmsr_ok(MSR_IA32_SPEC_CTRL), 0x5);
    assert_int_equal(fake_hw.msr_writes, 0);
}

/* Regression (found by the selftest guest): an MSR that CPUID does not enumerate does not exist
   for the guest, so RDMSR and WRMSR raise #GP. */
static void test_enumeration_gated(void **state)
{
    (void)state;
    fake_hw_set_cpuid(CPUID_LEAF_EXT_FEATURES, 0, (struct cpuid_regs){0, 0, 0, 0});
    fake_vm_cpu_model(&vm, 0);
    rdmsr_gp(MSR_IA32_SPEC_CTRL);
    wrmsr_gp(MSR_IA32_SPEC_CTRL, 0);
    rdmsr_gp(MSR_IA32_TSC_ADJUST);
    wrmsr_gp(MSR_IA32_TSC_ADJUST, 0);
}

static void test_debugctl(void **state)
{
    (void)state;
    wrmsr_ok(MSR_IA32_DEBUGCTL, 0x3); /* LBR | BTF */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_DEBUGCTL), 0x3);
    assert_int_equal(rdmsr_ok(MSR_IA32_DEBUGCTL), 0x3);
    wrmsr_gp(MSR_IA32_DEBUGCTL, 0x80); /* branch trace store */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_DEBUGCTL), 0x3);
    /* The guest's value lives in the VMCS only ("save debug controls" stores it at every exit,
       "load debug controls" loads it at entry): the CPU's MSR, hv's, is never touched. */
    fake_vmcs_set(VMCS_GUEST_DEBUGCTL, 0x1);
    assert_int_equal(rdmsr_ok(MSR_IA32_DEBUGCTL), 0x1);
    wrmsr_ok(MSR_IA32_DEBUGCTL, 0x2);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_DEBUGCTL), 0x2);
    assert_false(fake_hw_has_msr(MSR_IA32_DEBUGCTL));
    assert_int_equal(fake_hw.msr_writes, 0);
}

/* ---- MTRRs ---- */

static void test_mtrr_cap_and_default_type(void **state)
{
    (void)state;
    uint64_t cap = rdmsr_ok(MSR_IA32_MTRRCAP);
    assert_int_equal(cap & 0xFF, 8); /* variable ranges */
    assert_true(cap & (1 << 8));     /* fixed ranges */
    wrmsr_gp(MSR_IA32_MTRRCAP, cap);
    assert_int_equal(rdmsr_ok(MSR_IA32_MTRR_DEF_TYPE), 0xC06);
    wrmsr_ok(MSR_IA32_MTRR_DEF_TYPE, 0x800); /* enabled, default UC, fixed off */
    assert_int_equal(rdmsr_ok(MSR_IA32_MTRR_DEF_TYPE), 0x800);
    wrmsr_gp(MSR_IA32_MTRR_DEF_TYPE, 0xC07); /* UC- is PAT-only */
    wrmsr_gp(MSR_IA32_MTRR_DEF_TYPE, 0xC06 | (1 << 9));
    assert_int_equal(rdmsr_ok(MSR_IA32_MTRR_DEF_TYPE), 0x800);
}

static void test_mtrr_variable_ranges(void **state)
{
    (void)state;
    wrmsr_ok(MTRR_PHYSBASE(0), 0x80000000ull | 0);      /* UC */
    wrmsr_ok(MTRR_PHYSMASK(0), 0xFC0000000ull | 0x800); /* 1 GiB, valid */
    wrmsr_ok(MTRR_PHYSBASE(7), 0x100000ull | 6);
    assert_int_equal(rdmsr_ok(MTRR_PHYSBASE(0)), 0x80000000ull);
    assert_int_equal(rdmsr_ok(MTRR_PHYSMASK(0)), 0xFC0000800ull);
    assert_int_equal(rdmsr_ok(MTRR_PHYSBASE(7)), 0x100006ull);
    assert_int_equal(v->msr.mtrr_var[14], 0x100006ull);
    wrmsr_gp(MTRR_PHYSBASE(1), 0x1000 | 2);        /* reserved type */
    wrmsr_gp(MTRR_PHYSBASE(1), 0x1000 | 0x100);    /* bits 11:8 reserved */
    wrmsr_gp(MTRR_PHYSMASK(1), 0xFFF000ull | 0x1); /* bits 10:0 reserved */
    wrmsr_gp(MTRR_PHYSMASK(1), 1ull << 60);
    rdmsr_gp(MTRR_PHYSBASE(8)); /* beyond the 8 ranges MTRRCAP reports */
    wrmsr_gp(MTRR_PHYSBASE(8), 0);
    assert_int_equal(fake_hw.msr_writes, 0);
}

static void test_mtrr_fixed_ranges(void **state)
{
    (void)state;
    const uint32_t fixed[] = {MSR_IA32_MTRR_FIX64K_00000,    MSR_IA32_MTRR_FIX16K_80000,
                              MSR_IA32_MTRR_FIX16K_A0000,    MSR_IA32_MTRR_FIX4K_C0000,
                              MSR_IA32_MTRR_FIX4K_C0000 + 3, MSR_IA32_MTRR_FIX4K_F8000};
    const uint64_t values[] = {0x0606060606060600ull, 0x0001040506000104ull, 0x0000000000000000ull,
                               0x0505050505050505ull, 0x0404040404040404ull, 0x0106010601060106ull};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        wrmsr_ok(fixed[i], values[i]);
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        assert_int_equal(rdmsr_ok(fixed[i]), values[i]);
    assert_int_equal(v->msr.mtrr_fixed[0], values[0]);
    assert_int_equal(v->msr.mtrr_fixed[1], values[1]);
    assert_int_equal(v->msr.mtrr_fixed[2], values[2]);
    assert_int_equal(v->msr.mtrr_fixed[6], values[4]); /* FIX4K_C0000 + 3 */
    assert_int_equal(v->msr.mtrr_fixed[10], values[5]);
    wrmsr_gp(MSR_IA32_MTRR_FIX64K_00000, 0x0000000000000700ull); /* UC- not an MTRR type */
    wrmsr_gp(MSR_IA32_MTRR_FIX4K_C0000, 0x0300000000000000ull);
    rdmsr_gp(0x251); /* between the 64K and 16K MTRRs */
}

/* ---- unknown MSRs, privilege ---- */

static void test_unknown_msr_gp(void **state)
{
    (void)state;
    rdmsr_gp(0x12345678);
    assert_non_null(strstr(fake_log, "RDMSR 0x12345678"));
    wrmsr_gp(MSR_IA32_VMX_BASIC, 0);
    rdmsr_gp(MSR_IA32_VMX_BASIC); /* no nested VMX */
    rdmsr_gp(0xC0000104);
    assert_int_equal(fake_hw.msr_writes, 0);
    assert_int_equal(fake_hw.unknown_msr_reads, 0);
}

static void test_cpl3_gp(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS(3));
    rdmsr_gp(MSR_IA32_EFER);
    wrmsr_gp(MSR_IA32_STAR, 1);
    assert_int_equal(v->msr.star, 0);
}

static void test_rip_advance_uses_instruction_length(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 3); /* e.g. with a prefix */
    v->regs.gpr[REG_RCX] = MSR_IA32_STAR;
    fake_vcpu_exit(v, exit_handle_rdmsr);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_efer_read_write, setup),
        cmocka_unit_test_setup(test_efer_lma_is_read_only, setup),
        cmocka_unit_test_setup(test_efer_reserved_bits_gp, setup),
        cmocka_unit_test_setup(test_efer_lme_change_with_paging_gp, setup),
        cmocka_unit_test_setup(test_pat, setup),
        cmocka_unit_test_setup(test_sysenter_msrs, setup),
        cmocka_unit_test_setup(test_fs_gs_base, setup),
        cmocka_unit_test_setup(test_syscall_msrs_are_live, setup),
        cmocka_unit_test_setup(test_switch_loads_every_live_msr, setup),
        cmocka_unit_test_setup(test_virtual_msr_checks, setup),
        cmocka_unit_test_setup(test_vcpus_do_not_share_virtual_msrs, setup),
        cmocka_unit_test_setup(test_tsc_read_adds_offset, setup),
        cmocka_unit_test_setup(test_tsc_write_sets_offset_and_adjust, setup),
        cmocka_unit_test_setup(test_tsc_adjust_moves_offset, setup),
        cmocka_unit_test_setup(test_apic_base, setup),
        cmocka_unit_test_setup(test_feature_control_locked_without_vmx, setup),
        cmocka_unit_test_setup(test_misc_enable, setup),
        cmocka_unit_test_setup(test_bios_sign_id, setup),
        cmocka_unit_test_setup(test_spec_ctrl_virtual, setup),
        cmocka_unit_test_setup(test_enumeration_gated, setup),
        cmocka_unit_test_setup(test_debugctl, setup),
        cmocka_unit_test_setup(test_mtrr_cap_and_default_type, setup),
        cmocka_unit_test_setup(test_mtrr_variable_ranges, setup),
        cmocka_unit_test_setup(test_mtrr_fixed_ranges, setup),
        cmocka_unit_test_setup(test_unknown_msr_gp, setup),
        cmocka_unit_test_setup(test_cpl3_gp, setup),
        cmocka_unit_test_setup(test_rip_advance_uses_instruction_length, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
