/* Unit tests for vmx/vcpu/guest_walk.c: the guest page walk over hand-built guest page tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "mm/guest_mem.h"
#include "vmx/vcpu/guest_walk.h"
#include "tests/unit/fake.h"

/* Guest RAM: two malloc'd 4 MiB chunks, GPA [0, 4 MiB) and [4 MiB, 8 MiB). */
#define CHUNK_SIZE (4ull << 20)
#define RAM_SIZE   (2 * CHUNK_SIZE)
#define OUTSIDE    0x10000000ull /* a GPA well beyond guest RAM */

static uint8_t *chunk0, *chunk1;
static struct guest_mem mem;

/* 4-level tables */
#define PML4 0x1000ull
#define PDPT 0x2000ull
#define PD   0x3000ull
#define PT   0x4000ull
#define PML5 0x6000ull
/* 32-bit tables */
#define PD32 0x7000ull
#define PT32 0x8000ull
/* PAE tables */
#define PAE_PD 0x9000ull
#define PAE_PT 0xA000ull
/* Data pages */
#define DATA_A  0x405000ull /* in the second chunk */
#define DATA_B  0x406000ull
#define DATA_C  0x407000ull
#define DATA_D  0x03F000ull /* in the first chunk */
#define BIG_2M  0x600000ull
#define BIG_4M  0x400000ull
#define BIG_1G  0x40000000ull /* outside guest RAM: translation still succeeds */
#define URW     (GPTE_P | GPTE_RW | GPTE_US)
#define PF_FILL 0xA5A5A5A5u /* untouched-fault sentinel */

static int setup(void **state)
{
    (void)state;
    chunk0 = malloc(CHUNK_SIZE);
    chunk1 = malloc(CHUNK_SIZE);
    if (!chunk0 || !chunk1)
        return -1;
    memset(chunk0, 0, CHUNK_SIZE);
    memset(chunk1, 0, CHUNK_SIZE);
    memset(&mem, 0, sizeof(mem));
    mem.size = RAM_SIZE;
    mem.nchunks = 2;
    mem.chunk[0] = (struct guest_mem_chunk){0, 0x10000000, chunk0, CHUNK_SIZE, 10};
    mem.chunk[1] = (struct guest_mem_chunk){CHUNK_SIZE, 0x20000000, chunk1, CHUNK_SIZE, 10};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(chunk0);
    free(chunk1);
    return 0;
}

static void put64(uint64_t table, unsigned index, uint64_t value)
{
    assert_int_equal(guest_mem_write(&mem, table + index * 8ull, &value, 8), 0);
}

static void put32(uint64_t table, unsigned index, uint32_t value)
{
    assert_int_equal(guest_mem_write(&mem, table + index * 4ull, &value, 4), 0);
}

static uint8_t *host(uint64_t gpa)
{
    return guest_mem_ptr(&mem, gpa, 1);
}

/* A 4-level linear address from its indices, sign-extended from bit 47. */
static uint64_t la4(uint64_t i4, uint64_t i3, uint64_t i2, uint64_t i1, uint64_t off)
{
    uint64_t la = i4 << 39 | i3 << 30 | i2 << 21 | i1 << 12 | off;
    if (la & (1ull << 47))
        la |= 0xFFFF000000000000ull;
    return la;
}

/* ---------- contexts ---------- */

static struct walk_ctx ctx_off(void)
{
    struct walk_ctx c = {.cr0 = CR0_PE, .mem = &mem};
    return c;
}

static struct walk_ctx ctx_32(void)
{
    struct walk_ctx c = {.cr0 = CR0_PE | CR0_PG, .cr3 = PD32, .cr4 = CR4_PSE, .mem = &mem};
    return c;
}

static struct walk_ctx ctx_pae(void)
{
    struct walk_ctx c = {.cr0 = CR0_PE | CR0_PG, .cr4 = CR4_PAE, .efer = EFER_NXE, .mem = &mem};
    c.pdpte[0] = PAE_PD | GPTE_P;
    c.pdpte[1] = 0;                         /* not present */
    c.pdpte[2] = PAE_PD | GPTE_P | GPTE_RW; /* bit 1 is reserved in a PDPTE */
    c.pdpte[3] = OUTSIDE | GPTE_P;          /* page directory outside guest RAM */
    return c;
}

static struct walk_ctx ctx_4l(void)
{
    struct walk_ctx c = {.cr0 = CR0_PE | CR0_PG,
                         .cr3 = PML4,
                         .cr4 = CR4_PAE,
                         .efer = EFER_LME | EFER_LMA | EFER_NXE,
                         .mem = &mem};
    return c;
}

/* 4-level tables: PML4[1] and PML4[511] -> PDPT -> PD -> PT, everything user/writable. */
static void build_4level(void)
{
    put64(PML4, 1, PDPT | URW);
    put64(PML4, 511, PDPT | URW);
    put64(PDPT, 2, PD | URW);
    put64(PD, 3, PT | URW);
    put64(PT, 4, DATA_A | URW);
    put64(PD, 5, BIG_2M | URW | GPTE_PS);
    put64(PDPT, 6, BIG_1G | URW | GPTE_PS);
}

/* Runs a walk expected to succeed and returns the GPA. */
static uint64_t walk_ok(const struct walk_ctx *c, uint64_t gla, unsigned access)
{
    uint64_t gpa = 0;
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    assert_int_equal(guest_walk(c, gla, access, &gpa, &f), WALK_OK);
    assert_int_equal(f.error_code, PF_FILL); /* untouched */
    return gpa;
}

/* Runs a walk expected to fault with exactly error_code and cr2. */
static void walk_pf(const struct walk_ctx *c, uint64_t gla, unsigned access, uint32_t error_code,
                    uint64_t cr2)
{
    uint64_t gpa = 0x1234;
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    assert_int_equal(guest_walk(c, gla, access, &gpa, &f), WALK_PAGE_FAULT);
    assert_int_equal(f.error_code, error_code);
    assert_int_equal(f.cr2, cr2);
    assert_int_equal(gpa, 0x1234); /* untouched */
}

static void walk_result(const struct walk_ctx *c, uint64_t gla, unsigned access, int expected)
{
    uint64_t gpa = 0x1234;
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    assert_int_equal(guest_walk(c, gla, access, &gpa, &f), expected);
    assert_int_equal(f.error_code, PF_FILL);
    assert_int_equal(f.cr2, PF_FILL);
    assert_int_equal(gpa, 0x1234);
}

/* ---------- paging off ---------- */

