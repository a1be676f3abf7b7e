/* POST /v1/query — SQL over the lake (and the journal tail) from the server.
 *
 *   body: {"sql": "...", "format": "json|ndjson|csv|tsv|parquet", "limit": N, "timeout_ms": N,
 *          "stats": true (ndjson only: a last line {"_sluice_stats": {...}}),
 *          "params": [{"name":"d","type":"date","value":"2024-05-01"}, ...],
 *          "bucket": {"x":..,"y":[..],"points":N,"agg":..} (bucket.c: a chart's points)}
 *         or {"saved_query": ID, "params": {"d": "2024-05-01"}, ...}: a saved
 *         query's SQL and parameter definitions (params.c, saved.c)
 *         or the SQL text itself, with ?format=&limit=&timeout_ms= in the URL
 *
 * The query runs read-only in its own engine on a producer thread that writes
 * the formatted result into a pipe; the response reads the pipe as the client
 * takes it, so millions of rows stream without being held in memory.  An
 * error before the first byte is answered with a status from its kind (400
 * bad SQL, 403 not allowed, 408 timed out, 413 memory or temp storage cap)
 * and SQLite's message (and the position); an error later ends the result
 * properly (JSON: the array is closed) and is reported in the HTTP trailer
 * X-Sluice-Error, and also as a final line for NDJSON ({"error": ...}) and
 * CSV/TSV ("# error: ..."); a Parquet result that fails is left without its
 * footer, so no reader takes it for complete.  Parquet streams in row groups
 * of 65,536 rows (sql/output.h), so its memory is bounded too.  A statement without result columns (CREATE
 * TABLE AS, INSERT) answers {"rows_written": N}.  `limit` caps the rows (the
 * stream ends after them; default and maximum 10M), `timeout_ms` the time
 * (default 30 s; more than 10 min is refused).  A download (downloads.c)
 * has no row cap unless `limit` asks for one, and may run up to 6 h.  At
 * most SV__MAX_QUERIES run at once; beyond that the answer is 429 with
 * Retry-After.  Queries on a
 * read token write nothing (not even temp tables) and none may read
 * arbitrary files. */
#include "config/config.h"
#include "server/sv_int.h"
#include "sql/output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SQL_BYTES (1u << 20)
#define DEFAULT_TIMEOUT_MS 30000
#define MAX_TIMEOUT_MS 600000
#define DEFAULT_MAX_ROWS 10000000LL
#define MAX_DOWNLOAD_TIMEOUT_MS 21600000LL /* 6 h: a download has no row cap */

typedef struct query_ctx {
    sv_server *s;
    char *sql;
    sq_format fmt;
    int64_t limit, rows;
    int64_t timeout_ms;
    int rfd, wfd;              /* pipe: producer writes wfd, the response reads rfd */
    int cfd;                   /* the client's socket: watched while waiting for rows */
    int pfd;                   /* the producer's write end (it closes it); wfd is -1 once
                                  the producer runs, so it is closed exactly once */
    pthread_t thread;
    int started;
    volatile int done, failed, truncated, cancelled;
    int counted;               /* holds a slot of s->queries */
    int headers;               /* a statement with result columns ran */
    int stats;                 /* "stats": true — NDJSON ends with the plan and what was read */
    ut_errkind kind;           /* of the failure */
    struct MHD_Response *resp; /* for the error trailer */
    sq_engine *e;
    sq_sink inner;             /* the formatter's sink */
    char err[1024];
    int64_t saved_id;          /* "saved_query" */
    char *params;              /* the raw "params" JSON (array: definitions, object: values) */
    char *bucket;              /* the raw "bucket" JSON (bucket.c), or NULL */
    sv_bound bound;            /* the SQL with :name and the values bound */
} query_ctx;

/* Row sink wrapper: counts rows and stops at the limit or on cancel. */
static int q_header(void *c, sqlite3_stmt *st)
{
    query_ctx *q = c;
    q->headers = 1;
    return q->inner.header ? q->inner.header(q->inner.ctx, st) : 0;
}

