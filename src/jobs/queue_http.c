/* jobs: the task queue of `sluice worker` processes — a client of the
 * queue of the server on the same data directory (its endpoints: http.c).
 *
 *   take       POST <url>/v1/jobs/_tasks/take
 *                {"consumer":C,"block_ms":N,"stale_ms":N}
 *              ──► 200 {"offset":O,"deliveries":D,"run":R} | 204 nothing to take
 *   heartbeat  POST <url>/v1/jobs/_tasks/heartbeat
 *                {"consumer":C,"offset":O,"deliveries":D,"run":R}
 *              ──► 200 kept | 409 the task is no longer C's
 *   ack        POST <url>/v1/jobs/_tasks/ack {"offset":O,"deliveries":D,"run":R} ──► 200
 *   push       POST <url>/v1/jobs/_tasks/push {"run":R,"tags":"T1 T2 ..."} ──► 200
 *                {"first":O}: sub-tasks of a running run (jb__queue_push_tagged); a
 *              take's reply has "tag":T for one
 *
 * A take is cut short when the runtime stops (*cancel).  An ack that cannot
 * reach the server (down, restarting) is tried again with backoff for up
 * to ACK_GIVE_UP_MS; a heartbeat is not (the next beat tries again).  Only
 * the catalog decides who commits (the delivery count is the fencing
 * token), so a worker cut off from the server keeps running its task.
 * Connections are kept alive in a small pool of curl handles. */
#include "jobs/jb_int.h"
#include "json/json.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define URL_MAX 1024
#define TOKEN_MAX 512
#define POOL_MAX 8
#define REPLY_MAX (64u << 10)   /* bytes of a reply kept */
#define CONNECT_TIMEOUT_MS 3000
#define CALL_TIMEOUT_MS 10000   /* heartbeat, ack; a take: + its block_ms */
#define ACK_GIVE_UP_MS 30000
#define BACKOFF_MAX_MS 5000

typedef struct jq_http {
    jb_queue base;
    char url[URL_MAX];        /* without a trailing '/' */
    char auth[TOKEN_MAX + 32]; /* "Authorization: Bearer ..." or "" */
    const atomic_int *cancel;
    pthread_mutex_t mu;       /* pool */
    CURL *pool[POOL_MAX];
    int npool;
} jq_http;

static const jb_queue_ops http_ops;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A token fit for a header line: printable ASCII, no spaces. */
static int token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f) return 0;
    return 1;
}