static void test_paging_off(void **state)
{
    (void)state;
    struct walk_ctx c = ctx_off();
    assert_int_equal(walk_ok(&c, 0x123456789ull, WALK_READ), 0x23456789ull);
    assert_int_equal(walk_ok(&c, 0xFFFFFFFFull, WALK_WRITE), 0xFFFFFFFFull);
    assert_int_equal(walk_ok(&c, 0x1000, WALK_FETCH), 0x1000);
    c.cpl = 3;
    assert_int_equal(walk_ok(&c, 0x42, WALK_WRITE), 0x42);
}

static void test_lma_without_pae_is_bad_state(void **state)
{
    (void)state;
    struct walk_ctx c = ctx_4l();
    build_4level();
    c.cr4 &= ~CR4_PAE;
    walk_result(&c, la4(1, 2, 3, 4, 0), WALK_READ, WALK_BAD_TABLE);
}

/* ---------- 32-bit paging (SDM §4.3) ---------- */

static void build_32bit(void)
{
    put32(PD32, 1, (uint32_t)(PT32 | URW));
    put32(PT32, 2, (uint32_t)(DATA_A | URW));
    put32(PD32, 3, (uint32_t)(BIG_4M | URW | GPTE_PS));
    /* PSE-36: address bits 39:32 = 0x12 in PDE bits 20:13 */
    put32(PD32, 4, (uint32_t)(0x00C00000u | (0x12u << GPDE32_4M_HIGH_ADDR_SHIFT) | URW | GPTE_PS));
    put32(PD32, 5, (uint32_t)(PT32 | URW | GPTE_PS)); /* a 4 MiB page only with CR4.PSE */
    put32(PD32, 6, (uint32_t)(BIG_4M | URW | GPTE_PS | GPDE32_4M_RSVD));
    put32(PD32, 7, (uint32_t)(OUTSIDE | URW));             /* page table outside RAM */
    put32(PD32, 8, (uint32_t)(PT32 | GPTE_P | GPTE_RW));   /* supervisor */
    put32(PD32, 9, (uint32_t)(PT32 | GPTE_P | GPTE_US));   /* read-only */
    put32(PT32, 3, (uint32_t)(DATA_B | GPTE_P | GPTE_US)); /* read-only, user */
}

static uint64_t la32(uint64_t pdi, uint64_t pti, uint64_t off)
{
    return pdi << 22 | pti << 12 | off;
}

static void test_32bit_translations(void **state)
{
    (void)state;
    build_32bit();
    struct walk_ctx c = ctx_32();
    assert_int_equal(walk_ok(&c, la32(1, 2, 0xABC), WALK_READ), DATA_A + 0xABC);
    /* linear addresses are 32 bits: the high half is ignored */
    assert_int_equal(walk_ok(&c, 0xDEAD00000000ull | la32(1, 2, 0xABC), WALK_WRITE),
                     DATA_A + 0xABC);
    /* 4 MiB page */
    assert_int_equal(walk_ok(&c, la32(3, 0, 0x12345), WALK_FETCH), BIG_4M + 0x12345);
    assert_int_equal(walk_ok(&c, la32(3, 0x3FF, 0xFFF), WALK_READ), BIG_4M + 0x3FFFFF);
    /* PSE-36 high address bits */
    assert_int_equal(walk_ok(&c, la32(4, 0x12, 0x345), WALK_READ), 0x1200C12345ull);
    /* PS is ignored without CR4.PSE: PDE 5 points at PT32 */
    c.cr4 = 0;
    assert_int_equal(walk_ok(&c, la32(5, 2, 0x10), WALK_READ), DATA_A + 0x10);
    /* ...and with PSE a 4 MiB page whose PSE-36 field holds PT32's bit 15 (address bit 34) */
    c.cr4 = CR4_PSE;
    assert_int_equal(walk_ok(&c, la32(5, 2, 0x10), WALK_READ), (1ull << 34) | 0x2010);
    /* fetches are always allowed: no XD in 32-bit paging */
    assert_int_equal(walk_ok(&c, la32(1, 2, 0), WALK_FETCH), DATA_A);
}

static void test_32bit_faults(void **state)
{
    (void)state;
    build_32bit();
    struct walk_ctx c = ctx_32();
    walk_pf(&c, la32(0, 0, 0x10), WALK_READ, 0, la32(0, 0, 0x10));  /* PDE not present */
    walk_pf(&c, la32(1, 5, 0), WALK_WRITE, PF_EC_W, la32(1, 5, 0)); /* PTE not present */
    /* cr2 holds the 32-bit linear address */
    walk_pf(&c, 0x700000000ull | la32(1, 5, 7), WALK_READ, 0, la32(1, 5, 7));
    /* bit 21 of a 4 MiB PDE is reserved */
    walk_pf(&c, la32(6, 0, 0), WALK_READ, PF_EC_P | PF_EC_RSVD, la32(6, 0, 0));
    c.cr4 = 0; /* without PSE, PDE 6 points at a page table (at 0x600000, all zero) */
    walk_pf(&c, la32(6, 0, 0), WALK_READ, 0, la32(6, 0, 0));
}

/* Supervisor writes to read-only pages depend on CR0.WP; user writes never succeed. */
static void test_32bit_write_protect(void **state)
{
    (void)state;
    build_32bit();
    struct walk_ctx c = ctx_32();
    assert_int_equal(walk_ok(&c, la32(1, 3, 0x8), WALK_WRITE), DATA_B + 0x8);
    assert_int_equal(walk_ok(&c, la32(9, 2, 0x8), WALK_WRITE), DATA_A + 0x8);
    c.cr0 |= CR0_WP;
    walk_pf(&c, la32(1, 3, 0x8), WALK_WRITE, PF_EC_P | PF_EC_W, la32(1, 3, 0x8));
    walk_pf(&c, la32(9, 2, 0x8), WALK_WRITE, PF_EC_P | PF_EC_W, la32(9, 2, 0x8));
    assert_int_equal(walk_ok(&c, la32(9, 2, 0x8), WALK_READ), DATA_A + 0x8);
    c.cr0 &= ~CR0_WP;
    c.cpl = 3;
    walk_pf(&c, la32(1, 3, 0x8), WALK_WRITE, PF_EC_P | PF_EC_W | PF_EC_U, la32(1, 3, 0x8));
    assert_int_equal(walk_ok(&c, la32(1, 3, 0x8), WALK_READ), DATA_B + 0x8);
}

