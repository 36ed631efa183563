/* Unit tests for kernel/cmdline.c: the command-line tokenizer and log-level names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "kernel/cmdline.h"
#include "kernel/log.h"
#include "tests/unit/fake.h"

struct word {
    const char *key;
    const char *value;
    bool has_value;
};

/* Asserts that s tokenizes into exactly the n words given, then ends (twice, to show the
   end is sticky). */
static void assert_words(const char *s, const struct word *w, size_t n)
{
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX], value[CMDLINE_VALUE_MAX];
    bool has_value;
    const char *err = NULL;
    cmdline_iter_init(&it, s);
    for (size_t i = 0; i < n; i++) {
        int rc = cmdline_next(&it, key, value, &has_value, &err);
        if (rc != 1)
            fail_msg("word %zu of \"%s\": rc %d (%s)", i, s, rc, err ? err : "");
        assert_string_equal(key, w[i].key);
        assert_string_equal(value, w[i].value);
        assert_int_equal(has_value, w[i].has_value);
    }
    assert_int_equal(cmdline_next(&it, key, value, &has_value, &err), 0);
    assert_int_equal(cmdline_next(&it, key, value, &has_value, &err), 0);
    assert_string_equal(key, "");
    assert_string_equal(value, "");
    assert_false(has_value);
}

/* Asserts that the first malformed word of s fails with err == reason after `good` words. */
static void assert_malformed(const char *s, size_t good, const char *reason)
{
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX], value[CMDLINE_VALUE_MAX];
    bool has_value;
    const char *err = NULL;
    cmdline_iter_init(&it, s);
    for (size_t i = 0; i < good; i++)
        assert_int_equal(cmdline_next(&it, key, value, &has_value, &err), 1);
    assert_int_equal(cmdline_next(&it, key, value, &has_value, &err), -1);
    assert_non_null(err);
    assert_string_equal(err, reason);
    /* the iterator is parked at the end: no endless loop for a careless caller */
    assert_int_equal(cmdline_next(&it, key, value, &has_value, &err), 0);
}

#define WORDS(s, ...)                                                                              \
    do {                                                                                           \
        static const struct word w_[] = {__VA_ARGS__};                                             \
        assert_words(s, w_, sizeof(w_) / sizeof(w_[0]));                                           \
    } while (0)

static void test_plain_words(void **state)
{
    (void)state;
    WORDS("loglevel=debug console=com1 serial=0x3f8", {"loglevel", "debug", true},
          {"console", "com1", true}, {"serial", "0x3f8", true});
    WORDS("a=1", {"a", "1", true});
}

static void test_separators(void **state)
{
    (void)state;
    WORDS("  \t a=1\t\tb=2   ", {"a", "1", true}, {"b", "2", true});
    WORDS("a=x=y", {"a", "x=y", true}); /* only the first '=' separates */
}

static void test_bare_words_and_empty_values(void **state)
{
    (void)state;
    WORDS("quiet nosmp=", {"quiet", "", false}, {"nosmp", "", true});
    WORDS("x", {"x", "", false});
    WORDS("a= b", {"a", "", true}, {"b", "", false});
}

static void test_quoted_values(void **state)
{
    (void)state;
    WORDS("cmdline=\"console=ttyS0 quiet\" next=1", {"cmdline", "console=ttyS0 quiet", true},
          {"next", "1", true});
    WORDS("e=\"\"", {"e", "", true});
    WORDS("t=\"a\tb  c\"", {"t", "a\tb  c", true});
    WORDS("q=\"x\"\ty", {"q", "x", true}, {"y", "", false});
}

/* GRUB rebuilds command lines: a word with a space arrives as "key=a b", and \ ' " arrive
   backslash-escaped, quoted or not. */
