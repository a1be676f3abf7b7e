/* Column chunk facts and statistics (pq_reader_chunk) and row-group skipping
 * (pq_reader_may_match).
 *
 * Which min/max are trusted:
 *   - min_value/max_value (Statistics fields 6/5) when the footer's
 *     column_orders says TypeDefinedOrder for the column, or the footer has no
 *     column_orders at all (min_value/max_value were introduced together with
 *     the type-defined order, and writers such as DuckDB set them without
 *     column_orders); not when column_orders names another order;
 *   - otherwise, for BOOLEAN, signed INT32/INT64 (incl. DATE, TIMESTAMP,
 *     DECIMAL on ints), FLOAT and DOUBLE: min_value/max_value if present,
 *     else the legacy min/max (fields 2/1), whose signed order is right there;
 *   - never the legacy fields of byte arrays or unsigned ints, and nothing
 *     for INT96, FLOAT16 and INTERVAL (their orders are not bytewise/known).
 * A NaN min or max makes the float statistics unusable. */
#include "parquet/read_int.h"

#include <math.h>
#include <string.h>

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Big-endian two's complement integer of n bytes as a double. */
double pq__be_to_double(const uint8_t *p, size_t n)
{
    double v = 0;
    if (!n) return 0;
    v = (double)(int8_t)p[0];
    for (size_t i = 1; i < n; i++) v = v * 256.0 + p[i];
    return v;
}

int64_t pq__ts_to_us(int64_t v, int unit)
{
    if (unit == PQ__UNIT_MILLIS) {
        if (v > INT64_MAX / 1000) return INT64_MAX;
        if (v < INT64_MIN / 1000) return INT64_MIN;
        return v * 1000;
    }
    if (unit == PQ__UNIT_NANOS) return v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1;
    return v;
}

/* Decode one statistics value of column c into v.  0 or -1 (bad size). */
static int stat_value(const pq__colinfo *c, const uint8_t *p, size_t n, pq_value *v)
{
    memset(v, 0, sizeof *v);
    v->kind = c->kind;
    switch (c->physical) {
    case PQ__BOOLEAN:
        if (n < 1) return -1;
        v->u.i = p[0] != 0;
        return 0;
    case PQ__INT32: {
        if (n != 4) return -1;
        int32_t x = (int32_t)(uint32_t)le(p, 4);
        if (c->type == PQ_DECIMAL) v->u.d = x / pow(10, c->scale);
        else if (c->zero_extend) v->u.i = (uint32_t)x;
        else v->u.i = x;
        return 0;
    }
    case PQ__INT64: {
        if (n != 8) return -1;
        int64_t x = (int64_t)le(p, 8);
        if (c->type == PQ_DECIMAL) v->u.d = (double)x / pow(10, c->scale);
        else if (c->type == PQ_TIMESTAMP || c->type == PQ_TIMESTAMP_NTZ || c->type == PQ_TIME)
            v->u.i = pq__ts_to_us(x, c->ts_unit);
        else v->u.i = x;
        return 0;
    }
    case PQ__FLOAT: {
        if (n != 4) return -1;
        uint32_t b = (uint32_t)le(p, 4);
        float f;
        memcpy(&f, &b, 4);
        v->u.d = f;
        return 0;
    }
    case PQ__DOUBLE: {
        if (n != 8) return -1;
        uint64_t b = le(p, 8);
        memcpy(&v->u.d, &b, 8);
        return 0;
    }
    case PQ__BYTE_ARRAY:
    case PQ__FIXED_LEN_BYTE_ARRAY:
        if (c->type == PQ_DECIMAL) {
            if (n == 0 || n > 64) return -1;
            v->u.d = pq__be_to_double(p, n) / pow(10, c->scale);
        } else {
            v->u.s.p = p;
            v->u.s.n = n;
        }
        return 0;
    }
    return -1;
}

