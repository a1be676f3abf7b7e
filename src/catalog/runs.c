/* catalog: the run history of the jobs runtime (see catalog.h, "job runs").
 *
 * Every state change is one statement (or, with its outputs, one ct_apply
 * transaction) whose WHERE clause carries the precondition, so two workers,
 * or a worker and the scheduler, racing on one run cannot both win: the
 * loser sees 0 rows changed.  The delivery count a worker started the run
 * with is the fencing token of its finish. */
#include "catalog/ct_int.h"
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[CT_RUN_STATES] = {
    [CT_RUN_WAITING] = "waiting",     [CT_RUN_QUEUED] = "queued", [CT_RUN_RUNNING] = "running",
    [CT_RUN_RETRYING] = "retrying",   [CT_RUN_SUCCEEDED] = "succeeded",
    [CT_RUN_FAILED] = "failed",       [CT_RUN_DEAD] = "dead"};

const char *ct_run_state_name(ct_run_state s)
{
    return s > 0 && s < CT_RUN_STATES ? state_names[s] : "?";
}

int ct_run_state_parse(const char *s, ct_run_state *out)
{
    for (int i = 1; i < CT_RUN_STATES; i++)
        if (!strcmp(s, state_names[i])) {
            *out = (ct_run_state)i;
            return 0;
        }
    return -1;
}

int ct_run_state_terminal(ct_run_state s)
{
    return s == CT_RUN_SUCCEEDED || s == CT_RUN_FAILED || s == CT_RUN_DEAD;
}

/* Fill r from a row of RUN_COLS (db.c). */
static void run_from_row(sqlite3_stmt *s, ct_run *r)
{
    char state[16];
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    ct_col_text(s, 1, r->job, sizeof r->job);
    r->window_start = sqlite3_column_int64(s, 2);
    r->window_end = sqlite3_column_int64(s, 3);
    ct_col_text(s, 4, state, sizeof state);
    if (ct_run_state_parse(state, &r->state)) r->state = CT_RUN_FAILED;
    r->attempt = sqlite3_column_int(s, 5);
    r->deliveries = sqlite3_column_int(s, 6);
    ct_col_text(s, 7, r->trigger, sizeof r->trigger);
    ct_col_text(s, 8, r->backfill, sizeof r->backfill);
    r->iterations = sqlite3_column_int(s, 9);
    r->forced = sqlite3_column_int(s, 10);
    ct_col_text(s, 11, r->worker, sizeof r->worker);
    r->created_ms = sqlite3_column_int64(s, 12);
    r->due_ms = sqlite3_column_int64(s, 13);
    r->started_ms = sqlite3_column_int64(s, 14);
    r->finished_ms = sqlite3_column_int64(s, 15);
    r->rows = sqlite3_column_int64(s, 16);
    r->bytes = sqlite3_column_int64(s, 17);
    r->task = sqlite3_column_int64(s, 18);
    ct_col_text(s, 19, r->error, sizeof r->error);
    ct_col_text(s, 20, r->part, sizeof r->part);
}

/* Step a no-result statement; changes() or -1 with "catalog P: what: ...". */
static int step_changes(ct_catalog *c, sqlite3_stmt *s, const char *what, char *err, size_t errlen)
{
    ct__wlock(c);
    int rc = sqlite3_step(s);
    ct_done(s);
    ct__wunlock(c);
    if (rc != SQLITE_DONE) return ct_sqlerr(c, what, err, errlen);
    return sqlite3_changes(c->db);
}

int ct_run_create(ct_catalog *c, ct_run *r, char *err, size_t errlen)
{
    assert(r->state == CT_RUN_WAITING || r->state == CT_RUN_QUEUED);
    sqlite3_stmt *s = ct_stmt(c, S_RUN_INSERT, err, errlen);
    if (!s) return -1;
    if (!r->created_ms) r->created_ms = ct_now_ms();
    sqlite3_bind_text(s, 1, r->job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, r->window_start);
    sqlite3_bind_int64(s, 3, r->window_end);
    sqlite3_bind_text(s, 4, ct_run_state_name(r->state), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, r->attempt > 0 ? r->attempt : 1);
    sqlite3_bind_text(s, 6, r->trigger[0] ? r->trigger : "manual", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, r->backfill, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 8, r->iterations > 0 ? r->iterations : 1);
    sqlite3_bind_int(s, 9, r->forced);
    sqlite3_bind_int64(s, 10, r->created_ms);
    sqlite3_bind_int64(s, 11, r->due_ms);
    sqlite3_bind_int64(s, 12, r->task);
    sqlite3_bind_text(s, 13, r->part, -1, SQLITE_STATIC);
    char what[128];
    snprintf(what, sizeof what, "job %s: create run", r->job);
    if (step_changes(c, s, what, err, errlen) < 0) return -1;
    r->id = sqlite3_last_insert_rowid(c->db);
    return 0;
}

