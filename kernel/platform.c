#include "kernel/smp.h"
#include "kernel/platform.h"
#include "kernel/console.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/string.h"

#define CPUID_FEATURES        1
#define CPUID_ECX_HYPERVISOR  (1u << 31)
#define CPUID_HYPERVISOR_LEAF 0x40000000
#define QEMU_EXIT_OK          0
#define QEMU_EXIT_ERROR       1

static enum platform platform = PLATFORM_HARDWARE;

static bool hypervisor_signature_is(const char *sig12)
{
    struct cpuid_regs r;
    char sig[12];
    hw_cpuid(CPUID_HYPERVISOR_LEAF, 0, &r);
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    return !memcmp(sig, sig12, sizeof(sig));
}

void platform_detect(void)
{
    struct cpuid_regs r;
    if (hw_inb(BOCHS_E9_PORT) == BOCHS_E9_PORT) {
        platform = PLATFORM_BOCHS;
        return;
    }
    hw_cpuid(CPUID_FEATURES, 0, &r);
    if ((r.ecx & CPUID_ECX_HYPERVISOR) &&
        (hypervisor_signature_is("TCGTCGTCGTCG") || hypervisor_signature_is("KVMKVMKVM\0\0\0")))
        platform = PLATFORM_QEMU;
}

enum platform platform_get(void)
{
    return platform;
}

const char *platform_name(void)
{
    switch (platform) {
    case PLATFORM_BOCHS:
        return "bochs";
    case PLATFORM_QEMU:
        return "qemu";
    default:
        return "hardware";
    }
}

_Noreturn void platform_end(bool ok)
{
    static const char shutdown[] = "Shutdown";
    console_drain(); /* the emulator stops at once: let the UART send its last bytes */
    /* Then no other CPU runs a guest any more (after the drain: one halted while holding the
       console's lock would hold up the drain for ever). */
    smp_stop_others();
    switch (platform) {
    case PLATFORM_BOCHS:
        for (const char *p = shutdown; *p; p++)
            hw_outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
        break;
    case PLATFORM_QEMU:
        hw_outb(QEMU_DEBUG_EXIT_PORT, ok ? QEMU_EXIT_OK : QEMU_EXIT_ERROR);
        break;
    default:
        break;
    }
    hw_halt_forever();
}
