/*
 * RDMSR (exit 31) and WRMSR (exit 32): ECX names the MSR, EDX:EAX is the value (SDM vol. 2B).
 * hv intercepts every MSR, so each one a guest may use is listed in msr_handlers; any other
 * MSR raises #GP(0) as on a CPU without it. A guest write lands in the VMCS guest-state area
 * (loaded at VM entry, swapped out at exit), in per-vCPU storage, or -- for the MSRs the guest's
 * own instructions use and hv never does -- in the real MSR while that vCPU runs:
 *
 * KERNEL_GS_BASE, STAR, LSTAR, CSTAR, FMASK and TSC_AUX (SYSCALL/SYSRET, SWAPGS, RDTSCP/RDPID)
 * hold the running vCPU's values: the scheduler loads all six when it switches to a vCPU
 * (exit_msr_load_guest_msrs) and saves KERNEL_GS_BASE, which SWAPGS changes without an exit,
 * when it switches away (exit_msr_save_guest_msrs). A WRMSR writes both the vCPU's copy and the
 * MSR. hv executes none of these instructions, so it needs no values of its own, and a switch
 * always loads all six, so one guest's values never reach another.
 */
#include <stddef.h>
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/exit/exit.h"
#include "drivers/vdev/vlapic.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"

#define LOW32      0xFFFFFFFFull
#define HIGH_SHIFT 32

/* Linear addresses are 48-bit canonical (hv offers no 5-level paging): bits 63:47 equal. */
#define CANONICAL_TOP_SHIFT 47
#define CANONICAL_TOP_ONES  0x1FFFFull

/* IA32_EFER bits a guest may change; LMA follows CR0.PG (exit_cr.c) and is read-only here. */
#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)

/* Memory types (SDM vol. 3 §13.3, §13.12.3): valid in PAT entries and in MTRRs. */
#define MEMTYPE_BITS     8
#define MEMTYPE_MASK     0xFFull
#define PAT_ENTRIES      8
#define MTRR_FIXED_TYPES 8     /* one type per byte of a fixed-range MTRR */
#define PAT_VALID_TYPES  0xF3u /* UC 0, WC 1, WT 4, WP 5, WB 6, UC- 7 */
#define MTRR_VALID_TYPES 0x73u /* UC 0, WC 1, WT 4, WP 5, WB 6 */
#define MEMTYPE_WB       6ull

/* The MTRR model a guest sees (§13.11): 8 variable ranges, fixed ranges and WC supported. */
#define MTRR_VAR_COUNT      8
#define MTRRCAP_FIX         (1ull << 8)
#define MTRRCAP_WC          (1ull << 10)
#define MTRRCAP_VALUE       (MTRR_VAR_COUNT | MTRRCAP_FIX | MTRRCAP_WC)
#define MTRR_DEF_TYPE_FE    (1ull << 10)
#define MTRR_DEF_TYPE_E     (1ull << 11)
#define MTRR_DEF_TYPE_RESET (MTRR_DEF_TYPE_E | MTRR_DEF_TYPE_FE | MEMTYPE_WB)
#define MTRR_DEF_TYPE_VALID (MEMTYPE_MASK | MTRR_DEF_TYPE_FE | MTRR_DEF_TYPE_E)
#define MTRR_PHYS_HIGH_RSVD 0xFFF0000000000000ull            /* above MAXPHYADDR (taken as 52) */
#define MTRR_PHYSBASE_RSVD  (MTRR_PHYS_HIGH_RSVD | 0xF00ull) /* bits 11:8 */
#define MTRR_PHYSMASK_RSVD  (MTRR_PHYS_HIGH_RSVD | 0x7FFull) /* bits 10:0; 11 is valid */
#define MTRR_FIX16K_COUNT   2
#define MTRR_FIXED_COUNT    11 /* 1 x 64K, 2 x 16K, 8 x 4K */
#define MTRR_FIX16K_INDEX   1
#define MTRR_FIX4K_INDEX    3

_Static_assert(sizeof(((struct vcpu_msr_state *)0)->mtrr_var) ==
                   sizeof(uint64_t) * 2 * MTRR_VAR_COUNT,
               "vcpu_msr_state.mtrr_var holds a PHYSBASE/PHYSMASK pair per variable range");
