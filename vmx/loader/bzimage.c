/* Linux bzImage loader, 64-bit boot protocol (see bzimage.h; Documentation/arch/x86/boot.rst). */
#include "vmx/loader/bzimage.h"
#include "vmx/loader/load_error.h"
#include <stdarg.h>
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/panic.h"
#include "mm/pagetable.h"

#define KIB      (1ull << 10)
#define MIB      (1ull << 20)
#define GIB      (1ull << 30)
#define PT_FLAGS (PTE_P | PTE_W)
#define PD_BATCH 64u /* page-directory entries written per guest_mem_write */
/* The zero page has room for the setup header up to 0x290 (zero-page.rst: edd_mbr_sig_buffer). */
#define BZ_HEADER_ROOM_END 0x290u
#define BZ_JUMP_END_BASE   0x202u /* header end = 0x202 + the byte at 0x201 (boot.rst) */

_Static_assert(LINUX_PT_MAX_PDS *GIB >= GUEST_MEM_MAX, "the PDs map the largest guest");
_Static_assert(2 * BZ_SECTOR >= BZ_HEADER_ROOM_END,
               "one setup sector + the boot sector hold the header");

/* ---- errors ---- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static bool is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/* ---- parsing (every read is a bounds-checked memcpy: img may be unaligned) ---- */

static uint16_t read_u16(const uint8_t *img, size_t off)
{
    uint16_t v;
    memcpy(&v, img + off, sizeof(v));
    return v;
}

static uint32_t read_u32(const uint8_t *img, size_t off)
{
    uint32_t v;
    memcpy(&v, img + off, sizeof(v));
    return v;
}

bool bzimage_is_linux(const void *img, size_t len)
{
    const uint8_t *p = img;
    return p && len >= BZ_HDR_OFF(version) && read_u16(p, BZ_HDR_OFF(boot_flag)) == BZ_BOOT_FLAG &&
           read_u32(p, BZ_HDR_OFF(header)) == BZ_HEADER_MAGIC;
}

/* Magic, protocol version and the header copy: what makes the image a usable 64-bit bzImage. */
static int parse_magic_and_version(const uint8_t *img, size_t len, struct bzimage_info *bz,
                                   char *err, size_t errlen)
{
    if (!img || len < BZ_HDR_OFF(version))
        return load_fail(err, errlen, "not a bzImage: %zu bytes, too short for a setup header",
                         len);
    if (read_u16(img, BZ_HDR_OFF(boot_flag)) != BZ_BOOT_FLAG)
        return load_fail(err, errlen, "not a bzImage: no boot_flag 0xAA55 at 0x1FE");
    if (read_u32(img, BZ_HDR_OFF(header)) != BZ_HEADER_MAGIC)
        return load_fail(err, errlen, "not a bzImage: no \"HdrS\" magic at 0x202");
    if (len < BZ_HDR_OFF(version) + sizeof(uint16_t))
        return load_fail(err, errlen, "truncated setup header (%zu bytes)", len);
    uint16_t version = read_u16(img, BZ_HDR_OFF(version));
    if (version < BZ_MIN_VERSION)
        return load_fail(err, errlen,
                         "boot protocol %u.%02u too old (need 2.12+ with a 64-bit entry point)",
                         version >> 8, version & 0xFFu);
    /* The jump at 0x200 skips the header: its end is 0x202 + the jump's displacement byte. */
    uint32_t end = BZ_JUMP_END_BASE + img[BZ_HDR_OFF(jump) + 1];
    if (end < BZ_HEADER_END_212)
        return load_fail(err, errlen, "setup header ends at 0x%x, before the 2.12 fields (0x%x)",
                         end, BZ_HEADER_END_212);
    if (len < BZ_HEADER_END_212 || len < min_u64(end, BZ_HEADER_END))
        return load_fail(err, errlen, "truncated setup header (%zu bytes, header ends at 0x%x)",
                         len, end);
    bz->header_end = (uint32_t)min_u64(end, BZ_HEADER_ROOM_END);
    memset(&bz->hdr, 0, sizeof(bz->hdr));
    memcpy(&bz->hdr, img + BZ_SETUP_HEADER_OFFSET,
           min_u64(min_u64(end, BZ_HEADER_END), len) - BZ_SETUP_HEADER_OFFSET);
    return 0;
}

