/* snap: MySQL and MariaDB as a snapshot source (libmariadb, Connector/C).
 *
 *   connect  password_file, utf8mb4, time_zone '+00:00' (TIMESTAMP values
 *            come as UTC), sql_mode ANSI_QUOTES + NO_BACKSLASH_ESCAPES (so
 *            source.c's "ident" and 'literal' quoting means what it says) and
 *            neither NO_ZERO_DATE nor NO_ZERO_IN_DATE (zero dates come
 *            through, to be stored NULL and counted), REPEATABLE READ
 *   list     information_schema.tables the user can see, but the system
 *            databases; "database.table"
 *   begin    START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY, then
 *            information_schema.columns (ORDINAL_POSITION, COLUMN_TYPE)
 *   rows     SELECT "c", ... FROM "db"."t" WHERE (...) through
 *            mysql_use_result: streamed, one row in memory, fields as text.
 *            The server sends nothing until it has a buffer of rows (or the
 *            statement ends), so the answer is awaited a second in start
 *            and otherwise read by the first next, under the watchdog
 *   stop     the reads block, so a watchdog thread watches the cancel
 *            flag and the deadline and sends KILL QUERY <id> through a
 *            second connection (a user may kill its own threads); if that
 *            connection cannot be made, or the fetch is still blocked 3 s
 *            later, it shuts the socket down.  Either way the blocked fetch
 *            returns within about a second.
 *   end      COMMIT, or ROLLBACK after KILL QUERY when the rows were not all
 *            read (so freeing the result does not drain the rest of the
 *            table)
 *
 * Values: tinyint(1) is MySQL's BOOL ("nonzero values are true": any value
 * but 0 is "1"); BIT(n) arrives as n/8 raw big-endian bytes and is turned
 * into decimal text here; FLOAT is selected as a double so its text keeps
 * every digit; binary strings and blobs are SN_BINARY, the raw bytes. */
#include "snap/sn_int.h"

#include <mysql.h>
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MY_MAX_PASSWORD 1024
#define MY_KILL_GRACE_MS 3000 /* after KILL QUERY, how long before the socket is shut */

enum { MY_TEXT, MY_BOOL, MY_BIT, MY_FLOAT }; /* how a column's text is read */

typedef struct my_src {
    MYSQL *db;
    char *host, *socket, *user, *database;
    unsigned port, timeout_s;
    char password[MY_MAX_PASSWORD + 1];
    int have_password;
    int broken;  /* the socket was shut: no more statements */
} my_src;

typedef struct my_scan {
    uint8_t *form;  /* per source column: MY_* */
    MYSQL_RES *res;
    int *sel, nsel;
    char (*num)[24]; /* per selected column: BIT values as decimal text */
    int sent;       /* the SELECT is sent, its answer not read yet */
    int in_txn, done;
    /* the watchdog */
    pthread_t wd;
    int wd_on;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const atomic_int *cancel; /* as the last sn_scan_next passed them */
    int64_t deadline_ms;
    int quit, seen;
    atomic_int fired;         /* 0, 1 stopped, 2 the deadline passed */
} my_scan;

