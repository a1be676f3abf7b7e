/* Value decoders for page bodies: RLE / bit-packed hybrid, DELTA_BINARY_PACKED,
 * byte arrays (PLAIN, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY) and fixed
 * width values (PLAIN, BYTE_STREAM_SPLIT).  Every read is checked against the
 * input length; outputs are sized by the caller. */
#include "parquet/read_int.h"

#include <stdlib.h>
#include <string.h>


static int uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) return -1;
        uint8_t b = *p++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Unpack n values of bw (<= 32) bits, LSB first, from p (which holds at
 * least ceil(n * bw / 8) bytes). */
static void unpack32(const uint8_t *p, int bw, uint32_t *out, int64_t n)
{
    if (bw == 0) {
        memset(out, 0, (size_t)n * sizeof *out);
        return;
    }
    uint64_t acc = 0, mask = bw == 32 ? 0xffffffffu : ((1u << bw) - 1);
    int bits = 0;
    for (int64_t i = 0; i < n; i++) {
        while (bits < bw) {
            acc |= (uint64_t)*p++ << bits;
            bits += 8;
        }
        out[i] = (uint32_t)(acc & mask);
        acc >>= bw;
        bits -= bw;
    }
}

int pq__rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out, int64_t n,
                   char *err, size_t errlen)
{
    const uint8_t *end = p + len;
    int64_t i = 0;
    if (bit_width < 0 || bit_width > 32)
        return ut_err(err, errlen, "RLE bit width %d out of range", bit_width);
    size_t vbytes = ((size_t)bit_width + 7) / 8;
    while (i < n) {
        uint64_t h;
        if (uvarint(&p, end, &h)) return ut_err(err, errlen, "RLE data truncated (%lld of %lld values)",
                                               (long long)i, (long long)n);
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups > ((uint64_t)1 << 40))
                return ut_err(err, errlen, "RLE bit-packed run too long");
            uint64_t cnt = groups * 8;
            int64_t take = cnt < (uint64_t)(n - i) ? (int64_t)cnt : n - i;
            size_t need = (size_t)(((uint64_t)take * (uint64_t)bit_width + 7) / 8);
            if (need > (size_t)(end - p))
                return ut_err(err, errlen, "RLE bit-packed run beyond the end of the data");
            unpack32(p, bit_width, out + i, take);
            i += take;
            uint64_t full = groups * (uint64_t)bit_width;
            p += full < (uint64_t)(end - p) ? full : (uint64_t)(end - p);
        } else {
            uint64_t cnt = h >> 1;
            if (vbytes > (size_t)(end - p))
                return ut_err(err, errlen, "RLE run value beyond the end of the data");
            uint32_t v = 0;
            for (size_t b = 0; b < vbytes; b++) v |= (uint32_t)p[b] << (8 * b);
            p += vbytes;
            if (bit_width < 32 && (v >> bit_width))
                return ut_err(err, errlen, "RLE run value %u wider than %d bits", v, bit_width);
            int64_t take = cnt < (uint64_t)(n - i) ? (int64_t)cnt : n - i;
            for (int64_t k = 0; k < take; k++) out[i + k] = v;
            i += take;
        }
    }
    return 0;
}

/* ---- DELTA_BINARY_PACKED --------------------------------------------------- */

static uint64_t unpack_one(const uint8_t *p, uint64_t bitpos, int bw)
{
    uint64_t v = 0;
    int got = 0;
    while (got < bw) {
        uint64_t byte = bitpos >> 3;
        int sh = (int)(bitpos & 7);
        int take = 8 - sh < bw - got ? 8 - sh : bw - got;
        v |= (uint64_t)((p[byte] >> sh) & ((1u << take) - 1)) << got;
        got += take;
        bitpos += (uint64_t)take;
    }
    return v;
}

typedef struct delta_hdr {
    uint64_t block, mini, total;
    int64_t first;
} delta_hdr;

static int delta_header(const uint8_t **p, const uint8_t *end, delta_hdr *h)
{
    uint64_t zz;
    if (uvarint(p, end, &h->block) || uvarint(p, end, &h->mini) || uvarint(p, end, &h->total) ||
        uvarint(p, end, &zz))
        return -1;
    h->first = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
    if (h->block == 0 || h->block % 128 || h->block > (1u << 20) || h->mini == 0 ||
        h->block % h->mini || (h->block / h->mini) % 32)
        return -1;
    return 0;
}

int64_t pq__delta_count(const uint8_t *p, size_t len)
{
    delta_hdr h;
    if (delta_header(&p, p + len, &h) || h.total > INT64_MAX) return -1;
    return (int64_t)h.total;
}