int ct_run_create_unless(ct_catalog *c, ct_run *r, int allow_succeeded, ct_run *existing,
                         char *err, size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int have = ct_run_latest(c, r->job, r->part, r->window_start, existing, err, errlen);
    if (have > 0 && existing->window_end < r->window_end) have = 0; /* covers a part only */
    if (have > 0 && (!ct_run_state_terminal(existing->state) ||
                     (existing->state == CT_RUN_SUCCEEDED && !allow_succeeded))) {
        ct_rollback(c);
        return 0;
    }
    if (have < 0 || ct_run_create(c, r, err, errlen) < 0 || ct_commit_tx(c, err, errlen) < 0) {
        ct_rollback(c);
        return -1;
    }
    return 1;
}

/* One run by statement id with ?1 (and ?2) bound: 1 / 0 / -1. */
static int get_one(ct_catalog *c, sqlite3_stmt *s, ct_run *out, const char *what, char *err,
                   size_t errlen)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) run_from_row(s, out);
    ct_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ct_sqlerr(c, what, err, errlen);
    return rc == SQLITE_ROW;
}

int ct_run_get(ct_catalog *c, int64_t id, ct_run *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    return get_one(c, s, out, "read run", err, errlen);
}

int ct_run_latest(ct_catalog *c, const char *job, const char *part, int64_t window_start,
                  ct_run *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_LATEST, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, window_start);
    sqlite3_bind_text(s, 3, part ? part : "", -1, SQLITE_STATIC);
    return get_one(c, s, out, "read latest run", err, errlen);
}

/* The JSON array of state names in mask ("" when mask is 0). */
static void states_json(unsigned mask, char *out, size_t n)
{
    size_t o = 0;
    out[0] = 0;
    if (!mask) return;
    o += (size_t)snprintf(out + o, n - o, "[");
    for (int i = 1; i < CT_RUN_STATES && o < n; i++)
        if (mask & (1u << i))
            o += (size_t)snprintf(out + o, n - o, "%s\"%s\"", o > 1 ? "," : "", state_names[i]);
    if (o < n) snprintf(out + o, n - o, "]");
}

int ct_runs(ct_catalog *c, const ct_run_filter *f, ct_run **out, char *err, size_t errlen)
{
    *out = NULL;
    int limit = f->limit > 0 ? f->limit : 1000;
    if (limit > 100000) limit = 100000;
    sqlite3_stmt *s = ct_stmt(c, S_RUN_LIST, err, errlen);
    if (!s) return -1;
    char states[160];
    states_json(f->state_mask, states, sizeof states);
    if (f->job) sqlite3_bind_text(s, 1, f->job, -1, SQLITE_STATIC);
    if (states[0]) sqlite3_bind_text(s, 2, states, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, f->window_from);
    sqlite3_bind_int64(s, 4, f->window_to);
    if (f->backfill) sqlite3_bind_text(s, 5, f->backfill, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, f->oldest_first);
    sqlite3_bind_int(s, 7, limit);
    sqlite3_bind_int(s, 8, f->backfill_runs);
    int n = 0, cap = 0, rc;
    ct_run *v = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) v = ut_realloc(v, sizeof *v * (size_t)(cap = cap ? cap * 2 : 16));
        run_from_row(s, &v[n++]);
    }
    ct_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return ct_sqlerr(c, "list runs", err, errlen);
    }
    *out = v;
    return n;
}

int ct_runs_active(ct_catalog *c, const char *job, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_ACTIVE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), n = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    ct_done(s);
    if (rc != SQLITE_ROW) return ct_sqlerr(c, "count active runs", err, errlen);
    return n;
}

int ct_run_queue(ct_catalog *c, int64_t id, int64_t task, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_QUEUE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, task);
    return step_changes(c, s, "queue run", err, errlen);
}

