/* pq_reader_read: decode one column chunk into a pq_col.
 *
 * Per page: parse the header, bound its sizes by the chunk, check the CRC
 * when present, decompress into a reused page buffer (declared sizes are
 * checked against the codec's maximum expansion before allocating), decode
 * the definition levels, stage the non-null values in their physical form
 * (dictionary gather or direct decoding), then convert them to the column's
 * value kind and scatter them around the nulls into the output.
 *
 * Output arrays grow with the values actually decoded (never from counts the
 * footer merely claims), within pq__read_max_values / pq__read_max_bytes.
 * The host is assumed little-endian, as Parquet's PLAIN encoding is. */
#include "parquet/read_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t pq__read_max_values = (int64_t)1 << 31;
uint64_t pq__read_max_bytes = (uint64_t)16 << 30;

#define PQ__MAX_PAGE ((int64_t)1 << 30)

typedef struct dict {
    int present;
    int64_t n;
    uint8_t *fixed;       /* n * width bytes (fixed-width physical types) */
    ut_buf data;          /* BYTE_ARRAY values */
    uint64_t *off;        /* n + 1 */
} dict;

typedef struct rd {
    const pq_reader *r;
    const pq__colinfo *c;
    const pq__chunk *ch;
    int width;            /* physical value width; 0 for BYTE_ARRAY */
    size_t es;            /* output element size (non-bytes kinds) */
    double scale_div;     /* DECIMAL */
    int64_t rows, n, cap;
    int any_null;
    uint8_t *values, *nulls;
    uint64_t *off;
    ut_buf data;          /* output bytes (PQ_K_BYTES) */
    uint8_t *page;        /* decompression buffer */
    size_t page_cap;
    uint32_t *lev, *idx;  /* definition levels, dictionary indices */
    size_t lev_cap, idx_cap;
    uint8_t *stage;       /* staged fixed-width values */
    size_t stage_cap;
    uint64_t *soff;       /* staged byte-array offsets (nn + 1) */
    size_t soff_cap;
    ut_buf sdata;         /* staged byte arrays when the output is not bytes */
    int64_t *tmp64;       /* DELTA_BINARY_PACKED */
    size_t tmp_cap;
    dict d;
    char *err;
    size_t errlen;
} rd;

static void *grow(void *p, size_t *cap, size_t need, size_t es)
{
    if (need <= *cap) return p;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    *cap = c;
    return ut_realloc(p, c * es);
}

static int physical_width(const pq__colinfo *c)
{
    switch (c->physical) {
    case PQ__BOOLEAN: return 1;
    case PQ__INT32: case PQ__FLOAT: return 4;
    case PQ__INT64: case PQ__DOUBLE: return 8;
    case PQ__INT96: return 12;
    case PQ__FIXED_LEN_BYTE_ARRAY: return c->type_length;
    }
    return 0;
}

static size_t kind_size(pq_kind k)
{
    switch (k) {
    case PQ_K_BOOL: return 1;
    case PQ_K_I32: case PQ_K_F32: return 4;
    case PQ_K_I64: case PQ_K_F64: return 8;
    case PQ_K_BYTES: return 0;
    }
    return 0;
}

/* Output memory in use (for the pq__read_max_bytes cap). */
static uint64_t used_bytes(const rd *x, int64_t cap)
{
    uint64_t per = x->es + 1 + (x->c->kind == PQ_K_BYTES ? 8 : 0);
    return (uint64_t)cap * per + x->data.len;
}

static int ensure_rows(rd *x, int64_t need)
{
    if (need <= x->cap) return 0;
    int64_t c = x->cap ? x->cap * 2 : 1024;
    if (c < need) c = need;
    if (c > x->rows) c = x->rows;
    if (c < need) c = need;
    if (used_bytes(x, c) > pq__read_max_bytes)
        return ut_err(x->err, x->errlen, "decoded chunk exceeds the %llu byte limit",
                      (unsigned long long)pq__read_max_bytes);
    if (x->es) x->values = ut_realloc(x->values, (size_t)c * x->es);
    if (x->c->max_def) x->nulls = ut_realloc(x->nulls, (size_t)c);
    if (x->c->kind == PQ_K_BYTES) x->off = ut_realloc(x->off, ((size_t)c + 1) * sizeof *x->off);
    x->cap = c;
    return 0;
}

