/* Journal: append/read, segments, torn-tail recovery, concurrency, retention,
 * cursors, CRC-32C. */
#include "t.h"
#include "journal/journal.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *jdir(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", t_tmpdir(), name);
    return p;
}

TEST(journal_crc32c_vector)
{
    CHECK_EQ_INT(jr_crc32c(0, "123456789", 9), 0xE3069283u);
    /* incremental == one shot */
    CHECK_EQ_INT(jr_crc32c(jr_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

/* Read everything from offset 0; check payloads are "r<offset>". */
static int read_all_check(jr_stream *s, uint64_t expect_n)
{
    jr_reader *r = jr_reader_create(s);
    jr_record recs[100];
    char err[256];
    uint64_t next = 0;
    for (;;) {
        int n = jr_read(r, next, recs, 100, 1 << 20, err, sizeof err);
        if (n < 0) {
            printf("  read: %s\n", err);
            jr_reader_destroy(r);
            return -1;
        }
        if (n == 0) break;
        for (int i = 0; i < n; i++) {
            char want[32];
            int wl = snprintf(want, sizeof want, "r%llu", (unsigned long long)recs[i].offset);
            if (recs[i].offset != next || recs[i].n != (uint32_t)wl ||
                memcmp(recs[i].p, want, (size_t)wl)) {
                printf("  record %llu: bad (expected offset %llu)\n",
                       (unsigned long long)recs[i].offset, (unsigned long long)next);
                jr_reader_destroy(r);
                return -1;
            }
            next++;
        }
    }
    jr_reader_destroy(r);
    return next == expect_n ? 0 : (printf("  read %llu records, want %llu\n",
                                          (unsigned long long)next, (unsigned long long)expect_n), -1);
}

static int append_n(jr_stream *s, uint64_t from, int n)
{
    char err[256];
    for (int i = 0; i < n; i++) {
        char b[32];
        int l = snprintf(b, sizeof b, "r%llu", (unsigned long long)(from + (uint64_t)i));
        jr_iov v = {b, (size_t)l};
        uint64_t first;
        if (jr_append(s, &v, 1, 1000, &first, err, sizeof err) || first != from + (uint64_t)i) {
            printf("  append: %s\n", err);
            return -1;
        }
    }
    return 0;
}

TEST(journal_append_read_segments_reopen)
{
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 4096; /* many segments */
    o.fsync = JR_FSYNC_NEVER;
    char err[256];
    jr_stream *s = jr_stream_open(jdir("j1"), "events", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(append_n(s, 0, 2000) == 0);
    jr_info info;
    jr_stream_info(s, &info);
    CHECK_EQ_INT(info.next_offset, 2000);
    CHECK(info.segments > 5);
    CHECK(read_all_check(s, 2000) == 0);
    /* read from the middle */
    jr_reader *r = jr_reader_create(s);
    jr_record rec[4];
    CHECK_EQ_INT(jr_read(r, 1234, rec, 4, 1 << 20, err, sizeof err), 4);
    CHECK_EQ_INT(rec[0].offset, 1234);
    CHECK_EQ_INT(rec[3].offset, 1237);
    CHECK_EQ_INT(jr_read(r, 2000, rec, 4, 1 << 20, err, sizeof err), 0);
    jr_reader_destroy(r);
    jr_stream_close(s);
    s = jr_stream_open(jdir("j1"), "events", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(jr_stream_recovered_bytes(s), 0);
    CHECK(append_n(s, 2000, 10) == 0);
    CHECK(read_all_check(s, 2010) == 0);
    jr_stream_close(s);
}

static const char *last_segment(const char *dir)
{
    static char path[1024];
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "ls %s/*.log | tail -n 1", dir);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(path, sizeof path, p)) path[0] = 0;
    if (p) pclose(p);
    path[strcspn(path, "\n")] = 0;
    return path;
}

TEST(journal_torn_tail_is_truncated)
{
    char err[256], sdir[600];
    jr_stream *s = jr_stream_open(jdir("j2"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(append_n(s, 0, 100) == 0);
    jr_stream_close(s);
    snprintf(sdir, sizeof sdir, "%s/t", jdir("j2"));
    const char *seg = last_segment(sdir);
    struct stat st;
    CHECK(stat(seg, &st) == 0);
    /* a torn write: half a record header and some payload at the end */
    int fd = open(seg, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "\x20\x00\x00\x00\x11\x22\x33", 7) == 7);
    close(fd);
    s = jr_stream_open(jdir("j2"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(jr_stream_recovered_bytes(s), 7);
    CHECK(read_all_check(s, 100) == 0);
    CHECK(append_n(s, 100, 5) == 0);
    jr_stream_close(s);
    /* corrupt a payload byte of record 90: records 90.. are dropped */
    CHECK(stat(seg, &st) == 0);
    fd = open(seg, O_RDWR);
    /* each record is 24 + len("rNN") bytes; find record 90's position */
    off_t pos = 16;
    for (int i = 0; i < 90; i++) pos += 24 + (i < 10 ? 2 : 3);
    CHECK(pwrite(fd, "X", 1, pos + 25) == 1);
    close(fd);
    s = jr_stream_open(jdir("j2"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(jr_stream_recovered_bytes(s) > 0);
    CHECK(read_all_check(s, 90) == 0);
    CHECK(append_n(s, 90, 3) == 0); /* offsets continue from the last good one */
    CHECK(read_all_check(s, 93) == 0);
    jr_stream_close(s);
}

typedef struct {
    jr_stream *s;
    int id, n, ok;
    uint64_t *offs;
} thr_arg;

static void *appender(void *p)
{
    thr_arg *a = p;
    char err[256];
    a->ok = 1;
    for (int i = 0; i < a->n; i++) {
        char b[3][32];
        jr_iov v[3];
        for (int k = 0; k < 3; k++) {
            int l = snprintf(b[k], sizeof b[k], "t%d-%d-%d", a->id, i, k);
            v[k].p = b[k];
            v[k].n = (size_t)l;
        }
        if (jr_append(a->s, v, 3, 0, &a->offs[i], err, sizeof err)) {
            a->ok = 0;
            return NULL;
        }
    }
    return NULL;
}

TEST(journal_concurrent_group_commit)
{
    char err[256];
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 64 << 10;
    jr_stream *s = jr_stream_open(jdir("j3"), "c", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    enum { T = 8, N = 300 };
    pthread_t th[T];
    thr_arg a[T];
    for (int t = 0; t < T; t++) {
        a[t] = (thr_arg){s, t, N, 0, calloc(N, sizeof(uint64_t))};
        pthread_create(&th[t], NULL, appender, &a[t]);
    }
    for (int t = 0; t < T; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < T; t++) CHECK(a[t].ok);
    jr_info info;
    jr_stream_info(s, &info);
    CHECK_EQ_INT(info.next_offset, T * N * 3);
    CHECK(info.syncs < (uint64_t)(T * N)); /* batching happened */
    /* every record is where its append said, with its own payload */
    jr_reader *r = jr_reader_create(s);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < N; i += 37) {
            jr_record rec[3];
            CHECK_EQ_INT(jr_read(r, a[t].offs[i], rec, 3, 1 << 20, err, sizeof err), 3);
            for (int k = 0; k < 3; k++) {
                char want[32];
                int l = snprintf(want, sizeof want, "t%d-%d-%d", t, i, k);
                CHECK(rec[k].n == (uint32_t)l && !memcmp(rec[k].p, want, (size_t)l));
            }
            if (i) CHECK(a[t].offs[i] > a[t].offs[i - 1]); /* in order per thread */
        }
    jr_reader_destroy(r);
    for (int t = 0; t < T; t++) free(a[t].offs);
    jr_stream_close(s);
}

TEST(journal_retention_and_limits)
{
    char err[256];
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 2048;
    o.retention_bytes = 8192;
    o.max_record_bytes = 100;
    o.fsync = JR_FSYNC_NEVER;
    jr_stream *s = jr_stream_open(jdir("j4"), "r", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(append_n(s, 0, 3000) == 0);
    jr_info info;
    jr_stream_info(s, &info);
    CHECK(info.bytes <= 8192 + 2048 + 64);
    CHECK(info.first_offset > 0);
    /* reading from 0 skips to the oldest retained record */
    jr_reader *r = jr_reader_create(s);
    jr_record rec[1];
    CHECK_EQ_INT(jr_read(r, 0, rec, 1, 1 << 20, err, sizeof err), 1);
    CHECK_EQ_INT(rec[0].offset, info.first_offset);
    jr_reader_destroy(r);
    char big[200] = {0};
    jr_iov v = {big, sizeof big};
    uint64_t first;
    CHECK(jr_append(s, &v, 1, 0, &first, err, sizeof err) == -1);
    CHECK(strstr(err, "cap"));
    CHECK(!jr_stream_open(jdir("j4"), "../evil", &o, err, sizeof err));
    jr_stream_close(s);
}

TEST(journal_cursor_commit)
{
    char err[256];
    jr_stream *s = jr_stream_open(jdir("j5"), "cur", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    uint64_t off = 99;
    CHECK(jr_cursor_get(s, "sink", &off, err, sizeof err) == 0);
    CHECK_EQ_INT(off, 0);
    CHECK(jr_cursor_commit(s, "sink", 12345, err, sizeof err) == 0);
    CHECK(jr_cursor_get(s, "sink", &off, err, sizeof err) == 0);
    CHECK_EQ_INT(off, 12345);
    CHECK(jr_cursor_commit(s, "../x", 1, err, sizeof err) == -1);
    jr_stream_close(s);
}

TEST(journal_read_only_open_never_truncates)
{
    char err[256], sdir[600];
    jr_stream *s = jr_stream_open(jdir("j6"), "ro", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(append_n(s, 0, 50) == 0);
    jr_stream_close(s);
    snprintf(sdir, sizeof sdir, "%s/ro", jdir("j6"));
    const char *seg = last_segment(sdir);
    struct stat st0, st1;
    /* a record a writer is in the middle of */
    int fd = open(seg, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "\x20\x00\x00\x00\x11\x22", 6) == 6);
    close(fd);
    CHECK(stat(seg, &st0) == 0);
    jr_opts o;
    jr_opts_init(&o);
    o.read_only = 1;
    jr_stream *r = jr_stream_open(jdir("j6"), "ro", &o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK(read_all_check(r, 50) == 0);            /* the valid prefix reads */
    jr_iov v = {"x", 1};
    uint64_t first;
    CHECK(jr_append(r, &v, 1, 0, &first, err, sizeof err) == -1);
    jr_stream_close(r);
    CHECK(stat(seg, &st1) == 0);
    CHECK_EQ_INT(st1.st_size, st0.st_size);       /* nothing truncated */
    CHECK(!jr_stream_open(jdir("j6"), "nosuch", &o, err, sizeof err)); /* nothing created */
    char nd[700];
    snprintf(nd, sizeof nd, "%s/nosuch", jdir("j6"));
    CHECK(access(nd, F_OK) != 0);
}