int ct_runs_due(ct_catalog *c, int64_t now_ms, int backfill_runs, int limit, ct_run **out,
                char *err, size_t errlen)
{
    *out = NULL;
    sqlite3_stmt *s = ct_stmt(c, backfill_runs ? S_RUN_DUE : S_RUN_DUE_JOBS, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, now_ms);
    sqlite3_bind_int(s, 2, backfill_runs ? 1 : 0);
    sqlite3_bind_int(s, 3, limit < 1 ? 1 : limit > 100000 ? 100000 : limit);
    int n = 0, cap = 0, rc;
    ct_run *v = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) v = ut_realloc(v, sizeof *v * (size_t)(cap = cap ? cap * 2 : 64));
        run_from_row(s, &v[n++]);
    }
    ct_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return ct_sqlerr(c, "list due runs", err, errlen);
    }
    *out = v;
    return n;
}

int ct_runs_out(ct_catalog *c, ct_run_out_fn fn, void *arg, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_OUT, err, errlen);
    if (!s) return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *job = (const char *)sqlite3_column_text(s, 0),
                   *bf = (const char *)sqlite3_column_text(s, 1);
        fn(arg, job ? job : "", bf ? bf : "", sqlite3_column_int(s, 2));
    }
    ct_done(s);
    return rc == SQLITE_DONE ? 0 : ct_sqlerr(c, "count queued and running runs", err, errlen);
}

int ct_runs_queue(ct_catalog *c, const int64_t *ids, const int64_t *tasks, int n, int *queued,
                  char *err, size_t errlen)
{
    if (n <= 0) return 0;
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    for (int i = 0; i < n; i++) {
        int q = ct_run_queue(c, ids[i], tasks[i], err, errlen);
        if (q < 0) {
            ct_rollback(c);
            return -1;
        }
        queued[i] = q;
    }
    return ct_commit_tx(c, err, errlen);
}

int ct_run_start(ct_catalog *c, int64_t id, int64_t task, int deliveries, const char *worker,
                 char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_START, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, task);
    sqlite3_bind_int(s, 3, deliveries);
    sqlite3_bind_text(s, 4, worker, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, ct_now_ms());
    return step_changes(c, s, "start run", err, errlen);
}

/* Record d's lineage (inside the transaction). */
static int io_insert(ct_catalog *c, const ct_run_done *d, char *err, size_t errlen)
{
    for (int i = 0; i < d->nio; i++) {
        sqlite3_stmt *s = ct_stmt(c, S_RUN_IO_INSERT, err, errlen);
        if (!s) return -1;
        sqlite3_bind_int64(s, 1, d->id);
        sqlite3_bind_text(s, 2, d->io[i].write ? "write" : "read", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, d->io[i].table, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, d->io[i].partition ? d->io[i].partition : "", -1, SQLITE_STATIC);
        if (step_changes(c, s, "record run lineage", err, errlen) < 0) return -1;
    }
    return 0;
}

/* The run's part state, when it sets some (inside the transaction). */
static int part_state_set(ct_catalog *c, const ct_run_done *d, char *err, size_t errlen)
{
    if (!d->cursor && !d->source_schema) return 0;
    size_t cn = d->cursor ? strlen(d->cursor) : 0, sn = d->source_schema ? strlen(d->source_schema) : 0;
    if (cn >= CT_CURSOR_MAX || sn > CT_SOURCE_SCHEMA_MAX)
        return ut_err(err, errlen, "catalog %s: run %lld: a %s of %zu bytes (at most %d)",
                      c->path, (long long)d->id, cn >= CT_CURSOR_MAX ? "cursor" : "source schema",
                      cn >= CT_CURSOR_MAX ? cn : sn,
                      cn >= CT_CURSOR_MAX ? CT_CURSOR_MAX - 1 : CT_SOURCE_SCHEMA_MAX);
    sqlite3_stmt *s = ct_stmt(c, S_PART_STATE_SET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, d->id);
    if (d->cursor) sqlite3_bind_text(s, 2, d->cursor, (int)cn, SQLITE_STATIC);
    else sqlite3_bind_null(s, 2);
    if (d->source_schema) sqlite3_bind_text(s, 3, d->source_schema, (int)sn, SQLITE_STATIC);
    else sqlite3_bind_null(s, 3);
    sqlite3_bind_int64(s, 4, ct_now_ms());
    const char *from = d->cursor ? d->cursor_from : NULL;
    if (from) sqlite3_bind_text(s, 5, from, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, 5);
    int n = step_changes(c, s, "keep the run's part state", err, errlen);
    if (n < 0) return -1;
    if (n == 0 && from) /* the upsert's WHERE refused it: another run moved the cursor */
        return ut_err(err, errlen, "catalog %s: run %lld: the part's cursor moved since the run "
                      "read it (another run of the part committed first): nothing committed, "
                      "a retry reads from the new cursor", c->path, (long long)d->id);
    return 0;
}

