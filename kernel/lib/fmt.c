/* A small, bounded vsnprintf: enough for hv's logs, nothing else. */
#include <stdint.h>
#include "kernel/lib/fmt.h"

struct out {
    char *buf;
    size_t size;
    size_t len; /* length the full output would have */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static void put_str(struct out *o, const char *s, int width, int left)
{
    int n = 0;
    if (!s)
        s = "(null)";
    while (s[n])
        n++;
    if (!left)
        pad(o, ' ', width - n);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        pad(o, ' ', width - n);
}

struct numfmt {
    int width;
    int left;
    int zero;
    int upper;
    unsigned base;
    const char *prefix; /* "0x" for %p: counted in the width, written before zero padding */
};

static void put_sign_prefix(struct out *o, int negative, const struct numfmt *f)
{
    if (negative)
        put(o, '-');
    for (const char *p = f->prefix; p && *p; p++)
        put(o, *p);
}

static void put_num(struct out *o, uint64_t v, int negative, const struct numfmt *f)
{
    const char *digits = f->upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[v % f->base];
        v /= f->base;
    } while (v);
    int total = n + negative;
    for (const char *p = f->prefix; p && *p; p++)
        total++;
    if (f->left) {
        put_sign_prefix(o, negative, f);
        while (n)
            put(o, tmp[--n]);
        pad(o, ' ', f->width - total);
        return;
    }
    if (f->zero) {
        put_sign_prefix(o, negative, f);
        pad(o, '0', f->width - total);
    } else {
        pad(o, ' ', f->width - total);
        put_sign_prefix(o, negative, f);
    }
    while (n)
        put(o, tmp[--n]);
}

/* Reads an integer argument of the given length modifier (0 int, 1 long, 2 long long, 3 size). */
static uint64_t arg_unsigned(va_list *ap, int lmod)
{
    switch (lmod) {
    case 1:
        return va_arg(*ap, unsigned long);
    case 2:
        return va_arg(*ap, unsigned long long);
    case 3:
        return va_arg(*ap, size_t);
    default:
        return va_arg(*ap, unsigned int);
    }
}

static int64_t arg_signed(va_list *ap, int lmod)
{
    switch (lmod) {
    case 1:
        return va_arg(*ap, long);
    case 2:
        return va_arg(*ap, long long);
    case 3:
        return (int64_t)va_arg(*ap, size_t);
    default:
        return va_arg(*ap, int);
    }
}

static void format_conv(struct out *o, char conv, struct numfmt *f, int lmod, va_list *ap)
{
    switch (conv) {
    case 'd':
    case 'i': {
        int64_t v = arg_signed(ap, lmod);
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        f->base = 10;
        put_num(o, mag, v < 0, f);
        break;
    }
    case 'u':
        f->base = 10;
        put_num(o, arg_unsigned(ap, lmod), 0, f);
        break;
    case 'X':
        f->upper = 1;
        /* fall through */
    case 'x':
        f->base = 16;
        put_num(o, arg_unsigned(ap, lmod), 0, f);
        break;
    case 'p':
        f->prefix = "0x";
        f->base = 16;
        put_num(o, (uintptr_t)va_arg(*ap, void *), 0, f);
        break;
    case 's':
        put_str(o, va_arg(*ap, const char *), f->width, f->left);
        break;
    case 'c': /* written directly: a NUL character still counts */
        if (!f->left)
            pad(o, ' ', f->width - 1);
        put(o, (char)va_arg(*ap, int));
        if (f->left)
            pad(o, ' ', f->width - 1);
        break;
    case '%':
        put(o, '%');
        break;
    default: /* unknown conversion: print it literally so the mistake is visible */
        put(o, '%');
        put(o, conv);
        break;
    }
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        struct numfmt f = {0, 0, 0, 0, 10, 0};
        p++;
        for (;; p++) {
            if (*p == '-')
                f.left = 1;
            else if (*p == '0')
                f.zero = 1;
            else
                break;
        }
        while (*p >= '0' && *p <= '9')
            f.width = f.width * 10 + (*p++ - '0');
        int lmod = 0;
        if (*p == 'l') {
            lmod = 1;
            if (*++p == 'l') {
                lmod = 2;
                p++;
            }
        } else if (*p == 'z') {
            lmod = 3;
            p++;
        }
        if (!*p)
            break;
        format_conv(&o, *p, &f, lmod, &args);
    }
    va_end(args);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