/* The flags, the real-mode setup's size and the protected-mode kernel's extent. */
static int parse_layout(size_t len, struct bzimage_info *bz, char *err, size_t errlen)
{
    const struct setup_header *h = &bz->hdr;
    if (!(h->loadflags & BZ_LOADED_HIGH))
        return load_fail(err, errlen, "not a bzImage: loadflags 0x%x lack LOADED_HIGH (a zImage)",
                         h->loadflags);
    if (!(h->xloadflags & BZ_XLF_KERNEL_64))
        return load_fail(err, errlen, "no 64-bit entry point: xloadflags 0x%x lack XLF_KERNEL_64",
                         h->xloadflags);
    unsigned sects = h->setup_sects ? h->setup_sects : BZ_DEFAULT_SETUP_SECTS;
    if (sects > BZ_MAX_SETUP_SECTS)
        return load_fail(err, errlen, "bad setup_sects %u (at most %u)", sects, BZ_MAX_SETUP_SECTS);
    /* At least 2 sectors, so the setup always holds the whole header (< 0x290). */
    bz->setup_size = (sects + 1) * BZ_SECTOR;
    if (len < bz->setup_size)
        return load_fail(err, errlen,
                         "truncated setup: setup_sects %u needs %u bytes, image has %zu", sects,
                         bz->setup_size, len);
    bz->kernel_offset = bz->setup_size;
    bz->kernel_size = (uint64_t)h->syssize * 16;
    if (bz->kernel_size <= BZ_ENTRY64_OFFSET)
        return load_fail(err, errlen,
                         "bad syssize %u: a kernel of %llu bytes has no 64-bit entry at +0x%x",
                         h->syssize, (unsigned long long)bz->kernel_size, BZ_ENTRY64_OFFSET);
    if (bz->kernel_size > len - bz->kernel_offset)
        return load_fail(
            err, errlen,
            "truncated kernel: syssize says 0x%llx bytes at 0x%llx, image has %zu bytes",
            (unsigned long long)bz->kernel_size, (unsigned long long)bz->kernel_offset, len);
    if (h->init_size < bz->kernel_size)
        return load_fail(err, errlen, "bad init_size 0x%x: smaller than the kernel (0x%llx bytes)",
                         h->init_size, (unsigned long long)bz->kernel_size);
    if (h->relocatable_kernel && (!is_pow2(h->kernel_alignment) || h->kernel_alignment < PAGE_4K))
        return load_fail(err, errlen, "bad kernel_alignment 0x%x (want a power of two >= 4 KiB)",
                         h->kernel_alignment);
    return 0;
}

int bzimage_parse(const void *img, size_t len, struct bzimage_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (err && errlen > 0)
        err[0] = '\0';
    if (parse_magic_and_version(img, len, out, err, errlen) != 0)
        return -1;
    return parse_layout(len, out, err, errlen);
}

/* ---- placement ---- */

/* The end of RAM that may hold the kernel or the initrd: guest RAM, cut at the MMIO window. So
   nothing hv loads lies above 4 GiB, and XLF_CAN_BE_LOADED_ABOVE_4G never matters. */
static uint64_t loadable_end(uint64_t mem)
{
    return min_u64(mem, LINUX_MMIO_BASE);
}

/* The kernel needs [load, load + init_size) (boot.rst: init_size is "the amount of linear
   contiguous memory starting at the kernel runtime start address" it needs). Relocatable
   kernels go at pref_address rounded up to kernel_alignment (never lower: startup_64 then
   decompresses at LOAD_PHYSICAL_ADDR anyway, so a lower address saves nothing); others exactly
   at pref_address. Either way above hv's low-memory data. */