int ct_run_finish_tx(ct_catalog *c, const ct_run_done *d, char *err, size_t errlen)
{
    assert(d->state == CT_RUN_SUCCEEDED || d->state == CT_RUN_FAILED ||
           d->state == CT_RUN_RETRYING);
    sqlite3_stmt *s = ct_stmt(c, S_RUN_FINISH, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, d->id);
    sqlite3_bind_int64(s, 2, d->task);
    sqlite3_bind_int(s, 3, d->deliveries);
    sqlite3_bind_text(s, 4, ct_run_state_name(d->state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, d->state == CT_RUN_RETRYING ? d->due_ms : 0);
    sqlite3_bind_int64(s, 6, d->rows);
    sqlite3_bind_int64(s, 7, d->bytes);
    char e[CT_RUN_ERROR_MAX];
    snprintf(e, sizeof e, "%s", d->error ? d->error : "");
    sqlite3_bind_text(s, 8, e, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, ct_now_ms());
    int n = step_changes(c, s, "finish run", err, errlen);
    if (n <= 0) return n;
    if (d->state != CT_RUN_SUCCEEDED) return 1;
    return io_insert(c, d, err, errlen) || ct__outbox_add_tx(c, d, err, errlen) ||
                   part_state_set(c, d, err, errlen) ||
                   (d->view && ct__view_put_tx(c, d->view, err, errlen))
               ? -1
               : 1;
}

int ct_part_state_get(ct_catalog *c, const char *job, const char *part, ct_part_state *out,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = ct_stmt(c, S_PART_STATE_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, part, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
    if (found && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        out->has_cursor = 1;
        ct_col_text(s, 0, out->cursor, sizeof out->cursor);
    }
    if (found && sqlite3_column_type(s, 1) != SQLITE_NULL)
        out->source_schema = ut_strdup((const char *)sqlite3_column_text(s, 1));
    ct_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ct_sqlerr(c, "read a part's state", err, errlen);
    return found;
}

void ct_part_state_free(ct_part_state *s)
{
    free(s->source_schema);
    s->source_schema = NULL;
}

int ct_run_finish(ct_catalog *c, const ct_run_done *d, char *err, size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int n = ct_run_finish_tx(c, d, err, errlen);
    if (n <= 0) {
        ct_rollback(c);
        return n;
    }
    return ct_commit_tx(c, err, errlen) < 0 ? -1 : 1;
}

int ct_runs_finish(ct_catalog *c, const ct_run_done *const *d, int n, int *held, char **errs,
                   size_t errlen)
{
    char err[256];
    int rc = ct_begin(c, 1, err, sizeof err);
    for (int i = 0; i < n && rc == 0; i++) {
        held[i] = ct_run_finish_tx(c, d[i], errs[i], errlen);
        if (held[i] < 0) { /* one run's error is not the others': each alone */
            ct_rollback(c);
            for (int k = 0; k < n; k++) held[k] = ct_run_finish(c, d[k], errs[k], errlen);
            return 0;
        }
    }
    if (rc == 0 && ct_commit_tx(c, err, sizeof err) < 0) rc = -1;
    for (int i = 0; rc < 0 && i < n; i++) {
        held[i] = -1;
        snprintf(errs[i], errlen, "%s", err);
    }
    return rc;
}

int ct_run_requeue(ct_catalog *c, int64_t id, int64_t task, int deliveries, int64_t new_task,
                   char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_REQUEUE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, task);
    sqlite3_bind_int(s, 3, deliveries);
    sqlite3_bind_int64(s, 4, new_task);
    return step_changes(c, s, "queue run again", err, errlen);
}

int ct_run_dead(ct_catalog *c, int64_t task, const char *why, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_DEAD, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, task);
    sqlite3_bind_text(s, 2, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, ct_now_ms());
    return step_changes(c, s, "mark run dead", err, errlen);
}

int ct_run_fail(ct_catalog *c, int64_t id, const char *why, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_FAIL, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, ct_now_ms());
    return step_changes(c, s, "fail run", err, errlen);
}

