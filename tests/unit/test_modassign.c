/* Unit tests for vmx/loader/modassign.c: which modules are guests and which are data modules of
   a guest (initrd-for=NAME), and the loader modules a guest receives. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "vmx/loader/modassign.h"
#include "tests/unit/fake.h"

#define MAX_MODS 8

static struct module_input in[MAX_MODS];
static struct module_assignment out[MAX_MODS];

/* Assigns modules whose command lines are lines[0..n). */
static void assign(const char *const *lines, size_t n)
{
    static const char data[MAX_MODS][4] = {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"};
    assert_true(n <= MAX_MODS);
    for (size_t i = 0; i < n; i++)
        in[i] = (struct module_input){data[i], i + 1, lines[i]};
    memset(out, 0xA5, sizeof(out)); /* every field must be written */
    modassign(in, n, out);
}

static void assert_guest(size_t i, const char *name)
{
    assert_int_equal(out[i].role, MODULE_GUEST);
    assert_string_equal(out[i].name, name);
}

static void assert_data(size_t i, unsigned owner, const char *name)
{
    assert_int_equal(out[i].role, MODULE_DATA);
    assert_int_equal(out[i].owner, owner);
    assert_string_equal(out[i].name, name);
}

static void assert_rejected(size_t i, const char *name, const char *why)
{
    assert_int_equal(out[i].role, MODULE_REJECTED);
    assert_string_equal(out[i].name, name);
    assert_string_equal(out[i].why, why);
}

static void test_every_module_a_guest(void **state)
{
    (void)state;
    const char *lines[] = {"name=a", "", "mem=2M", NULL};
    assign(lines, 4);
    assert_guest(0, "a");
    assert_guest(1, "guest1");
    assert_guest(2, "guest2");
    assert_guest(3, "guest3");
    struct loader_module mods[MAX_MODS];
    for (unsigned g = 0; g < 4; g++)
        assert_int_equal(modassign_modules_of(out, in, 4, g, mods, MAX_MODS), 0);
    modassign(in, 0, out); /* no modules at all */
}

/* Data modules before and after their guest, in GRUB's order, for two guests. */
static void test_data_modules_before_and_after(void **state)
{
    (void)state;
    const char *lines[] = {
        "initrd-for=b first", "name=a", "initrd-for=a x", "name=b", "y initrd-for=b",
        "initrd-for=guest6",  ""};
    assign(lines, 7);
    assert_data(0, 3, "b");
    assert_guest(1, "a");
    assert_data(2, 1, "a");
    assert_guest(3, "b");
    assert_data(4, 3, "b");
    assert_data(5, 6, "guest6"); /* a default name works too */
    assert_guest(6, "guest6");

    struct loader_module mods[MAX_MODS];
    assert_int_equal(modassign_modules_of(out, in, 7, 3, mods, MAX_MODS), 2);
    assert_ptr_equal(mods[0].data, in[0].data);
    assert_int_equal(mods[0].len, 1);
    assert_ptr_equal(mods[0].cmdline, lines[0]);
    assert_int_equal(mods[0].omit_at, 0);
    assert_int_equal(mods[0].omit_len, strlen("initrd-for=b "));
    assert_int_equal(mods[0].index, 0);
    assert_ptr_equal(mods[1].data, in[4].data);
    assert_int_equal(mods[1].len, 5);
    assert_int_equal(mods[1].omit_at, 1);
    assert_int_equal(mods[1].omit_len, strlen(" initrd-for=b"));
    assert_int_equal(mods[1].index, 4);
    assert_int_equal(modassign_modules_of(out, in, 7, 1, mods, MAX_MODS), 1);
    assert_int_equal(mods[0].index, 2);
    assert_int_equal(modassign_modules_of(out, in, 7, 0, mods, MAX_MODS), 0); /* not a guest */
    assert_int_equal(modassign_modules_of(out, in, 7, 3, mods, 1), 1);        /* at most max */
    assert_int_equal(mods[0].index, 0);
}

static void test_rejected_data_modules(void **state)
{
    (void)state;
    const char *lines[] = {"initrd-for=nobody", "name=twin",
                           "name=twin",         "initrd-for=twin",
                           "initrd-for=a/b",    "initrd-for=twin initrd-for=twin",
                           "bogus=1",           "initrd-for=guest6"};
    assign(lines, 8);
    assert_rejected(0, "module0", "initrd-for=nobody names no guest");
    assert_guest(1, "twin");
    assert_guest(2, "twin");
    assert_rejected(3, "module3", "initrd-for=twin names two guests (modules 1 and 2)");
    assert_rejected(4, "module4", "initrd-for 'a/b' has a character outside [A-Za-z0-9._-]");
    assert_rejected(5, "module5", "duplicate key 'initrd-for'");
    /* A refused guest keeps the name of its verdict line, guestN, and still gets its modules. */
    assert_guest(6, "guest6");
    assert_data(7, 6, "guest6");
    struct loader_module mods[MAX_MODS];
    assert_int_equal(modassign_modules_of(out, in, 8, 1, mods, MAX_MODS), 0);
    assert_int_equal(modassign_modules_of(out, in, 8, 2, mods, MAX_MODS), 0);
}

/* A data module never names another data module, even one that says name=. */
static void test_data_module_is_no_owner(void **state)
{
    (void)state;
    const char *lines[] = {"name=d initrd-for=g", "initrd-for=d", "name=g"};
    assign(lines, 3);
    assert_data(0, 2, "g");
    assert_rejected(1, "module1", "initrd-for=d names no guest");
    assert_guest(2, "g");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_module_a_guest),
        cmocka_unit_test(test_data_modules_before_and_after),
        cmocka_unit_test(test_rejected_data_modules),
        cmocka_unit_test(test_data_module_is_no_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
