/*
 * hv's console service (issues 13 and 16): run by the scheduler between time slices. It
 * hands hv's queued output to the UART, drains the guests' console rings into it fairly, reads
 * what is typed on the console and gives it to the guest with the focus (into its virtual
 * 16550's receive FIFO) or, while hv has the focus, to the debug keys (vmx/vm/console_keys.h).
 * It runs on the scheduling CPU only; every VM it touches is between slices then.
 */
#pragma once
#include <stdint.h>
#include "vmx/vm/console_keys.h"
#include "vmx/vm/vm.h"

#define VM_CONSOLE_FOCUS_HV (-1)
/* How often the service runs: the UART's 16-byte FIFOs take 1.4 ms at 115200 baud to send or
   to fill, so a tenth of a millisecond keeps both flowing and costs guest switches nothing. */
#define VM_CONSOLE_PERIOD_US 100

struct vm_console {
    struct vm *const *vms;
    unsigned count;
    unsigned next_drain; /* the guest whose ring is drained first next time (round-robin) */
    int focus;           /* index into vms, or VM_CONSOLE_FOCUS_HV */
    struct focus_keys keys;
    struct debug_keys debug;
    uint64_t tsc_hz, partial_ticks;
    uint64_t period_ticks, last_tsc; /* VM_CONSOLE_PERIOD_US in TSC ticks; the last round */
    uint64_t input_losses_reported;  /* typed bytes lost (kernel/console.h), as last logged */
};

/* Picks the first focus (the first guest with console=focus, else the first guest). */
void vm_console_start(struct vm_console *c, struct vm *const *vms, unsigned count, uint64_t tsc_hz);
/* One round: UART output, guest output, typed input. */
void vm_console_service(struct vm_console *c);
/* A round when VM_CONSOLE_PERIOD_US passed since the last one (the scheduler calls it between
   slices). */
static inline void vm_console_poll(struct vm_console *c, uint64_t now)
{
    if (now - c->last_tsc >= c->period_ticks) {
        c->last_tsc = now;
        vm_console_service(c);
    }
}
/* vms[index] ended (before it is destroyed): its output is printed, the focus moves on. */
void vm_console_guest_ended(struct vm_console *c, unsigned index);
