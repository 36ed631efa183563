/* vCPU register access and event injection (SDM vol. 3 §27.6 "Event injection"). */
#include "vmx/vcpu/vcpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu_apicv.h"
#include "vmx/vcpu/vcpu_intr.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_arch.h"
#include "vmx/cpu/vmx_ops.h"

#define PENDING_DBG_BS (1ull << 14) /* single step (SDM vol. 3 §25.4.2, Table 25-4) */
#define LOW32          0xFFFFFFFFull

const enum vmcs_field vcpu_field_encoding[VCPU_FIELD_COUNT] = {
    [VCPU_EXIT_REASON] = VMCS_EXIT_REASON,
    [VCPU_EXIT_QUALIFICATION] = VMCS_EXIT_QUALIFICATION,
    [VCPU_INSTRUCTION_LEN] = VMCS_EXIT_INSTRUCTION_LEN,
    [VCPU_IDT_VECTORING_INFO] = VMCS_IDT_VECTORING_INFO,
    [VCPU_IDT_VECTORING_ERROR] = VMCS_IDT_VECTORING_ERROR_CODE,
    [VCPU_RIP] = VMCS_GUEST_RIP,
    [VCPU_RSP] = VMCS_GUEST_RSP,
    [VCPU_RFLAGS] = VMCS_GUEST_RFLAGS,
    [VCPU_INTERRUPTIBILITY] = VMCS_GUEST_INTERRUPTIBILITY,
    [VCPU_CS_AR] = VMCS_GUEST_CS_AR,
    [VCPU_SS_AR] = VMCS_GUEST_SS_AR,
    [VCPU_CR0] = VMCS_GUEST_CR0,
    [VCPU_CR3] = VMCS_GUEST_CR3,
    [VCPU_CR4] = VMCS_GUEST_CR4,
    [VCPU_EFER] = VMCS_GUEST_EFER,
    [VCPU_PROC_CTLS] = VMCS_PROC_BASED_CTLS,
    [VCPU_CR0_MASK] = VMCS_CR0_GUEST_HOST_MASK,
    [VCPU_CR4_MASK] = VMCS_CR4_GUEST_HOST_MASK,
    [VCPU_CR0_SHADOW] = VMCS_CR0_READ_SHADOW,
    [VCPU_CR4_SHADOW] = VMCS_CR4_READ_SHADOW,
};

void vcpu_cache_init(struct vcpu *v)
{
    v->cache.dirty = 0;
    v->cache.valid = VCPU_FIELDS_EXIT_INFO;
    for (unsigned f = 0; f < VCPU_FIELD_COUNT; f++)
        v->regs.vmcs[f] = 0;
}

uint64_t vcpu_reg(struct vcpu *v, unsigned reg)
{
    if (reg == REG_RSP)
        return vcpu_field(v, VCPU_RSP);
    return v->regs.gpr[reg & (REG_COUNT - 1)];
}

void vcpu_set_reg(struct vcpu *v, unsigned reg, uint64_t value)
{
    if (reg == REG_RSP)
        vcpu_set_field(v, VCPU_RSP, value);
    else
        v->regs.gpr[reg & (REG_COUNT - 1)] = value;
}

/* A trap-class #DB after the instruction (SDM vol. 3 §18.3.1.4 "Single-Step Exception
   Condition"): VM entry delivers a pending BS as #DB once the guest could take it (§27.7.3). */
static void make_single_step_pending(void)
{
    uint64_t pending = vmcs_readnat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
    vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, pending | PENDING_DBG_BS);
}

