/*
 * The CPU a VM's guest sees: its CPUID answers, the XCR0 bits XSETBV accepts, the optional MSRs
 * that exist, and the TSC frequency it is told. Built once per VM, at creation, from the host's
 * CPUID and hv's VMX controls (cpu_model_build); the exit handlers only read it, so no exit
 * executes a host CPUID (under nested virtualisation each one would be an exit of its own).
 * The few per-vCPU parts (APIC id, CR4.OSXSAVE, topology, the XSAVE size for the vCPU's own
 * XCR0) are added by the CPUID handler (vmx/exit/exit_cpuid.c).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "kernel/lib/hw.h"

#define CPU_MODEL_BASIC_LEAVES 0x28 /* leaves 0 .. 0x27: beyond every leaf the SDM defines */
#define CPU_MODEL_EXT_LEAVES   0x30 /* 0x80000000 .. 0x8000002F */
#define CPU_MODEL_SUBLEAVES    16   /* subleaves probed of a leaf other than 0xD (0x18: 9+) */
#define CPU_MODEL_XSAVE_PARTS  64   /* leaf 0xD: subleaf i describes XSAVE component i (0..63) */
#define CPU_MODEL_ANSWERS      128 /* stored answers, all leaves together (a Sapphire Rapids: ~75) */

/* Where a leaf's answers are in cpu_model.answer. A leaf whose answer depends on the subleaf
   (ECX) is `indexed`: subleaves 0 .. count-1 are stored and any other reads as zeros, as an
   invalid subleaf does (SDM vol. 2A, CPUID). Any other leaf has one answer for every ECX. */
struct cpu_model_leaf {
    uint16_t first;
    uint8_t count;
    bool indexed;
};

/* The optional MSRs that exist because CPUID, as this guest sees it, enumerates them
   (SDM vol. 4, each MSR's "if CPUID..." condition); without it RDMSR/WRMSR raise #GP. */
struct cpu_model_msrs {
    bool spec_ctrl;  /* IA32_SPEC_CTRL: CPUID.7.0:EDX IBRS, STIBP or SSBD */
    bool tsc_adjust; /* IA32_TSC_ADJUST: CPUID.7.0:EBX[1] */
};

struct cpu_model {
    uint32_t basic_max; /* the guest's highest basic leaf, CPUID.0:EAX */
    uint32_t ext_max;   /* the guest's highest extended leaf, CPUID.80000000H:EAX (0: none) */
    struct cpu_model_leaf basic[CPU_MODEL_BASIC_LEAVES];
    struct cpu_model_leaf ext[CPU_MODEL_EXT_LEAVES];
    struct cpuid_regs answer[CPU_MODEL_ANSWERS];
    unsigned answers;
    /* A leaf in no range hv models answers as the host does for the first leaf past hv's
       hypervisor range: on an Intel CPU every such leaf returns the highest basic leaf's data
       for the subleaf asked (SDM vol. 2A, CPUID), unfiltered as before this table existed. */
    struct cpu_model_leaf out_of_range;
    uint64_t xcr0_mask; /* XCR0 bits a guest may set: hv's policy and the host's support */
    /* Offset + size of XSAVE component i in the standard format (host CPUID.(0xD,i)), for
       the XSAVE area size of any XCR0 value without a CPUID (leaf 0xD subleaf 0 EBX). */
    uint32_t xsave_end[CPU_MODEL_XSAVE_PARTS];
    struct cpu_model_msrs msr;
    uint64_t tsc_khz; /* reported in HV_ABI_CPUID_TIMING and HC_INFO; 0 = unknown */
};

/* Builds the model from the host's CPUID and vmx_config (call after VMX is set up). */
void cpu_model_build(struct cpu_model *m, uint64_t tsc_khz);
/* What a virtual-PC guest's CPU adds (call after cpu_model_build): the local APIC, x2APIC and
   the TSC-deadline timer it has; the TSC frequency in leaves 0x15/0x16, so the guest needs no
   PIT calibration and its APIC timer runs on the crystal clock 0x15 names (the TSC); no machine
   check architecture (hv intercepts #MC and emulates no MCA banks), no thermal and power
   management (leaf 6) and no ARCH_CAPABILITIES MSR, whose MSRs hv does not emulate. Returns -1 when
   the table has no room for the leaves. */
int cpu_model_virtual_pc(struct cpu_model *m);
/* Leaves past the basic range: hv's hypervisor leaves, the extended range, out of range. */
void cpu_model_cpuid_other(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf,
                           struct cpuid_regs *r);

/* A stored leaf's answer for `subleaf`. */
static inline void cpu_model_answer(const struct cpu_model *m, const struct cpu_model_leaf *l,
                                    uint32_t subleaf, struct cpuid_regs *r)
{
    uint32_t i = l->indexed ? subleaf : 0;
    if (i < l->count)
        *r = m->answer[l->first + i];
    else
        *r = (struct cpuid_regs){0, 0, 0, 0};
}

/* The VM's answer to CPUID(leaf, subleaf), before the per-vCPU parts. Inline, because for a
   basic leaf this is the CPUID exit's whole lookup: a bounds check and a copy. */
static inline void cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf,
                                   struct cpuid_regs *r)
{
    if (leaf <= m->basic_max)
        cpu_model_answer(m, &m->basic[leaf], subleaf, r);
    else
        cpu_model_cpuid_other(m, leaf, subleaf, r);
}
/* Size in bytes of the XSAVE area (standard format) holding the components set in xcr0. */
uint32_t cpu_model_xsave_size(const struct cpu_model *m, uint64_t xcr0);
