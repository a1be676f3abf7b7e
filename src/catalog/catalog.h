/* catalog — the source of truth for what is committed in the lake.
 *
 * Prefix: ct_.  One SQLite file (WAL mode) under the data directory:
 * tables, their columns and schema versions, the files of each table (with
 * partition, rows, bytes and per-column min/max/null counts), and the lake
 * sink's position in each stream.  A file is visible to queries only once it
 * is committed here; files in storage that the catalog does not list are
 * garbage.  The sink commits new files and its new stream position in ONE
 * transaction (ct_commit), which is what makes replay after a crash write no
 * duplicate rows.
 *
 * Thread safety: one ct_catalog per thread (SQLite connections are cheap);
 * several processes/threads may open the same file (WAL, busy timeout).
 */
#ifndef SLUICE_CATALOG_H
#define SLUICE_CATALOG_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ct_catalog ct_catalog;

/* Hard caps, checked on every write (a violation is an error, never a
 * truncation): columns per table (and stats per file), files per
 * ct_commit / ct_replace call. */
#define CT_MAX_COLUMNS 4096
#define CT_MAX_FILES 100000

/* Column types as the lake records them (the Parquet writer's types).  New
 * types are appended: the numbers of the old ones stay the same. */
typedef enum ct_type {
    CT_BOOL = 1,
    CT_INT64,
    CT_DOUBLE,
    CT_STRING,
    CT_TIMESTAMP, /* µs since the epoch, UTC */
    CT_DATE,
    CT_INT32,
    CT_FLOAT,
    CT_DECIMAL,       /* DECIMAL(precision, scale): ct_column.precision/scale */
    CT_TIME,          /* µs since midnight (Parquet TIME(MICROS), not UTC-adjusted) */
    CT_TIMESTAMP_NTZ, /* wall-clock µs since 1970-01-01 00:00, no time zone */
    CT_BYTES,         /* binary (Parquet BYTE_ARRAY without annotation) */
    CT_TYPE_END       /* one past the last */
} ct_type;

#define CT_DECIMAL_MAX_PRECISION 38
#define CT_TYPE_TEXT_MAX 24 /* "decimal(38,38)" and the names, with the NUL */

/* "bool", "int64", ..., "decimal" (no precision: see ct_column_type_text);
 * "?" for an unknown value.  ct_type_parse takes every text
 * ct_column_type_parse takes, dropping a decimal's precision and scale;
 * 0 / -1. */
const char *ct_type_name(ct_type t);
int ct_type_parse(const char *s, ct_type *out);
/* May a column of type `from` hold values now typed `to`, by the types
 * alone?  int32 -> int64 / double, int64 / float -> double, date ->
 * timestamp / timestamp_ntz, decimal -> double, anything -> string, a type
 * to itself.  A decimal's precision and scale are not looked at: decimal ->
 * decimal says 1 and int32 / int64 -> decimal 0 here; with the columns at
 * hand ask ct_column_widen, which decides both. */
int ct_type_widens(ct_type from, ct_type to);

typedef struct ct_column {
    char name[256];
    ct_type type;
    int added_version; /* schema version that added it: set when reading a
                          table, ignored by ct_schema_set */
    int precision, scale; /* CT_DECIMAL only (1..38, 0..precision); 0 otherwise */
} ct_column;

/* Is (precision, scale) a valid DECIMAL (1..38 digits, 0..precision after
 * the point)? */
int ct_decimal_valid(int precision, int scale);
/* The text the catalog stores for c's type: "decimal(12,2)", "time",
 * "timestamp_ntz", "bytes", "int64", ... ("?" for an unknown type or a
 * decimal whose precision/scale is invalid) into out[n], n >=
 * CT_TYPE_TEXT_MAX.  Returns out. */
const char *ct_column_type_text(const ct_column *c, char *out, size_t n);
/* Parse that text (exactly: "decimal(12,2)", no spaces) into *type,
 * *precision, *scale (0, 0 for types other than decimal).  0 / -1. */
int ct_column_type_parse(const char *s, ct_type *type, int *precision, int *scale);
/* Do a and b have the same type (with a decimal's precision and scale)? */
int ct_column_same_type(const ct_column *a, const ct_column *b);
/* The type a column `old` takes to hold values of `want` too, into *out
 * (name and added_version of old): 1 when old can (out is want's type, or
 * for two decimals neither of which holds the other decimal(max integer
 * digits + max scale, max scale), string above 38 digits), 0 when it cannot
 * (out is old: a narrowing or an unrelated type, e.g. int64 after bool).
 * Widening: ct_type_widens, plus decimal(p,s) -> decimal(p2,s2) when
 * p2 - s2 >= p - s and s2 >= s, int32 -> decimal when p - s >= 10, int64
 * -> decimal when p - s >= 19. */
int ct_column_widen(const ct_column *old, const ct_column *want, ct_column *out);
/* Does `from` widen to `to` (to can hold every value of from)? */
int ct_column_widens(const ct_column *from, const ct_column *to);

/* Open (creating and migrating the schema if needed) the catalog at path.
 * NULL with a message on failure. */
ct_catalog *ct_open(const char *path, char *err, size_t errlen);
void ct_close(ct_catalog *c); /* accepts NULL */

/* ---- tables ------------------------------------------------------------------ */

