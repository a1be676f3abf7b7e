/* Exact types in the Parquet writer: DECIMAL(p,s) (text and unscaled puts,
 * INT32/INT64/FLBA, statistics in signed order, refused inputs), TIME,
 * TIMESTAMP_NTZ and BYTES, read back with pq_reader_read_decimal /
 * pq_decimal_format and pq_reader_read. */
#include "t.h"
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write one optional DECIMAL(p,s) column "d" with the given texts (NULL =
 * null) to path.  0, or -1 with a message in err. */
static int write_decimals(const char *path, int p, int s, const char *const *texts, int n,
                          char *err, size_t errlen)
{
    pq_column_spec spec = {.name = "d", .type = PQ_DECIMAL, .optional = 1, .precision = p,
                           .scale = s};
    pq_writer *w = pq_writer_create(path, &spec, 1, NULL, err, errlen);
    if (!w) return -1;
    for (int i = 0; i < n; i++) {
        int rc = texts[i] ? pq_writer_put_decimal(w, 0, texts[i], strlen(texts[i]))
                          : pq_writer_put_null(w, 0);
        if (rc || pq_writer_end_row(w)) {
            snprintf(err, errlen, "%s", pq_writer_error(w));
            pq_writer_destroy(w);
            return -1;
        }
    }
    int rc = pq_writer_close(w, err, errlen);
    pq_writer_destroy(w);
    return rc;
}

/* Exact text of row i of column 0, row group 0 ("NULL" for null) into out. */
static int read_text(pq_reader *r, int64_t i, char *out, size_t n, char *err, size_t errlen)
{
    pq_column_info ci;
    pq_reader_column(r, 0, &ci);
    pq_col c;
    if (pq_reader_read_decimal(r, 0, 0, &c, err, errlen)) return -1;
    int rc = 0;
    if (i >= c.n) rc = -1;
    else if (c.nulls && c.nulls[i]) snprintf(out, n, "NULL");
    else {
        const pq_dec128 *v = c.values;
        rc = pq_decimal_format(v[i].hi, v[i].lo, ci.scale, out, n) < 0 ? -1 : 0;
    }
    pq_col_free(&c);
    return rc;
}

/* "999.99" for (5,2): the largest value of DECIMAL(p,s), with a sign. */
static void extreme(int p, int s, int neg, char *out)
{
    char *o = out;
    if (neg) *o++ = '-';
    for (int i = 0; i < p - s; i++) *o++ = '9';
    if (p == s) *o++ = '0';
    if (s) *o++ = '.';
    for (int i = 0; i < s; i++) *o++ = '9';
    *o = 0;
}

TEST(decimal_roundtrip_precisions)
{
    static const struct {
        int p, s, phys, flba;
    } cases[] = {{1, 0, 1, 0},   {1, 1, 1, 0},   {9, 2, 1, 0},   {10, 0, 2, 0}, {10, 4, 2, 0},
                 {18, 6, 2, 0},  {18, 18, 2, 0}, {19, 0, 7, 9},  {19, 2, 7, 9}, {38, 0, 7, 16},
                 {38, 10, 7, 16}, {38, 38, 7, 16}};
    char err[512], path[512], got[128];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int p = cases[k].p, s = cases[k].s;
        char mx[64], mn[64], zfmt[64], zero[64];
        extreme(p, s, 0, mx);
        extreme(p, s, 1, mn);
        /* "1" padded to the scale; "-0.00" (as many zeros as the scale) */
        snprintf(zfmt, sizeof zfmt, "%s%.*s", s ? "0." : "0", s, "00000000000000000000000000000000000000");
        snprintf(zero, sizeof zero, "-0%s%.*s", s ? "." : "", s, "00000000000000000000000000000000000000");
        const char *in[] = {mx, mn, "0", zero, NULL, s < p ? "1" : "0.1", "-0"};
        const char *want[7];
        char want1[64];
        want[0] = mx, want[1] = mn, want[2] = zfmt, want[3] = zfmt, want[4] = "NULL";
        if (s < p) snprintf(want1, sizeof want1, "1%s%.*s", s ? "." : "", s, "00000000000000000000000000000000000000");
        else snprintf(want1, sizeof want1, "0.1%.*s", s - 1, "00000000000000000000000000000000000000");
        want[5] = want1, want[6] = zfmt;
        snprintf(path, sizeof path, "%s/dec_%d_%d.parquet", t_tmpdir(), p, s);
        CHECK_MSG(write_decimals(path, p, s, in, 7, err, sizeof err) == 0, "(%d,%d): %s", p, s, err);
        pq_reader *r = pq_reader_open(path, err, sizeof err);
        CHECK_MSG(r, "%s", err);
        pq_column_info ci;
        pq_reader_column(r, 0, &ci);
        CHECK_EQ_INT(ci.type, PQ_DECIMAL);
        CHECK_EQ_INT(ci.physical, cases[k].phys);
        if (cases[k].flba) CHECK_EQ_INT(ci.type_length, cases[k].flba);
        CHECK_EQ_INT(ci.precision, p);
        CHECK_EQ_INT(ci.scale, s);
        char lt[32];
        snprintf(lt, sizeof lt, "DECIMAL(%d,%d)", p, s);
        CHECK_EQ_STR(ci.logical, lt);
        for (int i = 0; i < 7; i++) {
            CHECK_MSG(read_text(r, i, got, sizeof got, err, sizeof err) == 0, "%s", err);
            CHECK_MSG(!strcmp(got, want[i]), "(%d,%d) row %d: got %s want %s", p, s, i, got,
                      want[i]);
        }
        /* the double view agrees in sign and magnitude with the extremes */
        pq_col c;
        CHECK_MSG(pq_reader_read(r, 0, 0, &c, err, sizeof err) == 0, "%s", err);
        double *d = c.values;
        CHECK_MSG(d[0] > 0 && d[1] < 0 && d[0] == -d[1], "(%d,%d) %g %g", p, s, d[0], d[1]);
        pq_col_free(&c);
        pq_reader_destroy(r);
    }
}

