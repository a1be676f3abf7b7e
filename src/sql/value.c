/* Values: lake types as SQLite values, SQLite's comparison rules for pruning. */
#include "sql/sq_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq__ts_text(char *out, int64_t us)
{
    return ut_ts_format_fixed(out, us);
}

const char *sq__decl(ct_type t)
{
    switch (t) {
    case CT_BOOL:
    case CT_INT64:
    case CT_INT32: return "INTEGER";
    case CT_DOUBLE:
    case CT_FLOAT:
    case CT_DECIMAL: return "REAL"; /* the reader's double (docs/sql.md) */
    case CT_BYTES: return "BLOB";
    default: return "TEXT";         /* strings, dates and times as sortable text */
    }
}

ct_type sq__ct_of_pq(pq_type t)
{
    switch (t) {
    case PQ_BOOL: return CT_BOOL;
    case PQ_INT32: return CT_INT32;
    case PQ_INT64:
    case PQ_UINT64: return CT_INT64;
    case PQ_FLOAT: return CT_FLOAT;
    case PQ_DOUBLE: return CT_DOUBLE;
    case PQ_DECIMAL: return CT_DECIMAL;
    case PQ_STRING: return CT_STRING;
    case PQ_BYTES: return CT_BYTES;
    case PQ_TIME: return CT_TIME;
    case PQ_TIMESTAMP: return CT_TIMESTAMP;
    case PQ_TIMESTAMP_NTZ: return CT_TIMESTAMP_NTZ;
    case PQ_DATE: return CT_DATE;
    default: return (ct_type)0;
    }
}

void sq__ident(ut_buf *b, const char *name)
{
    ut_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, (uint8_t)*p);
    }
    ut_buf_putc(b, '"');
}

static int is_num(int t) { return t == SQLITE_INTEGER || t == SQLITE_FLOAT; }

int sq__cmp(const sq_val *a, const sq_val *b)
{
    int ca = a->t == SQLITE_NULL ? 0 : is_num(a->t) ? 1 : 2;
    int cb = b->t == SQLITE_NULL ? 0 : is_num(b->t) ? 1 : 2;
    if (ca != cb) return ca < cb ? -1 : 1;
    if (ca == 0) return 0;
    if (ca == 1) {
        if (a->t == SQLITE_INTEGER && b->t == SQLITE_INTEGER)
            return a->i < b->i ? -1 : a->i > b->i;
        double x = a->t == SQLITE_INTEGER ? (double)a->i : a->d;
        double y = b->t == SQLITE_INTEGER ? (double)b->i : b->d;
        return x < y ? -1 : x > y;
    }
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->s, b->s, n) : 0;
    if (c) return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

int sq__op_holds(int op, int c)
{
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return c == 0;
    case SQLITE_INDEX_CONSTRAINT_LT: return c < 0;
    case SQLITE_INDEX_CONSTRAINT_LE: return c <= 0;
    case SQLITE_INDEX_CONSTRAINT_GT: return c > 0;
    case SQLITE_INDEX_CONSTRAINT_GE: return c >= 0;
    default: return 1;
    }
}

int sq__range_may(const sq_val *min, const sq_val *max, int op, const sq_val *v)
{
    int cmin = min->t == SQLITE_NULL ? 0 : is_num(min->t) ? 1 : 2;
    int cv = v->t == SQLITE_NULL ? 0 : is_num(v->t) ? 1 : 2;
    if (cmin != cv || cv == 0) return 1;
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return sq__cmp(min, v) <= 0 && sq__cmp(v, max) <= 0;
    case SQLITE_INDEX_CONSTRAINT_LT: return sq__cmp(min, v) < 0;
    case SQLITE_INDEX_CONSTRAINT_LE: return sq__cmp(min, v) <= 0;
    case SQLITE_INDEX_CONSTRAINT_GT: return sq__cmp(max, v) > 0;
    case SQLITE_INDEX_CONSTRAINT_GE: return sq__cmp(max, v) >= 0;
    default: return 1;
    }
}

