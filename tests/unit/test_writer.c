/* Writer: RLE/bit-packed encoder bytes, error paths, cancelled rows. */
#include "t.h"
#include "parquet/writer_int.h"

#include <stdio.h>
#include <stdlib.h>

/* Decode the hybrid encoding back (independent, straightforward version). */
static size_t rle_decode(const uint8_t *p, size_t n, int width, uint32_t *out, size_t max)
{
    size_t i = 0, o = 0;
    while (i < n && o < max) {
        uint64_t h = 0;
        int shift = 0;
        while (i < n) {
            uint8_t b = p[i++];
            h |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80)) break;
        }
        if (h & 1) {
            size_t cnt = (size_t)(h >> 1) * 8;
            uint64_t acc = 0;
            int bits = 0;
            for (size_t k = 0; k < cnt && o < max; k++) {
                while (bits < width) {
                    acc |= (uint64_t)p[i++] << bits;
                    bits += 8;
                }
                out[o++] = (uint32_t)(acc & ((1ull << width) - 1));
                acc >>= width;
                bits -= width;
            }
            i += 0;
        } else {
            size_t cnt = (size_t)(h >> 1);
            uint32_t v = 0;
            for (int b = 0; b < (width + 7) / 8; b++) v |= (uint32_t)p[i++] << (8 * b);
            for (size_t k = 0; k < cnt && o < max; k++) out[o++] = v;
        }
    }
    return o;
}

TEST(writer_rle_runs)
{
    ut_buf b = {0};
    uint8_t zeros[8] = {0};
    pq__rle_encode_u8(zeros, 8, 1, &b);
    CHECK_EQ_INT(b.len, 2);
    CHECK_EQ_INT(b.p[0], 0x10); /* 8 << 1 */
    CHECK_EQ_INT(b.p[1], 0x00);
    ut_buf_reset(&b);
    uint32_t v[3] = {1, 2, 3};
    pq__rle_encode_u32(v, 3, 2, &b);
    CHECK_EQ_INT(b.len, 3);     /* header + 2 bytes of one padded group */
    CHECK_EQ_INT(b.p[0], 0x03); /* 1 group, bit-packed */
    CHECK_EQ_INT(b.p[1], 0x39); /* 1 | 2<<2 | 3<<4 */
    ut_buf_free(&b);
}

TEST(writer_rle_roundtrip_mixed)
{
    /* literal groups, long repeats, repeats that start mid-group, tails */
    enum { N = 5000 };
    uint32_t *v = malloc(N * sizeof *v), *back = malloc(N * sizeof *back);
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245 + 12345;
        int phase = (i / 97) % 3;
        v[i] = phase == 0 ? (seed >> 16) % 1000 : phase == 1 ? 42 : (uint32_t)(i % 5);
    }
    for (int width = 10; width <= 17; width += 7) {
        ut_buf b = {0};
        pq__rle_encode_u32(v, N, width, &b);
        size_t got = rle_decode(b.p, b.len, width, back, N);
        CHECK_EQ_INT(got, N);
        for (int i = 0; i < N; i++) CHECK_MSG(back[i] == v[i], "width %d value %d", width, i);
        ut_buf_free(&b);
    }
    free(v);
    free(back);
}

TEST(writer_errors_name_column)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/err.parquet", t_tmpdir());
    pq_column_spec cols[] = {{"id", PQ_INT64, 0}, {"name", PQ_STRING, 1}};
    pq_writer *w = pq_writer_create(path, cols, 2, NULL, err, sizeof err);
    CHECK(w);
    CHECK(pq_writer_put_bytes(w, 0, "x", 1) == -1);
    CHECK(strstr(pq_writer_error(w), "'id'"));
    CHECK(pq_writer_put_null(w, 0) == -1);
    CHECK(strstr(pq_writer_error(w), "required"));
    CHECK(pq_writer_put_i64(w, 0, 1) == 0);
    CHECK(pq_writer_put_i64(w, 0, 2) == -1); /* twice in one row */
    CHECK(pq_writer_end_row(w) == 0);        /* name defaults to null */
    CHECK(pq_writer_put_bytes(w, 1, "y", 1) == 0);
    CHECK(pq_writer_end_row(w) == -1);       /* id missing: required */
    CHECK(strstr(pq_writer_error(w), "'id'"));
    CHECK_EQ_INT(pq_writer_rows(w), 1);
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);

    pq_column_spec dup[] = {{"a", PQ_INT64, 0}, {"a", PQ_STRING, 1}};
    CHECK(!pq_writer_create(path, dup, 2, NULL, err, sizeof err));
    CHECK(strstr(err, "twice"));
    CHECK(!pq_writer_create("/nonexistent/dir/x.parquet", cols, 2, NULL, err, sizeof err));
    CHECK(strstr(err, "/nonexistent/dir/x.parquet"));
}

TEST(writer_dictionary_pop)
{
    pq__dict d;
    pq__dict_init(&d, 0);
    int added;
    char key[32];
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        CHECK_EQ_INT(pq__dict_put(&d, key, (size_t)n, &added), i);
        CHECK(added);
    }
    CHECK_EQ_INT(pq__dict_put(&d, "k17", 3, &added), 17);
    CHECK(!added);
    pq__dict_pop(&d);                     /* removes k2999 */
    CHECK_EQ_INT(d.n, 2999);
    CHECK_EQ_INT(pq__dict_put(&d, "k2999", 5, &added), 2999);
    CHECK(added);
    size_t n;
    const uint8_t *p = pq__dict_get(&d, 2999, &n);
    CHECK(n == 5 && !memcmp(p, "k2999", 5));
    pq__dict_free(&d);
}
