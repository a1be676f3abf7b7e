/* POSIX TZ rules ("CET-1CEST,M3.5.0,M10.5.0/3"), as in the footer of a
 * TZif file (RFC 8536 section 3.3, with the version 3 extensions: rule
 * times from -167 to 167 hours, DST all year).
 *
 *   std offset [dst [offset] ,start[/time],end[/time]]
 *
 * A name is 3 to 32 letters, or <...> of letters, digits, '+' and '-'; an
 * offset is [+-]hh[:mm[:ss]] west of UTC, up to 24:59:59; dst defaults to
 * one hour ahead of std; a date is Jn (1..365, February 29 never counted),
 * n (0..365, counted) or Mm.w.d (day d of week w of month m, w = 5 the
 * last); time defaults to 02:00:00.  A rule with a DST name but no dates is
 * refused (POSIX leaves it to the implementation).
 *
 * Evaluation: an instant t is in DST when, in the year Y of its standard
 * local time, start(Y) <= t < end(Y) (start before end, northern), or t is
 * outside [end(Y), start(Y)) (southern).  The offset can change only at the
 * start, the end or a year boundary, so the span around t is found among
 * those candidates of Y-1 .. Y+1. */
#include "cron/cr_int.h"

#include <stdio.h>
#include <string.h>

#define DAY_S 86400

typedef struct rd {
    const char *s;
    size_t n, i;
    char *err;
    size_t errlen;
} rd;

static int bad(rd *r, const char *what)
{
    char shown[CR__MAX_FOOTER + 1];
    size_t k = 0;
    for (size_t j = 0; j < r->n && k < CR__MAX_FOOTER; j++)
        shown[k++] = r->s[j] >= 0x20 && r->s[j] < 0x7f ? r->s[j] : '?';
    shown[k] = 0;
    return ut_err(r->err, r->errlen, "TZ rule '%s': %s at byte %zu", shown, what, r->i + 1);
}

