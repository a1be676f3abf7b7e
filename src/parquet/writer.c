/* Parquet writer: rows in, pages out.
 *
 * Each column buffers the values of its current data page (PLAIN bytes, or
 * dictionary indices while the dictionary is on) plus one definition level per
 * value.  At a row boundary a full page is encoded, compressed and appended to
 * the column's chunk buffer; when the row group is full every chunk is written
 * to the file (dictionary page first), and the footer is written at close:
 *
 *   column chunk in the file:  [dictionary page][data page]...[data page]
 *   data page v1 body:         [le32 n][RLE def levels]   (optional columns)
 *                              [PLAIN values] | [u8 width][RLE/bit-packed ids]
 *
 * Pages only flush at row boundaries, so pq_writer_cancel_row can always undo
 * the current row by truncating the page buffers.
 */
#include "parquet/writer_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_VALUE_BYTES (16u << 20) /* largest single BYTE_ARRAY value */
#define MAX_PAGE_VALUES (1u << 20)

void pq_writer_opts_init(pq_writer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->codec = PQ_ZSTD;
    o->row_group_bytes = (size_t)128 << 20;
    o->row_group_rows = 1 << 20;
    o->page_bytes = (size_t)1 << 20;
    o->dict_max_bytes = (size_t)1 << 20;
}

static int physical_of(pq_type t)
{
    switch (t) {
    case PQ_BOOL: return PQ__BOOLEAN;
    case PQ_INT32: case PQ_DATE: return PQ__INT32;
    case PQ_INT64: case PQ_TIMESTAMP: case PQ_TIME: case PQ_TIMESTAMP_NTZ: return PQ__INT64;
    case PQ_FLOAT: return PQ__FLOAT;
    case PQ_DOUBLE: return PQ__DOUBLE;
    case PQ_STRING: case PQ_BYTES: return PQ__BYTE_ARRAY;
    default: return -1;
    }
}

static int width_of(int phys)
{
    switch (phys) {
    case PQ__BOOLEAN: return 1;
    case PQ__INT32: case PQ__FLOAT: return 4;
    case PQ__INT64: case PQ__DOUBLE: return 8;
    default: return 0;
    }
}

/* ---- statistics ------------------------------------------------------------ */

