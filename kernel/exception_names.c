#include "kernel/trap.h"
#include "kernel/lib/x86.h"

const char *exception_name(unsigned vector)
{
    static const char *const names[EXC_COUNT] = {
        [EXC_DE] = "#DE (divide error)",
        [EXC_DB] = "#DB (debug)",
        [EXC_NMI] = "NMI",
        [EXC_BP] = "#BP (breakpoint)",
        [EXC_OF] = "#OF (overflow)",
        [EXC_BR] = "#BR (bound range)",
        [EXC_UD] = "#UD (invalid opcode)",
        [EXC_NM] = "#NM (device not available)",
        [EXC_DF] = "#DF (double fault)",
        [EXC_CSO] = "coprocessor segment overrun",
        [EXC_TS] = "#TS (invalid TSS)",
        [EXC_NP] = "#NP (segment not present)",
        [EXC_SS] = "#SS (stack fault)",
        [EXC_GP] = "#GP (general protection)",
        [EXC_PF] = "#PF (page fault)",
        [EXC_MF] = "#MF (x87 error)",
        [EXC_AC] = "#AC (alignment check)",
        [EXC_MC] = "#MC (machine check)",
        [EXC_XM] = "#XM (SIMD error)",
        [EXC_VE] = "#VE (virtualization exception)",
        [EXC_CP] = "#CP (control protection)",
    };
    if (vector < EXC_COUNT && names[vector])
        return names[vector];
    return "reserved exception";
}
