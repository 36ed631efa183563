#include "vmx/vmx.h"
#include "kernel/fmt.h"
#include "kernel/hw.h"

#define CPUID_FEATURES 1
#define CPUID_ECX_VMX  (1u << 5)

int vmx_check_support(char *why, size_t size)
{
    struct cpuid_regs r;
    hw_cpuid(CPUID_FEATURES, 0, &r);
    if (!(r.ecx & CPUID_ECX_VMX)) {
        fmt_snprintf(why, size, "VMX not supported by this CPU (CPUID.1:ECX.VMX = 0)");
        return -1;
    }
    return 0;
}