typedef struct ct_table {
    int64_t id;
    char name[128];
    char location[1024];   /* store URI of the table root: "/abs/path/t1_x" or "s3://b/p/t1_x" */
    char partition[64];    /* partition columns, comma separated: "dt,hr" or "dt" or "" */
    char stream[72];       /* source stream, "" if none */
    int64_t created_ms;
    int version;           /* current schema version (0 = no columns yet) */
    int ncols;
    ct_column *cols;       /* current columns in order; malloc'ed (ct_table_free) */
} ct_table;

/* Create table `name` if missing (location/partition/stream are only used
 * when creating; a name that differs from an existing table's only in ASCII
 * case is refused).  Fills *out (may be NULL) with the table as stored.
 * Returns 1 if created, 0 if it existed, -1 with a message. */
int ct_table_ensure(ct_catalog *c, const char *name, const char *location, const char *partition,
                    const char *stream, ct_table *out, char *err, size_t errlen);
/* Look up a table by name: 1 found (fills *out), 0 not found, -1 error. */
int ct_table_get(ct_catalog *c, const char *name, ct_table *out, char *err, size_t errlen);
void ct_table_free(ct_table *t); /* frees cols; accepts a zeroed table */
/* Names of all tables, sorted; *names malloc'ed array of malloc'ed strings
 * (free with ct_names_free).  Returns the count or -1. */
int ct_tables(ct_catalog *c, char ***names, char *err, size_t errlen);
void ct_names_free(char **names, int n);

/* Record the table's schema `cols` if it differs from the current one: a new
 * version with `change` (human text: "added cost double; widened id int64 ->
 * double") and the time.  Columns are only ever added or widened, never
 * removed.  Sets *version to the current version.  0 or -1. */
int ct_schema_set(ct_catalog *c, int64_t table_id, const ct_column *cols, int ncols,
                  const char *change, int *version, char *err, size_t errlen);

/* Merge `cols` into table `name`'s schema in one write transaction against
 * the current one (whatever other writers did meanwhile): a column whose
 * name matches one of the table's ignoring ASCII case is that column, its
 * type widened when cols' is wider (never narrowed); others are appended.
 * A change is a new schema version ("added x int64; widened y ...").
 * *out is the table as it is after (free with ct_table_free).  1 changed,
 * 0 unchanged, -1 with a message (no such table, too many columns). */
int ct_schema_extend(ct_catalog *c, const char *name, const ct_column *cols, int ncols,
                     ct_table *out, char *err, size_t errlen);

/* The older types of the table's columns: fn(arg, column, type, version)
 * for the columns of every schema version after which some column changed
 * type, so for each column and each type it had before its current one, the
 * last version with that type is among the calls (calls with the current
 * type may come too).  A file written under a version up to that one holds
 * the column in the older type (its statistics compare in that type).
 * 0 or -1. */
typedef void (*ct_coltype_fn)(void *arg, const char *column, ct_type type, int last_version);
int ct_column_types(ct_catalog *c, int64_t table_id, ct_coltype_fn fn, void *arg, char *err,
                    size_t errlen);

/* Note a change of the table's source in its schema history without
 * changing its columns (a source column dropped or renamed: the lake keeps
 * the column): a new version with the same columns and `change` as its
 * text.  *version (may be NULL) = the new version.  0 or -1. */
int ct_schema_note(ct_catalog *c, int64_t table_id, const char *change, int *version, char *err,
                   size_t errlen);

typedef struct ct_schema_version {
    int version;
    int64_t created_ms;
    char change[512];
    int ncols;
} ct_schema_version;
/* All versions of a table, oldest first (*out malloc'ed).  Count or -1. */
int ct_schema_history(ct_catalog *c, int64_t table_id, ct_schema_version **out, char *err,
                      size_t errlen);

typedef struct ct_schema_change {
    char table[256];
    ct_schema_version v;
} ct_schema_change;
/* The `limit` (1..1000) latest schema changes over all tables (versions
 * after a table's first), newest first (*out malloc'ed).  Count or -1. */
int ct_schema_recent(ct_catalog *c, int limit, ct_schema_change **out, char *err, size_t errlen);

/* ---- files ------------------------------------------------------------------- */

typedef struct ct_colstat {
    char name[256];
    int has_minmax;
    char min[256], max[256]; /* text form: numbers, RFC 3339 timestamps, strings
                                (strings truncated to 255 bytes: min exact prefix,
                                max only when not truncated), exact decimals at
                                the column's scale, times "HH:MM:SS[.ffffff]",
                                wall-clock "YYYY-MM-DDTHH:MM:SS[.ffffff]"; bytes
                                have none */
    int64_t nulls;
} ct_colstat;

typedef struct ct_file {
    int64_t id;            /* set by the catalog */
    char path[1024];       /* key relative to the table location: "dt=2024-05-01/hr=03/part-....parquet" */
    char partition[256];   /* "dt=2024-05-01/hr=03" ("" if unpartitioned) */
    int64_t rows;
    int64_t bytes;
    int schema_version;
    int64_t created_ms;
    int64_t min_offset, max_offset; /* stream offsets of the records in it (-1 if n/a) */
    int nstats;
    ct_colstat *stats;     /* optional */
    int64_t table_id;      /* set by the catalog when reading (ct_trash lists all tables);
                              ignored by ct_commit / ct_replace */
} ct_file;

/* ---- one change of the lake: ct_apply ------------------------------------------
 * Everything one writer commits, in ONE transaction (all or nothing): per
 * table the files it adds and the live files they replace (compaction,
 * partition overwrite), optionally creating the table with its columns first
 * (CREATE TABLE AS: a failed statement leaves no table behind), and the
 * stream position.  ct_commit, ct_commit_many and ct_replace are special
 * cases; lk_land (src/lake) is the one caller that stores files.  (A job
 * task's run record joins this transaction as one more field of ct_change.) */
