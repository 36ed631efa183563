/* The virtual i8042 (drivers/vdev/vkbd.c): the controller commands Linux's i8042 probe and
   reboot path use, with no keyboard or mouse attached. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vkbd.h"
#include "tests/unit/fake.h"

static struct {
    struct vdev_host host;
    struct vdev_bus bus;
    struct vkbd k;
    char verdict[32];
    unsigned ends;
} t;

static void end_vm(void *ctx, const char *verdict)
{
    assert_ptr_equal(ctx, &t);
    if (!t.ends++)
        strncpy(t.verdict, verdict, sizeof(t.verdict) - 1);
}

static int setup(void **state)
{
    (void)state;
    fake_log_reset();
    memset(&t, 0, sizeof(t));
    t.host = (struct vdev_host){.ctx = &t, .end_vm = end_vm, .name = "kbdtest"};
    vdev_bus_init(&t.bus, &t.host);
    vkbd_init(&t.k, &t.host);
    assert_int_equal(vkbd_attach(&t.k, &t.bus), 0);
    return 0;
}

static uint8_t status(void)
{
    return (uint8_t)vdev_bus_in(&t.bus, VKBD_PORT_STATUS, 1);
}

static uint8_t data(void)
{
    return (uint8_t)vdev_bus_in(&t.bus, VKBD_PORT_DATA, 1);
}

static void command(uint8_t cmd)
{
    vdev_bus_out(&t.bus, VKBD_PORT_STATUS, 1, cmd);
}

static void write_data(uint8_t value)
{
    vdev_bus_out(&t.bus, VKBD_PORT_DATA, 1, value);
}

/* A command with a one-byte answer, read the way i8042_command does. */
static uint8_t ask(uint8_t cmd)
{
    command(cmd);
    assert_true(status() & VKBD_STR_OBF);
    return data();
}

static void test_status_after_reset(void **state)
{
    (void)state;
    uint8_t s = status();
    assert_false(s & VKBD_STR_OBF); /* Linux's flush finds nothing */
    assert_false(s & VKBD_STR_IBF);
    assert_true(s & VKBD_STR_SYS);
    assert_int_not_equal(s, 0xFF); /* a controller is present */
}

static void test_self_test_answers_0x55(void **state)
{
    (void)state;
    assert_int_equal(ask(VKBD_CMD_SELF_TEST), VKBD_SELF_TEST_OK);
    assert_false(status() & VKBD_STR_OBF); /* the read emptied the buffer */
}

static void test_interface_tests_pass(void **state)
{
    (void)state;
    assert_int_equal(ask(VKBD_CMD_KBD_TEST), 0x00);
    assert_int_equal(ask(VKBD_CMD_AUX_TEST), 0x00);
}

static void test_command_byte_read_and_write(void **state)
{
    (void)state;
    assert_int_equal(ask(VKBD_CMD_READ_CTR), VKBD_CTR_RESET);
    command(VKBD_CMD_WRITE_CTR);
    write_data(VKBD_CTR_KBDDIS | VKBD_CTR_AUXDIS);
    assert_int_equal(ask(VKBD_CMD_READ_CTR), VKBD_CTR_KBDDIS | VKBD_CTR_AUXDIS);
    assert_false(status() & VKBD_STR_SYS); /* the system flag follows the command byte */
}

static void test_port_enables_change_the_command_byte(void **state)
{
    (void)state;
    command(VKBD_CMD_KBD_DISABLE);
    command(VKBD_CMD_AUX_DISABLE);
    assert_int_equal(ask(VKBD_CMD_READ_CTR) & (VKBD_CTR_KBDDIS | VKBD_CTR_AUXDIS),
                     VKBD_CTR_KBDDIS | VKBD_CTR_AUXDIS);
    command(VKBD_CMD_KBD_ENABLE);
    assert_int_equal(ask(VKBD_CMD_READ_CTR) & (VKBD_CTR_KBDDIS | VKBD_CTR_AUXDIS), VKBD_CTR_AUXDIS);
    command(VKBD_CMD_AUX_ENABLE);
    assert_int_equal(ask(VKBD_CMD_READ_CTR) & (VKBD_CTR_KBDDIS | VKBD_CTR_AUXDIS), 0);
}

static void test_aux_loop_echoes_as_aux_data(void **state)
{
    (void)state;
    command(VKBD_CMD_AUX_LOOP);
    write_data(0x5A);
    uint8_t s = status();
    assert_true(s & VKBD_STR_OBF);
    assert_true(s & VKBD_STR_AUXDATA);
    assert_int_equal(data(), 0x5A);
    command(VKBD_CMD_KBD_LOOP);
    write_data(0xA5);
    assert_false(status() & VKBD_STR_AUXDATA);
    assert_int_equal(data(), 0xA5);
}

