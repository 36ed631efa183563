/* The VMX instruction layer (vmx/cpu/vmx_ops.h) over an in-memory VMCS, for host tests. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/vcpu.h"
#include "vmx/vcpu/vcpu_debug.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmx_arch.h"
#include "vmx/cpu/vmx_ops.h"

#define ENCODING_LIMIT  0x8000u /* encodings are 15 bits (§25.11.2); bit 0 selects the high half */
#define ACCESS_HIGH     1u
#define NO_VMCS         (~0ull)
#define VMCS_ALIGN_MASK 0xFFFull
#define MASK16          0xFFFFull
#define MASK32          0xFFFFFFFFull
#define HALF_SHIFT      32
#define INV_TYPE_MAX    3 /* INVVPID types 0-3, INVEPT 1-2 */

static struct {
    uint64_t value[ENCODING_LIMIT];
    bool written[ENCODING_LIMIT];
    bool unsupported[ENCODING_LIMIT];
    unsigned reads[ENCODING_LIMIT], writes[ENCODING_LIMIT];
    uint64_t current;
    bool vmx_on;
    bool fail_inv;
    struct fake_inv_call invept[FAKE_INV_LOG], invvpid[FAKE_INV_LOG];
    unsigned invept_count, invvpid_count;
    int enter_result;
    unsigned enter_count;
} fake;

void fake_vmcs_reset(void)
{
    memset(&fake, 0, sizeof(fake));
    fake.current = FAKE_VMCS_CURRENT_PA;
    fake.vmx_on = true;
}

void fake_vmcs_set(uint32_t field, uint64_t v)
{
    if (field < ENCODING_LIMIT)
        fake.value[field] = v;
}

uint64_t fake_vmcs_get(uint32_t field)
{
    return field < ENCODING_LIMIT ? fake.value[field] : 0;
}

bool fake_vmcs_written(uint32_t field)
{
    return field < ENCODING_LIMIT && fake.written[field];
}

unsigned fake_vmcs_reads(uint32_t field)
{
    return field < ENCODING_LIMIT ? fake.reads[field] : 0;
}

unsigned fake_vmcs_writes(uint32_t field)
{
    return field < ENCODING_LIMIT ? fake.writes[field] : 0;
}

void fake_vmcs_reset_counts(void)
{
    memset(fake.reads, 0, sizeof(fake.reads));
    memset(fake.writes, 0, sizeof(fake.writes));
}

void fake_vmcs_set_unsupported(uint32_t field, bool unsupported)
{
    if (field < ENCODING_LIMIT)
        fake.unsupported[field] = unsupported;
}

void fake_vmcs_clear_current(void)
{
    fake.current = NO_VMCS;
}

uint64_t fake_vmcs_current(void)
{
    return fake.current;
}

bool fake_vmcs_vmx_on(void)
{
    return fake.vmx_on;
}

/* VMfailValid: the error number goes to the current VMCS (§31.2). */
static enum vmx_status fail_valid(uint32_t error)
{
    fake.value[VMCS_VM_INSTRUCTION_ERROR] = error;
    return VMX_FAIL_VALID;
}

enum vmx_status vmx_on(uint64_t vmxon_region_pa)
{
    if (fake.vmx_on)
        return fake.current == NO_VMCS ? VMX_FAIL_INVALID : fail_valid(FAKE_VMERR_VMXON_IN_ROOT);
    if (vmxon_region_pa & VMCS_ALIGN_MASK)
        return VMX_FAIL_INVALID;
    fake.vmx_on = true;
    fake.current = NO_VMCS;
    return VMX_OK;
}

enum vmx_status vmx_off(void)
{
    if (!fake.vmx_on)
        return VMX_FAIL_INVALID;
    fake.vmx_on = false;
    fake.current = NO_VMCS;
    return VMX_OK;
}

enum vmx_status vmx_clear(uint64_t vmcs_pa)
{
    if (!fake.vmx_on)
        return VMX_FAIL_INVALID;
    if (vmcs_pa & VMCS_ALIGN_MASK)
        return fake.current == NO_VMCS ? VMX_FAIL_INVALID
                                       : fail_valid(FAKE_VMERR_VMCLEAR_INVALID_PA);
    if (vmcs_pa == fake.current)
        fake.current = NO_VMCS;
    return VMX_OK;
}

