/* The FPU area a new vCPU starts from (kernel/fpu.c): the first XRSTOR/FXRSTOR gives the guest
   the x87 control word and MXCSR of a reset CPU, not zeros. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "kernel/fpu.h"

#define AREA_SIZE 4096

static _Alignas(64) uint8_t area[AREA_SIZE];

static uint64_t le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = bytes; i--;)
        v = (v << 8) | p[i];
    return v;
}

static void test_reset_area_bytes(void **state)
{
    (void)state;
    memset(area, 0, sizeof(area));
    fpu_reset_area(area);
    assert_int_equal(le(area + 0, 2), 0x037F);  /* FCW */
    assert_int_equal(le(area + 2, 2), 0);       /* FSW */
    assert_int_equal(area[4], 0);               /* abridged FTW: every register empty */
    assert_int_equal(le(area + 24, 4), 0x1F80); /* MXCSR */
    assert_int_equal(le(area + 512, 8), 0x3);   /* XSTATE_BV: x87 and SSE from the area */
    assert_int_equal(le(area + 520, 8), 0);     /* XCOMP_BV: standard format */
    for (unsigned i = 528; i < AREA_SIZE; i++)  /* the rest of the header and every component */
        if (area[i])
            fail_msg("byte %u is 0x%x, want 0", i, area[i]);
    for (unsigned i = 32; i < 512; i++) /* ST0-7, XMM0-15 and the reserved bytes */
        if (area[i])
            fail_msg("legacy byte %u is 0x%x, want 0", i, area[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_area_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
