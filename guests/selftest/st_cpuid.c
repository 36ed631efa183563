/* selftest: CPUID (hv filters the host's answers) and XSETBV (hv checks XCR0 like the CPU). */
#include "guests/selftest/selftest.h"

#define LEAF_FEATURES  0x1
#define LEAF_EXT       0x7
#define LEAF_PMU       0xA
#define LEAF_TOPOLOGY  0xB
#define LEAF_XSAVE     0xD
#define LEAF_HV_BASE   HV_ABI_CPUID_BASE
#define LEAF_HV_TIMING HV_ABI_CPUID_TIMING
#define EAX            0
#define EBX            1
#define ECX            2
#define EDX            3

/* Leaf 1 (SDM vol. 2A, CPUID, Tables 3-10/3-11). */
#define ECX1_DTES64     (1u << 2)
#define ECX1_MONITOR    (1u << 3)
#define ECX1_DS_CPL     (1u << 4)
#define ECX1_VMX        (1u << 5)
#define ECX1_SMX        (1u << 6)
#define ECX1_EST        (1u << 7)
#define ECX1_TM2        (1u << 8)
#define ECX1_PDCM       (1u << 15)
#define ECX1_XSAVE      (1u << 26)
#define ECX1_OSXSAVE    (1u << 27)
#define ECX1_AVX        (1u << 28)
#define ECX1_HYPERVISOR (1u << 31)
#define EDX1_DS         (1u << 21)
#define EDX1_ACPI       (1u << 22)
#define EDX1_HTT        (1u << 28)
#define EDX1_TM         (1u << 29)
#define EDX1_PBE        (1u << 31)
#define ECX1_HIDDEN                                                                                \
    (ECX1_DTES64 | ECX1_MONITOR | ECX1_DS_CPL | ECX1_VMX | ECX1_SMX | ECX1_EST | ECX1_TM2 |        \
     ECX1_PDCM)
#define EDX1_HIDDEN      (EDX1_DS | EDX1_ACPI | EDX1_HTT | EDX1_TM | EDX1_PBE)
#define EBX1_APIC_SHIFT  24
#define EBX1_COUNT_SHIFT 16
#define BYTE_MASK        0xFFu
/* Leaf 7 subleaf 0 bits hv hides: SGX, MPX, PT; WAITPKG, SGX_LC. */
#define EBX7_HIDDEN ((1u << 2) | (1u << 14) | (1u << 25))
#define ECX7_HIDDEN ((1u << 5) | (1u << 30))
/* Leaf 0xB (SDM vol. 2A, Table 3-8): ECX[15:8] level type. */
#define TOPO_SMT        1
#define TOPO_CORE       2
#define TOPO_TYPE_SHIFT 8
/* XSAVE: XCR0 components (SDM vol. 1 §13.1). */
#define XCR0_X87        (1ull << 0)
#define XCR0_SSE        (1ull << 1)
#define XCR0_AVX        (1ull << 2)
#define XCR0_OPMASK     (1ull << 5)
#define XCR0_AVX512     (0x7ull << 5)
#define XCR0_BIT63      (1ull << 63)
#define XSAVE_LEGACY    (512 + 64) /* legacy region + XSAVE header */
#define XCR0_COMPONENTS 63
#define HV_MAX_LEAF     LEAF_HV_TIMING
#define XCR_XCR0        0
#define XCR_XCR1        1

static bool has_xsave(void)
{
    uint32_t r[4];
    g_cpuid(LEAF_FEATURES, 0, r);
    return r[ECX] & ECX1_XSAVE;
}

static uint64_t xcr0_supported(void)
{
    uint32_t r[4];
    g_cpuid(LEAF_XSAVE, 0, r);
    return (uint64_t)r[EDX] << 32 | r[EAX];
}

/* Size of the XSAVE area for xcr0 computed from the component leaves (subleaf i: EAX size,
   EBX offset), as CPUID.(0xD,0):EBX must report it. */
static uint32_t xsave_size_for(uint64_t xcr0)
{
    uint32_t size = XSAVE_LEGACY;
    for (unsigned i = 2; i < XCR0_COMPONENTS; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        uint32_t r[4];
        g_cpuid(LEAF_XSAVE, i, r);
        if (r[EAX] + r[EBX] > size)
            size = r[EAX] + r[EBX];
    }
    return size;
}

