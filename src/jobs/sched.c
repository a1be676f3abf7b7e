/* jobs: the scheduler's pass (jb_tick).
 *
 *   1. fires   each job's schedule fires since the last one handled (the
 *              catalog's job_state; a job seen for the first time starts
 *              now, or at its `start`) ──► a run for the fire's window
 *              unless one is out or succeeded, and with lookback a re-run of
 *              each of the previous N windows unless one is out already
 *              (catchup false: only the latest fire counts)
 *   2. promote waiting/retrying runs that are due, oldest window first
 *              (each job's: the jobs take turns; backfills after them):
 *              max_active of the job, upstream jobs done for the window
 *              (an upstream that failed fails the run) ──► tasks pushed
 *              (up to JB_PUSH_MAX with one journal write), the runs marked
 *              queued with their tasks' offsets (one transaction)
 *   3. dead    dead-lettered tasks ──► their runs dead
 *
 * Every step is idempotent: a crash between creating runs and recording the
 * fire re-creates nothing on the next pass (the run exists), and a task
 * pushed for a run that was not marked queued is refused by ct_run_start
 * (its offset is not the run's) and acked away. */
#include "jobs/jb_rt.h"
#include "log/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPEN_MASK                                                                            \
    ((1u << CT_RUN_WAITING) | (1u << CT_RUN_QUEUED) | (1u << CT_RUN_RUNNING) |                \
     (1u << CT_RUN_RETRYING))

/* Create a run of j for [ws, we) and account `part` unless one is out
 * (or, for a fire's own window, succeeded).  1 created, 0 not, -1. */
static int create_part(jb_runtime *r, const cf_job *j, const char *part, int64_t ws, int64_t we,
                       const char *trigger, int skip_succeeded, ut_error *e)
{
    char err[512];
    ct_run last;
    int have = ct_run_latest(r->cat, j->name, part, ws, &last, err, sizeof err);
    if (have < 0) return ut_fail(e, UT_EIO, "job %s: %s", j->name, err);
    /* only a run over the whole window counts (one of a finer window the
     * config had before covers part of it) */
    have = have && last.window_end >= we;
    if (have && ((OPEN_MASK >> last.state) & 1)) return 0;
    /* a succeeded window is not scheduled again, unless that run was a manual
     * one (it may have run before the window closed, on part of its data) */
    if (have && skip_succeeded && last.state == CT_RUN_SUCCEEDED && strcmp(last.trigger, "manual"))
        return 0;
    jb_new_run nr = {.job = j, .ws = ws, .we = we, .trigger = trigger, .iterations = 1,
                     .due_ms = jb__now_us(r) / 1000, .account = part, .unless_open = 1};
    int64_t id;
    int rc = jb__add_run(r->cat, &nr, &id, e);
    if (rc) return rc < 0 ? -1 : 0; /* a trigger opened one meanwhile */
    lg_debug("jobs", "job %s%s%s: run %lld created for window starting %" PRId64 " (%s)",
             j->name, part[0] ? " account " : "", part, (long long)id, ws, trigger);
    return 1;
}

/* create_part for every account of j (or its one part). */
static int create_run(jb_runtime *r, const cf_job *j, int64_t ws, int64_t we, const char *trigger,
                      int skip_succeeded, ut_error *e)
{
    jb_parts p;
    int rc = jb__parts(r->cat, j, &p, e);
    for (int i = 0; i < p.n && rc == 0; i++)
        if (create_part(r, j, p.v[i], ws, we, trigger, skip_succeeded, e) < 0) rc = -1;
    jb__parts_free(&p);
    return rc;
}

/* The runs of one fire: its window, then the lookback windows.  A schedule
 * firing several times per window (hourly fires of a day window) with a
 * lookback re-runs the fire's window at each of them too, as it re-runs the
 * windows before: the trailing windows are all re-collected at every fire. */
