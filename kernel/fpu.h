/*
 * FPU/SSE/AVX state. hv itself never touches these registers (-mgeneral-regs-only), but guests
 * do, so each guest's state is saved and restored around its time slice: one guest never sees
 * another's registers. hv's own XCR0 is the superset of what any guest may enable.
 */
#pragma once
#include <stdint.h>

void fpu_init(void);          /* CR4.OSFXSR/OSXMMEXCPT/OSXSAVE, host XCR0 */
uint64_t fpu_host_xcr0(void); /* 0 when the CPU has no XSAVE */
void fpu_save(void *area);    /* 4 KiB, 64-byte aligned */
void fpu_restore(const void *area);
