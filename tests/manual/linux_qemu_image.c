/*
 * Manual check (tests/manual/linux-qemu-boot runs it): lays out a Linux guest exactly as hv
 * will -- acpi_build, then bzimage_load -- in host RAM and writes the parts QEMU has to load:
 *   boot.bin   [LINUX_BOOT_BASE, LINUX_BOOT_END): zero page, page tables, GDT, command line
 *   acpi.bin   [LINUX_ACPI_BASE, LINUX_ACPI_END): the ACPI tables
 *   kernel.bin the protected-mode kernel at its load address
 *   initrd.bin the initrd at its load address
 * and prints the addresses and the entry state as shell assignments.
 *
 * Usage: linux_qemu_image VMLINUZ INITRD MEM_MIB VCPUS CMDLINE   (in the output directory)
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
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        perror(path);
        exit(2);
    }
    long n = ftell(f);
    rewind(f);
    uint8_t *d = malloc(n > 0 ? (size_t)n : 1);
    if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return d;
}

static void write_file(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    fake_panic_jmp = NULL;
    if (argc != 6) {
        fprintf(stderr, "usage: %s VMLINUZ INITRD MEM_MIB VCPUS CMDLINE\n", argv[0]);
        return 2;
    }
    size_t klen, ilen;
    uint8_t *kernel = read_file(argv[1], &klen), *initrd = read_file(argv[2], &ilen);
    uint64_t mem = strtoull(argv[3], NULL, 0) << 20;
    uint8_t *ram =
        mmap(NULL, mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        return 2;
    struct guest_mem m = {mem, 1, {{0, 0, ram, mem, 0}}};
    struct acpi_tables t;
    char err[256];
    if (acpi_build(&m, (unsigned)strtoul(argv[4], NULL, 0), LINUX_ACPI_BASE, LINUX_ACPI_END, &t,
                   err, sizeof(err)) != 0) {
        fprintf(stderr, "acpi: %s\n", err);
        return 1;
    }
    struct linux_boot_config cfg = {argv[5], initrd, ilen, t.rsdp};
    struct guest_entry e;
    struct bzimage_layout l;
    if (bzimage_load(kernel, klen, &cfg, &m, &e, &l, err, sizeof(err)) != 0) {
        fprintf(stderr, "rejected: %s\n", err);
        return 1;
    }
    struct bzimage_info bz;
    if (bzimage_parse(kernel, klen, &bz, err, sizeof(err)) != 0)
        return 1;
    write_file("boot.bin", ram + LINUX_BOOT_BASE, LINUX_BOOT_END - LINUX_BOOT_BASE);
    write_file("acpi.bin", ram + LINUX_ACPI_BASE, LINUX_ACPI_END - LINUX_ACPI_BASE);
    write_file("kernel.bin", ram + l.kernel_gpa, bz.kernel_size);
    write_file("initrd.bin", ram + l.initrd_gpa, l.initrd_size);
    printf("KERNEL=0x%llx INITRD=0x%llx ENTRY=0x%llx RSI=0x%llx RSP=0x%llx CR3=0x%llx "
           "GDT=0x%llx GDT_LIMIT=%u CS=0x%x DS=0x%x\n",
           (unsigned long long)l.kernel_gpa, (unsigned long long)l.initrd_gpa,
           (unsigned long long)e.rip, (unsigned long long)e.rsi, (unsigned long long)e.rsp,
           (unsigned long long)e.cr3, (unsigned long long)e.gdt_base, e.gdt_limit, e.cs_selector,
           e.ds_selector);
    munmap(ram, mem);
    free(kernel);
    free(initrd);
    return 0;
}
