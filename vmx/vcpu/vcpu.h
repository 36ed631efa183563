/* A virtual CPU: its VMCS, saved registers, pending events and exit statistics. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "mm/buddy.h"
#include "vmx/cpu/entry.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx_arch.h"

#define VCPU_EVENT_QUEUE     8
#define VCPU_DEBUG_ADDR_REGS 4 /* DR0-DR3 */

struct vcpu_event {
    uint8_t vector;
    uint8_t type; /* enum intr_type */
    bool has_error_code;
    uint32_t error_code;
    uint32_t instr_len; /* software interrupts and exceptions */
};

struct guest;
struct vlapic;

#define VCPU_STARTUP_INIT (1u << 0)
#define VCPU_STARTUP_SIPI (1u << 1)

/*
 * The VMCS fields the exit path uses, cached per vCPU: each is read with VMREAD at most once per
 * exit (its valid bit) and, when a handler changed it, written back once just before the next
 * VM entry (its dirty bit). The exit-information fields (SDM vol. 3 §25.9 "VM-Exit Information
 * Fields") and the guest-state fields change with every exit; the controls and read shadows
 * below VCPU_FIELDS_PERSISTENT only change when hv writes them, so they stay valid across exits.
 */
enum vcpu_field {
    /* Read by the exit stub after every exit (vmx/cpu/entry.asm): valid as soon as it returns. */
    VCPU_EXIT_REASON = VMX_STUB_EXIT_REASON,
    VCPU_IDT_VECTORING_INFO = VMX_STUB_IDT_VECTORING_INFO,
    VCPU_INSTRUCTION_LEN = VMX_STUB_INSTRUCTION_LEN,
    VCPU_RIP = VMX_STUB_RIP,
    VCPU_RFLAGS = VMX_STUB_RFLAGS,
    VCPU_INTERRUPTIBILITY = VMX_STUB_INTERRUPTIBILITY,
    /* Read when first used in an exit. */
    VCPU_EXIT_QUALIFICATION = VMX_STUB_FIELDS,
    VCPU_IDT_VECTORING_ERROR,
    VCPU_RSP,
    VCPU_CS_AR,
    VCPU_SS_AR,
    VCPU_CR0,
    VCPU_CR3,
    VCPU_CR4,
    VCPU_EFER,
    VCPU_PROC_CTLS, /* persistent from here on */
    VCPU_CR0_MASK,
    VCPU_CR4_MASK,
    VCPU_CR0_SHADOW,
    VCPU_CR4_SHADOW,
    VCPU_FIELD_COUNT
};
_Static_assert(VCPU_FIELD_COUNT <= VCPU_REGS_VMCS_SLOTS, "vcpu_regs.vmcs holds every field");
#define VCPU_FIELD_BIT(f)      (1u << (f))
#define VCPU_FIELDS_PERSISTENT (~(VCPU_FIELD_BIT(VCPU_PROC_CTLS) - 1))
#define VCPU_FIELDS_FROM_STUB  (VCPU_FIELD_BIT(VMX_STUB_FIELDS) - 1)
/* Exit information: read-only, never dirty. Before the first exit there is none (all zero). */
#define VCPU_FIELDS_EXIT_INFO                                                                      \
    (VCPU_FIELD_BIT(VCPU_EXIT_REASON) | VCPU_FIELD_BIT(VCPU_IDT_VECTORING_INFO) |                  \
     VCPU_FIELD_BIT(VCPU_INSTRUCTION_LEN) | VCPU_FIELD_BIT(VCPU_EXIT_QUALIFICATION) |              \
     VCPU_FIELD_BIT(VCPU_IDT_VECTORING_ERROR))

extern const enum vmcs_field vcpu_field_encoding[VCPU_FIELD_COUNT];

/* Which values in vcpu_regs.vmcs[] hold the field (valid) and which a handler changed (dirty). */
struct vcpu_vmcs_cache {
    uint32_t valid, dirty; /* bit (1 << enum vcpu_field) */
};

