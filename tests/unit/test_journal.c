/* Journal: append/read, segments, torn-tail recovery, concurrency, retention,
 * cursors, CRC-32C. */
#include "t.h"
#include "tj.h"
#include "journal/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
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

/* Append n records "r<offset>" from offset `from` (shared with test_journal_synced.c
 * through tj.h).  0, or -1 after printing why. */
int tj_append_n(jr_stream *s, uint64_t from, int n)
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
    CHECK(tj_append_n(s, 0, 2000) == 0);
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
    CHECK(tj_append_n(s, 2000, 10) == 0);
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
    CHECK(tj_append_n(s, 0, 100) == 0);
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
    CHECK(tj_append_n(s, 100, 5) == 0);
    jr_stream_close(s);
}

/* Position of record i in a segment of append_n records from base 0. */
static off_t rec_pos(int i)
{
    off_t pos = 16;
    for (int k = 0; k < i; k++) pos += 24 + (k < 10 ? 2 : k < 100 ? 3 : 4);
    return pos;
}

/* Check that exactly the offsets [0, n) minus [gap_from, gap_to) read back. */
static int read_with_gap(jr_stream *s, uint64_t n, uint64_t gap_from, uint64_t gap_to)
{
    jr_reader *r = jr_reader_create(s);
    jr_record recs[64];
    char err[256];
    uint64_t next = 0, want = 0;
    int rc = 0;
    for (;;) {
        int k = jr_read(r, next, recs, 64, 1 << 20, err, sizeof err);
        if (k < 0) {
            printf("  read: %s\n", err);
            rc = -1;
            break;
        }
        if (k == 0) break;
        for (int i = 0; i < k; i++) {
            if (want == gap_from) want = gap_to;
            char b[32];
            int l = snprintf(b, sizeof b, "r%llu", (unsigned long long)want);
            if (recs[i].offset != want || recs[i].n != (uint32_t)l || memcmp(recs[i].p, b, l)) {
                printf("  got offset %llu, want %llu\n", (unsigned long long)recs[i].offset,
                       (unsigned long long)want);
                rc = -1;
                break;
            }
            want++;
            next = recs[i].offset + 1;
        }
        if (rc) break;
    }
    jr_reader_destroy(r);
    if (!rc && want != n) {
        printf("  read up to %llu, want %llu\n", (unsigned long long)want, (unsigned long long)n);
        rc = -1;
    }
    return rc;
}

/* Issue: one flipped byte in the middle of the active segment was taken for a
 * torn tail: everything after it was deleted and the offsets reused. */
TEST(journal_damage_in_active_segment_keeps_records_after_it)
{
    char err[256], sdir[600];
    jr_stream *s = jr_stream_open(jdir("jd1"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 200) == 0);
    jr_stream_close(s);
    snprintf(sdir, sizeof sdir, "%s/t", jdir("jd1"));
    const char *seg = last_segment(sdir);
    int fd = open(seg, O_RDWR);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "X", 1, rec_pos(90) + 25) == 1); /* payload byte of record 90 */
    close(fd);
    for (int round = 0; round < 2; round++) { /* the damage stays skipped on every open */
        s = jr_stream_open(jdir("jd1"), "t", NULL, err, sizeof err);
        CHECK_MSG(s, "%s", err);
        CHECK_EQ_INT(jr_stream_recovered_bytes(s), 0); /* not a torn tail */
        jr_info in;
        jr_stream_info(s, &in);
        CHECK_EQ_INT(in.lost_records, 1);
        CHECK_EQ_INT(in.damaged_bytes, 24 + 3);
        CHECK_EQ_INT(in.next_offset, 200 + round * 3);
        CHECK(read_with_gap(s, 200 + round * 3, 90, 91) == 0);
        CHECK(tj_append_n(s, 200 + round * 3, 3) == 0); /* offsets are not reused */
        jr_stream_close(s);
    }
    /* damage in a length field (the record's end is unknown): resync too */
    fd = open(seg, O_RDWR);
    CHECK(pwrite(fd, "\xff\xff", 2, rec_pos(150) + 1) == 2);
    close(fd);
    s = jr_stream_open(jdir("jd1"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.lost_records, 2);
    CHECK_EQ_INT(in.next_offset, 206);
    jr_stream_close(s);
}

