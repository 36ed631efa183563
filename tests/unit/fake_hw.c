/* The hardware layer (kernel/lib/hw.h) over a fake machine, for host tests. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/hw.h"
#include "kernel/percpu.h"
#include "kernel/lapic.h"
#include "kernel/smp.h"
#include "tests/unit/fake_frames.h"
#include "tests/unit/fake_vmcs.h"
#include "vmx/cpu/vmx.h"
#include "vmx/vm/sched.h"

#define PORT_COUNT    0x10000
#define PORT_FLOATING 0xFFFFFFFFu /* an unclaimed ISA port reads all ones */
#define BYTE_MASK     0xFFu
#define WORD_MASK     0xFFFFu
#define RFLAGS_RESET  0x2ull /* bit 1 always reads 1 */

/* vmx/cpu/vmx.c owns these on the machine; it cannot be linked on the host (frames, VMXON). */
struct vmx_caps vmx_caps;
struct vmx_config vmx_config;

struct fake_hw_state fake_hw;
jmp_buf *fake_hw_halt_jmp;

static struct {
    struct {
        uint32_t msr;
        uint64_t value;
    } msrs[FAKE_HW_MSRS];
    unsigned nmsrs;
    struct {
        uint32_t leaf, subleaf;
        struct cpuid_regs regs;
    } cpuids[FAKE_HW_CPUIDS];
    unsigned ncpuids;
    uint32_t port_input[PORT_COUNT];
    struct fake_port_io port_log[FAKE_HW_PORT_LOG];
    unsigned port_log_count;
    struct percpu cpu;
    struct vmx_cpu vmx; /* this_cpu()->vmx: VMX on (the fake VMCS starts so) */
} machine;

void fake_hw_reset(void)
{
    memset(&machine, 0, sizeof(machine));
    memset(machine.port_input, 0xFF, sizeof(machine.port_input));
    machine.cpu.self = &machine.cpu;
    machine.cpu.vmx = &machine.vmx;
    memset(&fake_hw, 0, sizeof(fake_hw));
    fake_hw.rflags = RFLAGS_RESET;
    memset(&vmx_caps, 0, sizeof(vmx_caps));
    memset(&vmx_config, 0, sizeof(vmx_config));
    fake_hw_halt_jmp = NULL;
    memset(&fake_kicks, 0, sizeof(fake_kicks));
    /* The machine's RAM: allocations succeed again. Referencing fake_frames.c here also makes
       the linker take its frame allocator, never mm/frame.c (which needs the linker script). */
    fake_frames_fail_after(-1);
}

_Noreturn static void fatal(const char *what)
{
    fprintf(stderr, "fake_hw: %s\n", what);
    abort();
}

/* ---- MSRs ---- */

static int msr_slot(uint32_t msr)
{
    for (unsigned i = 0; i < machine.nmsrs; i++)
        if (machine.msrs[i].msr == msr)
            return (int)i;
    return -1;
}

void fake_hw_set_msr(uint32_t msr, uint64_t v)
{
    int i = msr_slot(msr);
    if (i < 0) {
        if (machine.nmsrs == FAKE_HW_MSRS)
            fatal("MSR table full (raise FAKE_HW_MSRS)");
        i = (int)machine.nmsrs++;
        machine.msrs[i].msr = msr;
    }
    machine.msrs[i].value = v;
}

uint64_t fake_hw_get_msr(uint32_t msr)
{
    int i = msr_slot(msr);
    return i < 0 ? 0 : machine.msrs[i].value;
}

bool fake_hw_has_msr(uint32_t msr)
{
    return msr_slot(msr) >= 0;
}

uint64_t hw_rdmsr(uint32_t msr)
{
    if (!fake_hw_has_msr(msr))
        fake_hw.unknown_msr_reads++;
    return fake_hw_get_msr(msr);
}

void hw_wrmsr(uint32_t msr, uint64_t v)
{
    fake_hw.msr_writes++;
    fake_hw_set_msr(msr, v);
}

/* ---- CPUID ---- */

void fake_hw_set_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs regs)
{
    for (unsigned i = 0; i < machine.ncpuids; i++) {
        if (machine.cpuids[i].leaf == leaf && machine.cpuids[i].subleaf == subleaf) {
            machine.cpuids[i].regs = regs;
            return;
        }
    }
    if (machine.ncpuids == FAKE_HW_CPUIDS)
        fatal("CPUID table full (raise FAKE_HW_CPUIDS)");
    machine.cpuids[machine.ncpuids].leaf = leaf;
    machine.cpuids[machine.ncpuids].subleaf = subleaf;
    machine.cpuids[machine.ncpuids].regs = regs;
    machine.ncpuids++;
}

void hw_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
    fake_hw.cpuid_calls++;
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < machine.ncpuids; i++) {
        if (machine.cpuids[i].leaf == leaf && machine.cpuids[i].subleaf == subleaf) {
            *out = machine.cpuids[i].regs;
            return;
        }
    }
}

/* ---- port I/O ---- */

void fake_hw_set_port_input(uint16_t port, uint32_t v)
{
    machine.port_input[port] = v;
}

unsigned fake_hw_port_log_count(void)
{
    return machine.port_log_count;
}

struct fake_port_io fake_hw_port_log(unsigned i)
{
    return i < FAKE_HW_PORT_LOG ? machine.port_log[i] : (struct fake_port_io){0};
}

