/*
 * Fuzzes vmx/vcpu/guest_walk.c: guest_walk, guest_read_gva and guest_write_gva over page tables the
 * guest wrote (guest RAM is entirely guest-controlled), in all paging modes.
 *
 * Guest RAM: 64 KiB as two exactly-sized 32 KiB heap chunks, zero but for the input's writes.
 * Input (little-endian, zero once exhausted):
 *   u8  mode    bits 1:0 paging off / 32-bit / PAE / 4-level; bit 2 CR4.LA57 (4-level);
 *               bit 3 EFER.LMA|LME forced on whatever the mode (impossible states)
 *   u8  flags   CR0.WP, CR4.PSE, CR4.SMEP, CR4.SMAP, EFER.NXE, RFLAGS.AC, then CPL (bits 7:6)
 *   u8  access  WALK_WRITE, WALK_FETCH (dropped when WRITE is set), WALK_IMPLICIT_SUPERVISOR
 *   u16 len     bytes for the copy helpers, modulo COPY_MAX + 1 (at most WRITE_MAX written)
 *   u64 cr3, u64 gla
 *   then records {u16 offset, u64 value}: value stored at GPA offset % (RAM_SIZE - 7)
 * PAE paging's PDPTEs are loaded from guest RAM at CR3[31:5], as MOV to CR3 does.
 *
 * Invariants: no access outside guest RAM or the caller's buffers (ASan), no panic; the result
 * is one of the four walk_results; *gpa is written only on WALK_OK and *f only on
 * WALK_PAGE_FAULT; a translation keeps the page offset (paging off: gpa = linear address); a
 * #PF's error code describes the access (W, U, I bits; RSVD implies P) and CR2 is the linear
 * address; WALK_NON_CANONICAL only with long-mode paging; a writable translation is also
 * readable, to the same GPA; guest_read_gva returns the bytes a page-by-page walk finds;
 * guest_write_gva acts like one instruction's write (see check_write).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "mm/guest_mem.h"
#include "vmx/vcpu/guest_walk.h"
#include "tests/fuzz/fuzz_common.h"

#define CHUNK_SIZE  0x8000u
#define NCHUNKS     2u
#define RAM_SIZE    (NCHUNKS * CHUNK_SIZE)
#define COPY_MAX    (3u * 4096u) /* reads: up to three or four pages */
#define WRITE_MAX   4096u        /* writes: one instruction's, at most two pages */
#define RECORD_SIZE 10u

#define MODE_MASK      0x3u
#define MODE_OFF       0u
#define MODE_32BIT     1u
#define MODE_PAE       2u
#define MODE_4LEVEL    3u
#define MODE_LA57      (1u << 2)
#define MODE_FORCE_LMA (1u << 3)
#define FLAG_WP        (1u << 0)
#define FLAG_PSE       (1u << 1)
#define FLAG_SMEP      (1u << 2)
#define FLAG_SMAP      (1u << 3)
#define FLAG_NXE       (1u << 4)
#define FLAG_AC        (1u << 5)
#define FLAG_CPL_SHIFT 6
#define ACCESS_MASK    (WALK_WRITE | WALK_FETCH | WALK_IMPLICIT_SUPERVISOR)
#define PDPT_ADDR_MASK 0xFFFFFFE0ull
#define PDPTE_COUNT    4u
#define LEGACY_LA_MASK 0xFFFFFFFFull
#define PAGE_OFF_MASK  (PAGE_SIZE - 1)
#define PF_EC_DEFINED  (PF_EC_P | PF_EC_W | PF_EC_U | PF_EC_RSVD | PF_EC_I)
#define CPL_USER       3u
#define GPA_SENTINEL   0x5A5A5A5A5A5A5A5Aull
#define EC_SENTINEL    0xA5A5A5A5u
#define CR2_SENTINEL   0x1234567890ABCDEFull
#define FILL_BYTE      0xC3u /* first byte written; then +1 per byte */

static uint8_t *chunk[NCHUNKS];
static uint8_t *snapshot; /* guest RAM before the write */
static uint8_t *expect;   /* guest RAM as the write must leave it */
static struct guest_mem mem;

static void setup_once(void)
{
    if (snapshot)
        return;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        chunk[i] = malloc(CHUNK_SIZE);
        FUZZ_CHECK(chunk[i] != NULL);
    }
    snapshot = malloc(RAM_SIZE);
    expect = malloc(RAM_SIZE);
    FUZZ_CHECK(snapshot != NULL && expect != NULL);
    mem.size = RAM_SIZE;
    mem.nchunks = NCHUNKS;
    for (unsigned i = 0; i < NCHUNKS; i++)
        mem.chunk[i] = (struct guest_mem_chunk){i * CHUNK_SIZE, 0x10000000ull + i * CHUNK_SIZE,
                                                chunk[i], CHUNK_SIZE, 0};
}

static void take_snapshot(void)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        memcpy(snapshot + i * CHUNK_SIZE, chunk[i], CHUNK_SIZE);
}

static bool ram_equals(const uint8_t *want)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        if (fuzz_first_diff(want + i * CHUNK_SIZE, chunk[i], CHUNK_SIZE) != CHUNK_SIZE)
            return false;
    return true;
}

