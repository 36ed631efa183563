/*
 * Fuzzes the exit decoders that read guest-chosen values: vmx/exit/io.c io_decode, and the
 * CR-access (vmx/exit/exit_cr.c exit_handle_cr_access) and I/O (vmx/exit/exit_io.c exit_handle_io)
 * handlers driven through the fake VMCS (tests/unit/fake_vmcs.h) with fuzzed exit
 * qualification, instruction information and length, registers, segment bases and guest RAM
 * (64 KiB, two exactly-sized heap chunks, for INS/OUTS). The virtual platform's devices
 * (drivers/vdev.c) are registered, as for a real guest.
 *
 * Input (little-endian, zero once exhausted):
 *   u8  kind     bit 0: I/O exit, else CR access
 *   u8  mode     guest mode (modulo 6): real, protected, protected + 32-bit paging, PAE,
 *                IA-32e compatibility mode, 64-bit mode
 *   u8  flags    CPL (bits 1:0), RFLAGS.DF, RFLAGS.AC, CR0.WP, CR0.CD, CR0.NW (with CD), CR4.PCIDE
 *                (IA-32e only)
 *   u32 cr4      extra guest CR4 bits (those the guest may own; paging bits follow `mode`)
 *   u64 qualification, u32 instruction information, u8 instruction length (1..15)
 *   u64 cr3, u64 rip, u64 rsp, 16 x u64 general registers, 6 x u16 segment bases (ES..GS)
 *   the rest: guest RAM from GPA 0
 *
 * Invariants: no access outside guest RAM (ASan), no panic; io_decode accepts exactly the
 * sizes 1, 2 and 4 and returns the qualification's fields; after either handler RIP either
 * stays (an exception was injected, the VM was ended, or a REP string instruction is to be
 * resumed) or advances by exactly the instruction length (wrapping at 32 bits outside 64-bit
 * mode) with no exception; a refused CR access changes no control register, EFER or entry
 * control; an accepted one leaves a state VM entry accepts (PG needs PE, NW needs CD,
 * EFER.LMA = LME && PG, IA-32e mode needs PAE and matches the entry control, PCIDE only in
 * IA-32e mode, GUEST_CR0/CR4 within the FIXED MSRs, the hidden CR4 bits clear, CR8 <= 15);
 * I/O changes only RAX (IN), RCX/RSI/RDI (string forms), and OUTS never writes guest RAM.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "drivers/vdev/vdev.h"
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/exit/io.h"
#include "vmx/exit/cpu_model.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs.h"
#include "vmx/cpu/vmcs_fields.h"
#include "vmx/cpu/vmcs_setup.h"
#include "vmx/cpu/vmx.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/fuzz/fuzz_common.h"

#define CHUNK_SIZE 0x8000u
#define NCHUNKS    2u
#define RAM_SIZE   (NCHUNKS * CHUNK_SIZE)
#define VPID       7
#define NSEGS      6u
#define INSTR_MAX  15u

/* A typical CPU's FIXED MSRs (as tests/unit/test_exit_cr.c): CR0 PE, NE, PG fixed to 1 (PE and
   PG free for an unrestricted guest), CR4.VMXE fixed to 1; CR4_FIXED1 also allows LA57. */
#define CR0_FIXED0        (CR0_PE | CR0_NE | CR0_PG)
#define CR0_FIXED1        0xFFFFFFFFull
#define CR4_FIXED0        CR4_VMXE
#define CR4_FIXED1        0x003777FFull
#define CR0_UG_FREE       (CR0_PE | CR0_PG)
#define CR4_HIDDEN        (CR4_VMXE | CR4_SMXE | CR4_LA57)
#define CR4_MODE          (CR4_PAE | CR4_PCIDE | CR4_LA57) /* set by `mode` and flags only */
#define ENTRY_BASE        (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT)
#define CR3_LONG_RESERVED 0xFFF0000000000000ull /* bit 63 and bits 62:52 */
#define CR8_MAX           0xFull
#define LOW32             0xFFFFFFFFull
#define PDPTE_COUNT       4u

#define AR_CODE16 (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P)
#define AR_CODE32 (AR_CODE16 | SEG_AR_DB | SEG_AR_G)
#define AR_CODE64 (AR_CODE16 | SEG_AR_L | SEG_AR_G)
#define AR_DATA   (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)

enum fuzz_guest_mode { M_REAL, M_PROT, M_PROT_PAGING, M_PAE, M_COMPAT, M_LONG64, M_COUNT };

#define KIND_IO    (1u << 0)
#define F_CPL_MASK 0x3u
#define F_DF       (1u << 2)
#define F_AC       (1u << 3)
#define F_WP       (1u << 4)
#define F_CD       (1u << 5)
#define F_NW       (1u << 6)
#define F_PCIDE    (1u << 7)

