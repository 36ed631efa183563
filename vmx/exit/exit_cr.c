/*
 * Control-register accesses (exit 28): MOV to/from CR0, CR3, CR4, CR8, CLTS and LMSW, emulated
 * with the checks of SDM vol. 2B "MOV—Move to/from Control Registers", CLTS and LMSW.
 *
 * hv owns the CR0/CR4 bits in the guest/host masks (vmx/cpu/vmcs_setup.c: the bits VMX fixes,
 * CR0.CD/NW, CR4.VMXE), so only writes touching those exit. The guest sees, for an owned bit,
 * the read shadow and, for any other bit, the real register (§25.6.6); after an emulated
 * write the shadow holds the whole guest-visible value and GUEST_CRn the value VMX needs
 * (vmcs_guest_cr0/cr4). CR0.CD/NW stay virtual: the real CR0 never disables caching.
 * CR3 and CR8 accesses do not exit (no CR3/CR8 exiting) but are handled for completeness.
 */
#include "kernel/log.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "mm/guest_mem.h"
#include "drivers/vdev/vlapic.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmcs_setup.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_ops.h"

/* Exit qualification for control-register accesses (SDM vol. 3 §28.2.1, Table 28-3). */
#define CRQ_CR_MASK        0xFull
#define CRQ_TYPE_SHIFT     4
#define CRQ_TYPE_MASK      0x3ull
#define CRQ_GPR_SHIFT      8
#define CRQ_GPR_MASK       0xFull
#define CRQ_LMSW_SRC_SHIFT 16
#define CRQ_LMSW_SRC_MASK  0xFFFFull
enum cr_access_type { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };

/* Outcome of an emulated access: done, or the exception the instruction raises. */
enum cr_result { CR_OK = 0, CR_GP = -1, CR_UD = -2 };

#define LOW32 0xFFFFFFFFull

/* CR0 bits that exist; the reserved ones in 31:0 are ignored, 63:32 must be 0 (MOV #GP). */
#define CR0_DEFINED                                                                                \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD |     \
     CR0_PG)
#define CR0_RESERVED_HIGH (~LOW32)
#define LMSW_BITS         (CR0_PE | CR0_MP | CR0_EM | CR0_TS) /* LMSW loads CR0[3:0] only */
/* CR4 bits a guest may never set: VMX and SMX are hidden from it, and 5-level paging is not
   offered (VMXE reads as 0 through the shadow). */
#define CR4_HIDDEN (CR4_VMXE | CR4_SMXE | CR4_LA57)

/* MOV to CR3 (§4.10.4.1, §4.5): with CR4.PCIDE bit 63 asks for no TLB flush and is not stored;
   in IA-32e mode bits 62:52 are reserved (MAXPHYADDR taken as its architectural 52). */
#define CR3_PCID_NOFLUSH   (1ull << 63)
#define CR3_PCID_MASK      0xFFFull
#define CR3_LONG_RESERVED  0x7FF0000000000000ull
#define CR3_PDPT_ADDR_MASK 0xFFFFFFE0ull /* PAE paging: 32-byte aligned PDPT in bits 31:5 */

/* PAE page-directory-pointer-table entries (§4.4.1): reserved bits 2:1, 8:5 and 63:52. */
#define PDPTE_COUNT    4
#define PDPTE_PRESENT  (1ull << 0)
#define PDPTE_RESERVED 0xFFF00000000001E6ull

/* CR8 holds the task-priority class in bits 3:0 (§11.8.6.1); the rest is reserved. */
#define CR8_TPR_MASK 0xFull

/* Changes that invalidate the guest's translations (§4.10.4.1), and those that reload the
   PDPTEs under PAE paging (§4.4.1). */
#define CR0_FLUSH_BITS (CR0_PG | CR0_WP)
#define CR4_FLUSH_BITS (CR4_PGE | CR4_PAE | CR4_PSE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_LA57)
#define CR0_PDPTE_BITS (CR0_PG | CR0_CD | CR0_NW)
#define CR4_PDPTE_BITS (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)

