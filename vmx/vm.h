/* A guest VM: its RAM, EPT, intercept bitmaps, vCPU, virtual devices and verdict. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "vmx/ept.h"
#include "vmx/guest_mem.h"
#include "vmx/io.h"
#include "vmx/modargs.h"
#include "vmx/vcpu.h"

#define VM_VERDICT_MAX  128
#define VM_CONSOLE_LINE 160
#define IO_PORT_COUNT   0x10000
#define IO_BITMAP_PORTS 0x8000 /* ports per I/O bitmap page (A: 0-0x7FFF, B: 0x8000-0xFFFF) */

struct guest_entry;

#define VCPU_HOST_STACK_SIZE 16384

/* debug.vmentry=: break the first guest's VMCS on purpose, to test hv's VM-entry failure paths
   (the VM-instruction error of a failed VMLAUNCH, and the invalid-guest-state exit). */
enum vm_debug_entry { VM_DEBUG_ENTRY_NONE, VM_DEBUG_ENTRY_CONTROL, VM_DEBUG_ENTRY_GUEST_STATE };
extern enum vm_debug_entry vm_debug_entry;

/* Registers the guard pages below the vCPU host stacks: call before paging_init. */
void vm_host_stacks_init(void);
/* Top of the host stack of VM slot `slot` (HOST_RSP points into it while that guest runs). */
void *vm_host_stack_top(unsigned slot);

struct vm {
    struct guest_config cfg;
    unsigned index;
    struct guest_mem mem;
    struct ept ept;
    paddr_t msr_bitmap;
    paddr_t io_bitmap[2];
    struct vcpu vcpu;
    void *host_stack_top;
    bool created, ended;
    bool ext_int_warned; /* an unexpected external-interrupt exit was logged */
    char verdict[VM_VERDICT_MAX];
    uint64_t start_tsc, timeout_tsc; /* timeout_tsc 0: none */
    char console[VM_CONSOLE_LINE];   /* virtual COM1 line being assembled */
    unsigned console_len;
    uint8_t uart_regs[8];                    /* virtual 16550 register file (drivers/vdev.c) */
    uint8_t uart_dll, uart_dlm;              /* its divisor latch */
    uint8_t warned_ports[IO_PORT_COUNT / 8]; /* unclaimed ports already seen */
    unsigned unclaimed_ports_seen;           /* how many: only the first few are logged */
    const struct io_device *io_devices[VM_IO_DEVICES];
    unsigned io_device_count;
    paddr_t fpu_state; /* XSAVE/FXSAVE area of the vCPU (one frame) */
};

/* Builds the VM for a module: RAM, EPT, bitmaps, VMCS and entry state. Returns 0, or -1 with
   `why` set (the verdict then is rejected(why)). Frees everything it took on failure. */
int vm_create(struct vm *vm, unsigned index, const void *image, size_t image_len,
              const char *cmdline, char *why, size_t why_size);
/* Records the verdict (first call wins) and marks the VM ended; "killed(...)", "exit(0)", ... */
void vm_end(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees every frame the VM holds (RAM, EPT tables, VMCS, bitmaps) and releases its VPID. */
void vm_destroy(struct vm *vm);
/* Prints the contract line and the per-exit statistics. */
void vm_report(const struct vm *vm);
