/* hv's console service: output, fairness, focus, input, debug keys (vmx/vm/vm_console.h). */
#include "vmx/vm/vm_console.h"
#include "vmx/vm/sched.h"
#include "kernel/percpu.h"
#include "kernel/console.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "kernel/log.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx_arch.h"
#include "vmx/cpu/vmx_ops.h"
#include "vmx/exit/exit.h"

#define MS_PER_S 1000
#define US_PER_S 1000000

static struct vm *live_vm(const struct vm_console *c, int index)
{
    if (index < 0 || (unsigned)index >= c->count)
        return 0;
    struct vm *vm = c->vms[index];
    return vm->created && !vm->g.ended ? vm : 0;
}

static void set_focus(struct vm_console *c, int index)
{
    struct vm *old = live_vm(c, c->focus), *vm = live_vm(c, index);
    if (old)
        old->g.console.focused = false;
    c->focus = vm ? index : VM_CONSOLE_FOCUS_HV;
    c->keys.ctrl_a = 0;
    c->debug.pending = 0;
    if (vm) {
        vm->g.console.focused = true;
        log_contract("hv: console focus %s", vm->cfg.name);
    } else {
        log_contract("hv: console focus hv");
    }
}

/* The next live guest after `from` (in module order), or hv after the last. */
static int next_focus(const struct vm_console *c, int from)
{
    for (int i = from + 1; (unsigned)i < c->count; i++)
        if (live_vm(c, i))
            return i;
    return VM_CONSOLE_FOCUS_HV;
}

void vm_console_start(struct vm_console *c, struct vm *const *vms, unsigned count, uint64_t tsc_hz)
{
    *c = (struct vm_console){.vms = vms, .count = count, .focus = VM_CONSOLE_FOCUS_HV};
    c->tsc_hz = tsc_hz;
    c->partial_ticks = tsc_hz / MS_PER_S * GUEST_CONSOLE_PARTIAL_MS;
    c->busy_ticks = c->period_ticks = tsc_hz / US_PER_S * VM_CONSOLE_PERIOD_US;
    c->idle_ticks = tsc_hz / US_PER_S * VM_CONSOLE_IDLE_PERIOD_US;
    int first = next_focus(c, -1);
    for (int i = 0; (unsigned)i < count; i++)
        if (live_vm(c, i) && vms[i]->cfg.console_focus) {
            first = i;
            break;
        }
    if (first != VM_CONSOLE_FOCUS_HV)
        set_focus(c, first);
}

void vm_console_guest_ended(struct vm_console *c, unsigned index)
{
    struct vm *vm = c->vms[index];
    guest_console_flush(&vm->g);
    vm->g.console.focused = false;
    if (c->focus != (int)index)
        return;
    int next = next_focus(c, (int)index);
    if (next == VM_CONSOLE_FOCUS_HV)
        for (int i = 0; i < (int)index && next == VM_CONSOLE_FOCUS_HV; i++)
            if (live_vm(c, i))
                next = i;
    if (next == VM_CONSOLE_FOCUS_HV) { /* no guest is left to talk to */
        c->focus = VM_CONSOLE_FOCUS_HV;
        return;
    }
    set_focus(c, next);
}

/* ---- guest output: one line per guest per turn, round-robin, while hv's console has room */

/* Whether a guest has output queued, or the focused one a partial line that may have to be
   shown (an unfocused guest's partial line waits for its newline). */
static bool output_waits(const struct vm_console *c)
{
    for (unsigned i = 0; i < c->count; i++) {
        const struct vm *vm = c->vms[i];
        const struct guest_console *gc = &vm->g.console;
        if (vm->created && (byte_ring_count(&gc->out) || (gc->focused && gc->len > gc->shown)))
            return true;
    }
    return false;
}

static void drain_guests(struct vm_console *c, uint64_t now)
{
    if (!output_waits(c))
        return;
    for (bool more = true; more && console_guest_room();) {
        more = false;
        for (unsigned n = 0; n < c->count; n++) {
            unsigned i = (c->next_drain + n) % c->count;
            struct vm *vm = live_vm(c, (int)i);
            if (vm && guest_console_drain(&vm->g, now, c->partial_ticks))
                more = true;
        }
        c->next_drain = c->count ? (c->next_drain + 1) % c->count : 0;
    }
}

/* ---- input to the focused guest ---- */

static void deliver_input(struct vm *vm)
{
    struct vm_console_input *in = &vm->console_in;
    uint8_t byte;
    if (vm->platform != VM_PLATFORM_PC) {
        if (byte_ring_count(&in->ring) && !in->no_receiver_warned) {
            in->no_receiver_warned = true;
            log_warn("console: guest %s's COM1 receives nothing (hv-ABI guest): typed keys are "
                     "dropped",
                     vm->cfg.name);
        }
        byte_ring_clear(&in->ring);
        return;
    }
    /* A byte leaves the queue only when the UART takes it: not while its FIFO is full (no
       overrun from hv's side) nor in loopback mode (Linux's probe), when input is cut off. The
       VM's vCPUs may be running on other CPUs: its lock keeps the device state one. */
    spin_lock(&vm->lock);
    for (int next; !vuart_rx_full(&vm->dev.pc.com1) && (next = byte_ring_peek(&in->ring)) >= 0;) {
        if (vuart_receive(&vm->dev.pc.com1, (uint8_t)next))
            break;
        byte_ring_get(&in->ring, &byte);
    }
    spin_unlock(&vm->lock);
}

