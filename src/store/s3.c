/* The S3 store: path-style requests (<endpoint>/<bucket>/<prefix><key>)
 * signed with SigV4 over libcurl.
 *
 *   put     one PUT up to part_bytes; above, CreateMultipartUpload, UploadPart
 *           per part (each part hashed for x-amz-content-sha256),
 *           CompleteMultipartUpload; AbortMultipartUpload when anything fails
 *   get     GET with Range; the byte count is checked
 *   head    HEAD: Content-Length, Last-Modified
 *   delete  DELETE (404 is success)
 *   list    ListObjectsV2, following NextContinuationToken
 *   uploads ListMultipartUploads (following the key / upload-id markers) and
 *           the multipart calls one by one, for the streaming writer (writer.c)
 *
 * Every request is retried (max_retries times, exponential backoff with
 * jitter, honouring Retry-After up to 30 s) on network errors, 5xx, 429,
 * SlowDown and RequestTimeout.  Error messages carry the operation, the
 * s3:// URI, the HTTP status and S3's <Code>/<Message>; never credentials.
 * Idle curl handles are pooled per store so connections are reused; any
 * number of threads may call at once. */
#include "store/st_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX 8

struct st_s3 {
    char *endpoint;  /* scheme://host[:port][/base], no trailing '/' */
    char *host;      /* host[:port] as sent in Host */
    char *base_path; /* "" or "/base" */
    char *region, *bucket, *prefix;
    st_creds creds;
    uint64_t part_bytes;
    int max_retries, timeout_s;
    atomic_int list_page;
    pthread_mutex_t mu;
    CURL *pool[POOL_MAX];
    int npool;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- create / destroy ---------------------------------------------------------- */

static int bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 1 || n > 255) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

st_s3 *st__s3_open(const st_s3_opts *o, char *err, size_t errlen)
{
    st_s3 *s = NULL;
    const char *ep = o->endpoint;
    if (!o->bucket || !bucket_ok(o->bucket)) {
        ut_err(err, errlen, "S3: bucket name %.80s is missing or not [A-Za-z0-9._-]{1,255}",
               o->bucket ? o->bucket : "(none)");
        goto fail;
    }
    const char *prefix = o->prefix ? o->prefix : "";
    if (st__prefix_check(prefix, err, errlen) < 0) goto fail;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        ut_err(err, errlen, "S3: libcurl initialisation failed: %s",
               curl_easy_strerror(curl_init_rc));
        goto fail;
    }
    s = ut_calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->region = ut_strdup(o->region && o->region[0] ? o->region : "us-east-1");
    if (!ep || !ep[0]) {
        ut_buf b = {0};
        ut_buf_printf(&b, "https://s3.%s.amazonaws.com", s->region);
        ut_buf_putc(&b, 0);
        s->endpoint = (char *)b.p;
    } else {
        s->endpoint = ut_strdup(ep);
    }
    size_t el = strlen(s->endpoint);
    while (el && s->endpoint[el - 1] == '/') s->endpoint[--el] = 0;
    const char *hs;
    if (!strncasecmp(s->endpoint, "http://", 7)) hs = s->endpoint + 7;
    else if (!strncasecmp(s->endpoint, "https://", 8)) hs = s->endpoint + 8;
    else {
        ut_err(err, errlen, "S3: endpoint %.200s must start with http:// or https://", s->endpoint);
        goto fail;
    }
    const char *slash = strchr(hs, '/');
    s->host = slash ? ut_strndup(hs, (size_t)(slash - hs)) : ut_strdup(hs);
    s->base_path = ut_strdup(slash ? slash : "");
    if (!s->host[0] || strpbrk(s->host, "?#@ ") || strpbrk(s->base_path, "?# ")) {
        ut_err(err, errlen, "S3: bad endpoint %.200s", s->endpoint);
        goto fail;
    }
    s->bucket = ut_strdup(o->bucket);
    s->prefix = ut_strdup(prefix);
    s->part_bytes = o->part_bytes ? o->part_bytes : ST_PART_DEFAULT;
    if (s->part_bytes < ST_PART_MIN) s->part_bytes = ST_PART_MIN;
    if (s->part_bytes > ((uint64_t)5 << 30)) s->part_bytes = (uint64_t)5 << 30;
    s->max_retries = o->max_retries > 0 ? o->max_retries : 5;
    if (s->max_retries > 20) s->max_retries = 20;
    s->timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
    atomic_store(&s->list_page, 1000);
    if (st__creds_resolve(o, &s->creds, err, errlen) < 0) goto fail;
    return s;
fail:
    st__s3_close(s);
    return NULL;
}

void st__s3_close(st_s3 *s)
{
    if (!s) return;
    for (int i = 0; i < s->npool; i++) curl_easy_cleanup(s->pool[i]);
    pthread_mutex_destroy(&s->mu);
    st__creds_free(&s->creds);
    free(s->endpoint);
    free(s->host);
    free(s->base_path);
    free(s->region);
    free(s->bucket);
    free(s->prefix);
    free(s);
}

void st__s3_set_list_page(st_s3 *s, int max_keys)
{
    if (max_keys < 1) max_keys = 1;
    if (max_keys > 1000) max_keys = 1000;
    atomic_store(&s->list_page, max_keys);
}

