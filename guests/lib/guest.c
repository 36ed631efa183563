#include "guests/lib/guest.h"
#include "kernel/lib/fmt.h"

#define G_LINE_MAX       256
#define G_EXIT_EXCEPTION 0xEE

static unsigned passed, failed;

/* Console output is line-buffered and sent with the console hypercall: one VM exit per line
   instead of one per character through COM1 (guest RAM is identity-mapped, so the buffer's
   address is its guest-physical address). */
static char line_buf[G_LINE_MAX];
static unsigned line_len;

static void g_flush(void)
{
    if (line_len)
        g_hypercall(G_HC_CONSOLE, (uint64_t)(uintptr_t)line_buf, line_len);
    line_len = 0;
}

void g_putc(char c)
{
    line_buf[line_len++] = c;
    if (c == '\n' || line_len == sizeof(line_buf))
        g_flush();
}

void g_puts(const char *s)
{
    while (*s)
        g_putc(*s++);
}

void g_printf(const char *fmt, ...)
{
    char line[G_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    g_puts(line);
}

_Noreturn void g_exit(uint8_t status)
{
    g_flush();
    for (;;)
        hw_outb(G_DEBUG_EXIT, status);
}

void g_exception(const uint64_t *frame)
{
    g_printf("FAIL unexpected exception %llu error 0x%llx at RIP 0x%llx\n",
             (unsigned long long)frame[0], (unsigned long long)frame[1],
             (unsigned long long)frame[2]);
    g_exit(G_EXIT_EXCEPTION);
}

void g_check(bool ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        passed++;
        g_printf("PASS %s\n", name);
        return;
    }
    char why[G_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    failed++;
    g_printf("FAIL %s: %s\n", name, why);
}

int g_report(const char *suite)
{
    g_printf("%s: %u passed, %u failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}
