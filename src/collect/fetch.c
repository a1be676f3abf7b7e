/* collect: cl_fetch -- one collection, and its page loop.
 *
 *   check the spec (URLs, JSON paths, pagination against the format) and
 *   apply the defaults ──► secrets (the caller's list, the credentials)
 *   ──► one curl handle for every call (keep-alive)
 *   ──► a synchronous request: page by page, each page a raw part and its
 *       records, until the stop rule --
 *         NEXT_URL  the URL at `path` (same origin as the request; absent,
 *                   null or "" ends)
 *         LINK      the Link header's rel="next" (same origin)
 *         CURSOR    `param` = the value at `path` (absent ends; the same
 *                   cursor twice fails: it would loop)
 *         NUMBER    `param` = start, start + 1 ...; OFFSET: 0, size, 2 size
 *                   ... (a page with fewer than `size` records ends)
 *       and always: an empty page ends; max_pages stops (res->truncated
 *       when a next page was there)
 *   ──► or an asynchronous report (async.c). */
#include "collect/cl_int.h"

#include "log/log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RECORD_CAP ((uint64_t)64 << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

const char *cl_kind_name(cl_kind k)
{
    static const char *const n[] = {"ok", "auth", "client", "server", "parse", "report",
                                     "canceled", "invalid"};
    return (unsigned)k < sizeof n / sizeof *n ? n[k] : "?";
}

static const char *ext_of(cl_format f)
{
    return f == CL_FMT_NDJSON ? "ndjson" : f == CL_FMT_CSV ? "csv" : f == CL_FMT_TSV ? "tsv" : "json";
}

static int emit(void *ctx, const char *rec, size_t n)
{
    cl__cx *cx = ctx;
    cx->res->records++;
    return cx->h->record ? cx->h->record(cx->h->ctx, rec, n) : 0;
}

static int emit_row(void *ctx, const cl_row *r)
{
    cl__cx *cx = ctx;
    cx->res->records += r->fields != NULL;
    return cx->h->row(cx->h->ctx, r);
}

cl__jscan *cl__control_parse(cl__cx *cx, const cl__resp *r, const char *const *keep, int nkeep)
{
    char err[300];
    cl__jscan *js = cl__jscan_create(NULL, keep, nkeep, CL__MAX_CONTROL, err, sizeof err);
    if (!js) {
        cl__fail(cx, CL_INVALID, NULL, "%s", err);
        return NULL;
    }
    if (cl__jscan_feed(js, (const char *)(r->body.p ? r->body.p : (uint8_t *)""), r->body.len,
                       err, sizeof err) ||
        cl__jscan_end(js, err, sizeof err)) {
        cl__jscan_destroy(js);
        cl__fail(cx, CL_PARSE, r->url, "%s: the answer is not JSON: %s", r->url, err);
        return NULL;
    }
    return js;
}

/* ---- the page loop ------------------------------------------------------------ */

typedef struct walk {
    int64_t number, offset;
    ut_buf next;    /* NEXT_URL / LINK: the next page's URL */
    ut_buf cursor;  /* CURSOR */
    char pv[32], sv[32];
} walk;