static my_src *src_of(sn_source *s) { return s->impl; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connecting -------------------------------------------------------------------- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { (void)mysql_library_init(0, NULL, NULL); }

/* A connection as m says, with the session sluice reads in.  NULL with
 * mysql's message (never the password) in err. */
static MYSQL *connect_db(const my_src *m, unsigned timeout_s, int killer, char *err,
                         size_t errlen)
{
    pthread_once(&lib_once, lib_init);
    MYSQL *db = mysql_init(NULL);
    if (!db) return ut_err(err, errlen, "out of memory"), NULL;
    unsigned long maxp = SN_MAX_ROW_BYTES;
    unsigned io_s = 10;
    my_bool off = 0;
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(db, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
    mysql_options(db, MYSQL_OPT_LOCAL_INFILE, &off);
    mysql_options(db, MYSQL_OPT_RECONNECT, &off);
    if (killer) { /* the KILL connection must not hang on a wedged server */
        mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &io_s);
        mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
    }
    const char *host = m->socket[0] ? "localhost" : m->host;
    if (!mysql_real_connect(db, host, m->user, m->have_password ? m->password : NULL,
                            m->database[0] ? m->database : NULL, m->port,
                            m->socket[0] ? m->socket : NULL, 0)) {
        char where[300];
        if (m->socket[0]) snprintf(where, sizeof where, "%s", m->socket);
        else snprintf(where, sizeof where, "%s:%u", m->host, m->port);
        ut_err(err, errlen, "cannot connect to %s: %s", where, mysql_error(db));
        mysql_close(db);
        return NULL;
    }
    return db;
}

static int exec(sn_source *s, const char *q, char *err, size_t errlen)
{
    MYSQL *db = src_of(s)->db;
    if (!mysql_query(db, q)) return 0;
    return ut_err(err, errlen, "mysql \"%s\": %s", s->name, mysql_error(db));
}

static int read_password(const cf_mysql *c, my_src *m, char *err, size_t errlen)
{
    if (!c->password_file || !c->password_file[0]) return 0;
    FILE *f = fopen(c->password_file, "r");
    if (!f)
        return ut_err(err, errlen, "mysql \"%s\": password_file %s: %s", c->name,
                      c->password_file, strerror(errno));
    if (!fgets(m->password, sizeof m->password, f)) m->password[0] = 0;
    fclose(f);
    m->password[strcspn(m->password, "\r\n")] = 0;
    m->have_password = 1;
    return 0;
}

static void src_free(my_src *m)
{
    if (!m) return;
    if (m->db) mysql_close(m->db);
    free(m->host), free(m->socket), free(m->user), free(m->database);
    memset(m->password, 0, sizeof m->password);
    free(m);
}

static const char session_sql[] =
    "SET SESSION time_zone = '+00:00', SESSION sql_mode = "
    "'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION', SESSION net_write_timeout = 600";

sn_source *sn_open_mysql(const cf_mysql *c, char *err, size_t errlen)
{
    my_src *m = ut_calloc(1, sizeof *m);
    m->host = ut_strdup(c->host && c->host[0] ? c->host : "127.0.0.1");
    m->socket = ut_strdup(c->socket ? c->socket : "");
    m->user = ut_strdup(c->user ? c->user : "");
    m->database = ut_strdup(c->database ? c->database : "");
    m->port = (unsigned)c->port;
    m->timeout_s = c->connect_timeout_ms >= 1000 ? (unsigned)(c->connect_timeout_ms / 1000) : 10;
    sn_source *s = ut_calloc(1, sizeof *s);
    s->ops = &sn__mysql_ops;
    snprintf(s->name, sizeof s->name, "%s", c->name);
    s->impl = m;
    char e[400];
    if (read_password(c, m, err, errlen)) goto fail;
    if (!(m->db = connect_db(m, m->timeout_s, 0, e, sizeof e))) {
        ut_err(err, errlen, "mysql \"%s\": %s", c->name, e);
        goto fail;
    }
    if (exec(s, session_sql, err, errlen) ||
        exec(s, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err, errlen))
        goto fail;
    return s;
fail:
    src_free(m);
    free(s);
    return NULL;
}

/* ---- list -------------------------------------------------------------------------- */

static int my_list(sn_source *s, char ***out, char *err, size_t errlen)
{
    char q[512];
    snprintf(q, sizeof q,
             "SELECT concat(table_schema, '.', table_name) FROM information_schema.tables "
             "WHERE table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', "
             "'sys') AND table_type IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') "
             "ORDER BY 1 LIMIT %d", SN_MAX_TABLES);
    MYSQL *db = src_of(s)->db;
    MYSQL_RES *r = NULL;
    if (exec(s, q, err, errlen)) return -1;
    if (!(r = mysql_store_result(db)))
        return ut_err(err, errlen, "mysql \"%s\": %s", s->name, mysql_error(db));
    int n = (int)mysql_num_rows(r), k = 0;
    char **v = ut_calloc((size_t)n + 1, sizeof *v);
    MYSQL_ROW row;
    while (k < n && (row = mysql_fetch_row(r)))
        if (row[0]) v[k++] = ut_strdup(row[0]);
    mysql_free_result(r);
    *out = v;
    return k;
}

/* ---- begin: the transaction and the columns ---------------------------------------- */

/* The class of a column from information_schema's DATA_TYPE (lowercase),
 * COLUMN_TYPE (c->type) and NUMERIC_PRECISION / SCALE. */
static void classify(sn_column *c, const char *dt, long prec, long scale, uint8_t *form)
{
    static const char *const bin[] = {"binary", "varbinary", "tinyblob", "blob", "mediumblob",
                                      "longblob", "geometry", "point", "linestring", "polygon",
                                      "multipoint", "multilinestring", "multipolygon",
                                      "geometrycollection"};
    int uns = strstr(c->type, "unsigned") != NULL;
    *form = MY_TEXT;
    c->cls = SN_STRING;
    if (!strcmp(dt, "tinyint") && !strncmp(c->type, "tinyint(1)", 10))
        c->cls = SN_BOOL, *form = MY_BOOL;
    else if (!strcmp(dt, "tinyint") || !strcmp(dt, "smallint") || !strcmp(dt, "mediumint") ||
             !strcmp(dt, "year"))
        c->cls = SN_INT32;
    else if (!strcmp(dt, "int") || !strcmp(dt, "integer"))
        c->cls = uns ? SN_INT64 : SN_INT32;
    else if (!strcmp(dt, "bigint") && uns) /* up to 2^64-1: no int64 holds it */
        c->cls = SN_DECIMAL, c->precision = 20, c->scale = 0;
    else if (!strcmp(dt, "bigint"))
        c->cls = SN_INT64;
    else if (!strcmp(dt, "float"))
        c->cls = SN_FLOAT, *form = MY_FLOAT;
    else if (!strcmp(dt, "double") || !strcmp(dt, "real"))
        c->cls = SN_DOUBLE;
    else if ((!strcmp(dt, "decimal") || !strcmp(dt, "numeric")) && prec >= 1 && prec <= 38 &&
             scale >= 0 && scale <= prec)
        c->cls = SN_DECIMAL, c->precision = (int)prec, c->scale = (int)scale;
    else if (!strcmp(dt, "date"))
        c->cls = SN_DATE;
    else if (!strcmp(dt, "datetime"))
        c->cls = SN_TIMESTAMP_NTZ;
    else if (!strcmp(dt, "timestamp"))
        c->cls = SN_TIMESTAMP;
    else if (!strcmp(dt, "time"))
        c->cls = SN_TIME;
    else if (!strcmp(dt, "bit"))
        c->cls = prec == 1 ? SN_BOOL : prec <= 63 ? SN_INT64 : SN_DECIMAL, *form = MY_BIT;
    for (size_t i = 0; i < sizeof bin / sizeof *bin; i++)
        if (!strcmp(dt, bin[i])) c->cls = SN_BINARY;
    if (*form == MY_BIT && c->cls == SN_DECIMAL) c->precision = 20, c->scale = 0;
}

static int fill_columns(sn_scan *sc, MYSQL_RES *r, int n)
{
    my_scan *m = sc->impl;
    sc->cols = ut_calloc((size_t)n, sizeof *sc->cols);
    m->form = ut_calloc((size_t)n, 1);
    MYSQL_ROW row;
    while (sc->ncols < n && (row = mysql_fetch_row(r))) {
        sn_column *c = &sc->cols[sc->ncols];
        snprintf(c->name, sizeof c->name, "%s", row[0] ? row[0] : "");
        snprintf(c->type, sizeof c->type, "%s", row[1] ? row[1] : "");
        classify(c, row[2] ? row[2] : "", row[3] ? atol(row[3]) : 0, row[4] ? atol(row[4]) : 0,
                 &m->form[sc->ncols]);
        c->not_null = row[5] && !strcmp(row[5], "NO");
        c->position = row[6] ? atoi(row[6]) : sc->ncols + 1;
        c->pk = row[7] ? atoi(row[7]) : 0;
        sc->ncols++;
    }
    return 0;
}

static int my_columns(sn_scan *sc, const char *schema, const char *table, char *err,
                      size_t errlen)
{
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT column_name, column_type, lower(data_type), numeric_precision, "
                    "numeric_scale, is_nullable, ordinal_position, (SELECT k.ordinal_position "
                    "FROM information_schema.key_column_usage k WHERE k.constraint_name = "
                    "'PRIMARY' AND k.table_schema = c.table_schema AND k.table_name = "
                    "c.table_name AND k.column_name = c.column_name) FROM "
                    "information_schema.columns c WHERE table_schema = ");
    sn__quote_literal(&q, schema);
    ut_buf_puts(&q, " AND table_name = ");
    sn__quote_literal(&q, table);
    ut_buf_printf(&q, " ORDER BY ordinal_position LIMIT %d", SN_MAX_COLUMNS + 1);
    int rc = exec(sc->src, ut_buf_cstr(&q), err, errlen);
    ut_buf_free(&q);
    if (rc) return -1;
    MYSQL *db = src_of(sc->src)->db;
    MYSQL_RES *r = mysql_store_result(db);
    if (!r) return ut_err(err, errlen, "mysql \"%s\": %s", sc->src->name, mysql_error(db));
    int n = (int)mysql_num_rows(r);
    if (n < 1)
        rc = ut_err(err, errlen, "mysql \"%s\": table %s does not exist (or the user may not "
                    "see it)", sc->src->name, sc->table);
    else if (n > SN_MAX_COLUMNS)
        rc = ut_err(err, errlen, "mysql \"%s\": table %s has over %d columns", sc->src->name,
                    sc->table, SN_MAX_COLUMNS);
    else
        rc = fill_columns(sc, r, n);
    mysql_free_result(r);
    return rc;
}

