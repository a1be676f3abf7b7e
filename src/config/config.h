/* config — the one YAML configuration file (`sluice serve -c sluice.yaml`).
 *
 * Prefix: cf_.  Cross-file internals: cf__ (cf_int.h).
 *
 * Every key is declared once, in the tables of table.c (name, type, default,
 * offset into the structs below, doc).  The loader (yaml.c), the value
 * parsers (values.c) and the Markdown reference (doc.c, `sluice config
 * --reference`, committed as docs/configuration.md) all read those same
 * tables, so the docs cannot drift from what is validated.
 *
 * The structs are plain settings records: read their fields directly.  All
 * memory belongs to the cf_config and is released by cf_destroy.
 *
 * Units: sizes are bytes, durations milliseconds.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include "journal/journal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Hard caps on the file itself. */
#define CF_MAX_FILE_BYTES (1 << 20) /* bigger config files are refused */
#define CF_MAX_STREAMS 1024
#define CF_MAX_TOKENS 64            /* per stream */
#define CF_MAX_TOKEN_LEN 256
#define CF_MAX_STRING 4096          /* any scalar value */
#define CF_NAME_MAX 64              /* names of map entries (ut_name_check) */
#define CF_MAX_MYSQL 16             /* mysql.<name> connections */
#define CF_MAX_REDIS 16             /* redis.<name> connections */
#define CF_MAX_REDIS_TABLES 256     /* redis.<name>.tables entries */
#define CF_MAX_SOURCES 64            /* sources.<name> of the log shipper */
#define CF_MAX_POSTGRES 16          /* postgres.<name> connections (SQLite attaches at most 10 by default) */

/* A list of strings (YAML flow [a, b] or block `- a`). */
typedef struct cf_strlist {
    char **v;
    int n;
} cf_strlist;

/* Names to strings (YAML mapping of scalars): params, env. */
typedef struct cf_strmap {
    char **k, **v;
    int n;
} cf_strmap;

/* The value of key k in m, or NULL. */
const char *cf_strmap_get(const cf_strmap *m, const char *k);

/* The fsync spec: always | never | batch-ms N. */
typedef struct cf_fsync {
    jr_fsync mode;
    int batch_ms; /* JR_FSYNC_BATCH only; otherwise the journal default */
} cf_fsync;

/* host:port ("127.0.0.1:8080", "[::1]:8080", "localhost:8080"). */
typedef struct cf_hostport {
    char host[256]; /* without IPv6 brackets */
    int port;       /* 0..65535; 0 = the kernel picks a free port */
} cf_hostport;

typedef enum cf_log_level { CF_LOG_DEBUG, CF_LOG_INFO, CF_LOG_WARN, CF_LOG_ERROR } cf_log_level;

typedef struct cf_http {
    int64_t max_connections;
    int64_t connection_timeout_ms;
    int64_t header_timeout_ms;
    int64_t max_connections_per_client;
} cf_http;

typedef struct cf_limits {
    uint64_t max_body_bytes;
    uint64_t max_record_bytes;
    int64_t max_depth;
    int64_t max_records_per_request;
    uint64_t min_free_disk;
} cf_limits;

/* Where a stream lands in the lake (streams.<name>.sink). */
typedef enum cf_time_format { CF_TIME_AUTO, CF_TIME_RFC3339, CF_TIME_EPOCH_S, CF_TIME_EPOCH_MS,
                              CF_TIME_EPOCH_US } cf_time_format;
typedef enum cf_partitioning { CF_PART_DT_HR, CF_PART_DT, CF_PART_NONE } cf_partitioning;

typedef struct cf_sink {
    bool enabled;            /* land the stream in the lake */
    char *table;             /* "" = t1_<stream> */
    char *event_time_field;  /* "" = always the ingest time */
    int event_time_format;   /* cf_time_format */
    int partition;           /* cf_partitioning */
    uint64_t roll_bytes;     /* buffered record bytes that trigger a flush */
    int64_t roll_rows;
    int64_t roll_age_ms;     /* age of the oldest buffered record that triggers a flush */
    int64_t max_open_partitions;
    uint64_t max_buffer_bytes;
    bool case_insensitive;   /* match keys to columns ignoring ASCII case */
    int64_t max_columns;
    int64_t retention_ms;    /* drop partitions older than this; 0 = keep */
    int64_t compact_min_files; /* compact a partition with at least this many small files */
    uint64_t compact_target_bytes;
    int64_t maintenance_interval_ms;
    int64_t trash_grace_ms;    /* replaced/dropped files are deleted this long after */
} cf_sink;