static struct vm vm;
static uint8_t *chunk[NCHUNKS];
static uint8_t *snapshot;

static const enum vmcs_field seg_base[NSEGS] = {
    VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
    VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
};

/* Control state a refused CR access must leave alone. */
static const enum vmcs_field control_fields[] = {
    VMCS_GUEST_CR0,    VMCS_CR0_READ_SHADOW, VMCS_GUEST_CR4,    VMCS_CR4_READ_SHADOW,
    VMCS_GUEST_CR3,    VMCS_GUEST_EFER,      VMCS_ENTRY_CTLS,   VMCS_GUEST_PDPTE0,
    VMCS_GUEST_PDPTE1, VMCS_GUEST_PDPTE2,    VMCS_GUEST_PDPTE3,
};
#define NCONTROL (sizeof(control_fields) / sizeof(control_fields[0]))

static void setup_once(void)
{
    if (snapshot)
        return;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        chunk[i] = malloc(CHUNK_SIZE);
        FUZZ_CHECK(chunk[i] != NULL);
    }
    snapshot = malloc(RAM_SIZE);
    FUZZ_CHECK(snapshot != NULL);
}

static void reset_vm(void)
{
    memset(&vm, 0, sizeof(vm));
    strcpy(vm.cfg.name, "fuzz");
    guest_console_init(&vm.g);
    vm.cfg.mem = RAM_SIZE;
    vm.g.mem.size = RAM_SIZE;
    vm.g.mem.nchunks = NCHUNKS;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        memset(chunk[i], 0, CHUNK_SIZE);
        vm.g.mem.chunk[i] = (struct guest_mem_chunk){i * CHUNK_SIZE, 0x10000000ull + i * CHUNK_SIZE,
                                                     chunk[i], CHUNK_SIZE, 0};
    }
    vm.vcpus[0].guest = &vm.g;
    vm.g.name = vm.cfg.name;
    vm.vcpus[0].vpid = VPID;
    vm.vcpu_count = 1;
    cpu_model_build(&vm.cpu_model, 0); /* as vm_create does (the fake host has no CPUID) */
    vm.g.cpu = &vm.cpu_model;
    FUZZ_CHECK(vm_devices_init(&vm) == 0);
}

static void reset_machine(void)
{
    fake_vmcs_reset();
    fake_hw_reset();
    vmx_caps.cr0_fixed0 = CR0_FIXED0;
    vmx_caps.cr0_fixed1 = CR0_FIXED1;
    vmx_caps.cr4_fixed0 = CR4_FIXED0;
    vmx_caps.cr4_fixed1 = CR4_FIXED1;
    /* The guest/host masks vmcs_setup_controls writes. */
    fake_vmcs_set(VMCS_CR0_GUEST_HOST_MASK,
                  ((CR0_FIXED0 | ~CR0_FIXED1) & ~CR0_UG_FREE) | CR0_CD | CR0_NW);
    fake_vmcs_set(VMCS_CR4_GUEST_HOST_MASK, CR4_FIXED0 | ~CR4_FIXED1 | CR4_VMXE);
}

/* A guest state VM entry accepts, in the mode the input chose. */
static void set_guest_state(struct fuzz_input *in, uint8_t mode, uint8_t flags)
{
    uint64_t cr0 = CR0_ET | CR0_NE | ((flags & F_WP) ? CR0_WP : 0);
    uint64_t cr4 = fuzz_u32(in) & CR4_FIXED1 & ~(CR4_HIDDEN | CR4_MODE);
    uint64_t efer = 0;
    uint32_t cs_ar = AR_CODE32;
    if (flags & F_CD)
        cr0 |= CR0_CD | ((flags & F_NW) ? CR0_NW : 0);
    switch (mode) {
    case M_REAL:
        cs_ar = AR_CODE16;
        break;
    case M_PROT:
        cr0 |= CR0_PE;
        break;
    case M_PROT_PAGING:
        cr0 |= CR0_PE | CR0_PG;
        break;
    case M_PAE:
        cr0 |= CR0_PE | CR0_PG;
        cr4 |= CR4_PAE;
        break;
    default: /* IA-32e: compatibility or 64-bit mode */
        cr0 |= CR0_PE | CR0_PG;
        cr4 |= CR4_PAE | ((flags & F_PCIDE) ? CR4_PCIDE : 0);
        efer |= EFER_LME | EFER_LMA;
        cs_ar = mode == M_LONG64 ? AR_CODE64 : AR_CODE32;
        break;
    }
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, cr0);
    fake_vmcs_set(VMCS_GUEST_CR0, vmcs_guest_cr0(cr0 & ~(CR0_CD | CR0_NW)));
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, cr4);
    fake_vmcs_set(VMCS_GUEST_CR4, vmcs_guest_cr4(cr4));
    fake_vmcs_set(VMCS_GUEST_EFER, efer);
    fake_vmcs_set(VMCS_ENTRY_CTLS, ENTRY_BASE | ((efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
    fake_vmcs_set(VMCS_GUEST_CS_AR, cs_ar);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_DATA | ((flags & F_CPL_MASK) << SEG_AR_DPL_SHIFT));
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | ((flags & F_DF) ? RFLAGS_DF : 0) |
                                         ((flags & F_AC) ? RFLAGS_AC : 0));
}

