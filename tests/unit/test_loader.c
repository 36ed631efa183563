/* Unit tests for vmx/loader/loader.c: ELF32/ELF64/flat images into guest RAM, entry state, the
   Multiboot 1 information structure and the LONG64 identity page tables. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE for multi-GiB test RAM */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mm/pagetable.h"
#include "vmx/loader/elf.h"
#include "mm/guest_mem.h"
#include "vmx/loader/loader.h"
#include "vmx/loader/modargs.h"
#include "tests/unit/fake.h"

#define MIB          (1ull << 20)
#define GIB          (1ull << 30)
#define RAM_16M      (16 * MIB)
#define IMG_CAP      (256 * 1024)
#define ERR_MAX      192
#define KERNEL_BASE  0x100000ull
#define HIGH_HALF_32 0xC0000000ull
#define HIGH_HALF_64 0xFFFFFFFF80000000ull

/* ---- guest memory over host buffers ---- */

struct test_ram {
    struct guest_mem m;
    uint8_t *buf[GUEST_MEM_MAX_CHUNKS];
    size_t mapped; /* non-zero: buf[0] is one mmap of this many bytes */
};

/* RAM of `size` bytes split into `nchunks` chunks (the last takes the remainder), listed in
   reverse GPA order. */
static struct test_ram *ram_new(uint64_t size, size_t nchunks)
{
    struct test_ram *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->m.size = size;
    r->m.nchunks = nchunks;
    for (size_t i = 0; i < nchunks; i++) {
        uint64_t csize = size / nchunks, gpa = i * csize;
        if (i == nchunks - 1)
            csize = size - gpa;
        r->buf[i] = calloc(1, csize);
        assert_non_null(r->buf[i]);
        r->m.chunk[nchunks - 1 - i] =
            (struct guest_mem_chunk){gpa, 0x40000000ull + gpa, r->buf[i], csize, 0};
    }
    return r;
}

/* Large RAM without backing store until touched (for multi-GiB layouts). */
static struct test_ram *ram_new_sparse(uint64_t size)
{
    struct test_ram *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    assert_true(p != MAP_FAILED);
    r->buf[0] = p;
    r->mapped = size;
    r->m.size = size;
    r->m.nchunks = 1;
    r->m.chunk[0] = (struct guest_mem_chunk){0, 0x40000000ull, p, size, 0};
    return r;
}

static void ram_free(struct test_ram *r)
{
    if (r->mapped)
        munmap(r->buf[0], r->mapped);
    else
        for (size_t i = 0; i < r->m.nchunks; i++)
            free(r->buf[i]);
    free(r);
}

static void assert_ram_zero(const struct test_ram *r)
{
    static const uint8_t zero[4096];
    for (size_t i = 0; i < r->m.nchunks; i++) {
        const struct guest_mem_chunk *c = &r->m.chunk[i];
        for (uint64_t off = 0; off < c->size; off += sizeof(zero)) {
            uint64_t n = c->size - off < sizeof(zero) ? c->size - off : sizeof(zero);
            if (memcmp((uint8_t *)c->hva + off, zero, n) != 0)
                fail_msg("guest RAM written near GPA 0x%llx", (unsigned long long)(c->gpa + off));
        }
    }
}

static uint32_t ram_u32(const struct test_ram *r, uint64_t gpa)
{
    uint32_t v;
    assert_int_equal(guest_mem_read(&r->m, gpa, &v, sizeof(v)), 0);
    return v;
}

static uint64_t ram_u64(const struct test_ram *r, uint64_t gpa)
{
    uint64_t v;
    assert_int_equal(guest_mem_read(&r->m, gpa, &v, sizeof(v)), 0);
    return v;
}

static struct guest_config config(uint64_t mem)
{
    struct guest_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.name, "t");
    cfg.mem = mem;
    cfg.vcpus = 1;
    strcpy(cfg.cmdline, "console=ttyS0 quiet");
    return cfg;
}

static struct guest_config real_config(uint64_t load, uint64_t entry)
{
    struct guest_config cfg = config(RAM_16M);
    cfg.mode = GUEST_MODE_REAL;
    cfg.has_entry = cfg.has_load = true;
    cfg.load = load;
    cfg.entry = entry;
    return cfg;
}

/* ---- a tiny ELF builder: header, program headers, then each segment's file bytes ---- */

struct seg_spec {
    uint32_t type;
    uint64_t vaddr, paddr, filesz, memsz;
};

/* Images are built one byte into a buffer so every read the loader makes is unaligned. */
struct image {
    uint8_t storage[IMG_CAP + 1];
    uint8_t *p;
    size_t len;
    unsigned elf_class;
};

static uint8_t seg_byte(unsigned seg, uint64_t off)
{
    return (uint8_t)(0x11 * (seg + 1) + off * 13);
}

static size_t ehdr_size(unsigned elf_class)
{
    return elf_class == ELFCLASS32 ? sizeof(struct elf32_ehdr) : sizeof(struct elf64_ehdr);
}

static size_t phdr_size(unsigned elf_class)
{
    return elf_class == ELFCLASS32 ? sizeof(struct elf32_phdr) : sizeof(struct elf64_phdr);
}

static size_t phdr_at(const struct image *img, unsigned i)
{
    return ehdr_size(img->elf_class) + i * phdr_size(img->elf_class);
}

static void put16(struct image *img, size_t off, uint16_t v)
{
    memcpy(img->p + off, &v, sizeof(v));
}

static void put32(struct image *img, size_t off, uint32_t v)
{
    memcpy(img->p + off, &v, sizeof(v));
}

static void put64(struct image *img, size_t off, uint64_t v)
{
    memcpy(img->p + off, &v, sizeof(v));
}

