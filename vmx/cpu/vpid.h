/*
 * VPID allocator (SDM vol. 3 §29.1): each vCPU gets its own virtual-processor identifier
 * so the TLB can keep its translations across VM entries and exits. VPID 0 is the host's
 * and never handed out. Invalidating a freed or reused VPID (INVVPID) is the VMX layer's job.
 */
#pragma once
#include <stdint.h>

#define VPID_MAX 0xFFFF

/* A VPID no vCPU holds (the lowest free one), never 0. Returns 0 when all are in use. */
uint16_t vpid_alloc(void);

/* Returns a VPID from vpid_alloc. Freeing 0 or an unallocated VPID is a hv bug: panics. */
void vpid_free(uint16_t vpid);

#ifdef HV_HOST_TEST
/* Frees every VPID (host tests only). */
void vpid_reset_for_test(void);
#endif