/* Put text into a DECIMAL(p,s) column; 0, or -1 with the writer's message. */
static int try_put(int p, int s, const char *text, char *msg, size_t n, char *got, size_t gn)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/try.parquet", t_tmpdir());
    pq_column_spec spec = {.name = "amount", .type = PQ_DECIMAL, .precision = p, .scale = s};
    pq_writer *w = pq_writer_create(path, &spec, 1, NULL, err, sizeof err);
    if (!w) {
        snprintf(msg, n, "create: %.400s", err);
        return -2;
    }
    int rc = pq_writer_put_decimal(w, 0, text, strlen(text));
    if (rc) {
        snprintf(msg, n, "%s", pq_writer_error(w));
        /* the row stays open: a good value still goes in */
        if (pq_writer_put_decimal(w, 0, "0", 1) || pq_writer_end_row(w)) rc = -3;
        pq_writer_destroy(w);
        return rc;
    }
    if (pq_writer_end_row(w) || pq_writer_close(w, err, sizeof err)) {
        pq_writer_destroy(w);
        return -2;
    }
    pq_writer_destroy(w);
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    if (!r || read_text(r, 0, got, gn, err, sizeof err)) rc = -2;
    pq_reader_destroy(r);
    return rc;
}

TEST(decimal_text_accepted)
{
    static const struct {
        int p, s;
        const char *in, *out;
    } ok[] = {{5, 2, "-123.45", "-123.45"}, {5, 2, "0.5", "0.50"},       {5, 2, "12", "12.00"},
              {5, 1, "+1.20", "1.2"},       {10, 2, "1.5e3", "1500.00"}, {5, 2, "-.5", "-0.50"},
              {5, 2, "12.", "12.00"},       {5, 2, "1E-2", "0.01"},      {5, 2, "0.10e1", "1.00"},
              {5, 2, "000123.4500", "123.45"}, {5, 0, "-0", "0"},        {38, 0, "1e37",
              "10000000000000000000000000000000000000"},
              {3, 3, "0.999", "0.999"},     {4, 2, "-99.99e0", "-99.99"}, {5, 2, "0e99999", "0.00"}};
    char msg[512], got[128];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = try_put(ok[i].p, ok[i].s, ok[i].in, msg, sizeof msg, got, sizeof got);
        CHECK_MSG(rc == 0, "'%s' (%d,%d): rc %d %s", ok[i].in, ok[i].p, ok[i].s, rc, msg);
        CHECK_MSG(!strcmp(got, ok[i].out), "'%s' (%d,%d): got %s want %s", ok[i].in, ok[i].p,
                  ok[i].s, got, ok[i].out);
    }
}

