/*
 * The keys typed on hv's console, before they go anywhere (issue 13). Pure logic, no I/O.
 *
 * Focus switching, the Xen convention: Ctrl-A pressed three times in a row moves the console
 * focus (to the next live guest, after the last one to hv). Fewer Ctrl-As followed by another
 * key are not lost: they are passed on with that key, so a shell's Ctrl-A still works (one key
 * late).
 *
 * Debug keys, while hv has the focus: one letter each (debug_key_table); `v` and `k` then take
 * the guest's number as `g` lists it (one digit), any other key cancels them.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define CONSOLE_KEY_CTRL_A    0x01
#define CONSOLE_FOCUS_PRESSES 3 /* Ctrl-As in a row that switch the focus */

struct focus_keys {
    unsigned ctrl_a; /* Ctrl-As held back, 0..CONSOLE_FOCUS_PRESSES-1 */
};

/* One typed byte. Returns true when it completes the switch sequence (nothing to pass on);
   else *n bytes of out (the held-back Ctrl-As, then this byte; none while Ctrl-As are held)
   are what the focus gets. */
bool focus_keys_feed(struct focus_keys *k, uint8_t byte, uint8_t out[CONSOLE_FOCUS_PRESSES],
                     unsigned *n);

enum debug_key_action {
    DEBUG_KEY_NONE,      /* whitespace, or a line ending: nothing to do */
    DEBUG_KEY_HELP,      /* h: list the keys */
    DEBUG_KEY_GUESTS,    /* g: every guest, its state, vCPU RIP/CPL/mode, exits, time used */
    DEBUG_KEY_EXITS,     /* e: exit statistics by reason */
    DEBUG_KEY_VMCS,      /* v N: guest N's VMCS, decoded */
    DEBUG_KEY_MEMORY,    /* m: free frames, frames per guest */
    DEBUG_KEY_TIME,      /* t: TSC and uptime */
    DEBUG_KEY_KILL,      /* k N: end guest N with killed(console) */
    DEBUG_KEY_ASK_GUEST, /* v or k: which guest? */
    DEBUG_KEY_CANCELLED, /* v or k followed by something other than a digit */
    DEBUG_KEY_UNKNOWN,   /* not a debug key */
};

struct debug_key_cmd {
    enum debug_key_action action;
    uint8_t key;    /* the key typed (for ASK_GUEST / CANCELLED / UNKNOWN: the letter) */
    unsigned guest; /* VMCS, KILL: the guest's number */
};

struct debug_keys {
    uint8_t pending; /* 'v' or 'k' waiting for a guest number, or 0 */
};

struct debug_key_info {
    uint8_t key;
    enum debug_key_action action;
    bool takes_guest;
    const char *help;
};
extern const struct debug_key_info debug_key_table[];
extern const unsigned debug_key_count;

struct debug_key_cmd debug_keys_feed(struct debug_keys *d, uint8_t byte);
