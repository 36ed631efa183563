/* Port I/O exits: exit-qualification decoding (SDM vol. 3 §28.1.3, Table 28-5). The ports
   themselves belong to the device bus (drivers/vdev/vdev.h). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

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

/* The checks an INS/OUTS element's memory operand owes before the access: the VM exit comes
   before them (SDM vol. 3 §26.1.1), so hv makes them. */
enum io_cpu_mode {
    IO_MODE_REAL,      /* real-address and virtual-8086 mode: the limit only */
    IO_MODE_PROTECTED, /* protected and compatibility mode: NULL, type and limit */
    IO_MODE_64,        /* 64-bit mode: no segment checks, the address must be canonical */
};
struct io_segment {
    uint32_t ar;    /* VMCS access-rights format (SDM vol. 3 §25.4.1, Table 25-2) */
    uint32_t limit; /* in bytes (the VMCS holds the limit already scaled by G) */
    bool is_ss;     /* faults through SS are #SS, the others #GP (SDM vol. 3 §6.15) */
};
/* Returns -1 when the `size`-byte access at `offset` in the segment (at `linear`) may proceed,
   else the exception vector (EXC_GP or EXC_SS, error code 0). `write`: INS stores to ES. */
int io_segment_check(const struct io_segment *s, enum io_cpu_mode mode, uint64_t offset,
                     uint64_t linear, unsigned size, bool write);
