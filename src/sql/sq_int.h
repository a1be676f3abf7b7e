/* sql internals (sq__ prefix). */
#ifndef SLUICE_SQL_INT_H
#define SLUICE_SQL_INT_H

#include "catalog/catalog.h"
#include "journal/journal.h"
#include "parquet/parquet.h"
#include "sql/sql.h"
#include "util/util.h"

#define SQ_MAX_TABLES 10000
#define SQ_MAX_STREAMS 256
#define SQ_MAX_CONS 64        /* pushed-down constraints per scan */
#define SQ_MAX_IN 1024        /* values of one IN list used for pruning */
#define SQ_MAX_FILE_BYTES (4ULL << 30) /* an S3 object read into memory */
#define SQ_MAX_GLOB 100000    /* files of one read_parquet glob */
#define SQ_MAX_FILE_FUNCS 64  /* read_parquet/read_csv/... calls in one query */
#define SQ_MAX_TYPES_ARG (CT_MAX_COLUMNS + 64) /* read_ndjson(p, n, 'types'): bytes after the path */
/* The rows read_csv(path, 0[, 'types']) / read_ndjson(path, 0[, 'types'])
 * would give (vtab_files.c; types NULL: inferred from every record), read
 * without SQLite: sq_write's direct path for such a SELECT *.  Columns: names, declared types (SQLITE_INTEGER /
 * SQLITE_FLOAT / SQLITE_TEXT).  next: 1 a row, 0 the end, -1 with a
 * message.  value: the current row's column i as its SQLITE_* type
 * (SQLITE_NULL too), *iv / *dv / *s of *n bytes (valid until next). */
typedef struct sq__frows sq__frows;
sq__frows *sq__frows_open(const char *path, int ndjson, const char *types, char *err,
                          size_t errlen);
void sq__frows_close(sq__frows *r); /* accepts NULL */
int sq__frows_ncols(const sq__frows *r);
const char *sq__frows_name(const sq__frows *r, int i);
int sq__frows_decl(const sq__frows *r, int i);
int sq__frows_next(sq__frows *r, char *err, size_t errlen);
int sq__frows_value(const sq__frows *r, int i, int64_t *iv, double *dv, const void **s,
                    size_t *n);

#define SQ_TEMP_MAX_BYTES (1LL << 30) /* temp tables of one engine (and half the memory limit) */

typedef struct sq_stream_ent {
    char name[72];
    jr_stream *s; /* NULL: no such stream */
} sq_stream_ent;

typedef struct sq_known {
    char name[128];
    int version;
} sq_known;

typedef struct sq_known_view {
    char name[128];
    uint64_t hash; /* of its text */
} sq_known_view;

struct sq_engine {
    sqlite3 *db;
    ct_catalog *cat;
    sq_opts o;
    char data_dir[1024], catalog_path[1024], tmp_dir[1024];
    sq_tail_conf *tails;
    int ntails;
    sq_stream_ent streams[SQ_MAX_STREAMS];
    int nstreams;
    sq_known *known; /* tables declared in "lake" */
    int nknown;
    sq_known_view *views; /* the catalog's views, TEMP views (views.c) */
    int nviews;
    int in_user;      /* authorizer active */
    int64_t deadline_ns;
    int timed_out, nfile_tabs;
    ut_errkind err_kind; /* of the last sq_query failure (sq_error_kind) */
    int denied;          /* the authorizer refused something in this statement */
    sq_stats stats;
    const sq_param *params; /* sq_set_params: bound by every sq_query statement */
    int nparams;
    char path_note[512]; /* sq_path_note */
    int agg_threads;     /* threads the last fast-path statement used */
};

/* views.c: make the catalog's views (TEMP views) as it has them now.  0 / -1. */
int sq__views_refresh(sq_engine *e, char *err, size_t errlen);
/* views.c: is name (any case) one of them? */
int sq__is_view(const sq_engine *e, const char *name);

/* lg_warn once per process for a given message (engine.c). */
void sq__warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- values (value.c) --------------------------------------------------------- */

