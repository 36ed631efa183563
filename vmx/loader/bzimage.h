/*
 * Linux bzImage loader: the 64-bit boot protocol of Documentation/arch/x86/boot.rst ("The
 * Linux/x86 Boot Protocol", sections "The Real-Mode Kernel Header", "Details of Header Fields",
 * "64-bit Boot Protocol") and Documentation/arch/x86/zero-page.rst. Parses and validates the
 * setup header, then loads the protected-mode kernel, the zero page (struct boot_params), the
 * command line, the initrd, identity page tables and a boot GDT into guest RAM and describes the
 * entry state. Everything is validated before the first byte is written: a rejected image leaves
 * guest RAM untouched. The ACPI tables are built separately (vmx/loader/acpi.h) into the region
 * this layout reserves for them.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mm/guest_mem.h"
#include "vmx/loader/loader.h"

/* ---- guest-physical layout of a Linux guest below 1 MiB ----
 * Everything hv writes for the boot lives in [LINUX_BOOT_BASE, LINUX_BOOT_END), at fixed GPAs
 * that do not depend on the image or on mem (so the E820 map and docs/guest-abi.md can name
 * them), and is reported "reserved" in the E820 map. Page 0 (real-mode IVT and BIOS data area:
 * Linux reads the EBDA pointer at 0x40E, which stays 0 = no EBDA) is left zero. Linux needs
 * usable RAM below 1 MiB for its real-mode trampoline (arch/x86/realmode/init.c panics without
 * it): [LINUX_BOOT_END, LINUX_LOW_RAM_END) is that RAM. */
#define LINUX_BOOT_BASE        0x1000ull  /* first hv-reserved GPA (page 0 stays the guest's) */
#define LINUX_BOOT_PARAMS_GPA  0x1000ull  /* struct boot_params, the zero page (4 KiB) */
#define LINUX_PT_BASE          0x2000ull  /* PML4, then the PDPT, then LINUX_PT_MAX_PDS PDs */
#define LINUX_PT_MAX_PDS       64u        /* one 4 KiB page directory per GiB: 64 GiB (mem max) */
#define LINUX_PT_END           0x44000ull /* LINUX_PT_BASE + (2 + LINUX_PT_MAX_PDS) pages */
#define LINUX_GDT_GPA          0x44000ull /* the boot GDT (null, null, __BOOT_CS, __BOOT_DS) */
#define LINUX_CMDLINE_GPA      0x45000ull /* the NUL-terminated kernel command line */
#define LINUX_CMDLINE_MAX      4096u      /* bytes at LINUX_CMDLINE_GPA, NUL included */
#define LINUX_BOOT_STACK_BASE  0x46000ull /* one page: RSP at entry (startup_64 soon moves it) */
#define LINUX_BOOT_STACK_TOP   0x47000ull
#define LINUX_BOOT_END         0x47000ull  /* end of the hv-reserved boot data */
#define LINUX_LOW_RAM_END      0x9FC00ull  /* end of usable low RAM (as in the Multiboot map) */
#define LINUX_ACPI_BASE        0xE0000ull  /* ACPI tables: RSDP first, inside the BIOS scan area */
#define LINUX_ACPI_END         0xF0000ull  /* 64 KiB for the tables (acpi_build uses ~1 KiB) */
#define LINUX_HIGH_RAM_BASE    0x100000ull /* 1 MiB: the kernel and the initrd go above this */
#define LINUX_BOOT_PARAMS_SIZE 0x1000u

/* The local APIC and I/O APIC windows (and the top of the 4 GiB space) are not RAM on a PC:
   guest RAM that would lie in [LINUX_MMIO_BASE, LINUX_MMIO_END) is left out of the E820 map and
   nothing is loaded there. */
#define LINUX_MMIO_BASE   0xFEC00000ull
#define LINUX_MMIO_END    0x100000000ull
#define LINUX_IOAPIC_BASE 0xFEC00000ull /* 82093AA I/O APIC: one 4 KiB register window */
#define LINUX_LAPIC_BASE  0xFEE00000ull /* SDM vol. 3 §11.4.1: the xAPIC page */
#define LINUX_APIC_WINDOW 0x1000ull

