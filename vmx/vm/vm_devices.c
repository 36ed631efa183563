/* A VM's devices and the host services they call back into (drivers/vdev/vdev.h). hv-ABI guests
   get the small platform of docs/guest-abi.md; virtual-PC guests the PC's controllers, timers
   and ports, wired here: the router feeds the 8259 pair and the IOAPIC, the IOAPIC's messages
   go to the local APICs, a local APIC's EOI of a level-triggered vector goes back to the
   IOAPIC. */
#include "drivers/uart16550.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "vmx/loader/acpi.h"
#include "vmx/vm/sched.h"
#include "vmx/vm/vm.h"

#define APIC_DEST_BROADCAST 0xFFu /* xAPIC physical destination "all" */
#define KHZ                 1000u

struct vrtc_time vm_rtc_boot_time = {2000, 1, 1, 0, 0, 0};

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
    /* The device may run on another CPU than the vCPU (an IPI, an interrupt a device raised on
       another vCPU's exit, typed input from the console service). */
    struct vm *vm = ctx;
    if (vcpu < vm->vcpu_count)
        sched_kick_vcpu(&vm->vcpus[vcpu]);
}

static uint64_t host_now(void *ctx)
{
    (void)ctx;
    /* The host TSC: every device of the VM uses this one time base. The guest's TSC differs by
       VMCS_TSC_OFFSET only (no scaling), so durations are the same in both. */
    return hw_rdtsc();
}

/* Does local APIC `a` accept a message for `dest` (SDM vol. 3 "Determining IPI Destination"):
   physical: its ID or the broadcast ID; logical flat model: a bit of its LDR. */
static bool apic_matches(const struct vlapic *a, uint32_t dest, bool logical)
{
    if (!logical)
        return dest == APIC_DEST_BROADCAST || dest == a->apic_id;
    return (a->ldr >> 24) & dest;
}

static void ioapic_deliver(void *ctx, uint32_t dest, bool logical, unsigned mode, unsigned vector,
                           bool level)
{
    struct vm *vm = ctx;
    struct vm_pc *pc = &vm->dev.pc;
    if (mode != APIC_DM_FIXED && mode != APIC_DM_LOWEST && mode != APIC_DM_NMI) {
        pc->messages_dropped++; /* SMI, INIT and ExtINT messages: not modelled */
        return;
    }
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        if (!apic_matches(&pc->lapic[i], dest, logical))
            continue;
        if (mode == APIC_DM_NMI)
            vlapic_nmi(&pc->lapic[i]); /* the vector is ignored (82093AA, delivery mode 100) */
        else
            vlapic_set_intr(&pc->lapic[i], vector, level);
        if (mode == APIC_DM_LOWEST)
            return; /* one recipient: the first that matches */
    }
}

static void lapic_eoi(void *ctx, unsigned vector)
{
    struct vm *vm = ctx;
    vioapic_eoi(&vm->dev.pc.ioapic, vector);
}

static void lapic_ipi(void *ctx, unsigned src, uint32_t dest, unsigned shorthand, bool logical,
                      unsigned mode, unsigned vector)
{
    /* The sender's own share was delivered by its APIC; with one vCPU nobody else exists. */
    struct vm *vm = ctx;
    (void)src, (void)dest, (void)shorthand, (void)logical, (void)mode, (void)vector;
    vm->dev.pc.ipis_dropped++;
}

static int pc_devices_init(struct vm *vm)
{
    struct vm_devices *d = &vm->dev;
    struct vm_pc *pc = &d->pc;
    vuart_init(&pc->com1, &d->host, &d->irq, VDEV_IRQ_COM1);
    vpic_init(&pc->pic, &d->host);
    vioapic_init(&pc->ioapic, &d->host, ioapic_deliver, vm);
    pc->ioapic.id = ACPI_IOAPIC_ID << VIOAPIC_ID_SHIFT; /* as the MADT says (vmx/loader/acpi.h) */
    vpit_init(&pc->pit, &d->host, &d->timers, &d->irq);
    vrtc_init(&pc->rtc, &d->host, &d->timers, &d->irq, &vm_rtc_boot_time);
    vkbd_init(&pc->kbd, &d->host);
    vdev_platform_init(&pc->platform, &d->host);
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        vlapic_init(&pc->lapic[i], &d->host, &d->timers, i, i == 0, lapic_eoi, lapic_ipi, vm);
        vm->vcpus[i].lapic = &pc->lapic[i];
    }
    vm->g.pic = &pc->pic;
    if (vuart_attach(&pc->com1, &d->bus, UART_COM1_BASE) ||
        vpic_attach(&pc->pic, &d->bus, &d->irq) || vioapic_attach(&pc->ioapic, &d->bus, &d->irq) ||
        vpit_attach(&pc->pit, &d->bus) || vrtc_attach(&pc->rtc, &d->bus) ||
        vkbd_attach(&pc->kbd, &d->bus) || vdev_platform_attach(&pc->platform, &d->bus) ||
        vdev_power_attach_pm1a_events(&d->power, &d->bus) ||
        vdev_bus_add_mmio(&d->bus, "lapic", VLAPIC_BASE_ADDR, VLAPIC_PAGE_SIZE, &vlapic_mmio_ops,
                          &pc->lapic[0]))
        return -1;
    return 0;
}

int vm_devices_init(struct vm *vm)
{
    struct vm_devices *d = &vm->dev;
    d->host = (struct vdev_host){vm,
                                 host_end_vm,
                                 host_console_write,
                                 host_kick_vcpu,
                                 host_now,
                                 vm->cpu_model.tsc_khz * KHZ,
                                 vm->cfg.name};
    vdev_bus_init(&d->bus, &d->host);
    vdev_irq_init(&d->irq);
    vdev_timers_init(&d->timers);
    vm->g.bus = &d->bus;
    vdev_power_init(&d->power, &d->host);
    if (vdev_power_attach(&d->power, &d->bus))
        return -1;
    if (vm->platform == VM_PLATFORM_PC)
        return pc_devices_init(vm);
    vdev_uart_init(&d->com1, &d->host);
    return vdev_uart_attach(&d->com1, &d->bus, UART_COM1_BASE);
}
