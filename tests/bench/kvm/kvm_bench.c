/* kvm_bench: KVM's VM-exit round trips, timed like guests/bench/bench.c (make bench, tools/bench).

   A static KVM-API program run as /init's payload inside Debian 12's cloud kernel in Bochs
   (tests/bench/kvm/init). It creates a VM with KVM's in-kernel interrupt controller (so an IN
   from the 8259 at port 0x21 is handled in the kernel, the analogue of hv's IN from an
   unclaimed port, while an OUT to port 0x3FF exits to this program, the analogue of hv's
   emulated COM1) and runs guest.asm: the bench guest's cases in real mode, then, in 32-bit
   protected mode, the local-APIC cases of guests/bench/pcbench.asm against KVM's in-kernel
   local APIC (xAPIC MMIO, TSC-deadline timer). Under Bochs with one CPU the TSC advances
   by one per emulated instruction, host and guest alike (KVM's TSC offset is a constant), so
   a delta of the guest's RDTSC counts every instruction KVM and this program execute for one
   round trip. The guest stores every sample; this program sorts them and prints, one line per
   case, parsed by tools/bench:
     kvm-bench: NAME median=M loop=L min=A max=B samples=N
   and `kvm-bench: done` at the end, or `kvm-bench: error: ...`; before them
     kvm-bench: kvm_intel enable_apicv=V flexpriority=X fasteoi=F preemption_timer=P
   (kvm-intel's module parameters, which decide how KVM handles the local-APIC cases: the
   xAPIC page virtualized, an APIC-access page whose every access exits or plain MMIO; an EOI
   write's shortcut; the deadline timer on the VMX-preemption timer or a host hrtimer). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_MEM_BYTES          (1u << 20) /* real mode: the first MiB */
#define GUEST_ENTRY              0x1000u    /* guest.asm's org */
#define DATA_PHYS                0x20000u   /* guest.asm's DATA_SEG << 4 */
#define OP_ARRAY                 0x0000u    /* guest.asm's OP_ARRAY, and IRQ_OP of the APIC cases */
#define NOP_ARRAY                0x1000u    /* NOP_ARRAY, IRQ_NOP */
#define EOI_OP_ARRAY             0x2000u    /* guest.asm's EOI_OP */
#define EOI_NOP_ARRAY            0x3000u    /* EOI_NOP */
#define SAMPLES                  1001u
#define PORT_DONE                0x501
#define PORT_FINISHED            0x502
#define PORT_ERROR               0x503
#define PORT_UART_SCR            0x3ff
#define CR4_OSXSAVE              (1ull << 18) /* XSETBV is #UD without it */
#define RFLAGS_RESERVED1         0x2ull
#define CPUID_MAX_ENTRIES        128
#define CPUID_FEATURES           1u
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
/* IA32_APIC_BASE (SDM vol. 3 "Local APIC Status and Location"): the xAPIC page at its default
   address, enabled (xAPIC mode, not x2APIC), this CPU the bootstrap processor. */
#define APIC_DEFAULT_BASE 0xfee00000ull
#define APIC_BASE_BSP     (1ull << 8)
#define APIC_BASE_ENABLE  (1ull << 11)
#define KVM_INTEL_PARAMS  "/sys/module/kvm_intel/parameters/"

/* guest.asm, assembled by tools/bench into kvm_guest.bin and included here. */
__asm__(".section .rodata\n"
        ".globl guest_image, guest_image_end\n"
        "guest_image:\n"
        ".incbin \"" KVM_GUEST_BIN "\"\n"
        "guest_image_end:\n"
        ".previous\n");
extern const unsigned char guest_image[], guest_image_end[];

/* guest.asm's cases by number: names as tools/bench's EXIT_CASES and PC_EXIT_CASES
   (in_unclaimed: the in-kernel PIC), and where in DATA_PHYS the guest left their samples. */
static const struct {
    const char *name;
    uint32_t op, nop;
} cases[] = {
    {"cpuid", OP_ARRAY, NOP_ARRAY},
    {"vmcall", OP_ARRAY, NOP_ARRAY},
    {"out_uart", OP_ARRAY, NOP_ARRAY},
    {"in_unclaimed", OP_ARRAY, NOP_ARRAY},
    {"rdmsr", OP_ARRAY, NOP_ARRAY},
    {"xsetbv", OP_ARRAY, NOP_ARRAY},
    {"mov_cr0", OP_ARRAY, NOP_ARRAY},
    {"lapic_eoi", EOI_OP_ARRAY, EOI_NOP_ARRAY},
    {"tsc_deadline_irq", OP_ARRAY, NOP_ARRAY},
};
#define CASES (sizeof(cases) / sizeof(cases[0]))

/* guest.asm's ERR_ codes, sent to PORT_ERROR. */
#define ERR_NO_DEADLINE 1
#define ERR_LOST        2
#define ERR_UNEXPECTED  3
static const char *const guest_errors[] = {
    [ERR_NO_DEADLINE] = "no TSC-deadline timer in the guest (CPUID.1:ECX[24] clear)",
    [ERR_LOST] = "the TSC-deadline interrupt did not arrive",
    [ERR_UNEXPECTED] = "unexpected interrupt or exception in the guest",
};
#define GUEST_ERRORS (sizeof(guest_errors) / sizeof(guest_errors[0]))

