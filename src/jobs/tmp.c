/* jobs: staging files of the workers, and collecting those of workers that
 * were killed.
 *
 *   <data_dir>/jobs/tmp/sl-<pid>-<seq>-run<id>.ndjson   a command's output
 *       (jb__tmp_create: flock'ed by its worker until landed and unlinked)
 *   <data_dir>/lake-tmp/sl-<pid>-<seq>-<table>.parquet  a write's Parquet
 *       files before their commit (lk_tmp_path, sq_write)
 *
 * A worker killed -9 leaves them behind.  jb__tmp_collect deletes the ones
 * whose writer is gone (ut_tmp_gc / lk_tmp_gc: a command output whose lock
 * nobody holds is never a living worker's, in this process or another, on
 * this machine or another): when the runtime starts (a server or a `sluice
 * worker`) and then every JB_TMP_GC_MS from the scheduler's and the
 * heartbeat's loops. */
#include "jobs/jb_rt.h"
#include "lake/lake.h"
#include "log/log.h"

#include <stdio.h>
#include <time.h>

static void tmp_dir(const jb_runtime *r, char *out, size_t n)
{
    snprintf(out, n, "%s/jobs/tmp", r->data_dir);
}

int jb__tmp_create(const jb_runtime *r, const char *tag, const char *suffix, char *path,
                   size_t n, ut_error *e)
{
    char dir[4200], err[600];
    tmp_dir(r, dir, sizeof dir);
    if (ut_mkdir_p(dir, err, sizeof err)) return ut_fail(e, UT_EIO, "%s", err);
    int fd = ut_tmp_create(dir, "sl-", tag, suffix, path, n, err, sizeof err);
    if (fd < 0) ut_fail(e, UT_EIO, "%s", err);
    return fd;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int jb__tmp_collect(jb_runtime *r, int now)
{
    if (!now) jb__raw_sweep_due(r, 0); /* (when due: its own period) */
    long long t = mono_ms(), due = atomic_load(&r->tmp_gc_ms);
    if (!now && (t < due || !atomic_compare_exchange_strong(&r->tmp_gc_ms, &due,
                                                            t + JB_TMP_GC_MS)))
        return 0; /* not due, or another thread collects */
    if (now) atomic_store(&r->tmp_gc_ms, t + JB_TMP_GC_MS);
    char dir[4200];
    tmp_dir(r, dir, sizeof dir);
    int n = ut_tmp_gc(dir, "sl-", JB_TMP_STALE_MS);
    if (n) lg_info("jobs", "%s: removed %d staging files of workers that are gone", dir, n);
    snprintf(dir, sizeof dir, "%s/lake-tmp", r->data_dir);
    return n + lk_tmp_gc(dir); /* (it logs its own) */
}
