/* Unit tests for vmx/loader/modargs.c: the guest module command line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "vmx/loader/modargs.h"
#include "tests/unit/fake.h"

#define ERR_MAX 128

static struct guest_config parse_ok(const char *s, unsigned index)
{
    struct guest_config cfg;
    char err[ERR_MAX] = "untouched";
    if (modargs_parse(s, index, &cfg, err, sizeof(err)) != 0)
        fail_msg("\"%s\" rejected: %s", s, err);
    assert_string_equal(err, "");
    return cfg;
}

static void parse_err(const char *s, const char *reason)
{
    struct guest_config cfg;
    char err[ERR_MAX] = "";
    if (modargs_parse(s, 0, &cfg, err, sizeof(err)) != -1)
        fail_msg("\"%s\" accepted", s);
    if (!strstr(err, reason))
        fail_msg("\"%s\": error \"%s\" lacks \"%s\"", s, err, reason);
}

static void assert_defaults(const struct guest_config *cfg, const char *name)
{
    assert_string_equal(cfg->name, name);
    assert_int_equal(cfg->mem, 16ull << 20);
    assert_int_equal(cfg->timeout_s, 0);
    assert_string_equal(cfg->cmdline, "");
    assert_int_equal(cfg->mode, GUEST_MODE_AUTO);
    assert_false(cfg->has_entry);
    assert_false(cfg->has_load);
    assert_int_equal(cfg->entry, 0);
    assert_int_equal(cfg->load, 0);
    assert_int_equal(cfg->vcpus, 1);
    assert_int_equal(cfg->cpus, 0); /* not given: any CPU */
    assert_string_equal(cfg->expect, "");
}

static void test_defaults(void **state)
{
    (void)state;
    struct guest_config cfg = parse_ok("", 0);
    assert_defaults(&cfg, "guest0");
    cfg = parse_ok(NULL, 7);
    assert_defaults(&cfg, "guest7");
    cfg = parse_ok("  \t ", 4294967295u);
    assert_defaults(&cfg, "guest4294967295");
}

static void test_module_path_skipped(void **state)
{
    (void)state;
    struct guest_config cfg = parse_ok("/boot/guests/0-hello-with-a-very-long-file-name.elf", 3);
    assert_defaults(&cfg, "guest3");
    cfg = parse_ok("  /boot/guests/0-hello.elf name=x mem=2M", 0);
    assert_string_equal(cfg.name, "x");
    assert_int_equal(cfg.mem, 2ull << 20);
    /* Only the first word, and only without '=': otherwise it is an (unknown) key. */
    parse_err("name=x /boot/guests/a.elf", "unknown key '/boot/guests/a.elf'");
    parse_err("/boot=x", "unknown key '/boot'");
    parse_err("boot/guest.elf", "unknown key 'boot/guest.elf'");
}

static void test_name(void **state)
{
    (void)state;
    struct guest_config cfg = parse_ok("name=Az09._-", 0);
    assert_string_equal(cfg.name, "Az09._-");
    cfg = parse_ok("name=abcdefghijklmnopqrstuvwxyz01234", 0); /* 31 characters: max */
    assert_string_equal(cfg.name, "abcdefghijklmnopqrstuvwxyz01234");
    parse_err("name=abcdefghijklmnopqrstuvwxyz012345", "longer than 31 characters");
    parse_err("name=", "bad value for name: ''");
    parse_err("name=a/b", "name 'a/b' has a character outside [A-Za-z0-9._-]");
    parse_err("name=\"a b\"", "has a character outside");
    parse_err("name", "key 'name' needs a value");
}

