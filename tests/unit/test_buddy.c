/*
 * Buddy allocator tests over host arenas: physical addresses start at a non-zero base and the
 * arena stands in for the direct map (virt_offset = arena - base).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mm/buddy.h"
#include "tests/unit/fake.h"

#define MIB                (1ull << 20)
#define GIB                (1ull << 30)
#define ARENA_BASE         0x100000ull
#define ARENA_BYTES        (64 * MIB)
#define ARENA_LIMIT        (ARENA_BASE + ARENA_BYTES)
#define ARENA_FRAMES       (ARENA_BYTES / FRAME_SIZE)
#define RANDOM_OPS         1000000u
#define CHECK_EVERY        10000u
#define RANDOM_MAX_ORDER   10u
#define RANDOM_MAX_LIVE    4096u
#define RANDOM_PHASE_OPS   50000u /* alternate between filling and draining phases */
#define FILL_PERCENT       65u
#define DRAIN_PERCENT      35u
#define RANDOM_SEED        0x9e3779b97f4a7c15ull
#define PATTERN_TAIL_BYTES 8u

struct arena {
    struct buddy b;
    uint8_t *mem; /* physical address pa lives at mem + (pa - base) */
    uint8_t *meta;
    paddr_t base, limit;
    size_t bytes;
    bool mapped; /* mem came from mmap (sparse), not aligned_alloc */
};

static void arena_open(struct arena *a, paddr_t base, paddr_t limit, bool sparse)
{
    a->base = base;
    a->limit = limit;
    a->bytes = (size_t)(limit - base);
    a->mapped = sparse;
    if (sparse) {
        a->mem = mmap(NULL, a->bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        assert_true(a->mem != MAP_FAILED);
    } else {
        a->mem = aligned_alloc(FRAME_SIZE, a->bytes);
        assert_non_null(a->mem);
    }
    a->meta = malloc(buddy_meta_bytes(base, limit));
    assert_non_null(a->meta);
    buddy_init(&a->b, base, limit, a->meta, (uintptr_t)a->mem - (uintptr_t)base);
}

static void arena_close(struct arena *a)
{
    if (a->mapped)
        munmap(a->mem, a->bytes);
    else
        free(a->mem);
    free(a->meta);
}

static void *va(const struct arena *a, paddr_t pa)
{
    return a->mem + (pa - a->base);
}

/* The standard 64 MiB arena, added in non-aligned pieces out of order. */
static const paddr_t piece_bounds[] = {ARENA_BASE, 0x10b000,  0x1234000,
                                       0x2000000,  0x3ff7000, ARENA_LIMIT};
static const unsigned piece_order[] = {3, 0, 4, 1, 2};

static void add_standard_pieces(struct arena *a);

static void arena_open_standard(struct arena *a)
{
    arena_open(a, ARENA_BASE, ARENA_LIMIT, false);
    add_standard_pieces(a);
}

static void add_standard_pieces(struct arena *a)
{
    for (size_t i = 0; i < sizeof(piece_order) / sizeof(piece_order[0]); i++)
        buddy_add_range(&a->b, piece_bounds[piece_order[i]], piece_bounds[piece_order[i] + 1]);
}

struct block {
    paddr_t pa;
    unsigned order;
};

/* The unique fully coalesced decomposition of [1 MiB, 65 MiB). */
static const struct block standard_blocks[] = {
    {0x100000, 8},   {0x200000, 9},   {0x400000, 10}, {0x800000, 11},
    {0x1000000, 12}, {0x2000000, 13}, {0x4000000, 8},
};
#define STANDARD_BLOCK_COUNT (sizeof(standard_blocks) / sizeof(standard_blocks[0]))

static void expect_standard_stats(const struct buddy *b)
{
    struct buddy_stats st;
    buddy_get_stats(b, &st);
    assert_int_equal(st.total_frames, ARENA_FRAMES);
    assert_int_equal(st.free_frames, ARENA_FRAMES);
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++) {
        uint64_t expected = 0;
        for (size_t i = 0; i < STANDARD_BLOCK_COUNT; i++)
            expected += standard_blocks[i].order == order;
        assert_int_equal(st.free_blocks[order], expected);
    }
    assert_int_equal(buddy_largest_free(b), 32 * MIB);
    assert_int_equal(buddy_check(b), 0);
}

