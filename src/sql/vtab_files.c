/* read_csv('path') and read_ndjson('path'): modules "sluice_csv" and
 * "sluice_ndjson".  Columns come from the CSV header / the keys of the first
 * records, types from the first SAMPLE_ROWS records (INTEGER, REAL, else
 * TEXT), or from the number of records the second argument says (0 = every
 * record: a key first seen late still gets its column, a late value its
 * type), or given as a third argument, a letter per column (the types a
 * caller already knows: the file is then read once).  NDJSON keys that
 * differ only in ASCII case are one column (SQL could not tell them apart),
 * named as first seen.  Files may be gzip or
 * zstd compressed.  Full scans only. */
#include "csv/csv.h"
#include "io/io.h"
#include "json/json.h"
#include "sql/sq_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SAMPLE_ROWS 1000
#define MAX_LINE (64u << 20)

typedef struct fcol {
    char *name;
    size_t len;
    int type; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT; 0 = only nulls so far */
} fcol;

typedef struct fvtab {
    sqlite3_vtab base;
    int ndjson;
    int64_t sample;     /* records inferred from; 0 = all */
    char path[4096];
    fcol *cols;
    int ncols;
} fvtab;

typedef struct fval {
    int t; /* SQLITE_NULL .. */
    int64_t i;
    double d;
    const char *s; /* TEXT: its bytes (a CSV field in the reader's window), or */
    size_t off, n; /* at off in the cursor's text (NDJSON) */
} fval;

typedef struct fcur {
    sqlite3_vtab_cursor base;
    io_reader *in;
    csv_reader *csv;
    js_parser *js;
    fval *vals;
    ut_buf text;
    int64_t rowid;
    int eof;
} fcur;

/* [-]digits, at most 18 of them: the plain integers collect and most files
 * hold, without strtoll (which gives the same value). 1 done, 0 not. */
static int plain_int(const char *s, size_t n, int64_t *out)
{
    size_t i = s[0] == '-';
    if (i == n || n - i > 18) return 0;
    int64_t v = 0;
    for (size_t j = i; j < n; j++) {
        unsigned d = (unsigned)(s[j] - '0');
        if (d > 9) return 0;
        v = v * 10 + d;
    }
    *out = i ? -v : v;
    return 1;
}

/* [-]digits[.digits] whose digits make an integer below 2^53 with at most
 * 22 after the point: that integer / 10^k is exact and one correctly
 * rounded division, so the double strtod gives (Clinger's fast path).
 * 1 done, 0 not. */
static int plain_real(const char *s, size_t n, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = s[0] == '-', digits = 0, frac = 0;
    int point = 0;
    uint64_t m = 0;
    if (i == n) return 0;
    for (size_t j = i; j < n; j++) {
        if (s[j] == '.' && !point && j > i && j + 1 < n) {
            point = 1;
            continue;
        }
        unsigned d = (unsigned)(s[j] - '0');
        if (d > 9 || ++digits > 15) return 0;
        m = m * 10 + d;
        frac += point;
    }
    if (frac > 22) return 0;
    double v = (double)m / p10[frac];
    *out = i ? -v : v;
    return 1;
}