static void build_elf(struct image *img, unsigned elf_class, uint64_t entry,
                      const struct seg_spec *segs, unsigned n)
{
    memset(img->storage, 0, sizeof(img->storage));
    img->p = img->storage + 1;
    img->elf_class = elf_class;
    const uint8_t ident[] = {ELFMAG0,     ELFMAG1,   ELFMAG2, ELFMAG3, (uint8_t)elf_class,
                             ELFDATA2LSB, EV_CURRENT};
    memcpy(img->p, ident, sizeof(ident));
    uint64_t data = phdr_at(img, n) + 3; /* odd offsets: unaligned segment data too */
    if (elf_class == ELFCLASS32) {
        struct elf32_ehdr h = {.e_type = ET_EXEC,
                               .e_machine = EM_386,
                               .e_version = EV_CURRENT,
                               .e_entry = (uint32_t)entry,
                               .e_phoff = sizeof(h),
                               .e_ehsize = sizeof(h),
                               .e_phentsize = sizeof(struct elf32_phdr),
                               .e_phnum = (uint16_t)n};
        memcpy(h.e_ident, ident, sizeof(ident));
        memcpy(img->p, &h, sizeof(h));
    } else {
        struct elf64_ehdr h = {.e_type = ET_EXEC,
                               .e_machine = EM_X86_64,
                               .e_version = EV_CURRENT,
                               .e_entry = entry,
                               .e_phoff = sizeof(h),
                               .e_ehsize = sizeof(h),
                               .e_phentsize = sizeof(struct elf64_phdr),
                               .e_phnum = (uint16_t)n};
        memcpy(h.e_ident, ident, sizeof(ident));
        memcpy(img->p, &h, sizeof(h));
    }
    for (unsigned i = 0; i < n; i++) {
        const struct seg_spec *s = &segs[i];
        assert_true(data + s->filesz <= IMG_CAP);
        if (elf_class == ELFCLASS32) {
            struct elf32_phdr ph = {s->type,
                                    (uint32_t)data,
                                    (uint32_t)s->vaddr,
                                    (uint32_t)s->paddr,
                                    (uint32_t)s->filesz,
                                    (uint32_t)s->memsz,
                                    PF_R | PF_X,
                                    0x1000};
            memcpy(img->p + phdr_at(img, i), &ph, sizeof(ph));
        } else {
            struct elf64_phdr ph = {s->type,  PF_R | PF_X, data,     s->vaddr,
                                    s->paddr, s->filesz,   s->memsz, 0x1000};
            memcpy(img->p + phdr_at(img, i), &ph, sizeof(ph));
        }
        for (uint64_t off = 0; off < s->filesz; off++)
            img->p[data + off] = seg_byte(i, off);
        data += s->filesz;
    }
    img->len = data;
}

/* One text segment (0x300 file bytes, 0x500 in memory) plus a data segment with .bss. */
static const struct seg_spec two_segs[] = {
    {PT_LOAD, KERNEL_BASE, KERNEL_BASE, 0x300, 0x500},
    {PT_LOAD, KERNEL_BASE + 0x1000, KERNEL_BASE + 0x1000, 0x123, 0x2000},
};

static void build_default(struct image *img, unsigned elf_class)
{
    build_elf(img, elf_class, KERNEL_BASE + 0x10, two_segs, 2);
}

static void assert_segment(const struct test_ram *r, unsigned i, const struct seg_spec *s)
{
    for (uint64_t off = 0; off < s->memsz; off++) {
        uint8_t b;
        assert_int_equal(guest_mem_read(&r->m, s->paddr + off, &b, 1), 0);
        uint8_t want = off < s->filesz ? seg_byte(i, off) : 0;
        if (b != want)
            fail_msg("segment %u +0x%llx: 0x%02x, want 0x%02x", i, (unsigned long long)off, b,
                     want);
    }
}

/* ---- successful loads ---- */

static void test_elf32_loads_segments_and_entry_state(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX] = "untouched";
    memset(r->buf[0] + KERNEL_BASE, 0xAA, 0x4000); /* .bss must be zeroed, not assumed zero */
    build_default(&img, ELFCLASS32);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_segment(r, 0, &two_segs[0]);
    assert_segment(r, 1, &two_segs[1]);
    assert_int_equal(r->buf[0][KERNEL_BASE + 0x500], 0xAA); /* gap between segments untouched */
    assert_int_equal(r->buf[0][KERNEL_BASE + 0x3000], 0xAA);
    assert_int_equal(e.mode, GUEST_CPU_PROT32);
    assert_int_equal(e.rip, KERNEL_BASE + 0x10);
    assert_int_equal(e.rax, 0x2BADB002);
    assert_int_equal(e.rbx, 0x1000);
    assert_int_equal(e.info_gpa, 0x1000);
    assert_int_equal(e.rsp, 0x9FC00);
    assert_int_equal(e.cr3, 0);
    assert_int_equal(e.rdi, 0);
    assert_int_equal(e.rsi, 0);
    assert_int_equal(ram_u64(r, LOADER_PT_BASE), 0); /* no page tables for ELF32 */
    ram_free(r);
}

static void test_elf64_loads_segments_and_entry_state(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    build_default(&img, ELFCLASS64);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_segment(r, 0, &two_segs[0]);
    assert_segment(r, 1, &two_segs[1]);
    assert_int_equal(e.mode, GUEST_CPU_LONG64);
    assert_int_equal(e.rip, KERNEL_BASE + 0x10);
    assert_int_equal(e.rdi, 0x1000);
    assert_int_equal(e.rsi, 0x2BADB002);
    assert_int_equal(e.rax, 0);
    assert_int_equal(e.rbx, 0);
    assert_int_equal(e.cr3, 0x2000);
    assert_int_equal(e.rsp, 0x9FC00);
    assert_int_equal(e.info_gpa, 0x1000);
    ram_free(r);
}

/* e_entry is a virtual address: translated through its segment, as GRUB does. */
static void test_entry_translated_from_vaddr(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    struct seg_spec low = {PT_LOAD, KERNEL_BASE, KERNEL_BASE, 0x100, 0x100};
    struct seg_spec high32[] = {low, {PT_LOAD, HIGH_HALF_32 + 0x200000, 0x200000, 0x80, 0x1000}};
    build_elf(&img, ELFCLASS32, HIGH_HALF_32 + 0x200040, high32, 2);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_int_equal(e.rip, 0x200040);
    assert_segment(r, 1, &high32[1]);
    struct seg_spec high64[] = {low, {PT_LOAD, HIGH_HALF_64 + 0x200000, 0x200000, 0x80, 0x1000}};
    build_elf(&img, ELFCLASS64, HIGH_HALF_64 + 0x200fff, high64, 2);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_int_equal(e.rip, 0x200fff); /* last byte of .bss still counts as inside */
    ram_free(r);
}

static void test_multiboot_info(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    memset(r->buf[0] + 0x1000, 0xCC, 0x1000); /* stale bytes in the info page get cleared */
    build_default(&img, ELFCLASS32);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);

    struct mb1_info info;
    assert_int_equal(guest_mem_read(&r->m, e.info_gpa, &info, sizeof(info)), 0);
    assert_int_equal(info.flags, (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9));
    assert_int_equal(info.mem_lower, 640);
    assert_int_equal(info.mem_upper, 15 * 1024);
    assert_int_equal(info.boot_device, 0);
    assert_int_equal(info.mods_count, 0);
    assert_int_equal(info.mods_addr, 0);
    assert_int_equal(info.mmap_length, 72);
    assert_int_equal(info.drives_length, 0);
    assert_int_equal(info.vbe_mode, 0);

    char text[256];
    assert_int_equal(guest_mem_read(&r->m, info.cmdline, text, sizeof(text)), 0);
    assert_memory_equal(text, "console=ttyS0 quiet", sizeof("console=ttyS0 quiet"));
    assert_int_equal(guest_mem_read(&r->m, info.boot_loader_name, text, 3), 0);
    assert_memory_equal(text, "hv", 3);

    static const struct {
        uint64_t base, length;
        uint32_t type;
    } want[] = {{0, 0x9FC00, 1}, {0x9FC00, 0x60400, 2}, {0x100000, RAM_16M - 0x100000, 1}};
    for (unsigned i = 0; i < 3; i++) {
        uint64_t entry = info.mmap_addr + i * 24;
        assert_int_equal(ram_u32(r, entry), 20);
        assert_int_equal(ram_u64(r, entry + 4), want[i].base);
        assert_int_equal(ram_u64(r, entry + 12), want[i].length);
        assert_int_equal(ram_u32(r, entry + 20), want[i].type);
    }
    /* Everything in the info page outside the structures is zero. */
    assert_int_equal(ram_u32(r, info.mmap_addr + 72), 0);
    assert_int_equal(r->buf[0][0x1FFF], 0);
    assert_int_equal(r->buf[0][0x0FFF], 0); /* below the reserved area: not touched */
    assert_int_equal(r->buf[0][0x2000], 0);
    ram_free(r);
}

