/* Writer internals shared by writer.c, wenc.c, wdict.c, wmeta.c. */
#ifndef SLUICE_PARQUET_WRITER_INT_H
#define SLUICE_PARQUET_WRITER_INT_H

#include "parquet/internal.h"

/* ---- RLE / bit-packed hybrid (wenc.c) -------------------------------------
 *
 *   encoded := run*
 *   run     := rle-run | bit-packed-run
 *   rle-run := uvarint(count << 1)  value (ceil(width/8) bytes, little endian)
 *   bit-packed-run := uvarint(groups << 1 | 1)  groups*8 values, width bits
 *                     each, packed LSB first
 *
 * Append the hybrid encoding of v[0..n) at bit width `width` (0..32) to out.
 * Only the final bit-packed group is padded (with zeros). */
void pq__rle_encode_u32(const uint32_t *v, size_t n, int width, ut_buf *out);
void pq__rle_encode_u8(const uint8_t *v, size_t n, int width, ut_buf *out);
/* Pack n booleans (bytes 0/1) as PLAIN BOOLEAN: 1 bit each, LSB first. */
void pq__pack_bools(const uint8_t *v, size_t n, ut_buf *out);
/* Append v[0..n) as DELTA_BINARY_PACKED (block 128, 4 miniblocks). */
void pq__delta_encode(const int64_t *v, size_t n, ut_buf *out);
/* Bits needed for values 0..max (at least 1). */
int pq__bit_width(uint32_t max);

/* ---- dictionary (wdict.c) ---------------------------------------------------
 * Maps distinct values to dense indices.  Values are kept PLAIN-encoded in
 * `plain` (exactly the dictionary page body).  Fixed-width values are `width`
 * bytes each; byte arrays (width 0) are le32 length + bytes. */
typedef struct pq__dict {
    int width;          /* 1..8 fixed width, 0 = BYTE_ARRAY */
    uint32_t n;         /* entries */
    ut_buf plain;       /* dictionary page body (PLAIN) */
    uint64_t *pos;      /* BYTE_ARRAY: offset of entry i's length prefix in plain */
    uint64_t *slots;    /* open addressing: hash high 32 bits << 32 | entry index + 1;
                           0 = empty */
    uint64_t *hashes;   /* hash of entry i (for rehash) */
    uint32_t mask;      /* slots capacity - 1 */
    uint32_t cap;       /* capacity of pos/hashes arrays */
} pq__dict;

void pq__dict_init(pq__dict *d, int width);
void pq__dict_reset(pq__dict *d);
void pq__dict_free(pq__dict *d);
/* Index of value p[0..n) (fixed types: n == width), inserting it if new;
 * *added is set to 1 when it was inserted. */
uint32_t pq__dict_put(pq__dict *d, const void *p, size_t n, int *added);
/* Remove the most recently inserted entry (undo of a cancelled row). */
void pq__dict_pop(pq__dict *d);
/* Entry i as bytes (fixed: width bytes; BYTE_ARRAY: without the prefix). */
const uint8_t *pq__dict_get(const pq__dict *d, uint32_t i, size_t *n);

/* ---- exact decimals (decimal.c) ----------------------------------------------
 * FIXED_LEN_BYTE_ARRAY length for a precision (19..38 -> 9..16 bytes). */
int pq__dec_flba_len(int precision);
/* Parse decimal text (grammar in decimal.c) into the unscaled value for
 * DECIMAL(precision, scale).  0, or -1 with the reason in why. */
int pq__dec_parse(const char *s, size_t n, int precision, int scale, __int128 *out, char *why,
                  size_t wl);
/* |v| < 10^precision? */
int pq__dec_fits(__int128 v, int precision);
/* v as len bytes of big-endian two's complement (v must fit). */
void pq__dec_to_be(__int128 v, int len, uint8_t *out);

/* ---- writer state ---------------------------------------------------------- */

#define PQ__MAX_COLUMNS 4096

