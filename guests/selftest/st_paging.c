/* selftest: the guest's own page tables, GDT/TSS and IDT patching (declared in selftest.h). */
#include "guests/selftest/selftest.h"

#define ENTRIES       512
#define LARGE_PAGE    (2ull * 1024 * 1024)
#define PF_REGION_PDE (ST_PF_REGION / LARGE_PAGE)
#define PT_INDEX(a)   (((a)-ST_PF_REGION) / PAGE_SIZE)
#define PAE_PDPTES    4

/* 4-level tables: every level user-accessible so that CPL 3 code can run (SMEP/SMAP are off,
   so supervisor accesses to user pages are fine). */
static uint64_t pml4[ENTRIES] __attribute__((aligned(4096)));
static uint64_t pdpt[ENTRIES] __attribute__((aligned(4096)));
static uint64_t pd[ENTRIES] __attribute__((aligned(4096)));
static uint64_t pt[ENTRIES] __attribute__((aligned(4096)));
/* PAE paging (32-bit, for the mode trip): a PDPT whose reserved bits 2:1 must stay clear. */
static uint64_t pae_pdpt[PAE_PDPTES] __attribute__((aligned(32)));
static uint64_t pae_pd[ENTRIES] __attribute__((aligned(4096)));

void st_paging_install(void)
{
    const uint64_t rwu = PTE_P | PTE_W | PTE_U;
    for (unsigned i = 0; i < ENTRIES; i++) {
        pd[i] = i * LARGE_PAGE | rwu | PTE_PS;
        pae_pd[i] = i * LARGE_PAGE | PTE_P | PTE_W | PTE_PS;
        pt[i] = (ST_PF_REGION + i * PAGE_SIZE) | rwu;
    }
    pt[PT_INDEX(ST_PF_NOT_PRESENT)] = 0;
    pt[PT_INDEX(ST_PF_READ_ONLY)] &= ~PTE_W;
    pd[PF_REGION_PDE] = (uint64_t)(uintptr_t)pt | rwu;
    pdpt[0] = (uint64_t)(uintptr_t)pd | rwu;
    pml4[0] = (uint64_t)(uintptr_t)pdpt | rwu;
    pae_pdpt[0] = (uint64_t)(uintptr_t)pae_pd | PTE_P;
    uint64_t before = hw_read_cr3();
    hw_write_cr3((uint64_t)(uintptr_t)pml4);
    uint64_t after = hw_read_cr3();
    g_check(before == 0x2000, "cr.cr3_initial", "CR3=0x%llx, want 0x2000 (guest ABI)",
            (unsigned long long)before);
    g_check(after == (uint64_t)(uintptr_t)pml4, "cr.cr3_roundtrip", "CR3=0x%llx, wrote %p",
            (unsigned long long)after, (void *)pml4);
}

uint32_t st_pae_pdpt(void)
{
    return (uint32_t)(uintptr_t)pae_pdpt;
}

/* ---- GDT with user segments and a 64-bit TSS ---- */

extern uint64_t g_gdt[]; /* crt0: null, code64, data, code32, code16, data16 */
#define RUNTIME_GDT_ENTRIES 6
#define GDT_USER_DATA       0x00CFF2000000FFFFull /* DPL 3, writable, 4 GiB */
#define GDT_USER_CODE64     0x00AFFA000000FFFFull /* DPL 3, L=1 */
#define GDT_ENTRIES         10                    /* + user data, user code, TSS (2 slots) */
#define TSS_TYPE_AVAILABLE  0x89ull               /* P=1, DPL 0, 64-bit TSS (available) */

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));

void st_user_gdt_install(void)
{
    for (unsigned i = 0; i < RUNTIME_GDT_ENTRIES; i++)
        gdt[i] = g_gdt[i];
    gdt[SEL_USER_DATA >> 3] = GDT_USER_DATA;
    gdt[SEL_USER_CODE >> 3] = GDT_USER_CODE64;
    tss.rsp[0] = (uint64_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
    uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
    gdt[SEL_TSS >> 3] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | TSS_TYPE_AVAILABLE << 40 |
                        ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
    gdt[(SEL_TSS >> 3) + 1] = base >> 32;
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = {sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS));
}

/* ---- IDT gates ---- */

extern uint8_t g_idt[]; /* crt0: 32 16-byte interrupt gates */
#define GATE_SIZE 16

uint64_t st_idt_swap(unsigned vector, uint64_t handler)
{
    uint8_t *g = g_idt + vector * GATE_SIZE;
    uint64_t old = (uint64_t)(*(uint16_t *)g) | (uint64_t)(*(uint16_t *)(g + 6)) << 16 |
                   (uint64_t)(*(uint32_t *)(g + 8)) << 32;
    *(uint16_t *)g = (uint16_t)handler;
    *(uint16_t *)(g + 6) = (uint16_t)(handler >> 16);
    *(uint32_t *)(g + 8) = (uint32_t)(handler >> 32);
    return old;
}
