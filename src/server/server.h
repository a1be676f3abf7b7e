/* server — the HTTP server: ingest, stream info, health and metrics.
 *
 * Prefix: sv_.  Built on libmicrohttpd with one thread per connection (a
 * handler may block in jr_append while its group commit syncs; many
 * concurrent requests make large groups), each waiting in poll(), so file
 * descriptors above 1023 (many journal segments) are fine.  Slow clients:
 * request headers must arrive within header_timeout_s, one address may hold
 * at most max_per_client connections, and a connection idle for
 * conn_timeout_s is closed.
 *
 *   POST /v1/streams/{stream}/records   NDJSON or a JSON array of objects,
 *                                       Content-Encoding gzip | zstd allowed
 *   POST /v1/query                      SQL over the lake (read-only), streamed
 *   GET  /v1/streams                    every stream: offsets, bytes, groups
 *   GET  /v1/streams/{stream}           one stream, with consumer groups and lag
 *   GET  /v1/tables[/{table}[/sample]]  the catalog (query tokens), docs/console.md
 *   /v1/saved-queries[/{id}], /v1/dashboards[/{id}]   the console's objects
 *                                       (GET, POST, PUT, DELETE; objects.c)
 *   GET  /v1/session                    the CSRF cookie (csrf.c)
 *   GET  / and anything not under /v1/  the console (ui/, compiled in)
 *   GET  /healthz                       "ok"
 *   GET  /metrics                       Prometheus text format
 *   anything under an ext_prefix        another module's (sv_opts.ext)
 */
#ifndef SLUICE_SERVER_H
#define SLUICE_SERVER_H

#include "journal/journal.h"
#include "json/json.h"
#include "lake/lake.h"
#include "util/util.h"
#include "xform/xform.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sv_limits {
    size_t max_body;     /* bytes of a request body, after decompression */
    size_t max_record;   /* bytes of one record */
    int max_depth;       /* nesting depth of one record */
    int max_records;     /* records per request */
} sv_limits;

typedef struct sv_stream_conf {
    const char *name;
    const char *const *tokens; /* write tokens; ntokens == 0 means no auth */
    int ntokens;
    /* the Kinesis / Firehose API (kinesis.c): access key ids allowed to write
     * with SigV4 and their secrets; aws_anonymous: unsigned requests too */
    const char *const *aws_ids;
    const char *const *aws_secrets;
    int naws;
    int aws_anonymous;
    jr_opts jr;
    uint64_t max_bytes;        /* disk budget of the stream; 0 = none */
    int sink;                  /* land the stream in the lake */
    int found;                 /* not declared, found in the data directory (set by
                                  the server for those it reopens) */
    lk_sink_opts sink_opts;    /* stream, table ("" = t1_<name>), catalog, store
                                  and tmp_dir are filled in by the server */
    const xf_spec *transform;  /* applied to each valid record; NULL = none */
} sv_stream_conf;

struct sq_engine;
/* How POST /v1/query gets its SQL engine (the runtime's one recipe: store,
 * catalog, each stream's event-time settings, attachments, limits):
 * read_only unless the caller holds a write token, timeout_ms per statement.
 * NULL with a message. */
typedef struct sq_engine *(*sv_sql_open_fn)(void *arg, int read_only, int64_t timeout_ms,
                                            char *err, size_t errlen);

/* Endpoints another module serves under a path prefix (the jobs API):
 * called once the whole request (body at most 1 MiB) is in. */
typedef struct sv_ext_req {
    const char *method, *path; /* path without the query string */
    const char *body;          /* NUL-terminated */
    size_t n;
    const char *bearer;        /* the Bearer token, NULL if none */
    const char *(*arg)(const void *conn, const char *key); /* a query-string argument */
    int (*gone)(const void *conn); /* 1 once the client closed the connection */
    const void *conn;
} sv_ext_req;
/* Fill out with the reply body (JSON); returns the HTTP status. */
typedef int (*sv_ext_fn)(void *arg, const sv_ext_req *q, ut_buf *out);
/* Append Prometheus text for /metrics. */
typedef void (*sv_ext_metrics_fn)(void *arg, ut_buf *out);

