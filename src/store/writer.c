/* store — streaming writes (store.h: st_writer_*), and the unfinished
 * writes a killed writer leaves (st_uploads, st_upload_abort).
 *
 *   local  a locked temp file beside the target, renamed at the commit
 *   s3     one buffered part: a PUT at the commit when the object fits it,
 *          else a multipart upload started by the first full part; each
 *          full part is uploaded by a thread of its own while the writer
 *          fills the other buffer (so a download feeding the writer never
 *          waits for S3 unless S3 is the slower of the two):
 *
 *            write ──► buf full ──► join the part in flight (its ETag, or
 *                      its error: the writer fails) ──► buf handed to a new
 *                      thread as part N ──► buf = spare
 *            commit ─► join ──► the last part ──► CompleteMultipartUpload
 *            abort ──► join ──► AbortMultipartUpload */
#include "store/st_int.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct st_writer {
    st_store *s;
    char *key;
    uint64_t bytes;    /* written so far */
    int done;          /* committed or aborted */
    /* local */
    int fd;
    char *tmp;
    /* s3 */
    uint8_t *buf;
    size_t len, alloc; /* alloc grows (doubling from 64 KiB) up to cap */
    size_t cap;        /* the part size */
    char upload_id[1024];
    char **etags;
    int nparts;        /* parts uploaded (their ETags in etags) */
    /* the part in flight: uploaded by th from fly while buf fills */
    uint8_t *fly;      /* the other part buffer (allocated at the first part) */
    size_t fly_len;
    int flying;        /* th runs (joined before anything else touches fly) */
    pthread_t th;
    int fly_rc;
    char fly_etag[256], fly_err[512];
};

st_writer *st_writer_open(st_store *s, const char *key, char *err, size_t errlen)
{
    if (st__key_check(key, err, errlen) < 0) return NULL;
    st_writer *w = ut_calloc(1, sizeof *w);
    w->s = s;
    w->key = ut_strdup(key);
    w->fd = -1;
    if (!s->is_s3) {
        w->fd = st__local_tmp_open(s->local, key, &w->tmp, err, errlen);
        if (w->fd < 0) {
            free(w->key);
            free(w);
            return NULL;
        }
        return w;
    }
    uint64_t part = st__s3_part_bytes(s->s3);
    if (part > ST_WRITER_PART) part = ST_WRITER_PART;
    if (part < ST_PART_MIN) part = ST_PART_MIN;
    w->cap = (size_t)part;
    return w;
}

static void *fly_main(void *arg)
{
    st_writer *w = arg;
    w->fly_rc = st__s3_mp_part(w->s->s3, w->key, w->upload_id, w->nparts + 1, w->fly,
                               w->fly_len, w->fly_etag, sizeof w->fly_etag, w->fly_err,
                               sizeof w->fly_err);
    return NULL;
}

/* The uploaded part's ETag kept.  0, or -1 with its error. */
static int fly_done(st_writer *w, char *err, size_t errlen)
{
    if (w->fly_rc < 0) return ut_err(err, errlen, "%s", w->fly_err);
    w->etags = ut_realloc(w->etags, (size_t)(w->nparts + 1) * sizeof *w->etags);
    w->etags[w->nparts++] = ut_strdup(w->fly_etag);
    return 0;
}

/* Wait for the part in flight, if any.  0, or -1 with its error. */
static int fly_join(st_writer *w, char *err, size_t errlen)
{
    if (!w->flying) return 0;
    pthread_join(w->th, NULL);
    w->flying = 0;
    return fly_done(w, err, errlen);
}

/* Hand the buffered part to an upload thread (starting the multipart upload
 * first) and go on in the other buffer.  0 / -1. */
static int flush_part(st_writer *w, char *err, size_t errlen)
{
    st_s3 *s3 = w->s->s3;
    if (fly_join(w, err, errlen) < 0) return -1;
    if (!w->upload_id[0] &&
        st__s3_mp_create(s3, w->key, w->upload_id, sizeof w->upload_id, err, errlen) < 0) {
        w->upload_id[0] = 0;
        return -1;
    }
    if (w->nparts == ST_PARTS_MAX)
        return ut_err(err, errlen, "put %s: more than %d parts of %zu bytes", w->key,
                      ST_PARTS_MAX, w->cap);
    if (!w->fly) w->fly = ut_malloc(w->cap);
    uint8_t *t = w->fly;
    w->fly = w->buf, w->fly_len = w->len;
    w->buf = t, w->alloc = w->cap, w->len = 0;
    if (pthread_create(&w->th, NULL, fly_main, w) != 0) { /* upload it here instead */
        fly_main(w);
        return fly_done(w, err, errlen);
    }
    w->flying = 1;
    return 0;
}

