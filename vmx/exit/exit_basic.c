/* Handlers for the exits that need little decoding: events, HLT, cache flushes, VMX
   instructions, entry failures, EPT faults and the preemption timer. */
#include "kernel/lapic.h"
#include "kernel/lib/hw.h"
#include "kernel/smp.h"
#include "kernel/log.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"

/* EPT-violation exit qualification (SDM vol. 3 §29.2.1, Table 29-7) */
#define EPT_QUAL_READ       (1ull << 0)
#define EPT_QUAL_WRITE      (1ull << 1)
#define EPT_QUAL_FETCH      (1ull << 2)
#define EPT_QUAL_PERM_SHIFT 3 /* bits 5:3: the page's R/W/X permissions */
#define EPT_QUAL_GLA_VALID  (1ull << 7)

void exit_handle_exception_nmi(struct vcpu *v)
{
    uint32_t info = vmcs_read32(VMCS_EXIT_INTR_INFO);
    unsigned vector = info & INTR_INFO_VECTOR_MASK;
    unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    if (type == INTR_TYPE_NMI) {
        /* A host NMI arrived while the guest ran: another CPU stopping the machine
           (kernel/smp.h), or none of hv's business. */
        if (smp_stopping())
            hw_halt_forever();
        log_warn("vm %s: host NMI during guest execution", v->guest->name);
        return;
    }
    if (vector == EXC_MC) {
        guest_end(v->guest, "killed(machine check)");
        return;
    }
    exit_log_decoded(v, VMX_EXIT_EXCEPTION_NMI);
    guest_end(v->guest, "killed(unexpected exception %u)", vector);
}

void exit_handle_external_interrupt(struct vcpu *v)
{
    /* "Acknowledge interrupt on exit" is on (vmx/cpu/vmx_caps.c): the vector is in the exit
       information and the local APIC's ISR holds it until hv's EOI (SDM vol. 3 §28.2.2). The
       only interrupts hv's CPUs take are its own kicks (kernel/smp.h): whatever the kicker
       posted is looked at by the scheduler before the next entry. Anything else is unexpected
       (hv masks the PIC and programs no interrupt source): said once per guest. */
    uint32_t info = vmcs_read32(VMCS_EXIT_INTR_INFO);
    if (!(info & INTR_INFO_VALID))
        return;
    lapic_eoi();
    unsigned vector = info & INTR_INFO_VECTOR_MASK;
    if (vector == SMP_KICK_VECTOR || vector == SMP_TIMER_VECTOR) /* a late idle wake-up */
        return;
    if (!v->guest->ext_int_warned)
        log_warn("vm %s: external interrupt exit (info 0x%x) ignored", v->guest->name, info);
    v->guest->ext_int_warned = true;
}

void exit_handle_triple_fault(struct vcpu *v)
{
    /* On a PC a triple fault is a shutdown that the chipset turns into a reset (Linux's last
       reboot method): a virtual-PC guest ends `reset`; an hv-ABI guest `triple-fault`. */
    guest_end(v->guest, v->lapic ? "reset" : "triple-fault");
}

/* A real INIT signal reached this CPU in VMX non-root operation (SDM vol. 3 "INIT Signals": it
   causes a VM exit instead of resetting the CPU). hv never sends INIT to a CPU while it runs a
   guest, and a guest's INIT IPIs are virtual (vmx/vcpu/vcpu_startup.h), so this is a stray
   signal from outside: said, and otherwise ignored; the guest goes on. */
void exit_handle_init(struct vcpu *v)
{
    log_warn("vm %s: stray INIT signal to this CPU in guest mode ignored (hv sends none; guest "
             "INIT IPIs are virtual)",
             v->guest->name);
}

/* A real SIPI exits only in the wait-for-SIPI activity state (SDM vol. 3 "Start-up IPIs"), which
   hv never enters: unexpected, said, ignored. */
void exit_handle_sipi(struct vcpu *v)
{
    log_warn("vm %s: stray SIPI (vector 0x%llx) to this CPU in guest mode ignored (hv never "
             "uses wait-for-SIPI; guest SIPIs are virtual)",
             v->guest->name, (unsigned long long)vcpu_exit_qualification(v));
}

void exit_handle_event_window(struct vcpu *v)
{
    /* The window is open: vcpu_deliver_events injects the pending event at this entry and
       turns window exiting off once the queue is empty. */
    vcpu_set_window_exiting(v, PROC_INT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING, false);
}

/* Every vCPU in HLT with IF = 0 or waiting for its SIPI: nothing inside the guest can wake one. */
static bool all_vcpus_stopped(const struct guest *g)
{
    for (unsigned i = 0; i < g->vcpu_count; i++)
        if (!g->vcpus[i].wait_for_sipi && !g->vcpus[i].halted_irq_off)
            return false;
    return true;
}

