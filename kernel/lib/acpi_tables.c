/* The ACPI checksum (see acpi_tables.h; ACPI 6.3 §5.2.5.3, §5.2.6). */
#include "kernel/lib/acpi_tables.h"

uint8_t acpi_checksum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum;
}