/* The page tables identity-map at least the first 4 GiB (boot.rst, 64-bit Boot Protocol: the
   kernel, boot_params, the command line and the initrd must be identity-mapped). */
#define LINUX_IDENTITY_MIN (4ull << 30)

/* ---- the boot GDT (boot.rst: __BOOT_CS = 0x10 and __BOOT_DS = 0x18, both 4 GiB flat) ---- */
#define LINUX_BOOT_CS     0x10u
#define LINUX_BOOT_DS     0x18u
#define LINUX_GDT_ENTRIES 4u
/* SDM vol. 3 §3.4.5 segment descriptors: limit 0xFFFFF with G = 1 (4 GiB), base 0, P = 1,
   DPL 0, S = 1. Code: type 0xB (execute/read, accessed), L = 1, D = 0 (64-bit code). Data:
   type 0x3 (read/write, accessed), D/B = 1. The accessed bits are preset so the CPU never
   needs to write the GDT when a selector is loaded. */
#define LINUX_GDT_CODE64 0x00AF9B000000FFFFull
#define LINUX_GDT_DATA   0x00CF93000000FFFFull

/* ---- the setup header (boot.rst "The Real-Mode Kernel Header"), at 0x1F1 in the image and in
   boot_params ---- */
#define BZ_SETUP_HEADER_OFFSET 0x1F1u
#define BZ_BOOT_FLAG           0xAA55u
#define BZ_HEADER_MAGIC        0x53726448u /* "HdrS" */
#define BZ_MIN_VERSION         0x020Cu     /* 2.12: xloadflags (XLF_KERNEL_64) exists */
#define BZ_SECTOR              512u
#define BZ_DEFAULT_SETUP_SECTS 4u     /* "If this field is 0, the real value is 4." */
#define BZ_MAX_SETUP_SECTS     64u    /* GRUB's limit too: setup code and heap stay within 32 KiB */
#define BZ_ENTRY64_OFFSET      0x200u /* startup_64 = load address + 0x200 (64-bit protocol) */
#define BZ_TYPE_OF_LOADER      0xFFu  /* "undefined" boot loader (no assigned ID) */

/* loadflags */
#define BZ_LOADED_HIGH  (1u << 0) /* protected-mode code at 0x100000: a bzImage, not a zImage */
#define BZ_CAN_USE_HEAP (1u << 7)
/* xloadflags */
#define BZ_XLF_KERNEL_64              (1u << 0) /* has the legacy 64-bit entry at +0x200 */
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)
#define BZ_XLF_EFI_HANDOVER_32        (1u << 2)
#define BZ_XLF_EFI_HANDOVER_64        (1u << 3)
#define BZ_XLF_EFI_KEXEC              (1u << 4)

