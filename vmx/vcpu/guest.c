/* A guest's verdict (vmx/vcpu/guest.h). */
#include "vmx/vcpu/guest.h"
#include "kernel/lib/fmt.h"

void guest_end(struct guest *g, const char *fmt, ...)
{
    va_list ap;
    if (g->ended)
        return; /* the first verdict stands */
    va_start(ap, fmt);
    fmt_vsnprintf(g->verdict, sizeof(g->verdict), fmt, ap);
    va_end(ap);
    g->ended = true;
}
