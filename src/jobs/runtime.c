/* jobs: the runtime's life cycle (jb_create / jb_stop / jb_destroy), the
 * scheduler thread, and the catalog-only entry points (jb_trigger,
 * jb_backfill) that the CLI and the HTTP API share. */
#include "jobs/jb_rt.h"
#include "log/log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t jb__now_us(const jb_runtime *r)
{
    if (r && r->o.now_us) return r->o.now_us(r->o.clock_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *jb__data_dir(const jb_runtime *r) { return r->data_dir; }

const jb_timing *jb__timing(const jb_runtime *r, const cf_job *j)
{
    assert(j >= r->cf->jobs && j < r->cf->jobs + r->cf->njobs);
    return &r->timings[j - r->cf->jobs];
}

void jb__kick(jb_runtime *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->kick) pthread_cond_signal(&r->cv); /* only the scheduler waits on cv */
    r->kick = 1;
    pthread_mutex_unlock(&r->mu);
}

int jb_tick(jb_runtime *r, ut_error *e)
{
    pthread_mutex_lock(&r->cmu);
    int n = jb__tick_locked(r, e);
    pthread_mutex_unlock(&r->cmu);
    return n;
}

/* Wait on r->cv (mu held) for up to ms. */
static void wait_ms(jb_runtime *r, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
    ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

static void *sched_main(void *arg)
{
    jb_runtime *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        ut_error e = {0};
        r->kick = 0;
        pthread_mutex_unlock(&r->mu); /* a pass writes: workers keep going meanwhile */
        jb__tmp_collect(r, 0);        /* (when due) */
        pthread_mutex_lock(&r->cmu);
        if (jb__tick_locked(r, &e) < 0) lg_error("jobs", "scheduler: %s", e.msg);
        pthread_mutex_unlock(&r->cmu);
        pthread_mutex_lock(&r->mu);
        if (!r->kick && !r->stop) wait_ms(r, r->cf->scheduler.tick_ms);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int jb_wait_idle(jb_runtime *r, int64_t timeout_ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        uint64_t pending, waiting;
        jb__queue_depth(r->q, &pending, &waiting);
        pthread_mutex_lock(&r->mu);
        int busy = r->busy;
        pthread_mutex_unlock(&r->mu);
        busy += jb__finishes_waiting(r);
        if (!busy && !pending && !waiting) return 1;
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            return 0;
        struct timespec d = {0, 10 * 1000000};
        nanosleep(&d, NULL);
    }
}

static int compile_timings(jb_runtime *r, char *err, size_t errlen)
{
    r->timings = ut_calloc((size_t)r->cf->njobs + 1, sizeof *r->timings);
    r->deps = ut_calloc((size_t)r->cf->njobs + 1, sizeof *r->deps);
    r->cstats = ut_calloc((size_t)r->cf->njobs + 1, sizeof *r->cstats);
    for (int i = 0; i < r->cf->njobs; i++) {
        char e2[400];
        if (jb__timing_init(&r->timings[i], &r->cf->jobs[i], e2, sizeof e2))
            return ut_err(err, errlen, "job %s: %s", r->cf->jobs[i].name, e2);
        int n = jb__deps(r->cf, &r->cf->jobs[i], r->config_dir, &r->deps[i].v, e2, sizeof e2);
        if (n < 0) return ut_err(err, errlen, "job %s: %s", r->cf->jobs[i].name, e2);
        r->deps[i].n = n;
    }
    return 0;
}

/* The config's pools, with leases as long as a task's heartbeat timeout. */
static int open_pools(jb_runtime *r, char *err, size_t errlen)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/jobs/pools", r->data_dir);
    r->pools = pl_open(dir, err, errlen);
    if (!r->pools) return -1;
    for (int i = 0; i < r->cf->npools; i++) {
        const cf_pool *p = &r->cf->pools[i];
        ut_error e = {0};
        if (pl_configure(r->pools, p->name, p->rate, p->burst, p->concurrency,
                         r->cf->scheduler.task_timeout_ms, &e))
            return ut_err(err, errlen, "pool %s: %s", p->name, e.msg);
    }
    return 0;
}

jb_runtime *jb_create(const jb_opts *o, char *err, size_t errlen)
{
    jb_runtime *r = ut_calloc(1, sizeof *r);
    r->o = *o;
    r->cf = o->cf;
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->cmu, NULL);
    pthread_mutex_init(&r->fmu, NULL);
    pthread_mutex_init(&r->tmu, NULL);
    pthread_cond_init(&r->fcv, NULL);
    pthread_cond_init(&r->cv, NULL);
    pthread_cond_init(&r->hb_cv, NULL);
    snprintf(r->data_dir, sizeof r->data_dir, "%s", o->data_dir);
    snprintf(r->catalog, sizeof r->catalog, "%s/catalog.db", o->data_dir);
    snprintf(r->config_dir, sizeof r->config_dir, "%s", o->config_dir ? o->config_dir : ".");
    if (compile_timings(r, err, errlen)) goto fail;
    jb__tmp_collect(r, 1); /* what workers killed -9 left behind */
    r->cat = ct_open(r->catalog, err, errlen);
    if (!r->cat) goto fail;
    if (o->queue_url && o->scheduler) {
        ut_err(err, errlen, "jobs: the scheduler runs where the queue is, not in a worker of %s",
               o->queue_url);
        goto fail;
    }
    r->q = o->queue_url
               ? jb__queue_open_http(o->queue_url, o->queue_token, &r->cancel, err, errlen)
               : jb__queue_open(o->data_dir, (int)r->cf->scheduler.max_deliveries, err, errlen);
    if (!r->q) goto fail;
    if (open_pools(r, err, errlen)) goto fail;
    r->tokens = cl_tokens_create();
    char oauth[4200];
    snprintf(oauth, sizeof oauth, "%s/jobs/oauth", r->data_dir);
    if (cl_tokens_persist(r->tokens, oauth, err, errlen)) goto fail;
    if (jb__workers_start(r, err, errlen)) goto fail;
    if (o->scheduler) {
        if (pthread_create(&r->sched_th, NULL, sched_main, r)) {
            ut_err(err, errlen, "jobs: cannot start the scheduler thread");
            goto fail;
        }
        r->sched_started = 1;
    }
    if (o->scheduler && jb__builtin_start(r, 1, err, errlen)) goto fail;
    lg_info("jobs", "%d jobs, %d workers%s%s%s", r->cf->njobs, r->nworkers,
            o->scheduler ? ", scheduler on" : "", o->queue_url ? ", tasks from " : "",
            o->queue_url ? o->queue_url : "");
    return r;
fail:
    jb_destroy(r);
    return NULL;
}