TEST(decimal_text_refused)
{
    static const struct {
        int p, s;
        const char *in, *why;
    } bad[] = {{5, 2, "1.234", "more fraction digits than the scale 2"},
               {5, 0, "0.5", "more fraction digits than the scale 0"},
               {5, 2, "1234", "more than 3 integer digits (DECIMAL(5,2))"},
               {5, 2, "1000", "more than 3 integer digits"},
               {38, 0, "1e38", "more than 38 integer digits"},
               {38, 0, "100000000000000000000000000000000000000", "more than 38 integer digits"},
               {38, 0, "1234567890123456789012345678901234567890", "more than 38 significant"},
               {9, 0, "NaN", "NaN and Infinity"},
               {9, 0, "Infinity", "NaN and Infinity"},
               {9, 0, "-Infinity", "NaN and Infinity"},
               {9, 0, " 1", "unexpected ' '"},
               {9, 0, "1 ", "unexpected ' '"},
               {9, 0, "", "no digits"},
               {9, 0, "-", "no digits"},
               {9, 0, ".", "no digits"},
               {9, 0, "1e", "exponent without digits"},
               {9, 0, "1e+", "exponent without digits"},
               {9, 0, "1.2.3", "unexpected '.'"},
               {9, 0, "12a", "unexpected 'a'"},
               {9, 0, "0x10", "unexpected 'x'"},
               {9, 0, "1e9999999", "exponent out of range"},
               {9, 2, "1e-3", "more fraction digits"}};
    char msg[512], got[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = try_put(bad[i].p, bad[i].s, bad[i].in, msg, sizeof msg, got, sizeof got);
        CHECK_MSG(rc == -1, "'%s' (%d,%d) was accepted (rc %d, %s)", bad[i].in, bad[i].p,
                  bad[i].s, rc, rc == 0 ? got : msg);
        CHECK_MSG(strstr(msg, bad[i].why) && strstr(msg, "'amount'"),
                  "'%s': message \"%s\" lacks \"%s\"", bad[i].in, msg, bad[i].why);
    }
    /* text over the cap */
    char *big = malloc(2000);
    memset(big, '0', 1999);
    big[1999] = 0;
    CHECK(try_put(9, 0, big, msg, sizeof msg, got, sizeof got) == -1);
    free(big);
    CHECK_MSG(strstr(msg, "over 1024 bytes"), "%s", msg);
}

TEST(decimal_spec_and_put_errors)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/spec.parquet", t_tmpdir());
    static const int ps[][2] = {{0, 0}, {39, 0}, {5, 6}, {5, -1}, {-3, 0}};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        pq_column_spec spec[] = {{.name = "ok", .type = PQ_INT64},
                                 {.name = "price", .type = PQ_DECIMAL, .precision = ps[i][0],
                                  .scale = ps[i][1]}};
        err[0] = 0;
        pq_writer *w = pq_writer_create(path, spec, 2, NULL, err, sizeof err);
        CHECK_MSG(!w, "DECIMAL(%d,%d) accepted", ps[i][0], ps[i][1]);
        CHECK_MSG(strstr(err, "'price'") && strstr(err, "out of range"), "%s", err);
    }
    pq_column_spec spec[] = {{.name = "i", .type = PQ_INT64},
                             {.name = "d", .type = PQ_DECIMAL, .precision = 5, .scale = 2},
                             {.name = "d9", .type = PQ_DECIMAL, .precision = 9, .scale = 0},
                             {.name = "big", .type = PQ_DECIMAL, .precision = 38, .scale = 0}};
    pq_writer *w = pq_writer_create(path, spec, 4, NULL, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    CHECK(pq_writer_put_decimal(w, 0, "1", 1) == -1); /* INT64 column */
    CHECK_MSG(strstr(pq_writer_error(w), "cannot take a decimal"), "%s", pq_writer_error(w));
    CHECK(pq_writer_put_decimal_unscaled(w, 0, 1) == -1);
    CHECK(pq_writer_put_i64(w, 1, 5) == -1); /* DECIMAL(5,2) is INT32 physically */
    CHECK(pq_writer_put_i32(w, 1, 5) == -1);
    CHECK(pq_writer_put_i32(w, 2, 5) == -1);
    CHECK(pq_writer_put_decimal_unscaled(w, 1, 100000) == -1);
    CHECK_MSG(strstr(pq_writer_error(w), "more than 5 digits"), "%s", pq_writer_error(w));
    CHECK(pq_writer_put_decimal_unscaled(w, 1, -100000) == -1);
    CHECK(pq_writer_put_decimal_unscaled(w, 1, -99999) == 0);
    CHECK(pq_writer_put_decimal_unscaled(w, 2, 999999999) == 0);
    CHECK(pq_writer_put_decimal_unscaled(w, 3, INT64_MIN) == 0);
    CHECK(pq_writer_put_i64(w, 0, 1) == 0);
    CHECK(pq_writer_end_row(w) == 0);
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    pq_col c;
    CHECK(pq_reader_read_decimal(r, 0, 0, &c, err, sizeof err) == -1); /* not DECIMAL */
    CHECK_MSG(strstr(err, "not a DECIMAL"), "%s", err);
    char got[64];
    int cols[] = {1, 3};
    const char *want[] = {"-999.99", "-9223372036854775808"};
    for (int k = 0; k < 2; k++) {
        CHECK_MSG(pq_reader_read_decimal(r, 0, cols[k], &c, err, sizeof err) == 0, "%s", err);
        const pq_dec128 *v = c.values;
        pq_decimal_format(v[0].hi, v[0].lo, k ? 0 : 2, got, sizeof got);
        pq_col_free(&c);
        CHECK_EQ_STR(got, want[k]);
    }
    pq_reader_destroy(r);
}