/* A value as SQLite sees it: NULL < numbers < text (< blob). */
typedef struct sq_val {
    int t;          /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT */
    int64_t i;
    double d;
    const char *s;  /* text (not NUL-terminated) */
    size_t n;
    char buf[48];   /* owns short texts (formatted timestamps, numbers) */
} sq_val;

/* Fixed-width RFC 3339 timestamp text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' into out
 * (40 bytes); returns the length. */
int sq__ts_text(char *out, int64_t us);
/* SQLite's ordering of a and b (<0, 0, >0), BINARY collation. */
int sq__cmp(const sq_val *a, const sq_val *b);
/* Does `x op v` hold for op one of SQLITE_INDEX_CONSTRAINT_EQ/LT/LE/GT/GE? */
int sq__op_holds(int op, int c);
/* May a column whose values lie in [min, max] satisfy `col op v`?  1 also when
 * the classes differ (nothing proven). */
int sq__range_may(const sq_val *min, const sq_val *max, int op, const sq_val *v);
/* v (from xFilter) as the class a column of type t compares it in: numbers for
 * numeric columns, text for text columns; constant = the value came from a
 * literal (no affinity of its own), so the column's affinity applies.
 * Returns 0, or -1 when it cannot be used for pruning. */
int sq__val_for(ct_type t, int constant, sqlite3_value *v, sq_val *out);
/* Catalog stats text of a column of type t as a value (-1 if unusable). */
int sq__stat_val(ct_type t, const char *text, sq_val *out);
/* Parquet chunk statistic value of a column (pq type pt) as the value the
 * table's type t shows.  -1 if unusable. */
int sq__pq_val(ct_type t, pq_type pt, const pq_value *pv, sq_val *out);
/* Value i of a decoded column of Parquet type pt as the table type t shows
 * it (what sq__result_col gives; texts may point into c or out->buf; a NaN
 * is NULL as in SQLite). */
void sq__val_col(ct_type t, pq_type pt, const pq_col *c, int64_t i, sq_val *out);
/* Set the SQLite result to v. */
void sq__result_val(sqlite3_context *ctx, const sq_val *v);
/* Set the SQLite result for value i of a decoded column of Parquet type pt,
 * converted to the table type t. */
void sq__result_col(sqlite3_context *ctx, ct_type t, pq_type pt, const pq_col *c, int64_t i);
/* The same for value i of a DECIMAL column read exactly
 * (pq_reader_read_decimal) at `scale`: its exact text (a decimal in a
 * column widened to string). */
void sq__result_decimal(sqlite3_context *ctx, const pq_col *c, int64_t i, int scale);
/* Wall-clock timestamps whose text is four-digit years (0000-01-01 ..
 * 9999-12-31T23:59:59.999999): only those prune, their texts sort like them. */
#define SQ_NTZ_MIN_US (-62167219200000000LL)
#define SQ_NTZ_MAX_US 253402300799999999LL
/* SQL declared type of a catalog type. */
const char *sq__decl(ct_type t);
/* Catalog type of a Parquet type (0: not supported). */
ct_type sq__ct_of_pq(pq_type t);
/* Append name as a quoted SQL identifier. */
void sq__ident(ut_buf *b, const char *name);

/* ---- lake and parquet scans (vtab_lake.c) ------------------------------------- */

/* Register the modules "sluice_lake" and "sluice_parquet". */
int sq__lake_register(sq_engine *e);
/* sum, total and avg without int64 overflow, doubles compensated (sum.c). */
int sq__sum_register(sqlite3 *db);

/* Row groups of a lake table for the aggregate fast path (agg_exec.c), with
 * the lake scan's own pruning, snapshot and value mapping.  open: NULL with
 * a message (not a lake table).  cons: a constraint `col op v` (v a literal;
 * op SQLITE_INDEX_CONSTRAINT_EQ/LT/LE/GT/GE) or `col IN (in[0..nin))` used to
 * prune (-1: too many).  start: lists the files; *has_tail = the journal tail
 * has records.  next_rg: loads the next row group that may match: 1 (*rows
 * set), 0 the end, -1 with a message.  val: column i of row `row` as the
 * lake table shows it (0), or -1 for a value only the SQLite path renders
 * (a widened timestamp's record text, a decimal's exact text). */
