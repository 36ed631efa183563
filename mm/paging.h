/* hv's own page tables: direct map of RAM, W^X image, unmapped stack guard pages. */
#pragma once
#include "kernel/mb2.h"
#include "mm/buddy.h"

/* Builds the final page tables and switches CR3 to them. Returns 0, or -1 (out of memory). */
int paging_init(const struct mb2_info *info);
/* Maps [pa, pa+size) uncached at its direct-map address (device MMIO such as the local APIC). */
int paging_map_mmio(paddr_t pa, uint64_t size);
