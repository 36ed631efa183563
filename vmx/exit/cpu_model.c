/* The per-VM CPU model: the host's CPUID answers, filtered once so the guest sees a
   consistent, VMX-less CPU, with the XCR0 and MSR policy that follow from them. */
#include "vmx/exit/cpu_model.h"
#include "kernel/abi/hv_abi.h"
#include "kernel/lib/cpuid_leaves.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_arch.h"

#define XSAVE_LEGACY_AND_HEADER (512 + 64) /* SDM vol. 1 §13.4: legacy region + XSAVE header */
#define XSAVE_FIRST_EXTENDED    2          /* components 0 and 1 live in the legacy region */
#define XSAVE_LAST_COMPONENT    62         /* bit 63 of XCR0 is reserved */
#define LEAF_OUT_OF_RANGE       (HV_ABI_CPUID_LAST + 1) /* in no range hv models */

/* ---- XCR0 and the XSAVE layout (host capabilities) ---- */

/* XCR0 bits a guest may set: hv's policy intersected with what the host supports. */
static uint64_t host_xcr0_supported(void)
{
    struct cpuid_regs r;
    struct cpuid_regs f;
    hw_cpuid(CPUID_LEAF_FEATURES, 0, &f);
    if (!(f.ecx & CPUID_1_ECX_XSAVE))
        return 0;
    hw_cpuid(CPUID_LEAF_XSAVE, 0, &r);
    return (((uint64_t)r.edx << 32) | r.eax) & XCR0_GUEST_POLICY;
}

/* Where each component a guest can enable ends (CPUID.(0xD,i): EAX size, EBX offset). */
static void capture_xsave_layout(struct cpu_model *m)
{
    m->xcr0_mask = host_xcr0_supported();
    for (unsigned i = XSAVE_FIRST_EXTENDED; i <= XSAVE_LAST_COMPONENT; i++) {
        if (!(m->xcr0_mask & (1ull << i)))
            continue;
        struct cpuid_regs c;
        hw_cpuid(CPUID_LEAF_XSAVE, i, &c);
        m->xsave_end[i] = c.eax + c.ebx;
    }
}

uint32_t cpu_model_xsave_size(const struct cpu_model *m, uint64_t xcr0)
{
    uint32_t size = XSAVE_LEGACY_AND_HEADER;
    for (unsigned i = XSAVE_FIRST_EXTENDED; i <= XSAVE_LAST_COMPONENT; i++)
        if ((xcr0 & (1ull << i)) && m->xsave_end[i] > size)
            size = m->xsave_end[i];
    return size;
}

/* ---- the filtering policy, applied to the host's answers at build time ---- */

static void filter_features(struct cpuid_regs *r)
{
    r->ecx &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_SMX | CPUID_1_ECX_MONITOR | CPUID_1_ECX_EST |
                CPUID_1_ECX_TM2 | CPUID_1_ECX_PDCM | CPUID_1_ECX_DTES64 | CPUID_1_ECX_DS_CPL |
                CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE);
    r->ecx |= CPUID_1_ECX_HYPERVISOR;
    r->edx &=
        ~(CPUID_1_EDX_DS | CPUID_1_EDX_ACPI | CPUID_1_EDX_TM | CPUID_1_EDX_PBE | CPUID_1_EDX_HTT);
    /* The APIC id (bits 31:24) is the vCPU's, added by the CPUID exit. */
    r->ebx = (r->ebx & CPUID_1_EBX_LOW_MASK) | (1u << CPUID_1_EBX_LOGICAL_SHIFT);
}

static bool proc2_enabled(uint32_t control)
{
    return vmx_config.ctl[VMX_CTL_PROC2] & control;
}

static void filter_ext_features(uint32_t subleaf, struct cpuid_regs *r)
{
    if (subleaf != 0) {
        memset(r, 0, sizeof(*r));
        return;
    }
    /* Features without VMX support in hv: SGX, MPX, processor trace, user wait. */
    r->ebx &= ~(CPUID_7_EBX_SGX | CPUID_7_EBX_MPX | CPUID_7_EBX_PT);
    r->ecx &= ~(CPUID_7_ECX_WAITPKG | CPUID_7_ECX_SGX_LC);
    if (!proc2_enabled(PROC2_ENABLE_INVPCID)) /* INVPCID without its control is #UD */
        r->ebx &= ~CPUID_7_EBX_INVPCID;
}

static void xsave_leaf(const struct cpu_model *m, uint32_t subleaf, struct cpuid_regs *r)
{
    uint64_t allowed = m->xcr0_mask;
    if (subleaf == 0) {
        r->eax = (uint32_t)allowed;
        r->edx = (uint32_t)(allowed >> 32);
        r->ebx = 0; /* the size for the vCPU's current XCR0: the CPUID exit fills it in */
        r->ecx = cpu_model_xsave_size(m, allowed);
    } else if (subleaf == 1) {
        r->eax &= ~CPUID_D1_EAX_XSAVES; /* XSAVES is not enabled for guests */
        r->ebx = r->ecx = r->edx = 0;
    } else if (subleaf <= XSAVE_LAST_COMPONENT && !(allowed & (1ull << subleaf))) {
        memset(r, 0, sizeof(*r));
    }
}