static int compare_blocks(const void *x, const void *y)
{
    const struct block *p = x, *q = y;
    return p->pa < q->pa ? -1 : p->pa > q->pa;
}

/* Allocates every free block at its own order (largest first, so nothing splits) and checks
   the set is exactly the standard decomposition; then frees them again. */
static void expect_standard_free_lists(struct arena *a)
{
    struct block got[STANDARD_BLOCK_COUNT + 1];
    size_t n = 0;
    struct buddy_stats st;
    buddy_get_stats(&a->b, &st);
    for (unsigned order = BUDDY_MAX_ORDER + 1; order-- > 0;) {
        for (uint64_t i = 0; i < st.free_blocks[order]; i++) {
            assert_true(n < STANDARD_BLOCK_COUNT);
            got[n].pa = buddy_alloc(&a->b, order, 0);
            got[n].order = order;
            assert_int_not_equal(got[n].pa, PADDR_NONE);
            n++;
        }
    }
    assert_int_equal(n, STANDARD_BLOCK_COUNT);
    assert_int_equal(buddy_largest_free(&a->b), 0);
    qsort(got, n, sizeof(got[0]), compare_blocks);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].pa, standard_blocks[i].pa);
        assert_int_equal(got[i].order, standard_blocks[i].order);
    }
    for (size_t i = 0; i < n; i++)
        buddy_free(&a->b, got[i].pa, got[i].order);
    expect_standard_stats(&a->b);
}

static void test_meta_bytes_and_empty_allocator(void **state)
{
    (void)state;
    assert_int_equal(buddy_meta_bytes(ARENA_BASE, ARENA_LIMIT), ARENA_FRAMES);
    assert_int_equal(buddy_meta_bytes(ARENA_BASE, ARENA_BASE), 0);
    assert_int_equal(buddy_meta_bytes(ARENA_LIMIT, ARENA_BASE), 0);

    struct arena a;
    arena_open(&a, ARENA_BASE, ARENA_BASE + MIB, false);
    struct buddy_stats st;
    buddy_get_stats(&a.b, &st);
    assert_int_equal(st.total_frames, 0);
    assert_int_equal(st.free_frames, 0);
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++)
        assert_int_equal(st.free_blocks[order], 0);
    assert_int_equal(buddy_largest_free(&a.b), 0);
    assert_int_equal(buddy_alloc(&a.b, 0, 0), PADDR_NONE);
    assert_int_equal(buddy_check(&a.b), 0);
    buddy_add_range(&a.b, ARENA_BASE, ARENA_BASE); /* empty: no-op */
    assert_int_equal(buddy_largest_free(&a.b), 0);
    arena_close(&a);
}

static void test_add_range_coalesces_pieces(void **state)
{
    (void)state;
    struct arena a;
    arena_open_standard(&a);
    expect_standard_stats(&a.b);
    expect_standard_free_lists(&a);
    arena_close(&a);
}

/* ---- randomized test against a reference model ---- */

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

struct live_block {
    paddr_t pa;
    unsigned order;
    uint64_t tag;
};

struct model {
    struct arena a;
    uint8_t used[ARENA_FRAMES]; /* reference: 1 = frame belongs to a live block */
    uint64_t used_frames;
    struct live_block live[RANDOM_MAX_LIVE];
    size_t live_count;
    uint64_t failed_allocs;
};

static uint64_t pattern(paddr_t frame, uint64_t tag)
{
    return frame * 0x9e3779b97f4a7c15ull ^ tag;
}