static void test_32bit_user_supervisor(void **state)
{
    (void)state;
    build_32bit();
    struct walk_ctx c = ctx_32();
    c.cpl = 3;
    walk_pf(&c, la32(8, 2, 0), WALK_READ, PF_EC_P | PF_EC_U, la32(8, 2, 0));
    /* a fetch fault carries no I/D bit in 32-bit paging without SMEP (§4.7) */
    walk_pf(&c, la32(8, 2, 0), WALK_FETCH, PF_EC_P | PF_EC_U, la32(8, 2, 0));
    walk_pf(&c, la32(0, 0, 0), WALK_FETCH, PF_EC_U, la32(0, 0, 0));
    /* an implicit supervisor access at CPL 3 is a supervisor access */
    assert_int_equal(walk_ok(&c, la32(8, 2, 0), WALK_READ | WALK_IMPLICIT_SUPERVISOR), DATA_A);
    walk_pf(&c, la32(0, 0, 0), WALK_WRITE | WALK_IMPLICIT_SUPERVISOR, PF_EC_W, la32(0, 0, 0));
    /* SMEP: with it, the I/D bit is reported even in 32-bit paging */
    c.cpl = 0;
    c.cr4 |= CR4_SMEP;
    walk_pf(&c, la32(1, 2, 0), WALK_FETCH, PF_EC_P | PF_EC_I, la32(1, 2, 0));
    walk_pf(&c, la32(0, 0, 0), WALK_FETCH, PF_EC_I, la32(0, 0, 0));
    assert_int_equal(walk_ok(&c, la32(8, 2, 0), WALK_FETCH), DATA_A);
    /* SMAP */
    c.cr4 = CR4_PSE | CR4_SMAP;
    walk_pf(&c, la32(1, 2, 0), WALK_READ, PF_EC_P, la32(1, 2, 0));
    c.rflags_ac = true;
    assert_int_equal(walk_ok(&c, la32(1, 2, 0), WALK_READ), DATA_A);
}

static void test_32bit_table_outside_ram(void **state)
{
    (void)state;
    build_32bit();
    struct walk_ctx c = ctx_32();
    walk_result(&c, la32(7, 0, 0), WALK_READ, WALK_BAD_TABLE);
    c.cr3 = RAM_SIZE;
    walk_result(&c, la32(1, 2, 0), WALK_READ, WALK_BAD_TABLE);
}

/* ---------- PAE paging (SDM §4.4) ---------- */

static uint64_t la_pae(uint64_t pdpi, uint64_t pdi, uint64_t pti, uint64_t off)
{
    return pdpi << 30 | pdi << 21 | pti << 12 | off;
}

static void build_pae(void)
{
    put64(PAE_PD, 1, PAE_PT | URW);
    put64(PAE_PT, 2, DATA_A | URW);
    put64(PAE_PD, 3, BIG_2M | URW | GPTE_PS);
    put64(PAE_PT, 4, DATA_B | URW | GPTE_XD);
    put64(PAE_PT, 5, DATA_C | URW | (1ull << 52)); /* PAE reserves bits 62:M */
    put64(PAE_PD, 6, BIG_2M | URW | GPTE_PS | (1ull << 13));
    put64(PAE_PD, 7, OUTSIDE | URW);
    put64(PAE_PD, 8, PAE_PT | GPTE_P | GPTE_RW); /* supervisor */
    put64(PAE_PT, 6, DATA_C | GPTE_P | GPTE_US); /* read-only */
    put64(PAE_PT, 7, DATA_C | URW | (1ull << WALK_MAXPHYADDR));
}

static void test_pae_translations(void **state)
{
    (void)state;
    build_pae();
    struct walk_ctx c = ctx_pae();
    assert_int_equal(walk_ok(&c, la_pae(0, 1, 2, 0x321), WALK_READ), DATA_A + 0x321);
    assert_int_equal(walk_ok(&c, 0xF00000000ull | la_pae(0, 1, 2, 0x321), WALK_WRITE),
                     DATA_A + 0x321);
    assert_int_equal(walk_ok(&c, la_pae(0, 3, 0x54, 0x321), WALK_FETCH), BIG_2M + 0x54321);
    /* XD with NXE blocks fetches only */
    assert_int_equal(walk_ok(&c, la_pae(0, 1, 4, 0x8), WALK_READ), DATA_B + 0x8);
    /* the PDPTE carries no access rights: user write through PDPTE without R/W or U/S */
    c.cpl = 3;
    assert_int_equal(walk_ok(&c, la_pae(0, 1, 2, 0x8), WALK_WRITE), DATA_A + 0x8);
}

static void test_pae_faults(void **state)
{
    (void)state;
    build_pae();
    struct walk_ctx c = ctx_pae();
    walk_pf(&c, la_pae(1, 1, 2, 0x5), WALK_READ, 0, la_pae(1, 1, 2, 0x5));        /* PDPTE */
    walk_pf(&c, la_pae(0, 2, 2, 0x5), WALK_WRITE, PF_EC_W, la_pae(0, 2, 2, 0x5)); /* PDE */
    walk_pf(&c, la_pae(0, 1, 3, 0x5), WALK_READ, 0, la_pae(0, 1, 3, 0x5));        /* PTE */
    /* NX fetch with NXE: I/D reported (PAE and NXE) */
    walk_pf(&c, la_pae(0, 1, 4, 0), WALK_FETCH, PF_EC_P | PF_EC_I, la_pae(0, 1, 4, 0));
    /* reserved bits */
    walk_pf(&c, la_pae(0, 1, 5, 0), WALK_READ, PF_EC_P | PF_EC_RSVD, la_pae(0, 1, 5, 0));
    walk_pf(&c, la_pae(0, 1, 7, 0), WALK_READ, PF_EC_P | PF_EC_RSVD, la_pae(0, 1, 7, 0));
    walk_pf(&c, la_pae(0, 6, 0, 0), WALK_READ, PF_EC_P | PF_EC_RSVD, la_pae(0, 6, 0, 0));
    /* XD bit with NXE=0 is reserved; a fetch then has no I/D bit (no SMEP, no NXE) */
    c.efer = 0;
    walk_pf(&c, la_pae(0, 1, 4, 0), WALK_READ, PF_EC_P | PF_EC_RSVD, la_pae(0, 1, 4, 0));
    walk_pf(&c, la_pae(0, 1, 4, 0), WALK_FETCH, PF_EC_P | PF_EC_RSVD, la_pae(0, 1, 4, 0));
    c.efer = EFER_NXE;
    /* user access to a supervisor page; user write to a read-only page */
    c.cpl = 3;
    walk_pf(&c, la_pae(0, 8, 2, 0), WALK_READ, PF_EC_P | PF_EC_U, la_pae(0, 8, 2, 0));
    walk_pf(&c, la_pae(0, 1, 6, 0), WALK_WRITE, PF_EC_P | PF_EC_W | PF_EC_U, la_pae(0, 1, 6, 0));
}

