/* collect_probe: runs cl_fetch (src/collect) from a JSON description, for
 * tests/integration/collect_engine.mjs while no job kind drives the engine.
 *
 *   build/san/collect_probe RUN.json
 *
 * RUN.json: {"specs":[SPEC, ...], "threads":N (1), "bucket":{"rate":R,"burst":B}
 * (the take hook: one token bucket shared by every spec; a 429's pause
 * empties it until then), "records":"FILE" (NDJSON of every record; absent:
 * counted only), "raw_dir":"DIR" (each raw part as DIR/<spec>-<part>.<ext>),
 * "sum":["install",...] (sums of those keys' integer values over the
 * records), "cancel_after_ms":N, "stop_after_records":N}.
 *
 * SPEC mirrors cl_spec: {"name","account","request":REQ,"async":{"create":REQ,
 * "id_path","status":REQ,"status_path","ready","failed","reason_path",
 * "file_url_path","poll_ms","max_wait_ms"},"auth":{"type":"bearer|header|
 * query|basic|oauth2",...cl_auth's names},"page":{"type":"none|next_url|link|
 * cursor|number|offset",...cl_pagination's names},"format":"json|ndjson|csv|
 * tsv","records","gzip","retries","timeout_ms","backoff_ms","max_record_bytes",
 * "redact":[...]}; REQ: {"method","url","params":{..},"headers":{..},"body",
 * "content_type"}.
 *
 * stdout, one JSON object a line: {"event":"part",...}, {"event":"pause",...},
 * then per spec {"result":{...,"error":MSG}}, then {"done":true,"rss_kb":N,
 * "ms":N,"takes":N,"pauses":N}.  Exit 0 when it ran (whatever the results). */
#include "collect/collect.h"
#include "json/json.h"
#include "util/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_SPECS 64
#define MAX_SUM 8

static char *strs[100000];
static int nstrs;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* output, bucket, counters */

static const char *keep_str(const char *s, size_t n)
{
    if (nstrs == (int)(sizeof strs / sizeof *strs)) exit(3);
    return strs[nstrs++] = ut_strndup(s, n);
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "collect_probe: %s: %s\n", what, err);
    exit(2);
}

static int key_is(const js_field *f, const char *k)
{
    return f->key_len == strlen(k) && !memcmp(f->key, k, f->key_len);
}

static const char *str_of(const js_field *f)
{
    if (f->v.kind == JS_NULL) return NULL;
    if (f->v.kind != JS_STRING) die("a string is expected at", keep_str(f->key, f->key_len));
    return keep_str(f->v.s, f->v.n);
}

typedef void (*field_fn)(void *dst, const js_field *f);

/* Walk the object text t[0..n), calling fn per field (on a fresh parser,
 * so that fn may walk nested objects). */
static void walk(const char *t, size_t n, void *dst, field_fn fn)
{
    char err[256];
    js_parser *p = js_parser_create(0, 0);
    if (js_obj_begin(p, t, n, err, sizeof err)) die("input", err);
    js_field f;
    int rc;
    while ((rc = js_obj_next(p, &f, err, sizeof err)) == 1) fn(dst, &f);
    if (rc < 0) die("input", err);
    js_parser_destroy(p);
}

typedef struct kvs {
    cl_kv *kv;
    int *n;
} kvs;

static void kvs_field(void *dst, const js_field *f)
{
    kvs *k = dst;
    if (*k->n == CL_MAX_PARAMS) die("input", "too many params/headers");
    k->kv[*k->n].name = keep_str(f->key, f->key_len);
    k->kv[(*k->n)++].value = str_of(f);
}

static void req_field(void *dst, const js_field *f)
{
    cl_request *rq = dst;
    if (key_is(f, "method")) rq->method = str_of(f);
    else if (key_is(f, "url")) rq->url = str_of(f);
    else if (key_is(f, "body")) rq->body = str_of(f);
    else if (key_is(f, "content_type")) rq->content_type = str_of(f);
    else if (key_is(f, "params")) walk(f->v.s, f->v.n, &(kvs){rq->params, &rq->nparams}, kvs_field);
    else if (key_is(f, "headers")) walk(f->v.s, f->v.n, &(kvs){rq->headers, &rq->nheaders}, kvs_field);
    else die("unknown request key", keep_str(f->key, f->key_len));
}

