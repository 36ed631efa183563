/*
 * The virtual 82093AA I/O APIC (82093AA datasheet, "I/O APIC registers"): 24 input pins, each
 * with a 64-bit redirection table entry, reached through a register select / window pair in a
 * memory-mapped page at 0xFEC00000.
 *
 * Inputs arrive from the interrupt-line router as GSIs (drivers/vdev/vdev.h). Outputs go to the
 * VM through a delivery callback: the VM's local APICs (SDM vol. 3, "Advanced Programmable
 * Interrupt Controller (APIC)") accept the message. The local APIC calls vioapic_eoi() when the
 * guest ends a level-triggered interrupt (its EOI broadcast).
 *
 * Line levels: vioapic_set_irq() takes the line's ASSERTION (the device's interrupt request), not
 * its electrical level. The polarity bit (INTPOL) is stored and read back but does not invert it:
 * hv's devices report "asserted / deasserted", and an idle active-low line (a PCI INTx or the
 * ACPI SCI, pulled high on a board) is "deasserted" here. Inverting would make every idle
 * active-low pin look asserted and storm the guest. Linux programs ISA pins active high and
 * PCI-style pins active low; both then behave as on a board. KVM treats the line the same way.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/vdev.h"

/* ---- the hardware interface (82093AA datasheet, section 3) ---- */

#define VIOAPIC_BASE     0xFEC00000ull
#define VIOAPIC_MMIO_LEN 0x1000ull /* one page: EPT traps page by page */
#define VIOAPIC_IOREGSEL 0x00      /* I/O register select (bits 7:0 used) */
#define VIOAPIC_IOWIN    0x10      /* I/O window: the selected register */
#define VIOAPIC_PINS     24

/* Register indexes behind IOREGSEL. */
#define VIOAPIC_REG_ID         0x00
#define VIOAPIC_REG_VER        0x01
#define VIOAPIC_REG_ARB        0x02
#define VIOAPIC_REG_REDTBL     0x10 /* entry n: low dword 0x10 + 2n, high dword 0x11 + 2n */
#define VIOAPIC_REG_REDTBL_END (VIOAPIC_REG_REDTBL + 2 * VIOAPIC_PINS)
#define VIOAPIC_IOREGSEL_MASK  0xFFu

/* IOAPICID / IOAPICARB: the 4-bit ID in bits 27:24. */
#define VIOAPIC_ID_SHIFT 24
#define VIOAPIC_ID_MASK  (0xFu << VIOAPIC_ID_SHIFT)
#define VIOAPIC_ID_RESET 0 /* the MADT's I/O APIC ID must match (QEMU uses 0 too) */

/* IOAPICVER: version 0x11 in bits 7:0, maximum redirection entry (pins - 1) in bits 23:16. */
#define VIOAPIC_VERSION   0x11u
#define VIOAPIC_MRE_SHIFT 16
#define VIOAPIC_VER_VALUE (VIOAPIC_VERSION | ((VIOAPIC_PINS - 1u) << VIOAPIC_MRE_SHIFT))

/* Redirection table entry (IOREDTBLx) bits. */
#define VIOAPIC_RTE_VECTOR       0xFFull
#define VIOAPIC_RTE_DELMOD_SHIFT 8
#define VIOAPIC_RTE_DELMOD       (7ull << VIOAPIC_RTE_DELMOD_SHIFT)
#define VIOAPIC_RTE_DESTMOD      (1ull << 11) /* 1: logical destination */
#define VIOAPIC_RTE_DELIVS       (1ull << 12) /* delivery status, read-only */
#define VIOAPIC_RTE_INTPOL       (1ull << 13) /* 1: active low */
#define VIOAPIC_RTE_REMOTE_IRR   (1ull << 14) /* read-only; level-triggered only */
#define VIOAPIC_RTE_TRIGGER      (1ull << 15) /* 1: level */
#define VIOAPIC_RTE_MASK         (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT   56
#define VIOAPIC_RTE_DEST         (0xFFull << VIOAPIC_RTE_DEST_SHIFT)
/* What software may write: the read-only status bits and reserved bits 55:17 stay as they are. */
#define VIOAPIC_RTE_WRITABLE                                                                       \
    (VIOAPIC_RTE_VECTOR | VIOAPIC_RTE_DELMOD | VIOAPIC_RTE_DESTMOD | VIOAPIC_RTE_INTPOL |          \
     VIOAPIC_RTE_TRIGGER | VIOAPIC_RTE_MASK | VIOAPIC_RTE_DEST)

/* Delivery modes (bits 10:8). */
#define VIOAPIC_DELMOD_FIXED  0u
#define VIOAPIC_DELMOD_LOWPRI 1u
#define VIOAPIC_DELMOD_SMI    2u
#define VIOAPIC_DELMOD_NMI    4u
#define VIOAPIC_DELMOD_INIT   5u
#define VIOAPIC_DELMOD_EXTINT 7u

/* ---- the device ---- */

/* One interrupt message to the local APICs: `dest` is the 8-bit destination field (an APIC ID,
   or a logical set when `dest_logical`), `delivery_mode` one of VIOAPIC_DELMOD_*, `level` true
   for a level-triggered pin (the local APIC sets TMR and broadcasts its EOI back). */
typedef void (*vioapic_deliver_fn)(void *ctx, uint32_t dest, bool dest_logical,
                                   unsigned delivery_mode, unsigned vector, bool level);

struct vioapic {
    const struct vdev_host *host;
    vioapic_deliver_fn deliver;
    void *deliver_ctx;
    uint32_t ioregsel;
    uint32_t id;       /* IOAPICID as read: the ID in bits 27:24 */
    uint32_t asserted; /* bit n: pin n's line is asserted */
    uint64_t rte[VIOAPIC_PINS];
};

/* Reset state: ID 0, every pin masked, edge, active high, vector 0. */
void vioapic_init(struct vioapic *io, const struct vdev_host *host, vioapic_deliver_fn deliver,
                  void *deliver_ctx);
/* Claims the MMIO page at VIOAPIC_BASE and registers the GSI sink; -1 when either is refused. */
int vioapic_attach(struct vioapic *io, struct vdev_bus *bus, struct vdev_irq_router *router);
/* Pin `gsi`'s line level changed (out-of-range pins are ignored). */
void vioapic_set_irq(struct vioapic *io, unsigned gsi, bool asserted);
/* The local APIC's EOI broadcast for a level-triggered `vector`. */
void vioapic_eoi(struct vioapic *io, unsigned vector);
