/* spin: a CPU-bound guest for the scheduling figure of make bench (tools/bench).

   It spins reading the TSC (not offset by hv: all guests see the host's TSC, which under
   Bochs counts instructions). A step between two reads longer than GAP_TICKS means the
   guest was not running: hv handled a preemption-timer exit, ran the other guest, and came
   back. Steps below it are the guest's own time. Both guests stop accounting at the same
   absolute TSC, DEADLINE = round_up(start + SPIN_TICKS, DEADLINE_ALIGN), so that the one
   that finishes first prints (costly VM exits) outside the other's window. Then it prints
     spin: start=S deadline=D run=R gaps=G gap_ticks=T
   and exits; tools/bench takes hv's share as 1 - (R1 + R2) / (D - min(S1, S2)). */
#include "guests/lib/guest.h"

#define GAP_TICKS  1000ull     /* a loop step is ~10 ticks; an exit is far more */
#define SPIN_TICKS 50000000ull /* 1 s at Bochs' 50 MHz */
/* Both guests start within a slice (at most a few 10^5 ticks) of each other; they share the
   deadline unless their starts straddle a multiple of this. At 2^22 the boot's length decided
   that (hv's boot growing by 2M instructions split them, and the second guest then ran alone
   while the first one's teardown log was printed); at 2^25 the chance is under 0.2 %, and
   start + SPIN_TICKS + 2^25 stays inside the bench's timeout=2 (100M ticks). */
#define DEADLINE_ALIGN (1ull << 25)

int guest_main(const struct mb1_info_min *info)
{
    (void)info;
    uint64_t start = hw_rdtsc();
    uint64_t deadline = (start + SPIN_TICKS + DEADLINE_ALIGN - 1) & ~(DEADLINE_ALIGN - 1);
    uint64_t prev = start, run = 0, gaps = 0, gap_ticks = 0;
    while (prev < deadline) {
        uint64_t now = hw_rdtsc(), step = now - prev;
        if (step > GAP_TICKS) {
            gaps++;
            gap_ticks += step;
        } else {
            run += step;
        }
        prev = now;
    }
    g_printf("spin: start=%llu deadline=%llu run=%llu gaps=%llu gap_ticks=%llu\n",
             (unsigned long long)start, (unsigned long long)deadline, (unsigned long long)run,
             (unsigned long long)gaps, (unsigned long long)gap_ticks);
    return 0;
}