typedef struct cf_s3 {
    char *endpoint, *region, *bucket, *prefix, *credentials_file, *profile;
    uint64_t part_bytes;
} cf_s3;

typedef enum cf_store_kind { CF_STORE_LOCAL, CF_STORE_S3 } cf_store_kind;

typedef struct cf_lake {
    int store;               /* cf_store_kind */
    char *path;              /* local store root; "" = <data_dir>/lake */
    cf_s3 s3;
} cf_lake;

/* A stream's transform (streams.<s>.transform; src/xform): applied to each
 * valid record before it is journaled.  Empty lists/maps = no such step. */
typedef struct cf_transform {
    int lowercase_keys;
    cf_strmap rename;        /* key -> new key */
    cf_strlist require;      /* keys that must be present and not null */
    cf_strlist drop_where;   /* predicates: any true drops the record */
    cf_strlist keep_where;   /* predicates: all must hold, or the record is dropped */
    cf_strlist drop;         /* keys removed */
    cf_strmap set;           /* key -> value (JSON literal or text) */
} cf_transform;

/* Does t declare any step? */
int cf_transform_any(const cf_transform *t);

typedef struct cf_stream {
    char name[CF_NAME_MAX + 1];
    cf_strlist tokens;       /* Bearer write tokens; empty = no auth */
    cf_strlist aws_keys;     /* Kinesis/Firehose API: access key ids (secrets: <secrets_dir>/<id>) */
    int aws_anonymous;       /* ... and unsigned requests too */
    cf_fsync fsync;
    uint64_t segment_bytes;
    int64_t retention_ms;    /* 0 = forever */
    uint64_t retention_bytes;/* 0 = no cap */
    uint64_t max_bytes;      /* disk budget; 0 = none */
    int64_t max_deliveries;  /* consumer groups: dead letter after this many */
    cf_sink sink;
    cf_transform transform;
} cf_stream;

/* A PostgreSQL connection for SQL federation (postgres.<name>); its tables
 * appear as <name>.<table> in `sluice sql` (src/pgfed). */
typedef struct cf_postgres {
    char name[CF_NAME_MAX + 1];
    char *conninfo;          /* libpq keyword/value string or postgresql:// URI */
    char *password_file;     /* "" = none (libpq's own PGPASSWORD / ~/.pgpass still apply) */
    int64_t fetch_rows;      /* rows per FETCH from the server-side cursor */
    int64_t connect_timeout_ms;
} cf_postgres;

/* A MySQL / MariaDB connection (mysql.<name>), read by snapshot jobs
 * (src/snap/mysql.c). */
typedef struct cf_mysql {
    char name[CF_NAME_MAX + 1];
    char *host;              /* "127.0.0.1" by default; ignored when socket is set */
    int64_t port;
    char *socket;            /* a Unix socket path; "" = TCP to host:port */
    char *user;
    char *database;          /* the default database; "" = none */
    char *password_file;     /* "" = no password */
    int64_t connect_timeout_ms;
} cf_mysql;

/* A SQLite database file attached to SQL (sqlite.<name>): its tables are
 * <name>.<table> in `sluice sql` and POST /v1/query (read-only). */
typedef struct cf_sqlite {
    char name[CF_NAME_MAX + 1];
    char *path;
} cf_sqlite;

/* A Redis connection (redis.<name>), read by snapshot jobs
 * (src/snap/redis.c): its tables are named key patterns. */
typedef struct cf_redis {
    char name[CF_NAME_MAX + 1];
    char *host;              /* "127.0.0.1" by default */
    int64_t port;
    int64_t db;              /* the database number (SELECT) */
    char *username;          /* "" = the default user (AUTH <password>) */
    char *password_file;     /* "" = no AUTH */
    int64_t connect_timeout_ms;
    int64_t scan_count;      /* SCAN's COUNT: keys asked for per round trip */
    int64_t max_items;       /* elements of one key's value kept; more: truncated */
    cf_strmap tables;        /* table name -> SCAN MATCH pattern */
} cf_redis;