static void test_mem(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("mem=1M", 0).mem, 1ull << 20);
    assert_int_equal(parse_ok("mem=1024K", 0).mem, 1ull << 20);
    assert_int_equal(parse_ok("mem=64G", 0).mem, 64ull << 30);
    assert_int_equal(parse_ok("mem=3g", 0).mem, 3ull << 30);
    assert_int_equal(parse_ok("mem=1052672", 0).mem, 1052672);     /* 1 MiB + 4 KiB, no suffix */
    assert_int_equal(parse_ok("mem=0x200000", 0).mem, 2ull << 20); /* the tokenizer's hex */
    parse_err("mem=512K", "mem 512K below the 1M minimum");
    parse_err("mem=0", "mem 0 below the 1M minimum");
    parse_err("mem=65G", "mem 65G above the 64G maximum");
    parse_err("mem=65537M", "mem 65537M above the 64G maximum");
    parse_err("mem=1048577", "mem 1048577 is not a multiple of 4K");
    parse_err("mem=1026K", "mem 1026K is not a multiple of 4K");
    parse_err("mem=x", "bad value for mem: 'x'");
    parse_err("mem=16T", "bad value for mem: '16T'");
    parse_err("mem=16MB", "bad value for mem: '16MB'");
    parse_err("mem=", "bad value for mem: ''");
    parse_err("mem=99999999999999999999", "bad value for mem");
    parse_err("mem=17179869184G", "bad value for mem"); /* overflows when scaled */
}

static void test_timeout(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("timeout=1", 0).timeout_s, 1);
    assert_int_equal(parse_ok("timeout=86400", 0).timeout_s, 86400);
    assert_int_equal(parse_ok("timeout=030", 0).timeout_s, 30);
    parse_err("timeout=0", "timeout 0 out of range 1..86400");
    parse_err("timeout=86401", "timeout 86401 out of range 1..86400");
    parse_err("timeout=0x10", "bad value for timeout: '0x10'");
    parse_err("timeout=10s", "bad value for timeout: '10s'");
    parse_err("timeout=1K", "bad value for timeout: '1K'");
    parse_err("timeout=-1", "bad value for timeout");
    parse_err("timeout=", "bad value for timeout: ''");
    parse_err("timeout=99999999999999999999999", "bad value for timeout");
}

static void test_cmdline(void **state)
{
    (void)state;
    struct guest_config cfg = parse_ok("cmdline=\"console=ttyS0 quiet  x=\" name=q", 0);
    assert_string_equal(cfg.cmdline, "console=ttyS0 quiet  x=");
    assert_string_equal(cfg.name, "q");
    assert_string_equal(parse_ok("cmdline=single", 0).cmdline, "single");
    assert_string_equal(parse_ok("cmdline=\"\"", 0).cmdline, "");
    /* Up to 2047 characters: what Linux guests take (hv-ABI guests are held to 255 when their
       VM is built, vmx/vm/vm.c). */
    static char long_line[GUEST_CMDLINE_MAX + 16];
    strcpy(long_line, "cmdline=\"");
    size_t n = strlen(long_line);
    memset(long_line + n, 'c', GUEST_CMDLINE_MAX - 1);
    strcpy(long_line + n + GUEST_CMDLINE_MAX - 1, "\"");
    cfg = parse_ok(long_line, 0);
    assert_int_equal(strlen(cfg.cmdline), GUEST_CMDLINE_MAX - 1);
    assert_int_equal(GUEST_CMDLINE_MAX - 1, 2047);
    long_line[n + GUEST_CMDLINE_MAX - 1] = 'c';
    strcpy(long_line + n + GUEST_CMDLINE_MAX, "\"");
    parse_err(long_line, "bad command line: value too long");
    parse_err("cmdline=\"unterminated", "bad command line: unterminated quote");
}