void jb_stop(jb_runtime *r, int64_t deadline_ms)
{
    (void)deadline_ms; /* commands are stopped (SIGTERM, SIGKILL 5 s later), SQL interrupted */
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_cond_broadcast(&r->hb_cv);
    for (int i = 0; i < JB_MAX_INFLIGHT; i++) /* statements of sql tasks end now */
        if (r->inflight[i].used && r->inflight[i].eng) sqlite3_interrupt(sq_db(r->inflight[i].eng));
    pthread_mutex_unlock(&r->mu);
    atomic_store(&r->cancel, 1);
    if (r->pools) pl_shutdown(r->pools);
    if (r->sched_started) pthread_join(r->sched_th, NULL);
    r->sched_started = 0;
    jb__builtin_stop(r);
    jb__workers_join(r);
}

void jb_destroy(jb_runtime *r)
{
    if (!r) return;
    jb_stop(r, 0);
    jb__builtin_free(r);
    jb__queue_close(r->q);
    pl_close(r->pools);
    cl_tokens_destroy(r->tokens);
    ct_close(r->cat);
    ct_close(r->tcat);
    for (int i = 0; r->timings && i < r->cf->njobs; i++) jb__timing_free(&r->timings[i]);
    for (int i = 0; r->deps && i < r->cf->njobs; i++) jb__deps_free(r->deps[i].v, r->deps[i].n);
    free(r->timings);
    free(r->deps);
    free(r->cstats);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->cmu);
    pthread_mutex_destroy(&r->fmu);
    pthread_mutex_destroy(&r->tmu);
    pthread_cond_destroy(&r->fcv);
    pthread_cond_destroy(&r->cv);
    pthread_cond_destroy(&r->hb_cv);
    free(r);
}

/* ---- jb_trigger / jb_backfill ------------------------------------------------ */

/* The job and its catalog, for the entry points. */
static ct_catalog *open_for(const cf_config *cf, const char *data_dir, const char *job,
                            const cf_job **j, jb_timing *t, ut_error *e)
{
    char err[512], path[4200];
    *j = cf_job_find(cf, job);
    if (!*j) return ut_fail(e, UT_ENOTFOUND, "no job '%s' in the config", job), NULL;
    if (jb__timing_init(t, *j, err, sizeof err))
        return ut_fail(e, UT_EINVAL, "job %s: %s", job, err), NULL;
    snprintf(path, sizeof path, "%s/catalog.db", data_dir);
    if (ut_mkdir_p(data_dir, err, sizeof err)) {
        jb__timing_free(t);
        return ut_fail(e, UT_EIO, "%s", err), NULL;
    }
    ct_catalog *c = ct_open(path, err, sizeof err);
    if (!c) {
        jb__timing_free(t);
        ut_fail(e, UT_EIO, "%s", err);
    }
    return c;
}

