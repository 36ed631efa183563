/* Unit tests for vmx/loader/bzimage.c: setup-header validation and every rejection reason, the
   kernel and initrd placement, the zero page (setup header copy, loader fields, E820 map,
   screen_info), the command line, the identity page tables, the boot GDT and the entry state. */
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
#include "mm/guest_mem.h"
#include "mm/pagetable.h"
#include "vmx/loader/bzimage.h"
#include "tests/unit/fake.h"

#define MIB        (1ull << 20)
#define GIB        (1ull << 30)
#define RAM_32M    (32 * MIB)
#define ERR_MAX    256
#define PREF       (16 * MIB)
#define ALIGN_2M   (2 * MIB)
#define INIT_SIZE  (4 * MIB)
#define SETUP_SECT 3u
#define KERNEL_LEN 0x3000u /* syssize * 16 */
#define IMG_CAP    (64 * 1024)
#define CMDLINE    "console=ttyS0 quiet"

/* ---- guest memory over host buffers ---- */

struct test_ram {
    struct guest_mem m;
    uint8_t *buf[GUEST_MEM_MAX_CHUNKS];
    size_t mapped; /* non-zero: buf[0] is one mmap of this many bytes */
};

/* RAM of `size` bytes in `nchunks` chunks (the last takes the remainder), in reverse GPA order. */
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

static uint64_t ram_u64(const struct test_ram *r, uint64_t gpa)
{
    uint64_t v;
    assert_int_equal(guest_mem_read(&r->m, gpa, &v, sizeof(v)), 0);
    return v;
}

static void ram_bytes(const struct test_ram *r, uint64_t gpa, void *dst, size_t n)
{
    assert_int_equal(guest_mem_read(&r->m, gpa, dst, n), 0);
}

/* ---- a synthetic bzImage: boot sector + setup sectors with the header, then the kernel ---- */

/* Built one byte into a buffer so every read the parser makes is unaligned. */
struct image {
    uint8_t storage[IMG_CAP + 1];
    uint8_t *p;
    size_t len;
};

static uint8_t kernel_byte(uint64_t off)
{
    return (uint8_t)(0x5A + off * 31);
}

#define SET(img, field, value)                                                                     \
    do {                                                                                           \
        __typeof__(((struct setup_header *)0)->field) v_ = (value);                                \
        memcpy((img)->p + BZ_HDR_OFF(field), &v_, sizeof(v_));                                     \
    } while (0)

static struct setup_header header_of(const struct image *img)
{
    struct setup_header h;
    memcpy(&h, img->p + BZ_SETUP_HEADER_OFFSET, sizeof(h));
    return h;
}

/* Debian 12's cloud kernel in miniature: protocol 2.15, relocatable, 64-bit entry, 16 MiB
   preferred address, 2 MiB alignment; small sizes. */
