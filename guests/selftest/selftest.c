/* selftest: exercises, from inside a guest, every exit hv handles. Each case prints
   "PASS name" or "FAIL name: why"; the run ends with "selftest: N passed, N failed" and
   exit(0) only when nothing failed. The areas live in st_*.c (declarations in selftest.h). */
#include "guests/selftest/selftest.h"

#define KIB          1024ull
#define MIB          (1024ull * KIB)
#define MB1_FLAG_MEM (1u << 0)

uint64_t st_ram_bytes;

void st_skip(const char *name, const char *why)
{
    g_printf("SKIP %s: %s\n", name, why);
}

bool st_expect_fault(const char *name, void (*fn)(void *), void *arg, unsigned vector,
                     uint64_t error, const void *rip, struct g_fault *out)
{
    struct g_fault f = {0};
    if (!g_try(fn, arg, &f)) {
        g_check(false, name, "no exception, want vector %u", vector);
        return false;
    }
    if (out)
        *out = f;
    bool ok = f.vector == vector && f.error == error && (!rip || f.rip == (uint64_t)rip);
    g_check(ok, name, "vector %llu error 0x%llx RIP 0x%llx, want vector %u error 0x%llx RIP %p",
            (unsigned long long)f.vector, (unsigned long long)f.error, (unsigned long long)f.rip,
            vector, (unsigned long long)error, rip);
    return ok;
}

bool st_expect_no_fault(const char *name, void (*fn)(void *), void *arg)
{
    struct g_fault f = {0};
    bool faulted = g_try(fn, arg, &f);
    g_check(!faulted, name, "vector %llu error 0x%llx at RIP 0x%llx", (unsigned long long)f.vector,
            (unsigned long long)f.error, (unsigned long long)f.rip);
    return !faulted;
}

void st_do_rdmsr(void *arg)
{
    struct st_msr_arg *a = arg;
    a->value = hw_rdmsr(a->msr);
}

void st_do_wrmsr(void *arg)
{
    const struct st_msr_arg *a = arg;
    hw_wrmsr(a->msr, a->value);
}

int guest_main(const struct mb1_info_min *info)
{
    st_capture_reset_state();   /* before anything can change it */
    st_test_debug_switch(info); /* spins through the first slice: the other guest starts then */
    /* mem_upper counts the KiB above 1 MiB (docs/guest-abi.md §4). */
    if (info->flags & MB1_FLAG_MEM)
        st_ram_bytes = (uint64_t)info->mem_upper * KIB + MIB;
    g_printf("selftest: %llu MiB of guest RAM\n", (unsigned long long)(st_ram_bytes / MIB));
    st_test_debug();
    st_paging_install();
    st_test_cpuid();
    st_test_xsetbv();
    st_test_cr();
    st_test_msr();
    st_test_injection();
    st_test_io();
    st_test_string_io();
    st_test_hypercall();
    st_test_user_mode();
    st_test_vmx();
    st_test_mode_switch();
    return g_report("selftest");
}
