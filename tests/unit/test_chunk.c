/* convert's chunk splitter (src/convert/chunk.c): records never straddle
 * chunks, line numbers and CRLF survive, CSV newlines inside quotes stay in
 * their record, and pq_writer_append gives the bytes one writer would. */
#include "t.h"
#include "convert/pipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[512];

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/sluice-chunk-%d.txt", (int)getpid());
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    return path;
}

/* Split text into chunks of at most max records; describe every record as
 * "chunk:line:text|" (CSV: fields joined by '/'). */
static const char *split(const char *text, cv_format fmt, int max, size_t max_bytes)
{
    static char out[4096];
    size_t o = 0;
    cv__src src;
    cv__chunk c;
    memset(&c, 0, sizeof c);
    const char *path = write_tmp(text);
    if (cv__src_open(&src, path, fmt, 0, 1 << 20, err, sizeof err)) return err;
    int64_t recno = 1;
    out[0] = 0;
    for (int k = 0, rc = 0; rc == 0; k++) {
        rc = cv__chunk_fill(&c, &src, recno, max, max_bytes, err, sizeof err);
        if (rc < 0) break;
        if (c.first != recno) return "bad first record number";
        recno += c.n;
        for (int i = 0; i < c.n; i++) {
            const cv__rec *r = &c.r[i];
            o += (size_t)snprintf(out + o, sizeof out - o, "%d:%lld:", k, (long long)r->line);
            if (fmt == CV_NDJSON || r->bad) {
                o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s|", r->bad ? "BAD " : "",
                                      (int)r->len, (const char *)c.bytes.p + r->off);
                continue;
            }
            for (int j = 0; j < src.nhead; j++) {
                const cv__fld *f = &c.f[r->field + (size_t)j];
                o += (size_t)snprintf(out + o, sizeof out - o, "%s%s%.*s", j ? "/" : "",
                                      f->quoted ? "q" : "", (int)f->len,
                                      (const char *)c.bytes.p + f->off);
            }
            o += (size_t)snprintf(out + o, sizeof out - o, "|");
        }
    }
    cv__chunk_free(&c);
    cv__src_close(&src);
    unlink(path);
    return out;
}

TEST(chunk_ndjson_lines)
{
    /* blank lines are skipped but counted; CRLF loses its \r; no final newline */
    CHECK_EQ_STR(split("{\"a\":1}\n\n{\"a\":2}\r\n{\"a\":3}\n{\"a\":4}", CV_NDJSON, 2, 1 << 20),
                 "0:1:{\"a\":1}|0:3:{\"a\":2}|1:4:{\"a\":3}|1:5:{\"a\":4}|");
    /* the byte cap ends a chunk after the record that reaches it */
    CHECK_EQ_STR(split("{\"a\":1}\n{\"a\":22}\n{\"a\":3}\n", CV_NDJSON, 100, 8),
                 "0:1:{\"a\":1}|0:2:{\"a\":22}|1:3:{\"a\":3}|");
    /* an empty input: no records, no chunk */
    CHECK_EQ_STR(split("", CV_NDJSON, 2, 1 << 20), "");
}

TEST(chunk_csv_quotes)
{
    /* a quoted newline (and a quoted CRLF) stays inside its record across a
     * chunk boundary; a record's line is its first line */
    CHECK_EQ_STR(split("a,b\r\n1,\"x\ny\"\r\n2,\"p\r\nq\"\r\n3,\r\n", CV_CSV, 1, 1 << 20),
                 "0:2:1/qx\ny|1:4:2/qp\r\nq|2:6:3/|");
}

TEST(chunk_csv_bad_record)
{
    /* a record with the wrong field count is kept in order as a rejected one */
    const char *s = split("a,b\n1,2\n3\n4,5\n", CV_CSV, 2, 1 << 20);
    CHECK_MSG(!strncmp(s, "0:2:1/2|0:3:BAD ", 16), "got %s", s);
    CHECK_MSG(strstr(s, "|1:4:4/5|") != NULL, "got %s", s);
}

/* Rows 0..n) of one int64 column into w. */
static void put_rows(pq_writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        CHECK_EQ_INT(pq_writer_put_i64(w, 0, i % 13), 0);
        CHECK_EQ_INT(pq_writer_end_row(w), 0);
    }
}

static long file_bytes(const char *path, char **buf)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc((size_t)n);
    size_t got = fread(*buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) return -1;
    return n;
}

