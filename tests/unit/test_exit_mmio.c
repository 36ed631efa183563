/* MMIO emulation (vmx/exit/exit_mmio.c): an EPT violation at a device's range is decoded from the
   instruction bytes in guest RAM, performed on the device, and RIP moves past the instruction;
   outside every range the EPT-violation kill stands. Against the fake VMCS, 32-bit protected
   mode with paging off (guest RAM in a host array). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/lib/string.h"
#include "kernel/lib/x86.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/exit/exit.h"
#include "vmx/vm/vm.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RAM_SIZE  0x10000ull
#define RIP0      0x2000ull
#define MMIO_BASE 0xFEC00000ull
#define AR_CODE32 (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)
#define AR_SS0    (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)

static struct vm vm;
static struct vcpu *v;
static uint8_t ram[RAM_SIZE];
static struct {
    unsigned reads, writes, size;
    uint64_t offset, value;
} dev;

static uint64_t dev_read(void *d, uint64_t offset, unsigned size)
{
    (void)d;
    dev.reads++, dev.offset = offset, dev.size = size;
    return 0xA1B2C3D4u;
}

static void dev_write(void *d, uint64_t offset, unsigned size, uint64_t value)
{
    (void)d;
    dev.writes++, dev.offset = offset, dev.size = size, dev.value = value;
}

static const struct vdev_mmio_ops dev_ops = {dev_read, dev_write};

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "mmiotest");
    memset(ram, 0, sizeof(ram));
    memset(&dev, 0, sizeof(dev));
    fake_vm_ram(&vm, ram, RAM_SIZE);
    assert_int_equal(vdev_bus_add_mmio(&vm.dev.bus, "probe", MMIO_BASE, 0x20, &dev_ops, 0), 0);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_ET | CR0_NE);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE32);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS0);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    return 0;
}

static void ept_violation_at(uint64_t gpa, const uint8_t *insn, size_t len)
{
    memcpy(ram + RIP0, insn, len);
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, 0);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, 0xBAD); /* not valid for EPT violations */
    fake_vcpu_exit(v, exit_handle_ept_violation);
}

static void test_write_register_to_device(void **state)
{
    (void)state;
    v->regs.gpr[REG_RDX] = 0x11223344;
    const uint8_t insn[] = {0x89, 0x15, 0x10, 0x00, 0xC0, 0xFE}; /* mov %edx,0xFEC00010 */
    ept_violation_at(MMIO_BASE + 0x10, insn, sizeof(insn));
    assert_false(vm.g.ended);
    assert_int_equal(dev.writes, 1);
    assert_int_equal(dev.offset, 0x10);
    assert_int_equal(dev.size, 4);
    assert_int_equal(dev.value, 0x11223344);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + sizeof(insn));
}

static void test_read_device_into_register(void **state)
{
    (void)state;
    v->regs.gpr[REG_RCX] = 0xFFFFFFFFFFFFFFFFull;
    const uint8_t insn[] = {0x8B, 0x0D, 0x00, 0x00, 0xC0, 0xFE}; /* mov 0xFEC00000,%ecx */
    ept_violation_at(MMIO_BASE, insn, sizeof(insn));
    assert_int_equal(dev.reads, 1);
    assert_int_equal(dev.offset, 0);
    assert_int_equal(v->regs.gpr[REG_RCX], 0xA1B2C3D4u); /* 32-bit load zero-extends */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + sizeof(insn));
}

/* A banked range (the local APIC's page): the access goes to the accessing vCPU's bank. */
static void bank_write(void *d, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset, (void)size;
    *(uint64_t *)d = value;
}

static const struct vdev_mmio_ops bank_ops = {0, bank_write};

static void test_banked_range_reaches_the_vcpus_own_device(void **state)
{
    (void)state;
    static uint64_t banks[2];
    banks[0] = banks[1] = 0;
    assert_int_equal(vdev_bus_add_mmio_banked(&vm.dev.bus, "banked", MMIO_BASE + 0x1000, 0x10,
                                              &bank_ops, banks, sizeof(banks[0]), 2),
                     0);
    vm.vcpus[1].guest = &vm.g;
    vm.vcpus[1].id = 1;
    v = &vm.vcpus[1];
    v->regs.gpr[REG_RDX] = 0x55;
    const uint8_t insn[] = {0x89, 0x15, 0x00, 0x10, 0xC0, 0xFE}; /* mov %edx,0xFEC01000 */
    ept_violation_at(MMIO_BASE + 0x1000, insn, sizeof(insn));
    assert_false(vm.g.ended);
    assert_int_equal(banks[0], 0);
    assert_int_equal(banks[1], 0x55);
    /* a vCPU with no bank: the write is dropped, the instruction completes */
    vm.vcpus[2].guest = &vm.g;
    vm.vcpus[2].id = 2;
    v = &vm.vcpus[2];
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    ept_violation_at(MMIO_BASE + 0x1000, insn, sizeof(insn));
    assert_false(vm.g.ended);
    assert_int_equal(banks[0], 0);
    assert_int_equal(banks[1], 0x55);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + sizeof(insn));
}

static void test_undecodable_access_ends_guest(void **state)
{
    (void)state;
    const uint8_t insn[] = {0x01, 0x05, 0x00, 0x00, 0xC0, 0xFE}; /* add %eax,0xFEC00000 */
    ept_violation_at(MMIO_BASE, insn, sizeof(insn));
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "killed(undecodable probe access at GPA 0xfec00000)");
    assert_int_equal(dev.reads + dev.writes, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

static void test_access_crossing_range_end_ends_guest(void **state)
{
    (void)state;
    const uint8_t insn[] = {0x89, 0x05, 0x1E, 0x00, 0xC0, 0xFE}; /* 4 bytes at base+0x1E */
    ept_violation_at(MMIO_BASE + 0x1E, insn, sizeof(insn));
    assert_true(vm.g.ended);
    assert_int_equal(dev.writes, 0);
}

static void test_unclaimed_gpa_is_still_an_ept_kill(void **state)
{
    (void)state;
    const uint8_t insn[] = {0x89, 0x05, 0x00, 0x00, 0x00, 0xFD};
    ept_violation_at(0xFD000000ull, insn, sizeof(insn));
    assert_true(vm.g.ended);
    assert_non_null(strstr(vm.g.verdict, "killed(EPT violation at GPA 0xfd000000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_write_register_to_device, setup),
        cmocka_unit_test_setup(test_read_device_into_register, setup),
        cmocka_unit_test_setup(test_banked_range_reaches_the_vcpus_own_device, setup),
        cmocka_unit_test_setup(test_undecodable_access_ends_guest, setup),
        cmocka_unit_test_setup(test_access_crossing_range_end_ends_guest, setup),
        cmocka_unit_test_setup(test_unclaimed_gpa_is_still_an_ept_kill, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
