/* Ending a guest from inside: QEMU's isa-debug-exit at 0xF4 (exit(VALUE)) and an ACPI-style
   power-off, SLP_EN with SLP_TYP 0 written to PM1a_CNT at 0x604 as on QEMU's q35 (exit(0)). */
#pragma once
#include <stdint.h>
#include "drivers/vdev/vdev.h"
#include "kernel/abi/hv_abi.h"

#define VDEV_DEBUG_EXIT_PORT    HV_ABI_DEBUG_EXIT_PORT
#define VDEV_ACPI_PM1A_CNT      HV_ABI_ACPI_PM1A_CNT
#define VDEV_ACPI_PM1A_LEN      2
#define VDEV_ACPI_SLEEP_S5      HV_ABI_ACPI_SLEEP_S5
#define VDEV_ACPI_PM1A_EVT      0x600
#define VDEV_ACPI_PM1A_EVT_LEN  4
#define VDEV_ACPI_PM1_EN_OFFSET 2 /* PM1_STS at +0, PM1_EN at +2 (2 bytes each) */

struct vdev_power {
    const struct vdev_host *host;
    uint16_t pm1_en; /* PM1_EN as the guest wrote it */
};

void vdev_power_init(struct vdev_power *p, const struct vdev_host *host);
int vdev_power_attach(struct vdev_power *p, struct vdev_bus *bus);
/* The virtual PC's PM1a event block at 0x600 (PM1_STS, PM1_EN; the FADT names it): no event
   ever happens, so status reads 0 and writes (enables, status clears) change nothing. */
int vdev_power_attach_pm1a_events(struct vdev_power *p, struct vdev_bus *bus);
