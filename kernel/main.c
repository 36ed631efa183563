/* hv's C entry: bring up the console, CPU state and memory, then VMX and the guests. */
#include "drivers/serial.h"
#include "drivers/uart16550.h"
#include "kernel/boot_phase.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/mb2.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/platform.h"
#include "kernel/lib/sort.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/trap.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "drivers/cmos_rtc.h"
#include "drivers/pit.h"
#include "kernel/fpu.h"
#include "kernel/acpi_madt.h"
#include "kernel/lapic.h"
#include "kernel/smp.h"
#include "vmx/vm/placement.h"
#include "vmx/loader/modassign.h"
#include "vmx/vm/sched.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmx.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/vcpu_debug.h"

#define HV_VERSION       "0.1"
#define MBI_MAX_BYTES    (1u << 20) /* the boot information never legitimately exceeds this */
#define SLICE_US_DEFAULT 10000
#define SLICE_US_MIN     100
#define SLICE_US_MAX     1000000

extern char boot_stack_guard[];
static struct mb2_info boot_info;
static struct vm vms[MB2_MAX_MODULES];
static struct vm *live_vms[MB2_MAX_MODULES];
static struct module_input module_in[MB2_MAX_MODULES];
static struct module_assignment module_role[MB2_MAX_MODULES];
static struct loader_module guest_mods[MB2_MAX_MODULES]; /* one guest's, while it is built */

static _Noreturn void hv_fail(const char *reason)
{
    log_contract("hv: end: error: %s", reason);
    platform_end(false);
}

static uint64_t median_u64(uint64_t *v, unsigned n)
{
    sort_u64(v, n);
    return v[n / 2];
}

/* Every key of hv's own command line (README: "hv's command line"). */
static const char *const cmdline_keys[] = {
    "loglevel",      "console",         "slice_us",     "debug.fault",
    "debug.vmentry", "debug.lifecycle", "bench.native",
};

/* hv's own command line: an unknown key is ignored, but never silently. */
static void warn_unknown_keys(const char *cmdline)
{
    const size_t nkeys = sizeof(cmdline_keys) / sizeof(cmdline_keys[0]);
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX];
    const char *err = "";
    int rc;
    cmdline_iter_init(&it, cmdline);
    while ((rc = cmdline_next_unknown(&it, cmdline_keys, nkeys, key, &err)) == 1)
        log_warn("cmdline: unknown key '%s' ignored", key);
    if (rc < 0)
        log_warn("cmdline: malformed command line (%s): every key ignored", err);
}

static void apply_cmdline(const char *cmdline)
{
    char value[CMDLINE_VALUE_MAX];
    enum log_level level;
    if (cmdline_get(cmdline, "loglevel", value, sizeof(value))) {
        if (log_level_parse(value, &level) == 0)
            log_set_level(level);
        else
            log_warn("cmdline: unknown loglevel=%s (use error, warn, info or debug)", value);
    }
    if (cmdline_get(cmdline, "console", value, sizeof(value))) {
        uint16_t port = serial_port_by_name(value);
        if (port)
            console_init(port);
        else
            log_warn("cmdline: unknown console=%s (use com1..com4)", value);
    }
    warn_unknown_keys(cmdline);
}

/* Debug options that break hv on purpose, so tests can check the crash paths. */
#define OVERFLOW_DEPTH_LIMIT 1000000 /* far beyond any hv stack: the guard page is hit first */
static int __attribute__((noinline)) overflow_stack(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (depth > OVERFLOW_DEPTH_LIMIT)
        return pad[0];
    return overflow_stack(depth + 1) + pad[0];
}

static void debug_fault(const char *cmdline)
{
    char what[CMDLINE_VALUE_MAX];
    if (!cmdline_get(cmdline, "debug.fault", what, sizeof(what)))
        return;
    log_warn("debug.fault=%s: crashing hv on purpose", what);
    if (!strcmp(what, "pf"))
        *(volatile uint64_t *)0x00007FFF00000000ull = 1; /* canonical, never mapped */
    else if (!strcmp(what, "ud"))
        __asm__ volatile("ud2");
    else if (!strcmp(what, "stack"))
        overflow_stack(0);
    else if (!strcmp(what, "panic"))
        panic("debug.fault=panic requested");
    log_warn("debug.fault=%s: unknown (use pf, ud, stack or panic)", what);
}

