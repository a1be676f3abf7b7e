/* The runtime's life: log level, data directory, lake store, then the
 * mode's parts (rt__serve, the jobs runtime); stopped in reverse order. */
#include "log/log.h"
#include "runtime/rt_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

/* The config's log_level, unless SLUICE_LOG_LEVEL chose one for this run. */
static void apply_log_level(const cf_config *cf)
{
    static const lg_level map[] = {[CF_LOG_DEBUG] = LG_DEBUG, [CF_LOG_INFO] = LG_INFO,
                                   [CF_LOG_WARN] = LG_WARN, [CF_LOG_ERROR] = LG_ERROR};
    if (cf->log_level >= CF_LOG_DEBUG && cf->log_level <= CF_LOG_ERROR)
        lg_set_default_level(map[cf->log_level]);
}

static int is_dir(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static st_store *open_s3(const cf_s3 *x, char *err, size_t errlen)
{
    if (!x->endpoint[0] || !x->bucket[0]) {
        ut_err(err, errlen, "lake.s3 needs endpoint and bucket");
        return NULL;
    }
    st_s3_opts so = {0};
    so.endpoint = x->endpoint;
    so.region = x->region;
    so.bucket = x->bucket;
    so.prefix = x->prefix;
    so.credentials_file = x->credentials_file[0] ? x->credentials_file : NULL;
    so.profile = x->profile;
    so.part_bytes = x->part_bytes;
    st_store *st = st_s3_create(&so, err, errlen);
    if (st && st_check(st, err, errlen)) { /* a wrong endpoint or key fails here, not later */
        st_destroy(st);
        return NULL;
    }
    return st;
}

/* The lake's store from the config: a local directory or S3. */
static st_store *open_store(const cf_config *cf, const char *data_dir, char *err, size_t errlen)
{
    char msg[1024];
    st_store *st;
    if (cf->lake.store == CF_STORE_S3) {
        st = open_s3(&cf->lake.s3, msg, sizeof msg);
    } else {
        char root[4096];
        if (cf->lake.path[0]) snprintf(root, sizeof root, "%s", cf->lake.path);
        else snprintf(root, sizeof root, "%s/lake", data_dir);
        st = st_local_create(root, msg, sizeof msg);
    }
    if (!st) ut_err(err, errlen, "lake store: %s", msg);
    return st;
}

/* jobs: a sql task's engine, with the job's time limit. */
static sq_engine *jobs_sql(void *ctx, int64_t timeout_ms, char *err, size_t errlen)
{
    rt_sql_req q = {.timeout_ms = timeout_ms};
    return rt_sql_open(ctx, &q, err, errlen);
}

/* jobs: a load task's engine: committed files only, no journal tail. */
static sq_engine *jobs_sql_files(void *ctx, int64_t timeout_ms, char *err, size_t errlen)
{
    rt_sql_req q = {.timeout_ms = timeout_ms, .no_tail = 1, .exact_decimals = 1};
    return rt_sql_open(ctx, &q, err, errlen);
}

/* Test hook: with SLUICE_JOBS_CLOCK_FILE set, the jobs runtime's "now" is
 * the number (µs since the epoch) in that file, read at every look, so a
 * test can walk the scheduler through days in seconds (docs/testing.md).
 * An unreadable file means the real clock. */
static int64_t file_clock(void *ctx)
{
    FILE *f = fopen(ctx, "r");
    long long us = 0;
    int ok = f && fscanf(f, "%lld", &us) == 1;
    if (f) fclose(f);
    if (ok) return us;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* jobs: how far a stream-landed table's sink is. */
static int table_progress(void *ctx, const char *table, uint64_t *position, uint64_t *end)
{
    rt_runtime *rt = ctx;
    return rt->server ? sv_table_progress(rt->server, table, position, end) : 0;
}

/* jobs: the built-in sink_lag alert's readings. */
static int sink_lag(void *ctx, int i, char *stream, size_t n, int64_t *lag)
{
    rt_runtime *rt = ctx;
    return rt->server ? sv_sink_lag(rt->server, i, stream, n, lag) : 0;
}

/* RT_WORKER: the server's URL (from the config's listen unless given) and
 * token.  0 or -1. */
static int worker_target(rt_runtime *rt, const rt_opts *o, char *err, size_t errlen)
{
    const cf_config *cf = rt->cf;
    const char *h = cf->listen.host;
    if (o->server) {
        snprintf(rt->server_url, sizeof rt->server_url, "%s", o->server);
    } else if (cf->listen.port == 0) {
        return ut_err(err, errlen, "listen is %s:0 (any free port) in %s: give the server's URL "
                      "(--server http://HOST:PORT)", h, cf->file ? cf->file : "the config");
    } else {
        if (!h[0] || !strcmp(h, "0.0.0.0")) h = "127.0.0.1";
        else if (!strcmp(h, "::")) h = "::1";
        snprintf(rt->server_url, sizeof rt->server_url,
                 strchr(h, ':') ? "http://[%s]:%d" : "http://%s:%d", h, cf->listen.port);
    }
    if (o->token) rt->token = ut_strdup(o->token);
    else if (cf->query.write_tokens.n) rt->token = ut_strdup(cf->query.write_tokens.v[0]);
    else if (cf->query.tokens.n)
        return ut_err(err, errlen, "the server's task queue needs a write token and %s has "
                      "query.tokens but no query.write_tokens (or give --token)",
                      cf->file ? cf->file : "the config");
    rt->threads = o->threads > 0 ? o->threads : cf->workers > 0 ? (int)cf->workers : 1;
    return 0;
}

/* The scheduler and the workers of sluice serve; the workers of sluice
 * worker. */
static int start_jobs(rt_runtime *rt, char *err, size_t errlen)
{
    char dir[4096] = ".";
    if (rt->cf->file) {
        snprintf(dir, sizeof dir, "%s", rt->cf->file);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
    }
    jb_opts o = {.cf = rt->cf, .data_dir = rt->data_dir, .config_dir = dir, .store = rt->store,
                 .sql_open = jobs_sql, .sql_open_files = jobs_sql_files, .sql_ctx = rt, .scheduler = rt->mode == RT_SERVER,
                 .table_progress = table_progress, .sink_lag = sink_lag, .progress_ctx = rt,
                 .workers = rt->mode == RT_SERVER ? (int)rt->cf->workers : rt->threads};
    if (rt->mode == RT_WORKER) {
        o.queue_url = rt->server_url;
        o.queue_token = rt->token;
    }
    const char *clock = getenv("SLUICE_JOBS_CLOCK_FILE");
    if (clock && clock[0]) {
        o.now_us = file_clock;
        o.clock_ctx = (void *)clock;
        lg_warn("runtime", "jobs use the test clock in %s (SLUICE_JOBS_CLOCK_FILE)", clock);
    }
    jb_runtime *j = jb_create(&o, err, errlen);
    __atomic_store_n(&rt->jobs, j, __ATOMIC_SEQ_CST);
    return j ? 0 : -1;
}

rt_runtime *rt_create(const cf_config *cf, const rt_opts *o, char *err, size_t errlen)
{
    assert(cf && o);
    apply_log_level(cf);
    rt_runtime *rt = ut_calloc(1, sizeof *rt);
    rt->cf = cf;
    rt->mode = o->mode;
    rt->data_dir = ut_strdup(o->data_dir ? o->data_dir : cf->data_dir);
    snprintf(rt->host, sizeof rt->host, "%s", o->host ? o->host : cf->listen.host);
    if (!strcmp(rt->host, "localhost")) snprintf(rt->host, sizeof rt->host, "127.0.0.1");
    rt->port = o->port >= 0 ? o->port : cf->listen.port;
    rt__sql_init(rt);
    if (rt->mode == RT_SERVER && ut_mkdir_p(rt->data_dir, err, errlen)) goto fail;
    if (rt->mode == RT_WORKER && worker_target(rt, o, err, errlen)) goto fail;
    if (rt->mode != RT_SERVER && !is_dir(rt->data_dir)) { /* the server creates it */
        ut_err(err, errlen, "data directory %s does not exist (or is not a directory)",
               rt->data_dir);
        goto fail;
    }
    rt->store = open_store(cf, rt->data_dir, err, errlen);
    if (!rt->store) goto fail;
    if (rt->mode != RT_CLIENT && jb_check(cf, err, errlen)) goto fail;
    if (rt->mode == RT_SERVER && rt__serve(rt, err, errlen)) goto fail;
    if (rt->mode == RT_SERVER && !(rt->outbox = rt__outbox_start(rt, err, errlen))) goto fail;
    if (rt->mode == RT_SERVER && cf->nsources) {
        rt__sources *src = rt__sources_start(rt, err, errlen);
        if (!src) goto fail;
        __atomic_store_n(&rt->sources, src, __ATOMIC_SEQ_CST);
    }
    if (rt->mode != RT_CLIENT && start_jobs(rt, err, errlen)) goto fail;
    return rt;
fail:
    rt_destroy(rt);
    return NULL;
}

int rt_stop(rt_runtime *rt)
{
    if (!rt || rt->stopped) return rt && rt->abandoned ? -1 : 0;
    rt->stopped = 1;
    jb_runtime *jobs = __atomic_exchange_n(&rt->jobs, NULL, __ATOMIC_SEQ_CST);
    if (jobs) jb_stop(jobs, 0); /* no new tasks; running commands stop, their tasks stay queued */
    /* the shipper's last batch goes into the journal before the sinks stop */
    rt__sources_stop(rt->sources);
    rt__outbox_stop(rt->outbox); /* what jobs commit after it is sent at the next start */
    rt->outbox = NULL;
    int abandoned = sv_stop(rt->server); /* after it no request can reach the jobs API */
    if (!abandoned) jb_destroy(jobs);     /* else the process exits: free nothing */
    if (abandoned) {
        rt->abandoned = 1;
        return -1;
    }
    rt->server = NULL;
    rt__sources_free(rt->sources);
    rt->sources = NULL;
    return 0;
}

void rt_destroy(rt_runtime *rt)
{
    if (!rt) return;
    if (rt_stop(rt)) return; /* sinks still run over the store and streams: the process exits */
    st_destroy(rt->store);
    rt__sql_free(rt);
    free(rt->token);
    free(rt->data_dir);
    free(rt);
}

const char *rt_data_dir(const rt_runtime *rt)
{
    return rt->data_dir;
}

int rt_port(const rt_runtime *rt)
{
    return rt->server ? sv_port(rt->server) : rt->port;
}

const char *rt_host(const rt_runtime *rt)
{
    return rt->host;
}
