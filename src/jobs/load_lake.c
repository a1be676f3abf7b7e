/* jobs: kind load, the lake side — the source table and its window column,
 * the run's window in that column's text form, the SELECT that reads it
 * and the ids of the lake files the window's rows come from (the load
 * history compares them with the last load's). */
#include "jobs/jb_load.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int jb__load_fail(jb_load *L, ut_errkind kind, const char *fmt, ...)
{
    char m[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    snprintf(L->err, sizeof L->err, "job %s: target %s: %s", L->j->name, L->j->target.table, m);
    L->kind = kind;
    return -1;
}

/* Is `name` one of the table's partition columns ("dt,hr")? */
static int is_partition(const ct_table *t, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = t->partition; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncasecmp(p, name, n)) return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

/* The window column's lake name and type: a column (date, timestamp,
 * timestamp_ntz) or the dt partition (a date). */
static int window_column(jb_load *L)
{
    const char *w = L->j->window_column;
    if (!w[0]) return 0;
    if (is_partition(&L->src, w)) {
        if (strcasecmp(w, "dt"))
            return jb__load_fail(L, UT_EINVAL, "window_column %s: a partition column other than "
                                 "dt holds no date", w);
        snprintf(L->wname, sizeof L->wname, "dt");
        L->wcol.type = CT_DATE;
        return 0;
    }
    for (int i = 0; i < L->src.ncols; i++) {
        const ct_column *c = &L->src.cols[i];
        if (strcasecmp(c->name, w)) continue;
        if (c->type != CT_DATE && c->type != CT_TIMESTAMP && c->type != CT_TIMESTAMP_NTZ)
            return jb__load_fail(L, UT_EINVAL, "window_column %s of lake table %s is %s, not a "
                                 "date or timestamp", w, L->src.name, ct_type_name(c->type));
        snprintf(L->wname, sizeof L->wname, "%s", c->name);
        L->wcol = *c;
        return 0;
    }
    return jb__load_fail(L, UT_EINVAL, "window_column %s is not a column of lake table %s", w,
                         L->src.name);
}

/* "2024-05-01T00:00:00" wall clock of t_us in the job's zone. */
static void local_text(const jb_timing *t, int64_t us, char out[96])
{
    struct tm tm;
    jb__local(t, us, &tm, NULL);
    snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* lo/hi: the run's window as the window column's values compare (lake
 * text forms, which the warehouse parses too). */
static int bounds(jb_load *L)
{
    const ct_run *r = L->c->run;
    const jb_timing *t = L->c->timing;
    if (L->wcol.type == CT_DATE) {
        jb__ds(t, r->window_start, L->lo);
        jb__ds(t, r->window_end, L->hi);
        if (!strcmp(L->lo, L->hi) && L->j->mode == CF_MODE_REPLACE_WINDOW)
            return jb__load_fail(L, UT_EINVAL, "window_column %s is a date: it cannot tell the "
                                 "rows of an hour window (use a timestamp column, or window: "
                                 "day)", L->wname);
    } else if (L->wcol.type == CT_TIMESTAMP_NTZ) {
        local_text(t, r->window_start, L->lo);
        local_text(t, r->window_end, L->hi);
    } else {
        jb_vars v = {.cf = L->c->cf, .job = L->j, .timing = t, .run_id = r->id,
                     .ws = r->window_start, .we = r->window_end, .iterations = 1};
        ut_buf b = {0};
        char err[200];
        int rc = jb__expand("{{window_start}} {{window_end}}", &v, &b, NULL, err, sizeof err);
        if (!rc) sscanf(ut_buf_cstr(&b), "%95s %95s", L->lo, L->hi);
        ut_buf_free(&b);
        if (rc) return jb__load_fail(L, UT_EINTERNAL, "%s", err);
    }
    return 0;
}

static void quote_ident(ut_buf *b, const char *s)
{
    ut_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, (uint8_t)*s);
    }
    ut_buf_putc(b, '"');
}

/* The SELECT: the job's query templated, else every column of the source
 * (partition columns last) in the window by the window column. */
