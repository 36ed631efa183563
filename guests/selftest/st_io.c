/* selftest: port I/O (docs/guest-abi.md §5): the virtual 16550 on COM1, unclaimed ports, and
   the string forms INS/OUTS with REP that hv emulates through the guest's page tables (SDM vol.
   2B INS/OUTS, REP; vol. 3 §7.3.9.2 for restarts). */
#include "guests/selftest/selftest.h"

#define COM1_THR      (G_COM1 + 0) /* DLL with DLAB */
#define COM1_IER      (G_COM1 + 1) /* DLM with DLAB */
#define COM1_IIR      (G_COM1 + 2) /* FCR on write */
#define COM1_LCR      (G_COM1 + 3)
#define COM1_MCR      (G_COM1 + 4)
#define COM1_LSR      (G_COM1 + 5)
#define COM1_SCR      (G_COM1 + 7)
#define LCR_8N1       0x03
#define LCR_DLAB      0x80
#define LSR_TX_EMPTY  0x60 /* THRE | TEMT */
#define IIR_NO_INT    0x01
#define IIR_FIFO_ON   0xC0
#define FCR_FIFO_ON   0x01
#define PORT_POST     0x80
#define PORT_UNUSED   0x1234
#define RAX_PATTERN   0x0123456789ABCDEFull
#define BUF_GUARD     16
#define BUF_SIZE      6144
#define BIG_REP_COUNT 5000 /* more than hv's per-exit REP budget (4096) */
#define FILL          0x00
#define ALL_ONES      0xFF
#define ADDR32_HIGH   (1ull << 32)
#define RFLAGS_DF     (1ull << 10)

static uint8_t buf[BUF_SIZE + 2 * BUF_GUARD];

/* ---- COM1 and unclaimed ports ---- */

static void test_com1(void)
{
    uint8_t lsr = hw_inb(COM1_LSR);
    g_check(lsr == LSR_TX_EMPTY, "io.com1_lsr", "LSR=0x%x, want 0x60", lsr);
    hw_outb(COM1_SCR, 0xA5);
    uint8_t scr1 = hw_inb(COM1_SCR);
    hw_outb(COM1_SCR, 0x5A);
    uint8_t scr2 = hw_inb(COM1_SCR);
    g_check(scr1 == 0xA5 && scr2 == 0x5A, "io.com1_scr", "SCR read 0x%x, 0x%x", scr1, scr2);
    hw_outb(COM1_MCR, 0x0B);
    uint8_t mcr = hw_inb(COM1_MCR);
    hw_outb(COM1_MCR, 0);
    g_check(mcr == 0x0B, "io.com1_mcr", "MCR=0x%x, want 0x0b", mcr);

    /* Divisor latch: with LCR.DLAB, ports +0/+1 are DLL/DLM; nothing reaches the console. No
       output may happen until DLAB is clear again. */
    hw_outb(COM1_IER, 0);
    hw_outb(COM1_LCR, LCR_8N1 | LCR_DLAB);
    uint8_t lcr = hw_inb(COM1_LCR);
    hw_outb(COM1_THR, 0x0C);
    hw_outb(COM1_IER, 0x02);
    uint8_t dll = hw_inb(COM1_THR), dlm = hw_inb(COM1_IER);
    hw_outb(COM1_LCR, LCR_8N1);
    uint8_t ier = hw_inb(COM1_IER), lcr2 = hw_inb(COM1_LCR);
    g_check(lcr == (LCR_8N1 | LCR_DLAB) && lcr2 == LCR_8N1, "io.com1_lcr", "LCR read 0x%x, 0x%x",
            lcr, lcr2);
    g_check(dll == 0x0C && dlm == 0x02 && ier == 0, "io.com1_divisor_latch",
            "DLL 0x%x DLM 0x%x, IER after 0x%x", dll, dlm, ier);

    uint8_t iir = hw_inb(COM1_IIR);
    hw_outb(COM1_IIR, FCR_FIFO_ON);
    uint8_t iir_fifo = hw_inb(COM1_IIR);
    hw_outb(COM1_IIR, 0);
    g_check(iir == IIR_NO_INT && iir_fifo == (IIR_NO_INT | IIR_FIFO_ON), "io.com1_iir",
            "IIR 0x%x, with FIFOs 0x%x", iir, iir_fifo);
}

