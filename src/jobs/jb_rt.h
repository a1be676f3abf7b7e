/* jobs: the runtime struct, shared by runtime.c, sched.c and worker.c only
 * (the kinds see jb_task_ctx). */
#ifndef SLUICE_JB_RT_H
#define SLUICE_JB_RT_H

#include "jobs/jb_int.h"
#include "pool/pool.h"

#include <stdatomic.h>

#define JB_MAX_WORKERS 256
#define JB_MAX_INFLIGHT JB_MAX_WORKERS
#define JB_MAX_GATES 4096

/* A task being worked on, heartbeated by the heartbeat thread. */
typedef struct jb_inflight {
    int used;
    char consumer[96];
    jb_task task;
    pl_slot slot; /* its pool slot (lease 0: none), renewed with the heartbeat */
    sq_engine *eng; /* a sql task's engine: interrupted when the runtime stops */
    int lost;     /* a heartbeat found the task taken over */
    int failing;  /* the last heartbeat could not reach the queue */
} jb_inflight;

typedef struct jb_worker {
    jb_runtime *rt;
    int index;
    pthread_t th;
    char name[96]; /* consumer name: <host>-<pid>-w<index> */
} jb_worker;

struct jb_runtime {
    jb_opts o;
    const cf_config *cf;
    char data_dir[4096], catalog[4200], config_dir[4096];
    jb_timing *timings; /* per cf->jobs[i] */
    struct jb_deps {
        char **v;       /* depends_on + tables the SQL reads (jb__deps) */
        int n;
    } *deps;            /* per cf->jobs[i] */
    jb_queue *q;
    pl_pools *pools;    /* <data_dir>/jobs/pools */
    cl_tokens *tokens;  /* kind collect: OAuth2 access tokens, per job and account */
    atomic_int cancel;  /* set by jb_stop: pool waits end */
    /* cmu: the scheduler's state -- its connection cat, the gates, the dead
     * letter cursor, runs_queued and dead_letters; held for a whole pass
     * (catalog and queue writes).  mu: stop, kick, busy, inflight and the
     * worker counters; only ever held briefly, never while taking cmu. */
    pthread_mutex_t cmu;
    ct_catalog *cat;
    uint64_t dead_cursor;

    pthread_mutex_t mu;
    pthread_cond_t cv;  /* the scheduler's wake-ups (kick, stop) */
    pthread_cond_t hb_cv; /* the heartbeat thread's (stop) */
    int stop, kick;
    int busy;           /* workers running a task */
    jb_inflight inflight[JB_MAX_INFLIGHT];

    int nworkers;
    jb_worker workers[JB_MAX_WORKERS];
    pthread_t sched_th, hb_th;
    int sched_started, hb_started;

    /* stream tables a waiting run depends on: the stream's end when the run
     * was first looked at after its window closed (the sink must commit up to
     * it); a bounded table, oldest entries reused */
    struct jb_gate {
        int64_t run_id;
        char table[CF_TABLE_MAX];
        uint64_t end;
    } gates[JB_MAX_GATES];
    int ngates, next_gate;

    /* the connection of triggers through the HTTP API (jb__trigger) */
    pthread_mutex_t tmu;
    ct_catalog *tcat;

    /* the committer (finish.c): finishes handed over by workers */
    pthread_mutex_t fmu;
    pthread_cond_t fcv;
    struct jb_fin *fin_head, *fin_tail;
    int fin_n;          /* handed over, not settled (waiting + being committed) */
    int fin_busy;       /* of which the committer is committing */
    int fin_stop, fin_started;
    pthread_t fin_th;

    atomic_llong tmp_gc_ms; /* monotonic ms of the next jb__tmp_collect pass */
    atomic_llong raw_sweep_ms; /* ... of the next jb__raw_sweep (collect_orphans.c) */

    /* counters for /metrics */
    uint64_t runs_queued, tasks_taken, tasks_claimed, tasks_acked, dead_letters;
    struct jb_cstats *cstats; /* per job (cf->jobs order): collect runs' HTTP work */
    struct jb__builtin *builtin; /* the built-in alerts (builtin.c), NULL if none */
};