typedef struct sq__lscan sq__lscan;
sq__lscan *sq__lscan_open(sq_engine *e, const char *table, char *err, size_t errlen);
void sq__lscan_close(sq__lscan *s); /* accepts NULL */
int sq__lscan_ncols(const sq__lscan *s);
const char *sq__lscan_col(const sq__lscan *s, int i, ct_type *type, int *part);
int sq__lscan_cons(sq__lscan *s, int col, int op, sqlite3_value *v, sqlite3_value **in, int nin);
int sq__lscan_start(sq__lscan *s, uint64_t used, int *has_tail, char *err, size_t errlen);
int sq__lscan_next_rg(sq__lscan *s, int64_t *rows, char *err, size_t errlen);
int sq__lscan_val(const sq__lscan *s, int i, int64_t row, sq_val *out);
/* After start, for threads: a fork reads files the parent's forks have not
 * taken yet (each file by one fork; the parent itself must not read), its
 * own stats; join adds them to the engine's and closes the fork.  can_fork:
 * 0 for a table in S3 (one thread). */
int sq__lscan_can_fork(const sq__lscan *s);
/* Column i of row `row` is a (non-null) UTC timestamp the table shows as its
 * fixed-width text (sq__ts_text): 1 and its µs, else 0. */
int sq__lscan_ts(const sq__lscan *s, int i, int64_t row, int64_t *us);
sq__lscan *sq__lscan_fork(sq__lscan *s);
void sq__lscan_join(sq__lscan *s, sq__lscan *fork);

/* ---- the journal tail (tail.c) ------------------------------------------------ */

typedef struct sq_tail sq_tail;
typedef struct sq_tail_col {
    const char *name;
    ct_type type;
    int part;      /* 0 data, 1 dt, 2 hr */
    int ingest;    /* _ingest_ts */
} sq_tail_col;

/* The open stream `name` (cached; read-only opener), or NULL if it has no
 * journal. */
jr_stream *sq__stream(sq_engine *e, const char *name);
/* Read records [from, to) of stream s, shredded into cols[0..n) of a table
 * partitioned by part ("dt,hr", "dt", "").  NULL on allocation only. */
sq_tail *sq__tail_open(sq_engine *e, jr_stream *s, const char *stream, uint64_t from,
                       uint64_t to, const sq_tail_col *cols, int ncols, const char *part);
/* Next record: 1, 0 at the end, -1 with a message. */
int sq__tail_next(sq_tail *t, char *err, size_t errlen);
/* Partition text of the current record ("dt=..../hr=..") */
const char *sq__tail_part(const sq_tail *t);
/* Result for column i of the current record. */
void sq__tail_result(sq_tail *t, sqlite3_context *ctx, int i);
void sq__tail_close(sq_tail *t);

/* ---- text files (vtab_files.c) ------------------------------------------------ */

int sq__files_register(sq_engine *e);

/* ---- the authorizer and limits (auth.c) --------------------------------------- */

void sq__auth_install(sq_engine *e);
/* Turn the time limit on for the next statement (0 = none). */
void sq__limits_start(sq_engine *e);

/* ---- table functions (rewrite.c) ---------------------------------------------- */

/* Replace read_parquet('x') / read_csv('x') / read_ndjson('x') in sql with
 * temp virtual tables created on e (at most SQ_MAX_FILE_FUNCS; the caller
 * drops them).  Returns a malloc'ed statement text or NULL with a message. */
char *sq__rewrite(sq_engine *e, const char *sql, char *err, size_t errlen);
/* sql with " NULLS LAST" after each ascending ORDER BY term that does not
 * say NULLS FIRST/LAST (nulls.c); NULL when nothing changes.  Free it. */
char *sq__nulls_last(const char *sql);

/* ---- lake writes (ctas.c) ----------------------------------------------------- */

/* If sql is CREATE TABLE <t> AS SELECT / INSERT INTO <t> SELECT on a lake
 * table, run it: 1 done (*rows set), 0 not such a statement, -1 error. */
int sq__ctas(sq_engine *e, const char *sql, int64_t *rows, char *err, size_t errlen);

#endif
