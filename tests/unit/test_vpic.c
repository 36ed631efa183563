/* The dual 8259A PIC and the ELCR (drivers/vdev/vpic.c) against the 8259A datasheet, driven
   through the port bus and the interrupt-line router as the VM drives them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vdev.h"
#include "drivers/vdev/vpic.h"
#include "tests/unit/fake.h"

#define MASTER_BASE 0x30 /* Linux's ISA_IRQ_VECTOR(0) */
#define SLAVE_BASE  0x38

static struct vpic pic;
static struct vdev_bus bus;
static struct vdev_irq_router router;
static unsigned kicks, kicked_vcpu;

static void fake_kick(void *ctx, unsigned vcpu)
{
    (void)ctx;
    kicks++;
    kicked_vcpu = vcpu;
}

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return 0;
}

static const struct vdev_host host = {
    .ctx = 0, .kick_vcpu = fake_kick, .now = fake_now, .tsc_hz = 1000000000, .name = "pictest"};

static uint8_t inb(uint16_t port)
{
    return (uint8_t)vdev_bus_in(&bus, port, 1);
}

static void outb(uint16_t port, uint8_t value)
{
    vdev_bus_out(&bus, port, 1, value);
}

static void irq(unsigned line, bool level)
{
    vdev_irq_set(&router, line, level);
}

static void pulse(unsigned line)
{
    vdev_irq_pulse(&router, line);
}

/* Linux's init_8259A: ICW1 edge + ICW4, ICW2 base, ICW3 cascade, ICW4 8086 mode (+AEOI). */
static void init_pics(bool auto_eoi)
{
    uint8_t icw4 = PIC_ICW4_UPM | (auto_eoi ? PIC_ICW4_AEOI : 0);
    outb(PIC_MASTER_CMD, PIC_ICW1 | PIC_ICW1_IC4);
    outb(PIC_MASTER_DATA, MASTER_BASE);
    outb(PIC_MASTER_DATA, 1u << PIC_CASCADE_IR);
    outb(PIC_MASTER_DATA, icw4);
    outb(PIC_SLAVE_CMD, PIC_ICW1 | PIC_ICW1_IC4);
    outb(PIC_SLAVE_DATA, SLAVE_BASE);
    outb(PIC_SLAVE_DATA, PIC_CASCADE_IR);
    outb(PIC_SLAVE_DATA, icw4);
}

static void eoi_master(void)
{
    outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
}

static void eoi_slave(void)
{
    outb(PIC_SLAVE_CMD, PIC_OCW2_EOI);
}

static uint8_t read_isr(uint16_t cmd)
{
    outb(cmd, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);
    uint8_t v = inb(cmd);
    outb(cmd, PIC_OCW3 | PIC_OCW3_RR);
    return v;
}

static uint8_t read_irr(uint16_t cmd)
{
    outb(cmd, PIC_OCW3 | PIC_OCW3_RR);
    return inb(cmd);
}

static int setup_raw(void **state)
{
    (void)state;
    fake_log_reset();
    kicks = 0;
    kicked_vcpu = 99;
    vdev_bus_init(&bus, &host);
    vdev_irq_init(&router);
    vpic_init(&pic, &host);
    assert_int_equal(vpic_attach(&pic, &bus, &router), 0);
    return 0;
}

static int setup(void **state)
{
    setup_raw(state);
    init_pics(false);
    return 0;
}

/* ---- attachment and initialisation ---- */

static void test_attach_claims_ports_once(void **state)
{
    (void)state;
    static struct vdev_bus other;
    vdev_bus_init(&other, &host);
    struct vdev_irq_router r2;
    vdev_irq_init(&r2);
    struct vpic second;
    vpic_init(&second, &host);
    /* the ports are taken on `bus`: a second PIC there fails */
    assert_int_equal(vpic_attach(&second, &bus, &r2), -1);
    assert_int_equal(vpic_attach(&second, &other, &r2), 0);
    assert_int_equal(r2.sink_count, 1);
    assert_int_equal(r2.sinks[0].space, VDEV_IRQ_ISA);
}

