/* The small parts of a PC a kernel probes: the POST/delay port 0x80 (Linux's io_delay writes
   it), the reset control register at 0xCF9 (Intel ICH datasheet "Reset Control Register": bit 2
   RST_CPU with bit 1 SYS_RST; the ACPI FADT's reset register points here), and PCI
   configuration mechanism #1 at 0xCF8/0xCFC (PCI Local Bus 3.0 §3.2.2.3.2) with no devices:
   the address latch reads back, data reads all ones (no function answers). */
#pragma once
#include <stdint.h>
#include "drivers/vdev/vdev.h"

#define VDEV_POST_PORT       0x80
#define VDEV_RESET_CTL_PORT  0xCF9
#define VDEV_RESET_CTL_RST   0x04 /* RST_CPU: a 0 -> 1 transition resets */
#define VDEV_RESET_CTL_SYS   0x02 /* SYS_RST: full reset (kept, not modelled apart) */
#define VDEV_PCI_CONFIG_ADDR 0xCF8
#define VDEV_PCI_CONFIG_DATA 0xCFC
#define VDEV_PCI_DATA_PORTS  4

struct vdev_platform {
    const struct vdev_host *host;
    uint32_t pci_address; /* the CONFIG_ADDRESS latch */
    uint8_t reset_ctl;
};

void vdev_platform_init(struct vdev_platform *p, const struct vdev_host *host);
int vdev_platform_attach(struct vdev_platform *p, struct vdev_bus *bus);