/* ---- decompression ---------------------------------------------------------- */

/* Largest expansion each codec can produce (bounds the allocation made from a
 * page's declared uncompressed size before decompressing). */
static int64_t max_expansion(int codec, int64_t n)
{
    switch (codec) {
    case PQ_SNAPPY: return n * 64 + 64;
    case PQ_LZ4_RAW: return n * 256 + 64;
    case PQ_GZIP: return n * 1100 + 1024;
    case PQ_ZSTD: return n * 32768 + 1024;
    }
    return n;
}

/* Decompress in[0..n) to *out (ulen bytes): points into the file for
 * UNCOMPRESSED, else into x->page. */
static int inflate(rd *x, int codec, const uint8_t *in, int64_t n, int64_t ulen,
                   const uint8_t **out)
{
    char msg[160];
    if (ulen < 0 || ulen > PQ__MAX_PAGE)
        return ut_err(x->err, x->errlen, "page uncompressed size %lld over the 1 GiB cap",
                      (long long)ulen);
    if (codec == PQ_UNCOMPRESSED) {
        if (ulen != n)
            return ut_err(x->err, x->errlen,
                          "uncompressed page sizes disagree (%lld vs %lld bytes)", (long long)n,
                          (long long)ulen);
        *out = in;
        return 0;
    }
    if (ulen == 0) { /* an empty section (e.g. the values of an all-null v2 page) */
        *out = in;
        return 0;
    }
    if (!pq_codec_name((pq_codec)codec))
        return ut_err(x->err, x->errlen, "unsupported compression codec %d", codec);
    if (ulen > max_expansion(codec, n))
        return ut_err(x->err, x->errlen,
                      "page claims %lld bytes from %lld compressed bytes: impossible for %s",
                      (long long)ulen, (long long)n, pq_codec_name((pq_codec)codec));
    x->page = grow(x->page, &x->page_cap, (size_t)ulen + 1, 1);
    if (pq__decompress((pq_codec)codec, in, (size_t)n, x->page, (size_t)ulen, msg, sizeof msg))
        return ut_err(x->err, x->errlen, "%s", msg);
    *out = x->page;
    return 0;
}

/* ---- values ------------------------------------------------------------------ */