/* Statistics order is signed: a byte-wise (unsigned) compare of big-endian
 * two's complement would make -100 the max. */
TEST(decimal_stats_signed)
{
    const char *in[] = {"-5", "3", NULL, "-100", "7", "-0.5"};
    int ps[] = {5, 15, 30};
    for (int k = 0; k < 3; k++) {
        char path[512], err[512];
        snprintf(path, sizeof path, "%s/stats%d.parquet", t_tmpdir(), k);
        CHECK_MSG(write_decimals(path, ps[k], 1, in, 6, err, sizeof err) == 0, "%s", err);
        pq_reader *r = pq_reader_open(path, err, sizeof err);
        CHECK_MSG(r, "%s", err);
        pq_chunk_info ch;
        CHECK(pq_reader_chunk(r, 0, 0, &ch) == 0);
        CHECK_MSG(ch.stats.has_min_max, "p=%d: no min/max", ps[k]);
        CHECK_MSG(ch.stats.min.u.d == -100 && ch.stats.max.u.d == 7, "p=%d: min %g max %g",
                  ps[k], ch.stats.min.u.d, ch.stats.max.u.d);
        CHECK_EQ_INT(ch.stats.null_count, 1);
        pq_value v = {.kind = PQ_K_F64, .u.d = 8};
        CHECK(!pq_reader_may_match(r, 0, 0, ">", &v));
        v.u.d = -101;
        CHECK(!pq_reader_may_match(r, 0, 0, "<", &v));
        pq_reader_destroy(r);
    }
    /* the writer's own view (pq_writer_column_stats) agrees */
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/wstats.parquet", t_tmpdir());
    pq_column_spec spec = {.name = "d", .type = PQ_DECIMAL, .optional = 1, .precision = 38, .scale = 2};
    pq_writer *w = pq_writer_create(path, &spec, 1, NULL, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    for (int i = 0; i < 6; i++) {
        CHECK(in[i] ? pq_writer_put_decimal(w, 0, in[i], strlen(in[i])) == 0 : pq_writer_put_null(w, 0) == 0);
        CHECK(pq_writer_end_row(w) == 0);
    }
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_stats st;
    CHECK(pq_writer_column_stats(w, 0, &st) == 0 && st.has_min_max);
    CHECK_MSG(st.min.u.d == -100 && st.max.u.d == 7, "min %g max %g", st.min.u.d, st.max.u.d);
    pq_writer_destroy(w);
}

/* INT32/INT64 decimals are dictionary-encoded like integers; many rows and
 * several row groups read back exactly. */
TEST(decimal_many_rows_dictionary)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/many.parquet", t_tmpdir());
    pq_column_spec spec[] = {{.name = "a", .type = PQ_DECIMAL, .precision = 12, .scale = 3},
                             {.name = "b", .type = PQ_DECIMAL, .optional = 1, .precision = 25, .scale = 5}};
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.row_group_rows = 7000;
    pq_writer *w = pq_writer_create(path, spec, 2, &o, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        char t[64];
        int n = snprintf(t, sizeof t, "%d.%03d", i % 17 - 8, i % 7);
        CHECK(pq_writer_put_decimal(w, 0, t, (size_t)n) == 0);
        n = snprintf(t, sizeof t, "-%d123456789012.%05d", i, i);
        CHECK(i % 5 == 0 ? pq_writer_put_null(w, 1) == 0 : pq_writer_put_decimal(w, 1, t, (size_t)n) == 0);
        CHECK(pq_writer_end_row(w) == 0);
    }
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_EQ_INT(pq_reader_num_row_groups(r), 3);
    pq_chunk_info ch;
    CHECK(pq_reader_chunk(r, 0, 0, &ch) == 0);
    CHECK_MSG(ch.dict_offset >= 0, "INT64 decimal of 17*7 values has no dictionary");
    int64_t row = 0;
    for (int g = 0; g < 3; g++) {
        pq_col a, b;
        CHECK_MSG(pq_reader_read_decimal(r, g, 0, &a, err, sizeof err) == 0, "%s", err);
        CHECK_MSG(pq_reader_read_decimal(r, g, 1, &b, err, sizeof err) == 0, "%s", err);
        for (int64_t i = 0; i < a.n; i++, row++) {
            char got[64], want[64];
            const pq_dec128 *va = a.values, *vb = b.values;
            pq_decimal_format(va[i].hi, va[i].lo, 3, got, sizeof got);
            int x = (int)(row % 17) - 8;
            snprintf(want, sizeof want, "%s%d.%03d", x < 0 ? "-" : "", abs(x), (int)(row % 7));
            if (x == 0 && row % 7 == 0) snprintf(want, sizeof want, "0.000");
            CHECK_MSG(!strcmp(got, want), "row %lld: %s vs %s", (long long)row, got, want);
            CHECK_EQ_INT(b.nulls && b.nulls[i], row % 5 == 0);
            if (row % 5) {
                pq_decimal_format(vb[i].hi, vb[i].lo, 5, got, sizeof got);
                snprintf(want, sizeof want, "-%lld123456789012.%05lld", (long long)row, (long long)row);
                CHECK_MSG(!strcmp(got, want), "row %lld: %s vs %s", (long long)row, got, want);
            }
        }
        pq_col_free(&a);
        pq_col_free(&b);
    }
    CHECK_EQ_INT(row, N);
    pq_reader_destroy(r);
}

