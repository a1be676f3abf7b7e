/* jobs: worker threads and the heartbeat thread.
 *
 *   take ──► run known and not finished? ──► ct_run_start(task, deliveries)
 *        ──► registered for heartbeats ──► the kind ──► succeeded (the kind
 *        committed its outputs with the run, or the worker finishes it) |
 *        attempt failed: retrying at now + backoff, or failed ──► ack
 *
 * A worker that is killed anywhere leaves the task pending: after
 * task_timeout another worker's take claims it (deliveries + 1), so
 * ct_run_start lets it in and fences the first one out. */
#include "jobs/jb_rt.h"
#include "log/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Backoff before attempt `attempt` + 1: retry_delay * 2^(attempt-1), at
 * most an hour, ±20% jitter. */
static int64_t backoff_ms(const cf_job *j, int attempt)
{
    int64_t d = j->retry_delay_ms;
    for (int i = 1; i < attempt && d < 3600 * 1000; i++) d *= 2;
    if (d > 3600 * 1000) d = 3600 * 1000;
    int64_t jitter = d / 5;
    return jitter ? d - jitter + (int64_t)(random() % (2 * jitter + 1)) : d;
}

static jb_inflight *inflight_add(jb_runtime *r, const char *consumer, const jb_task *t)
{
    pthread_mutex_lock(&r->mu);
    jb_inflight *f = NULL;
    for (int i = 0; i < JB_MAX_INFLIGHT && !f; i++)
        if (!r->inflight[i].used) f = &r->inflight[i];
    if (f) {
        memset(f, 0, sizeof *f);
        f->used = 1;
        f->task = *t;
        snprintf(f->consumer, sizeof f->consumer, "%s", consumer);
    }
    pthread_mutex_unlock(&r->mu);
    return f;
}

static void inflight_drop(jb_runtime *r, jb_inflight *f)
{
    if (!f) return;
    pthread_mutex_lock(&r->mu);
    f->used = 0;
    pthread_mutex_unlock(&r->mu);
}

void jb__task_engine(jb_task_ctx *c, sq_engine *e)
{
    jb_inflight *f = c->inflight;
    if (!f) return;
    pthread_mutex_lock(&c->rt->mu);
    f->eng = e;
    int stop = c->rt->stop;
    pthread_mutex_unlock(&c->rt->mu);
    if (e && stop) sqlite3_interrupt(sq_db(e));
}