/* The query API (POST /v1/query). */
typedef struct cf_query {
    cf_strlist tokens;        /* Bearer tokens that may query; empty = no auth */
    cf_strlist write_tokens;  /* tokens that may also CREATE TABLE AS / INSERT INTO */
    uint64_t memory_limit;    /* SQLite heap of the server's queries (process-wide) */
} cf_query;

/* The SQL engine (sql.threads). */
typedef struct cf_sql {
    int64_t threads; /* fast-path scan threads; 0 = all cores */
} cf_sql;

/* ---- jobs (src/jobs; docs/jobs.md) ---------------------------------------- */

typedef enum cf_job_kind { CF_JOB_SQL, CF_JOB_COMMAND, CF_JOB_NOOP, CF_JOB_COLLECT,
                           CF_JOB_SNAPSHOT, CF_JOB_LOAD, CF_JOB_EXPORT, CF_JOB_ALERT } cf_job_kind;
typedef enum cf_window { CF_WINDOW_NONE, CF_WINDOW_HOUR, CF_WINDOW_DAY, CF_WINDOW_MONTH } cf_window;
typedef enum cf_job_mode { CF_MODE_REPLACE_WINDOW, CF_MODE_REPLACE, CF_MODE_APPEND,
                           CF_MODE_UPSERT, CF_MODE_REPLACE_TABLE /* kind load only */ } cf_job_mode;
typedef enum cf_dialect { CF_DIALECT_POSTGRES, CF_DIALECT_REDSHIFT } cf_dialect;

/* kind load (docs/warehouse.md): the warehouse table a load writes
 * (jobs.<name>.target). */
typedef struct cf_load_target {
    char *connection;        /* a postgres.<name> connection */
    char *table;             /* "schema.name" or "name" */
    int dialect;             /* cf_dialect */
    char *iam_role;          /* redshift: the role COPY reads the store with */
    int diststyle;           /* redshift: cf_diststyle */
    char *distkey;           /* redshift: DISTKEY column ("" none) */
    cf_strlist sortkey;      /* redshift: SORTKEY columns */
} cf_load_target;
typedef enum cf_diststyle { CF_DIST_DEFAULT, CF_DIST_AUTO, CF_DIST_EVEN, CF_DIST_KEY,
                            CF_DIST_ALL } cf_diststyle;
typedef enum cf_job_output { CF_OUTPUT_NONE, CF_OUTPUT_NDJSON } cf_job_output;

#define CF_MAX_JOBS 1000
#define CF_MAX_POOLS 100

/* kind collect (docs/collectors.md): one HTTP request, templated. */
typedef struct cf_request {
    int method;              /* 0 GET, 1 POST */
    char *url;
    cf_strmap params;        /* query parameters */
    cf_strmap headers;
    char *body;              /* "" = none */
    char *content_type;      /* of the body; "" = application/json */
} cf_request;

typedef struct cf_auth {
    int type;                /* cf_auth_type */
    char *name;              /* header / query: its name */
    char *token;             /* bearer / header / query */
    char *username, *password;
    char *token_url, *refresh_token, *client_id, *client_secret; /* oauth2 */
} cf_auth;
typedef enum cf_auth_type {
    CF_AUTH_NONE, CF_AUTH_BEARER, CF_AUTH_HEADER, CF_AUTH_QUERY, CF_AUTH_BASIC, CF_AUTH_OAUTH2
} cf_auth_type;

typedef struct cf_pagination {
    int type;                /* cf_page_type */
    char *path, *param, *size_param;
    int64_t size, start, max_pages;
} cf_pagination;
typedef enum cf_page_type {
    CF_PAGE_NONE, CF_PAGE_NEXT_URL, CF_PAGE_LINK, CF_PAGE_CURSOR, CF_PAGE_NUMBER, CF_PAGE_OFFSET
} cf_page_type;

