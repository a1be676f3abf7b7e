/* jobs: kind load internals shared by load_*.c and kind_load.c (see
 * docs/warehouse.md). */
#ifndef SLUICE_JB_LOAD_H
#define SLUICE_JB_LOAD_H

#include "jobs/jb_rt.h"
#include "pgfed/pgfed.h"
#include "wh/wh.h"

#define JB_LOAD_FLUSH (1u << 20) /* COPY data sent to the server in chunks of this size */
#define JB_LOAD_ERRORS_TABLE "_load_errors" /* rows a target refused (max_errors) */

/* A column of the target as it is (information_schema.columns). */
typedef struct jb_tcol {
    char name[WH_IDENT_MAX + 1];
    char type[64];
} jb_tcol;

typedef struct jb_my jb_my; /* a MySQL target's session (export_my.c) */

/* One load (or export) while it runs. */
typedef struct jb_load {
    jb_task_ctx *c;
    const cf_job *j;
    ct_table src;               /* the lake table */
    ct_column wcol;             /* the window column's lake type */
    char wname[256];            /* its name in the lake table */
    char lo[96], hi[96];        /* the window in the column's text form */
    ut_buf select;              /* the SELECT over the lake */
    char *files;                /* the window's lake file ids ("3,9,12") */
    ct_file *wfiles;            /* those files */
    int nwfiles;
    pgf_session *pg;            /* the target: PostgreSQL, or ... */
    jb_my *my;                  /* ... MySQL (kind export) */
    sq_engine *eng;             /* the lake's SQL engine given (sluice export --sample), or
                                   NULL: one is opened for the run */
    int64_t sample;             /* > 0: only the first this many rows (--sample) */
    jb_tcol *tcols;             /* the target's columns (none: no table yet) */
    int ntcols;
    wh_col *cols;               /* what is loaded, in SELECT order */
    char (*names)[WH_IDENT_MAX + 1];
    int ncols;
    wh_plan plan;
    char wtarget[WH_IDENT_MAX + 1]; /* the window column's target name */
    ut_buf out;                 /* COPY data not sent yet */
    int my_infile;              /* MySQL: rows as LOAD DATA text lines (export_my.c), not
                                   INSERT tuples */
    unsigned char *typed;       /* per column: its type is known (not from the first row) */
    int started;                /* the DDL ran, COPY started */
    int copying;                /* COPY IN started */
    int64_t rows;
    unsigned char *cls;         /* per column: wh_class of its existing target column */
    int64_t nbad;               /* rows a target column refused */
    char first_bad[400];        /* the first one's reason */
    ut_buf bad;                 /* NDJSON of the first max_errors of them */
    int64_t delay_every, delay_ms; /* SLUICE_TEST_LOAD_DELAY: a test's slow COPY */
    char err[1024];
    ut_errkind kind;
} jb_load;

/* The lake side (load_lake.c): the source table and window column, the
 * window's bounds, the SELECT and the window's file ids.  0 / -1 (L->err). */
int jb__load_lake(jb_load *L);
/* Columns (load_cols.c): the SELECT's columns matched to the target's
 * (ASCII case ignored), the plan filled; -1 with L->err. */
int jb__load_columns(jb_load *L, sqlite3_stmt *st);
/* Columns the SELECT computes (no declared type, not a source column):
 * typed by st's current row (the first): INTEGER bigint, REAL double,
 * BLOB bytes, else text. */
void jb__load_refine(jb_load *L, sqlite3_stmt *st);
/* The DDL a load runs before its DELETE/COPY (CREATE TABLE or ALTER TABLE
 * ADD COLUMN for each new column), ";"-separated, into b. */
void jb__load_ddl(const jb_load *L, ut_buf *b);
/* The statements of a load, in the order they run (";"-separated, maybe
 * ""); `sluice load --plan` prints the same. */
typedef enum jb_load_step {
    JB_LOAD_BEGIN,   /* BEGIN; the target's advisory lock */
    JB_LOAD_PREPARE, /* CREATE TABLE / ALTER TABLE ADD COLUMN; DELETE of the window */
    JB_LOAD_STAGE,   /* the staging table (upsert, replace_table) */
    JB_LOAD_COPY,    /* COPY ... FROM STDIN */
    JB_LOAD_AFTER,   /* merge / rename swap */
    JB_LOAD_COMMIT
} jb_load_step;
void jb__load_sql(const jb_load *L, jb_load_step step, ut_buf *b);
/* One row of st as a COPY text line appended to L->out.  0, 1 (set aside:
 * a target column refused a value, see load_errors.c), or -1 (L->err). */
int jb__load_row(jb_load *L, sqlite3_stmt *st);
/* load_errors.c: count a refused row (value v[0..n) of column col, NULL: a
 * non-text value) and keep it while within max_errors. */
void jb__load_bad(jb_load *L, int col, const char *v, size_t n, const char *why);
/* Past max_errors: -1 with the count and the first reason in L->err. */
int jb__load_bad_check(jb_load *L);
/* Land the kept rows in _load_errors, finishing the run (c->done) in the
 * same catalog transaction.  0 / -1. */
int jb__load_errors_land(jb_load *L);
/* "job J: target T: msg" into L->err; -1. */
/* The target's columns now (L->tcols; none: no such table), through
 * L->pg.  0 / -1. */
int jb__load_target_columns(jb_load *L);
/* Connect to the job's target connection (postgres.<name>, or for an export
 * mysql.<name>): L->pg or L->my.  0 / -1 (L->err). */
int jb__load_connect(jb_load *L, const char *app);
/* The load's transaction on the connected target: DDL, rows, swap/merge,
 * COMMIT.  0 / -1 (L->err). */
int jb__load_transaction(jb_load *L);

/* ---- MySQL targets (export_my.c) ------------------------------------------------------
 * The same steps (jb__load_sql with dialect WH_MYSQL) through libmariadb;
 * the rows, buffered in L->out, are sent per JB_LOAD_FLUSH bytes: as LOAD
 * DATA LOCAL INFILE text lines (L->my_infile: tab-separated, \N for NULL,
 * \-escaped, a bytes column in hex), one LOAD statement reading them
 * from memory; else (upsert, or a server with local_infile off) as
 * "(v, ...),(v, ...)" of one multi-row INSERT. */
int jb__my_open(jb_load *L, const cf_mysql *m, const char *app);
void jb__my_close(jb_load *L);
/* Statements (";"-separated, results read and dropped).  0 / -1. */
int jb__my_exec(jb_load *L, const char *sql);
/* The target's columns (information_schema), as jb__load_target_columns. */
int jb__my_target_columns(jb_load *L);
/* The buffered rows as one LOAD DATA or INSERT statement.  0 / -1. */
int jb__my_flush(jb_load *L);
/* Does column i go to LOAD DATA as hex (a lake bytes column: SET c =
 * UNHEX(@v), so that any byte arrives as it is)? */
int jb__my_hex_column(const jb_load *L, int i);

/* Free what L holds (the connection closed: an open transaction rolls back). */
void jb__load_free(jb_load *L);
int jb__load_fail(jb_load *L, ut_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