static void test_grub_quoted_words(void **state)
{
    (void)state;
    char value[64];
    const char *s = "name=x \"cmdline=console=ttyS0 quiet\" q=it\\'s \"w=a \\\"b\\\"\"";
    assert_true(cmdline_get(s, "cmdline", value, sizeof(value)));
    assert_string_equal(value, "console=ttyS0 quiet");
    assert_true(cmdline_get(s, "q", value, sizeof(value)));
    assert_string_equal(value, "it's");
    assert_true(cmdline_get(s, "w", value, sizeof(value)));
    assert_string_equal(value, "a \"b\"");
    assert_true(cmdline_get(s, "name", value, sizeof(value)));
    assert_string_equal(value, "x");
    /* A GRUB-quoted bare word, and malformed forms. */
    assert_true(cmdline_get("\"flag\"", "flag", NULL, 0));
    assert_false(cmdline_get("\"a b=1\"", "a", value, sizeof(value))); /* space in key */
    assert_false(cmdline_get("\"k=v\"x", "k", value, sizeof(value)));  /* text after quote */
    assert_false(cmdline_get("\"k=v", "k", value, sizeof(value)));     /* unterminated */
}

static void test_empty_input(void **state)
{
    (void)state;
    assert_words("", NULL, 0);
    assert_words(" \t ", NULL, 0);
    assert_words(NULL, NULL, 0);
}

static void test_optional_outputs(void **state)
{
    (void)state;
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX], value[CMDLINE_VALUE_MAX];
    cmdline_iter_init(&it, "k=v =bad");
    assert_int_equal(cmdline_next(&it, key, value, NULL, NULL), 1);
    assert_string_equal(value, "v");
    assert_int_equal(cmdline_next(&it, key, value, NULL, NULL), -1);
}

static void test_errors(void **state)
{
    (void)state;
    assert_malformed("a=1 =x", 1, "empty key");
    assert_malformed("=", 0, "empty key");
    assert_malformed("cmdline=\"console=ttyS0", 0, "unterminated quote");
    assert_malformed("a=\"", 0, "unterminated quote");
    assert_malformed("a=\"x\"y", 0, "text after closing quote");
    assert_malformed("a=x\"y\"", 0, "quote inside an unquoted value");
    assert_malformed("a\"b\"=1", 0, "quote in key");
    assert_malformed("\"a\"=1", 0, "text after closing quote");
}

static void test_length_limits(void **state)
{
    (void)state;
    char s[CMDLINE_VALUE_MAX + 64];
    char longest_key[CMDLINE_KEY_MAX];
    memset(longest_key, 'k', CMDLINE_KEY_MAX - 1);
    longest_key[CMDLINE_KEY_MAX - 1] = '\0';

    /* 31-character key: fits */
    struct word w = {longest_key, "", false};
    assert_words(longest_key, &w, 1);
    /* 32-character key: too long */
    memset(s, 'k', CMDLINE_KEY_MAX);
    strcpy(s + CMDLINE_KEY_MAX, "=1");
    assert_malformed(s, 0, "key too long");

    /* 255-character value: fits, plain and quoted */
    char longest_value[CMDLINE_VALUE_MAX];
    memset(longest_value, 'v', CMDLINE_VALUE_MAX - 1);
    longest_value[CMDLINE_VALUE_MAX - 1] = '\0';
    struct word wv = {"k", longest_value, true};
    strcpy(s, "k=");
    strcat(s, longest_value);
    assert_words(s, &wv, 1);
    strcpy(s, "k=\"");
    strcat(s, longest_value);
    strcat(s, "\"");
    assert_words(s, &wv, 1);
    /* 256 characters: too long, plain and quoted */
    strcpy(s, "k=v");
    strcat(s, longest_value);
    assert_malformed(s, 0, "value too long");
    strcpy(s, "k=\"v");
    strcat(s, longest_value);
    strcat(s, "\"");
    assert_malformed(s, 0, "value too long");
}