int jb__add_run(ct_catalog *c, const jb_new_run *nr, int64_t *id, ut_error *e)
{
    char err[512];
    ct_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.job, sizeof run.job, "%s", nr->job->name);
    run.window_start = nr->ws;
    run.window_end = nr->we;
    run.state = CT_RUN_WAITING;
    snprintf(run.trigger, sizeof run.trigger, "%s", nr->trigger);
    snprintf(run.backfill, sizeof run.backfill, "%s", nr->backfill ? nr->backfill : "");
    run.iterations = nr->iterations;
    run.forced = nr->forced;
    run.due_ms = nr->due_ms;
    run.task = -1;
    snprintf(run.part, sizeof run.part, "%s", nr->account ? nr->account : "");
    ct_run open;
    int made = nr->unless_open ? ct_run_create_unless(c, &run, 1, &open, err, sizeof err)
                               : ct_run_create(c, &run, err, sizeof err) ? -1 : 1;
    if (made < 0) return ut_fail(e, UT_EIO, "job %s: %s", nr->job->name, err);
    if (made == 0) return 1;
    if (id) *id = run.id;
    return 0;
}

int jb_parse_time(const cf_config *cf, const char *job, const char *text, int64_t *us,
                  ut_error *e)
{
    const cf_job *j = cf_job_find(cf, job);
    if (!j) return ut_fail(e, UT_ENOTFOUND, "no job '%s' in the config", job);
    jb_timing t;
    char err[400];
    if (jb__timing_init(&t, j, err, sizeof err)) return ut_fail(e, UT_EINVAL, "job %s: %s", job, err);
    int rc = jb__parse_time(&t, text, us);
    jb__timing_free(&t);
    if (rc) return ut_fail(e, UT_EINVAL, "expected YYYY-MM-DD or RFC 3339, got '%.40s'", text);
    return 0;
}

/* The checks and the insert of a manual run (the look at the window's
 * runs and the insert are one transaction: two triggers of one window at
 * once create one run). */
static int trigger_part(ct_catalog *c, const cf_job *j, const char *part, const jb_timing *t,
                        int64_t window_us, int force, int64_t *run_id, ut_error *e)
{
    int64_t ws, we;
    jb__window_of(t, window_us, &ws, &we);
    if (!force && t->window != CF_WINDOW_NONE && we + t->delay_us > jb__now_us(NULL))
        return ut_fail(e, UT_EINVAL, "job %s: the window ending %lld has not closed yet (plus "
                       "its delay); --force runs it on what is there now", j->name,
                       (long long)(we / 1000000));
    char err[512];
    ct_run run, last;
    memset(&run, 0, sizeof run);
    snprintf(run.job, sizeof run.job, "%s", j->name);
    run.window_start = ws;
    run.window_end = we;
    run.state = CT_RUN_WAITING;
    snprintf(run.trigger, sizeof run.trigger, "manual");
    snprintf(run.part, sizeof run.part, "%s", part);
    run.iterations = 1;
    run.forced = force;
    run.task = -1;
    int rc = ct_run_create_unless(c, &run, force, &last, err, sizeof err);
    if (rc < 0) return ut_fail(e, UT_EIO, "job %s: %s", j->name, err);
    if (rc == 0 && last.state == CT_RUN_SUCCEEDED)
        return ut_fail(e, UT_EEXISTS, "job %s: the window already succeeded (run %lld); --force "
                       "runs it again", j->name, (long long)last.id);
    if (rc == 0)
        return ut_fail(e, UT_EEXISTS, "job %s: run %lld for this window is %s already", j->name,
                       (long long)last.id, ct_run_state_name(last.state));
    if (run_id) *run_id = run.id;
    return 0;
}

/* trigger_part for every account of j: 0 when one run at least was created
 * (*run_id the first), else the first account's refusal. */
static int trigger_on(ct_catalog *c, const cf_job *j, const jb_timing *t, int64_t window_us,
                      int force, int64_t *run_id, ut_error *e)
{
    int made = 0;
    ut_error first = {0};
    jb_parts p;
    if (jb__parts(c, j, &p, e)) return -1;
    if (!p.n && j->kind == CF_JOB_SNAPSHOT)
        ut_fail(&first, UT_ENOTFOUND, "job %s: no source table matches include", j->name);
    else if (!p.n)
        ut_fail(&first, UT_ENOTFOUND, "job %s: no accounts yet (its accounts.sql runs when "
                "the job first fires)", j->name);
    for (int i = 0; i < p.n; i++) {
        int64_t id = 0;
        ut_error pe = {0};
        if (trigger_part(c, j, p.v[i], t, window_us, force, &id, &pe) == 0) {
            if (!made++ && run_id) *run_id = id;
        } else if (pe.kind == UT_EIO || !first.msg[0]) {
            first = pe;
            if (pe.kind == UT_EIO) break;
        }
    }
    jb__parts_free(&p);
    if (made && first.kind != UT_EIO) return 0;
    *e = first;
    return -1;
}

