/* jobs: the task queue interface, and its implementation on the journal
 * (Redis Streams semantics).
 *
 *   <data_dir>/jobs/tasks/          stream of task records {"run":<id>}, and
 *                                   sub-tasks {"run":<id>,"tag":"<tag>"}
 *   <data_dir>/jobs/tasks/groups/workers.log   the consumer group (its PEL)
 *   <data_dir>/jobs/dead/           dead letters: the group's envelope line
 *                                   {"stream":..,"offset":N,"deliveries":D,..}
 *                                   then the task record
 *
 *   push      XADD tasks {"run":id}
 *   take      XREADGROUP GROUP workers <consumer> COUNT 1 BLOCK ms STREAMS tasks >
 *             else XAUTOCLAIM tasks workers <consumer> <stale_ms> 0 COUNT 1
 *             (+ XPENDING for the delivery count: the fencing token)
 *   heartbeat XCLAIM tasks workers <consumer> 0 <offset> JUSTID, only while
 *             the entry is still <consumer>'s (never steal it back: the look
 *             and the claim are under one lock with the takes)
 *   ack       XACK
 *   prune     XGROUP DELCONSUMER of consumers with nothing pending, unseen
 *             for 10 x task_timeout (each worker process start makes new ones)
 *
 * A task claimed more than max_deliveries times is dead-lettered by the
 * group itself; the scheduler reads "dead" and marks the run.  The group
 * log is locked by the process that opens it (sluice serve); other
 * processes use the HTTP client of queue_http.c. */
#include "jobs/jb_int.h"
#include "util/util.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TASK_MAX_BYTES 256
#define JQ_LAZY_SYNC_MS 100
#define PRUNE_IDLE 10 /* x stale_ms: a consumer not seen for that long is gone */

typedef struct jq_journal {
    jb_queue base;
    jr_stream *tasks, *dead;
    jr_group *g;
    pthread_mutex_t mu; /* reads, claims, prune, hb (the group itself is thread-safe) */
    jr_group_buf *hb;   /* the heartbeat's (JUSTID claims return no records) */
    int64_t pruned_ms;  /* the last prune (monotonic) */
} jq_journal;

/* ---- the interface -------------------------------------------------------------- */

void jb__queue_close(jb_queue *q)
{
    if (q) q->ops->close(q);
}

int jb__queue_push(jb_queue *q, int64_t run_id, uint64_t *offset, char *err, size_t errlen)
{
    return q->ops->push(q, &run_id, NULL, 1, offset, err, errlen);
}

int jb__tag_ok(const char *t, size_t n)
{
    if (n < 1 || n > JB_TAG_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '.' || t[i] == '_' || t[i] == '-'))
            return 0;
    return 1;
}

int jb__queue_push_tagged(jb_queue *q, int64_t run_id, const char *const *tags, int n,
                          uint64_t *first, char *err, size_t errlen)
{
    assert(n > 0 && n <= JB_PUSH_MAX);
    int64_t ids[JB_PUSH_MAX];
    for (int i = 0; i < n; i++) {
        if (!jb__tag_ok(tags[i], strlen(tags[i])))
            return ut_err(err, errlen, "run %lld: task tag '%.60s' is not 1-%d of [A-Za-z0-9._-]",
                          (long long)run_id, tags[i], JB_TAG_MAX);
        ids[i] = run_id;
    }
    return q->ops->push(q, ids, tags, n, first, err, errlen);
}

int jb__queue_push_many(jb_queue *q, const int64_t *run_ids, int n, uint64_t *first, char *err,
                        size_t errlen)
{
    assert(n > 0 && n <= JB_PUSH_MAX);
    return q->ops->push(q, run_ids, NULL, n, first, err, errlen);
}

int jb__queue_take(jb_queue *q, const char *consumer, int block_ms, int64_t stale_ms,
                   jb_task *t, char *err, size_t errlen)
{
    return q->ops->take(q, consumer, block_ms, stale_ms, t, err, errlen);
}

