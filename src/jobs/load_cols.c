/* jobs: kind load, columns — the SELECT's columns matched to the target's
 * ignoring ASCII case (the target keeps its spelling; new columns take the
 * lake's), the DDL that creates or extends the target, and each row as a
 * COPY text line (MySQL: a LOAD DATA text line, or an INSERT's tuple). */
#include "jobs/jb_load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The lake type of SELECT column `name`: the source column of that name,
 * the dt partition (a date), another partition column (text), else what
 * SQLite declares (INTEGER, REAL) or text. */
static ct_column lake_type(const jb_load *L, const char *name, const char *decl, int *typed)
{
    ct_column c = {.type = CT_STRING};
    *typed = 1;
    for (int i = 0; i < L->src.ncols; i++)
        if (!strcasecmp(L->src.cols[i].name, name)) return L->src.cols[i];
    if (!strcasecmp(name, "dt") && strstr(L->src.partition, "dt")) c.type = CT_DATE;
    else if (decl && !strcasecmp(decl, "INTEGER")) c.type = CT_INT64;
    else if (decl && !strcasecmp(decl, "REAL")) c.type = CT_DOUBLE;
    else *typed = decl != NULL;
    return c;
}

void jb__load_refine(jb_load *L, sqlite3_stmt *st)
{
    for (int i = 0; i < L->ncols; i++) {
        if (L->typed[i]) continue;
        int t = sqlite3_column_type(st, i);
        L->cols[i].lake.type = t == SQLITE_INTEGER ? CT_INT64 : t == SQLITE_FLOAT ? CT_DOUBLE
                               : t == SQLITE_BLOB  ? CT_BYTES
                                                   : CT_STRING;
    }
}

/* The target column matching name: exact, else ignoring case; NULL. */
static const jb_tcol *target_col(const jb_load *L, const char *name)
{
    for (int i = 0; i < L->ntcols; i++)
        if (!strcmp(L->tcols[i].name, name)) return &L->tcols[i];
    for (int i = 0; i < L->ntcols; i++)
        if (!strcasecmp(L->tcols[i].name, name)) return &L->tcols[i];
    return NULL;
}

/* The loaded column whose lake name is `lake` (ignoring case): its target
 * name, or NULL. */
static const char *loaded(const jb_load *L, sqlite3_stmt *st, const char *lake)
{
    for (int i = 0; i < L->ncols; i++)
        if (!strcasecmp(sqlite3_column_name(st, i), lake)) return L->names[i];
    return NULL;
}

static int name_column(jb_load *L, sqlite3_stmt *st, int i)
{
    const char *name = sqlite3_column_name(st, i);
    if (!name || !name[0] || strlen(name) > WH_IDENT_MAX)
        return jb__load_fail(L, UT_EINVAL, "column %d of the lake rows ('%.80s'): a target column "
                             "name is 1 to %d bytes", i + 1, name ? name : "", WH_IDENT_MAX);
    const jb_tcol *t = target_col(L, name);
    snprintf(L->names[i], sizeof L->names[i], "%s", t ? t->name : name);
    L->cls[i] = (unsigned char)(t ? wh_class_of(t->type) : WH_ANY);
    for (int k = 0; k < i; k++)
        if (!strcasecmp(L->names[k], L->names[i]))
            return jb__load_fail(L, UT_EINVAL, "lake columns %s and %s both go to target column "
                                 "%s (names match ignoring case)", sqlite3_column_name(st, k),
                                 name, L->names[i]);
    L->cols[i].name = L->names[i];
    int typed;
    L->cols[i].lake = lake_type(L, name, sqlite3_column_decltype(st, i), &typed);
    L->typed[i] = (unsigned char)typed;
    return 0;
}

static int key_columns(jb_load *L, sqlite3_stmt *st)
{
    const cf_job *j = L->j;
    const char **key = ut_calloc((size_t)j->key.n + 1, sizeof *key);
    L->plan.key = key;
    for (int i = 0; i < j->key.n; i++) {
        const char *t = loaded(L, st, j->key.v[i]);
        if (!t) return jb__load_fail(L, UT_EINVAL, "key column %s is not among the lake rows' "
                                     "columns", j->key.v[i]);
        key[i] = t;
    }
    L->plan.nkey = j->key.n;
    return 0;
}

/* Redshift's DISTKEY / SORTKEY columns, by their target names. */
static int redshift_keys(jb_load *L, sqlite3_stmt *st)
{
    const cf_load_target *t = &L->j->target;
    L->plan.diststyle = (wh_diststyle)t->diststyle;
    if (t->distkey[0] && !(L->plan.distkey = loaded(L, st, t->distkey)))
        return jb__load_fail(L, UT_EINVAL, "target.distkey %s is not among the lake rows' "
                             "columns", t->distkey);
    const char **sk = ut_calloc((size_t)t->sortkey.n + 1, sizeof *sk);
    L->plan.sortkey = sk;
    for (int i = 0; i < t->sortkey.n; i++)
        if (!(sk[i] = loaded(L, st, t->sortkey.v[i])))
            return jb__load_fail(L, UT_EINVAL, "target.sortkey %s is not among the lake rows' "
                                 "columns", t->sortkey.v[i]);
    L->plan.nsortkey = t->sortkey.n;
    return 0;
}

