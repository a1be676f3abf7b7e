/* parquet — writer and reader for flat Parquet files.
 *
 * Prefix: pq_.  Cross-file internals: pq__ (see internal.h).
 *
 * The writer takes rows value by value (pq_writer_put_*), buffers one row
 * group at a time (pages are encoded and compressed as they fill, so memory is
 * bounded by the compressed size of one row group), and writes the footer on
 * pq_writer_close.  The reader decodes one column chunk (one column of one row
 * group) at a time into a pq_col, so memory is bounded by one column chunk.
 *
 * File layout (what the writer produces):
 *
 *   +------+---------------------------------------------+----------+-----+------+
 *   | PAR1 | row group 0: col 0 chunk, col 1 chunk, ...  | ... rg N | FMD | PAR1 |
 *   +------+---------------------------------------------+----------+-----+------+
 *                                                          footer:  FileMetaData
 *   column chunk:                                          (thrift compact) then
 *   +-----------------+-------------+-----+-------------+  its length (le32)
 *   | dictionary page | data page 0 | ... | data page k |
 *   +-----------------+-------------+-----+-------------+
 *   page: PageHeader (thrift compact) + body (compressed)
 *   data page v1 body (before compression):
 *   +----------------------------+--------------------------------------+
 *   | def levels: le32 len + RLE | values (PLAIN, or bit width + RLE ids) |
 *   +----------------------------+--------------------------------------+
 *   (def levels only for optional columns)
 */
#ifndef SLUICE_PARQUET_H
#define SLUICE_PARQUET_H

#include <stddef.h>
#include <stdint.h>

/* Column types.  The writer accepts PQ_BOOL .. PQ_DECIMAL, PQ_TIME and
 * PQ_TIMESTAMP_NTZ (not PQ_UINT64 / PQ_UNSUPPORTED); the reader reports every
 * type below and decodes each into one of the value kinds (pq_kind).  New
 * types are appended so the numbers of the old ones stay the same. */
typedef enum pq_type {
    PQ_BOOL = 1,     /* BOOLEAN                                            */
    PQ_INT32,        /* INT32 (also INT(8|16|32, signed) annotations)      */
    PQ_INT64,        /* INT64 (also INT(64, signed), UINT(8..32) as INT32) */
    PQ_FLOAT,        /* FLOAT                                              */
    PQ_DOUBLE,       /* DOUBLE                                             */
    PQ_STRING,       /* BYTE_ARRAY, STRING (UTF8) logical type             */
    PQ_BYTES,        /* BYTE_ARRAY without annotation, FIXED_LEN_BYTE_ARRAY */
    PQ_TIMESTAMP,    /* INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS); the
                        reader maps MILLIS/NANOS/INT96 timestamps here too  */
    PQ_DATE,         /* INT32 DATE, days since 1970-01-01                   */
    PQ_DECIMAL,      /* DECIMAL(p,s): the writer uses INT32 (p <= 9), INT64
                        (p <= 18), FLBA (p <= 38); the reader also takes
                        BYTE_ARRAY.  pq_reader_read decodes it as a double,
                        pq_reader_read_decimal exactly                     */
    PQ_UINT64,       /* reader only: INT(64, unsigned)                      */
    PQ_UNSUPPORTED,  /* reader only: nested (repeated / group) columns      */
    PQ_TIME,         /* INT64 TIME(MICROS, isAdjustedToUTC=false): µs since
                        midnight, 0 .. 86,400,000,000 (24:00:00 included, as
                        PostgreSQL allows it); the reader maps INT64
                        TIME(NANOS) and TIME_MICROS here too (as µs)        */
    PQ_TIMESTAMP_NTZ /* INT64 TIMESTAMP(isAdjustedToUTC=false, MICROS): wall
                        clock without zone, µs since 1970-01-01 00:00; the
                        reader maps every non-UTC INT64 timestamp unit here */
} pq_type;

