/* collect: one HTTP call -- the attempts it takes and what each answer means.
 *
 *   loop ──► wait (a 429's pause, a retry's backoff; cancellable)
 *        ──► OAuth2 token if none yet ──► build the request (request.c)
 *        ──► hooks.take (the pool token, for every attempt)
 *        ──► one attempt (http.c)
 *        ──► 2xx            done
 *            3xx Location   again there (credentials only to the same
 *                           origin; at most 5)
 *            429            hooks.pause(Retry-After | backoff), again
 *                           (at most CL__MAX_429 times; not a retry)
 *            401            OAuth2: a new token once, again; else CL_AUTH
 *            403            CL_AUTH
 *            408, 5xx, a timeout or a broken connection
 *                           backoff, again, up to `retries` -> CL_SERVER;
 *                           a data body cut after some bytes goes on with
 *                           Range from the byte it has (the server must
 *                           have said Accept-Ranges: bytes; an attempt
 *                           that brought new bytes is not counted), else
 *                           CL_SERVER: its records were handed over already
 *            other          CL_CLIENT with the status and the body's start
 *
 * Every message names the source, the account, the method and the URL, and
 * has every secret cut (the caller's list, the credentials, each token). */
#include "collect/cl_int.h"

#include "log/log.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t cl__now_ms(void) { return (int64_t)(ut_now_ns() / 1000000); }

int cl__canceled(const cl__cx *cx) { return cx->h->cancel && atomic_load(cx->h->cancel); }