int jb__queue_heartbeat(jb_queue *q, const char *consumer, const jb_task *t, char *err,
                        size_t errlen)
{
    return q->ops->heartbeat(q, consumer, t, err, errlen);
}

int jb__queue_ack(jb_queue *q, const char *consumer, const jb_task *t, char *err, size_t errlen)
{
    return q->ops->ack(q, consumer, t, err, errlen);
}

int jb__queue_dead(jb_queue *q, uint64_t *cursor, void (*fn)(void *, uint64_t, int64_t),
                   void *arg, char *err, size_t errlen)
{
    return q->ops->dead(q, cursor, fn, arg, err, errlen);
}

void jb__queue_depth(jb_queue *q, uint64_t *pending, uint64_t *waiting)
{
    q->ops->depth(q, pending, waiting);
}

/* ---- the journal implementation ----------------------------------------------- */

static const jb_queue_ops journal_ops;

jb_queue *jb__queue_open(const char *data_dir, int max_deliveries, char *err, size_t errlen)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/jobs", data_dir);
    if (ut_mkdir_p(dir, err, errlen)) return NULL;
    jq_journal *q = ut_calloc(1, sizeof *q);
    q->base.ops = &journal_ops;
    pthread_mutex_init(&q->mu, NULL);
    jr_opts o;
    jr_opts_init(&o);
    o.segment_bytes = 16u << 20;
    o.retention_ms = 7LL * 86400 * 1000;
    o.max_record_bytes = 1u << 20;
    q->tasks = jr_stream_open(dir, "tasks", &o, err, errlen);
    if (!q->tasks) goto fail;
    q->dead = jr_stream_open(dir, "dead", &o, err, errlen);
    if (!q->dead) goto fail;
    jr_group_opts go;
    jr_group_opts_init(&go);
    go.start = 0;
    go.max_deliveries = (uint32_t)max_deliveries;
    go.dead_letter = q->dead;
    /* takes, acks and heartbeats reach the disk within JQ_LAZY_SYNC_MS: the
     * run history decides, so a delivery or ack a power loss undid is
     * harmless (a finished run's task is acked again and skipped; a run
     * whose delivery count went back waits for a takeover, see worker.c) */
    go.lazy_sync_ms = JQ_LAZY_SYNC_MS;
    q->g = jr_group_open(q->tasks, "workers", &go, err, errlen);
    if (!q->g) goto fail;
    return &q->base;
fail:
    jb__queue_close(&q->base);
    return NULL;
}