static int64_t int_of(const js_field *f)
{
    if (f->v.kind != JS_INT) die("an integer is expected at", keep_str(f->key, f->key_len));
    return f->v.i;
}

static void async_field(void *dst, const js_field *f)
{
    cl_async *a = dst;
    if (key_is(f, "create")) walk(f->v.s, f->v.n, &a->create, req_field);
    else if (key_is(f, "status")) walk(f->v.s, f->v.n, &a->status, req_field);
    else if (key_is(f, "id_path")) a->id_path = str_of(f);
    else if (key_is(f, "status_path")) a->status_path = str_of(f);
    else if (key_is(f, "ready")) a->ready = str_of(f);
    else if (key_is(f, "failed")) a->failed = str_of(f);
    else if (key_is(f, "reason_path")) a->reason_path = str_of(f);
    else if (key_is(f, "file_url_path")) a->file_url_path = str_of(f);
    else if (key_is(f, "poll_ms")) a->poll_ms = int_of(f);
    else if (key_is(f, "max_wait_ms")) a->max_wait_ms = int_of(f);
    else die("unknown async key", keep_str(f->key, f->key_len));
}

static int pick(const char *v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (v && !strcmp(v, names[i])) return i;
    die("unknown value", v ? v : "(null)");
    return -1;
}

static void auth_field(void *dst, const js_field *f)
{
    static const char *const types[] = {"none", "bearer", "header", "query", "basic", "oauth2", NULL};
    cl_auth *a = dst;
    if (key_is(f, "type")) a->type = (cl_auth_type)pick(str_of(f), types);
    else if (key_is(f, "name")) a->name = str_of(f);
    else if (key_is(f, "token")) a->token = str_of(f);
    else if (key_is(f, "username")) a->username = str_of(f);
    else if (key_is(f, "password")) a->password = str_of(f);
    else if (key_is(f, "token_url")) a->token_url = str_of(f);
    else if (key_is(f, "refresh_token")) a->refresh_token = str_of(f);
    else if (key_is(f, "client_id")) a->client_id = str_of(f);
    else if (key_is(f, "client_secret")) a->client_secret = str_of(f);
    else if (key_is(f, "cache_key")) a->cache_key = str_of(f);
    else die("unknown auth key", keep_str(f->key, f->key_len));
}

static void page_field(void *dst, const js_field *f)
{
    static const char *const types[] = {"none", "next_url", "link", "cursor", "number", "offset", NULL};
    cl_pagination *p = dst;
    if (key_is(f, "type")) p->type = (cl_page_type)pick(str_of(f), types);
    else if (key_is(f, "path")) p->path = str_of(f);
    else if (key_is(f, "param")) p->param = str_of(f);
    else if (key_is(f, "size_param")) p->size_param = str_of(f);
    else if (key_is(f, "size")) p->size = int_of(f);
    else if (key_is(f, "start")) p->start = int_of(f);
    else if (key_is(f, "max_pages")) p->max_pages = int_of(f);
    else die("unknown page key", keep_str(f->key, f->key_len));
}

typedef struct spec {
    cl_spec s;
    const char *redact[33];
    int nredact;
} spec;

/* The strings of a JSON array text into out (at most max). */
static int str_array(const char *t, size_t n, const char **out, int max)
{
    char err[256];
    js_parser *p = js_parser_create(0, 0), *q = js_parser_create(0, 0);
    const char *e;
    size_t el, off;
    int k = 0, rc;
    if (js_array_begin(p, t, n, err, sizeof err)) die("input", err);
    while ((rc = js_array_next(p, &e, &el, &off, err, sizeof err)) == 1) {
        char wrap[4096];
        int wn = snprintf(wrap, sizeof wrap, "{\"v\":%.*s}", (int)el, e);
        js_field f;
        if (k == max || wn >= (int)sizeof wrap || js_obj_begin(q, wrap, (size_t)wn, err, sizeof err) ||
            js_obj_next(q, &f, err, sizeof err) != 1)
            die("input", "a bad string array");
        out[k++] = str_of(&f);
    }
    if (rc < 0) die("input", err);
    js_parser_destroy(p);
    js_parser_destroy(q);
    return k;
}

