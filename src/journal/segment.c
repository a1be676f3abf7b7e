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
 *   one per record.  A record whose header or payload is incomplete, whose crc
 *   does not match, or whose offset is out of sequence ends the valid part.
 */
#include "journal/jr_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int write_header(int fd, uint64_t base)
{
    uint8_t h[JR__SEG_HDR];
    memcpy(h, JR__SEG_MAGIC, 8);
    le64(h + 8, base);
    return pwrite(fd, h, sizeof h, 0) == (ssize_t)sizeof h ? 0 : -1;
}

/* Scan records from the header on; stop at the first invalid one.
 * Sets g->size / g->next / the index; returns 0, or -1 on I/O error. */
static int scan(jr__seg *g, uint64_t file_size, uint64_t max_record, char *err, size_t errlen)
{
    size_t cap = 1 << 20;
    uint8_t *buf = ut_malloc(cap);
    uint64_t pos = JR__SEG_HDR, expect = g->base;
    int rc = 0;
    while (pos + JR__REC_HDR <= file_size) {
        uint8_t h[JR__REC_HDR];
        if (pread(g->fd, h, JR__REC_HDR, (off_t)pos) != JR__REC_HDR) {
            rc = ut_err(err, errlen, "%s: read at %llu: %s", g->path, (unsigned long long)pos,
                        strerror(errno));
            goto done;
        }
        uint32_t len, crc;
        uint64_t off;
        int64_t ts;
        memcpy(&len, h, 4);
        memcpy(&crc, h + 4, 4);
        memcpy(&off, h + 8, 8);
        memcpy(&ts, h + 16, 8);
        if (off != expect || len > max_record || pos + JR__REC_HDR + len > file_size) break;
        if (len > cap) {
            cap = len;
            buf = ut_realloc(buf, cap);
        }
        if (len && pread(g->fd, buf, len, (off_t)(pos + JR__REC_HDR)) != (ssize_t)len) {
            rc = ut_err(err, errlen, "%s: read at %llu: %s", g->path, (unsigned long long)pos,
                        strerror(errno));
            goto done;
        }
        if (jr__rec_crc(len, off, ts, buf, len) != crc) break;
        jr__seg_index_add(g, off, pos);
        pos += JR__REC_HDR + len;
        expect++;
    }
    g->size = pos;
    g->next = expect;
done:
    free(buf);
    return rc;
}

jr__seg *jr__seg_open(const char *path, uint64_t base, int create, int truncate_tail,
                      uint64_t max_record, uint64_t *dropped, char *err, size_t errlen)
{
    jr__seg *g = ut_calloc(1, sizeof *g);
    g->fd = -1;
    g->refs = 1;
    g->base = g->next = base;
    snprintf(g->path, sizeof g->path, "%s", path);
    *dropped = 0;
    g->fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (g->fd < 0) {
        ut_err(err, errlen, "%s: open: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(g->fd, &st)) {
        ut_err(err, errlen, "%s: stat: %s", path, strerror(errno));
        goto fail;
    }
    g->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    uint8_t h[JR__SEG_HDR];
    int hdr_ok = st.st_size >= JR__SEG_HDR && pread(g->fd, h, JR__SEG_HDR, 0) == JR__SEG_HDR &&
                 !memcmp(h, JR__SEG_MAGIC, 8);
    if (hdr_ok) {
        uint64_t b;
        memcpy(&b, h + 8, 8);
        if (b != base) {
            ut_err(err, errlen, "%s: header says base offset %llu, file name says %llu", path,
                   (unsigned long long)b, (unsigned long long)base);
            goto fail;
        }
    } else if (st.st_size > JR__SEG_HDR * 4 || !truncate_tail) {
        ut_err(err, errlen, "%s: not a sluice journal segment (bad header)", path);
        goto fail;
    } else {
        /* A segment whose creation was cut short: start it afresh. */
        if (ftruncate(g->fd, 0) || write_header(g->fd, base) || fdatasync(g->fd)) {
            ut_err(err, errlen, "%s: cannot write header: %s", path, strerror(errno));
            goto fail;
        }
        *dropped = (uint64_t)st.st_size;
        st.st_size = JR__SEG_HDR;
    }
    if (scan(g, (uint64_t)st.st_size, max_record, err, errlen)) goto fail;
    if (g->size < (uint64_t)st.st_size) {
        *dropped += (uint64_t)st.st_size - g->size;
        if (!truncate_tail) return g; /* sealed: keep the bytes, report them */
        if (ftruncate(g->fd, (off_t)g->size) || fdatasync(g->fd)) {
            ut_err(err, errlen, "%s: cannot truncate torn tail: %s", path, strerror(errno));
            goto fail;
        }
    }
    return g;
fail:
    if (g->fd >= 0) close(g->fd);
    free(g);
    return NULL;
}

void jr__seg_unref(jr__seg *g)
{
    if (--g->refs > 0) return;
    if (g->fd >= 0) close(g->fd);
    free(g->ioff);
    free(g->ipos);
    free(g);
}
