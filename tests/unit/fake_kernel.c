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
enum log_level log_current_level = LOG_DEBUG;

void fake_log_reset(void)
{
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
    append(line);
}

void log_set_level(enum log_level l)
{
    log_current_level = l;
}

enum log_level log_get_level(void)
{
    return log_current_level;
}
