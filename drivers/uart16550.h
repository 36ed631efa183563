/* 16550 UART registers (offsets from the port base) and bits; shared by hv's serial driver
   and the guests' virtual COM1. */
#pragma once

#define UART_COM1_BASE  0x3F8
#define UART_COM2_BASE  0x2F8
#define UART_COM3_BASE  0x3E8
#define UART_COM4_BASE  0x2E8
#define UART_PORT_COUNT 8

#define UART_THR 0 /* write, DLAB=0 */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_LCR_8N1          0x03
#define UART_LCR_DLAB         0x80
#define UART_FCR_ENABLE_CLEAR 0xC7 /* FIFO on, both cleared, 14-byte trigger */
#define UART_MCR_DTR_RTS_OUT2 0x0B
#define UART_LSR_DATA_READY   0x01
#define UART_LSR_OVERRUN      0x02
#define UART_LSR_THR_EMPTY    0x20
#define UART_LSR_TX_IDLE      0x40
#define UART_IIR_NO_INT       0x01
/* IIR bits 7:6 read 11 when the FIFOs are enabled (16550A); an 8250/16450 has none. */
#define UART_IIR_FIFOS_ON    0xC0
#define UART_TX_FIFO_SIZE    16 /* bytes the transmitter takes once THRE is set (16550A) */
#define UART_CLOCK_HZ        1843200
#define UART_BAUD_DIVISOR(b) (UART_CLOCK_HZ / 16 / (b))