static void type_to_guest(struct vm *vm, const uint8_t *bytes, unsigned n)
{
    size_t taken = byte_ring_put(&vm->console_in.ring, bytes, n);
    if (taken < n && !vm->console_in.dropped)
        log_warn("console: guest %s does not read its COM1: typed keys are dropped", vm->cfg.name);
    vm->console_in.dropped += n - taken;
}

/* ---- debug keys ---- */

static const char *guest_mode_name(uint64_t cr0, uint64_t efer, uint64_t rflags, uint32_t cs_ar)
{
    if (!(cr0 & CR0_PE))
        return "real";
    if (rflags & RFLAGS_VM)
        return "virtual-8086";
    if (efer & EFER_LMA)
        return cs_ar & SEG_AR_L ? "64-bit" : "compatibility";
    return "protected";
}

static const char *guest_state_name(struct vm *vm)
{
    if (guest_console_backlogged(&vm->g))
        return "waiting for its console";
    return vm->vcpus[0].halted ? "halted" : "running";
}

/* A VMCS is read only on the CPU where it is active (SDM vol. 3 §25.11.1): the vCPUs of other
   CPUs show what hv keeps outside it. */
static bool vmcs_readable_here(struct vm *vm, struct vcpu *v)
{
    if (v->home_cpu == cpu_id())
        return true;
    log_info("hv:   %s vcpu%u: runs on CPU %u (its VMCS is read there only), exits %llu",
             vm->cfg.name, v->id, v->home_cpu, (unsigned long long)v->exits);
    return false;
}

static void show_vcpu(struct vm *vm, struct vcpu *v)
{
    if (!vmcs_readable_here(vm, v))
        return;
    if (vmx_ptrld(v->vmcs) != VMX_OK) {
        log_info("hv:   %s vcpu%u: VMPTRLD failed", vm->cfg.name, v->id);
        return;
    }
    uint32_t ss_ar = vmcs_read32(VMCS_GUEST_SS_AR), cs_ar = vmcs_read32(VMCS_GUEST_CS_AR);
    log_info("hv:   %s vcpu%u: rip 0x%llx cpl %u %s mode, exits %llu", vm->cfg.name, v->id,
             (unsigned long long)vmcs_readnat(VMCS_GUEST_RIP), (ss_ar >> SEG_AR_DPL_SHIFT) & 3u,
             guest_mode_name(vmcs_readnat(VMCS_GUEST_CR0), vmcs_read64(VMCS_GUEST_EFER),
                             vmcs_readnat(VMCS_GUEST_RFLAGS), cs_ar),
             (unsigned long long)v->exits);
}

static void key_guests(struct vm_console *c)
{
    uint64_t now = hw_rdtsc();
    for (unsigned i = 0; i < c->count; i++) {
        struct vm *vm = live_vm(c, (int)i);
        if (!vm)
            continue;
        uint64_t age = now - vm->start_tsc;
        log_info("hv: guest %u %s: %s, %u vCPU(s), time used %llu of %llu TSC ticks (%llu%%)%s", i,
                 vm->cfg.name, guest_state_name(vm), vm->vcpu_count,
                 (unsigned long long)vm->tsc_used, (unsigned long long)age,
                 (unsigned long long)(age ? vm->tsc_used * 100 / age : 0),
                 c->focus == (int)i ? ", console focus" : "");
        for (unsigned n = 0; n < vm->vcpu_count; n++)
            show_vcpu(vm, &vm->vcpus[n]);
    }
}

static void key_exits(struct vm_console *c)
{
    log_info("hv: exits by reason, live guests:");
    for (unsigned r = 0; r < VMX_EXIT_COUNT; r++)
        for (unsigned i = 0; i < c->count; i++) {
            struct vm *vm = live_vm(c, (int)i);
            uint64_t n = 0;
            for (unsigned k = 0; vm && k < vm->vcpu_count; k++)
                n += vm->vcpus[k].exit_counts[r];
            if (n)
                log_info("hv:   %-28s %s %llu", exit_reason_name(r), vm->cfg.name,
                         (unsigned long long)n);
        }
}

static void key_memory(struct vm_console *c)
{
    uint64_t free = frame_free_count();
    log_info("hv: memory: %llu free frames (%llu MiB)", (unsigned long long)free,
             (unsigned long long)(free * FRAME_SIZE >> 20));
    for (unsigned i = 0; i < c->count; i++) {
        struct vm *vm = live_vm(c, (int)i);
        if (vm)
            log_info("hv:   %s: RAM %llu frames (%llu MiB), EPT %llu table frames", vm->cfg.name,
                     (unsigned long long)(vm->g.mem.size / FRAME_SIZE),
                     (unsigned long long)(vm->g.mem.size >> 20),
                     (unsigned long long)vm->g.ept.table_pages);
    }
}