/* Marks every frame (where the allocator's in-band nodes would go) and the block's last bytes. */
static void write_pattern(struct model *m, const struct live_block *lb)
{
    paddr_t size = FRAME_SIZE << lb->order;
    for (paddr_t f = lb->pa; f < lb->pa + size; f += FRAME_SIZE) {
        uint64_t words[2] = {pattern(f, lb->tag), ~pattern(f, lb->tag)};
        memcpy(va(&m->a, f), words, sizeof(words));
    }
    uint64_t tail = pattern(lb->pa + size, lb->tag);
    memcpy((uint8_t *)va(&m->a, lb->pa) + size - PATTERN_TAIL_BYTES, &tail, sizeof(tail));
}

static void verify_pattern(struct model *m, const struct live_block *lb)
{
    paddr_t size = FRAME_SIZE << lb->order;
    for (paddr_t f = lb->pa; f < lb->pa + size; f += FRAME_SIZE) {
        uint64_t words[2];
        memcpy(words, va(&m->a, f), sizeof(words));
        assert_int_equal(words[0], pattern(f, lb->tag));
        assert_int_equal(words[1], ~pattern(f, lb->tag));
    }
    uint64_t tail;
    memcpy(&tail, (uint8_t *)va(&m->a, lb->pa) + size - PATTERN_TAIL_BYTES, sizeof(tail));
    assert_int_equal(tail, pattern(lb->pa + size, lb->tag));
}

static void model_set(struct model *m, const struct live_block *lb, uint8_t used)
{
    size_t first = (size_t)((lb->pa - ARENA_BASE) / FRAME_SIZE);
    for (size_t i = first; i < first + ((size_t)1 << lb->order); i++) {
        assert_int_equal(m->used[i], !used); /* no overlap, no frame freed twice */
        m->used[i] = used;
    }
    if (used)
        m->used_frames += 1ull << lb->order;
    else
        m->used_frames -= 1ull << lb->order;
}

static void model_alloc(struct model *m, unsigned order, uint64_t tag)
{
    paddr_t pa = buddy_alloc(&m->a.b, order, 0);
    paddr_t size = FRAME_SIZE << order;
    if (pa == PADDR_NONE) {
        assert_true(buddy_largest_free(&m->a.b) < size); /* a failure must be genuine */
        m->failed_allocs++;
        return;
    }
    assert_int_equal(pa & (size - 1), 0);
    assert_true(pa >= ARENA_BASE && pa + size <= ARENA_LIMIT);
    struct live_block *lb = &m->live[m->live_count++];
    *lb = (struct live_block){pa, order, tag};
    model_set(m, lb, 1);
    write_pattern(m, lb);
}

static void model_free(struct model *m, size_t index)
{
    struct live_block lb = m->live[index];
    verify_pattern(m, &lb);
    model_set(m, &lb, 0);
    buddy_free(&m->a.b, lb.pa, lb.order);
    m->live[index] = m->live[--m->live_count];
}

static void test_random_against_model(void **state)
{
    (void)state;
    struct model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    arena_open_standard(&m->a);
    uint64_t seed = RANDOM_SEED;
    uint64_t orders_seen = 0;
    for (unsigned step = 1; step <= RANDOM_OPS; step++) {
        uint64_t r = xorshift64(&seed);
        unsigned alloc_percent = (step / RANDOM_PHASE_OPS) % 2 ? DRAIN_PERCENT : FILL_PERCENT;
        bool alloc =
            m->live_count == 0 || (m->live_count < RANDOM_MAX_LIVE && r % 100 < alloc_percent);
        if (alloc) {
            /* Geometric order distribution: order k with probability ~2^-(k+1). */
            unsigned order = (unsigned)__builtin_ctzll((r >> 8) | (1ull << RANDOM_MAX_ORDER));
            orders_seen |= 1ull << order;
            model_alloc(m, order, step);
        } else {
            model_free(m, (size_t)((r >> 8) % m->live_count));
        }
        struct buddy_stats st;
        buddy_get_stats(&m->a.b, &st);
        assert_int_equal(st.free_frames, ARENA_FRAMES - m->used_frames);
        if (step % CHECK_EVERY == 0)
            assert_int_equal(buddy_check(&m->a.b), 0);
    }
    assert_int_equal(orders_seen, (1ull << (RANDOM_MAX_ORDER + 1)) - 1);
    assert_true(m->failed_allocs > 0); /* the fill phases did reach exhaustion */
    while (m->live_count)
        model_free(m, m->live_count - 1);
    expect_standard_stats(&m->a.b);
    expect_standard_free_lists(&m->a);
    arena_close(&m->a);
    free(m);
}

