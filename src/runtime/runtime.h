/* runtime — one owner of "config → running parts".
 *
 * Prefix: rt_.  Cross-file internals: rt__ (rt_int.h).
 *
 * Every entry point builds what it runs here, from the one configuration, so
 * `sluice serve`, `sluice sql` and POST /v1/query cannot drift apart:
 *
 *   rt_create(config, opts)
 *     ├─ log_level ──► lg_set_level (unless SLUICE_LOG_LEVEL is set)
 *     ├─ data directory (created in server mode), lake store: local, or S3
 *     │    with its part size, checked before anything runs
 *     ├─ SQL engine options: data directory, store, each declared stream's
 *     │    event-time settings (undeclared streams use the stream defaults,
 *     │    as their sinks do), attachments (PostgreSQL, SQLite)
 *     ├─ RT_SERVER: the HTTP server (src/server) with the declared streams,
 *     │    the ones found in the data directory and their sinks, limits,
 *     │    shutdown_timeout; POST /v1/query opens its engines through
 *     │    rt_sql_open; the jobs runtime: scheduler, task queue, workers
 *     └─ RT_WORKER: the jobs runtime's workers only (sluice worker), taking
 *          tasks from the server's queue over HTTP; the catalog, lake and
 *          pools directly (the same data directory), SQL through rt_sql_open
 *   rt_stop      the parts in reverse order, within shutdown_timeout
 *   rt_destroy   free
 *
 * New long-running parts (jobs, workers) plug in the same way: built in
 * rt_create from the config, stopped in rt_stop under the same deadline.
 *
 * Thread safety: rt_sql_open may be called from any thread once rt_create
 * returned (the server calls it per query); the rest from one thread.
 */
#ifndef SLUICE_RUNTIME_H
#define SLUICE_RUNTIME_H

#include "config/config.h"
#include "sql/sql.h"

#include <stddef.h>
#include <stdint.h>

typedef enum rt_mode {
    RT_CLIENT, /* a command next to (or without) a server: store and SQL only */
    RT_SERVER, /* sluice serve: also the HTTP server, streams and sinks, jobs */
    RT_WORKER  /* sluice worker: store, SQL and job workers fed by a server */
} rt_mode;

typedef struct rt_opts {
    rt_mode mode;
    const char *data_dir; /* NULL = the config's data_dir */
    const char *host;     /* RT_SERVER: NULL = the config's listen host */
    int port;             /* RT_SERVER: -1 = the config's listen port; 0 = any free port */
    /* RT_WORKER: the server (NULL = http://<the config's listen>, 0.0.0.0 as
     * 127.0.0.1), its write token (NULL = the config's first
     * query.write_tokens, if any), worker threads (<= 0: the config's
     * `workers`, at least 1). */
    const char *server;
    const char *token;
    int threads;
} rt_opts;

typedef struct rt_runtime rt_runtime;

/* Build the running parts from cf (not owned: keep it until rt_destroy).
 * Returns NULL with a message (bad store settings, S3 unreachable, data
 * directory not writable, port in use, two streams landing in one table,
 * ...). */
rt_runtime *rt_create(const cf_config *cf, const rt_opts *o, char *err, size_t errlen);

/* Stop what runs (RT_SERVER: no new connections, in-flight requests finish,
 * every sink lands its buffer, all at once, within the config's
 * shutdown_timeout; both modes with jobs: running commands are stopped,
 * their tasks stay pending).  Returns 0; or -1 when a sink was still landing at the
 * deadline: the caller should then exit without rt_destroy (what did not
 * land is in the journal and lands after the restart).  Idempotent. */
int rt_stop(rt_runtime *rt);
/* rt_stop if not done yet, and free; after a stop that gave up on a sink it
 * frees nothing (the process is about to exit).  Accepts NULL. */
void rt_destroy(rt_runtime *rt);

const char *rt_data_dir(const rt_runtime *rt);
/* RT_SERVER: the port listened on and the host. */
int rt_port(const rt_runtime *rt);
const char *rt_host(const rt_runtime *rt);

/* What one caller wants from a SQL engine on top of the runtime's options. */
typedef struct rt_sql_req {
    int read_only;        /* refuse CREATE TABLE AS / INSERT INTO lake tables */
    int no_tail;          /* files only */
    int no_files;         /* refuse read_parquet / read_csv / read_ndjson */
    int64_t timeout_ms;   /* per statement; 0 = none */
    int64_t memory_limit; /* bytes of SQLite heap; 0 = none */
    int agg_path;         /* SQ_PATH_*; AUTO: $SLUICE_SQL_PATH (auto|fast|sqlite) if set */
    int exact_decimals;   /* decimals as their exact text (sq_opts.exact_decimals) */
} rt_sql_req;

/* An engine over the lake and the journal tail with the PostgreSQL and
 * SQLite attachments of the config.  NULL with a message. */
sq_engine *rt_sql_open(rt_runtime *rt, const rt_sql_req *q, char *err, size_t errlen);

#endif
