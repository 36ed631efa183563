/* Unit tests for kernel/acpi_madt.c: the host's processors from its ACPI tables, built here in
   a fake physical memory (RSDP v1 and v2, RSDT and XSDT, MADT entries of every kind the parser
   reads, every malformation it must reject), and the tables hv's own guest builder
   (vmx/loader/acpi.c) writes, which the parser must read back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/acpi_madt.h"
#include "kernel/lib/acpi_tables.h"
#include "mm/guest_mem.h"
#include "vmx/loader/acpi.h"
#include "vmx/loader/bzimage.h"
#include "tests/unit/fake.h"

#define ERR_MAX    192
#define PHYS_BASE  0x7FF00000ull /* where the fake tables live */
#define PHYS_SIZE  0x4000u
#define RSDT_PA    (PHYS_BASE + 0x000)
#define XSDT_PA    (PHYS_BASE + 0x100)
#define FACP_PA    (PHYS_BASE + 0x200)
#define MADT_PA    (PHYS_BASE + 0x400)
#define UNMAPPED   0x1000ull /* outside the fake memory */
#define LAPIC_BASE 0xFEE00000u
#define HDR        sizeof(struct acpi_header)
#define MADT_FIXED sizeof(struct acpi_madt)
#define GUEST_RAM  (1u << 20)

/* ---- fake physical memory ---- */

struct phys {
    uint8_t mem[PHYS_SIZE];
    uint64_t refuse_pa; /* map() returns NULL for a range starting here (0 = none) */
    unsigned maps;
};

static const void *phys_map(uint64_t pa, size_t len, void *ctx)
{
    struct phys *p = ctx;
    p->maps++;
    if (p->refuse_pa && pa == p->refuse_pa)
        return NULL;
    if (pa < PHYS_BASE || pa - PHYS_BASE > PHYS_SIZE || len > PHYS_SIZE - (pa - PHYS_BASE))
        return NULL;
    return p->mem + (pa - PHYS_BASE);
}

static uint8_t *at(struct phys *p, uint64_t pa)
{
    return p->mem + (pa - PHYS_BASE);
}

static void fix_checksum(uint8_t *table, uint32_t len)
{
    struct acpi_header h;
    memcpy(&h, table, sizeof(h));
    h.checksum = 0;
    memcpy(table, &h, sizeof(h));
    h.checksum = (uint8_t)(0x100 - acpi_checksum(table, len));
    memcpy(table, &h, sizeof(h));
}

/* Writes a table: header (signature, length, revision) + body, with a correct checksum. */
static void put_table(struct phys *p, uint64_t pa, const char *sig, uint8_t revision,
                      const void *body, size_t body_len)
{
    struct acpi_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.signature, sig, 4);
    h.length = (uint32_t)(HDR + body_len);
    h.revision = revision;
    memcpy(h.oem_id, "TEST  ", 6);
    memcpy(at(p, pa), &h, sizeof(h));
    memcpy(at(p, pa) + HDR, body, body_len);
    fix_checksum(at(p, pa), h.length);
}

static void put_rsdt(struct phys *p, const uint32_t *entries, size_t n)
{
    put_table(p, RSDT_PA, "RSDT", 1, entries, n * sizeof(*entries));
}

static void put_xsdt(struct phys *p, const uint64_t *entries, size_t n)
{
    put_table(p, XSDT_PA, "XSDT", 1, entries, n * sizeof(*entries));
}

/* ---- MADT assembly ---- */

struct madt {
    uint8_t b[1024]; /* after the header: Local Interrupt Controller Address, Flags, entries */
    size_t len;
    uint8_t revision;
};

static void madt_init(struct madt *m, uint32_t flags)
{
    memset(m, 0, sizeof(*m));
    uint32_t fixed[2] = {LAPIC_BASE, flags};
    memcpy(m->b, fixed, sizeof(fixed));
    m->len = sizeof(fixed);
    m->revision = 5;
}

static void madt_raw(struct madt *m, const void *e, size_t n)
{
    assert_true(m->len + n <= sizeof(m->b));
    memcpy(m->b + m->len, e, n);
    m->len += n;
}

static void madt_lapic(struct madt *m, uint8_t apic_id, uint32_t flags)
{
    const struct acpi_madt_lapic e = {ACPI_MADT_LAPIC, sizeof(e), apic_id, apic_id, flags};
    madt_raw(m, &e, sizeof(e));
}

