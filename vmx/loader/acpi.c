/* ACPI tables for Linux guests (see acpi.h; ACPI Specification 6.0 chapter 5 and §20). */
#include "vmx/loader/acpi.h"
#include "vmx/loader/load_error.h"
#include <stdarg.h>
#include <stdbool.h>
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/panic.h"

#define OEM_ID           "HV    "   /* 6 bytes */
#define OEM_TABLE_ID     "HVPC    " /* 8 bytes */
#define CREATOR_ID       "HV  "     /* 4 bytes */
#define OEM_REVISION     1u
#define CREATOR_REVISION 1u
#define TABLE_BUF        320u /* the largest table: the FADT (276), the MADT for 8 vCPUs (146) */
#define TABLE_ALIGN      16u
#define SDT_ENTRIES      2u /* FADT and MADT */
#define RSDP_REVISION    2u
#define SDT_REVISION     1u /* RSDT and XSDT (§5.2.7, §5.2.8) */
#define DSDT_REVISION    2u /* 2: AML integers are 64-bit (§19.6.28 DefinitionBlock) */
#define FACS_VERSION     2u
#define ISA_BUS          0u
#define PIT_IRQ          0u
#define PIT_GSI          2u /* the 8254 drives I/O APIC pin 2 on a PC (ISA IRQ 0 override) */
#define LINT1            1u

/* The DSDT body, AML encoded by hand (§20.2 AML Grammar):
     DefName     := NameOp NameString DataRefObject
     DefPackage  := PackageOp PkgLength NumElements PackageElementList
   Name (\_S5_, Package (4) {0, 0, 0, 0}): element 0 is SLP_TYPa, element 1 SLP_TYPb, the rest
   reserved (§7.4.2 \_Sx). SLP_TYP 0 makes Linux write SLP_EN (bit 13) alone = 0x2000. */
const uint8_t acpi_dsdt_aml[12] = {
    0x08,                   /* NameOp (§20.2.5.1) */
    0x5F, 0x53, 0x35, 0x5F, /* NameSeg "_S5_" (a NameString at the root scope of the DSDT) */
    0x12,                   /* PackageOp (§20.2.5.4 DefPackage) */
    0x06,                   /* PkgLength: one byte (bits 7:6 = 0), counts itself + 5 bytes */
    0x04,                   /* NumElements: 4 */
    0x00,                   /* ZeroOp: SLP_TYPa = 0 */
    0x00,                   /* ZeroOp: SLP_TYPb = 0 */
    0x00,                   /* ZeroOp: reserved */
    0x00,                   /* ZeroOp: reserved */
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* ---- table assembly: one table at a time in a local buffer, then into guest RAM ---- */

struct table {
    uint8_t b[TABLE_BUF];
    size_t len;
};

static void *table_put(struct table *t, const void *src, size_t n)
{
    if (t->len + n > sizeof(t->b))
        panic("acpi: table buffer overflow (hv bug)");
    void *dst = t->b + t->len;
    memcpy(dst, src, n);
    t->len += n;
    return dst;
}

static void header_init(struct acpi_header *h, const char sig[4], uint8_t revision)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->signature, sig, sizeof(h->signature));
    h->revision = revision;
    memcpy(h->oem_id, OEM_ID, sizeof(h->oem_id));
    memcpy(h->oem_table_id, OEM_TABLE_ID, sizeof(h->oem_table_id));
    h->oem_revision = OEM_REVISION;
    memcpy(h->creator_id, CREATOR_ID, sizeof(h->creator_id));
    h->creator_revision = CREATOR_REVISION;
}

/* Sets the length and checksum of the table in t and writes it at gpa. */
static void table_finish(const struct guest_mem *m, struct table *t, uint64_t gpa)
{
    struct acpi_header h;
    memcpy(&h, t->b, sizeof(h));
    h.length = (uint32_t)t->len;
    h.checksum = 0;
    memcpy(t->b, &h, sizeof(h));
    h.checksum = (uint8_t)(0x100 - acpi_checksum(t->b, t->len));
    memcpy(t->b, &h, sizeof(h));
    if (guest_mem_write(m, gpa, t->b, t->len) != 0)
        panic("acpi: table at 0x%llx outside validated guest RAM", (unsigned long long)gpa);
}

static void write_sdt(const struct guest_mem *m, const char sig[4], uint64_t gpa,
                      const struct acpi_tables *at, bool wide)
{
    struct table t = {.len = 0};
    struct acpi_header h;
    header_init(&h, sig, SDT_REVISION);
    table_put(&t, &h, sizeof(h));
    const uint64_t entries[SDT_ENTRIES] = {at->fadt, at->madt};
    for (unsigned i = 0; i < SDT_ENTRIES; i++) {
        uint32_t narrow = (uint32_t)entries[i]; /* all tables are below 1 MiB */
        if (wide)
            table_put(&t, &entries[i], sizeof(entries[i]));
        else
            table_put(&t, &narrow, sizeof(narrow));
    }
    table_finish(m, &t, gpa);
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bytes, uint8_t access)
{
    return (struct acpi_gas){ACPI_GAS_SYSTEM_IO, (uint8_t)(bytes * 8), 0, access, port};
}

