/*
 * Fuzzes vmx/loader/loader.c: loader_load of the input as a guest image (a multiboot module:
 * entirely the guest builder's choice) into 2 MiB of guest RAM made of two exactly-sized 1 MiB heap
 * chunks.
 *
 * Input: byte 0 selects the configuration (bit 0: mode=real, else auto, i.e. ELF; bit 1: list
 * the chunks in reverse GPA order); for mode=real, bytes 1-3 and 4-6 are load= and entry=
 * (little-endian, modulo 1 MiB). The rest is the image, as an exactly-sized heap copy. The
 * configuration is made by modargs_parse, as loader_load requires.
 *
 * Invariants: accept or reject, no access outside the image or guest RAM (ASan), no panic; a
 * rejection carries a reason and leaves guest RAM all zero; an acceptance leaves exactly the
 * image's PT_LOAD segments (file bytes, then zeroed .bss) or the flat image at load=, plus the
 * hv-reserved area (Multiboot 1 information, LONG64 page tables), and an entry state that
 * matches the format.
 */
#define _POSIX_C_SOURCE 200809L /* snprintf */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "vmx/loader/elf.h"
#include "mm/guest_mem.h"
#include "vmx/loader/loader.h"
#include "vmx/loader/modargs.h"
#include "tests/fuzz/fuzz_common.h"

#define MIB         (1ull << 20)
#define CHUNK_SIZE  MIB
#define NCHUNKS     2u
#define RAM_SIZE    (NCHUNKS * CHUNK_SIZE)
#define ERR_MAX     192
#define CFG_MAX     160
#define GUEST_CMD   "console=ttyS0 quiet"
#define CTL_REAL    (1u << 0)
#define CTL_REVERSE (1u << 1)
#define ADDR_BYTES  3u
#define MB1_FLAGS                                                                                  \
    (MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MEM_MAP | MB1_INFO_BOOT_LOADER_NAME)
#define PT_FLAGS 0x3ull /* present, writable */

static uint8_t *chunk[NCHUNKS];
static uint8_t *expect; /* what guest RAM must hold outside the reserved area */
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
    FUZZ_CHECK(expect != NULL);
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

static uint8_t ram_byte(uint64_t gpa)
{
    return chunk[gpa / CHUNK_SIZE][gpa % CHUNK_SIZE];
}

static uint64_t ram_u64(uint64_t gpa)
{
    uint64_t v = 0;
    FUZZ_CHECK(guest_mem_read(&mem, gpa, &v, sizeof(v)) == 0);
    return v;
}

/* Guest RAM [lo, hi) equals `expect` there. */
static void check_ram_range(uint64_t lo, uint64_t hi)
{
    for (uint64_t gpa = lo; gpa < hi;) {
        uint64_t in_chunk = CHUNK_SIZE - gpa % CHUNK_SIZE;
        uint64_t n = hi - gpa < in_chunk ? hi - gpa : in_chunk;
        size_t d = fuzz_first_diff(chunk[gpa / CHUNK_SIZE] + gpa % CHUNK_SIZE, expect + gpa, n);
        if (d != n) {
            fprintf(stderr, "GPA 0x%llx: 0x%02x, expected 0x%02x\n", (unsigned long long)(gpa + d),
                    ram_byte(gpa + d), expect[gpa + d]);
            FUZZ_CHECK(!"guest RAM differs from what the image asks for");
        }
        gpa += n;
    }
}

/* Guest RAM equals `expect` everywhere outside [LOADER_RESERVED_BASE, reserved_end). */
static void check_ram_outside_reserved(uint64_t reserved_end)
{
    check_ram_range(0, LOADER_RESERVED_BASE);
    check_ram_range(reserved_end, RAM_SIZE);
}

static void check_boot_info(const struct guest_entry *e)
{
    struct mb1_info info;
    FUZZ_CHECK(e->info_gpa == LOADER_MB1_INFO_GPA);
    FUZZ_CHECK(guest_mem_read(&mem, LOADER_MB1_INFO_GPA, &info, sizeof(info)) == 0);
    FUZZ_CHECK(info.flags == MB1_FLAGS);
    FUZZ_CHECK(info.mem_lower == MB1_MEM_LOWER_KIB);
    FUZZ_CHECK(info.mem_upper == (RAM_SIZE - MB1_UPPER_MEM_BASE) / 1024);
    FUZZ_CHECK(info.cmdline == LOADER_MB1_CMDLINE_GPA);
    char cmd[sizeof(GUEST_CMD)];
    FUZZ_CHECK(guest_mem_read(&mem, LOADER_MB1_CMDLINE_GPA, cmd, sizeof(cmd)) == 0);
    FUZZ_CHECK(memcmp(cmd, GUEST_CMD, sizeof(cmd)) == 0);
}