static void test_multiboot_cmdline_full_length(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX], back[256];
    memset(cfg.cmdline, 'z', 255);
    cfg.cmdline[255] = '\0';
    memset(r->buf[0] + 0x1000, 0xCC, 0x1000);
    build_default(&img, ELFCLASS32);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_int_equal(guest_mem_read(&r->m, ram_u32(r, 0x1000 + 16), back, sizeof(back)), 0);
    assert_memory_equal(back, cfg.cmdline, 256);
    ram_free(r);
}

/* Walks the guest page tables from cr3 and checks the identity map of `mem` bytes. */
static void assert_identity_map(const struct test_ram *r, uint64_t cr3, uint64_t mem)
{
    const uint64_t table = PTE_P | PTE_W;
    uint64_t pml4e = ram_u64(r, cr3);
    assert_int_equal(pml4e & ~PTE_ADDR_MASK, table);
    for (unsigned i = 1; i < PT_ENTRIES; i++)
        assert_int_equal(ram_u64(r, cr3 + i * 8), 0);
    uint64_t pdpt = pml4e & PTE_ADDR_MASK;
    uint64_t pages = (mem + PAGE_2M - 1) / PAGE_2M;
    uint64_t pds = (mem + PAGE_1G - 1) / PAGE_1G;
    for (uint64_t g = 0; g < PT_ENTRIES; g++) {
        uint64_t pdpte = ram_u64(r, pdpt + g * 8);
        if (g >= pds) {
            assert_int_equal(pdpte, 0);
            continue;
        }
        assert_int_equal(pdpte & ~PTE_ADDR_MASK, table);
        uint64_t pd = pdpte & PTE_ADDR_MASK;
        assert_true(pd + PAGE_4K <= loader_reserved_end(&(struct guest_config){.mem = mem}));
        for (uint64_t k = 0; k < PT_ENTRIES; k++) {
            uint64_t page = g * PT_ENTRIES + k;
            uint64_t pde = ram_u64(r, pd + k * 8);
            if (page >= pages)
                assert_int_equal(pde, 0);
            else
                assert_int_equal(pde, page * PAGE_2M | PTE_P | PTE_W | PTE_PS);
        }
    }
}

static void test_elf64_page_tables(void **state)
{
    (void)state;
    static struct image img;
    struct guest_entry e;
    char err[ERR_MAX];
    build_default(&img, ELFCLASS64);
    const uint64_t sizes[] = {RAM_16M, 17 * MIB, MIB, 2 * GIB + 6 * MIB};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct test_ram *r = sizes[i] > RAM_16M ? ram_new_sparse(sizes[i]) : ram_new(sizes[i], 1);
        struct guest_config cfg = config(sizes[i]);
        if (sizes[i] < 2 * MIB) { /* 1 MiB of RAM: move the kernel below 1 MiB */
            struct seg_spec low = {PT_LOAD, 0x80000, 0x80000, 0x10, 0x20};
            build_elf(&img, ELFCLASS64, 0x80000, &low, 1);
        } else {
            build_default(&img, ELFCLASS64);
        }
        memset(r->buf[0] + LOADER_PT_BASE, 0xCC, 0x3000); /* stale entries get cleared */
        assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
        assert_int_equal(e.cr3, LOADER_PT_BASE);
        assert_identity_map(r, e.cr3, sizes[i]);
        ram_free(r);
    }
}

static void test_chunked_memory(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 2); /* [0, 8M) and [8M, 16M), listed in reverse */
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    const uint64_t boundary = 8 * MIB;
    struct seg_spec spanning[] = {
        {PT_LOAD, boundary - 0x1800, boundary - 0x1800, 0x2000, 0x3000},    /* file bytes span */
        {PT_LOAD, 2 * boundary - 0x100, 2 * boundary - 0x100, 0x80, 0x100}, /* ends at RAM end */
    };
    build_elf(&img, ELFCLASS64, boundary, spanning, 2);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_segment(r, 0, &spanning[0]);
    assert_segment(r, 1, &spanning[1]);
    assert_int_equal(r->buf[0][boundary - 0x1800], seg_byte(0, 0));
    assert_int_equal(r->buf[1][0], seg_byte(0, 0x1800)); /* first byte of the second chunk */
    assert_int_equal(r->buf[1][0x7FF], seg_byte(0, 0x1FFF));
    assert_int_equal(r->buf[1][0x800], 0);
    assert_int_equal(e.rip, boundary);
    assert_identity_map(r, e.cr3, RAM_16M);
    ram_free(r);
}

static void test_segment_at_zero_and_odd_types(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    struct seg_spec segs[] = {
        {PT_NULL, 0, 0, 0, 0},
        {PT_LOAD, 0, 0, 0x800, 0x1000},        /* [0, 0x1000): below the reserved area */
        {0x6474e551, 0, 0, 0, 0},              /* PT_GNU_STACK: ignored */
        {PT_LOAD, 0x5000, 0x5000, 0x10, 0x10}, /* just past the ELF32 reserved end */
        {PT_LOAD, 0x400000, 0x400000, 0, 0},   /* empty PT_LOAD: fine */
    };
    build_elf(&img, ELFCLASS32, 0x5000, segs, 5);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_segment(r, 1, &segs[1]);
    assert_segment(r, 3, &segs[3]);
    assert_int_equal(e.rip, 0x5000);
    ram_free(r);
}