typedef struct cf_report {
    int format;              /* cf_report_format */
    char *records;           /* json: path of the records array */
    bool gzip;
    bool async;              /* create -> poll status -> download */
    cf_request create, status;
    char *id_path, *status_path, *ready, *failed, *reason_path, *file_url_path;
    int64_t poll_ms, max_wait_ms;
    int64_t call_retries;    /* per HTTP call, on 5xx / timeouts */
    int64_t call_backoff_ms; /* first retry wait, doubling */
    int64_t call_timeout_ms; /* per HTTP call without progress */
} cf_report;
typedef enum cf_report_format { CF_FMT_JSON, CF_FMT_NDJSON, CF_FMT_CSV, CF_FMT_TSV } cf_report_format;

/* jobs.<name>.accounts: one run per (account, window) instead of per window. */
typedef struct cf_accounts {
    cf_strlist list;         /* account ids */
    char *sql;               /* or a SELECT: first column the id, the others its fields */
} cf_accounts;

/* kind snapshot (docs/snapshots.md): what one source table becomes
 * (jobs.<name>.tables.<schema.table>). */
#define CF_MAX_SNAP_TABLES 1000
/* tables.<t>.merge: a view of the latest row per key (an incremental table). */
typedef struct cf_snap_merge {
    cf_strlist key;          /* source columns; empty = the source's primary key */
    char *view;              /* the view's name; "" = <lake table>_latest */
    int line;                /* where `merge:` is in the config; 0 = no view */
} cf_snap_merge;

typedef struct cf_snap_table {
    char name[CF_NAME_MAX + 1]; /* "schema.table" as the source names it */
    int line;
    cf_strlist columns;      /* the columns read; empty = all */
    cf_strlist drop;         /* columns never read */
    cf_strmap rename;        /* source column -> lake column */
    cf_strmap mask;          /* source column -> mask text form (src/mask) */
    char *where;             /* "" = every row */
    char *target;            /* the lake table; "" = table_prefix + name with '.' -> '_' */
    char *cursor;            /* incremental: the column that grows with each change; "" = full */
    char *split_by;          /* an integer column (the key) to read the table in ranges by */
    int64_t parallel;        /* readers over split_by's ranges at once (1 = one) */
    cf_snap_merge merge;
} cf_snap_table;

typedef struct cf_job {
    char name[CF_NAME_MAX + 1];
    int line;                /* line of the entry in the config file (messages) */
    int kind;                /* cf_job_kind */
    char *schedule;          /* cron, @hourly...; "" = each window's end + delay */
    int64_t every_ms;        /* `every: 15m` instead of a cron schedule; 0 = unset */
    char *timezone;          /* IANA zone of the schedule and windows */
    int window;              /* cf_window */
    int64_t delay_ms;        /* a window's run starts this long after it closes */
    int64_t lookback;        /* also re-run the previous N windows at each fire */
    cf_strlist depends_on;   /* jobs (or lake tables) whose window must be ready */
    int64_t retries;
    int64_t retry_delay_ms;  /* first backoff; doubles per attempt, with jitter */
    int64_t timeout_ms;      /* an attempt running longer fails */
    int64_t max_active;      /* runs of this job at once */
    char *pool;              /* "" = none */
    bool catchup;            /* after downtime: every missed window (else the latest) */
    char *start;             /* first window: YYYY-MM-DD or RFC 3339; "" = from now */
    cf_strmap params;
    cf_accounts accounts;    /* none: one run per window */
    /* kind: sql */
    char *sql, *sql_file, *table;
    int mode;                /* cf_job_mode */
    /* kind: command */
    cf_strlist command;      /* argv, each item templated */
    cf_strmap env;
    int output;              /* cf_job_output: stdout lands in `table` */
    /* kind: collect */
    cf_request request;
    cf_auth auth;
    cf_pagination pagination;
    cf_report report;
    /* kind: snapshot */
    char *source;            /* a postgres.<name> connection */
    cf_strlist include;      /* source tables or patterns (schema.*, *.orders) */
    cf_strlist exclude;
    char *table_prefix;      /* lake table = prefix + "schema_table" */
    char *mask_key;          /* the secret holding the hash masks' key */
    char *alert_webhook;     /* schema changes are POSTed here (templated); "" = none */
    cf_snap_table *tables;   /* sorted by name */
    int ntables;
    /* kind: load (source: the lake table) */
    cf_load_target target;
    char *query;             /* a templated SELECT over the lake instead of the whole table */
    char *saved_query;       /* kind alert: a console saved query's name, instead of query */
    char *window_column;     /* the column replace_window deletes and selects the window by */
    cf_strlist key;          /* upsert: the key columns */
    int64_t max_errors;      /* rows that may fail conversion (to the errors table) */
    /* kind: alert (query, alert_webhook) */
    char *condition;         /* an xform condition over the query's first row and _rows */
    int64_t cooldown_ms;     /* a triggered alert notifies again after this long */
} cf_job;

