/*
 * Host helper of make bench (not a test): how many EPT paging-structure pages hv's EPT
 * builder (vmx/cpu/ept.c) uses to map a guest of N MiB at GPA 0. Prints one line per size:
 *   ept: mem=N MiB 1g=P table_pages=T
 * for P = 1 (1 GiB and 2 MiB pages, as on corei7_haswell_4770, with guest RAM in one
 * 1 GiB-aligned host block: the best case) and P = 0 (2 MiB pages only, which is what a guest
 * gets when its RAM comes in host blocks smaller than 1 GiB). Build without sanitizers:
 *   gcc -std=c11 -O2 -I. -DHV_HOST_TEST -o build/bench/ept_pages tests/bench/ept_pages.c \
 *       vmx/cpu/ept.c tests/unit/fake_frames.c tests/unit/fake_kernel.c kernel/lib/fmt.c
 */
#include <stdio.h>
#include <stdlib.h>
#include "vmx/cpu/ept.h"

#define MIB           (1ull << 20)
#define HOST_BASE     (1ull << 30) /* 1 GiB-aligned host-physical base: no table is touched */
#define DEFAULT_SIZES "16 256 1024"

static int report(uint64_t mib, bool page_1g)
{
    const struct ept_caps caps = {.page_1g = page_1g, .page_2m = true, .ad_bits = true};
    struct ept ept;
    if (ept_init(&ept, &caps) || ept_map(&ept, 0, HOST_BASE, mib * MIB, EPT_RWX, EPT_MT_WB)) {
        fprintf(stderr, "ept_pages: mapping %llu MiB failed\n", (unsigned long long)mib);
        return 1;
    }
    printf("ept: mem=%llu MiB 1g=%d table_pages=%llu\n", (unsigned long long)mib, page_1g,
           (unsigned long long)ept.table_pages);
    ept_destroy(&ept);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        uint64_t mib = strtoull(argv[i], 0, 10);
        failed |= report(mib, true) | report(mib, false);
    }
    if (argc == 1)
        fprintf(stderr, "usage: ept_pages MIB... (e.g. %s)\n", DEFAULT_SIZES);
    return failed || argc == 1;
}
