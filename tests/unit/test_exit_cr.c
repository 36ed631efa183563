/* CR-access exit handler tests: MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW against the fake VMCS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmcs_setup.h"
#include "vmx/cpu/vmx.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

/* A typical CPU's FIXED MSRs: CR0 PE, NE, PG fixed to 1; CR4 VMXE fixed to 1. CR4_FIXED1 also
   allows LA57 so the handler's own refusal of it is tested. */
#define CR0_FIXED0  (CR0_PE | CR0_NE | CR0_PG)
#define CR0_FIXED1  0xFFFFFFFFull
#define CR4_FIXED0  CR4_VMXE
#define CR4_FIXED1  0x003777FFull
#define CR0_UG_FREE (CR0_PE | CR0_PG)

#define RIP0       0x1000ull
#define VPID       5
#define RAM_SIZE   0x10000ull
#define ENTRY_BASE (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT)
#define AR_CODE32  (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)
#define AR_CODE64  (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_L | SEG_AR_G)
#define AR_DATA_DPL(dpl)                                                                           \
    (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P | ((dpl) << SEG_AR_DPL_SHIFT))
#define PDPT_GPA 0x2000ull

/* Exit qualification (SDM vol. 3 Table 28-3). */
enum { MOV_TO = 0, MOV_FROM = 1, CLTS = 2, LMSW = 3 };
#define QUAL(cr, type, gpr) ((uint64_t)(cr) | ((uint64_t)(type) << 4) | ((uint64_t)(gpr) << 8))
#define QUAL_LMSW(src)      (QUAL(0, LMSW, 0) | ((uint64_t)(src) << 16))

static struct vm vm;
static struct vcpu *v;
static uint8_t ram[RAM_SIZE];

/* The guest state as vmx/cpu/vmcs_setup.c and exit_cr.c keep it: shadow = visible, real = FIXED. */
static void set_guest(uint64_t cr0, uint64_t cr4, uint64_t efer, bool cs_long)
{
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, cr0);
    fake_vmcs_set(VMCS_GUEST_CR0, vmcs_guest_cr0(cr0 & ~(CR0_CD | CR0_NW)));
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, cr4);
    fake_vmcs_set(VMCS_GUEST_CR4, vmcs_guest_cr4(cr4));
    fake_vmcs_set(VMCS_GUEST_EFER, efer);
    fake_vmcs_set(VMCS_ENTRY_CTLS, ENTRY_BASE | ((efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
    fake_vmcs_set(VMCS_GUEST_CS_AR, cs_long ? AR_CODE64 : AR_CODE32);
}

static void set_exit(uint64_t qual, uint32_t len)
{
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, qual);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, len);
}

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "crtest");
    memset(ram, 0, sizeof(ram));
    fake_vm_ram(&vm, ram, RAM_SIZE);
    v->vpid = VPID;
    vmx_caps.cr0_fixed0 = CR0_FIXED0;
    vmx_caps.cr0_fixed1 = CR0_FIXED1;
    vmx_caps.cr4_fixed0 = CR4_FIXED0;
    vmx_caps.cr4_fixed1 = CR4_FIXED1;
    /* The guest/host masks vmcs_setup_controls writes. */
    fake_vmcs_set(VMCS_CR0_GUEST_HOST_MASK,
                  ((CR0_FIXED0 | ~CR0_FIXED1) & ~CR0_UG_FREE) | CR0_CD | CR0_NW);
    fake_vmcs_set(VMCS_CR4_GUEST_HOST_MASK, CR4_FIXED0 | ~CR4_FIXED1 | CR4_VMXE);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_DATA_DPL(0));
    set_guest(CR0_PE | CR0_ET, 0, 0, false); /* 32-bit protected mode, paging off */
    return 0;
}

static void assert_advanced(uint32_t len)
{
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + len);
}

static void assert_fault(unsigned vector, bool has_error)
{
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, vector);
    assert_int_equal(v->events[0].type, INTR_TYPE_HW_EXCEPTION);
    assert_int_equal(v->events[0].has_error_code, has_error);
    assert_int_equal(v->events[0].error_code, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

/* #GP(0), RIP not advanced and no control register, EFER or PDPTE touched. */
static void assert_gp_nothing_changed(void)
{
    assert_fault(EXC_GP, true);
    static const uint32_t fields[] = {VMCS_GUEST_CR0,       VMCS_CR0_READ_SHADOW, VMCS_GUEST_CR4,
                                      VMCS_CR4_READ_SHADOW, VMCS_GUEST_CR3,       VMCS_GUEST_EFER,
                                      VMCS_ENTRY_CTLS,      VMCS_GUEST_PDPTE0,    VMCS_GUEST_RIP};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fake_vmcs_written(fields[i]))
            fail_msg("field 0x%x written on a faulting access", fields[i]);
    assert_int_equal(fake_vmcs_invvpid_count(), 0);
}

