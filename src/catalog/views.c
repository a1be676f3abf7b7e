/* catalog: views — a name over one lake table, kept by the job that owns
 * it (a snapshot's merge view), and its SELECT in each dialect. */
#include "catalog/ct_int.h"
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { V_SQLITE, V_TRINO, V_ATHENA, V_SPARK, V_DUCKDB, V_N };
static const char *const dialects[V_N] = {"sqlite", "trino", "athena", "spark", "duckdb"};

#define RN "_sluice_rn"

/* Identifiers quoted: `x` for Spark SQL, "x" for the others (Athena's views
 * are Trino SQL, not Hive DDL). */
static void ident(ut_buf *b, int d, const char *name)
{
    ct__quote_ident(b, d == V_SPARK ? '`' : '"', name);
}

static void qualified(ut_buf *b, int d, const char *schema, const char *name)
{
    if (schema && *schema) {
        ident(b, d, schema);
        ut_buf_putc(b, '.');
    }
    ident(b, d, name);
}

/* Is name one of the partition columns "dt,hr"? */
static int is_part(const char *spec, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = spec; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncasecmp(p, name, n)) return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

static int has_col(const ct_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name)) return 1;
    return 0;
}

/* Are v's key and order columns data columns of base?  0 / -1. */
static int check_cols(const ct_view *v, const ct_table *base, char *err, size_t errlen)
{
    if (v->nkey < 1 || v->nkey > CT_VIEW_MAX_KEY)
        return ut_err(err, errlen, "view %s: %d key columns (1 to %d)", v->name, v->nkey,
                      CT_VIEW_MAX_KEY);
    for (int i = 0; i <= v->nkey; i++) {
        const char *c = i < v->nkey ? v->key[i] : v->order;
        if (!has_col(base, c) || is_part(base->partition, c))
            return ut_err(err, errlen, "view %s: table %s has no column '%s' (its %s)", v->name,
                          base->name, c, i < v->nkey ? "key" : "order");
    }
    return 0;
}

/* The window's ORDER BY: order first, later partitions, then the other
 * columns (bytes left out: not every engine orders them). */
static void order_by(ut_buf *b, int d, const ct_view *v, const ct_table *base)
{
    ident(b, d, v->order);
    ut_buf_puts(b, " DESC NULLS LAST");
    for (const char *p = base->partition; *p;) {
        size_t k = strcspn(p, ",");
        char part[64];
        snprintf(part, sizeof part, "%.*s", (int)k, p);
        ut_buf_puts(b, ", ");
        ident(b, d, part);
        ut_buf_puts(b, " DESC");
        p += k + (p[k] == ',');
    }
    for (int i = 0; i < base->ncols; i++) {
        const ct_column *c = &base->cols[i];
        int key = 0;
        for (int k = 0; k < v->nkey; k++) key |= !strcmp(v->key[k], c->name);
        if (key || !strcmp(c->name, v->order) || c->type == CT_BYTES ||
            is_part(base->partition, c->name))
            continue;
        ut_buf_puts(b, ", ");
        ident(b, d, c->name);
    }
}

