/* The virtual 82093AA I/O APIC (drivers/vdev/vioapic.c) against the 82093AA datasheet: the
   register window, the redirection table's writable and read-only bits, edge and level
   delivery, remote IRR and the EOI broadcast, masking. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vioapic.h"
#include "tests/unit/fake.h"

struct message {
    uint32_t dest;
    bool logical;
    unsigned mode, vector;
    bool level;
};

#define MAX_MESSAGES 16

static struct {
    struct vdev_host host;
    struct vdev_bus bus;
    struct vdev_irq_router router;
    struct vioapic io;
    struct message msg[MAX_MESSAGES];
    unsigned count;
} t;

static void record(void *ctx, uint32_t dest, bool logical, unsigned mode, unsigned vector,
                   bool level)
{
    assert_ptr_equal(ctx, &t);
    assert_true(t.count < MAX_MESSAGES);
    t.msg[t.count++] = (struct message){dest, logical, mode, vector, level};
}

static int setup(void **state)
{
    (void)state;
    fake_log_reset(); /* also links the fake log ahead of kernel/log.c */
    memset(&t, 0, sizeof(t));
    t.host.name = "ioapictest";
    vdev_bus_init(&t.bus, &t.host);
    vdev_irq_init(&t.router);
    vioapic_init(&t.io, &t.host, record, &t);
    assert_int_equal(vioapic_attach(&t.io, &t.bus, &t.router), 0);
    return 0;
}

/* Accesses go through the bus, as the VM's EPT-violation handler will do. */
static void mmio_write(uint64_t offset, unsigned size, uint32_t value)
{
    const struct vdev_mmio_range *m = vdev_bus_find_mmio(&t.bus, VIOAPIC_BASE + offset, size);
    assert_non_null(m);
    m->ops->write(m->dev, VIOAPIC_BASE + offset - m->base, size, value);
}

static uint32_t mmio_read(uint64_t offset, unsigned size)
{
    const struct vdev_mmio_range *m = vdev_bus_find_mmio(&t.bus, VIOAPIC_BASE + offset, size);
    assert_non_null(m);
    return (uint32_t)m->ops->read(m->dev, VIOAPIC_BASE + offset - m->base, size);
}

static uint32_t reg_read(uint32_t index)
{
    mmio_write(VIOAPIC_IOREGSEL, 4, index);
    return mmio_read(VIOAPIC_IOWIN, 4);
}

static void reg_write(uint32_t index, uint32_t value)
{
    mmio_write(VIOAPIC_IOREGSEL, 4, index);
    mmio_write(VIOAPIC_IOWIN, 4, value);
}

static void rte_write(unsigned pin, uint64_t rte)
{
    /* Linux writes the high dword first, then the low one (which may unmask) */
    reg_write(VIOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)(rte >> 32));
    reg_write(VIOAPIC_REG_REDTBL + 2 * pin, (uint32_t)rte);
}

static uint64_t rte_read(unsigned pin)
{
    uint64_t lo = reg_read(VIOAPIC_REG_REDTBL + 2 * pin);
    return lo | (uint64_t)reg_read(VIOAPIC_REG_REDTBL + 2 * pin + 1) << 32;
}

#define DEST(id) ((uint64_t)(id) << VIOAPIC_RTE_DEST_SHIFT)

/* ---- registers ---- */

static void test_version_register_reports_0x11_and_24_entries(void **state)
{
    (void)state;
    assert_int_equal(reg_read(VIOAPIC_REG_VER), 0x00170011);
    reg_write(VIOAPIC_REG_VER, 0);
    assert_int_equal(reg_read(VIOAPIC_REG_VER), 0x00170011);
}

static void test_id_register_keeps_bits_27_to_24(void **state)
{
    (void)state;
    assert_int_equal(reg_read(VIOAPIC_REG_ID), 0);
    reg_write(VIOAPIC_REG_ID, 0xFFFFFFFF);
    assert_int_equal(reg_read(VIOAPIC_REG_ID), 0x0F000000);
    assert_int_equal(reg_read(VIOAPIC_REG_ARB), 0x0F000000);
    reg_write(VIOAPIC_REG_ARB, 0); /* read-only */
    assert_int_equal(reg_read(VIOAPIC_REG_ARB), 0x0F000000);
}

