/* jobs internals shared by the files of src/jobs. */
#ifndef SLUICE_JB_INT_H
#define SLUICE_JB_INT_H

#include "catalog/catalog.h"
#include "collect/collect.h"
#include "cron/cron.h"
#include "jobs/jobs.h"
#include "journal/journal.h"
#include "snap/snap.h"

#include <pthread.h>
#include <stdatomic.h>

#define JB_MAX_SECRET_BYTES 4096
#define JB_MAX_TEMPLATE_OUT (4u << 20) /* bytes of one expanded template */
#define JB_MAX_FIRES_PER_TICK 1000     /* fires per job turned into runs per pass (catch-up
                                          continues at the next pass) */
#define JB_MAX_WINDOWS 100000          /* windows of one backfill */

/* ---- time: schedules and windows (time.c, over src/cron) ------------------- */

/* A job's compiled timing. */
typedef struct jb_timing {
    cr_schedule *sched; /* NULL: fires at window ends + delay, or `every`, or never */
    cr_zone *zone;
    int64_t every_us;   /* > 0: `every` */
    int window;         /* cf_window */
    int64_t delay_us;
} jb_timing;

/* Compile j's schedule and zone.  0 or -1 with a message (no location). */
int jb__timing_init(jb_timing *t, const cf_job *j, char *err, size_t errlen);
void jb__timing_free(jb_timing *t);
/* The first fire strictly after after_us, or INT64_MAX if the job has no
 * schedule (manual only). */
int64_t jb__next_fire(const jb_timing *t, int64_t after_us);
/* The latest fire at or before at_us (CR_NO_PREV if none / no schedule). */
int64_t jb__prev_fire(const jb_timing *t, int64_t at_us);
/* The window a fire at fire_us covers: the latest window that closed at
 * least delay before it (window none: [prev_fire, fire)). */
void jb__fire_window(const jb_timing *t, int64_t fire_us, int64_t prev_fire_us, int64_t *ws,
                     int64_t *we);
/* The window containing t_us (window none: [t_us, t_us)). */
void jb__window_of(const jb_timing *t, int64_t t_us, int64_t *ws, int64_t *we);
/* The window n windows after (n < 0: before) the one starting at ws. */
int64_t jb__window_shift(const jb_timing *t, int64_t ws, int n);
/* Local calendar fields of t_us in the job's zone. */
void jb__local(const jb_timing *t, int64_t t_us, struct tm *tm, int *offset_s);
/* The day of t_us in the job's time zone, "YYYY-MM-DD" (the {{ds}} of a
 * window starting there), into out[JB_DS_LEN]. */
#define JB_DS_LEN 40
void jb__ds(const jb_timing *t, int64_t t_us, char *out);
/* Parse "YYYY-MM-DD" (local midnight in the zone) or RFC 3339 into µs.  0 / -1. */
int jb__parse_time(const jb_timing *t, const char *s, int64_t *us);

/* ---- accounts (accounts.c) ------------------------------------------------------
 * A job with accounts (jobs.<name>.accounts) has one run per (account,
 * window): the run's part is the account id.  A job without has one part,
 * "".  Every look at a window's runs is per part. */
typedef struct jb_parts {
    char **v;
    int n;
    int owned;
} jb_parts;
/* The parts j runs for now (its list, what accounts.sql found at its last
 * look, or the one part "").  Free with jb__parts_free.  0 / -1. */
int jb__parts(ct_catalog *c, const cf_job *j, jb_parts *p, ut_error *e);
void jb__parts_free(jb_parts *p);
/* The value of `field` in an account's fields (JSON object text) appended
 * to out (null: nothing).  0, or -1 with a message (no such field). */
int jb__account_field(const char *args, const char *field, ut_buf *out, char *err,
                      size_t errlen);

/* ---- lineage (lineage.c) ---------------------------------------------------- */

/* fn(arg, table) for each lake table (written by a job or landed by a
 * stream of cf) that the SELECT text of job j names, other than j's own
 * table; repeats possible.  Returns how many calls. */
int jb__sql_reads(const cf_config *cf, const cf_job *j, const char *sql,
                  void (*fn)(void *arg, const char *table), void *arg);
