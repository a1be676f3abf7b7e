/* Consumer-group op log: <stream>/groups/<group>.log.
 *
 *   +--------------+
 *   | "SLJGRP01"   |   header, 8 bytes
 *   +--------------+
 *   | op | op | ...
 *
 *   op
 *   +----------+----------+---------+--------------------+
 *   | len le32 | crc le32 | type u8 | body (len - 1)     |
 *   +----------+----------+---------+--------------------+
 *   crc = CRC-32C over the len field, type and body.  The first op is
 *   CREATE.  Replay applies ops in order (group.c, jr__g_apply); an op that is
 *   incomplete or fails its CRC ends the valid part, and the file is cut back
 *   to it (a torn tail from a crash mid-write).  Each state-changing call
 *   writes all of its ops with one write() and syncs before returning.
 *
 * Compaction rewrites the log as a snapshot (CREATE, COUNTERS, one CONSUMER
 * per live consumer, PEL chunks) into <group>.log.tmp, syncs it, renames it
 * over the log and syncs the directory, once the log is more than twice the
 * size of the snapshot and over compact_min_bytes.
 */
#include "journal/group_int.h"
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

size_t jr__gop_begin(ut_buf *b, int type)
{
    size_t pos = b->len;
    ut_buf_put_le32(b, 0);
    ut_buf_put_le32(b, 0);
    ut_buf_putc(b, (uint8_t)type);
    return pos;
}