static void test_get_last_wins(void **state)
{
    (void)state;
    char v[CMDLINE_VALUE_MAX];
    const char *s = "loglevel=info a=1 quiet loglevel=debug mod=\"x y\"";
    assert_true(cmdline_get(s, "loglevel", v, sizeof(v)));
    assert_string_equal(v, "debug");
    assert_true(cmdline_get(s, "a", v, sizeof(v)));
    assert_string_equal(v, "1");
    assert_true(cmdline_get(s, "quiet", v, sizeof(v)));
    assert_string_equal(v, "");
    assert_true(cmdline_get(s, "mod", v, sizeof(v)));
    assert_string_equal(v, "x y");
    assert_true(cmdline_get(s, "quiet", NULL, 0));
    /* last wins even when the later occurrence is bare */
    assert_true(cmdline_get("k=1 k", "k", v, sizeof(v)));
    assert_string_equal(v, "");
}

static void test_get_absent_malformed_and_small_buffer(void **state)
{
    (void)state;
    char v[4] = "old";
    assert_false(cmdline_get("a=1 b=2", "c", v, sizeof(v)));
    assert_false(cmdline_get("a=1 b=2", "", v, sizeof(v)));
    assert_false(cmdline_get("", "a", v, sizeof(v)));
    assert_false(cmdline_get(NULL, "a", v, sizeof(v)));
    assert_false(cmdline_get("a=1 loglev=debug", "loglevel", v, sizeof(v))); /* no prefix match */
    assert_false(cmdline_get("a=1 b=\"2", "a", v, sizeof(v)));               /* malformed */
    assert_false(cmdline_get("a=1234", "a", v, sizeof(v)));                  /* needs 5 bytes */
    assert_false(cmdline_get("a=1", "a", v, 0));
    assert_string_equal(v, "old"); /* untouched on failure */
    assert_true(cmdline_get("a=123", "a", v, sizeof(v)));
    assert_string_equal(v, "123");
}

static void assert_u64(const char *s, bool suffix, uint64_t expect)
{
    uint64_t v = 0xdeadbeef;
    if (cmdline_parse_u64(s, suffix, &v) != 0)
        fail_msg("\"%s\" did not parse", s);
    assert_int_equal(v, expect);
}

static void assert_u64_bad(const char *s, bool suffix)
{
    uint64_t v = 0xdeadbeef;
    if (cmdline_parse_u64(s, suffix, &v) != -1)
        fail_msg("\"%s\" parsed (as 0x%llx)", s, (unsigned long long)v);
    assert_int_equal(v, 0xdeadbeef);
}

static void test_parse_u64(void **state)
{
    (void)state;
    assert_u64("0", false, 0);
    assert_u64("42", false, 42);
    assert_u64("007", false, 7);
    assert_u64("0x0", false, 0);
    assert_u64("0x3f8", false, 0x3f8);
    assert_u64("0X3F8", false, 0x3f8);
    assert_u64("0xDeadBeef", false, 0xdeadbeef);
    assert_u64("18446744073709551615", false, UINT64_MAX);
    assert_u64("0xffffffffffffffff", false, UINT64_MAX);
}

static void test_parse_u64_suffixes(void **state)
{
    (void)state;
    assert_u64("4K", true, 4096);
    assert_u64("4k", true, 4096);
    assert_u64("16M", true, 16ull << 20);
    assert_u64("16m", true, 16ull << 20);
    assert_u64("2G", true, 2ull << 30);
    assert_u64("2g", true, 2ull << 30);
    assert_u64("0x10K", true, 0x10ull << 10);
    assert_u64("0K", true, 0);
    assert_u64("12", true, 12);
    assert_u64("17179869183G", true, 17179869183ull << 30); /* (2^34 - 1) G: the largest */
    assert_u64_bad("17179869184G", true);                   /* 2^64: overflow */
    assert_u64_bad("0x40000000000000K", true);              /* 2^64: overflow */
    assert_u64_bad("4K", false);
    assert_u64_bad("4T", true);
    assert_u64_bad("4KB", true);
    assert_u64_bad("K", true);
}

