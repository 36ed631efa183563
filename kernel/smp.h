/* hv's CPUs (issue 14): the bootstrap processor and every application processor the MADT lists,
   started with INIT-SIPI-SIPI (SDM vol. 3 §9.4) and brought into VMX root operation. hv CPU ids
   are 0 (the BSP) .. smp_cpu_count()-1, given in the order the APs came up; a CPU that failed
   its bring-up (no VMX, different VMX capabilities, no answer) gets no id and is named in the
   log with the reason. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "kernel/mb2.h"
#include "kernel/percpu.h"

/* What an AP runs once it is in long mode on its own GDT, TSS, IDT and stack (kernel/main.c
   provides it: VMX on, capabilities checked). Returns 0, or -1 with `why` set: the AP is then
   left out (it halts). */
typedef int (*smp_ap_bringup_fn)(struct percpu *c, char *why, unsigned why_size);
/* What every AP runs each time it is released (the scheduler's loop; at the end, leaving VMX
   operation); an AP then waits for the next release. */
typedef void (*smp_work_fn)(void);

/* Starts every AP in `apic_ids` (the boot information at mbi_phys and the modules must not
   hold the trampoline page) (the BSP's own ID is skipped) one at a time; logs one line per
   CPU that came up or was left out. Returns the number of CPUs now online (the BSP included). */
unsigned smp_start_aps(const struct mb2_info *info, uint64_t mbi_phys, const uint32_t *apic_ids,
                       unsigned count, uint64_t tsc_hz, smp_ap_bringup_fn bringup);
unsigned smp_cpu_count(void);
/* Makes every online AP run `work` once (the BSP runs what it wants itself); returns at once. */
void smp_release_aps(smp_work_fn work);
/* Waits until every AP returned from the last `work` (unbounded: the scheduler's loop returns on
   every CPU once every guest ended). */
void smp_wait_aps_done(void);

/* Host IPIs (kernel/lapic.h), by hv CPU id. A kick makes the CPU leave VMX non-root operation
   (an external-interrupt exit, acknowledged on exit); it does nothing else on its own. */
#define SMP_KICK_VECTOR  0xF2u
#define SMP_TIMER_VECTOR 0xF1u /* this CPU's local APIC timer, armed only while it idles */
void smp_kick(unsigned cpu);
/* The machine stops (hv's end, a panic, an exception in hv): every other online CPU gets an NMI
   and halts for good, wherever it is (in VMX non-root operation the NMI is an exit, and the
   scheduler halts after it; in hv the NMI handler halts). Idempotent; returns at once. */
void smp_stop_others(void);
bool smp_stopping(void);

/* Halts this CPU until its kick IPI or the TSC reaches `deadline` (the local APIC timer in
   TSC-deadline mode), with interrupts on only for the HLT. Without TSC-deadline mode it returns
   at once (the caller's loop polls). Call with the caller's "may I sleep" state published: an
   IPI that arrives after that ends the HLT at once (STI's one-instruction shadow). */
void smp_idle_until(uint64_t deadline);
