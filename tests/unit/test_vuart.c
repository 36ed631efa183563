/* The virtual NS16550A (drivers/vdev/vuart.c) against the NS16550A datasheet, and against the
   probe Linux 6.1's 8250 driver runs (autoconfig, the THRE re-test in serial8250_do_startup). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "drivers/vdev/vuart.h"
#include "tests/unit/fake.h"

#define BASE UART_COM1_BASE

static struct {
    struct vdev_host host;
    struct vdev_bus bus;
    struct vdev_irq_router router;
    struct vuart u;
    char out[512];
    size_t out_len;
    bool line[VDEV_ISA_IRQS];
    unsigned edges[VDEV_ISA_IRQS]; /* rising edges seen by the fake controller */
} t;

static void console_write(void *ctx, const char *buf, size_t len)
{
    assert_ptr_equal(ctx, &t);
    for (size_t i = 0; i < len && t.out_len < sizeof(t.out); i++)
        t.out[t.out_len++] = buf[i];
}

static void set_line(void *ctl, unsigned line, bool asserted)
{
    assert_ptr_equal(ctl, &t);
    if (asserted && !t.line[line])
        t.edges[line]++;
    t.line[line] = asserted;
}

static int setup(void **state)
{
    (void)state;
    fake_log_reset();
    memset(&t, 0, sizeof(t));
    t.host = (struct vdev_host){.ctx = &t, .console_write = console_write, .name = "uarttest"};
    vdev_bus_init(&t.bus, &t.host);
    vdev_irq_init(&t.router);
    const struct vdev_irq_sink sink = {VDEV_IRQ_ISA, set_line, &t};
    assert_int_equal(vdev_irq_add_sink(&t.router, &sink), 0);
    vuart_init(&t.u, &t.host, &t.router, VDEV_IRQ_COM1);
    assert_int_equal(vuart_attach(&t.u, &t.bus, BASE), 0);
    return 0;
}

static uint8_t in(unsigned reg)
{
    return (uint8_t)vdev_bus_in(&t.bus, (uint16_t)(BASE + reg), 1);
}

static void out(unsigned reg, uint8_t value)
{
    vdev_bus_out(&t.bus, (uint16_t)(BASE + reg), 1, value);
}

static bool irq4(void)
{
    return t.line[VDEV_IRQ_COM1];
}

/* ---- reset state and plain registers ---- */

static void test_reset_values(void **state)
{
    (void)state;
    assert_int_equal(in(UART_IER), 0);
    assert_int_equal(in(UART_IIR), VUART_IIR_NO_INT);
    assert_int_equal(in(UART_LCR), 0);
    assert_int_equal(in(UART_MCR), 0);
    assert_int_equal(in(UART_LSR), VUART_LSR_THRE | VUART_LSR_TEMT);
    assert_int_equal(in(UART_MSR), VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD);
    assert_int_equal(in(UART_SCR), 0);
    assert_false(irq4());
}

static void test_ier_keeps_four_bits(void **state)
{
    (void)state;
    out(UART_IER, 0xFF);
    assert_int_equal(in(UART_IER), 0x0F);
    out(UART_IER, 0);
    assert_int_equal(in(UART_IER), 0);
}

static void test_scratch_and_lcr_read_back(void **state)
{
    (void)state;
    out(UART_SCR, 0xA5);
    out(UART_LCR, 0x1B);
    assert_int_equal(in(UART_SCR), 0xA5);
    assert_int_equal(in(UART_LCR), 0x1B);
}

static void test_status_registers_ignore_writes(void **state)
{
    (void)state;
    out(UART_LSR, 0);
    out(UART_MSR, 0);
    assert_int_equal(in(UART_LSR), VUART_LSR_THRE | VUART_LSR_TEMT);
    assert_int_equal(in(UART_MSR), VUART_MSR_EXTERNAL);
}

static void test_mcr_keeps_five_bits(void **state)
{
    (void)state;
    out(UART_MCR, 0xFF);
    assert_int_equal(in(UART_MCR), 0x1F);
}