static void log_port(uint16_t port, uint8_t size, bool out, uint32_t value)
{
    if (machine.port_log_count < FAKE_HW_PORT_LOG)
        machine.port_log[machine.port_log_count] = (struct fake_port_io){port, size, out, value};
    machine.port_log_count++;
}

static uint32_t port_in(uint16_t port, uint8_t size, uint32_t mask)
{
    uint32_t v = machine.port_input[port] & mask;
    log_port(port, size, false, v);
    return v;
}

uint8_t hw_inb(uint16_t port)
{
    return (uint8_t)port_in(port, sizeof(uint8_t), BYTE_MASK);
}

uint16_t hw_inw(uint16_t port)
{
    return (uint16_t)port_in(port, sizeof(uint16_t), WORD_MASK);
}

uint32_t hw_inl(uint16_t port)
{
    return port_in(port, sizeof(uint32_t), PORT_FLOATING);
}

void hw_outb(uint16_t port, uint8_t v)
{
    log_port(port, sizeof(v), true, v);
}

void hw_outw(uint16_t port, uint16_t v)
{
    log_port(port, sizeof(v), true, v);
}

void hw_outl(uint16_t port, uint32_t v)
{
    log_port(port, sizeof(v), true, v);
}

/* ---- registers ---- */

uint64_t hw_rdtsc(void)
{
    uint64_t t = fake_hw.tsc;
    fake_hw.tsc += fake_hw.tsc_step;
    return t;
}

uint64_t hw_read_cr0(void)
{
    return fake_hw.cr0;
}

uint64_t hw_read_cr2(void)
{
    return fake_hw.cr2;
}

uint64_t hw_read_cr3(void)
{
    return fake_hw.cr3;
}

uint64_t hw_read_cr4(void)
{
    return fake_hw.cr4;
}

void hw_write_cr0(uint64_t v)
{
    fake_hw.cr_writes++;
    fake_hw.cr0 = v;
}

void hw_write_cr3(uint64_t v)
{
    fake_hw.cr_writes++;
    fake_hw.cr3 = v;
}

void hw_write_cr4(uint64_t v)
{
    fake_hw.cr_writes++;
    fake_hw.cr4 = v;
}

uint64_t hw_read_xcr0(void)
{
    return fake_hw.xcr0;
}

void hw_write_xcr0(uint64_t v)
{
    fake_hw.xcr0_writes++;
    fake_hw.xcr0 = v;
}

uint64_t hw_read_rflags(void)
{
    return fake_hw.rflags;
}

#define FAKE_DR(n)                                                                                 \
    uint64_t hw_read_dr##n(void)                                                                   \
    {                                                                                              \
        fake_hw.dr_reads++;                                                                        \
        return fake_hw.dr[n];                                                                      \
    }                                                                                              \
    void hw_write_dr##n(uint64_t v)                                                                \
    {                                                                                              \
        fake_hw.dr_writes++;                                                                       \
        fake_hw.dr[n] = v;                                                                         \
    }
FAKE_DR(0)
FAKE_DR(1)
FAKE_DR(2)
FAKE_DR(3)
FAKE_DR(6)
#undef FAKE_DR

void hw_halt_forever(void)
{
    if (fake_hw_halt_jmp)
        longjmp(*fake_hw_halt_jmp, 1);
    fatal("hw_halt_forever called");
}

void hw_pause(void)
{
    fake_hw.pauses++;
}

void hw_invlpg(uintptr_t va)
{
    fake_hw.invlpgs++;
    fake_hw.last_invlpg = va;
}

/* ---- the scheduler's kick (vmx/vm/sched.h) ---- */

struct fake_kicks fake_kicks;

/* Defined here, in an object every VM test links, so the linker never takes vmx/vm/sched.o
   (which needs the boot code) for it; weak, so a test that links sched.o gets the real one. */
__attribute__((weak)) void sched_kick_vcpu(struct vcpu *v)
{
    if (fake_kicks.count < FAKE_KICK_LOG)
        fake_kicks.vcpu[fake_kicks.count] = v;
    fake_kicks.count++;
}

/* ---- per-CPU data (kernel/percpu_hw.c reads GS base on the machine) ---- */

struct percpu *this_cpu(void)
{
    if (machine.cpu.self != &machine.cpu) { /* usable before the first fake_hw_reset */
        machine.cpu.self = &machine.cpu;
        machine.cpu.vmx = &machine.vmx;
    }
    return &machine.cpu;
}

uint32_t cpu_id(void)
{
    return this_cpu()->id;
}

/* ---- the machine's local APIC and other CPUs (kernel/lapic_hw.c, kernel/smp_hw.c) ---- */

void lapic_eoi(void)
{
    fake_hw.lapic_eois++;
}

void smp_kick(unsigned cpu)
{
    if (cpu < sizeof(fake_hw.kicks) / sizeof(fake_hw.kicks[0]))
        fake_hw.kicks[cpu]++;
}

unsigned smp_cpu_count(void)
{
    return fake_hw.cpu_count ? fake_hw.cpu_count : 1;
}

/* The host tests run no scheduler loop on other CPUs: every AP is done at once. */
void smp_release_aps(smp_work_fn work)
{
    (void)work;
}

void smp_wait_aps_done(void) {}

bool fake_smp_stopping;

bool smp_stopping(void)
{
    return fake_smp_stopping;
}

void smp_stop_others(void)
{
    fake_smp_stopping = true;
}
