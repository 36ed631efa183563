/* Guest-visible CPU model shared by the CPUID and XSETBV handlers. */
#pragma once
#include <stdint.h>
#include "kernel/lib/hw.h"
#include "vmx/vcpu/vcpu.h"

extern uint64_t guest_tsc_khz;
/* XCR0 bits a guest may set: hv's policy intersected with what the host supports. */
uint64_t xcr0_guest_supported(void);
void cpuid_for_guest(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);
