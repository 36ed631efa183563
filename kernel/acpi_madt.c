/* The machine's processors from its ACPI MADT (see acpi_madt.h; ACPI Specification 6.3 §5.2). */
#include "kernel/acpi_madt.h"
#include <stdarg.h>
#include "kernel/lib/acpi_tables.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

#define RSDT_ENTRY_SIZE  sizeof(uint32_t) /* §5.2.7: 32-bit physical addresses */
#define XSDT_ENTRY_SIZE  sizeof(uint64_t) /* §5.2.8: 64-bit physical addresses */
#define SIG_TEXT_LEN     (ACPI_SIG_LEN + 1)
#define PRINTABLE_FIRST  0x20
#define PRINTABLE_LAST   0x7E
#define UNPRINTABLE_MARK '?'

struct reader {
    acpi_map_fn map;
    void *ctx;
    char *err;
    size_t errlen;
};

/* The table the RSDP points at: the XSDT or the RSDT. */
struct root {
    uint64_t pa;
    size_t entry_size;
    const char *sig;
};

/* Walking the MADT's Interrupt Controller Structures (§5.2.12, Table 5-45). */
struct madt_walk {
    const struct reader *r;
    struct madt_cpus *out;
    uint32_t usable_flags; /* Local APIC Flags that make a processor usable */
    size_t off;            /* of the entry being read, for messages */
};

typedef int (*entry_parser)(struct madt_walk *w, const uint8_t *entry);

struct entry_rule {
    uint8_t type;
    uint8_t min_len; /* later revisions may append fields: longer entries are fine */
    entry_parser parse;
};

