/* hv's console UART: a polled 16550. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct serial {
    uint16_t base;
    bool present; /* false: no UART answered the scratch test, output is dropped */
};

/* Probes and programs the UART at `base` for 115200 8N1. Returns whether one is there. */
bool serial_init(struct serial *s, uint16_t base);
void serial_write(const struct serial *s, const char *buf, size_t len);
/* "com1".."com4" -> port base, or 0. */
uint16_t serial_port_by_name(const char *name);
/* Waits, at most a bounded time, for the transmitter to go idle. */
void serial_drain(const struct serial *s);
