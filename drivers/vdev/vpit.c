/* The 8254 PIT and port 0x61 (drivers/vdev/vpit.h; Intel 8254 datasheet).
 *
 * Time: the counters are not stepped. Each counter keeps the guest TSC at which its count (or
 * its current period) began, and the count, OUT and the next OUT edge are computed from the
 * PIT clocks elapsed since then: clocks = (now - start) * 1193182 / tsc_hz, rounded down. Every
 * deadline is computed from that start, never from the time a timer fired, so periodic
 * interrupts do not drift.
 *
 * Counter states ("counting"):
 *   modes 0/4: a count was written; counting, but frozen while GATE is low ("remaining" holds
 *              the clocks left to terminal count when it resumes at "start");
 *   modes 1/5: a GATE rising edge triggered the count written before;
 *   modes 2/3: a count was written and GATE is high; GATE low stops the counter (OUT high) and
 *              its rising edge restarts the period.
 * Counter 0's OUT drives ISA IRQ 0: in mode 0 the line follows OUT (low from the count write,
 * high at terminal count); in the other modes each rising edge of OUT is a pulse on the line.
 */
#include "drivers/vdev/vpit.h"
#include "kernel/lib/string.h"

#define IRQ0_CHANNEL  0
#define GATE2_CHANNEL 2
#define BYTE_BITS     8
#define BYTE_MASK     0xFFu
#define BCD_DIGITS    4
#define BCD_DIGIT     0xFu
#define BCD_BITS      4
#define OPEN_BUS      0xFFu /* the control word register does not drive the bus on reads */
#define DECIMAL       10u

static uint64_t now_tsc(const struct vpit *t)
{
    return t->host->now(t->host->ctx);
}

/* PIT clocks elapsed from `from` to `to` (0 when `to` is not later). */
static uint64_t clocks_between(const struct vpit *t, uint64_t from, uint64_t to)
{
    if (to <= from)
        return 0;
    return vdev_tsc_to_ticks(to - from, PIT_HZ, t->host->tsc_hz);
}

/* The first guest TSC at which `clocks` PIT clocks have elapsed since `from`: rounding the
   conversion up keeps clocks_between(from, result) >= clocks, so a timer set for an edge sees
   that edge when it fires. */
static uint64_t tsc_after(const struct vpit *t, uint64_t from, uint64_t clocks)
{
    uint64_t hz = t->host->tsc_hz;
    uint64_t tsc = vdev_ticks_to_tsc(clocks, PIT_HZ, hz);
    if (vdev_tsc_to_ticks(tsc, PIT_HZ, hz) < clocks)
        tsc++;
    return from + tsc;
}

static bool is_periodic(const struct vpit_channel *c)
{
    return c->mode == PIT_MODE_RATE || c->mode == PIT_MODE_SQUARE;
}

static bool is_gate_triggered(const struct vpit_channel *c)
{
    return c->mode == PIT_MODE_ONESHOT || c->mode == PIT_MODE_HW_STROBE;
}

/* Modes 0 and 4: GATE low disables counting (datasheet "GATE pin operations summary"). */
static bool is_gate_paused(const struct vpit_channel *c)
{
    return !c->gate && (c->mode == PIT_MODE_TC_INT || c->mode == PIT_MODE_SW_STROBE);
}

static uint32_t modulus(const struct vpit_channel *c)
{
    return c->bcd ? PIT_BCD_MODULUS : PIT_BINARY_MODULUS;
}

/* The initial count a CR value stands for: 0 is the largest count (2^16 binary, 10^4 BCD). */
static uint32_t decode_count(const struct vpit_channel *c, uint16_t raw)
{
    uint32_t v = raw;
    if (c->bcd) {
        v = 0;
        for (int d = BCD_DIGITS - 1; d >= 0; d--)
            v = v * DECIMAL + ((raw >> (BCD_BITS * d)) & BCD_DIGIT);
    }
    return v ? v : modulus(c);
}