/* Decode nn fixed-width values (physical form) into x->stage. */
static int stage_fixed(rd *x, int enc, const uint8_t *p, size_t len, int64_t nn)
{
    int w = x->width;
    x->stage = grow(x->stage, &x->stage_cap, (size_t)nn * (size_t)w + 1, 1);
    if (x->c->physical == PQ__BOOLEAN) {
        if (enc == PQ__ENC_PLAIN) {
            if ((uint64_t)(nn + 7) / 8 > len) return ut_err(x->err, x->errlen, "PLAIN booleans truncated");
            for (int64_t i = 0; i < nn; i++) x->stage[i] = (p[i >> 3] >> (i & 7)) & 1;
            return 0;
        }
        if (enc == PQ__ENC_RLE) {
            if (len < 4) return ut_err(x->err, x->errlen, "RLE booleans truncated");
            uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            if (l > len - 4) return ut_err(x->err, x->errlen, "RLE booleans length beyond the page");
            x->idx = grow(x->idx, &x->idx_cap, (size_t)nn + 1, sizeof *x->idx);
            if (pq__rle_decode(p + 4, l, 1, x->idx, nn, x->err, x->errlen)) return -1;
            for (int64_t i = 0; i < nn; i++) x->stage[i] = (uint8_t)x->idx[i];
            return 0;
        }
        return ut_err(x->err, x->errlen, "encoding %d not supported for BOOLEAN", enc);
    }
    if (enc == PQ__ENC_DELTA_BINARY_PACKED &&
        (x->c->physical == PQ__INT32 || x->c->physical == PQ__INT64)) {
        size_t used;
        x->tmp64 = grow(x->tmp64, &x->tmp_cap, (size_t)nn + 1, sizeof *x->tmp64);
        if (pq__delta_decode(p, len, x->tmp64, nn, &used, x->err, x->errlen)) return -1;
        for (int64_t i = 0; i < nn; i++) {
            if (w == 4) {
                uint32_t v = (uint32_t)(uint64_t)x->tmp64[i];
                memcpy(x->stage + i * 4, &v, 4);
            } else {
                memcpy(x->stage + i * 8, &x->tmp64[i], 8);
            }
        }
        return 0;
    }
    if (enc == PQ__ENC_DELTA_BYTE_ARRAY && x->c->physical == PQ__FIXED_LEN_BYTE_ARRAY) {
        ut_buf b = {0};
        uint64_t *o = ut_malloc(((size_t)nn + 1) * sizeof *o);
        int rc = pq__decode_bytes(enc, p, len, nn, &b, o, (uint64_t)nn * (uint64_t)w, x->err,
                                  x->errlen);
        for (int64_t i = 0; rc == 0 && i < nn; i++)
            if (o[i + 1] - o[i] != (uint64_t)w)
                rc = ut_err(x->err, x->errlen, "DELTA_BYTE_ARRAY value of %llu bytes in a %d-byte column",
                            (unsigned long long)(o[i + 1] - o[i]), w);
        if (rc == 0 && nn) memcpy(x->stage, b.p, (size_t)nn * (size_t)w);
        free(o);
        ut_buf_free(&b);
        return rc;
    }
    if (enc == PQ__ENC_BYTE_STREAM_SPLIT && x->c->physical == PQ__INT96)
        return ut_err(x->err, x->errlen, "BYTE_STREAM_SPLIT not valid for INT96");
    return pq__decode_fixed(enc, p, len, nn, w, x->stage, x->err, x->errlen);
}

/* Where staged byte arrays go: the output itself for bytes columns. */
static ut_buf *bytes_target(rd *x)
{
    return x->c->kind == PQ_K_BYTES ? &x->data : &x->sdata;
}

static uint64_t byte_budget(rd *x)
{
    uint64_t used = used_bytes(x, x->cap) + x->sdata.len;
    return used >= pq__read_max_bytes ? 0 : pq__read_max_bytes - used;
}

static int stage_dict(rd *x, const uint8_t *p, size_t len, int64_t nn)
{
    if (!x->d.present) return ut_err(x->err, x->errlen, "dictionary-encoded page without a dictionary page");
    if (nn == 0) { /* an all-null page */
        if (!x->width) {
            x->soff = grow(x->soff, &x->soff_cap, 1, sizeof *x->soff);
            x->soff[0] = bytes_target(x)->len;
        }
        return 0;
    }
    if (len < 1) return ut_err(x->err, x->errlen, "dictionary indices truncated");
    int bw = p[0];
    x->idx = grow(x->idx, &x->idx_cap, (size_t)nn + 1, sizeof *x->idx);
    if (pq__rle_decode(p + 1, len - 1, bw, x->idx, nn, x->err, x->errlen)) return -1;
    for (int64_t i = 0; i < nn; i++)
        if (x->idx[i] >= (uint64_t)x->d.n)
            return ut_err(x->err, x->errlen, "dictionary index %u out of range (%lld entries)",
                          x->idx[i], (long long)x->d.n);
    if (x->width) {
        size_t w = (size_t)x->width;
        x->stage = grow(x->stage, &x->stage_cap, (size_t)nn * w + 1, 1);
        for (int64_t i = 0; i < nn; i++) memcpy(x->stage + (size_t)i * w, x->d.fixed + x->idx[i] * w, w);
        return 0;
    }
    uint64_t total = 0;
    for (int64_t i = 0; i < nn; i++) total += x->d.off[x->idx[i] + 1] - x->d.off[x->idx[i]];
    if (total > byte_budget(x))
        return ut_err(x->err, x->errlen, "decoded chunk exceeds the %llu byte limit",
                      (unsigned long long)pq__read_max_bytes);
    ut_buf *b = bytes_target(x);
    ut_buf_reserve(b, (size_t)total);
    x->soff = grow(x->soff, &x->soff_cap, (size_t)nn + 1, sizeof *x->soff);
    for (int64_t i = 0; i < nn; i++) {
        uint64_t s = x->d.off[x->idx[i]], l = x->d.off[x->idx[i] + 1] - s;
        x->soff[i] = b->len;
        if (l) memcpy(b->p + b->len, x->d.data.p + s, (size_t)l);
        b->len += (size_t)l;
    }
    x->soff[nn] = b->len;
    return 0;
}

