/* CREATE TABLE t AS SELECT / INSERT INTO t SELECT on lake tables.
 *
 *   CREATE TABLE [IF NOT EXISTS] name [PARTITION BY col] AS select
 *   INSERT INTO name select                 (name: a lake table made by CTAS)
 *
 * SQLite cannot create lake tables, so these statements are recognised here,
 * before SQLite sees them.  The SELECT runs under the usual authorizer and
 * limits; its rows go to Parquet files (one per value of the partition column,
 * which is kept out of the files, Hive-style: <col>=<value>/ with the value
 * %XX-escaped, never truncated), and lk_land stores them and commits them in
 * ONE catalog transaction — which for CREATE also creates the table, so a
 * failed statement leaves nothing visible, not even an empty table.  Column types come from the SELECT's declared types, else
 * from the first non-NULL value (INTEGER -> int64, REAL -> double, TEXT/BLOB ->
 * string); an INTEGER in a double column is widened, any value in a string
 * column is written as its text.  Tables landed by a stream belong to their
 * sink: INSERT INTO them is refused. */
#include "sql/sq_int.h"
#include "catalog/catalog.h"
#include "lake/lake.h"
#include "log/log.h"
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTS 1000

#define MAX_PCOLS 2 /* dt, hr */

typedef struct ctas_part {
    char segment[2 * LK_SEGMENT_MAX + 2]; /* "<col>=<escaped value>[/<col2>=...]" ("" when
                                             unpartitioned) */
    pq_writer *w;
    char tmp[4400];
} ctas_part;

/* Skip spaces and -- / block comments. */
static const char *skip_ws(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n') p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* Match keyword kw (case-insensitive, whole word); advance *p. */
static int kw(const char **p, const char *k)
{
    const char *s = skip_ws(*p);
    size_t n = strlen(k);
    if (strncasecmp(s, k, n) || isalnum((unsigned char)s[n]) || s[n] == '_') return 0;
    *p = s + n;
    return 1;
}

/* An identifier (optionally "lake." first); 0 or -1. */
static int ident(const char **p, char *out, size_t n)
{
    const char *s = skip_ws(*p);
    if (!strncasecmp(s, "lake.", 5)) s += 5;
    size_t i = 0;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) return -1;
    while ((isalnum((unsigned char)s[i]) || s[i] == '_') && i + 1 < n) {
        out[i] = s[i];
        i++;
    }
    out[i] = 0;
    *p = s + i;
    return 0;
}

/* Where the rows come from: the SELECT's statement, or (sq_write's direct
 * path) the file a `SELECT * FROM read_csv|read_ndjson(path, 0, 'types')`
 * reads, without SQLite; its values that need a conversion (a number into
 * a string column ...) go through `conv` ("SELECT ?1"), so they convert
 * exactly as SQLite's would. */
typedef struct row_src {
    sqlite3_stmt *st;
    sq__frows *f;
    sqlite3_stmt *conv;
} row_src;

static ct_type type_of(const row_src *r, int c)
{
    if (r->f) {
        int d = sq__frows_decl(r->f, c);
        return d == SQLITE_INTEGER ? CT_INT64 : d == SQLITE_FLOAT ? CT_DOUBLE : CT_STRING;
    }
    sqlite3_stmt *st = r->st;
    const char *d = sqlite3_column_decltype(st, c);
    if (d) {
        if (strcasestr(d, "INT")) return CT_INT64;
        if (strcasestr(d, "REAL") || strcasestr(d, "FLOA") || strcasestr(d, "DOUB")) return CT_DOUBLE;
        return CT_STRING;
    }
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER: return CT_INT64;
    case SQLITE_FLOAT: return CT_DOUBLE;
    case SQLITE_NULL: return (ct_type)0;
    default: return CT_STRING;
    }
}

static pq_type pq_of(ct_type t)
{
    return t == CT_INT64 ? PQ_INT64 : t == CT_DOUBLE ? PQ_DOUBLE : t == CT_BOOL ? PQ_BOOL : PQ_STRING;
}


static int r_count(const row_src *r) { return r->f ? sq__frows_ncols(r->f) : sqlite3_column_count(r->st); }

static const char *r_name(const row_src *r, int c)
{
    return r->f ? sq__frows_name(r->f, c) : sqlite3_column_name(r->st, c);
}

/* File value c of the current row bound into r->conv and stepped: read it
 * with sqlite3_column_* of (r->conv, 0).  0 or -1. */