static void set_exit_and_registers(struct fuzz_input *in, uint8_t mode)
{
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, fuzz_u64(in));
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, fuzz_u32(in));
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, fuzz_u8(in) % INSTR_MAX + 1);
    uint64_t cr3 = fuzz_u64(in);
    bool ia32e = mode == M_COMPAT || mode == M_LONG64;
    cr3 &= ia32e ? ~CR3_LONG_RESERVED : LOW32;
    uint64_t cr4 = fake_vmcs_get(VMCS_CR4_READ_SHADOW);
    if (ia32e && !(cr4 & CR4_PCIDE))
        cr3 &= ~0xFFFull; /* PCID 0 unless PCIDE (the only case MOV to CR3 leaves it set) */
    fake_vmcs_set(VMCS_GUEST_CR3, cr3);
    uint64_t rip = fuzz_u64(in);
    fake_vmcs_set(VMCS_GUEST_RIP, mode == M_LONG64 ? rip : rip & LOW32);
    fake_vmcs_set(VMCS_GUEST_RSP, fuzz_u64(in));
    for (unsigned r = 0; r < REG_COUNT; r++)
        vm.vcpus[0].regs.gpr[r] = fuzz_u64(in);
    for (unsigned s = 0; s < NSEGS; s++)
        fake_vmcs_set(seg_base[s], fuzz_u16(in));
}

/* The rest of the input is guest RAM; PAE paging's PDPTEs as loaded from it at CR3. */
static void fill_ram(struct fuzz_input *in, uint8_t mode)
{
    size_t n = in->len < RAM_SIZE ? in->len : RAM_SIZE;
    FUZZ_CHECK(guest_mem_write(&vm.g.mem, 0, in->data, n) == 0);
    if (mode != M_PAE)
        return;
    static const enum vmcs_field pdpte[PDPTE_COUNT] = {VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1,
                                                       VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3};
    uint64_t table = fake_vmcs_get(VMCS_GUEST_CR3) & 0xFFFFFFE0ull;
    for (unsigned i = 0; i < PDPTE_COUNT; i++) {
        uint64_t e = 0;
        (void)guest_mem_read(&vm.g.mem, table + i * sizeof(e), &e, sizeof(e));
        fake_vmcs_set(pdpte[i], e);
    }
}

static void take_snapshot(void)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        memcpy(snapshot + i * CHUNK_SIZE, chunk[i], CHUNK_SIZE);
}

static bool ram_unchanged(void)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        if (fuzz_first_diff(snapshot + i * CHUNK_SIZE, chunk[i], CHUNK_SIZE) != CHUNK_SIZE)
            return false;
    return true;
}

/* RIP stays, or advances by exactly the instruction length. Returns true when it advanced. */
static bool check_rip(uint64_t rip0, bool long64)
{
    uint64_t len = fake_vmcs_get(VMCS_EXIT_INSTRUCTION_LEN);
    uint64_t next = rip0 + len;
    if (!long64)
        next &= LOW32;
    uint64_t rip = fake_vmcs_get(VMCS_GUEST_RIP);
    FUZZ_CHECK(rip == rip0 || rip == next);
    bool advanced = rip == next && rip != rip0;
    if (advanced)
        FUZZ_CHECK(vm.vcpus[0].event_count == 0);
    return advanced;
}

static void check_io_decode(uint64_t q)
{
    struct io_access a;
    memset(&a, 0xEE, sizeof(a));
    unsigned size = (unsigned)(q & IO_QUAL_SIZE_MASK) + 1;
    int rc = io_decode(q, &a);
    FUZZ_CHECK(rc == ((size == 1 || size == 2 || size == 4) ? 0 : -1));
    if (rc != 0)
        return;
    FUZZ_CHECK(a.size == size);
    FUZZ_CHECK(a.in == !!(q & IO_QUAL_IN) && a.string == !!(q & IO_QUAL_STRING));
    FUZZ_CHECK(a.rep == !!(q & IO_QUAL_REP) && a.immediate == !!(q & IO_QUAL_IMMEDIATE));
    FUZZ_CHECK(a.port == (uint16_t)(q >> IO_QUAL_PORT_SHIFT));
}

