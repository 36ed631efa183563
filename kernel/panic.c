#include "kernel/panic.h"
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "kernel/platform.h"
#include "kernel/trap.h"

void log_break_lock(void);

_Noreturn void panic(const char *fmt, ...)
{
    static volatile int panicking;
    char msg[200];
    va_list ap;
    if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
        platform_end(false); /* a panic while panicking: just stop */
    log_break_lock();
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_error("PANIC: %s", msg);
    backtrace_from((uint64_t)__builtin_frame_address(0));
    log_contract("hv: end: error: panic: %s", msg);
    platform_end(false);
}