static void test_real_mode(void **state)
{
    (void)state;
    struct guest_config cfg = parse_ok("mode=real entry=0x7c00 load=0x7C00", 0);
    assert_int_equal(cfg.mode, GUEST_MODE_REAL);
    assert_true(cfg.has_entry);
    assert_true(cfg.has_load);
    assert_int_equal(cfg.entry, 0x7C00);
    assert_int_equal(cfg.load, 0x7C00);
    cfg = parse_ok("load=4096 entry=0xFFFFF mode=real", 0); /* any order; decimal ok */
    assert_int_equal(cfg.load, 4096);
    assert_int_equal(cfg.entry, 0xFFFFF);
    parse_err("mode=real entry=0x7c00", "mode=real needs entry= and load=");
    parse_err("mode=real load=0x7c00", "mode=real needs entry= and load=");
    parse_err("mode=real", "mode=real needs entry= and load=");
    parse_err("entry=0x7c00", "entry= and load= need mode=real");
    parse_err("load=0x7c00", "entry= and load= need mode=real");
    parse_err("mode=real entry=0x100000 load=0", "entry 0x100000 not below 1M (real mode)");
    parse_err("mode=real entry=0 load=0x100000", "load 0x100000 not below 1M (real mode)");
    parse_err("mode=real entry=7c00 load=0", "bad value for entry: '7c00'");
    parse_err("mode=real entry=0 load=1M", "bad value for load: '1M'");
    parse_err("mode=protected", "bad value for mode: 'protected' (only 'real')");
    parse_err("mode=", "bad value for mode: ''");
}

static void test_console_focus(void **state)
{
    (void)state;
    assert_false(parse_ok("name=a", 0).console_focus);
    assert_true(parse_ok("name=a console=focus", 0).console_focus);
    parse_err("console=yes", "bad value for console: 'yes' (only 'focus')");
    parse_err("console=focus console=focus", "duplicate key 'console'");
}

static void test_vcpus_and_expect(void **state)
{
    (void)state;
    struct guest_config cfg = parse_ok("vcpus=8 expect=\"exit(0) twice\"", 0);
    assert_int_equal(cfg.vcpus, 8);
    assert_string_equal(cfg.expect, "exit(0) twice");
    assert_int_equal(parse_ok("vcpus=1", 0).vcpus, 1);
    parse_err("vcpus=0", "vcpus 0 out of range 1..8");
    parse_err("vcpus=9", "vcpus 9 out of range 1..8");
    parse_err("vcpus=two", "bad value for vcpus: 'two'");
    parse_err("vcpus=0x2", "bad value for vcpus: '0x2'");
    char expect[80];
    strcpy(expect, "expect=");
    memset(expect + 7, 'e', 63);
    expect[7 + 63] = '\0';
    assert_int_equal(strlen(parse_ok(expect, 0).expect), 63);
    strcat(expect, "e");
    parse_err(expect, "expect longer than 63 characters");
    parse_err("expect=", "bad value for expect: ''");
}

static void test_cpus(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("cpus=1", 0).cpus, 0x2);
    assert_int_equal(parse_ok("cpus=0", 0).cpus, 0x1);
    assert_int_equal(parse_ok("cpus=0-3", 0).cpus, 0xF);
    assert_int_equal(parse_ok("cpus=0,2-3", 0).cpus, 0xD);
    assert_int_equal(parse_ok("cpus=7", 0).cpus, 0x80);
    assert_int_equal(parse_ok("cpus=0-7", 0).cpus, 0xFF);
    assert_int_equal(parse_ok("cpus=5-5", 0).cpus, 0x20);
    assert_int_equal(parse_ok("cpus=3,1", 0).cpus, 0xA);            /* any order */
    assert_int_equal(parse_ok("cpus=0-2,1,2-3", 0).cpus, 0xF);      /* overlaps are fine */
    assert_int_equal(parse_ok("cpus=007", 0).cpus, 0x80);           /* decimal digits */
    assert_int_equal(parse_ok("name=a cpus=\"1,3\"", 0).cpus, 0xA); /* quoted */
}