/* IN to AL/AX keeps the rest of RAX; IN to EAX zero-extends into RAX (SDM vol. 1 §3.4.1.1). */
static void test_unclaimed(uint16_t port, const char *name8, const char *name16, const char *name32)
{
    uint64_t rax = RAX_PATTERN;
    __asm__ volatile("inb %w1, %b0" : "+a"(rax) : "Nd"(port));
    g_check(rax == ((RAX_PATTERN & ~0xFFull) | 0xFF), name8, "RAX=0x%llx", (unsigned long long)rax);
    rax = RAX_PATTERN;
    __asm__ volatile("inw %w1, %w0" : "+a"(rax) : "Nd"(port));
    g_check(rax == ((RAX_PATTERN & ~0xFFFFull) | 0xFFFF), name16, "RAX=0x%llx",
            (unsigned long long)rax);
    rax = RAX_PATTERN;
    __asm__ volatile("inl %w1, %k0" : "+a"(rax) : "Nd"(port));
    g_check(rax == 0xFFFFFFFFull, name32, "RAX=0x%llx", (unsigned long long)rax);
}

void st_test_io(void)
{
    test_com1();
    uint16_t post = PORT_POST, unused = PORT_UNUSED;
    test_unclaimed(post, "io.in8_port80_ones", "io.in16_port80_ones", "io.in32_port80_ones");
    test_unclaimed(unused, "io.in8_port1234_ones", "io.in16_port1234_ones",
                   "io.in32_port1234_ones");
    hw_outb(PORT_POST, 0x42);
    hw_outw(PORT_UNUSED, 0x4242);
    hw_outl(PORT_UNUSED, 0x42424242);
    g_check(hw_inb(PORT_POST) == ALL_ONES, "io.out_unclaimed_dropped",
            "port 0x80 reads 0x%x after a write", hw_inb(PORT_POST));
}

/* ---- string I/O ---- */

struct rep_state {
    uint64_t rdi, rsi, rcx;
};

static void reset_buf(void)
{
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = FILL;
}

/* Bytes [from, to) of buf are ALL_ONES and every other byte is FILL. */
static bool buf_is(unsigned from, unsigned to)
{
    for (unsigned i = 0; i < sizeof(buf); i++)
        if (buf[i] != ((i >= from && i < to) ? ALL_ONES : FILL))
            return false;
    return true;
}

#define REP_INS(insn, st, port, df)                                                                \
    do {                                                                                           \
        if (df)                                                                                    \
            __asm__ volatile("std\n\trep " insn "\n\tcld"                                          \
                             : "+D"((st)->rdi), "+c"((st)->rcx)                                    \
                             : "d"(port)                                                           \
                             : "memory");                                                          \
        else                                                                                       \
            __asm__ volatile("rep " insn                                                           \
                             : "+D"((st)->rdi), "+c"((st)->rcx)                                    \
                             : "d"(port)                                                           \
                             : "memory");                                                          \
    } while (0)

static void check_ins(const char *name, unsigned size, unsigned count, bool df)
{
    reset_buf();
    unsigned bytes = size * count;
    unsigned first = BUF_GUARD; /* lowest byte written */
    uintptr_t start = (uintptr_t)(buf + (df ? first + bytes - size : first));
    struct rep_state st = {start, 0, count};
    uint16_t port = PORT_UNUSED;
    if (size == 1)
        REP_INS("insb", &st, port, df);
    else if (size == 2)
        REP_INS("insw", &st, port, df);
    else
        REP_INS("insl", &st, port, df);
    uintptr_t want_rdi = df ? start - bytes : start + bytes;
    g_check(buf_is(first, first + bytes) && st.rdi == want_rdi && st.rcx == 0, name,
            "RDI moved by %lld (want %s%u), RCX=%llu, buffer %s", (long long)(st.rdi - start),
            df ? "-" : "", bytes, (unsigned long long)st.rcx,
            buf_is(first, first + bytes) ? "right" : "wrong");
}