static int stage_values(rd *x, int enc, const uint8_t *p, size_t len, int64_t nn)
{
    if (enc == PQ__ENC_PLAIN_DICTIONARY || enc == PQ__ENC_RLE_DICTIONARY)
        return stage_dict(x, p, len, nn);
    if (x->width) return stage_fixed(x, enc, p, len, nn);
    x->soff = grow(x->soff, &x->soff_cap, (size_t)nn + 1, sizeof *x->soff);
    return pq__decode_bytes(enc, p, len, nn, bytes_target(x), x->soff, byte_budget(x), x->err,
                            x->errlen);
}

static int64_t int96_us(const uint8_t *p)
{
    uint64_t ns = 0;
    uint32_t jd = 0;
    memcpy(&ns, p, 8);
    memcpy(&jd, p + 8, 4);
    int64_t days = (int64_t)jd - 2440588;
    if (days > 106751 * 1000 || days < -106751 * 1000) return days > 0 ? INT64_MAX : INT64_MIN;
    int64_t us = pq__ts_to_us((int64_t)ns, PQ__UNIT_NANOS), r;
    if (__builtin_add_overflow(days * 86400000000LL, us, &r)) return us > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* Convert staged value i (physical form) into output slot dst. */
static void convert(rd *x, int64_t i, uint8_t *dst)
{
    const pq__colinfo *c = x->c;
    const uint8_t *s = x->width ? x->stage + (size_t)i * (size_t)x->width : NULL;
    switch (c->kind) {
    case PQ_K_BOOL: *dst = s[0]; return;
    case PQ_K_I32: case PQ_K_F32: memcpy(dst, s, 4); return;
    case PQ_K_I64: {
        int64_t v;
        if (c->physical == PQ__INT96) {
            v = int96_us(s);
        } else if (c->physical == PQ__INT32) {
            uint32_t u;
            memcpy(&u, s, 4);
            v = c->zero_extend ? (int64_t)u : (int64_t)(int32_t)u;
        } else {
            memcpy(&v, s, 8);
            if (c->type == PQ_TIMESTAMP || c->type == PQ_TIMESTAMP_NTZ || c->type == PQ_TIME)
                v = pq__ts_to_us(v, c->ts_unit);
        }
        memcpy(dst, &v, 8);
        return;
    }
    case PQ_K_F64: {
        double d;
        if (c->type != PQ_DECIMAL) {
            memcpy(&d, s, 8);
        } else if (c->physical == PQ__INT32) {
            int32_t v;
            memcpy(&v, s, 4);
            d = v / x->scale_div;
        } else if (c->physical == PQ__INT64) {
            int64_t v;
            memcpy(&v, s, 8);
            d = (double)v / x->scale_div;
        } else if (c->physical == PQ__FIXED_LEN_BYTE_ARRAY) {
            d = pq__be_to_double(s, (size_t)x->width) / x->scale_div;
        } else { /* BYTE_ARRAY decimal */
            d = pq__be_to_double(x->sdata.p + x->soff[i], (size_t)(x->soff[i + 1] - x->soff[i])) /
                x->scale_div;
        }
        memcpy(dst, &d, 8);
        return;
    }
    case PQ_K_BYTES: return;
    }
}

/* Move nn staged values into output rows n .. n+nv, nulls where lev < max. */
static void emit(rd *x, int64_t nv, int64_t nn, const uint32_t *lev)
{
    const pq__colinfo *c = x->c;
    int64_t base = x->n;
    if (c->max_def) {
        for (int64_t i = 0; i < nv; i++) {
            x->nulls[base + i] = lev[i] != (uint32_t)c->max_def;
            x->any_null |= x->nulls[base + i];
        }
    }
    if (c->kind == PQ_K_BYTES) {
        if (x->width) { /* FLBA: staged fixed bytes */
            size_t w = (size_t)x->width;
            ut_buf_reserve(&x->data, (size_t)nn * w);
            uint64_t start = x->data.len;
            if (nn) memcpy(x->data.p + x->data.len, x->stage, (size_t)nn * w);
            x->data.len += (size_t)nn * w;
            x->soff = grow(x->soff, &x->soff_cap, (size_t)nn + 1, sizeof *x->soff);
            for (int64_t i = 0; i <= nn; i++) x->soff[i] = start + (uint64_t)i * w;
        }
        int64_t k = 0;
        for (int64_t i = 0; i < nv; i++) {
            x->off[base + i] = x->soff[k];
            if (!c->max_def || !x->nulls[base + i]) k++;
        }
        x->off[base + nv] = x->soff[nn];
        x->sdata.len = 0;
        return;
    }
    size_t es = x->es;
    for (int64_t i = 0; i < nn; i++) convert(x, i, x->values + (size_t)(base + i) * es);
    if (nn < nv) { /* scatter backwards around the nulls */
        int64_t k = nn - 1;
        for (int64_t i = nv - 1; i >= 0; i--) {
            uint8_t *dst = x->values + (size_t)(base + i) * es;
            if (x->nulls[base + i]) memset(dst, 0, es);
            else memmove(dst, x->values + (size_t)(base + k--) * es, es);
        }
    }
    x->sdata.len = 0;
}

/* ---- pages --------------------------------------------------------------------- */

static int read_dict_page(rd *x, const pq__page_header *h, const uint8_t *body)
{
    const uint8_t *p;
    if (x->d.present) return ut_err(x->err, x->errlen, "second dictionary page");
    if (x->n > 0) return ut_err(x->err, x->errlen, "dictionary page after data pages");
    if (h->dict_encoding != PQ__ENC_PLAIN && h->dict_encoding != PQ__ENC_PLAIN_DICTIONARY)
        return ut_err(x->err, x->errlen, "dictionary page encoding %d not supported", h->dict_encoding);
    if (inflate(x, x->ch->codec, body, h->compressed, h->uncompressed, &p)) return -1;
    int64_t nd = h->dict_num_values;
    size_t len = (size_t)h->uncompressed;
    if (nd < 0 || (x->width && (uint64_t)nd * (uint64_t)x->width > len) ||
        (!x->width && (uint64_t)nd * 4 > len))
        return ut_err(x->err, x->errlen, "dictionary of %lld values does not fit its %zu-byte page",
                      (long long)nd, len);
    x->d.present = 1;
    x->d.n = nd;
    if (x->width) {
        if (x->c->physical == PQ__BOOLEAN) return ut_err(x->err, x->errlen, "dictionary for BOOLEAN");
        x->d.fixed = ut_malloc((size_t)nd * (size_t)x->width + 1);
        return pq__decode_fixed(PQ__ENC_PLAIN, p, len, nd, x->width, x->d.fixed, x->err, x->errlen);
    }
    x->d.off = ut_malloc(((size_t)nd + 1) * sizeof *x->d.off);
    return pq__decode_bytes(PQ__ENC_PLAIN, p, len, nd, &x->d.data, x->d.off, len, x->err, x->errlen);
}

static int bit_width(int v)
{
    int b = 0;
    while (v >> b) b++;
    return b;
}

/* Definition levels of a v1 page at p[0..len); *used = bytes consumed. */
static int levels_v1(rd *x, int enc, const uint8_t *p, size_t len, int64_t nv, size_t *used)
{
    int bw = bit_width(x->c->max_def);
    if (enc == PQ__ENC_RLE) {
        if (len < 4) return ut_err(x->err, x->errlen, "definition levels truncated");
        uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (l > len - 4) return ut_err(x->err, x->errlen, "definition levels length %u beyond the page", l);
        *used = 4 + l;
        return pq__rle_decode(p + 4, l, bw, x->lev, nv, x->err, x->errlen);
    }
    if (enc == PQ__ENC_BIT_PACKED) { /* deprecated: MSB-first bit packing */
        uint64_t need = ((uint64_t)nv * (uint64_t)bw + 7) / 8;
        if (need > len) return ut_err(x->err, x->errlen, "definition levels truncated");
        for (int64_t i = 0; i < nv; i++) {
            uint32_t v = 0;
            for (int b = 0; b < bw; b++) {
                uint64_t bit = (uint64_t)i * (uint64_t)bw + (uint64_t)b;
                v = v << 1 | ((p[bit >> 3] >> (7 - (bit & 7))) & 1);
            }
            x->lev[i] = v;
        }
        *used = (size_t)need;
        return 0;
    }
    return ut_err(x->err, x->errlen, "definition level encoding %d not supported", enc);
}

static int read_data_page(rd *x, const pq__page_header *h, const uint8_t *body)
{
    int v2 = h->type == PQ__PAGE_DATA_V2;
    int64_t nv = h->num_values;
    const uint8_t *p, *levp = NULL;
    size_t len, levlen = 0;
    if (v2 ? !h->has_v2_header : !h->has_data_header)
        return ut_err(x->err, x->errlen, "data page without its data page header");
    if (nv < 0 || nv > x->rows - x->n)
        return ut_err(x->err, x->errlen, "page has %lld values, only %lld rows left in the row group",
                      (long long)nv, (long long)(x->rows - x->n));
    if (v2) {
        if (h->def_len < 0 || h->rep_len < 0 || (int64_t)h->def_len + h->rep_len > h->compressed ||
            (int64_t)h->def_len + h->rep_len > h->uncompressed)
            return ut_err(x->err, x->errlen, "data page v2 level sizes out of range");
        levp = body + h->rep_len; /* repetition levels (empty for flat columns) come first */
        levlen = (size_t)h->def_len;
        int64_t skip = (int64_t)h->def_len + h->rep_len;
        int codec = h->is_compressed ? x->ch->codec : PQ_UNCOMPRESSED;
        if (inflate(x, codec, body + skip, h->compressed - skip, h->uncompressed - skip, &p)) return -1;
        len = (size_t)(h->uncompressed - skip);
    } else {
        if (inflate(x, x->ch->codec, body, h->compressed, h->uncompressed, &p)) return -1;
        len = (size_t)h->uncompressed;
    }
    if (ensure_rows(x, x->n + nv)) return -1;
    int64_t nn = nv;
    if (x->c->max_def) {
        x->lev = grow(x->lev, &x->lev_cap, (size_t)nv + 1, sizeof *x->lev);
        if (v2) {
            if (pq__rle_decode(levp, levlen, bit_width(x->c->max_def), x->lev, nv, x->err, x->errlen))
                return -1;
        } else {
            size_t used = 0;
            if (levels_v1(x, h->def_encoding, p, len, nv, &used)) return -1;
            p += used;
            len -= used;
        }
        nn = 0;
        for (int64_t i = 0; i < nv; i++) {
            if (x->lev[i] > (uint32_t)x->c->max_def)
                return ut_err(x->err, x->errlen, "definition level %u above the maximum %d", x->lev[i],
                              x->c->max_def);
            nn += x->lev[i] == (uint32_t)x->c->max_def;
        }
    }
    if (stage_values(x, h->encoding, p, len, nn)) return -1;
    emit(x, nv, nn, x->lev);
    x->n += nv;
    return 0;
}

static int read_pages(rd *x)
{
    const pq_reader *r = x->r;
    const pq__chunk *ch = x->ch;
    int64_t start = ch->data_offset;
    if (ch->dict_offset > 0 && ch->dict_offset < start) start = ch->dict_offset;
    if (start < 4 || ch->compressed < 0 || (uint64_t)start > r->len ||
        (uint64_t)ch->compressed > r->len - (uint64_t)start)
        return ut_err(x->err, x->errlen, "chunk offset %lld + size %lld outside the %zu-byte file",
                      (long long)start, (long long)ch->compressed, r->len);
    int64_t pos = start, end = start + ch->compressed;
    char msg[256];
    while (x->n < x->rows) {
        pq__page_header h;
        size_t hl;
        if (pos >= end)
            return ut_err(x->err, x->errlen, "chunk ends after %lld of %lld values", (long long)x->n,
                          (long long)x->rows);
        if (pq__page_header_parse(r->buf + pos, (size_t)(end - pos), &h, &hl, msg, sizeof msg))
            return ut_err(x->err, x->errlen, "page at offset %lld: %s", (long long)pos, msg);
        const uint8_t *body = r->buf + pos + hl;
        if (h.compressed > end - pos - (int64_t)hl)
            return ut_err(x->err, x->errlen, "page at offset %lld runs past the end of the chunk",
                          (long long)pos);
        if (h.has_crc && pq__crc32(body, (size_t)h.compressed) != h.crc)
            return ut_err(x->err, x->errlen, "page at offset %lld: CRC mismatch (page corrupt)",
                          (long long)pos);
        int rc = 0;
        if (h.type == PQ__PAGE_DICTIONARY) {
            if (!h.has_dict_header) rc = ut_err(x->err, x->errlen, "dictionary page without its header");
            else rc = read_dict_page(x, &h, body);
        } else if (h.type == PQ__PAGE_DATA || h.type == PQ__PAGE_DATA_V2) {
            rc = read_data_page(x, &h, body);
        }
        if (rc) {
            snprintf(msg, sizeof msg, "%s", x->err);
            return ut_err(x->err, x->errlen, "page at offset %lld: %s", (long long)pos, msg);
        }
        pos += (int64_t)hl + h.compressed;
    }
    return 0;
}

static void rd_free(rd *x)
{
    free(x->values);
    free(x->nulls);
    free(x->off);
    ut_buf_free(&x->data);
    free(x->page);
    free(x->lev);
    free(x->idx);
    free(x->stage);
    free(x->soff);
    ut_buf_free(&x->sdata);
    free(x->tmp64);
    free(x->d.fixed);
    ut_buf_free(&x->d.data);
    free(x->d.off);
}

/* pq_reader_read with the column described by c (r->cols[col], or a copy
 * that reads a DECIMAL in its physical form). */
static int read_chunk(pq_reader *r, int rg, int col, const pq__colinfo *c, pq_col *out, char *err,
                      size_t errlen)
{
    char msg[512];
    rd x;
    memset(out, 0, sizeof *out);
    memset(&x, 0, sizeof x);
    if (rg < 0 || rg >= r->fmd.nrg || col < 0 || col >= r->ncols)
        return ut_err(err, errlen, "%s: row group %d column %d does not exist", r->name, rg, col);
    x.r = r;
    x.c = c;
    x.ch = &r->fmd.rgs[rg].cols[col];
    x.err = msg;
    x.errlen = sizeof msg;
    x.rows = r->fmd.rgs[rg].num_rows;
    x.width = physical_width(x.c);
    x.es = kind_size(x.c->kind);
    x.scale_div = pow(10, x.c->scale);
    if (x.c->type == PQ_UNSUPPORTED) {
        ut_err(msg, sizeof msg, "%s", x.c->logical);
        goto fail;
    }
    if (x.ch->num_values != x.rows) {
        ut_err(msg, sizeof msg, "chunk has %lld values, row group has %lld rows",
               (long long)x.ch->num_values, (long long)x.rows);
        goto fail;
    }
    if (x.rows > pq__read_max_values) {
        ut_err(msg, sizeof msg, "%lld values exceed the %lld-value limit", (long long)x.rows,
               (long long)pq__read_max_values);
        goto fail;
    }
    if (ensure_rows(&x, x.rows < 1024 ? x.rows : 1024)) goto fail;
    if (read_pages(&x)) goto fail;
    out->kind = x.c->kind;
    out->n = x.n;
    out->values = x.values;
    x.values = NULL;
    if (x.any_null) {
        out->nulls = x.nulls;
        x.nulls = NULL;
    }
    if (x.c->kind == PQ_K_BYTES) {
        if (!x.off) x.off = ut_malloc(sizeof *x.off);
        x.off[x.n] = x.data.len;
        out->off = x.off;
        x.off = NULL;
        out->data = x.data.p ? x.data.p : ut_malloc(1);
        x.data.p = NULL;
    }
    rd_free(&x);
    return 0;
fail:
    rd_free(&x);
    return ut_err(err, errlen, "%s: row group %d column '%s': %s", r->name, rg, r->cols[col].name,
                  msg);
}

int pq_reader_read(pq_reader *r, int rg, int col, pq_col *out, char *err, size_t errlen)
{
    if (rg < 0 || rg >= r->fmd.nrg || col < 0 || col >= r->ncols) {
        memset(out, 0, sizeof *out);
        return ut_err(err, errlen, "%s: row group %d column %d does not exist", r->name, rg, col);
    }
    return read_chunk(r, rg, col, &r->cols[col], out, err, errlen);
}

/* Big-endian two's complement bytes (1..16) as a 128-bit value. */
static pq_dec128 be_to_dec128(const uint8_t *p, size_t n)
{
    unsigned __int128 u = p[0] & 0x80 ? ~(unsigned __int128)0 : 0; /* sign-extend */
    for (size_t i = 0; i < n; i++) u = u << 8 | p[i];
    pq_dec128 d = {(int64_t)(uint64_t)(u >> 64), (uint64_t)u};
    return d;
}

int pq_reader_read_decimal(pq_reader *r, int rg, int col, pq_col *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (col < 0 || col >= r->ncols || r->cols[col].type != PQ_DECIMAL)
        return ut_err(err, errlen, "%s: column %d is not a DECIMAL column", r->name, col);
    /* read the physical values: ints as int64, byte arrays as bytes */
    pq__colinfo ci = r->cols[col];
    int ints = ci.physical == PQ__INT32 || ci.physical == PQ__INT64;
    ci.type = ints ? PQ_INT64 : PQ_BYTES;
    ci.kind = ints ? PQ_K_I64 : PQ_K_BYTES;
    pq_col raw;
    if (rg < 0 || rg >= r->fmd.nrg)
        return ut_err(err, errlen, "%s: row group %d column %d does not exist", r->name, rg, col);
    if (read_chunk(r, rg, col, &ci, &raw, err, errlen)) return -1;
    pq_dec128 *v = ut_calloc(raw.n ? (size_t)raw.n : 1, sizeof *v);
    for (int64_t i = 0; i < raw.n; i++) {
        if (raw.nulls && raw.nulls[i]) continue;
        if (ints) {
            int64_t x = ((const int64_t *)raw.values)[i];
            v[i].hi = x < 0 ? -1 : 0;
            v[i].lo = (uint64_t)x;
            continue;
        }
        size_t n = (size_t)(raw.off[i + 1] - raw.off[i]);
        if (n < 1 || n > 16) {
            free(v);
            pq_col_free(&raw);
            return ut_err(err, errlen, "%s: row group %d column '%s': value %lld has %zu bytes, "
                          "not 1..16 (128 bits)", r->name, rg, ci.name, (long long)i, n);
        }
        v[i] = be_to_dec128(raw.data + raw.off[i], n);
    }
    out->n = raw.n;
    out->nulls = raw.nulls;
    raw.nulls = NULL;
    out->values = v;
    pq_col_free(&raw);
    return 0;
}

void pq_col_free(pq_col *c)
{
    if (!c) return;
    free(c->nulls);
    free(c->values);
    free(c->off);
    free(c->data);
    memset(c, 0, sizeof *c);
}
