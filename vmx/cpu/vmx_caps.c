#include "vmx/cpu/vmx_caps.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/lib/msr.h"
#include "vmx/cpu/vmx_arch.h"

#define ALLOWED0(cap) ((uint32_t)(cap))         /* 1 = must be 1 */
#define ALLOWED1(cap) ((uint32_t)((cap) >> 32)) /* 0 = must be 0 */

/* SDM vol. 3 §24.7: VMXON needs IA32_FEATURE_CONTROL locked with "VMX outside SMX" set. */
int vmx_enable_feature_control(char *why, size_t size)
{
    uint64_t fc = hw_rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (fc & FEATURE_CONTROL_LOCKED) {
        if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
            fmt_snprintf(why, size, "VMX disabled by firmware (IA32_FEATURE_CONTROL locked)");
            return -1;
        }
        return 0;
    }
    hw_wrmsr(MSR_IA32_FEATURE_CONTROL,
             fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED);
    return 0;
}

const char *vmx_caps_first_difference(const struct vmx_caps *a, const struct vmx_caps *b)
{
    static const char *const ctl_msr[VMX_CTL_KINDS] = {
        [VMX_CTL_PIN] = "IA32_VMX_(TRUE_)PINBASED_CTLS",
        [VMX_CTL_PROC] = "IA32_VMX_(TRUE_)PROCBASED_CTLS",
        [VMX_CTL_PROC2] = "IA32_VMX_PROCBASED_CTLS2",
        [VMX_CTL_EXIT] = "IA32_VMX_(TRUE_)EXIT_CTLS",
        [VMX_CTL_ENTRY] = "IA32_VMX_(TRUE_)ENTRY_CTLS",
    };
    if (a->basic != b->basic)
        return "IA32_VMX_BASIC";
    if (a->misc != b->misc)
        return "IA32_VMX_MISC";
    if (a->ept_vpid != b->ept_vpid)
        return "IA32_VMX_EPT_VPID_CAP";
    for (unsigned k = 0; k < VMX_CTL_KINDS; k++)
        if (a->ctl[k] != b->ctl[k])
            return ctl_msr[k];
    if (a->cr0_fixed0 != b->cr0_fixed0 || a->cr0_fixed1 != b->cr0_fixed1)
        return "IA32_VMX_CR0_FIXED0/1";
    if (a->cr4_fixed0 != b->cr4_fixed0 || a->cr4_fixed1 != b->cr4_fixed1)
        return "IA32_VMX_CR4_FIXED0/1";
    return 0;
}

void vmx_caps_read(struct vmx_caps *c)
{
    c->basic = hw_rdmsr(MSR_IA32_VMX_BASIC);
    bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    c->ctl[VMX_CTL_PIN] =
        hw_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
    c->ctl[VMX_CTL_PROC] =
        hw_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
    c->ctl[VMX_CTL_EXIT] =
        hw_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
    c->ctl[VMX_CTL_ENTRY] =
        hw_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
    /* The secondary controls and EPT/VPID capabilities exist only when their parent bit may be 1.
     */
    bool has_proc2 = ALLOWED1(c->ctl[VMX_CTL_PROC]) & PROC_SECONDARY_CONTROLS;
    c->ctl[VMX_CTL_PROC2] = has_proc2 ? hw_rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
    bool has_ept_vpid =
        (uint32_t)(c->ctl[VMX_CTL_PROC2] >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID);
    c->ept_vpid = has_ept_vpid ? hw_rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
    c->misc = hw_rdmsr(MSR_IA32_VMX_MISC);
    c->cr0_fixed0 = hw_rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    c->cr0_fixed1 = hw_rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    c->cr4_fixed0 = hw_rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    c->cr4_fixed1 = hw_rdmsr(MSR_IA32_VMX_CR4_FIXED1);
}

int vmx_adjust_ctls(uint64_t cap, uint32_t required, uint32_t optional, uint32_t *value,
                    uint32_t *missing, uint32_t *dropped)
{
    uint32_t may_be_1 = ALLOWED1(cap), must_be_1 = ALLOWED0(cap);
    *missing = required & ~may_be_1;
    *dropped = optional & ~may_be_1;
    *value = (required | optional | must_be_1) & may_be_1;
    /* A must-be-1 bit that may not be 1 is a contradictory MSR; treat it as missing too. */
    *missing |= must_be_1 & ~may_be_1;
    return *missing ? -1 : 0;
}

struct ctl_name {
    uint32_t bit;
    const char *name;
};