/* What the collect runs of one job did, summed (kind_collect.c adds each
 * run's cl_result; jb_metrics reads). */
#define JB_CSTATS 8
typedef struct jb_cstats {
    atomic_llong v[JB_CSTATS]; /* calls, throttled, retries, refreshes, resumes, pages,
                                  records, raw_bytes */
} jb_cstats;
void jb__cstats_add(jb_runtime *r, const cf_job *j, const cl_result *res);

/* Ask the scheduler for a pass soon (a run finished). */
void jb__kick(jb_runtime *r);
/* finish.c: hand the finish d of the run delivery t runs (consumer, job j,
 * attempt) to the committer, which records it with others in one
 * transaction, logs it and acks t once durable.  d is copied (its io is
 * not: only for finishes without lineage).  Waits only when JB_FIN_MAX
 * finishes wait already. */
void jb__finish_later(jb_runtime *r, const ct_run_done *d, const jb_task *t,
                      const char *consumer, const cf_job *j, int attempt);
int jb__committer_start(jb_runtime *r, char *err, size_t errlen);
/* Settle everything handed over, then end the thread. */
void jb__committer_stop(jb_runtime *r);
/* Finishes handed over and not settled yet. */
int jb__finishes_waiting(jb_runtime *r);
/* accounts.c: run j's accounts.sql and keep what it found as j's accounts
 * (in r->cat, under cmu).  0 / -1. */
int jb__accounts_resolve(jb_runtime *r, const cf_job *j, ut_error *e);
/* jb_trigger on the runtime's own connection (the HTTP API). */
int jb__trigger(jb_runtime *r, const cf_job *j, int64_t window_us, int force, int64_t *run_id,
                ut_error *e);
/* worker.c */
int jb__workers_start(jb_runtime *r, char *err, size_t errlen);
void jb__workers_join(jb_runtime *r);
/* tmp.c: a locked staging file "<data_dir>/jobs/tmp/sl-<pid>-<seq>-<tag><suffix>"
 * (path into path[n]): its fd, open until the file is unlinked, or -1 with e. */
int jb__tmp_create(const jb_runtime *r, const char *tag, const char *suffix, char *path,
                   size_t n, ut_error *e);
/* Delete the staging files of workers that are gone, if a pass is due
 * (every JB_TMP_GC_MS) or `now`.  How many it deleted. */
#define JB_TMP_GC_MS (60 * 1000)
#define JB_TMP_STALE_MS (24LL * 3600 * 1000) /* unlocked and untouched: gone too */
int jb__tmp_collect(jb_runtime *r, int now);
/* collect_orphans.c: jb__raw_sweep of the runtime's store, if a pass is due
 * (every JB_RAW_SWEEP_MS; from jb__tmp_collect) or `now`. */
#define JB_RAW_SWEEP_MS (10 * 60 * 1000)
void jb__raw_sweep_due(jb_runtime *r, int now);
/* builtin.c: the built-in alerts (config alerts:).  start: with thread, a
 * thread checks every alerts.every (else tests call jb__builtin_check);
 * nothing when every check is off.  0 / -1. */
typedef struct jb__builtin jb__builtin;
int jb__builtin_start(jb_runtime *r, int thread, char *err, size_t errlen);
void jb__builtin_stop(jb_runtime *r);  /* joins the thread; idempotent */
void jb__builtin_free(jb_runtime *r);  /* stops first; accepts none started */
int jb__builtin_check(jb_runtime *r, char *err, size_t errlen);
/* {"webhook":bool,"every_ms":..,"checks":[...],"notices":[...]} */
void jb__builtin_json(jb_runtime *r, ut_buf *out);
/* alert.c: the saved state of alert job `job` (none or unreadable: ok). */
typedef struct jb_alert_state {
    int triggered;
    int64_t since_ms, notified_ms;
} jb_alert_state;
void jb__alert_state_load(const char *data_dir, const char *job, jb_alert_state *s);
/* Where that state is: <data_dir>/jobs/alerts/<job>.json (into out[n]). */
void jb__alert_state_path(const char *data_dir, const char *job, char *out, size_t n);
/* sched.c: one pass under r->cmu. */
int jb__tick_locked(jb_runtime *r, ut_error *e);

#endif