static int numeric_type(ct_type t)
{
    return t == CT_INT64 || t == CT_INT32 || t == CT_DOUBLE || t == CT_FLOAT || t == CT_BOOL ||
           t == CT_DECIMAL;
}

int sq__val_for(ct_type t, int constant, sqlite3_value *v, sq_val *out)
{
    memset(out, 0, sizeof *out);
    int vt = sqlite3_value_type(v);
    if (vt == SQLITE_NULL || vt == SQLITE_BLOB) return -1;
    if (numeric_type(t)) {
        if (vt == SQLITE_TEXT) {
            if (!constant) return -1;
            /* numeric affinity on a literal: only when the whole text is a number */
            const char *s = (const char *)sqlite3_value_text(v);
            char *end;
            errno = 0;
            long long ll = strtoll(s, &end, 10);
            if (end != s && !*end && !errno) {
                out->t = SQLITE_INTEGER;
                out->i = ll;
                return 0;
            }
            double d = strtod(s, &end);
            if (end != s && !*end && isfinite(d)) {
                out->t = SQLITE_FLOAT;
                out->d = d;
                return 0;
            }
            return -1;
        }
        out->t = vt;
        out->i = sqlite3_value_int64(v);
        out->d = sqlite3_value_double(v);
        return 0;
    }
    if (vt != SQLITE_TEXT && !constant) return -1; /* other side's affinity may be numeric */
    out->t = SQLITE_TEXT;
    out->s = (const char *)sqlite3_value_text(v);
    out->n = (size_t)sqlite3_value_bytes(v);
    return out->s ? 0 : -1;
}

/* A time of day as the text the column reads as; -1 out of range (texts
 * sort like the times only within it). */
static int time_val(int64_t us, sq_val *out)
{
    if (us < 0 || us > UT_TIME_MAX_US) return -1;
    out->t = SQLITE_TEXT;
    out->n = (size_t)ut_time_format(out->buf, us);
    out->s = out->buf;
    return 0;
}

/* The same for a wall-clock timestamp: years 0000..9999 (four digits). */
static int ntz_val(int64_t us, sq_val *out)
{
    if (us < SQ_NTZ_MIN_US || us > SQ_NTZ_MAX_US) return -1;
    out->t = SQLITE_TEXT;
    out->n = (size_t)ut_ts_format_ntz(out->buf, us);
    out->s = out->buf;
    return 0;
}

int sq__stat_val(ct_type t, const char *text, sq_val *out)
{
    memset(out, 0, sizeof *out);
    char *end;
    switch (t) {
    case CT_INT64:
    case CT_INT32:
        errno = 0;
        out->i = strtoll(text, &end, 10);
        if (end == text || *end || errno) return -1;
        out->t = SQLITE_INTEGER;
        return 0;
    case CT_DOUBLE:
    case CT_FLOAT:
        out->d = strtod(text, &end);
        if (end == text || *end || isnan(out->d)) return -1;
        out->t = SQLITE_FLOAT;
        return 0;
    case CT_STRING:
    case CT_DATE:
        out->t = SQLITE_TEXT;
        out->s = text;
        out->n = strlen(text);
        return 0;
    case CT_TIMESTAMP: {
        int64_t us;
        if (ut_ts_parse(text, strlen(text), &us)) return -1;
        out->t = SQLITE_TEXT;
        out->n = (size_t)sq__ts_text(out->buf, us);
        out->s = out->buf;
        return 0;
    }
    case CT_TIME: {
        int64_t us;
        if (ut_time_parse(text, strlen(text), &us)) return -1;
        return time_val(us, out);
    }
    case CT_TIMESTAMP_NTZ: {
        int64_t us; /* the text has no zone: ut_ts_parse takes it as UTC, the same µs */
        if (ut_ts_parse(text, strlen(text), &us)) return -1;
        return ntz_val(us, out);
    }
    default: return -1; /* decimals: the exact text's double is not always the reader's (the
                           row groups' statistics are); bytes: no statistics */
    }
}

