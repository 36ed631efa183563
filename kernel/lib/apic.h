/* The local APIC's registers as hv's host driver uses them (SDM vol. 3, chapter "Advanced
   Programmable Interrupt Controller (APIC)": "Local APIC Register Address Map", "Interrupt
   Command Register (ICR)", "x2APIC Register Address Space"). The virtual local APIC has its own,
   fuller map (drivers/vdev/vlapic.h). */
#pragma once

#define LAPIC_DEFAULT_BASE 0xFEE00000u
#define LAPIC_MMIO_SIZE    0x1000u

/* xAPIC MMIO offsets; the x2APIC MSR of a register is LAPIC_X2APIC_MSR(offset). */
#define LAPIC_REG_ID          0x020u
#define LAPIC_REG_EOI         0x0B0u
#define LAPIC_REG_SVR         0x0F0u
#define LAPIC_REG_ESR         0x280u
#define LAPIC_REG_ICR_LO      0x300u
#define LAPIC_REG_ICR_HI      0x310u
#define LAPIC_REG_LVT_TIMER   0x320u
#define LAPIC_X2APIC_MSR(off) (0x800u + ((off) >> 4))

#define LAPIC_XAPIC_ID_SHIFT         24 /* xAPIC ID register bits 31:24 */
#define LAPIC_SVR_ENABLE             (1u << 8)
#define LAPIC_SPURIOUS_VECTOR        0xFFu
#define LAPIC_LVT_TIMER_TSC_DEADLINE (2u << 17) /* LVT timer mode, bits 18:17 */
#define LAPIC_LVT_TIMER_TSC_DEADLINE (2u << 17) /* LVT timer mode bits 18:17 */

/* ICR low word */
#define LAPIC_ICR_DM_FIXED         (0u << 8)
#define LAPIC_ICR_DM_NMI           (4u << 8)
#define LAPIC_ICR_DM_INIT          (5u << 8)
#define LAPIC_ICR_DM_STARTUP       (6u << 8)
#define LAPIC_ICR_PENDING          (1u << 12) /* delivery status: send pending (xAPIC only) */
#define LAPIC_ICR_ASSERT           (1u << 14)
#define LAPIC_ICR_LEVEL_TRIG       (1u << 15)
#define LAPIC_ICR_XAPIC_DEST_SHIFT 24           /* ICR high word bits 31:24 */
#define LAPIC_SIPI_VECTOR(pa)      ((pa) >> 12) /* a SIPI starts the AP at vector * 4 KiB */

/* IA32_APIC_BASE (MSR 0x1B) */
#define APIC_BASE_BSP       (1ull << 8)
#define APIC_BASE_EXTD      (1ull << 10) /* x2APIC mode */
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000FFFFFFFFFF000ull
