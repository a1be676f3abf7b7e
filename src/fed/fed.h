/* fed — the SQLite virtual-table skeleton the federations share (pgfed:
 * PostgreSQL, myfed: MySQL/MariaDB): declaring a remote table's columns,
 * the predicates xBestIndex may push down and the idxStr that carries them
 * to xFilter, SQLite's values as plain data, IN lists.
 *
 * Prefix: fed_.  Each federation keeps what is its own: which terms it can
 * push and whether they are exact, how it renders them, how it reads rows.
 *
 *   xBestIndex: fed_best_index(info, rows, plan, arg) ──► plan(term) says
 *     pushed/exact ──► idxStr "<colUsed hex>/col:op:omit/..." (LIMIT as
 *     "/-1:FED_LIMIT:0" when SQLite has no filtering or ordering left)
 *   xFilter: fed_idx_used(idxStr) then fed_idx_term for each term, its
 *     argument's values by fed_arg_values
 *
 * No state: every function is safe from any thread on its own arguments. */
#ifndef SLUICE_FED_H
#define SLUICE_FED_H

#include "util/util.h"

#include <sqlite3.h>
#include <stdint.h>

/* The predicates a federation may push (the numbers travel in idxStr). */
typedef enum fed_op { FED_EQ, FED_LT, FED_LE, FED_GT, FED_GE, FED_IN, FED_ISNULL, FED_NOTNULL,
                      FED_LIKE, FED_LIMIT } fed_op;

/* A value from SQLite, as plain data. */
typedef struct fed_val {
    int type;          /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
    int64_t i;
    double d;
    const char *p;     /* TEXT / BLOB bytes (not owned) */
    int n;
} fed_val;

/* sv as plain data (texts and blobs point into sv; an empty blob is ""). */
void fed_to_val(sqlite3_value *sv, fed_val *out);
/* SQLite's constraint op as a fed_op (LIKE only when like is set): 1, or 0
 * when it has none. */
int fed_map_op(unsigned char op, int like, fed_op *out);
/* Append s as a double-quoted identifier ("" doubles embedded quotes): the
 * same for SQLite, PostgreSQL and MySQL under ANSI_QUOTES. */
void fed_quote_ident(ut_buf *b, const char *s);
/* Set the vtab's error message; returns SQLITE_ERROR. */
int fed_vt_err(sqlite3_vtab *v, const char *msg);

/* Declare a vtab of ncols columns named name(arg, i) with SQLite declared
 * types decl(arg, i).  SQLITE_OK, or an error with *pzErr "<who>: ..." */
int fed_declare(sqlite3 *db, const char *who, int ncols,
                const char *(*name)(const void *arg, int i),
                const char *(*decl)(const void *arg, int i), const void *arg, char **pzErr);
/* xDisconnect / xDestroy of a vtab allocated with sqlite3_malloc. */
int fed_disconnect(sqlite3_vtab *vt);

/* May constraint i be pushed?  1 with *op (FED_IN when the list comes at
 * once: call sqlite3_vtab_in(info, i, 1)) and *exact (SQLite need not check
 * it again); 0 not pushed. */
typedef int (*fed_plan_fn)(void *arg, sqlite3_index_info *info, int i, fed_op *op, int *exact);
/* xBestIndex: each constraint through plan, the LIMIT when every term is
 * exact and SQLite has no OFFSET or ORDER BY, idxStr, and the estimate from
 * rows (the table's, <= 0 unknown).  SQLITE_OK or SQLITE_NOMEM. */
int fed_best_index(sqlite3_index_info *info, double rows, fed_plan_fn plan, void *arg);

/* The columns used (colUsed; bit 63 stands for every column past 62) of
 * idxStr; *terms points at its first term. */
unsigned long long fed_idx_used(const char *idxStr, const char **terms);
/* Is column i used? */
int fed_col_used(unsigned long long used, int i);
/* The next term of *terms: 1 (col, op, omit set; *terms moved on), 0 at the end. */
int fed_idx_term(const char **terms, int *col, int *op, int *omit);

/* The values of argument a into out[]: an IN list's (all at once: each a
 * copy kept in keep[], since sqlite3_vtab_in_next frees the one before;
 * free with fed_keep_free once rendered) or the one.  The count (at most
 * cap; cap + 1 means "more"), or -1 out of memory. */
int fed_arg_values(sqlite3_value *a, int in, fed_val *out, sqlite3_value **keep, int cap);
/* Free keep[0..n) and clear them (NULLs are skipped). */
void fed_keep_free(sqlite3_value **keep, int n);

#endif
