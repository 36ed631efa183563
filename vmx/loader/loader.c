/* Guest image loader (see loader.h and docs/guest-abi.md). */
#include "vmx/loader/loader.h"
#include "vmx/loader/load_error.h"
#include <stdarg.h>
#include <stdbool.h>
#include "kernel/lib/fmt.h"
#include "kernel/panic.h"
#include "kernel/lib/string.h"
#include "mm/pagetable.h"
#include "vmx/loader/elf.h"

#define KIB               (1ull << 10)
#define MIB               (1ull << 20)
#define GIB               (1ull << 30)
#define PT_FIXED_PAGES    2u /* PML4 + PDPT; one PDPT covers 512 GiB > GUEST_MEM_MAX */
#define PT_ENTRY_BYTES    8u
#define PROT32_ADDR_LIMIT (1ull << 32) /* paging off: 32-bit linear = physical addresses */
#define FLAT_NOT_ELF_MSG  "not an ELF image (use mode=real entry= load= for flat binaries)"

_Static_assert(GUEST_MEM_MAX <= PT_ENTRIES * PAGE_1G, "one PDPT maps all guest RAM");
_Static_assert(LOADER_PT_BASE + (PT_FIXED_PAGES + GUEST_MEM_MAX / PAGE_1G) * PAGE_4K <=
                   LOADER_BOOT_STACK_TOP,
               "page tables for the largest guest stay below the boot stack");
_Static_assert(LOADER_MB1_CMDLINE_GPA + GUEST_ABI_CMDLINE_MAX <= LOADER_BOOT_INFO_END,
               "the command line fits in the Multiboot page");

/* An ELF program header of either class, widened. */
struct segment {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* What the loader learned from the ELF header. */
struct elf_image {
    unsigned elf_class; /* ELFCLASS32 or ELFCLASS64 */
    uint64_t entry, phoff;
    unsigned phnum;
    size_t phentsize;
};

/* ---- errors ---- */

/* ---- layout ---- */

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

static uint64_t page_directories(uint64_t mem)
{
    return div_round_up(mem, PAGE_1G);
}

uint64_t loader_reserved_end(const struct guest_config *cfg)
{
    if (cfg->mode == GUEST_MODE_REAL)
        return LOADER_BOOT_INFO_END;
    return LOADER_PT_BASE + (PT_FIXED_PAGES + page_directories(cfg->mem)) * PAGE_4K;
}

/* Half-open ranges [a, a+alen) and [b, b+blen) share a byte (no overflow: callers checked). */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen > 0 && blen > 0 && a < b + blen && b < a + alen;
}

/* ---- ELF parsing (every read is a bounds-checked memcpy: img may be unaligned) ---- */

static int check_ident(const uint8_t *img, size_t len, struct elf_image *elf, char *err,
                       size_t errlen)
{
    static const uint8_t magic[SELFMAG] = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3};
    if (len < SELFMAG || memcmp(img, magic, SELFMAG) != 0)
        return load_fail(err, errlen, "bad ELF magic: " FLAT_NOT_ELF_MSG);
    if (len < EI_NIDENT)
        return load_fail(err, errlen, "truncated ELF header (%zu bytes)", len);
    elf->elf_class = img[EI_CLASS];
    if (elf->elf_class != ELFCLASS32 && elf->elf_class != ELFCLASS64)
        return load_fail(err, errlen, "bad ELF class %u (want 1 or 2)", elf->elf_class);
    if (img[EI_DATA] != ELFDATA2LSB)
        return load_fail(err, errlen, "bad ELF data encoding %u (want 1, little-endian)",
                         img[EI_DATA]);
    if (img[EI_VERSION] != EV_CURRENT)
        return load_fail(err, errlen, "bad ELF version %u in e_ident", img[EI_VERSION]);
    return 0;
}

