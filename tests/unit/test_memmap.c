/* Tests of the usable-memory computation that seeds the buddy allocator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "mm/memmap.h"
#include "tests/unit/fake.h"

#define USABLE   1u
#define RESERVED 2u
#define ACPI     3u
#define NVS      4u
#define BADRAM   5u
#define MIB      0x100000ull
#define GIB      0x40000000ull
#define TOP      0xfffffffffffff000ull /* highest frame-aligned address */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct phys_range first_mib[] = {{0, MEMMAP_LOW_MEMORY_END}};

/* Runs memmap_usable and compares with the exact expected ranges. */
static void expect_usable(const struct memmap_entry *map, size_t n,
                          const struct phys_range *reserved, size_t nres,
                          const struct phys_range *expected, size_t nexpected)
{
    struct phys_range out[MEMMAP_MAX_RANGES];
    int count = memmap_usable(map, n, reserved, nres, out, MEMMAP_MAX_RANGES);
    assert_int_equal(count, (int)nexpected);
    for (size_t i = 0; i < nexpected; i++) {
        assert_int_equal(out[i].start, expected[i].start);
        assert_int_equal(out[i].end, expected[i].end);
    }
}

static void test_typical_pc_map(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {0, 0x9fc00, USABLE},     {0x9fc00, 0x400, RESERVED},     {0xf0000, 0x10000, RESERVED},
        {MIB, 0x7ee0000, USABLE}, {0x7fe0000, 0x20000, RESERVED}, {0xfffc0000, 0x40000, RESERVED},
    };
    const struct phys_range reserved[] = {{0, MEMMAP_LOW_MEMORY_END}, {0x200000, 0x345678}};
    const struct phys_range expected[] = {{MIB, 0x200000}, {0x346000, 0x7fe0000}};
    expect_usable(map, COUNT(map), reserved, COUNT(reserved), expected, COUNT(expected));

    /* Without the first-MiB reservation, conventional memory is usable, end rounded down. */
    const struct phys_range image_only[] = {{0x200000, 0x345678}};
    const struct phys_range expected_low[] = {{0, 0x9f000}, {MIB, 0x200000}, {0x346000, 0x7fe0000}};
    expect_usable(map, COUNT(map), image_only, COUNT(image_only), expected_low,
                  COUNT(expected_low));
}

static void test_reserved_entry_wins_over_usable(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {0x500000, 0x100000, RESERVED}, /* listed before the usable entry it punches */
        {MIB, 0xf00000, USABLE},         {0x800000, 0x1000, ACPI},     {0x900000, 0x1000, NVS},
        {0xa00000, 0x1000, BADRAM},      {0xb00000, 0x1000, 0}, /* unknown types are reserved too */
        {0xc00000, 0x1000, 0xffffffffu}, {0x500000, 0x100000, USABLE}, /* usable again over the
                                                                          reserved hole: still
                                                                          reserved */
    };
    const struct phys_range expected[] = {
        {MIB, 0x500000},      {0x600000, 0x800000}, {0x801000, 0x900000},  {0x901000, 0xa00000},
        {0xa01000, 0xb00000}, {0xb01000, 0xc00000}, {0xc01000, 0x1000000},
    };
    expect_usable(map, COUNT(map), NULL, 0, expected, COUNT(expected));
}

static void test_overlapping_and_adjacent_usable_entries_merge(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {0x200000, 0x200000, USABLE},                               /* overlaps the next */
        {MIB, 0x200000, USABLE},      {0x400000, 0x100000, USABLE}, /* adjacent */
        {0x300000, 0x80000, USABLE},                                /* contained */
        {0x700000, 0x100000, USABLE},
    };
    const struct phys_range expected[] = {{MIB, 0x500000}, {0x700000, 0x800000}};
    expect_usable(map, COUNT(map), NULL, 0, expected, COUNT(expected));
    assert_int_equal(memmap_total(expected, COUNT(expected)), 0x500000);
}

static void test_unsorted_entries(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {0x3000000, MIB, USABLE}, {0x2000000, MIB, USABLE}, {0x2800000, 0x1000, RESERVED},
        {MIB, MIB, USABLE},       {0x1000000, MIB, USABLE},
    };
    const struct phys_range expected[] = {
        {MIB, 0x200000},
        {0x1000000, 0x1100000},
        {0x2000000, 0x2100000},
        {0x3000000, 0x3100000},
    };
    expect_usable(map, COUNT(map), first_mib, COUNT(first_mib), expected, COUNT(expected));
}

