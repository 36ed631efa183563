/*
 * Multiboot2 boot information parser (Multiboot2 spec §3.6). Pure logic: the blob is
 * hostile input, so every field is bounds-checked before it is read, multi-byte fields are
 * read with memcpy (tags are only 8-byte aligned as a whole, and we never trust that), and
 * problems are reported as errors rather than silently truncated.
 */
#include <stdarg.h>
#include "kernel/mb2.h"
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "kernel/lib/string.h"

/* Fixed part (§3.6.1): u32 total_size, u32 reserved. */
#define MB2_FIXED_SIZE 8u
/* Every tag starts with u32 type, u32 size and is padded to 8 bytes (§3.6.1). */
#define MB2_TAG_HEADER_SIZE 8u
#define MB2_TAG_ALIGN       8u
/* The smallest valid blob: the fixed part and the end tag. */
#define MB2_MIN_TOTAL_SIZE (MB2_FIXED_SIZE + MB2_TAG_HEADER_SIZE)

/* Tag types (§3.6.2 onwards). */
enum {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_LOADER_NAME = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_BASIC_MEMINFO = 4,
    MB2_TAG_MMAP = 6,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
};

/* Tags that may appear at most once: a second copy means a confused or hostile loader. */
#define MB2_SINGLE_TAGS                                                                            \
    ((1u << MB2_TAG_CMDLINE) | (1u << MB2_TAG_LOADER_NAME) | (1u << MB2_TAG_BASIC_MEMINFO) |       \
     (1u << MB2_TAG_MMAP) | (1u << MB2_TAG_ACPI_OLD) | (1u << MB2_TAG_ACPI_NEW))
#define MB2_TYPE_BITS 32u

/* Module tag (§3.6.6): header, u32 mod_start, u32 mod_end, then the NUL-terminated string. */
#define MB2_MODULE_START_OFF  8u
#define MB2_MODULE_END_OFF    12u
#define MB2_MODULE_STRING_OFF 16u
/* Basic memory information (§3.6.4): header, u32 mem_lower, u32 mem_upper (KiB). */
#define MB2_MEMINFO_LOWER_OFF 8u
#define MB2_MEMINFO_UPPER_OFF 12u
#define MB2_MEMINFO_SIZE      16u
/* Memory map (§3.6.8): header, u32 entry_size, u32 entry_version, then entries of
   u64 base_addr, u64 length, u32 type, u32 reserved. */
#define MB2_MMAP_ENTRY_SIZE_OFF 8u
#define MB2_MMAP_ENTRIES_OFF    16u
#define MB2_MMAP_ENTRY_BASE     0u
#define MB2_MMAP_ENTRY_LENGTH   8u
#define MB2_MMAP_ENTRY_TYPE     16u
#define MB2_MMAP_ENTRY_MIN_SIZE 24u
/* ACPI RSDP copies (§3.6.12, §3.6.13; ACPI 6.x §5.2.5.3): v1 is 20 bytes, v2 is 36 bytes. */
#define MB2_RSDP_OFF       8u
#define MB2_RSDP_V1_LENGTH 20u
#define MB2_RSDP_V2_LENGTH 36u

#define KIB_SHIFT 10

struct parser {
    const uint8_t *base;
    size_t total;
    uint32_t seen; /* bit n set: a single-instance tag of type n was already parsed */
    struct mb2_info *info;
};

/* The tag being parsed: its type, offset from the blob start and declared size. */
struct tag {
    uint32_t type;
    size_t off;
    size_t size;
};

static uint32_t read_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t read_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static int fail(struct mb2_info *info, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct mb2_info *info, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(info->error, sizeof(info->error), fmt, ap);
    va_end(ap);
    return -1;
}