static void test_pae_bad_tables(void **state)
{
    (void)state;
    build_pae();
    struct walk_ctx c = ctx_pae();
    walk_result(&c, la_pae(2, 1, 2, 0), WALK_READ, WALK_BAD_TABLE); /* reserved PDPTE */
    walk_result(&c, la_pae(3, 1, 2, 0), WALK_READ, WALK_BAD_TABLE); /* PD outside RAM */
    walk_result(&c, la_pae(0, 7, 2, 0), WALK_READ, WALK_BAD_TABLE); /* PT outside RAM */
    c.pdpte[0] = PAE_PD | GPTE_P | (1ull << 63);                    /* no XD in a PAE PDPTE */
    walk_result(&c, la_pae(0, 1, 2, 0), WALK_READ, WALK_BAD_TABLE);
}

/* ---------- 4-level paging (SDM §4.5) ---------- */

static void test_4level_translations(void **state)
{
    (void)state;
    build_4level();
    struct walk_ctx c = ctx_4l();
    assert_int_equal(walk_ok(&c, la4(1, 2, 3, 4, 0x123), WALK_READ), DATA_A + 0x123);
    /* high half through PML4[511] */
    uint64_t high = la4(511, 2, 3, 4, 0xFFF);
    assert_int_equal(high, 0xFFFFFF8080604FFFull);
    assert_int_equal(walk_ok(&c, high, WALK_WRITE), DATA_A + 0xFFF);
    /* 2 MiB page */
    assert_int_equal(walk_ok(&c, la4(1, 2, 5, 0x12, 0x345), WALK_FETCH), BIG_2M + 0x12345);
    /* 1 GiB page (outside guest RAM, which is not the walker's concern) */
    assert_int_equal(walk_ok(&c, la4(1, 6, 0x9, 0x34, 0x567), WALK_READ), BIG_1G + 0x1234567);
    assert_int_equal(walk_ok(&c, la4(1, 6, 511, 511, 0xFFF), WALK_READ), BIG_1G + 0x3FFFFFFF);
    /* bits 58:52 are ignored in 4-level paging (they are not address bits) */
    put64(PT, 7, DATA_C | URW | (0x7Full << 52));
    assert_int_equal(walk_ok(&c, la4(1, 2, 3, 7, 0x10), WALK_READ), DATA_C + 0x10);
    /* the highest address bit below MAXPHYADDR is an address bit */
    put64(PT, 8, (1ull << (WALK_MAXPHYADDR - 1)) | DATA_C | URW);
    assert_int_equal(walk_ok(&c, la4(1, 2, 3, 8, 0), WALK_READ),
                     (1ull << (WALK_MAXPHYADDR - 1)) | DATA_C);
    /* CR3 low bits (PCD/PWT or a PCID) are not address bits */
    c.cr3 = PML4 | 0xFFF;
    assert_int_equal(walk_ok(&c, la4(1, 2, 3, 4, 0x123), WALK_READ), DATA_A + 0x123);
}

static void test_4level_not_present_each_level(void **state)
{
    (void)state;
    build_4level();
    struct walk_ctx c = ctx_4l();
    uint64_t la;
    la = la4(2, 2, 3, 4, 0x11);
    walk_pf(&c, la, WALK_READ, 0, la); /* PML4E */
    la = la4(1, 7, 3, 4, 0x22);
    walk_pf(&c, la, WALK_WRITE, PF_EC_W, la); /* PDPTE */
    la = la4(1, 2, 8, 4, 0x33);
    walk_pf(&c, la, WALK_FETCH, PF_EC_I, la); /* PDE: I/D because PAE and NXE */
    la = la4(1, 2, 3, 9, 0x44);
    c.cpl = 3;
    walk_pf(&c, la, WALK_READ, PF_EC_U, la); /* PTE */
    /* not present wins over rights that already failed higher up */
    put64(PML4, 3, PDPT | GPTE_P); /* supervisor, read-only */
    la = la4(3, 7, 0, 0, 0);
    walk_pf(&c, la, WALK_WRITE, PF_EC_W | PF_EC_U, la);
}

static void test_4level_write_protect(void **state)
{
    (void)state;
    build_4level();
    put64(PT, 10, DATA_B | GPTE_P | GPTE_US); /* read-only in the PTE */
    put64(PML4, 4, PDPT | GPTE_P | GPTE_US);  /* read-only in the PML4E only */
    struct walk_ctx c = ctx_4l();
    uint64_t ro_pte = la4(1, 2, 3, 10, 0x40), ro_pml4e = la4(4, 2, 3, 4, 0x40);
    assert_int_equal(walk_ok(&c, ro_pte, WALK_WRITE), DATA_B + 0x40); /* WP=0 */
    assert_int_equal(walk_ok(&c, ro_pml4e, WALK_WRITE), DATA_A + 0x40);
    c.cr0 |= CR0_WP;
    walk_pf(&c, ro_pte, WALK_WRITE, PF_EC_P | PF_EC_W, ro_pte);
    walk_pf(&c, ro_pml4e, WALK_WRITE, PF_EC_P | PF_EC_W, ro_pml4e);
    assert_int_equal(walk_ok(&c, ro_pte, WALK_READ), DATA_B + 0x40);
    c.cr0 &= ~CR0_WP;
    c.cpl = 3;
    walk_pf(&c, ro_pte, WALK_WRITE, PF_EC_P | PF_EC_W | PF_EC_U, ro_pte);
    walk_pf(&c, ro_pml4e, WALK_WRITE, PF_EC_P | PF_EC_W | PF_EC_U, ro_pml4e);
}

static void test_4level_user_supervisor(void **state)
{
    (void)state;
    build_4level();
    put64(PDPT, 12, PD | GPTE_P | GPTE_RW); /* supervisor at the PDPT level only */
    struct walk_ctx c = ctx_4l();
    uint64_t sup = la4(1, 12, 3, 4, 0x8);
    c.cpl = 3;
    walk_pf(&c, sup, WALK_READ, PF_EC_P | PF_EC_U, sup);
    walk_pf(&c, sup, WALK_WRITE, PF_EC_P | PF_EC_W | PF_EC_U, sup);
    walk_pf(&c, sup, WALK_FETCH, PF_EC_P | PF_EC_U | PF_EC_I, sup);
    assert_int_equal(walk_ok(&c, sup, WALK_WRITE | WALK_IMPLICIT_SUPERVISOR), DATA_A + 0x8);
    c.cpl = 2; /* CPL 0-2 are all supervisor */
    assert_int_equal(walk_ok(&c, sup, WALK_READ), DATA_A + 0x8);
}