static void test_uninitialised_pic_has_no_intr(void **state)
{
    (void)state;
    irq(1, true);
    assert_false(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), -1);
    assert_int_equal(kicks, 0);
}

static void test_icw_sequence_sets_vector_base(void **state)
{
    (void)state;
    init_pics(false);
    irq(1, true);
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(kicks, 1);
    assert_int_equal(kicked_vcpu, 0);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x02);
    assert_false(vpic_has_intr(&pic));
}

static void test_icw2_low_bits_ignored(void **state)
{
    (void)state;
    outb(PIC_MASTER_CMD, PIC_ICW1 | PIC_ICW1_IC4);
    outb(PIC_MASTER_DATA, 0x47); /* T2-T0 are the level in 8086 mode */
    outb(PIC_MASTER_DATA, 0x04);
    outb(PIC_MASTER_DATA, PIC_ICW4_UPM);
    irq(3, true);
    assert_int_equal(vpic_ack(&pic), 0x43);
}

static void test_single_mode_skips_icw3_and_icw4(void **state)
{
    (void)state;
    outb(PIC_MASTER_CMD, PIC_ICW1 | PIC_ICW1_SNGL); /* no IC4: ICW2 ends the sequence */
    outb(PIC_MASTER_DATA, 0x50);
    outb(PIC_MASTER_DATA, 0x01); /* OCW1 now: IR0 masked */
    assert_int_equal(inb(PIC_MASTER_DATA), 0x01);
    irq(0, true);
    irq(1, true);
    assert_int_equal(vpic_ack(&pic), 0x51);
}

static void test_intr_blocked_during_reinitialisation(void **state)
{
    (void)state;
    irq(4, true);
    assert_true(vpic_has_intr(&pic));
    outb(PIC_MASTER_CMD, PIC_ICW1 | PIC_ICW1_IC4);
    assert_false(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), -1);
    outb(PIC_MASTER_DATA, MASTER_BASE);
    outb(PIC_MASTER_DATA, 0x04);
    assert_false(vpic_has_intr(&pic)); /* ICW4 still expected */
    outb(PIC_MASTER_DATA, PIC_ICW4_UPM);
    /* the edge sense was reset: IRQ 4, still high, must rise again */
    assert_false(vpic_has_intr(&pic));
    irq(4, false);
    irq(4, true);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
}

static void test_icw1_clears_imr_isr_and_priority(void **state)
{
    (void)state;
    outb(PIC_MASTER_DATA, 0xF0);
    pulse(1);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
    outb(PIC_MASTER_CMD, PIC_OCW2_SET_PRIO | 3);
    init_pics(false);
    assert_int_equal(inb(PIC_MASTER_DATA), 0);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0);
    pulse(7);
    pulse(0);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 0); /* IR0 highest again */
}

/* ---- OCW1: the interrupt mask ---- */

static void test_mask_holds_request_until_unmasked(void **state)
{
    (void)state;
    outb(PIC_MASTER_DATA, 0x10);
    assert_int_equal(inb(PIC_MASTER_DATA), 0x10);
    pulse(4);
    assert_false(vpic_has_intr(&pic));
    assert_int_equal(read_irr(PIC_MASTER_CMD), 0x10); /* IRR latches regardless of IMR */
    outb(PIC_MASTER_DATA, 0x00);
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
}

static void test_master_ir2_mask_hides_slave(void **state)
{
    (void)state;
    outb(PIC_MASTER_DATA, 1u << PIC_CASCADE_IR);
    pulse(12);
    assert_false(vpic_has_intr(&pic));
    outb(PIC_MASTER_DATA, 0);
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 4);
}

/* ---- priorities ---- */

static void test_fixed_priority_lowest_level_first(void **state)
{
    (void)state;
    pulse(5);
    pulse(3);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
    /* IR5 has lower priority than IR3 in service: no INTR until the EOI */
    assert_false(vpic_has_intr(&pic));
    eoi_master();
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5);
}

