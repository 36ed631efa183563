/*
 * A guest's console output (issue 16 item 7). The bytes a guest writes (its COM1 THR, console
 * hypercalls) go into a bounded ring of its own and nowhere else during the exit. hv's console
 * service (vmx/vm/vm_console.c) drains the rings round-robin, one line per guest per turn, into
 * hv's console while that has room for them (kernel/console.h), so a guest that floods the
 * console fills only its own ring. A vCPU whose ring could not take one more exit's worth
 * (GUEST_CONSOLE_EXIT_MAX) is not entered until the ring drains: only that guest waits, and no
 * byte is lost.
 *
 * Lines appear as "[NAME] text", sanitised: no control byte or escape sequence of any guest
 * reaches the operator's terminal, focused or not (docs/guest-abi.md §7). The guest with the
 * console focus (issue 13) also has a partial line (a prompt, the echo of typed keys) shown once
 * it is GUEST_CONSOLE_PARTIAL_MS of TSC time old, without waiting for its newline; the rest of
 * that line continues on the same terminal line unless another line came between.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/abi/hv_abi.h"
#include "kernel/lib/byte_ring.h"
#include "kernel/spinlock.h"

#define GUEST_CONSOLE_LINE 160 /* 159 characters per line at most (docs/guest-abi.md §7) */
#define GUEST_CONSOLE_RING 8192
/* The most one exit queues: a console hypercall. REP OUTS to COM1 stays below it (exit_io.c). */
#define GUEST_CONSOLE_EXIT_MAX HC_CONSOLE_MAX
_Static_assert(GUEST_CONSOLE_RING >= 2 * GUEST_CONSOLE_EXIT_MAX, "a vCPU can always run once");
#define GUEST_CONSOLE_PARTIAL_MS 50

struct guest;

/* The lock: a guest's vCPUs write on their CPUs while the console service drains on CPU 0.
   Every function below takes it; none is called with it held. */
struct guest_console {
    struct spinlock lock;
    struct byte_ring out;          /* written by the guest, not yet on hv's console */
    char line[GUEST_CONSOLE_LINE]; /* the line being assembled (sanitised) */
    unsigned len;                  /* characters in line */
    unsigned shown;                /* of them, already on the terminal as an open partial line */
    uint64_t partial_tsc;          /* when the first not yet shown character came */
    bool focused;                  /* has the console focus: partial lines are shown */
    uint64_t queued;               /* bytes the guest wrote in all */
    uint64_t dropped; /* bytes that found the ring full: only when several vCPUs of the guest each
                         write a whole exit's worth between two drains (the check before entry
                         is per vCPU) */
    uint8_t ring[GUEST_CONSOLE_RING];
};

void guest_console_init(struct guest *g);
/* Queues guest console bytes (during an exit: never waits, never prints). */
void guest_console_write(struct guest *g, const char *buf, size_t len);
/* guest_console_backlogged(g), whether the ring could not take another exit's worth: inline in
   vmx/vcpu/guest.h (it reads g->console). */
/* One turn of the console service: moves the guest's bytes into hv's console up to one whole
   line, while hv's console has room (console_guest_room); shows a focused guest's partial line
   older than partial_ticks. Returns whether bytes are still queued. */
bool guest_console_drain(struct guest *g, uint64_t now, uint64_t partial_ticks);
/* When the guest ends: everything queued and a partial last line are printed (waiting for hv's
   console if need be), so its last words come before its verdict. */
void guest_console_flush(struct guest *g);
