/* hv's console: the selected 16550, mirrored to port 0xE9 under Bochs for a live view. */
#pragma once
#include <stddef.h>
#include <stdint.h>

void console_init(uint16_t port_base);
void console_write(const char *buf, size_t len);
/* Waits (bounded) until the UART has sent everything. */
void console_drain(void);