TEST(decimal_format)
{
    char b[128];
    CHECK(pq_decimal_format(-1, UINT64_MAX, 2, b, sizeof b) == 5);
    CHECK_EQ_STR(b, "-0.01");
    CHECK(pq_decimal_format(0, 5, 3, b, sizeof b) == 5);
    CHECK_EQ_STR(b, "0.005");
    CHECK(pq_decimal_format(0, 0, 0, b, sizeof b) == 1);
    CHECK_EQ_STR(b, "0");
    pq_decimal_format(INT64_MIN, 0, 0, b, sizeof b); /* -2^127 */
    CHECK_EQ_STR(b, "-170141183460469231731687303715884105728");
    pq_decimal_format(INT64_MAX, UINT64_MAX, 38, b, sizeof b);
    CHECK_EQ_STR(b, "1.70141183460469231731687303715884105727");
    CHECK(pq_decimal_format(0, 12345, 2, b, 7) == 6); /* "123.45" + NUL fits 7 */
    CHECK(pq_decimal_format(0, 12345, 2, b, 6) == -1);
    CHECK_EQ_STR(b, "");
    CHECK(pq_decimal_format(0, 1, 77, b, sizeof b) == -1);
}

TEST(time_and_timestamp_ntz)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/time.parquet", t_tmpdir());
    pq_column_spec spec[] = {{.name = "t", .type = PQ_TIME, .optional = 1},
                             {.name = "ts", .type = PQ_TIMESTAMP_NTZ, .optional = 1},
                             {.name = "tz", .type = PQ_TIMESTAMP}};
    pq_writer *w = pq_writer_create(path, spec, 3, NULL, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    CHECK(pq_writer_put_i64(w, 0, -1) == -1);
    CHECK_MSG(strstr(pq_writer_error(w), "'t'") && strstr(pq_writer_error(w), "outside"), "%s",
              pq_writer_error(w));
    CHECK(pq_writer_put_i64(w, 0, 86400000001) == -1);
    CHECK(pq_writer_put_i32(w, 1, 0) == -1);
    int64_t tv[] = {0, 86400000000, 45296789012, -1};
    int64_t sv[] = {INT64_MIN + 1, INT64_MAX, -1, 1700000000123456};
    for (int i = 0; i < 4; i++) {
        CHECK(tv[i] < 0 ? pq_writer_put_null(w, 0) == 0 : pq_writer_put_i64(w, 0, tv[i]) == 0);
        CHECK(pq_writer_put_i64(w, 1, sv[i]) == 0);
        CHECK(pq_writer_put_i64(w, 2, sv[i]) == 0);
        CHECK(pq_writer_end_row(w) == 0);
    }
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    static const struct {
        pq_type t;
        const char *name, *logical;
    } want[] = {{PQ_TIME, "TIME", "TIME(MICROS,local)"},
                {PQ_TIMESTAMP_NTZ, "TIMESTAMP_NTZ", "TIMESTAMP(MICROS,local)"},
                {PQ_TIMESTAMP, "TIMESTAMP", "TIMESTAMP(MICROS,UTC)"}};
    for (int c = 0; c < 3; c++) {
        pq_column_info ci;
        pq_reader_column(r, c, &ci);
        CHECK_EQ_INT(ci.type, want[c].t);
        CHECK_EQ_INT(ci.kind, PQ_K_I64);
        CHECK_EQ_STR(pq_type_name(ci.type), want[c].name);
        CHECK_EQ_STR(ci.logical, want[c].logical);
        pq_col col;
        CHECK_MSG(pq_reader_read(r, 0, c, &col, err, sizeof err) == 0, "%s", err);
        const int64_t *v = col.values;
        for (int i = 0; i < 4; i++) {
            if (c == 0 && tv[i] < 0) {
                CHECK(col.nulls && col.nulls[i]);
                continue;
            }
            CHECK_EQ_INT(v[i], c == 0 ? tv[i] : sv[i]);
        }
        pq_col_free(&col);
    }
    pq_chunk_info ch;
    CHECK(pq_reader_chunk(r, 0, 0, &ch) == 0 && ch.stats.has_min_max);
    CHECK_EQ_INT(ch.stats.min.u.i, 0);
    CHECK_EQ_INT(ch.stats.max.u.i, 86400000000);
    pq_reader_destroy(r);
}