static void test_parse_u64_junk_and_overflow(void **state)
{
    (void)state;
    assert_u64_bad("", false);
    assert_u64_bad(NULL, false);
    assert_u64_bad("0x", false);
    assert_u64_bad("0x", true);
    assert_u64_bad("x10", false);
    assert_u64_bad(" 1", false);
    assert_u64_bad("1 ", false);
    assert_u64_bad("-1", false);
    assert_u64_bad("+1", false);
    assert_u64_bad("12a", false);
    assert_u64_bad("0x1g", false);
    assert_u64_bad("18446744073709551616", false); /* 2^64 */
    assert_u64_bad("99999999999999999999", false); /* > 2^64, same digit count */
    assert_u64_bad("0x10000000000000000", false);  /* 2^64 */
    assert_u64("0x0000000000000000001", false, 1); /* leading zeros never overflow */
    uint64_t v;
    assert_int_equal(cmdline_parse_u64("1", false, NULL), -1);
    assert_int_equal(cmdline_parse_u64("1", false, &v), 0);
}

static void test_log_level_parse(void **state)
{
    (void)state;
    enum log_level l = LOG_INFO;
    assert_int_equal(log_level_parse("error", &l), 0);
    assert_int_equal(l, LOG_ERROR);
    assert_int_equal(log_level_parse("warn", &l), 0);
    assert_int_equal(l, LOG_WARN);
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_DEBUG);
    assert_int_equal(log_level_parse("info", &l), 0);
    assert_int_equal(l, LOG_INFO);
    l = LOG_WARN;
    assert_int_equal(log_level_parse("INFO", &l), -1);
    assert_int_equal(log_level_parse("warning", &l), -1);
    assert_int_equal(log_level_parse("", &l), -1);
    assert_int_equal(log_level_parse("inf", &l), -1);
    assert_int_equal(log_level_parse(NULL, &l), -1);
    assert_int_equal(l, LOG_WARN); /* untouched on failure */
    assert_int_equal(log_level_parse("info", NULL), -1);
}

/* Collects the unknown keys of s into out (space-separated) and returns the iterator's final
   result (0 at the end, -1 malformed). */
static int unknown_keys(const char *s, char *out, size_t size, const char **err)
{
    static const char *const known[] = {"loglevel", "bench.native"};
    struct cmdline_iter it;
    char key[CMDLINE_KEY_MAX];
    int rc;
    out[0] = '\0';
    cmdline_iter_init(&it, s);
    while ((rc = cmdline_next_unknown(&it, known, 2, key, err)) == 1) {
        if (out[0])
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, key, size - strlen(out) - 1);
    }
    return rc;
}

/* Unknown keys of hv's command line are found one by one; known keys, values and kernel
   paths are not reported. */
static void test_next_unknown(void **state)
{
    (void)state;
    char out[256];
    const char *err = NULL;
    assert_int_equal(unknown_keys("loglevel=debug bench.native", out, sizeof(out), &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(unknown_keys("", out, sizeof(out), &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(unknown_keys(NULL, out, sizeof(out), &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(unknown_keys("/boot/hv.elf loglevel=info", out, sizeof(out), &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(unknown_keys("foo=bar loglevel=info debug x=/y", out, sizeof(out), &err), 0);
    assert_string_equal(out, "foo debug x");
    /* a key is compared whole: prefixes and longer names are unknown */
    assert_int_equal(unknown_keys("log=1 loglevelx=2 bench", out, sizeof(out), &err), 0);
    assert_string_equal(out, "log loglevelx bench");
    /* malformed input ends the iteration with -1 after the keys before it */
    assert_int_equal(unknown_keys("a=1 loglevel=\"debug", out, sizeof(out), &err), -1);
    assert_string_equal(out, "a");
    assert_string_equal(err, "unterminated quote");
    assert_int_equal(unknown_keys("a=1 =x", out, sizeof(out), NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_words),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_bare_words_and_empty_values),
        cmocka_unit_test(test_quoted_values),
        cmocka_unit_test(test_grub_quoted_words),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_optional_outputs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_get_last_wins),
        cmocka_unit_test(test_get_absent_malformed_and_small_buffer),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_parse_u64_suffixes),
        cmocka_unit_test(test_parse_u64_junk_and_overflow),
        cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_next_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
