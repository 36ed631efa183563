/* A guest's console output (vmx/vcpu/guest_console.c): the bounded ring and its back-pressure,
   one line per drain turn, hv's console room, a focused guest's partial lines, the flush at the
   guest's end; and the byte ring under it (kernel/lib/byte_ring.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "kernel/log.h"
#include "vmx/vcpu/guest.h"
#include "tests/unit/fake.h"

#define PARTIAL 50 /* partial_ticks */

static struct guest g;

static int setup(void **state)
{
    (void)state;
    fake_log_reset();
    memset(&g, 0, sizeof(g));
    g.name = "gc";
    guest_console_init(&g);
    return 0;
}

static void put(const char *s)
{
    guest_console_write(&g, s, strlen(s));
}

static void test_byte_ring(void **state)
{
    (void)state;
    uint8_t buf[4], b;
    struct byte_ring r;
    byte_ring_init(&r, buf, sizeof(buf));
    assert_int_equal(byte_ring_get(&r, &b), -1);
    assert_int_equal(byte_ring_peek(&r), -1);
    assert_int_equal(byte_ring_put(&r, "abc", 3), 3);
    assert_int_equal(byte_ring_put(&r, "de", 2), 1); /* only what fits */
    assert_int_equal(byte_ring_room(&r), 0);
    assert_int_equal(byte_ring_peek(&r), 'a');
    assert_int_equal(byte_ring_get(&r, &b), 0);
    assert_int_equal(b, 'a');
    assert_int_equal(byte_ring_put(&r, "fg", 2), 1); /* wraps around */
    const char *want = "bcdf";
    for (const char *p = want; *p; p++) {
        assert_int_equal(byte_ring_get(&r, &b), 0);
        assert_int_equal(b, *p);
    }
    assert_int_equal(byte_ring_count(&r), 0);
    byte_ring_put(&r, "xy", 2);
    byte_ring_clear(&r);
    assert_int_equal(byte_ring_count(&r), 0);
}

static void test_write_only_queues(void **state)
{
    (void)state;
    put("queued\n");
    assert_string_equal(fake_log, ""); /* nothing printed during the exit */
    assert_false(guest_console_drain(&g, 0, PARTIAL));
    assert_string_equal(fake_log, "[gc] queued\n");
}

static void test_backlogged_when_an_exit_would_not_fit(void **state)
{
    (void)state;
    static char block[GUEST_CONSOLE_EXIT_MAX];
    memset(block, 'b', sizeof(block));
    guest_console_write(&g, block, sizeof(block));
    assert_false(guest_console_backlogged(&g)); /* one more exit's worth still fits */
    guest_console_write(&g, "x", 1);
    assert_true(guest_console_backlogged(&g));
    /* the worst case while backlogged: one more exit; nothing is lost */
    guest_console_write(&g, block, sizeof(block) - 1);
    assert_int_equal(g.console.queued, 2 * GUEST_CONSOLE_EXIT_MAX);
    assert_int_equal(byte_ring_room(&g.console.out),
                     GUEST_CONSOLE_RING - 2 * GUEST_CONSOLE_EXIT_MAX);
    while (guest_console_drain(&g, 0, PARTIAL))
        ;
    assert_false(guest_console_backlogged(&g));
}

static void test_one_line_per_turn(void **state)
{
    (void)state;
    put("one\ntwo\nthree\n");
    assert_true(guest_console_drain(&g, 0, PARTIAL));
    assert_string_equal(fake_log, "[gc] one\n");
    assert_true(guest_console_drain(&g, 0, PARTIAL));
    assert_string_equal(fake_log, "[gc] one\n[gc] two\n");
    assert_false(guest_console_drain(&g, 0, PARTIAL));
    assert_string_equal(fake_log, "[gc] one\n[gc] two\n[gc] three\n");
}

static void test_full_console_keeps_the_bytes(void **state)
{
    (void)state;
    put("later\n");
    fake_console_full = true;
    assert_true(guest_console_drain(&g, 0, PARTIAL));
    assert_string_equal(fake_log, "");
    fake_console_full = false;
    assert_false(guest_console_drain(&g, 0, PARTIAL));
    assert_string_equal(fake_log, "[gc] later\n");
}

static void test_unfocused_partial_line_waits(void **state)
{
    (void)state;
    put("$ ");
    guest_console_drain(&g, 0, PARTIAL);
    guest_console_drain(&g, 1000000, PARTIAL);
    assert_string_equal(fake_log, "");
    put("rest\n");
    guest_console_drain(&g, 1000001, PARTIAL);
    assert_string_equal(fake_log, "[gc] $ rest\n");
}

static void test_focused_partial_line_after_the_delay(void **state)
{
    (void)state;
    g.console.focused = true;
    put("~ # ");
    guest_console_drain(&g, 100, PARTIAL);
    guest_console_drain(&g, 100 + PARTIAL - 1, PARTIAL);
    assert_string_equal(fake_log, "");
    guest_console_drain(&g, 100 + PARTIAL, PARTIAL);
    assert_string_equal(fake_log, "[gc] ~ # \n"); /* open: the newline is the fake's */
    put("echo");                                  /* typed keys, echoed */
    guest_console_drain(&g, 200, PARTIAL);
    guest_console_drain(&g, 200 + PARTIAL, PARTIAL);
    put(" hi\n");
    guest_console_drain(&g, 300, PARTIAL);
    assert_string_equal(fake_log, "[gc] ~ # echo hi\n"); /* one line on the terminal */
}

static void test_interrupted_partial_line_continues_with_the_prefix(void **state)
{
    (void)state;
    g.console.focused = true;
    put("~ # ");
    guest_console_drain(&g, 0, 0);
    log_contract("hv: something else");
    put("ls\n");
    guest_console_drain(&g, 1, 0);
    assert_string_equal(fake_log, "[gc] ~ # \nhv: something else\n[gc] ls\n");
}

static void test_flush_prints_everything_queued(void **state)
{
    (void)state;
    put("a\nlast words");
    fake_console_full = true; /* the flush waits for hv's console instead */
    guest_console_flush(&g);
    assert_string_equal(fake_log, "[gc] a\n[gc] last words\n");
    assert_int_equal(g.console.len, 0);
    guest_console_flush(&g);
    assert_string_equal(fake_log, "[gc] a\n[gc] last words\n");
}

static void test_flush_after_a_shown_partial_line(void **state)
{
    (void)state;
    g.console.focused = true;
    put("~ # ");
    guest_console_drain(&g, 0, 0);
    guest_console_flush(&g); /* the open line ends, no empty "[gc] " line */
    log_contract("hv: guest gc ended");
    assert_string_equal(fake_log, "[gc] ~ # \nhv: guest gc ended\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_byte_ring, setup),
        cmocka_unit_test_setup(test_write_only_queues, setup),
        cmocka_unit_test_setup(test_backlogged_when_an_exit_would_not_fit, setup),
        cmocka_unit_test_setup(test_one_line_per_turn, setup),
        cmocka_unit_test_setup(test_full_console_keeps_the_bytes, setup),
        cmocka_unit_test_setup(test_unfocused_partial_line_waits, setup),
        cmocka_unit_test_setup(test_focused_partial_line_after_the_delay, setup),
        cmocka_unit_test_setup(test_interrupted_partial_line_continues_with_the_prefix, setup),
        cmocka_unit_test_setup(test_flush_prints_everything_queued, setup),
        cmocka_unit_test_setup(test_flush_after_a_shown_partial_line, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
