/* jobs: kind load — a lake table (or a SELECT over the lake) into a
 * PostgreSQL table, in ONE warehouse transaction (kind export is the same
 * run into a service database, PostgreSQL here or MySQL via export_my.c):
 *
 *   BEGIN; pg_advisory_xact_lock(target)          loads of one target in turn
 *   CREATE TABLE IF NOT EXISTS / ALTER TABLE ADD COLUMN   (new lake columns)
 *   DELETE FROM t WHERE wc >= lo AND wc < hi      replace_window
 *   [staging table]                               upsert, replace_table
 *   COPY t (cols) FROM STDIN  ◄── sq_query rows, one at a time, sent in 1 MiB chunks
 *   [INSERT … ON CONFLICT / rename swap]
 *   COMMIT
 *
 * Readers see the old rows or the new ones (READ COMMITTED: the DELETE and
 * the COPY are invisible until COMMIT).  A load that fails anywhere — the
 * process killed mid-COPY included — commits nothing: the server rolls the
 * transaction back when the connection ends.  After COMMIT the lake files
 * the window's rows came from are recorded (load history); a scheduled run
 * of a window whose files did not change since does nothing.  Memory: the
 * SQL scan plus one chunk. */
#include "jobs/jb_load.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Run statements that return nothing (";"-separated).  0 / -1. */
static int exec(jb_load *L, const char *sql)
{
    if (L->my) return jb__my_exec(L, sql);
    if (!sql[0]) return 0;
    PGconn *pg = pgf_session_pg(L->pg);
    PGresult *r = PQexec(pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) {
        char m[700];
        pgf_session_err(L->pg, r, m, sizeof m);
        jb__load_fail(L, UT_EIO, "%s", m);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int jb__load_target_columns(jb_load *L)
{
    if (L->my) return jb__my_target_columns(L);
    const char *t = L->j->target.table, *dot = strchr(t, '.');
    char schema[WH_IDENT_MAX + 1] = "";
    if (dot) snprintf(schema, sizeof schema, "%.*s", (int)(dot - t), t);
    const char *vals[2] = {schema, dot ? dot + 1 : t};
    PGresult *r = PQexecParams(pgf_session_pg(L->pg),
                               "SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_schema = CASE WHEN $1 = '' THEN current_schema() "
                               "ELSE $1 END AND table_name = $2 ORDER BY ordinal_position",
                               2, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char m[700];
        pgf_session_err(L->pg, r, m, sizeof m);
        PQclear(r);
        return jb__load_fail(L, UT_EIO, "%s", m);
    }
    L->ntcols = PQntuples(r);
    L->tcols = ut_calloc((size_t)L->ntcols + 1, sizeof *L->tcols);
    for (int i = 0; i < L->ntcols; i++) {
        snprintf(L->tcols[i].name, sizeof L->tcols[i].name, "%s", PQgetvalue(r, i, 0));
        snprintf(L->tcols[i].type, sizeof L->tcols[i].type, "%s", PQgetvalue(r, i, 1));
    }
    PQclear(r);
    return 0;
}

/* Send what is buffered.  0 / -1. */
static int flush(jb_load *L)
{
    if (L->my) return jb__my_flush(L);
    if (!L->out.len) return 0;
    if (PQputCopyData(pgf_session_pg(L->pg), (const char *)L->out.p, (int)L->out.len) != 1) {
        char m[700];
        pgf_session_err(L->pg, NULL, m, sizeof m);
        return jb__load_fail(L, UT_EIO, "COPY: %s", m);
    }
    ut_buf_reset(&L->out);
    return 0;
}

/* The SELECT's header: its columns (typed by the first row, see
 * jb__load_refine). */
static int on_header(void *ctx, sqlite3_stmt *st)
{
    jb_load *L = ctx;
    if (L->ncols) return jb__load_fail(L, UT_EINVAL, "the query is more than one statement");
    return jb__load_columns(L, st);
}

/* Before the first row (or at the end when there is none): the DDL, the
 * DELETE, the staging table, and COPY started. */
static int start(jb_load *L)
{
    ut_buf b = {0};
    L->started = 1;
    jb__load_sql(L, JB_LOAD_PREPARE, &b);
    int rc = exec(L, ut_buf_cstr(&b));
    ut_buf_reset(&b);
    jb__load_sql(L, JB_LOAD_STAGE, &b);
    if (!rc) rc = exec(L, ut_buf_cstr(&b));
    ut_buf_reset(&b);
    jb__load_sql(L, JB_LOAD_COPY, &b);
    if (L->my) { /* rows go by LOAD DATA or INSERTs (export_my.c): nothing to start here */
        L->copying = !rc;
        ut_buf_free(&b);
        return rc;
    }
    PGresult *r = rc ? NULL : PQexec(pgf_session_pg(L->pg), ut_buf_cstr(&b));
    if (r && PQresultStatus(r) != PGRES_COPY_IN) {
        char m[700];
        pgf_session_err(L->pg, r, m, sizeof m);
        rc = jb__load_fail(L, UT_EIO, "%s", m);
    } else if (r) {
        L->copying = 1;
    }
    PQclear(r);
    ut_buf_free(&b);
    return rc;
}

static void test_delay(jb_load *L)
{
    if (!L->delay_every || L->rows % L->delay_every) return;
    flush(L);
    struct timespec ts = {L->delay_ms / 1000, (L->delay_ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int on_row(void *ctx, sqlite3_stmt *st)
{
    jb_load *L = ctx;
    if (!L->started) {
        jb__load_refine(L, st);
        if (start(L)) return -1;
    }
    int rc = jb__load_row(L, st);
    if (rc < 0) return -1;
    if (rc > 0) return 0; /* set aside */
    L->rows++;
    test_delay(L);
    return L->out.len >= JB_LOAD_FLUSH ? flush(L) : 0;
}

/* End the COPY: sent (ok) or aborted.  0 / -1. */
static int copy_end(jb_load *L, int ok)
{
    L->copying = 0;
    if (L->my) return ok ? jb__my_flush(L) : -1; /* failed: the transaction rolls back */
    PGconn *pg = pgf_session_pg(L->pg);
    if (ok && flush(L)) ok = 0;
    if (PQputCopyEnd(pg, ok ? NULL : "the load failed") != 1 && ok) {
        char m[700];
        pgf_session_err(L->pg, NULL, m, sizeof m);
        jb__load_fail(L, UT_EIO, "COPY: %s", m);
        ok = 0;
    }
    PGresult *r;
    while ((r = PQgetResult(pg))) {
        if (ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
            char m[700];
            pgf_session_err(L->pg, r, m, sizeof m);
            jb__load_fail(L, UT_EINVAL, "COPY: %s", m);
            ok = 0;
        }
        PQclear(r);
    }
    return ok ? 0 : -1;
}

/* The lake rows into the open transaction. */
static int load_rows(jb_load *L)
{
    char err[900];
    const jb_opts *o = L->eng ? NULL : &L->c->rt->o;
    sq_engine *eng = L->eng ? L->eng
                     : o->sql_open_files ? o->sql_open_files(o->sql_ctx, L->j->timeout_ms, err,
                                                             sizeof err)
                                         : NULL;
    if (!eng) return jb__load_fail(L, UT_EIO, "%s", o->sql_open_files ? err : "no SQL engine");
    jb__task_engine(L->c, eng);
    sq_sink sink = {.ctx = L, .header = on_header, .row = on_row};
    L->err[0] = 0;
    int64_t n = sq_query(eng, ut_buf_cstr(&L->select), &sink, err, sizeof err);
    if (n < 0 && !L->err[0])
        jb__load_fail(L, sq_error_kind(eng), "reading lake table %s: %s", L->j->source, err);
    jb__task_engine(L->c, NULL);
    if (eng != L->eng) sq_close(eng);
    if (n >= 0 && !L->ncols) /* no header: no statement */
        return jb__load_fail(L, UT_EINVAL, "the query returned no columns");
    if (n >= 0 && !L->started && start(L)) n = -1; /* no rows: the window emptied */
    if (n >= 0 && jb__load_bad_check(L)) n = -1;
    return L->copying ? copy_end(L, n >= 0) : n < 0 ? -1 : 0;
}

/* Run step (a statement list) of the load.  0 / -1. */
static int step(jb_load *L, jb_load_step st)
{
    ut_buf b = {0};
    jb__load_sql(L, st, &b);
    int rc = exec(L, ut_buf_cstr(&b));
    ut_buf_free(&b);
    return rc;
}

int jb__load_transaction(jb_load *L)
{
    if (step(L, JB_LOAD_BEGIN) || jb__load_target_columns(L) || load_rows(L)) return -1;
    return step(L, JB_LOAD_AFTER) || step(L, JB_LOAD_COMMIT) ? -1 : 0;
}

/* A scheduled run of a window whose lake files are those of its last
 * successful load: 1 (nothing to do, said in the log), 0 load, -1. */
static int unchanged(jb_load *L)
{
    const ct_run *r = L->c->run;
    if (r->forced || (strcmp(r->trigger, "schedule") && strcmp(r->trigger, "lookback"))) return 0;
    char *last = NULL, err[512];
    int64_t by = 0;
    int found = ct_load_last(L->c->cat, L->j->name, r->window_start, &last, &by, err, sizeof err);
    if (found < 0) return jb__load_fail(L, UT_EIO, "load history: %s", err);
    int same = found && !strcmp(last, L->files);
    free(last);
    if (same)
        lg_info("jobs", "job %s run %lld: window %s: the lake files of the window did not change "
                "since run %lld loaded them: nothing to load", L->j->name, (long long)r->id,
                L->lo, (long long)by);
    return same;
}

int jb__load_connect(jb_load *L, const char *app)
{
    const char *name = L->j->target.connection;
    const cf_mysql *my = L->j->kind == CF_JOB_EXPORT ? cf_mysql_find(L->c->cf, name) : NULL;
    if (my) return jb__my_open(L, my, app);
    const cf_postgres *p = cf_postgres_find(L->c->cf, name);
    char m[700];
    L->pg = p ? pgf_session_open(p, app, m, sizeof m) : NULL;
    if (!L->pg) return jb__load_fail(L, UT_EIO, "%s", p ? m : "no such connection");
    return 0;
}

void jb__load_free(jb_load *L)
{
    jb__my_close(L);
    pgf_session_close(L->pg);
    ct_table_free(&L->src);
    ut_buf_free(&L->select);
    ut_buf_free(&L->out);
    free(L->files);
    ct_files_free(L->wfiles, L->nwfiles);
    free(L->tcols);
    free(L->cols);
    free(L->names);
    free(L->typed);
    free(L->cls);
    ut_buf_free(&L->bad);
    free((void *)L->plan.key);
    free((void *)L->plan.sortkey);
}

static void test_hook(jb_load *L)
{
    const char *d = getenv("SLUICE_TEST_LOAD_DELAY"); /* "EVERY:MS": tests' slow COPY */
    long long every = 0, ms = 0;
    if (d && sscanf(d, "%lld:%lld", &every, &ms) == 2 && every > 0 && ms >= 0)
        L->delay_every = every, L->delay_ms = ms;
}

int jb__kind_load(jb_task_ctx *c, ut_error *e)
{
    jb_load L = {.c = c, .j = c->job};
    test_hook(&L);
    if (L.j->target.dialect == CF_DIALECT_REDSHIFT) { /* docs/warehouse.md#redshift */
        return ut_fail(e, UT_EINVAL, "job %s: target %s: dialect redshift: runs are not built "
                       "yet (sluice load --plan shows what they will send)", L.j->name,
                       L.j->target.table);
    }
    int rc = jb__load_lake(&L), skip = rc ? 0 : unchanged(&L);
    if (skip < 0) rc = -1;
    if (!rc && !skip) rc = jb__load_connect(&L, "sluice load") || jb__load_transaction(&L);
    if (!rc && !skip) {
        char err[512];
        if (ct_load_record(c->cat, L.j->name, c->run->window_start, c->run->id, L.files, err,
                           sizeof err))
            lg_warn("jobs", "job %s run %lld: loaded, but the load history was not recorded "
                    "(the next run loads again): %s", L.j->name, (long long)c->run->id, err);
        lg_info("jobs", "job %s run %lld: %s -> %s: %lld rows (window %s .. %s)", L.j->name,
                (long long)c->run->id, L.j->source, L.j->target.table, (long long)L.rows, L.lo,
                L.hi);
    }
    c->done->rows = L.rows;
    int landed = 0; /* the errors table's commit finished the run */
    if (!rc && L.nbad) {
        lg_warn("jobs", "job %s run %lld: %lld rows set aside in %s (max_errors %lld); the "
                "first: %s", L.j->name, (long long)c->run->id, (long long)L.nbad,
                JB_LOAD_ERRORS_TABLE, (long long)L.j->max_errors, L.first_bad);
        rc = jb__load_errors_land(&L);
        landed = !rc;
    }
    if (rc) ut_fail(e, L.kind ? L.kind : UT_EIO, "%s", L.err);
    jb__load_free(&L);
    return rc ? -1 : landed;
}