static int place_kernel(const struct bzimage_info *bz, uint64_t mem, struct bzimage_layout *l,
                        char *err, size_t errlen)
{
    const struct setup_header *h = &bz->hdr;
    uint64_t base = h->pref_address;
    if (h->relocatable_kernel) {
        uint64_t align = h->kernel_alignment;
        base = max_u64(base, LINUX_HIGH_RAM_BASE);
        if (base > UINT64_MAX - align)
            return load_fail(err, errlen, "bad pref_address 0x%llx", (unsigned long long)base);
        base = (base + align - 1) & ~(align - 1);
    } else if (base < LINUX_HIGH_RAM_BASE) {
        return load_fail(
            err, errlen,
            "non-relocatable kernel at pref_address 0x%llx, below 1 MiB (hv's boot data)",
            (unsigned long long)base);
    }
    if (base > UINT64_MAX - h->init_size)
        return load_fail(err, errlen, "bad pref_address 0x%llx", (unsigned long long)base);
    uint64_t end = base + h->init_size;
    if (end > mem) {
        char ram[LOAD_SIZE_STR_MAX];
        load_format_ram(mem, ram);
        return load_fail(err, errlen,
                         "kernel larger than guest RAM: needs [0x%llx,0x%llx) (init_size 0x%x), "
                         "guest RAM is %s",
                         (unsigned long long)base, (unsigned long long)end, h->init_size, ram);
    }
    if (end > loadable_end(mem))
        return load_fail(err, errlen, "kernel [0x%llx,0x%llx) reaches the MMIO window at 0x%llx",
                         (unsigned long long)base, (unsigned long long)end, LINUX_MMIO_BASE);
    l->kernel_gpa = base;
    l->kernel_end = end;
    return 0;
}

/* The highest page-aligned start in [lo, hi) for size bytes, or 0 when it does not fit (lo is
   at least 1 MiB, so 0 is never a valid answer). */
static uint64_t highest_fit(uint64_t lo, uint64_t hi, uint64_t size)
{
    lo = (lo + PAGE_4K - 1) & ~(PAGE_4K - 1);
    if (hi < lo || hi - lo < size)
        return 0;
    return (hi - size) & ~(PAGE_4K - 1);
}

/* The initrd goes as high as it can (boot.rst: "as high as possible"), page-aligned, ending at
   or below initrd_addr_max + 1 and the end of loadable RAM, above the kernel's init_size range
   if it fits there, else below the kernel. */
static int place_initrd(const struct bzimage_info *bz, uint64_t mem, uint64_t size,
                        struct bzimage_layout *l, char *err, size_t errlen)
{
    uint64_t addr_limit = (uint64_t)bz->hdr.initrd_addr_max + 1;
    uint64_t limit = min_u64(addr_limit, loadable_end(mem));
    uint64_t at = highest_fit(l->kernel_end, limit, size);
    if (!at)
        at = highest_fit(LINUX_HIGH_RAM_BASE, min_u64(l->kernel_gpa, limit), size);
    if (at) {
        l->initrd_gpa = at;
        l->initrd_size = size;
        return 0;
    }
    if (limit > LINUX_HIGH_RAM_BASE && size <= limit - LINUX_HIGH_RAM_BASE)
        return load_fail(err, errlen,
                         "initrd (%llu bytes) would overlap the kernel [0x%llx,0x%llx): no room "
                         "above or below it under 0x%llx",
                         (unsigned long long)size, (unsigned long long)l->kernel_gpa,
                         (unsigned long long)l->kernel_end, (unsigned long long)limit);
    if (addr_limit < loadable_end(mem))
        return load_fail(err, errlen, "initrd (%llu bytes) does not fit below initrd_addr_max 0x%x",
                         (unsigned long long)size, bz->hdr.initrd_addr_max);
    char ram[LOAD_SIZE_STR_MAX];
    load_format_ram(mem, ram);
    return load_fail(err, errlen, "initrd (%llu bytes) does not fit in guest RAM (%s)",
                     (unsigned long long)size, ram);
}

