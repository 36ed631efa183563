/* Module command-line parser (see modargs.h and docs/guest-abi.md). */
#include "vmx/loader/modargs.h"
#include "kernel/cmdline.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/percpu.h"

#define KIB          (1ull << 10)
#define MIB          (1ull << 20)
#define GIB          (1ull << 30)
#define SIZE_STR_MAX 24 /* "18446744073709551615" + NUL, or a shorter K/M/G form */
#define INITRD_FOR   "initrd-for"
#define CPU_ITEM_MAX 24 /* one item of cpus=LIST: "N" or "N-M"; longer is junk */
#define CPU_LIST_SEP ','
#define CPU_RANGE    '-'

/* A key handler: parses `value` into cfg, or returns -1 with err set. */
typedef int (*key_parser)(const char *value, struct guest_config *cfg, char *err, size_t errlen);

struct key_spec {
    const char *key;
    key_parser parse;
};

static int bad_value(const char *key, const char *value, char *err, size_t errlen)
{
    fmt_snprintf(err, errlen, "bad value for %s: '%s'", key, value);
    return -1;
}

/* Writes a byte count in the largest unit that divides it exactly ("512K", "16M", "5000"). */
static void format_size(uint64_t bytes, char out[SIZE_STR_MAX])
{
    if (bytes != 0 && bytes % GIB == 0)
        fmt_snprintf(out, SIZE_STR_MAX, "%lluG", (unsigned long long)(bytes / GIB));
    else if (bytes != 0 && bytes % MIB == 0)
        fmt_snprintf(out, SIZE_STR_MAX, "%lluM", (unsigned long long)(bytes / MIB));
    else if (bytes != 0 && bytes % KIB == 0)
        fmt_snprintf(out, SIZE_STR_MAX, "%lluK", (unsigned long long)(bytes / KIB));
    else
        fmt_snprintf(out, SIZE_STR_MAX, "%llu", (unsigned long long)bytes);
}

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* Decimal digits only (no 0x, no suffix), as the ABI specifies for counts and seconds. */
static int parse_decimal(const char *s, uint64_t *out)
{
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
    }
    return cmdline_parse_u64(s, false, out);
}

/* A guest name (name=, initrd-for=): 1..31 characters from [A-Za-z0-9._-], copied into out. */
static int check_name(const char *key, const char *value, char out[GUEST_NAME_MAX], char *err,
                      size_t errlen)
{
    size_t len = strlen(value);
    if (len == 0)
        return bad_value(key, value, err, errlen);
    if (len >= GUEST_NAME_MAX) {
        fmt_snprintf(err, errlen, "%s '%s' longer than %u characters", key, value,
                     (unsigned)(GUEST_NAME_MAX - 1));
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_name_char(value[i])) {
            fmt_snprintf(err, errlen, "%s '%s' has a character outside [A-Za-z0-9._-]", key, value);
            return -1;
        }
    }
    memcpy(out, value, len + 1);
    return 0;
}

static int parse_name(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    return check_name("name", value, cfg->name, err, errlen);
}

static int parse_mem(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    uint64_t mem;
    char size[SIZE_STR_MAX], limit[SIZE_STR_MAX];
    if (cmdline_parse_u64(value, true, &mem) != 0)
        return bad_value("mem", value, err, errlen);
    format_size(mem, size);
    if (mem % GUEST_MEM_ALIGN != 0) {
        format_size(GUEST_MEM_ALIGN, limit);
        fmt_snprintf(err, errlen, "mem %s is not a multiple of %s", size, limit);
        return -1;
    }
    if (mem < GUEST_MEM_MIN) {
        format_size(GUEST_MEM_MIN, limit);
        fmt_snprintf(err, errlen, "mem %s below the %s minimum", size, limit);
        return -1;
    }
    if (mem > GUEST_MEM_MAX) {
        format_size(GUEST_MEM_MAX, limit);
        fmt_snprintf(err, errlen, "mem %s above the %s maximum", size, limit);
        return -1;
    }
    cfg->mem = mem;
    return 0;
}