int pq__delta_decode(const uint8_t *p, size_t len, int64_t *out, int64_t n, size_t *used,
                     char *err, size_t errlen)
{
    const uint8_t *start = p, *end = p + len;
    delta_hdr h;
    if (delta_header(&p, end, &h)) return ut_err(err, errlen, "corrupt DELTA_BINARY_PACKED header");
    if (h.total < (uint64_t)n)
        return ut_err(err, errlen, "DELTA_BINARY_PACKED has %llu values, page needs %lld",
                      (unsigned long long)h.total, (long long)n);
    uint64_t per_mini = h.block / h.mini;
    uint64_t val = (uint64_t)h.first;
    int64_t i = 0;
    if (n > 0) out[i++] = (int64_t)val;
    /* decode n values (a header announcing more is tolerated; the rest is
     * ignored), consuming whole miniblocks so that *used ends after the last */
    uint64_t remaining = h.total > 0 ? h.total - 1 : 0;
    int64_t stored = i;
    while (remaining > 0 && stored < n) {
        uint64_t zz;
        if (uvarint(&p, end, &zz)) return ut_err(err, errlen, "DELTA_BINARY_PACKED truncated");
        uint64_t min_delta = (zz >> 1) ^ -(zz & 1);
        if (h.mini > (uint64_t)(end - p)) return ut_err(err, errlen, "DELTA_BINARY_PACKED truncated");
        const uint8_t *widths = p;
        p += h.mini;
        for (uint64_t m = 0; m < h.mini && remaining > 0 && stored < n; m++) {
            int bw = widths[m];
            if (bw > 64) return ut_err(err, errlen, "DELTA_BINARY_PACKED bit width %d", bw);
            uint64_t bytes = per_mini * (uint64_t)bw / 8;
            if (bytes > (uint64_t)(end - p)) {
                /* tolerate a short final miniblock if it holds the values we need */
                uint64_t need = remaining < per_mini ? remaining : per_mini;
                if ((need * (uint64_t)bw + 7) / 8 > (uint64_t)(end - p))
                    return ut_err(err, errlen, "DELTA_BINARY_PACKED miniblock truncated");
                bytes = (uint64_t)(end - p);
            }
            uint64_t cnt = remaining < per_mini ? remaining : per_mini;
            for (uint64_t k = 0; k < cnt; k++) {
                if (stored < n) {
                    uint64_t d = bw ? unpack_one(p, k * (uint64_t)bw, bw) : 0;
                    val += min_delta + d;
                    out[stored++] = (int64_t)val;
                }
            }
            remaining -= cnt;
            p += bytes;
        }
    }
    *used = (size_t)(p - start);
    return 0;
}

/* ---- byte arrays ------------------------------------------------------------ */

/* Decode n delta-packed lengths starting at *p into a fresh array. */
static int64_t *delta_lengths(const uint8_t **p, const uint8_t *end, int64_t n, char *err,
                              size_t errlen)
{
    size_t used;
    int64_t cnt = pq__delta_count(*p, (size_t)(end - *p));
    if (cnt < n) {
        ut_err(err, errlen, "corrupt DELTA length header (%lld values, page needs %lld)",
               (long long)cnt, (long long)n);
        return NULL;
    }
    int64_t *len = ut_malloc((size_t)(n ? n : 1) * sizeof *len);
    if (pq__delta_decode(*p, (size_t)(end - *p), len, n, &used, err, errlen)) {
        free(len);
        return NULL;
    }
    *p += used;
    return len;
}

static int plain_bytes(const uint8_t *p, const uint8_t *end, int64_t n, ut_buf *data,
                       uint64_t *off, char *err, size_t errlen)
{
    /* two passes: validate and size, then copy in one reservation */
    const uint8_t *q = p;
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (end - q < 4) return ut_err(err, errlen, "PLAIN byte array %lld truncated", (long long)i);
        uint32_t l = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        q += 4;
        if (l > (size_t)(end - q))
            return ut_err(err, errlen, "PLAIN byte array %lld length %u beyond the page", (long long)i, l);
        q += l;
        total += l;
    }
    ut_buf_reserve(data, total);
    for (int64_t i = 0; i < n; i++) {
        uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        p += 4;
        off[i] = data->len;
        if (l) memcpy(data->p + data->len, p, l);
        data->len += l;
        p += l;
    }
    off[n] = data->len;
    return 0;
}

