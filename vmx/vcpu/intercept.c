/* I/O and MSR intercept bitmaps (SDM vol. 3 §25.6.4, §25.6.9). */
#include "vmx/vcpu/intercept.h"
#include "mm/layout.h"
#include "vmx/vcpu/guest.h"

#define BITS_PER_BYTE 8u
#define PORT_LIMIT    0x10000u

/* MSR bitmap layout (§25.6.9): four 1 KiB quarters, one bit per MSR. */
#define MSR_LOW_FIRST      0x00000000u
#define MSR_HIGH_FIRST     0xC0000000u
#define MSR_RANGE_SIZE     0x2000u
#define MSR_READ_LOW_OFF   0u
#define MSR_READ_HIGH_OFF  1024u
#define MSR_WRITE_LOW_OFF  2048u
#define MSR_WRITE_HIGH_OFF 3072u

static void set_bit(uint8_t *bitmap, uint32_t bit, bool on)
{
    uint8_t mask = (uint8_t)(1u << (bit % BITS_PER_BYTE));
    if (on)
        bitmap[bit / BITS_PER_BYTE] |= mask;
    else
        bitmap[bit / BITS_PER_BYTE] &= (uint8_t)~mask;
}

static bool test_bit(const uint8_t *bitmap, uint32_t bit)
{
    return bitmap[bit / BITS_PER_BYTE] & (1u << (bit % BITS_PER_BYTE));
}

int intercept_io(uint8_t *bitmap_a, uint8_t *bitmap_b, uint32_t port, uint32_t count, bool on)
{
    if (port >= PORT_LIMIT || count > PORT_LIMIT - port)
        return -1;
    for (uint32_t p = port; p < port + count; p++) {
        if (p < IO_BITMAP_PORTS)
            set_bit(bitmap_a, p, on);
        else
            set_bit(bitmap_b, p - IO_BITMAP_PORTS, on);
    }
    return 0;
}

bool intercept_io_is(const uint8_t *bitmap_a, const uint8_t *bitmap_b, uint32_t port)
{
    if (port >= PORT_LIMIT)
        return true;
    if (port < IO_BITMAP_PORTS)
        return test_bit(bitmap_a, port);
    return test_bit(bitmap_b, port - IO_BITMAP_PORTS);
}

/* Byte offsets of the MSR's read and write quarters and its bit inside them; -1 when the
   bitmap does not cover it. */
static int msr_position(uint32_t msr, uint32_t *read_off, uint32_t *write_off, uint32_t *bit)
{
    if (msr - MSR_LOW_FIRST < MSR_RANGE_SIZE) {
        *read_off = MSR_READ_LOW_OFF;
        *write_off = MSR_WRITE_LOW_OFF;
        *bit = msr - MSR_LOW_FIRST;
        return 0;
    }
    if (msr - MSR_HIGH_FIRST < MSR_RANGE_SIZE) {
        *read_off = MSR_READ_HIGH_OFF;
        *write_off = MSR_WRITE_HIGH_OFF;
        *bit = msr - MSR_HIGH_FIRST;
        return 0;
    }
    return -1;
}

int intercept_msr(uint8_t *msr_bitmap, uint32_t msr, bool read, bool write)
{
    uint32_t read_off, write_off, bit;
    if (msr_position(msr, &read_off, &write_off, &bit))
        return -1;
    set_bit(msr_bitmap + read_off, bit, read);
    set_bit(msr_bitmap + write_off, bit, write);
    return 0;
}

bool intercept_msr_is(const uint8_t *msr_bitmap, uint32_t msr, bool write)
{
    uint32_t read_off, write_off, bit;
    if (msr_position(msr, &read_off, &write_off, &bit))
        return true;
    return test_bit(msr_bitmap + (write ? write_off : read_off), bit);
}

int vcpu_set_io_intercept(struct vcpu *v, uint32_t port, uint32_t count, bool on)
{
    const struct guest *g = v->guest;
    return intercept_io(phys_to_virt(g->io_bitmap[0]), phys_to_virt(g->io_bitmap[1]), port, count,
                        on);
}

int vcpu_set_msr_intercept(struct vcpu *v, uint32_t msr, bool read, bool write)
{
    return intercept_msr(phys_to_virt(v->guest->msr_bitmap), msr, read, write);
}
