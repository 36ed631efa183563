/* The device bus: port and MMIO ranges -> device (drivers/vdev/vdev.h). */
#include "drivers/vdev/vdev.h"
#include "kernel/log.h"
#include "kernel/lib/string.h"

void vdev_bus_init(struct vdev_bus *bus, const struct vdev_host *host)
{
    memset(bus, 0, sizeof(*bus));
    bus->host = host;
}

int vdev_bus_add_io(struct vdev_bus *bus, const char *name, uint16_t base, uint16_t count,
                    const struct vdev_io_ops *ops, void *dev)
{
    if (bus->io_count == VDEV_MAX_IO || !count || (uint32_t)base + count > VDEV_IO_PORTS)
        return -1;
    for (uint32_t p = base; p < (uint32_t)base + count; p++)
        if (bus->port_map[p])
            return -1;
    bus->io[bus->io_count] = (struct vdev_io_range){name, base, count, ops, dev};
    bus->io_count++;
    memset(&bus->port_map[base], (int)bus->io_count, count);
    return 0;
}

int vdev_bus_add_mmio_banked(struct vdev_bus *bus, const char *name, uint64_t base, uint64_t size,
                             const struct vdev_mmio_ops *ops, void *devs, size_t stride,
                             unsigned banks)
{
    if (bus->mmio_count == VDEV_MAX_MMIO || !size || base + size < base)
        return -1;
    for (unsigned i = 0; i < bus->mmio_count; i++) {
        const struct vdev_mmio_range *m = &bus->mmio[i];
        if (base < m->base + m->size && m->base < base + size)
            return -1;
    }
    bus->mmio[bus->mmio_count++] =
        (struct vdev_mmio_range){name, base, size, ops, devs, stride, banks};
    return 0;
}

int vdev_bus_add_mmio(struct vdev_bus *bus, const char *name, uint64_t base, uint64_t size,
                      const struct vdev_mmio_ops *ops, void *dev)
{
    return vdev_bus_add_mmio_banked(bus, name, base, size, ops, dev, 0, 0);
}

int vdev_mmio_dev(const struct vdev_mmio_range *r, unsigned vcpu, void **dev)
{
    if (!r->banks) {
        *dev = r->dev;
        return 0;
    }
    if (vcpu >= r->banks)
        return -1;
    *dev = (char *)r->dev + (size_t)vcpu * r->bank_stride;
    return 0;
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void warn_unclaimed(struct vdev_bus *bus, uint16_t port, const char *what)
{
    uint8_t bit = (uint8_t)(1u << (port % 8));
    if (bus->warned_ports[port / 8] & bit)
        return;
    bus->warned_ports[port / 8] |= bit;
    if (++bus->unclaimed_seen > VDEV_UNCLAIMED_LOG_MAX)
        return;
    const char *vm = bus->host ? bus->host->name : "?";
    log_info("vm %s: %s of unclaimed port 0x%x (reads all ones, writes dropped)", vm, what, port);
    if (bus->unclaimed_seen == VDEV_UNCLAIMED_LOG_MAX)
        log_info("vm %s: further unclaimed ports are not logged", vm);
}

static const struct vdev_io_range *io_range(const struct vdev_bus *bus, uint16_t port)
{
    unsigned slot = bus->port_map[port];
    return slot ? &bus->io[slot - 1] : 0;
}

uint32_t vdev_bus_in(struct vdev_bus *bus, uint16_t port, unsigned size)
{
    const struct vdev_io_range *r = io_range(bus, port);
    if (r && r->ops->in)
        return r->ops->in(r->dev, port, size) & size_mask(size);
    warn_unclaimed(bus, port, "IN"); /* also a claimed port with no read side */
    return size_mask(size);
}

void vdev_bus_out(struct vdev_bus *bus, uint16_t port, unsigned size, uint32_t value)
{
    const struct vdev_io_range *r = io_range(bus, port);
    if (r && r->ops->out)
        r->ops->out(r->dev, port, size, value & size_mask(size));
    else
        warn_unclaimed(bus, port, "OUT");
}

const struct vdev_mmio_range *vdev_bus_find_mmio(const struct vdev_bus *bus, uint64_t gpa,
                                                 unsigned size)
{
    for (unsigned i = 0; i < bus->mmio_count; i++) {
        const struct vdev_mmio_range *m = &bus->mmio[i];
        if (gpa >= m->base && gpa - m->base < m->size && size <= m->size - (gpa - m->base))
            return m;
    }
    return 0;
}
