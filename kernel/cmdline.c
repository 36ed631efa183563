/* Command-line tokenizer (see cmdline.h) and the log-level name parser. */
#include "kernel/cmdline.h"
#include "kernel/log.h"
#include "kernel/lib/string.h"

#define HEX_BASE      16u
#define DECIMAL_BASE  10u
#define DIGIT_INVALID 0xffu
#define KIB_SHIFT     10u
#define MIB_SHIFT     20u
#define GIB_SHIFT     30u

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool ends_word(char c)
{
    return c == '\0' || is_blank(c);
}

/* Scans a key at *pp (up to '=' or the end of the word) into key[CMDLINE_KEY_MAX]. */
static int scan_key(const char **pp, char *key, const char **err)
{
    const char *p = *pp;
    size_t n = 0;
    /* False positive: *p is always set (the analyzer loses the terminating NUL that
       unquote_grub_word writes into its word buffer).
       NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
    for (; !ends_word(*p) && *p != '='; p++) {
        if (*p == '"') {
            *err = "quote in key";
            return -1;
        }
        if (n + 1 >= CMDLINE_KEY_MAX) {
            *err = "key too long";
            return -1;
        }
        key[n++] = *p;
    }
    key[n] = '\0';
    if (n == 0) {
        *err = "empty key";
        return -1;
    }
    *pp = p;
    return 0;
}

/* Scans a value at *pp (just past '='), plain or double-quoted, into value[CMDLINE_VALUE_MAX]. */
static int scan_value(const char **pp, char *value, const char **err)
{
    const char *p = *pp;
    bool quoted = *p == '"';
    size_t n = 0;
    if (quoted)
        p++;
    for (; quoted ? *p != '"' : !ends_word(*p); p++) {
        if (*p == '\0') {
            *err = "unterminated quote";
            return -1;
        }
        if (!quoted && *p == '"') {
            *err = "quote inside an unquoted value";
            return -1;
        }
        if (*p == '\\' && p[1] != '\0')
            p++; /* GRUB escapes \ ' and " with a backslash */
        if (n + 1 >= CMDLINE_VALUE_MAX) {
            *err = "value too long";
            return -1;
        }
        value[n++] = *p;
    }
    value[n] = '\0';
    if (quoted) {
        p++; /* past the closing quote */
        if (!ends_word(*p)) {
            *err = "text after closing quote";
            return -1;
        }
    }
    *pp = p;
    return 0;
}

void cmdline_iter_init(struct cmdline_iter *it, const char *s)
{
    it->pos = s ? s : "";
}

/* GRUB rebuilds every command line from its words: a word holding a space arrives wrapped in
   double quotes ("cmdline=a b"), and \ ' " arrive escaped with a backslash. Unwraps such a
   word into out. */
static int unquote_grub_word(const char **pp, char *out, size_t size, const char **err)
{
    const char *p = *pp + 1;
    size_t n = 0;
    for (; *p != '"'; p++) {
        if (*p == '\0') {
            *err = "unterminated quote";
            return -1;
        }
        if (*p == '\\' && p[1] != '\0')
            p++;
        if (n + 1 >= size) {
            *err = "value too long";
            return -1;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    p++;
    if (!ends_word(*p)) {
        *err = "text after closing quote";
        return -1;
    }
    *pp = p;
    return 0;
}

static int scan_grub_quoted_word(const char **pp, char *key, char *value, bool *has_value,
                                 const char **err)
{
    char word[CMDLINE_KEY_MAX + CMDLINE_VALUE_MAX];
    if (unquote_grub_word(pp, word, sizeof(word), err) != 0)
        return -1;
    const char *w = word;
    if (scan_key(&w, key, err) != 0)
        return -1;
    if (*w != '=' && *w != '\0') {
        *err = "space in key";
        return -1;
    }
    *has_value = *w == '=';
    if (!*has_value)
        return 0;
    size_t len = strlen(w + 1);
    if (len + 1 > CMDLINE_VALUE_MAX) {
        *err = "value too long";
        return -1;
    }
    memcpy(value, w + 1, len + 1);
    return 0;
}

static int scan_word(const char **pp, char *key, char *value, bool *has_value, const char **err)
{
    if (**pp == '"')
        return scan_grub_quoted_word(pp, key, value, has_value, err);
    if (scan_key(pp, key, err) != 0)
        return -1;
    *has_value = **pp == '=';
    if (!*has_value)
        return 0;
    (*pp)++;
    return scan_value(pp, value, err);
}

int cmdline_next(struct cmdline_iter *it, char key[CMDLINE_KEY_MAX], char value[CMDLINE_VALUE_MAX],
                 bool *has_value, const char **err)
{
    const char *ignored_err;
    bool ignored_has_value;
    if (!err)
        err = &ignored_err;
    if (!has_value)
        has_value = &ignored_has_value;
    key[0] = '\0';
    value[0] = '\0';
    *has_value = false;
    const char *p = it->pos;
    while (is_blank(*p))
        p++;
    if (*p == '\0') {
        it->pos = p;
        return 0;
    }
    if (scan_word(&p, key, value, has_value, err) != 0) {
        /* Park at the end so a caller that keeps going cannot loop forever. */
        it->pos = p + strlen(p);
        return -1;
    }
    it->pos = p;
    return 1;
}

bool cmdline_get(const char *s, const char *key, char *value, size_t size)
{
    struct cmdline_iter it;
    char k[CMDLINE_KEY_MAX], v[CMDLINE_VALUE_MAX], found[CMDLINE_VALUE_MAX];
    bool have = false;
    int rc;
    cmdline_iter_init(&it, s);
    while ((rc = cmdline_next(&it, k, v, NULL, NULL)) == 1) {
        if (strcmp(k, key) == 0) {
            memcpy(found, v, strlen(v) + 1);
            have = true;
        }
    }
    if (rc < 0 || !have)
        return false;
    if (!value)
        return true;
    size_t len = strlen(found);
    if (len >= size)
        return false;
    memcpy(value, found, len + 1);
    return true;
}

static bool is_known(const char *key, const char *const *known, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, known[i]) == 0)
            return true;
    return false;
}

int cmdline_next_unknown(struct cmdline_iter *it, const char *const *known, size_t n,
                         char key[CMDLINE_KEY_MAX], const char **err)
{
    char value[CMDLINE_VALUE_MAX];
    bool has_value;
    int rc;
    while ((rc = cmdline_next(it, key, value, &has_value, err)) == 1) {
        bool path = !has_value && key[0] == '/';
        if (!path && !is_known(key, known, n))
            return 1;
    }
    return rc;
}

static unsigned digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a') + DECIMAL_BASE;
    if (c >= 'A' && c <= 'F')
        return (unsigned)(c - 'A') + DECIMAL_BASE;
    return DIGIT_INVALID;
}