#define CT_MAX_CHANGE_TABLES 4

typedef struct ct_new_table {
    const char *name, *location, *partition; /* as for ct_table_ensure */
    const ct_column *cols;                   /* becomes schema version 1 */
    int ncols;
    const char *change;                      /* history text ("created by ...") */
    int exists_ok; /* a table of that name that exists already (a concurrent writer
                      created it first: another run of the same job) is written as it is
                      when it is the same table: no stream, these partition columns, these
                      columns (names, types, order) as its version 1.  One that differs
                      fails the change with UT_EEXISTS and a message naming the table and
                      both schemas.  0: an existing name is an error (UT_EEXISTS). */
} ct_new_table;

typedef struct ct_table_change {
    int64_t table_id;           /* set by ct_apply when `create` made (or found) the table */
    const ct_new_table *create; /* non-NULL: create it (a name that exists: see exists_ok) */
    const ct_file *add;         /* files to add (paths new to the table) */
    int nadd;
    const int64_t *remove;      /* ids of live files of the table to move to the trash */
    int nremove;
    const char *const *replace; /* partitions (path prefixes as ct_files takes them, "" =
                                   the whole table) whose live files, as this transaction
                                   sees them, move to the trash too: a write replacing
                                   its partitions also replaces what another writer
                                   committed there after it looked */
    int nreplace;
    const ct_column *evolve;    /* non-NULL: the added files' columns, merged into the
                                   table's schema first (ct_schema_extend's rule: new
                                   ones appended, types widened), in this transaction,
                                   so a failed change leaves the schema as it was; the
                                   files are then recorded under the version after
                                   (their schema_version ignored).  A column of them
                                   whose type another writer widened meanwhile fails
                                   the change (the file holds the narrower type). */
    int nevolve;
    ct_file *replaced;          /* out: the files `replace` removed (malloc'ed, no stats;
                                   free with ct_files_free), NULL when none or on failure */
    int nreplaced;
} ct_table_change;

struct ct_run_done; /* runs, below */

typedef struct ct_change {
    ct_table_change *tables;    /* 1..CT_MAX_CHANGE_TABLES */
    int ntables;
    const char *stream;         /* non-NULL: set the position of (stream, tables[0]) */
    uint64_t next_offset;
    const struct ct_run_done *run; /* non-NULL: finish this run in the same transaction
                                   (fenced as ct_run_finish: a run another delivery
                                   took over fails the whole change) */
    ut_errkind err_kind;        /* out, when ct_apply fails: UT_EEXISTS a table to create
                                   exists (and differs, with exists_ok), UT_EIO otherwise */
} ct_change;

/* Apply ch in one BEGIN IMMEDIATE transaction.  0, or -1 with a message
 * naming the table and file (nothing changed). */
int ct_apply(ct_catalog *c, ct_change *ch, char *err, size_t errlen);

/* THE commit: add files[0..n) to the table and set the sink position of
 * (stream, table) to next_offset, in one transaction.  stream may be NULL
 * (no position change, e.g. CREATE TABLE AS).  0 or -1 (nothing changed). */
int ct_commit(ct_catalog *c, int64_t table_id, const ct_file *files, int n, const char *stream,
              uint64_t next_offset, char *err, size_t errlen);

/* ct_commit for a table and its companion table (the sink's "<table>_errors")
 * at once: files[0..n) to table_id, files2[0..n2) to table2_id, and the
 * position of (stream, table_id), in one transaction.  0 or -1. */
int ct_commit_many(ct_catalog *c, int64_t table_id, const ct_file *files, int n,
                   int64_t table2_id, const ct_file *files2, int n2, const char *stream,
                   uint64_t next_offset, char *err, size_t errlen);

/* Atomically replace files: remove the files with ids old_ids[0..nold) and
 * add new_files[0..nnew) (compaction, partition overwrite).  Fails (and
 * changes nothing) if any old id is no longer live.  0 or -1. */
int ct_replace(ct_catalog *c, int64_t table_id, const int64_t *old_ids, int nold,
               const ct_file *new_files, int nnew, char *err, size_t errlen);

/* Live files of a table, optionally only those whose partition starts with
 * partition_prefix (NULL = all), ordered by partition then id.  *out
 * malloc'ed (ct_files_free).  Count or -1. */
int ct_files(ct_catalog *c, int64_t table_id, const char *partition_prefix, ct_file **out,
             char *err, size_t errlen);
void ct_files_free(ct_file *f, int n);

/* Remove every live file of partitions whose value of the first partition
 * column (dt) is < before (e.g. "2024-05-01"); fills *removed (malloc'ed,
 * ct_files_free) so the caller deletes them from storage.  Count or -1. */
int ct_drop_before(ct_catalog *c, int64_t table_id, const char *before, ct_file **removed,
                   char *err, size_t errlen);

/* Files removed from the catalog (by ct_replace / ct_drop_before) whose
 * storage objects have not been deleted yet; the caller deletes them and
 * then calls ct_forget.  Count or -1. */
int ct_trash(ct_catalog *c, ct_file **out, char *err, size_t errlen);
/* The trashed files removed before removed_before_ms (wall clock): deletion
 * waits a grace period so that a scan that read the catalog before the
 * removal (in this or another process) can still open them.  Count or -1. */
int ct_trash_due(ct_catalog *c, int64_t removed_before_ms, ct_file **out, char *err,
                 size_t errlen);
int ct_forget(ct_catalog *c, int64_t file_id, char *err, size_t errlen);

