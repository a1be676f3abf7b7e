/* collect: one HTTP attempt over libcurl.
 *
 *   headers ──► the few a collection needs, kept per response (a status
 *               line starts a new one): Retry-After, Link (capped),
 *               Content-Encoding, Accept-Ranges, ETag, Content-Range
 *   body    ──► 2xx: a data part goes straight on (raw hooks, then the
 *               decoder) as libcurl hands it over; a control body (token,
 *               report create / status) is kept, at most CL__MAX_CONTROL
 *               bytes; other statuses keep only the start, for the message
 *   progress──► cancel, and "no byte moved for timeout_ms" ends the attempt
 *
 * A Range request (a resumed download) must be answered 206 from the byte
 * asked for, or 200 without If-Range (the bytes already taken are then
 * dropped); anything else fails the attempt.  Redirects are not followed
 * here (call.c does, so that credentials never go to another origin). */
#include "collect/cl_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXCERPT_KEEP 2048 /* kept of an error body; cut to 512 after redaction */

typedef struct io {
    cl__cx *cx;
    cl__attempt *a;
    cl__xfer *x;
    cl__resp *r;
    int64_t last_ms, last_bytes;
    int started;           /* the first body byte of this attempt was seen */
} io;

void cl__resp_free(cl__resp *r)
{
    ut_buf_free(&r->link);
    ut_buf_free(&r->body);
    ut_buf_free(&r->excerpt);
}

static void keep(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *u)
{
    io *o = u;
    cl__resp *r = o->r;
    size_t n = sz * nm;
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response (1xx first, say) */
        r->status = 0;
        r->accept_ranges = 0;
        r->retry_after[0] = r->etag[0] = r->content_range[0] = r->encoding[0] = 0;
        ut_buf_reset(&r->link);
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon) return n;
    size_t kl = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    size_t vl = (size_t)(end - v);
#define H(name) (kl == sizeof name - 1 && !strncasecmp(p, name, kl))
    if (H("Retry-After")) keep(r->retry_after, sizeof r->retry_after, v, vl);
    else if (H("ETag")) keep(r->etag, sizeof r->etag, v, vl);
    else if (H("Content-Range")) keep(r->content_range, sizeof r->content_range, v, vl);
    else if (H("Content-Encoding")) keep(r->encoding, sizeof r->encoding, v, vl);
    else if (H("Accept-Ranges")) r->accept_ranges = vl == 5 && !strncasecmp(v, "bytes", 5);
    else if (H("Link")) {
        if (r->link.len) ut_buf_put(&r->link, ", ", 2);
        ut_buf_put(&r->link, v, vl);
    }
#undef H
    return n;
}

/* The first body byte of a 2xx answer: is it the body we asked for? */
static int check_start(io *o)
{
    cl__attempt *a = o->a;
    cl__resp *r = o->r;
    cl__xfer *x = o->x;
    const char *enc = r->encoding;
    if (enc[0] && strcasecmp(enc, "identity") && strcasecmp(enc, "gzip") && strcasecmp(enc, "x-gzip")) {
        snprintf(x->err, sizeof x->err, "Content-Encoding '%.40s' is not supported", enc);
        x->bad = CL__BAD; /* the body still goes to the raw hooks */
        return 0;
    }
    if (r->accept_ranges) x->accept_ranges = 1;
    if (!a->range_from) {
        keep(x->etag, sizeof x->etag, r->etag, strlen(r->etag));
        return 0;
    }
    if (r->status == 206) {
        long long from = -1;
        if (sscanf(r->content_range, "bytes %lld-", &from) != 1 || from != a->range_from) {
            snprintf(x->err, sizeof x->err, "a resumed download answered Content-Range '%.60s', "
                     "not from byte %lld", r->content_range, (long long)a->range_from);
            return x->bad = CL__BAD, x->changed = 1, -1;
        }
        return 0;
    }
    if (r->status == 200 && !a->if_range) { /* the whole body again: skip what we have */
        a->skip = a->range_from;
        return 0;
    }
    snprintf(x->err, sizeof x->err, "the file changed while it was downloaded (HTTP %ld to a "
             "Range request from byte %lld)", r->status, (long long)a->range_from);
    return x->bad = CL__BAD, x->changed = 1, -1;
}

/* Hand p[0..n) of a data body over: raw hooks, then the decoder.  After a
 * parse failure the rest still goes to the raw hooks (the part is kept
 * whole, for inspection); a hook's failure stops the transfer. */