/* Damage at the very end (no valid record after it) is a torn tail: cut.  The
 * offsets it took are not handed out again when a consumer had read them. */
TEST(journal_torn_tail_never_reuses_consumer_offsets)
{
    char err[256], sdir[600];
    jr_stream *s = jr_stream_open(jdir("jd2"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 120) == 0);
    CHECK(jr_cursor_commit(s, "reader", 118, err, sizeof err) == 0);
    jr_group *g = jr_group_open(s, "workers", NULL, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    CHECK(jr_group_setid(g, 120, err, sizeof err) == 0);
    jr_group_close(g);
    jr_stream_close(s);
    snprintf(sdir, sizeof sdir, "%s/t", jdir("jd2"));
    const char *seg = last_segment(sdir);
    int fd = open(seg, O_RDWR);
    CHECK(pwrite(fd, "X", 1, rec_pos(110) + 3) == 1); /* length of record 110 */
    CHECK(ftruncate(fd, rec_pos(111) + 10) == 0);    /* and a torn write after it */
    close(fd);
    s = jr_stream_open(jdir("jd2"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.recovered_bytes, 28 + 10);
    CHECK_EQ_INT(in.next_offset, 120); /* the group had seen up to 119 */
    CHECK_EQ_INT(in.reserved_from, 110);
    CHECK(read_with_gap(s, 110, 200, 200) == 0);
    uint64_t first;
    jr_iov v = {"r120", 4};
    CHECK(jr_append(s, &v, 1, 0, &first, err, sizeof err) == 0);
    CHECK_EQ_INT(first, 120);
    /* an outside consumer (the lake sink) reserves explicitly */
    CHECK(jr_stream_reserve(s, 500, "test sink", err, sizeof err) == 0);
    CHECK(jr_append(s, &v, 1, 0, &first, err, sizeof err) == 0);
    CHECK_EQ_INT(first, 500);
    jr_stream_close(s);
    s = jr_stream_open(jdir("jd2"), "t", NULL, err, sizeof err); /* gaps survive a reopen */
    CHECK_MSG(s, "%s", err);
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.next_offset, 501);
    jr_reader *r = jr_reader_create(s);
    jr_record rec[4];
    CHECK_EQ_INT(jr_read(r, 110, rec, 4, 1 << 20, err, sizeof err), 1);
    CHECK_EQ_INT(rec[0].offset, 120);
    /* each reserve started a segment at its floor: 500 is in the next one */
    CHECK_EQ_INT(jr_read(r, 121, rec, 4, 1 << 20, err, sizeof err), 1);
    CHECK_EQ_INT(rec[0].offset, 500);
    jr_reader_destroy(r);
    jr_stream_close(s);
}

/* Damage in a sealed segment and in a segment header: the records around it
 * read; the header is taken from the file name. */
TEST(journal_damage_in_sealed_segment_and_header)
{
    char err[256], sdir[600], cmd[900];
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 4096;
    o.fsync = JR_FSYNC_NEVER;
    jr_stream *s = jr_stream_open(jdir("jd3"), "t", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 1000) == 0);
    jr_stream_close(s);
    snprintf(sdir, sizeof sdir, "%s/t", jdir("jd3"));
    snprintf(cmd, sizeof cmd, "ls %s/*.log | sed -n 3p", sdir); /* third segment */
    char path[1024] = "";
    FILE *p = popen(cmd, "r");
    CHECK(p && fgets(path, sizeof path, p));
    pclose(p);
    path[strcspn(path, "\n")] = 0;
    unsigned long long base = strtoull(strrchr(path, '/') + 1, NULL, 10);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "X", 1, 16 + 10 * 28 + 20) == 1); /* ts of record base+10 */
    CHECK(pwrite(fd, "Y", 1, 3) == 1);                /* and the magic */
    close(fd);
    s = jr_stream_open(jdir("jd3"), "t", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(read_with_gap(s, 1000, base + 10, base + 11) == 0);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.lost_records, 1);
    CHECK(tj_append_n(s, 1000, 2) == 0);
    jr_stream_close(s);
}