static void test_higher_priority_nests_over_in_service(void **state)
{
    (void)state;
    pulse(5);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5);
    pulse(1);
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x22);
}

static void test_set_priority_command_rotates_base(void **state)
{
    (void)state;
    outb(PIC_MASTER_CMD, PIC_OCW2_SET_PRIO | 4); /* IR4 lowest: IR5 highest */
    pulse(3);
    pulse(6);
    pulse(4);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 6);
    eoi_master();
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
    eoi_master();
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
}

/* ---- OCW2: EOIs and rotation ---- */

static void test_nonspecific_eoi_clears_highest_in_service(void **state)
{
    (void)state;
    pulse(5);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5);
    pulse(3);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
    eoi_master();
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x20);
    eoi_master();
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x00);
    eoi_master(); /* nothing in service: no effect */
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x00);
}

static void test_specific_eoi_clears_named_level(void **state)
{
    (void)state;
    pulse(5);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5);
    pulse(3);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
    outb(PIC_MASTER_CMD, PIC_OCW2_SEOI | 5);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x08);
}

static void test_rotate_on_nonspecific_eoi(void **state)
{
    (void)state;
    pulse(3);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
    outb(PIC_MASTER_CMD, PIC_OCW2_ROT_EOI); /* IR3 becomes lowest, IR4 highest */
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0);
    pulse(3);
    pulse(6);
    pulse(4);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
    outb(PIC_MASTER_CMD, PIC_OCW2_ROT_EOI); /* IR4 lowest: IR5 highest */
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 6);
    outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
}

static void test_rotate_on_specific_eoi(void **state)
{
    (void)state;
    pulse(1);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
    outb(PIC_MASTER_CMD, PIC_OCW2_ROT_SEOI | 6); /* IR6 lowest, ISR bit 6 (clear) untouched */
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x02);
    outb(PIC_MASTER_CMD, PIC_OCW2_SEOI | 1);
    pulse(0);
    pulse(7);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 7); /* IR7 highest now */
}

static void test_ocw2_nop_changes_nothing(void **state)
{
    (void)state;
    pulse(1);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
    outb(PIC_MASTER_CMD, PIC_OCW2_NOP | 1);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x02);
}

/* ---- automatic EOI ---- */

static void test_auto_eoi_leaves_isr_clear(void **state)
{
    (void)state;
    init_pics(true);
    pulse(3);
    pulse(5);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0);
    /* nothing in service: IR5 follows at once */
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5);
}

static void test_rotate_in_auto_eoi_mode(void **state)
{
    (void)state;
    init_pics(true);
    outb(PIC_MASTER_CMD, PIC_OCW2_ROT_AEOI_S);
    pulse(3);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3); /* IR3 becomes lowest */
    pulse(1);
    pulse(5);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5); /* IR5 lowest now */
    outb(PIC_MASTER_CMD, PIC_OCW2_ROT_AEOI_C);
    pulse(6);
    pulse(0);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 6);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 0); /* rotation off: IR5 stays lowest */
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
}

static void test_auto_eoi_slave_second_request_not_lost(void **state)
{
    (void)state;
    init_pics(true);
    pulse(9);
    pulse(11);
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 1);
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 3);
    assert_false(vpic_has_intr(&pic));
}

/* ---- OCW3: register reads, poll, special mask ---- */

static void test_ocw3_selects_irr_or_isr(void **state)
{
    (void)state;
    pulse(6);
    pulse(4);
    assert_int_equal(read_irr(PIC_MASTER_CMD), 0x50);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
    assert_int_equal(read_irr(PIC_MASTER_CMD), 0x40);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x10);
    /* an OCW3 without RR keeps the selection */
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_RIS);
    assert_int_equal(inb(PIC_MASTER_CMD), 0x10);
    outb(PIC_MASTER_CMD, PIC_OCW3);
    assert_int_equal(inb(PIC_MASTER_CMD), 0x10);
}

