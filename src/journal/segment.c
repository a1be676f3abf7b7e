/* Journal segment files.
 *
 *   segment file  <base offset, 20 digits>.log
 *   +----------------+------------------+
 *   | "SLJRNL01" (8) | base offset le64 |   header, 16 bytes
 *   +----------------+------------------+
 *   | record | record | ...              |
 *
 *   record
 *   +----------+-----------+-------------+-------------+-----------------+
 *   | len le32 | crc le32  | offset le64 | ts_us le64  | payload (len)   |
 *   +----------+-----------+-------------+-------------+-----------------+
 *   crc = CRC-32C over len, offset, ts_us and payload.  Offsets increase by
 *   one per record, except after a damaged range or where recovery skipped
 *   offsets so that none is ever reused (then they jump forward).
 *
 * Loading a segment checks every record.  A record whose header or payload is
 * incomplete, whose crc does not match, or whose offset is not above the
 * previous one starts a damaged range: the scan resynchronises on the next
 * position holding a record that passes every check and keeps everything from
 * there.  Damage followed by no valid record is a torn tail (an interrupted
 * write): cut off in the active segment, skipped in a sealed one.
 *
 * The active segment is also cut where the watermark (synced.c) says nothing
 * was acknowledged, so that a batch a crash left behind in part is not kept
 * (its client retries it):
 *
 *   +--------+----------------------------+-------------------------------+
 *   | header | synced: damage is skipped, | from S on never acknowledged, |
 *   |        | the records after it kept  | or acknowledged if S is stale |
 *   +--------+----------------------------+-------------------------------+
 *            16                           S = watermark position
 *
 *   exact S (same boot, a process crash): cut at S.  A stale S is possible
 *   (power loss: the watermark is not synced): keep the records that follow
 *   S in sequence, cut at the first damage at or after S even when valid
 *   records follow it (pages of a batch whose sync never completed).  A
 *   damaged range that starts before S must end at S (exact: before it).
 */
#include "journal/jr_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void le32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void le64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

uint32_t jr__rec_crc(uint32_t len, uint64_t offset, int64_t ts, const void *p, size_t n)
{
    uint8_t h[20];
    le32(h, len);
    le64(h + 4, offset);
    le64(h + 12, (uint64_t)ts);
    return jr_crc32c(jr_crc32c(0, h, 20), p, n);
}

void jr__encode_record(ut_buf *b, uint64_t offset, int64_t ts, const void *p, uint32_t n)
{
    ut_buf_reserve(b, JR__REC_HDR + n);
    uint8_t *h = b->p + b->len;
    le32(h, n);
    le32(h + 4, jr__rec_crc(n, offset, ts, p, n));
    le64(h + 8, offset);
    le64(h + 16, (uint64_t)ts);
    if (n) memcpy(h + JR__REC_HDR, p, n);
    b->len += JR__REC_HDR + n;
}

void jr__seg_index_add(jr__seg *g, uint64_t offset, uint64_t pos)
{
    if (g->nidx && pos - g->last_idx_pos < JR__INDEX_EVERY) return;
    if (g->nidx == g->capidx) {
        g->capidx = g->capidx ? g->capidx * 2 : 64;
        g->ioff = ut_realloc(g->ioff, g->capidx * sizeof *g->ioff);
        g->ipos = ut_realloc(g->ipos, g->capidx * sizeof *g->ipos);
    }
    g->ioff[g->nidx] = offset;
    g->ipos[g->nidx] = pos;
    g->nidx++;
    g->last_idx_pos = pos;
}

uint64_t jr__seg_index_find(const jr__seg *g, uint64_t off)
{
    size_t lo = 0, hi = g->nidx;
    while (lo < hi) { /* first entry with ioff > off */
        size_t mid = (lo + hi) / 2;
        if (g->ioff[mid] <= off) lo = mid + 1;
        else hi = mid;
    }
    return lo ? g->ipos[lo - 1] : JR__SEG_HDR;
}

int jr__fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int jr__nospace(int e)
{
    return e == ENOSPC || e == EDQUOT;
}

const char *jr__strerror(int e)
{
    return e == ENOSPC ? "disk full (ENOSPC)" : strerror(e);
}

