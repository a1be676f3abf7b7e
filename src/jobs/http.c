/* jobs: the HTTP API and the /metrics lines.
 *
 *   GET  /v1/alerts                     alert jobs (state, condition, last run) and
 *                                       the built-in alerts (checks, last notices)
 *   GET  /v1/jobs                       every job: kind, schedule, window, pool,
 *                                       next fire, runs by state, the last run
 *   GET  /v1/jobs/{job}/runs            ?state=S&limit=N&window=YYYY-MM-DD[THH:MM:SSZ]
 *   GET  /v1/jobs/{job}/runs/{id}/log   what each attempt of the run logged
 *   POST /v1/jobs/{job}/runs            {"window":"2024-05-01","force":false}
 *                                       or {"backfill":{"from":..,"to":..,
 *                                       "parallel":8 | "serial":true,"name":".."}}
 *
 * Internal, for `sluice worker` processes (the queue client of
 * queue_http.c), over this server's queue:
 *
 *   POST /v1/jobs/_tasks/take           {"consumer":C,"block_ms":N,"stale_ms":N}
 *                                       200 {"offset":O,"deliveries":D,"run":R}
 *                                       | 204 (nothing within block_ms)
 *   POST /v1/jobs/_tasks/heartbeat      {"consumer":C,"offset":O,"deliveries":D,"run":R}
 *                                       200 | 409 (no longer C's)
 *   POST /v1/jobs/_tasks/push           {"run":R,"tags":"T1 T2"} 200 {"first":O}: sub-tasks
 *                                       of a running run (a take's reply: "tag":T)
 *   POST /v1/jobs/_tasks/ack            {"consumer":C,"offset":O,...} 200 (a task
 *                                       another consumer took over is left to it)
 *
 * block_ms is capped at TAKE_MAX_BLOCK_MS, and a take stops waiting when
 * its client goes away (it is handed nothing then); stale_ms is never less
 * than this server's task_timeout (a worker with another config cannot
 * take tasks from live workers early).
 *
 * The caller (the runtime) decides who may call: POST only with a write
 * token.  Replies are JSON; errors {"error":"..."} with the status of their
 * kind. */
#include "jobs/jb_rt.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAKE_MAX_BLOCK_MS 5000
#define TAKE_SLICE_MS 100

static int status_of(ut_errkind k)
{
    switch (k) {
    case UT_EINVAL: return 400;
    case UT_ENOTFOUND: return 404;
    case UT_EEXISTS: return 409;
    case UT_ETOOBIG: return 413;
    case UT_EDENIED: return 403;
    default: return 500;
    }
}

static int reply_error(ut_buf *out, int code, const char *msg)
{
    ut_buf_reset(out);
    ut_buf_puts(out, "{\"error\":");
    ut_json_str(out, msg, strlen(msg));
    ut_buf_puts(out, "}\n");
    return code;
}

static void json_time(ut_buf *b, int64_t us)
{
    char t[40];
    if (us == CR_NO_NEXT || us == CR_NO_PREV || ut_ts_format(t, us / 1000000 * 1000000) <= 0)
        ut_buf_puts(b, "null");
    else ut_buf_printf(b, "\"%s\"", t);
}

static void json_run(ut_buf *b, const ct_run *r)
{
    ut_buf_printf(b, "{\"id\":%lld,\"job\":", (long long)r->id);
    ut_json_str(b, r->job, strlen(r->job));
    ut_buf_puts(b, ",\"window_start\":");
    json_time(b, r->window_start);
    ut_buf_puts(b, ",\"window_end\":");
    json_time(b, r->window_end);
    ut_buf_printf(b, ",\"state\":\"%s\",\"attempt\":%d,\"deliveries\":%d,\"trigger\":\"%s\","
                     "\"backfill\":", ct_run_state_name(r->state), r->attempt, r->deliveries,
                  r->trigger);
    ut_json_str(b, r->backfill, strlen(r->backfill));
    ut_buf_puts(b, ",\"account\":");
    ut_json_str(b, r->part, strlen(r->part));
    ut_buf_printf(b, ",\"iterations\":%d,\"worker\":", r->iterations);
    ut_json_str(b, r->worker, strlen(r->worker));
    ut_buf_printf(b, ",\"created_ms\":%lld,\"started_ms\":%lld,\"finished_ms\":%lld,\"rows\":%lld,"
                     "\"error\":", (long long)r->created_ms, (long long)r->started_ms,
                  (long long)r->finished_ms, (long long)r->rows);
    ut_json_str(b, r->error, strlen(r->error));
    ut_buf_putc(b, '}');
}

