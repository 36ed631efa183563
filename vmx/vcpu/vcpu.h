/* A virtual CPU: its VMCS, saved registers, pending events and exit statistics. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "mm/buddy.h"
#include "vmx/cpu/entry.h"
#include "vmx/cpu/vmx_arch.h"

#define VCPU_EVENT_QUEUE 8

struct vcpu_event {
    uint8_t vector;
    uint8_t type; /* enum intr_type */
    bool has_error_code;
    uint32_t error_code;
    uint32_t instr_len; /* software interrupts and exceptions */
};

struct guest;
struct vlapic;

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
        /* SYSCALL/SWAPGS/RDTSCP MSRs: virtual only, the real MSRs keep hv's values. */
        uint64_t kernel_gs_base, star, lstar, cstar, fmask, tsc_aux;
        uint64_t spec_ctrl, tsc_adjust; /* virtual, never reach the hardware */
        uint64_t mtrr_def_type;
        uint64_t mtrr_var[16];   /* PHYSBASE0, PHYSMASK0, ... PHYSBASE7, PHYSMASK7 */
        uint64_t mtrr_fixed[11]; /* FIX64K_00000, FIX16K_80000/A0000, FIX4K_C0000 ... F8000 */
    } msr;
    uint64_t cr8; /* task priority (vmx/exit/exit_cr.c): no TPR shadow, so CR8 stays virtual */
    struct vlapic *lapic; /* its local APIC (virtual PC guests); NULL for hv-ABI guests */
    bool halted;          /* in HLT with interrupts enabled: waits for an interrupt */
};

uint64_t vcpu_reg(const struct vcpu *v, unsigned reg); /* RSP comes from the VMCS */
void vcpu_set_reg(struct vcpu *v, unsigned reg, uint64_t value);
/* Advances RIP by VM_EXIT_INSTRUCTION_LEN and clears STI/MOV-SS blocking (SDM §27.3.1.5). */
void vcpu_skip_instruction(struct vcpu *v);
/* The same for an instruction of `len` bytes hv decoded itself (MMIO emulation). */
void vcpu_advance_rip(struct vcpu *v, unsigned len);
int vcpu_cpl(void); /* from the guest's SS access rights */
/* 64-bit mode: IA-32e mode (the entry control mirrors EFER.LMA) with CS.L set. */
bool vcpu_in_64bit_mode(void);
/* CR0/CR4 as the guest sees them (§25.6.6): hv-owned bits (guest/host mask) from the read
   shadow, the rest from the real register. The VMCS is the only copy. */
uint64_t vcpu_visible_cr0(void);
uint64_t vcpu_visible_cr4(void);

/* Event injection (SDM §27.6): queued, delivered at the next entry the guest can take it. */
void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error_code, uint32_t error);
void vcpu_inject_gp0(struct vcpu *v);
void vcpu_inject_ud(struct vcpu *v);
/* Before entry: re-inject an interrupted delivery first, then the queue's head. */
void vcpu_deliver_events(struct vcpu *v, uint32_t idt_info, uint32_t idt_error);
