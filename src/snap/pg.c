/* snap: PostgreSQL as a snapshot source.
 *
 *   connect (pgfed's session: password_file, UTC, ISO dates, hex bytea)
 *   list     pg_class: tables, partitioned tables, views, materialized views
 *            and foreign tables the role may SELECT (partitions are read
 *            through their parent, so they are left out)
 *   begin    BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY: the columns and
 *            the rows come from one snapshot
 *   columns  pg_attribute + format_type; domains as their base type;
 *            numeric's typmod gives (p, s)
 *   rows     COPY (SELECT "c", ... FROM "s"."t" WHERE (...)) TO STDOUT, text
 *            form, sent and read asynchronously (PQsendQuery, PQgetCopyData)
 *            so a stop or the deadline cancels the statement within a second,
 *            also while it waits for a lock on the table
 *   end      COMMIT (ROLLBACK when the scan did not finish)
 */
#include "snap/sn_int.h"
#include "pgfed/pgfed.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pg_scan {
    char *row;     /* libpq's buffer of the current row (PQfreemem) */
    char **v;      /* fields of the row */
    size_t *n;
    int nsel;
    int in_txn, pending, in_copy, done; /* pending: the COPY sent, not yet answered */
} pg_scan;

static pgf_session *sess(sn_source *s) { return s->impl; }

sn_source *sn_open_postgres(const cf_postgres *p, char *err, size_t errlen)
{
    pgf_session *ps = pgf_session_open(p, "sluice-snapshot", err, errlen);
    if (!ps) return NULL;
    sn_source *s = ut_calloc(1, sizeof *s);
    s->ops = &sn__pg_ops;
    snprintf(s->name, sizeof s->name, "%s", p->name);
    s->impl = ps;
    return s;
}

static int pg_list(sn_source *s, char ***out, char *err, size_t errlen)
{
    static const char q[] =
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
        "AND NOT c.relispartition AND n.nspname <> 'information_schema' "
        "AND n.nspname NOT LIKE 'pg\\_%' AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1";
    PGresult *r = PQexec(pgf_session_pg(sess(s)), q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pgf_session_err(sess(s), r, err, errlen);
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (n > SN_MAX_TABLES) n = SN_MAX_TABLES;
    char **v = ut_calloc((size_t)n + 1, sizeof *v);
    for (int i = 0; i < n; i++) v[i] = ut_strdup(PQgetvalue(r, i, 0));
    PQclear(r);
    *out = v;
    return n;
}

/* (p, s) of a numeric typmod; -1 when unconstrained. */
static int numeric_typmod(int typmod, int *p, int *s)
{
    if (typmod < 4) return -1;
    *p = ((typmod - 4) >> 16) & 0xffff;
    int sc = (typmod - 4) & 0x7ff;
    *s = sc & 0x400 ? sc - 0x800 : sc; /* PostgreSQL 15 allows negative scales */
    return 0;
}

static void classify(sn_column *c, const char *base, int typmod)
{
    static const struct {
        const char *name;
        sn_class cls;
    } map[] = {{"bool", SN_BOOL},          {"int2", SN_INT32},       {"int4", SN_INT32},
               {"int8", SN_INT64},         {"oid", SN_INT64},        {"float4", SN_FLOAT},
               {"float8", SN_DOUBLE},      {"bytea", SN_BYTES},      {"date", SN_DATE},
               {"time", SN_TIME},          {"timestamptz", SN_TIMESTAMP},
               {"timestamp", SN_TIMESTAMP_NTZ}};
    c->cls = SN_STRING;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(base, map[i].name)) c->cls = map[i].cls;
    int p, s;
    if (!strcmp(base, "numeric") && !numeric_typmod(typmod, &p, &s) && p >= 1 && p <= 38 &&
        s >= 0 && s <= p)
        c->cls = SN_DECIMAL, c->precision = p, c->scale = s;
}

