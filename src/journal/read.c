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

/* Pick the segment holding `from` (mutex held): the first one whose records
 * end after it.  Adjusts *from forward past retention gaps. */
static jr__seg *find_seg(jr_stream *s, uint64_t *from)
{
    for (int i = 0; i < s->nsegs; i++) {
        jr__seg *g = s->segs[i];
        if (*from < g->base) *from = g->base;
        if (*from < g->next) return g;
    }
    return NULL;
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
    void *m = mmap(NULL, (size_t)end, PROT_READ, MAP_SHARED, g->fd, 0);
    if (m == MAP_FAILED) return ut_err(err, errlen, "%s: mmap: %s", g->path, strerror(errno));
    (void)madvise(m, (size_t)end, MADV_SEQUENTIAL);
    pthread_mutex_lock(&r->s->mu);
    g->refs++; /* the mapping's own reference */
    pthread_mutex_unlock(&r->s->mu);
    r->mseg = g;
    r->map = m;
    r->maplen = (size_t)end;
    return 0;
}

int jr_read(jr_reader *r, uint64_t from, jr_record *out, int max, size_t max_bytes, char *err,
            size_t errlen)
{
    jr_stream *s = r->s;
    pthread_mutex_lock(&s->mu);
    if (from >= s->visible_next) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    jr__seg *g = find_seg(s, &from);
    if (!g) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    g->refs++;
    uint64_t end = g->size, seg_next = g->next; /* durable part only */
    if (seg_next > s->visible_next) seg_next = s->visible_next;
    uint64_t pos = jr__seg_index_find(g, from);
    pthread_mutex_unlock(&s->mu);

    int n = 0, rc = 0;
    size_t used = 0;
    if (map_seg(r, g, end, err, errlen)) {
        rc = -1;
        goto done;
    }
    while (n < max && pos < end) {
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