static void test_unaligned_bounds_shrink_to_whole_frames(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {0x100123, 0x100edc, USABLE}, /* [0x100123, 0x200fff) */
        {0x180fff, 0x2, RESERVED},    /* straddles a frame boundary: removes two frames */
    };
    const struct phys_range reserved[] = {{0x150001, 0x150002}};
    const struct phys_range expected[] = {
        {0x101000, 0x150000}, {0x151000, 0x180000}, {0x182000, 0x200000}};
    expect_usable(map, COUNT(map), reserved, COUNT(reserved), expected, COUNT(expected));
}

static void test_tiny_and_zero_length_regions_vanish(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {0x100001, 0x1ffe, USABLE}, /* within [0x100000, 0x102000): no whole frame */
        {0x300800, 0x1000, USABLE}, /* two partial frames */
        {0x400000, 0xfff, USABLE},  /* less than a frame */
        {0x500000, 0, USABLE},      /* zero length */
        {0x600000, 0x1000, USABLE}, /* exactly one frame: kept */
        {0x700000, 0x10000, USABLE},
        {0x708000, 0, RESERVED}, /* zero-length reserved entry splits nothing */
    };
    const struct phys_range reserved[] = {{0x704000, 0x704000}}; /* empty reservation */
    const struct phys_range expected[] = {{0x600000, 0x601000}, {0x700000, 0x710000}};
    expect_usable(map, COUNT(map), reserved, COUNT(reserved), expected, COUNT(expected));

    const struct memmap_entry only_tiny[] = {{0x100001, 0x1ffe, USABLE}, {0x500000, 0, USABLE}};
    expect_usable(only_tiny, COUNT(only_tiny), NULL, 0, NULL, 0);
    expect_usable(NULL, 0, NULL, 0, NULL, 0);
}

static void test_wrap_around_is_clamped(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {0xffffffff00000000ull, 0x200000000ull, USABLE}, /* runs past 2^64 */
        {UINT64_MAX - 10, 100, USABLE},                  /* wraps within the last frame */
    };
    const struct phys_range expected[] = {{0xffffffff00000000ull, TOP}};
    expect_usable(map, COUNT(map), NULL, 0, expected, COUNT(expected));

    const struct memmap_entry everything[] = {{MIB, UINT64_MAX, USABLE},
                                              {4 * GIB - 0x1000, 0x2000, RESERVED}};
    const struct phys_range expected_all[] = {{MIB, 4 * GIB - 0x1000}, {4 * GIB + 0x1000, TOP}};
    expect_usable(everything, COUNT(everything), NULL, 0, expected_all, COUNT(expected_all));

    const struct memmap_entry top_reserved[] = {{MIB, UINT64_MAX, USABLE},
                                                {0x8000000, UINT64_MAX, RESERVED}};
    const struct phys_range expected_low[] = {{MIB, 0x8000000}};
    expect_usable(top_reserved, COUNT(top_reserved), NULL, 0, expected_low, COUNT(expected_low));
}

static void test_above_4gib(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {
        {4 * GIB, 5 * GIB, USABLE},
        {MIB, 3 * GIB - MIB, USABLE},
        {8 * GIB - 0x1000, 0x2000, RESERVED},
        {0x2000000800ull, 0x1234, USABLE}, /* no whole frame, far up */
    };
    const struct phys_range expected[] = {
        {MIB, 3 * GIB}, {4 * GIB, 8 * GIB - 0x1000}, {8 * GIB + 0x1000, 9 * GIB}};
    expect_usable(map, COUNT(map), first_mib, COUNT(first_mib), expected, COUNT(expected));
    assert_int_equal(memmap_total(expected, COUNT(expected)), 3 * GIB - MIB + 5 * GIB - 0x2000);
}

static void test_reservations_split_a_region(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {{0, 0x8000000, USABLE}};
    const struct phys_range reserved[] = {
        {0x1000000, 0x1234567},                             /* module (unsorted, unaligned end) */
        {0x100000, 0x180000},                               /* hv image */
        {0x400000, 0x400800},                               /* multiboot2 info */
        {0x2000000, 0x2100000},                             /* module */
        {0x2080000, 0x2200000},                             /* overlaps the previous one */
        {0, MEMMAP_LOW_MEMORY_END}, {0x7fff000, 0x9000000}, /* runs past the usable region */
    };
    const struct phys_range expected[] = {
        {0x180000, 0x400000},
        {0x401000, 0x1000000},
        {0x1235000, 0x2000000},
        {0x2200000, 0x7fff000},
    };
    expect_usable(map, COUNT(map), reserved, COUNT(reserved), expected, COUNT(expected));
    assert_int_equal(memmap_total(expected, COUNT(expected)),
                     (0x400000 - 0x180000) + (0x1000000 - 0x401000) + (0x2000000 - 0x1235000) +
                         (0x7fff000 - 0x2200000));
}

