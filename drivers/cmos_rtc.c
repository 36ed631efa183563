/* Decoding the CMOS clock's registers (drivers/cmos_rtc.h). */
#include "drivers/cmos_rtc.h"

#define BCD_TENS_SHIFT 4
#define BCD_DIGIT_MASK 0x0F
#define HOURS_12       12
#define CENTURY_2000   20

static unsigned from_bcd(uint8_t v)
{
    return (v >> BCD_TENS_SHIFT) * 10 + (v & BCD_DIGIT_MASK);
}

static unsigned field(uint8_t v, bool binary)
{
    return binary ? v : from_bcd(v);
}

static unsigned hour24(uint8_t raw, uint8_t status_b)
{
    bool binary = status_b & CMOS_B_BINARY;
    if (status_b & CMOS_B_24HOUR)
        return field(raw, binary);
    /* 12-hour mode: 12 AM is 0, 12 PM is 12, bit 7 says PM. */
    unsigned h = field(raw & (uint8_t)~CMOS_HOUR_PM, binary) % HOURS_12;
    return (raw & CMOS_HOUR_PM) ? h + HOURS_12 : h;
}

int cmos_rtc_decode(const struct cmos_raw *raw, struct rtc_time *out)
{
    bool binary = raw->status_b & CMOS_B_BINARY;
    unsigned century = raw->century ? field(raw->century, binary) : CENTURY_2000;
    out->second = field(raw->second, binary);
    out->minute = field(raw->minute, binary);
    out->hour = hour24(raw->hour, raw->status_b);
    out->day = field(raw->day, binary);
    out->month = field(raw->month, binary);
    out->year = century * 100 + field(raw->year, binary);
    if (out->second > 59 || out->minute > 59 || out->hour > 23 || out->day < 1 || out->day > 31 ||
        out->month < 1 || out->month > 12 || century < 19 || century > 99)
        return -1;
    return 0;
}
