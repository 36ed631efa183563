/*
 * Buddy frame allocator (see buddy.h for the model).
 *
 * Per-frame metadata byte: a block head (first frame of a current block, free or allocated)
 * carries META_HEAD | order, plus META_FREE when the block is free. Every other frame (interior
 * frames of a block, frames never given to the allocator) is META_NOT_HEAD. Only head bytes change
 * on split and merge, which keeps both O(1); the block containing an arbitrary frame is found by
 * trying its aligned-down address at each order (find_block).
 */
#include <stdbool.h>
#include "mm/buddy.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/lib/string.h"

#define META_NOT_HEAD   0x00u
#define META_HEAD       0x80u
#define META_FREE       0x40u
#define META_ORDER_MASK 0x1fu
#define META_KNOWN_BITS (META_HEAD | META_FREE | META_ORDER_MASK)

/* Written into the first bytes of every free block (in-band list node). */
struct buddy_free_node {
    paddr_t next, prev; /* PADDR_NONE terminates */
};

typedef unsigned long long ull; /* for %llx in messages */

static paddr_t block_bytes(unsigned order)
{
    return FRAME_SIZE << order;
}

static uint64_t block_frames(unsigned order)
{
    return 1ull << order;
}

static bool aligned_to(paddr_t pa, paddr_t size)
{
    return (pa & (size - 1)) == 0;
}

static uint8_t *meta_of(const struct buddy *b, paddr_t pa)
{
    return &b->meta[(pa - b->base) >> FRAME_SHIFT];
}

static struct buddy_free_node *node_at(const struct buddy *b, paddr_t pa)
{
    return (struct buddy_free_node *)(uintptr_t)(pa + b->virt_offset);
}

static bool frame_in_range(const struct buddy *b, paddr_t pa)
{
    return pa >= b->base && pa < b->limit;
}

/* Written to avoid overflow near the top of the address space. */
static bool block_in_range(const struct buddy *b, paddr_t pa, unsigned order)
{
    return frame_in_range(b, pa) && block_bytes(order) <= b->limit - pa;
}

static uint8_t free_head_meta(unsigned order)
{
    return (uint8_t)(META_HEAD | META_FREE | order);
}

static uint8_t used_head_meta(unsigned order)
{
    return (uint8_t)(META_HEAD | order);
}

static bool is_free_head(const struct buddy *b, paddr_t pa, unsigned order)
{
    return frame_in_range(b, pa) && *meta_of(b, pa) == free_head_meta(order);
}

static void list_push(struct buddy *b, paddr_t pa, unsigned order)
{
    struct buddy_free_node *node = node_at(b, pa);
    node->prev = PADDR_NONE;
    node->next = b->free_head[order];
    if (node->next != PADDR_NONE)
        node_at(b, node->next)->prev = pa;
    b->free_head[order] = pa;
    *meta_of(b, pa) = free_head_meta(order);
    b->free_blocks[order]++;
    b->free_frames += block_frames(order);
}

/* Unlinks a free block; the caller rewrites its metadata byte. */
static void list_remove(struct buddy *b, paddr_t pa, unsigned order)
{
    struct buddy_free_node *node = node_at(b, pa);
    if (node->prev == PADDR_NONE)
        b->free_head[order] = node->next;
    else
        node_at(b, node->prev)->next = node->next;
    if (node->next != PADDR_NONE)
        node_at(b, node->next)->prev = node->prev;
    b->free_blocks[order]--;
    b->free_frames -= block_frames(order);
}

/* Makes a validated block free, merging it with its free buddies as far as possible. */
static void free_block(struct buddy *b, paddr_t pa, unsigned order)
{
    while (order < BUDDY_MAX_ORDER) {
        paddr_t buddy = pa ^ block_bytes(order);
        if (!is_free_head(b, buddy, order))
            break;
        list_remove(b, buddy, order);
        *meta_of(b, buddy) = META_NOT_HEAD;
        *meta_of(b, pa) = META_NOT_HEAD;
        pa &= ~block_bytes(order);
        order++;
    }
    list_push(b, pa, order);
}

