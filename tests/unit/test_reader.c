/* Parquet reader tests: every file of parquet-testing, *_expect.csv
 * comparisons, known values (cross-checked with DuckDB), RLE / delta
 * decoders, CRCs, statistics, corrupt and truncated inputs. */
#include "t.h"

#include "cli/pqfmt.h"
#include "parquet/parquet.h"
#include "parquet/read_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ut_buf b = {0};
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) ut_buf_put(&b, tmp, k);
    fclose(f);
    *n = b.len;
    if (!b.p) b.p = ut_malloc(1);
    return b.p;
}

static void pt_path(char *out, size_t n, const char *file)
{
    snprintf(out, n, "%s/parquet-testing/%s", t_testdata(), file);
}

/* Read every flat column of every row group; -1 with err on the first error. */
static int read_all(pq_reader *r, char *err, size_t errlen)
{
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        for (int c = 0; c < pq_reader_num_columns(r); c++) {
            pq_column_info ci;
            pq_chunk_info ch;
            pq_col col;
            pq_reader_column(r, c, &ci);
            pq_reader_chunk(r, g, c, &ch);
            if (ci.type == PQ_UNSUPPORTED) continue;
            if (pq_reader_read(r, g, c, &col, err, errlen)) return -1;
            pq_col_free(&col);
        }
    }
    return 0;
}