static void test_ioregsel_reads_back_its_low_byte(void **state)
{
    (void)state;
    mmio_write(VIOAPIC_IOREGSEL, 4, 0x12345613);
    assert_int_equal(mmio_read(VIOAPIC_IOREGSEL, 4), 0x13);
}

static void test_undefined_register_reads_zero(void **state)
{
    (void)state;
    reg_write(0x40, 0xFFFFFFFF);
    assert_int_equal(reg_read(0x40), 0);
    assert_int_equal(reg_read(0x03), 0);
    assert_int_equal(mmio_read(0x20, 4), 0); /* outside the two windows */
}

static void test_entries_reset_masked(void **state)
{
    (void)state;
    for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
        assert_int_equal(rte_read(pin), VIOAPIC_RTE_MASK);
}

static void test_entry_keeps_writable_bits_only(void **state)
{
    (void)state;
    rte_write(5, ~0ull);
    /* delivery status, remote IRR and reserved bits 55:17 are read-only zeros */
    assert_int_equal(rte_read(5), 0xFF0000000001AFFFull);
    rte_write(5, DEST(3) | VIOAPIC_RTE_MASK | 0x31);
    assert_int_equal(rte_read(5), DEST(3) | VIOAPIC_RTE_MASK | 0x31);
    assert_int_equal(rte_read(4), VIOAPIC_RTE_MASK); /* the neighbour untouched */
}

static void test_narrow_iowin_write_changes_low_bytes_only(void **state)
{
    (void)state;
    rte_write(2, VIOAPIC_RTE_MASK | 0x30);
    mmio_write(VIOAPIC_IOREGSEL, 1, VIOAPIC_REG_REDTBL + 4);
    mmio_write(VIOAPIC_IOWIN, 1, 0x41);
    assert_int_equal(mmio_read(VIOAPIC_IOWIN, 1), 0x41);
    assert_int_equal(rte_read(2), VIOAPIC_RTE_MASK | 0x41);
}

static void test_attach_claims_the_page_and_a_gsi_sink(void **state)
{
    (void)state;
    assert_int_equal(t.router.sink_count, 1);
    assert_int_equal(t.router.sinks[0].space, VDEV_IRQ_GSI);
    assert_non_null(vdev_bus_find_mmio(&t.bus, VIOAPIC_BASE + 0xFFC, 4));
    assert_null(vdev_bus_find_mmio(&t.bus, VIOAPIC_BASE + 0x1000, 4));
    /* a second IOAPIC on the same page is refused */
    struct vioapic other;
    vioapic_init(&other, &t.host, record, &t);
    assert_int_equal(vioapic_attach(&other, &t.bus, &t.router), -1);
}

/* ---- edge-triggered pins ---- */