static wh_mode plan_mode(int m)
{
    return m == CF_MODE_UPSERT ? WH_UPSERT : m == CF_MODE_REPLACE_TABLE ? WH_REPLACE_TABLE
           : m == CF_MODE_REPLACE_WINDOW                                  ? WH_REPLACE_WINDOW
                                                                          : WH_APPEND;
}

int jb__load_columns(jb_load *L, sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st);
    if (n < 1 || n > WH_MAX_COLUMNS)
        return jb__load_fail(L, UT_EINVAL, "the lake rows have %d columns (1 to %d)", n,
                             WH_MAX_COLUMNS);
    L->cols = ut_calloc((size_t)n, sizeof *L->cols);
    L->names = ut_calloc((size_t)n, sizeof *L->names);
    L->typed = ut_calloc((size_t)n, 1);
    L->cls = ut_calloc((size_t)n, 1);
    L->ncols = n;
    for (int i = 0; i < n; i++)
        if (name_column(L, st, i)) return -1;
    const cf_job *j = L->j;
    L->plan = (wh_plan){.dialect = L->my ? WH_MYSQL : (wh_dialect)j->target.dialect,
                        .mode = plan_mode(j->mode),
                        .table = j->target.table, .cols = L->cols, .ncols = n,
                        .lo = L->lo, .hi = L->hi};
    if (j->mode == CF_MODE_REPLACE_WINDOW) {
        const char *w = loaded(L, st, L->wname);
        if (!w) return jb__load_fail(L, UT_EINVAL, "the lake rows lack window_column %s",
                                     L->wname);
        snprintf(L->wtarget, sizeof L->wtarget, "%s", w);
        L->plan.window_column = L->wtarget;
    }
    if (j->target.dialect == CF_DIALECT_REDSHIFT && redshift_keys(L, st)) return -1;
    return j->mode == CF_MODE_UPSERT ? key_columns(L, st) : 0;
}

void jb__load_ddl(const jb_load *L, ut_buf *b)
{
    if (!L->ntcols) {
        wh_sql_create(b, &L->plan);
        return;
    }
    for (int i = 0; i < L->ncols; i++) {
        if (target_col(L, L->names[i])) continue;
        if (b->len) ut_buf_puts(b, "; ");
        wh_sql_add_column(b, &L->plan, &L->cols[i]);
    }
}

static void put_real(ut_buf *b, double d)
{
    char t[32];
    if (isnan(d)) ut_buf_puts(b, "NaN");
    else if (isinf(d)) ut_buf_puts(b, d > 0 ? "Infinity" : "-Infinity");
    else ut_buf_put(b, t, (size_t)ut_fmt_double(t, d)); /* shortest round-trip text */
}

static void put_int(ut_buf *b, long long v)
{
    char t[24], *p = t + sizeof t;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) *--p = '-';
    ut_buf_put(b, p, (size_t)(t + sizeof t - p));
}

/* Bytes as hex digits (a LOAD DATA bytes column's field, UNHEXed). */
static void hex_digits(ut_buf *b, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        ut_buf_putc(b, (uint8_t)hex[v[i] >> 4]);
        ut_buf_putc(b, (uint8_t)hex[v[i] & 15]);
    }
}

/* A MySQL text value: LOAD DATA text, or a literal. */
static void my_text(const jb_load *L, ut_buf *b, const char *v, size_t n)
{
    if (L->my_infile) wh_my_tsv(b, v, n);
    else wh_my_literal(b, v, n);
}

/* A lake timestamp's text for MySQL's DATETIME: 'T' -> ' ', no 'Z' (the
 * session's time_zone is UTC). */
static void my_time(const jb_load *L, ut_buf *b, const char *v, size_t n)
{
    char t[64];
    if (n >= sizeof t || n < 11) {
        my_text(L, b, v, n);
        return;
    }
    memcpy(t, v, n);
    if (t[10] == 'T') t[10] = ' ';
    if (t[n - 1] == 'Z') n--;
    my_text(L, b, t, n);
}

/* A text value appended: a COPY field, or a MySQL value. */
static void put_text(jb_load *L, int i, const char *v, size_t n)
{
    int ty = L->cols[i].lake.type;
    if (L->plan.dialect != WH_MYSQL) wh_copy_text(&L->out, v, n);
    else if (ty == CT_TIMESTAMP || ty == CT_TIMESTAMP_NTZ || L->cls[i] == WH_TIMESTAMP)
        my_time(L, &L->out, v, n);
    else my_text(L, &L->out, v, n);
}

/* Binary data for MySQL: an X'..' literal; LOAD DATA text for a bytes
 * column (hex, the LOAD's UNHEX: see jb__my_hex_column) or escaped bytes. */
