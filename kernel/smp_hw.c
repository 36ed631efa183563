#include "kernel/smp.h"
#include "kernel/lapic.h"
#include "kernel/lib/apic.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/trap.h"
#include "mm/layout.h"

/* The trampoline copy (boot/ap_trampoline.asm): a page of the first MiB, which hv never hands out
   (mm/frame.c), that the firmware map calls usable and no boot module or the boot information
   occupies. SIPI vector = page number. */
#define AP_TRAMPOLINE_PA   0x8000u
#define AP_TRAMPOLINE_SIZE 0x1000u
/* SDM vol. 3 §9.4.4.1 "Typical BSP Initialization Sequence": INIT, 10 ms, SIPI, 200 us, SIPI.
   An AP that has not answered 100 ms after its second SIPI is left out. */
#define INIT_DELAY_US 10000u
#define SIPI_DELAY_US 200u
#define AP_ANSWER_US  100000u
#define US_PER_S      1000000u

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_mailbox[];
extern char boot_pml4[];
extern void ap_entry64(void);

struct ap_mailbox { /* boot/ap_trampoline.asm's mailbox, in its copy */
    uint64_t boot_cr3, cr3, stack, entry, arg;
};

/* Where a label of boot/ap_trampoline.asm lands in the copy (the labels are one object to the
   assembler, three to C). */
static uint64_t trampoline_offset(const char *label)
{
    return (uintptr_t)label - (uintptr_t)ap_trampoline_start;
}

enum ap_state { AP_STARTING, AP_ONLINE, AP_FAILED };

/* Written by the BSP while it starts APs one at a time; each AP writes its own state only. */
static struct {
    unsigned online;
    uint64_t tsc_hz;
    bool tsc_deadline; /* the local APICs have TSC-deadline mode: idle CPUs halt */
    smp_ap_bringup_fn bringup;
    smp_work_fn work;            /* written before work_gen is bumped */
    unsigned work_gen;           /* bumped for each smp_release_aps (atomic) */
    unsigned done_gen[MAX_CPUS]; /* the last generation each AP finished (atomic) */
    volatile enum ap_state state[MAX_CPUS];
    char why[MAX_CPUS][96];
} smp = {.online = 1};

unsigned smp_cpu_count(void)
{
    return smp.online;
}

static void delay_us(uint64_t us)
{
    uint64_t start = hw_rdtsc(), ticks = smp.tsc_hz / US_PER_S * us;
    while (hw_rdtsc() - start < ticks)
        hw_pause();
}

static bool range_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* The trampoline page must be RAM the firmware left usable and hold nothing GRUB gave us. */
static const char *trampoline_page_unusable(const struct mb2_info *info, uint64_t mbi)
{
    bool usable = false;
    for (size_t i = 0; i < info->mmap_count; i++) {
        const struct mb2_mmap_entry *e = &info->mmap[i];
        if (e->type == MB2_MEM_AVAILABLE && e->base <= AP_TRAMPOLINE_PA &&
            e->base + e->length >= AP_TRAMPOLINE_PA + AP_TRAMPOLINE_SIZE)
            usable = true;
    }
    if (!usable)
        return "the firmware's memory map does not list it as usable RAM";
    if (range_overlaps(mbi, info->total_size, AP_TRAMPOLINE_PA, AP_TRAMPOLINE_SIZE))
        return "the boot information occupies it";
    for (size_t i = 0; i < info->module_count; i++)
        if (range_overlaps(info->modules[i].start, info->modules[i].end - info->modules[i].start,
                           AP_TRAMPOLINE_PA, AP_TRAMPOLINE_SIZE))
            return "a boot module occupies it";
    return 0;
}

/* The AP's C entry (from ap_entry64, on its boot stack and hv's page tables). */
void ap_main(struct percpu *c) __attribute__((noreturn));
void ap_main(struct percpu *c)
{
    percpu_init_ap(c);
    trap_load();
    lapic_enable_this_cpu();
    if (smp.bringup(c, smp.why[c->id], sizeof(smp.why[c->id]))) {
        __atomic_store_n(&smp.state[c->id], AP_FAILED, __ATOMIC_RELEASE);
        hw_halt_forever();
    }
    __atomic_store_n(&smp.state[c->id], AP_ONLINE, __ATOMIC_RELEASE);
    for (unsigned seen = 0;; seen++) {
        while (__atomic_load_n(&smp.work_gen, __ATOMIC_ACQUIRE) == seen)
            hw_pause();
        smp.work();
        __atomic_store_n(&smp.done_gen[c->id], seen + 1, __ATOMIC_RELEASE);
    }
}

static bool wait_state(unsigned id, uint64_t us)
{
    uint64_t start = hw_rdtsc(), ticks = smp.tsc_hz / US_PER_S * us;
    while (hw_rdtsc() - start < ticks) {
        if (__atomic_load_n(&smp.state[id], __ATOMIC_ACQUIRE) != AP_STARTING)
            return true;
        hw_pause();
    }
    return false;
}

