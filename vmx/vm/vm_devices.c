/* A VM's devices and the host services they call back into (drivers/vdev/vdev.h). */
#include "drivers/uart16550.h"
#include "kernel/lib/hw.h"
#include "vmx/vm/vm.h"

static void host_end_vm(void *ctx, const char *verdict)
{
    struct vm *vm = ctx;
    guest_end(&vm->g, "%s", verdict);
}

static void host_console_write(void *ctx, const char *buf, size_t len)
{
    struct vm *vm = ctx;
    guest_console_write(&vm->g, buf, len);
}

static void host_kick_vcpu(void *ctx, unsigned vcpu)
{
    /* One vCPU, run by the CPU that runs the device: it sees the interrupt at its next entry. */
    (void)ctx, (void)vcpu;
}

static uint64_t host_now(void *ctx)
{
    (void)ctx;
    /* The host TSC: every device of the VM uses this one time base. The guest's TSC differs by
       VMCS_TSC_OFFSET only (no scaling), so durations are the same in both. */
    return hw_rdtsc();
}

int vm_devices_init(struct vm *vm)
{
    struct vm_devices *d = &vm->dev;
    d->host = (struct vdev_host){vm,       host_end_vm, host_console_write, host_kick_vcpu,
                                 host_now, 0,           vm->cfg.name};
    vdev_bus_init(&d->bus, &d->host);
    vm->g.bus = &d->bus;
    vdev_uart_init(&d->com1, &d->host);
    vdev_power_init(&d->power, &d->host);
    if (vdev_uart_attach(&d->com1, &d->bus, UART_COM1_BASE) ||
        vdev_power_attach(&d->power, &d->bus))
        return -1;
    return 0;
}
