/* vCPU register access and event injection (SDM vol. 3 §27.6 "Event injection"). */
#include "vmx/vcpu/vcpu.h"
#include "kernel/log.h"
#include "kernel/lib/x86.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu_intr.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx.h"

uint64_t vcpu_reg(const struct vcpu *v, unsigned reg)
{
    if (reg == REG_RSP)
        return vmcs_readnat(VMCS_GUEST_RSP);
    return v->regs.gpr[reg & (REG_COUNT - 1)];
}

void vcpu_set_reg(struct vcpu *v, unsigned reg, uint64_t value)
{
    if (reg == REG_RSP)
        vmcs_writenat(VMCS_GUEST_RSP, value);
    else
        v->regs.gpr[reg & (REG_COUNT - 1)] = value;
}

void vcpu_skip_instruction(struct vcpu *v)
{
    vcpu_advance_rip(v, vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
}

void vcpu_advance_rip(struct vcpu *v, unsigned len)
{
    (void)v;
    uint64_t rip = vmcs_readnat(VMCS_GUEST_RIP) + len;
    /* Outside 64-bit mode (IA-32e mode and CS.L, §3.4.5) EIP wraps at 32 bits. Only a RIP past
       4 GiB needs the mode: the common case costs no extra VMREADs. */
    if (rip > 0xFFFFFFFFull && !vcpu_in_64bit_mode())
        rip &= 0xFFFFFFFFull;
    vmcs_writenat(VMCS_GUEST_RIP, rip);
    /* Completing an instruction ends STI and MOV-SS blocking (SDM §27.3.1.5, §26.4.2). */
    uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY,
                     intr & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

static uint64_t visible_cr(enum vmcs_field real, enum vmcs_field shadow, enum vmcs_field mask)
{
    uint64_t owned = vmcs_readnat(mask);
    return (vmcs_readnat(real) & ~owned) | (vmcs_readnat(shadow) & owned);
}

uint64_t vcpu_visible_cr0(void)
{
    return visible_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, VMCS_CR0_GUEST_HOST_MASK);
}

uint64_t vcpu_visible_cr4(void)
{
    return visible_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, VMCS_CR4_GUEST_HOST_MASK);
}

bool vcpu_in_64bit_mode(void)
{
    return (vmcs_read32(VMCS_ENTRY_CTLS) & ENTRY_IA32E_MODE_GUEST) &&
           (vmcs_read32(VMCS_GUEST_CS_AR) & SEG_AR_L);
}

int vcpu_cpl(void)
{
    return (int)((vmcs_read32(VMCS_GUEST_SS_AR) >> SEG_AR_DPL_SHIFT) & 3);
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

static bool guest_can_take_interrupt(void)
{
    uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
    return (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
           !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

static void write_entry_event(const struct vcpu_event *ev)
{
    uint32_t info = ev->vector | ((uint32_t)ev->type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
    /* Real mode pushes no error code: VM entry requires the bit clear when CR0.PE = 0. */
    if (ev->has_error_code && (vmcs_readnat(VMCS_GUEST_CR0) & CR0_PE)) {
        info |= INTR_INFO_ERROR_CODE_VALID;
        vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, ev->error_code);
    }
    if (ev->instr_len)
        vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN, ev->instr_len);
    vmcs_write32(VMCS_ENTRY_INTR_INFO, info);
}

static void set_window_exiting(uint32_t bit, bool on)
{
    uint32_t proc = vmcs_read32(VMCS_PROC_BASED_CTLS);
    uint32_t want = on ? proc | bit : proc & ~bit;
    if (want != proc)
        vmcs_write32(VMCS_PROC_BASED_CTLS, want);
}

/* No exception or NMI waits: an external interrupt from the virtual PC's controllers is
   acknowledged and injected when the guest can take it; otherwise the interrupt window is
   awaited (SDM vol. 3 "Interrupt-Window Exiting and Virtual-Interrupt Delivery"). */
static void deliver_external_interrupt(struct vcpu *v)
{
    if (!vcpu_external_interrupt_pending(v)) {
        set_window_exiting(PROC_INT_WINDOW_EXITING, false);
        return;
    }
    if (!guest_can_take_interrupt()) {
        set_window_exiting(PROC_INT_WINDOW_EXITING, true);
        return;
    }
    int vector = vcpu_ack_external_interrupt(v);
    set_window_exiting(PROC_INT_WINDOW_EXITING, false);
    if (vector < 0)
        return;
    v->halted = false;
    struct vcpu_event ev = {(uint8_t)vector, INTR_TYPE_EXT_INTERRUPT, false, 0, 0};
    write_entry_event(&ev);
}

void vcpu_deliver_events(struct vcpu *v, uint32_t idt_info, uint32_t idt_error)
{
    /* An event whose delivery a VM exit interrupted goes first, exactly as it was (§28.2.4). */
    if (idt_info & INTR_INFO_VALID) {
        struct vcpu_event ev = {(uint8_t)(idt_info & INTR_INFO_VECTOR_MASK),
                                (uint8_t)((idt_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT),
                                (idt_info & INTR_INFO_ERROR_CODE_VALID) != 0, idt_error, 0};
        if (ev.type == INTR_TYPE_SW_INTERRUPT || ev.type == INTR_TYPE_SW_EXCEPTION ||
            ev.type == INTR_TYPE_PRIV_SW_EXCEPTION)
            ev.instr_len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN);
        write_entry_event(&ev);
        return;
    }
    if (vcpu_take_nmi(v))
        queue_event(v, (struct vcpu_event){EXC_NMI, INTR_TYPE_NMI, false, 0, 0});
    if (!v->event_count) {
        deliver_external_interrupt(v);
        return;
    }
    struct vcpu_event *head = &v->events[0];
    if (head->type == INTR_TYPE_EXT_INTERRUPT && !guest_can_take_interrupt()) {
        set_window_exiting(PROC_INT_WINDOW_EXITING, true); /* exit when it can (§26.7.5) */
        return;
    }
    if (head->type == INTR_TYPE_NMI && (vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) &
                                        (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOV_SS))) {
        /* Injecting an NMI under MOV-SS blocking is invalid (§27.3.1.5). NMI-window exiting
           exists only with virtual NMIs (§27.2.1.1); without them the NMI waits for the next
           exit. */
        if (vmx_config.virtual_nmis)
            set_window_exiting(PROC_NMI_WINDOW_EXITING, true);
        return;
    }
    write_entry_event(head);
    v->event_count--;
    for (unsigned i = 0; i < v->event_count; i++)
        v->events[i] = v->events[i + 1];
}
