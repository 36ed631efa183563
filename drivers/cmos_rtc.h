/* hv's own MC146818-compatible CMOS clock: read once at boot, so guests' virtual RTCs start at
   the machine's date and time (MC146818 datasheet: registers 0x00-0x09, status A/B; the
   century byte at 0x32 is the ACPI FADT's conventional location). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define CMOS_INDEX_PORT  0x70
#define CMOS_DATA_PORT   0x71
#define CMOS_NMI_DISABLE 0x80 /* bit 7 of the index port: keep NMIs off while hv reads */
#define CMOS_SECONDS     0x00
#define CMOS_MINUTES     0x02
#define CMOS_HOURS       0x04
#define CMOS_DAY         0x07
#define CMOS_MONTH       0x08
#define CMOS_YEAR        0x09
#define CMOS_STATUS_A    0x0A
#define CMOS_STATUS_B    0x0B
#define CMOS_CENTURY     0x32
#define CMOS_A_UIP       0x80 /* update in progress: the time registers are changing */
#define CMOS_B_24HOUR    0x02
#define CMOS_B_BINARY    0x04 /* DM: binary instead of BCD */
#define CMOS_HOUR_PM     0x80 /* 12-hour mode: bit 7 of the hours register */

struct rtc_time {
    unsigned year, month, day, hour, minute, second;
};

/* The raw registers as read (index by CMOS_* register number up to the century byte). */
struct cmos_raw {
    uint8_t second, minute, hour, day, month, year, century, status_b;
};

/* Converts raw registers (BCD or binary, 12- or 24-hour, century byte or none) into a date; -1
   when a field is out of range (a dead or unset clock). Years without a century byte are
   taken as 2000-2099. */
int cmos_rtc_decode(const struct cmos_raw *raw, struct rtc_time *out);
/* Reads the machine's clock (waits for no update in progress, then reads twice until two reads
   agree); -1 when it gives no valid date. */
int cmos_rtc_read(struct rtc_time *out);
