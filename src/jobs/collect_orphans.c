/* jobs: kind collect — what a killed worker's raw files leave in the store,
 * and cleaning it (docs/collectors.md "Raw files and manifests").
 *
 * A worker killed -9 in the middle of a download leaves the part it was
 * streaming unfinished: an S3 multipart upload (parts billed, invisible to
 * listings) or a local ".tmp-up-*" file; and maybe parts it committed
 * before.  Two ways they go:
 *
 *   takeover  the delivery that claims the task next (deliveries > 1: the
 *             one before died or stalled, and is fenced out) aborts every
 *             unfinished write and deletes every object of the run's prefix
 *             raw/<job>/<account>/<ds>/run<id>{-*,.manifest.json} before it
 *             fetches: the run's raw files are then its own, stored once;
 *   sweep     every JB_RAW_SWEEP_MS (and when a runtime starts), unfinished
 *             writes under raw/: a local temp file nobody's lock holds and
 *             idle for JB_RAW_IDLE_MS; an S3 upload initiated JB_RAW_GRACE_MS
 *             ago whose run is not running (finished, waiting, gone), or
 *             JB_RAW_AGE_MS ago whatever its run -- so a run that never
 *             comes back leaves nothing either.
 *
 * A store without ListMultipartUploads (s3rver) cannot be looked at: the
 * takeover and the sweep log it and go on. */
#include "jobs/jb_rt.h"
#include "log/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct orphan {
    char *key, *id;
    int64_t time_ms;
    int held;
} orphan;

typedef struct orphans {
    orphan *v;
    int n, cap;
    const char *prefix; /* NULL: all; else the run's (its own keys only) */
} orphans;

#define ORPHANS_MAX 100000 /* per pass; the rest next time */

/* key belongs to the run whose prefix is p ("…/run42"): "…/run42-*" or
 * "…/run42.manifest.json", not "…/run420-*". */
static int of_run(const char *p, const char *key)
{
    size_t n = strlen(p);
    return !strncmp(key, p, n) && (key[n] == '-' || !strcmp(key + n, ".manifest.json"));
}

static int collect_cb(void *ctx, const char *key, const char *id, int64_t ms, int held)
{
    orphans *o = ctx;
    if (o->prefix && !of_run(o->prefix, key)) return 0;
    if (o->n == ORPHANS_MAX) return 1;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->v = ut_realloc(o->v, (size_t)o->cap * sizeof *o->v);
    }
    o->v[o->n++] = (orphan){ut_strdup(key), ut_strdup(id), ms, held};
    return 0;
}

static int keys_cb(void *ctx, const char *key, uint64_t size, int64_t ms)
{
    (void)size;
    return collect_cb(ctx, key, "", ms, 0);
}

static void orphans_free(orphans *o)
{
    for (int i = 0; i < o->n; i++) free(o->v[i].key), free(o->v[i].id);
    free(o->v);
    memset(o, 0, sizeof *o);
}

int jb__raw_takeover(jb_task_ctx *c)
{
    if (c->done->deliveries <= 1) return 0;
    char prefix[400], err[512];
    jb__raw_prefix(c, prefix, sizeof prefix);
    orphans up = {.prefix = prefix}, obj = {.prefix = prefix};
    int aborted = 0, deleted = 0;
    if (st_uploads(c->store, prefix, collect_cb, &up, err, sizeof err) < 0)
        lg_warn("jobs", "job %s run %lld: cannot look for the unfinished raw uploads of the "
                "delivery before (%s)", c->job->name, (long long)c->run->id, err);
    for (int i = 0; i < up.n; i++) {
        if (st_upload_abort(c->store, up.v[i].key, up.v[i].id, err, sizeof err) == 0) aborted++;
        else lg_warn("jobs", "job %s run %lld: %s", c->job->name, (long long)c->run->id, err);
    }
    if (st_list(c->store, prefix, keys_cb, &obj, err, sizeof err) < 0)
        lg_warn("jobs", "job %s run %lld: %s", c->job->name, (long long)c->run->id, err);
    for (int i = 0; i < obj.n; i++) {
        if (st_delete(c->store, obj.v[i].key, err, sizeof err) == 0) deleted++;
        else lg_warn("jobs", "job %s run %lld: %s", c->job->name, (long long)c->run->id, err);
    }
    if (aborted || deleted)
        lg_info("jobs", "job %s run %lld delivery %d: took over; %d unfinished raw upload%s "
                "aborted, %d raw file%s of the delivery before deleted", c->job->name,
                (long long)c->run->id, c->done->deliveries, aborted, aborted == 1 ? "" : "s",
                deleted, deleted == 1 ? "" : "s");
    orphans_free(&up);
    orphans_free(&obj);
    return aborted + deleted;
}