static void test_flat_real_mode(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    struct guest_config cfg = real_config(0x7C00, 0x7C3E);
    struct guest_entry e;
    char err[ERR_MAX] = "untouched";
    uint8_t bin[512];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)(i ^ 0x5A);
    bin[0] = ELFMAG0; /* mode=real means flat even if it looks like ELF */
    assert_int_equal(loader_load(bin, sizeof(bin), &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_memory_equal(r->buf[0] + 0x7C00, bin, sizeof(bin));
    assert_int_equal(r->buf[0][0x7BFF], 0);
    assert_int_equal(r->buf[0][0x7E00], 0);
    assert_int_equal(e.mode, GUEST_CPU_REAL);
    assert_int_equal(e.rip, 0x7C3E);
    assert_int_equal(e.rax, 0x2BADB002);
    assert_int_equal(e.rbx, 0x1000);
    assert_int_equal(e.info_gpa, 0x1000);
    assert_int_equal(e.rsp, 0);
    assert_int_equal(e.cr3, 0);
    assert_int_equal(ram_u32(r, 0x1000), 0x245); /* MB1 info for real-mode guests too */

    /* The whole first MiB outside the info page is usable, up to the last byte. */
    cfg = real_config(0x2000, 0xFFFFF);
    uint8_t *big = malloc(0xFE000);
    memset(big, 0x77, 0xFE000);
    assert_int_equal(loader_load(big, 0xFE000, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_int_equal(r->buf[0][0xFFFFF], 0x77);
    assert_int_equal(r->buf[0][0x100000], 0);
    free(big);
    ram_free(r);
}

static void test_reserved_end(void **state)
{
    (void)state;
    struct guest_config cfg = config(RAM_16M);
    assert_int_equal(loader_reserved_end(&cfg), 0x5000);
    cfg.mem = GIB;
    assert_int_equal(loader_reserved_end(&cfg), 0x5000);
    cfg.mem = GIB + 4096;
    assert_int_equal(loader_reserved_end(&cfg), 0x6000);
    cfg.mem = 64 * GIB;
    assert_int_equal(loader_reserved_end(&cfg), 0x44000);
    cfg = real_config(0x7C00, 0x7C00);
    assert_int_equal(loader_reserved_end(&cfg), 0x2000);
}

static void test_config_mismatch_panics(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(32 * MIB);
    struct guest_entry e;
    char err[ERR_MAX];
    build_default(&img, ELFCLASS32);
    EXPECT_PANIC(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), "hv bug");
    cfg = real_config(0x7C00, 0x7C00);
    cfg.has_entry = false;
    EXPECT_PANIC(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), "modargs bug");
    assert_ram_zero(r);
    ram_free(r);
}

static void test_with_modargs(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(4 * MIB, 1);
    static struct image img;
    struct guest_config cfg;
    struct guest_entry e;
    char err[ERR_MAX];
    assert_int_equal(modargs_parse("/boot/k.elf mem=4M cmdline=\"a b\"", 0, &cfg, err, sizeof(err)),
                     0);
    build_default(&img, ELFCLASS64);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_int_equal(ram_u32(r, 0x1000 + 8), 3 * 1024);
    char text[4];
    assert_int_equal(guest_mem_read(&r->m, ram_u32(r, 0x1000 + 16), text, 4), 0);
    assert_memory_equal(text, "a b", 4);
    assert_identity_map(r, e.cr3, 4 * MIB);
    ram_free(r);
}

/* ---- rejections: each with its reason, leaving guest RAM all zero ---- */

static void expect_reject_cfg(const struct image *img, size_t len, const struct guest_config *cfg,
                              const char *reason)
{
    struct test_ram *r = ram_new(cfg->mem, 2);
    struct guest_entry e;
    char err[ERR_MAX] = "";
    if (loader_load(img->p, len, cfg, &r->m, &e, err, sizeof(err)) != -1)
        fail_msg("image accepted, expected \"%s\"", reason);
    if (!strstr(err, reason))
        fail_msg("error \"%s\" lacks \"%s\"", err, reason);
    assert_ram_zero(r);
    ram_free(r);
}

static void expect_reject(const struct image *img, const char *reason)
{
    struct guest_config cfg = config(RAM_16M);
    expect_reject_cfg(img, img->len, &cfg, reason);
}

static void test_reject_not_elf(void **state)
{
    (void)state;
    static struct image img;
    build_default(&img, ELFCLASS32);
    img.p[3] = 'G';
    expect_reject(&img, "bad ELF magic");
    expect_reject(&img, "not an ELF image (use mode=real entry= load= for flat binaries)");
    memcpy(img.p, "\xEA\x00\x7C\x00\x00", 5); /* a boot sector without mode=real */
    expect_reject(&img, "not an ELF image");
    build_default(&img, ELFCLASS32);
    struct guest_config cfg = config(RAM_16M);
    expect_reject_cfg(&img, 3, &cfg, "bad ELF magic");
    expect_reject_cfg(&img, 0, &cfg, "bad ELF magic");
}

static void test_reject_ident(void **state)
{
    (void)state;
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    build_default(&img, ELFCLASS32);
    expect_reject_cfg(&img, 10, &cfg, "truncated ELF header (10 bytes)");
    img.p[EI_CLASS] = 3;
    expect_reject(&img, "bad ELF class 3");
    img.p[EI_CLASS] = 0;
    expect_reject(&img, "bad ELF class 0");
    build_default(&img, ELFCLASS64);
    img.p[EI_DATA] = 2;
    expect_reject(&img, "bad ELF data encoding 2 (want 1, little-endian)");
    build_default(&img, ELFCLASS64);
    img.p[EI_VERSION] = 0;
    expect_reject(&img, "bad ELF version 0 in e_ident");
}

static void test_reject_truncated_header(void **state)
{
    (void)state;
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    build_default(&img, ELFCLASS32);
    expect_reject_cfg(&img, 51, &cfg, "truncated ELF header (51 bytes, need 52)");
    build_default(&img, ELFCLASS64);
    expect_reject_cfg(&img, 52, &cfg, "truncated ELF header (52 bytes, need 64)");
}

static void test_reject_header_fields(void **state)
{
    (void)state;
    static struct image img;
    for (unsigned cls = ELFCLASS32; cls <= ELFCLASS64; cls++) {
        bool is64 = cls == ELFCLASS64;
        size_t version =
            is64 ? offsetof(struct elf64_ehdr, e_version) : offsetof(struct elf32_ehdr, e_version);
        size_t type = offsetof(struct elf32_ehdr, e_type); /* same in both classes */
        size_t machine = offsetof(struct elf32_ehdr, e_machine);
        size_t phentsize = is64 ? offsetof(struct elf64_ehdr, e_phentsize)
                                : offsetof(struct elf32_ehdr, e_phentsize);
        size_t phnum =
            is64 ? offsetof(struct elf64_ehdr, e_phnum) : offsetof(struct elf32_ehdr, e_phnum);

        build_default(&img, cls);
        put32(&img, version, 2);
        expect_reject(&img, "bad ELF version 2");
        build_default(&img, cls);
        put16(&img, type, 3); /* ET_DYN */
        expect_reject(&img, "bad ELF type 3 (want ET_EXEC)");
        build_default(&img, cls);
        put16(&img, type, 1); /* ET_REL */
        expect_reject(&img, "bad ELF type 1");
        build_default(&img, cls);
        put16(&img, machine, is64 ? EM_386 : EM_X86_64);
        expect_reject(&img, is64 ? "bad ELF machine 3 (want 62 for ELF64)"
                                 : "bad ELF machine 62 (want 3 for ELF32)");
        build_default(&img, cls);
        put16(&img, phentsize, is64 ? 32 : 56);
        expect_reject(&img, is64 ? "bad e_phentsize 32 (want 56)" : "bad e_phentsize 56 (want 32)");
        build_default(&img, cls);
        put16(&img, phnum, 0);
        expect_reject(&img, "bad e_phnum 0 (want 1..64)");
        build_default(&img, cls);
        put16(&img, phnum, 65);
        expect_reject(&img, "bad e_phnum 65 (want 1..64)");
    }
}

static void test_reject_program_headers_truncated(void **state)
{
    (void)state;
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    build_default(&img, ELFCLASS32);
    expect_reject_cfg(&img, phdr_at(&img, 2) - 1, &cfg,
                      "truncated: program headers at 0x34 (+0x40) past end of file (115 bytes)");
    build_default(&img, ELFCLASS32);
    put32(&img, offsetof(struct elf32_ehdr, e_phoff), 0xFFFFFFF0u);
    expect_reject(&img, "truncated: program headers at 0xfffffff0");
    build_default(&img, ELFCLASS64);
    put64(&img, offsetof(struct elf64_ehdr, e_phoff), UINT64_MAX - 8); /* + table wraps */
    expect_reject(&img, "truncated: program headers");
    build_default(&img, ELFCLASS64);
    put16(&img, offsetof(struct elf64_ehdr, e_phnum), 64); /* table runs past the file */
    expect_reject(&img, "truncated: program headers");
}

static void test_reject_zero_entry(void **state)
{
    (void)state;
    static struct image img;
    struct seg_spec at_zero = {PT_LOAD, 0, 0, 0x10, 0x10};
    build_elf(&img, ELFCLASS32, 0, &at_zero, 1);
    expect_reject(&img, "zero entry point");
    build_elf(&img, ELFCLASS64, 0, two_segs, 2);
    expect_reject(&img, "zero entry point");
}

static void test_reject_filesz_above_memsz(void **state)
{
    (void)state;
    static struct image img;
    struct seg_spec bad[] = {two_segs[0], {PT_LOAD, 0x200000, 0x200000, 0x200, 0x100}};
    build_elf(&img, ELFCLASS32, KERNEL_BASE, bad, 2);
    expect_reject(&img, "segment 1: p_filesz 0x200 > p_memsz 0x100");
}

static void test_reject_segment_data_past_file(void **state)
{
    (void)state;
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    build_default(&img, ELFCLASS32);
    expect_reject_cfg(&img, img.len - 1, &cfg, "segment 1: file data at");
    expect_reject_cfg(&img, img.len - 1, &cfg, "past end of file");
    build_default(&img, ELFCLASS64);
    put64(&img, phdr_at(&img, 0) + offsetof(struct elf64_phdr, p_offset), UINT64_MAX - 0x100);
    expect_reject(&img, "segment 0: file data at 0xfffffffffffffeff (+0x300) past end of file");
    build_default(&img, ELFCLASS32);
    put32(&img, phdr_at(&img, 1) + offsetof(struct elf32_phdr, p_offset), 0xFFFFFF00u);
    expect_reject(&img, "segment 1: file data at 0xffffff00 (+0x123) past end of file");
}

static void test_reject_segment_outside_ram(void **state)
{
    (void)state;
    static struct image img;
    struct seg_spec past_end = {PT_LOAD, 0xFF0000, 0xFF0000, 0x10, 0x10001};
    build_elf(&img, ELFCLASS32, 0xFF0000, &past_end, 1);
    expect_reject(&img, "segment 0 [0xff0000,0x1000001) outside guest RAM (16 MiB)");
    struct seg_spec beyond = {PT_LOAD, 0x10000000, 0x10000000, 0, 0}; /* empty, but beyond */
    struct seg_spec two[] = {two_segs[0], beyond};
    build_elf(&img, ELFCLASS64, KERNEL_BASE, two, 2);
    expect_reject(&img, "segment 1 [0x10000000,0x10000000) outside guest RAM (16 MiB)");
    struct guest_config cfg = config(RAM_16M + 4096);
    struct seg_spec tail = {PT_LOAD, RAM_16M, RAM_16M, 0, 0x1001};
    build_elf(&img, ELFCLASS64, RAM_16M, &tail, 1);
    expect_reject_cfg(&img, img.len, &cfg, "outside guest RAM (16388 KiB)");
}

static void test_reject_huge_memsz(void **state)
{
    (void)state;
    static struct image img;
    struct seg_spec huge64 = {PT_LOAD, KERNEL_BASE, KERNEL_BASE, 0x10, UINT64_MAX - 0x1000};
    build_elf(&img, ELFCLASS64, KERNEL_BASE, &huge64, 1);
    expect_reject(&img, "segment 0: p_paddr 0x100000 + p_memsz 0xffffffffffffefff overflows");
    struct seg_spec huge32 = {PT_LOAD, KERNEL_BASE, KERNEL_BASE, 0x10, 0xFFFFFFFF};
    build_elf(&img, ELFCLASS32, KERNEL_BASE, &huge32, 1);
    expect_reject(&img, "segment 0 [0x100000,0x1000fffff) outside guest RAM (16 MiB)");
}

static void test_reject_elf32_past_4g(void **state)
{
    (void)state;
    static struct image img;
    struct test_ram *r = ram_new_sparse(5 * GIB);
    struct guest_config cfg = config(5 * GIB);
    struct guest_entry e;
    char err[ERR_MAX];
    struct seg_spec seg = {PT_LOAD, 0xFFFFF000, 0xFFFFF000, 0x10, 0x2000};
    build_elf(&img, ELFCLASS32, 0xFFFFF000, &seg, 1);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "segment 0 [0xfffff000,0x100001000) extends past 4 GiB (ELF32)"));
    assert_int_equal(r->buf[0][0xFFFFF000], 0);
    assert_int_equal(r->buf[0][0x1000], 0);
    seg.memsz = 0x1000; /* ends exactly at 4 GiB: fine */
    build_elf(&img, ELFCLASS32, 0xFFFFF000, &seg, 1);
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), 0);
    assert_int_equal(r->buf[0][0xFFFFF000], seg_byte(0, 0));
    ram_free(r);
}

