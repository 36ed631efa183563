/* isa-debug-exit and the ACPI power-off port (drivers/vdev/power.h). */
#include "drivers/vdev/power.h"
#include "kernel/lib/fmt.h"

#define VERDICT_MAX 32

static void debug_exit_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    const struct vdev_power *p = dev;
    char verdict[VERDICT_MAX];
    (void)port, (void)size;
    fmt_snprintf(verdict, sizeof(verdict), "exit(%u)", value);
    p->host->end_vm(p->host->ctx, verdict);
}

static void acpi_pm_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    const struct vdev_power *p = dev;
    if (port == VDEV_ACPI_PM1A_CNT && size == 2 && value == VDEV_ACPI_SLEEP_S5)
        p->host->end_vm(p->host->ctx, "exit(0)");
}

static uint32_t acpi_pm_in(void *dev, uint16_t port, unsigned size)
{
    (void)dev, (void)port, (void)size;
    return 0;
}

/* PM1_STS (0x600-0x601) never has an event to report: it reads 0 and writes (which clear
   status bits) change nothing. PM1_EN (0x602-0x603) keeps what the guest enables (ACPI 6.4
   §4.8.3.1): Linux checks that the global-lock and RTC enables read back. */
static uint32_t acpi_event_in(void *dev, uint16_t port, unsigned size)
{
    const struct vdev_power *p = dev;
    unsigned off = (unsigned)(port - VDEV_ACPI_PM1A_EVT);
    uint32_t value = 0;
    for (unsigned i = 0; i < size && off + i < VDEV_ACPI_PM1A_EVT_LEN; i++)
        if (off + i >= VDEV_ACPI_PM1_EN_OFFSET)
            value |= ((uint32_t)(p->pm1_en >> (8 * (off + i - VDEV_ACPI_PM1_EN_OFFSET))) & 0xFF)
                     << (8 * i);
    return value;
}

static void acpi_event_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    struct vdev_power *p = dev;
    unsigned off = (unsigned)(port - VDEV_ACPI_PM1A_EVT);
    for (unsigned i = 0; i < size && off + i < VDEV_ACPI_PM1A_EVT_LEN; i++) {
        if (off + i < VDEV_ACPI_PM1_EN_OFFSET)
            continue;
        unsigned shift = 8 * (off + i - VDEV_ACPI_PM1_EN_OFFSET);
        uint32_t byte = (value >> (8 * i)) & 0xFF;
        p->pm1_en = (uint16_t)((p->pm1_en & ~(0xFFu << shift)) | (byte << shift));
    }
}

static const struct vdev_io_ops debug_exit_ops = {0, debug_exit_out};
static const struct vdev_io_ops acpi_event_ops = {acpi_event_in, acpi_event_out};
static const struct vdev_io_ops acpi_pm_ops = {acpi_pm_in, acpi_pm_out};

void vdev_power_init(struct vdev_power *p, const struct vdev_host *host)
{
    p->host = host;
    p->pm1_en = 0;
}

int vdev_power_attach(struct vdev_power *p, struct vdev_bus *bus)
{
    if (vdev_bus_add_io(bus, "isa-debug-exit", VDEV_DEBUG_EXIT_PORT, 1, &debug_exit_ops, p) ||
        vdev_bus_add_io(bus, "acpi-pm1a-cnt", VDEV_ACPI_PM1A_CNT, VDEV_ACPI_PM1A_LEN, &acpi_pm_ops,
                        p))
        return -1;
    return 0;
}

int vdev_power_attach_pm1a_events(struct vdev_power *p, struct vdev_bus *bus)
{
    return vdev_bus_add_io(bus, "acpi-pm1a-evt", VDEV_ACPI_PM1A_EVT, VDEV_ACPI_PM1A_EVT_LEN,
                           &acpi_event_ops, p);
}
