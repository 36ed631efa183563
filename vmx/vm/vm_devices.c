/* A VM's devices and the host services they call back into (drivers/vdev/vdev.h). hv-ABI guests
   get the small platform of docs/guest-abi.md; virtual-PC guests the PC's controllers, timers
   and ports, wired here: the router feeds the 8259 pair and the IOAPIC, the IOAPIC's messages
   go to the local APICs, a local APIC's EOI of a level-triggered vector goes back to the
   IOAPIC. */
#include "drivers/uart16550.h"
#include "drivers/vdev/vapic_dest.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "vmx/loader/acpi.h"
#include "vmx/vcpu/vcpu_startup.h"
#include "vmx/vm/sched.h"
#include "vmx/vm/vm.h"

#define KHZ 1000u
/* Timers of a virtual PC: the PIT's, the RTC's and every local APIC's. */
#define PC_FIXED_TIMERS 2u
_Static_assert(VDEV_MAX_TIMERS >= PC_FIXED_TIMERS + GUEST_VCPUS_MAX,
               "the timer service holds a virtual PC with the most vCPUs");
_Static_assert(GUEST_VCPUS_MAX <= VAPIC_SET_MAX, "a vapic_set names every vCPU");

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

/* An interrupt, NMI, INIT or SIPI became pending for vCPU `vcpu` (its local APIC's ID, which is
   its index): the vCPU may be in guest mode on another CPU right now. */
static void host_kick_vcpu(void *ctx, unsigned vcpu)
{
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

/* The lowest-numbered vCPU of a set: the one a lowest-priority message goes to. hv does not
   arbitrate priorities (SDM vol. 3 "Lowest Priority Delivery Mode" leaves the choice to the
   chipset); the lowest index is deterministic and spreads nothing. */
static vapic_set lowest_of(vapic_set set)
{
    return set & (~set + 1);
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
    /* A redirection entry's destination is 8 bits: the xAPIC format (82093AA, bits 63:56). */
    const struct vapic_dest d = {dest, APIC_SH_NONE, logical, false};
    vapic_set set = vapic_dest_set(pc->lapic, vm->vcpu_count, VAPIC_NO_SENDER, &d);
    if (mode == APIC_DM_LOWEST)
        set = lowest_of(set);
    for (; set; set &= set - 1) {
        unsigned i = (unsigned)__builtin_ctz(set);
        if (mode == APIC_DM_NMI)
            vlapic_nmi(&pc->lapic[i]); /* the vector is ignored (82093AA, delivery mode 100) */
        else
            vlapic_set_intr(&pc->lapic[i], vector, level);
    }
}

static void lapic_eoi(void *ctx, unsigned vector)
{
    struct vm *vm = ctx;
    vioapic_eoi(&vm->dev.pc.ioapic, vector);
}

/* One IPI's effect on one target vCPU (SDM vol. 3 APIC 10.6.1 delivery modes). Fixed and NMI
   go into its local APIC, which kicks it when there is something to deliver; INIT and SIPI are
   posted to the vCPU (vmx/vcpu/vcpu_startup.h) and the vCPU kicked. */
static void ipi_to(struct vm *vm, unsigned i, unsigned mode, unsigned vector)
{
    struct vlapic *a = &vm->dev.pc.lapic[i];
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        vlapic_set_intr(a, vector, false); /* IPIs are edge-triggered, as the sender's own share */
        break;
    case APIC_DM_NMI:
        vlapic_nmi(a);
        break;
    case APIC_DM_INIT:
        vcpu_post_init(&vm->vcpus[i]);
        host_kick_vcpu(vm, i);
        break;
    case APIC_DM_STARTUP:
        vcpu_post_sipi(&vm->vcpus[i], (uint8_t)vector);
        host_kick_vcpu(vm, i);
        break;
    default:
        break;
    }
}

/* SMI and ExtINT IPIs are not modelled (and ExtINT is no IPI: SDM APIC 10.6.1). */
static bool ipi_mode_modelled(unsigned mode)
{
    return mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST || mode == APIC_DM_NMI ||
           mode == APIC_DM_INIT || mode == APIC_DM_STARTUP;
}

/* The share of an IPI the sender's APIC left to the VM (drivers/vdev/vlapic.h, vlapic_ipi_fn):
   fixed and NMI messages that name other vCPUs (the sender's own share is delivered already),
   every INIT and SIPI (the sender's own included: an INIT to itself resets it too). A
   lowest-priority message goes to one vCPU: the sender if it is named (delivered already), else
   the lowest-numbered named vCPU. A message no vCPU takes is dropped and counted (an APIC ID no
   vCPU has; SMI and ExtINT, not modelled). */
static void lapic_ipi(void *ctx, unsigned src, uint32_t dest, unsigned shorthand, bool logical,
                      unsigned mode, unsigned vector)
{
    struct vm *vm = ctx;
    struct vm_pc *pc = &vm->dev.pc;
    unsigned sender = vapic_index_of(pc->lapic, vm->vcpu_count, src);
    bool x2apic = sender < vm->vcpu_count && vlapic_x2apic_mode(&pc->lapic[sender]);
    const struct vapic_dest d = {dest, shorthand, logical, x2apic};
    vapic_set set = vapic_dest_set(pc->lapic, vm->vcpu_count, sender, &d);
    vapic_set self = sender < vm->vcpu_count ? 1u << sender : 0;
    if (!set || !ipi_mode_modelled(mode)) {
        pc->ipis_dropped++;
        return;
    }
    if (mode == APIC_DM_LOWEST)
        set = (set & self) ? 0 : lowest_of(set);
    else if (mode == APIC_DM_FIXED || mode == APIC_DM_NMI)
        set &= ~self;
    for (; set; set &= set - 1)
        ipi_to(vm, (unsigned)__builtin_ctz(set), mode, vector);
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
        vdev_bus_add_mmio_banked(&d->bus, "lapic", VLAPIC_BASE_ADDR, VLAPIC_PAGE_SIZE,
                                 &vlapic_mmio_ops, pc->lapic, sizeof(pc->lapic[0]), vm->vcpu_count))
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