/* The guest's paging-related state, read once per exit and written back on success. */
struct cr_state {
    uint64_t cr0, cr3, cr4, efer; /* cr0/cr4 guest-visible */
};

static struct cr_state read_state(struct vcpu *v)
{
    return (struct cr_state){
        .cr0 = vcpu_visible_cr0(v),
        .cr3 = vcpu_field(v, VCPU_CR3),
        .cr4 = vcpu_visible_cr4(v),
        .efer = vcpu_efer(v),
    };
}

static bool pae_paging(const struct cr_state *s)
{
    return (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) && !(s->efer & EFER_LMA);
}

/* Reads the four PDPTEs PAE paging will use; -1 (the MOV raises #GP) when the table is not in
   guest RAM or a present entry sets a reserved bit. */
static int read_pdptes(const struct vcpu *v, uint64_t cr3, uint64_t pdpte[PDPTE_COUNT])
{
    if (guest_mem_read(&v->guest->mem, cr3 & CR3_PDPT_ADDR_MASK, pdpte,
                       PDPTE_COUNT * sizeof(pdpte[0])))
        return -1;
    for (unsigned i = 0; i < PDPTE_COUNT; i++)
        if ((pdpte[i] & PDPTE_PRESENT) && (pdpte[i] & PDPTE_RESERVED))
            return -1;
    return 0;
}

static void write_pdptes(const uint64_t pdpte[PDPTE_COUNT])
{
    static const enum vmcs_field fields[PDPTE_COUNT] = {VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1,
                                                        VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3};
    for (unsigned i = 0; i < PDPTE_COUNT; i++)
        vmcs_write64(fields[i], pdpte[i]);
}

/* After a change in `changed`, PAE paging (re)loads its PDPTEs: into *pdpte, 1 if loaded,
   0 if not needed, -1 on a fault. */
static int maybe_read_pdptes(const struct vcpu *v, const struct cr_state *next, bool changed,
                             uint64_t pdpte[PDPTE_COUNT])
{
    if (!changed || !pae_paging(next))
        return 0;
    return read_pdptes(v, next->cr3, pdpte) ? -1 : 1;
}

/* Through the vCPU's cache: what the rest of this exit reads (the mode RIP advances in, a
   page walk) sees the new values; they reach the VMCS before the next entry. */
static void commit_cr0(struct vcpu *v, uint64_t cr0)
{
    vcpu_set_field(v, VCPU_CR0_SHADOW, cr0);
    vcpu_set_field(v, VCPU_CR0, vmcs_guest_cr0(cr0 & ~(CR0_CD | CR0_NW)));
}

static void commit_cr4(struct vcpu *v, uint64_t cr4)
{
    vcpu_set_field(v, VCPU_CR4_SHADOW, cr4);
    vcpu_set_field(v, VCPU_CR4, vmcs_guest_cr4(cr4));
}

/* EFER.LMA follows CR0.PG while EFER.LME is set, and the "IA-32e mode guest" entry control
   must match it (§10.8.5, §28.3.1.1). */
static void commit_efer(struct vcpu *v, uint64_t efer)
{
    vcpu_set_field(v, VCPU_EFER, efer);
    uint32_t entry = vmcs_read32(VMCS_ENTRY_CTLS);
    if (efer & EFER_LMA)
        entry |= ENTRY_IA32E_MODE_GUEST;
    else
        entry &= ~ENTRY_IA32E_MODE_GUEST;
    vmcs_write32(VMCS_ENTRY_CTLS, entry);
}

