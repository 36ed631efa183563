/* Port I/O tests: exit-qualification decoding and device registration (vmx/exit/io.c), and the I/O
   exit handler (vmx/exit/exit_io.c) for IN/OUT and INS/OUTS with REP, against the fake VMCS, with
   guest RAM in a host array (paging off, and 4-level paging built in that RAM). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdbool.h>
#include "kernel/lib/msr.h"
#include "kernel/lib/x86.h"
#include "vmx/exit/exit.h"
#include "vmx/vcpu/guest_walk.h"
#include "vmx/exit/io.h"
#include "vmx/vm/vm.h"
#include "vmx/cpu/vmcs_fields.h"
#include "tests/unit/fake_vmcs.h"
#include "tests/unit/fake.h"

/* A port device as the tests describe it, registered on the VM's bus (drivers/vdev/bus.c). */
struct io_device {
    const char *name;
    uint16_t base, count;
    uint32_t (*in)(void *dev, uint16_t port, unsigned size);
    void (*out)(void *dev, uint16_t port, unsigned size, uint32_t value);
};
#define VM_IO_DEVICES VDEV_MAX_IO

static struct vdev_io_ops io_ops_pool[4 * VDEV_MAX_IO];
static unsigned io_ops_used;

static int io_register(struct vm *m, const struct io_device *d)
{
    struct vdev_io_ops *ops = &io_ops_pool[io_ops_used++ % (4 * VDEV_MAX_IO)];
    *ops = (struct vdev_io_ops){d->in, d->out};
    return vdev_bus_add_io(&m->dev.bus, d->name, d->base, d->count, ops, m);
}

#define RAM_SIZE   0x20000ull
#define RIP0       0x4000ull
#define PROBE_PORT 0x100
#define PROBE_LEN  4
#define PROBE_MAX  8192
#define PROBE_IN0  0x11223344u /* the n-th read returns PROBE_IN0 + n (before the size mask) */
#define RAX0       0x1122334455667788ull

/* Exit qualification (SDM vol. 3 Table 28-5) */
#define Q_IN      (1u << 3)
#define Q_STRING  (1u << 4)
#define Q_REP     (1u << 5)
#define Q_IMM     (1u << 6)
#define Q_PORT(p) ((uint64_t)(p) << 16)
#define Q_SIZE(n) ((uint64_t)(n)-1)
/* Instruction information for INS/OUTS (Table 28-8) */
#define INFO(asz, seg) (((uint32_t)(asz) << 7) | ((uint32_t)(seg) << 15))
enum { ASZ16 = 0, ASZ32 = 1, ASZ64 = 2 };
enum { SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5 };

#define AR_CODE16 (SEG_TYPE_CODE_RX_ACCESSED | SEG_AR_S | SEG_AR_P)
#define AR_CODE32 (AR_CODE16 | SEG_AR_DB | SEG_AR_G)
#define AR_CODE64 (AR_CODE16 | SEG_AR_L | SEG_AR_G)
#define AR_SS0    (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P)

/* 4-level paging in guest RAM: identity map of [0, RAM_SIZE) except a hole and a R/O page. */
#define PML4_GPA  0x10000ull
#define PDPT_GPA  0x11000ull
#define PD_GPA    0x12000ull
#define PT_GPA    0x13000ull
#define HOLE_PAGE 0x9000ull /* not present */
#define RO_PAGE   0xA000ull /* present, read-only (CR0.WP = 1) */

static struct vm vm;
static struct vcpu *v;
static uint8_t ram[RAM_SIZE];

static struct {
    unsigned ins, outs;
    uint16_t in_port[PROBE_MAX], out_port[PROBE_MAX];
    unsigned in_size[PROBE_MAX], out_size[PROBE_MAX];
    uint32_t out_value[PROBE_MAX];
} probe;

static uint32_t probe_in(void *m, uint16_t port, unsigned size)
{
    (void)m;
    if (probe.ins < PROBE_MAX) {
        probe.in_port[probe.ins] = port;
        probe.in_size[probe.ins] = size;
    }
    return PROBE_IN0 + probe.ins++;
}

static void probe_out(void *m, uint16_t port, unsigned size, uint32_t value)
{
    (void)m;
    if (probe.outs < PROBE_MAX) {
        probe.out_port[probe.outs] = port;
        probe.out_size[probe.outs] = size;
        probe.out_value[probe.outs] = value;
    }
    probe.outs++;
}

static const struct io_device probe_dev = {"probe", PROBE_PORT, PROBE_LEN, probe_in, probe_out};

#define AR_DATA32 (SEG_TYPE_DATA_RW_ACCESSED | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G)

/* Data segments ES, DS, FS, GS (and SS's, CS's limit) as a flat model has them. */
static void flat_segments(uint32_t ar, uint32_t limit)
{
    static const uint32_t ars[] = {VMCS_GUEST_ES_AR, VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR,
                                   VMCS_GUEST_GS_AR};
    static const uint32_t limits[] = {VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT,
                                      VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
                                      VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT};
    for (size_t i = 0; i < sizeof(ars) / sizeof(ars[0]); i++)
        fake_vmcs_set(ars[i], ar);
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        fake_vmcs_set(limits[i], limit);
}

static int setup(void **state)
{
    (void)state;
    v = fake_vm_reset(&vm, "iotest");
    memset(ram, 0, sizeof(ram));
    memset(&probe, 0, sizeof(probe));
    fake_vm_ram(&vm, ram, RAM_SIZE);
    assert_int_equal(io_register(&vm, &probe_dev), 0);
    /* 32-bit protected mode, paging off, flat except where a test sets a base */
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_ET | CR0_NE);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE32);
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_SS0);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ32, SEG_DS));
    flat_segments(AR_DATA32, 0xFFFFFFFFu);
    return 0;
}