static void test_dlab_selects_the_divisor_latch(void **state)
{
    (void)state;
    out(UART_IER, 0x05);
    out(UART_LCR, VUART_LCR_DLAB | 0x03);
    out(UART_DLL, 0x01);
    out(UART_DLM, 0x02);
    assert_int_equal(in(UART_DLL), 0x01);
    assert_int_equal(in(UART_DLM), 0x02);
    assert_int_equal(t.out_len, 0); /* the DLL write sent nothing */
    out(UART_LCR, 0x03);
    assert_int_equal(in(UART_IER), 0x05);
    out(UART_THR, 'x');
    assert_int_equal(t.out_len, 1);
    out(UART_LCR, VUART_LCR_DLAB);
    assert_int_equal(in(UART_DLL), 0x01); /* the THR write left the latch */
}

static void test_attach_claims_eight_ports(void **state)
{
    (void)state;
    struct vuart other;
    vuart_init(&other, &t.host, &t.router, 3);
    assert_int_equal(vuart_attach(&other, &t.bus, BASE + 7), -1);
    assert_int_equal(vuart_attach(&other, &t.bus, UART_COM2_BASE), 0);
    assert_int_equal(vdev_bus_in(&t.bus, BASE + 8, 1), 0xFF); /* not the UART's */
}

/* ---- transmit ---- */

static void test_thr_write_goes_to_the_console(void **state)
{
    (void)state;
    out(UART_THR, 'h');
    out(UART_THR, 'i');
    assert_int_equal(t.out_len, 2);
    assert_memory_equal(t.out, "hi", 2);
    assert_int_equal(in(UART_LSR) & (VUART_LSR_THRE | VUART_LSR_TEMT),
                     VUART_LSR_THRE | VUART_LSR_TEMT);
}

static void test_enabling_etbei_raises_thre(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ETBEI);
    assert_true(irq4());
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_THRE);
    /* the IIR read naming THRE cleared it */
    assert_int_equal(in(UART_IIR), VUART_IIR_NO_INT);
    assert_false(irq4());
}

static void test_thr_write_rearms_thre(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ETBEI);
    in(UART_IIR);
    assert_false(irq4());
    out(UART_THR, 'a');
    assert_true(irq4());
    assert_int_equal(t.edges[VDEV_IRQ_COM1], 2);
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_THRE);
}

static void test_disabling_etbei_lowers_the_line(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ETBEI);
    assert_true(irq4());
    out(UART_IER, 0);
    assert_false(irq4());
    assert_int_equal(in(UART_IIR), VUART_IIR_NO_INT);
}

/* serial8250_do_startup: a UART that does not re-assert THRE gets UART_BUG_THRE (polling). */
static void test_linux_thre_retest_sees_thre_twice(void **state)
{
    (void)state;
    out(UART_FCR, VUART_FCR_ENABLE);
    out(UART_IER, VUART_IER_ETBEI);
    uint8_t iir1 = in(UART_IIR);
    out(UART_IER, 0);
    out(UART_IER, VUART_IER_ETBEI);
    uint8_t iir = in(UART_IIR);
    out(UART_IER, 0);
    assert_false(iir1 & VUART_IIR_NO_INT);
    assert_false(iir & VUART_IIR_NO_INT);
    /* then its TXEN test: THRI enabled, LSR TEMT and an interrupt pending */
    out(UART_IER, VUART_IER_ETBEI);
    uint8_t lsr = in(UART_LSR);
    iir = in(UART_IIR);
    assert_true(lsr & VUART_LSR_TEMT);
    assert_int_equal(iir, VUART_IIR_FIFO_ENABLED | VUART_IIR_ID_THRE);
}

/* ---- the interrupt line ---- */

static void test_out2_gates_the_irq(void **state)
{
    (void)state;
    out(UART_IER, VUART_IER_ETBEI);
    assert_false(irq4());
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_THRE); /* pending, but not wired through */
    out(UART_IER, VUART_IER_ETBEI);
    out(UART_MCR, VUART_MCR_OUT2);
    assert_true(irq4());
    out(UART_MCR, 0);
    assert_false(irq4());
}

