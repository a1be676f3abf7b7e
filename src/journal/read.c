/* Journal readers: durable records from an offset on.
 *
 * A reader maps the segment it reads (read-only, shared) instead of copying
 * it: records are handed out as pointers into the mapping, valid until the
 * next jr_read on the same reader.  The active segment's mapping grows with
 * mremap as the segment does; the reader holds a reference on the mapped
 * segment so retention cannot free it underneath (an unlinked file stays
 * readable while mapped). */
#include "journal/jr_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct jr_reader {
    jr_stream *s;
    jr__seg *mseg;       /* mapped segment (a reference is held) */
    const uint8_t *map;
    size_t maplen;
};

jr_reader *jr_reader_create(jr_stream *s)
{
    jr_reader *r = ut_calloc(1, sizeof *r);
    r->s = s;
    return r;
}

/* Drop the mapping and its segment reference. */
static void unmap(jr_reader *r)
{
    if (r->map) munmap((void *)r->map, r->maplen);
    r->map = NULL;
    r->maplen = 0;
    if (r->mseg) {
        pthread_mutex_lock(&r->s->mu);
        jr__seg_unref(r->mseg);
        pthread_mutex_unlock(&r->s->mu);
        r->mseg = NULL;
    }
}

void jr_reader_destroy(jr_reader *r)
{
    if (!r) return;
    unmap(r);
    free(r);
}

jr__seg *jr__find_seg(jr_stream *s, uint64_t *from)
{
    int lo = 0, hi = s->nsegs;
    while (lo < hi) { /* first segment with base > from */
        int mid = (lo + hi) / 2;
        if (s->segs[mid]->base <= *from) lo = mid + 1;
        else hi = mid;
    }
    for (int i = lo ? lo - 1 : 0; i < s->nsegs; i++) {
        jr__seg *g = s->segs[i];
        if (*from < g->base) *from = g->base;
        if (*from < g->next) return g;
    }
    return NULL;
}

/* Load sealed segment g (a reference is held, no mutex): verify it, find
 * damaged ranges, build its index.  0 or -1. */
static int load_seg(jr_stream *s, jr__seg *g, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&s->load_mu);
    pthread_mutex_lock(&s->mu);
    jr__seg snap = *g;
    pthread_mutex_unlock(&s->mu);
    if (!snap.loaded) {
        jr__seg tmp;
        char e2[512] = "";
        rc = jr__seg_load(&snap, 0, 1, snap.next, s->o.max_record_bytes, NULL, &tmp, e2,
                          sizeof e2);
        pthread_mutex_lock(&s->mu);
        if (rc == -2) { /* deleted by retention (another process's): nothing to read */
            g->loaded = 1;
            g->next = g->base;
            rc = 0;
        } else if (rc == 0) {
            jr__seg_install(g, &tmp);
            jr__seg_report(s, g, 0);
        } else {
            ut_err(err, errlen, "stream %s: %s", s->name, e2);
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&s->load_mu);
    return rc;
}

/* A descriptor to map g from (mutex held): the active segment's, duplicated,
 * or the sealed segment's file opened; the caller closes it. */
static int map_fd(const jr__seg *g)
{
    return g->fd >= 0 ? fcntl(g->fd, F_DUPFD_CLOEXEC, 0) : open(g->path, O_RDONLY | O_CLOEXEC);
}

/* Map (or extend the mapping of) segment g up to `end` bytes.  The caller
 * holds a reference on g for the duration of the read.  0 or -1. */