int ct_run_last_writer(ct_catalog *c, const char *table, ct_run *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_LAST_WRITER, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    return get_one(c, s, out, "read the producer of a table", err, errlen);
}

int ct_run_lineage(ct_catalog *c, int64_t id, ct_run_io_fn fn, void *arg, char *err,
                   size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_IO_OF, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
           sqlite3_column_int(s, 2));
    ct_done(s);
    return rc == SQLITE_DONE ? 0 : ct_sqlerr(c, "read run lineage", err, errlen);
}

int ct_job_last_fire(ct_catalog *c, const char *job, int64_t *us, char *err, size_t errlen)
{
    *us = INT64_MIN;
    sqlite3_stmt *s = ct_stmt(c, S_JOB_FIRE_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *us = sqlite3_column_int64(s, 0);
    ct_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ct_sqlerr(c, "read job state", err, errlen);
}

int ct_job_set_last_fire(ct_catalog *c, const char *job, int64_t us, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_JOB_FIRE_SET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, us);
    sqlite3_bind_int64(s, 3, ct_now_ms());
    return step_changes(c, s, "set job state", err, errlen) < 0 ? -1 : 0;
}

int ct_backfill_create(ct_catalog *c, const char *name, const char *job, int64_t from,
                       int64_t to, int parallel, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_BACKFILL_INSERT, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, from);
    sqlite3_bind_int64(s, 4, to);
    sqlite3_bind_int(s, 5, parallel);
    sqlite3_bind_int64(s, 6, ct_now_ms());
    return step_changes(c, s, "create backfill", err, errlen);
}

int ct_backfill_add(ct_catalog *c, const char *name, const char *job, int64_t from, int64_t to,
                    int parallel, ct_run *runs, int n, int *created, char *err, size_t errlen)
{
    int made = 0;
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int rc = ct_backfill_create(c, name, job, from, to, parallel, err, errlen);
    for (int i = 0; rc == 1 && i < n; i++) {
        ct_run last; /* a serial run spans every window: not skipped for its first one's */
        int have = parallel > 0 ? ct_run_latest(c, runs[i].job, runs[i].part, runs[i].window_start,
                                                &last, err, errlen) : 0;
        if (have < 0) rc = -1;
        if (have != 0 && (have < 0 || !ct_run_state_terminal(last.state))) continue;
        snprintf(runs[i].backfill, sizeof runs[i].backfill, "%s", name);
        if (ct_run_create(c, &runs[i], err, errlen) < 0) rc = -1;
        else made++;
    }
    if (rc == 1 && ct_commit_tx(c, err, errlen) < 0) rc = -1;
    if (rc != 1) ct_rollback(c);
    if (created) *created = rc == 1 ? made : 0;
    return rc;
}

int ct_backfill_parallel(ct_catalog *c, const char *name, int *parallel, char *err,
                         size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_BACKFILL_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *parallel = sqlite3_column_int(s, 0);
    ct_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ct_sqlerr(c, "read backfill", err, errlen);
    return rc == SQLITE_ROW;
}

int ct_run_counts(ct_catalog *c, ct_run_count_fn fn, void *arg, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_COUNTS, err, errlen);
    if (!s) return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ct_run_state st;
        const char *name = (const char *)sqlite3_column_text(s, 1);
        if (name && ct_run_state_parse(name, &st) == 0)
            fn(arg, (const char *)sqlite3_column_text(s, 0), st, sqlite3_column_int64(s, 2));
    }
    ct_done(s);
    return rc == SQLITE_DONE ? 0 : ct_sqlerr(c, "count runs", err, errlen);
}

int ct_job_accounts_set(ct_catalog *c, const char *job, const char *const *ids,
                        const char *const *args, int n, char *err, size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    sqlite3_stmt *s = ct_stmt(c, S_ACCOUNTS_DEL, err, errlen);
    int rc = s ? 0 : -1;
    if (s) sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    if (s && step_changes(c, s, "replace job accounts", err, errlen) < 0) rc = -1;
    int64_t now = ct_now_ms();
    for (int i = 0; i < n && rc == 0; i++) {
        if (!(s = ct_stmt(c, S_ACCOUNTS_INS, err, errlen))) rc = -1;
        if (s) {
            sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, args && args[i] ? args[i] : "{}", -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, now);
            if (step_changes(c, s, "insert a job account", err, errlen) < 0) rc = -1;
        }
    }
    if (rc == 0 && ct_commit_tx(c, err, errlen) < 0) rc = -1;
    if (rc) ct_rollback(c);
    return rc;
}

