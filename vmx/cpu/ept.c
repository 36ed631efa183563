/*
 * EPT builder. Every range operation (map, unmap, protect) runs in two passes over the
 * same recursive walk (struct ept_op):
 *   prepare: allocates the tables the range needs and splits large pages that straddle
 *            its ends; this changes no translation, so running out of memory here leaves
 *            the guest's view intact (empty tables it allocated are then pruned again);
 *   commit:  writes the leaves, which needs no memory and so cannot fail.
 * Invariant kept by every operation: apart from the root, no table is ever left empty.
 */
#include "vmx/cpu/ept.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "mm/frame.h"
#include "mm/layout.h"

/* EPT paging-structure entries (SDM vol. 3 §29.3.2, Tables 29-1..29-6). */
#define EPTE_PERM_MASK     0x7ull /* bits 2:0: read, write, execute */
#define EPTE_MEMTYPE_SHIFT 3      /* bits 5:3 of a leaf */
#define EPTE_MEMTYPE_MASK  (0x7ull << EPTE_MEMTYPE_SHIFT)
#define EPTE_IGNORE_PAT    (1ull << 6) /* leaf: ignore guest PAT (hv leaves it 0) */
#define EPTE_LARGE         (1ull << 7) /* PDPTE/PDE: maps a 1 GiB / 2 MiB page */
#define EPTE_ACCESSED      (1ull << 8) /* set by the CPU when A/D flags are enabled */
#define EPTE_DIRTY         (1ull << 9)
#define EPTE_ADDR_MASK     0x000FFFFFFFFFF000ull /* bits 51:12 */
/* Non-leaf entries: bits 7:3 reserved (PML4E), bits 6:3 reserved (PDPTE, PDE). */
#define EPTE_PML4E_RESERVED_MASK (0x1Full << 3)
#define EPTE_TABLE_RESERVED_MASK (0xFull << 3)
/* The attributes a split copies from a large page into its smaller pages. */
#define EPTE_LEAF_ATTR_MASK (EPTE_PERM_MASK | EPTE_MEMTYPE_MASK | EPTE_IGNORE_PAT)

/* EPTP (SDM §25.6.11). */
#define EPTP_WALK_LENGTH_SHIFT 3 /* bits 5:3: page-walk length minus 1 */
#define EPTP_AD_ENABLE         (1ull << 6)

#define EPT_LEVELS      4 /* 4 = PML4 ... 1 = PT */
#define EPT_LEVEL_PT    1
#define EPT_LEVEL_PD    2
#define EPT_LEVEL_PDPT  3
#define EPT_ENTRIES     512
#define EPT_INDEX_BITS  9
#define EPT_INDEX_MASK  (EPT_ENTRIES - 1)
#define EPT_GPA_LIMIT   (1ull << 48) /* 4-level walk: 48-bit guest-physical addresses */
#define EPT_HPA_LIMIT   (1ull << 52) /* the architectural MAXPHYADDR limit */
#define EPT_PAGE_OFFSET (FRAME_SIZE - 1)

