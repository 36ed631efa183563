/*
 * Intercept bitmaps: which port accesses (I/O bitmaps A and B, SDM vol. 3 §25.6.4) and which
 * RDMSR/WRMSR (MSR bitmap, §25.6.9) cause VM exits. A set bit means "exit". The raw functions
 * take the 4 KiB bitmap pages as pointers so they can be tested on their own; the vcpu_
 * wrappers find the VM's pages. Changes take effect at the next VM entry.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "vmx/vcpu/vcpu.h"

#define IO_BITMAP_PORTS 0x8000 /* ports per I/O bitmap page (A: 0-0x7FFF, B: 0x8000-0xFFFF) */

/* Ports [port, port+count): exit (on) or pass through. -1, nothing changed, if the range goes
   past port 0xFFFF. bitmap_a covers ports 0-0x7FFF, bitmap_b 0x8000-0xFFFF. */
int intercept_io(uint8_t *bitmap_a, uint8_t *bitmap_b, uint32_t port, uint32_t count, bool on);
/* True if an access to `port` exits. */
bool intercept_io_is(const uint8_t *bitmap_a, const uint8_t *bitmap_b, uint32_t port);

/* Sets the read and the write intercept of one MSR (true: RDMSR/WRMSR exits, false: runs
   natively). -1, nothing changed, for an MSR outside 0-0x1FFF and 0xC0000000-0xC0001FFF. */
int intercept_msr(uint8_t *msr_bitmap, uint32_t msr, bool read, bool write);
/* True if RDMSR (write false) or WRMSR (write true) of `msr` exits; always true outside the
   bitmap's two ranges, where every access exits (§26.1.3). */
bool intercept_msr_is(const uint8_t *msr_bitmap, uint32_t msr, bool write);

/* The same on v's VM bitmaps (vm->io_bitmap[0/1], vm->msr_bitmap). */
int vcpu_set_io_intercept(struct vcpu *v, uint32_t port, uint32_t count, bool on);
int vcpu_set_msr_intercept(struct vcpu *v, uint32_t msr, bool read, bool write);