static int check_cmdline(const struct bzimage_info *bz, const char *cmdline, char *err,
                         size_t errlen)
{
    size_t n = cmdline ? strnlen(cmdline, LINUX_CMDLINE_MAX) : 0;
    if (n > bz->hdr.cmdline_size)
        return load_fail(err, errlen,
                         "command line of %zu bytes longer than the kernel's cmdline_size %u", n,
                         bz->hdr.cmdline_size);
    if (n >= LINUX_CMDLINE_MAX)
        return load_fail(err, errlen, "command line longer than %u bytes", LINUX_CMDLINE_MAX - 1);
    return 0;
}

/* ---- writing guest memory (only after validation: a failure here is an hv bug) ---- */

static void must_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
    if (guest_mem_write(m, gpa, src, len) != 0)
        panic("bzimage: write [0x%llx,+0x%llx) outside validated guest RAM",
              (unsigned long long)gpa, (unsigned long long)len);
}

static void must_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (guest_mem_zero(m, gpa, len) != 0)
        panic("bzimage: zero [0x%llx,+0x%llx) outside validated guest RAM", (unsigned long long)gpa,
              (unsigned long long)len);
}

/* A zero-page field outside the setup header, at its offset in struct boot_params. */
static void put_zero_page(const struct guest_mem *m, size_t offset, const void *v, size_t len)
{
    must_write(m, LINUX_BOOT_PARAMS_GPA + offset, v, len);
}

static void put_u32(const struct guest_mem *m, size_t offset, uint32_t v)
{
    put_zero_page(m, offset, &v, sizeof(v));
}

/* E820 map builder: entries in address order, clipped to what exists. */
struct e820_builder {
    const struct guest_mem *m;
    unsigned n;
};

static void e820_add(struct e820_builder *b, uint64_t start, uint64_t end, uint32_t type)
{
    if (end <= start)
        return;
    if (b->n >= E820_MAX_ENTRIES)
        panic("bzimage: E820 map overflow (hv bug)");
    struct boot_e820_entry e = {start, end - start, type};
    must_write(b->m,
               LINUX_BOOT_PARAMS_GPA + offsetof(struct boot_params, e820_table) + b->n * sizeof(e),
               &e, sizeof(e));
    b->n++;
}

/* Guest RAM as usable, except hv's boot data, the legacy BIOS hole with the ACPI tables, and
   the MMIO window (the I/O APIC and local APIC pages are listed as reserved, as PC firmware
   does; RAM under the window is left out). The kernel and the initrd are in usable RAM, as
   with any boot loader: Linux reserves them itself. */
static unsigned write_e820(const struct guest_mem *m, uint64_t mem)
{
    struct e820_builder b = {m, 0};
    e820_add(&b, 0, LINUX_BOOT_BASE, E820_TYPE_RAM);
    e820_add(&b, LINUX_BOOT_BASE, LINUX_BOOT_END, E820_TYPE_RESERVED);
    e820_add(&b, LINUX_BOOT_END, LINUX_LOW_RAM_END, E820_TYPE_RAM);
    e820_add(&b, LINUX_LOW_RAM_END, LINUX_ACPI_BASE, E820_TYPE_RESERVED);
    e820_add(&b, LINUX_ACPI_BASE, LINUX_ACPI_END, E820_TYPE_ACPI);
    e820_add(&b, LINUX_ACPI_END, LINUX_HIGH_RAM_BASE, E820_TYPE_RESERVED);
    e820_add(&b, LINUX_HIGH_RAM_BASE, loadable_end(mem), E820_TYPE_RAM);
    e820_add(&b, LINUX_IOAPIC_BASE, LINUX_IOAPIC_BASE + LINUX_APIC_WINDOW, E820_TYPE_RESERVED);
    e820_add(&b, LINUX_LAPIC_BASE, LINUX_LAPIC_BASE + LINUX_APIC_WINDOW, E820_TYPE_RESERVED);
    e820_add(&b, LINUX_MMIO_END, mem, E820_TYPE_RAM);
    return b.n;
}

