/* Writer: data pages, dictionary pages and row groups. */
#include "parquet/writer_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DICT_CARDINALITY_MIN_VALUES 8192 /* judge cardinality after this many */
#define MAX_STAT_BYTES 1024               /* longer min/max are left out */

int pq__write_all(pq_writer *w, const void *p, size_t n, char *err, size_t errlen)
{
    const uint8_t *b = p;
    if (w->mem_mode) {
        ut_buf_put(&w->mem, p, n);
        w->offset += (int64_t)n;
        return 0;
    }
    if (w->wfn) {
        if (w->wfn(w->wctx, p, n))
            return ut_err(err, errlen, "%s: write: %s", w->path, strerror(errno));
        w->offset += (int64_t)n;
        return 0;
    }
    while (n) {
        ssize_t r = write(w->fd, b, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return ut_err(err, errlen, "%s: write: %s", w->path, strerror(errno));
        }
        b += r;
        n -= (size_t)r;
        w->offset += r;
    }
    return 0;
}

/* PageHeader for a page whose body (compressed) is body[0..comp). */
static void page_header(ut_buf *hdr, int type, size_t uncomp, const uint8_t *body, size_t comp,
                        int64_t num_values, int encoding)
{
    pq__tw t = {.b = hdr};
    ut_buf_reset(hdr);
    pq__tw_i32(&t, 1, type);
    pq__tw_i32(&t, 2, (int32_t)uncomp);
    pq__tw_i32(&t, 3, (int32_t)comp);
    pq__tw_i32(&t, 4, (int32_t)pq__crc32(body, comp));
    if (type == PQ__PAGE_DATA) {
        pq__tw_struct_begin(&t, 5);
        pq__tw_i32(&t, 1, (int32_t)num_values);
        pq__tw_i32(&t, 2, encoding);
        pq__tw_i32(&t, 3, PQ__ENC_RLE);
        pq__tw_i32(&t, 4, PQ__ENC_RLE);
        pq__tw_struct_end(&t);
    } else {
        pq__tw_struct_begin(&t, 7);
        pq__tw_i32(&t, 1, (int32_t)num_values);
        pq__tw_i32(&t, 2, encoding);
        pq__tw_struct_end(&t);
    }
    pq__tw_end(&t);
}

/* Does the dictionary pay for itself on this (first) page?  As parquet-mr:
 * keep it only if dictionary + ids are smaller than the values written PLAIN. */
static int dict_pays(const pq__wcol *c)
{
    size_t plain = 0;
    if (c->width) {
        plain = c->nids * (size_t)c->width;
    } else {
        for (size_t i = 0; i < c->nids; i++) {
            size_t n;
            pq__dict_get(&c->dict, c->ids[i], &n);
            plain += 4 + n;
        }
    }
    size_t ids = (c->nids * (size_t)pq__bit_width(c->dict.n ? c->dict.n - 1 : 0) + 7) / 8;
    return c->dict.plain.len + ids < plain;
}

/* Turn the page's dictionary ids back into PLAIN values and stop using the
 * dictionary for the rest of the chunk. */
static void drop_dictionary(pq__wcol *c)
{
    ut_buf_reset(&c->vals);
    for (size_t i = 0; i < c->nids; i++) {
        size_t n;
        const uint8_t *p = pq__dict_get(&c->dict, c->ids[i], &n);
        if (!c->width) ut_buf_put_le32(&c->vals, (uint32_t)n);
        ut_buf_put(&c->vals, p, n);
    }
    c->nids = 0;
    c->dict_on = 0;
    c->dict_fell_back = 1;
    pq__dict_reset(&c->dict);
}

