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