struct vcpu {
    struct vcpu_regs regs; /* must stay first: vmx/cpu/entry.asm */
    struct guest *guest;   /* its VM, as exits see it (vmx/vcpu/guest.h) */
    unsigned id;
    paddr_t vmcs;
    uint16_t vpid;
    bool launched;
    uint64_t guest_xcr0;
    struct vcpu_event events[VCPU_EVENT_QUEUE];
    unsigned event_count;
    uint64_t exits;
    uint64_t exit_counts[VMX_EXIT_COUNT];
    /* MSR state (vmx/exit/exit_msr.c; power-on values from exit_msr_reset_vcpu) */
    struct vcpu_msr_state {
        /* SYSCALL/SWAPGS/RDTSCP MSRs: loaded into the CPU while the vCPU runs (exit_msr.c). */
        uint64_t kernel_gs_base, star, lstar, cstar, fmask, tsc_aux;
        uint64_t spec_ctrl, tsc_adjust; /* virtual, never reach the hardware */
        uint64_t mtrr_def_type;
        uint64_t mtrr_var[16];   /* PHYSBASE0, PHYSMASK0, ... PHYSBASE7, PHYSMASK7 */
        uint64_t mtrr_fixed[11]; /* FIX64K_00000, FIX16K_80000/A0000, FIX4K_C0000 ... F8000 */
    } msr;
    /* DR0-DR3 and DR6 (vmx/vcpu/vcpu_debug.h): in the CPU while the vCPU runs. */
    struct vcpu_debug_regs {
        uint64_t dr[VCPU_DEBUG_ADDR_REGS], dr6;
    } debug;
    uint64_t cr8; /* hv-ABI guests' task priority (vmx/exit/exit_cr.c); virtual-PC vCPUs use the
                     local APIC's TPR, CR8 load and store exiting stay on with the TPR shadow */
    struct vcpu_vmcs_cache cache;
    paddr_t fpu_state;    /* XSAVE/FXSAVE area (one frame) */
    struct vlapic *lapic; /* its local APIC (virtual PC guests); NULL for hv-ABI guests */
    bool halted;          /* in HLT with interrupts enabled: waits for an interrupt */
    bool halted_irq_off; /* in HLT with IF = 0 (a multi-vCPU guest): only an NMI or INIT wakes it */
    /* Virtual INIT and SIPI (SDM vol. 3 §9.4 "Multiple-Processor (MP) Initialization"): another
       vCPU's ICR write posts them here, from any CPU (atomic bit set); this vCPU's own CPU takes
       them before its next entry (vmx/vcpu/vcpu_startup.h), with its VMCS current. */
    uint32_t startup_pending; /* VCPU_STARTUP_INIT | VCPU_STARTUP_SIPI */
    uint8_t sipi_vector;      /* of the last SIPI posted */
    bool wait_for_sipi;       /* an AP before its SIPI, or any vCPU after INIT: not entered */
    /* The hv CPU whose run queue holds the vCPU (fixed at creation: vCPUs do not migrate), and
       whether that CPU is in VMX non-root operation with it right now (written by that CPU
       only; read by others to decide whether a kick needs a host IPI). */
    unsigned home_cpu;
    bool in_guest;
    bool host_state_cpu_set; /* the VMCS's host state is its home CPU's (GDT, TSS, GS base) */
    bool retired;            /* its guest ended and its home CPU let go of it (vmx/vm/sched.c) */
    uint64_t ept_gen_seen;   /* guest->ept_gen at its last entry: INVEPT when that moved on */
    /* APIC-register virtualization (vmx/vcpu/vcpu_apicv.h); vapic_page PADDR_NONE without it */
    paddr_t vapic_page;
    bool apic_access_on;    /* "virtualize APIC accesses" is set in the VMCS */
    bool apic_page_decoded; /* the vlapic decoded the xAPIC page at the last entry */
    uint8_t tpr_threshold;  /* the VMCS's TPR threshold */
};

/* A new vCPU (its VMCS just set up): nothing cached, no exit information yet. */
void vcpu_cache_init(struct vcpu *v);
/* After each VM exit: the guest state and exit information are new (the controls stay), the
   exit stub's fields are read. */
static inline void vcpu_exit_begin(struct vcpu *v)
{
    v->cache.valid = (v->cache.valid & VCPU_FIELDS_PERSISTENT) | VCPU_FIELDS_FROM_STUB;
}
/* Before VM entry, with the vCPU's VMCS current: one VMWRITE per field a handler changed. */
static inline void vcpu_write_back(struct vcpu *v)
{
    for (uint32_t dirty = v->cache.dirty; dirty; dirty &= dirty - 1) {
        unsigned f = (unsigned)__builtin_ctz(dirty);
        vmcs_write_field(vcpu_field_encoding[f], v->regs.vmcs[f]);
    }
    v->cache.dirty = 0;
}

static inline uint64_t vcpu_field(struct vcpu *v, enum vcpu_field f)
{
    if (!(v->cache.valid & VCPU_FIELD_BIT(f))) {
        v->regs.vmcs[f] = vmcs_read_field(vcpu_field_encoding[f]);
        v->cache.valid |= VCPU_FIELD_BIT(f);
    }
    return v->regs.vmcs[f];
}

