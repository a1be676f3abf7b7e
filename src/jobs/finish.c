/* jobs: the committer -- records the run finishes that workers hand over
 * (a kind with nothing to commit, a failed attempt), many per transaction,
 * and acks their tasks once that transaction is durable.
 *
 *   worker: take ─► start ─► kind ─► hand over {finish, task} ─► take ...
 *   committer:  wait for finishes ─► one transaction for all of them
 *               (ct_runs_finish: one fsync) ─► log ─► ack each task
 *
 * A worker does not wait for its finish: it takes its next task while the
 * committer syncs, so the queue runs at the rate of the work, not of the
 * disk's fsync (a no-op task takes microseconds; a sync a millisecond).
 * Nothing is acked before its finish is durable: a crash in between leaves
 * the task pending, taken over after task_timeout, and then acked and
 * skipped (its run finished) or run again (its finish was lost).  A finish
 * the catalog refuses with an error is not acked either (retaken later);
 * one fenced out (another delivery holds the run) is not this worker's to
 * ack.  At most JB_FIN_MAX finishes wait; a worker handing over more waits
 * for room.  jb__committer_stop drains everything handed over. */
#include "jobs/jb_rt.h"
#include "log/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JB_FIN_MAX 1024 /* finishes waiting */
#define JB_FIN_TX 256   /* finishes per transaction */

struct jb_fin {
    ct_run_done d;      /* d.error points at error */
    char error[CT_RUN_ERROR_MAX];
    jb_task task;
    char consumer[96];
    const cf_job *job;
    int attempt;
    struct jb_fin *next;
};

void jb__finish_later(jb_runtime *r, const ct_run_done *d, const jb_task *t,
                      const char *consumer, const cf_job *j, int attempt)
{
    struct jb_fin *f = ut_calloc(1, sizeof *f);
    f->d = *d;
    snprintf(f->error, sizeof f->error, "%s", d->error ? d->error : "");
    f->d.error = f->error;
    f->d.io = NULL; /* lineage is recorded by kinds that commit their outputs */
    f->d.nio = 0;
    f->task = *t;
    snprintf(f->consumer, sizeof f->consumer, "%s", consumer);
    f->job = j;
    f->attempt = attempt;
    pthread_mutex_lock(&r->fmu);
    while (r->fin_n >= JB_FIN_MAX) pthread_cond_wait(&r->fcv, &r->fmu);
    if (r->fin_tail) r->fin_tail->next = f;
    else r->fin_head = f;
    r->fin_tail = f;
    r->fin_n++;
    pthread_cond_broadcast(&r->fcv);
    pthread_mutex_unlock(&r->fmu);
}

/* What became of one finish: logged, acked when recorded. */
static void settle(jb_runtime *r, struct jb_fin *f, int held, const char *err)
{
    const char *job = f->job->name;
    long long id = (long long)f->d.id;
    char aerr[512];
    if (held < 0) {
        lg_error("jobs", "job %s run %lld: %s (its task is taken over later)", job, id, err);
        return;
    }
    if (held == 0) {
        lg_warn("jobs", "job %s run %lld: taken over by another worker while this one ran; its "
                "result was not recorded", job, id);
        return;
    }
    if (f->d.state == CT_RUN_SUCCEEDED)
        lg_info("jobs", "job %s run %lld succeeded (%" PRId64 " rows)", job, id, f->d.rows);
    else
        lg_warn("jobs", "job %s run %lld attempt %d failed%s: %s", job, id, f->attempt,
                f->d.state == CT_RUN_RETRYING ? " (will retry)" : "", f->error);
    if (jb__queue_ack(r->q, f->consumer, &f->task, aerr, sizeof aerr))
        lg_error("jobs", "task %" PRIu64 ": ack: %s", f->task.offset, aerr);
    pthread_mutex_lock(&r->mu);
    r->tasks_acked++;
    pthread_mutex_unlock(&r->mu);
}

/* One transaction for up to JB_FIN_TX finishes of list; returns the rest. */
static struct jb_fin *commit_some(jb_runtime *r, ct_catalog *cat, struct jb_fin *list)
{
    const ct_run_done *d[JB_FIN_TX] = {0};
    struct jb_fin *v[JB_FIN_TX];
    char errs[JB_FIN_TX][256], *ep[JB_FIN_TX];
    int held[JB_FIN_TX], n = 0;
    for (; list && n < JB_FIN_TX; list = list->next, n++) {
        v[n] = list;
        d[n] = &list->d;
        ep[n] = errs[n];
        errs[n][0] = 0;
    }
    (void)ct_runs_finish(cat, d, n, held, ep, sizeof errs[0]);
    for (int i = 0; i < n; i++) {
        settle(r, v[i], held[i], errs[i]);
        free(v[i]);
    }
    return list;
}

static void *committer_main(void *arg)
{
    jb_runtime *r = arg;
    char err[512];
    ct_catalog *cat = ct_open(r->catalog, err, sizeof err);
    if (!cat) lg_error("jobs", "committer: %s", err);
    pthread_mutex_lock(&r->fmu);
    for (;;) {
        while (!r->fin_head && !r->fin_stop) pthread_cond_wait(&r->fcv, &r->fmu);
        if (!r->fin_head) break; /* stopping, and everything handed over is done */
        struct jb_fin *list = r->fin_head;
        r->fin_head = r->fin_tail = NULL;
        r->fin_busy = r->fin_n;
        pthread_mutex_unlock(&r->fmu);
        if (!cat && !(cat = ct_open(r->catalog, err, sizeof err))) /* tried again per batch */
            lg_error("jobs", "committer: %s (the batch's tasks are taken over later)", err);
        while (list && cat) list = commit_some(r, cat, list);
        for (struct jb_fin *f; list; list = f) { /* no catalog: retaken after task_timeout */
            f = list->next;
            free(list);
        }
        jb__kick(r);
        pthread_mutex_lock(&r->fmu);
        r->fin_n -= r->fin_busy;
        r->fin_busy = 0;
        pthread_cond_broadcast(&r->fcv);
    }
    pthread_mutex_unlock(&r->fmu);
    ct_close(cat);
    return NULL;
}

int jb__committer_start(jb_runtime *r, char *err, size_t errlen)
{
    if (pthread_create(&r->fin_th, NULL, committer_main, r))
        return ut_err(err, errlen, "jobs: cannot start the committer thread");
    r->fin_started = 1;
    return 0;
}

void jb__committer_stop(jb_runtime *r)
{
    if (!r->fin_started) return;
    pthread_mutex_lock(&r->fmu);
    r->fin_stop = 1;
    pthread_cond_broadcast(&r->fcv);
    pthread_mutex_unlock(&r->fmu);
    pthread_join(r->fin_th, NULL);
    r->fin_started = 0;
}

int jb__finishes_waiting(jb_runtime *r)
{
    pthread_mutex_lock(&r->fmu);
    int n = r->fin_n;
    pthread_mutex_unlock(&r->fmu);
    return n;
}
