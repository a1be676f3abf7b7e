/* pgfed attach: list the relations the role can read, ATTACH an in-memory
 * schema and create one virtual table per relation in it. */
#include "pgfed/pgf_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Relations and their columns, in order.  Partitions are reached through
 * their parent; system schemas are left out. */
static const char catalog_sql[] =
    "SELECT n.nspname, c.relname, c.reltuples::float8, a.attname, "
    "       COALESCE(bt.typname, t.typname), n.nspname = current_schema() "
    "FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
    "     AND NOT a.attisdropped "
    "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype "
    "WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition "
    "  AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "  AND n.nspname NOT LIKE 'pg\\_%' "
    "  AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') "
    "ORDER BY n.nspname, c.relname, a.attnum";

/* Fill c->rels from the catalog query.  0 or -1. */
static int list_rels(pgf_conn *c, char *err, size_t errlen)
{
    PGresult *r = PQexec(c->pg, catalog_sql);
    int rc = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pgf__pg_err(c, r, err, errlen);
        goto fail;
    }
    int n = PQntuples(r);
    pgf_rel *cur = NULL;
    for (int i = 0; i < n; i++) {
        const char *sch = PQgetvalue(r, i, 0), *tab = PQgetvalue(r, i, 1);
        if (!cur || strcmp(cur->schema, sch) || strcmp(cur->table, tab)) {
            if (c->nrels >= PGF_MAX_TABLES) break;
            c->rels = ut_realloc(c->rels, sizeof *c->rels * (size_t)(c->nrels + 1));
            cur = &c->rels[c->nrels++];
            memset(cur, 0, sizeof *cur);
            cur->schema = ut_strdup(sch);
            cur->table = ut_strdup(tab);
            cur->rows = strtod(PQgetvalue(r, i, 2), NULL);
            if (PQgetvalue(r, i, 5)[0] == 't') {
                cur->sqlname = ut_strdup(tab);
            } else {
                size_t len = strlen(sch) + strlen(tab) + 2;
                cur->sqlname = ut_malloc(len);
                snprintf(cur->sqlname, len, "%s.%s", sch, tab);
            }
        }
        if (cur->ncols >= PGF_MAX_COLS + 1) continue;
        cur->cols = ut_realloc(cur->cols, sizeof *cur->cols * (size_t)(cur->ncols + 1));
        cur->cols[cur->ncols].name = ut_strdup(PQgetvalue(r, i, 3));
        cur->cols[cur->ncols].kind = pgf__kind(PQgetvalue(r, i, 4));
        cur->ncols++;
    }
    rc = 0;
fail:
    PQclear(r);
    return rc;
}