static void test_4level_nx(void **state)
{
    (void)state;
    build_4level();
    put64(PT, 11, DATA_B | URW | GPTE_XD);
    put64(PML4, 5, PDPT | URW | GPTE_XD); /* XD in the PML4E covers everything below */
    struct walk_ctx c = ctx_4l();
    uint64_t nx_pte = la4(1, 2, 3, 11, 0), nx_pml4e = la4(5, 2, 3, 4, 0);
    walk_pf(&c, nx_pte, WALK_FETCH, PF_EC_P | PF_EC_I, nx_pte);
    walk_pf(&c, nx_pml4e, WALK_FETCH, PF_EC_P | PF_EC_I, nx_pml4e);
    assert_int_equal(walk_ok(&c, nx_pte, WALK_READ), DATA_B);
    assert_int_equal(walk_ok(&c, nx_pml4e, WALK_WRITE), DATA_A);
    c.cpl = 3;
    walk_pf(&c, nx_pte, WALK_FETCH, PF_EC_P | PF_EC_U | PF_EC_I, nx_pte);
    /* NXE=0: the XD bit is reserved, at any level, for any access */
    c.cpl = 0;
    c.efer &= ~EFER_NXE;
    walk_pf(&c, nx_pte, WALK_READ, PF_EC_P | PF_EC_RSVD, nx_pte);
    walk_pf(&c, nx_pml4e, WALK_WRITE, PF_EC_P | PF_EC_RSVD | PF_EC_W, nx_pml4e);
    walk_pf(&c, nx_pte, WALK_FETCH, PF_EC_P | PF_EC_RSVD, nx_pte); /* no I/D: no NXE, no SMEP */
    assert_int_equal(walk_ok(&c, la4(1, 2, 3, 4, 0), WALK_FETCH), DATA_A);
}

static void test_4level_smep(void **state)
{
    (void)state;
    build_4level();
    put64(PDPT, 12, PD | GPTE_P | GPTE_RW); /* supervisor */
    struct walk_ctx c = ctx_4l();
    uint64_t user = la4(1, 2, 3, 4, 0), sup = la4(1, 12, 3, 4, 0);
    assert_int_equal(walk_ok(&c, user, WALK_FETCH), DATA_A); /* SMEP off */
    c.cr4 |= CR4_SMEP;
    walk_pf(&c, user, WALK_FETCH, PF_EC_P | PF_EC_I, user);
    assert_int_equal(walk_ok(&c, sup, WALK_FETCH), DATA_A);
    assert_int_equal(walk_ok(&c, user, WALK_READ), DATA_A); /* SMEP is about fetches only */
    c.cpl = 3;
    assert_int_equal(walk_ok(&c, user, WALK_FETCH), DATA_A); /* ...by supervisor code */
}

static void test_4level_smap(void **state)
{
    (void)state;
    build_4level();
    put64(PT, 10, DATA_B | GPTE_P | GPTE_US); /* read-only user page */
    struct walk_ctx c = ctx_4l();
    uint64_t user = la4(1, 2, 3, 4, 0x20), ro = la4(1, 2, 3, 10, 0x20);
    c.cr4 |= CR4_SMAP;
    c.cr0 |= CR0_WP;
    /* AC=0: no supervisor data access to user pages */
    walk_pf(&c, user, WALK_READ, PF_EC_P, user);
    walk_pf(&c, user, WALK_WRITE, PF_EC_P | PF_EC_W, user);
    assert_int_equal(walk_ok(&c, user, WALK_FETCH), DATA_A + 0x20); /* not a data access */
    /* AC=1: explicit accesses allowed, still subject to WP */
    c.rflags_ac = true;
    assert_int_equal(walk_ok(&c, user, WALK_READ), DATA_A + 0x20);
    assert_int_equal(walk_ok(&c, user, WALK_WRITE), DATA_A + 0x20);
    walk_pf(&c, ro, WALK_WRITE, PF_EC_P | PF_EC_W, ro);
    c.cr0 &= ~CR0_WP;
    assert_int_equal(walk_ok(&c, ro, WALK_WRITE), DATA_B + 0x20);
    /* ...but never implicit ones, even at CPL 3 */
    walk_pf(&c, user, WALK_READ | WALK_IMPLICIT_SUPERVISOR, PF_EC_P, user);
    c.cpl = 3;
    walk_pf(&c, user, WALK_READ | WALK_IMPLICIT_SUPERVISOR, PF_EC_P, user);
    /* user-mode accesses are not affected by SMAP */
    c.rflags_ac = false;
    assert_int_equal(walk_ok(&c, user, WALK_WRITE), DATA_A + 0x20);
}

static void test_4level_reserved_bits(void **state)
{
    (void)state;
    build_4level();
    put64(PML4, 6, PDPT | URW | GPTE_PS);                 /* PS in a PML4E */
    put64(PD, 13, BIG_2M | URW | GPTE_PS | (1ull << 13)); /* 2 MiB: bits 20:13 */
    put64(PD, 14, BIG_2M | URW | GPTE_PS | (1ull << 20));
    put64(PDPT, 13, BIG_1G | URW | GPTE_PS | (1ull << 29));  /* 1 GiB: bits 29:13 */
    put64(PT, 12, DATA_C | URW | (1ull << WALK_MAXPHYADDR)); /* beyond MAXPHYADDR */
    put64(PDPT, 14, PD | URW | (1ull << 51));                /* ...in a table pointer */
    put64(PD, 15, BIG_2M | URW | GPTE_PS | GPTE_PAT_BIG);    /* bit 12 is PAT: fine */
    struct walk_ctx c = ctx_4l();
    const uint64_t las[] = {la4(6, 0, 0, 0, 0),  la4(1, 2, 13, 0, 0), la4(1, 2, 14, 0, 0),
                            la4(1, 13, 0, 0, 0), la4(1, 2, 3, 12, 0), la4(1, 14, 3, 4, 0)};
    for (size_t i = 0; i < sizeof(las) / sizeof(las[0]); i++)
        walk_pf(&c, las[i], WALK_READ, PF_EC_P | PF_EC_RSVD, las[i]);
    c.cpl = 3;
    walk_pf(&c, las[0], WALK_WRITE, PF_EC_P | PF_EC_RSVD | PF_EC_W | PF_EC_U, las[0]);
    c.cpl = 0;
    assert_int_equal(walk_ok(&c, la4(1, 2, 15, 0, 0x10), WALK_READ), BIG_2M + 0x10);
    /* reserved bits are not checked in a non-present entry */
    put64(PT, 13, DATA_C | (1ull << WALK_MAXPHYADDR) | GPTE_XD);
    c.efer &= ~EFER_NXE;
    walk_pf(&c, la4(1, 2, 3, 13, 0), WALK_READ, 0, la4(1, 2, 3, 13, 0));
}