static void mov_to_cr(unsigned cr, unsigned gpr, uint64_t value, uint32_t len)
{
    v->regs.gpr[gpr] = value;
    set_exit(QUAL(cr, MOV_TO, gpr), len);
    fake_vcpu_exit(v, exit_handle_cr_access);
}

static void assert_cr0(uint64_t visible)
{
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), visible);
    assert_int_equal(vcpu_visible_cr0(v), visible);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0),
                     (visible & ~(CR0_CD | CR0_NW)) | CR0_NE); /* FIXED0 minus PE/PG */
}

/* ---- MOV to CR0 ---- */

static void test_cr0_write_updates_shadow_and_real(void **state)
{
    (void)state;
    uint64_t want = CR0_PE | CR0_ET | CR0_MP | CR0_TS | CR0_AM;
    mov_to_cr(0, REG_RBX, want, 3);
    assert_advanced(3);
    assert_cr0(want);
    assert_int_equal(fake_vmcs_invvpid_count(), 0); /* neither PG nor WP changed */
}

static void test_cr0_clearing_ne_is_visible_only(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_NE, 0, 0, false);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET, 7);
    assert_advanced(7);
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PE | CR0_ET);
    assert_true(fake_vmcs_get(VMCS_GUEST_CR0) & CR0_NE);
}

static void test_cr0_cd_nw_stay_virtual(void **state)
{
    (void)state;
    mov_to_cr(0, REG_RSI, CR0_PE | CR0_ET | CR0_CD | CR0_NW, 3);
    assert_advanced(3);
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PE | CR0_ET | CR0_CD | CR0_NW);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0), CR0_PE | CR0_ET | CR0_NE);
}

static void test_cr0_et_hardwired_and_reserved_low_bits_ignored(void **state)
{
    (void)state;
    mov_to_cr(0, REG_RDX, CR0_PE | (1ull << 6) | (1ull << 17) | (1ull << 28), 2);
    assert_advanced(2);
    assert_cr0(CR0_PE | CR0_ET);
}

static void test_cr0_operand_is_32_bits_outside_64_bit_mode(void **state)
{
    (void)state;
    mov_to_cr(0, REG_R9, 0xFFFFFFFF00000000ull | CR0_PE | CR0_MP, 3);
    assert_advanced(3);
    assert_cr0(CR0_PE | CR0_MP | CR0_ET);
}

static void test_cs_l_without_ia32e_is_not_64_bit_mode(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET, 0, 0, true); /* CS.L means nothing outside IA-32e mode */
    mov_to_cr(0, REG_RAX, (1ull << 32) | CR0_PE | CR0_ET, 3);
    assert_advanced(3);
    assert_cr0(CR0_PE | CR0_ET);
}

static void test_mov_from_cr3_compat_mode_is_32_bits(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, false);
    fake_vmcs_set(VMCS_GUEST_CR3, 0x100005000ull); /* tables above 4 GiB */
    v->regs.gpr[REG_R12] = ~0ull;
    set_exit(QUAL(3, MOV_FROM, REG_R12), 3);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_int_equal(v->regs.gpr[REG_R12], 0x5000);
}

static void test_cr0_high_bits_gp_in_64_bit_mode(void **state)
{
    (void)state;
    uint64_t cr0 = CR0_PE | CR0_ET | CR0_PG;
    set_guest(cr0, CR4_PAE, EFER_LME | EFER_LMA, true);
    mov_to_cr(0, REG_RAX, cr0 | (1ull << 32), 3);
    assert_gp_nothing_changed();
}

static void test_cr0_pg_without_pe_gp(void **state)
{
    (void)state;
    mov_to_cr(0, REG_RAX, CR0_PG | CR0_ET, 3);
    assert_gp_nothing_changed();
}

static void test_cr0_nw_without_cd_gp(void **state)
{
    (void)state;
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_NW, 3);
    assert_gp_nothing_changed();
}

static void test_cr0_long_mode_without_pae_gp(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET, 0, EFER_LME, false);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET | CR0_PG, 3);
    assert_gp_nothing_changed();
}

