/* cr_next / cr_prev: fire instants of a schedule in a zone.
 *
 * An interval fires at the multiples of its period since the epoch.  A cron
 * schedule is searched span by span of the zone (a stretch with one offset,
 * cr__zone_span).  Let hw(a) be the high-water wall time before instant a:
 * the largest wall time any instant before a had (walls below it have
 * occurred already).  Inside a span [a, b) with offset o the fires are
 *   - the wall times L the fields match in [max(a + o, hw(a)), b + o), at
 *     L - o: a wall time repeated by a backward jump fires on its first pass;
 *   - the instant a itself when the fields match a wall time in
 *     [hw(a), a + o), the wall times a forward jump skipped: they fire at the
 *     first instant after the gap.
 * This set is the same searched forward or backward, and when the zone's
 * changes lie further apart than their jumps (every real zone) mapping wall
 * times to instants this way is monotonic, so the first match found is the
 * answer.
 * hw only depends on the spans of the 54 hours before a (offsets are within
 * 26 hours); the spans searched are capped: every TZif transition plus 401
 * years of a footer rule cover every schedule that parses (see match.c). */
#include "cron/cr_int.h"

#define MAX_SPANS (CR__MAX_TRANS + 401 * 3 + 64)
#define HW_REACH (54 * CR__HOUR_US)
#define HW_SPANS 64

static int64_t every_next(int64_t p, int64_t after)
{
    int64_t k = cr__fdiv(after, p) + 1;
    return k > CR_MAX_US / p ? CR_NO_NEXT : k * p;
}

static int64_t every_prev(int64_t p, int64_t before)
{
    int64_t k = cr__fdiv(before - 1, p);
    return k < CR_MIN_US / p ? CR_NO_PREV : k * p;
}

/* The high-water wall time of the instants before span sp. */
static int64_t high_water(const cr_zone *z, const cr__span *sp)
{
    if (sp->start <= CR__FAR_PAST) return CR__FAR_PAST;
    int64_t hw = sp->start + sp->prev * CR__US;
    cr__span b;
    cr__zone_span(z, sp->start - 1, &b);
    for (int k = 0; k < HW_SPANS && b.start > sp->start - HW_REACH && b.start > CR__FAR_PAST; k++) {
        cr__zone_span(z, b.start - 1, &b);
        if (b.end + b.off * CR__US > hw) hw = b.end + b.off * CR__US;
    }
    return hw;
}

int64_t cr_next(const cr_schedule *s, const cr_zone *z, int64_t after_us)
{
    if (after_us < CR_MIN_US || after_us >= CR_MAX_US) return CR_NO_NEXT;
    if (s->every_us) return every_next(s->every_us, after_us);
    cr__span sp;
    cr__zone_span(z, after_us, &sp);
    int64_t hw = high_water(z, &sp), w;
    for (int i = 0; i < MAX_SPANS && sp.start <= CR_MAX_US; i++) {
        int64_t o = sp.off * CR__US, lo = (i == 0 ? after_us + 1 : sp.start) + o;
        if (i > 0 && hw < sp.start + o && cr__next_wall(s, hw, sp.start + o) != CR_NO_NEXT)
            return sp.start;
        w = cr__next_wall(s, lo > hw ? lo : hw, sp.end + o);
        if (w != CR_NO_NEXT) return w - o > CR_MAX_US ? CR_NO_NEXT : w - o;
        if (sp.end >= CR__FAR_FUTURE) break;
        if (sp.end + o > hw) hw = sp.end + o;
        cr__zone_span(z, sp.end, &sp);
    }
    return CR_NO_NEXT;
}

int64_t cr_prev(const cr_schedule *s, const cr_zone *z, int64_t before_us)
{
    if (before_us <= CR_MIN_US || before_us > CR_MAX_US + 1) return CR_NO_PREV;
    if (s->every_us) return every_prev(s->every_us, before_us);
    cr__span sp;
    cr__zone_span(z, before_us - 1, &sp);
    for (int i = 0; i < MAX_SPANS && sp.end > CR_MIN_US; i++) {
        int64_t o = sp.off * CR__US, hw = high_water(z, &sp), lo = sp.start + o;
        int64_t w = cr__prev_wall(s, lo > hw ? lo : hw, (i == 0 ? before_us : sp.end) + o);
        if (w != CR_NO_PREV) return w - o < CR_MIN_US ? CR_NO_PREV : w - o;
        if (sp.start <= CR__FAR_PAST) break;
        if (hw < sp.start + o && cr__prev_wall(s, hw, sp.start + o) != CR_NO_PREV)
            return sp.start < CR_MIN_US ? CR_NO_PREV : sp.start;
        cr__zone_span(z, sp.start - 1, &sp);
    }
    return CR_NO_PREV;
}