_Static_assert(sizeof(((struct vcpu_msr_state *)0)->mtrr_fixed) ==
                   MTRR_FIXED_COUNT * sizeof(uint64_t),
               "vcpu_msr_state.mtrr_fixed holds every fixed-range MTRR");

/* IA32_APIC_BASE (§11.4.4) of an hv-ABI guest: the xAPIC at its default address, enabled, and
   fixed (it has no APIC; virtual-PC guests have their vlapic's). */

/* IA32_MISC_ENABLE (vol. 4 Table 2-2): fast strings on; no branch trace store or PEBS. */
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_BTS_UNAVAIL  (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1ull << 12)
#define MISC_ENABLE_VALUE                                                                          \
    (MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)

/* IA32_SPEC_CTRL: IBRS, STIBP, SSBD. */
#define SPEC_CTRL_VALID 0x7ull
/* IA32_DEBUGCTL: LBR and BTF only (both confined to guest execution, §17.4.1). */
#define DEBUGCTL_LBR   (1ull << 0)
#define DEBUGCTL_BTF   (1ull << 1)
#define DEBUGCTL_VALID (DEBUGCTL_LBR | DEBUGCTL_BTF)

/* Handlers return 0, or -1 for #GP(0) (nothing changed). */
typedef int (*msr_read_fn)(struct vcpu *v, uint32_t msr, uint64_t *value);
typedef int (*msr_write_fn)(struct vcpu *v, uint32_t msr, uint64_t value);

struct msr_handler {
    uint32_t first, last; /* MSR range */
    msr_read_fn read;     /* NULL: RDMSR raises #GP */
    msr_write_fn write;   /* NULL: WRMSR raises #GP */
};

static bool is_canonical(uint64_t addr)
{
    uint64_t top = addr >> CANONICAL_TOP_SHIFT;
    return top == 0 || top == CANONICAL_TOP_ONES;
}

/* Every byte of `value` is a memory type in the `valid` set (bit n set: type n allowed). */
static bool memtypes_valid(uint64_t value, unsigned bytes, uint32_t valid)
{
    for (unsigned i = 0; i < bytes; i++) {
        uint64_t type = (value >> (i * MEMTYPE_BITS)) & MEMTYPE_MASK;
        if (type >= MEMTYPE_BITS || !(valid & (1u << type)))
            return false;
    }
    return true;
}

/* ---- VMCS-backed MSRs ---- */

static int read_efer(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)msr;
    *value = vcpu_efer(v);
    return 0;
}

static int write_efer(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)msr;
    uint64_t cur = vcpu_efer(v);
    if (value & ~(EFER_GUEST_WRITABLE | EFER_LMA))
        return -1;
    /* LME may change only with paging off (§10.8.5). PG is guest-owned under unrestricted
       guest, so the real CR0 holds the guest's value. */
    if (((value ^ cur) & EFER_LME) && (vcpu_field(v, VCPU_CR0) & CR0_PG))
        return -1;
    vcpu_set_field(v, VCPU_EFER, (value & EFER_GUEST_WRITABLE) | (cur & EFER_LMA));
    return 0;
}

static int read_pat(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    (void)msr;
    *value = vmcs_read64(VMCS_GUEST_PAT);
    return 0;
}

static int write_pat(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)v;
    (void)msr;
    if (!memtypes_valid(value, PAT_ENTRIES, PAT_VALID_TYPES))
        return -1;
    vmcs_write64(VMCS_GUEST_PAT, value);
    return 0;
}

static int read_debugctl(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    (void)msr;
    *value = vmcs_read64(VMCS_GUEST_DEBUGCTL);
    return 0;
}

/* The guest's DEBUGCTL lives in the VMCS: "load debug controls" loads it at entry, "save debug
   controls" stores it at exit, which clears the MSR (§28.5.1), so guest-only LBR/BTF are safe;
   branch trace store and the freeze bits would act on hv's state: #GP. */
static int write_debugctl(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)v;
    (void)msr;
    if (value & ~DEBUGCTL_VALID)
        return -1;
    vmcs_write64(VMCS_GUEST_DEBUGCTL, value);
    return 0;
}

/* SYSENTER_CS/ESP/EIP and FS/GS base: guest-state fields; addresses must be canonical (also a
   VM-entry check, §28.3.1.1). */