static void spec_field(void *dst, const js_field *f)
{
    static const char *const fmts[] = {"json", "ndjson", "csv", "tsv", NULL};
    spec *sp = dst;
    cl_spec *s = &sp->s;
    if (key_is(f, "name")) s->name = str_of(f);
    else if (key_is(f, "account")) s->account = str_of(f);
    else if (key_is(f, "request")) walk(f->v.s, f->v.n, &s->request, req_field);
    else if (key_is(f, "async")) s->is_async = 1, walk(f->v.s, f->v.n, &s->async, async_field);
    else if (key_is(f, "auth")) walk(f->v.s, f->v.n, &s->auth, auth_field);
    else if (key_is(f, "page")) walk(f->v.s, f->v.n, &s->page, page_field);
    else if (key_is(f, "format")) s->format = (cl_format)pick(str_of(f), fmts);
    else if (key_is(f, "records")) s->records = str_of(f);
    else if (key_is(f, "gzip")) s->gzip = (int)int_of(f);
    else if (key_is(f, "retries")) s->retries = (int)int_of(f);
    else if (key_is(f, "timeout_ms")) s->timeout_ms = int_of(f);
    else if (key_is(f, "backoff_ms")) s->backoff_ms = int_of(f);
    else if (key_is(f, "max_record_bytes")) s->max_record_bytes = (uint64_t)int_of(f);
    else if (key_is(f, "redact")) sp->nredact = str_array(f->v.s, f->v.n, sp->redact, 32);
    else die("unknown spec key", keep_str(f->key, f->key_len));
}

/* ---- the run ---------------------------------------------------------------- */

static struct run {
    spec specs[MAX_SPECS];
    int nspecs, threads, next;
    double rate, burst;           /* 0: no take hook */
    const char *records, *raw_dir;
    const char *sum[MAX_SUM];
    int nsum;
    int64_t cancel_after_ms, stop_after;
    FILE *rec_out;
    atomic_int cancel;
    cl_tokens *tokens;
    /* the bucket */
    double tokens_now, last_s, paused_until_s;
    int64_t takes, pauses;
    double t0;
} R;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_field(void *dst, const js_field *f)
{
    if (key_is(f, "threads")) R.threads = (int)int_of(f);
    else if (key_is(f, "records")) R.records = str_of(f);
    else if (key_is(f, "raw_dir")) R.raw_dir = str_of(f);
    else if (key_is(f, "cancel_after_ms")) R.cancel_after_ms = int_of(f);
    else if (key_is(f, "stop_after_records")) R.stop_after = int_of(f);
    else if (key_is(f, "sum")) R.nsum = str_array(f->v.s, f->v.n, R.sum, MAX_SUM);
    else if (key_is(f, "bucket")) {
        char err[256];
        js_parser *p = js_parser_create(0, 0);
        js_field g;
        if (js_obj_begin(p, f->v.s, f->v.n, err, sizeof err)) die("bucket", err);
        while (js_obj_next(p, &g, err, sizeof err) == 1) {
            double v = g.v.kind == JS_INT ? (double)g.v.i : g.v.d;
            if (key_is(&g, "rate")) R.rate = v;
            else if (key_is(&g, "burst")) R.burst = v;
        }
        js_parser_destroy(p);
    } else if (key_is(f, "specs")) {
        char err[256];
        js_parser *p = js_parser_create(0, 0);
        const char *e;
        size_t el, off;
        if (js_array_begin(p, f->v.s, f->v.n, err, sizeof err)) die("specs", err);
        while (js_array_next(p, &e, &el, &off, err, sizeof err) == 1) {
            if (R.nspecs == MAX_SPECS) die("specs", "too many");
            walk(e, el, &R.specs[R.nspecs++], spec_field);
        }
        js_parser_destroy(p);
    } else {
        die("unknown run key", keep_str(f->key, f->key_len));
    }
}

