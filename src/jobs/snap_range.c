/* jobs: a split table's ranges as tasks that any worker of any process can
 * take (tables.<t>.split_by + parallel: N; docs/snapshots.md "Parallel
 * reads").
 *
 *   the table's run (the coordinator): min/max of split_by in its scan, the
 *   snapshot exported (its transaction stays open until the commit), the
 *   plan stored at P = .stage/<table>/run<R>-t<T>-d<D>/plan (T, D: the
 *   run's task and delivery) ──► N sub-tasks "r<i>.t<T>.d<D>" of the run
 *   pushed to the queue (jb__queue_push_tagged)
 *   ──► any worker takes one (jb__kind_snapshot_sub): the run still held by
 *       delivery (T, D)? range i not done, nobody reading it? ──► the start
 *       marker P/r<i>.start, rewritten while it reads (a lease of
 *       task_timeout) ──► SET TRANSACTION SNAPSHOT, range i of split_by
 *       into Parquet files ──► stored at P/r<i>-<nonce>-<f>.parquet ──► the
 *       manifest P/r<i>.done (files, rows, statistics), never over one that
 *       is there: the first complete read of a range wins, a later one (a
 *       delivery that stalled and was taken over, or the coordinator)
 *       deletes its own files; any read of the range is the same rows
 *   ──► the coordinator, while it waits, reads the ranges nobody started
 *       (or whose marker went stale: their reader died) itself, last first,
 *       so a run completes with one worker thread in all
 *   ──► every range done: the snapshot's transaction ends, the ranges'
 *       files land with the run in ONE catalog transaction
 *       (lk_land_stored), P is deleted.
 *
 * A range reader that fails stores P/r<i>.err; the coordinator fails the
 * run with it (retried as any run).  The coordinator killed: its snapshot
 * is gone, its ranges' sub-tasks end (their run moved on, or the import
 * fails), its run is taken over and starts again with a new P; what the
 * old P holds is deleted by the next coordinator of the table
 * (sweep_stale), local temp files of dead writers by jb__tmp_collect.
 * The plan's and the manifests' texts: snap_stage.c.  Memory: one writer
 * per range reader; a process's range readers share its buffers. */
#include "jobs/jb_snap.h"
#include "log/log.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PLAN_MAX_BYTES (16u << 20)
#define MANIFEST_MAX_BYTES (256u << 20)

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* b's bytes as a string (b freed). */
static char *buf_text(ut_buf *b)
{
    char *t = ut_calloc(b->len + 1, 1);
    if (b->len) memcpy(t, b->p, b->len);
    ut_buf_free(b);
    return t;
}

/* ---- names ----------------------------------------------------------------------- */

/* P, the run delivery's staging prefix. */
static void stage_prefix(const jb_snap_run *k, int64_t task, int d, char *out, size_t n)
{
    snprintf(out, n, "%s/%s/run%lld-t%lld-d%d", SNAP_STAGE_DIR, k->table,
             (long long)k->c->run->id, (long long)task, d);
}

static void range_key(const char *p, int i, const char *what, char *out, size_t n)
{
    snprintf(out, n, "%s/r%d.%s", p, i, what);
}

/* The plan at P into p and k's columns.  1, 0 (no plan: the coordinator is
 * gone), -1 with e. */
static int plan_read(jb_snap_run *k, const char *pfx, jb_snap_plan *p, ut_error *e)
{
    char key[800], err[600];
    snprintf(key, sizeof key, "%s/plan", pfx);
    uint64_t size;
    int have = st_head(k->c->store, key, &size, NULL, err, sizeof err);
    if (have <= 0 || size > PLAN_MAX_BYTES)
        return have < 0 ? jb__snap_fail(k, e, UT_EIO, "%s", err) : have == 0 ? 0
               : jb__snap_fail(k, e, UT_ETOOBIG, "%s: over %u bytes", key, PLAN_MAX_BYTES);
    ut_buf b = {0};
    if (st_get(k->c->store, key, 0, 0, &b, err, sizeof err)) {
        ut_buf_free(&b); /* deleted since the look (the run ended)? */
        if (st_head(k->c->store, key, NULL, NULL, NULL, 0) == 0) return 0;
        return jb__snap_fail(k, e, UT_EIO, "%s", err);
    }
    char *text = buf_text(&b);
    int rc = jb__snap_plan_parse(k, text, p, key, e);
    free(text);
    return rc ? -1 : 1;
}

