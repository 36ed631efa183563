#include "kernel/console.h"
#include "drivers/serial.h"
#include "kernel/lib/hw.h"
#include "kernel/platform.h"

static struct serial console_uart;

void console_init(uint16_t port_base)
{
    serial_init(&console_uart, port_base);
}

void console_write(const char *buf, size_t len)
{
    serial_write(&console_uart, buf, len);
    if (platform_get() == PLATFORM_BOCHS)
        for (size_t i = 0; i < len; i++)
            hw_outb(BOCHS_E9_PORT, (uint8_t)buf[i]);
}

void console_drain(void)
{
    serial_drain(&console_uart);
}
