/* snap — reading tables out of source databases, for snapshot jobs
 * (docs/snapshots.md).
 *
 * Prefix: sn_.  Cross-file internals: sn__ (sn_int.h).
 *
 *   sn_open(postgres.<name>) ──► sn_tables: the tables include/exclude name
 *     ──► sn_scan_begin(table, where): ONE transaction (PostgreSQL:
 *         REPEATABLE READ READ ONLY) in which the table's columns are read
 *         (sn_scan_columns: name, source type, the class it maps to) and then
 *         its rows are streamed (COPY (SELECT ...) TO STDOUT, text form)
 *     ──► sn_scan_next: one row at a time, fields as text (NULL = SQL NULL),
 *         parsed in place in libpq's buffer: memory is one row
 *     ──► sn_scan_end: COMMIT (the snapshot is released)
 *
 * Values come as the source prints them in its ISO forms (the session is set
 * to UTC, ISO dates, hex bytea); sn_convert turns one into the value the
 * lake stores (convert.c), and reports values with no lake form (infinity,
 * years before 1 or after 9999, zero dates) so the caller stores NULL and
 * counts them.
 *
 * Threads: a source belongs to one thread at a time.  Messages name the
 * connection, the table and the column, never a password.
 */
#ifndef SLUICE_SNAP_H
#define SLUICE_SNAP_H

#include "config/config.h"
#include "util/util.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SN_MAX_COLUMNS 4096      /* columns of one source table */
#define SN_MAX_TABLES 10000      /* tables one sn_tables call returns */
#define SN_MAX_ROW_BYTES (1u << 30) /* one row as the source sends it (libpq's own cap) */

/* What a source column maps to in the lake. */
typedef enum sn_class {
    SN_BOOL = 1,
    SN_INT32,        /* int2, int4 */
    SN_INT64,        /* int8, oid */
    SN_FLOAT,        /* float4 */
    SN_DOUBLE,       /* float8 */
    SN_DECIMAL,      /* numeric(p,s), p <= 38, 0 <= s <= p */
    SN_STRING,       /* text, varchar, char, enums, uuid, json(b), numeric without a
                        precision, arrays, and every other type, in the source's text form */
    SN_BYTES,        /* bytea */
    SN_DATE,
    SN_TIME,         /* time without time zone */
    SN_TIMESTAMP,    /* timestamp with time zone: an instant, UTC */
    SN_TIMESTAMP_NTZ, /* timestamp without time zone: a wall-clock time */
    SN_BINARY        /* the source's raw bytes as they are (MySQL's binary, varbinary,
                        blobs, spatial types): sn_convert passes them through */
} sn_class;

const char *sn_class_name(sn_class c); /* "int64", "decimal", ... */

typedef struct sn_column {
    char name[256];
    char type[128];  /* the source's own spelling: "numeric(12,2)", "character varying(80)" */
    sn_class cls;
    int precision, scale; /* SN_DECIMAL */
    int not_null;
    int position;    /* the source's own column number (PostgreSQL's attnum: kept by a
                        rename or a type change, never reused after a drop) */
    int pk;          /* its place in the primary key (1 = the first column), 0: not in it */
} sn_column;

typedef struct sn_source sn_source;

/* Connect to the connection called name in cf (postgres.<name>,
 * mysql.<name>, sqlite.<name> or redis.<name>).  NULL with a message
 * naming it ("no connection 'x' under postgres, mysql, sqlite or redis"
 * when there is none). */
sn_source *sn_open(const cf_config *cf, const char *name, char *err, size_t errlen);
/* Whether cf has a connection called name that snapshots can read. */
int sn_source_exists(const cf_config *cf, const char *name);
/* Connect to postgres connection p (its password_file, connect_timeout).
 * NULL with a message naming the connection. */
sn_source *sn_open_postgres(const cf_postgres *p, char *err, size_t errlen);
/* Connect to mysql connection m (MySQL or MariaDB: its password_file,
 * connect_timeout; docs/snapshots.md for the session it sets).  NULL with a
 * message naming the connection, never the password. */
sn_source *sn_open_mysql(const cf_mysql *m, char *err, size_t errlen);
/* Open sqlite file c read-only (docs/snapshots.md: one read transaction
 * per scan, classes from declared types and the values).  NULL with a
 * message naming the connection and the file. */
sn_source *sn_open_sqlite(const cf_sqlite *c, char *err, size_t errlen);
/* Connect to redis connection r (AUTH from its password_file, SELECT db):
 * its tables are r->tables, "db<N>.<name>", rows (key, type, value as JSON,
 * ttl_ms, size, truncated).  NULL with a message naming the connection,
 * never the password. */
sn_source *sn_open_redis(const cf_redis *r, char *err, size_t errlen);
void sn_close(sn_source *s); /* accepts NULL; ends an open scan (ROLLBACK) */

/* Does name ("schema.table") match pattern?  '*' and '?' as in file
 * names, '.' matched literally; no case folding. */
int sn_match(const char *pattern, const char *name);

/* The tables (and views) the role may read whose "schema.table" matches one
 * of include[] and none of exclude[], sorted; *out malloc'ed strings (free
 * with sn_names_free).  Count, or -1 with a message. */
int sn_tables(sn_source *s, const char *const *include, int ninclude,
              const char *const *exclude, int nexclude, char ***out, char *err, size_t errlen);
void sn_names_free(char **v, int n);

/* A scan of one table. */
typedef struct sn_scan sn_scan;

/* Begin a scan of table "schema.table" (the transaction starts here and its
 * columns are read in it).  where: a condition in the source's SQL, or
 * NULL/"".  NULL with a message: no such table (it names the table), no
 * permission, a column over SN_MAX_COLUMNS.  The rows are not read until
 * sn_scan_start. */