/* RF, TF, STI or MOV-SS blocking: what an instruction's completion changes besides RIP. */
static void complete_instruction_state(struct vcpu *v, uint64_t rflags, uint32_t intr)
{
    if (rflags & RFLAGS_TF)
        make_single_step_pending();
    /* RF suppresses instruction breakpoints for one instruction only: a completed instruction
       clears it (§18.3.1.1, as a CPU does; Xen's update_guest_eip, KVM's skip path). */
    if (rflags & RFLAGS_RF)
        vcpu_set_field(v, VCPU_RFLAGS, rflags & ~RFLAGS_RF);
    /* Completing an instruction ends STI and MOV-SS blocking (SDM §27.3.1.5, §26.4.2). */
    if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vcpu_set_field(v, VCPU_INTERRUPTIBILITY,
                       intr & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

void vcpu_iteration_done(struct vcpu *v)
{
    if (vcpu_rflags(v) & RFLAGS_TF)
        make_single_step_pending();
}

void vcpu_skip_instruction(struct vcpu *v)
{
    vcpu_advance_rip(v, vcpu_instruction_len(v));
}

void vcpu_advance_rip(struct vcpu *v, unsigned len)
{
    uint64_t rip = vcpu_rip(v) + len;
    /* Outside 64-bit mode (IA-32e mode and CS.L, §3.4.5) EIP wraps at 32 bits. Only a RIP past
       4 GiB needs the mode: the common case costs no extra VMREADs. */
    if (rip > LOW32 && !vcpu_in_64bit_mode(v))
        rip &= LOW32;
    vcpu_set_field(v, VCPU_RIP, rip);
    uint64_t rflags = vcpu_rflags(v);
    uint32_t intr = vcpu_interruptibility(v);
    if (__builtin_expect((rflags & (RFLAGS_TF | RFLAGS_RF)) ||
                             (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)),
                         0))
        complete_instruction_state(v, rflags, intr);
}

static uint64_t visible_cr(struct vcpu *v, enum vcpu_field real, enum vcpu_field shadow,
                           enum vcpu_field mask)
{
    uint64_t owned = vcpu_field(v, mask);
    return (vcpu_field(v, real) & ~owned) | (vcpu_field(v, shadow) & owned);
}

uint64_t vcpu_visible_cr0(struct vcpu *v)
{
    return visible_cr(v, VCPU_CR0, VCPU_CR0_SHADOW, VCPU_CR0_MASK);
}

uint64_t vcpu_visible_cr4(struct vcpu *v)
{
    return visible_cr(v, VCPU_CR4, VCPU_CR4_SHADOW, VCPU_CR4_MASK);
}

bool vcpu_in_64bit_mode(struct vcpu *v)
{
    return (vcpu_efer(v) & EFER_LMA) && (vcpu_field(v, VCPU_CS_AR) & SEG_AR_L);
}

enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT, EXC_DOUBLE_FAULT };

/* SDM vol. 3 §6.15, Table 6-4/6-5: which exceptions combine into #DF. */
static enum exc_class exception_class(unsigned vector)
{
    switch (vector) {
    case EXC_DE:
    case EXC_TS:
    case EXC_NP:
    case EXC_SS:
    case EXC_GP:
        return EXC_CONTRIBUTORY;
    case EXC_PF:
        return EXC_PAGE_FAULT;
    case EXC_DF:
        return EXC_DOUBLE_FAULT;
    default:
        return EXC_BENIGN;
    }
}

/* The class of a second fault raised while the first is being delivered gives #DF, a triple
   fault, or just the second exception (delivered after the first, serially). */
enum exc_combination { EXC_SERIAL, EXC_ESCALATE_DF, EXC_ESCALATE_TRIPLE };

static enum exc_combination combine_exceptions(unsigned first, unsigned second)
{
    enum exc_class a = exception_class(first), b = exception_class(second);
    if (a == EXC_DOUBLE_FAULT && (b == EXC_CONTRIBUTORY || b == EXC_PAGE_FAULT))
        return EXC_ESCALATE_TRIPLE;
    if ((a == EXC_CONTRIBUTORY && b == EXC_CONTRIBUTORY) ||
        (a == EXC_PAGE_FAULT && (b == EXC_CONTRIBUTORY || b == EXC_PAGE_FAULT)))
        return EXC_ESCALATE_DF;
    return EXC_SERIAL;
}

static bool is_exception_type(uint8_t type)
{
    return type == INTR_TYPE_HW_EXCEPTION;
}

static void queue_event(struct vcpu *v, struct vcpu_event ev)
{
    if (v->event_count == VCPU_EVENT_QUEUE) {
        guest_end(v->guest, "killed(event queue overflow)");
        return;
    }
    v->events[v->event_count++] = ev;
}

void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error_code, uint32_t error)
{
    struct vcpu_event ev = {(uint8_t)vector, INTR_TYPE_HW_EXCEPTION, has_error_code, error, 0};
    /* A second exception while one is still pending escalates like a fault during delivery. */
    if (v->event_count && is_exception_type(v->events[0].type)) {
        enum exc_combination combined = combine_exceptions(v->events[0].vector, vector);
        if (combined == EXC_ESCALATE_TRIPLE) {
            guest_end(v->guest, "triple-fault");
            return;
        }
        if (combined == EXC_ESCALATE_DF) {
            v->events[0] = (struct vcpu_event){EXC_DF, INTR_TYPE_HW_EXCEPTION, true, 0, 0};
            return;
        }
    }
    queue_event(v, ev);
}

void vcpu_inject_gp0(struct vcpu *v)
{
    vcpu_inject_exception(v, EXC_GP, true, 0);
}

void vcpu_inject_ud(struct vcpu *v)
{
    vcpu_inject_exception(v, EXC_UD, false, 0);
}

