/* Interrupt lines from devices to the interrupt controllers (drivers/vdev/vdev.h). */
#include "drivers/vdev/vdev.h"
#include "kernel/lib/string.h"

void vdev_irq_init(struct vdev_irq_router *r)
{
    memset(r, 0, sizeof(*r));
}

int vdev_irq_add_sink(struct vdev_irq_router *r, const struct vdev_irq_sink *sink)
{
    if (r->sink_count == VDEV_MAX_IRQ_SINKS)
        return -1;
    r->sinks[r->sink_count++] = *sink;
    return 0;
}

unsigned vdev_isa_to_gsi(unsigned irq)
{
    return irq == VDEV_IRQ_PIT ? VDEV_GSI_PIT : irq;
}

void vdev_irq_set(struct vdev_irq_router *r, unsigned irq, bool asserted)
{
    if (irq >= VDEV_ISA_IRQS)
        return;
    uint32_t bit = 1u << irq;
    if (!!(r->isa_level & bit) == asserted)
        return;
    r->isa_level = asserted ? r->isa_level | bit : r->isa_level & ~bit;
    for (unsigned i = 0; i < r->sink_count; i++) {
        const struct vdev_irq_sink *s = &r->sinks[i];
        s->set_line(s->ctl, s->space == VDEV_IRQ_ISA ? irq : vdev_isa_to_gsi(irq), asserted);
    }
}

void vdev_irq_pulse(struct vdev_irq_router *r, unsigned irq)
{
    vdev_irq_set(r, irq, false);
    vdev_irq_set(r, irq, true);
    vdev_irq_set(r, irq, false);
}