/* The SELECT text of sql job j: `sql`, or `sql_file` read relative to
 * config_dir (NULL: the directory of cf->file).  malloc'ed, or NULL with a
 * message. */
char *jb__sql_text(const cf_config *cf, const cf_job *j, const char *config_dir, char *err,
                   size_t errlen);

/* Every dependency of job j: depends_on, then the tables its SQL reads
 * (deduplicated, ASCII case ignored).  *out malloc'ed strings (free with
 * jb__deps_free).  Count, or -1 with a message (sql_file unreadable). */
int jb__deps(const cf_config *cf, const cf_job *j, const char *config_dir, char ***out,
             char *err, size_t errlen);
void jb__deps_free(char **v, int n);

/* ---- secrets (secret.c) ----------------------------------------------------- */

/* The value of secret `name` (file <secrets_dir>/<name>, first line; else
 * $SLUICE_SECRET_<NAME>) into out[JB_MAX_SECRET_BYTES].  0, or -1 with a
 * message that never contains the value. */
int jb__secret(const cf_config *cf, const char *name, char *out, char *err, size_t errlen);

/* Secret values a run used, to cut from anything it reports.  A run that
 * would use more than JB_REDACT_MAX fails its template (tmpl.c): a value
 * not remembered would be reported as it is. */
#define JB_REDACT_MAX 64
typedef struct jb_redact {
    char *v[JB_REDACT_MAX];
    char name[JB_REDACT_MAX][96];
    int n;
} jb_redact;
void jb__redact_free(jb_redact *r);
/* Replace every secret value of r in s (NUL-terminated, cap bytes) by
 * "[secret NAME]". */
void jb__redact(const jb_redact *r, char *s, size_t cap);

/* ---- templates (tmpl.c) ------------------------------------------------------ */

typedef struct jb_vars {
    const cf_config *cf;
    const cf_job *job;
    const jb_timing *timing;
    int64_t run_id;
    int64_t ws, we;     /* the window, µs */
    int iterations;
    const char *account; /* the run's account (NULL: none) */
    const char *account_args; /* its fields, a JSON object (NULL: none) */
} jb_vars;

/* Expand {{ name }} in text into out.  Secrets used are added to r (may be
 * NULL only when the text uses none).  0 or -1 with a message naming the
 * variable. */
int jb__expand(const char *text, const jb_vars *v, ut_buf *out, jb_redact *r, char *err,
               size_t errlen);
/* Every variable of text is known for job j (params listed, secrets
 * present).  0 or -1 with a message. */
int jb__tmpl_check(const cf_config *cf, const cf_job *j, const char *text, char *err,
                   size_t errlen);

/* ---- the queue (queue.c: the interface and its journal implementation;
 * queue_http.c: a client of a server's) --------------------------------------
 * The task queue behind an interface: the journal one (tasks are records
 * of the journal stream "tasks" under <data_dir>/jobs, delivered through
 * its consumer group "workers"; dead letters go to stream "dead"), opened
 * by the one process that schedules (sluice serve), and the HTTP one of
 * `sluice worker` processes, which reach that queue through the server's
 * internal endpoints POST /v1/jobs/_tasks/{take,heartbeat,ack} (http.c).
 * A Redis Streams one can come later. */
typedef struct jb_queue jb_queue;

#define JB_TAG_MAX 40 /* bytes of a task's tag: [A-Za-z0-9._-] */
typedef struct jb_task {
    uint64_t offset;   /* the task's id in the queue */
    int deliveries;    /* 1 the first time, + 1 per takeover */
    int64_t run_id;
    char tag[JB_TAG_MAX + 1]; /* "" a run's own task; else a sub-task of the running run
                                 (a kind's share of its work: snapshot ranges, "r<i>.<d>") */
} jb_task;

/* An implementation: a struct starting with `jb_queue base` whose ops
 * implement the calls below (push and dead may fail: a worker-only queue). */
