/* catalog internals shared by db.c, tables.c, files.c, commit_many.c, positions.c.
 *
 * Every SQL statement the catalog runs is listed once (ct_sql in db.c) and
 * prepared lazily, once per connection, with SQLITE_PREPARE_PERSISTENT;
 * ct_stmt hands it out reset and with its bindings cleared.  Callers reset
 * (ct_done) a statement as soon as they are finished with it so that no
 * read snapshot stays open between calls. */
#ifndef SLUICE_CT_INT_H
#define SLUICE_CT_INT_H

#include "catalog/catalog.h"

#include <sqlite3.h>

/* Identifiers of the cached statements (texts in db.c, same order). */
enum {
    S_BEGIN_IMM,
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_TABLE_INSERT,
    S_TABLE_BY_NAME,
    S_TABLE_BY_ID,
    S_TABLE_NAMES,
    S_TABLE_NAME_NOCASE,
    S_VIEW_PUT,
    S_VIEW_GET,
    S_VIEWS_ALL,
    S_VIEW_DROP_OTHERS,
    S_VIEW_KEYS,
    S_VIEW_NAME_NOCASE,
    S_VERSIONS_JSON,
    S_VERSION_COLUMNS,
    S_TABLE_SET_VERSION,
    S_COLS_OF,
    S_COLS_DELETE,
    S_COL_INSERT,
    S_VERSION_INSERT,
    S_VERSIONS_OF,
    S_VERSIONS_RECENT,
    S_RUNS_FAILED_SINCE,
    S_RUN_LOG_PUT,
    S_RUN_LOG_PRUNE,
    S_RUN_LOG_GET,
    S_FILE_INSERT,
    S_FILE_FIND_PATH,
    S_STAT_INSERT,
    S_FILES_OF,
    S_FILES_PREFIX,
    S_STATS_OF,
    S_FILE_TRASH,
    S_FILE_STATE,
    S_TRASH_DUE,
    S_FILE_FORGET,
    S_FILE_LIVE,
    S_POS_GET,
    S_POS_SET,
    S_TABLE_STATS,
    S_RUN_INSERT,
    S_RUN_GET,
    S_RUN_LIST,
    S_RUN_LATEST,
    S_RUN_ACTIVE,
    S_RUN_QUEUE,
    S_OUTBOX_ADD,
    S_OUTBOX_PENDING,
    S_OUTBOX_GET,
    S_OUTBOX_SENT,
    S_OUTBOX_LAST,
    S_OUTBOX_PRUNE,
    S_VERSION_NOTE,
    S_TABLE_VERSION_BUMP,
    S_PART_STATE_SET,
    S_PART_STATE_GET,
    S_ACCOUNTS_DEL,
    S_ACCOUNTS_INS,
    S_ACCOUNTS_OF,
    S_ACCOUNT_ARGS,
    S_RUN_DUE,
    S_RUN_DUE_JOBS,
    S_RUN_OUT,
    S_RUN_START,
    S_RUN_FINISH,
    S_RUN_IO_INSERT,
    S_RUN_IO_OF,
    S_RUN_DEAD,
    S_RUN_FAIL,
    S_JOB_FIRE_GET,
    S_JOB_FIRE_SET,
    S_BACKFILL_INSERT,
    S_BACKFILL_GET,
    S_RUN_COUNTS,
    S_RUN_LAST_WRITER,
    S_RUN_REQUEUE,
    S__COUNT
};

struct ct_catalog {
    sqlite3 *db;
    char path[1024];
    sqlite3_stmt *st[S__COUNT];
    int64_t busy_since_us; /* the busy handler's current wait began (monotonic) */
    int lazy;              /* synchronous = NORMAL in force (ct_lazy) */
    int wlocks;            /* holds of the process's writer mutex (ct__wlock) */
    int tx_wlock;          /* the open write transaction holds one */
};

/* The statement `id`, prepared on first use, reset and unbound.  NULL with
 * a message naming the catalog on failure. */
sqlite3_stmt *ct_stmt(ct_catalog *c, int id, char *err, size_t errlen);
/* Reset a statement handed out by ct_stmt (accepts NULL). */
void ct_done(sqlite3_stmt *s);

/* The process's writer mutex around a write statement outside ct_begin
 * (inside one it is held already; recursive; inside one whose timed lock
 * gave up it is not waited for: SQLite's lock is held).  Pairs. */
