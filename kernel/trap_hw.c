/* hv's own exceptions: the IDT and a full dump. Any exception in hv is a hv bug: dump, end. */
#include "kernel/trap.h"
#include "kernel/lapic.h"
#include "kernel/smp.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/platform.h"
#include "kernel/lib/x86.h"

#define IDT_GATE_INTERRUPT 0x8E /* present, DPL0, 64-bit interrupt gate */
#define BACKTRACE_MAX      16

struct idt_gate {
    uint16_t offset_lo, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi, reserved;
} __attribute__((packed));

extern const uint64_t isr_table[EXC_COUNT];
extern char __hv_start[], __hv_end[];
extern const char isr_smp_timer[], isr_smp_kick[];
/* The 32 exceptions and hv's two interrupt vectors (kernel/smp.h); the rest are not present. */
#define IDT_VECTORS 256
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

static uint8_t ist_for(unsigned vector)
{
    switch (vector) {
    case EXC_DF:
        return IST_DF;
    case EXC_NMI:
        return IST_NMI;
    case EXC_MC:
        return IST_MC;
    default:
        return 0;
    }
}

static void set_gate(unsigned v, uint64_t handler)
{
    idt[v] = (struct idt_gate){.offset_lo = handler & 0xFFFF,
                               .selector = SEL_KERNEL_CS,
                               .ist = ist_for(v),
                               .type_attr = IDT_GATE_INTERRUPT,
                               .offset_mid = (handler >> 16) & 0xFFFF,
                               .offset_hi = handler >> 32};
}

void trap_init(void)
{
    for (unsigned v = 0; v < EXC_COUNT; v++)
        set_gate(v, isr_table[v]);
    set_gate(SMP_TIMER_VECTOR, (uintptr_t)isr_smp_timer);
    set_gate(SMP_KICK_VECTOR, (uintptr_t)isr_smp_kick);
    trap_load();
}

void trap_load(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {sizeof(idt) - 1, (uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* A frame pointer we may follow: inside hv's image (its stacks live in .bss), aligned, and not
   on a guard page, so the dump itself cannot fault. */
static int frame_pointer_ok(uint64_t rbp)
{
    return rbp % 8 == 0 && rbp >= (uintptr_t)__hv_start && rbp + 16 <= (uintptr_t)__hv_end &&
           !stack_guard_find(rbp) && !stack_guard_find(rbp + 8);
}

void backtrace_from(uint64_t rbp)
{
    log_error("backtrace:");
    for (int i = 0; i < BACKTRACE_MAX && frame_pointer_ok(rbp); i++) {
        const uint64_t *frame = (const uint64_t *)rbp;
        if (!frame[1])
            break;
        log_error("  #%d 0x%016llx", i, (unsigned long long)frame[1]);
        if (frame[0] <= rbp) /* the chain must move up the stack */
            break;
        rbp = frame[0];
    }
}

static void dump_frame(const struct trap_frame *f)
{
    log_error("  RIP=0x%016llx CS=0x%llx RFLAGS=0x%016llx", (unsigned long long)f->rip,
              (unsigned long long)f->cs, (unsigned long long)f->rflags);
    log_error("  RSP=0x%016llx SS=0x%llx", (unsigned long long)f->rsp, (unsigned long long)f->ss);
    log_error("  CR0=0x%016llx CR2=0x%016llx CR3=0x%016llx CR4=0x%016llx",
              (unsigned long long)hw_read_cr0(), (unsigned long long)hw_read_cr2(),
              (unsigned long long)hw_read_cr3(), (unsigned long long)hw_read_cr4());
    log_error("  RAX=0x%016llx RBX=0x%016llx RCX=0x%016llx RDX=0x%016llx",
              (unsigned long long)f->rax, (unsigned long long)f->rbx, (unsigned long long)f->rcx,
              (unsigned long long)f->rdx);
    log_error("  RSI=0x%016llx RDI=0x%016llx RBP=0x%016llx", (unsigned long long)f->rsi,
              (unsigned long long)f->rdi, (unsigned long long)f->rbp);
    log_error("  R8 =0x%016llx R9 =0x%016llx R10=0x%016llx R11=0x%016llx",
              (unsigned long long)f->r8, (unsigned long long)f->r9, (unsigned long long)f->r10,
              (unsigned long long)f->r11);
    log_error("  R12=0x%016llx R13=0x%016llx R14=0x%016llx R15=0x%016llx",
              (unsigned long long)f->r12, (unsigned long long)f->r13, (unsigned long long)f->r14,
              (unsigned long long)f->r15);
}

void trap_dispatch(struct trap_frame *f)
{
    /* hv takes interrupts only in smp_idle_until's HLT: the wake-up is all they are for. */
    if (f->vector == SMP_TIMER_VECTOR || f->vector == SMP_KICK_VECTOR) {
        lapic_eoi();
        return;
    }
    if (f->vector == EXC_NMI && smp_stopping())
        hw_halt_forever(); /* another CPU ends hv (smp_stop_others) */
    uint64_t cr2 = hw_read_cr2();
    const char *guard = stack_guard_find(cr2);
    /* Overflowing a stack faults on its guard page; pushing the #PF frame faults again: #DF. */
    if (guard && (f->vector == EXC_PF || f->vector == EXC_DF))
        panic("stack overflow: %s hit its guard page at 0x%llx (RIP 0x%llx)", guard,
              (unsigned long long)cr2, (unsigned long long)f->rip);
    log_error("hv: exception %s error=0x%llx on cpu %u", exception_name((unsigned)f->vector),
              (unsigned long long)f->error_code, cpu_id());
    dump_frame(f);
    backtrace_from(f->rbp);
    log_contract("hv: end: error: exception %s at RIP 0x%llx", exception_name((unsigned)f->vector),
                 (unsigned long long)f->rip);
    platform_end(false);
}