static void test_poll_acknowledges_highest_request(void **state)
{
    (void)state;
    pulse(6);
    pulse(3);
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_P);
    assert_int_equal(inb(PIC_MASTER_CMD), PIC_POLL_INT | 3);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x08);
    assert_int_equal(read_irr(PIC_MASTER_CMD), 0x40);
    /* the poll is one read only: the next read is IRR again */
    assert_int_equal(inb(PIC_MASTER_CMD), 0x40);
    eoi_master();
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_P);
    assert_int_equal(inb(PIC_MASTER_CMD), PIC_POLL_INT | 6);
    eoi_master();
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_P);
    assert_int_equal(inb(PIC_MASTER_CMD), 0); /* nothing pending */
}

static void test_poll_slave(void **state)
{
    (void)state;
    pulse(13);
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_P);
    assert_int_equal(inb(PIC_MASTER_CMD), PIC_POLL_INT | PIC_CASCADE_IR);
    outb(PIC_SLAVE_CMD, PIC_OCW3 | PIC_OCW3_P);
    assert_int_equal(inb(PIC_SLAVE_CMD), PIC_POLL_INT | 5);
    assert_false(vpic_has_intr(&pic));
}

static void test_special_mask_mode_enables_lower_levels(void **state)
{
    (void)state;
    pulse(3);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
    pulse(5);
    assert_false(vpic_has_intr(&pic)); /* fully nested: IR5 waits */
    outb(PIC_MASTER_DATA, 0x08);       /* mask the level in service */
    assert_false(vpic_has_intr(&pic));
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_ESMM | PIC_OCW3_SMM);
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5);
    outb(PIC_MASTER_CMD, PIC_OCW3 | PIC_OCW3_ESMM); /* leave special mask mode */
    outb(PIC_MASTER_CMD, PIC_OCW2_SEOI | 5);
    pulse(6);
    assert_false(vpic_has_intr(&pic)); /* IR3 in service blocks again */
}

/* ---- cascade ---- */

static void test_slave_request_cascades_through_ir2(void **state)
{
    (void)state;
    pulse(10);
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(kicks, 1);
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 2);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 1u << PIC_CASCADE_IR);
    assert_int_equal(read_isr(PIC_SLAVE_CMD), 0x04);
    /* Linux's order: slave EOI then master EOI */
    outb(PIC_SLAVE_CMD, PIC_OCW2_SEOI | 2);
    outb(PIC_MASTER_CMD, PIC_OCW2_SEOI | PIC_CASCADE_IR);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0);
    assert_int_equal(read_isr(PIC_SLAVE_CMD), 0);
}

static void test_slave_priority_sits_at_master_ir2(void **state)
{
    (void)state;
    pulse(3);
    pulse(8);
    pulse(1);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
    eoi_master();
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 0);
    pulse(9);
    assert_false(vpic_has_intr(&pic)); /* IR9 is below IR8 in service on the slave */
    eoi_slave();
    assert_false(vpic_has_intr(&pic)); /* master IR2 still in service */
    eoi_master();
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 1);
    eoi_slave();
    eoi_master();
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3);
}

static void test_special_fully_nested_lets_slave_nest(void **state)
{
    (void)state;
    outb(PIC_MASTER_CMD, PIC_ICW1 | PIC_ICW1_IC4);
    outb(PIC_MASTER_DATA, MASTER_BASE);
    outb(PIC_MASTER_DATA, 1u << PIC_CASCADE_IR);
    outb(PIC_MASTER_DATA, PIC_ICW4_UPM | PIC_ICW4_SFNM);
    pulse(12);
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 4);
    pulse(9); /* higher than IR12 on the slave, while master IR2 is in service */
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 1);
}

static void test_without_sfnm_slave_cannot_nest(void **state)
{
    (void)state;
    pulse(12);
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 4);
    pulse(9);
    assert_false(vpic_has_intr(&pic));
}

/* ---- edge and level triggering ---- */

static void test_edge_request_survives_line_drop(void **state)
{
    (void)state;
    irq(4, true);
    irq(4, false);
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
}

