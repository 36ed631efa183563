#include "kernel/console.h"
#include "drivers/serial.h"
#include "drivers/uart16550.h"
#include "kernel/lib/byte_ring.h"
#include "kernel/lib/hw.h"
#include "kernel/platform.h"
#include "kernel/spinlock.h"

/* Bounded wait for the transmitter (as drivers/serial.c): a UART that stops draining must not
   hang hv. */
#define CONSOLE_TX_SPINS 100000
/* Bytes one poll takes at most: four receive FIFOs' worth. */
#define CONSOLE_RX_POLL_MAX (4 * UART_TX_FIFO_SIZE)

struct console {
    struct spinlock lock;
    struct serial uart;
    struct byte_ring out;
    const void *open_owner; /* whose partial line is open on the terminal, or NULL */
    struct byte_ring in;    /* typed, not yet read by console_getc */
    uint64_t in_dropped;    /* typed while the input ring was full */
    uint64_t in_overruns;   /* times the UART said it lost bytes (polled too late) */
    uint8_t out_buf[CONSOLE_RING_SIZE];
    uint8_t in_buf[CONSOLE_RX_RING];
};
/* The console is one device for all CPUs: shared on purpose, under its lock. */
static struct console con;

void console_init(uint16_t port_base)
{
    serial_init(&con.uart, port_base);
    byte_ring_init(&con.out, con.out_buf, sizeof(con.out_buf));
    byte_ring_init(&con.in, con.in_buf, sizeof(con.in_buf));
    con.open_owner = 0;
}

static void pump_locked(void)
{
    uint8_t byte;
    if (!byte_ring_count(&con.out))
        return; /* nothing queued: the UART is not even asked */
    for (unsigned room = serial_tx_room(&con.uart); room; room--) {
        if (byte_ring_get(&con.out, &byte))
            return;
        serial_put_now(&con.uart, byte);
    }
}

static unsigned poll_input_locked(void);

/* The ring is full: wait (bounded) for the transmitter and send what it takes. Typed keys keep
   arriving meanwhile, so the receive side is polled while hv waits. */
static void make_room_locked(void)
{
    uint8_t byte;
    for (int spins = 0; spins < CONSOLE_TX_SPINS; spins++) {
        if (serial_tx_room(&con.uart)) {
            pump_locked();
            return;
        }
        poll_input_locked();
        hw_pause();
    }
    if (!byte_ring_get(&con.out, &byte)) /* a UART that stops draining must not hang hv */
        serial_put_now(&con.uart, byte);
}

static void put_locked(char c)
{
    if (platform_get() == PLATFORM_BOCHS)
        hw_outb(BOCHS_E9_PORT, (uint8_t)c);
    if (!con.uart.present)
        return; /* nothing would ever drain the ring */
    while (!byte_ring_put(&con.out, &c, 1))
        make_room_locked();
}

static void put_text_locked(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            put_locked('\r');
        put_locked(buf[i]);
    }
}

static void end_open_line_locked(void)
{
    if (con.open_owner)
        put_text_locked("\n", 1);
    con.open_owner = 0;
}

void console_write(const char *buf, size_t len)
{
    spin_lock(&con.lock);
    end_open_line_locked();
    put_text_locked(buf, len);
    pump_locked();
    /* A long run of log lines (a VMCS dump: milliseconds) must not overrun the receive FIFO. */
    poll_input_locked();
    spin_unlock(&con.lock);
}

void console_write_stream(const void *owner, const char *prefix, const char *text, size_t len,
                          bool line_end)
{
    spin_lock(&con.lock);
    if (con.open_owner != owner) {
        end_open_line_locked();
        if (!len && line_end) { /* the open line was ended by another writer already */
            spin_unlock(&con.lock);
            return;
        }
    }
    if (!con.open_owner)
        for (const char *p = prefix; *p; p++)
            put_locked(*p);
    put_text_locked(text, len);
    if (line_end)
        put_text_locked("\n", 1);
    con.open_owner = line_end ? 0 : owner;
    pump_locked();
    spin_unlock(&con.lock);
}

bool console_guest_room(void)
{
    spin_lock(&con.lock);
    bool room = byte_ring_count(&con.out) < CONSOLE_GUEST_BACKLOG;
    spin_unlock(&con.lock);
    return room;
}

void console_pump(void)
{
    if (!__atomic_load_n(&con.out.count, __ATOMIC_RELAXED))
        return; /* the common case between slices: no lock taken */
    spin_lock(&con.lock);
    pump_locked();
    spin_unlock(&con.lock);
}

void console_drain(void)
{
    spin_lock(&con.lock);
    while (byte_ring_count(&con.out))
        make_room_locked();
    spin_unlock(&con.lock);
    serial_drain(&con.uart);
}

static unsigned poll_input_locked(void)
{
    bool overrun = false;
    unsigned n = 0;
    /* Bounded: a UART whose data-ready bit is stuck (a failing device) must not hold hv. */
    for (int c; n < CONSOLE_RX_POLL_MAX && (c = serial_getc(&con.uart, &overrun)) >= 0; n++) {
        uint8_t byte = (uint8_t)c;
        if (!byte_ring_put(&con.in, &byte, 1))
            con.in_dropped++;
    }
    con.in_overruns += overrun;
    return n;
}

void console_input_losses(uint64_t *dropped, uint64_t *overruns)
{
    spin_lock(&con.lock);
    *dropped = con.in_dropped;
    *overruns = con.in_overruns;
    spin_unlock(&con.lock);
}

unsigned console_poll_input(void)
{
    spin_lock(&con.lock);
    unsigned n = poll_input_locked();
    spin_unlock(&con.lock);
    return n;
}

bool console_input_waiting(void)
{
    return __atomic_load_n(&con.in.count, __ATOMIC_RELAXED) != 0;
}

bool console_output_queued(void)
{
    return __atomic_load_n(&con.out.count, __ATOMIC_RELAXED) != 0;
}

bool console_input_lost(void)
{
    return __atomic_load_n(&con.in_dropped, __ATOMIC_RELAXED) ||
           __atomic_load_n(&con.in_overruns, __ATOMIC_RELAXED);
}

int console_getc(void)
{
    uint8_t byte;
    spin_lock(&con.lock);
    poll_input_locked();
    int c = byte_ring_get(&con.in, &byte) ? -1 : byte;
    spin_unlock(&con.lock);
    return c;
}

void console_break_lock(void)
{
    spin_unlock(&con.lock);
}