static void test_edge_pin_delivers_on_rising_edge_only(void **state)
{
    (void)state;
    rte_write(4, DEST(0) | 0x34);
    vioapic_set_irq(&t.io, 4, true);
    assert_int_equal(t.count, 1);
    assert_int_equal(t.msg[0].vector, 0x34);
    assert_int_equal(t.msg[0].mode, VIOAPIC_DELMOD_FIXED);
    assert_false(t.msg[0].level);
    assert_false(t.msg[0].logical);
    vioapic_set_irq(&t.io, 4, true); /* still high: no edge */
    assert_int_equal(t.count, 1);
    vioapic_set_irq(&t.io, 4, false);
    vioapic_set_irq(&t.io, 4, true);
    assert_int_equal(t.count, 2);
    /* edge entries never show remote IRR */
    assert_false(rte_read(4) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_masked_edge_is_lost(void **state)
{
    (void)state;
    rte_write(3, VIOAPIC_RTE_MASK | 0x33);
    vioapic_set_irq(&t.io, 3, true);
    vioapic_set_irq(&t.io, 3, false);
    rte_write(3, 0x33); /* unmasking does not replay the edge */
    assert_int_equal(t.count, 0);
}

static void test_router_isa_irq0_arrives_on_gsi2(void **state)
{
    (void)state;
    rte_write(2, 0x30);
    rte_write(0, 0x20);
    vdev_irq_pulse(&t.router, VDEV_IRQ_PIT);
    assert_int_equal(t.count, 1);
    assert_int_equal(t.msg[0].vector, 0x30);
}

static void test_message_carries_destination_and_mode(void **state)
{
    (void)state;
    rte_write(9, DEST(0xA5) | VIOAPIC_RTE_DESTMOD |
                     ((uint64_t)VIOAPIC_DELMOD_LOWPRI << VIOAPIC_RTE_DELMOD_SHIFT) | 0x49);
    vioapic_set_irq(&t.io, 9, true);
    assert_int_equal(t.count, 1);
    assert_int_equal(t.msg[0].dest, 0xA5);
    assert_true(t.msg[0].logical);
    assert_int_equal(t.msg[0].mode, VIOAPIC_DELMOD_LOWPRI);
    assert_int_equal(t.msg[0].vector, 0x49);
}

static void test_nmi_and_extint_modes_pass_through(void **state)
{
    (void)state;
    rte_write(0, (uint64_t)VIOAPIC_DELMOD_EXTINT << VIOAPIC_RTE_DELMOD_SHIFT);
    rte_write(1, (uint64_t)VIOAPIC_DELMOD_NMI << VIOAPIC_RTE_DELMOD_SHIFT);
    vioapic_set_irq(&t.io, 0, true);
    vioapic_set_irq(&t.io, 1, true);
    assert_int_equal(t.count, 2);
    assert_int_equal(t.msg[0].mode, VIOAPIC_DELMOD_EXTINT);
    assert_int_equal(t.msg[1].mode, VIOAPIC_DELMOD_NMI);
}

static void test_out_of_range_gsi_is_ignored(void **state)
{
    (void)state;
    vioapic_set_irq(&t.io, VIOAPIC_PINS, true);
    vioapic_set_irq(&t.io, 1000, true);
    assert_int_equal(t.io.asserted, 0);
    assert_int_equal(t.count, 0);
}

/* ---- level-triggered pins ---- */

#define LEVEL_LOW (VIOAPIC_RTE_TRIGGER | VIOAPIC_RTE_INTPOL)

static void test_level_pin_sets_remote_irr_and_waits_for_eoi(void **state)
{
    (void)state;
    rte_write(11, LEVEL_LOW | 0x51);
    vioapic_set_irq(&t.io, 11, true);
    assert_int_equal(t.count, 1);
    assert_true(t.msg[0].level);
    assert_true(rte_read(11) & VIOAPIC_RTE_REMOTE_IRR);
    /* remote IRR is read-only: a guest write does not clear it */
    rte_write(11, LEVEL_LOW | 0x51);
    assert_true(rte_read(11) & VIOAPIC_RTE_REMOTE_IRR);
    assert_int_equal(t.count, 1);
}

static void test_eoi_redelivers_a_still_asserted_level_pin(void **state)
{
    (void)state;
    rte_write(11, LEVEL_LOW | 0x51);
    vioapic_set_irq(&t.io, 11, true);
    vioapic_eoi(&t.io, 0x51);
    assert_int_equal(t.count, 2);
    assert_true(rte_read(11) & VIOAPIC_RTE_REMOTE_IRR);
    vioapic_set_irq(&t.io, 11, false);
    vioapic_eoi(&t.io, 0x51);
    assert_int_equal(t.count, 2);
    assert_false(rte_read(11) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_eoi_of_another_vector_leaves_remote_irr(void **state)
{
    (void)state;
    rte_write(11, LEVEL_LOW | 0x51);
    vioapic_set_irq(&t.io, 11, true);
    vioapic_set_irq(&t.io, 11, false);
    vioapic_eoi(&t.io, 0x52);
    assert_true(rte_read(11) & VIOAPIC_RTE_REMOTE_IRR);
    /* a reassertion while remote IRR is set waits */
    vioapic_set_irq(&t.io, 11, true);
    assert_int_equal(t.count, 1);
    vioapic_eoi(&t.io, 0x51);
    assert_int_equal(t.count, 2);
}

static void test_eoi_clears_every_pin_sharing_the_vector(void **state)
{
    (void)state;
    rte_write(16, LEVEL_LOW | 0x60);
    rte_write(17, LEVEL_LOW | 0x60);
    vioapic_set_irq(&t.io, 16, true);
    vioapic_set_irq(&t.io, 17, true);
    vioapic_set_irq(&t.io, 16, false);
    vioapic_set_irq(&t.io, 17, false);
    assert_int_equal(t.count, 2);
    vioapic_eoi(&t.io, 0x60);
    assert_false(rte_read(16) & VIOAPIC_RTE_REMOTE_IRR);
    assert_false(rte_read(17) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_unmasking_an_asserted_level_pin_delivers(void **state)
{
    (void)state;
    rte_write(10, LEVEL_LOW | VIOAPIC_RTE_MASK | 0x50);
    vioapic_set_irq(&t.io, 10, true);
    assert_int_equal(t.count, 0);
    assert_false(rte_read(10) & VIOAPIC_RTE_REMOTE_IRR);
    rte_write(10, LEVEL_LOW | 0x50);
    assert_int_equal(t.count, 1);
    assert_int_equal(t.msg[0].vector, 0x50);
}

static void test_masked_level_pin_waits_after_eoi(void **state)
{
    (void)state;
    rte_write(10, LEVEL_LOW | 0x50);
    vioapic_set_irq(&t.io, 10, true);
    rte_write(10, LEVEL_LOW | VIOAPIC_RTE_MASK | 0x50);
    vioapic_eoi(&t.io, 0x50);
    assert_int_equal(t.count, 1);
    rte_write(10, LEVEL_LOW | 0x50);
    assert_int_equal(t.count, 2);
}

static void test_polarity_does_not_invert_the_assertion(void **state)
{
    (void)state;
    /* an idle active-low line is deasserted: nothing is delivered on unmask */
    rte_write(12, LEVEL_LOW | 0x52);
    assert_int_equal(t.count, 0);
    rte_write(13, VIOAPIC_RTE_TRIGGER | 0x53); /* active high */
    vioapic_set_irq(&t.io, 12, true);
    vioapic_set_irq(&t.io, 13, true);
    assert_int_equal(t.count, 2);
    assert_true(rte_read(12) & VIOAPIC_RTE_INTPOL);
}

static void test_turning_a_pin_edge_drops_remote_irr(void **state)
{
    (void)state;
    rte_write(7, VIOAPIC_RTE_TRIGGER | 0x57);
    vioapic_set_irq(&t.io, 7, true);
    assert_true(rte_read(7) & VIOAPIC_RTE_REMOTE_IRR);
    rte_write(7, 0x57);
    assert_false(rte_read(7) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_edge_eoi_is_harmless(void **state)
{
    (void)state;
    rte_write(4, 0x34);
    vioapic_set_irq(&t.io, 4, true);
    vioapic_eoi(&t.io, 0x34);
    assert_int_equal(t.count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_version_register_reports_0x11_and_24_entries, setup),
        cmocka_unit_test_setup(test_id_register_keeps_bits_27_to_24, setup),
        cmocka_unit_test_setup(test_ioregsel_reads_back_its_low_byte, setup),
        cmocka_unit_test_setup(test_undefined_register_reads_zero, setup),
        cmocka_unit_test_setup(test_entries_reset_masked, setup),
        cmocka_unit_test_setup(test_entry_keeps_writable_bits_only, setup),
        cmocka_unit_test_setup(test_narrow_iowin_write_changes_low_bytes_only, setup),
        cmocka_unit_test_setup(test_attach_claims_the_page_and_a_gsi_sink, setup),
        cmocka_unit_test_setup(test_edge_pin_delivers_on_rising_edge_only, setup),
        cmocka_unit_test_setup(test_masked_edge_is_lost, setup),
        cmocka_unit_test_setup(test_router_isa_irq0_arrives_on_gsi2, setup),
        cmocka_unit_test_setup(test_message_carries_destination_and_mode, setup),
        cmocka_unit_test_setup(test_nmi_and_extint_modes_pass_through, setup),
        cmocka_unit_test_setup(test_out_of_range_gsi_is_ignored, setup),
        cmocka_unit_test_setup(test_level_pin_sets_remote_irr_and_waits_for_eoi, setup),
        cmocka_unit_test_setup(test_eoi_redelivers_a_still_asserted_level_pin, setup),
        cmocka_unit_test_setup(test_eoi_of_another_vector_leaves_remote_irr, setup),
        cmocka_unit_test_setup(test_eoi_clears_every_pin_sharing_the_vector, setup),
        cmocka_unit_test_setup(test_unmasking_an_asserted_level_pin_delivers, setup),
        cmocka_unit_test_setup(test_masked_level_pin_waits_after_eoi, setup),
        cmocka_unit_test_setup(test_polarity_does_not_invert_the_assertion, setup),
        cmocka_unit_test_setup(test_turning_a_pin_edge_drops_remote_irr, setup),
        cmocka_unit_test_setup(test_edge_eoi_is_harmless, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