static void check_io_exit(uint64_t rip0, bool long64)
{
    uint64_t q = fake_vmcs_get(VMCS_EXIT_QUALIFICATION);
    struct io_access a;
    bool decodable = io_decode(q, &a) == 0;
    uint64_t before[REG_COUNT];
    memcpy(before, vm.vcpus[0].regs.gpr, sizeof(before));
    take_snapshot();
    fake_vcpu_exit(&vm.vcpus[0], exit_handle_io);
    bool advanced = check_rip(rip0, long64);
    if (!decodable) {
        FUZZ_CHECK(vm.g.ended && !advanced);
        return;
    }
    if (!advanced)
        FUZZ_CHECK(vm.vcpus[0].event_count > 0 || vm.g.ended || (a.string && a.rep));
    for (unsigned r = 0; r < REG_COUNT; r++) {
        bool may_change = (r == REG_RAX && a.in && !a.string) ||
                          (a.string && (r == REG_RCX || r == REG_RSI || r == REG_RDI));
        if (!may_change)
            FUZZ_CHECK(vm.vcpus[0].regs.gpr[r] == before[r]);
    }
    if (!a.in)
        FUZZ_CHECK(ram_unchanged());
    if (a.string && !a.rep) /* RCX is not a count without REP */
        FUZZ_CHECK(vm.vcpus[0].regs.gpr[REG_RCX] == before[REG_RCX]);
}

/* The state after an accepted CR access is one VM entry accepts (SDM vol. 3 §27.3.1.1). */
static void check_cr_state(void)
{
    uint64_t cr0 = vcpu_visible_cr0(&vm.vcpus[0]), cr4 = vcpu_visible_cr4(&vm.vcpus[0]);
    uint64_t efer = fake_vmcs_get(VMCS_GUEST_EFER);
    uint64_t real_cr0 = fake_vmcs_get(VMCS_GUEST_CR0), real_cr4 = fake_vmcs_get(VMCS_GUEST_CR4);
    bool lma = efer & EFER_LMA;
    FUZZ_CHECK(!(cr0 & CR0_PG) || (cr0 & CR0_PE));
    FUZZ_CHECK(!(cr0 & CR0_NW) || (cr0 & CR0_CD));
    FUZZ_CHECK(lma == ((efer & EFER_LME) && (cr0 & CR0_PG)));
    FUZZ_CHECK(!lma || (cr4 & CR4_PAE));
    FUZZ_CHECK(!!(fake_vmcs_get(VMCS_ENTRY_CTLS) & ENTRY_IA32E_MODE_GUEST) == lma);
    FUZZ_CHECK(!(cr4 & CR4_PCIDE) || lma);
    FUZZ_CHECK((cr4 & CR4_HIDDEN) == 0);
    FUZZ_CHECK((real_cr0 | (CR0_FIXED0 & ~CR0_UG_FREE)) == real_cr0 && !(real_cr0 & ~CR0_FIXED1));
    FUZZ_CHECK((real_cr4 & CR4_FIXED0) == CR4_FIXED0 && !(real_cr4 & ~CR4_FIXED1));
    FUZZ_CHECK(!(real_cr0 & (CR0_CD | CR0_NW))); /* caching stays on in the real CR0 */
    /* Bits 63:52 are reserved (§27.3.1.1); bits 63:32 may outlive IA-32e mode (ignored). */
    FUZZ_CHECK(!(fake_vmcs_get(VMCS_GUEST_CR3) & CR3_LONG_RESERVED));
    FUZZ_CHECK(vm.vcpus[0].cr8 <= CR8_MAX);
}

static void check_cr_exit(uint64_t rip0, bool long64)
{
    uint64_t before[NCONTROL];
    for (size_t i = 0; i < NCONTROL; i++)
        before[i] = fake_vmcs_get(control_fields[i]);
    fake_vcpu_exit(&vm.vcpus[0], exit_handle_cr_access);
    bool advanced = check_rip(rip0, long64);
    if (!advanced) {
        FUZZ_CHECK(vm.vcpus[0].event_count > 0 || vm.g.ended);
        for (size_t i = 0; i < NCONTROL; i++)
            FUZZ_CHECK(fake_vmcs_get(control_fields[i]) == before[i]);
    }
    check_cr_state();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    setup_once();
    reset_machine();
    reset_vm();
    uint8_t kind = fuzz_u8(&in);
    uint8_t mode = fuzz_u8(&in) % M_COUNT;
    uint8_t flags = fuzz_u8(&in);
    set_guest_state(&in, mode, flags);
    set_exit_and_registers(&in, mode);
    fill_ram(&in, mode);
    uint64_t rip0 = fake_vmcs_get(VMCS_GUEST_RIP);
    check_io_decode(fake_vmcs_get(VMCS_EXIT_QUALIFICATION));
    if (kind & KIND_IO)
        check_io_exit(rip0, mode == M_LONG64);
    else
        check_cr_exit(rip0, mode == M_LONG64);
    return 0;
}
