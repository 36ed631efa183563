/* A virtual NS16550A UART with interrupts (drivers/vdev/vuart.h). */
#include "drivers/vdev/vuart.h"
#include "kernel/lib/string.h"

/* FCR bits 7:6 -> RX FIFO trigger level (datasheet, FCR description). */
static const unsigned rx_trigger_bytes[4] = {1, 4, 8, 14};

static uint8_t loopback_msr_inputs(uint8_t mcr)
{
    /* datasheet MCR bit 4: in loopback, RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD internally */
    uint8_t in = 0;
    in |= (mcr & VUART_MCR_RTS) ? VUART_MSR_CTS : 0;
    in |= (mcr & VUART_MCR_DTR) ? VUART_MSR_DSR : 0;
    in |= (mcr & VUART_MCR_OUT1) ? VUART_MSR_RI : 0;
    in |= (mcr & VUART_MCR_OUT2) ? VUART_MSR_DCD : 0;
    return in;
}

static uint8_t modem_inputs(const struct vuart *u)
{
    return (u->mcr & VUART_MCR_LOOP) ? loopback_msr_inputs(u->mcr) : VUART_MSR_EXTERNAL;
}

/* New modem inputs: the delta bits record what changed (TERI only on RI going off). */
static void set_modem_inputs(struct vuart *u, uint8_t in)
{
    uint8_t old = u->msr & ~VUART_MSR_DELTA, changed = old ^ in;
    uint8_t delta = u->msr & VUART_MSR_DELTA;
    delta |= (changed & VUART_MSR_CTS) ? VUART_MSR_DCTS : 0;
    delta |= (changed & VUART_MSR_DSR) ? VUART_MSR_DDSR : 0;
    delta |= (changed & VUART_MSR_DCD) ? VUART_MSR_DDCD : 0;
    delta |= ((old & VUART_MSR_RI) && !(in & VUART_MSR_RI)) ? VUART_MSR_TERI : 0;
    u->msr = (uint8_t)(in | delta);
}

static unsigned rx_capacity(const struct vuart *u)
{
    return u->fifo_enabled ? VUART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct vuart *u)
{
    return rx_trigger_bytes[(u->fcr & VUART_FCR_TRIGGER_MASK) >> VUART_FCR_TRIGGER_SHIFT];
}

/* The highest-priority pending interrupt's IIR source, or VUART_IIR_NO_INT (datasheet Table
   II: line status > received data / timeout > THRE > modem status). */
static uint8_t pending_source(const struct vuart *u)
{
    if ((u->ier & VUART_IER_ELSI) && u->lsr_errors)
        return VUART_IIR_ID_LINE;
    if ((u->ier & VUART_IER_ERBFI) && u->rx_count) {
        if (!u->fifo_enabled || u->rx_count >= rx_trigger(u))
            return VUART_IIR_ID_RX_DATA;
        return VUART_IIR_ID_TIMEOUT; /* see vuart.h: the timeout counts as elapsed */
    }
    if ((u->ier & VUART_IER_ETBEI) && u->thre_pending)
        return VUART_IIR_ID_THRE;
    if ((u->ier & VUART_IER_EDSSI) && (u->msr & VUART_MSR_DELTA))
        return VUART_IIR_ID_MODEM;
    return VUART_IIR_NO_INT;
}

/* The INTR pin reaches the ISA bus through OUT2 on a PC; in loopback the MCR outputs are forced
   inactive (datasheet MCR bit 4), so the IRQ is off too. */
static void update_irq(struct vuart *u)
{
    bool gate = (u->mcr & VUART_MCR_OUT2) && !(u->mcr & VUART_MCR_LOOP);
    vdev_irq_set(u->router, u->irq, gate && pending_source(u) != VUART_IIR_NO_INT);
}

