/* myfed attach: list the tables the user can see, ATTACH an in-memory
 * schema and create the virtual tables in it ("db.table" for every table,
 * and the plain name for those of the default database). */
#include "myfed/myf_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of every table and view, in order.  The system databases are left
 * out; information_schema shows only what the user may see. */
static const char catalog_sql[] =
    "SELECT c.table_schema, c.table_name, c.column_name, lower(c.data_type), c.column_type, "
    "       c.character_set_name, c.collation_name, t.table_rows, "
    "       c.table_schema = database() "
    "FROM information_schema.columns c "
    "JOIN information_schema.tables t "
    "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
    "WHERE c.table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
    "ORDER BY c.table_schema, c.table_name, c.ordinal_position";

/* A new relation for row's database and table (NULL past MYF_MAX_TABLES). */
static myf_rel *add_rel(myf_conn *c, MYSQL_ROW row)
{
    if (c->nrels >= MYF_MAX_TABLES) return NULL;
    c->rels = ut_realloc(c->rels, sizeof *c->rels * (size_t)(c->nrels + 1));
    myf_rel *r = &c->rels[c->nrels++];
    memset(r, 0, sizeof *r);
    r->db = ut_strdup(row[0]);
    r->table = ut_strdup(row[1]);
    r->rows = row[7] ? strtod(row[7], NULL) : 0;
    r->in_default = row[8] && row[8][0] == '1';
    return r;
}

