/* bench: VM-exit round trips measured from inside a guest (make bench, tools/bench).

   Under Bochs with one CPU the TSC advances by one per emulated instruction and hv does not
   offset the guest's TSC, so RDTSC around one exiting instruction counts the instructions of
   hv's whole exit path (exit stub, dispatch, handler, scheduler loop, VMRESUME). Each case
   runs SAMPLES times; the same sequence with the exiting instruction replaced by a NOP is
   the loop's own cost. Output, one line per case, parsed by tools/bench:
     bench: NAME median=M loop=L min=A max=B samples=N
   Preemption-timer exits landing inside a sample make a few samples long; the median
   ignores them. */
#include "guests/lib/guest.h"
#include "kernel/lib/sort.h"

#define SAMPLES        1001 /* odd: the median is one sample */
#define CR4_OSXSAVE    (1ull << 18)
#define XCR0_X87_SSE   "3"     /* valid XCR0 value: x87 | SSE */
#define MSR_IA32_PAT   "0x277" /* hv intercepts every MSR */
#define PORT_UART_SCR  "0x3ff" /* 16550 scratch register of the emulated COM1 */
#define PORT_UNCLAIMED "0x80"  /* no device: IN reads all ones */
#define HC_UNKNOWN     "0x7fff"

/* One timed sample: TSC before, SETUP, OP, TSC after. RAX, RBX, RCX, RDX, R8 are clobbered
   (CPUID writes all four legacy registers). SETUP runs inside the timed region because RDTSC
   overwrites EAX/EDX, which several operations need; the NOP variant contains it too.
   LABEL names the operation; LABEL_after names the instruction after it: tools/bench puts Bochs
   breakpoints there to trace one round trip. */
#define TIMED_SAMPLE(setup, op, label)                                                             \
    ({                                                                                             \
        uint64_t ticks_;                                                                           \
        __asm__ volatile("rdtsc\n\t"                                                               \
                         "shl $32, %%rdx\n\t"                                                      \
                         "or %%rdx, %%rax\n\t"                                                     \
                         "mov %%rax, %%r8\n\t" setup "\n"                                          \
                         ".globl " label "\n" label ":\n\t" op "\n"                                \
                         ".globl " label "_after\n" label "_after:\n\t"                            \
                         "rdtsc\n\t"                                                               \
                         "shl $32, %%rdx\n\t"                                                      \
                         "or %%rdx, %%rax\n\t"                                                     \
                         "sub %%r8, %%rax\n\t"                                                     \
                         : "=a"(ticks_)                                                            \
                         :                                                                         \
                         : "rbx", "rcx", "rdx", "r8", "memory", "cc");                             \
        ticks_;                                                                                    \
    })

/* The timed code lives in its own section, linked at 4 MiB (bench.ld), where hv
   never executes: a linear-address breakpoint there stops only in the guest. */
#define TIMED_FN __attribute__((noinline, section(".bench_timed")))

/* A case: the timed operation and its loop twin (same setup, NOP instead of the operation). */
#define DEFINE_CASE(name, setup, op)                                                               \
    static TIMED_FN uint64_t name##_op(void)                                                       \
    {                                                                                              \
        return TIMED_SAMPLE(setup, op, "bench_op_" #name);                                         \
    }                                                                                              \
    static TIMED_FN uint64_t name##_nop(void)                                                      \
    {                                                                                              \
        return TIMED_SAMPLE(setup, "nop", "bench_nop_" #name);                                     \
    }

DEFINE_CASE(cpuid, "xor %%eax, %%eax\n\txor %%ecx, %%ecx", "cpuid")
DEFINE_CASE(vmcall, "mov $" HC_UNKNOWN ", %%eax\n\txor %%ebx, %%ebx\n\txor %%ecx, %%ecx", "vmcall")
DEFINE_CASE(out_uart, "mov $" PORT_UART_SCR ", %%edx\n\tmov $0x5a, %%al", "outb %%al, %%dx")
DEFINE_CASE(in_unclaimed, "mov $" PORT_UNCLAIMED ", %%edx", "inb %%dx, %%al")
DEFINE_CASE(rdmsr, "mov $" MSR_IA32_PAT ", %%ecx", "rdmsr")
DEFINE_CASE(xsetbv, "xor %%ecx, %%ecx\n\tmov $" XCR0_X87_SSE ", %%eax\n\txor %%edx, %%edx",
            "xsetbv")
DEFINE_CASE(mov_cr0, "mov %%cr0, %%rax", "mov %%rax, %%cr0")

struct bench_case {
    const char *name;
    uint64_t (*op)(void);
    uint64_t (*nop)(void);
};

static const struct bench_case cases[] = {
    {"cpuid", cpuid_op, cpuid_nop},          {"vmcall", vmcall_op, vmcall_nop},
    {"out_uart", out_uart_op, out_uart_nop}, {"in_unclaimed", in_unclaimed_op, in_unclaimed_nop},
    {"rdmsr", rdmsr_op, rdmsr_nop},          {"xsetbv", xsetbv_op, xsetbv_nop},
    {"mov_cr0", mov_cr0_op, mov_cr0_nop},
};

static uint64_t op_ticks[SAMPLES], nop_ticks[SAMPLES];

static void run_case(const struct bench_case *c)
{
    for (unsigned i = 0; i < SAMPLES; i++) {
        op_ticks[i] = c->op();
        nop_ticks[i] = c->nop();
    }
    sort_u64(op_ticks, SAMPLES);
    sort_u64(nop_ticks, SAMPLES);
    g_printf("bench: %s median=%llu loop=%llu min=%llu max=%llu samples=%u\n", c->name,
             (unsigned long long)op_ticks[SAMPLES / 2], (unsigned long long)nop_ticks[SAMPLES / 2],
             (unsigned long long)op_ticks[0], (unsigned long long)op_ticks[SAMPLES - 1], SAMPLES);
}

int guest_main(const struct mb1_info_min *info)
{
    (void)info;
    hw_write_cr4(hw_read_cr4() | CR4_OSXSAVE); /* XSETBV is #UD without it */
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    g_printf("bench: done\n");
    return 0;
}
