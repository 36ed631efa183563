/* Unit tests for kernel/mb2.c: the Multiboot2 boot information parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/mb2.h"
#include "tests/unit/fake.h"

#define BUILDER_CAPACITY 8192
#define TAG_CMDLINE      1
#define TAG_LOADER       2
#define TAG_MODULE       3
#define TAG_MEMINFO      4
#define TAG_MMAP         6
#define TAG_ACPI_OLD     14
#define TAG_ACPI_NEW     15
#define TAG_END          0
#define MMAP_ENTRY_SIZE  24
#define GIB              (1ull << 30)

/* Builds a Multiboot2 blob: fixed part, tags padded to 8 bytes, end tag. */
struct builder {
    _Alignas(8) uint8_t buf[BUILDER_CAPACITY];
    size_t len;
};

static struct builder b; /* large; one per test is enough */

static void put32(size_t off, uint32_t v)
{
    assert_true(off + sizeof(v) <= BUILDER_CAPACITY);
    memcpy(b.buf + off, &v, sizeof(v));
}

static void put64(size_t off, uint64_t v)
{
    assert_true(off + sizeof(v) <= BUILDER_CAPACITY);
    memcpy(b.buf + off, &v, sizeof(v));
}

static void b_init(void)
{
    memset(&b, 0xcc, sizeof(b)); /* garbage padding catches reads of unwritten bytes */
    b.len = 8;
}

/* Appends a tag whose size field is `size_field` (normally 8 + payload_len) and pads to 8.
   Returns the tag's offset. */
static size_t b_raw(uint32_t type, uint32_t size_field, const void *payload, size_t payload_len)
{
    size_t off = b.len;
    assert_true(off + 8 + payload_len + 8 <= BUILDER_CAPACITY);
    put32(off, type);
    put32(off + 4, size_field);
    if (payload_len)
        memcpy(b.buf + off + 8, payload, payload_len);
    b.len = (off + 8 + payload_len + 7) & ~(size_t)7;
    return off;
}

static size_t b_tag(uint32_t type, const void *payload, size_t payload_len)
{
    return b_raw(type, (uint32_t)(8 + payload_len), payload, payload_len);
}

static size_t b_string(uint32_t type, const char *s)
{
    return b_tag(type, s, strlen(s) + 1);
}

static size_t b_module(uint32_t start, uint32_t end, const char *cmdline)
{
    uint8_t payload[256];
    size_t n = strlen(cmdline) + 1;
    assert_true(8 + n <= sizeof(payload));
    memcpy(payload, &start, 4);
    memcpy(payload + 4, &end, 4);
    memcpy(payload + 8, cmdline, n);
    return b_tag(TAG_MODULE, payload, 8 + n);
}

static size_t b_meminfo(uint32_t lower, uint32_t upper)
{
    uint32_t payload[2] = {lower, upper};
    return b_tag(TAG_MEMINFO, payload, sizeof(payload));
}

struct test_region {
    uint64_t base, length;
    uint32_t type;
};

/* An mmap tag with entries of entry_size bytes (the extra bytes of each entry are 0xee). */
static size_t b_mmap_sized(const struct test_region *r, size_t n, uint32_t entry_size)
{
    size_t off = b.len;
    size_t size = 16 + n * entry_size;
    assert_true(off + size + 16 <= BUILDER_CAPACITY);
    put32(off, TAG_MMAP);
    put32(off + 4, (uint32_t)size);
    put32(off + 8, entry_size);
    put32(off + 12, 0); /* entry_version */
    for (size_t i = 0; i < n; i++) {
        size_t e = off + 16 + i * entry_size;
        memset(b.buf + e, 0xee, entry_size);
        put64(e, r[i].base);
        put64(e + 8, r[i].length);
        put32(e + 16, r[i].type);
        put32(e + 20, 0);
    }
    b.len = (off + size + 7) & ~(size_t)7;
    return off;
}