typedef struct pq__wcol {
    char *name;
    pq_type type;
    int optional;
    int phys;           /* Parquet physical type */
    int width;          /* fixed value width in bytes, 0 for BYTE_ARRAY */
    int precision, scale; /* DECIMAL */
    /* current data page */
    ut_buf defs;        /* one definition level (0/1) per value, optional only */
    ut_buf vals;        /* PLAIN values (dictionary off) */
    uint32_t *ids;      /* dictionary indices (dictionary on) */
    size_t nids, cap_ids;
    int64_t page_values, page_nulls;
    /* dictionary for the current chunk */
    int dict_on;        /* indices are being written */
    int dict_used;      /* some page of this chunk is dictionary-encoded */
    int dict_fell_back; /* switched to PLAIN in this chunk */
    pq__dict dict;
    /* current column chunk: encoded pages (headers + compressed bodies) */
    ut_buf chunk;
    int64_t chunk_values, chunk_nulls, chunk_uncompressed;
    uint32_t encodings; /* bit per Parquet Encoding used by data pages */
    /* statistics of the chunk (raw PLAIN bytes of the value, no prefix) */
    int has_minmax;
    ut_buf min, max, prev_min, prev_max;
    /* current-row bookkeeping for pq_writer_cancel_row */
    uint64_t row_gen;
    size_t row_vals_len;
    int row_added, row_stats, row_had_minmax;
} pq__wcol;

/* Footer facts of one written column chunk. */
typedef struct pq__chunk_meta {
    int64_t values, nulls;
    int64_t data_offset, dict_offset; /* dict_offset -1 if none */
    int64_t compressed, uncompressed;
    uint32_t encodings;
    int has_minmax;
    uint8_t *min, *max; /* owned; NULL when !has_minmax */
    size_t min_len, max_len;
} pq__chunk_meta;

typedef struct pq__rg_meta {
    int64_t rows, offset, compressed, uncompressed;
    pq__chunk_meta *chunks;
} pq__rg_meta;

struct pq_writer {
    char *path;
    int fd;
    int64_t offset;     /* bytes written to the file */
    pq_writer_opts o;
    char *created_by;
    int ncols;
    pq__wcol *cols;
    /* rows */
    uint64_t row_gen;   /* a column with row_gen == this has a value this row */
    int nset;           /* columns set in the current row */
    int page_check;     /* some page may be full: check at end of row */
    int64_t rows, rg_rows;
    size_t row_bytes, row_start_bytes; /* buffered uncompressed bytes this row group */
    /* finished row groups */
    pq__rg_meta *rgs;
    int nrg, cap_rg;
    /* key/value metadata: 2*nkv strings */
    char **kv;
    int nkv, cap_kv;
    int closed;
    int mem_mode;       /* pq_writer_create_mem: bytes go to mem, offsets from 0 */
    pq_write_fn wfn;    /* pq_writer_create_stream: bytes go to wfn(wctx, ...) */
    void *wctx;
    ut_buf mem;
    ut_buf scratch, scratch2, hdr;
    ut_buf alt, alt2; /* PLAIN alternative of an integer page, and compressed */
    char err[512];
};

#define PQ__TIME_MAX_US INT64_C(86400000000) /* 24:00:00 */

/* Whether column c may be dictionary-encoded at the start of a chunk.
 * FIXED_LEN_BYTE_ARRAY (DECIMAL p > 18) always goes PLAIN: wide, mostly
 * distinct values, and it keeps the dictionary to widths of at most 8. */
static inline int pq__dict_allowed(const pq_writer *w, const pq__wcol *c)
{
    return !w->o.no_dictionary && c->phys != PQ__BOOLEAN && c->phys != PQ__FIXED_LEN_BYTE_ARRAY;
}

/* wpage.c / wmeta.c */
int pq__write_all(pq_writer *w, const void *p, size_t n, char *err, size_t errlen);
/* Encode the column's current page into its chunk buffer (no-op if empty). */
int pq__flush_page(pq_writer *w, pq__wcol *c, char *err, size_t errlen);
/* Flush every column's last page, write all chunks, record the row group. */
int pq__flush_row_group(pq_writer *w, char *err, size_t errlen);
int pq__write_footer(pq_writer *w, char *err, size_t errlen);
/* Free the metadata of w's finished row groups (w->nrg = 0). */
void pq__free_row_groups(pq_writer *w);

#endif
