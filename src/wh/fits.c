/* wh: which text values a target column of a given type takes (wh.h). */
#include "wh/wh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* PostgreSQL's information_schema spellings, and MySQL's (int, tinyint,
 * decimal, double, datetime, ...). */
wh_class wh_class_of(const char *t)
{
    static const char *const ints[] = {"smallint", "integer", "bigint", "int", "tinyint",
                                       "mediumint", NULL};
    static const char *const nums[] = {"numeric", "real", "double precision", "decimal", "float",
                                       "double", NULL};
    for (int i = 0; ints[i]; i++)
        if (!strcmp(t, ints[i])) return WH_INTEGER;
    for (int i = 0; nums[i]; i++)
        if (!strcmp(t, nums[i])) return WH_NUMBER;
    if (!strcmp(t, "boolean")) return WH_BOOLEAN;
    if (!strcmp(t, "date")) return WH_DATE;
    if (!strncmp(t, "timestamp", 9) || !strcmp(t, "datetime")) return WH_TIMESTAMP;
    return WH_ANY;
}

static int digits(const char *v, size_t n, size_t *i, size_t min, size_t max)
{
    size_t k = 0;
    while (*i < n && v[*i] >= '0' && v[*i] <= '9' && k < max) (*i)++, k++;
    return k >= min;
}

static int is_integer(const char *v, size_t n)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, v, n);
    buf[n] = 0;
    size_t i = buf[0] == '-' || buf[0] == '+';
    if (!digits(buf, n, &i, 1, 20) || i != n) return 0;
    errno = 0;
    (void)strtoll(buf, NULL, 10);
    return errno == 0;
}

static int is_number(const char *v, size_t n)
{
    char buf[400];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, v, n);
    buf[n] = 0;
    const char *s = buf + (buf[0] == '-' || buf[0] == '+');
    if (!strcasecmp(s, "nan") || !strcasecmp(s, "infinity")) return 1;
    size_t i = (size_t)(s - buf), m = strlen(buf);
    int intpart = digits(buf, m, &i, 1, m), frac = 0;
    if (i < m && buf[i] == '.') i++, frac = digits(buf, m, &i, 1, m);
    if (!intpart && !frac) return 0;
    if (i < m && (buf[i] == 'e' || buf[i] == 'E')) {
        i++;
        if (i < m && (buf[i] == '-' || buf[i] == '+')) i++;
        if (!digits(buf, m, &i, 1, 4)) return 0;
    }
    return i == m;
}

static int is_boolean(const char *v, size_t n)
{
    static const char *const w[] = {"t", "f", "true", "false", "yes", "no", "on", "off", "1", "0"};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (strlen(w[i]) == n && !strncasecmp(w[i], v, n)) return 1;
    return 0;
}

/* YYYY-MM-DD at v (n >= 10), month and day in range. */
static int is_date(const char *v, size_t n)
{
    size_t i = 0;
    if (n < 10 || !digits(v, n, &i, 4, 4) || v[i++] != '-') return 0;
    int m = (v[5] - '0') * 10 + (v[6] - '0'), d;
    if (!digits(v, n, &i, 2, 2) || v[i++] != '-' || !digits(v, n, &i, 2, 2)) return 0;
    d = (v[8] - '0') * 10 + (v[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int is_timestamp(const char *v, size_t n)
{
    if (!is_date(v, n)) return 0;
    if (n == 10) return 1;
    size_t i = 11;
    if ((v[10] != 'T' && v[10] != ' ') || !digits(v, n, &i, 2, 2) || i >= n || v[i++] != ':' ||
        !digits(v, n, &i, 2, 2))
        return 0;
    for (; i < n; i++) /* seconds, fraction, zone */
        if (!strchr("0123456789:.+-Z ", v[i])) return 0;
    return 1;
}

int wh_fits(wh_class c, const char *v, size_t n, char *why, size_t whylen)
{
    static const char *const names[] = {"text", "an integer", "a number", "a boolean", "a date",
                                        "a timestamp"};
    if (memchr(v, 0, n)) return snprintf(why, whylen, "a NUL byte (text cannot hold it)"), 0;
    int ok = c == WH_ANY        ? 1
             : c == WH_INTEGER  ? is_integer(v, n)
             : c == WH_NUMBER   ? is_number(v, n)
             : c == WH_BOOLEAN  ? is_boolean(v, n)
             : c == WH_DATE     ? is_date(v, n) && n == 10
                                : is_timestamp(v, n);
    if (!ok)
        snprintf(why, whylen, "'%.*s%s' is not %s", (int)(n < 40 ? n : 40), v, n > 40 ? "…" : "",
                 names[c]);
    return ok;
}
