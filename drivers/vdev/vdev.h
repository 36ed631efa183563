/*
 * The device model's common parts: what every virtual device is built on.
 *
 *   - struct vdev_host: the services hv gives a VM's devices (end the VM, console output, kick a
 *     vCPU, the time). vmx/vm/ fills it in, so nothing in drivers/vdev/ includes a vmx/ header.
 *   - struct vdev_bus: port ranges and guest-physical MMIO ranges -> device. The port lookup is
 *     one table read (a range index per port); MMIO ranges are few and searched in order.
 *   - struct vdev_irq_router: interrupt lines. A device raises or lowers an ISA IRQ (0-15) or a
 *     GSI (0-23); the router forwards the line's level to every registered interrupt controller
 *     (the 8259 pair takes ISA IRQs, the IOAPIC takes GSIs, with IRQ 0 -> GSI 2 as the MADT's
 *     interrupt-source override says).
 *   - struct vdev_timers: one timer service for every emulated timer (Xen's hvm/vpt.c idea): a
 *     device arms a deadline in guest TSC ticks; the VM's run loop asks for the earliest deadline
 *     (to bound the time it stays in the guest) and fires the expired ones.
 *
 * Every device has its own state struct and file (uart.c, power.c, ...); none reaches into the
 * VM. All functions run on the CPU that runs the VM's vCPU (one vCPU per guest so far), so no
 * locking is needed yet; SMP adds a per-device lock.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- host services ---- */

struct vdev_host {
    void *ctx; /* passed back to every callback: the VM */
    /* Ends the VM with `verdict` ("exit(0)", "reset", ...); the first call wins. */
    void (*end_vm)(void *ctx, const char *verdict);
    /* Guest console output (the VM's console line, "[NAME] text"). */
    void (*console_write)(void *ctx, const char *buf, size_t len);
    /* An interrupt became pending for vCPU `vcpu`: make it look at its interrupt state soon. */
    void (*kick_vcpu)(void *ctx, unsigned vcpu);
    /* The guest's TSC now, and its frequency (Hz; 0 when unknown). */
    uint64_t (*now)(void *ctx);
    uint64_t tsc_hz;
    const char *name; /* the VM's name, for log lines */
};

/* ---- the bus ---- */

#define VDEV_IO_PORTS 0x10000
#define VDEV_MAX_IO   32 /* port ranges (a device may claim several) */
#define VDEV_MAX_MMIO 8

struct vdev_io_ops {
    uint32_t (*in)(void *dev, uint16_t port, unsigned size);              /* NULL: reads all ones */
    void (*out)(void *dev, uint16_t port, unsigned size, uint32_t value); /* NULL: dropped */
};

/* MMIO accesses are 1, 2, 4 or 8 bytes at `offset` from the range's base. */
struct vdev_mmio_ops {
    uint64_t (*read)(void *dev, uint64_t offset, unsigned size);
    void (*write)(void *dev, uint64_t offset, unsigned size, uint64_t value);
};

struct vdev_io_range {
    const char *name;
    uint16_t base, count;
    const struct vdev_io_ops *ops;
    void *dev;
};

/* A range is served by one device, or banked: one device per vCPU (a local APIC: every
   processor sees its own at the same address), `banks` of them `bank_stride` bytes apart from
   `dev`. */
struct vdev_mmio_range {
    const char *name;
    uint64_t base, size;
    const struct vdev_mmio_ops *ops;
    void *dev;
    size_t bank_stride;
    unsigned banks; /* 0: not banked, `dev` serves every vCPU */
};

#define VDEV_UNCLAIMED_LOG_MAX 16 /* unclaimed ports logged per VM: a port scan must not flood */

struct vdev_bus {
    const struct vdev_host *host;
    struct vdev_io_range io[VDEV_MAX_IO];
    unsigned io_count;
    struct vdev_mmio_range mmio[VDEV_MAX_MMIO];
    unsigned mmio_count;
    uint8_t port_map[VDEV_IO_PORTS];         /* port -> 1 + index into io[]; 0 = unclaimed */
    uint8_t warned_ports[VDEV_IO_PORTS / 8]; /* unclaimed ports already logged */
    unsigned unclaimed_seen;
};

void vdev_bus_init(struct vdev_bus *bus, const struct vdev_host *host);
/* Claims [base, base+count) for `dev`; -1 when the range is empty, overlaps or the bus is full. */
int vdev_bus_add_io(struct vdev_bus *bus, const char *name, uint16_t base, uint16_t count,
                    const struct vdev_io_ops *ops, void *dev);
/* Claims guest-physical [base, base+size); -1 when empty, wrapping, overlapping or full. */
int vdev_bus_add_mmio(struct vdev_bus *bus, const char *name, uint64_t base, uint64_t size,
                      const struct vdev_mmio_ops *ops, void *dev);
