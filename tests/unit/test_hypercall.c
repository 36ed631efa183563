/* Hypercall tests (vmx/exit/hypercall.c, docs/guest-abi.md §6): exit, console write, info, unknown
   numbers and VMCALL from user mode, against the fake VMCS and guest RAM in a host array. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vdev.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/hypercall.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define RAM_SIZE   0x4000ull
#define RIP0       0x1000ull
#define VMCALL_LEN 3 /* 0F 01 C1 */
#define BUF_GPA    0x2000ull
#define INFO_GPA   0x3000ull
#define INFO_SIZE  64
#define TSC_KHZ    3000000ull
#define AR_SS(dpl) (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P | ((dpl) << SEG_AR_DPL_SHIFT))
#define HIGH_NOISE 0xFFFFFFFF00000000ull /* upper register halves the ABI ignores */
#define FILL       0xCC

static struct vm vm;
static struct vcpu *v;
static uint8_t ram[RAM_SIZE];

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "hctest");
    memset(ram, FILL, sizeof(ram));
    fake_vm_ram(&vm, ram, RAM_SIZE);
    fake_vm_cpu_model(&vm, TSC_KHZ); /* the TSC frequency the VM is told */
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS(0));
    fake_vmcs_set(VMCS_GUEST_CS_AR, SEG_AR_L);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, VMCALL_LEN);
    return 0;
}

static uint64_t vmcall(uint64_t nr, uint64_t rbx, uint64_t rcx)
{
    v->regs.gpr[REG_RAX] = nr;
    v->regs.gpr[REG_RBX] = rbx;
    v->regs.gpr[REG_RCX] = rcx;
    fake_vcpu_exit(v, exit_handle_vmcall);
    while (guest_console_drain(&vm.g, 0, UINT64_MAX)) /* hv's console service, after the exit */
        ;
    return v->regs.gpr[REG_RAX];
}

static void assert_advanced(void)
{
    assert_int_equal(v->event_count, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + VMCALL_LEN);
}

/* ---- exit ---- */

static void test_exit(void **state)
{
    (void)state;
    assert_int_equal(vmcall(HC_EXIT, HIGH_NOISE | 7, 0), 0);
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "exit(7)");
    assert_advanced(); /* RIP advances after every call, exit included */
}

static void test_exit_status_is_32_bits_unsigned(void **state)
{
    (void)state;
    vmcall(HIGH_NOISE | HC_EXIT, 0xFFFFFFFF, 0);
    assert_string_equal(vm.g.verdict, "exit(4294967295)");
}

/* ---- console write ---- */

static void test_console_write(void **state)
{
    (void)state;
    memcpy(ram + BUF_GPA, "hi there\nmore", 13);
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, HIGH_NOISE | BUF_GPA, HIGH_NOISE | 13), 13);
    assert_advanced();
    assert_false(vm.g.ended);
    assert_string_equal(fake_log, "[hctest] hi there\n");
    assert_int_equal(vm.g.console.len, 4); /* "more" waits for its newline */
}

static void test_console_write_joins_com1_line(void **state)
{
    (void)state;
    guest_console_write(&vm.g, "from ", 5);
    memcpy(ram + BUF_GPA, "vmcall\n", 7);
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, BUF_GPA, 7), 7);
    assert_string_equal(fake_log, "[hctest] from vmcall\n");
}

static void test_console_write_filters_bytes(void **state)
{
    (void)state;
    memcpy(ram + BUF_GPA, "a\x1b[31mb\r\n", 9);
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, BUF_GPA, 9), 9);
    assert_string_equal(fake_log, "[hctest] a?[31mb\n");
}

static void test_console_write_max_length(void **state)
{
    (void)state;
    memset(ram + BUF_GPA - HC_CONSOLE_MAX / 2, 'x', HC_CONSOLE_MAX);
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, BUF_GPA - HC_CONSOLE_MAX / 2, HC_CONSOLE_MAX),
                     HC_CONSOLE_MAX);
    assert_advanced();
}

static void test_console_write_zero_length(void **state)
{
    (void)state;
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, BUF_GPA, 0), 0);
    assert_advanced();
    assert_string_equal(fake_log, "");
}

static void test_console_write_out_of_range(void **state)
{
    (void)state;
    memset(ram + RAM_SIZE - 4, 'y', 4);
    ram[RAM_SIZE - 1] = '\n';
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, RAM_SIZE - 4, 9), HC_EINVAL);
    assert_int_equal(HC_EINVAL, 0xFFFFFFFFFFFFFFFEull);
    assert_advanced();
    assert_int_equal(vm.g.console.len, 0); /* nothing printed, nothing buffered */
    assert_string_equal(fake_log, "");
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, 0xFFFFFFFF, 2), HC_EINVAL);
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, RAM_SIZE, 1), HC_EINVAL);
    assert_int_equal(vm.g.console.len, 0);
    assert_false(vm.g.ended);
}

static void test_console_write_too_long(void **state)
{
    (void)state;
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, 0, HC_CONSOLE_MAX + 1), HC_EINVAL);
    assert_advanced();
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, 0, 0xFFFFFFFF), HC_EINVAL);
    assert_advanced();
    assert_int_equal(vm.g.console.len, 0);
    assert_string_equal(fake_log, "");
}