/* Run sql on db; -1 with SQLite's message. */
static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    ut_err(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

static void conn_destroy(void *p) { pgf__conn_free(p); }

/* A conninfo that does not parse: libpq's reason with quoted fragments
 * (which could be a password) elided. */
static int parse_error(const char *name, const char *conninfo, char *err, size_t errlen)
{
    char *perr = NULL, msg[512];
    PQconninfoOption *o = PQconninfoParse(conninfo, &perr);
    if (o) PQconninfoFree(o);
    const char *in = perr ? perr : "unknown error";
    size_t j = 0;
    int inq = 0;
    for (size_t i = 0; in[i] && j + 8 < sizeof msg; i++) {
        if (in[i] == '"') {
            inq = !inq;
            if (inq) {
                memcpy(msg + j, "\"...", 4);
                j += 4;
            } else {
                msg[j++] = '"';
            }
        } else if (!inq && in[i] != '\n') {
            msg[j++] = in[i];
        }
    }
    msg[j] = 0;
    PQfreemem(perr);
    return ut_err(err, errlen, "postgres connection \"%s\": conninfo does not parse: %s", name,
                  msg);
}

int pgf_attach_opts(sqlite3 *db, const char *name, const char *conninfo, const pgf_opts *opts,
                    char *err, size_t errlen)
{
    pgf_conn *c = NULL;
    ut_buf sql = {0};
    char mod[2 * PGF_MAX_NAME + 8], ignore[256];
    int attached = 0;
    size_t nl = name ? strlen(name) : 0;
    char nerr[300];
    if (ut_name_check(UT_NAME_CONNECTION, name, nl, nerr, sizeof nerr))
        return ut_err(err, errlen, "postgres %s", nerr); /* an SQL schema name */
    assert(nl <= PGF_MAX_NAME);
    if (!conninfo) conninfo = ""; /* libpq's defaults and environment */
    c = ut_calloc(1, sizeof *c);
    memcpy(c->name, name, nl + 1);
    c->conninfo = ut_strdup(conninfo);
    c->display = pgf__display(conninfo);
    if (!c->display) {
        parse_error(name, conninfo, err, errlen);
        goto fail;
    }
    if (opts && opts->password) c->password = ut_strdup(opts->password);
    c->fetch_rows = opts && opts->fetch_rows > 0 ? opts->fetch_rows : 10000;
    c->connect_timeout_s = opts && opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 10;
    if (pgf__connect(c, err, errlen) || list_rels(c, err, errlen)) goto fail;

    ut_buf_puts(&sql, "ATTACH ':memory:' AS ");
    fed_quote_ident(&sql, name);
    ut_buf_putc(&sql, 0);
    if (exec(db, (const char *)sql.p, err, errlen)) goto fail;
    attached = 1;
    /* the module's name is unique per attach name; db owns c from here */
    int m = snprintf(mod, sizeof mod, "pgfed_");
    for (size_t i = 0; i < nl; i++) m += snprintf(mod + m, sizeof mod - (size_t)m, "%02x",
                                                  (unsigned char)name[i]);
    pgf_conn *owned = c;
    c = NULL;
    if (sqlite3_create_module_v2(db, mod, &pgf__module, owned, conn_destroy) != SQLITE_OK) {
        ut_err(err, errlen, "postgres \"%s\": %s", name, sqlite3_errmsg(db));
        goto fail;
    }
    for (int i = 0; i < owned->nrels; i++) {
        const pgf_rel *r = &owned->rels[i];
        if (r->ncols > PGF_MAX_COLS) continue;
        ut_buf_reset(&sql);
        ut_buf_puts(&sql, "CREATE VIRTUAL TABLE ");
        fed_quote_ident(&sql, name);
        ut_buf_putc(&sql, '.');
        fed_quote_ident(&sql, r->sqlname);
        ut_buf_printf(&sql, " USING %s(%d)", mod, i);
        ut_buf_putc(&sql, 0);
        /* a name SQLite already has (it ignores case) or columns it cannot
         * declare: that relation is left out */
        (void)exec(db, (const char *)sql.p, ignore, sizeof ignore);
    }
    ut_buf_free(&sql);
    return 0;
fail:
    if (attached) {
        ut_buf_reset(&sql);
        ut_buf_puts(&sql, "DETACH ");
        fed_quote_ident(&sql, name);
        ut_buf_putc(&sql, 0);
        (void)exec(db, (const char *)sql.p, ignore, sizeof ignore);
    }
    ut_buf_free(&sql);
    pgf__conn_free(c);
    return -1;
}

int pgf_attach(sqlite3 *db, const char *name, const char *conninfo, char *err, size_t errlen)
{
    return pgf_attach_opts(db, name, conninfo, NULL, err, errlen);
}

int pgf_attach_config(sqlite3 *db, const cf_config *c, char *err, size_t errlen)
{
    char pw[PGF_MAX_PASSWORD + 2];
    int failed = 0;
    for (int i = 0; c && i < c->npostgres; i++) {
        const cf_postgres *p = &c->postgres[i];
        pgf_opts o = {0};
        char e[1024];
        int have = pgf_password(p, pw, sizeof pw, e, sizeof e);
        if (have) o.password = pw;
        o.fetch_rows = (int)p->fetch_rows;
        o.connect_timeout_s = (int)(p->connect_timeout_ms / 1000);
        int rc = have < 0 ? -1 : pgf_attach_opts(db, p->name, p->conninfo, &o, e, sizeof e);
        memset(pw, 0, sizeof pw);
        if (rc && !failed++) snprintf(err, errlen, "%s", e); /* the others still attach */
    }
    return failed;
}
