/* The runtime of hv's C guests (64-bit): hardware access, hypercalls, console, fault catching. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/abi/hv_abi.h"
#include "kernel/lib/hw.h"

#define G_COM1       HV_ABI_COM1
#define G_DEBUG_EXIT HV_ABI_DEBUG_EXIT_PORT
#define G_HC_EXIT    HC_EXIT
#define G_HC_CONSOLE HC_CONSOLE_WRITE
#define G_HC_INFO    HC_INFO

struct g_fault { /* filled by g_try when an exception interrupted the function */
    uint64_t vector, error, rip, cr2;
};

struct mb1_info_min { /* the fields of the Multiboot 1 structure the guests read */
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

int guest_main(const struct mb1_info_min *info);

/* Runs fn(arg); 0 if it returned, 1 if an exception stopped it (*fault says which). */
int g_try(void (*fn)(void *), void *arg, struct g_fault *fault);

/* Port I/O, RDTSC, RDMSR/WRMSR and CR0/CR3/CR4 come from hv's own hardware layer
   (kernel/lib/hw.h: hw_inb, hw_outb, hw_rdtsc, hw_rdmsr, hw_read_cr0, ...). */

static inline void g_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    struct cpuid_regs c;
    hw_cpuid(leaf, sub, &c);
    r[0] = c.eax, r[1] = c.ebx, r[2] = c.ecx, r[3] = c.edx;
}

static inline void g_xsetbv(uint32_t index, uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t g_xgetbv(uint32_t index)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return ((uint64_t)hi << 32) | lo;
}

#define G_READ_CR(n)                                                                               \
    static inline uint64_t g_read_cr##n(void)                                                      \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }                                                                                              \
    static inline void g_write_cr##n(uint64_t v)                                                   \
    {                                                                                              \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");                                 \
    }
G_READ_CR(8) /* CR8 (the TPR) is guest-only: hv's layer has no accessor for it */

/* VMCALL: number in EAX, arguments in EBX and ECX, result in RAX. */
static inline uint64_t g_hypercall(uint64_t nr, uint64_t a, uint64_t b)
{
    uint64_t ret;
    __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory");
    return ret;
}

void g_putc(char c);
void g_puts(const char *s);
void g_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void g_exit(uint8_t status);
/* Called from crt0 for an exception outside g_try: prints it and exits with status 0xEE. */
void g_exception(const uint64_t *frame);

/* Test reporting: "PASS name" / "FAIL name: why", and the closing "NAME: N passed, N failed". */
void g_check(bool ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int g_report(const char *suite);