/* Is `path` (relative to the table location) a live file of the table?
 * 1 / 0 / -1.  Used by garbage collection. */
int ct_file_live(ct_catalog *c, int64_t table_id, const char *path, char *err, size_t errlen);
/* Does the catalog know `path` at all (live, or trashed and awaiting its
 * deletion after the grace period)?  1 / 0 / -1.  Garbage collection deletes
 * only objects it does not know. */
int ct_file_known(ct_catalog *c, int64_t table_id, const char *path, char *err, size_t errlen);

/* ---- sink positions ------------------------------------------------------------- */

/* The next offset of `stream` to land in table_id (0 if never committed).
 * 0 or -1. */
int ct_position(ct_catalog *c, const char *stream, int64_t table_id, uint64_t *next_offset,
                char *err, size_t errlen);

/* ---- summaries for `sluice tables` / `describe` ----------------------------------- */

/* Live files, rows, bytes and distinct partitions of a table.  The type is
 * `struct ct_table_stats` (no typedef: the name is the function's). */
struct ct_table_stats {
    int64_t files, rows, bytes, partitions;
    char min_partition[256], max_partition[256]; /* "" when there are no files */
    int64_t last_commit_ms;                      /* newest live file's; 0 when none */
};
int ct_table_stats(ct_catalog *c, int64_t table_id, struct ct_table_stats *out, char *err,
                   size_t errlen);

/* Path of the catalog file as opened (for messages). */
const char *ct_path(const ct_catalog *c);

/* ---- job runs (runs.c) -----------------------------------------------------------
 * The run history of the jobs runtime (src/jobs): one row per run of a job
 * for a window.
 *
 *   waiting ──► queued ──► running ──► succeeded
 *     (deps,       ▲          ├──► retrying ──► (due) queued ...  an attempt failed
 *     max_active)  │          ├──► failed     no retries left
 *                  └ the task └──► dead       the task was dead-lettered
 *
 * A worker takes a run with ct_run_start for ITS delivery of the run's task
 * (the queue offset and the delivery count); the count is a fencing token:
 * ct_run_finish, and ct_apply with a run, change the run only while that
 * delivery still holds it, so a worker that stalled and lost its task to
 * another cannot commit over the other's work.  Times are wall-clock ms;
 * windows µs since the epoch (UTC), [start, end). */
typedef enum ct_run_state {
    CT_RUN_WAITING = 1, /* created; waits for its due time, dependencies, max_active */
    CT_RUN_QUEUED,      /* its task is in the queue */
    CT_RUN_RUNNING,     /* a worker took it */
    CT_RUN_RETRYING,    /* an attempt failed; queued again at due_ms */
    CT_RUN_SUCCEEDED,
    CT_RUN_FAILED,      /* the last attempt failed: error says why */
    CT_RUN_DEAD         /* the task was dead-lettered (workers died on it) */
} ct_run_state;
#define CT_RUN_STATES 8 /* one past the last */

const char *ct_run_state_name(ct_run_state s); /* "waiting", ... ("?" if unknown) */
int ct_run_state_parse(const char *s, ct_run_state *out); /* 0 / -1 */
int ct_run_state_terminal(ct_run_state s); /* succeeded, failed, dead */

#define CT_RUN_ERROR_MAX 1024

typedef struct ct_run {
    int64_t id;
    char job[65];
    int64_t window_start, window_end; /* µs; [start, end) */
    ct_run_state state;
    int attempt;             /* 1 = the first try */
    int deliveries;          /* deliveries of the current attempt's task so far */
    char trigger[16];        /* schedule | lookback | manual | backfill */
    char backfill[65];       /* its backfill's name, "" if none */
    int iterations;          /* windows the task covers (serial backfills), >= 1 */
    int forced;
    char worker[96];         /* who ran it last */
    int64_t created_ms, due_ms, started_ms, finished_ms;
    int64_t rows, bytes;     /* written by the run */
    int64_t task;            /* queue offset of the current attempt's task, -1 if none */
    char error[CT_RUN_ERROR_MAX];
    char part[72];           /* the account it runs for (jobs.<name>.accounts), "" if none */
} ct_run;

/* Insert r (id, deliveries, started/finished, rows, bytes, error ignored);
 * sets r->id.  0 or -1. */
int ct_run_create(ct_catalog *c, ct_run *r, char *err, size_t errlen);
/* ct_run_create unless the latest run covering r's window (all of it) is
 * open (waiting, queued, running, retrying) or succeeded (unless
 * allow_succeeded): the look and the insert are one transaction, so two
 * callers at once cannot both create.  1 created, 0 refused (*existing is
 * that run), -1. */
int ct_run_create_unless(ct_catalog *c, ct_run *r, int allow_succeeded, ct_run *existing,
                         char *err, size_t errlen);
/* 1 found (fills *out), 0 no such run, -1 error. */
int ct_run_get(ct_catalog *c, int64_t id, ct_run *out, char *err, size_t errlen);

typedef struct ct_run_filter {
    const char *job;          /* NULL = every job */
    unsigned state_mask;      /* bit (1 << state); 0 = every state */
    int64_t window_from;      /* window_start >= (0 = no bound) */
    int64_t window_to;        /* window_start <  (0 = no bound) */
    const char *backfill;     /* NULL = any */
    int backfill_runs;        /* 0 any, 1 only runs of no backfill, 2 only backfill runs */
    int limit;                /* 0 = 1000; at most 100000 */
    int oldest_first;         /* order by window then id (else newest id first) */
} ct_run_filter;
/* Runs matching f; *out malloc'ed (free()).  Count or -1. */
int ct_runs(ct_catalog *c, const ct_run_filter *f, ct_run **out, char *err, size_t errlen);
/* Runs of `job` not yet finished (waiting, queued, running, retrying).  Count or -1. */
int ct_runs_active(ct_catalog *c, const char *job, char *err, size_t errlen);