static void test_loopback_gates_the_irq(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ETBEI);
    assert_true(irq4());
    out(UART_MCR, VUART_MCR_OUT2 | VUART_MCR_LOOP);
    assert_false(irq4());
}

static void test_irq_number_comes_from_init(void **state)
{
    (void)state;
    struct vuart com2;
    vuart_init(&com2, &t.host, &t.router, 3);
    assert_int_equal(vuart_attach(&com2, &t.bus, UART_COM2_BASE), 0);
    vdev_bus_out(&t.bus, UART_COM2_BASE + UART_MCR, 1, VUART_MCR_OUT2);
    vdev_bus_out(&t.bus, UART_COM2_BASE + UART_IER, 1, VUART_IER_ETBEI);
    assert_true(t.line[3]);
    assert_false(irq4());
}

/* ---- receive ---- */

static void test_received_byte_sets_dr_and_reads_out(void **state)
{
    (void)state;
    assert_int_equal(vuart_receive(&t.u, 'k'), 0);
    assert_true(in(UART_LSR)&VUART_LSR_DR);
    assert_int_equal(in(UART_RBR), 'k');
    assert_false(in(UART_LSR)&VUART_LSR_DR);
}

static void test_rx_interrupt_without_fifo_on_each_byte(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ERBFI);
    assert_false(irq4());
    vuart_receive(&t.u, 'a');
    assert_true(irq4());
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_RX_DATA);
    in(UART_RBR);
    assert_false(irq4());
}

/* Datasheet Table II: received data (priority 2) outranks THRE (priority 3); reading RBR empty
   lets THRE show again, and an IIR read naming THRE clears it. */
static void test_rx_data_outranks_thre(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ERBFI | VUART_IER_ETBEI);
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_THRE); /* THRE alone; this read clears it */
    out(UART_THR, 'x');                                /* re-arms THRE */
    vuart_receive(&t.u, 'a');
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_RX_DATA);
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_RX_DATA); /* reading IIR does not clear RX */
    assert_true(irq4());
    assert_int_equal(in(UART_RBR), 'a');
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_THRE);
    assert_int_equal(in(UART_IIR), VUART_IIR_NO_INT);
    assert_false(irq4());
}

static void test_rx_fifo_trigger_level_and_timeout(void **state)
{
    (void)state;
    out(UART_FCR, VUART_FCR_ENABLE | (2u << VUART_FCR_TRIGGER_SHIFT)); /* 8 bytes */
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ERBFI);
    for (int i = 0; i < 7; i++)
        vuart_receive(&t.u, (uint8_t)('0' + i));
    /* below the trigger: the character timeout indication */
    assert_int_equal(in(UART_IIR), VUART_IIR_FIFO_ENABLED | VUART_IIR_ID_TIMEOUT);
    vuart_receive(&t.u, '7');
    assert_int_equal(in(UART_IIR), VUART_IIR_FIFO_ENABLED | VUART_IIR_ID_RX_DATA);
    for (int i = 0; i < 8; i++)
        assert_int_equal(in(UART_RBR), '0' + i);
    assert_int_equal(in(UART_IIR), VUART_IIR_FIFO_ENABLED | VUART_IIR_NO_INT);
    assert_false(irq4());
}

static void test_trigger_levels_1_4_14(void **state)
{
    (void)state;
    static const unsigned level[4] = {1, 4, 8, 14};
    for (unsigned sel = 0; sel < 4; sel++) {
        out(UART_FCR,
            (uint8_t)(VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX | (sel << VUART_FCR_TRIGGER_SHIFT)));
        out(UART_IER, VUART_IER_ERBFI);
        for (unsigned i = 0; i + 1 < level[sel]; i++)
            vuart_receive(&t.u, 'x');
        assert_int_not_equal(in(UART_IIR)&0x0F, VUART_IIR_ID_RX_DATA);
        vuart_receive(&t.u, 'x');
        assert_int_equal(in(UART_IIR)&0x0F, VUART_IIR_ID_RX_DATA);
    }
}

