/* RT_SERVER: the HTTP server with the config's streams, limits and the
 * settings of streams created on the fly (or found in the data directory);
 * POST /v1/query gets its engines from rt_sql_open. */
#include "runtime/rt_int.h"
#include "tail/tail.h"

#include <stdlib.h>
#include <string.h>

/* Settings of one stream: its tokens, journal, budget and sink. */
static void stream_conf(const cf_config *cf, const cf_stream *cs, sv_stream_conf *out)
{
    memset(out, 0, sizeof *out);
    out->name = cs->name;
    out->tokens = (const char *const *)cs->tokens.v;
    out->ntokens = cs->tokens.n;
    cf_stream_journal_opts(cf, cs, &out->jr);
    out->max_bytes = cs->max_bytes;
    const cf_sink *k = &cs->sink;
    out->sink = k->enabled;
    lk_sink_opts *o = &out->sink_opts;
    lk_sink_opts_init(o);
    o->table = k->table;
    o->event_time_field = k->event_time_field;
    o->time_format = (lk_time_format)k->event_time_format;
    o->partition = (lk_partitioning)k->partition;
    o->roll_bytes = k->roll_bytes;
    o->roll_rows = k->roll_rows;
    o->roll_age_ms = k->roll_age_ms;
    o->max_open_partitions = (int)k->max_open_partitions;
    o->max_buffer_bytes = k->max_buffer_bytes;
    o->case_insensitive = k->case_insensitive;
    o->max_columns = (int)k->max_columns;
    o->retention_ms = k->retention_ms;
    o->compact_min_files = (int)k->compact_min_files;
    o->compact_target_bytes = k->compact_target_bytes;
    o->maintenance_interval_ms = k->maintenance_interval_ms;
    o->trash_grace_ms = k->trash_grace_ms;
}

/* The stream's transform as xform wants it: views of the config's lists. */
static void transform_spec(const cf_transform *t, xf_spec *x)
{
    memset(x, 0, sizeof *x);
    x->lowercase_keys = t->lowercase_keys;
    x->rename_from = (const char *const *)t->rename.k;
    x->rename_to = (const char *const *)t->rename.v;
    x->nrename = t->rename.n;
    x->require = (const char *const *)t->require.v;
    x->nrequire = t->require.n;
    x->drop_where = (const char *const *)t->drop_where.v;
    x->ndrop_where = t->drop_where.n;
    x->keep_where = (const char *const *)t->keep_where.v;
    x->nkeep_where = t->keep_where.n;
    x->drop = (const char *const *)t->drop.v;
    x->ndrop = t->drop.n;
    x->set_key = (const char *const *)t->set.k;
    x->set_value = (const char *const *)t->set.v;
    x->nset = t->set.n;
}

/* sv_sql_open_fn: the network's engines are read-only unless the caller has a
 * write token, never read local files, and share query.memory_limit. */
static struct sq_engine *query_engine(void *arg, int read_only, int64_t timeout_ms, char *err,
                                      size_t errlen)
{
    rt_runtime *rt = arg;
    rt_sql_req q = {0};
    q.read_only = read_only;
    q.no_files = 1;
    q.timeout_ms = timeout_ms;
    q.memory_limit = (int64_t)rt->cf->query.memory_limit;
    return rt_sql_open(rt, &q, err, errlen);
}

/* /v1/jobs: readers as for POST /v1/query (query.tokens or write_tokens, or
 * anyone when neither is set); starting runs only with a write token (or,
 * with no tokens at all, by anyone: the server listens on loopback). */