char *ct_view_sql(const ct_view *v, const ct_table *base, const char *dialect,
                  const char *schema, int create, char *err, size_t errlen)
{
    int d = -1;
    for (int i = 0; i < V_N; i++)
        if (dialect && !strcmp(dialect, dialects[i])) d = i;
    if (d < 0) {
        ut_err(err, errlen, "unknown dialect '%s' (trino, athena, spark or duckdb)",
               dialect ? dialect : "");
        return NULL;
    }
    if (check_cols(v, base, err, errlen)) return NULL;
    ut_buf b = {0};
    if (create) {
        ut_buf_printf(&b, "-- the latest row per key of lake table %s (sluice view %s, job %s)\n",
                      base->name, v->name, v->job);
        ut_buf_puts(&b, "CREATE OR REPLACE VIEW ");
        qualified(&b, d, schema, v->name);
        ut_buf_puts(&b, " AS\n");
    }
    ut_buf_puts(&b, "SELECT ");
    int first = 1;
    for (int i = 0; i < base->ncols; i++) {
        if (is_part(base->partition, base->cols[i].name)) continue;
        if (!first) ut_buf_puts(&b, ", ");
        first = 0;
        ident(&b, d, base->cols[i].name);
    }
    ut_buf_puts(&b, create ? "\nFROM (\n  SELECT *, row_number() OVER (PARTITION BY "
                           : " FROM (SELECT *, row_number() OVER (PARTITION BY ");
    for (int k = 0; k < v->nkey; k++) {
        if (k) ut_buf_puts(&b, ", ");
        ident(&b, d, v->key[k]);
    }
    ut_buf_puts(&b, " ORDER BY ");
    order_by(&b, d, v, base);
    ut_buf_puts(&b, ") AS ");
    ident(&b, d, RN);
    ut_buf_puts(&b, create ? "\n  FROM " : " FROM ");
    qualified(&b, d, schema, base->name);
    ut_buf_puts(&b, create ? "\n) " : ") ");
    if (d != V_SQLITE) ut_buf_puts(&b, "AS "), ident(&b, d, "latest"), ut_buf_putc(&b, ' ');
    ut_buf_puts(&b, "WHERE ");
    ident(&b, d, RN);
    ut_buf_puts(&b, create ? " = 1;\n" : " = 1");
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

int ct__view_twin(ct_catalog *c, const char *name, char *other, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_VIEW_NAME_NOCASE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) ct_col_text(s, 0, other, 128);
    ct_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ct_sqlerr(c, "look up views", err, errlen);
    return rc == SQLITE_ROW;
}

/* The row s is on into *out.  0 / -1 (its key list does not parse). */
static int read_row(ct_catalog *c, sqlite3_stmt *s, ct_view *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    ct_col_text(s, 0, out->name, sizeof out->name);
    ct_col_text(s, 1, out->base, sizeof out->base);
    ct_col_text(s, 2, out->job, sizeof out->job);
    ct_col_text(s, 4, out->order, sizeof out->order);
    const char *sql = (const char *)sqlite3_column_text(s, 5);
    out->sql = ut_strdup(sql ? sql : "");
    out->created_ms = sqlite3_column_int64(s, 6);
    out->updated_ms = sqlite3_column_int64(s, 7);
    sqlite3_stmt *k = ct_stmt(c, S_VIEW_KEYS, err, errlen);
    if (!k) return -1;
    sqlite3_bind_text(k, 1, (const char *)sqlite3_column_text(s, 3), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(k)) == SQLITE_ROW && out->nkey < CT_VIEW_MAX_KEY)
        ct_col_text(k, 0, out->key[out->nkey++], sizeof out->key[0]);
    ct_done(k);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ct_sqlerr(c, "read a view's key", err, errlen);
    return 0;
}

int ct_view_get(ct_catalog *c, const char *name, ct_view *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = ct_stmt(c, S_VIEW_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && read_row(c, s, out, err, errlen)) {
        ct_done(s);
        ct_view_free(out);
        return -1;
    }
    ct_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ct_sqlerr(c, "read a view", err, errlen);
    return rc == SQLITE_ROW;
}

int ct_views(ct_catalog *c, ct_view **out, char *err, size_t errlen)
{
    *out = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_VIEWS_ALL, err, errlen);
    if (!s) return -1;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) *out = ut_realloc(*out, (size_t)(cap = cap ? cap * 2 : 8) * sizeof **out);
        if (read_row(c, s, &(*out)[n], err, errlen)) {
            ct_view_free(&(*out)[n]);
            rc = -1;
            break;
        }
        n++;
    }
    ct_done(s);
    if (rc != SQLITE_DONE) {
        ct_views_free(*out, n);
        *out = NULL;
        return rc < 0 ? -1 : ct_sqlerr(c, "list views", err, errlen);
    }
    return n;
}