static void test_ins(void)
{
    check_ins("io.rep_insb", 1, 64, false);
    check_ins("io.rep_insb_df", 1, 64, true);
    check_ins("io.rep_insw", 2, 32, false);
    check_ins("io.rep_insw_df", 2, 32, true);
    check_ins("io.rep_insd", 4, 16, false);
    check_ins("io.rep_insd_df", 4, 16, true);
    check_ins("io.rep_insb_past_budget", 1, BIG_REP_COUNT, false);

    /* RCX = 0: nothing happens. */
    reset_buf();
    struct rep_state st = {(uintptr_t)(buf + BUF_GUARD), 0, 0};
    uintptr_t start = st.rdi;
    uint16_t port = PORT_UNUSED;
    REP_INS("insb", &st, port, false);
    g_check(buf_is(0, 0) && st.rdi == start && st.rcx == 0, "io.rep_rcx0_nothing",
            "RDI moved by %lld, RCX=%llu", (long long)(st.rdi - start), (unsigned long long)st.rcx);

    /* INSB without REP: one byte, RCX untouched. */
    reset_buf();
    uint64_t rdi = (uintptr_t)(buf + BUF_GUARD), rcx = 77;
    __asm__ volatile("insb" : "+D"(rdi), "+c"(rcx) : "d"(port) : "memory");
    g_check(buf_is(BUF_GUARD, BUF_GUARD + 1) && rdi == (uintptr_t)(buf + BUF_GUARD + 1) &&
                rcx == 77,
            "io.insb_single", "RDI moved by %lld, RCX=%llu",
            (long long)(rdi - (uintptr_t)(buf + BUF_GUARD)), (unsigned long long)rcx);

    /* 32-bit address size in 64-bit mode: EDI and ECX are used and written, and a 32-bit
       register write zero-extends (SDM vol. 1 §3.4.1.1), so bits 63:32 of RDI and RCX end up 0.
       The reference is the CPU itself running STOSB (no exit) with the same registers. */
    uint64_t native_rdi = ADDR32_HIGH | (uintptr_t)(buf + BUF_GUARD), native_rcx = ADDR32_HIGH | 8;
    __asm__ volatile("addr32 rep stosb"
                     : "+D"(native_rdi), "+c"(native_rcx)
                     : "a"(ALL_ONES)
                     : "memory");
    reset_buf();
    rdi = ADDR32_HIGH | (uintptr_t)(buf + BUF_GUARD);
    rcx = ADDR32_HIGH | 8;
    __asm__ volatile("addr32 rep insb" : "+D"(rdi), "+c"(rcx) : "d"(port) : "memory");
    uint64_t want_rdi = (uintptr_t)(buf + BUF_GUARD + 8);
    g_check(buf_is(BUF_GUARD, BUF_GUARD + 8) && rdi == want_rdi && rcx == 0 &&
                native_rdi == want_rdi && native_rcx == 0,
            "io.rep_insb_addr32",
            "RDI=0x%llx RCX=0x%llx (want 0x%llx, 0; native STOSB: 0x%llx, "
            "0x%llx)",
            (unsigned long long)rdi, (unsigned long long)rcx, (unsigned long long)want_rdi,
            (unsigned long long)native_rdi, (unsigned long long)native_rcx);
}

static const char outs_line[] = "io: rep outsb to COM1 THR\n";
static const char outs_fs_line[] = "io: rep outsb with an FS override\n";

static void test_outs(void)
{
    uint64_t rsi = (uintptr_t)outs_line, rcx = sizeof(outs_line) - 1;
    uint16_t port = COM1_THR;
    __asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(port) : "memory");
    g_check(rsi == (uintptr_t)outs_line + sizeof(outs_line) - 1 && rcx == 0, "io.rep_outsb_com1",
            "RSI moved by %lld, RCX=%llu", (long long)(rsi - (uintptr_t)outs_line),
            (unsigned long long)rcx);

    /* OUTS honours a segment override: FS's base applies even in 64-bit mode. */
    const uint64_t fs_base = (uintptr_t)outs_fs_line - PAGE_SIZE;
    hw_wrmsr(0xC0000100u, fs_base);
    rsi = PAGE_SIZE;
    rcx = sizeof(outs_fs_line) - 1;
    __asm__ volatile("rep outsb %%fs:(%%rsi), (%%dx)"
                     : "+S"(rsi), "+c"(rcx)
                     : "d"(port)
                     : "memory");
    hw_wrmsr(0xC0000100u, 0);
    g_check(rsi == PAGE_SIZE + sizeof(outs_fs_line) - 1 && rcx == 0, "io.rep_outsb_fs_override",
            "RSI=0x%llx RCX=%llu", (unsigned long long)rsi, (unsigned long long)rcx);

    /* OUTSW with DF=1 to an unclaimed port: RSI moves down by 2 per element. */
    uint16_t words[8] = {0};
    rsi = (uintptr_t)&words[7];
    rcx = 8;
    port = PORT_UNUSED;
    __asm__ volatile("std\n\trep outsw\n\tcld" : "+S"(rsi), "+c"(rcx) : "d"(port) : "memory");
    g_check(rsi == (uintptr_t)&words[7] - 16 && rcx == 0, "io.rep_outsw_df",
            "RSI moved by %lld, RCX=%llu", (long long)(rsi - (uintptr_t)&words[7]),
            (unsigned long long)rcx);
}