/* Fill c->rels through link l.  0 or -1. */
static int list_rels(myf_conn *c, myf_link *l, char *err, size_t errlen)
{
    if (myf__query(c, l, catalog_sql, sizeof catalog_sql - 1, err, errlen)) return -1;
    MYSQL_RES *res = mysql_use_result(l->my);
    if (!res) return myf__my_err(c, l->my, err, errlen);
    MYSQL_ROW row;
    myf_rel *cur = NULL;
    int full = 0;
    while ((row = mysql_fetch_row(res))) {
        if (full || !row[0] || !row[1] || !row[2]) continue; /* read on: the result must end */
        if (!cur || strcmp(cur->db, row[0]) || strcmp(cur->table, row[1])) {
            if (!(cur = add_rel(c, row))) {
                full = 1;
                continue;
            }
        }
        if (cur->ncols >= MYF_MAX_COLS + 1) continue;
        cur->cols = ut_realloc(cur->cols, sizeof *cur->cols * (size_t)(cur->ncols + 1));
        myf_col *col = &cur->cols[cur->ncols++];
        col->name = ut_strdup(row[2]);
        col->kind = myf__kind(row[3], row[4]);
        col->flags = col->kind == MYF_STRING ? myf__coll_flags(row[5], row[6]) : 0;
    }
    int rc = mysql_errno(l->my) ? myf__my_err(c, l->my, err, errlen) : 0;
    mysql_free_result(res);
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

static void conn_destroy(void *p) { myf__conn_free(p); }

static myf_conn *conn_new(const cf_mysql *m, const char *password)
{
    myf_conn *c = ut_calloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", m->name);
    c->host = ut_strdup(m->host && m->host[0] ? m->host : "127.0.0.1");
    c->socket = ut_strdup(m->socket ? m->socket : "");
    c->user = ut_strdup(m->user ? m->user : "");
    c->database = ut_strdup(m->database ? m->database : "");
    c->port = m->port > 0 ? (unsigned)m->port : 3306;
    c->timeout_s = m->connect_timeout_ms >= 1000 ? (unsigned)(m->connect_timeout_ms / 1000) : 10;
    if (password) c->password = ut_strdup(password);
    return c;
}

/* CREATE VIRTUAL TABLE name.sqlname USING mod(i); a name SQLite already has
 * (it ignores case) or columns it cannot declare: that table is left out. */
static void create_vtab(sqlite3 *db, const char *name, const char *sqlname, const char *mod,
                        int i)
{
    ut_buf sql = {0};
    char ignore[256];
    ut_buf_puts(&sql, "CREATE VIRTUAL TABLE ");
    fed_quote_ident(&sql, name);
    ut_buf_putc(&sql, '.');
    fed_quote_ident(&sql, sqlname);
    ut_buf_printf(&sql, " USING %s(%d)", mod, i);
    (void)exec(db, ut_buf_cstr(&sql), ignore, sizeof ignore);
    ut_buf_free(&sql);
}

/* The module and the tables of c, attached as schema c->name (db owns c
 * from here, whatever happens). */
static int create_tables(sqlite3 *db, myf_conn *c, char *err, size_t errlen)
{
    char mod[2 * CF_NAME_MAX + 8];
    int m = snprintf(mod, sizeof mod, "myfed_"); /* unique per attach name */
    for (const char *p = c->name; *p; p++)
        m += snprintf(mod + m, sizeof mod - (size_t)m, "%02x", (unsigned char)*p);
    if (sqlite3_create_module_v2(db, mod, &myf__module, c, conn_destroy) != SQLITE_OK)
        return ut_err(err, errlen, "mysql \"%s\": %s", c->name, sqlite3_errmsg(db));
    for (int i = 0; i < c->nrels; i++) {
        const myf_rel *r = &c->rels[i];
        if (r->ncols > MYF_MAX_COLS) continue;
        ut_buf full = {0};
        ut_buf_printf(&full, "%s.%s", r->db, r->table);
        create_vtab(db, c->name, ut_buf_cstr(&full), mod, i);
        if (r->in_default) create_vtab(db, c->name, r->table, mod, i);
        ut_buf_free(&full);
    }
    return 0;
}

int myf_attach(sqlite3 *db, const cf_mysql *m, const char *password, char *err, size_t errlen)
{
    char nerr[300];
    size_t nl = strlen(m->name);
    if (ut_name_check(UT_NAME_CONNECTION, m->name, nl, nerr, sizeof nerr))
        return ut_err(err, errlen, "mysql %s", nerr); /* an SQL schema name */
    myf_conn *c = conn_new(m, password);
    ut_buf sql = {0};
    int attached = 0;
    myf_link *l = myf__acquire(c, err, errlen);
    if (!l) goto fail;
    int rc = list_rels(c, l, err, errlen);
    myf__release(c, l, rc == 0);
    if (rc) goto fail;
    ut_buf_puts(&sql, "ATTACH ':memory:' AS ");
    fed_quote_ident(&sql, m->name);
    if (exec(db, ut_buf_cstr(&sql), err, errlen)) goto fail;
    attached = 1;
    myf_conn *owned = c;
    c = NULL;
    if (create_tables(db, owned, err, errlen)) goto fail;
    ut_buf_free(&sql);
    return 0;
fail:
    if (attached) {
        char ignore[256];
        ut_buf_reset(&sql);
        ut_buf_puts(&sql, "DETACH ");
        fed_quote_ident(&sql, m->name);
        (void)exec(db, ut_buf_cstr(&sql), ignore, sizeof ignore);
    }
    ut_buf_free(&sql);
    myf__conn_free(c);
    return -1;
}

int myf_password(const cf_mysql *m, char *out, size_t n, char *err, size_t errlen)
{
    if (!m->password_file || !m->password_file[0]) return 0;
    FILE *f = fopen(m->password_file, "r");
    if (!f)
        return ut_err(err, errlen, "mysql \"%s\": password_file %s: %s", m->name,
                      m->password_file, strerror(errno));
    if (!fgets(out, (int)n, f)) out[0] = 0;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
    return 1;
}

int myf_attach_config(sqlite3 *db, const cf_config *c, char *err, size_t errlen)
{
    char pw[MYF_MAX_PASSWORD + 2];
    int failed = 0;
    for (int i = 0; c && i < c->nmysql; i++) {
        const cf_mysql *m = &c->mysql[i];
        char e[1024];
        int have = myf_password(m, pw, sizeof pw, e, sizeof e);
        int rc = have < 0 ? -1 : myf_attach(db, m, have ? pw : NULL, e, sizeof e);
        memset(pw, 0, sizeof pw);
        if (rc && !failed++) snprintf(err, errlen, "%s", e); /* the others still attach */
    }
    return failed;
}
