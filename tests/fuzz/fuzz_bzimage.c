/*
 * Fuzzes vmx/loader/bzimage.c: bzimage_load of the input as a Linux kernel image (a multiboot
 * module: entirely the guest builder's choice), with a command line and an initrd, into 4 MiB of
 * guest RAM made of two exactly-sized 2 MiB heap chunks.
 *
 * Input: byte 0 bit 0 lists the chunks in reverse GPA order; bytes 1-3 are the initrd size
 * (little-endian, modulo 4 MiB + 1: sizes that do not fit are rejections worth reaching); byte 4
 * is the command line's length N, the next N bytes its text (up to its first NUL). The rest is
 * the image, as an exactly-sized heap copy; the initrd is the tail of a heap buffer of a
 * byte pattern (so it too ends where its allocation ends).
 *
 * Invariants: accept or reject, no access outside the image, initrd or guest RAM (ASan), no
 * panic; a rejection carries a reason and leaves guest RAM all zero; an acceptance leaves the
 * protected-mode kernel (syssize * 16 bytes after the setup sectors) at the reported address,
 * inside RAM with its init_size range, aligned if relocatable; the initrd page-aligned, below
 * initrd_addr_max + 1, outside the kernel's range; nothing else outside hv's boot-data area;
 * and a zero page naming them, the command line, an E820 map in address order, and the 64-bit
 * entry state.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "mm/guest_mem.h"
#include "vmx/loader/bzimage.h"
#include "tests/fuzz/fuzz_common.h"

#define MIB         (1ull << 20)
#define CHUNK_SIZE  (2 * MIB)
#define NCHUNKS     2u
#define RAM_SIZE    (NCHUNKS * CHUNK_SIZE)
#define ERR_MAX     256
#define CTL_REVERSE (1u << 0)
#define SIZE_BYTES  3u
#define CMDLINE_CAP 256u

static uint8_t *chunk[NCHUNKS];
static uint8_t *expect;         /* what guest RAM must hold outside hv's boot data */
static uint8_t *initrd_pattern; /* RAM_SIZE bytes of a pattern: each initrd is a tail of it */
static struct guest_mem mem;

static void setup_once(void)
{
    if (expect)
        return;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        chunk[i] = calloc(1, CHUNK_SIZE);
        FUZZ_CHECK(chunk[i] != NULL);
    }
    expect = calloc(1, RAM_SIZE);
    initrd_pattern = malloc(RAM_SIZE);
    FUZZ_CHECK(expect != NULL && initrd_pattern != NULL);
    for (uint64_t i = 0; i < RAM_SIZE; i++)
        initrd_pattern[i] = (uint8_t)(i * 13 + 7);
}

static void build_mem(bool reverse)
{
    memset(&mem, 0, sizeof(mem));
    mem.size = RAM_SIZE;
    mem.nchunks = NCHUNKS;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        unsigned slot = reverse ? NCHUNKS - 1 - i : i;
        mem.chunk[slot] = (struct guest_mem_chunk){i * CHUNK_SIZE, 0x40000000ull + i * CHUNK_SIZE,
                                                   chunk[i], CHUNK_SIZE, 0};
    }
}

static bool ram_zero(void)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        if (!fuzz_all_zero(chunk[i], CHUNK_SIZE))
            return false;
    return true;
}

static void ram_clear(void)
{
    for (unsigned i = 0; i < NCHUNKS; i++)
        memset(chunk[i], 0, CHUNK_SIZE);
}

static void ram_read(uint64_t gpa, void *dst, size_t n)
{
    FUZZ_CHECK(guest_mem_read(&mem, gpa, dst, n) == 0);
}

/* Guest RAM [lo, hi) equals `expect` there. */
static void check_ram_range(uint64_t lo, uint64_t hi)
{
    for (uint64_t gpa = lo; gpa < hi;) {
        uint64_t in_chunk = CHUNK_SIZE - gpa % CHUNK_SIZE;
        uint64_t n = hi - gpa < in_chunk ? hi - gpa : in_chunk;
        size_t d = fuzz_first_diff(chunk[gpa / CHUNK_SIZE] + gpa % CHUNK_SIZE, expect + gpa, n);
        if (d != n) {
            fprintf(stderr, "GPA 0x%llx differs\n", (unsigned long long)(gpa + d));
            FUZZ_CHECK(!"guest RAM differs from the kernel and initrd placement");
        }
        gpa += n;
    }
}

static void check_layout(const struct bzimage_info *bz, const struct bzimage_layout *l,
                         uint64_t initrd_size)
{
    const struct setup_header *h = &bz->hdr;
    FUZZ_CHECK(l->kernel_gpa >= LINUX_HIGH_RAM_BASE);
    FUZZ_CHECK(l->kernel_end == l->kernel_gpa + h->init_size && l->kernel_end <= RAM_SIZE);
    FUZZ_CHECK(bz->kernel_size <= h->init_size);
    if (h->relocatable_kernel)
        FUZZ_CHECK(l->kernel_gpa % h->kernel_alignment == 0 && l->kernel_gpa >= h->pref_address);
    else
        FUZZ_CHECK(l->kernel_gpa == h->pref_address);
    FUZZ_CHECK(l->initrd_size == initrd_size);
    if (!initrd_size) {
        FUZZ_CHECK(l->initrd_gpa == 0);
        return;
    }
    FUZZ_CHECK(l->initrd_gpa % 4096 == 0 && l->initrd_gpa >= LINUX_HIGH_RAM_BASE);
    FUZZ_CHECK(l->initrd_gpa + initrd_size <= RAM_SIZE);
    FUZZ_CHECK(l->initrd_gpa + initrd_size - 1 <= h->initrd_addr_max);
    FUZZ_CHECK(l->initrd_gpa + initrd_size <= l->kernel_gpa || l->initrd_gpa >= l->kernel_end);
}