/* Parses a decimal in [min, max] for `key`. */
static int parse_ranged(const char *key, const char *value, uint64_t min, uint64_t max,
                        uint64_t *out, char *err, size_t errlen)
{
    uint64_t v;
    if (parse_decimal(value, &v) != 0)
        return bad_value(key, value, err, errlen);
    if (v < min || v > max) {
        fmt_snprintf(err, errlen, "%s %s out of range %llu..%llu", key, value,
                     (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_timeout(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    uint64_t v;
    if (parse_ranged("timeout", value, 1, GUEST_TIMEOUT_MAX_S, &v, err, errlen) != 0)
        return -1;
    cfg->timeout_s = (uint32_t)v;
    return 0;
}

static int parse_vcpus(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    uint64_t v;
    if (parse_ranged("vcpus", value, 1, GUEST_VCPUS_MAX, &v, err, errlen) != 0)
        return -1;
    cfg->vcpus = (unsigned)v;
    return 0;
}

_Static_assert(MAX_CPUS <= sizeof(((struct guest_config *)0)->cpus) * 8,
               "cpus= keeps one bit per hv CPU");

/* One CPU number of cpus=LIST: decimal, below MAX_CPUS (hv's per-CPU areas). */
static int parse_cpu(const char *list, const char *num, unsigned *out, char *err, size_t errlen)
{
    uint64_t v;
    if (parse_decimal(num, &v) != 0)
        return bad_value("cpus", list, err, errlen);
    if (v >= MAX_CPUS) {
        fmt_snprintf(err, errlen, "cpus=%s: CPU %s beyond hv's %u", list, num, MAX_CPUS);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* One item, "N" or "N-M" (N <= M), copied into item[] so it can be cut at the '-'. */
static int parse_cpu_item(const char *list, const char *start, size_t len, uint32_t *mask,
                          char *err, size_t errlen)
{
    char item[CPU_ITEM_MAX];
    unsigned lo, hi;
    if (len == 0) {
        fmt_snprintf(err, errlen, "cpus=%s: an empty item (a stray '%c')", list, CPU_LIST_SEP);
        return -1;
    }
    if (len >= sizeof(item))
        return bad_value("cpus", list, err, errlen);
    memcpy(item, start, len);
    item[len] = '\0';
    char *dash = item;
    while (*dash && *dash != CPU_RANGE)
        dash++;
    const char *last = item;
    if (*dash == CPU_RANGE) {
        *dash = '\0';
        last = dash + 1;
    }
    if (parse_cpu(list, item, &lo, err, errlen) != 0 ||
        parse_cpu(list, last, &hi, err, errlen) != 0)
        return -1;
    if (hi < lo) {
        fmt_snprintf(err, errlen, "cpus=%s: range %u-%u runs backwards", list, lo, hi);
        return -1;
    }
    for (unsigned cpu = lo; cpu <= hi; cpu++)
        *mask |= 1u << cpu;
    return 0;
}

/* cpus=LIST: comma-separated CPU numbers and ranges ("1", "0-3", "0,2-3"); overlaps are fine.
   Whether each CPU came up is checked when the guest is placed (vmx/vm/placement.h). */
static int parse_cpus(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    uint32_t mask = 0;
    if (*value == '\0') {
        fmt_snprintf(err, errlen, "cpus=: an empty CPU list");
        return -1;
    }
    for (const char *p = value;;) {
        const char *end = p;
        while (*end && *end != CPU_LIST_SEP)
            end++;
        if (parse_cpu_item(value, p, (size_t)(end - p), &mask, err, errlen) != 0)
            return -1;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    cfg->cpus = mask;
    return 0;
}

static int parse_cmdline(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    size_t len = strlen(value);
    if (len >= GUEST_CMDLINE_MAX) { /* unreachable with today's tokenizer limit; kept honest */
        fmt_snprintf(err, errlen, "cmdline longer than %u characters",
                     (unsigned)(GUEST_CMDLINE_MAX - 1));
        return -1;
    }
    memcpy(cfg->cmdline, value, len + 1);
    return 0;
}

static int parse_expect(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    size_t len = strlen(value);
    if (len == 0)
        return bad_value("expect", value, err, errlen);
    if (len >= GUEST_EXPECT_MAX) {
        fmt_snprintf(err, errlen, "expect longer than %u characters",
                     (unsigned)(GUEST_EXPECT_MAX - 1));
        return -1;
    }
    memcpy(cfg->expect, value, len + 1);
    return 0;
}

/* entry=/load=: an address real-mode code can reach, i.e. below 1 MiB. */
static int parse_real_addr(const char *key, const char *value, uint64_t *out, char *err,
                           size_t errlen)
{
    uint64_t v;
    if (cmdline_parse_u64(value, false, &v) != 0)
        return bad_value(key, value, err, errlen);
    if (v >= GUEST_REAL_MODE_LIMIT) {
        fmt_snprintf(err, errlen, "%s %s not below 1M (real mode)", key, value);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_entry(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    cfg->has_entry = true;
    return parse_real_addr("entry", value, &cfg->entry, err, errlen);
}

static int parse_load(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    cfg->has_load = true;
    return parse_real_addr("load", value, &cfg->load, err, errlen);
}

static int parse_mode(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    if (strcmp(value, "real") != 0) {
        fmt_snprintf(err, errlen, "bad value for mode: '%s' (only 'real')", value);
        return -1;
    }
    cfg->mode = GUEST_MODE_REAL;
    return 0;
}

/* console=focus: this guest has the console focus first (issue 13; vmx/vm/vm_console.h). */
static int parse_console(const char *value, struct guest_config *cfg, char *err, size_t errlen)
{
    if (strcmp(value, "focus") != 0) {
        fmt_snprintf(err, errlen, "bad value for console: '%s' (only 'focus')", value);
        return -1;
    }
    cfg->console_focus = true;
    return 0;
}

static const struct key_spec keys[] = {
    {"name", parse_name},       {"mem", parse_mem},     {"timeout", parse_timeout},
    {"cmdline", parse_cmdline}, {"entry", parse_entry}, {"load", parse_load},
    {"mode", parse_mode},       {"vcpus", parse_vcpus}, {"expect", parse_expect},
    {"console", parse_console}, {"cpus", parse_cpus},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void set_defaults(struct guest_config *cfg, unsigned index)
{
    memset(cfg, 0, sizeof(*cfg));
    fmt_snprintf(cfg->name, sizeof(cfg->name), "guest%u", index);
    cfg->mem = GUEST_MEM_DEFAULT;
    cfg->mode = GUEST_MODE_AUTO;
    cfg->vcpus = 1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* GRUB may pass the module path as the first word: skip a leading word that starts with '/'
   and contains no '='. Returns where parsing starts. */
static const char *skip_module_path(const char *s)
{
    const char *p = s;
    while (is_blank(*p))
        p++;
    if (*p != '/')
        return s;
    const char *word = p;
    while (*p && !is_blank(*p)) {
        if (*p == '=')
            return word;
        p++;
    }
    return p;
}

/* Applies one word; `seen` tracks keys already given (a repeated key is an error). */
static int apply_word(const char *key, const char *value, bool has_value, uint32_t *seen,
                      struct guest_config *cfg, char *err, size_t errlen)
{
    if (strcmp(key, INITRD_FOR) == 0) { /* modargs_classify sorts such modules out first */
        fmt_snprintf(err, errlen, "initrd-for= marks a data module, not a guest");
        return -1;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(key, keys[i].key) != 0)
            continue;
        if (*seen & (1u << i)) {
            fmt_snprintf(err, errlen, "duplicate key '%s'", key);
            return -1;
        }
        *seen |= 1u << i;
        if (!has_value) {
            fmt_snprintf(err, errlen, "key '%s' needs a value", key);
            return -1;
        }
        return keys[i].parse(value, cfg, err, errlen);
    }
    fmt_snprintf(err, errlen, "unknown key '%s'", key);
    return -1;
}

/* entry=/load= only make sense for flat real-mode binaries, which need both. */
static int check_mode(const struct guest_config *cfg, char *err, size_t errlen)
{
    if (cfg->mode == GUEST_MODE_REAL && (!cfg->has_entry || !cfg->has_load)) {
        fmt_snprintf(err, errlen, "mode=real needs entry= and load=");
        return -1;
    }
    if (cfg->mode != GUEST_MODE_REAL && (cfg->has_entry || cfg->has_load)) {
        fmt_snprintf(err, errlen, "entry= and load= need mode=real");
        return -1;
    }
    return 0;
}

int modargs_parse(const char *cmdline, unsigned index, struct guest_config *cfg, char *err,
                  size_t errlen)
{
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX], value[CMDLINE_VALUE_MAX];
    bool has_value;
    const char *why = "";
    uint32_t seen = 0;
    int rc;

    if (err && errlen > 0)
        err[0] = '\0';
    set_defaults(cfg, index);
    cmdline_iter_init(&it, skip_module_path(cmdline ? cmdline : ""));
    while ((rc = cmdline_next(&it, key, value, &has_value, &why)) == 1) {
        if (apply_word(key, value, has_value, &seen, cfg, err, errlen) != 0)
            return -1;
    }
    if (rc < 0) {
        fmt_snprintf(err, errlen, "bad command line: %s", why);
        return -1;
    }
    return check_mode(cfg, err, errlen);
}

static const char *skip_blanks(const char *p)
{
    while (is_blank(*p))
        p++;
    return p;
}

/* The initrd-for word is line[start, end): leave it out of the module's string together with
   the blanks after it, or, when it is the last word, with the blanks before it. */
static void set_omit(const char *line, size_t start, size_t end, struct modargs_data *data)
{
    end = (size_t)(skip_blanks(line + end) - line);
    if (line[end] == '\0')
        while (start > 0 && is_blank(line[start - 1]))
            start--;
    data->omit_at = start;
    data->omit_len = end - start;
}

int modargs_classify(const char *cmdline, struct modargs_data *data, char *err, size_t errlen)
{
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX], value[CMDLINE_VALUE_MAX];
    bool has_value, found = false;
    const char *line = cmdline ? cmdline : "", *why = "";
    int rc;

    if (err && errlen > 0)
        err[0] = '\0';
    memset(data, 0, sizeof(*data));
    cmdline_iter_init(&it, line);
    for (;;) {
        size_t start = (size_t)(skip_blanks(it.pos) - line);
        if ((rc = cmdline_next(&it, key, value, &has_value, &why)) != 1)
            break;
        if (strcmp(key, INITRD_FOR) != 0)
            continue;
        if (found) {
            fmt_snprintf(err, errlen, "duplicate key '" INITRD_FOR "'");
            return -1;
        }
        found = true;
        if (!has_value) {
            fmt_snprintf(err, errlen, "key '" INITRD_FOR "' needs a value");
            return -1;
        }
        if (check_name(INITRD_FOR, value, data->owner, err, errlen) != 0)
            return -1;
        set_omit(line, start, (size_t)(it.pos - line), data);
    }
    if (rc < 0 && found) {
        fmt_snprintf(err, errlen, "bad command line: %s", why);
        return -1;
    }
    return found ? MODARGS_DATA : MODARGS_GUEST;
}
