#include "vmx/io.h"
#include "kernel/log.h"
#include "vmx/vm.h"

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

int io_register(struct vm *vm, const struct io_device *dev)
{
    if (vm->io_device_count == VM_IO_DEVICES || !dev->count ||
        (uint32_t)dev->base + dev->count > IO_PORT_COUNT)
        return -1;
    for (unsigned i = 0; i < vm->io_device_count; i++) {
        const struct io_device *d = vm->io_devices[i];
        if (dev->base < d->base + d->count && d->base < dev->base + dev->count)
            return -1;
    }
    vm->io_devices[vm->io_device_count++] = dev;
    return 0;
}

static const struct io_device *find_device(const struct vm *vm, uint16_t port)
{
    for (unsigned i = 0; i < vm->io_device_count; i++) {
        const struct io_device *d = vm->io_devices[i];
        if (port >= d->base && port - d->base < d->count)
            return d;
    }
    return 0;
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

/* No port reaches real hardware: an unclaimed one reads as all ones and drops writes. Each port
   is logged once, and at most IO_UNCLAIMED_LOG_MAX ports per guest: a port scan must not flood
   hv's console (65536 lines would take minutes at 115200 baud). */
#define IO_UNCLAIMED_LOG_MAX 16

static void warn_unclaimed(struct vm *vm, uint16_t port, const char *what)
{
    uint8_t bit = (uint8_t)(1u << (port % 8));
    if (vm->warned_ports[port / 8] & bit)
        return;
    vm->warned_ports[port / 8] |= bit;
    if (++vm->unclaimed_ports_seen > IO_UNCLAIMED_LOG_MAX)
        return;
    log_info("vm %s: %s of unclaimed port 0x%x (reads all ones, writes dropped)", vm->cfg.name,
             what, port);
    if (vm->unclaimed_ports_seen == IO_UNCLAIMED_LOG_MAX)
        log_info("vm %s: further unclaimed ports are not logged", vm->cfg.name);
}

uint32_t io_port_in(struct vm *vm, uint16_t port, unsigned size)
{
    const struct io_device *d = find_device(vm, port);
    if (d && d->in)
        return d->in(vm, port, size) & size_mask(size);
    warn_unclaimed(vm, port, "IN");
    return size_mask(size);
}

void io_port_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    const struct io_device *d = find_device(vm, port);
    if (d && d->out)
        d->out(vm, port, size, value & size_mask(size));
    else
        warn_unclaimed(vm, port, "OUT");
}