/* Like fail(), prefixed with "mb2: tag T at offset 0xO ". */
static int tag_fail(struct parser *p, const struct tag *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tag_fail(struct parser *p, const struct tag *t, const char *fmt, ...)
{
    char *err = p->info->error;
    size_t cap = sizeof(p->info->error);
    int n = fmt_snprintf(err, cap, "mb2: tag %u at offset 0x%zx ", t->type, t->off);
    size_t used = (size_t)n < cap ? (size_t)n : cap - 1;
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(err + used, cap - used, fmt, ap);
    va_end(ap);
    return -1;
}

/* Returns the NUL-terminated string at `rel` inside the tag, or NULL if the tag holds no NUL
   there (the spec requires one; without it a reader would run off the tag). */
static const char *tag_string(const struct parser *p, const struct tag *t, size_t rel)
{
    const char *s = (const char *)p->base + t->off + rel;
    size_t room = t->size - rel;
    return strnlen(s, room) < room ? s : NULL;
}

static int parse_string_tag(struct parser *p, const struct tag *t, const char **out)
{
    const char *s = tag_string(p, t, MB2_TAG_HEADER_SIZE);
    if (!s)
        return tag_fail(p, t, "string is not NUL-terminated within the tag (size 0x%zx)", t->size);
    *out = s;
    return 0;
}

static int parse_module(struct parser *p, const struct tag *t)
{
    struct mb2_info *info = p->info;
    if (t->size < MB2_MODULE_STRING_OFF)
        return tag_fail(p, t, "module tag too short (size 0x%zx, needs 0x%x)", t->size,
                        MB2_MODULE_STRING_OFF);
    if (info->module_count >= MB2_MAX_MODULES) {
        info->cause = MB2_CAUSE_TOO_MANY;
        return tag_fail(p, t, "too many modules (more than %d)", MB2_MAX_MODULES);
    }
    const uint8_t *tag = p->base + t->off;
    uint32_t start = read_u32(tag + MB2_MODULE_START_OFF);
    uint32_t end = read_u32(tag + MB2_MODULE_END_OFF);
    if (end < start)
        return tag_fail(p, t, "module end 0x%x is below its start 0x%x", end, start);
    const char *cmdline = tag_string(p, t, MB2_MODULE_STRING_OFF);
    if (!cmdline)
        return tag_fail(p, t, "module string is not NUL-terminated within the tag (size 0x%zx)",
                        t->size);
    info->modules[info->module_count++] = (struct mb2_module){start, end, cmdline};
    return 0;
}

static int parse_basic_meminfo(struct parser *p, const struct tag *t)
{
    if (t->size < MB2_MEMINFO_SIZE)
        return tag_fail(p, t, "basic meminfo tag too short (size 0x%zx, needs 0x%x)", t->size,
                        MB2_MEMINFO_SIZE);
    const uint8_t *tag = p->base + t->off;
    p->info->has_basic_meminfo = true;
    p->info->mem_lower_kib = read_u32(tag + MB2_MEMINFO_LOWER_OFF);
    p->info->mem_upper_kib = read_u32(tag + MB2_MEMINFO_UPPER_OFF);
    return 0;
}

static int parse_mmap_entry(struct parser *p, const struct tag *t, const uint8_t *entry, size_t i)
{
    struct mb2_mmap_entry e = {
        .base = read_u64(entry + MB2_MMAP_ENTRY_BASE),
        .length = read_u64(entry + MB2_MMAP_ENTRY_LENGTH),
        .type = read_u32(entry + MB2_MMAP_ENTRY_TYPE),
    };
    /* A region that wraps past 2^64 cannot describe real memory, and would break every
       consumer's end = base + length. */
    if (e.length > UINT64_MAX - e.base)
        return tag_fail(p, t, "mmap entry %zu wraps (base 0x%llx, length 0x%llx)", i,
                        (unsigned long long)e.base, (unsigned long long)e.length);
    p->info->mmap[p->info->mmap_count++] = e;
    return 0;
}

static int parse_mmap(struct parser *p, const struct tag *t)
{
    if (t->size < MB2_MMAP_ENTRIES_OFF)
        return tag_fail(p, t, "mmap tag too short (size 0x%zx, needs 0x%x)", t->size,
                        MB2_MMAP_ENTRIES_OFF);
    const uint8_t *tag = p->base + t->off;
    uint32_t entry_size = read_u32(tag + MB2_MMAP_ENTRY_SIZE_OFF);
    if (entry_size < MB2_MMAP_ENTRY_MIN_SIZE || entry_size % MB2_TAG_ALIGN != 0)
        return tag_fail(p, t, "bad mmap entry_size 0x%x (needs >= 0x%x, multiple of 8)", entry_size,
                        MB2_MMAP_ENTRY_MIN_SIZE);
    size_t bytes = t->size - MB2_MMAP_ENTRIES_OFF;
    if (bytes % entry_size != 0)
        return tag_fail(p, t, "mmap entries do not fit (0x%zx bytes, entry_size 0x%x)", bytes,
                        entry_size);
    size_t count = bytes / entry_size;
    if (count > MB2_MAX_MMAP)
        return tag_fail(p, t, "too many mmap entries (%zu, max %d)", count, MB2_MAX_MMAP);
    for (size_t i = 0; i < count; i++) {
        if (parse_mmap_entry(p, t, tag + MB2_MMAP_ENTRIES_OFF + i * entry_size, i) != 0)
            return -1;
    }
    return 0;
}

static int parse_rsdp(struct parser *p, const struct tag *t, int version, size_t min_len)
{
    size_t len = t->size - MB2_RSDP_OFF;
    if (len < min_len)
        return tag_fail(p, t, "RSDP v%d copy too short (0x%zx bytes, needs 0x%zx)", version, len,
                        min_len);
    /* GRUB passes both copies when it has a v2 RSDP; the v2 one (with the XSDT) wins. */
    if (version < p->info->rsdp_version)
        return 0;
    p->info->rsdp = p->base + t->off + MB2_RSDP_OFF;
    p->info->rsdp_len = len;
    p->info->rsdp_version = version;
    return 0;
}

static int parse_tag(struct parser *p, const struct tag *t)
{
    uint32_t bit = t->type < MB2_TYPE_BITS ? 1u << t->type : 0;
    if (bit & MB2_SINGLE_TAGS) {
        if (p->seen & bit)
            return tag_fail(p, t, "is a duplicate");
        p->seen |= bit;
    }
    switch (t->type) {
    case MB2_TAG_CMDLINE:
        return parse_string_tag(p, t, &p->info->cmdline);
    case MB2_TAG_LOADER_NAME:
        return parse_string_tag(p, t, &p->info->loader_name);
    case MB2_TAG_MODULE:
        return parse_module(p, t);
    case MB2_TAG_BASIC_MEMINFO:
        return parse_basic_meminfo(p, t);
    case MB2_TAG_MMAP:
        return parse_mmap(p, t);
    case MB2_TAG_ACPI_OLD:
        return parse_rsdp(p, t, 1, MB2_RSDP_V1_LENGTH);
    case MB2_TAG_ACPI_NEW:
        return parse_rsdp(p, t, 2, MB2_RSDP_V2_LENGTH);
    default: /* §3.6: unknown tags must be ignored */
        return 0;
    }
}

static void reset_info(struct mb2_info *info)
{
    memset(info, 0, sizeof(*info));
    info->cmdline = "";
    info->loader_name = "";
}

/* Validates the fixed part; on success *total is the usable blob length. */
static int parse_fixed(const void *blob, size_t avail, struct mb2_info *info, size_t *total)
{
    if (!blob)
        return fail(info, "mb2: boot information pointer is NULL");
    if ((uintptr_t)blob % MB2_TAG_ALIGN != 0)
        return fail(info, "mb2: boot information at %p is not 8-byte aligned", blob);
    if (avail < MB2_FIXED_SIZE)
        return fail(info, "mb2: only 0x%zx bytes available, the fixed part needs 0x%x", avail,
                    MB2_FIXED_SIZE);
    uint32_t size = read_u32(blob);
    if (size < MB2_MIN_TOTAL_SIZE)
        return fail(info, "mb2: total_size 0x%x at offset 0x0 is below the minimum 0x%x", size,
                    MB2_MIN_TOTAL_SIZE);
    if (size > avail)
        return fail(info, "mb2: total_size 0x%x exceeds the 0x%zx bytes available (truncated)",
                    size, avail);
    if (size % MB2_TAG_ALIGN != 0)
        return fail(info, "mb2: total_size 0x%x is not a multiple of 8", size);
    info->total_size = size;
    *total = size;
    return 0;
}

static size_t align_up(size_t v)
{
    return (v + MB2_TAG_ALIGN - 1) & ~(size_t)(MB2_TAG_ALIGN - 1);
}

static int parse_blob(const void *blob, size_t avail, struct mb2_info *info)
{
    struct parser p = {.base = blob, .info = info};
    if (parse_fixed(blob, avail, info, &p.total) != 0)
        return -1;
    /* off stays 8-aligned and below total (also 8-aligned), so a header always fits when
       off < total; sizes are bounded by total, so nothing here can overflow. */
    for (size_t off = MB2_FIXED_SIZE; off < p.total;) {
        if (p.total - off < MB2_TAG_HEADER_SIZE)
            return fail(info, "mb2: tag header at offset 0x%zx does not fit (total 0x%zx)", off,
                        p.total);
        struct tag t = {read_u32(p.base + off), off, read_u32(p.base + off + sizeof(uint32_t))};
        if (t.size < MB2_TAG_HEADER_SIZE)
            return tag_fail(&p, &t, "has size 0x%zx, below the 8-byte header", t.size);
        if (t.size > p.total - off)
            return tag_fail(&p, &t, "runs past the end (size 0x%zx, total 0x%zx)", t.size, p.total);
        if (t.type == MB2_TAG_END) {
            if (t.size != MB2_TAG_HEADER_SIZE)
                return tag_fail(&p, &t, "(end tag) has size 0x%zx, not 8", t.size);
            return 0;
        }
        if (parse_tag(&p, &t) != 0)
            return -1;
        off = align_up(off + t.size);
    }
    return fail(info, "mb2: missing end tag (total 0x%zx)", p.total);
}

int mb2_parse(const void *blob, size_t avail, struct mb2_info *info)
{
    if (!info)
        return -1;
    reset_info(info);
    if (parse_blob(blob, avail, info) == 0)
        return 0;
    if (!info->cause)
        info->cause = MB2_CAUSE_MALFORMED;
    return -1;
}

const char *mb2_mem_type_name(uint32_t type)
{
    switch (type) {
    case MB2_MEM_AVAILABLE:
        return "available";
    case MB2_MEM_RESERVED:
        return "reserved";
    case MB2_MEM_ACPI_RECLAIMABLE:
        return "ACPI";
    case MB2_MEM_NVS:
        return "NVS";
    case MB2_MEM_BADRAM:
        return "bad";
    default:
        return "unknown";
    }
}

static uint64_t saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void log_mmap(const struct mb2_info *info)
{
    uint64_t usable = 0;
    log_info("mb2: memory map: %zu entries", info->mmap_count);
    log_info("mb2:   %-18s %-18s %12s  %s", "base", "end", "KiB", "type");
    for (size_t i = 0; i < info->mmap_count; i++) {
        const struct mb2_mmap_entry *e = &info->mmap[i];
        log_info("mb2:   0x%016llx 0x%016llx %12llu  %s", (unsigned long long)e->base,
                 (unsigned long long)(e->base + e->length),
                 (unsigned long long)(e->length >> KIB_SHIFT), mb2_mem_type_name(e->type));
        if (e->type == MB2_MEM_AVAILABLE)
            usable = saturating_add(usable, e->length);
    }
    log_info("mb2: usable memory: %llu KiB", (unsigned long long)(usable >> KIB_SHIFT));
}

static void log_modules(const struct mb2_info *info)
{
    log_info("mb2: modules: %zu", info->module_count);
    for (size_t i = 0; i < info->module_count; i++) {
        const struct mb2_module *m = &info->modules[i];
        log_info("mb2:   module %zu: 0x%08x-0x%08x (%u bytes) \"%s\"", i, m->start, m->end,
                 m->end - m->start, m->cmdline);
    }
}

void mb2_log_summary(const struct mb2_info *info)
{
    log_info("mb2: loader \"%s\"", info->loader_name);
    log_info("mb2: command line \"%s\"", info->cmdline);
    if (info->has_basic_meminfo)
        log_info("mb2: basic meminfo: lower %u KiB, upper %u KiB", info->mem_lower_kib,
                 info->mem_upper_kib);
    log_mmap(info);
    log_modules(info);
    if (info->rsdp_version)
        log_info("mb2: RSDP v%d (%zu bytes)", info->rsdp_version, info->rsdp_len);
    else
        log_info("mb2: RSDP: none");
}
