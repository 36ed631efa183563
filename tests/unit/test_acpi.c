/* Unit tests for vmx/loader/acpi.c: the RSDP found by a scan written like Linux's (ACPICA
   acpi_find_root_pointer / acpi_tb_validate_rsdp), every table's checksum, the RSDT/XSDT
   entries, the FADT fields, the FACS, the DSDT's \_S5 AML and the MADT for 1, 4 and 8 vCPUs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/abi/hv_abi.h"
#include "mm/guest_mem.h"
#include "vmx/loader/acpi.h"
#include "vmx/loader/bzimage.h"
#include "tests/unit/fake.h"

#define MIB       (1ull << 20)
#define ERR_MAX   192
#define SPLIT_GPA 0xE0100ull /* a chunk boundary inside the tables */

struct test_ram {
    struct guest_mem m;
    uint8_t *lo, *hi;
};

/* 1 MiB of guest RAM in two chunks split at SPLIT_GPA, listed high chunk first. */
static struct test_ram *ram_new(void)
{
    struct test_ram *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->lo = calloc(1, SPLIT_GPA);
    r->hi = calloc(1, MIB - SPLIT_GPA);
    assert_non_null(r->lo);
    assert_non_null(r->hi);
    r->m.size = MIB;
    r->m.nchunks = 2;
    r->m.chunk[0] =
        (struct guest_mem_chunk){SPLIT_GPA, 0x40000000ull + SPLIT_GPA, r->hi, MIB - SPLIT_GPA, 0};
    r->m.chunk[1] = (struct guest_mem_chunk){0, 0x40000000ull, r->lo, SPLIT_GPA, 0};
    return r;
}

static void ram_free(struct test_ram *r)
{
    free(r->lo);
    free(r->hi);
    free(r);
}

static void ram_read(const struct test_ram *r, uint64_t gpa, void *dst, size_t n)
{
    assert_int_equal(guest_mem_read(&r->m, gpa, dst, n), 0);
}

static bool ram_zero(const struct test_ram *r, uint64_t lo, uint64_t hi)
{
    for (uint64_t gpa = lo; gpa < hi; gpa++) {
        uint8_t b;
        ram_read(r, gpa, &b, 1);
        if (b)
            return false;
    }
    return true;
}

static void build(struct test_ram *r, unsigned vcpus, struct acpi_tables *t)
{
    char err[ERR_MAX];
    assert_int_equal(acpi_build(&r->m, vcpus, LINUX_ACPI_BASE, LINUX_ACPI_END, t, err, sizeof(err)),
                     0);
    assert_string_equal(err, "");
}

/* The legacy search of ACPICA's acpi_find_root_pointer: the EBDA's first KiB when the word at
   0x40E points at one, then every 16-byte boundary of 0xE0000-0xFFFFF; a candidate is the
   "RSD PTR " signature with a good 20-byte checksum and, for revision >= 2, a good 36-byte
   extended checksum. Returns the RSDP's GPA, or 0. */
static uint64_t linux_rsdp_scan(const struct test_ram *r)
{
    uint16_t ebda_seg;
    ram_read(r, 0x40E, &ebda_seg, sizeof(ebda_seg));
    uint64_t ebda = (uint64_t)ebda_seg << 4;
    uint64_t ranges[2][2] = {{ebda, ebda + 1024}, {0xE0000, 0x100000}};
    for (unsigned k = ebda > 0x400 && ebda < 0xA0000 ? 0 : 1; k < 2; k++) {
        for (uint64_t gpa = ranges[k][0]; gpa + 36 <= ranges[k][1]; gpa += 16) {
            struct acpi_rsdp p;
            ram_read(r, gpa, &p, sizeof(p));
            if (memcmp(p.signature, "RSD PTR ", 8) != 0 || acpi_checksum(&p, 20) != 0)
                continue;
            if (p.revision >= 2 && acpi_checksum(&p, 36) != 0)
                continue;
            return gpa;
        }
    }
    return 0;
}

