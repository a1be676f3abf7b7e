/* Journal readers: durable records from an offset on. */
#include "journal/jr_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct jr_reader {
    jr_stream *s;
    uint8_t *buf;
    size_t cap;
};

jr_reader *jr_reader_create(jr_stream *s)
{
    jr_reader *r = ut_calloc(1, sizeof *r);
    r->s = s;
    r->cap = 1 << 20;
    r->buf = ut_malloc(r->cap);
    return r;
}

void jr_reader_destroy(jr_reader *r)
{
    if (!r) return;
    free(r->buf);
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
    if (seg_next > s->visible_next) seg_next = s->visible_next; /* not yet durable */
    uint64_t pos = jr__seg_index_find(g, from);
    pthread_mutex_unlock(&s->mu);

    int n = 0, rc = 0;
    size_t used = 0, filled = 0, at = 0; /* buf[at..filled) is unparsed */
    uint64_t buf_pos = pos;              /* file position of buf[0] */
    if (max_bytes > r->cap && max_bytes <= JR__MAX_RECORD) {
        r->buf = ut_realloc(r->buf, max_bytes);
        r->cap = max_bytes;
    }
    while (n < max) {
        size_t avail = filled - at, need = JR__REC_HDR;
        uint32_t len = 0;
        if (avail >= JR__REC_HDR) {
            memcpy(&len, r->buf + at, 4);
            if (len > JR__MAX_RECORD) {
                rc = ut_err(err, errlen, "%s: corrupt record length %u at byte %llu", g->path,
                            len, (unsigned long long)(buf_pos + at));
                break;
            }
            need += len;
        }
        if (avail >= need) {
            const uint8_t *h = r->buf + at;
            uint32_t crc;
            uint64_t off;
            int64_t ts;
            memcpy(&crc, h + 4, 4);
            memcpy(&off, h + 8, 8);
            memcpy(&ts, h + 16, 8);
            if (off >= seg_next) break;
            if (jr__rec_crc(len, off, ts, h + JR__REC_HDR, len) != crc) {
                rc = ut_err(err, errlen, "%s: CRC mismatch in record %llu at byte %llu",
                            g->path, (unsigned long long)off, (unsigned long long)(buf_pos + at));
                break;
            }
            if (off >= from) {
                if (n > 0 && used + len > max_bytes) break;
                out[n].offset = off;
                out[n].ts_us = ts;
                out[n].p = h + JR__REC_HDR;
                out[n].n = len;
                n++;
                used += len;
            }
            at += need;
            continue;
        }
        /* Need more bytes.  Records already handed out point into buf, so
         * once there are any, stop here instead of moving the buffer. */
        if (n > 0 || buf_pos + filled >= end) {
            if (n == 0 && avail)
                rc = ut_err(err, errlen, "%s: record at byte %llu runs past the end", g->path,
                            (unsigned long long)(buf_pos + at));
            break;
        }
        memmove(r->buf, r->buf + at, avail);
        buf_pos += at;
        filled = avail;
        at = 0;
        if (need > r->cap) {
            r->buf = ut_realloc(r->buf, need);
            r->cap = need;
        }
        size_t room = r->cap - filled;
        uint64_t left = end - (buf_pos + filled);
        if (room > left) room = (size_t)left;
        ssize_t got = pread(g->fd, r->buf + filled, room, (off_t)(buf_pos + filled));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            rc = ut_err(err, errlen, "%s: read at %llu: %s", g->path,
                        (unsigned long long)(buf_pos + filled),
                        got < 0 ? strerror(errno) : "unexpected end of file");
            break;
        }
        filled += (size_t)got;
    }
    pthread_mutex_lock(&s->mu);
    jr__seg_unref(g);
    pthread_mutex_unlock(&s->mu);
    return rc ? -1 : n;
}
