/* Encoders for the writer: RLE / bit-packed hybrid and PLAIN booleans. */
#include "parquet/writer_int.h"

#include <string.h>

int pq__bit_width(uint32_t max)
{
    int w = 1;
    while (w < 32 && (max >> w)) w++;
    return w;
}

/* Pack 8 values of `width` bits LSB-first into width bytes. */
static void pack8(const uint32_t *v, int width, uint8_t *out)
{
    uint64_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (int i = 0; i < 8; i++) {
        acc |= (uint64_t)v[i] << bits;
        bits += width;
        while (bits >= 8) {
            out[o++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
}

static void put_rle_run(ut_buf *out, uint32_t value, size_t count, int width)
{
    ut_buf_put_uvarint(out, (uint64_t)count << 1);
    int bytes = (width + 7) / 8;
    for (int i = 0; i < bytes; i++) ut_buf_putc(out, (uint8_t)(value >> (8 * i)));
}

/* Bit-pack lit[0..n) (n is a multiple of 8, or the final tail) as one run. */
static void put_packed_run(ut_buf *out, const uint32_t *lit, size_t n, int width)
{
    size_t groups = (n + 7) / 8;
    ut_buf_put_uvarint(out, ((uint64_t)groups << 1) | 1);
    ut_buf_reserve(out, groups * (size_t)width);
    for (size_t g = 0; g < groups; g++) {
        uint32_t tmp[8] = {0};
        size_t k = n - g * 8 < 8 ? n - g * 8 : 8;
        memcpy(tmp, lit + g * 8, k * sizeof *tmp);
        pack8(tmp, width, out->p + out->len);
        out->len += (size_t)width;
    }
}

/* The encoder works through v with a pending literal region [lit, i).  A
 * repeat of >= 8 starting at i becomes an RLE run once the literal region is
 * a whole number of groups (values are borrowed from the repeat to fill the
 * last group); everything else joins the literal region. */
#define RLE_ENCODE_BODY(T)                                                       \
    size_t i = 0, lit = 0;                                                       \
    uint32_t litbuf[512];                                                        \
    size_t nlit = 0;                                                             \
    (void)lit;                                                                   \
    while (i < n) {                                                              \
        size_t j = i + 1;                                                        \
        while (j < n && v[j] == v[i]) j++;                                       \
        size_t run = j - i;                                                      \
        if (run >= 8 + (8 - nlit % 8) % 8) {                                     \
            size_t fill = (8 - nlit % 8) % 8;                                    \
            for (size_t k = 0; k < fill; k++) litbuf[nlit++] = (uint32_t)v[i];   \
            if (nlit) put_packed_run(out, litbuf, nlit, width);                  \
            nlit = 0;                                                            \
            put_rle_run(out, (uint32_t)v[i], run - fill, width);                 \
            i = j;                                                               \
            continue;                                                            \
        }                                                                        \
        for (; i < j; i++) {                                                     \
            litbuf[nlit++] = (uint32_t)v[i];                                     \
            if (nlit == 504) { /* 63 groups: flush a full literal run */         \
                put_packed_run(out, litbuf, nlit, width);                        \
                nlit = 0;                                                        \
            }                                                                    \
        }                                                                        \
    }                                                                            \
    if (nlit) put_packed_run(out, litbuf, nlit, width);

void pq__rle_encode_u32(const uint32_t *v, size_t n, int width, ut_buf *out)
{
    RLE_ENCODE_BODY(uint32_t)
}

void pq__rle_encode_u8(const uint8_t *v, size_t n, int width, ut_buf *out)
{
    RLE_ENCODE_BODY(uint8_t)
}

void pq__pack_bools(const uint8_t *v, size_t n, ut_buf *out)
{
    size_t bytes = (n + 7) / 8;
    ut_buf_reserve(out, bytes);
    uint8_t *o = out->p + out->len;
    memset(o, 0, bytes);
    for (size_t i = 0; i < n; i++)
        if (v[i]) o[i >> 3] |= (uint8_t)(1u << (i & 7));
    out->len += bytes;
}

/* DELTA_BINARY_PACKED (parquet.thrift "Delta encoding"):
 *
 *   header: uvarint block size (128) | uvarint miniblocks per block (4) |
 *           uvarint total values | zigzag varint first value
 *   block:  zigzag varint min delta | 4 bytes: bit width of each miniblock |
 *           4 miniblocks of 32 (delta - min delta) values, bit-packed LSB first
 *
 * Deltas are computed with wrapping 64-bit arithmetic, so any int64 sequence
 * encodes; the last block's unused miniblocks are not written. */
#define DBP_BLOCK 128
#define DBP_MINI 4
#define DBP_PER_MINI (DBP_BLOCK / DBP_MINI)

static void put_zigzag(ut_buf *out, int64_t v)
{
    ut_buf_put_uvarint(out, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void pack_bits64(const uint64_t *v, int n, int width, ut_buf *out)
{
    if (!width) return;
    size_t bytes = ((size_t)n * (size_t)width + 7) / 8;
    ut_buf_reserve(out, bytes + 8);
    uint8_t *o = out->p + out->len;
    memset(o, 0, bytes + 8);
    size_t bit = 0;
    for (int i = 0; i < n; i++) {
        uint64_t x = v[i];
        int left = width;
        while (left > 0) {
            size_t byte = bit >> 3;
            int shift = (int)(bit & 7), take = 8 - shift < left ? 8 - shift : left;
            o[byte] |= (uint8_t)((x & ((1u << take) - 1)) << shift);
            x >>= take;
            left -= take;
            bit += (size_t)take;
        }
    }
    out->len += bytes;
}

void pq__delta_encode(const int64_t *v, size_t n, ut_buf *out)
{
    ut_buf_put_uvarint(out, DBP_BLOCK);
    ut_buf_put_uvarint(out, DBP_MINI);
    ut_buf_put_uvarint(out, n);
    put_zigzag(out, n ? v[0] : 0);
    uint64_t d[DBP_BLOCK];
    for (size_t i = 1; i < n; i += DBP_BLOCK) {
        int m = n - i < DBP_BLOCK ? (int)(n - i) : DBP_BLOCK;
        int64_t min = INT64_MAX;
        for (int k = 0; k < m; k++) {
            int64_t delta = (int64_t)((uint64_t)v[i + (size_t)k] - (uint64_t)v[i + (size_t)k - 1]);
            d[k] = (uint64_t)delta;
            if (delta < min) min = delta;
        }
        put_zigzag(out, min);
        uint8_t widths[DBP_MINI] = {0};
        int minis = (m + DBP_PER_MINI - 1) / DBP_PER_MINI;
        for (int k = 0; k < m; k++) d[k] -= (uint64_t)min;
        for (int b = 0; b < minis; b++) {
            uint64_t all = 0;
            for (int k = b * DBP_PER_MINI; k < (b + 1) * DBP_PER_MINI && k < m; k++) all |= d[k];
            int w = 0;
            while (w < 64 && (all >> w)) w++;
            widths[b] = (uint8_t)w;
        }
        ut_buf_put(out, widths, DBP_MINI);
        for (int b = 0; b < minis; b++) {
            uint64_t mini[DBP_PER_MINI] = {0};
            for (int k = 0; k < DBP_PER_MINI && b * DBP_PER_MINI + k < m; k++)
                mini[k] = d[b * DBP_PER_MINI + k];
            pack_bits64(mini, DBP_PER_MINI, widths[b], out);
        }
    }
}