/*
 * Finds the current block containing frame pa. A head found at pa aligned down to order o with
 * order >= o necessarily contains pa; the smallest such o gives the (unique) containing block.
 */
static bool find_block(const struct buddy *b, paddr_t pa, paddr_t *head, uint8_t *meta)
{
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++) {
        paddr_t candidate = pa & ~(block_bytes(order) - 1);
        if (candidate < b->base)
            return false; /* larger orders only align further down */
        uint8_t m = *meta_of(b, candidate);
        if ((m & META_HEAD) && (m & META_ORDER_MASK) >= order) {
            *head = candidate;
            *meta = m;
            return true;
        }
    }
    return false;
}

size_t buddy_meta_bytes(paddr_t base, paddr_t limit)
{
    return limit > base ? (size_t)((limit - base) >> FRAME_SHIFT) : 0;
}

void buddy_init(struct buddy *b, paddr_t base, paddr_t limit, void *meta, uintptr_t virt_offset)
{
    if (!aligned_to(base, FRAME_SIZE) || !aligned_to(limit, FRAME_SIZE) || limit < base)
        panic("buddy_init: bad range [0x%llx, 0x%llx)", (ull)base, (ull)limit);
    b->base = base;
    b->limit = limit;
    b->meta = meta;
    b->virt_offset = virt_offset;
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++) {
        b->free_head[order] = PADDR_NONE;
        b->free_blocks[order] = 0;
    }
    b->total_frames = 0;
    b->free_frames = 0;
    memset(meta, META_NOT_HEAD, buddy_meta_bytes(base, limit));
}

static void check_new_range(const struct buddy *b, paddr_t start, paddr_t end)
{
    if (!aligned_to(start, FRAME_SIZE) || !aligned_to(end, FRAME_SIZE) || end < start)
        panic("buddy_add_range: [0x%llx, 0x%llx) is not a frame-aligned range", (ull)start,
              (ull)end);
    if (start < b->base || end > b->limit)
        panic("buddy_add_range: [0x%llx, 0x%llx) outside managed [0x%llx, 0x%llx)", (ull)start,
              (ull)end, (ull)b->base, (ull)b->limit);
    paddr_t head = 0;
    uint8_t meta = 0;
    bool overlap = find_block(b, start, &head, &meta);
    for (paddr_t pa = start + FRAME_SIZE; !overlap && pa < end; pa += FRAME_SIZE) {
        head = pa;
        meta = *meta_of(b, pa);
        overlap = meta != META_NOT_HEAD;
    }
    if (overlap)
        panic("buddy_add_range: [0x%llx, 0x%llx) overlaps %s memory (block 0x%llx of order %u)",
              (ull)start, (ull)end, (meta & META_FREE) ? "free" : "allocated", (ull)head,
              meta & META_ORDER_MASK);
}

/* The largest order whose naturally aligned block starts at pa and ends by end. */
static unsigned largest_fitting_order(paddr_t pa, paddr_t end)
{
    unsigned order = BUDDY_MAX_ORDER;
    while (order > 0 && (!aligned_to(pa, block_bytes(order)) || block_bytes(order) > end - pa))
        order--;
    return order;
}

void buddy_add_range(struct buddy *b, paddr_t start, paddr_t end)
{
    check_new_range(b, start, end);
    for (paddr_t pa = start; pa < end;) {
        unsigned order = largest_fitting_order(pa, end);
        free_block(b, pa, order);
        pa += block_bytes(order);
    }
    b->total_frames += (end - start) >> FRAME_SHIFT;
}