static int cmp_value(const pq__wcol *c, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    switch (c->phys) {
    case PQ__BOOLEAN: return (int)a[0] - (int)b[0];
    case PQ__INT32: {
        int32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case PQ__INT64: {
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case PQ__FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case PQ__DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case PQ__FIXED_LEN_BYTE_ARRAY: {
        /* DECIMAL: big-endian two's complement of equal length - the sign
         * byte compares signed, the rest as unsigned bytes */
        assert(an == bn && an > 0);
        if (a[0] != b[0]) return (int)(int8_t)a[0] - (int)(int8_t)b[0];
        return memcmp(a + 1, b + 1, an - 1);
    }
    default: {
        size_t m = an < bn ? an : bn;
        int r = m ? memcmp(a, b, m) : 0;
        if (r) return r;
        return (an > bn) - (an < bn);
    }
    }
}

static int is_nan(const pq__wcol *c, const uint8_t *p)
{
    if (c->phys == PQ__FLOAT) {
        float f;
        memcpy(&f, p, 4);
        return isnan(f);
    }
    if (c->phys == PQ__DOUBLE) {
        double d;
        memcpy(&d, p, 8);
        return isnan(d);
    }
    return 0;
}

/* Update min/max with a value; remember what changed so the row can be
 * cancelled (the previous min/max are kept by swapping buffers). */
static void stats_update(pq__wcol *c, const uint8_t *p, size_t n)
{
    if (is_nan(c, p)) return;
    if (!c->has_minmax) {
        ut_buf_reset(&c->min);
        ut_buf_reset(&c->max);
        ut_buf_put(&c->min, p, n);
        ut_buf_put(&c->max, p, n);
        c->has_minmax = 1;
        c->row_stats = 3; /* both new */
        c->row_had_minmax = 0;
        return;
    }
    if (cmp_value(c, p, n, c->min.p, c->min.len) < 0) {
        ut_buf t = c->min;
        c->min = c->prev_min;
        c->prev_min = t;
        ut_buf_reset(&c->min);
        ut_buf_put(&c->min, p, n);
        c->row_stats |= 1;
    }
    if (cmp_value(c, p, n, c->max.p, c->max.len) > 0) {
        ut_buf t = c->max;
        c->max = c->prev_max;
        c->prev_max = t;
        ut_buf_reset(&c->max);
        ut_buf_put(&c->max, p, n);
        c->row_stats |= 2;
    }
    c->row_had_minmax = 1;
}

static void stats_undo(pq__wcol *c)
{
    if (!c->row_stats) return;
    if (!c->row_had_minmax) {
        c->has_minmax = 0;
    } else {
        if (c->row_stats & 1) {
            ut_buf t = c->min;
            c->min = c->prev_min;
            c->prev_min = t;
        }
        if (c->row_stats & 2) {
            ut_buf t = c->max;
            c->max = c->prev_max;
            c->prev_max = t;
        }
    }
    c->row_stats = 0;
}

/* ---- create ----------------------------------------------------------------- */

/* Physical type and width of a DECIMAL column from its precision. */
static int setup_decimal(pq_writer *w, pq__wcol *c, const pq_column_spec *spec, char *err,
                         size_t errlen)
{
    if (spec->precision < 1 || spec->precision > 38 || spec->scale < 0 ||
        spec->scale > spec->precision)
        return ut_err(err, errlen,
                      "%s: column '%s': DECIMAL(%d,%d) is out of range (precision 1..38, "
                      "scale 0..precision)",
                      w->path, c->name, spec->precision, spec->scale);
    c->precision = spec->precision;
    c->scale = spec->scale;
    if (c->precision <= 9) {
        c->phys = PQ__INT32;
        c->width = 4;
    } else if (c->precision <= 18) {
        c->phys = PQ__INT64;
        c->width = 8;
    } else {
        c->phys = PQ__FIXED_LEN_BYTE_ARRAY;
        c->width = pq__dec_flba_len(c->precision);
    }
    return 0;
}

static int setup_column(pq_writer *w, pq__wcol *c, const pq_column_spec *spec, int i, char *err,
                        size_t errlen)
{
    if (!spec->name || !spec->name[0])
        return ut_err(err, errlen, "%s: column %d has no name", w->path, i + 1);
    c->name = ut_strdup(spec->name);
    c->type = spec->type;
    c->optional = spec->optional != 0;
    if (c->type == PQ_DECIMAL) {
        if (setup_decimal(w, c, spec, err, errlen)) return -1;
    } else {
        c->phys = physical_of(c->type);
        if (c->phys < 0)
            return ut_err(err, errlen, "%s: column '%s': type %s cannot be written", w->path,
                          c->name, pq_type_name(c->type));
        c->width = width_of(c->phys);
    }
    c->dict_on = pq__dict_allowed(w, c);
    pq__dict_init(&c->dict, c->phys == PQ__BYTE_ARRAY ? 0 : c->width);
    return 0;
}

/* A writer without an output (shared by both creators). */
static pq_writer *writer_new(const char *path, const pq_column_spec *cols, int ncols,
                             const pq_writer_opts *opts, char *err, size_t errlen)
{
    pq_writer *w = NULL;
    if (ncols <= 0 || ncols > PQ__MAX_COLUMNS) {
        ut_err(err, errlen, "%s: a Parquet schema needs 1..%d columns, got %d", path,
               PQ__MAX_COLUMNS, ncols);
        goto fail;
    }
    w = ut_calloc(1, sizeof *w);
    w->fd = -1;
    w->row_gen = 1; /* columns start at 0: "not set in this row" */
    w->path = ut_strdup(path);
    if (opts) w->o = *opts;
    else pq_writer_opts_init(&w->o);
    if (!pq_codec_name(w->o.codec) || ((int)w->o.codec >= 3 && (int)w->o.codec <= 5)) {
        ut_err(err, errlen, "%s: codec %d is not supported for writing", path, (int)w->o.codec);
        goto fail;
    }
    if (!w->o.page_bytes) w->o.page_bytes = (size_t)1 << 20;
    if (!w->o.row_group_bytes) w->o.row_group_bytes = (size_t)128 << 20;
    if (w->o.row_group_rows <= 0) w->o.row_group_rows = 1 << 20;
    if (!w->o.dict_max_bytes) w->o.dict_max_bytes = (size_t)1 << 20;
    w->created_by = ut_strdup(w->o.created_by ? w->o.created_by : "sluice version 0.1.0");
    w->o.created_by = NULL;
    w->ncols = ncols;
    w->cols = ut_calloc((size_t)ncols, sizeof *w->cols);
    for (int i = 0; i < ncols; i++) {
        for (int j = 0; j < i; j++)
            if (cols[i].name && !strcmp(cols[j].name, cols[i].name)) {
                ut_err(err, errlen, "%s: column '%s' appears twice", path, cols[i].name);
                goto fail;
            }
        if (setup_column(w, &w->cols[i], &cols[i], i, err, errlen)) goto fail;
    }
    return w;
fail:
    pq_writer_destroy(w);
    return NULL;
}

pq_writer *pq_writer_create(const char *path, const pq_column_spec *cols, int ncols,
                            const pq_writer_opts *opts, char *err, size_t errlen)
{
    pq_writer *w = writer_new(path, cols, ncols, opts, err, errlen);
    if (!w) return NULL;
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        ut_err(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        goto fail;
    }
    if (pq__write_all(w, "PAR1", 4, err, errlen)) goto fail;
    return w;
fail:
    pq_writer_destroy(w);
    return NULL;
}

pq_writer *pq_writer_create_stream(const char *name, pq_write_fn fn, void *ctx,
                                   const pq_column_spec *cols, int ncols,
                                   const pq_writer_opts *opts, char *err, size_t errlen)
{
    assert(fn);
    pq_writer *w = writer_new(name, cols, ncols, opts, err, errlen);
    if (!w) return NULL;
    w->wfn = fn;
    w->wctx = ctx;
    if (pq__write_all(w, "PAR1", 4, err, errlen)) {
        pq_writer_destroy(w);
        return NULL;
    }
    return w;
}

pq_writer *pq_writer_create_mem(const char *name, const pq_column_spec *cols, int ncols,
                                const pq_writer_opts *opts, char *err, size_t errlen)
{
    pq_writer *w = writer_new(name, cols, ncols, opts, err, errlen);
    if (w) w->mem_mode = 1;
    return w;
}

/* ---- values ----------------------------------------------------------------- */

static int begin_value(pq_writer *w, int col, pq__wcol **out)
{
    assert(!w->closed);
    assert(w->nset >= 0 && w->nset <= w->ncols);
    if (col < 0 || col >= w->ncols) {
        ut_err(w->err, sizeof w->err, "%s: no column %d", w->path, col);
        return -1;
    }
    pq__wcol *c = &w->cols[col];
    if (c->row_gen == w->row_gen) {
        ut_err(w->err, sizeof w->err, "%s: column '%s' given two values in one row", w->path,
               c->name);
        return -1;
    }
    c->row_gen = w->row_gen;
    c->row_vals_len = c->vals.len;
    c->row_added = 0;
    c->row_stats = 0;
    w->nset++;
    *out = c;
    return 0;
}

static int type_err(pq_writer *w, pq__wcol *c, const char *what)
{
    c->row_gen = w->row_gen - 1;
    w->nset--;
    return ut_err(w->err, sizeof w->err, "%s: column '%s' is %s, cannot take %s", w->path,
                  c->name, pq_type_name(c->type), what);
}

/* Refuse a value: the column stays unset in this row. */
__attribute__((format(printf, 3, 4))) static int value_err(pq_writer *w, pq__wcol *c,
                                                           const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    c->row_gen = w->row_gen - 1;
    w->nset--;
    return ut_err(w->err, sizeof w->err, "%s: column '%s': %s", w->path, c->name, why);
}

/* Is the column's current page (or its dictionary) due for a flush? */
static int page_full(const pq_writer *w, const pq__wcol *c)
{
    return c->vals.len >= w->o.page_bytes || c->page_values >= MAX_PAGE_VALUES ||
           c->nids * 4 >= w->o.page_bytes ||
           (c->dict_on && c->dict.plain.len > w->o.dict_max_bytes) ||
           /* the first page of a chunk ends early so flush_page can judge
            * whether the dictionary pays off before it grows large */
           (c->dict_on && !c->dict_used && c->nids == 8192);
}

/* Append one non-null value (raw little-endian bytes, or string bytes). */
static void add_value(pq_writer *w, pq__wcol *c, const void *p, size_t n)
{
    if (c->optional) ut_buf_putc(&c->defs, 1);
    c->page_values++;
    if (c->dict_on) {
        int added;
        uint32_t id = pq__dict_put(&c->dict, p, n, &added);
        c->row_added = added;
        if (added) stats_update(c, p, n); /* known values are already in min/max */
        if (c->nids == c->cap_ids) {
            c->cap_ids = c->cap_ids ? c->cap_ids * 2 : 4096;
            c->ids = ut_realloc(c->ids, c->cap_ids * sizeof *c->ids);
        }
        c->ids[c->nids++] = id;
        /* a new value is held by the dictionary until the row group ends:
         * row_group_bytes bounds that too (200 columns of distinct 4 KB
         * strings held ~500 MB under a 16 MiB cap) */
        w->row_bytes += 4 + (added ? n : 0);
        if (page_full(w, c)) w->page_check = 1;
        return;
    }
    stats_update(c, p, n);
    if (c->phys == PQ__BYTE_ARRAY) {
        assert(n <= UINT32_MAX); /* put_bytes caps strings at 16 MiB */
        ut_buf_reserve(&c->vals, 4 + n);
        uint32_t len = (uint32_t)n;
        memcpy(c->vals.p + c->vals.len, &len, 4);
        memcpy(c->vals.p + c->vals.len + 4, p, n);
        c->vals.len += 4 + n;
        w->row_bytes += 4 + n;
    } else {
        ut_buf_put(&c->vals, p, n);
        w->row_bytes += n;
    }
    if (page_full(w, c)) w->page_check = 1;
}

int pq_writer_put_null(pq_writer *w, int col)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (!c->optional) {
        c->row_gen = w->row_gen - 1;
        w->nset--;
        return ut_err(w->err, sizeof w->err, "%s: column '%s' is required (NOT NULL), got null",
                      w->path, c->name);
    }
    ut_buf_putc(&c->defs, 0);
    c->page_values++;
    c->page_nulls++;
    return 0;
}

int pq_writer_put_bool(pq_writer *w, int col, int v)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->phys != PQ__BOOLEAN) return type_err(w, c, "a boolean");
    uint8_t b = v ? 1 : 0;
    add_value(w, c, &b, 1);
    return 0;
}

