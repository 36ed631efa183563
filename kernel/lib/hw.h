/*
 * The thin hardware layer: every privileged instruction hv's logic uses goes through these
 * functions. In hv they are inline (one instruction each, on the VM-exit path); host tests
 * (HV_HOST_TEST) get extern declarations that tests/unit/fake_hw.c implements.
 */
#pragma once
#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

#ifdef HV_HOST_TEST

uint8_t hw_inb(uint16_t port);
uint16_t hw_inw(uint16_t port);
uint32_t hw_inl(uint16_t port);
void hw_outb(uint16_t port, uint8_t v);
void hw_outw(uint16_t port, uint16_t v);
void hw_outl(uint16_t port, uint32_t v);

uint64_t hw_rdmsr(uint32_t msr);
void hw_wrmsr(uint32_t msr, uint64_t v);
void hw_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);
uint64_t hw_rdtsc(void);

uint64_t hw_read_cr0(void);
uint64_t hw_read_cr2(void);
uint64_t hw_read_cr3(void);
uint64_t hw_read_cr4(void);
void hw_write_cr0(uint64_t v);
void hw_write_cr3(uint64_t v);
void hw_write_cr4(uint64_t v);
uint64_t hw_read_xcr0(void);
void hw_write_xcr0(uint64_t v);
uint64_t hw_read_rflags(void);
uint64_t hw_read_dr0(void);
uint64_t hw_read_dr1(void);
uint64_t hw_read_dr2(void);
uint64_t hw_read_dr3(void);
uint64_t hw_read_dr6(void);
void hw_write_dr0(uint64_t v);
void hw_write_dr1(uint64_t v);
void hw_write_dr2(uint64_t v);
void hw_write_dr3(uint64_t v);
void hw_write_dr6(uint64_t v);

void hw_halt_forever(void) __attribute__((noreturn));
void hw_pause(void);
void hw_invlpg(uintptr_t va);

#else /* hv itself */

static inline uint8_t hw_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t hw_inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t hw_inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void hw_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void hw_outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void hw_outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t hw_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void hw_wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void hw_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
    __asm__ volatile("cpuid"
                     : "=a"(out->eax), "=b"(out->ebx), "=c"(out->ecx), "=d"(out->edx)
                     : "a"(leaf), "c"(subleaf));
}

static inline uint64_t hw_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#define READ_CR(n)                                                                                 \
    static inline uint64_t hw_read_cr##n(void)                                                     \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }
READ_CR(0)
READ_CR(2)
READ_CR(3)
READ_CR(4)

static inline void hw_write_cr0(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void hw_write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void hw_write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline uint64_t hw_read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static inline void hw_write_xcr0(uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t hw_read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

/* DR0-DR3 and DR6 (SDM vol. 3 §18.2 "Debug Registers"); DR7 is in the VMCS. */
#define HW_DR(n)                                                                                   \
    static inline uint64_t hw_read_dr##n(void)                                                     \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%db" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }                                                                                              \
    static inline void hw_write_dr##n(uint64_t v)                                                  \
    {                                                                                              \
        __asm__ volatile("mov %0, %%db" #n : : "r"(v));                                            \
    }
HW_DR(0)
HW_DR(1)
HW_DR(2)
HW_DR(3)
HW_DR(6)
#undef HW_DR

static inline __attribute__((noreturn)) void hw_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

static inline void hw_pause(void)
{
    __asm__ volatile("pause");
}

static inline void hw_invlpg(uintptr_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#endif
