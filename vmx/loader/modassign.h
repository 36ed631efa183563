/*
 * Which multiboot2 modules are guests and which are data modules handed to a guest: a module
 * whose command line holds `initrd-for=NAME` is not a guest, it belongs to guest NAME, before or
 * after that guest's module in GRUB's list (docs/guest-abi.md §1, §4). Pure: reads command lines
 * only, so kmain keeps just the wiring.
 */
#pragma once
#include <stddef.h>
#include "vmx/loader/loader.h"
#include "vmx/loader/modargs.h"

#define MODASSIGN_WHY_MAX 96

enum module_role {
    MODULE_GUEST,    /* a guest of its own */
    MODULE_DATA,     /* handed to the guest at module index `owner` */
    MODULE_REJECTED, /* a data module that belongs to no guest: reported rejected(why) as `name` */
};

/* One multiboot2 module as hv found it. */
struct module_input {
    const void *data;
    size_t len;
    const char *cmdline;
};

struct module_assignment {
    enum module_role role;
    unsigned owner;              /* MODULE_DATA: module index of its guest */
    char name[GUEST_NAME_MAX];   /* GUEST: its name; DATA: its guest's; REJECTED: "moduleN" */
    struct modargs_data data;    /* MODULE_DATA: the initrd-for word */
    char why[MODASSIGN_WHY_MAX]; /* MODULE_REJECTED: the reason */
};

/* Assigns the n modules in[0..n) (GRUB's order): out[i] says what module i is. A guest's name is
   the one its verdict line carries (name=, or guestN when absent or when its command line is
   refused). A data module is rejected when initrd-for is malformed, names no guest, or names
   two guests. */
void modassign(const struct module_input *in, size_t n, struct module_assignment *out);

/* The data modules of the guest at module index `guest`, in GRUB's order, as loader modules in
   mods[0..max). Returns how many (at most max). */
size_t modassign_modules_of(const struct module_assignment *a, const struct module_input *in,
                            size_t n, unsigned guest, struct loader_module *mods, size_t max);