static void decode_stats(const pq__colinfo *c, const pq__chunk *ch, pq_stats *s)
{
    const pq__stats_raw *st = &ch->stats;
    memset(s, 0, sizeof *s);
    if (!ch->has_stats) return;
    s->has_null_count = st->has_null_count;
    s->null_count = st->null_count;
    if (c->type == PQ_UNSUPPORTED || c->physical == PQ__INT96 || c->no_stats) return;
    const uint8_t *mn = NULL, *mx = NULL;
    size_t mnn = 0, mxn = 0;
    int legacy_ok = !c->zero_extend && c->type != PQ_UINT64 && c->physical != PQ__BYTE_ARRAY &&
                    c->physical != PQ__FIXED_LEN_BYTE_ARRAY;
    if (st->min_value && st->max_value && (c->typed_order || legacy_ok)) {
        mn = st->min_value, mnn = st->min_value_n;
        mx = st->max_value, mxn = st->max_value_n;
    } else if (st->min && st->max && legacy_ok) {
        mn = st->min, mnn = st->min_n;
        mx = st->max, mxn = st->max_n;
    }
    if (!mn || stat_value(c, mn, mnn, &s->min) || stat_value(c, mx, mxn, &s->max)) {
        memset(&s->min, 0, sizeof s->min);
        memset(&s->max, 0, sizeof s->max);
        return;
    }
    if ((c->kind == PQ_K_F32 || c->kind == PQ_K_F64) && (isnan(s->min.u.d) || isnan(s->max.u.d)))
        return;
    s->has_min_max = 1;
}

int pq_reader_chunk(const pq_reader *r, int rg, int col, pq_chunk_info *out)
{
    memset(out, 0, sizeof *out);
    if (rg < 0 || rg >= r->fmd.nrg || col < 0 || col >= r->ncols) return -1;
    const pq__chunk *ch = &r->fmd.rgs[rg].cols[col];
    out->codec = (pq_codec)ch->codec;
    out->num_values = ch->num_values;
    out->compressed_bytes = ch->compressed;
    out->uncompressed_bytes = ch->uncompressed;
    out->data_offset = ch->data_offset;
    out->dict_offset = ch->dict_offset;
    out->num_encodings = ch->num_encodings;
    memcpy(out->encodings, ch->encodings, sizeof out->encodings);
    decode_stats(&r->cols[col], ch, &out->stats);
    return 0;
}

/* ---- predicates -------------------------------------------------------------- */

/* Compare statistic s (column kind) with v: <0, 0, >0; 2 = incomparable. */
static int cmp(const pq__colinfo *c, const pq_value *s, const pq_value *v)
{
    if (c->kind == PQ_K_BYTES) {
        if (v->kind != PQ_K_BYTES) return 2;
        size_t n = s->u.s.n < v->u.s.n ? s->u.s.n : v->u.s.n;
        int d = n ? memcmp(s->u.s.p, v->u.s.p, n) : 0;
        if (d) return d < 0 ? -1 : 1;
        return s->u.s.n < v->u.s.n ? -1 : s->u.s.n > v->u.s.n;
    }
    if (v->kind == PQ_K_BYTES) return 2;
    int sfloat = c->kind == PQ_K_F32 || c->kind == PQ_K_F64;
    int vfloat = v->kind == PQ_K_F32 || v->kind == PQ_K_F64;
    if (!sfloat && !vfloat) {
        if (c->type == PQ_UINT64) {
            if (v->u.i < 0) return 1;
            uint64_t a = (uint64_t)s->u.i, b = (uint64_t)v->u.i;
            return a < b ? -1 : a > b;
        }
        return s->u.i < v->u.i ? -1 : s->u.i > v->u.i;
    }
    double a = sfloat ? s->u.d : c->type == PQ_UINT64 ? (double)(uint64_t)s->u.i : (double)s->u.i;
    double b = vfloat ? v->u.d : (double)v->u.i;
    if (isnan(a) || isnan(b)) return 2;
    return a < b ? -1 : a > b;
}

int pq_reader_may_match(const pq_reader *r, int rg, int col, const char *op, const pq_value *v)
{
    pq_chunk_info ci;
    if (!op || !v || pq_reader_chunk(r, rg, col, &ci)) return 1;
    const pq__colinfo *c = &r->cols[col];
    if (ci.stats.has_null_count && ci.num_values > 0 && ci.stats.null_count == ci.num_values)
        return 0; /* all null: no comparison is true */
    if (!ci.stats.has_min_max) return 1;
    int lo = cmp(c, &ci.stats.min, v), hi = cmp(c, &ci.stats.max, v);
    if (lo == 2 || hi == 2) return 1;
    if (!strcmp(op, "=")) return lo <= 0 && hi >= 0;
    if (!strcmp(op, "<")) return lo < 0;
    if (!strcmp(op, "<=")) return lo <= 0;
    if (!strcmp(op, ">")) return hi > 0;
    if (!strcmp(op, ">=")) return hi >= 0;
    return 1;
}