static int dlba(const uint8_t *p, const uint8_t *end, int64_t n, ut_buf *data, uint64_t *off,
                char *err, size_t errlen)
{
    int64_t *len = delta_lengths(&p, end, n, err, errlen);
    if (!len) return -1;
    uint64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (len[i] < 0 || (uint64_t)len[i] > (uint64_t)(end - p) - total) {
            free(len);
            return ut_err(err, errlen, "DELTA_LENGTH_BYTE_ARRAY value %lld beyond the page",
                          (long long)i);
        }
        total += (uint64_t)len[i];
    }
    ut_buf_reserve(data, (size_t)total);
    for (int64_t i = 0; i < n; i++) {
        off[i] = data->len;
        if (len[i]) memcpy(data->p + data->len, p, (size_t)len[i]);
        data->len += (size_t)len[i];
        p += len[i];
    }
    off[n] = data->len;
    free(len);
    return 0;
}

static int dba(const uint8_t *p, const uint8_t *end, int64_t n, ut_buf *data, uint64_t *off,
               uint64_t max_out, char *err, size_t errlen)
{
    int rc = -1;
    int64_t *suf = NULL, *pre = delta_lengths(&p, end, n, err, errlen);
    if (!pre) return -1;
    suf = delta_lengths(&p, end, n, err, errlen);
    if (!suf) goto fail;
    uint64_t in_total = 0, out_total = 0, prev = 0;
    for (int64_t i = 0; i < n; i++) {
        if (suf[i] < 0 || (uint64_t)suf[i] > (uint64_t)(end - p) - in_total) {
            ut_err(err, errlen, "DELTA_BYTE_ARRAY suffix %lld beyond the page", (long long)i);
            goto fail;
        }
        if (pre[i] < 0 || (uint64_t)pre[i] > prev) {
            ut_err(err, errlen, "DELTA_BYTE_ARRAY prefix %lld longer than the previous value",
                   (long long)i);
            goto fail;
        }
        in_total += (uint64_t)suf[i];
        prev = (uint64_t)pre[i] + (uint64_t)suf[i];
        out_total += prev;
        if (out_total > max_out) {
            ut_err(err, errlen, "DELTA_BYTE_ARRAY page decodes to over %llu bytes (limit)",
                   (unsigned long long)max_out);
            goto fail;
        }
    }
    ut_buf_reserve(data, (size_t)out_total);
    size_t prev_off = 0;
    for (int64_t i = 0; i < n; i++) {
        off[i] = data->len;
        /* prefix of the previous value (already in data, and capacity is reserved) */
        if (pre[i]) memmove(data->p + data->len, data->p + prev_off, (size_t)pre[i]);
        if (suf[i]) memcpy(data->p + data->len + pre[i], p, (size_t)suf[i]);
        p += suf[i];
        prev_off = data->len;
        data->len += (size_t)(pre[i] + suf[i]);
    }
    off[n] = data->len;
    rc = 0;
fail:
    free(pre);
    free(suf);
    return rc;
}

int pq__decode_bytes(int encoding, const uint8_t *p, size_t len, int64_t n, ut_buf *data,
                     uint64_t *off, uint64_t max_out, char *err, size_t errlen)
{
    const uint8_t *end = p + len;
    switch (encoding) {
    case PQ__ENC_PLAIN: return plain_bytes(p, end, n, data, off, err, errlen);
    case PQ__ENC_DELTA_LENGTH_BYTE_ARRAY: return dlba(p, end, n, data, off, err, errlen);
    case PQ__ENC_DELTA_BYTE_ARRAY: return dba(p, end, n, data, off, max_out, err, errlen);
    }
    return ut_err(err, errlen, "encoding %d not supported for byte arrays", encoding);
}

int pq__decode_fixed(int encoding, const uint8_t *p, size_t len, int64_t n, int width,
                     uint8_t *out, char *err, size_t errlen)
{
    uint64_t need = (uint64_t)n * (uint64_t)width;
    if (encoding == PQ__ENC_PLAIN) {
        if (need > len)
            return ut_err(err, errlen, "PLAIN data truncated (%lld values of %d bytes, %zu bytes)",
                          (long long)n, width, len);
        if (need) memcpy(out, p, (size_t)need);
        return 0;
    }
    if (encoding == PQ__ENC_BYTE_STREAM_SPLIT) {
        /* the page holds exactly the values, stream b = byte b of every value */
        if (len % (size_t)width) return ut_err(err, errlen, "BYTE_STREAM_SPLIT size not a multiple of %d", width);
        size_t total = len / (size_t)width;
        if ((uint64_t)total < (uint64_t)n)
            return ut_err(err, errlen, "BYTE_STREAM_SPLIT data truncated");
        for (int b = 0; b < width; b++) {
            const uint8_t *s = p + (size_t)b * total;
            for (int64_t i = 0; i < n; i++) out[(size_t)i * (size_t)width + (size_t)b] = s[i];
        }
        return 0;
    }
    return ut_err(err, errlen, "encoding %d not supported for fixed-width values", encoding);
}