static void test_reject_reserved_overlap(void **state)
{
    (void)state;
    static struct image img;
    struct seg_spec info = {PT_LOAD, 0x800, 0x800, 0x10, 0x801}; /* last byte hits 0x1000 */
    build_elf(&img, ELFCLASS32, 0x800, &info, 1);
    expect_reject(&img, "segment 0 [0x800,0x1001) overlaps the hv-reserved area [0x1000,0x5000)");
    struct seg_spec tables = {PT_LOAD, 0x4FFF, 0x4FFF, 0x1, 0x10};
    build_elf(&img, ELFCLASS64, 0x4FFF, &tables, 1);
    expect_reject(&img, "segment 0 [0x4fff,0x500f) overlaps the hv-reserved area [0x1000,0x5000)");
    build_elf(&img, ELFCLASS32, 0x4FFF, &tables, 1); /* the layout does not depend on the class */
    expect_reject(&img, "overlaps the hv-reserved area");
    struct seg_spec covering = {PT_LOAD, 0, 0, 0x10, 0x200000};
    build_elf(&img, ELFCLASS64, 0x8, &covering, 1);
    expect_reject(&img, "segment 0 [0x0,0x200000) overlaps the hv-reserved area");
    struct guest_config cfg = config(2 * GIB);
    struct seg_spec above_small_tables = {PT_LOAD, 0x5000, 0x5000, 0x1, 0x10};
    build_elf(&img, ELFCLASS64, 0x5000, &above_small_tables, 1);
    struct test_ram *r = ram_new_sparse(2 * GIB);
    struct guest_entry e;
    char err[ERR_MAX];
    assert_int_equal(loader_load(img.p, img.len, &cfg, &r->m, &e, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "overlaps the hv-reserved area [0x1000,0x6000)"));
    assert_int_equal(r->buf[0][0x5000], 0);
    ram_free(r);
}