static int my_begin(sn_scan *sc, const char *table, char *err, size_t errlen)
{
    char schema[128], name[128];
    if (sn__split_name(table, schema, sizeof schema, name, sizeof name))
        return ut_err(err, errlen, "mysql \"%s\": table '%s' is not database.table",
                      sc->src->name, table);
    my_scan *m = ut_calloc(1, sizeof *m);
    sc->impl = m;
    if (src_of(sc->src)->broken)
        return ut_err(err, errlen, "mysql \"%s\": the connection was cut by a stop",
                      sc->src->name);
    if (exec(sc->src, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err, errlen))
        return -1;
    m->in_txn = 1;
    return my_columns(sc, schema, name, err, errlen);
}

/* " FROM "db"."t" [WHERE (...)]" of the scan. */
static void from_where(const sn_scan *sc, ut_buf *q)
{
    char schema[128], name[128];
    (void)sn__split_name(sc->table, schema, sizeof schema, name, sizeof name);
    ut_buf_puts(q, " FROM ");
    sn__quote_ident(q, schema);
    ut_buf_putc(q, '.');
    sn__quote_ident(q, name);
    if (sc->where[0]) ut_buf_printf(q, " WHERE (%s\n)", sc->where); /* sn_where_after: why \n */
}

static int my_max(sn_scan *sc, const char *column, char *out, size_t cap, char *err,
                  size_t errlen)
{
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT max(");
    sn__quote_ident(&q, column);
    ut_buf_putc(&q, ')');
    from_where(sc, &q);
    int rc = exec(sc->src, ut_buf_cstr(&q), err, errlen);
    ut_buf_free(&q);
    if (rc) return -1;
    MYSQL *db = src_of(sc->src)->db;
    MYSQL_RES *r = mysql_store_result(db);
    if (!r) return ut_err(err, errlen, "mysql \"%s\": %s", sc->src->name, mysql_error(db));
    MYSQL_ROW row = mysql_fetch_row(r);
    unsigned long *len = row ? mysql_fetch_lengths(r) : NULL;
    rc = 0;
    if (!row || !len)
        rc = ut_err(err, errlen, "mysql \"%s\": max(%s) gave no row", sc->src->name, column);
    else if (row[0] && len[0] >= cap)
        rc = ut_err(err, errlen, "cursor %s: its largest value is over %zu bytes", column,
                    cap - 1);
    else if (row[0])
        memcpy(out, row[0], len[0]), out[len[0]] = 0, rc = 1;
    mysql_free_result(r);
    return rc;
}

/* ---- stopping a blocked fetch ------------------------------------------------------ */

/* Make the scan's statement stop: KILL QUERY through a second connection,
 * else shut the socket (the server then rolls the transaction back). */
static void interrupt(sn_source *s)
{
    my_src *m = src_of(s);
    char e[400], q[64];
    MYSQL *kdb = connect_db(m, m->timeout_s < 5 ? m->timeout_s : 5, 1, e, sizeof e);
    snprintf(q, sizeof q, "KILL QUERY %lu", mysql_thread_id(m->db));
    int ok = kdb && !mysql_query(kdb, q);
    if (kdb) mysql_close(kdb);
    if (!ok) {
        (void)shutdown(mysql_get_socket(m->db), SHUT_RDWR);
        m->broken = 1;
    }
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) ts->tv_sec++, ts->tv_nsec -= 1000000000;
}

