/*
 * Fake frame allocator for host tests (the API of mm/frame.h) over a 4 KiB-aligned malloc'd
 * arena. A "physical" address is the host pointer itself, which is what mm/layout.h's
 * phys_to_virt/virt_to_phys assume under HV_HOST_TEST, so hv code can write what it allocates.
 *
 * frame_alloc/frame_free/frame_free_count are weak: a test that links the real mm/frame.c
 * (which the Makefile's link order may pull in alongside this file) gets the real ones.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/panic.h"
#include "mm/frame.h"
#include "tests/unit/fake_frames.h"

#define ARENA_BYTES    (64ull << 20)
#define ARENA_FRAMES   (ARENA_BYTES / FRAME_SIZE)
#define FREE_FILL_BYTE 0xA5 /* non-zeroed allocations hold garbage, as real RAM would */
#define HEAD_NONE      0    /* head_order[]: not the first frame of an allocated block */
#define FAIL_NEVER     (-1)

static uint8_t *arena;
static bool frame_used[ARENA_FRAMES];
static uint8_t head_order[ARENA_FRAMES]; /* order + 1 for the first frame of each block */
static size_t frames_in_use;
static long allocations_before_failure = FAIL_NEVER;

static void arena_init(void)
{
    if (arena)
        return;
    arena = aligned_alloc(FRAME_SIZE, ARENA_BYTES);
    if (!arena)
        panic("fake_frames: no memory for a %llu-byte arena", (unsigned long long)ARENA_BYTES);
}

static bool block_free(size_t first, size_t frames)
{
    for (size_t i = first; i < first + frames; i++)
        if (frame_used[i])
            return false;
    return true;
}

static void mark(size_t first, size_t frames, bool used)
{
    for (size_t i = first; i < first + frames; i++)
        frame_used[i] = used;
}

__attribute__((weak)) paddr_t frame_alloc(unsigned order, unsigned flags)
{
    arena_init();
    if (order > BUDDY_MAX_ORDER)
        return PADDR_NONE;
    if (allocations_before_failure == 0)
        return PADDR_NONE;
    size_t frames = (size_t)1 << order;
    /* Naturally aligned, like the buddy allocator's blocks. */
    for (size_t first = 0; first + frames <= ARENA_FRAMES; first += frames) {
        if (!block_free(first, frames))
            continue;
        mark(first, frames, true);
        head_order[first] = (uint8_t)(order + 1);
        frames_in_use += frames;
        if (allocations_before_failure > 0)
            allocations_before_failure--;
        uint8_t *p = arena + first * FRAME_SIZE;
        memset(p, (flags & FRAME_ZERO) ? 0 : FREE_FILL_BYTE, frames * FRAME_SIZE);
        return (paddr_t)(uintptr_t)p;
    }
    return PADDR_NONE;
}

__attribute__((weak)) void frame_free(paddr_t pa, unsigned order)
{
    arena_init();
    uintptr_t p = (uintptr_t)pa, base = (uintptr_t)arena;
    if (p < base || p >= base + ARENA_BYTES || (p - base) % FRAME_SIZE)
        panic("frame_free: 0x%llx is not a frame of the fake arena", (unsigned long long)pa);
    size_t first = (p - base) / FRAME_SIZE;
    if (head_order[first] == HEAD_NONE)
        panic("frame_free: 0x%llx is not allocated", (unsigned long long)pa);
    if (head_order[first] != order + 1)
        panic("frame_free: 0x%llx freed with order %u, allocated with order %u",
              (unsigned long long)pa, order, (unsigned)head_order[first] - 1);
    size_t frames = (size_t)1 << order;
    head_order[first] = HEAD_NONE;
    mark(first, frames, false);
    memset(arena + first * FRAME_SIZE, FREE_FILL_BYTE, frames * FRAME_SIZE);
    frames_in_use -= frames;
}

__attribute__((weak)) uint64_t frame_free_count(void)
{
    return ARENA_FRAMES - frames_in_use;
}

size_t fake_frames_in_use(void)
{
    return frames_in_use;
}

void fake_frames_fail_after(long n)
{
    allocations_before_failure = n < 0 ? FAIL_NEVER : n;
}
