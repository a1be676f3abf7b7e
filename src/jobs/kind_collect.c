/* jobs: kind collect — one (account, window) of a report API into the lake
 * (docs/collectors.md).
 *
 *   config ──► jb__cspec_init (templates: window, account, secrets)
 *          ──► cl_fetch, with hooks:
 *                take    a token of the job's pool per HTTP call (the task's
 *                        first call uses the token its start took)
 *                pause   a 429's Retry-After pauses the pool for every worker
 *                raw     each response part streamed into the store as it
 *                        arrives, gzip'ed (collect_raw.c): raw/<job>/<account>/
 *                        <ds>/run<id>-<part>.<ext>.gz
 *                record  each record, one NDJSON line, into a staging file,
 *                row     or, for a report of one CSV / TSV file, each row as
 *                        one CSV line (no JSON made), its columns typed by the
 *                        splitter (columns)
 *          ──► the open part committed and the manifest run<id>.manifest.json
 *              (Redshift's format) stored
 *          ──► the records landed as kind sql lands read_csv(<file>, 0,
 *              '<types>') / read_ndjson(<file>, 0[, '<types>']) (sq_write reads
 *              a typed file without SQLite): they replace the run's slice
 *              (account=<id>/dt=<ds>) in ONE catalog transaction that also
 *              evolves the schema and finishes the run
 *
 * Memory stays bounded whatever the report's size: parts go to the store and
 * records to disk as they arrive.  A failed fetch keeps its raw parts for
 * inspection (a body that did not parse is kept whole) and lands nothing.  A
 * delivery that takes the task over first cleans what the one before left
 * under the run's raw prefix (collect_orphans.c). */
#include "jobs/jb_rt.h"
#include "log/log.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define REC_BUF (1 << 20) /* records are written to their file 1 MiB at a time */

typedef struct collect_run {
    jb_task_ctx *c;
    jb_raw *raw;          /* the raw files (collect_raw.c) */
    int first_take_used;
    int rec_fd;           /* the records' staging file */
    char rec_path[4400];
    ut_buf line;          /* records not yet written (up to REC_BUF bytes) */
    int64_t records;
    /* the records' column kinds as the CSV / TSV bodies reported them
     * (on_columns): with every record from such bodies, the landing types
     * the columns from them instead of reading the records twice */
    ut_buf names;         /* the first body's column names, NUL after each */
    int ncols;
    char *kinds;          /* ncols letters + NUL */
    int64_t typed;        /* records of the bodies reported */
    int untyped;          /* bodies whose columns differ, or a case twin */
    int rows;             /* one CSV / TSV body: staged as CSV rows (on_row), not JSON */
    int staged_csv;       /* the staging file is CSV: its header was written */
    ut_error err;
} collect_run;

