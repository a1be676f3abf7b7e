/* What `sluice tables --format json`, `sluice describe --json` and the
 * server's GET /v1/tables[/NAME] say about the lake: one loader and one JSON
 * writer for all of them. */
#include "catalog/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ct_ms_text(char *out, int64_t ms)
{
    int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int n = ut_ts_format(out, sec * 1000000);
    int frac = (int)(ms - sec * 1000);
    if (frac && n > 0 && out[n - 1] == 'Z') snprintf(out + n - 1, 40 - (size_t)(n - 1), ".%03dZ", frac);
}

static void jstr(ut_buf *b, const char *s)
{
    ut_json_str(b, s, strlen(s));
}

/* JSON string, or null when s is empty. */
static void jstr_or_null(ut_buf *b, const char *s)
{
    if (*s) jstr(b, s);
    else ut_buf_puts(b, "null");
}

static void jpartition_cols(ut_buf *b, const char *spec)
{
    ut_buf_putc(b, '[');
    for (int first = 1; *spec; first = 0) {
        size_t n = strcspn(spec, ",");
        if (!first) ut_buf_putc(b, ',');
        ut_json_str(b, spec, n);
        spec += n;
        if (*spec == ',') spec++;
    }
    ut_buf_putc(b, ']');
}

/* ---- the list ------------------------------------------------------------------ */

static void table_json(ut_buf *out, const ct_table *t, const struct ct_table_stats *st)
{
    char created[40];
    ct_ms_text(created, t->created_ms);
    ut_buf_puts(out, "{\"name\":");
    jstr(out, t->name);
    ut_buf_printf(out, ",\"files\":%lld,\"rows\":%lld,\"bytes\":%lld,\"partitions\":%lld",
                  (long long)st->files, (long long)st->rows, (long long)st->bytes,
                  (long long)st->partitions);
    ut_buf_puts(out, ",\"min_partition\":");
    jstr_or_null(out, st->min_partition);
    ut_buf_puts(out, ",\"max_partition\":");
    jstr_or_null(out, st->max_partition);
    ut_buf_printf(out, ",\"version\":%d,\"stream\":", t->version);
    jstr_or_null(out, t->stream);
    ut_buf_puts(out, ",\"location\":");
    jstr(out, t->location);
    ut_buf_puts(out, ",\"partition_columns\":");
    jpartition_cols(out, t->partition);
    ut_buf_printf(out, ",\"created\":\"%s\"", created);
    if (st->last_commit_ms) {
        ct_ms_text(created, st->last_commit_ms);
        ut_buf_printf(out, ",\"last_commit\":\"%s\"}", created);
    } else {
        ut_buf_puts(out, ",\"last_commit\":null}");
    }
}

void ct_view_json(ut_buf *b, const ct_view *v)
{
    ut_buf_puts(b, "{\"name\":");
    jstr(b, v->name);
    ut_buf_puts(b, ",\"kind\":\"view\",\"base\":");
    jstr(b, v->base);
    ut_buf_puts(b, ",\"job\":");
    jstr(b, v->job);
    ut_buf_puts(b, ",\"key\":[");
    for (int k = 0; k < v->nkey; k++) {
        if (k) ut_buf_putc(b, ',');
        jstr(b, v->key[k]);
    }
    ut_buf_puts(b, "],\"order\":");
    jstr(b, v->order);
    ut_buf_puts(b, ",\"sql\":");
    jstr(b, v->sql);
    ut_buf_putc(b, '}');
}

/* The views after the tables (count so far: n). */
static int views_json(ct_catalog *c, int n, ut_buf *out, char *err, size_t errlen)
{
    ct_view *v = NULL;
    int nv = ct_views(c, &v, err, errlen);
    if (nv < 0) return -1;
    for (int i = 0; i < nv; i++) {
        ut_buf_puts(out, n + i ? ",\n" : "\n");
        ct_view_json(out, &v[i]);
    }
    ct_views_free(v, nv);
    return nv;
}

