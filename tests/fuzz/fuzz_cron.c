/* libFuzzer target: src/cron on arbitrary bytes, read as
 *
 *   <schedule text> \n <POSIX TZ rule> \n <TZif bytes>
 *
 * The schedule goes to cr_parse and cr_parse_every, the rule to
 * cr_zone_from_posix, the rest to cr_zone_from_tzif.  Must never crash, leak
 * or overread.  For every zone that loads (and UTC): next fires come after
 * their instant and previous ones before.  Where the zone is tame — its
 * offset changes at least 3 days apart, more than any jump, as in every real
 * zone — wall times map to instants monotonically and more must hold:
 * cr_next and cr_prev agree on one set of fires, windows tile the timeline
 * and a wall time maps back to itself. */
#include "cron/cr_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of data[*at..size) as a C string (at most cap - 1 bytes). */
static void line(const uint8_t *data, size_t size, size_t *at, char *out, size_t cap)
{
    size_t n = 0;
    while (*at < size && data[*at] != '\n') {
        if (n + 1 < cap) out[n++] = (char)data[*at];
        (*at)++;
    }
    if (*at < size) (*at)++;
    out[n] = 0;
}

#define DAY (86400 * CR__US)

/* Are the real offset changes of z in [lo, hi] at least 3 days apart? */
static int tame(const cr_zone *z, int64_t lo, int64_t hi)
{
    cr__span sp;
    cr__zone_span(z, lo - 3 * DAY, &sp);
    int64_t last = CR__FAR_PAST;
    for (int k = 0; k < 4096; k++) {
        if (sp.prev != sp.off) {
            if (sp.start - last < 3 * DAY) return 0;
            last = sp.start;
        }
        if (sp.end > hi + 3 * DAY || sp.end >= CR__FAR_FUTURE) return 1;
        cr__zone_span(z, sp.end, &sp);
    }
    return 0;
}

static void check_fires(const cr_schedule *s, const cr_zone *z, int64_t t)
{
    int64_t n = cr_next(s, z, t), p = cr_prev(s, z, t);
    if (n != CR_NO_NEXT && (n <= t || n > CR_MAX_US)) abort();
    if (p != CR_NO_PREV && (p >= t || p < CR_MIN_US)) abort();
    if (n == CR_NO_NEXT) return;
    int64_t pn = cr_prev(s, z, n);
    int64_t lo = p != CR_NO_PREV ? p : pn != CR_NO_PREV ? pn : t;
    if (pn != CR_NO_PREV && pn < lo) lo = pn;
    if (n - lo > 800 * DAY || !tame(z, lo, n)) return;
    if (pn != CR_NO_PREV && (pn > t || cr_next(s, z, pn) != n)) abort();
    if (p != CR_NO_PREV && cr_next(s, z, p) != n && cr_next(s, z, p) != t) abort();
}

static void check_windows(const cr_zone *z, int64_t t)
{
    for (int u = CR_HOUR; u <= CR_MONTH; u++) {
        int64_t f = cr_window_floor((cr_unit)u, z, t), e = cr_window_add((cr_unit)u, z, t, 1);
        if (f > t || (e != CR_NO_NEXT && e <= t)) abort();
        if (e == CR_NO_NEXT) continue;
        if (cr_window_floor((cr_unit)u, z, e) != e || cr_window_add((cr_unit)u, z, e, -1) != f)
            abort();
        cr_window w;
        if (cr_window_info((cr_unit)u, z, t, &w) == 0 && (w.start_us != f || w.end_us != e))
            abort();
    }
}

static void check_zone(const cr_zone *z, const cr_schedule *s, int64_t t)
{
    int exact = tame(z, t - 40 * DAY, t + 70 * DAY);
    int off = cr_zone_offset(z, t);
    if (off < -26 * 3600 || off > 26 * 3600) abort();
    cr_local l;
    if (cr_zone_to_utc(z, t, &l) || l.first_us > l.second_us) abort();
    if (exact && l.kind == CR_LOCAL_OK && l.first_us + cr_zone_offset(z, l.first_us) * CR__US != t)
        abort();
    if (s) check_fires(s, z, t);
    /* windows near the range ends may start or end outside it */
    if (exact && t > CR_MIN_US + 40 * DAY && t < CR_MAX_US - 40 * DAY) check_windows(z, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[CR_MAX_TEXT + 64], tz[CR__MAX_FOOTER + 64], err[1024];
    size_t at = 0;
    line(data, size, &at, text, sizeof text);
    line(data, size, &at, tz, sizeof tz);
    cr_schedule *s = cr_parse(text, err, sizeof err);
    if (!s && strncmp(err, "cron", 4)) abort();
    cr_schedule *e = cr_parse_every(text, err, sizeof err);
    if (!e && strncmp(err, "every", 5)) abort();
    int64_t every_us = e ? cr_schedule_every_us(e) : CR__US;
    if (every_us < CR__US || every_us > CR_MAX_EVERY_S * CR__US) abort();
    cr_zone *zp = cr_zone_from_posix(tz, err, sizeof err);
    if (!zp && strncmp(err, "TZ rule", 7)) abort();
    cr_zone *zt = cr_zone_from_tzif("Fuzz/Zone", data + at, size - at, err, sizeof err);
    if (!zt && strncmp(err, "time zone 'Fuzz/Zone': ", 23)) abort();
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 1099511628211ULL;
    const int64_t span = (int64_t)400 * 366 * 86400 * CR__US;
    const int64_t ts[] = {0, 1774744200LL * CR__US /* 2026-03-29T00:30Z */,
                          (int64_t)(h % (uint64_t)span) + 946684800LL * CR__US,
                          CR_MAX_US - 1, CR_MIN_US + 1};
    const cr_zone *zones[] = {NULL, zp, zt};
    for (int k = 0; k < 3; k++) {
        if (k && !zones[k]) continue;
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            check_zone(zones[k], s, ts[i]);
            if (e) check_fires(e, zones[k], ts[i]);
        }
    }
    cr_schedule_destroy(s);
    cr_schedule_destroy(e);
    cr_zone_destroy(zp);
    cr_zone_destroy(zt);
    return 0;
}
