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
    atomic_int cancel;  /* set by jb_stop: pool waits end */
    ct_catalog *cat;    /* the scheduler's connection (under mu) */
    uint64_t dead_cursor;

    pthread_mutex_t mu; /* scheduler state, inflight, busy, stop */
    pthread_cond_t cv;  /* scheduler wake-ups, idle waits */
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

    atomic_llong tmp_gc_ms; /* monotonic ms of the next jb__tmp_collect pass */

    /* counters for /metrics */
    uint64_t runs_queued, tasks_taken, tasks_claimed, tasks_acked, dead_letters;
};

/* Ask the scheduler for a pass soon (a run finished). */
void jb__kick(jb_runtime *r);
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
/* sched.c: one pass under r->mu. */
int jb__tick_locked(jb_runtime *r, ut_error *e);

#endif