static void test_edge_line_held_high_requests_once(void **state)
{
    (void)state;
    irq(4, true);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
    eoi_master();
    assert_false(vpic_has_intr(&pic));
    irq(4, false);
    irq(4, true);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 4);
}

static void test_elcr_reserved_bits_read_zero(void **state)
{
    (void)state;
    outb(PIC_ELCR1, 0xFF);
    outb(PIC_ELCR2, 0xFF);
    assert_int_equal(inb(PIC_ELCR1), 0xF8); /* IRQ 0, 1, 2 are edge */
    assert_int_equal(inb(PIC_ELCR2), 0xDE); /* IRQ 8 and 13 are edge */
    outb(PIC_ELCR1, 0x00);
    assert_int_equal(inb(PIC_ELCR1), 0x00);
}

static void test_elcr_level_reasserts_after_eoi(void **state)
{
    (void)state;
    outb(PIC_ELCR2, 1u << 3); /* IRQ 11 level */
    irq(11, true);
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 3);
    eoi_slave();
    eoi_master();
    /* the line is still asserted: the request is back */
    assert_true(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + 3);
    irq(11, false);
    eoi_slave();
    eoi_master();
    assert_false(vpic_has_intr(&pic));
}

static void test_elcr_level_on_master(void **state)
{
    (void)state;
    outb(PIC_ELCR1, 1u << 5);
    irq(5, true);
    assert_int_equal(read_irr(PIC_MASTER_CMD), 0x20);
    irq(5, false);
    assert_int_equal(read_irr(PIC_MASTER_CMD), 0x00); /* IRR follows the level */
    assert_false(vpic_has_intr(&pic));
}

static void test_elcr_write_samples_level_lines(void **state)
{
    (void)state;
    irq(7, true);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 7);
    eoi_master();
    outb(PIC_ELCR1, 1u << 7); /* now level, and the line is high: a request */
    assert_true(vpic_has_intr(&pic));
}

static void test_icw1_ltim_makes_every_line_level(void **state)
{
    (void)state;
    outb(PIC_MASTER_CMD, PIC_ICW1 | PIC_ICW1_IC4 | PIC_ICW1_LTIM);
    outb(PIC_MASTER_DATA, MASTER_BASE);
    outb(PIC_MASTER_DATA, 0x04);
    outb(PIC_MASTER_DATA, PIC_ICW4_UPM);
    irq(1, true);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 1);
    eoi_master();
    assert_true(vpic_has_intr(&pic));
    irq(1, false);
    assert_false(vpic_has_intr(&pic));
}

/* ---- spurious interrupts ---- */

static void test_spurious_irq7_when_request_masked_before_inta(void **state)
{
    (void)state;
    pulse(3);
    assert_true(vpic_has_intr(&pic));
    outb(PIC_MASTER_DATA, 0x08);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + PIC_SPURIOUS_IR);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0); /* no ISR bit for a spurious IRQ 7 */
    outb(PIC_MASTER_DATA, 0);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 3); /* still latched */
}

static void test_spurious_irq7_when_level_line_drops(void **state)
{
    (void)state;
    outb(PIC_ELCR1, 1u << 6);
    irq(6, true);
    irq(6, false);
    assert_false(vpic_has_intr(&pic));
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + PIC_SPURIOUS_IR);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0);
}

static void test_real_irq7_sets_isr(void **state)
{
    (void)state;
    pulse(7);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 7);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 0x80);
}

static void test_spurious_irq15_sets_master_isr2(void **state)
{
    (void)state;
    outb(PIC_ELCR2, 1u << 2); /* IRQ 10 level */
    irq(10, true);
    assert_true(vpic_has_intr(&pic));
    irq(10, false); /* withdrawn before INTA; master IR2 latched the edge */
    assert_int_equal(vpic_ack(&pic), SLAVE_BASE + PIC_SPURIOUS_IR);
    assert_int_equal(read_isr(PIC_MASTER_CMD), 1u << PIC_CASCADE_IR);
    assert_int_equal(read_isr(PIC_SLAVE_CMD), 0);
}

