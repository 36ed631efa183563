/*
 * Fuzzes the command-line parsers: vmx/loader/modargs.c modargs_parse (a guest module's command
 * line, written by whoever built the boot configuration) and modargs_classify (guest or data
 * module, initrd-for=NAME), and kernel/cmdline.c underneath them
 * (cmdline_next, cmdline_get, cmdline_parse_u64). The input is the command line; hv sees it
 * NUL-terminated, so it gets an exactly-sized NUL-terminated heap copy.
 *
 * Invariants: accept or reject; an accepted config obeys every limit of docs/guest-abi.md; a
 * rejection carries a reason, and a small error buffer gets a truncated prefix of the same
 * reason without overflowing (ASan, exactly-sized buffers); a data module has a valid owner name
 * and omits a range inside the line that holds the initrd-for word, and a line modargs_parse
 * accepts is never a data module; cmdline_next yields bounded,
 * NUL-terminated keys and values, terminates, and stays at the end after an error;
 * cmdline_parse_u64 agrees with a reference parser.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "vmx/loader/modargs.h"
#include "tests/fuzz/fuzz_common.h"

#define ERR_MAX       128
#define SMALL_ERR_MOD 17 /* a small error buffer holds 0..16 bytes */
#define HEX_BASE      16u
#define DEC_BASE      10u
#define KIB_SHIFT     10u
#define MIB_SHIFT     20u
#define GIB_SHIFT     30u
#define MODULE_INDEX  3u

static bool name_ok(const char *s)
{
    size_t n = strnlen(s, GUEST_NAME_MAX);
    if (n == 0 || n >= GUEST_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static void check_config(const struct guest_config *cfg)
{
    FUZZ_CHECK(name_ok(cfg->name));
    FUZZ_CHECK(cfg->mem >= GUEST_MEM_MIN && cfg->mem <= GUEST_MEM_MAX);
    FUZZ_CHECK(cfg->mem % GUEST_MEM_ALIGN == 0);
    FUZZ_CHECK(cfg->timeout_s <= GUEST_TIMEOUT_MAX_S);
    FUZZ_CHECK(cfg->vcpus >= 1 && cfg->vcpus <= GUEST_VCPUS_MAX);
    FUZZ_CHECK((cfg->cpus >> MAX_CPUS) == 0); /* cpus= names only hv CPUs 0..MAX_CPUS-1 */
    FUZZ_CHECK(memchr(cfg->cmdline, '\0', sizeof(cfg->cmdline)) != NULL);
    FUZZ_CHECK(memchr(cfg->expect, '\0', sizeof(cfg->expect)) != NULL);
    if (cfg->mode == GUEST_MODE_REAL) {
        FUZZ_CHECK(cfg->has_entry && cfg->has_load);
        FUZZ_CHECK(cfg->entry < GUEST_REAL_MODE_LIMIT && cfg->load < GUEST_REAL_MODE_LIMIT);
    } else {
        FUZZ_CHECK(cfg->mode == GUEST_MODE_AUTO);
        FUZZ_CHECK(!cfg->has_entry && !cfg->has_load && cfg->entry == 0 && cfg->load == 0);
    }
}

static void check_modargs(const char *s, size_t len)
{
    struct guest_config cfg, again;
    char *err = malloc(ERR_MAX);
    size_t small_len = len % SMALL_ERR_MOD;
    char *small = malloc(small_len ? small_len : 1);
    FUZZ_CHECK(err && small);
    memset(err, 'x', ERR_MAX);
    int rc = modargs_parse(s, MODULE_INDEX, &cfg, err, ERR_MAX);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err, '\0', ERR_MAX) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0');
        check_config(&cfg);
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    /* Same verdict with a tiny error buffer, holding a prefix of the same reason. */
    int rc2 = modargs_parse(s, MODULE_INDEX, &again, small_len ? small : NULL, small_len);
    FUZZ_CHECK(rc2 == rc);
    if (small_len) {
        size_t n = strnlen(small, small_len);
        FUZZ_CHECK(n < small_len);
        FUZZ_CHECK(strncmp(small, err, n) == 0);
    }
    if (rc == 0)
        FUZZ_CHECK(memcmp(&cfg, &again, sizeof(cfg)) == 0);
    free(small);
    free(err);
}

/* modargs_classify: a verdict, a valid owner and an omitted range that holds the word. */
static void check_classify(const char *s, size_t len)
{
    struct modargs_data d;
    struct guest_config cfg;
    char err[ERR_MAX];
    int kind = modargs_classify(s, &d, err, sizeof(err));
    FUZZ_CHECK(kind == MODARGS_GUEST || kind == MODARGS_DATA || kind == -1);
    FUZZ_CHECK((kind == -1) == (err[0] != '\0'));
    if (kind == MODARGS_DATA) {
        FUZZ_CHECK(name_ok(d.owner));
        FUZZ_CHECK(d.omit_at <= len && d.omit_len <= len - d.omit_at && d.omit_len > 0);
        const char *word = s + d.omit_at;
        while (*word == ' ' || *word == '\t')
            word++;
        FUZZ_CHECK(strncmp(word, "initrd-for=", 11) == 0 ||
                   strncmp(word, "\"initrd-for=", 12) == 0);
    }
    if (modargs_parse(s, MODULE_INDEX, &cfg, err, sizeof(err)) == 0)
        FUZZ_CHECK(kind == MODARGS_GUEST);
}

/* Every word is bounded and terminated; the loop ends within len + 1 calls (a word consumes at
   least one character); after -1 the iterator stays at the end. */
static void check_tokenizer(const char *s, size_t len)
{
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX], value[CMDLINE_VALUE_MAX];
    bool has_value;
    const char *err = NULL;
    int rc;
    size_t words = 0;
    cmdline_iter_init(&it, s);
    while ((rc = cmdline_next(&it, key, value, &has_value, &err)) == 1) {
        words++;
        FUZZ_CHECK(words <= len);
        size_t klen = strnlen(key, CMDLINE_KEY_MAX);
        FUZZ_CHECK(klen > 0 && klen < CMDLINE_KEY_MAX);
        FUZZ_CHECK(strnlen(value, CMDLINE_VALUE_MAX) < CMDLINE_VALUE_MAX);
        FUZZ_CHECK(has_value || value[0] == '\0');
        FUZZ_CHECK(it.pos >= s && it.pos <= s + len);
        /* The value as an integer, both ways (exercises the number parser on real words). */
        uint64_t v;
        (void)cmdline_parse_u64(value, true, &v);
        /* cmdline_get finds the last occurrence of this key (or fails on malformed input). */
        char got[CMDLINE_VALUE_MAX];
        (void)cmdline_get(s, key, got, sizeof(got));
    }
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == -1)
        FUZZ_CHECK(err != NULL && err[0] != '\0');
    FUZZ_CHECK(it.pos == s + strlen(s));
    FUZZ_CHECK(cmdline_next(&it, key, value, NULL, NULL) == 0);
}