static void long_mode_paged(void)
{
    uint64_t *pml4 = (uint64_t *)(ram + PML4_GPA), *pdpt = (uint64_t *)(ram + PDPT_GPA);
    uint64_t *pd = (uint64_t *)(ram + PD_GPA), *pt = (uint64_t *)(ram + PT_GPA);
    pml4[0] = PDPT_GPA | GPTE_P | GPTE_RW;
    pdpt[0] = PD_GPA | GPTE_P | GPTE_RW;
    pd[0] = PT_GPA | GPTE_P | GPTE_RW;
    for (uint64_t pa = 0; pa < RAM_SIZE; pa += PAGE_SIZE)
        pt[pa >> PAGE_SHIFT] = pa | GPTE_P | GPTE_RW;
    pt[HOLE_PAGE >> PAGE_SHIFT] = 0;
    pt[RO_PAGE >> PAGE_SHIFT] = RO_PAGE | GPTE_P;
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG);
    fake_vmcs_set(VMCS_GUEST_CR3, PML4_GPA);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE);
    fake_vmcs_set(VMCS_GUEST_EFER, EFER_LME | EFER_LMA);
    fake_vmcs_set(VMCS_ENTRY_CTLS, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_EFER | ENTRY_LOAD_PAT);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE64);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ64, SEG_DS));
}

static void real_mode(void)
{
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_ET | CR0_NE);
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE16);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ16, SEG_DS));
    flat_segments(AR_DATA32, 0xFFFFu);
}

static void io_exit(uint64_t qual, uint32_t len)
{
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, qual);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LEN, len);
    fake_vcpu_exit(v, exit_handle_io);
}

static void assert_advanced(uint32_t len)
{
    assert_int_equal(v->event_count, 0);
    assert_false(vm.g.ended);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0 + len);
    assert_int_equal(fake_hw_port_log_count(), 0); /* no port ever reaches the hardware */
}

static void assert_pf(uint64_t cr2, uint32_t error_code)
{
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_PF);
    assert_int_equal(v->events[0].type, INTR_TYPE_HW_EXCEPTION);
    assert_true(v->events[0].has_error_code);
    assert_int_equal(v->events[0].error_code, error_code);
    assert_int_equal(v->regs.cr2, cr2);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0); /* the instruction faulted */
    assert_false(vm.g.ended);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- io_decode ---- */

static void test_decode_every_field(void **state)
{
    (void)state;
    struct io_access a;
    memset(&a, 0xEE, sizeof(a));
    assert_int_equal(io_decode(Q_SIZE(1) | Q_PORT(0x3F8), &a), 0);
    assert_int_equal(a.size, 1);
    assert_int_equal(a.port, 0x3F8);
    assert_false(a.in);
    assert_false(a.string);
    assert_false(a.rep);
    assert_false(a.immediate);

    assert_int_equal(io_decode(Q_SIZE(2) | Q_IN | Q_IMM | Q_PORT(0x60), &a), 0);
    assert_int_equal(a.size, 2);
    assert_int_equal(a.port, 0x60);
    assert_true(a.in);
    assert_false(a.string);
    assert_false(a.rep);
    assert_true(a.immediate);

    assert_int_equal(io_decode(Q_SIZE(4) | Q_STRING | Q_REP | Q_PORT(0xFFFF), &a), 0);
    assert_int_equal(a.size, 4);
    assert_int_equal(a.port, 0xFFFF);
    assert_false(a.in);
    assert_true(a.string);
    assert_true(a.rep);
    assert_false(a.immediate);

    /* bits 15:7 and 63:32 are reserved/ignored */
    assert_int_equal(io_decode(0xFFFFFFFF00000000ull | (0x1FFull << 7) | Q_SIZE(1) | Q_IN |
                                   Q_STRING | Q_PORT(0x1234),
                               &a),
                     0);
    assert_int_equal(a.port, 0x1234);
    assert_int_equal(a.size, 1);
    assert_true(a.in);
    assert_true(a.string);
    assert_false(a.rep);
    assert_false(a.immediate);
}

static void test_decode_invalid_sizes(void **state)
{
    (void)state;
    struct io_access a;
    static const unsigned bad[] = {2, 4, 5, 6, 7}; /* sizes 3, 5, 6, 7, 8 */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (io_decode(bad[i] | Q_PORT(0x80), &a) != -1)
            fail_msg("size field %u accepted", bad[i]);
}

static void test_undecodable_exit_kills(void **state)
{
    (void)state;
    io_exit(2 | Q_PORT(0x80), 1);
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "killed(undecodable I/O exit)");
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_non_null(strstr(fake_log, "vm iotest: exit 30 (I/O instruction)"));
}

/* ---- io_register ---- */

static uint32_t dummy_in(void *m, uint16_t port, unsigned size)
{
    (void)m, (void)port, (void)size;
    return 0;
}

