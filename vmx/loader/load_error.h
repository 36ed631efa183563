/* What the loaders share for their rejection reasons (vmx/loader/load_error.c). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define LOAD_SIZE_STR_MAX 24

/* Formats the reason into err and returns -1 (the loaders' failure value). */
int load_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "16 MiB", "1 GiB", "1028 KiB": guest RAM is a multiple of 4 KiB. */
void load_format_ram(uint64_t bytes, char out[LOAD_SIZE_STR_MAX]);