const char *st__s3_uri(const st_s3 *s, const char *key, char *out, size_t n)
{
    snprintf(out, n, "s3://%s/%s%s", s->bucket, s->prefix, key);
    return out;
}

static CURL *handle_get(st_s3 *s)
{
    CURL *c = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->npool) c = s->pool[--s->npool];
    pthread_mutex_unlock(&s->mu);
    return c ? c : curl_easy_init();
}

static void handle_put(st_s3 *s, CURL *c)
{
    if (!c) return;
    curl_easy_reset(c);
    pthread_mutex_lock(&s->mu);
    if (s->npool < POOL_MAX) {
        s->pool[s->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (c) curl_easy_cleanup(c);
}

/* ---- one request, with retries ------------------------------------------------- */

typedef struct s3_body {
    const uint8_t *mem; /* or */
    int fd;             /* >= 0: bytes [off, off+len) of fd */
    uint64_t off, len, pos;
    int read_errno;
} s3_body;

typedef struct s3_call {
    /* in */
    const char *method;
    const char *objkey;       /* key inside the bucket (prefix included), NULL = bucket */
    const char *query;        /* encoded, or NULL */
    s3_body *body;            /* NULL: no body */
    const char *payload_hash; /* hex; NULL = hash of the (memory) body or of "" */
    const char *range;        /* "bytes=a-b" or NULL */
    ut_buf *out;              /* 2xx body goes here (NULL: discarded) */
    uint64_t out_cap;         /* most bytes accepted into out */
    int small;                /* a short request: apply the total timeout */
    /* out */
    long status;
    ut_buf errbody;           /* non-2xx body, capped */
    char etag[256];
    char last_modified[80];
    char retry_after[32];
    uint64_t content_length;
    int have_length;
    int over;                 /* out_cap exceeded */
    int attempts;
    size_t out_start;
} s3_call;

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    s3_call *c = ud;
    size_t n = sz * nm;
    if (c->status >= 200 && c->status < 300) {
        if (!c->out) return n;
        if ((uint64_t)(c->out->len - c->out_start) + n > c->out_cap) {
            c->over = 1;
            return 0; /* abort the transfer */
        }
        ut_buf_put(c->out, p, n);
    } else if (c->errbody.len < ST_ERRBODY_MAX) {
        size_t k = ST_ERRBODY_MAX - c->errbody.len;
        ut_buf_put(&c->errbody, p, n < k ? n : k);
    }
    return n;
}

static size_t on_read(char *p, size_t sz, size_t nm, void *ud)
{
    s3_body *b = ud;
    size_t n = sz * nm;
    uint64_t left = b->len - b->pos;
    if (n > left) n = (size_t)left;
    if (!n) return 0;
    if (b->fd < 0) {
        memcpy(p, b->mem + b->pos, n);
    } else {
        ssize_t got;
        do got = pread(b->fd, p, n, (off_t)(b->off + b->pos));
        while (got < 0 && errno == EINTR);
        if (got <= 0) {
            b->read_errno = got < 0 ? errno : EIO;
            return CURL_READFUNC_ABORT;
        }
        n = (size_t)got;
    }
    b->pos += n;
    return n;
}

/* Copy header value (trimmed) into out[outlen] when line is "name: value". */
static int header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) || line[nl] != ':') return 0;
    const char *v = line + nl + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t')) e--;
    size_t k = (size_t)(e - v);
    if (k >= outlen) k = outlen - 1;
    memcpy(out, v, k);
    out[k] = 0;
    return 1;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    s3_call *c = ud;
    size_t n = sz * nm;
    if (n > ST_HDR_LINE_MAX) return n; /* ignore absurd lines */
    if (n > 5 && !strncmp(p, "HTTP/", 5)) {
        const char *sp = memchr(p, ' ', n);
        if (sp && (size_t)(sp - p) + 4 <= n) c->status = strtol(sp + 1, NULL, 10);
        c->etag[0] = c->last_modified[0] = c->retry_after[0] = 0;
        c->have_length = 0;
        return n;
    }
    char num[32];
    if (header_value(p, n, "content-length", num, sizeof num)) {
        char *end;
        unsigned long long v = strtoull(num, &end, 10);
        if (end != num && !*end) {
            c->content_length = v;
            c->have_length = 1;
        }
    }
    header_value(p, n, "etag", c->etag, sizeof c->etag);
    header_value(p, n, "last-modified", c->last_modified, sizeof c->last_modified);
    header_value(p, n, "retry-after", c->retry_after, sizeof c->retry_after);
    return n;
}

static int curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FAILED_INIT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_LOGIN_DENIED:
        return 0;
    default:
        return 1;
    }
}

