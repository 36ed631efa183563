#include "vmx/exit/io.h"
#include "kernel/lib/x86.h"
#include "kernel/log.h"
#include "vmx/cpu/vmx_arch.h"

#define SEG_TYPE_CODE        (1u << 3) /* S = 1: code, else data (SDM vol. 3 §3.4.5.1) */
#define SEG_TYPE_CODE_READ   (1u << 1) /* code: readable */
#define SEG_TYPE_DATA_WRITE  (1u << 1) /* data: writable */
#define SEG_TYPE_DATA_EXPAND (1u << 2) /* data: expand-down */
#define LIMIT_16             0xFFFFull
#define LIMIT_32             0xFFFFFFFFull
#define CANONICAL_BITS       48

static bool canonical(uint64_t a)
{
    int64_t s = (int64_t)(a << (64 - CANONICAL_BITS)) >> (64 - CANONICAL_BITS);
    return (uint64_t)s == a;
}

/* SDM vol. 3 §5.3: expand-up segments hold [0, limit]; expand-down ones (limit, upper], upper
   being 0xFFFF or 0xFFFFFFFF by the B flag. */
static bool within_limit(uint32_t ar, uint32_t limit, uint64_t offset, unsigned size)
{
    uint64_t last = offset + size - 1;
    bool data = !(ar & SEG_TYPE_CODE);
    if (data && (ar & SEG_TYPE_DATA_EXPAND)) {
        uint64_t upper = (ar & SEG_AR_DB) ? LIMIT_32 : LIMIT_16;
        return offset > limit && last <= upper;
    }
    return last <= limit;
}

/* SDM vol. 3 §5.4-§5.5: NULL selectors and the type rules (no writes to code or read-only
   data, no reads of execute-only code). */
static bool type_allows(uint32_t ar, bool write)
{
    if ((ar & SEG_AR_UNUSABLE) || !(ar & SEG_AR_S))
        return false;
    if (ar & SEG_TYPE_CODE)
        return !write && (ar & SEG_TYPE_CODE_READ);
    return !write || (ar & SEG_TYPE_DATA_WRITE);
}

int io_segment_check(const struct io_segment *s, enum io_cpu_mode mode, uint64_t offset,
                     uint64_t linear, unsigned size, bool write)
{
    int fault = s->is_ss ? EXC_SS : EXC_GP;
    switch (mode) {
    case IO_MODE_64:
        return canonical(linear) && canonical(linear + size - 1) ? -1 : fault;
    case IO_MODE_PROTECTED:
        if (!type_allows(s->ar, write))
            return fault;
        return within_limit(s->ar, s->limit, offset, size) ? -1 : fault;
    case IO_MODE_REAL:
    default:
        return offset + size - 1 <= s->limit ? -1 : fault;
    }
}

int io_decode(uint64_t q, struct io_access *out)
{
    unsigned size = (unsigned)(q & IO_QUAL_SIZE_MASK) + 1;
    if (size != 1 && size != 2 && size != 4)
        return -1;
    out->size = (uint8_t)size;
    out->in = q & IO_QUAL_IN;
    out->string = q & IO_QUAL_STRING;
    out->rep = q & IO_QUAL_REP;
    out->immediate = q & IO_QUAL_IMMEDIATE;
    out->port = (uint16_t)(q >> IO_QUAL_PORT_SHIFT);
    return 0;
}