static void test_reject_overlapping_segments(void **state)
{
    (void)state;
    static struct image img;
    struct seg_spec segs[] = {
        {PT_LOAD, KERNEL_BASE, KERNEL_BASE, 0x100, 0x1001},
        {PT_LOAD, KERNEL_BASE + 0x1000, KERNEL_BASE + 0x1000, 0x10, 0x10},
    };
    build_elf(&img, ELFCLASS64, KERNEL_BASE, segs, 2);
    expect_reject(&img, "segment 1 [0x101000,0x101010) overlaps segment 0 [0x100000,0x101001)");
}

static void test_reject_no_load_segment(void **state)
{
    (void)state;
    static struct image img;
    struct seg_spec segs[] = {{PT_NULL, KERNEL_BASE, KERNEL_BASE, 0x10, 0x10},
                              {4 /* PT_NOTE */, KERNEL_BASE, KERNEL_BASE, 0x10, 0x10}};
    build_elf(&img, ELFCLASS32, KERNEL_BASE, segs, 2);
    expect_reject(&img, "no PT_LOAD segment");
}

static void test_reject_entry_outside_segments(void **state)
{
    (void)state;
    static struct image img;
    build_elf(&img, ELFCLASS32, 0x200000, two_segs, 2);
    expect_reject(&img, "entry point 0x200000 outside every loaded segment");
    build_elf(&img, ELFCLASS64, KERNEL_BASE + 0x500, two_segs, 2); /* one past segment 0 */
    expect_reject(&img, "entry point 0x100500 outside every loaded segment");
    /* A physical address is not enough: e_entry is matched against p_vaddr. */
    struct seg_spec high = {PT_LOAD, HIGH_HALF_64 + KERNEL_BASE, KERNEL_BASE, 0x10, 0x10};
    build_elf(&img, ELFCLASS64, KERNEL_BASE, &high, 1);
    expect_reject(&img, "entry point 0x100000 outside every loaded segment");
}

static void test_reject_flat(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 2);
    struct guest_entry e;
    char err[ERR_MAX];
    static uint8_t bin[0x200];
    memset(bin, 0x90, sizeof(bin));
    struct guest_config cfg = real_config(0x7C00, 0x7C00);
    assert_int_equal(loader_load(bin, 0, &cfg, &r->m, &e, err, sizeof(err)), -1);
    assert_string_equal(err, "empty image");
    cfg = real_config(0xFFF00, 0xFFF00);
    assert_int_equal(loader_load(bin, sizeof(bin), &cfg, &r->m, &e, err, sizeof(err)), -1);
    assert_string_equal(err, "image [0xfff00,0x100100) extends past 1 MiB (real mode)");
    cfg = real_config(0x1F00, 0x1F00);
    assert_int_equal(loader_load(bin, sizeof(bin), &cfg, &r->m, &e, err, sizeof(err)), -1);
    assert_string_equal(err, "image [0x1f00,0x2100) overlaps the hv-reserved area [0x1000,0x2000)");
    cfg = real_config(0x0E01, 0x0E01);
    assert_int_equal(loader_load(bin, sizeof(bin), &cfg, &r->m, &e, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "overlaps the hv-reserved area"));
    assert_ram_zero(r);
    cfg = real_config(0x0E00, 0x0E00); /* ends exactly at 0x1000: fine */
    assert_int_equal(loader_load(bin, sizeof(bin), &cfg, &r->m, &e, err, sizeof(err)), 0);
    ram_free(r);
}

/* ---- modules handed to the guest (Multiboot 1 §3.3) ---- */

#define MB1_FLAGS_NO_MODS 0x245u
#define PAGE              0x1000ull

static uint8_t module_byte(unsigned mod, uint64_t off)
{
    return (uint8_t)(0x5A ^ (mod * 31 + off * 7));
}

/* Module data for module `mod` of `len` bytes (malloc'd). */
static uint8_t *module_data(unsigned mod, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = module_byte(mod, i);
    return p;
}

static struct loader_module module_of(unsigned index, const uint8_t *data, size_t len,
                                      const char *cmdline, size_t omit_at, size_t omit_len)
{
    return (struct loader_module){data, len, cmdline, omit_at, omit_len, index};
}

static struct mb1_info read_info(const struct test_ram *r)
{
    struct mb1_info info;
    assert_int_equal(guest_mem_read(&r->m, LOADER_MB1_INFO_GPA, &info, sizeof(info)), 0);
    return info;
}

/* Module i of the list at info.mods_addr is [start, start+len) holding module_data(mod, len),
   with the string `string`; returns the GPA of the string. */
static uint32_t assert_module(const struct test_ram *r, const struct mb1_info *info, unsigned i,
                              unsigned mod, uint64_t start, size_t len, const char *string)
{
    struct mb1_module e;
    char text[128];
    assert_int_equal(guest_mem_read(&r->m, info->mods_addr + i * 16ull, &e, sizeof(e)), 0);
    assert_int_equal(e.mod_start, start);
    assert_int_equal(e.mod_end, start + len);
    assert_int_equal(e.reserved, 0);
    for (uint64_t off = 0; off < len; off++) {
        uint8_t b;
        assert_int_equal(guest_mem_read(&r->m, start + off, &b, 1), 0);
        if (b != module_byte(mod, off))
            fail_msg("module %u +0x%llx: 0x%02x", mod, (unsigned long long)off, b);
    }
    assert_int_equal(guest_mem_read(&r->m, e.string, text, strlen(string) + 1), 0);
    assert_memory_equal(text, string, strlen(string) + 1);
    return e.string;
}