int ct_job_accounts(ct_catalog *c, const char *job, char ***ids, char *err, size_t errlen)
{
    *ids = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_ACCOUNTS_OF, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    int n = 0, cap = 0, rc;
    char **v = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) v = ut_realloc(v, sizeof *v * (size_t)(cap = cap ? cap * 2 : 16));
        const char *t = (const char *)sqlite3_column_text(s, 0);
        v[n++] = ut_strdup(t ? t : "");
    }
    ct_done(s);
    if (rc != SQLITE_DONE) {
        for (int i = 0; i < n; i++) free(v[i]);
        free(v);
        return ct_sqlerr(c, "read job accounts", err, errlen);
    }
    *ids = v;
    return n;
}

int ct_job_account_args(ct_catalog *c, const char *job, const char *account, char *out,
                        size_t cap, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_ACCOUNT_ARGS, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, account, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) ct_col_text(s, 0, out, cap);
    ct_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ct_sqlerr(c, "read a job account", err, errlen);
    return rc == SQLITE_ROW;
}

/* ---- run logs ------------------------------------------------------------------ */

static int log_put_tx(ct_catalog *c, int64_t run_id, int attempt, const char *job,
                      const char *text, size_t n, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_LOG_PUT, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int(s, 2, attempt);
    sqlite3_bind_text(s, 3, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, ct_now_ms());
    sqlite3_bind_text(s, 5, text, (int)n, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc != SQLITE_DONE) return ct_sqlerr(c, "keep a run's log", err, errlen);
    if (!(s = ct_stmt(c, S_RUN_LOG_PRUNE, err, errlen))) return -1;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, CT_RUN_LOGS_KEPT - 1);
    rc = sqlite3_step(s);
    ct_done(s);
    return rc == SQLITE_DONE ? 0 : ct_sqlerr(c, "drop old run logs", err, errlen);
}

int ct_run_log_put(ct_catalog *c, int64_t run_id, int attempt, const char *job, const char *text,
                   size_t n, char *err, size_t errlen)
{
    if (n > CT_RUN_LOG_MAX) { /* the end says how it ended: keep it, on a UTF-8 boundary */
        text += n - CT_RUN_LOG_MAX;
        n = CT_RUN_LOG_MAX;
        while (n && ((unsigned char)*text & 0xC0) == 0x80) text++, n--;
    }
    if (ct_lazy(c, 1, err, errlen)) return -1;
    int rc = ct_begin(c, 1, err, errlen);
    if (rc == 0) {
        rc = log_put_tx(c, run_id, attempt, job, text, n, err, errlen);
        if (rc) ct_rollback(c);
        else rc = ct_commit_tx(c, err, errlen) < 0 ? -1 : 0;
    }
    char e2[200];
    if (ct_lazy(c, 0, e2, sizeof e2) && !rc) rc = ut_err(err, errlen, "%s", e2);
    return rc < 0 ? -1 : 0;
}

int ct_run_logs(ct_catalog *c, int64_t run_id, ct_run_log_fn fn, void *arg, char *err,
                size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_RUN_LOG_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, run_id);
    int n = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 2);
        fn(arg, sqlite3_column_int(s, 0), sqlite3_column_int64(s, 1), t ? t : "",
           (size_t)sqlite3_column_bytes(s, 2));
        n++;
    }
    ct_done(s);
    return rc == SQLITE_DONE ? n : ct_sqlerr(c, "read a run's logs", err, errlen);
}

int ct_runs_failed_since(ct_catalog *c, int64_t since_ms, int64_t after_ms, int64_t after_id,
                         int limit, ct_run **out, char *err, size_t errlen)
{
    assert(limit > 0 && limit <= 10000);
    *out = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_RUNS_FAILED_SINCE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, since_ms);
    sqlite3_bind_int64(s, 2, after_ms);
    sqlite3_bind_int64(s, 3, after_id);
    sqlite3_bind_int(s, 4, limit);
    int n = 0, rc;
    ct_run *v = ut_calloc((size_t)limit, sizeof *v);
    while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) run_from_row(s, &v[n++]);
    if (n == limit) rc = SQLITE_DONE;
    ct_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return ct_sqlerr(c, "list failed runs", err, errlen);
    }
    *out = v;
    return n;
}
