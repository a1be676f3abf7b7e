/* jobs — scheduled jobs: a scheduler, a task queue in the journal, workers.
 *
 * Prefix: jb_.  Cross-file internals: jb__ (jb_int.h).  See docs/jobs.md.
 *
 *   config jobs: ──► jb_check (cron, zones, templates, pools, dependencies)
 *
 *   scheduler (jb_tick, once per scheduler.tick or when a run finishes)
 *     fires of each job's schedule since the last one it handled (catchup:
 *     every one; else the latest) ──► a run per (job, window) + lookback
 *     windows, in the catalog's run history (state waiting)
 *     waiting / retrying runs that are due, whose dependencies are ready and
 *     whose job has fewer than max_active runs out ──► a task record
 *     {"run":id} appended to the queue stream <data_dir>/jobs/tasks, the run
 *     queued with the task's offset
 *     dead-lettered tasks ──► their runs dead, with the reason
 *
 *   workers (threads of sluice serve, and of any number of sluice worker
 *   processes, which reach the queue through the server's HTTP endpoints;
 *   the queue is one journal consumer group)
 *     take a task (new ones first, then tasks idle past task_timeout: their
 *     worker died) ──► ct_run_start for this delivery (the fencing token;
 *     a finished run or one another delivery holds is acked and skipped)
 *     ──► heartbeat while the kind runs ──► the outputs and the finished
 *     run in ONE catalog transaction ──► ack.  A worker killed anywhere
 *     leaves its task pending; another takes it after task_timeout and the
 *     outputs replace whatever the first one may have committed, so a task
 *     run twice leaves one copy of its rows.
 *
 * Kinds (jobs/kind_*.c) never touch the scheduler: each validates its
 * config and runs one task given a jb_task context.
 *
 * Thread safety: jb_create/jb_stop/jb_destroy from one thread; jb_tick,
 * jb_trigger and jb_backfill from any thread (they take the runtime's lock).
 */
#ifndef SLUICE_JOBS_H
#define SLUICE_JOBS_H

#include "config/config.h"
#include "sql/sql.h"
#include "store/store.h"
#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

typedef struct jb_runtime jb_runtime;

/* The stream (and lake table) snapshot jobs write their alerts to (a source
 * table's columns changed), unless the config declares it. */
#define JB_ALERTS_STREAM "_alerts"


typedef struct jb_opts {
    const cf_config *cf;       /* not owned; outlives the runtime */
    const char *data_dir;      /* queue under <data_dir>/jobs, catalog <data_dir>/catalog.db */
    const char *config_dir;    /* sql_file paths are relative to it ("." if NULL) */
    st_store *store;           /* the lake store (not owned) */
    /* An engine for a sql task with a statement time limit (the runtime's
     * rt_sql_open); the caller closes it. */
    sq_engine *(*sql_open)(void *ctx, int64_t timeout_ms, char *err, size_t errlen);
    /* The same over committed lake files only (no journal tail): what a
     * load job sends to the warehouse.  NULL: loads fail. */
    sq_engine *(*sql_open_files)(void *ctx, int64_t timeout_ms, char *err, size_t errlen);
    void *sql_ctx;
    /* Where a stream-landed table's sink is: its committed position and the
     * stream's end (1), or 0 when no stream lands it.  NULL: such tables
     * never hold a run back. */
    int (*table_progress)(void *ctx, const char *table, uint64_t *position, uint64_t *end);
    void *progress_ctx;
    /* The i-th lake sink (0, 1, ...): its stream's name and lag in records
     * (-1: unknown, the sink is stopped) and 1, or 0 past the last.  For
     * the built-in sink_lag alert; NULL: no lag alert.  Takes progress_ctx. */
    int (*sink_lag)(void *ctx, int i, char *stream, size_t n, int64_t *lag);
    int scheduler;             /* run the scheduler thread */
    int workers;               /* worker threads (0 = none) */
    /* NULL: the queue is the journal one under data_dir, which only one
     * process opens (sluice serve).  Else the URL (http://host:port) of the
     * server that has it: the workers take, heartbeat and ack over HTTP
     * (sluice worker); no scheduler then. */
    const char *queue_url;
    const char *queue_token;   /* Bearer token for queue_url (a write token), or NULL */
    /* Test hook: the clock (µs since the epoch); NULL = CLOCK_REALTIME. */
    int64_t (*now_us)(void *ctx);
    void *clock_ctx;
} jb_opts;

/* Check what the config loader cannot: schedules, time zones, templates
 * (unknown variables, params, secrets), pools, dependencies (unknown jobs,
 * cycles) and tables written by two producers.  Messages are
 * "file:line: jobs.NAME: ...".  data_dir may be NULL (no secrets files
 * checked beyond secrets_dir).  0 or -1. */
int jb_check(const cf_config *cf, char *err, size_t errlen);

