/* snap: SQLite database files as a snapshot source (sqlite.<name>).
 *
 *   open     SQLITE_OPEN_READONLY (never created, never written), a busy
 *            timeout (a rollback-journal writer holds the file a moment),
 *            extensions off, trusted_schema off
 *   list     sqlite_schema's tables and views but sqlite_*; "main.table"
 *   begin    BEGIN, then the first read starts ONE read transaction that
 *            every statement of the scan sees (WAL: the snapshot of that
 *            moment; rollback journal: a shared lock).  The columns are
 *            pragma_table_xinfo's; the class of each comes from its declared
 *            type by SQLite's affinity rules, checked against the values
 *            themselves (below)
 *   rows     SELECT "c", ... FROM "main"."t" WHERE (...), stepped one row
 *            at a time; a progress handler stops a long step when the job
 *            is stopped or its deadline passes
 *   end      COMMIT (the read transaction ends)
 *
 * Classes.  SQLite stores any value in any column (but STRICT tables), so
 * the declared type is a hint: one aggregate over the rows the scan reads
 * (in its transaction, so the very rows) tells which storage classes each
 * column holds, and the class is the declared type's where every value
 * fits it, else string.  INTEGER affinity -> int64 (double when reals are
 * there too), REAL -> double, NUMERIC -> int64 / double as the values are,
 * a declared BOOL... -> bool when every value is 0 or 1, TEXT -> string,
 * BLOB or no type -> binary when every value is a blob (int64 / double when
 * all are numbers), DATE / DATETIME / TIMESTAMP -> string (SQLite has no
 * date type: ISO text, Julian day numbers and Unix times are all found in
 * such columns).  Reals are printed in their shortest exact form (SQLite's
 * own text has 15 digits); a blob in a string column is "\x" + hex. */
#include "snap/sn_int.h"

#include <sqlite3.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SL_BUSY_MS 5000         /* a writer's lock is waited for this long */
#define SL_PROGRESS_OPS 10000   /* VM steps between looks at the cancel flag */

/* What the values of a column are, from the pre-scan (bits). */
enum { SL_I01 = 1, SL_INT = 2, SL_REAL = 4, SL_TEXT = 8, SL_BLOB = 16 };
/* Affinity (SQLite's rules, section 3.1 of its datatype page), plus BOOL. */
enum { AF_INTEGER, AF_TEXT, AF_BLOB, AF_REAL, AF_NUMERIC, AF_BOOL, AF_DATE };

typedef struct sl_src {
    sqlite3 *db;
} sl_src;

typedef struct sl_scan {
    sqlite3_stmt *st;
    uint8_t *aff;         /* per source column: AF_* */
    int *sel, nsel;
    int in_txn, done;
    char (*num)[32];      /* per selected column: a real as text */
    ut_buf *hex;          /* per selected column: a blob as "\x..." */
    const atomic_int *cancel;
    int64_t deadline_ms;
    int fired;            /* the progress handler stopped a step: 1 stop, 2 the deadline */
    int ticks;
} sl_scan;