static void test_leaf1(void)
{
    uint32_t r[4];
    g_cpuid(LEAF_FEATURES, 0, r);
    g_check(!(r[ECX] & ECX1_VMX), "cpuid.1.vmx_hidden", "ECX=0x%x", r[ECX]);
    g_check(r[ECX] & ECX1_HYPERVISOR, "cpuid.1.hypervisor_bit", "ECX=0x%x", r[ECX]);
    g_check(!(r[ECX] & ECX1_HIDDEN) && !(r[EDX] & EDX1_HIDDEN), "cpuid.1.hidden_features",
            "ECX=0x%x EDX=0x%x: hidden bits ECX 0x%x EDX 0x%x set", r[ECX], r[EDX],
            r[ECX] & ECX1_HIDDEN, r[EDX] & EDX1_HIDDEN);
    uint32_t apic = r[EBX] >> EBX1_APIC_SHIFT, count = (r[EBX] >> EBX1_COUNT_SHIFT) & BYTE_MASK;
    g_check(apic == 0, "cpuid.1.apic_id", "EBX=0x%x: APIC id %u, want 0", r[EBX], apic);
    g_check(count == 1, "cpuid.1.logical_count", "EBX=0x%x: %u logical processors, want 1", r[EBX],
            count);

    /* OSXSAVE mirrors CR4.OSXSAVE (SDM vol. 2A, CPUID: "OS has set CR4.OSXSAVE"). */
    if (!(r[ECX] & ECX1_XSAVE)) {
        st_skip("cpuid.1.osxsave_mirror", "no XSAVE");
        return;
    }
    uint64_t cr4 = hw_read_cr4();
    hw_write_cr4(cr4 & ~CR4_OSXSAVE);
    uint32_t off[4], on[4];
    g_cpuid(LEAF_FEATURES, 0, off);
    hw_write_cr4(cr4 | CR4_OSXSAVE);
    g_cpuid(LEAF_FEATURES, 0, on);
    hw_write_cr4(cr4);
    g_check(!(off[ECX] & ECX1_OSXSAVE) && (on[ECX] & ECX1_OSXSAVE), "cpuid.1.osxsave_mirror",
            "ECX with CR4.OSXSAVE=0: 0x%x, =1: 0x%x", off[ECX], on[ECX]);
}

static void test_leaf7_and_pmu(void)
{
    uint32_t r[4];
    g_cpuid(LEAF_EXT, 0, r);
    g_check(!(r[EBX] & EBX7_HIDDEN) && !(r[ECX] & ECX7_HIDDEN), "cpuid.7.hidden_features",
            "EBX=0x%x ECX=0x%x", r[EBX], r[ECX]);
    g_cpuid(LEAF_PMU, 0, r);
    g_check(!r[EAX] && !r[EBX] && !r[ECX] && !r[EDX], "cpuid.a.no_pmu",
            "EAX=0x%x EBX=0x%x ECX=0x%x EDX=0x%x", r[EAX], r[EBX], r[ECX], r[EDX]);
}

/* Leaf 0xB: an SMT level and a core level with one logical processor each, then an invalid
   level; EDX is the x2APIC id (0) at every level. */
static void test_topology(void)
{
    static const struct {
        uint32_t ebx, ecx;
    } want[] = {
        {1, TOPO_SMT << TOPO_TYPE_SHIFT | 0},
        {1, TOPO_CORE << TOPO_TYPE_SHIFT | 1},
        {0, 2},
    };
    bool ok = true;
    uint32_t r[4] = {0};
    unsigned level = 0;
    for (; level < sizeof(want) / sizeof(want[0]); level++) {
        g_cpuid(LEAF_TOPOLOGY, level, r);
        if (r[EBX] != want[level].ebx || r[ECX] != want[level].ecx || r[EDX] != 0) {
            ok = false;
            break;
        }
    }
    g_check(ok, "cpuid.b.topology", "subleaf %u: EAX=0x%x EBX=0x%x ECX=0x%x EDX=0x%x", level,
            r[EAX], r[EBX], r[ECX], r[EDX]);
}