static size_t b_mmap(const struct test_region *r, size_t n)
{
    return b_mmap_sized(r, n, MMAP_ENTRY_SIZE);
}

static size_t b_rsdp(uint32_t type, size_t len)
{
    uint8_t payload[64];
    assert_true(len <= sizeof(payload));
    for (size_t i = 0; i < len; i++)
        payload[i] = (uint8_t)(0x40 + i);
    return b_tag(type, payload, len);
}

/* Appends the end tag and fills in total_size. Returns total_size. */
static size_t b_finish(void)
{
    b_raw(TAG_END, 8, NULL, 0);
    put32(0, (uint32_t)b.len);
    put32(4, 0);
    return b.len;
}

/* Parses a heap copy holding exactly `avail` bytes of the blob, so ASan catches any read
   past what the parser was allowed to see. The copy is returned in *copy (caller frees). */
static struct mb2_info info;

static int parse_copy(size_t avail, uint8_t **copy)
{
    *copy = malloc(avail ? avail : 1); /* malloc is 16-byte aligned */
    assert_non_null(*copy);
    memcpy(*copy, b.buf, avail);
    return mb2_parse(*copy, avail, &info);
}

static int parse_exact(size_t avail)
{
    uint8_t *copy;
    int rc = parse_copy(avail, &copy);
    free(copy);
    return rc;
}

#define ASSERT_PARSE_FAILS(avail, substr)                                                          \
    do {                                                                                           \
        assert_int_equal(parse_exact(avail), -1);                                                  \
        if (!strstr(info.error, substr))                                                           \
            fail_msg("error \"%s\" lacks \"%s\"", info.error, substr);                             \
    } while (0)

static const struct test_region full_regions[] = {
    {0x0, 0x9fc00, 1},
    {0x9fc00, 0x400, 2},
    {0xf0000, 0x10000, 2},
    {0x100000, 0x7fee0000, 1},
    {0x7ffe0000, 0x20000, 3},
    {0xfec00000, 0x1000, 4},
    {0x100000000ull, 2 * GIB, 1},
    {0x200000000ull, 0x1000, 5},
    {0x300000000ull, 0x1000, 9},
};
#define FULL_REGION_COUNT (sizeof(full_regions) / sizeof(full_regions[0]))

/* A blob like GRUB's on a UEFI machine, plus an unknown tag. Returns total_size. */
static size_t build_full(void)
{
    b_init();
    b_string(TAG_CMDLINE, "loglevel=debug console=com1");
    b_string(TAG_LOADER, "GRUB 2.06");
    b_meminfo(639, 2096000);
    uint32_t unknown_payload[3] = {1, 2, 3};
    b_tag(21, unknown_payload, sizeof(unknown_payload)); /* load base address: ignored */
    b_mmap(full_regions, FULL_REGION_COUNT);
    b_module(0x200000, 0x201234, "linux");
    b_module(0x300000, 0x300000, "initrd name=\"x y\"");
    b_rsdp(TAG_ACPI_OLD, 20);
    b_rsdp(TAG_ACPI_NEW, 36);
    return b_finish();
}

