/* Page compression: SNAPPY, GZIP, ZSTD, LZ4_RAW via the Debian libraries. */
#include "parquet/internal.h"

#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

static const struct {
    pq_codec c;
    const char *name;
} codecs[] = {
    {PQ_UNCOMPRESSED, "UNCOMPRESSED"}, {PQ_SNAPPY, "SNAPPY"}, {PQ_GZIP, "GZIP"},
    {PQ_ZSTD, "ZSTD"},                 {PQ_LZ4_RAW, "LZ4_RAW"},
};

const char *pq_codec_name(pq_codec c)
{
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (codecs[i].c == c) return codecs[i].name;
    if ((int)c == 3) return "LZO";
    if ((int)c == 4) return "BROTLI";
    if ((int)c == 5) return "LZ4";
    return NULL;
}

int pq_codec_parse(const char *name, pq_codec *out)
{
    if (!strcasecmp(name, "none")) {
        *out = PQ_UNCOMPRESSED;
        return 0;
    }
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (!strcasecmp(codecs[i].name, name)) {
            *out = codecs[i].c;
            return 0;
        }
    return -1;
}

int pq__compress(pq_codec c, int level, const void *in, size_t n, ut_buf *out, char *err,
                 size_t errlen)
{
    switch (c) {
    case PQ_UNCOMPRESSED:
        ut_buf_put(out, in, n);
        return 0;
    case PQ_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        ut_buf_reserve(out, cap);
        if (snappy_compress(in, n, (char *)out->p + out->len, &cap) != SNAPPY_OK)
            return ut_err(err, errlen, "snappy compression failed");
        out->len += cap;
        return 0;
    }
    case PQ_ZSTD: {
        size_t cap = ZSTD_compressBound(n);
        ut_buf_reserve(out, cap);
        size_t r = ZSTD_compress(out->p + out->len, cap, in, n, level ? level : 3);
        if (ZSTD_isError(r)) return ut_err(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
        out->len += r;
        return 0;
    }
    case PQ_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, level ? level : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return ut_err(err, errlen, "gzip: deflateInit2 failed");
        size_t cap = deflateBound(&z, (uLong)n) + 32;
        ut_buf_reserve(out, cap);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)n;
        z.next_out = out->p + out->len;
        z.avail_out = (uInt)cap;
        int rc = deflate(&z, Z_FINISH);
        size_t produced = cap - z.avail_out;
        deflateEnd(&z);
        if (rc != Z_STREAM_END) return ut_err(err, errlen, "gzip compression failed (%d)", rc);
        out->len += produced;
        return 0;
    }
    case PQ_LZ4_RAW: {
        if (n > (size_t)LZ4_MAX_INPUT_SIZE) return ut_err(err, errlen, "lz4: page too large");
        int cap = LZ4_compressBound((int)n);
        ut_buf_reserve(out, (size_t)cap);
        int r = LZ4_compress_default(in, (char *)out->p + out->len, (int)n, cap);
        if (r <= 0) return ut_err(err, errlen, "lz4 compression failed");
        out->len += (size_t)r;
        return 0;
    }
    }
    return ut_err(err, errlen, "unsupported codec %d for writing", (int)c);
}

static int gunzip(const void *in, size_t n, void *out, size_t out_len, char *err, size_t errlen)
{
    /* GZIP pages may hold several concatenated gzip members (and some writers
     * emit zlib streams), so inflate member after member until input ends. */
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return ut_err(err, errlen, "gzip: inflateInit2 failed");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)out_len;
    int rc;
    for (;;) {
        rc = inflate(&z, Z_FINISH);
        if (rc == Z_STREAM_END && z.avail_in > 0) {
            if (inflateReset(&z) != Z_OK) break;
            continue;
        }
        break;
    }
    size_t got = out_len - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && got == out_len && z.avail_in == 0))
        return ut_err(err, errlen, "gzip data corrupt (zlib %d)", rc);
    if (got != out_len)
        return ut_err(err, errlen, "gzip page decompressed to %zu bytes, header says %zu", got,
                      out_len);
    return 0;
}

int pq__decompress(pq_codec c, const void *in, size_t n, void *out, size_t out_len, char *err,
                   size_t errlen)
{
    switch (c) {
    case PQ_UNCOMPRESSED:
        if (n != out_len)
            return ut_err(err, errlen, "uncompressed page is %zu bytes, header says %zu", n, out_len);
        memcpy(out, in, n);
        return 0;
    case PQ_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length(in, n, &len) != SNAPPY_OK || len != out_len)
            return ut_err(err, errlen, "snappy page corrupt or wrong size");
        if (snappy_uncompress(in, n, out, &len) != SNAPPY_OK || len != out_len)
            return ut_err(err, errlen, "snappy data corrupt");
        return 0;
    }
    case PQ_ZSTD: {
        size_t r = ZSTD_decompress(out, out_len, in, n);
        if (ZSTD_isError(r)) return ut_err(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
        if (r != out_len)
            return ut_err(err, errlen, "zstd page decompressed to %zu bytes, header says %zu", r,
                          out_len);
        return 0;
    }
    case PQ_GZIP:
        return gunzip(in, n, out, out_len, err, errlen);
    case PQ_LZ4_RAW: {
        if (n > (size_t)LZ4_MAX_INPUT_SIZE || out_len > (size_t)LZ4_MAX_INPUT_SIZE)
            return ut_err(err, errlen, "lz4 page too large");
        int r = LZ4_decompress_safe(in, out, (int)n, (int)out_len);
        if (r < 0 || (size_t)r != out_len) return ut_err(err, errlen, "lz4 data corrupt");
        return 0;
    }
    }
    const char *name = pq_codec_name(c);
    return ut_err(err, errlen, "unsupported codec %s", name ? name : "(unknown)");
}

uint32_t pq__crc32(const void *p, size_t n)
{
    return (uint32_t)crc32(0L, p, (uInt)n);
}
