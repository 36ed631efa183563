/* One timer service for every emulated timer (drivers/vdev/vdev.h). */
#include "drivers/vdev/vdev.h"
#include "kernel/lib/string.h"

void vdev_timers_init(struct vdev_timers *t)
{
    memset(t, 0, sizeof(*t));
}

int vdev_timer_add(struct vdev_timers *t, struct vdev_timer *timer, void (*fire)(void *, uint64_t),
                   void *dev)
{
    if (t->count == VDEV_MAX_TIMERS)
        return -1;
    *timer = (struct vdev_timer){fire, dev, 0, false};
    t->timer[t->count++] = timer;
    return 0;
}

void vdev_timer_arm(struct vdev_timer *timer, uint64_t deadline)
{
    timer->deadline = deadline;
    timer->armed = true;
}

void vdev_timer_cancel(struct vdev_timer *timer)
{
    timer->armed = false;
}

uint64_t vdev_timers_next(const struct vdev_timers *t)
{
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < t->count; i++)
        if (t->timer[i]->armed && t->timer[i]->deadline < next)
            next = t->timer[i]->deadline;
    return next;
}

unsigned vdev_timers_run(struct vdev_timers *t, uint64_t now)
{
    unsigned fired = 0;
    for (unsigned i = 0; i < t->count; i++) {
        struct vdev_timer *tm = t->timer[i];
        if (!tm->armed || tm->deadline > now)
            continue;
        tm->armed = false; /* fire() re-arms a periodic timer */
        tm->fire(tm->dev, now);
        fired++;
    }
    return fired;
}

/* a * b / c for b, c below 2^32 (clock rates in Hz): a = q*c + r, so a*b/c = q*b + r*b/c, and
   r*b < 2^64. No 128-bit division (hv links no libgcc). */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
    if (!c)
        return 0;
    return (a / c) * b + (a % c) * b / c;
}

uint64_t vdev_ticks_to_tsc(uint64_t ticks, uint64_t hz, uint64_t tsc_hz)
{
    return mul_div(ticks, tsc_hz, hz);
}

uint64_t vdev_tsc_to_ticks(uint64_t tsc, uint64_t hz, uint64_t tsc_hz)
{
    return mul_div(tsc, hz, tsc_hz);
}
