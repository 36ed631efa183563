/* A guest's verdict and its end-of-guest report (the public log contract). */
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"

void vm_report(const struct vm *vm)
{
    log_contract("hv: guest %s ended: %s exits=%llu", vm->cfg.name, vm->g.verdict,
                 (unsigned long long)vm->vcpu.exits);
    for (unsigned r = 0; r < VMX_EXIT_COUNT; r++)
        if (vm->vcpu.exit_counts[r])
            log_info("  %s: exits %-28s %llu", vm->cfg.name, exit_reason_name(r),
                     (unsigned long long)vm->vcpu.exit_counts[r]);
}
