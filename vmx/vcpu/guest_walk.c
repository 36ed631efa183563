/* The guest's page walk and guest-memory copy helpers (see guest_walk.h). */
#include "vmx/vcpu/guest_walk.h"
#include "kernel/lib/msr.h"
#include "kernel/panic.h"
#include "kernel/lib/x86.h"

#define WALK_ACCESS_FLAGS (WALK_WRITE | WALK_FETCH | WALK_IMPLICIT_SUPERVISOR)
#define CPL_USER          3u
#define LEGACY_LA_MASK    0xFFFFFFFFull /* linear addresses are 32 bits outside long mode */

/* 32-bit paging (§4.3): 10-bit indices at linear-address bits 31:22 and 21:12; tables and
   pages are addressed by bits 31:12 of CR3 / the entry, 4 MiB pages by bits 31:22. */
#define PD32_SHIFT           22
#define PT32_SHIFT           12
#define INDEX32_MASK         (GPTE32_ENTRIES - 1u)
#define GPTE32_SIZE          4u
#define ADDR32_4K_MASK       0xFFFFF000ull
#define ADDR32_4M_MASK       0xFFC00000ull
#define PAGE32_4M_SIZE       (1ull << PD32_SHIFT)
#define PSE36_MAXPHYADDR_CAP 40 /* §4.3: M = min(MAXPHYADDR, 40) for PSE-36 */
#define PSE36_LOW_ADDR_BIT   32 /* the PSE-36 field holds address bits (M-1):32 */

/* PAE and 4-level formats (§4.4, §4.5): 9-bit indices, 8-byte entries. */
#define GPTE_SIZE            8u
#define INDEX_BITS           9
#define INDEX_MASK           (GPTE_ENTRIES - 1u)
#define PML5_SHIFT           48
#define PML4_SHIFT           39
#define PDPT_SHIFT           30 /* also the largest page: 1 GiB */
#define PD_SHIFT             21
#define PAE_PDPTE_SHIFT      30 /* PAE: linear-address bits 31:30 select one of 4 PDPTEs */
#define PAE_PDPTE_COUNT      4u
#define LARGE_PAGE_LOW_RSVD  13 /* bits (page shift - 1):13 of a large-page entry are reserved */
#define ADDR_TOP_BIT_4LEVEL  51 /* 4-level: bits 51:M reserved, 62:52 ignored */
#define ADDR_TOP_BIT_PAE     62 /* PAE: bits 62:M reserved */
#define CANONICAL_TOP_4LEVEL 47 /* bits 63:47 must be equal */
#define CANONICAL_TOP_5LEVEL 56
/* PAE PDPTE (Table 4-8): bits 2:1 and 8:5 are reserved, as are 63:M (no XD bit). */
#define PAE_PDPTE_RSVD_LOW (GPTE_RW | GPTE_US | GPTE_A | GPTE_D | GPTE_PS | GPTE_G)

#define U64_TOP_BIT 63

/* Bits hi:lo of a 64-bit value (empty when hi < lo). */
static uint64_t bit_range(unsigned hi, unsigned lo)
{
    if (hi < lo)
        return 0;
    uint64_t upto_hi = hi >= U64_TOP_BIT ? ~0ull : (1ull << (hi + 1)) - 1;
    return upto_hi & ~((1ull << lo) - 1);
}

/* Physical address of a table or page: bits (M-1):12. */
static uint64_t phys_addr_mask(void)
{
    return bit_range(WALK_MAXPHYADDR - 1, PAGE_SHIFT);
}

/* Rights granted by every entry seen so far (§4.6: a right holds only if all entries grant it). */
struct walk {
    const struct walk_ctx *c;
    uint64_t la; /* the linear address, truncated to 32 bits outside long mode */
    unsigned access;
    bool user_page; /* U/S=1 everywhere: a user-mode address */
    bool writable;  /* R/W=1 everywhere */
    bool exec;      /* XD=0 everywhere (XD only exists, unreserved, with NXE) */
};

static bool is_user_access(const struct walk *w)
{
    return w->c->cpl == CPL_USER && !(w->access & WALK_IMPLICIT_SUPERVISOR);
}

/* The error-code bits that describe the access itself (§4.7). */
static uint32_t access_error_bits(const struct walk *w)
{
    const struct walk_ctx *c = w->c;
    uint32_t ec = 0;
    if (w->access & WALK_WRITE)
        ec |= PF_EC_W;
    if (is_user_access(w))
        ec |= PF_EC_U;
    /* I/D is reported only when fetches can fault for their own sake: SMEP, or XD in use. */
    bool id_reported = (c->cr4 & CR4_SMEP) || ((c->cr4 & CR4_PAE) && (c->efer & EFER_NXE));
    if ((w->access & WALK_FETCH) && id_reported)
        ec |= PF_EC_I;
    return ec;
}