typedef struct sv_opts {
    const char *data_dir;      /* journal lives in <data_dir>/streams */
    const char *host;          /* listen address (IPv4 literal) */
    int port;                  /* 0 = pick a free port (see sv_port) */
    int max_connections;
    int conn_timeout_s;        /* idle/slow clients are cut off after this */
    int header_timeout_s;      /* a request's headers must be in after this; 0 = off */
    int max_per_client;        /* connections from one IP address; 0 = no cap */
    sv_limits limits;
    uint64_t min_free_disk;    /* below this free space ingest answers 507 */
    int auto_create;           /* POST to an unknown stream creates it */
    const sv_stream_conf *streams;
    int nstreams;
    sv_stream_conf auto_conf;  /* settings for auto-created streams (name ignored) */
    st_store *store;           /* the lake's store (not owned); NULL = no sinks */
    const struct cf_config *cf;/* for POST /v1/query: its tokens (not owned; may be NULL) */
    sv_sql_open_fn sql_open;   /* POST /v1/query's engines; NULL = the API answers 503 */
    void *sql_arg;
    int64_t shutdown_timeout_ms; /* sv_stop waits this long for the sinks; -1 = no bound */
    const char *ext_prefix[4]; /* e.g. "/v1/jobs", "/v1/alerts" (NULL after the last):
                                  requests under one (the path itself or below it) go to ext */
    sv_ext_fn ext;
    sv_ext_metrics_fn ext_metrics; /* appended to /metrics (may be NULL) */
    void *ext_arg;
} sv_opts;

/* Defaults: 127.0.0.1:8080, ./sluice-data, 10 MB bodies, 1 MB records,
 * depth 64, 100k records per request, 1024 connections (256 per client
 * address), 30 s idle timeout, 10 s for request headers, 1 GB min free
 * disk, auto_create on, no streams, 5 s shutdown bound. */
void sv_opts_init(sv_opts *o);

/* ---- request bodies (body.c) ------------------------------------------------ */

typedef enum sv_reject {
    SV_REJ_INVALID_JSON = 0,
    SV_REJ_NOT_OBJECT,
    SV_REJ_TOO_LARGE,
    SV_REJ_TOO_DEEP,
    SV_REJ_TRANSFORM, /* the stream's transform failed on it (xform.h) */
    SV_REJ_COUNT
} sv_reject;

/* Metric label of a reject reason ("invalid_json", ...). */
const char *sv_reject_name(sv_reject r);

typedef struct sv_bad {
    int index;        /* 0-based record index in the request */
    int line;         /* NDJSON line (1-based); 0 for array bodies */
    sv_reject why;
    char msg[200];
    const char *p;    /* the record's text (into sv_batch.plain) */
    size_t n;
} sv_bad;

typedef struct sv_batch {
    ut_buf plain;     /* the decompressed body; records point into it */
    jr_iov *ok;       /* accepted records, in request order (a transformed one
                         points into the batch's own blocks) */
    int nok, cap_ok;
    sv_bad *bad;      /* rejected records, in request order */
    int nbad, cap_bad;
    int nrecords;     /* ok + bad + dropped */
    /* The stream's transform (set by the caller before filing records; NULL
     * = none; not owned) and the records its filters dropped. */
    xf_run *xf;
    int ndropped;
    struct sv__xblk *xblk; /* transformed records' bytes (stable addresses) */
} sv_batch;

/* Decode a request body and validate its records.  encoding is the
 * Content-Encoding header (NULL, "identity", "gzip", "zstd"); a body starting
 * with '[' is a JSON array of records, anything else NDJSON (blank lines
 * skipped).  Every record must be a JSON object within the limits; records
 * that are not go to out->bad with the reason, the rest to out->ok.
 * Returns 0, or an HTTP status for a request-level failure with a message:
 * 400 (bad compression, no records), 413 (body or record count over the
 * limits), 415 (unknown encoding).  *out must be zeroed first; free it with
 * sv_batch_free either way. */
int sv_body_parse(js_parser *p, const void *body, size_t len, const char *encoding,
                  const sv_limits *lim, sv_batch *out, char *err, size_t errlen);
void sv_batch_free(sv_batch *b);
/* Validate one record (rec[0..n), pointing into memory that outlives b) and
 * file it in b as ok or bad; line: its NDJSON line, 0 for none. */
void sv_batch_check(js_parser *p, sv_batch *b, const sv_limits *lim, const char *rec, size_t n,
                    int line);

/* ---- the console's files (assets.c) ------------------------------------------- */

/* Does an Accept-Encoding header value (NULL = none) accept gzip: "gzip"
 * or "*" listed with no q, or q above 0?  1 or 0. */
int sv_accepts_gzip(const char *accept_encoding);

/* ---- the server ---------------------------------------------------------------- */

typedef struct sv_server sv_server;

/* Open the configured streams, then every other stream found in
 * <data_dir>/streams (with the auto_conf settings: its sink resumes where
 * the catalog says; it takes writes only when auto_create is on), and start
 * listening.  Raises the soft limit of open files to the hard limit.  Two
 * streams whose sinks would land in one table (see cf_tables_collide) are
 * refused, here and at auto-create.  Returns NULL with a message naming the
 * cause (address in use, too many open files, data directory not writable,
 * bad stream, table collision naming both streams). */