/* A counting-element value (0 .. modulus-1) as the counter presents it. */
static uint16_t encode_count(const struct vpit_channel *c, uint32_t v)
{
    if (!c->bcd)
        return (uint16_t)v;
    uint16_t raw = 0;
    for (unsigned d = 0; d < BCD_DIGITS; d++, v /= DECIMAL)
        raw |= (uint16_t)((v % DECIMAL) << (BCD_BITS * d));
    return raw;
}

/* Modes 2/3: a count written during counting becomes the period at the end of the current one
   (datasheet mode 2 / mode 3: "the current counting sequence is not affected"). */
static void catch_up(struct vpit_channel *c, uint64_t now)
{
    if (!c->reload_pending || now < c->reload_at)
        return;
    c->start = c->reload_at;
    c->count = c->next_count;
    c->reload_pending = false;
    c->null_count = false;
}

/* Clocks the counting element has counted since `start` (0 while it is stopped). */
static uint64_t elapsed(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    if (!c->counting || is_gate_paused(c))
        return 0;
    return clocks_between(t, c->start, now);
}

/* Modes 0/1/4/5: clocks left to terminal count (<= 0 once it passed). */
static int64_t to_terminal(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    return c->remaining - (int64_t)elapsed(t, c, now);
}

/* The counting element now, 0 .. modulus-1. Mode 2 counts N..1. Mode 3 counts down by two in
   each half-period, from N for an even N and from N-1 for an odd one (the odd count's high half
   holds one more clock, at 0). The one-shot modes wrap past terminal count and keep counting. */
static uint32_t ce_value(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    uint32_t m = modulus(c);
    if (!c->counting)
        return c->frozen;
    if (is_periodic(c)) {
        uint32_t pos = (uint32_t)(elapsed(t, c, now) % c->count);
        uint32_t high = (c->count + 1) / 2;
        uint32_t v = c->count - pos;
        if (c->mode == PIT_MODE_SQUARE)
            v = (c->count & ~1u) - 2 * (pos < high ? pos : pos - high);
        return v % m;
    }
    int64_t r = to_terminal(t, c, now) % (int64_t)m;
    return (uint32_t)(r < 0 ? r + m : r);
}

/* OUT per mode (datasheet mode descriptions). */
static bool out_level(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    if (!c->counting)
        return c->mode != PIT_MODE_TC_INT; /* after the control word: mode 0 low, others high */
    if (is_periodic(c)) {
        uint32_t pos = (uint32_t)(elapsed(t, c, now) % c->count);
        if (c->mode == PIT_MODE_RATE)
            return pos != c->count - 1; /* low for the one clock at count 1 */
        return pos < (c->count + 1) / 2;
    }
    int64_t r = to_terminal(t, c, now);
    switch (c->mode) {
    case PIT_MODE_TC_INT:
    case PIT_MODE_ONESHOT:
        return r <= 0; /* high from terminal count on */
    default:
        return r != 0; /* strobes: low for the clock at terminal count */
    }
}

/* ---- counter 0: the IRQ 0 timer ---- */

/* The next rising edge of OUT, as a guest TSC, or UINT64_MAX. */
static uint64_t next_rising_edge(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    if (!c->counting || is_gate_paused(c) || !t->host->tsc_hz)
        return UINT64_MAX;
    if (is_periodic(c)) {
        if (c->reload_pending)
            return c->reload_at; /* the current period's end */
        uint64_t period = elapsed(t, c, now) / c->count + 1;
        return tsc_after(t, c->start, period * c->count);
    }
    int64_t r = to_terminal(t, c, now);
    if (c->mode == PIT_MODE_TC_INT || c->mode == PIT_MODE_ONESHOT)
        return r > 0 ? tsc_after(t, c->start, (uint64_t)c->remaining) : UINT64_MAX;
    return r >= 0 ? tsc_after(t, c->start, (uint64_t)c->remaining + 1) : UINT64_MAX;
}

static void arm_irq0(struct vpit *t, uint64_t now)
{
    if (!t->timer_ok)
        return;
    vdev_timer_cancel(&t->timer);
    uint64_t deadline = next_rising_edge(t, &t->ch[IRQ0_CHANNEL], now);
    if (deadline != UINT64_MAX)
        vdev_timer_arm(&t->timer, deadline);
}