static int fire_runs(jb_runtime *r, const cf_job *j, const jb_timing *t, int64_t fire,
                     int64_t prev, int64_t start_us, ut_error *e)
{
    int64_t ws, we, pws = INT64_MIN, pwe;
    jb__fire_window(t, fire, prev, &ws, &we);
    if (j->lookback > 0 && j->window != CF_WINDOW_NONE && prev != INT64_MIN && prev < fire)
        jb__fire_window(t, prev, INT64_MIN, &pws, &pwe);
    int again = pws == ws; /* the previous fire had this window already */
    for (int k = 0; k <= j->lookback; k++) {
        int64_t s = k ? jb__window_shift(t, ws, -k) : ws;
        int64_t en = k ? jb__window_shift(t, ws, -k + 1) : we;
        if (s < start_us) break;
        if (create_run(r, j, s, en, k || again ? "lookback" : "schedule", k == 0 && !again, e) < 0)
            return -1;
    }
    return 0;
}

/* Step 1 for one job. */
static int plan_job(jb_runtime *r, const cf_job *j, const jb_timing *t, int64_t now, ut_error *e)
{
    char err[512];
    int64_t last, start_us = INT64_MIN;
    if (ct_job_last_fire(r->cat, j->name, &last, err, sizeof err))
        return ut_fail(e, UT_EIO, "job %s: %s", j->name, err);
    if (j->start[0] && jb__parse_time(t, j->start, &start_us) == 0 && last == INT64_MIN)
        last = start_us - 1;
    if (last == INT64_MIN) { /* first seen: from now on */
        if (ct_job_set_last_fire(r->cat, j->name, now, err, sizeof err))
            return ut_fail(e, UT_EIO, "job %s: %s", j->name, err);
        return 0;
    }
    int64_t f, prev = last, done = INT64_MIN;
    /* accounts.sql: looked at again whenever the job fires */
    int64_t due = j->catchup ? jb__next_fire(t, last) : jb__prev_fire(t, now);
    int fires = due != CR_NO_PREV && due <= now && due > last;
    if (fires && j->accounts.sql[0] && jb__accounts_resolve(r, j, e)) return -1;
    if (fires && j->kind == CF_JOB_SNAPSHOT && jb__snap_resolve(r->cf, r->cat, j, e)) return -1;
    if (!j->catchup) { /* only the latest fire, however long the downtime */
        f = jb__prev_fire(t, now);
        if (f == CR_NO_PREV || f <= last) return 0;
        if (fire_runs(r, j, t, f, jb__prev_fire(t, f - 1), start_us, e)) return -1;
        done = f;
    } else {
        f = jb__next_fire(t, last);
        for (int n = 0; f <= now && n < JB_MAX_FIRES_PER_TICK; f = jb__next_fire(t, f), n++) {
            if (fire_runs(r, j, t, f, prev, start_us, e)) return -1;
            done = prev = f;
        }
        if (done == INT64_MIN) return 0;
    }
    if (ct_job_set_last_fire(r->cat, j->name, done, err, sizeof err))
        return ut_fail(e, UT_EIO, "job %s: %s", j->name, err);
    return 0;
}

/* The window of upstream u starting at s, over its accounts: 1 every run
 * ended and one at least succeeded (an account that failed does not hold
 * back the others' data), 0 not yet, 2 none succeeded (why set), -1.
 * *end: where the runs looked at end (the first of them). */
static int upstream_window(jb_runtime *r, const cf_job *u, int64_t s, int64_t *end, char *why,
                           size_t whylen, ut_error *e)
{
    char err[512];
    ct_run last, bad = {0};
    jb_parts p;
    int ok = 0, rc = jb__parts(r->cat, u, &p, e) ? -1 : 1;
    *end = INT64_MAX;
    for (int i = 0; i < p.n && rc == 1; i++) {
        int have = ct_run_latest(r->cat, u->name, p.v[i], s, &last, err, sizeof err);
        if (have < 0) rc = ut_fail(e, UT_EIO, "job %s: %s", u->name, err);
        else if (!have || !ct_run_state_terminal(last.state)) rc = 0;
        else if (last.state == CT_RUN_SUCCEEDED) ok++;
        else bad = last;
        if (have > 0 && last.window_end < *end) *end = last.window_end;
    }
    jb__parts_free(&p);
    if (rc != 1) return rc;
    if (ok) return 1;
    snprintf(why, whylen, "upstream job %s %s for its window starting %" PRId64 " (run %lld%s%s)",
             u->name, ct_run_state_name(bad.state), s, (long long)bad.id,
             bad.part[0] ? ", account " : "", bad.part);
    return 2;
}

