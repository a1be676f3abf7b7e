/* Text forms of Parquet values for `sluice cat` / `sluice schema` (see pqfmt.h). */
#include "cli/pqfmt.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



void cli_pf_json_str(ut_buf *b, const uint8_t *s, size_t n)
{
    ut_json_str(b, s, n);
}

void cli_pf_csv_str(ut_buf *b, const uint8_t *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        ut_buf_put(b, s, n);
        return;
    }
    ut_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, s[i]);
    }
    ut_buf_putc(b, '"');
}

void cli_pf_base64(ut_buf *b, const uint8_t *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ut_buf_reserve(b, (n + 2) / 3 * 4);
    char *o = (char *)b->p + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = t[v >> 18], *o++ = t[(v >> 12) & 63], *o++ = t[(v >> 6) & 63], *o++ = t[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = t[v >> 18], *o++ = t[(v >> 12) & 63], *o++ = '=', *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = t[v >> 18], *o++ = t[(v >> 12) & 63], *o++ = t[(v >> 6) & 63], *o++ = '=';
    }
    b->len = (size_t)((uint8_t *)o - b->p);
}

static void put_u64(ut_buf *b, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ut_buf_reserve(b, (size_t)n);
    while (n) b->p[b->len++] = (uint8_t)tmp[--n];
}

static void put_i64(ut_buf *b, int64_t v)
{
    if (v < 0) {
        ut_buf_putc(b, '-');
        put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(b, (uint64_t)v);
    }
}

/* Shortest round-trip text of v (as float when is_float).  ut_fmt_double /
 * ut_fmt_float start at 15 / 6 digits, which is the shortest for normal
 * numbers but not for subnormals (5e-324 would print as 4.94065645841247e-324);
 * those are searched from one digit up. */
static int fmt_num(char *out, double v, int is_float)
{
    if (v != 0 && fabs(v) < (is_float ? (double)FLT_MIN : DBL_MIN)) {
        for (int prec = 1; prec <= 17; prec++) {
            int n = snprintf(out, 32, "%.*g", prec, v);
            if (is_float ? strtof(out, NULL) == (float)v : strtod(out, NULL) == v) return n;
        }
    }
    return is_float ? ut_fmt_float(out, (float)v) : ut_fmt_double(out, v);
}

/* Append a scalar: json = 1 quotes texts that are not JSON numbers. */
static void scalar(ut_buf *b, pq_type t, const pq_value *v, int json)
{
    char tmp[48];
    int n;
    switch (v->kind) {
    case PQ_K_BOOL: ut_buf_puts(b, v->u.i ? "true" : "false"); return;
    case PQ_K_I32:
    case PQ_K_I64:
        if (t == PQ_TIMESTAMP || t == PQ_TIMESTAMP_NTZ || t == PQ_DATE) {
            /* a wall-clock timestamp prints as before PQ_TIMESTAMP_NTZ existed
             * (ISO text with Z), so `sluice cat` output did not change */
            n = t != PQ_DATE ? ut_ts_format(tmp, v->u.i) : ut_date_format(tmp, (int32_t)v->u.i);
            if (json) ut_buf_putc(b, '"');
            ut_buf_put(b, tmp, (size_t)n);
            if (json) ut_buf_putc(b, '"');
        } else if (t == PQ_UINT64) {
            put_u64(b, (uint64_t)v->u.i);
        } else {
            put_i64(b, v->u.i);
        }
        return;
    case PQ_K_F32:
    case PQ_K_F64: {
        double d = v->u.d;
        const char *special = isnan(d) ? "NaN" : isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : NULL;
        if (special) {
            if (json) ut_buf_putc(b, '"');
            ut_buf_puts(b, special);
            if (json) ut_buf_putc(b, '"');
            return;
        }
        n = fmt_num(tmp, d, v->kind == PQ_K_F32);
        ut_buf_put(b, tmp, (size_t)n);
        return;
    }
    case PQ_K_BYTES:
        if (t == PQ_STRING) {
            if (json) cli_pf_json_str(b, v->u.s.p, v->u.s.n);
            else cli_pf_csv_str(b, v->u.s.p, v->u.s.n);
        } else {
            if (json) ut_buf_putc(b, '"');
            cli_pf_base64(b, v->u.s.p, v->u.s.n);
            if (json) ut_buf_putc(b, '"');
        }
        return;
    }
}

/* Value i of a decoded column as a pq_value (F32 widened to double). */
static void col_value(const pq_col *c, int64_t i, pq_value *v)
{
    v->kind = c->kind;
    switch (c->kind) {
    case PQ_K_BOOL: v->u.i = ((const uint8_t *)c->values)[i]; break;
    case PQ_K_I32: v->u.i = ((const int32_t *)c->values)[i]; break;
    case PQ_K_I64: v->u.i = ((const int64_t *)c->values)[i]; break;
    case PQ_K_F32: v->u.d = ((const float *)c->values)[i]; break;
    case PQ_K_F64: v->u.d = ((const double *)c->values)[i]; break;
    case PQ_K_BYTES:
        v->u.s.p = c->data + c->off[i];
        v->u.s.n = (size_t)(c->off[i + 1] - c->off[i]);
        break;
    }
}

void cli_pf_json_value(ut_buf *b, pq_type t, const pq_col *c, int64_t i)
{
    pq_value v;
    if (c->nulls && c->nulls[i]) {
        ut_buf_put(b, "null", 4);
        return;
    }
    col_value(c, i, &v);
    scalar(b, t, &v, 1);
}

void cli_pf_csv_value(ut_buf *b, pq_type t, const pq_col *c, int64_t i)
{
    pq_value v;
    if (c->nulls && c->nulls[i]) return;
    col_value(c, i, &v);
    scalar(b, t, &v, 0);
}

void cli_pf_json_stat(ut_buf *b, pq_type t, const pq_value *v)
{
    scalar(b, t, v, 1);
}

void cli_pf_text_stat(ut_buf *b, pq_type t, const pq_value *v)
{
    if (v->kind == PQ_K_BYTES && t == PQ_STRING) {
        cli_pf_json_str(b, v->u.s.p, v->u.s.n);
        return;
    }
    scalar(b, t, v, 0);
}
