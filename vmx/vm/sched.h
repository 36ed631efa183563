/* Round-robin scheduling of guests on the VMX-preemption timer. */
#pragma once
#include <stdint.h>
#include "kernel/percpu.h"
#include "vmx/vm/vm.h"

struct sched_config {
    uint64_t tsc_hz;   /* calibrated TSC frequency */
    uint64_t slice_us; /* hv command line slice_us= */
};

/* vCPUs one CPU's run queue holds at most: every vCPU of every guest. */
#define SCHED_QUEUE_MAX (MAX_GUESTS * GUEST_VCPUS_MAX)

/* Puts vCPU v on its home CPU's run queue (v->home_cpu, chosen by vmx/vm/placement.h). Before
   sched_run only. Returns 0, or -1 when that queue is full. */
int sched_enqueue(struct vcpu *v);
/* Runs every created VM on every CPU until all have ended (each CPU its own run queue); reports
   and destroys each VM as its last vCPU retires. Returns when every CPU's loop is done. */
void sched_run(struct vm *const *vms, unsigned count, const struct sched_config *cfg);

/* Makes vCPU v see what another CPU just posted to it (an interrupt, INIT/SIPI, its guest's
   end): a host IPI to its home CPU if that CPU runs it in guest mode right now; otherwise the
   home CPU sees it before the vCPU's next entry. Callable from any CPU, under any lock. */
struct vcpu;
void sched_kick_vcpu(struct vcpu *v);