static void test_register_overlap_and_limits(void **state)
{
    (void)state;
    /* the probe holds [0x100, 0x104) */
    static const struct io_device overlapping[] = {
        {"same", 0x100, 4, dummy_in, 0},     {"inside", 0x101, 1, dummy_in, 0},
        {"around", 0xF0, 0x20, dummy_in, 0}, {"low", 0xFF, 2, dummy_in, 0},
        {"high", 0x103, 8, dummy_in, 0},
    };
    for (size_t i = 0; i < sizeof(overlapping) / sizeof(overlapping[0]); i++)
        if (io_register(&vm, &overlapping[i]) != -1)
            fail_msg("%s accepted", overlapping[i].name);
    static const struct io_device empty = {"empty", 0x200, 0, dummy_in, 0};
    static const struct io_device past_end = {"past", 0xFFFF, 2, dummy_in, 0};
    assert_int_equal(io_register(&vm, &empty), -1);
    assert_int_equal(io_register(&vm, &past_end), -1);
    assert_int_equal(vm.dev.bus.io_count, 1);

    /* adjacent ranges are fine, up to VM_IO_DEVICES in all */
    static const struct io_device below = {"below", 0xFC, 4, dummy_in, 0};
    static const struct io_device above = {"above", 0x104, 1, dummy_in, 0};
    static const struct io_device last = {"last", 0xFFFF, 1, dummy_in, 0};
    assert_int_equal(io_register(&vm, &below), 0);
    assert_int_equal(io_register(&vm, &above), 0);
    assert_int_equal(io_register(&vm, &last), 0);
    static struct io_device more[VM_IO_DEVICES];
    unsigned n = vm.dev.bus.io_count;
    for (unsigned i = 0; n < VM_IO_DEVICES; i++, n++) {
        more[i] = (struct io_device){"more", (uint16_t)(0x1000 + 0x10 * i), 0x10, dummy_in, 0};
        assert_int_equal(io_register(&vm, &more[i]), 0);
    }
    static const struct io_device full = {"full", 0x8000, 1, dummy_in, 0};
    assert_int_equal(io_register(&vm, &full), -1);
    assert_int_equal(vm.dev.bus.io_count, VM_IO_DEVICES);
}

/* ---- dispatch ---- */

static struct {
    unsigned a_in, b_in, b_out;
    uint16_t last_port;
} hits;

static uint32_t dev_a_in(void *m, uint16_t port, unsigned size)
{
    (void)m, (void)size;
    hits.a_in++;
    hits.last_port = port;
    return 0xAA;
}

static uint32_t dev_b_in(void *m, uint16_t port, unsigned size)
{
    (void)m, (void)size;
    hits.b_in++;
    hits.last_port = port;
    return 0xBBBBBBBB;
}

static void dev_b_out(void *m, uint16_t port, unsigned size, uint32_t value)
{
    (void)m, (void)size, (void)value;
    hits.b_out++;
    hits.last_port = port;
}

static void test_dispatch_by_range(void **state)
{
    (void)state;
    static const struct io_device dev_a = {"a", 0x200, 4, dev_a_in, 0};
    static const struct io_device dev_b = {"b", 0x204, 2, dev_b_in, dev_b_out};
    memset(&hits, 0, sizeof(hits));
    assert_int_equal(io_register(&vm, &dev_a), 0);
    assert_int_equal(io_register(&vm, &dev_b), 0);
    assert_int_equal(vdev_bus_in(&vm.dev.bus, 0x200, 1), 0xAA);
    assert_int_equal(vdev_bus_in(&vm.dev.bus, 0x203, 1), 0xAA);
    assert_int_equal(hits.last_port, 0x203);
    assert_int_equal(vdev_bus_in(&vm.dev.bus, 0x204, 2), 0xBBBB); /* masked to the access size */
    assert_int_equal(vdev_bus_in(&vm.dev.bus, 0x205, 4), 0xBBBBBBBB);
    assert_int_equal(hits.last_port, 0x205);
    assert_int_equal(vdev_bus_in(&vm.dev.bus, 0x206, 1), 0xFF); /* past b: unclaimed */
    assert_int_equal(vdev_bus_in(&vm.dev.bus, 0x1FF, 2), 0xFFFF);
    assert_int_equal(hits.a_in, 2);
    assert_int_equal(hits.b_in, 2);
    /* a has no OUT handler: the write is dropped (and said once) */
    vdev_bus_out(&vm.dev.bus, 0x201, 1, 5);
    vdev_bus_out(&vm.dev.bus, 0x205, 1, 5);
    assert_int_equal(hits.b_out, 1);
    assert_int_equal(hits.last_port, 0x205);
    assert_int_equal(count(fake_log, "OUT of unclaimed port 0x201"), 1);
    assert_int_equal(fake_hw_port_log_count(), 0);
}

static void test_device_without_in_reads_all_ones(void **state)
{
    (void)state;
    static const struct io_device out_only = {"out-only", 0x300, 1, 0, dev_b_out};
    assert_int_equal(io_register(&vm, &out_only), 0);
    assert_int_equal(vdev_bus_in(&vm.dev.bus, 0x300, 4), 0xFFFFFFFF);
    assert_int_equal(count(fake_log, "IN of unclaimed port 0x300"), 1);
}

/* ---- IN / OUT ---- */

