/* Parquet internals shared between the writer and the reader (pq__ prefix).
 * Not part of the public API. */
#ifndef SLUICE_PARQUET_INTERNAL_H
#define SLUICE_PARQUET_INTERNAL_H

#include "parquet/parquet.h"
#include "util/util.h"

/* ---- Parquet enums (parquet.thrift) ------------------------------------- */
enum { PQ__BOOLEAN = 0, PQ__INT32, PQ__INT64, PQ__INT96, PQ__FLOAT, PQ__DOUBLE,
       PQ__BYTE_ARRAY, PQ__FIXED_LEN_BYTE_ARRAY };
enum { PQ__REQUIRED = 0, PQ__OPTIONAL, PQ__REPEATED };
enum { PQ__ENC_PLAIN = 0, PQ__ENC_PLAIN_DICTIONARY = 2, PQ__ENC_RLE = 3,
       PQ__ENC_BIT_PACKED = 4, PQ__ENC_DELTA_BINARY_PACKED = 5,
       PQ__ENC_DELTA_LENGTH_BYTE_ARRAY = 6, PQ__ENC_DELTA_BYTE_ARRAY = 7,
       PQ__ENC_RLE_DICTIONARY = 8, PQ__ENC_BYTE_STREAM_SPLIT = 9 };
enum { PQ__PAGE_DATA = 0, PQ__PAGE_INDEX = 1, PQ__PAGE_DICTIONARY = 2, PQ__PAGE_DATA_V2 = 3 };
/* ConvertedType */
enum { PQ__CT_UTF8 = 0, PQ__CT_MAP = 1, PQ__CT_MAP_KEY_VALUE = 2, PQ__CT_LIST = 3,
       PQ__CT_ENUM = 4, PQ__CT_DECIMAL = 5, PQ__CT_DATE = 6, PQ__CT_TIME_MILLIS = 7,
       PQ__CT_TIME_MICROS = 8, PQ__CT_TIMESTAMP_MILLIS = 9, PQ__CT_TIMESTAMP_MICROS = 10,
       PQ__CT_UINT_8 = 11, PQ__CT_UINT_16 = 12, PQ__CT_UINT_32 = 13, PQ__CT_UINT_64 = 14,
       PQ__CT_INT_8 = 15, PQ__CT_INT_16 = 16, PQ__CT_INT_32 = 17, PQ__CT_INT_64 = 18,
       PQ__CT_JSON = 19, PQ__CT_BSON = 20, PQ__CT_INTERVAL = 21 };

/* ---- Thrift compact protocol --------------------------------------------- */
enum { PQ__TT_STOP = 0, PQ__TT_TRUE = 1, PQ__TT_FALSE = 2, PQ__TT_BYTE = 3, PQ__TT_I16 = 4,
       PQ__TT_I32 = 5, PQ__TT_I64 = 6, PQ__TT_DOUBLE = 7, PQ__TT_BINARY = 8,
       PQ__TT_LIST = 9, PQ__TT_SET = 10, PQ__TT_MAP = 11, PQ__TT_STRUCT = 12 };

/* Encoder: writes into a ut_buf.  Struct nesting up to 16 deep.
 *   pq__tw w = {.b = &buf};
 *   pq__tw_i32(&w, 1, 42);            field 1: i32
 *   pq__tw_struct_begin(&w, 2);       field 2: struct { ...
 *   pq__tw_struct_end(&w);            ... }
 *   pq__tw_list_begin(&w, 3, PQ__TT_STRUCT, n); then n x
 *       pq__tw_elem_struct_begin / ... / pq__tw_struct_end
 *   pq__tw_end(&w);                   STOP of the top-level struct */
typedef struct pq__tw {
    ut_buf *b;
    int depth;
    int16_t last[17];
} pq__tw;

void pq__tw_bool(pq__tw *w, int id, int v);
void pq__tw_i32(pq__tw *w, int id, int32_t v);
void pq__tw_i64(pq__tw *w, int id, int64_t v);
void pq__tw_binary(pq__tw *w, int id, const void *p, size_t n);
void pq__tw_string(pq__tw *w, int id, const char *s);
void pq__tw_struct_begin(pq__tw *w, int id);
void pq__tw_struct_end(pq__tw *w);
void pq__tw_list_begin(pq__tw *w, int id, int elem_type, int n);
void pq__tw_elem_struct_begin(pq__tw *w);
void pq__tw_elem_i32(pq__tw *w, int32_t v);
void pq__tw_elem_binary(pq__tw *w, const void *p, size_t n);
void pq__tw_end(pq__tw *w);

/* ---- compression ---------------------------------------------------------- */

/* Append the compressed form of in[0..n) to out.  level 0 = default.
 * Returns 0, or -1 with a message. */
int pq__compress(pq_codec c, int level, const void *in, size_t n, ut_buf *out, char *err,
                 size_t errlen);
/* Decompress in[0..n) into out[0..out_len) exactly (out_len is the page's
 * declared uncompressed size).  Returns 0, or -1 with a message when the data
 * is corrupt or does not decompress to exactly out_len bytes. */
int pq__decompress(pq_codec c, const void *in, size_t n, void *out, size_t out_len, char *err,
                   size_t errlen);

/* CRC-32 (zlib polynomial) as Parquet page headers use. */
uint32_t pq__crc32(const void *p, size_t n);

#endif