static void debug_vmentry(const char *cmdline)
{
    char how[CMDLINE_VALUE_MAX];
    if (!cmdline_get(cmdline, "debug.vmentry", how, sizeof(how)))
        return;
    if (!strcmp(how, "control"))
        vm_debug_entry = VM_DEBUG_ENTRY_CONTROL;
    else if (!strcmp(how, "guest-state"))
        vm_debug_entry = VM_DEBUG_ENTRY_GUEST_STATE;
    else
        log_warn("debug.vmentry=%s: unknown (use control or guest-state)", how);
}

static void log_memory(void)
{
    struct frame_stats s;
    frame_get_stats(&s);
    log_info("mm: free %llu KiB in %llu frames, largest free block %llu KiB",
             (unsigned long long)(s.buddy.free_frames * FRAME_SIZE >> 10),
             (unsigned long long)s.buddy.free_frames,
             (unsigned long long)(s.largest_free_bytes >> 10));
}

static void enable_vmx(void)
{
    char why[112];
    if (vmx_init(why, sizeof(why)) || vmx_cpu_enable(why, sizeof(why))) {
        log_error("vmx: %s", why);
        hv_fail(why);
    }
    fpu_init();
    pic_mask_all();
}

/* hv's CPUs: the MADT's processors (the RSDP comes with the boot information), each AP started
   and brought into VMX root operation with the BSP's capabilities (kernel/smp.h). */
static const void *map_firmware(uint64_t pa, size_t len, void *ctx)
{
    const struct mb2_info *info = ctx;
    /* The direct map holds every RAM range of the memory map (ACPI and NVS ranges included)
       rounded out to 2 MiB (mm/paging.c): firmware tables in a reserved hole inside such a
       block are mapped too. Anything else is refused, never mapped on demand. */
    const uint64_t block = 2ull << 20;
    if (pa + len < pa)
        return 0;
    for (size_t i = 0; i < info->mmap_count; i++) {
        const struct mb2_mmap_entry *e = &info->mmap[i];
        bool ram = e->type == MB2_MEM_AVAILABLE || e->type == MB2_MEM_ACPI_RECLAIMABLE ||
                   e->type == MB2_MEM_NVS;
        uint64_t start = e->base & ~(block - 1);
        uint64_t end = (e->base + e->length + block - 1) & ~(block - 1);
        if (ram && e->length && pa >= start && pa + len <= end)
            return phys_to_virt(pa);
    }
    return 0;
}

static int bring_up_ap(struct percpu *c, char *why, unsigned why_size)
{
    (void)c;
    fpu_init();
    if (vmx_init_ap(why, why_size) || vmx_cpu_enable(why, why_size))
        return -1;
    return 0;
}

static void find_cpus(struct madt_cpus *cpus)
{
    char err[96];
    memset(cpus, 0, sizeof(*cpus));
    if (!boot_info.rsdp_version) {
        log_warn("smp: no ACPI RSDP in the boot information: only the BSP runs");
    } else if (acpi_madt_find_cpus(boot_info.rsdp, boot_info.rsdp_len, map_firmware, &boot_info,
                                   cpus, err, sizeof(err))) {
        log_warn("smp: %s: only the BSP runs", err);
        memset(cpus, 0, sizeof(*cpus));
    } else {
        log_info("smp: the MADT lists %u processor(s)%s", cpus->count,
                 cpus->beyond_limit ? ", more than hv's MAX_CPUS" : "");
    }
}

static void start_cpus(uint32_t mbi_phys, uint64_t tsc_hz)
{
    char why[112];
    struct madt_cpus cpus;
    find_cpus(&cpus);
    if (lapic_init_bsp(cpus.lapic_base, why, sizeof(why)))
        hv_fail(why);
    lapic_enable_this_cpu();
    this_cpu()->apic_id = lapic_this_id();
    unsigned n = smp_start_aps(&boot_info, mbi_phys, cpus.apic_id, cpus.count, tsc_hz, bring_up_ap);
    log_contract("hv: %u CPUs in VMX root operation", n);
}

