/* selftest: RDMSR/WRMSR (hv intercepts every MSR: SDM vol. 4 for the MSRs, vol. 2B for the
   #GP(0) rules) and the exception hv injects for a refused WRMSR. */
#include "guests/selftest/selftest.h"

#define MSR_TSC             0x10u
#define MSR_APIC_BASE       0x1Bu
#define MSR_FEATURE_CONTROL 0x3Au
#define MSR_TSC_ADJUST      0x3Bu
#define MSR_SPEC_CTRL       0x48u
#define MSR_MTRRCAP         0xFEu
#define MSR_SYSENTER_CS     0x174u
#define MSR_SYSENTER_ESP    0x175u
#define MSR_SYSENTER_EIP    0x176u
#define MSR_MISC_ENABLE     0x1A0u
#define MSR_DEBUGCTL        0x1D9u
#define MSR_MTRR_PHYSBASE0  0x200u
#define MSR_MTRR_PHYSMASK0  0x201u
#define MSR_MTRR_FIX64K     0x250u
#define MSR_PAT             0x277u
#define MSR_MTRR_DEF_TYPE   0x2FFu
#define MSR_VMX_BASIC       0x480u
#define MSR_STAR            0xC0000081u
#define MSR_LSTAR           0xC0000082u
#define MSR_CSTAR           0xC0000083u
#define MSR_FMASK           0xC0000084u
#define MSR_FS_BASE         0xC0000100u
#define MSR_GS_BASE         0xC0000101u
#define MSR_KERNEL_GS_BASE  0xC0000102u
#define MSR_TSC_AUX         0xC0000103u
#define MSR_PMC0            0xC1u
#define MSR_PERFEVTSEL0     0x186u
#define MSR_TSC_DEADLINE    0x6E0u
#define MSR_UNKNOWN         0x12345u
#define MSR_UNKNOWN_HIGH    0xC0002000u

#define NON_CANONICAL       0x0000800000000000ull
#define CANONICAL_HIGH      0xFFFF800012345670ull
#define PAT_POWER_ON        0x0007040600070406ull
#define PAT_WITH_WC         0x0007010600070106ull /* entries 1 and 5 write-combining */
#define PAT_TYPE2_IN_ENTRY3 0x0207040600070406ull /* type 2 is reserved */
#define PAT_TYPE8_IN_ENTRY0 0x0007040600070408ull
#define APIC_BASE_EXPECTED  0xFEE00900ull /* 0xFEE00000, BSP (bit 8), enabled (bit 11) */
#define APIC_BASE_EXTD      (1ull << 10)
#define APIC_BASE_ENABLE    (1ull << 11)
#define FC_LOCKED           (1ull << 0)
#define FC_VMX_BITS         (3ull << 1)
#define MISC_FAST_STRINGS   (1ull << 0)
#define MTRRCAP_VCNT_MASK   0xFFull
#define MTRR_TYPE_MASK      0xFFull
#define MTRR_DEF_E          (1ull << 11)
#define MTRR_DEF_FE         (1ull << 10)
#define MTRR_TYPE_WB        6ull
#define MTRR_TYPE_UC        0ull
#define MTRR_TYPE_RESERVED  2ull
#define MTRR_DEF_RESERVED   (1ull << 12)
#define MTRR_PHYSBASE_RSVD8 (1ull << 8)
#define MTRR_FIXED_ALL_WB   0x0606060606060606ull
#define DEBUGCTL_BIT63      (1ull << 63)
#define EFER_BIT63          (1ull << 63)
#define TSC_JUMP            (1ull << 36)
#define TSC_SLACK           100000000ull /* Bochs cycles between a write and the next read */

/* CPUID enumeration of optional MSRs. */
#define CPUID_1_ECX_X2APIC       (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_EDX_MTRR         (1u << 12)
#define CPUID_1_EDX_PAT          (1u << 16)
#define CPUID_7_EBX_TSC_ADJUST   (1u << 1)
#define CPUID_7_EDX_SPEC_CTRL    ((1u << 26) | (1u << 27) | (1u << 31))
#define CPUID_81_EDX_NX          (1u << 20)
#define CPUID_81_EDX_RDTSCP      (1u << 27)
#define CPUID_7_ECX_RDPID        (1u << 22)
#define CPUID_EXT_FEATURES       0x80000001u

