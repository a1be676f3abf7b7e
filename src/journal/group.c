/* Consumer groups (Redis Streams style): state, pending-entries list, API.
 *
 * The PEL is an array of entries sorted by offset.  New deliveries append
 * (offsets only grow, except after jr_group_setid moves back); acks turn an
 * entry into a tombstone, found by binary search, and the array is compacted
 * when tombstones outnumber live entries.  Consumers live in a slot array;
 * the slot index is the consumer's id in the op log.
 *
 * Every state change goes through an op: the call builds its ops in g->wbuf,
 * jr__glog_commit writes and syncs them and then applies them with
 * jr__g_apply, the same function that replays the log on open, so the state
 * after a restart is the state before it.
 *
 * Locking: the registry mutex (open/close/list/destroy) is taken before a
 * group's mutex; a group's mutex before the stream's (jr_read, jr_append on
 * the dead-letter stream).
 */
#include "journal/group_int.h"
#include "log/log.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#define DEFAULT_MAX_PENDING 1000000u
#define CACHE_RECS 256
#define RA_RECS 4096

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static jr_group *reg_head;

struct jr_group_buf {
    jr_stream *s;
    jr_reader *r;
    ut_buf arena;          /* payload copies of the current call */
    size_t *pos;           /* out[i] payload position in arena */
    size_t cappos;
    jr_record cache[CACHE_RECS]; /* the last jr_read, pointing into r */
    int ncache;
};

void jr_group_opts_init(jr_group_opts *o)
{
    memset(o, 0, sizeof *o);
    o->start = JR_GROUP_START_NEW;
    o->max_deliveries = 5;
    o->max_pending = DEFAULT_MAX_PENDING;
    o->compact_min_bytes = 1u << 20;
}

static int64_t real_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(const jr_group *g)
{
    return g->clock(g->clock_ctx);
}

static int64_t idle_of(int64_t now, int64_t t)
{
    return now > t ? now - t : 0;
}

/* ---- PEL ------------------------------------------------------------------ */

/* First index with pel[i].off >= off. */
static size_t pel_lower(const jr_group *g, uint64_t off)
{
    size_t lo = 0, hi = g->npel;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->pel[mid].off < off) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Index of the live entry for off, or -1. */
static ptrdiff_t pel_find(const jr_group *g, uint64_t off)
{
    size_t i = pel_lower(g, off);
    if (i < g->npel && g->pel[i].off == off && g->pel[i].cons != JR__NO_CONS)
        return (ptrdiff_t)i;
    return -1;
}

static void pel_remove(jr_group *g, size_t i)
{
    jr__pent *e = &g->pel[i];
    if (e->cons == JR__NO_CONS) return;
    g->cons[e->cons].pending--;
    e->cons = JR__NO_CONS;
    g->live--;
}

/* Insert or overwrite the entry for off (owner cons). */
static void pel_put(jr_group *g, uint64_t off, uint32_t cons, uint32_t dc, int64_t time)
{
    size_t i = g->npel;
    if (g->npel && off <= g->pel[g->npel - 1].off) {
        i = pel_lower(g, off);
        if (g->pel[i].off == off) { /* re-delivery of a pending or acked entry */
            jr__pent *e = &g->pel[i];
            if (e->cons != JR__NO_CONS) g->cons[e->cons].pending--;
            else g->live++;
            *e = (jr__pent){off, time, cons, dc};
            g->cons[cons].pending++;
            return;
        }
    }
    if (g->npel == g->cappel) {
        g->cappel = g->cappel ? g->cappel * 2 : 1024;
        g->pel = ut_realloc(g->pel, g->cappel * sizeof *g->pel);
    }
    if (i < g->npel) memmove(g->pel + i + 1, g->pel + i, (g->npel - i) * sizeof *g->pel);
    g->pel[i] = (jr__pent){off, time, cons, dc};
    g->npel++;
    g->live++;
    g->cons[cons].pending++;
}

static void pel_maybe_compact(jr_group *g)
{
    size_t tombs = g->npel - g->live;
    if (tombs < 1024 || tombs < g->live) return;
    size_t w = 0;
    for (size_t i = 0; i < g->npel; i++)
        if (g->pel[i].cons != JR__NO_CONS) g->pel[w++] = g->pel[i];
    g->npel = w;
}

/* Live consumer id by name, or -1. */
static int64_t cons_find(const jr_group *g, const char *name)
{
    for (uint32_t i = 0; i < g->ncons; i++)
        if (g->cons[i].live && !strcmp(g->cons[i].name, name)) return i;
    return -1;
}

void jr__g_state_free(jr_group *g)
{
    free(g->pel);
    free(g->cons);
    g->pel = NULL;
    g->cons = NULL;
    g->npel = g->cappel = g->live = 0;
    g->ncons = g->capcons = 0;
}

/* ---- applying ops ------------------------------------------------------------ */

static int cons_ok(const jr_group *g, uint32_t id)
{
    return id < g->ncons && g->cons[id].live;
}

static void cons_touch(jr_group *g, uint32_t id, int64_t t, int active)
{
    jr__cons *c = &g->cons[id];
    if (t > c->seen) c->seen = t;
    if (active && t > c->active) c->active = t;
}

/* Mark a consumer seen (not persisted).  By name: a commit may have compacted
 * the log and renumbered the consumers. */
static void touch_name(jr_group *g, const char *name, int64_t now)
{
    int64_t id = cons_find(g, name);
    if (id >= 0) cons_touch(g, (uint32_t)id, now, 0);
}

/* Remove the offsets of an ACK / DEAD / DROP body; returns how many were live. */
static uint64_t apply_remove(jr_group *g, const uint8_t *p, uint32_t n)
{
    uint64_t removed = 0;
    for (uint32_t i = 0; i < n; i++) {
        ptrdiff_t k = pel_find(g, jr__g_u64(p + 8 * (size_t)i));
        if (k >= 0) {
            pel_remove(g, (size_t)k);
            removed++;
        }
    }
    return removed;
}

