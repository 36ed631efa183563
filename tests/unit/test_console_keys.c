/* The console's key logic (vmx/vm/console_keys.c): Ctrl-A focus switching and the debug keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "vmx/vm/console_keys.h"
#include "tests/unit/fake.h"

#define CTRL_A CONSOLE_KEY_CTRL_A

/* Feeds `typed`; returns how many switches happened, with the passed bytes in out. */
static unsigned feed(struct focus_keys *k, const char *typed, size_t len, char *out, size_t *n)
{
    unsigned switches = 0;
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t pass[CONSOLE_FOCUS_PRESSES];
        unsigned np;
        if (focus_keys_feed(k, (uint8_t)typed[i], pass, &np)) {
            assert_int_equal(np, 0);
            switches++;
        }
        for (unsigned j = 0; j < np; j++)
            out[(*n)++] = (char)pass[j];
    }
    return switches;
}

static void test_plain_keys_pass(void **state)
{
    (void)state;
    struct focus_keys k = {0};
    char out[16];
    size_t n;
    assert_int_equal(feed(&k, "ls\r", 3, out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "ls\r", 3);
}

static void test_three_ctrl_a_switch(void **state)
{
    (void)state;
    struct focus_keys k = {0};
    char out[16];
    size_t n;
    assert_int_equal(feed(&k, "\x01\x01\x01", 3, out, &n), 1);
    assert_int_equal(n, 0);
    /* six in a row: two switches */
    assert_int_equal(feed(&k, "\x01\x01\x01\x01\x01\x01", 6, out, &n), 2);
    assert_int_equal(n, 0);
}

static void test_two_ctrl_a_then_key_pass_through(void **state)
{
    (void)state;
    struct focus_keys k = {0};
    char out[16];
    size_t n;
    assert_int_equal(feed(&k, "\x01\x01x", 3, out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\x01\x01x", 3);
    assert_int_equal(feed(&k, "\x01y", 2, out, &n), 0);
    assert_memory_equal(out, "\x01y", 2);
    assert_int_equal(n, 2);
}

static void test_held_ctrl_a_wait_for_the_next_key(void **state)
{
    (void)state;
    struct focus_keys k = {0};
    char out[16];
    size_t n;
    assert_int_equal(feed(&k, "\x01\x01", 2, out, &n), 0);
    assert_int_equal(n, 0); /* held back: they may become a switch */
    assert_int_equal(feed(&k, "\x01", 1, out, &n), 1);
    /* the count restarts after a key that is not Ctrl-A */
    assert_int_equal(feed(&k, "\x01\x01z\x01", 4, out, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(feed(&k, "\x01\x01", 2, out, &n), 1);
}

static struct debug_key_cmd key(struct debug_keys *d, char c)
{
    return debug_keys_feed(d, (uint8_t)c);
}

static void test_debug_single_keys(void **state)
{
    (void)state;
    struct debug_keys d = {0};
    assert_int_equal(key(&d, 'h').action, DEBUG_KEY_HELP);
    assert_int_equal(key(&d, 'g').action, DEBUG_KEY_GUESTS);
    assert_int_equal(key(&d, 'e').action, DEBUG_KEY_EXITS);
    assert_int_equal(key(&d, 'm').action, DEBUG_KEY_MEMORY);
    assert_int_equal(key(&d, 't').action, DEBUG_KEY_TIME);
    assert_int_equal(key(&d, '\r').action, DEBUG_KEY_NONE);
    assert_int_equal(key(&d, '\n').action, DEBUG_KEY_NONE);
    assert_int_equal(key(&d, ' ').action, DEBUG_KEY_NONE);
    struct debug_key_cmd c = key(&d, 'q');
    assert_int_equal(c.action, DEBUG_KEY_UNKNOWN);
    assert_int_equal(c.key, 'q');
    assert_int_equal(key(&d, 'G').action, DEBUG_KEY_UNKNOWN); /* keys are lower case */
}

static void test_debug_keys_with_a_guest_number(void **state)
{
    (void)state;
    struct debug_keys d = {0};
    struct debug_key_cmd c = key(&d, 'k');
    assert_int_equal(c.action, DEBUG_KEY_ASK_GUEST);
    assert_int_equal(c.key, 'k');
    c = key(&d, '1');
    assert_int_equal(c.action, DEBUG_KEY_KILL);
    assert_int_equal(c.guest, 1);
    assert_int_equal(c.key, 'k');
    assert_int_equal(key(&d, 'v').action, DEBUG_KEY_ASK_GUEST);
    c = key(&d, '0');
    assert_int_equal(c.action, DEBUG_KEY_VMCS);
    assert_int_equal(c.guest, 0);
    /* the digit after a completed command is no command */
    assert_int_equal(key(&d, '0').action, DEBUG_KEY_UNKNOWN);
}

static void test_debug_guest_number_cancelled(void **state)
{
    (void)state;
    struct debug_keys d = {0};
    assert_int_equal(key(&d, 'k').action, DEBUG_KEY_ASK_GUEST);
    struct debug_key_cmd c = key(&d, 'g'); /* not a digit: k is cancelled, g is not run */
    assert_int_equal(c.action, DEBUG_KEY_CANCELLED);
    assert_int_equal(c.key, 'k');
    assert_int_equal(key(&d, 'g').action, DEBUG_KEY_GUESTS);
    assert_int_equal(key(&d, 'v').action, DEBUG_KEY_ASK_GUEST);
    assert_int_equal(key(&d, '\r').action, DEBUG_KEY_CANCELLED);
}

static void test_debug_key_table_is_complete(void **state)
{
    (void)state;
    /* every key the issue asks for, each once, with help text */
    const char *want = "hgevmtk";
    assert_int_equal(debug_key_count, strlen(want));
    for (const char *p = want; *p; p++) {
        unsigned found = 0;
        for (unsigned i = 0; i < debug_key_count; i++)
            if (debug_key_table[i].key == (uint8_t)*p) {
                found++;
                assert_non_null(debug_key_table[i].help);
                assert_int_equal(debug_key_table[i].takes_guest, *p == 'v' || *p == 'k');
            }
        assert_int_equal(found, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_keys_pass),
        cmocka_unit_test(test_three_ctrl_a_switch),
        cmocka_unit_test(test_two_ctrl_a_then_key_pass_through),
        cmocka_unit_test(test_held_ctrl_a_wait_for_the_next_key),
        cmocka_unit_test(test_debug_single_keys),
        cmocka_unit_test(test_debug_keys_with_a_guest_number),
        cmocka_unit_test(test_debug_guest_number_cancelled),
        cmocka_unit_test(test_debug_key_table_is_complete),
    };
    fake_log_reset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