static int compare_paddrs(const void *x, const void *y)
{
    paddr_t p = *(const paddr_t *)x, q = *(const paddr_t *)y;
    return p < q ? -1 : p > q;
}

static void test_exhaustion_and_recovery(void **state)
{
    (void)state;
    struct arena a;
    arena_open_standard(&a);
    static paddr_t frames[ARENA_FRAMES];
    size_t n = 0;
    paddr_t pa;
    while ((pa = buddy_alloc(&a.b, 0, 0)) != PADDR_NONE) {
        assert_true(n < ARENA_FRAMES);
        frames[n++] = pa;
    }
    assert_int_equal(n, ARENA_FRAMES);
    qsort(frames, n, sizeof(frames[0]), compare_paddrs);
    for (size_t i = 0; i < n; i++) /* every frame of the arena exactly once */
        assert_int_equal(frames[i], ARENA_BASE + i * FRAME_SIZE);
    assert_int_equal(buddy_largest_free(&a.b), 0);
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++)
        assert_int_equal(buddy_alloc(&a.b, order, 0), PADDR_NONE);
    assert_int_equal(buddy_check(&a.b), 0);
    for (size_t i = 0; i < n; i++)
        buddy_free(&a.b, frames[i], 0);
    expect_standard_stats(&a.b);

    /* Mixed orders: every block of the standard map is a multiple of 2^5 frames. */
    const unsigned order = 5;
    n = 0;
    while ((pa = buddy_alloc(&a.b, order, 0)) != PADDR_NONE)
        frames[n++] = pa;
    assert_int_equal(n, ARENA_FRAMES >> order);
    for (size_t i = 0; i < n; i++)
        buddy_free(&a.b, frames[n - 1 - i], order);
    expect_standard_stats(&a.b);
    assert_int_equal(buddy_alloc(&a.b, 13, 0), 0x2000000);
    arena_close(&a);
}

#define POISON_BYTE 0xa5

static void test_zero_flag_and_bad_order(void **state)
{
    (void)state;
    struct arena a;
    arena_open(&a, ARENA_BASE, ARENA_LIMIT, false);
    memset(a.mem, POISON_BYTE, a.bytes); /* before any in-band node exists */
    add_standard_pieces(&a);

    const unsigned order = 4;
    const size_t size = FRAME_SIZE << order;
    paddr_t plain = buddy_alloc(&a.b, order, 0);
    assert_int_not_equal(plain, PADDR_NONE);
    uint8_t *p = va(&a, plain);
    assert_int_equal(p[size - 1], POISON_BYTE); /* without the flag nothing is cleared */

    paddr_t zeroed = buddy_alloc(&a.b, order, BUDDY_ZERO);
    assert_int_not_equal(zeroed, PADDR_NONE);
    uint8_t *z = va(&a, zeroed);
    for (size_t i = 0; i < size; i++)
        assert_int_equal(z[i], 0);

    struct buddy_stats before, after;
    buddy_get_stats(&a.b, &before);
    assert_int_equal(buddy_alloc(&a.b, BUDDY_MAX_ORDER + 1, 0), PADDR_NONE);
    assert_int_equal(buddy_alloc(&a.b, UINT_MAX, BUDDY_ZERO), PADDR_NONE);
    buddy_get_stats(&a.b, &after);
    assert_memory_equal(&before, &after, sizeof(before));

    buddy_free(&a.b, zeroed, order);
    buddy_free(&a.b, plain, order);
    expect_standard_stats(&a.b);
    arena_close(&a);
}

