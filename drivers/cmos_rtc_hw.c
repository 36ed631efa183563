/* Reading the machine's CMOS clock through its ports (drivers/cmos_rtc.h). */
#include "drivers/cmos_rtc.h"
#include "kernel/lib/hw.h"

#define UIP_WAIT_LIMIT 1000000 /* reads of status A; an update lasts under 2 ms */
#define READ_TRIES     5

static uint8_t cmos_read(uint8_t reg)
{
    hw_outb(CMOS_INDEX_PORT, CMOS_NMI_DISABLE | reg);
    return hw_inb(CMOS_DATA_PORT);
}

static void read_raw(struct cmos_raw *r)
{
    for (unsigned i = 0; i < UIP_WAIT_LIMIT && (cmos_read(CMOS_STATUS_A) & CMOS_A_UIP); i++)
        ;
    r->second = cmos_read(CMOS_SECONDS);
    r->minute = cmos_read(CMOS_MINUTES);
    r->hour = cmos_read(CMOS_HOURS);
    r->day = cmos_read(CMOS_DAY);
    r->month = cmos_read(CMOS_MONTH);
    r->year = cmos_read(CMOS_YEAR);
    r->century = cmos_read(CMOS_CENTURY);
    r->status_b = cmos_read(CMOS_STATUS_B);
}

static bool same(const struct cmos_raw *a, const struct cmos_raw *b)
{
    return a->second == b->second && a->minute == b->minute && a->hour == b->hour &&
           a->day == b->day && a->month == b->month && a->year == b->year &&
           a->century == b->century;
}

int cmos_rtc_read(struct rtc_time *out)
{
    struct cmos_raw a, b;
    /* Two equal reads in a row: no update (a second tick) happened in between. */
    read_raw(&a);
    for (unsigned i = 0; i < READ_TRIES; i++) {
        read_raw(&b);
        if (same(&a, &b))
            return cmos_rtc_decode(&b, out);
        a = b;
    }
    return -1;
}