paddr_t buddy_alloc(struct buddy *b, unsigned order, unsigned flags)
{
    if (order > BUDDY_MAX_ORDER)
        return PADDR_NONE;
    unsigned found = order;
    while (found <= BUDDY_MAX_ORDER && b->free_head[found] == PADDR_NONE)
        found++;
    if (found > BUDDY_MAX_ORDER)
        return PADDR_NONE;
    paddr_t pa = b->free_head[found];
    list_remove(b, pa, found);
    while (found > order) { /* split, keeping the lower half */
        found--;
        list_push(b, pa + block_bytes(found), found);
    }
    *meta_of(b, pa) = used_head_meta(order);
    if (flags & BUDDY_ZERO)
        memset((void *)(uintptr_t)(pa + b->virt_offset), 0, block_bytes(order));
    return pa;
}

/* Explains why pa is not the head of an allocated block (never returns). */
_Noreturn static void panic_not_allocated(const struct buddy *b, paddr_t pa, unsigned order)
{
    paddr_t head;
    uint8_t meta;
    if (!find_block(b, pa, &head, &meta))
        panic("buddy_free: free of never-allocated frame 0x%llx (order %u)", (ull)pa, order);
    if (meta & META_FREE)
        panic("buddy_free: double free of 0x%llx (inside free block 0x%llx of order %u)", (ull)pa,
              (ull)head, meta & META_ORDER_MASK);
    panic("buddy_free: 0x%llx is an interior frame of allocated block 0x%llx of order %u", (ull)pa,
          (ull)head, meta & META_ORDER_MASK);
}

void buddy_free(struct buddy *b, paddr_t pa, unsigned order)
{
    if (order > BUDDY_MAX_ORDER)
        panic("buddy_free: 0x%llx freed with invalid order %u", (ull)pa, order);
    if (!aligned_to(pa, FRAME_SIZE))
        panic("buddy_free: unaligned address 0x%llx", (ull)pa);
    if (!frame_in_range(b, pa))
        panic("buddy_free: 0x%llx out of range [0x%llx, 0x%llx)", (ull)pa, (ull)b->base,
              (ull)b->limit);
    uint8_t meta = *meta_of(b, pa);
    if (meta == free_head_meta(meta & META_ORDER_MASK))
        panic("buddy_free: double free of 0x%llx (order %u)", (ull)pa, order);
    if (!(meta & META_HEAD))
        panic_not_allocated(b, pa, order);
    if ((meta & META_ORDER_MASK) != order)
        panic("buddy_free: 0x%llx freed with order %u but allocated with order %u", (ull)pa, order,
              meta & META_ORDER_MASK);
    free_block(b, pa, order);
}

void buddy_get_stats(const struct buddy *b, struct buddy_stats *out)
{
    out->total_frames = b->total_frames;
    out->free_frames = b->free_frames;
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++)
        out->free_blocks[order] = b->free_blocks[order];
}

paddr_t buddy_largest_free(const struct buddy *b)
{
    for (unsigned order = BUDDY_MAX_ORDER + 1; order-- > 0;)
        if (b->free_blocks[order])
            return block_bytes(order);
    return 0;
}

/* Checks one list node before anything dereferences it. */
static int check_free_node(const struct buddy *b, paddr_t pa, unsigned order)
{
    if (!aligned_to(pa, block_bytes(order)) || !block_in_range(b, pa, order)) {
        log_error("buddy_check: order %u free block 0x%llx misaligned or outside [0x%llx, 0x%llx)",
                  order, (ull)pa, (ull)b->base, (ull)b->limit);
        return -1;
    }
    if (*meta_of(b, pa) != free_head_meta(order)) {
        log_error("buddy_check: order %u free block 0x%llx has metadata 0x%x", order, (ull)pa,
                  *meta_of(b, pa));
        return -1;
    }
    if (is_free_head(b, pa ^ block_bytes(order), order)) {
        log_error("buddy_check: free buddies 0x%llx and 0x%llx of order %u not coalesced", (ull)pa,
                  (ull)(pa ^ block_bytes(order)), order);
        return -1;
    }
    return 0;
}

