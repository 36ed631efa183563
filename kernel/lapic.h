/* hv's use of the machine's local APICs: its own ID, inter-processor interrupts (AP start-up,
   kicks, TLB shootdowns) and EOI for the IPIs a VM exit acknowledged. xAPIC through MMIO or
   x2APIC through MSRs, as the firmware left the BSP's (the APs follow it). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* On the BSP after paging_init: maps the xAPIC page unless the APIC is in x2APIC mode. `base`
   is the MADT's address (0: IA32_APIC_BASE's). Returns 0 or -1 (no APIC, or not mappable). */
int lapic_init_bsp(uint64_t base, char *why, unsigned why_size);
/* On every CPU (the BSP too): software-enables its APIC so it accepts fixed IPIs, and puts an AP
   in the BSP's mode (xAPIC or x2APIC). */
void lapic_enable_this_cpu(void);
uint32_t lapic_this_id(void);
bool lapic_x2apic(void);
/* Sends an IPI (ICR low word `icr_lo`) to `apic_id`; waits (bounded) until an xAPIC has taken
   it. Returns 0, or -1 when the send never completed. */
int lapic_send(uint32_t apic_id, uint32_t icr_lo);
void lapic_eoi(void);
/* The local APIC timer in TSC-deadline mode (SDM "TSC-Deadline Mode"): interrupt `vector` when
   the TSC reaches `deadline`; 0 disarms. lapic_tsc_deadline() says whether the CPU has it. */
bool lapic_tsc_deadline(void);
void lapic_timer_deadline(unsigned vector, uint64_t deadline);