/* ---- info ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void test_info(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct hc_info), INFO_SIZE);
    v->id = 0;
    assert_int_equal(vmcall(HC_INFO, HIGH_NOISE | INFO_GPA, 0), 0);
    assert_advanced();
    const uint8_t *p = ram + INFO_GPA;
    assert_int_equal(le32(p + 0), HC_ABI_VERSION);
    assert_int_equal(le32(p + 0), 1);
    assert_int_equal(le32(p + 4), 0);
    assert_int_equal(le64(p + 8), TSC_KHZ);
    static const uint8_t version[16] = "hv 0.1";
    assert_memory_equal(p + 16, version, sizeof(version)); /* NUL-padded */
    static const uint8_t name[32] = "hctest";
    assert_memory_equal(p + 32, name, sizeof(name));
    assert_int_equal(p[INFO_SIZE], FILL); /* nothing past the structure */
    assert_int_equal(p[-1], FILL);
}

static void test_info_vcpu_id_tsc_unknown_long_name(void **state)
{
    (void)state;
    v->id = 5;
    fake_vm_cpu_model(&vm, 0);
    strcpy(vm.cfg.name, "abcdefghijklmnopqrstuvwxyz01234"); /* 31 characters: the maximum */
    assert_int_equal(vmcall(HC_INFO, INFO_GPA, 0), 0);
    const uint8_t *p = ram + INFO_GPA;
    assert_int_equal(le32(p + 4), 5);
    assert_int_equal(le64(p + 8), 0);
    assert_memory_equal(p + 32, "abcdefghijklmnopqrstuvwxyz01234", 32); /* with its NUL */
}

static void test_info_at_end_of_ram(void **state)
{
    (void)state;
    assert_int_equal(vmcall(HC_INFO, RAM_SIZE - INFO_SIZE, 0), 0);
    assert_int_equal(le32(ram + RAM_SIZE - INFO_SIZE), 1);
}

static void test_info_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(vmcall(HC_INFO, RAM_SIZE - INFO_SIZE + 1, 0), HC_EINVAL);
    assert_advanced();
    for (uint64_t i = RAM_SIZE - INFO_SIZE; i < RAM_SIZE; i++)
        if (ram[i] != FILL)
            fail_msg("byte 0x%llx written by a refused info call", (unsigned long long)i);
    assert_int_equal(vmcall(HC_INFO, 0xFFFFFFF0, 0), HC_EINVAL);
}

/* ---- unknown numbers, privilege ---- */

static void test_unknown_number(void **state)
{
    (void)state;
    assert_int_equal(vmcall(3, 0, 0), HC_ENOSYS);
    assert_int_equal(HC_ENOSYS, 0xFFFFFFFFFFFFFFFFull);
    assert_advanced();
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    assert_int_equal(vmcall(0x80000000, 0, 0), ~0ull);
    assert_advanced();
    assert_false(vm.g.ended);
}

static void test_number_is_eax_only(void **state)
{
    (void)state;
    /* RAX = 1 << 32: EAX = 0 is exit */
    vmcall(1ull << 32, 3, 0);
    assert_string_equal(vm.g.verdict, "exit(3)");
}

static void test_user_mode_gets_ud(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS(3));
    assert_int_equal(vmcall(HC_EXIT, 9, 0), HC_EXIT); /* RAX untouched */
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_UD);
    assert_int_equal(v->events[0].type, INTR_TYPE_HW_EXCEPTION);
    assert_false(v->events[0].has_error_code);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0); /* not advanced */
    assert_false(vm.g.ended);
}

static void test_cpl1_gets_ud(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS(1));
    memcpy(ram + BUF_GPA, "x\n", 2);
    assert_int_equal(vmcall(HC_CONSOLE_WRITE, BUF_GPA, 2), HC_CONSOLE_WRITE);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_UD);
    assert_string_equal(fake_log, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_exit, setup),
        cmocka_unit_test_setup(test_exit_status_is_32_bits_unsigned, setup),
        cmocka_unit_test_setup(test_console_write, setup),
        cmocka_unit_test_setup(test_console_write_joins_com1_line, setup),
        cmocka_unit_test_setup(test_console_write_filters_bytes, setup),
        cmocka_unit_test_setup(test_console_write_max_length, setup),
        cmocka_unit_test_setup(test_console_write_zero_length, setup),
        cmocka_unit_test_setup(test_console_write_out_of_range, setup),
        cmocka_unit_test_setup(test_console_write_too_long, setup),
        cmocka_unit_test_setup(test_info, setup),
        cmocka_unit_test_setup(test_info_vcpu_id_tsc_unknown_long_name, setup),
        cmocka_unit_test_setup(test_info_at_end_of_ram, setup),
        cmocka_unit_test_setup(test_info_out_of_range, setup),
        cmocka_unit_test_setup(test_unknown_number, setup),
        cmocka_unit_test_setup(test_number_is_eax_only, setup),
        cmocka_unit_test_setup(test_user_mode_gets_ud, setup),
        cmocka_unit_test_setup(test_cpl1_gets_ud, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
