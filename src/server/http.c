/* The HTTP side: libmicrohttpd daemon, routing, replies, start and stop.
 *
 * File descriptors: every journal segment and every lake sink holds some, so
 * a server with many streams needs thousands.  sv_start raises the soft
 * RLIMIT_NOFILE to the hard limit, and the daemon waits in poll() (one thread
 * per connection), not select(), which cannot watch descriptors above 1023.
 * The listening socket is bound here, so a failure names its real cause
 * (address in use, too many open files) instead of a guess. */
#include "log/log.h"
#include "server/sv_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char get_marker; /* *ctx of GET requests */

static int stop_within(sv_server *s, int64_t timeout_ms);

/* *ctx of POST /v1/query while its body arrives (ingest has its own). */
typedef struct query_body {
    char tag[4]; /* "QRY" */
    ut_buf b;
    int too_big;
} query_body;

void sv_opts_init(sv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->data_dir = "./sluice-data";
    o->host = "127.0.0.1";
    o->port = 8080;
    o->max_connections = 1024;
    o->conn_timeout_s = 30;
    o->header_timeout_s = 10;
    o->max_per_client = 256;
    o->limits.max_body = 10 * 1000 * 1000;
    o->limits.max_record = 1000 * 1000;
    o->limits.max_depth = 64;
    o->limits.max_records = 100000;
    o->min_free_disk = 1000ull * 1000 * 1000;
    o->auto_create = 1;
    o->shutdown_timeout_ms = 5000;
    jr_opts_init(&o->auto_conf.jr);
}

enum MHD_Result sv__reply(sv_server *s, struct MHD_Connection *c, int code, const char *ctype,
                          const void *body, size_t n, const char *retry_after)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    if (code == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)code, r);
    MHD_destroy_response(r);
    if (code >= 100 && code < 600) __atomic_fetch_add(&s->http_codes[code / 100], 1, __ATOMIC_RELAXED);
    return rc;
}

enum MHD_Result sv__reply_error(sv_server *s, struct MHD_Connection *c, int code, const char *msg)
{
    ut_buf b = {0};
    ut_buf_puts(&b, "{\"error\":");
    ut_json_str(&b, msg, strlen(msg));
    ut_buf_puts(&b, "}\n");
    const char *retry = code == 429 || code == 503 ? "1" : code == 507 ? "30" : NULL;
    enum MHD_Result r = sv__reply(s, c, code, "application/json", b.p, b.len, retry);
    ut_buf_free(&b);
    return r;
}

/* "/v1/streams/NAME/records" -> NAME (into out) and 1; else 0. */
static int match_records(const char *url, char *out, size_t n)
{
    const char *pre = "/v1/streams/", *suf = "/records";
    size_t lp = strlen(pre), lu = strlen(url), ls = strlen(suf);
    if (strncmp(url, pre, lp) || lu <= lp + ls || strcmp(url + lu - ls, suf)) return 0;
    size_t len = lu - lp - ls;
    if (len >= n || memchr(url + lp, '/', len)) return 0;
    memcpy(out, url + lp, len);
    out[len] = 0;
    return 1;
}

enum { GET_NONE, GET_INFO, GET_TABLES, GET_DOWNLOAD, GET_ASSET };

/* Which GET handler serves url: stream info, health and metrics; the
 * catalog (/v1/tables...); the console (anything else not under /v1/). */
static int get_kind(const char *url)
{
    if (!strcmp(url, "/healthz") || !strcmp(url, "/metrics") || !strcmp(url, "/v1/streams") ||
        (!strncmp(url, "/v1/streams/", 12) && url[12] && !strchr(url + 12, '/')))
        return GET_INFO;
    if (!strncmp(url, "/v1/tables", 10) && (!url[10] || url[10] == '/')) return GET_TABLES;
    if (!strcmp(url, "/v1/schema-changes")) return GET_TABLES;
    if (!strncmp(url, "/v1/downloads/", 14) && url[14] && !strchr(url + 14, '/')) return GET_DOWNLOAD;
    if (strncmp(url, "/v1/", 4) && strcmp(url, "/v1")) return GET_ASSET;
    return GET_NONE;
}