int ct_tables_json(ct_catalog *c, ut_buf *out, char *err, size_t errlen)
{
    char **names = NULL;
    int n = c ? ct_tables(c, &names, err, errlen) : 0;
    if (n < 0) return -1;
    int rc = 0;
    ut_buf_putc(out, '[');
    for (int i = 0; i < n && rc == 0; i++) {
        ct_table t;
        struct ct_table_stats st;
        memset(&t, 0, sizeof t);
        if (ct_table_get(c, names[i], &t, err, errlen) != 1 ||
            ct_table_stats(c, t.id, &st, err, errlen) < 0) {
            if (!err[0]) snprintf(err, errlen, "table '%s' went away while listing", names[i]);
            rc = -1;
        } else {
            ut_buf_puts(out, i ? ",\n" : "\n");
            table_json(out, &t, &st);
        }
        ct_table_free(&t);
    }
    int nv = rc == 0 && c ? views_json(c, n, out, err, errlen) : 0;
    if (nv < 0) rc = -1, nv = 0;
    ut_buf_puts(out, n + nv ? "\n]\n" : "]\n");
    ct_names_free(names, n);
    return rc;
}

/* ---- one table ------------------------------------------------------------------- */

/* Per-partition totals of files f[0..n) (sorted by partition). */
static int sum_partitions(const ct_file *f, int n, ct_part_sum **out)
{
    ct_part_sum *v = ut_calloc((size_t)n + 1, sizeof *v);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (k == 0 || strcmp(v[k - 1].partition, f[i].partition))
            v[k++].partition = f[i].partition;
        v[k - 1].files++;
        v[k - 1].rows += f[i].rows;
        v[k - 1].bytes += f[i].bytes;
    }
    *out = v;
    return k;
}

static void on_io(void *arg, const char *table, const char *partition, int write)
{
    ut_buf *reads = arg;
    (void)partition;
    if (write) return;
    if (reads->len) ut_buf_puts(reads, ", ");
    ut_buf_puts(reads, table);
}

int ct_describe(ct_catalog *c, const char *name, ct_description *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    err[0] = 0;
    int found = c ? ct_table_get(c, name, &d->t, err, errlen) : 0;
    if (found <= 0) return found;
    if ((d->nhistory = ct_schema_history(c, d->t.id, &d->history, err, errlen)) < 0 ||
        (d->nfiles = ct_files(c, d->t.id, NULL, &d->files, err, errlen)) < 0) {
        ct_description_free(d);
        return -1;
    }
    d->nparts = sum_partitions(d->files, d->nfiles, &d->parts);
    char perr[512];
    ut_buf reads = {0};
    d->has_producer = ct_run_last_writer(c, d->t.name, &d->producer, perr, sizeof perr) == 1;
    if (d->has_producer) ct_run_lineage(c, d->producer.id, on_io, &reads, perr, sizeof perr);
    d->reads = ut_strdup(ut_buf_cstr(&reads));
    ut_buf_free(&reads);
    return 1;
}

void ct_description_free(ct_description *d)
{
    if (!d) return;
    free(d->parts);
    ct_files_free(d->files, d->nfiles < 0 ? 0 : d->nfiles);
    free(d->history);
    ct_table_free(&d->t);
    free(d->reads);
    memset(d, 0, sizeof *d);
}

static void columns_json(ut_buf *b, const ct_table *t)
{
    ut_buf_puts(b, ",\"columns\":[");
    for (int i = 0; i < t->ncols; i++) {
        ut_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        jstr(b, t->cols[i].name);
        char ty[CT_TYPE_TEXT_MAX];
        ut_buf_printf(b, ",\"type\":\"%s\",\"added_version\":%d}",
                      ct_column_type_text(&t->cols[i], ty, sizeof ty), t->cols[i].added_version);
    }
    ut_buf_putc(b, ']');
}