static int r_conv(const row_src *r, int c)
{
    int64_t iv;
    double dv;
    const void *s;
    size_t n;
    int t = sq__frows_value(r->f, c, &iv, &dv, &s, &n);
    sqlite3_reset(r->conv);
    if (t == SQLITE_INTEGER) sqlite3_bind_int64(r->conv, 1, iv);
    else if (t == SQLITE_FLOAT) sqlite3_bind_double(r->conv, 1, dv);
    else if (t == SQLITE_TEXT) sqlite3_bind_text(r->conv, 1, s, (int)n, SQLITE_STATIC);
    else sqlite3_bind_null(r->conv, 1);
    return sqlite3_step(r->conv) == SQLITE_ROW ? 0 : -1;
}

static int put(pq_writer *w, int col, ct_type t, sqlite3_stmt *st, int c, const char *name,
               char *err, size_t errlen)
{
    int vt = sqlite3_column_type(st, c), rc = 0;
    if (vt == SQLITE_NULL) return pq_writer_put_null(w, col);
    switch (t) {
    case CT_INT64:
        if (vt != SQLITE_INTEGER)
            return ut_err(err, errlen, "column '%s' is int64 but a row has a %s value (CAST it)",
                          name, vt == SQLITE_FLOAT ? "REAL" : "TEXT");
        rc = pq_writer_put_i64(w, col, sqlite3_column_int64(st, c));
        break;
    case CT_DOUBLE:
        if (vt != SQLITE_INTEGER && vt != SQLITE_FLOAT)
            return ut_err(err, errlen, "column '%s' is double but a row has a TEXT value (CAST it)", name);
        rc = pq_writer_put_double(w, col, sqlite3_column_double(st, c));
        break;
    case CT_BOOL:
        rc = pq_writer_put_bool(w, col, sqlite3_column_int64(st, c) != 0);
        break;
    default: {
        /* a TEXT value's bytes as they are (UTF-8): column_text would first
         * NUL-terminate it, a realloc per value; numbers are converted */
        const void *t2 = vt == SQLITE_TEXT || vt == SQLITE_BLOB ? sqlite3_column_blob(st, c)
                                                               : sqlite3_column_text(st, c);
        rc = pq_writer_put_bytes(w, col, t2 ? t2 : (const void *)"",
                                 (size_t)sqlite3_column_bytes(st, c));
    }
    }
    return rc ? ut_err(err, errlen, "%s", pq_writer_error(w)) : 0;
}

/* put() of file value c: the values that need no conversion straight,
 * the others as SQLite gives them (r_conv). */
static int put_row(pq_writer *w, int col, ct_type t, const row_src *r, int c, const char *name,
                   char *err, size_t errlen)
{
    if (!r->f) return put(w, col, t, r->st, c, name, err, errlen);
    int64_t iv;
    double dv;
    const void *s;
    size_t n;
    int vt = sq__frows_value(r->f, c, &iv, &dv, &s, &n), rc;
    if (vt == SQLITE_NULL) rc = pq_writer_put_null(w, col);
    else if (t == CT_INT64 && vt == SQLITE_INTEGER) rc = pq_writer_put_i64(w, col, iv);
    else if (t == CT_DOUBLE && (vt == SQLITE_INTEGER || vt == SQLITE_FLOAT))
        rc = pq_writer_put_double(w, col, vt == SQLITE_INTEGER ? (double)iv : dv);
    else if (t == CT_STRING && vt == SQLITE_TEXT) rc = pq_writer_put_bytes(w, col, s, n);
    else if (r_conv(r, c)) return ut_err(err, errlen, "column '%s': cannot convert a value", name);
    else return put(w, col, t, r->conv, 0, name, err, errlen);
    return rc ? ut_err(err, errlen, "%s", pq_writer_error(w)) : 0;
}

/* The text of value c (a partition value), as sqlite3_column_text gives
 * it; NULL for NULL. */
static const char *r_text(const row_src *r, int c, size_t *n)
{
    sqlite3_stmt *st = r->st;
    if (r->f) {
        if (r_conv(r, c)) return NULL;
        st = r->conv, c = 0;
    }
    const char *v = (const char *)sqlite3_column_text(st, c);
    *n = (size_t)sqlite3_column_bytes(st, c);
    return v;
}