TEST(writer_append_same_bytes)
{
    pq_column_spec spec[1] = {{.name = "v", .type = PQ_INT64, .optional = 1}};
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.row_group_rows = 1000;
    char a[64], b[64];
    snprintf(a, sizeof a, "/tmp/sluice-app-a-%d.parquet", (int)getpid());
    snprintf(b, sizeof b, "/tmp/sluice-app-b-%d.parquet", (int)getpid());
    pq_writer *one = pq_writer_create(a, spec, 1, &o, err, sizeof err);
    put_rows(one, 0, 2500);
    CHECK_EQ_INT(pq_writer_close(one, err, sizeof err), 0);
    pq_writer_destroy(one);
    /* the same rows in row groups of 1000, 1000, 500 from two memory writers */
    pq_writer *out = pq_writer_create(b, spec, 1, &o, err, sizeof err);
    pq_writer *m1 = pq_writer_create_mem("m1", spec, 1, &o, err, sizeof err);
    pq_writer *m2 = pq_writer_create_mem("m2", spec, 1, &o, err, sizeof err);
    put_rows(m1, 0, 1000);
    put_rows(m2, 1000, 2000);
    CHECK_EQ_INT(pq_writer_append(out, m1, err, sizeof err), 0);
    CHECK_EQ_INT(pq_writer_append(out, m2, err, sizeof err), 0);
    put_rows(m1, 2000, 2500); /* reused after append */
    CHECK_EQ_INT(pq_writer_append(out, m1, err, sizeof err), 0);
    CHECK_EQ_INT(pq_writer_rows(out), 2500);
    CHECK_EQ_INT(pq_writer_close(out, err, sizeof err), 0);
    pq_writer_destroy(out);
    pq_writer_destroy(m1);
    pq_writer_destroy(m2);
    char *x, *y;
    long nx = file_bytes(a, &x), ny = file_bytes(b, &y);
    CHECK_EQ_INT(nx, ny);
    CHECK(nx == ny && !memcmp(x, y, (size_t)nx));
    free(x);
    free(y);
    unlink(a);
    unlink(b);
}

/* pq_writer_create_stream's sink: into a buffer, failing after `fail_at` bytes. */
typedef struct sink_buf {
    ut_buf b;
    size_t fail_at;
} sink_buf;

static int sink_write(void *ctx, const void *p, size_t n)
{
    sink_buf *s = ctx;
    if (s->fail_at && s->b.len + n > s->fail_at) {
        errno = EPIPE;
        return -1;
    }
    ut_buf_put(&s->b, p, n);
    return 0;
}

TEST(writer_stream_same_bytes_as_file)
{
    pq_column_spec spec[1] = {{.name = "v", .type = PQ_INT64, .optional = 1}};
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.row_group_rows = 1000;
    char a[64];
    snprintf(a, sizeof a, "/tmp/sluice-stream-%d.parquet", (int)getpid());
    pq_writer *f = pq_writer_create(a, spec, 1, &o, err, sizeof err);
    put_rows(f, 0, 2500);
    CHECK_EQ_INT(pq_writer_close(f, err, sizeof err), 0);
    pq_writer_destroy(f);
    sink_buf s = {0};
    pq_writer *w = pq_writer_create_stream("stream", sink_write, &s, spec, 1, &o, err, sizeof err);
    put_rows(w, 0, 1500);
    CHECK(s.b.len > 4); /* the first row group went out before close */
    put_rows(w, 1500, 2500);
    CHECK_EQ_INT(pq_writer_close(w, err, sizeof err), 0);
    pq_writer_destroy(w);
    char *x;
    long nx = file_bytes(a, &x);
    CHECK_EQ_INT(nx, (long)s.b.len);
    CHECK(nx == (long)s.b.len && !memcmp(x, s.b.p, (size_t)nx));
    free(x);
    unlink(a);
    /* a sink that fails: the writer says so, naming the stream */
    sink_buf bad = {.fail_at = 100};
    w = pq_writer_create_stream("result", sink_write, &bad, spec, 1, &o, err, sizeof err);
    int rc = 0;
    for (int i = 0; i < 3000 && !rc; i++) {
        rc = pq_writer_put_i64(w, 0, i * 7919) || pq_writer_end_row(w);
    }
    if (!rc) rc = pq_writer_close(w, err, sizeof err) ? 1 : 0;
    CHECK(rc);
    CHECK(strstr(pq_writer_error(w), "result: write") || strstr(err, "result: write"));
    pq_writer_destroy(w);
    ut_buf_free(&s.b);
    ut_buf_free(&bad.b);
}