/* Is every window of upstream job u within [ws, we) done?  1 ready, 0 not
 * yet, 2 an upstream run failed (why set), -1. */
static int upstream_ready(jb_runtime *r, const cf_job *u, int64_t ws, int64_t we, char *why,
                          size_t whylen, ut_error *e)
{
    const jb_timing *t = jb__timing(r, u);
    if (u->window == CF_WINDOW_NONE) return 1; /* no windows to line up: not a gate */
    int64_t s, en;
    jb__window_of(t, ws, &s, &en);
    for (int i = 0; s < we && i < JB_MAX_WINDOWS; i++) {
        int64_t end;
        int rc = upstream_window(r, u, s, &end, why, whylen, e);
        if (rc != 1) return rc;
        /* a run of a finer window u had before covers part of this one:
         * the rest is looked at from its end */
        int64_t next = jb__window_shift(t, s, 1);
        s = end > s && end < next ? end : next;
    }
    return 1;
}

/* The job writing table t (any case), or NULL. */
static const cf_job *producer_of(const cf_config *cf, const char *t)
{
    for (int i = 0; i < cf->njobs; i++)
        if (cf->jobs[i].table[0] && !strcasecmp(cf->jobs[i].table, t)) return &cf->jobs[i];
    return NULL;
}

/* A stream-landed table is ready for a run once its sink has committed
 * everything acknowledged before the run became due: the stream's end seen
 * at the first look (a gate) must be below the sink's position.  1 / 0. */
static int stream_ready(jb_runtime *r, const ct_run *run, const char *table)
{
    uint64_t pos, end;
    if (!r->o.table_progress || !r->o.table_progress(r->o.progress_ctx, table, &pos, &end))
        return 1; /* not landed by a stream of this process */
    struct jb_gate *g = NULL;
    for (int i = 0; i < r->ngates && !g; i++)
        if (r->gates[i].run_id == run->id && !strcmp(r->gates[i].table, table)) g = &r->gates[i];
    if (!g) {
        g = &r->gates[r->ngates < JB_MAX_GATES ? r->ngates++ : r->next_gate++ % JB_MAX_GATES];
        g->run_id = run->id;
        snprintf(g->table, sizeof g->table, "%s", table);
        g->end = end;
    }
    if (pos < g->end) return 0;
    g->run_id = 0; /* passed: the slot can be reused */
    return 1;
}

/* Are run's dependencies ready?  1 / 0 / 2 (failed upstream) / -1. */
static int deps_ready(jb_runtime *r, const cf_job *j, const ct_run *run, char *why,
                      size_t whylen, ut_error *e)
{
    const struct jb_deps *dl = &r->deps[j - r->cf->jobs];
    for (int i = 0; i < dl->n; i++) {
        const char *d = dl->v[i];
        const cf_job *u = cf_job_find(r->cf, d);
        if (!u) u = producer_of(r->cf, d);
        int rc = u ? upstream_ready(r, u, run->window_start, run->window_end, why, whylen, e)
                   : stream_ready(r, run, d);
        if (rc != 1) return rc;
    }
    return 1;
}

/* Queued + running runs this pass: per job (scheduled, lookback, manual)
 * and per backfill, which have their own cap (`parallel`), so that a
 * backfill never holds back a job's scheduled runs. */
typedef struct tally {
    jb_runtime *r;
    int *out;                 /* per job index */
    char (*bf)[65];           /* backfill names seen */
    int *bf_out, *bf_cap, nbf;
    int failed;               /* a backfill's cap could not be read */
    ut_error *e;
} tally;