/* Failed or dead runs that finished at or after since_ms and after
 * (after_ms, after_id) in (finished_ms, id) order — a page of at most limit
 * (1..10000) from where the last one ended; *out malloc'ed.  Count or -1. */
int ct_runs_failed_since(ct_catalog *c, int64_t since_ms, int64_t after_ms, int64_t after_id,
                         int limit, ct_run **out, char *err, size_t errlen);

/* ---- run logs: what each attempt of a run logged (runs.c) ---- */
#define CT_RUN_LOG_MAX ((size_t)64 << 10) /* bytes kept of one attempt's log */
#define CT_RUN_LOGS_KEPT 500              /* attempts' logs kept per job */
/* Keep text[0..n) (cut to CT_RUN_LOG_MAX, its end kept) as the log of
 * attempt `attempt` of run `run_id` of `job`, replacing one already there;
 * a job's logs older than its last CT_RUN_LOGS_KEPT go.  Not synced on its
 * own (a crash may lose a log, never a run).  0 / -1. */
int ct_run_log_put(ct_catalog *c, int64_t run_id, int attempt, const char *job, const char *text,
                   size_t n, char *err, size_t errlen);
/* fn(arg, attempt, created_ms, text, n) for each attempt's log of the run,
 * oldest first.  Count or -1. */
typedef void (*ct_run_log_fn)(void *arg, int attempt, int64_t created_ms, const char *text,
                              size_t n);
int ct_run_logs(ct_catalog *c, int64_t run_id, ct_run_log_fn fn, void *arg, char *err,
                size_t errlen);

/* fn(arg, job, state, count) for every (job, state) with runs.  0 / -1. */
typedef void (*ct_run_count_fn)(void *arg, const char *job, ct_run_state state, int64_t n);
int ct_run_counts(ct_catalog *c, ct_run_count_fn fn, void *arg, char *err, size_t errlen);

/* The latest run (highest id) of `job` for account `part` (NULL or "": a
 * job without accounts) whose window covers the window starting at
 * window_start: a run of that window (the same start), a serial backfill
 * run (iterations > 1) whose span contains it, or the run starting nearest
 * before it if its window reaches past window_start (a window the config
 * made finer since: the day's run covers each hour).  Index seeks,
 * whatever the history's size.  1 / 0 / -1. */
int ct_run_latest(ct_catalog *c, const char *job, const char *part, int64_t window_start,
                  ct_run *out, char *err, size_t errlen);

/* The scheduler's look: waiting and retrying runs due by now_ms, of
 * backfills (backfill_runs 1: oldest window first) or not (0: each job's
 * oldest window first, the jobs taking turns, so that one job's backlog
 * cannot push the others past the limit), at most limit (1..100000),
 * through the open-run index.  *out malloc'ed.  Count / -1. */
int ct_runs_due(ct_catalog *c, int64_t now_ms, int backfill_runs, int limit, ct_run **out,
                char *err, size_t errlen);
/* fn(arg, job, backfill ("" for none), n) for the queued and running runs,
 * by job and backfill.  0 / -1. */
typedef void (*ct_run_out_fn)(void *arg, const char *job, const char *backfill, int n);
int ct_runs_out(ct_catalog *c, ct_run_out_fn fn, void *arg, char *err, size_t errlen);
/* ct_run_queue for n runs in one transaction: queued[i] = 1 / 0 as
 * ct_run_queue would return.  0 / -1 (then none was queued). */
int ct_runs_queue(ct_catalog *c, const int64_t *ids, const int64_t *tasks, int n, int *queued,
                  char *err, size_t errlen);
/* Commits of this connection reach the disk lazily (1: synchronous =
 * NORMAL: a commit is safe from a crash of the process, and reaches the
 * disk with the next FULL commit of any connection or the next WAL
 * checkpoint; a power loss can undo it) or at once (0, the default).  Only
 * for changes whose loss is repaired by the protocol (a run's start: the
 * task is delivered again).  Outside a transaction.  0 / -1. */
int ct_lazy(ct_catalog *c, int lazy, char *err, size_t errlen);

/* waiting | retrying → queued with its task at queue offset `task`
 * (deliveries back to 0).  1 done, 0 the run was not waiting/retrying, -1. */
int ct_run_queue(ct_catalog *c, int64_t id, int64_t task, char *err, size_t errlen);
/* A worker takes the run for its delivery (task offset, delivery count):
 * allowed when the run is queued or running with that task and fewer
 * deliveries recorded (a re-delivery after a worker died).  Sets running,
 * worker, started_ms.  1 taken, 0 not (finished already, a newer attempt,
 * or another delivery holds it: ack the task and move on), -1 error. */
int ct_run_start(ct_catalog *c, int64_t id, int64_t task, int deliveries, const char *worker,
                 char *err, size_t errlen);

/* The runtime stops while delivery (task, deliveries) runs the run: back to
 * queued with its new task new_task, deliveries 0, the attempt unchanged.
 * 1 / 0 (not held by that delivery) / -1. */
int ct_run_requeue(ct_catalog *c, int64_t id, int64_t task, int deliveries, int64_t new_task,
                   char *err, size_t errlen);

