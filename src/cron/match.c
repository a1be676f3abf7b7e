/* The cron fields on the wall clock: the next (or previous) local minute
 * they match, with no zone involved.
 *
 * A position (year, month, day, hour, minute) moves field by field from the
 * largest: a month not listed jumps to the next month's first minute (the
 * previous month's last, searching back), a day the day rule refuses to the
 * next day, then the hour and minute move to their next set bit.  Every step
 * moves forward, each month costs at most a few steps per day, and the search
 * stops at hi (lo) or 401 years away: the Gregorian calendar repeats every
 * 400 years, so a schedule that matches at all matches within that. */
#include "cron/cr_int.h"

#define SEARCH_MONTHS (401 * 12)

int cr__mdays(int64_t y, unsigned m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

int cr__wday(int64_t days)
{
    return (int)cr__fmod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

int cr__day_ok(const cr_schedule *s, int64_t days, unsigned mday)
{
    int dom = s->mdays >> mday & 1, dow = s->wdays >> cr__wday(days) & 1;
    return s->dom_star || s->dow_star ? dom && dow : dom || dow;
}

/* Lowest set bit >= from (<= max), or -1. */
static int next_bit(uint64_t mask, int from, int max)
{
    if (from > max) return -1;
    uint64_t m = mask & (~(uint64_t)0 << from);
    if (!m) return -1;
    int i = __builtin_ctzll(m);
    return i <= max ? i : -1;
}

/* Highest set bit <= from, or -1. */
static int prev_bit(uint64_t mask, int from)
{
    if (from < 0) return -1;
    uint64_t m = mask & (((uint64_t)2 << from) - 1);
    return m ? 63 - __builtin_clzll(m) : -1;
}

typedef struct pos {
    int64_t y;
    int m, d, h, mi; /* d may be 0 or past the month's end: days_from_civil is linear in it */
} pos;

static int64_t wall_of(const pos *p)
{
    return ut_days_from_civil(p->y, (unsigned)p->m, 1) * CR__DAY_US +
           (int64_t)(p->d - 1) * CR__DAY_US + p->h * CR__HOUR_US + p->mi * CR__MIN_US;
}

static pos pos_of(int64_t wall)
{
    int64_t days = cr__fdiv(wall, CR__DAY_US), rem = wall - days * CR__DAY_US;
    unsigned m, d;
    pos p;
    ut_civil_from_days(days, &p.y, &m, &d);
    p.m = (int)m, p.d = (int)d;
    p.h = (int)(rem / CR__HOUR_US);
    p.mi = (int)(rem % CR__HOUR_US / CR__MIN_US);
    return p;
}

static void month_up(pos *p)
{
    if (++p->m > 12) p->m = 1, p->y++;
    p->d = 1, p->h = 0, p->mi = 0;
}

static void month_down(pos *p)
{
    if (--p->m < 1) p->m = 12, p->y--;
    p->d = cr__mdays(p->y, (unsigned)p->m), p->h = 23, p->mi = 59;
}

int64_t cr__next_wall(const cr_schedule *s, int64_t lo, int64_t hi)
{
    if (lo >= hi) return CR_NO_NEXT;
    int64_t up = cr__fmod(lo, CR__MIN_US) ? CR__MIN_US : 0; /* to the next whole minute */
    pos p = pos_of(cr__fdiv(lo, CR__MIN_US) * CR__MIN_US + up);
    const int64_t last = p.y * 12 + p.m + SEARCH_MONTHS;
    for (;;) {
        if (wall_of(&p) >= hi || p.y * 12 + p.m > last) return CR_NO_NEXT;
        int md = cr__mdays(p.y, (unsigned)p.m);
        if (!(s->months >> p.m & 1) || p.d > md) { month_up(&p); continue; }
        int64_t first = ut_days_from_civil(p.y, (unsigned)p.m, 1);
        int d = p.d;
        while (d <= md && !cr__day_ok(s, first + d - 1, (unsigned)d)) d++;
        if (d > md) { month_up(&p); continue; }
        if (d != p.d) p.d = d, p.h = 0, p.mi = 0;
        int h = next_bit(s->hours, p.h, 23);
        if (h < 0) { p.d++, p.h = 0, p.mi = 0; continue; }
        if (h != p.h) p.h = h, p.mi = 0;
        int mi = next_bit(s->minutes, p.mi, 59);
        if (mi < 0) { p.h++, p.mi = 0; continue; } /* h == 24 finds no hour: next day */
        p.mi = mi;
        int64_t w = wall_of(&p);
        return w < hi ? w : CR_NO_NEXT;
    }
}

int64_t cr__prev_wall(const cr_schedule *s, int64_t lo, int64_t hi)
{
    if (lo >= hi) return CR_NO_PREV;
    pos p = pos_of(cr__fdiv(hi - 1, CR__MIN_US) * CR__MIN_US);
    const int64_t first_month = p.y * 12 + p.m - SEARCH_MONTHS;
    for (;;) {
        if (wall_of(&p) < lo || p.y * 12 + p.m < first_month) return CR_NO_PREV;
        if (!(s->months >> p.m & 1) || p.d < 1) { month_down(&p); continue; }
        int64_t first = ut_days_from_civil(p.y, (unsigned)p.m, 1);
        int d = p.d;
        while (d >= 1 && !cr__day_ok(s, first + d - 1, (unsigned)d)) d--;
        if (d < 1) { month_down(&p); continue; }
        if (d != p.d) p.d = d, p.h = 23, p.mi = 59;
        int h = prev_bit(s->hours, p.h);
        if (h < 0) { p.d--, p.h = 23, p.mi = 59; continue; }
        if (h != p.h) p.h = h, p.mi = 59;
        int mi = prev_bit(s->minutes, p.mi);
        if (mi < 0) { p.h--, p.mi = 59; continue; } /* h == -1 finds no hour: day before */
        p.mi = mi;
        int64_t w = wall_of(&p);
        return w >= lo ? w : CR_NO_PREV;
    }
}
