/* jobs: kind export into MySQL / MariaDB — the load's steps (jb__load_sql,
 * dialect WH_MYSQL) over libmariadb.  The session: time_zone UTC (the
 * lake's timestamps are UTC), sql_mode ANSI_QUOTES (identifiers "x"),
 * NO_BACKSLASH_ESCAPES (literals '...' with ' doubled) and
 * STRICT_ALL_TABLES (a value that does not fit fails the statement instead
 * of being truncated with a warning).  The rows, in the transaction the
 * steps opened (a lost connection rolls them back), go per JB_LOAD_FLUSH
 * bytes of them:
 *
 *   lake rows ──jb__load_row──► L->out (LOAD DATA text lines, ≤ 1 MiB)
 *     ──jb__my_flush──► the sender thread (the chunk swapped out: the scan
 *                       goes on into L->out meanwhile; one LOAD in flight)
 *        LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "t" ...
 *          └─ libmariadb asks for the "file": infile_read hands it the
 *             chunk (memory, never a disk file)
 *     ──► at the next flush or statement, on the caller's thread:
 *         SHOW WARNINGS (LOCAL implies IGNORE: a value that does not fit, a
 *         duplicate key is only a warning; any but a Note fails the run,
 *         as the strict INSERT would) and the rows read = the rows sent
 *
 * The INSERT path (multi-row INSERTs of at most JB_LOAD_FLUSH bytes, well
 * under max_allowed_packet) stays for upsert (LOAD DATA has no ON
 * DUPLICATE KEY UPDATE) and for a server with local_infile off (said once
 * in the log per run). */
#include "jobs/jb_load.h"
#include "log/log.h"
#include "myfed/myfed.h"

#include <errmsg.h>
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
    const ut_buf *feed; /* the LOAD DATA text of the LOAD running, or NULL */
    size_t fed;         /* of it, handed to libmariadb */
    int64_t loaded;     /* rows handed to the LOADs so far */
    /* the sender: runs one LOAD (chunk, q) while the next chunk fills */
    pthread_t sender;
    int sender_on;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ut_buf chunk, q;    /* the LOAD's text and statement (the sender's while busy) */
    int busy, done;     /* handed over, not finished / finished, not checked */
    int quit, qrc;      /* the sender is to end / the LOAD's mysql_real_query result */
    int64_t lo, hi;     /* the LOAD's rows */
    int failed;         /* a LOAD failed (L->err says how): the rest fails */
};

static int load_wait(jb_load *L);

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

/* LOAD DATA LOCAL INFILE's "file", whatever name the server asks for: the
 * text of our LOAD running (m->feed).  Asked for at any other time (a
 * server asking for files unprompted), it refuses: nothing is read from
 * disk. */
static int infile_init(void **h, const char *name, void *ud)
{
    jb_my *m = ud;
    (void)name;
    *h = m;
    m->fed = 0;
    return m->feed ? 0 : 1;
}

static int infile_read(void *h, char *buf, unsigned int n)
{
    jb_my *m = h;
    size_t k = m->feed->len - m->fed;
    if (k > n) k = n;
    memcpy(buf, m->feed->p + m->fed, k);
    m->fed += k;
    return (int)k;
}

static void infile_end(void *h) { (void)h; }

static int infile_error(void *h, char *buf, unsigned int n)
{
    (void)h;
    snprintf(buf, n, "LOAD DATA LOCAL INFILE asked for when sluice sent no LOAD");
    return CR_UNKNOWN_ERROR;
}

/* Rows as LOAD DATA (L->my_infile) unless upsert or the server's
 * local_infile is off (then INSERTs, said in the log). */
