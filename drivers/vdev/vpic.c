/* The dual 8259A PIC and the ELCR (drivers/vdev/vpic.h; Intel 8259A datasheet). */
#include "drivers/vdev/vpic.h"
#include "kernel/lib/string.h"

#define MASTER     0
#define SLAVE      1
#define LEVELS     PIC_IRQS_PER_CHIP
#define ALL_LEVELS 0xFFu /* every IR input of a chip */
#define OPEN_BUS   0xFFu /* what a port nobody drives reads */
#define BYTE_BITS  8

static uint8_t bit(unsigned level)
{
    return (uint8_t)(1u << level);
}

/* A chip takes part in interrupt handling only after a complete ICW sequence; while the
   sequence runs (ICW1 seen, ICW2-4 pending) its INT output stays low. */
static bool chip_ready(const struct vpic_chip *c)
{
    return c->initialised && c->step == VPIC_READY;
}

/* ICW1 LTIM makes every input level-sensitive; otherwise the ELCR decides per input. */
static uint8_t level_mask(const struct vpic_chip *c)
{
    return (c->icw1 & PIC_ICW1_LTIM) ? ALL_LEVELS : c->elcr;
}

/* Priority rank of `level`: 0 is the highest. The highest level is the one after `lowest`
   (datasheet "Fully nested mode" and "Automatic rotation": IR7 is lowest after ICW1). */
static unsigned rank(const struct vpic_chip *c, unsigned level)
{
    return (level - (c->lowest + 1u)) % LEVELS;
}

/* The highest-priority level set in `bits`, or -1. */
static int highest(const struct vpic_chip *c, uint8_t bits)
{
    for (unsigned i = 0; i < LEVELS; i++) {
        unsigned level = (c->lowest + 1u + i) % LEVELS;
        if (bits & bit(level))
            return (int)level;
    }
    return -1;
}

/* The level the chip would present on INTA, or -1: the highest unmasked request with a higher
   priority than every level in service. In special mask mode masked levels in service do not
   block (datasheet "Special mask mode"); in special fully nested mode the master lets a new
   request from the slave through while IR2 is in service ("Special fully nested mode"). */
static int chip_pending(const struct vpic_chip *c, bool master)
{
    int req = highest(c, c->irr & (uint8_t)~c->imr);
    if (req < 0)
        return -1;
    uint8_t svc = c->isr;
    if (c->special_mask)
        svc &= (uint8_t)~c->imr;
    if (master && (c->icw4 & PIC_ICW4_SFNM))
        svc &= (uint8_t)~bit(PIC_CASCADE_IR);
    int in_service = highest(c, svc);
    if (in_service >= 0 && rank(c, (unsigned)req) >= rank(c, (unsigned)in_service))
        return -1;
    return req;
}

/* An input changes level. Edge mode latches a rising edge in IRR until INTA; level mode makes
   IRR follow the input, so a line still asserted after EOI requests again. */
static void chip_set_pin(struct vpic_chip *c, unsigned level, bool asserted)
{
    uint8_t b = bit(level);
    bool was = c->pins & b;
    c->pins = asserted ? c->pins | b : c->pins & (uint8_t)~b;
    if (level_mask(c) & b)
        c->irr = asserted ? c->irr | b : c->irr & (uint8_t)~b;
    else if (asserted && !was)
        c->irr |= b;
}

/* Recomputes both INT outputs. The slave's INT drives master IR2 (an edge input: the ELCR
   cannot make IRQ 2 level). A rising master INT kicks vCPU 0 (LINT0). */
static void update(struct vpic *p)
{
    struct vpic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
    s->intr = chip_ready(s) && chip_pending(s, false) >= 0;
    chip_set_pin(m, PIC_CASCADE_IR, s->intr);
    bool was = m->intr;
    m->intr = chip_ready(m) && chip_pending(m, true) >= 0;
    if (m->intr && !was && p->host && p->host->kick_vcpu)
        p->host->kick_vcpu(p->host->ctx, 0);
}

/* The slave's INT falls during its INTA cycle (or poll read): if it still has a request
   afterwards (automatic EOI, or a higher level), the next update is a new edge on IR2, so
   that request is not lost. */
static void slave_int_dropped(struct vpic *p)
{
    p->chip[MASTER].pins &= (uint8_t)~bit(PIC_CASCADE_IR);
}

/* INTA (or a poll read) for `level`: the request moves from IRR to ISR. An edge request is
   consumed; a level request stays in IRR while its input is high. In automatic-EOI mode the ISR
   bit is cleared at once (datasheet "AEOI"), with rotation if OCW2 asked for it. */
static void chip_service(struct vpic_chip *c, unsigned level)
{
    uint8_t b = bit(level);
    if (!(level_mask(c) & b))
        c->irr &= (uint8_t)~b;
    if (!(c->icw4 & PIC_ICW4_AEOI))
        c->isr |= b;
    else if (c->rotate_aeoi)
        c->lowest = (uint8_t)level;
}