static int page_fault(const struct walk *w, uint32_t cause, struct walk_fault *f)
{
    f->error_code = cause | access_error_bits(w);
    f->cr2 = w->la;
    return WALK_PAGE_FAULT;
}

/* Reads one paging-structure entry (4 or 8 bytes) from guest RAM. */
static int read_entry(const struct walk_ctx *c, uint64_t gpa, unsigned size, uint64_t *entry)
{
    uint64_t e = 0; /* x86 is little-endian: a 4-byte entry fills the low half */
    if (guest_mem_read(c->mem, gpa, &e, size) != 0)
        return WALK_BAD_TABLE;
    *entry = e;
    return WALK_OK;
}

/* Applies one paging-structure entry: not present -> #PF (P=0); a reserved bit set -> #PF
   (P|RSVD; reserved bits only count in present entries); otherwise accumulates its rights. */
static int use_entry(struct walk *w, uint64_t entry, uint64_t rsvd, struct walk_fault *f)
{
    if (!(entry & GPTE_P))
        return page_fault(w, 0, f);
    if (entry & rsvd)
        return page_fault(w, PF_EC_P | PF_EC_RSVD, f);
    w->user_page = w->user_page && (entry & GPTE_US);
    w->writable = w->writable && (entry & GPTE_RW);
    w->exec = w->exec && !(entry & GPTE_XD);
    return WALK_OK;
}

/* SMAP (§4.6) forbids supervisor data accesses to user pages unless explicit with AC=1. */
static bool smap_forbids(const struct walk *w)
{
    const struct walk_ctx *c = w->c;
    bool excused = c->rflags_ac && !(w->access & WALK_IMPLICIT_SUPERVISOR);
    return (c->cr4 & CR4_SMAP) && !excused;
}

/* Access rights of the complete translation (§4.6). */
static bool access_allowed(const struct walk *w)
{
    const struct walk_ctx *c = w->c;
    if (w->access & WALK_FETCH) {
        if (!w->exec)
            return false;
        if (is_user_access(w))
            return w->user_page;
        return !(w->user_page && (c->cr4 & CR4_SMEP));
    }
    bool write = w->access & WALK_WRITE;
    if (is_user_access(w))
        return w->user_page && (!write || w->writable);
    if (w->user_page && smap_forbids(w))
        return false;
    /* Supervisor writes to read-only pages are allowed unless CR0.WP. */
    return !write || w->writable || !(c->cr0 & CR0_WP);
}

static int finish(struct walk *w, uint64_t page_gpa, uint64_t *gpa, struct walk_fault *f)
{
    if (!access_allowed(w))
        return page_fault(w, PF_EC_P, f);
    *gpa = page_gpa;
    return WALK_OK;
}

/* 32-bit paging, a PDE mapping a 4 MiB page (§4.3, Table 4-5): bits 20:13 give address bits
   (M-1):32 with M = min(MAXPHYADDR, 40) (PSE-36); the rest of 20:13 and bit 21 are reserved. */
static int map_4m_page(struct walk *w, uint64_t pde, uint64_t *gpa, struct walk_fault *f)
{
    unsigned m = WALK_MAXPHYADDR < PSE36_MAXPHYADDR_CAP ? WALK_MAXPHYADDR : PSE36_MAXPHYADDR_CAP;
    unsigned field_top = GPDE32_4M_HIGH_ADDR_SHIFT + GPDE32_4M_HIGH_ADDR_BITS - 1;
    unsigned field_unused = m - PSE36_LOW_ADDR_BIT + GPDE32_4M_HIGH_ADDR_SHIFT;
    int r = use_entry(w, pde, GPDE32_4M_RSVD | bit_range(field_top, field_unused), f);
    if (r != WALK_OK)
        return r;
    uint64_t high = (pde >> GPDE32_4M_HIGH_ADDR_SHIFT) & bit_range(GPDE32_4M_HIGH_ADDR_BITS - 1, 0);
    uint64_t base = (pde & ADDR32_4M_MASK) | (high << PSE36_LOW_ADDR_BIT);
    return finish(w, base | (w->la & (PAGE32_4M_SIZE - 1)), gpa, f);
}

