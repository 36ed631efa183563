#include "vmx/cpu/vmx.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/lib/msr.h"
#include "kernel/percpu.h"
#include "kernel/lib/x86.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "vmx/cpu/vmx_arch.h"
#include "vmx/cpu/vmx_ops.h"

#define CPUID_FEATURES 1
#define CPUID_ECX_VMX  (1u << 5)

struct vmx_caps vmx_caps;
struct vmx_config vmx_config;
static struct vmx_cpu vmx_cpus[MAX_CPUS];

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

int vmx_init(char *why, size_t size)
{
    if (vmx_check_support(why, size) || vmx_enable_feature_control(why, size))
        return -1;
    vmx_caps_read(&vmx_caps);
    vmx_caps_log(&vmx_caps);
    if (VMX_BASIC_REGION_SIZE(vmx_caps.basic) > FRAME_SIZE) {
        fmt_snprintf(why, size, "VMX lacks a VMCS that fits in 4 KiB");
        return -1;
    }
    return vmx_configure(&vmx_caps, &vmx_config, why, size);
}

int vmx_init_ap(char *why, size_t size)
{
    struct vmx_caps mine;
    if (vmx_check_support(why, size) || vmx_enable_feature_control(why, size))
        return -1;
    vmx_caps_read(&mine);
    /* One vmx_config for every CPU: a VMCS built on one CPU runs on another only if both
       allow the same controls (and VMCS revision). */
    const char *differs = vmx_caps_first_difference(&vmx_caps, &mine);
    if (differs) {
        fmt_snprintf(why, size, "its VMX capability %s differs from CPU 0's", differs);
        return -1;
    }
    return 0;
}

paddr_t vmx_alloc_region(void)
{
    paddr_t pa = frame_alloc(0, FRAME_ZERO);
    if (pa != PADDR_NONE)
        *(uint32_t *)phys_to_virt(pa) = (uint32_t)(vmx_caps.basic & VMX_BASIC_REVISION_MASK);
    return pa;
}

int vmx_cpu_enable(char *why, size_t size)
{
    struct vmx_cpu *vc = &vmx_cpus[cpu_id()];
    /* SDM §24.8: CR0 and CR4 must respect the FIXED0 (must be 1) and FIXED1 (may be 1) MSRs. */
    hw_write_cr0((hw_read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
    hw_write_cr4((hw_read_cr4() | vmx_caps.cr4_fixed0 | CR4_VMXE) & vmx_caps.cr4_fixed1);
    vc->vmxon_region = vmx_alloc_region();
    if (vc->vmxon_region == PADDR_NONE) {
        fmt_snprintf(why, size, "out of memory for the VMXON region");
        return -1;
    }
    enum vmx_status st = vmx_on(vc->vmxon_region);
    if (st != VMX_OK) {
        fmt_snprintf(why, size, "VMXON failed (%s)",
                     st == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
        frame_free(vc->vmxon_region, 0);
        return -1;
    }
    vc->on = true;
    this_cpu()->vmx = vc;
    log_info("vmx: cpu %u in VMX root operation (VMXON region 0x%llx)", cpu_id(),
             (unsigned long long)vc->vmxon_region);
    return 0;
}

void vmx_cpu_disable(void)
{
    struct vmx_cpu *vc = &vmx_cpus[cpu_id()];
    if (!vc->on)
        return;
    vmx_off();
    hw_write_cr4(hw_read_cr4() & ~CR4_VMXE);
    frame_free(vc->vmxon_region, 0);
    vc->on = false;
}
