/* collect internals shared by the engine's files (not a public header).
 *
 *   text.c     pure helpers: JSON paths, URL encoding, {{page.*}} templates,
 *              Link and Retry-After headers, secret redaction
 *   jscan.c    streaming JSON scanner: records at a path, values kept
 *   csvsplit.c CSV / TSV rows to JSON objects, pushed chunk by chunk
 *   body.c     one response body: gunzip, NDJSON lines, the format's splitter
 *   tokens.c   the OAuth2 access-token cache and the refresh-token grant
 *   http.c     one libcurl transfer (headers kept, body streamed)
 *   call.c     one HTTP call with pool token, retries, 429 pauses, 401
 *              refresh and Range resume; the request built from cl_request
 *   fetch.c    cl_fetch: checks, defaults, the page loop
 *   async.c    create -> poll -> download of an asynchronous report */
#ifndef SLUICE_COLLECT_INT_H
#define SLUICE_COLLECT_INT_H

#include "collect/collect.h"
#include "json/json.h"
#include "util/util.h"

#include <stdint.h>

#define CL__MAX_URL 8192          /* a request URL with its query */
#define CL__MAX_VALUE 16384       /* a kept JSON value (next URL, cursor, id, state) */
#define CL__MAX_HEADER 8192       /* a kept response header (Link) */
#define CL__MAX_BODY ((size_t)1 << 20) /* a request body after templates */
#define CL__MAX_CONTROL (64u << 10)    /* a token / create / status response */
#define CL__MAX_EXCERPT 512       /* of an error body, in messages */
#define CL__MAX_DEPTH 512         /* JSON nesting of a body */
#define CL__MAX_KEY 256           /* JSON keys longer than this match no path */
#define CL__MAX_SEGS 16           /* segments of a JSON path */
#define CL__MAX_FIELDS 10000      /* CSV / TSV columns */
#define CL__MAX_TARGETS 8         /* JSON paths one scanner follows */
#define CL__MAX_SECRETS 64
#define CL__MAX_TOKEN 8192        /* an access token */
#define CL__BACKOFF_MAX_MS 30000
#define CL__RETRY_AFTER_MAX_MS 3600000 /* a longer Retry-After is cut to this */
#define CL__MAX_429 50            /* 429 answers to one call before giving up */

/* Results of the splitters: 0, a parse failure, or a hook that said stop. */
enum { CL__OK = 0, CL__BAD = -1, CL__STOP = -2 };

/* One record out of a splitter: 0, or -1 to stop. */
typedef int (*cl__emit_fn)(void *ctx, const char *rec, size_t n);

/* ---- text.c ---------------------------------------------------------------- */

/* A JSON path "a.b.c" ("" = the body itself): object keys only. */
typedef struct cl__path {
    char buf[256];
    const char *seg[CL__MAX_SEGS];
    size_t len[CL__MAX_SEGS];
    int n;
} cl__path;
int cl__path_parse(cl__path *p, const char *s, char *err, size_t errlen);

/* Percent-encode s[0..n) (RFC 3986 unreserved bytes kept). */
void cl__url_encode(ut_buf *b, const char *s, size_t n);
/* Append name=value (both encoded) to url's query (before any '#'). */
void cl__url_add_param(ut_buf *url, const char *name, const char *value);
/* 1 when url's query has a parameter called name. */
int cl__url_has_param(const char *url, const char *name);
/* Same scheme, host and port (case-insensitive host).  1 / 0. */
int cl__same_origin(const char *a, const char *b);
/* Resolve ref against base into out (absolute http(s) URL).  0 / -1. */
int cl__url_resolve(const char *base, const char *ref, ut_buf *out);

/* The values {{page.*}}, {{report.id}}, {{auth.token}} stand for. */
typedef struct cl__vars {
    const char *cursor, *report_id, *token; /* NULL: "" */
    int64_t number, offset, size;
} cl__vars;
enum { CL__ESC_NONE, CL__ESC_URL, CL__ESC_JSON };
/* Copy in to out with the known variables replaced (escaped per esc);
 * other {{...}} are left as they are.  0, or -1 when out passed its max. */
int cl__subst(ut_buf *out, const char *in, const cl__vars *v, int esc);

/* The URL of the rel="next" link of a Link header value into out.
 * 1 found, 0 none, -1 malformed. */
int cl__link_next(const char *v, size_t n, ut_buf *out);
/* Retry-After: delay-seconds or an HTTP-date (against now, Unix seconds)
 * into *ms (cut to CL__RETRY_AFTER_MAX_MS).  0, or -1 when it is neither. */
int cl__retry_after(const char *v, int64_t now_s, int64_t *ms);