static int fail(const struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const struct reader *r, const char *fmt, ...)
{
    if (r->err && r->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        fmt_vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A signature for a message: firmware bytes, so anything unprintable shows as '?'. */
static void sig_text(const char sig[ACPI_SIG_LEN], char out[SIG_TEXT_LEN])
{
    for (unsigned i = 0; i < ACPI_SIG_LEN; i++) {
        char c = sig[i];
        if (c < PRINTABLE_FIRST || c > PRINTABLE_LAST)
            c = UNPRINTABLE_MARK;
        out[i] = c;
    }
    out[ACPI_SIG_LEN] = '\0';
}

/* The callback, with a range that does not wrap around the address space. */
static const uint8_t *map_range(const struct reader *r, uint64_t pa, size_t len)
{
    if (len > UINT64_MAX - pa)
        return NULL;
    return r->map(pa, len, r->ctx);
}

/* ---- RSDP (§5.2.5.3) ---- */

/* Revision 2 and later: Length and the extended checksum cover the whole structure. */
static int check_rsdp_v2(const struct reader *r, const void *rsdp, size_t rsdp_len,
                         const struct acpi_rsdp *p)
{
    if (p->length < sizeof(*p) || p->length > rsdp_len)
        return fail(r, "RSDP length %u outside %zu..%zu (the bytes in the copy)", p->length,
                    sizeof(*p), rsdp_len);
    if (acpi_checksum(rsdp, p->length) != 0)
        return fail(r, "RSDP extended checksum mismatch");
    return 0;
}

static int find_root(const struct reader *r, const void *rsdp, size_t rsdp_len, struct root *root)
{
    struct acpi_rsdp p;
    if (rsdp == NULL || rsdp_len < ACPI_RSDP_V1_LEN)
        return fail(r, "RSDP of %zu bytes, shorter than the %u of ACPI 1.0", rsdp ? rsdp_len : 0,
                    ACPI_RSDP_V1_LEN);
    memset(&p, 0, sizeof(p));
    memcpy(&p, rsdp, rsdp_len < sizeof(p) ? rsdp_len : sizeof(p));
    if (memcmp(p.signature, ACPI_RSDP_SIGNATURE, sizeof(p.signature)) != 0)
        return fail(r, "RSDP signature is not '" ACPI_RSDP_SIGNATURE "'");
    if (acpi_checksum(rsdp, ACPI_RSDP_V1_LEN) != 0)
        return fail(r, "RSDP checksum mismatch");
    /* A revision-2 RSDP cut to 20 bytes (mb2 tag 14, the ACPI 1.0 copy) still has a valid
       RSDT address: use that. */
    if (p.revision >= ACPI_RSDP_REVISION_XSDT && rsdp_len >= sizeof(p)) {
        if (check_rsdp_v2(r, rsdp, rsdp_len, &p) != 0)
            return -1;
        /* §5.2.5.3: an OS uses the XSDT when there is one; falls back to the RSDT if not. */
        if (p.xsdt_address != 0) {
            *root = (struct root){p.xsdt_address, XSDT_ENTRY_SIZE, ACPI_SIG_XSDT};
            return 0;
        }
    }
    if (p.rsdt_address == 0)
        return fail(r, "RSDP names neither an XSDT nor an RSDT");
    *root = (struct root){p.rsdt_address, RSDT_ENTRY_SIZE, ACPI_SIG_RSDT};
    return 0;
}

/* ---- system description tables (§5.2.6) ---- */

static int map_header(const struct reader *r, uint64_t pa, const char *what, struct acpi_header *h)
{
    const uint8_t *p = map_range(r, pa, sizeof(*h));
    if (p == NULL) {
        fail(r, "%s at 0x%llx is not readable memory", what, (unsigned long long)pa);
        return -1; /* (fail returns -1 too; said here for the static analyzer) */
    }
    memcpy(h, p, sizeof(*h));
    return 0;
}

/* Maps the whole table at pa after checking its signature, length and checksum; *len is the
   length the checks used (the only bound the caller may read to). */
static const uint8_t *map_table(const struct reader *r, uint64_t pa, const char *sig,
                                const char *name, uint32_t *len)
{
    struct acpi_header h;
    if (map_header(r, pa, name, &h) != 0)
        return NULL;
    if (memcmp(h.signature, sig, ACPI_SIG_LEN) != 0) {
        char got[SIG_TEXT_LEN];
        sig_text(h.signature, got);
        fail(r, "%s at 0x%llx has signature '%s', not '%s'", name, (unsigned long long)pa, got,
             sig);
        return NULL;
    }
    if (h.length < sizeof(h)) {
        fail(r, "%s length %u shorter than its %zu-byte header", name, h.length, sizeof(h));
        return NULL;
    }
    const uint8_t *t = map_range(r, pa, h.length);
    if (t == NULL) {
        fail(r, "%s at 0x%llx: its %u bytes are not readable memory", name, (unsigned long long)pa,
             h.length);
        return NULL;
    }
    if (acpi_checksum(t, h.length) != 0) {
        fail(r, "%s checksum mismatch", name);
        return NULL;
    }
    *len = h.length;
    return t;
}

static uint64_t root_entry(const uint8_t *at, size_t entry_size)
{
    if (entry_size == RSDT_ENTRY_SIZE) {
        uint32_t narrow;
        memcpy(&narrow, at, sizeof(narrow));
        return narrow;
    }
    uint64_t wide;
    memcpy(&wide, at, sizeof(wide));
    return wide;
}

/* The first "APIC" table the root lists (§5.2.7, §5.2.8: Entry is an array of addresses). */
static int find_madt(const struct reader *r, const struct root *root, uint64_t *madt_pa)
{
    uint32_t len;
    const uint8_t *t = map_table(r, root->pa, root->sig, root->sig, &len);
    if (t == NULL)
        return -1;
    /* Bytes short of a whole entry at the end are not an entry (ACPICA ignores them too). */
    size_t n = (len - sizeof(struct acpi_header)) / root->entry_size;
    for (size_t i = 0; i < n; i++) {
        uint64_t pa =
            root_entry(t + sizeof(struct acpi_header) + i * root->entry_size, root->entry_size);
        if (pa == 0)
            continue; /* an unused slot */
        struct acpi_header h;
        char what[sizeof("XSDT entry 18446744073709551615")];
        fmt_snprintf(what, sizeof(what), "%s entry %zu", root->sig, i);
        if (map_header(r, pa, what, &h) != 0)
            return -1;
        if (memcmp(h.signature, ACPI_SIG_MADT, ACPI_SIG_LEN) == 0) {
            *madt_pa = pa;
            return 0;
        }
    }
    return fail(r, "no MADT in the %s", root->sig);
}

/* ---- MADT (§5.2.12) ---- */

/* One Processor Local APIC or x2APIC entry (Table 5-47): usable, disabled or one too many. */
static int add_cpu(struct madt_walk *w, uint32_t apic_id, uint32_t flags)
{
    struct madt_cpus *out = w->out;
    if ((flags & w->usable_flags) == 0) {
        out->disabled++;
        return 0;
    }
    for (unsigned i = 0; i < out->count; i++) {
        if (out->apic_id[i] == apic_id)
            return fail(w->r, "APIC ID %u listed twice in the MADT (entry at offset %zu)", apic_id,
                        w->off);
    }
    if (out->count == MADT_MAX_CPUS) {
        out->beyond_limit++;
        return 0;
    }
    out->apic_id[out->count++] = apic_id;
    return 0;
}

static int entry_lapic(struct madt_walk *w, const uint8_t *entry)
{
    struct acpi_madt_lapic e;
    memcpy(&e, entry, sizeof(e));
    return add_cpu(w, e.apic_id, e.flags);
}

static int entry_x2apic(struct madt_walk *w, const uint8_t *entry)
{
    struct acpi_madt_x2apic e;
    memcpy(&e, entry, sizeof(e));
    return add_cpu(w, e.x2apic_id, e.flags);
}

/* §5.2.12.8: a 64-bit Local APIC address that OSPM uses instead of the MADT's 32-bit one. */
static int entry_lapic_override(struct madt_walk *w, const uint8_t *entry)
{
    struct acpi_madt_lapic_override e;
    memcpy(&e, entry, sizeof(e));
    w->out->lapic_base = e.lapic_address;
    return 0;
}

static const struct entry_rule entry_rules[] = {
    {ACPI_MADT_LAPIC, sizeof(struct acpi_madt_lapic), entry_lapic},
    {ACPI_MADT_LAPIC_OVERRIDE, sizeof(struct acpi_madt_lapic_override), entry_lapic_override},
    {ACPI_MADT_X2APIC, sizeof(struct acpi_madt_x2apic), entry_x2apic},
};
#define NRULES (sizeof(entry_rules) / sizeof(entry_rules[0]))

/* One entry that lies inside the table; types hv does not need are skipped. */
static int parse_entry(struct madt_walk *w, const uint8_t *entry,
                       const struct acpi_madt_entry_header *e)
{
    for (size_t i = 0; i < NRULES; i++) {
        if (entry_rules[i].type != e->type)
            continue;
        if (e->length < entry_rules[i].min_len)
            return fail(w->r, "MADT entry at offset %zu (type %u) of %u bytes, shorter than %u",
                        w->off, e->type, e->length, entry_rules[i].min_len);
        return entry_rules[i].parse(w, entry);
    }
    return 0;
}

static int walk_entries(struct madt_walk *w, const uint8_t *t, uint32_t len)
{
    for (w->off = sizeof(struct acpi_madt); w->off < len;) {
        struct acpi_madt_entry_header e;
        if (len - w->off < sizeof(e))
            return fail(w->r, "MADT entry at offset %zu runs past the end (%u bytes)", w->off, len);
        memcpy(&e, t + w->off, sizeof(e));
        /* Every structure holds at least its type and length; a shorter one (0 in particular)
           would not advance the walk. */
        if (e.length < sizeof(e))
            return fail(w->r, "MADT entry at offset %zu (type %u) has length %u", w->off, e.type,
                        e.length);
        if (e.length > len - w->off)
            return fail(w->r,
                        "MADT entry at offset %zu (type %u, %u bytes) runs past the end (%u "
                        "bytes)",
                        w->off, e.type, e.length, len);
        if (parse_entry(w, t + w->off, &e) != 0)
            return -1;
        w->off += e.length;
    }
    return 0;
}

static int parse_madt(const struct reader *r, uint64_t pa, struct madt_cpus *out)
{
    uint32_t len;
    const uint8_t *t = map_table(r, pa, ACPI_SIG_MADT, "MADT", &len);
    if (t == NULL)
        return -1;
    if (len < sizeof(struct acpi_madt))
        return fail(r, "MADT length %u shorter than its %zu-byte fixed part", len,
                    sizeof(struct acpi_madt));
    struct acpi_madt m;
    memcpy(&m, t, sizeof(m));
    out->lapic_base = m.lapic_address;
    out->has_8259 = (m.flags & ACPI_MADT_PCAT_COMPAT) != 0;
    /* Online Capable exists from MADT revision 5 (ACPI 6.3); before, bit 1 is reserved. */
    struct madt_walk w = {r, out, ACPI_MADT_ENABLED, 0};
    if (m.header.revision >= ACPI_MADT_REVISION_ONLINE_CAPABLE)
        w.usable_flags |= ACPI_MADT_ONLINE_CAPABLE;
    if (walk_entries(&w, t, len) != 0)
        return -1;
    /* The processor running this code is one of them: a MADT without any is broken. */
    if (out->count == 0)
        return fail(r, "MADT lists no enabled processor");
    return 0;
}

int acpi_madt_find_cpus(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
                        struct madt_cpus *out, char *err, size_t errlen)
{
    const struct reader r = {map, ctx, err, errlen};
    struct root root = {0, RSDT_ENTRY_SIZE, ACPI_SIG_RSDT};
    uint64_t madt_pa = 0;

    if (err && errlen > 0)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (find_root(&r, rsdp, rsdp_len, &root) != 0 || find_madt(&r, &root, &madt_pa) != 0)
        return -1;
    if (parse_madt(&r, madt_pa, out) != 0) {
        memset(out, 0, sizeof(*out)); /* nothing half-filled */
        return -1;
    }
    return 0;
}
