/*
 * A guest module's command line: `key=value` words (kernel/cmdline.h) that configure one
 * guest. The keys, their defaults and limits are part of the guest ABI (docs/guest-abi.md).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_NAME_MAX        32   /* buffer size: names are 1..31 characters */
#define GUEST_CMDLINE_MAX     2048 /* buffer size: Linux guests' command lines, up to 2047 */
#define GUEST_ABI_CMDLINE_MAX 256  /* buffer size: hv-ABI guests' command lines are at most 255 */
#define GUEST_EXPECT_MAX      64   /* buffer size: expect= is at most 63 characters */
#define GUEST_MEM_DEFAULT     (16ull << 20)
#define GUEST_MEM_MIN         (1ull << 20)
#define GUEST_MEM_MAX         (64ull << 30)
#define GUEST_MEM_ALIGN       4096ull
#define GUEST_TIMEOUT_MAX_S   86400u
#define GUEST_VCPUS_MAX       8u
#define GUEST_REAL_MODE_LIMIT (1ull << 20) /* real-mode code only addresses the first MiB */

enum guest_mode { GUEST_MODE_AUTO = 0, GUEST_MODE_REAL = 1 };

struct guest_config {
    char name[GUEST_NAME_MAX];
    uint64_t mem;       /* bytes of guest RAM */
    uint32_t timeout_s; /* 0 = no timeout */
    char cmdline[GUEST_CMDLINE_MAX];
    enum guest_mode mode;
    bool has_entry, has_load;
    uint64_t entry, load; /* mode=real only */
    unsigned vcpus;
    uint32_t cpus; /* cpus=LIST: bit n = hv CPU n may run the guest's vCPUs; 0 = not given (any) */
    char expect[GUEST_EXPECT_MAX];
    bool console_focus; /* console=focus: the console's first focus */
};

/* Parses a module command line into *cfg (defaults for absent keys; `index` names the guest
   "guestN" by default). Returns 0, or -1 with `err` set to a short reason ("unknown key 'foo'",
   "bad value for mem: 'x'", "mem 512K below the 1M minimum", ...). An unknown key or a bad
   value is an error. A first word that starts with '/' and has no '=' (the module path GRUB
   may pass) is ignored. */
int modargs_parse(const char *cmdline, unsigned index, struct guest_config *cfg, char *err,
                  size_t errlen);

/* A data module: one whose command line holds `initrd-for=NAME` (docs/guest-abi.md §1). It is
   not a guest; it is handed to guest NAME, with the command line minus that word as its string:
   the bytes [omit_at, omit_at + omit_len) (the word and the blanks after it, or before it when
   it is the last word) are left out. */
struct modargs_data {
    char owner[GUEST_NAME_MAX];
    size_t omit_at, omit_len;
};

enum modargs_kind { MODARGS_GUEST = 0, MODARGS_DATA = 1 };

/* Tells a guest module from a data module. Returns MODARGS_DATA with *data filled when the line
   holds one valid `initrd-for=NAME` word; MODARGS_GUEST when it holds none (also when the line
   is malformed before any initrd-for word: modargs_parse then reports it); -1 with err set when
   initrd-for is malformed: no value, a bad name, given twice, or a malformed line. The other
   words of a data module are its string, not guest keys: they are not interpreted. */
int modargs_classify(const char *cmdline, struct modargs_data *data, char *err, size_t errlen);