/* How a run ends (or an attempt fails). */
typedef struct ct_run_io {
    const char *table;
    const char *partition; /* "" = the whole table */
    int write;             /* 0 read, 1 written */
} ct_run_io;
typedef struct ct_run_done {
    int64_t id, task;
    int deliveries;            /* the fencing token from ct_run_start */
    ct_run_state state;        /* succeeded, failed, retrying (due_ms set) */
    int64_t due_ms;            /* retrying: when to queue it again */
    int64_t rows, bytes;
    const char *error;         /* failed / retrying: why (NULL = "") */
    const ct_run_io *io;       /* lineage, recorded with succeeded */
    int nio;
    const char *outbox_stream; /* with succeeded: records for this stream, ... */
    const char *const *outbox; /* ... JSON objects, put in the outbox in the same */
    int noutbox;               /* transaction (ct_outbox_*) */
    const char *cursor;        /* with succeeded, non-NULL: the part's new cursor and */
    const char *source_schema; /* source columns (ct_part_state), set in the same
                                  transaction; NULL keeps what is there */
    const char *cursor_from;   /* with cursor, non-NULL: the cursor the run read from ("" =
                                  none was kept).  The commit fails (-1, "moved") when
                                  the part's cursor is another one by then: a second run
                                  of the part read the same rows and committed first, and
                                  this one's rows would be counted twice.  NULL: no check */
    const struct ct_view *view; /* with succeeded, non-NULL: put this view (ct_view_put's
                                   checks) in the same transaction, after the tables */
} ct_run_done;
/* What the runs of (job, part) keep between them (a snapshot's table): the
 * cursor an incremental read committed last and the source's columns as the
 * last run saw them. */
#define CT_CURSOR_MAX 1024
#define CT_SOURCE_SCHEMA_MAX (1 << 20)
typedef struct ct_part_state {
    int has_cursor;
    char cursor[CT_CURSOR_MAX];
    char *source_schema;       /* malloc'ed; NULL: none kept */
} ct_part_state;
/* 1 found (free with ct_part_state_free), 0 nothing kept yet, -1 with a
 * message. */
int ct_part_state_get(ct_catalog *c, const char *job, const char *part, ct_part_state *out,
                      char *err, size_t errlen);
void ct_part_state_free(ct_part_state *s); /* accepts a zeroed one */
/* The outbox: records a run's commit promises to a stream (a collect
 * run's files on <job>.files).  A run's records go in with its success, in
 * its transaction; the server appends them to their stream, in id order,
 * then marks each sent with its offset.  A crash between the two is found
 * by the reader of the stream: every record carries its outbox id
 * ("outbox_id"), and the records after the stream's last marked offset are
 * the ones to mark before sending more (ct_outbox_last_sent). */
#define CT_OUTBOX_MAX_RECORD 65536
typedef struct ct_outbox_rec {
    int64_t id;
    char stream[80];
    char *record; /* malloc'ed JSON object */
} ct_outbox_rec;
/* The oldest `max` unsent records of streams other than skip[0..nskip)
 * (*out malloc'ed; ct_outbox_free).  Count or -1. */
int ct_outbox_pending(ct_catalog *c, int max, const char *const *skip, int nskip,
                      ct_outbox_rec **out, char *err, size_t errlen);
void ct_outbox_free(ct_outbox_rec *v, int n); /* accepts NULL */
/* The unsent record `id` (out->record malloc'ed; free it): 1, 0 when there
 * is none (never added, already sent, or pruned), -1. */
int ct_outbox_get(ct_catalog *c, int64_t id, ct_outbox_rec *out, char *err, size_t errlen);
/* Mark ids[i] sent at offsets[i], in one transaction; sent records older
 * than a day are pruned.  0 or -1. */
int ct_outbox_mark(ct_catalog *c, const int64_t *ids, const uint64_t *offsets, int n, char *err,
                   size_t errlen);
/* The highest offset marked sent on `stream`: 1 (*offset set), 0 none, -1. */
int ct_outbox_last_sent(ct_catalog *c, const char *stream, uint64_t *offset, char *err,
                        size_t errlen);

/* Finish (or fail an attempt of) a run held by d's delivery.  1 done, 0
 * fenced out (another delivery holds it, or it finished), -1 error. */
int ct_run_finish(ct_catalog *c, const ct_run_done *d, char *err, size_t errlen);
/* ct_run_finish of d[0..n) in one transaction (one fsync for all: the
 * workers' group commit): held[i] as ct_run_finish would return, errs[i]
 * (errlen bytes each) its message.  A statement error rolls the batch
 * back and finishes each run in a transaction of its own.  0, or -1 when
 * the batch could not be committed (every held[i] -1). */
int ct_runs_finish(ct_catalog *c, const ct_run_done *const *d, int n, int *held, char **errs,
                   size_t errlen);
/* Mark the run whose current task is `task` dead with `why` (the queue
 * dead-lettered it); 1 / 0 (no open run has that task) / -1. */
int ct_run_dead(ct_catalog *c, int64_t task, const char *why, char *err, size_t errlen);
/* Scheduler moves that are not a worker's: a waiting/retrying/queued run to
 * failed (dependency failed, cancelled) with `why`.  1 / 0 / -1. */
int ct_run_fail(ct_catalog *c, int64_t id, const char *why, char *err, size_t errlen);

/* The latest succeeded run that wrote `table` (its producing job): 1 (fills
 * *out) / 0 none / -1. */
int ct_run_last_writer(ct_catalog *c, const char *table, ct_run *out, char *err, size_t errlen);

