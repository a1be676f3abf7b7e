/* Journal: the synced-position watermark (<stream>/synced) and what recovery
 * of the active segment makes of it (docs/journal.md, "Recovery").
 *
 * A crash is simulated by a child process that opens the stream, appends and
 * _exit()s without closing it: what kill -9 leaves (the page cache keeps
 * every write).  What a crash can leave past the acknowledged records (a
 * group written but not yet synced, or only some of its pages after a power
 * loss) is then appended to the segment file in the segment format. */
#include "t.h"
#include "tj.h"
#include "journal/journal.h"
#include "log/log.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *sdir(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", t_tmpdir(), name);
    return p;
}

/* A file of the stream directory <sdir(name)>/t (the last 4 results stay valid). */
static const char *spath(const char *name, const char *file)
{
    static char p[4][700];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/t/%s", sdir(name), file);
    return p[i];
}


/* Offsets read from 0 on, and their payloads checked ("r<offset>"); -1 on a
 * bad record or a read error. */
static long long read_count(jr_stream *s, uint64_t *last)
{
    jr_reader *r = jr_reader_create(s);
    jr_record recs[64];
    char err[256];
    uint64_t next = 0;
    long long n = 0;
    for (;;) {
        int k = jr_read(r, next, recs, 64, 1 << 20, err, sizeof err);
        if (k < 0) {
            printf("  read: %s\n", err);
            n = -1;
            break;
        }
        if (k == 0) break;
        for (int i = 0; i < k; i++) {
            char want[32];
            int l = snprintf(want, sizeof want, "r%llu", (unsigned long long)recs[i].offset);
            if (recs[i].n != (uint32_t)l || memcmp(recs[i].p, want, (size_t)l)) {
                jr_reader_destroy(r);
                return -1;
            }
            *last = recs[i].offset;
            next = recs[i].offset + 1;
            n++;
        }
    }
    jr_reader_destroy(r);
    return n;
}

/* A writer that opens the stream, appends n records from offset 0 (first
 * raising the next offset to `reserve` when > 0) and dies without closing. */
static int crash_after(const char *name, const jr_opts *o, int n, uint64_t reserve)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char err[256];
        jr_stream *s = jr_stream_open(sdir(name), "t", o, err, sizeof err);
        if (!s) _exit(1);
        jr_info in;
        jr_stream_info(s, &in);
        if (reserve && jr_stream_reserve(s, reserve, "test", err, sizeof err)) _exit(2);
        if (tj_append_n(s, reserve ? reserve : in.next_offset, n)) _exit(3);
        _exit(0); /* no jr_stream_close: kill -9 */
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) return -1;
    return 0;
}

static void le32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void le64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Append records with offsets [from, from + n) ("r<offset>", ts 1000) to
 * file f in the segment format (docs/journal.md); returns the bytes written. */
static long append_raw(const char *f, uint64_t from, int n)
{
    int fd = open(f, O_WRONLY | O_APPEND);
    if (fd < 0) return -1;
    long total = 0;
    for (int i = 0; i < n; i++) {
        uint8_t b[64];
        uint64_t off = from + (uint64_t)i;
        int l = snprintf((char *)b + 24, 40, "r%llu", (unsigned long long)off);
        le32(b, (uint32_t)l);
        le64(b + 8, off);
        le64(b + 16, 1000);
        uint8_t h[20];
        memcpy(h, b, 4);
        memcpy(h + 4, b + 8, 16);
        le32(b + 4, jr_crc32c(jr_crc32c(0, h, 20), b + 24, (size_t)l));
        if (write(fd, b, 24 + (size_t)l) != 24 + l) total = -1;
        if (total >= 0) total += 24 + l;
    }
    close(fd);
    return total;
}

static long append_garbage(const char *f, int n)
{
    uint8_t b[256];
    memset(b, 0xa5, sizeof b);
    int fd = open(f, O_WRONLY | O_APPEND);
    if (fd < 0 || n > (int)sizeof b) return -1;
    long w = write(fd, b, (size_t)n);
    close(fd);
    return w;
}

static long fsize(const char *f)
{
    struct stat st;
    return stat(f, &st) ? -1 : (long)st.st_size;
}

/* The watermark file: magic, base, pos, next, boot, state, crc. */
typedef struct wm {
    uint64_t base, pos, next, boot;
    uint32_t state;
} wm;