static const struct ctl_name pin_names[] = {
    {PIN_EXT_INT_EXITING, "external-interrupt exiting"},
    {PIN_NMI_EXITING, "NMI exiting"},
    {PIN_VIRTUAL_NMIS, "virtual NMIs"},
    {PIN_PREEMPTION_TIMER, "VMX-preemption timer"},
    {PIN_POSTED_INTERRUPTS, "posted interrupts"},
    {0, 0},
};
static const struct ctl_name proc_names[] = {
    {PROC_INT_WINDOW_EXITING, "interrupt-window exiting"},
    {PROC_TSC_OFFSETTING, "TSC offsetting"},
    {PROC_TPR_SHADOW, "use TPR shadow"},
    {PROC_HLT_EXITING, "HLT exiting"},
    {PROC_RDPMC_EXITING, "RDPMC exiting"},
    {PROC_CR8_LOAD_EXITING, "CR8-load exiting"},
    {PROC_CR8_STORE_EXITING, "CR8-store exiting"},
    {PROC_CR3_LOAD_EXITING, "CR3-load exiting"},
    {PROC_CR3_STORE_EXITING, "CR3-store exiting"},
    {PROC_NMI_WINDOW_EXITING, "NMI-window exiting"},
    {PROC_UNCOND_IO_EXITING, "unconditional I/O exiting"},
    {PROC_USE_IO_BITMAPS, "use I/O bitmaps"},
    {PROC_USE_MSR_BITMAPS, "use MSR bitmaps"},
    {PROC_MONITOR_EXITING, "MONITOR exiting"},
    {PROC_MWAIT_EXITING, "MWAIT exiting"},
    {PROC_SECONDARY_CONTROLS, "secondary controls"},
    {0, 0},
};
static const struct ctl_name proc2_names[] = {
    {PROC2_VIRT_APIC_ACCESSES, "virtualize APIC accesses"},
    {PROC2_ENABLE_EPT, "EPT"},
    {PROC2_ENABLE_RDTSCP, "RDTSCP"},
    {PROC2_ENABLE_VPID, "VPID"},
    {PROC2_WBINVD_EXITING, "WBINVD exiting"},
    {PROC2_UNRESTRICTED_GUEST, "unrestricted guest"},
    {PROC2_APIC_REG_VIRT, "APIC-register virtualization"},
    {PROC2_ENABLE_INVPCID, "INVPCID"},
    {PROC2_ENABLE_XSAVES, "XSAVES"},
    {0, 0},
};
static const struct ctl_name exit_names[] = {
    {EXIT_SAVE_DEBUG_CTLS, "save debug controls"},
    {EXIT_HOST_ADDR_SPACE_64, "host address-space size"},
    {EXIT_ACK_INTR_ON_EXIT, "acknowledge interrupt on exit"},
    {EXIT_SAVE_PAT, "save IA32_PAT"},
    {EXIT_LOAD_PAT, "load IA32_PAT on exit"},
    {EXIT_SAVE_EFER, "save IA32_EFER"},
    {EXIT_LOAD_EFER, "load IA32_EFER on exit"},
    {0, 0},
};
static const struct ctl_name entry_names[] = {
    {ENTRY_LOAD_DEBUG_CTLS, "load debug controls"},
    {ENTRY_IA32E_MODE_GUEST, "IA-32e mode guest"},
    {ENTRY_LOAD_PAT, "load IA32_PAT on entry"},
    {ENTRY_LOAD_EFER, "load IA32_EFER on entry"},
    {0, 0},
};

const char *vmx_ctl_name(enum vmx_ctl_kind kind, unsigned bit)
{
    static const struct ctl_name *const tables[VMX_CTL_KINDS] = {pin_names, proc_names, proc2_names,
                                                                 exit_names, entry_names};
    if (kind >= VMX_CTL_KINDS || bit >= 32)
        return 0;
    for (const struct ctl_name *n = tables[kind]; n->name; n++)
        if (n->bit == (1u << bit))
            return n->name;
    return 0;
}

/* Required and optional controls, per kind. */
static const struct {
    uint32_t required, optional;
} wanted[VMX_CTL_KINDS] = {
    [VMX_CTL_PIN] = {PIN_EXT_INT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER,
                     PIN_VIRTUAL_NMIS},
    [VMX_CTL_PROC] = {PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
                          PROC_TSC_OFFSETTING | PROC_RDPMC_EXITING | PROC_CR8_LOAD_EXITING |
                          PROC_CR8_STORE_EXITING | PROC_SECONDARY_CONTROLS | PROC_MWAIT_EXITING |
                          PROC_MONITOR_EXITING,
                      0},
    [VMX_CTL_PROC2] = {PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST,
                       PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_WBINVD_EXITING},
    /* The debug controls keep the guest's DR7 and IA32_DEBUGCTL in the VMCS: a VM exit sets
       DR7 to 0x400 and clears DEBUGCTL (§28.5.1), so without them both are lost at every exit. */
    /* Acknowledging on exit takes hv's own IPIs (kernel/smp.h) out of the local APIC, so a
       kick is one exit and not an interrupt pending forever while hv runs with IF = 0. */
    [VMX_CTL_EXIT] = {EXIT_HOST_ADDR_SPACE_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT |
                          EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CTLS | EXIT_ACK_INTR_ON_EXIT,
                      0},
    [VMX_CTL_ENTRY] = {ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CTLS, 0},
};

static unsigned lowest_bit(uint32_t v)
{
    return (unsigned)__builtin_ctz(v);
}

static int fail(char *why, size_t size, const char *what)
{
    fmt_snprintf(why, size, "VMX lacks %s", what);
    return -1;
}