static uint64_t rand_u64(void)
{
    static _Thread_local uint64_t x;
    if (!x) x = ut_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&x;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

/* Sleep before retry number `attempt` (1-based): full-range exponential
 * backoff 200 ms * 2^(attempt-1), capped at 20 s, jittered to [d/2, d];
 * a Retry-After of up to 30 s wins when longer. */
static void backoff(int attempt, const char *retry_after)
{
    uint64_t d = 200;
    for (int i = 1; i < attempt && d < 20000; i++) d *= 2;
    if (d > 20000) d = 20000;
    d = d / 2 + rand_u64() % (d / 2 + 1);
    if (retry_after && retry_after[0] >= '0' && retry_after[0] <= '9') {
        long ra = strtol(retry_after, NULL, 10);
        if (ra > 30) ra = 30;
        if ((uint64_t)ra * 1000 > d) d = (uint64_t)ra * 1000;
    }
    struct timespec ts = {(time_t)(d / 1000), (long)(d % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void amz_now(char out[17])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* Describe a failed response into err: "HTTP 403 Code: Message". */
static void describe_status(s3_call *c, char *buf, size_t n)
{
    char code[128], msg[512];
    if (c->errbody.len &&
        st__xml_error((const char *)c->errbody.p, c->errbody.len, code, sizeof code, msg,
                      sizeof msg)) {
        snprintf(buf, n, "HTTP %ld %s%s%s", c->status, code, msg[0] ? ": " : "", msg);
    } else {
        snprintf(buf, n, "HTTP %ld", c->status);
    }
}

static int status_retryable(s3_call *c)
{
    if (c->status >= 500 || c->status == 429) return 1;
    char code[128], msg[8];
    if (c->errbody.len &&
        st__xml_error((const char *)c->errbody.p, c->errbody.len, code, sizeof code, msg,
                      sizeof msg))
        return !strcmp(code, "SlowDown") || !strcmp(code, "RequestTimeout") ||
               !strcmp(code, "InternalError") || !strcmp(code, "ServiceUnavailable");
    return 0;
}

/* Perform c (with retries).  0 when a final HTTP response arrived (any
 * status: the caller judges c->status, c->errbody), -1 on a transport
 * failure, with the message prefixed by `what`. */
static int s3_call_do(st_s3 *s, s3_call *c, const char *what, char *err, size_t errlen)
{
    int rc = -1;
    ut_buf path = {0}, url = {0}, authz = {0};
    char date[17], hash[65], lasterr[CURL_ERROR_SIZE + 64] = "";
    struct curl_slist *hl = NULL;
    CURL *h = NULL;
    ut_buf hdr[6];
    memset(hdr, 0, sizeof hdr);

    ut_buf_puts(&path, s->base_path);
    ut_buf_putc(&path, '/');
    ut_buf_puts(&path, s->bucket);
    if (c->objkey) {
        ut_buf_putc(&path, '/');
        st__uri_encode(&path, c->objkey, strlen(c->objkey), 1);
    }
    ut_buf_putc(&path, 0);
    ut_buf_printf(&url, "%.*s%s%s%s", (int)(strlen(s->endpoint) - strlen(s->base_path)),
                  s->endpoint, (const char *)path.p, c->query && c->query[0] ? "?" : "",
                  c->query ? c->query : "");
    ut_buf_putc(&url, 0);
    if (c->payload_hash) snprintf(hash, sizeof hash, "%s", c->payload_hash);
    else if (c->body && c->body->fd < 0) st__sha256_hex(c->body->mem, (size_t)c->body->len, hash);
    else st__sha256_hex("", 0, hash);
    c->out_start = c->out ? c->out->len : 0;

    for (int attempt = 0;; attempt++) {
        c->attempts = attempt + 1;
        if (attempt) backoff(attempt, c->retry_after);
        c->status = 0;
        c->over = 0;
        c->have_length = 0;
        c->etag[0] = c->last_modified[0] = c->retry_after[0] = 0;
        ut_buf_reset(&c->errbody);
        if (c->out) c->out->len = c->out_start;
        if (c->body) {
            c->body->pos = 0;
            c->body->read_errno = 0;
        }

        /* sign */
        amz_now(date);
        for (int i = 0; i < 6; i++) ut_buf_reset(&hdr[i]);
        int nh = 0;
        const char *sh[4];
        ut_buf_printf(&hdr[nh], "host:%s", s->host);
        nh++;
        ut_buf_printf(&hdr[nh], "x-amz-content-sha256:%s", hash);
        nh++;
        ut_buf_printf(&hdr[nh], "x-amz-date:%s", date);
        nh++;
        if (s->creds.token) {
            ut_buf_printf(&hdr[nh], "x-amz-security-token:%s", s->creds.token);
            nh++;
        }
        for (int i = 0; i < nh; i++) {
            ut_buf_putc(&hdr[i], 0);
            sh[i] = (const char *)hdr[i].p;
        }
        st_sigv4_req sr = {
            .method = c->method, .path = (const char *)path.p, .query = c->query ? c->query : "",
            .headers = sh, .nheaders = nh, .payload_hash = hash, .amz_date = date,
            .region = s->region, .service = "s3", .access_key = s->creds.access_key,
            .secret_key = s->creds.secret_key, .normalize_path = 0,
        };
        char serr[200];
        if (st_sigv4(&sr, NULL, NULL, &authz, serr, sizeof serr) < 0) {
            ut_err(err, errlen, "%s: %s", what, serr);
            goto fail;
        }
        curl_slist_free_all(hl);
        hl = NULL;
        for (int i = 0; i < nh; i++) {
            /* "name:value" -> "name: value" for curl */
            char line[ST_HDR_LINE_MAX];
            const char *colon = strchr(sh[i], ':');
            snprintf(line, sizeof line, "%.*s: %s", (int)(colon - sh[i]), sh[i], colon + 1);
            hl = curl_slist_append(hl, line);
        }
        ut_buf_reset(&hdr[5]);
        ut_buf_printf(&hdr[5], "Authorization: %s", (const char *)authz.p);
        ut_buf_putc(&hdr[5], 0);
        hl = curl_slist_append(hl, (const char *)hdr[5].p);
        hl = curl_slist_append(hl, "Expect:");
        if (c->range) {
            char line[128];
            snprintf(line, sizeof line, "Range: %s", c->range);
            hl = curl_slist_append(hl, line);
        }
        if (!hl) {
            ut_err(err, errlen, "%s: out of memory building headers", what);
            goto fail;
        }

        if (!h) h = handle_get(s);
        if (!h) {
            ut_err(err, errlen, "%s: curl_easy_init failed", what);
            goto fail;
        }
        char ebuf[CURL_ERROR_SIZE];
        ebuf[0] = 0;
        curl_easy_setopt(h, CURLOPT_URL, (const char *)url.p);
        curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)s->timeout_s);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)s->timeout_s);
        if (c->small) curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)s->timeout_s);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        if (!strcmp(c->method, "HEAD")) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (c->body) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, c->body);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->body->len);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
        } else if (strcmp(c->method, "GET")) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
        }
        CURLcode cr = curl_easy_perform(h);
        if (cr == CURLE_OK) {
            long code = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            c->status = code;
            if (!(c->status >= 200 && c->status < 300) && status_retryable(c) &&
                attempt < s->max_retries) {
                describe_status(c, lasterr, sizeof lasterr);
                continue;
            }
            rc = 0;
            goto fail;
        }
        if (c->over) {
            ut_err(err, errlen, "%s: response larger than %llu bytes", what,
                   (unsigned long long)c->out_cap);
            goto fail;
        }
        if (c->body && c->body->read_errno) {
            ut_err(err, errlen, "%s: reading the source: %s", what,
                   strerror(c->body->read_errno));
            goto fail;
        }
        snprintf(lasterr, sizeof lasterr, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cr));
        /* a broken connection may leave the handle in a bad state */
        curl_easy_cleanup(h);
        h = NULL;
        if (!curl_retryable(cr) || attempt >= s->max_retries) {
            ut_err(err, errlen, "%s: %s (%s, after %d attempt%s)", what, lasterr,
                   curl_easy_strerror(cr), attempt + 1, attempt ? "s" : "");
            goto fail;
        }
    }
