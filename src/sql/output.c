/* Result output: aligned table, CSV, TSV, NDJSON, JSON, Parquet — all streamed
 * (the table and Parquet formats look at the first SQ_OUT_SAMPLE rows, or
 * fewer once they hold SQ_OUT_SAMPLE_BYTES, to choose widths / types, then
 * stream). */
#include "sql/output.h"
#include "sql/sq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQ_OUT_SAMPLE 1000
/* ... or fewer, once they hold this much (1000 wide rows would be GBs) */
#define SQ_OUT_SAMPLE_BYTES ((size_t)16 << 20)
#define SQ_OUT_MAX_WIDTH 60
/* A Parquet stream (no path) holds one row group in memory: keep it small. */
#define SQ_OUT_STREAM_RG_ROWS (64 << 10)
#define SQ_OUT_STREAM_RG_BYTES ((size_t)16 << 20)

struct sq_out {
    FILE *f;
    sq_format fmt;
    int ncols, nrows, header_done;
    char **names;
    /* sample (table, parquet) */
    sqlite3_value ***sample;
    int nsample;
    size_t sample_bytes;
    int *width;
    int sampling;
    /* parquet */
    char *path, *tmp;
    pq_writer *w;
    int *ptype; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT */
    int *dtype; /* the same from the columns' declared types (0: none), at the header */
    char err[512];
    ut_buf b;
};

int sq_format_parse(const char *s, sq_format *out)
{
    static const char *const names[] = {"table", "csv", "tsv", "ndjson", "json", "parquet"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(s, names[i])) {
            *out = (sq_format)i;
            return 0;
        }
    return -1;
}

sq_out *sq_out_create(FILE *f, sq_format fmt, const char *parquet_path)
{
    sq_out *o = ut_calloc(1, sizeof *o);
    o->f = f;
    o->fmt = fmt;
    if (fmt == SQ_FMT_PARQUET && parquet_path) {
        o->path = ut_strdup(parquet_path);
        size_t n = strlen(parquet_path) + 16;
        o->tmp = ut_malloc(n);
        snprintf(o->tmp, n, "%s.tmp", parquet_path);
    }
    o->sampling = fmt == SQ_FMT_TABLE || fmt == SQ_FMT_PARQUET;
    return o;
}

static void free_sample(sq_out *o)
{
    for (int r = 0; r < o->nsample; r++) {
        for (int i = 0; i < o->ncols; i++) sqlite3_value_free(o->sample[r][i]);
        free(o->sample[r]);
    }
    free(o->sample);
    o->sample = NULL;
    o->nsample = 0;
}

void sq_out_destroy(sq_out *o)
{
    if (!o) return;
    free_sample(o);
    for (int i = 0; i < o->ncols; i++) free(o->names[i]);
    free(o->names);
    free(o->width);
    free(o->ptype);
    free(o->dtype);
    pq_writer_destroy(o->w);
    if (o->tmp) remove(o->tmp);
    free(o->tmp);
    free(o->path);
    ut_buf_free(&o->b);
    free(o);
}

const char *sq_out_error(const sq_out *o) { return o->err; }

/* ---- text formats ----------------------------------------------------------- */

static void put_csv_field(ut_buf *b, const char *s, size_t n, char delim)
{
    int quote = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = 1;
    if (delim == '\t') { /* TSV: no quoting; escape the separators */
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\t') ut_buf_puts(b, "\\t");
            else if (s[i] == '\n') ut_buf_puts(b, "\\n");
            else if (s[i] == '\r') ut_buf_puts(b, "\\r");
            else if (s[i] == '\\') ut_buf_puts(b, "\\\\");
            else ut_buf_putc(b, (uint8_t)s[i]);
        }
        return;
    }
    if (!quote) {
        ut_buf_put(b, s, n);
        return;
    }
    ut_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, (uint8_t)s[i]);
    }
    ut_buf_putc(b, '"');
}

/* Text of a value: numbers in shortest round-trip form. */
static const char *val_text(sqlite3_value *v, char *tmp, size_t *n)
{
    switch (sqlite3_value_type(v)) {
    case SQLITE_NULL: *n = 0; return NULL;
    case SQLITE_INTEGER: *n = (size_t)snprintf(tmp, 32, "%lld", (long long)sqlite3_value_int64(v)); return tmp;
    case SQLITE_FLOAT: *n = (size_t)ut_fmt_double(tmp, sqlite3_value_double(v)); return tmp;
    default:
        *n = (size_t)sqlite3_value_bytes(v);
        return (const char *)sqlite3_value_text(v);
    }
}

