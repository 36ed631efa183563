/*
 * The exit dispatch table. Every basic exit reason the SDM defines (Appendix C) has a name;
 * those with no handler go to exit_unhandled, which logs the decoded exit and stops that guest
 * (never hv).
 */
#include "vmx/exit/exit.h"
#include "kernel/log.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"

#define EXIT_NAME(name, num, text) [num] = (text),
static const char *const exit_names[VMX_EXIT_COUNT] = {VMX_EXIT_REASONS(EXIT_NAME)};
#undef EXIT_NAME

static const exit_handler_fn exit_handlers[VMX_EXIT_COUNT] = {
    [VMX_EXIT_EXCEPTION_NMI] = exit_handle_exception_nmi,
    [VMX_EXIT_EXTERNAL_INTERRUPT] = exit_handle_external_interrupt,
    [VMX_EXIT_TRIPLE_FAULT] = exit_handle_triple_fault,
    [VMX_EXIT_INIT] = exit_handle_init,
    [VMX_EXIT_SIPI] = exit_handle_sipi,
    [VMX_EXIT_INTERRUPT_WINDOW] = exit_handle_event_window,
    [VMX_EXIT_NMI_WINDOW] = exit_handle_event_window,
    [VMX_EXIT_CPUID] = exit_handle_cpuid,
    [VMX_EXIT_HLT] = exit_handle_hlt,
    [VMX_EXIT_RDPMC] = exit_handle_rdpmc,
    [VMX_EXIT_INVD] = exit_handle_cache_flush,
    [VMX_EXIT_VMCALL] = exit_handle_vmcall,
    [VMX_EXIT_VMCLEAR] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMLAUNCH] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMPTRLD] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMPTRST] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMREAD] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMRESUME] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMWRITE] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMXOFF] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMXON] = exit_handle_vmx_instruction,
    [VMX_EXIT_INVEPT] = exit_handle_vmx_instruction,
    [VMX_EXIT_INVVPID] = exit_handle_vmx_instruction,
    [VMX_EXIT_VMFUNC] = exit_handle_vmx_instruction,
    [VMX_EXIT_GETSEC] = exit_handle_vmx_instruction,
    [VMX_EXIT_CR_ACCESS] = exit_handle_cr_access,
    [VMX_EXIT_IO_INSTRUCTION] = exit_handle_io,
    [VMX_EXIT_RDMSR] = exit_handle_rdmsr,
    [VMX_EXIT_WRMSR] = exit_handle_wrmsr,
    [VMX_EXIT_ENTRY_FAIL_GUEST_STATE] = exit_handle_entry_failure,
    [VMX_EXIT_ENTRY_FAIL_MSR_LOAD] = exit_handle_entry_failure,
    [VMX_EXIT_ENTRY_FAIL_MACHINE_CHECK] = exit_handle_entry_failure,
    [VMX_EXIT_MWAIT] = exit_handle_monitor_mwait,
    [VMX_EXIT_MONITOR] = exit_handle_monitor_mwait,
    [VMX_EXIT_EPT_VIOLATION] = exit_handle_ept_violation,
    [VMX_EXIT_APIC_ACCESS] = exit_handle_apic_access,
    [VMX_EXIT_APIC_WRITE] = exit_handle_apic_write,
    [VMX_EXIT_TPR_BELOW_THRESHOLD] = exit_handle_tpr_below_threshold,
    [VMX_EXIT_EPT_MISCONFIG] = exit_handle_ept_misconfig,
    [VMX_EXIT_PREEMPTION_TIMER] = exit_handle_preemption_timer,
    [VMX_EXIT_WBINVD] = exit_handle_cache_flush,
    [VMX_EXIT_XSETBV] = exit_handle_xsetbv,
};

const char *exit_reason_name(uint32_t basic)
{
    if (basic < VMX_EXIT_COUNT && exit_names[basic])
        return exit_names[basic];
    return "unknown exit reason";
}

void exit_log_decoded(struct vcpu *v, uint32_t exit_reason)
{
    uint32_t basic = VMX_EXIT_REASON_BASIC(exit_reason);
    log_warn("vm %s: exit %u (%s)%s qualification=0x%llx RIP=0x%llx len=%u info=0x%x",
             v->guest->name, basic, exit_reason_name(basic),
             exit_reason & VMX_EXIT_REASON_ENTRY_FAIL ? " [VM-entry failure]" : "",
             (unsigned long long)vcpu_exit_qualification(v), (unsigned long long)vcpu_rip(v),
             vcpu_instruction_len(v), vmcs_read32(VMCS_EXIT_INSTRUCTION_INFO));
    log_warn("vm %s:   guest-linear=0x%llx guest-physical=0x%llx intr-info=0x%x idt-vectoring=0x%x",
             v->guest->name, (unsigned long long)vmcs_readnat(VMCS_GUEST_LINEAR_ADDRESS),
             (unsigned long long)vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS),
             vmcs_read32(VMCS_EXIT_INTR_INFO), (uint32_t)vcpu_field(v, VCPU_IDT_VECTORING_INFO));
}

static void exit_unhandled(struct vcpu *v, uint32_t exit_reason)
{
    uint32_t basic = VMX_EXIT_REASON_BASIC(exit_reason);
    exit_log_decoded(v, exit_reason);
    guest_end(v->guest, "killed(unhandled exit %s)", exit_reason_name(basic));
}

void exit_dispatch(struct vcpu *v, uint32_t exit_reason)
{
    uint32_t basic = VMX_EXIT_REASON_BASIC(exit_reason);
    v->exits++;
    if (basic < VMX_EXIT_COUNT)
        v->exit_counts[basic]++;
    log_debug("vm %s: exit %s at RIP 0x%llx", v->guest->name, exit_reason_name(basic),
              (unsigned long long)vcpu_rip(v));
    exit_handler_fn handler = basic < VMX_EXIT_COUNT ? exit_handlers[basic] : 0;
    if (handler)
        handler(v);
    else
        exit_unhandled(v, exit_reason);
}
