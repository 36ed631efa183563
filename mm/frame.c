#include "mm/frame.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/lib/string.h"
#include "mm/layout.h"
#include "mm/memmap.h"

extern char __hv_start[], __hv_end[];

static struct buddy frames;
static struct spinlock frames_lock;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* The ranges hv must never hand out. */
static size_t collect_reserved(const struct mb2_info *info, paddr_t mbi_phys,
                               struct phys_range *res, size_t max)
{
    size_t n = 0;
    res[n++] = (struct phys_range){0, MEMMAP_LOW_MEMORY_END};
    res[n++] = (struct phys_range){(uintptr_t)__hv_start, (uintptr_t)__hv_end};
    res[n++] = (struct phys_range){mbi_phys, mbi_phys + info->total_size};
    for (size_t i = 0; i < info->module_count && n < max; i++)
        res[n++] = (struct phys_range){info->modules[i].start, info->modules[i].end};
    for (size_t i = 0; i < n; i++)
        log_info("mm: reserved 0x%llx-0x%llx (%s)", (unsigned long long)res[i].start,
                 (unsigned long long)res[i].end,
                 i == 0   ? "first MiB"
                 : i == 1 ? "hv image"
                 : i == 2 ? "boot information"
                          : "module");
    return n;
}

/* Per-frame metadata goes at the start of the first usable range below 4 GiB (mapped by the
   boot page tables) big enough to hold it; that range shrinks accordingly. */
static void *carve_meta(struct phys_range *r, size_t n, size_t bytes)
{
    const uint64_t boot_mapped_limit = 4ull << 30;
    uint64_t need = align_up(bytes, FRAME_SIZE);
    for (size_t i = 0; i < n; i++) {
        if (r[i].end <= boot_mapped_limit && r[i].end - r[i].start >= need) {
            void *meta = phys_to_virt(r[i].start);
            r[i].start += need;
            return meta;
        }
    }
    return 0;
}

int frame_init(const struct mb2_info *info, paddr_t mbi_phys)
{
    static struct phys_range reserved[MB2_MAX_MODULES + 3];
    static struct phys_range ranges[MEMMAP_MAX_RANGES];
    size_t nres =
        collect_reserved(info, mbi_phys, reserved, sizeof(reserved) / sizeof(reserved[0]));
    /* struct memmap_entry is layout-identical to struct mb2_mmap_entry (see mm/memmap.h). */
    int n = memmap_usable((const struct memmap_entry *)info->mmap, info->mmap_count, reserved, nres,
                          ranges, MEMMAP_MAX_RANGES);
    if (n < 0) {
        log_error("mm: memory map too fragmented (more than %d usable ranges)", MEMMAP_MAX_RANGES);
        return -1;
    }
    if (n == 0) {
        log_error("mm: no usable memory above 1 MiB");
        return -1;
    }
    uint64_t usable = memmap_total(ranges, (size_t)n);
    paddr_t base = ranges[0].start, limit = ranges[n - 1].end;
    size_t meta_bytes = buddy_meta_bytes(base, limit);
    void *meta = carve_meta(ranges, (size_t)n, meta_bytes);
    if (!meta) {
        log_error("mm: no room below 4 GiB for %zu bytes of frame metadata", meta_bytes);
        return -1;
    }
    buddy_init(&frames, base, limit, meta, DIRECT_MAP_BASE);
    for (int i = 0; i < n; i++) {
        log_debug("mm: free range 0x%llx-0x%llx", (unsigned long long)ranges[i].start,
                  (unsigned long long)ranges[i].end);
        buddy_add_range(&frames, ranges[i].start, ranges[i].end);
    }
    log_info("mm: usable %llu KiB after reservations (%zu reserved ranges), metadata %zu KiB",
             (unsigned long long)(usable >> 10), nres, align_up(meta_bytes, FRAME_SIZE) >> 10);
    return 0;
}

paddr_t frame_alloc(unsigned order, unsigned flags)
{
    spin_lock(&frames_lock);
    paddr_t pa = buddy_alloc(&frames, order, flags);
    spin_unlock(&frames_lock);
    return pa;
}

void frame_free(paddr_t pa, unsigned order)
{
    spin_lock(&frames_lock);
    buddy_free(&frames, pa, order);
    spin_unlock(&frames_lock);
}

void frame_get_stats(struct frame_stats *out)
{
    spin_lock(&frames_lock);
    buddy_get_stats(&frames, &out->buddy);
    out->largest_free_bytes = buddy_largest_free(&frames);
    spin_unlock(&frames_lock);
}

uint64_t frame_free_count(void)
{
    struct frame_stats s;
    frame_get_stats(&s);
    return s.buddy.free_frames;
}

int mm_check(void)
{
    spin_lock(&frames_lock);
    int r = buddy_check(&frames);
    spin_unlock(&frames_lock);
    return r;
}

unsigned frame_order_for(uint64_t bytes)
{
    unsigned order = 0;
    while ((FRAME_SIZE << order) < bytes)
        order++;
    return order;
}