static int parse_int(const char *s, size_t n, int64_t *out)
{
    if (n && plain_int(s, n, out)) return 0;
    char b[32];
    if (!n || n >= sizeof b) return -1;
    memcpy(b, s, n);
    b[n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(b, &end, 10);
    if (*end || errno) return -1;
    *out = v;
    return 0;
}

static int parse_real(const char *s, size_t n, double *out)
{
    if (n && plain_real(s, n, out)) return 0;
    char b[64];
    if (!n || n >= sizeof b) return -1;
    memcpy(b, s, n);
    b[n] = 0;
    char *end;
    double v = strtod(b, &end);
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int widen(int a, int b)
{
    if (!a) return b;
    if (!b || a == b) return a;
    if ((a == SQLITE_INTEGER && b == SQLITE_FLOAT) || (a == SQLITE_FLOAT && b == SQLITE_INTEGER))
        return SQLITE_FLOAT;
    return SQLITE_TEXT;
}

static int col_is(const fvtab *t, int i, const char *k, size_t n)
{
    const fcol *c = &t->cols[i];
    return c->len == n && (!memcmp(c->name, k, n) || (t->ndjson && !strncasecmp(c->name, k, n)));
}

/* The column named k (NDJSON: up to ASCII case; at most one matches, as
 * add_col adds only unmatched names), trying `hint` first (the key's place
 * in its record: records mostly list their keys in one order).  -1 none. */
static int find_col(const fvtab *t, const char *k, size_t n, int hint)
{
    if (hint >= 0 && hint < t->ncols && col_is(t, hint, k, n)) return hint;
    for (int i = 0; i < t->ncols; i++)
        if (col_is(t, i, k, n)) return i;
    return -1;
}

static int add_col(fvtab *t, const char *k, size_t n)
{
    if (t->ncols >= CT_MAX_COLUMNS) return -1;
    t->cols = ut_realloc(t->cols, (size_t)(t->ncols + 1) * sizeof *t->cols);
    char *s = ut_malloc(n + 1);
    memcpy(s, k, n);
    s[n] = 0;
    t->cols[t->ncols] = (fcol){s, n, 0};
    return t->ncols++;
}

static int csv_kind(const char *f, size_t n, int quoted)
{
    int64_t i;
    double d;
    if (!n && !quoted) return 0;
    if (!quoted && parse_int(f, n, &i) == 0) return SQLITE_INTEGER;
    if (!quoted && parse_real(f, n, &d) == 0) return SQLITE_FLOAT;
    return SQLITE_TEXT;
}

static int json_kind(js_kind k)
{
    switch (k) {
    case JS_NULL: return 0;
    case JS_BOOL:
    case JS_INT: return SQLITE_INTEGER;
    case JS_DOUBLE: return SQLITE_FLOAT;
    default: return SQLITE_TEXT;
    }
}

/* Open the input (and parsers) for a scan.  0 or -1 with a message. */
static int open_input(const fvtab *t, fcur *c, char *err, size_t errlen)
{
    c->in = io_open(t->path, 0, (size_t)MAX_LINE * 2, err, errlen);
    if (!c->in) return -1;
    if (t->ndjson) c->js = js_parser_create(MAX_LINE, 0);
    else c->csv = csv_create(c->in, NULL);
    return 0;
}

static void close_input(fcur *c)
{
    csv_destroy(c->csv);
    c->csv = NULL;
    io_close(c->in);
    c->in = NULL;
    js_parser_destroy(c->js);
    c->js = NULL;
}

/* Read the next record into c->vals (t->cols known) or, with infer, widen
 * the columns.  1, 0 at the end, -1 with a message. */
static int next_record(fvtab *t, fcur *c, int infer, char *err, size_t errlen)
{
    for (;;) {
        if (!t->ndjson) {
            int rc = csv_next(c->csv, err, errlen);
            if (rc == CSV_EOF) return 0;
            if (rc == CSV_ERR) return -1;
            if (rc == CSV_BAD) continue;
            ut_buf_reset(&c->text);
            for (int i = 0; i < t->ncols; i++) {
                size_t n = 0;
                int q = 0;
                const char *f = i < csv_nfields(c->csv) ? csv_field(c->csv, i, &n, &q) : NULL;
                if (infer) {
                    t->cols[i].type = widen(t->cols[i].type, f ? csv_kind(f, n, q) : 0);
                    continue;
                }
                fval *v = &c->vals[i];
                v->t = SQLITE_NULL;
                if (!f || (!n && !q)) continue; /* null (csv_kind's 0) */
                int want = t->cols[i].type ? t->cols[i].type : SQLITE_TEXT;
                if (want == SQLITE_INTEGER && parse_int(f, n, &v->i) == 0) v->t = SQLITE_INTEGER;
                else if (want == SQLITE_FLOAT && parse_real(f, n, &v->d) == 0) v->t = SQLITE_FLOAT;
                else { /* valid until the next record, as the field is */
                    v->t = SQLITE_TEXT;
                    v->s = f;
                    v->n = n;
                }
            }
            return 1;
        }
        const uint8_t *line;
        size_t len;
        int64_t lineno;
        int rc = io_line(c->in, MAX_LINE, &line, &len, &lineno, err, errlen);
        if (rc == IO_LINE_EOF) return 0;
        if (rc == IO_LINE_ERR) return -1;
        if (rc == IO_LINE_TOO_LONG || len == 0) continue;
        if (js_obj_begin(c->js, (const char *)line, len, err, errlen)) continue; /* not an object */
        ut_buf_reset(&c->text);
        if (!infer)
            for (int i = 0; i < t->ncols; i++) c->vals[i].t = SQLITE_NULL;
        js_field f;
        for (int pos = 0; js_obj_next(c->js, &f, err, errlen) == 1; pos++) {
            int ci = find_col(t, f.key, f.key_len, pos);
            if (infer) {
                if (ci < 0) ci = add_col(t, f.key, f.key_len);
                if (ci >= 0) t->cols[ci].type = widen(t->cols[ci].type, json_kind(f.v.kind));
                continue;
            }
            if (ci < 0 || f.v.kind == JS_NULL) continue;
            fval *v = &c->vals[ci];
            int want = t->cols[ci].type;
            if (f.v.kind == JS_BOOL && want == SQLITE_INTEGER) {
                v->t = SQLITE_INTEGER;
                v->i = f.v.b;
            } else if (f.v.kind == JS_INT && want == SQLITE_INTEGER) {
                v->t = SQLITE_INTEGER;
                v->i = f.v.i;
            } else if ((f.v.kind == JS_INT || f.v.kind == JS_DOUBLE) && want == SQLITE_FLOAT) {
                v->t = SQLITE_FLOAT;
                v->d = f.v.kind == JS_INT ? (double)f.v.i : f.v.d;
            } else {
                v->t = SQLITE_TEXT;
                v->s = NULL;
                v->off = c->text.len;
                v->n = f.v.n;
                if (f.v.s) ut_buf_put(&c->text, f.v.s, f.v.n);
            }
        }
        return 1;
    }
}

/* Widen the columns over the sample.  0 or -1. */
static int infer(fvtab *t, fcur *c, char *err, size_t errlen)
{
    for (int64_t r = 0; !t->sample || r < t->sample; r++) {
        int rc = next_record(t, c, 1, err, errlen);
        if (rc < 0) return -1;
        if (rc == 0) break;
    }
    return 0;
}

/* The third argument: a letter per column ('i' INTEGER, 'r' REAL, 't' TEXT,
 * 'n' only nulls: TEXT), quoted; the columns the header's (CSV) or the
 * first record's keys (NDJSON), so the file is not read to type them.
 * 0 or -1. */
static int given_types(fvtab *t, fcur *c, const char *types, char *err, size_t errlen)
{
    size_t n = strlen(types) + 2;
    const char *arg = types - 1; /* arg[i + 1]: the letter of column i */
    if (t->ndjson) {
        int64_t sample = t->sample;
        t->sample = 1;
        int rc = infer(t, c, err, errlen); /* the first record's keys */
        t->sample = sample;
        if (rc) return -1;
    }
    if ((size_t)t->ncols != n - 2)
        return ut_err(err, errlen, "%s: %zu column types for %d columns", t->path, n - 2,
                      t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        char k = arg[i + 1];
        if (!strchr("irtn", k) || !k)
            return ut_err(err, errlen, "%s: column type '%c' (i, r, t or n)", t->path, k);
        t->cols[i].type = k == 'i' ? SQLITE_INTEGER : k == 'r' ? SQLITE_FLOAT : k == 't' ? SQLITE_TEXT : 0;
    }
    return 0;
}

/* The columns of t's file (t->path, t->ndjson, t->sample set): the CSV
 * header's names or the NDJSON keys, typed by `types` (given_types) or
 * from the sample.  0 or -1 with a message. */
static int fv_init(fvtab *t, const char *types, char *err, size_t errlen)
{
    fcur c = {0};
    if (open_input(t, &c, err, errlen)) return -1;
    if (!t->ndjson) {
        int rc = csv_next(c.csv, err, errlen);
        if (rc != CSV_OK) {
            if (rc == CSV_EOF) ut_err(err, errlen, "%s: empty (no header)", t->path);
            goto fail;
        }
        for (int i = 0; i < csv_nfields(c.csv); i++) {
            size_t n;
            const char *f = csv_field(c.csv, i, &n, NULL);
            char nm[64];
            if (!n) {
                snprintf(nm, sizeof nm, "column%d", i + 1);
                f = nm;
                n = strlen(nm);
            }
            if (find_col(t, f, n, -1) >= 0 || add_col(t, f, n) < 0) {
                ut_err(err, errlen, "%s: duplicate or too many header names", t->path);
                goto fail;
            }
        }
    }
    if (types ? given_types(t, &c, types, err, errlen) : infer(t, &c, err, errlen)) goto fail;
    close_input(&c);
    ut_buf_free(&c.text);
    if (!t->ncols) return ut_err(err, errlen, "%s: no columns found", t->path);
    for (int i = 0; i < t->ncols; i++)
        if (!t->cols[i].type) t->cols[i].type = SQLITE_TEXT;
    return 0;
fail:
    close_input(&c);
    ut_buf_free(&c.text);
    return -1;
}

static int xconnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                    char **pzErr)
{
    (void)aux;
    if (argc < 4 || argc > 6) {
        *pzErr = sqlite3_mprintf("%s: the path, an optional sample size and column types "
                                 "expected", argv[0]);
        return SQLITE_ERROR;
    }
    fvtab *t = ut_calloc(1, sizeof *t);
    t->ndjson = !strcmp(argv[0], "sluice_ndjson");
    t->sample = argc >= 5 ? strtoll(argv[4], NULL, 10) : SAMPLE_ROWS;
    const char *a = argv[3];
    size_t len = strlen(a), j = 0;
    for (size_t i = 1; i + 1 < len && j + 1 < sizeof t->path; i++) {
        t->path[j++] = a[i];
        if (a[i] == '\'' && a[i + 1] == '\'') i++;
    }
    t->path[j] = 0;
    char err[512], types[SQ_MAX_TYPES_ARG + 1] = "";
    if (argc == 6) {
        size_t n = strlen(argv[5]);
        if (n < 2 || argv[5][0] != '\'' || argv[5][n - 1] != '\'' || n - 2 >= sizeof types) {
            ut_err(err, sizeof err, "%s: column types: a quoted string of i, r, t, n expected",
                   t->path);
            goto fail;
        }
        memcpy(types, argv[5] + 1, n - 2);
        types[n - 2] = 0;
    }
    if (fv_init(t, argc == 6 ? types : NULL, err, sizeof err)) goto fail;
    ut_buf b = {0};
    ut_buf_puts(&b, "CREATE TABLE x(");
    for (int i = 0; i < t->ncols; i++) {
        if (i) ut_buf_puts(&b, ", ");
        sq__ident(&b, t->cols[i].name);
        ut_buf_puts(&b, t->cols[i].type == SQLITE_INTEGER ? " INTEGER"
                        : t->cols[i].type == SQLITE_FLOAT ? " REAL" : " TEXT");
    }
    ut_buf_puts(&b, ")");
    ut_buf_putc(&b, 0);
    int rc = sqlite3_declare_vtab(db, (char *)b.p);
    ut_buf_free(&b);
    if (rc != SQLITE_OK) {
        ut_err(err, sizeof err, "%s: cannot declare columns: %s", t->path, sqlite3_errmsg(db));
        goto fail;
    }
    *out = &t->base;
    return SQLITE_OK;
fail:
    *pzErr = sqlite3_mprintf("%s: %s", t->ndjson ? "read_ndjson" : "read_csv", err);
    for (int i = 0; i < t->ncols; i++) free(t->cols[i].name);
    free(t->cols);
    free(t);
    return SQLITE_ERROR;
}

static int xdisconnect(sqlite3_vtab *v)
{
    fvtab *t = (fvtab *)v;
    for (int i = 0; i < t->ncols; i++) free(t->cols[i].name);
    free(t->cols);
    free(t);
    return SQLITE_OK;
}

static int xbestindex(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    info->estimatedCost = 1e6;
    return SQLITE_OK;
}

static int xopen(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    fcur *c = ut_calloc(1, sizeof *c);
    c->vals = ut_calloc((size_t)((fvtab *)v)->ncols, sizeof *c->vals);
    *out = &c->base;
    return SQLITE_OK;
}

static int xclose(sqlite3_vtab_cursor *cur)
{
    fcur *c = (fcur *)cur;
    close_input(c);
    ut_buf_free(&c->text);
    free(c->vals);
    free(c);
    return SQLITE_OK;
}

static int step(fcur *c)
{
    fvtab *t = (fvtab *)c->base.pVtab;
    char err[512];
    int rc = next_record(t, c, 0, err, sizeof err);
    if (rc < 0) {
        t->base.zErrMsg = sqlite3_mprintf("%s", err);
        return SQLITE_ERROR;
    }
    c->eof = rc == 0;
    c->rowid++;
    return SQLITE_OK;
}

static int xfilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                   sqlite3_value **argv)
{
    (void)idxNum, (void)idxStr, (void)argc, (void)argv;
    fcur *c = (fcur *)cur;
    fvtab *t = (fvtab *)cur->pVtab;
    close_input(c);
    char err[512];
    if (open_input(t, c, err, sizeof err)) {
        t->base.zErrMsg = sqlite3_mprintf("%s", err);
        return SQLITE_ERROR;
    }
    if (!t->ndjson && csv_next(c->csv, err, sizeof err) != CSV_OK) { /* header */
        c->eof = 1;
        return SQLITE_OK;
    }
    c->rowid = 0;
    return step(c);
}

