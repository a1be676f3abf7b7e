/* sql — SQL over the lake: SQLite as the engine, lake tables, the journal
 * tail and plain files as virtual tables.
 *
 * Prefix: sq_.  Cross-file internals: sq__ (sq_int.h).  See docs/sql.md.
 *
 *   sq_query(sql) ──► table functions rewritten (read_parquet('x') → a temp vtab)
 *                 ──► CREATE TABLE t AS / INSERT INTO t SELECT intercepted (lake writes)
 *                 ──► sqlite3_prepare / step under the authorizer, the time limit
 *                     and the memory limit ──► sq_sink callbacks, one row at a time
 *
 * Every catalog table is a virtual table in the attached schema "lake" (so
 * both `t1_events` and `lake.t1_events` name it), with the partition columns
 * (dt, hr) as TEXT.  Scans push down projection, partition pruning (=, <, <=,
 * >, >=, IN on partition columns), file skipping by catalog min/max,
 * row-group skipping by Parquet statistics, and LIMIT.  A table fed by a
 * stream also returns the journal tail (records acknowledged but not yet in
 * a committed file).
 *
 * Value mapping: int64/int32 → INTEGER, double/float → REAL, string → TEXT,
 * bool → INTEGER 0/1, timestamp → TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (always
 * six fraction digits, so text order is time order), date → TEXT
 * 'YYYY-MM-DD'.
 *
 * Temp tables live in memory (under memory_limit when one is set) and may
 * hold at most SQ_TEMP_MAX_BYTES (1 GiB; half the memory limit if that is
 * less); a read_only engine may not create them at all.  Functions that
 * leak pointers (fts3_tokenizer) and load_extension are refused.
 *
 * Thread safety: an engine is used by one thread at a time.
 */
#ifndef SLUICE_SQL_H
#define SLUICE_SQL_H

#include "store/store.h"
#include "util/util.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sq_engine sq_engine;

/* Event-time options of a stream's tail (the sink's config); streams not
 * listed use "event_time" / auto. */
typedef struct sq_tail_conf {
    const char *stream;
    const char *event_time_field; /* "" = ingest time */
    int time_format;              /* lk_time_format */
    int case_insensitive;         /* the sink's keys ignore ASCII case */
} sq_tail_conf;

typedef struct sq_opts {
    const char *data_dir;      /* journal under <data_dir>/streams; NULL = no tail */
    const char *catalog_path;  /* NULL = <data_dir>/catalog.db */
    st_store *store;           /* lake store for s3:// locations (not owned); may be NULL */
    const char *tmp_dir;       /* scratch for CREATE TABLE AS files; NULL = <data_dir>/lake-tmp */
    int read_only;             /* refuse CREATE TABLE AS / INSERT INTO lake tables */
    int no_tail;               /* do not read the journal tail */
    int no_files;              /* refuse read_parquet / read_csv / read_ndjson */
    int64_t timeout_ms;        /* per sq_query; 0 = none */
    int64_t memory_limit;      /* bytes of SQLite heap (process-wide, see docs); 0 = none */
    const sq_tail_conf *tails;
    int ntails;
    int agg_path;              /* the aggregate fast path: SQ_PATH_AUTO / _FAST / _SQLITE */
    int threads;               /* its scan threads (config sql.threads); 0 = all cores */
    int exact_decimals;        /* DECIMAL columns read as their exact text (a load sends them
                                  to a warehouse's numeric digit for digit); else as REAL */
} sq_opts;

/* Which path runs an aggregate statement of the fast path's shape (docs/sql.md
 * "The aggregate fast path"): AUTO and FAST take it whenever the statement
 * qualifies (FAST is for tests and --explain: the same choice), SQLITE never. */
enum { SQ_PATH_AUTO = 0, SQ_PATH_FAST = 1, SQ_PATH_SQLITE = 2 };
/* Parse "auto" / "fast" / "sqlite": 0 and *out, or -1. */
int sq_path_parse(const char *s, int *out);
/* Which path the last sq_query's statement took and why ("fast: ...",
 * "sqlite: fast path refused: ..."); "" when it was not a SELECT. */
const char *sq_path_note(const sq_engine *e);

/* Open an engine: an in-memory SQLite database with the catalog's tables
 * attached as schema "lake".  NULL with a message (catalog cannot be opened,
 * a table's columns cannot be declared). */
sq_engine *sq_open(const sq_opts *o, char *err, size_t errlen);
/* Close and free.  Accepts NULL. */
void sq_close(sq_engine *e);

/* The SQLite handle, so other modules (PostgreSQL federation) can register
 * their own modules and virtual tables.  The authorizer applies only while
 * sq_query runs a user statement. */
sqlite3 *sq_db(sq_engine *e);

/* Attach the SQLite database file `path` as schema `name` (an identifier);
 * statements cannot write to it (the authorizer).  The file must exist.
 * 0 or -1 with a message. */