/* The next page from this one's answer: 1 there is one, 0 the walk ends, -1 failed. */
static int next_page(cl__cx *cx, walk *w, const cl__resp *r, int64_t nrec)
{
    const cl_pagination *pg = &cx->s->page;
    size_t n = 0;
    const char *v = NULL;
    ut_buf link = {.max = CL__MAX_URL};
    if (nrec == 0 || pg->type == CL_PAGE_NONE) return 0;
    switch (pg->type) {
    case CL_PAGE_NUMBER: case CL_PAGE_OFFSET:
        if (pg->size > 0 && nrec < pg->size) return 0;
        if (pg->type == CL_PAGE_NUMBER) w->number++;
        else w->offset += pg->size > 0 ? pg->size : nrec;
        return 1;
    case CL_PAGE_CURSOR:
        v = cl__jscan_value(cx->js, 0, &n);
        if (!v || !n) return 0;
        if (w->cursor.len == n && !memcmp(w->cursor.p, v, n))
            return cl__fail(cx, CL_PARSE, r->url, "%s: the next cursor is the one just used (it "
                            "would loop)", r->url);
        ut_buf_reset(&w->cursor);
        ut_buf_put(&w->cursor, v, n);
        return 1;
    default: break;
    }
    if (pg->type == CL_PAGE_NEXT_URL) {
        v = cl__jscan_value(cx->js, 0, &n);
    } else {
        int rc = cl__link_next((const char *)(r->link.p ? r->link.p : (uint8_t *)""), r->link.len, &link);
        if (rc < 0) {
            ut_buf_free(&link);
            return cl__fail(cx, CL_PARSE, r->url, "%s: a malformed Link header", r->url);
        }
        if (rc == 1) v = ut_buf_cstr(&link), n = link.len;
    }
    if (!v || !n) return ut_buf_free(&link), 0;
    ut_buf u = {.max = CL__MAX_URL};
    char what[CL__MAX_URL + 64];
    snprintf(what, sizeof what, "%.*s", (int)(n < CL__MAX_URL ? n : CL__MAX_URL), v);
    int rc = strlen(what) != n || cl__url_resolve(r->url, what, &u) ? -2
           : !cl__same_origin(ut_buf_cstr(&u), r->url) ? -3
           : !strcmp(ut_buf_cstr(&u), r->url) || !strcmp(ut_buf_cstr(&u), ut_buf_cstr(&w->next)) ? -4
           : 1;
    if (rc == 1) ut_buf_reset(&w->next), ut_buf_puts(&w->next, ut_buf_cstr(&u));
    ut_buf_free(&u);
    ut_buf_free(&link);
    if (rc == -2) return cl__fail(cx, CL_PARSE, r->url, "%s: the next page's URL '%.200s' is not "
                                  "an http(s) URL", r->url, what);
    if (rc == -3) return cl__fail(cx, CL_PARSE, r->url, "%s: the next page's URL '%.200s' is on "
                                  "another host (credentials are not sent there)", r->url, what);
    if (rc == -4) return cl__fail(cx, CL_PARSE, r->url, "%s: the next page's URL is this page's "
                                  "(it would loop)", r->url);
    return 1;
}

/* The target of the walk's current page. */
static void page_target(cl__cx *cx, walk *w, int first, cl__target *t, cl__vars *v)
{
    const cl_pagination *pg = &cx->s->page;
    memset(t, 0, sizeof *t);
    t->rq = &cx->s->request;
    t->vars = v;
    t->auth = 1;
    memset(v, 0, sizeof *v);
    v->number = w->number, v->offset = w->offset, v->size = pg->size;
    v->cursor = ut_buf_cstr(&w->cursor);
    if (!first && (pg->type == CL_PAGE_NEXT_URL || pg->type == CL_PAGE_LINK))
        t->url = ut_buf_cstr(&w->next);
    if (pg->type == CL_PAGE_CURSOR && !first) t->pname = pg->param, t->pvalue = v->cursor;
    if ((pg->type == CL_PAGE_NUMBER || pg->type == CL_PAGE_OFFSET) && pg->param) {
        snprintf(w->pv, sizeof w->pv, "%lld",
                 (long long)(pg->type == CL_PAGE_NUMBER ? w->number : w->offset));
        t->pname = pg->param, t->pvalue = w->pv;
    }
    if ((pg->type == CL_PAGE_NUMBER || pg->type == CL_PAGE_OFFSET) && pg->size_param) {
        snprintf(w->sv, sizeof w->sv, "%lld", (long long)pg->size);
        t->sname = pg->size_param, t->svalue = w->sv;
    }
}