static void build(struct image *img)
{
    memset(img->storage, 0, sizeof(img->storage));
    img->p = img->storage + 1;
    size_t setup = (SETUP_SECT + 1) * BZ_SECTOR;
    img->len = setup + KERNEL_LEN;
    assert_true(img->len <= IMG_CAP);
    for (size_t i = 0; i < BZ_SETUP_HEADER_OFFSET; i++)
        img->p[i] = (uint8_t)(0xC0 + i); /* boot sector junk: never copied */
    SET(img, setup_sects, SETUP_SECT);
    SET(img, root_flags, 1);
    SET(img, syssize, KERNEL_LEN / 16);
    SET(img, vid_mode, 0xFFFF);
    SET(img, boot_flag, BZ_BOOT_FLAG);
    img->p[0x200] = 0xEB;                  /* jmp short */
    img->p[0x201] = BZ_HEADER_END - 0x202; /* to the end of the 2.15 header */
    SET(img, header, BZ_HEADER_MAGIC);
    SET(img, version, 0x020F);
    SET(img, kernel_version, 0x3A0);
    SET(img, loadflags, BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
    SET(img, code32_start, 0x100000);
    SET(img, heap_end_ptr, 0xFE00);
    SET(img, initrd_addr_max, 0x7FFFFFFF);
    SET(img, kernel_alignment, ALIGN_2M);
    SET(img, relocatable_kernel, 1);
    SET(img, min_alignment, 21);
    SET(img, xloadflags, 0x7F);
    SET(img, cmdline_size, 2047);
    SET(img, setup_data, 0x123456); /* must not reach the guest: hv passes no setup_data */
    SET(img, hardware_subarch, 2);  /* the guest is a PC (X86_SUBARCH_PC = 0), whatever this says */
    SET(img, hardware_subarch_data, 0x99);
    SET(img, payload_offset, 0x2CC);
    SET(img, payload_length, 0x1000);
    SET(img, pref_address, PREF);
    SET(img, init_size, INIT_SIZE);
    SET(img, handover_offset, 0x190);
    SET(img, kernel_info_offset, 0xABC);
    for (size_t i = 0; i < KERNEL_LEN; i++)
        img->p[setup + i] = kernel_byte(i);
}

static struct linux_boot_config boot_config(const char *cmdline)
{
    return (struct linux_boot_config){cmdline, NULL, 0, 0xE0000};
}

static int load(const struct image *img, const struct linux_boot_config *cfg, struct test_ram *r,
                struct guest_entry *e, struct bzimage_layout *l, char *err)
{
    return bzimage_load(img->p, img->len, cfg, &r->m, e, l, err, ERR_MAX);
}

/* ---- parsing ---- */

static void test_is_linux(void **state)
{
    (void)state;
    static struct image img;
    build(&img);
    assert_true(bzimage_is_linux(img.p, img.len));
    assert_true(bzimage_is_linux(img.p, 0x206));
    assert_false(bzimage_is_linux(img.p, 0x205));
    assert_false(bzimage_is_linux(NULL, 0));
    img.p[0x202] = 'h';
    assert_false(bzimage_is_linux(img.p, img.len));
    build(&img);
    SET(&img, boot_flag, 0xAA56);
    assert_false(bzimage_is_linux(img.p, img.len));
    static const uint8_t elf[0x300] = {0x7F, 'E', 'L', 'F'};
    assert_false(bzimage_is_linux(elf, sizeof(elf)));
}

static void test_parse_fields(void **state)
{
    (void)state;
    static struct image img;
    struct bzimage_info bz;
    char err[ERR_MAX];
    build(&img);
    assert_int_equal(bzimage_parse(img.p, img.len, &bz, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(bz.setup_size, (SETUP_SECT + 1) * 512);
    assert_int_equal(bz.kernel_offset, (SETUP_SECT + 1) * 512);
    assert_int_equal(bz.kernel_size, KERNEL_LEN);
    assert_int_equal(bz.header_end, BZ_HEADER_END);
    assert_int_equal(bz.hdr.version, 0x020F);
    assert_int_equal(bz.hdr.pref_address, PREF);
    assert_int_equal(bz.hdr.init_size, INIT_SIZE);
    assert_int_equal(bz.hdr.cmdline_size, 2047);
    assert_int_equal(bz.hdr.kernel_info_offset, 0xABC);
    assert_int_equal(bz.hdr.handover_offset, 0x190);
}

static void test_parse_setup_sects_zero_means_4(void **state)
{
    (void)state;
    static struct image img;
    struct bzimage_info bz;
    char err[ERR_MAX];
    build(&img);
    SET(&img, setup_sects, 0);
    /* The kernel now starts at 5 * 512 = 0xA00 instead of 0x800: 0x200 fewer kernel bytes. */
    SET(&img, syssize, (KERNEL_LEN - 0x200) / 16);
    assert_int_equal(bzimage_parse(img.p, img.len, &bz, err, sizeof(err)), 0);
    assert_int_equal(bz.setup_size, 5 * 512);
    assert_int_equal(bz.kernel_size, KERNEL_LEN - 0x200);
}

static void test_parse_protocol_212_header(void **state)
{
    (void)state;
    static struct image img;
    struct bzimage_info bz;
    char err[ERR_MAX];
    build(&img);
    SET(&img, version, 0x020C);
    img.p[0x201] = BZ_HEADER_END_212 - 0x202;
    assert_int_equal(bzimage_parse(img.p, img.len, &bz, err, sizeof(err)), 0);
    assert_int_equal(bz.header_end, BZ_HEADER_END_212);
    assert_int_equal(bz.hdr.kernel_info_offset, 0); /* not part of a 2.12 header */
    assert_int_equal(bz.hdr.handover_offset, 0x190);
    /* A jump beyond the zero page's room for the header is capped at 0x290. */
    img.p[0x201] = 0xFF;
    assert_int_equal(bzimage_parse(img.p, img.len, &bz, err, sizeof(err)), 0);
    assert_int_equal(bz.header_end, 0x290);
}

/* ---- loading ---- */

static void check_e820(const struct test_ram *r, const struct boot_e820_entry *want, unsigned n)
{
    uint8_t count;
    ram_bytes(r, LINUX_BOOT_PARAMS_GPA + offsetof(struct boot_params, e820_entries), &count, 1);
    assert_int_equal(count, n);
    for (unsigned i = 0; i < n; i++) {
        struct boot_e820_entry e;
        ram_bytes(r, LINUX_BOOT_PARAMS_GPA + 0x2D0 + i * 20, &e, sizeof(e));
        if (e.addr != want[i].addr || e.size != want[i].size || e.type != want[i].type)
            fail_msg("e820[%u] = {0x%llx, 0x%llx, %u}, want {0x%llx, 0x%llx, %u}", i,
                     (unsigned long long)e.addr, (unsigned long long)e.size, e.type,
                     (unsigned long long)want[i].addr, (unsigned long long)want[i].size,
                     want[i].type);
    }
}

static void test_load_kernel_and_entry(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_32M, 3);
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    build(&img);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_string_equal(err, "");
    assert_int_equal(l.kernel_gpa, PREF);
    assert_int_equal(l.kernel_end, PREF + INIT_SIZE);
    assert_int_equal(l.initrd_gpa, 0);
    assert_int_equal(l.initrd_size, 0);
    /* The protected-mode kernel, byte for byte, right after the setup sectors' bytes. */
    static uint8_t got[KERNEL_LEN + 16];
    ram_bytes(r, PREF, got, sizeof(got));
    for (size_t i = 0; i < KERNEL_LEN; i++)
        if (got[i] != kernel_byte(i))
            fail_msg("kernel byte %zu: 0x%02x", i, got[i]);
    for (size_t i = KERNEL_LEN; i < sizeof(got); i++)
        assert_int_equal(got[i], 0);
    /* Entry: startup_64, RSI = boot_params, the identity tables, the boot GDT. */
    assert_int_equal(e.mode, GUEST_CPU_LONG64);
    assert_int_equal(e.rip, PREF + 0x200);
    assert_int_equal(e.rsi, LINUX_BOOT_PARAMS_GPA);
    assert_int_equal(e.rsp, LINUX_BOOT_STACK_TOP);
    assert_int_equal(e.cr3, LINUX_PT_BASE);
    assert_int_equal(e.gdt_base, LINUX_GDT_GPA);
    assert_int_equal(e.gdt_limit, 31);
    assert_int_equal(e.cs_selector, 0x10);
    assert_int_equal(e.ds_selector, 0x18);
    assert_int_equal(e.rax | e.rbx | e.rdi | e.info_gpa, 0);
    ram_free(r);
}

static void test_boot_params(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_32M, 2);
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    build(&img);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    static struct boot_params bp;
    ram_bytes(r, LINUX_BOOT_PARAMS_GPA, &bp, sizeof(bp));
    /* screen_info all zero: no VGA text console (orig_video_lines/cols 0, isVGA 0). */
    static const uint8_t zero[0x1F1];
    assert_memory_equal(&bp.screen_info, zero, sizeof(bp.screen_info));
    assert_int_equal(bp.acpi_rsdp_addr, 0xE0000);
    assert_int_equal(bp.sentinel, 0);
    assert_int_equal(bp.ext_cmd_line_ptr, 0);
    assert_int_equal(bp.ext_ramdisk_image | bp.ext_ramdisk_size, 0);
    /* The setup header as in the image, except the fields a boot loader writes. */
    struct setup_header want = header_of(&img);
    want.type_of_loader = 0xFF;
    want.loadflags = BZ_LOADED_HIGH;
    want.heap_end_ptr = 0;
    want.setup_data = 0;
    want.hardware_subarch = 0;
    want.hardware_subarch_data = 0;
    want.cmd_line_ptr = LINUX_CMDLINE_GPA;
    assert_memory_equal(&bp.hdr, &want, sizeof(want));
    /* Nothing after the header; nothing between the E820 table's entries and the page end. */
    assert_memory_equal(bp.pad_26c, zero, sizeof(bp.pad_26c));
    assert_memory_equal((uint8_t *)&bp.e820_table[l.e820_entries], zero,
                        (E820_MAX_ENTRIES - l.e820_entries) * 20);
    /* The command line with its NUL. */
    char cmd[sizeof(CMDLINE) + 1];
    ram_bytes(r, LINUX_CMDLINE_GPA, cmd, sizeof(cmd));
    assert_memory_equal(cmd, CMDLINE "\0", sizeof(cmd));
    const struct boot_e820_entry map[] = {
        {0, 0x1000, E820_TYPE_RAM},
        {0x1000, 0x46000, E820_TYPE_RESERVED},
        {0x47000, 0x9FC00 - 0x47000, E820_TYPE_RAM},
        {0x9FC00, 0xE0000 - 0x9FC00, E820_TYPE_RESERVED},
        {0xE0000, 0x10000, E820_TYPE_ACPI},
        {0xF0000, 0x10000, E820_TYPE_RESERVED},
        {0x100000, RAM_32M - 0x100000, E820_TYPE_RAM},
        {0xFEC00000, 0x1000, E820_TYPE_RESERVED},
        {0xFEE00000, 0x1000, E820_TYPE_RESERVED},
    };
    assert_int_equal(l.e820_entries, 9);
    check_e820(r, map, 9);
    ram_free(r);
}

static void test_gdt(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_32M, 1);
    static struct image img;
    struct linux_boot_config cfg = boot_config(NULL);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    build(&img);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_int_equal(ram_u64(r, LINUX_GDT_GPA), 0);
    assert_int_equal(ram_u64(r, LINUX_GDT_GPA + 8), 0);
    uint64_t cs = ram_u64(r, LINUX_GDT_GPA + 0x10), ds = ram_u64(r, LINUX_GDT_GPA + 0x18);
    /* Flat 4 GiB: limit 0xFFFFF, base 0, G = 1; present, DPL 0, code/data. */
    assert_int_equal(cs & 0xFFFF, 0xFFFF);
    assert_int_equal((cs >> 48) & 0xF, 0xF);
    assert_int_equal(((cs >> 16) & 0xFFFFFF) | ((cs >> 56) << 24), 0);
    assert_int_equal((cs >> 40) & 0xFF, 0x9B); /* P, DPL 0, S, execute/read, accessed */
    assert_int_equal((cs >> 52) & 0xF, 0xA);   /* G, L, not D */
    assert_int_equal((ds >> 40) & 0xFF, 0x93); /* P, DPL 0, S, read/write, accessed */
    assert_int_equal((ds >> 52) & 0xF, 0xC);   /* G, D/B */
    assert_int_equal(ds & 0xFFFF, 0xFFFF);
    /* No command line: an empty string. */
    assert_int_equal(ram_u64(r, LINUX_CMDLINE_GPA), 0);
    ram_free(r);
}