/* After counter 0 changed state: mode 0's line follows OUT; the other modes leave the line low
   between their edge pulses. */
static void sync_irq0(struct vpit *t, uint64_t now)
{
    const struct vpit_channel *c = &t->ch[IRQ0_CHANNEL];
    vdev_irq_set(t->router, VDEV_IRQ_PIT, c->mode == PIT_MODE_TC_INT && out_level(t, c, now));
    arm_irq0(t, now);
}

static void irq0_fire(void *dev, uint64_t now)
{
    struct vpit *t = dev;
    struct vpit_channel *c = &t->ch[IRQ0_CHANNEL];
    catch_up(c, now);
    if (c->mode == PIT_MODE_TC_INT)
        vdev_irq_set(t->router, VDEV_IRQ_PIT, out_level(t, c, now));
    else
        vdev_irq_pulse(t->router, VDEV_IRQ_PIT);
    arm_irq0(t, now);
}

/* An edge that is due but whose timer has not run yet is delivered before a port access can
   reprogram counter 0 and make it vanish. */
static void run_overdue(struct vpit *t, uint64_t now)
{
    if (t->timer_ok && t->timer.armed && t->timer.deadline <= now)
        irq0_fire(t, now);
}

static void channel_changed(struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    if (c == &t->ch[IRQ0_CHANNEL])
        sync_irq0(t, now);
}

/* ---- programming ---- */

/* A control word with RW != 0: the counter's control logic is reset and OUT takes its mode's
   initial level; counting waits for a count (datasheet "Write operations"). */
static void write_mode(struct vpit *t, struct vpit_channel *c, uint8_t cw, uint64_t now)
{
    c->frozen = (uint16_t)ce_value(t, c, now);
    unsigned mode = (cw >> PIT_CW_MODE_SHIFT) & PIT_CW_MODE_MASK;
    c->mode = (uint8_t)(mode > PIT_MODE_HW_STROBE ? mode & PIT_MODE_ALIAS_MASK : mode);
    c->rw = (cw >> PIT_CW_RW_SHIFT) & PIT_CW_RW_MASK;
    c->bcd = cw & PIT_CW_BCD;
    c->cr_valid = false;
    c->counting = false;
    c->reload_pending = false;
    c->null_count = true;
    c->write_msb = false;
    c->read_msb = false;
    c->count_latched = false;
    c->status_latched = false;
    c->latch_msb = false;
}

static void start_periodic(struct vpit_channel *c, uint64_t now)
{
    c->count = decode_count(c, c->cr);
    c->start = now;
    c->counting = true;
    c->reload_pending = false;
    c->null_count = false;
}

static void start_one_shot(struct vpit_channel *c, uint64_t now)
{
    c->remaining = decode_count(c, c->cr);
    c->start = now;
    c->counting = true;
    c->null_count = false;
}

/* A complete count arrived in CR. */
static void count_written(struct vpit *t, struct vpit_channel *c, uint64_t now)
{
    c->cr_valid = true;
    c->null_count = true;
    if (c->mode == PIT_MODE_TC_INT || c->mode == PIT_MODE_SW_STROBE) {
        start_one_shot(c, now); /* frozen at the full count while GATE is low */
    } else if (is_periodic(c) && c->counting) {
        catch_up(c, now);
        if (!c->reload_pending) {
            uint64_t periods = elapsed(t, c, now) / c->count + 1;
            c->reload_at = tsc_after(t, c->start, periods * c->count);
            c->reload_pending = true;
        }
        c->next_count = decode_count(c, c->cr);
    } else if (is_periodic(c) && c->gate) {
        start_periodic(c, now);
    }
    /* modes 1/5 (and 2/3 with GATE low) wait for a GATE rising edge */
}

