/* The virtual PC's wiring (vmx/vm/vm_devices.c, vmx/vcpu/vcpu_intr.c): a device's line reaches
   the vCPU through the IOAPIC and the local APIC, or through the 8259 pair in virtual-wire mode;
   a level-triggered line is delivered again after the EOI while it stays asserted; HLT waits
   for an interrupt on a virtual-PC guest and ends an hv-ABI one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/vcpu_intr.h"
#include "vmx/vm/vm.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define APIC_SVR_ON     0x1FFu /* software-enabled, spurious vector 0xFF */
#define RTE_LEVEL       (1u << 15)
#define TEST_ICW1       0x11u /* edge, cascade, ICW4 needed */
#define TEST_ICW4_8086  0x01u
#define TEST_PIC_MASTER 0x20u
#define TEST_PIC_SLAVE  0xA0u

static struct vm vm;
static struct vcpu *v;

static int setup_pc(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "pctest");
    vm.platform = VM_PLATFORM_PC;
    assert_int_equal(vm_devices_init(&vm), 0);
    assert_ptr_equal(v->lapic, &vm.dev.pc.lapic[0]);
    vlapic_mmio_write(v->lapic, APIC_OFF_SVR, APIC_SVR_ON);
    return 0;
}

static void ioapic_write(uint32_t reg, uint32_t value)
{
    const struct vdev_mmio_range *r = vdev_bus_find_mmio(&vm.dev.bus, VIOAPIC_BASE, 4);
    assert_non_null(r);
    r->ops->write(r->dev, VIOAPIC_IOREGSEL, 4, reg);
    r->ops->write(r->dev, VIOAPIC_IOWIN, 4, value);
}

static void route_gsi(unsigned gsi, uint32_t low)
{
    ioapic_write(VIOAPIC_REG_REDTBL + 2 * gsi + 1, 0); /* destination APIC ID 0 */
    ioapic_write(VIOAPIC_REG_REDTBL + 2 * gsi, low);   /* vector, fixed, unmasked */
}

static void test_ioapic_edge_to_vcpu(void **state)
{
    (void)state;
    assert_false(vcpu_external_interrupt_pending(v));
    route_gsi(4, 0x34);
    vdev_irq_set(&vm.dev.irq, 4, true);
    assert_true(vcpu_external_interrupt_pending(v));
    assert_int_equal(vcpu_ack_external_interrupt(v), 0x34);
    assert_false(vcpu_external_interrupt_pending(v)); /* in service now, not requested */
    vdev_irq_set(&vm.dev.irq, 4, false);
}

/* 82093AA redirection entry, delivery mode 100 (NMI): the vCPU gets an NMI, not a vector. */
static void test_ioapic_nmi_message(void **state)
{
    (void)state;
    route_gsi(5, (APIC_DM_NMI << APIC_LVT_DM_SHIFT) | 0x77);
    vdev_irq_set(&vm.dev.irq, 5, true);
    assert_false(vcpu_external_interrupt_pending(v));
    assert_true(vcpu_take_nmi(v));
    assert_false(vcpu_take_nmi(v));
    assert_int_equal(vm.dev.pc.messages_dropped, 0);
}

/* SMI, INIT and ExtINT messages are counted and dropped. */
static void test_ioapic_unmodelled_messages_dropped(void **state)
{
    (void)state;
    route_gsi(6, (APIC_DM_SMI << APIC_LVT_DM_SHIFT) | 0x70);
    vdev_irq_set(&vm.dev.irq, 6, true);
    route_gsi(7, (APIC_DM_EXTINT << APIC_LVT_DM_SHIFT) | 0x71);
    vdev_irq_set(&vm.dev.irq, 7, true);
    assert_false(vcpu_external_interrupt_pending(v));
    assert_false(vcpu_take_nmi(v));
    assert_int_equal(vm.dev.pc.messages_dropped, 2);
}

static void test_irq0_arrives_on_gsi2(void **state)
{
    (void)state;
    route_gsi(2, 0x30); /* the MADT's override: ISA IRQ 0 -> GSI 2 */
    vdev_irq_pulse(&vm.dev.irq, 0);
    assert_int_equal(vcpu_ack_external_interrupt(v), 0x30);
}