static void tally_free(tally *t)
{
    free(t->out);
    free(t->bf);
    free(t->bf_out);
    free(t->bf_cap);
}

/* The tally slot of backfill `name` (cap read once per pass); -1 error. */
static int bf_slot(jb_runtime *r, tally *t, const char *name, ut_error *e)
{
    for (int i = 0; i < t->nbf; i++)
        if (!strcmp(t->bf[i], name)) return i;
    char err[512];
    int cap = 1;
    if (ct_backfill_parallel(r->cat, name, &cap, err, sizeof err) < 0)
        return ut_fail(e, UT_EIO, "%s", err);
    t->bf = ut_realloc(t->bf, sizeof *t->bf * (size_t)(t->nbf + 1));
    t->bf_out = ut_realloc(t->bf_out, sizeof *t->bf_out * (size_t)(t->nbf + 1));
    t->bf_cap = ut_realloc(t->bf_cap, sizeof *t->bf_cap * (size_t)(t->nbf + 1));
    snprintf(t->bf[t->nbf], sizeof t->bf[0], "%s", name);
    t->bf_out[t->nbf] = 0;
    t->bf_cap[t->nbf] = cap > 0 ? cap : 1; /* a serial backfill is one run */
    return t->nbf++;
}

static void tally_one(void *arg, const char *job, const char *backfill, int n)
{
    tally *t = arg;
    const cf_job *j = cf_job_find(t->r->cf, job);
    if (backfill[0]) {
        int k = t->failed ? -1 : bf_slot(t->r, t, backfill, t->e);
        if (k < 0) t->failed = 1;
        else t->bf_out[k] += n;
    } else if (j) {
        t->out[j - t->r->cf->jobs] += n;
    }
}

static int load_tally(jb_runtime *r, tally *t, ut_error *e)
{
    char err[512];
    t->r = r;
    t->e = e;
    t->out = ut_calloc((size_t)r->cf->njobs + 1, sizeof *t->out);
    if (ct_runs_out(r->cat, tally_one, t, err, sizeof err) < 0)
        return ut_fail(e, UT_EIO, "%s", err);
    return t->failed ? -1 : 0;
}

/* The counter and cap run counts against (its backfill's, or its job's). */
static int slot_of(jb_runtime *r, tally *t, const cf_job *j, const ct_run *run, int **count,
                   int *cap, ut_error *e)
{
    if (run->backfill[0]) {
        int k = bf_slot(r, t, run->backfill, e);
        if (k < 0) return -1;
        *count = &t->bf_out[k];
        *cap = t->bf_cap[k];
    } else {
        *count = &t->out[j - r->cf->jobs];
        *cap = (int)j->max_active;
    }
    return 0;
}

/* Runs ready to queue, pushed to the queue with one write and marked
 * queued in one transaction.  Each holds its place in the tally (count). */
typedef struct batch {
    int64_t ids[JB_PUSH_MAX];
    int *count[JB_PUSH_MAX];
    int n;
} batch;

/* Push and mark the batch.  Queued count, or -1 (the runs stay waiting; a
 * task pushed for a run that was not marked is refused by ct_run_start). */
static int flush(jb_runtime *r, batch *b, ut_error *e)
{
    char err[512];
    int n = b->n, queued[JB_PUSH_MAX], total = 0;
    int64_t tasks[JB_PUSH_MAX];
    uint64_t first;
    b->n = 0;
    if (!n) return 0;
    int rc = jb__queue_push_many(r->q, b->ids, n, &first, err, sizeof err) ? -1 : 0;
    if (rc) ut_fail(e, UT_EIO, "queue: %s", err);
    for (int i = 0; i < n && rc == 0; i++) tasks[i] = (int64_t)(first + (uint64_t)i);
    if (rc == 0 && ct_runs_queue(r->cat, b->ids, tasks, n, queued, err, sizeof err) < 0)
        rc = ut_fail(e, UT_EIO, "%s", err);
    for (int i = 0; i < n; i++) {
        if (rc == 0 && queued[i]) total++;
        else (*b->count[i])--;
    }
    r->runs_queued += (uint64_t)total;
    return rc ? -1 : total;
}