/* One collection's hook state. */
typedef struct job {
    int i;
    FILE *raw;
    int64_t nrec, sums[MAX_SUM];
    char ext[8];
    js_parser *jp;
} job;

static int take(void *ctx)
{
    (void)ctx;
    for (;;) {
        pthread_mutex_lock(&mu);
        double t = now_s(), wait = 0;
        R.tokens_now += (t - R.last_s) * R.rate;
        if (R.tokens_now > R.burst) R.tokens_now = R.burst;
        R.last_s = t;
        if (R.paused_until_s > t) wait = R.paused_until_s - t, R.tokens_now = 0;
        else if (R.tokens_now >= 1) R.tokens_now -= 1, R.takes++;
        else wait = (1 - R.tokens_now) / R.rate;
        pthread_mutex_unlock(&mu);
        if (wait <= 0) return 0;
        if (atomic_load(&R.cancel)) return -1;
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static void pause_hook(void *ctx, int64_t ms)
{
    job *j = ctx;
    pthread_mutex_lock(&mu);
    double until = now_s() + (double)ms / 1000;
    if (until > R.paused_until_s) R.paused_until_s = until;
    R.pauses++;
    printf("{\"event\":\"pause\",\"spec\":%d,\"ms\":%lld,\"t\":%.0f}\n", j->i, (long long)ms,
           (now_s() - R.t0) * 1000);
    fflush(stdout);
    pthread_mutex_unlock(&mu);
}

static int raw_begin(void *ctx, int part, const char *url, const char *ext)
{
    job *j = ctx;
    pthread_mutex_lock(&mu);
    ut_buf b = {0};
    ut_buf_printf(&b, "{\"event\":\"part\",\"spec\":%d,\"part\":%d,\"ext\":\"%s\",\"t\":%.0f,"
                  "\"url\":", j->i, part, ext, (now_s() - R.t0) * 1000);
    ut_json_str(&b, url, strlen(url));
    printf("%s}\n", ut_buf_cstr(&b));
    fflush(stdout);
    ut_buf_free(&b);
    pthread_mutex_unlock(&mu);
    if (j->raw) fclose(j->raw), j->raw = NULL;
    if (R.raw_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d-%d.%s", R.raw_dir, j->i, part, ext);
        if (!(j->raw = fopen(path, "wb"))) return -1;
    }
    return 0;
}

static int raw(void *ctx, const void *p, size_t n)
{
    job *j = ctx;
    return j->raw && fwrite(p, 1, n, j->raw) != n ? -1 : 0;
}

static int record(void *ctx, const char *json, size_t n)
{
    job *j = ctx;
    j->nrec++;
    if (R.nsum) {
        char err[128];
        js_field f;
        if (js_obj_begin(j->jp, json, n, err, sizeof err)) return -1;
        while (js_obj_next(j->jp, &f, err, sizeof err) == 1)
            for (int k = 0; k < R.nsum; k++)
                if (key_is(&f, R.sum[k])) {
                    char num[32];
                    snprintf(num, sizeof num, "%.*s", (int)(f.v.n < 31 ? f.v.n : 31), f.v.s);
                    j->sums[k] += f.v.kind == JS_INT ? f.v.i
                                : f.v.kind == JS_STRING ? strtoll(num, NULL, 10) : 0;
                }
    }
    if (R.rec_out) {
        pthread_mutex_lock(&mu);
        fwrite(json, 1, n, R.rec_out);
        fputc('\n', R.rec_out);
        pthread_mutex_unlock(&mu);
    }
    return R.stop_after && j->nrec >= R.stop_after ? -1 : 0;
}

static void print_result(const job *j, const cl_result *r, int rc, const ut_error *e, double ms)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "{\"result\":{\"spec\":%d,\"rc\":%d,\"kind\":\"%s\",\"status\":%d,"
                  "\"pages\":%lld,\"records\":%lld,\"hook_records\":%lld,\"raw_bytes\":%lld,"
                  "\"calls\":%lld,\"retries\":%lld,\"throttled\":%lld,\"refreshes\":%lld,"
                  "\"resumes\":%lld,\"truncated\":%d,\"ms\":%.0f,\"t\":%.0f,\"err_kind\":\"%s\","
                  "\"url\":",
                  j->i, rc, cl_kind_name(r->kind), r->status, (long long)r->pages,
                  (long long)r->records, (long long)j->nrec, (long long)r->raw_bytes,
                  (long long)r->calls, (long long)r->retries, (long long)r->throttled,
                  (long long)r->refreshes, (long long)r->resumes, r->truncated, ms,
                  (now_s() - R.t0) * 1000,
                  ut_errkind_name(e->kind));
    ut_json_str(&b, r->url, strlen(r->url));
    ut_buf_puts(&b, ",\"body\":");
    ut_json_str(&b, r->body, strlen(r->body));
    ut_buf_puts(&b, ",\"error\":");
    ut_json_str(&b, e->msg, strlen(e->msg));
    ut_buf_puts(&b, ",\"sums\":{");
    for (int k = 0; k < R.nsum; k++) {
        ut_buf_printf(&b, "%s", k ? "," : "");
        ut_json_str(&b, R.sum[k], strlen(R.sum[k]));
        ut_buf_printf(&b, ":%lld", (long long)j->sums[k]);
    }
    ut_buf_puts(&b, "}}}");
    pthread_mutex_lock(&mu);
    printf("%s\n", ut_buf_cstr(&b));
    fflush(stdout);
    pthread_mutex_unlock(&mu);
    ut_buf_free(&b);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        int i = R.next < R.nspecs ? R.next++ : -1;
        pthread_mutex_unlock(&mu);
        if (i < 0) return NULL;
        spec *sp = &R.specs[i];
        job j = {.i = i, .jp = js_parser_create(0, 0)};
        sp->redact[sp->nredact] = NULL;
        cl_hooks h = {.ctx = &j, .raw_begin = raw_begin, .raw = raw, .record = record,
                      .take = R.rate > 0 ? take : NULL, .pause = pause_hook, .cancel = &R.cancel,
                      .redact = sp->redact};
        cl_result res;
        ut_error e = {0};
        double t = now_s();
        int rc = cl_fetch(&sp->s, R.tokens, &h, &res, &e);
        if (j.raw) fclose(j.raw);
        print_result(&j, &res, rc, &e, (now_s() - t) * 1000);
        js_parser_destroy(j.jp);
    }
}

