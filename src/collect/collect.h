/* collect — pulling report data from HTTP APIs (the engine of `kind: collect`).
 *
 * Prefix: cl_.  One call, cl_fetch, runs one collection: the requests of
 * one (account, window) slice of a source described by a cl_spec --
 * authentication, pagination, a synchronous response or an asynchronous
 * report (create, poll, download) -- and hands the caller two streams:
 *
 *   raw      every response body (or downloaded report file) byte for
 *            byte as it arrives, one "part" per HTTP response, so that
 *            the caller keeps the raw files (gzip'ed into the store);
 *   records  the records found in them, one JSON object per call (NDJSON
 *            text without the newline): JSON records at a path, NDJSON
 *            lines, or CSV/TSV rows keyed by the header line.
 *
 *   cl_fetch ──► auth (bearer / header / query / basic / OAuth2 refresh,
 *                token cached per account, refreshed once on 401)
 *            ──► request (templated by the caller before: cl_spec holds
 *                final strings, except the {{page.*}} / {{report.*}}
 *                values cl_fetch substitutes itself)
 *            ──► pool token per HTTP call (cl_hooks.take), 429 ─► pause
 *                (cl_hooks.pause with Retry-After) and retry the call
 *            ──► body streamed: gunzip if gzip, split into records,
 *                raw bytes to hooks.raw, records to hooks.record
 *            ──► next page (next URL at a JSON path | Link rel=next |
 *                cursor param from a JSON path | page number | offset)
 *                until the stop rule or max_pages
 *
 * Memory is bounded whatever the response size: bodies are never held
 * whole (a JSON response is parsed as it streams, up to max_record_bytes
 * per record and 16 KiB per value kept for pagination or a report's
 * id/state/URL, the rest only checked); a 2 GB report passes through in
 * constant memory (a 200 MB CSV report: 13 MB peak RSS, ~300 MB/s).
 *
 * Records: JSON array elements must be objects (newlines in them become
 * spaces, so each fits one NDJSON line); NDJSON lines are checked as
 * objects, blank lines skipped; CSV/TSV rows become objects keyed by the
 * header in its order, every value a JSON string (the lake's inference
 * types them), an empty unquoted field null and a quoted "" the empty
 * string, an empty header name column_<N>, a repeated one <name>_2, _3;
 * CSV has RFC 4180 quotes, TSV none; LF or CRLF; a UTF-8 BOM is skipped.
 * A body is gunzipped when it starts with the gzip magic bytes (whatever
 * `gzip` and Content-Encoding say; concatenated members are read on).
 * Data calls send Accept-Encoding: gzip so raw parts may be gzip'ed.
 *
 * Security: credentials go only to the origin (scheme, host, port) of the
 * request they belong to -- a redirect or a report file elsewhere gets
 * none, nor the request's headers; a next page on another origin fails.
 * Tokens obtained (OAuth2) and every credential of the spec are cut from
 * messages and logs, also URL-encoded; the raw bodies are passed on as
 * they came (an API that echoes a token in a body, e.g. a next URL with
 * access_token, puts it in the raw part).
 *
 * Errors are typed (ut_errkind) and name the source, account and URL (never
 * a secret: the caller's redaction list is applied to every message):
 *   UT_EHTTP-like outcomes are reported through cl_result.status and
 *   cl_result.kind:
 *     CL_OK          every page collected
 *     CL_AUTH        401 after one refresh (OAuth2; others at once), 403,
 *                    or a token endpoint refusing the refresh token
 *     CL_CLIENT      other 4xx: status + the first 512 bytes of the body
 *     CL_SERVER      5xx / 408 / timeouts / resets after `retries` attempts
 *                    (a 429 is paused and retried, not counted, up to 50
 *                    times), or a body cut after some records were handed
 *                    over on a server without Range
 *     CL_PARSE       a body that does not parse (the raw part is still
 *                    handed over in full, for inspection)
 *     CL_REPORT      an asynchronous report ended failed, or did not get
 *                    ready within max_wait
 *     CL_CANCELED    hooks.cancel became set, or a hook returned -1
 *     CL_INVALID     the spec itself cannot be used (a missing URL, a bad
 *                    JSON path, a header with a line break): UT_EINVAL
 *
 * Threading: a cl_fetch call uses only its arguments; calls run in
 * parallel on different threads (one libcurl easy handle each).  The
 * OAuth2 token cache (cl_tokens) is shared and thread-safe.
 */
#ifndef SLUICE_COLLECT_H
#define SLUICE_COLLECT_H

