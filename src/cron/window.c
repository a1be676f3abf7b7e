/* Windows: the local calendar hours, days and months of a zone.
 *
 * Labels are numbered (hours and days since 1970-01-01 on the wall clock,
 * months as year * 12 + month - 1).  A label's window starts at the instant
 * its first wall time maps to (cr__wall_to_utc: the first occurrence, or the
 * end of a gap) and ends where the next label's starts; a label whose wall
 * times were all skipped has an empty window and is never returned.
 *
 * floor: the label of t's wall time, moved on while the next label already
 * starts at or before t (an overlap longer than the unit).  add: label
 * arithmetic, with the step extended by the empty labels it passes (found
 * from the gaps among the instants covered) until it stops growing — the
 * least fixed point, whose last label is never empty.  Window text (ds, hr,
 * RFC 3339 bounds) comes from the label and the bounds' local times. */
#include "cron/cr_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_ROUNDS 64          /* fixed-point rounds in add */
#define MAX_GAP_SPANS 100000   /* spans looked at for gaps in one round */

static const char *const unit_names[] = {"hour", "day", "month"};
/* Largest |n| for cr_window_add: 10000 years of the unit. */
static const int64_t max_step[] = {10000LL * 366 * 24, 10000LL * 366, 10000LL * 12};

static int64_t label_of_wall(cr_unit u, int64_t wall)
{
    if (u == CR_HOUR) return cr__fdiv(wall, CR__HOUR_US);
    int64_t days = cr__fdiv(wall, CR__DAY_US);
    if (u == CR_DAY) return days;
    int64_t y;
    unsigned m, d;
    ut_civil_from_days(days, &y, &m, &d);
    return y * 12 + (int64_t)m - 1;
}

static int64_t wall_of_label(cr_unit u, int64_t i)
{
    if (u == CR_HOUR) return i * CR__HOUR_US;
    if (u == CR_DAY) return i * CR__DAY_US;
    return ut_days_from_civil(cr__fdiv(i, 12), (unsigned)cr__fmod(i, 12) + 1, 1) * CR__DAY_US;
}

static int64_t start_of(cr_unit u, const cr_zone *z, int64_t i)
{
    return cr__wall_to_utc(z, wall_of_label(u, i));
}

static int64_t floor_label(cr_unit u, const cr_zone *z, int64_t t)
{
    int64_t i = label_of_wall(u, t + (int64_t)cr_zone_offset(z, t) * CR__US);
    for (int k = 0; k < 64 && start_of(u, z, i + 1) <= t; k++) i++;
    return i;
}

static int in_range(int64_t t)
{
    return t >= CR_MIN_US && t <= CR_MAX_US;
}

int64_t cr_window_floor(cr_unit u, const cr_zone *z, int64_t t_us)
{
    if (!in_range(t_us)) return CR_NO_PREV;
    return start_of(u, z, floor_label(u, z, t_us));
}

/* Empty labels with numbers in [a, b]: those whose wall time and the next
 * label's both fall in one gap [s + prev, s + off] of a span starting at s. */
static int64_t empties(cr_unit u, const cr_zone *z, int64_t a, int64_t b)
{
    if (a > b) return 0;
    int64_t ta = start_of(u, z, a), tb = start_of(u, z, b + 1), count = 0;
    cr__span sp;
    cr__zone_span(z, ta, &sp);
    for (int k = 0; k < MAX_GAP_SPANS && sp.start <= tb; k++) {
        if (sp.start >= ta && sp.prev < sp.off) {
            int64_t g0 = sp.start + sp.prev * CR__US, g1 = sp.start + sp.off * CR__US;
            int64_t lo = label_of_wall(u, g0), hi = label_of_wall(u, g1) - 1;
            if (wall_of_label(u, lo) < g0) lo++;
            if (lo < a) lo = a;
            if (hi > b) hi = b;
            if (hi >= lo) count += hi - lo + 1;
        }
        if (sp.end >= CR__FAR_FUTURE) break;
        cr__zone_span(z, sp.end, &sp);
    }
    return count;
}

int64_t cr_window_add(cr_unit u, const cr_zone *z, int64_t t_us, int64_t n)
{
    int64_t none = n >= 0 ? CR_NO_NEXT : CR_NO_PREV;
    if (!in_range(t_us) || n > max_step[u] || n < -max_step[u]) return none;
    int64_t i = floor_label(u, z, t_us), k = n < 0 ? -n : n, m = k;
    int64_t last = wall_of_label(u, n >= 0 ? i + k : i - k); /* empty labels only add to k */
    if (last > CR_MAX_US + 2 * CR__DAY_US || last < CR_MIN_US - 2 * CR__DAY_US) return none;
    for (int r = 0; r < MAX_ROUNDS && k; r++) {
        int64_t e = n > 0 ? empties(u, z, i + 1, i + m) : empties(u, z, i - m, i - 1);
        if (k + e == m) break;
        m = k + e;
    }
    int64_t t = start_of(u, z, n >= 0 ? i + m : i - m);
    return in_range(t) ? t : none;
}

/* "YYYY-MM-DDTHH:MM:SS+HH:MM" of instant t in z (UTC when the offset has
 * seconds, which RFC 3339 cannot write). */
static void rfc3339(char out[26], const cr_zone *z, int64_t t)
{
    int off = cr_zone_offset(z, t);
    if (off % 60) off = 0;
    int64_t w = cr__fdiv(t, CR__US) + off, days = cr__fdiv(w, 86400), s = w - days * 86400;
    int64_t y;
    unsigned m, d;
    ut_civil_from_days(days, &y, &m, &d);
    int a = off < 0 ? -off : off;
    char buf[96];
    int len = snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", (int)y, m, d,
                       (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60), off < 0 ? '-' : '+',
                       a / 3600, a / 60 % 60);
    assert(len == 25);
    memcpy(out, buf, 26);
}

int cr_window_info(cr_unit u, const cr_zone *z, int64_t t_us, cr_window *w)
{
    if (!in_range(t_us)) return -1;
    int64_t i = floor_label(u, z, t_us);
    w->start_us = start_of(u, z, i);
    w->end_us = start_of(u, z, i + 1);
    if (!in_range(w->start_us) || !in_range(w->end_us)) return -1;
    int64_t wall = wall_of_label(u, i), days = cr__fdiv(wall, CR__DAY_US), y;
    unsigned m, d;
    ut_civil_from_days(days, &y, &m, &d);
    snprintf(w->ds, sizeof w->ds, "%04d-%02u-%02u", (int)y, m, d);
    snprintf(w->ds_nodash, sizeof w->ds_nodash, "%04d%02u%02u", (int)y, m, d);
    snprintf(w->hr, sizeof w->hr, "%02d", (int)((wall - days * CR__DAY_US) / CR__HOUR_US));
    rfc3339(w->start, z, w->start_us);
    rfc3339(w->end, z, w->end_us);
    return 0;
}

int cr_unit_parse(const char *s, cr_unit *u)
{
    for (int k = 0; k < 3; k++)
        if (s && !strcasecmp(s, unit_names[k])) {
            *u = (cr_unit)k;
            return 0;
        }
    return -1;
}

const char *cr_unit_name(cr_unit u)
{
    return u >= CR_HOUR && u <= CR_MONTH ? unit_names[u] : "?";
}