static enum MHD_Result handle_get(sv_server *s, struct MHD_Connection *c, const char *url)
{
    ut_buf b = {0};
    enum MHD_Result r;
    if (!strcmp(url, "/healthz")) {
        r = sv__reply(s, c, 200, "text/plain", "ok\n", 3, NULL);
    } else if (!strcmp(url, "/metrics")) {
        sv__metrics(s, &b);
        r = sv__reply(s, c, 200, "text/plain; version=0.0.4", b.p, b.len, NULL);
    } else if (!strcmp(url, "/v1/streams")) {
        sv__info_streams(s, &b);
        r = sv__reply(s, c, 200, "application/json", b.p, b.len, NULL);
    } else {
        if (sv__info_stream(s, url + 12, &b)) {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown stream '%.64s'", url + 12);
            r = sv__reply_error(s, c, 404, msg);
        } else {
            r = sv__reply(s, c, 200, "application/json", b.p, b.len, NULL);
        }
    }
    ut_buf_free(&b);
    return r;
}

static enum MHD_Result count_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)value;
    if (!strcasecmp(key, "Content-Length")) ++*(int *)cls;
    return MHD_YES;
}

/* Checks every request gets once its headers are in: 0, or an error sent. */
static int first_checks(sv_server *s, struct MHD_Connection *c, enum MHD_Result *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci) sv__watch_request(s, ci->socket_context, 1);
    int ncl = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_length, &ncl);
    if (ncl > 1) { /* request smuggling: which one frames the body? */
        *r = sv__reply_error(s, c, 400, "more than one Content-Length header");
        return -1;
    }
    return 0;
}

/* Collect a request body of at most 1 MiB into *ctx (a query_body).  The
 * whole body: the body (1), else 0 with *r set (MHD_YES to go on reading,
 * or the 413 sent). */
static int collect_body(sv_server *s, struct MHD_Connection *c, const char *upload,
                        size_t *upload_size, void **ctx, query_body **out, enum MHD_Result *r)
{
    query_body *qb = *ctx;
    *r = MHD_YES;
    if (!qb) {
        qb = ut_calloc(1, sizeof *qb);
        memcpy(qb->tag, "QRY", 4);
        *ctx = qb;
        return 0;
    }
    if (*upload_size) {
        if (qb->b.len + *upload_size > (1u << 20)) qb->too_big = 1;
        else ut_buf_put(&qb->b, upload, *upload_size);
        *upload_size = 0;
        return 0;
    }
    if (qb->too_big) {
        *r = sv__reply_error(s, c, 413, "request body over 1 MiB");
        return 0;
    }
    *out = qb;
    return 1;
}

/* POST /v1/query, /v1/downloads */
static enum MHD_Result handle_query(sv_server *s, struct MHD_Connection *c, const char *url,
                                    const char *upload, size_t *upload_size, void **ctx)
{
    query_body *qb;
    enum MHD_Result r;
    if (!collect_body(s, c, upload, upload_size, ctx, &qb, &r)) return r;
    const char *body = qb->b.p ? (const char *)qb->b.p : "";
    char err[512];
    if (sv__csrf_check(s, c, err, sizeof err)) return sv__reply_error(s, c, 403, err);
    if (!strcmp(url, "/v1/downloads")) return sv__download_create(s, c, body, qb->b.len);
    return sv__query(s, c, body, qb->b.len);
}

static const char *ext_arg(const void *conn, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)conn, MHD_GET_ARGUMENT_KIND, key);
}

/* Has the client of conn gone (closed its end, reset)?  For a handler
 * that waits: it should not hand out what nobody will read. */