/* The class-independent header checks: version, type, machine, program header table. */
static int check_header_fields(uint32_t version, uint16_t type, uint16_t machine,
                               uint16_t phentsize, size_t len, struct elf_image *elf, char *err,
                               size_t errlen)
{
    bool is64 = elf->elf_class == ELFCLASS64;
    unsigned want_machine = is64 ? EM_X86_64 : EM_386;
    size_t want_phentsize = is64 ? sizeof(struct elf64_phdr) : sizeof(struct elf32_phdr);
    if (version != EV_CURRENT)
        return load_fail(err, errlen, "bad ELF version %u", version);
    if (type != ET_EXEC)
        return load_fail(err, errlen, "bad ELF type %u (want ET_EXEC)", type);
    if (machine != want_machine)
        return load_fail(err, errlen, "bad ELF machine %u (want %u for ELF%u)", machine,
                         want_machine, is64 ? 64u : 32u);
    if (phentsize != want_phentsize)
        return load_fail(err, errlen, "bad e_phentsize %u (want %zu)", phentsize, want_phentsize);
    if (elf->phnum == 0 || elf->phnum > LOADER_MAX_PHNUM)
        return load_fail(err, errlen, "bad e_phnum %u (want 1..%u)", elf->phnum, LOADER_MAX_PHNUM);
    elf->phentsize = want_phentsize;
    uint64_t table = (uint64_t)elf->phnum * elf->phentsize;
    if (elf->phoff > len || table > len - elf->phoff)
        return load_fail(err, errlen,
                         "truncated: program headers at 0x%llx (+0x%llx) past end of "
                         "file (%zu bytes)",
                         (unsigned long long)elf->phoff, (unsigned long long)table, len);
    if (elf->entry == 0)
        return load_fail(err, errlen, "zero entry point");
    return 0;
}

static int parse_header(const uint8_t *img, size_t len, struct elf_image *elf, char *err,
                        size_t errlen)
{
    if (check_ident(img, len, elf, err, errlen) != 0)
        return -1;
    if (elf->elf_class == ELFCLASS32) {
        struct elf32_ehdr h;
        if (len < sizeof(h))
            return load_fail(err, errlen, "truncated ELF header (%zu bytes, need %zu)", len,
                             sizeof(h));
        memcpy(&h, img, sizeof(h));
        elf->entry = h.e_entry;
        elf->phoff = h.e_phoff;
        elf->phnum = h.e_phnum;
        return check_header_fields(h.e_version, h.e_type, h.e_machine, h.e_phentsize, len, elf, err,
                                   errlen);
    }
    struct elf64_ehdr h;
    if (len < sizeof(h))
        return load_fail(err, errlen, "truncated ELF header (%zu bytes, need %zu)", len, sizeof(h));
    memcpy(&h, img, sizeof(h));
    elf->entry = h.e_entry;
    elf->phoff = h.e_phoff;
    elf->phnum = h.e_phnum;
    return check_header_fields(h.e_version, h.e_type, h.e_machine, h.e_phentsize, len, elf, err,
                               errlen);
}

/* Program header i (parse_header checked the table lies inside the image). */
static void read_segment(const uint8_t *img, const struct elf_image *elf, unsigned i,
                         struct segment *s)
{
    const uint8_t *p = img + elf->phoff + (uint64_t)i * elf->phentsize;
    if (elf->elf_class == ELFCLASS32) {
        struct elf32_phdr ph;
        memcpy(&ph, p, sizeof(ph));
        *s = (struct segment){ph.p_type,  ph.p_offset, ph.p_vaddr,
                              ph.p_paddr, ph.p_filesz, ph.p_memsz};
    } else {
        struct elf64_phdr ph;
        memcpy(&ph, p, sizeof(ph));
        *s = (struct segment){ph.p_type,  ph.p_offset, ph.p_vaddr,
                              ph.p_paddr, ph.p_filesz, ph.p_memsz};
    }
}