/* Reads the table at gpa (at most cap bytes) and checks its signature, length and checksum. */
static size_t read_table(const struct test_ram *r, uint64_t gpa, const char sig[4], void *buf,
                         size_t cap)
{
    struct acpi_header h;
    ram_read(r, gpa, &h, sizeof(h));
    if (memcmp(h.signature, sig, 4) != 0)
        fail_msg("table at 0x%llx is %.4s, want %.4s", (unsigned long long)gpa, h.signature, sig);
    assert_true(h.length >= sizeof(h) && h.length <= cap);
    ram_read(r, gpa, buf, h.length);
    assert_int_equal(acpi_checksum(buf, h.length), 0);
    assert_memory_equal(h.oem_id, "HV    ", 6);
    return h.length;
}

static void test_rsdp_found_by_linux_scan(void **state)
{
    (void)state;
    struct test_ram *r = ram_new();
    struct acpi_tables t;
    build(r, 1, &t);
    assert_int_equal(t.base, LINUX_ACPI_BASE);
    assert_int_equal(t.rsdp, LINUX_ACPI_BASE);
    assert_int_equal(linux_rsdp_scan(r), t.rsdp);
    struct acpi_rsdp p;
    ram_read(r, t.rsdp, &p, sizeof(p));
    assert_int_equal(p.revision, 2);
    assert_int_equal(p.length, 36);
    assert_int_equal(p.rsdt_address, t.rsdt);
    assert_int_equal(p.xsdt_address, t.xsdt);
    assert_int_equal(acpi_checksum(&p, 20), 0);
    assert_int_equal(acpi_checksum(&p, 36), 0);
    /* A broken checksum hides it from the scan (the test's scan really checks). */
    uint8_t bad = (uint8_t)(p.checksum + 1);
    assert_int_equal(guest_mem_write(&r->m, t.rsdp + 8, &bad, 1), 0);
    assert_int_equal(linux_rsdp_scan(r), 0);
    ram_free(r);
}

static void test_rsdt_and_xsdt(void **state)
{
    (void)state;
    struct test_ram *r = ram_new();
    struct acpi_tables t;
    build(r, 2, &t);
    uint8_t buf[256];
    assert_int_equal(read_table(r, t.rsdt, "RSDT", buf, sizeof(buf)), 36 + 2 * 4);
    uint32_t e32[2];
    memcpy(e32, buf + 36, sizeof(e32));
    assert_int_equal(e32[0], t.fadt);
    assert_int_equal(e32[1], t.madt);
    assert_int_equal(read_table(r, t.xsdt, "XSDT", buf, sizeof(buf)), 36 + 2 * 8);
    uint64_t e64[2];
    memcpy(e64, buf + 36, sizeof(e64));
    assert_int_equal(e64[0], t.fadt);
    assert_int_equal(e64[1], t.madt);
    /* The tables each start on a 16-byte boundary (the FACS on 64) and do not overlap. */
    uint64_t order[] = {t.rsdp, t.rsdt, t.xsdt, t.facs, t.fadt, t.dsdt, t.madt, t.end};
    for (unsigned i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
        assert_true(order[i] < order[i + 1]);
        assert_int_equal(order[i] % 16, 0);
    }
    assert_int_equal(t.facs % 64, 0);
    assert_true(t.end - t.base <= ACPI_REGION_MIN);
    ram_free(r);
}

