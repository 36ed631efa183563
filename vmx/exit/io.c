#include "vmx/exit/io.h"
#include "kernel/log.h"

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