/* Checks one PT_LOAD segment on its own: sizes, file bounds, guest RAM, reserved area. */
static int check_segment(unsigned i, const struct segment *s, size_t len,
                         const struct elf_image *elf, const struct guest_config *cfg, char *err,
                         size_t errlen)
{
    uint64_t reserved_end = loader_reserved_end(cfg);
    if (s->filesz > s->memsz)
        return load_fail(err, errlen, "segment %u: p_filesz 0x%llx > p_memsz 0x%llx", i,
                         (unsigned long long)s->filesz, (unsigned long long)s->memsz);
    if (s->offset > len || s->filesz > len - s->offset)
        return load_fail(err, errlen,
                         "segment %u: file data at 0x%llx (+0x%llx) past end of file "
                         "(%zu bytes)",
                         i, (unsigned long long)s->offset, (unsigned long long)s->filesz, len);
    if (s->paddr + s->memsz < s->paddr)
        return load_fail(err, errlen, "segment %u: p_paddr 0x%llx + p_memsz 0x%llx overflows", i,
                         (unsigned long long)s->paddr, (unsigned long long)s->memsz);
    uint64_t end = s->paddr + s->memsz;
    if (end > cfg->mem) {
        char ram[LOAD_SIZE_STR_MAX];
        load_format_ram(cfg->mem, ram);
        return load_fail(err, errlen, "segment %u [0x%llx,0x%llx) outside guest RAM (%s)", i,
                         (unsigned long long)s->paddr, (unsigned long long)end, ram);
    }
    /* Protected mode with paging off reaches only the first 4 GiB (end may equal 4 GiB). */
    if (elf->elf_class == ELFCLASS32 && end > PROT32_ADDR_LIMIT)
        return load_fail(err, errlen, "segment %u [0x%llx,0x%llx) extends past 4 GiB (ELF32)", i,
                         (unsigned long long)s->paddr, (unsigned long long)end);
    if (overlaps(s->paddr, s->memsz, LOADER_RESERVED_BASE, reserved_end - LOADER_RESERVED_BASE))
        return load_fail(err, errlen,
                         "segment %u [0x%llx,0x%llx) overlaps the hv-reserved area "
                         "[0x%llx,0x%llx)",
                         i, (unsigned long long)s->paddr, (unsigned long long)end,
                         LOADER_RESERVED_BASE, (unsigned long long)reserved_end);
    return 0;
}

/* Segment i against the PT_LOAD segments before it: two loads must not write the same byte. */
static int check_no_overlap(const uint8_t *img, const struct elf_image *elf, unsigned i,
                            const struct segment *s, char *err, size_t errlen)
{
    for (unsigned j = 0; j < i; j++) {
        struct segment o;
        read_segment(img, elf, j, &o);
        if (o.type == PT_LOAD && overlaps(s->paddr, s->memsz, o.paddr, o.memsz))
            return load_fail(err, errlen,
                             "segment %u [0x%llx,0x%llx) overlaps segment %u "
                             "[0x%llx,0x%llx)",
                             i, (unsigned long long)s->paddr,
                             (unsigned long long)(s->paddr + s->memsz), j,
                             (unsigned long long)o.paddr, (unsigned long long)(o.paddr + o.memsz));
    }
    return 0;
}

/* Validates every PT_LOAD segment and translates e_entry to a physical address the way GRUB
   does for Multiboot ELF kernels: via the segment whose [p_vaddr, p_vaddr+p_memsz) holds it. */
static int check_segments(const uint8_t *img, size_t len, const struct elf_image *elf,
                          const struct guest_config *cfg, uint64_t *entry_gpa, char *err,
                          size_t errlen)
{
    unsigned loads = 0;
    bool entry_found = false;
    for (unsigned i = 0; i < elf->phnum; i++) {
        struct segment s;
        read_segment(img, elf, i, &s);
        if (s.type != PT_LOAD)
            continue;
        loads++;
        if (check_segment(i, &s, len, elf, cfg, err, errlen) != 0 ||
            check_no_overlap(img, elf, i, &s, err, errlen) != 0)
            return -1;
        if (!entry_found && elf->entry >= s.vaddr && elf->entry - s.vaddr < s.memsz) {
            *entry_gpa = s.paddr + (elf->entry - s.vaddr);
            entry_found = true;
        }
    }
    if (loads == 0)
        return load_fail(err, errlen, "no PT_LOAD segment");
    if (!entry_found)
        return load_fail(err, errlen, "entry point 0x%llx outside every loaded segment",
                         (unsigned long long)elf->entry);
    return 0;
}