typedef struct jb_queue_ops {
    const char *name; /* "journal", "http" */
    int (*push)(jb_queue *q, const int64_t *run_ids, const char *const *tags, int n,
                uint64_t *first, char *err, size_t errlen); /* tags NULL: none */
    int (*take)(jb_queue *q, const char *consumer, int block_ms, int64_t stale_ms, jb_task *t,
                char *err, size_t errlen);
    int (*heartbeat)(jb_queue *q, const char *consumer, const jb_task *t, char *err,
                     size_t errlen);
    int (*ack)(jb_queue *q, const char *consumer, const jb_task *t, char *err, size_t errlen);
    int (*dead)(jb_queue *q, uint64_t *cursor, void (*fn)(void *, uint64_t, int64_t), void *arg,
                char *err, size_t errlen);
    void (*depth)(jb_queue *q, uint64_t *pending, uint64_t *waiting);
    void (*close)(jb_queue *q);
} jb_queue_ops;
struct jb_queue {
    const jb_queue_ops *ops;
    int remote; /* tasks may name runs of another catalog: never ack those */
};

/* The journal queue under <data_dir>/jobs (one process at a time). */
jb_queue *jb__queue_open(const char *data_dir, int max_deliveries, char *err, size_t errlen);
/* A client of the queue of the server at url (http://host:port), with a
 * Bearer token (NULL: none).  Calls that wait (take) give up as soon as
 * *cancel is set.  Opens no connection yet. */
jb_queue *jb__queue_open_http(const char *url, const char *token, const atomic_int *cancel,
                              char *err, size_t errlen);
void jb__queue_close(jb_queue *q); /* accepts NULL */
/* Append a task for run_id; *offset = its id.  0 / -1. */
int jb__queue_push(jb_queue *q, int64_t run_id, uint64_t *offset, char *err, size_t errlen);
/* Append tasks for run_ids[0..n) (n <= JB_PUSH_MAX) with one durable write:
 * task i is at *first + i.  All or none.  0 / -1. */
#define JB_PUSH_MAX 256
int jb__queue_push_many(jb_queue *q, const int64_t *run_ids, int n, uint64_t *first, char *err,
                        size_t errlen);
/* Sub-tasks of run_id, tags[0..n) (each 1..JB_TAG_MAX of [A-Za-z0-9._-]),
 * with one durable write (also from a worker process: its queue asks the
 * server's).  A worker that takes one hands it to its run's kind
 * (worker.c); leases, heartbeats and takeovers as for any task; a sub-task
 * is never dead-lettered onto its run.  0 / -1. */
int jb__queue_push_tagged(jb_queue *q, int64_t run_id, const char *const *tags, int n,
                          uint64_t *first, char *err, size_t errlen);
/* Whether tag t is one (1..JB_TAG_MAX of [A-Za-z0-9._-]). */
int jb__tag_ok(const char *t, size_t n);
/* Take one task for `consumer`: a new one (waiting up to block_ms), else
 * one idle for at least stale_ms (its worker died).  1 taken, 0 none, -1. */
int jb__queue_take(jb_queue *q, const char *consumer, int block_ms, int64_t stale_ms,
                   jb_task *t, char *err, size_t errlen);
/* Keep t alive (its idle time back to 0).  0 kept, 1 lost (the task is no
 * longer consumer's: taken over, acked or dead-lettered), -1 could not tell
 * (I/O, the server unreachable: try again at the next beat). */
int jb__queue_heartbeat(jb_queue *q, const char *consumer, const jb_task *t, char *err,
                        size_t errlen);
/* XACK t, only while it is still consumer's delivery t->deliveries (a task
 * another worker took over is the new holder's to ack).  0 / -1 (the task
 * stays pending: taken over after task_timeout, then acked and skipped as
 * its run is finished). */
int jb__queue_ack(jb_queue *q, const char *consumer, const jb_task *t, char *err, size_t errlen);
/* Dead letters from *cursor on: fn(task offset of the dead-lettered task,
 * run id) each; advances *cursor.  Count or -1. */
int jb__queue_dead(jb_queue *q, uint64_t *cursor, void (*fn)(void *, uint64_t, int64_t),
                   void *arg, char *err, size_t errlen);
/* Tasks pending (delivered, not acked) and waiting (not delivered); 0 and
 * 0 when the queue cannot tell (http). */
void jb__queue_depth(jb_queue *q, uint64_t *pending, uint64_t *waiting);