/* A shared limit on an outside resource (pools.<name>). */
typedef struct cf_pool {
    char name[CF_NAME_MAX + 1];
    double rate;             /* tokens per second; 0 = no rate limit */
    int64_t burst;           /* bucket size; 0 = max(1, rate) */
    int64_t concurrency;     /* tasks at once; 0 = no cap */
} cf_pool;

typedef struct cf_scheduler {
    int64_t tick_ms;          /* the scheduler looks at the clock this often (at most) */
    int64_t task_timeout_ms;  /* a task not heartbeated this long is taken by another worker */
    int64_t heartbeat_ms;     /* workers heartbeat their tasks this often */
    int64_t max_deliveries;   /* a task delivered this often (workers died) is dead-lettered */
} cf_scheduler;

/* alerts: the built-in alerts of sluice serve (src/jobs/builtin.c). */
typedef struct cf_alerts {
    char *webhook;            /* Slack-compatible webhook (templated); "" = log and console only */
    int64_t every_ms;         /* how often the checks run */
    bool job_failures;        /* a job run failed or was dead-lettered */
    bool schema_changes;      /* a lake table's schema changed */
    int64_t sink_lag;         /* records a sink may lag; 0 = no lag check */
    int64_t sink_lag_for_ms;  /* ... above it, and not shrinking, this long */
    int64_t cooldown_ms;      /* a triggered lag alert notifies again at most this often */
} cf_alerts;

/* sources.<name>.multiline: records that span lines. */
typedef struct cf_multiline {
    char *start;             /* a line matching this regex starts a record; "" = one line each */
    int64_t timeout_ms;      /* a held-back record is sent after this long without a new line */
} cf_multiline;

/* A log-file source of `sluice tail` (sources.<name>). */
typedef struct cf_source {
    char name[CF_NAME_MAX + 1];
    cf_strlist paths;        /* globs */
    int format;              /* tl_format: json, combined, nginx, regex, plain */
    char *pattern;           /* format regex: POSIX ERE with (?P<name>...) groups */
    cf_multiline multiline;
    cf_strmap fields;        /* constant fields added to every record */
    char *host;              /* the host field; "" = gethostname() */
    char *stream;            /* target stream */
    char *url;               /* remote sluice (http://host:port); "" = local journal */
    char *token;             /* Bearer token for the remote */
    char *checkpoint;        /* directory; "" = <data_dir>/tail/<name> */
    uint64_t max_line_bytes; /* longer lines are cut here (counted) */
    uint64_t batch_bytes;    /* record bytes per batch */
    int64_t batch_wait_ms;   /* a non-full batch is sent after this long */
    int64_t poll_ms;         /* files are looked at this often */
    int64_t rotate_wait_ms;  /* a renamed/deleted file idle this long at EOF is closed */
    int64_t max_retries;     /* remote: failed sends retried (0 = for ever) */
} cf_source;

typedef struct cf_config {
    char *file;              /* the file it was loaded from; NULL for cf_default */
    char *data_dir;
    cf_hostport listen;
    bool auto_create_streams;
    int log_level;           /* cf_log_level */
    int64_t shutdown_timeout_ms; /* a clean stop waits this long for the sinks to land */
    cf_http http;
    cf_limits limits;
    cf_lake lake;
    cf_stream *streams;      /* sorted by name */
    int nstreams;
    cf_postgres *postgres;   /* sorted by name */
    int npostgres;
    cf_mysql *mysql;         /* sorted by name */
    int nmysql;
    cf_sqlite *sqlite;       /* sorted by name */
    int nsqlite;
    cf_redis *redis;         /* sorted by name */
    int nredis;
    cf_query query;
    cf_sql sql;
    int64_t workers;          /* worker threads of sluice serve */
    char *secrets_dir;        /* files named like the secrets; "" = none */
    cf_scheduler scheduler;
    cf_alerts alerts;
    cf_job *jobs;             /* sorted by name */
    int njobs;
    cf_pool *pools;           /* sorted by name */
    int npools;
    cf_source *sources;       /* sorted by name */
    int nsources;
} cf_config;

