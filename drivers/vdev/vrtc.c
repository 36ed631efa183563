/* A virtual MC146818 RTC and CMOS RAM (drivers/vdev/vrtc.h). */
#include "drivers/vdev/vrtc.h"
#include "kernel/lib/string.h"

#define SECONDS_PER_DAY   86400ull
#define DAYS_PER_400Y     146097ull
#define MONTHS_PER_YEAR   12u
#define HOURS_PER_DAY     24u
#define MINUTES_PER_HOUR  60u
#define SECONDS_PER_MIN   60u
#define HOURS_PER_HALFDAY 12u
#define YEARS_PER_CENTURY 100u
#define US_PER_SECOND     1000000ull
#define DAYS_PER_WEEK     7u
#define SECONDS_PER_HOUR  3600ull

/* ---- calendar arithmetic ---- */

static bool is_leap(unsigned year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const uint8_t days[MONTHS_PER_YEAR] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void normalize(struct vrtc_time *t)
{
    t->year = t->year < 1 ? 1 : t->year;
    t->month = clamp(t->month, 1, MONTHS_PER_YEAR);
    t->day = clamp(t->day, 1, days_in_month(t->year, t->month));
    t->hour = clamp(t->hour, 0, HOURS_PER_DAY - 1);
    t->minute = clamp(t->minute, 0, MINUTES_PER_HOUR - 1);
    t->second = clamp(t->second, 0, SECONDS_PER_MIN - 1);
}

/* Days since 0000-03-01 of the proleptic Gregorian calendar, counting years from March so the
   leap day is the last day of a year (the usual era / day-of-era method); year >= 1. */
static uint64_t days_from_civil(unsigned year, unsigned month, unsigned day)
{
    uint64_t y = year - (month <= 2 ? 1u : 0u);
    uint64_t era = y / 400, yoe = y % 400;
    uint64_t mp = month > 2 ? month - 3u : month + 9u; /* March = 0 */
    uint64_t doy = (153 * mp + 2) / 5 + day - 1;
    uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * DAYS_PER_400Y + doe;
}

static void civil_from_days(uint64_t days, struct vrtc_time *t)
{
    uint64_t era = days / DAYS_PER_400Y, doe = days % DAYS_PER_400Y;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    t->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    t->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    t->year = (unsigned)(era * 400 + yoe + (t->month <= 2 ? 1 : 0));
}

void vrtc_time_advance(struct vrtc_time *t, uint64_t seconds)
{
    normalize(t);
    uint64_t in_day =
        t->hour * SECONDS_PER_HOUR + (uint64_t)t->minute * SECONDS_PER_MIN + t->second + seconds;
    civil_from_days(days_from_civil(t->year, t->month, t->day) + in_day / SECONDS_PER_DAY, t);
    in_day %= SECONDS_PER_DAY;
    t->hour = (unsigned)(in_day / SECONDS_PER_HOUR);
    t->minute = (unsigned)(in_day / SECONDS_PER_MIN % MINUTES_PER_HOUR);
    t->second = (unsigned)(in_day % SECONDS_PER_MIN);
}

unsigned vrtc_day_of_week(const struct vrtc_time *t)
{
    struct vrtc_time n = *t;
    normalize(&n);
    /* day 0 (0000-03-01) was a Wednesday: 4 in the RTC's 1 = Sunday numbering */
    return (unsigned)((days_from_civil(n.year, n.month, n.day) + 3) % DAYS_PER_WEEK) + 1;
}

/* ---- the clock ---- */

static bool divider_running(const struct vrtc *r)
{
    return (r->reg_a & VRTC_A_DV_RESET) != VRTC_A_DV_RESET && r->host->tsc_hz;
}

static bool clock_running(const struct vrtc *r)
{
    return divider_running(r) && !(r->reg_b & VRTC_B_SET);
}

static uint64_t elapsed(const struct vrtc *r, uint64_t now)
{
    return now > r->clock_tsc ? now - r->clock_tsc : 0;
}

static struct vrtc_time current_time(const struct vrtc *r, uint64_t now)
{
    struct vrtc_time t = r->clock;
    if (clock_running(r))
        vrtc_time_advance(&t, elapsed(r, now) / r->host->tsc_hz);
    return t;
}

/* The guest changed the clock while it runs: `t` is the time from now on, in the same phase
   of the second (the divider chain is not reset). */
static void rebase(struct vrtc *r, const struct vrtc_time *t, uint64_t now)
{
    r->clock = *t;
    if (clock_running(r))
        r->clock_tsc = now - elapsed(r, now) % r->host->tsc_hz;
    r->seconds_seen = 0;
}

/* Period of the periodic interrupt in guest ticks; 0 when RS = 0 (datasheet Table "Periodic
   interrupt rate": RS 1 and 2 give 256 and 128 Hz, RS 3-15 give 65536 >> RS Hz). */
static uint64_t periodic_ticks(const struct vrtc *r)
{
    unsigned rs = r->reg_a & VRTC_A_RS_MASK;
    if (!rs || !divider_running(r))
        return 0;
    unsigned shift = rs < 3 ? rs + 7 : rs;
    return vdev_ticks_to_tsc(1, (uint64_t)VRTC_TIME_BASE_HZ * 2 >> shift, r->host->tsc_hz);
}

/* ---- register encoding (register B's DM and 24/12 bits) ---- */

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0xFu);
}

