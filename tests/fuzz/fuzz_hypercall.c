/*
 * Fuzzes vmx/exit/hypercall.c exit_handle_vmcall: a sequence of VMCALLs with fuzzed EAX/EBX/ECX
 * (number, guest-physical address, length: all guest-chosen) and CPL, against 64 KiB of guest
 * RAM in two exactly-sized heap chunks, through the fake VMCS.
 *
 * Input: u8 instruction length (1..15), then calls of {u8 cpl (bits 1:0), u64 rax, u64 rbx,
 * u64 rcx} until the input runs out; the guest RAM starts as a fixed byte pattern.
 *
 * Invariants: no access outside guest RAM or hv's buffers (ASan), no panic; CPL > 0: #UD,
 * RIP and RAX unchanged; CPL 0: RIP advances by the instruction length and RAX holds the
 * documented result (HC_EXIT 0 and the verdict exit(EBX); HC_CONSOLE_WRITE the length, or
 * HC_EINVAL when ECX > HC_CONSOLE_MAX or the buffer is not entirely in guest RAM; HC_INFO 0 and
 * a struct hc_info at EBX, or HC_EINVAL when it does not fit; anything else HC_ENOSYS); only
 * HC_INFO writes guest RAM, and only its own bytes; no other register changes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "drivers/vdev/vdev.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/hypercall.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmcs_fields.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/fuzz/fuzz_common.h"

#define CHUNK_SIZE  0x8000u
#define NCHUNKS     2u
#define RAM_SIZE    (NCHUNKS * CHUNK_SIZE)
#define INSTR_MAX   15u
#define RIP0        0x1000ull
#define CPL_MASK    0x3u
#define CALL_BYTES  25u
#define LOW32       0xFFFFFFFFull
#define AR_CODE32   (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)
#define AR_DATA     (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)
#define PATTERN(i)  ((uint8_t)((i)*7u + 1u))
#define VERDICT_MAX 32

static struct vm vm;
static uint8_t *chunk[NCHUNKS];
static uint8_t *expect;   /* guest RAM as it must be */
static uint8_t *pristine; /* guest RAM at the start of every input */

static void setup_once(void)
{
    if (expect)
        return;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        chunk[i] = malloc(CHUNK_SIZE);
        FUZZ_CHECK(chunk[i] != NULL);
    }
    expect = malloc(RAM_SIZE);
    pristine = malloc(RAM_SIZE);
    FUZZ_CHECK(expect != NULL && pristine != NULL);
    for (size_t i = 0; i < RAM_SIZE; i++)
        pristine[i] = PATTERN(i);
}

static void reset(uint8_t instr_len)
{
    fake_vmcs_reset();
    fake_hw_reset();
    memset(&vm, 0, sizeof(vm));
    strcpy(vm.cfg.name, "hcfuzz");
    vm.g.name = vm.cfg.name;
    guest_console_init(&vm.g);
    vm.cfg.mem = RAM_SIZE;
    vm.g.mem.size = RAM_SIZE;
    vm.g.mem.nchunks = NCHUNKS;
    for (unsigned i = 0; i < NCHUNKS; i++)
        vm.g.mem.chunk[i] = (struct guest_mem_chunk){i * CHUNK_SIZE, 0x10000000ull + i * CHUNK_SIZE,
                                                     chunk[i], CHUNK_SIZE, 0};
    memcpy(expect, pristine, RAM_SIZE);
    for (unsigned i = 0; i < NCHUNKS; i++)
        memcpy(chunk[i], expect + i * CHUNK_SIZE, CHUNK_SIZE);
    vm.vcpus[0].guest = &vm.g;
    vm.vcpu_count = 1;
    cpu_model_build(&vm.cpu_model, 0); /* as vm_create does (the fake host has no CPUID) */
    vm.g.cpu = &vm.cpu_model;
    FUZZ_CHECK(vm_devices_init(&vm) == 0);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE32);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, instr_len % INSTR_MAX + 1);
}

static bool ram_as_expected(void)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        if (fuzz_first_diff(expect + i * CHUNK_SIZE, chunk[i], CHUNK_SIZE) != CHUNK_SIZE)
            return false;
    return true;
}

static bool fits(uint64_t gpa, uint64_t len)
{
    return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa;
}