/* The watchdog: every 100 ms, is the scan to stop?  Then interrupt it, and
 * if the fetch has not returned MY_KILL_GRACE_MS later, cut the socket. */
static void *watchdog(void *arg)
{
    sn_scan *sc = arg;
    my_scan *m = sc->impl;
    struct timespec ts;
    pthread_mutex_lock(&m->mu);
    while (!m->quit) {
        int stop = m->cancel && atomic_load(m->cancel);
        int late = m->deadline_ms && now_ms() > m->deadline_ms;
        if (stop || late) {
            atomic_store(&m->fired, stop ? 1 : 2);
            pthread_mutex_unlock(&m->mu);
            interrupt(sc->src);
            pthread_mutex_lock(&m->mu);
            deadline_in(&ts, MY_KILL_GRACE_MS);
            while (!m->quit && !m->seen)
                if (pthread_cond_timedwait(&m->cv, &m->mu, &ts) == ETIMEDOUT) break;
            if (!m->quit && !m->seen) {
                (void)shutdown(mysql_get_socket(src_of(sc->src)->db), SHUT_RDWR);
                src_of(sc->src)->broken = 1;
            }
            while (!m->quit) pthread_cond_wait(&m->cv, &m->mu);
            break;
        }
        deadline_in(&ts, 100);
        (void)pthread_cond_timedwait(&m->cv, &m->mu, &ts);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

static void watchdog_stop(my_scan *m)
{
    if (!m->wd_on) return;
    pthread_mutex_lock(&m->mu);
    m->quit = 1;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->wd, NULL);
    m->wd_on = 0;
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
}

/* ---- rows -------------------------------------------------------------------------- */

/* The answer to the SELECT (after mysql_send_query): its result, streamed.
 * Blocks until the server sends the first rows (the watchdog may KILL it). */
static int read_result(sn_scan *sc, char *err, size_t errlen);

static int start_watchdog(sn_scan *sc, char *err, size_t errlen)
{
    my_scan *m = sc->impl;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    if (pthread_create(&m->wd, NULL, watchdog, sc)) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        return ut_err(err, errlen, "mysql \"%s\": cannot start a thread", sc->src->name);
    }
    m->wd_on = 1;
    return 0;
}