static void madt_x2apic(struct madt *m, uint32_t x2apic_id, uint32_t flags)
{
    const struct acpi_madt_x2apic e = {ACPI_MADT_X2APIC, sizeof(e), 0, x2apic_id, flags, 0};
    madt_raw(m, &e, sizeof(e));
}

static void madt_ioapic(struct madt *m)
{
    const struct acpi_madt_ioapic e = {ACPI_MADT_IOAPIC, sizeof(e), 8, 0, 0xFEC00000u, 0};
    madt_raw(m, &e, sizeof(e));
}

static void madt_put(struct phys *p, const struct madt *m)
{
    put_table(p, MADT_PA, "APIC", m->revision, m->b, m->len);
}

/* A machine with `n` enabled processors, APIC IDs 0..n-1, found through the XSDT; another table
   (a FADT stand-in) listed before the MADT. */
static struct phys *machine(unsigned n)
{
    struct phys *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    put_table(p, FACP_PA, "FACP", 6, "\0\0\0\0", 4);
    struct madt m;
    madt_init(&m, ACPI_MADT_PCAT_COMPAT);
    for (unsigned i = 0; i < n; i++)
        madt_lapic(&m, (uint8_t)i, ACPI_MADT_ENABLED);
    madt_ioapic(&m);
    madt_put(p, &m);
    const uint32_t rsdt[2] = {(uint32_t)FACP_PA, (uint32_t)MADT_PA};
    const uint64_t xsdt[2] = {FACP_PA, MADT_PA};
    put_rsdt(p, rsdt, 2);
    put_xsdt(p, xsdt, 2);
    return p;
}

/* ---- RSDPs ---- */

static struct acpi_rsdp rsdp_v1(uint32_t rsdt)
{
    struct acpi_rsdp r;
    memset(&r, 0, sizeof(r));
    memcpy(r.signature, "RSD PTR ", 8);
    memcpy(r.oem_id, "TEST  ", 6);
    r.revision = 0;
    r.rsdt_address = rsdt;
    r.checksum = (uint8_t)(0x100 - acpi_checksum(&r, ACPI_RSDP_V1_LEN));
    return r;
}

static struct acpi_rsdp rsdp_v2(uint32_t rsdt, uint64_t xsdt)
{
    struct acpi_rsdp r = rsdp_v1(rsdt);
    r.revision = 2;
    r.length = sizeof(r);
    r.xsdt_address = xsdt;
    r.checksum = 0;
    r.checksum = (uint8_t)(0x100 - acpi_checksum(&r, ACPI_RSDP_V1_LEN));
    r.extended_checksum = (uint8_t)(0x100 - acpi_checksum(&r, sizeof(r)));
    return r;
}

/* ---- running the parser ---- */

static struct madt_cpus find_ok(struct phys *p, const struct acpi_rsdp *r, size_t len)
{
    struct madt_cpus c;
    char err[ERR_MAX] = "untouched";
    if (acpi_madt_find_cpus(r, len, phys_map, p, &c, err, sizeof(err)) != 0)
        fail_msg("rejected: %s", err);
    assert_string_equal(err, "");
    return c;
}

static void find_err(struct phys *p, const struct acpi_rsdp *r, size_t len, const char *reason)
{
    struct madt_cpus c;
    char err[ERR_MAX] = "";
    memset(&c, 0xAA, sizeof(c));
    if (acpi_madt_find_cpus(r, len, phys_map, p, &c, err, sizeof(err)) != -1)
        fail_msg("accepted, wanted \"%s\"", reason);
    if (!strstr(err, reason))
        fail_msg("error \"%s\" lacks \"%s\"", err, reason);
    const struct madt_cpus zero = {0};
    assert_memory_equal(&c, &zero, sizeof(c)); /* nothing half-filled */
}

static void find_err_v2(struct phys *p, const char *reason)
{
    const struct acpi_rsdp r = rsdp_v2((uint32_t)RSDT_PA, XSDT_PA);
    find_err(p, &r, sizeof(r), reason);
    free(p);
}

static void assert_ids(const struct madt_cpus *c, unsigned n)
{
    assert_int_equal(c->count, n);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(c->apic_id[i], i);
}

/* ---- tests: the two paths ---- */