static void *canceller(void *arg)
{
    (void)arg;
    struct timespec ts = {R.cancel_after_ms / 1000, (R.cancel_after_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&R.cancel, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) die("usage", "collect_probe RUN.json");
    FILE *f = fopen(argv[1], "rb");
    if (!f) die(argv[1], "cannot open");
    ut_buf in = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) ut_buf_put(&in, buf, n);
    fclose(f);
    R.threads = 1;
    walk((const char *)in.p, in.len, NULL, run_field);
    ut_buf_free(&in);
    if (R.records && !(R.rec_out = fopen(R.records, "wb"))) die(R.records, "cannot create");
    R.tokens = cl_tokens_create();
    R.t0 = R.last_s = now_s();
    R.tokens_now = R.burst;
    pthread_t th[MAX_SPECS], canc;
    if (R.cancel_after_ms) pthread_create(&canc, NULL, canceller, NULL), pthread_detach(canc);
    int nt = R.threads < 1 ? 1 : R.threads > MAX_SPECS ? MAX_SPECS : R.threads;
    for (int i = 0; i < nt; i++) pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    if (R.rec_out) fclose(R.rec_out);
    cl_tokens_destroy(R.tokens);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"done\":true,\"rss_kb\":%ld,\"ms\":%.0f,\"takes\":%lld,\"pauses\":%lld}\n",
           ru.ru_maxrss, (now_s() - R.t0) * 1000, (long long)R.takes, (long long)R.pauses);
    for (int i = 0; i < nstrs; i++) free(strs[i]);
    return 0;
}
