/* DEV PLACEHOLDER: replaced by the parser branch (no checks). */
#include "kernel/acpi_madt.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int acpi_madt_find_cpus(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
                        struct madt_cpus *out, char *err, size_t errlen)
{
    const uint8_t *r = rsdp;
    memset(out, 0, sizeof(*out));
    bool x = r[15] >= 2 && rsdp_len >= 36 && rd64(r + 24);
    uint64_t sdt = x ? rd64(r + 24) : rd32(r + 16);
    const uint8_t *h = map(sdt, 36, ctx);
    if (!h) {
        fmt_snprintf(err, errlen, "no RSDT");
        return -1;
    }
    uint32_t len = rd32(h + 4);
    h = map(sdt, len, ctx);
    unsigned es = x ? 8 : 4;
    for (uint32_t off = 36; off + es <= len; off += es) {
        uint64_t t = x ? rd64(h + off) : rd32(h + off);
        const uint8_t *m = map(t, 36, ctx);
        if (!m || memcmp(m, "APIC", 4) != 0)
            continue;
        uint32_t ml = rd32(m + 4);
        m = map(t, ml, ctx);
        out->lapic_base = rd32(m + 36);
        for (uint32_t e = 44; e + 2 <= ml && m[e + 1];) {
            if (m[e] == 0 && (rd32(m + e + 4) & 1) && out->count < MADT_MAX_CPUS)
                out->apic_id[out->count++] = m[e + 3];
            e += m[e + 1];
        }
        return 0;
    }
    fmt_snprintf(err, errlen, "no MADT");
    return -1;
}