/* Look at one due run (step 2): into the batch when it may start.  1 added,
 * 0 not now, -1. */
static int promote(jb_runtime *r, const ct_run *run, tally *t, batch *b, ut_error *e)
{
    char err[512], why[600];
    const cf_job *j = cf_job_find(r->cf, run->job);
    if (!j) {
        snprintf(why, sizeof why, "job %s is no longer in the config", run->job);
        return ct_run_fail(r->cat, run->id, why, err, sizeof err) < 0
                   ? ut_fail(e, UT_EIO, "%s", err) : 0;
    }
    int *count, cap;
    if (slot_of(r, t, j, run, &count, &cap, e)) return -1;
    if (*count >= cap) return 0;
    int ready = deps_ready(r, j, run, why, sizeof why, e);
    if (ready < 0) return -1;
    if (ready == 2) {
        lg_warn("jobs", "job %s: run %lld failed: %s", j->name, (long long)run->id, why);
        return ct_run_fail(r->cat, run->id, why, err, sizeof err) < 0
                   ? ut_fail(e, UT_EIO, "%s", err) : 0;
    }
    if (!ready) return 0;
    b->ids[b->n] = run->id;
    b->count[b->n++] = count;
    (*count)++;
    return 1;
}

/* Step 2: scheduled, lookback and manual runs first, then backfills, each
 * looked at apart so that a backfill of any size never hides a scheduled
 * run.  Queued count or -1. */
static int promote_all(jb_runtime *r, int64_t now_ms, ut_error *e)
{
    char err[512];
    tally t = {0};
    batch b = {.n = 0};
    int queued = 0, loaded = 0;
    for (int pass = 0; pass < 2 && queued >= 0; pass++) {
        ct_run *v = NULL;
        int n = ct_runs_due(r->cat, now_ms, pass, 10000, &v, err, sizeof err);
        if (n < 0) queued = ut_fail(e, UT_EIO, "%s", err);
        /* the tally counts every queued and running run: only when one is due */
        if (n > 0 && !loaded++ && load_tally(r, &t, e)) queued = -1;
        for (int i = 0; i < n && queued >= 0; i++) {
            if (promote(r, &v[i], &t, &b, e) < 0) queued = -1;
            if (queued >= 0 && b.n == JB_PUSH_MAX) {
                int q = flush(r, &b, e);
                queued = q < 0 ? -1 : queued + q;
            }
        }
        free(v);
        int q = flush(r, &b, queued < 0 ? &(ut_error){0} : e);
        queued = queued < 0 || q < 0 ? -1 : queued + q;
    }
    tally_free(&t);
    return queued;
}

static void on_dead(void *arg, uint64_t task, int64_t run_id)
{
    jb_runtime *r = arg;
    char err[512], why[300];
    snprintf(why, sizeof why, "dead-lettered: its task was taken over %lld times because the "
                              "workers running it stopped heartbeating (killed or stuck)",
             (long long)r->cf->scheduler.max_deliveries);
    int n = ct_run_dead(r->cat, (int64_t)task, why, err, sizeof err);
    if (n < 0) lg_error("jobs", "run %lld: %s", (long long)run_id, err);
    else if (n) lg_warn("jobs", "run %lld %s", (long long)run_id, why);
    r->dead_letters++;
}

int jb__tick_locked(jb_runtime *r, ut_error *e)
{
    int64_t now = jb__now_us(r);
    for (int i = 0; i < r->cf->njobs; i++)
        if (plan_job(r, &r->cf->jobs[i], &r->timings[i], now, e)) return -1;
    char err[512];
    if (jb__queue_dead(r->q, &r->dead_cursor, on_dead, r, err, sizeof err) < 0)
        return ut_fail(e, UT_EIO, "dead letters: %s", err);
    return promote_all(r, now / 1000, e);
}