/* Every address in [0, covered) maps to itself through CR3 (2 MiB pages, P|W|PS). */
static void assert_identity_map(const struct test_ram *r, uint64_t covered)
{
    uint64_t pml4e = ram_u64(r, LINUX_PT_BASE);
    assert_int_equal(pml4e, (LINUX_PT_BASE + 0x1000) | PTE_P | PTE_W);
    assert_int_equal(ram_u64(r, LINUX_PT_BASE + 8), 0);
    uint64_t pdpt = pml4e & PTE_ADDR_MASK;
    unsigned npd = (unsigned)(covered / GIB);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t pdpte = ram_u64(r, pdpt + i * 8);
        if (i >= npd) {
            assert_int_equal(pdpte, 0);
            continue;
        }
        assert_int_equal(pdpte & (PTE_P | PTE_W | PTE_PS), PTE_P | PTE_W);
        uint64_t pd = pdpte & PTE_ADDR_MASK;
        assert_true(pd >= LINUX_PT_BASE + 0x2000 && pd < LINUX_PT_END);
        for (unsigned j = 0; j < 512; j++) {
            uint64_t addr = i * GIB + j * PAGE_2M;
            uint64_t pde = ram_u64(r, pd + j * 8);
            bool mmio = addr >= 0xFEC00000ull && addr < 0x100000000ull;
            uint64_t flags = PTE_P | PTE_W | PTE_PS | (mmio ? PTE_PCD | PTE_PWT : 0);
            if (pde != (addr | flags))
                fail_msg("PDE for 0x%llx = 0x%llx", (unsigned long long)addr,
                         (unsigned long long)pde);
        }
    }
}