int jr__g_apply(jr_group *g, int type, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    uint32_t n = len >= 4 ? jr__g_u32(p) : 0;
    switch (type) {
    case JR__GOP_CREATE:
    case JR__GOP_SETID:
        if (len != 16) goto bad_len;
        g->next_deliver = jr__g_u64(p);
        if (type == JR__GOP_CREATE) g->created = (int64_t)jr__g_u64(p + 8);
        break;
    case JR__GOP_CONSUMER: {
        if (len < 21 || len != 21 + (size_t)p[20]) goto bad_len;
        char name[65];
        memcpy(name, p + 21, p[20]);
        name[p[20]] = 0;
        if (n != g->ncons || !ut_name_ok(UT_NAME_CONSUMER, name) || cons_find(g, name) >= 0)
            return ut_err(err, errlen, "CONSUMER op for '%s' (id %u) does not fit", name, n);
        if (g->ncons >= JR_GROUP_MAX_CONSUMERS)
            return ut_err(err, errlen, "more than %d consumers", JR_GROUP_MAX_CONSUMERS);
        if (g->ncons == g->capcons) {
            g->capcons = g->capcons ? g->capcons * 2 : 8;
            g->cons = ut_realloc(g->cons, g->capcons * sizeof *g->cons);
        }
        jr__cons *c = &g->cons[g->ncons++];
        memset(c, 0, sizeof *c);
        memcpy(c->name, name, sizeof name);
        c->live = 1;
        c->seen = (int64_t)jr__g_u64(p + 4);
        c->active = (int64_t)jr__g_u64(p + 12);
        break;
    }
    case JR__GOP_DELIVER: {
        if (len != 28) goto bad_len;
        int64_t t = (int64_t)jr__g_u64(p + 4);
        uint64_t first = jr__g_u64(p + 12), last = jr__g_u64(p + 20);
        if (!cons_ok(g, n) || first > last || last - first >= JR_GROUP_MAX_COUNT)
            return ut_err(err, errlen, "DELIVER op [%" PRIu64 ", %" PRIu64 "] to consumer %u "
                          "does not fit", first, last, n);
        for (uint64_t o = first;; o++) {
            pel_put(g, o, n, 1, t);
            if (o == last) break;
        }
        g->entries_read += last - first + 1;
        g->next_deliver = last + 1;
        cons_touch(g, n, t, 1);
        break;
    }
    case JR__GOP_CLAIM: {
        if (len < 16) goto bad_len;
        int64_t t = (int64_t)jr__g_u64(p + 4);
        uint32_t cnt = jr__g_u32(p + 12);
        if (len != 16 + (size_t)cnt * 12) goto bad_len;
        if (!cons_ok(g, n)) return ut_err(err, errlen, "CLAIM op for unknown consumer %u", n);
        for (uint32_t i = 0; i < cnt; i++) {
            const uint8_t *q = p + 16 + (size_t)i * 12;
            ptrdiff_t k = pel_find(g, jr__g_u64(q));
            if (k < 0) continue;
            jr__pent *e = &g->pel[k];
            g->cons[e->cons].pending--;
            e->cons = n;
            e->dc = jr__g_u32(q + 8);
            e->time = t;
            g->cons[n].pending++;
        }
        cons_touch(g, n, t, 1);
        break;
    }
    case JR__GOP_ACK:
    case JR__GOP_DEAD:
    case JR__GOP_DROP: {
        if (len < 4 || len != 4 + (size_t)n * 8) goto bad_len;
        uint64_t r = apply_remove(g, p + 4, n);
        if (type == JR__GOP_ACK) g->acked += r;
        else if (type == JR__GOP_DEAD) g->dead_lettered += r;
        else g->deleted += r;
        break;
    }
    case JR__GOP_DELCONS:
        if (len != 4) goto bad_len;
        if (!cons_ok(g, n)) return ut_err(err, errlen, "DELCONSUMER op for unknown consumer %u", n);
        for (size_t i = 0; i < g->npel; i++)
            if (g->pel[i].cons == n) pel_remove(g, i);
        g->cons[n].live = 0;
        break;
    case JR__GOP_PEL:
        if (len < 4 || len != 4 + (size_t)n * 24) goto bad_len;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *q = p + 4 + (size_t)i * 24;
            uint32_t c = jr__g_u32(q + 8);
            if (!cons_ok(g, c)) return ut_err(err, errlen, "PEL op names unknown consumer %u", c);
            pel_put(g, jr__g_u64(q), c, jr__g_u32(q + 12), (int64_t)jr__g_u64(q + 16));
        }
        break;
    case JR__GOP_COUNTERS:
        if (len != 32) goto bad_len;
        g->entries_read = jr__g_u64(p);
        g->acked = jr__g_u64(p + 8);
        g->dead_lettered = jr__g_u64(p + 16);
        g->deleted = jr__g_u64(p + 24);
        break;
    default:
        return ut_err(err, errlen, "unknown op type %d", type);
    }
    pel_maybe_compact(g);
    return 0;
bad_len:
    return ut_err(err, errlen, "op type %d has a bad length %zu", type, len);
}

/* ---- op builders ------------------------------------------------------------- */

static uint32_t op_consumer(jr_group *g, const char *name, int64_t now, int active)
{
    size_t n = strlen(name), at = jr__gop_begin(&g->wbuf, JR__GOP_CONSUMER);
    ut_buf_put_le32(&g->wbuf, g->ncons);
    ut_buf_put_le64(&g->wbuf, (uint64_t)now);
    ut_buf_put_le64(&g->wbuf, (uint64_t)(active ? now : -1));
    ut_buf_putc(&g->wbuf, (uint8_t)n);
    ut_buf_put(&g->wbuf, name, n);
    jr__gop_end(&g->wbuf, at);
    return g->ncons; /* the id it will get when applied */
}

static void op_deliver(jr_group *g, uint32_t cons, int64_t now, uint64_t first, uint64_t last)
{
    size_t at = jr__gop_begin(&g->wbuf, JR__GOP_DELIVER);
    ut_buf_put_le32(&g->wbuf, cons);
    ut_buf_put_le64(&g->wbuf, (uint64_t)now);
    ut_buf_put_le64(&g->wbuf, first);
    ut_buf_put_le64(&g->wbuf, last);
    jr__gop_end(&g->wbuf, at);
}

/* ACK / DEAD / DROP ops for offs[0..n), chunked. */
static void op_offsets(jr_group *g, int type, const uint64_t *offs, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = n - i < JR__GOP_CHUNK ? n - i : JR__GOP_CHUNK;
        size_t at = jr__gop_begin(&g->wbuf, type);
        ut_buf_put_le32(&g->wbuf, (uint32_t)k);
        for (size_t j = 0; j < k; j++) ut_buf_put_le64(&g->wbuf, offs[i + j]);
        jr__gop_end(&g->wbuf, at);
        i += k;
    }
}

