/* The guest's COM1: a 16550 register file whose transmitter is always empty and which raises no
   interrupts and receives nothing (issue 12's interrupting 16550 replaces it). Transmitted bytes
   go to the host's console service. */
#pragma once
#include <stdint.h>
#include "drivers/vdev/vdev.h"

struct vdev_uart {
    const struct vdev_host *host;
    uint8_t regs[8];  /* IER, LCR, MCR, SCR, FCR as written */
    uint8_t dll, dlm; /* the divisor latch */
};

void vdev_uart_init(struct vdev_uart *u, const struct vdev_host *host);
int vdev_uart_attach(struct vdev_uart *u, struct vdev_bus *bus, uint16_t base);