static int jobs_http(void *arg, const sv_ext_req *q, ut_buf *out)
{
    rt_runtime *rt = arg;
    const cf_config *cf = rt->cf;
    int writer = 1;
    if (cf->query.tokens.n || cf->query.write_tokens.n) {
        size_t tl = q->bearer ? strlen(q->bearer) : 0;
        writer = q->bearer && ut_token_in((const char *const *)cf->query.write_tokens.v,
                                          cf->query.write_tokens.n, q->bearer, tl);
        if (!writer && !(q->bearer && ut_token_in((const char *const *)cf->query.tokens.v,
                                                  cf->query.tokens.n, q->bearer, tl))) {
            ut_buf_puts(out, q->bearer ? "{\"error\":\"invalid token\"}\n"
                                       : "{\"error\":\"missing Bearer token\"}\n");
            return 401;
        }
    }
    jb_runtime *jobs = __atomic_load_n(&rt->jobs, __ATOMIC_SEQ_CST);
    if (!jobs) {
        ut_buf_puts(out, "{\"error\":\"the jobs runtime is not running\"}\n");
        return 503;
    }
    jb_http_args a = {q->arg, q->gone, q->conn};
    return jb_http(jobs, q->method, q->path, q->body, q->n, writer, &a, out);
}

/* /metrics of the log-file shipper (sources: in the config). */
static void sources_metrics(rt__sources *src, ut_buf *out)
{
    tl_stats st;
    rt__sources_stats(src, &st);
    static const struct {
        const char *name, *help;
    } m[] = {{"sluice_tail_records_total", "Log records shipped and acknowledged."},
             {"sluice_tail_bytes_total", "Log file bytes shipped and acknowledged."},
             {"sluice_tail_cut_lines_total", "Lines over max_line_bytes, cut."},
             {"sluice_tail_parse_errors_total", "Records that did not parse (sent as message)."},
             {"sluice_tail_rotations_total", "Rotated or deleted files drained and closed."},
             {"sluice_tail_retries_total", "Failed sends retried."}};
    const uint64_t v[] = {st.records, st.bytes, st.cut_lines, st.parse_errors, st.rotations,
                          st.retries};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        ut_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", m[i].name, m[i].help,
                      m[i].name, m[i].name, (unsigned long long)v[i]);
}

static void jobs_metrics(void *arg, ut_buf *out)
{
    rt_runtime *rt = arg;
    jb_runtime *jobs = __atomic_load_n(&rt->jobs, __ATOMIC_SEQ_CST);
    if (jobs) jb_metrics(jobs, out);
    rt__sources *src = __atomic_load_n(&rt->sources, __ATOMIC_SEQ_CST);
    if (src) sources_metrics(src, out);
}

static void server_opts(rt_runtime *rt, sv_opts *o)
{
    const cf_config *cf = rt->cf;
    sv_opts_init(o);
    o->host = rt->host;
    o->port = rt->port;
    o->data_dir = rt->data_dir;
    o->max_connections = (int)cf->http.max_connections;
    o->conn_timeout_s = (int)((cf->http.connection_timeout_ms + 999) / 1000);
    o->header_timeout_s = (int)((cf->http.header_timeout_ms + 999) / 1000);
    o->max_per_client = (int)cf->http.max_connections_per_client;
    o->limits.max_body = (size_t)cf->limits.max_body_bytes;
    o->limits.max_record = (size_t)cf->limits.max_record_bytes;
    o->limits.max_depth = (int)cf->limits.max_depth;
    o->limits.max_records = (int)cf->limits.max_records_per_request;
    o->min_free_disk = cf->limits.min_free_disk;
    o->auto_create = cf->auto_create_streams;
    o->store = rt->store;
    o->cf = cf;
    o->sql_open = query_engine;
    o->sql_arg = rt;
    o->shutdown_timeout_ms = cf->shutdown_timeout_ms;
    o->ext_prefix[0] = "/v1/jobs";
    o->ext_prefix[1] = "/v1/alerts";
    o->ext = jobs_http;
    o->ext_metrics = jobs_metrics;
    o->ext_arg = rt;
}

/* The secrets of the declared streams' aws_keys, into sc[i] (sc[i] is
 * cf->streams[i]'s); *held: what to wipe and free after sv_start.  0 / -1. */