struct setup_header {
    uint8_t setup_sects;        /* 0x1F1 */
    uint16_t root_flags;        /* 0x1F2 */
    uint32_t syssize;           /* 0x1F4: protected-mode code size in 16-byte paragraphs */
    uint16_t ram_size;          /* 0x1F8 */
    uint16_t vid_mode;          /* 0x1FA */
    uint16_t root_dev;          /* 0x1FC */
    uint16_t boot_flag;         /* 0x1FE: 0xAA55 */
    uint16_t jump;              /* 0x200: a short jump; its second byte gives the header's end */
    uint32_t header;            /* 0x202: "HdrS" */
    uint16_t version;           /* 0x206 */
    uint32_t realmode_swtch;    /* 0x208 */
    uint16_t start_sys_seg;     /* 0x20C */
    uint16_t kernel_version;    /* 0x20E */
    uint8_t type_of_loader;     /* 0x210 */
    uint8_t loadflags;          /* 0x211 */
    uint16_t setup_move_size;   /* 0x212 */
    uint32_t code32_start;      /* 0x214 */
    uint32_t ramdisk_image;     /* 0x218 */
    uint32_t ramdisk_size;      /* 0x21C */
    uint32_t bootsect_kludge;   /* 0x220 */
    uint16_t heap_end_ptr;      /* 0x224 */
    uint8_t ext_loader_ver;     /* 0x226 */
    uint8_t ext_loader_type;    /* 0x227 */
    uint32_t cmd_line_ptr;      /* 0x228 */
    uint32_t initrd_addr_max;   /* 0x22C: highest address the initrd may occupy */
    uint32_t kernel_alignment;  /* 0x230 */
    uint8_t relocatable_kernel; /* 0x234 */
    uint8_t min_alignment;      /* 0x235 */
    uint16_t xloadflags;        /* 0x236 */
    uint32_t cmdline_size;      /* 0x238: command line length without the NUL */
    uint32_t hardware_subarch;  /* 0x23C */
    uint64_t hardware_subarch_data; /* 0x240 */
    uint32_t payload_offset;        /* 0x248 */
    uint32_t payload_length;        /* 0x24C */
    uint64_t setup_data;            /* 0x250 */
    uint64_t pref_address;          /* 0x258 */
    uint32_t init_size;             /* 0x260: bytes the kernel needs from its load address */
    uint32_t handover_offset;       /* 0x264 */
    uint32_t kernel_info_offset;    /* 0x268 (2.15) */
} __attribute__((packed));

#define BZ_HDR_OFF(field) (BZ_SETUP_HEADER_OFFSET + offsetof(struct setup_header, field))
_Static_assert(BZ_HDR_OFF(syssize) == 0x1F4, "boot.rst: syssize at 0x1F4");
_Static_assert(BZ_HDR_OFF(boot_flag) == 0x1FE, "boot.rst: boot_flag at 0x1FE");
_Static_assert(BZ_HDR_OFF(header) == 0x202, "boot.rst: header at 0x202");
_Static_assert(BZ_HDR_OFF(version) == 0x206, "boot.rst: version at 0x206");
_Static_assert(BZ_HDR_OFF(type_of_loader) == 0x210, "boot.rst: type_of_loader at 0x210");
_Static_assert(BZ_HDR_OFF(loadflags) == 0x211, "boot.rst: loadflags at 0x211");
_Static_assert(BZ_HDR_OFF(code32_start) == 0x214, "boot.rst: code32_start at 0x214");
_Static_assert(BZ_HDR_OFF(ramdisk_image) == 0x218, "boot.rst: ramdisk_image at 0x218");
_Static_assert(BZ_HDR_OFF(heap_end_ptr) == 0x224, "boot.rst: heap_end_ptr at 0x224");
_Static_assert(BZ_HDR_OFF(cmd_line_ptr) == 0x228, "boot.rst: cmd_line_ptr at 0x228");
_Static_assert(BZ_HDR_OFF(initrd_addr_max) == 0x22C, "boot.rst: initrd_addr_max at 0x22C");
_Static_assert(BZ_HDR_OFF(kernel_alignment) == 0x230, "boot.rst: kernel_alignment at 0x230");
_Static_assert(BZ_HDR_OFF(relocatable_kernel) == 0x234, "boot.rst: relocatable_kernel at 0x234");
_Static_assert(BZ_HDR_OFF(xloadflags) == 0x236, "boot.rst: xloadflags at 0x236");
_Static_assert(BZ_HDR_OFF(cmdline_size) == 0x238, "boot.rst: cmdline_size at 0x238");
_Static_assert(BZ_HDR_OFF(hardware_subarch) == 0x23C, "boot.rst: hardware_subarch at 0x23C");
_Static_assert(BZ_HDR_OFF(setup_data) == 0x250, "boot.rst: setup_data at 0x250");
_Static_assert(BZ_HDR_OFF(pref_address) == 0x258, "boot.rst: pref_address at 0x258");
_Static_assert(BZ_HDR_OFF(init_size) == 0x260, "boot.rst: init_size at 0x260");
_Static_assert(BZ_HDR_OFF(handover_offset) == 0x264, "boot.rst: handover_offset at 0x264");
_Static_assert(BZ_HDR_OFF(kernel_info_offset) == 0x268, "boot.rst: kernel_info_offset at 0x268");
#define BZ_HEADER_END     0x26Cu /* end of struct setup_header (protocol 2.15) */
#define BZ_HEADER_END_212 0x268u /* end of the 2.12 fields (up to handover_offset) */
_Static_assert(BZ_SETUP_HEADER_OFFSET + sizeof(struct setup_header) == BZ_HEADER_END,
               "setup header size");