static int wm_get(const char *name, wm *w)
{
    uint8_t b[48];
    int fd = open(spath(name, "synced"), O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    uint32_t crc;
    memcpy(&crc, b + 44, 4);
    if (n != 48 || memcmp(b, "SLJSYN01", 8) || jr_crc32c(0, b, 44) != crc) return -1;
    memcpy(&w->base, b + 8, 8);
    memcpy(&w->pos, b + 16, 8);
    memcpy(&w->next, b + 24, 8);
    memcpy(&w->boot, b + 32, 8);
    memcpy(&w->state, b + 40, 4);
    return 0;
}

static int wm_put(const char *name, const wm *w)
{
    uint8_t b[48];
    memcpy(b, "SLJSYN01", 8);
    le64(b + 8, w->base);
    le64(b + 16, w->pos);
    le64(b + 24, w->next);
    le64(b + 32, w->boot);
    le32(b + 40, w->state);
    le32(b + 44, jr_crc32c(0, b, 44));
    int fd = open(spath(name, "synced"), O_WRONLY | O_TRUNC | O_CREAT, 0644);
    if (fd < 0) return -1;
    int rc = write(fd, b, 48) == 48 ? 0 : -1;
    close(fd);
    return rc;
}

/* Log lines captured while a stream opens. */
static char logbuf[16384];

static void capture(lg_level level, const char *component, const char *msg, void *arg)
{
    (void)level;
    (void)component;
    (void)arg;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof logbuf - n, "%s\n", msg);
}

static jr_stream *open_logged(const char *name, const jr_opts *o, char *err, size_t errlen)
{
    logbuf[0] = 0;
    lg_set_sink(capture, NULL);
    jr_stream *s = jr_stream_open(sdir(name), "t", o, err, errlen);
    lg_set_sink(NULL, NULL);
    fputs(logbuf, stdout);
    return s;
}

/* The watermark follows every group commit and says how the stream ended. */
TEST(journal_synced_watermark_file)
{
    char err[256];
    jr_stream *s = jr_stream_open(sdir("w0"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 10) == 0);
    wm w;
    CHECK(wm_get("w0", &w) == 0);
    CHECK_EQ_INT(w.base, 0);
    CHECK_EQ_INT(w.pos, fsize(spath("w0", "00000000000000000000.log")));
    CHECK_EQ_INT(w.next, 10);
    CHECK_EQ_INT(w.state, 1);
    CHECK_MSG(w.boot != 0, "no boot id (/proc/sys/kernel/random/boot_id)");
    jr_stream_close(s);
    CHECK(wm_get("w0", &w) == 0);
    CHECK_EQ_INT(w.state, 2);
    CHECK_EQ_INT(w.next, 10);
}

/* Issue: records written after the last acknowledged group (kill -9 between
 * the write and the fdatasync, or before the ack) survived recovery, and the
 * client's retry stored them twice. */
