/*
 * EPT builder tests over the fake frame allocator: translations, page-size choice, splits,
 * permissions and memory types, exact table-page accounting, flush signalling, bad
 * arguments and running out of memory part-way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "vmx/cpu/ept.h"
#include "tests/unit/fake.h"
#include "tests/unit/fake_frames.h"

#define KIB           (1ull << 10)
#define MIB           (1ull << 20)
#define GIB           (1ull << 30)
#define PAGE_4K       (4 * KIB)
#define PAGE_2M       (2 * MIB)
#define PAGE_1G       GIB
#define GPA_LIMIT     (1ull << 48)
#define HPA_LIMIT     (1ull << 52)
#define EPTP_WB_WALK4 0x1Eull /* memtype 6 | (4 - 1) << 3 */
#define EPTP_AD       0x40ull
#define RAM_HPA       (64 * GIB) /* host addresses mapped: never dereferenced */
/* Raw entry layout (SDM Tables 29-1..29-6), to check the tables independently of ept.c. */
#define E_RWX        0x7ull
#define E_LOW_BITS   0xFFFull
#define E_IGNORE_PAT (1ull << 6)
#define E_LARGE      (1ull << 7)
#define E_ACCESSED   (1ull << 8)
#define E_DIRTY      (1ull << 9)
#define E_ADDR       0x000FFFFFFFFFF000ull
#define E_ENTRIES    512
#define E_LEVELS     4

static const struct ept_caps caps_all = {.page_1g = true, .page_2m = true, .ad_bits = true};
static const struct ept_caps caps_2m = {.page_1g = false, .page_2m = true, .ad_bits = false};
static const struct ept_caps caps_4k = {.page_1g = false, .page_2m = false, .ad_bits = false};
static const struct ept_caps caps_1g_only = {.page_1g = true, .page_2m = false, .ad_bits = false};

struct fixture {
    struct ept ept;
    size_t frames_before;
};

static struct fixture fx;

static void start(const struct ept_caps *caps)
{
    fake_frames_fail_after(-1);
    fx.frames_before = fake_frames_in_use();
    assert_int_equal(ept_init(&fx.ept, caps), 0);
    assert_int_equal(fx.ept.table_pages, 1);
    assert_false(fx.ept.needs_flush);
    assert_int_equal(fake_frames_in_use(), fx.frames_before + 1);
}

/*
 * Counts the tables reachable from `table` while checking the structure: no table but the
 * root is empty, tables point down with R/W/X all set and nothing else, large pages only at
 * PDPTE/PDE level, no accessed/dirty/ignore-PAT bits.
 */
static uint64_t check_table(paddr_t table, unsigned level)
{
    const uint64_t *t = (const uint64_t *)(uintptr_t)table;
    uint64_t count = 1, present = 0;
    for (unsigned i = 0; i < E_ENTRIES; i++) {
        uint64_t e = t[i];
        if (!(e & E_RWX)) {
            assert_int_equal(e, 0);
            continue;
        }
        present++;
        assert_int_equal(e & (E_ACCESSED | E_DIRTY | E_IGNORE_PAT), 0);
        bool leaf = level == 1 || (e & E_LARGE);
        if (leaf) {
            assert_true(level < E_LEVELS);
            continue;
        }
        assert_int_equal(e & E_LOW_BITS, E_RWX);
        count += check_table(e & E_ADDR, level - 1);
    }
    if (level != E_LEVELS)
        assert_true(present > 0);
    return count;
}

static void check_tables(void)
{
    assert_int_equal(check_table(fx.ept.pml4, E_LEVELS), fx.ept.table_pages);
    assert_int_equal(fake_frames_in_use(), fx.frames_before + fx.ept.table_pages);
}

/* Checks the tables, destroys the EPT and checks every table page went back. */
static void finish(void)
{
    fake_frames_fail_after(-1);
    check_tables();
    ept_destroy(&fx.ept);
    assert_int_equal(fx.ept.table_pages, 0);
    assert_true(fx.ept.pml4 == PADDR_NONE);
    assert_int_equal(fake_frames_in_use(), fx.frames_before);
}

static void expect_map(uint64_t gpa, paddr_t hpa, unsigned perms, enum ept_memtype mt,
                       uint64_t page_size)
{
    paddr_t got_hpa = 0;
    unsigned got_perms = 0;
    enum ept_memtype got_mt = EPT_MT_UC;
    uint64_t got_size = 0;
    if (ept_translate(&fx.ept, gpa, &got_hpa, &got_perms, &got_mt, &got_size))
        fail_msg("gpa 0x%llx unmapped", (unsigned long long)gpa);
    assert_int_equal(got_hpa, hpa);
    assert_int_equal(got_perms, perms);
    assert_int_equal(got_mt, mt);
    assert_int_equal(got_size, page_size);
}

