/* hv's C entry: bring up the console, CPU state and memory, then VMX and the guests. */
#include "drivers/serial.h"
#include "drivers/uart16550.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/hw.h"
#include "kernel/log.h"
#include "kernel/mb2.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/platform.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "vmx/vmx.h"

#define HV_VERSION     "0.1"
#define MBI_MAX_BYTES  (1u << 20) /* the boot information never legitimately exceeds this */

extern char boot_stack_guard[];
static struct mb2_info boot_info;

static _Noreturn void hv_fail(const char *reason)
{
    log_contract("hv: end: error: %s", reason);
    platform_end(false);
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

static void log_memory(void)
{
    struct frame_stats s;
    frame_get_stats(&s);
    log_info("mm: free %llu KiB in %llu frames, largest free block %llu KiB",
             (unsigned long long)(s.buddy.free_frames * FRAME_SIZE >> 10),
             (unsigned long long)s.buddy.free_frames,
             (unsigned long long)(s.largest_free_bytes >> 10));
}

void kmain(uint32_t mbi_phys, uint32_t magic)
{
    platform_detect();
    console_init(UART_COM1_BASE);
    log_info("hv: booting hv %s on %s", HV_VERSION, platform_name());
    stack_guard_register((uintptr_t)boot_stack_guard, "boot stack");
    percpu_init_bsp();
    trap_init();

    if (magic != MB2_BOOTLOADER_MAGIC)
        hv_fail("not started by a multiboot2 boot loader");
    if (mb2_parse(phys_to_virt(mbi_phys), MBI_MAX_BYTES, &boot_info)) {
        log_error("%s", boot_info.error);
        hv_fail("malformed multiboot2 boot information");
    }
    apply_cmdline(boot_info.cmdline);
    mb2_log_summary(&boot_info);
    debug_fault(boot_info.cmdline);

    if (frame_init(&boot_info, mbi_phys))
        hv_fail("no usable memory");
    if (paging_init(&boot_info))
        hv_fail("out of memory building page tables");
    log_memory();
    if (mm_check())
        panic("mm: allocator invariants broken after boot");

    char why[96];
    if (vmx_check_support(why, sizeof(why))) {
        log_error("vmx: %s", why);
        hv_fail(why);
    }
    log_contract("hv: ready");
    log_contract("hv: end: ok");
    platform_end(true);
}
