/* hv's console (kernel/console.c) on a fake 16550: output queued and handed to the UART only as
   its transmitter takes it, CR LF, a partial line ended before any other line, typed bytes
   read into the input ring with bounded polls, overruns counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/uart16550.h"
#include "kernel/console.h"
#include "tests/unit/fake.h"
#include "tests/unit/fake_vmcs.h"

#define BASE          UART_COM1_BASE
#define SCRATCH_VALUE 0x5A /* what drivers/serial.c's probe writes and reads back */

/* The bytes written to THR since the last reset, as a string. */
static char sent[FAKE_HW_PORT_LOG + 1];
static const char *thr_bytes(void)
{
    unsigned n = 0, count = fake_hw_port_log_count();
    for (unsigned i = 0; i < count && i < FAKE_HW_PORT_LOG; i++) {
        struct fake_port_io io = fake_hw_port_log(i);
        if (io.out && io.port == BASE + UART_THR)
            sent[n++] = (char)io.value;
    }
    sent[n] = '\0';
    return sent;
}

static void uart_lsr(uint8_t lsr)
{
    fake_hw_set_port_input(BASE + UART_LSR, lsr);
}

static int setup(void **state)
{
    (void)state;
    fake_hw_reset();
    fake_hw_set_port_input(BASE + UART_SCR, SCRATCH_VALUE);
    fake_hw_set_port_input(BASE + UART_IIR, UART_IIR_FIFOS_ON | UART_IIR_NO_INT);
    uart_lsr(UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE);
    console_init(BASE);
    fake_hw_reset(); /* forget the probe's accesses; the port inputs stay set below */
    fake_hw_set_port_input(BASE + UART_IIR, UART_IIR_FIFOS_ON | UART_IIR_NO_INT);
    uart_lsr(UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE);
    return 0;
}

static void test_line_goes_out_with_crlf(void **state)
{
    (void)state;
    console_write("ab\n", 3);
    assert_string_equal(thr_bytes(), "ab\r\n");
    assert_false(console_output_queued());
}

static void test_busy_uart_queues_without_waiting(void **state)
{
    (void)state;
    uart_lsr(0); /* transmitter busy */
    console_write("queued\n", 7);
    assert_string_equal(thr_bytes(), "");
    assert_true(console_output_queued());
    uart_lsr(UART_LSR_THR_EMPTY);
    console_pump();
    assert_string_equal(thr_bytes(), "queued\r\n");
    assert_false(console_output_queued());
}

static void test_pump_sends_one_fifo_per_thre(void **state)
{
    (void)state;
    uart_lsr(0);
    console_write("0123456789abcdefXYZ\n", 20);
    uart_lsr(UART_LSR_THR_EMPTY);
    console_pump();
    assert_string_equal(thr_bytes(), "0123456789abcdef"); /* 16: the transmit FIFO */
    console_pump();
    assert_string_equal(thr_bytes(), "0123456789abcdefXYZ\r\n");
}

static void test_guest_room_bounds_the_backlog(void **state)
{
    (void)state;
    static char line[CONSOLE_GUEST_BACKLOG];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    uart_lsr(0);
    assert_true(console_guest_room());
    console_write(line, sizeof(line));
    assert_false(console_guest_room()); /* guest lines wait; hv's own still fit */
    console_write("hv\n", 3);
    uart_lsr(UART_LSR_THR_EMPTY);
    console_drain();
    assert_true(console_guest_room());
}

static void test_open_line_is_ended_before_another(void **state)
{
    (void)state;
    static int a, b; /* two writers: their addresses are the owners */
    console_write_stream(&a, "[a] ", "~ # ", 4, false);
    console_write_stream(&a, "[a] ", "ls", 2, false); /* the same line continues */
    console_write("hv: x\n", 6);
    console_write_stream(&a, "[a] ", "", 0, true); /* already ended: nothing */
    console_write_stream(&b, "[b] ", "one", 3, true);
    assert_string_equal(thr_bytes(), "[a] ~ # ls\r\nhv: x\r\n[b] one\r\n");
}

static void test_input_read_into_the_ring(void **state)
{
    (void)state;
    assert_false(console_input_waiting());
    uart_lsr(UART_LSR_DATA_READY | UART_LSR_THR_EMPTY);
    fake_hw_set_port_input(BASE + UART_RBR, 'k');
    /* the fake's data-ready bit never clears: the poll stops at its bound, not forever */
    unsigned n = console_poll_input();
    assert_true(n > 0 && n <= 4 * UART_TX_FIFO_SIZE);
    uart_lsr(UART_LSR_THR_EMPTY);
    assert_true(console_input_waiting());
    assert_int_equal(console_getc(), 'k');
}

static void test_overrun_is_counted(void **state)
{
    (void)state;
    uint64_t dropped0, overruns0, dropped, overruns;
    console_input_losses(&dropped0, &overruns0);
    uart_lsr(UART_LSR_OVERRUN | UART_LSR_THR_EMPTY);
    assert_int_equal(console_poll_input(), 0);
    console_input_losses(&dropped, &overruns);
    assert_int_equal(overruns, overruns0 + 1);
    assert_int_equal(dropped, dropped0);
    assert_true(console_input_lost());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_line_goes_out_with_crlf, setup),
        cmocka_unit_test_setup(test_busy_uart_queues_without_waiting, setup),
        cmocka_unit_test_setup(test_pump_sends_one_fifo_per_thre, setup),
        cmocka_unit_test_setup(test_guest_room_bounds_the_backlog, setup),
        cmocka_unit_test_setup(test_open_line_is_ended_before_another, setup),
        cmocka_unit_test_setup(test_input_read_into_the_ring, setup),
        cmocka_unit_test_setup(test_overrun_is_counted, setup),
    };
    fake_log_reset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