static void test_v1_rsdt_one_cpu(void **state)
{
    (void)state;
    struct phys *p = machine(1);
    const struct acpi_rsdp r = rsdp_v1((uint32_t)RSDT_PA);
    struct madt_cpus c = find_ok(p, &r, ACPI_RSDP_V1_LEN);
    assert_ids(&c, 1);
    assert_int_equal(c.disabled, 0);
    assert_int_equal(c.beyond_limit, 0);
    assert_int_equal(c.lapic_base, LAPIC_BASE);
    assert_true(c.has_8259);
    free(p);
}

/* A 2-CPU machine read through this RSDP copy finds APIC IDs 0 and 1. */
static void two_cpus_via(const struct acpi_rsdp *r, size_t len)
{
    struct phys *p = machine(2);
    struct madt_cpus c = find_ok(p, r, len);
    assert_ids(&c, 2);
    free(p);
}

static void test_v2_paths(void **state)
{
    (void)state;
    /* XSDT: the RSDT address leads nowhere, so only the XSDT can have given the answer. */
    struct acpi_rsdp r = rsdp_v2((uint32_t)UNMAPPED, XSDT_PA);
    two_cpus_via(&r, sizeof(r));
    /* XSDT address 0: the RSDT. */
    r = rsdp_v2((uint32_t)RSDT_PA, 0);
    two_cpus_via(&r, sizeof(r));
    /* A revision-2 RSDP cut to 20 bytes (an mb2 tag 14 copy): the RSDT; the XSDT is unreachable. */
    r = rsdp_v2((uint32_t)RSDT_PA, UNMAPPED);
    two_cpus_via(&r, ACPI_RSDP_V1_LEN);
}

static void test_eight_and_nine_cpus(void **state)
{
    (void)state;
    const struct acpi_rsdp r = rsdp_v2((uint32_t)RSDT_PA, XSDT_PA);
    struct phys *p = machine(8);
    struct madt_cpus c = find_ok(p, &r, sizeof(r));
    assert_ids(&c, 8);
    assert_int_equal(c.beyond_limit, 0);
    free(p);
    p = machine(9);
    c = find_ok(p, &r, sizeof(r));
    assert_ids(&c, MADT_MAX_CPUS);
    assert_int_equal(c.beyond_limit, 1);
    free(p);
}

/* ---- tests: entries ---- */

static struct phys *machine_with(const struct madt *m)
{
    struct phys *p = machine(1);
    madt_put(p, m);
    return p;
}

static struct madt_cpus find_v2(struct phys *p)
{
    const struct acpi_rsdp r = rsdp_v2((uint32_t)RSDT_PA, XSDT_PA);
    struct madt_cpus c = find_ok(p, &r, sizeof(r));
    free(p);
    return c;
}

static void test_disabled_entry(void **state)
{
    (void)state;
    struct madt m;
    madt_init(&m, 0);
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    madt_lapic(&m, 1, 0);
    madt_lapic(&m, 0, 0); /* a disabled entry may repeat an ID: not a duplicate */
    madt_lapic(&m, 2, ACPI_MADT_ENABLED);
    struct madt_cpus c = find_v2(machine_with(&m));
    assert_int_equal(c.count, 2);
    assert_int_equal(c.apic_id[0], 0);
    assert_int_equal(c.apic_id[1], 2);
    assert_int_equal(c.disabled, 2);
    assert_false(c.has_8259);
}

static void test_online_capable_from_revision_5(void **state)
{
    (void)state;
    struct madt m;
    madt_init(&m, 0);
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    madt_lapic(&m, 3, ACPI_MADT_ONLINE_CAPABLE);
    struct madt_cpus c = find_v2(machine_with(&m));
    assert_int_equal(c.count, 2);
    assert_int_equal(c.apic_id[1], 3);
    assert_int_equal(c.disabled, 0);
    /* Before revision 5 (ACPI 6.3) bit 1 is reserved: the processor is not enabled. */
    m.revision = 4;
    c = find_v2(machine_with(&m));
    assert_int_equal(c.count, 1);
    assert_int_equal(c.disabled, 1);
}

static void test_x2apic_entry(void **state)
{
    (void)state;
    struct madt m;
    madt_init(&m, 0);
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    madt_x2apic(&m, 0x100, ACPI_MADT_ENABLED);
    madt_x2apic(&m, 0x101, 0);
    struct madt_cpus c = find_v2(machine_with(&m));
    assert_int_equal(c.count, 2);
    assert_int_equal(c.apic_id[0], 0);
    assert_int_equal(c.apic_id[1], 0x100);
    assert_int_equal(c.disabled, 1);
}