static void test_full_blob(void **state)
{
    (void)state;
    size_t total = build_full();
    uint8_t *copy;
    assert_int_equal(parse_copy(total, &copy), 0);
    assert_string_equal(info.error, "");
    assert_int_equal(info.total_size, total);
    assert_string_equal(info.cmdline, "loglevel=debug console=com1");
    assert_ptr_equal(info.cmdline, copy + 16);
    assert_string_equal(info.loader_name, "GRUB 2.06");
    assert_true(info.has_basic_meminfo);
    assert_int_equal(info.mem_lower_kib, 639);
    assert_int_equal(info.mem_upper_kib, 2096000);

    assert_int_equal(info.mmap_count, FULL_REGION_COUNT);
    for (size_t i = 0; i < FULL_REGION_COUNT; i++) {
        assert_int_equal(info.mmap[i].base, full_regions[i].base);
        assert_int_equal(info.mmap[i].length, full_regions[i].length);
        assert_int_equal(info.mmap[i].type, full_regions[i].type);
    }
    assert_int_equal(info.mmap[6].base, 0x100000000ull);

    assert_int_equal(info.module_count, 2);
    assert_int_equal(info.modules[0].start, 0x200000);
    assert_int_equal(info.modules[0].end, 0x201234);
    assert_string_equal(info.modules[0].cmdline, "linux");
    assert_int_equal(info.modules[1].start, 0x300000);
    assert_int_equal(info.modules[1].end, 0x300000);
    assert_string_equal(info.modules[1].cmdline, "initrd name=\"x y\"");
    assert_true((const uint8_t *)info.modules[0].cmdline > copy);
    assert_true((const uint8_t *)info.modules[1].cmdline < copy + total);

    /* Both RSDP copies present: the v2 one wins. */
    assert_int_equal(info.rsdp_version, 2);
    assert_int_equal(info.rsdp_len, 36);
    const uint8_t *rsdp = info.rsdp;
    assert_true(rsdp > copy && rsdp + 36 <= copy + total);
    assert_int_equal(rsdp[0], 0x40);
    assert_int_equal(rsdp[35], 0x40 + 35);
    free(copy);
}

static void test_rsdp_v2_before_v1_still_wins(void **state)
{
    (void)state;
    b_init();
    b_rsdp(TAG_ACPI_NEW, 36);
    b_rsdp(TAG_ACPI_OLD, 20);
    assert_int_equal(parse_exact(b_finish()), 0);
    assert_int_equal(info.rsdp_version, 2);
    assert_int_equal(info.rsdp_len, 36);
}

static void test_rsdp_v1_only(void **state)
{
    (void)state;
    b_init();
    size_t off = b_rsdp(TAG_ACPI_OLD, 20);
    uint8_t *copy;
    assert_int_equal(parse_copy(b_finish(), &copy), 0);
    assert_int_equal(info.rsdp_version, 1);
    assert_int_equal(info.rsdp_len, 20);
    assert_ptr_equal(info.rsdp, copy + off + 8);
    free(copy);
}

static void test_minimal_blob_defaults(void **state)
{
    (void)state;
    b_init();
    assert_int_equal(parse_exact(b_finish()), 0);
    assert_int_equal(info.total_size, 16);
    assert_string_equal(info.cmdline, "");
    assert_string_equal(info.loader_name, "");
    assert_int_equal(info.mmap_count, 0);
    assert_int_equal(info.module_count, 0);
    assert_null(info.rsdp);
    assert_int_equal(info.rsdp_len, 0);
    assert_int_equal(info.rsdp_version, 0);
    assert_false(info.has_basic_meminfo);
}

static void test_trailing_bytes_after_end_tag_and_larger_avail(void **state)
{
    (void)state;
    b_init();
    b_string(TAG_CMDLINE, "a");
    b_finish();
    put32(0, (uint32_t)(b.len + 16)); /* total covers 16 bytes after the end tag */
    uint8_t *copy;
    assert_int_equal(parse_copy(b.len + 64, &copy), 0);
    assert_string_equal(info.cmdline, "a");
    free(copy);
}

static void test_wide_mmap_entries(void **state)
{
    (void)state;
    static const struct test_region r[] = {{0x1000, 0x2000, 1}, {0x5000, 0x3000, 2}};
    b_init();
    b_mmap_sized(r, 2, 32);
    assert_int_equal(parse_exact(b_finish()), 0);
    assert_int_equal(info.mmap_count, 2);
    assert_int_equal(info.mmap[1].base, 0x5000);
    assert_int_equal(info.mmap[1].length, 0x3000);
    assert_int_equal(info.mmap[1].type, 2);
}