static void test_first_mib_removed(void **state)
{
    (void)state;
    const struct memmap_entry map[] = {{0, 0xa0000, USABLE}, {0x80000, 0x100000, USABLE}};
    const struct phys_range expected[] = {{MIB, 0x180000}};
    expect_usable(map, COUNT(map), first_mib, COUNT(first_mib), expected, COUNT(expected));
}

static void test_too_many_ranges(void **state)
{
    (void)state;
    enum { PIECES = 10 };
    struct memmap_entry map[2 * PIECES];
    for (unsigned i = 0; i < PIECES; i++) {
        map[i] = (struct memmap_entry){(i + 1) * 2 * MIB, MIB, USABLE};
        map[PIECES + i] = (struct memmap_entry){(i + 1) * 2 * MIB + 0x1800000, 0x800, USABLE};
    }
    struct phys_range out[PIECES];
    /* The tiny pieces vanish, so exactly PIECES ranges fit... */
    assert_int_equal(memmap_usable(map, 2 * PIECES, NULL, 0, out, PIECES), PIECES);
    for (unsigned i = 0; i < PIECES; i++) {
        assert_int_equal(out[i].start, (i + 1) * 2 * MIB);
        assert_int_equal(out[i].end, (i + 1) * 2 * MIB + MIB);
    }
    assert_int_equal(memmap_total(out, PIECES), PIECES * MIB);
    /* ... but not one fewer. */
    assert_int_equal(memmap_usable(map, 2 * PIECES, NULL, 0, out, PIECES - 1), -1);
    assert_int_equal(memmap_usable(map, 2 * PIECES, NULL, 0, out, 0), -1);
    assert_int_equal(memmap_usable(NULL, 0, NULL, 0, out, 0), 0);

    /* A region cut by MEMMAP_MAX_RANGES reservations needs MEMMAP_MAX_RANGES + 1 ranges. */
    static struct phys_range cuts[MEMMAP_MAX_RANGES];
    for (unsigned i = 0; i < MEMMAP_MAX_RANGES; i++)
        cuts[i] = (struct phys_range){(i + 1) * 2 * 0x1000ull, (i + 1) * 2 * 0x1000ull + 0x1000};
    const struct memmap_entry whole[] = {{0, GIB, USABLE}};
    static struct phys_range many[MEMMAP_MAX_RANGES];
    assert_int_equal(memmap_usable(whole, 1, cuts, MEMMAP_MAX_RANGES, many, MEMMAP_MAX_RANGES), -1);
    assert_int_equal(memmap_usable(whole, 1, cuts, MEMMAP_MAX_RANGES - 1, many, MEMMAP_MAX_RANGES),
                     MEMMAP_MAX_RANGES);
    assert_int_equal(many[0].start, 0);
    assert_int_equal(many[0].end, 2 * 0x1000);
    /* the last of MEMMAP_MAX_RANGES - 1 cuts ends at (MEMMAP_MAX_RANGES - 1) * 2 * 4 KiB + 4 KiB */
    assert_int_equal(many[MEMMAP_MAX_RANGES - 1].start, 0x1ff000);
    assert_int_equal(many[MEMMAP_MAX_RANGES - 1].end, GIB);
}

static void test_total(void **state)
{
    (void)state;
    const struct phys_range r[] = {{0, 0x1000}, {MIB, 3 * MIB}, {4 * GIB, 6 * GIB}};
    assert_int_equal(memmap_total(r, COUNT(r)), 0x1000 + 2 * MIB + 2 * GIB);
    assert_int_equal(memmap_total(r, 0), 0);
    assert_int_equal(memmap_total(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typical_pc_map),
        cmocka_unit_test(test_reserved_entry_wins_over_usable),
        cmocka_unit_test(test_overlapping_and_adjacent_usable_entries_merge),
        cmocka_unit_test(test_unsorted_entries),
        cmocka_unit_test(test_unaligned_bounds_shrink_to_whole_frames),
        cmocka_unit_test(test_tiny_and_zero_length_regions_vanish),
        cmocka_unit_test(test_wrap_around_is_clamped),
        cmocka_unit_test(test_above_4gib),
        cmocka_unit_test(test_reservations_split_a_region),
        cmocka_unit_test(test_first_mib_removed),
        cmocka_unit_test(test_too_many_ranges),
        cmocka_unit_test(test_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