static void rx_clear(struct vuart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

void vuart_init(struct vuart *u, const struct vdev_host *host, struct vdev_irq_router *router,
                unsigned irq)
{
    memset(u, 0, sizeof(*u));
    u->host = host;
    u->router = router;
    u->irq = irq;
    u->msr = VUART_MSR_EXTERNAL;
}

/* Puts a byte into the receiver; false (and OE) when it overruns. With FIFOs on, the byte in the
   shift register is lost and the FIFO kept; in 16450 mode the new byte overwrites RBR. */
static bool rx_push(struct vuart *u, uint8_t byte)
{
    unsigned cap = rx_capacity(u);
    if (u->rx_count == cap) {
        u->lsr_errors |= VUART_LSR_OE;
        if (!u->fifo_enabled)
            u->rx[u->rx_head] = byte;
        return false;
    }
    u->rx[(u->rx_head + u->rx_count) % VUART_FIFO_SIZE] = byte;
    u->rx_count++;
    return true;
}

int vuart_receive(struct vuart *u, uint8_t byte)
{
    if (u->mcr & VUART_MCR_LOOP)
        return -1;
    bool ok = rx_push(u, byte);
    update_irq(u);
    return ok ? 0 : -1;
}

bool vuart_rx_full(const struct vuart *u)
{
    return u->rx_count == rx_capacity(u);
}

static uint8_t rx_pop(struct vuart *u)
{
    if (!u->rx_count)
        return 0; /* an empty RBR reads as the last byte on hardware; 0 is as good */
    uint8_t byte = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % VUART_FIFO_SIZE;
    u->rx_count--;
    return byte;
}

static uint8_t read_iir(struct vuart *u)
{
    uint8_t source = pending_source(u);
    /* datasheet Table II: reading IIR when THRE is the source clears that interrupt */
    if (source == VUART_IIR_ID_THRE)
        u->thre_pending = false;
    return (uint8_t)(source | (u->fifo_enabled ? VUART_IIR_FIFO_ENABLED : 0));
}

static uint8_t read_lsr(struct vuart *u)
{
    /* transmission is instantaneous: the holding register and the shift register are empty */
    uint8_t lsr = VUART_LSR_THRE | VUART_LSR_TEMT | u->lsr_errors;
    if (u->rx_count)
        lsr |= VUART_LSR_DR;
    u->lsr_errors = 0; /* reading LSR clears OE and with it the line status interrupt */
    return lsr;
}

static uint8_t read_msr(struct vuart *u)
{
    uint8_t msr = u->msr;
    u->msr &= (uint8_t)~VUART_MSR_DELTA;
    return msr;
}

static uint8_t vuart_read(struct vuart *u, unsigned reg)
{
    bool dlab = (u->lcr & VUART_LCR_DLAB) != 0;
    switch (reg) {
    case UART_RBR:
        return dlab ? u->dll : rx_pop(u);
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR: /* readable whatever DLAB says (Linux's EFR probes rely on it) */
        return read_iir(u);
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        return read_lsr(u);
    case UART_MSR:
        return read_msr(u);
    default:
        return u->scr;
    }
}

static void write_thr(struct vuart *u, uint8_t byte)
{
    if (u->mcr & VUART_MCR_LOOP) {
        /* datasheet MCR bit 4: the transmitter output loops back to the receiver input */
        rx_push(u, byte);
    } else {
        const char c = (char)byte;
        u->host->console_write(u->host->ctx, &c, 1);
    }
    /* the byte left the holding register at once: THR is empty again, which raises THRE */
    u->thre_pending = true;
}

static void write_ier(struct vuart *u, uint8_t value)
{
    u->ier = value & VUART_IER_MASK;
    /* enabling ETBEI while THR is empty (it always is here) raises the THRE interrupt; Linux's
       serial8250_do_startup tests exactly that before trusting the IRQ */
    if (u->ier & VUART_IER_ETBEI)
        u->thre_pending = true;
}

static void write_fcr(struct vuart *u, uint8_t value)
{
    bool enable = (value & VUART_FCR_ENABLE) != 0;
    /* switching the FIFO mode either way empties the FIFOs */
    if (enable != u->fifo_enabled)
        rx_clear(u);
    u->fifo_enabled = enable;
    if (!enable)
        return; /* the other bits are programmed only together with FCR bit 0 */
    if (value & VUART_FCR_CLEAR_RX)
        rx_clear(u);
    /* the TX FIFO is always empty: CLEAR_TX has nothing to clear */
    u->fcr = value & (VUART_FCR_ENABLE | VUART_FCR_DMA_MODE | VUART_FCR_TRIGGER_MASK);
}

static void write_mcr(struct vuart *u, uint8_t value)
{
    u->mcr = value & VUART_MCR_MASK;
    set_modem_inputs(u, modem_inputs(u));
}

static void vuart_write(struct vuart *u, unsigned reg, uint8_t value)
{
    bool dlab = (u->lcr & VUART_LCR_DLAB) != 0;
    switch (reg) {
    case UART_THR:
        if (dlab)
            u->dll = value;
        else
            write_thr(u, value);
        break;
    case UART_IER:
        if (dlab)
            u->dlm = value;
        else
            write_ier(u, value);
        break;
    case UART_FCR:
        write_fcr(u, value);
        break;
    case UART_LCR:
        u->lcr = value;
        break;
    case UART_MCR:
        write_mcr(u, value);
        break;
    case UART_SCR:
        u->scr = value;
        break;
    default: /* LSR and MSR are read-only (factory test use on the datasheet) */
        break;
    }
}

static uint32_t vuart_io_in(void *dev, uint16_t port, unsigned size)
{
    struct vuart *u = dev;
    (void)size; /* wider accesses act on the addressed byte register only */
    uint8_t value = vuart_read(u, (unsigned)(port - u->base));
    update_irq(u);
    return value;
}

static void vuart_io_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    struct vuart *u = dev;
    (void)size;
    vuart_write(u, (unsigned)(port - u->base), (uint8_t)value);
    update_irq(u);
}

static const struct vdev_io_ops vuart_ops = {vuart_io_in, vuart_io_out};

int vuart_attach(struct vuart *u, struct vdev_bus *bus, uint16_t base)
{
    if (vdev_bus_add_io(bus, "16550a", base, UART_PORT_COUNT, &vuart_ops, u) < 0)
        return -1;
    u->base = base;
    return 0;
}