/* MOV to CR0 (also CLTS and LMSW). CR_OK, or CR_GP with nothing changed. */
static enum cr_result write_cr0(struct vcpu *v, const struct cr_state *cur, uint64_t value)
{
    const struct cr_state s = *cur;
    if (value & CR0_RESERVED_HIGH)
        return CR_GP;
    uint64_t cr0 = (value & CR0_DEFINED) | CR0_ET; /* ET is hardwired to 1 */
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
        return CR_GP;
    if ((cr0 & CR0_NW) && !(cr0 & CR0_CD))
        return CR_GP;
    bool paging_on = !(s.cr0 & CR0_PG) && (cr0 & CR0_PG);
    bool paging_off = (s.cr0 & CR0_PG) && !(cr0 & CR0_PG);
    if (paging_on && (s.efer & EFER_LME) && !(s.cr4 & CR4_PAE))
        return CR_GP; /* IA-32e mode needs PAE */
    if (paging_off && ((s.cr4 & CR4_PCIDE) || vcpu_in_64bit_mode(v)))
        return CR_GP; /* leave IA-32e mode from compatibility mode, PCIDE clear (§10.8.5.4) */

    struct cr_state next = s;
    next.cr0 = cr0;
    if (paging_on && (s.efer & EFER_LME))
        next.efer |= EFER_LMA;
    if (paging_off)
        next.efer &= ~EFER_LMA;
    uint64_t pdpte[PDPTE_COUNT];
    uint64_t changed = s.cr0 ^ cr0;
    int load = maybe_read_pdptes(v, &next, changed & CR0_PDPTE_BITS, pdpte);
    if (load < 0)
        return CR_GP;

    commit_cr0(v, cr0);
    if (next.efer != s.efer)
        commit_efer(v, next.efer);
    if (load)
        write_pdptes(pdpte);
    if (changed & CR0_FLUSH_BITS)
        vcpu_flush_guest_tlb(v); /* as the guest's own MOV to CR would */
    return CR_OK;
}

static enum cr_result write_cr4(struct vcpu *v, const struct cr_state *cur, uint64_t value)
{
    const struct cr_state s = *cur;
    uint64_t allowed = vmx_caps.cr4_fixed1 & ~CR4_HIDDEN;
    if (value & ~allowed)
        return CR_GP;
    if ((s.efer & EFER_LMA) && !(value & CR4_PAE))
        return CR_GP; /* IA-32e mode cannot drop PAE */
    if (!(s.cr4 & CR4_PCIDE) && (value & CR4_PCIDE) &&
        (!(s.efer & EFER_LMA) || (s.cr3 & CR3_PCID_MASK)))
        return CR_GP; /* PCIDE only in IA-32e mode and with PCID 0 current (§4.10.1) */

    struct cr_state next = s;
    next.cr4 = value;
    uint64_t pdpte[PDPTE_COUNT];
    uint64_t changed = s.cr4 ^ value;
    int load = maybe_read_pdptes(v, &next, changed & CR4_PDPTE_BITS, pdpte);
    if (load < 0)
        return CR_GP;

    commit_cr4(v, value);
    if (load)
        write_pdptes(pdpte);
    if (changed & CR4_FLUSH_BITS)
        vcpu_flush_guest_tlb(v); /* as the guest's own MOV to CR would */
    return CR_OK;
}

static enum cr_result write_cr3(struct vcpu *v, const struct cr_state *cur, uint64_t value)
{
    const struct cr_state s = *cur;
    bool flush = true;
    if (s.efer & EFER_LMA) {
        if ((s.cr4 & CR4_PCIDE) && (value & CR3_PCID_NOFLUSH)) {
            flush = false;
            value &= ~CR3_PCID_NOFLUSH;
        }
        if (value & (CR3_LONG_RESERVED | CR3_PCID_NOFLUSH))
            return CR_GP;
    } else {
        value &= LOW32;
    }
    struct cr_state next = s;
    next.cr3 = value;
    uint64_t pdpte[PDPTE_COUNT];
    int load = maybe_read_pdptes(v, &next, true, pdpte);
    if (load < 0)
        return CR_GP;

    vcpu_set_field(v, VCPU_CR3, value);
    if (load)
        write_pdptes(pdpte);
    if (flush)
        vcpu_flush_guest_tlb(v); /* as the guest's own MOV to CR would */
    return CR_OK;
}