/* The value of secret `name` (the first line of <secrets_dir>/<name>, else
 * $SLUICE_SECRET_<NAME>) into out (JB_SECRET_MAX bytes).  0, or -1 with a
 * message naming the file and the variable. */
#define JB_SECRET_MAX 4096
int jb_secret(const cf_config *cf, const char *name, char *out, char *err, size_t errlen);

/* Open the queue (o->queue_url: a client of the server's) and start the
 * scheduler and workers.  NULL with a message. */
jb_runtime *jb_create(const jb_opts *o, char *err, size_t errlen);
/* Stop taking tasks; running tasks finish or, past deadline_ms (wall
 * clock), are abandoned (their tasks stay pending and are taken over after
 * a restart).  Idempotent. */
void jb_stop(jb_runtime *r, int64_t deadline_ms);
void jb_destroy(jb_runtime *r); /* jb_stop(now) if needed; accepts NULL */

/* One scheduler pass now (the scheduler thread calls it; tests call it with
 * the clock hook and scheduler = 0).  Returns the number of runs queued, or
 * -1 with e set. */
int jb_tick(jb_runtime *r, ut_error *e);

/* Wait until no run is queued or running and no worker is busy, or
 * timeout_ms passes (tests).  1 idle, 0 timed out. */
int jb_wait_idle(jb_runtime *r, int64_t timeout_ms);

/* ---- HTTP and metrics (http.c) ------------------------------------------------ */

/* Query-string arguments of a request, and whether its client is still
 * there (gone may be NULL: always there). */
typedef struct jb_http_args {
    const char *(*arg)(const void *conn, const char *key);
    int (*gone)(const void *conn);
    const void *conn;
} jb_http_args;

/* GET /v1/alerts (alert jobs with their state, the built-in alerts and their
 * notices), GET /v1/jobs, GET /v1/jobs/{job}/runs, POST /v1/jobs/{job}/runs, and
 * the queue of sluice worker processes, POST /v1/jobs/_tasks/{take,
 * heartbeat,ack} (POSTs only with writer != 0): the JSON reply into out;
 * returns the HTTP status (204: no body). */
int jb_http(jb_runtime *r, const char *method, const char *path, const char *body, size_t len,
            int writer, const jb_http_args *a, ut_buf *out);
/* Prometheus lines: runs by job and state, queue depth, tasks taken and
 * taken over, dead letters, pool waits, slots and tokens. */
void jb_metrics(jb_runtime *r, ut_buf *out);

/* ---- entry points shared by the CLI and HTTP (no runtime needed) ------------ */

/* "YYYY-MM-DD" (midnight in the job's time zone) or RFC 3339 into µs, for
 * --window / --from / --to.  0, or -1 with e (unknown job, bad text). */
int jb_parse_time(const cf_config *cf, const char *job, const char *text, int64_t *us,
                  ut_error *e);

/* Queue a run of `job` for the window containing window_us (its start when
 * the job has no window): a new run row, state waiting, trigger "manual"
 * (picked up by the scheduler of whatever process runs one).  A window
 * that already succeeded is refused (UT_EEXISTS) unless force.  Sets
 * *run_id.  0 or -1. */
int jb_trigger(const cf_config *cf, const char *data_dir, const char *job, int64_t window_us,
               int force, int64_t *run_id, ut_error *e);

/* A backfill of `job` over the windows starting in [from_us, to_us):
 * parallel > 0 queues one run per window with at most `parallel` of them
 * queued or running at once; parallel == 0 (serial) is ONE run covering
 * every window in order (iterations = their count).  A backfill name that
 * exists is refused (UT_EEXISTS).  dry_run: nothing is written, *nwindows
 * says how many windows it would cover.  0 or -1. */
int jb_backfill(const cf_config *cf, const char *data_dir, const char *job, int64_t from_us,
                int64_t to_us, int parallel, const char *name, int dry_run, int *nwindows,
                ut_error *e);

/* `sluice load --plan`: the statements a run of load (or export) job `job` for the
 * window containing at_us would send (its target's columns read from the
 * warehouse now; dialect redshift: the manifest and its COPY), appended to
 * out.  eng: an engine over the lake (committed files) to type the rows'
 * columns.  0, or -1 with e naming the job. */
int jb_load_plan(const cf_config *cf, const char *data_dir, const char *job, int64_t at_us,
                 sq_engine *eng, ut_buf *out, ut_error *e);

/* `sluice export JOB --sample N`: the first n rows of export (or load) job
 * `job`'s lake rows exported, as a run of the job would, to connection `to`
 * (NULL: the job's target.connection) table `table` (NULL: the job's);
 * nothing is recorded in the catalog (no run, no load history).  eng: an
 * engine over the lake's committed files.  0 with *rows, or -1 with e. */
int jb_export_sample(const cf_config *cf, const char *data_dir, const char *job, int64_t n,
                     const char *to, const char *table, sq_engine *eng, int64_t *rows,
                     ut_error *e);

#endif