static int ext_gone(const void *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        (struct MHD_Connection *)conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 0;
    struct pollfd p = {ci->connect_fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Is url one of the ext prefixes or below one ("/v1/jobs", "/v1/jobs/x";
 * not "/v1/jobsx")? */
static int is_ext(const sv_server *s, const char *url)
{
    for (int i = 0; i < 4 && s->o.ext_prefix[i]; i++) {
        size_t n = strlen(s->o.ext_prefix[i]);
        if (!strncmp(url, s->o.ext_prefix[i], n) && (!url[n] || url[n] == '/')) return 1;
    }
    return 0;
}

/* A request under an ext prefix: its body is collected as for /v1/query. */
static enum MHD_Result handle_ext(sv_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *upload, size_t *upload_size,
                                  void **ctx)
{
    query_body *qb;
    enum MHD_Result r;
    if (!collect_body(s, c, upload, upload_size, ctx, &qb, &r)) return r;
    char err[512];
    if (strcmp(method, "GET") && strcmp(method, "HEAD") && sv__csrf_check(s, c, err, sizeof err))
        return sv__reply_error(s, c, 403, err);
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    sv_ext_req q = {.method = method, .path = url, .body = ut_buf_cstr(&qb->b), .n = qb->b.len,
                    .bearer = auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : NULL,
                    .arg = ext_arg, .gone = ext_gone, .conn = c};
    ut_buf out = {0};
    int code = s->o.ext(s->o.ext_arg, &q, &out);
    r = sv__reply(s, c, code, "application/json", out.p ? (const void *)out.p : "",
                                  out.len, code == 429 || code == 503 ? "1" : NULL);
    ut_buf_free(&out);
    return r;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **ctx)
{
    sv_server *s = cls;
    char name[256];
    enum MHD_Result r;
    (void)version;
    if (!*ctx && first_checks(s, c, &r)) return r;
    if (sv__is_kinesis(c, url, method)) return sv__kinesis(s, c, upload, upload_size, ctx);
    if (match_records(url, name, sizeof name)) {
        if (strcmp(method, "POST")) return sv__reply_error(s, c, 405, "use POST");
        return sv__ingest(s, c, name, upload, upload_size, ctx);
    }
    if (!strcmp(url, "/v1/query") || !strcmp(url, "/v1/downloads")) {
        if (strcmp(method, "POST")) return sv__reply_error(s, c, 405, "use POST");
        return handle_query(s, c, url, upload, upload_size, ctx);
    }
    if (s->o.ext && is_ext(s, url)) return handle_ext(s, c, url, method, upload, upload_size, ctx);
    if (sv__is_objects(url)) {
        query_body *qb;
        if (!collect_body(s, c, upload, upload_size, ctx, &qb, &r)) return r;
        return sv__objects(s, c, url, method, ut_buf_cstr(&qb->b), qb->b.len);
    }
    if (!strcmp(url, "/v1/session")) {
        if (strcmp(method, "GET")) return sv__reply_error(s, c, 405, "use GET");
        if (!*ctx) {
            *ctx = &get_marker;
            return MHD_YES;
        }
        *upload_size = 0;
        return sv__session(s, c);
    }
    int kind = get_kind(url);
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (kind == GET_NONE || (kind == GET_ASSET && !get)) /* the console's paths only read */
        return sv__reply_error(s, c, 404, "no such endpoint");
    if (!get) return sv__reply_error(s, c, 405, "use GET");
    if (!*ctx) { /* wait for the whole request */
        *ctx = &get_marker;
        return MHD_YES;
    }
    if (*upload_size) { /* bodies on GET are ignored */
        *upload_size = 0;
        return MHD_YES;
    }
    if (kind == GET_TABLES) return sv__tables(s, c, url);
    if (kind == GET_DOWNLOAD) return sv__download_get(s, c, url + 14);
    if (kind == GET_ASSET) return sv__asset_get(s, c, url);
    return handle_get(s, c, url);
}

/* Send replies at once: with Nagle's algorithm a reply written in two parts
 * (headers, body) can wait for the client's delayed ACK, ~40 ms. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    sv_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        sv__watch_remove(s, *socket_ctx);
        *socket_ctx = NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return;
    int one = 1;
    (void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *socket_ctx = sv__watch_add(s, ci->connect_fd);
}

static void completed(void *cls, struct MHD_Connection *c, void **ctx,
                      enum MHD_RequestTerminationCode why)
{
    (void)why;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci) sv__watch_request(cls, ci->socket_context, 0);
    if (*ctx && *ctx != &get_marker) {
        query_body *qb = *ctx;
        if (!memcmp(qb->tag, "QRY", 4)) {
            ut_buf_free(&qb->b);
            free(qb);
        } else if (!memcmp(qb->tag, "KIN", 4)) {
            sv__kinesis_done(cls, *ctx);
        } else {
            sv__ingest_done(cls, *ctx);
        }
    }
    *ctx = NULL;
}

/* Raise the soft limit of open files to the hard limit: streams need them. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max) return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        lg_debug("http", "open files limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_max);
}

static unsigned long long nofile_limit(void)
{
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) ? 0 : (unsigned long long)rl.rlim_cur;
}

/* Bind and listen on host:port; the fd, or -1 with a message naming errno. */
static int open_listener(const sv_opts *o, char *err, size_t errlen)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &a.sin_addr) != 1)
        return ut_err(err, errlen, "listen address '%s' is not an IPv4 address", o->host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        return ut_err(err, errlen, "cannot create the listening socket: %s%s", strerror(e),
                      e == EMFILE ? " (raise the open files limit, ulimit -n)" : "");
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1024)) {
        int e = errno;
        close(fd);
        return ut_err(err, errlen, "cannot listen on %s:%d: %s", o->host, o->port,
                      e == EADDRINUSE ? "address already in use" : strerror(e));
    }
    return fd;
}

