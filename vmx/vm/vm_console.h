/*
 * hv's console service (issues 13 and 16): run by the scheduler between time slices. It
 * hands hv's queued output to the UART, drains the guests' console rings into it fairly, reads
 * what is typed on the console and gives it to the guest with the focus (into its virtual
 * 16550's receive FIFO) or, while hv has the focus, to the debug keys (vmx/vm/console_keys.h).
 * It runs on the scheduling CPU only; every VM it touches is between slices then.
 */
#pragma once
#include <stdint.h>
#include "kernel/console.h"
#include "vmx/vm/console_keys.h"
#include "vmx/vm/vm.h"

#define VM_CONSOLE_FOCUS_HV (-1)
/* How often the service runs: while output or typed keys wait, every VM_CONSOLE_PERIOD_US (the
   UART's 16-byte transmit FIFO takes 1.1 ms to send, so this keeps it busy); otherwise every
   VM_CONSOLE_IDLE_PERIOD_US, or as soon as typed keys arrived (the scheduler polls the UART's
   receive side itself, kernel/console.h), so an idle console costs a guest switch nothing. */
#define VM_CONSOLE_PERIOD_US      100
#define VM_CONSOLE_IDLE_PERIOD_US 5000

struct vm_console {
    struct vm *const *vms;
    unsigned count;
    unsigned next_drain; /* the guest whose ring is drained first next time (round-robin) */
    int focus;           /* index into vms, or VM_CONSOLE_FOCUS_HV */
    struct focus_keys keys;
    struct debug_keys debug;
    uint64_t tsc_hz, partial_ticks;
    uint64_t busy_ticks, idle_ticks; /* the two periods in TSC ticks */
    uint64_t period_ticks, last_tsc; /* the period now; the last round */
    uint64_t input_losses_reported;  /* typed bytes lost (kernel/console.h), as last logged */
    bool input_queued;               /* a VM's input queue may hold keys for its 16550 */
};

/* Picks the first focus (the first guest with console=focus, else the first guest). */
void vm_console_start(struct vm_console *c, struct vm *const *vms, unsigned count, uint64_t tsc_hz);
/* One round: UART output, guest output, typed input. */
void vm_console_service(struct vm_console *c);
/* A round when VM_CONSOLE_PERIOD_US passed since the last one (the scheduler calls it between
   slices). */
static inline void vm_console_poll(struct vm_console *c, uint64_t now)
{
    if (now - c->last_tsc >= c->period_ticks || console_input_waiting()) {
        c->last_tsc = now;
        vm_console_service(c);
    }
}
/* vms[index] ended (before it is destroyed): its output is printed, the focus moves on. */
void vm_console_guest_ended(struct vm_console *c, unsigned index);
