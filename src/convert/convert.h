/* convert — NDJSON / CSV / TSV (optionally gzip/zstd) to Parquet, with
 * schema inference.
 *
 * Prefix: cv_.  Two passes unless a schema is given:
 *   1. inference: walk every record (or the first --sample N) and widen each
 *      column's type (in first-seen key order) through null -> bool -> int64
 *      -> double -> string; strings that are all RFC 3339 timestamps become
 *      timestamp; nested objects/arrays become strings holding their JSON
 *      text; bool mixed with numbers -> string; all-null -> string.  CSV/TSV
 *      fields are classified from their text (unquoted empty = null,
 *      true/false, integers without leading zeros, decimals/exponents,
 *      RFC 3339, else string).
 *   2. write: shred each record straight into pq_writer_put_* (no DOM), by
 *      opts.threads workers, one row group (chunk of records) each, appended
 *      to the file in input order (pipe.h); the file does not depend on the
 *      number of threads.
 * A record that does not fit (malformed, not an object, wrong field count,
 * a value that cannot convert to its column's type, null or missing in a
 * required column, a duplicate key, a key not in the schema) is cancelled,
 * counted and reported as "IN:LINE: reason" (the first max_report of them);
 * every other record is written.
 *
 * Value conversion in the write pass:
 *   bool column    JSON true/false; strings/fields "true"/"false" (any case)
 *   int32/int64    integers in range; doubles with an exact integer value;
 *                  strings/fields holding an integer
 *   float/double   integers and doubles; strings/fields holding a number
 *   string         strings as is; numbers, bools, objects and arrays as
 *                  their JSON text
 *   timestamp      RFC 3339 strings (µs, UTC)
 *   date           "YYYY-MM-DD" strings
 *   null (JSON null, unquoted empty CSV field) -> null. */
#ifndef SLUICE_CONVERT_H
#define SLUICE_CONVERT_H

#include "parquet/parquet.h"

#include <stddef.h>
#include <stdint.h>

typedef enum cv_format { CV_AUTO = 0, CV_NDJSON, CV_CSV, CV_TSV } cv_format;

/* ---- schemas ------------------------------------------------------------- */

typedef struct cv_schema cv_schema;

#define CV_MAX_COLUMNS 10000
#define CV_MAX_NAME 1024 /* bytes per column name */

/* An empty schema.  Destroy accepts NULL. */
cv_schema *cv_schema_create(void);
void cv_schema_destroy(cv_schema *s);
/* Parse "name:type,name:type!" (types bool, int32, int64, float, double,
 * string, timestamp, date; "!" = required / NOT NULL; names may not contain
 * ',' or ':'; spaces around items are trimmed) into a new schema.  NULL with
 * a message on a bad spec or duplicate name. */
cv_schema *cv_schema_parse(const char *spec, char *err, size_t errlen);
int cv_schema_ncols(const cv_schema *s);
/* Column i's name (NUL-terminated), type and required flag. */
const char *cv_schema_name(const cv_schema *s, int i);
pq_type cv_schema_type(const cv_schema *s, int i);
int cv_schema_required(const cv_schema *s, int i);
/* Index of column `name[0..n)`, or -1.  O(1) average. */
int cv_schema_find(const cv_schema *s, const char *name, size_t n);
/* "bool", "int64", ... as used in specs; NULL for other types. */
const char *cv_type_name(pq_type t);

/* ---- inference ----------------------------------------------------------- */

typedef struct cv_infer cv_infer;

cv_infer *cv_infer_create(void);
void cv_infer_destroy(cv_infer *inf);
/* Add one NDJSON record.  Returns 0, or -1 with a message when the record is
 * malformed or not an object (it then adds nothing).  p is the caller's
 * parser (reused across records). */
struct js_parser;
int cv_infer_json(cv_infer *inf, struct js_parser *p, const char *rec, size_t n, char *err,
                  size_t errlen);
/* For CSV/TSV: declare the columns (header names, in order) before rows.
 * Empty names become "column_N"; a repeated name gets a "_2", "_3"... suffix.
 * Returns 0, or -1 (over CV_MAX_COLUMNS). */
