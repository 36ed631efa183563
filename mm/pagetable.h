/* x86-64 4-level page-table entries (SDM vol. 3 §4.5) for hv's own address space. */
#pragma once

#define PTE_P         (1ull << 0)
#define PTE_W         (1ull << 1)
#define PTE_US        (1ull << 2)
#define PTE_PWT       (1ull << 3)
#define PTE_PCD       (1ull << 4)
#define PTE_A         (1ull << 5)
#define PTE_D         (1ull << 6)
#define PTE_PS        (1ull << 7)
#define PTE_G         (1ull << 8)
#define PTE_NX        (1ull << 63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull

#define PT_ENTRIES 512
#define PT_LEVELS  4
#define PAGE_4K    (1ull << 12)
#define PAGE_2M    (1ull << 21)
#define PAGE_1G    (1ull << 30)
/* Index of va in the table at `level` (4 = PML4 ... 1 = PT). */
#define PT_INDEX(va, level) (((va) >> (12 + 9 * ((level)-1))) & (PT_ENTRIES - 1))
