/* pgfed — PostgreSQL tables as SQLite virtual tables (SQL federation).
 *
 * Prefix: pgf_.  Cross-file internals: pgf__ (pgf_int.h).
 *
 * pgf_attach(db, "pg", conninfo) ATTACHes an in-memory schema "pg" to db and
 * creates one virtual table in it for every table, view, materialized view
 * and foreign table the PostgreSQL role may SELECT from:
 *
 *   pg.users              a table of the first schema of search_path
 *                         (current_schema(), usually public)
 *   pg."sales.orders"     a table of any other schema: "schema.table"
 *
 * Column types: int2/int4/int8/oid and bool -> INTEGER; float4/float8/numeric
 * -> REAL; timestamp and timestamptz -> TEXT 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z'
 * (UTC, the lake's form); date -> TEXT 'YYYY-MM-DD'; bytea -> BLOB; all other
 * types (text, varchar, uuid, json, enums, arrays, ...) -> TEXT in
 * PostgreSQL's output form.
 *
 * Scans push down the columns used and simple predicates (=, <, <=, >, >=,
 * IN, IS NULL, IS NOT NULL, and LIMIT when every predicate is pushed
 * exactly) as a parameterised WHERE, and stream rows through a server-side
 * cursor (DECLARE ... NO SCROLL CURSOR, FETCH n), so memory stays bounded by
 * one batch.  One PostgreSQL connection per attach; it is re-established at
 * the next query when it broke.  Messages name the connection and never show
 * the password.
 *
 * Threads: an attach belongs to its sqlite3 connection and is used from the
 * thread that uses db.  Everything is released when db is closed.
 */
#ifndef SLUICE_PGFED_H
#define SLUICE_PGFED_H

#include "config/config.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stddef.h>

/* Options for one attach; zero means the default. */
typedef struct pgf_opts {
    const char *password;    /* NULL = none beyond conninfo / libpq's own sources */
    int fetch_rows;          /* rows per FETCH; default 10000 */
    int connect_timeout_s;   /* default 10 */
} pgf_opts;

/* ATTACH an in-memory schema called name to db and expose the PostgreSQL
 * relations visible to conninfo's role as virtual tables in it (see above).
 * conninfo is a libpq keyword/value string or URI ("" = libpq's defaults and
 * PG* environment).  Connects once to list them; the connection stays open
 * for queries.
 * Returns 0, or -1 with a message in err naming the connection (never the
 * password): connection failures carry libpq's reason, catalog-query
 * failures PostgreSQL's message.  name must be a valid, unused schema name
 * for db (not "main"/"temp"); db must not be inside a transaction (ATTACH's
 * rule) and must allow ATTACH (install an authorizer afterwards). */
int pgf_attach(sqlite3 *db, const char *name, const char *conninfo, char *err, size_t errlen);

/* Same, with options (opts may be NULL). */
int pgf_attach_opts(sqlite3 *db, const char *name, const char *conninfo, const pgf_opts *opts,
                    char *err, size_t errlen);

/* Attach every postgres.<name> connection of c (reading password_file when
 * set) that can be reached: one that cannot (the server down, a wrong
 * password) is left out, so lake queries never fail for it.  Returns how
 * many were left out (err: the first one's message); 0 when all are
 * attached, c is NULL or has none. */
int pgf_attach_config(sqlite3 *db, const cf_config *c, char *err, size_t errlen);

/* The password of connection p: the first line of its password_file into
 * out[n].  1 read, 0 none configured, -1 with a message naming the
 * connection and the file. */
int pgf_password(const cf_postgres *p, char *out, size_t n, char *err, size_t errlen);

/* ---- sessions for other modules (snapshots) ----------------------------------------
 * A connection to postgres.<name> made exactly as the attach makes its own
 * (password_file, connect_timeout, client_encoding UTF8, session TimeZone
 * UTC, DateStyle ISO, hex bytea), whose messages name the connection and
 * never carry the password.  One thread at a time. */
typedef struct pgf_session pgf_session;
/* Connect.  NULL with a message (conninfo that does not parse, the server
 * unreachable, authentication failed). */
pgf_session *pgf_session_open(const cf_postgres *p, const char *application, char *err,
                              size_t errlen);
PGconn *pgf_session_pg(pgf_session *s);
/* The message of a failed result r (NULL: the connection's own) into err:
 * `postgres "NAME": MESSAGE (SQLSTATE X)`, scrubbed.  Returns -1. */
int pgf_session_err(pgf_session *s, const PGresult *r, char *err, size_t errlen);
/* Run a statement that returns no rows.  0 or -1 with a message. */
int pgf_session_exec(pgf_session *s, const char *sql, char *err, size_t errlen);
void pgf_session_close(pgf_session *s); /* accepts NULL */

#endif