static void put_json_value(ut_buf *b, sqlite3_value *v)
{
    char tmp[48];
    size_t n;
    switch (sqlite3_value_type(v)) {
    case SQLITE_NULL: ut_buf_puts(b, "null"); return;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: {
        const char *s = val_text(v, tmp, &n);
        if (!strcmp(s, "nan") || strstr(s, "inf")) ut_buf_puts(b, "null");
        else ut_buf_put(b, s, n);
        return;
    }
    default: {
        const char *s = val_text(v, tmp, &n);
        ut_json_str(b, s ? s : "", n);
    }
    }
}

static int utf8_width(const char *s, size_t n)
{
    int w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) w++;
    return w;
}

static void put_table_row(sq_out *o, sqlite3_value **vals)
{
    ut_buf *b = &o->b;
    for (int i = 0; i < o->ncols; i++) {
        char tmp[48];
        size_t n;
        const char *s = vals ? val_text(vals[i], tmp, &n) : o->names[i];
        if (!vals) n = strlen(s);
        if (!s) {
            s = "NULL";
            n = 4;
        }
        int w = utf8_width(s, n);
        int num = vals && (sqlite3_value_type(vals[i]) == SQLITE_INTEGER ||
                           sqlite3_value_type(vals[i]) == SQLITE_FLOAT);
        ut_buf_puts(b, i ? " | " : "");
        if (num)
            for (int k = w; k < o->width[i]; k++) ut_buf_putc(b, ' ');
        for (size_t k = 0; k < n; k++) ut_buf_putc(b, s[k] == '\n' ? ' ' : (uint8_t)s[k]);
        if (!num && i + 1 < o->ncols)
            for (int k = w; k < o->width[i]; k++) ut_buf_putc(b, ' ');
    }
    ut_buf_putc(b, '\n');
}

static void flush_buf(sq_out *o)
{
    if (o->b.len > (1 << 16)) {
        fwrite(o->b.p, 1, o->b.len, o->f);
        ut_buf_reset(&o->b);
    }
}

/* ---- parquet ------------------------------------------------------------------ */

static int stream_write(void *ctx, const void *p, size_t n)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

/* The Parquet type of a declared column type: SQLite's affinity rules. */
static int decl_type(const char *d)
{
    if (!d) return 0;
    if (sqlite3_strlike("%INT%", d, 0) == 0) return SQLITE_INTEGER;
    if (sqlite3_strlike("%REAL%", d, 0) == 0 || sqlite3_strlike("%DOUB%", d, 0) == 0 ||
        sqlite3_strlike("%FLOA%", d, 0) == 0)
        return SQLITE_FLOAT;
    return SQLITE_TEXT;
}

static int parquet_open(sq_out *o)
{
    pq_column_spec *specs = ut_calloc((size_t)o->ncols, sizeof *specs);
    o->ptype = ut_calloc((size_t)o->ncols, sizeof *o->ptype);
    for (int i = 0; i < o->ncols; i++) {
        int t = o->dtype ? o->dtype[i] : 0;
        /* observed types of the sample refine or decide */
        int seen = 0;
        for (int r = 0; r < o->nsample; r++) {
            int vt = sqlite3_value_type(o->sample[r][i]);
            if (vt == SQLITE_NULL) continue;
            if (vt == SQLITE_BLOB) vt = SQLITE_TEXT;
            if (!seen) seen = vt;
            else if (seen != vt)
                seen = (seen != SQLITE_TEXT && vt != SQLITE_TEXT) ? SQLITE_FLOAT : SQLITE_TEXT;
        }
        if (!t || (seen && seen != t && !(t == SQLITE_FLOAT && seen == SQLITE_INTEGER)))
            t = seen ? seen : SQLITE_TEXT;
        o->ptype[i] = t;
        specs[i].name = o->names[i];
        specs[i].type = t == SQLITE_INTEGER ? PQ_INT64 : t == SQLITE_FLOAT ? PQ_DOUBLE : PQ_STRING;
        specs[i].optional = 1;
    }
    if (o->path) {
        o->w = pq_writer_create(o->tmp, specs, o->ncols, NULL, o->err, sizeof o->err);
    } else {
        pq_writer_opts po;
        pq_writer_opts_init(&po);
        po.row_group_rows = SQ_OUT_STREAM_RG_ROWS;
        po.row_group_bytes = SQ_OUT_STREAM_RG_BYTES;
        o->w = pq_writer_create_stream("the result", stream_write, o->f, specs, o->ncols, &po,
                                       o->err, sizeof o->err);
    }
    free(specs);
    return o->w ? 0 : -1;
}