int pq_writer_put_i32(pq_writer *w, int col, int32_t v)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->phys != PQ__INT32 || c->type == PQ_DECIMAL) return type_err(w, c, "an int32");
    add_value(w, c, &v, 4);
    return 0;
}

int pq_writer_put_i64(pq_writer *w, int col, int64_t v)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->phys != PQ__INT64 || c->type == PQ_DECIMAL) return type_err(w, c, "an int64");
    if (c->type == PQ_TIME && (v < 0 || v > PQ__TIME_MAX_US))
        return value_err(w, c, "TIME %lld us is outside 00:00:00 .. 24:00:00", (long long)v);
    add_value(w, c, &v, 8);
    return 0;
}

int pq_writer_put_float(pq_writer *w, int col, float v)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->phys != PQ__FLOAT) return type_err(w, c, "a float");
    add_value(w, c, &v, 4);
    return 0;
}

int pq_writer_put_double(pq_writer *w, int col, double v)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->phys != PQ__DOUBLE) return type_err(w, c, "a double");
    add_value(w, c, &v, 8);
    return 0;
}

int pq_writer_put_bytes(pq_writer *w, int col, const void *p, size_t n)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->phys != PQ__BYTE_ARRAY) return type_err(w, c, "a string");
    if (n > MAX_VALUE_BYTES)
        return value_err(w, c, "value of %zu bytes is over the %u MiB cap", n,
                         MAX_VALUE_BYTES >> 20);
    add_value(w, c, p, n);
    return 0;
}