/* The SELECT is sent here; the server answers when it has rows (or the
 * statement ends), which for a slow `where` can be long after.  An answer
 * within a second (a `where` that does not parse, most scans) is read here;
 * a later one by the first sn_scan_next, where the cancel flag and the
 * deadline are known to the watchdog. */
static int my_start(sn_scan *sc, const int *sel, int nsel, char *err, size_t errlen)
{
    my_scan *m = sc->impl;
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT ");
    for (int i = 0; i < nsel; i++) {
        if (i) ut_buf_puts(&q, ", ");
        /* FLOAT's own text has 6 digits; as a double it has all of them */
        if (m->form[sel[i]] == MY_FLOAT) ut_buf_putc(&q, '(');
        sn__quote_ident(&q, sc->cols[sel[i]].name);
        if (m->form[sel[i]] == MY_FLOAT) ut_buf_puts(&q, " + 0e0)");
    }
    from_where(sc, &q);
    MYSQL *db = src_of(sc->src)->db;
    int rc = mysql_send_query(db, ut_buf_cstr(&q), (unsigned long)q.len);
    ut_buf_free(&q);
    if (rc)
        return ut_err(err, errlen, "mysql \"%s\": %s (table %s)", sc->src->name,
                      mysql_error(db), sc->table);
    m->nsel = nsel;
    m->sel = ut_calloc((size_t)nsel, sizeof *m->sel);
    memcpy(m->sel, sel, (size_t)nsel * sizeof *sel);
    m->num = ut_calloc((size_t)nsel, sizeof *m->num);
    m->sent = 1;
    if (start_watchdog(sc, err, errlen)) return -1;
    struct pollfd fd = {.fd = mysql_get_socket(db), .events = POLLIN};
    if (poll(&fd, 1, 1000) == 1) return read_result(sc, err, errlen);
    return 0;
}