typedef struct ctas {
    sq_engine *e;
    char table[128];
    char pcols[MAX_PCOLS][64]; /* partition columns, in path order */
    int npcols;
    const char *pdefault[MAX_PCOLS]; /* value when the SELECT lacks the column (sq_write) */
    int create, if_not_exists;
    const char *select;
    ct_table t;           /* the catalog table (INSERT / after CREATE) */
    int ncols;            /* file columns */
    ct_column *cols;
    int *src;             /* file column k <- select column src[k] */
    int pidx[MAX_PCOLS];  /* select column of each partition value, -1 none */
    const sq_write_spec *w; /* sq_write: what it replaces, the run; NULL for CTAS/INSERT */
    int evolved;          /* evolve changed x->t: the commit changes the schema too */
    ctas_part *parts;
    int nparts;
} ctas;

/* Is c one of the partition columns' select columns? */
static int is_pidx(const ctas *x, int c)
{
    for (int i = 0; i < x->npcols; i++)
        if (x->pidx[i] == c) return 1;
    return 0;
}

/* sq_write replacing partitions: a row must fall in one of them. */
static int row_in_window(const ctas *x, const char *segment, char *err, size_t errlen)
{
    if (!x->w || x->w->mode != SQ_WRITE_REPLACE_PARTITIONS) return 0;
    for (int i = 0; i < x->w->npartitions; i++) {
        size_t n = strlen(x->w->partitions[i]);
        if (!strncmp(segment, x->w->partitions[i], n) &&
            (segment[n] == 0 || segment[n] == '/' || x->w->partitions[i][n - 1] == '-'))
            return 0;
    }
    return ut_err(err, errlen, "a row of the SELECT belongs to partition %s, outside what the run "
                  "replaces (%s%s): filter the SELECT to its window",
                  segment[0] ? segment : "(none)", x->w->npartitions ? x->w->partitions[0] : "",
                  x->w->npartitions > 1 ? ", ..." : "");
}

/* The file of partition path `segment` (compared whole: never truncated). */
static ctas_part *part_for(ctas *x, const char *segment, char *err, size_t errlen)
{
    for (int i = 0; i < x->nparts; i++)
        if (!strcmp(x->parts[i].segment, segment)) return &x->parts[i];
    if (x->nparts >= MAX_PARTS)
        return ut_err(err, errlen, "more than %d partitions in one statement", MAX_PARTS), NULL;
    if (row_in_window(x, segment, err, errlen)) return NULL; /* checked once per partition */
    x->parts = ut_realloc(x->parts, (size_t)(x->nparts + 1) * sizeof *x->parts);
    ctas_part *p = &x->parts[x->nparts];
    memset(p, 0, sizeof *p);
    snprintf(p->segment, sizeof p->segment, "%s", segment);
    lk_tmp_path(x->e->tmp_dir, x->table, p->tmp, sizeof p->tmp);
    pq_column_spec *specs = ut_calloc((size_t)x->ncols + 1, sizeof *specs);
    for (int k = 0; k < x->ncols; k++)
        specs[k] = (pq_column_spec){x->cols[k].name, pq_of(x->cols[k].type), 1};
    p->w = pq_writer_create(p->tmp, specs, x->ncols, NULL, err, errlen);
    free(specs);
    if (!p->w) return NULL;
    x->nparts++;
    return p;
}

/* The partition path of the current row into out[cap]: each partition
 * column's value (NULL: Hive's default partition; a column the SELECT
 * lacks: its default) %XX-escaped.  0 or -1. */
static int row_segment(ctas *x, const row_src *r, char *out, size_t cap, char *err, size_t errlen)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < x->npcols; i++) {
        const char *pv = x->pdefault[i];
        size_t pn = pv ? strlen(pv) : 0;
        if (x->pidx[i] >= 0) {
            pv = r_text(r, x->pidx[i], &pn);
        }
        if (!pv) pv = "__HIVE_DEFAULT_PARTITION__", pn = strlen(pv);
        if (i) out[o++] = '/';
        if (lk_part_segment(x->pcols[i], pv, pn, out + o, cap - o, err, errlen)) return -1;
        o += strlen(out + o);
    }
    return 0;
}


/* CREATE: column names of the SELECT by the naming rule ("" -> _empty, a
 * name equal up to case to an earlier one or the partition column -> name_2,
 * ...).  A name that lands in an earlier column is an error. */
