/* jobs: when a job fires and which window a fire covers (over src/cron).
 *
 *   schedule / every set   fires at the schedule's instants; a fire at T
 *                          covers the latest window that closed by T - delay
 *   window only            fires at each window's end + delay, covering it
 *   neither                never fires (manual runs and backfills only)
 *
 * Window `none`: a fire covers [previous fire, this fire). */
#include "jobs/jb_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static cr_unit unit_of(int window)
{
    return window == CF_WINDOW_HOUR ? CR_HOUR : window == CF_WINDOW_DAY ? CR_DAY : CR_MONTH;
}

int jb__timing_init(jb_timing *t, const cf_job *j, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->window = j->window;
    t->delay_us = j->delay_ms * 1000;
    t->zone = cr_zone_load(j->timezone[0] ? j->timezone : "UTC", err, errlen);
    if (!t->zone) return -1;
    if (j->schedule[0]) {
        t->sched = cr_parse(j->schedule, err, errlen);
        if (!t->sched) goto fail;
    } else if (j->every_ms) {
        t->every_us = j->every_ms * 1000;
    }
    return 0;
fail:
    jb__timing_free(t);
    return -1;
}

void jb__timing_free(jb_timing *t)
{
    cr_schedule_destroy(t->sched);
    cr_zone_destroy(t->zone);
    memset(t, 0, sizeof *t);
}

int64_t jb__next_fire(const jb_timing *t, int64_t after_us)
{
    if (t->sched) return cr_next(t->sched, t->zone, after_us);
    if (t->every_us > 0) {
        int64_t k = after_us >= 0 ? after_us / t->every_us : -((-after_us - 1) / t->every_us) - 1;
        return (k + 1) * t->every_us;
    }
    if (t->window == CF_WINDOW_NONE) return CR_NO_NEXT;
    /* the first window end e with e + delay > after */
    cr_unit u = unit_of(t->window);
    int64_t end = cr_window_floor(u, t->zone, after_us - t->delay_us);
    for (int i = 0; i < 3 && end + t->delay_us <= after_us; i++)
        end = cr_window_add(u, t->zone, end, 1);
    return end == CR_NO_NEXT ? CR_NO_NEXT : end + t->delay_us;
}

int64_t jb__prev_fire(const jb_timing *t, int64_t at_us)
{
    if (t->sched) return cr_prev(t->sched, t->zone, at_us + 1);
    if (t->every_us > 0) {
        int64_t k = at_us >= 0 ? at_us / t->every_us : -((-at_us - 1) / t->every_us) - 1;
        return k * t->every_us;
    }
    if (t->window == CF_WINDOW_NONE) return CR_NO_PREV;
    return cr_window_floor(unit_of(t->window), t->zone, at_us - t->delay_us) + t->delay_us;
}

void jb__fire_window(const jb_timing *t, int64_t fire_us, int64_t prev_fire_us, int64_t *ws,
                     int64_t *we)
{
    if (t->window == CF_WINDOW_NONE) {
        *we = fire_us;
        *ws = prev_fire_us == INT64_MIN || prev_fire_us > fire_us ? fire_us : prev_fire_us;
        return;
    }
    cr_unit u = unit_of(t->window);
    *we = cr_window_floor(u, t->zone, fire_us - t->delay_us);
    *ws = cr_window_add(u, t->zone, *we, -1);
}

void jb__window_of(const jb_timing *t, int64_t t_us, int64_t *ws, int64_t *we)
{
    if (t->window == CF_WINDOW_NONE) {
        *ws = *we = t_us;
        return;
    }
    cr_unit u = unit_of(t->window);
    *ws = cr_window_floor(u, t->zone, t_us);
    *we = cr_window_add(u, t->zone, *ws, 1);
}

int64_t jb__window_shift(const jb_timing *t, int64_t ws, int n)
{
    if (t->window == CF_WINDOW_NONE) return ws;
    return cr_window_add(unit_of(t->window), t->zone, ws, n);
}

void jb__local(const jb_timing *t, int64_t t_us, struct tm *tm, int *offset_s)
{
    int off = cr_zone_offset(t ? t->zone : NULL, t_us);
    int64_t s = t_us / 1000000 - (t_us % 1000000 < 0);
    time_t local = (time_t)(s + off);
    gmtime_r(&local, tm);
    if (offset_s) *offset_s = off;
}

int jb__parse_time(const jb_timing *t, const char *s, int64_t *us)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    time_t probe = timegm(&tm);
    struct tm back;
    gmtime_r(&probe, &back);
    if (back.tm_mday != d || back.tm_mon != mo - 1) return -1; /* 2024-02-31 */
    tm = (struct tm){.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    if (s[n] == 0) { /* a date: local midnight */
        int64_t local = (int64_t)timegm(&tm) * 1000000;
        cr_local l;
        if (cr_zone_to_utc(t ? t->zone : NULL, local, &l)) return -1;
        *us = l.first_us;
        return 0;
    }
    int m = 0;
    if ((s[n] != 'T' && s[n] != 't' && s[n] != ' ') ||
        sscanf(s + n + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3)
        return -1;
    const char *z = s + n + 1 + m;
    if (*z == '.')
        for (z++; *z >= '0' && *z <= '9'; z++) {
        }
    int off = 0;
    if (*z == 'Z' || *z == 'z') z++;
    else if ((*z == '+' || *z == '-') && z[1] && z[2] && z[3] == ':') {
        int oh = (z[1] - '0') * 10 + (z[2] - '0'), om = (z[4] - '0') * 10 + (z[5] - '0');
        off = (oh * 3600 + om * 60) * (*z == '-' ? -1 : 1);
        z += 6;
    } else {
        return -1;
    }
    if (*z) return -1;
    if (h > 23 || mi > 59 || sec > 60) return -1;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
    *us = ((int64_t)timegm(&tm) - off) * 1000000;
    return 0;
}

void jb__ds(const jb_timing *t, int64_t t_us, char *out)
{
    struct tm tm;
    jb__local(t, t_us, &tm, NULL);
    snprintf(out, JB_DS_LEN, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