static uint8_t encode(const struct vrtc *r, unsigned v)
{
    return (r->reg_b & VRTC_B_DM) ? (uint8_t)v : to_bcd(v);
}

static unsigned decode(const struct vrtc *r, uint8_t v)
{
    return (r->reg_b & VRTC_B_DM) ? v : from_bcd(v);
}

static uint8_t encode_hour(const struct vrtc *r, unsigned hour)
{
    if (r->reg_b & VRTC_B_24H)
        return encode(r, hour);
    /* 12-hour: 12 AM is midnight, 12 PM noon; bit 7 = PM */
    unsigned h12 = hour % HOURS_PER_HALFDAY ? hour % HOURS_PER_HALFDAY : HOURS_PER_HALFDAY;
    return (uint8_t)(encode(r, h12) | (hour >= HOURS_PER_HALFDAY ? VRTC_HOURS_PM : 0));
}

static unsigned decode_hour(const struct vrtc *r, uint8_t v)
{
    if (r->reg_b & VRTC_B_24H)
        return decode(r, v);
    unsigned h = decode(r, v & (uint8_t)~VRTC_HOURS_PM) % HOURS_PER_HALFDAY;
    return (v & VRTC_HOURS_PM) ? h + HOURS_PER_HALFDAY : h;
}

/* ---- flags and the interrupt ---- */

static bool alarm_byte_matches(uint8_t alarm, uint8_t value)
{
    return (alarm & VRTC_ALARM_DONTCARE) == VRTC_ALARM_DONTCARE || alarm == value;
}

static bool alarm_matches(const struct vrtc *r, const struct vrtc_time *t)
{
    return alarm_byte_matches(r->alarm[0], encode(r, t->second)) &&
           alarm_byte_matches(r->alarm[1], encode(r, t->minute)) &&
           alarm_byte_matches(r->alarm[2], encode_hour(r, t->hour));
}

/* Sets the flags of what happened up to `now`: update-ended (and alarm) at each second
   boundary, PF at each periodic tick (datasheet: the flags are set whatever the enables). */
