/*
 * The global frame allocator: one buddy allocator (mm/buddy.h) seeded from the multiboot2
 * memory map, with a lock so every CPU may use it.
 */
#pragma once
#include <stdint.h>
#include "kernel/mb2.h"
#include "mm/buddy.h"

#define FRAME_ZERO BUDDY_ZERO

struct frame_stats {
    struct buddy_stats buddy;
    uint64_t largest_free_bytes;
};

/* Seeds the allocator: usable RAM minus the first MiB, hv's image, the boot information and
   the modules. Returns 0, or -1 with a reason logged (no usable memory above 1 MiB). */
int frame_init(const struct mb2_info *info, paddr_t mbi_phys);
paddr_t frame_alloc(unsigned order, unsigned flags); /* PADDR_NONE when exhausted */
void frame_free(paddr_t pa, unsigned order);
void frame_get_stats(struct frame_stats *out);
uint64_t frame_free_count(void);
int mm_check(void);
/* Smallest order whose block holds `bytes`. */
unsigned frame_order_for(uint64_t bytes);