static void op_claim(jr_group *g, uint32_t cons, int64_t now, const uint64_t *offs,
                     const uint32_t *dcs, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = n - i < JR__GOP_CHUNK ? n - i : JR__GOP_CHUNK;
        size_t at = jr__gop_begin(&g->wbuf, JR__GOP_CLAIM);
        ut_buf_put_le32(&g->wbuf, cons);
        ut_buf_put_le64(&g->wbuf, (uint64_t)now);
        ut_buf_put_le32(&g->wbuf, (uint32_t)k);
        for (size_t j = 0; j < k; j++) {
            ut_buf_put_le64(&g->wbuf, offs[i + j]);
            ut_buf_put_le32(&g->wbuf, dcs[i + j]);
        }
        jr__gop_end(&g->wbuf, at);
        i += k;
    }
}

/* ---- record buffers ------------------------------------------------------------ */

jr_group_buf *jr_group_buf_create(jr_stream *s)
{
    jr_group_buf *b = ut_calloc(1, sizeof *b);
    b->s = s;
    b->r = jr_reader_create(s);
    return b;
}

void jr_group_buf_destroy(jr_group_buf *b)
{
    if (!b) return;
    jr_reader_destroy(b->r);
    ut_buf_free(&b->arena);
    free(b->pos);
    free(b);
}

static void buf_reset(jr_group_buf *b, size_t nrec)
{
    ut_buf_reset(&b->arena);
    b->ncache = 0;
    if (nrec > b->cappos) {
        b->cappos = nrec;
        b->pos = ut_realloc(b->pos, nrec * sizeof *b->pos);
    }
}

/* Copy record `off` into the arena as out->(offset, ts, n) with its position
 * in *pos.  Returns 1 if found, 0 if the record no longer exists, -1 on a
 * read error. */
static int buf_fetch(jr_group_buf *b, uint64_t off, jr_record *out, size_t *pos, char *err,
                     size_t errlen)
{
    const jr_record *r = NULL;
    if (b->ncache && off >= b->cache[0].offset &&
        off - b->cache[0].offset < (uint64_t)b->ncache &&
        b->cache[off - b->cache[0].offset].offset == off)
        r = &b->cache[off - b->cache[0].offset];
    if (!r) {
        b->ncache = jr_read(b->r, off, b->cache, CACHE_RECS, 1 << 20, err, errlen);
        if (b->ncache < 0) {
            b->ncache = 0;
            return -1;
        }
        if (!b->ncache || b->cache[0].offset != off) return 0;
        r = &b->cache[0];
    }
    *pos = b->arena.len;
    ut_buf_put(&b->arena, r->p, r->n);
    out->offset = off;
    out->ts_us = r->ts_us;
    out->n = r->n;
    out->p = NULL;
    return 1;
}

static void buf_fix(jr_group_buf *b, jr_record *out, int n)
{
    for (int i = 0; i < n; i++)
        if (out[i].p == NULL && b->pos[i] != SIZE_MAX) out[i].p = b->arena.p + b->pos[i];
}

/* ---- registry, open, close ------------------------------------------------------ */

static void group_free(jr_group *g)
{
    if (!g) return;
    if (g->fd >= 0 && g->dirty && fdatasync(g->fd))
        lg_error("journal", "stream %s group %s: fdatasync %s at close: %s", jr_stream_name(g->s),
                 g->name, g->path, strerror(errno));
    if (g->fd >= 0) close(g->fd);
    jr_reader_destroy(g->ra);
    free(g->ra_recs);
    jr__g_state_free(g);
    ut_buf_free(&g->wbuf);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static int check_opts(jr_stream *s, const char *name, jr_group_opts *o, char *err, size_t errlen)
{
    if (!o->max_pending) o->max_pending = DEFAULT_MAX_PENDING;
    if (o->max_pending > JR_GROUP_MAX_PENDING_CAP)
        return ut_err(err, errlen, "stream %s group %s: max_pending %u is over the hard cap %u",
                      jr_stream_name(s), name, o->max_pending, JR_GROUP_MAX_PENDING_CAP);
    if (o->dead_letter == s)
        return ut_err(err, errlen, "stream %s group %s: the dead-letter stream must not be the "
                      "group's own stream", jr_stream_name(s), name);
    return 0;
}

/* Open (registry mutex held).  apply_opts: a shared handle takes o's options. */
static jr_group *open_locked(jr_stream *s, const char *name, const jr_group_opts *o,
                             int apply_opts, char *err, size_t errlen)
{
    jr_group *g = NULL;
    jr_group_opts opts;
    if (o) opts = *o;
    else jr_group_opts_init(&opts);
    if (!ut_name_ok(UT_NAME_GROUP, name)) {
        ut_err(err, errlen, "stream %s: group name '%s' is not valid: use 1-64 of "
               "[A-Za-z0-9_.-], not starting with '.' or '-'", jr_stream_name(s), name ? name : "");
        goto fail;
    }
    if (check_opts(s, name, &opts, err, errlen)) goto fail;
    for (jr_group *h = reg_head; h; h = h->next)
        if (h->s == s && !strcmp(h->name, name)) {
            h->refs++;
            if (o && apply_opts) {
                pthread_mutex_lock(&h->mu);
                h->o.max_deliveries = opts.max_deliveries;
                h->o.dead_letter = opts.dead_letter;
                h->o.max_pending = opts.max_pending;
                h->o.compact_min_bytes = opts.compact_min_bytes;
                pthread_mutex_unlock(&h->mu);
            }
            return h;
        }
    g = ut_calloc(1, sizeof *g);
    g->fd = -1;
    g->s = s;
    g->o = opts;
    g->clock = real_now_ms;
    pthread_mutex_init(&g->mu, NULL);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->gdir, sizeof g->gdir, "%s/groups", s->dir);
    snprintf(g->path, sizeof g->path, "%s/%s.log", g->gdir, name);
    if (mkdir(g->gdir, 0755) == 0) (void)jr__fsync_dir(s->dir);
    else if (errno != EEXIST) {
        ut_err(err, errlen, "stream %s group %s: cannot create %s: %s", jr_stream_name(s), name,
               g->gdir, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (stat(g->path, &st)) {
        if (errno != ENOENT || opts.no_create) {
            ut_err(err, errlen, "stream %s group %s: %s", jr_stream_name(s), name,
                   errno == ENOENT ? "no such group" : strerror(errno));
            goto fail;
        }
        uint64_t start = opts.start;
        if (start == JR_GROUP_START_NEW) {
            jr_info info;
            jr_stream_info(s, &info);
            start = info.next_offset;
        }
        if (jr__glog_create(g, start, now_ms(g), err, errlen)) goto fail;
    }
    if (jr__glog_load(g, err, errlen)) goto fail;
    g->refs = 1;
    g->next = reg_head;
    reg_head = g;
    return g;
fail:
    group_free(g);
    return NULL;
}

jr_group *jr_group_open(jr_stream *s, const char *group, const jr_group_opts *o, char *err,
                        size_t errlen)
{
    pthread_mutex_lock(&reg_mu);
    jr_group *g = open_locked(s, group, o, 1, err, errlen);
    pthread_mutex_unlock(&reg_mu);
    return g;
}

void jr_group_close(jr_group *g)
{
    if (!g) return;
    pthread_mutex_lock(&reg_mu);
    int last = --g->refs == 0;
    if (last)
        for (jr_group **pp = &reg_head; *pp; pp = &(*pp)->next)
            if (*pp == g) {
                *pp = g->next;
                break;
            }
    pthread_mutex_unlock(&reg_mu);
    if (last) group_free(g);
}

void jr_group_set_clock(jr_group *g, int64_t (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&g->mu);
    g->clock = fn ? fn : real_now_ms;
    g->clock_ctx = fn ? ctx : NULL;
    pthread_mutex_unlock(&g->mu);
}

int jr_group_destroy(jr_stream *s, const char *group, char *err, size_t errlen)
{
    char gdir[4200], path[4300];
    int rc = -1, fd = -1;
    pthread_mutex_lock(&reg_mu);
    if (!ut_name_ok(UT_NAME_GROUP, group)) {
        ut_err(err, errlen, "stream %s: group name '%s' is not valid", jr_stream_name(s),
               group ? group : "");
        goto fail;
    }
    for (jr_group *h = reg_head; h; h = h->next)
        if (h->s == s && !strcmp(h->name, group)) {
            ut_err(err, errlen, "stream %s group %s: cannot destroy, the group is open",
                   jr_stream_name(s), group);
            goto fail;
        }
    snprintf(gdir, sizeof gdir, "%s/groups", s->dir);
    snprintf(path, sizeof path, "%s/%s.log", gdir, group);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) rc = 0;
        else ut_err(err, errlen, "stream %s group %s: %s: %s", jr_stream_name(s), group, path,
                    strerror(errno));
        goto fail;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        ut_err(err, errlen, "stream %s group %s: cannot destroy, %s is locked by another "
               "process", jr_stream_name(s), group, path);
        goto fail;
    }
    if (unlink(path) || jr__fsync_dir(gdir)) {
        ut_err(err, errlen, "stream %s group %s: unlink %s: %s", jr_stream_name(s), group, path,
               strerror(errno));
        goto fail;
    }
    rc = 1;
fail:
    if (fd >= 0) close(fd);
    pthread_mutex_unlock(&reg_mu);
    return rc;
}