/* The INTA cycle on one chip: the level it answers with. With no request left (it was
   withdrawn or masked after INT rose) the chip answers IR7 without setting ISR (datasheet
   "Interrupt sequence": the default IR7 vector). */
static unsigned chip_ack(struct vpic_chip *c, bool master)
{
    int level = chip_pending(c, master);
    if (level < 0)
        return PIC_SPURIOUS_IR;
    chip_service(c, (unsigned)level);
    return (unsigned)level;
}

int vpic_ack(struct vpic *p)
{
    struct vpic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
    if (!chip_ready(m))
        return -1;
    /* A spurious answer is IR7 even when IR7 has no request; only a real IR2 cascades. */
    bool real = chip_pending(m, true) >= 0;
    unsigned level = chip_ack(m, true);
    int vector;
    if (real && level == PIC_CASCADE_IR) {
        /* The slave supplies the vector (cascade mode); a slave with nothing left answers its
           IR7, while the master's ISR2 stays set: the spurious IRQ 15. */
        unsigned slave_level = chip_ready(s) ? chip_ack(s, false) : PIC_SPURIOUS_IR;
        vector = s->vector_base + (int)slave_level;
        slave_int_dropped(p);
    } else {
        vector = m->vector_base + (int)level;
    }
    update(p);
    return vector;
}

bool vpic_has_intr(const struct vpic *p)
{
    return p->chip[MASTER].intr;
}

void vpic_set_irq(struct vpic *p, unsigned irq, bool asserted)
{
    if (irq >= PIC_IRQS || irq == PIC_CASCADE_IR)
        return;
    chip_set_pin(&p->chip[irq / LEVELS], irq % LEVELS, asserted);
    update(p);
}

/* ICW1 starts initialisation (datasheet "Initialization command words"): the edge sense is
   reset (an input must rise again), IMR and ISR are cleared, IR7 gets the lowest priority,
   special mask mode is off, reads select IRR, and ICW4's functions are zero unless IC4. */
static void write_icw1(struct vpic_chip *c, uint8_t value)
{
    c->icw1 = value;
    c->step = VPIC_ICW2;
    c->imr = 0;
    c->isr = 0;
    c->irr = c->pins & level_mask(c);
    c->lowest = LEVELS - 1;
    c->read_isr = false;
    c->poll = false;
    c->special_mask = false;
    c->rotate_aeoi = false;
    if (!(value & PIC_ICW1_IC4))
        c->icw4 = 0;
}

static void finish_step(struct vpic_chip *c, enum vpic_init_step next)
{
    c->step = next;
    if (next == VPIC_READY)
        c->initialised = true;
}

static void write_data(struct vpic_chip *c, uint8_t value)
{
    bool ic4 = c->icw1 & PIC_ICW1_IC4;
    switch (c->step) {
    case VPIC_READY: /* OCW1 */
        c->imr = value;
        break;
    case VPIC_ICW2:
        c->vector_base = value & PIC_ICW2_VECTOR;
        if (c->icw1 & PIC_ICW1_SNGL)
            finish_step(c, ic4 ? VPIC_ICW4 : VPIC_READY);
        else
            finish_step(c, VPIC_ICW3);
        break;
    case VPIC_ICW3:
        c->icw3 = value;
        finish_step(c, ic4 ? VPIC_ICW4 : VPIC_READY);
        break;
    case VPIC_ICW4:
        c->icw4 = value;
        finish_step(c, VPIC_READY);
        break;
    }
}

static void eoi_level(struct vpic_chip *c, unsigned level, bool rotate)
{
    c->isr &= (uint8_t)~bit(level);
    if (rotate)
        c->lowest = (uint8_t)level;
}

/* OCW2 (datasheet "Operation command words", table of R/SL/EOI codes). */
static void write_ocw2(struct vpic_chip *c, uint8_t value)
{
    unsigned level = value & PIC_OCW2_LEVEL;
    int top = highest(c, c->isr);
    switch (value & PIC_OCW2_CMD) {
    case PIC_OCW2_EOI:
    case PIC_OCW2_ROT_EOI:
        if (top >= 0)
            eoi_level(c, (unsigned)top, (value & PIC_OCW2_CMD) == PIC_OCW2_ROT_EOI);
        break;
    case PIC_OCW2_SEOI:
    case PIC_OCW2_ROT_SEOI:
        eoi_level(c, level, (value & PIC_OCW2_CMD) == PIC_OCW2_ROT_SEOI);
        break;
    case PIC_OCW2_SET_PRIO:
        c->lowest = (uint8_t)level;
        break;
    case PIC_OCW2_ROT_AEOI_S:
        c->rotate_aeoi = true;
        break;
    case PIC_OCW2_ROT_AEOI_C:
        c->rotate_aeoi = false;
        break;
    default: /* PIC_OCW2_NOP */
        break;
    }
}