/* ---- kinds (kind_*.c) ------------------------------------------------------- */

/* What a task runs with. */
typedef struct jb_task_ctx {
    jb_runtime *rt;
    const cf_config *cf;
    const cf_job *job;
    const jb_timing *timing;
    ct_catalog *cat;         /* this worker's connection */
    st_store *store;
    const ct_run *run;
    ct_run_done *done;       /* id/task/deliveries filled: commit outputs with it */
    jb_redact *redact;
    int64_t deadline_ms;     /* the job's timeout */
    char worker[96];
    ut_buf runlog;           /* the attempt's log: its thread's log lines and what a
                                command printed (jb__runlog_put), kept as the run's
                                log (ct_run_log_put) when the attempt ends */
    void *inflight;          /* the worker's in-flight entry (jb_rt.h) */
    const char *account_args; /* accounts.sql: the run's account's fields (JSON); NULL */
} jb_task_ctx;

/* The partitions of window [ws, we) (for account acct, "" none: the slice
 * account=<id>/<the window's>) and the defaults of account/dt/hr.  Month
 * windows give the prefix "dt=YYYY-MM-" (every day of the month). */
typedef struct jb_window_parts {
    char ds[JB_DS_LEN], hr[16], prefix[200];
    const char *dcols[3], *dvals[3];
    int ndefaults;
} jb_window_parts;
void jb__window_parts(const jb_task_ctx *c, int64_t ws, const char *acct, jb_window_parts *w);
/* A new table's partition columns for window kind `window`: the account's
 * slice first when the job has accounts ("account,dt", "dt,hr", "", ...). */
const char *jb__partition_by(int window, int accounts);

/* Add p[0..n) to the attempt's log (at most twice CT_RUN_LOG_MAX held; the
 * oldest bytes go first: the end of a log says how it ended). */
void jb__runlog_put(jb_task_ctx *c, const char *p, size_t n);

/* A sql task announces its engine (NULL when done with it), so that a stop
 * interrupts the statement running on it. */
void jb__task_engine(jb_task_ctx *c, sq_engine *e);

/* Run one task.  On success the kind has committed its outputs together
 * with ctx->done as succeeded (ct_change.run) and returns 1, or returns 0
 * when it has nothing to commit (the worker then finishes the run).  On
 * failure -1 with e set (the worker records the attempt). */
int jb__kind_sql(jb_task_ctx *ctx, ut_error *e);
int jb__kind_command(jb_task_ctx *ctx, ut_error *e);
/* kind load (kind_load.c, load_*.c; docs/warehouse.md). */
int jb__kind_load(jb_task_ctx *ctx, ut_error *e);
/* kind alert (kind_alert.c): 0 (nothing to commit) or -1. */
int jb__kind_alert(jb_task_ctx *ctx, ut_error *e);
/* kind sql over a given SELECT text: per_window = 1 templates and writes
 * each window of a serial run in turn; 0 writes once, replacing every
 * window's partitions (command output: read_ndjson of its file). */
int jb__kind_sql_text(jb_task_ctx *ctx, const char *text, int per_window, ut_error *e);

/* ---- kind collect (collect_spec.c, kind_collect.c) ---------------------------------- */

#define JB_CSPEC_MAX_STRINGS 128
/* A cl_spec for one run, with the expanded strings it points at. */
typedef struct jb_cspec {
    cl_spec spec;
    char *kept[JB_CSPEC_MAX_STRINGS];
    int nkept;
    char cache_key[160];
} jb_cspec;
/* Expand the job's collect config for v's run (secrets into r).  0 / -1. */
int jb__cspec_init(jb_cspec *s, const jb_vars *v, jb_redact *r, ut_error *e);
void jb__cspec_free(jb_cspec *s);
int jb__kind_collect(jb_task_ctx *ctx, ut_error *e);

/* ---- kind snapshot (snap_tables.c, kind_snapshot.c) ----------------------------------
 * A snapshot job's parts are its source tables ("schema.table"): one run per
 * (table, window), each retried and failed on its own. */
/* Look at the source's tables now: those include/exclude match, plus every
 * name without wildcards in include and under tables (a missing one then
 * fails its own run, naming it), kept as the job's parts.  When the source
 * cannot be reached the parts found last are kept (and the error logged);
 * -1 only when there are none to keep. */
