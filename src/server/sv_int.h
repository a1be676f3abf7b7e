/* Server internals (sv__ prefix). */
#ifndef SLUICE_SERVER_INT_H
#define SLUICE_SERVER_INT_H

#include "catalog/catalog.h"
#include "config/config.h"
#include "server/server.h"

#include <microhttpd.h>
#include <pthread.h>

#define SV__MAX_STREAMS 1024
#define SV__MAX_QUERIES 8           /* POST /v1/query running at once; more get 429 */

/* A pending download (downloads.c). */
#define SV__MAX_TICKETS 32
typedef struct sv__ticket {
    char id[33];               /* 32 hex digits of getrandom(); "" = free slot */
    char *body;                /* the query request */
    size_t n;
    int writer;
    char ext[8];               /* of the file name: csv, tsv, ndjson, json, parquet */
    uint64_t expires_ms;       /* monotonic */
} sv__ticket;

/* One open connection, watched for the header deadline (watch.c). */
typedef struct sv__conn {
    int fd;
    uint64_t since_ms;              /* connection start, or end of its last request */
    int in_request;                 /* headers received, request not finished */
    int cut;                        /* shut down by the watchdog */
    struct sv__conn *prev, *next;
} sv__conn;

/* One ingest stream with its error stream and counters. */
typedef struct sv__stream {
    char name[72];
    char **tokens;
    int ntokens;
    char **aws_ids, **aws_secrets; /* Kinesis API keys (their secrets wiped at close) */
    int naws, aws_anonymous;
    int64_t created_s;              /* when it was opened (Describe's creation time) */
    uint64_t max_bytes;
    jr_stream *jr;
    jr_stream *errors;              /* "<name>.errors", opened on first reject */
    lk_sink *sink;                  /* NULL when the stream is not landed */
    char table[CF_TABLE_MAX];       /* the table its sink lands in; "" = not landed */
    int found;                      /* reopened from the data directory, not declared */
    pthread_mutex_t errors_mu;
    xf_program *xf;                 /* its transform; NULL = none */
    uint64_t records_in, bytes_in, requests, dropped;
    uint64_t rejects[SV_REJ_COUNT];
} sv__stream;

/* A request's run of the stream's transform (NULL when it has none). */
xf_run *sv__xf_run(sv_server *s, const sv__stream *st);

struct sv_server {
    sv_opts o;
    char *data_dir, *streams_dir;
    jr_opts auto_jr;
    uint64_t auto_max_bytes;
    int auto_sink;
    lk_sink_opts auto_sink_opts;
    char *catalog_path, *tmp_dir, *auto_etf;
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;             /* guards streams[] growth */
    sv__stream *streams[SV__MAX_STREAMS];
    int nstreams;
    uint64_t http_codes[6];         /* 1xx..5xx, index code/100 */
    uint64_t inflight_bytes;        /* request bodies being buffered */
    uint64_t max_inflight_bytes;
    uint64_t started_ms;
    int lock_fd;                    /* flock on <data_dir>/LOCK: one server per data dir */
    int listen_fd;                  /* bound by us (so bind errors name their cause) */
    int queries;                    /* POST /v1/query running */
    char mhd_err[256];              /* libmicrohttpd's last log line (start-up errors) */
    /* the header watchdog (watch.c) */
    pthread_mutex_t watch_mu;
    pthread_cond_t watch_cv;
    pthread_t watch_thread;
    int watch_running, watch_stop;
    sv__conn *conns;
    uint64_t slow_cut;              /* connections cut for slow headers */
    pthread_mutex_t dl_mu;          /* guards tickets (downloads.c) */
    sv__ticket tickets[SV__MAX_TICKETS];
};

/* registry.c */
/* Look up a stream; create != 0 means the caller writes: the stream is
 * created when auto_create is on, and a stream found in the data directory
 * but not declared is refused unless auto_create is on.  NULL with e:
 * UT_ENOTFOUND (unknown, or takes no writes), UT_EEXISTS (its table would
 * collide with another stream's), UT_EINVAL (name not allowed), UT_ELIMIT
 * (too many streams), UT_EIO (the journal or the sink failed to open). */
