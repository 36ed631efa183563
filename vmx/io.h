/* Port I/O for guests: exit-qualification decoding (SDM vol. 3 §28.1.3, Table 28-5) and
   per-VM port handlers registered by range. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vm;

#define IO_QUAL_SIZE_MASK  0x7u /* size - 1 */
#define IO_QUAL_IN         (1u << 3)
#define IO_QUAL_STRING     (1u << 4)
#define IO_QUAL_REP        (1u << 5)
#define IO_QUAL_IMMEDIATE  (1u << 6)
#define IO_QUAL_PORT_SHIFT 16
/* INS/OUTS instruction information (SDM vol. 3 Table 28-8) */
#define IO_INFO_ADDR_SIZE(i) (((i) >> 7) & 7u)  /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
#define IO_INFO_SEGMENT(i)   (((i) >> 15) & 7u) /* 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS */

struct io_access {
    uint16_t port;
    uint8_t size; /* 1, 2 or 4 */
    bool in, string, rep, immediate;
};

/* Returns 0, or -1 for a qualification no CPU produces (size 3 or > 4). */
int io_decode(uint64_t qualification, struct io_access *out);

struct io_device {
    const char *name;
    uint16_t base, count;
    uint32_t (*in)(struct vm *vm, uint16_t port, unsigned size);
    void (*out)(struct vm *vm, uint16_t port, unsigned size, uint32_t value);
};

#define VM_IO_DEVICES 8

/* Registers a device for [base, base+count); -1 when the range overlaps or the table is full. */
int io_register(struct vm *vm, const struct io_device *dev);
/* One port access of `size` bytes: the claiming device, or all ones / dropped (logged once). */
uint32_t io_port_in(struct vm *vm, uint16_t port, unsigned size);
void io_port_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value);