/* The declared job / pool called name, or NULL. */
const cf_job *cf_job_find(const cf_config *c, const char *name);
const cf_pool *cf_pool_find(const cf_config *c, const char *name);
const cf_postgres *cf_postgres_find(const cf_config *c, const char *name);
const cf_mysql *cf_mysql_find(const cf_config *c, const char *name);
const cf_sqlite *cf_sqlite_find(const cf_config *c, const char *name);
const cf_redis *cf_redis_find(const cf_config *c, const char *name);
/* The tables.<name> entry of snapshot job j, or NULL. */
const cf_snap_table *cf_snap_table_find(const cf_job *j, const char *name);
/* The config spelling of a job kind / window ("sql", "hour", ...). */
const char *cf_job_kind_name(cf_job_kind k);
const char *cf_window_name(cf_window w);

/* The embedded default used when no file is given: data in ./sluice-data,
 * HTTP on 127.0.0.1:8080, auto_create_streams = true, no streams.  Never
 * returns NULL. */
cf_config *cf_default(void);

/* Load and validate the YAML file at path.  Returns NULL with
 * "path:line: message" in err on any problem (I/O, over CF_MAX_FILE_BYTES,
 * YAML syntax, unknown or duplicate key, bad value, cap exceeded). */
cf_config *cf_load(const char *path, char *err, size_t errlen);

/* Same as cf_load over buf[0..len); name is used in messages and stored as
 * the config's file. */
cf_config *cf_load_mem(const void *buf, size_t len, const char *name, char *err, size_t errlen);

/* Free everything.  Accepts NULL. */
void cf_destroy(cf_config *c);

/* The declared stream called name, or NULL.  O(log n). */
const cf_stream *cf_stream_find(const cf_config *c, const char *name);

/* Fill *out with the per-stream defaults (used for streams created on the
 * fly when auto_create_streams is on): no tokens, name empty.  *out then
 * holds no heap memory. */
void cf_stream_defaults(cf_stream *out);
/* Free what cf_stream_defaults allocated in *s (strings, lists). */
void cf_stream_clear(cf_stream *s);

/* The journal options for stream s: its fsync, segment and retention
 * settings, and limits.max_record_bytes of c (c may be NULL: the journal
 * default). */
void cf_stream_journal_opts(const cf_config *c, const cf_stream *s, jr_opts *out);

/* Whether token[0..len) is one of s's write tokens, compared in constant
 * time (independent of where or whether it matches).  A stream with no
 * tokens accepts everything (returns 1), including token == NULL. */
int cf_token_ok(const cf_stream *s, const char *token, size_t len);

/* ---- the lake tables streams land in -------------------------------------- */

#define CF_TABLE_MAX 160 /* bytes of a table name from cf_sink_table, with the NUL */

/* The lake table stream `stream` lands in: `table` (its sink.table) when
 * non-empty, else "t1_<stream>" with '-' and '.' written as '_'.  out holds
 * CF_TABLE_MAX bytes (longer names are cut). */
void cf_sink_table(const char *stream, const char *table, char *out, size_t outlen);

/* Whether lake tables a and b would be one table: equal ignoring ASCII case
 * (SQLite's table names do), or one is the other's errors table (where the
 * sink puts records it cannot land: "<table>_errors", a name over 120
 * characters cut and hashed, lk_errors_table_name), or their errors tables
 * are one table. */
int cf_tables_collide(const char *a, const char *b);

/* The message for streams s1 (landing in t1) and s2 (in t2) whose tables
 * collide: "streams s1 and s2 both land in table t1 ...".  Returns -1. */
int cf_tables_clash(char *msg, size_t msglen, const char *s1, const char *t1, const char *s2,
                    const char *t2);

/* Refuse streams of c with enabled sinks whose tables collide (the first
 * pair, by name): 0, or -1 with cf_tables_clash's message. */
int cf_check_tables(const cf_config *c, char *msg, size_t msglen);

/* Write the Markdown configuration reference, generated from the tables.
 * Returns 0, or -1 on a write error. */
int cf_write_reference(FILE *out);

#endif