static void test_hv_leaves(void)
{
    uint32_t r[4];
    g_cpuid(LEAF_HV_BASE, 0, r);
    char sig[13];
    __builtin_memcpy(sig, &r[EBX], 4);
    __builtin_memcpy(sig + 4, &r[ECX], 4);
    __builtin_memcpy(sig + 8, &r[EDX], 4);
    sig[12] = 0;
    g_check(__builtin_memcmp(sig, "hvHypervisor", 12) == 0, "cpuid.hv.signature", "got '%s'", sig);
    g_check(r[EAX] == HV_MAX_LEAF, "cpuid.hv.max_leaf", "EAX=0x%x, want 0x%x", r[EAX], HV_MAX_LEAF);
    g_cpuid(LEAF_HV_TIMING, 0, r);
    uint32_t khz = r[EAX];
    uint8_t info[64] __attribute__((aligned(8)));
    uint64_t rc = g_hypercall(G_HC_INFO, (uint64_t)(uintptr_t)info, 0);
    uint64_t hc_khz;
    __builtin_memcpy(&hc_khz, info + 8, sizeof(hc_khz));
    g_check(khz != 0 && rc == 0 && hc_khz == khz, "cpuid.hv.tsc_khz",
            "leaf 0x40000010 EAX=%u kHz, info hypercall rc=%lld tsc_khz=%llu", khz, (long long)rc,
            (unsigned long long)hc_khz);
}

/* Leaf 0xD subleaf 0: EAX:EDX the XCR0 bits hv allows, EBX the area size for the current
   XCR0, ECX the size for all allowed bits (SDM vol. 1 §13.2). */
static void check_xsave_sizes(const char *name)
{
    uint32_t r[4];
    g_cpuid(LEAF_XSAVE, 0, r);
    uint64_t xcr0 = g_xgetbv(XCR_XCR0), all = (uint64_t)r[EDX] << 32 | r[EAX];
    uint32_t want_cur = xsave_size_for(xcr0), want_all = xsave_size_for(all);
    g_check(r[EBX] == want_cur && r[ECX] == want_all, name,
            "XCR0=0x%llx: EBX=%u ECX=%u, components say %u and %u", (unsigned long long)xcr0,
            r[EBX], r[ECX], want_cur, want_all);
}

void st_test_cpuid(void)
{
    test_leaf1();
    test_leaf7_and_pmu();
    test_topology();
    test_hv_leaves();
    uint32_t r[4];
    g_cpuid(LEAF_XSAVE, 0, r);
    uint64_t all = (uint64_t)r[EDX] << 32 | r[EAX];
    if (!has_xsave()) {
        st_skip("cpuid.d.components", "no XSAVE");
        return;
    }
    /* hv offers x87, SSE, AVX and AVX-512 only (no MPX, PKRU, PT, AMX, ...). */
    uint64_t policy = XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512;
    g_check((all & (XCR0_X87 | XCR0_SSE)) == (XCR0_X87 | XCR0_SSE) && !(all & ~policy),
            "cpuid.d.components", "EDX:EAX=0x%llx", (unsigned long long)all);
    /* A component outside EDX:EAX has no size or offset (its subleaf reads all zeros). */
    unsigned bit = 2;
    while (bit < XCR0_COMPONENTS && (all & (1ull << bit)))
        bit++;
    g_cpuid(LEAF_XSAVE, bit, r);
    g_check(!r[EAX] && !r[EBX] && !r[ECX] && !r[EDX], "cpuid.d.unsupported_component_zero",
            "subleaf %u: EAX=0x%x EBX=0x%x ECX=0x%x EDX=0x%x", bit, r[EAX], r[EBX], r[ECX], r[EDX]);
}

/* ---- XSETBV ---- */

static bool xsetbv_ok(uint64_t value)
{
    struct st_xcr_arg a = {XCR_XCR0, 0, value};
    struct g_fault f;
    return !g_try(st_probe_xsetbv, &a, &f) && g_xgetbv(XCR_XCR0) == value;
}

static void expect_xsetbv_gp(const char *name, uint32_t index, uint64_t value)
{
    struct st_xcr_arg a = {index, 0, value};
    uint64_t before = g_xgetbv(XCR_XCR0);
    st_expect_fault(name, st_probe_xsetbv, &a, EXC_GP, 0, st_insn_xsetbv, NULL);
    uint64_t after = g_xgetbv(XCR_XCR0);
    if (after != before)
        g_check(false, name, "XCR0 changed from 0x%llx to 0x%llx", (unsigned long long)before,
                (unsigned long long)after);
}

