/* Reader-private declarations (pq__ prefix): the thrift compact decoder, the
 * decoded footer / page header structures and the value decoders.  Not part of
 * the public API; used by thrift_dec.c, meta.c, reader.c, colread.c, decode.c,
 * stats.c and the unit tests. */
#ifndef SLUICE_PARQUET_READ_INT_H
#define SLUICE_PARQUET_READ_INT_H

#include "parquet/internal.h"

/* ---- thrift compact decoder (thrift_dec.c) ------------------------------- */

#define PQ__TR_MAX_DEPTH 32

/* Bounded reader over p[0..end).  Errors are sticky: after the first problem
 * `bad` is set, `msg` says what went wrong, and every further call returns
 * zero values without reading, so callers may check once at the end. */
typedef struct pq__tr {
    const uint8_t *p, *end;
    int depth;
    int bad;
    const char *msg;
    int16_t last[PQ__TR_MAX_DEPTH + 1];
} pq__tr;

void pq__tr_init(pq__tr *t, const void *p, size_t n);
/* Next field header of the current struct.  Returns 0 at STOP (or on error),
 * else 1 with *id and *type (PQ__TT_*; bool fields report TRUE/FALSE). */
int pq__tr_field(pq__tr *t, int *id, int *type);
/* Enter / leave a nested struct (the field header was already read):
 *   pq__tr_struct_begin(t); while (pq__tr_field(t, &id, &ty)) {...} pq__tr_struct_end(t);
 * (pq__tr_field consumes the STOP). */
void pq__tr_struct_begin(pq__tr *t);
void pq__tr_struct_end(pq__tr *t);
int64_t pq__tr_i64(pq__tr *t); /* any zigzag varint integer (i16/i32/i64) */
int32_t pq__tr_i32(pq__tr *t); /* same, error when out of int32 range */
/* Binary/string: *n bytes at the returned pointer (inside the input). */
const uint8_t *pq__tr_binary(pq__tr *t, size_t *n);
/* List/set header: element type and count (count validated against the
 * remaining input: at least one byte per element except bools). */
int pq__tr_list(pq__tr *t, int *elem_type);
/* Bool element inside a list. */
int pq__tr_list_bool(pq__tr *t);
/* Skip a value of the given type (depth-bounded). */
void pq__tr_skip(pq__tr *t, int type);
void pq__tr_fail(pq__tr *t, const char *msg);

/* ---- decoded metadata (meta.c) ------------------------------------------- */

typedef struct pq__stats_raw {
    const uint8_t *min, *max;          /* legacy fields 1/2 */
    size_t min_n, max_n;
    const uint8_t *min_value, *max_value; /* fields 5/6 */
    size_t min_value_n, max_value_n;
    int has_null_count;
    int64_t null_count;
} pq__stats_raw;

typedef struct pq__chunk {
    int type;                /* physical type */
    int encodings[8];
    int num_encodings;
    int codec;
    int64_t num_values;
    int64_t uncompressed, compressed;
    int64_t data_offset, dict_offset; /* dict_offset -1 when absent */
    int has_stats;
    pq__stats_raw stats;
    int has_meta;
} pq__chunk;

typedef struct pq__rowgroup {
    int64_t num_rows;
    int ncols;
    pq__chunk *cols;
} pq__rowgroup;

/* LogicalType union member ids (parquet.thrift). */
enum { PQ__LT_NONE = 0, PQ__LT_STRING = 1, PQ__LT_MAP = 2, PQ__LT_LIST = 3, PQ__LT_ENUM = 4,
       PQ__LT_DECIMAL = 5, PQ__LT_DATE = 6, PQ__LT_TIME = 7, PQ__LT_TIMESTAMP = 8,
       PQ__LT_INTEGER = 10, PQ__LT_UNKNOWN = 11, PQ__LT_JSON = 12, PQ__LT_BSON = 13,
       PQ__LT_UUID = 14, PQ__LT_FLOAT16 = 15 };
enum { PQ__UNIT_MILLIS = 1, PQ__UNIT_MICROS = 2, PQ__UNIT_NANOS = 3 };

typedef struct pq__schema_el {
    const uint8_t *name;
    size_t name_n;
    int has_type, type;
    int type_length;
    int has_rep, rep;
    int num_children;
    int has_ct, ct;              /* converted type */
    int scale, precision;
    int lt;                      /* PQ__LT_* */
    int lt_unit;                 /* TIME/TIMESTAMP unit */
    int lt_utc;
    int lt_bits, lt_signed;      /* INTEGER */
    int lt_scale, lt_precision;  /* DECIMAL */
} pq__schema_el;

typedef struct pq__kv_raw {
    const uint8_t *k, *v;
    size_t kn, vn;
    int has_v;
} pq__kv_raw;