int jb__snap_resolve(const cf_config *cf, ct_catalog *cat, const cf_job *j, ut_error *e);
/* THE lake table of source table `part` of snapshot job j: tables.<part>.
 * target, else table_prefix + part with its dots as '_'.  0, or -1 when it
 * does not fit out[n]. */
int jb__snap_lake_name(const cf_job *j, const char *part, char *out, size_t n);
/* The merge view of source table `part` of j (snap_view.c): tables.<part>.
 * merge.view, else the lake table + "_latest".  1 set, 0 the table has no
 * merge, -1 it does not fit out[n]. */
int jb__snap_view_name(const cf_job *j, const char *part, char *out, size_t n);
/* Another part of j, or of any snapshot job of cf (as last resolved), whose
 * lake table is `table` (ASCII case ignored), said in twin[n] ("source
 * table s.t of job x"): 1 found, 0 none, -1 with a message. */
int jb__snap_lake_twin(const cf_config *cf, ct_catalog *cat, const cf_job *j, const char *part,
                       const char *table, char *twin, size_t n, char *err, size_t errlen);
int jb__kind_snapshot(jb_task_ctx *ctx, ut_error *e);
/* A sub-task t of a running snapshot run: a range of a split table
 * (snap_range.c).  0 done or not this run's any more, -1 failed (said to
 * the run's coordinator, logged). */
int jb__kind_snapshot_sub(jb_task_ctx *ctx, const jb_task *t);

/* What changed in a source table's columns since the last run
 * (snap_schema.c). */
#define JB_MAX_SCHEMA_CHANGES 100
typedef struct jb_schema_change {
    char change[16];          /* added | dropped | retyped | renamed */
    char column[256], to[256]; /* renamed: column -> to */
    char from_type[128], to_type[128];
} jb_schema_change;
typedef struct jb_schema_changes {
    jb_schema_change v[JB_MAX_SCHEMA_CHANGES];
    int n, more;              /* more: changes past the cap, counted only */
} jb_schema_changes;
/* The columns as kept between runs: [{"name":..,"type":..,"lake":..,
 * "pos":..}, ...]; lake[i] (lake may be NULL) the lake column source column
 * i went to (NULL: not read). */
void jb__snap_schema_text(const sn_column *cols, int n, const char *const *lake, ut_buf *out);
/* The columns kept by the last run and the lake column of each ("" none),
 * both malloc'ed (free them).  Count, or -1 when the text does not parse. */
typedef char jb_lake_name[256];
int jb__snap_schema_lakes(const char *text, sn_column **cols, jb_lake_name **lake);
/* Compare the last run's text with cols.  The number of changes, or -1
 * when the old text does not parse. */
int jb__snap_schema_diff(const char *old_text, const sn_column *cols, int n, jb_schema_changes *c);
/* "dropped phone (text); renamed name -> full_name (text)" */
void jb__snap_schema_words(const jb_schema_changes *c, ut_buf *b);
/* The alert record of change x for the _alerts stream (a JSON object). */
void jb__snap_alert_record(const jb_task_ctx *ctx, const char *lake_table,
                           const jb_schema_change *x, ut_buf *b);
/* POST {"text": text} to a webhook (alert.c).  0 / -1 with a message. */
int jb__alert_post(const char *url, const char *text, char *err, size_t errlen);
/* The same, ended (-1) within about a second once *stop is set (atomically). */
int jb__alert_post_cancel(const char *url, const char *text, const int *stop, char *err,
                          size_t errlen);

/* A file a collect run stored (collect_files.c). */
typedef struct jb_stored_file {
    const char *key;      /* store key: raw/<job>/<account>/<ds>/run<id>-NNNN.<ext>.gz */
    const char *format;   /* "json", "csv", ... ("json" for the manifest) */
    uint64_t bytes;       /* stored size */
    int64_t rows;         /* records from it */
    int manifest;
} jb_stored_file;
/* The run's announcements on <job>.files. */
typedef struct jb_announce {
    char stream[80];
    char **recs;
    int n;
} jb_announce;
/* Build the records announcing files[0..n) and hang them on c->done (the
 * outbox of its commit).  0, or -1 when <job>.files is not a stream name
 * (nothing announced).  Free with jb__collect_announce_free (also unhangs). */