static void test_lapic_address_override_and_unknown_entries(void **state)
{
    (void)state;
    struct madt m;
    madt_init(&m, ACPI_MADT_PCAT_COMPAT);
    const uint8_t unknown[3] = {0x7F, 3, 0xEE}; /* a type hv does not read: skipped */
    madt_raw(&m, unknown, sizeof(unknown));
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    const struct acpi_madt_lapic_override o = {ACPI_MADT_LAPIC_OVERRIDE, sizeof(o), 0,
                                               0x1234567000ull};
    madt_raw(&m, &o, sizeof(o));
    uint8_t longer[10] = {ACPI_MADT_LAPIC, 10, 1, 1, ACPI_MADT_ENABLED}; /* appended fields */
    madt_raw(&m, longer, sizeof(longer));
    struct madt_cpus c = find_v2(machine_with(&m));
    assert_ids(&c, 2);
    assert_int_equal(c.lapic_base, 0x1234567000ull);
    assert_true(c.has_8259);
}

/* ---- tests: rejections ---- */

static void test_bad_rsdp(void **state)
{
    (void)state;
    struct phys *p = machine(1);
    struct acpi_rsdp r = rsdp_v1((uint32_t)RSDT_PA);
    r.checksum++;
    find_err(p, &r, ACPI_RSDP_V1_LEN, "RSDP checksum mismatch");
    r = rsdp_v2((uint32_t)RSDT_PA, XSDT_PA);
    r.extended_checksum++;
    find_err(p, &r, sizeof(r), "RSDP extended checksum mismatch");
    r = rsdp_v1((uint32_t)RSDT_PA);
    r.signature[0] = 'X';
    find_err(p, &r, ACPI_RSDP_V1_LEN, "RSDP signature");
    find_err(p, &r, ACPI_RSDP_V1_LEN - 1, "shorter than the 20");
    find_err(p, NULL, 0, "shorter than the 20");
    r = rsdp_v1(0);
    find_err(p, &r, ACPI_RSDP_V1_LEN, "neither an XSDT nor an RSDT");
    r = rsdp_v2((uint32_t)RSDT_PA, XSDT_PA);
    r.length = 100; /* more than the copy holds */
    r.checksum = 0;
    r.checksum = (uint8_t)(0x100 - acpi_checksum(&r, ACPI_RSDP_V1_LEN));
    find_err(p, &r, sizeof(r), "RSDP length 100");
    free(p);
}

static void test_bad_madt_checksum(void **state)
{
    (void)state;
    struct phys *p = machine(2);
    at(p, MADT_PA)[HDR + 8]++;
    find_err_v2(p, "MADT checksum mismatch");
    p = machine(2);
    at(p, XSDT_PA)[HDR]++;
    find_err_v2(p, "XSDT checksum mismatch");
}

/* A new Length, the checksum fixed over it (len must stay inside the fake memory). */
static void set_length(struct phys *p, uint64_t pa, uint32_t len)
{
    memcpy(at(p, pa) + offsetof(struct acpi_header, length), &len, sizeof(len));
    fix_checksum(at(p, pa), len);
}

static void test_truncated_madt(void **state)
{
    (void)state;
    struct phys *p = machine(1);
    set_length(p, MADT_PA, MADT_FIXED - 1);
    find_err_v2(p, "MADT length 43 shorter than its 44-byte fixed part");
    p = machine(1);
    set_length(p, MADT_PA, HDR - 1);
    find_err_v2(p, "MADT length 35 shorter than its 36-byte header");
    p = machine(1);
    set_length(p, MADT_PA, MADT_FIXED + sizeof(struct acpi_madt_lapic) - 1);
    find_err_v2(p, "MADT entry at offset 44 (type 0, 8 bytes) runs past the end (51 bytes)");
    p = machine(1); /* one byte after the entries: not even a type and a length */
    set_length(p, MADT_PA,
               MADT_FIXED + sizeof(struct acpi_madt_lapic) + sizeof(struct acpi_madt_ioapic) + 1);
    find_err_v2(p, "MADT entry at offset 64 runs past the end");
    p = machine(1); /* longer than the memory the map callback covers (no checksum to fix) */
    const uint32_t huge = PHYS_SIZE;
    memcpy(at(p, MADT_PA) + offsetof(struct acpi_header, length), &huge, sizeof(huge));
    find_err_v2(p, "bytes are not readable memory");
}

