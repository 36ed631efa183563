/* EPT shootdown: a changed EPT mapping leaves no stale translation on any CPU (vmx/vcpu/guest.h).
 */
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "vmx/cpu/vmx_ops.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu.h"

void guest_ept_changed(struct guest *g)
{
    uint64_t start = hw_rdtsc();
    unsigned waited = 0;
    __atomic_add_fetch(&g->ept_gen, 1, __ATOMIC_SEQ_CST);
    vmx_invept(INVEPT_SINGLE_CONTEXT, ept_pointer(&g->ept));
    for (unsigned i = 0; i < g->vcpu_count; i++) {
        struct vcpu *v = &g->vcpus[i];
        if (v->home_cpu == cpu_id() || !__atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST))
            continue;
        smp_kick(v->home_cpu);
        waited++;
        while (__atomic_load_n(&v->in_guest, __ATOMIC_ACQUIRE))
            hw_pause();
    }
    /* Rare (an APIC-access page unmapped once per mode change): each one is shown, with what it
       cost (make bench reads it). */
    log_info("ept: guest %s: shootdown took %llu TSC ticks, %u vCPU(s) in guest mode elsewhere "
             "made to exit",
             g->name, (unsigned long long)(hw_rdtsc() - start), waited);
}
