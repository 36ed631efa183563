/* The guest's simple 16550 (drivers/vdev/uart.h). */
#include "drivers/vdev/uart.h"
#include "drivers/uart16550.h"
#include "kernel/lib/string.h"

#define UART_FCR_FIFO_ENABLE  0x01
#define UART_IIR_FIFO_ENABLED 0xC0

static uint32_t uart_in(void *dev, uint16_t port, unsigned size)
{
    struct vdev_uart *u = dev;
    (void)size;
    unsigned reg = port & (UART_PORT_COUNT - 1);
    bool dlab = u->regs[UART_LCR] & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR:
        return dlab ? u->dll : 0;
    case UART_IER:
        return dlab ? u->dlm : u->regs[UART_IER];
    case UART_IIR:
        return UART_IIR_NO_INT |
               ((u->regs[UART_FCR] & UART_FCR_FIFO_ENABLE) ? UART_IIR_FIFO_ENABLED : 0);
    case UART_LSR:
        return UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE;
    case UART_MSR:
        return 0;
    default: /* LCR, MCR, SCR read back */
        return u->regs[reg];
    }
}

static void uart_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    struct vdev_uart *u = dev;
    (void)size;
    unsigned reg = port & (UART_PORT_COUNT - 1);
    bool dlab = u->regs[UART_LCR] & UART_LCR_DLAB;
    if (reg == UART_THR && dlab)
        u->dll = (uint8_t)value;
    else if (reg == UART_THR) {
        char c = (char)value;
        u->host->console_write(u->host->ctx, &c, 1);
    } else if (reg == UART_IER && dlab)
        u->dlm = (uint8_t)value;
    else if (reg != UART_LSR && reg != UART_MSR) /* status registers are read-only */
        u->regs[reg] = (uint8_t)value;
}

static const struct vdev_io_ops uart_ops = {uart_in, uart_out};

void vdev_uart_init(struct vdev_uart *u, const struct vdev_host *host)
{
    memset(u, 0, sizeof(*u));
    u->host = host;
}

int vdev_uart_attach(struct vdev_uart *u, struct vdev_bus *bus, uint16_t base)
{
    return vdev_bus_add_io(bus, "com1", base, UART_PORT_COUNT, &uart_ops, u);
}