static int map_seg(jr_reader *r, jr__seg *g, uint64_t end, char *err, size_t errlen)
{
    if (r->mseg == g && r->maplen >= end) return 0;
    if (r->mseg == g && r->map) {
        void *m = mremap((void *)r->map, r->maplen, (size_t)end, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            return ut_err(err, errlen, "%s: mremap: %s", g->path, strerror(errno));
        r->map = m;
        r->maplen = (size_t)end;
        return 0;
    }
    unmap(r);
    pthread_mutex_lock(&r->s->mu);
    int fd = map_fd(g);
    pthread_mutex_unlock(&r->s->mu);
    if (fd < 0)
        return ut_err(err, errlen, "stream %s: %s: open: %s", r->s->name, g->path,
                      strerror(errno));
    void *m = mmap(NULL, (size_t)end, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) return ut_err(err, errlen, "%s: mmap: %s", g->path, strerror(e));
    (void)madvise(m, (size_t)end, MADV_SEQUENTIAL);
    pthread_mutex_lock(&r->s->mu);
    g->refs++; /* the mapping's own reference */
    pthread_mutex_unlock(&r->s->mu);
    r->mseg = g;
    r->map = m;
    r->maplen = (size_t)end;
    return 0;
}

/* What one read of a segment works with (copied under the mutex). */
typedef struct seg_view {
    jr__seg *g;
    uint64_t end, next, pos;
    const jr__hole *holes;
    size_t nholes;
} seg_view;

/* Find, load if needed, and pin the segment holding *from (no mutex held).
 * Returns 1 with *v filled, 0 at the end, -1 on error. */
static int pin_seg(jr_stream *s, uint64_t *from, seg_view *v, char *err, size_t errlen)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        jr__seg *g = *from < s->visible_next ? jr__find_seg(s, from) : NULL;
        if (!g || *from >= s->visible_next) {
            pthread_mutex_unlock(&s->mu);
            return 0;
        }
        g->refs++;
        if (g->loaded) {
            v->g = g;
            v->end = g->size; /* durable part only */
            v->next = g->next < s->visible_next ? g->next : s->visible_next;
            v->pos = jr__seg_index_find(g, *from);
            v->holes = g->holes;
            v->nholes = g->nholes;
            pthread_mutex_unlock(&s->mu);
            return 1;
        }
        pthread_mutex_unlock(&s->mu);
        int rc = load_seg(s, g, err, errlen);
        pthread_mutex_lock(&s->mu);
        jr__seg_unref(g);
        pthread_mutex_unlock(&s->mu);
        if (rc) return -1;
    }
}

int jr_read(jr_reader *r, uint64_t from, jr_record *out, int max, size_t max_bytes, char *err,
            size_t errlen)
{
    jr_stream *s = r->s;
    seg_view v;
    int got = pin_seg(s, &from, &v, err, errlen);
    if (got <= 0) return got;
    jr__seg *g = v.g;
    uint64_t pos = v.pos, end = v.end, seg_next = v.next;
    size_t hi = 0; /* next damaged range at or after pos */
    while (hi < v.nholes && v.holes[hi].end <= pos) hi++;

    int n = 0, rc = 0;
    size_t used = 0;
    if (map_seg(r, g, end, err, errlen)) {
        rc = -1;
        goto done;
    }
    while (n < max && pos < end) {
        if (hi < v.nholes && pos >= v.holes[hi].pos) { /* skip damaged bytes */
            pos = v.holes[hi++].end;
            continue;
        }
        if (end - pos < JR__REC_HDR) {
            rc = ut_err(err, errlen, "%s: record at byte %llu runs past the end", g->path,
                        (unsigned long long)pos);
            break;
        }
        const uint8_t *h = r->map + pos;
        uint32_t len, crc;
        uint64_t off;
        int64_t ts;
        memcpy(&len, h, 4);
        memcpy(&crc, h + 4, 4);
        memcpy(&off, h + 8, 8);
        memcpy(&ts, h + 16, 8);
        if (len > JR__MAX_RECORD || end - pos - JR__REC_HDR < len) {
            rc = ut_err(err, errlen, "%s: corrupt record length %u at byte %llu", g->path, len,
                        (unsigned long long)pos);
            break;
        }
        if (off >= seg_next) break;
        if (off >= from) {
            if (n > 0 && used + len > max_bytes) break;
            if (jr__rec_crc(len, off, ts, h + JR__REC_HDR, len) != crc) {
                rc = ut_err(err, errlen, "%s: CRC mismatch in record %llu at byte %llu", g->path,
                            (unsigned long long)off, (unsigned long long)pos);
                break;
            }
            out[n].offset = off;
            out[n].ts_us = ts;
            out[n].p = h + JR__REC_HDR;
            out[n].n = len;
            n++;
            used += len;
        }
        pos += JR__REC_HDR + len;
    }
done:
    pthread_mutex_lock(&s->mu);
    jr__seg_unref(g);
    pthread_mutex_unlock(&s->mu);
    return rc ? -1 : n;
}