void ct__wlock(ct_catalog *c);
void ct__wunlock(ct_catalog *c);

/* Run a no-result statement (BEGIN / COMMIT ...): 0 or -1 with message. */
int ct_exec(ct_catalog *c, int id, const char *what, char *err, size_t errlen);
/* BEGIN IMMEDIATE (write) or BEGIN (read snapshot). */
int ct_begin(ct_catalog *c, int write, char *err, size_t errlen);
/* COMMIT; on failure rolls back.  0 / -1. */
int ct_commit_tx(ct_catalog *c, char *err, size_t errlen);
/* ROLLBACK if a transaction is open; never fails (the error that led here
 * is the one reported). */
void ct_rollback(ct_catalog *c);

/* "catalog PATH: <sqlite message>" into err; returns -1. */
int ct_sqlerr(ct_catalog *c, const char *what, char *err, size_t errlen);

/* Wall-clock milliseconds since the epoch. */
int64_t ct_now_ms(void);

/* Copy a TEXT column into dst[cap] (NULL becomes ""). */
void ct_col_text(sqlite3_stmt *s, int col, char *dst, size_t cap);

/* Name of table `id` into name[128] ("#id" if unknown); for messages. */
void ct_table_name(ct_catalog *c, int64_t id, char *name);

/* Insert files[0..n) into table_id inside the caller's transaction.  Used
 * by ct_commit and ct_replace.  0 or -1 with a message naming table and file. */
int ct_files_insert(ct_catalog *c, int64_t table_id, const char *tname, const ct_file *files,
                    int n, char *err, size_t errlen);

/* ct_table_get inside the caller's transaction (or autocommit). */
int ct_table_get_tx(ct_catalog *c, const char *name, ct_table *out, char *err, size_t errlen);

/* Is the existing table t (with its columns) the table nt would create: no
 * stream, the same partition columns, nt's columns (names, types, order) as
 * its version 1?  1 yes; 0 no, with a message naming the table and both
 * schemas. */
int ct_table_same(ct_catalog *c, const ct_table *t, const ct_new_table *nt, char *err,
                  size_t errlen);

/* ct_table_ensure / ct_schema_set inside the caller's transaction (ct_apply
 * creates a table, its columns and its first files in one). */
int ct_table_insert_tx(ct_catalog *c, const char *name, const char *location,
                       const char *partition, const char *stream, ct_table *out, char *err,
                       size_t errlen);
int ct_schema_set_tx(ct_catalog *c, int64_t table_id, const ct_column *cols, int ncols,
                     const char *change, int *version, char *err, size_t errlen);

/* ct_schema_extend inside the caller's transaction (ct_apply evolves a
 * table's schema with the files written under it); 1 / 0 / -1, *out the
 * table after (nothing to free on -1). */
int ct_schema_extend_tx(ct_catalog *c, const char *table, const ct_column *cols, int ncols,
                        ct_table *out, char *err, size_t errlen);

/* Upsert the sink position of (stream, table_id) inside the caller's
 * transaction.  0 or -1 with a message. */
int ct_position_set_tx(ct_catalog *c, const char *stream, int64_t table_id, const char *tname,
                       uint64_t next_offset, char *err, size_t errlen);

/* Finish d's run inside the caller's transaction (ct_apply, ct_run_finish):
 * 1 done, 0 fenced out, -1 error. */
int ct_run_finish_tx(ct_catalog *c, const struct ct_run_done *d, char *err, size_t errlen);
/* ddl.c: name as an identifier quoted by q (" or `), q doubled inside. */
void ct__quote_ident(ut_buf *b, char q, const char *name);

/* views.c: put d's view (d->view) inside the transaction, after its
 * table's changes.  0 or -1 with a message naming the view. */
int ct__view_put_tx(ct_catalog *c, const struct ct_view *v, char *err, size_t errlen);
/* views.c: the view whose name equals name without ASCII case into
 * other[128]: 1 / 0 / -1. */
int ct__view_twin(ct_catalog *c, const char *name, char *other, char *err, size_t errlen);

/* outbox.c: d's outbox records, inside the transaction.  0 or -1. */
int ct__outbox_add_tx(ct_catalog *c, const struct ct_run_done *d, char *err, size_t errlen);

#endif