/* ---- reading ------------------------------------------------------------------ */

static int check_call(jr_group *g, const char *consumer, int count, char *err, size_t errlen)
{
    if (g->broken)
        return ut_err(err, errlen, "stream %s group %s: the group log failed earlier; reopen "
                      "the group", jr_stream_name(g->s), g->name);
    if (consumer && !ut_name_ok(UT_NAME_CONSUMER, consumer))
        return ut_err(err, errlen, "stream %s group %s: consumer name '%s' is not valid",
                      jr_stream_name(g->s), g->name, consumer);
    if (count < 0 || count > JR_GROUP_MAX_COUNT)
        return ut_err(err, errlen, "stream %s group %s: count %d is outside 0..%d",
                      jr_stream_name(g->s), g->name, count, JR_GROUP_MAX_COUNT);
    return 0;
}

static int check_buf(jr_group *g, jr_group_buf *b, char *err, size_t errlen)
{
    if (!b || b->s != g->s)
        return ut_err(err, errlen, "stream %s group %s: the record buffer belongs to another "
                      "stream", jr_stream_name(g->s), g->name);
    return 0;
}

/* Room check for a new consumer (call before any consumer id is held: a
 * compaction here renumbers them).  Deleted consumers keep their slot until
 * the log is compacted, so compact first when that would make room. */
static int cons_room(jr_group *g, char *err, size_t errlen)
{
    uint32_t live = 0;
    for (uint32_t i = 0; i < g->ncons && g->ncons >= JR_GROUP_MAX_CONSUMERS; i++)
        live += g->cons[i].live ? 1u : 0u;
    if (g->ncons >= JR_GROUP_MAX_CONSUMERS && live < g->ncons) {
        char cerr[300];
        if (jr__glog_compact(g, cerr, sizeof cerr)) lg_warn("journal", "%s", cerr);
    }
    if (g->ncons >= JR_GROUP_MAX_CONSUMERS)
        return ut_err(err, errlen, "stream %s group %s: %d consumers (the cap); delete idle "
                      "ones with jr_group_delconsumer", jr_stream_name(g->s), g->name,
                      JR_GROUP_MAX_CONSUMERS);
    return 0;
}

/* Read up to want new records into out/b (mutex held).  New records are
 * read ahead in batches of RA_RECS through the group's own reader, so that
 * many small reads share one jr_read.  Returns n or -1. */
static int fetch_new(jr_group *g, jr_group_buf *b, jr_record *out, int want, size_t max_bytes,
                     char *err, size_t errlen)
{
    int n = 0;
    size_t used = 0;
    uint64_t from = g->next_deliver;
    if (!g->ra) {
        g->ra = jr_reader_create(g->s);
        g->ra_recs = ut_malloc(RA_RECS * sizeof *g->ra_recs);
    }
    while (n < want && used < max_bytes) {
        const jr_record *c = g->ra_recs;
        if (!g->ra_n || from < c[0].offset || from - c[0].offset >= (uint64_t)g->ra_n ||
            c[from - c[0].offset].offset != from) {
            g->ra_n = jr_read(g->ra, from, g->ra_recs, RA_RECS, 1 << 20, err, errlen);
            if (g->ra_n <= 0) {
                int rc = g->ra_n;
                g->ra_n = 0;
                if (rc < 0) return -1;
                break;
            }
            if (c[0].offset > from) from = c[0].offset; /* retention gap */
        }
        for (int i = (int)(from - c[0].offset); i < g->ra_n && n < want; i++) {
            const jr_record *r = &c[i];
            if (n > 0 && used + r->n > max_bytes) return n;
            b->pos[n] = b->arena.len;
            ut_buf_put(&b->arena, r->p, r->n);
            out[n] = (jr_record){r->offset, r->ts_us, NULL, r->n};
            used += r->n;
            n++;
            from = r->offset + 1;
            if (used >= max_bytes) break;
        }
    }
    return n;
}