/* Store an unscaled decimal that fits the column's precision. */
static void add_decimal(pq_writer *w, pq__wcol *c, __int128 v)
{
    assert(pq__dec_fits(v, c->precision));
    if (c->phys == PQ__INT32) {
        int32_t x = (int32_t)v;
        add_value(w, c, &x, 4);
    } else if (c->phys == PQ__INT64) {
        int64_t x = (int64_t)v;
        add_value(w, c, &x, 8);
    } else {
        uint8_t be[16];
        pq__dec_to_be(v, c->width, be);
        add_value(w, c, be, (size_t)c->width);
    }
}

int pq_writer_put_decimal(pq_writer *w, int col, const char *text, size_t n)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->type != PQ_DECIMAL) return type_err(w, c, "a decimal");
    char why[160];
    __int128 v;
    if (pq__dec_parse(text, n, c->precision, c->scale, &v, why, sizeof why))
        return value_err(w, c, "DECIMAL(%d,%d) cannot take '%.*s': %s", c->precision, c->scale,
                         n > 64 ? 64 : (int)n, text, why);
    add_decimal(w, c, v);
    return 0;
}

int pq_writer_put_decimal_unscaled(pq_writer *w, int col, int64_t unscaled)
{
    pq__wcol *c;
    if (begin_value(w, col, &c)) return -1;
    if (c->type != PQ_DECIMAL) return type_err(w, c, "a decimal");
    if (!pq__dec_fits(unscaled, c->precision))
        return value_err(w, c, "DECIMAL(%d,%d) cannot take unscaled %lld: more than %d digits",
                         c->precision, c->scale, (long long)unscaled, c->precision);
    add_decimal(w, c, unscaled);
    return 0;
}