static int name_columns(ctas *x, const row_src *r, lk_names *names, char *err, size_t errlen)
{
    int n = r_count(r);
    for (int i = 0; i < x->npcols; i++) lk_names_take(names, x->pcols[i], strlen(x->pcols[i]), -1);
    lk_names_take(names, "_ingest_ts", 10, -1);
    for (int c = 0; c < n; c++) {
        if (is_pidx(x, c)) continue;
        const char *nm = r_name(r, c);
        if (!nm) nm = "";
        char name[LK_NAME_MAX + 1];
        size_t nn = strlen(nm);
        if (!strcmp(nm, "_ingest_ts")) { /* copied from a lake table: stays the ingest time */
            snprintf(name, sizeof name, "%s", nm);
        } else if (lk_names_resolve(names, nm, nn, name, &nn) >= 0 || !nn) {
            return ut_err(err, errlen, "column '%.100s' appears twice in the SELECT (alias it)", nm);
        } else {
            lk_names_take(names, name, nn, x->ncols);
        }
        for (int k = 0; k < x->ncols; k++)
            if (!strcmp(x->cols[k].name, name))
                return ut_err(err, errlen, "column '%.100s' appears twice in the SELECT (alias it)", nm);
        snprintf(x->cols[x->ncols].name, sizeof x->cols[0].name, "%s", name);
        ct_type t = type_of(r, c);
        x->cols[x->ncols].type = t ? t : CT_STRING;
        x->src[x->ncols++] = c;
    }
    return 0;
}

/* The reserved _ingest_ts, unless the table has a column of that name (one
 * CREATE TABLE AS copied): a key spelt like it in another case gets the
 * rule's _2 name, as in CREATE (readers leave out a column equal to it up
 * to case). */
static void reserve_ingest(const ctas *x, lk_names *names)
{
    for (int k = 0; k < x->t.ncols; k++)
        if (!strcmp(x->t.cols[k].name, "_ingest_ts")) return;
    lk_names_take(names, "_ingest_ts", 10, -1);
}

/* INSERT: the table's columns, found by name; missing ones are NULL. */
static int match_columns(ctas *x, const row_src *r, lk_names *names, char *err, size_t errlen)
{
    int n = r_count(r);
    for (int i = 0; i < x->npcols; i++) lk_names_take(names, x->pcols[i], strlen(x->pcols[i]), -1);
    reserve_ingest(x, names);
    for (int k = 0; k < x->t.ncols; k++) {
        x->cols[x->ncols] = x->t.cols[k];
        x->src[x->ncols] = -1;
        lk_names_take(names, x->t.cols[k].name, strlen(x->t.cols[k].name), x->ncols);
        x->ncols++;
    }
    for (int c = 0; c < n; c++) {
        if (is_pidx(x, c)) continue;
        const char *nm = r_name(r, c);
        if (!nm) nm = "";
        int k = lk_names_resolve(names, nm, strlen(nm), NULL, NULL);
        if (k < 0)
            return ut_err(err, errlen, "table %s has no column '%.100s'", x->table, nm);
        if (x->src[k] >= 0)
            return ut_err(err, errlen, "column '%.100s' of table %s is given twice", x->cols[k].name,
                          x->table);
        x->src[k] = c;
    }
    return 0;
}

/* sq_write into a table that exists: the SELECT's columns the table lacks
 * are added, and int64/double columns widened where the SELECT's are wider
 * (the stream tables' evolution rule); x->t becomes the table after.  The
 * catalog's schema changes in the transaction that commits the files
 * (land: ct_table_change.evolve, merged with whatever other writers did
 * meanwhile), so a failed write leaves it as it was.  0 or -1. */
static int evolve(ctas *x, const row_src *r, char *err, size_t errlen)
{
    int n = r_count(r), nw = 0, rc = 0;
    ct_column *want = ut_calloc((size_t)n + 1, sizeof *want);
    lk_names *names = lk_names_create(1);
    for (int i = 0; i < x->npcols; i++) lk_names_take(names, x->pcols[i], strlen(x->pcols[i]), -1);
    reserve_ingest(x, names);
    for (int k = 0; k < x->t.ncols; k++)
        lk_names_take(names, x->t.cols[k].name, strlen(x->t.cols[k].name), k);
    for (int c = 0; c < n; c++) {
        const char *nm = r_name(r, c);
        if (is_pidx(x, c) || !nm || !*nm || !strcmp(nm, "_ingest_ts")) continue;
        char name[LK_NAME_MAX + 1];
        size_t nn = strlen(nm);
        int k = lk_names_resolve(names, nm, nn, name, &nn);
        ct_type t = type_of(r, c);
        if (k >= x->t.ncols) { /* a column this SELECT adds, named again */
            rc = ut_err(err, errlen, "column '%.100s' appears twice in the SELECT (alias it)", nm);
            break;
        }
        if (k >= 0) { /* widen a number column only */
            ct_type have = x->t.cols[k].type;
            if (t && t != have && (have == CT_INT64 || have == CT_DOUBLE))
                want[nw] = x->t.cols[k], want[nw++].type = t;
        } else if (k == -1 && nn) {
            lk_names_take(names, name, nn, x->t.ncols + nw);
            snprintf(want[nw].name, sizeof want[nw].name, "%s", name);
            want[nw++].type = t ? t : CT_STRING;
        }
    }
    lk_names_destroy(names);
    if (rc == 0 && nw) { /* x->t as it will be; the catalog changes with the files (land) */
        x->t.cols = ut_realloc(x->t.cols, (size_t)(x->t.ncols + nw) * sizeof *x->t.cols);
        for (int i = 0; i < nw; i++) {
            int k = -1;
            for (int j = 0; j < x->t.ncols && k < 0; j++)
                if (!strcasecmp(x->t.cols[j].name, want[i].name)) k = j;
            if (k < 0) x->t.cols[x->t.ncols++] = want[i];
            else (void)ct_column_widen(&x->t.cols[k], &want[i], &x->t.cols[k]);
        }
        x->evolved = 1;
    }
    free(want);
    return rc;
}