static void test_page_tables_cover_4g(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_32M, 2);
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    build(&img);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_identity_map(r, 4 * GIB);
    ram_free(r);
}

/* 5 GiB of RAM: the tables cover all of it; RAM under the MMIO window leaves the E820 map. */
static void test_large_ram(void **state)
{
    (void)state;
    struct test_ram *r = ram_new_sparse(5 * GIB);
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    build(&img);
    static uint8_t initrd[0x3000];
    memset(initrd, 0x77, sizeof(initrd));
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    SET(&img, initrd_addr_max, 0xFFFFFFFF);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_identity_map(r, 5 * GIB);
    /* The initrd stays below the MMIO window even when initrd_addr_max allows 4 GiB. */
    assert_int_equal(l.initrd_gpa, 0xFEC00000ull - 0x3000);
    const struct boot_e820_entry map[] = {
        {0, 0x1000, E820_TYPE_RAM},
        {0x1000, 0x46000, E820_TYPE_RESERVED},
        {0x47000, 0x9FC00 - 0x47000, E820_TYPE_RAM},
        {0x9FC00, 0xE0000 - 0x9FC00, E820_TYPE_RESERVED},
        {0xE0000, 0x10000, E820_TYPE_ACPI},
        {0xF0000, 0x10000, E820_TYPE_RESERVED},
        {0x100000, 0xFEC00000ull - 0x100000, E820_TYPE_RAM},
        {0xFEC00000, 0x1000, E820_TYPE_RESERVED},
        {0xFEE00000, 0x1000, E820_TYPE_RESERVED},
        {0x100000000ull, GIB, E820_TYPE_RAM},
    };
    check_e820(r, map, 10);
    /* A kernel reaching into the window is refused. */
    SET(&img, relocatable_kernel, 0);
    SET(&img, pref_address, 0xFEB00000ull);
    SET(&img, init_size, 0x200000);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), -1);
    assert_string_equal(err,
                        "kernel [0xfeb00000,0xfed00000) reaches the MMIO window at 0xfec00000");
    ram_free(r);
}