/* ---- one range ------------------------------------------------------------------- */

/* The scan of range i of plan p, in its snapshot (NULL with e: the
 * coordinator's snapshot is gone, the source unreachable). */
static sn_scan *open_range(jb_snap_run *k, const jb_snap_plan *p, int i, sn_source **src,
                           ut_error *e)
{
    char err[1200];
    *src = sn_open(k->c->cf, k->c->job->source, err, sizeof err);
    sn_scan *sc = *src ? sn_scan_begin_shared(*src, k->c->run->part, ut_buf_cstr(&p->where),
                                              p->snapshot, err, sizeof err)
                       : NULL;
    if (!sc) {
        sn_close(*src);
        *src = NULL;
        jb__snap_fail(k, e, UT_EIO, "range %d of %d: %s", i + 1, p->n, err);
        return NULL;
    }
    sn_scan_limits(sc, &k->c->rt->cancel, k->c->deadline_ms);
    __int128 span = (__int128)p->hi - p->lo + 1;
    int64_t a = (int64_t)(p->lo + span * i / p->n), b = (int64_t)(p->lo + span * (i + 1) / p->n);
    int ends = (i == 0 ? SN_FROM_START : 0) | (i == p->n - 1 ? SN_TO_END : 0);
    sn_scan_narrow(sc, p->split, a, b, ends);
    return sc;
}

typedef struct range_lease {
    char key[800], by[96];
    int64_t last_ms, every_ms;
} range_lease;

static void lease_put(jb_snap_run *k, range_lease *l)
{
    char err[600];
    l->last_ms = wall_ms();
    if (st_put(k->c->store, l->key, l->by, strlen(l->by), err, sizeof err))
        lg_warn("jobs", "job %s table %s: %s", k->c->job->name, k->c->run->part, err);
}

static void lease_tick(jb_snap_reader *r)
{
    range_lease *l = r->k->tick_arg;
    if (wall_ms() - l->last_ms >= l->every_ms) lease_put(r->k, l);
}

/* Store text at key unless an object is there.  1 stored, 0 one was there,
 * -1 with err. */
static int put_new(jb_snap_run *k, const char *key, const ut_buf *text, char *err, size_t n)
{
    char dir[4200], tmp[4400];
    snprintf(dir, sizeof dir, "%s/lake-tmp", jb__data_dir(k->c->rt));
    if (ut_mkdir_p(dir, err, n)) return -1;
    lk_tmp_path(dir, "manifest", tmp, sizeof tmp);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(text->p, 1, text->len, f) == text->len;
    if (f && fclose(f)) ok = 0;
    if (!ok) {
        unlink(tmp);
        return ut_err(err, n, "%s: cannot write", tmp);
    }
    int rc = st_move_file(k->c->store, key, tmp, err, n) ? -1 : 1;
    if (rc < 0 && st_head(k->c->store, key, NULL, NULL, NULL, 0) == 1) rc = 0;
    unlink(tmp);
    return rc;
}

/* The read files of r staged under P and range i's manifest stored.  1
 * stored, 0 another read of the range was first (its files stand), -1. */
