/* IPI and interrupt-message destinations (drivers/vdev/vapic_dest.c) against Intel SDM vol. 3,
   "Determining IPI Destination" (10.6.2: physical, logical flat and cluster, broadcast,
   shorthands) and "Logical Destination Mode in x2APIC Mode" (10.12.10). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "drivers/vdev/vapic_dest.h"
#include "tests/unit/fake.h"

#define N    8u
#define ALL8 0xFFu

static struct vlapic apics[N];

/* APIC i has ID i, LDR 0, DFR flat: the reset state's registers (only the fields read here). */
static int setup(void **state)
{
    (void)state;
    memset(apics, 0, sizeof(apics));
    for (unsigned i = 0; i < N; i++) {
        apics[i].apic_id = i;
        apics[i].dfr = APIC_DFR_FLAT;
    }
    return 0;
}

static vapic_set to(unsigned count, unsigned sender, uint32_t dest, unsigned sh, bool logical,
                    bool x2apic)
{
    const struct vapic_dest d = {dest, sh, logical, x2apic};
    return vapic_dest_set(apics, count, sender, &d);
}

static vapic_set phys(uint32_t dest)
{
    return to(N, 0, dest, APIC_SH_NONE, false, false);
}

static vapic_set logical(uint32_t dest)
{
    return to(N, 0, dest, APIC_SH_NONE, true, false);
}

static void test_physical_names_one_id(void **state)
{
    (void)state;
    assert_int_equal(phys(0), 1u << 0);
    assert_int_equal(phys(5), 1u << 5);
    assert_int_equal(to(2, 0, 1, APIC_SH_NONE, false, false), 1u << 1);
}

static void test_physical_to_a_missing_id_names_nobody(void **state)
{
    (void)state;
    assert_int_equal(to(2, 0, 7, APIC_SH_NONE, false, false), 0);
    assert_int_equal(phys(0x20), 0);
}

static void test_physical_broadcast(void **state)
{
    (void)state;
    assert_int_equal(phys(XAPIC_BROADCAST), ALL8);
    assert_int_equal(to(4, 2, XAPIC_BROADCAST, APIC_SH_NONE, false, false), 0xFu);
    /* xAPIC format: only the 8 destination bits count */
    assert_int_equal(phys(0xFFFFFF03u), 1u << 3);
}

static void test_shorthands(void **state)
{
    (void)state;
    assert_int_equal(to(4, 2, 0, APIC_SH_SELF, false, false), 1u << 2);
    assert_int_equal(to(4, 2, 0, APIC_SH_ALL, false, false), 0xFu);
    assert_int_equal(to(4, 2, 0, APIC_SH_OTHERS, false, false), 0xBu);
    assert_int_equal(to(1, 0, 0, APIC_SH_OTHERS, false, false), 0);
    /* shorthands ignore the destination field and the mode */
    assert_int_equal(to(4, 2, 0x01, APIC_SH_OTHERS, true, true), 0xBu);
}

static void test_no_sender_takes_only_the_destination(void **state)
{
    (void)state;
    assert_int_equal(to(4, VAPIC_NO_SENDER, 3, APIC_SH_NONE, false, false), 1u << 3);
    assert_int_equal(to(4, VAPIC_NO_SENDER, 0, APIC_SH_SELF, false, false), 0);
}

/* Flat model (DFR 1111b): LDR[31:24] is a bit mask; a destination bit in common selects. */
static void test_logical_flat(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N; i++)
        apics[i].ldr = (1u << i) << APIC_ID_SHIFT; /* Linux's flat logical IDs */
    assert_int_equal(logical(0x01), 1u << 0);
    assert_int_equal(logical(0x06), (1u << 1) | (1u << 2));
    assert_int_equal(logical(0x00), 0);
    apics[7].ldr = 0; /* an APIC with no logical ID: never named, except by the broadcast */
    assert_int_equal(logical(0x80), 0);
    assert_int_equal(logical(XAPIC_BROADCAST), ALL8);
}

/* Cluster model (DFR 0000b): LDR[31:28] cluster, [27:24] members; the destination the same. */
static void test_logical_cluster(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N; i++) {
        apics[i].dfr = APIC_DFR_CLUSTER;
        apics[i].ldr = (((i / 4) << 4) | (1u << (i % 4))) << APIC_ID_SHIFT;
    }
    assert_int_equal(logical(0x01), 1u << 0);
    assert_int_equal(logical(0x0C), (1u << 2) | (1u << 3));
    assert_int_equal(logical(0x12), 1u << 5);
    assert_int_equal(logical(0x2F), 0); /* cluster 2 has no members */
    assert_int_equal(logical(0x10), 0); /* a cluster with no member bit */
    assert_int_equal(logical(XAPIC_BROADCAST), ALL8);
}

static void test_x2apic_physical(void **state)
{
    (void)state;
    assert_int_equal(to(N, 0, 6, APIC_SH_NONE, false, true), 1u << 6);
    assert_int_equal(to(N, 0, 0x106, APIC_SH_NONE, false, true), 0); /* 32-bit IDs, no masking */
    assert_int_equal(to(N, 0, 0xFF, APIC_SH_NONE, false, true), 0);  /* not a broadcast here */
    assert_int_equal(to(N, 0, X2APIC_BROADCAST, APIC_SH_NONE, false, true), ALL8);
}

/* x2APIC logical: cluster = ID[19:4] in dest[31:16], member bit ID[3:0] in dest[15:0]; the LDR
   comes from the ID, whatever the LDR field holds. */
static void test_x2apic_logical(void **state)
{
    (void)state;
    assert_int_equal(vapic_x2apic_ldr(0), 0x00000001u);
    assert_int_equal(vapic_x2apic_ldr(5), 0x00000020u);
    assert_int_equal(vapic_x2apic_ldr(0x13), 0x00010008u);
    assert_int_equal(to(N, 0, 0x00000021u, APIC_SH_NONE, true, true), (1u << 0) | (1u << 5));
    assert_int_equal(to(N, 0, 0x000000FFu, APIC_SH_NONE, true, true), ALL8);
    assert_int_equal(to(N, 0, 0x00010001u, APIC_SH_NONE, true, true), 0); /* cluster 1: none */
    assert_int_equal(to(N, 0, X2APIC_BROADCAST, APIC_SH_NONE, true, true), ALL8);
    apics[3].apic_id = 0x13; /* cluster 1, bit 3 */
    assert_int_equal(to(N, 0, 0x00010008u, APIC_SH_NONE, true, true), 1u << 3);
}

static void test_names_and_index_of(void **state)
{
    (void)state;
    const struct vapic_dest d = {3, APIC_SH_NONE, false, false};
    assert_true(vapic_dest_names(&apics[3], &d));
    assert_false(vapic_dest_names(&apics[2], &d));
    assert_int_equal(vapic_index_of(apics, N, 6), 6);
    assert_int_equal(vapic_index_of(apics, 4, 6), 4);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_physical_names_one_id),
        T(test_physical_to_a_missing_id_names_nobody),
        T(test_physical_broadcast),
        T(test_shorthands),
        T(test_no_sender_takes_only_the_destination),
        T(test_logical_flat),
        T(test_logical_cluster),
        T(test_x2apic_physical),
        T(test_x2apic_logical),
        T(test_names_and_index_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
