/*
 * The PC's 8254 programmable interval timer (Intel 8254 datasheet, order number 231164) and
 * system control port B at 0x61.
 *
 *   0x40-0x42: counters 0-2; 0x43: the control word register (write only).
 *   Counter 0: GATE tied high, OUT drives ISA IRQ 0 (through the interrupt-line router).
 *   Counter 1: GATE tied high, OUT not connected (it was the DRAM refresh timer): emulated with
 *              the same logic, so it can be programmed and read back.
 *   Counter 2: GATE is port 0x61 bit 0, OUT is readable in port 0x61 bit 5 (the speaker).
 *   The input clock is 1193182 Hz, derived from the guest TSC (host->now, host->tsc_hz).
 *
 * Supported: modes 0-5 (mode 1 and 5 need a GATE rising edge, so only counter 2 can trigger
 * them), LSB / MSB / LSB-then-MSB access, binary and BCD counting, the counter latch command,
 * the read-back command (status and count, several counters at once), the null-count bit,
 * GATE semantics per mode, mode 2/3 count changes taking effect at the end of the period.
 *
 * Simplifications (documented): a count is loaded when it is written, not on the next CLK edge
 * (the datasheet's one-clock load delay is not modelled); a new mode 3 count takes effect at
 * the end of the whole period, not of the half-period; port 0x61's refresh bit (4) toggles on every
 * read rather than every 15 us, which is enough for loops waiting for it to change. The speaker
 * makes no sound. With host->tsc_hz == 0 the clock does not advance.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/vdev.h"

#define PIT_HZ       1193182u
#define PIT_CHANNELS 3

/* ---- ports ---- */
#define PIT_PORT_COUNTER0 0x40
#define PIT_PORT_CONTROL  0x43
#define PIT_PORT_COUNT    4
#define PIT_PORT_B        0x61 /* system control port B */

/* ---- the control word (datasheet "Control word format") ---- */
#define PIT_CW_SC_SHIFT   6 /* SC1-SC0: the counter, 3 = read-back */
#define PIT_CW_SC_READ    3
#define PIT_CW_RW_SHIFT   4 /* RW1-RW0 */
#define PIT_CW_RW_MASK    3
#define PIT_RW_LATCH      0 /* counter latch command */
#define PIT_RW_LSB        1
#define PIT_RW_MSB        2
#define PIT_RW_WORD       3 /* LSB then MSB */
#define PIT_CW_MODE_SHIFT 1 /* M2-M0 */
#define PIT_CW_MODE_MASK  7
#define PIT_CW_BCD        0x01

/* Read-back command (SC = 3): D5 = 0 latches the count, D4 = 0 latches status, D3-D1 select
   counters 2-0. */
#define PIT_RB_NO_COUNT  0x20
#define PIT_RB_NO_STATUS 0x10
#define PIT_RB_CNT_SHIFT 1

/* Status byte: OUT, NULL COUNT, then RW1-RW0, M2-M0, BCD as programmed. */
#define PIT_STATUS_OUT  0x80
#define PIT_STATUS_NULL 0x40

/* ---- modes ---- */
#define PIT_MODE_TC_INT     0 /* interrupt on terminal count */
#define PIT_MODE_ONESHOT    1 /* hardware retriggerable one-shot */
#define PIT_MODE_RATE       2 /* rate generator */
#define PIT_MODE_SQUARE     3 /* square wave */
#define PIT_MODE_SW_STROBE  4 /* software triggered strobe */
#define PIT_MODE_HW_STROBE  5 /* hardware triggered strobe */
#define PIT_MODE_ALIAS_MASK 3 /* modes 6 and 7 are 2 and 3 (M2 is "don't care") */

#define PIT_BINARY_MODULUS 0x10000u /* a count of 0 is 65536 */
#define PIT_BCD_MODULUS    10000u   /* a BCD count of 0 is 10000 */

/* ---- port 0x61 ---- */
#define PORTB_GATE2    0x01 /* counter 2 GATE */
#define PORTB_SPEAKER  0x02 /* speaker data enable (OUT2 AND this drives the speaker) */
#define PORTB_WRITABLE 0x0F /* bits 2-3: parity / channel check enables, stored only */
#define PORTB_REFRESH  0x10 /* refresh request toggle (read only) */
#define PORTB_OUT2     0x20 /* counter 2 OUT (read only) */

struct vpit_channel {
    uint8_t mode, rw;
    bool bcd;
    bool gate;
    uint16_t cr;         /* the count register as written (BCD or binary) */
    bool cr_valid;       /* a complete count was written since the control word */
    bool write_msb;      /* LSB-then-MSB: the next write is the MSB */
    bool read_msb;       /* LSB-then-MSB: the next unlatched read is the MSB */
    bool null_count;     /* the status byte's NULL COUNT: CR not yet in the counting element */
    bool counting;       /* the counting element holds a count and runs (see vpit.c) */
    uint32_t count;      /* modes 2/3: the period N in effect (1-65536) */
    int64_t remaining;   /* modes 0/1/4/5: clocks left to terminal count at `start` */
    uint64_t start;      /* guest TSC when the count (or period) began */
    bool reload_pending; /* modes 2/3: a new count waits for the end of the period */
    uint32_t next_count;
    uint64_t reload_at; /* guest TSC of that period end */
    uint16_t frozen;    /* the count read while stopped (GATE low in modes 2/3, no count) */
    bool count_latched, status_latched;
    uint16_t latched_count;
    uint8_t latched_status;
    bool latch_msb; /* LSB-then-MSB: the next latched read is the MSB */
};

struct vpit {
    const struct vdev_host *host;
    struct vdev_irq_router *router;
    struct vdev_timer timer; /* counter 0's next OUT rising edge */
    bool timer_ok;           /* the timer service had room */
    struct vpit_channel ch[PIT_CHANNELS];
    uint8_t port_b; /* the writable bits of port 0x61 */
    bool refresh;   /* port 0x61 bit 4 */
};

void vpit_init(struct vpit *t, const struct vdev_host *host, struct vdev_timers *timers,
               struct vdev_irq_router *router);
/* Claims ports 0x40-0x43 and 0x61; -1 when either is taken or vpit_init found the timer
   service full. */
int vpit_attach(struct vpit *t, struct vdev_bus *bus);
/* The port handlers (also reachable through the bus after vpit_attach). */
uint8_t vpit_read(struct vpit *t, uint16_t port);
void vpit_write(struct vpit *t, uint16_t port, uint8_t value);