static void test_initrd_placed_high(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_32M, 3);
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    static uint8_t initrd[100001];
    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 7 + 1);
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    build(&img);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    uint64_t want = (RAM_32M - sizeof(initrd)) & ~0xFFFull;
    assert_int_equal(l.initrd_gpa, want);
    assert_int_equal(l.initrd_size, sizeof(initrd));
    static uint8_t got[sizeof(initrd)];
    ram_bytes(r, want, got, sizeof(got));
    assert_memory_equal(got, initrd, sizeof(initrd));
    struct setup_header h;
    ram_bytes(r, LINUX_BOOT_PARAMS_GPA + BZ_SETUP_HEADER_OFFSET, &h, sizeof(h));
    assert_int_equal(h.ramdisk_image, want);
    assert_int_equal(h.ramdisk_size, sizeof(initrd));

    /* initrd_addr_max below the end of RAM: the initrd ends at or below it + 1. */
    ram_free(r);
    r = ram_new(RAM_32M, 1);
    SET(&img, initrd_addr_max, 24 * MIB - 1);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_int_equal(l.initrd_gpa, (24 * MIB - sizeof(initrd)) & ~0xFFFull);
    ram_free(r);
}

static void test_initrd_below_kernel(void **state)
{
    (void)state;
    struct test_ram *r = ram_new(RAM_32M, 2);
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    static uint8_t initrd[0x2000];
    memset(initrd, 0xA5, sizeof(initrd));
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    build(&img);
    /* Only 0x1000 bytes above the kernel's init_size range below initrd_addr_max. */
    SET(&img, initrd_addr_max, (uint32_t)(PREF + INIT_SIZE + 0x1000 - 1));
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_int_equal(l.initrd_gpa, PREF - sizeof(initrd));
    assert_true(l.initrd_gpa + l.initrd_size <= l.kernel_gpa);
    ram_free(r);
}

