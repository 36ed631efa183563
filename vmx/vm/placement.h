/*
 * Run-queue placement: which hv CPU is a vCPU's home (issue 14). Pure bookkeeping, no locks:
 * the caller places every vCPU of every guest from one CPU before the guests start.
 *
 * The rule: the least-loaded CPU the guest allows (cpus=LIST, vmx/loader/modargs.h), lowest id
 * on ties. Guests without cpus= spread one vCPU per CPU before any CPU gets a second; a
 * multi-vCPU guest's vCPUs land on different CPUs while idle ones remain, since each placement
 * raises its CPU's load before the next vCPU is placed.
 */
#pragma once
#include <stdint.h>
#include "kernel/percpu.h"

struct placement {
    unsigned cpu_count;      /* CPUs in VMX root operation: hv CPU ids 0..cpu_count-1 */
    unsigned load[MAX_CPUS]; /* vCPUs placed on each so far */
};

/* No vCPU placed yet on `cpu_count` online CPUs (more than MAX_CPUS counts as MAX_CPUS). */
void placement_init(struct placement *p, unsigned cpu_count);

/* The home CPU of one vCPU: the least-loaded CPU among `allowed` (bit n = CPU n; 0 = any CPU),
   lowest id on ties; records it in load[]. Returns 0 with *cpu set, or -1 when `allowed` names
   no CPU below cpu_count (nothing recorded then). */
int placement_place(struct placement *p, uint32_t allowed, unsigned *cpu);

/* The first CPU in `allowed` that is not online (>= cpu_count), or -1: for the rejection
   message "cpus=...: CPU N is not in VMX root operation". */
int placement_first_missing(const struct placement *p, uint32_t allowed);