/* OCW3: register read select (only with RR), poll, special mask mode (only with ESMM). */
static void write_ocw3(struct vpic_chip *c, uint8_t value)
{
    if (value & PIC_OCW3_RR)
        c->read_isr = value & PIC_OCW3_RIS;
    if (value & PIC_OCW3_ESMM)
        c->special_mask = value & PIC_OCW3_SMM;
    c->poll = value & PIC_OCW3_P;
}

/* The poll word (datasheet "The poll command"): the read is the interrupt acknowledge. */
static uint8_t read_poll(struct vpic_chip *c, bool master)
{
    c->poll = false;
    int level = chip_pending(c, master);
    if (level < 0)
        return 0;
    chip_service(c, (unsigned)level);
    return (uint8_t)(PIC_POLL_INT | (unsigned)level);
}

/* Which chip a port belongs to, and whether it is that chip's A0 = 1 (data) port. */
static struct vpic_chip *port_chip(struct vpic *p, uint16_t port, bool *data)
{
    *data = port & 1u;
    if (port == PIC_MASTER_CMD || port == PIC_MASTER_DATA || port == PIC_ELCR1)
        return &p->chip[MASTER];
    if (port == PIC_SLAVE_CMD || port == PIC_SLAVE_DATA || port == PIC_ELCR2)
        return &p->chip[SLAVE];
    return 0;
}

static void write_elcr(struct vpic_chip *c, bool master, uint8_t value)
{
    c->elcr = value & (master ? PIC_ELCR1_WRITABLE : PIC_ELCR2_WRITABLE);
    uint8_t level = level_mask(c);
    c->irr = (uint8_t)((c->irr & (uint8_t)~level) | (c->pins & level));
}

uint8_t vpic_read(struct vpic *p, uint16_t port)
{
    bool data;
    struct vpic_chip *c = port_chip(p, port, &data);
    if (!c)
        return OPEN_BUS;
    bool master = c == &p->chip[MASTER];
    if (port == PIC_ELCR1 || port == PIC_ELCR2)
        return c->elcr;
    if (data)
        return c->imr;
    if (!c->poll)
        return c->read_isr ? c->isr : c->irr;
    uint8_t word = read_poll(c, master);
    if (!master)
        slave_int_dropped(p);
    update(p);
    return word;
}

void vpic_write(struct vpic *p, uint16_t port, uint8_t value)
{
    bool data;
    struct vpic_chip *c = port_chip(p, port, &data);
    if (!c)
        return;
    bool master = c == &p->chip[MASTER];
    if (port == PIC_ELCR1 || port == PIC_ELCR2)
        write_elcr(c, master, value);
    else if (data)
        write_data(c, value);
    else if (value & PIC_ICW1)
        write_icw1(c, value);
    else if (value & PIC_OCW3)
        write_ocw3(c, value);
    else
        write_ocw2(c, value);
    update(p);
}

/* A wider access is split into byte accesses of consecutive ports, as the ISA bus does. */
static uint32_t io_in(void *dev, uint16_t port, unsigned size)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)vpic_read(dev, (uint16_t)(port + i)) << (BYTE_BITS * i);
    return value;
}

static void io_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size; i++)
        vpic_write(dev, (uint16_t)(port + i), (uint8_t)(value >> (BYTE_BITS * i)));
}

static const struct vdev_io_ops vpic_io_ops = {io_in, io_out};

static void sink_set_line(void *ctl, unsigned line, bool asserted)
{
    vpic_set_irq(ctl, line, asserted);
}

void vpic_init(struct vpic *p, const struct vdev_host *host)
{
    memset(p, 0, sizeof(*p));
    p->host = host;
    for (unsigned i = 0; i < sizeof(p->chip) / sizeof(p->chip[0]); i++)
        p->chip[i].lowest = LEVELS - 1;
}

int vpic_attach(struct vpic *p, struct vdev_bus *bus, struct vdev_irq_router *router)
{
    const struct vdev_irq_sink sink = {VDEV_IRQ_ISA, sink_set_line, p};
    if (vdev_bus_add_io(bus, "pic-master", PIC_MASTER_CMD, PIC_PORT_COUNT, &vpic_io_ops, p) ||
        vdev_bus_add_io(bus, "pic-slave", PIC_SLAVE_CMD, PIC_PORT_COUNT, &vpic_io_ops, p) ||
        vdev_bus_add_io(bus, "elcr", PIC_ELCR1, PIC_ELCR_PORTS, &vpic_io_ops, p))
        return -1;
    return vdev_irq_add_sink(router, &sink);
}
