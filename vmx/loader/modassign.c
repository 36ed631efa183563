/* Module roles: guests and their data modules (see modassign.h). */
#include "vmx/loader/modassign.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

#define NO_GUEST ((size_t)-1)

/* The name guest module i is reported under: vm_create falls back to guestN on a refused
   command line, so lookups must too. */
static void guest_name(const struct module_input *mod, unsigned i, char name[GUEST_NAME_MAX])
{
    struct guest_config cfg;
    char err[MODASSIGN_WHY_MAX];
    if (modargs_parse(mod->cmdline, i, &cfg, err, sizeof(err)) != 0)
        fmt_snprintf(cfg.name, sizeof(cfg.name), "guest%u", i);
    memcpy(name, cfg.name, sizeof(cfg.name));
}

static void reject(struct module_assignment *a, unsigned i, const char *why)
{
    a->role = MODULE_REJECTED;
    fmt_snprintf(a->name, sizeof(a->name), "module%u", i);
    fmt_snprintf(a->why, sizeof(a->why), "%s", why);
}

/* The module index of the guest called `name`, NO_GUEST when none; *twice when two are. */
static size_t find_guest(const struct module_assignment *out, size_t n, const char *name,
                         size_t *twice)
{
    size_t found = NO_GUEST;
    *twice = NO_GUEST;
    for (size_t j = 0; j < n; j++) {
        if (out[j].role != MODULE_GUEST || strcmp(out[j].name, name) != 0)
            continue;
        if (found != NO_GUEST) {
            *twice = j;
            break;
        }
        found = j;
    }
    return found;
}

static void attach(struct module_assignment *out, size_t n, unsigned i)
{
    struct module_assignment *a = &out[i];
    char why[MODASSIGN_WHY_MAX];
    size_t twice;
    size_t owner = find_guest(out, n, a->data.owner, &twice);
    if (owner == NO_GUEST) {
        fmt_snprintf(why, sizeof(why), "initrd-for=%s names no guest", a->data.owner);
        reject(a, i, why);
    } else if (twice != NO_GUEST) {
        fmt_snprintf(why, sizeof(why), "initrd-for=%s names two guests (modules %zu and %zu)",
                     a->data.owner, owner, twice);
        reject(a, i, why);
    } else {
        a->owner = (unsigned)owner;
        memcpy(a->name, a->data.owner, sizeof(a->name));
    }
}

void modassign(const struct module_input *in, size_t n, struct module_assignment *out)
{
    char why[MODASSIGN_WHY_MAX];
    for (size_t i = 0; i < n; i++) {
        struct module_assignment *a = &out[i];
        memset(a, 0, sizeof(*a));
        int kind = modargs_classify(in[i].cmdline, &a->data, why, sizeof(why));
        if (kind < 0)
            reject(a, (unsigned)i, why);
        else if (kind == MODARGS_DATA)
            a->role = MODULE_DATA;
        else {
            a->role = MODULE_GUEST;
            guest_name(&in[i], (unsigned)i, a->name);
        }
    }
    /* Owners are looked up once every guest is known: a data module may precede its guest. */
    for (size_t i = 0; i < n; i++)
        if (out[i].role == MODULE_DATA)
            attach(out, n, (unsigned)i);
}

size_t modassign_modules_of(const struct module_assignment *a, const struct module_input *in,
                            size_t n, unsigned guest, struct loader_module *mods, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < n && count < max; i++) {
        if (a[i].role != MODULE_DATA || a[i].owner != guest)
            continue;
        mods[count++] = (struct loader_module){in[i].data,        in[i].len,          in[i].cmdline,
                                               a[i].data.omit_at, a[i].data.omit_len, (unsigned)i};
    }
    return count;
}
