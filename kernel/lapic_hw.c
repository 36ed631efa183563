#include "kernel/lapic.h"
#include "kernel/lib/apic.h"
#include "kernel/lib/cpuid_leaves.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/msr.h"
#include "mm/layout.h"
#include "mm/paging.h"

/* The ICR's delivery status clears within a few bus cycles; a million polls is far beyond. */
#define LAPIC_SEND_POLLS 1000000u

/* Set once by the BSP before any AP starts; read-only afterwards. */
static volatile uint32_t *xapic_page;
static bool x2apic_mode;

static uint32_t lapic_read(unsigned reg)
{
    if (x2apic_mode)
        return (uint32_t)hw_rdmsr(LAPIC_X2APIC_MSR(reg));
    return xapic_page[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
    if (x2apic_mode)
        hw_wrmsr(LAPIC_X2APIC_MSR(reg), v);
    else
        xapic_page[reg / 4] = v;
}

int lapic_init_bsp(uint64_t base, char *why, unsigned why_size)
{
    uint64_t msr = hw_rdmsr(MSR_IA32_APIC_BASE);
    if (!(msr & APIC_BASE_ENABLE)) {
        fmt_snprintf(why, why_size, "the local APIC is disabled (IA32_APIC_BASE.EN = 0)");
        return -1;
    }
    x2apic_mode = msr & APIC_BASE_EXTD;
    if (x2apic_mode)
        return 0;
    if (!base)
        base = msr & APIC_BASE_ADDR_MASK;
    if (paging_map_mmio(base, LAPIC_MMIO_SIZE)) {
        fmt_snprintf(why, why_size, "cannot map the local APIC at 0x%llx",
                     (unsigned long long)base);
        return -1;
    }
    xapic_page = phys_to_virt(base);
    return 0;
}

void lapic_enable_this_cpu(void)
{
    uint64_t msr = hw_rdmsr(MSR_IA32_APIC_BASE);
    /* x2APIC is entered from xAPIC mode (SDM "x2APIC State Transitions"): EN first, then EXTD. */
    if (!(msr & APIC_BASE_ENABLE))
        hw_wrmsr(MSR_IA32_APIC_BASE, msr |= APIC_BASE_ENABLE);
    if (x2apic_mode && !(msr & APIC_BASE_EXTD))
        hw_wrmsr(MSR_IA32_APIC_BASE, msr | APIC_BASE_EXTD);
    /* After INIT the APIC is software-disabled (SVR bit 8 clear) and takes no fixed IPI. */
    lapic_write(LAPIC_REG_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

uint32_t lapic_this_id(void)
{
    uint32_t id = lapic_read(LAPIC_REG_ID);
    return x2apic_mode ? id : id >> LAPIC_XAPIC_ID_SHIFT;
}

bool lapic_x2apic(void)
{
    return x2apic_mode;
}

int lapic_send(uint32_t apic_id, uint32_t icr_lo)
{
    if (x2apic_mode) {
        /* One 64-bit MSR write: destination in bits 63:32; no delivery status in x2APIC. */
        hw_wrmsr(LAPIC_X2APIC_MSR(LAPIC_REG_ICR_LO), (uint64_t)apic_id << 32 | icr_lo);
        return 0;
    }
    lapic_write(LAPIC_REG_ICR_HI, apic_id << LAPIC_ICR_XAPIC_DEST_SHIFT);
    lapic_write(LAPIC_REG_ICR_LO, icr_lo); /* this write sends it */
    for (unsigned i = 0; i < LAPIC_SEND_POLLS; i++) {
        if (!(lapic_read(LAPIC_REG_ICR_LO) & LAPIC_ICR_PENDING))
            return 0;
        hw_pause();
    }
    return -1;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_REG_EOI, 0);
}

bool lapic_tsc_deadline(void)
{
    struct cpuid_regs r;
    hw_cpuid(CPUID_LEAF_FEATURES, 0, &r);
    return r.ecx & CPUID_1_ECX_TSC_DEADLINE;
}

void lapic_timer_deadline(unsigned vector, uint64_t deadline)
{
    /* Mode first: a deadline written while the LVT is in another mode is ignored (SDM). */
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_TSC_DEADLINE | vector);
    hw_wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
}