/* Lineage of a run: fn for each table/partition it read or wrote.  0 / -1. */
typedef void (*ct_run_io_fn)(void *arg, const char *table, const char *partition, int write);
int ct_run_lineage(ct_catalog *c, int64_t id, ct_run_io_fn fn, void *arg, char *err,
                   size_t errlen);

/* Load history (kind load, loads.c): the lake files a successful load of
 * (job, window) sent, as text ("12,15,20": catalog file ids, ascending).
 * Record: 0 / -1.  Last: 1 (*files malloc'ed, *run_id may be NULL), 0 none,
 * -1. */
#define CT_LOAD_FILES_MAX (4 << 20)
int ct_load_record(ct_catalog *c, const char *job, int64_t window_start, int64_t run_id,
                   const char *files, char *err, size_t errlen);
int ct_load_last(ct_catalog *c, const char *job, int64_t window_start, char **files,
                 int64_t *run_id, char *err, size_t errlen);

/* The scheduler's position per job: the last schedule fire time (µs)
 * already turned into runs.  *us = INT64_MIN when none.  0 / -1. */
int ct_job_last_fire(ct_catalog *c, const char *job, int64_t *us, char *err, size_t errlen);
int ct_job_set_last_fire(ct_catalog *c, const char *job, int64_t us, char *err, size_t errlen);

/* Register backfill `name`: 1 created, 0 a backfill of that name exists
 * (nothing changed), -1 error. */
int ct_backfill_create(ct_catalog *c, const char *name, const char *job, int64_t from,
                       int64_t to, int parallel, char *err, size_t errlen);
/* ---- a job's accounts from SQL (jobs.<name>.accounts.sql) ---- */
#define CT_ACCOUNT_ARGS_MAX 4096 /* bytes of one account's other columns (JSON) */
/* Replace the accounts of `job` by ids[0..n) with args[i] (a JSON object of
 * the account's other columns, at most CT_ACCOUNT_ARGS_MAX), in one
 * transaction.  0 / -1. */
int ct_job_accounts_set(ct_catalog *c, const char *job, const char *const *ids,
                        const char *const *args, int n, char *err, size_t errlen);
/* The accounts of `job`, by id: *ids malloc'ed (free each and the array).
 * Count / -1. */
int ct_job_accounts(ct_catalog *c, const char *job, char ***ids, char *err, size_t errlen);
/* The args of one account into out[cap]: 1 found, 0 not, -1. */
int ct_job_account_args(ct_catalog *c, const char *job, const char *account, char *out,
                        size_t cap, char *err, size_t errlen);

/* Register backfill `name` and create its runs (runs[i].backfill is set
 * to name; with parallel > 0 a window whose latest run is open is skipped;
 * a serial backfill's one run is always created), all in one
 * transaction: a crash leaves the whole backfill or none of it.  *created
 * (may be NULL) = runs created.  1 done, 0 a backfill of that name exists
 * (nothing changed), -1 error. */
int ct_backfill_add(ct_catalog *c, const char *name, const char *job, int64_t from, int64_t to,
                    int parallel, ct_run *runs, int n, int *created, char *err, size_t errlen);
/* The `parallel` of backfill `name`: 1 found (*parallel set), 0 none, -1. */
int ct_backfill_parallel(ct_catalog *c, const char *name, int *parallel, char *err,
                         size_t errlen);

/* ---- descriptions (describe.c): `sluice tables/describe --json`, GET /v1/tables ---- */

/* RFC 3339 UTC of wall-clock ms, with milliseconds when non-zero; out: 40 bytes. */
void ct_ms_text(char *out, int64_t ms);
/* Every table as a JSON array (name, files, rows, bytes, partitions, min/max
 * partition, version, stream, location, partition_columns, created,
 * last_commit), one table a line, then the views (ct_view_json), into out.
 * c may be NULL (no catalog yet: "[]").  0 or -1. */
int ct_tables_json(ct_catalog *c, ut_buf *out, char *err, size_t errlen);

typedef struct ct_part_sum {
    const char *partition; /* into the description's files */
    int64_t files, rows, bytes;
} ct_part_sum;

/* One table with what describes it; filled by ct_describe. */
typedef struct ct_description {
    ct_table t;
    ct_schema_version *history;
    int nhistory;
    ct_file *files;        /* live, sorted by partition */
    int nfiles;
    ct_part_sum *parts;
    int nparts;
    int has_producer;      /* the last succeeded run that wrote it */
    ct_run producer;
    char *reads;           /* the tables that run read: "t1_a, t1_b" ("" if none) */
} ct_description;

/* Load table `name` (c may be NULL): 1 found, 0 not found, -1
 * with a message.  Free with ct_description_free either way. */
int ct_describe(ct_catalog *c, const char *name, ct_description *d, char *err, size_t errlen);
void ct_description_free(ct_description *d); /* accepts NULL and a zeroed one */
/* One JSON object and a newline: name, location, partition_columns, stream,
 * created, version, columns, history, partitions, the first max_files files
 * (0 none, -1 all; "files_total" when cut) and producer (null or {job, run,
 * state, reads}). */
void ct_description_json(const ct_description *d, int max_files, ut_buf *out);

