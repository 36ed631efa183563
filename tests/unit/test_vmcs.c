/* VMCS access layer tests: field names (SDM vol. 3 Appendix B), VM-instruction error names
   (§31.4), failure recording of VMREAD/VMWRITE and the dump, against the fake VMCS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include "kernel/percpu.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmcs_setup.h"
#include "vmx/cpu/vmx.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

#define UNKNOWN_ERROR "unknown VM-instruction error"
#define ERR12_TEXT    "VMREAD/VMWRITE from/to unsupported VMCS component"
#define ERR13_TEXT    "VMWRITE to read-only VMCS component"

static char buf[256];

static int setup(void **state)
{
    (void)state;
    fake_vmcs_reset();
    fake_hw_reset();
    fake_log_reset();
    vmcs_error_clear();
    memset(buf, 0, sizeof(buf));
    return 0;
}

/* ---- field names ---- */

static void test_field_names_sample(void **state)
{
    (void)state;
    static const struct {
        uint32_t enc;
        const char *name;
    } cases[] = {
        {0x0000, "VPID"},
        {0x0004, "EPTP_INDEX"},
        {0x0800, "GUEST_ES_SELECTOR"},
        {0x080E, "GUEST_TR_SELECTOR"},
        {0x0C00, "HOST_ES_SELECTOR"},
        {0x0C0C, "HOST_TR_SELECTOR"},
        {0x2000, "IO_BITMAP_A"},
        {0x201A, "EPT_POINTER"},
        {0x2032, "TSC_MULTIPLIER"},
        {0x2400, "GUEST_PHYSICAL_ADDRESS"},
        {0x2800, "LINK_POINTER"},
        {0x2806, "GUEST_EFER"},
        {0x2810, "GUEST_PDPTE3"},
        {0x2C02, "HOST_EFER"},
        {0x4000, "PIN_BASED_CTLS"},
        {0x401E, "PROC_BASED_CTLS2"},
        {0x4400, "VM_INSTRUCTION_ERROR"},
        {0x4402, "EXIT_REASON"},
        {0x440E, "EXIT_INSTRUCTION_INFO"},
        {0x4816, "GUEST_CS_AR"},
        {0x4824, "GUEST_INTERRUPTIBILITY"},
        {0x482E, "PREEMPTION_TIMER_VALUE"},
        {0x4C00, "HOST_SYSENTER_CS"},
        {0x6000, "CR0_GUEST_HOST_MASK"},
        {0x6006, "CR4_READ_SHADOW"},
        {0x6400, "EXIT_QUALIFICATION"},
        {0x640A, "GUEST_LINEAR_ADDRESS"},
        {0x6800, "GUEST_CR0"},
        {0x681E, "GUEST_RIP"},
        {0x6820, "GUEST_RFLAGS"},
        {0x6C00, "HOST_CR0"},
        {0x6C16, "HOST_RIP"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name = vmcs_field_name(cases[i].enc);
        if (!name || strcmp(name, cases[i].name))
            fail_msg("0x%04x: \"%s\", want \"%s\"", cases[i].enc, name ? name : "(null)",
                     cases[i].name);
    }
}

static void test_field_names_unknown(void **state)
{
    (void)state;
    assert_null(vmcs_field_name(0x2030)); /* SPPTP: not in hv's table */
    assert_null(vmcs_field_name(0x201B)); /* high half of EPT_POINTER */
    assert_null(vmcs_field_name(0x0001));
    assert_null(vmcs_field_name(0x7FFF));
    assert_null(vmcs_field_name(0xFFFFFFFF));
}

/* Every table entry is named after itself, and its encoding's width and type bits match the
   group it is listed in (§25.11.2). */
struct group_check {
    unsigned width, type;
};

#define CHECK_ENTRY(name, enc) check_entry(#name, enc, g);
static void check_entry(const char *name, uint32_t enc, struct group_check g)
{
    const char *got = vmcs_field_name(enc);
    if (!got || strcmp(got, name))
        fail_msg("0x%04x: \"%s\", want \"%s\"", enc, got ? got : "(null)", name);
    if (VMCS_FIELD_WIDTH(enc) != g.width || VMCS_FIELD_TYPE(enc) != g.type)
        fail_msg("%s (0x%04x): width %u type %u, listed as width %u type %u", name, enc,
                 VMCS_FIELD_WIDTH(enc), VMCS_FIELD_TYPE(enc), g.width, g.type);
    if (enc & 1)
        fail_msg("%s (0x%04x): odd encoding (a high-half access)", name, enc);
}

static void test_field_table_consistent(void **state)
{
    (void)state;
    struct group_check g;
    g = (struct group_check){VMCS_WIDTH_16, VMCS_TYPE_CONTROL};
    VMCS_FIELDS_16_CONTROL(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_16, VMCS_TYPE_GUEST};
    VMCS_FIELDS_16_GUEST(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_16, VMCS_TYPE_HOST};
    VMCS_FIELDS_16_HOST(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_64, VMCS_TYPE_CONTROL};
    VMCS_FIELDS_64_CONTROL(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_64, VMCS_TYPE_RO};
    VMCS_FIELDS_64_RO(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_64, VMCS_TYPE_GUEST};
    VMCS_FIELDS_64_GUEST(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_64, VMCS_TYPE_HOST};
    VMCS_FIELDS_64_HOST(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_32, VMCS_TYPE_CONTROL};
    VMCS_FIELDS_32_CONTROL(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_32, VMCS_TYPE_RO};
    VMCS_FIELDS_32_RO(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_32, VMCS_TYPE_GUEST};
    VMCS_FIELDS_32_GUEST(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_32, VMCS_TYPE_HOST};
    VMCS_FIELDS_32_HOST(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_NATURAL, VMCS_TYPE_CONTROL};
    VMCS_FIELDS_NAT_CONTROL(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_NATURAL, VMCS_TYPE_RO};
    VMCS_FIELDS_NAT_RO(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_NATURAL, VMCS_TYPE_GUEST};
    VMCS_FIELDS_NAT_GUEST(CHECK_ENTRY)
    g = (struct group_check){VMCS_WIDTH_NATURAL, VMCS_TYPE_HOST};
    VMCS_FIELDS_NAT_HOST(CHECK_ENTRY)
}
#undef CHECK_ENTRY

/* ---- VM-instruction error names ---- */

static void test_instruction_error_names(void **state)
{
    (void)state;
    for (uint32_t n = 1; n <= 28; n++) {
        const char *name = vm_instruction_error_name(n);
        if (!name || !name[0] || !strcmp(name, UNKNOWN_ERROR))
            fail_msg("error %u has no name", n);
    }
    assert_string_equal(vm_instruction_error_name(1), "VMCALL executed in VMX root operation");
    assert_string_equal(vm_instruction_error_name(7), "VM entry with invalid control field(s)");
    assert_string_equal(vm_instruction_error_name(8), "VM entry with invalid host-state field(s)");
    assert_string_equal(vm_instruction_error_name(12), ERR12_TEXT);
    assert_string_equal(vm_instruction_error_name(13), ERR13_TEXT);
    assert_string_equal(vm_instruction_error_name(26), "VM entry with events blocked by MOV SS");
    assert_string_equal(vm_instruction_error_name(28), "invalid operand to INVEPT/INVVPID");
    assert_string_equal(vm_instruction_error_name(0), UNKNOWN_ERROR);
    assert_string_equal(vm_instruction_error_name(29), UNKNOWN_ERROR);
    assert_string_equal(vm_instruction_error_name(0xFFFFFFFF), UNKNOWN_ERROR);
}

static void test_describe_instruction_error(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_VM_INSTRUCTION_ERROR, 7);
    vmcs_describe_instruction_error(buf, sizeof(buf));
    assert_string_equal(buf, "7 (VM entry with invalid control field(s))");
    fake_vmcs_set(VMCS_VM_INSTRUCTION_ERROR, 99);
    vmcs_describe_instruction_error(buf, sizeof(buf));
    assert_string_equal(buf, "99 (" UNKNOWN_ERROR ")");
}

