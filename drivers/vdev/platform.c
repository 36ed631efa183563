/* POST port, reset control and an empty PCI configuration space (drivers/vdev/platform.h). */
#include "drivers/vdev/platform.h"
#include "kernel/lib/string.h"

#define PCI_CONFIG_ADDR_WIDTH 4
#define PCI_NO_DEVICE         0xFFFFFFFFu

static void post_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    /* Writes are I/O delays or POST codes: they have no effect. */
    (void)dev, (void)port, (void)size, (void)value;
}

static uint32_t post_in(void *dev, uint16_t port, unsigned size)
{
    (void)dev, (void)port, (void)size;
    return 0xFFFFFFFFu;
}

static uint32_t reset_in(void *dev, uint16_t port, unsigned size)
{
    const struct vdev_platform *p = dev;
    (void)port, (void)size;
    return p->reset_ctl;
}

static void reset_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    struct vdev_platform *p = dev;
    (void)port, (void)size;
    uint8_t old = p->reset_ctl;
    p->reset_ctl = (uint8_t)(value & (VDEV_RESET_CTL_RST | VDEV_RESET_CTL_SYS));
    if (!(old & VDEV_RESET_CTL_RST) && (value & VDEV_RESET_CTL_RST))
        p->host->end_vm(p->host->ctx, "reset");
}

/* 0xCF8-0xCFB: a dword access at 0xCF8 is CONFIG_ADDRESS; a byte access at 0xCF9 is the reset
   control register (the chipset decodes them by size, ICH datasheet); anything else reads all
   ones and is ignored. */
static uint32_t pci_addr_in(void *dev, uint16_t port, unsigned size)
{
    const struct vdev_platform *p = dev;
    if (port == VDEV_PCI_CONFIG_ADDR && size == PCI_CONFIG_ADDR_WIDTH)
        return p->pci_address;
    if (port == VDEV_RESET_CTL_PORT && size == 1)
        return reset_in(dev, port, size);
    return 0xFFFFFFFFu;
}

static void pci_addr_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    struct vdev_platform *p = dev;
    if (port == VDEV_PCI_CONFIG_ADDR && size == PCI_CONFIG_ADDR_WIDTH)
        p->pci_address = value;
    else if (port == VDEV_RESET_CTL_PORT && size == 1)
        reset_out(dev, port, size, value);
}

static uint32_t pci_data_in(void *dev, uint16_t port, unsigned size)
{
    (void)dev, (void)port, (void)size;
    return PCI_NO_DEVICE; /* no bus, device or function answers */
}

static void pci_data_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    (void)dev, (void)port, (void)size, (void)value; /* nothing to configure */
}

static const struct vdev_io_ops post_ops = {post_in, post_out};
static const struct vdev_io_ops pci_addr_ops = {pci_addr_in, pci_addr_out};
static const struct vdev_io_ops pci_data_ops = {pci_data_in, pci_data_out};

void vdev_platform_init(struct vdev_platform *p, const struct vdev_host *host)
{
    memset(p, 0, sizeof(*p));
    p->host = host;
}

int vdev_platform_attach(struct vdev_platform *p, struct vdev_bus *bus)
{
    if (vdev_bus_add_io(bus, "post", VDEV_POST_PORT, 1, &post_ops, p) ||
        vdev_bus_add_io(bus, "pci-config-address+reset", VDEV_PCI_CONFIG_ADDR,
                        PCI_CONFIG_ADDR_WIDTH, &pci_addr_ops, p) ||
        vdev_bus_add_io(bus, "pci-config-data", VDEV_PCI_CONFIG_DATA, VDEV_PCI_DATA_PORTS,
                        &pci_data_ops, p))
        return -1;
    return 0;
}