enum vmx_status vmx_ptrld(uint64_t vmcs_pa)
{
    if (!fake.vmx_on)
        return VMX_FAIL_INVALID;
    if (vmcs_pa & VMCS_ALIGN_MASK)
        return fake.current == NO_VMCS ? VMX_FAIL_INVALID
                                       : fail_valid(FAKE_VMERR_VMPTRLD_INVALID_PA);
    fake.current = vmcs_pa; /* one field store serves every VMCS */
    return VMX_OK;
}

static bool is_high_access(uint32_t enc)
{
    return VMCS_FIELD_WIDTH(enc) == VMCS_WIDTH_64 && (enc & ACCESS_HIGH);
}

/* Truncates a value to the field's width (§25.11.2). */
static uint64_t fit_width(uint32_t enc, uint64_t v)
{
    switch (VMCS_FIELD_WIDTH(enc)) {
    case VMCS_WIDTH_16:
        return v & MASK16;
    case VMCS_WIDTH_32:
        return v & MASK32;
    default:
        return v;
    }
}

/* Shared checks of VMREAD/VMWRITE: VMX on, a current VMCS, a supported encoding. */
static enum vmx_status check_access(uint64_t field)
{
    if (!fake.vmx_on || fake.current == NO_VMCS)
        return VMX_FAIL_INVALID;
    if (field >= ENCODING_LIMIT || fake.unsupported[field])
        return fail_valid(FAKE_VMERR_UNSUPPORTED_FIELD);
    return VMX_OK;
}

enum vmx_status vmx_read(uint64_t field, uint64_t *value)
{
    enum vmx_status st = check_access(field);
    if (st != VMX_OK)
        return st;
    uint32_t enc = (uint32_t)field;
    fake.reads[enc]++;
    if (is_high_access(enc))
        *value = fake.value[enc & ~ACCESS_HIGH] >> HALF_SHIFT;
    else
        *value = fit_width(enc, fake.value[enc]);
    return VMX_OK;
}

enum vmx_status vmx_write(uint64_t field, uint64_t value)
{
    enum vmx_status st = check_access(field);
    if (st != VMX_OK)
        return st;
    uint32_t enc = (uint32_t)field;
    if (VMCS_FIELD_TYPE(enc) == VMCS_TYPE_RO)
        return fail_valid(FAKE_VMERR_WRITE_READ_ONLY);
    fake.writes[enc]++;
    if (is_high_access(enc)) {
        uint32_t full = enc & ~ACCESS_HIGH;
        fake.value[full] = (fake.value[full] & MASK32) | (value << HALF_SHIFT);
        fake.written[full] = true;
    } else {
        fake.value[enc] = fit_width(enc, value);
    }
    fake.written[enc] = true;
    return VMX_OK;
}

static void record(struct fake_inv_call *log, unsigned *count, struct fake_inv_call call)
{
    if (*count < FAKE_INV_LOG)
        log[*count] = call;
    ++*count;
}

static enum vmx_status inv_result(uint64_t type, uint64_t first_valid, uint64_t last_valid)
{
    if (!fake.vmx_on)
        return VMX_FAIL_INVALID;
    if (fake.fail_inv || type < first_valid || type > last_valid)
        return fake.current == NO_VMCS ? VMX_FAIL_INVALID
                                       : fail_valid(FAKE_VMERR_INVALID_INV_OPERAND);
    return VMX_OK;
}

enum vmx_status vmx_invept(uint64_t type, uint64_t eptp)
{
    record(fake.invept, &fake.invept_count, (struct fake_inv_call){type, eptp, 0, 0});
    return inv_result(type, INVEPT_SINGLE_CONTEXT, INVEPT_ALL_CONTEXT);
}

enum vmx_status vmx_invvpid(uint64_t type, uint16_t vpid, uint64_t gla)
{
    record(fake.invvpid, &fake.invvpid_count, (struct fake_inv_call){type, 0, vpid, gla});
    return inv_result(type, INVVPID_ADDRESS, INV_TYPE_MAX);
}

unsigned fake_vmcs_invept_count(void)
{
    return fake.invept_count;
}

struct fake_inv_call fake_vmcs_invept_call(unsigned i)
{
    return i < FAKE_INV_LOG ? fake.invept[i] : (struct fake_inv_call){0};
}

unsigned fake_vmcs_invvpid_count(void)
{
    return fake.invvpid_count;
}

struct fake_inv_call fake_vmcs_invvpid_call(unsigned i)
{
    return i < FAKE_INV_LOG ? fake.invvpid[i] : (struct fake_inv_call){0};
}

void fake_vmcs_fail_inv(bool fail)
{
    fake.fail_inv = fail;
}

