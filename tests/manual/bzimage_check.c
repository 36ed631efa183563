/*
 * Manual check (not part of `make test`: it needs a downloaded kernel): runs hv's bzImage parser
 * and loader (vmx/loader/bzimage.c) and the ACPI builder on a real Linux kernel, in host RAM,
 * and prints the setup header and the layout hv would boot it with.
 *
 *   mkdir -p build/linux && cd build/linux
 *   apt-get download linux-image-6.1.0-50-cloud-amd64-unsigned   # `apt-cache search cloud-amd64`
 *   dpkg-deb -x linux-image-*.deb x && cd ../..
 *   make build/host/libhv.a build/host/libfake.a
 *   gcc -std=c11 -I. -DHV_HOST_TEST -fsanitize=address,undefined -o build/bzimage_check \
 *       tests/manual/bzimage_check.c build/host/libfake.a build/host/libhv.a build/host/libfake.a
 *   build/bzimage_check build/linux/x/boot/vmlinuz-* [MEM_MIB [INITRD_BYTES]]
 *
 * Debian 12's 6.1.0-50-cloud-amd64 gives: protocol 2.15, setup_sects 39, kernel 0xd79200 bytes
 * at 0x5000, relocatable, alignment 0x200000, pref_address 0x1000000, init_size 0x3378000,
 * cmdline_size 2047, initrd_addr_max 0x7fffffff; 64 MiB is refused ("kernel larger than guest
 * RAM: needs [0x1000000,0x4378000) ..."), 128 MiB loads it at 0x1000000 (entry 0x1000200).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "vmx/loader/acpi.h"
#include "vmx/loader/bzimage.h"

extern void *fake_panic_jmp; /* tests/unit/fake_kernel.c: NULL = a panic aborts */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return NULL;
    long n = ftell(f);
    rewind(f);
    uint8_t *d = n > 0 ? malloc((size_t)n) : NULL;
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return d;
}

static void print_header(const struct bzimage_info *bz)
{
    const struct setup_header *h = &bz->hdr;
    printf("protocol %u.%02u setup_sects %u (setup 0x%x bytes) kernel 0x%llx bytes at 0x%llx\n",
           h->version >> 8, h->version & 0xFF, h->setup_sects, bz->setup_size,
           (unsigned long long)bz->kernel_size, (unsigned long long)bz->kernel_offset);
    printf("loadflags 0x%x xloadflags 0x%x relocatable %u kernel_alignment 0x%x min_alignment %u\n",
           h->loadflags, h->xloadflags, h->relocatable_kernel, h->kernel_alignment,
           h->min_alignment);
    printf("pref_address 0x%llx init_size 0x%x cmdline_size %u initrd_addr_max 0x%x\n",
           (unsigned long long)h->pref_address, h->init_size, h->cmdline_size, h->initrd_addr_max);
    printf("header ends at 0x%x handover_offset 0x%x kernel_info_offset 0x%x\n", bz->header_end,
           h->handover_offset, h->kernel_info_offset);
}

int main(int argc, char **argv)
{
    fake_panic_jmp = NULL;
    if (argc < 2) {
        fprintf(stderr, "usage: %s VMLINUZ [MEM_MIB [INITRD_BYTES]]\n", argv[0]);
        return 2;
    }
    size_t len = 0;
    uint8_t *img = read_file(argv[1], &len);
    if (!img) {
        perror(argv[1]);
        return 2;
    }
    uint64_t mem = (argc > 2 ? strtoull(argv[2], NULL, 0) : 256) << 20;
    uint64_t initrd_size = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
    struct bzimage_info bz;
    char err[256];
    if (bzimage_parse(img, len, &bz, err, sizeof(err)) != 0) {
        printf("rejected: %s\n", err);
        return 1;
    }
    print_header(&bz);
    void *ram =
        mmap(NULL, mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    uint8_t *initrd = calloc(1, initrd_size ? initrd_size : 1);
    if (ram == MAP_FAILED || !initrd)
        return 2;
    struct guest_mem m = {mem, 1, {{0, 0, ram, mem, 0}}};
    struct acpi_tables t;
    if (acpi_build(&m, 1, LINUX_ACPI_BASE, LINUX_ACPI_END, &t, err, sizeof(err)) != 0) {
        printf("acpi: %s\n", err);
        return 1;
    }
    struct linux_boot_config cfg = {"console=ttyS0 quiet", initrd, initrd_size, t.rsdp};
    struct guest_entry e;
    struct bzimage_layout l;
    int rc = bzimage_load(img, len, &cfg, &m, &e, &l, err, sizeof(err));
    if (rc != 0)
        printf("%llu MiB: rejected: %s\n", (unsigned long long)(mem >> 20), err);
    else
        printf("%llu MiB: kernel [0x%llx,0x%llx) entry 0x%llx initrd 0x%llx (+0x%llx) "
               "e820 %u entries, ACPI [0x%llx,0x%llx)\n",
               (unsigned long long)(mem >> 20), (unsigned long long)l.kernel_gpa,
               (unsigned long long)l.kernel_end, (unsigned long long)e.rip,
               (unsigned long long)l.initrd_gpa, (unsigned long long)l.initrd_size, l.e820_entries,
               (unsigned long long)t.base, (unsigned long long)t.end);
    munmap(ram, mem);
    free(initrd);
    free(img);
    return rc ? 1 : 0;
}