/* Reference for cmdline_parse_u64: [0x]digits[K|M|G], no overflow. Returns 0 or -1. */
static int reference_u64(const char *s, bool allow_suffix, uint64_t *out)
{
    unsigned base = DEC_BASE;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = HEX_BASE;
        s += 2;
    }
    unsigned __int128 v = 0;
    size_t digits = 0;
    for (;; s++, digits++) {
        unsigned d;
        char c = *s;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a') + DEC_BASE;
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A') + DEC_BASE;
        else
            break;
        if (d >= base)
            break;
        v = v * base + d;
        if (v > UINT64_MAX)
            return -1;
    }
    if (digits == 0)
        return -1;
    if (allow_suffix && *s) {
        unsigned shift = 0;
        switch (*s++) {
        case 'k':
        case 'K':
            shift = KIB_SHIFT;
            break;
        case 'm':
        case 'M':
            shift = MIB_SHIFT;
            break;
        case 'g':
        case 'G':
            shift = GIB_SHIFT;
            break;
        default:
            return -1;
        }
        v <<= shift;
        if (v > UINT64_MAX)
            return -1;
    }
    if (*s)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static void check_parse_u64(const char *s)
{
    for (int suffix = 0; suffix <= 1; suffix++) {
        uint64_t got = 0xdeadbeef, want = 0;
        int rc = cmdline_parse_u64(s, suffix, &got);
        int ref = reference_u64(s, suffix, &want);
        FUZZ_CHECK(rc == ref);
        FUZZ_CHECK(rc != 0 || got == want);
        FUZZ_CHECK(rc == 0 || got == 0xdeadbeef); /* *out untouched on failure */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strdup(data, size);
    size_t len = strlen(s); /* hv stops at the first NUL like any C string */
    check_modargs(s, len);
    check_classify(s, len);
    check_tokenizer(s, len);
    check_parse_u64(s);
    free(s);
    return 0;
}