/* ---- rows ------------------------------------------------------------------- */

static void undo_column(pq__wcol *c)
{
    assert(c->page_values > 0); /* the row put a value (or null) here */
    c->page_values--;
    if (c->optional) {
        assert(c->defs.len > 0);
        c->defs.len--;
        if (c->defs.p[c->defs.len] == 0) {
            c->page_nulls--;
            return;
        }
    }
    if (c->dict_on) {
        assert(c->nids > 0);
        c->nids--;
        if (c->row_added) pq__dict_pop(&c->dict);
    } else {
        c->vals.len = c->row_vals_len;
    }
    stats_undo(c);
}

void pq_writer_cancel_row(pq_writer *w)
{
    for (int i = 0; i < w->ncols && w->nset; i++) {
        pq__wcol *c = &w->cols[i];
        if (c->row_gen != w->row_gen) continue;
        undo_column(c);
        w->nset--;
    }
    assert(w->nset == 0); /* nset counted exactly the columns of this row */
    w->row_bytes = w->row_start_bytes;
    w->page_check = 0;
    w->row_gen++;
}

int pq_writer_end_row(pq_writer *w)
{
    assert(!w->closed && w->nset >= 0 && w->nset <= w->ncols);
    if (w->nset < w->ncols) {
        for (int i = 0; i < w->ncols; i++) {
            pq__wcol *c = &w->cols[i];
            if (c->row_gen == w->row_gen) continue;
            if (!c->optional) {
                char name[256];
                snprintf(name, sizeof name, "%s", c->name);
                pq_writer_cancel_row(w);
                return ut_err(w->err, sizeof w->err,
                              "%s: column '%s' is required (NOT NULL) but the row has no value",
                              w->path, name);
            }
            ut_buf_putc(&c->defs, 0);
            c->page_values++;
            c->page_nulls++;
        }
    }
    w->nset = 0;
    w->row_gen++;
    w->rg_rows++;
    w->rows++;
    w->row_start_bytes = w->row_bytes;
    if (w->page_check) {
        w->page_check = 0;
        for (int i = 0; i < w->ncols; i++) {
            pq__wcol *c = &w->cols[i];
            if (page_full(w, c))
                if (pq__flush_page(w, c, w->err, sizeof w->err)) return -1;
        }
    }
    if (w->row_bytes >= w->o.row_group_bytes || w->rg_rows >= w->o.row_group_rows)
        return pq__flush_row_group(w, w->err, sizeof w->err);
    return 0;
}

