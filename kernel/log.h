/*
 * Logging. Ordinary lines carry a prefix "[cN tTSC] " (CPU number, raw TSC) and are
 * filtered by level (hv command line "loglevel=error|warn|info|debug").
 * Contract lines ("hv: end: ok", "hv: guest NAME ended: ...", "[NAME] guest text") are
 * written with log_contract(): exactly as given, no prefix, never filtered.
 * Callers pass a line without its trailing newline.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_printf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vprintf(enum log_level level, const char *fmt, va_list ap);
void log_contract(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A guest's console text (vmx/vcpu/guest_console.c), a contract line that may stay open:
   kernel/console.h console_write_stream(). */
void log_contract_stream(const void *owner, const char *prefix, const char *text, size_t len,
                         bool line_end);
/* Whether hv's console takes a guest's line now (kernel/console.h console_guest_room). */
bool log_console_guest_room(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns 0 on success, -1 otherwise. */
int log_level_parse(const char *name, enum log_level *out);

#define log_error(...) log_printf(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_printf(LOG_INFO, __VA_ARGS__)
/* Debug lines are on the VM-exit path: their arguments (VMREADs) are not even evaluated unless
   debug logging is on. */
extern enum log_level log_current_level;
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_current_level >= LOG_DEBUG)                                                        \
            log_printf(LOG_DEBUG, __VA_ARGS__);                                                    \
    } while (0)
