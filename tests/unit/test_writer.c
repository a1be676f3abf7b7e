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

/* Write values of every writer type in three shapes (low cardinality ->
 * dictionary; unique -> DELTA / DELTA_LENGTH_BYTE_ARRAY; no dictionary at all)
 * and read them back with our reader. */
static int64_t rt_i64(int i, int shape)
{
    if (shape == 0) return (i % 7) * 1000;
    if (i == 5) return INT64_MIN; /* wrap-around deltas */
    if (i == 6) return INT64_MAX;
    return (int64_t)i * 1000003 + (i % 50 == 0 ? -900000000000LL : 0); /* outliers */
}

TEST(writer_roundtrip_encodings)
{
    char path[512], err[256];
    for (int shape = 0; shape < 3; shape++) {
        snprintf(path, sizeof path, "%s/rt%d.parquet", t_tmpdir(), shape);
        pq_column_spec cols[] = {{"i64", PQ_INT64, 1}, {"i32", PQ_INT32, 0}, {"s", PQ_STRING, 1},
                                 {"d", PQ_DOUBLE, 0}, {"b", PQ_BOOL, 1}};
        pq_writer_opts o;
        pq_writer_opts_init(&o);
        o.no_dictionary = shape == 2;
        o.page_bytes = 4096;
        pq_writer *w = pq_writer_create(path, cols, 5, &o, err, sizeof err);
        CHECK_MSG(w, "%s", err);
        enum { N = 30000 };
        for (int i = 0; i < N; i++) {
            char s[48];
            int sl = shape == 0 ? snprintf(s, sizeof s, "v%d", i % 5) : snprintf(s, sizeof s, "id-%d-%x", i, i * 2654435761u);
            if (i % 13 == 0) pq_writer_put_null(w, 0); else pq_writer_put_i64(w, 0, rt_i64(i, shape));
            pq_writer_put_i32(w, 1, shape == 0 ? i % 3 : i * 7 - 50000);
            if (i % 17 == 0) pq_writer_put_null(w, 2); else pq_writer_put_bytes(w, 2, s, (size_t)sl);
            pq_writer_put_double(w, 3, i * 0.5);
            if (i % 19 != 0) pq_writer_put_bool(w, 4, i & 1);
            CHECK(pq_writer_end_row(w) == 0);
        }
        CHECK(pq_writer_close(w, err, sizeof err) == 0);
        pq_writer_destroy(w);
        pq_reader *r = pq_reader_open(path, err, sizeof err);
        CHECK_MSG(r, "%s", err);
        CHECK_EQ_INT(pq_reader_num_rows(r), N);
        int64_t row0 = 0;
        for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
            pq_col c[5];
            for (int k = 0; k < 5; k++) CHECK_MSG(pq_reader_read(r, g, k, &c[k], err, sizeof err) == 0, "%s", err);
            for (int64_t j = 0; j < c[0].n; j++) {
                int i = (int)(row0 + j);
                if (i % 13 == 0) CHECK(c[0].nulls && c[0].nulls[j]);
                else CHECK_MSG(((int64_t *)c[0].values)[j] == rt_i64(i, shape), "shape %d row %d i64", shape, i);
                CHECK(((int32_t *)c[1].values)[j] == (shape == 0 ? i % 3 : i * 7 - 50000));
                if (i % 17 == 0) {
                    CHECK(c[2].nulls && c[2].nulls[j]);
                } else {
                    char s[48];
                    int sl = shape == 0 ? snprintf(s, sizeof s, "v%d", i % 5) : snprintf(s, sizeof s, "id-%d-%x", i, i * 2654435761u);
                    CHECK_MSG(c[2].off[j + 1] - c[2].off[j] == (uint64_t)sl &&
                              !memcmp(c[2].data + c[2].off[j], s, (size_t)sl), "shape %d row %d s", shape, i);
                }
                CHECK(((double *)c[3].values)[j] == i * 0.5);
                if (i % 19 == 0) CHECK(c[4].nulls && c[4].nulls[j]);
                else CHECK(((uint8_t *)c[4].values)[j] == (i & 1));
            }
            row0 += c[0].n;
            for (int k = 0; k < 5; k++) pq_col_free(&c[k]);
        }
        /* the shapes really used the encodings they are meant to cover */
        pq_chunk_info ci;
        CHECK(pq_reader_chunk(r, 0, 0, &ci) == 0);
        int has_dict = 0, has_delta = 0;
        for (int e = 0; e < ci.num_encodings; e++) {
            has_dict |= ci.encodings[e] == 8;
            has_delta |= ci.encodings[e] == 5;
        }
        if (shape == 0) CHECK_MSG(has_dict && !has_delta, "shape 0 should be dictionary-encoded");
        else CHECK_MSG(!has_dict && has_delta, "shape %d should be DELTA_BINARY_PACKED", shape);
        CHECK(pq_reader_chunk(r, 0, 2, &ci) == 0);
        has_delta = 0;
        for (int e = 0; e < ci.num_encodings; e++) has_delta |= ci.encodings[e] == 6;
        if (shape) CHECK_MSG(has_delta, "shape %d strings should be DELTA_LENGTH_BYTE_ARRAY", shape);
        pq_reader_destroy(r);
    }
}