/* The memory map and mem_upper describe guest RAM exactly as without modules. */
static void assert_memory_info_unchanged(const struct test_ram *r, const struct mb1_info *info)
{
    assert_int_equal(info->mem_lower, 640);
    assert_int_equal(info->mem_upper, (r->m.size - MIB) / 1024);
    assert_int_equal(info->mmap_length, 72);
    assert_int_equal(ram_u64(r, info->mmap_addr + 2 * 24 + 4), MIB);
    assert_int_equal(ram_u64(r, info->mmap_addr + 2 * 24 + 12), r->m.size - MIB);
    assert_int_equal(ram_u32(r, info->mmap_addr + 2 * 24 + 20), 1);
}

static void test_one_module(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 2);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX] = "untouched";
    uint8_t *data = module_data(0, 0x1234);
    const char *line = "initrd-for=t hello world";
    struct loader_module mod = module_of(2, data, 0x1234, line, 0, strlen("initrd-for=t "));
    build_default(&img, ELFCLASS32); /* segments end at 0x103000 */
    assert_int_equal(
        loader_load_with_modules(img.p, img.len, &cfg, &mod, 1, &r->m, &e, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_segment(r, 0, &two_segs[0]);
    assert_segment(r, 1, &two_segs[1]);
    struct mb1_info info = read_info(r);
    assert_int_equal(info.flags, MB1_FLAGS_NO_MODS | (1u << 3));
    assert_int_equal(info.mods_count, 1);
    assert_int_equal(info.mods_addr, 0x105000); /* the page after the module */
    uint32_t string = assert_module(r, &info, 0, 0, 0x103000, 0x1234, "hello world");
    assert_int_equal(string, 0x105010); /* right after the list */
    assert_memory_info_unchanged(r, &info);
    assert_int_equal(r->buf[0][0x104234], 0); /* padding after the module stays zero */
    assert_int_equal(e.rbx, 0x1000);
    free(data);
    ram_free(r);
}

/* Several modules in order, page-aligned, a zero-length one taking no room; strings with the
   word left out anywhere; ELF64 and chunked RAM. */
static void test_several_modules(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 3);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    uint8_t *d0 = module_data(0, 0x1000), *d1 = module_data(1, 0), *d2 = module_data(2, 5);
    uint8_t *d3 = module_data(3, 0x1001);
    struct loader_module mods[] = {
        module_of(0, d0, 0x1000, "a initrd-for=t b", 1, strlen(" initrd-for=t")),
        module_of(3, d1, 0, "initrd-for=t", 0, strlen("initrd-for=t")),
        module_of(4, d2, 5, "env=1 initrd-for=t", 5, strlen(" initrd-for=t")),
        module_of(7, d3, 0x1001, NULL, 0, 0),
    };
    struct seg_spec seg = {PT_LOAD, 0x200000, 0x200000, 0x80, 0x123}; /* ends mid-page */
    build_elf(&img, ELFCLASS64, 0x200000, &seg, 1);
    assert_int_equal(
        loader_load_with_modules(img.p, img.len, &cfg, mods, 4, &r->m, &e, err, sizeof(err)), 0);
    assert_segment(r, 0, &seg);
    struct mb1_info info = read_info(r);
    assert_int_equal(info.flags, MB1_FLAGS_NO_MODS | (1u << 3));
    assert_int_equal(info.mods_count, 4);
    assert_module(r, &info, 0, 0, 0x201000, 0x1000, "a b");
    assert_module(r, &info, 1, 1, 0x202000, 0, "");
    assert_module(r, &info, 2, 2, 0x202000, 5, "env=1");
    assert_module(r, &info, 3, 3, 0x203000, 0x1001, "");
    assert_int_equal(info.mods_addr, 0x205000);
    /* The strings follow the list, one after another. */
    assert_int_equal(ram_u32(r, 0x205000 + 8), 0x205040);
    assert_int_equal(ram_u32(r, 0x205000 + 16 + 8), 0x205044);
    assert_int_equal(ram_u32(r, 0x205000 + 32 + 8), 0x205045);
    assert_int_equal(ram_u32(r, 0x205000 + 48 + 8), 0x20504b);
    assert_memory_info_unchanged(r, &info);
    assert_identity_map(r, e.cr3, RAM_16M);
    free(d0), free(d1), free(d2), free(d3);
    ram_free(r);
}

/* A kernel below 1 MiB or a real-mode image: modules still start at 1 MiB, clear of the
   hv-reserved area, the boot stack and the reserved hole [0x9FC00, 1 MiB). */
static void test_modules_at_or_above_1m(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    uint8_t *data = module_data(0, 0x20);
    struct loader_module mod = module_of(1, data, 0x20, "x", 0, 0);
    struct seg_spec low = {PT_LOAD, 0x8000, 0x8000, 0x10, 0x20};
    build_elf(&img, ELFCLASS32, 0x8000, &low, 1);
    assert_int_equal(
        loader_load_with_modules(img.p, img.len, &cfg, &mod, 1, &r->m, &e, err, sizeof(err)), 0);
    struct mb1_info info = read_info(r);
    assert_module(r, &info, 0, 0, 0x100000, 0x20, "x");
    assert_int_equal(info.mods_addr, 0x101000);

    memset(r->buf[0], 0, RAM_16M);
    cfg = real_config(0x7C00, 0x7C00);
    static const uint8_t bin[16] = {0xF4};
    assert_int_equal(
        loader_load_with_modules(bin, sizeof(bin), &cfg, &mod, 1, &r->m, &e, err, sizeof(err)), 0);
    info = read_info(r);
    assert_int_equal(info.flags, MB1_FLAGS_NO_MODS | (1u << 3));
    assert_module(r, &info, 0, 0, 0x100000, 0x20, "x");
    free(data);
    ram_free(r);
}

/* Rejections: each says which module, and guest RAM stays untouched. */
static void expect_reject_modules(const struct image *img, const struct guest_config *cfg,
                                  const struct loader_module *mods, size_t n, const char *reason)
{
    struct test_ram *r = ram_new(cfg->mem, 2);
    struct guest_entry e;
    char err[ERR_MAX] = "";
    if (loader_load_with_modules(img->p, img->len, cfg, mods, n, &r->m, &e, err, sizeof(err)) != -1)
        fail_msg("modules accepted, expected \"%s\"", reason);
    if (strcmp(err, reason) != 0)
        fail_msg("error \"%s\", expected \"%s\"", err, reason);
    assert_ram_zero(r);
    ram_free(r);
}