/* EPT and VPID capabilities hv cannot run without (Appendix A.10). */
static int check_ept_vpid(uint64_t cap, char *why, size_t size)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } required[] = {
        {EPT_CAP_WALK_4, "a 4-level EPT page walk"},
        {EPT_CAP_MEMTYPE_WB, "write-back EPT paging structures"},
        {EPT_CAP_INVEPT, "INVEPT"},
        {EPT_CAP_INVEPT_SINGLE, "single-context INVEPT"},
        {VPID_CAP_INVVPID, "INVVPID"},
        {VPID_CAP_INVVPID_SINGLE, "single-context INVVPID"},
    };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!(cap & required[i].bit))
            return fail(why, size, required[i].name);
    return 0;
}

/* SDM vol. 3 §26.2.1.1: "virtualize APIC accesses" needs no TPR shadow, but APIC-register
   virtualization does; hv uses the three together or none. */
static bool apic_register_virt_offered(const struct vmx_caps *c)
{
    return (ALLOWED1(c->ctl[VMX_CTL_PROC]) & PROC_TPR_SHADOW) &&
           (ALLOWED1(c->ctl[VMX_CTL_PROC2]) & (PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT)) ==
               (PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT);
}

int vmx_configure(const struct vmx_caps *c, struct vmx_config *cfg, char *why, size_t size)
{
    if (VMX_BASIC_MEMTYPE(c->basic) != VMX_BASIC_MEMTYPE_WB)
        return fail(why, size, "write-back VMCS memory");
    /* String I/O emulation reads the address size and segment from this exit information. */
    if (!(c->basic & VMX_BASIC_INS_OUTS_INFO))
        return fail(why, size, "INS/OUTS exit information");
    for (int k = 0; k < VMX_CTL_KINDS; k++) {
        uint32_t missing, dropped;
        if (vmx_adjust_ctls(c->ctl[k], wanted[k].required, wanted[k].optional, &cfg->ctl[k],
                            &missing, &dropped)) {
            const char *name = vmx_ctl_name((enum vmx_ctl_kind)k, lowest_bit(missing));
            return fail(why, size, name ? name : "a required control");
        }
        for (uint32_t d = dropped; d; d &= d - 1) {
            const char *name = vmx_ctl_name((enum vmx_ctl_kind)k, lowest_bit(d));
            log_info("vmx: optional control '%s' not available, turned off", name ? name : "?");
        }
    }
    if (check_ept_vpid(c->ept_vpid, why, size))
        return -1;
    cfg->ept_2m = c->ept_vpid & EPT_CAP_PAGE_2M;
    cfg->ept_1g = c->ept_vpid & EPT_CAP_PAGE_1G;
    cfg->ept_ad = c->ept_vpid & EPT_CAP_AD_BITS;
    cfg->virtual_nmis = cfg->ctl[VMX_CTL_PIN] & PIN_VIRTUAL_NMIS;
    cfg->preemption_timer_shift = VMX_MISC_PREEMPT_RATE(c->misc);
    cfg->apic_register_virt = apic_register_virt_offered(c);
    if (!cfg->apic_register_virt)
        log_info("vmx: optional feature 'APIC-register virtualization' not available: virtual-PC "
                 "guests' xAPIC accesses are decoded from EPT violations");
    if (!cfg->ept_1g)
        log_info("vmx: optional feature '1 GiB EPT pages' not available, turned off");
    if (!cfg->ept_ad)
        log_info("vmx: optional feature 'EPT accessed/dirty bits' not available, turned off");
    return 0;
}

void vmx_caps_log(const struct vmx_caps *c)
{
    uint32_t proc2 = ALLOWED1(c->ctl[VMX_CTL_PROC2]);
    uint32_t pin = ALLOWED1(c->ctl[VMX_CTL_PIN]);
    log_info(
        "vmx: revision 0x%llx, VMCS %llu bytes, TRUE controls %s; offers: EPT%s%s%s%s, "
        "VPID%s, unrestricted guest %s, preemption timer %s (rate 2^%llu), virtual NMIs %s, "
        "APIC-register virtualization %s",
        (unsigned long long)(c->basic & VMX_BASIC_REVISION_MASK),
        (unsigned long long)VMX_BASIC_REGION_SIZE(c->basic),
        c->basic & VMX_BASIC_TRUE_CTLS ? "yes" : "no", proc2 & PROC2_ENABLE_EPT ? "" : " (none)",
        c->ept_vpid & EPT_CAP_PAGE_2M ? " 2M" : "", c->ept_vpid & EPT_CAP_PAGE_1G ? " 1G" : "",
        c->ept_vpid & EPT_CAP_AD_BITS ? " A/D" : "",
        proc2 & PROC2_ENABLE_VPID ? (c->ept_vpid & VPID_CAP_INVVPID ? " +INVVPID" : "") : " (none)",
        proc2 & PROC2_UNRESTRICTED_GUEST ? "yes" : "no", pin & PIN_PREEMPTION_TIMER ? "yes" : "no",
        (unsigned long long)VMX_MISC_PREEMPT_RATE(c->misc), pin & PIN_VIRTUAL_NMIS ? "yes" : "no",
        apic_register_virt_offered(c) ? "yes" : "no");
}