/* The same for a banked range: vCPU i's accesses go to (char *)devs + i * stride, i < banks. */
int vdev_bus_add_mmio_banked(struct vdev_bus *bus, const char *name, uint64_t base, uint64_t size,
                             const struct vdev_mmio_ops *ops, void *devs, size_t stride,
                             unsigned banks);
/* The device that serves vCPU `vcpu`'s accesses to range `r` into *dev; -1 for a banked range
   with no bank for that vCPU. */
int vdev_mmio_dev(const struct vdev_mmio_range *r, unsigned vcpu, void **dev);
/* One port access of `size` (1, 2, 4) bytes. An unclaimed port reads all ones and drops writes
   (nothing reaches real hardware); the first VDEV_UNCLAIMED_LOG_MAX ports are logged. */
uint32_t vdev_bus_in(struct vdev_bus *bus, uint16_t port, unsigned size);
void vdev_bus_out(struct vdev_bus *bus, uint16_t port, unsigned size, uint32_t value);
/* The MMIO range holding [gpa, gpa+size), or NULL. */
const struct vdev_mmio_range *vdev_bus_find_mmio(const struct vdev_bus *bus, uint64_t gpa,
                                                 unsigned size);

/* ---- interrupt lines ---- */

#define VDEV_ISA_IRQS      16
#define VDEV_GSIS          24
#define VDEV_MAX_IRQ_SINKS 2
#define VDEV_IRQ_PIT       0
#define VDEV_IRQ_COM1      4
#define VDEV_IRQ_RTC       8
#define VDEV_GSI_PIT       2 /* the MADT's interrupt-source override: ISA IRQ 0 -> GSI 2 */

enum vdev_irq_space { VDEV_IRQ_ISA, VDEV_IRQ_GSI };

/* An interrupt controller's input: called when the level of one of its lines changes. */
struct vdev_irq_sink {
    enum vdev_irq_space space; /* which numbers `line` uses */
    void (*set_line)(void *ctl, unsigned line, bool asserted);
    void *ctl;
};

struct vdev_irq_router {
    struct vdev_irq_sink sinks[VDEV_MAX_IRQ_SINKS];
    unsigned sink_count;
    uint32_t isa_level; /* bit n: ISA IRQ n asserted */
};

void vdev_irq_init(struct vdev_irq_router *r);
int vdev_irq_add_sink(struct vdev_irq_router *r, const struct vdev_irq_sink *sink);
/* Sets ISA IRQ `irq` (0-15) to `asserted`; forwarded only when the level changes. */
void vdev_irq_set(struct vdev_irq_router *r, unsigned irq, bool asserted);
/* An edge: the line goes high and low again (each controller latches the rising edge). */
void vdev_irq_pulse(struct vdev_irq_router *r, unsigned irq);
/* The GSI an ISA IRQ arrives on at the IOAPIC (identity except the override above). */
unsigned vdev_isa_to_gsi(unsigned irq);

/* ---- the timer service ---- */

/* The PIT, the RTC and one local APIC timer per vCPU (8 at most), with room to spare:
   vmx/vm/vm_devices.c checks that a full virtual PC fits. */
#define VDEV_MAX_TIMERS 16

struct vdev_timer {
    void (*fire)(void *dev, uint64_t now); /* may re-arm itself */
    void *dev;
    uint64_t deadline; /* guest TSC */
    bool armed;
};

struct vdev_timers {
    struct vdev_timer *timer[VDEV_MAX_TIMERS];
    unsigned count;
};

void vdev_timers_init(struct vdev_timers *t);
/* Registers a timer (unarmed); -1 when the service is full. */
int vdev_timer_add(struct vdev_timers *t, struct vdev_timer *timer, void (*fire)(void *, uint64_t),
                   void *dev);
void vdev_timer_arm(struct vdev_timer *timer, uint64_t deadline);
void vdev_timer_cancel(struct vdev_timer *timer);
/* The earliest armed deadline, or UINT64_MAX when none is armed. */
uint64_t vdev_timers_next(const struct vdev_timers *t);
/* Fires every timer whose deadline is <= now (each once per call); returns how many fired. */
unsigned vdev_timers_run(struct vdev_timers *t, uint64_t now);

/* Converts between guest TSC ticks and a device clock of `hz` (e.g. the PIT's 1193182 Hz);
   both rates must be below 2^32 Hz. Rounds down. */
uint64_t vdev_ticks_to_tsc(uint64_t ticks, uint64_t hz, uint64_t tsc_hz);
uint64_t vdev_tsc_to_ticks(uint64_t tsc, uint64_t hz, uint64_t tsc_hz);
