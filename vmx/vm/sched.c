#include "vmx/vm/sched.h"
#include "vmx/vm/vm_console.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu_debug.h"
#include "vmx/vcpu/vcpu_intr.h"
#include "vmx/vcpu/vcpu_startup.h"
#include "kernel/boot_phase.h"
#include "kernel/console.h"
#include "kernel/lib/fmt.h"
#include "kernel/fpu.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "mm/layout.h"
#include "vmx/exit/exit.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmcs_setup.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_ops.h"

#define PREEMPT_TIMER_MAX 0xFFFFFFFFull

/* The scheduler's state on one CPU (this_cpu()->sched): its run queue, the vCPUs whose home it
   is (vmx/vm/placement.h: a vCPU never migrates), and its timing. Written by that CPU only,
   except `resched`, which a kicker sets (sched_kick_vcpu). */
struct sched_cpu {
    uint64_t slice_tsc;   /* the time slice, in TSC ticks */
    uint64_t rx_poll_tsc; /* the console input's poll period now, in TSC ticks */
    uint64_t rx_polled;   /* when the console's input was last polled */
    uint64_t rx_poll_idle, rx_poll_busy, rx_busy_tsc, rx_busy_until; /* kernel/console.h */
    struct vcpu *queue[SCHED_QUEUE_MAX];
    unsigned queued;
    struct vcpu *running; /* the vCPU whose slice runs now, or NULL */
    bool resched;         /* another vCPU of the queue has an event: end the slice (atomic) */
    bool entered;         /* a slice of this round entered a guest */
    bool console_cpu;     /* CPU 0: it polls and serves the console */
    bool idle;            /* halted in smp_idle_until: a kick must send the IPI (atomic) */
    unsigned kicks;       /* kicks of this queue's vCPUs so far (atomic) */
};
static struct sched_cpu sched_cpus[MAX_CPUS];

/* What every CPU's loop shares: written by the BSP before it releases the APs (the VM table is
   fixed from then on: every guest was built at boot), then only `vms_live` (atomic) and the
   console service, which `console_lock` serialises (CPU 0 runs it; a CPU that retires a VM
   takes it for the VM's last words, report and teardown). */
static struct {
    struct vm *const *vms;
    unsigned count;
    unsigned vms_live;
    struct sched_config cfg;
    struct spinlock console_lock;
    struct vm_console console;
    bool first_entry_logged; /* the "first VM entry" boot phase is stamped (atomic) */
} sys;

static struct vm *vm_of(struct vcpu *v)
{
    return (struct vm *)((char *)v->guest - __builtin_offsetof(struct vm, g));
}

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
    uint64_t span = sc->slice_tsc;
    if (sc->console_cpu && sc->rx_poll_tsc < span) /* only CPU 0 polls the console */
        span = sc->rx_poll_tsc;
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
    if (!sc->console_cpu || now - sc->rx_polled < sc->rx_poll_tsc)
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
    return v->halted && !vcpu_wakeup_pending(v);
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

/* Its guest ended (on this CPU): the VM's other vCPUs leave guest mode now, wherever they run. */
static void kick_siblings(struct vm *vm, const struct vcpu *v)
{
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        if (&vm->vcpus[i] != v)
            sched_kick_vcpu(&vm->vcpus[i]);
}

/* With the VM's lock held. */
static bool timed_out(struct vm *vm, uint64_t now)
{
    if (vm->timeout_tsc && now - vm->start_tsc >= vm->timeout_tsc) {
        guest_end(&vm->g, "killed(timeout)");
        kick_siblings(vm, 0);
        return true;
    }
    return false;
}

/* What keeps a vCPU out of the guest: before its SIPI (vmx/vcpu/vcpu_startup.h), in HLT with
   nothing to deliver, or with a full console ring (vmx/vcpu/guest_console.h). Called with the
   VM's lock held. */
static inline bool must_wait(struct vm *vm, struct vcpu *v, bool pc)
{
    /* Only a virtual-PC vCPU can wait for a SIPI or an interrupt. */
    return (pc && (!vcpu_runnable(v) || waits_for_interrupt(v))) ||
           guest_console_backlogged(&vm->g);
}

/* The translations this CPU cached for the VM's EPT are stale when the EPT changed since the
   vCPU last entered (vmx/vcpu/guest.h, guest_ept_changed): INVEPT before the entry. */