static int aws_secrets(const cf_config *cf, sv_stream_conf *sc, char ***held, char *err,
                       size_t errlen)
{
    int total = 0;
    for (int i = 0; i < cf->nstreams; i++) total += cf->streams[i].aws_keys.n;
    *held = ut_calloc((size_t)total + 1, sizeof **held);
    for (int i = 0, k = 0; i < cf->nstreams; i++) {
        const cf_stream *cs = &cf->streams[i];
        sc[i].aws_ids = (const char *const *)cs->aws_keys.v;
        sc[i].aws_secrets = (const char *const *)(*held + k);
        sc[i].naws = cs->aws_keys.n;
        sc[i].aws_anonymous = cs->aws_anonymous;
        for (int j = 0; j < cs->aws_keys.n; j++, k++) {
            char v[JB_SECRET_MAX], e[512];
            if (jb_secret(cf, cs->aws_keys.v[j], v, e, sizeof e))
                return ut_err(err, errlen, "streams.%s.aws_keys: %s", cs->name, e);
            (*held)[k] = ut_strdup(v);
            memset(v, 0, sizeof v);
        }
    }
    return 0;
}

static void aws_secrets_free(char **held)
{
    for (int i = 0; held && held[i]; i++) {
        memset(held[i], 0, strlen(held[i]));
        free(held[i]);
    }
    free(held);
}

int rt__serve(rt_runtime *rt, char *err, size_t errlen)
{
    const cf_config *cf = rt->cf;
    sv_opts o;
    server_opts(rt, &o);
    cf_stream defaults; /* streams created on the fly or found in the data directory */
    cf_stream_defaults(&defaults);
    stream_conf(cf, &defaults, &o.auto_conf);
    sv_stream_conf *sc = ut_calloc((size_t)cf->nstreams + (size_t)cf->njobs + 2, sizeof *sc);
    char (*names)[80] = ut_calloc((size_t)cf->njobs + 1, sizeof *names);
    char (*tables)[CF_TABLE_MAX] = ut_calloc((size_t)cf->njobs + 1, sizeof *tables);
    int n = 0;
    xf_spec *xs = ut_calloc((size_t)cf->nstreams + 1, sizeof *xs);
    for (int i = 0; i < cf->nstreams; i++) {
        stream_conf(cf, &cf->streams[i], &sc[n]);
        if (cf_transform_any(&cf->streams[i].transform)) {
            transform_spec(&cf->streams[i].transform, &xs[i]);
            sc[n].transform = &xs[i];
        }
        n++;
    }
    for (int i = 0; i < cf->njobs; i++) { /* a collect job's <job>.files, unless declared */
        const cf_job *j = &cf->jobs[i];
        snprintf(names[i], sizeof names[i], "%s.files", j->name);
        if (j->kind != CF_JOB_COLLECT || cf_stream_find(cf, names[i])) continue;
        stream_conf(cf, &defaults, &sc[n]);
        snprintf(tables[i], sizeof tables[i], "t1_%s_files", j->name);
        sc[n].name = names[i];
        sc[n].sink = 1;
        sc[n++].sink_opts.table = tables[i];
    }
    int snapshots = 0; /* the alerts of snapshot jobs (schema changes) on _alerts, unless declared */
    for (int i = 0; i < cf->njobs; i++) snapshots |= cf->jobs[i].kind == CF_JOB_SNAPSHOT;
    if (snapshots && !cf_stream_find(cf, JB_ALERTS_STREAM)) {
        stream_conf(cf, &defaults, &sc[n]);
        sc[n].name = JB_ALERTS_STREAM;
        sc[n].sink = 1;
        sc[n++].sink_opts.table = JB_ALERTS_STREAM;
    }
    o.streams = sc;
    o.nstreams = n;
    char **held = NULL;
    if (aws_secrets(cf, sc, &held, err, errlen) == 0)
        rt->server = sv_start(&o, err, errlen); /* copies what it keeps */
    aws_secrets_free(held);
    free(xs);
    free(sc);
    free(names);
    free(tables);
    cf_stream_clear(&defaults);
    return rt->server ? 0 : -1;
}