static enum vmcs_field vmcs_msr_field(uint32_t msr)
{
    switch (msr) {
    case MSR_IA32_SYSENTER_CS:
        return VMCS_GUEST_SYSENTER_CS;
    case MSR_IA32_SYSENTER_ESP:
        return VMCS_GUEST_SYSENTER_ESP;
    case MSR_IA32_SYSENTER_EIP:
        return VMCS_GUEST_SYSENTER_EIP;
    case MSR_IA32_FS_BASE:
        return VMCS_GUEST_FS_BASE;
    default:
        return VMCS_GUEST_GS_BASE;
    }
}

static int read_vmcs_msr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    *value = vmcs_readnat(vmcs_msr_field(msr));
    return 0;
}

static int write_vmcs_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)v;
    if (msr == MSR_IA32_SYSENTER_CS) {
        vmcs_write32(VMCS_GUEST_SYSENTER_CS, (uint32_t)value); /* a 32-bit field */
        return 0;
    }
    if (!is_canonical(value))
        return -1;
    vmcs_writenat(vmcs_msr_field(msr), value);
    return 0;
}

/* ---- virtual MSRs (per-vCPU storage) ---- */

/* The slot of a virtual MSR and what its value must satisfy. */
enum virtual_check { CHECK_NONE, CHECK_CANONICAL, CHECK_LOW32, CHECK_SPEC_CTRL };

static uint64_t *virtual_slot(struct vcpu *v, uint32_t msr, enum virtual_check *check)
{
    struct vcpu_msr_state *m = &v->msr;
    switch (msr) {
    case MSR_IA32_STAR:
        *check = CHECK_NONE;
        return &m->star;
    case MSR_IA32_LSTAR:
        *check = CHECK_CANONICAL;
        return &m->lstar;
    case MSR_IA32_CSTAR:
        *check = CHECK_CANONICAL;
        return &m->cstar;
    case MSR_IA32_FMASK:
        *check = CHECK_LOW32; /* bits 63:32 reserved */
        return &m->fmask;
    case MSR_IA32_KERNEL_GS_BASE:
        *check = CHECK_CANONICAL;
        return &m->kernel_gs_base;
    case MSR_IA32_TSC_AUX:
        *check = CHECK_LOW32; /* bits 63:32 reserved */
        return &m->tsc_aux;
    default: /* MSR_IA32_SPEC_CTRL */
        *check = CHECK_SPEC_CTRL;
        return &m->spec_ctrl;
    }
}

static int read_virtual(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    enum virtual_check check;
    *value = *virtual_slot(v, msr, &check);
    return 0;
}

/* SPEC_CTRL is virtual too: the guest's mitigation request does not reach the CPU, which
   keeps hv's setting (the guest gains no protection, but cannot weaken hv's). */
static int write_virtual(struct vcpu *v, uint32_t msr, uint64_t value)
{
    enum virtual_check check;
    uint64_t *slot = virtual_slot(v, msr, &check);
    if ((check == CHECK_CANONICAL && !is_canonical(value)) ||
        (check == CHECK_LOW32 && (value >> HIGH_SHIFT)) ||
        (check == CHECK_SPEC_CTRL && (value & ~SPEC_CTRL_VALID)))
        return -1;
    *slot = value;
    return 0;
}

/* ---- SYSCALL, SWAPGS and RDTSCP MSRs: live in the CPU while the vCPU runs ---- */

static int read_live(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    if (msr == MSR_IA32_KERNEL_GS_BASE) /* SWAPGS exchanges it without exiting */
        v->msr.kernel_gs_base = hw_rdmsr(MSR_IA32_KERNEL_GS_BASE);
    return read_virtual(v, msr, value);
}

static int write_live(struct vcpu *v, uint32_t msr, uint64_t value)
{
    if (write_virtual(v, msr, value))
        return -1;
    hw_wrmsr(msr, value);
    return 0;
}

void exit_msr_load_guest_msrs(const struct vcpu *v)
{
    hw_wrmsr(MSR_IA32_KERNEL_GS_BASE, v->msr.kernel_gs_base);
    hw_wrmsr(MSR_IA32_STAR, v->msr.star);
    hw_wrmsr(MSR_IA32_LSTAR, v->msr.lstar);
    hw_wrmsr(MSR_IA32_CSTAR, v->msr.cstar);
    hw_wrmsr(MSR_IA32_FMASK, v->msr.fmask);
    hw_wrmsr(MSR_IA32_TSC_AUX, v->msr.tsc_aux);
}

