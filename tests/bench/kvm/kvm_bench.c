/* kvm_bench: KVM's VM-exit round trips, timed like guests/bench/bench.c (make bench, tools/bench).

   A static KVM-API program run as /init's payload inside Debian 12's cloud kernel in Bochs
   (tests/bench/kvm/init). It creates a VM with KVM's in-kernel interrupt controller (so an IN
   from the 8259 at port 0x21 is handled in the kernel, the analogue of hv's IN from an
   unclaimed port, while an OUT to port 0x3FF exits to this program, the analogue of hv's
   emulated COM1) and runs guest.asm in real mode. Under Bochs with one CPU the TSC advances
   by one per emulated instruction, host and guest alike (KVM's TSC offset is a constant), so
   a delta of the guest's RDTSC counts every instruction KVM and this program execute for one
   round trip. The guest stores every sample; this program sorts them and prints, one line per
   case, parsed by tools/bench:
     kvm-bench: NAME median=M loop=L min=A max=B samples=N
   and `kvm-bench: done` at the end, or `kvm-bench: error: ...`. */
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

#define GUEST_MEM_BYTES   (1u << 20) /* real mode: the first MiB */
#define GUEST_ENTRY       0x1000u    /* guest.asm's org */
#define DATA_PHYS         0x20000u   /* guest.asm's DATA_SEG << 4 */
#define OP_ARRAY          0x0000u
#define NOP_ARRAY         0x1000u
#define SAMPLES           1001u
#define PORT_DONE         0x501
#define PORT_FINISHED     0x502
#define PORT_UART_SCR     0x3ff
#define CR4_OSXSAVE       (1ull << 18) /* XSETBV is #UD without it */
#define RFLAGS_RESERVED1  0x2ull
#define CPUID_MAX_ENTRIES 128

/* guest.asm, assembled by tools/bench into kvm_guest.bin and included here. */
__asm__(".section .rodata\n"
        ".globl guest_image, guest_image_end\n"
        "guest_image:\n"
        ".incbin \"" KVM_GUEST_BIN "\"\n"
        "guest_image_end:\n"
        ".previous\n");
extern const unsigned char guest_image[], guest_image_end[];

/* guest.asm's case numbers; names as tools/bench's EXIT_CASES (in_unclaimed: the in-kernel PIC). */
static const char *const case_names[] = {"cpuid", "vmcall", "out_uart", "in_unclaimed",
                                         "rdmsr", "xsetbv", "mov_cr0"};
#define CASES (sizeof(case_names) / sizeof(case_names[0]))

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

static void report(const char *name, unsigned char *mem)
{
    static uint32_t op[SAMPLES], nop[SAMPLES];
    memcpy(op, mem + DATA_PHYS + OP_ARRAY, sizeof(op));
    memcpy(nop, mem + DATA_PHYS + NOP_ARRAY, sizeof(nop));
    qsort(op, SAMPLES, sizeof(op[0]), cmp_u32);
    qsort(nop, SAMPLES, sizeof(nop[0]), cmp_u32);
    printf("kvm-bench: %s median=%u loop=%u min=%u max=%u samples=%u\n", name, op[SAMPLES / 2],
           nop[SAMPLES / 2], op[0], op[SAMPLES - 1], SAMPLES);
    fflush(stdout);
}

/* The guest's CPUID: what KVM supports (XSAVE among it, which CR4.OSXSAVE requires). */
static void set_cpuid(int kvm, int vcpu)
{
    size_t size = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *cpuid = calloc(1, size);
    if (!cpuid)
        fail("calloc");
    cpuid->nent = CPUID_MAX_ENTRIES;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        fail("KVM_GET_SUPPORTED_CPUID");
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
            report(case_names[data[0]], mem);
            continue;
        }
        if (run->io.port == PORT_FINISHED) {
            printf("kvm-bench: done\n");
            return 0;
        }
        printf("kvm-bench: error: unexpected I/O to port 0x%x\n", run->io.port);
        return 1;
    }
}