/* ---- typed access ---- */

static void test_typed_access(void **state)
{
    (void)state;
    vmcs_write16(VMCS_GUEST_CS_SELECTOR, 0x1234);
    assert_int_equal(vmcs_read16(VMCS_GUEST_CS_SELECTOR), 0x1234);
    vmcs_write32(VMCS_GUEST_CS_AR, 0xC09B);
    assert_int_equal(vmcs_read32(VMCS_GUEST_CS_AR), 0xC09B);
    vmcs_write64(VMCS_GUEST_EFER, 0x0000000100000D01ull);
    assert_int_equal(vmcs_read64(VMCS_GUEST_EFER), 0x0000000100000D01ull);
    vmcs_writenat(VMCS_GUEST_RIP, 0xFFFFFFFF80001234ull);
    assert_int_equal(vmcs_readnat(VMCS_GUEST_RIP), 0xFFFFFFFF80001234ull);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0xFFFFFFFF80001234ull);
    assert_false(vmcs_error_take(buf, sizeof(buf)));
}

/* ---- failure recording ---- */

static void test_error_take_unsupported_write(void **state)
{
    (void)state;
    fake_vmcs_set_unsupported(VMCS_TSC_MULTIPLIER, true);
    vmcs_write64(VMCS_TSC_MULTIPLIER, 1);
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf, "VMWRITE TSC_MULTIPLIER (0x2032): VM-instruction error 12 (" ERR12_TEXT
                             ")");
    /* taken: cleared */
    memset(buf, 0, sizeof(buf));
    assert_false(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf, "");
}