/* The result the ABI promises for a CPL-0 call (and, for HC_INFO, the RAM it writes). */
static uint64_t expected_result(uint32_t nr, uint32_t arg1, uint32_t arg2)
{
    switch (nr) {
    case HC_EXIT:
        return 0;
    case HC_CONSOLE_WRITE:
        return arg2 <= HC_CONSOLE_MAX && fits(arg1, arg2) ? arg2 : HC_EINVAL;
    case HC_INFO:
        if (!fits(arg1, sizeof(struct hc_info)))
            return HC_EINVAL;
        struct hc_info info;
        memcpy(&info, expect + arg1, sizeof(info)); /* only the fields checked are replaced */
        info.abi_version = HC_ABI_VERSION;
        info.vcpu_id = vm.vcpus[0].id;
        memcpy(expect + arg1, &info, sizeof(info));
        return 0;
    default:
        return HC_ENOSYS;
    }
}

/* HC_INFO's bytes that are not checked field by field come from the guest RAM as written. */
static void adopt_info_bytes(uint32_t gpa)
{
    struct hc_info info;
    FUZZ_CHECK(guest_mem_read(&vm.g.mem, gpa, &info, sizeof(info)) == 0);
    FUZZ_CHECK(info.abi_version == HC_ABI_VERSION && info.vcpu_id == vm.vcpus[0].id);
    FUZZ_CHECK(memchr(info.hv_version, '\0', sizeof(info.hv_version)) != NULL);
    FUZZ_CHECK(memchr(info.name, '\0', sizeof(info.name)) != NULL);
    FUZZ_CHECK(strcmp(info.name, vm.cfg.name) == 0);
    memcpy(expect + gpa, &info, sizeof(info));
}

static void one_call(struct fuzz_input *in)
{
    unsigned cpl = fuzz_u8(in) & CPL_MASK;
    uint64_t regs[REG_COUNT];
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_DATA | (cpl << SEG_AR_DPL_SHIFT));
    vm.vcpus[0].regs.gpr[REG_RAX] = fuzz_u64(in);
    vm.vcpus[0].regs.gpr[REG_RBX] = fuzz_u64(in);
    vm.vcpus[0].regs.gpr[REG_RCX] = fuzz_u64(in);
    memcpy(regs, vm.vcpus[0].regs.gpr, sizeof(regs));
    uint64_t rip0 = fake_vmcs_get(VMCS_GUEST_RIP);
    unsigned events0 = vm.vcpus[0].event_count;
    bool ended0 = vm.g.ended;
    uint32_t nr = (uint32_t)regs[REG_RAX], arg1 = (uint32_t)regs[REG_RBX];
    uint32_t arg2 = (uint32_t)regs[REG_RCX];

    fake_vcpu_exit(&vm.vcpus[0], exit_handle_vmcall);

    if (cpl != 0) {
        FUZZ_CHECK(fake_vmcs_get(VMCS_GUEST_RIP) == rip0);
        FUZZ_CHECK(vm.vcpus[0].event_count > events0 || vm.g.ended);
        FUZZ_CHECK(memcmp(regs, vm.vcpus[0].regs.gpr, sizeof(regs)) == 0);
        FUZZ_CHECK(ram_as_expected());
        return;
    }
    uint64_t want = expected_result(nr, arg1, arg2);
    FUZZ_CHECK(vm.vcpus[0].regs.gpr[REG_RAX] == want);
    regs[REG_RAX] = want;
    FUZZ_CHECK(memcmp(regs, vm.vcpus[0].regs.gpr, sizeof(regs)) == 0);
    FUZZ_CHECK(fake_vmcs_get(VMCS_GUEST_RIP) ==
               ((rip0 + fake_vmcs_get(VMCS_EXIT_INSTRUCTION_LEN)) & LOW32));
    FUZZ_CHECK(vm.vcpus[0].event_count == events0);
    if (nr == HC_INFO && want == 0)
        adopt_info_bytes(arg1);
    FUZZ_CHECK(ram_as_expected());
    if (nr == HC_EXIT && !ended0) {
        char verdict[VERDICT_MAX];
        snprintf(verdict, sizeof(verdict), "exit(%u)", arg1);
        FUZZ_CHECK(vm.g.ended && strcmp(vm.g.verdict, verdict) == 0);
    }
    /* hv's console service after the exit: the guest's ring drains, a line stays bounded */
    while (guest_console_drain(&vm.g, 0, UINT64_MAX))
        ;
    FUZZ_CHECK(byte_ring_count(&vm.g.console.out) == 0);
    FUZZ_CHECK(vm.g.console.len < GUEST_CONSOLE_LINE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    setup_once();
    reset(fuzz_u8(&in));
    do
        one_call(&in);
    while (in.len >= CALL_BYTES);
    guest_console_flush(&vm.g);
    return 0;
}
