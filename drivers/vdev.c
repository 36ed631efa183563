#include "drivers/vdev.h"
#include "drivers/uart16550.h"
#include "kernel/log.h"
#include "vmx/vm.h"

#define ASCII_PRINTABLE_FIRST 0x20
#define ASCII_PRINTABLE_LAST  0x7E
#define UART_FCR_FIFO_ENABLE  0x01
#define UART_IIR_FIFO_ENABLED 0xC0

void vm_console_flush(struct vm *vm)
{
    if (!vm->console_len)
        return;
    vm->console[vm->console_len] = '\0';
    log_contract("[%s] %s", vm->cfg.name, vm->console);
    vm->console_len = 0;
}

void vm_console_write(struct vm *vm, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\n') {
            if (!vm->console_len) /* an empty line still shows */
                vm->console[vm->console_len++] = ' ';
            vm_console_flush(vm);
            continue;
        }
        if (c == '\r')
            continue;
        /* Guest bytes never reach hv's console raw: no escape sequences, no control codes. */
        if ((unsigned char)c < ASCII_PRINTABLE_FIRST || (unsigned char)c > ASCII_PRINTABLE_LAST)
            c = c == '\t' ? ' ' : '?';
        vm->console[vm->console_len++] = c;
        if (vm->console_len == VM_CONSOLE_LINE - 1)
            vm_console_flush(vm);
    }
}

/* A 16550 with no input: transmitter always empty, no interrupts pending. */
static uint32_t uart_in(struct vm *vm, uint16_t port, unsigned size)
{
    (void)size;
    unsigned reg = port - UART_COM1_BASE;
    bool dlab = vm->uart_regs[UART_LCR] & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR:
        return dlab ? vm->uart_dll : 0;
    case UART_IER:
        return dlab ? vm->uart_dlm : vm->uart_regs[UART_IER];
    case UART_IIR:
        return UART_IIR_NO_INT |
               ((vm->uart_regs[UART_FCR] & UART_FCR_FIFO_ENABLE) ? UART_IIR_FIFO_ENABLED : 0);
    case UART_LSR:
        return UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE;
    case UART_MSR:
        return 0;
    default: /* LCR, MCR, SCR read back */
        return vm->uart_regs[reg];
    }
}

static void uart_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    (void)size;
    unsigned reg = port - UART_COM1_BASE;
    bool dlab = vm->uart_regs[UART_LCR] & UART_LCR_DLAB;
    if (reg == UART_THR && dlab)
        vm->uart_dll = (uint8_t)value;
    else if (reg == UART_THR) {
        char c = (char)value;
        vm_console_write(vm, &c, 1);
    } else if (reg == UART_IER && dlab)
        vm->uart_dlm = (uint8_t)value;
    else if (reg != UART_LSR && reg != UART_MSR) /* status registers are read-only */
        vm->uart_regs[reg] = (uint8_t)value;
}

static void debug_exit_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    (void)port, (void)size;
    vm_end(vm, "exit(%u)", value);
}

static void acpi_pm_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    if (port == VDEV_ACPI_PM1A_CNT && size == 2 && value == VDEV_ACPI_SLEEP_S5)
        vm_end(vm, "exit(0)");
}

static uint32_t acpi_pm_in(struct vm *vm, uint16_t port, unsigned size)
{
    (void)vm, (void)port, (void)size;
    return 0;
}

static const struct io_device uart_dev = {"com1", UART_COM1_BASE, UART_PORT_COUNT, uart_in,
                                          uart_out};
static const struct io_device debug_exit_dev = {"isa-debug-exit", VDEV_DEBUG_EXIT_PORT, 1, 0,
                                                debug_exit_out};
static const struct io_device acpi_pm_dev = {"acpi-pm1a-cnt", VDEV_ACPI_PM1A_CNT, 2, acpi_pm_in,
                                             acpi_pm_out};

int vdev_register_defaults(struct vm *vm)
{
    if (io_register(vm, &uart_dev) || io_register(vm, &debug_exit_dev) ||
        io_register(vm, &acpi_pm_dev))
        return -1;
    return 0;
}