/* ---- INTR and the vCPU kick ---- */

static void test_kick_only_on_intr_rising(void **state)
{
    (void)state;
    pulse(5);
    pulse(6);
    pulse(7);
    assert_int_equal(kicks, 1);
    assert_int_equal(vpic_ack(&pic), MASTER_BASE + 5);
    assert_false(vpic_has_intr(&pic));
    eoi_master();
    assert_int_equal(kicks, 2);
}

static void test_irq2_line_is_ignored(void **state)
{
    (void)state;
    pulse(PIC_CASCADE_IR); /* the cascade has no ISA line */
    assert_false(vpic_has_intr(&pic));
    vpic_set_irq(&pic, 16, true);
    vpic_set_irq(&pic, 1000, true);
    assert_false(vpic_has_intr(&pic));
}

static void test_word_access_splits_into_bytes(void **state)
{
    (void)state;
    vdev_bus_out(&bus, PIC_ELCR1, 2, 0x4060);
    assert_int_equal(inb(PIC_ELCR1), 0x60);
    assert_int_equal(inb(PIC_ELCR2), 0x40);
    assert_int_equal(vdev_bus_in(&bus, PIC_ELCR1, 2), 0x4060);
    outb(PIC_MASTER_DATA, 0x5A);
    assert_int_equal(vdev_bus_in(&bus, PIC_MASTER_DATA, 2), 0xFF5A); /* 0x22 is not the PIC's */
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_attach_claims_ports_once, setup_raw),
        cmocka_unit_test_setup(test_uninitialised_pic_has_no_intr, setup_raw),
        cmocka_unit_test_setup(test_icw_sequence_sets_vector_base, setup_raw),
        cmocka_unit_test_setup(test_icw2_low_bits_ignored, setup_raw),
        cmocka_unit_test_setup(test_single_mode_skips_icw3_and_icw4, setup_raw),
        T(test_intr_blocked_during_reinitialisation),
        T(test_icw1_clears_imr_isr_and_priority),
        T(test_mask_holds_request_until_unmasked),
        T(test_master_ir2_mask_hides_slave),
        T(test_fixed_priority_lowest_level_first),
        T(test_higher_priority_nests_over_in_service),
        T(test_set_priority_command_rotates_base),
        T(test_nonspecific_eoi_clears_highest_in_service),
        T(test_specific_eoi_clears_named_level),
        T(test_rotate_on_nonspecific_eoi),
        T(test_rotate_on_specific_eoi),
        T(test_ocw2_nop_changes_nothing),
        T(test_auto_eoi_leaves_isr_clear),
        T(test_rotate_in_auto_eoi_mode),
        T(test_auto_eoi_slave_second_request_not_lost),
        T(test_ocw3_selects_irr_or_isr),
        T(test_poll_acknowledges_highest_request),
        T(test_poll_slave),
        T(test_special_mask_mode_enables_lower_levels),
        T(test_slave_request_cascades_through_ir2),
        T(test_slave_priority_sits_at_master_ir2),
        T(test_special_fully_nested_lets_slave_nest),
        T(test_without_sfnm_slave_cannot_nest),
        T(test_edge_request_survives_line_drop),
        T(test_edge_line_held_high_requests_once),
        T(test_elcr_reserved_bits_read_zero),
        T(test_elcr_level_reasserts_after_eoi),
        T(test_elcr_level_on_master),
        T(test_elcr_write_samples_level_lines),
        T(test_icw1_ltim_makes_every_line_level),
        T(test_spurious_irq7_when_request_masked_before_inta),
        T(test_spurious_irq7_when_level_line_drops),
        T(test_real_irq7_sets_isr),
        T(test_spurious_irq15_sets_master_isr2),
        T(test_kick_only_on_intr_rising),
        T(test_irq2_line_is_ignored),
        T(test_word_access_splits_into_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
