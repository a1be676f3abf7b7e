/* pgfed internals shared by its files and tests/unit/test_pgfed.c:
 * type mapping and value conversion (types.c), predicate rendering
 * (render.c), the connection (conn.c), the virtual table (vtab.c) and the
 * attach (attach.c). */
#ifndef SLUICE_PGF_INT_H
#define SLUICE_PGF_INT_H

#include "pgfed/pgfed.h"
#include "fed/fed.h"
#include "util/util.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdint.h>

#define PGF_MAX_TABLES 10000  /* relations exposed per attach; more are ignored */
#define PGF_MAX_COLS 1000     /* tables with more columns are not exposed */
#define PGF_MAX_IN 1000       /* longer IN lists are left to SQLite */
#define PGF_MAX_PARAMS 4096   /* parameters of one pushed-down query */
#define PGF_MAX_PASSWORD 1024 /* bytes of a password file's first line */
#define PGF_MAX_NAME 64       /* attach name */

/* How a PostgreSQL type is mapped and compared. */
typedef enum pgf_kind {
    PGF_INT,     /* int2, int4, int8, oid: INTEGER */
    PGF_BOOL,    /* bool: INTEGER 0/1 */
    PGF_FLOAT8,  /* float8: REAL */
    PGF_FLOAT4,  /* float4: REAL (widened exactly, as PostgreSQL's float4::float8) */
    PGF_NUMERIC, /* numeric: REAL (nearest double) */
    PGF_TEXT,    /* text, varchar, name: TEXT, compared bytewise */
    PGF_OTHER,   /* anything else: TEXT in PostgreSQL's output form */
    PGF_BPCHAR,  /* char(n): TEXT with its padding; never pushed down */
    PGF_TS,      /* timestamp: TEXT RFC 3339 UTC */
    PGF_TSTZ,    /* timestamptz: TEXT RFC 3339 UTC */
    PGF_DATE,    /* date: TEXT YYYY-MM-DD */
    PGF_BYTEA,   /* bytea: BLOB */
} pgf_kind;

/* The kind for a base type name (pg_type.typname: "int4", "_text", ...). */
pgf_kind pgf__kind(const char *typname);
/* The SQLite declared type for k: "INTEGER", "REAL", "TEXT" or "BLOB". */
const char *pgf__decltype(pgf_kind k);

/* Set SQLite's result from PostgreSQL's text form v[0..n) of a value of
 * kind k (timestamps re-written to RFC 3339 UTC, bool to 0/1, bytea hex
 * decoded).  Values that do not convert are passed on as text. */
void pgf__result(sqlite3_context *ctx, pgf_kind k, const char *v, int n);

/* ---- predicates ----------------------------------------------------------- */



/* Parameters of a query, owned. */
typedef struct pgf_params {
    char *v[PGF_MAX_PARAMS];
    int len[PGF_MAX_PARAMS];
    int fmt[PGF_MAX_PARAMS];   /* 0 text, 1 binary */
    int n;
} pgf_params;

void pgf__params_clear(pgf_params *p);
/* Add data[0..n) as the next parameter (binary: bytea's raw form).  Returns
 * its number ($n), or 0 when PGF_MAX_PARAMS are taken. */
int pgf__add_param(pgf_params *p, const void *data, int n, int binary);

/* Append the WHERE term for `col op vals` on a column of kind k to b (the
 * column already quoted in col), adding its values to p as $n parameters.
 * For FED_IN vals are the list's nvals values; ISNULL/NOTNULL take none.
 * The term is written so that PostgreSQL keeps at least every row SQLite's
 * own check would keep (and exactly those where pgf__exact says so).
 * Returns 1 if written, 0 if this predicate is not pushed (b, p unchanged). */
int pgf__render_pred(ut_buf *b, pgf_params *p, const char *col, pgf_kind k, fed_op op,
                     const fed_val *vals, int nvals);

/* Whether pushing `op` on kind k with right-hand side rhs (NULL = unknown
 * or none) is exact, so SQLite need not re-check; then pgf__render_pred
 * always writes it.  utf8: the server encoding is UTF8. */
int pgf__exact(pgf_kind k, fed_op op, const fed_val *rhs, int utf8);

/* ---- the connection ------------------------------------------------------- */

typedef struct pgf_col {
    char *name;
    pgf_kind kind;
} pgf_col;

typedef struct pgf_rel {
    char *schema, *table; /* PostgreSQL names */
    char *sqlname;        /* the SQLite table name */
    double rows;          /* reltuples estimate; <= 0 unknown */
    pgf_col *cols;
    int ncols;
} pgf_rel;

typedef struct pgf_conn {
    char name[PGF_MAX_NAME + 1];
    char *conninfo;
    char *password;        /* from opts; NULL = none */
    char *display;         /* conninfo without the password, for messages */
    char application[64];  /* application_name; "" = "sluice" */
    PGconn *pg;
    int fetch_rows, connect_timeout_s;
    int utf8;              /* server_encoding is UTF8 */
    int in_txn;            /* a BEGIN is open (cursors live in it) */
    int open_cursors;      /* cursors declared in the current transaction */
    unsigned gen;          /* bumped when the transaction ends abnormally */
    unsigned seq;          /* cursor names */
    pgf_rel *rels;
    int nrels;
} pgf_conn;

/* Connect (or reconnect) c->pg and set the session up (UTC, ISO dates, hex
 * bytea).  0 or -1 with "postgres connection "NAME" (host=...): reason". */
int pgf__connect(pgf_conn *c, char *err, size_t errlen);
/* Make sure a transaction is open, reconnecting first when the connection
 * broke and none is open.  0 or -1 with a message. */
int pgf__begin(pgf_conn *c, char *err, size_t errlen);
/* A cursor ended: when it was the last one, COMMIT. */
void pgf__cursor_done(pgf_conn *c, unsigned gen);
/* After a failed statement: roll back, forget open cursors (gen++). */
void pgf__abort(pgf_conn *c);
/* Write the message for a failed result r (NULL: the connection's) into
 * err: `postgres "NAME": MESSAGE (SQLSTATE X)`.  Returns -1. */
int pgf__pg_err(pgf_conn *c, const PGresult *r, char *err, size_t errlen);
/* conninfo with password=... removed, or NULL if it does not parse. */
char *pgf__display(const char *conninfo);
/* Replace every occurrence of secret in s (NUL-terminated) with "***". */
void pgf__scrub(char *s, const char *secret);
void pgf__conn_free(pgf_conn *c);

/* The module for c (vtab.c). */
extern const sqlite3_module pgf__module;

#endif