static void write_fadt(const struct guest_mem *m, const struct acpi_tables *at)
{
    struct table t = {.len = 0};
    struct acpi_fadt f;
    memset(&f, 0, sizeof(f));
    header_init(&f.header, "FACP", ACPI_FADT_REVISION);
    f.firmware_ctrl = (uint32_t)at->facs;
    f.dsdt = (uint32_t)at->dsdt;
    f.sci_int = ACPI_SCI_IRQ;
    f.pm1a_evt_blk = ACPI_PM1A_EVT_BLK;
    f.pm1a_cnt_blk = ACPI_PM1A_CNT_BLK;
    f.pm1_evt_len = ACPI_PM1_EVT_LEN;
    f.pm1_cnt_len = ACPI_PM1_CNT_LEN;
    /* No PM timer (PM_TMR_BLK 0, ACPI 5.0A made it optional): nothing to emulate; Linux then
       uses the TSC and the LAPIC timer. No C2/C3 (latencies above 100/1000 us = unsupported). */
    f.p_lvl2_lat = 101;
    f.p_lvl3_lat = 1001;
    f.century = ACPI_CENTURY_INDEX;
    f.iapc_boot_arch = ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_8042 | ACPI_IAPC_VGA_NOT_PRESENT;
    f.flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_PWR_BUTTON | ACPI_FADT_SLP_BUTTON |
              ACPI_FADT_RESET_REG_SUP;
    f.reset_reg = io_gas(ACPI_RESET_PORT, 1, ACPI_GAS_ACCESS_BYTE);
    f.reset_value = ACPI_RESET_VALUE;
    f.minor_version = ACPI_FADT_MINOR_REVISION;
    /* X_FIRMWARE_CTRL stays 0: it is for a FACS above 4 GiB (Table 5-34); with both set, Linux
       installs the same FACS twice. */
    f.x_dsdt = at->dsdt;
    f.x_pm1a_evt_blk = io_gas(ACPI_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN, ACPI_GAS_ACCESS_WORD);
    f.x_pm1a_cnt_blk = io_gas(ACPI_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN, ACPI_GAS_ACCESS_WORD);
    table_put(&t, &f, sizeof(f));
    table_finish(m, &t, at->fadt);
}

static void write_dsdt(const struct guest_mem *m, const struct acpi_tables *at)
{
    struct table t = {.len = 0};
    struct acpi_header h;
    header_init(&h, "DSDT", DSDT_REVISION);
    table_put(&t, &h, sizeof(h));
    table_put(&t, acpi_dsdt_aml, sizeof(acpi_dsdt_aml));
    table_finish(m, &t, at->dsdt);
}

static void write_facs(const struct guest_mem *m, const struct acpi_tables *at)
{
    struct acpi_facs f;
    memset(&f, 0, sizeof(f));
    memcpy(f.signature, "FACS", sizeof(f.signature));
    f.length = sizeof(f);
    f.version = FACS_VERSION;
    if (guest_mem_write(m, at->facs, &f, sizeof(f)) != 0)
        panic("acpi: FACS outside validated guest RAM");
}

static void madt_iso(struct table *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    const struct acpi_madt_iso e = {ACPI_MADT_ISO, sizeof(e), ISA_BUS, irq, gsi, flags};
    table_put(t, &e, sizeof(e));
}

static size_t madt_size(unsigned vcpus)
{
    return sizeof(struct acpi_madt) + vcpus * sizeof(struct acpi_madt_lapic) +
           sizeof(struct acpi_madt_ioapic) + 2 * sizeof(struct acpi_madt_iso) +
           sizeof(struct acpi_madt_lapic_nmi);
}

static void write_madt(const struct guest_mem *m, unsigned vcpus, const struct acpi_tables *at)
{
    struct table t = {.len = 0};
    struct acpi_madt madt;
    header_init(&madt.header, ACPI_SIG_MADT, ACPI_MADT_REVISION);
    madt.lapic_address = ACPI_LAPIC_BASE;
    madt.flags = ACPI_MADT_PCAT_COMPAT; /* dual 8259s present: Linux masks them */
    table_put(&t, &madt, sizeof(madt));
    for (unsigned i = 0; i < vcpus; i++) {
        const struct acpi_madt_lapic e = {ACPI_MADT_LAPIC, sizeof(e), (uint8_t)i, (uint8_t)i,
                                          ACPI_MADT_ENABLED};
        table_put(&t, &e, sizeof(e));
    }
    const struct acpi_madt_ioapic io = {ACPI_MADT_IOAPIC, sizeof(io),     ACPI_IOAPIC_ID, 0,
                                        ACPI_IOAPIC_BASE, ACPI_IOAPIC_GSI};
    table_put(&t, &io, sizeof(io));
    madt_iso(&t, PIT_IRQ, PIT_GSI, ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_EDGE);
    madt_iso(&t, ACPI_SCI_IRQ, ACPI_SCI_IRQ, ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_LEVEL);
    const struct acpi_madt_lapic_nmi nmi = {ACPI_MADT_LAPIC_NMI, sizeof(nmi), ACPI_ALL_PROCESSORS,
                                            ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_EDGE, LINT1};
    table_put(&t, &nmi, sizeof(nmi));
    table_finish(m, &t, at->madt);
}

