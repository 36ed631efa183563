/* selftest: the state a vCPU starts in and keeps (SDM vol. 3 §18.2 "Debug Registers", Table 10-1
   "IA-32 and Intel 64 Processor States Following Power-up, Reset, or INIT"). MOV DR does not exit,
   DR7 and IA32_DEBUGCTL live in the VMCS, and the x87/SSE state comes from hv's FPU area: each
   must be the guest's own, from its first instruction on, across exits and across the other
   guests' time slices. */
#include "guests/selftest/selftest.h"

#define DR6_RESET        0xFFFF0FF0ull
#define DR7_RESET        0x400ull
#define DR7_L0           (1ull << 0)
#define DR7_LE_GE        (3ull << 8)
#define DR7_RW0_WRITE    (1ull << 16)
#define DR7_LEN0_4       (3ull << 18)
#define DR6_B0           (1ull << 0)
#define FCW_RESET        0x037Fu
#define MXCSR_RESET      0x1F80u
#define MSR_DEBUGCTL     0x1D9u
#define DEBUGCTL_LBR     (1ull << 0)
#define EXC_DB           1
#define RFLAGS_TF        0x100ull
#define PORT_POST        0x80 /* unclaimed on hv's platform: writes are dropped */
#define REP_ITERATIONS   3
#define MB1_FLAG_CMDLINE (1u << 2)

/* A gap this long between two RDTSCs of the spin loop means hv ran someone else meanwhile
   (an exit of our own costs a few thousand instructions; the shortest slice is longer). */
#define SWITCH_GAP_TICKS  20000ull
#define SWITCH_SPIN_TICKS 200000000ull /* give up after this long without a switch */

