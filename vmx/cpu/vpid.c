#include "vmx/cpu/vpid.h"
#include <stdbool.h>
#include "kernel/panic.h"
#include "kernel/spinlock.h"

#define VPID_COUNT   (VPID_MAX + 1)
#define WORD_BITS    64
#define BITMAP_WORDS (VPID_COUNT / WORD_BITS)
#define HOST_VPID    0
#define ALL_BITS_SET (~0ull)
/* Bit 0 of word 0 stands for VPID 0, the host's: permanently "in use". */
#define HOST_VPID_WORD 0
#define HOST_VPID_BIT  (1ull << HOST_VPID)

static uint64_t in_use[BITMAP_WORDS] = {[HOST_VPID_WORD] = HOST_VPID_BIT};
static struct spinlock vpid_lock;

static uint64_t vpid_bit(uint16_t vpid)
{
    return 1ull << (vpid % WORD_BITS);
}

uint16_t vpid_alloc(void)
{
    uint16_t vpid = 0;
    spin_lock(&vpid_lock);
    for (unsigned w = 0; w < BITMAP_WORDS; w++) {
        if (in_use[w] != ALL_BITS_SET) {
            unsigned bit = (unsigned)__builtin_ctzll(~in_use[w]);
            vpid = (uint16_t)(w * WORD_BITS + bit);
            in_use[w] |= vpid_bit(vpid);
            break;
        }
    }
    spin_unlock(&vpid_lock);
    return vpid;
}

void vpid_free(uint16_t vpid)
{
    if (vpid == HOST_VPID)
        panic("vpid_free: VPID 0 is the host's and never allocated");
    spin_lock(&vpid_lock);
    bool allocated = in_use[vpid / WORD_BITS] & vpid_bit(vpid);
    if (allocated)
        in_use[vpid / WORD_BITS] &= ~vpid_bit(vpid);
    spin_unlock(&vpid_lock);
    if (!allocated)
        panic("vpid_free: VPID %u is not allocated", (unsigned)vpid);
}

#ifdef HV_HOST_TEST
void vpid_reset_for_test(void)
{
    for (unsigned w = 0; w < BITMAP_WORDS; w++)
        in_use[w] = 0;
    in_use[HOST_VPID_WORD] = HOST_VPID_BIT;
    spin_unlock(&vpid_lock);
}
#endif
