/* selftest: hypercalls (docs/guest-abi.md §6) and VMCALL from CPL 3. */
#include "guests/selftest/selftest.h"

#define HC_UNKNOWN        0x7FFF1234u
#define INFO_SIZE         64
#define INFO_OFF_ABI      0
#define INFO_OFF_VCPU     4
#define INFO_OFF_TSC      8
#define INFO_OFF_VERSION  16
#define INFO_OFF_NAME     32
#define INFO_VERSION_SIZE 16
#define INFO_NAME_SIZE    32
#define POISON            0x5A
#define CPUID_VENDOR      0

static char big[HC_CONSOLE_MAX + 1];
static uint8_t info[INFO_SIZE] __attribute__((aligned(8)));

static uint64_t console_write(const void *buf, uint64_t len)
{
    return g_hypercall(G_HC_CONSOLE, (uint64_t)(uintptr_t)buf, len);
}

static bool str_eq(const void *a, const char *b, unsigned size)
{
    const char *s = a;
    unsigned i = 0;
    for (; b[i]; i++)
        if (i >= size || s[i] != b[i])
            return false;
    for (; i < size; i++) /* NUL-terminated, zero-padded */
        if (s[i])
            return false;
    return true;
}

/* A NUL-terminated copy of a fixed-size field (out holds size + 1 bytes). */
static const char *printable(const uint8_t *field, unsigned size, char *out)
{
    unsigned i = 0;
    for (; i < size && field[i]; i++)
        out[i] = (char)field[i];
    out[i] = 0;
    return out;
}

static void test_console(void)
{
    static const char line[] = "hypercall: console write\n";
    uint64_t rc = console_write(line, sizeof(line) - 1);
    g_check(rc == sizeof(line) - 1, "hc.console_write_len", "returned %lld, want %u", (long long)rc,
            (unsigned)(sizeof(line) - 1));
    /* The bytes join COM1 output: this line ends through the port. */
    static const char half[] = "joined: hyper";
    rc = console_write(half, sizeof(half) - 1);
    g_puts("call+com1\n");
    g_check(rc == sizeof(half) - 1, "hc.console_joins_com1", "returned %lld", (long long)rc);
    rc = console_write(line, 0);
    g_check(rc == 0, "hc.console_zero_len", "returned %lld", (long long)rc);

    /* Exactly 4096 bytes is allowed: carriage returns (dropped by hv) then one line. */
    static const char tail[] = "hypercall: a 4096-byte console write\n";
    unsigned pad = HC_CONSOLE_MAX - (sizeof(tail) - 1);
    for (unsigned i = 0; i < pad; i++)
        big[i] = '\r';
    for (unsigned i = 0; i < sizeof(tail) - 1; i++)
        big[pad + i] = tail[i];
    rc = console_write(big, HC_CONSOLE_MAX);
    g_check(rc == HC_CONSOLE_MAX, "hc.console_4096", "returned %lld", (long long)rc);
    rc = console_write(big, HC_CONSOLE_MAX + 1);
    g_check(rc == HC_EINVAL, "hc.console_4097_einval", "returned %lld", (long long)rc);

    uint64_t end = st_ram_bytes;
    rc = g_hypercall(G_HC_CONSOLE, end, 1);
    g_check(rc == HC_EINVAL, "hc.console_past_ram_einval", "GPA 0x%llx: returned %lld",
            (unsigned long long)end, (long long)rc);
    volatile char *last = (volatile char *)(uintptr_t)(end - 4);
    for (unsigned i = 0; i < 4; i++)
        last[i] = '\r';
    rc = g_hypercall(G_HC_CONSOLE, end - 4, 8);
    g_check(rc == HC_EINVAL, "hc.console_straddles_ram_end_einval", "returned %lld", (long long)rc);
    rc = g_hypercall(G_HC_CONSOLE, end - 4, 4);
    g_check(rc == 4, "hc.console_at_ram_end", "returned %lld, want 4", (long long)rc);
}

