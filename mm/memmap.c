/*
 * Usable-memory computation. A sweep over every entry and reservation boundary: between two
 * consecutive boundaries nothing changes, so each such segment is usable or not as a whole.
 * Quadratic in the number of inputs, which firmware keeps small (tens of entries), and needs no
 * sorting or scratch memory.
 */
#include <stdbool.h>
#include "mm/memmap.h"
#include "mm/buddy.h"

/* Exclusive end of an entry, clamped when base + length runs past 2^64. */
static uint64_t entry_end(const struct memmap_entry *e)
{
    return e->length > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->length;
}

static bool contains(uint64_t start, uint64_t end, uint64_t addr)
{
    return start <= addr && addr < end;
}

struct memmap_input {
    const struct memmap_entry *map;
    size_t n;
    const struct phys_range *reserved;
    size_t nres;
};

/* Whether the byte at addr is usable: some usable entry covers it and nothing reserves it. */
static bool usable_at(const struct memmap_input *in, uint64_t addr)
{
    bool usable = false;
    for (size_t i = 0; i < in->n; i++) {
        if (!contains(in->map[i].base, entry_end(&in->map[i]), addr))
            continue;
        if (in->map[i].type != MEMMAP_TYPE_USABLE)
            return false; /* reserved wins over usable */
        usable = true;
    }
    for (size_t i = 0; i < in->nres; i++)
        if (contains(in->reserved[i].start, in->reserved[i].end, addr))
            return false;
    return usable;
}

static void consider_boundary(uint64_t candidate, uint64_t after, uint64_t *next, bool *found)
{
    if (candidate > after && (!*found || candidate < *next)) {
        *next = candidate;
        *found = true;
    }
}

/* The smallest entry or reservation boundary above addr; false if there is none. */
static bool next_boundary(const struct memmap_input *in, uint64_t addr, uint64_t *next)
{
    bool found = false;
    for (size_t i = 0; i < in->n; i++) {
        consider_boundary(in->map[i].base, addr, next, &found);
        consider_boundary(entry_end(&in->map[i]), addr, next, &found);
    }
    for (size_t i = 0; i < in->nres; i++) {
        consider_boundary(in->reserved[i].start, addr, next, &found);
        consider_boundary(in->reserved[i].end, addr, next, &found);
    }
    return found;
}

struct memmap_output {
    struct phys_range *ranges;
    size_t count, max;
};

/* Appends [start, end) shrunk to whole frames, if any frame remains; -1 when out is full. */
static int emit(struct memmap_output *out, uint64_t start, uint64_t end)
{
    const uint64_t frame_mask = FRAME_SIZE - 1;
    if (start > (UINT64_MAX & ~frame_mask))
        return 0; /* rounding up would wrap: no whole frame fits */
    uint64_t first = (start + frame_mask) & ~frame_mask;
    uint64_t last = end & ~frame_mask;
    if (first >= last)
        return 0;
    if (out->count == out->max)
        return -1;
    out->ranges[out->count].start = first;
    out->ranges[out->count].end = last;
    out->count++;
    return 0;
}

int memmap_usable(const struct memmap_entry *map, size_t n, const struct phys_range *reserved,
                  size_t nres, struct phys_range *out, size_t max_out)
{
    const struct memmap_input in = {map, n, reserved, nres};
    struct memmap_output result = {out, 0, max_out};
    bool open = false; /* inside a usable run starting at run_start */
    uint64_t run_start = 0;
    uint64_t addr = 0;
    for (;;) {
        bool usable = usable_at(&in, addr);
        if (usable && !open)
            run_start = addr;
        if (!usable && open && emit(&result, run_start, addr) < 0)
            return -1;
        open = usable;
        /* A usable addr is covered by an entry whose end is a boundary above it, so the loop
           only stops outside any run. */
        if (!next_boundary(&in, addr, &addr))
            break;
    }
    return (int)result.count;
}

uint64_t memmap_total(const struct phys_range *r, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += r[i].end - r[i].start;
    return total;
}