static void test_max_mmap_and_modules_accepted(void **state)
{
    (void)state;
    static struct test_region r[MB2_MAX_MMAP];
    for (size_t i = 0; i < MB2_MAX_MMAP; i++)
        r[i] = (struct test_region){i * 0x1000, 0x1000, 1};
    b_init();
    b_mmap(r, MB2_MAX_MMAP);
    for (uint32_t i = 0; i < MB2_MAX_MODULES; i++)
        b_module(i * 0x1000, i * 0x1000 + 1, "m");
    assert_int_equal(parse_exact(b_finish()), 0);
    assert_int_equal(info.mmap_count, MB2_MAX_MMAP);
    assert_int_equal(info.mmap[MB2_MAX_MMAP - 1].base, (MB2_MAX_MMAP - 1) * 0x1000);
    assert_int_equal(info.module_count, MB2_MAX_MODULES);
    assert_int_equal(info.modules[MB2_MAX_MODULES - 1].end, (MB2_MAX_MODULES - 1) * 0x1000 + 1);
}

/* ---- malformed input ---- */

static void test_null_blob(void **state)
{
    (void)state;
    assert_int_equal(mb2_parse(NULL, 64, &info), -1);
    assert_non_null(strstr(info.error, "NULL"));
}

static void test_misaligned_blob(void **state)
{
    (void)state;
    b_init();
    b_finish();
    memmove(b.buf + 4, b.buf, 16);
    assert_int_equal(mb2_parse(b.buf + 4, 16, &info), -1);
    assert_non_null(strstr(info.error, "not 8-byte aligned"));
}

static void test_avail_below_fixed_part(void **state)
{
    (void)state;
    b_init();
    b_finish();
    ASSERT_PARSE_FAILS(7, "only 0x7 bytes available");
}

static void test_truncated(void **state)
{
    (void)state;
    size_t total = build_full();
    ASSERT_PARSE_FAILS(total - 8, "exceeds");
    assert_non_null(strstr(info.error, "truncated"));
}

static void test_total_size_too_small(void **state)
{
    (void)state;
    b_init();
    b_finish();
    put32(0, 8);
    ASSERT_PARSE_FAILS(16, "total_size 0x8 at offset 0x0 is below the minimum 0x10");
}

static void test_total_size_not_multiple_of_8(void **state)
{
    (void)state;
    b_init();
    b_finish();
    put32(0, 20);
    ASSERT_PARSE_FAILS(24, "total_size 0x14 is not a multiple of 8");
}

static void test_zero_size_tag(void **state)
{
    (void)state;
    b_init();
    b_raw(TAG_CMDLINE, 0, "abcdefg", 8);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "tag 1 at offset 0x8 has size 0x0, below the 8-byte header");
}

static void test_tag_size_below_header(void **state)
{
    (void)state;
    b_init();
    b_raw(77, 7, NULL, 0);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "tag 77 at offset 0x8 has size 0x7");
}

static void test_oversize_tag(void **state)
{
    (void)state;
    b_init();
    b_string(TAG_CMDLINE, "x");
    size_t off = b_raw(TAG_MMAP, 0x100, NULL, 0);
    assert_int_equal(off, 0x18);
    b_finish();
    ASSERT_PARSE_FAILS(b.len,
                       "mb2: tag 6 at offset 0x18 runs past the end (size 0x100, total 0x28)");
}

static void test_missing_end_tag(void **state)
{
    (void)state;
    b_init();
    b_string(TAG_CMDLINE, "console");
    put32(0, (uint32_t)b.len);
    ASSERT_PARSE_FAILS(b.len, "missing end tag (total 0x18)");
}

static void test_end_tag_wrong_size(void **state)
{
    (void)state;
    b_init();
    b_raw(TAG_END, 16, "\0\0\0\0\0\0\0", 8);
    put32(0, (uint32_t)b.len);
    ASSERT_PARSE_FAILS(b.len, "tag 0 at offset 0x8 (end tag) has size 0x10, not 8");
}

