/*
 * Tokenizer for hv's command line and module command lines.
 *
 * Words are separated by spaces or tabs; a word is `key` or `key=value`. A value may be
 * double-quoted (`cmdline="console=ttyS0 quiet"`): the quotes are removed and the spaces
 * inside are kept. There are no escapes. Malformed input is an error, never guessed at.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_KEY_MAX 32 /* buffer size: keys are at most 31 characters */
#define CMDLINE_VALUE_MAX                                                                          \
    2048 /* buffer size: values are at most 2047 characters (a Linux                               \
           guest's cmdline=, as Debian's kernels accept) */

struct cmdline_iter {
    const char *pos;
};

/* Starts iterating over s (NULL is treated as ""). s must outlive the iterator. */
void cmdline_iter_init(struct cmdline_iter *it, const char *s);

/* Returns 1 with key/value filled (value "" and *has_value false for a bare word), 0 at the end,
   -1 on malformed input (unterminated quote, key or value too long, empty key like "=x") with
   err set to a short reason. After -1 the iterator is at the end. has_value and err may be
   NULL. */
int cmdline_next(struct cmdline_iter *it, char key[CMDLINE_KEY_MAX], char value[CMDLINE_VALUE_MAX],
                 bool *has_value, const char **err);

/* Looks key up in the whole string s; the last occurrence wins. Returns true with its value
   (""  for a bare word) copied into value[size] when found. Returns false when the key is
   absent, when s is malformed anywhere, or when the value does not fit in size bytes.
   value may be NULL (with size 0) to test for presence only. */
bool cmdline_get(const char *s, const char *key, char *value, size_t size);

/* Continues the iteration to the next key that is not one of known[0..n): returns 1 with key
   set, 0 at the end, -1 on malformed input with err set (err may be NULL). A bare word that
   starts with '/' (a kernel path some loaders prepend) is not a key and never returned. */
int cmdline_next_unknown(struct cmdline_iter *it, const char *const *known, size_t n,
                         char key[CMDLINE_KEY_MAX], const char **err);

/* Parses a decimal or 0x-hex unsigned integer with optional K/M/G suffix (binary units when
   `allow_suffix`; either case). Returns 0 or -1 (empty, junk, overflow). */
int cmdline_parse_u64(const char *s, bool allow_suffix, uint64_t *out);