/* The expected RAM of an accepted ELF image: every PT_LOAD segment's bytes, .bss zero. */
static unsigned elf_expect(const uint8_t *img, size_t len, uint64_t *entry_vaddr)
{
    unsigned elf_class = img[EI_CLASS];
    uint64_t phoff;
    unsigned phnum, phentsize;
    if (elf_class == ELFCLASS32) {
        struct elf32_ehdr h;
        FUZZ_CHECK(len >= sizeof(h));
        memcpy(&h, img, sizeof(h));
        phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
        *entry_vaddr = h.e_entry;
    } else {
        struct elf64_ehdr h;
        FUZZ_CHECK(elf_class == ELFCLASS64 && len >= sizeof(h));
        memcpy(&h, img, sizeof(h));
        phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
        *entry_vaddr = h.e_entry;
    }
    FUZZ_CHECK(phnum >= 1 && phnum <= LOADER_MAX_PHNUM);
    FUZZ_CHECK(phoff <= len && (uint64_t)phnum * phentsize <= len - phoff);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *p = img + phoff + (uint64_t)i * phentsize;
        uint64_t type, offset, paddr, filesz, memsz;
        if (elf_class == ELFCLASS32) {
            struct elf32_phdr ph;
            memcpy(&ph, p, sizeof(ph));
            type = ph.p_type, offset = ph.p_offset, paddr = ph.p_paddr;
            filesz = ph.p_filesz, memsz = ph.p_memsz;
        } else {
            struct elf64_phdr ph;
            memcpy(&ph, p, sizeof(ph));
            type = ph.p_type, offset = ph.p_offset, paddr = ph.p_paddr;
            filesz = ph.p_filesz, memsz = ph.p_memsz;
        }
        if (type != PT_LOAD)
            continue;
        FUZZ_CHECK(filesz <= memsz && offset <= len && filesz <= len - offset);
        FUZZ_CHECK(paddr <= RAM_SIZE && memsz <= RAM_SIZE - paddr);
        memcpy(expect + paddr, img + offset, filesz);
        memset(expect + paddr + filesz, 0, memsz - filesz);
    }
    return elf_class;
}

static void check_elf_accepted(const uint8_t *img, size_t len, const struct guest_config *cfg,
                               const struct guest_entry *e)
{
    uint64_t entry_vaddr;
    unsigned elf_class = elf_expect(img, len, &entry_vaddr);
    FUZZ_CHECK(entry_vaddr != 0);
    FUZZ_CHECK(e->rip < RAM_SIZE);
    FUZZ_CHECK(e->rsp == LOADER_BOOT_STACK_TOP);
    if (elf_class == ELFCLASS32) {
        FUZZ_CHECK(e->mode == GUEST_CPU_PROT32);
        FUZZ_CHECK(e->rax == MB1_BOOTLOADER_MAGIC && e->rbx == LOADER_MB1_INFO_GPA);
        FUZZ_CHECK(e->cr3 == 0);
    } else {
        FUZZ_CHECK(e->mode == GUEST_CPU_LONG64);
        FUZZ_CHECK(e->rdi == LOADER_MB1_INFO_GPA && e->rsi == MB1_BOOTLOADER_MAGIC);
        FUZZ_CHECK(e->cr3 == LOADER_PT_BASE);
        FUZZ_CHECK(ram_u64(LOADER_PT_BASE) == ((LOADER_PT_BASE + 0x1000) | PT_FLAGS));
    }
    check_ram_outside_reserved(loader_reserved_end(cfg));
    memset(expect, 0, RAM_SIZE);
}

static void check_flat_accepted(const uint8_t *img, size_t len, const struct guest_config *cfg,
                                const struct guest_entry *e)
{
    FUZZ_CHECK(e->mode == GUEST_CPU_REAL);
    FUZZ_CHECK(e->rip == cfg->entry);
    FUZZ_CHECK(e->rax == MB1_BOOTLOADER_MAGIC && e->rbx == LOADER_MB1_INFO_GPA);
    FUZZ_CHECK(len > 0 && cfg->load + len <= GUEST_REAL_MODE_LIMIT);
    memcpy(expect + cfg->load, img, len);
    check_ram_outside_reserved(loader_reserved_end(cfg));
    memset(expect + cfg->load, 0, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct guest_config cfg;
    char cfgline[CFG_MAX], cfgerr[ERR_MAX];
    setup_once();
    uint8_t ctl = fuzz_u8(&in);
    build_mem(ctl & CTL_REVERSE);
    if (ctl & CTL_REAL) {
        uint64_t load = fuzz_take(&in, ADDR_BYTES) % GUEST_REAL_MODE_LIMIT;
        uint64_t entry = fuzz_take(&in, ADDR_BYTES) % GUEST_REAL_MODE_LIMIT;
        snprintf(cfgline, sizeof(cfgline),
                 "mem=2M cmdline=\"" GUEST_CMD "\" mode=real entry=0x%llx load=0x%llx",
                 (unsigned long long)entry, (unsigned long long)load);
    } else {
        snprintf(cfgline, sizeof(cfgline), "mem=2M cmdline=\"" GUEST_CMD "\"");
    }
    FUZZ_CHECK(modargs_parse(cfgline, 0, &cfg, cfgerr, sizeof(cfgerr)) == 0);

    uint8_t *img = fuzz_dup(in.data, in.len);
    char *err = malloc(ERR_MAX);
    FUZZ_CHECK(err != NULL);
    struct guest_entry e;
    int rc = loader_load(img, in.len, &cfg, &mem, &e, err, ERR_MAX);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err, '\0', ERR_MAX) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0');
        check_boot_info(&e);
        if (cfg.mode == GUEST_MODE_REAL)
            check_flat_accepted(img, in.len, &cfg, &e);
        else
            check_elf_accepted(img, in.len, &cfg, &e);
        ram_clear();
    } else {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(ram_zero()); /* a rejected image leaves guest memory untouched */
    }
    free(err);
    free(img);
    return 0;
}