/* Runs a misuse that must panic with `expected` and leave the allocator untouched. */
#define EXPECT_MISUSE(arena, stmt, expected)                                                       \
    do {                                                                                           \
        struct buddy_stats before_, after_;                                                        \
        buddy_get_stats(&(arena)->b, &before_);                                                    \
        EXPECT_PANIC(stmt, expected);                                                              \
        buddy_get_stats(&(arena)->b, &after_);                                                     \
        assert_memory_equal(&before_, &after_, sizeof(before_));                                   \
        assert_int_equal(buddy_check(&(arena)->b), 0);                                             \
    } while (0)

static const char *msg(const char *fmt, unsigned long long value)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), fmt, value);
    return buf;
}

static void test_free_misuse_panics(void **state)
{
    (void)state;
    struct arena a;
    arena_open_standard(&a);
    paddr_t big = buddy_alloc(&a.b, 3, 0);
    paddr_t x = buddy_alloc(&a.b, 0, 0);
    paddr_t y = buddy_alloc(&a.b, 0, 0);
    assert_int_not_equal(big, PADDR_NONE);
    assert_int_equal(x ^ FRAME_SIZE, y); /* buddies split from the same block */

    EXPECT_MISUSE(&a, buddy_free(&a.b, big, 2),
                  msg("0x%llx freed with order 2 but allocated with order 3", big));
    EXPECT_MISUSE(&a, buddy_free(&a.b, big, 4),
                  msg("0x%llx freed with order 4 but allocated with order 3", big));
    EXPECT_MISUSE(&a, buddy_free(&a.b, big + FRAME_SIZE, 0),
                  msg("0x%llx is an interior frame of allocated block", big + FRAME_SIZE));
    EXPECT_MISUSE(&a, buddy_free(&a.b, big + 0x10, 0), msg("unaligned address 0x%llx", big + 0x10));
    EXPECT_MISUSE(&a, buddy_free(&a.b, ARENA_LIMIT, 0), msg("0x%llx out of range", ARENA_LIMIT));
    EXPECT_MISUSE(&a, buddy_free(&a.b, ARENA_BASE - FRAME_SIZE, 0),
                  msg("0x%llx out of range", ARENA_BASE - FRAME_SIZE));
    EXPECT_MISUSE(&a, buddy_free(&a.b, PADDR_NONE & ~(FRAME_SIZE - 1), 0), "out of range");
    EXPECT_MISUSE(&a, buddy_free(&a.b, big, BUDDY_MAX_ORDER + 1),
                  msg("0x%llx freed with invalid order 19", big));

    /* x stays a free head: plain double free. */
    buddy_free(&a.b, x, 0);
    EXPECT_MISUSE(&a, buddy_free(&a.b, x, 0), msg("double free of 0x%llx", x));
    /* Freeing y coalesces it into a larger free block: still a double free afterwards. */
    buddy_free(&a.b, y, 0);
    EXPECT_MISUSE(&a, buddy_free(&a.b, y, 0), msg("double free of 0x%llx", y));
    EXPECT_MISUSE(&a, buddy_free(&a.b, x, 0), msg("double free of 0x%llx", x));
    buddy_free(&a.b, big, 3);
    EXPECT_MISUSE(&a, buddy_free(&a.b, big, 3), msg("double free of 0x%llx", big));
    expect_standard_stats(&a.b);
    arena_close(&a);
}