/* NDJSON line of row `row` (over all flat columns), as sluice cat prints it. */
static char *row_json(pq_reader *r, int64_t row)
{
    ut_buf b = {0};
    char err[512];
    int g = 0, first = 1;
    while (g < pq_reader_num_row_groups(r) && row >= pq_reader_row_group_rows(r, g))
        row -= pq_reader_row_group_rows(r, g++);
    ut_buf_putc(&b, '{');
    for (int c = 0; c < pq_reader_num_columns(r); c++) {
        pq_column_info ci;
        pq_col col;
        pq_reader_column(r, c, &ci);
        if (ci.type == PQ_UNSUPPORTED) continue;
        if (pq_reader_read(r, g, c, &col, err, sizeof err)) {
            ut_buf_printf(&b, "ERROR %s", err);
            break;
        }
        if (!first) ut_buf_putc(&b, ',');
        first = 0;
        cli_pf_json_str(&b, (const uint8_t *)ci.name, strlen(ci.name));
        ut_buf_putc(&b, ':');
        cli_pf_json_value(&b, ci.type, &col, row);
        pq_col_free(&col);
    }
    ut_buf_putc(&b, '}');
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

TEST(reader_testdata_every_file)
{
    char dir[1024], path[1400], err[512];
    snprintf(dir, sizeof dir, "%s/parquet-testing", t_testdata());
    DIR *d = opendir(dir);
    CHECK_MSG(d, "no testdata at %s", dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 8 || strcmp(e->d_name + l - 8, ".parquet")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        pq_reader *r = pq_reader_open(path, err, sizeof err);
        int corrupt = strstr(e->d_name, "corrupt") != NULL;
        if (!r) {
            closedir(d);
            CHECK_MSG(0, "%s", err);
        }
        int rc = read_all(r, err, sizeof err);
        if (corrupt) {
            CHECK_MSG(rc == -1 && strstr(err, "CRC"), "%s: expected a CRC error", e->d_name);
        } else if (rc) {
            pq_reader_destroy(r);
            closedir(d);
            CHECK_MSG(0, "%s", err);
        }
        /* nested columns: reported as unsupported, and reading says so */
        for (int c = 0; c < pq_reader_num_columns(r); c++) {
            pq_column_info ci;
            pq_col col;
            pq_reader_column(r, c, &ci);
            if (ci.type != PQ_UNSUPPORTED || !pq_reader_num_row_groups(r)) continue;
            CHECK(strstr(ci.logical, "not supported"));
            CHECK(pq_reader_read(r, 0, c, &col, err, sizeof err) == -1);
            CHECK_MSG(strstr(err, "not supported") && strstr(err, ci.name), "%s", err);
        }
        pq_reader_destroy(r);
        files++;
    }
    closedir(d);
    CHECK_MSG(files >= 18, "only %d files", files);
}

/* ---- *_expect.csv ------------------------------------------------------------ */

/* Next CSV field from *p (RFC 4180).  *quoted set when it was quoted. */
static int csv_field(const char **p, ut_buf *f, int *quoted, int *eol)
{
    const char *s = *p;
    f->len = 0;
    *quoted = 0;
    if (*s == '"') {
        *quoted = 1;
        s++;
        while (*s && !(*s == '"' && s[1] != '"')) {
            if (*s == '"') s++;
            ut_buf_putc(f, (uint8_t)*s++);
        }
        if (*s == '"') s++;
    } else {
        while (*s && *s != ',' && *s != '\n' && *s != '\r') ut_buf_putc(f, (uint8_t)*s++);
    }
    if (*s == '\r') s++;
    *eol = *s == '\n' || !*s;
    if (*s) s++;
    *p = s;
    return 0;
}

static void cell_text(ut_buf *b, pq_type t, const pq_col *c, int64_t i)
{
    b->len = 0;
    if (c->kind == PQ_K_BYTES) ut_buf_put(b, c->data + c->off[i], c->off[i + 1] - c->off[i]);
    else cli_pf_csv_value(b, t, c, i);
}

static int compare_expect(const char *name, char *msg, size_t msglen)
{
    char path[1024], err[512];
    size_t n;
    int rc = -1, ncols;
    pq_col *cols = NULL;
    ut_buf f = {0}, mine = {0};
    snprintf(path, sizeof path, "%s/parquet-testing/%s_expect.csv", t_testdata(), name);
    char *csv = (char *)slurp(path, &n);
    if (!csv) return ut_err(msg, msglen, "no %s", path);
    csv = ut_realloc(csv, n + 1);
    csv[n] = 0;
    snprintf(path, sizeof path, "%s/parquet-testing/%s.parquet", t_testdata(), name);
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    if (!r) {
        ut_err(msg, msglen, "%s", err);
        goto fail;
    }
    ncols = pq_reader_num_columns(r);
    if (pq_reader_num_row_groups(r) != 1) {
        ut_err(msg, msglen, "expected one row group");
        goto fail;
    }
    cols = ut_calloc((size_t)ncols, sizeof *cols);
    for (int c = 0; c < ncols; c++)
        if (pq_reader_read(r, 0, c, &cols[c], err, sizeof err)) {
            ut_err(msg, msglen, "%s", err);
            goto fail;
        }
    const char *p = csv;
    int q, eol;
    for (int c = 0; c < ncols; c++) { /* header */
        pq_column_info ci;
        csv_field(&p, &f, &q, &eol);
        ut_buf_putc(&f, 0);
        pq_reader_column(r, c, &ci);
        if (strcmp((char *)f.p, ci.name)) {
            ut_err(msg, msglen, "header %d: %s vs %s", c, (char *)f.p, ci.name);
            goto fail;
        }
    }
    int64_t row = 0;
    while (*p) {
        if (row >= pq_reader_num_rows(r)) {
            ut_err(msg, msglen, "csv has more rows than the file");
            goto fail;
        }
        for (int c = 0; c < ncols; c++) {
            pq_column_info ci;
            pq_reader_column(r, c, &ci);
            csv_field(&p, &f, &q, &eol);
            int null = cols[c].nulls && cols[c].nulls[row];
            int want_null = !q && f.len == 0 && ci.kind == PQ_K_BYTES;
            if (ci.kind != PQ_K_BYTES) want_null = f.len == 0;
            cell_text(&mine, ci.type, &cols[c], row);
            if (null != want_null || (!null && (mine.len != f.len || memcmp(mine.p, f.p, f.len)))) {
                ut_err(msg, msglen, "row %lld column %s: got %s'%.*s', want %s'%.*s'", (long long)row,
                       ci.name, null ? "null " : "", (int)mine.len, (char *)mine.p,
                       want_null ? "null " : "", (int)f.len, (char *)f.p);
                goto fail;
            }
        }
        row++;
    }
    if (row != pq_reader_num_rows(r)) {
        ut_err(msg, msglen, "csv has %lld rows, file %lld", (long long)row,
               (long long)pq_reader_num_rows(r));
        goto fail;
    }
    rc = 0;
fail:
    for (int c = 0; cols && r && c < pq_reader_num_columns(r); c++) pq_col_free(&cols[c]);
    free(cols);
    pq_reader_destroy(r);
    free(csv);
    ut_buf_free(&f);
    ut_buf_free(&mine);
    return rc;
}

TEST(reader_expect_csv_delta_binary_packed)
{
    char msg[600];
    CHECK_MSG(compare_expect("delta_binary_packed", msg, sizeof msg) == 0, "%s", msg);
}

TEST(reader_expect_csv_delta_byte_array)
{
    char msg[600];
    CHECK_MSG(compare_expect("delta_byte_array", msg, sizeof msg) == 0, "%s", msg);
}

/* ---- known values (each checked against DuckDB's reading of the file) ---------- */

static const struct known {
    const char *file;
    int64_t rows;
    int64_t row;
    const char *json;
} known[] = {
    {"alltypes_plain.parquet", 8, 0,
     "{\"id\":4,\"bool_col\":true,\"tinyint_col\":0,\"smallint_col\":0,\"int_col\":0,\"bigint_col\":0,"
     "\"float_col\":0,\"double_col\":0,\"date_string_col\":\"MDMvMDEvMDk=\",\"string_col\":\"MA==\","
     "\"timestamp_col\":\"2009-03-01T00:00:00Z\"}"},
    {"alltypes_plain.parquet", 8, 7,
     "{\"id\":1,\"bool_col\":false,\"tinyint_col\":1,\"smallint_col\":1,\"int_col\":1,\"bigint_col\":10,"
     "\"float_col\":1.1,\"double_col\":10.1,\"date_string_col\":\"MDEvMDEvMDk=\",\"string_col\":\"MQ==\","
     "\"timestamp_col\":\"2009-01-01T00:01:00Z\"}"},
    {"alltypes_dictionary.parquet", 2, 1,
     "{\"id\":1,\"bool_col\":false,\"tinyint_col\":1,\"smallint_col\":1,\"int_col\":1,\"bigint_col\":10,"
     "\"float_col\":1.1,\"double_col\":10.1,\"date_string_col\":\"MDEvMDEvMDk=\",\"string_col\":\"MQ==\","
     "\"timestamp_col\":\"2009-01-01T00:01:00Z\"}"},
    {"alltypes_plain.snappy.parquet", 2, 1,
     "{\"id\":7,\"bool_col\":false,\"tinyint_col\":1,\"smallint_col\":1,\"int_col\":1,\"bigint_col\":10,"
     "\"float_col\":1.1,\"double_col\":10.1,\"date_string_col\":\"MDQvMDEvMDk=\",\"string_col\":\"MQ==\","
     "\"timestamp_col\":\"2009-04-01T00:01:00Z\"}"},
    {"binary.parquet", 12, 11, "{\"foo\":\"Cw==\"}"},
    {"byte_stream_split.zstd.parquet", 300, 0, "{\"f32\":1.7640524,\"f64\":-1.3065268517353166}"},
    {"byte_stream_split.zstd.parquet", 300, 299, "{\"f32\":0.37005588,\"f64\":-0.17858909208732915}"},
    {"datapage_v2.snappy.parquet", 5, 3, "{\"a\":null,\"b\":4,\"c\":5,\"d\":false}"},
    {"datapage_v2.snappy.parquet", 5, 4, "{\"a\":\"abc\",\"b\":5,\"c\":2,\"d\":true}"},
    {"delta_length_byte_array.parquet", 1000, 999, "{\"FRUIT\":\"apple_banana_mango998001\"}"},
    {"fixed_length_decimal.parquet", 24, 23, "{\"value\":24}"},
    {"int32_decimal.parquet", 24, 11, "{\"value\":12}"},
    {"int64_decimal.parquet", 24, 0, "{\"value\":1}"},
    {"int32_with_null_pages.parquet", 1000, 0, "{\"int32_field\":-654807448}"},
    {"int32_with_null_pages.parquet", 1000, 4, "{\"int32_field\":null}"},
    {"int32_with_null_pages.parquet", 1000, 999, "{\"int32_field\":303403251}"},
    {"lz4_raw_compressed.parquet", 4, 3, "{\"c0\":1593604801,\"c1\":\"ZGVm\",\"v11\":7.7}"},
    {"nan_in_stats.parquet", 2, 1, "{\"x\":\"NaN\"}"},
    {"nulls.snappy.parquet", 8, 7, "{}"},
    {"rle_boolean_encoding.parquet", 68, 2, "{\"datatype_boolean\":null}"},
    {"rle_boolean_encoding.parquet", 68, 67, "{\"datatype_boolean\":true}"},
    {"single_nan.parquet", 1, 0, "{\"mycol\":null}"},
};

TEST(reader_known_values)
{
    char path[1024], err[512];
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        pt_path(path, sizeof path, known[i].file);
        pq_reader *r = pq_reader_open(path, err, sizeof err);
        CHECK_MSG(r, "%s", err);
        int64_t rows = pq_reader_num_rows(r);
        char *j = row_json(r, known[i].row);
        int ok = rows == known[i].rows && !strcmp(j, known[i].json);
        if (!ok) t_fail(__FILE__, __LINE__, "%s row %lld: %s (rows %lld)", known[i].file,
                        (long long)known[i].row, j, (long long)rows);
        free(j);
        pq_reader_destroy(r);
        if (!ok) return;
    }
}

