/* I/O instruction exits: IN/OUT and the string forms INS/OUTS with REP (SDM vol. 3 §28.1.3). */
#include "kernel/log.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/io.h"
#include "vmx/vcpu/vcpu_walk.h"
#include "vmx/vcpu/guest.h"
#include "vmx/cpu/vmcs.h"

/* A REP string instruction is restartable: handle at most this many iterations per exit so a
   huge RCX cannot stall hv or overrun a time slice, then re-execute it (RIP not advanced). A
   REP OUTS to COM1 queues at most this many console bytes per exit (vmx/vcpu/guest_console.h). */
#define IO_REP_BUDGET 1024
_Static_assert(IO_REP_BUDGET <= GUEST_CONSOLE_EXIT_MAX, "one exit fits the console ring");

static const enum vmcs_field segment_base[] = {
    VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
    VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
};

static const enum vmcs_field segment_ar[] = {
    VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR,
    VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR,
};
static const enum vmcs_field segment_limit[] = {
    VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,
    VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT,
};
#define SEG_ES    0
#define SEG_SS    2
#define SEG_COUNT 6

#define ADDR_MASK_16 0xFFFFull
#define ADDR_MASK_32 0xFFFFFFFFull

static uint64_t addr_mask(unsigned addr_size)
{
    return addr_size == 0 ? ADDR_MASK_16 : addr_size == 1 ? ADDR_MASK_32 : ~0ull;
}

static void simple_io(struct vcpu *v, const struct io_access *a)
{
    uint64_t rax = v->regs.gpr[REG_RAX];
    if (a->in) {
        uint32_t value = vdev_bus_in(v->guest->bus, a->port, a->size);
        /* IN to AL/AX keeps the rest of RAX; IN to EAX zero-extends into RAX. */
        if (a->size == 4)
            rax = value;
        else
            rax = (rax & ~(uint64_t)((1u << (8 * a->size)) - 1)) | value;
        v->regs.gpr[REG_RAX] = rax;
    } else {
        vdev_bus_out(v->guest->bus, a->port, a->size, (uint32_t)rax);
    }
    vcpu_skip_instruction(v);
}

/* One INS/OUTS element at linear address gla. Returns 0, or -1 after injecting a fault. */
static int string_element(struct vcpu *v, const struct walk_ctx *c, const struct io_access *a,
                          uint64_t gla)
{
    struct walk_fault f;
    uint32_t value = 0;
    int r;
    if (a->in) {
        /* Check the destination first: a faulting INS must not have read the port. */
        uint64_t gpa;
        r = guest_walk(c, gla, WALK_WRITE, &gpa, &f);
        uint64_t next_page = (gla | (PAGE_SIZE - 1)) + 1;
        if (r == WALK_OK && gla + a->size > next_page) /* split: the fault names the new page */
            r = guest_walk(c, next_page, WALK_WRITE, &gpa, &f);
        if (r == WALK_OK) {
            value = vdev_bus_in(v->guest->bus, a->port, a->size);
            r = guest_write_gva(c, gla, &value, a->size, &f);
        }
    } else {
        r = guest_read_gva(c, gla, &value, a->size, WALK_READ, &f);
        if (r == WALK_OK)
            vdev_bus_out(v->guest->bus, a->port, a->size, value);
    }
    if (r != WALK_OK) {
        vcpu_walk_failed(v, r, &f, a->in ? WALK_WRITE : WALK_READ);
        return -1;
    }
    return 0;
}

/* Writing a register with a 32-bit address size zero-extends it, as any 32-bit register write
   does in 64-bit mode; with a 16-bit address size only the low 16 bits change. */
static uint64_t update_reg(uint64_t old, uint64_t value, uint64_t mask)
{
    return mask == ADDR_MASK_16 ? (old & ~mask) | (value & mask) : value & mask;
}

static enum io_cpu_mode cpu_mode(struct vcpu *v)
{
    if (vcpu_in_64bit_mode(v))
        return IO_MODE_64;
    if (!(vcpu_visible_cr0(v) & CR0_PE) || (vcpu_rflags(v) & RFLAGS_VM))
        return IO_MODE_REAL;
    return IO_MODE_PROTECTED;
}

static void read_segment(unsigned seg, struct io_segment *s)
{
    s->ar = vmcs_read32(segment_ar[seg]);
    s->limit = vmcs_read32(segment_limit[seg]);
    s->is_ss = seg == SEG_SS;
}

static void string_io(struct vcpu *v, const struct io_access *a)
{
    uint32_t info = vmcs_read32(VMCS_EXIT_INSTRUCTION_INFO);
    uint64_t mask = addr_mask(IO_INFO_ADDR_SIZE(info));
    unsigned seg = a->in ? SEG_ES /* INS always writes ES:rDI */ : IO_INFO_SEGMENT(info);
    if (seg >= SEG_COUNT) {
        guest_end(v->guest, "killed(string I/O exit names segment register %u)", seg);
        return;
    }
    uint64_t base = vmcs_readnat(segment_base[seg]);
    enum io_cpu_mode mode = cpu_mode(v);
    struct io_segment segment;
    read_segment(seg, &segment);
    if (mode == IO_MODE_64 && seg < 4)
        base = 0; /* 64-bit mode ignores the ES/CS/SS/DS bases */
    unsigned index_reg = a->in ? REG_RDI : REG_RSI;
    int64_t step = (vcpu_rflags(v) & RFLAGS_DF) ? -(int64_t)a->size : a->size;
    struct walk_ctx c;
    vcpu_walk_ctx(v, &c);

    uint64_t count = a->rep ? v->regs.gpr[REG_RCX] & mask : 1;
    /* Single-stepping a REP: one iteration per exit, each followed by its #DB. */
    bool step_each = a->rep && (vcpu_rflags(v) & RFLAGS_TF);
    for (unsigned done = 0; count; done++) {
        if (done == IO_REP_BUDGET)
            return; /* resume the REP later: RIP stays on the instruction */
        uint64_t index = v->regs.gpr[index_reg];
        int fault =
            io_segment_check(&segment, mode, index & mask, base + (index & mask), a->size, a->in);
        if (fault >= 0) {
            /* The CPU's own check faults with the completed iterations kept (§7.3.9.2). */
            vcpu_inject_exception(v, (unsigned)fault, true, 0);
            return;
        }
        if (string_element(v, &c, a, base + (index & mask)))
            return; /* fault: registers reflect the completed iterations (SDM §7.3.9.2) */
        v->regs.gpr[index_reg] = update_reg(index, index + (uint64_t)step, mask);
        count--;
        if (a->rep)
            v->regs.gpr[REG_RCX] = update_reg(v->regs.gpr[REG_RCX], count, mask);
        if (step_each && count) {
            vcpu_iteration_done(v);
            return;
        }
    }
    vcpu_skip_instruction(v);
}

void exit_handle_io(struct vcpu *v)
{
    struct io_access a;
    if (io_decode(vcpu_exit_qualification(v), &a)) {
        exit_log_decoded(v, VMX_EXIT_IO_INSTRUCTION);
        guest_end(v->guest, "killed(undecodable I/O exit)");
        return;
    }
    if (a.string)
        string_io(v, &a);
    else
        simple_io(v, &a);
}