static void check_boot_params(const struct bzimage_info *bz, const struct bzimage_layout *l,
                              const char *cmdline)
{
    static struct boot_params bp;
    ram_read(LINUX_BOOT_PARAMS_GPA, &bp, sizeof(bp));
    FUZZ_CHECK(bp.hdr.type_of_loader == BZ_TYPE_OF_LOADER);
    FUZZ_CHECK(bp.hdr.cmd_line_ptr == LINUX_CMDLINE_GPA && bp.ext_cmd_line_ptr == 0);
    FUZZ_CHECK(bp.hdr.ramdisk_image == l->initrd_gpa && bp.hdr.ramdisk_size == l->initrd_size);
    FUZZ_CHECK(bp.hdr.setup_data == 0 && bp.sentinel == 0);
    FUZZ_CHECK(bp.hdr.version == bz->hdr.version && bp.hdr.init_size == bz->hdr.init_size);
    FUZZ_CHECK(bp.screen_info.orig_video_lines == 0 && bp.screen_info.orig_video_cols == 0);
    FUZZ_CHECK(bp.e820_entries == l->e820_entries && bp.e820_entries <= E820_MAX_ENTRIES);
    uint64_t prev_end = 0;
    for (unsigned i = 0; i < bp.e820_entries; i++) {
        const struct boot_e820_entry *e = &bp.e820_table[i];
        FUZZ_CHECK(e->size > 0 && e->addr >= prev_end);
        prev_end = e->addr + e->size;
    }
    char got[CMDLINE_CAP + 1];
    size_t n = strlen(cmdline);
    ram_read(LINUX_CMDLINE_GPA, got, n + 1);
    FUZZ_CHECK(memcmp(got, cmdline, n + 1) == 0);
}

static void check_accepted(const uint8_t *img, size_t len, const uint8_t *initrd,
                           uint64_t initrd_size, const char *cmdline, const struct guest_entry *e,
                           const struct bzimage_layout *l)
{
    struct bzimage_info bz;
    char err[ERR_MAX];
    FUZZ_CHECK(bzimage_parse(img, len, &bz, err, sizeof(err)) == 0);
    FUZZ_CHECK(strlen(cmdline) <= bz.hdr.cmdline_size);
    check_layout(&bz, l, initrd_size);
    FUZZ_CHECK(e->mode == GUEST_CPU_LONG64 && e->rip == l->kernel_gpa + BZ_ENTRY64_OFFSET);
    FUZZ_CHECK(e->rsi == LINUX_BOOT_PARAMS_GPA && e->cr3 == LINUX_PT_BASE);
    FUZZ_CHECK(e->gdt_base == LINUX_GDT_GPA && e->cs_selector == LINUX_BOOT_CS &&
               e->ds_selector == LINUX_BOOT_DS);
    check_boot_params(&bz, l, cmdline);
    memcpy(expect + l->kernel_gpa, img + bz.kernel_offset, bz.kernel_size);
    if (initrd_size)
        memcpy(expect + l->initrd_gpa, initrd, initrd_size);
    check_ram_range(0, LINUX_BOOT_BASE);
    check_ram_range(LINUX_BOOT_END, RAM_SIZE);
    memset(expect + l->kernel_gpa, 0, bz.kernel_size);
    if (initrd_size)
        memset(expect + l->initrd_gpa, 0, initrd_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    setup_once();
    uint8_t ctl = fuzz_u8(&in);
    build_mem(ctl & CTL_REVERSE);
    uint64_t initrd_size = fuzz_take(&in, SIZE_BYTES) % (RAM_SIZE + 1);
    size_t cmd_len = fuzz_u8(&in);
    if (cmd_len > in.len)
        cmd_len = in.len;
    char *cmdline = fuzz_strdup(in.data, cmd_len);
    in.data += cmd_len;
    in.len -= cmd_len;

    uint8_t *img = fuzz_dup(in.data, in.len);
    /* The last initrd_size bytes of the pattern buffer: a read past the initrd's end is a read
       past the buffer's end (ASan), without a multi-MiB copy per input. */
    const uint8_t *initrd = initrd_pattern + RAM_SIZE - initrd_size;
    struct linux_boot_config cfg = {cmdline, initrd, initrd_size, 0xE0000};
    char *err = malloc(ERR_MAX);
    FUZZ_CHECK(err != NULL);
    struct guest_entry e;
    struct bzimage_layout l;
    int rc = bzimage_load(img, in.len, &cfg, &mem, &e, &l, err, ERR_MAX);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err, '\0', ERR_MAX) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0');
        FUZZ_CHECK(bzimage_is_linux(img, in.len));
        check_accepted(img, in.len, initrd, initrd_size, cmdline, &e, &l);
        ram_clear();
    } else {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(ram_zero()); /* a rejected image leaves guest memory untouched */
    }
    free(err);
    free(img);
    free(cmdline);
    return 0;
}