static void filter(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    switch (leaf) {
    case CPUID_LEAF_FEATURES:
        filter_features(r);
        break;
    case CPUID_LEAF_EXT_FEATURES:
        filter_ext_features(subleaf, r);
        break;
    case CPUID_LEAF_EXT_PROC_FEATURES: /* RDTSCP without its enable control is #UD (§26.6.2) */
        if (!proc2_enabled(PROC2_ENABLE_RDTSCP))
            r->edx &= ~CPUID_80000001_EDX_RDTSCP;
        break;
    case CPUID_LEAF_PMU:      /* no performance-monitoring virtualisation */
    case CPUID_LEAF_TOPOLOGY: /* one vCPU per core: the CPUID exit builds it from the vCPU id */
    case CPUID_LEAF_TOPOLOGY_V2:
        memset(r, 0, sizeof(*r));
        break;
    case CPUID_LEAF_XSAVE:
        xsave_leaf(m, subleaf, r);
        break;
    default:
        break;
    }
}

/* ---- the table ---- */

static bool regs_equal(const struct cpuid_regs *a, const struct cpuid_regs *b)
{
    return a->eax == b->eax && a->ebx == b->ebx && a->ecx == b->ecx && a->edx == b->edx;
}

static bool regs_zero(const struct cpuid_regs *r)
{
    return !(r->eax | r->ebx | r->ecx | r->edx);
}

/* Leaves hv's policy answers per subleaf whatever the host does. */
static bool policy_indexed(uint32_t leaf)
{
    return leaf == CPUID_LEAF_EXT_FEATURES || leaf == CPUID_LEAF_XSAVE ||
           leaf == CPUID_LEAF_TOPOLOGY || leaf == CPUID_LEAF_TOPOLOGY_V2;
}

/* Stores the filtered answers of one leaf. A leaf is indexed when the host answers its first
   subleaves differently (no list of such leaves to keep up to date) or the policy says so;
   trailing all-zero subleaves are not stored (they read as zeros anyway). Returns -1 when the
   table is full. */
static int capture_leaf(struct cpu_model *m, uint32_t leaf, struct cpu_model_leaf *out)
{
    /* Out of range: maybe the highest basic leaf's data, which can be leaf 0xD's. */
    unsigned probe = leaf == CPUID_LEAF_XSAVE || leaf == LEAF_OUT_OF_RANGE ? CPU_MODEL_XSAVE_PARTS
                                                                           : CPU_MODEL_SUBLEAVES;
    if (m->answers + probe > CPU_MODEL_ANSWERS)
        return -1;
    struct cpuid_regs *sub = &m->answer[m->answers];
    bool indexed = policy_indexed(leaf);
    for (unsigned s = 0; s < probe; s++) {
        hw_cpuid(leaf, s, &sub[s]);
        indexed = indexed || !regs_equal(&sub[s], &sub[0]);
    }
    unsigned count = indexed ? probe : 1;
    for (unsigned s = 0; s < count; s++)
        filter(m, leaf, s, &sub[s]);
    while (indexed && count > 0 && regs_zero(&sub[count - 1]))
        count--;
    *out = (struct cpu_model_leaf){(uint16_t)m->answers, (uint8_t)count, indexed};
    m->answers += count;
    return 0;
}

/* Captures leaves base .. host_max, as many as fit, and returns how many. The guest reads the
   last one captured as the range's highest leaf. */
static uint32_t capture_range(struct cpu_model *m, uint32_t base, uint32_t host_max,
                              struct cpu_model_leaf *table, uint32_t size)
{
    uint32_t n = 0;
    while (n < size && n <= host_max - base && capture_leaf(m, base + n, &table[n]) == 0)
        n++;
    if (n > 0 && n - 1 < host_max - base) {
        log_info("cpu model: host CPUID leaves 0x%x-0x%x not offered to guests", base + n,
                 host_max);
        m->answer[table[0].first].eax = base + n - 1;
    }
    return n;
}

static void capture_table(struct cpu_model *m)
{
    struct cpuid_regs r;
    (void)capture_leaf(m, LEAF_OUT_OF_RANGE, &m->out_of_range); /* first: it always fits */
    hw_cpuid(CPUID_LEAF_VENDOR, 0, &r);
    uint32_t n = capture_range(m, CPUID_LEAF_VENDOR, r.eax, m->basic, CPU_MODEL_BASIC_LEAVES);
    m->basic_max = n ? n - 1 : 0;
    hw_cpuid(CPUID_LEAF_EXT_BASE, 0, &r);
    if (r.eax >= CPUID_LEAF_EXT_BASE) {
        n = capture_range(m, CPUID_LEAF_EXT_BASE, r.eax, m->ext, CPU_MODEL_EXT_LEAVES);
        m->ext_max = n ? CPUID_LEAF_EXT_BASE + n - 1 : 0;
    }
}