/* The zero page: all zero (screen_info too: no VGA console), the image's setup header, then the
   fields a boot loader fills (boot.rst "Details of Header Fields", zero-page.rst). */
static unsigned write_boot_params(const uint8_t *img, const struct bzimage_info *bz,
                                  const struct linux_boot_config *cfg, const struct guest_mem *m,
                                  const struct bzimage_layout *l)
{
    must_zero(m, LINUX_BOOT_PARAMS_GPA, LINUX_BOOT_PARAMS_SIZE);
    must_write(m, LINUX_BOOT_PARAMS_GPA + BZ_SETUP_HEADER_OFFSET, img + BZ_SETUP_HEADER_OFFSET,
               bz->header_end - BZ_SETUP_HEADER_OFFSET);
    /* bz->hdr holds the same bytes up to the header's end (zero after it): change the fields a
       boot loader writes and put the header back over the copy. */
    struct setup_header h = bz->hdr;
    h.type_of_loader = BZ_TYPE_OF_LOADER;
    h.loadflags = (uint8_t)(h.loadflags & ~BZ_CAN_USE_HEAP); /* the real-mode setup never runs */
    h.heap_end_ptr = 0;
    h.setup_data = 0;       /* no setup_data list */
    h.hardware_subarch = 0; /* X86_SUBARCH_PC */
    h.hardware_subarch_data = 0;
    h.cmd_line_ptr = (uint32_t)LINUX_CMDLINE_GPA;
    h.ramdisk_image = (uint32_t)l->initrd_gpa;
    h.ramdisk_size = (uint32_t)l->initrd_size;
    _Static_assert(BZ_HDR_OFF(hardware_subarch_data) + sizeof(uint64_t) <= BZ_HEADER_END_212,
                   "every field written is part of a 2.12 header");
    must_write(m, LINUX_BOOT_PARAMS_GPA + BZ_SETUP_HEADER_OFFSET, &h,
               min_u64(bz->header_end, BZ_HEADER_END) - BZ_SETUP_HEADER_OFFSET);
    put_u32(m, offsetof(struct boot_params, ext_cmd_line_ptr), (uint32_t)(LINUX_CMDLINE_GPA >> 32));
    put_u32(m, offsetof(struct boot_params, ext_ramdisk_image), (uint32_t)(l->initrd_gpa >> 32));
    put_u32(m, offsetof(struct boot_params, ext_ramdisk_size), (uint32_t)(l->initrd_size >> 32));
    put_zero_page(m, offsetof(struct boot_params, acpi_rsdp_addr), &cfg->rsdp_gpa,
                  sizeof(cfg->rsdp_gpa));
    uint8_t n = (uint8_t)write_e820(m, m->size);
    put_zero_page(m, offsetof(struct boot_params, e820_entries), &n, sizeof(n));
    return n;
}

static unsigned page_directories(uint64_t mem)
{
    uint64_t covered = max_u64(mem, LINUX_IDENTITY_MIN);
    return (unsigned)(covered / GIB + (covered % GIB != 0));
}

/* Identity map of [0, max(4 GiB, mem)) with 2 MiB pages: PML4[0] -> PDPT -> one PD per GiB,
   contiguous, so the PDE of 2 MiB page k sits at PD0 + 8k. The MMIO window's pages are
   uncacheable (PCD | PWT: SDM vol. 3 §12.12.3, PAT entry 3 = UC at power-on). */