fail:
    if (h) handle_put(s, h);
    curl_slist_free_all(hl);
    for (int i = 0; i < 6; i++) ut_buf_free(&hdr[i]);
    ut_buf_free(&path);
    ut_buf_free(&url);
    ut_buf_free(&authz);
    return rc;
}

/* "<what>: HTTP 403 Code: Message (after N attempts)" into err.  -1. */
static int call_error(s3_call *c, const char *what, char *err, size_t errlen)
{
    char d[800];
    describe_status(c, d, sizeof d);
    if (c->attempts > 1)
        return ut_err(err, errlen, "%s: %s (after %d attempts)", what, d, c->attempts);
    return ut_err(err, errlen, "%s: %s", what, d);
}

static char *full_key(const st_s3 *s, const char *key)
{
    ut_buf b = {0};
    ut_buf_puts(&b, s->prefix);
    ut_buf_puts(&b, key);
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

static void what_of(const st_s3 *s, const char *op, const char *key, char *out, size_t n)
{
    snprintf(out, n, "%s s3://%s/%s%s", op, s->bucket, s->prefix, key ? key : "");
}

/* ---- operations ------------------------------------------------------------------ */

int st__s3_check(st_s3 *s, char *err, size_t errlen)
{
    char what[300];
    snprintf(what, sizeof what, "check s3://%s (%s)", s->bucket, s->endpoint);
    s3_call c = {.method = "HEAD", .small = 1};
    int rc = -1;
    if (s3_call_do(s, &c, what, err, errlen) < 0) goto fail;
    if (c.status == 404) {
        ut_err(err, errlen, "%s: bucket not found (HTTP 404)", what);
        goto fail;
    }
    if (c.status == 403) {
        ut_err(err, errlen, "%s: access denied (HTTP 403; check the credentials from %s)", what,
               s->creds.source);
        goto fail;
    }
    if (c.status < 200 || c.status >= 300) {
        call_error(&c, what, err, errlen);
        goto fail;
    }
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    return rc;
}

static int put_single(st_s3 *s, const char *fk, s3_body *b, const char *what, char *err,
                      size_t errlen)
{
    int rc = -1;
    char hash[65];
    if (b->fd >= 0) {
        if (st__sha256_fd_hex(b->fd, b->off, b->len, hash) < 0) {
            ut_err(err, errlen, "%s: reading the source: %s", what, strerror(errno));
            return -1;
        }
    } else {
        st__sha256_hex(b->mem, (size_t)b->len, hash);
    }
    s3_call c = {.method = "PUT", .objkey = fk, .body = b, .payload_hash = hash};
    if (s3_call_do(s, &c, what, err, errlen) < 0) goto fail;
    if (c.status != 200) {
        call_error(&c, what, err, errlen);
        goto fail;
    }
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    return rc;
}

/* Append s[0..n) XML-escaped. */
static void xml_escape(ut_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': ut_buf_puts(b, "&lt;"); break;
        case '>': ut_buf_puts(b, "&gt;"); break;
        case '&': ut_buf_puts(b, "&amp;"); break;
        case '"': ut_buf_puts(b, "&quot;"); break;
        case '\'': ut_buf_puts(b, "&apos;"); break;
        default: ut_buf_putc(b, (uint8_t)*s);
        }
    }
}

