/* The virtual 82093AA I/O APIC (drivers/vdev/vioapic.h). */
#include "drivers/vdev/vioapic.h"
#include "kernel/lib/string.h"

void vioapic_init(struct vioapic *io, const struct vdev_host *host, vioapic_deliver_fn deliver,
                  void *deliver_ctx)
{
    memset(io, 0, sizeof(*io));
    io->host = host;
    io->deliver = deliver;
    io->deliver_ctx = deliver_ctx;
    io->id = (uint32_t)VIOAPIC_ID_RESET << VIOAPIC_ID_SHIFT;
    /* 82093AA datasheet 3.2.4: the mask bit is set at reset */
    for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
        io->rte[pin] = VIOAPIC_RTE_MASK;
}

static bool pin_level_triggered(const struct vioapic *io, unsigned pin)
{
    return (io->rte[pin] & VIOAPIC_RTE_TRIGGER) != 0;
}

static void send_message(struct vioapic *io, unsigned pin)
{
    uint64_t rte = io->rte[pin];
    bool level = pin_level_triggered(io, pin);
    /* 3.2.4: remote IRR is set when the local APIC accepts a level interrupt; delivery is
       immediate here, so the delivery status bit never shows "send pending" */
    if (level)
        io->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
    io->deliver(io->deliver_ctx, (uint32_t)(rte >> VIOAPIC_RTE_DEST_SHIFT),
                (rte & VIOAPIC_RTE_DESTMOD) != 0,
                (unsigned)((rte & VIOAPIC_RTE_DELMOD) >> VIOAPIC_RTE_DELMOD_SHIFT),
                (unsigned)(rte & VIOAPIC_RTE_VECTOR), level);
}

/* A level pin sends while its line is asserted, it is unmasked and no earlier message of it
   awaits its EOI (remote IRR clear). */
static void service_level_pin(struct vioapic *io, unsigned pin)
{
    uint64_t rte = io->rte[pin];
    if (!pin_level_triggered(io, pin) || !(io->asserted & (1u << pin)))
        return;
    if (rte & (VIOAPIC_RTE_MASK | VIOAPIC_RTE_REMOTE_IRR))
        return;
    send_message(io, pin);
}

void vioapic_set_irq(struct vioapic *io, unsigned gsi, bool asserted)
{
    if (gsi >= VIOAPIC_PINS)
        return;
    uint32_t bit = 1u << gsi;
    bool was = (io->asserted & bit) != 0;
    io->asserted = asserted ? io->asserted | bit : io->asserted & ~bit;
    if (pin_level_triggered(io, gsi)) {
        service_level_pin(io, gsi);
        return;
    }
    /* 3.2.4: an edge on a masked pin is ignored, not held pending */
    if (asserted && !was && !(io->rte[gsi] & VIOAPIC_RTE_MASK))
        send_message(io, gsi);
}

void vioapic_eoi(struct vioapic *io, unsigned vector)
{
    for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
        uint64_t rte = io->rte[pin];
        if ((rte & VIOAPIC_RTE_VECTOR) != vector || !(rte & VIOAPIC_RTE_REMOTE_IRR))
            continue;
        io->rte[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
        /* a line still asserted after its EOI interrupts again */
        service_level_pin(io, pin);
    }
}

static uint32_t read_register(const struct vioapic *io, uint32_t index)
{
    if (index == VIOAPIC_REG_ID)
        return io->id;
    if (index == VIOAPIC_REG_VER)
        return VIOAPIC_VER_VALUE;
    if (index == VIOAPIC_REG_ARB)
        return io->id; /* 3.2.3: the arbitration ID is loaded from the ID */
    if (index >= VIOAPIC_REG_REDTBL && index < VIOAPIC_REG_REDTBL_END) {
        uint64_t rte = io->rte[(index - VIOAPIC_REG_REDTBL) / 2];
        return (index & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    return 0; /* undefined registers read as zero */
}

static void write_rte(struct vioapic *io, unsigned pin, bool high, uint32_t value)
{
    uint64_t rte = io->rte[pin];
    uint64_t mask = high ? 0xFFFFFFFF00000000ull : 0xFFFFFFFFull;
    uint64_t wanted = high ? (uint64_t)value << 32 : value;
    rte = (rte & ~(mask & VIOAPIC_RTE_WRITABLE)) | (wanted & mask & VIOAPIC_RTE_WRITABLE);
    /* remote IRR is undefined for edge pins: an entry turned edge drops it */
    if (!(rte & VIOAPIC_RTE_TRIGGER))
        rte &= ~VIOAPIC_RTE_REMOTE_IRR;
    io->rte[pin] = rte;
    /* unmasking (or turning level) a pin whose line is asserted delivers it now */
    service_level_pin(io, pin);
}

static void write_register(struct vioapic *io, uint32_t index, uint32_t value)
{
    if (index == VIOAPIC_REG_ID) {
        io->id = value & VIOAPIC_ID_MASK;
        return;
    }
    if (index >= VIOAPIC_REG_REDTBL && index < VIOAPIC_REG_REDTBL_END)
        write_rte(io, (index - VIOAPIC_REG_REDTBL) / 2, (index & 1) != 0, value);
    /* VER and ARB are read-only; other indexes hold nothing */
}

/* The datasheet asks for 32-bit accesses; narrower ones act on the register's low bytes. */
static uint64_t vioapic_mmio_read(void *dev, uint64_t offset, unsigned size)
{
    const struct vioapic *io = dev;
    uint32_t value = 0;
    if (offset == VIOAPIC_IOREGSEL)
        value = io->ioregsel;
    else if (offset == VIOAPIC_IOWIN)
        value = read_register(io, io->ioregsel);
    if (size < 4)
        value &= (1u << (8 * size)) - 1;
    return value;
}

static void vioapic_mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct vioapic *io = dev;
    uint32_t v = (uint32_t)value;
    if (offset == VIOAPIC_IOREGSEL) {
        io->ioregsel = v & VIOAPIC_IOREGSEL_MASK;
    } else if (offset == VIOAPIC_IOWIN) {
        if (size < 4) {
            uint32_t keep = ~((1u << (8 * size)) - 1);
            v = (read_register(io, io->ioregsel) & keep) | (v & ~keep);
        }
        write_register(io, io->ioregsel, v);
    }
}

static const struct vdev_mmio_ops vioapic_ops = {vioapic_mmio_read, vioapic_mmio_write};

static void vioapic_sink_set_line(void *ctl, unsigned line, bool asserted)
{
    vioapic_set_irq(ctl, line, asserted);
}

int vioapic_attach(struct vioapic *io, struct vdev_bus *bus, struct vdev_irq_router *router)
{
    if (vdev_bus_add_mmio(bus, "ioapic", VIOAPIC_BASE, VIOAPIC_MMIO_LEN, &vioapic_ops, io) < 0)
        return -1;
    const struct vdev_irq_sink sink = {VDEV_IRQ_GSI, vioapic_sink_set_line, io};
    return vdev_irq_add_sink(router, &sink);
}
