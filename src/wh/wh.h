/* wh — warehouse dialects: the SQL a load runs, the type mapping from lake
 * columns, the COPY text encoding of values, and Redshift manifests.
 *
 * Prefix: wh_.  Pure functions over buffers (no connection, no I/O), so the
 * generated SQL and manifests have golden tests (tests/unit/test_wh.c) and
 * `sluice load --plan` prints exactly what a run sends.  See
 * docs/warehouse.md.
 *
 *   lake column (ct_column) ──wh_type──► target column type
 *   a value (text form)     ──wh_copy_text──► COPY ... FROM STDIN text row field
 *   the load's plan         ──wh_sql_*──► CREATE / ALTER / DELETE / COPY / merge / swap
 */
#ifndef SLUICE_WH_H
#define SLUICE_WH_H

#include "catalog/catalog.h"
#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

/* WH_MYSQL: MySQL / MariaDB (kind export), on a session with sql_mode
 * ANSI_QUOTES and NO_BACKSLASH_ESCAPES, so identifiers are "x" and
 * literals 'x' as for PostgreSQL. */
typedef enum wh_dialect { WH_POSTGRES, WH_REDSHIFT, WH_MYSQL } wh_dialect;

#define WH_IDENT_MAX 63     /* bytes of one identifier (PostgreSQL's NAMEDATALEN - 1) */
#define WH_MAX_COLUMNS 1600 /* PostgreSQL's limit of columns per table */

/* The target type of lake column c (see docs/warehouse.md#type-mapping):
 * "bigint", "numeric(12,2)", "timestamptz", ...  Written into out[n]. */
const char *wh_type(wh_dialect d, const ct_column *c, char *out, size_t n);

/* Append a double-quoted identifier ("a""b"). */
void wh_ident(ut_buf *b, const char *name);
/* Append a table name: "schema"."name" (split at the first dot) or "name". */
void wh_table_ident(ut_buf *b, const char *table);
/* Append a single-quoted string literal ('it''s'). */
void wh_literal(ut_buf *b, const char *s);
/* Is `table` a valid target name: one or two parts split by a dot, each 1 to
 * WH_IDENT_MAX bytes of letters, digits, `_` and `$`, not starting with a
 * digit?  0, or -1 with a message. */
int wh_table_check(const char *table, char *err, size_t errlen);

/* Append value v[0..n) as one field of a COPY text row: `\` tab, newline
 * and carriage return escaped (`\\`, `\t`, `\n`, `\r`). */
void wh_copy_text(ut_buf *b, const char *v, size_t n);
/* A field of MySQL's LOAD DATA text (ESCAPED BY '\\'): backslash, tab,
 * newline, CR and NUL as \\ \t \n \r \0, every other byte as it is (so the
 * string "\N" goes as "\\N", never read as NULL, which is a bare \N). */
void wh_my_tsv(ut_buf *b, const char *v, size_t n);
/* Append bytes as a bytea field of a COPY text row: `\\x` + hex. */
void wh_copy_bytea(ut_buf *b, const uint8_t *v, size_t n);
/* The COPY text NULL. */
#define WH_COPY_NULL "\\N"

/* One column of a load: its name in the target and the lake column it comes
 * from (type). */
typedef struct wh_col {
    const char *name;   /* as the target has it (or will) */
    ct_column lake;     /* the type it has in the lake */
} wh_col;

/* What a load does, for the SQL builders. */
typedef enum wh_mode { WH_REPLACE_WINDOW, WH_APPEND, WH_UPSERT, WH_REPLACE_TABLE } wh_mode;
typedef enum wh_diststyle { WH_DIST_DEFAULT, WH_DIST_AUTO, WH_DIST_EVEN, WH_DIST_KEY,
                            WH_DIST_ALL } wh_diststyle;
typedef struct wh_plan {
    wh_dialect dialect;
    wh_mode mode;
    const char *table;          /* the target, "schema.name" or "name" */
    const wh_col *cols;         /* every column loaded, in COPY order */
    int ncols;
    const char *window_column;  /* replace_window: target column name */
    const char *lo, *hi;        /* replace_window: [lo, hi) as literals' text */
    const char *const *key;     /* upsert: key columns (target names) */
    int nkey;
    wh_diststyle diststyle;     /* redshift CREATE TABLE: DISTSTYLE */
    const char *distkey;        /* redshift: DISTKEY column (NULL none) */
    const char *const *sortkey; /* redshift: SORTKEY columns */
    int nsortkey;
} wh_plan;