static uint64_t slice_from_cmdline(const char *cmdline)
{
    char value[CMDLINE_VALUE_MAX];
    uint64_t us = SLICE_US_DEFAULT;
    if (cmdline_get(cmdline, "slice_us", value, sizeof(value)) &&
        (cmdline_parse_u64(value, false, &us) || us < SLICE_US_MIN || us > SLICE_US_MAX)) {
        log_warn("cmdline: slice_us=%s out of range [%u, %u], using %u", value, SLICE_US_MIN,
                 SLICE_US_MAX, SLICE_US_DEFAULT);
        us = SLICE_US_DEFAULT;
    }
    return us;
}

/* Builds the VM for module i in slot `slot`; a refused guest gets its verdict line at once. */
/* A cpus= mask as the key's own syntax, e.g. "0-2,5". */
static void format_cpu_list(uint32_t mask, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < 32 && n < size; i++) {
        if (!((mask >> i) & 1))
            continue;
        unsigned last = i;
        while (last + 1 < 32 && ((mask >> (last + 1)) & 1))
            last++;
        n += (size_t)fmt_snprintf(buf + n, size - n, last > i ? "%s%u-%u" : "%s%u", n ? "," : "", i,
                                  last);
        i = last;
    }
}

/* Each vCPU's home CPU (vmx/vm/placement.h): least loaded among cpus= (or all), for good. */
static int place_vcpus(struct vm *vm, struct placement *pl, char *why, size_t size)
{
    int missing = placement_first_missing(pl, vm->cfg.cpus);
    if (missing >= 0) {
        char list[48];
        format_cpu_list(vm->cfg.cpus, list, sizeof(list));
        fmt_snprintf(why, size, "cpus=%s: CPU %d is not in VMX root operation (%u CPUs)", list,
                     missing, pl->cpu_count);
        return -1;
    }
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        if (placement_place(pl, vm->cfg.cpus, &vm->vcpus[i].home_cpu) ||
            sched_enqueue(&vm->vcpus[i])) {
            fmt_snprintf(why, size, "no run queue takes vCPU %u", i);
            return -1;
        }
        log_info("hv: guest %s: vCPU %u on CPU %u", vm->cfg.name, i, vm->vcpus[i].home_cpu);
    }
    return 0;
}

static struct vm *create_guest(size_t i, unsigned slot, const struct sched_config *sc,
                               struct placement *pl)
{
    const struct mb2_module *m = &boot_info.modules[i];
    struct vm *vm = &vms[slot];
    char why[GUEST_VERDICT_MAX - 16];
    size_t nmods = modassign_modules_of(module_role, module_in, boot_info.module_count, (unsigned)i,
                                        guest_mods, MB2_MAX_MODULES);
    if (vm_create(vm, slot, phys_to_virt(m->start), m->end - m->start, m->cmdline, guest_mods,
                  nmods, sc->tsc_hz / 1000, why, sizeof(why))) {
        log_contract("hv: guest %s ended: rejected(%s) exits=0", vm->cfg.name, why);
        return 0;
    }
    log_info("hv: guest %s: %llu MiB RAM, %u vCPU(s), VPID %u", vm->cfg.name,
             (unsigned long long)(vm->cfg.mem >> 20), vm->vcpu_count, vm->vcpus[0].vpid);
    if (place_vcpus(vm, pl, why, sizeof(why))) {
        vm_destroy(vm);
        log_contract("hv: guest %s ended: rejected(%s) exits=0", vm->cfg.name, why);
        return 0;
    }
    return vm;
}

/* Sorts the modules into guests and data modules (initrd-for=NAME); one line per data module,
   and a rejected verdict for each that belongs to no guest. */
static void assign_modules(void)
{
    for (size_t i = 0; i < boot_info.module_count; i++) {
        const struct mb2_module *m = &boot_info.modules[i];
        module_in[i] = (struct module_input){phys_to_virt(m->start), m->end - m->start, m->cmdline};
    }
    modassign(module_in, boot_info.module_count, module_role);
    for (size_t i = 0; i < boot_info.module_count; i++) {
        const struct module_assignment *a = &module_role[i];
        if (a->role == MODULE_DATA)
            log_info("hv: module %zu (\"%s\") is the initrd of guest %s", i, module_in[i].cmdline,
                     a->name);
        if (a->role != MODULE_REJECTED)
            continue;
        log_warn("hv: module %zu (\"%s\") is no guest's initrd: %s", i, module_in[i].cmdline,
                 a->why);
        log_contract("hv: guest %s ended: rejected(%s) exits=0", a->name, a->why);
    }
}

