/*
 * Multiboot2 boot information parser (Multiboot2 spec §3.6).
 *
 * The boot information is untrusted input: mb2_parse() validates every length before it
 * reads, never reads outside the blob, and reports the first problem as a one-line reason.
 * Parsed strings and the RSDP pointer point into the blob, which must stay mapped.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value in EAX when a Multiboot2 loader hands over control (§3.3). */
#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_MAX_MMAP         128
#define MB2_MAX_MODULES      64

/* Memory-map entry types (§3.6.8). */
enum mb2_mem_type {
    MB2_MEM_AVAILABLE = 1,
    MB2_MEM_RESERVED = 2,
    MB2_MEM_ACPI_RECLAIMABLE = 3,
    MB2_MEM_NVS = 4,
    MB2_MEM_BADRAM = 5
};

struct mb2_mmap_entry {
    uint64_t base, length;
    uint32_t type;
};

struct mb2_module {
    uint32_t start, end; /* physical, end exclusive */
    const char *cmdline;
};

struct mb2_info {
    uint32_t total_size;
    const char *cmdline;     /* "" if absent */
    const char *loader_name; /* "" if absent */
    struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
    size_t mmap_count;
    struct mb2_module modules[MB2_MAX_MODULES];
    size_t module_count;
    const void *rsdp;
    size_t rsdp_len;
    int rsdp_version; /* 0 none, 1 (tag 14), 2 (tag 15) */
    bool has_basic_meminfo;
    uint32_t mem_lower_kib, mem_upper_kib;
    char error[128];   /* set on failure: a one-line reason naming the offset */
    const char *cause; /* set on failure: the short cause for hv's end line */
};

/* The cause of a boot-information failure that is not a loader bug but a limit of hv's. */
#define MB2_STR_(x)         #x
#define MB2_STR(x)          MB2_STR_(x)
#define MB2_CAUSE_TOO_MANY  "too many modules (more than " MB2_STR(MB2_MAX_MODULES) ")"
#define MB2_CAUSE_MALFORMED "malformed multiboot2 boot information"

/* Parses the blob at `blob`, of which at most `avail` bytes may be read. Returns 0, or -1 with
   info->error set and info->cause set to MB2_CAUSE_TOO_MANY (more than MB2_MAX_MODULES
   modules) or MB2_CAUSE_MALFORMED (anything else). Never reads outside [blob,
   blob+min(avail,total_size)). */
int mb2_parse(const void *blob, size_t avail, struct mb2_info *info);

/* "available", "reserved", "ACPI", "NVS", "bad", or "unknown". */
const char *mb2_mem_type_name(uint32_t type);

/* Writes the boot summary through log_info: loader, command line, memory-map table (base, end,
   size in KiB, type name), total usable KiB, modules (index, range, size, cmdline), RSDP version.
 */
void mb2_log_summary(const struct mb2_info *info);