static enum cr_result write_cr8(struct vcpu *v, uint64_t value)
{
    if (value & ~CR8_TPR_MASK)
        return CR_GP;
    if (v->lapic) /* CR8 is the local APIC's TPR[7:4] (SDM vol. 3 §11.8.6) */
        vlapic_set_cr8(v->lapic, value);
    else
        v->cr8 = value;
    return CR_OK;
}

/* MOV to CRn: CR_OK, CR_GP, or CR_UD for a CR that does not exist (no real CPU exits so). */
static enum cr_result mov_to_cr(struct vcpu *v, const struct cr_state *s, unsigned cr,
                                uint64_t value)
{
    switch (cr) {
    case 0:
        return write_cr0(v, s, value);
    case 3:
        return write_cr3(v, s, value);
    case 4:
        return write_cr4(v, s, value);
    case 8:
        return write_cr8(v, value);
    default:
        return CR_UD;
    }
}

static enum cr_result mov_from_cr(const struct vcpu *v, const struct cr_state *s, unsigned cr,
                                  uint64_t *value)
{
    switch (cr) {
    case 0:
        *value = s->cr0;
        return CR_OK;
    case 3:
        *value = s->cr3;
        return CR_OK;
    case 4:
        *value = s->cr4;
        return CR_OK;
    case 8:
        *value = v->lapic ? vlapic_get_cr8(v->lapic) : v->cr8;
        return CR_OK;
    default:
        return CR_UD;
    }
}

static void fault(struct vcpu *v, enum cr_result err, unsigned cr, enum cr_access_type type)
{
    if (err == CR_UD) {
        log_warn("vm %s: access type %u to nonexistent CR%u: #UD", v->guest->name, (unsigned)type,
                 cr);
        vcpu_inject_ud(v);
        return;
    }
    log_debug("vm %s: CR%u access type %u refused (#GP)", v->guest->name, cr, (unsigned)type);
    vcpu_inject_gp0(v);
}

void exit_handle_cr_access(struct vcpu *v)
{
    uint64_t qual = vcpu_exit_qualification(v);
    unsigned cr = (unsigned)(qual & CRQ_CR_MASK);
    enum cr_access_type type = (enum cr_access_type)((qual >> CRQ_TYPE_SHIFT) & CRQ_TYPE_MASK);
    unsigned gpr = (unsigned)((qual >> CRQ_GPR_SHIFT) & CRQ_GPR_MASK);
    /* Every form is privileged (a CPU checks CPL before the exit; be safe anyway). */
    if (vcpu_cpl(v) != 0) {
        fault(v, CR_GP, cr, type);
        return;
    }
    /* Read once: the operand size and every check below see the state before the access. */
    const struct cr_state s = read_state(v);
    uint64_t operand_mask = vcpu_in_64bit_mode(v) ? ~0ull : LOW32;
    enum cr_result err = CR_OK;
    uint64_t value;
    switch (type) {
    case CR_MOV_TO:
        err = mov_to_cr(v, &s, cr, vcpu_reg(v, gpr) & operand_mask);
        break;
    case CR_MOV_FROM:
        err = mov_from_cr(v, &s, cr, &value);
        if (err == CR_OK)
            vcpu_set_reg(v, gpr, value & operand_mask);
        break;
    case CR_CLTS:
        err = write_cr0(v, &s, s.cr0 & ~CR0_TS);
        break;
    case CR_LMSW: {
        /* LMSW loads PE, MP, EM and TS but can only set PE, never clear it. */
        uint64_t src = (qual >> CRQ_LMSW_SRC_SHIFT) & CRQ_LMSW_SRC_MASK & LMSW_BITS;
        err = write_cr0(v, &s, (s.cr0 & ~LMSW_BITS) | src | (s.cr0 & CR0_PE));
        break;
    }
    }
    if (err != CR_OK) {
        fault(v, err, cr, type);
        return;
    }
    vcpu_skip_instruction(v);
}
