/* Run-queue placement (see placement.h). */
#include "vmx/vm/placement.h"
#include "kernel/lib/string.h"

#define MASK_BITS 32u /* the width of an `allowed` mask */

_Static_assert(MAX_CPUS <= MASK_BITS, "an allowed mask has a bit for every hv CPU");

/* Bit n set for every online CPU n. */
static uint32_t online_mask(const struct placement *p)
{
    return p->cpu_count >= MASK_BITS ? UINT32_MAX : (1u << p->cpu_count) - 1;
}

void placement_init(struct placement *p, unsigned cpu_count)
{
    memset(p, 0, sizeof(*p));
    p->cpu_count = cpu_count > MAX_CPUS ? MAX_CPUS : cpu_count;
}

int placement_place(struct placement *p, uint32_t allowed, unsigned *cpu)
{
    uint32_t candidates = (allowed ? allowed : UINT32_MAX) & online_mask(p);
    int best = -1;
    for (unsigned n = 0; n < p->cpu_count; n++) {
        if (!(candidates & (1u << n)))
            continue;
        /* Strictly less: on a tie the lower id, seen first, stays. */
        if (best < 0 || p->load[n] < p->load[best])
            best = (int)n;
    }
    if (best < 0)
        return -1;
    p->load[best]++;
    *cpu = (unsigned)best;
    return 0;
}

int placement_first_missing(const struct placement *p, uint32_t allowed)
{
    uint32_t missing = allowed & ~online_mask(p);
    for (unsigned n = 0; n < MASK_BITS; n++) {
        if (missing & (1u << n))
            return (int)n;
    }
    return -1;
}