static void my_blob(jb_load *L, int i, const uint8_t *v, size_t n)
{
    if (!L->my_infile) wh_my_hex(&L->out, v, n);
    else if (jb__my_hex_column(L, i)) hex_digits(&L->out, v, n);
    else wh_my_tsv(&L->out, (const char *)v, n);
}

/* Value i of st, which its target column takes, appended.  0, or 1 with
 * why (refused). */
static int put_value(jb_load *L, sqlite3_stmt *st, int i, char *why, size_t wn)
{
    ut_buf *b = &L->out;
    wh_class cls = (wh_class)L->cls[i];
    int my = L->plan.dialect == WH_MYSQL;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: ut_buf_puts(b, L->my_infile ? "\\N" : my ? "NULL" : WH_COPY_NULL); return 0;
    case SQLITE_INTEGER: {
        long long v = sqlite3_column_int64(st, i);
        if (cls == WH_DATE || cls == WH_TIMESTAMP)
            return snprintf(why, wn, "%lld is not a date or timestamp", v), 1;
        if (L->cols[i].lake.type == CT_BOOL && !my) ut_buf_putc(b, v ? 't' : 'f');
        else put_int(b, v);
        return 0;
    }
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, i);
        if ((cls == WH_INTEGER && (d != (double)(long long)d)) || cls == WH_BOOLEAN ||
            cls == WH_DATE || cls == WH_TIMESTAMP)
            return snprintf(why, wn, "%.17g does not fit the column's type", d), 1;
        if (my && !isfinite(d)) return snprintf(why, wn, "%g: MySQL has no such value", d), 1;
        put_real(b, d);
        return 0;
    }
    case SQLITE_BLOB:
        if (cls != WH_ANY) return snprintf(why, wn, "binary data does not fit the column's type"), 1;
        if (my) my_blob(L, i, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
        else wh_copy_bytea(b, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
        return 0;
    default: {
        const char *v = (const char *)sqlite3_column_text(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        if (!wh_fits(cls, v, n, why, wn)) return 1;
        put_text(L, i, v, n);
        return 0;
    }
    }
}

/* A LOAD DATA bytes column's number or string: its bytes (SQLite's text of
 * it, as the INSERT path stores it) in hex, instead of what was appended
 * from mark. */
static void hex_value(jb_load *L, sqlite3_stmt *st, int i, size_t mark)
{
    int t = sqlite3_column_type(st, i);
    if (!L->my_infile || !jb__my_hex_column(L, i) || t == SQLITE_NULL || t == SQLITE_BLOB)
        return; /* a blob is in hex already (my_blob) */
    ut_buf_truncate(&L->out, mark);
    hex_digits(&L->out, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
}

int jb__load_row(jb_load *L, sqlite3_stmt *st)
{
    size_t start = L->out.len;
    char why[200];
    int tuple = L->plan.dialect == WH_MYSQL && !L->my_infile; /* "(v, ...)" rows, "," between */
    if (tuple) ut_buf_puts(&L->out, start ? ",(" : "(");
    for (int i = 0; i < L->ncols; i++) {
        if (i) ut_buf_putc(&L->out, tuple ? ',' : '\t');
        size_t mark = L->out.len;
        if (!put_value(L, st, i, why, sizeof why)) {
            hex_value(L, st, i, mark);
            continue;
        }
        ut_buf_truncate(&L->out, start);
        int t = sqlite3_column_type(st, i);
        const char *v = t == SQLITE_TEXT ? (const char *)sqlite3_column_text(st, i) : NULL;
        jb__load_bad(L, i, v, v ? (size_t)sqlite3_column_bytes(st, i) : 0, why);
        return 1;
    }
    ut_buf_putc(&L->out, tuple ? ')' : '\n');
    return 0;
}

void jb__load_sql(const jb_load *L, jb_load_step step, ut_buf *b)
{
    switch (step) {
    case JB_LOAD_BEGIN:
        if (L->my) { /* exports of one target in turn (a session lock; names <= 64 bytes) */
            ut_buf_puts(b, "SELECT GET_LOCK(SHA1(");
            wh_literal(b, L->j->target.table);
            ut_buf_puts(b, "), 3600)");
            break;
        }
        ut_buf_puts(b, "BEGIN; SELECT pg_advisory_xact_lock(hashtext(");
        wh_literal(b, L->j->target.table);
        ut_buf_puts(b, "))");
        break;
    case JB_LOAD_PREPARE:
        jb__load_ddl(L, b);
        if (L->plan.mode == WH_REPLACE_WINDOW) {
            if (b->len) ut_buf_puts(b, "; ");
            wh_sql_delete_window(b, &L->plan);
        }
        break;
    case JB_LOAD_STAGE: wh_sql_before_copy(b, &L->plan); break;
    case JB_LOAD_COPY: wh_sql_copy(b, &L->plan); break;
    case JB_LOAD_AFTER: wh_sql_after_copy(b, &L->plan); break;
    case JB_LOAD_COMMIT: ut_buf_puts(b, "COMMIT"); break;
    }
}