static int stopping(jb_runtime *r)
{
    pthread_mutex_lock(&r->mu);
    int s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* The runtime stops while a task runs: the run goes back to queued with a
 * new task (so a clean restart does not count as a delivery towards
 * max_deliveries) and the old task is acked.  Returns 0 (acked here). */
static int requeue(jb_runtime *r, ct_catalog *cat, const ct_run *run, const jb_task *t,
                   const char *consumer)
{
    char err[512];
    uint64_t off;
    if (jb__queue_push(r->q, run->id, &off, err, sizeof err) == 0 &&
        ct_run_requeue(cat, run->id, (int64_t)t->offset, t->deliveries, (int64_t)off, err,
                       sizeof err) == 1)
        (void)jb__queue_ack(r->q, consumer, t, err, sizeof err);
    return 0; /* otherwise the old task stays pending and is taken over after a restart */
}

/* A failed attempt: retrying (retries left) or failed, recorded by the
 * committer. */
static void attempt_failed(jb_task_ctx *c, const ct_run *run, const jb_task *t, ut_error *e)
{
    jb__redact(c->redact, e->msg, sizeof e->msg);
    ct_run_done *d = c->done;
    int retry = run->attempt <= c->job->retries;
    d->state = retry ? CT_RUN_RETRYING : CT_RUN_FAILED;
    d->due_ms = retry ? jb__now_us(c->rt) / 1000 + backoff_ms(c->job, run->attempt) : 0;
    d->error = e->msg;
    d->nio = 0;
    jb__finish_later(c->rt, d, t, c->worker, c->job, run->attempt);
}

/* Take a slot (and a token) of the job's pool for the task; f keeps it
 * renewed.  0, or -1 with e (UT_ECANCELED when stopping). */
static int pool_enter(jb_runtime *r, const cf_job *j, const ct_run *run, const char *holder,
                      int64_t deadline_ms, jb_inflight *f, ut_error *e)
{
    if (!j->pool[0]) return 0;
    pl_slot slot = {0};
    int64_t asked = wall_ms();
    if (pl_acquire(r->pools, j->pool, holder, deadline_ms, &r->cancel, &slot, e)) {
        char why[UT_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", e->msg);
        return ut_fail(e, e->kind, "job %s: pool %s: %s", j->name, j->pool, why);
    }
    char ts[40];
    ut_ts_format(ts, slot.granted_ms * 1000);
    lg_debug("jobs", "job %s run %lld attempt %d: pool %s: token taken at %s (waited %lld ms)",
             j->name, (long long)run->id, run->attempt, j->pool, ts,
             (long long)(slot.granted_ms > asked ? slot.granted_ms - asked : 0));
    pthread_mutex_lock(&r->mu);
    if (f) f->slot = slot;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static void pool_leave(jb_runtime *r, jb_inflight *f)
{
    if (!f) return;
    pthread_mutex_lock(&r->mu);
    pl_slot slot = f->slot;
    memset(&f->slot, 0, sizeof f->slot);
    pthread_mutex_unlock(&r->mu);
    pl_release(r->pools, &slot);
}

/* accounts.sql: the fields of the run's account, as the last look found
 * them, into c->account_args.  0, or -1 with e (the account is gone). */
static int account_of(jb_task_ctx *c, char *buf, size_t cap, ut_error *e)
{
    char err[512];
    if (!c->job->accounts.sql[0] || !c->run->part[0]) return 0;
    int have = ct_job_account_args(c->cat, c->job->name, c->run->part, buf, cap, err, sizeof err);
    if (have < 0) return ut_fail(e, UT_EIO, "job %s: %s", c->job->name, err);
    if (!have)
        return ut_fail(e, UT_ENOTFOUND, "job %s: account %s is no longer among what its "
                       "accounts.sql finds", c->job->name, c->run->part);
    c->account_args = buf;
    return 0;
}

/* The kind's code (jb_int.h: 1 committed, 0 nothing to commit, -1 failed). */
static int run_kind(jb_task_ctx *c, ut_error *e)
{
    switch (c->job->kind) {
    case CF_JOB_SQL: return jb__kind_sql(c, e);
    case CF_JOB_COMMAND: return jb__kind_command(c, e);
    case CF_JOB_COLLECT: return jb__kind_collect(c, e);
    case CF_JOB_SNAPSHOT: return jb__kind_snapshot(c, e);
    case CF_JOB_LOAD:
    case CF_JOB_EXPORT: return jb__kind_load(c, e); /* an export is a load (kind_load.c) */
    case CF_JOB_ALERT: return jb__kind_alert(c, e);
    case CF_JOB_NOOP: return 0; /* the worker records the run succeeded */
    }
    return ut_fail(e, UT_EINVAL, "job %s: unknown kind %d", c->job->name, (int)c->job->kind);
}

/* ---- the attempt's log (catalog run_logs) ---------------------------------------- */

void jb__runlog_put(jb_task_ctx *c, const char *p, size_t n)
{
    ut_buf *b = &c->runlog;
    ut_buf_put(b, p, n);
    if (b->len > 2 * CT_RUN_LOG_MAX) { /* keep the last CT_RUN_LOG_MAX */
        size_t drop = b->len - CT_RUN_LOG_MAX;
        memmove(b->p, b->p + drop, b->len - drop);
        ut_buf_truncate(b, b->len - drop);
    }
}

/* lg_set_thread_sink: the task thread's log lines, as the log writes them. */
static void runlog_line(lg_level level, const char *component, const char *msg, void *arg)
{
    jb_task_ctx *c = arg;
    char ts[40], line[LG_LINE_MAX + 128];
    ut_ts_format(ts, wall_ms() * 1000);
    int n = snprintf(line, sizeof line, "%s %-5s %s: %s\n", ts, lg_level_name(level), component, msg);
    jb__runlog_put(c, line, n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Keep the attempt's log (secrets replaced), if it has one. */
static void runlog_save(jb_task_ctx *c, ct_catalog *cat)
{
    if (!c->runlog.len) return;
    size_t cap = c->runlog.len * 2 + 1024; /* room for "[secret NAME]" replacements */
    char *text = ut_malloc(cap), err[512];
    memcpy(text, c->runlog.p, c->runlog.len);
    text[c->runlog.len] = 0;
    jb__redact(c->redact, text, cap);
    if (ct_run_log_put(cat, c->run->id, c->run->attempt, c->job->name, text, strlen(text), err,
                       sizeof err))
        lg_warn("jobs", "job %s run %lld: its log was not kept: %s", c->job->name,
                (long long)c->run->id, err);
    free(text);
}

/* Run the kind for a started run and record how it ended.  1 when the
 * worker acks the task (the kind committed its outputs with the run), 0
 * when it does not: the finish went to the committer, which acks, or the
 * runtime stops and the run was queued again. */
static int execute(jb_worker *w, ct_catalog *cat, const cf_job *j, const ct_run *run,
                   const jb_task *t, jb_inflight *f)
{
    jb_runtime *r = w->rt;
    ct_run_done done = {.id = run->id, .task = (int64_t)t->offset, .deliveries = t->deliveries,
                        .state = CT_RUN_SUCCEEDED};
    jb_redact red = {0};
    jb_task_ctx c = {.rt = r, .cf = r->cf, .job = j, .timing = jb__timing(r, j), .cat = cat,
                     .store = r->o.store, .run = run, .done = &done, .redact = &red,
                     .deadline_ms = wall_ms() + j->timeout_ms, .inflight = f};
    snprintf(c.worker, sizeof c.worker, "%s", w->name);
    ut_error e = {0};
    char args[CT_ACCOUNT_ARGS_MAX];
    int rc = account_of(&c, args, sizeof args, &e);
    if (rc == 0) rc = pool_enter(r, j, run, w->name, c.deadline_ms, f, &e);
    lg_set_thread_sink(runlog_line, &c); /* the attempt's lines also go to its log */
    if (rc == 0) rc = run_kind(&c, &e);
    pool_leave(r, f);
    int stopped = stopping(r) && (rc == 2 || rc < 0); /* not failed: queued again as is */
    if (stopped) {
        lg_info("jobs", "job %s run %lld: stopped with the runtime; it runs again", j->name,
                (long long)run->id);
    } else if (rc < 0) {
        char line[UT_ERRMSG_MAX + 64];
        int n = snprintf(line, sizeof line, "attempt %d failed: %s\n", run->attempt, e.msg);
        jb__runlog_put(&c, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        attempt_failed(&c, run, t, &e);
    } else if (rc == 0) {
        jb__finish_later(r, &done, t, w->name, j, run->attempt);
        if (c.runlog.len) { /* (a task that logged nothing keeps no log) */
            char line[160];
            int n = snprintf(line, sizeof line, "attempt %d done (%lld rows)\n", run->attempt,
                             (long long)done.rows);
            jb__runlog_put(&c, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        }
    } else {
        lg_info("jobs", "job %s run %lld succeeded (%" PRId64 " rows)", j->name,
                (long long)run->id, done.rows);
    }
    lg_set_thread_sink(NULL, NULL);
    runlog_save(&c, cat);
    ut_buf_free(&c.runlog);
    jb__redact_free(&red);
    if (stopped) return requeue(r, cat, run, t, w->name);
    return rc > 0; /* the committer acks the others once their finish is durable */
}

/* Mark the run started by delivery t.  The mark is written lazily (no
 * fsync): a power loss that undoes it leaves the run queued with its task
 * pending, delivered again with a higher count; the finish, written at once,
 * makes it durable with everything before it.  1 / 0 / -1 as ct_run_start. */
static int start_run(ct_catalog *cat, const jb_task *t, const char *worker, char *err,
                     size_t errlen)
{
    if (ct_lazy(cat, 1, err, errlen)) return -1;
    int started = ct_run_start(cat, t->run_id, (int64_t)t->offset, t->deliveries, worker, err,
                               errlen);
    if (ct_lazy(cat, 0, err, errlen)) return -1;
    return started;
}

/* The kind's code for a sub-task (0 done or not its run's any more, -1
 * failed: the kind told its run). */
static int run_sub_kind(jb_task_ctx *c, const jb_task *t)
{
    switch (c->job->kind) {
    case CF_JOB_SNAPSHOT: return jb__kind_snapshot_sub(c, t);
    default: return 0; /* a kind without sub-tasks: acked away */
    }
}

/* A sub-task of a running run: its kind's, run while the run runs (else
 * acked away); heartbeated like any task, acked when done either way (a
 * failure is the kind's to report to its run). */
static void handle_sub(jb_worker *w, ct_catalog *cat, const jb_task *t)
{
    jb_runtime *r = w->rt;
    char err[512];
    ct_run run;
    int have = ct_run_get(cat, t->run_id, &run, err, sizeof err);
    if (have < 0) {
        lg_error("jobs", "task %" PRIu64 ": %s", t->offset, err);
        return; /* not acked: taken again after task_timeout */
    }
    const cf_job *j = have ? cf_job_find(r->cf, run.job) : NULL;
    if (have && j && run.state == CT_RUN_RUNNING) {
        ct_run_done done = {.id = run.id};
        jb_redact red = {0};
        jb_inflight *f = inflight_add(r, w->name, t);
        jb_task_ctx c = {.rt = r, .cf = r->cf, .job = j, .timing = jb__timing(r, j), .cat = cat,
                         .store = r->o.store, .run = &run, .done = &done, .redact = &red,
                         .deadline_ms = wall_ms() + j->timeout_ms, .inflight = f};
        snprintf(c.worker, sizeof c.worker, "%s", w->name);
        (void)run_sub_kind(&c, t);
        inflight_drop(r, f);
        jb__redact_free(&red);
    } else if (!have && r->q->remote) {
        return; /* another catalog's: left to the others (as handle says) */
    }
    if (jb__queue_ack(r->q, w->name, t, err, sizeof err))
        lg_error("jobs", "task %" PRIu64 ": ack: %s", t->offset, err);
    pthread_mutex_lock(&r->mu);
    r->tasks_acked++;
    pthread_mutex_unlock(&r->mu);
}

/* Handle one task taken from the queue. */
static void handle(jb_worker *w, ct_catalog *cat, const jb_task *t)
{
    jb_runtime *r = w->rt;
    char err[512];
    if (t->tag[0]) {
        handle_sub(w, cat, t);
        return;
    }
    ct_run run;
    const cf_job *j = NULL;
    int have = 0, started = 0;
    /* the scheduler pushes tasks, then marks their runs queued with them: a
     * worker can be quicker, so a refused start is looked at and tried again
     * for about a second (1 ms, doubling to 25 ms) while the run waits */
    for (int64_t us = 1000, waited = 0;; waited += us, us = us * 2 > 25000 ? 25000 : us * 2) {
        have = ct_run_get(cat, t->run_id, &run, err, sizeof err);
        if (have < 0) break;
        j = have ? cf_job_find(r->cf, run.job) : NULL;
        if (!j || ct_run_state_terminal(run.state)) break;
        started = start_run(cat, t, w->name, err, sizeof err);
        if (started) break;
        /* anything else (another attempt's task, another delivery holding
         * it) is not ours; nor is a retrying run's own task: that attempt's
         * failure is recorded (its ack was lost), the retry gets a new one */
        if (run.state != CT_RUN_WAITING && run.state != CT_RUN_RETRYING) break;
        if (run.state == CT_RUN_RETRYING && run.task == (int64_t)t->offset) break;
        if (waited >= 1000000) return; /* not acked: taken again after task_timeout */
        usleep((useconds_t)us);
    }
    if (have < 0 || started < 0) {
        lg_error("jobs", "task %" PRIu64 ": %s", t->offset, err);
        return; /* not acked: taken again after task_timeout */
    }
    if (!have && r->q->remote) { /* not ours to drop: another catalog's run? */
        lg_error("jobs", "task %" PRIu64 ": run %lld is not in %s: is this worker on the "
                 "server's data directory?  The task is left to the others",
                 t->offset, (long long)t->run_id, r->catalog);
        return;
    }
    if (!started && have && j && run.task == (int64_t)t->offset && run.state == CT_RUN_RUNNING &&
        run.deliveries >= t->deliveries) {
        /* the run's own task, delivered with a count the run has seen: the
         * queue lost ops (a power loss within its lazy sync).  Not acked: a
         * takeover after task_timeout comes with a higher count */
        lg_warn("jobs", "task %" PRIu64 ": delivery %d of run %lld, which recorded delivery %d; "
                "left for a takeover", t->offset, t->deliveries, (long long)run.id, run.deliveries);
        return;
    }
    int ack = 1;
    if (started) {
        run.deliveries = t->deliveries;
        jb_inflight *f = inflight_add(r, w->name, t);
        ack = execute(w, cat, j, &run, t, f);
        inflight_drop(r, f);
    } else if (have && j == NULL && !ct_run_state_terminal(run.state)) {
        (void)ct_run_fail(cat, run.id, "its job is no longer in the config", err, sizeof err);
    }
    if (!ack) return; /* requeued, or fenced out: not this worker's to ack */
    if (jb__queue_ack(r->q, w->name, t, err, sizeof err))
        lg_error("jobs", "task %" PRIu64 ": ack: %s", t->offset, err);
    pthread_mutex_lock(&r->mu);
    r->tasks_acked++;
    pthread_mutex_unlock(&r->mu);
    jb__kick(r);
}

/* Sleep ms, or less when the runtime stops. */
static void pause_ms(jb_runtime *r, int64_t ms)
{
    for (int64_t end = wall_ms() + ms; wall_ms() < end && !stopping(r);) usleep(50 * 1000);
}

static void *worker_main(void *arg)
{
    jb_worker *w = arg;
    jb_runtime *r = w->rt;
    char err[512];
    ct_catalog *cat = ct_open(r->catalog, err, sizeof err);
    if (!cat) {
        lg_error("jobs", "worker %s: %s", w->name, err);
        return NULL;
    }
    /* A remote take waits on the server.  jb_stop cuts it short only in
     * curl's progress callback, which an idle transfer calls about once a
     * second, so a stop waits for the take to end: 250 ms (4 calls a second
     * per idle thread, not 1 s per stop). */
    int block_ms = r->q->remote ? 250 : 200;
    int64_t backoff = 0; /* after a failed take: 200 ms, doubling, at most 5 s */
    while (!stopping(r)) {
        jb_task t;
        int got = jb__queue_take(r->q, w->name, block_ms, r->cf->scheduler.task_timeout_ms, &t,
                                 err, sizeof err);
        if (got < 0) {
            if (stopping(r)) break;
            backoff = backoff ? (backoff * 2 > 5000 ? 5000 : backoff * 2) : 200;
            lg_error("jobs", "worker %s: %s (again in %lld ms)", w->name, err, (long long)backoff);
            pause_ms(r, backoff);
            continue;
        }
        if (backoff) lg_info("jobs", "worker %s: taking tasks again", w->name);
        backoff = 0;
        if (!got) continue;
        pthread_mutex_lock(&r->mu);
        r->busy++;
        r->tasks_taken++;
        if (t.deliveries > 1) r->tasks_claimed++;
        pthread_mutex_unlock(&r->mu);
        handle(w, cat, &t);
        pthread_mutex_lock(&r->mu);
        r->busy--;
        pthread_mutex_unlock(&r->mu);
    }
    ct_close(cat);
    return NULL;
}

/* What one heartbeat round sends for an in-flight task (copied under the
 * lock, sent without it: a remote queue's call may take seconds). */
typedef struct beat {
    int index;
    char consumer[96];
    jb_task task;
    pl_slot slot;
    int rc, failing; /* the queue's answer; failing before this round */
} beat;

/* One round over the tasks in flight. */
static void heartbeat_round(jb_runtime *r, beat *b)
{
    char err[512];
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < JB_MAX_INFLIGHT; i++) {
        jb_inflight *f = &r->inflight[i];
        if (!f->used || f->lost) continue;
        b[n] = (beat){.index = i, .task = f->task, .slot = f->slot, .failing = f->failing};
        snprintf(b[n].consumer, sizeof b[n].consumer, "%s", f->consumer);
        n++;
    }
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < n; i++) {
        b[i].rc = jb__queue_heartbeat(r->q, b[i].consumer, &b[i].task, err, sizeof err);
        if (b[i].rc > 0) lg_warn("jobs", "%s", err);
        else if (b[i].rc < 0 && !b[i].failing) /* once per outage; the next beat tries again */
            lg_warn("jobs", "task %" PRIu64 ": heartbeat: %s (the task keeps running)",
                    b[i].task.offset, err);
        else if (b[i].rc == 0 && b[i].failing)
            lg_info("jobs", "task %" PRIu64 ": heartbeats get through again", b[i].task.offset);
        ut_error e = {0};
        if (b[i].slot.lease && pl_renew(r->pools, &b[i].slot, &e))
            lg_warn("jobs", "task %" PRIu64 ": pool slot: %s", b[i].task.offset, e.msg);
    }
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < n; i++) {
        jb_inflight *f = &r->inflight[b[i].index];
        if (!f->used || f->task.offset != b[i].task.offset ||
            f->task.deliveries != b[i].task.deliveries)
            continue; /* finished meanwhile */
        if (b[i].rc > 0) f->lost = 1;
        f->failing = b[i].rc < 0;
    }
    pthread_mutex_unlock(&r->mu);
}

/* Heartbeat every in-flight task each scheduler.heartbeat. */
static void *heartbeat_main(void *arg)
{
    jb_runtime *r = arg;
    beat *b = ut_calloc(JB_MAX_INFLIGHT, sizeof *b);
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (r->cf->scheduler.heartbeat_ms % 1000) * 1000000;
        ts.tv_sec += r->cf->scheduler.heartbeat_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        while (!r->stop && pthread_cond_timedwait(&r->hb_cv, &r->mu, &ts) == 0) {
        } /* woken by other news: keep waiting for the beat */
        if (r->stop) break;
        pthread_mutex_unlock(&r->mu);
        heartbeat_round(r, b);
        jb__tmp_collect(r, 0); /* (when due) */
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    free(b);
    return NULL;
}

int jb__workers_start(jb_runtime *r, char *err, size_t errlen)
{
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    int n = r->o.workers > JB_MAX_WORKERS ? JB_MAX_WORKERS : r->o.workers;
    if (n && jb__committer_start(r, err, errlen)) return -1;
    for (int i = 0; i < n; i++) {
        jb_worker *w = &r->workers[i];
        w->rt = r;
        w->index = i;
        snprintf(w->name, sizeof w->name, "%.40s-%ld-w%d", host, (long)getpid(), i);
        for (char *p = w->name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '-' || *p == '_' || *p == '.'))
                *p = '_';
        if (pthread_create(&w->th, NULL, worker_main, w))
            return ut_err(err, errlen, "jobs: cannot start worker thread %d", i);
        r->nworkers = i + 1;
    }
    if (n && pthread_create(&r->hb_th, NULL, heartbeat_main, r) == 0) r->hb_started = 1;
    return 0;
}

void jb__workers_join(jb_runtime *r)
{
    for (int i = 0; i < r->nworkers; i++) pthread_join(r->workers[i].th, NULL);
    r->nworkers = 0;
    if (r->hb_started) pthread_join(r->hb_th, NULL);
    r->hb_started = 0;
    jb__committer_stop(r); /* after the workers: it settles what they handed over */
}