/* The record is per CPU (struct vmx_cpu): a failure on one CPU is not another CPU's to take. */
static void test_error_record_is_per_cpu(void **state)
{
    (void)state;
    struct vmx_cpu other_cpu = {0};
    struct vmx_cpu *this_vmx = this_cpu()->vmx;
    fake_vmcs_set_unsupported(VMCS_TSC_MULTIPLIER, true);
    vmcs_write64(VMCS_TSC_MULTIPLIER, 1);
    assert_true(this_vmx->vmcs_err.failed);
    this_cpu()->vmx = &other_cpu;
    assert_false(vmcs_error_take(buf, sizeof(buf)));
    this_cpu()->vmx = this_vmx;
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_false(other_cpu.vmcs_err.failed);
}

static void test_error_take_unsupported_read(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_BNDCFGS, 0x55);
    fake_vmcs_set_unsupported(VMCS_GUEST_BNDCFGS, true);
    assert_int_equal(vmcs_read64(VMCS_GUEST_BNDCFGS), 0);
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf,
                        "VMREAD GUEST_BNDCFGS (0x2812): VM-instruction error 12 (" ERR12_TEXT ")");
}

static void test_error_first_failure_wins(void **state)
{
    (void)state;
    fake_vmcs_set_unsupported(VMCS_PML_ADDR, true);
    vmcs_write64(VMCS_PML_ADDR, 0x1000);
    vmcs_write32(VMCS_EXIT_REASON, 1); /* read-only: error 13, but the first failure stands */
    vmcs_writenat(VMCS_GUEST_RIP, 0x1000);
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf, "VMWRITE PML_ADDR (0x200e): VM-instruction error 12 (" ERR12_TEXT ")");
    /* after the take, the next failure is recorded afresh */
    vmcs_write32(VMCS_EXIT_REASON, 1);
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf,
                        "VMWRITE EXIT_REASON (0x4402): VM-instruction error 13 (" ERR13_TEXT ")");
    assert_false(vmcs_error_take(buf, sizeof(buf)));
}

static void test_error_clear_forgets(void **state)
{
    (void)state;
    vmcs_write32(VMCS_EXIT_REASON, 1);
    vmcs_error_clear();
    assert_false(vmcs_error_take(buf, sizeof(buf)));
    fake_vmcs_set_unsupported(VMCS_VPID, true);
    vmcs_write16(VMCS_VPID, 3);
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf, "VMWRITE VPID (0x0): VM-instruction error 12 (" ERR12_TEXT ")");
}

static void test_error_unknown_field(void **state)
{
    (void)state;
    vmcs_write32((enum vmcs_field)0x9000, 1); /* beyond 15 bits: the CPU reports error 12 */
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf, "VMWRITE ? (0x9000): VM-instruction error 12 (" ERR12_TEXT ")");
}

static void test_error_vmfail_invalid(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_VM_INSTRUCTION_ERROR, 7); /* stale: must not be reported */
    fake_vmcs_clear_current();
    assert_int_equal(vmcs_read32(VMCS_GUEST_CS_AR), 0);
    vmcs_write32(VMCS_GUEST_SS_AR, 0); /* second failure ignored */
    assert_true(vmcs_error_take(buf, sizeof(buf)));
    assert_string_equal(buf, "VMREAD GUEST_CS_AR (0x4816): VMfailInvalid (no current VMCS)");
    assert_false(vmcs_error_take(buf, sizeof(buf)));
}

static void test_error_take_truncates(void **state)
{
    (void)state;
    fake_vmcs_set_unsupported(VMCS_TSC_MULTIPLIER, true);
    vmcs_write64(VMCS_TSC_MULTIPLIER, 1);
    char small[16];
    memset(small, 'Z', sizeof(small));
    assert_true(vmcs_error_take(small, 8));
    assert_string_equal(small, "VMWRITE");
    assert_int_equal(small[8], 'Z');
}