/* A CSV / TSV body ended: its columns and their kinds to hooks.columns. */
static void body_columns(cl__cx *cx, const cl__body *b)
{
    const char **names = ut_calloc(CL__MAX_FIELDS, sizeof *names);
    size_t *lens = ut_calloc(CL__MAX_FIELDS, sizeof *lens);
    const char *kinds = NULL;
    int n = cl__body_columns(b, names, lens, &kinds);
    if (n > 0) cx->h->columns(cx->h->ctx, names, lens, kinds, n, cl__body_records(b));
    free(names);
    free(lens);
}

/* One data call and its body: 0, or -1 (failed). */
int cl__data_call(cl__cx *cx, const cl__target *t, cl__resp *r, int64_t *nrec)
{
    cl__xfer x;
    memset(&x, 0, sizeof x);
    x.ext = ext_of(cx->s->format);
    x.body = cl__body_create(cx->s->format, cx->js, cx->max_record, emit, cx);
    if (cx->h->row) cl__body_on_rows(x.body, emit_row, cx);
    int rc = cl__call(cx, t, &x, r);
    if (rc == 0) {
        char err[400];
        int brc = cl__body_end(x.body, err, sizeof err);
        if (brc == CL__BAD) rc = cl__fail(cx, CL_PARSE, r->url, "%s: %s", r->url, err);
        else if (brc == CL__STOP) rc = cl__fail(cx, CL_CANCELED, r->url, "%s: stopped by the "
                                                "record hook", r->url);
    }
    if (rc == 0 && cx->h->columns) body_columns(cx, x.body);
    *nrec = cl__body_records(x.body);
    cl__body_destroy(x.body);
    cx->res->pages += rc == 0;
    return rc;
}

static int walk_pages(cl__cx *cx)
{
    walk w = {cx->start, 0, {.max = CL__MAX_URL}, {.max = CL__MAX_VALUE}, "", ""};
    int rc = 0;
    for (int64_t p = 0;; p++) {
        cl__target t;
        cl__vars v;
        cl__resp r = {0};
        int64_t n = 0;
        page_target(cx, &w, p == 0, &t, &v);
        rc = cl__data_call(cx, &t, &r, &n);
        if (rc == 0) rc = next_page(cx, &w, &r, n);
        cl__resp_free(&r);
        if (rc <= 0) break;
        if (p + 1 == cx->max_pages) {
            cx->res->truncated = 1;
            cl__log(cx, LG_WARN, "stopped after max_pages %lld with a next page left",
                    (long long)cx->max_pages);
            rc = 0;
            break;
        }
    }
    ut_buf_free(&w.next);
    ut_buf_free(&w.cursor);
    return rc < 0 ? -1 : 0;
}

/* ---- checks and defaults -------------------------------------------------------- */

static int check_request(cl__cx *cx, const cl_request *rq, const char *what)
{
    if (!rq->url || !*rq->url) return cl__fail(cx, CL_INVALID, NULL, "%s: no URL", what);
    if (strncasecmp(rq->url, "http://", 7) && strncasecmp(rq->url, "https://", 8))
        return cl__fail(cx, CL_INVALID, NULL, "%s: URL '%.200s' is not http(s)", what, rq->url);
    if (rq->method && strcmp(rq->method, "GET") && strcmp(rq->method, "POST"))
        return cl__fail(cx, CL_INVALID, NULL, "%s: method '%.20s' is not GET or POST", what,
                        rq->method);
    if (rq->nparams < 0 || rq->nparams > CL_MAX_PARAMS || rq->nheaders < 0 ||
        rq->nheaders > CL_MAX_PARAMS)
        return cl__fail(cx, CL_INVALID, NULL, "%s: more than %d parameters or headers", what,
                        CL_MAX_PARAMS);
    for (int i = 0; i < rq->nparams; i++)
        if (!rq->params[i].name || !*rq->params[i].name)
            return cl__fail(cx, CL_INVALID, NULL, "%s: parameter %d has no name", what, i + 1);
    for (int i = 0; i < rq->nheaders; i++)
        if (!rq->headers[i].name)
            return cl__fail(cx, CL_INVALID, NULL, "%s: header %d has no name", what, i + 1);
    return 0;
}

