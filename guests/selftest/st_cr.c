/* selftest: control registers (SDM vol. 2B "MOV—Move to/from Control Registers", CLTS, LMSW;
   vol. 3 §2.5). hv owns CR0.CD/NW, the bits VMX fixes (CR0.NE, CR4.VMXE) and the CR4 bits the
   CPU lacks: writes to those exit and hv checks them; the others the CPU handles alone. Either
   way the guest must see an architectural CPU. */
#include "guests/selftest/selftest.h"

#define CR0_HIGH_BIT       (1ull << 32)
#define CR4_RESERVED_BIT15 (1ull << 15)
#define CR4_BIT63          (1ull << 63)
#define CR8_RESERVED       0x10ull
#define CR3_PCID_NOFLUSH   (1ull << 63)
#define LMSW_MASK          0xFull
#define CPUID_1_ECX_PCID   (1u << 17)

/* Sets then clears `bit` through `write`, reading back each time. */
static void roundtrip(const char *name, uint64_t (*read)(void), void (*write)(uint64_t),
                      uint64_t bit)
{
    uint64_t orig = read();
    write(orig | bit);
    uint64_t set = read();
    write(orig & ~bit);
    uint64_t clear = read();
    write(orig);
    uint64_t restored = read();
    g_check((set & bit) && !(clear & bit) && set == (orig | bit) && clear == (orig & ~bit) &&
                restored == orig,
            name, "orig 0x%llx: set reads 0x%llx, clear reads 0x%llx, restored 0x%llx",
            (unsigned long long)orig, (unsigned long long)set, (unsigned long long)clear,
            (unsigned long long)restored);
}

/* A MOV to CR0/CR4 that must raise #GP(0) at the MOV and leave the register unchanged. */
static void expect_cr_gp(const char *name, unsigned cr, uint64_t value)
{
    uint64_t before = cr == 0 ? hw_read_cr0() : hw_read_cr4();
    if (cr == 0)
        st_expect_fault(name, st_probe_mov_cr0, &value, EXC_GP, 0, st_insn_mov_cr0, NULL);
    else
        st_expect_fault(name, st_probe_mov_cr4, &value, EXC_GP, 0, st_insn_mov_cr4, NULL);
    uint64_t after = cr == 0 ? hw_read_cr0() : hw_read_cr4();
    if (after != before)
        g_check(false, name, "CR%u changed from 0x%llx to 0x%llx", cr, (unsigned long long)before,
                (unsigned long long)after);
}

static void test_cr0(void)
{
    uint64_t cr0 = hw_read_cr0();
    uint64_t want = CR0_PE | CR0_PG | CR0_ET;
    g_check((cr0 & want) == want && !(cr0 & (CR0_CD | CR0_NW)), "cr.cr0_read",
            "CR0=0x%llx: want PE, PG, ET set and CD, NW clear", (unsigned long long)cr0);

    hw_write_cr0(cr0 | CR0_TS);
    uint64_t ts_set = hw_read_cr0();
    __asm__ volatile("clts");
    uint64_t ts_clear = hw_read_cr0();
    g_check((ts_set & CR0_TS) && ts_clear == (cr0 & ~CR0_TS), "cr.clts",
            "after setting TS 0x%llx, after CLTS 0x%llx", (unsigned long long)ts_set,
            (unsigned long long)ts_clear);
    hw_write_cr0(cr0);

    roundtrip("cr.cr0_mp_roundtrip", hw_read_cr0, hw_write_cr0, CR0_MP);
    roundtrip("cr.cr0_wp_roundtrip", hw_read_cr0, hw_write_cr0, CR0_WP);
    roundtrip("cr.cr0_am_roundtrip", hw_read_cr0, hw_write_cr0, CR0_AM);
    roundtrip("cr.cr0_ne_roundtrip", hw_read_cr0, hw_write_cr0, CR0_NE); /* NE is VMX-fixed */
    roundtrip("cr.cr0_cd_roundtrip", hw_read_cr0, hw_write_cr0, CR0_CD); /* hv keeps it virtual */
    /* CD=1 NW=1 is legal; NW=1 with CD=0 is not. */
    hw_write_cr0(cr0 | CR0_CD | CR0_NW);
    uint64_t both = hw_read_cr0();
    hw_write_cr0(cr0);
    g_check((both & (CR0_CD | CR0_NW)) == (CR0_CD | CR0_NW) && hw_read_cr0() == cr0,
            "cr.cr0_cd_nw_roundtrip", "with CD|NW reads 0x%llx, restored 0x%llx",
            (unsigned long long)both, (unsigned long long)hw_read_cr0());
    expect_cr_gp("cr.cr0_nw_without_cd_gp", 0, cr0 | CR0_NW);
    expect_cr_gp("cr.cr0_high_bit_gp", 0, cr0 | CR0_HIGH_BIT);
    expect_cr_gp("cr.cr0_pg_off_64bit_gp", 0, cr0 & ~CR0_PG); /* IA-32e needs compat mode */
    expect_cr_gp("cr.cr0_pe_off_with_pg_gp", 0, cr0 & ~CR0_PE);
}