static int stage(jb_snap_run *k, jb_snap_reader *r, const char *pfx, int i, const char *by,
                 ut_error *e)
{
    char err[1200], (*keys)[800] = ut_calloc((size_t)r->nfiles + 1, sizeof *keys);
    ut_buf m = {0};
    jb__snap_manifest_head(&m, r->rows, by, r->nulled, k->ncols);
    int rc = 0, stored = 0;
    for (int f = 0; f < r->nfiles && rc == 0; f++) {
        ct_file cf;
        lk_land_file lf = {.w = r->files[f].w, .tmp = r->files[f].tmp, .partition = "",
                           .name = "staged", .min_offset = -1, .max_offset = -1};
        snprintf(keys[f], sizeof keys[f], "%s/r%d-%ldx%lld-%04d.parquet", pfx, i, (long)getpid(),
                 (long long)wall_ms(), f);
        rc = lk_land_describe(&lf, &cf, err, sizeof err) ||
                     st_move_file(k->c->store, keys[f], r->files[f].tmp, err, sizeof err) ? -1 : 0;
        if (rc == 0) {
            r->files[f].tmp[0] = 0, stored = f + 1;
            jb__snap_manifest_file(&m, keys[f], &cf);
        }
        free(cf.stats);
    }
    char key[800], plan[800];
    range_key(pfx, i, "done", key, sizeof key);
    snprintf(plan, sizeof plan, "%s/plan", pfx);
    if (rc == 0) rc = put_new(k, key, &m, err, sizeof err);
    /* the coordinator deletes the plan first, then what it lists: a plan still there
     * now means that listing comes after these stores and deletes them too */
    if (rc == 1 && st_head(k->c->store, plan, NULL, NULL, NULL, 0) == 0) {
        (void)st_delete(k->c->store, key, NULL, 0);
        rc = 0;
    }
    for (int f = 0; rc <= 0 && f < stored; f++) (void)st_delete(k->c->store, keys[f], NULL, 0);
    ut_buf_free(&m);
    free(keys);
    return rc < 0 ? jb__snap_fail(k, e, UT_EIO, "range %d: %s", i + 1, err) : rc;
}

/* Claim range i for `by`: its start marker made, never over one (steal:
 * over one whose lease ran out, or whose holder's task was taken over).
 * 1 claimed, 0 another reader holds it. */
static int claim(jb_snap_run *k, const char *pfx, int i, const char *by, int steal,
                 range_lease *l)
{
    *l = (range_lease){.every_ms = k->c->cf->scheduler.task_timeout_ms / 3};
    range_key(pfx, i, "start", l->key, sizeof l->key);
    snprintf(l->by, sizeof l->by, "%s", by);
    if (steal) {
        lease_put(k, l);
        return 1;
    }
    char err[1200];
    ut_buf b = {0};
    ut_buf_puts(&b, by);
    int rc = put_new(k, l->key, &b, err, sizeof err);
    ut_buf_free(&b);
    l->last_ms = wall_ms();
    if (rc < 0) /* read anyway: a second read of a range is dropped, never landed twice */
        lg_warn("jobs", "job %s table %s: %s", k->c->job->name, k->c->run->part, err);
    return rc != 0;
}

/* Read claimed range i over scan (consumed) into files staged under P.  0 / -1. */
static int read_range(jb_snap_run *k, const jb_snap_plan *p, int i, const char *pfx,
                      sn_source *src, sn_scan *scan, range_lease *l, ut_error *e)
{
    const char *by = l->by;
    k->tick = lease_tick, k->tick_arg = l;
    int w = k->c->rt->o.workers;
    k->share = w < 1 ? 1 : w < p->n ? w : p->n;
    jb_snap_reader r;
    jb__snap_reader_init(&r, k, src, scan);
    int rc = jb__snap_read_rows(&r);
    k->tick = NULL, k->tick_arg = NULL;
    if (rc) *e = r.err;
    sn_scan_end(r.scan); /* the range is read: its transaction ends */
    sn_close(r.src);
    r.scan = NULL, r.src = NULL;
    int st = rc ? -1 : stage(k, &r, pfx, i, by, e);
    if (st >= 0)
        lg_info("jobs", "job %s run %lld table %s range %d of %d: %" PRId64 " rows, %d files, read "
                "by %s%s", k->c->job->name, (long long)k->c->run->id, k->c->run->part, i + 1,
                p->n, r.rows, r.nfiles, by, st ? "" : " (another read of it was first: dropped)");
    jb__snap_reader_free(&r, 0);
    return st < 0 ? -1 : 0;
}

/* Range i failed (e): said in P/r<i>.err for the coordinator. */
static void range_failed(jb_snap_run *k, const char *pfx, int i, const ut_error *e)
{
    char key[800];
    range_key(pfx, i, "err", key, sizeof key);
    (void)st_put(k->c->store, key, e->msg, strlen(e->msg), NULL, 0);
}

