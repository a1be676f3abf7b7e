/* Exact decimals: text -> unscaled 128-bit integer (the writer), the
 * unscaled value <-> its Parquet bytes, and unscaled value -> text (the
 * reader's pq_decimal_format).
 *
 * Text grammar (what PostgreSQL and MySQL print, plus an exponent):
 *
 *   [+|-] ( digits [ "." [digits] ] | "." digits ) [ (e|E) [+|-] digits ]
 *
 * The value is D * 10^(exp - fraction digits), D the digits without the
 * point.  Stored is unscaled = value * 10^scale, which must be an integer
 * (no rounding) and below 10^precision in magnitude.  Leading and trailing
 * zeros of D are dropped first, so "0000.5000" and 1e-30 digits of zeros
 * never overflow the 128-bit accumulator: at most 38 significant digits are
 * ever multiplied in. */
#include "parquet/writer_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_TEXT 1024      /* longest decimal text accepted */
#define MAX_EXP 100000     /* |exponent| beyond this is refused outright */

typedef unsigned __int128 u128;

static u128 pow10_u128(int k)
{
    assert(k >= 0 && k <= 38);
    u128 v = 1;
    while (k--) v *= 10;
    return v;
}

int pq__dec_flba_len(int precision)
{
    assert(precision >= 1 && precision <= 38);
    u128 max = pow10_u128(precision) - 1;
    int n = 1;
    /* smallest n with 2^(8n-1) > max: the sign bit stays free */
    while (n < 16 && ((u128)1 << (8 * n - 1)) <= max) n++;
    return n;
}

/* A scanned decimal text: sign, significant digits, power of ten. */
typedef struct dec_scan {
    int neg;
    char dig[40];   /* significant digits, no leading/trailing zeros */
    int ndig;       /* 0 = the value is zero */
    long exp10;     /* value = dig * 10^exp10 */
} dec_scan;

static int scan_exponent(const char *s, size_t n, size_t *i, long *e, char *why, size_t wl)
{
    int eneg = 0;
    long v = 0;
    (*i)++;
    if (*i < n && (s[*i] == '+' || s[*i] == '-')) eneg = s[(*i)++] == '-';
    if (*i >= n) return ut_err(why, wl, "exponent without digits");
    for (; *i < n; (*i)++) {
        if (s[*i] < '0' || s[*i] > '9') return ut_err(why, wl, "unexpected '%c'", s[*i]);
        if (v <= MAX_EXP) v = v * 10 + (s[*i] - '0');
    }
    if (v > MAX_EXP) return ut_err(why, wl, "exponent out of range");
    *e = eneg ? -v : v;
    return 0;
}

/* Scan the text into *o.  0, or -1 with a reason in why. */
static int scan(const char *s, size_t n, dec_scan *o, char *why, size_t wl)
{
    memset(o, 0, sizeof *o);
    size_t i = 0;
    if (n > MAX_TEXT) return ut_err(why, wl, "text over %d bytes", MAX_TEXT);
    if (i < n && (s[i] == '+' || s[i] == '-')) o->neg = s[i++] == '-';
    int seen_digit = 0, seen_point = 0;
    long nfrac = 0, zeros = 0; /* zeros: trailing zeros not yet in dig */
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == '.' && !seen_point) {
            seen_point = 1;
            continue;
        }
        if (ch < '0' || ch > '9') break;
        seen_digit = 1;
        if (seen_point) nfrac++;
        if (ch == '0') {
            if (o->ndig) zeros++; /* leading zeros are dropped */
            continue;
        }
        if (o->ndig + zeros + 1 > 38)
            return ut_err(why, wl, "more than 38 significant digits");
        for (; zeros; zeros--) o->dig[o->ndig++] = '0';
        o->dig[o->ndig++] = ch;
    }
    if (!seen_digit) {
        if (n - i >= 3 && (!strncasecmp(s + i, "nan", 3) || !strncasecmp(s + i, "inf", 3)))
            return ut_err(why, wl, "NaN and Infinity have no DECIMAL value");
        if (i < n) return ut_err(why, wl, "unexpected '%c'", s[i]);
        return ut_err(why, wl, "no digits");
    }
    long e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (scan_exponent(s, n, &i, &e, why, wl)) return -1;
    } else if (i < n) {
        return ut_err(why, wl, "unexpected '%c'", s[i]);
    }
    /* dig then `zeros` zeros then the point moved nfrac left, times 10^e */
    o->exp10 = zeros - nfrac + e;
    if (!o->ndig) o->neg = 0, o->exp10 = 0; /* "-0.00" is 0 */
    return 0;
}

int pq__dec_parse(const char *s, size_t n, int precision, int scale, __int128 *out, char *why,
                  size_t wl)
{
    assert(precision >= 1 && precision <= 38 && scale >= 0 && scale <= precision);
    dec_scan d;
    if (scan(s, n, &d, why, wl)) return -1;
    *out = 0;
    if (!d.ndig) return 0;
    long k = d.exp10 + scale; /* unscaled = dig * 10^k */
    if (k < 0)
        return ut_err(why, wl, "more fraction digits than the scale %d (values are never rounded)",
                      scale);
    if (d.ndig + k > precision)
        return ut_err(why, wl, "more than %d integer digits (DECIMAL(%d,%d))", precision - scale,
                      precision, scale);
    u128 v = 0;
    for (int i = 0; i < d.ndig; i++) v = v * 10 + (u128)(d.dig[i] - '0');
    v *= pow10_u128((int)k);
    *out = d.neg ? -(__int128)v : (__int128)v;
    return 0;
}

int pq__dec_fits(__int128 v, int precision)
{
    u128 m = v < 0 ? -(u128)v : (u128)v;
    return m < pow10_u128(precision);
}

void pq__dec_to_be(__int128 v, int len, uint8_t *out)
{
    assert(len >= 1 && len <= 16);
    u128 u = (u128)v;
    for (int i = len - 1; i >= 0; i--, u >>= 8) out[i] = (uint8_t)u;
}

/* ---- reader side ----------------------------------------------------------- */

int pq_decimal_format(int64_t hi, uint64_t lo, int scale, char *out, size_t n)
{
    char dig[48];
    int nd = 0;
    if (n) out[0] = 0;
    if (scale < 0 || scale > 76) return -1;
    __int128 v = (__int128)(((u128)(uint64_t)hi << 64) | lo);
    int neg = v < 0;
    u128 m = neg ? -(u128)v : (u128)v;
    do {
        dig[nd++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m);
    while (nd <= scale) dig[nd++] = '0'; /* at least one digit before the point */
    size_t need = (size_t)neg + (size_t)nd + (scale ? 1 : 0);
    if (need + 1 > n) return -1;
    size_t o = 0;
    if (neg) out[o++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        out[o++] = dig[i];
        if (i == scale && scale) out[o++] = '.';
    }
    out[o] = 0;
    assert(o == need);
    return (int)o;
}