static void expect_reject(const struct image *img, const struct linux_boot_config *cfg,
                          uint64_t mem, const char *reason)
{
    struct test_ram *r = ram_new(mem, 2);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    memset(&e, 0xEE, sizeof(e));
    if (load(img, cfg, r, &e, &l, err) != -1)
        fail_msg("accepted; expected \"%s\"", reason);
    if (strcmp(err, reason) != 0)
        fail_msg("reason \"%s\", expected \"%s\"", err, reason);
    assert_int_equal(e.mode, 0); /* entry cleared */
    assert_ram_zero(r);
    ram_free(r);
}

static void test_reject_not_bzimage(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    build(&img);
    img.len = 0x205;
    expect_reject(&img, &cfg, RAM_32M, "not a bzImage: 517 bytes, too short for a setup header");
    build(&img);
    SET(&img, boot_flag, 0x55AA);
    expect_reject(&img, &cfg, RAM_32M, "not a bzImage: no boot_flag 0xAA55 at 0x1FE");
    build(&img);
    SET(&img, header, 0x53726449);
    expect_reject(&img, &cfg, RAM_32M, "not a bzImage: no \"HdrS\" magic at 0x202");
    build(&img);
    img.len = 0x207;
    expect_reject(&img, &cfg, RAM_32M, "truncated setup header (519 bytes)");
    build(&img);
    SET(&img, loadflags, 0);
    expect_reject(&img, &cfg, RAM_32M, "not a bzImage: loadflags 0x0 lack LOADED_HIGH (a zImage)");
    struct test_ram *r = ram_new(RAM_32M, 1);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    assert_int_equal(bzimage_load(NULL, 0, &cfg, &r->m, &e, &l, err, sizeof(err)), -1);
    assert_string_equal(err, "not a bzImage: 0 bytes, too short for a setup header");
    ram_free(r);
}

static void test_reject_protocol(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    build(&img);
    SET(&img, version, 0x020B);
    expect_reject(&img, &cfg, RAM_32M,
                  "boot protocol 2.11 too old (need 2.12+ with a 64-bit entry point)");
    build(&img);
    SET(&img, xloadflags, 0x7E);
    expect_reject(&img, &cfg, RAM_32M, "no 64-bit entry point: xloadflags 0x7e lack XLF_KERNEL_64");
    build(&img);
    img.p[0x201] = 0x65; /* header ends at 0x267 */
    expect_reject(&img, &cfg, RAM_32M,
                  "setup header ends at 0x267, before the 2.12 fields (0x268)");
    build(&img);
    img.len = 0x260;
    expect_reject(&img, &cfg, RAM_32M, "truncated setup header (608 bytes, header ends at 0x26c)");
}

