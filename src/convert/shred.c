/* Write pass: convert one JSON value or text field to its column's type and
 * put it into the Parquet writer. */
#include "convert/cv_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int mismatch(const cv__col *c, const char *got, const char *s, size_t n, char *why,
                    size_t whylen)
{
    int show = n > 40 ? 40 : (int)n;
    return ut_err(why, whylen, "column '%s': cannot convert %s %s%.*s%s to %s", c->name, got,
                  s ? "\"" : "", s ? show : 0, s ? s : "", s ? (n > 40 ? "...\"" : "\"") : "",
                  cv_type_name(c->type));
}

static int writer_err(pq_writer *w, const cv__col *c, char *why, size_t whylen)
{
    return ut_err(why, whylen, "column '%s': %s", c->name, pq_writer_error(w));
}

static int put_null(pq_writer *w, int col, const cv__col *c, char *why, size_t whylen)
{
    if (c->required) return ut_err(why, whylen, "column '%s' is required but null", c->name);
    return pq_writer_put_null(w, col) ? writer_err(w, c, why, whylen) : 0;
}

/* Exact integer value of a double in int64 range. */
static int double_to_i64(double d, int64_t *v)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d)) return -1;
    *v = (int64_t)d;
    return 0;
}

/* Put an integer / double / text into a numeric, bool or temporal column. */
static int put_i64(pq_writer *w, int col, const cv__col *c, int64_t v)
{
    switch ((int)c->type) {
    case PQ_INT32:
        if (v < INT32_MIN || v > INT32_MAX) return 1;
        return pq_writer_put_i32(w, col, (int32_t)v) ? -1 : 0;
    case PQ_INT64: return pq_writer_put_i64(w, col, v) ? -1 : 0;
    case PQ_FLOAT: return pq_writer_put_float(w, col, (float)v) ? -1 : 0;
    case PQ_DOUBLE: return pq_writer_put_double(w, col, (double)v) ? -1 : 0;
    default: return 1;
    }
}

static int put_f64(pq_writer *w, int col, const cv__col *c, double d)
{
    int64_t v;
    switch ((int)c->type) {
    case PQ_FLOAT: return pq_writer_put_float(w, col, (float)d) ? -1 : 0;
    case PQ_DOUBLE: return pq_writer_put_double(w, col, d) ? -1 : 0;
    case PQ_INT32:
    case PQ_INT64:
        if (double_to_i64(d, &v)) return 1;
        return put_i64(w, col, c, v);
    default: return 1;
    }
}

/* Text into any column type.  0 ok, 1 cannot convert, -1 writer error. */
static int put_str(pq_writer *w, int col, const cv__col *c, const char *s, size_t n)
{
    int64_t v;
    double d;
    int b;
    int32_t days;
    switch ((int)c->type) {
    case PQ_STRING: return pq_writer_put_bytes(w, col, s, n) ? -1 : 0;
    case PQ_TIMESTAMP:
        if (ut_ts_parse(s, n, &v)) return 1;
        return pq_writer_put_i64(w, col, v) ? -1 : 0;
    case PQ_DATE:
        if (ut_date_parse(s, n, &days)) return 1;
        return pq_writer_put_i32(w, col, days) ? -1 : 0;
    case PQ_BOOL:
        if (cv__parse_bool(s, n, &b)) return 1;
        return pq_writer_put_bool(w, col, b) ? -1 : 0;
    case PQ_INT32:
    case PQ_INT64:
        if (cv__parse_int(s, n, &v) == 0) return put_i64(w, col, c, v);
        if (cv__parse_double(s, n, &d) == 0) return put_f64(w, col, c, d);
        return 1;
    case PQ_FLOAT:
    case PQ_DOUBLE:
        if (cv__parse_double(s, n, &d)) return 1;
        return put_f64(w, col, c, d);
    default: return 1;
    }
}

int cv__put_json(pq_writer *w, int col, const cv__col *c, const js_value *v, char *why,
                 size_t whylen)
{
    int rc;
    switch (v->kind) {
    case JS_NULL: return put_null(w, col, c, why, whylen);
    case JS_STRING:
        rc = put_str(w, col, c, v->s, v->n);
        if (rc > 0) return mismatch(c, "string", v->s, v->n, why, whylen);
        break;
    case JS_INT:
        if (c->type == PQ_STRING) rc = pq_writer_put_bytes(w, col, v->s, v->n) ? -1 : 0;
        else rc = put_i64(w, col, c, v->i);
        if (rc > 0) return mismatch(c, "integer", v->s, v->n, why, whylen);
        break;
    case JS_DOUBLE:
        if (c->type == PQ_STRING) rc = pq_writer_put_bytes(w, col, v->s, v->n) ? -1 : 0;
        else rc = put_f64(w, col, c, v->d);
        if (rc > 0) return mismatch(c, "number", v->s, v->n, why, whylen);
        break;
    case JS_BOOL:
        if (c->type == PQ_BOOL) rc = pq_writer_put_bool(w, col, v->b) ? -1 : 0;
        else if (c->type == PQ_STRING) rc = pq_writer_put_bytes(w, col, v->s, v->n) ? -1 : 0;
        else return mismatch(c, v->b ? "true" : "false", NULL, 0, why, whylen);
        break;
    default: /* nested object / array */
        if (c->type != PQ_STRING)
            return mismatch(c, v->kind == JS_OBJECT ? "an object" : "an array", NULL, 0, why,
                            whylen);
        rc = pq_writer_put_bytes(w, col, v->s, v->n) ? -1 : 0;
        break;
    }
    return rc < 0 ? writer_err(w, c, why, whylen) : 0;
}

int cv__put_text(pq_writer *w, int col, const cv__col *c, const char *s, size_t n, int quoted,
                 char *why, size_t whylen)
{
    if (n == 0 && (!quoted || c->type != PQ_STRING)) return put_null(w, col, c, why, whylen);
    int rc = put_str(w, col, c, s, n);
    if (rc > 0) return mismatch(c, "value", s, n, why, whylen);
    return rc < 0 ? writer_err(w, c, why, whylen) : 0;
}
