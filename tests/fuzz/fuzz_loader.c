/*
 * Fuzzes vmx/loader/loader.c: loader_load of the input as a guest image (a multiboot module:
 * entirely the guest builder's choice) into 2 MiB of guest RAM made of two exactly-sized 1 MiB heap
 * chunks.
 *
 * Input: byte 0 selects the configuration (bit 0: mode=real, else auto, i.e. ELF; bit 1: list
 * the chunks in reverse GPA order; bit 2: modules follow); for mode=real, the next 3 and 3 bytes
 * are load= and entry= (little-endian, modulo 1 MiB). With bit 2, one byte gives the number of
 * modules (modulo 4), then per module: a 2-byte length (low 14 bits), a 1-byte string length
 * (modulo 64), bytes omit_at and omit_len (reduced into the string), the string's bytes and the
 * module's bytes (each cut short when the input ends; the string also at a NUL), each as an
 * exactly-sized heap copy. The rest is the image, as an exactly-sized heap copy. The
 * configuration is made by modargs_parse, as loader_load requires.
 *
 * Invariants: accept or reject, no access outside the image, the modules or guest RAM (ASan), no
 * panic; a rejection carries a reason and leaves guest RAM all zero; an acceptance leaves exactly
 * the image's PT_LOAD segments (file bytes, then zeroed .bss) or the flat image at load=, the
 * modules, their list and strings where docs/guest-abi.md §4 puts them (page-aligned from
 * max(kernel end, 1 MiB) on), plus the hv-reserved area (Multiboot 1 information with the module
 * fields, LONG64 page tables), and an entry state that matches the format. Modules are rejected
 * ("module ...") exactly when that layout does not fit in guest RAM.
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

#define MIB            (1ull << 20)
#define CHUNK_SIZE     MIB
#define NCHUNKS        2u
#define RAM_SIZE       (NCHUNKS * CHUNK_SIZE)
#define ERR_MAX        192
#define CFG_MAX        160
#define GUEST_CMD      "console=ttyS0 quiet"
#define CTL_REAL       (1u << 0)
#define CTL_REVERSE    (1u << 1)
#define CTL_MODULES    (1u << 2)
#define MODS_MAX       3u
#define MOD_LEN_BITS   0x3FFFu
#define MOD_STRING_MAX 63u
#define PAGE_SIZE      0x1000ull
#define ADDR_BYTES     3u
#define MB1_FLAGS                                                                                  \
    (MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MEM_MAP | MB1_INFO_BOOT_LOADER_NAME)
#define PT_FLAGS 0x3ull /* present, writable */

/* The modules of one input, as the loader gets them. */
struct fuzz_modules {
    struct loader_module mod[MODS_MAX];
    uint8_t *data[MODS_MAX];
    char *line[MODS_MAX];
    size_t n;
};

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
    FUZZ_CHECK((info.flags & ~MB1_INFO_MODS) == MB1_FLAGS);
    FUZZ_CHECK(info.mem_lower == MB1_MEM_LOWER_KIB);
    FUZZ_CHECK(info.mem_upper == (RAM_SIZE - MB1_UPPER_MEM_BASE) / 1024);
    FUZZ_CHECK(info.cmdline == LOADER_MB1_CMDLINE_GPA);
    char cmd[sizeof(GUEST_CMD)];
    FUZZ_CHECK(guest_mem_read(&mem, LOADER_MB1_CMDLINE_GPA, cmd, sizeof(cmd)) == 0);
    FUZZ_CHECK(memcmp(cmd, GUEST_CMD, sizeof(cmd)) == 0);
}

/* The expected RAM of an accepted ELF image: every PT_LOAD segment's bytes, .bss zero. Sets
 *kernel_end to the end of the highest non-empty one. */
static unsigned elf_expect(const uint8_t *img, size_t len, uint64_t *entry_vaddr,
                           uint64_t *kernel_end)
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
    *kernel_end = 0;
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
        if (memsz > 0 && paddr + memsz > *kernel_end)
            *kernel_end = paddr + memsz;
    }
    return elf_class;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static const uint8_t *fuzz_skip(struct fuzz_input *in, size_t n)
{
    const uint8_t *p = in->data;
    in->data += n;
    in->len -= n;
    return p;
}

static void take_modules(struct fuzz_input *in, struct fuzz_modules *fm)
{
    fm->n = fuzz_u8(in) % (MODS_MAX + 1);
    for (size_t i = 0; i < fm->n; i++) {
        size_t len = fuzz_u16(in) & MOD_LEN_BITS;
        size_t slen = fuzz_u8(in) % (MOD_STRING_MAX + 1);
        uint8_t at = fuzz_u8(in), olen = fuzz_u8(in);
        slen = min_size(slen, in->len);
        fm->line[i] = fuzz_strdup(fuzz_skip(in, slen), slen);
        size_t sl = strlen(fm->line[i]);
        size_t omit_at = at % (sl + 1), omit_len = olen % (sl - omit_at + 1);
        len = min_size(len, in->len);
        fm->data[i] = fuzz_dup(fuzz_skip(in, len), len);
        fm->mod[i] =
            (struct loader_module){fm->data[i], len, fm->line[i], omit_at, omit_len, (unsigned)i};
    }
}

static void free_modules(struct fuzz_modules *fm)
{
    for (size_t i = 0; i < fm->n; i++) {
        free(fm->data[i]);
        free(fm->line[i]);
    }
}

