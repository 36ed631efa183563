/*
 * VMX capabilities: the capability MSRs (SDM vol. 3 Appendix A), the control-adjustment
 * algorithm (§A.3, using the TRUE MSRs when IA32_VMX_BASIC[55] says they exist), and every
 * check of what hv requires in one place.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vmx_ctl_kind {
    VMX_CTL_PIN,
    VMX_CTL_PROC,
    VMX_CTL_PROC2,
    VMX_CTL_EXIT,
    VMX_CTL_ENTRY,
    VMX_CTL_KINDS
};

struct vmx_caps {
    uint64_t basic, misc, ept_vpid;
    uint64_t ctl[VMX_CTL_KINDS]; /* the MSR the adjustment uses (TRUE variant when available) */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* The name of the first capability MSR whose value differs between a and b, or NULL. */
const char *vmx_caps_first_difference(const struct vmx_caps *a, const struct vmx_caps *b);

/* The controls hv runs guests with, after adjustment, and the optional features it got. */
struct vmx_config {
    uint32_t ctl[VMX_CTL_KINDS];
    bool ept_2m, ept_1g, ept_ad, virtual_nmis;
    /* "use TPR shadow", "virtualize APIC accesses" and "APIC-register virtualization" may all
       be 1: virtual-PC vCPUs reach their xAPIC page through it (vmx/vcpu/vcpu_apicv.h). Not in
       ctl[]: only those vCPUs turn them on. */
    bool apic_register_virt;
    unsigned preemption_timer_shift; /* timer ticks every 2^shift TSC ticks */
};

/* IA32_FEATURE_CONTROL: locks it with "VMX outside SMX" when the firmware left it unlocked.
   Returns 0, or -1 with `why` = "VMX disabled by firmware ..." when it is locked without. */
int vmx_enable_feature_control(char *why, size_t size);

/* Reads every capability MSR through the hardware layer (the CPU must report VMX). */
void vmx_caps_read(struct vmx_caps *c);

/*
 * SDM §A.3: bits 31:0 of a capability MSR are the allowed 0-settings (a 1 there means the
 * control must be 1), bits 63:32 the allowed 1-settings (a 0 there means it must be 0).
 * value = (required | optional | must_be_1) & may_be_1. Returns 0, or -1 with *missing set to
 * the required bits the CPU cannot set. *dropped gets the optional bits it cannot set.
 */
int vmx_adjust_ctls(uint64_t cap, uint32_t required, uint32_t optional, uint32_t *value,
                    uint32_t *missing, uint32_t *dropped);

/* "unrestricted guest", "use MSR bitmaps", ... or NULL for a bit hv has no name for. */
const char *vmx_ctl_name(enum vmx_ctl_kind kind, unsigned bit);

/*
 * Checks everything hv requires and adjusts the controls: fills *cfg and returns 0, or returns
 * -1 with `why` naming the first missing feature ("VMX lacks unrestricted guest"). Missing
 * optional features are logged and turned off in *cfg.
 */
int vmx_configure(const struct vmx_caps *c, struct vmx_config *cfg, char *why, size_t size);

/* One log line with what the CPU offers. */
void vmx_caps_log(const struct vmx_caps *c);