typedef struct pq__fmd {
    int64_t num_rows;
    int nschema;
    pq__schema_el *schema;
    int nrg;
    pq__rowgroup *rgs;
    int nkv;
    pq__kv_raw *kv;
    const uint8_t *created_by;
    size_t created_by_n;
    int ncolorders;
    int *colorders;              /* 1 = TypeDefinedOrder, 0 = unknown */
} pq__fmd;

/* Parse FileMetaData from p[0..n).  Pointers in the result point into p.
 * Returns 0, or -1 with a message.  Free with pq__fmd_free. */
int pq__fmd_parse(const uint8_t *p, size_t n, pq__fmd *out, char *err, size_t errlen);
void pq__fmd_free(pq__fmd *f);

typedef struct pq__page_header {
    int type;
    int32_t uncompressed, compressed;
    int has_crc;
    uint32_t crc;
    /* data page v1 / v2 */
    int32_t num_values;
    int encoding;
    int def_encoding, rep_encoding;
    int32_t num_nulls, num_rows;               /* v2 */
    int32_t def_len, rep_len;                  /* v2 */
    int is_compressed;                         /* v2; default 1 */
    /* dictionary page */
    int32_t dict_num_values;
    int dict_encoding;
    int has_data_header, has_dict_header, has_v2_header;
} pq__page_header;

/* Parse a PageHeader at p[0..n); *used = bytes consumed.  0 or -1 + message. */
int pq__page_header_parse(const uint8_t *p, size_t n, pq__page_header *h, size_t *used,
                          char *err, size_t errlen);

/* ---- value decoders (decode.c) ------------------------------------------- */

/* RLE / bit-packed hybrid decoder over p[0..end) for values of bit_width
 * (0..32).  Decodes exactly `n` values into out (uint32).  Returns 0, or -1
 * with a message when the input runs out or is malformed. */
int pq__rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out, int64_t n,
                   char *err, size_t errlen);

/* DELTA_BINARY_PACKED: decode exactly n values as int64 (32-bit columns wrap
 * in 32 bits as the spec requires: callers truncate).  *used = bytes consumed.
 * 0 or -1. */
int pq__delta_decode(const uint8_t *p, size_t len, int64_t *out, int64_t n, size_t *used,
                     char *err, size_t errlen);
/* Number of values in a DELTA_BINARY_PACKED header (without decoding); -1 if
 * the header is malformed. */
int64_t pq__delta_count(const uint8_t *p, size_t len);

/* Byte arrays decoded from a page: n values appended to data; off[0..n] get
 * the offsets of each value in data and the end.  Encodings: PLAIN,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY.  At most max_out bytes are
 * appended (DELTA_BYTE_ARRAY can describe far more output than input). */
int pq__decode_bytes(int encoding, const uint8_t *p, size_t len, int64_t n, ut_buf *data,
                     uint64_t *off, uint64_t max_out, char *err, size_t errlen);

/* Fixed-width values (PLAIN or BYTE_STREAM_SPLIT) of `width` bytes each:
 * copies n values into out (n * width bytes).  0 or -1. */
int pq__decode_fixed(int encoding, const uint8_t *p, size_t len, int64_t n, int width,
                     uint8_t *out, char *err, size_t errlen);

/* ---- the reader object (reader.c) ------------------------------------------ */

typedef struct pq__colinfo {
    char *name;              /* leaf name or dotted path */
    pq_type type;
    pq_kind kind;
    int physical, type_length;
    int precision, scale;
    int optional, max_def;
    int ts_unit;             /* PQ__UNIT_* for PQ_TIMESTAMP(_NTZ), PQ_TIME (INT96: NANOS) */
    int zero_extend;         /* UINT_8/16/32 in INT32 read as int64 */
    int typed_order;         /* column_orders says TypeDefinedOrder, or is absent */
    int no_stats;            /* min/max order not bytewise (FLOAT16, INTERVAL) */
    char logical[64];
} pq__colinfo;

struct pq_reader {
    char *name;
    const uint8_t *buf;
    size_t len;
    int mapped;
    pq__fmd fmd;
    int ncols;
    pq__colinfo *cols;
    char *created_by;
    int nkv;
    struct {
        char *k, *v;
    } *kv;
};

/* Big-endian two's complement integer of n bytes as a double (DECIMAL). */
double pq__be_to_double(const uint8_t *p, size_t n);
/* Timestamp in `unit` (PQ__UNIT_*) to microseconds (floor; saturating). */
int64_t pq__ts_to_us(int64_t v, int unit);

/* ---- reader limits (colread.c) -------------------------------------------- */

/* Hard caps for one pq_reader_read: decoded values per chunk (default 2^31)
 * and decoded bytes per chunk, values plus byte-array data (default 16 GiB).
 * Tests and the fuzz target lower them. */
extern int64_t pq__read_max_values;
extern uint64_t pq__read_max_bytes;

#endif