/* Runs by job (index in the config) and state, for GET /v1/jobs: one
 * ct_run_counts (a scan of the run history) for all jobs. */
typedef struct counts {
    const cf_config *cf;
    int64_t (*n)[CT_RUN_STATES];
} counts;

static void count_one(void *arg, const char *job, ct_run_state st, int64_t n)
{
    counts *c = arg;
    const cf_job *j = cf_job_find(c->cf, job);
    if (j) c->n[j - c->cf->jobs][st] = n;
}

static int list_jobs(jb_runtime *r, ut_buf *out)
{
    char err[512];
    counts c = {.cf = r->cf, .n = ut_calloc((size_t)r->cf->njobs + 1, sizeof *c.n)};
    ut_buf_putc(out, '[');
    pthread_mutex_lock(&r->cmu);
    ct_run_counts(r->cat, count_one, &c, err, sizeof err);
    for (int i = 0; i < r->cf->njobs; i++) {
        const cf_job *j = &r->cf->jobs[i];
        ut_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        ut_json_str(out, j->name, strlen(j->name));
        ut_buf_printf(out, ",\"kind\":\"%s\",\"schedule\":", cf_job_kind_name(j->kind));
        ut_json_str(out, j->schedule, strlen(j->schedule));
        ut_buf_printf(out, ",\"every_ms\":%lld,\"window\":\"%s\",\"table\":", (long long)j->every_ms,
                      cf_window_name(j->window));
        ut_json_str(out, j->table, strlen(j->table));
        ut_buf_puts(out, ",\"pool\":");
        ut_json_str(out, j->pool, strlen(j->pool));
        ut_buf_puts(out, ",\"next_fire\":");
        json_time(out, jb__next_fire(&r->timings[i], jb__now_us(r)));
        ut_buf_puts(out, ",\"runs\":{");
        for (int s = 1; s < CT_RUN_STATES; s++)
            ut_buf_printf(out, "%s\"%s\":%lld", s > 1 ? "," : "", ct_run_state_name((ct_run_state)s),
                          (long long)c.n[i][s]);
        ut_buf_puts(out, "},\"last_run\":");
        ct_run *v = NULL;
        ct_run_filter f = {.job = j->name, .limit = 1};
        if (ct_runs(r->cat, &f, &v, err, sizeof err) == 1) json_run(out, &v[0]);
        else ut_buf_puts(out, "null");
        free(v);
        ut_buf_putc(out, '}');
    }
    pthread_mutex_unlock(&r->cmu);
    free(c.n);
    ut_buf_puts(out, "]\n");
    return 200;
}

/* "YYYY-MM-DD" or RFC 3339 in the job's zone. */
static int when(const jb_runtime *r, const cf_job *j, const char *s, int64_t *us)
{
    return jb__parse_time(jb__timing(r, j), s, us);
}

static int get_runs(jb_runtime *r, const cf_job *j, const jb_http_args *a, ut_buf *out)
{
    char err[512];
    ct_run_filter f = {.job = j->name, .limit = 100};
    const char *state = a->arg(a->conn, "state"), *limit = a->arg(a->conn, "limit"),
               *window = a->arg(a->conn, "window");
    ct_run_state st;
    if (state) {
        if (ct_run_state_parse(state, &st)) return reply_error(out, 400, "unknown state");
        f.state_mask = 1u << st;
    }
    if (limit) f.limit = atoi(limit) > 0 ? atoi(limit) : 100;
    if (window) {
        if (when(r, j, window, &f.window_from))
            return reply_error(out, 400, "window: expected YYYY-MM-DD or RFC 3339");
        f.window_to = f.window_from + 1;
    }
    ct_run *v = NULL;
    pthread_mutex_lock(&r->cmu);
    int n = ct_runs(r->cat, &f, &v, err, sizeof err);
    pthread_mutex_unlock(&r->cmu);
    if (n < 0) return reply_error(out, 500, err);
    ut_buf_putc(out, '[');
    for (int i = 0; i < n; i++) {
        if (i) ut_buf_putc(out, ',');
        json_run(out, &v[i]);
    }
    ut_buf_puts(out, "]\n");
    free(v);
    return 200;
}