/* Returns the binary shift of a K/M/G suffix, or 0 if c is not one. */
static unsigned suffix_shift(char c)
{
    switch (c) {
    case 'k':
    case 'K':
        return KIB_SHIFT;
    case 'm':
    case 'M':
        return MIB_SHIFT;
    case 'g':
    case 'G':
        return GIB_SHIFT;
    default:
        return 0;
    }
}

int cmdline_parse_u64(const char *s, bool allow_suffix, uint64_t *out)
{
    if (!s || !out)
        return -1;
    unsigned base = DECIMAL_BASE;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = HEX_BASE;
        s += 2;
    }
    uint64_t v = 0;
    const char *digits = s;
    for (unsigned d; (d = digit_value(*s)) < base; s++) {
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    if (s == digits)
        return -1;
    if (allow_suffix && *s != '\0') {
        unsigned shift = suffix_shift(*s++);
        if (shift == 0 || v > (UINT64_MAX >> shift))
            return -1;
        v <<= shift;
    }
    if (*s != '\0')
        return -1;
    *out = v;
    return 0;
}

int log_level_parse(const char *name, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level level;
    } levels[] = {
        {"error", LOG_ERROR},
        {"warn", LOG_WARN},
        {"info", LOG_INFO},
        {"debug", LOG_DEBUG},
    };
    if (!name || !out)
        return -1;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (strcmp(name, levels[i].name) == 0) {
            *out = levels[i].level;
            return 0;
        }
    }
    return -1;
}
