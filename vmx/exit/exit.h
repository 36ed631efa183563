/* VM-exit dispatch: a const table indexed by basic exit reason (vmx/exit/exit.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "vmx/vcpu/vcpu.h"

typedef void (*exit_handler_fn)(struct vcpu *v);

const char *exit_reason_name(uint32_t basic_reason);
/* Handles one exit; the handler advances RIP, injects an event, or ends the VM. */
void exit_dispatch(struct vcpu *v, uint32_t exit_reason);
/* Logs the decoded exit (name, qualification, RIP, instruction length/info, GLA, GPA). */
void exit_log_decoded(struct vcpu *v, uint32_t exit_reason);

/* Handlers, one per exit (files vmx/exit_*.c). */
void exit_handle_exception_nmi(struct vcpu *v);
void exit_handle_external_interrupt(struct vcpu *v);
void exit_handle_triple_fault(struct vcpu *v);
void exit_handle_init(struct vcpu *v);
void exit_handle_sipi(struct vcpu *v);
void exit_handle_event_window(struct vcpu *v);
void exit_handle_cpuid(struct vcpu *v);
void exit_handle_hlt(struct vcpu *v);
void exit_handle_cache_flush(struct vcpu *v);
void exit_handle_vmcall(struct vcpu *v);
void exit_handle_vmx_instruction(struct vcpu *v);
void exit_handle_cr_access(struct vcpu *v);
void exit_handle_io(struct vcpu *v);
void exit_handle_rdmsr(struct vcpu *v);
void exit_handle_wrmsr(struct vcpu *v);
/* The vCPU's virtual MSRs at its start (vmx/exit/exit_msr.c): call when it is created. */
void exit_msr_reset_vcpu(struct vcpu *v);
/* The SYSCALL/SWAPGS/RDTSCP MSRs hold the running vCPU's values (vmx/exit/exit_msr.c): load
   them when switching to the vCPU, save what SWAPGS may have changed when switching away. */
void exit_msr_load_guest_msrs(const struct vcpu *v);
void exit_msr_save_guest_msrs(struct vcpu *v);
void exit_handle_entry_failure(struct vcpu *v);
void exit_handle_monitor_mwait(struct vcpu *v);
void exit_handle_ept_violation(struct vcpu *v);
void exit_handle_apic_access(struct vcpu *v);
void exit_handle_apic_write(struct vcpu *v);
void exit_handle_tpr_below_threshold(struct vcpu *v);
void exit_handle_ept_misconfig(struct vcpu *v);
void exit_handle_preemption_timer(struct vcpu *v);
void exit_handle_xsetbv(struct vcpu *v);
void exit_handle_rdpmc(struct vcpu *v);

/* An EPT violation at a device's MMIO range: emulates the access and returns true; false when
   no device claims gpa (vmx/exit/exit_mmio.c). */
bool exit_mmio_emulate(struct vcpu *v, uint64_t gpa);