static void test_4level_non_canonical(void **state)
{
    (void)state;
    build_4level();
    struct walk_ctx c = ctx_4l();
    walk_result(&c, 0x0000800000000000ull, WALK_READ, WALK_NON_CANONICAL);
    walk_result(&c, 0xFFFF7FFFFFFFFFFFull, WALK_WRITE, WALK_NON_CANONICAL);
    walk_result(&c, 0x8000000000000000ull | la4(1, 2, 3, 4, 0), WALK_FETCH, WALK_NON_CANONICAL);
    /* the boundaries themselves are canonical (and not mapped here) */
    walk_pf(&c, 0x00007FFFFFFFFFFFull, WALK_READ, 0, 0x00007FFFFFFFFFFFull);
    walk_pf(&c, 0xFFFF800000000000ull, WALK_READ, 0, 0xFFFF800000000000ull);
}

static void test_4level_table_outside_ram(void **state)
{
    (void)state;
    build_4level();
    put64(PDPT, 11, OUTSIDE | URW);              /* page directory outside RAM */
    put64(PD, 16, (RAM_SIZE - PAGE_SIZE) | URW); /* last page of RAM: fine */
    put64(PD, 17, RAM_SIZE | URW);               /* first page past RAM */
    struct walk_ctx c = ctx_4l();
    walk_result(&c, la4(1, 11, 0, 0, 0), WALK_READ, WALK_BAD_TABLE);
    walk_pf(&c, la4(1, 2, 16, 511, 0), WALK_READ, 0, la4(1, 2, 16, 511, 0));
    walk_result(&c, la4(1, 2, 17, 0, 0), WALK_READ, WALK_BAD_TABLE);
    c.cr3 = RAM_SIZE;
    walk_result(&c, la4(1, 2, 3, 4, 0), WALK_READ, WALK_BAD_TABLE);
    c.cr3 = OUTSIDE;
    walk_result(&c, la4(1, 2, 3, 4, 0), WALK_READ, WALK_BAD_TABLE);
}

static void test_5level(void **state)
{
    (void)state;
    build_4level();
    put64(PML5, 1, PML4 | URW);
    put64(PML5, 511, PML4 | URW);
    struct walk_ctx c = ctx_4l();
    c.cr4 |= CR4_LA57;
    c.cr3 = PML5;
    uint64_t la = (1ull << 48) | la4(1, 2, 3, 4, 0x77);
    assert_int_equal(walk_ok(&c, la, WALK_READ), DATA_A + 0x77);
    assert_int_equal(walk_ok(&c, 0xFFFF000000000000ull | la, WALK_READ), DATA_A + 0x77);
    /* canonical in 5-level paging, but PML5[0] is not present */
    walk_pf(&c, 0x0000800000000000ull, WALK_READ, 0, 0x0000800000000000ull);
    walk_result(&c, 1ull << 56, WALK_READ, WALK_NON_CANONICAL);
    put64(PML5, 2, PML4 | URW | GPTE_PS); /* PS is reserved in a PML5E too */
    walk_pf(&c, 2ull << 48, WALK_READ, PF_EC_P | PF_EC_RSVD, 2ull << 48);
}

static void test_invalid_arguments_panic(void **state)
{
    (void)state;
    struct walk_ctx c = ctx_off();
    uint64_t gpa;
    struct walk_fault f;
    EXPECT_PANIC(guest_walk(&c, 0, WALK_WRITE | WALK_FETCH, &gpa, &f), "invalid access flags");
    EXPECT_PANIC(guest_walk(&c, 0, 1u << 5, &gpa, &f), "invalid access flags 0x20");
    c.cpl = 4;
    EXPECT_PANIC(guest_walk(&c, 0, WALK_READ, &gpa, &f), "invalid CPL 4");
}

/* ---------- copy helpers ---------- */

static void fill(uint64_t gpa, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        host(gpa)[i] = (uint8_t)(seed + i);
}

static void test_read_gva_second_page_faults(void **state)
{
    (void)state;
    build_4level();
    put64(PT, 20, DATA_B | URW);
    fill(DATA_B, PAGE_SIZE, 1);
    struct walk_ctx c = ctx_4l();
    uint8_t buf[0x20];
    memset(buf, 0xEE, sizeof(buf));
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    uint64_t gva = la4(1, 2, 3, 20, 0xFF0);
    assert_int_equal(guest_read_gva(&c, gva, buf, sizeof(buf), WALK_READ, &f), WALK_PAGE_FAULT);
    assert_memory_equal(buf, host(DATA_B + 0xFF0), 0x10);
    for (size_t i = 0x10; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xEE);
    assert_int_equal(f.error_code, 0);
    assert_int_equal(f.cr2, la4(1, 2, 3, 21, 0));
    /* a fault on the first page reports gva itself */
    c.cpl = 3;
    put64(PT, 20, DATA_B | GPTE_P);
    assert_int_equal(guest_read_gva(&c, gva, buf, sizeof(buf), WALK_READ, &f), WALK_PAGE_FAULT);
    assert_int_equal(f.error_code, PF_EC_P | PF_EC_U);
    assert_int_equal(f.cr2, gva);
}

static void test_read_gva_across_pages_and_chunks(void **state)
{
    (void)state;
    build_4level();
    put64(PT, 22, DATA_C | URW); /* second chunk */
    put64(PT, 23, DATA_D | URW); /* first chunk */
    fill(DATA_C, PAGE_SIZE, 3);
    fill(DATA_D, PAGE_SIZE, 7);
    struct walk_ctx c = ctx_4l();
    uint8_t buf[0x300];
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    uint64_t gva = la4(1, 2, 3, 22, 0xF00);
    assert_int_equal(guest_read_gva(&c, gva, buf, sizeof(buf), WALK_READ, &f), WALK_OK);
    assert_memory_equal(buf, host(DATA_C + 0xF00), 0x100);
    assert_memory_equal(buf + 0x100, host(DATA_D), 0x200);
    assert_int_equal(f.error_code, PF_FILL);
    /* access flags are checked on every page: a fetch from an NX second page */
    put64(PT, 23, DATA_D | URW | GPTE_XD);
    assert_int_equal(guest_read_gva(&c, gva, buf, sizeof(buf), WALK_FETCH, &f), WALK_PAGE_FAULT);
    assert_int_equal(f.error_code, PF_EC_P | PF_EC_I);
    assert_int_equal(f.cr2, la4(1, 2, 3, 23, 0));
    /* zero length touches nothing, even unmapped or non-canonical addresses */
    assert_int_equal(guest_read_gva(&c, 0x0000800000000000ull, buf, 0, WALK_READ, &f), WALK_OK);
}