void ct_view_free(ct_view *v)
{
    if (!v) return;
    free(v->sql);
    v->sql = NULL;
}

void ct_views_free(ct_view *v, int n)
{
    for (int i = 0; v && i < n; i++) ct_view_free(&v[i]);
    free(v);
}

/* May v take its name: no table has it, no view of another job or base? */
static int name_free(ct_catalog *c, const ct_view *v, char *err, size_t errlen)
{
    char nerr[300];
    if (ut_name_check(UT_NAME_TABLE, v->name, strlen(v->name), nerr, sizeof nerr))
        return ut_err(err, errlen, "catalog %s: view: %s", c->path, nerr);
    ct_table t = {0};
    int have = ct_table_get_tx(c, v->name, &t, err, errlen);
    ct_table_free(&t);
    if (have < 0) return -1;
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_NAME_NOCASE, err, errlen);
    if (!s) return -1;
    char twin[128] = "";
    sqlite3_bind_text(s, 1, v->name, -1, SQLITE_STATIC);
    if (!have && sqlite3_step(s) == SQLITE_ROW) ct_col_text(s, 0, twin, sizeof twin);
    ct_done(s);
    if (have || twin[0])
        return ut_err(err, errlen, "catalog %s: view %s: a table named %s exists (view and "
                      "table names are compared without case)", c->path, v->name,
                      have ? v->name : twin);
    ct_view old;
    int o = ct_view_get(c, v->name, &old, err, errlen);
    if (o < 0) return -1;
    int clash = o && (strcmp(old.job, v->job) || strcmp(old.base, v->base));
    if (clash)
        ut_err(err, errlen, "catalog %s: view %s: view %s is job %s's, over table %s", c->path,
               v->name, old.name, old.job, old.base);
    ct_view_free(&old);
    return clash ? -1 : 0;
}

/* The job's view of the same table under an earlier name is gone: one
 * view per (job, table), the config's name wins. */
static int drop_renamed(ct_catalog *c, const ct_view *v, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_VIEW_DROP_OTHERS, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, v->job, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, v->base, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, v->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : ct_sqlerr(c, "drop a renamed view", err, errlen);
    ct_done(s);
    return rc;
}

int ct__view_put_tx(ct_catalog *c, const ct_view *v, char *err, size_t errlen)
{
    if (name_free(c, v, err, errlen)) return -1;
    ct_table base = {0};
    int have = ct_table_get_tx(c, v->base, &base, err, errlen);
    if (have <= 0) {
        if (have == 0) ut_err(err, errlen, "catalog %s: view %s: no table %s", c->path, v->name,
                              v->base);
        return -1;
    }
    char *sql = ct_view_sql(v, &base, "sqlite", NULL, 0, err, errlen);
    ct_table_free(&base);
    if (!sql) return -1;
    ut_buf key = {0};
    ut_buf_putc(&key, '[');
    for (int i = 0; i < v->nkey; i++) {
        if (i) ut_buf_putc(&key, ',');
        ut_json_str(&key, v->key[i], strlen(v->key[i]));
    }
    ut_buf_putc(&key, ']');
    int rc = -1;
    sqlite3_stmt *s = ct_stmt(c, S_VIEW_PUT, err, errlen);
    if (s) {
        sqlite3_bind_text(s, 1, v->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, v->base, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, v->job, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, (const char *)key.p, (int)key.len, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, v->order, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, sql, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 7, ct_now_ms());
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : ct_sqlerr(c, "put a view", err, errlen);
        ct_done(s);
    }
    if (rc == 0) rc = drop_renamed(c, v, err, errlen);
    ut_buf_free(&key);
    free(sql);
    return rc;
}

int ct_view_put(ct_catalog *c, const ct_view *v, char *err, size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    if (ct__view_put_tx(c, v, err, errlen) < 0) {
        ct_rollback(c);
        return -1;
    }
    return ct_commit_tx(c, err, errlen);
}
