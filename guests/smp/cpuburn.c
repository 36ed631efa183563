/* cpuburn: a CPU-bound guest of fixed work for the SMP cases (tests/e2e/cases_smp.py).

   It runs LOOPS iterations of a DEC/JNZ loop (two instructions each, no VM exit: interrupts
   stay off and nothing touches a device), reading the TSC before and after, and prints
     cpuburn: loops=L ticks=T
   then exits 0. hv does not offset guests' TSCs, so T is the wall time the work took in host
   TSC ticks, including every slice in which another guest (or hv) had the CPU: alone on a CPU
   T is about 2 * L plus hv's preemption-timer exits; two of them sharing one CPU each take
   about twice that; on two CPUs each about the same as alone. Under Bochs the TSC counts
   emulated instructions, so L = 25M is one emulated second at its 50 MHz.

   The module's cmdline may hold `loops=N` (decimal, 1..10^10) to change the amount of work. */
#include "guests/lib/guest.h"

#define DEFAULT_LOOPS 25000000ull
#define MAX_LOOPS     10000000000ull

/* The value of a `loops=` word in the command line, or DEFAULT_LOOPS (also for a bad value). */
static uint64_t parse_loops(const char *s)
{
    static const char key[] = "loops=";
    for (; s && *s; s++) {
        unsigned k = 0;
        while (key[k] && s[k] == key[k])
            k++;
        if (key[k])
            continue;
        uint64_t v = 0;
        const char *p = s + k;
        for (; *p >= '0' && *p <= '9' && v <= MAX_LOOPS; p++)
            v = v * 10 + (uint64_t)(*p - '0');
        return v >= 1 && v <= MAX_LOOPS ? v : DEFAULT_LOOPS;
    }
    return DEFAULT_LOOPS;
}

int guest_main(const struct mb1_info_min *info)
{
    const char *cmdline = info->flags & (1u << 2) ? (const char *)(uintptr_t)info->cmdline : NULL;
    uint64_t loops = parse_loops(cmdline);
    uint64_t n = loops;
    uint64_t start = hw_rdtsc();
    /* The work: exactly 2 * loops instructions, in registers only. */
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
    uint64_t ticks = hw_rdtsc() - start;
    g_printf("cpuburn: loops=%llu ticks=%llu\n", (unsigned long long)loops,
             (unsigned long long)ticks);
    return 0;
}