sv__stream *sv__stream_get(sv_server *s, const char *name, int create, ut_error *e);
/* The declared streams, then the others found in the data directory. */
int sv__streams_open(sv_server *s, char *err, size_t errlen);
/* Stop every sink at once, within timeout_ms (-1 = no bound), then close
 * every stream.  0, or -1 when a sink still runs at the deadline (nothing
 * closed). */
int sv__streams_close(sv_server *s, int64_t timeout_ms);
/* Constant-time token check; 1 if the request may write. */
int sv__auth_ok(const sv__stream *st, const char *authorization);
/* Open the stream's error stream if needed; NULL with message on failure. */
jr_stream *sv__errors_stream(sv_server *s, sv__stream *st, char *err, size_t errlen);

/* landed.c: the catalog's tables, read once (sv__landed_load) */
typedef struct sv__landed {
    ct_table *t;
    int n;
} sv__landed;
void sv__landed_load(sv_server *s, sv__landed *l);
void sv__landed_free(sv__landed *l);
/* The table `stream` landed in before: the newest one fed by it that is not
 * its errors table; NULL if none. */
const ct_table *sv__landed_table(const sv__landed *l, const char *stream);
/* Refuse `table` for `stream` when the catalog has a colliding table of
 * another writer (another stream, or CREATE TABLE AS): -1 with UT_EEXISTS. */
int sv__landed_check(const sv__landed *l, const char *stream, const char *table, ut_error *e);

/* ingest.c */
/* The HTTP status for an error kind (the one table of it): EINVAL 400,
 * ENOTFOUND 404, EEXISTS 409, ELIMIT 429, EIO 503 (with Retry-After), ... */
int sv__status_of(ut_errkind kind);
enum MHD_Result sv__ingest(sv_server *s, struct MHD_Connection *c, const char *stream,
                           const char *upload, size_t *upload_size, void **ctx);
void sv__ingest_done(sv_server *s, void *ctx);

/* query.c: POST /v1/query with the whole body. */
enum MHD_Result sv__query(sv_server *s, struct MHD_Connection *c, const char *body, size_t n);
/* Run a query request (sv__query without the auth: writer as decided);
 * attachment (NULL = none) is a Content-Disposition value. */
enum MHD_Result sv__query_run(sv_server *s, struct MHD_Connection *c, const char *body, size_t n,
                              int writer, const char *attachment);
/* Would body parse as a download's query request (size, JSON, format,
 * timeout)?  0
 * (*ext: "csv", "tsv", "ndjson" or "json") or -1 with a message. */
int sv__query_check(struct MHD_Connection *c, const char *body, size_t n, const char **ext,
                    char *err, size_t errlen);
/* The query API's tokens for request c: 0 (*writer = 1 for a write token;
 * no tokens configured: open, read-only), or -1 with *why ("invalid
 * token", "missing Bearer token") for a 401. */
int sv__query_auth(sv_server *s, struct MHD_Connection *c, int *writer, const char **why);

/* downloads.c: POST /v1/downloads (a query request, query tokens) answers
 * {"url":"/v1/downloads/ID"}: one GET of that URL within 60 s runs the
 * query and streams it as an attachment, no token needed (a browser
 * navigation, saved to disk as it arrives). */
enum MHD_Result sv__download_create(sv_server *s, struct MHD_Connection *c, const char *body,
                                    size_t n);
enum MHD_Result sv__download_get(sv_server *s, struct MHD_Connection *c, const char *id);
void sv__downloads_free(sv_server *s);

/* tables.c: GET /v1/tables, /v1/tables/{table}, /v1/tables/{table}/sample
 * (url starts with "/v1/tables"). */