static void test_unterminated_cmdline(void **state)
{
    (void)state;
    b_init();
    b_raw(TAG_CMDLINE, 8 + 8, "abcdefgh", 8); /* no NUL within the tag */
    b_string(TAG_LOADER, "");                 /* a NUL right after the tag must not count */
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "tag 1 at offset 0x8 string is not NUL-terminated");
}

static void test_unterminated_loader_name(void **state)
{
    (void)state;
    b_init();
    b_raw(TAG_LOADER, 8 + 3, "GRUB\0", 5); /* the NUL lies past the tag's declared size */
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "tag 2 at offset 0x8 string is not NUL-terminated");
}

static void test_empty_string_tag(void **state)
{
    (void)state;
    b_init();
    b_raw(TAG_CMDLINE, 8, NULL, 0);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "not NUL-terminated");
}

static void test_unterminated_module_string(void **state)
{
    (void)state;
    uint8_t payload[12] = {0, 0, 0x10, 0, 0, 0, 0x20, 0, 'a', 'b', 'c', 'd'};
    b_init();
    b_tag(TAG_MODULE, payload, sizeof(payload));
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "tag 3 at offset 0x8 module string is not NUL-terminated");
}

static void test_module_tag_too_short(void **state)
{
    (void)state;
    b_init();
    b_tag(TAG_MODULE, "\0\0\0\0", 4);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "module tag too short (size 0xc");
}

static void test_duplicate_cmdline(void **state)
{
    (void)state;
    b_init();
    b_string(TAG_CMDLINE, "a");
    b_string(TAG_CMDLINE, "b");
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "tag 1 at offset 0x18 is a duplicate");
}

static void test_bad_mmap_entry_size_small(void **state)
{
    (void)state;
    static const struct test_region r[] = {{0, 0x1000, 1}};
    b_init();
    b_mmap_sized(r, 1, 16);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "bad mmap entry_size 0x10");
}

static void test_bad_mmap_entry_size_unaligned(void **state)
{
    (void)state;
    static const struct test_region r[] = {{0, 0x1000, 1}};
    b_init();
    b_mmap_sized(r, 1, 28);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "bad mmap entry_size 0x1c");
}

static void test_mmap_entries_do_not_fit(void **state)
{
    (void)state;
    static const struct test_region r[] = {{0, 0x1000, 1}, {0x1000, 0x1000, 1}};
    b_init();
    size_t off = b_mmap(r, 2);
    put32(off + 4, 16 + 24 + 12); /* one and a half entries */
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "mmap entries do not fit (0x24 bytes, entry_size 0x18)");
}

static void test_mmap_tag_too_short(void **state)
{
    (void)state;
    b_init();
    b_tag(TAG_MMAP, "\x18\0\0\0", 4);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "mmap tag too short (size 0xc");
}

static void test_too_many_mmap_entries(void **state)
{
    (void)state;
    static struct test_region r[MB2_MAX_MMAP + 1];
    for (size_t i = 0; i <= MB2_MAX_MMAP; i++)
        r[i] = (struct test_region){i * 0x1000, 0x1000, 1};
    b_init();
    b_mmap(r, MB2_MAX_MMAP + 1);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "too many mmap entries (129, max 128)");
}

static void test_mmap_entry_wraps(void **state)
{
    (void)state;
    static const struct test_region r[] = {{0, 0x1000, 1}, {0xfffffffffffff000ull, 0x2000, 2}};
    b_init();
    b_mmap(r, 2);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "mmap entry 1 wraps (base 0xfffffffffffff000, length 0x2000)");
}

static void test_duplicate_mmap(void **state)
{
    (void)state;
    static const struct test_region r[] = {{0, 0x1000, 1}};
    b_init();
    b_mmap(r, 1);
    b_mmap(r, 1);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "tag 6 at offset 0x30 is a duplicate");
    assert_string_equal(info.cause, "malformed multiboot2 boot information");
}

