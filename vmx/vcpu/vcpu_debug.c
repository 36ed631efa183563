#include "vmx/vcpu/vcpu_debug.h"
#include "kernel/lib/hw.h"

#define DR6_RESET 0xFFFF0FF0ull /* SDM vol. 3 Table 10-1; bits 4-11 and 16-31 read as 1 */

void vcpu_debug_reset(struct vcpu *v)
{
    for (unsigned i = 0; i < VCPU_DEBUG_ADDR_REGS; i++)
        v->debug.dr[i] = 0;
    v->debug.dr6 = DR6_RESET;
}

void vcpu_debug_load(const struct vcpu *v)
{
    hw_write_dr0(v->debug.dr[0]);
    hw_write_dr1(v->debug.dr[1]);
    hw_write_dr2(v->debug.dr[2]);
    hw_write_dr3(v->debug.dr[3]);
    hw_write_dr6(v->debug.dr6);
}

void vcpu_debug_save(struct vcpu *v)
{
    v->debug.dr[0] = hw_read_dr0();
    v->debug.dr[1] = hw_read_dr1();
    v->debug.dr[2] = hw_read_dr2();
    v->debug.dr[3] = hw_read_dr3();
    v->debug.dr6 = hw_read_dr6();
}
