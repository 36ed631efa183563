/*
 * Buddy allocator of physical frames: hv's only source of physical memory.
 *
 * Frames are 4 KiB; a block of order k is 2^k frames, naturally aligned in physical
 * address space (so the buddy of a block is found by flipping one address bit). Free blocks
 * sit on per-order doubly linked lists whose nodes live inside the free blocks themselves
 * (written through the direct map, `virt_offset`), so alloc/free cost O(1) per order.
 * One metadata byte per frame records, for each block head, whether the block is free or
 * allocated and its order, so that misuse (double free, wrong order, interior frame, ...)
 * is caught and reported by panic().
 *
 * The allocator is an instance so host tests can run many; the kernel uses one global
 * instance through thin wrappers that also provide the locking (this code does none).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;

#define FRAME_SHIFT     12
#define FRAME_SIZE      4096ull
#define BUDDY_MAX_ORDER 18 /* 2^18 frames = 1 GiB */
#define PADDR_NONE      ((paddr_t)-1)
#define BUDDY_ZERO      1u /* flag: zero-fill the block */

struct buddy_stats {
    uint64_t total_frames; /* frames ever handed to buddy_add_range */
    uint64_t free_frames;
    uint64_t free_blocks[BUDDY_MAX_ORDER + 1]; /* free blocks per order */
};

struct buddy {
    paddr_t base, limit;                    /* managed frames: [base, limit) */
    uint8_t *meta;                          /* one byte per frame, see buddy.c */
    uintptr_t virt_offset;                  /* physical address + virt_offset = writable pointer */
    paddr_t free_head[BUDDY_MAX_ORDER + 1]; /* first free block per order, or PADDR_NONE */
    uint64_t free_blocks[BUDDY_MAX_ORDER + 1];
    uint64_t total_frames, free_frames;
};

/* Bytes of `meta` storage buddy_init needs for [base, limit). */
size_t buddy_meta_bytes(paddr_t base, paddr_t limit);

/*
 * Manages physical frames in [base, limit) (both frame-aligned). `meta` is caller-provided
 * storage of buddy_meta_bytes(base, limit) bytes; `virt_offset` is added to a physical address
 * to get a pointer the allocator may write (the direct map; in host tests an arena).
 * After init no frame is free: add free memory with buddy_add_range.
 */
void buddy_init(struct buddy *b, paddr_t base, paddr_t limit, void *meta, uintptr_t virt_offset);

/*
 * Frees [start, end) (frame-aligned bounds, any other alignment): splits it into the largest
 * naturally aligned blocks, coalescing with adjacent free buddies. Panics (hv bug) if the range
 * is not frame-aligned, lies outside [base, limit) or overlaps memory already given to the
 * allocator (free or allocated). An empty range is a no-op.
 */
void buddy_add_range(struct buddy *b, paddr_t start, paddr_t end);

/* A block of 2^order frames, or PADDR_NONE when exhausted or order > BUDDY_MAX_ORDER. */
paddr_t buddy_alloc(struct buddy *b, unsigned order, unsigned flags);

/* Returns a block from buddy_alloc with the same order; panics on any misuse. */
void buddy_free(struct buddy *b, paddr_t pa, unsigned order);

void buddy_get_stats(const struct buddy *b, struct buddy_stats *out);

/* Size in bytes of the largest free block (0 when nothing is free). */
paddr_t buddy_largest_free(const struct buddy *b);

/*
 * Verifies every invariant: free blocks aligned to their order and inside [base, limit), no
 * overlap between blocks, no two free buddies of the same order left uncoalesced, list links
 * consistent, per-order counts and free_frames consistent with the lists and the per-frame
 * state. Returns 0, or -1 after logging (log_error) what is wrong.
 */
int buddy_check(const struct buddy *b);