/* ---- multipart pieces (put_multipart and the streaming writer) -------------------- */

static void upload_query(ut_buf *q, const char *upload_id, unsigned long long partno)
{
    ut_buf_reset(q);
    if (partno) ut_buf_printf(q, "partNumber=%llu&", partno);
    ut_buf_puts(q, "uploadId=");
    st__uri_encode(q, upload_id, strlen(upload_id), 0);
    ut_buf_putc(q, 0);
}

/* CreateMultipartUpload of full key fk: its UploadId into id[idlen].  0 / -1. */
static int mp_create(st_s3 *s, const char *fk, const char *what, char *id, size_t idlen,
                     char *err, size_t errlen)
{
    char pwhat[1500];
    ut_buf resp = {0};
    s3_body empty = {.mem = (const uint8_t *)"", .fd = -1};
    s3_call c = {.method = "POST", .objkey = fk, .query = "uploads=", .body = &empty,
                 .out = &resp, .out_cap = 1 << 20, .small = 1};
    snprintf(pwhat, sizeof pwhat, "%s (create multipart upload)", what);
    int rc = -1;
    if (s3_call_do(s, &c, pwhat, err, errlen) < 0) goto fail;
    if (c.status != 200) {
        call_error(&c, pwhat, err, errlen);
        goto fail;
    }
    if (!st__xml_text((const char *)resp.p, resp.len, "UploadId", id, idlen) || !id[0]) {
        ut_err(err, errlen, "%s: no UploadId in the response", pwhat);
        goto fail;
    }
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    ut_buf_free(&resp);
    return rc;
}

/* UploadPart number partno (1-based; of nparts, 0 = not known yet) from b:
 * its ETag into etag[etaglen].  0 / -1. */
static int mp_part(st_s3 *s, const char *fk, const char *what, const char *id,
                   unsigned long long partno, unsigned long long nparts, s3_body *b, char *etag,
                   size_t etaglen, char *err, size_t errlen)
{
    char hash[65], pwhat[1500];
    if (nparts) snprintf(pwhat, sizeof pwhat, "%s (part %llu of %llu)", what, partno, nparts);
    else snprintf(pwhat, sizeof pwhat, "%s (part %llu)", what, partno);
    if (b->fd >= 0) {
        if (st__sha256_fd_hex(b->fd, b->off, b->len, hash) < 0)
            return ut_err(err, errlen, "%s: reading the source: %s", what, strerror(errno));
    } else {
        st__sha256_hex(b->mem, (size_t)b->len, hash);
    }
    ut_buf q = {0};
    upload_query(&q, id, partno);
    s3_call c = {.method = "PUT", .objkey = fk, .query = (const char *)q.p, .body = b,
                 .payload_hash = hash};
    int rc = -1;
    if (s3_call_do(s, &c, pwhat, err, errlen) < 0) goto fail;
    if (c.status != 200) {
        call_error(&c, pwhat, err, errlen);
        goto fail;
    }
    if (!c.etag[0]) {
        ut_err(err, errlen, "%s: no ETag in the response", pwhat);
        goto fail;
    }
    snprintf(etag, etaglen, "%s", c.etag);
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    ut_buf_free(&q);
    return rc;
}

