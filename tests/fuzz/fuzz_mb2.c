/*
 * Fuzzes kernel/mb2.c: mb2_parse on the raw input as the Multiboot2 boot information blob (the
 * boot loader's hand-over is untrusted), then mb2_log_summary on success.
 *
 * Invariants: accept or reject, never read outside [blob, blob+min(avail, total_size)) (ASan on
 * an exactly-sized copy; on success the blob is parsed again cut to total_size and must give the
 * same result), every parsed string is NUL-terminated inside the blob, counts within their
 * limits, no mmap entry wraps, module end >= start, the RSDP copy lies inside the blob, and a
 * rejection carries a reason.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kernel/mb2.h"
#include "tests/fuzz/fuzz_common.h"

#define MB2_MIN_TOTAL    16u
#define MB2_ALIGN        8u
#define RSDP_V1_LEN      20u
#define RSDP_V2_LEN      36u
#define MAX_RSDP_VERSION 2

static struct mb2_info info, again;

/* s is "" (absent) or a NUL-terminated string inside the blob. */
static void check_string(const char *s, const uint8_t *blob, size_t total)
{
    FUZZ_CHECK(s != NULL);
    if (*s == '\0' && !(s >= (const char *)blob && s < (const char *)blob + total))
        return; /* the "" default */
    FUZZ_CHECK(fuzz_string_within(s, blob, blob + total));
}

static void check_accepted(const uint8_t *blob, size_t avail)
{
    size_t total = info.total_size;
    FUZZ_CHECK(total >= MB2_MIN_TOTAL && total <= avail && total % MB2_ALIGN == 0);
    check_string(info.cmdline, blob, total);
    check_string(info.loader_name, blob, total);
    FUZZ_CHECK(info.mmap_count <= MB2_MAX_MMAP);
    for (size_t i = 0; i < info.mmap_count; i++)
        FUZZ_CHECK(info.mmap[i].length <= UINT64_MAX - info.mmap[i].base);
    FUZZ_CHECK(info.module_count <= MB2_MAX_MODULES);
    for (size_t i = 0; i < info.module_count; i++) {
        FUZZ_CHECK(info.modules[i].end >= info.modules[i].start);
        FUZZ_CHECK(fuzz_string_within(info.modules[i].cmdline, blob, blob + total));
    }
    FUZZ_CHECK(info.rsdp_version >= 0 && info.rsdp_version <= MAX_RSDP_VERSION);
    if (info.rsdp_version) {
        const uint8_t *r = info.rsdp;
        size_t need = info.rsdp_version == 1 ? RSDP_V1_LEN : RSDP_V2_LEN;
        FUZZ_CHECK(info.rsdp_len >= need);
        FUZZ_CHECK(r >= blob && r <= blob + total && info.rsdp_len <= (size_t)(blob + total - r));
    } else {
        FUZZ_CHECK(info.rsdp == NULL && info.rsdp_len == 0);
    }
}

/* The bytes past total_size are not part of the blob: cut them off and parse again. */
static void check_cut_to_total(const uint8_t *blob)
{
    size_t total = info.total_size;
    uint8_t *cut = fuzz_dup(blob, total);
    FUZZ_CHECK(mb2_parse(cut, total, &again) == 0);
    FUZZ_CHECK(again.total_size == info.total_size);
    FUZZ_CHECK(again.mmap_count == info.mmap_count && again.module_count == info.module_count);
    FUZZ_CHECK(again.rsdp_version == info.rsdp_version && again.rsdp_len == info.rsdp_len);
    FUZZ_CHECK(memcmp(again.mmap, info.mmap, info.mmap_count * sizeof(info.mmap[0])) == 0);
    FUZZ_CHECK(strcmp(again.cmdline, info.cmdline) == 0);
    FUZZ_CHECK(strcmp(again.loader_name, info.loader_name) == 0);
    free(cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *blob = fuzz_dup(data, size); /* malloc: 16-byte aligned, as mb2_parse requires */
    int rc = mb2_parse(blob, size, &info);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(info.error, '\0', sizeof(info.error)) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(info.error[0] == '\0');
        check_accepted(blob, size);
        check_cut_to_total(blob);
        mb2_log_summary(&info);
        for (size_t i = 0; i < info.mmap_count; i++)
            FUZZ_CHECK(mb2_mem_type_name(info.mmap[i].type) != NULL);
    } else {
        FUZZ_CHECK(info.error[0] != '\0');
        FUZZ_CHECK(strncmp(info.error, "mb2: ", strlen("mb2: ")) == 0);
    }
    free(blob);
    return 0;
}