/* The fields of a POST body we use. */
typedef struct post_body {
    char window[64], from[64], to[64], name[65];
    int force, serial, parallel, backfill;
} post_body;

static void copy_str(char *dst, size_t cap, const js_value *v)
{
    snprintf(dst, cap, "%.*s", v->kind == JS_STRING ? (int)(v->n < cap ? v->n : cap - 1) : 0, v->s);
}

static int parse_backfill(js_parser *p, const js_value *v, post_body *b, char *err, size_t n)
{
    if (v->kind != JS_OBJECT) return ut_err(err, n, "backfill must be an object");
    if (js_obj_begin(p, v->s, v->n, err, n)) return -1;
    js_field f;
    int rc;
    b->backfill = 1;
    while ((rc = js_obj_next(p, &f, err, n)) == 1) {
        if (f.key_len == 4 && !memcmp(f.key, "from", 4)) copy_str(b->from, sizeof b->from, &f.v);
        else if (f.key_len == 2 && !memcmp(f.key, "to", 2)) copy_str(b->to, sizeof b->to, &f.v);
        else if (f.key_len == 4 && !memcmp(f.key, "name", 4)) copy_str(b->name, sizeof b->name, &f.v);
        else if (f.key_len == 8 && !memcmp(f.key, "parallel", 8) && f.v.kind == JS_INT)
            b->parallel = f.v.i > 0 && f.v.i < 100000 ? (int)f.v.i : -1;
        else if (f.key_len == 6 && !memcmp(f.key, "serial", 6)) b->serial = f.v.kind == JS_BOOL && f.v.b;
        else return ut_err(err, n, "backfill: unknown key '%.*s'", (int)f.key_len, f.key);
    }
    return rc < 0 ? -1 : 0;
}

static int parse_post(const char *body, size_t len, post_body *b, char *err, size_t n)
{
    memset(b, 0, sizeof *b);
    js_parser *p = js_parser_create(1u << 20, 8), *q = js_parser_create(1u << 20, 8);
    int rc = js_obj_begin(p, body, len, err, n);
    js_field f;
    while (rc == 0 && (rc = js_obj_next(p, &f, err, n)) == 1) {
        rc = 0;
        if (f.key_len == 6 && !memcmp(f.key, "window", 6)) copy_str(b->window, sizeof b->window, &f.v);
        else if (f.key_len == 5 && !memcmp(f.key, "force", 5)) b->force = f.v.kind == JS_BOOL && f.v.b;
        else if (f.key_len == 8 && !memcmp(f.key, "backfill", 8)) rc = parse_backfill(q, &f.v, b, err, n);
        else rc = ut_err(err, n, "unknown key '%.*s' (window, force, backfill)", (int)f.key_len, f.key);
    }
    js_parser_destroy(p);
    js_parser_destroy(q);
    return rc < 0 ? -1 : 0;
}