int sq__pq_val(ct_type t, pq_type pt, const pq_value *pv, sq_val *out)
{
    memset(out, 0, sizeof *out);
    switch (t) {
    case CT_INT64:
    case CT_INT32:
        if (pv->kind == PQ_K_I64 || pv->kind == PQ_K_I32) {
            if (pt == PQ_UINT64 && pv->u.i < 0) return -1;
            out->t = SQLITE_INTEGER;
            out->i = pv->u.i;
            return 0;
        }
        return -1;
    case CT_DOUBLE:
    case CT_FLOAT:
    case CT_DECIMAL: /* statistics decoded as the values are: the same doubles */
        if (pv->kind == PQ_K_I64 || pv->kind == PQ_K_I32) {
            out->t = SQLITE_INTEGER;
            out->i = pv->u.i;
            return 0;
        }
        if (pv->kind == PQ_K_F64 || pv->kind == PQ_K_F32) {
            if (isnan(pv->u.d)) return -1;
            out->t = SQLITE_FLOAT;
            out->d = pv->u.d;
            return 0;
        }
        return -1;
    case CT_STRING:
        if (pv->kind != PQ_K_BYTES) return -1;
        out->t = SQLITE_TEXT;
        out->s = (const char *)pv->u.s.p;
        out->n = pv->u.s.n;
        return 0;
    case CT_TIMESTAMP:
        if (pt != PQ_TIMESTAMP && pt != PQ_TIMESTAMP_NTZ) return -1;
        out->t = SQLITE_TEXT;
        out->n = (size_t)sq__ts_text(out->buf, pv->u.i);
        out->s = out->buf;
        return 0;
    case CT_DATE:
        if (pt != PQ_DATE) return -1;
        out->t = SQLITE_TEXT;
        out->n = (size_t)ut_date_format(out->buf, (int32_t)pv->u.i);
        out->s = out->buf;
        return 0;
    case CT_TIME: return pt == PQ_TIME ? time_val(pv->u.i, out) : -1;
    case CT_TIMESTAMP_NTZ: return pt == PQ_TIMESTAMP_NTZ ? ntz_val(pv->u.i, out) : -1;
    default: return -1;
    }
}

/* Value i of c as text (for a string column holding a narrower file type). */
/* Value i (not null) of c as text, into out->buf. */
static void val_as_text(pq_type pt, const pq_col *c, int64_t i, sq_val *out)
{
    char *b = out->buf;
    int n;
    out->t = SQLITE_TEXT;
    out->s = b;
    switch (c->kind) {
    case PQ_K_BOOL:
        out->s = ((uint8_t *)c->values)[i] ? "true" : "false";
        out->n = strlen(out->s);
        return;
    case PQ_K_I32:
        if (pt == PQ_DATE) n = ut_date_format(b, ((int32_t *)c->values)[i]);
        else n = snprintf(b, sizeof out->buf, "%d", ((int32_t *)c->values)[i]);
        break;
    case PQ_K_I64:
        if (pt == PQ_TIMESTAMP) n = sq__ts_text(b, ((int64_t *)c->values)[i]);
        else if (pt == PQ_TIMESTAMP_NTZ) n = ut_ts_format_ntz(b, ((int64_t *)c->values)[i]);
        else if (pt == PQ_TIME) n = ut_time_format(b, ((int64_t *)c->values)[i]);
        else if (pt == PQ_UINT64)
            n = snprintf(b, sizeof out->buf, "%" PRIu64, ((uint64_t *)c->values)[i]);
        else n = snprintf(b, sizeof out->buf, "%" PRId64, ((int64_t *)c->values)[i]);
        break;
    case PQ_K_F32: n = ut_fmt_float(b, ((float *)c->values)[i]); break;
    case PQ_K_F64: n = ut_fmt_double(b, ((double *)c->values)[i]); break;
    default: out->t = SQLITE_NULL; return;
    }
    out->n = (size_t)n;
}

