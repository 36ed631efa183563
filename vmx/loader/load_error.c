/* Rejection reasons for the loaders (vmx/loader/load_error.h). */
#include "vmx/loader/load_error.h"
#include <stdarg.h>
#include "kernel/lib/fmt.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

int load_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void load_format_ram(uint64_t bytes, char out[LOAD_SIZE_STR_MAX])
{
    if (bytes % GIB == 0)
        fmt_snprintf(out, LOAD_SIZE_STR_MAX, "%llu GiB", (unsigned long long)(bytes / GIB));
    else if (bytes % MIB == 0)
        fmt_snprintf(out, LOAD_SIZE_STR_MAX, "%llu MiB", (unsigned long long)(bytes / MIB));
    else
        fmt_snprintf(out, LOAD_SIZE_STR_MAX, "%llu KiB", (unsigned long long)(bytes / KIB));
}