static void test_fadt(void **state)
{
    (void)state;
    struct test_ram *r = ram_new();
    struct acpi_tables t;
    build(r, 1, &t);
    struct acpi_fadt f;
    assert_int_equal(read_table(r, t.fadt, "FACP", &f, sizeof(f)), 276);
    assert_int_equal(f.header.revision, 6);
    assert_int_equal(f.firmware_ctrl, t.facs);
    assert_int_equal(f.x_firmware_ctrl, 0); /* only for a FACS above 4 GiB */
    assert_int_equal(f.dsdt, t.dsdt);
    assert_int_equal(f.x_dsdt, t.dsdt);
    assert_int_equal(f.sci_int, 9);
    assert_int_equal(f.smi_cmd, 0); /* no SMI port: always in ACPI mode */
    assert_int_equal(f.pm1a_evt_blk, 0x600);
    assert_int_equal(f.pm1_evt_len, 4);
    assert_int_equal(f.pm1a_cnt_blk, HV_ABI_ACPI_PM1A_CNT);
    assert_int_equal(f.pm1_cnt_len, 2);
    assert_int_equal(f.pm1b_evt_blk | f.pm1b_cnt_blk | f.pm2_cnt_blk, 0);
    assert_int_equal(f.pm_tmr_blk, 0); /* no PM timer */
    assert_int_equal(f.pm_tmr_len, 0);
    assert_int_equal(f.gpe0_blk | f.gpe1_blk | f.gpe0_blk_len | f.gpe1_blk_len, 0);
    assert_int_equal(f.century, 0x32);
    assert_int_equal(f.iapc_boot_arch, 0x7); /* legacy devices, 8042, VGA not present */
    assert_true(f.flags & ACPI_FADT_RESET_REG_SUP);
    assert_true(f.flags & ACPI_FADT_PWR_BUTTON);
    assert_false(f.flags & ACPI_FADT_HW_REDUCED);
    assert_int_equal(f.reset_reg.space_id, 1); /* system I/O */
    assert_int_equal(f.reset_reg.bit_width, 8);
    assert_int_equal(f.reset_reg.bit_offset, 0);
    assert_int_equal(f.reset_reg.access_size, 1);
    assert_int_equal(f.reset_reg.address, 0xCF9);
    assert_int_equal(f.reset_value, 0x06);
    /* The 64-bit blocks say the same as the 32-bit ones (ACPICA warns on a mismatch). */
    assert_int_equal(f.x_pm1a_evt_blk.space_id, 1);
    assert_int_equal(f.x_pm1a_evt_blk.address, 0x600);
    assert_int_equal(f.x_pm1a_evt_blk.bit_width, 32);
    assert_int_equal(f.x_pm1a_cnt_blk.space_id, 1);
    assert_int_equal(f.x_pm1a_cnt_blk.address, 0x604);
    assert_int_equal(f.x_pm1a_cnt_blk.bit_width, 16);
    assert_int_equal(f.x_pm_tmr_blk.address | f.x_pm1b_cnt_blk.address, 0);
    /* The FACS the FADT points at. */
    struct acpi_facs facs;
    ram_read(r, t.facs, &facs, sizeof(facs));
    assert_memory_equal(facs.signature, "FACS", 4);
    assert_int_equal(facs.length, 64);
    assert_int_equal(facs.version, 2);
    assert_int_equal(facs.firmware_waking_vector | facs.global_lock | facs.flags, 0);
    ram_free(r);
}

/* Decodes the DSDT's AML by the grammar (one top-level DefName of a DefPackage of ZeroOp/OneOp/
   BytePrefix integers) and returns what Linux writes to PM1a_CNT for S5: SLP_TYPa << 10 |
   SLP_EN (ACPI 6.0 §4.8.3.2.1, Table 4-16). */
static uint32_t s5_pm1a_cnt_value(const uint8_t *aml, size_t len)
{
    assert_true(len >= 8);
    assert_int_equal(aml[0], 0x08); /* NameOp */
    assert_memory_equal(aml + 1, "_S5_", 4);
    assert_int_equal(aml[5], 0x12);     /* PackageOp */
    assert_int_equal(aml[6] & 0xC0, 0); /* a one-byte PkgLength */
    assert_int_equal(aml[6], len - 6);  /* it counts itself and everything after it */
    unsigned n = aml[7];                /* NumElements */
    assert_true(n >= 2);
    const uint8_t *p = aml + 8;
    uint32_t slp_typ[2] = {0, 0};
    for (unsigned i = 0; i < n; i++) {
        uint32_t v;
        if (*p == 0x00 || *p == 0x01) { /* ZeroOp, OneOp */
            v = *p++;
        } else {
            assert_int_equal(*p, 0x0A); /* BytePrefix */
            v = p[1];
            p += 2;
        }
        if (i < 2)
            slp_typ[i] = v;
    }
    assert_ptr_equal(p, aml + len);
    assert_int_equal(slp_typ[0], slp_typ[1]);
    return (slp_typ[0] & 7) << 10 | 1u << 13;
}