/* Secrets cut from messages: the caller's list and the engine's own. */
typedef struct cl__secrets {
    const char *v[CL__MAX_SECRETS];
    char *own[CL__MAX_SECRETS]; /* owned copies (tokens obtained, encodings) */
    int n, nown;
} cl__secrets;
void cl__secrets_add(cl__secrets *s, const char *v);      /* not copied */
void cl__secrets_add_copy(cl__secrets *s, const char *v); /* copied, also URL-encoded */
void cl__secrets_free(cl__secrets *s);
/* Replace every secret in s (a C string in cap bytes) with "[redacted]";
 * a text ending in a secret's first 4+ bytes (a cut excerpt) too. */
void cl__redact(const cl__secrets *sec, char *s, size_t cap);

/* ---- jscan.c --------------------------------------------------------------- */

typedef struct cl__jscan cl__jscan;
/* records: path of the records array (NULL: none); keep[0..nkeep): paths of
 * values to keep (next URL, cursor, id ...; none may lead to the records).
 * NULL with a message for a bad path. */
cl__jscan *cl__jscan_create(const char *records, const char *const *keep, int nkeep,
                            size_t max_record, char *err, size_t errlen);
void cl__jscan_destroy(cl__jscan *s);
void cl__jscan_reset(cl__jscan *s); /* for the next body */
void cl__jscan_on_record(cl__jscan *s, cl__emit_fn fn, void *ctx);
/* CL__OK / CL__BAD (err: why, at which byte) / CL__STOP. */
int cl__jscan_feed(cl__jscan *s, const char *p, size_t n, char *err, size_t errlen);
int cl__jscan_end(cl__jscan *s, char *err, size_t errlen);
/* Kept value i: a string unescaped, any other its JSON text; NULL when the
 * body had none there or it was null. */
const char *cl__jscan_value(const cl__jscan *s, int i, size_t *n);
int64_t cl__jscan_records(const cl__jscan *s);

/* ---- csvsplit.c ------------------------------------------------------------- */

typedef struct cl__csv cl__csv;
/* delim ',' (RFC 4180 quotes) or '\t' (no quoting). */
cl__csv *cl__csv_create(char delim, size_t max_record, cl__emit_fn fn, void *ctx);
void cl__csv_destroy(cl__csv *c);
int cl__csv_feed(cl__csv *c, const char *p, size_t n, char *err, size_t errlen);
int cl__csv_end(cl__csv *c, char *err, size_t errlen);
int64_t cl__csv_records(const cl__csv *c);

/* ---- body.c ---------------------------------------------------------------- */

typedef struct cl__body cl__body;
/* A decoder for one format; js (owned by the caller) for JSON bodies. */
cl__body *cl__body_create(cl_format fmt, cl__jscan *js, size_t max_record, cl__emit_fn fn,
                          void *ctx);
void cl__body_destroy(cl__body *b);
/* Gunzip when the bytes start with the gzip magic, then split. */
int cl__body_feed(cl__body *b, const void *p, size_t n, char *err, size_t errlen);
int cl__body_end(cl__body *b, char *err, size_t errlen);
int64_t cl__body_records(const cl__body *b);
int cl__body_gzip(const cl__body *b); /* 1 once gzip was detected */

/* ---- rotate.c: refresh tokens the token endpoint rotated, kept on disk ----- */

typedef struct cl__rt {
    int fd;                   /* the held <key>.lock, -1: none */
    char path[4200];          /* <dir>/<key>.rt */
    char tok[CL__MAX_TOKEN];  /* the newest saved refresh token, "": none */
} cl__rt;
/* Lock the grant of (cache_key, configured) in dir for this thread and
 * process and read its newest saved token into rt->tok.  0, or -1 with err. */
int cl__rt_begin(cl__rt *rt, const char *dir, const char *cache_key, const char *configured,
                 char *err, size_t errlen);
/* Save tok (n bytes) as the newest, durably.  0, or -1 with err. */
int cl__rt_save(cl__rt *rt, const char *tok, size_t n, char *err, size_t errlen);
void cl__rt_end(cl__rt *rt); /* unlock; rt wiped */

/* ---- the engine (tokens.c, http.c, call.c, fetch.c, async.c) ----------------- */

/* One collection's state. */
typedef struct cl__cx {
    const cl_spec *s;
    const cl_hooks *h;
    cl_tokens *tokens;
    cl_result *res;
    ut_error *e;
    void *curl;                   /* CURL *, one easy handle reused (keep-alive) */
    cl__secrets sec;
    char token[CL__MAX_TOKEN];    /* the access token in use (OAuth2) */
    int token_own;                /* cx->token was obtained by this collection and
                                     not yet answered: not in the cache yet */
    int64_t token_exp_ms;         /* its expiry, for the cache */
    char cache_key[256];
    int retries;
    int64_t timeout_ms, backoff_ms, poll_ms, max_wait_ms, max_pages, start;
    size_t max_record;
    int part;                     /* raw parts begun */
    cl__jscan *js;                /* the data bodies' scanner (JSON) */
    uint64_t rng;
} cl__cx;

/* What one call asks for; the request is built again for each attempt (a
 * refreshed token, a redirect). */
