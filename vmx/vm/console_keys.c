/* The console's key logic: focus switching and debug keys (vmx/vm/console_keys.h). */
#include "vmx/vm/console_keys.h"

bool focus_keys_feed(struct focus_keys *k, uint8_t byte, uint8_t out[CONSOLE_FOCUS_PRESSES],
                     unsigned *n)
{
    *n = 0;
    if (byte == CONSOLE_KEY_CTRL_A) {
        if (++k->ctrl_a < CONSOLE_FOCUS_PRESSES)
            return false;
        k->ctrl_a = 0;
        return true;
    }
    for (unsigned i = 0; i < k->ctrl_a; i++)
        out[(*n)++] = CONSOLE_KEY_CTRL_A;
    out[(*n)++] = byte;
    k->ctrl_a = 0;
    return false;
}

const struct debug_key_info debug_key_table[] = {
    {'h', DEBUG_KEY_HELP, false, "list the debug keys"},
    {'g', DEBUG_KEY_GUESTS, false, "every guest: state, vCPU RIP/CPL/mode, exits, time used"},
    {'e', DEBUG_KEY_EXITS, false, "exit statistics by reason"},
    {'v', DEBUG_KEY_VMCS, true, "N: the decoded VMCS of guest N (its number in g)"},
    {'m', DEBUG_KEY_MEMORY, false, "memory: free frames, frames of each guest"},
    {'t', DEBUG_KEY_TIME, false, "TSC and uptime"},
    {'k', DEBUG_KEY_KILL, true, "N: end guest N, verdict killed(console)"},
};
const unsigned debug_key_count = sizeof(debug_key_table) / sizeof(debug_key_table[0]);

static const struct debug_key_info *find_key(uint8_t key)
{
    for (unsigned i = 0; i < debug_key_count; i++)
        if (debug_key_table[i].key == key)
            return &debug_key_table[i];
    return 0;
}

static bool is_blank(uint8_t byte)
{
    return byte == ' ' || byte == '\r' || byte == '\n' || byte == '\t';
}

struct debug_key_cmd debug_keys_feed(struct debug_keys *d, uint8_t byte)
{
    struct debug_key_cmd cmd = {DEBUG_KEY_NONE, byte, 0};
    if (d->pending) {
        cmd.key = d->pending;
        d->pending = 0;
        if (byte >= '0' && byte <= '9') {
            cmd.action = find_key(cmd.key)->action;
            cmd.guest = (unsigned)(byte - '0');
        } else {
            cmd.action = DEBUG_KEY_CANCELLED;
        }
        return cmd;
    }
    if (is_blank(byte))
        return cmd;
    const struct debug_key_info *info = find_key(byte);
    if (!info) {
        cmd.action = DEBUG_KEY_UNKNOWN;
    } else if (info->takes_guest) {
        d->pending = byte;
        cmd.action = DEBUG_KEY_ASK_GUEST;
    } else {
        cmd.action = info->action;
    }
    return cmd;
}