int cl__sleep(cl__cx *cx, int64_t ms)
{
    int64_t end = cl__now_ms() + ms;
    for (;;) {
        if (cl__canceled(cx)) return -1;
        int64_t left = end - cl__now_ms();
        if (left <= 0) return 0;
        struct timespec ts = {0, (left > 50 ? 50 : left) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int64_t cl__backoff(cl__cx *cx, int k)
{
    int64_t ms = cx->backoff_ms;
    for (int i = 1; i < k && ms < CL__BACKOFF_MAX_MS; i++) ms *= 2;
    if (ms > CL__BACKOFF_MAX_MS) ms = CL__BACKOFF_MAX_MS;
    cx->rng ^= cx->rng << 13, cx->rng ^= cx->rng >> 7, cx->rng ^= cx->rng << 17;
    return ms + (int64_t)(cx->rng % (uint64_t)(ms / 10 + 1)); /* up to 10% jitter */
}

/* src into dst[cap], cut if longer. */
static void cut(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static ut_errkind err_kind(cl_kind k)
{
    switch (k) {
    case CL_AUTH: return UT_EDENIED;
    case CL_PARSE: case CL_INVALID: return UT_EINVAL;
    case CL_CANCELED: return UT_ECANCELED;
    default: return UT_EIO;
    }
}

int cl__fail(cl__cx *cx, cl_kind k, const char *url, const char *fmt, ...)
{
    char m[4096];
    int n = snprintf(m, sizeof m, "collect %s: account %s: ", cx->s->name ? cx->s->name : "?",
                     cx->s->account ? cx->s->account : "?");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m + n, sizeof m - (size_t)n, fmt, ap);
    va_end(ap);
    cl__redact(&cx->sec, m, sizeof m);
    ut_fail(cx->e, err_kind(k), "%s", m);
    cx->res->kind = k;
    if (url) {
        char u[CL__MAX_URL];
        cut(u, sizeof u, url);
        cl__redact(&cx->sec, u, sizeof u);
        cut(cx->res->url, sizeof cx->res->url, u);
    }
    return -1;
}

void cl__log(cl__cx *cx, int level, const char *fmt, ...)
{
    if ((lg_level)level < lg_get_level()) return;
    char m[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    cl__redact(&cx->sec, m, sizeof m);
    lg_write((lg_level)level, "collect", "%s/%s: %s", cx->s->name ? cx->s->name : "?",
             cx->s->account ? cx->s->account : "?", m);
}

/* The start of an error body, redacted, into res->body and out. */
static const char *excerpt(cl__cx *cx, const cl__resp *r, char *out, size_t cap)
{
    char b[2100];
    size_t n = r->excerpt.len < sizeof b - 1 ? r->excerpt.len : sizeof b - 1;
    memcpy(b, r->excerpt.p ? (const char *)r->excerpt.p : "", n);
    b[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (b[i] == 0 || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') b[i] = ' ';
    cl__redact(&cx->sec, b, sizeof b);
    n = strlen(b);
    if (n > CL__MAX_EXCERPT) { /* cut at a character boundary */
        n = CL__MAX_EXCERPT;
        while (n && ((unsigned char)b[n] & 0xc0) == 0x80) n--;
        b[n] = 0;
    }
    cut(cx->res->body, sizeof cx->res->body, b);
    cut(out, cap, b);
    return out;
}

typedef struct state {
    cl__target t;
    cl__vars v;
    char url[CL__MAX_URL];     /* the attempt's URL, for messages */
    char redirect[CL__MAX_URL];
    int attempts, throttles, refreshed, redirects;
    int64_t not_before;
} state;

enum { AGAIN = 1, DONE = 0, FAIL = -1 };

/* A redirect: the next attempt goes to Location. */
static int redirect(cl__cx *cx, state *st, const cl__resp *r)
{
    char *loc = NULL;
    curl_easy_getinfo(cx->curl, CURLINFO_REDIRECT_URL, &loc);
    if (!loc || ++st->redirects > 5)
        return cl__fail(cx, CL_CLIENT, st->url, "%s: HTTP %ld %s", st->url, r->status,
                        loc ? "after 5 redirects" : "without a Location");
    ut_buf u = {.max = CL__MAX_URL};
    if (cl__url_resolve(r->url, loc, &u)) {
        ut_buf_free(&u);
        return cl__fail(cx, CL_CLIENT, st->url, "%s: HTTP %ld to a Location that is not an "
                        "http(s) URL", st->url, r->status);
    }
    if (!cl__same_origin(ut_buf_cstr(&u), r->url)) st->t.auth = 0, st->t.no_headers = 1;
    snprintf(st->redirect, sizeof st->redirect, "%s", ut_buf_cstr(&u));
    ut_buf_free(&u);
    const char *m = st->t.method ? st->t.method : st->t.rq->method ? st->t.rq->method : "GET";
    if (r->status == 303 || ((r->status == 301 || r->status == 302) && !strcmp(m, "POST")))
        st->t.method = "GET", st->t.no_body = 1;
    st->t.url = st->redirect;
    st->t.pname = st->t.sname = NULL;
    return AGAIN;
}

/* A transport failure (no answer, or a body cut). */
static int transport(cl__cx *cx, state *st, cl__xfer *x, int64_t got_before, const char *cerr)
{
    const char *why = cerr;
    char tmo[96];
    if (!strcmp(cerr, "no data moved within the timeout"))
        snprintf(tmo, sizeof tmo, "no data moved for %lld ms", (long long)cx->timeout_ms), why = tmo;
    if (x->body && x->got > 0) {
        if (!x->accept_ranges || strncmp(st->url, "GET ", 4)) /* st->url: "METHOD URL" */
            return cl__fail(cx, CL_SERVER, st->url, "%s: the body was cut after %lld bytes (%s) "
                            "and the server takes no Range requests", st->url, (long long)x->got, why);
        if (x->got == got_before) st->attempts++;
        if (st->attempts > cx->retries)
            return cl__fail(cx, CL_SERVER, st->url, "%s: the body was cut at byte %lld (%s), "
                            "%d resumes brought nothing", st->url, (long long)x->got, why, st->attempts);
        cx->res->resumes++;
        cx->res->retries++;
        cl__log(cx, LG_WARN, "%s: cut at byte %lld (%s), resuming with Range", st->url,
                (long long)x->got, why);
        st->not_before = cl__now_ms() + (x->got == got_before ? cl__backoff(cx, st->attempts) : 0);
        return AGAIN;
    }
    if (++st->attempts > cx->retries)
        return cl__fail(cx, CL_SERVER, st->url, "%s: %s (%d attempts)", st->url, why, st->attempts);
    cx->res->retries++;
    int64_t w = cl__backoff(cx, st->attempts);
    cl__log(cx, LG_WARN, "%s: %s, attempt %d again in %lld ms", st->url, why, st->attempts + 1,
            (long long)w);
    st->not_before = cl__now_ms() + w;
    return AGAIN;
}

/* What an answer's status means. */
static int answer(cl__cx *cx, state *st, const cl__resp *r)
{
    long s = r->status;
    char ex[CL__MAX_EXCERPT + 1];
    if (st->t.auth && cx->s->auth.type == CL_AUTH_OAUTH2 && s != 401) cl__oauth_used(cx);
    if (s >= 200 && s <= 299) return DONE;
    if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) return redirect(cx, st, r);
    if (s == 429) {
        if (++st->throttles > CL__MAX_429)
            return cl__fail(cx, CL_SERVER, st->url, "%s: still HTTP 429 after %d pauses", st->url,
                            CL__MAX_429);
        int64_t ms;
        if (cl__retry_after(r->retry_after, (int64_t)time(NULL), &ms)) ms = cl__backoff(cx, st->throttles);
        cx->res->throttled++;
        if (cx->h->pause) cx->h->pause(cx->h->ctx, ms);
        cl__log(cx, LG_INFO, "%s: HTTP 429, pausing %lld ms", st->url, (long long)ms);
        st->not_before = cl__now_ms() + ms;
        return AGAIN;
    }
    if (s == 401 && st->t.auth && cx->s->auth.type == CL_AUTH_OAUTH2 && !st->refreshed) {
        char used[CL__MAX_TOKEN];
        snprintf(used, sizeof used, "%s", cx->token);
        st->refreshed = 1;
        return cl__oauth_token(cx, 1, used) ? FAIL : AGAIN;
    }
    if (s == 401 || s == 403 || (st->t.auth_call && s >= 400 && s <= 499))
        return cl__fail(cx, CL_AUTH, st->url, "%s: HTTP %ld%s: %s", st->url, s,
                        st->refreshed ? " after a new token" : "", excerpt(cx, r, ex, sizeof ex));
    if (s == 408 || (s >= 500 && s <= 599)) {
        if (++st->attempts > cx->retries)
            return cl__fail(cx, CL_SERVER, st->url, "%s: HTTP %ld after %d attempts: %s", st->url,
                            s, st->attempts, excerpt(cx, r, ex, sizeof ex));
        int64_t ms;
        if (cl__retry_after(r->retry_after, (int64_t)time(NULL), &ms) || ms > CL__BACKOFF_MAX_MS * 10)
            ms = cl__backoff(cx, st->attempts);
        cx->res->retries++;
        cl__log(cx, LG_WARN, "%s: HTTP %ld, attempt %d again in %lld ms", st->url, s,
                st->attempts + 1, (long long)ms);
        st->not_before = cl__now_ms() + ms;
        return AGAIN;
    }
    return cl__fail(cx, CL_CLIENT, st->url, "%s: HTTP %ld: %s", st->url, s,
                    excerpt(cx, r, ex, sizeof ex));
}

/* One attempt: build, take, perform.  AGAIN / DONE / FAIL. */
static int attempt(cl__cx *cx, state *st, cl__xfer *x, cl__resp *r)
{
    cl__built b;
    if (st->t.auth && cx->s->auth.type == CL_AUTH_OAUTH2 && cl__oauth_token(cx, 0, NULL))
        return FAIL; /* the cached token, or a new one when it ran out */
    st->v.token = cx->s->auth.type == CL_AUTH_OAUTH2 ? cx->token : cx->s->auth.token;
    if (cl__build(cx, &st->t, &st->v, &b)) {
        cl__built_free(&b);
        return FAIL;
    }
    snprintf(st->url, sizeof st->url, "%s %s", b.method, ut_buf_cstr(&b.url));
    char range[64];
    if (x->body && !b.accept_encoding) /* the raw part stays as it came: decoded by body.c */
        b.hdr = curl_slist_append(b.hdr, "Accept-Encoding: gzip");
    if (x->body && x->got > 0) {
        snprintf(range, sizeof range, "Range: bytes=%lld-", (long long)x->got);
        b.hdr = curl_slist_append(b.hdr, range);
        if (x->etag[0] && strncmp(x->etag, "W/", 2)) { /* If-Range takes strong ETags only */
            ut_buf h = {0};
            ut_buf_printf(&h, "If-Range: %s", x->etag);
            b.hdr = curl_slist_append(b.hdr, ut_buf_cstr(&h));
            ut_buf_free(&h);
        }
    }
    if (cx->h->take && cx->h->take(cx->h->ctx)) {
        cl__built_free(&b);
        return cl__fail(cx, CL_CANCELED, st->url, "%s: the pool's take hook gave up", st->url);
    }
    cl__attempt a = {.method = b.method, .url = ut_buf_cstr(&b.url),
                     .body = b.has_body ? ut_buf_cstr(&b.body) : NULL, .body_len = b.body.len,
                     .headers = b.hdr, .user = b.user, .pass = b.pass,
                     .range_from = x->body ? x->got : 0, .decode = !x->body,
                     .if_range = x->body && x->got > 0 && x->etag[0] && strncmp(x->etag, "W/", 2)
                                     ? x->etag : NULL};
    int64_t got_before = x->got, t0 = cl__now_ms();
    char cerr[CURL_ERROR_SIZE + 64] = "";
    int cc = cl__perform(cx, &a, x, r, cerr, sizeof cerr);
    cl__built_free(&b);
    cx->res->calls++;
    cx->res->status = (int)r->status;
    cl__log(cx, LG_DEBUG, "%s -> %ld (%lld bytes, %lld ms)%s%s", st->url, r->status,
            (long long)a.bytes, (long long)(cl__now_ms() - t0), cc ? ": " : "", cerr);
    if (x->bad == CL__BAD)
        return cl__fail(cx, x->changed ? CL_SERVER : CL_PARSE, st->url, "%s: %s", st->url, x->err);
    if (x->bad == CL__STOP)
        return cl__fail(cx, CL_CANCELED, st->url, "%s: stopped: %s", st->url,
                        x->err[0] ? x->err : "a hook returned -1");
    if (a.canceled || cl__canceled(cx))
        return cl__fail(cx, CL_CANCELED, st->url, "%s: cancelled", st->url);
    if (cc) return transport(cx, st, x, got_before, cerr);
    return answer(cx, st, r);
}

int cl__call(cl__cx *cx, const cl__target *t, cl__xfer *x, cl__resp *r)
{
    state st;
    memset(&st, 0, sizeof st);
    st.t = *t;
    if (t->vars) st.v = *t->vars;
    cl__xfer none;
    if (!x) memset(&none, 0, sizeof none), x = &none;
    for (;;) {
        int64_t wait = st.not_before - cl__now_ms();
        if (wait > 0 && cl__sleep(cx, wait))
            return cl__fail(cx, CL_CANCELED, st.url, "%s: cancelled", st.url);
        if (cl__canceled(cx)) return cl__fail(cx, CL_CANCELED, st.url, "cancelled");
        int rc = attempt(cx, &st, x, r);
        if (rc != AGAIN) return rc;
    }
}