static int parquet_row(sq_out *o, sqlite3_value **vals)
{
    for (int i = 0; i < o->ncols; i++) {
        sqlite3_value *v = vals[i];
        int vt = sqlite3_value_type(v), rc;
        if (vt == SQLITE_NULL) rc = pq_writer_put_null(o->w, i);
        else if (o->ptype[i] == SQLITE_INTEGER) {
            if (vt != SQLITE_INTEGER) {
                ut_err(o->err, sizeof o->err,
                       "column %s: a %s value in an integer column (row %d); CAST it",
                       o->names[i], vt == SQLITE_FLOAT ? "real" : "text", o->nrows + 1);
                return -1;
            }
            rc = pq_writer_put_i64(o->w, i, sqlite3_value_int64(v));
        } else if (o->ptype[i] == SQLITE_FLOAT) {
            if (vt == SQLITE_TEXT || vt == SQLITE_BLOB) {
                ut_err(o->err, sizeof o->err, "column %s: a text value in a real column (row %d)",
                       o->names[i], o->nrows + 1);
                return -1;
            }
            rc = pq_writer_put_double(o->w, i, sqlite3_value_double(v));
        } else {
            char tmp[48];
            size_t n;
            const char *s = val_text(v, tmp, &n);
            rc = pq_writer_put_bytes(o->w, i, s, n);
        }
        if (rc) {
            ut_err(o->err, sizeof o->err, "%s", pq_writer_error(o->w));
            return -1;
        }
    }
    if (pq_writer_end_row(o->w)) {
        ut_err(o->err, sizeof o->err, "%s", pq_writer_error(o->w));
        return -1;
    }
    return 0;
}

/* ---- rows --------------------------------------------------------------------- */

static int emit(sq_out *o, sqlite3_value **vals)
{
    ut_buf *b = &o->b;
    switch (o->fmt) {
    case SQ_FMT_TABLE: put_table_row(o, vals); break;
    case SQ_FMT_CSV:
    case SQ_FMT_TSV: {
        char d = o->fmt == SQ_FMT_CSV ? ',' : '\t';
        for (int i = 0; i < o->ncols; i++) {
            char tmp[48];
            size_t n;
            const char *s = val_text(vals[i], tmp, &n);
            if (i) ut_buf_putc(b, (uint8_t)d);
            if (s) put_csv_field(b, s, n, d);
        }
        ut_buf_putc(b, '\n'); /* LF, as sluice cat and Unix tools (a CR stays quoted in fields) */
        break;
    }
    case SQ_FMT_NDJSON:
    case SQ_FMT_JSON:
        if (o->fmt == SQ_FMT_JSON) ut_buf_puts(b, o->nrows ? ",\n" : "[\n");
        ut_buf_putc(b, '{');
        for (int i = 0; i < o->ncols; i++) {
            if (i) ut_buf_putc(b, ',');
            ut_json_str(b, o->names[i], strlen(o->names[i]));
            ut_buf_putc(b, ':');
            put_json_value(b, vals[i]);
        }
        ut_buf_puts(b, o->fmt == SQ_FMT_NDJSON ? "}\n" : "}");
        break;
    case SQ_FMT_PARQUET:
        if (parquet_row(o, vals)) return -1;
        break;
    }
    o->nrows++;
    flush_buf(o);
    return 0;
}

static void table_header(sq_out *o)
{
    o->width = ut_calloc((size_t)o->ncols, sizeof *o->width);
    for (int i = 0; i < o->ncols; i++) {
        o->width[i] = utf8_width(o->names[i], strlen(o->names[i]));
        for (int r = 0; r < o->nsample; r++) {
            char tmp[48];
            size_t n;
            const char *s = val_text(o->sample[r][i], tmp, &n);
            int w = s ? utf8_width(s, n) : 4;
            if (w > o->width[i]) o->width[i] = w > SQ_OUT_MAX_WIDTH ? SQ_OUT_MAX_WIDTH : w;
        }
    }
    put_table_row(o, NULL);
    for (int i = 0; i < o->ncols; i++) {
        ut_buf_puts(&o->b, i ? "-+-" : "");
        for (int k = 0; k < o->width[i]; k++) ut_buf_putc(&o->b, '-');
    }
    ut_buf_putc(&o->b, '\n');
}