static void test_too_many_modules(void **state)
{
    (void)state;
    b_init();
    for (uint32_t i = 0; i <= MB2_MAX_MODULES; i++)
        b_module(i * 0x1000, i * 0x1000 + 0x10, "m");
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "too many modules (more than 64)");
    /* hv's end line names the limit, not a malformed boot information */
    assert_string_equal(info.cause, "too many modules (more than 64)");
    assert_string_equal(info.cause, MB2_CAUSE_TOO_MANY);
}

static void test_module_end_below_start(void **state)
{
    (void)state;
    b_init();
    b_module(0x200000, 0x1fffff, "bad");
    b_finish();
    ASSERT_PARSE_FAILS(b.len,
                       "tag 3 at offset 0x8 module end 0x1fffff is below its start 0x200000");
}

static void test_short_rsdp_v1(void **state)
{
    (void)state;
    b_init();
    b_rsdp(TAG_ACPI_OLD, 19);
    b_finish();
    ASSERT_PARSE_FAILS(b.len,
                       "tag 14 at offset 0x8 RSDP v1 copy too short (0x13 bytes, needs 0x14)");
}

static void test_short_rsdp_v2(void **state)
{
    (void)state;
    b_init();
    b_rsdp(TAG_ACPI_NEW, 35);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "RSDP v2 copy too short (0x23 bytes, needs 0x24)");
}

static void test_short_meminfo(void **state)
{
    (void)state;
    b_init();
    b_tag(TAG_MEMINFO, "\1\0\0\0", 4);
    b_finish();
    ASSERT_PARSE_FAILS(b.len, "basic meminfo tag too short");
}

static void test_failure_resets_info(void **state)
{
    (void)state;
    build_full();
    assert_int_equal(parse_exact(b.len), 0);
    b_init();
    b_string(TAG_CMDLINE, "a");
    b_module(2, 1, "x");
    b_finish();
    assert_int_equal(parse_exact(b.len), -1);
    assert_int_equal(info.mmap_count, 0);
    assert_int_equal(info.rsdp_version, 0);
    /* a fresh parse clears the previous error */
    b_init();
    assert_int_equal(parse_exact(b_finish()), 0);
    assert_string_equal(info.error, "");
}

static void test_mem_type_names(void **state)
{
    (void)state;
    assert_string_equal(mb2_mem_type_name(MB2_MEM_AVAILABLE), "available");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_RESERVED), "reserved");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_ACPI_RECLAIMABLE), "ACPI");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_NVS), "NVS");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_BADRAM), "bad");
    assert_string_equal(mb2_mem_type_name(0), "unknown");
    assert_string_equal(mb2_mem_type_name(6), "unknown");
    assert_string_equal(mb2_mem_type_name(0xffffffffu), "unknown");
}

static void assert_log_has(const char *line)
{
    if (!strstr(fake_log, line))
        fail_msg("log lacks \"%s\":\n%s", line, fake_log);
}

