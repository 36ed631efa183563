/*
 * Shared helpers for the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * Every harness hands hv an exactly-sized heap copy of its input (so ASan reports any read past
 * the end) and checks the parser's own invariants with FUZZ_CHECK, which aborts with the failed
 * condition: libFuzzer then keeps the input as a crash artefact.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Consumes input from the front: fixed-size fields, zero-filled once the input runs out. */
struct fuzz_input {
    const uint8_t *data;
    size_t len;
};

static inline uint64_t fuzz_take(struct fuzz_input *in, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes && i < sizeof(v); i++) {
        if (in->len == 0)
            break;
        v |= (uint64_t)in->data[0] << (8 * i);
        in->data++;
        in->len--;
    }
    return v;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
    return (uint8_t)fuzz_take(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
    return (uint16_t)fuzz_take(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
    return (uint32_t)fuzz_take(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
    return fuzz_take(in, 8);
}

/* An exactly-sized heap copy of [data, data+len) (a 1-byte allocation when len is 0, never
   read); free() it. */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    FUZZ_CHECK(p != NULL);
    if (len)
        memcpy(p, data, len);
    return p;
}

/* A heap copy of [data, data+len) with a NUL appended (len + 1 bytes exactly). */
static inline char *fuzz_strdup(const uint8_t *data, size_t len)
{
    char *p = malloc(len + 1);
    FUZZ_CHECK(p != NULL);
    if (len)
        memcpy(p, data, len);
    p[len] = '\0';
    return p;
}

/* True when the NUL-terminated string s ends inside [lo, hi). */
static inline int fuzz_string_within(const char *s, const void *lo, const void *hi)
{
    const char *b = lo, *e = hi;
    if (s < b || s >= e)
        return 0;
    return memchr(s, '\0', (size_t)(e - s)) != NULL;
}

/* Bulk checks over guest RAM (megabytes per input): kept out of coverage and sanitizer
   instrumentation and away from libFuzzer's memcmp hooks, which would make them the slowest
   part of a run. The buffers are the harness's own allocations, always fully in bounds. */
#define FUZZ_BULK __attribute__((no_sanitize("coverage", "address", "undefined"), noinline))

/* Offset of the first byte where a and b differ, or len when they are equal. */
static inline FUZZ_BULK size_t fuzz_first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
    size_t i = 0;
    for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
        uint64_t x, y;
        memcpy(&x, a + i, sizeof(x));
        memcpy(&y, b + i, sizeof(y));
        if (x != y)
            break;
    }
    for (; i < len; i++)
        if (a[i] != b[i])
            return i;
    return len;
}

/* True when every byte of [p, p+len) is zero. */
static inline FUZZ_BULK int fuzz_all_zero(const uint8_t *p, size_t len)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
        uint64_t x;
        memcpy(&x, p + i, sizeof(x));
        acc |= x;
    }
    for (; i < len; i++)
        acc |= p[i];
    return acc == 0;
}