static void test_in_sizes(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = RAX0;
    io_exit(Q_SIZE(1) | Q_IN | Q_IMM | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(v->regs.gpr[REG_RAX], 0x1122334455667744ull); /* AL only */

    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->regs.gpr[REG_RAX] = RAX0;
    io_exit(Q_SIZE(2) | Q_IN | Q_PORT(PROBE_PORT + 1), 1);
    assert_advanced(1);
    assert_int_equal(v->regs.gpr[REG_RAX], 0x1122334455663345ull); /* AX only */

    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->regs.gpr[REG_RAX] = RAX0;
    io_exit(Q_SIZE(4) | Q_IN | Q_PORT(PROBE_PORT + 2), 3);
    assert_advanced(3);
    assert_int_equal(v->regs.gpr[REG_RAX], 0x0000000011223346ull); /* EAX zero-extends */

    assert_int_equal(probe.ins, 3);
    assert_int_equal(probe.in_port[1], PROBE_PORT + 1);
    assert_int_equal(probe.in_size[0], 1);
    assert_int_equal(probe.in_size[1], 2);
    assert_int_equal(probe.in_size[2], 4);
}

static void test_out_sizes(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = RAX0;
    io_exit(Q_SIZE(1) | Q_PORT(PROBE_PORT), 1);
    assert_advanced(1);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    io_exit(Q_SIZE(2) | Q_IMM | Q_PORT(PROBE_PORT + 3), 3);
    assert_advanced(3);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    io_exit(Q_SIZE(4) | Q_PORT(PROBE_PORT), 1);
    assert_advanced(1);
    assert_int_equal(probe.outs, 3);
    assert_int_equal(probe.out_value[0], 0x88);
    assert_int_equal(probe.out_value[1], 0x7788);
    assert_int_equal(probe.out_value[2], 0x55667788);
    assert_int_equal(probe.out_port[1], PROBE_PORT + 3);
    assert_int_equal(probe.out_size[1], 2);
    assert_int_equal(v->regs.gpr[REG_RAX], RAX0);
}

static void test_unclaimed_port_all_ones_logged_once(void **state)
{
    (void)state;
    v->regs.gpr[REG_RAX] = 0;
    io_exit(Q_SIZE(1) | Q_IN | Q_PORT(0x80), 2);
    assert_int_equal(v->regs.gpr[REG_RAX], 0xFF);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    v->regs.gpr[REG_RAX] = 0xAAAA0000ull;
    io_exit(Q_SIZE(2) | Q_IN | Q_PORT(0x80), 2);
    assert_int_equal(v->regs.gpr[REG_RAX], 0xAAAAFFFFull);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    io_exit(Q_SIZE(4) | Q_IN | Q_PORT(0x80), 2);
    assert_int_equal(v->regs.gpr[REG_RAX], 0xFFFFFFFFull);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    io_exit(Q_SIZE(1) | Q_PORT(0x80), 2); /* an OUT to the same port: already said */
    assert_advanced(2);
    assert_string_equal(fake_log,
                        "vm iotest: IN of unclaimed port 0x80 (reads all ones, writes dropped)\n");
    /* another port is said again, also for an OUT */
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    io_exit(Q_SIZE(1) | Q_PORT(0x81), 2);
    io_exit(Q_SIZE(1) | Q_PORT(0x81), 2);
    assert_int_equal(count(fake_log, "OUT of unclaimed port 0x81 "), 1);
    assert_int_equal(count(fake_log, "unclaimed port"), 2);
}

/* A port scan must not flood hv's console: 16 ports per guest are logged, then one line. */
static void test_unclaimed_port_log_capped(void **state)
{
    (void)state;
    for (unsigned port = 0x100; port < 0x100 + 40; port++) {
        fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
        io_exit(Q_SIZE(1) | Q_IN | Q_PORT(port), 2);
    }
    assert_int_equal(count(fake_log, "of unclaimed port"), 16);
    assert_null(strstr(fake_log, "port 0x127 (")); /* the last one scanned */
    assert_int_equal(count(fake_log, "vm iotest: further unclaimed ports are not logged\n"), 1);
}

/* ---- OUTS / INS, paging off ---- */

static void test_outs_rep_forward(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_DS_BASE, 0x1000);
    memcpy(ram + 0x1200, "ABCD", 4);
    v->regs.gpr[REG_RSI] = 0x200;
    v->regs.gpr[REG_RCX] = 4;
    io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(probe.outs, 4);
    assert_int_equal(probe.out_value[0], 'A');
    assert_int_equal(probe.out_value[3], 'D');
    assert_int_equal(v->regs.gpr[REG_RSI], 0x204);
    assert_int_equal(v->regs.gpr[REG_RCX], 0);
}

static void test_outs_dwords_df_set(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_DF);
    const uint32_t words[3] = {0x11111111, 0x22222222, 0x33333333};
    memcpy(ram + 0x3000, words, sizeof(words));
    v->regs.gpr[REG_RSI] = 0x3008;
    v->regs.gpr[REG_RCX] = 3;
    io_exit(Q_SIZE(4) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 3);
    assert_advanced(3);
    assert_int_equal(probe.outs, 3);
    assert_int_equal(probe.out_value[0], 0x33333333);
    assert_int_equal(probe.out_value[1], 0x22222222);
    assert_int_equal(probe.out_value[2], 0x11111111);
    assert_int_equal(probe.out_size[0], 4);
    assert_int_equal(v->regs.gpr[REG_RSI], 0x2FFC);
    assert_int_equal(v->regs.gpr[REG_RCX], 0);
}

static void test_outs_segment_override(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_DS_BASE, 0x5000);
    fake_vmcs_set(VMCS_GUEST_FS_BASE, 0x6000);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ32, SEG_FS));
    ram[0x5010] = 'd';
    ram[0x6010] = 'f';
    v->regs.gpr[REG_RSI] = 0x10;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 3);
    assert_advanced(3);
    assert_int_equal(probe.outs, 1);
    assert_int_equal(probe.out_value[0], 'f');
}

/*
 * BUG (vmx/exit/exit_io.c, string_io): "64-bit mode ignores the ES/CS/SS/DS bases" is decided from
 * CS.L alone, but 64-bit mode is IA-32e mode and CS.L (SDM vol. 3 §5.2.1; vcpu_in_64bit_mode).
 * A legacy protected-mode guest whose code descriptor has the L bit set gets its DS base
 * dropped. Expected: OUTS reads DS.base + ESI = 0x5010.
 */
