/* Fake panic() and logging for host unit tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "tests/unit/fake.h"

jmp_buf *fake_panic_jmp;
char fake_panic_msg[1024];
char fake_log[1 << 16];
size_t fake_log_len;
/* The console's open-line rule (kernel/console.c): an open line is kept in fake_log with a
   newline that its continuation takes back. */
static const void *fake_open_owner;
enum log_level log_current_level = LOG_DEBUG;

void fake_log_reset(void)
{
    fake_open_owner = NULL;
    fake_console_full = false;
    fake_log_len = 0;
    fake_log[0] = '\0';
}

_Noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(fake_panic_msg, sizeof(fake_panic_msg), fmt, ap);
    va_end(ap);
    if (fake_panic_jmp)
        longjmp(*fake_panic_jmp, 1);
    fprintf(stderr, "unexpected panic: %s\n", fake_panic_msg);
    abort();
}

static void append(const char *line)
{
    size_t n = strlen(line);
    if (fake_log_len + n + 2 >= sizeof(fake_log))
        fake_log_len = 0; /* keep the newest lines */
    memcpy(fake_log + fake_log_len, line, n);
    fake_log_len += n;
    fake_log[fake_log_len++] = '\n';
    fake_log[fake_log_len] = '\0';
    if (getenv("HV_TEST_VERBOSE"))
        fprintf(stderr, "log: %s\n", line);
}

void log_vprintf(enum log_level lvl, const char *fmt, va_list ap)
{
    char line[512];
    if (lvl > log_current_level)
        return;
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    fake_open_owner = NULL;
    append(line);
}

void log_printf(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vprintf(lvl, fmt, ap);
    va_end(ap);
}

void log_contract(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fake_open_owner = NULL;
    append(line);
}

bool fake_console_full;

void log_contract_stream(const void *owner, const char *prefix, const char *text, size_t len,
                         bool line_end)
{
    char buf[512];
    if (fake_open_owner != owner) {
        fake_open_owner = NULL; /* the open line ends (its newline is in fake_log already) */
        if (!len && line_end)
            return;
    }
    int n = 0;
    if (!fake_open_owner)
        n = snprintf(buf, sizeof(buf), "%s", prefix);
    else if (fake_log_len)
        fake_log_len--; /* continue the open line: drop its placeholder newline */
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%.*s", (int)len, text);
    append(buf); /* an open line keeps a trailing newline that the next write takes back */
    fake_open_owner = line_end ? NULL : owner;
}

bool log_console_guest_room(void)
{
    return !fake_console_full;
}

void log_set_level(enum log_level l)
{
    log_current_level = l;
}

enum log_level log_get_level(void)
{
    return log_current_level;
}
