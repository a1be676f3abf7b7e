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
 * per record and max_json_bytes for the non-record part needed for
 * pagination); a 2 GB report passes through in constant memory.
 *
 * Errors are typed (ut_errkind) and name the source, account and URL (never
 * a secret: the caller's redaction list is applied to every message):
 *   UT_EHTTP-like outcomes are reported through cl_result.status and
 *   cl_result.kind:
 *     CL_OK          every page collected
 *     CL_AUTH        401/403 after one refresh
 *     CL_CLIENT      other 4xx: status + the first 512 bytes of the body
 *     CL_SERVER      5xx / timeouts / resets after `retries` attempts
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
    int64_t start;          /* NUMBER: first page number (default 1) */
    int64_t max_pages;      /* stop after this many (default 1000) */
} cl_pagination;

typedef enum cl_format {
    CL_FMT_JSON,   /* records: the array at `records` (a JSON path; "" = the
                      body is the array) */
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
    int64_t poll_ms;            /* first poll interval (doubles, at most 30 s) */
    int64_t max_wait_ms;        /* give up (CL_REPORT) */
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
    int gzip;                   /* 1: bodies are gzip files (also detected by magic
                                   bytes and Content-Encoding) */
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
    /* Raw bytes of the current part (as received, still gzip'ed if they were). */
    int (*raw)(void *ctx, const void *p, size_t n);
    /* One record: a JSON object, n bytes, no newline. 0 / -1 (stops). */
    int (*record)(void *ctx, const char *json, size_t n);
    /* Before each HTTP call: wait for a pool token.  0 / -1 (cancel). */
    int (*take)(void *ctx);
    /* A 429: pause the pool until now + ms. */
    void (*pause)(void *ctx, int64_t ms);
    const atomic_int *cancel;   /* set: give up as soon as possible */
    /* Secret values to cut from every message (NULL-terminated). */
    const char *const *redact;
} cl_hooks;

typedef struct cl_result {
    cl_kind kind;
    int status;                 /* the last HTTP status */
    int64_t pages, records, raw_bytes, calls, retries, throttled, refreshes;
    int64_t resumes;            /* downloads resumed with Range */
    int truncated;              /* max_pages stopped a walk that had a next page */
    char url[512];              /* the failing call's URL (secrets redacted) */
    char body[513];             /* its answer's first 512 bytes (redacted) */
} cl_result;

/* The shared OAuth2 access-token cache (one per process). */
typedef struct cl_tokens cl_tokens;
cl_tokens *cl_tokens_create(void);
void cl_tokens_destroy(cl_tokens *t); /* accepts NULL */

/* Run one collection.  0 on CL_OK, else -1 with e (kind UT_EIO, UT_EINVAL,
 * UT_ECANCELED ...; message naming the source, account and URL) and
 * res->kind saying which failure. */
int cl_fetch(const cl_spec *s, cl_tokens *tokens, const cl_hooks *h, cl_result *res,
             ut_error *e);

#endif
