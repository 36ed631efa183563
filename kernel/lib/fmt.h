/*
 * printf-style formatting without libc. Supports %d %i %u %x %X %p %s %c %%, the
 * length modifiers l, ll and z, a field width, '-' (left-justify) and '0' padding.
 * Returns the length the full output would have (C99 snprintf semantics); the buffer
 * is always NUL-terminated when size > 0.
 */
#pragma once
#include <stdarg.h>
#include <stddef.h>

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