static void history_json(ut_buf *b, const ct_description *d)
{
    char ts[40];
    ut_buf_puts(b, ",\"history\":[");
    for (int i = 0; i < d->nhistory; i++) {
        const ct_schema_version *h = &d->history[i];
        ct_ms_text(ts, h->created_ms);
        ut_buf_printf(b, "%s{\"version\":%d,\"created\":\"%s\",\"columns\":%d,\"change\":",
                      i ? "," : "", h->version, ts, h->ncols);
        jstr(b, h->change);
        ut_buf_putc(b, '}');
    }
    ut_buf_puts(b, "],\"partitions\":[");
    for (int i = 0; i < d->nparts; i++) {
        const ct_part_sum *p = &d->parts[i];
        ut_buf_puts(b, i ? ",{\"partition\":" : "{\"partition\":");
        jstr(b, p->partition);
        ut_buf_printf(b, ",\"files\":%lld,\"rows\":%lld,\"bytes\":%lld}", (long long)p->files,
                      (long long)p->rows, (long long)p->bytes);
    }
    ut_buf_putc(b, ']');
}

static void file_json(ut_buf *b, const ct_file *f)
{
    char ts[40];
    ct_ms_text(ts, f->created_ms);
    ut_buf_printf(b, "{\"id\":%lld,\"path\":", (long long)f->id);
    jstr(b, f->path);
    ut_buf_puts(b, ",\"partition\":");
    jstr(b, f->partition);
    ut_buf_printf(b,
                  ",\"rows\":%lld,\"bytes\":%lld,\"schema_version\":%d,\"created\":\"%s\","
                  "\"min_offset\":%lld,\"max_offset\":%lld,\"stats\":[",
                  (long long)f->rows, (long long)f->bytes, f->schema_version, ts,
                  (long long)f->min_offset, (long long)f->max_offset);
    for (int j = 0; j < f->nstats; j++) {
        const ct_colstat *s = &f->stats[j];
        ut_buf_puts(b, j ? ",{\"column\":" : "{\"column\":");
        jstr(b, s->name);
        if (s->has_minmax) {
            ut_buf_puts(b, ",\"min\":");
            jstr(b, s->min);
            ut_buf_puts(b, ",\"max\":");
            jstr(b, s->max);
        }
        ut_buf_printf(b, ",\"nulls\":%lld}", (long long)s->nulls);
    }
    ut_buf_puts(b, "]}");
}

static void producer_json(ut_buf *b, const ct_description *d)
{
    if (!d->has_producer) {
        ut_buf_puts(b, ",\"producer\":null");
        return;
    }
    ut_buf_puts(b, ",\"producer\":{\"job\":");
    jstr(b, d->producer.job);
    ut_buf_printf(b, ",\"run\":%lld,\"state\":\"%s\",\"reads\":[", (long long)d->producer.id,
                  ct_run_state_name(d->producer.state));
    const char *r = d->reads;
    for (int first = 1; *r; first = 0) {
        size_t n = strcspn(r, ",");
        ut_buf_puts(b, first ? "" : ",");
        ut_json_str(b, r, n);
        r += n;
        while (*r == ',' || *r == ' ') r++;
    }
    ut_buf_puts(b, "]}");
}

void ct_description_json(const ct_description *d, int max_files, ut_buf *b)
{
    const ct_table *t = &d->t;
    char ts[40];
    ut_buf_puts(b, "{\"name\":");
    jstr(b, t->name);
    ut_buf_puts(b, ",\"location\":");
    jstr(b, t->location);
    ut_buf_puts(b, ",\"partition_columns\":");
    jpartition_cols(b, t->partition);
    ut_buf_puts(b, ",\"stream\":");
    jstr_or_null(b, t->stream);
    ct_ms_text(ts, t->created_ms);
    ut_buf_printf(b, ",\"created\":\"%s\",\"version\":%d", ts, t->version);
    columns_json(b, t);
    history_json(b, d);
    if (max_files) {
        int n = max_files < 0 || max_files > d->nfiles ? d->nfiles : max_files;
        ut_buf_puts(b, ",\"files\":[");
        for (int i = 0; i < n; i++) {
            if (i) ut_buf_putc(b, ',');
            file_json(b, &d->files[i]);
        }
        ut_buf_putc(b, ']');
        if (n < d->nfiles) ut_buf_printf(b, ",\"files_total\":%d", d->nfiles);
    }
    producer_json(b, d);
    ut_buf_puts(b, "}\n");
}
