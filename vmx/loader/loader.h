/*
 * Guest image loader: turns a multiboot2 module (bytes + its parsed command line) into a
 * guest's initial memory contents and entry state. Formats (docs/guest-abi.md):
 *   - ELF32 i386 ET_EXEC  -> 32-bit protected mode, paging off, Multiboot 1 entry state;
 *   - ELF64 x86-64 ET_EXEC -> 64-bit long mode on identity page tables hv builds in guest RAM;
 *   - flat binary with mode=real -> real mode at cfg.entry.
 * Every load also writes the Multiboot 1 information structure into the hv-reserved area, and
 * copies the guest's data modules (initrd-for=NAME) after the kernel, listed in that structure.
 * Input is validated completely before the first byte is written, so a rejected image leaves
 * guest memory untouched.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "mm/guest_mem.h"
#include "vmx/loader/modargs.h"

/* ---- guest-physical layout of the hv-reserved area (part of the guest ABI) ---- */
#define LOADER_RESERVED_BASE   0x1000ull  /* first reserved GPA */
#define LOADER_MB1_INFO_GPA    0x1000ull  /* struct mb1_info */
#define LOADER_MB1_MMAP_GPA    0x1080ull  /* memory map entries */
#define LOADER_MB1_NAME_GPA    0x1100ull  /* boot_loader_name "hv" */
#define LOADER_MB1_CMDLINE_GPA 0x1200ull  /* NUL-terminated cfg.cmdline (<= 256 bytes) */
#define LOADER_BOOT_INFO_END   0x2000ull  /* end of the Multiboot 1 page */
#define LOADER_PT_BASE         0x2000ull  /* LONG64: PML4, then PDPT, then the PDs */
#define LOADER_BOOT_STACK_TOP  0x9FC00ull /* initial RSP for ELF guests (top of low memory) */
#define LOADER_MAX_PHNUM       64

/* ---- Multiboot 1 (Multiboot Specification 0.6.96 §3.2, §3.3) ---- */
#define MB1_BOOTLOADER_MAGIC      0x2BADB002u
#define MB1_INFO_MEMORY           (1u << 0)
#define MB1_INFO_CMDLINE          (1u << 2)
#define MB1_INFO_MODS             (1u << 3)
#define MB1_INFO_MEM_MAP          (1u << 6)
#define MB1_INFO_BOOT_LOADER_NAME (1u << 9)
#define MB1_MEM_LOWER_KIB         640u
#define MB1_LOW_MEM_END           0x9FC00ull  /* end of the first "available" mmap range */
#define MB1_UPPER_MEM_BASE        0x100000ull /* 1 MiB: mem_upper counts from here */
#define MB1_MMAP_AVAILABLE        1u
#define MB1_MMAP_RESERVED         2u
#define MB1_MMAP_ENTRIES          3u
/* A memory-map entry is {u32 size; u64 base_addr; u64 length; u32 type} with no padding, so
   base_addr is unaligned: it is described by offsets, not by a struct. */
#define MB1_MMAP_ENTRY_BYTES 24u
#define MB1_MMAP_SIZE_VALUE  20u /* the `size` field: bytes after itself */
#define MB1_MMAP_OFF_SIZE    0u
#define MB1_MMAP_OFF_BASE    4u
#define MB1_MMAP_OFF_LENGTH  12u
#define MB1_MMAP_OFF_TYPE    20u

/* The information structure up to the VBE fields (§3.3); hv never sets flag bits 11/12. */
struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower;
    uint32_t mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info;
    uint32_t vbe_mode_info;
    uint16_t vbe_mode;
    uint16_t vbe_interface_seg;
    uint16_t vbe_interface_off;
    uint16_t vbe_interface_len;
};
_Static_assert(sizeof(struct mb1_info) == 88, "Multiboot 1 info up to the VBE fields");

/* One entry of the module list at mods_addr (§3.3): [mod_start, mod_end) holds the module,
   string is the GPA of its NUL-terminated string. */
struct mb1_module {
    uint32_t mod_start;
    uint32_t mod_end;
    uint32_t string;
    uint32_t reserved;
};
_Static_assert(sizeof(struct mb1_module) == 16, "Multiboot 1 module entry");

/* Modules load at or above 1 MiB, after the kernel's segments, each on a page boundary; the
   module list and the strings follow the last module, on a page boundary (docs/guest-abi.md §4). */
#define LOADER_MODULES_MIN_GPA MB1_UPPER_MEM_BASE
#define LOADER_MB1_ADDR_LIMIT  (1ull << 32) /* Multiboot 1 addresses are 32-bit */

/* A module handed to the guest (a data module, `initrd-for=NAME`: vmx/loader/modargs.h). Its
   string is `cmdline` without the bytes [omit_at, omit_at + omit_len). */
struct loader_module {
    const void *data;
    size_t len;
    const char *cmdline;
    size_t omit_at, omit_len;
    unsigned index; /* the module index, for messages */
};

enum guest_cpu_mode { GUEST_CPU_REAL, GUEST_CPU_PROT32, GUEST_CPU_LONG64 };

struct guest_entry {
    enum guest_cpu_mode mode;
    uint64_t rip, rsp, rax, rbx, rdi, rsi; /* REAL: rip is the linear entry address */
    uint64_t cr3;                          /* LONG64: guest page tables hv built */
    uint64_t info_gpa;                     /* the Multiboot 1 information structure */
    /* A GDT in guest RAM the entry state refers to (the Linux 64-bit boot protocol needs one:
       CS = __BOOT_CS, DS = ES = SS = __BOOT_DS). gdt_limit 0 = none: GDTR and the selectors are
       hv's defaults (ELF and flat guests, docs/guest-abi.md §2). */
    uint64_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs_selector, ds_selector; /* only when gdt_limit != 0 */
};

/* Loads `img` (len bytes) into m according to cfg, builds the Multiboot 1 info structure, and
   fills *out. Returns 0 or -1 with err set ("bad ELF magic", "segment 1 [0x..,0x..) outside
   guest RAM (16 MiB)", ...); on -1 guest memory is unchanged. m->size must equal cfg->mem and
   cfg must come from modargs_parse (panics otherwise: an hv bug). */
int loader_load(const void *img, size_t len, const struct guest_config *cfg,
                const struct guest_mem *m, struct guest_entry *out, char *err, size_t errlen);

/* loader_load, and the `nmods` modules in `mods` (GRUB's order) are copied into guest RAM and
   listed in the Multiboot 1 information (flag bit 3, mods_count, mods_addr). A module or the
   list that does not fit below min(mem, 4 GiB) is rejected ("module 2 (N bytes) at [S,E) does
   not fit in guest RAM (16 MiB)"), guest memory unchanged. Panics when omit_at/omit_len lie
   outside a module's command line (an hv bug). */
int loader_load_with_modules(const void *img, size_t len, const struct guest_config *cfg,
                             const struct loader_module *mods, size_t nmods,
                             const struct guest_mem *m, struct guest_entry *out, char *err,
                             size_t errlen);

/* End GPA of the hv-reserved area [LOADER_RESERVED_BASE, end): the Multiboot 1 page, plus, unless
   cfg->mode is real, room for the LONG64 page tables covering cfg->mem. */
uint64_t loader_reserved_end(const struct guest_config *cfg);
