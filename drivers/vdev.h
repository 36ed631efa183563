/* The virtual platform every guest gets (docs/guest-abi.md): COM1 16550, isa-debug-exit at
   0xF4 and an ACPI-style power-off at 0x604. */
#pragma once
#include <stddef.h>

struct vm;

#define VDEV_DEBUG_EXIT_PORT 0xF4
#define VDEV_ACPI_PM1A_CNT   0x604
#define VDEV_ACPI_SLEEP_S5   0x2000 /* SLP_EN with SLP_TYP 0, as QEMU's q35 PM1a_CNT */

/* Registers the devices with the VM; returns 0 or -1. */
int vdev_register_defaults(struct vm *vm);
/* Appends guest console bytes; whole lines appear on hv's console as "[NAME] text". */
void vm_console_write(struct vm *vm, const char *buf, size_t len);
/* Prints a partial last line, if any (when the guest ends). */
void vm_console_flush(struct vm *vm);
