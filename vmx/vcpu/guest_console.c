/* A guest's console output: its ring, line assembly and sanitising (vmx/vcpu/guest_console.h). */
#include "vmx/vcpu/guest_console.h"
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "vmx/vcpu/guest.h"

#define ASCII_PRINTABLE_FIRST 0x20
#define ASCII_PRINTABLE_LAST  0x7E
#define PREFIX_MAX            48

void guest_console_init(struct guest *g)
{
    struct guest_console *c = &g->console;
    c->lock = (struct spinlock){0};
    byte_ring_init(&c->out, c->ring, sizeof(c->ring));
    c->len = c->shown = 0;
    c->focused = false;
    c->queued = c->dropped = 0;
}

void guest_console_write(struct guest *g, const char *buf, size_t len)
{
    struct guest_console *c = &g->console;
    /* Never more than the ring takes: the scheduler keeps GUEST_CONSOLE_EXIT_MAX free before
       every entry (guest_console_backlogged), so nothing is cut here. */
    spin_lock(&c->lock);
    size_t taken = byte_ring_put(&c->out, buf, len);
    c->queued += taken;
    c->dropped += len - taken;
    spin_unlock(&c->lock);
}

/* Prints what of the line is not shown yet; line_end closes it. */
static void show(struct guest *g, bool line_end)
{
    struct guest_console *c = &g->console;
    char prefix[PREFIX_MAX];
    fmt_snprintf(prefix, sizeof(prefix), "[%s] ", g->name);
    log_contract_stream(g, prefix, c->line + c->shown, c->len - c->shown, line_end);
    c->shown = line_end ? 0 : c->len;
    if (line_end)
        c->len = 0;
}

/* Adds one guest byte to the line; returns whether that ended (and printed) a line. */
static bool assemble(struct guest *g, uint8_t byte, uint64_t now)
{
    struct guest_console *c = &g->console;
    char ch = (char)byte;
    if (ch == '\n') {
        if (!c->len) /* an empty line still shows */
            c->line[c->len++] = ' ';
        show(g, true);
        return true;
    }
    if (ch == '\r')
        return false;
    /* Guest bytes never reach hv's console raw: no escape sequences, no control codes. */
    if (byte < ASCII_PRINTABLE_FIRST || byte > ASCII_PRINTABLE_LAST)
        ch = ch == '\t' ? ' ' : '?';
    if (c->len == c->shown)
        c->partial_tsc = now;
    c->line[c->len++] = ch;
    if (c->len == GUEST_CONSOLE_LINE - 1) {
        show(g, true);
        return true;
    }
    return false;
}

bool guest_console_drain(struct guest *g, uint64_t now, uint64_t partial_ticks)
{
    struct guest_console *c = &g->console;
    uint8_t byte;
    spin_lock(&c->lock);
    while (log_console_guest_room() && !byte_ring_get(&c->out, &byte))
        if (assemble(g, byte, now))
            break;
    if (c->focused && c->len > c->shown && now - c->partial_tsc >= partial_ticks &&
        log_console_guest_room())
        show(g, false);
    bool more = byte_ring_count(&c->out) != 0;
    spin_unlock(&c->lock);
    return more;
}

void guest_console_flush(struct guest *g)
{
    struct guest_console *c = &g->console;
    uint8_t byte;
    spin_lock(&c->lock);
    while (!byte_ring_get(&c->out, &byte))
        assemble(g, byte, 0);
    if (c->len)
        show(g, true);
    spin_unlock(&c->lock);
}