/* Writing the value the field already holds is no change: nothing to write back. */
static inline void vcpu_set_field(struct vcpu *v, enum vcpu_field f, uint64_t value)
{
    if ((v->cache.valid & VCPU_FIELD_BIT(f)) && v->regs.vmcs[f] == value)
        return;
    v->regs.vmcs[f] = value;
    v->cache.valid |= VCPU_FIELD_BIT(f);
    v->cache.dirty |= VCPU_FIELD_BIT(f);
}

static inline uint32_t vcpu_exit_reason(struct vcpu *v)
{
    return (uint32_t)vcpu_field(v, VCPU_EXIT_REASON);
}
static inline uint64_t vcpu_exit_qualification(struct vcpu *v)
{
    return vcpu_field(v, VCPU_EXIT_QUALIFICATION);
}
static inline uint32_t vcpu_instruction_len(struct vcpu *v)
{
    return (uint32_t)vcpu_field(v, VCPU_INSTRUCTION_LEN);
}
static inline uint64_t vcpu_rip(struct vcpu *v)
{
    return vcpu_field(v, VCPU_RIP);
}
static inline uint64_t vcpu_rflags(struct vcpu *v)
{
    return vcpu_field(v, VCPU_RFLAGS);
}
static inline uint32_t vcpu_interruptibility(struct vcpu *v)
{
    return (uint32_t)vcpu_field(v, VCPU_INTERRUPTIBILITY);
}
static inline uint64_t vcpu_efer(struct vcpu *v)
{
    return vcpu_field(v, VCPU_EFER);
}

uint64_t vcpu_reg(struct vcpu *v, unsigned reg); /* RSP comes from the VMCS (cached) */
void vcpu_set_reg(struct vcpu *v, unsigned reg, uint64_t value);
/*
 * The guest completed the instruction that exited: RIP advances by its length (wrapping at
 * 32 bits outside 64-bit mode), RFLAGS.RF is cleared, STI and MOV-SS blocking end (SDM vol. 3
 * §27.3.1.5), and with RFLAGS.TF set the single-step trap the instruction owes becomes a pending
 * debug exception (BS, §25.4.2 "Guest Non-Register State"), delivered as #DB after VM entry.
 */
void vcpu_skip_instruction(struct vcpu *v);
/* One iteration of an emulated REP string instruction is done, the instruction is not (RIP stays
   on it): with RFLAGS.TF the single-step #DB is made pending now, as the CPU traps after every
   iteration (SDM vol. 3 §18.3.1.4, "Single-Step Exception Condition"). */
void vcpu_iteration_done(struct vcpu *v);
/* The same for an instruction of `len` bytes hv decoded itself (MMIO emulation). */
void vcpu_advance_rip(struct vcpu *v, unsigned len);
static inline int vcpu_cpl(struct vcpu *v) /* from the guest's SS access rights */
{
    return (int)((vcpu_field(v, VCPU_SS_AR) >> SEG_AR_DPL_SHIFT) & 3);
}
/* 64-bit mode (§3.4.5): IA-32e mode (EFER.LMA) with CS.L set. */
bool vcpu_in_64bit_mode(struct vcpu *v);
/* CR0/CR4 as the guest sees them (§25.6.6): hv-owned bits (guest/host mask) from the read
   shadow, the rest from the real register. */
uint64_t vcpu_visible_cr0(struct vcpu *v);
uint64_t vcpu_visible_cr4(struct vcpu *v);
/* Enables or disables interrupt- and NMI-window exiting (only a VMWRITE when it changes). */
void vcpu_set_window_exiting(struct vcpu *v, uint32_t bits, bool on);

/* Drops the vCPU's VPID-tagged translations (SDM vol. 3 §29.4.3.3), as the guest's own MOV to CR,
   or an INIT, would have dropped them from a real TLB. */
void vcpu_flush_guest_tlb(const struct vcpu *v);

/* Event injection (SDM §27.6): queued, delivered at the next entry the guest can take it. */
void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error_code, uint32_t error);
void vcpu_inject_gp0(struct vcpu *v);
void vcpu_inject_ud(struct vcpu *v);
/* Before entry: re-inject the delivery the last exit interrupted (its IDT-vectoring
   information) first, then the queue's head. */
void vcpu_deliver_events_slow(struct vcpu *v);
static inline void vcpu_deliver_events(struct vcpu *v)
{
    /* The common entry: nothing interrupted, nothing queued, no window exiting to turn off. */
    if (!(vcpu_field(v, VCPU_IDT_VECTORING_INFO) & INTR_INFO_VALID) && !v->event_count &&
        !v->lapic && !(vcpu_field(v, VCPU_PROC_CTLS) & PROC_INT_WINDOW_EXITING))
        return;
    vcpu_deliver_events_slow(v);
}
