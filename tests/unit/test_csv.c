#include "t.h"
#include "csv/csv.h"
#include "io/io.h"

#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

static char err[256];

/* Parse text as CSV (delim), render records as "a|b|c" lines; bad records
 * as "BAD@line:msg". */
static char *render(const char *text, size_t len, char delim, int expect_header)
{
    static char out[4096];
    size_t o = 0;
    io_reader *in = io_open_mem(text, len, "t.csv", 0);
    csv_opts opt;
    csv_opts_init(&opt, delim);
    csv_reader *r = csv_create(in, &opt);
    int rc, first = 1;
    out[0] = 0;
    while ((rc = csv_next(r, err, sizeof err)) != CSV_EOF && rc != CSV_ERR) {
        if (rc == CSV_BAD) {
            o += (size_t)snprintf(out + o, sizeof out - o, "BAD@%lld:%s\n", (long long)csv_line(r), err);
            continue;
        }
        if (first && expect_header) csv_set_nfields(r, csv_nfields(r));
        first = 0;
        o += (size_t)snprintf(out + o, sizeof out - o, "%lld:", (long long)csv_line(r));
        for (int i = 0; i < csv_nfields(r); i++) {
            size_t n;
            int q;
            const char *f = csv_field(r, i, &n, &q);
            o += (size_t)snprintf(out + o, sizeof out - o, "%s%s%.*s", i ? "|" : "", q ? "q" : "",
                                  (int)n, f);
        }
        o += (size_t)snprintf(out + o, sizeof out - o, "\n");
    }
    if (rc == CSV_ERR) o += (size_t)snprintf(out + o, sizeof out - o, "ERR:%s\n", err);
    csv_destroy(r);
    io_close(in);
    return out;
}

#define R(s, d) render(s, sizeof(s) - 1, d, 1)

TEST(csv_basic_and_quotes)
{
    CHECK_EQ_STR(R("a,b,c\n1,2,3\n", ','), "1:a|b|c\n2:1|2|3\n");
    CHECK_EQ_STR(R("\xEF\xBB\xBF" "a,b\r\n\"x,y\",\"he said \"\"hi\"\"\"\r\n,\"\"\r\n", ','),
                 "1:a|b\n2:qx,y|qhe said \"hi\"\n3:|q\n");
    /* newline inside quotes; line numbers follow */
    CHECK_EQ_STR(R("a,b\n\"l1\nl2\",2\n3,4", ','), "1:a|b\n2:ql1\nl2|2\n4:3|4\n");
    /* blank lines skipped; trailing delimiter makes an empty field */
    CHECK_EQ_STR(R("a,b\n\n1,\n", ','), "1:a|b\n3:1|\n");
    CHECK_EQ_STR(R("a,b\n1,", ','), "1:a|b\n2:1|\n");
}

TEST(csv_bad_records)
{
    CHECK_EQ_STR(R("a,b\n1,2,3\n4,5\n", ','), "1:a|b\nBAD@2:expected 2 fields, got 3\n3:4|5\n");
    CHECK_EQ_STR(R("a,b\n\"x\"y,2\n4,5\n", ','),
                 "1:a|b\nBAD@2:unexpected character after closing quote of field 1\n3:4|5\n");
    CHECK_EQ_STR(R("a,b\n1,\"open\n", ','), "1:a|b\nBAD@2:unterminated quoted field\n");
}

TEST(csv_tsv)
{
    CHECK_EQ_STR(R("a\tb\n\"x\"\ty z\n", '\t'), "1:a|b\n2:\"x\"|y z\n");
}