/* Issue: one descriptor per segment; with 1,132 segments the server ran out. */
static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

TEST(journal_2000_segments_bounded_fds)
{
    char err[256];
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 16 + 2 * 28; /* two records per segment */
    o.fsync = JR_FSYNC_NEVER;
    o.retention_ms = 0;
    int before = count_fds();
    jr_stream *s = jr_stream_open(jdir("jfd"), "many", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    for (int i = 0; i < 4000; i++) {
        char b[32];
        int l = snprintf(b, sizeof b, "r%04d", i);
        jr_iov v = {b, (size_t)l};
        uint64_t first;
        CHECK_MSG(jr_append(s, &v, 1, 0, &first, err, sizeof err) == 0, "%s", err);
    }
    jr_info in;
    jr_stream_info(s, &in);
    CHECK(in.segments >= 2000);
    CHECK_MSG(count_fds() - before <= 4, "%d fds for %d segments", count_fds() - before,
              in.segments);
    jr_stream_close(s);
    s = jr_stream_open(jdir("jfd"), "many", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    jr_reader *r = jr_reader_create(s);
    jr_record rec[64];
    uint64_t next = 0;
    int k;
    while ((k = jr_read(r, next, rec, 64, 1 << 20, err, sizeof err)) > 0) next = rec[k - 1].offset + 1;
    CHECK_MSG(k == 0, "%s", err);
    CHECK_EQ_INT(next, 4000);
    CHECK_MSG(count_fds() - before <= 4, "%d fds after reading %d segments", count_fds() - before,
              in.segments);
    jr_reader_destroy(r);
    jr_stream_close(s);
}

/* Out of descriptors at open: the message names the stream, the file and the
 * real cause (the server printed it at start-up instead of blaming the port). */
TEST(journal_open_out_of_fds_names_cause)
{
    char err[512];
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 100; /* 10 segments */
    o.fsync = JR_FSYNC_NEVER;
    jr_stream *s = jr_stream_open(jdir("jemf"), "lim", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 30) == 0);
    jr_stream_close(s);
    struct rlimit old, lim;
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    int low = dup(0), failed = 0; /* the lowest free descriptor */
    CHECK(low >= 0);
    close(low);
    for (int extra = 0; extra < 4; extra++) {
        lim = old;
        lim.rlim_cur = (rlim_t)(low + extra);
        CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0);
        err[0] = 0;
        s = jr_stream_open(jdir("jemf"), "lim", &o, err, sizeof err);
        CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
        if (s) {
            jr_stream_close(s);
            continue;
        }
        CHECK_MSG(strstr(err, "stream lim") && strstr(err, "Too many open files") &&
                      strstr(err, jdir("jemf")), "%s", err);
        failed++;
    }
    CHECK(failed > 0);
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
    CHECK(tj_append_n(s, 0, 3000) == 0);
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
    CHECK(tj_append_n(s, 0, 50) == 0);
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

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct late_append { jr_stream *s; uint64_t expect; };

static void *append_later(void *p)
{
    struct late_append *a = p;
    usleep(150 * 1000);
    char err[256];
    uint64_t first = 0;
    jr_iov v = {"late", 4};
    if (jr_append(a->s, &v, 1, 0, &first, err, sizeof err)) first = UINT64_MAX;
    a->expect = first;
    return NULL;
}

/* A reader (cursor, group, sink) at an offset in the range a reserve skipped
 * blocks in jr_stream_wait instead of spinning, and gets the record appended
 * at the reserved floor; a group consumer sees no phantom entry. */
TEST(journal_reader_in_reserved_gap_blocks)
{
    char err[256];
    jr_stream *s = jr_stream_open(jdir("jgap"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 5) == 0);
    CHECK(jr_cursor_commit(s, "reader", 100, err, sizeof err) == 0);
    jr_stream_close(s);
    s = jr_stream_open(jdir("jgap"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.next_offset, 100);
    CHECK_EQ_INT(in.reserved_from, 5);
    jr_reader *r = jr_reader_create(s);
    jr_record rec[8];
    uint64_t from = 5;
    int64_t t0 = mono_ms();
    int loops = 0, n = 0;
    while (loops < 1000 && mono_ms() - t0 < 2000) { /* the consumer loop of the report */
        n = jr_read(r, from, rec, 8, 1 << 20, err, sizeof err);
        if (n != 0) break;
        loops++;
        if (!jr_stream_wait(s, from, 200)) break;
    }
    CHECK_EQ_INT(n, 0);
    CHECK_MSG(loops <= 2, "%d reads in %lld ms", loops, (long long)(mono_ms() - t0));
    CHECK(mono_ms() - t0 >= 150); /* it waited out the timeout */
    /* a record appended meanwhile wakes the waiter and reads at the floor */
    pthread_t th;
    struct late_append la = {s, 0};
    CHECK(pthread_create(&th, NULL, append_later, &la) == 0);
    t0 = mono_ms();
    CHECK(jr_stream_wait(s, from, 5000) == 1);
    CHECK(mono_ms() - t0 >= 100);
    pthread_join(th, NULL);
    CHECK_EQ_INT(la.expect, 100);
    CHECK_EQ_INT(jr_read(r, from, rec, 8, 1 << 20, err, sizeof err), 1);
    CHECK_EQ_INT(rec[0].offset, 100);
    jr_reader_destroy(r);
    /* a group consumer gets 0..4, blocks in the gap, then gets 100 */
    jr_group_opts go;
    jr_group_opts_init(&go);
    go.start = 0;
    jr_group *g = jr_group_open(s, "workers", &go, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    jr_group_buf *b = jr_group_buf_create(s);
    CHECK_EQ_INT(jr_group_read(g, "c", b, rec, 8, 0, 0, err, sizeof err), 6);
    CHECK_EQ_INT(rec[4].offset, 4);
    CHECK_EQ_INT(rec[5].offset, 100);
    t0 = mono_ms();
    CHECK_EQ_INT(jr_group_read(g, "c", b, rec, 8, 0, 200, err, sizeof err), 0);
    CHECK(mono_ms() - t0 >= 150);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
}

static void *wake_later(void *arg)
{
    usleep(150 * 1000);
    jr_stream_wake(arg);
    return NULL;
}

/* jr_stream_wake ends a wait for records at once (a sink that stops does
 * not wait out its idle timeout); later waits wait as before. */
TEST(journal_wake_ends_wait)
{
    char err[256];
    jr_stream *s = jr_stream_open(jdir("jwake"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 3) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, wake_later, s) == 0);
    int64_t t0 = mono_ms();
    CHECK_EQ_INT(jr_stream_wait(s, 3, 5000), 0);
    int64_t ms = mono_ms() - t0;
    CHECK_MSG(ms >= 100 && ms < 2000, "woken after %lld ms", (long long)ms);
    pthread_join(th, NULL);
    CHECK_EQ_INT(jr_stream_wait(s, 2, 5000), 1); /* records there: no wait */
    t0 = mono_ms();
    CHECK_EQ_INT(jr_stream_wait(s, 3, 200), 0);
    CHECK(mono_ms() - t0 >= 150); /* the wake is spent */
    jr_stream_close(s);
}