/* CREATE TABLE IF NOT EXISTS table (cols, PRIMARY KEY (key) for upsert);
 * Redshift: then DISTSTYLE / DISTKEY (c) / SORTKEY (a, b) as the plan says;
 * MySQL: key columns of type string / bytes as varchar(255) / varbinary(255)
 * (an index needs a length). */
void wh_sql_create(ut_buf *b, const wh_plan *p);
/* ALTER TABLE table ADD COLUMN IF NOT EXISTS name type (MySQL: without IF
 * NOT EXISTS, which MySQL 8 lacks). */
void wh_sql_add_column(ut_buf *b, const wh_plan *p, const wh_col *c);
/* DELETE FROM table WHERE wc >= 'lo' AND wc < 'hi'. */
void wh_sql_delete_window(ut_buf *b, const wh_plan *p);
/* The table COPY writes into: the target, or its staging table (upsert:
 * "sluice_stage", a temp table (MySQL: the target itself); replace_table:
 * "<name>__sluice_new" next to the target).  Into out[n]. */
const char *wh_copy_into(const wh_plan *p, char *out, size_t n);
/* Statements before COPY (staging tables), ";"-separated, maybe "". */
void wh_sql_before_copy(ut_buf *b, const wh_plan *p);
/* COPY <into> (cols) FROM STDIN. */
void wh_sql_copy(ut_buf *b, const wh_plan *p);
/* Statements after COPY (merge, rename swap), ";"-separated, maybe "". */
void wh_sql_after_copy(ut_buf *b, const wh_plan *p);

/* ---- values that an existing target column may refuse ------------------------------------
 * A target column created by a load always takes its lake values; one that
 * was there before (created by hand, or typed by an older lake schema) may
 * not.  wh_class_of tells what a PostgreSQL data_type (information_schema
 * spelling) takes, wh_fits whether a text value is of that kind, so that a
 * row that would fail the whole COPY is set aside instead. */
typedef enum wh_class {
    WH_ANY,       /* text and everything not listed: any value (no NUL byte) */
    WH_INTEGER,   /* smallint, integer, bigint: [-+]digits in range */
    WH_NUMBER,    /* numeric, real, double precision: a decimal number, NaN, [-]Infinity */
    WH_BOOLEAN,   /* t/f/true/false/yes/no/on/off/1/0 */
    WH_DATE,      /* YYYY-MM-DD */
    WH_TIMESTAMP  /* YYYY-MM-DD[ T]HH:MM[:SS[.f]][zone] */
} wh_class;
wh_class wh_class_of(const char *data_type);
/* Does v[0..n) fit a column of class c?  1, or 0 with why (a short reason). */
int wh_fits(wh_class c, const char *v, size_t n, char *why, size_t whylen);

/* ---- MySQL (kind export): rows go in as multi-row INSERTs ------------------------------
 * wh_my_insert: INSERT INTO <into> (cols) VALUES  — then rows "(v, v, ...)"
 * separated by ",", then wh_my_insert_end: upsert's ON DUPLICATE KEY UPDATE
 * c = VALUES(c), ... (nothing for replace_table). */
void wh_my_insert(ut_buf *b, const wh_plan *p);
void wh_my_insert_end(ut_buf *b, const wh_plan *p);
/* A string literal 'v' of v[0..n) (' doubled; any other byte, NUL
 * included, as it is: NO_BACKSLASH_ESCAPES). */
void wh_my_literal(ut_buf *b, const char *v, size_t n);
/* A binary literal X'hex'. */
void wh_my_hex(ut_buf *b, const uint8_t *v, size_t n);

/* ---- Redshift ------------------------------------------------------------------------ */

/* One lake file of a manifest. */
typedef struct wh_file {
    const char *url;     /* s3://bucket/key (full) */
    int64_t bytes;       /* content_length, required for Parquet */
} wh_file;
/* The manifest {"entries":[{"url":..,"mandatory":true,"meta":{"content_length":N}},..]}.
 * 0, or -1 with a message when a url is not a full s3:// url. */
int wh_manifest(ut_buf *b, const wh_file *f, int n, char *err, size_t errlen);
/* BEGIN; DELETE ...; COPY t (cols) FROM 'manifest_url' IAM_ROLE 'role'
 * FORMAT AS PARQUET MANIFEST; COMMIT; (append: without the DELETE). */
void wh_sql_redshift(ut_buf *b, const wh_plan *p, const char *manifest_url, const char *iam_role);

#endif