TEST(csv_caps)
{
    io_reader *in = io_open_mem("a,b\n1234567890,2\n1,2\n", 21, "t.csv", 0);
    csv_opts opt;
    csv_opts_init(&opt, ',');
    opt.max_field = 5;
    opt.max_fields = 3;
    csv_reader *r = csv_create(in, &opt);
    CHECK(csv_next(r, err, sizeof err) == CSV_OK);
    CHECK(csv_next(r, err, sizeof err) == CSV_BAD);
    CHECK(strstr(err, "cap") != NULL);
    CHECK(csv_next(r, err, sizeof err) == CSV_OK);
    CHECK_EQ_INT(csv_line(r), 3);
    CHECK(csv_next(r, err, sizeof err) == CSV_EOF);
    csv_destroy(r);
    io_close(in);
}

TEST(io_gzip_zstd_multi)
{
    /* two gzip members back to back, then a zstd stream: each decodes */
    const char *a = "x,y\n1,2\n", *b = "3,4\n";
    unsigned char gz[256];
    size_t gl = 0;
    for (int m = 0; m < 2; m++) {
        const char *src = m ? b : a;
        z_stream z = {0};
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        z.next_in = (Bytef *)src;
        z.avail_in = (uInt)strlen(src);
        z.next_out = gz + gl;
        z.avail_out = (uInt)(sizeof gz - gl);
        deflate(&z, Z_FINISH);
        gl += z.total_out;
        deflateEnd(&z);
    }
    CHECK_EQ_STR(render((char *)gz, gl, ',', 1), "1:x|y\n2:1|2\n3:3|4\n");
    CHECK_EQ_STR(render((char *)gz, gl - 3, ',', 1), "1:x|y\n2:1|2\n3:3|4\nERR:t.csv: gzip data truncated at byte 49\n");
    char zs[256];
    size_t zl = ZSTD_compress(zs, sizeof zs, "p\n5\n", 4, 3);
    CHECK_EQ_STR(render(zs, zl, ',', 1), "1:p\n2:5\n");
    CHECK(strstr(render(zs, zl - 2, ',', 1), "zstd data truncated") != NULL);
    gz[20] ^= 0x55;
    CHECK(strstr(render((char *)gz, gl, ',', 1), "gzip data corrupt at byte") != NULL);
}

TEST(io_lines_and_rewind)
{
    char path[512];
    snprintf(path, sizeof path, "%s/lines.txt", t_tmpdir());
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 300000; i++) fprintf(f, "line %d\r\n", i);
    fputs("last", f);
    fclose(f);
    io_reader *r = io_open(path, IO_REWINDABLE, 0, err, sizeof err);
    CHECK(r != NULL);
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *l;
        size_t n;
        int64_t ln, count = 0;
        int rc;
        char want[32];
        while ((rc = io_line(r, 0, &l, &n, &ln, err, sizeof err)) == IO_LINE_OK) {
            if (count < 300000) snprintf(want, sizeof want, "line %lld", (long long)count);
            else snprintf(want, sizeof want, "last");
            CHECK_MSG(n == strlen(want) && !memcmp(l, want, n), "line %lld", (long long)ln);
            count++;
            CHECK_EQ_INT(ln, count);
        }
        CHECK_EQ_INT(rc, IO_LINE_EOF);
        CHECK_EQ_INT(count, 300001);
        CHECK(io_rewind(r, err, sizeof err) == 0);
    }
    io_close(r);
    /* over-long lines are skipped and reported */
    io_reader *m = io_open_mem("ab\nabcdefgh\ncd", 14, "m", 0);
    const uint8_t *l;
    size_t n;
    int64_t ln;
    CHECK(io_line(m, 4, &l, &n, &ln, err, sizeof err) == IO_LINE_OK && n == 2);
    CHECK(io_line(m, 4, &l, &n, &ln, err, sizeof err) == IO_LINE_TOO_LONG && ln == 2);
    CHECK(io_line(m, 4, &l, &n, &ln, err, sizeof err) == IO_LINE_OK && n == 2 && ln == 3);
    CHECK(io_line(m, 4, &l, &n, &ln, err, sizeof err) == IO_LINE_EOF);
    io_close(m);
}
