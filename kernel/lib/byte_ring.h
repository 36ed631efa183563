/* A bounded FIFO of bytes over a caller's buffer (hv's console output, each guest's console
   output and input). Not locked: its owner serialises access. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct byte_ring {
    uint8_t *buf;
    size_t size;  /* capacity in bytes */
    size_t head;  /* index of the oldest byte */
    size_t count; /* bytes held */
};

void byte_ring_init(struct byte_ring *r, uint8_t *buf, size_t size);
static inline size_t byte_ring_count(const struct byte_ring *r)
{
    return r->count;
}
static inline size_t byte_ring_room(const struct byte_ring *r)
{
    return r->size - r->count;
}
/* Appends up to len bytes; returns how many fit (the rest is not taken). */
size_t byte_ring_put(struct byte_ring *r, const void *data, size_t len);
/* Removes the oldest byte into *out; returns 0, or -1 when the ring is empty. */
int byte_ring_get(struct byte_ring *r, uint8_t *out);
/* The oldest byte without removing it; -1 when empty. */
int byte_ring_peek(const struct byte_ring *r);
void byte_ring_clear(struct byte_ring *r);
