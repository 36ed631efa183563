/*
 * hv's virtual address space:
 *   [1 MiB, __hv_end)          hv's image, identity-mapped with 4 KiB pages (W^X), stack guard
 *                              pages left unmapped;
 *   DIRECT_MAP_BASE + pa       every physical RAM range (1 GiB / 2 MiB pages, RW, NX).
 */
#pragma once
#include <stdint.h>
#include "mm/buddy.h"

#define DIRECT_MAP_BASE 0xFFFF800000000000ull /* PML4 slot 256, the start of the upper half */

static inline void *phys_to_virt(paddr_t pa)
{
#ifdef HV_HOST_TEST /* host tests: a "physical" address is a host pointer (fake_frames.c) */
    return (void *)(uintptr_t)pa;
#else
    return (void *)(uintptr_t)(pa + DIRECT_MAP_BASE);
#endif
}

/* Accepts direct-map addresses and hv's identity-mapped image. */
static inline paddr_t virt_to_phys(const void *va)
{
    uintptr_t v = (uintptr_t)va;
#ifdef HV_HOST_TEST
    return v;
#else
    return v >= DIRECT_MAP_BASE ? v - DIRECT_MAP_BASE : v;
#endif
}