int jr_group_read(jr_group *g, const char *consumer, jr_group_buf *b, jr_record *out, int count,
                  size_t max_bytes, int block_ms, char *err, size_t errlen)
{
    int n = -1, waited = 0;
    pthread_mutex_lock(&g->mu);
    if (check_call(g, consumer, count, err, errlen) || check_buf(g, b, err, errlen)) goto fail;
    if (!max_bytes) max_bytes = SIZE_MAX;
    for (;;) {
        int64_t cid = cons_find(g, consumer);
        if (cid < 0 && cons_room(g, err, errlen)) goto fail;
        size_t room = g->o.max_pending > g->live ? g->o.max_pending - g->live : 0;
        if (!room && count) {
            ut_err(err, errlen, "stream %s group %s: %zu entries pending (max_pending); ack or "
                   "claim entries before reading more", jr_stream_name(g->s), g->name, g->live);
            goto fail;
        }
        int want = (size_t)count < room ? count : (int)room;
        buf_reset(b, (size_t)want);
        n = fetch_new(g, b, out, want, max_bytes, err, errlen);
        if (n < 0) goto fail;
        if (n == 0 && block_ms != 0 && !waited && count) {
            uint64_t at = g->next_deliver;
            waited = 1;
            pthread_mutex_unlock(&g->mu);
            jr_stream_wait(g->s, at, block_ms);
            pthread_mutex_lock(&g->mu);
            n = -1;
            if (check_call(g, consumer, count, err, errlen)) goto fail;
            continue;
        }
        int64_t now = now_ms(g);
        ut_buf_reset(&g->wbuf);
        uint32_t c = cid >= 0 ? (uint32_t)cid : op_consumer(g, consumer, now, n > 0);
        for (int i = 0; i < n;) { /* one DELIVER per run of consecutive offsets */
            int j = i;
            while (j + 1 < n && out[j + 1].offset == out[j].offset + 1) j++;
            op_deliver(g, c, now, out[i].offset, out[j].offset);
            i = j + 1;
        }
        if (jr__glog_commit(g, err, errlen)) {
            n = -1;
            goto fail;
        }
        touch_name(g, consumer, now);
        buf_fix(b, out, n);
        break;
    }
fail:
    ut_buf_reset(&g->wbuf);
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* First offset still retained and the stream's end. */
static void stream_bounds(jr_stream *s, uint64_t *first, uint64_t *next)
{
    jr_info info;
    jr_stream_info(s, &info);
    *first = info.first_offset;
    *next = info.next_offset;
}

int jr_group_read_pending(jr_group *g, const char *consumer, jr_group_buf *b, uint64_t from,
                          jr_record *out, int count, char *err, size_t errlen)
{
    int n = -1;
    pthread_mutex_lock(&g->mu);
    if (check_call(g, consumer, count, err, errlen) || check_buf(g, b, err, errlen)) goto fail;
    n = 0;
    int64_t cid = cons_find(g, consumer);
    if (cid < 0) goto fail; /* not an error: nothing pending */
    buf_reset(b, (size_t)count);
    uint64_t first, next;
    stream_bounds(g->s, &first, &next);
    for (size_t i = pel_lower(g, from); i < g->npel && n < count; i++) {
        const jr__pent *e = &g->pel[i];
        if (e->cons != (uint32_t)cid) continue;
        int got = 0;
        if (e->off >= first && e->off < next) {
            got = buf_fetch(b, e->off, &out[n], &b->pos[n], err, errlen);
            if (got < 0) {
                n = -1;
                goto fail;
            }
        }
        if (!got) { /* removed by retention: the id without a body */
            out[n] = (jr_record){e->off, 0, NULL, 0};
            b->pos[n] = SIZE_MAX;
        }
        n++;
    }
    cons_touch(g, (uint32_t)cid, now_ms(g), 0);
    buf_fix(b, out, n);
fail:
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* ---- ack ----------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int jr_group_ack(jr_group *g, const uint64_t *offsets, int n, char *err, size_t errlen)
{
    int acked = -1;
    uint64_t *v = NULL;
    pthread_mutex_lock(&g->mu);
    if (check_call(g, NULL, n, err, errlen)) goto fail;
    v = ut_malloc(((size_t)n + 1) * sizeof *v);
    size_t k = 0;
    if (n) memcpy(v, offsets, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    for (int i = 0; i < n; i++) /* unique and pending, in place */
        if ((k == 0 || v[i] != v[k - 1]) && pel_find(g, v[i]) >= 0) v[k++] = v[i];
    ut_buf_reset(&g->wbuf);
    op_offsets(g, JR__GOP_ACK, v, k);
    if (jr__glog_commit(g, err, errlen)) goto fail;
    acked = (int)k;
fail:
    ut_buf_reset(&g->wbuf);
    pthread_mutex_unlock(&g->mu);
    free(v);
    return acked;
}

int jr_group_sync(jr_group *g, char *err, size_t errlen)
{
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    if (g->dirty && g->fd >= 0) {
        if (fdatasync(g->fd)) {
            g->broken = 1; /* as a failed sync in jr__glog_commit */
            rc = ut_err(err, errlen, "stream %s group %s: fdatasync %s: %s",
                        jr_stream_name(g->s), g->name, g->path, strerror(errno));
        } else {
            g->dirty = 0;
        }
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

/* ---- pending ------------------------------------------------------------------- */

static int cmp_pc(const void *a, const void *b)
{
    return strcmp(((const jr_pending_consumer *)a)->name, ((const jr_pending_consumer *)b)->name);
}

int jr_group_pending_summary(jr_group *g, jr_pending_summary *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&g->mu);
    out->count = g->live;
    for (size_t i = 0; i < g->npel; i++)
        if (g->pel[i].cons != JR__NO_CONS) {
            out->min = g->pel[i].off;
            break;
        }
    for (size_t i = g->npel; i > 0; i--)
        if (g->pel[i - 1].cons != JR__NO_CONS) {
            out->max = g->pel[i - 1].off;
            break;
        }
    out->consumers = ut_calloc((size_t)g->ncons + 1, sizeof *out->consumers);
    for (uint32_t i = 0; i < g->ncons; i++)
        if (g->cons[i].live && g->cons[i].pending) {
            jr_pending_consumer *c = &out->consumers[out->nconsumers++];
            memcpy(c->name, g->cons[i].name, sizeof c->name);
            c->pending = g->cons[i].pending;
        }
    pthread_mutex_unlock(&g->mu);
    qsort(out->consumers, (size_t)out->nconsumers, sizeof *out->consumers, cmp_pc);
    return 0;
}

void jr_pending_summary_free(jr_pending_summary *p)
{
    if (!p) return;
    free(p->consumers);
    p->consumers = NULL;
    p->nconsumers = 0;
}

int jr_group_pending(jr_group *g, uint64_t start, uint64_t end, int count, const char *consumer,
                     int64_t min_idle_ms, jr_pending_entry *out, char *err, size_t errlen)
{
    int n = -1;
    pthread_mutex_lock(&g->mu);
    if (check_call(g, consumer, count, err, errlen)) goto fail;
    n = 0;
    int64_t cid = consumer ? cons_find(g, consumer) : -1;
    if (consumer && cid < 0) goto fail;
    int64_t now = now_ms(g);
    for (size_t i = pel_lower(g, start); i < g->npel && n < count; i++) {
        const jr__pent *e = &g->pel[i];
        if (e->off > end) break;
        if (e->cons == JR__NO_CONS || (consumer && e->cons != (uint32_t)cid)) continue;
        int64_t idle = idle_of(now, e->time);
        if (min_idle_ms > 0 && idle < min_idle_ms) continue;
        jr_pending_entry *o = &out[n++];
        o->offset = e->off;
        memcpy(o->consumer, g->cons[e->cons].name, sizeof o->consumer);
        o->idle_ms = idle;
        o->deliveries = e->dc;
    }
fail:
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* ---- claims ---------------------------------------------------------------------- */

/* What a claim call will do, decided before anything is written. */
typedef struct plan {
    uint64_t *claim;  /* offsets to claim, in output order */
    uint32_t *cdc;    /* their new delivery counts */
    int nclaim;
    uint64_t *dead;   /* offsets to dead-letter */
    uint32_t *ddc;    /* the delivery count the refused claim would make */
    int ndead;
    uint64_t *drop;   /* offsets whose records are gone */
    int ndrop;
} plan;

static void plan_init(plan *p, size_t cap)
{
    memset(p, 0, sizeof *p);
    cap++;
    p->claim = ut_malloc(cap * sizeof *p->claim);
    p->cdc = ut_malloc(cap * sizeof *p->cdc);
    p->dead = ut_malloc(cap * sizeof *p->dead);
    p->ddc = ut_malloc(cap * sizeof *p->ddc);
    p->drop = ut_malloc(cap * sizeof *p->drop);
}

static void plan_free(plan *p)
{
    free(p->claim);
    free(p->cdc);
    free(p->dead);
    free(p->ddc);
    free(p->drop);
}

/* Sort an entry that passed the idle check into the plan. */
static void plan_add(jr_group *g, plan *p, const jr__pent *e, uint64_t first, uint64_t next,
                     int flags)
{
    if (e->off < first || e->off >= next) {
        p->drop[p->ndrop++] = e->off;
    } else if (flags & JR_CLAIM_JUSTID) {
        p->claim[p->nclaim] = e->off;
        p->cdc[p->nclaim++] = e->dc;
    } else if (g->o.max_deliveries && e->dc >= g->o.max_deliveries) {
        p->dead[p->ndead] = e->off;
        p->ddc[p->ndead++] = e->dc == UINT32_MAX ? e->dc : e->dc + 1;
    } else {
        p->claim[p->nclaim] = e->off;
        p->cdc[p->nclaim++] = e->dc == UINT32_MAX ? e->dc : e->dc + 1;
    }
}

/* Append the planned dead letters to the dead-letter stream.  Records found
 * missing move to the drop list.  Returns 0 or -1. */
static int send_dead(jr_group *g, plan *p, jr_group_buf *b, int64_t now, char *err,
                     size_t errlen)
{
    int rc = -1, k = 0;
    ut_buf env = {0};
    size_t *at = ut_malloc(((size_t)p->ndead + 1) * 2 * sizeof *at);
    jr_iov *iov = ut_malloc(((size_t)p->ndead + 1) * sizeof *iov);
    if (!g->o.dead_letter) { /* drop and count; records still need to exist */
        rc = 0;
        goto fail;
    }
    for (int i = 0; i < p->ndead; i++) {
        jr_record r;
        size_t pos;
        b->ncache = 0;
        ut_buf_reset(&b->arena);
        int got = buf_fetch(b, p->dead[i], &r, &pos, err, errlen);
        if (got < 0) goto fail;
        if (!got) {
            p->drop[p->ndrop++] = p->dead[i];
            continue;
        }
        at[2 * k] = env.len;
        ut_buf_printf(&env, "{\"stream\":\"%s\",\"group\":\"%s\",\"offset\":%" PRIu64
                      ",\"deliveries\":%u,\"ts_us\":%" PRId64 "}\n",
                      jr_stream_name(g->s), g->name, p->dead[i], p->ddc[i], r.ts_us);
        ut_buf_put(&env, b->arena.p + pos, r.n);
        at[2 * k + 1] = env.len - at[2 * k];
        p->dead[k] = p->dead[i];
        p->ddc[k] = p->ddc[i];
        k++;
    }
    p->ndead = k;
    for (int i = 0; i < k; i++) iov[i] = (jr_iov){env.p + at[2 * i], at[2 * i + 1]};
    uint64_t first;
    char aerr[256];
    if (k && jr_append(g->o.dead_letter, iov, k, now * 1000, &first, aerr, sizeof aerr)) {
        ut_err(err, errlen, "stream %s group %s: dead-letter append to %s: %s",
               jr_stream_name(g->s), g->name, jr_stream_name(g->o.dead_letter), aerr);
        goto fail;
    }
    rc = 0;
fail:
    free(at);
    free(iov);
    ut_buf_free(&env);
    return rc;
}

/* Carry out a plan: fetch the claimed records, dead-letter, write the ops,
 * fill out[] (mutex held).  Returns the number of records claimed, or -1. */
static int plan_run(jr_group *g, const char *consumer, int64_t cid, plan *p, int flags,
                    jr_group_buf *b, jr_record *out, int64_t now, char *err, size_t errlen)
{
    /* Refuse before anything is dead-lettered, so a refusal changes nothing. */
    if (cid < 0 && p->nclaim && cons_room(g, err, errlen)) return -1;
    if (p->ndead && send_dead(g, p, b, now, err, errlen)) return -1;
    buf_reset(b, (size_t)p->nclaim);
    int k = 0;
    for (int i = 0; i < p->nclaim; i++) {
        if (flags & JR_CLAIM_JUSTID) {
            out[k] = (jr_record){p->claim[i], 0, NULL, 0};
            b->pos[k] = SIZE_MAX;
        } else {
            int got = buf_fetch(b, p->claim[i], &out[k], &b->pos[k], err, errlen);
            if (got < 0) return -1;
            if (!got) { /* retention got there first */
                p->drop[p->ndrop++] = p->claim[i];
                continue;
            }
        }
        p->claim[k] = p->claim[i];
        p->cdc[k] = p->cdc[i];
        k++;
    }
    p->nclaim = k;
    ut_buf_reset(&g->wbuf);
    if (cid < 0 && k) cid = op_consumer(g, consumer, now, 1);
    if (k) op_claim(g, (uint32_t)cid, now, p->claim, p->cdc, (size_t)k);
    op_offsets(g, JR__GOP_DEAD, p->dead, (size_t)p->ndead);
    op_offsets(g, JR__GOP_DROP, p->drop, (size_t)p->ndrop);
    if (jr__glog_commit(g, err, errlen)) return -1;
    touch_name(g, consumer, now);
    buf_fix(b, out, k);
    return k;
}

typedef struct oidx {
    uint64_t off;
    int i;
} oidx;

static int cmp_oidx(const void *a, const void *b)
{
    const oidx *x = a, *y = b;
    if (x->off != y->off) return (x->off > y->off) - (x->off < y->off);
    return x->i - y->i;
}

int jr_group_claim(jr_group *g, const char *consumer, int64_t min_idle_ms,
                   const uint64_t *offsets, int n, int flags, jr_group_buf *b, jr_record *out,
                   char *err, size_t errlen)
{
    int rc = -1;
    plan p;
    plan_init(&p, (size_t)(n > 0 ? n : 0));
    char *dup = ut_calloc((size_t)(n > 0 ? n : 0) + 1, 1);
    oidx *ord = ut_malloc(((size_t)(n > 0 ? n : 0) + 1) * sizeof *ord);
    pthread_mutex_lock(&g->mu);
    if (check_call(g, consumer, n, err, errlen) || check_buf(g, b, err, errlen)) goto fail;
    for (int i = 0; i < n; i++) ord[i] = (oidx){offsets[i], i};
    qsort(ord, (size_t)n, sizeof *ord, cmp_oidx);
    for (int i = 1; i < n; i++)
        if (ord[i].off == ord[i - 1].off) dup[ord[i].i] = 1;
    int64_t now = now_ms(g), cid = cons_find(g, consumer);
    uint64_t first, next;
    stream_bounds(g->s, &first, &next);
    for (int i = 0; i < n; i++) {
        if (dup[i]) continue;
        ptrdiff_t k = pel_find(g, offsets[i]);
        if (k < 0 || idle_of(now, g->pel[k].time) < min_idle_ms) continue;
        plan_add(g, &p, &g->pel[k], first, next, flags);
    }
    rc = plan_run(g, consumer, cid, &p, flags, b, out, now, err, errlen);
fail:
    ut_buf_reset(&g->wbuf);
    pthread_mutex_unlock(&g->mu);
    plan_free(&p);
    free(dup);
    free(ord);
    return rc;
}

int jr_group_autoclaim(jr_group *g, const char *consumer, int64_t min_idle_ms, uint64_t start,
                       int count, int flags, jr_group_buf *b, jr_record *out, uint64_t *deleted,
                       jr_autoclaim_result *res, char *err, size_t errlen)
{
    int rc = -1;
    plan p;
    memset(res, 0, sizeof *res);
    plan_init(&p, (size_t)(count > 0 ? count : 0));
    pthread_mutex_lock(&g->mu);
    if (check_call(g, consumer, count, err, errlen) || check_buf(g, b, err, errlen)) goto fail;
    int64_t now = now_ms(g), cid = cons_find(g, consumer);
    uint64_t first, next;
    stream_bounds(g->s, &first, &next);
    int64_t attempts = (int64_t)count * 10, left = count;
    size_t i = pel_lower(g, start);
    for (;;) {
        while (i < g->npel && g->pel[i].cons == JR__NO_CONS) i++;
        if (i >= g->npel || attempts <= 0 || left <= 0) break;
        attempts--;
        const jr__pent *e = &g->pel[i++];
        int gone = e->off < first || e->off >= next;
        if (!gone && idle_of(now, e->time) < min_idle_ms) continue;
        plan_add(g, &p, e, first, next, flags);
        left--;
    }
    res->next_start = i < g->npel ? g->pel[i].off : 0;
    rc = plan_run(g, consumer, cid, &p, flags, b, out, now, err, errlen);
    if (rc < 0) goto fail;
    memcpy(deleted, p.drop, (size_t)p.ndrop * sizeof *deleted);
    res->ndeleted = p.ndrop;
    res->ndead = p.ndead;
fail:
    ut_buf_reset(&g->wbuf);
    pthread_mutex_unlock(&g->mu);
    plan_free(&p);
    return rc;
}

/* ---- group management -------------------------------------------------------------- */

int jr_group_setid(jr_group *g, uint64_t offset, char *err, size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&g->mu);
    if (check_call(g, NULL, 0, err, errlen)) goto fail;
    if (offset == JR_GROUP_START_NEW) {
        uint64_t first;
        stream_bounds(g->s, &first, &offset);
    }
    ut_buf_reset(&g->wbuf);
    size_t at = jr__gop_begin(&g->wbuf, JR__GOP_SETID);
    ut_buf_put_le64(&g->wbuf, offset);
    ut_buf_put_le64(&g->wbuf, (uint64_t)now_ms(g));
    jr__gop_end(&g->wbuf, at);
    rc = jr__glog_commit(g, err, errlen);
fail:
    ut_buf_reset(&g->wbuf);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int jr_group_delconsumer(jr_group *g, const char *consumer, char *err, size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&g->mu);
    if (check_call(g, consumer, 0, err, errlen)) goto fail;
    int64_t cid = cons_find(g, consumer);
    rc = 0;
    if (cid < 0) goto fail;
    uint64_t pending = g->cons[cid].pending;
    ut_buf_reset(&g->wbuf);
    size_t at = jr__gop_begin(&g->wbuf, JR__GOP_DELCONS);
    ut_buf_put_le32(&g->wbuf, (uint32_t)cid);
    jr__gop_end(&g->wbuf, at);
    rc = jr__glog_commit(g, err, errlen) ? -1 : (int)pending;
fail:
    ut_buf_reset(&g->wbuf);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

/* ---- info ---------------------------------------------------------------------------- */

static int cmp_ci(const void *a, const void *b)
{
    return strcmp(((const jr_group_consumer_info *)a)->name,
                  ((const jr_group_consumer_info *)b)->name);
}

int jr_group_info_get(jr_group *g, jr_group_info *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    uint64_t first, next;
    memset(out, 0, sizeof *out);
    stream_bounds(g->s, &first, &next);
    pthread_mutex_lock(&g->mu);
    int64_t now = now_ms(g);
    memcpy(out->name, g->name, sizeof out->name);
    out->next_deliver = g->next_deliver;
    out->last_delivered = g->next_deliver ? (int64_t)(g->next_deliver - 1) : -1;
    out->entries_read = g->entries_read;
    out->pending = g->live;
    uint64_t from = g->next_deliver > first ? g->next_deliver : first;
    out->lag = next > from ? next - from : 0;
    out->acked = g->acked;
    out->dead_lettered = g->dead_lettered;
    out->deleted = g->deleted;
    out->log_bytes = g->log_size;
    out->recovered_bytes = g->recovered;
    out->consumers = ut_calloc((size_t)g->ncons + 1, sizeof *out->consumers);
    for (uint32_t i = 0; i < g->ncons; i++) {
        const jr__cons *c = &g->cons[i];
        if (!c->live) continue;
        jr_group_consumer_info *ci = &out->consumers[out->nconsumers++];
        memcpy(ci->name, c->name, sizeof ci->name);
        ci->pending = c->pending;
        ci->idle_ms = idle_of(now, c->seen);
        ci->inactive_ms = c->active < 0 ? -1 : idle_of(now, c->active);
    }
    pthread_mutex_unlock(&g->mu);
    qsort(out->consumers, (size_t)out->nconsumers, sizeof *out->consumers, cmp_ci);
    return 0;
}

void jr_group_info_free(jr_group_info *i)
{
    if (!i) return;
    free(i->consumers);
    i->consumers = NULL;
    i->nconsumers = 0;
}

static int cmp_gi(const void *a, const void *b)
{
    return strcmp(((const jr_group_info *)a)->name, ((const jr_group_info *)b)->name);
}

int jr_group_list(jr_stream *s, jr_group_info **out, int *n, char *err, size_t errlen)
{
    char gdir[4200];
    int rc = -1, cap = 0;
    DIR *d = NULL;
    *out = NULL;
    *n = 0;
    snprintf(gdir, sizeof gdir, "%s/groups", s->dir);
    pthread_mutex_lock(&reg_mu);
    d = opendir(gdir);
    if (!d) {
        if (errno == ENOENT) rc = 0;
        else ut_err(err, errlen, "stream %s: cannot list %s: %s", jr_stream_name(s), gdir,
                    strerror(errno));
        goto fail;
    }
    jr_group_opts o;
    jr_group_opts_init(&o);
    o.no_create = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || len > 68 || strcmp(e->d_name + len - 4, ".log")) continue;
        char name[65];
        memcpy(name, e->d_name, len - 4);
        name[len - 4] = 0;
        if (!ut_name_ok(UT_NAME_GROUP, name)) continue;
        jr_group *g = open_locked(s, name, &o, 0, err, errlen);
        if (!g) goto fail;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = ut_realloc(*out, (size_t)cap * sizeof **out);
        }
        int irc = jr_group_info_get(g, &(*out)[*n], err, errlen);
        /* close without retaking the registry mutex */
        if (--g->refs == 0) {
            for (jr_group **pp = &reg_head; *pp; pp = &(*pp)->next)
                if (*pp == g) {
                    *pp = g->next;
                    break;
                }
            group_free(g);
        }
        if (irc) goto fail;
        (*n)++;
    }
    if (*n) qsort(*out, (size_t)*n, sizeof **out, cmp_gi);
    rc = 0;
fail:
    if (d) closedir(d);
    pthread_mutex_unlock(&reg_mu);
    if (rc) {
        jr_group_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void jr_group_list_free(jr_group_info *l, int n)
{
    if (!l) return;
    for (int i = 0; i < n; i++) jr_group_info_free(&l[i]);
    free(l);
}

/* ---- dead letters ------------------------------------------------------------------------ */

int jr_dead_letter_parse(const jr_record *rec, jr_dead_letter *out)
{
    char h[512];
    const uint8_t *nl;
    unsigned long long off;
    unsigned dc;
    long long ts;
    int used = 0;
    memset(out, 0, sizeof *out);
    if (!rec->p || !(nl = memchr(rec->p, '\n', rec->n < sizeof h ? rec->n : sizeof h - 1)))
        return -1;
    size_t hl = (size_t)(nl - rec->p);
    memcpy(h, rec->p, hl);
    h[hl] = 0;
    if (sscanf(h, "{\"stream\":\"%64[A-Za-z0-9_.-]\",\"group\":\"%64[A-Za-z0-9_.-]\","
               "\"offset\":%llu,\"deliveries\":%u,\"ts_us\":%lld}%n",
               out->stream, out->group, &off, &dc, &ts, &used) != 5 ||
        (size_t)used != hl)
        return -1;
    out->offset = off;
    out->deliveries = dc;
    out->ts_us = ts;
    out->p = nl + 1;
    out->n = rec->n - (uint32_t)hl - 1;
    return 0;
}