static void jq_close(jb_queue *base)
{
    jq_journal *q = (jq_journal *)base;
    jr_group_buf_destroy(q->hb);
    jr_group_close(q->g);
    jr_stream_close(q->tasks);
    jr_stream_close(q->dead);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static int jq_push(jb_queue *base, const int64_t *run_ids, const char *const *tags, int n,
                   uint64_t *first, char *err, size_t errlen)
{
    jq_journal *q = (jq_journal *)base;
    char rec[JB_PUSH_MAX][48 + JB_TAG_MAX];
    jr_iov v[JB_PUSH_MAX];
    for (int i = 0; i < n; i++) {
        int len = tags ? snprintf(rec[i], sizeof rec[i], "{\"run\":%lld,\"tag\":\"%s\"}",
                                  (long long)run_ids[i], tags[i])
                       : snprintf(rec[i], sizeof rec[i], "{\"run\":%lld}", (long long)run_ids[i]);
        v[i] = (jr_iov){rec[i], (size_t)len};
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return jr_append(q->tasks, v, n, now, first, err, errlen);
}

/* The run id of a task record (its tag into tag[JB_TAG_MAX + 1], may be
 * NULL); -1 if it is not one. */
static int64_t run_of(const void *p, size_t n, char *tag)
{
    char buf[TASK_MAX_BYTES], t[JB_TAG_MAX + 2] = "";
    if (tag) tag[0] = 0;
    if (!p || n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, p, n);
    buf[n] = 0;
    long long id;
    int used = 0;
    if (sscanf(buf, "{\"run\":%lld}%n", &id, &used) == 1 && used == (int)n) return id > 0 ? id : -1;
    used = 0;
    if (sscanf(buf, "{\"run\":%lld,\"tag\":\"%41[A-Za-z0-9._-]\"}%n", &id, t, &used) != 2 ||
        used != (int)n || id <= 0 || !jb__tag_ok(t, strlen(t)))
        return -1;
    if (tag) memcpy(tag, t, strlen(t) + 1);
    return id;
}

/* The delivery count of pending entry `off`; 0 if it is not pending. */
static int deliveries_of(jq_journal *q, uint64_t off, const char *consumer, char *err,
                         size_t errlen)
{
    jr_pending_entry e;
    int n = jr_group_pending(q->g, off, off, 1, consumer, 0, &e, err, errlen);
    if (n < 0) return -1;
    return n == 1 ? (int)e.deliveries : 0;
}

/* Fill t from a delivered record; a record that is no task is acked and
 * skipped (0). */
static int to_task(jq_journal *q, const jr_record *r, const char *consumer, jb_task *t, char *err,
                   size_t errlen)
{
    t->offset = r->offset;
    t->run_id = run_of(r->p, r->n, t->tag);
    if (t->run_id < 0) {
        (void)jr_group_ack(q->g, &r->offset, 1, NULL, 0);
        return 0;
    }
    int d = deliveries_of(q, r->offset, consumer, err, errlen);
    if (d < 0) return -1;
    t->deliveries = d > 0 ? d : 1;
    return 1;
}

/* Delete the consumers that have nothing pending and were not seen for
 * PRUNE_IDLE x stale_ms (workers that died or stopped: every process start
 * makes new ones, and a group holds at most JR_GROUP_MAX_CONSUMERS), at most
 * once per stale_ms.  Under q->mu, like every read and claim, so that no
 * consumer takes a task between the look and the delete. */
static void prune(jq_journal *q, int64_t stale_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (stale_ms <= 0 || (q->pruned_ms && now - q->pruned_ms < stale_ms)) return;
    q->pruned_ms = now;
    jr_group_info gi;
    char err[300];
    if (jr_group_info_get(q->g, &gi, err, sizeof err)) return;
    for (int i = 0; i < gi.nconsumers; i++) {
        const jr_group_consumer_info *c = &gi.consumers[i];
        if (c->pending == 0 && c->idle_ms > PRUNE_IDLE * stale_ms &&
            jr_group_delconsumer(q->g, c->name, err, sizeof err) < 0)
            break;
    }
    jr_group_info_free(&gi);
}

/* One look under q->mu: a new task, else one idle past stale_ms.  1 / 0 / -1. */
static int take_once(jq_journal *q, const char *consumer, int64_t stale_ms, jr_group_buf *b,
                     jb_task *t, uint64_t *next, char *err, size_t errlen)
{
    jr_record rec;
    pthread_mutex_lock(&q->mu);
    prune(q, stale_ms);
    int rc = jr_group_read(q->g, consumer, b, &rec, 1, 0, 0, err, errlen);
    if (rc == 0) { /* nothing new: a task whose worker died? */
        uint64_t deleted[1];
        jr_autoclaim_result res;
        rc = jr_group_autoclaim(q->g, consumer, stale_ms, 0, 1, 0, b, &rec, deleted, &res, err,
                                errlen);
    }
    if (rc == 1) rc = to_task(q, &rec, consumer, t, err, errlen);
    if (rc == 0) (void)jr_group_sync(q->g, NULL, 0); /* idle: what was lazily written goes down */
    jr_info si;
    jr_stream_info(q->tasks, &si);
    *next = si.next_offset; /* every record before it was delivered */
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int jq_take(jb_queue *base, const char *consumer, int block_ms, int64_t stale_ms,
                   jb_task *t, char *err, size_t errlen)
{
    jq_journal *q = (jq_journal *)base;
    jr_group_buf *b = jr_group_buf_create(q->tasks);
    uint64_t next = 0;
    int rc = take_once(q, consumer, stale_ms, b, t, &next, err, errlen);
    if (rc == 0 && block_ms && jr_stream_wait(q->tasks, next, block_ms))
        rc = take_once(q, consumer, stale_ms, b, t, &next, err, errlen);
    jr_group_buf_destroy(b);
    return rc;
}

static int jq_heartbeat(jb_queue *base, const char *consumer, const jb_task *t, char *err,
                        size_t errlen)
{
    jq_journal *q = (jq_journal *)base;
    pthread_mutex_lock(&q->mu); /* no take claims it between the look and the claim */
    int d = deliveries_of(q, t->offset, consumer, err, errlen), rc = d < 0 ? -1 : 0;
    if (d >= 0 && d != t->deliveries) {
        ut_err(err, errlen, "task %" PRIu64 " of run %lld is no longer %s's", t->offset,
               (long long)t->run_id, consumer);
        rc = 1;
    }
    if (rc == 0) {
        jr_record rec;
        if (!q->hb) q->hb = jr_group_buf_create(q->tasks);
        if (jr_group_claim(q->g, consumer, 0, &t->offset, 1, JR_CLAIM_JUSTID, q->hb, &rec, err,
                           errlen) < 0)
            rc = -1;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* Only while the task is still consumer's delivery t->deliveries: a task
 * another worker took over since is the new holder's to ack. */
static int jq_ack(jb_queue *base, const char *consumer, const jb_task *t, char *err,
                  size_t errlen)
{
    jq_journal *q = (jq_journal *)base;
    pthread_mutex_lock(&q->mu);
    int d = deliveries_of(q, t->offset, consumer, err, errlen), rc = d < 0 ? -1 : 0;
    if (d == t->deliveries && jr_group_ack(q->g, &t->offset, 1, err, errlen) < 0) rc = -1;
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int jq_dead(jb_queue *base, uint64_t *cursor, void (*fn)(void *, uint64_t, int64_t),
                   void *arg, char *err, size_t errlen)
{
    jq_journal *q = (jq_journal *)base;
    jr_reader *r = jr_reader_create(q->dead);
    jr_record recs[64];
    int total = 0;
    for (;;) {
        int n = jr_read(r, *cursor, recs, 64, 1u << 20, err, errlen);
        if (n < 0) total = -1;
        if (n <= 0) break;
        for (int i = 0; i < n; i++) {
            jr_dead_letter d;
            char tag[JB_TAG_MAX + 1] = "";
            if (jr_dead_letter_parse(&recs[i], &d) == 0) {
                int64_t run = run_of(d.p, d.n, tag);
                if (!tag[0]) fn(arg, d.offset, run); /* a sub-task's is not its run's */
            }
            *cursor = recs[i].offset + 1;
            total++;
        }
    }
    jr_reader_destroy(r);
    return total;
}

static void jq_depth(jb_queue *base, uint64_t *pending, uint64_t *waiting)
{
    jq_journal *q = (jq_journal *)base;
    jr_group_info gi;
    jr_info si;
    *pending = *waiting = 0;
    if (jr_group_info_get(q->g, &gi, NULL, 0) == 0) {
        *pending = gi.pending;
        jr_stream_info(q->tasks, &si);
        *waiting = si.next_offset > gi.next_deliver ? si.next_offset - gi.next_deliver : 0;
        jr_group_info_free(&gi);
    }
}

static const jb_queue_ops journal_ops = {"journal", jq_push, jq_take, jq_heartbeat, jq_ack,
                                         jq_dead, jq_depth, jq_close};
