/* jobs: loads outside the runtime (no run recorded).
 * `sluice load --plan JOB --window W` — the statements a load of window W
 * would send, built by the code the run uses (jb__load_sql), with the
 * target's columns as they are now (read from the warehouse; Redshift: the
 * CREATE TABLE, the manifest and its COPY, which read nothing).
 * `sluice export JOB --sample N` — the first N rows exported by the run's
 * own code (jb__load_transaction) to a development target. */
#include "jobs/jb_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The SELECT's columns without its rows (header of a LIMIT 0 wrapper). */
static int plan_header(void *ctx, sqlite3_stmt *st)
{
    jb_load *L = ctx;
    return L->ncols ? 0 : jb__load_columns(L, st);
}

static int columns(jb_load *L, sq_engine *eng)
{
    ut_buf q = {0};
    ut_buf_printf(&q, "SELECT * FROM (%s) LIMIT 0", ut_buf_cstr(&L->select));
    sq_sink sink = {.ctx = L, .header = plan_header};
    char err[900];
    L->err[0] = 0;
    int64_t n = sq_query(eng, ut_buf_cstr(&q), &sink, err, sizeof err);
    ut_buf_free(&q);
    if (n < 0 && !L->err[0]) jb__load_fail(L, UT_EINVAL, "reading lake table %s: %s", L->j->source, err);
    if (n >= 0 && !L->ncols) return jb__load_fail(L, UT_EINVAL, "the query returned no columns");
    return n < 0 ? -1 : 0;
}

static void print_steps(jb_load *L, ut_buf *out)
{
    if (L->my)
        ut_buf_puts(out, "-- on a MySQL session with time_zone '+00:00' and sql_mode "
                         "ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES\n");
    else
        ut_buf_puts(out, "-- on a session set up as every sluice connection to PostgreSQL "
                         "(TimeZone UTC, DateStyle ISO, hex bytea)\n");
    for (int s = JB_LOAD_BEGIN; s <= JB_LOAD_COMMIT; s++) {
        ut_buf b = {0};
        jb__load_sql(L, (jb_load_step)s, &b);
        if (b.len) ut_buf_printf(out, "%s;\n", ut_buf_cstr(&b));
        if (s == JB_LOAD_COPY && L->my) {
            ut_buf_reset(&b);
            wh_my_insert(&b, &L->plan);
            ut_buf_puts(&b, "(...), (...)");
            wh_my_insert_end(&b, &L->plan);
            ut_buf_printf(out, "%s;  -- about 1 MiB of rows per INSERT, from:\n--   %s\n",
                          ut_buf_cstr(&b), ut_buf_cstr(&L->select));
        } else if (s == JB_LOAD_COPY) {
            ut_buf_printf(out, "-- COPY rows, tab-separated text, from:\n--   %s\n",
                          ut_buf_cstr(&L->select));
        }
        ut_buf_free(&b);
    }
}

/* Redshift: the table when missing, of the files' columns (the partition
 * columns are not in the Parquet files), with its DISTKEY / SORTKEY. */
static void redshift_create(const jb_load *L, ut_buf *out)
{
    wh_plan p = L->plan;
    wh_col *cols = ut_calloc((size_t)p.ncols + 1, sizeof *cols);
    int n = 0;
    for (int i = 0; i < p.ncols; i++)
        for (int k = 0; k < L->src.ncols; k++)
            if (!strcasecmp(L->src.cols[k].name, p.cols[i].name)) {
                cols[n++] = p.cols[i];
                break;
            }
    p.cols = cols, p.ncols = n;
    wh_sql_create(out, &p);
    ut_buf_puts(out, ";\n");
    free(cols);
}

/* Redshift: the manifest of the window's lake files and the COPY reading it. */
static int redshift(jb_load *L, ut_buf *out)
{
    const ct_file *f = L->wfiles;
    int n = L->nwfiles, k = 0;
    char err[512];
    wh_file *wf = ut_calloc((size_t)n + 1, sizeof *wf);
    char **urls = ut_calloc((size_t)n + 1, sizeof *urls);
    for (int i = 0; i < n; i++) {
        ut_buf u = {0};
        ut_buf_printf(&u, "%s/%s", L->src.location, f[i].path);
        urls[k] = ut_strdup(ut_buf_cstr(&u));
        ut_buf_free(&u);
        wf[k].url = urls[k], wf[k].bytes = f[i].bytes, k++;
    }
    ut_buf man = {0}, url = {0};
    int rc = wh_manifest(&man, wf, k, err, sizeof err);
    if (rc) jb__load_fail(L, UT_EINVAL, "%s (dialect redshift needs the lake on S3)", err);
    ut_buf_printf(&url, "%s/_manifests/%s/%s.json", L->src.location, L->j->name, L->lo);
    if (!rc) {
        redshift_create(L, out);
        ut_buf_printf(out, "-- manifest %s:\n%s", ut_buf_cstr(&url), ut_buf_cstr(&man));
        wh_sql_redshift(out, &L->plan, ut_buf_cstr(&url), L->j->target.iam_role);
    }
    for (int i = 0; i < k; i++) free(urls[i]);
    free(urls), free(wf);
    ut_buf_free(&man), ut_buf_free(&url);
    return rc;
}