/* ---- writing guest memory (only after validation: a failure here is an hv bug) ---- */

static void must_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
    if (guest_mem_write(m, gpa, src, len) != 0)
        panic("loader: write [0x%llx,+0x%llx) outside validated guest RAM", (unsigned long long)gpa,
              (unsigned long long)len);
}

static void must_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (guest_mem_zero(m, gpa, len) != 0)
        panic("loader: zero [0x%llx,+0x%llx) outside validated guest RAM", (unsigned long long)gpa,
              (unsigned long long)len);
}

static void write_u32(const struct guest_mem *m, uint64_t gpa, uint32_t v)
{
    must_write(m, gpa, &v, sizeof(v)); /* x86 guests and hv are both little-endian */
}

static void write_u64(const struct guest_mem *m, uint64_t gpa, uint64_t v)
{
    must_write(m, gpa, &v, sizeof(v));
}

static void copy_segments(const uint8_t *img, const struct elf_image *elf,
                          const struct guest_mem *m)
{
    for (unsigned i = 0; i < elf->phnum; i++) {
        struct segment s;
        read_segment(img, elf, i, &s);
        if (s.type != PT_LOAD)
            continue;
        must_write(m, s.paddr, img + s.offset, s.filesz);
        must_zero(m, s.paddr + s.filesz, s.memsz - s.filesz); /* .bss */
    }
}

static void write_mmap_entry(const struct guest_mem *m, unsigned i, uint64_t base, uint64_t length,
                             uint32_t type)
{
    uint64_t gpa = LOADER_MB1_MMAP_GPA + (uint64_t)i * MB1_MMAP_ENTRY_BYTES;
    write_u32(m, gpa + MB1_MMAP_OFF_SIZE, MB1_MMAP_SIZE_VALUE);
    write_u64(m, gpa + MB1_MMAP_OFF_BASE, base);
    write_u64(m, gpa + MB1_MMAP_OFF_LENGTH, length);
    write_u32(m, gpa + MB1_MMAP_OFF_TYPE, type);
}

/* ---- modules (Multiboot Specification 0.6.96 §3.3) ---- */

/* The modules handed to the guest and where they go: each module from `first` on, page-aligned
   in GRUB's order, then the module list at `list` followed directly by the strings. */
struct module_set {
    const struct loader_module *mods;
    size_t n;
    uint64_t first, list;
};

static uint64_t page_up(uint64_t a)
{
    return div_round_up(a, PAGE_4K) * PAGE_4K;
}

static const char *module_cmdline(const struct loader_module *mod)
{
    return mod->cmdline ? mod->cmdline : "";
}

/* Bytes of the module's string with its NUL: the command line minus the omitted word. */
static uint64_t module_string_size(const struct loader_module *mod)
{
    size_t len = strlen(module_cmdline(mod));
    if (mod->omit_at > len || mod->omit_len > len - mod->omit_at)
        panic("loader: module %u: omitted bytes [%zu,+%zu) outside its command line (hv bug)",
              mod->index, mod->omit_at, mod->omit_len);
    return len - mod->omit_len + 1;
}

/* [start, start + len) must end inside guest RAM and at or below 4 GiB (the Multiboot 1 fields
   are 32-bit). `what` names it in the reason. */