/* ---- views (views.c) ---------------------------------------------------------------
 * A view is a name over ONE lake table, kept by the job that owns it: a
 * snapshot's `merge` view, the latest row per key of an incrementally
 * appended table,
 *
 *   SELECT <the table's data columns> FROM (SELECT *, row_number() OVER
 *     (PARTITION BY <key> ORDER BY <order> DESC NULLS LAST, <partitions>
 *     DESC, <the other columns>) AS _sluice_rn FROM <base>) WHERE _sluice_rn = 1
 *
 * (ties on <order> go to the later partition, then to the smallest row, so
 * every engine picks the same one).  Names follow the table rule and are
 * compared without ASCII case among views and tables: a view may not have a
 * table's name, nor a table a view's.  The stored SQL (SQLite's, identifiers
 * double-quoted) lists the base table's columns as of the view's last put:
 * the owner puts it again with every commit that may change them. */
#define CT_VIEW_MAX_KEY 16

typedef struct ct_view {
    char name[128];
    char base[128];              /* the lake table */
    char job[65];                /* the owner */
    int nkey;
    char key[CT_VIEW_MAX_KEY][256]; /* columns of base, 1..CT_VIEW_MAX_KEY */
    char order[256];             /* a column of base: the latest row has its largest value */
    char *sql;                   /* SQLite's text (malloc'ed when read; ignored by put) */
    int64_t created_ms, updated_ms;
} ct_view;

/* Create or update view v (sql ignored: made from the base table's columns
 * now), in one transaction.  Refused (-1 with a message naming the view):
 * a bad name, a table of that name (any case), a view of that name another
 * job or another base table has, key or order columns base lacks.  The
 * job's view of the same base under another name is dropped (renamed in
 * the config).  0 / -1. */
int ct_view_put(ct_catalog *c, const ct_view *v, char *err, size_t errlen);
/* The view named name (ASCII case ignored): 1 (fills *out; ct_view_free),
 * 0 none, -1. */
int ct_view_get(ct_catalog *c, const char *name, ct_view *out, char *err, size_t errlen);
/* Every view, sorted by name: *out malloc'ed (ct_views_free).  Count / -1. */
int ct_views(ct_catalog *c, ct_view **out, char *err, size_t errlen);
/* One view as JSON: name, "kind":"view", base, job, key, order, sql. */
void ct_view_json(ut_buf *b, const ct_view *v);
void ct_view_free(ct_view *v);           /* frees v->sql; accepts a zeroed one */
void ct_views_free(ct_view *v, int n);   /* accepts NULL */
/* The view's SELECT in `dialect` ("sqlite", "trino", "athena", "spark",
 * "duckdb") over base's columns now, the base table qualified by schema
 * (NULL: not), malloc'ed; with create, a whole "CREATE OR REPLACE VIEW
 * <schema.name> AS ...;" statement.  NULL with a message (an unknown dialect,
 * a key or order column base lacks). */
char *ct_view_sql(const ct_view *v, const ct_table *base, const char *dialect,
                  const char *schema, int create, char *err, size_t errlen);

/* ---- DDL for other engines (`sluice ddl`) -------------------------------------- */

/* The SQL that makes an engine read table t in place: dialect "trino" (Hive
 * connector), "athena", "spark" or "duckdb".  location overrides
 * t->location (NULL = use it); schema qualifies the table name (NULL =
 * unqualified).  st (may be NULL) gives the first partition for Athena's
 * partition projection range.  Returns a malloc'ed string, or NULL with a
 * message (unknown dialect, no columns yet, Athena without an s3:// location). */
char *ct_ddl(const ct_table *t, const struct ct_table_stats *st, const char *dialect,
             const char *location, const char *schema, char *err, size_t errlen);


/* ---- the console's objects (console.c) ---------------------------------------
 * Saved queries and dashboards: a name and a JSON spec (the server checks
 * it; the catalog stores the text) with a version every write increments.
 * An update or delete names the version it read: another write in between
 * makes it CT_OBJ_STALE (nothing changed) — optimistic locking. */
typedef enum ct_obj_kind { CT_OBJ_SAVED_QUERY, CT_OBJ_DASHBOARD } ct_obj_kind;
#define CT_OBJ_NAME_MAX 200
#define CT_OBJ_SPEC_MAX (256 * 1024)
#define CT_OBJS_MAX 10000 /* a listing returns at most this many */
#define CT_OBJ_NOTFOUND (-2)
#define CT_OBJ_STALE (-3)
typedef struct ct_obj {
    int64_t id, version;
    char *name, *spec;
    int64_t created_ms, updated_ms;
} ct_obj;
/* "saved query" / "dashboard", for messages. */
const char *ct_obj_kind_name(ct_obj_kind k);
/* A new object at version 1: its id, or -1 with a message. */
int64_t ct_obj_create(ct_catalog *c, ct_obj_kind k, const char *name, const char *spec,
                      char *err, size_t errlen);
/* Replace object id's name and spec if it is at version `expect`: 0 (*cur:
 * the new version), CT_OBJ_NOTFOUND, CT_OBJ_STALE (*cur: the version it
 * is at), or -1; each with a message. */
int ct_obj_update(ct_catalog *c, ct_obj_kind k, int64_t id, int64_t expect, const char *name,
                  const char *spec, int64_t *cur, char *err, size_t errlen);
/* Delete object id if it is at version `expect`: as ct_obj_update. */
int ct_obj_delete(ct_catalog *c, ct_obj_kind k, int64_t id, int64_t expect, int64_t *cur,
                  char *err, size_t errlen);
/* Every object of kind k sorted by name (id 0), or the one with that id:
 * *out malloc'ed (ct_objs_free).  The count, or -1. */
int ct_objs(ct_catalog *c, ct_obj_kind k, int64_t id, ct_obj **out, char *err, size_t errlen);
void ct_objs_free(ct_obj *v, int n); /* accepts NULL */

#endif