static void test_free_never_allocated_panics(void **state)
{
    (void)state;
    struct arena a;
    const paddr_t hole = ARENA_BASE + 0x80000, hole_end = ARENA_BASE + 0x90000;
    arena_open(&a, ARENA_BASE, ARENA_BASE + MIB, false);
    buddy_add_range(&a.b, ARENA_BASE, hole);
    buddy_add_range(&a.b, hole_end, ARENA_BASE + MIB);
    EXPECT_MISUSE(&a, buddy_free(&a.b, hole, 0), msg("free of never-allocated frame 0x%llx", hole));
    EXPECT_MISUSE(&a, buddy_free(&a.b, hole_end - FRAME_SIZE, 0),
                  msg("free of never-allocated frame 0x%llx", hole_end - FRAME_SIZE));
    arena_close(&a);
}

static void test_add_range_misuse_panics(void **state)
{
    (void)state;
    struct arena a;
    arena_open(&a, ARENA_BASE, ARENA_BASE + 2 * MIB, false);
    const paddr_t start = ARENA_BASE + 0x10000, end = ARENA_BASE + 0x40000;
    buddy_add_range(&a.b, start, end);
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, start, end), "overlaps free memory");
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, start + FRAME_SIZE, start + 2 * FRAME_SIZE),
                  "overlaps free memory"); /* interior of a free block */
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, ARENA_BASE, start + FRAME_SIZE),
                  msg("overlaps free memory (block 0x%llx", start)); /* from a hole into it */
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, end - FRAME_SIZE, end + FRAME_SIZE),
                  "overlaps free memory");
    paddr_t used = buddy_alloc(&a.b, 0, 0);
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, used, used + FRAME_SIZE), "overlaps allocated memory");
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, ARENA_BASE - FRAME_SIZE, ARENA_BASE),
                  "outside managed");
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, end, ARENA_BASE + 2 * MIB + FRAME_SIZE),
                  "outside managed");
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, end + 1, end + FRAME_SIZE), "not a frame-aligned");
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, end, end + 0x800), "not a frame-aligned");
    EXPECT_MISUSE(&a, buddy_add_range(&a.b, end + FRAME_SIZE, end), "not a frame-aligned");
    EXPECT_PANIC(buddy_init(&a.b, ARENA_BASE + 1, ARENA_LIMIT, a.meta, 0), "bad range");
    arena_close(&a);
}

static void expect_check_fails(const struct buddy *b, const char *what)
{
    fake_log_reset();
    assert_int_equal(buddy_check(b), -1);
    if (!strstr(fake_log, what))
        fail_msg("buddy_check log \"%s\" lacks \"%s\"", fake_log, what);
}