void exit_msr_save_guest_msrs(struct vcpu *v)
{
    v->msr.kernel_gs_base = hw_rdmsr(MSR_IA32_KERNEL_GS_BASE);
}

/* ---- the local APIC's MSRs (virtual-PC guests; #GP for hv-ABI guests, which have none) ---- */

static int read_x2apic(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    return v->lapic ? vlapic_rdmsr(v->lapic, msr, value) : -1;
}

static int write_x2apic(struct vcpu *v, uint32_t msr, uint64_t value)
{
    return v->lapic ? vlapic_wrmsr(v->lapic, msr, value) : -1;
}

/* IA32_TSC_DEADLINE is in the guest's TSC (host TSC + VMCS_TSC_OFFSET); the APIC timer runs on
   the host TSC like every device (vmx/vm/vm_devices.c). 0 stays 0: it disarms the timer. */
static int read_tsc_deadline(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)msr;
    if (!v->lapic)
        return -1;
    uint64_t host = vlapic_get_tsc_deadline(v->lapic);
    *value = host ? host + vmcs_read64(VMCS_TSC_OFFSET) : 0;
    return 0;
}

static int write_tsc_deadline(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)msr;
    if (!v->lapic)
        return -1;
    uint64_t host = value ? value - vmcs_read64(VMCS_TSC_OFFSET) : 0;
    vlapic_set_tsc_deadline(v->lapic, value && !host ? 1 : host);
    return 0;
}

/* ---- time stamp counter (§17.17) ---- */

/* The guest's TSC is the host's plus VMCS_TSC_OFFSET (used by RDTSC when "use TSC
   offsetting" is on). Writing TSC moves the offset and, architecturally, TSC_ADJUST by the
   same amount (§17.17.3). */
static int read_tsc(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    (void)msr;
    *value = hw_rdtsc() + vmcs_read64(VMCS_TSC_OFFSET);
    return 0;
}

static int write_tsc(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)msr;
    uint64_t host = hw_rdtsc();
    uint64_t guest = host + vmcs_read64(VMCS_TSC_OFFSET);
    vmcs_write64(VMCS_TSC_OFFSET, value - host);
    v->msr.tsc_adjust += value - guest;
    return 0;
}

static int read_tsc_adjust(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)msr;
    *value = v->msr.tsc_adjust;
    return 0;
}

static int write_tsc_adjust(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)msr;
    uint64_t offset = vmcs_read64(VMCS_TSC_OFFSET);
    vmcs_write64(VMCS_TSC_OFFSET, offset + (value - v->msr.tsc_adjust));
    v->msr.tsc_adjust = value;
    return 0;
}

/* ---- constant MSRs ---- */

static uint64_t apic_base(const struct vcpu *v)
{
    return VLAPIC_BASE_ADDR | APIC_BASE_EN | (v->id == 0 ? APIC_BASE_BSP : 0);
}

static int read_apic_base(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)msr;
    *value = v->lapic ? vlapic_get_base(v->lapic) : apic_base(v);
    return 0;
}

/* A virtual-PC guest's APIC follows the SDM's enable/x2APIC transitions but cannot be moved
   (vlapic_set_base). An hv-ABI guest has no APIC: its base cannot change at all. */
static int write_apic_base(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)msr;
    if (v->lapic)
        return vlapic_set_base(v->lapic, value);
    return value == apic_base(v) ? 0 : -1;
}

/* Locked with VMX disabled: a guest sees no way to turn VMX on. Writes to a locked
   IA32_FEATURE_CONTROL raise #GP on a CPU too. */
static int read_feature_control(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    (void)msr;
    *value = FEATURE_CONTROL_LOCKED;
    return 0;
}

static int read_misc_enable(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    (void)msr;
    *value = MISC_ENABLE_VALUE;
    return 0;
}

/* Writes are ignored: the bits are either fixed by hv (fast strings) or host policy
   (thermal, SpeedStep, CPUID limit) a guest must not change. */
static int write_misc_enable(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)msr;
    if (value != MISC_ENABLE_VALUE)
        log_debug("vm %s: IA32_MISC_ENABLE write 0x%llx ignored", v->guest->name,
                  (unsigned long long)value);
    return 0;
}

