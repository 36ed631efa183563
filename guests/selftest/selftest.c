/* selftest: exercises, from inside a guest, every exit hv handles. Each case prints
   "PASS name" or "FAIL name: why"; the run ends with "selftest: N passed, N failed" and
   exit(0) only when nothing failed. */
#include "guests/lib/guest.h"

#define CPUID_FEATURES       1
#define CPUID_ECX_VMX        (1u << 5)
#define CPUID_ECX_HYPERVISOR (1u << 31)
#define CPUID_HV_BASE        0x40000000u

static void test_cpuid(void)
{
    uint32_t r[4];
    g_cpuid(CPUID_FEATURES, 0, r);
    g_check(!(r[2] & CPUID_ECX_VMX), "cpuid.1.vmx_hidden", "ECX=0x%x", r[2]);
    g_check(r[2] & CPUID_ECX_HYPERVISOR, "cpuid.1.hypervisor_bit", "ECX=0x%x", r[2]);
    g_cpuid(CPUID_HV_BASE, 0, r);
    char sig[13];
    __builtin_memcpy(sig, &r[1], 4);
    __builtin_memcpy(sig + 4, &r[2], 4);
    __builtin_memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    g_check(__builtin_memcmp(sig, "hvHypervisor", 12) == 0, "cpuid.hv.signature", "got '%s'", sig);
}

static void do_vmxon(void *arg)
{
    (void)arg;
    uint64_t region = 0;
    __asm__ volatile("vmxon %0" : : "m"(region));
}

static void test_vmx_ud(void)
{
    struct g_fault f;
    int faulted = g_try(do_vmxon, 0, &f);
    g_check(faulted && f.vector == 6, "vmx.vmxon_ud", "faulted=%d vector=%llu", faulted,
            (unsigned long long)f.vector);
}

int guest_main(const struct mb1_info_min *info)
{
    (void)info;
    test_cpuid();
    test_vmx_ud();
    return g_report("selftest");
}