int64_t pq_writer_rows(const pq_writer *w)
{
    return w->rows;
}

int64_t pq_writer_bytes(const pq_writer *w)
{
    return w->offset;
}

/* A raw PLAIN statistics value of column c as a pq_value (bytes point into p). */
static pq_value stat_value(const pq__wcol *c, const uint8_t *p, size_t n)
{
    pq_value v;
    memset(&v, 0, sizeof v);
    v.kind = pq_type_kind(c->type);
    if (c->type == PQ_DECIMAL) { /* as the reader reports it: a double */
        double x;
        if (c->phys == PQ__INT32) {
            int32_t i;
            memcpy(&i, p, 4);
            x = i;
        } else if (c->phys == PQ__INT64) {
            int64_t i;
            memcpy(&i, p, 8);
            x = (double)i;
        } else {
            x = (double)(int8_t)p[0];
            for (size_t i = 1; i < n; i++) x = x * 256.0 + p[i];
        }
        v.u.d = x / pow(10, c->scale);
        return v;
    }
    switch (c->phys) {
    case PQ__BOOLEAN: v.u.i = p[0] != 0; break;
    case PQ__INT32: {
        int32_t x;
        memcpy(&x, p, 4);
        v.u.i = x;
        break;
    }
    case PQ__INT64: memcpy(&v.u.i, p, 8); break;
    case PQ__FLOAT: {
        float f;
        memcpy(&f, p, 4);
        v.u.d = f;
        break;
    }
    case PQ__DOUBLE: memcpy(&v.u.d, p, 8); break;
    default:
        v.u.s.p = p;
        v.u.s.n = n;
    }
    return v;
}

int pq_writer_num_columns(const pq_writer *w)
{
    return w->ncols;
}

const char *pq_writer_column(const pq_writer *w, int col, pq_type *type)
{
    if (col < 0 || col >= w->ncols) return NULL;
    if (type) *type = w->cols[col].type;
    return w->cols[col].name;
}

/* The chunks holding column c's file-wide min and max (*mn NULL when the
 * file has no usable min/max); adds the null counts to *nulls. */
static void file_minmax(const pq_writer *w, int col, const pq__chunk_meta **mn,
                        const pq__chunk_meta **mx, int64_t *nulls)
{
    const pq__wcol *c = &w->cols[col];
    int ok = 1;
    *mn = *mx = NULL;
    for (int g = 0; g < w->nrg; g++) {
        const pq__chunk_meta *m = &w->rgs[g].chunks[col];
        *nulls += m->nulls;
        if (!m->has_minmax) {
            if (m->values > m->nulls) ok = 0; /* values without usable min/max */
            continue;
        }
        if (!*mn || cmp_value(c, m->min, m->min_len, (*mn)->min, (*mn)->min_len) < 0) *mn = m;
        if (!*mx || cmp_value(c, m->max, m->max_len, (*mx)->max, (*mx)->max_len) > 0) *mx = m;
    }
    if (!ok) *mn = *mx = NULL;
}

int pq_writer_column_stats(const pq_writer *w, int col, pq_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!w->closed || col < 0 || col >= w->ncols) return -1;
    const pq__wcol *c = &w->cols[col];
    const pq__chunk_meta *mn, *mx;
    out->has_null_count = 1;
    file_minmax(w, col, &mn, &mx, &out->null_count);
    if (mn) {
        out->has_min_max = 1;
        out->min = stat_value(c, mn->min, mn->min_len);
        out->max = stat_value(c, mx->max, mx->max_len);
    }
    return 0;
}

/* A DECIMAL statistic (INT32, INT64 or big-endian FLBA of up to 16 bytes)
 * as a 128-bit integer. */