static bool rd(uint32_t msr, uint64_t *value)
{
    struct st_msr_arg a = {msr, 0};
    struct g_fault f;
    if (g_try(st_do_rdmsr, &a, &f))
        return false;
    *value = a.value;
    return true;
}

static bool wr(uint32_t msr, uint64_t value)
{
    struct st_msr_arg a = {msr, value};
    struct g_fault f;
    return !g_try(st_do_wrmsr, &a, &f);
}

/* Writes value, reads it back, restores the original. */
static void roundtrip(const char *name, uint32_t msr, uint64_t value)
{
    uint64_t orig = 0, back = 0;
    bool ok_read = rd(msr, &orig);
    bool ok_write = ok_read && wr(msr, value);
    bool ok_back = ok_write && rd(msr, &back);
    bool ok_restore = ok_read && wr(msr, orig);
    g_check(ok_back && back == value && ok_restore, name,
            "MSR 0x%x: read %s, write 0x%llx %s, read back 0x%llx, restore %s", msr,
            ok_read ? "ok" : "#GP", (unsigned long long)value, ok_write ? "ok" : "#GP",
            (unsigned long long)back, ok_restore ? "ok" : "#GP");
}

static void write_gp(const char *name, uint32_t msr, uint64_t value)
{
    uint64_t before = 0, after = 0;
    bool readable = rd(msr, &before);
    struct st_msr_arg a = {msr, value};
    st_expect_fault(name, st_do_wrmsr, &a, EXC_GP, 0, NULL, NULL);
    if (readable && (!rd(msr, &after) || after != before))
        g_check(false, name, "MSR 0x%x changed from 0x%llx to 0x%llx", msr,
                (unsigned long long)before, (unsigned long long)after);
}

static void read_gp(const char *name, uint32_t msr)
{
    struct st_msr_arg a = {msr, 0};
    st_expect_fault(name, st_do_rdmsr, &a, EXC_GP, 0, NULL, NULL);
}

static uint32_t cpuid_reg(uint32_t leaf, unsigned reg)
{
    uint32_t r[4];
    g_cpuid(leaf, 0, r);
    return r[reg];
}

/* The guest's own instructions see its MSRs (issue 16): SWAPGS exchanges GS base with the
   KERNEL_GS_BASE this guest wrote, and RDTSCP returns its TSC_AUX. */
static void test_live_msrs(void)
{
    static volatile uint64_t target[2] = {0x600D, 0x5A5A5A5A};
    uint64_t kbase = (uint64_t)(uintptr_t)target, via_gs = 0;
    hw_wrmsr(MSR_GS_BASE, 0);
    hw_wrmsr(MSR_KERNEL_GS_BASE, kbase);
    __asm__ volatile("swapgs; movq %%gs:8, %0; swapgs" : "=r"(via_gs) : : "memory");
    uint64_t k_after = hw_rdmsr(MSR_KERNEL_GS_BASE), gs_after = hw_rdmsr(MSR_GS_BASE);
    g_check(via_gs == target[1] && k_after == kbase && gs_after == 0, "msr.swapgs",
            "gs:8 after SWAPGS gave 0x%llx; KERNEL_GS_BASE 0x%llx, GS_BASE 0x%llx after two",
            (unsigned long long)via_gs, (unsigned long long)k_after, (unsigned long long)gs_after);
    hw_wrmsr(MSR_KERNEL_GS_BASE, 0);
    if (!(cpuid_reg(CPUID_EXT_FEATURES, 3) & CPUID_81_EDX_RDTSCP)) {
        st_skip("msr.rdtscp_tsc_aux", "no RDTSCP");
        return;
    }
    uint32_t lo, hi, aux;
    hw_wrmsr(MSR_TSC_AUX, 0x4321);
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    g_check(aux == 0x4321, "msr.rdtscp_tsc_aux", "RDTSCP gave ECX 0x%x, TSC_AUX is 0x4321", aux);
    hw_wrmsr(MSR_TSC_AUX, 0);
}