static void test_cr0_clearing_pg_with_pcide_gp(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE | CR4_PCIDE, EFER_LME | EFER_LMA, false);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET, 3);
    assert_gp_nothing_changed();
}

static void test_cr0_clearing_pg_in_64_bit_mode_gp(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET, 3);
    assert_gp_nothing_changed();
}

static void test_cr0_enters_long_mode(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET, CR4_PAE, EFER_LME, false);
    mov_to_cr(0, REG_RCX, CR0_PE | CR0_ET | CR0_PG, 7);
    assert_advanced(7);
    assert_cr0(CR0_PE | CR0_ET | CR0_PG);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), EFER_LME | EFER_LMA);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_CTLS), ENTRY_BASE | ENTRY_IA32E_MODE_GUEST);
    assert_false(fake_vmcs_written(VMCS_GUEST_PDPTE0)); /* IA-32e paging has no PDPTE registers */
    assert_int_equal(fake_vmcs_invvpid_count(), 1);
    struct fake_inv_call c = fake_vmcs_invvpid_call(0);
    assert_int_equal(c.type, INVVPID_SINGLE_CONTEXT);
    assert_int_equal(c.vpid, VPID);
}

static void test_cr0_leaves_long_mode_from_compat_mode(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA | EFER_SCE, false);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET, 3);
    assert_advanced(3);
    assert_cr0(CR0_PE | CR0_ET);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), EFER_LME | EFER_SCE);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_CTLS), ENTRY_BASE);
    assert_int_equal(fake_vmcs_invvpid_count(), 1);
}

static void test_cr0_paging_without_lme_stays_legacy(void **state)
{
    (void)state;
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET | CR0_PG, 3);
    assert_advanced(3);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), 0);
    assert_false(fake_vmcs_written(VMCS_ENTRY_CTLS));
}

static void test_cr0_64_bit_operand_in_64_bit_mode(void **state)
{
    (void)state;
    uint64_t cr0 = CR0_PE | CR0_ET | CR0_PG;
    set_guest(cr0, CR4_PAE, EFER_LME | EFER_LMA, true);
    mov_to_cr(0, REG_R15, cr0 | CR0_WP, 3);
    assert_advanced(3);
    assert_cr0(cr0 | CR0_WP);
    assert_int_equal(fake_vmcs_invvpid_count(), 1); /* WP changed */
}

static void test_cr0_source_rsp_comes_from_vmcs(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RSP, CR0_PE | CR0_TS);
    set_exit(QUAL(0, MOV_TO, REG_RSP), 3);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_cr0(CR0_PE | CR0_TS | CR0_ET);
}

/* ---- PAE paging: PDPTEs ---- */

static void put_pdptes(const uint64_t pdpte[4])
{
    memcpy(ram + PDPT_GPA, pdpte, 4 * sizeof(uint64_t));
}

static void assert_pdptes(const uint64_t pdpte[4])
{
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PDPTE0), pdpte[0]);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PDPTE1), pdpte[1]);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PDPTE2), pdpte[2]);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PDPTE3), pdpte[3]);
}

static void test_cr0_pae_paging_loads_pdptes(void **state)
{
    (void)state;
    const uint64_t pdpte[4] = {0x3001, 0x4001, 0x0, 0x5001};
    put_pdptes(pdpte);
    set_guest(CR0_PE | CR0_ET, CR4_PAE, 0, false);
    fake_vmcs_set(VMCS_GUEST_CR3, PDPT_GPA | 0x18); /* bits 4:3 are ignored (32-byte aligned) */
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET | CR0_PG, 3);
    assert_advanced(3);
    assert_pdptes(pdpte);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_EFER), 0);
}

static void test_cr0_pae_cr3_outside_ram_gp(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET, CR4_PAE, 0, false);
    fake_vmcs_set(VMCS_GUEST_CR3, RAM_SIZE + 0x1000);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET | CR0_PG, 3);
    assert_gp_nothing_changed();
}

static void test_cr0_pae_pdpte_reserved_bit_gp(void **state)
{
    (void)state;
    const uint64_t pdpte[4] = {0x3001, 0x4001 | (1ull << 5), 0, 0};
    put_pdptes(pdpte);
    set_guest(CR0_PE | CR0_ET, CR4_PAE, 0, false);
    fake_vmcs_set(VMCS_GUEST_CR3, PDPT_GPA);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET | CR0_PG, 3);
    assert_gp_nothing_changed();
}

