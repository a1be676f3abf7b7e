/* runtime: the outbox sender — records job commits promised to streams
 * (a collect run's files on <job>.files), appended by the server.
 *
 *   catalog outbox (pending, id order) ──► per stream, in order:
 *       reconcile once: records after the stream's last marked offset that
 *       are, byte for byte, what this thread appends for an unsent outbox
 *       record of that stream are marked (a crash came between append and
 *       mark); anything else there (a client's record that merely starts
 *       with an "outbox_id") is not ours
 *   ──► jr_append {"outbox_id":N, ...record}  ──► ct_outbox_mark(id, offset)
 *
 * Each record reaches its stream exactly once: appended only while unmarked,
 * and after a crash the stream itself says which were appended.  Only this
 * thread appends these records; the stream is created on first use as an
 * HTTP write would create it (its sink lands it like any stream). */
#include "catalog/catalog.h"
#include "log/log.h"
#include "runtime/rt_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 256
#define IDLE_MS 200
#define RETRY_MS 2000
#define MAX_STREAMS 64 /* streams reconciled since the start (more: reconciled again) */
#define PREFIX "{\"outbox_id\":"

struct rt__outbox {
    rt_runtime *rt;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    ct_catalog *cat;
    char done[MAX_STREAMS][80]; /* streams reconciled */
    int ndone;
};

static int reconciled(rt__outbox *o, const char *stream)
{
    for (int i = 0; i < o->ndone; i++)
        if (!strcmp(o->done[i], stream)) return 1;
    return 0;
}

/* The text appended for outbox record (id, rec): {"outbox_id":N,...rec}. */
static void outbox_text(ut_buf *b, int64_t id, const char *rec)
{
    int empty = !strcmp(rec, "{}");
    ut_buf_printf(b, PREFIX "%" PRId64 "%s", id, empty ? "}" : ",");
    if (!empty) ut_buf_puts(b, rec + 1);
}

/* The outbox id a record starts with ({"outbox_id":N), or 0 (none, or N
 * over 18 digits: never one of ours, and 19 could overflow an int64). */
static int64_t id_of(const uint8_t *p, uint32_t n)
{
    size_t k = sizeof PREFIX - 1, i = k;
    if (n <= k || memcmp(p, PREFIX, k)) return 0;
    int64_t v = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (i - k == 18) return 0;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Is the stream record p[0..n) what send_run appended for an unsent outbox
 * record of `stream`?  Its id (> 0), 0 not ours, -1 error. */
static int64_t ours(rt__outbox *o, const char *stream, const uint8_t *p, uint32_t n, ut_error *e)
{
    int64_t id = id_of(p, n);
    if (id <= 0) return 0;
    ct_outbox_rec r;
    int have = ct_outbox_get(o->cat, id, &r, e->msg, sizeof e->msg);
    if (have <= 0) return have;
    ut_buf b = {0};
    outbox_text(&b, id, r.record);
    int same = !strcmp(r.stream, stream) && b.len == n && !memcmp(b.p, p, n);
    ut_buf_free(&b);
    free(r.record);
    return same ? id : 0;
}

/* Mark what the stream already holds after its last marked offset. */
static int reconcile(rt__outbox *o, const char *stream, jr_stream *jr, ut_error *e)
{
    uint64_t from = 0;
    int have = ct_outbox_last_sent(o->cat, stream, &from, e->msg, sizeof e->msg);
    if (have < 0) return -1;
    from = have ? from + 1 : 0;
    jr_reader *r = jr_reader_create(jr);
    jr_record rec[BATCH];
    int64_t ids[BATCH];
    uint64_t offs[BATCH];
    int n, rc = 0, found = 0;
    while (rc == 0 && (n = jr_read(r, from, rec, BATCH, 4u << 20, e->msg, sizeof e->msg)) > 0) {
        int k = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            int64_t id = ours(o, stream, rec[i].p, rec[i].n, e);
            if (id < 0) rc = -1;
            else if (id > 0) ids[k] = id, offs[k++] = rec[i].offset;
        }
        if (rc == 0) rc = ct_outbox_mark(o->cat, ids, offs, k, e->msg, sizeof e->msg);
        found += k;
        from = rec[n - 1].offset + 1;
    }
    if (n < 0) rc = -1;
    jr_reader_destroy(r);
    if (rc == 0 && found)
        lg_warn("runtime", "stream %s: %d outbox records were appended before a stop without "
                "being marked; marked now, not appended again", stream, found);
    if (rc == 0 && o->ndone < MAX_STREAMS) snprintf(o->done[o->ndone++], 80, "%s", stream);
    else if (rc == 0) o->ndone = 0;
    return rc;
}

