/*
 * MMIO emulation: an EPT violation at a guest-physical address a device claims on the bus
 * (drivers/vdev/vdev.h) is the guest touching that device's registers. hv fetches the
 * instruction at RIP, decodes the move (vmx/exit/mmio_decode.h), performs the access on the
 * device and advances RIP past the instruction. The exit's instruction length is not valid for
 * EPT violations (SDM vol. 3 "Information for VM Exits Due to Instruction Execution"), so the
 * length comes from the decoder.
 */
#include "kernel/lib/x86.h"
#include "kernel/log.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/mmio_decode.h"
#include "vmx/vcpu/guest.h"
#include "vmx/vcpu/vcpu_walk.h"

#define PAGE_BYTES 4096ull

/* Reads up to MMIO_INSN_MAX instruction bytes at CS:RIP; the second page is optional (an
   instruction that ends before it needs none of it). Returns the bytes read, 0 on a fault. */
static size_t fetch_instruction(struct vcpu *v, uint8_t *buf)
{
    struct walk_ctx c;
    struct walk_fault f;
    vcpu_walk_ctx(v, &c);
    uint64_t rip = vmcs_readnat(VMCS_GUEST_CS_BASE) + vcpu_rip(v);
    if (!vcpu_in_64bit_mode(v))
        rip &= 0xFFFFFFFFull;
    size_t first = PAGE_BYTES - (rip & (PAGE_BYTES - 1));
    if (first > MMIO_INSN_MAX)
        first = MMIO_INSN_MAX;
    int r = guest_read_gva(&c, rip, buf, first, WALK_FETCH, &f);
    if (r != WALK_OK) {
        vcpu_walk_failed(v, r, &f, WALK_FETCH);
        return 0;
    }
    if (first < MMIO_INSN_MAX && guest_read_gva(&c, rip + first, buf + first, MMIO_INSN_MAX - first,
                                                WALK_FETCH, &f) == WALK_OK)
        return MMIO_INSN_MAX;
    return first;
}

bool exit_mmio_emulate(struct vcpu *v, uint64_t gpa)
{
    uint8_t bytes[MMIO_INSN_MAX];
    struct mmio_insn in;
    const struct vdev_mmio_range *r = vdev_bus_find_mmio(v->guest->bus, gpa, 1);
    if (!r)
        return false;
    size_t n = fetch_instruction(v, bytes);
    if (!n)
        return true; /* a fault was injected, or the guest ended */
    bool op32 = vcpu_field(v, VCPU_CS_AR) & SEG_AR_DB;
    if (mmio_decode(bytes, n, vcpu_in_64bit_mode(v), op32, &in) ||
        !vdev_bus_find_mmio(v->guest->bus, gpa, in.size)) {
        guest_end(v->guest, "killed(undecodable %s access at GPA 0x%llx)", r->name,
                  (unsigned long long)gpa);
        return true;
    }
    uint64_t offset = gpa - r->base;
    void *dev;
    bool served = vdev_mmio_dev(r, v->id, &dev) == 0; /* banked: this vCPU's own local APIC */
    if (in.write) {
        if (r->ops->write && served)
            r->ops->write(dev, offset, in.size, mmio_write_value(&in, vcpu_reg(v, in.reg)));
    } else {
        uint64_t value = r->ops->read && served ? r->ops->read(dev, offset, in.size) : ~0ull;
        vcpu_set_reg(v, in.reg, mmio_read_result(&in, vcpu_reg(v, in.reg), value));
    }
    vcpu_advance_rip(v, in.len);
    return true;
}
