/*
 * A guest's RAM as seen by hv: guest-physical addresses [0, size), backed by up to
 * GUEST_MEM_MAX_CHUNKS physically contiguous host chunks, each mapped in hv at `hva`.
 * The VMX side allocates the chunks (and maps them in EPT); this code only copies bytes in
 * and out, refusing anything that is not entirely inside guest RAM.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "mm/buddy.h"

#define GUEST_MEM_MAX_CHUNKS 16

struct guest_mem_chunk {
    uint64_t gpa;   /* first guest-physical address backed by this chunk */
    paddr_t hpa;    /* host-physical address of the chunk */
    void *hva;      /* where hv can read/write the chunk */
    uint64_t size;  /* bytes */
    unsigned order; /* buddy order the chunk was allocated with */
};

struct guest_mem {
    uint64_t size; /* guest RAM is [0, size) */
    size_t nchunks;
    struct guest_mem_chunk chunk[GUEST_MEM_MAX_CHUNKS];
};

/* Host pointer for [gpa, gpa+len) if it lies inside one chunk, else NULL (also on overflow /
   out of range). */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copies across chunk boundaries; -1 if any byte is outside [0, size) (nothing written then) or
   on overflow. A zero-length access succeeds when gpa <= size. */
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
int guest_mem_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len);