int pq__flush_page(pq_writer *w, pq__wcol *c, char *err, size_t errlen)
{
    if (!c->page_values) return 0;
    if (c->dict_on && !c->dict_used && !dict_pays(c)) drop_dictionary(c);
    ut_buf *body = &w->scratch, *comp = &w->scratch2;
    ut_buf_reset(body);
    ut_buf_reset(comp);
    if (c->optional) {
        ut_buf_put_le32(body, 0);
        size_t start = body->len;
        pq__rle_encode_u8(c->defs.p, c->defs.len, 1, body);
        uint32_t n = (uint32_t)(body->len - start);
        memcpy(body->p + start - 4, &n, 4);
    }
    int enc, try_plain = 0;
    if (c->dict_on) {
        int width = pq__bit_width(c->dict.n ? c->dict.n - 1 : 0);
        ut_buf_putc(body, (uint8_t)width);
        pq__rle_encode_u32(c->ids, c->nids, width, body);
        enc = PQ__ENC_RLE_DICTIONARY;
        c->dict_used = 1;
    } else if (c->phys == PQ__BOOLEAN) {
        pq__pack_bools(c->vals.p, c->vals.len, body);
        enc = PQ__ENC_PLAIN;
    } else if (c->phys == PQ__INT32 || c->phys == PQ__INT64) {
        /* integers and timestamps that did not fit a dictionary: deltas, unless
         * PLAIN compresses smaller (outliers such as late events widen every
         * delta block they fall in) - decided below, after compression */
        size_t n = c->vals.len / (size_t)c->width;
        int64_t *v = ut_malloc((n ? n : 1) * sizeof *v);
        for (size_t i = 0; i < n; i++) {
            if (c->width == 4) {
                int32_t x;
                memcpy(&x, c->vals.p + i * 4, 4);
                v[i] = x;
            } else {
                memcpy(&v[i], c->vals.p + i * 8, 8);
            }
        }
        ut_buf_reset(&w->alt);
        ut_buf_put(&w->alt, body->p, body->len); /* the levels */
        ut_buf_put(&w->alt, c->vals.p, c->vals.len);
        pq__delta_encode(v, n, body);
        free(v);
        enc = PQ__ENC_DELTA_BINARY_PACKED;
        try_plain = 1;
    } else if (c->phys == PQ__BYTE_ARRAY) {
        /* strings that did not fit a dictionary: delta-encoded lengths, then
         * the bytes back to back (DELTA_LENGTH_BYTE_ARRAY) */
        size_t n = 0;
        for (size_t o = 0; o + 4 <= c->vals.len; n++) {
            uint32_t len;
            memcpy(&len, c->vals.p + o, 4);
            o += 4 + len;
        }
        int64_t *lens = ut_malloc((n ? n : 1) * sizeof *lens);
        size_t i = 0;
        for (size_t o = 0; o + 4 <= c->vals.len; i++) {
            uint32_t len;
            memcpy(&len, c->vals.p + o, 4);
            lens[i] = len;
            o += 4 + len;
        }
        pq__delta_encode(lens, n, body);
        ut_buf_reserve(body, c->vals.len);
        for (size_t o = 0; o + 4 <= c->vals.len;) {
            uint32_t len;
            memcpy(&len, c->vals.p + o, 4);
            memcpy(body->p + body->len, c->vals.p + o + 4, len);
            body->len += len;
            o += 4 + len;
        }
        free(lens);
        enc = PQ__ENC_DELTA_LENGTH_BYTE_ARRAY;
    } else {
        ut_buf_put(body, c->vals.p, c->vals.len);
        enc = PQ__ENC_PLAIN;
    }
    if ((uint64_t)body->len > INT32_MAX)
        return ut_err(err, errlen, "%s: column '%s': page over 2 GiB", w->path, c->name);
    if (pq__compress(w->o.codec, w->o.level, body->p, body->len, comp, err, errlen)) return -1;
    if (try_plain) {
        ut_buf_reset(&w->alt2);
        if (pq__compress(w->o.codec, w->o.level, w->alt.p, w->alt.len, &w->alt2, err, errlen))
            return -1;
        if (w->alt2.len < comp->len) { /* PLAIN wins: swap it in */
            ut_buf t = *body;
            *body = w->alt;
            w->alt = t;
            t = *comp;
            *comp = w->alt2;
            w->alt2 = t;
            enc = PQ__ENC_PLAIN;
        }
    }
    page_header(&w->hdr, PQ__PAGE_DATA, body->len, comp->p, comp->len, c->page_values, enc);
    ut_buf_put(&c->chunk, w->hdr.p, w->hdr.len);
    ut_buf_put(&c->chunk, comp->p, comp->len);
    c->chunk_uncompressed += (int64_t)(w->hdr.len + body->len);
    c->chunk_values += c->page_values;
    c->chunk_nulls += c->page_nulls;
    c->encodings |= 1u << enc;
    ut_buf_reset(&c->defs);
    ut_buf_reset(&c->vals);
    c->nids = 0;
    c->page_values = c->page_nulls = 0;
    /* Fall back to PLAIN for the rest of the chunk when the dictionary is too
     * big, or when nearly every value is distinct (ids would not pay off). */
    if (c->dict_on &&
        (c->dict.plain.len > w->o.dict_max_bytes ||
         (c->chunk_values - c->chunk_nulls >= DICT_CARDINALITY_MIN_VALUES &&
          (int64_t)c->dict.n * 10 > (c->chunk_values - c->chunk_nulls) * 9))) {
        c->dict_on = 0;
        c->dict_fell_back = 1;
    }
    return 0;
}

