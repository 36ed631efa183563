/* Round-robin scheduling of guests on the VMX-preemption timer. */
#pragma once
#include <stdint.h>
#include "vmx/vm/vm.h"

struct sched_config {
    uint64_t tsc_hz;   /* calibrated TSC frequency */
    uint64_t slice_us; /* hv command line slice_us= */
};

/* Runs every created VM until all have ended; reports and destroys each as it ends. */
void sched_run(struct vm *const *vms, unsigned count, const struct sched_config *cfg);

/* Makes vCPU v see what another CPU just posted to it (an interrupt, INIT/SIPI, its guest's
   end): a host IPI to its home CPU if that CPU runs it in guest mode right now; otherwise the
   home CPU sees it before the vCPU's next entry. Callable from any CPU, under any lock. */
struct vcpu;
void sched_kick_vcpu(struct vcpu *v);