static void test_outs_cs_l_outside_ia32e_keeps_ds_base(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_CS_AR, AR_CODE32 | SEG_AR_L);
    fake_vmcs_set(VMCS_GUEST_DS_BASE, 0x5000);
    ram[0x0010] = 'z';
    ram[0x5010] = 'd';
    v->regs.gpr[REG_RSI] = 0x10;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(probe.outs, 1);
    assert_int_equal(probe.out_value[0], 'd');
}

static void test_outs_without_rep_ignores_rcx(void **state)
{
    (void)state;
    ram[0x800] = 0x5A;
    v->regs.gpr[REG_RSI] = 0x800;
    v->regs.gpr[REG_RCX] = 7;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 1);
    assert_advanced(1);
    assert_int_equal(probe.outs, 1);
    assert_int_equal(probe.out_value[0], 0x5A);
    assert_int_equal(v->regs.gpr[REG_RSI], 0x801);
    assert_int_equal(v->regs.gpr[REG_RCX], 7);
}

static void test_rep_with_rcx_zero_does_nothing(void **state)
{
    (void)state;
    v->regs.gpr[REG_RDI] = 0x800;
    v->regs.gpr[REG_RCX] = 0;
    io_exit(Q_SIZE(1) | Q_IN | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(probe.ins, 0);
    assert_int_equal(v->regs.gpr[REG_RDI], 0x800);
}

static void test_ins_words_use_es_only(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_ES_BASE, 0x2000);
    fake_vmcs_set(VMCS_GUEST_DS_BASE, 0x5000);
    fake_vmcs_set(VMCS_GUEST_FS_BASE, 0x6000);
    /* INS has no segment override: the segment field is undefined and must be ignored */
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ32, SEG_FS));
    v->regs.gpr[REG_RDI] = 0x100;
    v->regs.gpr[REG_RCX] = 3;
    io_exit(Q_SIZE(2) | Q_IN | Q_STRING | Q_REP | Q_PORT(PROBE_PORT + 2), 3);
    assert_advanced(3);
    assert_int_equal(probe.ins, 3);
    assert_int_equal(probe.in_port[0], PROBE_PORT + 2);
    assert_int_equal(probe.in_size[0], 2);
    const uint8_t want[6] = {0x44, 0x33, 0x45, 0x33, 0x46, 0x33};
    assert_memory_equal(ram + 0x2100, want, sizeof(want));
    assert_int_equal(ram[0x2106], 0);
    assert_int_equal(ram[0x6100], 0);
    assert_int_equal(v->regs.gpr[REG_RDI], 0x106);
    assert_int_equal(v->regs.gpr[REG_RCX], 0);
}

static void test_ins_bytes_df_set(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_DF);
    v->regs.gpr[REG_RDI] = 0x902;
    v->regs.gpr[REG_RCX] = 3;
    io_exit(Q_SIZE(1) | Q_IN | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(ram[0x902], 0x44);
    assert_int_equal(ram[0x901], 0x45);
    assert_int_equal(ram[0x900], 0x46);
    assert_int_equal(ram[0x8FF], 0);
    assert_int_equal(v->regs.gpr[REG_RDI], 0x8FF);
}

static void test_string_16bit_address_wraps(void **state)
{
    (void)state;
    real_mode();
    fake_vmcs_set(VMCS_GUEST_DS_BASE, 0x10000);
    ram[0x1FFFF] = 'x';
    ram[0x10000] = 'y';
    v->regs.gpr[REG_RSI] = 0xDEAD0000FFFFull; /* only SI counts, and only SI changes */
    v->regs.gpr[REG_RCX] = 0xBEEF00000002ull; /* only CX */
    io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(probe.outs, 2);
    assert_int_equal(probe.out_value[0], 'x');
    assert_int_equal(probe.out_value[1], 'y');
    assert_int_equal(v->regs.gpr[REG_RSI], 0xDEAD00000001ull);
    assert_int_equal(v->regs.gpr[REG_RCX], 0xBEEF00000000ull);
}

static void test_ins_16bit_di_wraps_downwards(void **state)
{
    (void)state;
    real_mode();
    fake_vmcs_set(VMCS_GUEST_ES_BASE, 0x10000);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_DF);
    v->regs.gpr[REG_RDI] = 0x77770000ull;
    v->regs.gpr[REG_RCX] = 0x55550002ull;
    io_exit(Q_SIZE(1) | Q_IN | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(ram[0x10000], 0x44);
    assert_int_equal(ram[0x1FFFF], 0x45);
    assert_int_equal(v->regs.gpr[REG_RDI], 0x7777FFFEull);
    assert_int_equal(v->regs.gpr[REG_RCX], 0x55550000ull);
}

static void test_rep_budget_resumes(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 5000; i++)
        ram[0x1000 + i] = (uint8_t)(i * 7);
    v->regs.gpr[REG_RSI] = 0x1000;
    v->regs.gpr[REG_RCX] = 5000;
    io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    /* 1024 iterations per exit (so one exit queues at most that many console bytes and stays
       well inside a time slice), then the instruction is left to re-execute */
    assert_int_equal(probe.outs, 1024);
    assert_int_equal(v->regs.gpr[REG_RCX], 5000 - 1024);
    assert_int_equal(v->regs.gpr[REG_RSI], 0x1000 + 1024);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_int_equal(v->event_count, 0);
    for (unsigned exits = 2; exits <= 4; exits++) {
        io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
        assert_int_equal(probe.outs, 1024 * exits);
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    }
    io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    assert_int_equal(probe.outs, 5000);
    assert_int_equal(v->regs.gpr[REG_RCX], 0);
    assert_int_equal(v->regs.gpr[REG_RSI], 0x1000 + 5000);
    assert_int_equal(probe.out_value[4095], (uint8_t)(4095 * 7));
    assert_int_equal(probe.out_value[4999], (uint8_t)(4999 * 7));
}