static int write_dict_page(pq_writer *w, pq__wcol *c, pq__chunk_meta *m, char *err, size_t errlen)
{
    ut_buf *comp = &w->scratch2;
    ut_buf_reset(comp);
    if (pq__compress(w->o.codec, w->o.level, c->dict.plain.p, c->dict.plain.len, comp, err,
                     errlen))
        return -1;
    page_header(&w->hdr, PQ__PAGE_DICTIONARY, c->dict.plain.len, comp->p, comp->len, c->dict.n,
                PQ__ENC_PLAIN);
    m->dict_offset = w->offset;
    if (pq__write_all(w, w->hdr.p, w->hdr.len, err, errlen) ||
        pq__write_all(w, comp->p, comp->len, err, errlen))
        return -1;
    m->uncompressed += (int64_t)(w->hdr.len + c->dict.plain.len);
    m->compressed += (int64_t)(w->hdr.len + comp->len);
    return 0;
}

static void take_stats(pq__wcol *c, pq__chunk_meta *m)
{
    if (!c->has_minmax || c->min.len > MAX_STAT_BYTES || c->max.len > MAX_STAT_BYTES) return;
    m->has_minmax = 1;
    m->min = ut_malloc(c->min.len);
    m->max = ut_malloc(c->max.len);
    if (c->min.len) memcpy(m->min, c->min.p, c->min.len);
    if (c->max.len) memcpy(m->max, c->max.p, c->max.len);
    m->min_len = c->min.len;
    m->max_len = c->max.len;
    /* Zero min is written as -0.0 and zero max as +0.0 (parquet.thrift). */
    if (c->phys == PQ__DOUBLE) {
        double d;
        memcpy(&d, m->min, 8);
        if (d == 0) d = -0.0, memcpy(m->min, &d, 8);
        memcpy(&d, m->max, 8);
        if (d == 0) d = 0.0, memcpy(m->max, &d, 8);
    } else if (c->phys == PQ__FLOAT) {
        float f;
        memcpy(&f, m->min, 4);
        if (f == 0) f = -0.0f, memcpy(m->min, &f, 4);
        memcpy(&f, m->max, 4);
        if (f == 0) f = 0.0f, memcpy(m->max, &f, 4);
    }
}

int pq__flush_row_group(pq_writer *w, char *err, size_t errlen)
{
    if (!w->rg_rows) return 0;
    for (int i = 0; i < w->ncols; i++)
        if (pq__flush_page(w, &w->cols[i], err, errlen)) return -1;
    if (w->nrg == w->cap_rg) {
        w->cap_rg = w->cap_rg ? w->cap_rg * 2 : 16;
        w->rgs = ut_realloc(w->rgs, (size_t)w->cap_rg * sizeof *w->rgs);
    }
    pq__rg_meta *rg = &w->rgs[w->nrg];
    memset(rg, 0, sizeof *rg);
    rg->chunks = ut_calloc((size_t)w->ncols, sizeof *rg->chunks);
    rg->rows = w->rg_rows;
    rg->offset = w->offset;
    w->nrg++;
    for (int i = 0; i < w->ncols; i++) {
        pq__wcol *c = &w->cols[i];
        pq__chunk_meta *m = &rg->chunks[i];
        m->dict_offset = -1;
        if (c->dict_used && write_dict_page(w, c, m, err, errlen)) return -1;
        m->data_offset = w->offset;
        if (pq__write_all(w, c->chunk.p, c->chunk.len, err, errlen)) return -1;
        m->compressed += (int64_t)c->chunk.len;
        m->uncompressed += c->chunk_uncompressed;
        m->values = c->chunk_values;
        m->nulls = c->chunk_nulls;
        m->encodings = c->encodings | (1u << PQ__ENC_RLE) | (c->dict_used ? 1u << PQ__ENC_PLAIN : 0);
        take_stats(c, m);
        rg->compressed += m->compressed;
        rg->uncompressed += m->uncompressed;
        /* reset the chunk */
        ut_buf_reset(&c->chunk);
        c->chunk_values = c->chunk_nulls = c->chunk_uncompressed = 0;
        c->encodings = 0;
        pq__dict_reset(&c->dict);
        c->dict_on = pq__dict_allowed(w, c);
        c->dict_used = c->dict_fell_back = 0;
        c->has_minmax = 0;
    }
    w->rg_rows = 0;
    w->row_bytes = w->row_start_bytes = 0;
    return 0;
}