/* After the guests: the free frame count must be exactly what it was before them. */
static void check_frames_back(uint64_t before, const char *when)
{
    uint64_t after = frame_free_count();
    if (after != before) {
        log_error("mm: %s: free frames %llu, expected %llu", when, (unsigned long long)after,
                  (unsigned long long)before);
        hv_fail("frames lost across guest teardown");
    }
    log_info("mm: %s: free frames back to %llu", when, (unsigned long long)after);
    if (mm_check())
        panic("mm: allocator invariants broken after guest teardown");
}

/* debug.lifecycle=N: module 0 is built, run and torn down N times in sequence, and the free
   frame count must come back to its starting value (issue: no frame lost across lifecycles). */
static bool run_lifecycle(const struct sched_config *sc)
{
    char value[CMDLINE_VALUE_MAX];
    uint64_t rounds;
    if (!cmdline_get(boot_info.cmdline, "debug.lifecycle", value, sizeof(value)))
        return false;
    if (cmdline_parse_u64(value, false, &rounds) || !rounds || !boot_info.module_count) {
        log_warn("debug.lifecycle=%s needs a count > 0 and a module", value);
        return false;
    }
    if (module_role[0].role != MODULE_GUEST) {
        log_warn("debug.lifecycle=%s: module 0 is not a guest", value);
        return false;
    }
    uint64_t before = frame_free_count();
    log_contract("hv: ready");
    for (uint64_t r = 0; r < rounds; r++) {
        struct placement pl;
        placement_init(&pl, smp_cpu_count());
        struct vm *vm = create_guest(0, 0, sc, &pl);
        if (vm)
            sched_run(&vm, 1, sc);
    }
    log_info("hv: lifecycle: %llu guests in sequence, free frames before %llu, after %llu",
             (unsigned long long)rounds, (unsigned long long)before,
             (unsigned long long)frame_free_count());
    check_frames_back(before, "lifecycle done");
    return true;
}

/* bench.native: the bench guest's CPUID loop run natively in hv, for the raw instruction cost
   (make bench compares it with the round trip through a VM exit). */
#define BENCH_ITERATIONS 1001
static void bench_native_cpuid(void)
{
    static uint64_t cpuid_ticks[BENCH_ITERATIONS], nop_ticks[BENCH_ITERATIONS];
    struct cpuid_regs r;
    for (unsigned i = 0; i < BENCH_ITERATIONS; i++) {
        uint64_t t0 = hw_rdtsc();
        hw_cpuid(0, 0, &r);
        uint64_t t1 = hw_rdtsc();
        __asm__ volatile("nop");
        uint64_t t2 = hw_rdtsc();
        cpuid_ticks[i] = t1 - t0;
        nop_ticks[i] = t2 - t1;
    }
    log_info("bench: native cpuid median %llu ticks, nop loop median %llu ticks",
             (unsigned long long)median_u64(cpuid_ticks, BENCH_ITERATIONS),
             (unsigned long long)median_u64(nop_ticks, BENCH_ITERATIONS));
}

/* bench.native: the guest state a guest switch moves besides the VMCS (issue 16): the SYSCALL,
   SWAPGS and RDTSCP MSRs (loaded on the switch to a vCPU, KERNEL_GS_BASE saved on the switch
   away) and DR0-DR3/DR6, timed natively on a vCPU in its reset state (hv uses none of these
   registers itself, and the scheduler loads the real guest's values before every slice). */
static void bench_native_switch(void)
{
    static uint64_t msr_ticks[BENCH_ITERATIONS], dr_ticks[BENCH_ITERATIONS],
        nop_ticks[BENCH_ITERATIONS];
    static struct vcpu v;
    vcpu_debug_reset(&v);
    for (unsigned i = 0; i < BENCH_ITERATIONS; i++) {
        uint64_t t0 = hw_rdtsc();
        exit_msr_load_guest_msrs(&v);
        exit_msr_save_guest_msrs(&v);
        uint64_t t1 = hw_rdtsc();
        vcpu_debug_load(&v);
        vcpu_debug_save(&v);
        uint64_t t2 = hw_rdtsc();
        __asm__ volatile("nop");
        uint64_t t3 = hw_rdtsc();
        msr_ticks[i] = t1 - t0;
        dr_ticks[i] = t2 - t1;
        nop_ticks[i] = t3 - t2;
    }
    log_info("bench: native guest switch: MSRs load+save median %llu ticks, debug registers "
             "load+save median %llu ticks, nop loop median %llu ticks",
             (unsigned long long)median_u64(msr_ticks, BENCH_ITERATIONS),
             (unsigned long long)median_u64(dr_ticks, BENCH_ITERATIONS),
             (unsigned long long)median_u64(nop_ticks, BENCH_ITERATIONS));
}