static int at(const rd *r, char c) { return r->i < r->n && r->s[r->i] == c; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int name(rd *r)
{
    size_t k = 0;
    if (at(r, '<')) {
        r->i++;
        while (r->i < r->n && (is_alpha(r->s[r->i]) || is_digit(r->s[r->i]) ||
                               r->s[r->i] == '+' || r->s[r->i] == '-'))
            r->i++, k++;
        if (!at(r, '>')) return bad(r, "a quoted name must end in '>'");
        r->i++;
    } else {
        while (r->i < r->n && is_alpha(r->s[r->i])) r->i++, k++;
    }
    if (k < 3 || k > CR__MAX_TZNAME) return bad(r, "a name must have 3 to 32 characters");
    return 0;
}

/* Up to maxd digits, at most max (errors point at the number's start). */
static int num(rd *r, int maxd, int max, int *v)
{
    size_t at0 = r->i;
    int k = 0;
    *v = 0;
    for (; k < maxd && r->i < r->n && is_digit(r->s[r->i]); k++)
        *v = *v * 10 + (r->s[r->i++] - '0');
    if (!k) return bad(r, "expected a number");
    if (*v > max || (r->i < r->n && is_digit(r->s[r->i]))) {
        r->i = at0;
        return bad(r, "number out of range");
    }
    return 0;
}

/* [+-]hh[:mm[:ss]] in seconds, hours at most maxh. */
static int hms(rd *r, int maxh, int32_t *secs)
{
    int sign = 1, h, m = 0, s = 0;
    if (at(r, '+') || at(r, '-')) sign = r->s[r->i++] == '-' ? -1 : 1;
    if (num(r, 3, maxh, &h)) return -1;
    if (at(r, ':')) {
        r->i++;
        if (num(r, 2, 59, &m)) return -1;
        if (at(r, ':')) {
            r->i++;
            if (num(r, 2, 59, &s)) return -1;
        }
    }
    *secs = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int rdate(rd *r, cr__rdate *d)
{
    memset(d, 0, sizeof *d);
    if (at(r, 'J')) {
        r->i++;
        d->kind = CR__R_JULIAN;
        size_t at0 = r->i;
        if (num(r, 3, 365, &d->day)) return -1;
        if (d->day < 1) return r->i = at0, bad(r, "Jn counts days from 1");
    } else if (at(r, 'M')) {
        r->i++;
        d->kind = CR__R_MWD;
        size_t at0 = r->i;
        if (num(r, 2, 12, &d->mon)) return -1;
        if (d->mon < 1) return r->i = at0, bad(r, "months are 1-12");
        if (!at(r, '.')) return bad(r, "expected '.' after the month");
        at0 = ++r->i;
        if (num(r, 1, 5, &d->week)) return -1;
        if (d->week < 1) return r->i = at0, bad(r, "weeks are 1-5");
        if (!at(r, '.')) return bad(r, "expected '.' after the week");
        r->i++;
        if (num(r, 1, 6, &d->wday)) return -1;
    } else {
        d->kind = CR__R_ZERO;
        if (num(r, 3, 365, &d->day)) return -1;
    }
    d->time = 7200;
    if (at(r, '/')) {
        r->i++;
        if (hms(r, 167, &d->time)) return -1;
    }
    return 0;
}

int cr__posix_parse(const char *s, size_t n, cr__posix *p, char *err, size_t errlen)
{
    rd r = {s, n, 0, err, errlen};
    memset(p, 0, sizeof *p);
    if (n > CR__MAX_FOOTER)
        return ut_err(err, errlen, "TZ rule longer than %d bytes", CR__MAX_FOOTER);
    if (name(&r) || hms(&r, 24, &p->std_off)) return -1;
    p->std_off = -p->std_off; /* POSIX offsets are west of UTC */
    p->dst_off = p->std_off;
    if (r.i == n) return 0;
    if (name(&r)) return -1;
    p->has_dst = 1;
    p->dst_off = p->std_off + 3600;
    if (!at(&r, ',')) {
        if (r.i == n) return bad(&r, "daylight saving time needs start and end dates");
        if (hms(&r, 24, &p->dst_off)) return -1;
        p->dst_off = -p->dst_off;
    }
    if (!at(&r, ',')) return bad(&r, r.i == n ? "daylight saving time needs start and end dates"
                                              : "expected ','");
    r.i++;
    if (rdate(&r, &p->start)) return -1;
    if (!at(&r, ',')) return bad(&r, "expected ',' before the end date");
    r.i++;
    if (rdate(&r, &p->end)) return -1;
    if (r.i != n) return bad(&r, "unexpected text after the rule");
    return 0;
}

/* ---- evaluation --------------------------------------------------------------- */

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Local wall time (seconds) of a rule date in year y. */
static int64_t rdate_wall(const cr__rdate *d, int64_t y)
{
    int64_t jan1 = ut_days_from_civil(y, 1, 1), days;
    switch (d->kind) {
    case CR__R_JULIAN: days = jan1 + d->day - 1 + (leap(y) && d->day >= 60); break;
    case CR__R_ZERO: days = jan1 + d->day; break;
    default: {
        int64_t first = ut_days_from_civil(y, (unsigned)d->mon, 1);
        days = first + (d->wday - cr__wday(first) + 7) % 7 + (int64_t)(d->week - 1) * 7;
        while (days >= first + cr__mdays(y, (unsigned)d->mon)) days -= 7;
    }
    }
    return days * DAY_S + d->time;
}

static int64_t year_of(int64_t local_s)
{
    int64_t y;
    unsigned m, d;
    ut_civil_from_days(cr__fdiv(local_s, DAY_S), &y, &m, &d);
    return y;
}

static int64_t year_start(const cr__posix *p, int64_t y)
{
    return ut_days_from_civil(y, 1, 1) * DAY_S - p->std_off;
}

static int is_dst(const cr__posix *p, int64_t t)
{
    int64_t y = year_of(t + p->std_off);
    int64_t s = rdate_wall(&p->start, y) - p->std_off, e = rdate_wall(&p->end, y) - p->dst_off;
    if (s < e) return s <= t && t < e;
    if (s > e) return t < e || t >= s;
    return 0;
}

static int32_t off_at(const cr__posix *p, int64_t t)
{
    return is_dst(p, t) ? p->dst_off : p->std_off;
}

/* Seconds -> µs, unbounded sides kept unbounded. */
static int64_t to_us(int64_t s)
{
    if (s <= CR__FAR_PAST / CR__US) return CR__FAR_PAST;
    if (s >= CR__FAR_FUTURE / CR__US) return CR__FAR_FUTURE;
    return s * CR__US;
}

void cr__posix_span(const cr__posix *p, int64_t t_us, int64_t *start, int64_t *end, int32_t *off,
                    int32_t *prev)
{
    if (!p->has_dst) {
        *start = CR__FAR_PAST, *end = CR__FAR_FUTURE, *off = *prev = p->std_off;
        return;
    }
    int64_t t = cr__fdiv(t_us, CR__US), y = year_of(t + p->std_off), c[10];
    int nc = 0;
    for (int64_t k = y - 1; k <= y + 1; k++) {
        c[nc++] = rdate_wall(&p->start, k) - p->std_off;
        c[nc++] = rdate_wall(&p->end, k) - p->dst_off;
        c[nc++] = year_start(p, k);
    }
    c[nc++] = year_start(p, y + 2);
    int64_t lo = year_start(p, y - 1), hi = year_start(p, y + 2), a = lo, b = hi;
    for (int i = 0; i < nc; i++) {
        if (c[i] < lo || c[i] > hi || off_at(p, c[i] - 1) == off_at(p, c[i])) continue;
        if (c[i] <= t && c[i] > a) a = c[i];
        if (c[i] > t && c[i] < b) b = c[i];
    }
    *off = off_at(p, t);
    *prev = off_at(p, a - 1);
    *start = to_us(a), *end = to_us(b);
}