static void test_read_gva_other_results(void **state)
{
    (void)state;
    build_4level();
    struct walk_ctx c = ctx_4l();
    uint8_t buf[8];
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    /* the 1 GiB page translates, but its memory is outside guest RAM */
    assert_int_equal(guest_read_gva(&c, la4(1, 6, 0, 0, 0), buf, sizeof(buf), WALK_READ, &f),
                     WALK_OUTSIDE_RAM);
    uint64_t outside_gpa = f.gpa;
    assert_true(outside_gpa >= RAM_SIZE);
    assert_int_equal(guest_write_gva(&c, la4(1, 6, 0, 0, 0), buf, sizeof(buf), &f),
                     WALK_OUTSIDE_RAM);
    assert_int_equal(f.gpa, outside_gpa);
    assert_int_equal(guest_read_gva(&c, 0xFFFF000000000000ull, buf, 8, WALK_READ, &f),
                     WALK_NON_CANONICAL);
    /* running off the top of the lower half into non-canonical space */
    put64(PML4, 255, PDPT | URW);
    put64(PDPT, 511, PD | URW);
    put64(PD, 511, PT | URW);
    put64(PT, 511, DATA_C | URW);
    assert_int_equal(guest_read_gva(&c, 0x00007FFFFFFFFFFCull, buf, 8, WALK_READ, &f),
                     WALK_NON_CANONICAL);
    assert_int_equal(f.error_code, PF_FILL);
    /* paging off, 32-bit: reads wrap around at 4 GiB... into RAM at 0 */
    struct walk_ctx off = ctx_off();
    fill(0, 4, 9);
    assert_int_equal(guest_read_gva(&off, 0xFFFFFFFCull, buf, 8, WALK_READ, &f), WALK_OUTSIDE_RAM);
    assert_int_equal(f.gpa, 0xFFFFFFFCull); /* the first byte outside RAM */
    assert_int_equal(guest_read_gva(&off, 0x100000000ull, buf, 4, WALK_READ, &f), WALK_OK);
    assert_memory_equal(buf, host(0), 4);
}

static void test_write_gva(void **state)
{
    (void)state;
    build_4level();
    put64(PT, 22, DATA_C | URW);
    put64(PT, 23, DATA_D | URW);
    struct walk_ctx c = ctx_4l();
    uint8_t src[0x40];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(0x80 + i);
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    uint64_t gva = la4(1, 2, 3, 22, 0xFE0);
    assert_int_equal(guest_write_gva(&c, gva, src, sizeof(src), &f), WALK_OK);
    assert_memory_equal(host(DATA_C + 0xFE0), src, 0x20);
    assert_memory_equal(host(DATA_D), src + 0x20, 0x20);
    assert_int_equal(host(DATA_C + 0xFDF)[0], 0);
    assert_int_equal(host(DATA_D + 0x20)[0], 0);
    assert_int_equal(f.error_code, PF_FILL);
}

/* A write whose second page faults writes nothing at all. */
static void test_write_gva_fault_writes_nothing(void **state)
{
    (void)state;
    build_4level();
    put64(PT, 22, DATA_C | URW);
    put64(PT, 23, DATA_D | GPTE_P | GPTE_US); /* read-only */
    struct walk_ctx c = ctx_4l();
    c.cr0 |= CR0_WP;
    uint8_t src[0x40];
    memset(src, 0x5A, sizeof(src));
    struct walk_fault f = {PF_FILL, PF_FILL, 0};
    uint64_t gva = la4(1, 2, 3, 22, 0xFE0);
    assert_int_equal(guest_write_gva(&c, gva, src, sizeof(src), &f), WALK_PAGE_FAULT);
    assert_int_equal(f.error_code, PF_EC_P | PF_EC_W);
    assert_int_equal(f.cr2, la4(1, 2, 3, 23, 0));
    for (size_t i = 0; i < PAGE_SIZE; i++) {
        assert_int_equal(host(DATA_C)[i], 0);
        assert_int_equal(host(DATA_D)[i], 0);
    }
    /* not present on the second page */
    put64(PT, 23, 0);
    assert_int_equal(guest_write_gva(&c, gva, src, sizeof(src), &f), WALK_PAGE_FAULT);
    assert_int_equal(f.error_code, PF_EC_W);
    assert_int_equal(host(DATA_C + 0xFE0)[0], 0);
}

static void test_gpa_copies(void **state)
{
    (void)state;
    uint8_t src[0x40], back[0x40];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i + 1);
    uint64_t across = CHUNK_SIZE - 0x20;
    assert_int_equal(guest_write_gpa(&mem, across, src, sizeof(src)), WALK_OK);
    assert_memory_equal(chunk0 + CHUNK_SIZE - 0x20, src, 0x20);
    assert_memory_equal(chunk1, src + 0x20, 0x20);
    memset(back, 0, sizeof(back));
    assert_int_equal(guest_read_gpa(&mem, across, back, sizeof(back)), WALK_OK);
    assert_memory_equal(back, src, sizeof(src));
    /* out of range: nothing copied */
    assert_int_equal(guest_write_gpa(&mem, RAM_SIZE - 0x20, src, sizeof(src)), WALK_BAD_TABLE);
    assert_int_equal(chunk1[CHUNK_SIZE - 0x20], 0);
    memset(back, 0xEE, sizeof(back));
    assert_int_equal(guest_read_gpa(&mem, RAM_SIZE - 0x20, back, sizeof(back)), WALK_BAD_TABLE);
    assert_int_equal(back[0], 0xEE);
    assert_int_equal(guest_read_gpa(&mem, UINT64_MAX - 8, back, 0x10), WALK_BAD_TABLE);
    assert_int_equal(guest_read_gpa(&mem, RAM_SIZE - 0x40, back, sizeof(back)), WALK_OK);
}

/* ---------- fuzz ---------- */

#define FUZZ_ITERATIONS  100000
#define FUZZ_POOL_PAGES  32 /* page tables live in GPA [0, 128 KiB) */
#define FUZZ_MUTATIONS   8  /* entries rewritten per iteration */
#define FUZZ_COPY_PERIOD 8  /* every n-th iteration also copies by GVA */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* A random entry, mostly present and pointing into the pool so that walks go deep. */
static uint64_t random_entry(void)
{
    uint64_t r = rnd(), target;
    switch (r % 8) {
    case 0:
        target = rnd() & (RAM_SIZE - 1) & ~(PAGE_SIZE - 1);
        break;
    case 1:
        target = rnd() & ((1ull << 52) - 1) & ~(PAGE_SIZE - 1);
        break;
    case 2:
        return rnd();
    default:
        target = (rnd() % FUZZ_POOL_PAGES) * PAGE_SIZE;
        break;
    }
    uint64_t flags = (r >> 8) & 0x1FF;
    if ((r >> 20) % 8 != 0)
        flags |= GPTE_P;
    if ((r >> 24) % 8 == 0)
        flags |= GPTE_XD;
    if ((r >> 28) % 16 == 0)
        flags |= rnd() & (0xFFFull << 52);
    if ((r >> 32) % 8 == 0)
        flags |= 1ull << (12 + rnd() % 40); /* an odd low address bit */
    return target | flags;
}