static void test_reject_setup_and_kernel_sizes(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    build(&img);
    SET(&img, setup_sects, 65);
    expect_reject(&img, &cfg, RAM_32M, "bad setup_sects 65 (at most 64)");
    build(&img);
    SET(&img, setup_sects, 64);
    expect_reject(&img, &cfg, RAM_32M,
                  "truncated setup: setup_sects 64 needs 33280 bytes, image has 14336");
    build(&img);
    img.len = 0x7FF; /* one byte short of the 4 setup-area sectors */
    expect_reject(&img, &cfg, RAM_32M,
                  "truncated setup: setup_sects 3 needs 2048 bytes, image has 2047");
    build(&img);
    SET(&img, syssize, 0);
    expect_reject(&img, &cfg, RAM_32M,
                  "bad syssize 0: a kernel of 0 bytes has no 64-bit entry at +0x200");
    build(&img);
    SET(&img, syssize, 0x20);
    expect_reject(&img, &cfg, RAM_32M,
                  "bad syssize 32: a kernel of 512 bytes has no 64-bit entry at +0x200");
    build(&img);
    img.len--;
    expect_reject(&img, &cfg, RAM_32M,
                  "truncated kernel: syssize says 0x3000 bytes at 0x800, image has 14335 bytes");
    build(&img);
    SET(&img, syssize, 0xFFFFFFFF);
    expect_reject(&img, &cfg, RAM_32M,
                  "truncated kernel: syssize says 0xffffffff0 bytes at 0x800, image has 14336 "
                  "bytes");
    build(&img);
    SET(&img, init_size, KERNEL_LEN - 1);
    expect_reject(&img, &cfg, RAM_32M,
                  "bad init_size 0x2fff: smaller than the kernel (0x3000 bytes)");
    build(&img);
    SET(&img, kernel_alignment, 0x3000);
    expect_reject(&img, &cfg, RAM_32M,
                  "bad kernel_alignment 0x3000 (want a power of two >= 4 KiB)");
    SET(&img, kernel_alignment, 0);
    expect_reject(&img, &cfg, RAM_32M, "bad kernel_alignment 0x0 (want a power of two >= 4 KiB)");
    SET(&img, kernel_alignment, 0x800);
    expect_reject(&img, &cfg, RAM_32M, "bad kernel_alignment 0x800 (want a power of two >= 4 KiB)");
    /* A non-relocatable kernel's alignment field is not used. */
    SET(&img, relocatable_kernel, 0);
    struct test_ram *r = ram_new(RAM_32M, 1);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    ram_free(r);
}

static void test_kernel_placement(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct test_ram *r = ram_new(RAM_32M, 2);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    /* Relocatable: an unaligned pref_address is rounded up to kernel_alignment. */
    build(&img);
    SET(&img, pref_address, PREF + 0x1000);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_int_equal(l.kernel_gpa, PREF + ALIGN_2M);
    assert_int_equal(e.rip, PREF + ALIGN_2M + 0x200);
    /* ... and one below 1 MiB (hv's boot data) is moved up to the first aligned address. */
    SET(&img, pref_address, 0);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_int_equal(l.kernel_gpa, ALIGN_2M);
    /* Not relocatable: exactly at pref_address, aligned or not. */
    SET(&img, relocatable_kernel, 0);
    SET(&img, pref_address, 0x1234000);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    assert_int_equal(l.kernel_gpa, 0x1234000);
    assert_int_equal(e.rip, 0x1234200);
    ram_free(r);
    SET(&img, pref_address, 0xFF000);
    expect_reject(&img, &cfg, RAM_32M,
                  "non-relocatable kernel at pref_address 0xff000, below 1 MiB (hv's boot data)");
    SET(&img, pref_address, 0xFFFFFFFFFFFFF000ull);
    expect_reject(&img, &cfg, RAM_32M, "bad pref_address 0xfffffffffffff000");
    SET(&img, relocatable_kernel, 1);
    expect_reject(&img, &cfg, RAM_32M, "bad pref_address 0xfffffffffffff000");
}

static void test_reject_kernel_larger_than_ram(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    build(&img);
    /* Debian's 6.1 cloud kernel: init_size 0x3378000 from 16 MiB needs 67.5 MiB. */
    SET(&img, init_size, 0x3378000);
    expect_reject(&img, &cfg, 64 * MIB,
                  "kernel larger than guest RAM: needs [0x1000000,0x4378000) (init_size "
                  "0x3378000), guest RAM is 64 MiB");
    struct test_ram *r = ram_new(68 * MIB, 1);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    ram_free(r);
    build(&img);
    SET(&img, init_size, (uint32_t)(RAM_32M - PREF + 0x1000));
    expect_reject(&img, &cfg, RAM_32M,
                  "kernel larger than guest RAM: needs [0x1000000,0x2001000) (init_size "
                  "0x1001000), guest RAM is 32 MiB");
}