/* ---- faults during string I/O: #PF with the right CR2 and error code, registers showing the
   iterations completed (SDM vol. 2B REP: a fault leaves RCX/RSI/RDI updated so the instruction
   can be restarted) ---- */

struct string_args {
    uint64_t rsi_or_rdi, rcx;
    uint16_t port;
    bool df;
};

static void do_rep_outsb(void *arg)
{
    struct string_args *a = arg;
    uint64_t rsi = a->rsi_or_rdi, rcx = a->rcx;
    if (a->df)
        __asm__ volatile("std\n\trep outsb\n\tcld"
                         : "+S"(rsi), "+c"(rcx)
                         : "d"(a->port)
                         : "memory");
    else
        __asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(a->port) : "memory");
}

static void do_rep_insb(void *arg)
{
    struct string_args *a = arg;
    uint64_t rdi = a->rsi_or_rdi, rcx = a->rcx;
    __asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(a->port) : "memory");
}

static void do_insl(void *arg)
{
    struct string_args *a = arg;
    uint64_t rdi = a->rsi_or_rdi;
    __asm__ volatile("insl" : "+D"(rdi) : "d"(a->port) : "memory");
}

static void do_outsl(void *arg)
{
    struct string_args *a = arg;
    uint64_t rsi = a->rsi_or_rdi;
    __asm__ volatile("outsl" : "+S"(rsi) : "d"(a->port) : "memory");
}

/* The faulting RIP must point at the string instruction itself, REP prefix included, so that
   the guest can restart it: its first two bytes. */
#define OPCODE_REP_INSB  0x6CF3u /* F3 6C */
#define OPCODE_REP_OUTSB 0x6EF3u /* F3 6E */

static bool rip_at(uint64_t rip, uint16_t opcode)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)rip;
    return rip && p[0] == (opcode & 0xFF) && p[1] == (opcode >> 8);
}

/* Runs fn with st_capture_isr on the #PF/#GP gate; checks the fault, the RIP and the captured
   index register (RSI for OUTS, RDI for INS) and RCX. DF is cleared again afterwards. */
static void expect_string_fault(const char *name, void (*fn)(void *), struct string_args *a,
                                unsigned vector, uint32_t error, uint64_t cr2, bool is_outs,
                                uint64_t want_index, uint64_t want_rcx)
{
    uint16_t opcode = is_outs ? OPCODE_REP_OUTSB : OPCODE_REP_INSB;
    st_chain_handler = st_idt_swap(vector, (uint64_t)(uintptr_t)st_capture_isr);
    st_captured_regs[0] = st_captured_regs[1] = st_captured_regs[2] = 0;
    struct g_fault f = {0};
    int faulted = g_try(fn, a, &f);
    st_idt_swap(vector, st_chain_handler);
    __asm__ volatile("cld");
    uint64_t index = st_captured_regs[is_outs ? 0 : 1], rcx = st_captured_regs[2];
    g_check(faulted && f.vector == vector && f.error == error &&
                (vector != EXC_PF || f.cr2 == cr2) && index == want_index && rcx == want_rcx &&
                rip_at(f.rip, opcode),
            name,
            "%s vector %llu error 0x%llx CR2 0x%llx %s 0x%llx RCX %llu RIP %s; want vector %u "
            "error 0x%x CR2 0x%llx index 0x%llx RCX %llu",
            faulted ? "fault:" : "no fault;", (unsigned long long)f.vector,
            (unsigned long long)f.error, (unsigned long long)f.cr2, is_outs ? "RSI" : "RDI",
            (unsigned long long)index, (unsigned long long)rcx,
            rip_at(f.rip, opcode) ? "at the instruction" : "elsewhere", vector, error,
            (unsigned long long)cr2, (unsigned long long)want_index, (unsigned long long)want_rcx);
}