static void flush_stale_ept(struct vcpu *v)
{
    uint64_t gen = __atomic_load_n(&v->guest->ept_gen, __ATOMIC_ACQUIRE);
    if (v->ept_gen_seen != gen) {
        vmx_invept(INVEPT_SINGLE_CONTEXT, ept_pointer(&v->guest->ept));
        v->ept_gen_seen = gen;
    }
}

/* One entry and its exit. Called and returns with the VM's lock held: it is held around what
   the devices and handlers see, and let go only for the time in the guest (one lock round trip
   per exit). Returns false when the slice must end. in_guest is set before the events are
   examined, so a kicker who posts after that sees it and sends the IPI that makes the entry
   exit again. */
static bool enter_once(struct vm *vm, struct vcpu *v, struct sched_cpu *sc, uint64_t start,
                       uint64_t *xcr0)
{
    struct vdev_timers *timers = vm->platform == VM_PLATFORM_PC ? &vm->dev.timers : 0;
    uint64_t now = hw_rdtsc();
    if (timed_out(vm, now) || now - start >= sc->slice_tsc ||
        __atomic_load_n(&sc->resched, __ATOMIC_ACQUIRE))
        return false;
    poll_console_input(sc, now);
    if (timers)
        vdev_timers_run(timers, now);
    /* An INIT or SIPI posted meanwhile is taken at the next slice's start, before the vCPU's
       FPU, MSR and debug state is loaded (an INIT resets them). */
    if (vcpu_startup_pending(v) || must_wait(vm, v, timers != 0))
        return false;
    __atomic_store_n(&v->in_guest, true, __ATOMIC_SEQ_CST);
    vcpu_deliver_events(v);
    if (vm->g.ended) {
        __atomic_store_n(&v->in_guest, false, __ATOMIC_RELEASE);
        return false;
    }
    spin_unlock(&vm->lock);
    flush_stale_ept(v);
    if (!v->launched && !__atomic_exchange_n(&sys.first_entry_logged, true, __ATOMIC_RELAXED))
        boot_phase("first VM entry");
    if (timers) {
        uint64_t next = vdev_timers_next(timers), end = start + sc->slice_tsc;
        uint64_t poll = sc->rx_polled + sc->rx_poll_tsc;
        if (sc->console_cpu) /* only CPU 0 polls the console (poll_console_input) */
            end = end < poll ? end : poll;
        arm_preemption_timer_until(now, next < end ? next : end);
    }
    vcpu_write_back(v);
    sc->entered = true;
    *xcr0 = switch_xcr0(*xcr0, v->guest_xcr0);
    int status = vmx_enter(&v->regs, v->launched);
    __atomic_store_n(&v->in_guest, false, __ATOMIC_RELEASE);
    spin_lock(&vm->lock);
    if (status) {
        entry_instruction_failed(vm, status);
    } else {
        v->launched = true;
        vcpu_exit_begin(v);
        exit_dispatch(v, vcpu_exit_reason(v));
    }
    if (vm->g.ended) {
        kick_siblings(vm, v);
        return false;
    }
    /* A timer exit may be a device deadline or the console's poll, and the exit may have
       filled the console ring: the next call's checks decide whether the slice is over. */
    return true;
}

/* One time slice of vCPU `arg` on this CPU's guest-run stack: entered until the slice is used
   up, the vCPU waits, another vCPU here has an event, or the guest ends. The slice is measured
   with the TSC, so a guest that exits often cannot keep the CPU either. */
