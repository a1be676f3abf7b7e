/* Shortest round-trip formatting of floating-point numbers. */
#include "util/util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The common case without printf: v is m / 10^s for an integer m of at
 * most 15 digits, 1e-4 <= |v| < 1e15 (where %g prints no exponent).  Both
 * m and 10^s are exact doubles, so m / 10^s is the correctly rounded value
 * of the decimal — exactly what strtod makes of its text: the text reads
 * back to v, and with at most 15 digits and the smallest s it is the one
 * %.15g prints.  Returns the length, or 0 when v is not such a number. */
static int fmt_short_decimal(char *out, double v)
{
    static const double p10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15)) return 0;
    for (int s = 0; s < 16; s++) {
        double t = a * p10[s];
        if (t >= 1e15) return 0;
        double m = nearbyint(t);
        if (m / p10[s] != a) continue;
        char digits[24], *p = digits + sizeof digits;
        unsigned long long u = (unsigned long long)m;
        int k = 0;
        do {
            if (k++ == s && s) *--p = '.';
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u || k <= s);
        int n = 0;
        if (v < 0) out[n++] = '-';
        size_t len = (size_t)(digits + sizeof digits - p);
        memcpy(out + n, p, len);
        out[n + (int)len] = 0;
        return n + (int)len;
    }
    return 0;
}

int ut_fmt_double(char *out, double v)
{
    if (isnan(v)) return (int)(strcpy(out, "nan"), 3);
    if (isinf(v)) return v > 0 ? (int)(strcpy(out, "inf"), 3) : (int)(strcpy(out, "-inf"), 4);
    int fast = fmt_short_decimal(out, v);
    if (fast) return fast;
    /* A normal double's shortest form has at most 15 digits exactly when
     * %.15g round-trips; subnormals carry fewer digits, so search upward. */
    int from = v != 0 && fabs(v) < DBL_MIN ? 1 : 15;
    for (int prec = from; prec <= 17; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v) return n;
    }
    return 0; /* unreachable */
}

int ut_fmt_float(char *out, float v)
{
    if (isnan(v)) return (int)(strcpy(out, "nan"), 3);
    if (isinf(v)) return v > 0 ? (int)(strcpy(out, "inf"), 3) : (int)(strcpy(out, "-inf"), 4);
    int from = v != 0 && fabsf(v) < FLT_MIN ? 1 : 6;
    for (int prec = from; prec <= 9; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, (double)v);
        if (prec == 9 || strtof(out, NULL) == v) return n;
    }
    return 0;
}