/* CompleteMultipartUpload of parts 1..n with their ETags.  0 / -1. */
static int mp_complete(st_s3 *s, const char *fk, const char *what, const char *id,
                       char *const *etags, unsigned long long n, char *err, size_t errlen)
{
    char pwhat[1500];
    ut_buf q = {0}, xml = {0}, resp = {0};
    ut_buf_puts(&xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (unsigned long long i = 0; i < n; i++) {
        ut_buf_printf(&xml, "<Part><PartNumber>%llu</PartNumber><ETag>", i + 1);
        xml_escape(&xml, etags[i]);
        ut_buf_puts(&xml, "</ETag></Part>");
    }
    ut_buf_puts(&xml, "</CompleteMultipartUpload>");
    upload_query(&q, id, 0);
    s3_body xb = {.mem = xml.p, .fd = -1, .len = xml.len};
    snprintf(pwhat, sizeof pwhat, "%s (complete multipart upload)", what);
    s3_call c = {0};
    int rc = -1;
    /* CompleteMultipartUpload may answer 200 with an <Error> body: retry those
     * here (the call is idempotent) */
    for (int attempt = 0;; attempt++) {
        ut_buf_free(&c.errbody);
        memset(&c, 0, sizeof c);
        ut_buf_reset(&resp);
        c.method = "POST";
        c.objkey = fk;
        c.query = (const char *)q.p;
        c.body = &xb;
        c.out = &resp;
        c.out_cap = 1 << 20;
        c.small = 1;
        if (s3_call_do(s, &c, pwhat, err, errlen) < 0) goto fail;
        if (c.status != 200) {
            call_error(&c, pwhat, err, errlen);
            goto fail;
        }
        char code[128], msg[512];
        if (!st__xml_error((const char *)resp.p, resp.len, code, sizeof code, msg, sizeof msg))
            break;
        if (attempt >= s->max_retries || (strcmp(code, "InternalError") && strcmp(code, "SlowDown"))) {
            ut_err(err, errlen, "%s: %s: %s", pwhat, code, msg);
            goto fail;
        }
        backoff(attempt + 1, NULL);
    }
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    ut_buf_free(&q);
    ut_buf_free(&xml);
    ut_buf_free(&resp);
    return rc;
}

/* AbortMultipartUpload; an upload that is gone already (404 NoSuchUpload) is
 * not an error.  0 / -1. */
static int mp_abort(st_s3 *s, const char *fk, const char *what, const char *id, char *err,
                    size_t errlen)
{
    char pwhat[1500];
    snprintf(pwhat, sizeof pwhat, "%s (abort multipart upload %.80s)", what, id);
    ut_buf q = {0};
    upload_query(&q, id, 0);
    s3_call c = {.method = "DELETE", .objkey = fk, .query = (const char *)q.p, .small = 1};
    int rc = -1;
    if (s3_call_do(s, &c, pwhat, err, errlen) < 0) goto fail;
    if (c.status != 204 && c.status != 200 && c.status != 404) {
        call_error(&c, pwhat, err, errlen);
        goto fail;
    }
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    ut_buf_free(&q);
    return rc;
}

static int put_multipart(st_s3 *s, const char *fk, s3_body *whole, const char *what, char *err,
                         size_t errlen)
{
    int rc = -1;
    char upload_id[1024] = "";
    char **etags = NULL;
    uint64_t part = s->part_bytes;
    /* at most 10000 parts: grow the part size (whole MiB) for huge objects */
    if ((whole->len + part - 1) / part > ST_PARTS_MAX) {
        part = (whole->len + ST_PARTS_MAX - 1) / ST_PARTS_MAX;
        part = (part + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);
    }
    uint64_t nparts = (whole->len + part - 1) / part;
    if (mp_create(s, fk, what, upload_id, sizeof upload_id, err, errlen) < 0) return -1;
    etags = ut_calloc((size_t)nparts, sizeof *etags);
    for (uint64_t i = 0; i < nparts; i++) {
        s3_body b = *whole;
        b.off = whole->off + i * part;
        b.len = whole->len - i * part < part ? whole->len - i * part : part;
        if (b.fd < 0) {
            b.mem = whole->mem + i * part;
            b.off = 0;
        }
        char etag[256];
        if (mp_part(s, fk, what, upload_id, i + 1, nparts, &b, etag, sizeof etag, err, errlen) < 0)
            goto abort;
        etags[i] = ut_strdup(etag);
    }
    if (mp_complete(s, fk, what, upload_id, etags, nparts, err, errlen) < 0) goto abort;
    rc = 0;
    goto done;
abort: {
    /* best effort: the parts would otherwise be billed until a lifecycle rule
     * removes them */
    char aerr[64];
    (void)mp_abort(s, fk, what, upload_id, aerr, sizeof aerr);
}
done:
    for (uint64_t i = 0; etags && i < nparts; i++) free(etags[i]);
    free(etags);
    return rc;
}

int st__s3_put(st_s3 *s, const char *key, int fd, const void *p, size_t n, char *err,
               size_t errlen)
{
    char what[1300];
    what_of(s, "put", key, what, sizeof what);
    s3_body b = {.mem = p, .fd = fd, .len = n};
    if (fd >= 0) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) return ut_err(err, errlen, "%s: cannot size the source: %s", what,
                                   strerror(errno));
        b.len = (uint64_t)end;
    }
    char *fk = full_key(s, key);
    int rc;
    if (b.len > s->part_bytes) rc = put_multipart(s, fk, &b, what, err, errlen);
    else rc = put_single(s, fk, &b, what, err, errlen);
    free(fk);
    return rc;
}

int st__s3_head(st_s3 *s, const char *key, uint64_t *size, int64_t *mtime_ms, char *err,
                size_t errlen)
{
    char what[1300];
    what_of(s, "head", key, what, sizeof what);
    char *fk = full_key(s, key);
    s3_call c = {.method = "HEAD", .objkey = fk, .small = 1};
    int rc = -1;
    if (s3_call_do(s, &c, what, err, errlen) < 0) goto fail;
    if (c.status == 404) {
        rc = 0;
        goto fail;
    }
    if (c.status == 403) {
        /* a HEAD answer has no body, so no S3 error code to show */
        ut_err(err, errlen, "%s: HTTP 403 (access denied, or a bad signature: check the "
                            "credentials from %s and the clock)", what, s->creds.source);
        goto fail;
    }
    if (c.status != 200) {
        call_error(&c, what, err, errlen);
        goto fail;
    }
    if (!c.have_length) {
        ut_err(err, errlen, "%s: no Content-Length in the response", what);
        goto fail;
    }
    if (size) *size = c.content_length;
    if (mtime_ms) {
        time_t t = c.last_modified[0] ? curl_getdate(c.last_modified, NULL) : -1;
        *mtime_ms = t < 0 ? 0 : (int64_t)t * 1000;
    }
    rc = 1;
fail:
    ut_buf_free(&c.errbody);
    free(fk);
    return rc;
}

