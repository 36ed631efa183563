/* A guest's verdict and console line (vmx/vcpu/guest.h). */
#include "vmx/vcpu/guest.h"
#include "kernel/lib/fmt.h"
#include "kernel/log.h"

#define ASCII_PRINTABLE_FIRST 0x20
#define ASCII_PRINTABLE_LAST  0x7E

void guest_end(struct guest *g, const char *fmt, ...)
{
    va_list ap;
    if (g->ended)
        return; /* the first verdict stands */
    va_start(ap, fmt);
    fmt_vsnprintf(g->verdict, sizeof(g->verdict), fmt, ap);
    va_end(ap);
    g->ended = true;
}

void guest_console_flush(struct guest *g)
{
    if (!g->console_len)
        return;
    g->console[g->console_len] = '\0';
    log_contract("[%s] %s", g->name, g->console);
    g->console_len = 0;
}

void guest_console_write(struct guest *g, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\n') {
            if (!g->console_len) /* an empty line still shows */
                g->console[g->console_len++] = ' ';
            guest_console_flush(g);
            continue;
        }
        if (c == '\r')
            continue;
        /* Guest bytes never reach hv's console raw: no escape sequences, no control codes. */
        if ((unsigned char)c < ASCII_PRINTABLE_FIRST || (unsigned char)c > ASCII_PRINTABLE_LAST)
            c = c == '\t' ? ' ' : '?';
        g->console[g->console_len++] = c;
        if (g->console_len == GUEST_CONSOLE_LINE - 1)
            guest_console_flush(g);
    }
}
