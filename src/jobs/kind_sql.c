/* jobs: kind sql — a templated SELECT writing a lake table.
 *
 *   sql | sql_file ──► templates (the run's window) ──► sq_write: the rows
 *   replace the window's partitions (replace_window), the table (replace) or
 *   are added (append), committed in ONE catalog transaction that also
 *   finishes the run as succeeded.
 *
 * A window's partitions: hour → dt=<ds>/hr=<hr>, day → dt=<ds>, month →
 * every dt of the month (prefix dt=YYYY-MM-).  A new table is partitioned
 * dt,hr for hour windows, dt for day and month ones, not at all without a
 * window.  A run for an account (jobs.<name>.accounts) owns the slice
 * account=<id>/<the window's>: its table is partitioned account first, so
 * that each (account, window) is replaced on its own.  Rows that leave out dt (and hr) land in the window's; rows
 * outside the window are an error (nothing is written).  A serial backfill
 * run (iterations > 1) does each window in turn, in order; only the last
 * commit finishes the run. */
#include "jobs/jb_rt.h"
#include "log/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb__window_parts(const jb_task_ctx *c, int64_t ws, const char *acct, jb_window_parts *w)
{
    struct tm tm;
    int win = c->job->window, n = 0;
    jb__local(c->timing, ws, &tm, NULL);
    jb__ds(c->timing, ws, w->ds);
    snprintf(w->hr, sizeof w->hr, "%02d", tm.tm_hour);
    if (acct[0]) w->dcols[n] = "account", w->dvals[n++] = acct;
    if (win != CF_WINDOW_NONE) w->dcols[n] = "dt", w->dvals[n++] = w->ds;
    if (win == CF_WINDOW_HOUR) w->dcols[n] = "hr", w->dvals[n++] = w->hr;
    w->ndefaults = n;
    char a[100] = "";
    if (acct[0]) snprintf(a, sizeof a, "account=%s%s", acct, win == CF_WINDOW_NONE ? "" : "/");
    if (win == CF_WINDOW_HOUR)
        snprintf(w->prefix, sizeof w->prefix, "%sdt=%s/hr=%s", a, w->ds, w->hr);
    else if (win == CF_WINDOW_DAY) snprintf(w->prefix, sizeof w->prefix, "%sdt=%s", a, w->ds);
    else if (win == CF_WINDOW_MONTH) snprintf(w->prefix, sizeof w->prefix, "%sdt=%.8s", a, w->ds);
    else snprintf(w->prefix, sizeof w->prefix, "%s", a); /* "dt=YYYY-MM-" above */
}

const char *jb__partition_by(int window, int accounts)
{
    if (accounts)
        return window == CF_WINDOW_HOUR ? "account,dt,hr" : window == CF_WINDOW_NONE ? "account"
                                                                                     : "account,dt";
    return window == CF_WINDOW_HOUR ? "dt,hr" : window == CF_WINDOW_NONE ? "" : "dt";
}

/* Write the rows of `text` (templated for [ws, we)) replacing the
 * partitions of the nw windows starting at ws.  run: the run record to
 * finish with it.  Rows or -1. */