static int64_t count_nulls(const char *file, int col)
{
    char path[1024], err[512];
    int64_t n = 0;
    pt_path(path, sizeof path, file);
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    if (!r) return -1;
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        pq_col c;
        if (pq_reader_read(r, g, col, &c, err, sizeof err)) {
            n = -1;
            break;
        }
        for (int64_t i = 0; c.nulls && i < c.n; i++) n += c.nulls[i];
        pq_col_free(&c);
    }
    pq_reader_destroy(r);
    return n;
}

TEST(reader_null_counts)
{
    CHECK_EQ_INT(count_nulls("int32_with_null_pages.parquet", 0), 275);
    CHECK_EQ_INT(count_nulls("rle_boolean_encoding.parquet", 0), 6);
    CHECK_EQ_INT(count_nulls("datapage_v2.snappy.parquet", 0), 1);
    CHECK_EQ_INT(count_nulls("single_nan.parquet", 0), 1);
    CHECK_EQ_INT(count_nulls("alltypes_plain.parquet", 0), 0);
}

TEST(reader_schema_mapping)
{
    char path[1024], err[512];
    pq_column_info ci;
    pt_path(path, sizeof path, "alltypes_plain.parquet");
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_EQ_INT(pq_reader_num_columns(r), 11);
    pq_reader_column(r, pq_reader_find_column(r, "timestamp_col"), &ci);
    CHECK_EQ_INT(ci.type, PQ_TIMESTAMP);
    CHECK_EQ_INT(ci.physical, PQ__INT96);
    CHECK_EQ_INT(pq_reader_find_column(r, "nope"), -1);
    pq_reader_destroy(r);

    pt_path(path, sizeof path, "fixed_length_decimal.parquet");
    r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    pq_reader_column(r, 0, &ci);
    CHECK_EQ_INT(ci.type, PQ_DECIMAL);
    CHECK_EQ_INT(ci.kind, PQ_K_F64);
    CHECK_EQ_INT(ci.precision, 25);
    CHECK_EQ_INT(ci.scale, 2);
    pq_reader_destroy(r);

    pt_path(path, sizeof path, "datapage_v2.snappy.parquet");
    r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_EQ_INT(pq_reader_num_columns(r), 5);
    pq_reader_column(r, 4, &ci);
    CHECK_EQ_STR(ci.name, "e.list.element");
    CHECK_EQ_INT(ci.type, PQ_UNSUPPORTED);
    CHECK(strstr(ci.logical, "LIST"));
    pq_reader_column(r, 0, &ci);
    CHECK_EQ_INT(ci.type, PQ_STRING);
    CHECK(ci.optional);
    pq_reader_column(r, 1, &ci);
    CHECK(!ci.optional);
    pq_reader_destroy(r);
}

/* ---- statistics and row-group skipping ------------------------------------------ */