#define ST_DR(n)                                                                                   \
    static inline uint64_t read_dr##n(void)                                                        \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%db" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }                                                                                              \
    static inline void write_dr##n(uint64_t v)                                                     \
    {                                                                                              \
        __asm__ volatile("mov %0, %%db" #n : : "r"(v) : "memory");                                 \
    }
ST_DR(0)
ST_DR(1)
ST_DR(2)
ST_DR(3)
ST_DR(6)
ST_DR(7)

/* The registers as the guest found them, read before anything else ran. */
static struct {
    uint64_t dr[4], dr6, dr7;
    uint16_t fcw;
    uint32_t mxcsr;
} at_start;

/* STMXCSR needs CR4.OSFXSR (#UD otherwise); it is guest-owned, so setting it does not exit. */
static uint32_t read_mxcsr(void)
{
    uint64_t cr4 = hw_read_cr4();
    uint32_t mxcsr;
    hw_write_cr4(cr4 | CR4_OSFXSR);
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    hw_write_cr4(cr4);
    return mxcsr;
}

static void exiting_instruction(void)
{
    uint32_t r[4];
    g_cpuid(0, 0, r); /* CPUID always exits (SDM vol. 3 §26.1.2) */
}

void st_capture_reset_state(void)
{
    at_start.dr[0] = read_dr0();
    at_start.dr[1] = read_dr1();
    at_start.dr[2] = read_dr2();
    at_start.dr[3] = read_dr3();
    at_start.dr6 = read_dr6();
    at_start.dr7 = read_dr7();
    __asm__ volatile("fnstcw %0" : "=m"(at_start.fcw));
    at_start.mxcsr = read_mxcsr();
}

static void check_reset_state(void)
{
    g_check(!at_start.dr[0] && !at_start.dr[1] && !at_start.dr[2] && !at_start.dr[3],
            "debug.reset_dr0_3", "DR0-3 0x%llx 0x%llx 0x%llx 0x%llx, want 0",
            (unsigned long long)at_start.dr[0], (unsigned long long)at_start.dr[1],
            (unsigned long long)at_start.dr[2], (unsigned long long)at_start.dr[3]);
    g_check(at_start.dr6 == DR6_RESET, "debug.reset_dr6", "DR6 0x%llx, want 0x%llx",
            (unsigned long long)at_start.dr6, DR6_RESET);
    g_check(at_start.dr7 == DR7_RESET, "debug.reset_dr7", "DR7 0x%llx, want 0x%llx",
            (unsigned long long)at_start.dr7, DR7_RESET);
    g_check(at_start.fcw == FCW_RESET, "fpu.reset_fcw", "FCW 0x%x, want 0x%x", at_start.fcw,
            FCW_RESET);
    g_check(at_start.mxcsr == MXCSR_RESET, "fpu.reset_mxcsr", "MXCSR 0x%x, want 0x%x",
            at_start.mxcsr, MXCSR_RESET);
}

/* DR0-DR3, DR6 and DR7 keep what the guest wrote across an exiting instruction. */
static void check_kept_across_exit(void)
{
    const uint64_t dr7 = DR7_RESET | DR7_LE_GE | DR7_RW0_WRITE | DR7_LEN0_4; /* not enabled */
    write_dr0(0x111000);
    write_dr1(0x222000);
    write_dr2(0x333000);
    write_dr3(0x444000);
    write_dr6(DR6_RESET | DR6_B0);
    write_dr7(dr7);
    exiting_instruction();
    uint64_t got7 = read_dr7(), got6 = read_dr6();
    g_check(got7 == dr7, "debug.dr7_survives_exit", "DR7 0x%llx after CPUID, want 0x%llx",
            (unsigned long long)got7, (unsigned long long)dr7);
    g_check(read_dr0() == 0x111000 && read_dr1() == 0x222000 && read_dr2() == 0x333000 &&
                read_dr3() == 0x444000 && got6 == (DR6_RESET | DR6_B0),
            "debug.dr0_3_dr6_survive_exit", "DR0 0x%llx DR6 0x%llx after CPUID",
            (unsigned long long)read_dr0(), (unsigned long long)got6);
    write_dr7(DR7_RESET);
    write_dr6(DR6_RESET);
}

/* ---- an armed data breakpoint fires, also when an exit came between arming and the access */

static volatile uint32_t watched;

static void write_watched(void *exit_first)
{
    if (*(const bool *)exit_first)
        exiting_instruction();
    watched = 1;
}

/* Arms breakpoint 0 on writes to `watched`; true when the write raised #DB with DR6.B0. */
static bool breakpoint_fires(bool exit_between)
{
    struct g_fault f = {0};
    write_dr6(DR6_RESET);
    write_dr0((uint64_t)(uintptr_t)&watched);
    write_dr7(DR7_RESET | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4);
    bool faulted = g_try(write_watched, &exit_between, &f);
    uint64_t dr6 = read_dr6();
    write_dr7(DR7_RESET);
    write_dr6(DR6_RESET);
    write_dr0(0);
    return faulted && f.vector == EXC_DB && (dr6 & DR6_B0);
}

static void check_breakpoint(void)
{
    if (!breakpoint_fires(false)) {
        st_skip("debug.breakpoint_after_exit", "no data breakpoints on this CPU (emulator build)");
        return;
    }
    g_check(breakpoint_fires(true), "debug.breakpoint_after_exit",
            "an armed DR0 write breakpoint did not fire after CPUID");
}

static void check_debugctl(void)
{
    struct st_msr_arg a = {MSR_DEBUGCTL, DEBUGCTL_LBR};
    struct g_fault f;
    bool ok = !g_try(st_do_wrmsr, &a, &f);
    exiting_instruction();
    a.value = 0;
    ok = ok && !g_try(st_do_rdmsr, &a, &f);
    uint64_t got = a.value;
    a.value = 0;
    g_try(st_do_wrmsr, &a, &f);
    g_check(ok && got == DEBUGCTL_LBR, "debug.debugctl_roundtrip", "%s 0x%llx, want 0x%llx",
            ok ? "read" : "#GP", (unsigned long long)got, DEBUGCTL_LBR);
}

/* The single-step #DBs of: TF on (POPFQ), `insn`, TF off. The instructions around `insn` trap
   the same way every time, so the difference of two runs counts `insn`'s own #DBs. */
#define SINGLE_STEPS(insn, ...)                                                                    \
    __asm__ volatile("pushfq\n\torq %[tf], (%%rsp)\n\tpopfq\n\t" insn "\n\t"                       \
                     "pushfq\n\tandq %[no_tf], (%%rsp)\n\tpopfq"                                   \
                     : __VA_ARGS__                                                                 \
                     : [tf] "i"(RFLAGS_TF), [no_tf] "i"(-(int64_t)RFLAGS_TF - 1), "d"(PORT_POST)   \
                     : "memory", "cc")

/* SDM vol. 3 §18.3.1.4: a single-stepped REP string instruction traps after every iteration.
   hv emulates REP OUTSB, so the #DB per iteration is hv's to raise (issue 16 item 6: a bare CPU
   gives 3 for 3 iterations; hv used to give 1). */
static void check_rep_single_step(void)
{
    static const char src[REP_ITERATIONS] = {'a', 'b', 'c'};
    const char *p = src;
    uint64_t n = REP_ITERATIONS;
    uint64_t old = st_idt_swap(EXC_DB, (uint64_t)(uintptr_t)st_count_db);
    st_db_count = 0;
    SINGLE_STEPS("nop", "+S"(p));
    uint64_t around_nop = st_db_count;
    p = src;
    st_db_count = 0;
    SINGLE_STEPS("rep outsb", "+S"(p), "+c"(n));
    uint64_t around_rep = st_db_count;
    st_idt_swap(EXC_DB, old);
    g_check(around_rep == around_nop - 1 + REP_ITERATIONS && n == 0 && p == src + REP_ITERATIONS,
            "debug.rep_outsb_single_step", "%llu #DBs for %u iterations (NOP: %llu), RCX %llu",
            (unsigned long long)(around_rep - around_nop + 1), REP_ITERATIONS,
            (unsigned long long)around_nop, (unsigned long long)n);
}

void st_test_debug(void)
{
    check_reset_state();
    check_kept_across_exit();
    check_breakpoint();
    check_debugctl();
    check_rep_single_step();
}

/* ---- across the other guests' slices (cmdline "dr0=HEX", two guests side by side) ---- */

static bool parse_dr0(const char *s, uint64_t *value)
{
    for (; *s; s++) {
        if (s[0] != 'd' || s[1] != 'r' || s[2] != '0' || s[3] != '=')
            continue;
        uint64_t v = 0;
        const char *p = s + 4;
        if (p[0] == '0' && p[1] == 'x')
            p += 2;
        for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
            v = v * 16 + (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
        *value = v;
        return true;
    }
    return false;
}

/* Spins until the TSC shows a gap (another guest's slice) or gives up. */
static bool spin_until_switched(void)
{
    uint64_t start = hw_rdtsc(), last = start;
    for (;;) {
        uint64_t now = hw_rdtsc();
        if (now - last > SWITCH_GAP_TICKS)
            return true;
        if (now - start > SWITCH_SPIN_TICKS)
            return false;
        last = now;
    }
}

void st_test_debug_switch(const struct mb1_info_min *info)
{
    uint64_t mine;
    if (!(info->flags & MB1_FLAG_CMDLINE) ||
        !parse_dr0((const char *)(uintptr_t)info->cmdline, &mine))
        return;
    write_dr0(mine);
    bool switched = spin_until_switched();
    uint64_t got = read_dr0();
    write_dr0(0);
    g_check(switched, "debug.switch_seen", "no other guest ran while this one spun");
    g_check(got == mine, "debug.dr0_kept_across_switch", "DR0 0x%llx, want 0x%llx",
            (unsigned long long)got, (unsigned long long)mine);
}
