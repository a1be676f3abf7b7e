/* snap: a source's text form of one value into the value the lake stores.
 *
 * The sources print values in their ISO forms (snap.h: the session is UTC,
 * ISO dates, hex bytea), so each class has one text form to read; what is
 * a value of the class but has no lake form (PostgreSQL's infinity, years
 * before 1 or after 9999 such as "0044-03-15 BC" or "10000-01-01", MySQL's
 * zero dates and its TIME values outside a day, a NaN numeric for a
 * decimal) is reported as 1 so the caller
 * stores NULL and counts it, never fails the run on it. */
#include "snap/snap.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *sn_class_name(sn_class c)
{
    static const char *const names[] = {
        [SN_BOOL] = "bool",     [SN_INT32] = "int32",   [SN_INT64] = "int64",
        [SN_FLOAT] = "float",   [SN_DOUBLE] = "double", [SN_DECIMAL] = "decimal",
        [SN_STRING] = "string", [SN_BYTES] = "bytes",   [SN_DATE] = "date",
        [SN_TIME] = "time",     [SN_TIMESTAMP] = "timestamp",
        [SN_TIMESTAMP_NTZ] = "timestamp_ntz", [SN_BINARY] = "binary"};
    return (unsigned)c < sizeof names / sizeof *names && names[c] ? names[c] : "?";
}

/* Values the sources print for what has no lake form: infinity and NaN
 * words, " BC" years, 5-digit years, MySQL's zero dates.  Looks at the
 * first and last bytes before comparing anything. */
static int no_lake_form(const char *v, size_t n)
{
    static const struct {
        const char *w;
        size_t n;
    } words[] = {{"infinity", 8}, {"-infinity", 9}, {"NaN", 3}, {"Infinity", 8}, {"-Infinity", 9}};
    if (n == 0) return 0;
    if (v[0] == 'i' || v[0] == '-' || v[0] == 'N' || v[0] == 'I')
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if (n == words[i].n && !memcmp(v, words[i].w, n)) return 1;
    if (n > 3 && v[n - 1] == 'C' && !memcmp(v + n - 3, " BC", 3)) return 1; /* before year 1 */
    if (n >= 5 && v[0] >= '0' && v[0] <= '9' && v[4] >= '0' && v[4] <= '9') return 1; /* 5-digit year */
    /* MySQL's zero date, and the partly zero ones it keeps without NO_ZERO_IN_DATE
     * ("2024-05-00", "0000-01-01") */
    if (n >= 10 && v[4] == '-' && v[7] == '-' &&
        (!memcmp(v, "0000", 4) || !memcmp(v + 5, "00", 2) || !memcmp(v + 8, "00", 2)))
        return 1;
    return 0;
}

static int bad(sn_class c, const char *v, size_t n, char *err, size_t errlen)
{
    return ut_err(err, errlen, "'%.*s' is not a %s value", n > 60 ? 60 : (int)n, v,
                  sn_class_name(c));
}

/* A decimal integer [-+]digits within [lo, hi], without a copy (the
 * sources' output has no spaces or other forms). */
static int parse_int(const char *v, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    size_t i = 0;
    int neg = n && v[0] == '-';
    if (n && (v[0] == '-' || v[0] == '+')) i++;
    if (i == n || n - i > 19) return -1;
    uint64_t x = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)v[i] - '0';
        if (d > 9) return -1;
        x = x * 10 + d; /* at most 19 digits: no wrap of uint64 */
    }
    if (neg ? x > (uint64_t)INT64_MAX + 1 : x > (uint64_t)INT64_MAX) return -1;
    int64_t r = neg ? (int64_t)(0 - x) : (int64_t)x;
    if (r < lo || r > hi) return -1;
    *out = r;
    return 0;
}

static int parse_double(const char *v, size_t n, double *out)
{
    char buf[64], *end;
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, v, n);
    buf[n] = 0;
    errno = 0;
    *out = strtod(buf, &end);
    return *end ? -1 : 0; /* ERANGE: PostgreSQL printed it, so it is a float's */
}

/* "HH:MM:SS[.ffffff]" (24:00:00 allowed, as PostgreSQL does) into µs. */
static int parse_time(const char *v, size_t n, int64_t *us)
{
    if (n < 8 || v[2] != ':' || v[5] != ':') return -1;
    int64_t f[3];
    for (int k = 0; k < 3; k++) {
        const char *p = v + 3 * k;
        if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
        f[k] = (p[0] - '0') * 10 + (p[1] - '0');
    }
    int64_t frac = 0, scale = 1000000;
    if (n > 8) {
        if (v[8] != '.' || n == 9 || n > 15) return -1;
        for (size_t i = 9; i < n; i++) {
            if (v[i] < '0' || v[i] > '9') return -1;
            scale /= 10;
            frac += (v[i] - '0') * scale;
        }
    }
    if (f[1] > 59 || f[2] > 59 || f[0] > 24 || (f[0] == 24 && (f[1] || f[2] || frac))) return -1;
    *us = ((f[0] * 60 + f[1]) * 60 + f[2]) * 1000000 + frac;
    return 0;
}

