/* Which local APICs an interrupt message names (drivers/vdev/vapic_dest.h; SDM APIC 10.6.2,
   10.12.10). */
#include "drivers/vdev/vapic_dest.h"

#define XAPIC_CLUSTER_SHIFT     4    /* cluster model: cluster in bits 7:4 */
#define XAPIC_CLUSTER_MEMBERS   0xFu /* cluster model: members in bits 3:0 */
#define X2APIC_CLUSTER_SHIFT    16   /* cluster in bits 31:16 */
#define X2APIC_CLUSTER_MEMBERS  0xFFFFu
#define X2APIC_ID_CLUSTER_SHIFT 4    /* an x2APIC ID's cluster: bits 19:4 */
#define X2APIC_ID_MEMBER_MASK   0xFu /* and its member bit number: bits 3:0 */

uint32_t vapic_x2apic_ldr(uint32_t id)
{
    return ((id >> X2APIC_ID_CLUSTER_SHIFT) << X2APIC_CLUSTER_SHIFT) |
           (1u << (id & X2APIC_ID_MEMBER_MASK));
}

/* SDM APIC 10.6.2.2: the 8-bit destination against LDR[31:24], flat or cluster as DFR says. */
static bool xapic_logical_names(const struct vlapic *a, uint32_t dest)
{
    uint32_t lid = a->ldr >> APIC_ID_SHIFT;
    if ((a->dfr & APIC_DFR_MODEL_MASK) == APIC_DFR_MODEL_MASK) /* flat model */
        return (dest & lid) != 0;
    return (dest >> XAPIC_CLUSTER_SHIFT) == (lid >> XAPIC_CLUSTER_SHIFT) &&
           (dest & lid & XAPIC_CLUSTER_MEMBERS) != 0; /* cluster model */
}

/* SDM APIC 10.12.10.2: the cluster must match and the member bit be set. */
static bool x2apic_logical_names(const struct vlapic *a, uint32_t dest)
{
    uint32_t ldr = vapic_x2apic_ldr(a->apic_id);
    return (dest >> X2APIC_CLUSTER_SHIFT) == (ldr >> X2APIC_CLUSTER_SHIFT) &&
           (dest & ldr & X2APIC_CLUSTER_MEMBERS) != 0;
}

bool vapic_dest_names(const struct vlapic *a, const struct vapic_dest *d)
{
    if (d->x2apic) {
        if (d->dest == X2APIC_BROADCAST)
            return true;
        return d->logical ? x2apic_logical_names(a, d->dest) : d->dest == a->apic_id;
    }
    uint32_t dest = d->dest & XAPIC_BROADCAST;
    if (dest == XAPIC_BROADCAST)
        return true; /* physical and logical alike (SDM APIC 10.6.2.1, 10.6.2.2) */
    return d->logical ? xapic_logical_names(a, dest) : dest == a->apic_id;
}

static vapic_set all_of(unsigned count)
{
    return count >= VAPIC_SET_MAX ? UINT32_MAX : (1u << count) - 1;
}

static vapic_set only(unsigned index, unsigned count)
{
    return index < count ? 1u << index : 0;
}

vapic_set vapic_dest_set(const struct vlapic *apics, unsigned count, unsigned sender,
                         const struct vapic_dest *d)
{
    if (count > VAPIC_SET_MAX)
        count = VAPIC_SET_MAX;
    switch (d->shorthand) {
    case APIC_SH_SELF:
        return only(sender, count);
    case APIC_SH_ALL:
        return all_of(count);
    case APIC_SH_OTHERS:
        return all_of(count) & ~only(sender, count);
    default:
        break;
    }
    vapic_set set = 0;
    for (unsigned i = 0; i < count; i++)
        if (vapic_dest_names(&apics[i], d))
            set |= 1u << i;
    return set;
}

unsigned vapic_index_of(const struct vlapic *apics, unsigned count, uint32_t apic_id)
{
    for (unsigned i = 0; i < count; i++)
        if (apics[i].apic_id == apic_id)
            return i;
    return count;
}