static void test_reject_cmdline(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config("0123456789");
    struct test_ram *r = ram_new(RAM_32M, 1);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    build(&img);
    SET(&img, cmdline_size, 10); /* without the NUL: exactly 10 characters fit */
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    ram_free(r);
    cfg.cmdline = "0123456789a";
    expect_reject(&img, &cfg, RAM_32M,
                  "command line of 11 bytes longer than the kernel's cmdline_size 10");
    /* Longer than hv's page for it, even when the kernel would take it. */
    static char huge[LINUX_CMDLINE_MAX + 1];
    memset(huge, 'x', sizeof(huge) - 1);
    SET(&img, cmdline_size, 0xFFFFFFFF);
    cfg.cmdline = huge;
    expect_reject(&img, &cfg, RAM_32M, "command line longer than 4095 bytes");
    huge[LINUX_CMDLINE_MAX - 1] = '\0'; /* 4095 characters: fits */
    r = ram_new(RAM_32M, 1);
    assert_int_equal(load(&img, &cfg, r, &e, &l, err), 0);
    char tail[2];
    ram_bytes(r, LINUX_CMDLINE_GPA + LINUX_CMDLINE_MAX - 2, tail, 2);
    assert_memory_equal(tail, "x", 2);
    ram_free(r);
}

static void test_reject_initrd(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    static uint8_t initrd[16 * MIB];
    cfg.initrd = initrd;
    build(&img);
    /* [1 MiB, 32 MiB) holds 16 MiB, but not beside the kernel at [16 MiB, 20 MiB). */
    cfg.initrd_size = 16 * MIB;
    expect_reject(&img, &cfg, RAM_32M,
                  "initrd (16777216 bytes) would overlap the kernel [0x1000000,0x1400000): no "
                  "room above or below it under 0x2000000");
    cfg.initrd_size = 0x1000;
    SET(&img, initrd_addr_max, 0x7FFFF);
    expect_reject(&img, &cfg, RAM_32M,
                  "initrd (4096 bytes) does not fit below initrd_addr_max 0x7ffff");
    SET(&img, initrd_addr_max, 0x7FFFFFFF);
    cfg.initrd_size = 40 * MIB;
    expect_reject(&img, &cfg, RAM_32M,
                  "initrd (41943040 bytes) does not fit in guest RAM (32 MiB)");
    cfg.initrd_size = UINT64_MAX;
    expect_reject(&img, &cfg, RAM_32M,
                  "initrd (18446744073709551615 bytes) does not fit in guest RAM (32 MiB)");
}

static void test_bad_ram_size_panics(void **state)
{
    (void)state;
    static struct image img;
    struct linux_boot_config cfg = boot_config(CMDLINE);
    struct test_ram *r = ram_new(RAM_32M, 1);
    struct guest_entry e;
    struct bzimage_layout l;
    char err[ERR_MAX];
    build(&img);
    r->m.size = RAM_32M + 1;
    EXPECT_PANIC(load(&img, &cfg, r, &e, &l, err), "hv bug");
    r->m.size = RAM_32M;
    cfg.initrd_size = 1;
    EXPECT_PANIC(load(&img, &cfg, r, &e, &l, err), "initrd of 1 bytes without data (hv bug)");
    assert_ram_zero(r);
    ram_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_linux),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_setup_sects_zero_means_4),
        cmocka_unit_test(test_parse_protocol_212_header),
        cmocka_unit_test(test_load_kernel_and_entry),
        cmocka_unit_test(test_boot_params),
        cmocka_unit_test(test_gdt),
        cmocka_unit_test(test_page_tables_cover_4g),
        cmocka_unit_test(test_large_ram),
        cmocka_unit_test(test_initrd_placed_high),
        cmocka_unit_test(test_initrd_below_kernel),
        cmocka_unit_test(test_reject_not_bzimage),
        cmocka_unit_test(test_reject_protocol),
        cmocka_unit_test(test_reject_setup_and_kernel_sizes),
        cmocka_unit_test(test_kernel_placement),
        cmocka_unit_test(test_reject_kernel_larger_than_ram),
        cmocka_unit_test(test_reject_cmdline),
        cmocka_unit_test(test_reject_initrd),
        cmocka_unit_test(test_bad_ram_size_panics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