static void test_pdpte_reserved_bits_ignored_when_not_present(void **state)
{
    (void)state;
    const uint64_t pdpte[4] = {0x3001, 0xFFE, 0, 0};
    put_pdptes(pdpte);
    set_guest(CR0_PE | CR0_ET, CR4_PAE, 0, false);
    fake_vmcs_set(VMCS_GUEST_CR3, PDPT_GPA);
    mov_to_cr(0, REG_RAX, CR0_PE | CR0_ET | CR0_PG, 3);
    assert_advanced(3);
    assert_pdptes(pdpte);
}

/* ---- CR3 ---- */

static void test_cr3_write_and_read(void **state)
{
    (void)state;
    mov_to_cr(3, REG_RDI, 0x7000, 3);
    assert_advanced(3);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR3), 0x7000);
    assert_int_equal(fake_vmcs_invvpid_count(), 1);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->regs.gpr[REG_R8] = ~0ull;
    set_exit(QUAL(3, MOV_FROM, REG_R8), 3);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_int_equal(v->regs.gpr[REG_R8], 0x7000);
}

static void test_cr3_under_pae_paging_reloads_pdptes(void **state)
{
    (void)state;
    const uint64_t pdpte[4] = {0x9001, 0, 0xA001, 0};
    put_pdptes(pdpte);
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, 0, false);
    mov_to_cr(3, REG_RAX, PDPT_GPA, 7);
    assert_advanced(7);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR3), PDPT_GPA);
    assert_pdptes(pdpte);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    mov_to_cr(3, REG_RAX, RAM_SIZE, 7); /* a PDPT outside RAM */
    assert_fault(EXC_GP, true);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR3), PDPT_GPA);
}

static void test_cr3_pcid_noflush(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE | CR4_PCIDE, EFER_LME | EFER_LMA, true);
    mov_to_cr(3, REG_RAX, (1ull << 63) | 0x5000 | 0x3, 3);
    assert_advanced(3);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR3), 0x5003);
    assert_int_equal(fake_vmcs_invvpid_count(), 0);
}

static void test_cr3_reserved_bits_gp_in_long_mode(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true);
    mov_to_cr(3, REG_RAX, (1ull << 63) | 0x5000, 3); /* bit 63 reserved without PCIDE */
    assert_gp_nothing_changed();
    v->event_count = 0;
    mov_to_cr(3, REG_RAX, (1ull << 55) | 0x5000, 3);
    assert_gp_nothing_changed();
}

/* ---- CR4 ---- */

static void test_cr4_write_keeps_vmxe_hidden(void **state)
{
    (void)state;
    uint64_t want = CR4_PSE | CR4_OSFXSR | CR4_OSXSAVE;
    mov_to_cr(4, REG_RBX, want, 3);
    assert_advanced(3);
    assert_int_equal(fake_vmcs_get(VMCS_CR4_READ_SHADOW), want);
    assert_int_equal(vcpu_visible_cr4(v), want);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR4), want | CR4_VMXE);
    assert_int_equal(fake_vmcs_invvpid_count(), 1); /* PSE changed */

    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    set_exit(QUAL(4, MOV_FROM, REG_RCX), 7);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(7);
    assert_int_equal(v->regs.gpr[REG_RCX], want); /* no VMXE although the real CR4 has it */
}

static void test_cr4_vmxe_gp(void **state)
{
    (void)state;
    mov_to_cr(4, REG_RAX, CR4_VMXE, 3);
    assert_gp_nothing_changed();
}

static void test_cr4_smxe_and_la57_gp(void **state)
{
    (void)state;
    mov_to_cr(4, REG_RAX, CR4_SMXE, 3);
    assert_gp_nothing_changed();
    v->event_count = 0;
    mov_to_cr(4, REG_RAX, CR4_LA57, 3);
    assert_gp_nothing_changed();
}

static void test_cr4_bits_outside_fixed1_gp(void **state)
{
    (void)state;
    mov_to_cr(4, REG_RAX, CR4_PKE, 3); /* bit 22: not in CR4_FIXED1 */
    assert_gp_nothing_changed();
    v->event_count = 0;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true);
    mov_to_cr(4, REG_RAX, CR4_PAE | (1ull << 40), 3);
    assert_gp_nothing_changed();
}

static void test_cr4_clearing_pae_in_long_mode_gp(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, false);
    mov_to_cr(4, REG_RAX, 0, 3);
    assert_gp_nothing_changed();
}

static void test_cr4_pcide_outside_long_mode_gp(void **state)
{
    (void)state;
    mov_to_cr(4, REG_RAX, CR4_PCIDE, 3);
    assert_gp_nothing_changed();
}