static int post_runs(jb_runtime *r, const cf_job *j, const char *body, size_t len, ut_buf *out)
{
    post_body b;
    char err[512];
    ut_error e = {0};
    if (parse_post(body, len, &b, err, sizeof err)) return reply_error(out, 400, err);
    if (j->accounts.sql[0]) { /* the accounts as the service database has them now */
        pthread_mutex_lock(&r->cmu);
        int bad = jb__accounts_resolve(r, j, &e);
        pthread_mutex_unlock(&r->cmu);
        if (bad) return reply_error(out, status_of(e.kind), e.msg);
    }
    if (j->kind == CF_JOB_SNAPSHOT) { /* the source's tables now */
        pthread_mutex_lock(&r->cmu);
        int bad = jb__snap_resolve(r->cf, r->cat, j, &e);
        pthread_mutex_unlock(&r->cmu);
        if (bad) return reply_error(out, status_of(e.kind), e.msg);
    }
    if (b.backfill) {
        int64_t f0, t0;
        int n = 0;
        if (when(r, j, b.from, &f0) || when(r, j, b.to, &t0) || t0 <= f0)
            return reply_error(out, 400, "backfill: from and to are dates, to after from");
        if (b.serial == (b.parallel > 0) || b.parallel < 0)
            return reply_error(out, 400, "backfill: give serial: true or parallel: N (1..99999)");
        if (jb_backfill(r->cf, r->data_dir, j->name, f0, t0, b.serial ? 0 : b.parallel, b.name, 0,
                        &n, &e))
            return reply_error(out, status_of(e.kind), e.msg);
        ut_buf_puts(out, "{\"backfill\":");
        ut_json_str(out, b.name, strlen(b.name));
        ut_buf_printf(out, ",\"windows\":%d}\n", n);
        jb__kick(r);
        return 201;
    }
    int64_t at, id = 0;
    if (when(r, j, b.window, &at)) return reply_error(out, 400, "window: expected YYYY-MM-DD or RFC 3339");
    if (jb__trigger(r, j, at, b.force, &id, &e))
        return reply_error(out, status_of(e.kind), e.msg);
    ut_buf_printf(out, "{\"run\":%lld}\n", (long long)id);
    jb__kick(r);
    return 201;
}

/* ---- the queue for sluice worker processes ----------------------------------- */

/* The fields of a /v1/jobs/_tasks/... body. */
typedef struct task_req {
    char consumer[65];
    char tags[JB_PUSH_MAX * (JB_TAG_MAX + 1) + 1]; /* push: space-separated */
    int64_t block_ms, stale_ms;
    jb_task t;
    int seen; /* 1 consumer, 2 offset, 4 deliveries, 8 run */
} task_req;

