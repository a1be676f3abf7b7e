/* jobs: kind export into MySQL / MariaDB — the load's steps (jb__load_sql,
 * dialect WH_MYSQL) over libmariadb.  The session: time_zone UTC (the
 * lake's timestamps are UTC), sql_mode ANSI_QUOTES (identifiers "x"),
 * NO_BACKSLASH_ESCAPES (literals '...' with ' doubled) and
 * STRICT_ALL_TABLES (a value that does not fit fails the statement instead
 * of being truncated with a warning).  The rows go as multi-row INSERTs of
 * at most JB_LOAD_FLUSH bytes each (well under max_allowed_packet), in the
 * transaction the steps opened: a lost connection rolls them back. */
#include "jobs/jb_load.h"
#include "myfed/myfed.h"

#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MY_MAX_PACKET (64ul << 20) /* client side; the server's max_allowed_packet rules too */
#define MY_IO_TIMEOUT_S 600u       /* a statement's reply (the rename swap waits on readers) */

struct jb_my {
    MYSQL *db;
    char name[CF_NAME_MAX + 1];
    char password[512];
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { (void)mysql_library_init(0, NULL, NULL); }

static const char session_sql[] =
    "SET SESSION time_zone = '+00:00', SESSION sql_mode = "
    "'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";

/* "mysql "name": message (errno N)" into L->err, the password never shown. */
static int my_fail(jb_load *L, const char *what)
{
    jb_my *m = L->my;
    char e[700];
    snprintf(e, sizeof e, "mysql \"%s\": %s%s%s (errno %u)", m->name, what, what[0] ? ": " : "",
             m->db ? mysql_error(m->db) : "not connected", m->db ? mysql_errno(m->db) : 0);
    if (m->password[0]) ut_redact(e, sizeof e, m->password, "***");
    return jb__load_fail(L, UT_EIO, "%s", e);
}

int jb__my_open(jb_load *L, const cf_mysql *c, const char *app)
{
    (void)app;
    pthread_once(&lib_once, lib_init);
    jb_my *m = L->my = ut_calloc(1, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", c->name);
    char err[600];
    int have = myf_password(c, m->password, sizeof m->password, err, sizeof err);
    if (have < 0) return jb__load_fail(L, UT_EIO, "%s", err);
    if (!(m->db = mysql_init(NULL))) return jb__load_fail(L, UT_EINTERNAL, "out of memory");
    unsigned long maxp = MY_MAX_PACKET;
    unsigned to = (unsigned)(c->connect_timeout_ms / 1000) + 1, io = MY_IO_TIMEOUT_S;
    my_bool off = 0;
    mysql_options(m->db, MYSQL_OPT_CONNECT_TIMEOUT, &to);
    mysql_options(m->db, MYSQL_OPT_READ_TIMEOUT, &io);
    mysql_options(m->db, MYSQL_OPT_WRITE_TIMEOUT, &io);
    mysql_options(m->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m->db, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
    mysql_options(m->db, MYSQL_OPT_LOCAL_INFILE, &off);
    mysql_options(m->db, MYSQL_OPT_RECONNECT, &off); /* a lost transaction must not go on */
    const char *host = c->socket[0] ? "localhost" : c->host;
    if (!mysql_real_connect(m->db, host, c->user, have ? m->password : NULL,
                            c->database[0] ? c->database : NULL, (unsigned)c->port,
                            c->socket[0] ? c->socket : NULL, CLIENT_MULTI_STATEMENTS))
        return my_fail(L, "connecting");
    if (mysql_query(m->db, session_sql)) return my_fail(L, "session setup");
    if (!(m->db->server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES))
        return jb__load_fail(L, UT_EIO, "mysql \"%s\": the server did not take sql_mode "
                             "NO_BACKSLASH_ESCAPES", m->name);
    return 0;
}

void jb__my_close(jb_load *L)
{
    if (!L->my) return;
    if (L->my->db) mysql_close(L->my->db);
    memset(L->my->password, 0, sizeof L->my->password);
    free(L->my);
    L->my = NULL;
}

/* Run q[0..n) (maybe several statements), every result read.  0 / -1. */
static int run(jb_load *L, const char *q, size_t n)
{
    MYSQL *db = L->my->db;
    if (mysql_real_query(db, q, (unsigned long)n)) return my_fail(L, "");
    int st;
    do {
        MYSQL_RES *r = mysql_store_result(db);
        if (r) mysql_free_result(r);
        else if (mysql_field_count(db)) return my_fail(L, "");
        st = mysql_next_result(db);
        if (st > 0) return my_fail(L, "");
    } while (st == 0);
    return 0;
}

int jb__my_exec(jb_load *L, const char *sql)
{
    return sql[0] ? run(L, sql, strlen(sql)) : 0;
}

int jb__my_target_columns(jb_load *L)
{
    const char *t = L->j->target.table, *dot = strchr(t, '.');
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                    "table_schema = ");
    if (dot) {
        char schema[WH_IDENT_MAX + 1];
        snprintf(schema, sizeof schema, "%.*s", (int)(dot - t), t);
        wh_literal(&q, schema);
    } else {
        ut_buf_puts(&q, "DATABASE()");
    }
    ut_buf_puts(&q, " AND table_name = ");
    wh_literal(&q, dot ? dot + 1 : t);
    ut_buf_puts(&q, " ORDER BY ordinal_position");
    MYSQL *db = L->my->db;
    int bad = mysql_real_query(db, (const char *)q.p, (unsigned long)q.len);
    ut_buf_free(&q);
    MYSQL_RES *r = bad ? NULL : mysql_store_result(db);
    if (!r) return my_fail(L, "reading the target's columns");
    L->ntcols = (int)mysql_num_rows(r);
    L->tcols = ut_calloc((size_t)L->ntcols + 1, sizeof *L->tcols);
    MYSQL_ROW row;
    for (int i = 0; i < L->ntcols && (row = mysql_fetch_row(r)); i++) {
        snprintf(L->tcols[i].name, sizeof L->tcols[i].name, "%s", row[0] ? row[0] : "");
        snprintf(L->tcols[i].type, sizeof L->tcols[i].type, "%s", row[1] ? row[1] : "");
    }
    mysql_free_result(r);
    return 0;
}

int jb__my_flush(jb_load *L)
{
    if (!L->out.len) return 0;
    ut_buf q = {0};
    wh_my_insert(&q, &L->plan);
    ut_buf_put(&q, L->out.p, L->out.len);
    wh_my_insert_end(&q, &L->plan);
    int rc = run(L, (const char *)q.p, q.len);
    ut_buf_free(&q);
    ut_buf_reset(&L->out);
    return rc;
}
