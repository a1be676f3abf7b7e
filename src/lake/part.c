/* Event time and Hive-style partitions. */
#include "lake/lk_int.h"

#include <math.h>
#include <stdio.h>

#define US_PER_HOUR 3600000000LL
#define US_PER_DAY 86400000000LL

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int lk__event_time(const js_value *v, lk_time_format f, int64_t *us)
{
    if (v->kind == JS_STRING) {
        if (f != LK_TIME_AUTO && f != LK_TIME_RFC3339) return -1;
        return ut_ts_parse(v->s, v->n, us);
    }
    double x;
    if (v->kind == JS_INT) x = (double)v->i;
    else if (v->kind == JS_DOUBLE) x = v->d;
    else return -1;
    if (!isfinite(x)) return -1;
    double scale;
    switch (f) {
    case LK_TIME_EPOCH_S: scale = 1e6; break;
    case LK_TIME_EPOCH_MS: scale = 1e3; break;
    case LK_TIME_EPOCH_US: scale = 1; break;
    case LK_TIME_AUTO: {
        double a = fabs(x);
        scale = a < 1e11 ? 1e6 : a < 1e14 ? 1e3 : 1;
        break;
    }
    default: return -1;
    }
    double r = x * scale;
    if (r < -9.2e18 || r > 9.2e18) return -1;
    if (v->kind == JS_INT && scale != 1) *us = v->i * (int64_t)scale;
    else *us = (int64_t)r;
    return 0;
}

int64_t lk__part_key(int64_t us, lk_partitioning p)
{
    switch (p) {
    case LK_PART_DT_HR: return floordiv(us, US_PER_HOUR);
    case LK_PART_DT: return floordiv(us, US_PER_DAY);
    default: return 0;
    }
}

void lk__part_date(int64_t key, lk_partitioning p, char *out, size_t n)
{
    int64_t day = p == LK_PART_DT_HR ? floordiv(key, 24) : key;
    char d[24];
    ut_date_format(d, (int32_t)day);
    snprintf(out, n, "%s", d);
}

void lk__part_path(int64_t key, lk_partitioning p, char *out, size_t n)
{
    char d[24];
    switch (p) {
    case LK_PART_DT_HR:
        lk__part_date(key, p, d, sizeof d);
        snprintf(out, n, "dt=%s/hr=%02d", d, (int)(key - floordiv(key, 24) * 24));
        break;
    case LK_PART_DT:
        lk__part_date(key, p, d, sizeof d);
        snprintf(out, n, "dt=%s", d);
        break;
    default:
        out[0] = 0;
    }
}