/* The columns of the table (in the scan's transaction). */
static int pg_columns(sn_scan *sc, const char *schema, const char *table, char *err,
                      size_t errlen)
{
    static const char q[] =
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(bt.typname, "
        "t.typname), CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, "
        "a.attnotnull, to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL, a.attnum, "
        "coalesce((SELECT array_position(string_to_array(i.indkey::text, ' ')::int2[], a.attnum) "
        "FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary), 0) FROM (SELECT 1) one "
        "LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) "
        "AND a.attnum > 0 AND NOT a.attisdropped LEFT JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype ORDER BY a.attnum";
    const char *params[2] = {schema, table};
    PGresult *r = PQexecParams(pgf_session_pg(sess(sc->src)), q, 2, NULL, params, NULL, NULL, 0);
    int rc = -1, n = PQntuples(r);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) pgf_session_err(sess(sc->src), r, err, errlen);
    else if (n < 1 || PQgetvalue(r, 0, 5)[0] != 't')
        ut_err(err, errlen, "postgres \"%s\": table %s does not exist (or the role may not see "
               "it)", sc->src->name, sc->table);
    else if (PQgetisnull(r, 0, 0))
        ut_err(err, errlen, "postgres \"%s\": table %s has no columns", sc->src->name, sc->table);
    else if (n > SN_MAX_COLUMNS)
        ut_err(err, errlen, "postgres \"%s\": table %s has %d columns (at most %d)",
               sc->src->name, sc->table, n, SN_MAX_COLUMNS);
    else
        rc = 0;
    if (rc == 0) {
        sc->cols = ut_calloc((size_t)n, sizeof *sc->cols);
        sc->ncols = n;
        for (int i = 0; i < n; i++) {
            sn_column *c = &sc->cols[i];
            snprintf(c->name, sizeof c->name, "%s", PQgetvalue(r, i, 0));
            snprintf(c->type, sizeof c->type, "%s", PQgetvalue(r, i, 1));
            classify(c, PQgetvalue(r, i, 2), atoi(PQgetvalue(r, i, 3)));
            c->not_null = PQgetvalue(r, i, 4)[0] == 't';
            c->position = atoi(PQgetvalue(r, i, 6));
            c->pk = atoi(PQgetvalue(r, i, 7));
        }
    }
    PQclear(r);
    return rc;
}

static int pg_begin(sn_scan *sc, const char *table, char *err, size_t errlen)
{
    char schema[128], name[128];
    if (sn__split_name(table, schema, sizeof schema, name, sizeof name))
        return ut_err(err, errlen, "postgres \"%s\": table '%s' is not schema.table",
                      sc->src->name, table);
    pg_scan *p = ut_calloc(1, sizeof *p);
    sc->impl = p;
    if (pgf_session_exec(sess(sc->src), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err,
                         errlen))
        return -1;
    p->in_txn = 1;
    if (sc->snapshot[0]) { /* another scan's: the first statement of the transaction */
        ut_buf q = {0};
        ut_buf_puts(&q, "SET TRANSACTION SNAPSHOT ");
        sn__quote_literal(&q, sc->snapshot);
        int rc = pgf_session_exec(sess(sc->src), ut_buf_cstr(&q), err, errlen);
        ut_buf_free(&q);
        if (rc) return -1;
    }
    return pg_columns(sc, schema, name, err, errlen);
}

static int pg_export(sn_scan *sc, char *id, size_t cap, char *err, size_t errlen)
{
    PGresult *r = PQexec(pgf_session_pg(sess(sc->src)), "SELECT pg_export_snapshot()");
    int rc = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        pgf_session_err(sess(sc->src), r, err, errlen);
    else if ((size_t)PQgetlength(r, 0, 0) >= cap)
        ut_err(err, errlen, "postgres \"%s\": a snapshot id over %zu bytes", sc->src->name, cap);
    else
        memcpy(id, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0) + 1), rc = 0;
    PQclear(r);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to a second for input; cancel the statement when asked to stop.
 * 0 go on, -1 with a message. */
static int wait_input(sn_scan *sc, const atomic_int *cancel, int64_t deadline_ms, char *err,
                      size_t errlen)
{
    PGconn *pg = pgf_session_pg(sess(sc->src));
    int stop = cancel && atomic_load(cancel), late = deadline_ms && now_ms() > deadline_ms;
    if (stop || late) {
        char e[256];
        PGcancel *k = PQgetCancel(pg);
        if (k) (void)PQcancel(k, e, sizeof e);
        PQfreeCancel(k);
        return ut_err(err, errlen, "postgres \"%s\": table %s: %s", sc->src->name, sc->table,
                      stop ? "stopped" : "the job's timeout passed");
    }
    struct pollfd fd = {.fd = PQsocket(pg), .events = POLLIN};
    if (poll(&fd, 1, 1000) < 0) return 0; /* EINTR: look again */
    if (!PQconsumeInput(pg)) return pgf_session_err(sess(sc->src), NULL, err, errlen);
    return 0;
}