TEST(journal_synced_cuts_unacked_group_after_crash)
{
    char err[256];
    CHECK(crash_after("w1", NULL, 50, 0) == 0);
    const char *seg = spath("w1", "00000000000000000000.log");
    long acked = fsize(seg);
    long extra = append_raw(seg, 50, 10); /* a whole group, never acknowledged */
    CHECK(extra > 0);
    jr_stream *s = open_logged("w1", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(jr_stream_recovered_bytes(s), extra);
    CHECK_EQ_INT(fsize(seg), acked);
    char want[200];
    snprintf(want, sizeof want, "dropped %ld bytes at %ld..%ld of %s", extra, acked, acked + extra,
             seg);
    CHECK_MSG(strstr(logbuf, want) && strstr(logbuf, "stream t:") &&
                  strstr(logbuf, "records 50..59") && strstr(logbuf, "never acknowledged"),
              "log: %s", logbuf);
    uint64_t last = 0;
    CHECK_EQ_INT(read_count(s, &last), 50);
    CHECK_EQ_INT(last, 49);
    CHECK(tj_append_n(s, 50, 3) == 0); /* the retry gets the offsets, once */
    jr_stream_close(s);
    s = jr_stream_open(sdir("w1"), "t", NULL, err, sizeof err); /* a clean close cuts nothing */
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(jr_stream_recovered_bytes(s), 0);
    CHECK_EQ_INT(read_count(s, &last), 53);
    jr_stream_close(s);
}

/* Issue: a power loss during an unsynced group can keep its later pages and
 * not the earlier ones (writeback is unordered); recovery resynchronised past
 * the missing part and kept the later records.  With an exact watermark (the
 * same boot) and with a stale one (another boot: the watermark lags, and the
 * acknowledged records after it are kept). */
TEST(journal_synced_cuts_later_pages_of_unsynced_group)
{
    char err[256];
    const char *names[2] = {"w2a", "w2b"};
    for (int stale = 0; stale < 2; stale++) {
        const char *nm = names[stale];
        CHECK(crash_after(nm, NULL, 50, 0) == 0);
        const char *seg = spath(nm, "00000000000000000000.log");
        long acked = fsize(seg);
        if (stale) { /* the watermark on disk is the one of record 29 */
            wm w;
            CHECK(wm_get(nm, &w) == 0);
            w.pos = 16;
            for (int i = 0; i < 30; i++) w.pos += 24 + (i < 10 ? 2 : 3);
            w.next = 30;
            w.boot ^= 1;
            CHECK(wm_put(nm, &w) == 0);
        }
        long lost = append_garbage(seg, 5 * 27); /* pages of 50..54 that never made it */
        long later = append_raw(seg, 55, 5);      /* and those of 55..59 that did */
        CHECK(lost > 0 && later > 0);
        jr_stream *s = open_logged(nm, NULL, err, sizeof err);
        CHECK_MSG(s, "%s", err);
        CHECK_EQ_INT(jr_stream_recovered_bytes(s), lost + later);
        CHECK_EQ_INT(fsize(seg), acked);
        CHECK_MSG(strstr(logbuf, "records 55..59"), "log: %s", logbuf);
        jr_info in;
        jr_stream_info(s, &in);
        CHECK_EQ_INT(in.next_offset, 50);
        CHECK_EQ_INT(in.lost_records, 0);
        uint64_t last = 0;
        CHECK_EQ_INT(read_count(s, &last), 50); /* 30..49 too, when stale */
        jr_stream_close(s);
    }
}

/* A stale watermark (another boot) keeps the records that follow it in
 * sequence: they may have been acknowledged, and the watermark lags. */
TEST(journal_synced_stale_watermark_keeps_records_in_sequence)
{
    char err[256];
    CHECK(crash_after("w3", NULL, 50, 0) == 0);
    wm w;
    CHECK(wm_get("w3", &w) == 0);
    w.pos = 16 + 10 * 26; /* after record 9 */
    w.next = 10;
    w.boot = 0; /* unknown boot: never trusted as exact */
    CHECK(wm_put("w3", &w) == 0);
    const char *seg = spath("w3", "00000000000000000000.log");
    long torn = append_garbage(seg, 11);
    jr_stream *s = jr_stream_open(sdir("w3"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(jr_stream_recovered_bytes(s), torn);
    uint64_t last = 0;
    CHECK_EQ_INT(read_count(s, &last), 50);
    jr_stream_close(s);
    /* the same position written in this boot is exact: all past it is cut */
    CHECK(crash_after("w3", NULL, 0, 0) == 0); /* a watermark of this boot, state open */
    CHECK(wm_get("w3", &w) == 0);
    w.pos = 16 + 10 * 26;
    w.next = 10;
    CHECK(wm_put("w3", &w) == 0);
    s = jr_stream_open(sdir("w3"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(read_count(s, &last), 10);
    jr_stream_close(s);
}

/* Damage before the synced position is real damage: skipped, the records
 * after it kept (as without a watermark), while what lies past the watermark
 * is still cut. */
TEST(journal_synced_damage_before_watermark_resyncs)
{
    char err[256];
    CHECK(crash_after("w4", NULL, 200, 0) == 0);
    const char *seg = spath("w4", "00000000000000000000.log");
    off_t pos90 = 16;
    for (int k = 0; k < 90; k++) pos90 += 24 + (k < 10 ? 2 : 3);
    int fd = open(seg, O_RDWR);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "X", 1, pos90 + 25) == 1); /* payload byte of record 90 */
    close(fd);
    long acked = fsize(seg);
    long extra = append_raw(seg, 200, 4);
    jr_stream *s = jr_stream_open(sdir("w4"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(jr_stream_recovered_bytes(s), extra);
    CHECK_EQ_INT(fsize(seg), acked);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.lost_records, 1);
    CHECK_EQ_INT(in.damaged_bytes, 24 + 3);
    CHECK_EQ_INT(in.next_offset, 200);
    uint64_t last = 0;
    CHECK_EQ_INT(read_count(s, &last), 199);
    CHECK_EQ_INT(last, 199);
    jr_stream_close(s);
}

/* Issue: damage in the last acknowledged records (nothing valid after them)
 * was cut as a torn tail and their offsets handed out again; the watermark
 * knows they were handed out. */
TEST(journal_synced_lost_acked_tail_offsets_not_reused)
{
    char err[256];
    CHECK(crash_after("w5", NULL, 20, 0) == 0);
    const char *seg = spath("w5", "00000000000000000000.log");
    CHECK(truncate(seg, fsize(seg) - 30) == 0); /* record 19 and part of 18 gone */
    jr_stream *s = jr_stream_open(sdir("w5"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.next_offset, 20);
    CHECK_EQ_INT(in.reserved_from, 18);
    uint64_t first;
    jr_iov v = {"r20", 3};
    CHECK(jr_append(s, &v, 1, 0, &first, err, sizeof err) == 0);
    CHECK_EQ_INT(first, 20);
    jr_stream_close(s);
}

/* No watermark (a data directory from before it), a damaged one or one that
 * describes another segment: recovery keeps every valid record, as before,
 * and says so once. */
TEST(journal_synced_missing_or_bad_watermark_falls_back)
{
    char err[256];
    const char *names[3] = {"w6a", "w6b", "w6c"};
    for (int k = 0; k < 3; k++) {
        const char *nm = names[k];
        CHECK(crash_after(nm, NULL, 30, 0) == 0);
        const char *seg = spath(nm, "00000000000000000000.log");
        if (k == 0) CHECK(unlink(spath(nm, "synced")) == 0);
        if (k == 1) {
            int fd = open(spath(nm, "synced"), O_RDWR);
            CHECK(fd >= 0 && pwrite(fd, "\x7f", 1, 17) == 1); /* inside pos: bad CRC */
            close(fd);
        }
        if (k == 2) {
            wm w;
            CHECK(wm_get(nm, &w) == 0);
            w.base = 7;
            CHECK(wm_put(nm, &w) == 0);
        }
        long lost = append_garbage(seg, 40);
        long later = append_raw(seg, 31, 4);
        CHECK(lost > 0 && later > 0);
        jr_stream *s = open_logged(nm, NULL, err, sizeof err);
        CHECK_MSG(s, "%s", err);
        CHECK_MSG(strstr(logbuf, "recovered without it"), "log: %s", logbuf);
        CHECK_EQ_INT(jr_stream_recovered_bytes(s), 0);
        jr_info in;
        jr_stream_info(s, &in);
        CHECK_EQ_INT(in.next_offset, 35);
        uint64_t last = 0;
        CHECK_EQ_INT(read_count(s, &last), 34);
        jr_stream_close(s);
        CHECK(wm_get(nm, &(wm){0}) == 0); /* a writer wrote a good one */
    }
}

/* After a clean close the file ends at the watermark; records appended later
 * were not written by this journal (an older sluice): kept. */
TEST(journal_synced_clean_close_keeps_later_appends)
{
    char err[256];
    jr_stream *s = jr_stream_open(sdir("w7"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 10) == 0);
    jr_stream_close(s);
    CHECK(append_raw(spath("w7", "00000000000000000000.log"), 10, 5) > 0);
    s = jr_stream_open(sdir("w7"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(jr_stream_recovered_bytes(s), 0);
    uint64_t last = 0;
    CHECK_EQ_INT(read_count(s, &last), 15);
    jr_stream_close(s);
}

/* A read-only open (sluice read next to a server) changes nothing: no cut,
 * no watermark written or created; it only leaves out what a writer would
 * cut. */
TEST(journal_synced_read_only_open_modifies_nothing)
{
    char err[256];
    CHECK(crash_after("w8", NULL, 40, 0) == 0);
    const char *seg = spath("w8", "00000000000000000000.log");
    CHECK(append_raw(seg, 40, 5) > 0);
    uint8_t before[48] = {0}, after[48] = {0};
    int fd = open(spath("w8", "synced"), O_RDONLY);
    struct stat st0, st1, w0, w1;
    int have = fd >= 0 && read(fd, before, 48) == 48 && fstat(fd, &w0) == 0;
    if (fd >= 0) close(fd);
    CHECK(stat(seg, &st0) == 0);
    jr_opts o;
    jr_opts_init(&o);
    o.read_only = 1;
    jr_stream *s = jr_stream_open(sdir("w8"), "t", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    uint64_t last = 0;
    CHECK_EQ_INT(read_count(s, &last), 40); /* 40..44 were never acknowledged */
    jr_stream_close(s);
    CHECK(have);
    fd = open(spath("w8", "synced"), O_RDONLY);
    CHECK(fd >= 0 && read(fd, after, 48) == 48);
    close(fd);
    CHECK(stat(seg, &st1) == 0 && stat(spath("w8", "synced"), &w1) == 0);
    CHECK(!memcmp(before, after, 48));
    CHECK_EQ_INT(st1.st_size, st0.st_size);
    CHECK(st1.st_mtim.tv_sec == st0.st_mtim.tv_sec && st1.st_mtim.tv_nsec == st0.st_mtim.tv_nsec);
    CHECK(w1.st_mtim.tv_sec == w0.st_mtim.tv_sec && w1.st_mtim.tv_nsec == w0.st_mtim.tv_nsec);
    /* without a watermark none is created */
    CHECK(unlink(spath("w8", "synced")) == 0);
    s = jr_stream_open(sdir("w8"), "t", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(read_count(s, &last), 45);
    jr_stream_close(s);
    CHECK(access(spath("w8", "synced"), F_OK) != 0);
}

/* The watermark follows segment rolls and reserves (a reserve starts a
 * segment at the floor): a crash there still cuts what was never acked. */
TEST(journal_synced_follows_roll_and_reserve)
{
    char err[256];
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 16 + 10 * 27; /* rolls every ~10 records */
    CHECK(crash_after("w9", &o, 35, 0) == 0);
    wm w;
    CHECK(wm_get("w9", &w) == 0);
    CHECK(w.base > 0 && w.next == 35);
    char segname[40];
    snprintf(segname, sizeof segname, "%020llu.log", (unsigned long long)w.base);
    CHECK(append_raw(spath("w9", segname), 35, 3) > 0);
    jr_stream *s = jr_stream_open(sdir("w9"), "t", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(jr_stream_recovered_bytes(s) > 0);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.next_offset, 35);
    jr_stream_close(s);
    /* a reserve to 500, three records there, a crash, an unacked group after */
    CHECK(crash_after("w9", &o, 3, 500) == 0);
    CHECK(wm_get("w9", &w) == 0);
    CHECK_EQ_INT(w.base, 500);
    CHECK_EQ_INT(w.next, 503);
    CHECK(append_raw(spath("w9", "00000000000000000500.log"), 503, 2) > 0);
    s = jr_stream_open(sdir("w9"), "t", &o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.next_offset, 503);
    uint64_t last = 0;
    CHECK_EQ_INT(read_count(s, &last), 38);
    CHECK_EQ_INT(last, 502);
    jr_stream_close(s);
}

/* A watermark that cannot be written (here a directory in its place; in life a
 * full disk) does not keep the stream from opening and being read, but every
 * append fails, naming the file, until it can be: a record acknowledged past
 * the watermark on disk would be cut by the next recovery. */
TEST(journal_synced_unwritable_watermark_fails_appends)
{
    char err[256];
    jr_stream *s = jr_stream_open(sdir("w10"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(tj_append_n(s, 0, 5) == 0);
    jr_stream_close(s);
    CHECK(unlink(spath("w10", "synced")) == 0 && mkdir(spath("w10", "synced"), 0755) == 0);
    s = jr_stream_open(sdir("w10"), "t", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    uint64_t last = 0, first;
    CHECK_EQ_INT(read_count(s, &last), 5);
    jr_iov v = {"r5", 2};
    CHECK(jr_append(s, &v, 1, 0, &first, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "stream t") && strstr(err, spath("w10", "synced")), "%s", err);
    jr_info in;
    jr_stream_info(s, &in);
    CHECK_EQ_INT(in.next_offset, 5);
    CHECK(rmdir(spath("w10", "synced")) == 0);
    CHECK(jr_append(s, &v, 1, 0, &first, err, sizeof err) == 0); /* the next group writes it */
    CHECK_EQ_INT(first, 5);
    wm w;
    CHECK(wm_get("w10", &w) == 0);
    CHECK_EQ_INT(w.next, 6);
    jr_stream_close(s);
}
