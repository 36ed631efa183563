/*
 * Physical memory map: turns the firmware map (multiboot2 memory-map tag) and the ranges hv
 * must not hand out into the free ranges that seed the buddy allocator.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Layout-identical to the multiboot2 parser's mb2_mmap_entry: the kernel converts trivially. */
struct memmap_entry {
    uint64_t base, length;
    uint32_t type;
};

#define MEMMAP_TYPE_USABLE 1u /* multiboot2 "available RAM"; every other type is reserved */

struct phys_range {
    uint64_t start, end; /* end exclusive */
};

#define MEMMAP_MAX_RANGES     256
#define MEMMAP_LOW_MEMORY_END 0x100000ull /* the first MiB: hv reserves it (BIOS, trampolines) */

/*
 * From firmware map entries (type MEMMAP_TYPE_USABLE = usable, anything else reserved) minus the
 * `reserved` ranges (hv image, multiboot2 info, modules, the first MiB), writes to out the sorted,
 * non-overlapping, frame-aligned (start rounded up, end rounded down) usable ranges, dropping
 * those left empty by the rounding. A byte covered by any non-usable entry is not usable, whatever
 * usable entries say. Entries may be unsorted, overlapping, unaligned, zero-length, lie above
 * 4 GiB or run past 2^64 (clamped to end at 2^64 - 1). Returns the number of ranges, or -1 if more
 * than max_out ranges would be needed.
 */
int memmap_usable(const struct memmap_entry *map, size_t n, const struct phys_range *reserved,
                  size_t nres, struct phys_range *out, size_t max_out);

/* Total bytes in n ranges. */
uint64_t memmap_total(const struct phys_range *r, size_t n);
