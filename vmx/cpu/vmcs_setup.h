/* Filling a new VMCS: controls, host state (from the live CPU) and guest entry state. */
#pragma once
#include <stdint.h>
#include "mm/buddy.h"

enum guest_cpu_mode;

/* What the controls point at: the VM's bitmaps, its EPT and the vCPU's VPID. */
struct vmcs_vm_resources {
    paddr_t io_bitmap[2], msr_bitmap;
    uint64_t ept_pointer;
    uint16_t vpid;
};

/* Writes the execution, exit and entry controls into the current VMCS. */
void vmcs_setup_controls(const struct vmcs_vm_resources *r);
void vmcs_setup_host(void);
/* Guest state for one of the three entry modes (SDM §28.3.1 checks). */
void vmcs_setup_guest_real(uint64_t entry);
void vmcs_setup_guest_prot32(uint64_t entry);
/* A GDT the guest's boot loader built (NULL: hv's flat selectors 0x08/0x10, GDTR empty). */
struct vmcs_boot_gdt {
    uint64_t base;
    uint32_t limit;
    uint16_t cs_selector, ds_selector;
};
void vmcs_setup_guest_long64(uint64_t entry, uint64_t cr3, const struct vmcs_boot_gdt *gdt);
/* CR0/CR4 values the guest state must hold for a guest-visible value (FIXED MSRs applied). */
uint64_t vmcs_guest_cr0(uint64_t visible);
uint64_t vmcs_guest_cr4(uint64_t visible);