/* How values of a column are held in memory by the reader (pq_col). */
typedef enum pq_kind {
    PQ_K_BOOL = 1, /* uint8_t 0/1          (PQ_BOOL)                          */
    PQ_K_I32,      /* int32_t              (PQ_INT32, PQ_DATE)                 */
    PQ_K_I64,      /* int64_t              (PQ_INT64, PQ_TIMESTAMP µs, PQ_UINT64 bits,
                                            PQ_TIME µs, PQ_TIMESTAMP_NTZ µs) */
    PQ_K_F32,      /* float                (PQ_FLOAT)                          */
    PQ_K_F64,      /* double               (PQ_DOUBLE, PQ_DECIMAL)             */
    PQ_K_BYTES     /* offsets + data       (PQ_STRING, PQ_BYTES)               */
} pq_kind;

/* Compression codecs; values are Parquet's CompressionCodec numbers. */
typedef enum pq_codec {
    PQ_UNCOMPRESSED = 0,
    PQ_SNAPPY = 1,
    PQ_GZIP = 2,
    PQ_LZ4_RAW = 7,
    PQ_ZSTD = 6
} pq_codec;

/* Value kind the reader uses for a column type. */
pq_kind pq_type_kind(pq_type t);
/* "BOOLEAN", "INT32", "TIMESTAMP", "DECIMAL", "TIME", "TIMESTAMP_NTZ", ...
 * for messages and `sluice schema`. */
const char *pq_type_name(pq_type t);
/* "UNCOMPRESSED", "SNAPPY", ...; NULL for an unknown value. */
const char *pq_codec_name(pq_codec c);
/* Parse a codec name (case-insensitive: none|uncompressed|snappy|gzip|zstd|
 * lz4_raw).  Returns 0 and sets *out, or -1. */
int pq_codec_parse(const char *name, pq_codec *out);

/* ======================================================================== */
/* Writer                                                                   */
/* ======================================================================== */

typedef struct pq_writer pq_writer;

typedef struct pq_column_spec {
    const char *name; /* UTF-8 column name, copied by the writer */
    pq_type type;     /* a type the writer accepts (see pq_type) */
    int optional;     /* 1 = OPTIONAL (nullable), 0 = REQUIRED */
    int precision;    /* PQ_DECIMAL only: 1..38 digits in all */
    int scale;        /* PQ_DECIMAL only: 0..precision digits after the point */
} pq_column_spec;

typedef struct pq_writer_opts {
    pq_codec codec;          /* default PQ_ZSTD */
    int level;               /* codec level; 0 = codec default (zstd 3, gzip 6) */
    size_t row_group_bytes;  /* roll a row group after this much encoded,
                                uncompressed data; default 128 MiB */
    int64_t row_group_rows;  /* ... or this many rows; default 1,048,576 */
    size_t page_bytes;       /* target uncompressed data page size; default 1 MiB */
    size_t dict_max_bytes;   /* fall back to PLAIN above this dictionary size;
                                default 1 MiB */
    int no_dictionary;       /* 1 = never dictionary-encode */
    const char *created_by;  /* default "sluice version <v>" */
} pq_writer_opts;

/* Fill *o with the defaults above. */
void pq_writer_opts_init(pq_writer_opts *o);

/* Create a writer that writes to `path` (created/truncated).  cols[0..ncols)
 * is copied.  opts may be NULL for defaults.  Returns NULL and a message in
 * err on failure (bad schema, e.g. a DECIMAL precision/scale out of range,
 * naming the column; cannot open file).  The file is complete only
 * after pq_writer_close returns 0. */
pq_writer *pq_writer_create(const char *path, const pq_column_spec *cols, int ncols,
                            const pq_writer_opts *opts, char *err, size_t errlen);

/* The writer's output for pq_writer_create_stream: write all n bytes of p,
 * returning 0, or -1 with errno set (the write fails and is reported). */
typedef int (*pq_write_fn)(void *ctx, const void *p, size_t n);

/* A writer whose bytes go to fn(ctx, ...) in file order, never seeking: a
 * pipe, a socket, an HTTP response (name is for messages).  Memory is one
 * row group, as for a file: set opts->row_group_bytes / row_group_rows low
 * for a stream of unknown length.  close writes the footer through fn and
 * does not sync; the stream is a complete Parquet file only after close
 * returned 0.  The caller owns ctx and whatever it writes to. */