/* libmicrohttpd's messages go to the log; the last is kept for start-up errors. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    sv_server *s = cls;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = 0;
    snprintf(s->mhd_err, sizeof s->mhd_err, "%s", line);
    lg_warn("http", "%s", line);
}

static int start_daemon(sv_server *s, char *err, size_t errlen)
{
    const sv_opts *o = &s->o;
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_POLL | MHD_USE_ERROR_LOG,
                            0, NULL, NULL, handler, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, /* first, or MHD warns */
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->max_per_client,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->conn_timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_END);
    if (!s->d) {
        s->listen_fd = -1; /* libmicrohttpd may have closed it */
        return ut_err(err, errlen, "cannot start the HTTP server on %s:%d: %s (open files limit "
                      "%llu)", o->host, o->port, s->mhd_err[0] ? s->mhd_err : "unknown error",
                      nofile_limit());
    }
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    s->port = getsockname(s->listen_fd, (struct sockaddr *)&a, &al) == 0 ? ntohs(a.sin_port)
                                                                          : o->port;
    return 0;
}

sv_server *sv_start(const sv_opts *o, char *err, size_t errlen)
{
    sv_server *s = ut_calloc(1, sizeof *s);
    s->o = *o;
    s->lock_fd = -1;
    s->listen_fd = -1;
    raise_nofile();
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->dl_mu, NULL);
    s->data_dir = ut_strdup(o->data_dir);
    size_t n = strlen(o->data_dir) + 16;
    s->streams_dir = ut_malloc(n);
    snprintf(s->streams_dir, n, "%s/streams", o->data_dir);
    n = strlen(o->data_dir) + 32;
    s->catalog_path = ut_malloc(n);
    snprintf(s->catalog_path, n, "%s/catalog.db", o->data_dir);
    s->tmp_dir = ut_malloc(n);
    snprintf(s->tmp_dir, n, "%s/lake-tmp", o->data_dir);
    s->auto_jr = o->auto_conf.jr;
    s->auto_max_bytes = o->auto_conf.max_bytes;
    s->auto_sink = o->auto_conf.sink;
    s->auto_sink_opts = o->auto_conf.sink_opts;
    s->auto_sink_opts.table = NULL; /* per stream: t1_<name> */
    s->auto_sink_opts.event_time_field = s->auto_etf =
        ut_strdup(o->auto_conf.sink_opts.event_time_field ? o->auto_conf.sink_opts.event_time_field : "");
    s->max_inflight_bytes = (uint64_t)o->limits.max_body * 32;
    if (s->max_inflight_bytes < (256ull << 20)) s->max_inflight_bytes = 256ull << 20;
    s->o.data_dir = s->data_dir;
    s->o.streams = NULL; /* not kept: copied into the registry */
    if (mkdir(s->data_dir, 0755) && errno != EEXIST) {
        ut_err(err, errlen, "cannot create data directory %s: %s", s->data_dir, strerror(errno));
        goto fail;
    }
    if (mkdir(s->streams_dir, 0755) && errno != EEXIST) {
        ut_err(err, errlen, "cannot create %s: %s", s->streams_dir, strerror(errno));
        goto fail;
    }
    /* One server per data directory: the journal and the sinks assume a
     * single writer.  The lock goes away with the process, even on kill -9. */
    char lockpath[4200];
    snprintf(lockpath, sizeof lockpath, "%s/LOCK", s->data_dir);
    s->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        ut_err(err, errlen, "cannot open %s: %s", lockpath, strerror(errno));
        goto fail;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
        char other[32] = "";
        ssize_t r = pread(s->lock_fd, other, sizeof other - 1, 0);
        if (r > 0) other[strcspn(other, "\n")] = 0;
        ut_err(err, errlen, "data directory %s is in use by another sluice server%s%s", s->data_dir,
               other[0] ? " (pid " : "", other[0] ? other : "");
        if (other[0]) snprintf(err + strlen(err), errlen - strlen(err), ")");
        goto fail;
    }
    char pid[32];
    int pl = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(s->lock_fd, 0) || pwrite(s->lock_fd, pid, (size_t)pl, 0) != pl) {
        /* the pid is informational only */
    }
    s->o.streams = o->streams;
    if (sv__streams_open(s, err, errlen)) goto fail;
    s->o.streams = NULL;
    if (sv__watch_start(s, err, errlen)) goto fail;
    s->listen_fd = open_listener(o, err, errlen);
    if (s->listen_fd < 0 || start_daemon(s, err, errlen)) goto fail;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->started_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    return s;
