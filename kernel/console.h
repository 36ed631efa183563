/*
 * hv's console: the selected 16550, mirrored to port 0xE9 under Bochs for a live view.
 *
 * Output is asynchronous: writers queue bytes in a bounded ring and console_pump() hands them to
 * the UART as its transmitter takes them (16 bytes per THRE with FIFOs), so no VM exit and no
 * boot step waits for the serial line; only a writer that finds the ring full waits. One ring,
 * so the order on the wire is the order of the writes. The console is one device that every CPU
 * reaches: its own lock serialises it.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_RING_SIZE 16384 /* holds hv's whole boot log: boot never waits for the UART */
/* Guest lines enter only while fewer bytes than this wait (console_guest_room): hv's own lines
   always find room, and a guest's line is on the wire within this many bytes' time. */
#define CONSOLE_GUEST_BACKLOG 2048

void console_init(uint16_t port_base);
/* Queues whole lines ('\n' becomes CR LF); a partial line that console_write_stream() left open
   is ended first. Waits for the UART only while the ring is full. */
void console_write(const char *buf, size_t len);
/* Streams one writer's text whose line may stay open (a guest's prompt): `prefix` starts each
   line of `owner` on the terminal, also the continuation of a line another write interrupted;
   line_end ends it. An empty end of a line no longer open prints nothing. */
void console_write_stream(const void *owner, const char *prefix, const char *text, size_t len,
                          bool line_end);
/* Whether a guest line may be queued now (fewer than CONSOLE_GUEST_BACKLOG bytes wait). */
bool console_guest_room(void);
/* Moves queued bytes to the UART as far as its transmitter takes them now; never waits. */
void console_pump(void);
/* Waits (bounded per byte) until everything queued has been sent. */
void console_drain(void);
/* Typed bytes: the UART's receive FIFO holds 16 characters, which fill in 1.1 ms at 115200 baud
   (8N1 as Bochs counts it: 8 bit times per character), so the scheduler moves them into an input
   ring at least every CONSOLE_RX_POLL_US, also in the middle of a guest's time slice
   (vmx/vm/sched.c): half the FIFO's time, so even a burst at full line rate (pasted text, a
   script) finds room while a timer exit comes late (1 ms was seen to lose the 17th character
   of a burst under Bochs). For CONSOLE_RX_BUSY_MS after a byte came it polls every
   CONSOLE_RX_POLL_BUSY_US. A guest that never exits on its own pays one timer exit per period
   (about 1.6 % under Bochs). What the ring cannot take is dropped and counted. */
#define CONSOLE_RX_POLL_US      500
#define CONSOLE_RX_POLL_BUSY_US 200
#define CONSOLE_RX_BUSY_MS      100
#define CONSOLE_RX_RING         512
/* Moves typed bytes from the UART into the input ring; returns how many came. */
unsigned console_poll_input(void);
/* Typed bytes lost so far: to a full input ring, and UART overruns (each loses one or more). */
void console_input_losses(uint64_t *dropped, uint64_t *overruns);
/* Cheap checks without the lock (the scheduler's idle path): input waits in the ring; some was
   ever lost. */
bool console_input_waiting(void);
/* Output waits for the UART (without the lock). */
bool console_output_queued(void);
bool console_input_lost(void);
/* A byte typed on the console (polling the UART first), or -1 when none waits. */
int console_getc(void);
/* After a fault inside the console, panic must still be able to print. */
void console_break_lock(void);
