/*
 * Extended page tables (Intel SDM vol. 3 §29.3): the guest-physical to host-physical
 * translation of one guest, a 4-level tree of 4 KiB paging-structure pages taken from the
 * frame allocator (mm/frame.h).
 *
 * This module only builds and edits the tables. It never executes INVEPT (the VMX layer
 * does): whenever a change could leave a stale translation in a CPU's EPT caches (a
 * mapping removed, its permissions reduced, a present entry rewritten, a large page split
 * or a paging-structure page freed) it sets `needs_flush`, and the VMX layer must INVEPT
 * this EPTP before the next VM entry with it and then clear the flag.
 *
 * No locking: the caller serializes all calls on one `struct ept` and does not modify an
 * EPT while a guest runs with it on another CPU (freed table pages are reused at once).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "mm/buddy.h"

/* Access rights of a mapping: bits 2:0 of an EPT leaf entry (SDM Table 29-6). */
#define EPT_READ  1u
#define EPT_WRITE 2u
#define EPT_EXEC  4u
#define EPT_RWX   7u

/* EPT memory types (SDM §29.3.7, §12.3): bits 5:3 of a leaf entry. */
enum ept_memtype { EPT_MT_UC = 0, EPT_MT_WC = 1, EPT_MT_WT = 4, EPT_MT_WP = 5, EPT_MT_WB = 6 };

/* What the CPU supports, from IA32_VMX_EPT_VPID_CAP (SDM §A.10). */
struct ept_caps {
    bool page_1g; /* bit 17: 1 GiB pages */
    bool page_2m; /* bit 16: 2 MiB pages */
    bool ad_bits; /* bit 21: accessed and dirty flags */
};

struct ept {
    paddr_t pml4; /* root table; PADDR_NONE after ept_destroy */
    struct ept_caps caps;
    uint64_t table_pages; /* paging-structure pages currently allocated, root included */
    bool needs_flush;     /* set when a mapping was removed or reduced: caller must INVEPT */
};

/* Allocates the root table (table_pages = 1). Returns 0, or -1 when out of memory. */
int ept_init(struct ept *ept, const struct ept_caps *caps);

/*
 * Maps [gpa, gpa+size) to [hpa, hpa+size) with perms (EPT_READ|...) and memtype; chooses
 * 1 GiB (only when caps.page_1g), 2 MiB (only when caps.page_2m) or 4 KiB pages by the
 * alignment of gpa and hpa and the size left. Overwriting an existing mapping is allowed
 * (remapping) and splits large pages as needed.
 * Returns -1 when gpa, hpa or size is not 4 KiB-aligned, size is 0, gpa+size > 2^48,
 * hpa+size > 2^52, mt is not an EPT memory type, or perms is not one of R, RW, RX, RWX
 * (write-only is an EPT misconfiguration, SDM §29.3.3.1; execute-only needs a CPU feature
 * struct ept_caps does not describe, so it is refused too).
 * Out of memory: -1, and every translation is as it was before the call (large pages on
 * the way may have been split into equivalent smaller ones).
 */
int ept_map(struct ept *ept, uint64_t gpa, paddr_t hpa, uint64_t size, unsigned perms,
            enum ept_memtype mt);

/*
 * Removes every mapping in [gpa, gpa+size) (unmapped parts are fine), splitting large pages
 * that straddle the range ends and freeing tables left empty. Same range rules as ept_map:
 * else -1. Out of memory (splitting): -1, and every translation is as it was.
 */
int ept_unmap(struct ept *ept, uint64_t gpa, uint64_t size);

/*
 * Sets the access rights of every page in [gpa, gpa+size) to perms (memory types and
 * host addresses are kept), splitting large pages that straddle the range ends. Returns -1
 * with nothing changed when part of the range is unmapped, for invalid arguments (as for
 * ept_map) or when out of memory. needs_flush is set only when some right was removed.
 */
int ept_protect(struct ept *ept, uint64_t gpa, uint64_t size, unsigned perms);

/*
 * Walks the tables for gpa (any alignment). Returns 0 and fills, for the page holding gpa:
 * *hpa = the host-physical address gpa translates to (page base + offset of gpa), *perms,
 * *mt and *page_size (4 KiB, 2 MiB or 1 GiB); or -1 if gpa is unmapped or >= 2^48.
 * Any output pointer may be NULL.
 */
int ept_translate(const struct ept *ept, uint64_t gpa, paddr_t *hpa, unsigned *perms,
                  enum ept_memtype *mt, uint64_t *page_size);

/* The EPTP value for the VMCS: memtype WB (6), page-walk length 4 (encoded 3 in bits 5:3),
   bit 6 = A/D enable when caps.ad_bits, bits 51:12 = pml4 (SDM §25.6.11). */
uint64_t ept_pointer(const struct ept *ept);

/*
 * Frees every paging-structure page (not the mapped guest memory); table_pages becomes 0
 * and pml4 PADDR_NONE (a second call is a no-op). The caller must have INVEPTed this EPTP
 * and no CPU may still run a guest with it. Panics if the page count was wrong (hv bug).
 */
void ept_destroy(struct ept *ept);

/* Logs (log_error) the walk for gpa, one line per level with each entry's value decoded and
   anything that would make it an EPT misconfiguration named: for EPT violation/misconfig
   dumps. */
void ept_dump_walk(const struct ept *ept, uint64_t gpa);
