/* myfed — MySQL / MariaDB tables as SQLite virtual tables (SQL federation).
 *
 * Prefix: myf_.  Cross-file internals: myf__ (myf_int.h).  The design is
 * pgfed's (src/pgfed/pgfed.h), over libmariadb.
 *
 * myf_attach(db, m) ATTACHes an in-memory schema named m->name to db and
 * creates one virtual table in it for every table and view the MySQL user
 * can see (the system databases left out):
 *
 *   shop."appdb.users"    any database's table: "database.table"
 *   shop.users            a table of the connection's `database` (its
 *                         default), under its plain name as well
 *
 * (SQLite has two-part names: there is no shop.appdb.users.)
 *
 * Column types: integer types, BIT and YEAR -> INTEGER (BIGINT UNSIGNED
 * beyond 2^63-1 as REAL); FLOAT, DOUBLE, DECIMAL -> REAL; DATE -> TEXT
 * 'YYYY-MM-DD'; DATETIME -> TEXT 'YYYY-MM-DDTHH:MM:SS[.ffffff]' (the lake's
 * timestamp_ntz form); TIMESTAMP -> TEXT 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z'
 * (UTC, the lake's form); zero and invalid dates -> NULL; binary strings,
 * blobs and geometry -> BLOB; everything else (strings, enum, set, time,
 * json) -> TEXT as MySQL writes it.
 *
 * Scans push down the columns used, predicates (=, <, <=, >, >=, IN,
 * IS [NOT] NULL, LIKE 'prefix%') and LIMIT when every predicate is pushed
 * exactly, as a WHERE with escaped literals (the session runs with
 * NO_BACKSLASH_ESCAPES, so a literal is '...' with ' doubled and nothing
 * else special).  A predicate MySQL evaluates differently from SQLite (case-
 * or accent-insensitive and PAD SPACE collations, timestamps, floats) is
 * pushed so that MySQL keeps at least every row SQLite would keep, and
 * SQLite checks it again.  Rows are streamed with mysql_use_result: one row
 * in memory per scan.  A scan takes a connection of the attach's own small
 * pool (a nested join of two MySQL tables needs two at once); a connection
 * that broke is replaced at the next scan.  Messages name the connection
 * and never show the password.
 *
 * Threads: an attach belongs to its sqlite3 connection and is used from the
 * thread that uses db.  Everything is released when db is closed.
 */
#ifndef SLUICE_MYFED_H
#define SLUICE_MYFED_H

#include "config/config.h"

#include <sqlite3.h>
#include <stddef.h>

/* ATTACH m's tables as schema m->name of db (see above); password is the
 * password (NULL = none).  Connects once to list them; that connection
 * stays open for queries.  Returns 0, or -1 with a message in err naming
 * the connection (never the password).  db must not be inside a
 * transaction and must allow ATTACH (install an authorizer afterwards). */
int myf_attach(sqlite3 *db, const cf_mysql *m, const char *password, char *err, size_t errlen);

/* Attach every mysql.<name> connection of c (reading password_file when
 * set) that can be reached: one that cannot (a service database down, a
 * wrong password) is left out, so lake queries never fail for it.  Returns
 * how many were left out (err: the first one's message); 0 when all are
 * attached, c is NULL or has none. */
int myf_attach_config(sqlite3 *db, const cf_config *c, char *err, size_t errlen);

/* The password of connection m: the first line of its password_file into
 * out[n].  1 read, 0 none configured, -1 with a message naming the
 * connection and the file. */
int myf_password(const cf_mysql *m, char *out, size_t n, char *err, size_t errlen);

#endif