static void expect_unmapped(uint64_t gpa)
{
    paddr_t hpa = 0;
    if (ept_translate(&fx.ept, gpa, &hpa, NULL, NULL, NULL) == 0)
        fail_msg("gpa 0x%llx maps to 0x%llx", (unsigned long long)gpa, (unsigned long long)hpa);
}

/* Every 4 KiB page of [gpa, gpa+size) translates linearly to hpa with these attributes. */
static void expect_range(uint64_t gpa, paddr_t hpa, uint64_t size, unsigned perms,
                         enum ept_memtype mt, uint64_t page_size)
{
    for (uint64_t off = 0; off < size; off += PAGE_4K)
        expect_map(gpa + off, hpa + off, perms, mt, page_size);
    expect_map(gpa + size - 1, hpa + size - 1, perms, mt, page_size);
}

static void test_init_destroy_accounting(void **state)
{
    (void)state;
    start(&caps_all);
    assert_true(fx.ept.pml4 != PADDR_NONE);
    assert_int_equal(fx.ept.pml4 % PAGE_4K, 0);
    expect_unmapped(0);
    finish();
    ept_destroy(&fx.ept); /* second destroy: no-op */
    assert_int_equal(fake_frames_in_use(), fx.frames_before);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_4K, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_translate(&fx.ept, 0, NULL, NULL, NULL, NULL), -1);
}

static void test_init_out_of_memory(void **state)
{
    (void)state;
    struct ept ept;
    size_t before = fake_frames_in_use();
    fake_frames_fail_after(0);
    assert_int_equal(ept_init(&ept, &caps_all), -1);
    assert_int_equal(ept.table_pages, 0);
    assert_int_equal(fake_frames_in_use(), before);
    fake_frames_fail_after(-1);
}

static void test_map_4k_translate(void **state)
{
    (void)state;
    start(&caps_all);
    const uint64_t gpa = 0x1000, hpa = RAM_HPA + 0x5000, size = 3 * PAGE_4K;
    assert_int_equal(ept_map(&fx.ept, gpa, hpa, size, EPT_READ | EPT_WRITE, EPT_MT_WB), 0);
    expect_map(gpa, hpa, EPT_READ | EPT_WRITE, EPT_MT_WB, PAGE_4K);
    expect_map(gpa + 0x800, hpa + 0x800, EPT_READ | EPT_WRITE, EPT_MT_WB, PAGE_4K);
    expect_map(gpa + PAGE_4K + 0x123, hpa + PAGE_4K + 0x123, EPT_READ | EPT_WRITE, EPT_MT_WB,
               PAGE_4K);
    expect_map(gpa + size - 1, hpa + size - 1, EPT_READ | EPT_WRITE, EPT_MT_WB, PAGE_4K);
    expect_unmapped(gpa + size);
    expect_unmapped(gpa - 1);
    expect_unmapped(GPA_LIMIT - 1);
    expect_unmapped(GPA_LIMIT);
    assert_int_equal(fx.ept.table_pages, 4); /* PML4, PDPT, PD, PT */
    assert_false(fx.ept.needs_flush);
    finish();
}

static void test_translate_optional_outputs(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, PAGE_2M, RAM_HPA, PAGE_2M, EPT_READ, EPT_MT_UC), 0);
    uint64_t size = 0;
    assert_int_equal(ept_translate(&fx.ept, PAGE_2M + 5, NULL, NULL, NULL, &size), 0);
    assert_int_equal(size, PAGE_2M);
    finish();
}

static void test_1g_page_with_page_1g(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, GIB, 4 * GIB, GIB, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(fx.ept.table_pages, 2); /* PML4 + PDPT: one 1 GiB leaf */
    expect_map(GIB, 4 * GIB, EPT_RWX, EPT_MT_WB, PAGE_1G);
    expect_map(GIB + GIB / 2 + 0x42, 4 * GIB + GIB / 2 + 0x42, EPT_RWX, EPT_MT_WB, PAGE_1G);
    expect_map(2 * GIB - 1, 5 * GIB - 1, EPT_RWX, EPT_MT_WB, PAGE_1G);
    expect_unmapped(2 * GIB);
    expect_unmapped(GIB - 1);
    finish();
}