sv_server *sv_start(const sv_opts *o, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int sv_port(const sv_server *s);
/* The lake sink landing `table` (any case): its committed position and the
 * stream's end now.  1 found, 0 no stream lands that table. */
int sv_table_progress(sv_server *s, const char *table, uint64_t *position, uint64_t *end);
/* The i-th stream with a lake sink (0, 1, ...): its name into stream[n] and
 * its lag in records (-1: unknown, the sink is stopped past the stream's
 * end).  1, or 0 past the last. */
int sv_sink_lag(sv_server *s, int i, char *stream, size_t n, int64_t *lag);
/* The journal of stream `name` for the server's own producers and readers
 * (the outbox of job commits, src/runtime): with create, a stream missing
 * is created as an HTTP write would create it.  Valid until sv_stop.  NULL
 * with e (unknown stream, auto_create_streams off, a bad name). */
jr_stream *sv_journal(sv_server *s, const char *name, int create, ut_error *e);
/* Stop accepting, let in-flight requests finish, then stop every lake sink
 * at once, each landing what it buffers, within shutdown_timeout_ms; sync and
 * close every stream, free.  Returns 0; or -1 when a sink was still landing
 * at the deadline: then nothing was freed and the process should exit (the
 * records that did not land are in the journal and land after a restart).
 * Accepts NULL. */
int sv_stop(sv_server *s);

/* ---- query parameters (params.c) ---------------------------------------------
 * `{{ name }}` placeholders in SQL, typed text / number / date / enum,
 * validated and bound as SQL parameters (:name), never pasted. */
#define SV_PARAMS_MAX 32
#define SV_PARAM_NAME_MAX 64
#define SV_PARAM_VALUE_MAX 4096
#define SV_PARAM_OPTIONS_MAX 200
/* A daterange "d" is written {{ d.start }} and {{ d.end }} in the SQL (two
 * parameters, :d__start and :d__end); its value "A..B" (dates or today-N),
 * or "last_N_days" (today-(N-1)..today). */
typedef enum sv_param_type { SV_PARAM_TEXT, SV_PARAM_NUMBER, SV_PARAM_DATE, SV_PARAM_ENUM,
                             SV_PARAM_DATERANGE } sv_param_type;
#define SV_PARAM_QUERY_OPTIONS_MAX 1000 /* options an "options_query" may give */
typedef struct sv_param_def {
    char name[SV_PARAM_NAME_MAX + 1];
    sv_param_type type;
    char *deflt, *value;       /* "default", "value" (NULL = none) */
    char **options;            /* enum */
    int noptions;
    int64_t options_query;     /* enum: its options are this saved query's first column */
} sv_param_def;
/* The options of an enum filled by a saved query: the first column of its
 * rows (at most SV_PARAM_QUERY_OPTIONS_MAX), each malloc'ed, into *out
 * (malloc'ed array).  0 / -1 with a message. */
typedef int (*sv_options_fn)(void *ctx, int64_t saved_query, char ***out, int *n, char *err,
                             size_t errlen);
/* The definitions of a JSON array ([{"name","type","default","value",
 * "options","label"}]): the count (*out malloc'ed) or -1 with a message. */
int sv_param_defs_parse(const char *json, size_t n, sv_param_def **out, char *err, size_t errlen);
void sv_param_defs_free(sv_param_def *d, int n); /* accepts NULL */
/* 0 if every {{name}} of sql is defined in d and none is quoted; -1. */
int sv_sql_check_template(const char *sql, const sv_param_def *d, int nd, char *err, size_t errlen);
typedef struct sv_bound {
    char *sql;                 /* {{name}} made :name ({{d.start}}: :d__start) */
    struct sq_param *p;        /* for sq_set_params: one per definition, two per daterange */
    int n;
    sv_param_def *defs;
    int ndefs;
    char **held;
} sv_bound;
/* bucket.c: sql wrapped so its result is aggregated by x to at most a
 * chart's points (the "bucket" object of a query request, JSON text:
 * {"x":..,"y":[..],"points":N,"agg":..}).  0 (*out malloc'ed), or -1 with
 * a message naming the bad field. */
int sv_bucket_sql(const char *sql, const char *bucket_json, char **out, char *err, size_t errlen);
/* Bind: definitions (JSON array, may be NULL), values (JSON object name ->
 * string or number, may be NULL) over each definition's value, then its
 * default.  0 (*out: sv_bound_free) or -1 with a message naming the
 * parameter. */
int sv_params_bind(const char *sql, const char *defs, size_t ndefs, const char *values, size_t nv,
                   sv_bound *out, char *err, size_t errlen);
/* The same, with fn (may be NULL: such enums are refused) giving the
 * options of enums that have an "options_query". */
int sv_params_bind_opts(const char *sql, const char *defs, size_t ndefs, const char *values,
                        size_t nv, sv_options_fn fn, void *ctx, sv_bound *out, char *err,
                        size_t errlen);
void sv_bound_free(sv_bound *b); /* accepts NULL */

#endif