TEST(reader_stats_may_match)
{
    char path[1024], err[512];
    pq_chunk_info ch;
    pt_path(path, sizeof path, "int32_with_null_pages.parquet");
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK(pq_reader_chunk(r, 0, 0, &ch) == 0);
    CHECK(ch.stats.has_min_max);
    CHECK_EQ_INT(ch.stats.min.u.i, -2136906554);
    CHECK_EQ_INT(ch.stats.max.u.i, 2145722375);
    CHECK_EQ_INT(ch.stats.null_count, 275);
    pq_value v = {.kind = PQ_K_I64, .u.i = -2136906555};
    CHECK(!pq_reader_may_match(r, 0, 0, "=", &v));
    CHECK(!pq_reader_may_match(r, 0, 0, "<", &v));
    CHECK(!pq_reader_may_match(r, 0, 0, "<=", &v));
    CHECK(pq_reader_may_match(r, 0, 0, ">", &v));
    v.u.i = -2136906554;
    CHECK(pq_reader_may_match(r, 0, 0, "<=", &v));
    CHECK(!pq_reader_may_match(r, 0, 0, "<", &v));
    v.u.i = 2145722375;
    CHECK(pq_reader_may_match(r, 0, 0, ">=", &v));
    CHECK(!pq_reader_may_match(r, 0, 0, ">", &v));
    v.kind = PQ_K_F64;
    v.u.d = 2145722375.5;
    CHECK(!pq_reader_may_match(r, 0, 0, "=", &v));
    CHECK(pq_reader_chunk(r, 1, 0, &ch) == -1);
    pq_reader_destroy(r);

    /* strings with TypeDefinedOrder (parquet-mr 1.10) */
    pt_path(path, sizeof path, "delta_byte_array.parquet");
    r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK(pq_reader_chunk(r, 0, 0, &ch) == 0);
    CHECK(ch.stats.has_min_max);
    CHECK(ch.stats.min.u.s.n == 16 && !memcmp(ch.stats.min.u.s.p, "AAAAAAAAAABAAAAA", 16));
    pq_value s = {.kind = PQ_K_BYTES};
    s.u.s.p = (const uint8_t *)"ZZZ";
    s.u.s.n = 3;
    CHECK(!pq_reader_may_match(r, 0, 0, "=", &s));
    CHECK(pq_reader_may_match(r, 0, 0, "<", &s));
    s.u.s.p = (const uint8_t *)"AAAAAAAAAABAAAA"; /* a prefix: shorter sorts first */
    s.u.s.n = 15;
    CHECK(!pq_reader_may_match(r, 0, 0, "<=", &s));
    pq_reader_destroy(r);

    /* NaN in statistics: unusable */
    pt_path(path, sizeof path, "nan_in_stats.parquet");
    r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK(pq_reader_chunk(r, 0, 0, &ch) == 0);
    CHECK(!ch.stats.has_min_max);
    v.u.d = 1e300;
    CHECK(pq_reader_may_match(r, 0, 0, ">", &v));
    pq_reader_destroy(r);

    /* legacy byte-array statistics (parquet-mr 1.8.1) are not trusted */
    pt_path(path, sizeof path, "datapage_v2.snappy.parquet");
    r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK(pq_reader_chunk(r, 0, 0, &ch) == 0);
    CHECK(!ch.stats.has_min_max);
    CHECK(pq_reader_chunk(r, 0, 1, &ch) == 0);
    CHECK(ch.stats.has_min_max);
    CHECK_EQ_INT(ch.stats.min.u.i, 1);
    CHECK_EQ_INT(ch.stats.max.u.i, 5);
    pq_reader_destroy(r);
}

/* ---- decoders ------------------------------------------------------------------- */

TEST(reader_rle_bitpacked)
{
    char err[256];
    uint32_t out[64];
    /* spec example: bit-packed 0..7 at width 3 (one group) */
    const uint8_t bp[] = {0x03, 0x88, 0xc6, 0xfa};
    CHECK(pq__rle_decode(bp, sizeof bp, 3, out, 8, err, sizeof err) == 0);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[i], i);
    /* fewer values than the group holds */
    CHECK(pq__rle_decode(bp, sizeof bp, 3, out, 5, err, sizeof err) == 0);
    CHECK_EQ_INT(out[4], 4);
    /* RLE run of 10 x 5 (width 3: one value byte), then bit-packed 8 x width 1 */
    const uint8_t mix[] = {10 << 1, 5, 0x03, 0xa5};
    CHECK(pq__rle_decode(mix, sizeof mix, 3, out, 10, err, sizeof err) == 0);
    CHECK_EQ_INT(out[9], 5);
    const uint8_t mix1[] = {4 << 1, 1, 0x03, 0xa5};
    CHECK(pq__rle_decode(mix1, sizeof mix1, 1, out, 12, err, sizeof err) == 0);
    CHECK_EQ_INT(out[3], 1);
    CHECK_EQ_INT(out[4], 1); /* 0xa5 = 10100101, LSB first: 1 0 1 0 0 1 0 1 */
    CHECK_EQ_INT(out[5], 0);
    CHECK_EQ_INT(out[11], 1);
    /* width 20: RLE value takes 3 bytes */
    const uint8_t w20[] = {3 << 1, 0x01, 0x02, 0x0f};
    CHECK(pq__rle_decode(w20, sizeof w20, 20, out, 3, err, sizeof err) == 0);
    CHECK_EQ_INT(out[2], 0x0f0201);
    /* width 32 bit-packed */
    uint8_t w32[1 + 32];
    w32[0] = 0x03;
    for (int i = 0; i < 32; i++) w32[1 + i] = (uint8_t)(i * 7 + 1);
    CHECK(pq__rle_decode(w32, sizeof w32, 32, out, 8, err, sizeof err) == 0);
    CHECK_EQ_INT(out[1], (uint32_t)w32[5] | (uint32_t)w32[6] << 8 | (uint32_t)w32[7] << 16 |
                             (uint32_t)w32[8] << 24);
    /* errors: truncated input, run value too wide, bad width */
    CHECK(pq__rle_decode(bp, 2, 3, out, 8, err, sizeof err) == -1);
    CHECK(pq__rle_decode(mix, 2, 3, out, 11, err, sizeof err) == -1);
    const uint8_t wide[] = {2 << 1, 9};
    CHECK(pq__rle_decode(wide, sizeof wide, 3, out, 2, err, sizeof err) == -1);
    CHECK(pq__rle_decode(bp, sizeof bp, 33, out, 1, err, sizeof err) == -1);
    /* width 0: all zeros from an RLE run */
    const uint8_t w0[] = {6 << 1};
    CHECK(pq__rle_decode(w0, sizeof w0, 0, out, 6, err, sizeof err) == 0);
    CHECK_EQ_INT(out[5], 0);
}