void st_test_xsetbv(void)
{
    if (!has_xsave()) {
        st_skip("xsetbv", "no XSAVE");
        return;
    }
    uint64_t cr4 = hw_read_cr4();
    hw_write_cr4(cr4 | CR4_OSXSAVE);
    uint64_t all = xcr0_supported();
    uint64_t initial = g_xgetbv(XCR_XCR0);
    g_check(initial == XCR0_X87, "xsetbv.initial_xcr0", "XCR0=0x%llx, want 0x1 (power-on)",
            (unsigned long long)initial);
    check_xsave_sizes("cpuid.d.sizes_x87");
    g_check(xsetbv_ok(XCR0_X87 | XCR0_SSE), "xsetbv.x87_sse", "XCR0=0x%llx",
            (unsigned long long)g_xgetbv(XCR_XCR0));
    check_xsave_sizes("cpuid.d.sizes_sse");
    if (all & XCR0_AVX) {
        g_check(xsetbv_ok(XCR0_X87 | XCR0_SSE | XCR0_AVX), "xsetbv.x87_sse_avx", "XCR0=0x%llx",
                (unsigned long long)g_xgetbv(XCR_XCR0));
        check_xsave_sizes("cpuid.d.sizes_avx");
    } else {
        st_skip("xsetbv.x87_sse_avx", "no AVX state");
    }
    if ((all & XCR0_AVX512) == XCR0_AVX512) {
        uint64_t v = XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512;
        g_check(xsetbv_ok(v), "xsetbv.avx512", "XCR0=0x%llx",
                (unsigned long long)g_xgetbv(XCR_XCR0));
        check_xsave_sizes("cpuid.d.sizes_avx512");
        expect_xsetbv_gp("xsetbv.avx512_partial_gp", XCR_XCR0,
                         XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK);
    } else {
        st_skip("xsetbv.avx512", "no AVX-512 state");
    }
    g_check(xsetbv_ok(XCR0_X87), "xsetbv.x87_only", "XCR0=0x%llx",
            (unsigned long long)g_xgetbv(XCR_XCR0));
    xsetbv_ok(XCR0_X87 | XCR0_SSE);

    /* #GP(0) cases (SDM vol. 2C, XSETBV). */
    expect_xsetbv_gp("xsetbv.no_x87_gp", XCR_XCR0, XCR0_SSE);
    expect_xsetbv_gp("xsetbv.avx_without_sse_gp", XCR_XCR0, XCR0_X87 | XCR0_AVX);
    unsigned bit = 2;
    while (bit < XCR0_COMPONENTS && (all & (1ull << bit)))
        bit++;
    expect_xsetbv_gp("xsetbv.unsupported_bit_gp", XCR_XCR0, XCR0_X87 | XCR0_SSE | (1ull << bit));
    expect_xsetbv_gp("xsetbv.bit63_gp", XCR_XCR0, XCR0_X87 | XCR0_SSE | XCR0_BIT63);
    expect_xsetbv_gp("xsetbv.xcr1_gp", XCR_XCR1, XCR0_X87 | XCR0_SSE);

    /* Without CR4.OSXSAVE, XSETBV and XGETBV are #UD (SDM vol. 2C). */
    hw_write_cr4(cr4 & ~CR4_OSXSAVE);
    struct st_xcr_arg a = {XCR_XCR0, 0, XCR0_X87 | XCR0_SSE};
    st_expect_fault("xsetbv.no_osxsave_ud", st_probe_xsetbv, &a, EXC_UD, 0, st_insn_xsetbv, NULL);
    st_expect_fault("xsetbv.xgetbv_no_osxsave_ud", st_probe_xgetbv, &a, EXC_UD, 0, st_insn_xgetbv,
                    NULL);
    hw_write_cr4(cr4 | CR4_OSXSAVE);
    g_check(g_xgetbv(XCR_XCR0) == (XCR0_X87 | XCR0_SSE), "xsetbv.survives_osxsave_toggle",
            "XCR0=0x%llx", (unsigned long long)g_xgetbv(XCR_XCR0));
    hw_write_cr4(cr4);
}
