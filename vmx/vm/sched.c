#include "vmx/vm/sched.h"
#include "vmx/vm/vm_console.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu_debug.h"
#include "vmx/vcpu/vcpu_intr.h"
#include "kernel/boot_phase.h"
#include "kernel/console.h"
#include "kernel/lib/fmt.h"
#include "kernel/fpu.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "mm/layout.h"
#include "vmx/exit/exit.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_ops.h"

#define PREEMPT_TIMER_MAX 0xFFFFFFFFull

/* The scheduler's state on one CPU (this_cpu()->sched). */
struct sched_cpu {
    uint64_t slice_tsc;   /* the time slice, in TSC ticks */
    uint64_t rx_poll_tsc; /* the console input's poll period now, in TSC ticks */
    uint64_t rx_polled;   /* when the console's input was last polled */
    uint64_t rx_poll_idle, rx_poll_busy, rx_busy_tsc, rx_busy_until; /* kernel/console.h */
    bool first_entry_logged; /* the "first VM entry" boot phase is stamped */
};
static struct sched_cpu sched_cpus[MAX_CPUS];

/* hv itself uses no FPU, SSE or AVX register (-mgeneral-regs-only, kernel/fpu.h), so the
   guest's XCR0 stays loaded across the exits of a slice: it is written again only when the
   guest's XSETBV changed it (vmx/exit/exit_xsetbv.c), and hv's superset returns for the XSAVE
   at the slice's end. Returns the XCR0 now loaded; without XSAVE (loaded 0) nothing. */
static uint64_t switch_xcr0(uint64_t loaded, uint64_t want)
{
    if (!loaded || loaded == want)
        return loaded;
    hw_write_xcr0(want);
    return want;
}

/* The timer is armed once per slice: each entry reloads it, so a guest that keeps exiting is
   bounded by the TSC check instead (at most one extra slice). It fires at least every
   CONSOLE_RX_POLL_US, so typed keys are fetched before the UART's FIFO overruns. */
static void arm_preemption_timer(const struct sched_cpu *sc)
{
    uint64_t span = sc->slice_tsc < sc->rx_poll_tsc ? sc->slice_tsc : sc->rx_poll_tsc;
    uint64_t ticks = span >> vmx_config.preemption_timer_shift;
    vmcs_write32(VMCS_PREEMPTION_TIMER_VALUE,
                 (uint32_t)(ticks > PREEMPT_TIMER_MAX ? PREEMPT_TIMER_MAX
                            : ticks                   ? ticks
                                                      : 1));
}

/* Virtual-PC guests: the time in the guest ends at `stop` (the slice's end or the VM's next
   device timer, whichever is first). The timer counts down from every VM entry (SDM vol. 3
   "VMX-Preemption Timer"), so it is armed for what is left before each entry. */
static void arm_preemption_timer_until(uint64_t now, uint64_t stop)
{
    uint64_t ticks = stop > now ? (stop - now) >> vmx_config.preemption_timer_shift : 0;
    vmcs_write32(VMCS_PREEMPTION_TIMER_VALUE,
                 (uint32_t)(ticks > PREEMPT_TIMER_MAX ? PREEMPT_TIMER_MAX
                            : ticks                   ? ticks
                                                      : 1));
}

/* Typed keys into the console's input ring when the poll period passed, faster during a burst
   (kernel/console.h). Only the keys: they are acted on between slices (vmx/vm/vm_console.c). */
static void poll_console_input(struct sched_cpu *sc, uint64_t now)
{
    if (now - sc->rx_polled < sc->rx_poll_tsc)
        return;
    sc->rx_polled = now;
    if (console_poll_input())
        sc->rx_busy_until = now + sc->rx_busy_tsc;
    sc->rx_poll_tsc = now < sc->rx_busy_until ? sc->rx_poll_busy : sc->rx_poll_idle;
}

/* A virtual-PC vCPU in HLT with nothing to deliver stays out of the guest: its device timers
   run, and the slice goes to the other guests (hv polls while every guest waits). */
static bool waits_for_interrupt(struct vcpu *v)
{
    return v->halted && !vcpu_external_interrupt_pending(v);
}

/* VMLAUNCH/VMRESUME itself failed: name the VM-instruction error, dump the VMCS, stop the guest. */
static void entry_instruction_failed(struct vm *vm, int status)
{
    char err[112];
    if (status == VMX_FAIL_VALID)
        vmcs_describe_instruction_error(err, sizeof(err));
    else
        fmt_snprintf(err, sizeof(err), "VMfailInvalid");
    log_error("vm %s: VM entry failed: VM-instruction error %s", vm->cfg.name, err);
    vmcs_dump();
    guest_end(&vm->g, "killed(VM entry failed: VM-instruction error %s)", err);
}

static bool timed_out(struct vm *vm, uint64_t now)
{
    if (vm->timeout_tsc && now - vm->start_tsc >= vm->timeout_tsc) {
        guest_end(&vm->g, "killed(timeout)");
        return true;
    }
    return false;
}