pq_writer *pq_writer_create_stream(const char *name, pq_write_fn fn, void *ctx,
                                   const pq_column_spec *cols, int ncols,
                                   const pq_writer_opts *opts, char *err, size_t errlen);

/* A writer that encodes into memory instead of a file (name is for
 * messages): rows go in as with a file writer; pq_writer_append moves the
 * encoded row groups into a file writer.  Several memory writers can encode
 * in parallel (one thread each) and be appended in order; the file is then
 * byte-identical to one writer having taken all the rows, provided each
 * memory writer's rows end on the same row-group boundaries.  Do not close a
 * memory writer; destroy it. */
pq_writer *pq_writer_create_mem(const char *name, const pq_column_spec *cols, int ncols,
                                const pq_writer_opts *opts, char *err, size_t errlen);
/* Flush src's current row group (a row boundary; no row in progress), write
 * src's encoded row groups at dst's end, take over their metadata (offsets
 * shifted) and row count, and empty src for more rows.  dst must be a file
 * writer with the same columns and no row group in progress.  0, or -1 with
 * a message (a write error). */
int pq_writer_append(pq_writer *dst, pq_writer *src, char *err, size_t errlen);

/* Add one value to column `col` of the current row.  Each column gets exactly
 * one value (or null) per row, in any column order; a column not given a value
 * when pq_writer_end_row is called is null (an error if it is REQUIRED).
 * The put_* must match the column type:
 *   bool    PQ_BOOL
 *   i32     PQ_INT32, PQ_DATE (days)
 *   i64     PQ_INT64, PQ_TIMESTAMP (µs since epoch, UTC),
 *           PQ_TIMESTAMP_NTZ (µs since 1970-01-01 00:00 wall clock),
 *           PQ_TIME (µs since midnight, 0 .. 86,400,000,000)
 *   float   PQ_FLOAT;  double PQ_DOUBLE
 *   bytes   PQ_STRING, PQ_BYTES (copied)
 *   decimal PQ_DECIMAL, exact text (see below)
 *   decimal_unscaled  PQ_DECIMAL, the unscaled integer (value * 10^scale)
 * Return 0, or -1 with a message in pq_writer_error (type mismatch, value
 * given twice, null in a REQUIRED column, string over 16 MiB, TIME out of
 * range, decimal refused); the row stays open: cancel it or put a value
 * again. */
int pq_writer_put_null(pq_writer *w, int col);
int pq_writer_put_bool(pq_writer *w, int col, int v);
int pq_writer_put_i32(pq_writer *w, int col, int32_t v);
int pq_writer_put_i64(pq_writer *w, int col, int64_t v);
int pq_writer_put_float(pq_writer *w, int col, float v);
int pq_writer_put_double(pq_writer *w, int col, double v);
int pq_writer_put_bytes(pq_writer *w, int col, const void *p, size_t n);
/* Decimal text as PostgreSQL / MySQL print it: [+|-]digits[.digits] or
 * [+|-].digits, optionally followed by an exponent e[+|-]digits ("1.5e3").
 * Exact, never rounded: fewer fraction digits than the scale are padded with
 * zeros; more are accepted only when the extra ones are zeros ("1.20" in a
 * scale-1 column), otherwise refused; more integer digits than
 * precision - scale, spaces anywhere, NaN / Infinity, and text over 1024
 * bytes are refused.  "-0.00" is stored as 0. */
int pq_writer_put_decimal(pq_writer *w, int col, const char *text, size_t n);
/* The unscaled value directly (|v| < 10^precision, else refused). */
int pq_writer_put_decimal_unscaled(pq_writer *w, int col, int64_t unscaled);

/* The message of the last failed put_* / end_row (valid until the next call). */
const char *pq_writer_error(const pq_writer *w);

/* Finish the current row; may flush a row group to disk.  0 or -1 (message
 * in pq_writer_error; the row is cancelled). */
