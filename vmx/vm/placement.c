#include "vmx/vm/placement.h"

void placement_init(struct placement *p, unsigned cpu_count)
{
    p->cpu_count = cpu_count;
    for (unsigned i = 0; i < MAX_CPUS; i++)
        p->load[i] = 0;
}

int placement_place(struct placement *p, uint32_t allowed, unsigned *cpu)
{
    int best = -1;
    for (unsigned i = 0; i < p->cpu_count; i++)
        if ((!allowed || (allowed >> i) & 1) && (best < 0 || p->load[i] < p->load[best]))
            best = (int)i;
    if (best < 0)
        return -1;
    p->load[best]++;
    *cpu = (unsigned)best;
    return 0;
}

int placement_first_missing(const struct placement *p, uint32_t allowed)
{
    for (unsigned i = p->cpu_count; i < 32; i++)
        if ((allowed >> i) & 1)
            return (int)i;
    return -1;
}
