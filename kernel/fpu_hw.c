#include "kernel/fpu.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/x86.h"
#include "kernel/lib/cpuid_leaves.h"

static uint64_t host_xcr0;

void fpu_init(void)
{
    struct cpuid_regs f, x;
    hw_cpuid(CPUID_LEAF_FEATURES, 0, &f);
    uint64_t cr4 = hw_read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (!(f.ecx & CPUID_1_ECX_XSAVE)) {
        hw_write_cr4(cr4);
        return;
    }
    hw_write_cr4(cr4 | CR4_OSXSAVE);
    hw_cpuid(CPUID_LEAF_XSAVE, 0, &x);
    uint64_t supported = ((uint64_t)x.edx << 32) | x.eax;
    host_xcr0 = XCR0_X87 | XCR0_SSE | (supported & XCR0_GUEST_POLICY);
    hw_write_xcr0(host_xcr0);
}

uint64_t fpu_host_xcr0(void)
{
    return host_xcr0;
}

void fpu_save(void *area)
{
    if (host_xcr0)
        __asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
    if (host_xcr0)
        __asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}