/* 32-bit paging (§4.3): 4-byte entries, no reserved bits except in 4 MiB PDEs, no XD. */
static int walk_32bit(struct walk *w, uint64_t *gpa, struct walk_fault *f)
{
    const struct walk_ctx *c = w->c;
    uint64_t pde, pte;
    uint64_t pde_gpa =
        (c->cr3 & ADDR32_4K_MASK) + ((w->la >> PD32_SHIFT) & INDEX32_MASK) * GPTE32_SIZE;
    if (read_entry(c, pde_gpa, GPTE32_SIZE, &pde) != WALK_OK)
        return WALK_BAD_TABLE;
    if ((c->cr4 & CR4_PSE) && (pde & GPTE_PS)) /* PS is ignored without CR4.PSE */
        return map_4m_page(w, pde, gpa, f);
    int r = use_entry(w, pde, 0, f);
    if (r != WALK_OK)
        return r;
    uint64_t pte_gpa =
        (pde & ADDR32_4K_MASK) + ((w->la >> PT32_SHIFT) & INDEX32_MASK) * GPTE32_SIZE;
    if (read_entry(c, pte_gpa, GPTE32_SIZE, &pte) != WALK_OK)
        return WALK_BAD_TABLE;
    r = use_entry(w, pte, 0, f);
    if (r != WALK_OK)
        return r;
    return finish(w, (pte & ADDR32_4K_MASK) | (w->la & (PAGE_SIZE - 1)), gpa, f);
}

/*
 * The 8-byte-entry walk shared by PAE (§4.4, from the page directory) and 4/5-level paging
 * (§4.5, from the PML4/PML5): `table` is the table for the level whose index starts at
 * linear-address bit `shift`. An entry with PS=1 maps a page at the PD (2 MiB) and, in 4-level
 * paging, PDPT (1 GiB) levels; above that PS is reserved.
 */
static int walk_8byte(struct walk *w, uint64_t table, unsigned shift, unsigned addr_top_bit,
                      uint64_t *gpa, struct walk_fault *f)
{
    const struct walk_ctx *c = w->c;
    uint64_t common_rsvd = bit_range(addr_top_bit, WALK_MAXPHYADDR);
    if (!(c->efer & EFER_NXE))
        common_rsvd |= GPTE_XD;
    for (;;) {
        uint64_t entry;
        uint64_t entry_gpa = table + ((w->la >> shift) & INDEX_MASK) * GPTE_SIZE;
        if (read_entry(c, entry_gpa, GPTE_SIZE, &entry) != WALK_OK)
            return WALK_BAD_TABLE;
        bool leaf = shift == PAGE_SHIFT;
        bool large = !leaf && (entry & GPTE_PS) && shift <= PDPT_SHIFT;
        uint64_t rsvd = common_rsvd;
        if (large)
            rsvd |= bit_range(shift - 1, LARGE_PAGE_LOW_RSVD);
        else if (shift > PDPT_SHIFT)
            rsvd |= GPTE_PS; /* PML4E / PML5E: no pages that large */
        int r = use_entry(w, entry, rsvd, f);
        if (r != WALK_OK)
            return r;
        if (leaf || large) {
            uint64_t page_mask = bit_range(shift - 1, 0);
            return finish(w, (entry & phys_addr_mask() & ~page_mask) | (w->la & page_mask), gpa, f);
        }
        table = entry & phys_addr_mask();
        shift -= INDEX_BITS;
    }
}

/* PAE paging (§4.4): the PDPTE comes from the loaded copies, which carry no access rights. */
static int walk_pae(struct walk *w, uint64_t *gpa, struct walk_fault *f)
{
    uint64_t pdpte = w->c->pdpte[(w->la >> PAE_PDPTE_SHIFT) & (PAE_PDPTE_COUNT - 1)];
    if (!(pdpte & GPTE_P))
        return page_fault(w, 0, f);
    /* MOV to CR3 refuses such PDPTEs with #GP (§4.4.1) and VM entry checks them, so a loaded
       one can only come from corrupt state. */
    if (pdpte & (PAE_PDPTE_RSVD_LOW | bit_range(U64_TOP_BIT, WALK_MAXPHYADDR)))
        return WALK_BAD_TABLE;
    return walk_8byte(w, pdpte & phys_addr_mask(), PD_SHIFT, ADDR_TOP_BIT_PAE, gpa, f);
}

static bool is_canonical(uint64_t la, unsigned top_bit)
{
    uint64_t high = la & bit_range(U64_TOP_BIT, top_bit);
    return high == 0 || high == bit_range(U64_TOP_BIT, top_bit);
}

/* 4-level paging (§4.5), or 5-level with CR4.LA57. */
static int walk_long(struct walk *w, uint64_t *gpa, struct walk_fault *f)
{
    bool five = w->c->cr4 & CR4_LA57;
    if (!is_canonical(w->la, five ? CANONICAL_TOP_5LEVEL : CANONICAL_TOP_4LEVEL))
        return WALK_NON_CANONICAL;
    uint64_t root = w->c->cr3 & phys_addr_mask();
    return walk_8byte(w, root, five ? PML5_SHIFT : PML4_SHIFT, ADDR_TOP_BIT_4LEVEL, gpa, f);
}

