#include "mm/paging.h"
#include "kernel/lib/hw.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/lib/x86.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "mm/pagetable.h"

#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EXT_PDPE1GB  (1u << 26)

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];

static uint64_t *kernel_pml4;
static bool have_1g_pages;

/* The table that entry `e` points to, allocated (zeroed) when absent. */
static uint64_t *next_table(uint64_t *e)
{
    if ((*e & PTE_P) && (*e & PTE_PS))
        return 0; /* already covered by a large page: refuse rather than corrupt it */
    if (!(*e & PTE_P)) {
        paddr_t pa = frame_alloc(0, FRAME_ZERO);
        if (pa == PADDR_NONE)
            return 0;
        *e = pa | PTE_P | PTE_W;
    }
    return phys_to_virt(*e & PTE_ADDR_MASK);
}

/* Maps one page of `page_size` (4 KiB, 2 MiB or 1 GiB). */
static int map_page(uint64_t va, paddr_t pa, uint64_t page_size, uint64_t flags)
{
    uint64_t *table = kernel_pml4;
    int leaf_level = page_size == PAGE_1G ? 3 : page_size == PAGE_2M ? 2 : 1;
    for (int level = PT_LEVELS; level > leaf_level; level--) {
        table = next_table(&table[PT_INDEX(va, level)]);
        if (!table)
            return -1;
    }
    table[PT_INDEX(va, leaf_level)] = pa | flags | PTE_P | (leaf_level > 1 ? PTE_PS : 0);
    return 0;
}

/* Maps [pa, pa+size) at va with the largest pages alignment allows. */
static int map_range(uint64_t va, paddr_t pa, uint64_t size, uint64_t flags)
{
    while (size) {
        uint64_t step = PAGE_4K;
        if (have_1g_pages && !((va | pa) & (PAGE_1G - 1)) && size >= PAGE_1G)
            step = PAGE_1G;
        else if (!((va | pa) & (PAGE_2M - 1)) && size >= PAGE_2M)
            step = PAGE_2M;
        if (map_page(va, pa, step, flags))
            return -1;
        va += step, pa += step, size -= step;
    }
    return 0;
}

static bool is_guard_page(uintptr_t va)
{
    for (int i = 0; i < stack_guard_count(); i++)
        if (stack_guard_at(i) == va)
            return true;
    return false;
}

/* hv's image with 4 KiB pages: text RX, rodata R, data/bss RW+NX; guard pages stay unmapped. */
static int map_image_section(const char *start, const char *end, uint64_t flags)
{
    for (uintptr_t va = (uintptr_t)start; va < (uintptr_t)end; va += PAGE_4K)
        if (!is_guard_page(va) && map_page(va, va, PAGE_4K, flags))
            return -1;
    return 0;
}

static bool is_ram(uint32_t type)
{
    return type == MB2_MEM_AVAILABLE || type == MB2_MEM_ACPI_RECLAIMABLE || type == MB2_MEM_NVS;
}

static int map_direct(const struct mb2_info *info)
{
    for (size_t i = 0; i < info->mmap_count; i++) {
        const struct mb2_mmap_entry *e = &info->mmap[i];
        if (!is_ram(e->type) || !e->length)
            continue;
        uint64_t start = e->base & ~(PAGE_2M - 1);
        uint64_t end = (e->base + e->length + PAGE_2M - 1) & ~(PAGE_2M - 1);
        if (map_range(DIRECT_MAP_BASE + start, start, end - start, PTE_W | PTE_NX))
            return -1;
    }
    return 0;
}

int paging_init(const struct mb2_info *info)
{
    struct cpuid_regs r;
    hw_cpuid(CPUID_EXT_FEATURES, 0, &r);
    have_1g_pages = r.edx & CPUID_EXT_PDPE1GB;
    uint64_t free_before = frame_free_count();
    paddr_t root = frame_alloc(0, FRAME_ZERO);
    if (root == PADDR_NONE)
        return -1;
    kernel_pml4 = phys_to_virt(root);
    if (map_direct(info) || map_image_section(__text_start, __text_end, 0) ||
        map_image_section(__rodata_start, __rodata_end, PTE_NX) ||
        map_image_section(__data_start, __data_end, PTE_W | PTE_NX))
        return -1;
    hw_write_cr3(root);
    log_info("paging: direct map at 0x%llx (%s pages), image W^X, %d guard pages unmapped, "
             "%llu table frames",
             DIRECT_MAP_BASE, have_1g_pages ? "1 GiB" : "2 MiB", stack_guard_count(),
             (unsigned long long)(free_before - frame_free_count()));
    return 0;
}

int paging_map_mmio(paddr_t pa, uint64_t size)
{
    uint64_t start = pa & ~(PAGE_4K - 1);
    uint64_t end = (pa + size + PAGE_4K - 1) & ~(PAGE_4K - 1);
    for (uint64_t p = start; p < end; p += PAGE_4K)
        if (map_page(DIRECT_MAP_BASE + p, p, PAGE_4K, PTE_W | PTE_NX | PTE_PCD | PTE_PWT))
            return -1;
    hw_write_cr3(hw_read_cr3()); /* flush: an earlier large-page mapping may be cached */
    return 0;
}