int st__s3_get(st_s3 *s, const char *key, uint64_t off, uint64_t len, ut_buf *out, char *err,
               size_t errlen)
{
    char what[1300], range[80];
    what_of(s, "get", key, what, sizeof what);
    char *fk = full_key(s, key);
    int rc = -1;
    size_t start = out->len;
    if (len) snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off,
                      (unsigned long long)(off + len - 1));
    else snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)off);
    s3_call c = {.method = "GET", .objkey = fk, .range = (off || len) ? range : NULL, .out = out,
                 .out_cap = len ? len : ST_GET_MAX};
    if (s3_call_do(s, &c, what, err, errlen) < 0) goto fail;
    if (c.status == 404) {
        ut_err(err, errlen, "%s: not found", what);
        goto fail;
    }
    if (c.status == 416) {
        /* the range starts at or past the end: fine only for an empty tail */
        uint64_t size = 0;
        int h = st__s3_head(s, key, &size, NULL, err, errlen);
        if (h < 0) goto fail;
        if (h == 0) {
            ut_err(err, errlen, "%s: not found", what);
            goto fail;
        }
        if (!len && off == size) {
            rc = 0;
            goto fail;
        }
        ut_err(err, errlen, "%s: range %llu+%llu beyond the object's %llu bytes", what,
               (unsigned long long)off, (unsigned long long)len, (unsigned long long)size);
        goto fail;
    }
    if (c.status != 200 && c.status != 206) {
        call_error(&c, what, err, errlen);
        goto fail;
    }
    if (c.status == 200 && off) {
        ut_err(err, errlen, "%s: the server ignored the Range header", what);
        goto fail;
    }
    uint64_t got = (uint64_t)(out->len - start);
    if ((len && got != len) || (c.have_length && got != c.content_length)) {
        ut_err(err, errlen, "%s: range %llu+%llu beyond the object's end (got %llu bytes)", what,
               (unsigned long long)off, (unsigned long long)len, (unsigned long long)got);
        goto fail;
    }
    rc = 0;
fail:
    if (rc < 0) out->len = start;
    ut_buf_free(&c.errbody);
    free(fk);
    return rc;
}

int st__s3_delete(st_s3 *s, const char *key, char *err, size_t errlen)
{
    char what[1300];
    what_of(s, "delete", key, what, sizeof what);
    char *fk = full_key(s, key);
    s3_call c = {.method = "DELETE", .objkey = fk, .small = 1};
    int rc = -1;
    if (s3_call_do(s, &c, what, err, errlen) < 0) goto fail;
    if (c.status != 204 && c.status != 200 && c.status != 404) {
        call_error(&c, what, err, errlen);
        goto fail;
    }
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    free(fk);
    return rc;
}

int st__s3_list(st_s3 *s, const char *prefix, st_list_cb cb, void *ctx, char *err,
                size_t errlen)
{
    char what[1300];
    what_of(s, "list", prefix, what, sizeof what);
    char *fp = full_key(s, prefix), *token = NULL;
    size_t pl = strlen(s->prefix);
    ut_buf q = {0}, resp = {0};
    st_xml_list l = {0};
    int rc = -1;
    s3_call c = {0};
    for (long page = 0;; page++) {
        ut_buf_reset(&q);
        ut_buf_printf(&q, "list-type=2&max-keys=%d&prefix=", atomic_load(&s->list_page));
        st__uri_encode(&q, fp, strlen(fp), 0);
        if (token) {
            ut_buf_puts(&q, "&continuation-token=");
            st__uri_encode(&q, token, strlen(token), 0);
        }
        ut_buf_putc(&q, 0);
        ut_buf_reset(&resp);
        ut_buf_free(&c.errbody);
        memset(&c, 0, sizeof c);
        c.method = "GET";
        c.query = (const char *)q.p;
        c.out = &resp;
        c.out_cap = ST_XML_MAX;
        c.small = 1;
        if (s3_call_do(s, &c, what, err, errlen) < 0) goto fail;
        if (c.status != 200) {
            call_error(&c, what, err, errlen);
            goto fail;
        }
        char xerr[200];
        for (size_t i = 0; i < l.n; i++) free(l.v[i].key);
        l.n = 0;
        if (st__xml_list_page((const char *)resp.p, resp.len, &l, xerr, sizeof xerr) < 0) {
            ut_err(err, errlen, "%s: page %ld: %s", what, page + 1, xerr);
            goto fail;
        }
        for (size_t i = 0; i < l.n; i++) {
            const char *k = l.v[i].key;
            if (strncmp(k, s->prefix, pl)) continue; /* not ours (cannot happen) */
            int r = cb(ctx, k + pl, l.v[i].size, l.v[i].mtime_ms);
            if (r) {
                rc = r;
                goto fail;
            }
        }
        if (!l.truncated) break;
        if (token && !strcmp(token, l.next_token)) {
            ut_err(err, errlen, "%s: the server repeated a continuation token", what);
            goto fail;
        }
        free(token);
        token = ut_strdup(l.next_token);
    }
    rc = 0;
fail:
    st__xml_list_free(&l);
    ut_buf_free(&c.errbody);
    ut_buf_free(&q);
    ut_buf_free(&resp);
    free(token);
    free(fp);
    return rc;
}