static void test_efer(void)
{
    uint64_t efer = hw_rdmsr(MSR_EFER);
    g_check((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "msr.efer_read",
            "EFER=0x%llx: want LME and LMA", (unsigned long long)efer);
    if (cpuid_reg(CPUID_EXT_FEATURES, 3) & CPUID_81_EDX_NX)
        roundtrip("msr.efer_nxe_roundtrip", MSR_EFER, efer ^ EFER_NXE);
    else
        write_gp("msr.efer_nxe_unsupported_gp", MSR_EFER, efer | EFER_NXE);
    roundtrip("msr.efer_sce_roundtrip", MSR_EFER, efer ^ EFER_SCE);
    write_gp("msr.efer_reserved_gp", MSR_EFER, efer | EFER_BIT63);
    /* LME cannot change while paging is on (SDM vol. 3 §10.8.5). */
    write_gp("msr.efer_lme_clear_paging_gp", MSR_EFER, efer & ~EFER_LME);
}

static void test_pat(void)
{
    if (!(cpuid_reg(1, 3) & CPUID_1_EDX_PAT)) {
        st_skip("msr.pat", "no PAT");
        return;
    }
    uint64_t pat = hw_rdmsr(MSR_PAT);
    g_check(pat == PAT_POWER_ON, "msr.pat_power_on", "PAT=0x%llx, want 0x%llx",
            (unsigned long long)pat, (unsigned long long)PAT_POWER_ON);
    roundtrip("msr.pat_roundtrip", MSR_PAT, PAT_WITH_WC);
    write_gp("msr.pat_reserved_type_gp", MSR_PAT, PAT_TYPE2_IN_ENTRY3);
    write_gp("msr.pat_type8_gp", MSR_PAT, PAT_TYPE8_IN_ENTRY0);
}

static void test_sys_msrs(void)
{
    roundtrip("msr.sysenter_cs_roundtrip", MSR_SYSENTER_CS, 0x10);
    roundtrip("msr.sysenter_esp_roundtrip", MSR_SYSENTER_ESP, CANONICAL_HIGH);
    roundtrip("msr.sysenter_eip_roundtrip", MSR_SYSENTER_EIP, 0x123456);
    write_gp("msr.sysenter_eip_noncanonical_gp", MSR_SYSENTER_EIP, NON_CANONICAL);
    roundtrip("msr.star_roundtrip", MSR_STAR, 0x0023001000000000ull);
    roundtrip("msr.lstar_roundtrip", MSR_LSTAR, CANONICAL_HIGH);
    roundtrip("msr.cstar_roundtrip", MSR_CSTAR, 0x200000);
    roundtrip("msr.fmask_roundtrip", MSR_FMASK, 0x47700);
    write_gp("msr.lstar_noncanonical_gp", MSR_LSTAR, NON_CANONICAL);
    roundtrip("msr.kernel_gs_base_roundtrip", MSR_KERNEL_GS_BASE, CANONICAL_HIGH);
    write_gp("msr.kernel_gs_base_noncanonical_gp", MSR_KERNEL_GS_BASE, NON_CANONICAL);
    test_live_msrs();
}

/* FS/GS base: the write must reach the segment the CPU uses, not just read back. */
static void test_segment_bases(void)
{
    static volatile uint64_t target[2] = {0x1111, 0x5EC7E57};
    uint64_t base = (uint64_t)(uintptr_t)target;
    uint64_t via_fs = 0, via_gs = 0, fs_back = 0, gs_back = 0;
    hw_wrmsr(MSR_FS_BASE, base);
    fs_back = hw_rdmsr(MSR_FS_BASE);
    __asm__ volatile("movq %%fs:8, %0" : "=r"(via_fs));
    hw_wrmsr(MSR_FS_BASE, 0);
    hw_wrmsr(MSR_GS_BASE, base);
    gs_back = hw_rdmsr(MSR_GS_BASE);
    __asm__ volatile("movq %%gs:8, %0" : "=r"(via_gs));
    hw_wrmsr(MSR_GS_BASE, 0);
    g_check(fs_back == base && via_fs == target[1], "msr.fs_base",
            "wrote 0x%llx: reads 0x%llx, fs:8 gives 0x%llx", (unsigned long long)base,
            (unsigned long long)fs_back, (unsigned long long)via_fs);
    g_check(gs_back == base && via_gs == target[1], "msr.gs_base",
            "wrote 0x%llx: reads 0x%llx, gs:8 gives 0x%llx", (unsigned long long)base,
            (unsigned long long)gs_back, (unsigned long long)via_gs);
    write_gp("msr.fs_base_noncanonical_gp", MSR_FS_BASE, NON_CANONICAL);
    write_gp("msr.gs_base_noncanonical_gp", MSR_GS_BASE, NON_CANONICAL);
}

static void test_tsc(void)
{
    uint64_t t0 = hw_rdtsc();
    uint64_t via_msr = hw_rdmsr(MSR_TSC);
    g_check(via_msr >= t0 && via_msr - t0 < TSC_SLACK, "msr.tsc_read",
            "RDTSC 0x%llx then RDMSR 0x%llx", (unsigned long long)t0, (unsigned long long)via_msr);
    bool has_adjust = cpuid_reg(7, 1) & CPUID_7_EBX_TSC_ADJUST;
    uint64_t adjust0 = 0, adjust1 = 0;
    if (has_adjust)
        adjust0 = hw_rdmsr(MSR_TSC_ADJUST);
    uint64_t before = hw_rdtsc();
    uint64_t value = before + TSC_JUMP;
    hw_wrmsr(MSR_TSC, value);
    uint64_t after = hw_rdtsc();
    g_check(after >= value && after - value < TSC_SLACK, "msr.tsc_write",
            "wrote 0x%llx, RDTSC then 0x%llx", (unsigned long long)value,
            (unsigned long long)after);
    if (!has_adjust) {
        read_gp("msr.tsc_adjust_absent_gp", MSR_TSC_ADJUST);
        return;
    }
    /* A TSC write moves IA32_TSC_ADJUST by the same amount (SDM vol. 3 §17.17.3). */
    adjust1 = hw_rdmsr(MSR_TSC_ADJUST);
    uint64_t delta = adjust1 - adjust0;
    g_check(delta <= TSC_JUMP && TSC_JUMP - delta < TSC_SLACK, "msr.tsc_adjust_follows",
            "TSC_ADJUST moved by 0x%llx for a jump of 0x%llx", (unsigned long long)delta,
            (unsigned long long)TSC_JUMP);
}

static void test_platform_msrs(void)
{
    uint64_t v = 0;
    bool ok = rd(MSR_APIC_BASE, &v);
    g_check(ok && v == APIC_BASE_EXPECTED, "msr.apic_base", "%s 0x%llx, want 0x%llx",
            ok ? "read" : "#GP", (unsigned long long)v, (unsigned long long)APIC_BASE_EXPECTED);
    g_check(wr(MSR_APIC_BASE, APIC_BASE_EXPECTED), "msr.apic_base_write_same",
            "rewriting the value read raised #GP");
    ok = rd(MSR_FEATURE_CONTROL, &v);
    g_check(ok && (v & FC_LOCKED) && !(v & FC_VMX_BITS), "msr.feature_control_locked_no_vmx",
            "%s 0x%llx", ok ? "read" : "#GP", (unsigned long long)v);
    write_gp("msr.feature_control_write_gp", MSR_FEATURE_CONTROL, FC_LOCKED);
    read_gp("msr.vmx_basic_gp", MSR_VMX_BASIC); /* VMX is hidden: its MSRs do not exist */
    ok = rd(MSR_MISC_ENABLE, &v);
    g_check(ok && (v & MISC_FAST_STRINGS), "msr.misc_enable", "%s 0x%llx", ok ? "read" : "#GP",
            (unsigned long long)v);
    roundtrip("msr.debugctl_roundtrip", MSR_DEBUGCTL, 0);
    write_gp("msr.debugctl_reserved_gp", MSR_DEBUGCTL, DEBUGCTL_BIT63);

    uint32_t r[4];
    g_cpuid(7, 0, r);
    if (r[3] & CPUID_7_EDX_SPEC_CTRL)
        roundtrip("msr.spec_ctrl_roundtrip", MSR_SPEC_CTRL, 0);
    else
        read_gp("msr.spec_ctrl_absent_gp", MSR_SPEC_CTRL); /* not enumerated: no such MSR */

    bool has_aux =
        (cpuid_reg(CPUID_EXT_FEATURES, 3) & CPUID_81_EDX_RDTSCP) || (r[2] & CPUID_7_ECX_RDPID);
    if (has_aux)
        roundtrip("msr.tsc_aux_roundtrip", MSR_TSC_AUX, 0x12345678);
    else
        read_gp("msr.tsc_aux_absent_gp", MSR_TSC_AUX);
}

static void test_mtrr(void)
{
    if (!(cpuid_reg(1, 3) & CPUID_1_EDX_MTRR)) {
        st_skip("msr.mtrr", "no MTRRs");
        return;
    }
    uint64_t cap = 0, def = 0;
    bool ok = rd(MSR_MTRRCAP, &cap);
    g_check(ok && (cap & MTRRCAP_VCNT_MASK) != 0, "msr.mtrrcap", "%s 0x%llx", ok ? "read" : "#GP",
            (unsigned long long)cap);
    write_gp("msr.mtrrcap_write_gp", MSR_MTRRCAP, cap); /* read-only */
    ok = rd(MSR_MTRR_DEF_TYPE, &def);
    uint64_t type = def & MTRR_TYPE_MASK;
    g_check(ok && (type == MTRR_TYPE_UC || type == MTRR_TYPE_WB), "msr.mtrr_def_type_read",
            "%s 0x%llx", ok ? "read" : "#GP", (unsigned long long)def);
    roundtrip("msr.mtrr_def_type_roundtrip", MSR_MTRR_DEF_TYPE,
              MTRR_DEF_E | MTRR_DEF_FE | MTRR_TYPE_UC);
    write_gp("msr.mtrr_def_type_reserved_type_gp", MSR_MTRR_DEF_TYPE,
             MTRR_DEF_E | MTRR_TYPE_RESERVED);
    write_gp("msr.mtrr_def_type_reserved_bit_gp", MSR_MTRR_DEF_TYPE,
             MTRR_DEF_E | MTRR_TYPE_WB | MTRR_DEF_RESERVED);
    roundtrip("msr.mtrr_physbase0_roundtrip", MSR_MTRR_PHYSBASE0, 0x100000 | MTRR_TYPE_WB);
    roundtrip("msr.mtrr_physmask0_roundtrip", MSR_MTRR_PHYSMASK0, 0xFFF00000ull | (1ull << 11));
    write_gp("msr.mtrr_physbase0_reserved_gp", MSR_MTRR_PHYSBASE0,
             MTRR_TYPE_WB | MTRR_PHYSBASE_RSVD8);
    /* Only MTRRCAP.VCNT variable ranges exist: the pair after the last one does not. */
    read_gp("msr.mtrr_beyond_vcnt_gp",
            MSR_MTRR_PHYSBASE0 + 2 * (uint32_t)(cap & MTRRCAP_VCNT_MASK));
    roundtrip("msr.mtrr_fix64k_roundtrip", MSR_MTRR_FIX64K, MTRR_FIXED_ALL_WB);
    write_gp("msr.mtrr_fix64k_reserved_type_gp", MSR_MTRR_FIX64K,
             MTRR_FIXED_ALL_WB ^ (MTRR_TYPE_WB ^ MTRR_TYPE_RESERVED));
}

/* What CPUID leaf 1 advertises must work: x2APIC mode (APIC_BASE.EXTD, SDM vol. 3 §11.12.1)
   and the TSC-deadline MSR (§11.5.4.1); leaf 0xA reporting no PMU means no counter MSRs and
   RDPMC #GP (§20.2.1, RDPMC). */
static void do_rdpmc(void *arg)
{
    uint32_t lo, hi;
    __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0));
    *(uint64_t *)arg = (uint64_t)hi << 32 | lo;
}

