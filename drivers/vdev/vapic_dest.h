/*
 * Which local APICs an interrupt message names (Intel SDM vol. 3, chapter "Advanced Programmable
 * Interrupt Controller (APIC)", section "Determining IPI Destination" (10.6.2) and, for x2APIC,
 * "Logical Destination Mode in x2APIC Mode" (10.12.10)). Pure: it reads the APICs' IDs, LDRs and
 * DFRs and changes nothing.
 *
 *   Shorthand (ICR bits 19:18): none (the destination field decides), self, all including self,
 *   all excluding self.
 *   Physical mode: the APIC whose ID equals the destination, or all of them for the broadcast ID
 *   (0xFF in xAPIC format, 0xFFFFFFFF in x2APIC format).
 *   Logical mode, xAPIC format (8-bit destination against LDR bits 31:24, the model from DFR
 *   bits 31:28): flat model (1111b): the APICs whose logical ID shares a bit with the
 *   destination; cluster model (0000b): bits 7:4 name a cluster, bits 3:0 a set of its members.
 *   Either way 0xFF is a broadcast.
 *   Logical mode, x2APIC format: bits 31:16 name a cluster, bits 15:0 a set of its members; each
 *   APIC's logical ID is derived from its x2APIC ID (vapic_x2apic_ldr), 0xFFFFFFFF broadcasts.
 *
 * The format is the sender's: an IPI from an APIC in x2APIC mode carries a 32-bit destination,
 * one from an xAPIC (and every IOAPIC message) an 8-bit one.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/vlapic.h"

/* A set of APICs: bit i is the i-th APIC of the array (at most 32). */
typedef uint32_t vapic_set;
#define VAPIC_SET_MAX 32u

/* Sender index of a message no APIC sent (an IOAPIC or MSI message): only "none" shorthand. */
#define VAPIC_NO_SENDER VAPIC_SET_MAX

/* One message's destination, as the ICR (or a redirection entry) gives it. */
struct vapic_dest {
    uint32_t dest;      /* 8 bits (xAPIC format) or 32 bits (x2APIC format) */
    unsigned shorthand; /* APIC_SH_NONE, APIC_SH_SELF, APIC_SH_ALL, APIC_SH_OTHERS */
    bool logical;       /* destination mode (ICR bit 11) */
    bool x2apic;        /* the destination is in x2APIC format */
};

/* The x2APIC logical ID of the APIC with x2APIC ID `id` (SDM APIC 10.12.10.2): cluster
   ID[19:4] in bits 31:16, bit ID[3:0] of bits 15:0 set. */
uint32_t vapic_x2apic_ldr(uint32_t id);
/* Does the destination field name APIC `a` (shorthand ignored)? */
bool vapic_dest_names(const struct vlapic *a, const struct vapic_dest *d);
/* The APICs among apics[0..count) a message from apics[sender] (or VAPIC_NO_SENDER) reaches.
   count is at most VAPIC_SET_MAX. */
vapic_set vapic_dest_set(const struct vlapic *apics, unsigned count, unsigned sender,
                         const struct vapic_dest *d);
/* The index of the APIC with ID `apic_id`, or `count` when none has it. */
unsigned vapic_index_of(const struct vlapic *apics, unsigned count, uint32_t apic_id);
