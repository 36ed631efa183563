/*
 * Host benchmark of the buddy allocator (not a test). For each order 0..10: on a 256 MiB arena,
 * 1,000,000 alloc+free pairs with a small ring of live blocks, so frees coalesce and allocs split
 * as in steady use. Prints "order N: X ops/s" (one op = one alloc plus one free) and a final JSON
 * line. Build with -O2 and no sanitizers, e.g.:
 *   gcc -std=c11 -O2 -I. -o /tmp/bench_buddy tests/bench/bench_buddy.c mm/buddy.c kernel/lib/fmt.c
 * \ tests/unit/fake_kernel.c -lcmocka
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "mm/buddy.h"

#define BENCH_BASE      0x100000ull
#define BENCH_BYTES     (256ull << 20)
#define BENCH_OPS       1000000ull
#define BENCH_MAX_ORDER 10u
#define BENCH_LIVE      32u /* 32 blocks of order 10 = 128 MiB, within the arena */
#define NS_PER_SEC      1000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static paddr_t must_alloc(struct buddy *b, unsigned order)
{
    paddr_t pa = buddy_alloc(b, order, 0);
    if (pa == PADDR_NONE) {
        fprintf(stderr, "bench_buddy: order %u exhausted\n", order);
        exit(1);
    }
    return pa;
}

/* Alloc+free pairs per second for one order. */
static uint64_t bench_order(struct buddy *b, unsigned order)
{
    paddr_t live[BENCH_LIVE];
    for (unsigned i = 0; i < BENCH_LIVE; i++)
        live[i] = must_alloc(b, order);
    uint64_t start = now_ns();
    for (uint64_t op = 0; op < BENCH_OPS; op++) {
        unsigned slot = (unsigned)(op % BENCH_LIVE);
        buddy_free(b, live[slot], order);
        live[slot] = must_alloc(b, order);
    }
    uint64_t elapsed = now_ns() - start;
    for (unsigned i = 0; i < BENCH_LIVE; i++)
        buddy_free(b, live[i], order);
    if (buddy_check(b) != 0) {
        fprintf(stderr, "bench_buddy: allocator inconsistent after order %u\n", order);
        exit(1);
    }
    return elapsed ? BENCH_OPS * NS_PER_SEC / elapsed : 0;
}

int main(void)
{
    uint8_t *arena = aligned_alloc(FRAME_SIZE, BENCH_BYTES);
    uint8_t *meta = malloc(buddy_meta_bytes(BENCH_BASE, BENCH_BASE + BENCH_BYTES));
    if (!arena || !meta) {
        fprintf(stderr, "bench_buddy: out of memory\n");
        return 1;
    }
    struct buddy b;
    buddy_init(&b, BENCH_BASE, BENCH_BASE + BENCH_BYTES, meta,
               (uintptr_t)arena - (uintptr_t)BENCH_BASE);
    buddy_add_range(&b, BENCH_BASE, BENCH_BASE + BENCH_BYTES);

    uint64_t rate[BENCH_MAX_ORDER + 1];
    for (unsigned order = 0; order <= BENCH_MAX_ORDER; order++) {
        rate[order] = bench_order(&b, order);
        printf("order %u: %llu ops/s\n", order, (unsigned long long)rate[order]);
    }
    printf("{\"buddy_ops_per_sec\": {");
    for (unsigned order = 0; order <= BENCH_MAX_ORDER; order++)
        printf("%s\"%u\": %llu", order ? ", " : "", order, (unsigned long long)rate[order]);
    printf("}}\n");
    free(meta);
    free(arena);
    return 0;
}