static struct walk_ctx random_ctx(void)
{
    static const uint64_t modes[][3] = {
        /* cr0, cr4, efer */
        {CR0_PE, 0, 0},
        {CR0_PE | CR0_PG, 0, 0},
        {CR0_PE | CR0_PG, CR4_PAE, 0},
        {CR0_PE | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA},
        {CR0_PE | CR0_PG, CR4_PAE | CR4_LA57, EFER_LME | EFER_LMA},
    };
    uint64_t r = rnd();
    struct walk_ctx c = {.mem = &mem};
    const uint64_t *m = modes[r % 5];
    c.cr0 = m[0] | (rnd() & CR0_WP);
    c.cr4 = m[1] | (rnd() & (CR4_PSE | CR4_SMEP | CR4_SMAP));
    c.efer = m[2] | (rnd() & EFER_NXE);
    if ((r >> 8) % 32 == 0) { /* occasionally, arbitrary (even impossible) register state */
        c.cr0 = rnd();
        c.cr4 = rnd();
        c.efer = rnd();
    }
    c.cr3 = (r >> 16) % 16 == 0 ? rnd() : (rnd() % FUZZ_POOL_PAGES) * PAGE_SIZE | (rnd() & 0xFFF);
    for (int i = 0; i < 4; i++)
        c.pdpte[i] = random_entry();
    c.cpl = (unsigned)((r >> 24) % 4);
    c.rflags_ac = (r >> 28) & 1;
    return c;
}

static uint64_t random_gla(void)
{
    uint64_t r = rnd();
    switch (r % 4) {
    case 0:
        return rnd();
    case 1:
        return rnd() & 0xFFFFFFFFull;
    case 2:
        return (uint64_t)((int64_t)(rnd() << 16) >> 16); /* canonical, 4-level */
    default:
        return (uint64_t)((int64_t)(rnd() << 7) >> 7); /* canonical, 5-level */
    }
}

static void check_result(const struct walk_ctx *c, uint64_t gla, int r, uint64_t gpa,
                         const struct walk_fault *f)
{
    const uint32_t defined = PF_EC_P | PF_EC_W | PF_EC_U | PF_EC_RSVD | PF_EC_I;
    uint64_t la = (c->efer & EFER_LMA) ? gla : (gla & 0xFFFFFFFFull);
    switch (r) {
    case WALK_OK:
        if (c->cr0 & CR0_PG)
            assert_true(gpa < (1ull << WALK_MAXPHYADDR));
        else
            assert_int_equal(gpa, la);
        break;
    case WALK_PAGE_FAULT:
        assert_int_equal(f->error_code & ~defined, 0);
        if (f->error_code & PF_EC_RSVD)
            assert_true(f->error_code & PF_EC_P);
        assert_int_equal(f->cr2, la);
        break;
    case WALK_BAD_TABLE:
    case WALK_NON_CANONICAL:
        break;
    default:
        fail_msg("undefined result %d", r);
    }
}

static void test_fuzz(void **state)
{
    (void)state;
    static const unsigned accesses[] = {WALK_READ,
                                        WALK_WRITE,
                                        WALK_FETCH,
                                        WALK_READ | WALK_IMPLICIT_SUPERVISOR,
                                        WALK_WRITE | WALK_IMPLICIT_SUPERVISOR,
                                        WALK_FETCH | WALK_IMPLICIT_SUPERVISOR};
    const uint64_t pool_entries = FUZZ_POOL_PAGES * PAGE_SIZE / 8;
    for (uint64_t i = 0; i < pool_entries; i++)
        put64(0, (unsigned)i, random_entry());
    unsigned counts[4] = {0};
    uint8_t buf[2 * PAGE_SIZE + 16];
    for (int it = 0; it < FUZZ_ITERATIONS; it++) {
        for (int k = 0; k < FUZZ_MUTATIONS; k++)
            put64(0, (unsigned)(rnd() % pool_entries), random_entry());
        struct walk_ctx c = random_ctx();
        uint64_t gla = random_gla(), gpa = 0;
        unsigned access = accesses[rnd() % 6];
        struct walk_fault f = {0, 0, 0};
        int r = guest_walk(&c, gla, access, &gpa, &f);
        check_result(&c, gla, r, gpa, &f);
        counts[-r]++;
        if (it % FUZZ_COPY_PERIOD == 0) {
            size_t len = (size_t)(rnd() % sizeof(buf));
            int rr = (it / FUZZ_COPY_PERIOD) % 2
                         ? guest_read_gva(&c, gla, buf, len, access & ~(unsigned)WALK_WRITE, &f)
                         : guest_write_gva(&c, gla, buf, len, &f);
            assert_true(rr == WALK_OK || rr == WALK_PAGE_FAULT || rr == WALK_BAD_TABLE ||
                        rr == WALK_NON_CANONICAL || rr == WALK_OUTSIDE_RAM);
        }
    }
    /* the generator must exercise every outcome */
    for (int k = 0; k < 4; k++)
        assert_true(counts[k] > FUZZ_ITERATIONS / 100);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_paging_off),
        T(test_lma_without_pae_is_bad_state),
        T(test_32bit_translations),
        T(test_32bit_faults),
        T(test_32bit_write_protect),
        T(test_32bit_user_supervisor),
        T(test_32bit_table_outside_ram),
        T(test_pae_translations),
        T(test_pae_faults),
        T(test_pae_bad_tables),
        T(test_4level_translations),
        T(test_4level_not_present_each_level),
        T(test_4level_write_protect),
        T(test_4level_user_supervisor),
        T(test_4level_nx),
        T(test_4level_smep),
        T(test_4level_smap),
        T(test_4level_reserved_bits),
        T(test_4level_non_canonical),
        T(test_4level_table_outside_ram),
        T(test_5level),
        T(test_invalid_arguments_panic),
        T(test_read_gva_second_page_faults),
        T(test_read_gva_across_pages_and_chunks),
        T(test_read_gva_other_results),
        T(test_write_gva),
        T(test_write_gva_fault_writes_nothing),
        T(test_gpa_copies),
        T(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