static int q_row(void *c, sqlite3_stmt *st)
{
    query_ctx *q = c;
    if (q->cancelled) return 1;
    if (q->rows >= q->limit) {
        q->truncated = 1;
        return 1;
    }
    q->rows++;
    return q->inner.row(q->inner.ctx, st);
}

static int plan_row(void *ctx, sqlite3_stmt *st)
{
    ut_buf *b = ctx;
    const char *d = (const char *)sqlite3_column_text(st, 3);
    if (b->len > 1) ut_buf_putc(b, ',');
    ut_json_str(b, d ? d : "", d ? strlen(d) : 0);
    return b->len > 64 * 1024; /* a plan that long is cut */
}

/* The plan of q->sql as a JSON array into plan ("[]" when it has none). */
static void query_plan(query_ctx *q, ut_buf *plan)
{
    char err[512];
    ut_buf sql = {0};
    ut_buf_printf(&sql, "EXPLAIN QUERY PLAN %s", q->sql);
    ut_buf_putc(plan, '[');
    sq_sink ps = {plan, NULL, plan_row};
    (void)sq_query(q->e, ut_buf_cstr(&sql), &ps, err, sizeof err);
    ut_buf_putc(plan, ']');
    ut_buf_free(&sql);
}

/* The last line of a "stats" NDJSON result: {"_sluice_stats": {...}}. */
static void write_stats(query_ctx *q, const ut_buf *plan, FILE *f)
{
    sq_stats st;
    sq_get_stats(q->e, &st);
    fprintf(f, "{\"_sluice_stats\":{\"rows\":%lld,\"scans\":%lld,\"partitions_read\":%lld,"
               "\"partitions_total\":%lld,\"files_read\":%lld,\"files_total\":%lld,"
               "\"row_groups_read\":%lld,\"row_groups_total\":%lld,\"bytes_read\":%lld,"
               "\"bytes_total\":%lld,\"rows_from_files\":%lld,\"rows_from_tail\":%lld,"
               "\"limit_stops\":%s,\"plan\":%s}}\n",
            (long long)q->rows, (long long)st.scans, (long long)st.partitions_read,
            (long long)st.partitions_total, (long long)st.files_read, (long long)st.files_total,
            (long long)st.row_groups_read, (long long)st.row_groups_total, (long long)st.bytes_read,
            (long long)st.bytes_total, (long long)st.rows_read, (long long)st.tail_records,
            st.limit_stops ? "true" : "false", ut_buf_cstr(plan));
}