static void infile_mode(jb_load *L)
{
    if (L->j->mode == CF_MODE_UPSERT) return;
    MYSQL *db = L->my->db;
    MYSQL_RES *r = mysql_query(db, "SELECT @@GLOBAL.local_infile") ? NULL : mysql_store_result(db);
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    L->my_infile = row && row[0] && strcmp(row[0], "0");
    if (!L->my_infile)
        lg_warn("jobs", "job %s: mysql \"%s\": the server refuses LOAD DATA LOCAL INFILE (%s): "
                "the rows go as INSERTs", L->j->name, L->my->name,
                row ? "local_infile is off" : mysql_error(db));
    if (r) mysql_free_result(r);
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
    unsigned int infile = 1; /* our handler's text only (infile_init) */
    mysql_options(m->db, MYSQL_OPT_CONNECT_TIMEOUT, &to);
    mysql_options(m->db, MYSQL_OPT_READ_TIMEOUT, &io);
    mysql_options(m->db, MYSQL_OPT_WRITE_TIMEOUT, &io);
    mysql_options(m->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m->db, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
    mysql_options(m->db, MYSQL_OPT_LOCAL_INFILE, &infile);
    mysql_set_local_infile_handler(m->db, infile_init, infile_read, infile_end, infile_error, m);
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
    infile_mode(L);
    return 0;
}

/* The sender's loop: each LOAD handed over, run; its result left for
 * load_wait (the main thread checks it, the connection idle by then). */
static void *sender_main(void *arg)
{
    jb_my *m = arg;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->busy && !m->quit) pthread_cond_wait(&m->cv, &m->mu);
        if (!m->busy) break;
        pthread_mutex_unlock(&m->mu);
        m->feed = &m->chunk;
        int rc = mysql_real_query(m->db, (const char *)m->q.p, (unsigned long)m->q.len);
        m->feed = NULL;
        pthread_mutex_lock(&m->mu);
        m->qrc = rc, m->busy = 0, m->done = 1;
        pthread_cond_broadcast(&m->cv);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* End the sender after the LOAD it runs (the run failed, or ended). */
static void sender_stop(jb_my *m)
{
    if (!m->sender_on) return;
    pthread_mutex_lock(&m->mu);
    m->quit = 1;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->sender, NULL);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    m->sender_on = 0;
}