/* ---- the zero page (zero-page.rst), the fields hv fills ---- */
#define E820_TYPE_RAM      1u
#define E820_TYPE_RESERVED 2u
#define E820_TYPE_ACPI     3u
#define E820_MAX_ENTRIES   128u /* E820_MAX_ENTRIES_ZEROPAGE */

struct boot_e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct boot_e820_entry) == 20, "zero-page.rst: 20-byte E820 entries");

/* include/uapi/linux/screen_info.h. All zero says "no VGA text console": vgacon_startup()
   gives up when orig_video_lines or orig_video_cols is 0 (and orig_video_isVGA 0 is no
   VIDEO_TYPE_*), so Linux never touches 0xA0000-0xBFFFF or the VGA ports. */
struct screen_info {
    uint8_t orig_x;             /* 0x00 */
    uint8_t orig_y;             /* 0x01 */
    uint16_t ext_mem_k;         /* 0x02 */
    uint16_t orig_video_page;   /* 0x04 */
    uint8_t orig_video_mode;    /* 0x06 */
    uint8_t orig_video_cols;    /* 0x07 */
    uint8_t flags;              /* 0x08 */
    uint8_t unused2;            /* 0x09 */
    uint16_t orig_video_ega_bx; /* 0x0A */
    uint16_t unused3;           /* 0x0C */
    uint8_t orig_video_lines;   /* 0x0E */
    uint8_t orig_video_isVGA;   /* 0x0F */
    uint16_t orig_video_points; /* 0x10 */
    uint8_t rest[0x40 - 0x12];  /* the linear-framebuffer fields: unused (zero) */
} __attribute__((packed));
_Static_assert(sizeof(struct screen_info) == 0x40, "screen_info is 0x40 bytes");
_Static_assert(offsetof(struct screen_info, orig_video_isVGA) == 0x0F, "orig_video_isVGA");

struct boot_params {
    struct screen_info screen_info; /* 0x000 */
    uint8_t pad_040[0x070 - 0x040];
    uint64_t acpi_rsdp_addr; /* 0x070 */
    uint8_t pad_078[0x0C0 - 0x078];
    uint32_t ext_ramdisk_image; /* 0x0C0 */
    uint32_t ext_ramdisk_size;  /* 0x0C4 */
    uint32_t ext_cmd_line_ptr;  /* 0x0C8 */
    uint8_t pad_0cc[0x1E8 - 0x0CC];
    uint8_t e820_entries; /* 0x1E8 */
    uint8_t pad_1e9[0x1EF - 0x1E9];
    uint8_t sentinel;        /* 0x1EF: must stay 0 (else Linux wipes "uninitialised" fields) */
    uint8_t pad_1f0;         /* 0x1F0 */
    struct setup_header hdr; /* 0x1F1 */
    uint8_t pad_26c[0x290 - BZ_HEADER_END];
    uint8_t edd_mbr_sig_buffer[0x2D0 - 0x290];           /* 0x290 */
    struct boot_e820_entry e820_table[E820_MAX_ENTRIES]; /* 0x2D0 */
    uint8_t pad_cd0[0x1000 - 0xCD0];                     /* _pad8, eddbuf, _pad9 */
} __attribute__((packed));
_Static_assert(sizeof(struct boot_params) == LINUX_BOOT_PARAMS_SIZE, "the zero page is 4 KiB");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0C0, "ext_ramdisk_image");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_size) == 0x0C4, "ext_ramdisk_size");
_Static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0x0C8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1E8, "e820_entries");
_Static_assert(offsetof(struct boot_params, sentinel) == 0x1EF, "sentinel");
_Static_assert(offsetof(struct boot_params, hdr) == BZ_SETUP_HEADER_OFFSET, "hdr at 0x1F1");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2D0, "e820_table");