static void key_time(const struct vm_console *c)
{
    uint64_t tsc = hw_rdtsc(), ms = c->tsc_hz ? tsc / (c->tsc_hz / MS_PER_S) : 0;
    log_info("hv: TSC %llu, uptime %llu.%03llu s (TSC %llu kHz)", (unsigned long long)tsc,
             (unsigned long long)(ms / MS_PER_S), (unsigned long long)(ms % MS_PER_S),
             (unsigned long long)(c->tsc_hz / MS_PER_S));
}

static void key_help(void)
{
    log_info("hv: debug keys (hv has the console; Ctrl-A Ctrl-A Ctrl-A moves the focus on):");
    for (unsigned i = 0; i < debug_key_count; i++)
        log_info("hv:   %c%s %s", debug_key_table[i].key, debug_key_table[i].takes_guest ? "" : ":",
                 debug_key_table[i].help);
}

static void debug_key(struct vm_console *c, uint8_t byte)
{
    struct debug_key_cmd cmd = debug_keys_feed(&c->debug, byte);
    struct vm *vm = live_vm(c, (int)cmd.guest);
    switch (cmd.action) {
    case DEBUG_KEY_NONE:
        return;
    case DEBUG_KEY_HELP:
        return key_help();
    case DEBUG_KEY_GUESTS:
        return key_guests(c);
    case DEBUG_KEY_EXITS:
        return key_exits(c);
    case DEBUG_KEY_MEMORY:
        return key_memory(c);
    case DEBUG_KEY_TIME:
        return key_time(c);
    case DEBUG_KEY_ASK_GUEST:
        log_info("hv: %c: which guest? type its number (g lists them)", cmd.key);
        return;
    case DEBUG_KEY_CANCELLED:
        log_info("hv: %c: cancelled", cmd.key);
        return;
    case DEBUG_KEY_UNKNOWN:
        log_info("hv: key 0x%02x is not a debug key (h lists them)", cmd.key);
        return;
    case DEBUG_KEY_VMCS:
    case DEBUG_KEY_KILL:
        break;
    }
    if (!vm) {
        log_info("hv: %c: no live guest %u", cmd.key, cmd.guest);
    } else if (cmd.action == DEBUG_KEY_KILL) {
        log_info("hv: k: ending guest %s", vm->cfg.name);
        spin_lock(&vm->lock);
        guest_end(&vm->g, "killed(console)");
        spin_unlock(&vm->lock);
        for (unsigned i = 0; i < vm->vcpu_count; i++)
            sched_kick_vcpu(&vm->vcpus[i]);
    } else if (vmcs_readable_here(vm, &vm->vcpus[0]) && vmx_ptrld(vm->vcpus[0].vmcs) == VMX_OK) {
        log_info("hv: v: guest %s vcpu0's VMCS:", vm->cfg.name);
        vmcs_dump();
    }
}

static void typed(struct vm_console *c, uint8_t byte)
{
    uint8_t out[CONSOLE_FOCUS_PRESSES];
    unsigned n;
    if (focus_keys_feed(&c->keys, byte, out, &n)) {
        set_focus(c, next_focus(c, c->focus));
        return;
    }
    struct vm *vm = live_vm(c, c->focus);
    for (unsigned i = 0; !vm && i < n; i++)
        debug_key(c, out[i]);
    if (vm)
        type_to_guest(vm, out, n);
}

/* Lost keys are said, not hidden: once each time the count grows. */
static void report_input_losses(struct vm_console *c)
{
    uint64_t dropped, overruns;
    if (!console_input_lost())
        return;
    console_input_losses(&dropped, &overruns);
    if (dropped + overruns == c->input_losses_reported)
        return;
    c->input_losses_reported = dropped + overruns;
    log_warn("console: typed keys lost: %llu to a full input buffer, %llu UART overruns",
             (unsigned long long)dropped, (unsigned long long)overruns);
}

void vm_console_service(struct vm_console *c)
{
    console_pump();
    if (console_input_waiting()) {
        for (int byte; (byte = console_getc()) >= 0;)
            typed(c, (uint8_t)byte);
        c->input_queued = true;
    }
    report_input_losses(c);
    if (c->input_queued) { /* keys typed before a switch still arrive */
        c->input_queued = false;
        for (unsigned i = 0; i < c->count; i++) {
            struct vm *vm = live_vm(c, (int)i);
            if (vm && byte_ring_count(&vm->console_in.ring)) {
                deliver_input(vm);
                c->input_queued |= byte_ring_count(&vm->console_in.ring) != 0;
            }
        }
    }
    drain_guests(c, hw_rdtsc());
    console_pump();
    bool busy = console_output_queued() || c->input_queued || output_waits(c);
    c->period_ticks = busy ? c->busy_ticks : c->idle_ticks;
}
