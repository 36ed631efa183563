/*
 * The PC's dual 8259A programmable interrupt controller (Intel 8259A datasheet, order number
 * 231468) and the edge/level control registers (ELCR, as in the PIIX/ICH chipsets).
 *
 *   master: command 0x20, data 0x21; ISA IRQ 0-7; its INTR output goes to vCPU 0's LINT0.
 *   slave:  command 0xA0, data 0xA1; ISA IRQ 8-15; its INTR output is the master's IR2.
 *   ELCR:   0x4D0 (IRQ 0-7), 0x4D1 (IRQ 8-15); bit set = level-triggered.
 *
 * Supported: the ICW1-ICW4 sequence (8086 mode), IMR (OCW1), every OCW2 command (non-specific,
 * specific and rotating EOIs, rotate in automatic-EOI mode, set priority), OCW3 (read IRR/ISR,
 * poll, special mask mode), edge and level triggering (ICW1 LTIM or the ELCR), automatic EOI,
 * special fully nested mode on the master, fixed priority with a rotating base, the cascade on
 * master IR2, and spurious IRQ 7 / IRQ 15.
 *
 * Not supported (documented): MCS-80/85 mode (ICW4 uPM = 0 is treated as 8086 mode, ICW2's
 * address bits are then taken as the vector base), ICW1's call-address interval bit, buffered
 * mode (stored, no effect), single mode (ICW1 SNGL: the slave stays cascaded on IR2, which is the
 * PC's wiring), and ICW3 slave IDs other than 2 (the cascade is hard-wired to master IR2).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/vdev.h"

/* ---- ports ---- */
#define PIC_MASTER_CMD  0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD   0xA0
#define PIC_SLAVE_DATA  0xA1
#define PIC_PORT_COUNT  2
#define PIC_ELCR1       0x4D0 /* IRQ 0-7 */
#define PIC_ELCR2       0x4D1 /* IRQ 8-15 */
#define PIC_ELCR_PORTS  2

/* ---- wiring ---- */
#define PIC_IRQS_PER_CHIP 8
#define PIC_IRQS          16
#define PIC_CASCADE_IR    2 /* the slave's INTR arrives on master IR2 */
#define PIC_SPURIOUS_IR   7 /* the level reported when a request vanished before INTA */
/* ELCR bits that are reserved (must be edge): IRQ 0 (PIT), 1 (keyboard), 2 (cascade), 8 (RTC),
   13 (FPU error). */
#define PIC_ELCR1_WRITABLE 0xF8
#define PIC_ELCR2_WRITABLE 0xDE

/* ---- command port writes: bit 4 selects ICW1, else bit 3 selects OCW3 over OCW2 ---- */
#define PIC_ICW1        0x10
#define PIC_ICW1_IC4    0x01 /* ICW4 follows */
#define PIC_ICW1_SNGL   0x02 /* single (no ICW3) */
#define PIC_ICW1_ADI    0x04 /* call address interval (MCS-80/85 only) */
#define PIC_ICW1_LTIM   0x08 /* level-triggered mode for all inputs */
#define PIC_ICW2_VECTOR 0xF8 /* T7-T3: the vector base in 8086 mode */
#define PIC_ICW4_UPM    0x01 /* 8086/8088 mode */
#define PIC_ICW4_AEOI   0x02 /* automatic EOI */
#define PIC_ICW4_MS     0x04 /* buffered mode master/slave */
#define PIC_ICW4_BUF    0x08 /* buffered mode */
#define PIC_ICW4_SFNM   0x10 /* special fully nested mode */

#define PIC_OCW3      0x08
#define PIC_OCW3_RIS  0x01 /* read ISR (1) or IRR (0) ... */
#define PIC_OCW3_RR   0x02 /* ... when RR is set */
#define PIC_OCW3_P    0x04 /* poll command */
#define PIC_OCW3_SMM  0x20 /* special mask mode on (1) or off (0) ... */
#define PIC_OCW3_ESMM 0x40 /* ... when ESMM is set */

#define PIC_OCW2_LEVEL      0x07 /* L2-L0 */
#define PIC_OCW2_CMD        0xE0 /* R, SL, EOI */
#define PIC_OCW2_ROT_AEOI_C 0x00 /* rotate in automatic EOI mode (clear) */
#define PIC_OCW2_EOI        0x20 /* non-specific EOI */
#define PIC_OCW2_NOP        0x40
#define PIC_OCW2_SEOI       0x60 /* specific EOI */
#define PIC_OCW2_ROT_AEOI_S 0x80 /* rotate in automatic EOI mode (set) */
#define PIC_OCW2_ROT_EOI    0xA0 /* rotate on non-specific EOI */
#define PIC_OCW2_SET_PRIO   0xC0 /* set priority: L becomes the lowest */
#define PIC_OCW2_ROT_SEOI   0xE0 /* rotate on specific EOI */

#define PIC_POLL_INT 0x80 /* poll word: an interrupt is pending; bits 2-0 its level */

/* Where the initialisation sequence is: the next data-port write is this ICW. */
enum vpic_init_step { VPIC_READY, VPIC_ICW2, VPIC_ICW3, VPIC_ICW4 };

struct vpic_chip {
    enum vpic_init_step step;
    bool initialised; /* a full ICW sequence completed since reset */
    uint8_t icw1, icw3, icw4;
    uint8_t vector_base; /* ICW2 & T7-T3 */
    uint8_t irr, isr, imr;
    uint8_t elcr;
    uint8_t pins;      /* IR input levels */
    uint8_t lowest;    /* the lowest-priority level: (lowest + 1) & 7 is the highest */
    bool read_isr;     /* OCW3 RIS: the command port reads ISR, else IRR */
    bool poll;         /* OCW3 P: the next command-port read is the poll word */
    bool special_mask; /* OCW3 SMM */
    bool rotate_aeoi;  /* OCW2 rotate in automatic EOI mode */
    bool intr;         /* the INT output */
};

struct vpic {
    const struct vdev_host *host;
    struct vpic_chip chip[2]; /* [0] master, [1] slave */
};

void vpic_init(struct vpic *p, const struct vdev_host *host);
/* Claims the ports (0x20, 0xA0, 0x4D0) and registers the ISA sink; 0, or -1 when either fails. */
int vpic_attach(struct vpic *p, struct vdev_bus *bus, struct vdev_irq_router *router);
/* The sink: ISA IRQ 0-15's line level. IRQ 2 is the cascade and has no ISA line: ignored. */
void vpic_set_irq(struct vpic *p, unsigned irq, bool asserted);
/* The master's INTR output (false until the master is initialised). */
bool vpic_has_intr(const struct vpic *p);
/* The INTA cycle: the vector to deliver (the request moves from IRR to ISR), or the spurious
   vector (base + 7) when the request went away; -1 while the master is not initialised. */
int vpic_ack(struct vpic *p);
/* The port handlers (also reachable through the bus after vpic_attach). */
uint8_t vpic_read(struct vpic *p, uint16_t port);
void vpic_write(struct vpic *p, uint16_t port, uint8_t value);
