/* Per-CPU state, reached through GS base (this_cpu()): one struct per CPU hv runs on, each with
   its own GDT, TSS and IST stacks (above guard pages), VMX and scheduler state. hv CPU ids are
   0 (the bootstrap processor) .. cpu_count-1, in the order the APs came up (kernel/smp.h). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define MAX_CPUS       8
#define IST_DF         1 /* IST slot numbers (TSS.IST1..3) */
#define IST_NMI        2
#define IST_MC         3
#define IST_COUNT      3
#define IST_STACK_SIZE 8192
#define CPU_STACK_SIZE 32768 /* an AP's boot stack, and each CPU's guest-run stack */
#define GDT_ENTRIES    5     /* null, code, data, TSS (two slots) */
#define MAX_GUESTS     64    /* VM slots, one per multiboot2 module (MB2_MAX_MODULES) */

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
    void *boot_stack_top; /* APs: the stack the trampoline hands to ap_main */
    void *run_stack_top;  /* where this CPU runs vCPUs (HOST_RSP points into it) */
};

struct percpu *this_cpu(void);
uint32_t cpu_id(void);
/* Registers the guard pages of every CPU's stacks (IST, AP boot, guest-run): call before
   paging_init, which leaves them unmapped. */
void percpu_register_guards(void);
/* Sets up the BSP's GDT, TSS (IST stacks with guard pages) and GS base. */
void percpu_init_bsp(void);
/* CPU `id`'s per-CPU area (id < MAX_CPUS), before it runs: its stacks assigned, nothing loaded. */
struct percpu *percpu_prepare(uint32_t id, uint32_t apic_id);
/* On the AP itself: loads its GDT, TSS and GS base (prepared by percpu_prepare). */
void percpu_init_ap(struct percpu *c);
struct percpu *percpu_of(uint32_t id);
/* Registers a guard page (virtual address) that must stay unmapped; mm/paging.c reads these and the
   exception handler names an access to one a stack overflow. */
void stack_guard_register(uintptr_t va, const char *stack_name);
const char *stack_guard_find(uintptr_t va);
int stack_guard_count(void);
uintptr_t stack_guard_at(int i);