/* ---- the coordinator ------------------------------------------------------------- */

typedef struct range_state {
    int n;
    size_t plen;
    unsigned char done[SNAP_MAX_PARALLEL], err[SNAP_MAX_PARALLEL];
    int64_t start_ms[SNAP_MAX_PARALLEL]; /* the start marker's time; 0 none */
} range_state;

static int look_one(void *ctx, const char *key, uint64_t size, int64_t mtime_ms)
{
    range_state *s = ctx;
    const char *b = key + s->plen;
    char what[8];
    int i, used = 0;
    (void)size;
    if (sscanf(b, "/r%d.%7[a-z]%n", &i, what, &used) != 2 || b[used] || i < 0 || i >= s->n)
        return 0;
    if (!strcmp(what, "done")) s->done[i] = 1;
    else if (!strcmp(what, "err")) s->err[i] = 1;
    else if (!strcmp(what, "start")) s->start_ms[i] = mtime_ms > 0 ? mtime_ms : 1;
    return 0;
}

/* What P holds now.  0 / -1 with err. */
static int look(jb_snap_run *k, const char *pfx, int n, range_state *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->n = n, s->plen = strlen(pfx);
    return st_list(k->c->store, pfx, look_one, s, err, errlen) < 0 ? -1 : 0;
}

/* Has the run's task been taken over (the heartbeat said so)? */
static int task_lost(const jb_task_ctx *c)
{
    jb_inflight *f = c->inflight;
    if (!f) return 0;
    pthread_mutex_lock(&c->rt->mu);
    int lost = f->lost;
    pthread_mutex_unlock(&c->rt->mu);
    return lost;
}

/* A scan of the same table in the same snapshot has the columns k planned. */
static int same_columns(const jb_snap_run *k, const sn_scan *sc)
{
    if (sn_scan_ncols(sc) != sn_scan_ncols(k->scan)) return 0;
    for (int s = 0; s < k->nsel; s++)
        if (strcmp(sn_scan_columns(sc)[k->sel[s]].name, sn_scan_columns(k->scan)[k->sel[s]].name))
            return 0;
    return 1;
}

/* The coordinator reads range i itself, unless another reader claimed it
 * meanwhile (steal: its marker was stale).  0 / -1. */
static int read_here(jb_snap_run *k, const jb_snap_plan *p, int i, const char *pfx, int steal,
                     ut_error *e)
{
    range_lease l;
    if (!claim(k, pfx, i, k->c->worker, steal, &l)) return 0;
    sn_source *src;
    sn_scan *sc = open_range(k, p, i, &src, e);
    if (!sc) return -1;
    if (!same_columns(k, sc)) {
        sn_scan_end(sc);
        sn_close(src);
        return jb__snap_fail(k, e, UT_EINVAL, "range %d: the table's columns differ in its "
                             "snapshot", i + 1);
    }
    return read_range(k, p, i, pfx, src, sc, &l, e);
}

/* The first error a range reader stored. */
static int range_error(jb_snap_run *k, const char *pfx, const range_state *s, ut_error *e)
{
    for (int i = 0; i < s->n; i++) {
        if (!s->err[i]) continue;
        char key[800], err[600];
        ut_buf b = {0};
        range_key(pfx, i, "err", key, sizeof key);
        int rc = st_get(k->c->store, key, 0, 4096, &b, err, sizeof err);
        ut_fail(e, UT_EIO, "%.*s", rc ? (int)strlen(err) : (int)b.len,
                rc ? err : (const char *)b.p);
        ut_buf_free(&b);
        return -1;
    }
    return 0;
}