static int check_auth(cl__cx *cx)
{
    const cl_auth *a = &cx->s->auth;
    const char *miss = NULL;
    switch (a->type) {
    case CL_AUTH_NONE: break;
    case CL_AUTH_BEARER: miss = !a->token || !*a->token ? "token" : NULL; break;
    case CL_AUTH_HEADER: case CL_AUTH_QUERY:
        miss = !a->name || !*a->name ? "name" : !a->token ? "token" : NULL;
        break;
    case CL_AUTH_BASIC: miss = !a->username ? "username" : NULL; break;
    case CL_AUTH_OAUTH2:
        miss = !a->token_url ? "token_url" : !a->refresh_token ? "refresh_token" : NULL;
        if (!miss && strncasecmp(a->token_url, "http://", 7) && strncasecmp(a->token_url, "https://", 8))
            miss = "token_url (http or https)";
        break;
    default: return cl__fail(cx, CL_INVALID, NULL, "unknown auth type %d", (int)a->type);
    }
    if (miss) return cl__fail(cx, CL_INVALID, NULL, "auth: no %s", miss);
    if ((a->type == CL_AUTH_BEARER || a->type == CL_AUTH_HEADER || a->type == CL_AUTH_QUERY) &&
        strpbrk(a->token, "\r\n"))
        return cl__fail(cx, CL_INVALID, NULL, "auth: the token has a line break");
    snprintf(cx->cache_key, sizeof cx->cache_key, "%s/%s",
             a->cache_key ? a->cache_key : cx->s->name ? cx->s->name : "",
             a->cache_key ? "" : cx->s->account ? cx->s->account : "");
    return 0;
}

static int check_page(cl__cx *cx)
{
    const cl_spec *s = cx->s;
    const cl_pagination *p = &s->page;
    if (p->type < CL_PAGE_NONE || p->type > CL_PAGE_OFFSET)
        return cl__fail(cx, CL_INVALID, NULL, "unknown pagination type %d", (int)p->type);
    if (s->is_async && p->type != CL_PAGE_NONE)
        return cl__fail(cx, CL_INVALID, NULL, "an asynchronous report has no pages");
    if ((p->type == CL_PAGE_NEXT_URL || p->type == CL_PAGE_CURSOR) && (!p->path || s->format != CL_FMT_JSON))
        return cl__fail(cx, CL_INVALID, NULL, "pagination by a JSON path needs `path` and JSON bodies");
    if (p->type == CL_PAGE_CURSOR && (!p->param || !*p->param)) /* NUMBER, OFFSET: or templates */
        return cl__fail(cx, CL_INVALID, NULL, "cursor pagination: no `param`");
    if (p->size < 0 || p->max_pages < 0 || p->max_pages > CL_MAX_PAGES_CAP || p->start < 0)
        return cl__fail(cx, CL_INVALID, NULL, "pagination: size, start or max_pages out of range "
                        "(max_pages at most %d)", CL_MAX_PAGES_CAP);
    cx->max_pages = p->max_pages ? p->max_pages : 1000;
    cx->start = p->start ? p->start : 1;
    return 0;
}

static int check_async(cl__cx *cx)
{
    const cl_async *a = &cx->s->async;
    if (check_request(cx, &a->create, "async.create") || check_request(cx, &a->status, "async.status"))
        return -1;
    if (!a->id_path || !a->status_path || !a->ready || !a->file_url_path)
        return cl__fail(cx, CL_INVALID, NULL, "async: id_path, status_path, ready and "
                        "file_url_path are needed");
    if (a->poll_ms < 0 || a->max_wait_ms < 0)
        return cl__fail(cx, CL_INVALID, NULL, "async: poll_ms and max_wait_ms must not be negative");
    cx->poll_ms = a->poll_ms ? a->poll_ms : 2000;
    cx->max_wait_ms = a->max_wait_ms ? a->max_wait_ms : 2 * 3600 * 1000;
    return 0;
}