static void write_page_tables(const struct guest_mem *m)
{
    const uint64_t pml4 = LINUX_PT_BASE, pdpt = pml4 + PAGE_4K, pd = pdpt + PAGE_4K;
    unsigned npd = page_directories(m->size);
    uint64_t e = pdpt | PT_FLAGS;
    must_write(m, pml4, &e, sizeof(e));
    for (unsigned i = 0; i < npd; i++) {
        e = (pd + i * PAGE_4K) | PT_FLAGS;
        must_write(m, pdpt + i * sizeof(e), &e, sizeof(e));
    }
    uint64_t batch[PD_BATCH];
    uint64_t pages = (uint64_t)npd * PT_ENTRIES;
    for (uint64_t k = 0; k < pages; k += PD_BATCH) {
        for (unsigned j = 0; j < PD_BATCH; j++) {
            uint64_t addr = (k + j) * PAGE_2M;
            bool mmio = addr >= LINUX_MMIO_BASE && addr < LINUX_MMIO_END;
            batch[j] = addr | PT_FLAGS | PTE_PS | (mmio ? PTE_PCD | PTE_PWT : 0);
        }
        must_write(m, pd + k * sizeof(uint64_t), batch, sizeof(batch));
    }
}

static void write_gdt(const struct guest_mem *m)
{
    const uint64_t gdt[LINUX_GDT_ENTRIES] = {0, 0, LINUX_GDT_CODE64, LINUX_GDT_DATA};
    _Static_assert(LINUX_BOOT_CS / 8 == 2 && LINUX_BOOT_DS / 8 == 3, "GDT slots of the selectors");
    must_write(m, LINUX_GDT_GPA, gdt, sizeof(gdt));
}

int bzimage_load(const void *img, size_t len, const struct linux_boot_config *cfg,
                 const struct guest_mem *m, struct guest_entry *entry,
                 struct bzimage_layout *layout, char *err, size_t errlen)
{
    if (m->size < GUEST_MEM_MIN || m->size > GUEST_MEM_MAX || m->size % GUEST_MEM_ALIGN != 0)
        panic("bzimage: guest RAM 0x%llx out of the configurable range (hv bug)",
              (unsigned long long)m->size);
    if (cfg->initrd_size && !cfg->initrd)
        panic("bzimage: initrd of %llu bytes without data (hv bug)",
              (unsigned long long)cfg->initrd_size);
    struct bzimage_info bz;
    memset(entry, 0, sizeof(*entry));
    memset(layout, 0, sizeof(*layout));
    if (bzimage_parse(img, len, &bz, err, errlen) != 0 ||
        check_cmdline(&bz, cfg->cmdline, err, errlen) != 0 ||
        place_kernel(&bz, m->size, layout, err, errlen) != 0)
        return -1;
    if (cfg->initrd_size && place_initrd(&bz, m->size, cfg->initrd_size, layout, err, errlen) != 0)
        return -1;

    const uint8_t *p = img;
    must_write(m, layout->kernel_gpa, p + bz.kernel_offset, bz.kernel_size);
    if (layout->initrd_size)
        must_write(m, layout->initrd_gpa, cfg->initrd, layout->initrd_size);
    must_zero(m, LINUX_BOOT_BASE, LINUX_BOOT_END - LINUX_BOOT_BASE);
    layout->e820_entries = write_boot_params(p, &bz, cfg, m, layout);
    if (cfg->cmdline)
        must_write(m, LINUX_CMDLINE_GPA, cfg->cmdline, strlen(cfg->cmdline)); /* NUL: zeroed */
    write_page_tables(m);
    write_gdt(m);

    entry->mode = GUEST_CPU_LONG64;
    entry->rip = layout->kernel_gpa + BZ_ENTRY64_OFFSET;
    entry->rsi = LINUX_BOOT_PARAMS_GPA;
    entry->rsp = LINUX_BOOT_STACK_TOP;
    entry->cr3 = LINUX_PT_BASE;
    entry->gdt_base = LINUX_GDT_GPA;
    entry->gdt_limit = LINUX_GDT_ENTRIES * sizeof(uint64_t) - 1;
    entry->cs_selector = LINUX_BOOT_CS;
    entry->ds_selector = LINUX_BOOT_DS;
    return 0;
}