/* One time slice: enter the guest until the slice is used up or the guest ends. The slice is
   measured with the TSC, so a guest that exits often cannot keep the CPU either. */

static void run_slice(void *arg)
{
    struct vm *vm = arg;
    struct vcpu *v = &vm->vcpus[0]; /* the only one that runs until SMP lands */
    struct sched_cpu *sc = this_cpu()->sched;
    struct vdev_timers *timers = vm->platform == VM_PLATFORM_PC ? &vm->dev.timers : 0;
    uint64_t start = hw_rdtsc();
    if (timers)
        vdev_timers_run(timers, start);
    /* A guest whose console ring is full waits for it to drain (vmx/vcpu/guest_console.h). */
    if ((timers && waits_for_interrupt(v)) || guest_console_backlogged(&vm->g)) {
        timed_out(vm, start);
        return;
    }
    if (vmx_ptrld(v->vmcs) != VMX_OK) {
        guest_end(&vm->g, "killed(VMPTRLD failed)");
        return;
    }
    fpu_restore(phys_to_virt(v->fpu_state));
    exit_msr_load_guest_msrs(v);
    vcpu_debug_load(v);
    if (!timers)
        arm_preemption_timer(sc);
    uint64_t host_xcr0 = fpu_host_xcr0(), xcr0 = host_xcr0;
    for (;;) {
        uint64_t now = hw_rdtsc();
        if (timed_out(vm, now) || now - start >= sc->slice_tsc)
            break;
        poll_console_input(sc, now);
        if (timers) {
            vdev_timers_run(timers, now);
            if (waits_for_interrupt(v))
                break;
        }
        vcpu_deliver_events(v);
        if (vm->g.ended)
            break;
        if (!v->launched && !sc->first_entry_logged) {
            sc->first_entry_logged = true;
            boot_phase("first VM entry");
        }
        if (timers) {
            uint64_t next = vdev_timers_next(timers), end = start + sc->slice_tsc;
            uint64_t poll = sc->rx_polled + sc->rx_poll_tsc;
            end = end < poll ? end : poll;
            arm_preemption_timer_until(now, next < end ? next : end);
        }
        vcpu_write_back(v);
        xcr0 = switch_xcr0(xcr0, v->guest_xcr0);
        int status = vmx_enter(&v->regs, v->launched);
        if (status) {
            entry_instruction_failed(vm, status);
            break;
        }
        v->launched = true;
        vcpu_exit_begin(v);
        uint32_t reason = vcpu_exit_reason(v);
        exit_dispatch(v, reason);
        /* A timer exit may be a device deadline or the console's poll: the loop's checks decide
           whether the slice is over. */
        if (vm->g.ended || guest_console_backlogged(&vm->g))
            break;
    }
    vm->tsc_used += hw_rdtsc() - start;
    switch_xcr0(xcr0, host_xcr0);
    exit_msr_save_guest_msrs(v);
    vcpu_debug_save(v);
    fpu_save(phys_to_virt(v->fpu_state));
}

void sched_kick_vcpu(struct vcpu *v)
{
    /* One CPU so far: the vCPU's home CPU is the caller's, which checks for events before
       every entry. */
    (void)v;
}

void sched_run(struct vm *const *vms, unsigned count, const struct sched_config *cfg)
{
    struct sched_cpu *sc = &sched_cpus[cpu_id()];
    this_cpu()->sched = sc;
    sc->slice_tsc = cfg->tsc_hz / 1000000 * cfg->slice_us;
    if (!sc->slice_tsc)
        sc->slice_tsc = 1;
    uint64_t tsc_per_us = cfg->tsc_hz / 1000000 ? cfg->tsc_hz / 1000000 : 1;
    sc->rx_poll_idle = sc->rx_poll_tsc = tsc_per_us * CONSOLE_RX_POLL_US;
    sc->rx_poll_busy = tsc_per_us * CONSOLE_RX_POLL_BUSY_US;
    sc->rx_busy_tsc = tsc_per_us * 1000 * CONSOLE_RX_BUSY_MS;
    uint64_t now = hw_rdtsc();
    for (unsigned i = 0; i < count; i++) {
        vms[i]->start_tsc = now;
        vms[i]->timeout_tsc = vms[i]->cfg.timeout_s * cfg->tsc_hz;
    }
    struct vm_console console;
    vm_console_start(&console, vms, count, cfg->tsc_hz);
    for (unsigned live = count; live;) {
        live = 0;
        for (unsigned i = 0; i < count; i++) {
            struct vm *vm = vms[i];
            if (!vm->created)
                continue;
            if (!vm->g.ended)
                call_on_stack(run_slice, vm, vm->vcpus[0].host_stack_top);
            uint64_t after = hw_rdtsc();
            poll_console_input(sc, after);
            vm_console_poll(&console, after);
            if (vm->g.ended) {
                vm_console_guest_ended(&console, i);
                vm_report(vm);
                vm_destroy(vm);
            } else {
                live++;
            }
        }
    }
}