static void test_cr4_pcide_with_nonzero_pcid_gp(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true);
    fake_vmcs_set(VMCS_GUEST_CR3, 0x5001);
    mov_to_cr(4, REG_RAX, CR4_PAE | CR4_PCIDE, 3);
    assert_gp_nothing_changed();
}

static void test_cr4_pcide_in_long_mode(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true);
    fake_vmcs_set(VMCS_GUEST_CR3, 0x5000);
    mov_to_cr(4, REG_RAX, CR4_PAE | CR4_PCIDE, 3);
    assert_advanced(3);
    assert_int_equal(fake_vmcs_get(VMCS_CR4_READ_SHADOW), CR4_PAE | CR4_PCIDE);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR4), CR4_PAE | CR4_PCIDE | CR4_VMXE);
}

static void test_cr4_pae_change_under_pae_paging_reloads_pdptes(void **state)
{
    (void)state;
    const uint64_t pdpte[4] = {0x3001, 0, 0, 0x4001};
    put_pdptes(pdpte);
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, 0, false);
    fake_vmcs_set(VMCS_GUEST_CR3, PDPT_GPA);
    mov_to_cr(4, REG_RAX, CR4_PAE | CR4_PGE, 3);
    assert_advanced(3);
    assert_pdptes(pdpte);
}

static void test_cr4_guest_owned_bits_read_from_real_cr4(void **state)
{
    (void)state;
    /* The guest set OSXSAVE without an exit: the real CR4 has it, the shadow does not. */
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_VMXE | CR4_OSXSAVE);
    set_exit(QUAL(4, MOV_FROM, REG_RDX), 3);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_int_equal(v->regs.gpr[REG_RDX], CR4_OSXSAVE);
}

/* ---- MOV from CR0, CLTS, LMSW ---- */

static void test_mov_from_cr0_32_bit_zero_extends(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_CD | CR0_NW, 0, 0, false);
    v->regs.gpr[REG_RBP] = ~0ull;
    set_exit(QUAL(0, MOV_FROM, REG_RBP), 3);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_int_equal(v->regs.gpr[REG_RBP], CR0_PE | CR0_ET | CR0_CD | CR0_NW);
}

static void test_clts_clears_ts(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_TS | CR0_MP, 0, 0, false);
    set_exit(QUAL(0, CLTS, 0), 2);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(2);
    assert_cr0(CR0_PE | CR0_ET | CR0_MP);
}

static void test_lmsw_loads_low_bits_but_keeps_pe(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_NE, 0, 0, false);
    set_exit(QUAL_LMSW(CR0_MP | CR0_EM | CR0_TS | 0xFFF0), 3); /* PE clear, high bits ignored */
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_cr0(CR0_PE | CR0_ET | CR0_NE | CR0_MP | CR0_EM | CR0_TS);
}

static void test_lmsw_can_set_pe(void **state)
{
    (void)state;
    set_guest(CR0_ET | CR0_TS, 0, 0, false); /* real mode */
    set_exit(QUAL_LMSW(CR0_PE), 3);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_cr0(CR0_PE | CR0_ET);
}

/* ---- CR8, bad CRs, privilege ---- */

static void test_cr8_is_virtual_tpr(void **state)
{
    (void)state;
    set_guest(CR0_PE | CR0_ET | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true);
    mov_to_cr(8, REG_R10, 0x9, 3);
    assert_advanced(3);
    assert_int_equal(v->cr8, 0x9);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    set_exit(QUAL(8, MOV_FROM, REG_R11), 3);
    fake_vcpu_exit(v, exit_handle_cr_access);
    assert_advanced(3);
    assert_int_equal(v->regs.gpr[REG_R11], 0x9);
    mov_to_cr(8, REG_R10, 0x10, 3);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_GP);
    assert_int_equal(v->cr8, 0x9);
}

static void test_nonexistent_cr_ud(void **state)
{
    (void)state;
    mov_to_cr(5, REG_RAX, 0, 3);
    assert_fault(EXC_UD, false);
}