static pq_dec128 stat_dec(const pq__wcol *c, const uint8_t *p, size_t n)
{
    uint8_t be[16];
    if (c->phys == PQ__INT32 || c->phys == PQ__INT64) {
        int64_t v;
        if (c->phys == PQ__INT32) {
            int32_t i;
            memcpy(&i, p, 4);
            v = i;
        } else {
            memcpy(&v, p, 8);
        }
        return (pq_dec128){v < 0 ? -1 : 0, (uint64_t)v};
    }
    assert(n > 0 && n <= 16);
    memset(be, (p[0] & 0x80) ? 0xff : 0, sizeof be);
    memcpy(be + 16 - n, p, n);
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; i++) {
        hi = hi << 8 | be[i];
        lo = lo << 8 | be[8 + i];
    }
    return (pq_dec128){(int64_t)hi, lo};
}

int pq_writer_column_decimal_stats(const pq_writer *w, int col, pq_dec128 *min, pq_dec128 *max,
                                   int *scale)
{
    if (!w->closed || col < 0 || col >= w->ncols || w->cols[col].type != PQ_DECIMAL) return -1;
    const pq__wcol *c = &w->cols[col];
    const pq__chunk_meta *mn, *mx;
    int64_t nulls = 0;
    file_minmax(w, col, &mn, &mx, &nulls);
    *scale = c->scale;
    if (!mn) return 0;
    *min = stat_dec(c, mn->min, mn->min_len);
    *max = stat_dec(c, mx->max, mx->max_len);
    return 1;
}

const char *pq_writer_error(const pq_writer *w)
{
    return w->err;
}

void pq_writer_set_kv(pq_writer *w, const char *key, const char *value)
{
    assert(!w->closed && key); /* the footer is written by close */
    if (w->nkv == w->cap_kv) {
        w->cap_kv = w->cap_kv ? w->cap_kv * 2 : 8;
        w->kv = ut_realloc(w->kv, (size_t)w->cap_kv * 2 * sizeof *w->kv);
    }
    w->kv[2 * w->nkv] = ut_strdup(key);
    w->kv[2 * w->nkv + 1] = value ? ut_strdup(value) : NULL;
    w->nkv++;
}

int pq_writer_close(pq_writer *w, char *err, size_t errlen)
{
    if (w->closed) return ut_err(err, errlen, "%s: writer already closed", w->path);
    if (w->nset) pq_writer_cancel_row(w);
    if (w->rg_rows && pq__flush_row_group(w, err, errlen)) return -1;
    if (pq__write_footer(w, err, errlen)) return -1;
    if (w->wfn) {
        w->closed = 1;
        return 0;
    }
    if (fsync(w->fd)) return ut_err(err, errlen, "%s: fsync: %s", w->path, strerror(errno));
    int fd = w->fd;
    w->fd = -1;
    if (close(fd)) return ut_err(err, errlen, "%s: close: %s", w->path, strerror(errno));
    w->closed = 1;
    return 0;
}

void pq_writer_destroy(pq_writer *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    for (int i = 0; w->cols && i < w->ncols; i++) {
        pq__wcol *c = &w->cols[i];
        free(c->name);
        ut_buf_free(&c->defs);
        ut_buf_free(&c->vals);
        free(c->ids);
        pq__dict_free(&c->dict);
        ut_buf_free(&c->chunk);
        ut_buf_free(&c->min);
        ut_buf_free(&c->max);
        ut_buf_free(&c->prev_min);
        ut_buf_free(&c->prev_max);
    }
    free(w->cols);
    ut_buf_free(&w->mem);
    for (int i = 0; i < 2 * w->nkv; i++) free(w->kv[i]);
    free(w->kv);
    pq__free_row_groups(w);
    free(w->rgs);
    ut_buf_free(&w->scratch);
    ut_buf_free(&w->scratch2);
    ut_buf_free(&w->hdr);
    ut_buf_free(&w->alt);
    ut_buf_free(&w->alt2);
    free(w->created_by);
    free(w->path);
    free(w);
}
