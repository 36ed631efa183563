#include "kernel/log.h"
#include "kernel/console.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/hw.h"
#include "kernel/percpu.h"

#define LOG_LINE_MAX 320

enum log_level log_current_level = LOG_INFO;

void log_set_level(enum log_level level)
{
    log_current_level = level;
}

enum log_level log_get_level(void)
{
    return log_current_level;
}

static void emit(char *line, int len)
{
    if (len > LOG_LINE_MAX - 2)
        len = LOG_LINE_MAX - 2; /* truncated lines still end with a newline */
    line[len++] = '\n';
    console_write(line, (size_t)len); /* one call: the line is never interleaved */
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    if (level > log_current_level)
        return;
    int n =
        fmt_snprintf(line, sizeof(line), "[c%u t%llu] ", cpu_id(), (unsigned long long)hw_rdtsc());
    n += fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    emit(line, n);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vprintf(level, fmt, ap);
    va_end(ap);
}

void log_contract(const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    emit(line, n);
}

void log_contract_stream(const void *owner, const char *prefix, const char *text, size_t len,
                         bool line_end)
{
    console_write_stream(owner, prefix, text, len, line_end);
}

bool log_console_guest_room(void)
{
    return console_guest_room();
}

/* After a fault inside the console, panic must still be able to print. */
void log_break_lock(void)
{
    console_break_lock();
}