void jb__my_close(jb_load *L)
{
    if (!L->my) return;
    sender_stop(L->my);
    ut_buf_free(&L->my->chunk);
    ut_buf_free(&L->my->q);
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
    if (load_wait(L)) return -1; /* the last LOAD first */
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

int jb__my_hex_column(const jb_load *L, int i)
{
    return L->my_infile && L->cols[i].lake.type == CT_BYTES;
}

/* LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "into" CHARACTER SET utf8mb4
 * FIELDS TERMINATED BY tab ESCAPED BY backslash LINES TERMINATED BY
 * newline ("a", @sluice_2, ...) SET "b" = UNHEX(@sluice_2) — the
 * separators as hex literals (NO_BACKSLASH_ESCAPES: '\t' is two bytes). */
static void load_sql(const jb_load *L, ut_buf *q)
{
    char into[160];
    ut_buf_puts(q, "LOAD DATA LOCAL INFILE 'sluice' INTO TABLE ");
    wh_table_ident(q, wh_copy_into(&L->plan, into, sizeof into));
    ut_buf_puts(q, " CHARACTER SET utf8mb4 FIELDS TERMINATED BY X'09' ESCAPED BY X'5c' "
                   "LINES TERMINATED BY X'0a' (");
    for (int i = 0; i < L->ncols; i++) {
        if (i) ut_buf_puts(q, ", ");
        if (jb__my_hex_column(L, i)) ut_buf_printf(q, "@sluice_%d", i);
        else wh_ident(q, L->cols[i].name);
    }
    ut_buf_putc(q, ')');
    for (int i = 0, set = 0; i < L->ncols; i++) {
        if (!jb__my_hex_column(L, i)) continue;
        ut_buf_puts(q, set++ ? ", " : " SET ");
        wh_ident(q, L->cols[i].name);
        ut_buf_printf(q, " = UNHEX(@sluice_%d)", i);
    }
}

/* After a LOAD of rows lo..hi: its warnings other than Notes fail the run
 * with the first three (the strict INSERT would have failed), as does a
 * row count other than the rows sent.  0 / -1. */
static int load_check(jb_load *L, int64_t lo, int64_t hi)
{
    MYSQL *db = L->my->db;
    my_ulonglong got = mysql_affected_rows(db);
    char w[600] = "";
    size_t k = 0;
    if (mysql_warning_count(db)) {
        MYSQL_RES *r = mysql_query(db, "SHOW WARNINGS LIMIT 3") ? NULL : mysql_store_result(db);
        if (!r) return my_fail(L, "reading the LOAD DATA's warnings");
        for (MYSQL_ROW row; (row = mysql_fetch_row(r)) && k < sizeof w;)
            if (row[0] && strcmp(row[0], "Note"))
                k += (size_t)snprintf(w + k, sizeof w - k, "%s%s %s: %s", k ? "; " : "", row[0],
                                      row[1] ? row[1] : "", row[2] ? row[2] : "");
        mysql_free_result(r);
    }
    if (!w[0] && got == (my_ulonglong)(hi - lo + 1)) return 0;
    if (!w[0]) snprintf(w, sizeof w, "the server read %llu rows, not %lld",
                        (unsigned long long)got, (long long)(hi - lo + 1));
    jb_my *m = L->my;
    char into[160];
    return jb__load_fail(L, UT_EINVAL, "mysql \"%s\": LOAD DATA of rows %lld..%lld into %s: %s",
                         m->name, (long long)lo, (long long)hi,
                         wh_copy_into(&L->plan, into, sizeof into), w);
}

/* Wait for the LOAD handed to the sender and check it.  0 / -1. */
static int load_wait(jb_load *L)
{
    jb_my *m = L->my;
    if (m->sender_on) {
        pthread_mutex_lock(&m->mu);
        while (m->busy) pthread_cond_wait(&m->cv, &m->mu);
        int done = m->done;
        m->done = 0;
        pthread_mutex_unlock(&m->mu);
        if (done && (m->qrc ? my_fail(L, "") : load_check(L, m->lo, m->hi))) m->failed = 1;
    }
    return m->failed ? -1 : 0;
}

/* The buffered text lines as one LOAD DATA read from memory, run by the
 * sender while the caller reads on (at most one LOAD in flight: memory
 * two chunks); its outcome is checked at the next flush or statement.
 * 0 / -1 (this or the previous LOAD failed). */
static int load_flush(jb_load *L)
{
    jb_my *m = L->my;
    if (load_wait(L)) {
        ut_buf_reset(&L->out);
        return -1;
    }
    if (!m->sender_on) {
        pthread_mutex_init(&m->mu, NULL);
        pthread_cond_init(&m->cv, NULL);
        if (pthread_create(&m->sender, NULL, sender_main, m)) {
            m->failed = 1;
            return jb__load_fail(L, UT_EINTERNAL, "mysql \"%s\": no thread for LOAD DATA", m->name);
        }
        m->sender_on = 1;
    }
    ut_buf t = m->chunk;
    m->chunk = L->out, L->out = t;
    ut_buf_reset(&L->out);
    ut_buf_reset(&m->q);
    load_sql(L, &m->q);
    m->lo = m->loaded + 1, m->hi = m->loaded = L->rows;
    pthread_mutex_lock(&m->mu);
    m->busy = 1;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    return 0;
}

int jb__my_flush(jb_load *L)
{
    if (!L->out.len) return 0;
    if (L->my_infile) return load_flush(L);
    ut_buf q = {0};
    wh_my_insert(&q, &L->plan);
    ut_buf_put(&q, L->out.p, L->out.len);
    wh_my_insert_end(&q, &L->plan);
    int rc = run(L, (const char *)q.p, q.len);
    ut_buf_free(&q);
    ut_buf_reset(&L->out);
    return rc;
}
