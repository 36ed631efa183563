/* The POST port, reset control and empty PCI configuration space (drivers/vdev/platform.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "drivers/vdev/platform.h"
#include "drivers/vdev/power.h"
#include "tests/unit/fake.h"

static struct vdev_bus bus;
static struct vdev_platform plat;
static struct vdev_host host;
static char ended[32];

static void end_vm(void *ctx, const char *verdict)
{
    (void)ctx;
    strncpy(ended, verdict, sizeof(ended) - 1);
}

static int setup(void **state)
{
    (void)state;
    fake_log_reset();
    memset(ended, 0, sizeof(ended));
    host = (struct vdev_host){.end_vm = end_vm, .name = "plat"};
    vdev_bus_init(&bus, &host);
    vdev_platform_init(&plat, &host);
    assert_int_equal(vdev_platform_attach(&plat, &bus), 0);
    return 0;
}

static void test_post_port_swallows_writes(void **state)
{
    (void)state;
    vdev_bus_out(&bus, VDEV_POST_PORT, 1, 0x55);
    assert_string_equal(ended, "");
    assert_int_equal(bus.unclaimed_seen, 0); /* claimed: not logged as unclaimed */
}

static void test_reset_on_rst_cpu_rising(void **state)
{
    (void)state;
    vdev_bus_out(&bus, VDEV_RESET_CTL_PORT, 1, VDEV_RESET_CTL_SYS); /* no RST_CPU: nothing */
    assert_string_equal(ended, "");
    assert_int_equal(vdev_bus_in(&bus, VDEV_RESET_CTL_PORT, 1), VDEV_RESET_CTL_SYS);
    vdev_bus_out(&bus, VDEV_RESET_CTL_PORT, 1, 0x06); /* the FADT's RESET_VALUE */
    assert_string_equal(ended, "reset");
}

static void test_pci_address_latch_and_no_devices(void **state)
{
    (void)state;
    vdev_bus_out(&bus, VDEV_PCI_CONFIG_ADDR, 4, 0x80000000u); /* bus 0 device 0 function 0 */
    assert_int_equal(vdev_bus_in(&bus, VDEV_PCI_CONFIG_ADDR, 4), 0x80000000u);
    assert_int_equal(vdev_bus_in(&bus, VDEV_PCI_CONFIG_DATA, 4), 0xFFFFFFFFu); /* vendor ID */
    assert_int_equal(vdev_bus_in(&bus, VDEV_PCI_CONFIG_DATA + 2, 2), 0xFFFF);
    /* a byte write to 0xCF8 is not CONFIG_ADDRESS */
    vdev_bus_out(&bus, VDEV_PCI_CONFIG_ADDR, 1, 0);
    assert_int_equal(vdev_bus_in(&bus, VDEV_PCI_CONFIG_ADDR, 4), 0x80000000u);
    /* a dword write to 0xCF8 with bit 2 set is not a reset */
    vdev_bus_out(&bus, VDEV_PCI_CONFIG_ADDR, 4, 0x80000004u);
    assert_string_equal(ended, "");
}

/* The PM1a event block (ACPI 6.4 §4.8.3.1): status reads 0, the enables read back. */
static void test_pm1a_events(void **state)
{
    (void)state;
    static struct vdev_power power;
    vdev_power_init(&power, &host);
    assert_int_equal(vdev_power_attach_pm1a_events(&power, &bus), 0);
    assert_int_equal(vdev_bus_in(&bus, VDEV_ACPI_PM1A_EVT, 2), 0);
    vdev_bus_out(&bus, VDEV_ACPI_PM1A_EVT + 2, 2, 0x0420); /* GBL_EN | RTC_EN */
    assert_int_equal(vdev_bus_in(&bus, VDEV_ACPI_PM1A_EVT + 2, 2), 0x0420);
    assert_int_equal(vdev_bus_in(&bus, VDEV_ACPI_PM1A_EVT, 4), 0x04200000u);
    vdev_bus_out(&bus, VDEV_ACPI_PM1A_EVT, 2, 0xFFFF); /* clearing status: nothing to clear */
    assert_int_equal(vdev_bus_in(&bus, VDEV_ACPI_PM1A_EVT, 2), 0);
    vdev_bus_out(&bus, VDEV_ACPI_PM1A_EVT + 3, 1, 0); /* the high byte alone */
    assert_int_equal(vdev_bus_in(&bus, VDEV_ACPI_PM1A_EVT + 2, 2), 0x0020);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_post_port_swallows_writes, setup),
        cmocka_unit_test_setup(test_reset_on_rst_cpu_rising, setup),
        cmocka_unit_test_setup(test_pci_address_latch_and_no_devices, setup),
        cmocka_unit_test_setup(test_pm1a_events, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