jb_queue *jb__queue_open_http(const char *url, const char *token, const atomic_int *cancel,
                              char *err, size_t errlen)
{
    size_t n = url ? strlen(url) : 0;
    while (n && url[n - 1] == '/') n--;
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || n >= URL_MAX ||
        n <= 8 || strpbrk(url, " \r\n\t")) {
        ut_err(err, errlen, "jobs: server URL '%.200s' is not http(s)://HOST:PORT",
               url ? url : "");
        return NULL;
    }
    if (token && !token_ok(token)) {
        ut_err(err, errlen, "jobs: the token for %.*s is empty, too long or has spaces or control "
               "characters", (int)n, url);
        return NULL;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        ut_err(err, errlen, "jobs: libcurl initialisation failed: %s",
               curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    jq_http *q = ut_calloc(1, sizeof *q);
    q->base.ops = &http_ops;
    q->base.remote = 1;
    memcpy(q->url, url, n);
    q->url[n] = 0;
    if (token) snprintf(q->auth, sizeof q->auth, "Authorization: Bearer %s", token);
    q->cancel = cancel;
    pthread_mutex_init(&q->mu, NULL);
    return &q->base;
}

static void jq_close(jb_queue *base)
{
    jq_http *q = (jq_http *)base;
    for (int i = 0; i < q->npool; i++) curl_easy_cleanup(q->pool[i]);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static CURL *handle_get(jq_http *q)
{
    CURL *c = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->npool) c = q->pool[--q->npool];
    pthread_mutex_unlock(&q->mu);
    if (c) curl_easy_reset(c);
    return c ? c : curl_easy_init();
}

static void handle_put(jq_http *q, CURL *c)
{
    pthread_mutex_lock(&q->mu);
    if (q->npool < POOL_MAX) q->pool[q->npool++] = c, c = NULL;
    pthread_mutex_unlock(&q->mu);
    if (c) curl_easy_cleanup(c);
}

typedef struct reply {
    ut_buf body;
    int too_big;
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
    reply *r = u;
    if (r->body.len + sz * n > REPLY_MAX) r->too_big = 1;
    else ut_buf_put(&r->body, p, sz * n);
    return sz * n;
}

/* Non-zero stops the transfer: the runtime is stopping. */
static int on_progress(void *u, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    const atomic_int *cancel = u;
    (void)dlt, (void)dln, (void)ult, (void)uln;
    return cancel && atomic_load(cancel);
}

/* POST body to <url><path>.  *status = the HTTP status; the reply body in
 * r.  0, or -1 with a message (no reply: unreachable, timed out, stopped). */
static int post(jq_http *q, const char *path, const char *body, long timeout_ms,
                int cancellable, long *status, reply *r, char *err, size_t errlen)
{
    char url[URL_MAX + 64], ebuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s%s", q->url, path);
    CURL *c = handle_get(q);
    if (!c) return ut_err(err, errlen, "%s: curl_easy_init failed", url);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    if (q->auth[0]) h = curl_slist_append(h, q->auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (cancellable) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)q->cancel);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    *status = 0;
    if (cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    handle_put(q, c);
    if (cc != CURLE_OK)
        return ut_err(err, errlen, "%s: %s", url,
                      cc == CURLE_ABORTED_BY_CALLBACK ? "stopped" : ebuf[0] ? ebuf
                                                                   : curl_easy_strerror(cc));
    if (r->too_big) return ut_err(err, errlen, "%s: reply over %u bytes", url, REPLY_MAX);
    return 0;
}

/* "HTTP 403: {...}" for a status the call did not expect. */
static int status_err(const jq_http *q, const char *path, long status, const reply *r, char *err,
                      size_t errlen)
{
    return ut_err(err, errlen, "%s%s: HTTP %ld: %.*s", q->url, path, status,
                  (int)(r->body.len > 300 ? 300 : r->body.len), ut_buf_cstr(&r->body));
}

static void task_body(ut_buf *b, const char *consumer, const jb_task *t)
{
    ut_buf_putc(b, '{');
    if (consumer) {
        ut_buf_puts(b, "\"consumer\":");
        ut_json_str(b, consumer, strlen(consumer));
        ut_buf_putc(b, ',');
    }
    ut_buf_printf(b, "\"offset\":%llu,\"deliveries\":%d,\"run\":%lld}",
                  (unsigned long long)t->offset, t->deliveries, (long long)t->run_id);
}

/* A take's reply {"offset":O,"deliveries":D,"run":R}.  0 / -1. */
static int parse_task(const reply *r, jb_task *t, char *err, size_t errlen)
{
    js_parser *p = js_parser_create(REPLY_MAX, 4);
    int rc = js_obj_begin(p, (const char *)r->body.p, r->body.len, err, errlen), seen = 0;
    js_field f;
    memset(t, 0, sizeof *t);
    while (rc == 0 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        rc = 0;
        if (f.key_len == 3 && !memcmp(f.key, "tag", 3) && f.v.kind == JS_STRING) {
            if (!jb__tag_ok(f.v.s, f.v.n)) rc = ut_err(err, errlen, "a take's reply has a bad tag");
            else memcpy(t->tag, f.v.s, f.v.n), t->tag[f.v.n] = 0;
            continue;
        }
        if (f.v.kind != JS_INT) continue; /* fields added later */
        if (f.key_len == 6 && !memcmp(f.key, "offset", 6) && f.v.i >= 0)
            t->offset = (uint64_t)f.v.i, seen |= 1;
        else if (f.key_len == 10 && !memcmp(f.key, "deliveries", 10) && f.v.i >= 1 &&
                 f.v.i < 1000000)
            t->deliveries = (int)f.v.i, seen |= 2;
        else if (f.key_len == 3 && !memcmp(f.key, "run", 3) && f.v.i > 0)
            t->run_id = f.v.i, seen |= 4;
    }
    js_parser_destroy(p);
    if (rc < 0) return -1;
    return seen == 7 ? 0 : ut_err(err, errlen, "a take's reply lacks offset, deliveries or run");
}

static int jq_take(jb_queue *base, const char *consumer, int block_ms, int64_t stale_ms,
                   jb_task *t, char *err, size_t errlen)
{
    jq_http *q = (jq_http *)base;
    static const char path[] = "/v1/jobs/_tasks/take";
    ut_buf b = {0};
    ut_buf_puts(&b, "{\"consumer\":");
    ut_json_str(&b, consumer, strlen(consumer));
    ut_buf_printf(&b, ",\"block_ms\":%d,\"stale_ms\":%lld}", block_ms, (long long)stale_ms);
    reply r = {{0}, 0};
    long status = 0;
    int rc = post(q, path, ut_buf_cstr(&b), CALL_TIMEOUT_MS + block_ms, 1, &status, &r, err,
                  errlen);
    if (rc == 0) {
        if (status == 204) rc = 0;
        else if (status == 200) rc = parse_task(&r, t, err, errlen) ? -1 : 1;
        else rc = status_err(q, path, status, &r, err, errlen);
    }
    ut_buf_free(&b);
    ut_buf_free(&r.body);
    return rc;
}

static int jq_heartbeat(jb_queue *base, const char *consumer, const jb_task *t, char *err,
                        size_t errlen)
{
    jq_http *q = (jq_http *)base;
    static const char path[] = "/v1/jobs/_tasks/heartbeat";
    ut_buf b = {0};
    task_body(&b, consumer, t);
    reply r = {{0}, 0};
    long status = 0;
    int rc = post(q, path, ut_buf_cstr(&b), CALL_TIMEOUT_MS, 0, &status, &r, err, errlen);
    if (rc == 0 && status == 409) rc = 1, status_err(q, path, status, &r, err, errlen);
    else if (rc == 0 && status != 200) rc = status_err(q, path, status, &r, err, errlen);
    ut_buf_free(&b);
    ut_buf_free(&r.body);
    return rc;
}

/* Sleep ms in slices, returning early once *cancel is set. */
static void nap(const jq_http *q, int64_t ms)
{
    for (int64_t end = mono_ms() + ms; mono_ms() < end && !(q->cancel && atomic_load(q->cancel));)
        usleep(50 * 1000);
}

static int jq_ack(jb_queue *base, const char *consumer, const jb_task *t, char *err,
                  size_t errlen)
{
    jq_http *q = (jq_http *)base;
    static const char path[] = "/v1/jobs/_tasks/ack";
    ut_buf b = {0};
    task_body(&b, consumer, t);
    int rc = -1;
    int64_t start = mono_ms(), wait = 200;
    for (;;) {
        reply r = {{0}, 0};
        long status = 0;
        rc = post(q, path, ut_buf_cstr(&b), CALL_TIMEOUT_MS, 0, &status, &r, err, errlen);
        int again = rc < 0 || status >= 500; /* unreachable, or stopping / restarting */
        if (rc == 0 && status != 200) rc = status_err(q, path, status, &r, err, errlen);
        ut_buf_free(&r.body);
        if (!again || mono_ms() - start > ACK_GIVE_UP_MS || (q->cancel && atomic_load(q->cancel)))
            break;
        nap(q, wait);
        wait = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait * 2;
    }
    ut_buf_free(&b);
    return rc;
}

/* {"first":O} */
static int parse_first(const reply *r, uint64_t *first, char *err, size_t errlen)
{
    js_parser *p = js_parser_create(REPLY_MAX, 4);
    int rc = js_obj_begin(p, (const char *)r->body.p, r->body.len, err, errlen), seen = 0;
    js_field f;
    while (rc == 0 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        rc = 0;
        if (f.key_len == 5 && !memcmp(f.key, "first", 5) && f.v.kind == JS_INT && f.v.i >= 0)
            *first = (uint64_t)f.v.i, seen = 1;
    }
    js_parser_destroy(p);
    if (rc < 0) return -1;
    return seen ? 0 : ut_err(err, errlen, "a push's reply lacks first");
}

/* Only sub-tasks of a run this worker runs: the server schedules runs. */
static int jq_push(jb_queue *base, const int64_t *run_ids, const char *const *tags, int n,
                   uint64_t *first, char *err, size_t errlen)
{
    jq_http *q = (jq_http *)base;
    static const char path[] = "/v1/jobs/_tasks/push";
    if (!tags)
        return ut_err(err, errlen, "run %lld: a worker's queue cannot add tasks (the server "
                      "schedules)", (long long)run_ids[0]);
    ut_buf b = {0};
    ut_buf_printf(&b, "{\"run\":%lld,\"tags\":\"", (long long)run_ids[0]);
    for (int i = 0; i < n; i++) {
        if (run_ids[i] != run_ids[0]) {
            ut_buf_free(&b);
            return ut_err(err, errlen, "a push's sub-tasks are of one run");
        }
        ut_buf_printf(&b, "%s%s", i ? " " : "", tags[i]); /* [A-Za-z0-9._-]: no escapes */
    }
    ut_buf_puts(&b, "\"}");
    reply r = {{0}, 0};
    long status = 0;
    uint64_t off = 0;
    int rc = post(q, path, ut_buf_cstr(&b), CALL_TIMEOUT_MS, 0, &status, &r, err, errlen);
    if (rc == 0 && status != 200) rc = status_err(q, path, status, &r, err, errlen);
    if (rc == 0) rc = parse_first(&r, &off, err, errlen);
    if (rc == 0 && first) *first = off;
    ut_buf_free(&b);
    ut_buf_free(&r.body);
    return rc;
}

static int jq_dead(jb_queue *base, uint64_t *cursor, void (*fn)(void *, uint64_t, int64_t),
                   void *arg, char *err, size_t errlen)
{
    (void)base, (void)cursor, (void)fn, (void)arg;
    return ut_err(err, errlen, "a worker's queue has no dead letters to read (the server does)");
}

static void jq_depth(jb_queue *base, uint64_t *pending, uint64_t *waiting)
{
    (void)base;
    *pending = *waiting = 0;
}

static const jb_queue_ops http_ops = {"http", jq_push, jq_take, jq_heartbeat, jq_ack,
                                      jq_dead, jq_depth, jq_close};
