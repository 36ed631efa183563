/* VMX detection, enabling (VMXON) and per-CPU VMX state. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "mm/buddy.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmx_caps.h"

/* One CPU's VMX state (this_cpu()->vmx). */
struct vmx_cpu {
    paddr_t vmxon_region;
    bool on;
    struct vmcs_error_record vmcs_err; /* vmx/cpu/vmcs.c */
};

extern struct vmx_caps vmx_caps;
extern struct vmx_config vmx_config;

/* Returns 0 when the CPU reports VMX at all, else -1 with `why` ("VMX not supported ..."). */
int vmx_check_support(char *why, size_t size);
/* BSP, once: checks IA32_FEATURE_CONTROL, reads the capability MSRs, checks every required
   feature and adjusts the controls (vmx_config). Returns 0 or -1 with `why`. */
int vmx_init(char *why, size_t size);
/* On an AP, after vmx_init ran on the BSP: VMX support, IA32_FEATURE_CONTROL, and the same VMX
   capability MSRs as the BSP's. Returns 0, or -1 with `why` naming the first MSR that differs. */
int vmx_init_ap(char *why, size_t size);
/* This CPU: CR0/CR4 to the FIXED MSRs, VMXON region, VMXON. Returns 0 or -1 with `why`. */
int vmx_cpu_enable(char *why, size_t size);
void vmx_cpu_disable(void);
/* Allocates a zeroed frame stamped with the VMCS revision id (VMXON region or VMCS). */
paddr_t vmx_alloc_region(void);