static void fail(const char *what)
{
    printf("kvm-bench: error: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void report(unsigned n, unsigned char *mem)
{
    static uint32_t op[SAMPLES], nop[SAMPLES];
    const char *name = cases[n].name;
    memcpy(op, mem + DATA_PHYS + cases[n].op, sizeof(op));
    memcpy(nop, mem + DATA_PHYS + cases[n].nop, sizeof(nop));
    qsort(op, SAMPLES, sizeof(op[0]), cmp_u32);
    qsort(nop, SAMPLES, sizeof(nop[0]), cmp_u32);
    printf("kvm-bench: %s median=%u loop=%u min=%u max=%u samples=%u\n", name, op[SAMPLES / 2],
           nop[SAMPLES / 2], op[0], op[SAMPLES - 1], SAMPLES);
    fflush(stdout);
}

/* kvm-intel's module parameter NAME (Y or N; ? when unreadable). */
static char kvm_intel_param(const char *name)
{
    char path[128], value = '?';
    snprintf(path, sizeof(path), KVM_INTEL_PARAMS "%s", name);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, " %c", &value) != 1)
            value = '?';
        fclose(f);
    }
    return value;
}

/* The guest's CPUID: what KVM supports (XSAVE among it, which CR4.OSXSAVE requires), plus the
   TSC-deadline timer: KVM's in-kernel local APIC emulates it, but Debian 12's KVM (6.1)
   returns CPUID.1:ECX[24] as false from KVM_GET_SUPPORTED_CPUID and reports it through
   KVM_CHECK_EXTENSION(KVM_CAP_TSC_DEADLINE_TIMER) instead; with KVM_CREATE_IRQCHIP userspace
   may then set it (Documentation/virt/kvm/api.rst, "KVM_GET_SUPPORTED_CPUID"). */
static void set_cpuid(int kvm, int vcpu)
{
    size_t size = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *cpuid = calloc(1, size);
    if (!cpuid)
        fail("calloc");
    cpuid->nent = CPUID_MAX_ENTRIES;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        fail("KVM_GET_SUPPORTED_CPUID");
    int deadline = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER);
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == CPUID_FEATURES && deadline > 0)
            e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
    }
    if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
        fail("KVM_SET_CPUID2");
    free(cpuid);
}

static void set_real_mode(int vcpu)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        fail("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.cr4 |= CR4_OSXSAVE;
    /* The in-kernel local APIC in xAPIC mode at 0xFEE00000, as QEMU sets it (KVM_SET_SREGS's
       apic_base); guest.asm programs it there in protected mode. */
    sregs.apic_base = APIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        fail("KVM_SET_SREGS");
    memset(&regs, 0, sizeof(regs));
    regs.rip = GUEST_ENTRY;
    regs.rflags = RFLAGS_RESERVED1;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        fail("KVM_SET_REGS");
}

int main(void)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        fail("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        fail("KVM_CREATE_VM");
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
        fail("KVM_CREATE_IRQCHIP");
    unsigned char *mem = mmap(NULL, GUEST_MEM_BYTES, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        fail("mmap guest memory");
    memcpy(mem + GUEST_ENTRY, guest_image, (size_t)(guest_image_end - guest_image));
    struct kvm_userspace_memory_region region = {.slot = 0,
                                                 .guest_phys_addr = 0,
                                                 .memory_size = GUEST_MEM_BYTES,
                                                 .userspace_addr = (uint64_t)(uintptr_t)mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        fail("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        fail("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0)
        fail("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        fail("mmap kvm_run");
    set_cpuid(kvm, vcpu);
    set_real_mode(vcpu);
    printf("kvm-bench: kvm_intel enable_apicv=%c flexpriority=%c fasteoi=%c "
           "preemption_timer=%c\n",
           kvm_intel_param("enable_apicv"), kvm_intel_param("flexpriority"),
           kvm_intel_param("fasteoi"), kvm_intel_param("preemption_timer"));
    fflush(stdout);

    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0 && errno != EINTR)
            fail("KVM_RUN");
        if (run->exit_reason != KVM_EXIT_IO) {
            printf("kvm-bench: error: unexpected exit reason %u\n", run->exit_reason);
            return 1;
        }
        unsigned char *data = (unsigned char *)run + run->io.data_offset;
        if (run->io.port == PORT_UART_SCR)
            continue; /* the measured exit to userspace: nothing to do */
        if (run->io.port == PORT_DONE && data[0] < CASES) {
            report(data[0], mem);
            continue;
        }
        if (run->io.port == PORT_ERROR) {
            printf("kvm-bench: error: %s\n", data[0] < GUEST_ERRORS && guest_errors[data[0]]
                                                 ? guest_errors[data[0]]
                                                 : "unknown guest error");
            return 1;
        }
        if (run->io.port == PORT_FINISHED) {
            printf("kvm-bench: done\n");
            return 0;
        }
        printf("kvm-bench: error: unexpected I/O to port 0x%x\n", run->io.port);
        return 1;
    }
}