static void test_cpl3_gp_for_every_form(void **state)
{
    (void)state;
    const uint64_t quals[] = {QUAL(0, MOV_TO, REG_RAX), QUAL(4, MOV_FROM, REG_RAX),
                              QUAL(0, CLTS, 0), QUAL_LMSW(CR0_PE)};
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_DATA_DPL(3));
    for (size_t i = 0; i < sizeof(quals) / sizeof(quals[0]); i++) {
        v->event_count = 0;
        v->regs.gpr[REG_RAX] = 0x1234;
        set_exit(quals[i], 3);
        fake_vcpu_exit(v, exit_handle_cr_access);
        assert_gp_nothing_changed();
        assert_int_equal(v->regs.gpr[REG_RAX], 0x1234);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cr0_write_updates_shadow_and_real, setup),
        cmocka_unit_test_setup(test_cr0_clearing_ne_is_visible_only, setup),
        cmocka_unit_test_setup(test_cr0_cd_nw_stay_virtual, setup),
        cmocka_unit_test_setup(test_cr0_et_hardwired_and_reserved_low_bits_ignored, setup),
        cmocka_unit_test_setup(test_cr0_operand_is_32_bits_outside_64_bit_mode, setup),
        cmocka_unit_test_setup(test_cs_l_without_ia32e_is_not_64_bit_mode, setup),
        cmocka_unit_test_setup(test_mov_from_cr3_compat_mode_is_32_bits, setup),
        cmocka_unit_test_setup(test_cr0_high_bits_gp_in_64_bit_mode, setup),
        cmocka_unit_test_setup(test_cr0_pg_without_pe_gp, setup),
        cmocka_unit_test_setup(test_cr0_nw_without_cd_gp, setup),
        cmocka_unit_test_setup(test_cr0_long_mode_without_pae_gp, setup),
        cmocka_unit_test_setup(test_cr0_clearing_pg_with_pcide_gp, setup),
        cmocka_unit_test_setup(test_cr0_clearing_pg_in_64_bit_mode_gp, setup),
        cmocka_unit_test_setup(test_cr0_enters_long_mode, setup),
        cmocka_unit_test_setup(test_cr0_leaves_long_mode_from_compat_mode, setup),
        cmocka_unit_test_setup(test_cr0_paging_without_lme_stays_legacy, setup),
        cmocka_unit_test_setup(test_cr0_64_bit_operand_in_64_bit_mode, setup),
        cmocka_unit_test_setup(test_cr0_source_rsp_comes_from_vmcs, setup),
        cmocka_unit_test_setup(test_cr0_pae_paging_loads_pdptes, setup),
        cmocka_unit_test_setup(test_cr0_pae_cr3_outside_ram_gp, setup),
        cmocka_unit_test_setup(test_cr0_pae_pdpte_reserved_bit_gp, setup),
        cmocka_unit_test_setup(test_pdpte_reserved_bits_ignored_when_not_present, setup),
        cmocka_unit_test_setup(test_cr3_write_and_read, setup),
        cmocka_unit_test_setup(test_cr3_under_pae_paging_reloads_pdptes, setup),
        cmocka_unit_test_setup(test_cr3_pcid_noflush, setup),
        cmocka_unit_test_setup(test_cr3_reserved_bits_gp_in_long_mode, setup),
        cmocka_unit_test_setup(test_cr4_write_keeps_vmxe_hidden, setup),
        cmocka_unit_test_setup(test_cr4_vmxe_gp, setup),
        cmocka_unit_test_setup(test_cr4_smxe_and_la57_gp, setup),
        cmocka_unit_test_setup(test_cr4_bits_outside_fixed1_gp, setup),
        cmocka_unit_test_setup(test_cr4_clearing_pae_in_long_mode_gp, setup),
        cmocka_unit_test_setup(test_cr4_pcide_outside_long_mode_gp, setup),
        cmocka_unit_test_setup(test_cr4_pcide_with_nonzero_pcid_gp, setup),
        cmocka_unit_test_setup(test_cr4_pcide_in_long_mode, setup),
        cmocka_unit_test_setup(test_cr4_pae_change_under_pae_paging_reloads_pdptes, setup),
        cmocka_unit_test_setup(test_cr4_guest_owned_bits_read_from_real_cr4, setup),
        cmocka_unit_test_setup(test_mov_from_cr0_32_bit_zero_extends, setup),
        cmocka_unit_test_setup(test_clts_clears_ts, setup),
        cmocka_unit_test_setup(test_lmsw_loads_low_bits_but_keeps_pe, setup),
        cmocka_unit_test_setup(test_lmsw_can_set_pe, setup),
        cmocka_unit_test_setup(test_cr8_is_virtual_tpr, setup),
        cmocka_unit_test_setup(test_nonexistent_cr_ud, setup),
        cmocka_unit_test_setup(test_cpl3_gp_for_every_form, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
