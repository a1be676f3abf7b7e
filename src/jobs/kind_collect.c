/* jobs: kind collect — one (account, window) of a report API into the lake
 * (docs/collectors.md).
 *
 *   config ──► jb__cspec_init (templates: window, account, secrets)
 *          ──► cl_fetch, with hooks:
 *                take    a token of the job's pool per HTTP call (the task's
 *                        first call uses the token its start took)
 *                pause   a 429's Retry-After pauses the pool for every worker
 *                raw     each response part into a locked staging file, kept
 *                        gzip'ed (compressed here unless it came gzip'ed)
 *                record  each record, one NDJSON line, into another
 *          ──► raw parts stored as raw/<job>/<account>/<ds>/<run>-<part>.<ext>.gz
 *              and their manifest <run>.manifest.json (Redshift's format)
 *          ──► the records landed as kind sql lands read_ndjson(<file>): they
 *              replace the run's slice (account=<id>/dt=<ds>) in ONE catalog
 *              transaction that also finishes the run
 *
 * Memory stays bounded whatever the report's size: parts and records go to
 * disk as they arrive.  A failed fetch stores its raw parts for inspection
 * (a body that did not parse is kept whole) and lands nothing. */
#include "jobs/jb_rt.h"
#include "log/log.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_PARTS 4096 /* raw parts (pages) of one run */

typedef struct raw_part {
    char path[4400], ext[16];
    uint64_t bytes;       /* received */
    int64_t rows;         /* records from it */
    char key[600];        /* stored as (set by store_raw) */
    uint64_t stored;      /* its stored size */
} raw_part;