static uint64_t page_up(uint64_t a)
{
    return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* The §4 layout after a kernel ending at kernel_end: true when the modules, their list and
   strings fit in guest RAM; then, with `fill`, writes them into `expect` and sets *list. */
static bool modules_expect(const struct fuzz_modules *fm, uint64_t kernel_end, bool fill,
                           uint64_t *list)
{
    uint64_t at[MODS_MAX];
    uint64_t cursor = page_up(kernel_end > MIB ? kernel_end : MIB);
    for (size_t i = 0; i < fm->n; i++) {
        at[i] = cursor;
        if (fm->mod[i].len > RAM_SIZE || cursor > RAM_SIZE - fm->mod[i].len)
            return false;
        cursor = page_up(cursor + fm->mod[i].len);
    }
    uint64_t strings = cursor + fm->n * sizeof(struct mb1_module), end = strings;
    for (size_t i = 0; i < fm->n; i++)
        end += strlen(fm->line[i]) - fm->mod[i].omit_len + 1;
    if (end > RAM_SIZE)
        return false;
    *list = cursor;
    for (size_t i = 0; fill && i < fm->n; i++) {
        const struct loader_module *m = &fm->mod[i];
        size_t sl = strlen(m->cmdline), keep = sl - m->omit_len;
        struct mb1_module e = {(uint32_t)at[i], (uint32_t)(at[i] + m->len), (uint32_t)strings, 0};
        memcpy(expect + at[i], m->data, m->len);
        memcpy(expect + cursor + i * sizeof(e), &e, sizeof(e));
        memcpy(expect + strings, m->cmdline, m->omit_at);
        memcpy(expect + strings + m->omit_at, m->cmdline + m->omit_at + m->omit_len,
               keep - m->omit_at);
        expect[strings + keep] = 0;
        strings += keep + 1;
    }
    return true;
}

/* Where the kernel ends: the highest non-empty PT_LOAD segment, or the flat image. Fills
   `expect` with the image (the caller clears it). */
static uint64_t kernel_end_expect(const uint8_t *img, size_t len, const struct guest_config *cfg)
{
    uint64_t entry_vaddr, end;
    if (cfg->mode == GUEST_MODE_REAL)
        return cfg->load + len;
    elf_expect(img, len, &entry_vaddr, &end);
    return end;
}

/* The modules part of an acceptance: the layout fits, and the information describes it. */
static void check_modules_accepted(const struct fuzz_modules *fm, uint64_t kernel_end)
{
    uint64_t list = 0;
    struct mb1_info info;
    FUZZ_CHECK(modules_expect(fm, kernel_end, true, &list));
    FUZZ_CHECK(guest_mem_read(&mem, LOADER_MB1_INFO_GPA, &info, sizeof(info)) == 0);
    FUZZ_CHECK(info.flags == (MB1_FLAGS | (fm->n ? MB1_INFO_MODS : 0)));
    FUZZ_CHECK(info.mods_count == fm->n);
    FUZZ_CHECK(info.mods_addr == (fm->n ? list : 0));
}

static void check_elf_accepted(const uint8_t *img, size_t len, const struct guest_config *cfg,
                               const struct fuzz_modules *fm, const struct guest_entry *e)
{
    uint64_t entry_vaddr, kernel_end;
    unsigned elf_class = elf_expect(img, len, &entry_vaddr, &kernel_end);
    check_modules_accepted(fm, kernel_end);
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
                                const struct fuzz_modules *fm, const struct guest_entry *e)
{
    FUZZ_CHECK(e->mode == GUEST_CPU_REAL);
    FUZZ_CHECK(e->rip == cfg->entry);
    FUZZ_CHECK(e->rax == MB1_BOOTLOADER_MAGIC && e->rbx == LOADER_MB1_INFO_GPA);
    FUZZ_CHECK(len > 0 && cfg->load + len <= GUEST_REAL_MODE_LIMIT);
    memcpy(expect + cfg->load, img, len);
    check_modules_accepted(fm, cfg->load + len);
    check_ram_outside_reserved(loader_reserved_end(cfg));
    memset(expect, 0, RAM_SIZE);
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
    struct fuzz_modules fm = {.n = 0};
    if (ctl & CTL_MODULES)
        take_modules(&in, &fm);

    uint8_t *img = fuzz_dup(in.data, in.len);
    char *err = malloc(ERR_MAX);
    FUZZ_CHECK(err != NULL);
    struct guest_entry e;
    int rc = loader_load_with_modules(img, in.len, &cfg, fm.mod, fm.n, &mem, &e, err, ERR_MAX);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err, '\0', ERR_MAX) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0');
        check_boot_info(&e);
        if (cfg.mode == GUEST_MODE_REAL)
            check_flat_accepted(img, in.len, &cfg, &fm, &e);
        else
            check_elf_accepted(img, in.len, &cfg, &fm, &e);
        ram_clear();
    } else {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(ram_zero()); /* a rejected image leaves guest memory untouched */
        if (strncmp(err, "module ", strlen("module ")) == 0) {
            /* Only a valid image gets this far: its modules really do not fit. */
            uint64_t list;
            FUZZ_CHECK(!modules_expect(&fm, kernel_end_expect(img, in.len, &cfg), false, &list));
            memset(expect, 0, RAM_SIZE);
        }
    }
    free_modules(&fm);
    free(err);
    free(img);
    return 0;
}
