/*
 * Fuzzes kernel/acpi_madt.c: acpi_madt_find_cpus on firmware tables (the machine's ACPI tables
 * are untrusted input to hv).
 *
 * Input: byte 0 is the length of the RSDP copy (the multiboot2 tag's payload); the rest is
 * physical memory from address 0, and the RSDP copy is its first bytes (cut to what there is).
 * The map callback hands out an exactly-sized heap copy of every range it is asked for and NULL
 * for a range outside the input, so ASan reports any read past what the parser mapped.
 *
 * Invariants: accept or reject; an accepted result lists 1..MADT_MAX_CPUS distinct APIC IDs,
 * and processors beyond the limit only once it is full; a rejection carries a reason and leaves
 * *out zeroed; a small error buffer gets a prefix of the same reason, the same verdict and the
 * same result; every mapped range lies inside the input.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kernel/acpi_madt.h"
#include "tests/fuzz/fuzz_common.h"

#define ERR_MAX       160
#define SMALL_ERR_MOD 13 /* a small error buffer holds 0..12 bytes */

struct phys {
    const uint8_t *mem;
    size_t size;
    uint8_t **maps; /* every copy handed out, freed after the call */
    size_t nmaps, cap;
};

static const void *phys_map(uint64_t pa, size_t len, void *ctx)
{
    struct phys *p = ctx;
    FUZZ_CHECK(len <= UINT64_MAX - pa); /* the parser never asks for a wrapping range */
    if (pa > p->size || len > p->size - pa)
        return NULL;
    if (p->nmaps == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->maps = realloc(p->maps, p->cap * sizeof(*p->maps));
        FUZZ_CHECK(p->maps != NULL);
    }
    uint8_t *copy = fuzz_dup(p->mem + pa, len);
    p->maps[p->nmaps++] = copy;
    return copy;
}

static void phys_release(struct phys *p)
{
    for (size_t i = 0; i < p->nmaps; i++)
        free(p->maps[i]);
    p->nmaps = 0;
}

static void check_accepted(const struct madt_cpus *c)
{
    FUZZ_CHECK(c->count >= 1 && c->count <= MADT_MAX_CPUS);
    FUZZ_CHECK(c->beyond_limit == 0 || c->count == MADT_MAX_CPUS);
    for (unsigned i = 0; i < c->count; i++)
        for (unsigned j = i + 1; j < c->count; j++)
            FUZZ_CHECK(c->apic_id[i] != c->apic_id[j]);
}

static int run(const uint8_t *rsdp, size_t rsdp_len, struct phys *p, struct madt_cpus *out,
               char *err, size_t errlen)
{
    int rc = acpi_madt_find_cpus(rsdp, rsdp_len, phys_map, p, out, err, errlen);
    phys_release(p);
    FUZZ_CHECK(rc == 0 || rc == -1);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t mem_len = size - 1;
    size_t rsdp_len = data[0] < mem_len ? data[0] : mem_len;
    uint8_t *rsdp = fuzz_dup(data + 1, rsdp_len); /* exactly sized: the mb2 tag's payload */
    struct phys p = {data + 1, mem_len, NULL, 0, 0};
    struct madt_cpus out, again;
    char *err = malloc(ERR_MAX);
    size_t small_len = size % SMALL_ERR_MOD;
    char *small = malloc(small_len ? small_len : 1);
    FUZZ_CHECK(err && small);
    memset(err, 'x', ERR_MAX);

    int rc = run(rsdp, rsdp_len, &p, &out, err, ERR_MAX);
    FUZZ_CHECK(memchr(err, '\0', ERR_MAX) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0');
        check_accepted(&out);
    } else {
        const struct madt_cpus zero = {0};
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(memcmp(&out, &zero, sizeof(out)) == 0);
    }
    int rc2 = run(rsdp, rsdp_len, &p, &again, small_len ? small : NULL, small_len);
    FUZZ_CHECK(rc2 == rc);
    FUZZ_CHECK(memcmp(&out, &again, sizeof(out)) == 0);
    if (small_len) {
        size_t n = strnlen(small, small_len);
        FUZZ_CHECK(n < small_len && strncmp(small, err, n) == 0);
    }
    free(p.maps);
    free(small);
    free(err);
    free(rsdp);
    return 0;
}