static void test_advertised(void)
{
    uint32_t r[4];
    g_cpuid(1, 0, r);
    if (r[2] & CPUID_1_ECX_X2APIC) {
        bool ok = wr(MSR_APIC_BASE, APIC_BASE_EXPECTED | APIC_BASE_EXTD);
        uint64_t v = 0;
        if (ok)
            ok = rd(MSR_APIC_BASE, &v) && v == (APIC_BASE_EXPECTED | APIC_BASE_EXTD);
        g_check(ok, "msr.apic_base_x2apic_advertised",
                "CPUID.1:ECX.x2APIC=1 but enabling x2APIC mode %s (APIC_BASE 0x%llx)",
                ok ? "worked" : "failed", (unsigned long long)v);
        if (ok) { /* back to xAPIC mode: only through disabled (§11.12.5) */
            wr(MSR_APIC_BASE, APIC_BASE_EXPECTED & ~APIC_BASE_ENABLE);
            wr(MSR_APIC_BASE, APIC_BASE_EXPECTED);
        }
    } else {
        write_gp("msr.apic_base_x2apic_absent_gp", MSR_APIC_BASE,
                 APIC_BASE_EXPECTED | APIC_BASE_EXTD);
    }
    uint64_t v = 0;
    if (r[2] & CPUID_1_ECX_TSC_DEADLINE)
        g_check(rd(MSR_TSC_DEADLINE, &v), "msr.tsc_deadline_advertised",
                "CPUID.1:ECX.TSC-deadline=1 but RDMSR IA32_TSC_DEADLINE raised #GP");
    else
        read_gp("msr.tsc_deadline_absent_gp", MSR_TSC_DEADLINE);
    g_cpuid(0xA, 0, r);
    if ((r[0] & 0xFF) == 0) {
        read_gp("msr.pmc0_absent_gp", MSR_PMC0);
        read_gp("msr.perfevtsel0_absent_gp", MSR_PERFEVTSEL0);
        st_expect_fault("misc.rdpmc_no_pmu_gp", do_rdpmc, &v, EXC_GP, 0, NULL, NULL);
    }
}

