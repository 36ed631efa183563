/*
 * Host-test fakes for the two hardware layers hv's logic sits on:
 *  - tests/unit/fake_vmcs.c implements vmx/cpu/vmx_ops.h (VMXON ... INVVPID) over an in-memory
 *    VMCS: every encoding is a field that reads as 0 until written, widths are honoured
 *    (16/32-bit writes truncate, the "high" access of a 64-bit field reads its upper half),
 *    VMWRITE to a read-only field fails with error 13, and encodings marked unsupported fail
 *    with VMfailValid error 12, exactly as on a CPU (SDM vol. 3 §31.4). INVEPT/INVVPID calls
 *    are recorded. Also the entry assembly (vmx_enter, vmx_exit_stub).
 *  - tests/unit/fake_hw.c implements kernel/lib/hw.h over a fake machine (MSR table, CPUID table
 *    per leaf/subleaf, CRs, XCR0, RFLAGS, TSC, port I/O log), this_cpu(), and defines
 *    vmx_caps/vmx_config (vmx/cpu/vmx.c cannot be linked on the host).
 * Call fake_vmcs_reset() and fake_hw_reset() at the start of every test.
 * A test that touches vmx_caps/vmx_config must also call fake_hw_reset() (or any fake_hw_*
 * function) so the linker takes fake_hw.o, not vmx/vmx.o, for those globals.
 */
#pragma once
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include "kernel/lib/hw.h"

/* ---- fake VMCS (vmx/cpu/vmx_ops.h) ---- */

#define FAKE_VMCS_CURRENT_PA 0x5000ull /* the VMCS fake_vmcs_reset makes current */
#define FAKE_INV_LOG         64        /* INVEPT/INVVPID calls remembered */

/* VM-instruction error numbers the fake produces (SDM vol. 3 §31.4, Table 31-1). */
enum {
    FAKE_VMERR_VMCLEAR_INVALID_PA = 2,
    FAKE_VMERR_VMPTRLD_INVALID_PA = 9,
    FAKE_VMERR_UNSUPPORTED_FIELD = 12,
    FAKE_VMERR_WRITE_READ_ONLY = 13,
    FAKE_VMERR_VMXON_IN_ROOT = 15,
    FAKE_VMERR_INVALID_INV_OPERAND = 28,
};

struct fake_inv_call {
    uint64_t type;
    uint64_t eptp; /* INVEPT */
    uint16_t vpid; /* INVVPID */
    uint64_t gla;  /* INVVPID */
};

/* Empties every field, forgets unsupported marks and recorded calls, VMX on with
   FAKE_VMCS_CURRENT_PA current. */
void fake_vmcs_reset(void);
/* Direct access, bypassing VMREAD/VMWRITE rules (read-only fields included). */
void fake_vmcs_set(uint32_t field, uint64_t v);
uint64_t fake_vmcs_get(uint32_t field);
/* True once VMWRITE succeeded on the field since the last reset (fake_vmcs_set does not count). */
bool fake_vmcs_written(uint32_t field);
/* Successful VMREADs / VMWRITEs of the field since the last reset or fake_vmcs_reset_counts(). */
unsigned fake_vmcs_reads(uint32_t field);
unsigned fake_vmcs_writes(uint32_t field);
void fake_vmcs_reset_counts(void);
/* VMREAD/VMWRITE of this encoding fail with VMfailValid error 12 (true) or work again (false). */
void fake_vmcs_set_unsupported(uint32_t field, bool unsupported);
/* No current VMCS: VMREAD/VMWRITE fail with VMfailInvalid until the next VMPTRLD. */
void fake_vmcs_clear_current(void);
uint64_t fake_vmcs_current(void); /* the current-VMCS pointer, or ~0 when none */
bool fake_vmcs_vmx_on(void);

/* Recorded INVEPT/INVVPID calls (the oldest FAKE_INV_LOG), valid or not. */
unsigned fake_vmcs_invept_count(void);
struct fake_inv_call fake_vmcs_invept_call(unsigned i);
unsigned fake_vmcs_invvpid_count(void);
struct fake_inv_call fake_vmcs_invvpid_call(unsigned i);
/* Every later INVEPT/INVVPID fails with VMfailValid error 28 (true) or succeeds (false). */
void fake_vmcs_fail_inv(bool fail);

/* vmx_enter (vmx/cpu/entry.asm) returns this status (default 0: a VM exit happened) and counts. */
void fake_vmcs_set_enter_result(int status);
unsigned fake_vmcs_enter_count(void);

/* ---- fake machine (kernel/lib/hw.h) ---- */

#define FAKE_HW_MSRS     128
#define FAKE_HW_CPUIDS   512
#define FAKE_HW_PORT_LOG 256

