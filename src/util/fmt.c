/* Shortest round-trip formatting of floating-point numbers. */
#include "util/util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ut_fmt_double(char *out, double v)
{
    if (isnan(v)) return (int)(strcpy(out, "nan"), 3);
    if (isinf(v)) return v > 0 ? (int)(strcpy(out, "inf"), 3) : (int)(strcpy(out, "-inf"), 4);
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