static void test_entry_length_errors(void **state)
{
    (void)state;
    struct madt m;
    madt_init(&m, 0);
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    const uint8_t zero[2] = {ACPI_MADT_IOAPIC, 0};
    madt_raw(&m, zero, sizeof(zero));
    madt_lapic(&m, 1, ACPI_MADT_ENABLED);
    find_err_v2(machine_with(&m), "MADT entry at offset 52 (type 1) has length 0");

    madt_init(&m, 0);
    const uint8_t one[2] = {0x7F, 1};
    madt_raw(&m, one, sizeof(one));
    find_err_v2(machine_with(&m), "has length 1");

    madt_init(&m, 0);
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    const uint8_t short_x2[12] = {ACPI_MADT_X2APIC, 12};
    madt_raw(&m, short_x2, sizeof(short_x2));
    find_err_v2(machine_with(&m), "MADT entry at offset 52 (type 9) of 12 bytes, shorter than 16");

    madt_init(&m, 0);
    const uint8_t short_lapic[6] = {ACPI_MADT_LAPIC, 6, 0, 0, ACPI_MADT_ENABLED};
    madt_raw(&m, short_lapic, sizeof(short_lapic));
    find_err_v2(machine_with(&m), "(type 0) of 6 bytes, shorter than 8");

    madt_init(&m, 0);
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    const uint8_t past[4] = {ACPI_MADT_IOAPIC, 12, 0, 0}; /* claims 12, the table ends at 4 */
    madt_raw(&m, past, sizeof(past));
    find_err_v2(machine_with(&m), "(type 1, 12 bytes) runs past the end");
}

static void test_duplicate_ids(void **state)
{
    (void)state;
    struct madt m;
    madt_init(&m, 0);
    madt_lapic(&m, 0, ACPI_MADT_ENABLED);
    madt_lapic(&m, 1, ACPI_MADT_ENABLED);
    madt_lapic(&m, 1, ACPI_MADT_ENABLED);
    find_err_v2(machine_with(&m), "APIC ID 1 listed twice in the MADT (entry at offset 60)");
    madt_init(&m, 0);
    madt_lapic(&m, 5, ACPI_MADT_ENABLED);
    madt_x2apic(&m, 5, ACPI_MADT_ENABLED); /* the same processor in both forms */
    find_err_v2(machine_with(&m), "APIC ID 5 listed twice");
}

static void test_no_enabled_processor(void **state)
{
    (void)state;
    struct madt m;
    madt_init(&m, 0);
    madt_lapic(&m, 0, 0);
    madt_ioapic(&m);
    find_err_v2(machine_with(&m), "MADT lists no enabled processor");
}

static void test_missing_or_wrong_tables(void **state)
{
    (void)state;
    struct phys *p = machine(1);
    const uint64_t only_facp[2] = {FACP_PA, 0}; /* a 0 slot is skipped */
    put_xsdt(p, only_facp, 2);
    find_err_v2(p, "no MADT in the XSDT");

    p = machine(1);
    const uint32_t rsdt[1] = {(uint32_t)FACP_PA};
    put_rsdt(p, rsdt, 1);
    const struct acpi_rsdp r = rsdp_v1((uint32_t)RSDT_PA);
    find_err(p, &r, ACPI_RSDP_V1_LEN, "no MADT in the RSDT");
    free(p);

    p = machine(1);
    memcpy(at(p, XSDT_PA), "XS\001T", 4);
    fix_checksum(at(p, XSDT_PA), HDR + 16);
    find_err_v2(p, "XSDT at 0x7ff00100 has signature 'XS?T', not 'XSDT'");

    p = machine(1); /* the XSDT's trailing 4 bytes are short of an entry: ignored */
    const uint64_t xsdt[1] = {FACP_PA};
    uint8_t body[12];
    memcpy(body, xsdt, sizeof(xsdt));
    memcpy(body + 8, "\x00\x04\xf0\x7f", 4);
    put_table(p, XSDT_PA, "XSDT", 1, body, sizeof(body));
    find_err_v2(p, "no MADT in the XSDT");
}