/* ---- segmentation of INS/OUTS operands (issue 16 item 5; SDM vol. 3 §5.3-§5.5) ---- */

#define AR_RO_DATA   (0x1u | SEG_AR_S | SEG_AR_P | SEG_AR_DB) /* read-only, accessed */
#define AR_EXPAND_DN (0x7u | SEG_AR_S | SEG_AR_P | SEG_AR_DB) /* RW expand-down */
#define AR_XO_CODE   (0x9u | SEG_AR_S | SEG_AR_P | SEG_AR_DB) /* execute-only */

static void test_segment_check_rules(void **state)
{
    (void)state;
    const struct io_segment flat = {AR_DATA32, 0xFFFFFFFFu, false};
    const struct io_segment small = {AR_DATA32, 0xFFF, false};
    const struct io_segment small_ss = {AR_DATA32, 0xFFF, true};
    const struct io_segment ro = {AR_RO_DATA, 0xFFFF, false};
    const struct io_segment down = {AR_EXPAND_DN, 0xFFF, false};
    const struct io_segment xo = {AR_XO_CODE, 0xFFFF, false};
    const struct io_segment rx = {AR_CODE32, 0xFFFF, false};
    const struct io_segment null = {SEG_AR_UNUSABLE, 0, false};
    assert_int_equal(io_segment_check(&flat, IO_MODE_PROTECTED, 0x1000, 0x1000, 4, true), -1);
    /* limit: the last byte counts */
    assert_int_equal(io_segment_check(&small, IO_MODE_PROTECTED, 0xFFF, 0, 1, false), -1);
    assert_int_equal(io_segment_check(&small, IO_MODE_PROTECTED, 0xFFE, 0, 4, false), EXC_GP);
    assert_int_equal(io_segment_check(&small, IO_MODE_PROTECTED, 0x1000, 0, 1, false), EXC_GP);
    assert_int_equal(io_segment_check(&small_ss, IO_MODE_PROTECTED, 0x1000, 0, 1, false), EXC_SS);
    /* expand-down: (limit, 0xFFFFFFFF] with B set */
    assert_int_equal(io_segment_check(&down, IO_MODE_PROTECTED, 0xFFF, 0, 1, true), EXC_GP);
    assert_int_equal(io_segment_check(&down, IO_MODE_PROTECTED, 0x1000, 0, 4, true), -1);
    /* types: no writes through read-only data or code, no reads of execute-only code */
    assert_int_equal(io_segment_check(&ro, IO_MODE_PROTECTED, 0x10, 0, 1, false), -1);
    assert_int_equal(io_segment_check(&ro, IO_MODE_PROTECTED, 0x10, 0, 1, true), EXC_GP);
    assert_int_equal(io_segment_check(&xo, IO_MODE_PROTECTED, 0x10, 0, 1, false), EXC_GP);
    assert_int_equal(io_segment_check(&rx, IO_MODE_PROTECTED, 0x10, 0, 1, false), -1);
    assert_int_equal(io_segment_check(&rx, IO_MODE_PROTECTED, 0x10, 0, 1, true), EXC_GP);
    assert_int_equal(io_segment_check(&null, IO_MODE_PROTECTED, 0x10, 0, 1, false), EXC_GP);
    /* real mode: the limit only */
    assert_int_equal(io_segment_check(&ro, IO_MODE_REAL, 0x10, 0, 1, true), -1);
    assert_int_equal(io_segment_check(&ro, IO_MODE_REAL, 0xFFFF, 0, 2, false), EXC_GP);
    /* 64-bit mode: no limit or type, a canonical address */
    assert_int_equal(io_segment_check(&null, IO_MODE_64, 0x10, 0x10, 1, true), -1);
    assert_int_equal(io_segment_check(&flat, IO_MODE_64, 0, 0x0000800000000000ull, 1, false),
                     EXC_GP);
    assert_int_equal(io_segment_check(&small_ss, IO_MODE_64, 0, 0x00007FFFFFFFFFFFull, 2, false),
                     EXC_SS);
    assert_int_equal(io_segment_check(&flat, IO_MODE_64, 0, 0xFFFF800000000000ull, 8, false), -1);
}

/* A REP OUTSB running past DS's limit: the iterations inside it happen, then #GP(0) with RIP on
   the instruction and RSI/RCX at the faulting element (a byte beyond DS's limit was read). */
static void test_outs_beyond_ds_limit_faults(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_DS_LIMIT, 0x1001);
    memcpy(ram + 0x1000, "ABCD", 4);
    v->regs.gpr[REG_RSI] = 0x1000;
    v->regs.gpr[REG_RCX] = 4;
    io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_int_equal(probe.outs, 2);
    assert_int_equal(v->regs.gpr[REG_RSI], 0x1002);
    assert_int_equal(v->regs.gpr[REG_RCX], 2);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_GP);
    assert_int_equal(v->events[0].error_code, 0);
}