void fake_vmcs_set_enter_result(int status)
{
    fake.enter_result = status;
}

unsigned fake_vmcs_enter_count(void)
{
    return fake.enter_count;
}

/* What the exit stub reads into regs->vmcs[] after every exit (vmx/cpu/entry.h VMX_STUB_*). */
static const uint32_t stub_fields[VMX_STUB_FIELDS] = {
    [VMX_STUB_EXIT_REASON] = VMCS_EXIT_REASON,
    [VMX_STUB_IDT_VECTORING_INFO] = VMCS_IDT_VECTORING_INFO,
    [VMX_STUB_INSTRUCTION_LEN] = VMCS_EXIT_INSTRUCTION_LEN,
    [VMX_STUB_RIP] = VMCS_GUEST_RIP,
    [VMX_STUB_RFLAGS] = VMCS_GUEST_RFLAGS,
    [VMX_STUB_INTERRUPTIBILITY] = VMCS_GUEST_INTERRUPTIBILITY,
};

/* vmx/cpu/entry.asm on the machine: here an entry "happens" and returns the configured status;
   after an exit (status 0) the stub's VMREADs fill regs->vmcs[] from the fake VMCS. */
int vmx_enter(struct vcpu_regs *regs, int launched)
{
    (void)launched;
    fake.enter_count++;
    if (fake.enter_result == 0)
        for (unsigned i = 0; i < VMX_STUB_FIELDS; i++)
            vmx_read(stub_fields[i], &regs->vmcs[i]);
    return fake.enter_result;
}

void vmx_exit_stub(void) {}

struct vcpu *fake_vm_reset(struct vm *vm, const char *name)
{
    fake_vmcs_reset();
    fake_hw_reset();
    fake_log_reset();
    memset(vm, 0, sizeof(*vm));
    strncpy(vm->cfg.name, name, sizeof(vm->cfg.name) - 1);
    vm->g.name = vm->cfg.name;
    guest_console_init(&vm->g);
    vm->vcpus[0].guest = &vm->g;
    vm->vcpu_count = 1;
    vm->dev.host.name = vm->cfg.name;
    vdev_bus_init(&vm->dev.bus, &vm->dev.host);
    vm->g.bus = &vm->dev.bus;
    vm->g.ept.pml4 = PADDR_NONE;
    fake_vm_cpu_model(vm, 0);
    exit_msr_reset_vcpu(&vm->vcpus[0]);
    vcpu_debug_reset(&vm->vcpus[0]);
    return &vm->vcpus[0];
}

struct vcpu *fake_vm_pc(struct vm *vm, const char *name, unsigned vcpus)
{
    struct vcpu *v = fake_vm_reset(vm, name);
    vm->platform = VM_PLATFORM_PC;
    vm->vcpu_count = vcpus;
    vm->g.vcpus = vm->vcpus; /* as vm_create links them */
    vm->g.vcpu_count = vcpus;
    for (unsigned i = 0; i < vcpus; i++) {
        vm->vcpus[i].guest = &vm->g;
        vm->vcpus[i].id = i;
        exit_msr_reset_vcpu(&vm->vcpus[i]);
        vcpu_debug_reset(&vm->vcpus[i]);
    }
    if (vm_devices_init(vm))
        return 0;
    return v;
}

void fake_vm_cpu_model(struct vm *vm, uint64_t tsc_khz)
{
    cpu_model_build(&vm->cpu_model, tsc_khz);
    vm->g.cpu = &vm->cpu_model;
}

void fake_vm_ram(struct vm *vm, void *ram, uint64_t size)
{
    vm->g.mem.size = size;
    vm->g.mem.nchunks = 1;
    vm->g.mem.chunk[0] = (struct guest_mem_chunk){0, (paddr_t)(uintptr_t)ram, ram, size, 0};
}

/* Tests set any field behind the vCPU's back between exits (on the machine only hv's own VMCS
   setup writes the controls the cache keeps across exits), so each exit here starts with
   nothing cached. */
void fake_vcpu_forget(struct vcpu *v)
{
    vcpu_exit_begin(v);
    v->cache.valid = 0;
}

void fake_vcpu_exit(struct vcpu *v, void (*handler)(struct vcpu *v))
{
    fake_vcpu_forget(v);
    handler(v);
    vcpu_write_back(v);
}

void fake_vcpu_dispatch(struct vcpu *v, uint32_t exit_reason)
{
    fake_vcpu_forget(v);
    exit_dispatch(v, exit_reason);
    vcpu_write_back(v);
}