static void build_ctx(struct fuzz_input *in, struct walk_ctx *c, unsigned *access, size_t *len,
                      uint64_t *gla)
{
    uint8_t mode = fuzz_u8(in), flags = fuzz_u8(in), acc = fuzz_u8(in);
    *len = fuzz_u16(in) % (COPY_MAX + 1);
    memset(c, 0, sizeof(*c));
    c->mem = &mem;
    c->cr3 = fuzz_u64(in);
    *gla = fuzz_u64(in);
    c->cr0 = CR0_PE | CR0_ET | ((flags & FLAG_WP) ? CR0_WP : 0);
    c->cr4 = ((flags & FLAG_PSE) ? CR4_PSE : 0) | ((flags & FLAG_SMEP) ? CR4_SMEP : 0) |
             ((flags & FLAG_SMAP) ? CR4_SMAP : 0);
    c->efer = (flags & FLAG_NXE) ? EFER_NXE : 0;
    c->rflags_ac = flags & FLAG_AC;
    c->cpl = flags >> FLAG_CPL_SHIFT;
    switch (mode & MODE_MASK) {
    case MODE_OFF:
        break;
    case MODE_32BIT:
        c->cr0 |= CR0_PG;
        break;
    case MODE_PAE:
        c->cr0 |= CR0_PG;
        c->cr4 |= CR4_PAE;
        break;
    default:
        c->cr0 |= CR0_PG;
        c->cr4 |= CR4_PAE | ((mode & MODE_LA57) ? CR4_LA57 : 0);
        c->efer |= EFER_LME | EFER_LMA;
        break;
    }
    if (mode & MODE_FORCE_LMA)
        c->efer |= EFER_LME | EFER_LMA;
    *access = acc & ACCESS_MASK;
    if ((*access & WALK_WRITE) && (*access & WALK_FETCH))
        *access &= ~(unsigned)WALK_FETCH;
}

/* The records: guest-written paging structures and data. Then the PDPTEs, as loaded. */
static void fill_ram(struct fuzz_input *in, struct walk_ctx *c)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        memset(chunk[i], 0, CHUNK_SIZE);
    while (in->len >= RECORD_SIZE) {
        uint64_t off = fuzz_u16(in) % (RAM_SIZE - sizeof(uint64_t) + 1);
        uint64_t value = fuzz_u64(in);
        FUZZ_CHECK(guest_mem_write(&mem, off, &value, sizeof(value)) == 0);
    }
    for (unsigned i = 0; i < PDPTE_COUNT; i++)
        if (guest_mem_read(&mem, (c->cr3 & PDPT_ADDR_MASK) + i * sizeof(uint64_t), &c->pdpte[i],
                           sizeof(uint64_t)) != 0)
            c->pdpte[i] = 0;
}

static bool long_mode(const struct walk_ctx *c)
{
    return c->efer & EFER_LMA;
}

static uint64_t linear(const struct walk_ctx *c, uint64_t gla)
{
    return long_mode(c) ? gla : gla & LEGACY_LA_MASK;
}

static bool user_access(const struct walk_ctx *c, unsigned access)
{
    return c->cpl == CPL_USER && !(access & WALK_IMPLICIT_SUPERVISOR);
}

/* One guest_walk, with every output checked; returns the result and *gpa. */
static int checked_walk(const struct walk_ctx *c, uint64_t gla, unsigned access, uint64_t *gpa)
{
    uint64_t out = GPA_SENTINEL;
    struct walk_fault f = {.error_code = EC_SENTINEL, .cr2 = CR2_SENTINEL};
    int r = guest_walk(c, gla, access, &out, &f);
    uint64_t la = linear(c, gla);
    bool f_untouched = f.error_code == EC_SENTINEL && f.cr2 == CR2_SENTINEL;
    switch (r) {
    case WALK_OK:
        FUZZ_CHECK(f_untouched);
        FUZZ_CHECK((out & PAGE_OFF_MASK) == (la & PAGE_OFF_MASK));
        if (!(c->cr0 & CR0_PG))
            FUZZ_CHECK(out == la);
        break;
    case WALK_PAGE_FAULT:
        FUZZ_CHECK(out == GPA_SENTINEL);
        FUZZ_CHECK(c->cr0 & CR0_PG);
        FUZZ_CHECK(f.cr2 == la);
        FUZZ_CHECK((f.error_code & ~PF_EC_DEFINED) == 0);
        FUZZ_CHECK(!(f.error_code & PF_EC_W) == !(access & WALK_WRITE));
        FUZZ_CHECK(!(f.error_code & PF_EC_U) == !user_access(c, access));
        FUZZ_CHECK(!(f.error_code & PF_EC_I) || (access & WALK_FETCH));
        FUZZ_CHECK(!(f.error_code & PF_EC_RSVD) || (f.error_code & PF_EC_P));
        break;
    case WALK_NON_CANONICAL:
        FUZZ_CHECK((c->cr0 & CR0_PG) && long_mode(c));
        /* fall through */
    case WALK_BAD_TABLE:
        FUZZ_CHECK(out == GPA_SENTINEL && f_untouched);
        FUZZ_CHECK(c->cr0 & CR0_PG);
        break;
    default:
        FUZZ_CHECK(!"guest_walk returned an unknown result");
    }
    *gpa = out;
    return r;
}

