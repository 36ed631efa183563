/*
 * The machine's processors, read from its ACPI tables (ACPI Specification 6.3: §5.2.5 RSDP,
 * §5.2.7 RSDT, §5.2.8 XSDT, §5.2.12 MADT): RSDP (a copy from the multiboot2 information) ->
 * RSDT or XSDT -> the "APIC" table -> its Processor Local APIC and x2APIC entries.
 *
 * The tables are firmware input: every length is checked before anything behind it is read,
 * and physical memory is reached only through the caller's map callback, which says which
 * ranges hv may read. The parser keeps no state and writes only *out and err.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/percpu.h"

#define MADT_MAX_CPUS MAX_CPUS

struct madt_cpus {
    unsigned count;                  /* enabled (or online-capable) processors listed, up to
                                        MADT_MAX_CPUS */
    uint32_t apic_id[MADT_MAX_CPUS]; /* in MADT order */
    unsigned disabled;               /* entries with neither Enabled nor Online Capable */
    unsigned beyond_limit;           /* enabled processors that did not fit */
    uint64_t lapic_base; /* MADT Local Interrupt Controller Address, or the 64-bit override */
    bool has_8259;       /* MADT flags PCAT_COMPAT: dual 8259s to mask */
};

/* Returns a pointer to `len` bytes at physical address `pa`, or NULL if that range is not
   RAM/ROM hv can read. The parser reads only [ret, ret + len). */
typedef const void *(*acpi_map_fn)(uint64_t pa, size_t len, void *ctx);

/* Finds the processors. `rsdp` holds `rsdp_len` bytes of the RSDP (mb2 tags 14 and 15); its
   Revision picks the XSDT (revision >= 2, when the copy holds the whole 36-byte structure and
   the XSDT address is not 0) or the RSDT. Checks signatures, lengths and checksums of the RSDP,
   the root table and the MADT, every MADT entry's length, and that no APIC ID is listed twice.
   Returns 0 with *out filled, or -1 with `err` naming what is wrong ("MADT checksum mismatch",
   "no MADT in the XSDT", ...) and *out zeroed. */
int acpi_madt_find_cpus(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
                        struct madt_cpus *out, char *err, size_t errlen);