static void test_cpus_errors(void **state)
{
    (void)state;
    parse_err("cpus=", "cpus=: an empty CPU list");
    parse_err("cpus", "key 'cpus' needs a value");
    parse_err("cpus=3-1", "cpus=3-1: range 3-1 runs backwards");
    parse_err("cpus=9", "cpus=9: CPU 9 beyond hv's 8");
    parse_err("cpus=8", "cpus=8: CPU 8 beyond hv's 8");
    parse_err("cpus=0-8", "cpus=0-8: CPU 8 beyond hv's 8");
    parse_err("cpus=1,99999999999999999999", "bad value for cpus: '1,99999999999999999999'");
    parse_err("cpus=1,", "cpus=1,: an empty item (a stray ',')");
    parse_err("cpus=,1", "cpus=,1: an empty item");
    parse_err("cpus=1,,2", "cpus=1,,2: an empty item");
    parse_err("cpus=x", "bad value for cpus: 'x'");
    parse_err("cpus=1-", "bad value for cpus: '1-'");
    parse_err("cpus=-1", "bad value for cpus: '-1'");
    parse_err("cpus=1-2-3", "bad value for cpus: '1-2-3'");
    parse_err("cpus=0x1", "bad value for cpus: '0x1'");
    parse_err("cpus=1 2", "unknown key '2'");
    parse_err("cpus=1;2", "bad value for cpus: '1;2'");
    parse_err("cpus=+1", "bad value for cpus: '+1'");
    parse_err("cpus=1 cpus=2", "duplicate key 'cpus'");
    parse_err("cpus=00000000000000000000000001", "bad value for cpus"); /* an item too long */
}

static void test_all_keys_together(void **state)
{
    (void)state;
    struct guest_config cfg = parse_ok("/boot/g.bin name=rm mem=2M timeout=5 cmdline=\"a b\" "
                                       "mode=real entry=0x7c00 load=0x7c00 vcpus=2 cpus=0-1 "
                                       "expect=halted",
                                       9);
    assert_string_equal(cfg.name, "rm");
    assert_int_equal(cfg.mem, 2ull << 20);
    assert_int_equal(cfg.timeout_s, 5);
    assert_string_equal(cfg.cmdline, "a b");
    assert_int_equal(cfg.mode, GUEST_MODE_REAL);
    assert_int_equal(cfg.vcpus, 2);
    assert_string_equal(cfg.expect, "halted");
}

static void test_unknown_and_malformed(void **state)
{
    (void)state;
    parse_err("foo=1", "unknown key 'foo'");
    parse_err("name=x foo", "unknown key 'foo'");
    parse_err("Name=x", "unknown key 'Name'");
    parse_err("mem=2M mem=4M", "duplicate key 'mem'");
    parse_err("=x", "bad command line: empty key");
    parse_err("name=x\"y\"", "bad command line: quote inside an unquoted value");
    parse_err("mem", "key 'mem' needs a value");
}