int cv_infer_header(cv_infer *inf, const char *const *names, const size_t *lens, int n,
                    char *err, size_t errlen);
/* Add one CSV/TSV row of n fields (n = number of header columns). */
void cv_infer_text(cv_infer *inf, const char *const *fields, const size_t *lens,
                   const int *quoted, int n);
/* Classify one CSV text field for tests: returns the pq_type it suggests
 * (PQ_STRING ..), or 0 for null. */
pq_type cv_classify_text(const char *s, size_t n, int quoted);
/* The inferred schema (a new object owned by the caller); all columns
 * optional.  Records seen so far. */
cv_schema *cv_infer_schema(const cv_infer *inf);
int64_t cv_infer_records(const cv_infer *inf);

/* ---- the driver ---------------------------------------------------------- */

/* Where a conversion stands, for a progress display. */
typedef struct cv_progress {
    const char *phase; /* "inferring", "converting" */
    int64_t records;   /* records read in this pass */
    int64_t bytes;     /* input bytes read (decompressed) */
    double seconds;    /* since the start */
    int done;          /* 1: the pass ended (clear the display) */
} cv_progress;

typedef struct cv_opts {
    cv_format format;          /* CV_AUTO: by extension, else sniffed */
    const char *schema;        /* --schema spec, or NULL to infer */
    int64_t sample;            /* infer from the first N records; 0 = all */
    int ignore_unknown;        /* drop keys / CSV columns not in --schema */
    int64_t max_errors;        /* rejected records allowed before exit 1 */
    int max_report;            /* rejected records printed (default 20) */
    /* Reports go to the caller (a terminal line is UI; src/cli draws it).
     * on_progress: at most 4 times a second while a pass works, then once
     * with done = 1; NULL = none.  on_reject: each of the first max_report
     * rejected records (IN, its line, why); NULL = logged (lg_warn). */
    void (*on_progress)(const cv_progress *p, void *arg);
    void (*on_reject)(const char *in, int64_t line, const char *why, void *arg);
    void *report_arg;
    size_t max_record;         /* bytes per record; default 16 MiB */
    int max_depth;             /* JSON nesting; default 64 */
    pq_writer_opts wopts;      /* codec, level, row group / page sizes ...;
                                  row_group_rows defaults to CV_ROW_GROUP_ROWS */
    int threads;               /* workers parsing + encoding row groups; 0 = one
                                  per online CPU.  The file does not depend on it. */
} cv_opts;

/* Rows per row group by default (as DuckDB's): a row group is the unit the
 * threads share out, so it is smaller than the writer's default. */
#define CV_ROW_GROUP_ROWS 122880

typedef struct cv_stats {
    int64_t rows, rejected;
    int64_t bytes_in;   /* compressed input bytes */
    int64_t bytes_raw;  /* decompressed input bytes */
    int64_t bytes_out;  /* Parquet file size */
    int ncols;
    double seconds, infer_seconds;
} cv_stats;

/* Defaults: auto format, infer, max_errors 0, max_report 20, writer defaults
 * but CV_ROW_GROUP_ROWS, threads 0 (all CPUs). */
void cv_opts_init(cv_opts *o);

/* Format from a file name (.ndjson .jsonl .json .csv .tsv .tab, before an
 * optional .gz/.zst), or CV_AUTO if the name does not say. */
cv_format cv_format_from_name(const char *path);
/* Format sniffed from the first bytes of (decompressed) data: first non-space
 * character '{' or '[' -> NDJSON; else a first line with more tabs than
 * commas -> TSV; else CSV. */
cv_format cv_format_sniff(const uint8_t *p, size_t n);

/* Convert `in` (path or "-") into the Parquet file `out`, written to
 * "OUT.tmp-PID" and renamed over `out` only when complete.  Rejected records
 * are reported to on_reject (first max_report) and counted in st.  Returns 0 when
 * the file was written (check st->rejected against max_errors), -1 with a
 * message when it could not be (no file left behind). */
int cv_convert(const char *in, const char *out, const cv_opts *o, cv_stats *st, char *err,
               size_t errlen);

#endif
