/*
 * What a VM's vCPUs and their exit handlers act on: its name, RAM, EPT, intercept bitmaps, device
 * bus, CPU model, console line and verdict. vmx/vm/ owns it (struct vm embeds one) and does the
 * lifecycle; vcpu/ and exit/ see only this part, through vcpu->guest, so they never include
 * vmx/vm/.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "drivers/vdev/vdev.h"
#include "mm/buddy.h"
#include "mm/guest_mem.h"
#include "vmx/cpu/ept.h"
#include "vmx/vcpu/guest_console.h"

struct cpu_model;
struct vpic;

#define GUEST_VERDICT_MAX 128

/* The APIC-access page of APIC-register virtualization (vmx/vcpu/vcpu_apicv.h). */
struct guest_apic_access {
    paddr_t page;       /* PADDR_NONE: the decode path only */
    bool mapped;        /* the EPT maps VLAPIC_BASE_ADDR to it */
    unsigned bypassing; /* vCPUs whose APIC does not decode the xAPIC page right now */
};

struct guest {
    const char *name;
    unsigned index;
    struct guest_mem mem;
    struct ept ept;
    paddr_t msr_bitmap;
    paddr_t io_bitmap[2];
    struct vdev_bus *bus;
    const struct cpu_model *cpu; /* what CPUID, XSETBV and MSRs show (vmx/exit/cpu_model.h) */
    struct vpic *pic;            /* the 8259 pair (virtual PC guests), else NULL */
    struct guest_apic_access apic_access;
    /* Bumped whenever a mapping of the EPT changes or goes away (guest_ept_changed): every CPU
       that runs a vCPU of the VM then invalidates what it cached before entering it again. */
    uint64_t ept_gen;
    struct vcpu *vcpus; /* its vCPUs, vcpu_count of them (for the shootdown) */
    unsigned vcpu_count;
    bool ended;
    bool ext_int_warned; /* an unexpected external-interrupt exit was logged */
    char verdict[GUEST_VERDICT_MAX];
    struct guest_console console; /* its output on hv's console (vmx/vcpu/guest_console.h) */
};

/* An EPT mapping changed (prepare-then-commit: call after the change): INVEPT here, and every
   other vCPU of the guest in guest mode on another CPU is made to exit; this returns once none of
   them can use a stale translation any more (each INVEPTs before its next entry). Called with the
   VM's lock held; the vCPUs it waits for leave guest mode without taking it. */
void guest_ept_changed(struct guest *g);

/* The vCPU must not be entered: its console ring could not take another exit's worth
   (vmx/vcpu/guest_console.h). Read without the ring's lock, before every entry: the count only
   shrinks behind the vCPU's back (the console service drains), so a stale value errs on the
   side of waiting. */
static inline bool guest_console_backlogged(const struct guest *g)
{
    const struct byte_ring *r = &g->console.out;
    return r->size - __atomic_load_n(&r->count, __ATOMIC_RELAXED) < GUEST_CONSOLE_EXIT_MAX;
}

/* Records the verdict (first call wins) and marks the guest ended: "killed(...)", "exit(0)". */
void guest_end(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