static void test_unknown(void)
{
    read_gp("msr.unknown_read_gp", MSR_UNKNOWN);
    write_gp("msr.unknown_write_gp", MSR_UNKNOWN, 0);
    read_gp("msr.c0002000_read_gp", MSR_UNKNOWN_HIGH);
}

void st_test_msr(void)
{
    test_efer();
    test_pat();
    test_sys_msrs();
    test_segment_bases();
    test_tsc();
    test_platform_msrs();
    test_mtrr();
    test_advertised();
    test_unknown();
}

/* The #GP hv injects for a refused WRMSR: vector 13, error code 0, RIP at the WRMSR, and the
   stack frame the CPU would push (SDM vol. 3 §6.12, §6.14). Then the same for RDMSR and #UD. */
void st_test_injection(void)
{
    st_expect_fault("inject.wrmsr_gp_rip_error", st_probe_wrmsr_unknown, NULL, EXC_GP, 0,
                    st_insn_wrmsr_unknown, NULL);
    st_expect_fault("inject.rdmsr_gp_rip_error", st_probe_rdmsr_unknown, NULL, EXC_GP, 0,
                    st_insn_rdmsr_unknown, NULL);
    /* Several refused instructions in a row: each delivered once, none lost or doubled. */
    unsigned delivered = 0;
    for (unsigned i = 0; i < 8; i++) {
        struct g_fault f;
        if (g_try(st_probe_wrmsr_unknown, NULL, &f) && f.vector == EXC_GP &&
            f.rip == (uint64_t)(uintptr_t)st_insn_wrmsr_unknown)
            delivered++;
    }
    g_check(delivered == 8, "inject.repeated_gp", "%u of 8 #GP delivered", delivered);
}