/* Resolve the file columns against the SELECT (first row in st). */
static int plan_columns(ctas *x, const row_src *r, char *err, size_t errlen)
{
    int n = r_count(r);
    for (int i = 0; i < x->npcols; i++) {
        x->pidx[i] = -1;
        for (int c = 0; c < n; c++)
            if (!strcasecmp(r_name(r, c), x->pcols[i])) x->pidx[i] = c;
        if (x->pidx[i] < 0 && !x->pdefault[i])
            return ut_err(err, errlen, "%s %s: the SELECT has no such column",
                          x->create ? "PARTITION BY" : "partition column", x->pcols[i]);
    }
    if (!x->create && x->w && evolve(x, r, err, errlen)) return -1;
    size_t cap = (size_t)(n > x->t.ncols ? n : x->t.ncols) + 1; /* INSERT: the table's columns */
    x->cols = ut_calloc(cap, sizeof *x->cols);
    x->src = ut_calloc(cap, sizeof *x->src);
    /* the naming rule (lake/colname.c): CREATE names its columns as the sink
     * would; INSERT finds them the same way, ignoring case like SQL */
    lk_names *names = lk_names_create(!x->create);
    int rc = x->create ? name_columns(x, r, names, err, errlen) : match_columns(x, r, names, err, errlen);
    lk_names_destroy(names);
    return rc;
}

static void ctas_free(ctas *x)
{
    for (int i = 0; i < x->nparts; i++) {
        pq_writer_destroy(x->parts[i].w);
        unlink(x->parts[i].tmp);
    }
    free(x->parts);
    free(x->cols);
    free(x->src);
    ct_table_free(&x->t);
}

/* The next row of r: 1, 0 at the end, -1 with a message. */
static int r_next(ctas *x, row_src *r, int64_t n, char *err, size_t errlen)
{
    sq_engine *e = x->e;
    if (r->f) {
        if ((n & 4095) == 0 && e->deadline_ns && (int64_t)ut_now_ns() > e->deadline_ns) {
            e->timed_out = 1;
            return ut_err(err, errlen, "query timed out");
        }
        return sq__frows_next(r->f, err, errlen);
    }
    int rc = sqlite3_step(r->st);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    return ut_err(err, errlen, "%s", e->timed_out ? "query timed out" : sqlite3_errmsg(e->db));
}

/* The rows into the writers.  Returns rows or -1. */
static int64_t write_rows(ctas *x, row_src *r, char *err, size_t errlen)
{
    int planned = 0, per_row = 0, rc; /* per_row: a partition value comes from the SELECT */
    int64_t n = 0;
    ctas_part *p = NULL;
    while ((rc = r_next(x, r, n, err, errlen)) == 1) {
        if (!planned) {
            if (plan_columns(x, r, err, errlen)) return -1;
            for (int i = 0; i < x->npcols; i++) per_row |= x->pidx[i] >= 0;
            planned = 1;
        }
        char seg[2 * LK_SEGMENT_MAX + 2];
        if (per_row || !p) { /* else every row goes where the first went */
            p = NULL;
            if (row_segment(x, r, seg, sizeof seg, err, errlen) == 0)
                p = part_for(x, seg, err, errlen);
        }
        if (!p) return -1;
        for (int k = 0; k < x->ncols; k++) {
            int c = x->src[k];
            if (c < 0) pq_writer_put_null(p->w, k);
            else if (put_row(p->w, k, x->cols[k].type, r, c, x->cols[k].name, err, errlen))
                return -1;
        }
        if (pq_writer_end_row(p->w)) return ut_err(err, errlen, "%s", pq_writer_error(p->w));
        n++;
    }
    if (rc < 0) return -1;
    if (!planned) { /* no rows: the columns still come from the SELECT */
        if (r->st) sqlite3_reset(r->st);
        if (plan_columns(x, r, err, errlen)) return -1;
    }
    return n;
}

