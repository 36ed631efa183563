#include "vmx/exit/hypercall.h"
#include "kernel/lib/string.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/guest_walk.h"

#define HV_VERSION_STRING "hv 0.1"

static uint64_t hc_console_write(struct guest *g, uint64_t gpa, uint64_t len)
{
    char buf[HC_CONSOLE_MAX];
    if (len > HC_CONSOLE_MAX || guest_read_gpa(&g->mem, gpa, buf, len))
        return HC_EINVAL;
    guest_console_write(g, buf, len);
    return len;
}

static uint64_t hc_info(struct vcpu *v, uint64_t gpa)
{
    struct hc_info info;
    memset(&info, 0, sizeof(info));
    info.abi_version = HC_ABI_VERSION;
    info.vcpu_id = v->id;
    info.tsc_khz = v->guest->cpu->tsc_khz;
    memcpy(info.hv_version, HV_VERSION_STRING, sizeof(HV_VERSION_STRING));
    memcpy(info.name, v->guest->name, strnlen(v->guest->name, sizeof(info.name) - 1));
    return guest_write_gpa(&v->guest->mem, gpa, &info, sizeof(info)) ? HC_EINVAL : 0;
}

void exit_handle_vmcall(struct vcpu *v)
{
    /* Hypercalls are a kernel interface: user code calling VMCALL gets #UD, as on bare metal. */
    if (vcpu_cpl(v) != 0) {
        vcpu_inject_ud(v);
        return;
    }
    uint32_t nr = (uint32_t)v->regs.gpr[REG_RAX];
    uint32_t arg1 = (uint32_t)v->regs.gpr[REG_RBX], arg2 = (uint32_t)v->regs.gpr[REG_RCX];
    uint64_t result;
    switch (nr) {
    case HC_EXIT:
        guest_end(v->guest, "exit(%u)", arg1);
        result = 0;
        break;
    case HC_CONSOLE_WRITE:
        result = hc_console_write(v->guest, arg1, arg2);
        break;
    case HC_INFO:
        result = hc_info(v, arg1);
        break;
    default:
        result = HC_ENOSYS;
        break;
    }
    v->regs.gpr[REG_RAX] = result;
    vcpu_skip_instruction(v);
}
