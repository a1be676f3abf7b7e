/* Journal streams: open and recovery, group-committed appends, segment roll,
 * retention.
 *
 * Group commit (as LevelDB's writer queue): each jr_append enqueues a waiter.
 * The waiter at the head of the queue is the leader: it takes the waiters
 * behind it (up to max_batch_bytes), encodes all their records into one
 * buffer, writes it with one pwrite and syncs once, then wakes them all with
 * their offsets.  While the leader writes, new callers queue up behind it and
 * form the next group.  Offsets become visible to readers only after the
 * sync, so a reader never sees a record that a crash could take back.  Between
 * the sync and that, the leader rewrites the watermark (synced.c): recovery
 * cuts what lies past it, so a batch never acknowledged is not kept.
 */
#include "journal/group_int.h"
#include "log/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const uint64_t jr_sync_bucket_us[JR_SYNC_BUCKETS - 1] = {100,   250,   500,    1000,
                                                         2500,  5000,  10000,  25000,
                                                         50000, 100000, 250000};

void jr_opts_init(jr_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fsync = JR_FSYNC_ALWAYS;
    o->batch_ms = 5;
    o->segment_bytes = (uint64_t)64 << 20;
    o->retention_ms = (int64_t)7 * 24 * 3600 * 1000;
    o->max_record_bytes = 1u << 20;
    o->max_batch_bytes = (uint64_t)8 << 20;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void seg_path(const jr_stream *s, uint64_t base, char *out, size_t n)
{
    snprintf(out, n, "%s/%020" PRIu64 ".log", s->dir, base);
}

static void add_seg(jr_stream *s, jr__seg *g)
{
    if (s->nsegs == s->capsegs) {
        s->capsegs = s->capsegs ? s->capsegs * 2 : 16;
        s->segs = ut_realloc(s->segs, (size_t)s->capsegs * sizeof *s->segs);
    }
    s->segs[s->nsegs++] = g;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Log what loading segment g found (damaged ranges, torn tail, header) and
 * add it to the stream's counters (mutex held or not yet shared). */
void jr__seg_report(jr_stream *s, const jr__seg *g, int active)
{
    if (g->bad_header)
        lg_error("journal", "stream %s: %s: damaged segment header (base offset taken from the "
                 "file name%s)", s->name, g->path, active && !s->o.read_only ? ", repaired" : "");
    for (size_t i = 0; i < g->nholes; i++) {
        const jr__hole *h = &g->holes[i];
        lg_error("journal", "stream %s: %s: %" PRIu64 " damaged bytes at %" PRIu64 "..%" PRIu64
                 " skipped; records %" PRIu64 "..%" PRIu64 " lost, the records after them kept",
                 s->name, g->path, h->end - h->pos, h->pos, h->end, h->off_from, h->off_to - 1);
        s->lost += h->off_to - h->off_from;
    }
    s->damaged += g->damaged;
    if (!g->torn || (active && s->o.read_only)) return; /* a writer may be mid-record */
    if (active && g->cut_recs) {
        s->recovered += g->torn;
        lg_warn("journal", "stream %s: dropped %" PRIu64 " bytes at %" PRIu64 "..%" PRIu64
                " of %s, past its synced position %" PRIu64 ": records %" PRIu64 "..%" PRIu64
                " in them were never acknowledged (a crash before their sync completed; "
                "clients retry them); the segment ends at offset %" PRIu64, s->name, g->torn,
                g->size, g->size + g->torn, g->path, g->synced, g->cut_first, g->cut_last,
                g->next);
    } else if (active) {
        s->recovered += g->torn;
        lg_warn("journal", "stream %s: dropped %" PRIu64 " bytes of torn tail at %" PRIu64
                "..%" PRIu64 " from %s (no valid record after them; the segment ends at offset %"
                PRIu64 ")", s->name, g->torn, g->size, g->size + g->torn, g->path, g->next);
    } else {
        s->damaged += g->torn;
        lg_error("journal", "stream %s: %s has %" PRIu64 " unreadable bytes after offset %" PRIu64
                 "; they are skipped", s->name, g->path, g->torn, g->next);
    }
}

/* Move the fields a load computed from tmp into g (mutex held). */
void jr__seg_install(jr__seg *g, jr__seg *tmp)
{
    g->next = tmp->next;
    g->size = tmp->size;
    g->fd = tmp->fd;
    g->mtime_ms = tmp->mtime_ms;
    g->ioff = tmp->ioff;
    g->ipos = tmp->ipos;
    g->nidx = tmp->nidx;
    g->capidx = tmp->capidx;
    g->last_idx_pos = tmp->last_idx_pos;
    g->holes = tmp->holes;
    g->nholes = tmp->nholes;
    g->damaged = tmp->damaged;
    g->torn = tmp->torn;
    g->bad_header = tmp->bad_header;
    g->synced = tmp->synced;
    g->cut_recs = tmp->cut_recs;
    g->cut_first = tmp->cut_first;
    g->cut_last = tmp->cut_last;
    g->loaded = 1;
}

/* Stat and load the active segment at path; add it to the list.  `recover`:
 * a segment found at open, recovered by the watermark's rule (a new one is
 * empty). */
static int open_active(jr_stream *s, const char *path, uint64_t base, int recover, char *err,
                       size_t errlen)
{
    jr__seg *g = jr__seg_stat(path, base, base, err, errlen), tmp;
    if (!g) return -1;
    jr__synced sy = {0, 0};
    if (recover) jr__wm_recovery(s, path, base, g->size, &sy); /* before the segment is read */
    if (jr__seg_load(g, 1, s->o.read_only, UINT64_MAX, s->o.max_record_bytes, &sy, &tmp, err,
                     errlen)) {
        if (!err[0]) ut_err(err, errlen, "%s: gone", path);
        jr__seg_unref(g);
        return -1;
    }
    jr__seg_install(g, &tmp);
    jr__seg_report(s, g, 1);
    add_seg(s, g);
    return 0;
}

/* The segment files' base offsets, sorted.  *nb gets the count. */
static int list_segments(jr_stream *s, uint64_t **bases, size_t *nb, char *err, size_t errlen)
{
    DIR *d = opendir(s->dir);
    if (!d) return ut_err(err, errlen, "stream %s: cannot open %s: %s", s->name, s->dir,
                          strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    *bases = NULL;
    *nb = 0;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strlen(n) != 24 || strcmp(n + 20, ".log")) continue;
        char *end;
        uint64_t b = strtoull(n, &end, 10);
        if (end != n + 20) continue;
        if (*nb == cap) {
            cap = cap ? cap * 2 : 16;
            *bases = ut_realloc(*bases, cap * sizeof **bases);
        }
        (*bases)[(*nb)++] = b;
    }
    closedir(d);
    if (*nb) qsort(*bases, *nb, sizeof **bases, cmp_u64);
    return 0;
}

/* Find the segment files.  Sealed ones are only stat'ed (loaded when read);
 * the last one is active: loaded (verified, torn tail cut) now. */
static int load_segments(jr_stream *s, char *err, size_t errlen)
{
    uint64_t *bases = NULL;
    size_t nb = 0;
    if (list_segments(s, &bases, &nb, err, errlen)) return -1;
    int rc = 0;
    for (size_t i = 0; i < nb && rc == 0; i++) {
        char path[4096];
        seg_path(s, bases[i], path, sizeof path);
        if (i + 1 < nb) {
            jr__seg *g = jr__seg_stat(path, bases[i], bases[i + 1], err, errlen);
            if (!g) rc = -1;
            else {
                g->sealed = 1;
                add_seg(s, g);
            }
            continue;
        }
        char e2[512];
        rc = open_active(s, path, bases[i], 1, e2, sizeof e2);
        if (rc && s->o.read_only && i > 0) {
            rc = 0; /* a segment the server is creating right now: read up to the one before */
            s->segs[s->nsegs - 1]->next = bases[i];
        } else if (rc) {
            ut_err(err, errlen, "stream %s: %s", s->name, e2);
        }
    }
    free(bases);
    return rc;
}

static int create_segment(jr_stream *s, uint64_t base, char *err, size_t errlen)
{
    char path[4096];
    seg_path(s, base, path, sizeof path);
    int rc = jr__seg_create(path, base, err, errlen);
    if (rc) return rc; /* -2: no space */
    if (jr__fsync_dir(s->dir)) {
        int e = errno;
        ut_err(err, errlen, "%s: fsync of %s: %s", path, s->dir, jr__strerror(e));
        return jr__nospace(e) ? -2 : -1;
    }
    return open_active(s, path, base, 0, err, errlen);
}

/* The highest position a consumer of s has recorded (cursors and groups)
 * into *top.  0, or -1 with a message: not knowing it could reuse offsets. */
static int consumers_floor(jr_stream *s, uint64_t *top, char *err, size_t errlen)
{
    char dir[4200];
    *top = 0;
    snprintf(dir, sizeof dir, "%s/cursors", s->dir);
    DIR *d = opendir(dir);
    if (!d && errno != ENOENT)
        return ut_err(err, errlen, "stream %s: cannot list %s: %s", s->name, dir, strerror(errno));
    struct dirent *e;
    while (d && (e = readdir(d))) {
        uint64_t off;
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp")) continue;
        if (jr_cursor_get(s, e->d_name, &off, err, errlen) == 0 && off > *top) *top = off;
    }
    if (d) closedir(d);
    snprintf(dir, sizeof dir, "%s/groups", s->dir);
    d = opendir(dir);
    if (!d && errno != ENOENT)
        return ut_err(err, errlen, "stream %s: cannot list %s: %s", s->name, dir, strerror(errno));
    int rc = 0;
    while (d && rc == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char path[4500], e2[512];
        uint64_t gtop;
        if (e->d_name[0] == '.' || n < 5 || strcmp(e->d_name + n - 4, ".log")) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        if (jr__glog_top(path, &gtop, e2, sizeof e2))
            rc = ut_err(err, errlen, "stream %s: %s", s->name, e2);
        else if (gtop > *top) *top = gtop;
    }
    if (d) closedir(d);
    if (rc) return -1;
    return 0;
}

static int roll(jr_stream *s, char *err, size_t errlen);

/* Raise the next offset to `next` (mutex held, no append in flight).  The
 * active segment is sealed and a new one starts at `next`, so the skipped
 * offsets lie between two segments: readers step over them (find_seg) and
 * jr_stream_wait blocks for the records at `next` on.  0 or -1. */
static int reserve_locked(jr_stream *s, uint64_t next, const char *who, char *err,
                          size_t errlen)
{
    if (next <= s->next_offset) return 0;
    uint64_t old = s->next_offset;
    s->next_offset = next;
    if (roll(s, err, errlen)) {
        s->next_offset = old;
        return -1;
    }
    lg_error("journal", "stream %s: %s recorded position %" PRIu64 " but the journal ends at %"
             PRIu64 " (acknowledged records were lost to damage): new records get offsets from %"
             PRIu64 " on, none is reused", s->name, who, next, old, next);
    if (!s->reserved_from) s->reserved_from = old;
    s->visible_next = next;
    pthread_cond_broadcast(&s->data_cv);
    return 0;
}

int jr_stream_reserve(jr_stream *s, uint64_t next, const char *who, char *err, size_t errlen)
{
    if (s->o.read_only) return ut_err(err, errlen, "stream %s is open read-only", s->name);
    pthread_mutex_lock(&s->mu);
    while (s->qhead) { /* no leader may be using next_offset */
        pthread_mutex_unlock(&s->mu);
        usleep(1000);
        pthread_mutex_lock(&s->mu);
    }
    int rc = reserve_locked(s, next, who, err, errlen);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

jr_stream *jr_stream_open(const char *dir, const char *name, const jr_opts *opts, char *err,
                          size_t errlen)
{
    jr_stream *s = NULL;
    if (ut_name_check(UT_NAME_JOURNAL, name, name ? strlen(name) : 0, err, errlen)) goto fail;
    s = ut_calloc(1, sizeof *s);
    s->wm_fd = -1;
    s->boot = jr__boot_id();
    s->name = ut_strdup(name);
    if (opts) s->o = *opts;
    else jr_opts_init(&s->o);
    if (!s->o.max_record_bytes || s->o.max_record_bytes > JR__MAX_RECORD)
        s->o.max_record_bytes = JR__MAX_RECORD;
    if (!s->o.segment_bytes) s->o.segment_bytes = (uint64_t)64 << 20;
    if (!s->o.max_batch_bytes) s->o.max_batch_bytes = (uint64_t)8 << 20;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->load_mu, NULL);
    pthread_cond_init(&s->data_cv, NULL);
    size_t n = strlen(dir) + strlen(name) + 2;
    s->dir = ut_malloc(n);
    snprintf(s->dir, n, "%s/%s", dir, name);
    if (!s->o.read_only && mkdir(dir, 0755) && errno != EEXIST) {
        ut_err(err, errlen, "stream %s: cannot create %s: %s", name, dir, strerror(errno));
        goto fail;
    }
    if (s->o.read_only) {
        struct stat st;
        if (stat(s->dir, &st)) {
            ut_err(err, errlen, "stream %s: no such stream in %s", name, dir);
            goto fail;
        }
    } else if (mkdir(s->dir, 0755) && errno != EEXIST) {
        ut_err(err, errlen, "stream %s: cannot create %s: %s", name, s->dir, strerror(errno));
        goto fail;
    }
    if (load_segments(s, err, errlen)) goto fail;
    if (!s->nsegs && s->o.read_only) {
        ut_err(err, errlen, "stream %s: no segments in %s", name, s->dir);
        goto fail;
    }
    if (!s->nsegs && create_segment(s, 0, err, errlen)) goto fail;
    s->next_offset = s->visible_next = s->segs[s->nsegs - 1]->next;
    uint64_t floor = 0;
    if (!s->o.read_only) {
        if (reserve_locked(s, s->wm_next, "the synced watermark", err, errlen)) goto fail;
        if (consumers_floor(s, &floor, err, errlen)) goto fail;
        if (reserve_locked(s, floor, "a consumer (cursor or group)", err, errlen)) goto fail;
        /* The recovered end is the synced point.  If the watermark cannot be
         * written (disk full), the stream still opens for reading: every group
         * commit writes it first and fails while it cannot, so nothing is
         * acknowledged past the file as it stands. */
        jr__seg *a = s->segs[s->nsegs - 1];
        char e2[UT_ERRMSG_MAX];
        if (jr__wm_write(s, a->base, a->size, s->next_offset, JR__WM_OPEN, 1, e2, sizeof e2))
            lg_warn("journal", "%s (appends fail until it can be written)", e2);
        s->wm_live = 1;
    }
    return s;
fail:
    jr_stream_close(s);
    return NULL;
}

void jr_stream_close(jr_stream *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    while (s->qhead) { /* let in-flight group commits finish */
        pthread_mutex_unlock(&s->mu);
        usleep(1000);
        pthread_mutex_lock(&s->mu);
    }
    pthread_cond_broadcast(&s->data_cv);
    for (int i = 0; i < s->nsegs; i++) {
        jr__seg *g = s->segs[i];
        if (!g->sealed && g->fd >= 0 && fdatasync(g->fd) == 0 && s->wm_live && s->wm_fd >= 0) {
            char e2[512]; /* a clean close: recovery keeps what follows (not ours) */
            if (jr__wm_write(s, g->base, g->size, s->next_offset, JR__WM_CLOSED, 1, e2,
                             sizeof e2))
                lg_warn("journal", "%s (the next open recovers as after a crash)", e2);
        }
        jr__seg_unref(g);
    }
    if (s->wm_fd >= 0) close(s->wm_fd);
    pthread_mutex_unlock(&s->mu);
    free(s->segs);
    ut_buf_free(&s->wbuf);
    pthread_cond_destroy(&s->data_cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->load_mu);
    free(s->dir);
    free(s->name);
    free(s);
}

const char *jr_stream_name(const jr_stream *s)
{
    return s->name;
}

uint64_t jr_stream_recovered_bytes(const jr_stream *s)
{
    return s->recovered;
}

/* ---- retention ---------------------------------------------------------------- */

static int retain_locked(jr_stream *s, int64_t now)
{
    int deleted = 0;
    uint64_t total = 0;
    for (int i = 0; i < s->nsegs; i++) total += s->segs[i]->size;
    while (s->nsegs > 1) {
        jr__seg *g = s->segs[0];
        int old = s->o.retention_ms > 0 && g->mtime_ms < now - s->o.retention_ms;
        int big = s->o.retention_bytes > 0 && total > s->o.retention_bytes;
        if (!old && !big) break;
        total -= g->size;
        unlink(g->path);
        g->deleted = 1;
        memmove(s->segs, s->segs + 1, (size_t)(s->nsegs - 1) * sizeof *s->segs);
        s->nsegs--;
        jr__seg_unref(g);
        deleted++;
    }
    if (deleted) (void)jr__fsync_dir(s->dir);
    return deleted;
}

int jr_stream_retain(jr_stream *s, int64_t now)
{
    if (s->o.read_only) return 0;
    pthread_mutex_lock(&s->mu);
    int n = retain_locked(s, now);
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- append --------------------------------------------------------------------- */

/* Seal the active segment and start a new one at next_offset (mutex held).
 * 0, or -1 with a message, -2 when the disk is full. */
static int roll(jr_stream *s, char *err, size_t errlen)
{
    jr__seg *a = s->segs[s->nsegs - 1];
    char e2[UT_ERRMSG_MAX];
    int rc = 0;
    if (fdatasync(a->fd)) {
        int e = errno;
        ut_err(e2, sizeof e2, "%s: fdatasync: %s", a->path, jr__strerror(e));
        rc = jr__nospace(e) ? -2 : -1;
    } else {
        a->sealed = 1;
        rc = create_segment(s, s->next_offset, e2, sizeof e2);
        if (rc) a->sealed = 0;
    }
    if (rc) {
        ut_err(err, errlen, "stream %s: cannot start a new segment: %s", s->name, e2);
        return rc;
    }
    close(a->fd); /* sealed segments keep no descriptor: readers open them to map */
    a->fd = -1;
    /* The watermark follows the new segment (synced: a power loss soon after
     * still finds it; rolls are rare).  If this fails the file still names the
     * old segment, so recovery keeps every valid record of the new one; the
     * next group commit writes it again and fails if it cannot. */
    jr__seg *n = s->segs[s->nsegs - 1];
    if (jr__wm_write(s, n->base, n->size, s->next_offset, JR__WM_OPEN,
                     s->o.fsync != JR_FSYNC_NEVER, e2, sizeof e2))
        lg_warn("journal", "%s", e2);
    retain_locked(s, now_ms());
    return 0;
}

/* Write the group [head .. last] (leader; called without the mutex except
 * where it takes it).  Returns 0 or -1 with a message. */
static int write_group(jr_stream *s, jr__waiter *head, jr__waiter *last, uint64_t *nrec,
                       char *err, size_t errlen)
{
    ut_buf *b = &s->wbuf;
    ut_buf_reset(b);
    uint64_t off = s->next_offset;
    for (jr__waiter *w = head;; w = w->next) {
        w->first = off;
        for (int i = 0; i < w->n; i++)
            jr__encode_record(b, off++, w->ts_us, w->recs[i].p, (uint32_t)w->recs[i].n);
        if (w == last) break;
    }
    *nrec = off - s->next_offset;
    pthread_mutex_lock(&s->mu);
    jr__seg *a = s->segs[s->nsegs - 1];
    int rc = 0;
    if (a->size > JR__SEG_HDR && a->size + b->len > s->o.segment_bytes) {
        rc = roll(s, err, errlen);
        a = s->segs[s->nsegs - 1];
    }
    pthread_mutex_unlock(&s->mu);
    if (rc) return rc; /* -2: no space for the new segment */
    /* Only the leader writes, so a->size is stable here. */
    size_t done = 0;
    while (done < b->len) {
        ssize_t r = pwrite(a->fd, b->p + done, b->len - done, (off_t)(a->size + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            if (ftruncate(a->fd, (off_t)a->size)) { /* drop the partial write */
            }
            ut_err(err, errlen, "stream %s: %s: write: %s", s->name, a->path, jr__strerror(e));
            return jr__nospace(e) ? -2 : -1; /* -2: jr_append_e says UT_ENOSPACE */
        }
        done += (size_t)r;
    }
    uint64_t t0 = 0, t1 = 0;
    if (s->o.fsync != JR_FSYNC_NEVER) {
        t0 = ut_now_ns();
        if (fdatasync(a->fd)) {
            int e = errno;
            if (ftruncate(a->fd, (off_t)a->size)) {
            }
            ut_err(err, errlen, "stream %s: %s: fdatasync: %s", s->name, a->path,
                   jr__strerror(e));
            return jr__nospace(e) ? -2 : -1;
        }
        t1 = ut_now_ns();
    }
    /* The records are synced (or, fsync never, written: its ack point): say so
     * before anyone sees or is told of them; recovery cuts what lies past it. */
    rc = jr__wm_write(s, a->base, a->size + b->len, s->next_offset + *nrec, JR__WM_OPEN, 0, err,
                      errlen);
    if (rc) {
        if (ftruncate(a->fd, (off_t)a->size)) {
        }
        return rc; /* -2: no space (a copy-on-write file system) */
    }
    pthread_mutex_lock(&s->mu);
    if (t1) {
        s->syncs++;
        s->sync_ns += t1 - t0;
        s->last_sync_ns = t1;
        uint64_t us = (t1 - t0) / 1000;
        int bkt = 0;
        while (bkt < JR_SYNC_BUCKETS - 1 && us > jr_sync_bucket_us[bkt]) bkt++;
        s->sync_hist[bkt]++;
    }
    uint64_t pos = a->size, o = s->next_offset;
    for (size_t p = 0; p < b->len;) { /* index the new records */
        uint32_t len;
        memcpy(&len, b->p + p, 4);
        jr__seg_index_add(a, o++, pos + p);
        p += JR__REC_HDR + len;
    }
    a->size += b->len;
    a->next = o;
    a->mtime_ms = now_ms();
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* jr_append, returning -2 when the group failed for want of disk space. */
static int append_rc(jr_stream *s, const jr_iov *recs, int n, int64_t ts_us, uint64_t *first,
                     char *err, size_t errlen)
{
    if (s->o.read_only) return ut_err(err, errlen, "stream %s is open read-only", s->name);
    if (n <= 0) return ut_err(err, errlen, "stream %s: nothing to append", s->name);
    for (int i = 0; i < n; i++)
        if (recs[i].n > s->o.max_record_bytes)
            return ut_err(err, errlen, "stream %s: record %d is %zu bytes, over the %u-byte cap",
                          s->name, i, recs[i].n, s->o.max_record_bytes);
    jr__waiter me;
    memset(&me, 0, sizeof me);
    me.recs = recs;
    me.n = n;
    me.ts_us = ts_us;
    pthread_cond_init(&me.cv, NULL);
    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        pthread_cond_destroy(&me.cv);
        return ut_err(err, errlen, "stream %s is closing", s->name);
    }
    if (s->qtail) s->qtail->next = &me;
    else s->qhead = &me;
    s->qtail = &me;
    while (!me.done && s->qhead != &me) pthread_cond_wait(&me.cv, &s->mu);
    if (!me.done) {
        /* Leader.  In batch mode, wait out the sync interval so the group grows. */
        if (s->o.fsync == JR_FSYNC_BATCH && s->o.batch_ms > 0 && s->last_sync_ns) {
            uint64_t due = s->last_sync_ns + (uint64_t)s->o.batch_ms * 1000000ull;
            uint64_t now = ut_now_ns();
            if (due > now) {
                pthread_mutex_unlock(&s->mu);
                struct timespec ts = {0, (long)(due - now)};
                if (ts.tv_nsec >= 1000000000L) ts.tv_sec = ts.tv_nsec / 1000000000L,
                                                ts.tv_nsec %= 1000000000L;
                nanosleep(&ts, NULL);
                pthread_mutex_lock(&s->mu);
            }
        }
        jr__waiter *last = &me;
        uint64_t bytes = 0;
        for (int i = 0; i < me.n; i++) bytes += JR__REC_HDR + me.recs[i].n;
        while (last->next) {
            uint64_t nb = 0;
            for (int i = 0; i < last->next->n; i++) nb += JR__REC_HDR + last->next->recs[i].n;
            if (bytes + nb > s->o.max_batch_bytes) break;
            bytes += nb;
            last = last->next;
        }
        pthread_mutex_unlock(&s->mu);
        uint64_t nrec = 0;
        char gerr[UT_ERRMSG_MAX] = "";
        int rc = write_group(s, &me, last, &nrec, gerr, sizeof gerr);
        pthread_mutex_lock(&s->mu);
        if (rc == 0) {
            s->next_offset += nrec;
            s->visible_next = s->next_offset;
            s->appends++;
            s->records += nrec;
            pthread_cond_broadcast(&s->data_cv);
        }
        jr__waiter *w = &me, *stop = last->next;
        while (w != stop) {
            jr__waiter *nx = w->next;
            w->rc = rc;
            if (rc) snprintf(w->err, sizeof w->err, "%s", gerr);
            w->done = 1;
            if (w != &me) pthread_cond_signal(&w->cv);
            w = nx;
        }
        s->qhead = stop;
        if (!stop) s->qtail = NULL;
        else pthread_cond_signal(&stop->cv);
    }
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&me.cv);
    if (me.rc) {
        ut_err(err, errlen, "%s", me.err);
        return me.rc;
    }
    *first = me.first;
    return 0;
}

int jr_append(jr_stream *s, const jr_iov *recs, int n, int64_t ts_us, uint64_t *first, char *err,
              size_t errlen)
{
    return append_rc(s, recs, n, ts_us, first, err, errlen) ? -1 : 0;
}

int jr_append_e(jr_stream *s, const jr_iov *recs, int n, int64_t ts_us, uint64_t *first,
                ut_error *e)
{
    int rc = append_rc(s, recs, n, ts_us, first, e ? e->msg : NULL, e ? sizeof e->msg : 0);
    if (rc && e) e->kind = rc == -2 ? UT_ENOSPACE : UT_EIO;
    return rc ? -1 : 0;
}

void jr_stream_info(jr_stream *s, jr_info *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    out->first_offset = s->nsegs ? s->segs[0]->base : 0;
    out->next_offset = s->visible_next;
    for (int i = 0; i < s->nsegs; i++) out->bytes += s->segs[i]->size;
    out->segments = s->nsegs;
    out->appends = s->appends;
    out->syncs = s->syncs;
    out->sync_ns_total = s->sync_ns;
    memcpy(out->sync_hist, s->sync_hist, sizeof out->sync_hist);
    out->records_appended = s->records;
    out->recovered_bytes = s->recovered;
    out->damaged_bytes = s->damaged;
    out->lost_records = s->lost;
    out->reserved_from = s->reserved_from;
    pthread_mutex_unlock(&s->mu);
}

/* Is a record at or after `offset` durable (mutex held)?  An offset in a gap
 * between segments (retention, offsets skipped by a reserve) counts as the
 * first offset after the gap, so a reader there waits instead of spinning. */
static int readable(jr_stream *s, uint64_t offset)
{
    (void)jr__find_seg(s, &offset);
    return s->visible_next > offset;
}

int jr_stream_wait(jr_stream *s, uint64_t offset, int timeout_ms)
{
    pthread_mutex_lock(&s->mu);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    if (timeout_ms >= 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    uint64_t wakes = s->wakes;
    while (!readable(s, offset) && !s->closing && s->wakes == wakes) {
        if (timeout_ms < 0) pthread_cond_wait(&s->data_cv, &s->mu);
        else if (pthread_cond_timedwait(&s->data_cv, &s->mu, &dl) == ETIMEDOUT) break;
    }
    rc = readable(s, offset);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void jr_stream_wake(jr_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->wakes++;
    pthread_cond_broadcast(&s->data_cv);
    pthread_mutex_unlock(&s->mu);
}