static int check(cl__cx *cx)
{
    const cl_spec *s = cx->s;
    if (s->format < CL_FMT_JSON || s->format > CL_FMT_TSV)
        return cl__fail(cx, CL_INVALID, NULL, "unknown format %d", (int)s->format);
    if (s->max_record_bytes > MAX_RECORD_CAP)
        return cl__fail(cx, CL_INVALID, NULL, "max_record_bytes is over 64 MiB");
    if (s->timeout_ms < 0 || s->backoff_ms < 0)
        return cl__fail(cx, CL_INVALID, NULL, "timeout_ms and backoff_ms must not be negative");
    if ((s->is_async ? check_async(cx) : check_request(cx, &s->request, "request")) ||
        check_auth(cx) || check_page(cx))
        return -1;
    cx->retries = s->retries == 0 ? 3 : s->retries < 0 ? 0 : s->retries;
    cx->timeout_ms = s->timeout_ms ? s->timeout_ms : 60000;
    cx->backoff_ms = s->backoff_ms ? s->backoff_ms : 1000;
    cx->max_record = s->max_record_bytes ? (size_t)s->max_record_bytes : (size_t)1 << 20;
    if (s->format == CL_FMT_JSON) {
        char err[300];
        const char *keep[1] = {s->page.path};
        int nkeep = s->page.type == CL_PAGE_NEXT_URL || s->page.type == CL_PAGE_CURSOR;
        cx->js = cl__jscan_create(s->records ? s->records : "", keep, nkeep, cx->max_record, err,
                                  sizeof err);
        if (!cx->js) return cl__fail(cx, CL_INVALID, NULL, "%s", err);
    }
    return 0;
}

static void add_secrets(cl__cx *cx)
{
    const cl_auth *a = &cx->s->auth;
    for (int i = 0; cx->h->redact && cx->h->redact[i]; i++) cl__secrets_add(&cx->sec, cx->h->redact[i]);
    if (a->type != CL_AUTH_NONE) {
        cl__secrets_add(&cx->sec, a->token);
        cl__secrets_add(&cx->sec, a->password);
        cl__secrets_add(&cx->sec, a->refresh_token);
        cl__secrets_add(&cx->sec, a->client_secret);
    }
}

int cl_fetch(const cl_spec *s, cl_tokens *tokens, const cl_hooks *h, cl_result *res, ut_error *e)
{
    static const cl_hooks nohooks;
    cl_result dummy;
    if (!res) res = &dummy;
    memset(res, 0, sizeof *res);
    cl__cx cx;
    memset(&cx, 0, sizeof cx);
    cx.s = s, cx.h = h ? h : &nohooks, cx.res = res, cx.e = e;
    cx.rng = ut_now_ns() ^ (uint64_t)(uintptr_t)&cx;
    if (!cx.rng) cx.rng = 1;
    add_secrets(&cx);
    int rc = check(&cx);
    cl_tokens *own = NULL;
    if (rc == 0) {
        pthread_once(&curl_once, curl_init);
        cx.curl = curl_init_rc == CURLE_OK ? curl_easy_init() : NULL;
        if (!cx.curl) rc = cl__fail(&cx, CL_SERVER, NULL, "libcurl could not start");
    }
    if (rc == 0) {
        cx.tokens = tokens ? tokens : (own = cl_tokens_create());
        rc = s->is_async ? cl__async(&cx) : walk_pages(&cx);
    }
    if (rc == 0) res->kind = CL_OK;
    cl__log(&cx, LG_DEBUG, "%s: %lld pages, %lld records, %lld bytes, %lld calls, "
            "%lld retries, %lld 429s, %lld tokens", cl_kind_name(res->kind), (long long)res->pages,
            (long long)res->records, (long long)res->raw_bytes, (long long)res->calls,
            (long long)res->retries, (long long)res->throttled, (long long)res->refreshes);
    if (cx.curl) curl_easy_cleanup(cx.curl);
    cl_tokens_destroy(own);
    cl__jscan_destroy(cx.js);
    memset(cx.token, 0, sizeof cx.token);
    cl__secrets_free(&cx.sec);
    return rc ? -1 : 0;
}