static int write_fd(int fd, const void *p, size_t n)
{
    for (const char *c = p; n;) {
        ssize_t got = write(fd, c, n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return -1;
        c += got;
        n -= (size_t)got;
    }
    return 0;
}

int st_writer_write(st_writer *w, const void *p, size_t n, char *err, size_t errlen)
{
    if (w->done) return ut_err(err, errlen, "put %s: the writer is closed", w->key);
    int rc = 0;
    if (!w->s->is_s3) {
        if (write_fd(w->fd, p, n) < 0)
            rc = ut_err(err, errlen, "put %s: write %s: %s", w->key, w->tmp, strerror(errno));
    } else {
        const uint8_t *b = p;
        for (size_t left = n; left && rc == 0;) {
            if (w->len + left > w->alloc && w->alloc < w->cap) { /* small objects stay small */
                size_t a = w->alloc ? w->alloc : 64 * 1024;
                while (a < w->len + left && a < w->cap) a *= 2;
                w->alloc = a < w->cap ? a : w->cap;
                w->buf = ut_realloc(w->buf, w->alloc);
            }
            size_t k = w->cap - w->len < left ? w->cap - w->len : left;
            memcpy(w->buf + w->len, b, k);
            w->len += k, b += k, left -= k;
            if (w->len == w->cap && left) rc = flush_part(w, err, errlen);
        }
        /* a full part is sent once more bytes come: the last one may be
         * the whole object (one PUT) */
    }
    if (rc < 0) {
        char aerr[256];
        (void)st_writer_abort(w, aerr, sizeof aerr);
        return -1;
    }
    w->bytes += n;
    return 0;
}

static int commit_s3(st_writer *w, char *err, size_t errlen)
{
    if (!w->upload_id[0])
        return st__s3_put(w->s->s3, w->key, -1, w->buf ? (const void *)w->buf : "", w->len, err,
                          errlen);
    if (w->len && flush_part(w, err, errlen) < 0) return -1;
    if (fly_join(w, err, errlen) < 0) return -1;
    return st__s3_mp_complete(w->s->s3, w->key, w->upload_id, w->etags, w->nparts, err,
                              errlen);
}

int st_writer_commit(st_writer *w, uint64_t *size, char *err, size_t errlen)
{
    if (w->done) return ut_err(err, errlen, "put %s: the writer is closed", w->key);
    int rc;
    if (!w->s->is_s3) {
        rc = st__local_tmp_place(w->s->local, w->key, w->fd, w->tmp, err, errlen);
        w->fd = -1; /* closed (and the temp file gone unless renamed) */
    } else {
        rc = commit_s3(w, err, errlen);
    }
    if (rc < 0) {
        char aerr[256];
        (void)st_writer_abort(w, aerr, sizeof aerr);
        return -1;
    }
    w->done = 1;
    if (size) *size = w->bytes;
    return 0;
}

int st_writer_abort(st_writer *w, char *err, size_t errlen)
{
    if (w->done) return 0;
    w->done = 1;
    int rc = 0;
    if (!w->s->is_s3) {
        if (w->fd >= 0) close(w->fd);
        w->fd = -1;
        if (w->tmp && unlink(w->tmp) < 0 && errno != ENOENT)
            rc = ut_err(err, errlen, "abort %s: unlink %s: %s", w->key, w->tmp, strerror(errno));
    } else if (w->upload_id[0]) {
        char ferr[8];
        (void)fly_join(w, ferr, sizeof ferr); /* the part's own failure does not matter now */
        rc = st__s3_mp_abort(w->s->s3, w->key, w->upload_id, err, errlen);
    }
    return rc;
}

void st_writer_destroy(st_writer *w)
{
    if (!w) return;
    char err[256];
    (void)st_writer_abort(w, err, sizeof err); /* (no-op once committed) */
    for (int i = 0; i < w->nparts; i++) free(w->etags[i]);
    free(w->etags);
    free(w->buf);
    free(w->fly);
    free(w->tmp);
    free(w->key);
    free(w);
}

uint64_t st_writer_bytes(const st_writer *w) { return w->bytes; }

int st_uploads(st_store *s, const char *prefix, st_upload_cb cb, void *ctx, char *err,
               size_t errlen)
{
    if (!prefix) prefix = "";
    if (st__prefix_check(prefix, err, errlen) < 0) return -1;
    return s->is_s3 ? st__s3_uploads(s->s3, prefix, cb, ctx, err, errlen)
                    : st__local_uploads(s->local, prefix, cb, ctx, err, errlen);
}

int st_upload_abort(st_store *s, const char *key, const char *id, char *err, size_t errlen)
{
    assert(id);
    if (!s->is_s3) return st__local_tmp_remove(s->local, id, err, errlen);
    if (st__key_check(key, err, errlen) < 0) return -1;
    return st__s3_mp_abort(s->s3, key, id, err, errlen);
}