static sqlite3 *db_of(sn_source *s) { return ((sl_src *)s->impl)->db; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int db_err(sn_source *s, const char *what, char *err, size_t errlen)
{
    return ut_err(err, errlen, "sqlite \"%s\": %s: %s", s->name, what, sqlite3_errmsg(db_of(s)));
}

static int exec(sn_source *s, const char *q, char *err, size_t errlen)
{
    if (sqlite3_exec(db_of(s), q, NULL, NULL, NULL) == SQLITE_OK) return 0;
    return db_err(s, q, err, errlen);
}

/* ---- open ------------------------------------------------------------------------- */

sn_source *sn_open_sqlite(const cf_sqlite *c, char *err, size_t errlen)
{
    sl_src *m = ut_calloc(1, sizeof *m);
    sn_source *s = ut_calloc(1, sizeof *s);
    s->ops = &sn__sqlite_ops;
    snprintf(s->name, sizeof s->name, "%s", c->name);
    s->impl = m;
    const char *path = c->path ? c->path : "";
    int rc = sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ut_err(err, errlen, "sqlite \"%s\": cannot open %s: %s", c->name, path,
               m->db ? sqlite3_errmsg(m->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(m->db, SL_BUSY_MS);
    (void)sqlite3_db_config(m->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    (void)sqlite3_db_config(m->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    /* a file that is not a database fails here, not at the first table */
    if (exec(s, "SELECT count(*) FROM sqlite_schema", err, errlen)) goto fail;
    return s;
fail:
    sqlite3_close(m->db);
    free(m);
    free(s);
    return NULL;
}

/* ---- list -------------------------------------------------------------------------- */

static int sl_list(sn_source *s, char ***out, char *err, size_t errlen)
{
    char q[300];
    snprintf(q, sizeof q,
             "SELECT 'main.' || name FROM sqlite_schema WHERE type IN ('table', 'view') AND "
             "name NOT LIKE 'sqlite\\_%%' ESCAPE '\\' ORDER BY 1 LIMIT %d", SN_MAX_TABLES);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s), q, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, "the list of tables", err, errlen);
    char **v = ut_calloc(SN_MAX_TABLES + 1, sizeof *v);
    int k = 0, rc;
    while (k < SN_MAX_TABLES && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name) v[k++] = ut_strdup(name);
    }
    rc = k < SN_MAX_TABLES ? rc : SQLITE_DONE;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sn_names_free(v, k);
        return db_err(s, "the list of tables", err, errlen);
    }
    *out = v;
    return k;
}

/* ---- begin: the transaction, the columns and their classes ------------------------- */

static int has(const char *type, const char *word) { return strcasestr(type, word) != NULL; }

/* SQLite's affinity of a declared type, with BOOL and the date words apart. */
static int affinity(const char *t)
{
    if (has(t, "INT")) return AF_INTEGER;
    if (has(t, "CHAR") || has(t, "CLOB") || has(t, "TEXT")) return AF_TEXT;
    if (has(t, "BLOB") || !t[0]) return AF_BLOB;
    if (has(t, "REAL") || has(t, "FLOA") || has(t, "DOUB")) return AF_REAL;
    if (has(t, "BOOL")) return AF_BOOL;
    if (has(t, "DATE") || has(t, "TIME")) return AF_DATE;
    return AF_NUMERIC;
}

/* The class of a column of affinity af whose values are of the kinds m. */
static sn_class class_of(int af, int m, int declared_blob)
{
    int ints = (m & ~(SL_I01 | SL_INT)) == 0, nums = (m & ~(SL_I01 | SL_INT | SL_REAL)) == 0;
    switch (af) {
    case AF_TEXT:
    case AF_DATE: return SN_STRING;
    case AF_BOOL:
        if ((m & ~SL_I01) == 0) return SN_BOOL;
        return ints ? SN_INT64 : nums ? SN_DOUBLE : SN_STRING;
    case AF_REAL: return nums ? SN_DOUBLE : SN_STRING;
    case AF_BLOB:
        if (m == 0) return declared_blob ? SN_BINARY : SN_STRING;
        if (m == SL_BLOB) return SN_BINARY;
        return ints ? SN_INT64 : nums ? SN_DOUBLE : SN_STRING;
    default: return ints ? SN_INT64 : nums ? SN_DOUBLE : SN_STRING; /* INTEGER, NUMERIC */
    }
}

/* " FROM "main"."t" [WHERE (...)]" of the scan. */
static void from_where(const sn_scan *sc, ut_buf *q)
{
    ut_buf_puts(q, " FROM \"main\".");
    sn__quote_ident(q, strchr(sc->table, '.') + 1);
    if (sc->where[0]) ut_buf_printf(q, " WHERE (%s)", sc->where);
}

/* Which storage classes each column holds among the rows read: one
 * aggregate, sum(DISTINCT bit) being the OR of the bits. */
static int value_kinds(sn_scan *sc, int *kinds, char *err, size_t errlen)
{
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT ");
    for (int i = 0; i < sc->ncols; i++) {
        ut_buf c = {0};
        sn__quote_ident(&c, sc->cols[i].name);
        const char *n = ut_buf_cstr(&c);
        ut_buf_printf(&q, "%ssum(DISTINCT CASE typeof(%s) WHEN 'integer' THEN CASE WHEN %s IN "
                      "(0, 1) THEN 1 ELSE 2 END WHEN 'real' THEN 4 WHEN 'text' THEN 8 WHEN "
                      "'blob' THEN 16 ELSE 0 END)", i ? ", " : "", n, n);
        ut_buf_free(&c);
    }
    from_where(sc, &q);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db_of(sc->src), ut_buf_cstr(&q), -1, &st, NULL);
    ut_buf_free(&q);
    if (rc != SQLITE_OK)
        return ut_err(err, errlen, "sqlite \"%s\": table %s: %s", sc->src->name, sc->table,
                      sqlite3_errmsg(db_of(sc->src)));
    rc = sqlite3_step(st);
    for (int i = 0; rc == SQLITE_ROW && i < sc->ncols; i++)
        kinds[i] = sqlite3_column_int(st, i);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return ut_err(err, errlen, "sqlite \"%s\": table %s: %s", sc->src->name, sc->table,
                      sqlite3_errmsg(db_of(sc->src)));
    return 0;
}

/* The columns of main.<name> (generated ones too, not a virtual table's
 * hidden ones).  0, or -1 when there are none: no such table. */