/* ---- the streaming writer's calls (writer.c) and open uploads ------------------------ */

uint64_t st__s3_part_bytes(const st_s3 *s) { return s->part_bytes; }

int st__s3_mp_create(st_s3 *s, const char *key, char *id, size_t idlen, char *err,
                     size_t errlen)
{
    char what[1300];
    what_of(s, "put", key, what, sizeof what);
    char *fk = full_key(s, key);
    int rc = mp_create(s, fk, what, id, idlen, err, errlen);
    free(fk);
    return rc;
}

int st__s3_mp_part(st_s3 *s, const char *key, const char *id, int partno, const void *p,
                   size_t n, char *etag, size_t etaglen, char *err, size_t errlen)
{
    char what[1300];
    what_of(s, "put", key, what, sizeof what);
    char *fk = full_key(s, key);
    s3_body b = {.mem = p, .fd = -1, .len = n};
    int rc = mp_part(s, fk, what, id, (unsigned long long)partno, 0, &b, etag, etaglen, err,
                     errlen);
    free(fk);
    return rc;
}

int st__s3_mp_complete(st_s3 *s, const char *key, const char *id, char *const *etags, int n,
                       char *err, size_t errlen)
{
    char what[1300];
    what_of(s, "put", key, what, sizeof what);
    char *fk = full_key(s, key);
    int rc = mp_complete(s, fk, what, id, etags, (unsigned long long)n, err, errlen);
    free(fk);
    return rc;
}

int st__s3_mp_abort(st_s3 *s, const char *key, const char *id, char *err, size_t errlen)
{
    char what[1300];
    what_of(s, "put", key, what, sizeof what);
    char *fk = full_key(s, key);
    int rc = mp_abort(s, fk, what, id, err, errlen);
    free(fk);
    return rc;
}

/* One ListMultipartUploads page after the markers into u.  0 / -1. */
static int uploads_page(st_s3 *s, const char *fp, const char *what, const char *key_marker,
                        const char *id_marker, st_xml_uploads *u, char *err, size_t errlen)
{
    ut_buf q = {0}, resp = {0};
    ut_buf_puts(&q, "uploads=&prefix=");
    st__uri_encode(&q, fp, strlen(fp), 0);
    if (key_marker) {
        ut_buf_puts(&q, "&key-marker=");
        st__uri_encode(&q, key_marker, strlen(key_marker), 0);
        ut_buf_puts(&q, "&upload-id-marker=");
        st__uri_encode(&q, id_marker ? id_marker : "", id_marker ? strlen(id_marker) : 0, 0);
    }
    ut_buf_putc(&q, 0);
    s3_call c = {.method = "GET", .query = (const char *)q.p, .out = &resp, .out_cap = ST_XML_MAX,
                 .small = 1};
    int rc = -1;
    char xerr[200];
    if (s3_call_do(s, &c, what, err, errlen) < 0) goto fail;
    if (c.status != 200) {
        call_error(&c, what, err, errlen);
        goto fail;
    }
    if (st__xml_uploads_page((const char *)resp.p, resp.len, u, xerr, sizeof xerr) < 0) {
        ut_err(err, errlen, "%s: %s", what, xerr);
        goto fail;
    }
    rc = 0;
fail:
    ut_buf_free(&c.errbody);
    ut_buf_free(&q);
    ut_buf_free(&resp);
    return rc;
}

int st__s3_uploads(st_s3 *s, const char *prefix, st_upload_cb cb, void *ctx, char *err,
                   size_t errlen)
{
    char what[1300];
    what_of(s, "list multipart uploads", prefix, what, sizeof what);
    char *fp = full_key(s, prefix), *km = NULL, *im = NULL;
    size_t pl = strlen(s->prefix);
    st_xml_uploads u = {0};
    int rc = -1;
    for (int page = 0; page < 100000; page++) {
        st__xml_uploads_free(&u);
        if (uploads_page(s, fp, what, km, im, &u, err, errlen) < 0) goto fail;
        for (size_t i = 0; i < u.n; i++) {
            if (strncmp(u.v[i].key, s->prefix, pl)) continue;
            int r = cb(ctx, u.v[i].key + pl, u.v[i].id, u.v[i].initiated_ms, -1);
            if (r) {
                rc = r;
                goto fail;
            }
        }
        if (!u.truncated) break;
        if (!u.next_key || (km && !strcmp(km, u.next_key) && im && u.next_id &&
                            !strcmp(im, u.next_id))) {
            ut_err(err, errlen, "%s: a truncated page without new markers", what);
            goto fail;
        }
        free(km);
        free(im);
        km = ut_strdup(u.next_key);
        im = u.next_id ? ut_strdup(u.next_id) : NULL;
    }
    rc = 0;
fail:
    st__xml_uploads_free(&u);
    free(km);
    free(im);
    free(fp);
    return rc;
}