TEST(reader_delta_binary_packed)
{
    char err[256];
    int64_t out[16];
    size_t used;
    /* spec example 1: 1 2 3 4 5 */
    const uint8_t a[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
    CHECK(pq__delta_decode(a, sizeof a, out, 5, &used, err, sizeof err) == 0);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(out[i], i + 1);
    CHECK_EQ_INT(used, sizeof a);
    CHECK_EQ_INT(pq__delta_count(a, sizeof a), 5);
    /* spec example 2: 7 5 3 1 2 3 4 5 (min delta -2, width 2) */
    const uint8_t b[] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0x00, 0x00, 0x00,
                         0xc0, 0x3f, 0, 0, 0, 0, 0, 0};
    CHECK(pq__delta_decode(b, sizeof b, out, 8, &used, err, sizeof err) == 0);
    const int64_t want[] = {7, 5, 3, 1, 2, 3, 4, 5};
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[i], want[i]);
    CHECK_EQ_INT(used, sizeof b);
    /* a single value: header only */
    const uint8_t c[] = {0x80, 0x01, 0x04, 0x01, 0x7f};
    CHECK(pq__delta_decode(c, sizeof c, out, 1, &used, err, sizeof err) == 0);
    CHECK_EQ_INT(out[0], -64);
    CHECK_EQ_INT(used, sizeof c);
    /* errors: fewer values than needed, truncated miniblock, bad block size */
    CHECK(pq__delta_decode(a, sizeof a, out, 6, &used, err, sizeof err) == -1);
    CHECK(pq__delta_decode(b, 11, out, 8, &used, err, sizeof err) == -1);
    const uint8_t bad[] = {0x81, 0x01, 0x04, 0x05, 0x02};
    CHECK(pq__delta_decode(bad, sizeof bad, out, 1, &used, err, sizeof err) == -1);
    CHECK_EQ_INT(pq__delta_count(bad, sizeof bad), -1);
}

