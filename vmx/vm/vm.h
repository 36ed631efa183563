/* A guest VM: its RAM, EPT, intercept bitmaps, vCPUs, virtual devices and verdict. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/power.h"
#include "drivers/vdev/uart.h"
#include "drivers/vdev/vdev.h"
#include "vmx/loader/modargs.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu.h"

struct guest_entry;

#define VCPU_HOST_STACK_SIZE 16384
/* vCPUs a guest may have today: vcpus=N beyond this is rejected until SMP lands (AP start-up,
   per-vCPU scheduling). Host stacks exist for this many per VM slot. */
#define VM_VCPUS_SUPPORTED 1u

/* debug.vmentry=: break the first guest's VMCS on purpose, to test hv's VM-entry failure paths
   (the VM-instruction error of a failed VMLAUNCH, and the invalid-guest-state exit). */
enum vm_debug_entry { VM_DEBUG_ENTRY_NONE, VM_DEBUG_ENTRY_CONTROL, VM_DEBUG_ENTRY_GUEST_STATE };
extern enum vm_debug_entry vm_debug_entry;

/* Registers the guard pages below the vCPU host stacks: call before paging_init. */
void vm_host_stacks_init(void);
/* Top of the host stack of vCPU `vcpu` of VM slot `slot` (HOST_RSP points into it while that
   vCPU runs); vcpu < VM_VCPUS_SUPPORTED. */
void *vm_host_stack_top(unsigned slot, unsigned vcpu);

/* The VM's virtual devices, each with its own state (drivers/vdev/). */
struct vm_devices {
    struct vdev_host host; /* the services they call back into (vmx/vm/vm_devices.c) */
    struct vdev_bus bus;
    struct vdev_uart com1;
    struct vdev_power power;
};

struct vm {
    struct guest g; /* what its vCPUs' exits act on (vmx/vcpu/guest.h) */
    struct guest_config cfg;
    struct vcpu vcpus[GUEST_VCPUS_MAX]; /* the first vcpu_count exist; only vCPU 0 runs yet */
    unsigned vcpu_count;
    bool created;
    uint64_t start_tsc, timeout_tsc; /* timeout_tsc 0: none */
    struct vm_devices dev;
};

/* Sets up the VM's devices and claims their ports; returns 0 or -1. */
int vm_devices_init(struct vm *vm);

/* Builds the VM for a module: RAM, EPT, bitmaps, VMCS and entry state. Returns 0, or -1 with
   `why` set (the verdict then is rejected(why)). Frees everything it took on failure. */
int vm_create(struct vm *vm, unsigned index, const void *image, size_t image_len,
              const char *cmdline, char *why, size_t why_size);
/* Frees every frame the VM holds (RAM, EPT tables, bitmaps, each vCPU's VMCS and FPU area) and
   releases the VPIDs. */
void vm_destroy(struct vm *vm);
/* Prints the contract line and the per-exit statistics (all vCPUs together). */
void vm_report(const struct vm *vm);