/* MySQL's TIME beyond a day: "[-]HHH:MM:SS[.ffffff]", -838:59:59 ..
 * 838:59:59 (a duration, not a time of day).  1 when v is of that form. */
static int is_long_time(const char *v, size_t n)
{
    size_t i = n && v[0] == '-', h = 0;
    while (i < n && v[i] >= '0' && v[i] <= '9' && h < 4) i++, h++;
    if (h < 2 || n - i < 6 || v[i] != ':' || v[i + 3] != ':') return 0;
    for (size_t k = i + 1; k < i + 6; k++)
        if (k != i + 3 && (v[k] < '0' || v[k] > '9')) return 0;
    if (v[i + 1] > '5' || v[i + 4] > '5') return 0;
    i += 6;
    if (i == n) return 1;
    if (v[i] != '.' || i + 1 == n || n - i > 7) return 0;
    for (i++; i < n; i++)
        if (v[i] < '0' || v[i] > '9') return 0;
    return 1;
}

/* A timestamp: PostgreSQL's "YYYY-MM-DD HH:MM:SS[.f]" with "+00" (the
 * session is UTC) or without a zone (wall-clock time, kept as written). */
static int parse_ts(const char *v, size_t n, int64_t *us)
{
    if (n > 3 && v[n - 3] == '+' && v[n - 2] == '0' && v[n - 1] == '0') n -= 3;
    if (n < 19 || n > 40) return -1;
    return ut_ts_parse(v, n, us);
}

/* bytea's hex form "\x0a1b" into b. */
static int parse_bytea(const char *v, size_t n, ut_buf *b)
{
    if (n < 2 || v[0] != '\\' || v[1] != 'x' || (n - 2) % 2) return -1;
    ut_buf_reset(b);
    for (size_t i = 2; i < n; i += 2) {
        int hi = -1, lo = -1;
        for (int k = 0; k < 2; k++) {
            unsigned char c = (unsigned char)v[i + (size_t)k];
            int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (k == 0) hi = x;
            else lo = x;
        }
        if (hi < 0 || lo < 0) return -1;
        ut_buf_putc(b, (uint8_t)(hi << 4 | lo));
    }
    return 0;
}

/* A decimal's text: [-+]digits[.digits]; NaN has no lake form. */
static int check_decimal(const char *v, size_t n)
{
    size_t i = v[0] == '-' || v[0] == '+', digits = 0, dots = 0;
    for (; i < n; i++) {
        if (v[i] == '.') dots++;
        else if (v[i] >= '0' && v[i] <= '9') digits++;
        else return -1;
    }
    return digits && dots <= 1 ? 0 : -1;
}

int sn_convert(sn_class c, const char *v, size_t n, sn_value *out, char *err, size_t errlen)
{
    int32_t days;
    out->p = v, out->n = n;
    switch (c) {
    case SN_STRING: return 0;
    case SN_BOOL:
        if (n == 1 && (v[0] == 't' || v[0] == '1')) return out->i = 1, 0;
        if (n == 1 && (v[0] == 'f' || v[0] == '0')) return out->i = 0, 0;
        break;
    case SN_INT32:
        if (!parse_int(v, n, INT32_MIN, INT32_MAX, &out->i)) return 0;
        break;
    case SN_INT64:
        if (!parse_int(v, n, INT64_MIN, INT64_MAX, &out->i)) return 0;
        break;
    case SN_FLOAT:
    case SN_DOUBLE:
        if (!parse_double(v, n, &out->d)) return 0;
        break;
    case SN_DECIMAL:
        if (n && !check_decimal(v, n)) return 0;
        if (n && (v[n - 1] == 'N' || v[n - 1] == 'y')) return 1; /* NaN, [-]Infinity */
        break;
    case SN_BYTES:
        if (out->bytes && !parse_bytea(v, n, out->bytes)) {
            out->p = (const char *)out->bytes->p, out->n = out->bytes->len;
            return 0;
        }
        break;
    case SN_DATE:
        if (no_lake_form(v, n)) return 1;
        if (n == 10 && !ut_date_parse(v, n, &days)) return out->i = days, 0;
        break;
    case SN_TIME:
        if (!parse_time(v, n, &out->i)) return 0;
        if (is_long_time(v, n)) return 1; /* negative or over 24 hours: no time of day */
        break;
    case SN_BINARY: return 0;
    case SN_TIMESTAMP:
    case SN_TIMESTAMP_NTZ:
        if (no_lake_form(v, n)) return 1;
        if (!parse_ts(v, n, &out->i)) return 0;
        break;
    }
    return bad(c, v, n, err, errlen);
}