typedef struct cl__target {
    const cl_request *rq;
    const cl__vars *vars;
    const char *url;              /* instead of rq->url and its params (a next
                                     page's, a file's or a redirect's URL) */
    const char *pname, *pvalue;   /* a page parameter (replaces rq's of that name) */
    const char *sname, *svalue;   /* the page size parameter */
    const char *method;           /* instead of rq->method (a 303 redirect) */
    int auth;                     /* send the spec's credentials */
    int auth_call;                /* the OAuth2 token call: a 4xx is CL_AUTH */
    int no_headers;               /* rq's headers not sent (a report file) */
    int no_body;                  /* rq's body not sent (a 303 redirect) */
} cl__target;

/* One attempt's request (request.c). */
struct curl_slist;
typedef struct cl__built {
    const cl__vars *vars;
    const char *method;
    ut_buf url, body;
    int has_body, accept_encoding; /* accept_encoding: rq has that header */
    struct curl_slist *hdr;
    const char *user, *pass;      /* basic auth */
} cl__built;
/* 0, or -1 with the collection failed (CL_INVALID: a bad URL, header, body). */
int cl__build(cl__cx *cx, const cl__target *t, const cl__vars *v, cl__built *b);
void cl__built_free(cl__built *b);

/* The final response of a call. */
typedef struct cl__resp {
    long status;
    int accept_ranges;
    char retry_after[64], etag[256], content_range[128], encoding[64];
    ut_buf link;                  /* Link header(s), capped */
    ut_buf body;                  /* control calls: the whole body, capped */
    ut_buf excerpt;               /* a non-2xx body's start */
    char url[CL__MAX_URL];        /* where it came from (after redirects) */
} cl__resp;
void cl__resp_free(cl__resp *r);

/* A data part's transfer: the raw hooks and a body decoder. */
typedef struct cl__xfer {
    cl__body *body;               /* NULL: a control call (body kept in resp) */
    const char *ext;
    int64_t got;                  /* body bytes taken over all attempts */
    int begun;                    /* raw_begin was called */
    int accept_ranges;            /* seen on an answer with this body */
    char etag[256];
    char err[400];                /* a parse failure of the body */
    int bad;                      /* CL__BAD / CL__STOP from the decoder or a hook */
    int changed;                  /* bad: a resumed download is not the same file */
} cl__xfer;

/* One attempt over libcurl.  *cc gets the CURLcode; r the response. */
typedef struct cl__attempt {
    const char *method, *url, *body;
    size_t body_len;
    void *headers;                /* struct curl_slist * */
    const char *user, *pass;      /* basic auth */
    int64_t range_from;           /* > 0: a Range request */
    const char *if_range;
    int decode;                   /* a control call: libcurl undoes any encoding */
    int stalled, canceled;        /* set by the progress callback */
    int64_t skip;                 /* bytes of a 200 answer to a Range request to drop */
    int64_t bytes;                /* body bytes of this attempt */
} cl__attempt;
int cl__perform(cl__cx *cx, cl__attempt *a, cl__xfer *x, cl__resp *r, char *cerr, size_t cerrlen);

/* One HTTP call: take, attempts, 429 pauses, retries, 401 refresh, Range
 * resume, redirects.  0, or -1 with cx->e and res->kind set. */
int cl__call(cl__cx *cx, const cl__target *t, cl__xfer *x, cl__resp *r);
/* Fail the collection: res->kind, res->url, e (message redacted). -1. */
int cl__fail(cl__cx *cx, cl_kind k, const char *url, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Log a line about this collection (redacted). */
void cl__log(cl__cx *cx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sleep ms unless cancelled: 0, or -1 (cancelled). */
int cl__sleep(cl__cx *cx, int64_t ms);
int cl__canceled(const cl__cx *cx);
int64_t cl__now_ms(void);
/* Backoff before attempt k (1, 2, ...): backoff_ms doubling, at most 30 s. */
int64_t cl__backoff(cl__cx *cx, int k);

/* OAuth2: the access token into cx->token: this collection's own new one
 * not yet used, else the cache's, else (or with force, after a 401 with
 * `used`) a new one from the token endpoint.  A new token stays this
 * collection's (cx->token_own) until an answer to a call with it:
 * cl__oauth_used then puts it in the shared cache.  0 / -1 (cx->e). */
int cl__oauth_token(cl__cx *cx, int force, const char *used);
/* A call with cx->token got an answer other than 401: share it. */
void cl__oauth_used(cl__cx *cx);

/* A JSON control body (token, create, status) parsed for paths.  NULL with
 * the collection failed (CL_PARSE). */
cl__jscan *cl__control_parse(cl__cx *cx, const cl__resp *r, const char *const *keep, int nkeep);

/* A data call (a page, a report file) and its body's end: records counted
 * into *nrec.  0 / -1. */
int cl__data_call(cl__cx *cx, const cl__target *t, cl__resp *r, int64_t *nrec);
int cl__async(cl__cx *cx);

#endif