static bool guest_can_take_interrupt(struct vcpu *v)
{
    return (vcpu_rflags(v) & RFLAGS_IF) &&
           !(vcpu_interruptibility(v) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

static void write_entry_event(struct vcpu *v, const struct vcpu_event *ev)
{
    uint32_t info = ev->vector | ((uint32_t)ev->type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
    /* Real mode pushes no error code: VM entry requires the bit clear when CR0.PE = 0. */
    if (ev->has_error_code && (vcpu_field(v, VCPU_CR0) & CR0_PE)) {
        info |= INTR_INFO_ERROR_CODE_VALID;
        vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, ev->error_code);
    }
    if (ev->instr_len)
        vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN, ev->instr_len);
    vmcs_write32(VMCS_ENTRY_INTR_INFO, info);
}

void vcpu_set_window_exiting(struct vcpu *v, uint32_t bits, bool on)
{
    uint32_t proc = (uint32_t)vcpu_field(v, VCPU_PROC_CTLS);
    uint32_t want = on ? proc | bits : proc & ~bits;
    if (want != proc)
        vcpu_set_field(v, VCPU_PROC_CTLS, want);
}

/* The event whose delivery the last VM exit interrupted (§28.2.4), exactly as it was. */
static struct vcpu_event interrupted_event(struct vcpu *v, uint32_t idt_info)
{
    struct vcpu_event ev = {(uint8_t)(idt_info & INTR_INFO_VECTOR_MASK),
                            (uint8_t)((idt_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT),
                            (idt_info & INTR_INFO_ERROR_CODE_VALID) != 0, 0, 0};
    if (ev.has_error_code)
        ev.error_code = (uint32_t)vcpu_field(v, VCPU_IDT_VECTORING_ERROR);
    if (ev.type == INTR_TYPE_SW_INTERRUPT || ev.type == INTR_TYPE_SW_EXCEPTION ||
        ev.type == INTR_TYPE_PRIV_SW_EXCEPTION)
        ev.instr_len = vcpu_instruction_len(v);
    return ev;
}

/* No exception or NMI waits: an external interrupt from the virtual PC's controllers is
   acknowledged and injected when the guest can take it; otherwise the interrupt window is
   awaited (SDM vol. 3 "Interrupt-Window Exiting and Virtual-Interrupt Delivery"). */
static void deliver_external_interrupt(struct vcpu *v)
{
    if (!vcpu_external_interrupt_pending(v)) {
        vcpu_set_window_exiting(v, PROC_INT_WINDOW_EXITING, false);
        return;
    }
    if (!guest_can_take_interrupt(v)) {
        vcpu_set_window_exiting(v, PROC_INT_WINDOW_EXITING, true); /* exit when it can (§26.7.5) */
        return;
    }
    int vector = vcpu_ack_external_interrupt(v);
    vcpu_set_window_exiting(v, PROC_INT_WINDOW_EXITING, false);
    if (vector < 0)
        return;
    v->halted = false;
    struct vcpu_event ev = {(uint8_t)vector, INTR_TYPE_EXT_INTERRUPT, false, 0, 0};
    write_entry_event(v, &ev);
}

static void deliver_events(struct vcpu *v)
{
    uint32_t idt_info = (uint32_t)vcpu_field(v, VCPU_IDT_VECTORING_INFO);
    if (idt_info & INTR_INFO_VALID) {
        struct vcpu_event ev = interrupted_event(v, idt_info);
        write_entry_event(v, &ev);
        return;
    }
    if (vcpu_take_nmi(v)) {
        v->halted = v->halted_irq_off = false; /* the NMI resumes a HLT */
        queue_event(v, (struct vcpu_event){EXC_NMI, INTR_TYPE_NMI, false, 0, 0});
    }
    if (!v->event_count) {
        deliver_external_interrupt(v);
        return;
    }
    struct vcpu_event *head = &v->events[0];
    if (head->type == INTR_TYPE_EXT_INTERRUPT && !guest_can_take_interrupt(v)) {
        vcpu_set_window_exiting(v, PROC_INT_WINDOW_EXITING, true); /* exit when it can (§26.7.5) */
        return;
    }
    if (head->type == INTR_TYPE_NMI &&
        (vcpu_interruptibility(v) & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOV_SS))) {
        /* Injecting an NMI under MOV-SS blocking is invalid (§27.3.1.5). NMI-window exiting
           exists only with virtual NMIs (§27.2.1.1); without them the NMI waits for the next
           exit. */
        if (vmx_config.virtual_nmis)
            vcpu_set_window_exiting(v, PROC_NMI_WINDOW_EXITING, true);
        return;
    }
    write_entry_event(v, head);
    v->event_count--;
    for (unsigned i = 0; i < v->event_count; i++)
        v->events[i] = v->events[i + 1];
}

void vcpu_deliver_events_slow(struct vcpu *v)
{
    deliver_events(v);
    /* After delivery: the accepted vector is in ISR, which the virtual-APIC page shows. */
    if (vcpu_has_apicv(v))
        vcpu_apicv_before_entry(v);
}

/* Single-context INVVPID is a requirement checked at VMX init: a failure is an hv bug. */
void vcpu_flush_guest_tlb(const struct vcpu *v)
{
    if (v->vpid == 0)
        return; /* no VPID: every VM entry and exit flushes anyway */
    if (vmx_invvpid(INVVPID_SINGLE_CONTEXT, v->vpid, 0) != VMX_OK)
        panic("INVVPID single-context failed for VPID %u", (unsigned)v->vpid);
}
