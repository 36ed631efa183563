/*
 * A virtual NS16550A UART with interrupts (NS16550A datasheet: "Register description",
 * "FIFO interrupt mode operation", Table II "Interrupt control functions"). One struct per port
 * base; the PC wiring puts COM1 at 0x3F8 on ISA IRQ 4 and gates the IRQ with MCR.OUT2.
 *
 * Transmit is instantaneous: a THR write goes to host->console_write at once (in loopback mode
 * to the receive FIFO instead), so the transmitter is always empty and the THRE interrupt is
 * re-armed right after every THR write.
 *
 * Receive: vuart_receive() puts a host byte into the 16-byte RX FIFO (the 1-byte RBR with
 * FIFOs off). The character-timeout indication (datasheet: no character in or out of the FIFO
 * for 4 character times while it holds fewer bytes than the trigger level) is simplified: it is
 * reported whenever the FIFO holds 1..trigger-1 bytes, i.e. the 4 character times count as
 * already elapsed. Host input arrives in bursts between guest runs, so the guest never sees a
 * difference other than an earlier interrupt, and the device needs no timer.
 *
 * Not modelled: baud-rate timing, the DMA mode pins (FCR bit 3 is stored only), parity, framing
 * and break errors (LSR PE/FE/BI and bit 7 stay 0), the transmit break (LCR bit 6 is stored).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/uart16550.h"
#include "drivers/vdev/vdev.h"

/* ---- the hardware interface (register offsets are in drivers/uart16550.h) ---- */

#define VUART_FIFO_SIZE 16

/* IER: interrupt enables (the upper four bits do not exist on the 16550A and read 0). */
#define VUART_IER_ERBFI 0x01 /* received data available (and character timeout) */
#define VUART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define VUART_IER_ELSI  0x04 /* receiver line status */
#define VUART_IER_EDSSI 0x08 /* modem status */
#define VUART_IER_MASK  0x0F

/* IIR: bit 0 = no interrupt pending, bits 3:1 the source, bits 7:6 set while FIFOs are on. */
#define VUART_IIR_NO_INT       0x01
#define VUART_IIR_ID_MODEM     0x00
#define VUART_IIR_ID_THRE      0x02
#define VUART_IIR_ID_RX_DATA   0x04
#define VUART_IIR_ID_LINE      0x06
#define VUART_IIR_ID_TIMEOUT   0x0C
#define VUART_IIR_FIFO_ENABLED 0xC0

/* FCR (write-only). */
#define VUART_FCR_ENABLE        0x01
#define VUART_FCR_CLEAR_RX      0x02
#define VUART_FCR_CLEAR_TX      0x04
#define VUART_FCR_DMA_MODE      0x08
#define VUART_FCR_TRIGGER_SHIFT 6
#define VUART_FCR_TRIGGER_MASK  0xC0

/* LCR. */
#define VUART_LCR_DLAB 0x80

/* MCR (bits 7:5 do not exist on the 16550A and read 0). */
#define VUART_MCR_DTR  0x01
#define VUART_MCR_RTS  0x02
#define VUART_MCR_OUT1 0x04
#define VUART_MCR_OUT2 0x08
#define VUART_MCR_LOOP 0x10
#define VUART_MCR_MASK 0x1F

/* LSR. */
#define VUART_LSR_DR            0x01 /* data ready */
#define VUART_LSR_OE            0x02 /* overrun error */
#define VUART_LSR_PE            0x04
#define VUART_LSR_FE            0x08
#define VUART_LSR_BI            0x10
#define VUART_LSR_THRE          0x20 /* transmitter holding register (or TX FIFO) empty */
#define VUART_LSR_TEMT          0x40 /* transmitter empty */
#define VUART_LSR_ERROR_IN_FIFO 0x80

/* MSR: bits 3:0 the deltas (cleared by reading MSR), bits 7:4 the modem inputs. */
#define VUART_MSR_DCTS  0x01
#define VUART_MSR_DDSR  0x02
#define VUART_MSR_TERI  0x04 /* trailing edge of RI: RI went from on to off */
#define VUART_MSR_DDCD  0x08
#define VUART_MSR_CTS   0x10
#define VUART_MSR_DSR   0x20
#define VUART_MSR_RI    0x40
#define VUART_MSR_DCD   0x80
#define VUART_MSR_DELTA 0x0F
/* The host console as the far end: a connected terminal (CTS, DSR, DCD on, no ring). */
#define VUART_MSR_EXTERNAL (VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD)

/* ---- the device ---- */

struct vuart {
    const struct vdev_host *host;
    struct vdev_irq_router *router;
    unsigned irq;
    uint16_t base;
    uint8_t ier, lcr, mcr, scr, fcr; /* fcr: the last value written with FIFOs on */
    uint8_t dll, dlm;
    uint8_t lsr_errors; /* OE until LSR is read */
    uint8_t msr;        /* the modem inputs (bits 7:4) and deltas (3:0) */
    bool fifo_enabled;
    bool thre_pending; /* the THRE interrupt latch: cleared by an IIR read naming it or THR write */
    uint8_t rx[VUART_FIFO_SIZE];
    unsigned rx_head, rx_count;
};

/* Reset state on ISA IRQ `irq` of `router`. */
void vuart_init(struct vuart *u, const struct vdev_host *host, struct vdev_irq_router *router,
                unsigned irq);
/* Claims the 8 ports at `base`; -1 when the bus refuses them. */
int vuart_attach(struct vuart *u, struct vdev_bus *bus, uint16_t base);
/* A byte arrives from the host. -1 when it is lost: the FIFO (or RBR) was full, which sets OE,
   or the UART is in loopback mode (the serial input is disconnected, datasheet "MCR bit 4"). */
int vuart_receive(struct vuart *u, uint8_t byte);
/* The receiver holds as many bytes as it can: the next vuart_receive() would overrun. */
bool vuart_rx_full(const struct vuart *u);