sn_scan *sn_scan_begin(sn_source *s, const char *table, const char *where, char *err,
                       size_t errlen);
int sn_scan_ncols(const sn_scan *sc);
const sn_column *sn_scan_columns(const sn_scan *sc);
/* The stop flag and deadline (CLOCK_REALTIME ms, 0 none) of the statements
 * a scan runs before its rows (sn_scan_bound, sn_scan_int_range): a table
 * locked by a migration then ends the read like a stop does. */
void sn_scan_limits(sn_scan *sc, const atomic_int *cancel, int64_t deadline_ms);

/* An incremental read's upper bound, in the scan's transaction: the
 * largest value of `column` among the rows `where` keeps (the source's own
 * order and text form, e.g. "2024-05-01 10:00:00.5+00") into max[cap], and
 * the scan narrowed to the rows up to it.  1 found, 0 no rows, -1 with a
 * message (no such column, the value over cap).  with_nulls: the rows
 * whose column is NULL too (a first read).  Before sn_scan_start. */
int sn_scan_bound(sn_scan *sc, const char *column, int with_nulls, char *max, size_t cap,
                  char *err, size_t errlen);
/* ---- one table read in parallel ---------------------------------------------------
 * Scans of the same table over several connections that all see the first
 * one's snapshot (PostgreSQL: pg_export_snapshot + SET TRANSACTION
 * SNAPSHOT), each reading a range of an integer key: together exactly the
 * rows one scan would read. */
/* min and max of the integer column `column` over the scan's rows: 1 (set),
 * 0 (no rows, or all NULL), -1 with a message (not an integer column). */
int sn_scan_int_range(sn_scan *sc, const char *column, int64_t *min, int64_t *max, char *err,
                      size_t errlen);
/* The snapshot of scan sc (begun, not started) into id[cap].  0, or -1 with
 * a message (a source that cannot share a snapshot says so). */
int sn_scan_export(sn_scan *sc, char *id, size_t cap, char *err, size_t errlen);
/* sn_scan_begin in snapshot `id` of another scan (from sn_scan_export). */
sn_scan *sn_scan_begin_shared(sn_source *s, const char *table, const char *where,
                              const char *id, char *err, size_t errlen);
/* The scan's where as it stands (its own, the cursor's bounds). */
const char *sn_scan_where(const sn_scan *sc);
/* Narrow the scan (before sn_scan_start) to integer column col in [lo, hi):
 * SN_FROM_START: no lower end, and the NULLs too; SN_TO_END: no upper end. */
enum { SN_FROM_START = 1, SN_TO_END = 2 };
void sn_scan_narrow(sn_scan *sc, const char *col, int64_t lo, int64_t hi, int open_ends);

/* Append "<column> > '<value>'" (the value quoted as a SQL literal, which
 * the source coerces to the column's type) to a where text in b. */
void sn_where_after(ut_buf *b, const char *where, const char *column, const char *value);

/* Start streaming the columns sel[0..nsel) (indexes into sn_scan_columns,
 * in that order; nsel >= 1).  0 or -1 with a message.  The statement is
 * only sent: what the source says of it (a `where` that does not parse, in
 * its words) comes from the first sn_scan_next, which can wait for it under
 * the stop flag and the deadline (PostgreSQL waits for a table's lock). */
int sn_scan_start(sn_scan *sc, const int *sel, int nsel, char *err, size_t errlen);
/* The next row: 1 with v[i] / n[i] the text of selected column i (v[i] NULL:
 * SQL NULL; valid until the next call), 0 at the end, -1 with a message.
 * Waits for the source at most a second at a time, giving up when *cancel
 * is set or deadline_ms (CLOCK_REALTIME ms; 0 = none) passes. */
int sn_scan_next(sn_scan *sc, const char **v, size_t *n, const atomic_int *cancel,
                 int64_t deadline_ms, char *err, size_t errlen);
/* End the scan (COMMIT) and free it.  Accepts NULL. */
void sn_scan_end(sn_scan *sc);

/* ---- values (convert.c) -------------------------------------------------------- */

typedef struct sn_value {
    int64_t i;          /* BOOL 0/1, INT32, INT64, DATE days, TIME µs, TIMESTAMP(_NTZ) µs,
                           DECIMAL unscaled when it fits */
    double d;           /* FLOAT, DOUBLE */
    const char *p;      /* STRING, DECIMAL text: points into the input */
    size_t n;
    ut_buf *bytes;      /* BYTES: the decoded bytes go here (caller's buffer) */
} sn_value;

/* Convert the source's text v[0..n) of a column of class c to its lake
 * value.  0 converted; 1 no lake form (PostgreSQL's infinity and years out
 * of 1..9999, MySQL's zero dates, NaN for a decimal): store NULL and count
 * it; -1 the text is not of the class at all (a bug or a source that lies;
 * message in err). */
int sn_convert(sn_class c, const char *v, size_t n, sn_value *out, char *err, size_t errlen);

/* ---- the COPY text form (copytext.c) ------------------------------------------------
 * One row of COPY ... TO STDOUT in text format: fields split by tabs, the
 * line ends in '\n', \N is NULL, and backslash escapes (\b \f \n \r \t \v
 * \\, \NNN octal, \xHH hex, any other \c is c).  Decoded in place. */
/* Split and unescape line[0..len) into at most max fields.  Returns the
 * number of fields, or -1 with a message (more than max fields, a broken
 * escape). */
int sn_copy_split(char *line, size_t len, char **v, size_t *n, int max, char *err,
                  size_t errlen);

#endif