static void check_walk(const struct walk_ctx *c, uint64_t gla, unsigned access)
{
    uint64_t gpa, again;
    int r = checked_walk(c, gla, access, &gpa);
    FUZZ_CHECK(checked_walk(c, gla, access, &again) == r && again == gpa); /* deterministic */
    if (r == WALK_OK && (access & WALK_WRITE)) {
        unsigned read = access & ~(unsigned)WALK_WRITE;
        FUZZ_CHECK(checked_walk(c, gla, read, &again) == WALK_OK && again == gpa);
    }
}

/* guest_read_gva must return what a page-by-page walk and guest_mem_read find. */
static void check_read(const struct walk_ctx *c, uint64_t gla, size_t len, unsigned access)
{
    unsigned flags = access & ~(unsigned)WALK_WRITE;
    uint8_t *buf = malloc(len ? len : 1); /* exactly len: ASan catches a write past it */
    uint8_t *page = malloc(PAGE_SIZE);
    FUZZ_CHECK(buf && page);
    struct walk_fault f = {.error_code = EC_SENTINEL, .cr2 = CR2_SENTINEL};
    int r = guest_read_gva(c, gla, buf, len, flags, &f);
    FUZZ_CHECK(r == WALK_OK || r == WALK_PAGE_FAULT || r == WALK_BAD_TABLE ||
               r == WALK_NON_CANONICAL || r == WALK_OUTSIDE_RAM);
    if (r == WALK_OUTSIDE_RAM)
        FUZZ_CHECK(f.gpa >= RAM_SIZE);
    if (r == WALK_OK) {
        for (size_t done = 0; done < len;) {
            uint64_t va = gla + done, gpa;
            size_t n = PAGE_SIZE - (va & PAGE_OFF_MASK);
            if (n > len - done)
                n = len - done;
            FUZZ_CHECK(checked_walk(c, va, flags, &gpa) == WALK_OK);
            FUZZ_CHECK(guest_mem_read(&mem, gpa, page, n) == 0);
            FUZZ_CHECK(memcmp(page, buf + done, n) == 0);
            done += n;
        }
    } else if (r == WALK_PAGE_FAULT) {
        /* CR2: gla itself, or the first byte of a later page of the range. */
        uint64_t la = linear(c, gla);
        FUZZ_CHECK(f.cr2 == la || ((f.cr2 & PAGE_OFF_MASK) == 0 && len > 0));
    }
    free(page);
    free(buf);
}

/* guest_write_gva behaves like one instruction's write: every page is translated before any
   byte is written. If a page fails, the same failure is reported and guest RAM is untouched;
   if all translate into guest RAM, the bytes land exactly there (even when they overwrite the
   guest's own paging structures) and nowhere else. A page outside guest RAM gives
   WALK_OUTSIDE_RAM naming a GPA past the end of RAM (bytes of earlier pages may be written). */
static void check_write(const struct walk_ctx *c, uint64_t gla, size_t len)
{
    if (len > WRITE_MAX)
        len = WRITE_MAX;
    uint8_t *src = malloc(len ? len : 1);
    FUZZ_CHECK(src != NULL);
    for (size_t i = 0; i < len; i++)
        src[i] = (uint8_t)(FILL_BYTE + i);
    take_snapshot();
    memcpy(expect, snapshot, RAM_SIZE);
    int want = WALK_OK;
    bool outside = false;
    for (size_t done = 0; done < len;) {
        uint64_t va = gla + done, gpa;
        size_t n = PAGE_SIZE - (va & PAGE_OFF_MASK);
        if (n > len - done)
            n = len - done;
        int r = checked_walk(c, va, WALK_WRITE, &gpa);
        if (r != WALK_OK) {
            want = r;
            break;
        }
        if (gpa >= RAM_SIZE || n > RAM_SIZE - gpa)
            outside = true;
        else
            memcpy(expect + gpa, src + done, n);
        done += n;
    }
    struct walk_fault f = {.error_code = EC_SENTINEL, .cr2 = CR2_SENTINEL};
    int r = guest_write_gva(c, gla, src, len, &f);
    if (want != WALK_OK) {
        FUZZ_CHECK(r == want);
        FUZZ_CHECK(ram_equals(snapshot));
    } else if (outside) {
        FUZZ_CHECK(r == WALK_OUTSIDE_RAM && f.gpa >= RAM_SIZE);
    } else {
        FUZZ_CHECK(r == WALK_OK);
        FUZZ_CHECK(ram_equals(expect));
    }
    free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct walk_ctx c;
    unsigned access;
    size_t len;
    uint64_t gla;
    setup_once();
    build_ctx(&in, &c, &access, &len, &gla);
    fill_ram(&in, &c);
    check_walk(&c, gla, access);
    check_read(&c, gla, len, access);
    check_write(&c, gla, len);
    return 0;
}