static int plan(jb_load *L, sq_engine *eng, ut_buf *out)
{
    if (jb__load_lake(L)) return -1;
    if (L->j->target.dialect == CF_DIALECT_POSTGRES &&
        (jb__load_connect(L, "sluice load --plan") || jb__load_target_columns(L)))
        return -1;
    if (columns(L, eng)) return -1;
    if (L->j->target.dialect == CF_DIALECT_REDSHIFT) return redshift(L, out);
    print_steps(L, out);
    return 0;
}

/* A load of job j for the window containing at_us, outside the runtime:
 * fn(L, arg) with the catalog open and a manual, forced run.  0 / -1 (e). */
typedef int (*offline_fn)(jb_load *L, void *arg);
static int offline(const cf_config *cf, const char *data_dir, const cf_job *j, int64_t at_us,
                   sq_engine *eng, offline_fn fn, void *arg, ut_error *e)
{
    jb_timing t;
    char err[600], path[4200];
    if (jb__timing_init(&t, j, err, sizeof err))
        return ut_fail(e, UT_EINVAL, "job %s: %s", j->name, err);
    ct_run run = {.iterations = 1, .forced = 1};
    snprintf(run.trigger, sizeof run.trigger, "manual");
    jb__window_of(&t, at_us, &run.window_start, &run.window_end);
    snprintf(path, sizeof path, "%s/catalog.db", data_dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    if (!cat) {
        jb__timing_free(&t);
        return ut_fail(e, UT_EIO, "%s", err);
    }
    jb_redact red = {0};
    ct_run_done done = {0};
    jb_task_ctx c = {.cf = cf, .job = j, .timing = &t, .cat = cat, .run = &run, .done = &done,
                     .redact = &red};
    jb_load L = {.c = &c, .j = j, .eng = eng};
    int rc = fn(&L, arg);
    if (rc) ut_fail(e, L.kind ? L.kind : UT_EIO, "%s", L.err);
    jb__load_free(&L);
    jb__redact_free(&red);
    ct_close(cat);
    jb__timing_free(&t);
    return rc;
}

struct plan_arg {
    sq_engine *eng;
    ut_buf *out;
};

static int plan_fn(jb_load *L, void *arg)
{
    struct plan_arg *a = arg;
    return plan(L, a->eng, a->out);
}

int jb_load_plan(const cf_config *cf, const char *data_dir, const char *job, int64_t at_us,
                 sq_engine *eng, ut_buf *out, ut_error *e)
{
    const cf_job *j = cf_job_find(cf, job);
    if (!j || (j->kind != CF_JOB_LOAD && j->kind != CF_JOB_EXPORT))
        return ut_fail(e, UT_ENOTFOUND, "no load or export job '%s' in the config", job);
    struct plan_arg a = {eng, out};
    return offline(cf, data_dir, j, at_us, eng, plan_fn, &a, e);
}

struct sample_arg {
    int64_t n, rows;
};

static int sample_fn(jb_load *L, void *arg)
{
    struct sample_arg *a = arg;
    L->sample = a->n;
    if (jb__load_lake(L)) return -1;
    ut_buf q = {0};
    ut_buf_printf(&q, "SELECT * FROM (%s) LIMIT %lld", ut_buf_cstr(&L->select),
                  (long long)L->sample);
    ut_buf_free(&L->select);
    L->select = q;
    int rc = jb__load_connect(L, "sluice export --sample") || jb__load_transaction(L) ? -1 : 0;
    a->rows = L->rows;
    return rc;
}

int jb_export_sample(const cf_config *cf, const char *data_dir, const char *job, int64_t n,
                     const char *to, const char *table, sq_engine *eng, int64_t *rows,
                     ut_error *e)
{
    const cf_job *j0 = cf_job_find(cf, job);
    if (!j0 || (j0->kind != CF_JOB_LOAD && j0->kind != CF_JOB_EXPORT))
        return ut_fail(e, UT_ENOTFOUND, "no export or load job '%s' in the config", job);
    if (n < 1) return ut_fail(e, UT_EINVAL, "--sample: at least 1 row");
    cf_job j = *j0; /* the same job, its target swapped */
    if (to) j.target.connection = (char *)to;
    if (table) j.target.table = (char *)table;
    char m[300];
    if (!cf_postgres_find(cf, j.target.connection) &&
        !(j.kind == CF_JOB_EXPORT && cf_mysql_find(cf, j.target.connection)))
        return ut_fail(e, UT_EINVAL, "job %s: --to: no connection '%s' under postgres%s", job,
                       j.target.connection, j.kind == CF_JOB_EXPORT ? " or mysql" : "");
    if (wh_table_check(j.target.table, m, sizeof m))
        return ut_fail(e, UT_EINVAL, "job %s: --table: %s", job, m);
    if (j.target.dialect == CF_DIALECT_REDSHIFT)
        return ut_fail(e, UT_EINVAL, "job %s: --sample runs into PostgreSQL or MySQL, not "
                       "Redshift", job);
    struct sample_arg a = {n, 0};
    int rc = offline(cf, data_dir, &j, (int64_t)(ut_now_ns() / 1000), eng, sample_fn, &a, e);
    *rows = a.rows;
    return rc;
}