void exit_handle_hlt(struct vcpu *v)
{
    /* A virtual-PC guest with interrupts enabled waits for its next interrupt (the scheduler
       does not enter it until one is pending). An hv-ABI guest has no interrupt sources, and
       nothing can wake a guest with IF = 0: HLT ends it, unless an event is queued for it. */
    vcpu_skip_instruction(v);
    if (v->event_count)
        return;
    if (v->lapic && (vcpu_rflags(v) & RFLAGS_IF)) {
        v->halted = true;
        return;
    }
    /* With IF = 0 only an NMI or INIT resumes it, which another vCPU can still send (an OS
       parks its stopped CPUs so): the guest has ended only once none of its vCPUs can run. */
    if (v->lapic && v->guest->vcpu_count > 1) {
        v->halted = v->halted_irq_off = true;
        if (!all_vcpus_stopped(v->guest))
            return;
    }
    guest_end(v->guest, "halted");
}

void exit_handle_cache_flush(struct vcpu *v)
{
    /* INVD would drop dirty lines hv owns too: both INVD and WBINVD become WBINVD-free no-ops,
       which is safe because guest memory is write-back and coherent. */
    vcpu_skip_instruction(v);
}

void exit_handle_vmx_instruction(struct vcpu *v)
{
    /* hv offers no nested VMX: the guest sees VMX instructions as invalid opcodes. */
    vcpu_inject_ud(v);
}

void exit_handle_rdpmc(struct vcpu *v)
{
    /* CPUID leaf 0xA reports no performance counters, so every counter number is invalid: #GP,
       and the host's counters stay out of reach. */
    vcpu_inject_gp0(v);
}

void exit_handle_monitor_mwait(struct vcpu *v)
{
    /* CPUID hides MONITOR/MWAIT; executing them anyway is #UD, as on a CPU without them. */
    vcpu_inject_ud(v);
}

void exit_handle_entry_failure(struct vcpu *v)
{
    uint32_t basic = VMX_EXIT_REASON_BASIC(vcpu_exit_reason(v));
    uint64_t qual = vcpu_exit_qualification(v);
    log_error("vm %s: VM entry failed: %s, qualification %llu", v->guest->name,
              exit_reason_name(basic), (unsigned long long)qual);
    vmcs_dump();
    guest_end(v->guest, "killed(%s, qualification %llu)", exit_reason_name(basic),
              (unsigned long long)qual);
}

static void access_string(uint64_t qual, char *buf)
{
    char *p = buf;
    if (qual & EPT_QUAL_READ)
        *p++ = 'R';
    if (qual & EPT_QUAL_WRITE)
        *p++ = 'W';
    if (qual & EPT_QUAL_FETCH)
        *p++ = 'X';
    *p = '\0';
}

void exit_handle_ept_violation(struct vcpu *v)
{
    uint64_t qual = vcpu_exit_qualification(v);
    uint64_t gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
    if (exit_mmio_emulate(v, gpa))
        return;
    char access[4];
    access_string(qual, access);
    unsigned perms = (qual >> EPT_QUAL_PERM_SHIFT) & EPT_RWX;
    if (qual & EPT_QUAL_GLA_VALID)
        log_warn(
            "vm %s: EPT violation: %s at GPA 0x%llx (GVA 0x%llx), page perms %c%c%c, RIP 0x%llx",
            v->guest->name, access, (unsigned long long)gpa,
            (unsigned long long)vmcs_readnat(VMCS_GUEST_LINEAR_ADDRESS),
            perms & EPT_READ ? 'r' : '-', perms & EPT_WRITE ? 'w' : '-',
            perms & EPT_EXEC ? 'x' : '-', (unsigned long long)vcpu_rip(v));
    else
        log_warn("vm %s: EPT violation: %s at GPA 0x%llx, page perms %c%c%c, RIP 0x%llx",
                 v->guest->name, access, (unsigned long long)gpa, perms & EPT_READ ? 'r' : '-',
                 perms & EPT_WRITE ? 'w' : '-', perms & EPT_EXEC ? 'x' : '-',
                 (unsigned long long)vcpu_rip(v));
    guest_end(v->guest, "killed(EPT violation at GPA 0x%llx %s)", (unsigned long long)gpa, access);
}

void exit_handle_ept_misconfig(struct vcpu *v)
{
    uint64_t gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
    log_error("vm %s: EPT misconfiguration at GPA 0x%llx", v->guest->name, (unsigned long long)gpa);
    ept_dump_walk(&v->guest->ept, gpa);
    guest_end(v->guest, "killed(EPT misconfiguration at GPA 0x%llx)", (unsigned long long)gpa);
}

void exit_handle_preemption_timer(struct vcpu *v)
{
    /* The slice is over: the scheduler (vmx/vm/sched.c) sees the reason and switches guests. */
    (void)v;
}