/* Microcode revision 0 ("none reported"); the guest's write of 0 before CPUID, which asks
   the CPU to latch the revision, is accepted and ignored. */
static int read_zero(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    (void)msr;
    *value = 0;
    return 0;
}

static int write_ignored(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)v;
    (void)msr;
    (void)value;
    return 0;
}

/* ---- MTRRs (§13.11): stored per vCPU; with EPT they only feed the guest's own view ---- */

static int read_mtrrcap(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    (void)msr;
    *value = MTRRCAP_VALUE;
    return 0;
}

static int read_mtrr_def_type(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)msr;
    *value = v->msr.mtrr_def_type;
    return 0;
}

static int write_mtrr_def_type(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)msr;
    if ((value & ~MTRR_DEF_TYPE_VALID) || !memtypes_valid(value, 1, MTRR_VALID_TYPES))
        return -1;
    v->msr.mtrr_def_type = value;
    return 0;
}

/* PHYSBASEn at even offsets from PHYSBASE0, PHYSMASKn at odd ones. */
static int read_mtrr_var(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    *value = v->msr.mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
    return 0;
}

static int write_mtrr_var(struct vcpu *v, uint32_t msr, uint64_t value)
{
    unsigned index = msr - MSR_IA32_MTRR_PHYSBASE0;
    bool is_mask = index & 1;
    if (value & (is_mask ? MTRR_PHYSMASK_RSVD : MTRR_PHYSBASE_RSVD))
        return -1;
    if (!is_mask && !memtypes_valid(value, 1, MTRR_VALID_TYPES))
        return -1;
    v->msr.mtrr_var[index] = value;
    return 0;
}

static unsigned mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_IA32_MTRR_FIX64K_00000)
        return 0;
    if (msr < MSR_IA32_MTRR_FIX4K_C0000)
        return MTRR_FIX16K_INDEX + (msr - MSR_IA32_MTRR_FIX16K_80000);
    return MTRR_FIX4K_INDEX + (msr - MSR_IA32_MTRR_FIX4K_C0000);
}

static int read_mtrr_fixed(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    *value = v->msr.mtrr_fixed[mtrr_fixed_index(msr)];
    return 0;
}

static int write_mtrr_fixed(struct vcpu *v, uint32_t msr, uint64_t value)
{
    if (!memtypes_valid(value, MTRR_FIXED_TYPES, MTRR_VALID_TYPES))
        return -1;
    v->msr.mtrr_fixed[mtrr_fixed_index(msr)] = value;
    return 0;
}

/* ---- dispatch ---- */

/* Sorted by MSR number, ranges disjoint: find_handler searches it by bisection. */
#define ONE(msr) msr, msr
static const struct msr_handler msr_handlers[] = {
    {ONE(MSR_IA32_TSC), read_tsc, write_tsc},
    {ONE(MSR_IA32_APIC_BASE), read_apic_base, write_apic_base},
    {ONE(MSR_IA32_FEATURE_CONTROL), read_feature_control, NULL},
    {ONE(MSR_IA32_TSC_ADJUST), read_tsc_adjust, write_tsc_adjust},
    {ONE(MSR_IA32_SPEC_CTRL), read_virtual, write_virtual},
    {ONE(MSR_IA32_BIOS_SIGN_ID), read_zero, write_ignored},
    {ONE(MSR_IA32_MTRRCAP), read_mtrrcap, NULL},
    {MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_EIP, read_vmcs_msr, write_vmcs_msr},
    {ONE(MSR_IA32_MISC_ENABLE), read_misc_enable, write_misc_enable},
    {ONE(MSR_IA32_DEBUGCTL), read_debugctl, write_debugctl},
    {MSR_IA32_MTRR_PHYSBASE0, MSR_IA32_MTRR_PHYSBASE0 + 2 * MTRR_VAR_COUNT - 1, read_mtrr_var,
     write_mtrr_var},
    {ONE(MSR_IA32_MTRR_FIX64K_00000), read_mtrr_fixed, write_mtrr_fixed},
    {MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000, read_mtrr_fixed, write_mtrr_fixed},
    {MSR_IA32_MTRR_FIX4K_C0000, MSR_IA32_MTRR_FIX4K_F8000, read_mtrr_fixed, write_mtrr_fixed},
    {ONE(MSR_IA32_PAT), read_pat, write_pat},
    {ONE(MSR_IA32_MTRR_DEF_TYPE), read_mtrr_def_type, write_mtrr_def_type},
    {ONE(MSR_IA32_TSC_DEADLINE), read_tsc_deadline, write_tsc_deadline},
    {MSR_X2APIC_FIRST, MSR_X2APIC_LAST, read_x2apic, write_x2apic},
    {ONE(MSR_IA32_EFER), read_efer, write_efer},
    {MSR_IA32_STAR, MSR_IA32_FMASK, read_live, write_live},
    {MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, read_vmcs_msr, write_vmcs_msr},
    {MSR_IA32_KERNEL_GS_BASE, MSR_IA32_TSC_AUX, read_live, write_live},
};
#undef ONE