static void test_1g_range_without_page_1g_uses_2m(void **state)
{
    (void)state;
    start(&caps_2m);
    assert_int_equal(ept_map(&fx.ept, GIB, 4 * GIB, GIB, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(fx.ept.table_pages, 3); /* PML4, PDPT, one PD of 512 2 MiB leaves */
    for (uint64_t off = 0; off < GIB; off += PAGE_2M) {
        expect_map(GIB + off, 4 * GIB + off, EPT_RWX, EPT_MT_WB, PAGE_2M);
        expect_map(GIB + off + PAGE_2M - 1, 4 * GIB + off + PAGE_2M - 1, EPT_RWX, EPT_MT_WB,
                   PAGE_2M);
    }
    expect_unmapped(2 * GIB);
    finish();
}

static void test_no_large_pages_uses_4k(void **state)
{
    (void)state;
    start(&caps_4k);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, 2 * PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(fx.ept.table_pages, 5); /* PML4, PDPT, PD, 2 PTs */
    expect_range(0, RAM_HPA, 2 * PAGE_2M, EPT_RWX, EPT_MT_WB, PAGE_4K);
    finish();
}

static void test_misaligned_range_mixes_sizes(void **state)
{
    (void)state;
    start(&caps_all);
    const uint64_t gpa = GIB - PAGE_2M - 2 * PAGE_4K;
    const uint64_t end = 2 * GIB + PAGE_2M + PAGE_4K;
    const uint64_t delta = 4 * GIB; /* hpa = gpa + delta keeps the same alignment */
    assert_int_equal(ept_map(&fx.ept, gpa, gpa + delta, end - gpa, EPT_RWX, EPT_MT_WB), 0);
    /* PML4, PDPT, PD + PT for the first GiB, PD + PT for the third. */
    assert_int_equal(fx.ept.table_pages, 6);
    expect_range(gpa, gpa + delta, 2 * PAGE_4K, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_range(GIB - PAGE_2M, GIB - PAGE_2M + delta, PAGE_2M, EPT_RWX, EPT_MT_WB, PAGE_2M);
    expect_map(GIB, GIB + delta, EPT_RWX, EPT_MT_WB, PAGE_1G);
    expect_map(2 * GIB - 1, 2 * GIB - 1 + delta, EPT_RWX, EPT_MT_WB, PAGE_1G);
    expect_range(2 * GIB, 2 * GIB + delta, PAGE_2M, EPT_RWX, EPT_MT_WB, PAGE_2M);
    expect_range(2 * GIB + PAGE_2M, 2 * GIB + PAGE_2M + delta, PAGE_4K, EPT_RWX, EPT_MT_WB,
                 PAGE_4K);
    expect_unmapped(gpa - 1);
    expect_unmapped(end);
    finish();
}

static void test_hpa_alignment_limits_page_size(void **state)
{
    (void)state;
    start(&caps_all);
    /* gpa is 2 MiB-aligned but hpa only 4 KiB-aligned: 4 KiB pages only. */
    assert_int_equal(ept_map(&fx.ept, PAGE_2M, RAM_HPA + PAGE_4K, PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(fx.ept.table_pages, 4);
    expect_range(PAGE_2M, RAM_HPA + PAGE_4K, PAGE_2M, EPT_RWX, EPT_MT_WB, PAGE_4K);
    finish();
}

static void test_partial_unmap_splits_1g(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, GIB, 4 * GIB, GIB, EPT_RWX, EPT_MT_WB), 0);
    const uint64_t hole = GIB + 3 * MIB + 2 * PAGE_4K;
    assert_int_equal(ept_unmap(&fx.ept, hole, PAGE_4K), 0);
    assert_true(fx.ept.needs_flush);
    assert_int_equal(fx.ept.table_pages, 4); /* PML4, PDPT, PD, PT */
    expect_unmapped(hole);
    expect_unmapped(hole + PAGE_4K - 1);
    expect_map(hole - 1, 4 * GIB + (hole - GIB) - 1, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_map(hole + PAGE_4K, 4 * GIB + (hole - GIB) + PAGE_4K, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_map(GIB, 4 * GIB, EPT_RWX, EPT_MT_WB, PAGE_2M);
    expect_map(GIB + 2 * MIB - 1, 4 * GIB + 2 * MIB - 1, EPT_RWX, EPT_MT_WB, PAGE_2M);
    expect_map(GIB + 4 * MIB, 4 * GIB + 4 * MIB, EPT_RWX, EPT_MT_WB, PAGE_2M);
    expect_map(2 * GIB - 1, 5 * GIB - 1, EPT_RWX, EPT_MT_WB, PAGE_2M);
    finish();
}

static void test_split_1g_without_page_2m(void **state)
{
    (void)state;
    start(&caps_1g_only);
    assert_int_equal(ept_map(&fx.ept, 0, 4 * GIB, GIB, EPT_READ, EPT_MT_WT), 0);
    assert_int_equal(fx.ept.table_pages, 2);
    assert_int_equal(ept_unmap(&fx.ept, PAGE_4K, PAGE_4K), 0);
    /* No 2 MiB pages: the 1 GiB page becomes a PD of 512 PTs, one losing a page. */
    assert_int_equal(fx.ept.table_pages, 2 + 1 + 512);
    expect_unmapped(PAGE_4K);
    expect_map(0, 4 * GIB, EPT_READ, EPT_MT_WT, PAGE_4K);
    expect_map(2 * PAGE_4K, 4 * GIB + 2 * PAGE_4K, EPT_READ, EPT_MT_WT, PAGE_4K);
    expect_map(GIB - 1, 5 * GIB - 1, EPT_READ, EPT_MT_WT, PAGE_4K);
    finish();
}

static void test_partial_protect_splits_2m(void **state)
{
    (void)state;
    start(&caps_2m);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(fx.ept.table_pages, 3);
    assert_int_equal(ept_protect(&fx.ept, PAGE_4K, 2 * PAGE_4K, EPT_READ), 0);
    assert_true(fx.ept.needs_flush);
    assert_int_equal(fx.ept.table_pages, 4);
    expect_map(0, RAM_HPA, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_map(PAGE_4K - 1, RAM_HPA + PAGE_4K - 1, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_range(PAGE_4K, RAM_HPA + PAGE_4K, 2 * PAGE_4K, EPT_READ, EPT_MT_WB, PAGE_4K);
    expect_map(3 * PAGE_4K, RAM_HPA + 3 * PAGE_4K, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_map(PAGE_2M - 1, RAM_HPA + PAGE_2M - 1, EPT_RWX, EPT_MT_WB, PAGE_4K);
    finish();
}

static void test_protect_whole_large_page_keeps_it(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, 0, 4 * GIB, 2 * GIB, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_protect(&fx.ept, 0, 2 * GIB, EPT_READ | EPT_EXEC), 0);
    assert_int_equal(fx.ept.table_pages, 2);
    expect_map(0, 4 * GIB, EPT_READ | EPT_EXEC, EPT_MT_WB, PAGE_1G);
    expect_map(2 * GIB - 1, 6 * GIB - 1, EPT_READ | EPT_EXEC, EPT_MT_WB, PAGE_1G);
    finish();
}

static void test_needs_flush_rules(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, 4 * PAGE_4K, EPT_READ, EPT_MT_WB), 0);
    assert_false(fx.ept.needs_flush); /* fresh map */
    assert_int_equal(ept_map(&fx.ept, 4 * PAGE_4K, RAM_HPA, PAGE_4K, EPT_READ, EPT_MT_WB), 0);
    assert_false(fx.ept.needs_flush);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_4K, EPT_READ, EPT_MT_WB), 0);
    assert_false(fx.ept.needs_flush); /* identical remap changes nothing */
    assert_int_equal(ept_protect(&fx.ept, 0, PAGE_4K, EPT_RWX), 0);
    assert_false(fx.ept.needs_flush); /* rights only added */
    assert_int_equal(ept_unmap(&fx.ept, PAGE_2M, PAGE_4K), 0);
    assert_false(fx.ept.needs_flush); /* nothing was mapped there */
    assert_int_equal(ept_protect(&fx.ept, 0, PAGE_4K, EPT_READ | EPT_EXEC), 0);
    assert_true(fx.ept.needs_flush); /* write removed */
    fx.ept.needs_flush = false;      /* as the VMX layer does after INVEPT */
    assert_int_equal(ept_unmap(&fx.ept, PAGE_4K, PAGE_4K), 0);
    assert_true(fx.ept.needs_flush);
    fx.ept.needs_flush = false;
    assert_int_equal(ept_map(&fx.ept, 2 * PAGE_4K, RAM_HPA + GIB, PAGE_4K, EPT_READ, EPT_MT_WB), 0);
    assert_true(fx.ept.needs_flush); /* remapped to another page */
    fx.ept.needs_flush = false;
    assert_int_equal(
        ept_map(&fx.ept, 3 * PAGE_4K, RAM_HPA + 3 * PAGE_4K, PAGE_4K, EPT_READ, EPT_MT_UC), 0);
    assert_true(fx.ept.needs_flush); /* memory type changed */
    finish();
}

static void test_split_alone_needs_flush(void **state)
{
    (void)state;
    start(&caps_2m);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
    assert_false(fx.ept.needs_flush);
    /* Remapping one page identically changes no translation, but the 2 MiB page is split
       and CPUs may still cache it as one. */
    assert_int_equal(ept_map(&fx.ept, PAGE_4K, RAM_HPA + PAGE_4K, PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
    assert_true(fx.ept.needs_flush);
    expect_range(0, RAM_HPA, PAGE_2M, EPT_RWX, EPT_MT_WB, PAGE_4K);
    finish();
}

static void test_protect_unmapped_fails_unchanged(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_protect(&fx.ept, 0, 2 * PAGE_4K, EPT_READ), -1);
    assert_int_equal(ept_protect(&fx.ept, GIB, PAGE_4K, EPT_READ), -1);
    expect_map(0, RAM_HPA, EPT_RWX, EPT_MT_WB, PAGE_4K);
    assert_false(fx.ept.needs_flush);
    assert_int_equal(fx.ept.table_pages, 4);
    finish();
}

static void test_perms_and_memtypes_round_trip(void **state)
{
    (void)state;
    static const unsigned perms[] = {EPT_READ, EPT_READ | EPT_WRITE, EPT_READ | EPT_EXEC, EPT_RWX};
    static const enum ept_memtype types[] = {EPT_MT_UC, EPT_MT_WC, EPT_MT_WT, EPT_MT_WP, EPT_MT_WB};
    const size_t nperms = sizeof(perms) / sizeof(perms[0]);
    const size_t ntypes = sizeof(types) / sizeof(types[0]);
    start(&caps_all);
    for (size_t p = 0; p < nperms; p++)
        for (size_t t = 0; t < ntypes; t++) {
            uint64_t page = (p * ntypes + t) * PAGE_4K;
            assert_int_equal(ept_map(&fx.ept, page, RAM_HPA + page, PAGE_4K, perms[p], types[t]),
                             0);
        }
    for (size_t p = 0; p < nperms; p++)
        for (size_t t = 0; t < ntypes; t++) {
            uint64_t page = (p * ntypes + t) * PAGE_4K;
            expect_map(page + 7, RAM_HPA + page + 7, perms[p], types[t], PAGE_4K);
        }
    /* Guest RAM write-back, the local APIC page uncached. */
    const uint64_t ram = GIB, ram_size = 512 * MIB, apic = 0xFEE00000ull;
    assert_int_equal(ept_map(&fx.ept, ram, ram, ram_size, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_map(&fx.ept, apic, apic, PAGE_4K, EPT_READ | EPT_WRITE, EPT_MT_UC), 0);
    expect_map(ram + 0x1234, ram + 0x1234, EPT_RWX, EPT_MT_WB, PAGE_2M);
    expect_map(apic + 0x300, apic + 0x300, EPT_READ | EPT_WRITE, EPT_MT_UC, PAGE_4K);
    expect_unmapped(apic + PAGE_4K);
    finish();
}

static void test_remap_over_existing(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA + PAGE_4K, PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(fx.ept.table_pages, 4); /* 4 KiB pages: hpa not 2 MiB-aligned */
    assert_false(fx.ept.needs_flush);
    /* The same range remapped 2 MiB-aligned: one 2 MiB leaf replaces the PT. */
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_2M, EPT_READ, EPT_MT_UC), 0);
    assert_true(fx.ept.needs_flush);
    assert_int_equal(fx.ept.table_pages, 3);
    expect_range(0, RAM_HPA, PAGE_2M, EPT_READ, EPT_MT_UC, PAGE_2M);
    /* One page inside the 2 MiB page remapped elsewhere: split, neighbours keep theirs. */
    fx.ept.needs_flush = false;
    assert_int_equal(ept_map(&fx.ept, 5 * PAGE_4K, 2 * RAM_HPA, PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
    assert_true(fx.ept.needs_flush);
    assert_int_equal(fx.ept.table_pages, 4);
    expect_map(5 * PAGE_4K + 9, 2 * RAM_HPA + 9, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_range(0, RAM_HPA, 5 * PAGE_4K, EPT_READ, EPT_MT_UC, PAGE_4K);
    expect_range(6 * PAGE_4K, RAM_HPA + 6 * PAGE_4K, PAGE_2M - 6 * PAGE_4K, EPT_READ, EPT_MT_UC,
                 PAGE_4K);
    /* A 1 GiB map over all that frees the PD and PT below it. */
    assert_int_equal(ept_map(&fx.ept, 0, 4 * GIB, GIB, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(fx.ept.table_pages, 2);
    expect_map(5 * PAGE_4K, 4 * GIB + 5 * PAGE_4K, EPT_RWX, EPT_MT_WB, PAGE_1G);
    finish();
}

static void test_unmap_frees_empty_tables(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_map(&fx.ept, 512 * GIB + 3 * MIB, RAM_HPA, PAGE_4K, EPT_RWX, EPT_MT_WB),
                     0);
    assert_int_equal(fx.ept.table_pages, 7); /* PML4 + 2 x (PDPT, PD, PT) */
    assert_int_equal(ept_unmap(&fx.ept, 512 * GIB + 3 * MIB, PAGE_4K), 0);
    assert_int_equal(fx.ept.table_pages, 4);
    expect_map(0, RAM_HPA, EPT_RWX, EPT_MT_WB, PAGE_4K);
    assert_int_equal(ept_unmap(&fx.ept, 0, GPA_LIMIT), 0);
    assert_int_equal(fx.ept.table_pages, 1);
    assert_int_equal(fake_frames_in_use(), fx.frames_before + 1);
    expect_unmapped(0);
    /* A large range split at both ends then emptied. */
    assert_int_equal(ept_map(&fx.ept, 0, 4 * GIB, 4 * GIB, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_unmap(&fx.ept, PAGE_4K, 4 * GIB - 2 * PAGE_4K), 0);
    assert_int_equal(fx.ept.table_pages, 1 + 1 + 2 * 2); /* PDPT; PD + PT at each end */
    expect_map(0, 4 * GIB, EPT_RWX, EPT_MT_WB, PAGE_4K);
    expect_unmapped(PAGE_4K);
    expect_unmapped(2 * GIB);
    expect_map(4 * GIB - 1, 8 * GIB - 1, EPT_RWX, EPT_MT_WB, PAGE_4K);
    finish();
}

static void test_ept_pointer(void **state)
{
    (void)state;
    start(&caps_2m);
    assert_int_equal(ept_pointer(&fx.ept), fx.ept.pml4 | EPTP_WB_WALK4);
    finish();
    start(&caps_all);
    assert_int_equal(ept_pointer(&fx.ept), fx.ept.pml4 | EPTP_WB_WALK4 | EPTP_AD);
    finish();
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    start(&caps_all);
    struct ept *e = &fx.ept;
    /* map: alignment, size, limits */
    assert_int_equal(ept_map(e, 0x800, RAM_HPA, PAGE_4K, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA + 8, PAGE_4K, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K + 1, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, 0, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, GPA_LIMIT - PAGE_4K, RAM_HPA, 2 * PAGE_4K, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, GPA_LIMIT, RAM_HPA, PAGE_4K, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, PAGE_4K, RAM_HPA, UINT64_MAX & ~(PAGE_4K - 1), EPT_RWX, EPT_MT_WB),
                     -1);
    assert_int_equal(ept_map(e, 0, HPA_LIMIT - PAGE_4K, 2 * PAGE_4K, EPT_RWX, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, HPA_LIMIT, PAGE_4K, EPT_RWX, EPT_MT_WB), -1);
    /* map: rights and memory types */
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, 0, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, EPT_WRITE, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, EPT_WRITE | EPT_EXEC, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, EPT_EXEC, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, EPT_RWX | 8u, EPT_MT_WB), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, EPT_RWX, (enum ept_memtype)2), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, EPT_RWX, (enum ept_memtype)3), -1);
    assert_int_equal(ept_map(e, 0, RAM_HPA, PAGE_4K, EPT_RWX, (enum ept_memtype)7), -1);
    /* the largest valid map still works */
    assert_int_equal(
        ept_map(e, GPA_LIMIT - PAGE_4K, HPA_LIMIT - PAGE_4K, PAGE_4K, EPT_READ, EPT_MT_WB), 0);
    expect_map(GPA_LIMIT - 1, HPA_LIMIT - 1, EPT_READ, EPT_MT_WB, PAGE_4K);
    assert_int_equal(fx.ept.table_pages, 4);
    /* unmap and protect */
    assert_int_equal(ept_unmap(e, 0x10, PAGE_4K), -1);
    assert_int_equal(ept_unmap(e, 0, PAGE_4K - 1), -1);
    assert_int_equal(ept_unmap(e, 0, 0), -1);
    assert_int_equal(ept_unmap(e, GPA_LIMIT - PAGE_4K, 2 * PAGE_4K), -1);
    assert_int_equal(ept_protect(e, GPA_LIMIT - PAGE_4K, PAGE_4K, EPT_WRITE), -1);
    assert_int_equal(ept_protect(e, GPA_LIMIT - PAGE_4K, PAGE_4K, 0), -1);
    assert_int_equal(ept_protect(e, GPA_LIMIT - PAGE_4K, 0, EPT_READ), -1);
    assert_int_equal(ept_protect(e, GPA_LIMIT - 0x800, PAGE_4K, EPT_READ), -1);
    assert_int_equal(ept_protect(e, GPA_LIMIT - PAGE_4K, 2 * PAGE_4K, EPT_READ), -1);
    expect_map(GPA_LIMIT - PAGE_4K, HPA_LIMIT - PAGE_4K, EPT_READ, EPT_MT_WB, PAGE_4K);
    assert_int_equal(fx.ept.table_pages, 4);
    assert_false(fx.ept.needs_flush);
    finish();
}

static void test_oom_mid_map_is_atomic(void **state)
{
    (void)state;
    start(&caps_4k);
    assert_int_equal(ept_map(&fx.ept, 0, RAM_HPA, PAGE_4K, EPT_READ, EPT_MT_UC), 0);
    assert_int_equal(fx.ept.table_pages, 4);
    /* 8 MiB across the first GiB's end: 2 PTs in the existing PD, then a PD and 2 PTs. */
    const uint64_t gpa = GIB - 4 * MIB, size = 8 * MIB;
    const long tables_needed = 5;
    for (long ok = 0; ok < tables_needed; ok++) {
        fake_frames_fail_after(ok);
        assert_int_equal(ept_map(&fx.ept, gpa, RAM_HPA, size, EPT_RWX, EPT_MT_WB), -1);
        fake_frames_fail_after(-1);
        check_tables();
        assert_int_equal(fx.ept.table_pages, 4);
        assert_int_equal(fake_frames_in_use(), fx.frames_before + 4);
        expect_map(0, RAM_HPA, EPT_READ, EPT_MT_UC, PAGE_4K);
        expect_unmapped(gpa);
        expect_unmapped(GIB - 1);
        expect_unmapped(GIB);
        expect_unmapped(gpa + size - 1);
    }
    fake_frames_fail_after(tables_needed);
    assert_int_equal(ept_map(&fx.ept, gpa, RAM_HPA, size, EPT_RWX, EPT_MT_WB), 0);
    fake_frames_fail_after(-1);
    assert_int_equal(fx.ept.table_pages, 4 + tables_needed);
    assert_int_equal(fake_frames_in_use(), fx.frames_before + 4 + tables_needed);
    expect_range(gpa, RAM_HPA, size, EPT_RWX, EPT_MT_WB, PAGE_4K);
    finish();
}

static void test_oom_over_existing_mappings_keeps_them(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, 0, 4 * GIB, GIB, EPT_READ, EPT_MT_WB), 0);
    /* Remapping 4 KiB pages across the 1 GiB page's end needs a split: fail it. */
    fake_frames_fail_after(1);
    assert_int_equal(
        ept_map(&fx.ept, GIB - PAGE_4K, RAM_HPA + PAGE_4K, 2 * PAGE_4K, EPT_RWX, EPT_MT_UC), -1);
    fake_frames_fail_after(-1);
    check_tables();
    /* The 1 GiB page was split into equivalent 2 MiB pages before the PT allocation failed. */
    assert_int_equal(fx.ept.table_pages, 3);
    expect_map(0, 4 * GIB, EPT_READ, EPT_MT_WB, PAGE_2M);
    expect_map(GIB - 1, 5 * GIB - 1, EPT_READ, EPT_MT_WB, PAGE_2M);
    expect_map(GIB - PAGE_4K, 5 * GIB - PAGE_4K, EPT_READ, EPT_MT_WB, PAGE_2M);
    expect_unmapped(GIB);
    finish();
}

static void test_oom_split_on_unmap_and_protect(void **state)
{
    (void)state;
    start(&caps_1g_only);
    assert_int_equal(ept_map(&fx.ept, 0, 4 * GIB, GIB, EPT_RWX, EPT_MT_WB), 0);
    /* The split needs a PD and 512 PTs: fail part-way through building them. */
    fake_frames_fail_after(100);
    assert_int_equal(ept_unmap(&fx.ept, PAGE_4K, PAGE_4K), -1);
    fake_frames_fail_after(0);
    assert_int_equal(ept_protect(&fx.ept, PAGE_4K, PAGE_4K, EPT_READ), -1);
    fake_frames_fail_after(-1);
    check_tables();
    assert_int_equal(fx.ept.table_pages, 2);
    assert_int_equal(fake_frames_in_use(), fx.frames_before + 2);
    expect_map(PAGE_4K, 4 * GIB + PAGE_4K, EPT_RWX, EPT_MT_WB, PAGE_1G);
    assert_false(fx.ept.needs_flush);
    finish();
}

static void test_destroy_frees_everything(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, 0, 0, 8 * GIB + 6 * MIB + 12 * KIB, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_map(&fx.ept, 300 * GIB + PAGE_4K, RAM_HPA, 3 * MIB, EPT_READ, EPT_MT_UC),
                     0);
    assert_int_equal(ept_unmap(&fx.ept, 7 * GIB + PAGE_4K, PAGE_4K), 0);
    assert_true(fx.ept.table_pages > 6);
    assert_int_equal(fake_frames_in_use(), fx.frames_before + fx.ept.table_pages);
    finish();
}

static void test_dump_walk(void **state)
{
    (void)state;
    start(&caps_all);
    assert_int_equal(ept_map(&fx.ept, PAGE_2M, RAM_HPA, PAGE_2M, EPT_READ | EPT_EXEC, EPT_MT_UC),
                     0);
    fake_log_reset();
    ept_dump_walk(&fx.ept, PAGE_2M + 0x10);
    assert_non_null(strstr(fake_log, "walk of gpa 0x200010"));
    assert_non_null(strstr(fake_log, "PML4E[0]"));
    assert_non_null(strstr(fake_log, "PDPTE[0]"));
    assert_non_null(strstr(fake_log, "PDE[1]"));
    assert_non_null(strstr(fake_log, "2M page 0x1000000000 r-x UC"));
    assert_null(strstr(fake_log, " PTE[")); /* the walk ends at the leaf */
    assert_null(strstr(fake_log, "MISCONFIG"));
    fake_log_reset();
    ept_dump_walk(&fx.ept, 5 * GIB);
    assert_non_null(strstr(fake_log, "PML4E[0]"));
    assert_non_null(strstr(fake_log, "PDPTE[5]"));
    assert_non_null(strstr(fake_log, "not present"));
    fake_log_reset();
    ept_dump_walk(&fx.ept, GPA_LIMIT);
    assert_non_null(strstr(fake_log, "beyond"));
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_destroy_accounting),
        cmocka_unit_test(test_init_out_of_memory),
        cmocka_unit_test(test_map_4k_translate),
        cmocka_unit_test(test_translate_optional_outputs),
        cmocka_unit_test(test_1g_page_with_page_1g),
        cmocka_unit_test(test_1g_range_without_page_1g_uses_2m),
        cmocka_unit_test(test_no_large_pages_uses_4k),
        cmocka_unit_test(test_misaligned_range_mixes_sizes),
        cmocka_unit_test(test_hpa_alignment_limits_page_size),
        cmocka_unit_test(test_partial_unmap_splits_1g),
        cmocka_unit_test(test_split_1g_without_page_2m),
        cmocka_unit_test(test_partial_protect_splits_2m),
        cmocka_unit_test(test_protect_whole_large_page_keeps_it),
        cmocka_unit_test(test_needs_flush_rules),
        cmocka_unit_test(test_split_alone_needs_flush),
        cmocka_unit_test(test_protect_unmapped_fails_unchanged),
        cmocka_unit_test(test_perms_and_memtypes_round_trip),
        cmocka_unit_test(test_remap_over_existing),
        cmocka_unit_test(test_unmap_frees_empty_tables),
        cmocka_unit_test(test_ept_pointer),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_oom_mid_map_is_atomic),
        cmocka_unit_test(test_oom_over_existing_mappings_keeps_them),
        cmocka_unit_test(test_oom_split_on_unmap_and_protect),
        cmocka_unit_test(test_destroy_frees_everything),
        cmocka_unit_test(test_dump_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