static void run_slice(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = vm_of(v);
    struct sched_cpu *sc = this_cpu()->sched;
    uint64_t start = hw_rdtsc();
    spin_lock(&vm->lock);
    if (vmx_ptrld(v->vmcs) != VMX_OK) {
        guest_end(&vm->g, "killed(VMPTRLD failed)");
        spin_unlock(&vm->lock);
        return;
    }
    if (!v->host_state_cpu_set) { /* built on CPU 0: the host state is its home CPU's */
        vmcs_setup_host();
        v->host_state_cpu_set = true;
    }
    if (vm->platform == VM_PLATFORM_PC)
        vdev_timers_run(&vm->dev.timers, start); /* a halted vCPU may be due an interrupt */
    vcpu_take_startup(v); /* INIT/SIPI another vCPU posted, with the VMCS current */
    if (must_wait(vm, v, vm->platform == VM_PLATFORM_PC)) {
        timed_out(vm, start);
        spin_unlock(&vm->lock);
        return;
    }
    __atomic_store_n(&sc->resched, false, __ATOMIC_RELEASE);
    sc->running = v;
    fpu_restore(phys_to_virt(v->fpu_state));
    exit_msr_load_guest_msrs(v);
    vcpu_debug_load(v);
    if (vm->platform != VM_PLATFORM_PC)
        arm_preemption_timer(sc);
    uint64_t host_xcr0 = fpu_host_xcr0(), xcr0 = host_xcr0;
    while (enter_once(vm, v, sc, start, &xcr0))
        ;
    spin_unlock(&vm->lock);
    sc->running = 0;
    __atomic_add_fetch(&vm->tsc_used, hw_rdtsc() - start, __ATOMIC_RELAXED);
    switch_xcr0(xcr0, host_xcr0);
    exit_msr_save_guest_msrs(v);
    vcpu_debug_save(v);
    fpu_save(phys_to_virt(v->fpu_state));
}

void sched_kick_vcpu(struct vcpu *v)
{
    struct sched_cpu *home = &sched_cpus[v->home_cpu];
    struct vcpu *running = __atomic_load_n(&home->running, __ATOMIC_ACQUIRE);
    __atomic_add_fetch(&home->kicks, 1, __ATOMIC_SEQ_CST); /* the home CPU will not sleep now */
    if (running != v)
        __atomic_store_n(&home->resched, true, __ATOMIC_RELEASE); /* v gets its turn sooner */
    if (v->home_cpu == cpu_id())
        return; /* this CPU looks at v before entering it again */
    if (__atomic_load_n(&home->idle, __ATOMIC_SEQ_CST) ||
        __atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST) ||
        (running && __atomic_load_n(&running->in_guest, __ATOMIC_SEQ_CST)))
        smp_kick(v->home_cpu);
}

/* vCPU v's guest ended: its VMCS, VPID-tagged and EPT-tagged translations leave this CPU
   (SDM vol. 3 §25.11.3: a VMCS is cleared before another CPU may use or free it). The last of
   the VM's vCPUs to retire prints its report and frees it. */
static void retire(struct vcpu *v)
{
    struct vm *vm = vm_of(v);
    vmx_clear(v->vmcs);
    vmx_invvpid(INVVPID_SINGLE_CONTEXT, v->vpid, 0);
    vmx_invept(INVEPT_SINGLE_CONTEXT, ept_pointer(&vm->g.ept));
    v->retired = true;
    if (__atomic_sub_fetch(&vm->vcpus_live, 1, __ATOMIC_ACQ_REL))
        return;
    spin_lock(&sys.console_lock);
    for (unsigned i = 0; i < sys.count; i++)
        if (sys.vms[i] == vm)
            vm_console_guest_ended(&sys.console, i);
    vm_report(vm);
    vm_destroy(vm);
    spin_unlock(&sys.console_lock);
    __atomic_sub_fetch(&sys.vms_live, 1, __ATOMIC_RELEASE);
}

/* CPU 0 also serves the console between slices (vmx/vm/vm_console.h). */
static void serve_console(struct sched_cpu *sc)
{
    if (!sc->console_cpu)
        return;
    uint64_t now = hw_rdtsc();
    poll_console_input(sc, now);
    spin_lock(&sys.console_lock);
    vm_console_poll(&sys.console, now);
    spin_unlock(&sys.console_lock);
}

static void init_cpu(struct sched_cpu *sc, const struct sched_config *cfg)
{
    sc->slice_tsc = cfg->tsc_hz / 1000000 * cfg->slice_us;
    if (!sc->slice_tsc)
        sc->slice_tsc = 1;
    uint64_t tsc_per_us = cfg->tsc_hz / 1000000 ? cfg->tsc_hz / 1000000 : 1;
    sc->rx_poll_idle = sc->rx_poll_tsc = tsc_per_us * CONSOLE_RX_POLL_US;
    sc->rx_poll_busy = tsc_per_us * CONSOLE_RX_POLL_BUSY_US;
    sc->rx_busy_tsc = tsc_per_us * 1000 * CONSOLE_RX_BUSY_MS;
    sc->console_cpu = cpu_id() == 0;
    this_cpu()->sched = sc;
}

