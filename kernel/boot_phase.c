#include "kernel/boot_phase.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"

extern unsigned long long boot_tsc; /* boot/entry.asm */

void boot_phase(const char *name)
{
    log_info("boot: phase %s done at +%llu TSC", name, hw_rdtsc() - boot_tsc);
}
