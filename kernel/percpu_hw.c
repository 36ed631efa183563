#include "kernel/percpu.h"
#include "kernel/lib/hw.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/string.h"
#include "kernel/trap.h"
#include "kernel/lib/x86.h"

#define GDT_CODE64     0x00AF9A000000FFFFull            /* present, DPL0, exec/read, L=1 */
#define GDT_DATA       0x00CF92000000FFFFull            /* present, DPL0, read/write */
#define TSS_TYPE_AVAIL 0x89ull                          /* present, 64-bit TSS available */
#define MAX_GUARDS     (MAX_CPUS * (IST_COUNT + 2) + 1) /* + hv's boot stack */

static struct percpu cpus[MAX_CPUS];
static bool percpu_ready;
/* Each stack sits above its own guard page (unmapped by paging_init). */
static uint8_t ist_stacks[MAX_CPUS][IST_COUNT][PAGE_SIZE + IST_STACK_SIZE]
    __attribute__((aligned(PAGE_SIZE)));
static uint8_t ap_boot_stacks[MAX_CPUS][PAGE_SIZE + CPU_STACK_SIZE]
    __attribute__((aligned(PAGE_SIZE)));
static uint8_t run_stacks[MAX_CPUS][PAGE_SIZE + CPU_STACK_SIZE] __attribute__((aligned(PAGE_SIZE)));

struct stack_guard {
    uintptr_t va;
    const char *name;
};
static struct stack_guard guards[MAX_GUARDS];
static int guard_count;

void stack_guard_register(uintptr_t va, const char *stack_name)
{
    if (guard_count < MAX_GUARDS)
        guards[guard_count++] = (struct stack_guard){va & ~(PAGE_SIZE - 1), stack_name};
}

const char *stack_guard_find(uintptr_t va)
{
    for (int i = 0; i < guard_count; i++)
        if (va - guards[i].va < PAGE_SIZE)
            return guards[i].name;
    return 0;
}

int stack_guard_count(void)
{
    return guard_count;
}

uintptr_t stack_guard_at(int i)
{
    return guards[i].va;
}

static void gdt_set_tss(uint64_t *gdt, const struct tss64 *tss)
{
    uint64_t base = (uintptr_t)tss, limit = sizeof(*tss) - 1;
    gdt[SEL_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (TSS_TYPE_AVAIL << 40) |
                       (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[SEL_TSS / 8 + 1] = base >> 32;
}

static void load_gdt_tss(struct percpu *c)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = {sizeof(c->gdt) - 1, (uintptr_t)c->gdt};
    __asm__ volatile("lgdt %0\n"
                     "pushq %1\n"
                     "leaq 1f(%%rip), %%rax\n"
                     "pushq %%rax\n"
                     "lretq\n"
                     "1: movw %w2, %%ds\n"
                     "movw %w2, %%es\n"
                     "movw %w2, %%ss\n"
                     "ltr %w3\n"
                     :
                     : "m"(gdtr), "i"(SEL_KERNEL_CS), "r"(SEL_KERNEL_DS), "r"(SEL_TSS)
                     : "rax", "memory");
}

void percpu_register_guards(void)
{
    static const char *const ist_names[IST_COUNT] = {"#DF IST stack", "NMI IST stack",
                                                     "#MC IST stack"};
    for (int id = 0; id < MAX_CPUS; id++) {
        for (int i = 0; i < IST_COUNT; i++)
            stack_guard_register((uintptr_t)ist_stacks[id][i], ist_names[i]);
        if (id) /* the BSP boots on boot/entry.asm's stack */
            stack_guard_register((uintptr_t)ap_boot_stacks[id], "AP boot stack");
        stack_guard_register((uintptr_t)run_stacks[id], "guest-run stack");
    }
}

struct percpu *percpu_prepare(uint32_t id, uint32_t apic_id)
{
    struct percpu *c = &cpus[id];
    memset(c, 0, sizeof(*c));
    c->self = c;
    c->id = id;
    c->apic_id = apic_id;
    c->gdt[SEL_KERNEL_CS / 8] = GDT_CODE64;
    c->gdt[SEL_KERNEL_DS / 8] = GDT_DATA;
    for (int i = 0; i < IST_COUNT; i++)
        c->tss.ist[i] = (uintptr_t)(ist_stacks[id][i] + sizeof(ist_stacks[id][i]));
    c->tss.iomap_base = sizeof(c->tss); /* no I/O bitmap */
    gdt_set_tss(c->gdt, &c->tss);
    c->boot_stack_top = ap_boot_stacks[id] + sizeof(ap_boot_stacks[id]);
    c->run_stack_top = run_stacks[id] + sizeof(run_stacks[id]);
    return c;
}

void percpu_init_ap(struct percpu *c)
{
    load_gdt_tss(c);
    hw_wrmsr(MSR_IA32_GS_BASE, (uintptr_t)c);
}

void percpu_init_bsp(void)
{
    percpu_init_ap(percpu_prepare(0, 0)); /* the APIC ID is read once the LAPIC is mapped */
    percpu_ready = true;
}

struct percpu *percpu_of(uint32_t id)
{
    return &cpus[id];
}

struct percpu *this_cpu(void)
{
    struct percpu *c;
    if (!percpu_ready)
        return 0;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}

uint32_t cpu_id(void)
{
    struct percpu *c = this_cpu();
    return c ? c->id : 0;
}
