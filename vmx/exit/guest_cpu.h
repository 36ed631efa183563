/* Guest-visible CPUID, as the CPUID exit answers it (vmx/exit/exit_cpuid.c). */
#pragma once
#include <stdint.h>
#include "kernel/lib/hw.h"
#include "vmx/vcpu/vcpu.h"

/* The VM's CPU model (v->guest->cpu) with the vCPU's APIC id, CR4.OSXSAVE, topology and
   XSAVE size for its XCR0. */
void cpuid_for_guest(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);