/* End the sample: decide widths / types, emit the buffered rows. */
static int end_sample(sq_out *o)
{
    o->sampling = 0;
    if (o->fmt == SQ_FMT_TABLE) table_header(o);
    else if (parquet_open(o)) return -1;
    for (int r = 0; r < o->nsample; r++)
        if (emit(o, o->sample[r])) return -1;
    free_sample(o);
    return 0;
}

static int on_header(void *ctx, sqlite3_stmt *st)
{
    sq_out *o = ctx;
    if (o->header_done) return 0; /* several statements: the first one's columns */
    o->header_done = 1;
    o->ncols = sqlite3_column_count(st);
    o->names = ut_calloc((size_t)o->ncols, sizeof *o->names);
    for (int i = 0; i < o->ncols; i++) {
        const char *n = sqlite3_column_name(st, i);
        o->names[i] = ut_strdup(n ? n : "?");
    }
    if (o->fmt == SQ_FMT_PARQUET) { /* now: a result without rows has no statement at its end */
        o->dtype = ut_calloc((size_t)o->ncols, sizeof *o->dtype);
        for (int i = 0; i < o->ncols; i++) o->dtype[i] = decl_type(sqlite3_column_decltype(st, i));
    }
    if (o->fmt == SQ_FMT_CSV || o->fmt == SQ_FMT_TSV) {
        for (int i = 0; i < o->ncols; i++) {
            if (i) ut_buf_putc(&o->b, o->fmt == SQ_FMT_CSV ? ',' : '\t');
            put_csv_field(&o->b, o->names[i], strlen(o->names[i]), o->fmt == SQ_FMT_CSV ? ',' : '\t');
        }
        ut_buf_putc(&o->b, '\n');
    }
    return 0;
}

static int on_row(void *ctx, sqlite3_stmt *st)
{
    sq_out *o = ctx;
    int n = sqlite3_column_count(st);
    if (n != o->ncols) return 0; /* a later statement with other columns: skipped */
    sqlite3_value **vals = ut_calloc((size_t)n, sizeof *vals);
    for (int i = 0; i < n; i++) vals[i] = sqlite3_value_dup(sqlite3_column_value(st, i));
    if (o->sampling) {
        if (o->nsample % 64 == 0)
            o->sample = ut_realloc(o->sample, (size_t)(o->nsample + 64) * sizeof *o->sample);
        o->sample[o->nsample++] = vals;
        for (int i = 0; i < n; i++) { /* bytes of text and blobs only: no conversion of numbers */
            int t = sqlite3_value_type(vals[i]);
            size_t vb = t == SQLITE_TEXT || t == SQLITE_BLOB ? (size_t)sqlite3_value_bytes(vals[i]) : 8;
            o->sample_bytes += 16 + vb;
        }
        if (o->nsample >= SQ_OUT_SAMPLE || o->sample_bytes >= SQ_OUT_SAMPLE_BYTES) return end_sample(o);
        return 0;
    }
    int rc = emit(o, vals);
    for (int i = 0; i < n; i++) sqlite3_value_free(vals[i]);
    free(vals);
    return rc;
}

void sq_out_sink(sq_out *o, sq_sink *s)
{
    s->ctx = o;
    s->header = on_header;
    s->row = on_row;
}

int sq_out_finish(sq_out *o)
{
    if (!o->header_done && o->fmt != SQ_FMT_PARQUET) return 0;
    if (o->sampling && end_sample(o)) return -1;
    if (o->fmt == SQ_FMT_JSON) ut_buf_puts(&o->b, o->nrows ? "\n]\n" : "[]\n");
    if (o->b.len) fwrite(o->b.p, 1, o->b.len, o->f);
    ut_buf_reset(&o->b);
    if (fflush(o->f)) {
        ut_err(o->err, sizeof o->err, "write error");
        return -1;
    }
    if (o->fmt == SQ_FMT_PARQUET) {
        if (!o->w) {
            ut_err(o->err, sizeof o->err, "the query returned no columns");
            return -1;
        }
        if (pq_writer_close(o->w, o->err, sizeof o->err)) return -1;
        pq_writer_destroy(o->w);
        o->w = NULL;
        if (!o->path) return fflush(o->f) ? ut_err(o->err, sizeof o->err, "write error") : 0;
        if (rename(o->tmp, o->path)) {
            ut_err(o->err, sizeof o->err, "cannot rename %s to %s", o->tmp, o->path);
            return -1;
        }
    }
    return 0;
}