/* Walks each free list; adds the frames found to *frames. */
static int check_list(const struct buddy *b, unsigned order, uint64_t *frames)
{
    uint64_t count = 0;
    paddr_t prev = PADDR_NONE;
    for (paddr_t pa = b->free_head[order]; pa != PADDR_NONE; pa = node_at(b, pa)->next) {
        if (count == b->free_blocks[order]) { /* also stops a cycle */
            log_error("buddy_check: order %u list longer than its count %llu", order,
                      (ull)b->free_blocks[order]);
            return -1;
        }
        if (check_free_node(b, pa, order) < 0)
            return -1;
        if (node_at(b, pa)->prev != prev) {
            log_error("buddy_check: order %u block 0x%llx has prev 0x%llx, expected 0x%llx", order,
                      (ull)pa, (ull)node_at(b, pa)->prev, (ull)prev);
            return -1;
        }
        prev = pa;
        count++;
    }
    if (count != b->free_blocks[order]) {
        log_error("buddy_check: order %u list has %llu blocks, count says %llu", order, (ull)count,
                  (ull)b->free_blocks[order]);
        return -1;
    }
    *frames += count * block_frames(order);
    return 0;
}

/* Checks the metadata of block head pa: sane byte, aligned, in range, no head inside. */
static int check_head(const struct buddy *b, paddr_t pa, uint8_t meta)
{
    unsigned order = meta & META_ORDER_MASK;
    if (!(meta & META_HEAD) || (meta & ~META_KNOWN_BITS) || order > BUDDY_MAX_ORDER) {
        log_error("buddy_check: frame 0x%llx has invalid metadata 0x%x", (ull)pa, meta);
        return -1;
    }
    if (!aligned_to(pa, block_bytes(order)) || !block_in_range(b, pa, order)) {
        log_error("buddy_check: block 0x%llx of order %u misaligned or out of range", (ull)pa,
                  order);
        return -1;
    }
    for (paddr_t inner = pa + FRAME_SIZE; inner < pa + block_bytes(order); inner += FRAME_SIZE) {
        if (*meta_of(b, inner) != META_NOT_HEAD) {
            log_error("buddy_check: block 0x%llx overlaps block 0x%llx of order %u", (ull)inner,
                      (ull)pa, order);
            return -1;
        }
    }
    return 0;
}

/* Scans the per-frame state: blocks do not overlap and agree with the counters. */
static int check_meta(const struct buddy *b)
{
    uint64_t free_heads[BUDDY_MAX_ORDER + 1] = {0};
    uint64_t block_frames_seen = 0;
    for (paddr_t pa = b->base; pa < b->limit;) {
        uint8_t meta = *meta_of(b, pa);
        if (meta == META_NOT_HEAD) {
            pa += FRAME_SIZE;
            continue;
        }
        if (check_head(b, pa, meta) < 0)
            return -1;
        unsigned order = meta & META_ORDER_MASK;
        if (meta & META_FREE)
            free_heads[order]++;
        block_frames_seen += block_frames(order);
        pa += block_bytes(order);
    }
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++) {
        if (free_heads[order] != b->free_blocks[order]) {
            log_error("buddy_check: %llu free heads of order %u in metadata, count says %llu",
                      (ull)free_heads[order], order, (ull)b->free_blocks[order]);
            return -1;
        }
    }
    if (block_frames_seen != b->total_frames) {
        log_error("buddy_check: blocks cover %llu frames, %llu were added", (ull)block_frames_seen,
                  (ull)b->total_frames);
        return -1;
    }
    return 0;
}

int buddy_check(const struct buddy *b)
{
    uint64_t listed_frames = 0;
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++)
        if (check_list(b, order, &listed_frames) < 0)
            return -1;
    if (listed_frames != b->free_frames) {
        log_error("buddy_check: lists hold %llu frames, free_frames says %llu", (ull)listed_frames,
                  (ull)b->free_frames);
        return -1;
    }
    return check_meta(b);
}