static void test_dsdt_s5(void **state)
{
    (void)state;
    struct test_ram *r = ram_new();
    struct acpi_tables t;
    build(r, 1, &t);
    uint8_t buf[128];
    size_t len = read_table(r, t.dsdt, "DSDT", buf, sizeof(buf));
    assert_int_equal(len, 36 + 12);
    assert_int_equal(((struct acpi_header *)buf)->revision, 2);
    static const uint8_t want[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0};
    assert_memory_equal(buf + 36, want, sizeof(want));
    /* The value hv's power port turns into exit(0). */
    assert_int_equal(s5_pm1a_cnt_value(buf + 36, len - 36), HV_ABI_ACPI_SLEEP_S5);
    ram_free(r);
}

struct madt_counts {
    unsigned lapic, ioapic, iso, nmi;
};

static struct madt_counts check_madt(const struct test_ram *r, const struct acpi_tables *t,
                                     unsigned vcpus)
{
    uint8_t buf[512];
    size_t len = read_table(r, t->madt, "APIC", buf, sizeof(buf));
    struct acpi_madt madt;
    memcpy(&madt, buf, sizeof(madt));
    assert_int_equal(madt.header.revision, 3);
    assert_int_equal(madt.lapic_address, 0xFEE00000);
    assert_int_equal(madt.flags, 1); /* PCAT_COMPAT */
    struct madt_counts c = {0, 0, 0, 0};
    for (size_t off = sizeof(madt); off < len;) {
        uint8_t type = buf[off], elen = buf[off + 1];
        assert_true(elen >= 2 && off + elen <= len);
        if (type == 0) {
            struct acpi_madt_lapic e;
            assert_int_equal(elen, sizeof(e));
            memcpy(&e, buf + off, sizeof(e));
            assert_int_equal(e.processor_uid, c.lapic);
            assert_int_equal(e.apic_id, c.lapic);
            assert_int_equal(e.flags, 1); /* enabled */
            c.lapic++;
        } else if (type == 1) {
            struct acpi_madt_ioapic e;
            assert_int_equal(elen, sizeof(e));
            memcpy(&e, buf + off, sizeof(e));
            assert_int_equal(e.ioapic_id, ACPI_IOAPIC_ID);
            assert_true(e.ioapic_id >= vcpus); /* no clash with a local APIC ID */
            assert_int_equal(e.address, 0xFEC00000);
            assert_int_equal(e.gsi_base, 0);
            c.ioapic++;
        } else if (type == 2) {
            struct acpi_madt_iso e;
            assert_int_equal(elen, sizeof(e));
            memcpy(&e, buf + off, sizeof(e));
            assert_int_equal(e.bus, 0);
            if (e.source == 0) {
                assert_int_equal(e.gsi, 2);
                assert_int_equal(e.flags, 0x5); /* edge, active high */
            } else {
                assert_int_equal(e.source, 9);
                assert_int_equal(e.gsi, 9);
                assert_int_equal(e.flags, 0xD); /* level, active high */
            }
            c.iso++;
        } else if (type == 4) {
            struct acpi_madt_lapic_nmi e;
            assert_int_equal(elen, sizeof(e));
            memcpy(&e, buf + off, sizeof(e));
            assert_int_equal(e.processor_uid, 0xFF);
            assert_int_equal(e.lint, 1);
            assert_int_equal(e.flags, 0x5);
            c.nmi++;
        } else {
            fail_msg("unexpected MADT entry type %u", type);
        }
        off += elen;
    }
    return c;
}

static void test_madt(void **state)
{
    (void)state;
    /* vcpus=N: N enabled local APICs with IDs 0..N-1 (the vCPU ids, CPUID leaf 1 EBX[31:24]) */
    const unsigned counts[] = {1, 2, 4, 8};
    for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct test_ram *r = ram_new();
        struct acpi_tables t;
        build(r, counts[i], &t);
        struct madt_counts c = check_madt(r, &t, counts[i]);
        assert_int_equal(c.lapic, counts[i]);
        assert_int_equal(c.ioapic, 1);
        assert_int_equal(c.iso, 2);
        assert_int_equal(c.nmi, 1);
        ram_free(r);
    }
}

