/*
 * ACPI tables for a Linux guest (ACPI Specification 6.0: §5.2.5 RSDP, §5.2.7 RSDT, §5.2.8 XSDT,
 * §5.2.9 FADT, §5.2.10 FACS, §5.2.11.1 DSDT, §5.2.12 MADT, §20 AML), written into guest RAM
 * inside the BIOS read-only area so that Linux finds the RSDP by its legacy scan (ACPICA
 * acpi_find_root_pointer: the first KiB of the EBDA if 0x40E points at one, then 16-byte
 * boundaries of 0xE0000-0xFFFFF); boot_params.acpi_rsdp_addr can name it directly as well.
 *
 * The platform the tables describe: one local APIC per vCPU (xAPIC at 0xFEE00000, APIC ID =
 * ACPI processor UID = vCPU index), one I/O APIC (ID ACPI_IOAPIC_ID at 0xFEC00000, GSIs 0-23),
 * dual 8259s (PCAT_COMPAT), ISA IRQ 0 on GSI 2, the SCI on IRQ 9 (level, active high), LINT1 =
 * NMI on every CPU; fixed-hardware ACPI with PM1a event block at 0x600 (4 bytes) and control
 * block at 0x604 (2 bytes: hv's power-off port), no PM timer, no GPE blocks, no SMI command
 * port (the hardware is always in ACPI mode), the reset register at I/O port 0xCF9 (value 6),
 * the RTC century at CMOS index 0x32, an i8042 and legacy devices, no VGA. The DSDT holds only
 * \_S5 = {0, 0, 0, 0}: SLP_TYP 0, so S5 writes SLP_EN | SLP_TYP 0 = 0x2000 to PM1a_CNT, the
 * value hv's power port accepts (docs/guest-abi.md §5).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "kernel/lib/acpi_tables.h"
#include "mm/guest_mem.h"

#define ACPI_SCAN_BASE     0xE0000ull /* ACPI 6.0 §5.2.5.1: the BIOS read-only area */
#define ACPI_SCAN_END      0x100000ull
#define ACPI_RSDP_ALIGN    16u
#define ACPI_LAPIC_BASE    0xFEE00000u
#define ACPI_IOAPIC_BASE   0xFEC00000u
#define ACPI_IOAPIC_ID     8u /* above every LAPIC ID (vCPUs 0..7): no clash on the APIC bus */
#define ACPI_IOAPIC_GSI    0u
#define ACPI_SCI_IRQ       9u
#define ACPI_PM1A_EVT_BLK  0x600u
#define ACPI_PM1_EVT_LEN   4u /* PM1 status (2 bytes) + PM1 enable (2 bytes) */
#define ACPI_PM1A_CNT_BLK  0x604u
#define ACPI_PM1_CNT_LEN   2u
#define ACPI_RESET_PORT    0xCF9u
#define ACPI_RESET_VALUE   0x06u
#define ACPI_CENTURY_INDEX 0x32u
#define ACPI_MAX_VCPUS     8u
#define ACPI_REGION_MIN    0x400u /* bytes acpi_build needs for ACPI_MAX_VCPUS */

/* Where acpi_build put the tables (all inside [base, end), RSDP at rsdp). */
struct acpi_tables {
    uint64_t base, end; /* end is rounded up to 16 bytes */
    uint64_t rsdp, rsdt, xsdt, facs, fadt, dsdt, madt;
};

/* The DSDT's AML body (after the header): Name (\_S5_, Package (4) {0, 0, 0, 0}). */
extern const uint8_t acpi_dsdt_aml[12];

/* Builds the tables for `vcpus` processors into guest RAM at [base, limit): base must be
   16-byte aligned inside the BIOS scan area and [base, limit) must lie in it and in guest RAM
   and hold ACPI_REGION_MIN bytes. Returns 0 and fills *out, or -1 with err set (nothing
   written then). The region's other bytes are zeroed. */
int acpi_build(const struct guest_mem *m, unsigned vcpus, uint64_t base, uint64_t limit,
               struct acpi_tables *out, char *err, size_t errlen);
