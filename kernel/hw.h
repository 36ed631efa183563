/*
 * The thin hardware layer: every privileged instruction hv's logic uses goes through these
 * functions (kernel/cpu_hw.c on the machine, fakes in tests/unit on the host).
 */
#pragma once
#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

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

void hw_halt_forever(void) __attribute__((noreturn));
void hw_pause(void);
void hw_invlpg(uintptr_t va);