TEST(reader_delta_byte_arrays)
{
    char err[256];
    ut_buf data = {0};
    uint64_t off[4];
    /* DELTA_LENGTH_BYTE_ARRAY: lengths 2 3 1 (deltas 1,-2 → min -2, widths 2) + "abcdefg"[0..6) */
    const uint8_t dl[] = {0x80, 0x01, 0x04, 0x03, 0x04, 0x03, 0x02, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0,
                          'a', 'b', 'c', 'd', 'e', 'f'};
    CHECK_MSG(pq__decode_bytes(PQ__ENC_DELTA_LENGTH_BYTE_ARRAY, dl, sizeof dl, 3, &data, off, 1 << 20,
                               err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(off[1], 2);
    CHECK_EQ_INT(off[3], 6);
    CHECK(!memcmp(data.p, "abcdef", 6));
    /* one byte short of data */
    data.len = 0;
    CHECK(pq__decode_bytes(PQ__ENC_DELTA_LENGTH_BYTE_ARRAY, dl, sizeof dl - 1, 3, &data, off, 1 << 20,
                           err, sizeof err) == -1);
    /* DELTA_BYTE_ARRAY: "ab", "abc" (prefix 2 + "c"), "b" (prefix 0 + "b");
     * prefix lengths 0 2 0, suffix lengths 2 1 1 */
    const uint8_t db[] = {0x80, 0x01, 0x04, 0x03, 0x00, 0x03, 0x03, 0, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0,
                          0, 0, 0, 0,
                          0x80, 0x01, 0x04, 0x03, 0x04, 0x01, 0x01, 0, 0, 0, 0x02, 0, 0, 0,
                          'a', 'b', 'c', 'b'};
    data.len = 0;
    int rc = pq__decode_bytes(PQ__ENC_DELTA_BYTE_ARRAY, db, sizeof db, 3, &data, off, 1 << 20, err,
                              sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_EQ_INT(off[3], 6);
    CHECK(!memcmp(data.p, "ababcb", 6));
    /* output cap */
    data.len = 0;
    CHECK(pq__decode_bytes(PQ__ENC_DELTA_BYTE_ARRAY, db, sizeof db, 3, &data, off, 5, err,
                           sizeof err) == -1);
    ut_buf_free(&data);
}

/* ---- crafted files: CRC, PLAIN v1 ------------------------------------------------ */

/* One REQUIRED INT32 column "a", one v1 PLAIN page; crc_mode 0 none,
 * 1 correct, 2 wrong. */
static void make_int32_file(ut_buf *f, const int32_t *v, int n, int crc_mode)
{
    ut_buf page = {0}, hdr = {0}, meta = {0};
    for (int i = 0; i < n; i++) ut_buf_put_le32(&page, (uint32_t)v[i]);
    pq__tw w = {.b = &hdr};
    pq__tw_i32(&w, 1, PQ__PAGE_DATA);
    pq__tw_i32(&w, 2, (int32_t)page.len);
    pq__tw_i32(&w, 3, (int32_t)page.len);
    if (crc_mode) pq__tw_i32(&w, 4, (int32_t)(pq__crc32(page.p, page.len) ^ (crc_mode == 2)));
    pq__tw_struct_begin(&w, 5);
    pq__tw_i32(&w, 1, n);
    pq__tw_i32(&w, 2, PQ__ENC_PLAIN);
    pq__tw_i32(&w, 3, PQ__ENC_RLE);
    pq__tw_i32(&w, 4, PQ__ENC_RLE);
    pq__tw_struct_end(&w);
    pq__tw_end(&w);
    ut_buf_put(f, "PAR1", 4);
    int64_t off = (int64_t)f->len, chunk = (int64_t)(hdr.len + page.len);
    ut_buf_put(f, hdr.p, hdr.len);
    ut_buf_put(f, page.p, page.len);
    pq__tw m = {.b = &meta};
    pq__tw_i32(&m, 1, 1);
    pq__tw_list_begin(&m, 2, PQ__TT_STRUCT, 2);
    pq__tw_elem_struct_begin(&m);
    pq__tw_string(&m, 4, "schema");
    pq__tw_i32(&m, 5, 1);
    pq__tw_struct_end(&m);
    pq__tw_elem_struct_begin(&m);
    pq__tw_i32(&m, 1, PQ__INT32);
    pq__tw_i32(&m, 3, PQ__REQUIRED);
    pq__tw_string(&m, 4, "a");
    pq__tw_struct_end(&m);
    pq__tw_i64(&m, 3, n);
    pq__tw_list_begin(&m, 4, PQ__TT_STRUCT, 1);
    pq__tw_elem_struct_begin(&m);
    pq__tw_list_begin(&m, 1, PQ__TT_STRUCT, 1);
    pq__tw_elem_struct_begin(&m);
    pq__tw_i64(&m, 2, off);
    pq__tw_struct_begin(&m, 3);
    pq__tw_i32(&m, 1, PQ__INT32);
    pq__tw_list_begin(&m, 2, PQ__TT_I32, 1);
    pq__tw_elem_i32(&m, PQ__ENC_PLAIN);
    pq__tw_list_begin(&m, 3, PQ__TT_BINARY, 1);
    pq__tw_elem_binary(&m, "a", 1);
    pq__tw_i32(&m, 4, 0);
    pq__tw_i64(&m, 5, n);
    pq__tw_i64(&m, 6, chunk);
    pq__tw_i64(&m, 7, chunk);
    pq__tw_i64(&m, 9, off);
    pq__tw_struct_end(&m);
    pq__tw_struct_end(&m);
    pq__tw_i64(&m, 2, chunk);
    pq__tw_i64(&m, 3, n);
    pq__tw_struct_end(&m);
    pq__tw_end(&m);
    ut_buf_put(f, meta.p, meta.len);
    ut_buf_put_le32(f, (uint32_t)meta.len);
    ut_buf_put(f, "PAR1", 4);
    ut_buf_free(&page);
    ut_buf_free(&hdr);
    ut_buf_free(&meta);
}

TEST(reader_crc)
{
    int32_t v[5] = {1, -2, 3, INT32_MIN, INT32_MAX};
    char err[512];
    pq_col c;
    for (int mode = 0; mode < 3; mode++) {
        ut_buf f = {0};
        make_int32_file(&f, v, 5, mode);
        pq_reader *r = pq_reader_open_mem(f.p, f.len, "crafted.parquet", err, sizeof err);
        CHECK_MSG(r, "%s", err);
        int rc = pq_reader_read(r, 0, 0, &c, err, sizeof err);
        if (mode < 2) {
            CHECK_MSG(rc == 0, "%s", err);
            CHECK_EQ_INT(c.n, 5);
            CHECK(!c.nulls);
            CHECK_EQ_INT(((int32_t *)c.values)[3], INT32_MIN);
            CHECK_EQ_INT(((int32_t *)c.values)[4], INT32_MAX);
            pq_col_free(&c);
            CHECK(!c.values);
        } else {
            CHECK(rc == -1);
            CHECK_MSG(strstr(err, "CRC") && strstr(err, "crafted.parquet") && strstr(err, "'a'") &&
                          strstr(err, "row group 0"), "%s", err);
        }
        pq_reader_destroy(r);
        ut_buf_free(&f);
    }
}

TEST(reader_limits)
{
    int32_t v[100];
    char err[512];
    pq_col c;
    for (int i = 0; i < 100; i++) v[i] = i;
    ut_buf f = {0};
    make_int32_file(&f, v, 100, 0);
    pq_reader *r = pq_reader_open_mem(f.p, f.len, "lim.parquet", err, sizeof err);
    CHECK_MSG(r, "%s", err);
    int64_t old = pq__read_max_values;
    pq__read_max_values = 50;
    int rc = pq_reader_read(r, 0, 0, &c, err, sizeof err);
    pq__read_max_values = old;
    CHECK(rc == -1 && strstr(err, "limit"));
    uint64_t oldb = pq__read_max_bytes;
    pq__read_max_bytes = 100;
    rc = pq_reader_read(r, 0, 0, &c, err, sizeof err);
    pq__read_max_bytes = oldb;
    CHECK(rc == -1 && strstr(err, "limit"));
    CHECK(pq_reader_read(r, 0, 0, &c, err, sizeof err) == 0);
    CHECK_EQ_INT(((int32_t *)c.values)[99], 99);
    pq_col_free(&c);
    CHECK(pq_reader_read(r, 1, 0, &c, err, sizeof err) == -1);
    CHECK(pq_reader_read(r, 0, 1, &c, err, sizeof err) == -1);
    pq_reader_destroy(r);
    ut_buf_free(&f);
}

/* ---- corrupt and truncated inputs ---------------------------------------------- */

static void try_image(const uint8_t *p, size_t n)
{
    char err[512];
    pq_reader *r = pq_reader_open_mem(p, n, "fuzz.parquet", err, sizeof err);
    if (!r) {
        if (!strstr(err, "fuzz.parquet")) t_fail(__FILE__, __LINE__, "message without name: %s", err);
        return;
    }
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        for (int c = 0; c < pq_reader_num_columns(r); c++) {
            pq_chunk_info ch;
            pq_col col;
            pq_value v = {.kind = PQ_K_I64, .u.i = 3};
            pq_reader_chunk(r, g, c, &ch);
            pq_reader_may_match(r, g, c, "<", &v);
            if (pq_reader_read(r, g, c, &col, err, sizeof err) == 0) pq_col_free(&col);
            else if (!strstr(err, "fuzz.parquet") || !strstr(err, "row group"))
                t_fail(__FILE__, __LINE__, "message without context: %s", err);
        }
    }
    pq_reader_destroy(r);
}

static const char *corrupt_files[] = {
    "alltypes_plain.parquet", "alltypes_dictionary.parquet", "datapage_v2.snappy.parquet",
    "nulls.snappy.parquet", "lz4_raw_compressed.parquet", "rle_boolean_encoding.parquet",
    "byte_stream_split.zstd.parquet", "delta_length_byte_array.parquet", "fixed_length_decimal.parquet",
    "int32_with_null_pages.parquet", "binary.parquet", "single_nan.parquet"};

TEST(reader_corrupt_truncated)
{
    char path[1024];
    for (size_t f = 0; f < sizeof corrupt_files / sizeof corrupt_files[0]; f++) {
        size_t n;
        pt_path(path, sizeof path, corrupt_files[f]);
        uint8_t *img = slurp(path, &n);
        CHECK_MSG(img, "cannot read %s", path);
        /* truncations: keep the tail (footer) valid and cut the head, and cut the end */
        size_t step = n > 2000 ? n / 1000 : 1;
        for (size_t k = 0; k < n; k += step) {
            uint8_t *cp = ut_malloc(k + 1);
            memcpy(cp, img, k);
            try_image(cp, k);
            free(cp);
        }
        free(img);
        if (t_failed_now) return;
    }
}

TEST(reader_corrupt_flipped)
{
    char path[1024];
    uint32_t seed = 12345;
    for (size_t f = 0; f < sizeof corrupt_files / sizeof corrupt_files[0]; f++) {
        size_t n;
        pt_path(path, sizeof path, corrupt_files[f]);
        uint8_t *img = slurp(path, &n);
        CHECK_MSG(img, "cannot read %s", path);
        uint8_t *cp = ut_malloc(n);
        size_t step = n > 1500 ? n / 1500 : 1;
        for (size_t k = 0; k < n; k += step) {
            static const uint8_t xs[] = {0xff, 0x01, 0x80, 0x7f};
            for (size_t x = 0; x < sizeof xs; x++) {
                memcpy(cp, img, n);
                cp[k] ^= xs[x];
                try_image(cp, n);
            }
            /* and a few random multi-byte corruptions */
            memcpy(cp, img, n);
            for (int j = 0; j < 4; j++) {
                seed = seed * 1103515245u + 12345u;
                cp[(seed >> 8) % n] = (uint8_t)(seed >> 24);
            }
            try_image(cp, n);
        }
        free(cp);
        free(img);
        if (t_failed_now) return;
    }
}

TEST(reader_open_errors)
{
    char err[512], path[1200];
    CHECK(!pq_reader_open("/nonexistent/x.parquet", err, sizeof err));
    CHECK(strstr(err, "/nonexistent/x.parquet"));
    snprintf(path, sizeof path, "%s/parquet-testing/README.md", t_testdata());
    CHECK(!pq_reader_open(path, err, sizeof err));
    CHECK_MSG(strstr(err, "README.md") && strstr(err, "not a Parquet file"), "%s", err);
    /* footer length over the cap */
    uint8_t big[16] = {'P', 'A', 'R', '1', 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'};
    CHECK(!pq_reader_open_mem(big, sizeof big, "big.parquet", err, sizeof err));
    CHECK_MSG(strstr(err, "64 MiB") && strstr(err, "big.parquet"), "%s", err);
    uint8_t trunc[16] = {'P', 'A', 'R', '1', 0, 0, 0, 0, 100, 0, 0, 0, 'P', 'A', 'R', '1'};
    CHECK(!pq_reader_open_mem(trunc, sizeof trunc, "t.parquet", err, sizeof err));
    CHECK_MSG(strstr(err, "truncated"), "%s", err);
}

/* deep thrift nesting must be refused, not recursed into */
TEST(reader_thrift_depth)
{
    uint8_t buf[4096];
    size_t n = 0;
    /* field 99 (unknown) of type struct, nested 1000 deep */
    for (int i = 0; i < 1000; i++) buf[n++] = 0x1c; /* delta 1, struct */
    for (int i = 0; i < 1000; i++) buf[n++] = 0;
    pq__tr t;
    int id, ty;
    pq__tr_init(&t, buf, n);
    CHECK(pq__tr_field(&t, &id, &ty) == 1);
    pq__tr_skip(&t, ty);
    CHECK(t.bad);
    /* a list claiming more elements than bytes remain */
    const uint8_t lst[] = {0xf5, 0xff, 0xff, 0xff, 0x0f};
    pq__tr_init(&t, lst, sizeof lst);
    int et;
    CHECK_EQ_INT(pq__tr_list(&t, &et), 0);
    CHECK(t.bad);
}

/* ---- value text (cat/schema) ------------------------------------------------------ */

TEST(reader_value_text)
{
    ut_buf b = {0};
    cli_pf_json_str(&b, (const uint8_t *)"a\"b\\c\n\t\x01\xc3\xa9\xff", 11);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\\u00ff\"");
    b.len = 0;
    cli_pf_base64(&b, (const uint8_t *)"foobar", 6);
    cli_pf_base64(&b, (const uint8_t *)"fo", 2);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "Zm9vYmFyZm8=");
    b.len = 0;
    cli_pf_csv_str(&b, (const uint8_t *)"x,\"y\"", 5);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "\"x,\"\"y\"\"\"");
    double d[3] = {0.0 / 0.0, 1.0 / 0.0, -1.0 / 0.0};
    pq_col c = {.kind = PQ_K_F64, .n = 3, .values = d};
    b.len = 0;
    for (int i = 0; i < 3; i++) cli_pf_json_value(&b, PQ_DOUBLE, &c, i);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "\"NaN\"\"Infinity\"\"-Infinity\"");
    double sub[2] = {4.9406564584124654e-324, 1e-310};
    pq_col cs = {.kind = PQ_K_F64, .n = 2, .values = sub};
    b.len = 0;
    cli_pf_json_value(&b, PQ_DOUBLE, &cs, 0);
    ut_buf_putc(&b, ' ');
    cli_pf_json_value(&b, PQ_DOUBLE, &cs, 1);
    float fsub = 1.4e-45f;
    pq_col cf = {.kind = PQ_K_F32, .n = 1, .values = &fsub};
    ut_buf_putc(&b, ' ');
    cli_pf_json_value(&b, PQ_FLOAT, &cf, 0);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "5e-324 1e-310 1e-45");
    uint64_t u = UINT64_MAX;
    pq_col cu = {.kind = PQ_K_I64, .n = 1, .values = &u};
    b.len = 0;
    cli_pf_json_value(&b, PQ_UINT64, &cu, 0);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "18446744073709551615");
    ut_buf_free(&b);
}