static void test_level_line_again_after_eoi(void **state)
{
    (void)state;
    route_gsi(9, 0x39 | RTE_LEVEL);
    vdev_irq_set(&vm.dev.irq, 9, true);
    assert_int_equal(vcpu_ack_external_interrupt(v), 0x39);
    vlapic_mmio_write(v->lapic, APIC_OFF_EOI, 0); /* still asserted: the IOAPIC sends it again */
    assert_true(vcpu_external_interrupt_pending(v));
    assert_int_equal(vcpu_ack_external_interrupt(v), 0x39);
    vdev_irq_set(&vm.dev.irq, 9, false);
    vlapic_mmio_write(v->lapic, APIC_OFF_EOI, 0);
    assert_false(vcpu_external_interrupt_pending(v));
}

static void pic_init(uint16_t base, uint8_t vector_base, uint8_t icw3)
{
    vdev_bus_out(&vm.dev.bus, base, 1, TEST_ICW1);
    vdev_bus_out(&vm.dev.bus, (uint16_t)(base + 1), 1, vector_base);
    vdev_bus_out(&vm.dev.bus, (uint16_t)(base + 1), 1, icw3);
    vdev_bus_out(&vm.dev.bus, (uint16_t)(base + 1), 1, TEST_ICW4_8086);
    vdev_bus_out(&vm.dev.bus, (uint16_t)(base + 1), 1, 0); /* every line unmasked */
}

static void test_pic_in_virtual_wire_mode(void **state)
{
    (void)state;
    pic_init(TEST_PIC_MASTER, 0x20, 0x04);
    pic_init(TEST_PIC_SLAVE, 0x28, 0x02);
    vdev_irq_pulse(&vm.dev.irq, 3);
    assert_false(vcpu_external_interrupt_pending(v)); /* LINT0 masked: the PIC is not wired */
    vlapic_set_virtual_wire(v->lapic);
    assert_true(vcpu_external_interrupt_pending(v));
    assert_int_equal(vcpu_ack_external_interrupt(v), 0x23);
}

static void test_hlt_waits_on_a_virtual_pc(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 1);
    fake_vcpu_exit(v, exit_handle_hlt);
    assert_true(v->halted);
    assert_false(vm.g.ended);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1); /* IF = 0: nothing can wake it */
    v->halted = false;
    fake_vcpu_exit(v, exit_handle_hlt);
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "halted");
}

static void test_abi_guest_has_no_interrupt_sources(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "abitest");
    assert_int_equal(vm_devices_init(&vm), 0);
    assert_null(v->lapic);
    assert_false(vcpu_external_interrupt_pending(v));
    assert_int_equal(vcpu_ack_external_interrupt(v), -1);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 1);
    fake_vcpu_exit(v, exit_handle_hlt);
    assert_string_equal(vm.g.verdict, "halted"); /* as docs/guest-abi.md says */
}

static void test_triple_fault_is_a_reset_on_a_pc(void **state)
{
    (void)state;
    fake_vcpu_exit(v, exit_handle_triple_fault);
    assert_string_equal(vm.g.verdict, "reset");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ioapic_edge_to_vcpu, setup_pc),
        cmocka_unit_test_setup(test_ioapic_nmi_message, setup_pc),
        cmocka_unit_test_setup(test_ioapic_unmodelled_messages_dropped, setup_pc),
        cmocka_unit_test_setup(test_irq0_arrives_on_gsi2, setup_pc),
        cmocka_unit_test_setup(test_level_line_again_after_eoi, setup_pc),
        cmocka_unit_test_setup(test_pic_in_virtual_wire_mode, setup_pc),
        cmocka_unit_test_setup(test_hlt_waits_on_a_virtual_pc, setup_pc),
        cmocka_unit_test(test_abi_guest_has_no_interrupt_sources),
        cmocka_unit_test_setup(test_triple_fault_is_a_reset_on_a_pc, setup_pc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