static int xnext(sqlite3_vtab_cursor *cur) { return step((fcur *)cur); }
static int xeof(sqlite3_vtab_cursor *cur) { return ((fcur *)cur)->eof; }

static int xcolumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
    fcur *c = (fcur *)cur;
    const fval *v = &c->vals[i];
    switch (v->t) {
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, v->i); break;
    case SQLITE_FLOAT: sqlite3_result_double(ctx, v->d); break;
    case SQLITE_TEXT:
        sqlite3_result_text(ctx, v->s ? v->s : (const char *)c->text.p + v->off, (int)v->n,
                            SQLITE_TRANSIENT);
        break;
    default: break;
    }
    return SQLITE_OK;
}

static int xrowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *r)
{
    *r = ((fcur *)cur)->rowid;
    return SQLITE_OK;
}

static sqlite3_module file_module = {
    .iVersion = 1,
    .xCreate = xconnect,
    .xConnect = xconnect,
    .xBestIndex = xbestindex,
    .xDisconnect = xdisconnect,
    .xDestroy = xdisconnect,
    .xOpen = xopen,
    .xClose = xclose,
    .xFilter = xfilter,
    .xNext = xnext,
    .xEof = xeof,
    .xColumn = xcolumn,
    .xRowid = xrowid,
};

/* ---- the same rows without SQLite (sq_write's direct path) ------------------- */