#include "util/util.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CL_MAX_PARAMS 32        /* query parameters / headers of a request */
#define CL_MAX_PAGES_CAP 100000 /* the largest max_pages */

typedef struct cl_kv {
    const char *name, *value;
} cl_kv;

/* One HTTP request.  url/params/headers/body are final text, except that
 * the substrings {{page.cursor}}, {{page.number}}, {{page.offset}},
 * {{page.size}}, {{report.id}} and {{auth.token}} are replaced by cl_fetch
 * (the caller expands every other template first). */
typedef struct cl_request {
    const char *method;          /* "GET" (default) | "POST" */
    /* url: {{...}} values URL-encoded; params: encoded as a whole; header
     * values as they are (a line break is refused); body: values URL-encoded
     * for application/x-www-form-urlencoded, JSON-escaped for JSON. */
    const char *url;
    cl_kv params[CL_MAX_PARAMS]; /* appended to the URL's query, URL-encoded */
    int nparams;
    cl_kv headers[CL_MAX_PARAMS];
    int nheaders;
    const char *body;            /* NULL: none */
    const char *content_type;    /* of body; NULL: application/json when body set */
} cl_request;

typedef enum cl_auth_type {
    CL_AUTH_NONE,
    CL_AUTH_BEARER,  /* Authorization: Bearer <token> */
    CL_AUTH_HEADER,  /* <name>: <token> (an API key header) */
    CL_AUTH_QUERY,   /* ?<name>=<token> */
    CL_AUTH_BASIC,   /* username / password */
    CL_AUTH_OAUTH2   /* refresh-token grant at token_url: the access token is
                        sent as Bearer, cached per cache_key, refreshed on
                        expiry and once on a 401 */
} cl_auth_type;

typedef struct cl_auth {
    cl_auth_type type;
    const char *name;            /* HEADER / QUERY: header or parameter name */
    const char *token;           /* BEARER / HEADER / QUERY */
    const char *username, *password;   /* BASIC */
    const char *token_url;             /* OAUTH2 */
    const char *refresh_token, *client_id, *client_secret;
    const char *cache_key;       /* OAUTH2: e.g. "<job>/<account>" */
} cl_auth;

typedef enum cl_page_type {
    CL_PAGE_NONE,
    CL_PAGE_NEXT_URL, /* the next page's absolute URL at JSON path `path` */
    CL_PAGE_LINK,     /* the Link header's rel="next" */
    CL_PAGE_CURSOR,   /* param `param` = the value at JSON path `path` */
    CL_PAGE_NUMBER,   /* param `param` = start, start + 1, ... */
    CL_PAGE_OFFSET    /* param `param` = 0, size, 2 x size, ... */
} cl_page_type;

typedef struct cl_pagination {
    cl_page_type type;
    const char *path;       /* NEXT_URL, CURSOR: JSON path ("paging.next") */
    const char *param;      /* CURSOR, NUMBER, OFFSET */
    const char *size_param; /* NUMBER, OFFSET: page size parameter (NULL: none) */
    int64_t size;           /* NUMBER, OFFSET: page size (the stop rule: a page
                               with fewer records than size is the last) */
    int64_t start;          /* NUMBER: first page number (0: default 1) */
    int64_t max_pages;      /* stop after this many (default 1000) */
} cl_pagination;

typedef enum cl_format {
    CL_FMT_JSON,   /* records: the array at `records` (a JSON path; "" or
                      NULL = the body is the array; absent or null there:
                      no records) */
    CL_FMT_NDJSON,
    CL_FMT_CSV,    /* header line, then rows; RFC 4180 quoting */
    CL_FMT_TSV
} cl_format;

/* An asynchronous report: create -> poll status -> download. */
typedef struct cl_async {
    cl_request create;          /* answers JSON with the report id at id_path */
    const char *id_path;
    cl_request status;          /* url may use {{report.id}} */
    const char *status_path;    /* JSON path of the state */
    const char *ready;          /* state value meaning ready ("DONE") */
    const char *failed;         /* state value meaning failed ("FAILED") */
    const char *reason_path;    /* failed: JSON path of the reason (NULL: none) */
    const char *file_url_path;  /* ready: JSON path of the file's URL */
    int64_t poll_ms;            /* first poll interval (doubles, at most 30 s;
                                   default 2 s) */
    int64_t max_wait_ms;        /* give up (CL_REPORT; default 2 h) */
    /* States compare without case.  The file URL may be relative (to the
     * status URL); it is fetched with GET, Range resume, no headers. */
} cl_async;

