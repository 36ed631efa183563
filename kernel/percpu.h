/* Per-CPU state, reached through GS base (this_cpu()). Designed for SMP; only the BSP runs so far.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define MAX_CPUS       8
#define IST_DF         1 /* IST slot numbers (TSS.IST1..3) */
#define IST_NMI        2
#define IST_MC         3
#define IST_COUNT      3
#define IST_STACK_SIZE 8192
#define GDT_ENTRIES    5  /* null, code, data, TSS (two slots) */
#define MAX_GUESTS     64 /* VM slots, one per multiboot2 module (MB2_MAX_MODULES) */

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct vmx_cpu;   /* vmx/cpu/vmx.h */
struct sched_cpu; /* vmx/vm/sched.c */

struct percpu {
    struct percpu *self; /* must stay first: this_cpu() reads %gs:0 */
    uint32_t id;
    uint32_t apic_id;
    uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
    struct tss64 tss __attribute__((aligned(16)));
    struct vmx_cpu *vmx;
    struct sched_cpu *sched;
};

struct percpu *this_cpu(void);
uint32_t cpu_id(void);
/* Sets up the BSP's GDT, TSS (IST stacks with guard pages) and GS base. */
void percpu_init_bsp(void);
/* Registers a guard page (virtual address) that must stay unmapped; mm/paging.c reads these and the
   exception handler names an access to one a stack overflow. */
void stack_guard_register(uintptr_t va, const char *stack_name);
const char *stack_guard_find(uintptr_t va);
int stack_guard_count(void);
uintptr_t stack_guard_at(int i);