/* A DuckDB-written file (kept in the fuzz corpus): unsigned ints, timestamps
 * in MILLIS/MICROS/NANOS, DECIMAL on INT32/INT64/FLBA, BYTE_STREAM_SPLIT,
 * DELTA_* encodings, v2 pages, nested columns; values checked against DuckDB. */
TEST(reader_duckdb_types)
{
    char err[512];
    const char *path = "tests/fuzz/corpus/fuzz_parquet/duckdb-v2-uncompressed.parquet";
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_EQ_INT(pq_reader_num_rows(r), 300);
    char *j = row_json(r, 299);
    CHECK_EQ_STR(j, "{\"id\":299,\"u8\":99,\"u16\":6279,\"u32\":418600000,\"u64\":18000299000000000000,"
                    "\"i8\":-76,\"i16\":2990,\"ts_us\":\"2024-01-01T00:04:59Z\",\"ts_ms\":"
                    "\"2024-01-01T00:00:00.299000Z\",\"ts_ns\":\"1969-12-31T23:59:59.000299Z\","
                    "\"tstz\":\"2024-01-01T00:04:59Z\",\"d\":\"1981-11-12\",\"dec9\":366.75,"
                    "\"dec18\":3691357.722,\"dec38\":2.99e+22,\"s\":\"str299\",\"b\":\"AP8yOTk=\","
                    "\"dbl\":149.5,\"f\":99.666664,\"bo\":false}");
    free(j);
    pq_column_info ci;
    pq_reader_column(r, pq_reader_find_column(r, "u32"), &ci);
    CHECK_EQ_INT(ci.type, PQ_INT64);
    pq_reader_column(r, pq_reader_find_column(r, "u64"), &ci);
    CHECK_EQ_INT(ci.type, PQ_UINT64);
    pq_reader_column(r, pq_reader_find_column(r, "st.b"), &ci);
    CHECK_EQ_INT(ci.type, PQ_UNSUPPORTED);
    /* UINT64 statistics compare unsigned; no column_orders: min_value trusted */
    pq_chunk_info ch;
    int c = pq_reader_find_column(r, "u64");
    CHECK(pq_reader_chunk(r, 0, c, &ch) == 0 && ch.stats.has_min_max);
    CHECK((uint64_t)ch.stats.min.u.i == 18000000000000000000ull);
    pq_value v = {.kind = PQ_K_I64, .u.i = 5};
    CHECK(!pq_reader_may_match(r, 0, c, "<", &v));
    CHECK(pq_reader_may_match(r, 0, c, ">", &v));
    pq_reader_destroy(r);
}