static uint64_t level_page_size(unsigned level)
{
    /* False positive: level is 1..4 (split_leaf recurses only while leaf_allowed() is false,
       which never holds for level 1).
       NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
    return FRAME_SIZE << (EPT_INDEX_BITS * (level - 1));
}

static unsigned level_index(uint64_t gpa, unsigned level)
{
    return (unsigned)((gpa >> (FRAME_SHIFT + EPT_INDEX_BITS * (level - 1))) & EPT_INDEX_MASK);
}

static uint64_t *table_ptr(paddr_t table)
{
    return phys_to_virt(table);
}

/* A single 64-bit store, so a CPU walking the tables never sees half an entry. */
static void entry_write(uint64_t *entry, uint64_t value)
{
    __atomic_store_n(entry, value, __ATOMIC_RELAXED);
}

static bool entry_present(uint64_t e)
{
    return (e & EPTE_PERM_MASK) != 0;
}

static bool entry_is_leaf(uint64_t e, unsigned level)
{
    return level == EPT_LEVEL_PT || (e & EPTE_LARGE);
}

static bool entry_is_table(uint64_t e, unsigned level)
{
    return entry_present(e) && !entry_is_leaf(e, level);
}

static paddr_t entry_addr(uint64_t e)
{
    return e & EPTE_ADDR_MASK;
}

static bool leaf_allowed(const struct ept_caps *caps, unsigned level)
{
    switch (level) {
    case EPT_LEVEL_PT:
        return true;
    case EPT_LEVEL_PD:
        return caps->page_2m;
    case EPT_LEVEL_PDPT:
        return caps->page_1g;
    default:
        return false;
    }
}

/* Leaf entry from host address and attributes (permissions, memory type, ignore-PAT). */
static uint64_t make_leaf(paddr_t hpa, unsigned level, uint64_t attrs)
{
    return (hpa & EPTE_ADDR_MASK) | attrs | (level > EPT_LEVEL_PT ? EPTE_LARGE : 0);
}

static uint64_t leaf_attrs(unsigned perms, enum ept_memtype mt)
{
    return (uint64_t)perms | ((uint64_t)mt << EPTE_MEMTYPE_SHIFT);
}

/* Permissions are enforced at the leaf only, so tables grant everything (SDM §29.3.3). */
static uint64_t make_table_entry(paddr_t table)
{
    return table | EPTE_PERM_MASK;
}

static paddr_t table_alloc(struct ept *ept)
{
    paddr_t table = frame_alloc(0, FRAME_ZERO);
    if (table != PADDR_NONE)
        ept->table_pages++;
    return table;
}

static void table_free(struct ept *ept, paddr_t table)
{
    if (ept->table_pages == 0)
        panic("ept: freeing table 0x%llx but no table pages are counted",
              (unsigned long long)table);
    frame_free(table, 0);
    ept->table_pages--;
}

static bool table_empty(paddr_t table)
{
    const uint64_t *t = table_ptr(table);
    for (unsigned i = 0; i < EPT_ENTRIES; i++)
        if (entry_present(t[i]))
            return false;
    return true;
}

/* Frees `table` (at `level`) and every table below it; the pages they map stay. */
static void free_subtree(struct ept *ept, paddr_t table, unsigned level)
{
    const uint64_t *t = table_ptr(table);
    if (level > EPT_LEVEL_PT)
        for (unsigned i = 0; i < EPT_ENTRIES; i++)
            if (entry_is_table(t[i], level))
                free_subtree(ept, entry_addr(t[i]), level - 1);
    table_free(ept, table);
}

/*
 * Builds a table at level-1 translating exactly like the large leaf `leaf` at `level` and
 * returns the entry pointing to it in *out. Children go down another level where the CPU
 * lacks that page size (a 1 GiB page without 2 MiB support). Out of memory: -1, nothing
 * left allocated.
 */
static int split_leaf(struct ept *ept, uint64_t leaf, unsigned level, uint64_t *out)
{
    unsigned child_level = level - 1;
    uint64_t child_size = level_page_size(child_level);
    paddr_t table = table_alloc(ept);
    if (table == PADDR_NONE)
        return -1;
    uint64_t *t = table_ptr(table);
    for (unsigned i = 0; i < EPT_ENTRIES; i++) {
        uint64_t child =
            make_leaf(entry_addr(leaf) + i * child_size, child_level, leaf & EPTE_LEAF_ATTR_MASK);
        if (!leaf_allowed(&ept->caps, child_level) && split_leaf(ept, child, child_level, &child)) {
            free_subtree(ept, table, child_level);
            return -1;
        }
        t[i] = child;
    }
    *out = make_table_entry(table);
    return 0;
}

enum ept_op_kind {
    EPT_OP_MAP,
    EPT_OP_UNMAP,
    EPT_OP_PROTECT,
    EPT_OP_PRUNE, /* frees the empty tables in the range (after a failed prepare pass) */
};

struct ept_op {
    enum ept_op_kind kind;
    bool commit;    /* false: prepare pass, true: commit pass (see the top of this file) */
    uint64_t start; /* guest-physical range [start, end) */
    uint64_t end;
    paddr_t hpa;    /* map: host address of `start` */
    uint64_t attrs; /* map: leaf attributes */
    unsigned perms; /* protect: new rights */
};

/* What an operation does with one entry whose span [entry_gpa, +page size) meets its range. */
enum entry_action {
    ACTION_SKIP,
    ACTION_SET,     /* the whole entry is affected: rewrite it in place */
    ACTION_DESCEND, /* part of it is: work in the table below (allocated or split if needed) */
};

static enum entry_action entry_action(const struct ept *ept, const struct ept_op *op, uint64_t e,
                                      unsigned level, uint64_t entry_gpa)
{
    uint64_t size = level_page_size(level);
    bool whole = op->start <= entry_gpa && entry_gpa + size <= op->end;
    switch (op->kind) {
    case EPT_OP_MAP: {
        paddr_t hpa = op->hpa + (entry_gpa - op->start);
        bool fits = whole && leaf_allowed(&ept->caps, level) && (hpa & (size - 1)) == 0;
        return fits ? ACTION_SET : ACTION_DESCEND;
    }
    case EPT_OP_UNMAP:
        if (!entry_present(e))
            return ACTION_SKIP;
        return whole ? ACTION_SET : ACTION_DESCEND;
    case EPT_OP_PROTECT:
        if (!entry_present(e))
            return ACTION_SKIP; /* ept_protect checked beforehand that nothing is unmapped */
        return whole && entry_is_leaf(e, level) ? ACTION_SET : ACTION_DESCEND;
    case EPT_OP_PRUNE:
        return entry_is_table(e, level) ? ACTION_DESCEND : ACTION_SKIP;
    }
    panic("ept: unknown operation %d", (int)op->kind);
}

/* Commit of ACTION_SET: the new value of the whole entry. */
static void entry_set(struct ept *ept, const struct ept_op *op, uint64_t *entry, unsigned level,
                      uint64_t entry_gpa)
{
    uint64_t old = *entry, new_value = 0;
    switch (op->kind) {
    case EPT_OP_MAP:
        new_value = make_leaf(op->hpa + (entry_gpa - op->start), level, op->attrs);
        break;
    case EPT_OP_UNMAP:
        new_value = 0;
        break;
    case EPT_OP_PROTECT:
        new_value = (old & ~EPTE_PERM_MASK) | op->perms;
        break;
    case EPT_OP_PRUNE:
        panic("ept: prune never rewrites an entry");
    }
    entry_write(entry, new_value);
    if (entry_is_table(old, level)) {
        free_subtree(ept, entry_addr(old), level - 1);
        ept->needs_flush = true;
    } else if (op->kind == EPT_OP_PROTECT) {
        /* Added rights need no INVEPT (SDM §29.4.3.1 allows a spurious violation). */
        if (old & EPTE_PERM_MASK & ~(uint64_t)op->perms)
            ept->needs_flush = true;
    } else if (entry_present(old) && old != new_value) {
        ept->needs_flush = true;
    }
}

/* Prepare pass: gives a not-present or large-leaf entry a table below it. */
static int entry_make_table(struct ept *ept, uint64_t *entry, unsigned level)
{
    uint64_t table_entry;
    if (!entry_present(*entry)) {
        paddr_t table = table_alloc(ept);
        if (table == PADDR_NONE)
            return -1;
        table_entry = make_table_entry(table);
    } else {
        if (split_leaf(ept, *entry, level, &table_entry))
            return -1;
        ept->needs_flush = true; /* the large page may be cached as such */
    }
    entry_write(entry, table_entry);
    return 0;
}

static int op_table(struct ept *ept, const struct ept_op *op, paddr_t table, unsigned level,
                    uint64_t table_gpa);

static int op_descend(struct ept *ept, const struct ept_op *op, uint64_t *entry, unsigned level,
                      uint64_t entry_gpa)
{
    if (!entry_is_table(*entry, level)) {
        if (op->commit)
            panic("ept: no table below level %u entry for gpa 0x%llx at commit", level,
                  (unsigned long long)entry_gpa);
        if (entry_make_table(ept, entry, level))
            return -1;
    }
    paddr_t child = entry_addr(*entry);
    if (op_table(ept, op, child, level - 1, entry_gpa))
        return -1;
    bool may_empty = op->kind == EPT_OP_UNMAP || op->kind == EPT_OP_PRUNE;
    if (op->commit && may_empty && table_empty(child)) {
        entry_write(entry, 0);
        table_free(ept, child);
        ept->needs_flush = true; /* the CPU may cache the entry that pointed to it */
    }
    return 0;
}

/* Applies op to the entries of `table` (at `level`, covering from table_gpa) its range meets. */
static int op_table(struct ept *ept, const struct ept_op *op, paddr_t table, unsigned level,
                    uint64_t table_gpa)
{
    uint64_t *t = table_ptr(table);
    uint64_t size = level_page_size(level);
    uint64_t table_end = table_gpa + size * EPT_ENTRIES;
    uint64_t first = op->start > table_gpa ? op->start & ~(size - 1) : table_gpa;
    uint64_t end = op->end < table_end ? op->end : table_end;
    for (uint64_t entry_gpa = first; entry_gpa < end; entry_gpa += size) {
        uint64_t *entry = &t[level_index(entry_gpa, level)];
        switch (entry_action(ept, op, *entry, level, entry_gpa)) {
        case ACTION_SKIP:
            break;
        case ACTION_SET:
            if (op->commit)
                entry_set(ept, op, entry, level, entry_gpa);
            break;
        case ACTION_DESCEND:
            if (op_descend(ept, op, entry, level, entry_gpa))
                return -1;
            break;
        }
    }
    return 0;
}

static int op_run(struct ept *ept, struct ept_op *op)
{
    op->commit = false;
    if (op_table(ept, op, ept->pml4, EPT_LEVELS, 0)) {
        struct ept_op prune = {
            .kind = EPT_OP_PRUNE, .commit = true, .start = op->start, .end = op->end};
        op_table(ept, &prune, ept->pml4, EPT_LEVELS, 0);
        return -1;
    }
    op->commit = true;
    if (op_table(ept, op, ept->pml4, EPT_LEVELS, 0))
        panic("ept: commit pass failed for gpa 0x%llx-0x%llx", (unsigned long long)op->start,
              (unsigned long long)op->end);
    return 0;
}

static bool range_valid(const struct ept *ept, uint64_t gpa, uint64_t size)
{
    return ept->pml4 != PADDR_NONE && size != 0 && ((gpa | size) & EPT_PAGE_OFFSET) == 0 &&
           gpa < EPT_GPA_LIMIT && size <= EPT_GPA_LIMIT - gpa;
}

/* R, RW, RX or RWX: write without read is a misconfiguration (SDM §29.3.3.1) and
   execute-only needs a CPU feature struct ept_caps does not report. */
static bool perms_valid(unsigned perms)
{
    return (perms & ~EPT_RWX) == 0 && (perms & EPT_READ);
}

static bool memtype_valid(enum ept_memtype mt)
{
    switch (mt) {
    case EPT_MT_UC:
    case EPT_MT_WC:
    case EPT_MT_WT:
    case EPT_MT_WP:
    case EPT_MT_WB:
        return true;
    }
    return false;
}

int ept_init(struct ept *ept, const struct ept_caps *caps)
{
    *ept = (struct ept){.pml4 = PADDR_NONE, .caps = *caps};
    ept->pml4 = table_alloc(ept);
    return ept->pml4 == PADDR_NONE ? -1 : 0;
}

int ept_map(struct ept *ept, uint64_t gpa, paddr_t hpa, uint64_t size, unsigned perms,
            enum ept_memtype mt)
{
    if (!range_valid(ept, gpa, size) || (hpa & EPT_PAGE_OFFSET) || hpa >= EPT_HPA_LIMIT ||
        size > EPT_HPA_LIMIT - hpa || !perms_valid(perms) || !memtype_valid(mt))
        return -1;
    struct ept_op op = {.kind = EPT_OP_MAP,
                        .start = gpa,
                        .end = gpa + size,
                        .hpa = hpa,
                        .attrs = leaf_attrs(perms, mt)};
    return op_run(ept, &op);
}

int ept_unmap(struct ept *ept, uint64_t gpa, uint64_t size)
{
    if (!range_valid(ept, gpa, size))
        return -1;
    struct ept_op op = {.kind = EPT_OP_UNMAP, .start = gpa, .end = gpa + size};
    return op_run(ept, &op);
}

/* Walks to the leaf for gpa: its value and level, or -1 when not present. */
static int walk(const struct ept *ept, uint64_t gpa, uint64_t *leaf, unsigned *leaf_level)
{
    if (ept->pml4 == PADDR_NONE || gpa >= EPT_GPA_LIMIT)
        return -1;
    paddr_t table = ept->pml4;
    for (unsigned level = EPT_LEVELS;; level--) {
        uint64_t e = table_ptr(table)[level_index(gpa, level)];
        if (!entry_present(e))
            return -1;
        if (entry_is_leaf(e, level)) {
            *leaf = e;
            *leaf_level = level;
            return 0;
        }
        table = entry_addr(e);
    }
}

static bool range_mapped(const struct ept *ept, uint64_t start, uint64_t end)
{
    uint64_t leaf;
    unsigned level;
    for (uint64_t gpa = start; gpa < end;) {
        if (walk(ept, gpa, &leaf, &level))
            return false;
        gpa = (gpa & ~(level_page_size(level) - 1)) + level_page_size(level);
    }
    return true;
}

int ept_protect(struct ept *ept, uint64_t gpa, uint64_t size, unsigned perms)
{
    if (!range_valid(ept, gpa, size) || !perms_valid(perms) || !range_mapped(ept, gpa, gpa + size))
        return -1;
    struct ept_op op = {.kind = EPT_OP_PROTECT, .start = gpa, .end = gpa + size, .perms = perms};
    return op_run(ept, &op);
}

int ept_translate(const struct ept *ept, uint64_t gpa, paddr_t *hpa, unsigned *perms,
                  enum ept_memtype *mt, uint64_t *page_size)
{
    uint64_t leaf;
    unsigned level;
    if (walk(ept, gpa, &leaf, &level))
        return -1;
    uint64_t size = level_page_size(level);
    if (hpa)
        *hpa = entry_addr(leaf) + (gpa & (size - 1));
    if (perms)
        *perms = (unsigned)(leaf & EPTE_PERM_MASK);
    if (mt)
        *mt = (enum ept_memtype)((leaf & EPTE_MEMTYPE_MASK) >> EPTE_MEMTYPE_SHIFT);
    if (page_size)
        *page_size = size;
    return 0;
}

uint64_t ept_pointer(const struct ept *ept)
{
    uint64_t eptp = EPT_MT_WB | ((uint64_t)(EPT_LEVELS - 1) << EPTP_WALK_LENGTH_SHIFT);
    if (ept->caps.ad_bits)
        eptp |= EPTP_AD_ENABLE;
    return eptp | (ept->pml4 & EPTE_ADDR_MASK);
}

void ept_destroy(struct ept *ept)
{
    if (ept->pml4 == PADDR_NONE)
        return;
    free_subtree(ept, ept->pml4, EPT_LEVELS);
    ept->pml4 = PADDR_NONE;
    if (ept->table_pages != 0)
        panic("ept: %llu table pages unaccounted for after destroy",
              (unsigned long long)ept->table_pages);
}

/* ---- diagnostics ---- */

static const char *const level_names[EPT_LEVELS + 1] = {"?", "PTE", "PDE", "PDPTE", "PML4E"};

static const char *memtype_name(uint64_t mt)
{
    switch (mt) {
    case EPT_MT_UC:
        return "UC";
    case EPT_MT_WC:
        return "WC";
    case EPT_MT_WT:
        return "WT";
    case EPT_MT_WP:
        return "WP";
    case EPT_MT_WB:
        return "WB";
    }
    return "reserved-memtype";
}

/* Why a present entry is an EPT misconfiguration (SDM §29.3.3.1), or "" when it is not
   (bits above MAXPHYADDR are not checked: hv does not know this CPU's width here). */
static const char *entry_problem(uint64_t e, unsigned level)
{
    if ((e & EPT_WRITE) && !(e & EPT_READ))
        return " MISCONFIG: write without read";
    if ((e & EPTE_PERM_MASK) == EPT_EXEC)
        return " (execute-only: misconfiguration unless the CPU supports it)";
    if (level == EPT_LEVELS)
        return (e & EPTE_PML4E_RESERVED_MASK) ? " MISCONFIG: reserved bits 7:3 set" : "";
    if (!entry_is_leaf(e, level))
        return (e & EPTE_TABLE_RESERVED_MASK) ? " MISCONFIG: reserved bits 6:3 set" : "";
    if (!memtype_valid((enum ept_memtype)((e & EPTE_MEMTYPE_MASK) >> EPTE_MEMTYPE_SHIFT)))
        return " MISCONFIG: reserved memory type";
    if (entry_addr(e) & (level_page_size(level) - 1))
        return " MISCONFIG: reserved address bits of a large page set";
    return "";
}

static void dump_entry(uint64_t gpa, unsigned level, uint64_t e)
{
    unsigned long long g = gpa, v = e, addr = entry_addr(e);
    const char *name = level_names[level];
    unsigned index = level_index(gpa, level);
    if (!entry_present(e)) {
        log_error("ept: gpa 0x%llx %s[%u] = 0x%016llx: not present", g, name, index, v);
        return;
    }
    if (!entry_is_leaf(e, level)) {
        log_error("ept: gpa 0x%llx %s[%u] = 0x%016llx: table 0x%llx%s", g, name, index, v, addr,
                  entry_problem(e, level));
        return;
    }
    /* By level; a PML4E with bit 7 set (a misconfiguration) arrives here as level 4. */
    static const char *const page_names[EPT_LEVELS + 1] = {"?", "4K", "2M", "1G", "?"};
    log_error("ept: gpa 0x%llx %s[%u] = 0x%016llx: %s page 0x%llx %c%c%c %s%s%s%s%s", g, name,
              index, v, page_names[level], addr, (e & EPT_READ) ? 'r' : '-',
              (e & EPT_WRITE) ? 'w' : '-', (e & EPT_EXEC) ? 'x' : '-',
              memtype_name((e & EPTE_MEMTYPE_MASK) >> EPTE_MEMTYPE_SHIFT),
              (e & EPTE_IGNORE_PAT) ? " ipat" : "", (e & EPTE_ACCESSED) ? " A" : "",
              (e & EPTE_DIRTY) ? " D" : "", entry_problem(e, level));
}

void ept_dump_walk(const struct ept *ept, uint64_t gpa)
{
    if (ept->pml4 == PADDR_NONE) {
        log_error("ept: walk of gpa 0x%llx: EPT destroyed", (unsigned long long)gpa);
        return;
    }
    log_error("ept: walk of gpa 0x%llx, EPTP 0x%llx", (unsigned long long)gpa,
              (unsigned long long)ept_pointer(ept));
    if (gpa >= EPT_GPA_LIMIT) {
        log_error("ept: gpa 0x%llx is beyond the 48-bit guest-physical space",
                  (unsigned long long)gpa);
        return;
    }
    paddr_t table = ept->pml4;
    for (unsigned level = EPT_LEVELS; level >= EPT_LEVEL_PT; level--) {
        uint64_t e = table_ptr(table)[level_index(gpa, level)];
        dump_entry(gpa, level, e);
        if (!entry_present(e) || entry_is_leaf(e, level))
            return;
        table = entry_addr(e);
    }
}