_Static_assert(MSR_IA32_MTRR_FIX16K_A0000 - MSR_IA32_MTRR_FIX16K_80000 + 1 == MTRR_FIX16K_COUNT,
               "two 16K fixed-range MTRRs");
_Static_assert(MSR_IA32_MTRR_FIX4K_F8000 - MSR_IA32_MTRR_FIX4K_C0000 + MTRR_FIX4K_INDEX + 1 ==
                   MTRR_FIXED_COUNT,
               "eight 4K fixed-range MTRRs after the 64K and 16K ones");

/* MSRs that exist only when CPUID, as the guest sees it, enumerates them: on a CPU without
   them RDMSR and WRMSR raise #GP (SDM vol. 4, the MSRs' "if CPUID..." conditions). The VM's
   CPU model decided which at creation (cpu_model.c). */
static bool msr_enumerated(const struct vcpu *v, uint32_t msr)
{
    const struct cpu_model_msrs *exists = &v->guest->cpu->msr;
    switch (msr) {
    case MSR_IA32_SPEC_CTRL:
        return exists->spec_ctrl;
    case MSR_IA32_TSC_ADJUST:
        return exists->tsc_adjust;
    default:
        return true;
    }
}

static const struct msr_handler *find_handler(struct vcpu *v, uint32_t msr)
{
    size_t lo = 0, hi = sizeof(msr_handlers) / sizeof(msr_handlers[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (msr < msr_handlers[mid].first)
            hi = mid;
        else if (msr > msr_handlers[mid].last)
            lo = mid + 1;
        else
            return msr_enumerated(v, msr) ? &msr_handlers[mid] : NULL;
    }
    return NULL;
}

/* The virtual MSRs that do not start at zero, set when the vCPU is created: the MTRRs are
   enabled with default type WB, as firmware leaves them. */
void exit_msr_reset_vcpu(struct vcpu *v)
{
    v->msr.mtrr_def_type = MTRR_DEF_TYPE_RESET;
}

void exit_handle_rdmsr(struct vcpu *v)
{
    uint32_t msr = (uint32_t)v->regs.gpr[REG_RCX];
    const struct msr_handler *h = find_handler(v, msr);
    uint64_t value;
    if (vcpu_cpl(v) != 0 || !h || !h->read || h->read(v, msr, &value)) {
        log_debug("vm %s: RDMSR 0x%x refused (#GP)%s", v->guest->name, msr,
                  h ? "" : ": unknown MSR");
        vcpu_inject_gp0(v);
        return;
    }
    /* RDMSR writes both halves and clears bits 63:32 of RAX and RDX. */
    v->regs.gpr[REG_RAX] = value & LOW32;
    v->regs.gpr[REG_RDX] = value >> HIGH_SHIFT;
    vcpu_skip_instruction(v);
}

void exit_handle_wrmsr(struct vcpu *v)
{
    uint32_t msr = (uint32_t)v->regs.gpr[REG_RCX];
    uint64_t value =
        ((v->regs.gpr[REG_RDX] & LOW32) << HIGH_SHIFT) | (v->regs.gpr[REG_RAX] & LOW32);
    const struct msr_handler *h = find_handler(v, msr);
    if (vcpu_cpl(v) != 0 || !h || !h->write || h->write(v, msr, value)) {
        log_debug("vm %s: WRMSR 0x%x = 0x%llx refused (#GP)%s", v->guest->name, msr,
                  (unsigned long long)value, h ? "" : ": unknown MSR");
        vcpu_inject_gp0(v);
        return;
    }
    vcpu_skip_instruction(v);
}