enum MHD_Result sv__tables(sv_server *s, struct MHD_Connection *c, const char *url);

/* assets.c: the console's files (ui/, compiled in by scripts/embed_ui.sh
 * into build/gen/ui_assets.c), GET under "/"; a path that is no file and
 * has no extension is a client route: index.html. */
typedef struct sv__asset {
    const char *path;          /* "/index.html" */
    const unsigned char *data;
    size_t len;
    const char *etag;          /* "\"<cksum>-<len>\"" */
} sv__asset;
extern const sv__asset sv__assets[];
extern const int sv__nassets;
enum MHD_Result sv__asset_get(sv_server *s, struct MHD_Connection *c, const char *url);

/* info.c */
void sv__info_streams(sv_server *s, ut_buf *out);
int sv__info_stream(sv_server *s, const char *name, ut_buf *out);
void sv__metrics(sv_server *s, ut_buf *out);

/* watch.c: connections whose request headers do not arrive within
 * o.header_timeout_s are shut down (slowloris).  add/remove from the
 * connection notifications, request(c, 1) when the headers are in, (c, 0)
 * when the request is done. */
int sv__watch_start(sv_server *s, char *err, size_t errlen);
void sv__watch_stop(sv_server *s);
sv__conn *sv__watch_add(sv_server *s, int fd);
void sv__watch_remove(sv_server *s, sv__conn *c);
void sv__watch_request(sv_server *s, sv__conn *c, int in_request);

/* ingest.c, shared with kinesis.c */
/* 1 (msg says why) when the stream is over its disk budget or the disk is
 * nearly full. */
int sv__storage_full(sv_server *s, sv__stream *st, char *msg, size_t n);
/* Rejected records of b into "<stream>.errors" with their reasons. */
void sv__record_errors(sv_server *s, sv__stream *st, const sv_batch *b, int64_t ts);
/* Add upload[0..n) to body, counted in the server's bytes in flight: 0, or
 * 413 (over cap) / 429 (too much in flight) with msg and body dropped. */
int sv__body_take(sv_server *s, ut_buf *body, uint64_t *held, size_t cap, const char *upload,
                  size_t n, char *msg, size_t msglen);
void sv__body_release(sv_server *s, ut_buf *body, uint64_t *held);

/* kinesis.c: POST / with X-Amz-Target (the Kinesis and Firehose APIs) */
int sv__is_kinesis(struct MHD_Connection *c, const char *url, const char *method);
enum MHD_Result sv__kinesis(sv_server *s, struct MHD_Connection *c, const char *upload,
                            size_t *upload_size, void **ctx);
void sv__kinesis_done(sv_server *s, void *ctx);

/* objects.c: /v1/saved-queries[/{id}], /v1/dashboards[/{id}] (the whole
 * body collected).  sv__saved_sql: a saved query's SQL and its parameter
 * definitions (JSON array or NULL), malloc'ed: 0, or a status (404, 500)
 * with a message. */
int sv__is_objects(const char *url);
enum MHD_Result sv__objects(sv_server *s, struct MHD_Connection *c, const char *url,
                            const char *method, const char *body, size_t n);
int sv__saved_sql(sv_server *s, int64_t id, char **sql, char **defs, char *err, size_t errlen);

/* csrf.c: a browser's state-changing request must be same-site and carry
 * X-Sluice-CSRF = its sluice_csrf cookie: 0, or -1 with the reason (403).
 * sv__session answers GET /v1/session (sets the cookie). */
int sv__csrf_check(sv_server *s, struct MHD_Connection *c, char *err, size_t errlen);
enum MHD_Result sv__session(sv_server *s, struct MHD_Connection *c);

/* http.c */
enum MHD_Result sv__reply(sv_server *s, struct MHD_Connection *c, int code, const char *ctype,
                          const void *body, size_t n, const char *retry_after);
enum MHD_Result sv__reply_error(sv_server *s, struct MHD_Connection *c, int code,
                                const char *msg);

#endif
