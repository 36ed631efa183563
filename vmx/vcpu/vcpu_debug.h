/*
 * A vCPU's debug registers DR0-DR3 and DR6 (SDM vol. 3 §18.2 "Debug Registers"). Guests' MOV DR
 * does not exit (no "MOV-DR exiting"), so while a vCPU runs the CPU holds its values: the
 * scheduler loads them when it switches to the vCPU and saves them when it switches away, so one
 * guest's breakpoint addresses and debug status never reach another. DR7 and IA32_DEBUGCTL are
 * not here: the VMCS holds them (the "load debug controls" entry control, SDM vol. 3 "Loading
 * Guest Control Registers, Debug Registers, and MSRs"; the "save debug controls" exit control,
 * "Saving Control Registers, Debug Registers, and MSRs"), and a VM exit sets DR7 to 0x400
 * (§28.5.1), so no breakpoint of a guest can fire in hv.
 */
#pragma once
#include "vmx/vcpu/vcpu.h"

/* The values after RESET (SDM vol. 3 Table 10-1): DR0-DR3 = 0, DR6 = 0xFFFF0FF0. */
void vcpu_debug_reset(struct vcpu *v);
/* Into the CPU, on the switch to the vCPU. */
void vcpu_debug_load(const struct vcpu *v);
/* Back into the vCPU (its guest may have changed them without exiting), on the switch away. */
void vcpu_debug_save(struct vcpu *v);