/* "FROM "s"."t" [WHERE (...)]" of the scan. */
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

/* q, sent and waited for under the scan's limits (sn_scan_limits: a
 * statement waiting on a lock ends with a stop or the deadline): its last
 * result (PQclear it), or NULL with a message. */
static PGresult *exec_wait(sn_scan *sc, const char *q, char *err, size_t errlen)
{
    PGconn *pg = pgf_session_pg(sess(sc->src));
    if (!PQsendQuery(pg, q)) {
        pgf_session_err(sess(sc->src), NULL, err, errlen);
        return NULL;
    }
    int failed = 0;
    while (!failed && PQisBusy(pg))
        failed = wait_input(sc, sc->cancel, sc->deadline_ms, err, errlen) != 0;
    PGresult *r = NULL, *x;
    while ((x = PQgetResult(pg)) != NULL) { /* to the end (a cancel ends it soon) */
        PQclear(r);
        r = x;
    }
    if (failed) PQclear(r), r = NULL;
    return r;
}

/* "SELECT <agg>(col)::text[, ...] FROM ... WHERE ..." of the scan: one row,
 * its n text values into out[i][cap].  1, 0 when the first is NULL (no
 * rows), -1 with a message. */
static int aggregate(sn_scan *sc, const char *const *aggs, int n, const char *column,
                     char **out, size_t cap, char *err, size_t errlen)
{
    ut_buf q = {0};
    ut_buf_puts(&q, "SELECT ");
    for (int i = 0; i < n; i++) {
        ut_buf_printf(&q, "%s%s(", i ? ", " : "", aggs[i]);
        sn__quote_ident(&q, column);
        ut_buf_puts(&q, ")::text");
    }
    from_where(sc, &q);
    PGresult *r = exec_wait(sc, ut_buf_cstr(&q), err, errlen);
    ut_buf_free(&q);
    if (!r) return -1;
    int rc = 1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        rc = pgf_session_err(sess(sc->src), r, err, errlen);
    else if (PQgetisnull(r, 0, 0))
        rc = 0;
    for (int i = 0; rc == 1 && i < n; i++) {
        if ((size_t)PQgetlength(r, 0, i) >= cap)
            rc = ut_err(err, errlen, "column %s: its %s is over %zu bytes", column, aggs[i], cap - 1);
        else memcpy(out[i], PQgetvalue(r, 0, i), (size_t)PQgetlength(r, 0, i) + 1);
    }
    PQclear(r);
    return rc;
}

static int pg_range(sn_scan *sc, const char *column, char *lo, char *hi, size_t cap, char *err,
                    size_t errlen)
{
    static const char *const aggs[] = {"min", "max"};
    char *out[] = {lo, hi};
    return aggregate(sc, aggs, 2, column, out, cap, err, errlen);
}

static int pg_max(sn_scan *sc, const char *column, char *out, size_t cap, char *err,
                  size_t errlen)
{
    static const char *const aggs[] = {"max"};
    return aggregate(sc, aggs, 1, column, &out, cap, err, errlen);
}

/* Send the COPY; its first result is taken by pg_next, which can wait for
 * it a second at a time: the statement may block for as long as a lock on
 * the table is held (an ALTER TABLE of a migration), and a stop or the job's
 * timeout must still end it (PQexec here would wait without end). */
static int pg_start(sn_scan *sc, const int *sel, int nsel, char *err, size_t errlen)
{
    pg_scan *p = sc->impl;
    ut_buf q = {0};
    ut_buf_puts(&q, "COPY (SELECT ");
    for (int i = 0; i < nsel; i++) {
        if (i) ut_buf_puts(&q, ", ");
        sn__quote_ident(&q, sc->cols[sel[i]].name);
    }
    from_where(sc, &q);
    ut_buf_puts(&q, ") TO STDOUT");
    PGconn *pg = pgf_session_pg(sess(sc->src));
    int sent = PQsendQuery(pg, ut_buf_cstr(&q));
    ut_buf_free(&q);
    if (!sent) {
        int rc = pgf_session_err(sess(sc->src), NULL, err, errlen);
        size_t m = strlen(err);
        snprintf(err + m, errlen - m, " (table %s)", sc->table);
        return rc ? rc : -1;
    }
    p->pending = 1;
    p->nsel = nsel;
    p->v = ut_calloc((size_t)nsel, sizeof *p->v);
    p->n = ut_calloc((size_t)nsel, sizeof *p->n);
    return 0;
}