/* ---- dump ---- */

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#define COUNT_FIELD(name, enc) +1
enum { FIELD_COUNT = 0 VMCS_FIELDS_ALL(COUNT_FIELD) };
#undef COUNT_FIELD

static void test_dump_lists_fields_by_name(void **state)
{
    (void)state;
    char line[128];
    fake_vmcs_set(VMCS_GUEST_RIP, 0xFFF0);
    fake_vmcs_set(VMCS_EXIT_REASON, 0x80000021);
    fake_vmcs_set(VMCS_HOST_CR3, 0x123000);
    fake_vmcs_set(VMCS_PIN_BASED_CTLS, 0x7F);
    fake_vmcs_set_unsupported(VMCS_TSC_MULTIPLIER, true);
    fake_vmcs_set_unsupported(VMCS_GUEST_BNDCFGS, true);
    vmcs_dump();
    assert_int_equal(strncmp(fake_log, "VMCS dump:\n", 11), 0);
    snprintf(line, sizeof(line), "\n  %-9s %-28s 0x%x\n", "guest", "GUEST_RIP", 0xFFF0);
    assert_non_null(strstr(fake_log, line));
    snprintf(line, sizeof(line), "\n  %-9s %-28s 0x%x\n", "read-only", "EXIT_REASON", 0x80000021);
    assert_non_null(strstr(fake_log, line));
    snprintf(line, sizeof(line), "\n  %-9s %-28s 0x%x\n", "host", "HOST_CR3", 0x123000);
    assert_non_null(strstr(fake_log, line));
    snprintf(line, sizeof(line), "\n  %-9s %-28s 0x%x\n", "control", "PIN_BASED_CTLS", 0x7F);
    assert_non_null(strstr(fake_log, line));
    snprintf(line, sizeof(line), "\n  %-9s %-28s 0x0\n", "control", "VPID");
    assert_non_null(strstr(fake_log, line));
    /* unsupported fields are skipped, everything else listed once */
    assert_null(strstr(fake_log, "TSC_MULTIPLIER"));
    assert_null(strstr(fake_log, "GUEST_BNDCFGS"));
    assert_int_equal(count_lines(fake_log), 1 + FIELD_COUNT - 2);
    /* the dump's own failed reads are not recorded as access errors */
    assert_false(vmcs_error_take(buf, sizeof(buf)));
}

/* ---- guest state at creation (vmcs_setup.c) ---- */

/* Every entry mode starts with DR7 and IA32_DEBUGCTL as after RESET (SDM vol. 3 Table 10-1),
   which "load debug controls" puts into the CPU at the first VM entry. */
static void test_guest_debug_state_at_creation(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        fake_vmcs_set(VMCS_GUEST_DR7, 0xFFull);
        fake_vmcs_set(VMCS_GUEST_DEBUGCTL, 0x3ull);
        if (mode == 0)
            vmcs_setup_guest_real(0x7C00);
        else if (mode == 1)
            vmcs_setup_guest_prot32(0x100000);
        else
            vmcs_setup_guest_long64(0x100000, 0x1000, NULL);
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_DR7), 0x400);
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_DEBUGCTL), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_field_names_sample, setup),
        cmocka_unit_test_setup(test_field_names_unknown, setup),
        cmocka_unit_test_setup(test_field_table_consistent, setup),
        cmocka_unit_test_setup(test_instruction_error_names, setup),
        cmocka_unit_test_setup(test_describe_instruction_error, setup),
        cmocka_unit_test_setup(test_typed_access, setup),
        cmocka_unit_test_setup(test_error_take_unsupported_write, setup),
        cmocka_unit_test_setup(test_error_record_is_per_cpu, setup),
        cmocka_unit_test_setup(test_error_take_unsupported_read, setup),
        cmocka_unit_test_setup(test_error_first_failure_wins, setup),
        cmocka_unit_test_setup(test_error_clear_forgets, setup),
        cmocka_unit_test_setup(test_error_unknown_field, setup),
        cmocka_unit_test_setup(test_error_vmfail_invalid, setup),
        cmocka_unit_test_setup(test_error_take_truncates, setup),
        cmocka_unit_test_setup(test_dump_lists_fields_by_name, setup),
        cmocka_unit_test_setup(test_guest_debug_state_at_creation, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