/* sq_write of `SELECT * FROM read_csv|read_ndjson('<path>', 0[, '<types>'])`
 * (the text exactly so, as kind collect lands its records): the file's
 * rows are read without SQLite, as that SELECT would give them (typed from
 * every record without the types).  1 (r->f
 * open), 0 another statement, -1 with a message. */
static int direct_file(ctas *x, row_src *r, char *err, size_t errlen)
{
    const char *p = x->select;
    int nd = 0;
    if (!x->w || x->e->o.no_files || !kw(&p, "SELECT")) return 0;
    p = skip_ws(p);
    if (*p++ != '*' || !kw(&p, "FROM")) return 0;
    if (kw(&p, "read_ndjson")) nd = 1;
    else if (!kw(&p, "read_csv")) return 0;
    p = skip_ws(p);
    if (*p++ != '(' || *(p = skip_ws(p)) != '\'') return 0;
    char path[4096], types[SQ_MAX_TYPES_ARG + 1];
    size_t n = 0;
    for (p++; *p && !(p[0] == '\'' && p[1] != '\''); p++) {
        if (n + 1 >= sizeof path) return 0;
        path[n++] = *p;
        if (*p == '\'') p++; /* '' */
    }
    path[n] = 0;
    if (*p++ != '\'' || *(p = skip_ws(p)) != ',' || *(p = skip_ws(p + 1)) != '0') return 0;
    int typed = *(p = skip_ws(p + 1)) == ',';
    if (typed) { /* , 'types' */
        if (*(p = skip_ws(p + 1)) != '\'') return 0;
        n = strcspn(++p, "'");
        if (n >= sizeof types || p[n] != '\'') return 0;
        memcpy(types, p, n);
        types[n] = 0;
        p = skip_ws(p + n + 1);
    }
    if (*p++ != ')' || *skip_ws(p)) return 0;
    r->f = sq__frows_open(path, nd, typed ? types : NULL, err, errlen); /* else every record */
    if (!r->f) return -1;
    if (sqlite3_prepare_v2(x->e->db, "SELECT ?1", -1, &r->conv, NULL) != SQLITE_OK)
        return ut_err(err, errlen, "%s", sqlite3_errmsg(x->e->db));
    return 1;
}

/* Run the SELECT into the writers. Returns rows or -1. */
static int64_t run_select(ctas *x, char *err, size_t errlen)
{
    sq_engine *e = x->e;
    row_src r = {0};
    char *text = NULL;
    int64_t n = -1;
    const char *tail = NULL;
    int direct = direct_file(x, &r, err, errlen);
    if (direct < 0) goto out;
    if (!direct && !(text = sq__rewrite(e, x->select, err, errlen))) goto out;
    e->in_user = 1;
    sq__limits_start(e);
    if (!direct) {
        int rc = sqlite3_prepare_v2(e->db, text, -1, &r.st, &tail);
        if (rc != SQLITE_OK || !r.st) {
            ut_err(err, errlen, "%s", rc != SQLITE_OK ? sqlite3_errmsg(e->db) : "no SELECT after AS");
            goto out;
        }
        if (*skip_ws(tail)) {
            ut_err(err, errlen, "only one SELECT may follow AS");
            goto out;
        }
        if (!sqlite3_stmt_readonly(r.st) || sqlite3_column_count(r.st) == 0) {
            ut_err(err, errlen, "AS must be followed by a SELECT");
            goto out;
        }
    }
    n = write_rows(x, &r, err, errlen);
out:
    e->in_user = 0;
    sqlite3_finalize(r.st);
    sqlite3_finalize(r.conv);
    sq__frows_close(r.f);
    free(text);
    return n;
}

/* Store every file and commit them in one transaction (creating the table
 * for CREATE TABLE AS, or for sq_write when it was missing: then a table
 * another run created meanwhile is written as it is if it is the same).
 * sq_write's replaced files are found in that transaction, so files another
 * writer committed to the same partitions meanwhile are replaced too.  On
 * failure *kind says why (UT_EEXISTS: the table exists, or differs). */