/* How long an idle CPU may halt: until the earliest device timer of its virtual-PC vCPUs (a
   halted vCPU's local APIC timer wakes it), at most SCHED_IDLE_MAX_US (guest timeouts are
   checked that often), and on CPU 0 at most the console's poll period. */
#define SCHED_IDLE_MAX_US 10000u
static uint64_t idle_deadline(const struct sched_cpu *sc, uint64_t now)
{
    uint64_t until = now + sys.cfg.tsc_hz / 1000000 * SCHED_IDLE_MAX_US;
    if (sc->console_cpu) {
        uint64_t console =
            now + (sys.console.period_ticks < sc->rx_poll_tsc ? sys.console.period_ticks
                                                              : sc->rx_poll_tsc);
        until = console < until ? console : until;
    }
    for (unsigned i = 0; i < sc->queued; i++) {
        struct vm *vm = vm_of(sc->queue[i]);
        if (sc->queue[i]->retired || vm->platform != VM_PLATFORM_PC)
            continue;
        spin_lock(&vm->lock);
        uint64_t next = vdev_timers_next(&vm->dev.timers);
        spin_unlock(&vm->lock);
        until = next < until ? next : until;
    }
    return until;
}

/* A round in which no vCPU of this CPU entered its guest (all wait, or none is left): halt
   until a kick or the next deadline instead of spinning (under Bochs a spinning CPU takes the
   emulator's time from the busy ones). `kicks` was read before the round: a kick since then
   means there is something to look at. */
static void idle(struct sched_cpu *sc, unsigned kicks_before)
{
    uint64_t now = hw_rdtsc(), until = idle_deadline(sc, now);
    if (until <= now)
        return;
    __atomic_store_n(&sc->idle, true, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&sc->kicks, __ATOMIC_SEQ_CST) == kicks_before &&
        __atomic_load_n(&sys.vms_live, __ATOMIC_ACQUIRE))
        smp_idle_until(until);
    __atomic_store_n(&sc->idle, false, __ATOMIC_SEQ_CST);
}

/* Every CPU's loop: round-robin over its own run queue until no VM is left anywhere. */
static void cpu_loop(void)
{
    struct sched_cpu *sc = &sched_cpus[cpu_id()];
    init_cpu(sc, &sys.cfg);
    while (__atomic_load_n(&sys.vms_live, __ATOMIC_ACQUIRE)) {
        unsigned kicks = __atomic_load_n(&sc->kicks, __ATOMIC_SEQ_CST);
        sc->entered = false;
        for (unsigned i = 0; i < sc->queued; i++) {
            struct vcpu *v = sc->queue[i];
            if (v->retired)
                continue;
            if (!vm_of(v)->g.ended)
                call_on_stack(run_slice, v, this_cpu()->run_stack_top);
            if (vm_of(v)->g.ended)
                retire(v);
            serve_console(sc);
        }
        serve_console(sc);
        if (!sc->entered)
            idle(sc, kicks);
    }
}

int sched_enqueue(struct vcpu *v)
{
    struct sched_cpu *sc = &sched_cpus[v->home_cpu];
    if (sc->queued == SCHED_QUEUE_MAX)
        return -1;
    sc->queue[sc->queued++] = v;
    return 0;
}

void sched_run(struct vm *const *vms, unsigned count, const struct sched_config *cfg)
{
    uint64_t now = hw_rdtsc();
    sys.vms = vms;
    sys.count = count;
    sys.cfg = *cfg;
    for (unsigned i = 0; i < count; i++) {
        vms[i]->start_tsc = now;
        vms[i]->timeout_tsc = vms[i]->cfg.timeout_s * cfg->tsc_hz;
        vms[i]->vcpus_live = vms[i]->vcpu_count;
    }
    vm_console_start(&sys.console, vms, count, cfg->tsc_hz);
    __atomic_store_n(&sys.vms_live, count, __ATOMIC_RELEASE);
    smp_release_aps(cpu_loop);
    cpu_loop();
    smp_wait_aps_done();
    for (unsigned i = 0; i < MAX_CPUS; i++)
        sched_cpus[i].queued = 0; /* debug.lifecycle runs the scheduler again */
}
