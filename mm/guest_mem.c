/* Guest RAM accessors (see guest_mem.h). */
#include "mm/guest_mem.h"
#include <stdbool.h>
#include "kernel/lib/string.h"

/* The chunk containing gpa, or NULL. Chunks may be listed in any order (at most 16). */
static const struct guest_mem_chunk *chunk_at(const struct guest_mem *m, uint64_t gpa)
{
    if (gpa >= m->size)
        return NULL;
    for (size_t i = 0; i < m->nchunks && i < GUEST_MEM_MAX_CHUNKS; i++) {
        const struct guest_mem_chunk *c = &m->chunk[i];
        if (gpa >= c->gpa && gpa - c->gpa < c->size)
            return c;
    }
    return NULL;
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (gpa + len < gpa || gpa + len > m->size)
        return NULL;
    const struct guest_mem_chunk *c = chunk_at(m, gpa);
    if (!c || len > c->size - (gpa - c->gpa))
        return NULL;
    return (uint8_t *)c->hva + (gpa - c->gpa);
}

/* Bytes of [gpa, gpa+len) that lie in the chunk containing gpa (0 if none). */
static uint64_t piece_len(const struct guest_mem *m, uint64_t gpa, uint64_t len,
                          const struct guest_mem_chunk **out)
{
    const struct guest_mem_chunk *c = chunk_at(m, gpa);
    *out = c;
    if (!c)
        return 0;
    uint64_t room = c->size - (gpa - c->gpa);
    return len < room ? len : room;
}

/* True when every byte of [gpa, gpa+len) is backed by some chunk and inside [0, size). */
static bool range_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (gpa + len < gpa || gpa + len > m->size)
        return false;
    while (len > 0) {
        const struct guest_mem_chunk *c;
        uint64_t n = piece_len(m, gpa, len, &c);
        if (n == 0)
            return false;
        gpa += n;
        len -= n;
    }
    return true;
}

enum copy_dir { COPY_TO_GUEST, COPY_FROM_GUEST, ZERO_GUEST };

/* Validates the whole range first so that a failed access changes nothing. */
static int copy(const struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len, enum copy_dir dir)
{
    if (!range_ok(m, gpa, len))
        return -1;
    uint8_t *p = buf;
    while (len > 0) {
        const struct guest_mem_chunk *c;
        uint64_t n = piece_len(m, gpa, len, &c);
        uint8_t *host = (uint8_t *)c->hva + (gpa - c->gpa);
        if (dir == COPY_TO_GUEST)
            memcpy(host, p, (size_t)n);
        else if (dir == COPY_FROM_GUEST)
            memcpy(p, host, (size_t)n);
        else
            memset(host, 0, (size_t)n);
        if (p)
            p += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
    return copy(m, gpa, (void *)(uintptr_t)src, len, COPY_TO_GUEST);
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
    return copy(m, gpa, dst, len, COPY_FROM_GUEST);
}

int guest_mem_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    return copy(m, gpa, NULL, len, ZERO_GUEST);
}