static int check_module_fits(const struct guest_config *cfg, const char *what, uint64_t start,
                             uint64_t len, char *err, size_t errlen)
{
    uint64_t end = len > UINT64_MAX - start ? UINT64_MAX : start + len;
    if (end > cfg->mem) {
        char ram[LOAD_SIZE_STR_MAX];
        load_format_ram(cfg->mem, ram);
        return load_fail(err, errlen, "%s at [0x%llx,0x%llx) does not fit in guest RAM (%s)", what,
                         (unsigned long long)start, (unsigned long long)end, ram);
    }
    if (end > LOADER_MB1_ADDR_LIMIT)
        return load_fail(err, errlen, "%s at [0x%llx,0x%llx) extends past 4 GiB (Multiboot 1)",
                         what, (unsigned long long)start, (unsigned long long)end);
    return 0;
}

/* Places the modules after the kernel (whose segments end at kernel_end), at or above 1 MiB:
   clear of the hv-reserved area, the boot stack and the reserved hole below 1 MiB. */
static int place_modules(const struct guest_config *cfg, uint64_t kernel_end,
                         struct module_set *set, char *err, size_t errlen)
{
    char what[LOAD_SIZE_STR_MAX * 2];
    uint64_t cursor =
        page_up(kernel_end > LOADER_MODULES_MIN_GPA ? kernel_end : LOADER_MODULES_MIN_GPA);
    uint64_t list_bytes = set->n * sizeof(struct mb1_module);
    set->first = cursor;
    for (size_t i = 0; i < set->n; i++) {
        const struct loader_module *mod = &set->mods[i];
        fmt_snprintf(what, sizeof(what), "module %u (%zu bytes)", mod->index, mod->len);
        if (check_module_fits(cfg, what, cursor, mod->len, err, errlen) != 0)
            return -1;
        cursor = page_up(cursor + mod->len);
        list_bytes += module_string_size(mod);
    }
    fmt_snprintf(what, sizeof(what), "module list (%llu bytes)", (unsigned long long)list_bytes);
    if (check_module_fits(cfg, what, cursor, list_bytes, err, errlen) != 0)
        return -1;
    set->list = cursor;
    return 0;
}

static void write_modules(const struct module_set *set, const struct guest_mem *m)
{
    uint64_t at = set->first, string = set->list + set->n * sizeof(struct mb1_module);
    for (size_t i = 0; i < set->n; i++) {
        const struct loader_module *mod = &set->mods[i];
        const char *line = module_cmdline(mod);
        uint64_t string_len = module_string_size(mod) - 1;
        size_t tail = mod->omit_at + mod->omit_len;
        struct mb1_module entry = {(uint32_t)at, (uint32_t)(at + mod->len), (uint32_t)string, 0};
        static const char nul = '\0';
        if (mod->len > 0)
            must_write(m, at, mod->data, mod->len);
        must_write(m, set->list + i * sizeof(entry), &entry, sizeof(entry));
        if (mod->omit_at > 0)
            must_write(m, string, line, mod->omit_at);
        if (string_len > mod->omit_at)
            must_write(m, string + mod->omit_at, line + tail, string_len - mod->omit_at);
        must_write(m, string + string_len, &nul, 1);
        string += string_len + 1;
        at = page_up(at + mod->len);
    }
}

/* End of the highest non-empty PT_LOAD segment (check_segments accepted them all). */
static uint64_t elf_kernel_end(const uint8_t *img, const struct elf_image *elf)
{
    uint64_t end = 0;
    for (unsigned i = 0; i < elf->phnum; i++) {
        struct segment s;
        read_segment(img, elf, i, &s);
        if (s.type == PT_LOAD && s.memsz > 0 && s.paddr + s.memsz > end)
            end = s.paddr + s.memsz;
    }
    return end;
}