struct fake_port_io {
    uint16_t port;
    uint8_t size; /* bytes: 1, 2, 4 */
    bool out;
    uint32_t value;
};

/* Registers and counters tests read and write directly. */
struct fake_hw_state {
    uint64_t cr0, cr2, cr3, cr4, xcr0, rflags;
    uint64_t tsc, tsc_step; /* hw_rdtsc returns tsc, then adds tsc_step */
    unsigned msr_writes;    /* hw_wrmsr calls since reset */
    unsigned cr_writes;     /* hw_write_cr0/3/4 calls */
    unsigned xcr0_writes;
    unsigned pauses, invlpgs;
    uintptr_t last_invlpg;
    unsigned unknown_msr_reads; /* hw_rdmsr of an MSR never set (a #GP on a real CPU) */
    unsigned cpuid_calls;       /* hw_cpuid calls since reset */
    uint64_t dr[8];             /* DR0-DR3 and DR6 (hw_read_drN/hw_write_drN); 4, 5, 7 unused */
    unsigned dr_reads, dr_writes;
    unsigned lapic_eois; /* kernel/lapic.h lapic_eoi calls */
    unsigned kicks[8];   /* kernel/smp.h smp_kick calls, per hv CPU (MAX_CPUS) */
    unsigned cpu_count;  /* smp_cpu_count(); 0 reads as 1 */
};
extern struct fake_hw_state fake_hw;
/* hw_halt_forever longjmps here when set, else aborts the test program. */
extern jmp_buf *fake_hw_halt_jmp;

/* Zeroes the machine: no MSRs, no CPUID leaves, port inputs read 0xFF..., empty log,
   vmx_caps/vmx_config zeroed, and frame allocations (tests/unit/fake_frames.c) never failing. */
void fake_hw_reset(void);
/* hw_cpuid(leaf, subleaf) returns regs; unset leaves read as zeros. Exact (leaf, subleaf) match. */
void fake_hw_set_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs regs);
void fake_hw_set_msr(uint32_t msr, uint64_t v);
uint64_t fake_hw_get_msr(uint32_t msr); /* 0 for an MSR never set */
bool fake_hw_has_msr(uint32_t msr);
/* What hw_in{b,w,l}(port) returns (truncated to the access size); default all ones. */
void fake_hw_set_port_input(uint16_t port, uint32_t v);
unsigned fake_hw_port_log_count(void);
struct fake_port_io fake_hw_port_log(unsigned i); /* the oldest FAKE_HW_PORT_LOG accesses */

/* ---- the scheduler's kick (vmx/vm/sched.h sched_kick_vcpu; tests/unit/fake_hw.c) ---- */

#define FAKE_KICK_LOG 32
struct vcpu;
/* Every sched_kick_vcpu call since fake_hw_reset: the first FAKE_KICK_LOG vCPUs, in order. */
struct fake_kicks {
    unsigned count;
    struct vcpu *vcpu[FAKE_KICK_LOG];
};
extern struct fake_kicks fake_kicks;

/* ---- test VMs ---- */
struct vm;
struct vcpu;
/* The common start of a handler test: resets the fake VMCS, machine and log, zeroes `vm`, names
   it, links its vCPU (and marks it as having no EPT), gives it the CPU model of the (empty)
   fake machine and the vCPU its power-on MSRs, as vm_create does. Returns the vCPU. */
struct vcpu *fake_vm_reset(struct vm *vm, const char *name);
/* fake_vm_reset for a virtual PC with `vcpus` vCPUs (ids 0..vcpus-1) and its devices wired by
   vm_devices_init, as vm_create does. Returns vCPU 0, or NULL when the devices failed. */
struct vcpu *fake_vm_pc(struct vm *vm, const char *name, unsigned vcpus);
/* Rebuilds the VM's CPU model (vm_create's step) from the fake machine's CPUID table and
   vmx_config as they are now: call after changing either. */
void fake_vm_cpu_model(struct vm *vm, uint64_t tsc_khz);
/* One VM exit as the run loop (vmx/vm/sched.c) makes it: a new exit for the vCPU's cache, the
   handler, and the write-back of what it changed (as just before the next VM entry). */
void fake_vcpu_exit(struct vcpu *v, void (*handler)(struct vcpu *v));
/* Empties the vCPU's VMCS cache (fake_vcpu_exit does): the next reads see the fake VMCS. */
void fake_vcpu_forget(struct vcpu *v);
/* The same through exit_dispatch (the reason the run loop read from the VMCS). */
void fake_vcpu_dispatch(struct vcpu *v, uint32_t exit_reason);
/* Gives `vm` guest RAM [0, size) backed by one host buffer (paddr = host address). */
void fake_vm_ram(struct vm *vm, void *ram, uint64_t size);