static void test_fifo_overrun_keeps_the_fifo(void **state)
{
    (void)state;
    out(UART_FCR, VUART_FCR_ENABLE);
    for (int i = 0; i < VUART_FIFO_SIZE; i++)
        assert_int_equal(vuart_receive(&t.u, (uint8_t)i), 0);
    assert_true(vuart_rx_full(&t.u));
    assert_int_equal(vuart_receive(&t.u, 0xEE), -1);
    uint8_t lsr = in(UART_LSR);
    assert_true(lsr & VUART_LSR_OE);
    assert_true(lsr & VUART_LSR_DR);
    assert_false(in(UART_LSR)&VUART_LSR_OE); /* cleared by the read */
    for (int i = 0; i < VUART_FIFO_SIZE; i++)
        assert_int_equal(in(UART_RBR), i);
    assert_false(vuart_rx_full(&t.u));
}

static void test_holding_register_overrun_overwrites(void **state)
{
    (void)state;
    assert_int_equal(vuart_receive(&t.u, 'a'), 0);
    assert_true(vuart_rx_full(&t.u));
    assert_int_equal(vuart_receive(&t.u, 'b'), -1);
    assert_true(in(UART_LSR)&VUART_LSR_OE);
    assert_int_equal(in(UART_RBR), 'b');
    assert_false(in(UART_LSR)&VUART_LSR_DR);
}

static void test_line_status_interrupt_outranks_data(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_OUT2);
    out(UART_IER, VUART_IER_ERBFI | VUART_IER_ELSI | VUART_IER_ETBEI | VUART_IER_EDSSI);
    vuart_receive(&t.u, 'a');
    vuart_receive(&t.u, 'b');                      /* overrun */
    out(UART_MCR, VUART_MCR_OUT2 | VUART_MCR_DTR); /* a modem status change is pending too */
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_LINE);
    in(UART_LSR);
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_RX_DATA);
    in(UART_RBR);
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_THRE);
    assert_int_equal(in(UART_IIR), VUART_IIR_NO_INT); /* modem: the external lines did not move */
}

static void test_fcr_enable_and_clear(void **state)
{
    (void)state;
    out(UART_FCR, VUART_FCR_ENABLE);
    assert_int_equal(in(UART_IIR), VUART_IIR_FIFO_ENABLED | VUART_IIR_NO_INT);
    vuart_receive(&t.u, 'a');
    vuart_receive(&t.u, 'b');
    out(UART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX);
    assert_false(in(UART_LSR)&VUART_LSR_DR);
    vuart_receive(&t.u, 'c');
    out(UART_FCR, 0); /* FIFOs off: emptied, IIR bits 7:6 clear */
    assert_false(in(UART_LSR)&VUART_LSR_DR);
    assert_int_equal(in(UART_IIR), VUART_IIR_NO_INT);
}

static void test_fcr_bits_need_the_enable_bit(void **state)
{
    (void)state;
    out(UART_FCR, VUART_FCR_ENABLE);
    vuart_receive(&t.u, 'a');
    out(UART_FCR, VUART_FCR_ENABLE);
    out(UART_FCR, VUART_FCR_ENABLE | (3u << VUART_FCR_TRIGGER_SHIFT));
    assert_true(in(UART_LSR)&VUART_LSR_DR); /* re-enabling with no clear bit keeps data */
    out(UART_IER, VUART_IER_ERBFI);
    assert_int_equal(in(UART_IIR)&0x0F, VUART_IIR_ID_TIMEOUT); /* 1 byte < 14 */
}

/* ---- loopback and modem status ---- */

static void test_loopback_thr_byte_arrives_in_rbr(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_LOOP);
    out(UART_THR, 0x5A);
    assert_int_equal(t.out_len, 0);
    assert_true(in(UART_LSR)&VUART_LSR_DR);
    assert_int_equal(in(UART_RBR), 0x5A);
    /* the serial input is disconnected in loopback */
    assert_int_equal(vuart_receive(&t.u, 'x'), -1);
    assert_false(in(UART_LSR)&VUART_LSR_DR);
}