static void collect_events(struct vrtc *r, uint64_t now)
{
    if (clock_running(r)) {
        uint64_t secs = elapsed(r, now) / r->host->tsc_hz;
        if (secs > r->seconds_seen) {
            r->seconds_seen = secs;
            r->reg_c |= VRTC_C_UF;
            struct vrtc_time t = current_time(r, now);
            if (alarm_matches(r, &t))
                r->reg_c |= VRTC_C_AF;
        }
    }
    uint64_t period = periodic_ticks(r);
    if (period && now >= r->periodic_next) {
        r->reg_c |= VRTC_C_PF;
        r->periodic_next += ((now - r->periodic_next) / period + 1) * period;
    }
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE; the IRQ line follows IRQF (datasheet "Register C"). */
static void update_irq(struct vrtc *r)
{
    uint8_t enabled = r->reg_b & (VRTC_B_PIE | VRTC_B_AIE | VRTC_B_UIE);
    /* the enable bits sit at the flag bits' positions */
    bool irqf = (r->reg_c & enabled & (VRTC_C_PF | VRTC_C_AF | VRTC_C_UF)) != 0;
    r->reg_c = irqf ? r->reg_c | VRTC_C_IRQF : r->reg_c & (uint8_t)~VRTC_C_IRQF;
    vdev_irq_set(r->router, VDEV_IRQ_RTC, irqf);
}

/* Wakes the device for the next event an enabled interrupt waits for. */
static void rearm(struct vrtc *r)
{
    uint64_t deadline = UINT64_MAX;
    if ((r->reg_b & VRTC_B_PIE) && periodic_ticks(r))
        deadline = r->periodic_next;
    if ((r->reg_b & (VRTC_B_UIE | VRTC_B_AIE)) && clock_running(r)) {
        uint64_t next_second = r->clock_tsc + (r->seconds_seen + 1) * r->host->tsc_hz;
        deadline = next_second < deadline ? next_second : deadline;
    }
    if (deadline == UINT64_MAX)
        vdev_timer_cancel(&r->timer);
    else
        vdev_timer_arm(&r->timer, deadline);
}

static void refresh(struct vrtc *r, uint64_t now)
{
    collect_events(r, now);
    update_irq(r);
    rearm(r);
}

static void vrtc_timer_fire(void *dev, uint64_t now)
{
    refresh(dev, now);
}

/* ---- registers ---- */

static bool update_in_progress(const struct vrtc *r, uint64_t now)
{
    if (!clock_running(r))
        return false; /* SET inhibits the update cycle */
    uint64_t hz = r->host->tsc_hz;
    uint64_t lead = hz * VRTC_UIP_US / US_PER_SECOND;
    return elapsed(r, now) % hz >= hz - lead;
}

static uint8_t read_time(const struct vrtc *r, unsigned reg, uint64_t now)
{
    struct vrtc_time t = current_time(r, now);
    switch (reg) {
    case VRTC_SECONDS:
        return encode(r, t.second);
    case VRTC_MINUTES:
        return encode(r, t.minute);
    case VRTC_HOURS:
        return encode_hour(r, t.hour);
    case VRTC_DAY_OF_WEEK:
        return encode(r, vrtc_day_of_week(&t));
    case VRTC_DAY_OF_MONTH:
        return encode(r, t.day);
    case VRTC_MONTH:
        return encode(r, t.month);
    case VRTC_YEAR:
        return encode(r, t.year % YEARS_PER_CENTURY);
    default: /* VRTC_CENTURY */
        return encode(r, t.year / YEARS_PER_CENTURY);
    }
}

static bool is_time_register(unsigned reg)
{
    return (reg <= VRTC_YEAR && reg != VRTC_SECONDS_ALARM && reg != VRTC_MINUTES_ALARM &&
            reg != VRTC_HOURS_ALARM) ||
           reg == VRTC_CENTURY;
}

static bool is_alarm_register(unsigned reg)
{
    return reg == VRTC_SECONDS_ALARM || reg == VRTC_MINUTES_ALARM || reg == VRTC_HOURS_ALARM;
}

static uint8_t read_register(struct vrtc *r, unsigned reg, uint64_t now)
{
    if (is_time_register(reg))
        return read_time(r, reg, now);
    if (is_alarm_register(reg))
        return r->alarm[reg / 2];
    switch (reg) {
    case VRTC_REG_A:
        return (uint8_t)(r->reg_a | (update_in_progress(r, now) ? VRTC_A_UIP : 0));
    case VRTC_REG_B:
        return r->reg_b;
    case VRTC_REG_C: {
        /* reading C clears every flag and with IRQF the interrupt */
        uint8_t c = r->reg_c;
        r->reg_c = 0;
        return c;
    }
    case VRTC_REG_D:
        return VRTC_D_VRT;
    default:
        return r->ram[reg];
    }
}

static void write_time(struct vrtc *r, unsigned reg, uint8_t value, uint64_t now)
{
    struct vrtc_time t = current_time(r, now);
    unsigned v = decode(r, value);
    switch (reg) {
    case VRTC_SECONDS:
        t.second = v;
        break;
    case VRTC_MINUTES:
        t.minute = v;
        break;
    case VRTC_HOURS:
        t.hour = decode_hour(r, value);
        break;
    case VRTC_DAY_OF_WEEK:
        return; /* computed from the date (vrtc.h) */
    case VRTC_DAY_OF_MONTH:
        t.day = v;
        break;
    case VRTC_MONTH:
        t.month = v;
        break;
    case VRTC_YEAR:
        t.year = t.year / YEARS_PER_CENTURY * YEARS_PER_CENTURY + v % YEARS_PER_CENTURY;
        break;
    default: /* VRTC_CENTURY */
        t.year = v * YEARS_PER_CENTURY + t.year % YEARS_PER_CENTURY;
        break;
    }
    rebase(r, &t, now);
}

/* A write to A or B that may stop or restart the clock (SET, DV2-0): a stopping clock keeps
   the time it reached, a restarting one begins a fresh second now. */
static void write_control(struct vrtc *r, unsigned reg, uint8_t value, uint64_t now)
{
    bool was_running = clock_running(r);
    uint64_t old_period = periodic_ticks(r);
    struct vrtc_time t = current_time(r, now);
    if (reg == VRTC_REG_A) {
        r->reg_a = value & VRTC_A_WRITABLE;
    } else {
        /* datasheet "Register B": setting SET clears UIE */
        r->reg_b = (value & VRTC_B_SET) ? value & (uint8_t)~VRTC_B_UIE : value;
    }
    bool running = clock_running(r);
    if (was_running && !running)
        r->clock = t;
    if (!was_running && running) {
        r->clock_tsc = now;
        r->seconds_seen = 0;
    }
    uint64_t period = periodic_ticks(r);
    if (period != old_period)
        r->periodic_next = now + period;
}

static void write_register(struct vrtc *r, unsigned reg, uint8_t value, uint64_t now)
{
    if (is_time_register(reg))
        write_time(r, reg, value, now);
    else if (is_alarm_register(reg))
        r->alarm[reg / 2] = value;
    else if (reg == VRTC_REG_A || reg == VRTC_REG_B)
        write_control(r, reg, value, now);
    else if (reg != VRTC_REG_C && reg != VRTC_REG_D) /* C and D are read-only */
        r->ram[reg] = value;
}

static uint32_t vrtc_io_in(void *dev, uint16_t port, unsigned size)
{
    struct vrtc *r = dev;
    (void)size;
    if (port == VRTC_PORT_INDEX) /* write-only on the chipset; reads return what was written */
        return r->index | (r->nmi_disabled ? VRTC_INDEX_NMI_DISABLE : 0);
    uint64_t now = r->host->now(r->host->ctx);
    collect_events(r, now);
    uint8_t value = read_register(r, r->index, now);
    update_irq(r);
    rearm(r);
    return value;
}

static void vrtc_io_out(void *dev, uint16_t port, unsigned size, uint32_t value)
{
    struct vrtc *r = dev;
    (void)size;
    if (port == VRTC_PORT_INDEX) {
        r->index = (uint8_t)(value & VRTC_INDEX_MASK);
        r->nmi_disabled = (value & VRTC_INDEX_NMI_DISABLE) != 0;
        return;
    }
    uint64_t now = r->host->now(r->host->ctx);
    collect_events(r, now);
    write_register(r, r->index, (uint8_t)value, now);
    refresh(r, now);
}

static const struct vdev_io_ops vrtc_ops = {vrtc_io_in, vrtc_io_out};

void vrtc_init(struct vrtc *r, const struct vdev_host *host, struct vdev_timers *timers,
               struct vdev_irq_router *router, const struct vrtc_time *boot)
{
    memset(r, 0, sizeof(*r));
    r->host = host;
    r->timers = timers;
    r->router = router;
    r->reg_a = VRTC_A_RESET;
    r->reg_b = VRTC_B_RESET;
    r->clock = *boot;
    r->clock_tsc = host->now(host->ctx);
    r->periodic_next = r->clock_tsc + periodic_ticks(r);
}

int vrtc_attach(struct vrtc *r, struct vdev_bus *bus)
{
    if (vdev_timer_add(r->timers, &r->timer, vrtc_timer_fire, r) < 0)
        return -1;
    return vdev_bus_add_io(bus, "rtc", VRTC_PORT_INDEX, 2, &vrtc_ops, r);
}