static void write_count(struct vpit *t, struct vpit_channel *c, uint8_t value, uint64_t now)
{
    switch (c->rw) {
    case PIT_RW_LSB:
        c->cr = value;
        break;
    case PIT_RW_MSB:
        c->cr = (uint16_t)(value << BYTE_BITS);
        break;
    default: /* PIT_RW_WORD */
        if (!c->write_msb) {
            c->cr = (uint16_t)((c->cr & ~BYTE_MASK) | value);
            c->write_msb = true;
            /* Mode 0: writing the first byte disables counting and sets OUT low. */
            if (c->mode == PIT_MODE_TC_INT) {
                c->frozen = (uint16_t)ce_value(t, c, now);
                c->counting = false;
            }
            return;
        }
        c->cr = (uint16_t)((c->cr & BYTE_MASK) | (unsigned)value << BYTE_BITS);
        c->write_msb = false;
        break;
    }
    count_written(t, c, now);
}

static void set_gate(struct vpit *t, struct vpit_channel *c, bool gate, uint64_t now)
{
    if (gate == c->gate)
        return;
    catch_up(c, now);
    if (!gate) {
        if (is_periodic(c) && c->counting) {
            c->frozen = (uint16_t)ce_value(t, c, now);
            c->counting = false;
            c->reload_pending = false;
        } else if (c->counting && !is_gate_triggered(c)) {
            c->remaining = to_terminal(t, c, now); /* modes 0/4 pause */
        }
        c->gate = false;
        return;
    }
    c->gate = true;
    if (!c->cr_valid)
        return;
    if (is_periodic(c))
        start_periodic(c, now); /* the rising edge reloads the initial count */
    else if (is_gate_triggered(c))
        start_one_shot(c, now); /* the trigger (re)starts the one-shot or strobe */
    else if (c->counting)
        c->start = now; /* modes 0/4 resume */
}

/* ---- reading ---- */

static uint8_t status_byte(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    return (uint8_t)((out_level(t, c, now) ? PIT_STATUS_OUT : 0) |
                     (c->null_count ? PIT_STATUS_NULL : 0) | c->rw << PIT_CW_RW_SHIFT |
                     c->mode << PIT_CW_MODE_SHIFT | (c->bcd ? PIT_CW_BCD : 0));
}

/* A second latch before the first is read is ignored (datasheet "Counter latch command"). */
static void latch_count(const struct vpit *t, struct vpit_channel *c, uint64_t now)
{
    if (c->count_latched)
        return;
    c->latched_count = encode_count(c, ce_value(t, c, now));
    c->count_latched = true;
    c->latch_msb = false;
}

static void latch_status(const struct vpit *t, struct vpit_channel *c, uint64_t now)
{
    if (c->status_latched)
        return;
    c->latched_status = status_byte(t, c, now);
    c->status_latched = true;
}

static void read_back(struct vpit *t, uint8_t cw, uint64_t now)
{
    for (unsigned i = 0; i < PIT_CHANNELS; i++) {
        if (!(cw & (1u << (PIT_RB_CNT_SHIFT + i))))
            continue;
        struct vpit_channel *c = &t->ch[i];
        catch_up(c, now);
        if (!(cw & PIT_RB_NO_COUNT))
            latch_count(t, c, now);
        if (!(cw & PIT_RB_NO_STATUS))
            latch_status(t, c, now);
    }
}

/* Which byte of a 16-bit value the access mode delivers next; `msb` is the LSB-then-MSB
   flip-flop, toggled. Returns true when the value is completely read. */
static uint8_t next_byte(uint8_t rw, uint16_t value, bool *msb, bool *done)
{
    bool high = rw == PIT_RW_MSB || (rw == PIT_RW_WORD && *msb);
    *done = rw != PIT_RW_WORD || *msb;
    if (rw == PIT_RW_WORD)
        *msb = !*msb;
    return (uint8_t)(high ? value >> BYTE_BITS : value & BYTE_MASK);
}

/* Status first if latched, then a latched count, else the counting element as it runs. */
static uint8_t read_counter(struct vpit *t, struct vpit_channel *c, uint64_t now)
{
    bool done;
    if (c->status_latched) {
        c->status_latched = false;
        return c->latched_status;
    }
    if (c->count_latched) {
        uint8_t b = next_byte(c->rw, c->latched_count, &c->latch_msb, &done);
        c->count_latched = !done;
        return b;
    }
    catch_up(c, now);
    return next_byte(c->rw, encode_count(c, ce_value(t, c, now)), &c->read_msb, &done);
}