static void test_log_summary(void **state)
{
    (void)state;
    build_full();
    uint8_t *copy;
    assert_int_equal(parse_copy(b.len, &copy), 0);
    fake_log_reset();
    mb2_log_summary(&info);
    assert_log_has("mb2: loader \"GRUB 2.06\"\n");
    assert_log_has("mb2: command line \"loglevel=debug console=com1\"\n");
    assert_log_has("mb2: basic meminfo: lower 639 KiB, upper 2096000 KiB\n");
    assert_log_has("mb2: memory map: 9 entries\n");
    assert_log_has("mb2:   base               end                         KiB  type\n");
    assert_log_has("mb2:   0x0000000000000000 0x000000000009fc00          639  available\n");
    assert_log_has("mb2:   0x000000000009fc00 0x00000000000a0000            1  reserved\n");
    assert_log_has("mb2:   0x000000007ffe0000 0x0000000080000000          128  ACPI\n");
    assert_log_has("mb2:   0x00000000fec00000 0x00000000fec01000            4  NVS\n");
    assert_log_has("mb2:   0x0000000100000000 0x0000000180000000      2097152  available\n");
    assert_log_has("mb2:   0x0000000200000000 0x0000000200001000            4  bad\n");
    assert_log_has("mb2:   0x0000000300000000 0x0000000300001000            4  unknown\n");
    /* available: 0x9fc00 (639 KiB) + 0x7fee0000 (2096000 KiB) + 2 GiB (2097152 KiB) */
    assert_log_has("mb2: usable memory: 4193791 KiB\n");
    assert_log_has("mb2: modules: 2\n");
    assert_log_has("mb2:   module 0: 0x00200000-0x00201234 (4660 bytes) \"linux\"\n");
    assert_log_has("mb2:   module 1: 0x00300000-0x00300000 (0 bytes) \"initrd name=\"x y\"\"\n");
    assert_log_has("mb2: RSDP v2 (36 bytes)\n");
    free(copy);
}

static void test_log_summary_empty(void **state)
{
    (void)state;
    b_init();
    assert_int_equal(parse_exact(b_finish()), 0);
    fake_log_reset();
    mb2_log_summary(&info);
    assert_log_has("mb2: loader \"\"\n");
    assert_log_has("mb2: command line \"\"\n");
    assert_log_has("mb2: memory map: 0 entries\n");
    assert_log_has("mb2: usable memory: 0 KiB\n");
    assert_log_has("mb2: modules: 0\n");
    assert_log_has("mb2: RSDP: none\n");
    assert_null(strstr(fake_log, "basic meminfo"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_blob),
        cmocka_unit_test(test_rsdp_v2_before_v1_still_wins),
        cmocka_unit_test(test_rsdp_v1_only),
        cmocka_unit_test(test_minimal_blob_defaults),
        cmocka_unit_test(test_trailing_bytes_after_end_tag_and_larger_avail),
        cmocka_unit_test(test_wide_mmap_entries),
        cmocka_unit_test(test_max_mmap_and_modules_accepted),
        cmocka_unit_test(test_null_blob),
        cmocka_unit_test(test_misaligned_blob),
        cmocka_unit_test(test_avail_below_fixed_part),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_total_size_too_small),
        cmocka_unit_test(test_total_size_not_multiple_of_8),
        cmocka_unit_test(test_zero_size_tag),
        cmocka_unit_test(test_tag_size_below_header),
        cmocka_unit_test(test_oversize_tag),
        cmocka_unit_test(test_missing_end_tag),
        cmocka_unit_test(test_end_tag_wrong_size),
        cmocka_unit_test(test_unterminated_cmdline),
        cmocka_unit_test(test_unterminated_loader_name),
        cmocka_unit_test(test_empty_string_tag),
        cmocka_unit_test(test_unterminated_module_string),
        cmocka_unit_test(test_module_tag_too_short),
        cmocka_unit_test(test_duplicate_cmdline),
        cmocka_unit_test(test_bad_mmap_entry_size_small),
        cmocka_unit_test(test_bad_mmap_entry_size_unaligned),
        cmocka_unit_test(test_mmap_entries_do_not_fit),
        cmocka_unit_test(test_mmap_tag_too_short),
        cmocka_unit_test(test_too_many_mmap_entries),
        cmocka_unit_test(test_mmap_entry_wraps),
        cmocka_unit_test(test_duplicate_mmap),
        cmocka_unit_test(test_too_many_modules),
        cmocka_unit_test(test_module_end_below_start),
        cmocka_unit_test(test_short_rsdp_v1),
        cmocka_unit_test(test_short_rsdp_v2),
        cmocka_unit_test(test_short_meminfo),
        cmocka_unit_test(test_failure_resets_info),
        cmocka_unit_test(test_mem_type_names),
        cmocka_unit_test(test_log_summary),
        cmocka_unit_test(test_log_summary_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