static void test_lmsw(void)
{
    uint64_t cr0 = hw_read_cr0();
    uint16_t msw = (uint16_t)((cr0 | CR0_MP) & ~CR0_NE); /* NE (bit 5) is beyond LMSW's reach */
    __asm__ volatile("lmsw %0" : : "r"(msw));
    uint64_t after = hw_read_cr0();
    g_check(after == (cr0 | CR0_MP), "cr.lmsw_sets_mp", "CR0 0x%llx, LMSW 0x%x: CR0 0x%llx",
            (unsigned long long)cr0, msw, (unsigned long long)after);
    msw = (uint16_t)(cr0 & ~(CR0_PE | CR0_MP) & LMSW_MASK);
    __asm__ volatile("lmsw %0" : : "r"(msw));
    after = hw_read_cr0();
    g_check(after == (cr0 & ~CR0_MP), "cr.lmsw_keeps_pe", "LMSW 0x%x: CR0 0x%llx, want 0x%llx", msw,
            (unsigned long long)after, (unsigned long long)(cr0 & ~CR0_MP));
    hw_write_cr0(cr0);
}

static void test_cr4(void)
{
    uint64_t cr4 = hw_read_cr4();
    g_check((cr4 & CR4_PAE) && !(cr4 & CR4_VMXE), "cr.cr4_read",
            "CR4=0x%llx: want PAE set, VMXE clear", (unsigned long long)cr4);
    roundtrip("cr.cr4_osfxsr_roundtrip", hw_read_cr4, hw_write_cr4, CR4_OSFXSR);
    roundtrip("cr.cr4_osxmmexcpt_roundtrip", hw_read_cr4, hw_write_cr4, CR4_OSXMMEXCPT);
    roundtrip("cr.cr4_pge_roundtrip", hw_read_cr4, hw_write_cr4, CR4_PGE);
    roundtrip("cr.cr4_de_roundtrip", hw_read_cr4, hw_write_cr4, CR4_DE);
    expect_cr_gp("cr.cr4_vmxe_gp", 4, cr4 | CR4_VMXE);
    g_check(!(hw_read_cr4() & CR4_VMXE), "cr.cr4_vmxe_reads_0", "CR4=0x%llx",
            (unsigned long long)hw_read_cr4());
    expect_cr_gp("cr.cr4_smxe_gp", 4, cr4 | CR4_SMXE);    /* SMX is not offered */
    expect_cr_gp("cr.cr4_la57_gp", 4, cr4 | CR4_LA57);    /* never in IA-32e mode */
    expect_cr_gp("cr.cr4_pae_off_gp", 4, cr4 & ~CR4_PAE); /* IA-32e mode needs PAE */
    expect_cr_gp("cr.cr4_reserved_bit15_gp", 4, cr4 | CR4_RESERVED_BIT15);
    expect_cr_gp("cr.cr4_bit63_gp", 4, cr4 | CR4_BIT63);

    uint32_t r[4];
    g_cpuid(1, 0, r);
    if (!(r[2] & CPUID_1_ECX_PCID)) {
        expect_cr_gp("cr.cr4_pcide_unsupported_gp", 4, cr4 | CR4_PCIDE);
        return;
    }
    uint64_t cr3 = hw_read_cr3();
    hw_write_cr4(cr4 | CR4_PCIDE);
    uint64_t on = hw_read_cr4();
    /* With PCIDE, bit 63 of a CR3 write means "no flush" and is not stored (§4.10.4.1). */
    hw_write_cr3(cr3 | CR3_PCID_NOFLUSH);
    uint64_t cr3_after = hw_read_cr3();
    hw_write_cr4(cr4);
    g_check((on & CR4_PCIDE) && cr3_after == cr3 && hw_read_cr4() == cr4, "cr.cr4_pcide",
            "CR4 with PCIDE 0x%llx, CR3 after a no-flush write 0x%llx (was 0x%llx)",
            (unsigned long long)on, (unsigned long long)cr3_after, (unsigned long long)cr3);
}

static void do_write_cr8(void *arg)
{
    g_write_cr8(*(const uint64_t *)arg);
}

static void test_cr8(void)
{
    uint64_t orig = g_read_cr8();
    g_write_cr8(5);
    uint64_t five = g_read_cr8();
    g_write_cr8(0xF);
    uint64_t fifteen = g_read_cr8();
    g_write_cr8(orig);
    g_check(orig == 0 && five == 5 && fifteen == 0xF, "cr.cr8_roundtrip",
            "initial %llu, after 5: %llu, after 15: %llu", (unsigned long long)orig,
            (unsigned long long)five, (unsigned long long)fifteen);
    uint64_t bad = CR8_RESERVED; /* bits 63:4 are reserved (SDM vol. 3 §11.8.6.1) */
    st_expect_fault("cr.cr8_reserved_gp", do_write_cr8, &bad, EXC_GP, 0, NULL, NULL);
}

void st_test_cr(void)
{
    test_cr0();
    test_lmsw();
    test_cr4();
    test_cr8();
}
