/* hv's console UART: a polled 16550. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct serial {
    uint16_t base;
    bool present;     /* false: no UART answered the scratch test, output is dropped */
    unsigned tx_fifo; /* bytes the transmitter takes at once when THRE is set: 16 or 1 */
};

/* Probes and programs the UART at `base` for 115200 8N1. Returns whether one is there. */
bool serial_init(struct serial *s, uint16_t base);
/* Sends each byte as it is (no newline translation), waiting (bounded) for the transmitter. */
void serial_write(const struct serial *s, const char *buf, size_t len);
/* How many bytes the transmitter takes now without waiting: 0 while it is busy. */
unsigned serial_tx_room(const struct serial *s);
/* Writes one byte to THR without waiting: call only within serial_tx_room(). */
void serial_put_now(const struct serial *s, uint8_t byte);
/* A received byte, or -1 when none waits (LSR data ready clear) or there is no UART; *overrun
   is set when LSR reported bytes lost before it (the receive FIFO was full). */
int serial_getc(const struct serial *s, bool *overrun);
/* "com1".."com4" -> port base, or 0. */
uint16_t serial_port_by_name(const char *name);
/* Waits, at most a bounded time, for the transmitter to go idle. */
void serial_drain(const struct serial *s);
