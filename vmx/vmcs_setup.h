/* Filling a new VMCS: controls, host state (from the live CPU) and guest entry state. */
#pragma once
#include <stdint.h>
#include "vmx/vm.h"

enum guest_cpu_mode;

/* Writes controls and host state into the current VMCS for `vm`. */
void vmcs_setup_controls(const struct vm *vm);
void vmcs_setup_host(void);
/* Guest state for one of the three entry modes (SDM §28.3.1 checks). */
void vmcs_setup_guest_real(uint64_t entry);
void vmcs_setup_guest_prot32(uint64_t entry);
void vmcs_setup_guest_long64(uint64_t entry, uint64_t cr3);
/* CR0/CR4 values the guest state must hold for a guest-visible value (FIXED MSRs applied). */
uint64_t vmcs_guest_cr0(uint64_t visible);
uint64_t vmcs_guest_cr4(uint64_t visible);