static void test_reject_module_does_not_fit(void **state)
{
    (void)state;
    static struct image img;
    static const uint8_t data[1];
    struct guest_config cfg = config(RAM_16M);
    build_default(&img, ELFCLASS32); /* modules from 0x103000 */
    const uint64_t room = RAM_16M - 0x103000;
    struct loader_module big = module_of(3, data, room + 1, "", 0, 0);
    expect_reject_modules(&img, &cfg, &big, 1,
                          "module 3 (15716353 bytes) at [0x103000,0x1000001) does not fit in "
                          "guest RAM (16 MiB)");
    /* The second of two: the first takes the room. */
    struct loader_module two[] = {module_of(1, data, 0x800000, "", 0, 0),
                                  module_of(2, data, room - 0x800000 + 1, "", 0, 0)};
    expect_reject_modules(&img, &cfg, two, 2,
                          "module 2 (7327745 bytes) at [0x903000,0x1000001) does not fit in guest "
                          "RAM (16 MiB)");
    /* The module fits to the last byte, but the list after it does not. */
    struct loader_module exact = module_of(5, data, room, "initrd-for=t abc", 0, 13);
    expect_reject_modules(&img, &cfg, &exact, 1,
                          "module list (20 bytes) at [0x1000000,0x1000014) does not fit in guest "
                          "RAM (16 MiB)");
    /* A length that would wrap around. */
    struct loader_module huge = module_of(0, data, SIZE_MAX, "", 0, 0);
    expect_reject_modules(&img, &cfg, &huge, 1,
                          "module 0 (18446744073709551615 bytes) at [0x103000,0xffffffffffffffff) "
                          "does not fit in guest RAM (16 MiB)");
}

/* The list and its strings may end at the last byte of RAM, not one past it. */
#define STRING_ROOM                                                                                \
    (RAM_16M - 0x104000 - 16) /* after a 3-byte module at 0x103000 and its entry                   \
                               */
static void test_module_list_fits_exactly(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    static char line[STRING_ROOM + 1];
    uint8_t *data = module_data(0, 3);
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    build_default(&img, ELFCLASS32);
    memset(line, 'b', STRING_ROOM - 1);
    struct loader_module mod = module_of(0, data, 3, line, 0, 0);
    assert_int_equal(
        loader_load_with_modules(img.p, img.len, &cfg, &mod, 1, &r->m, &e, err, sizeof(err)), 0);
    struct mb1_info info = read_info(r);
    assert_int_equal(info.mods_addr, 0x104000);
    assert_int_equal(ram_u32(r, 0x104000 + 8), 0x104010);
    assert_int_equal(r->buf[0][RAM_16M - 2], 'b');
    assert_int_equal(r->buf[0][RAM_16M - 1], 0);
    line[STRING_ROOM - 1] = 'b'; /* one byte more: the NUL no longer fits */
    expect_reject_modules(&img, &cfg, &mod, 1,
                          "module list (15712257 bytes) at [0x104000,0x1000001) does not fit in "
                          "guest RAM (16 MiB)");
    free(data);
    ram_free(r);
}

/* Multiboot 1 addresses are 32-bit: nothing may end above 4 GiB, even inside guest RAM. */
static void test_reject_module_past_4g(void **state)
{
    (void)state;
    static struct image img;
    static const uint8_t data[1];
    struct test_ram *r = ram_new_sparse(5 * GIB);
    struct guest_config cfg = config(5 * GIB);
    struct guest_entry e;
    char err[ERR_MAX];
    struct seg_spec top = {PT_LOAD, 0xFFFFF000, 0xFFFFF000, 0x10, 0x1000}; /* ends at 4 GiB */
    build_elf(&img, ELFCLASS64, 0xFFFFF000, &top, 1);
    struct loader_module mod = module_of(1, data, 1, "", 0, 0);
    assert_int_equal(
        loader_load_with_modules(img.p, img.len, &cfg, &mod, 1, &r->m, &e, err, sizeof(err)), -1);
    assert_string_equal(err, "module 1 (1 bytes) at [0x100000000,0x100000001) extends past 4 GiB "
                             "(Multiboot 1)");
    assert_int_equal(r->buf[0][0xFFFFF000], 0);
    ram_free(r);
}

static void test_module_omit_outside_cmdline_panics(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_16M, 1);
    static struct image img;
    static const uint8_t data[1];
    struct guest_config cfg = config(RAM_16M);
    struct guest_entry e;
    char err[ERR_MAX];
    build_default(&img, ELFCLASS32);
    struct loader_module mod = module_of(0, data, 1, "abc", 2, 2);
    EXPECT_PANIC(
        loader_load_with_modules(img.p, img.len, &cfg, &mod, 1, &r->m, &e, err, sizeof(err)),
        "hv bug");
    mod = module_of(0, data, 1, "abc", 4, 0);
    EXPECT_PANIC(
        loader_load_with_modules(img.p, img.len, &cfg, &mod, 1, &r->m, &e, err, sizeof(err)),
        "outside its command line");
    assert_ram_zero(r);
    ram_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf32_loads_segments_and_entry_state),
        cmocka_unit_test(test_elf64_loads_segments_and_entry_state),
        cmocka_unit_test(test_entry_translated_from_vaddr),
        cmocka_unit_test(test_multiboot_info),
        cmocka_unit_test(test_multiboot_cmdline_full_length),
        cmocka_unit_test(test_elf64_page_tables),
        cmocka_unit_test(test_chunked_memory),
        cmocka_unit_test(test_segment_at_zero_and_odd_types),
        cmocka_unit_test(test_flat_real_mode),
        cmocka_unit_test(test_reserved_end),
        cmocka_unit_test(test_config_mismatch_panics),
        cmocka_unit_test(test_with_modargs),
        cmocka_unit_test(test_reject_not_elf),
        cmocka_unit_test(test_reject_ident),
        cmocka_unit_test(test_reject_truncated_header),
        cmocka_unit_test(test_reject_header_fields),
        cmocka_unit_test(test_reject_program_headers_truncated),
        cmocka_unit_test(test_reject_zero_entry),
        cmocka_unit_test(test_reject_filesz_above_memsz),
        cmocka_unit_test(test_reject_segment_data_past_file),
        cmocka_unit_test(test_reject_segment_outside_ram),
        cmocka_unit_test(test_reject_huge_memsz),
        cmocka_unit_test(test_reject_elf32_past_4g),
        cmocka_unit_test(test_reject_reserved_overlap),
        cmocka_unit_test(test_reject_overlapping_segments),
        cmocka_unit_test(test_reject_no_load_segment),
        cmocka_unit_test(test_reject_entry_outside_segments),
        cmocka_unit_test(test_reject_flat),
        cmocka_unit_test(test_one_module),
        cmocka_unit_test(test_several_modules),
        cmocka_unit_test(test_modules_at_or_above_1m),
        cmocka_unit_test(test_reject_module_does_not_fit),
        cmocka_unit_test(test_module_list_fits_exactly),
        cmocka_unit_test(test_reject_module_past_4g),
        cmocka_unit_test(test_module_omit_outside_cmdline_panics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