/* The COPY's first result (pg_start sent it): waits while the server has
 * not answered, giving up on a stop or the deadline.  0 / -1. */
static int copy_begun(sn_scan *sc, const atomic_int *cancel, int64_t deadline_ms, char *err,
                      size_t errlen)
{
    pg_scan *p = sc->impl;
    PGconn *pg = pgf_session_pg(sess(sc->src));
    while (PQisBusy(pg))
        if (wait_input(sc, cancel, deadline_ms, err, errlen)) return -1;
    PGresult *r = PQgetResult(pg);
    p->pending = 0;
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        (void)pgf_session_err(sess(sc->src), r, err, errlen);
        size_t m = strlen(err);
        snprintf(err + m, errlen - m, " (table %s)", sc->table);
        rc = -1;
    }
    PQclear(r);
    if (rc) { /* drain to the end of the statement */
        while ((r = PQgetResult(pg)) != NULL) PQclear(r);
        return -1;
    }
    p->in_copy = 1;
    return 0;
}

/* The COPY ended (-1 from PQgetCopyData): its result.  0 or -1. */
static int copy_result(sn_scan *sc, char *err, size_t errlen)
{
    pg_scan *p = sc->impl;
    PGconn *pg = pgf_session_pg(sess(sc->src));
    int rc = 0;
    PGresult *r;
    while ((r = PQgetResult(pg)) != NULL) {
        if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pgf_session_err(sess(sc->src), r, err, errlen);
        PQclear(r);
    }
    p->in_copy = 0;
    p->done = rc == 0;
    return rc;
}

static int pg_next(sn_scan *sc, const char **v, size_t *n, const atomic_int *cancel,
                   int64_t deadline_ms, char *err, size_t errlen)
{
    pg_scan *p = sc->impl;
    PGconn *pg = pgf_session_pg(sess(sc->src));
    if (p->row) PQfreemem(p->row), p->row = NULL;
    if (p->pending && copy_begun(sc, cancel, deadline_ms, err, errlen)) return -1;
    if (!p->in_copy) return 0;
    for (;;) {
        int len = PQgetCopyData(pg, &p->row, 1);
        if (len == 0) {
            if (wait_input(sc, cancel, deadline_ms, err, errlen)) return -1;
            continue;
        }
        if (len == -1) return copy_result(sc, err, errlen) ? -1 : 0;
        if (len < 0) return pgf_session_err(sess(sc->src), NULL, err, errlen);
        char m[200];
        int nf = sn_copy_split(p->row, (size_t)len, p->v, p->n, p->nsel, m, sizeof m);
        if (nf != p->nsel)
            return ut_err(err, errlen, "postgres \"%s\": table %s: %s", sc->src->name, sc->table,
                          nf < 0 ? m : "a COPY row with too few fields");
        for (int i = 0; i < nf; i++) v[i] = p->v[i], n[i] = p->n[i];
        return 1;
    }
}

static void pg_end(sn_scan *sc)
{
    pg_scan *p = sc->impl;
    if (!p) return;
    PGconn *pg = pgf_session_pg(sess(sc->src));
    char e[256];
    if (p->row) PQfreemem(p->row);
    if (p->in_copy || p->pending) { /* unfinished: cancel it and drain what is in flight */
        PGcancel *k = PQgetCancel(pg);
        if (k) (void)PQcancel(k, e, sizeof e);
        PQfreeCancel(k);
        for (;;) {
            char *buf = NULL;
            if (p->in_copy)
                while (PQgetCopyData(pg, &buf, 0) > 0) PQfreemem(buf), buf = NULL;
            PGresult *r = PQgetResult(pg);
            if (!r) break;
            p->in_copy = PQresultStatus(r) == PGRES_COPY_OUT;
            PQclear(r);
        }
        p->in_copy = p->pending = 0;
    }
    if (p->in_txn)
        (void)pgf_session_exec(sess(sc->src), p->done ? "COMMIT" : "ROLLBACK", e, sizeof e);
    free(p->v);
    free(p->n);
    free(p);
    sc->impl = NULL;
}

static void pg_close(sn_source *s) { pgf_session_close(sess(s)); }

const sn_ops sn__pg_ops = {.name = "postgres", .list = pg_list, .begin = pg_begin, .max = pg_max,
                           .range = pg_range, .export_snapshot = pg_export, .start = pg_start,
                           .next = pg_next, .end = pg_end, .close = pg_close};
