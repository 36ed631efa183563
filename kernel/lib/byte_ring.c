#include "kernel/lib/byte_ring.h"

void byte_ring_init(struct byte_ring *r, uint8_t *buf, size_t size)
{
    r->buf = buf;
    r->size = size;
    r->head = 0;
    r->count = 0;
}

size_t byte_ring_put(struct byte_ring *r, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t n = len < byte_ring_room(r) ? len : byte_ring_room(r);
    for (size_t i = 0; i < n; i++)
        r->buf[(r->head + r->count + i) % r->size] = p[i];
    r->count += n;
    return n;
}

int byte_ring_get(struct byte_ring *r, uint8_t *out)
{
    if (!r->count)
        return -1;
    *out = r->buf[r->head];
    r->head = (r->head + 1) % r->size;
    r->count--;
    return 0;
}

int byte_ring_peek(const struct byte_ring *r)
{
    return r->count ? r->buf[r->head] : -1;
}

void byte_ring_clear(struct byte_ring *r)
{
    r->head = 0;
    r->count = 0;
}