fail:
    stop_within(s, -1);
    return NULL;
}

int sv_port(const sv_server *s)
{
    return s->port;
}

int sv_sink_lag(sv_server *s, int i, char *stream, size_t n, int64_t *lag)
{
    int found = 0, k = 0;
    pthread_mutex_lock(&s->mu);
    for (int j = 0; j < s->nstreams && !found; j++) {
        sv__stream *st = s->streams[j];
        if (!st->sink || k++ != i) continue;
        lk_sink_stats ks;
        jr_info in;
        lk_sink_get_stats(st->sink, &ks);
        jr_stream_info(st->jr, &in);
        snprintf(stream, n, "%s", st->name);
        *lag = ks.past_end ? -1
                           : (int64_t)(in.next_offset > ks.position ? in.next_offset - ks.position : 0);
        found = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

int sv_table_progress(sv_server *s, const char *table, uint64_t *position, uint64_t *end)
{
    int found = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nstreams && !found; i++) {
        sv__stream *st = s->streams[i];
        if (!st->sink || strcasecmp(st->table, table)) continue;
        lk_sink_stats k;
        jr_info in;
        lk_sink_get_stats(st->sink, &k);
        jr_stream_info(st->jr, &in);
        *position = k.position;
        *end = in.next_offset;
        found = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

static int stop_within(sv_server *s, int64_t timeout_ms)
{
    if (!s) return 0;
    if (s->d) {
        MHD_socket fd = MHD_quiesce_daemon(s->d); /* stop accepting */
        if (fd != MHD_INVALID_SOCKET) close(fd);
        if (fd == s->listen_fd) s->listen_fd = -1;
        MHD_stop_daemon(s->d); /* waits for the connection threads */
        s->d = NULL;
    }
    if (s->listen_fd >= 0) close(s->listen_fd);
    sv__watch_stop(s);
    if (sv__streams_close(s, timeout_ms)) return -1; /* sinks still landing: left as is */
    if (s->lock_fd >= 0) close(s->lock_fd);
    pthread_mutex_destroy(&s->mu);
    sv__downloads_free(s);
    pthread_mutex_destroy(&s->dl_mu);
    free(s->catalog_path);
    free(s->tmp_dir);
    free(s->auto_etf);
    free(s->streams_dir);
    free(s->data_dir);
    free(s);
    return 0;
}

int sv_stop(sv_server *s)
{
    return stop_within(s, s ? s->o.shutdown_timeout_ms : -1);
}
