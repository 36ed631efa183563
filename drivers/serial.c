/* Polled 16550 driver for hv's console. */
#include "drivers/serial.h"
#include "drivers/uart16550.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/string.h"

#define SERIAL_BAUD         115200
#define SERIAL_SCRATCH_TEST 0x5A
/* Bounded wait for the transmitter: a UART that stops draining must not hang hv. */
#define SERIAL_TX_SPINS 100000

bool serial_init(struct serial *s, uint16_t base)
{
    s->base = base;
    /* A missing UART floats the bus: the scratch register will not hold a value. */
    hw_outb(base + UART_SCR, SERIAL_SCRATCH_TEST);
    s->present = hw_inb(base + UART_SCR) == SERIAL_SCRATCH_TEST;
    if (!s->present)
        return false;
    hw_outb(base + UART_IER, 0);
    hw_outb(base + UART_LCR, UART_LCR_DLAB);
    hw_outb(base + UART_DLL, UART_BAUD_DIVISOR(SERIAL_BAUD) & 0xFF);
    hw_outb(base + UART_DLM, UART_BAUD_DIVISOR(SERIAL_BAUD) >> 8);
    hw_outb(base + UART_LCR, UART_LCR_8N1);
    hw_outb(base + UART_FCR, UART_FCR_ENABLE_CLEAR);
    hw_outb(base + UART_MCR, UART_MCR_DTR_RTS_OUT2);
    s->tx_fifo =
        (hw_inb(base + UART_IIR) & UART_IIR_FIFOS_ON) == UART_IIR_FIFOS_ON ? UART_TX_FIFO_SIZE : 1;
    return true;
}

static void serial_putc(const struct serial *s, char c)
{
    for (int i = 0; i < SERIAL_TX_SPINS; i++) {
        if (hw_inb(s->base + UART_LSR) & UART_LSR_THR_EMPTY)
            break;
        hw_pause();
    }
    hw_outb(s->base + UART_THR, (uint8_t)c);
}

void serial_write(const struct serial *s, const char *buf, size_t len)
{
    if (!s->present)
        return;
    for (size_t i = 0; i < len; i++)
        serial_putc(s, buf[i]);
}

unsigned serial_tx_room(const struct serial *s)
{
    if (!s->present || !(hw_inb(s->base + UART_LSR) & UART_LSR_THR_EMPTY))
        return 0;
    return s->tx_fifo; /* THRE with FIFOs on: the whole transmit FIFO is empty */
}

void serial_put_now(const struct serial *s, uint8_t byte)
{
    hw_outb(s->base + UART_THR, byte);
}

int serial_getc(const struct serial *s, bool *overrun)
{
    if (!s->present)
        return -1;
    uint8_t lsr = hw_inb(s->base + UART_LSR);
    if (lsr & UART_LSR_OVERRUN)
        *overrun = true;
    if (!(lsr & UART_LSR_DATA_READY))
        return -1;
    return hw_inb(s->base + UART_RBR);
}

void serial_drain(const struct serial *s)
{
    if (!s->present)
        return;
    for (int i = 0; i < SERIAL_TX_SPINS; i++) {
        if (hw_inb(s->base + UART_LSR) & UART_LSR_TX_IDLE)
            return;
        hw_pause();
    }
}

uint16_t serial_port_by_name(const char *name)
{
    static const struct {
        const char *name;
        uint16_t base;
    } ports[] = {
        {"com1", UART_COM1_BASE},
        {"com2", UART_COM2_BASE},
        {"com3", UART_COM3_BASE},
        {"com4", UART_COM4_BASE},
    };
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
        if (!strcmp(name, ports[i].name))
            return ports[i].base;
    return 0;
}