/* The Multiboot 1 information structure, its memory map and strings (spec §3.3). */
static void write_boot_info(const struct guest_config *cfg, const struct module_set *set,
                            const struct guest_mem *m)
{
    static const char loader_name[] = "hv";
    struct mb1_info info;
    memset(&info, 0, sizeof(info));
    info.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MEM_MAP | MB1_INFO_BOOT_LOADER_NAME;
    info.mem_lower = MB1_MEM_LOWER_KIB;
    info.mem_upper = (uint32_t)((cfg->mem - MB1_UPPER_MEM_BASE) / KIB);
    info.cmdline = (uint32_t)LOADER_MB1_CMDLINE_GPA;
    info.mmap_length = MB1_MMAP_ENTRIES * MB1_MMAP_ENTRY_BYTES;
    info.mmap_addr = (uint32_t)LOADER_MB1_MMAP_GPA;
    info.boot_loader_name = (uint32_t)LOADER_MB1_NAME_GPA;
    if (set->n > 0) {
        info.flags |= MB1_INFO_MODS;
        info.mods_count = (uint32_t)set->n;
        info.mods_addr = (uint32_t)set->list;
    }

    must_zero(m, LOADER_RESERVED_BASE, LOADER_BOOT_INFO_END - LOADER_RESERVED_BASE);
    must_write(m, LOADER_MB1_INFO_GPA, &info, sizeof(info));
    write_mmap_entry(m, 0, 0, MB1_LOW_MEM_END, MB1_MMAP_AVAILABLE);
    write_mmap_entry(m, 1, MB1_LOW_MEM_END, MB1_UPPER_MEM_BASE - MB1_LOW_MEM_END,
                     MB1_MMAP_RESERVED);
    write_mmap_entry(m, 2, MB1_UPPER_MEM_BASE, cfg->mem - MB1_UPPER_MEM_BASE, MB1_MMAP_AVAILABLE);
    must_write(m, LOADER_MB1_NAME_GPA, loader_name, sizeof(loader_name));
    must_write(m, LOADER_MB1_CMDLINE_GPA, cfg->cmdline,
               strnlen(cfg->cmdline, GUEST_ABI_CMDLINE_MAX - 1));
    /* The NUL terminator is already there: the page was zeroed above. */
}

/* Identity map of guest RAM with 2 MiB pages: PML4[0] -> PDPT -> one PD per GiB. The last
   page may extend past RAM when mem is not a multiple of 2 MiB. */
static uint64_t write_page_tables(const struct guest_config *cfg, const struct guest_mem *m)
{
    const uint64_t pml4 = LOADER_PT_BASE;
    const uint64_t pdpt = pml4 + PAGE_4K;
    const uint64_t pd = pdpt + PAGE_4K;
    const uint64_t table_flags = PTE_P | PTE_W;
    uint64_t npd = page_directories(cfg->mem);
    must_zero(m, pml4, loader_reserved_end(cfg) - pml4);
    write_u64(m, pml4, pdpt | table_flags);
    for (uint64_t i = 0; i < npd; i++)
        write_u64(m, pdpt + i * PT_ENTRY_BYTES, (pd + i * PAGE_4K) | table_flags);
    /* The PDs are contiguous, so the PD entry for 2 MiB page k sits at pd + k * 8. */
    for (uint64_t k = 0; k < div_round_up(cfg->mem, PAGE_2M); k++)
        write_u64(m, pd + k * PT_ENTRY_BYTES, (k * PAGE_2M) | table_flags | PTE_PS);
    return pml4;
}

/* ---- the formats ---- */