static uint8_t read_port_b(struct vpit *t, uint64_t now)
{
    struct vpit_channel *c2 = &t->ch[GATE2_CHANNEL];
    catch_up(c2, now);
    uint8_t v = (uint8_t)(t->port_b | (t->refresh ? PORTB_REFRESH : 0) |
                          (out_level(t, c2, now) ? PORTB_OUT2 : 0));
    t->refresh = !t->refresh;
    return v;
}

uint8_t vpit_read(struct vpit *t, uint16_t port)
{
    uint64_t now = now_tsc(t);
    run_overdue(t, now);
    if (port == PIT_PORT_B)
        return read_port_b(t, now);
    if (port >= PIT_PORT_COUNTER0 && port < PIT_PORT_CONTROL)
        return read_counter(t, &t->ch[port - PIT_PORT_COUNTER0], now);
    return OPEN_BUS; /* the control word register is write-only */
}

static void write_control(struct vpit *t, uint8_t cw, uint64_t now)
{
    unsigned sc = cw >> PIT_CW_SC_SHIFT;
    if (sc == PIT_CW_SC_READ) {
        read_back(t, cw, now);
        return;
    }
    struct vpit_channel *c = &t->ch[sc];
    catch_up(c, now);
    if (((cw >> PIT_CW_RW_SHIFT) & PIT_CW_RW_MASK) == PIT_RW_LATCH) {
        latch_count(t, c, now);
        return;
    }
    write_mode(t, c, cw, now);
    channel_changed(t, c, now);
}

void vpit_write(struct vpit *t, uint16_t port, uint8_t value)
{
    uint64_t now = now_tsc(t);
    run_overdue(t, now);
    if (port == PIT_PORT_B) {
        t->port_b = value & PORTB_WRITABLE;
        set_gate(t, &t->ch[GATE2_CHANNEL], value & PORTB_GATE2, now);
    } else if (port == PIT_PORT_CONTROL) {
        write_control(t, value, now);
    } else if (port >= PIT_PORT_COUNTER0 && port < PIT_PORT_CONTROL) {
        struct vpit_channel *c = &t->ch[port - PIT_PORT_COUNTER0];
        catch_up(c, now);
        write_count(t, c, value, now);
        channel_changed(t, c, now);
    }
}

/* A wider access is split into byte accesses of consecutive ports, as the ISA bus does. */
static uint32_t io_in(void *dev, uint16_t port, unsigned size)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)vpit_read(dev, (uint16_t)(port + i)) << (BYTE_BITS * i);
    return value;
}

static void io_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size; i++)
        vpit_write(dev, (uint16_t)(port + i), (uint8_t)(value >> (BYTE_BITS * i)));
}

static const struct vdev_io_ops vpit_io_ops = {io_in, io_out};

/* Power-up state (undefined per the datasheet): every counter idle in mode 3, LSB then MSB,
   with no count, so nothing counts until the guest programs it. GATE 0 and 1 are tied high;
   GATE 2 is port 0x61 bit 0, clear. */
void vpit_init(struct vpit *t, const struct vdev_host *host, struct vdev_timers *timers,
               struct vdev_irq_router *router)
{
    memset(t, 0, sizeof(*t));
    t->host = host;
    t->router = router;
    for (unsigned i = 0; i < PIT_CHANNELS; i++) {
        struct vpit_channel *c = &t->ch[i];
        c->mode = PIT_MODE_SQUARE;
        c->rw = PIT_RW_WORD;
        c->gate = i != GATE2_CHANNEL;
        c->null_count = true;
    }
    t->timer_ok = vdev_timer_add(timers, &t->timer, irq0_fire, t) == 0;
}

int vpit_attach(struct vpit *t, struct vdev_bus *bus)
{
    if (!t->timer_ok ||
        vdev_bus_add_io(bus, "pit", PIT_PORT_COUNTER0, PIT_PORT_COUNT, &vpit_io_ops, t) ||
        vdev_bus_add_io(bus, "port-b", PIT_PORT_B, 1, &vpit_io_ops, t))
        return -1;
    return 0;
}