typedef struct cl_spec {
    const char *name;           /* for messages: "<job>" */
    const char *account;        /* for messages and the token cache */
    cl_request request;         /* synchronous: the request (page 1) */
    int is_async;               /* 1: `async` instead of request */
    cl_async async;
    cl_auth auth;
    cl_pagination page;
    cl_format format;
    const char *records;        /* JSON: path of the records array */
    int gzip;                   /* 1: bodies are gzip files (informative: the
                                   magic bytes decide) */
    int retries;                /* per HTTP call on 5xx/timeouts (0: default 3;
                                   < 0: none) */
    int64_t timeout_ms;         /* per HTTP call without progress (default 60 s) */
    uint64_t max_record_bytes;  /* default 1 MiB, at most 64 MiB */
    int64_t backoff_ms;         /* first retry wait, doubling up to 30 s (default 1 s) */
} cl_spec;

typedef enum cl_kind {
    CL_OK, CL_AUTH, CL_CLIENT, CL_SERVER, CL_PARSE, CL_REPORT, CL_CANCELED, CL_INVALID
} cl_kind;

/* "ok", "auth", "client", "server", "parse", "report", "canceled", "invalid". */
const char *cl_kind_name(cl_kind k);

/* What the caller does with the data, and the pool. */
typedef struct cl_hooks {
    void *ctx;
    /* A raw part begins (one per HTTP response with data: a page, a report
     * file; numbered from 1); ext: "json", "ndjson", "csv", "tsv" (before
     * any gzip); url with secrets cut.  A download resumed with Range goes
     * on in the same part.  0 / -1. */
    int (*raw_begin)(void *ctx, int part, const char *url, const char *ext);
    /* Raw bytes of the current part (as received, still gzip'ed if they
     * were).  Only 2xx data answers are parts (no error bodies, token or
     * report create/status answers). */
    int (*raw)(void *ctx, const void *p, size_t n);
    /* One record: a JSON object, n bytes, no newline. 0 / -1 (stops). */
    int (*record)(void *ctx, const char *json, size_t n);
    /* Before each HTTP request (every attempt, the OAuth2 token call, each
     * poll and download included): wait for a pool token.  0 / -1 (cancel).
     * NULL: no pool. */
    int (*take)(void *ctx);
    /* A 429: pause the pool until now + ms (Retry-After seconds or HTTP-date,
     * else backoff).  The call is retried once ms passed and take() said
     * yes.  NULL: the engine only waits itself. */
    void (*pause)(void *ctx, int64_t ms);
    const atomic_int *cancel;   /* set: give up as soon as possible */
    /* Secret values to cut from every message (NULL-terminated). */
    const char *const *redact;
} cl_hooks;

typedef struct cl_result {
    cl_kind kind;
    int status;                 /* the last HTTP status */
    int64_t pages, records, raw_bytes, calls, retries, throttled, refreshes;
                                /* calls: HTTP requests made; retries: attempts
                                   again after a failure; throttled: 429s;
                                   refreshes: access tokens obtained */
    int64_t resumes;            /* downloads resumed with Range */
    int truncated;              /* max_pages stopped a walk that had a next page */
    char url[512];              /* the failing call's URL (secrets redacted) */
    char body[513];             /* its answer's first 512 bytes (redacted) */
} cl_result;

/* Add the forms a secret value takes in HTTP bodies to s: as it is,
 * URL-encoded (a next-page URL echoing an access_token parameter) and with
 * JSON's "\/" for '/' (both).  0, or -1 when s is full. */
int cl_scrub_secret(ut_scrub *s, const char *v);

/* The shared OAuth2 access-token cache (one per process). */
typedef struct cl_tokens cl_tokens;
cl_tokens *cl_tokens_create(void);
void cl_tokens_destroy(cl_tokens *t); /* accepts NULL */
/* Keep refresh tokens that a token endpoint rotates (an answer with a new
 * refresh_token) in dir (created, mode 0700), shared by every process on it;
 * grants of one (cache_key, configured token) take turns under a lock.
 * Without it a rotated token lives for this collection only.  0 / -1. */
int cl_tokens_persist(cl_tokens *t, const char *dir, char *err, size_t errlen);

/* Run one collection.  0 on CL_OK, else -1 with e (kind UT_EIO, UT_EINVAL,
 * UT_ECANCELED ...; message naming the source, account and URL) and
 * res->kind saying which failure.  tokens NULL: a cache of this call only.
 * e and res may be NULL; a hook may be NULL. */
int cl_fetch(const cl_spec *s, cl_tokens *tokens, const cl_hooks *h, cl_result *res,
             ut_error *e);

#endif