/* A consumer name of the journal: 1-64 of [A-Za-z0-9_.-], not starting with '.'. */
static int consumer_ok(const js_value *v)
{
    if (v->kind != JS_STRING || v->n < 1 || v->n > 64 || v->s[0] == '.') return 0;
    for (size_t i = 0; i < v->n; i++) {
        char c = v->s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static int task_field(const js_field *f, task_req *q, char *err, size_t n)
{
    const js_value *v = &f->v;
#define KEY(k) (f->key_len == sizeof k - 1 && !memcmp(f->key, k, sizeof k - 1))
    if (KEY("consumer")) {
        if (!consumer_ok(v)) return ut_err(err, n, "consumer: 1-64 of [A-Za-z0-9_.-]");
        memcpy(q->consumer, v->s, v->n);
        q->consumer[v->n] = 0;
        q->seen |= 1;
        return 0;
    }
    if (KEY("tags") && v->kind == JS_STRING && v->n < sizeof q->tags) {
        memcpy(q->tags, v->s, v->n);
        q->tags[v->n] = 0;
        q->seen |= 16;
        return 0;
    }
    int64_t i = v->kind == JS_INT ? v->i : -1;
    if (KEY("block_ms") && i >= 0) q->block_ms = i > TAKE_MAX_BLOCK_MS ? TAKE_MAX_BLOCK_MS : i;
    else if (KEY("stale_ms") && i >= 0) q->stale_ms = i;
    else if (KEY("offset") && i >= 0) q->t.offset = (uint64_t)i, q->seen |= 2;
    else if (KEY("deliveries") && i >= 1 && i < 1000000) q->t.deliveries = (int)i, q->seen |= 4;
    else if (KEY("run") && i > 0) q->t.run_id = i, q->seen |= 8;
    else return ut_err(err, n, "unknown key or bad value: '%.*s'", (int)f->key_len, f->key);
#undef KEY
    return 0;
}

static int parse_task_req(const char *body, size_t len, int need, task_req *q, char *err,
                          size_t n)
{
    memset(q, 0, sizeof *q);
    js_parser *p = js_parser_create(1u << 20, 4);
    int rc = js_obj_begin(p, body, len, err, n);
    js_field f;
    while (rc == 0 && (rc = js_obj_next(p, &f, err, n)) == 1) rc = task_field(&f, q, err, n);
    js_parser_destroy(p);
    if (rc < 0) return -1;
    if ((q->seen & need) != need)
        return ut_err(err, n, "missing %s", (need & ~q->seen & 1) ? "consumer" : "offset, "
                                                                  "deliveries or run");
    return 0;
}

static int stopping(jb_runtime *r)
{
    pthread_mutex_lock(&r->mu);
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

/* A take waits in slices of TAKE_SLICE_MS, and only while its client is
 * there and the runtime runs: a task handed to a worker that went away
 * would wait task_timeout for a takeover and use up a delivery. */
static int task_take(jb_runtime *r, const task_req *q, const jb_http_args *a, ut_buf *out)
{
    char err[512];
    jb_task t;
    int64_t stale = q->stale_ms > r->cf->scheduler.task_timeout_ms
                        ? q->stale_ms : r->cf->scheduler.task_timeout_ms;
    int got = 0;
    for (int64_t left = q->block_ms;;) {
        int slice = (int)(left > TAKE_SLICE_MS ? TAKE_SLICE_MS : left);
        got = jb__queue_take(r->q, q->consumer, slice, stale, &t, err, sizeof err);
        left -= slice;
        if (got || left <= 0 || stopping(r) || (a->gone && a->gone(a->conn))) break;
    }
    if (got < 0) return reply_error(out, 500, err);
    if (!got) return 204;
    pthread_mutex_lock(&r->mu);
    r->tasks_taken++;
    if (t.deliveries > 1) r->tasks_claimed++;
    pthread_mutex_unlock(&r->mu);
    ut_buf_printf(out, "{\"offset\":%llu,\"deliveries\":%d,\"run\":%lld",
                  (unsigned long long)t.offset, t.deliveries, (long long)t.run_id);
    if (t.tag[0]) ut_buf_printf(out, ",\"tag\":\"%s\"", t.tag); /* [A-Za-z0-9._-] */
    ut_buf_puts(out, "}\n");
    return 200;
}

/* A running run's sub-tasks from a worker process (jb__queue_push_tagged). */
static int task_push(jb_runtime *r, task_req *q, ut_buf *out)
{
    char err[512];
    const char *tags[JB_PUSH_MAX];
    int n = 0;
    for (char *s = q->tags, *save = NULL, *t; (t = strtok_r(s, " ", &save)); s = NULL) {
        if (n == JB_PUSH_MAX) return reply_error(out, 400, "tags: more than 256");
        if (!jb__tag_ok(t, strlen(t)))
            return reply_error(out, 400, "tags: each is 1-40 of [A-Za-z0-9._-]");
        tags[n++] = t;
    }
    if (!n) return reply_error(out, 400, "tags: none");
    uint64_t first;
    if (jb__queue_push_tagged(r->q, q->t.run_id, tags, n, &first, err, sizeof err))
        return reply_error(out, 500, err);
    ut_buf_printf(out, "{\"first\":%llu}\n", (unsigned long long)first);
    return 200;
}

/* POST /v1/jobs/_tasks/{take,heartbeat,ack}. */
static int tasks_http(jb_runtime *r, const char *what, const char *body, size_t len,
                      const jb_http_args *a, ut_buf *out)
{
    char err[512];
    task_req q;
    int take = !strcmp(what, "take"), beat = !strcmp(what, "heartbeat"),
        ack = !strcmp(what, "ack"), push = !strcmp(what, "push");
    if (!take && !beat && !ack && !push)
        return reply_error(out, 404,
                           "no such endpoint (POST /v1/jobs/_tasks/take, heartbeat, ack, push)");
    if (parse_task_req(body, len, take ? 1 : push ? 8 | 16 : 15, &q, err, sizeof err))
        return reply_error(out, 400, err);
    if (take && stopping(r)) return reply_error(out, 503, "the server is stopping");
    if (r->q->remote) return reply_error(out, 503, "this process has no task queue of its own");
    if (take) return task_take(r, &q, a, out);
    if (push) return task_push(r, &q, out);
    if (ack) {
        if (jb__queue_ack(r->q, q.consumer, &q.t, err, sizeof err)) return reply_error(out, 500, err);
        pthread_mutex_lock(&r->mu);
        r->tasks_acked++;
        pthread_mutex_unlock(&r->mu);
        jb__kick(r);
        ut_buf_puts(out, "{}\n");
        return 200;
    }
    int rc = jb__queue_heartbeat(r->q, q.consumer, &q.t, err, sizeof err);
    if (rc) return reply_error(out, rc > 0 ? 409 : 500, err);
    ut_buf_puts(out, "{}\n");
    return 200;
}

/* GET /v1/jobs/{job}/runs/{id}/log: {"run":ID,"job":J,"attempts":[{"attempt",
 * "created_ms","text"}]} (the attempts that logged anything, oldest first). */
typedef struct log_out {
    ut_buf *b;
    int n;
} log_out;

static void on_log(void *arg, int attempt, int64_t created_ms, const char *text, size_t n)
{
    log_out *o = arg;
    ut_buf_printf(o->b, "%s{\"attempt\":%d,\"created_ms\":%lld,\"text\":", o->n++ ? "," : "",
                  attempt, (long long)created_ms);
    ut_json_str(o->b, text, n);
    ut_buf_putc(o->b, '}');
}

static int get_log(jb_runtime *r, const cf_job *j, int64_t id, ut_buf *out)
{
    char err[512];
    ct_run run;
    pthread_mutex_lock(&r->cmu);
    int found = ct_run_get(r->cat, id, &run, err, sizeof err);
    if (found > 0 && strcmp(run.job, j->name)) found = 0;
    int rc = 0;
    if (found > 0) {
        ut_buf_printf(out, "{\"run\":%lld,\"job\":", (long long)id);
        ut_json_str(out, j->name, strlen(j->name));
        ut_buf_puts(out, ",\"attempts\":[");
        log_out o = {out, 0};
        rc = ct_run_logs(r->cat, id, on_log, &o, err, sizeof err);
        ut_buf_puts(out, "]}\n");
    }
    pthread_mutex_unlock(&r->cmu);
    if (found < 0 || rc < 0) return reply_error(out, 500, err);
    if (!found) return reply_error(out, 404, "no such run of this job");
    return 200;
}

/* GET /v1/alerts: {"jobs":[alert jobs, their state and last run],"builtin":{...}} */
static int list_alerts(jb_runtime *r, ut_buf *out)
{
    char err[512];
    ut_buf_puts(out, "{\"jobs\":[");
    int k = 0;
    pthread_mutex_lock(&r->cmu);
    for (int i = 0; i < r->cf->njobs; i++) {
        const cf_job *j = &r->cf->jobs[i];
        if (j->kind != CF_JOB_ALERT) continue;
        jb_alert_state st;
        jb__alert_state_load(r->data_dir, j->name, &st);
        ut_buf_puts(out, k++ ? ",{\"name\":" : "{\"name\":");
        ut_json_str(out, j->name, strlen(j->name));
        ut_buf_puts(out, ",\"schedule\":");
        ut_json_str(out, j->schedule, strlen(j->schedule));
        ut_buf_printf(out, ",\"every_ms\":%lld,\"query\":", (long long)j->every_ms);
        ut_json_str(out, j->query, strlen(j->query));
        ut_buf_puts(out, ",\"condition\":");
        ut_json_str(out, j->condition, strlen(j->condition));
        ut_buf_printf(out, ",\"cooldown_ms\":%lld,\"webhook\":%s,\"state\":\"%s\","
                           "\"since_ms\":%lld,\"notified_ms\":%lld,\"last_run\":",
                      (long long)j->cooldown_ms, j->alert_webhook[0] ? "true" : "false",
                      st.triggered ? "triggered" : "ok", (long long)st.since_ms,
                      (long long)st.notified_ms);
        ct_run_filter f = {.job = j->name, .limit = 1};
        ct_run *runs = NULL;
        int n = ct_runs(r->cat, &f, &runs, err, sizeof err);
        if (n > 0) json_run(out, &runs[0]);
        else ut_buf_puts(out, "null");
        free(runs);
        ut_buf_putc(out, '}');
    }
    pthread_mutex_unlock(&r->cmu);
    ut_buf_puts(out, "],\"builtin\":");
    jb__builtin_json(r, out);
    ut_buf_puts(out, "}\n");
    return 200;
}

int jb_http(jb_runtime *r, const char *method, const char *path, const char *body, size_t len,
            int writer, const jb_http_args *a, ut_buf *out)
{
    if (!strcmp(path, "/v1/alerts")) {
        if (strcmp(method, "GET")) return reply_error(out, 405, "use GET");
        return list_alerts(r, out);
    }
    if (!strcmp(path, "/v1/jobs")) {
        if (strcmp(method, "GET")) return reply_error(out, 405, "use GET");
        return list_jobs(r, out);
    }
    if (!strncmp(path, "/v1/jobs/_tasks/", 16)) {
        if (strcmp(method, "POST")) return reply_error(out, 405, "use POST");
        if (!writer)
            return reply_error(out, 403, "the task queue needs a write token (query.write_tokens)");
        return tasks_http(r, path + 16, body, len, a, out);
    }
    const char *p = path + 8; /* after "/v1/jobs" */
    char name[80];
    size_t n = *p == '/' ? strcspn(p + 1, "/") : 0;
    const char *rest = p + 1 + n;
    int64_t run_id = 0;
    if (n && !strncmp(rest, "/runs/", 6)) { /* /runs/ID/log */
        char *end;
        run_id = strtoll(rest + 6, &end, 10);
        if (run_id <= 0 || strcmp(end, "/log")) run_id = -1;
    }
    if (!n || n >= sizeof name || run_id < 0 || (!run_id && strcmp(rest, "/runs")))
        return reply_error(out, 404, "no such endpoint (GET /v1/jobs, GET|POST /v1/jobs/JOB/runs, "
                                     "GET /v1/jobs/JOB/runs/ID/log)");
    memcpy(name, p + 1, n);
    name[n] = 0;
    const cf_job *j = cf_job_find(r->cf, name);
    if (!j) return reply_error(out, 404, "no such job");
    if (run_id) {
        if (strcmp(method, "GET")) return reply_error(out, 405, "use GET");
        return get_log(r, j, run_id, out);
    }
    if (!strcmp(method, "GET")) return get_runs(r, j, a, out);
    if (strcmp(method, "POST")) return reply_error(out, 405, "use GET or POST");
    if (!writer) return reply_error(out, 403, "starting runs needs a write token (query.write_tokens)");
    return post_runs(r, j, body, len, out);
}

/* ---- /metrics ----------------------------------------------------------------- */

static void help(ut_buf *b, const char *name, const char *type, const char *text)
{
    ut_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void metric_count(void *arg, const char *job, ct_run_state st, int64_t n)
{
    ut_buf_printf(arg, "sluice_job_runs{job=\"%s\",state=\"%s\"} %lld\n", job,
                  ct_run_state_name(st), (long long)n);
}

void jb__cstats_add(jb_runtime *r, const cf_job *j, const cl_result *res)
{
    jb_cstats *c = &r->cstats[j - r->cf->jobs];
    const int64_t v[JB_CSTATS] = {res->calls, res->throttled, res->retries, res->refreshes,
                                  res->resumes, res->pages, res->records, res->raw_bytes};
    for (int i = 0; i < JB_CSTATS; i++) atomic_fetch_add(&c->v[i], v[i]);
}

/* The collect jobs' counters. */
static void collect_metrics(jb_runtime *r, ut_buf *b)
{
    static const char *const name[JB_CSTATS][2] = {
        {"sluice_collect_calls_total", "HTTP calls of collect runs (retries included)."},
        {"sluice_collect_throttled_total", "429 answers (the pool paused for Retry-After)."},
        {"sluice_collect_retries_total", "Calls tried again after a 5xx, timeout or reset."},
        {"sluice_collect_token_refreshes_total", "OAuth2 access tokens obtained."},
        {"sluice_collect_resumes_total", "Downloads resumed with a Range request."},
        {"sluice_collect_pages_total", "Pages or report files received."},
        {"sluice_collect_records_total", "Records collected."},
        {"sluice_collect_bytes_total", "Bytes of the answers received."}};
    for (int m = 0; m < JB_CSTATS; m++) {
        help(b, name[m][0], "counter", name[m][1]);
        for (int i = 0; i < r->cf->njobs; i++)
            if (r->cf->jobs[i].kind == CF_JOB_COLLECT)
                ut_buf_printf(b, "%s{job=\"%s\"} %lld\n", name[m][0], r->cf->jobs[i].name,
                              (long long)atomic_load(&r->cstats[i].v[m]));
    }
}

void jb_metrics(jb_runtime *r, ut_buf *b)
{
    char err[256];
    uint64_t pending, waiting;
    jb__queue_depth(r->q, &pending, &waiting);
    help(b, "sluice_job_runs", "gauge", "Runs in the run history, by job and state.");
    pthread_mutex_lock(&r->cmu);
    ct_run_counts(r->cat, metric_count, b, err, sizeof err);
    uint64_t dead = r->dead_letters;
    pthread_mutex_unlock(&r->cmu);
    pthread_mutex_lock(&r->mu);
    help(b, "sluice_jobs_queue_pending", "gauge", "Tasks taken by a worker and not acknowledged.");
    ut_buf_printf(b, "sluice_jobs_queue_pending %llu\n", (unsigned long long)pending);
    help(b, "sluice_jobs_queue_waiting", "gauge", "Tasks in the queue no worker took yet.");
    ut_buf_printf(b, "sluice_jobs_queue_waiting %llu\n", (unsigned long long)waiting);
    help(b, "sluice_jobs_tasks_taken_total", "counter",
         "Tasks taken by this server's workers and by sluice worker processes through it.");
    ut_buf_printf(b, "sluice_jobs_tasks_taken_total %llu\n", (unsigned long long)r->tasks_taken);
    help(b, "sluice_jobs_tasks_claimed_total", "counter",
         "Tasks taken over from a worker that stopped heartbeating.");
    ut_buf_printf(b, "sluice_jobs_tasks_claimed_total %llu\n", (unsigned long long)r->tasks_claimed);
    help(b, "sluice_jobs_dead_letters_total", "counter", "Tasks dead-lettered (their runs dead).");
    ut_buf_printf(b, "sluice_jobs_dead_letters_total %llu\n", (unsigned long long)dead);
    pthread_mutex_unlock(&r->mu);
    static const struct {
        const char *name, *type, *help;
    } pm[] = {{"sluice_pool_waits_total", "counter", "Tasks that waited for a pool's slot or token."},
              {"sluice_pool_wait_seconds_total", "counter", "Time tasks waited for a pool."},
              {"sluice_pool_slots_used", "gauge", "Slots of a pool held now (every process)."},
              {"sluice_pool_tokens", "gauge", "Tokens in a pool's bucket now."}};
    for (int m = 0; m < 4; m++) {
        help(b, pm[m].name, pm[m].type, pm[m].help);
        for (int i = 0; i < r->cf->npools; i++) {
            pl_stats st;
            ut_error e = {0};
            if (pl_info(r->pools, r->cf->pools[i].name, &st, &e)) continue;
            double v = m == 0 ? (double)st.waits : m == 1 ? (double)st.wait_ms / 1000
                     : m == 2 ? (double)st.slots_used : st.tokens;
            ut_buf_printf(b, "%s{pool=\"%s\"} %.3f\n", pm[m].name, r->cf->pools[i].name, v);
        }
    }
    collect_metrics(r, b);
}
