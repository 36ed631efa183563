/* Run-queue placement: which hv CPU is a vCPU's home (placeholder until the full module lands). */
#pragma once
#include <stdint.h>
#include "kernel/percpu.h"

struct placement {
    unsigned cpu_count;
    unsigned load[MAX_CPUS];
};
void placement_init(struct placement *p, unsigned cpu_count);
int placement_place(struct placement *p, uint32_t allowed, unsigned *cpu);
int placement_first_missing(const struct placement *p, uint32_t allowed);
