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

/* Where the reset values sit in the area (SDM vol. 1 Table 10-2; the XSAVE header, §13.4.2). */
#define FPU_AREA_FCW          0
#define FPU_AREA_MXCSR        24
#define FPU_AREA_XSAVE_HEADER 512 /* XSTATE_BV, then XCOMP_BV */
/* The x87 control word after FNINIT, which is the x87 state's initial configuration in XSAVE
   terms (vol. 1 §13.6): all exceptions masked, 64-bit precision, round to nearest. Table 10-1's
   raw power-up value (0040H) is never what firmware hands a kernel. */
#define FPU_RESET_FCW 0x037Fu
/* MXCSR after RESET (vol. 3 Table 10-1): all SIMD exceptions masked, round to nearest. */
#define FPU_RESET_MXCSR 0x1F80u

/* Fills a zeroed area (fpu_save's format) with the state after RESET, so that the first
   fpu_restore gives the guest FCW 0x037F and MXCSR 0x1F80 with XSAVE and with FXSAVE alike. */
void fpu_reset_area(void *area);
