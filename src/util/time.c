/* Civil dates, RFC 3339 timestamps, monotonic clock. */
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms). */
int64_t ut_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ut_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, size_t at, int count, int *out)
{
    int v = 0;
    if (at + (size_t)count > n) return -1;
    for (int i = 0; i < count; i++) {
        char c = s[at + (size_t)i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

static int parse_date(const char *s, size_t n, int *y, int *mo, int *d)
{
    if (digits(s, n, 0, 4, y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, mo) ||
        s[7] != '-' || digits(s, n, 8, 2, d))
        return -1;
    if (*mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo)) return -1;
    return 0;
}

int ut_date_parse(const char *s, size_t n, int32_t *days)
{
    int y, mo, d;
    if (n != 10 || parse_date(s, n, &y, &mo, &d)) return -1;
    *days = (int32_t)ut_days_from_civil(y, (unsigned)mo, (unsigned)d);
    return 0;
}

/* The fraction at s[*i] (after '.'): microseconds into *frac, its digit
 * count into *nd; *exact = 0 when digits past the sixth are not all 0. */
static int parse_frac(const char *s, size_t n, size_t *i, int64_t *frac, int *nd, int *exact)
{
    *frac = 0;
    *nd = 0;
    *exact = 1;
    if (*i >= n || s[*i] != '.') return 0;
    (*i)++;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (*nd < 6) *frac = *frac * 10 + (s[*i] - '0');
        else if (s[*i] != '0') *exact = 0;
        (*nd)++;
        (*i)++;
    }
    if (*nd == 0) return -1;
    for (int k = *nd; k < 6; k++) *frac *= 10;
    return 0;
}

/* The zone at s[i..n) into lay and *off (seconds east of UTC). */
static int parse_zone(const char *s, size_t n, size_t i, ut_ts_layout *lay, int64_t *off)
{
    *off = 0;
    lay->zone = UT_TZ_NONE;
    if (i == n) return 0;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
        lay->zone = s[i] == 'Z' ? UT_TZ_Z : UT_TZ_LOWER_Z;
        return 0;
    }
    if (s[i] != '+' && s[i] != '-') return -1;
    int oh, om;
    if (digits(s, n, i + 1, 2, &oh)) return -1;
    size_t j = i + 3;
    lay->zone = UT_TZ_PLAIN;
    if (j < n && s[j] == ':') {
        j++;
        lay->zone = UT_TZ_COLON;
    }
    if (digits(s, n, j, 2, &om) || j + 2 != n || oh > 23 || om > 59) return -1;
    lay->neg = s[i] == '-';
    lay->off_min = (uint16_t)(oh * 60 + om);
    *off = (lay->neg ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    return 0;
}

int ut_ts_parse_layout(const char *s, size_t n, int64_t *us, ut_ts_layout *lay)
{
    int y, mo, d, h, mi, sec, nd, exact;
    memset(lay, 0, sizeof *lay);
    if (n < 19 || n > 40 || parse_date(s, n, &y, &mo, &d)) return -1;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return -1;
    if (digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
        digits(s, n, 17, 2, &sec))
        return -1;
    if (h > 23 || mi > 59 || sec > 60) return -1;
    size_t i = 19;
    int64_t frac, off;
    if (parse_frac(s, n, &i, &frac, &nd, &exact) || parse_zone(s, n, i, lay, &off)) return -1;
    int64_t days = ut_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
    *us = secs * 1000000 + frac;
    lay->sep = s[10];
    lay->digits = (uint8_t)(nd > 9 ? 9 : nd);
    lay->leap = sec == 60;
    return exact && nd <= 9 ? 0 : 1;
}

int ut_ts_parse(const char *s, size_t n, int64_t *us)
{
    ut_ts_layout lay;
    return ut_ts_parse_layout(s, n, us, &lay) < 0 ? -1 : 0;
}

/* Split µs since the epoch into civil date and time of day. */
static void split_us(int64_t us, int64_t *y, unsigned *m, unsigned *d, int *h, int *mi, int *s,
                     int64_t *frac)
{
    int64_t secs = us / 1000000;
    *frac = us % 1000000;
    if (*frac < 0) {
        *frac += 1000000;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    ut_civil_from_days(days, y, m, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
}

int ut_ts_format(char *out, int64_t us)
{
    int64_t y, frac;
    unsigned m, d;
    int h, mi, s;
    split_us(us, &y, &m, &d, &h, &mi, &s, &frac);
    if (frac)
        return snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02d.%06lldZ", (long long)y, m, d, h,
                        mi, s, (long long)frac);
    return snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, h, mi, s);
}

int ut_ts_format_ntz(char *out, int64_t us)
{
    int n = ut_ts_format(out, us);
    assert(n > 0 && out[n - 1] == 'Z');
    out[--n] = 0;
    return n;
}

int ut_time_format(char *out, int64_t us)
{
    if (us < 0 || us > UT_TIME_MAX_US) return snprintf(out, 32, "%lld", (long long)us);
    int64_t secs = us / 1000000, frac = us % 1000000;
    int h = (int)(secs / 3600), mi = (int)(secs % 3600 / 60), s = (int)(secs % 60);
    if (frac) return snprintf(out, 32, "%02d:%02d:%02d.%06lld", h, mi, s, (long long)frac);
    return snprintf(out, 32, "%02d:%02d:%02d", h, mi, s);
}

/* Two digits at s as a number, or -1. */
static int two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int ut_time_parse(const char *s, size_t n, int64_t *us)
{
    if (n < 8 || s[2] != ':' || s[5] != ':') return -1;
    int h = two_digits(s), mi = two_digits(s + 3), sec = two_digits(s + 6);
    if (h < 0 || h > 24 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return -1;
    int64_t frac = 0;
    size_t i = 8;
    if (i < n) {
        if (s[i++] != '.' || i == n || n - i > 6) return -1;
        int digits = 0;
        for (; i < n; i++, digits++) {
            if (s[i] < '0' || s[i] > '9') return -1;
            frac = frac * 10 + (s[i] - '0');
        }
        for (; digits < 6; digits++) frac *= 10;
    }
    int64_t v = ((int64_t)h * 3600 + mi * 60 + sec) * 1000000 + frac;
    if (v > UT_TIME_MAX_US) return -1;
    *us = v;
    return 0;
}

int ut_ts_format_fixed(char *out, int64_t us)
{
    int64_t y, frac;
    unsigned m, d;
    int h, mi, s;
    split_us(us, &y, &m, &d, &h, &mi, &s, &frac);
    return snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02d.%06lldZ", (long long)y, m, d, h, mi,
                    s, (long long)frac);
}

int ut_ts_render(char *out, int64_t us, const ut_ts_layout *lay)
{
    /* years 0000-9999 (what ut_ts_parse takes), with a day to spare */
    if (us < -62167305600000000LL || us > 253402387200000000LL) return ut_ts_format_fixed(out, us);
    int64_t y, frac, off = (int64_t)lay->off_min * 60 * (lay->neg ? -1 : 1);
    if (lay->zone != UT_TZ_COLON && lay->zone != UT_TZ_PLAIN) off = 0;
    unsigned m, d;
    int h, mi, s;
    /* the wall time in the text's offset; a leap second is written as :60 of
     * the second before the instant it stands for */
    split_us(us + (off - (lay->leap ? 1 : 0)) * 1000000, &y, &m, &d, &h, &mi, &s, &frac);
    if (lay->leap) s = 60;
    char sep = lay->sep == 't' || lay->sep == ' ' ? lay->sep : 'T';
    int n = snprintf(out, UT_TS_TEXT_MAX, "%04lld-%02u-%02u%c%02d:%02d:%02d", (long long)y, m, d,
                     sep, h, mi, s);
    int nd = lay->digits > 9 ? 9 : lay->digits;
    if (nd) {
        static const int64_t p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
        int64_t f = nd >= 6 ? frac : frac / p10[6 - nd];
        n += snprintf(out + n, (size_t)(UT_TS_TEXT_MAX - n), ".%0*lld%.*s", nd < 6 ? nd : 6,
                      (long long)f, nd > 6 ? nd - 6 : 0, "000");
    }
    int oh = lay->off_min / 60 % 100, om = lay->off_min % 60;
    char sign = lay->neg ? '-' : '+';
    switch (lay->zone) {
    case UT_TZ_Z: out[n++] = 'Z'; break;
    case UT_TZ_LOWER_Z: out[n++] = 'z'; break;
    case UT_TZ_COLON: n += snprintf(out + n, (size_t)(UT_TS_TEXT_MAX - n), "%c%02d:%02d", sign, oh, om); break;
    case UT_TZ_PLAIN: n += snprintf(out + n, (size_t)(UT_TS_TEXT_MAX - n), "%c%02d%02d", sign, oh, om); break;
    default: break;
    }
    out[n] = 0;
    return n;
}

int ut_date_format(char *out, int32_t days)
{
    int64_t y;
    unsigned m, d;
    ut_civil_from_days(days, &y, &m, &d);
    return snprintf(out, 24, "%04lld-%02u-%02u", (long long)y, m, d);
}

uint64_t ut_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