int sq_attach_sqlite(sq_engine *e, const char *name, const char *path, char *err, size_t errlen);

/* Re-read the catalog: tables created or whose schema changed since the last
 * refresh are (re)declared.  sq_query calls it first.  0 or -1. */
int sq_refresh(sq_engine *e, char *err, size_t errlen);

/* Where rows go.  header is called once per statement that returns columns,
 * before its first row (also when it has none); row once per row; both may
 * read the statement with sqlite3_column_*.  A non-zero return stops the
 * query (sq_query then returns -1 with "stopped by the output").  Either may
 * be NULL. */
typedef struct sq_sink {
    void *ctx;
    int (*header)(void *ctx, sqlite3_stmt *st);
    int (*row)(void *ctx, sqlite3_stmt *st);
} sq_sink;

/* Run every statement of sql, streaming rows to out (may be NULL).  Returns
 * the number of rows delivered, or -1 with a message: SQLite's message with
 * "at offset N" where SQLite reports one, "query timed out after N ms",
 * "query exceeded the memory limit of N bytes", or a lake read error naming
 * the table and file. */
int64_t sq_query(sq_engine *e, const char *sql, const sq_sink *out, char *err, size_t errlen);
/* A job's write of a lake table (src/jobs): the SELECT's rows replace what
 * the run covers, in ONE catalog transaction that also finishes the run. */
typedef enum sq_write_mode {
    SQ_WRITE_REPLACE_PARTITIONS, /* the live files of `partitions` (insert-overwrite) */
    SQ_WRITE_REPLACE,            /* every live file of the table */
    SQ_WRITE_APPEND              /* nothing */
} sq_write_mode;

struct ct_run_done;

typedef struct sq_write_spec {
    const char *table;
    const char *select;            /* one SELECT (table functions allowed) */
    sq_write_mode mode;
    const char *partition_by;      /* a new table's partition columns: "dt,hr", "dt", "" */
    const char *const *default_cols;  /* partition columns the SELECT may leave out ... */
    const char *const *default_vals;  /* ... and their values (the run's window) */
    int ndefaults;
    const char *const *partitions; /* REPLACE_PARTITIONS: partition paths or prefixes
                                      ("dt=2024-05-01/hr=03", "dt=2024-05-01", "dt=2024-05-"):
                                      every row must fall in one */
    int npartitions;
    struct ct_run_done *run;       /* finished in the same transaction (may be NULL); its
                                      rows and bytes are increased by this write's first */
} sq_write_spec;

/* Run w: the rows written (0 is fine: the partitions are then emptied), or
 * -1 with a message naming the table (tables a stream lands in are refused;
 * columns the table lacks are an error) and sq_error_kind set.  A missing
 * table is created in the transaction that commits the rows; when another
 * writer (another run of the same job) created it meanwhile, the same table
 * (partition columns, column names and types) is written as it is, and a
 * different one is UT_EEXISTS naming both schemas.  The files replaced are
 * the live files of the partitions (or table) as that transaction sees them. */
int64_t sq_write(sq_engine *e, const sq_write_spec *w, char *err, size_t errlen);

/* What kind of failure the last sq_query's (or sq_write's) was (to pick an
 * HTTP status): UT_ETIMEOUT (time limit), UT_EDENIED (the authorizer, a
 * read-only engine), UT_ETOOBIG (memory limit, temp storage cap), UT_EEXISTS
 * (CREATE TABLE AS of a table that exists; sq_write: see above), UT_EINVAL
 * otherwise. */
ut_errkind sq_error_kind(const sq_engine *e);

/* What the scans of the last sq_query read, summed over lake tables, vs the
 * totals of the tables they scanned. */
typedef struct sq_stats {
    int64_t scans;                          /* xFilter calls on lake tables */
    int64_t partitions_total, partitions_read;
    int64_t files_total, files_read;
    int64_t row_groups_total, row_groups_read; /* total: of the files opened */
    int64_t bytes_total, bytes_read;        /* total: file bytes; read: column chunks decoded */
    int64_t rows_read;                      /* rows produced from files */
    int64_t tail_records;                   /* rows produced from the journal tail */
    int limit_stops;                        /* scans given a LIMIT (they stop after it) */
} sq_stats;

void sq_get_stats(const sq_engine *e, sq_stats *out);

/* Values for named parameters (`:name` in the SQL), bound by the next
 * sq_query in each of its statements — never pasted into the text.  A text
 * value binds as TEXT, a number as INTEGER or REAL.  While any are set, a
 * statement naming a parameter that has no value, or using `?`, fails.  The
 * array is not copied: it must live until sq_query returns; n = 0 clears. */
typedef struct sq_param {
    const char *name;          /* without the ':' */
    enum { SQ_PARAM_TEXT, SQ_PARAM_INT, SQ_PARAM_REAL } type;
    const char *text;
    int64_t i;
    double d;
} sq_param;
void sq_set_params(sq_engine *e, const sq_param *p, int n);

#endif