int jb_trigger(const cf_config *cf, const char *data_dir, const char *job, int64_t window_us,
               int force, int64_t *run_id, ut_error *e)
{
    const cf_job *j;
    jb_timing t;
    ct_catalog *c = open_for(cf, data_dir, job, &j, &t, e);
    if (!c) return -1;
    int rc = j->kind == CF_JOB_SNAPSHOT && jb__snap_resolve(cf, c, j, e) ? -1 : 0;
    if (rc == 0) rc = trigger_on(c, j, &t, window_us, force, run_id, e);
    ct_close(c);
    jb__timing_free(&t);
    return rc;
}

int jb__trigger(jb_runtime *r, const cf_job *j, int64_t window_us, int force, int64_t *run_id,
                ut_error *e)
{
    char err[512];
    pthread_mutex_lock(&r->tmu);
    if (!r->tcat && !(r->tcat = ct_open(r->catalog, err, sizeof err))) {
        pthread_mutex_unlock(&r->tmu);
        return ut_fail(e, UT_EIO, "%s", err);
    }
    int rc = j->kind == CF_JOB_SNAPSHOT && jb__snap_resolve(r->cf, r->tcat, j, e) ? -1 : 0;
    if (rc == 0) rc = trigger_on(r->tcat, j, jb__timing(r, j), window_us, force, run_id, e);
    pthread_mutex_unlock(&r->tmu);
    return rc;
}

int jb_backfill(const cf_config *cf, const char *data_dir, const char *job, int64_t from_us,
                int64_t to_us, int parallel, const char *name, int dry_run, int *nwindows,
                ut_error *e)
{
    const cf_job *j;
    jb_timing t;
    if (!name || !name[0]) return ut_fail(e, UT_EINVAL, "a backfill needs a name");
    ct_catalog *c = open_for(cf, data_dir, job, &j, &t, e);
    if (!c) return -1;
    int rc = -1, n = 0;
    char err[512];
    int64_t ws, we, first;
    if (j->window == CF_WINDOW_NONE) {
        ut_fail(e, UT_EINVAL, "job %s has no window to backfill", job);
        goto out;
    }
    jb__window_of(&t, from_us, &first, &we);
    for (ws = first; ws < to_us && n <= JB_MAX_WINDOWS; ws = jb__window_shift(&t, ws, 1)) n++;
    if (n > JB_MAX_WINDOWS) {
        ut_fail(e, UT_ETOOBIG, "backfill %s: more than %d windows", name, JB_MAX_WINDOWS);
        goto out;
    }
    *nwindows = n;
    if (dry_run || n == 0) {
        rc = 0;
        goto out;
    }
    /* serial: one run over every window; parallel: one per window; each
     * for every account */
    jb_parts pl;
    if (j->kind == CF_JOB_SNAPSHOT && jb__snap_resolve(cf, c, j, e)) goto out;
    if (jb__parts(c, j, &pl, e)) goto out;
    if (!pl.n) {
        jb__parts_free(&pl);
        ut_fail(e, UT_ENOTFOUND, "job %s: no accounts yet (its accounts.sql runs when the job "
                "first fires)", job);
        goto out;
    }
    int per = parallel <= 0 ? 1 : n, np = pl.n, nr = per * np, made = 0;
    ct_run *runs = ut_calloc((size_t)nr + 1, sizeof *runs);
    for (int p = 0; p < np; p++) {
        int64_t s = first;
        for (int i = 0; i < per; i++, s = jb__window_shift(&t, s, 1)) {
            ct_run *r = &runs[p * per + i];
            snprintf(r->job, sizeof r->job, "%s", j->name);
            snprintf(r->part, sizeof r->part, "%s", pl.v[p]);
            r->window_start = parallel <= 0 ? first : s;
            r->window_end = parallel <= 0 ? ws : jb__window_shift(&t, s, 1);
            r->state = CT_RUN_WAITING;
            snprintf(r->trigger, sizeof r->trigger, "backfill");
            r->iterations = parallel <= 0 ? n : 1;
            r->forced = 1;
            r->task = -1;
        }
    }
    jb__parts_free(&pl);
    int added = ct_backfill_add(c, name, job, from_us, to_us, parallel, runs, nr, &made, err,
                                sizeof err);
    free(runs);
    if (added < 0) ut_fail(e, UT_EIO, "%s", err);
    else if (added == 0) ut_fail(e, UT_EEXISTS, "a backfill named '%s' exists already", name);
    rc = added == 1 ? 0 : -1;
out:
    ct_close(c);
    jb__timing_free(&t);
    return rc;
}