static void test_loopback_feeds_modem_inputs(void **state)
{
    (void)state;
    /* Linux's autoconfig: MCR = LOOP | OUT2 | RTS must read MSR 7:4 = DCD | CTS */
    out(UART_MCR, VUART_MCR_LOOP | 0x0A);
    assert_int_equal(in(UART_MSR)&0xF0, 0x90);
    out(UART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR | VUART_MCR_OUT1);
    assert_int_equal(in(UART_MSR)&0xF0, VUART_MSR_DSR | VUART_MSR_RI);
}

static void test_msr_delta_bits_and_interrupt(void **state)
{
    (void)state;
    out(UART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT1 | VUART_MCR_RTS);
    in(UART_MSR); /* clear the deltas of entering loopback */
    out(UART_IER, VUART_IER_EDSSI);
    out(UART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR | VUART_MCR_RTS);
    /* DTR on -> DDSR; OUT1 off -> RI falls -> TERI; RTS unchanged -> no DCTS */
    assert_int_equal(in(UART_IIR), VUART_IIR_ID_MODEM);
    uint8_t msr = in(UART_MSR);
    assert_int_equal(msr & VUART_MSR_DELTA, VUART_MSR_DDSR | VUART_MSR_TERI);
    assert_int_equal(in(UART_MSR)&VUART_MSR_DELTA, 0);
    assert_int_equal(in(UART_IIR), VUART_IIR_NO_INT);
    out(UART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR | VUART_MCR_OUT1);
    /* RI rising is not a trailing edge; RTS off -> DCTS */
    assert_int_equal(in(UART_MSR)&VUART_MSR_DELTA, VUART_MSR_DCTS);
}

/* ---- Linux 6.1's autoconfig() (drivers/tty/serial/8250/8250_port.c), step by step ---- */

static unsigned linux_size_fifo(void)
{
    out(UART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX | VUART_FCR_CLEAR_TX);
    out(UART_MCR, VUART_MCR_LOOP);
    out(UART_LCR, VUART_LCR_DLAB);
    out(UART_DLL, 1);
    out(UART_DLM, 0);
    out(UART_LCR, 0x03);
    for (int i = 0; i < 256; i++)
        out(UART_THR, (uint8_t)i);
    unsigned count = 0;
    while ((in(UART_LSR)&VUART_LSR_DR) && count < 256) {
        in(UART_RBR);
        count++;
    }
    out(UART_MCR, 0);
    return count;
}

static const char *linux_autoconfig(void)
{
    out(UART_IER, 0);
    if ((in(UART_IER)&0x0F) != 0)
        return "IER test failed";
    out(UART_IER, 0x0F);
    if ((in(UART_IER)&0x0F) != 0x0F)
        return "IER test failed";
    out(UART_IER, 0);
    out(UART_MCR, VUART_MCR_LOOP | 0x0A);
    uint8_t status1 = in(UART_MSR)&0xF0;
    out(UART_MCR, 0);
    if (status1 != 0x90)
        return "LOOP test failed";
    out(UART_LCR, 0xBF); /* UART_LCR_CONF_MODE_B */
    out(2, 0);           /* EFR */
    out(UART_LCR, 0);
    out(UART_FCR, VUART_FCR_ENABLE);
    if ((in(UART_IIR) >> 6) != 3)
        return "not a 16550A";
    out(UART_LCR, 0x80); /* CONF_MODE_A: a 16650 shows EFR = 0 here */
    if (in(2) == 0)
        return "ST16650";
    out(UART_LCR, 0xBF);
    if (in(2) == 0)
        return "EFR UART";
    out(UART_LCR, 0);
    uint8_t mcr = in(UART_MCR);
    out(UART_LCR, 0xE0);
    if (((in(2) ^ mcr) & VUART_MCR_LOOP) != 0)
        return "NatSemi check differs";
    out(UART_LCR, 0);
    out(UART_MCR, mcr ^ VUART_MCR_LOOP);
    out(UART_LCR, 0xE0);
    uint8_t status2 = in(2);
    out(UART_LCR, 0);
    out(UART_MCR, mcr);
    if ((status2 ^ mcr) & VUART_MCR_LOOP)
        return "NS16550A";
    out(UART_FCR, VUART_FCR_ENABLE | 0x20); /* UART_FCR7_64BYTE */
    status1 = in(UART_IIR) >> 5;
    out(UART_FCR, VUART_FCR_ENABLE);
    out(UART_LCR, 0x80);
    out(UART_FCR, VUART_FCR_ENABLE | 0x20);
    status2 = in(UART_IIR) >> 5;
    out(UART_FCR, VUART_FCR_ENABLE);
    out(UART_LCR, 0);
    if (status1 == 6 && status2 == 7)
        return "TI16750";
    out(UART_IER, 0x40); /* UART_IER_UUE */
    if (in(UART_IER)&0x40)
        return "XScale";
    out(UART_IER, 0);
    if (linux_size_fifo() == 64)
        return "U6_16550A";
    return "16550A";
}