static int load_elf(const uint8_t *img, size_t len, const struct guest_config *cfg,
                    struct module_set *set, const struct guest_mem *m, struct guest_entry *out,
                    char *err, size_t errlen)
{
    struct elf_image elf = {0};
    uint64_t entry_gpa = 0;
    if (parse_header(img, len, &elf, err, errlen) != 0 ||
        check_segments(img, len, &elf, cfg, &entry_gpa, err, errlen) != 0 ||
        place_modules(cfg, elf_kernel_end(img, &elf), set, err, errlen) != 0)
        return -1;
    copy_segments(img, &elf, m);
    write_modules(set, m);
    write_boot_info(cfg, set, m);
    out->rip = entry_gpa;
    out->rsp = LOADER_BOOT_STACK_TOP;
    out->info_gpa = LOADER_MB1_INFO_GPA;
    if (elf.elf_class == ELFCLASS32) {
        /* Multiboot 1 §3.2 machine state. */
        out->mode = GUEST_CPU_PROT32;
        out->rax = MB1_BOOTLOADER_MAGIC;
        out->rbx = LOADER_MB1_INFO_GPA;
    } else {
        /* SysV calling convention: entry(info, magic). */
        out->mode = GUEST_CPU_LONG64;
        out->rdi = LOADER_MB1_INFO_GPA;
        out->rsi = MB1_BOOTLOADER_MAGIC;
        out->cr3 = write_page_tables(cfg, m);
    }
    return 0;
}

static int load_flat(const uint8_t *img, size_t len, const struct guest_config *cfg,
                     struct module_set *set, const struct guest_mem *m, struct guest_entry *out,
                     char *err, size_t errlen)
{
    if (!cfg->has_entry || !cfg->has_load || cfg->load >= GUEST_REAL_MODE_LIMIT ||
        cfg->entry >= GUEST_REAL_MODE_LIMIT)
        panic("loader: mode=real config without valid entry/load (modargs bug)");
    if (len == 0)
        return load_fail(err, errlen, "empty image");
    if (len > GUEST_REAL_MODE_LIMIT - cfg->load)
        return load_fail(err, errlen, "image [0x%llx,0x%llx) extends past 1 MiB (real mode)",
                         (unsigned long long)cfg->load, (unsigned long long)(cfg->load + len));
    if (overlaps(cfg->load, len, LOADER_RESERVED_BASE, LOADER_BOOT_INFO_END - LOADER_RESERVED_BASE))
        return load_fail(err, errlen,
                         "image [0x%llx,0x%llx) overlaps the hv-reserved area "
                         "[0x%llx,0x%llx)",
                         (unsigned long long)cfg->load, (unsigned long long)(cfg->load + len),
                         LOADER_RESERVED_BASE, LOADER_BOOT_INFO_END);
    if (place_modules(cfg, cfg->load + len, set, err, errlen) != 0)
        return -1;
    must_write(m, cfg->load, img, len);
    write_modules(set, m);
    write_boot_info(cfg, set, m);
    out->mode = GUEST_CPU_REAL;
    out->rip = cfg->entry;
    out->rax = MB1_BOOTLOADER_MAGIC;
    out->rbx = LOADER_MB1_INFO_GPA;
    out->info_gpa = LOADER_MB1_INFO_GPA;
    return 0;
}

int loader_load(const void *img, size_t len, const struct guest_config *cfg,
                const struct guest_mem *m, struct guest_entry *out, char *err, size_t errlen)
{
    return loader_load_with_modules(img, len, cfg, NULL, 0, m, out, err, errlen);
}

int loader_load_with_modules(const void *img, size_t len, const struct guest_config *cfg,
                             const struct loader_module *mods, size_t nmods,
                             const struct guest_mem *m, struct guest_entry *out, char *err,
                             size_t errlen)
{
    struct module_set set = {mods, mods ? nmods : 0, 0, 0};
    if (m->size != cfg->mem || cfg->mem < GUEST_MEM_MIN || cfg->mem > GUEST_MEM_MAX ||
        cfg->mem % GUEST_MEM_ALIGN != 0)
        panic("loader: guest RAM 0x%llx vs config mem 0x%llx (hv bug)", (unsigned long long)m->size,
              (unsigned long long)cfg->mem);
    if (err && errlen > 0)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (!img)
        len = 0;
    if (cfg->mode == GUEST_MODE_REAL)
        return load_flat(img, len, cfg, &set, m, out, err, errlen);
    return load_elf(img, len, cfg, &set, m, out, err, errlen);
}