/* INS through a read-only ES: #GP(0) before the port is read. */
static void test_ins_through_read_only_es_faults(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_ES_AR, AR_RO_DATA);
    v->regs.gpr[REG_RDI] = 0x1000;
    io_exit(Q_SIZE(1) | Q_IN | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_int_equal(probe.ins, 0);
    assert_int_equal(ram[0x1000], 0);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_GP);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

/* OUTS with an SS override past SS's limit: #SS(0); with a NULL DS: #GP(0). */
static void test_outs_ss_and_null_ds(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_SS_AR, AR_DATA32);
    fake_vmcs_set(VMCS_GUEST_SS_LIMIT, 0xFFF);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ32, SEG_SS));
    v->regs.gpr[REG_RSI] = 0x1000;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_int_equal(probe.outs, 0);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_SS);
    v->event_count = 0;
    fake_vmcs_set(VMCS_GUEST_DS_AR, SEG_AR_UNUSABLE);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ32, SEG_DS));
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_int_equal(probe.outs, 0);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_GP);
}

/* Segment fields 6 and 7 name no segment register (SDM vol. 3 Table 28-8): no CPU reports
   them, and hv ends the guest rather than guess a base. */
static void test_outs_with_undefined_segment_kills(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ32, 6));
    v->regs.gpr[REG_RSI] = 0x1000;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_int_equal(probe.outs, 0);
    assert_true(vm.g.ended);
    assert_string_equal(vm.g.verdict, "killed(string I/O exit names segment register 6)");
}

/* SDM vol. 3 §18.3.1.4: a single-stepped REP string instruction traps after every iteration:
   one iteration per exit with the #DB pending (BS) and RIP on the instruction; the last one
   completes it (RIP advanced, BS pending as for any completed instruction). Bare CPUs give 3
   #DBs for a 3-iteration REP OUTSB (issue 16 item 6). */
static void test_single_stepped_rep_traps_after_each_iteration(void **state)
{
    (void)state;
    const uint64_t bs = 1ull << 14;
    memcpy(ram + 0x1000, "XYZ", 3);
    v->regs.gpr[REG_RSI] = 0x1000;
    v->regs.gpr[REG_RCX] = 3;
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_TF);
    for (unsigned i = 1; i <= 3; i++) {
        fake_vmcs_set(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
        io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
        assert_int_equal(probe.outs, i);
        assert_int_equal(probe.out_value[i - 1], "XYZ"[i - 1]);
        assert_int_equal(v->regs.gpr[REG_RCX], 3 - i);
        assert_int_equal(v->regs.gpr[REG_RSI], 0x1000 + i);
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) & bs, bs);
        if (i < 3)
            assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    }
    assert_advanced(2);
}

/* Without TF the whole REP runs in one exit and nothing is pending. */
static void test_rep_without_tf_has_no_pending_step(void **state)
{
    (void)state;
    v->regs.gpr[REG_RSI] = 0x1000;
    v->regs.gpr[REG_RCX] = 3;
    fake_vmcs_set(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
    io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_int_equal(probe.outs, 3);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
    assert_advanced(2);
}

static void test_outs_outside_ram_kills(void **state)
{
    (void)state;
    v->regs.gpr[REG_RSI] = RAM_SIZE;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_true(vm.g.ended);
    /* as the EPT violation the CPU would raise for a MOV from there */
    char want[64];
    snprintf(want, sizeof(want), "killed(EPT violation at GPA 0x%llx R)",
             (unsigned long long)RAM_SIZE);
    assert_string_equal(vm.g.verdict, want);
    assert_int_equal(probe.outs, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
}

/* ---- OUTS / INS with 4-level paging ---- */

static void test_outs_64bit_segments(void **state)
{
    (void)state;
    long_mode_paged();
    fake_vmcs_set(VMCS_GUEST_DS_BASE, 0x5000); /* ignored in 64-bit mode */
    fake_vmcs_set(VMCS_GUEST_GS_BASE, 0x6000); /* honoured */
    ram[0x0020] = 'n';
    ram[0x5020] = 'd';
    ram[0x6020] = 'g';
    v->regs.gpr[REG_RSI] = 0x20;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_advanced(2);
    fake_vmcs_set(VMCS_GUEST_RIP, RIP0);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_INFO, INFO(ASZ64, SEG_GS));
    v->regs.gpr[REG_RSI] = 0x20;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 3);
    assert_advanced(3);
    assert_int_equal(probe.outs, 2);
    assert_int_equal(probe.out_value[0], 'n');
    assert_int_equal(probe.out_value[1], 'g');
}