static int write_all(int fd, const void *p, size_t n)
{
    for (const char *q = p; n;) {
        ssize_t w = write(fd, q, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        q += w, n -= (size_t)w;
    }
    return 0;
}

static int on_raw_begin(void *ctx, int part, const char *url, const char *ext)
{
    (void)part, (void)url;
    return jb__raw_begin(((collect_run *)ctx)->raw, ext);
}

static int on_raw(void *ctx, const void *data, size_t n)
{
    return jb__raw_write(((collect_run *)ctx)->raw, data, n);
}

/* Write the buffered records to their file.  0 / -1. */
static int rec_flush(collect_run *k)
{
    if (k->line.len && write_all(k->rec_fd, k->line.p, k->line.len))
        return ut_fail(&k->err, UT_EIO, "records file %s: %s", k->rec_path, strerror(errno));
    ut_buf_reset(&k->line);
    return 0;
}

static int on_record(void *ctx, const char *json, size_t n)
{
    collect_run *k = ctx;
    ut_buf_put(&k->line, json, n);
    ut_buf_putc(&k->line, '\n');
    if (k->line.len >= REC_BUF && rec_flush(k)) return -1;
    k->records++;
    jb__raw_row(k->raw);
    return 0;
}

/* Did the first body's columns have these names? */
static int same_columns(const collect_run *k, const char *const *names, const size_t *lens, int n)
{
    if (n != k->ncols) return 0;
    const char *p = (const char *)k->names.p;
    for (int i = 0; i < n; p += strlen(p) + 1, i++)
        if (strlen(p) != lens[i] || memcmp(p, names[i], lens[i])) return 0;
    return 1;
}

/* Names equal up to ASCII case are one column to read_ndjson (or a NUL in
 * one): those records are typed by reading them. */
static int case_twins(const char *const *names, const size_t *lens, int n)
{
    for (int i = 0; i < n; i++) {
        if (memchr(names[i], 0, lens[i])) return 1;
        for (int j = 0; j < i; j++)
            if (lens[i] == lens[j] && !strncasecmp(names[i], names[j], lens[i])) return 1;
    }
    return 0;
}

static void on_columns(void *ctx, const char *const *names, const size_t *lens,
                       const char *kinds, int n, int64_t records)
{
    collect_run *k = ctx;
    if (k->untyped || records == 0) return;
    if (!k->kinds) {
        if (case_twins(names, lens, n)) {
            k->untyped = 1;
            return;
        }
        for (int i = 0; i < n; i++) ut_buf_put(&k->names, names[i], lens[i]), ut_buf_putc(&k->names, 0);
        k->ncols = n;
        k->kinds = ut_calloc((size_t)n + 1, 1);
        memset(k->kinds, 'n', (size_t)n);
    } else if (!same_columns(k, names, lens, n)) {
        k->untyped = 1;
        return;
    }
    for (int i = 0; i < n; i++) { /* widened as the bodies widen them */
        char a = k->kinds[i], b = kinds[i];
        k->kinds[i] = a == b || b == 'n' || a == 't' ? a : a == 'n' ? b
                      : (a == 'i' && b == 'r') || (a == 'r' && b == 'i') ? 'r' : 't';
    }
    k->typed += records;
}

/* Bytes a staged CSV field cannot hold unquoted. */
static const unsigned char csv_special[256] = {['"'] = 1, [','] = 1, ['\r'] = 1, ['\n'] = 1};

/* Field f[0..n) of the staged CSV: as it was when it needs no quotes and
 * was not quoted (quoting keeps "" an empty string and an empty unquoted
 * field null, so read_csv types and reads it as read_ndjson would have its
 * JSON record), else quoted with "" escapes. */
static char *put_field(char *o, const char *f, size_t n, int quoted)
{
    size_t i = 0;
    while (i < n && !csv_special[(unsigned char)f[i]]) i++;
    if (i == n && !quoted) return memcpy(o, f, n), o + n;
    *o++ = '"';
    for (i = 0; i < n; i++)
        if ((*o++ = f[i]) == '"') *o++ = '"';
    *o++ = '"';
    return o;
}

/* One line of the staged CSV: the fields and a newline (room made first:
 * a field at most doubles, plus its quotes and comma).  0 / -1. */
static int put_line(ut_buf *b, const char *const *f, const size_t *lens,
                     const unsigned char *quoted, int n)
{
    size_t need = 1;
    for (int i = 0; i < n; i++) need += 2 * lens[i] + 3;
    if (ut_buf_reserve(b, need)) return -1;
    char *o0 = (char *)b->p + b->len, *o = o0;
    for (int i = 0; i < n; i++) {
        o = put_field(o, f[i], lens[i], quoted ? quoted[i] : 1);
        *o++ = i + 1 < n ? ',' : '\n';
    }
    ut_buf_setlen(b, b->len + (size_t)(o - o0));
    return 0;
}

/* A CSV / TSV body's header, then its rows, staged as CSV (rows mode). */
static int on_row(void *ctx, const cl_row *r)
{
    collect_run *k = ctx;
    if (!r->fields) {
        if (k->staged_csv) /* a second body (not in rows mode): the same columns only */
            return same_columns(k, r->names, r->name_lens, r->n)
                       ? 0
                       : ut_fail(&k->err, UT_EINVAL, "the report's files have other columns "
                                 "than its first");
        if (k->records || case_twins(r->names, r->name_lens, r->n))
            return 1; /* one column to read_ndjson: JSON records */
        if (put_line(&k->line, r->names, r->name_lens, NULL, r->n))
            return ut_fail(&k->err, UT_ETOOBIG, "records file %s: a row over the buffer cap",
                           k->rec_path);
        k->staged_csv = 1;
        return 0;
    }
    if (put_line(&k->line, r->fields, r->lens, r->quoted, r->n))
        return ut_fail(&k->err, UT_ETOOBIG, "records file %s: a row over the buffer cap",
                       k->rec_path);
    if (k->line.len >= REC_BUF && rec_flush(k)) return -1;
    k->records++;
    jb__raw_row(k->raw);
    return 0;
}

static int on_take(void *ctx)
{
    collect_run *k = ctx;
    const cf_job *j = k->c->job;
    if (!j->pool[0] || !k->first_take_used++) return 0; /* the start took the first */
    ut_error e = {0};
    return pl_take(k->c->rt->pools, j->pool, 1, k->c->deadline_ms, &k->c->rt->cancel, &e);
}

static void on_pause(void *ctx, int64_t ms)
{
    collect_run *k = ctx;
    const cf_job *j = k->c->job;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ut_error e = {0};
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (j->pool[0]) (void)pl_pause(k->c->rt->pools, j->pool, now + ms, &e);
}

/* Land the records (and announce the files with the commit).  No records
 * (an account without data that day): the slice is emptied — replaced by
 * nothing, with the table's own columns — or, before the table exists,
 * nothing is committed and the worker finishes the run.  1 / 0 / -1. */
static int land(collect_run *k, ut_error *e)
{
    jb_task_ctx *c = k->c;
    char sql[4600], err[512];
    ut_buf empty = {0};
    snprintf(sql, sizeof sql, "SELECT * FROM read_ndjson('%s', 0)", k->rec_path);
    int typed = k->records > 0 && k->kinds && !k->untyped && k->typed == k->records;
    if (typed) /* typed by the fetch: read once */
        ut_buf_printf(&empty, "SELECT * FROM %s('%s', 0, '%s')",
                      k->staged_csv ? "read_csv" : "read_ndjson", k->rec_path, k->kinds);
    else if (k->staged_csv && k->records > 0)
        return ut_fail(e, UT_EINVAL, "job %s: the staged rows have no column types",
                       c->job->name);
    if (k->records == 0) {
        ct_table t;
        int have = ct_table_get(c->cat, c->job->table, &t, err, sizeof err);
        if (have < 0) return ut_fail(e, UT_EIO, "job %s: %s", c->job->name, err);
        if (!have) return 0;
        ut_buf_puts(&empty, "SELECT ");
        for (int i = 0; i < t.ncols; i++) { /* the table's own columns, no row */
            ut_buf_puts(&empty, i ? ", \"" : "\"");
            for (const char *p = t.cols[i].name; *p; p++)
                ut_buf_puts(&empty, *p == '"' ? "\"\"" : (char[]){*p, 0});
            ut_buf_putc(&empty, '"');
        }
        ut_buf_printf(&empty, "%sFROM lake.\"%s\" WHERE 0", t.ncols ? " " : "NULL AS _none ",
                      c->job->table);
        ct_table_free(&t);
    }
    jb_announce an;
    jb__raw_announce(k->raw, &an);
    int rc = jb__kind_sql_text(c, empty.len ? ut_buf_cstr(&empty) : sql, 0, e);
    jb__collect_announce_free(c, &an);
    ut_buf_free(&empty);
    return rc;
}

static void cleanup(collect_run *k)
{
    jb__raw_destroy(k->raw);
    if (k->rec_fd >= 0) close(k->rec_fd);
    if (k->rec_path[0]) unlink(k->rec_path);
    ut_buf_free(&k->line);
    ut_buf_free(&k->names);
    free(k->kinds);
}

/* The fetch's failure, with what the engine says. */
static int fetch_failed(jb_task_ctx *c, const collect_run *k, const cl_result *res,
                        const ut_error *fe, ut_error *e)
{
    const char *why = k->err.msg[0]                ? k->err.msg
                      : jb__raw_error(k->raw)[0] ? jb__raw_error(k->raw)
                                                 : fe->msg;
    ut_fail(e, fe->kind ? fe->kind : UT_EIO, "job %s%s%s: %s (HTTP %d, %s; %" PRId64 " pages, "
            "%" PRId64 " records before it%s%.200s)", c->job->name,
            c->run->part[0] ? " account " : "", c->run->part, why, res->status,
            cl_kind_name(res->kind), res->pages, res->records, res->body[0] ? "; answer: " : "",
            res->body);
    jb__redact(c->redact, e->msg, sizeof e->msg);
    return -1;
}

int jb__kind_collect(jb_task_ctx *c, ut_error *e)
{
    collect_run k = {.c = c, .rec_fd = -1, .raw = jb__raw_create(c)};
    jb_vars v = {.cf = c->cf, .job = c->job, .timing = c->timing, .run_id = c->run->id,
                 .account = c->run->part, .account_args = c->account_args,
                 .ws = c->run->window_start, .we = c->run->window_end,
                 .iterations = c->run->iterations};
    jb_cspec s;
    const char *redact[17] = {0};
    int rc = jb__cspec_init(&s, &v, c->redact, e) ? -1 : 0;
    for (int i = 0; i < c->redact->n && i < 16; i++) redact[i] = c->redact->v[i];
    char tag[32];
    snprintf(tag, sizeof tag, "run%lld", (long long)c->run->id);
    /* one CSV / TSV body (no pages; a record cap src/csv reads back): its
     * rows staged as CSV, typed by the fetch, read once by read_csv */
    k.rows = rc == 0 && (s.spec.format == CL_FMT_CSV || s.spec.format == CL_FMT_TSV) &&
             s.spec.page.type == CL_PAGE_NONE && s.spec.max_record_bytes <= (16u << 20);
    if (rc == 0 && (k.rec_fd = jb__tmp_create(c->rt, tag, k.rows ? ".csv" : ".ndjson", k.rec_path,
                                              sizeof k.rec_path, e)) < 0)
        rc = -1;
    cl_result res = {0};
    ut_error fe = {0};
    cl_hooks h = {.ctx = &k, .raw_begin = on_raw_begin, .raw = on_raw, .record = on_record, .columns = on_columns, .row = k.rows ? on_row : NULL,
                  .take = on_take, .pause = on_pause, .cancel = &c->rt->cancel,
                  .redact = redact};
    if (rc == 0) jb__raw_takeover(c);
    int fetched = rc == 0 ? cl_fetch(&s.spec, c->rt->tokens, &h, &res, &fe) : -1;
    if (rc == 0) jb__cstats_add(c->rt, c->job, &res);
    if (rc == 0 && jb__raw_finish(k.raw, res.kind != CL_CANCELED, e)) /* kept when the fetch */
        rc = -1;                                                        /* failed too */
    if (rc == 0 && !fetched && rec_flush(&k)) fetched = -1;
    if (rc == 0 && fetched) rc = fetch_failed(c, &k, &res, &fe, e);
    if (rc == 0 && res.truncated) /* a partial slice would replace the whole one */
        rc = ut_fail(e, UT_ETOOBIG, "job %s%s%s: more than pagination.max_pages (%lld) pages; "
                     "nothing landed", c->job->name, c->run->part[0] ? " account " : "",
                     c->run->part, (long long)c->job->pagination.max_pages);
    if (rc == 0) {
        lg_info("jobs", "job %s run %lld%s%s: %" PRId64 " records, %" PRId64 " pages, %" PRId64
                " calls (%" PRId64 " throttled, %" PRId64 " retried)", c->job->name,
                (long long)c->run->id, c->run->part[0] ? " account " : "", c->run->part,
                k.records, res.pages, res.calls, res.throttled, res.retries);
        rc = land(&k, e);
    }
    jb__cspec_free(&s);
    cleanup(&k);
    return rc;
}