static int select_text(jb_load *L)
{
    const cf_job *j = L->j;
    if (j->query[0]) {
        jb_vars v = {.cf = L->c->cf, .job = j, .timing = L->c->timing, .run_id = L->c->run->id,
                     .ws = L->c->run->window_start, .we = L->c->run->window_end,
                     .iterations = 1, .account = L->c->run->part,
                     .account_args = L->c->account_args};
        char err[600];
        if (jb__expand(j->query, &v, &L->select, L->c->redact, err, sizeof err))
            return jb__load_fail(L, UT_EINVAL, "query: %s", err);
        return 0;
    }
    ut_buf *b = &L->select;
    ut_buf_puts(b, "SELECT ");
    for (int i = 0; i < L->src.ncols; i++) {
        if (i) ut_buf_puts(b, ", ");
        quote_ident(b, L->src.cols[i].name);
    }
    for (const char *p = L->src.partition; *p;) {
        size_t k = strcspn(p, ",");
        char col[64];
        snprintf(col, sizeof col, "%.*s", (int)(k < 63 ? k : 63), p);
        ut_buf_puts(b, L->src.ncols || p != L->src.partition ? ", " : "");
        quote_ident(b, col);
        p += k + (p[k] == ',');
    }
    ut_buf_puts(b, " FROM lake.");
    quote_ident(b, L->src.name);
    if (L->wname[0] && j->mode == CF_MODE_REPLACE_WINDOW) {
        ut_buf_puts(b, " WHERE ");
        quote_ident(b, L->wname);
        ut_buf_printf(b, " >= '%s' AND ", L->lo);
        quote_ident(b, L->wname);
        ut_buf_printf(b, " < '%s'", L->hi);
    }
    return 0;
}

/* The ids of the lake files the window's rows can come from: those of the
 * window's dt partitions when the table is partitioned by dt first, else
 * every live file of the table. */
static int window_files(jb_load *L)
{
    char prefix[64] = "", err[512];
    if (!strncmp(L->src.partition, "dt", 2) && (L->src.partition[2] == 0 ||
                                                L->src.partition[2] == ',') &&
        L->j->mode == CF_MODE_REPLACE_WINDOW && !L->j->query[0] && L->wcol.type == CT_DATE &&
        !strcmp(L->wname, "dt")) {
        char ds[JB_DS_LEN];
        jb__ds(L->c->timing, L->c->run->window_start, ds);
        snprintf(prefix, sizeof prefix, L->j->window == CF_WINDOW_MONTH ? "dt=%.8s" : "dt=%s",
                 ds);
    }
    ct_file *f = NULL;
    int n = ct_files(L->c->cat, L->src.id, prefix[0] ? prefix : NULL, &f, err, sizeof err);
    if (n < 0) return jb__load_fail(L, UT_EIO, "%s", err);
    int64_t *ids = ut_calloc((size_t)n + 1, sizeof *ids);
    for (int i = 0; i < n; i++) ids[i] = f[i].id;
    L->wfiles = f, L->nwfiles = n;
    for (int i = 1; i < n; i++) /* ascending (few files: insertion sort) */
        for (int k = i; k > 0 && ids[k - 1] > ids[k]; k--) {
            int64_t t = ids[k];
            ids[k] = ids[k - 1], ids[k - 1] = t;
        }
    ut_buf b = {0};
    for (int i = 0; i < n; i++) ut_buf_printf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
    free(ids);
    L->files = ut_strdup(ut_buf_cstr(&b));
    ut_buf_free(&b);
    return 0;
}

int jb__load_lake(jb_load *L)
{
    char err[512];
    int found = ct_table_get(L->c->cat, L->j->source, &L->src, err, sizeof err);
    if (found < 0) return jb__load_fail(L, UT_EIO, "%s", err);
    if (!found)
        return jb__load_fail(L, UT_ENOTFOUND, "source: lake table %s does not exist",
                             L->j->source);
    if (window_column(L) || bounds(L) || select_text(L)) return -1;
    return window_files(L);
}