int pq_writer_end_row(pq_writer *w);
/* Discard the values put since the last end_row (a record that turned out
 * not to fit).  Always succeeds. */
void pq_writer_cancel_row(pq_writer *w);

/* Add a key/value pair to the file's key_value_metadata (copied). */
void pq_writer_set_kv(pq_writer *w, const char *key, const char *value);

/* Rows written so far (ended rows). */
int64_t pq_writer_rows(const pq_writer *w);
/* Bytes written to the file so far. */
int64_t pq_writer_bytes(const pq_writer *w);

/* Flush the last row group, write the footer, fsync and close the file
 * (a stream writer: write the footer through its function).
 * Returns 0, or -1 with a message.  Call pq_writer_destroy afterwards either
 * way. */
int pq_writer_close(pq_writer *w, char *err, size_t errlen);
/* Columns of the writer; name (NULL if col is out of range) and type of one. */
int pq_writer_num_columns(const pq_writer *w);
const char *pq_writer_column(const pq_writer *w, int col, pq_type *type);
/* Statistics of column col over the whole written file, exactly as the
 * footer has them (null count; min/max when every chunk with values has
 * them), without reading the file back.  Valid after pq_writer_close
 * returned 0; byte values point into the writer (until pq_writer_destroy).
 * 0, or -1 (not closed, col out of range). */
struct pq_stats;
int pq_writer_column_stats(const pq_writer *w, int col, struct pq_stats *out);
/* The file-wide min and max of DECIMAL column col exactly (unscaled, at
 * *scale; pq_decimal_format gives their text), after pq_writer_close.  1
 * (min/max set), 0 (no min/max: only nulls), -1 (not closed, col out of
 * range or not a DECIMAL). */
struct pq_dec128;
int pq_writer_column_decimal_stats(const pq_writer *w, int col, struct pq_dec128 *min,
                                   struct pq_dec128 *max, int *scale);
/* Free the writer.  Accepts NULL.  If close was not called the partial file
 * is left as is (callers write to a temp name and rename after close). */
void pq_writer_destroy(pq_writer *w);

/* ======================================================================== */
/* Reader                                                                   */
/* ======================================================================== */

typedef struct pq_reader pq_reader;

/* Open a Parquet file and parse its footer.  Returns NULL with a message
 * naming the file and the problem (not Parquet, truncated, corrupt footer,
 * footer over the 64 MiB cap). */
pq_reader *pq_reader_open(const char *path, char *err, size_t errlen);
/* Same over a memory image (not copied: buf must outlive the reader).
 * name is used in messages.  Used by tests and the fuzz target. */
pq_reader *pq_reader_open_mem(const void *buf, size_t len, const char *name, char *err,
                              size_t errlen);
/* Close and free.  Accepts NULL. */
void pq_reader_destroy(pq_reader *r);

int64_t pq_reader_num_rows(const pq_reader *r);
int pq_reader_num_row_groups(const pq_reader *r);
int64_t pq_reader_row_group_rows(const pq_reader *r, int rg);
int pq_reader_num_columns(const pq_reader *r);
const char *pq_reader_created_by(const pq_reader *r); /* may be NULL */
int pq_reader_num_kv(const pq_reader *r);
/* i-th key/value pair; *value may be NULL. */
void pq_reader_kv(const pq_reader *r, int i, const char **key, const char **value);

typedef struct pq_column_info {
    const char *name;      /* leaf name; dotted path for nested leaves */
    pq_type type;          /* PQ_UNSUPPORTED for nested columns */
    pq_kind kind;          /* how pq_reader_read holds the values */
    int optional;          /* max definition level is 1 */
    int physical;          /* Parquet physical Type number (0=BOOLEAN..7=FLBA) */
    int type_length;       /* FIXED_LEN_BYTE_ARRAY length */
    int precision, scale;  /* DECIMAL */
    const char *logical;   /* human-readable logical/converted type, "" if none */
} pq_column_info;