/* 0, or -1 with errno (a short write is retried, so its errno is the real one). */
static int write_header(int fd, uint64_t base)
{
    uint8_t h[JR__SEG_HDR];
    memcpy(h, JR__SEG_MAGIC, 8);
    le64(h + 8, base);
    for (size_t done = 0; done < sizeof h;) {
        ssize_t r = pwrite(fd, h + done, sizeof h - done, (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

int jr__seg_create(const char *path, uint64_t base, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        ut_err(err, errlen, "%s: create: %s", path, jr__strerror(e));
        return jr__nospace(e) ? -2 : -1;
    }
    int ok = write_header(fd, base) == 0 && fdatasync(fd) == 0;
    int saved = errno;
    close(fd);
    if (ok) return 0;
    unlink(path); /* headerless: the next try creates it again (O_EXCL) */
    ut_err(err, errlen, "%s: cannot write header: %s", path, jr__strerror(saved));
    return jr__nospace(saved) ? -2 : -1;
}

jr__seg *jr__seg_stat(const char *path, uint64_t base, uint64_t next_base, char *err,
                      size_t errlen)
{
    struct stat st;
    if (stat(path, &st)) {
        ut_err(err, errlen, "%s: stat: %s", path, strerror(errno));
        return NULL;
    }
    jr__seg *g = ut_calloc(1, sizeof *g);
    g->fd = -1;
    g->refs = 1;
    g->base = base;
    g->next = next_base > base ? next_base : base;
    g->size = (uint64_t)st.st_size;
    g->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    snprintf(g->path, sizeof g->path, "%s", path);
    return g;
}

/* Does a valid record start at pos?  Sets *len, *off. */
static int rec_ok(const uint8_t *m, uint64_t size, uint64_t pos, uint64_t min_off,
                  uint64_t max_off, uint64_t max_record, uint32_t *len, uint64_t *off)
{
    if (pos + JR__REC_HDR > size) return 0;
    const uint8_t *h = m + pos;
    uint32_t crc;
    int64_t ts;
    memcpy(len, h, 4);
    memcpy(&crc, h + 4, 4);
    memcpy(off, h + 8, 8);
    memcpy(&ts, h + 16, 8);
    if (*off < min_off || *off >= max_off || *len > max_record) return 0;
    if (size - pos - JR__REC_HDR < *len) return 0;
    return jr__rec_crc(*len, *off, ts, h + JR__REC_HDR, *len) == crc;
}

static void add_hole(jr__seg *g, uint64_t pos, uint64_t end, uint64_t off_from, uint64_t off_to)
{
    g->holes = ut_realloc(g->holes, (g->nholes + 1) * sizeof *g->holes);
    g->holes[g->nholes++] = (jr__hole){pos, end, off_from, off_to};
    g->damaged += end - pos;
}

/* Valid records in the cut tail m[g->size, size), in sequence, for the report. */
static void count_cut(jr__seg *g, const uint8_t *m, uint64_t size, uint64_t max_off,
                      uint64_t max_record)
{
    uint64_t q = g->size, min_off = g->next;
    while (q + JR__REC_HDR <= size) {
        uint32_t len;
        uint64_t off;
        if (!rec_ok(m, size, q, min_off, max_off, max_record, &len, &off)) {
            q++;
            continue;
        }
        if (!g->cut_recs++) g->cut_first = off;
        g->cut_last = off;
        min_off = off + 1;
        q += JR__REC_HDR + len;
    }
}

/* Walk the records of the mapping m[0..size); fill g's index, holes, size
 * (end of the last kept record), next and torn.  sy (may be NULL): from
 * position sy->pos on, the first damage ends the segment, and with sy->exact
 * so does sy->pos itself (see the top of the file). */
static void scan(jr__seg *g, const uint8_t *m, uint64_t size, uint64_t max_off,
                 uint64_t max_record, const jr__synced *sy)
{
    uint64_t lim = sy && sy->pos ? sy->pos : UINT64_MAX;
    int exact = lim != UINT64_MAX && sy->exact;
    uint64_t qmax = exact ? lim - 1 : lim; /* where a resync may land */
    uint64_t pos = JR__SEG_HDR, min_off = g->base;
    while (pos + JR__REC_HDR <= size && !(exact && pos >= lim)) {
        uint32_t len;
        uint64_t off;
        if (rec_ok(m, size, pos, min_off, max_off, max_record, &len, &off)) {
            jr__seg_index_add(g, off, pos);
            pos += JR__REC_HDR + len;
            min_off = off + 1;
            continue;
        }
        if (pos >= lim) break; /* the first damage past the synced position */
        uint64_t q = pos + 1; /* resynchronise */
        while (q + JR__REC_HDR <= size && q <= qmax &&
               !rec_ok(m, size, q, min_off, max_off, max_record, &len, &off))
            q++;
        if (q + JR__REC_HDR > size || q > qmax) break; /* torn tail */
        add_hole(g, pos, q, min_off, off);
        jr__seg_index_add(g, off, q);
        pos = q + JR__REC_HDR + len;
        min_off = off + 1;
    }
    g->torn = size > pos ? size - pos : 0;
    g->size = pos < size ? pos : size;
    g->next = min_off;
    g->synced = lim != UINT64_MAX ? lim : 0;
    if (g->synced && g->torn) count_cut(g, m, size, max_off, max_record);
}

static int load_fail(jr__seg *out, int fd, char *err, size_t errlen, const char *what)
{
    ut_err(err, errlen, "%s: %s: %s", out->path, what, strerror(errno));
    if (fd >= 0) close(fd);
    free(out->ioff);
    free(out->ipos);
    free(out->holes);
    return -1;
}

/* Check the 16-byte header; 1 when it is good. */
static int header_ok(const uint8_t *m, uint64_t size, uint64_t base)
{
    uint64_t b;
    if (size < JR__SEG_HDR || memcmp(m, JR__SEG_MAGIC, 8)) return 0;
    memcpy(&b, m + 8, 8);
    return b == base;
}

int jr__seg_load(const jr__seg *g, int active, int read_only, uint64_t max_off,
                 uint64_t max_record, const jr__synced *sy, jr__seg *out, char *err,
                 size_t errlen)
{
    *out = *g;
    out->ioff = out->ipos = NULL;
    out->holes = NULL;
    out->nidx = out->capidx = out->nholes = 0;
    out->last_idx_pos = 0;
    out->damaged = out->torn = 0;
    out->synced = out->cut_recs = out->cut_first = out->cut_last = 0;
    out->fd = -1;
    int writable = active && !read_only;
    int fd = open(g->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && !active) return -2;
    if (fd < 0) return load_fail(out, -1, err, errlen, "open");
    struct stat st;
    if (fstat(fd, &st)) return load_fail(out, fd, err, errlen, "stat");
    uint64_t size = (uint64_t)st.st_size;
    out->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    const uint8_t *m = NULL;
    if (size > 0) {
        void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) return load_fail(out, fd, err, errlen, "mmap");
        (void)madvise(p, (size_t)size, MADV_SEQUENTIAL);
        m = p;
    }
    out->bad_header = !header_ok(m, size, g->base);
    scan(out, m, size, max_off, max_record, sy);
    if (m) munmap((void *)m, (size_t)size);
    if (writable && (out->bad_header || out->torn)) {
        /* repair the header from the file name; cut the torn tail */
        if (out->bad_header && write_header(fd, g->base))
            return load_fail(out, fd, err, errlen, "cannot repair header");
        if (out->torn && ftruncate(fd, (off_t)out->size))
            return load_fail(out, fd, err, errlen, "cannot truncate torn tail");
        if (fdatasync(fd)) return load_fail(out, fd, err, errlen, "fdatasync");
        if (out->size < JR__SEG_HDR) out->size = JR__SEG_HDR;
    }
    if (active && !read_only) out->fd = fd;
    else close(fd);
    out->loaded = 1;
    return 0;
}

void jr__seg_unref(jr__seg *g)
{
    if (--g->refs > 0) return;
    if (g->fd >= 0) close(g->fd);
    free(g->ioff);
    free(g->ipos);
    free(g->holes);
    free(g);
}