/* ---- layout checks ---- */
_Static_assert(LINUX_BOOT_PARAMS_GPA + LINUX_BOOT_PARAMS_SIZE <= LINUX_PT_BASE, "zero page");
_Static_assert(LINUX_PT_BASE + (2 + LINUX_PT_MAX_PDS) * 0x1000ull == LINUX_PT_END, "PT area");
_Static_assert(LINUX_PT_END <= LINUX_GDT_GPA && LINUX_GDT_GPA + 0x1000 <= LINUX_CMDLINE_GPA,
               "GDT page");
_Static_assert(LINUX_CMDLINE_GPA + LINUX_CMDLINE_MAX <= LINUX_BOOT_STACK_BASE, "cmdline page");
_Static_assert(LINUX_BOOT_STACK_TOP == LINUX_BOOT_END && LINUX_BOOT_END < LINUX_LOW_RAM_END,
               "boot stack, then usable low RAM");
_Static_assert(LINUX_LOW_RAM_END <= LINUX_ACPI_BASE && LINUX_ACPI_END <= LINUX_HIGH_RAM_BASE,
               "ACPI region in the BIOS area");

/* What bzimage_parse learned from the setup header. */
struct bzimage_info {
    struct setup_header hdr; /* bytes the image lacks (a header shorter than 2.15) are zero */
    uint32_t header_end;     /* 0x202 + image[0x201], capped at 0x290 (the zero page's room) */
    uint32_t setup_size;     /* (setup_sects or 4, + 1) * 512: the real-mode part, skipped */
    uint64_t kernel_offset;  /* file offset of the protected-mode kernel (= setup_size) */
    uint64_t kernel_size;    /* syssize * 16 bytes, all inside the image */
};

/* The loaded layout (for callers, logs and tests). */
struct bzimage_layout {
    uint64_t kernel_gpa; /* protected-mode kernel load address */
    uint64_t kernel_end; /* kernel_gpa + init_size: the kernel's whole boot footprint */
    uint64_t initrd_gpa; /* 0 when there is no initrd */
    uint64_t initrd_size;
    unsigned e820_entries;
};

/* What the loader needs besides the image. */
struct linux_boot_config {
    const char *cmdline; /* NUL-terminated; NULL = empty */
    const void *initrd;  /* NULL when initrd_size is 0 */
    uint64_t initrd_size;
    uint64_t rsdp_gpa; /* boot_params.acpi_rsdp_addr (acpi_build's RSDP); 0 = Linux scans */
};

/* True when img looks like a Linux boot image (boot_flag 0xAA55 at 0x1FE and "HdrS" at 0x202):
   callers choose the Linux loader by this; bzimage_parse then says why it is unusable. */
bool bzimage_is_linux(const void *img, size_t len);

/* Validates the setup header and the image's size fields. Returns 0, or -1 with err set
   ("not a bzImage: ...", "boot protocol 2.11 too old ...", ...). Reads only img. */
int bzimage_parse(const void *img, size_t len, struct bzimage_info *out, char *err, size_t errlen);

/* Parses img, places the kernel and the initrd, and writes everything into m (whose size is
   guest RAM). On success fills *entry (GUEST_CPU_LONG64 at startup_64, RSI = boot_params, CR3,
   the boot GDT) and *layout and returns 0; on -1 err says why and m is unchanged. */
int bzimage_load(const void *img, size_t len, const struct linux_boot_config *cfg,
                 const struct guest_mem *m, struct guest_entry *entry,
                 struct bzimage_layout *layout, char *err, size_t errlen);