struct sq__frows {
    fvtab t;
    fcur c;
};

sq__frows *sq__frows_open(const char *path, int ndjson, const char *types, char *err,
                          size_t errlen)
{
    sq__frows *r = ut_calloc(1, sizeof *r);
    r->t.ndjson = ndjson;
    if (snprintf(r->t.path, sizeof r->t.path, "%s", path) >= (int)sizeof r->t.path) {
        ut_err(err, errlen, "%.200s...: path too long", path);
        goto fail;
    }
    if (fv_init(&r->t, types, err, errlen)) goto fail;
    r->c.vals = ut_calloc((size_t)r->t.ncols, sizeof *r->c.vals);
    r->c.base.pVtab = &r->t.base;
    if (open_input(&r->t, &r->c, err, errlen)) goto fail;
    if (!ndjson && csv_next(r->c.csv, err, errlen) != CSV_OK) { /* the header, read before */
        ut_err(err, errlen, "%s: the header cannot be read again", path);
        goto fail;
    }
    return r;
fail:
    sq__frows_close(r);
    return NULL;
}

void sq__frows_close(sq__frows *r)
{
    if (!r) return;
    close_input(&r->c);
    ut_buf_free(&r->c.text);
    free(r->c.vals);
    for (int i = 0; i < r->t.ncols; i++) free(r->t.cols[i].name);
    free(r->t.cols);
    free(r);
}

int sq__frows_ncols(const sq__frows *r) { return r->t.ncols; }
const char *sq__frows_name(const sq__frows *r, int i) { return r->t.cols[i].name; }
int sq__frows_decl(const sq__frows *r, int i) { return r->t.cols[i].type; }

int sq__frows_next(sq__frows *r, char *err, size_t errlen)
{
    return next_record(&r->t, &r->c, 0, err, errlen);
}

int sq__frows_value(const sq__frows *r, int i, int64_t *iv, double *dv, const void **s,
                    size_t *n)
{
    const fval *v = &r->c.vals[i];
    *iv = v->i;
    *dv = v->d;
    *s = v->s ? (const void *)v->s : r->c.text.p ? r->c.text.p + v->off : (const uint8_t *)"";
    *n = v->n;
    return v->t;
}

int sq__files_register(sq_engine *e)
{
    if (sqlite3_create_module_v2(e->db, "sluice_csv", &file_module, e, NULL) != SQLITE_OK)
        return -1;
    return sqlite3_create_module_v2(e->db, "sluice_ndjson", &file_module, e, NULL) == SQLITE_OK
               ? 0
               : -1;
}