/* The CPU's own #PF for a native access at addr (no exit involved): the reference for hv's
   emulated ones. */
static struct g_fault native_fault(void (*probe)(void *), uint64_t addr)
{
    struct g_fault f = {0};
    if (!g_try(probe, (void *)(uintptr_t)addr, &f))
        f.vector = ~0ull;
    return f;
}

static void test_string_faults(void)
{
    const uint64_t np = ST_PF_NOT_PRESENT, ro = ST_PF_READ_ONLY;
    /* OUTS reads 4 bytes before the non-present page, then faults reading its first byte. */
    struct string_args a = {np - 4, 8, PORT_UNUSED, false};
    expect_string_fault("io.outs_not_present_pf", do_rep_outsb, &a, EXC_PF, 0, np, true, np, 4);
    /* DF=1 from the read-only (present) page down into the non-present one. */
    a = (struct string_args){ro + 3, 8, PORT_UNUSED, true};
    expect_string_fault("io.outs_df_not_present_pf", do_rep_outsb, &a, EXC_PF, 0, ro - 1, true,
                        ro - 1, 4);
    /* INS writes: into a non-present page (W), into a read-only page with CR0.WP (P|W). */
    reset_buf();
    a = (struct string_args){np - 2, 4, PORT_UNUSED, false};
    expect_string_fault("io.ins_not_present_pf", do_rep_insb, &a, EXC_PF, PF_EC_W, np, false, np,
                        2);
    uint8_t *tail = (uint8_t *)(uintptr_t)(np - 2);
    g_check(tail[0] == ALL_ONES && tail[1] == ALL_ONES, "io.ins_not_present_partial",
            "bytes before the fault 0x%x 0x%x, want 0xff 0xff", tail[0], tail[1]);
    uint64_t cr0 = hw_read_cr0();
    hw_write_cr0(cr0 | CR0_WP);
    a = (struct string_args){ro, 4, PORT_UNUSED, false};
    expect_string_fault("io.ins_read_only_pf", do_rep_insb, &a, EXC_PF, PF_EC_P | PF_EC_W, ro,
                        false, ro, 4);
    hw_write_cr0(cr0);
    /* A non-canonical address: #GP(0), not #PF. */
    a = (struct string_args){0x0000800000000000ull, 1, PORT_UNUSED, false};
    expect_string_fault("io.outs_noncanonical_gp", do_rep_outsb, &a, EXC_GP, 0, 0, true,
                        0x0000800000000000ull, 1);

    /* A dword straddling into the non-present page: CR2 as the CPU itself reports it for the
       same access (a native MOV), for the write (INS) and the read (OUTS). */
    struct g_fault ref_w = native_fault(st_probe_write_dword, np - 2);
    struct g_fault ref_r = native_fault(st_probe_read_dword, np - 2);
    a = (struct string_args){np - 2, 0, PORT_UNUSED, false};
    struct g_fault f = {0};
    int faulted = g_try(do_insl, &a, &f);
    g_check(faulted && f.vector == EXC_PF && ref_w.vector == EXC_PF && f.cr2 == ref_w.cr2 &&
                f.error == ref_w.error,
            "io.ins_split_pf_like_cpu",
            "INSD: vector %llu CR2 0x%llx error 0x%llx; native MOV: "
            "vector %llu CR2 0x%llx error 0x%llx",
            (unsigned long long)f.vector, (unsigned long long)f.cr2, (unsigned long long)f.error,
            (unsigned long long)ref_w.vector, (unsigned long long)ref_w.cr2,
            (unsigned long long)ref_w.error);
    faulted = g_try(do_outsl, &a, &f);
    g_check(faulted && f.vector == EXC_PF && ref_r.vector == EXC_PF && f.cr2 == ref_r.cr2 &&
                f.error == ref_r.error,
            "io.outs_split_pf_like_cpu",
            "OUTSD: vector %llu CR2 0x%llx error 0x%llx; native "
            "MOV: vector %llu CR2 0x%llx error 0x%llx",
            (unsigned long long)f.vector, (unsigned long long)f.cr2, (unsigned long long)f.error,
            (unsigned long long)ref_r.vector, (unsigned long long)ref_r.cr2,
            (unsigned long long)ref_r.error);
}

void st_test_string_io(void)
{
    test_ins();
    test_outs();
    test_string_faults();
}