static int read_columns(sn_scan *sc, const char *name, char *err, size_t errlen)
{
    sl_scan *m = sc->impl;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(sc->src), "SELECT cid, name, type, \"notnull\", pk FROM "
                           "pragma_table_xinfo(?1, 'main') WHERE hidden <> 1 ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(sc->src, "the columns", err, errlen);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sc->ncols == SN_MAX_COLUMNS) {
            sqlite3_finalize(st);
            return ut_err(err, errlen, "sqlite \"%s\": table %s has over %d columns",
                          sc->src->name, sc->table, SN_MAX_COLUMNS);
        }
        if (sc->ncols == cap) {
            cap = cap ? cap * 2 : 16;
            sc->cols = ut_realloc(sc->cols, (size_t)cap * sizeof *sc->cols);
            m->aff = ut_realloc(m->aff, (size_t)cap);
        }
        sn_column *c = &sc->cols[sc->ncols];
        memset(c, 0, sizeof *c);
        const char *cn = (const char *)sqlite3_column_text(st, 1);
        const char *ct = (const char *)sqlite3_column_text(st, 2);
        snprintf(c->name, sizeof c->name, "%s", cn ? cn : "");
        snprintf(c->type, sizeof c->type, "%s", ct ? ct : "");
        c->not_null = sqlite3_column_int(st, 3) != 0;
        c->position = sqlite3_column_int(st, 0) + 1;
        c->pk = sqlite3_column_int(st, 4);
        m->aff[sc->ncols++] = (uint8_t)affinity(c->type);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_err(sc->src, "the columns", err, errlen);
    if (!sc->ncols)
        return ut_err(err, errlen, "sqlite \"%s\": table %s does not exist", sc->src->name,
                      sc->table);
    return 0;
}

static int sl_begin(sn_scan *sc, const char *table, char *err, size_t errlen)
{
    char schema[128], name[256];
    sl_scan *m = ut_calloc(1, sizeof *m);
    sc->impl = m;
    if (sn__split_name(table, schema, sizeof schema, name, sizeof name) || strcmp(schema, "main"))
        return ut_err(err, errlen, "sqlite \"%s\": table '%s' is not main.<table>", sc->src->name,
                      table);
    if (exec(sc->src, "BEGIN", err, errlen)) return -1;
    m->in_txn = 1;
    if (read_columns(sc, name, err, errlen)) return -1;
    int *kinds = ut_calloc((size_t)sc->ncols, sizeof *kinds);
    int rc = value_kinds(sc, kinds, err, errlen);
    for (int i = 0; rc == 0 && i < sc->ncols; i++)
        sc->cols[i].cls = class_of(m->aff[i], kinds[i], has(sc->cols[i].type, "BLOB"));
    free(kinds);
    return rc;
}

/* ---- max, for incremental cursors ------------------------------------------------ */

/* A real in its shortest exact text; others as SQLite prints them. */
static const char *value_text(sqlite3_stmt *st, int i, char num[32], size_t *n)
{
    if (sqlite3_column_type(st, i) == SQLITE_FLOAT) {
        *n = (size_t)ut_fmt_double(num, sqlite3_column_double(st, i));
        return num;
    }
    const char *v = (const char *)sqlite3_column_text(st, i);
    *n = (size_t)sqlite3_column_bytes(st, i);
    return v;
}

static int sl_max(sn_scan *sc, const char *column, char *out, size_t cap, char *err,
                  size_t errlen)
{
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT max(");
    sn__quote_ident(&q, column);
    ut_buf_putc(&q, ')');
    from_where(sc, &q);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db_of(sc->src), ut_buf_cstr(&q), -1, &st, NULL);
    ut_buf_free(&q);
    if (rc != SQLITE_OK) return db_err(sc->src, "max of the cursor", err, errlen);
    rc = sqlite3_step(st);
    char num[32];
    size_t n = 0;
    const char *v = rc == SQLITE_ROW ? value_text(st, 0, num, &n) : NULL;
    if (rc != SQLITE_ROW) rc = db_err(sc->src, "max of the cursor", err, errlen);
    else if (!v) rc = 0;
    else if (n >= cap)
        rc = ut_err(err, errlen, "cursor %s: its largest value is over %zu bytes", column, cap - 1);
    else
        memcpy(out, v, n), out[n] = 0, rc = 1;
    sqlite3_finalize(st);
    return rc;
}

/* ---- rows -------------------------------------------------------------------------- */

/* Every SL_PROGRESS_OPS steps of SQLite's VM: stop the statement when the
 * job is stopped or its deadline has passed (a `where` that filters most
 * rows out steps long between rows). */
static int progress(void *arg)
{
    sl_scan *m = arg;
    if (m->cancel && atomic_load(m->cancel)) return m->fired = 1;
    if (m->deadline_ms && ++m->ticks % 16 == 0 && now_ms() > m->deadline_ms) return m->fired = 2;
    return 0;
}