/* Field i of a row into its text: BIT's bytes as a number, BOOL's as 0/1. */
static void field(my_scan *m, int i, const char *p, unsigned long len, const char **v,
                  size_t *n)
{
    *v = p, *n = len;
    if (!p) return;
    switch (m->form[m->sel[i]]) {
    case MY_BOOL: /* MySQL's BOOL: nonzero is true */
        *v = len == 1 && p[0] == '0' ? "0" : "1", *n = 1;
        break;
    case MY_BIT: {
        uint64_t x = 0;
        for (unsigned long k = 0; k < len && k < 8; k++) x = x << 8 | (uint8_t)p[k];
        *n = (size_t)snprintf(m->num[i], sizeof m->num[i], "%llu", (unsigned long long)x);
        *v = m->num[i];
        break;
    }
    default: break;
    }
}

static int fetch_error(sn_scan *sc, char *err, size_t errlen)
{
    my_scan *m = sc->impl;
    int f = atomic_load(&m->fired);
    if (m->wd_on) {
        pthread_mutex_lock(&m->mu);
        m->seen = 1;
        pthread_cond_broadcast(&m->cv);
        pthread_mutex_unlock(&m->mu);
    }
    if (f)
        return ut_err(err, errlen, "mysql \"%s\": table %s: %s", sc->src->name, sc->table,
                      f == 1 ? "stopped" : "the job's timeout passed");
    return ut_err(err, errlen, "mysql \"%s\": table %s: %s", sc->src->name, sc->table,
                  mysql_error(src_of(sc->src)->db));
}

static int read_result(sn_scan *sc, char *err, size_t errlen)
{
    my_scan *m = sc->impl;
    MYSQL *db = src_of(sc->src)->db;
    m->sent = 0;
    if (mysql_read_query_result(db) || !(m->res = mysql_use_result(db))) {
        if (atomic_load(&m->fired)) return fetch_error(sc, err, errlen);
        return ut_err(err, errlen, "mysql \"%s\": %s (table %s)", sc->src->name,
                      mysql_error(db), sc->table);
    }
    if ((int)mysql_num_fields(m->res) != m->nsel)
        return ut_err(err, errlen, "mysql \"%s\": table %s: %u fields for %d columns",
                      sc->src->name, sc->table, mysql_num_fields(m->res), m->nsel);
    return 0;
}

static int my_next(sn_scan *sc, const char **v, size_t *n, const atomic_int *cancel,
                   int64_t deadline_ms, char *err, size_t errlen)
{
    my_scan *m = sc->impl;
    if (m->done || (!m->res && !m->sent)) return 0;
    assert(m->wd_on);
    pthread_mutex_lock(&m->mu);
    m->cancel = cancel, m->deadline_ms = deadline_ms;
    pthread_mutex_unlock(&m->mu);
    if (atomic_load(&m->fired)) return fetch_error(sc, err, errlen);
    if (m->sent && read_result(sc, err, errlen)) return -1;
    MYSQL_ROW row = mysql_fetch_row(m->res);
    if (!row) {
        if (mysql_errno(src_of(sc->src)->db) || atomic_load(&m->fired))
            return fetch_error(sc, err, errlen);
        m->done = 1;
        return 0;
    }
    unsigned long *len = mysql_fetch_lengths(m->res);
    if (!len) return fetch_error(sc, err, errlen);
    for (int i = 0; i < m->nsel; i++) field(m, i, row[i], len[i], &v[i], &n[i]);
    return 1;
}

static void my_end(sn_scan *sc)
{
    my_scan *m = sc->impl;
    if (!m) return;
    my_src *s = src_of(sc->src);
    int fired = atomic_load(&m->fired);
    watchdog_stop(m);
    if (m->res || m->sent) {
        /* freeing an unfinished result reads the rest of it: stop the server first */
        if (!m->done && !fired && !s->broken) interrupt(sc->src);
        if (m->sent && !s->broken && !mysql_read_query_result(s->db))
            m->res = mysql_use_result(s->db);
        if (m->res) mysql_free_result(m->res);
    }
    if (m->in_txn && !s->broken) (void)mysql_query(s->db, m->done ? "COMMIT" : "ROLLBACK");
    free(m->form);
    free(m->sel);
    free(m->num);
    free(m);
    sc->impl = NULL;
}

static void my_close(sn_source *s) { src_free(src_of(s)); }

const sn_ops sn__mysql_ops = {.name = "mysql", .list = my_list, .begin = my_begin, .max = my_max,
                              .start = my_start, .next = my_next, .end = my_end,
                              .close = my_close}; /* no shared snapshots: no parallel reads */