static int land(ctas *x, ut_errkind *kind, char *err, size_t errlen)
{
    sq_engine *e = x->e;
    lk_land_file *lf = ut_calloc((size_t)x->nparts + 1, sizeof *lf);
    char (*names)[LK_WRITER_NAME_MAX] = ut_calloc((size_t)x->nparts + 1, sizeof *names);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long stamp = (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    for (int i = 0; i < x->nparts; i++) {
        ctas_part *p = &x->parts[i];
        lk_writer_file_name(names[i], stamp, i); /* unique per writer: its pid and the time */
        lf[i] = (lk_land_file){.w = p->w, .tmp = p->tmp, .partition = p->segment,
                               .name = names[i], .min_offset = -1, .max_offset = -1,
                               .schema_version = x->create ? 1 : x->t.version};
    }
    char loc[1200], plist[160] = "";
    st_uri(e->o.store, x->table, loc, sizeof loc);
    for (int i = 0; i < x->npcols; i++)
        snprintf(plist + strlen(plist), sizeof plist - strlen(plist), "%s%s", i ? "," : "",
                 x->pcols[i]);
    ct_new_table nt = {.name = x->table, .location = loc, .partition = plist,
                       .cols = x->cols, .ncols = x->ncols, .exists_ok = x->w != NULL,
                       .change = x->w ? "created by a job" : "created by CREATE TABLE AS"};
    ct_table_change t = {.table_id = x->t.id, .create = x->create ? &nt : NULL,
                         .evolve = x->evolved ? x->cols : NULL, .nevolve = x->ncols};
    static const char *const whole[] = {""};
    if (x->w && x->w->mode == SQ_WRITE_REPLACE) t.replace = whole, t.nreplace = 1;
    if (x->w && x->w->mode == SQ_WRITE_REPLACE_PARTITIONS)
        t.replace = x->w->partitions, t.nreplace = x->w->npartitions;
    lk_landing l = {.cat = e->cat, .store = e->o.store, .tables = {x->table},
                    .change = {.tables = &t, .ntables = 1, .run = x->w ? x->w->run : NULL}};
    int rc = lk_land(&l, lf, x->nparts, err, errlen);
    if (rc) *kind = l.change.err_kind == UT_EEXISTS ? UT_EEXISTS : UT_EINVAL;
    free(lf);
    free(names);
    return rc;
}

/* Is there a lake table whose name differs from name only in ASCII case?
 * (SQL cannot tell them apart.)  1 with a message, 0 no, -1 error. */
static int case_twin(sq_engine *e, const char *name, char *err, size_t errlen)
{
    char **names = NULL;
    int n = ct_tables(e->cat, &names, err, errlen), found = 0;
    if (n < 0) return -1;
    for (int i = 0; i < n && !found; i++)
        if (!strcasecmp(names[i], name) && strcmp(names[i], name)) {
            ut_err(err, errlen, "table %s differs only in case from the lake table %s (table names "
                                "ignore case: use %s, or pick another name)",
                   name, names[i], names[i]);
            found = 1;
        }
    ct_names_free(names, n);
    return found;
}

/* A temp table of that name (any case)?  INSERT INTO it is SQLite's. */
static int temp_table(sq_engine *e, const char *name)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(e->db, "SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND "
                                  "name = ?1 COLLATE NOCASE", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/* The partition columns of a table ("dt,hr") into x->pcols.  0 or -1. */
static int pcols_of(ctas *x, const char *list, char *err, size_t errlen)
{
    x->npcols = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (x->npcols == MAX_PCOLS || n == 0 || n >= sizeof x->pcols[0])
            return ut_err(err, errlen, "table %s: partition columns '%s' (at most %d)", x->table,
                          list, MAX_PCOLS);
        memcpy(x->pcols[x->npcols], p, n);
        x->pcols[x->npcols++][n] = 0;
        p += n + (p[n] == ',');
    }
    return 0;
}

int sq__ctas(sq_engine *e, const char *sql, int64_t *rows, char *err, size_t errlen)
{
    ctas x;
    memset(&x, 0, sizeof x);
    x.e = e;
    const char *p = sql;
    if (kw(&p, "CREATE")) {
        if (kw(&p, "TEMP") || kw(&p, "TEMPORARY") || !kw(&p, "TABLE")) return 0;
        if (kw(&p, "IF")) {
            if (!kw(&p, "NOT") || !kw(&p, "EXISTS")) return 0;
            x.if_not_exists = 1;
        }
        if (ident(&p, x.table, sizeof x.table)) return 0;
        if (kw(&p, "PARTITION")) {
            if (!kw(&p, "BY") || ident(&p, x.pcols[0], sizeof x.pcols[0]))
                return ut_err(err, errlen, "expected PARTITION BY <column>");
            x.npcols = 1;
        }
        if (!kw(&p, "AS")) return 0; /* a plain CREATE TABLE: SQLite's (temp tables) */
        x.create = 1;
    } else if (kw(&p, "INSERT")) {
        if (!kw(&p, "INTO") || ident(&p, x.table, sizeof x.table)) return 0;
        int found = ct_table_get(e->cat, x.table, &x.t, err, errlen);
        if (found < 0) return -1;
        if (!found) {
            if (temp_table(e, x.table)) return 0; /* a temp table: SQLite's */
            int twin = case_twin(e, x.table, err, errlen);
            return twin ? -1 : 0;
        }
    } else {
        return 0;
    }
    x.select = p;
    int rc = -1;
    if (e->o.read_only) {
        ut_err(err, errlen, "not authorized: %s of lake tables on a read-only connection",
               x.create ? "CREATE TABLE AS" : "INSERT INTO");
        goto out;
    }
    if (!e->o.store) {
        ut_err(err, errlen, "no lake store to write %s to", x.table);
        goto out;
    }
    if (x.create) {
        int have = ct_table_get(e->cat, x.table, &x.t, err, errlen);
        if (have < 0) goto out;
        if (have) {
            if (x.if_not_exists) {
                *rows = 0;
                rc = 1;
                goto out;
            }
            ut_err(err, errlen, "table %s already exists (INSERT INTO it, or pick a new name)", x.table);
            e->err_kind = UT_EEXISTS;
            goto out;
        }
        if (case_twin(e, x.table, err, errlen)) goto out;
    } else if (x.t.stream[0]) {
        ut_err(err, errlen, "table %s is landed by stream %s: only its sink writes it", x.table,
               x.t.stream);
        goto out;
    } else if (pcols_of(&x, x.t.partition, err, errlen)) {
        goto out;
    }
    if (ut_mkdir_p(e->tmp_dir, err, errlen)) goto out;
    lk_tmp_gc(e->tmp_dir); /* temp files of a statement killed mid-write */
    char e2[300];
    if (lk_orphan_gc(e->cat, e->o.store, x.table, x.t.id, e2, sizeof e2) < 0) /* and its objects */
        lg_warn("sql", "%s", e2);
    int64_t n = run_select(&x, err, errlen);
    if (n < 0) goto out;
    if (land(&x, &e->err_kind, err, errlen)) goto out;
    *rows = n;
    rc = 1;
out:
    ctas_free(&x);
    return rc;
}

/* Defaults for the partition columns from w. */
static void set_defaults(ctas *x, const sq_write_spec *w)
{
    for (int i = 0; i < x->npcols; i++)
        for (int k = 0; k < w->ndefaults; k++)
            if (!strcasecmp(w->default_cols[k], x->pcols[i])) x->pdefault[i] = w->default_vals[k];
}

int64_t sq_write(sq_engine *e, const sq_write_spec *w, char *err, size_t errlen)
{
    ctas x;
    memset(&x, 0, sizeof x);
    x.e = e;
    x.w = w;
    x.select = w->select;
    int64_t rows = -1;
    e->err_kind = UT_EINVAL;
    snprintf(x.table, sizeof x.table, "%s", w->table);
    if (!e->o.store) return ut_err(err, errlen, "no lake store to write %s to", x.table);
    int have = ct_table_get(e->cat, x.table, &x.t, err, errlen);
    if (have < 0) goto out;
    x.create = !have;
    if (x.create ? case_twin(e, x.table, err, errlen) != 0 : 0) goto out;
    if (have && x.t.stream[0]) {
        ut_err(err, errlen, "table %s is landed by stream %s: only its sink writes it", x.table,
               x.t.stream);
        goto out;
    }
    if (pcols_of(&x, have ? x.t.partition : w->partition_by ? w->partition_by : "", err, errlen))
        goto out;
    set_defaults(&x, w);
    if (ut_mkdir_p(e->tmp_dir, err, errlen)) goto out;
    lk_tmp_gc(e->tmp_dir);
    char e2[300];
    if (have && lk_orphan_gc(e->cat, e->o.store, x.table, x.t.id, e2, sizeof e2) < 0)
        lg_warn("sql", "%s", e2);
    e->timed_out = 0;
    int64_t n = run_select(&x, err, errlen);
    if (n < 0) {
        if (e->timed_out) e->err_kind = UT_ETIMEOUT;
        goto out;
    }
    if (w->run) w->run->rows += n;
    if (land(&x, &e->err_kind, err, errlen)) goto out;
    rows = n;
out:
    ctas_free(&x);
    return rows;
}