TEST(bytes_column_roundtrip)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/bytes.parquet", t_tmpdir());
    pq_column_spec spec[] = {{.name = "b", .type = PQ_BYTES, .optional = 1},
                             {.name = "r", .type = PQ_BYTES}};
    pq_writer *w = pq_writer_create(path, spec, 2, NULL, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    static const struct {
        const char *p;
        size_t n;
    } v[] = {{"\x00\xff\x80", 3}, {"", 0}, {NULL, 0}, {"abc\x00z", 5}, {"\xfe", 1}};
    for (int rep = 0; rep < 3000; rep++)
        for (int i = 0; i < 5; i++) {
            CHECK(v[i].p ? pq_writer_put_bytes(w, 0, v[i].p, v[i].n) == 0 : pq_writer_put_null(w, 0) == 0);
            char t[16];
            int n = snprintf(t, sizeof t, "%d", rep * 5 + i);
            t[0] = (char)(0x80 | rep); /* not UTF-8 */
            CHECK(pq_writer_put_bytes(w, 1, t, (size_t)n) == 0);
            CHECK(pq_writer_end_row(w) == 0);
        }
    CHECK(pq_writer_put_i64(w, 0, 1) == -1);
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    pq_column_info ci;
    pq_reader_column(r, 0, &ci);
    CHECK_EQ_INT(ci.type, PQ_BYTES);
    CHECK_EQ_INT(ci.physical, 6);
    CHECK_EQ_STR(ci.logical, "");
    CHECK_EQ_STR(pq_type_name(ci.type), "BINARY");
    pq_col a, b;
    CHECK_MSG(pq_reader_read(r, 0, 0, &a, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(pq_reader_read(r, 0, 1, &b, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(a.n, 15000);
    for (int64_t k = 0; k < a.n; k++) {
        int i = (int)(k % 5);
        CHECK_EQ_INT(a.nulls && a.nulls[k], v[i].p == NULL);
        if (v[i].p) {
            CHECK_EQ_INT(a.off[k + 1] - a.off[k], v[i].n);
            CHECK(!v[i].n || !memcmp(a.data + a.off[k], v[i].p, v[i].n));
        }
        char t[16];
        int n = snprintf(t, sizeof t, "%lld", (long long)k);
        t[0] = (char)(0x80 | (int)(k / 5));
        CHECK_EQ_INT(b.off[k + 1] - b.off[k], n);
        CHECK(!memcmp(b.data + b.off[k], t, (size_t)n));
    }
    pq_col_free(&a);
    pq_col_free(&b);
    pq_reader_destroy(r);
}