static void test_outs_page_fault_mid_rep(void **state)
{
    (void)state;
    long_mode_paged();
    ram[HOLE_PAGE - 2] = 'a';
    ram[HOLE_PAGE - 1] = 'b';
    v->regs.gpr[REG_RSI] = HOLE_PAGE - 2;
    v->regs.gpr[REG_RCX] = 5;
    io_exit(Q_SIZE(1) | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_pf(HOLE_PAGE, 0); /* not present, read, supervisor */
    /* the two completed iterations are architecturally done */
    assert_int_equal(probe.outs, 2);
    assert_int_equal(probe.out_value[1], 'b');
    assert_int_equal(v->regs.gpr[REG_RSI], HOLE_PAGE);
    assert_int_equal(v->regs.gpr[REG_RCX], 3);
}

static void test_outs_word_straddling_hole(void **state)
{
    (void)state;
    long_mode_paged();
    v->regs.gpr[REG_RSI] = HOLE_PAGE - 1;
    io_exit(Q_SIZE(2) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_pf(HOLE_PAGE, 0);
    assert_int_equal(probe.outs, 0);
    assert_int_equal(v->regs.gpr[REG_RSI], HOLE_PAGE - 1);
}

static void test_ins_page_fault_mid_rep_does_not_read_port(void **state)
{
    (void)state;
    long_mode_paged();
    v->regs.gpr[REG_RDI] = HOLE_PAGE - 1;
    v->regs.gpr[REG_RCX] = 3;
    io_exit(Q_SIZE(1) | Q_IN | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_pf(HOLE_PAGE, PF_EC_W);
    assert_int_equal(probe.ins, 1); /* the faulting iteration did not consume port data */
    assert_int_equal(ram[HOLE_PAGE - 1], 0x44);
    assert_int_equal(v->regs.gpr[REG_RDI], HOLE_PAGE);
    assert_int_equal(v->regs.gpr[REG_RCX], 2);
    assert_int_equal(fake_hw_port_log_count(), 0);
}

static void test_ins_straddling_hole_does_not_read_port(void **state)
{
    (void)state;
    long_mode_paged();
    v->regs.gpr[REG_RDI] = HOLE_PAGE - 1;
    io_exit(Q_SIZE(2) | Q_IN | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_pf(HOLE_PAGE, PF_EC_W);
    assert_int_equal(probe.ins, 0);
    assert_int_equal(ram[HOLE_PAGE - 1], 0);
    assert_int_equal(v->regs.gpr[REG_RDI], HOLE_PAGE - 1);
}

static void test_ins_read_only_page(void **state)
{
    (void)state;
    long_mode_paged();
    v->regs.gpr[REG_RDI] = RO_PAGE + 0x10;
    v->regs.gpr[REG_RCX] = 4;
    io_exit(Q_SIZE(4) | Q_IN | Q_STRING | Q_REP | Q_PORT(PROBE_PORT), 2);
    assert_pf(RO_PAGE + 0x10, PF_EC_P | PF_EC_W);
    assert_int_equal(probe.ins, 0);
    assert_int_equal(v->regs.gpr[REG_RCX], 4);
    assert_int_equal(ram[RO_PAGE + 0x10], 0);
}

static void test_outs_non_canonical_gp(void **state)
{
    (void)state;
    long_mode_paged();
    v->regs.gpr[REG_RSI] = 0x0000800000000000ull;
    io_exit(Q_SIZE(1) | Q_STRING | Q_PORT(PROBE_PORT), 2);
    assert_int_equal(v->event_count, 1);
    assert_int_equal(v->events[0].vector, EXC_GP);
    assert_int_equal(v->events[0].error_code, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), RIP0);
    assert_int_equal(probe.outs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_decode_every_field, setup),
        cmocka_unit_test_setup(test_decode_invalid_sizes, setup),
        cmocka_unit_test_setup(test_undecodable_exit_kills, setup),
        cmocka_unit_test_setup(test_register_overlap_and_limits, setup),
        cmocka_unit_test_setup(test_dispatch_by_range, setup),
        cmocka_unit_test_setup(test_device_without_in_reads_all_ones, setup),
        cmocka_unit_test_setup(test_in_sizes, setup),
        cmocka_unit_test_setup(test_out_sizes, setup),
        cmocka_unit_test_setup(test_unclaimed_port_all_ones_logged_once, setup),
        cmocka_unit_test_setup(test_unclaimed_port_log_capped, setup),
        cmocka_unit_test_setup(test_outs_rep_forward, setup),
        cmocka_unit_test_setup(test_outs_dwords_df_set, setup),
        cmocka_unit_test_setup(test_outs_segment_override, setup),
        cmocka_unit_test_setup(test_outs_cs_l_outside_ia32e_keeps_ds_base, setup),
        cmocka_unit_test_setup(test_outs_without_rep_ignores_rcx, setup),
        cmocka_unit_test_setup(test_rep_with_rcx_zero_does_nothing, setup),
        cmocka_unit_test_setup(test_ins_words_use_es_only, setup),
        cmocka_unit_test_setup(test_ins_bytes_df_set, setup),
        cmocka_unit_test_setup(test_string_16bit_address_wraps, setup),
        cmocka_unit_test_setup(test_ins_16bit_di_wraps_downwards, setup),
        cmocka_unit_test_setup(test_rep_budget_resumes, setup),
        cmocka_unit_test_setup(test_single_stepped_rep_traps_after_each_iteration, setup),
        cmocka_unit_test_setup(test_segment_check_rules, setup),
        cmocka_unit_test_setup(test_outs_with_undefined_segment_kills, setup),
        cmocka_unit_test_setup(test_outs_beyond_ds_limit_faults, setup),
        cmocka_unit_test_setup(test_ins_through_read_only_es_faults, setup),
        cmocka_unit_test_setup(test_outs_ss_and_null_ds, setup),
        cmocka_unit_test_setup(test_rep_without_tf_has_no_pending_step, setup),
        cmocka_unit_test_setup(test_outs_outside_ram_kills, setup),
        cmocka_unit_test_setup(test_outs_64bit_segments, setup),
        cmocka_unit_test_setup(test_outs_page_fault_mid_rep, setup),
        cmocka_unit_test_setup(test_outs_word_straddling_hole, setup),
        cmocka_unit_test_setup(test_ins_page_fault_mid_rep_does_not_read_port, setup),
        cmocka_unit_test_setup(test_ins_straddling_hole_does_not_read_port, setup),
        cmocka_unit_test_setup(test_ins_read_only_page, setup),
        cmocka_unit_test_setup(test_outs_non_canonical_gp, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