/* Describe column `col` (0-based).  The strings live as long as the reader. */
void pq_reader_column(const pq_reader *r, int col, pq_column_info *out);
/* Index of the column named `name` (exact match), or -1. */
int pq_reader_find_column(const pq_reader *r, const char *name);

/* One value, as statistics and predicates use it. */
typedef struct pq_value {
    pq_kind kind;
    union {
        int64_t i;   /* BOOL, I32, I64 */
        double d;    /* F32, F64 */
        struct {
            const uint8_t *p;
            size_t n;
        } s;         /* BYTES: points into reader memory */
    } u;
} pq_value;

typedef struct pq_stats {
    int has_min_max;     /* min/max present and usable for this column */
    int has_null_count;
    int64_t null_count;
    pq_value min, max;
} pq_stats;

typedef struct pq_chunk_info {
    pq_codec codec;
    int64_t num_values;
    int64_t compressed_bytes, uncompressed_bytes;
    int64_t data_offset;      /* file offset of the first page */
    int64_t dict_offset;      /* -1 if none */
    int encodings[8];         /* Parquet Encoding numbers used */
    int num_encodings;
    pq_stats stats;
} pq_chunk_info;

/* Column chunk facts for row group rg, column col (statistics decoded to the
 * column's kind; min/max are only reported when the column order is known and
 * the values are trustworthy).  Returns 0, or -1 for an index out of range. */
int pq_reader_chunk(const pq_reader *r, int rg, int col, pq_chunk_info *out);

/* Decoded values of one column chunk.  Fields are public; free with
 * pq_col_free.  For PQ_K_BYTES, value i is data[off[i] .. off[i+1]). */
typedef struct pq_col {
    pq_kind kind;
    int64_t n;        /* number of rows */
    uint8_t *nulls;   /* n bytes, 1 = null; NULL when the chunk has no nulls */
    void *values;     /* n elements of the kind's C type (BYTES: unused) */
    uint64_t *off;    /* BYTES: n + 1 offsets */
    uint8_t *data;    /* BYTES: value bytes */
} pq_col;

/* Read column `col` of row group `rg` into *out (which is overwritten; free
 * it with pq_col_free).  Verifies page CRCs when present.  Returns 0, or -1
 * with a message naming the file, row group, column and the problem.  Never
 * allocates more than the chunk's declared sizes allow (caps: 1 GiB per page,
 * 2^31 values per chunk). */
int pq_reader_read(pq_reader *r, int rg, int col, pq_col *out, char *err, size_t errlen);
void pq_col_free(pq_col *c);

/* An unscaled DECIMAL value as a 128-bit two's complement integer:
 * value = (hi * 2^64 + lo) / 10^scale. */
typedef struct pq_dec128 {
    int64_t hi;
    uint64_t lo;
} pq_dec128;

/* Read DECIMAL column `col` of row group `rg` exactly: out->values holds
 * out->n pq_dec128 unscaled values (0 where out->nulls says null) and
 * out->kind is 0 (no pq_kind: the values are not doubles).  Free with
 * pq_col_free.  Returns 0, or -1 with a message (not a DECIMAL column, a
 * BYTE_ARRAY value over 16 bytes, or what pq_reader_read reports). */
int pq_reader_read_decimal(pq_reader *r, int rg, int col, pq_col *out, char *err,
                           size_t errlen);

/* Exact text of the unscaled value (hi, lo) at `scale` (0..76): "-123.45",
 * "0.05", "12" (scale 0).  Writes a NUL-terminated string of at most 80 bytes
 * into out[0..n).  Returns its length, or -1 when n is too small or scale is
 * out of range (out is then ""). */
int pq_decimal_format(int64_t hi, uint64_t lo, int scale, char *out, size_t n);

/* Predicate for row-group skipping: may any row of chunk (rg, col) satisfy
 * `column <op> v`?  op is one of "=", "<", "<=", ">", ">=".  Returns 1 if
 * it may (or statistics are missing), 0 if the statistics prove it cannot.
 * v must have the column's kind (or I64/F64 for numeric columns). */
int pq_reader_may_match(const pq_reader *r, int rg, int col, const char *op, const pq_value *v);

#endif