/* As CPUID enumerates them to this guest. */
static void msr_policy(struct cpu_model *m)
{
    struct cpuid_regs r;
    cpu_model_cpuid(m, CPUID_LEAF_EXT_FEATURES, 0, &r);
    m->msr.spec_ctrl = r.edx & (CPUID_7_EDX_IBRS | CPUID_7_EDX_STIBP | CPUID_7_EDX_SSBD);
    m->msr.tsc_adjust = r.ebx & CPUID_7_EBX_TSC_ADJUST;
}

void cpu_model_build(struct cpu_model *m, uint64_t tsc_khz)
{
    memset(m, 0, sizeof(*m));
    m->tsc_khz = tsc_khz;
    capture_xsave_layout(m);
    capture_table(m);
    msr_policy(m);
}

/* ---- the virtual PC's additions ---- */

#define KHZ_PER_MHZ 1000u
#define HZ_PER_KHZ  1000u
#define BUS_MHZ     100u /* leaf 0x16 ECX: the nominal bus clock */

/* Leaf `leaf` answers `r` for every subleaf (a new answer unless one is stored already). */
static int set_leaf(struct cpu_model *m, uint32_t leaf, struct cpuid_regs r)
{
    struct cpu_model_leaf *l = &m->basic[leaf];
    if (l->count == 0 || l->indexed) {
        if (m->answers == CPU_MODEL_ANSWERS)
            return -1;
        *l = (struct cpu_model_leaf){(uint16_t)m->answers++, 1, false};
    }
    m->answer[l->first] = r;
    return 0;
}

int cpu_model_virtual_pc(struct cpu_model *m)
{
    struct cpu_model_leaf *f = &m->basic[CPUID_LEAF_FEATURES];
    if (m->basic_max < CPUID_LEAF_EXT_FEATURES || !f->count)
        return -1;
    struct cpuid_regs *features = &m->answer[f->first];
    features->ecx |= CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE;
    features->edx = (features->edx | CPUID_1_EDX_APIC) & ~(CPUID_1_EDX_MCE | CPUID_1_EDX_MCA);
    /* No thermal or power management: its MSRs (APERF/MPERF, ENERGY_PERF_BIAS, HWP) are not
       emulated, and Linux reads them unchecked when leaf 6 names them. */
    const struct cpu_model_leaf *power = &m->basic[CPUID_LEAF_POWER];
    for (unsigned i = 0; i < power->count; i++)
        m->answer[power->first + i] = (struct cpuid_regs){0, 0, 0, 0};
    const struct cpu_model_leaf *ext = &m->basic[CPUID_LEAF_EXT_FEATURES];
    if (ext->count)
        m->answer[ext->first].edx &= ~CPUID_7_EDX_ARCH_CAPS;
    if (!m->tsc_khz)
        return 0;
    uint32_t mhz = (uint32_t)(m->tsc_khz / KHZ_PER_MHZ);
    for (uint32_t leaf = m->basic_max + 1; leaf < CPUID_LEAF_TSC; leaf++)
        m->basic[leaf] = (struct cpu_model_leaf){0, 0, false}; /* reads as zeros */
    if (set_leaf(m, CPUID_LEAF_TSC,
                 (struct cpuid_regs){1, 1, (uint32_t)(m->tsc_khz * HZ_PER_KHZ), 0}) ||
        set_leaf(m, CPUID_LEAF_FREQUENCY, (struct cpuid_regs){mhz, mhz, BUS_MHZ, 0}))
        return -1;
    if (m->basic_max < CPUID_LEAF_FREQUENCY) {
        m->basic_max = CPUID_LEAF_FREQUENCY;
        m->answer[m->basic[CPUID_LEAF_VENDOR].first].eax = CPUID_LEAF_FREQUENCY;
    }
    return 0;
}

/* ---- lookups (the exit path) ---- */

static void hypervisor_leaf(const struct cpu_model *m, uint32_t leaf, struct cpuid_regs *r)
{
    memset(r, 0, sizeof(*r));
    if (leaf == HV_ABI_CPUID_BASE) {
        r->eax = HV_ABI_CPUID_TIMING;
        memcpy(&r->ebx, HV_CPUID_SIGNATURE, 4);
        memcpy(&r->ecx, &HV_CPUID_SIGNATURE[4], 4);
        memcpy(&r->edx, &HV_CPUID_SIGNATURE[8], 4);
    } else if (leaf == HV_ABI_CPUID_TIMING) {
        r->eax = (uint32_t)m->tsc_khz;
    }
}

void cpu_model_cpuid_other(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf,
                           struct cpuid_regs *r)
{
    if (leaf >= HV_ABI_CPUID_BASE && leaf <= HV_ABI_CPUID_LAST)
        hypervisor_leaf(m, leaf, r);
    else if (m->ext_max && leaf >= CPUID_LEAF_EXT_BASE && leaf <= m->ext_max)
        cpu_model_answer(m, &m->ext[leaf - CPUID_LEAF_EXT_BASE], subleaf, r);
    else if (leaf <= m->basic_max)
        cpu_model_answer(m, &m->basic[leaf], subleaf, r);
    else
        cpu_model_answer(m, &m->out_of_range, subleaf, r);
}