static void test_region_zeroed_and_bounded(void **state)
{
    (void)state;
    struct test_ram *r = ram_new();
    memset(r->hi + (LINUX_ACPI_END - SPLIT_GPA) - 16, 0xCC, 32); /* straddles the limit */
    struct acpi_tables t;
    build(r, 4, &t);
    assert_true(ram_zero(r, 0, LINUX_ACPI_BASE)); /* nothing below: 0x40E stays 0, no EBDA */
    assert_true(ram_zero(r, t.end, LINUX_ACPI_END));
    uint8_t after[16];
    ram_read(r, LINUX_ACPI_END, after, sizeof(after));
    for (unsigned i = 0; i < sizeof(after); i++)
        assert_int_equal(after[i], 0xCC);
    /* Gaps between tables are zero: the bytes after the RSDP up to the RSDT. */
    assert_true(ram_zero(r, t.rsdp + 36, t.rsdt));
    ram_free(r);
}

static void expect_reject(unsigned vcpus, uint64_t base, uint64_t limit, uint64_t ram,
                          const char *reason)
{
    struct test_ram *r = ram_new();
    r->m.size = ram;
    struct acpi_tables t;
    char err[ERR_MAX];
    memset(&t, 0xEE, sizeof(t));
    assert_int_equal(acpi_build(&r->m, vcpus, base, limit, &t, err, sizeof(err)), -1);
    assert_string_equal(err, reason);
    assert_int_equal(t.rsdp, 0);
    r->m.size = MIB;
    assert_true(ram_zero(r, 0, MIB));
    ram_free(r);
}

static void test_rejections(void **state)
{
    (void)state;
    expect_reject(0, 0xE0000, 0xF0000, MIB, "acpi: 0 vCPUs out of range 1..8");
    expect_reject(9, 0xE0000, 0xF0000, MIB, "acpi: 9 vCPUs out of range 1..8");
    expect_reject(1, 0xE0008, 0xF0000, MIB,
                  "acpi: region [0xe0008,0xf0000) not a 16-byte aligned range of at least 0x400 "
                  "bytes in [0xE0000,0x100000)");
    expect_reject(1, 0xDFFF0, 0xF0000, MIB,
                  "acpi: region [0xdfff0,0xf0000) not a 16-byte aligned range of at least 0x400 "
                  "bytes in [0xE0000,0x100000)");
    expect_reject(1, 0xFFF00, 0x100100, MIB,
                  "acpi: region [0xfff00,0x100100) not a 16-byte aligned range of at least 0x400 "
                  "bytes in [0xE0000,0x100000)");
    expect_reject(1, 0xE0000, 0xE03F0, MIB,
                  "acpi: region [0xe0000,0xe03f0) not a 16-byte aligned range of at least 0x400 "
                  "bytes in [0xE0000,0x100000)");
    expect_reject(1, 0xE0000, 0xD0000, MIB,
                  "acpi: region [0xe0000,0xd0000) not a 16-byte aligned range of at least 0x400 "
                  "bytes in [0xE0000,0x100000)");
    expect_reject(1, 0xE0000, 0xF0000, 0xE8000, "acpi: region [0xe0000,0xf0000) outside guest RAM");
    /* The smallest region and the top of the scan area work. */
    struct test_ram *r = ram_new();
    struct acpi_tables t;
    char err[ERR_MAX];
    assert_int_equal(acpi_build(&r->m, 8, 0xFFC00, 0x100000, &t, err, sizeof(err)), 0);
    assert_int_equal(linux_rsdp_scan(r), 0xFFC00);
    assert_true(t.end <= 0x100000);
    ram_free(r);
}

int main(void)
{
    fake_panic_jmp = NULL; /* a panic fails the test (and links the fake panic, not hv's) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsdp_found_by_linux_scan),
        cmocka_unit_test(test_rsdt_and_xsdt),
        cmocka_unit_test(test_fadt),
        cmocka_unit_test(test_dsdt_s5),
        cmocka_unit_test(test_madt),
        cmocka_unit_test(test_region_zeroed_and_bounded),
        cmocka_unit_test(test_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