typedef struct collect_run {
    jb_task_ctx *c;
    raw_part *parts;
    int nparts, first_take_used;
    int raw_fd;           /* the current part's staging file (locked) */
    gzFile gz;            /* compressing into it; NULL: written as is (came gzip'ed) */
    int raw_started;      /* the current part got bytes */
    int rec_fd;           /* the records' staging file */
    char rec_path[4400];
    ut_buf line;
    int64_t records;
    char man_key[600];    /* the manifest, once stored */
    uint64_t man_bytes;
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

static void raw_end(collect_run *k)
{
    if (k->gz) gzclose(k->gz); /* closes raw_fd too */
    else if (k->raw_fd >= 0) close(k->raw_fd);
    k->gz = NULL;
    k->raw_fd = -1;
}

static int on_raw_begin(void *ctx, int part, const char *url, const char *ext)
{
    collect_run *k = ctx;
    (void)url;
    raw_end(k);
    if (k->nparts == MAX_PARTS)
        return ut_fail(&k->err, UT_ETOOBIG, "more than %d raw parts", MAX_PARTS);
    raw_part *p = &k->parts[k->nparts];
    memset(p, 0, sizeof *p);
    snprintf(p->ext, sizeof p->ext, "%s", ext && ext[0] ? ext : "bin");
    char tag[48];
    snprintf(tag, sizeof tag, "run%lld-%d", (long long)k->c->run->id, part);
    k->raw_fd = jb__tmp_create(k->c->rt, tag, ".gz", p->path, sizeof p->path, &k->err);
    if (k->raw_fd < 0) return -1;
    k->nparts++;
    k->raw_started = 0;
    return 0;
}

static int on_raw(void *ctx, const void *data, size_t n)
{
    collect_run *k = ctx;
    if (k->raw_fd < 0 || !n) return 0;
    const unsigned char *b = data;
    if (!k->raw_started++ && !(n >= 2 && b[0] == 0x1f && b[1] == 0x8b)) {
        int fd = dup(k->raw_fd); /* gzclose closes its fd: keep ours for the lock */
        k->gz = fd >= 0 ? gzdopen(fd, "wb6") : NULL;
        if (!k->gz) return ut_fail(&k->err, UT_EIO, "raw file: cannot compress");
    }
    k->parts[k->nparts - 1].bytes += n;
    int bad = k->gz ? gzwrite(k->gz, data, (unsigned)n) != (int)n : write_all(k->raw_fd, data, n);
    return bad ? ut_fail(&k->err, UT_EIO, "raw file %s: %s", k->parts[k->nparts - 1].path,
                         strerror(errno))
               : 0;
}

static int on_record(void *ctx, const char *json, size_t n)
{
    collect_run *k = ctx;
    ut_buf_reset(&k->line);
    ut_buf_put(&k->line, json, n);
    ut_buf_putc(&k->line, '\n');
    if (write_all(k->rec_fd, k->line.p, k->line.len))
        return ut_fail(&k->err, UT_EIO, "records file %s: %s", k->rec_path, strerror(errno));
    k->records++;
    if (k->nparts) k->parts[k->nparts - 1].rows++;
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

/* "raw/<job>/<account>/<ds>/<run>" (the run's raw files' common prefix). */
static void raw_prefix(const jb_task_ctx *c, char *out, size_t n)
{
    struct tm tm;
    jb__local(c->timing, c->run->window_start, &tm, NULL);
    snprintf(out, n, "raw/%s/%s/%04d-%02d-%02d/run%lld", c->job->name,
             c->run->part[0] ? c->run->part : "_", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             (long long)c->run->id);
}

/* Store every raw part, then the manifest.  0 / -1. */
static int store_raw(collect_run *k, ut_error *e)
{
    jb_task_ctx *c = k->c;
    char prefix[400], key[600], uri[1200], err[512];
    raw_prefix(c, prefix, sizeof prefix);
    ut_buf m = {0};
    ut_buf_puts(&m, "{\"entries\":[");
    int rc = 0;
    for (int i = 0; i < k->nparts && rc == 0; i++) {
        snprintf(key, sizeof key, "%s-%04d.%s.gz", prefix, i, k->parts[i].ext);
        struct stat st;
        uint64_t size = stat(k->parts[i].path, &st) == 0 ? (uint64_t)st.st_size : 0;
        if (st_put_file(c->store, key, k->parts[i].path, err, sizeof err))
            rc = ut_fail(e, UT_EIO, "job %s: raw file %s: %s", c->job->name, key, err);
        snprintf(k->parts[i].key, sizeof k->parts[i].key, "%s", key);
        k->parts[i].stored = size;
        ut_buf_puts(&m, i ? ",{\"url\":" : "{\"url\":");
        const char *u = st_uri(c->store, key, uri, sizeof uri);
        ut_json_str(&m, u, strlen(u));
        ut_buf_printf(&m, ",\"mandatory\":true,\"meta\":{\"content_length\":%" PRIu64 "}}", size);
    }
    ut_buf_puts(&m, "]}\n");
    snprintf(key, sizeof key, "%s.manifest.json", prefix);
    if (rc == 0 && st_put(c->store, key, m.p, m.len, err, sizeof err))
        rc = ut_fail(e, UT_EIO, "job %s: manifest %s: %s", c->job->name, key, err);
    if (rc == 0) snprintf(k->man_key, sizeof k->man_key, "%s", key), k->man_bytes = m.len;
    ut_buf_free(&m);
    return rc;
}

/* Hang the announcements of the stored raw files and manifest on the
 * run's commit (collect_files.c). */
static void announce(collect_run *k, jb_announce *an)
{
    jb_stored_file *f = ut_calloc((size_t)k->nparts + 1, sizeof *f);
    int n = 0;
    for (int i = 0; i < k->nparts; i++)
        f[n++] = (jb_stored_file){.key = k->parts[i].key, .format = k->parts[i].ext,
                                  .bytes = k->parts[i].stored, .rows = k->parts[i].rows};
    if (k->man_key[0])
        f[n++] = (jb_stored_file){.key = k->man_key, .format = "json", .bytes = k->man_bytes,
                                  .manifest = 1};
    if (jb__collect_announce(k->c, f, n, an))
        lg_warn("jobs", "job %s: %s.files is not a stream name: files not announced",
                k->c->job->name, k->c->job->name);
    free(f);
}

/* Land the records (and announce the files with the commit).  No records
 * (an account without data that day): the slice is emptied — replaced by
 * nothing, with the table's own columns — or, before the table exists,
 * nothing is committed and the worker finishes the run.  1 / 0 / -1. */
static int land(collect_run *k, ut_error *e)
{
    jb_task_ctx *c = k->c;
    char sql[4600], err[512];
    snprintf(sql, sizeof sql, "SELECT * FROM read_ndjson('%s', 0)", k->rec_path);
    ut_buf empty = {0};
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
    announce(k, &an);
    int rc = jb__kind_sql_text(c, empty.len ? ut_buf_cstr(&empty) : sql, 0, e);
    jb__collect_announce_free(c, &an);
    ut_buf_free(&empty);
    return rc;
}

static void cleanup(collect_run *k)
{
    raw_end(k);
    for (int i = 0; i < k->nparts; i++) unlink(k->parts[i].path);
    if (k->rec_fd >= 0) close(k->rec_fd);
    if (k->rec_path[0]) unlink(k->rec_path);
    free(k->parts);
    ut_buf_free(&k->line);
}

/* The fetch's failure, with what the engine says. */
static int fetch_failed(jb_task_ctx *c, const collect_run *k, const cl_result *res,
                        const ut_error *fe, ut_error *e)
{
    const char *why = k->err.msg[0] ? k->err.msg : fe->msg;
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
    collect_run k = {.c = c, .raw_fd = -1, .rec_fd = -1};
    k.parts = ut_calloc(MAX_PARTS, sizeof *k.parts);
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
    if (rc == 0 && (k.rec_fd = jb__tmp_create(c->rt, tag, ".ndjson", k.rec_path,
                                              sizeof k.rec_path, e)) < 0)
        rc = -1;
    cl_result res = {0};
    ut_error fe = {0};
    cl_hooks h = {.ctx = &k, .raw_begin = on_raw_begin, .raw = on_raw, .record = on_record,
                  .take = on_take, .pause = on_pause, .cancel = &c->rt->cancel,
                  .redact = redact};
    int fetched = rc == 0 ? cl_fetch(&s.spec, c->rt->tokens, &h, &res, &fe) : -1;
    raw_end(&k);
    if (rc == 0) jb__cstats_add(c->rt, c->job, &res);
    if (rc == 0 && store_raw(&k, e)) rc = -1; /* kept even when the fetch failed */
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