/* Wait for every range, reading those nobody reads.  0 / -1 with e. */
static int await_ranges(jb_snap_run *k, const jb_snap_plan *p, const char *pfx, ut_error *e)
{
    jb_task_ctx *c = k->c;
    int64_t lease = c->cf->scheduler.task_timeout_ms;
    char err[1200];
    for (;;) {
        range_state s;
        if (look(k, pfx, p->n, &s, err, sizeof err)) return jb__snap_fail(k, e, UT_EIO, "%s", err);
        if (range_error(k, pfx, &s, e)) return -1;
        int left = 0, pick = -1;
        int64_t now = wall_ms();
        for (int i = p->n - 1; i >= 0; i--) {
            if (s.done[i]) continue;
            left++;
            if (pick < 0 && (!s.start_ms[i] || now - s.start_ms[i] > lease)) pick = i;
        }
        if (!left) return 0;
        if (atomic_load(&c->rt->cancel))
            return jb__snap_fail(k, e, UT_ECANCELED, "stopped while %d ranges were read", left);
        if (c->deadline_ms && now > c->deadline_ms)
            return jb__snap_fail(k, e, UT_ETIMEOUT, "timeout: %d ranges not read", left);
        if (task_lost(c))
            return jb__snap_fail(k, e, UT_ECANCELED, "the run was taken over by another worker");
        if (pick >= 0) {
            if (read_here(k, p, pick, pfx, s.start_ms[pick] != 0, e)) return -1;
            continue;
        }
        int64_t ms = st_is_s3(c->store) ? SNAP_POLL_S3_MS : SNAP_POLL_MS; /* (a LIST each) */
        struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
}

/* Range i's manifest into k (its files staged, rows, NULL counts).  0 / -1. */
static int manifest_read(jb_snap_run *k, const char *pfx, int i, ut_error *e)
{
    char key[800], err[600];
    range_key(pfx, i, "done", key, sizeof key);
    ut_buf b = {0};
    uint64_t size = 0;
    if (st_head(k->c->store, key, &size, NULL, err, sizeof err) != 1 || size > MANIFEST_MAX_BYTES ||
        st_get(k->c->store, key, 0, 0, &b, err, sizeof err)) {
        ut_buf_free(&b);
        return jb__snap_fail(k, e, UT_EIO, "range %d: %s", i + 1,
                             size > MANIFEST_MAX_BYTES ? "manifest too big" : err);
    }
    char *text = buf_text(&b);
    int rc = jb__snap_manifest_parse(k, text, key, e);
    free(text);
    return rc;
}

typedef struct stale_keys {
    const char *own;  /* the current P */
    size_t plen;      /* of ".stage/<table>" */
    char **v;
    int n;
} stale_keys;

#define STALE_MAX 100000 /* keys looked at per sweep; the rest next time */

static int stale_one(void *ctx, const char *key, uint64_t size, int64_t mtime_ms)
{
    stale_keys *s = ctx;
    (void)size, (void)mtime_ms;
    if (!strncmp(key, s->own, strlen(s->own)) && key[strlen(s->own)] == '/') return 0;
    if (s->n == STALE_MAX) return 1;
    s->v = ut_realloc(s->v, sizeof *s->v * (size_t)(s->n + 1));
    s->v[s->n++] = ut_strdup(key);
    return 0;
}

/* Delete what older deliveries of the table's runs staged: every prefix
 * whose run is no longer held by that delivery. */
static void sweep_stale(jb_snap_run *k, const char *pfx)
{
    char dir[400], err[600];
    snprintf(dir, sizeof dir, "%s/%s/", SNAP_STAGE_DIR, k->table);
    stale_keys s = {.own = pfx, .plen = strlen(dir)};
    (void)st_list(k->c->store, dir, stale_one, &s, err, sizeof err);
    int gone = 0;
    for (int i = 0; i < s.n; i++) {
        long long run, task;
        int d;
        ct_run r;
        if (sscanf(s.v[i] + s.plen, "run%lld-t%lld-d%d/", &run, &task, &d) != 3) continue;
        int have = ct_run_get(k->c->cat, run, &r, err, sizeof err);
        if (have < 0) continue;
        if (have && r.state == CT_RUN_RUNNING && r.task == task && r.deliveries == d) continue;
        gone += st_delete(k->c->store, s.v[i], NULL, 0) == 0;
    }
    if (gone)
        lg_info("jobs", "job %s table %s: deleted %d staged objects of runs that ended or were "
                "taken over", k->c->job->name, k->c->run->part, gone);
    for (int i = 0; i < s.n; i++) free(s.v[i]);
    free(s.v);
}

/* The plan stored and the ranges pushed as sub-tasks of the run. */
static int publish(jb_snap_run *k, const char *id, int n, int64_t lo, int64_t hi,
                   const char *pfx, ut_error *e)
{
    jb_task_ctx *c = k->c;
    char key[800], err[1200], tags[SNAP_MAX_PARALLEL][JB_TAG_MAX + 1];
    const char *tp[SNAP_MAX_PARALLEL];
    ut_buf b = {0};
    jb__snap_plan_text(k, id, n, lo, hi, &b);
    snprintf(key, sizeof key, "%s/plan", pfx);
    int rc = st_put(c->store, key, b.p, b.len, err, sizeof err);
    ut_buf_free(&b);
    if (rc) return jb__snap_fail(k, e, UT_EIO, "%s", err);
    for (int i = 0; i < n; i++) {
        snprintf(tags[i], sizeof tags[i], "r%d.t%lld.d%d", i, (long long)c->done->task,
                 c->done->deliveries);
        tp[i] = tags[i];
    }
    uint64_t first;
    if (jb__queue_push_tagged(c->rt->q, c->run->id, tp, n, &first, err, sizeof err))
        lg_warn("jobs", "job %s table %s: %s (this worker reads every range)", c->job->name,
                c->run->part, err);
    return 0;
}

int jb__snap_ranges(jb_snap_run *k, int n, int64_t lo, int64_t hi, ut_error *e)
{
    jb_task_ctx *c = k->c;
    char id[128], err[1200];
    if (sn_scan_export(k->scan, id, sizeof id, err, sizeof err))
        return jb__snap_fail(k, e, UT_EINVAL, "%s", err);
    stage_prefix(k, c->done->task, c->done->deliveries, k->stage, sizeof k->stage);
    sweep_stale(k, k->stage);
    jb_snap_plan p = {.lo = lo, .hi = hi, .n = n};
    snprintf(p.snapshot, sizeof p.snapshot, "%s", id);
    snprintf(p.split, sizeof p.split, "%s", k->cfg->split_by);
    ut_buf_puts(&p.where, sn_scan_where(k->scan));
    int rc = publish(k, id, n, lo, hi, k->stage, e) || await_ranges(k, &p, k->stage, e) ? -1 : 0;
    jb__snap_plan_free(&p);
    k->nranges = n;
    k->rows = 0;
    for (int i = 0; i < n && rc == 0; i++) rc = manifest_read(k, k->stage, i, e);
    k->nfiles = k->nstaged;
    for (int i = 0, o = 0; i < k->nby && o < (int)sizeof k->ranges_by - 1; i++)
        o += snprintf(k->ranges_by + o, sizeof k->ranges_by - (size_t)o, "%s%s x%d", i ? ", " : "",
                      k->by[i].name, k->by[i].n);
    return rc;
}

typedef struct key_list {
    char **v;
    int n;
} key_list;

static int key_one(void *ctx, const char *key, uint64_t size, int64_t mtime_ms)
{
    key_list *l = ctx;
    (void)size, (void)mtime_ms;
    if (l->n == STALE_MAX) return 1;
    l->v = ut_realloc(l->v, sizeof *l->v * (size_t)(l->n + 1));
    l->v[l->n++] = ut_strdup(key);
    return 0;
}

void jb__snap_ranges_free(jb_snap_run *k)
{
    for (int i = 0; i < k->nstaged; i++) free(k->staged[i].f.stats);
    free(k->staged);
    k->staged = NULL, k->nstaged = 0;
    if (!k->stage[0]) return;
    key_list l = {0};
    char err[600], plan[800];
    snprintf(plan, sizeof plan, "%s/plan", k->stage);
    (void)st_delete(k->c->store, plan, NULL, 0); /* first: see stage() */
    (void)st_list(k->c->store, k->stage, key_one, &l, err, sizeof err);
    for (int i = 0; i < l.n; i++) {
        (void)st_delete(k->c->store, l.v[i], NULL, 0);
        free(l.v[i]);
    }
    free(l.v);
    sweep_stale(k, k->stage); /* what the readers of older deliveries staged since the start */
    k->stage[0] = 0;
}

/* ---- a range as a task ----------------------------------------------------------- */

/* k's selected columns: the plan's, found in the range's scan.  0 / -1. */
static int select_planned(jb_snap_run *k, const jb_snap_plan *p, const sn_scan *sc, ut_error *e)
{
    k->sel = ut_calloc((size_t)p->nsel + 1, sizeof *k->sel);
    k->nsel = p->nsel;
    for (int s = 0; s < p->nsel; s++) {
        k->sel[s] = -1;
        for (int i = 0; i < sn_scan_ncols(sc) && k->sel[s] < 0; i++)
            if (!strcmp(sn_scan_columns(sc)[i].name, p->sel[s])) k->sel[s] = i;
        if (k->sel[s] < 0)
            return jb__snap_fail(k, e, UT_EINVAL, "column %s is not in the snapshot", p->sel[s]);
    }
    return 0;
}

/* Range i for a delivery of its task: -1 read already or being read (a
 * live lease), 0 free, 1 to take over (a stale lease, or the task was
 * taken over: deliveries > 1). */
static int range_state_of(jb_snap_run *k, const char *pfx, int i, int deliveries)
{
    range_state s;
    char err[600];
    if (look(k, pfx, SNAP_MAX_PARALLEL, &s, err, sizeof err)) return 0;
    if (s.done[i]) return -1;
    if (!s.start_ms[i]) return 0;
    int64_t lease = k->c->cf->scheduler.task_timeout_ms;
    return deliveries > 1 || wall_ms() - s.start_ms[i] > lease ? 1 : -1;
}

static void sub_free(jb_snap_run *k, jb_snap_plan *p)
{
    for (int i = 0; i < k->ncols; i++) mk_destroy(k->sc[i].mask);
    free(k->sc);
    free(k->cols);
    free(k->sel);
    jb__snap_plan_free(p);
    memset(k->key, 0, sizeof k->key);
    free(k);
}

int jb__kind_snapshot_sub(jb_task_ctx *c, const jb_task *t)
{
    int i, d, used = 0;
    long long task;
    if (sscanf(t->tag, "r%d.t%lld.d%d%n", &i, &task, &d, &used) != 3 || t->tag[used] || i < 0 ||
        i >= SNAP_MAX_PARALLEL)
        return 0; /* not a range */
    if (c->run->state != CT_RUN_RUNNING || c->run->task != task || c->run->deliveries != d)
        return 0; /* its coordinator is gone: the run ended or was taken over */
    jb_snap_run *k = ut_calloc(1, sizeof *k);
    k->c = c;
    k->cfg = cf_snap_table_find(c->job, c->run->part);
    jb_snap_plan p = {0};
    char pfx[600];
    ut_error e = {0};
    if (!k->cfg || jb__snap_lake_name(c->job, c->run->part, k->table, sizeof k->table)) {
        sub_free(k, &p);
        return 0;
    }
    stage_prefix(k, task, d, pfx, sizeof pfx);
    int st = range_state_of(k, pfx, i, t->deliveries);
    int rc = st < 0 ? 0 : plan_read(k, pfx, &p, &e);
    range_lease l;
    if (rc == 1 && (i >= p.n || !claim(k, pfx, i, c->worker, st, &l))) rc = 0;
    if (rc == 1) {
        sn_source *src;
        sn_scan *sc = open_range(k, &p, i, &src, &e);
        rc = !sc || select_planned(k, &p, sc, &e) ? -1 : 0;
        if (rc == 0) rc = read_range(k, &p, i, pfx, src, sc, &l, &e);
        else if (sc) sn_scan_end(sc), sn_close(src);
    }
    if (rc < 0) {
        jb__redact(c->redact, e.msg, sizeof e.msg);
        lg_warn("jobs", "%s", e.msg);
        if (!atomic_load(&c->rt->cancel)) range_failed(k, pfx, i, &e); /* (a stop: its lease
                                                                            runs out) */
    }
    sub_free(k, &p);
    return rc < 0 ? -1 : 0;
}