static int deliver(io *o, const char *p, size_t n)
{
    cl__cx *cx = o->cx;
    cl__xfer *x = o->x;
    const cl_hooks *h = cx->h;
    if (!x->begun) {
        x->begun = 1;
        cx->part++;
        if (h->raw_begin) {
            char url[CL__MAX_URL];
            snprintf(url, sizeof url, "%s", o->r->url);
            cl__redact(&cx->sec, url, sizeof url);
            if (h->raw_begin(h->ctx, cx->part, url, x->ext)) {
                snprintf(x->err, sizeof x->err, "the raw_begin hook failed");
                return x->bad = CL__STOP, -1;
            }
        }
    }
    if (h->raw && h->raw(h->ctx, p, n)) {
        snprintf(x->err, sizeof x->err, "the raw hook failed");
        return x->bad = CL__STOP, -1;
    }
    cx->res->raw_bytes += (int64_t)n;
    x->got += (int64_t)n;
    if (x->bad == CL__BAD) return 0;
    int rc = cl__body_feed(x->body, p, n, x->err, sizeof x->err);
    if (rc) x->bad = rc;
    return rc == CL__STOP ? -1 : 0;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
    io *o = u;
    cl__resp *r = o->r;
    size_t n = sz * nm;
    if (!r->status) curl_easy_getinfo(o->cx->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status < 200 || r->status > 299) {
        size_t room = EXCERPT_KEEP > r->excerpt.len ? EXCERPT_KEEP - r->excerpt.len : 0;
        ut_buf_put(&r->excerpt, p, n < room ? n : room);
        return n;
    }
    o->a->bytes += (int64_t)n;
    if (!o->x || !o->x->body) { /* a control body */
        if (r->body.len + n > CL__MAX_CONTROL) {
            if (o->x) snprintf(o->x->err, sizeof o->x->err, "the response is over %u bytes",
                               CL__MAX_CONTROL), o->x->bad = CL__BAD;
            return 0;
        }
        ut_buf_put(&r->body, p, n);
        return n;
    }
    if (!o->started) {
        o->started = 1;
        if (check_start(o)) return 0;
    }
    if (o->a->skip) {
        size_t d = (int64_t)n < o->a->skip ? n : (size_t)o->a->skip;
        o->a->skip -= (int64_t)d;
        p += d;
        if (d == n) return n;
        if (deliver(o, p, n - d)) return 0;
        return n;
    }
    return deliver(o, p, n) ? 0 : n;
}

static int on_progress(void *u, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    io *o = u;
    (void)dlt, (void)ult;
    if (cl__canceled(o->cx)) return o->a->canceled = 1;
    int64_t now = cl__now_ms(), b = (int64_t)dln + (int64_t)uln;
    if (b != o->last_bytes) o->last_bytes = b, o->last_ms = now;
    else if (now - o->last_ms > o->cx->timeout_ms) return o->a->stalled = 1;
    return 0;
}

static void set_options(CURL *c, io *o, char *cerr)
{
    cl__attempt *a = o->a;
    curl_easy_setopt(c, CURLOPT_URL, a->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)a->headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice-collect/1");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, o);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, o);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, o);
    long ct = o->cx->timeout_ms < 30000 ? (long)o->cx->timeout_ms : 30000L;
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ct);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L << 10);
    if (a->decode) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* any libcurl knows */
    if (a->user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, a->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, a->pass ? a->pass : "");
    }
    if (!strcmp(a->method, "POST") || a->body) { /* never the read callback (stdin) */
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, a->body ? a->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(a->body ? a->body_len : 0));
    }
    if (strcmp(a->method, "POST")) /* GET with a body stays GET */
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(a->method, "GET") || a->body ? a->method : NULL);
}

int cl__perform(cl__cx *cx, cl__attempt *a, cl__xfer *x, cl__resp *r, char *cerr, size_t cerrlen)
{
    CURL *c = cx->curl;
    char ebuf[CURL_ERROR_SIZE] = "";
    io o = {cx, a, x, r, cl__now_ms(), -1, 0};
    r->status = 0;
    r->accept_ranges = 0;
    r->retry_after[0] = r->etag[0] = r->content_range[0] = r->encoding[0] = 0;
    ut_buf_reset(&r->link);
    ut_buf_reset(&r->body);
    ut_buf_reset(&r->excerpt);
    r->link.max = CL__MAX_HEADER;
    snprintf(r->url, sizeof r->url, "%s", a->url);
    curl_easy_reset(c);
    set_options(c, &o, ebuf);
    CURLcode cc = curl_easy_perform(c);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    if (st) r->status = st;
    if (cc != CURLE_OK)
        snprintf(cerr, cerrlen, "%s", a->stalled ? "no data moved within the timeout"
                                      : ebuf[0] ? ebuf : curl_easy_strerror(cc));
    return (int)cc;
}