static void val_real(double d, sq_val *out)
{
    out->t = isnan(d) ? SQLITE_NULL : SQLITE_FLOAT; /* SQLite stores a NaN as NULL */
    out->d = d;
}

void sq__val_col(ct_type t, pq_type pt, const pq_col *c, int64_t i, sq_val *out)
{
    out->t = SQLITE_NULL;
    if (c->nulls && c->nulls[i]) return;
    if (c->kind == PQ_K_BYTES) {
        out->s = (const char *)c->data + c->off[i];
        out->n = (size_t)(c->off[i + 1] - c->off[i]);
        out->t = pt == PQ_BYTES && t != CT_STRING ? SQLITE_BLOB : SQLITE_TEXT;
        return;
    }
    if (t == CT_STRING) {
        val_as_text(pt, c, i, out);
        return;
    }
    out->t = SQLITE_INTEGER;
    switch (c->kind) {
    case PQ_K_BOOL: out->i = ((uint8_t *)c->values)[i]; return;
    case PQ_K_I32:
        if (pt == PQ_DATE && t == CT_TIMESTAMP_NTZ) { /* widened: the day's midnight */
            out->t = SQLITE_TEXT;
            out->s = out->buf;
            out->n = (size_t)ut_ts_format_ntz(out->buf, ((int32_t *)c->values)[i] * 86400000000LL);
        } else if (pt == PQ_DATE) val_as_text(pt, c, i, out);
        else if (t == CT_DOUBLE || t == CT_FLOAT || t == CT_DECIMAL)
            val_real(((int32_t *)c->values)[i], out);
        else out->i = ((int32_t *)c->values)[i];
        return;
    case PQ_K_I64:
        if (pt == PQ_TIMESTAMP || pt == PQ_TIMESTAMP_NTZ || pt == PQ_TIME)
            val_as_text(pt, c, i, out);
        else if (t == CT_DOUBLE || t == CT_FLOAT || t == CT_DECIMAL)
            val_real((double)((int64_t *)c->values)[i], out);
        else out->i = ((int64_t *)c->values)[i];
        return;
    case PQ_K_F32: val_real(((float *)c->values)[i], out); return;
    case PQ_K_F64: val_real(((double *)c->values)[i], out); return;
    default: out->t = SQLITE_NULL; return;
    }
}

void sq__result_val(sqlite3_context *ctx, const sq_val *v)
{
    switch (v->t) {
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, v->i); return;
    case SQLITE_FLOAT: sqlite3_result_double(ctx, v->d); return;
    case SQLITE_TEXT: sqlite3_result_text(ctx, v->s, (int)v->n, SQLITE_TRANSIENT); return;
    case SQLITE_BLOB: sqlite3_result_blob(ctx, v->s, (int)v->n, SQLITE_TRANSIENT); return;
    default: sqlite3_result_null(ctx); return;
    }
}

void sq__result_col(sqlite3_context *ctx, ct_type t, pq_type pt, const pq_col *c, int64_t i)
{
    sq_val v;
    sq__val_col(t, pt, c, i, &v);
    sq__result_val(ctx, &v);
}

void sq__result_decimal(sqlite3_context *ctx, const pq_col *c, int64_t i, int scale)
{
    if (c->nulls && c->nulls[i]) {
        sqlite3_result_null(ctx);
        return;
    }
    const pq_dec128 *d = (const pq_dec128 *)c->values + i;
    char b[96];
    int n = pq_decimal_format(d->hi, d->lo, scale, b, sizeof b);
    if (n < 0) sqlite3_result_null(ctx);
    else sqlite3_result_text(ctx, b, n, SQLITE_TRANSIENT);
}