/* Every module that is no data module is a guest: build them all, then run them side by side. */
/* The guests' RTCs start at the machine's date and time (virtual-PC guests, drivers/vdev/vrtc.c).
 */
static void read_machine_clock(void)
{
    struct rtc_time t;
    if (cmos_rtc_read(&t)) {
        log_warn("rtc: the machine's CMOS clock gives no valid date; guests start at %u-01-01",
                 vm_rtc_boot_time.year);
        return;
    }
    vm_rtc_boot_time = (struct vrtc_time){t.year, t.month, t.day, t.hour, t.minute, t.second};
    log_info("rtc: %04u-%02u-%02u %02u:%02u:%02u", t.year, t.month, t.day, t.hour, t.minute,
             t.second);
}

static void run_guests(uint64_t tsc_hz, uint64_t slice_us)
{
    struct sched_config sc = {tsc_hz, slice_us};
    read_machine_clock();
    unsigned live = 0;
    log_info("hv: TSC %llu kHz, slice %llu us, %zu guest module(s)",
             (unsigned long long)(sc.tsc_hz / 1000), (unsigned long long)slice_us,
             boot_info.module_count);
    assign_modules();
    if (run_lifecycle(&sc))
        return;
    uint64_t before = frame_free_count();
    struct placement pl;
    placement_init(&pl, smp_cpu_count());
    for (size_t i = 0; i < boot_info.module_count; i++) {
        if (module_role[i].role != MODULE_GUEST)
            continue;
        struct vm *vm = create_guest(i, (unsigned)i, &sc, &pl);
        if (vm)
            live_vms[live++] = vm;
    }
    boot_phase("guest load");
    log_contract("hv: ready");
    sched_run(live_vms, live, &sc);
    check_frames_back(before, "all guests ended");
}

void kmain(uint32_t mbi_phys, uint32_t magic)
{
    platform_detect();
    console_init(UART_COM1_BASE);
    log_info("hv: booting hv %s on %s", HV_VERSION, platform_name());
    boot_phase("console");
    stack_guard_register((uintptr_t)boot_stack_guard, "boot stack");
    percpu_init_bsp();
    trap_init();

    if (magic != MB2_BOOTLOADER_MAGIC)
        hv_fail("not started by a multiboot2 boot loader");
    if (mb2_parse(phys_to_virt(mbi_phys), MBI_MAX_BYTES, &boot_info)) {
        log_error("%s", boot_info.error);
        hv_fail(boot_info.cause);
    }
    apply_cmdline(boot_info.cmdline);
    mb2_log_summary(&boot_info);

    percpu_register_guards(); /* before paging_init: the guard pages stay unmapped */
    if (frame_init(&boot_info, mbi_phys))
        hv_fail("no usable memory");
    if (paging_init(&boot_info))
        hv_fail("out of memory building page tables");
    log_memory();
    if (mm_check())
        panic("mm: allocator invariants broken after boot");
    boot_phase("memory map, buddy allocator, page tables");
    debug_fault(boot_info.cmdline); /* after paging_init: the guard pages are unmapped now */
    debug_vmentry(boot_info.cmdline);

    enable_vmx();
    boot_phase("VMX");
    uint64_t tsc_hz = pit_calibrate_tsc_hz();
    start_cpus(mbi_phys, tsc_hz);
    boot_phase("CPUs");
    if (cmdline_get(boot_info.cmdline, "bench.native", 0, 0)) {
        bench_native_cpuid();
        bench_native_switch();
    }
    run_guests(tsc_hz, slice_from_cmdline(boot_info.cmdline));
    smp_release_aps(vmx_cpu_disable);
    smp_wait_aps_done();
    vmx_cpu_disable();
    log_contract("hv: end: ok");
    platform_end(true);
}