static void test_info(void)
{
    for (unsigned i = 0; i < INFO_SIZE; i++)
        info[i] = POISON;
    uint64_t rc = g_hypercall(G_HC_INFO, (uint64_t)(uintptr_t)info, 0);
    uint32_t abi, vcpu;
    uint64_t khz;
    __builtin_memcpy(&abi, info + INFO_OFF_ABI, sizeof(abi));
    __builtin_memcpy(&vcpu, info + INFO_OFF_VCPU, sizeof(vcpu));
    __builtin_memcpy(&khz, info + INFO_OFF_TSC, sizeof(khz));
    g_check(rc == 0, "hc.info_rc", "returned %lld", (long long)rc);
    g_check(abi == HC_ABI_VERSION && vcpu == 0 && khz != 0, "hc.info_fields",
            "ABI %u vCPU %u TSC %llu kHz", abi, vcpu, (unsigned long long)khz);
    char text[INFO_NAME_SIZE + 1];
    g_check(str_eq(info + INFO_OFF_VERSION, "hv 0.1", INFO_VERSION_SIZE), "hc.info_version",
            "got '%s'", printable(info + INFO_OFF_VERSION, INFO_VERSION_SIZE, text));
    g_check(str_eq(info + INFO_OFF_NAME, "selftest", INFO_NAME_SIZE), "hc.info_name", "got '%s'",
            printable(info + INFO_OFF_NAME, INFO_NAME_SIZE, text));

    uint64_t end = st_ram_bytes;
    rc = g_hypercall(G_HC_INFO, end, 0);
    g_check(rc == HC_EINVAL, "hc.info_past_ram_einval", "returned %lld", (long long)rc);
    volatile uint8_t *near_end = (volatile uint8_t *)(uintptr_t)(end - INFO_SIZE / 2);
    for (unsigned i = 0; i < INFO_SIZE / 2; i++)
        near_end[i] = POISON;
    rc = g_hypercall(G_HC_INFO, end - INFO_SIZE / 2, 0);
    bool untouched = true;
    for (unsigned i = 0; i < INFO_SIZE / 2; i++)
        untouched = untouched && near_end[i] == POISON;
    g_check(rc == HC_EINVAL && untouched, "hc.info_straddles_ram_end_einval",
            "returned %lld, RAM %s", (long long)rc, untouched ? "untouched" : "written");
}

void st_test_hypercall(void)
{
    test_console();
    test_info();
    uint64_t rc = g_hypercall(HC_UNKNOWN, 0, 0);
    g_check(rc == HC_ENOSYS, "hc.unknown_enosys", "returned 0x%llx", (unsigned long long)rc);
    uint32_t changed = st_vmcall_clobbers();
    g_check(changed == 0, "hc.preserves_registers",
            "changed mask 0x%x (bits: RBX RCX RDX RSI RDI RBP R8..R15)", changed);
}

/* VMCALL at CPL 3 raises #UD (guest ABI §6; on bare metal VMCALL outside VMX is #UD too). The
   trip: a GDT with user segments and a TSS, IRETQ to CPL 3, CPUID there (hv serves every CPL),
   then VMCALL; the #UD comes back to CPL 0 through the TSS's RSP0 and g_try. */
static uint8_t user_stack[4096] __attribute__((aligned(16)));

void st_test_user_mode(void)
{
    st_user_gdt_install();
    struct st_user_ctx ctx = {(uint64_t)(uintptr_t)st_user_code,
                              (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack))};
    struct g_fault f = {0};
    st_user_cpuid_ebx = 0;
    int faulted = g_try(st_enter_user, &ctx, &f);
    st_reload_segments();
    uint32_t r[4];
    g_cpuid(CPUID_VENDOR, 0, r);
    g_check(st_user_cpuid_ebx == r[1], "user.cpuid_at_cpl3", "EBX 0x%x, at CPL 0 0x%x",
            st_user_cpuid_ebx, r[1]);
    g_check(faulted && f.vector == EXC_UD && f.rip == (uint64_t)(uintptr_t)st_insn_user_vmcall,
            "hc.vmcall_cpl3_ud", "%s vector %llu error 0x%llx RIP 0x%llx, want #UD at %p",
            faulted ? "fault" : "no fault", (unsigned long long)f.vector,
            (unsigned long long)f.error, (unsigned long long)f.rip, (void *)st_insn_user_vmcall);
}