/* The run id in "raw/<job>/<account>/<ds>/run<id>-…", or 0. */
static int64_t run_of(const char *key)
{
    const char *seg = strrchr(key, '/');
    seg = seg ? seg + 1 : key;
    if (strncmp(seg, "run", 3)) return 0;
    char *end;
    long long id = strtoll(seg + 3, &end, 10);
    return end != seg + 3 && (*end == '-' || *end == '.') && id > 0 ? id : 0;
}

int jb__raw_stale(const char *key, int64_t time_ms, int held, ct_catalog *cat, int64_t now_ms,
                  const jb_raw_sweep_opts *so)
{
    int64_t age = now_ms - time_ms;
    if (held == 1) return 0;                       /* a living writer's */
    if (held == 0) return age >= so->idle_ms;      /* nobody's (local) */
    if (age >= so->age_ms) return 1;
    if (age < so->grace_ms) return 0;
    int64_t id = run_of(key);
    if (!id || !cat) return 0;
    ct_run run;
    char err[512];
    int have = ct_run_get(cat, id, &run, err, sizeof err);
    return have == 0 || (have == 1 && run.state != CT_RUN_RUNNING);
}

int jb__raw_sweep(st_store *s, ct_catalog *cat, int64_t now_ms, const jb_raw_sweep_opts *so)
{
    char err[512];
    orphans o = {0};
    if (st_uploads(s, "raw/", collect_cb, &o, err, sizeof err) < 0) {
        lg_debug("jobs", "raw sweep: cannot list unfinished uploads (%s)", err);
        orphans_free(&o);
        return 0;
    }
    int n = 0;
    for (int i = 0; i < o.n; i++) {
        if (!jb__raw_stale(o.v[i].key, o.v[i].time_ms, o.v[i].held, cat, now_ms, so)) continue;
        if (st_upload_abort(s, o.v[i].key, o.v[i].id, err, sizeof err) == 0) n++;
        else lg_warn("jobs", "raw sweep: %s", err);
    }
    if (n) lg_info("jobs", "raw sweep: aborted %d unfinished raw upload%s of workers that are "
                   "gone", n, n == 1 ? "" : "s");
    orphans_free(&o);
    return n;
}

void jb__raw_sweep_due(jb_runtime *r, int now)
{
    if (!r->o.store) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long t = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    long long due = atomic_load(&r->raw_sweep_ms);
    if (!now && (t < due || !atomic_compare_exchange_strong(&r->raw_sweep_ms, &due,
                                                            t + JB_RAW_SWEEP_MS)))
        return;
    if (now) atomic_store(&r->raw_sweep_ms, t + JB_RAW_SWEEP_MS);
    char err[512];
    ct_catalog *cat = ct_open(r->catalog, err, sizeof err);
    if (!cat) lg_debug("jobs", "raw sweep: %s (runs not looked at)", err);
    clock_gettime(CLOCK_REALTIME, &ts);
    jb_raw_sweep_opts so = {JB_RAW_IDLE_MS, JB_RAW_GRACE_MS, JB_RAW_AGE_MS};
    (void)jb__raw_sweep(r->o.store, cat, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &so);
    ct_close(cat);
}