/* INIT, then up to two SIPIs (the second only if the first did not start it). */
static int start_one(unsigned id, uint32_t apic_id)
{
    struct percpu *c = percpu_prepare(id, apic_id);
    volatile struct ap_mailbox *mb = phys_to_virt(AP_TRAMPOLINE_PA + trampoline_offset(ap_mailbox));
    *mb = (struct ap_mailbox){(uintptr_t)boot_pml4, hw_read_cr3(), (uintptr_t)c->boot_stack_top,
                              (uintptr_t)ap_entry64, (uintptr_t)c};
    smp.state[id] = AP_STARTING;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (lapic_send(apic_id, LAPIC_ICR_DM_INIT | LAPIC_ICR_ASSERT))
        return -1;
    delay_us(INIT_DELAY_US);
    for (int sipi = 0; sipi < 2; sipi++) {
        if (lapic_send(apic_id, LAPIC_ICR_DM_STARTUP | LAPIC_SIPI_VECTOR(AP_TRAMPOLINE_PA)))
            return -1;
        if (wait_state(id, sipi ? AP_ANSWER_US : SIPI_DELAY_US))
            break;
    }
    return 0;
}

static void start_ap(uint32_t apic_id)
{
    unsigned id = smp.online;
    if (start_one(id, apic_id)) {
        log_warn("smp: CPU with APIC ID %u left out: the INIT/SIPI was not delivered", apic_id);
        return;
    }
    enum ap_state st = __atomic_load_n(&smp.state[id], __ATOMIC_ACQUIRE);
    if (st == AP_STARTING) {
        log_warn("smp: CPU with APIC ID %u left out: no answer to INIT-SIPI-SIPI", apic_id);
        /* It may still wake later: it must not take this id's stacks. INIT parks it. */
        lapic_send(apic_id, LAPIC_ICR_DM_INIT | LAPIC_ICR_ASSERT);
        return;
    }
    if (st == AP_FAILED) {
        log_warn("smp: CPU with APIC ID %u left out: %s", apic_id, smp.why[id]);
        return;
    }
    smp.online++;
    log_info("smp: CPU %u (APIC ID %u) up", id, apic_id);
}

unsigned smp_start_aps(const struct mb2_info *info, uint64_t mbi_phys, const uint32_t *apic_ids,
                       unsigned count, uint64_t tsc_hz, smp_ap_bringup_fn bringup)
{
    smp.tsc_hz = tsc_hz;
    smp.bringup = bringup;
    smp.tsc_deadline = lapic_tsc_deadline();
    uint32_t bsp = this_cpu()->apic_id;
    if (count <= 1)
        return smp.online;
    const char *why = trampoline_page_unusable(info, mbi_phys);
    if (why) {
        log_warn("smp: only the BSP runs: the AP trampoline page 0x%x is unusable (%s)",
                 AP_TRAMPOLINE_PA, why);
        return smp.online;
    }
    memcpy(phys_to_virt(AP_TRAMPOLINE_PA), ap_trampoline_start,
           trampoline_offset(ap_trampoline_end));
    for (unsigned i = 0; i < count && smp.online < MAX_CPUS; i++)
        if (apic_ids[i] != bsp)
            start_ap(apic_ids[i]);
    return smp.online;
}

void smp_release_aps(smp_work_fn work)
{
    smp.work = work;
    __atomic_add_fetch(&smp.work_gen, 1, __ATOMIC_RELEASE);
}

void smp_wait_aps_done(void)
{
    unsigned gen = __atomic_load_n(&smp.work_gen, __ATOMIC_ACQUIRE);
    for (unsigned id = 1; id < smp.online; id++)
        while (__atomic_load_n(&smp.done_gen[id], __ATOMIC_ACQUIRE) != gen)
            hw_pause();
}

void smp_kick(unsigned cpu)
{
    lapic_send(percpu_of(cpu)->apic_id, LAPIC_ICR_DM_FIXED | LAPIC_ICR_ASSERT | SMP_KICK_VECTOR);
}

void smp_idle_until(uint64_t deadline)
{
    if (!smp.tsc_deadline)
        return;
    lapic_timer_deadline(SMP_TIMER_VECTOR, deadline);
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    lapic_timer_deadline(SMP_TIMER_VECTOR, 0);
}

static bool stopping;

bool smp_stopping(void)
{
    return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

void smp_stop_others(void)
{
    if (__atomic_exchange_n(&stopping, true, __ATOMIC_ACQ_REL))
        return;
    unsigned self = cpu_id();
    for (unsigned id = 0; id < smp.online; id++)
        if (id != self)
            lapic_send(percpu_of(id)->apic_id, LAPIC_ICR_DM_NMI | LAPIC_ICR_ASSERT);
}