int jb__collect_announce(const jb_task_ctx *c, const jb_stored_file *files, int n,
                         jb_announce *a);
void jb__collect_announce_free(jb_task_ctx *c, jb_announce *a);

/* A run's raw files (collect_raw.c): each part streamed into the store as it
 * arrives, gzip'ed.  The hooks of cl_fetch call begin (a part starts: the
 * one before is committed), write (its bytes) and row (a record of it). */
typedef struct jb_raw jb_raw;
jb_raw *jb__raw_create(jb_task_ctx *c);
int jb__raw_begin(jb_raw *r, const char *ext);                /* 0 / -1 */
int jb__raw_write(jb_raw *r, const void *p, size_t n);        /* 0 / -1 */
void jb__raw_row(jb_raw *r);
const char *jb__raw_error(const jb_raw *r); /* why begin/write failed ("" if not) */
/* The fetch ended: commit the open part (keep_open) or abort it, then store
 * the manifest of the committed parts.  0 / -1 with e. */
int jb__raw_finish(jb_raw *r, int keep_open, ut_error *e);
/* Hang the announcements of the committed files on the run's commit. */
void jb__raw_announce(jb_raw *r, jb_announce *an);
void jb__raw_destroy(jb_raw *r); /* accepts NULL; aborts an open part */
/* "raw/<job>/<account>/<ds>/run<id>": the run's raw files' common prefix. */
void jb__raw_prefix(const jb_task_ctx *c, char *out, size_t n);
/* collect_orphans.c: a delivery that took the task over (deliveries > 1)
 * aborts the unfinished raw uploads and deletes the raw files under its
 * run's prefix (the delivery before's).  How many. */
int jb__raw_takeover(jb_task_ctx *c);
/* Abort the unfinished uploads under raw/ that are stale (see
 * collect_orphans.c); cat (may be NULL) to look at their runs.  How many. */
typedef struct jb_raw_sweep_opts {
    int64_t idle_ms;  /* local temp file nobody's lock holds, unwritten for this long */
    int64_t grace_ms; /* S3 upload this old whose run is not running */
    int64_t age_ms;   /* S3 upload this old, whatever its run */
} jb_raw_sweep_opts;
#define JB_RAW_IDLE_MS (60LL * 1000)
#define JB_RAW_GRACE_MS (10LL * 60 * 1000)
#define JB_RAW_AGE_MS (24LL * 3600 * 1000)
int jb__raw_sweep(st_store *s, ct_catalog *cat, int64_t now_ms, const jb_raw_sweep_opts *o);
/* Whether the sweep aborts the unfinished write of key (time, held as
 * st_uploads gives them; its run looked up in cat, NULL: not). */
int jb__raw_stale(const char *key, int64_t time_ms, int held, ct_catalog *cat, int64_t now_ms,
                  const jb_raw_sweep_opts *o);

/* ---- the runtime (runtime.c) -------------------------------------------------- */

int64_t jb__now_us(const jb_runtime *r);

/* A new run (state waiting) for jb__add_run. */
typedef struct jb_new_run {
    const cf_job *job;
    int64_t ws, we;           /* its window, µs */
    const char *trigger;      /* schedule | lookback | manual | backfill */
    const char *backfill;     /* NULL = none */
    int iterations, forced;
    int64_t due_ms;           /* 0 = at once */
    const char *account;      /* jobs.<name>.accounts: the run's account; NULL = none */
    int unless_open;          /* 1: not when a run of the window is open (looked at in
                                 the insert's transaction: a trigger at the same time) */
} jb_new_run;
/* Insert it into the run history; *id (may be NULL) = its id.  0, 1 (not
 * inserted: unless_open and a run is open), -1. */
int jb__add_run(ct_catalog *c, const jb_new_run *nr, int64_t *id, ut_error *e);
const char *jb__data_dir(const jb_runtime *r);
/* The timing of job j (compiled at jb_create). */
const jb_timing *jb__timing(const jb_runtime *r, const cf_job *j);

#endif