static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct arena a;
    arena_open_standard(&a);
    paddr_t used = buddy_alloc(&a.b, 0, 0); /* splits, filling orders 0..7 */
    assert_int_equal(buddy_check(&a.b), 0);

    /* A clobbered in-band list node. */
    const unsigned order = 3;
    paddr_t head = a.b.free_head[order];
    uint8_t saved[16];
    memcpy(saved, va(&a, head), sizeof(saved));
    memset(va(&a, head), 0x5a, sizeof(saved));
    expect_check_fails(&a.b, "buddy_check: order 3");
    memcpy(va(&a, head), saved, sizeof(saved));
    assert_int_equal(buddy_check(&a.b), 0);

    /* Counters that disagree with the lists. */
    a.b.free_blocks[order]++;
    expect_check_fails(&a.b, "order 3 list has 1 blocks, count says 2");
    a.b.free_blocks[order] -= 2;
    expect_check_fails(&a.b, "longer than its count");
    a.b.free_blocks[order]++;
    a.b.free_frames++;
    expect_check_fails(&a.b, "free_frames says");
    a.b.free_frames--;
    a.b.total_frames++;
    expect_check_fails(&a.b, "were added");
    a.b.total_frames--;
    assert_int_equal(buddy_check(&a.b), 0);

    /* An allocated block whose metadata claims it is free, next to its free buddy. */
    size_t used_index = (size_t)((used - ARENA_BASE) / FRAME_SIZE);
    size_t free_index = (size_t)((a.b.free_head[0] - ARENA_BASE) / FRAME_SIZE);
    assert_int_equal(a.b.free_head[0], used ^ FRAME_SIZE);
    uint8_t saved_meta = a.meta[used_index], free_order0_meta = a.meta[free_index];
    a.meta[used_index] = free_order0_meta;
    expect_check_fails(&a.b, msg("free buddies 0x%llx", used ^ FRAME_SIZE));
    a.meta[used_index] = saved_meta;

    /* The same, but with its buddy allocated: a free block missing from the lists. */
    paddr_t other = buddy_alloc(&a.b, 0, 0);
    assert_int_equal(other, used ^ FRAME_SIZE);
    a.meta[used_index] = free_order0_meta;
    expect_check_fails(&a.b, "1 free heads of order 0 in metadata, count says 0");
    a.meta[used_index] = saved_meta;
    buddy_free(&a.b, other, 0);
    assert_int_equal(buddy_check(&a.b), 0);

    /* A block head inside another block. */
    size_t big_index = (size_t)((a.b.free_head[5] - ARENA_BASE) / FRAME_SIZE);
    a.meta[big_index + 1] = saved_meta;
    expect_check_fails(&a.b, "overlaps block");
    a.meta[big_index + 1] = 0;
    assert_int_equal(buddy_check(&a.b), 0);

    buddy_free(&a.b, used, 0);
    expect_standard_stats(&a.b);
    arena_close(&a);
}

static void test_gib_block(void **state)
{
    (void)state;
    struct arena a;
    const paddr_t base = GIB - 2 * MIB, limit = 2 * GIB + 2 * MIB;
    arena_open(&a, base, limit, true); /* sparse: only touched pages are backed */
    buddy_add_range(&a.b, base, limit);
    assert_int_equal(buddy_largest_free(&a.b), GIB);
    struct buddy_stats st;
    buddy_get_stats(&a.b, &st);
    assert_int_equal(st.free_blocks[BUDDY_MAX_ORDER], 1);
    assert_int_equal(st.free_blocks[9], 2);

    paddr_t gib = buddy_alloc(&a.b, BUDDY_MAX_ORDER, 0);
    assert_int_equal(gib, GIB);
    assert_int_equal(buddy_alloc(&a.b, BUDDY_MAX_ORDER, 0), PADDR_NONE);
    assert_int_equal(buddy_largest_free(&a.b), 2 * MIB);
    assert_int_equal(buddy_check(&a.b), 0);
    buddy_free(&a.b, gib, BUDDY_MAX_ORDER);
    assert_int_equal(buddy_largest_free(&a.b), GIB);
    assert_int_equal(buddy_check(&a.b), 0);

    /* Without a 1 GiB-aligned free GiB there is no order-18 block. */
    buddy_init(&a.b, base, limit, a.meta, (uintptr_t)a.mem - (uintptr_t)base);
    buddy_add_range(&a.b, GIB + FRAME_SIZE, limit);
    assert_int_equal(buddy_largest_free(&a.b), GIB / 2);
    assert_int_equal(buddy_alloc(&a.b, BUDDY_MAX_ORDER, 0), PADDR_NONE);
    assert_int_equal(buddy_check(&a.b), 0);
    arena_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_bytes_and_empty_allocator),
        cmocka_unit_test(test_add_range_coalesces_pieces),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_exhaustion_and_recovery),
        cmocka_unit_test(test_zero_flag_and_bad_order),
        cmocka_unit_test(test_free_misuse_panics),
        cmocka_unit_test(test_free_never_allocated_panics),
        cmocka_unit_test(test_add_range_misuse_panics),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_gib_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