static int sl_start(sn_scan *sc, const int *sel, int nsel, char *err, size_t errlen)
{
    sl_scan *m = sc->impl;
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT ");
    for (int i = 0; i < nsel; i++) {
        if (i) ut_buf_puts(&q, ", ");
        sn__quote_ident(&q, sc->cols[sel[i]].name);
    }
    from_where(sc, &q);
    int rc = sqlite3_prepare_v2(db_of(sc->src), ut_buf_cstr(&q), -1, &m->st, NULL);
    ut_buf_free(&q);
    if (rc != SQLITE_OK)
        return ut_err(err, errlen, "sqlite \"%s\": table %s: %s", sc->src->name, sc->table,
                      sqlite3_errmsg(db_of(sc->src)));
    m->nsel = nsel;
    m->sel = ut_calloc((size_t)nsel, sizeof *m->sel);
    memcpy(m->sel, sel, (size_t)nsel * sizeof *sel);
    m->num = ut_calloc((size_t)nsel, sizeof *m->num);
    m->hex = ut_calloc((size_t)nsel, sizeof *m->hex);
    sqlite3_progress_handler(db_of(sc->src), SL_PROGRESS_OPS, progress, m);
    return 0;
}

/* Field i of the current row into its text (valid until the next step). */
static void field(sn_scan *sc, int i, const char **v, size_t *n)
{
    sl_scan *m = sc->impl;
    sqlite3_stmt *st = m->st;
    int t = sqlite3_column_type(st, i);
    sn_class cls = sc->cols[m->sel[i]].cls;
    if (t == SQLITE_NULL) {
        *v = NULL, *n = 0;
    } else if (t == SQLITE_BLOB && cls != SN_BINARY) { /* a blob among text: hex */
        static const char digits[] = "0123456789abcdef";
        const uint8_t *p = sqlite3_column_blob(st, i);
        size_t len = (size_t)sqlite3_column_bytes(st, i);
        ut_buf *h = &m->hex[i];
        ut_buf_reset(h);
        ut_buf_puts(h, "\\x");
        for (size_t k = 0; k < len; k++)
            ut_buf_putc(h, (uint8_t)digits[p[k] >> 4]), ut_buf_putc(h, (uint8_t)digits[p[k] & 15]);
        *v = ut_buf_cstr(h), *n = h->len;
    } else if (t == SQLITE_BLOB) {
        *n = (size_t)sqlite3_column_bytes(st, i);
        *v = *n ? sqlite3_column_blob(st, i) : "";
    } else {
        *v = value_text(st, i, m->num[i], n);
        if (!*v) *v = "", *n = 0; /* out of memory turning it into text: SQLite said NULL */
    }
}

static int sl_next(sn_scan *sc, const char **v, size_t *n, const atomic_int *cancel,
                   int64_t deadline_ms, char *err, size_t errlen)
{
    sl_scan *m = sc->impl;
    if (m->done || !m->st) return 0;
    m->cancel = cancel, m->deadline_ms = deadline_ms;
    int rc = sqlite3_step(m->st);
    if (rc == SQLITE_DONE) return m->done = 1, 0;
    if (rc != SQLITE_ROW) {
        if (m->fired)
            return ut_err(err, errlen, "sqlite \"%s\": table %s: %s", sc->src->name, sc->table,
                          m->fired == 1 ? "stopped" : "the job's timeout passed");
        return ut_err(err, errlen, "sqlite \"%s\": table %s: %s", sc->src->name, sc->table,
                      sqlite3_errmsg(db_of(sc->src)));
    }
    assert(sqlite3_column_count(m->st) == m->nsel);
    for (int i = 0; i < m->nsel; i++) field(sc, i, &v[i], &n[i]);
    return 1;
}

static void sl_end(sn_scan *sc)
{
    sl_scan *m = sc->impl;
    if (!m) return;
    sqlite3 *db = db_of(sc->src);
    sqlite3_progress_handler(db, 0, NULL, NULL);
    sqlite3_finalize(m->st);
    if (m->in_txn) (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    for (int i = 0; m->hex && i < m->nsel; i++) ut_buf_free(&m->hex[i]);
    free(m->hex);
    free(m->num);
    free(m->sel);
    free(m->aff);
    free(m);
    sc->impl = NULL;
}

static void sl_close(sn_source *s)
{
    sl_src *m = s->impl;
    sqlite3_close(m->db);
    free(m);
}

const sn_ops sn__sqlite_ops = {.name = "sqlite", .list = sl_list, .begin = sl_begin, .max = sl_max,
                            .start = sl_start, .next = sl_next, .end = sl_end,
                            .close = sl_close}; /* no shared snapshots: no parallel reads */