static void test_map_returns_null(void **state)
{
    (void)state;
    struct phys *p = machine(2);
    p->refuse_pa = XSDT_PA;
    find_err_v2(p, "XSDT at 0x7ff00100 is not readable memory");
    p = machine(2);
    p->refuse_pa = FACP_PA;
    find_err_v2(p, "XSDT entry 0 at 0x7ff00200 is not readable memory");
    p = machine(2);
    p->refuse_pa = MADT_PA; /* the header read fails first */
    find_err_v2(p, "XSDT entry 1 at 0x7ff00400 is not readable memory");
    p = machine(2);
    const uint64_t wrap[1] = {UINT64_MAX - 8}; /* a range that would wrap: never mapped */
    put_xsdt(p, wrap, 1);
    find_err_v2(p, "XSDT entry 0 at 0xfffffffffffffff7 is not readable memory");
}

static void test_small_error_buffer(void **state)
{
    (void)state;
    struct phys *p = machine(1);
    at(p, MADT_PA)[HDR]++;
    const struct acpi_rsdp r = rsdp_v2((uint32_t)RSDT_PA, XSDT_PA);
    struct madt_cpus c;
    char err[5];
    assert_int_equal(acpi_madt_find_cpus(&r, sizeof(r), phys_map, p, &c, err, sizeof(err)), -1);
    assert_string_equal(err, "MADT");
    assert_int_equal(acpi_madt_find_cpus(&r, sizeof(r), phys_map, p, &c, NULL, 0), -1);
    free(p);
}

/* ---- the guest builder's tables, read back ---- */

struct guest_ram {
    struct guest_mem m;
    uint8_t *ram;
};

static const void *guest_map(uint64_t pa, size_t len, void *ctx)
{
    const struct guest_ram *g = ctx;
    return guest_mem_ptr(&g->m, pa, len);
}

static void test_reads_hv_guest_tables(void **state)
{
    (void)state;
    struct guest_ram g;
    fake_panic_jmp = NULL; /* acpi_build's panics (hv bugs) fail the test: the fake panic */
    g.ram = calloc(1, GUEST_RAM);
    assert_non_null(g.ram);
    memset(&g.m, 0, sizeof(g.m));
    g.m.size = GUEST_RAM;
    g.m.nchunks = 1;
    g.m.chunk[0] = (struct guest_mem_chunk){0, 0x40000000ull, g.ram, GUEST_RAM, 0};
    for (unsigned vcpus = 1; vcpus <= ACPI_MAX_VCPUS; vcpus++) {
        struct acpi_tables t;
        char err[ERR_MAX];
        assert_int_equal(
            acpi_build(&g.m, vcpus, LINUX_ACPI_BASE, LINUX_ACPI_END, &t, err, sizeof(err)), 0);
        const void *rsdp = guest_mem_ptr(&g.m, t.rsdp, sizeof(struct acpi_rsdp));
        assert_non_null(rsdp);
        struct madt_cpus c;
        if (acpi_madt_find_cpus(rsdp, sizeof(struct acpi_rsdp), guest_map, &g, &c, err,
                                sizeof(err)) != 0)
            fail_msg("%u vCPUs: the guest's own tables rejected: %s", vcpus, err);
        assert_ids(&c, vcpus);
        assert_int_equal(c.disabled, 0);
        assert_int_equal(c.lapic_base, ACPI_LAPIC_BASE);
        assert_true(c.has_8259);
        /* The ACPI 1.0 path (RSDT) agrees. */
        assert_int_equal(
            acpi_madt_find_cpus(rsdp, ACPI_RSDP_V1_LEN, guest_map, &g, &c, err, sizeof(err)), 0);
        assert_ids(&c, vcpus);
    }
    free(g.ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_rsdt_one_cpu),
        cmocka_unit_test(test_v2_paths),
        cmocka_unit_test(test_eight_and_nine_cpus),
        cmocka_unit_test(test_disabled_entry),
        cmocka_unit_test(test_online_capable_from_revision_5),
        cmocka_unit_test(test_x2apic_entry),
        cmocka_unit_test(test_lapic_address_override_and_unknown_entries),
        cmocka_unit_test(test_bad_rsdp),
        cmocka_unit_test(test_bad_madt_checksum),
        cmocka_unit_test(test_truncated_madt),
        cmocka_unit_test(test_entry_length_errors),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_no_enabled_processor),
        cmocka_unit_test(test_missing_or_wrong_tables),
        cmocka_unit_test(test_map_returns_null),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_reads_hv_guest_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
