/*
 * A virtual MC146818 real-time clock and CMOS RAM (MC146818 datasheet: "Address map",
 * "Time, calendar and alarm locations", "Control registers A-D", "Interrupts") at the PC's
 * index / data ports 0x70 / 0x71, interrupting on ISA IRQ 8.
 *
 * The clock is kept as a binary calendar time plus the guest TSC at which it was that time;
 * reads advance it by the guest time elapsed since (host->now, host->tsc_hz) and encode it as
 * register B asks (BCD or binary, 12- or 24-hour). Second boundaries fall every tsc_hz ticks
 * from the last time the clock was set, and UIP reads 1 during the last 244 us before each one
 * (datasheet "Update cycle": UIP rises 244 us before the update). A guest polling UIP (Linux's
 * mc146818_get_time) sees it fall within 244 us of guest time.
 *
 * Simplifications (documented for the lead):
 *   - The clock stops while SET is 1 or the divider (register A DV2-0) is held in reset, and
 *     restarts with a fresh second when both are released; time registers written while it runs
 *     take effect at once, keeping the second's phase.
 *   - Values are converted at every access, so switching register B's DM or 24/12 bit shows the
 *     same time in the new format (the chip would reinterpret the stored bytes).
 *   - Out-of-range time values are stored as written while the clock is stopped and read back
 *     so; when it runs they are clamped into range (month 1-12, day 1-last of the month, ...).
 *   - Day of week is computed from the date (1 = Sunday); writes to it are ignored.
 *   - Daylight saving (DSE) and the square-wave output (SQWE) are stored but have no effect.
 *   - The alarm is checked at the update-ended time of each second while AIE or UIE is set
 *     (a timer wakes the device each second); with both off, a register C read only checks
 *     the current second, so an alarm second that passed unobserved is not flagged.
 *   - Periodic ticks missed while nobody looked are coalesced into one PF.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/vdev/vdev.h"

/* ---- the hardware interface ---- */

#define VRTC_PORT_INDEX        0x70 /* write: bit 7 = NMI disable, bits 6:0 = register */
#define VRTC_PORT_DATA         0x71
#define VRTC_INDEX_NMI_DISABLE 0x80
#define VRTC_INDEX_MASK        0x7F
#define VRTC_CMOS_SIZE         128

/* Register addresses. */
#define VRTC_SECONDS       0x00
#define VRTC_SECONDS_ALARM 0x01
#define VRTC_MINUTES       0x02
#define VRTC_MINUTES_ALARM 0x03
#define VRTC_HOURS         0x04
#define VRTC_HOURS_ALARM   0x05
#define VRTC_DAY_OF_WEEK   0x06
#define VRTC_DAY_OF_MONTH  0x07
#define VRTC_MONTH         0x08
#define VRTC_YEAR          0x09
#define VRTC_REG_A         0x0A
#define VRTC_REG_B         0x0B
#define VRTC_REG_C         0x0C
#define VRTC_REG_D         0x0D
#define VRTC_CENTURY       0x32 /* the PC/ACPI convention (FADT CENTURY field) */

/* Register A. */
#define VRTC_A_UIP      0x80 /* update in progress (read-only) */
#define VRTC_A_DV_MASK  0x70 /* divider select */
#define VRTC_A_DV_32KHZ 0x20 /* DV2-0 = 010: 32.768 kHz time base, running */
#define VRTC_A_DV_RESET 0x60 /* DV2-0 = 11x: divider chain held in reset */
#define VRTC_A_RS_MASK  0x0F /* periodic rate select */
#define VRTC_A_WRITABLE 0x7F
#define VRTC_A_RESET    (VRTC_A_DV_32KHZ | 0x06) /* 1024 Hz, as PC firmware leaves it */

/* Register B. */
#define VRTC_B_SET   0x80 /* stop updates so software can set the time */
#define VRTC_B_PIE   0x40 /* periodic interrupt enable */
#define VRTC_B_AIE   0x20 /* alarm interrupt enable */
#define VRTC_B_UIE   0x10 /* update-ended interrupt enable */
#define VRTC_B_SQWE  0x08
#define VRTC_B_DM    0x04 /* 1: binary, 0: BCD */
#define VRTC_B_24H   0x02 /* 1: 24-hour, 0: 12-hour with bit 7 of the hours = PM */
#define VRTC_B_DSE   0x01
#define VRTC_B_RESET VRTC_B_24H /* BCD, 24-hour, no interrupts */

/* Register C (read-only; a read clears it). */
#define VRTC_C_IRQF 0x80
#define VRTC_C_PF   0x40
#define VRTC_C_AF   0x20
#define VRTC_C_UF   0x10

/* Register D (read-only): the battery is good. */
#define VRTC_D_VRT 0x80

#define VRTC_HOURS_PM       0x80
#define VRTC_ALARM_DONTCARE 0xC0 /* an alarm byte with bits 7:6 set matches every value */
#define VRTC_UIP_US         244  /* UIP leads the update by 244 us (datasheet, Figure "UIP") */
#define VRTC_TIME_BASE_HZ   32768

/* ---- calendar arithmetic (pure) ---- */

struct vrtc_time {
    unsigned year, month, day, hour, minute, second; /* binary, year e.g. 2026 */
};

/* Advances `t` by `seconds`, across days, months and (leap) years of the Gregorian calendar.
   Out-of-range fields are clamped into range first (year >= 1, month 1-12, day 1-last). */
void vrtc_time_advance(struct vrtc_time *t, uint64_t seconds);
/* The day of the week of `t`'s date, 1 = Sunday ... 7 = Saturday (the RTC's numbering). */
unsigned vrtc_day_of_week(const struct vrtc_time *t);

/* ---- the device ---- */

struct vrtc {
    const struct vdev_host *host;
    struct vdev_timers *timers;
    struct vdev_irq_router *router;
    struct vdev_timer timer; /* the next periodic tick or second boundary the guest waits for */
    uint8_t index;           /* the selected register (bits 6:0) */
    bool nmi_disabled;       /* bit 7 of the last index write: the VM should hold off NMIs */
    uint8_t reg_a, reg_b, reg_c;
    uint8_t alarm[3];            /* seconds, minutes, hours alarm bytes as written */
    uint8_t ram[VRTC_CMOS_SIZE]; /* 0x0E-0x7F: plain CMOS RAM (0x32 is the century) */
    struct vrtc_time clock;      /* the time at clock_tsc, or the time while stopped */
    uint64_t clock_tsc;
    uint64_t seconds_seen;  /* whole seconds since clock_tsc already accounted (UF, AF) */
    uint64_t periodic_next; /* guest TSC of the next periodic tick */
};

/* Reset state with the clock at `boot` now (host->now). Registers A = 0x26, B = 0x02. */
void vrtc_init(struct vrtc *r, const struct vdev_host *host, struct vdev_timers *timers,
               struct vdev_irq_router *router, const struct vrtc_time *boot);
/* Claims ports 0x70-0x71 and registers the timer; -1 when either is refused. */
int vrtc_attach(struct vrtc *r, struct vdev_bus *bus);