static int64_t write_windows(jb_task_ctx *c, sq_engine *eng, const char *text, int64_t ws,
                             int64_t we, int nw, ct_run_done *run, ut_error *e)
{
    const cf_job *j = c->job;
    jb_vars v = {.cf = c->cf, .job = j, .timing = c->timing, .run_id = c->run->id,
                 .account = c->run->part, .account_args = c->account_args, .ws = ws,
                 .we = we, .iterations = c->run->iterations};
    ut_buf sql = {0};
    char err[1024];
    int64_t rows = -1;
    const struct jb_deps *dl = &c->rt->deps[j - c->cf->jobs];
    jb_window_parts *wp = ut_calloc((size_t)nw, sizeof *wp);
    const char **parts = ut_calloc((size_t)nw, sizeof *parts);
    ct_run_io *io = ut_calloc((size_t)nw + (size_t)dl->n, sizeof *io);
    int nio = nw;
    for (int i = 0; i < dl->n; i++) /* lineage: the tables it reads (not jobs named) */
        if (!cf_job_find(c->cf, dl->v[i])) io[nio++] = (ct_run_io){.table = dl->v[i], .partition = ""};
    if (jb__expand(text, &v, &sql, c->redact, err, sizeof err)) {
        ut_fail(e, UT_EINVAL, "job %s: %s", j->name, err);
        goto out;
    }
    for (int i = 0; i < nw; i++, ws = jb__window_shift(c->timing, ws, 1)) {
        jb__window_parts(c, ws, c->run->part, &wp[i]);
        parts[i] = wp[i].prefix;
        io[i] = (ct_run_io){.table = j->table, .partition = wp[i].prefix, .write = 1};
    }
    sq_write_spec w = {.table = j->table, .select = ut_buf_cstr(&sql),
                       .mode = j->mode == CF_MODE_REPLACE_WINDOW ? SQ_WRITE_REPLACE_PARTITIONS
                               : j->mode == CF_MODE_REPLACE      ? SQ_WRITE_REPLACE
                                                                 : SQ_WRITE_APPEND,
                       .partition_by = jb__partition_by(j->window, c->run->part[0] != 0),
                       .default_cols = wp[0].dcols,
                       .default_vals = wp[0].dvals, .ndefaults = wp[0].ndefaults,
                       .partitions = parts, .npartitions = nw, .run = run};
    if (run) {
        run->io = io;
        run->nio = nio;
    }
    rows = sq_write(eng, &w, err, sizeof err);
    if (rows < 0) ut_fail(e, sq_error_kind(eng), "job %s: table %s: %s", j->name, j->table, err);
    if (run) run->io = NULL, run->nio = 0;
out:
    free(io);
    free(parts);
    free(wp);
    ut_buf_free(&sql);
    return rows;
}

/* The engine for this task, with the job's timeout. */
static sq_engine *open_engine(jb_task_ctx *c, ut_error *e)
{
    char err[512];
    if (!c->rt->o.sql_open) return ut_fail(e, UT_EINTERNAL, "no SQL engine in this process"), NULL;
    sq_engine *eng = c->rt->o.sql_open(c->rt->o.sql_ctx, c->job->timeout_ms, err, sizeof err);
    if (!eng) ut_fail(e, UT_EIO, "job %s: %s", c->job->name, err);
    else jb__task_engine(c, eng);
    return eng;
}

int jb__kind_sql_text(jb_task_ctx *c, const char *text, int per_window, ut_error *e)
{
    sq_engine *eng = open_engine(c, e);
    if (!eng) return -1;
    int n = c->run->iterations > 1 ? c->run->iterations : 1, rc = 1;
    int64_t ws = c->run->window_start, total = 0;
    if (!per_window || c->job->window == CF_WINDOW_NONE) { /* one write over every window */
        c->done->rows = 0;
        rc = write_windows(c, eng, text, ws, c->run->window_end, n, c->done, e) < 0 ? -1 : 1;
        jb__task_engine(c, NULL);
        sq_close(eng);
        return rc;
    }
    for (int i = 0; i < n && rc == 1; i++) {
        int64_t we = n > 1 ? jb__window_shift(c->timing, ws, 1) : c->run->window_end;
        c->done->rows = total; /* sq_write adds this window's rows before it commits */
        ct_run_done *run = i == n - 1 ? c->done : NULL;
        int64_t rows = write_windows(c, eng, text, ws, we, 1, run, e);
        if (rows < 0) rc = -1;
        else total += rows;
        ws = we;
    }
    jb__task_engine(c, NULL);
    sq_close(eng);
    return rc;
}

int jb__kind_sql(jb_task_ctx *c, ut_error *e)
{
    char err[600];
    char *text = jb__sql_text(c->cf, c->job, c->rt->config_dir, err, sizeof err);
    if (!text) return ut_fail(e, UT_ENOTFOUND, "job %s: %s", c->job->name, err);
    int rc = jb__kind_sql_text(c, text, 1, e);
    free(text);
    return rc;
}