static void test_small_error_buffer(void **state)
{
    (void)state;
    struct guest_config cfg;
    char err[8];
    assert_int_equal(modargs_parse("foo=1", 0, &cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "unknown"); /* truncated, always terminated */
    assert_int_equal(modargs_parse("foo=1", 0, &cfg, NULL, 0), -1);
}

/* ---- modargs_classify: data modules (initrd-for=NAME) ---- */

/* line is a data module for `owner`; its string (line minus the omitted bytes) is `string`. */
static void data_ok(const char *line, const char *owner, const char *string)
{
    struct modargs_data d;
    char err[ERR_MAX] = "untouched";
    char got[ERR_MAX];
    if (modargs_classify(line, &d, err, sizeof(err)) != MODARGS_DATA)
        fail_msg("\"%s\" not a data module: %s", line, err);
    assert_string_equal(err, "");
    assert_string_equal(d.owner, owner);
    assert_true(d.omit_at + d.omit_len <= strlen(line));
    memcpy(got, line, d.omit_at);
    strcpy(got + d.omit_at, line + d.omit_at + d.omit_len);
    if (strcmp(got, string) != 0)
        fail_msg("\"%s\": string \"%s\", want \"%s\"", line, got, string);
}

static void classify_err(const char *line, const char *reason)
{
    struct modargs_data d;
    char err[ERR_MAX] = "";
    if (modargs_classify(line, &d, err, sizeof(err)) != -1)
        fail_msg("\"%s\" accepted", line);
    if (!strstr(err, reason))
        fail_msg("\"%s\": error \"%s\" lacks \"%s\"", line, err, reason);
}

static void test_classify_data_module(void **state)
{
    (void)state;
    data_ok("initrd-for=linux", "linux", "");
    data_ok("initrd-for=mb env=1 debug", "mb", "env=1 debug");
    data_ok("a initrd-for=mb b", "mb", "a b");
    data_ok("a\tinitrd-for=mb \t b", "mb", "a\tb");
    data_ok("a b  initrd-for=x.Y_-9", "x.Y_-9", "a b");
    data_ok("  initrd-for=mb  ", "mb", "");
}

static void test_classify_data_module_keeps_other_words(void **state)
{
    (void)state;
    /* Guest keys in a data module are its string, not configuration. */
    data_ok("name=x mem=1 initrd-for=g bogus", "g", "name=x mem=1 bogus");
    /* GRUB's quoting of a word with a space stays byte for byte. */
    data_ok("\"cmdline=a b\" initrd-for=g", "g", "\"cmdline=a b\"");
    data_ok("\"initrd-for=g\" x", "g", "x");
    data_ok("/boot/env.txt initrd-for=mb", "mb", "/boot/env.txt");
    char longest[48] = "initrd-for=";
    memset(longest + 11, 'n', 31);
    data_ok(longest, longest + 11, "");
}

static void test_classify_guest_module(void **state)
{
    (void)state;
    struct modargs_data d;
    char err[ERR_MAX] = "untouched";
    assert_int_equal(modargs_classify("name=a mem=2M", &d, err, sizeof(err)), MODARGS_GUEST);
    assert_string_equal(err, "");
    assert_int_equal(modargs_classify(NULL, &d, err, sizeof(err)), MODARGS_GUEST);
    assert_int_equal(modargs_classify("cmdline=\"initrd-for=x\"", &d, err, sizeof(err)),
                     MODARGS_GUEST);
    assert_int_equal(modargs_classify("initrd-forx=a initrd=a", &d, err, sizeof(err)),
                     MODARGS_GUEST);
    /* Malformed before any initrd-for: a guest, and modargs_parse says why. */
    assert_int_equal(modargs_classify("a=\"b initrd-for=x", &d, err, sizeof(err)), MODARGS_GUEST);
    parse_err("a=\"b initrd-for=x", "bad command line: unterminated quote");
}

static void test_classify_errors(void **state)
{
    (void)state;
    classify_err("initrd-for", "key 'initrd-for' needs a value");
    classify_err("initrd-for=", "bad value for initrd-for: ''");
    classify_err("initrd-for=a initrd-for=b", "duplicate key 'initrd-for'");
    classify_err("initrd-for=a/b", "initrd-for 'a/b' has a character outside [A-Za-z0-9._-]");
    classify_err("initrd-for=\"a b\"", "initrd-for 'a b' has a character outside");
    classify_err("initrd-for=abcdefghijabcdefghijabcdefghijab",
                 "initrd-for 'abcdefghijabcdefghijabcdefghijab' longer than 31 characters");
    classify_err("initrd-for=a x=\"y", "bad command line: unterminated quote");
}

/* A guest's command line may not hold initrd-for: that module is no guest. */
static void test_initrd_for_is_not_a_guest_key(void **state)
{
    (void)state;
    parse_err("name=a initrd-for=b", "initrd-for= marks a data module, not a guest");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_module_path_skipped),
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_mem),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_cmdline),
        cmocka_unit_test(test_real_mode),
        cmocka_unit_test(test_console_focus),
        cmocka_unit_test(test_vcpus_and_expect),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_cpus_errors),
        cmocka_unit_test(test_all_keys_together),
        cmocka_unit_test(test_unknown_and_malformed),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_classify_data_module),
        cmocka_unit_test(test_classify_data_module_keeps_other_words),
        cmocka_unit_test(test_classify_guest_module),
        cmocka_unit_test(test_classify_errors),
        cmocka_unit_test(test_initrd_for_is_not_a_guest_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