int guest_walk(const struct walk_ctx *c, uint64_t gla, unsigned access, uint64_t *gpa,
               struct walk_fault *f)
{
    if ((access & ~(unsigned)WALK_ACCESS_FLAGS) || ((access & WALK_WRITE) && (access & WALK_FETCH)))
        panic("guest_walk: invalid access flags 0x%x", access);
    if (c->cpl > CPL_USER)
        panic("guest_walk: invalid CPL %u", c->cpl);
    bool long_mode = c->efer & EFER_LMA;
    struct walk w = {
        .c = c,
        .la = long_mode ? gla : gla & LEGACY_LA_MASK,
        .access = access,
        .user_page = true,
        .writable = true,
        .exec = true,
    };
    if (!(c->cr0 & CR0_PG)) {
        *gpa = w.la;
        return WALK_OK;
    }
    if (!(c->cr4 & CR4_PAE))
        return long_mode ? WALK_BAD_TABLE : walk_32bit(&w, gpa, f); /* LMA needs PAE (§4.1.1) */
    return long_mode ? walk_long(&w, gpa, f) : walk_pae(&w, gpa, f);
}

/* Bytes from gva to the end of its 4 KiB page, at most len. */
static size_t page_piece(uint64_t gva, size_t len)
{
    uint64_t room = PAGE_SIZE - (gva & (PAGE_SIZE - 1));
    return len < room ? len : (size_t)room;
}

/* The data piece at gpa does not fit in guest RAM: report where RAM ends or gpa, whichever is
   higher (the first byte an EPT violation would name). */
static int outside_ram(const struct guest_mem *m, uint64_t gpa, struct walk_fault *f)
{
    f->gpa = gpa < m->size ? m->size : gpa;
    return WALK_OUTSIDE_RAM;
}

int guest_read_gva(const struct walk_ctx *c, uint64_t gva, void *dst, size_t len,
                   unsigned access_flags, struct walk_fault *f)
{
    uint8_t *out = dst;
    while (len > 0) {
        size_t n = page_piece(gva, len);
        uint64_t gpa;
        int r = guest_walk(c, gva, access_flags, &gpa, f);
        if (r != WALK_OK)
            return r;
        if (guest_read_gpa(c->mem, gpa, out, n) != 0)
            return outside_ram(c->mem, gpa, f);
        out += n;
        gva += n;
        len -= n;
    }
    return WALK_OK;
}

/* Translates every page of [gva, gva+len) for writing, without touching memory. */
static int check_writable(const struct walk_ctx *c, uint64_t gva, size_t len, struct walk_fault *f)
{
    while (len > 0) {
        size_t n = page_piece(gva, len);
        uint64_t gpa;
        int r = guest_walk(c, gva, WALK_WRITE, &gpa, f);
        if (r != WALK_OK)
            return r;
        gva += n;
        len -= n;
    }
    return WALK_OK;
}

/* One write of at most a page, so at most two pages: both are translated before either is
   written, as the CPU does. Otherwise bytes landing in the guest's own paging structures would
   change how the second page translates (found by tests/fuzz/fuzz_guest_walk.c). */
static int write_slice(const struct walk_ctx *c, uint64_t gva, const uint8_t *in, size_t len,
                       struct walk_fault *f)
{
    uint64_t gpa[2];
    size_t piece[2] = {page_piece(gva, len), 0};
    piece[1] = len - piece[0];
    for (unsigned i = 0; i < 2 && piece[i]; i++) {
        int r = guest_walk(c, gva + (i ? piece[0] : 0), WALK_WRITE, &gpa[i], f);
        if (r != WALK_OK)
            return r;
    }
    for (unsigned i = 0; i < 2 && piece[i]; i++) {
        if (guest_write_gpa(c->mem, gpa[i], in, piece[i]) != 0)
            return outside_ram(c->mem, gpa[i], f);
        in += piece[i];
    }
    return WALK_OK;
}

int guest_write_gva(const struct walk_ctx *c, uint64_t gva, const void *src, size_t len,
                    struct walk_fault *f)
{
    int r = check_writable(c, gva, len, f);
    if (r != WALK_OK)
        return r;
    const uint8_t *in = src;
    while (len > 0) {
        size_t n = len < PAGE_SIZE ? len : PAGE_SIZE;
        r = write_slice(c, gva, in, n, f);
        if (r != WALK_OK)
            return r;
        in += n;
        gva += n;
        len -= n;
    }
    return WALK_OK;
}

int guest_read_gpa(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
    return guest_mem_read(m, gpa, dst, len) == 0 ? WALK_OK : WALK_BAD_TABLE;
}

int guest_write_gpa(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len)
{
    return guest_mem_write(m, gpa, src, len) == 0 ? WALK_OK : WALK_BAD_TABLE;
}