static void *produce(void *arg)
{
    query_ctx *q = arg;
    FILE *f = fdopen(q->pfd, "w");
    if (!f) {
        snprintf(q->err, sizeof q->err, "cannot open the result pipe");
        q->failed = 1;
        close(q->pfd);
        goto out;
    }
    setvbuf(f, NULL, _IOFBF, 64 << 10);
    sq_out *o = sq_out_create(f, q->fmt, NULL);
    sq_out_sink(o, &q->inner);
    sq_sink outer = {q, q_header, q_row};
    ut_buf plan = {0};
    if (q->stats) query_plan(q, &plan);
    int64_t n = sq_query(q->e, q->sql, &outer, q->err, sizeof q->err);
    /* stopped by the output (a Parquet column's type, a value too long): its reason */
    if (n < 0 && !q->truncated && !q->cancelled && sq_out_error(o)[0])
        snprintf(q->err, sizeof q->err, "%s", sq_out_error(o));
    /* A failed Parquet result gets no footer: a reader refuses the file
     * rather than take the rows before the failure for the whole result. */
    int fin = n < 0 && !q->truncated && q->fmt == SQ_FMT_PARQUET ? 0 : sq_out_finish(o);
    if (q->stats && (n >= 0 || q->truncated) && !q->cancelled && !fin) write_stats(q, &plan, f);
    ut_buf_free(&plan);
    if (n >= 0 && !q->headers) /* CREATE TABLE AS, INSERT: no result columns; say what was written */
        fprintf(f, "{\"rows_written\":%lld}\n", (long long)n);
    if (n < 0 && !q->truncated && !q->cancelled) {
        q->kind = sq_error_kind(q->e);
        q->failed = 1;
        int started = q->rows > 0 || (q->headers && q->fmt != SQ_FMT_NDJSON);
        if (started && q->fmt != SQ_FMT_JSON && q->fmt != SQ_FMT_PARQUET) {
            /* the stream has started: say it at the end (JSON, Parquet: trailer only) */
            ut_buf b = {0};
            if (q->fmt == SQ_FMT_NDJSON) {
                ut_buf_puts(&b, "{\"error\":");
                ut_json_str(&b, q->err, strlen(q->err));
                ut_buf_puts(&b, "}\n");
            } else {
                ut_buf_printf(&b, "# error: %s\n", q->err);
            }
            fwrite(b.p, 1, b.len, f);
            ut_buf_free(&b);
        }
    } else if (fin && !q->cancelled) {
        snprintf(q->err, sizeof q->err, "%s", sq_out_error(o));
        q->failed = 1;
    }
    sq_out_destroy(o);
    fclose(f); /* closes wfd: EOF for the reader */
out:
    __atomic_store_n(&q->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The error of a result that had started streaming, as an HTTP trailer
 * (chunked responses; one line of printable text). */
static void add_trailer(query_ctx *q)
{
    char v[sizeof q->err];
    snprintf(v, sizeof v, "%s", q->err);
    for (char *c = v; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    MHD_add_response_footer(q->resp, "X-Sluice-Error", v);
}

/* Wait until the result pipe has bytes (or its end): 1; or 0 when the
 * client closed its connection meanwhile — then the query is not worth
 * finishing (a long aggregate would otherwise run to its timeout). */
static int wait_rows(query_ctx *q)
{
    struct pollfd p[2] = {{q->rfd, POLLIN, 0}, {q->cfd, POLLRDHUP, 0}};
    for (;;) {
        int n = poll(p, q->cfd >= 0 ? 2 : 1, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || p[0].revents) return 1;
        if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return 0;
    }
}

static ssize_t read_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    query_ctx *q = cls;
    (void)pos;
    if (!wait_rows(q)) return MHD_CONTENT_READER_END_WITH_ERROR; /* cancelled by free_cb */
    for (;;) {
        ssize_t n = read(q->rfd, buf, max);
        if (n > 0) return n;
        if (n == 0) {
            if (__atomic_load_n(&q->failed, __ATOMIC_ACQUIRE) && q->resp) add_trailer(q);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (errno == EINTR) continue;
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void query_free(query_ctx *q)
{
    if (!q) return;
    q->cancelled = 1;
    if (q->e) sqlite3_interrupt(sq_db(q->e));
    if (q->rfd >= 0) close(q->rfd); /* a blocked writer gets EPIPE */
    q->rfd = -1;
    if (q->started) pthread_join(q->thread, NULL);
    else if (q->wfd >= 0) close(q->wfd);
    sq_close(q->e);
    if (q->counted) __atomic_fetch_sub(&q->s->queries, 1, __ATOMIC_RELAXED);
    free(q->sql);
    free(q->params);
    free(q->bucket);
    sv_bound_free(&q->bound);
    free(q);
}

static void free_cb(void *cls)
{
    query_free(cls);
}

/* Parse the request into q (JSON object body, or SQL text + URL args). */
static int parse_request(struct MHD_Connection *c, const char *body, size_t n, query_ctx *q,
                         int download, char *err, size_t errlen)
{
    const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    const char *tmo = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout_ms");
    char fbuf[16] = "";
    size_t i = 0;
    while (i < n && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
    if (i < n && body[i] == '{') {
        js_parser *p = js_parser_create(MAX_SQL_BYTES + 4096, 8);
        char jerr[200];
        js_field f;
        int rc = js_obj_begin(p, body, n, jerr, sizeof jerr);
        if (rc == 0) rc = 1;
        while (rc == 1 && (rc = js_obj_next(p, &f, jerr, sizeof jerr)) == 1) {
            if (f.key_len == 3 && !memcmp(f.key, "sql", 3) && f.v.kind == JS_STRING)
                q->sql = ut_strndup(f.v.s, f.v.n);
            else if (f.key_len == 6 && !memcmp(f.key, "format", 6) && f.v.kind == JS_STRING)
                snprintf(fbuf, sizeof fbuf, "%.*s", (int)(f.v.n < 15 ? f.v.n : 15), f.v.s), fmt = fbuf;
            else if (f.key_len == 5 && !memcmp(f.key, "limit", 5) && f.v.kind == JS_INT)
                q->limit = f.v.i;
            else if (f.key_len == 10 && !memcmp(f.key, "timeout_ms", 10) && f.v.kind == JS_INT)
                q->timeout_ms = f.v.i;
            else if (f.key_len == 5 && !memcmp(f.key, "stats", 5) && f.v.kind == JS_BOOL)
                q->stats = f.v.b;
            else if (f.key_len == 11 && !memcmp(f.key, "saved_query", 11) && f.v.kind == JS_INT)
                q->saved_id = f.v.i;
            else if (f.key_len == 6 && !memcmp(f.key, "bucket", 6) && f.v.kind == JS_OBJECT && !q->bucket)
                q->bucket = ut_strndup(f.v.s, f.v.n);
            else if (f.key_len == 6 && !memcmp(f.key, "params", 6) &&
                     (f.v.kind == JS_ARRAY || f.v.kind == JS_OBJECT) && !q->params)
                q->params = ut_strndup(f.v.s, f.v.n);
        }
        js_parser_destroy(p);
        if (rc < 0) return ut_err(err, errlen, "request body is not valid JSON: %s", jerr);
        if (!q->sql && !q->saved_id) return ut_err(err, errlen, "request has no \"sql\" string");
        if (q->sql && q->saved_id)
            return ut_err(err, errlen, "a request has \"sql\" or \"saved_query\", not both");
    } else {
        q->sql = ut_strndup(body, n);
    }
    if (lim) q->limit = strtoll(lim, NULL, 10);
    if (tmo) q->timeout_ms = strtoll(tmo, NULL, 10);
    int64_t max_tmo = download ? MAX_DOWNLOAD_TIMEOUT_MS : MAX_TIMEOUT_MS;
    if (q->timeout_ms > max_tmo)
        return ut_err(err, errlen, "timeout_ms %lld is over the maximum of %lld",
                      (long long)q->timeout_ms, (long long)max_tmo);
    q->fmt = SQ_FMT_JSON;
    if (fmt && (sq_format_parse(fmt, &q->fmt) || q->fmt == SQ_FMT_TABLE))
        return ut_err(err, errlen, "format '%s' is not one of json, ndjson, csv, tsv, parquet", fmt);
    int64_t max_rows = download ? INT64_MAX : DEFAULT_MAX_ROWS;
    if (q->limit <= 0 || q->limit > max_rows) q->limit = max_rows;
    if (q->timeout_ms <= 0) q->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (q->stats && q->fmt != SQ_FMT_NDJSON)
        return ut_err(err, errlen, "\"stats\" needs format ndjson");
    return 0;
}

/* ---- options of an enum filled by a saved query (sv_options_fn) ---- */

typedef struct opts_sink {
    char **v;
    int n;
} opts_sink;

static int opt_row(void *ctx, sqlite3_stmt *st)
{
    opts_sink *o = ctx;
    const unsigned char *t = sqlite3_column_text(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    if (!t || len > SV_PARAM_VALUE_MAX) return 0; /* NULL or too long: no option */
    o->v = ut_realloc(o->v, (size_t)(o->n + 1) * sizeof *o->v);
    o->v[o->n++] = ut_strndup((const char *)t, len);
    return o->n >= SV_PARAM_QUERY_OPTIONS_MAX; /* 1: enough */
}

static int query_options(void *ctx, int64_t id, char ***out, int *n, char *err, size_t errlen)
{
    sv_server *s = ctx;
    char *sql = NULL, *defs = NULL;
    int rc = sv__saved_sql(s, id, &sql, &defs, err, errlen) ? -1 : 0;
    if (!rc && defs && strcmp(defs, "[]"))
        rc = ut_err(err, errlen, "it has parameters of its own (an options query takes none)");
    sq_engine *e = rc || !s->o.sql_open ? NULL
                                        : s->o.sql_open(s->o.sql_arg, 1, DEFAULT_TIMEOUT_MS, err, errlen);
    if (!rc && !e) rc = -1;
    opts_sink o = {0};
    sq_sink sink = {.ctx = &o, .row = opt_row};
    if (!rc && sq_query(e, sql, &sink, err, errlen) < 0 && o.n < SV_PARAM_QUERY_OPTIONS_MAX) rc = -1;
    sq_close(e);
    free(sql);
    free(defs);
    if (rc) {
        for (int i = 0; i < o.n; i++) free(o.v[i]);
        free(o.v);
        return -1;
    }
    *out = o.v;
    *n = o.n;
    return 0;
}

/* The SQL and parameters of q: a saved query's (its definitions, the
 * request's values) or the request's own (definitions with values).  0,
 * or an HTTP status with a message. */
static int bind_params(sv_server *s, query_ctx *q, char *err, size_t errlen)
{
    char *defs = NULL;
    if (q->saved_id) {
        int code = sv__saved_sql(s, q->saved_id, &q->sql, &defs, err, errlen);
        if (code) return code;
    } else if (!q->params || q->params[0] != '[') {
        if (q->params) return ut_err(err, errlen, "\"params\" without \"saved_query\" is an array "
                                     "of definitions with values"), 400;
        if (!strstr(q->sql, "{{")) return 0;
    }
    const char *d = q->saved_id ? defs : q->params, *v = q->saved_id ? q->params : NULL;
    int rc = sv_params_bind_opts(q->sql, d, d ? strlen(d) : 0, v, v ? strlen(v) : 0, query_options, s,
                                 &q->bound, err, errlen);
    free(defs);
    if (rc) return 400;
    free(q->sql);
    q->sql = ut_strdup(q->bound.sql);
    return 0;
}

/* q's SQL aggregated to a chart's points when the request asks (bucket.c).
 * 0, or 400 with a message. */
static int apply_bucket(query_ctx *q, char *err, size_t errlen)
{
    if (!q->bucket) return 0;
    char *wrapped;
    if (sv_bucket_sql(q->sql, q->bucket, &wrapped, err, errlen)) return 400;
    free(q->sql);
    q->sql = wrapped;
    return 0;
}

/* tokens: query.tokens may read, query.write_tokens may also write lake
 * tables; with neither configured the API is open and read-only */
int sv__query_auth(sv_server *s, struct MHD_Connection *c, int *writer, const char **why)
{
    const cf_config *cf = s->o.cf;
    *writer = 0;
    if (!cf || (!cf->query.tokens.n && !cf->query.write_tokens.n)) return 0;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *tok = auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : NULL;
    size_t tl = tok ? strlen(tok) : 0;
    *writer = tok && ut_token_in((const char *const *)cf->query.write_tokens.v,
                                 cf->query.write_tokens.n, tok, tl);
    if (*writer || (tok && ut_token_in((const char *const *)cf->query.tokens.v,
                                       cf->query.tokens.n, tok, tl)))
        return 0;
    *why = tok ? "invalid token" : "missing Bearer token";
    return -1;
}

enum MHD_Result sv__query(sv_server *s, struct MHD_Connection *c, const char *body, size_t n)
{
    int writer = 0;
    const char *why;
    if (sv__query_auth(s, c, &writer, &why)) return sv__reply_error(s, c, 401, why);
    return sv__query_run(s, c, body, n, writer, NULL);
}

int sv__query_check(struct MHD_Connection *c, const char *body, size_t n, const char **ext,
                    char *err, size_t errlen)
{
    if (n > MAX_SQL_BYTES) return ut_err(err, errlen, "query over 1 MiB");
    query_ctx q;
    memset(&q, 0, sizeof q);
    int rc = parse_request(c, body, n, &q, 1, err, errlen);
    free(q.sql);
    free(q.params);
    free(q.bucket);
    *ext = q.fmt == SQ_FMT_CSV ? "csv" : q.fmt == SQ_FMT_TSV ? "tsv"
         : q.fmt == SQ_FMT_NDJSON ? "ndjson" : q.fmt == SQ_FMT_PARQUET ? "parquet" : "json";
    return rc;
}

enum MHD_Result sv__query_run(sv_server *s, struct MHD_Connection *c, const char *body, size_t n,
                              int writer, const char *attachment)
{
    char err[1024];
    if (n > MAX_SQL_BYTES) return sv__reply_error(s, c, 413, "query over 1 MiB");
    query_ctx *q = ut_calloc(1, sizeof *q);
    q->s = s;
    q->rfd = q->wfd = q->pfd = -1;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    q->cfd = ci ? ci->connect_fd : -1;
    if (__atomic_add_fetch(&s->queries, 1, __ATOMIC_RELAXED) > SV__MAX_QUERIES) {
        __atomic_fetch_sub(&s->queries, 1, __ATOMIC_RELAXED);
        free(q);
        snprintf(err, sizeof err, "too many queries running (at most %d at once); retry later",
                 SV__MAX_QUERIES);
        return sv__reply_error(s, c, 429, err);
    }
    q->counted = 1;
    int bad = 400;
    if (parse_request(c, body, n, q, attachment != NULL, err, sizeof err) ||
        (bad = bind_params(s, q, err, sizeof err)) || (bad = apply_bucket(q, err, sizeof err))) {
        query_free(q);
        return sv__reply_error(s, c, bad ? bad : 400, err);
    }
    /* the engine comes from the runtime (src/runtime): the same options as `sluice sql` */
    if (s->o.sql_open) q->e = s->o.sql_open(s->o.sql_arg, !writer, q->timeout_ms, err, sizeof err);
    else snprintf(err, sizeof err, "the query API is not configured");
    if (q->e) sq_set_params(q->e, q->bound.p, q->bound.n);
    int fds[2];
    if (!q->e || pipe2(fds, O_CLOEXEC)) {
        if (q->e) snprintf(err, sizeof err, "cannot create a pipe: %s", strerror(errno));
        query_free(q);
        return sv__reply_error(s, c, 500, err);
    }
    q->rfd = fds[0];
    q->wfd = q->pfd = fds[1];
    if (pthread_create(&q->thread, NULL, produce, q)) {
        query_free(q);
        return sv__reply_error(s, c, 503, "cannot start the query");
    }
    q->started = 1;
    q->wfd = -1; /* the producer owns the write end from now on and closes it */
    /* Wait for the first bytes or the end, to answer errors with a status;
     * a client that leaves meanwhile cancels the query. */
    if (!wait_rows(q)) {
        query_free(q);
        return MHD_NO;
    }
    int avail = 0;
    if (ioctl(q->rfd, FIONREAD, &avail) == 0 && avail == 0) {
        /* readable with nothing to read: the producer ended without output */
        pthread_join(q->thread, NULL);
        q->started = 0;
        if (q->failed) {
            snprintf(err, sizeof err, "%s", q->err);
            int code = q->kind == UT_ETIMEOUT ? 408 : q->kind == UT_EDENIED ? 403
                     : q->kind == UT_ETOOBIG ? 413 : 400;
            query_free(q);
            return sv__reply_error(s, c, code, err);
        }
    }
    const char *ct = q->fmt == SQ_FMT_CSV ? "text/csv" : q->fmt == SQ_FMT_TSV ? "text/tab-separated-values"
                   : q->fmt == SQ_FMT_NDJSON ? "application/x-ndjson"
                   : q->fmt == SQ_FMT_PARQUET ? "application/vnd.apache.parquet" : "application/json";
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 << 10, read_cb,
                                                               q, free_cb);
    if (!r) {
        query_free(q);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ct);
    MHD_add_response_header(r, "Trailer", "X-Sluice-Error");
    if (attachment) MHD_add_response_header(r, "Content-Disposition", attachment);
    q->resp = r;
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    __atomic_fetch_add(&s->http_codes[2], 1, __ATOMIC_RELAXED);
    return rc;
}