static void test_keyboard_bytes_get_no_answer(void **state)
{
    (void)state;
    write_data(0xF2); /* ATKBD_CMD_GETID */
    write_data(0xFF); /* reset */
    assert_false(status() & VKBD_STR_OBF);
    command(VKBD_CMD_AUX_SEND);
    write_data(0xF4);
    assert_false(status() & VKBD_STR_OBF);
    assert_int_equal(t.ends, 0);
}

static void test_command_flag_tracks_the_last_write(void **state)
{
    (void)state;
    command(VKBD_CMD_WRITE_CTR);
    assert_true(status() & VKBD_STR_CMD);
    write_data(VKBD_CTR_RESET);
    assert_false(status() & VKBD_STR_CMD);
}

static void test_pulse_fe_resets(void **state)
{
    (void)state;
    command(VKBD_CMD_RESET);
    assert_int_equal(t.ends, 1);
    assert_string_equal(t.verdict, "reset");
}

static void test_pulses_without_bit0_do_not_reset(void **state)
{
    (void)state;
    command(0xFF); /* pulse nothing */
    command(0xFD); /* pulse bit 1 only */
    assert_int_equal(t.ends, 0);
    command(0xF0); /* every bit, the reset line among them */
    assert_int_equal(t.ends, 1);
}

static void test_output_port_write_with_bit0_clear_resets(void **state)
{
    (void)state;
    assert_int_equal(ask(VKBD_CMD_READ_OUTPORT), VKBD_OUTPORT_RESET | VKBD_OUTPORT_A20);
    command(VKBD_CMD_WRITE_OUTPORT);
    write_data(VKBD_OUTPORT_RESET); /* A20 off, reset line high */
    assert_int_equal(t.ends, 0);
    assert_int_equal(ask(VKBD_CMD_READ_OUTPORT), VKBD_OUTPORT_RESET);
    command(VKBD_CMD_WRITE_OUTPORT);
    write_data(VKBD_OUTPORT_A20);
    assert_int_equal(t.ends, 1);
}

/* Linux's native_machine_emergency_restart (BOOT_KBD): kb_wait for IBF clear, then 0xFE. */
static void test_linux_reboot_sequence(void **state)
{
    (void)state;
    unsigned polls = 0;
    while ((status() & VKBD_STR_IBF) && polls < 0x10000)
        polls++;
    assert_int_equal(polls, 0);
    command(VKBD_CMD_RESET);
    assert_string_equal(t.verdict, "reset");
}

static void test_unknown_command_is_ignored(void **state)
{
    (void)state;
    command(0xC0);
    command(0x00);
    assert_false(status() & VKBD_STR_OBF);
    assert_int_equal(ask(VKBD_CMD_SELF_TEST), VKBD_SELF_TEST_OK);
}

static void test_attach_claims_0x60_and_0x64_only(void **state)
{
    (void)state;
    assert_int_equal(vdev_bus_in(&t.bus, 0x61, 1), 0xFF); /* not the controller's */
    struct vkbd other;
    vkbd_init(&other, &t.host);
    assert_int_equal(vkbd_attach(&other, &t.bus), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_status_after_reset, setup),
        cmocka_unit_test_setup(test_self_test_answers_0x55, setup),
        cmocka_unit_test_setup(test_interface_tests_pass, setup),
        cmocka_unit_test_setup(test_command_byte_read_and_write, setup),
        cmocka_unit_test_setup(test_port_enables_change_the_command_byte, setup),
        cmocka_unit_test_setup(test_aux_loop_echoes_as_aux_data, setup),
        cmocka_unit_test_setup(test_keyboard_bytes_get_no_answer, setup),
        cmocka_unit_test_setup(test_command_flag_tracks_the_last_write, setup),
        cmocka_unit_test_setup(test_pulse_fe_resets, setup),
        cmocka_unit_test_setup(test_pulses_without_bit0_do_not_reset, setup),
        cmocka_unit_test_setup(test_output_port_write_with_bit0_clear_resets, setup),
        cmocka_unit_test_setup(test_linux_reboot_sequence, setup),
        cmocka_unit_test_setup(test_unknown_command_is_ignored, setup),
        cmocka_unit_test_setup(test_attach_claims_0x60_and_0x64_only, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
