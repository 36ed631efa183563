/* A guest's FPU/SSE/AVX area as a reset leaves it (kernel/fpu.h). */
#include <stddef.h>
#include "kernel/fpu.h"
#include "kernel/lib/cpuid_leaves.h"

/* The legacy region's first 32 bytes (SDM vol. 1 §10.5.1, Table 10-2). */
struct fxsave_head {
    uint16_t fcw, fsw;
    uint8_t ftw_abridged, reserved;
    uint16_t fop;
    uint64_t fip, fdp;
    uint32_t mxcsr, mxcsr_mask;
};
_Static_assert(offsetof(struct fxsave_head, fcw) == FPU_AREA_FCW, "FCW at byte 0");
_Static_assert(offsetof(struct fxsave_head, mxcsr) == FPU_AREA_MXCSR, "MXCSR at byte 24");

/* The XSAVE header after the legacy region (vol. 1 §13.4.2). */
struct xsave_header {
    uint64_t xstate_bv, xcomp_bv;
};

void fpu_reset_area(void *area)
{
    struct fxsave_head *legacy = area;
    struct xsave_header *header = (void *)((char *)area + FPU_AREA_XSAVE_HEADER);
    *legacy = (struct fxsave_head){.fcw = FPU_RESET_FCW, .mxcsr = FPU_RESET_MXCSR};
    /* XRSTOR takes a component from the area only when its XSTATE_BV bit is 1; otherwise it puts
       the component's init values there (vol. 1 §13.8.1). Both bits say: load the values above.
       FXRSTOR reads only the 512-byte legacy region. The standard format: XCOMP_BV = 0. */
    *header = (struct xsave_header){.xstate_bv = XCR0_X87 | XCR0_SSE, .xcomp_bv = 0};
}