static void test_linux_autoconfig_finds_a_16550a(void **state)
{
    (void)state;
    assert_string_equal(linux_autoconfig(), "16550A");
    assert_int_equal(t.out_len, 0); /* the probe's loopback bytes never reached the console */
}

static void test_loopback_fifo_holds_sixteen(void **state)
{
    (void)state;
    assert_int_equal(linux_size_fifo(), VUART_FIFO_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_values, setup),
        cmocka_unit_test_setup(test_ier_keeps_four_bits, setup),
        cmocka_unit_test_setup(test_scratch_and_lcr_read_back, setup),
        cmocka_unit_test_setup(test_status_registers_ignore_writes, setup),
        cmocka_unit_test_setup(test_mcr_keeps_five_bits, setup),
        cmocka_unit_test_setup(test_dlab_selects_the_divisor_latch, setup),
        cmocka_unit_test_setup(test_attach_claims_eight_ports, setup),
        cmocka_unit_test_setup(test_thr_write_goes_to_the_console, setup),
        cmocka_unit_test_setup(test_enabling_etbei_raises_thre, setup),
        cmocka_unit_test_setup(test_thr_write_rearms_thre, setup),
        cmocka_unit_test_setup(test_disabling_etbei_lowers_the_line, setup),
        cmocka_unit_test_setup(test_linux_thre_retest_sees_thre_twice, setup),
        cmocka_unit_test_setup(test_out2_gates_the_irq, setup),
        cmocka_unit_test_setup(test_loopback_gates_the_irq, setup),
        cmocka_unit_test_setup(test_irq_number_comes_from_init, setup),
        cmocka_unit_test_setup(test_received_byte_sets_dr_and_reads_out, setup),
        cmocka_unit_test_setup(test_rx_interrupt_without_fifo_on_each_byte, setup),
        cmocka_unit_test_setup(test_rx_data_outranks_thre, setup),
        cmocka_unit_test_setup(test_rx_fifo_trigger_level_and_timeout, setup),
        cmocka_unit_test_setup(test_trigger_levels_1_4_14, setup),
        cmocka_unit_test_setup(test_fifo_overrun_keeps_the_fifo, setup),
        cmocka_unit_test_setup(test_holding_register_overrun_overwrites, setup),
        cmocka_unit_test_setup(test_line_status_interrupt_outranks_data, setup),
        cmocka_unit_test_setup(test_fcr_enable_and_clear, setup),
        cmocka_unit_test_setup(test_fcr_bits_need_the_enable_bit, setup),
        cmocka_unit_test_setup(test_loopback_thr_byte_arrives_in_rbr, setup),
        cmocka_unit_test_setup(test_loopback_feeds_modem_inputs, setup),
        cmocka_unit_test_setup(test_msr_delta_bits_and_interrupt, setup),
        cmocka_unit_test_setup(test_linux_autoconfig_finds_a_16550a, setup),
        cmocka_unit_test_setup(test_loopback_fifo_holds_sixteen, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
