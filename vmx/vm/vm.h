/* A guest VM: its RAM, EPT, intercept bitmaps, vCPUs, virtual devices and verdict. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/platform.h"
#include "drivers/vdev/power.h"
#include "drivers/vdev/uart.h"
#include "drivers/vdev/vdev.h"
#include "drivers/vdev/vioapic.h"
#include "drivers/vdev/vkbd.h"
#include "drivers/vdev/vlapic.h"
#include "drivers/vdev/vpic.h"
#include "drivers/vdev/vpit.h"
#include "drivers/vdev/vrtc.h"
#include "drivers/vdev/vuart.h"
#include "vmx/exit/cpu_model.h"
#include "kernel/lib/byte_ring.h"
#include "kernel/spinlock.h"
#include "vmx/loader/modargs.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu.h"

struct guest_entry;
struct loader_module;

/* debug.vmentry=: break the first guest's VMCS on purpose, to test hv's VM-entry failure paths
   (the VM-instruction error of a failed VMLAUNCH, and the invalid-guest-state exit). */
enum vm_debug_entry { VM_DEBUG_ENTRY_NONE, VM_DEBUG_ENTRY_CONTROL, VM_DEBUG_ENTRY_GUEST_STATE };
extern enum vm_debug_entry vm_debug_entry;

/* Which machine a guest sees: hv's own ABI (docs/guest-abi.md: COM1 without interrupts, the
   power ports, no interrupt controllers) or a virtual PC (Linux guests: local APIC, IOAPIC,
   8259 pair, 8254, RTC, an interrupting 16550, i8042, ACPI tables). */
enum vm_platform { VM_PLATFORM_ABI, VM_PLATFORM_PC };

/* The virtual PC's devices (drivers/vdev/), each with its own state. */
struct vm_pc {
    struct vuart com1;
    struct vpic pic;
    struct vioapic ioapic;
    struct vlapic lapic[GUEST_VCPUS_MAX];
    struct vpit pit;
    struct vrtc rtc;
    struct vkbd kbd;
    struct vdev_platform platform;
    uint64_t ipis_dropped;     /* IPIs to APIC IDs no vCPU has */
    uint64_t messages_dropped; /* IOAPIC SMI, INIT and ExtINT messages (not modelled) */
};

/* The VM's virtual devices, each with its own state (drivers/vdev/). */
struct vm_devices {
    struct vdev_host host; /* the services they call back into (vmx/vm/vm_devices.c) */
    struct vdev_bus bus;
    struct vdev_irq_router irq;
    struct vdev_timers timers;
    struct vdev_power power;
    struct vdev_uart com1; /* VM_PLATFORM_ABI */
    struct vm_pc pc;       /* VM_PLATFORM_PC */
};

/* The date and time the guests' RTCs start from: the machine's clock, read once at boot
   (kernel/main.c); 2000-01-01 00:00:00 when it could not be read. */
extern struct vrtc_time vm_rtc_boot_time;

/* Keys typed for a guest while it has the console focus that its COM1's receive FIFO could not
   take yet (vmx/vm/vm_console.c): held here, hv being the flow control a terminal server is. */
#define VM_CONSOLE_INPUT_SIZE 1024
struct vm_console_input {
    struct byte_ring ring;
    uint64_t dropped;        /* typed while the queue was full */
    bool no_receiver_warned; /* an hv-ABI guest's COM1 receives nothing: said once */
    uint8_t buf[VM_CONSOLE_INPUT_SIZE];
};

struct vm {
    struct guest g; /* what its vCPUs' exits act on (vmx/vcpu/guest.h) */
    struct guest_config cfg;
    struct vcpu vcpus[GUEST_VCPUS_MAX]; /* the first vcpu_count exist; only vCPU 0 runs yet */
    unsigned vcpu_count;
    struct cpu_model cpu_model; /* built at creation; g.cpu points to it */
    bool created;
    /* The device-model lock: held around every access to the VM's devices and around each exit
       handler (vmx/vm/sched.c), so its vCPUs on different CPUs see one device state. Lock order
       (docs/design.md): console service, VM, guest console, hv console, frame allocator. */
    struct spinlock lock;
    unsigned vcpus_live;             /* vCPUs not yet retired (vmx/vm/sched.c), atomic */
    uint64_t start_tsc, timeout_tsc; /* timeout_tsc 0: none */
    uint64_t tsc_used;               /* TSC ticks its slices took */
    struct vm_console_input console_in;
    enum vm_platform platform;
    struct vm_devices dev;
};

/* Sets up the VM's devices and claims their ports; returns 0 or -1. */
int vm_devices_init(struct vm *vm);

/* Builds the VM for a module: CPU model, RAM, EPT, bitmaps, VMCS and entry state, with the nmods
   data modules `mods` handed to it (vmx/loader/loader.h). tsc_khz is the host's calibrated TSC
   frequency the guest is told (0: unknown). Returns 0, or -1 with `why` set (the verdict then is
   rejected(why)). Frees everything it took on failure. */
int vm_create(struct vm *vm, unsigned index, const void *image, size_t image_len,
              const char *cmdline, const struct loader_module *mods, size_t nmods, uint64_t tsc_khz,
              char *why, size_t why_size);
/* Frees every frame the VM holds (RAM, EPT tables, bitmaps, each vCPU's VMCS and FPU area) and
   releases the VPIDs. */
void vm_destroy(struct vm *vm);
/* Prints the contract line and the per-exit statistics (all vCPUs together). */
void vm_report(const struct vm *vm);
