/* DEV PLACEHOLDER: replaced by the parser branch. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/percpu.h"
#define MADT_MAX_CPUS MAX_CPUS
struct madt_cpus {
    unsigned count;
    uint32_t apic_id[MADT_MAX_CPUS];
    unsigned disabled;
    unsigned beyond_limit;
    uint64_t lapic_base;
    bool has_8259;
};
typedef const void *(*acpi_map_fn)(uint64_t pa, size_t len, void *ctx);
int acpi_madt_find_cpus(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
                        struct madt_cpus *out, char *err, size_t errlen);