void jr__gop_end(ut_buf *b, size_t pos)
{
    uint32_t len = (uint32_t)(b->len - pos - 8); /* type + body */
    uint8_t *h = b->p + pos;
    memcpy(h, &len, 4);
    uint32_t crc = jr_crc32c(jr_crc32c(0, h, 4), h + 8, len);
    memcpy(h + 4, &crc, 4);
}

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t at)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, p + done, n - done, (off_t)(at + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

static int lock_fd(int fd)
{
    return flock(fd, LOCK_EX | LOCK_NB);
}

int jr__glog_create(jr_group *g, uint64_t next_deliver, int64_t now, char *err, size_t errlen)
{
    char tmp[4400];
    ut_buf b = {0};
    int fd = -1, rc = -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", g->path);
    ut_buf_put(&b, JR__GRP_MAGIC, JR__GRP_HDR);
    size_t at = jr__gop_begin(&b, JR__GOP_CREATE);
    ut_buf_put_le64(&b, next_deliver);
    ut_buf_put_le64(&b, (uint64_t)now);
    jr__gop_end(&b, at);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ut_err(err, errlen, "stream %s group %s: create %s: %s", jr_stream_name(g->s), g->name,
               tmp, strerror(errno));
        goto fail;
    }
    if (write_all(fd, b.p, b.len, 0) || fsync(fd)) {
        ut_err(err, errlen, "stream %s group %s: write %s: %s", jr_stream_name(g->s), g->name,
               tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, g->path) || jr__fsync_dir(g->gdir)) {
        ut_err(err, errlen, "stream %s group %s: rename to %s: %s", jr_stream_name(g->s),
               g->name, g->path, strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    if (fd >= 0) close(fd);
    if (rc) unlink(tmp);
    ut_buf_free(&b);
    return rc;
}

/* One op of a log being walked: 0, or -1 with a message. */
typedef int (*op_fn)(void *ctx, int type, const uint8_t *body, size_t len, uint64_t at,
                     char *err, size_t errlen);

/* Walk the ops of the log open on fd (size bytes): check the header, each
 * op's length and CRC, and hand each to fn.  Stops at the first torn or
 * corrupt op; *valid gets the bytes up to it, *nops the ops handed out.
 * Returns 0, or -1 with a message (what names the log in it). */
static int walk_ops(int fd, uint64_t size, const char *what, op_fn fn, void *ctx,
                    uint64_t *valid, int *nops, char *err, size_t errlen)
{
    size_t cap = 1 << 20, filled = 0, at = 0;
    uint8_t *buf = ut_malloc(cap);
    uint64_t buf_pos = 0;
    int rc = -1;
    *valid = 0;
    *nops = 0;
    for (;;) {
        size_t avail = filled - at, need = JR__GOP_HDR;
        uint32_t len = 0;
        int header = buf_pos + at == 0;
        if (header) need = JR__GRP_HDR;
        else if (avail >= 8) {
            len = jr__g_u32(buf + at);
            if (len < 1 || len > JR__GOP_MAX) break; /* torn / corrupt */
            need = 8 + (size_t)len;
        }
        if (avail >= need) {
            const uint8_t *p = buf + at;
            if (header) {
                if (memcmp(p, JR__GRP_MAGIC, JR__GRP_HDR)) {
                    ut_err(err, errlen, "%s is not a group log (bad header)", what);
                    goto fail;
                }
            } else {
                uint32_t crc = jr_crc32c(jr_crc32c(0, p, 4), p + 8, len);
                if (crc != jr__g_u32(p + 4)) break;
                int type = p[8];
                if (*nops == 0 && type != JR__GOP_CREATE) {
                    ut_err(err, errlen, "%s does not start with CREATE", what);
                    goto fail;
                }
                if (fn(ctx, type, p + 9, len - 1, buf_pos + at, err, errlen)) goto fail;
                (*nops)++;
            }
            at += need;
            *valid = buf_pos + at;
            continue;
        }
        if (buf_pos + filled >= size) break; /* end of file (maybe mid-op) */
        memmove(buf, buf + at, avail);
        buf_pos += at;
        filled = avail;
        at = 0;
        if (need > cap) {
            cap = need;
            buf = ut_realloc(buf, cap);
        }
        size_t room = cap - filled;
        if (room > size - (buf_pos + filled)) room = (size_t)(size - (buf_pos + filled));
        ssize_t got = pread(fd, buf + filled, room, (off_t)(buf_pos + filled));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            ut_err(err, errlen, "read %s: %s", what,
                   got < 0 ? strerror(errno) : "unexpected end of file");
            goto fail;
        }
        filled += (size_t)got;
    }
    if (*nops == 0) {
        ut_err(err, errlen, "%s has no CREATE op", what);
        goto fail;
    }
    rc = 0;
fail:
    free(buf);
    return rc;
}

static int apply_op(void *ctx, int type, const uint8_t *body, size_t len, uint64_t at, char *err,
                    size_t errlen)
{
    char aerr[200];
    if (jr__g_apply(ctx, type, body, len, aerr, sizeof aerr) == 0) return 0;
    return ut_err(err, errlen, "op at byte %" PRIu64 ": %s", at, aerr);
}

int jr__glog_load(jr_group *g, char *err, size_t errlen)
{
    const char *sn = jr_stream_name(g->s);
    uint64_t valid = 0;
    int fd = -1, rc = -1, nops = 0;
    struct stat st;
    char tmp[4400], e2[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", g->path);
    (void)unlink(tmp); /* a compaction or creation cut short */
    fd = open(g->path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        ut_err(err, errlen, "stream %s group %s: open %s: %s", sn, g->name, g->path,
               strerror(errno));
        goto fail;
    }
    if (lock_fd(fd)) {
        ut_err(err, errlen, "stream %s group %s: %s is locked (open in another process, or "
               "through another handle of the stream)", sn, g->name, g->path);
        goto fail;
    }
    if (fstat(fd, &st)) {
        ut_err(err, errlen, "stream %s group %s: stat %s: %s", sn, g->name, g->path,
               strerror(errno));
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (walk_ops(fd, size, g->path, apply_op, g, &valid, &nops, e2, sizeof e2)) {
        ut_err(err, errlen, "stream %s group %s: %s", sn, g->name, e2);
        goto fail;
    }
    if (valid < size) {
        g->recovered = size - valid;
        lg_warn("journal", "stream %s group %s: dropped %" PRIu64 " bytes of torn tail from %s "
                "(%d ops kept)", sn, g->name, g->recovered, g->path, nops);
        if (ftruncate(fd, (off_t)valid) || fdatasync(fd)) {
            ut_err(err, errlen, "stream %s group %s: cannot truncate %s: %s", sn, g->name,
                   g->path, strerror(errno));
            goto fail;
        }
    }
    g->fd = fd;
    g->log_size = valid;
    fd = -1;
    rc = 0;
fail:
    if (fd >= 0) close(fd);
    return rc;
}

/* The highest next_deliver an op sets (CREATE, SETID, DELIVER). */
static int top_op(void *ctx, int type, const uint8_t *p, size_t len, uint64_t at, char *err,
                  size_t errlen)
{
    (void)at, (void)err, (void)errlen;
    uint64_t *top = ctx, v = 0;
    if ((type == JR__GOP_CREATE || type == JR__GOP_SETID) && len == 16) v = jr__g_u64(p);
    else if (type == JR__GOP_DELIVER && len == 28) v = jr__g_u64(p + 20) + 1;
    if (v > *top && v != UINT64_MAX) *top = v;
    return 0;
}

int jr__glog_top(const char *path, uint64_t *top, char *err, size_t errlen)
{
    *top = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ut_err(err, errlen, "open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        ut_err(err, errlen, "stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    uint64_t valid;
    int nops;
    char e2[512];
    if (walk_ops(fd, (uint64_t)st.st_size, path, top_op, top, &valid, &nops, e2, sizeof e2))
        lg_warn("journal", "%s (the group reports it when opened)", e2);
    close(fd);
    return 0;
}

/* Bytes a snapshot of the current state would take. */
static uint64_t snapshot_estimate(const jr_group *g)
{
    return JR__GRP_HDR + 64 + (uint64_t)g->ncons * 100 + (uint64_t)g->live * 24 +
           (g->live / JR__GOP_CHUNK + 1) * 16;
}

/* Must this commit sync?  Always, unless the group syncs lazily and did
 * less than lazy_sync_ms ago (then the ops stay dirty until a later one). */
static int sync_due(jr_group *g)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (g->o.lazy_sync_ms && g->synced_ms && now - g->synced_ms < (int64_t)g->o.lazy_sync_ms) {
        g->dirty = 1;
        return 0;
    }
    g->synced_ms = now;
    g->dirty = 0;
    return 1;
}

int jr__glog_commit(jr_group *g, char *err, size_t errlen)
{
    const char *sn = jr_stream_name(g->s);
    ut_buf *b = &g->wbuf;
    if (g->broken)
        return ut_err(err, errlen, "stream %s group %s: the group log failed earlier; reopen "
                      "the group", sn, g->name);
    if (!b->len) return 0;
    if (write_all(g->fd, b->p, b->len, g->log_size)) {
        int e = errno;
        if (ftruncate(g->fd, (off_t)g->log_size)) g->broken = 1;
        return ut_err(err, errlen, "stream %s group %s: write %s: %s", sn, g->name, g->path,
                      e == ENOSPC ? "disk full (ENOSPC)" : strerror(e));
    }
    if (g->s->o.fsync != JR_FSYNC_NEVER && sync_due(g) && fdatasync(g->fd)) {
        int e = errno;
        /* After a failed sync the page cache cannot be trusted: cut the ops
         * off and refuse further changes until the log is reopened. */
        if (ftruncate(g->fd, (off_t)g->log_size)) {
        }
        g->broken = 1;
        return ut_err(err, errlen, "stream %s group %s: fdatasync %s: %s", sn, g->name, g->path,
                      strerror(e));
    }
    g->log_size += b->len;
    for (size_t at = 0; at < b->len;) {
        uint32_t len = jr__g_u32(b->p + at);
        char aerr[200];
        if (jr__g_apply(g, b->p[at + 8], b->p + at + 9, len - 1, aerr, sizeof aerr)) {
            g->broken = 1; /* a bug: the op we built does not fit the state */
            return ut_err(err, errlen, "stream %s group %s: internal error applying op: %s", sn,
                          g->name, aerr);
        }
        at += 8 + (size_t)len;
    }
    ut_buf_reset(b);
    uint64_t limit = 2 * snapshot_estimate(g);
    if (limit < g->o.compact_min_bytes) limit = g->o.compact_min_bytes;
    if (g->log_size > limit && g->log_size >= g->compact_at) {
        char cerr[300];
        if (jr__glog_compact(g, cerr, sizeof cerr)) {
            lg_warn("journal", "%s (will retry later)", cerr);
            g->compact_at = g->log_size * 2;
        }
    }
    return 0;
}

/* Flush b to fd at *pos when it is large (or always when force). */
static int flush_chunk(int fd, ut_buf *b, uint64_t *pos, int force)
{
    if (!force && b->len < (4u << 20)) return 0;
    if (b->len && write_all(fd, b->p, b->len, *pos)) return -1;
    *pos += b->len;
    ut_buf_reset(b);
    return 0;
}

int jr__glog_compact(jr_group *g, char *err, size_t errlen)
{
    const char *sn = jr_stream_name(g->s);
    char tmp[4400];
    ut_buf b = {0};
    uint64_t pos = 0;
    uint32_t *map = NULL, nlive = 0;
    int fd = -1, rc = -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", g->path);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || lock_fd(fd)) {
        ut_err(err, errlen, "stream %s group %s: compact: %s: %s", sn, g->name, tmp,
               strerror(errno));
        goto fail;
    }
    ut_buf_put(&b, JR__GRP_MAGIC, JR__GRP_HDR);
    size_t at = jr__gop_begin(&b, JR__GOP_CREATE);
    ut_buf_put_le64(&b, g->next_deliver);
    ut_buf_put_le64(&b, (uint64_t)g->created);
    jr__gop_end(&b, at);
    at = jr__gop_begin(&b, JR__GOP_COUNTERS);
    ut_buf_put_le64(&b, g->entries_read);
    ut_buf_put_le64(&b, g->acked);
    ut_buf_put_le64(&b, g->dead_lettered);
    ut_buf_put_le64(&b, g->deleted);
    jr__gop_end(&b, at);
    map = ut_malloc(((size_t)g->ncons + 1) * sizeof *map);
    for (uint32_t i = 0; i < g->ncons; i++) {
        jr__cons *c = &g->cons[i];
        map[i] = JR__NO_CONS;
        if (!c->live) continue;
        map[i] = nlive;
        size_t n = strlen(c->name);
        at = jr__gop_begin(&b, JR__GOP_CONSUMER);
        ut_buf_put_le32(&b, nlive);
        ut_buf_put_le64(&b, (uint64_t)c->seen);
        ut_buf_put_le64(&b, (uint64_t)c->active);
        ut_buf_putc(&b, (uint8_t)n);
        ut_buf_put(&b, c->name, n);
        jr__gop_end(&b, at);
        nlive++;
    }
    size_t i = 0;
    while (i < g->npel) {
        at = jr__gop_begin(&b, JR__GOP_PEL);
        size_t cnt_at = b.len;
        ut_buf_put_le32(&b, 0);
        uint32_t cnt = 0;
        for (; i < g->npel && cnt < JR__GOP_CHUNK; i++) {
            const jr__pent *e = &g->pel[i];
            if (e->cons == JR__NO_CONS) continue;
            ut_buf_put_le64(&b, e->off);
            ut_buf_put_le32(&b, map[e->cons]);
            ut_buf_put_le32(&b, e->dc);
            ut_buf_put_le64(&b, (uint64_t)e->time);
            cnt++;
        }
        memcpy(b.p + cnt_at, &cnt, 4);
        if (cnt) jr__gop_end(&b, at);
        else b.len = at; /* only tombstones were left */
        if (flush_chunk(fd, &b, &pos, 0)) {
            ut_err(err, errlen, "stream %s group %s: compact: write %s: %s", sn, g->name, tmp,
                   errno == ENOSPC ? "disk full (ENOSPC)" : strerror(errno));
            goto fail;
        }
    }
    if (flush_chunk(fd, &b, &pos, 1) || fdatasync(fd) || rename(tmp, g->path)) {
        ut_err(err, errlen, "stream %s group %s: compact: write %s: %s", sn, g->name, tmp,
               errno == ENOSPC ? "disk full (ENOSPC)" : strerror(errno));
        goto fail;
    }
    /* The snapshot is the log now; the old file (and its lock) goes. */
    close(g->fd);
    g->fd = fd;
    fd = -1;
    g->log_size = pos;
    g->compact_at = 0;
    /* Renumber consumers and drop tombstones, as the snapshot did. */
    size_t w = 0;
    for (size_t k = 0; k < g->npel; k++)
        if (g->pel[k].cons != JR__NO_CONS) {
            g->pel[w] = g->pel[k];
            g->pel[w].cons = map[g->pel[k].cons];
            w++;
        }
    g->npel = w;
    uint32_t wc = 0;
    for (uint32_t k = 0; k < g->ncons; k++)
        if (g->cons[k].live) g->cons[wc++] = g->cons[k];
    g->ncons = wc;
    if (jr__fsync_dir(g->gdir)) {
        ut_err(err, errlen, "stream %s group %s: compact: fsync %s: %s", sn, g->name, g->gdir,
               strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(map);
    ut_buf_free(&b);
    return rc;
}