static void write_rsdp(const struct guest_mem *m, const struct acpi_tables *at)
{
    struct acpi_rsdp r;
    memset(&r, 0, sizeof(r));
    memcpy(r.signature, ACPI_RSDP_SIGNATURE, sizeof(r.signature));
    memcpy(r.oem_id, OEM_ID, sizeof(r.oem_id));
    r.revision = RSDP_REVISION;
    r.rsdt_address = (uint32_t)at->rsdt;
    r.length = sizeof(r);
    r.xsdt_address = at->xsdt;
    r.checksum = (uint8_t)(0x100 - acpi_checksum(&r, ACPI_RSDP_V1_LEN));
    r.extended_checksum = (uint8_t)(0x100 - acpi_checksum(&r, sizeof(r)));
    if (guest_mem_write(m, at->rsdp, &r, sizeof(r)) != 0)
        panic("acpi: RSDP outside validated guest RAM");
}

/* Table addresses, in order, each 16-byte aligned (the FACS 64-byte aligned, §5.2.10). */
static void layout(uint64_t base, unsigned vcpus, struct acpi_tables *at)
{
    uint64_t at_gpa = base;
    at->base = base;
    at->rsdp = at_gpa;
    at_gpa = align_up(at_gpa + sizeof(struct acpi_rsdp), TABLE_ALIGN);
    at->rsdt = at_gpa;
    at_gpa =
        align_up(at_gpa + sizeof(struct acpi_header) + SDT_ENTRIES * sizeof(uint32_t), TABLE_ALIGN);
    at->xsdt = at_gpa;
    at_gpa = align_up(at_gpa + sizeof(struct acpi_header) + SDT_ENTRIES * sizeof(uint64_t),
                      ACPI_FACS_ALIGN);
    at->facs = at_gpa;
    at_gpa = align_up(at_gpa + sizeof(struct acpi_facs), TABLE_ALIGN);
    at->fadt = at_gpa;
    at_gpa = align_up(at_gpa + sizeof(struct acpi_fadt), TABLE_ALIGN);
    at->dsdt = at_gpa;
    at_gpa = align_up(at_gpa + sizeof(struct acpi_header) + sizeof(acpi_dsdt_aml), TABLE_ALIGN);
    at->madt = at_gpa;
    at->end = align_up(at_gpa + madt_size(vcpus), TABLE_ALIGN);
}

static int check_region(const struct guest_mem *m, unsigned vcpus, uint64_t base, uint64_t limit,
                        char *err, size_t errlen)
{
    if (vcpus < 1 || vcpus > ACPI_MAX_VCPUS)
        return load_fail(err, errlen, "acpi: %u vCPUs out of range 1..%u", vcpus, ACPI_MAX_VCPUS);
    if (base % ACPI_RSDP_ALIGN != 0 || base < ACPI_SCAN_BASE || limit > ACPI_SCAN_END ||
        limit < base || limit - base < ACPI_REGION_MIN)
        return load_fail(err, errlen,
                         "acpi: region [0x%llx,0x%llx) not a 16-byte aligned range of at least "
                         "0x%x bytes in [0xE0000,0x100000)",
                         (unsigned long long)base, (unsigned long long)limit, ACPI_REGION_MIN);
    if (limit > m->size)
        return load_fail(err, errlen, "acpi: region [0x%llx,0x%llx) outside guest RAM",
                         (unsigned long long)base, (unsigned long long)limit);
    return 0;
}

_Static_assert(sizeof(struct acpi_madt) + ACPI_MAX_VCPUS * sizeof(struct acpi_madt_lapic) +
                       sizeof(struct acpi_madt_ioapic) + 2 * sizeof(struct acpi_madt_iso) +
                       sizeof(struct acpi_madt_lapic_nmi) <=
                   TABLE_BUF,
               "the MADT for the most vCPUs fits the table buffer");

int acpi_build(const struct guest_mem *m, unsigned vcpus, uint64_t base, uint64_t limit,
               struct acpi_tables *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (check_region(m, vcpus, base, limit, err, errlen) != 0)
        return -1;
    struct acpi_tables at;
    layout(base, vcpus, &at);
    if (at.end > limit)
        panic("acpi: tables end at 0x%llx past ACPI_REGION_MIN (hv bug)",
              (unsigned long long)at.end);
    if (guest_mem_zero(m, base, limit - base) != 0)
        panic("acpi: region outside validated guest RAM");
    write_facs(m, &at);
    write_dsdt(m, &at);
    write_fadt(m, &at);
    write_madt(m, vcpus, &at);
    write_sdt(m, ACPI_SIG_RSDT, at.rsdt, &at, false);
    write_sdt(m, ACPI_SIG_XSDT, at.xsdt, &at, true);
    write_rsdp(m, &at);
    *out = at;
    return 0;
}