/* Append v[0..n) (one stream) and mark them.  0 or -1. */
static int send_run(rt__outbox *o, jr_stream *jr, const ct_outbox_rec *v, int n, ut_error *e)
{
    jr_iov iov[BATCH];
    ut_buf b = {0};
    for (int i = 0; i < n; i++) {
        size_t at = b.len;
        outbox_text(&b, v[i].id, v[i].record);
        iov[i].n = b.len - at;
        iov[i].p = (const void *)at; /* fixed up below: b.p may move */
    }
    for (int i = 0; i < n; i++) iov[i].p = b.p + (size_t)iov[i].p;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t first = 0;
    int rc = jr_append(jr, iov, n, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, &first,
                       e->msg, sizeof e->msg);
    if (rc == 0) {
        int64_t ids[BATCH];
        uint64_t offs[BATCH];
        for (int i = 0; i < n; i++) ids[i] = v[i].id, offs[i] = first + (uint64_t)i;
        rc = ct_outbox_mark(o->cat, ids, offs, n, e->msg, sizeof e->msg);
    }
    ut_buf_free(&b);
    return rc;
}

/* Send the pending records of streams not in failed[] (in id order, a
 * stream's run at a time): 1 sent something, 0 nothing pending, 2 look again
 * (reconciled), -1 a stream failed (its name added to failed[]: the caller
 * asks again without it, so one broken stream never holds back the others)
 * or the catalog did (*nfailed unchanged). */
static int send_pending(rt__outbox *o, char (*failed)[80], int *nfailed, ut_error *e)
{
    const char *skip[MAX_STREAMS];
    for (int i = 0; i < *nfailed; i++) skip[i] = failed[i];
    ct_outbox_rec *v = NULL;
    int n = ct_outbox_pending(o->cat, BATCH, skip, *nfailed, &v, e->msg, sizeof e->msg);
    int rc = n > 0;
    for (int i = 0; i < n && rc == 1;) {
        int k = i;
        while (k < n && !strcmp(v[k].stream, v[i].stream)) k++;
        jr_stream *jr = sv_journal(o->rt->server, v[i].stream, 1, e);
        int bad = !jr;
        if (jr && !reconciled(o, v[i].stream)) {
            bad = reconcile(o, v[i].stream, jr, e);
            if (!bad) rc = 2; /* what is pending changed: read it again */
        } else if (jr && send_run(o, jr, v + i, k - i, e)) {
            bad = 1;
            o->ndone = 0; /* the append may have happened: look again */
        }
        if (bad) {
            rc = -1;
            if (*nfailed < MAX_STREAMS) snprintf(failed[(*nfailed)++], 80, "%s", v[i].stream);
        }
        i = k;
    }
    ct_outbox_free(v, n > 0 ? n : 0);
    return n < 0 ? -1 : rc;
}

/* One pass: 1 sent something, 0 nothing pending, -1 error (e: the last
 * stream that failed; the other streams' records were sent). */
static int pass(rt__outbox *o, ut_error *e)
{
    if (!o->cat) {
        char path[4200];
        snprintf(path, sizeof path, "%s/catalog.db", o->rt->data_dir);
        if (!(o->cat = ct_open(path, e->msg, sizeof e->msg))) return -1;
    }
    char failed[MAX_STREAMS][80];
    int nfailed = 0, sent = 0, rc;
    for (;;) {
        int before = nfailed;
        rc = send_pending(o, failed, &nfailed, e);
        if (rc == 1) sent = 1;
        if (rc == -1 && nfailed > before) {
            lg_warn("runtime", "outbox: stream %s: %s (its records wait; the others go on)",
                    failed[nfailed - 1], e->msg);
            if (nfailed < MAX_STREAMS) continue;
        }
        if (rc != 2) break;
    }
    if (nfailed) return -1;
    return rc < 0 ? -1 : sent || rc > 0;
}

static void *loop(void *arg)
{
    rt__outbox *o = arg;
    pthread_mutex_lock(&o->mu);
    while (!o->stop) {
        pthread_mutex_unlock(&o->mu);
        ut_error e = {0};
        int rc = pass(o, &e);
        if (rc < 0) lg_warn("runtime", "outbox: %s (retrying)", e.msg);
        pthread_mutex_lock(&o->mu);
        if (rc > 0 || o->stop) continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)(rc < 0 ? RETRY_MS : IDLE_MS) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&o->cv, &o->mu, &ts);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

rt__outbox *rt__outbox_start(rt_runtime *rt, char *err, size_t errlen)
{
    rt__outbox *o = ut_calloc(1, sizeof *o);
    o->rt = rt;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    if (pthread_create(&o->th, NULL, loop, o)) {
        ut_err(err, errlen, "cannot start the outbox thread");
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
        free(o);
        return NULL;
    }
    return o;
}

void rt__outbox_stop(rt__outbox *o)
{
    if (!o) return;
    pthread_mutex_lock(&o->mu);
    o->stop = 1;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->th, NULL);
    ct_close(o->cat);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o);
}
