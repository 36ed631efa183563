/* A guest's verdict and its end-of-guest report (the public log contract). */
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"

void vm_report(const struct vm *vm)
{
    uint64_t exits = 0;
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        exits += vm->vcpus[i].exits;
    log_contract("hv: guest %s ended: %s exits=%llu", vm->cfg.name, vm->g.verdict,
                 (unsigned long long)exits);
    for (unsigned r = 0; r < VMX_EXIT_COUNT; r++) {
        uint64_t n = 0;
        for (unsigned i = 0; i < vm->vcpu_count; i++)
            n += vm->vcpus[i].exit_counts[r];
        if (n)
            log_info("  %s: exits %-28s %llu", vm->cfg.name, exit_reason_name(r),
                     (unsigned long long)n);
    }
    if (vm->g.console.dropped)
        log_info("  %s: console bytes dropped (ring full): %llu", vm->cfg.name,
                 (unsigned long long)vm->g.console.dropped);
    /* Messages of the virtual PC that reached no vCPU (an IPI to an APIC ID nobody has, SMI and
       ExtINT IPIs; IOAPIC SMI/INIT/ExtINT messages): harmless, but not silent. */
    if (vm->platform == VM_PLATFORM_PC && (vm->dev.pc.ipis_dropped || vm->dev.pc.messages_dropped))
        log_info("  %s: interrupt messages dropped: %llu IPIs, %llu IOAPIC messages", vm->cfg.name,
                 (unsigned long long)vm->dev.pc.ipis_dropped,
                 (unsigned long long)vm->dev.pc.messages_dropped);
}
