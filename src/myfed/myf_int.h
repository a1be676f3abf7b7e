/* myfed internals shared by its files and tests/unit/test_myfed.c: type
 * mapping and value conversion (types.c), predicate rendering (render.c),
 * the connections (conn.c), the virtual table (vtab.c) and the attach
 * (attach.c). */
#ifndef SLUICE_MYF_INT_H
#define SLUICE_MYF_INT_H

#include "myfed/myfed.h"
#include "fed/fed.h"
#include "util/util.h"

#include <mysql.h>
#include <sqlite3.h>
#include <stdint.h>

#define MYF_MAX_TABLES 10000       /* tables exposed per attach; more are ignored */
#define MYF_MAX_COLS 1000          /* tables with more columns are not exposed */
#define MYF_MAX_IN 1000            /* longer IN lists are left to SQLite */
#define MYF_MAX_LITERAL 4096       /* longer values are not pushed */
#define MYF_MAX_PASSWORD 1024      /* bytes of a password file's first line */
#define MYF_MAX_LINKS 8            /* connections per attach (scans open at once) */
#define MYF_DRAIN_ROWS 1000        /* a scan closed early reads this many, then cuts */
#define MYF_READ_TIMEOUT_S 600     /* a server silent this long fails the query */
#define MYF_MAX_ROW_BYTES (64u << 20)

/* How a MySQL column is read and compared. */
typedef enum myf_kind {
    MYF_INT,       /* tinyint .. bigint (not bigint unsigned): INTEGER */
    MYF_UINT64,    /* bigint unsigned: INTEGER, REAL past 2^63-1 */
    MYF_YEAR,      /* year: INTEGER; never pushed (MySQL reads 1..69 as 2001..2069) */
    MYF_BIT,       /* bit(n): INTEGER from n/8 big-endian bytes; never pushed */
    MYF_FLOAT,     /* float: REAL, selected as a double (its text has 6 digits) */
    MYF_DOUBLE,    /* double: REAL */
    MYF_DECIMAL,   /* decimal: REAL (nearest double) */
    MYF_DATE,      /* date: TEXT YYYY-MM-DD; zero / invalid dates NULL */
    MYF_DATETIME,  /* datetime: TEXT YYYY-MM-DDTHH:MM:SS[.ffffff] */
    MYF_TIMESTAMP, /* timestamp: TEXT ...Z, the session is UTC */
    MYF_STRING,    /* char, varchar, text, enum, set: TEXT under a collation */
    MYF_OTHER,     /* time, json (MySQL's), uuid, ...: TEXT; never pushed */
    MYF_BLOB,      /* binary, varbinary, blobs: BLOB */
    MYF_GEOM,      /* geometry: BLOB (MySQL's internal form); never pushed */
} myf_kind;

/* Collation properties of a MYF_STRING column. */
enum {
    MYF_UTF8 = 1,  /* character set utf8mb4 / utf8mb3 / ascii: bytes are what SQLite sees */
    MYF_CI = 2,    /* case-insensitive (_ci): = and LIKE match more than SQLite's */
    MYF_BIN = 4,   /* a binary collation (_bin) */
    MYF_NOPAD = 8, /* NO PAD: 'a' <> 'a ' (MySQL 8's _0900_, MariaDB's _nopad_) */
};

typedef struct myf_col {
    char *name;
    myf_kind kind;
    int flags;     /* MYF_UTF8 | ... for MYF_STRING */
} myf_col;

/* The kind of a column from information_schema.columns: DATA_TYPE
 * (lowercase) and COLUMN_TYPE. */
myf_kind myf__kind(const char *data_type, const char *column_type);
/* The flags for CHARACTER_SET_NAME and COLLATION_NAME (NULL = none). */
int myf__coll_flags(const char *charset, const char *collation);
/* The SQLite declared type for k: "INTEGER", "REAL", "TEXT" or "BLOB". */
const char *myf__decltype(myf_kind k);
/* Set SQLite's result from MySQL's text form v[0..n) of a value of kind k.
 * Values that do not convert: dates NULL, numbers passed on as text. */
void myf__result(sqlite3_context *ctx, myf_kind k, const char *v, unsigned long n);

/* ---- predicates ----------------------------------------------------------- */



/* Append the WHERE term for `col op vals` on column c to b, the values as
 * literals.  For FED_IN vals are the list's nvals values; ISNULL/NOTNULL
 * take none.  The term keeps at least every row SQLite's own check would
 * keep (exactly those where myf__exact says so).  Returns 1 if written, 0
 * if this predicate is not pushed (b unchanged). */
int myf__render_pred(ut_buf *b, const myf_col *c, fed_op op, const fed_val *vals, int nvals);

/* Whether pushing `op` on column c with right-hand side rhs (NULL = unknown)
 * is exact, so SQLite need not re-check; then myf__render_pred always
 * writes it.  Whether it is pushed at all: myf__pushable. */
int myf__exact(const myf_col *c, fed_op op, const fed_val *rhs);
/* Whether op on c can be pushed at all (values decide the rest). */
int myf__pushable(const myf_col *c, fed_op op);

/* ---- the connections ------------------------------------------------------ */

typedef struct myf_rel {
    char *db, *table;     /* MySQL names */
    int in_default;       /* a table of the connection's default database */
    double rows;          /* information_schema.tables.table_rows; <= 0 unknown */
    myf_col *cols;
    int ncols;
} myf_rel;

typedef struct myf_link {
    MYSQL *my;            /* NULL: not connected */
    int busy;             /* a scan holds it */
    int used;             /* has run a statement (may have gone stale since) */
} myf_link;

typedef struct myf_conn {
    char name[CF_NAME_MAX + 1];
    char *host, *socket, *user, *database;
    unsigned port, timeout_s;
    char *password;       /* NULL = none */
    myf_link links[MYF_MAX_LINKS];
    myf_rel *rels;
    int nrels;
} myf_conn;

/* Connect link l of c and set its session up.  0 or -1 with
 * `mysql connection "NAME" (user@host:port): reason`. */
int myf__connect(myf_conn *c, myf_link *l, char *err, size_t errlen);
/* A link for a scan: an idle connected one, else a new connection.  NULL
 * with a message when all MYF_MAX_LINKS are busy or connecting fails. */
myf_link *myf__acquire(myf_conn *c, char *err, size_t errlen);
/* Give l back; ok = 0 closes its connection (broken, or rows left unread). */
void myf__release(myf_conn *c, myf_link *l, int ok);
/* Run q on a link from myf__acquire, connecting again once when a link
 * that sat idle turns out broken.  0 or -1 with a message. */
int myf__query(myf_conn *c, myf_link *l, const char *q, size_t n, char *err, size_t errlen);
/* The message for the last failure on l into err: `mysql "NAME": MESSAGE
 * (errno N)`, without the password.  Returns -1. */
int myf__my_err(myf_conn *c, MYSQL *my, char *err, size_t errlen);
void myf__conn_free(myf_conn *c);

/* The module (vtab.c). */
extern const sqlite3_module myf__module;

#endif
