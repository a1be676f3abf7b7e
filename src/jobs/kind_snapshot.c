/* jobs: kind snapshot — one source table (the run's part) into its lake
 * table, for the run's window (docs/snapshots.md).
 *
 *   the table's settings (tables.<name>: columns | drop, rename, mask, where)
 *   ──► sn_scan_begin: ONE read-only REPEATABLE READ transaction; the
 *       source's columns as it has them now
 *   ──► plan: the columns read, each named column checked to exist (a
 *       message naming the job, the table and the column), lake names by the
 *       lake's rule, lake types by the mapping below; an existing lake table
 *       is extended (new columns added, types widened; a column the source
 *       dropped stays, NULL from now on)
 *   ──► rows streamed (COPY text) ──► each value masked, converted, put into
 *       a Parquet writer (a new file every SNAP_FILE_BYTES)
 *   ──► lk_land: the files replace the window's partitions (dt=<ds>, or the
 *       whole table without a window) in ONE catalog transaction that also
 *       finishes the run: a reader sees the old snapshot or the new one
 *
 * Memory: one row of the source, the writer's row group, nothing per row
 * kept.  A value with no lake form (infinity, a zero date) is stored NULL
 * and counted, per column, in the run's log line. */
#include "jobs/jb_snap.h"
#include "lake/lake.h"
#include "log/log.h"
#include "mask/mask.h"
#include "snap/snap.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The lake type of a source column (its class; a masked one is text). */
static void lake_type(sn_class c, const sn_column *src, ct_column *out)
{
    static const ct_type map[] = {
        [SN_BOOL] = CT_BOOL,       [SN_INT32] = CT_INT32,     [SN_INT64] = CT_INT64,
        [SN_FLOAT] = CT_FLOAT,     [SN_DOUBLE] = CT_DOUBLE,   [SN_DECIMAL] = CT_DECIMAL,
        [SN_STRING] = CT_STRING,   [SN_BYTES] = CT_BYTES,     [SN_DATE] = CT_DATE,
        [SN_TIME] = CT_TIME,       [SN_TIMESTAMP] = CT_TIMESTAMP,
        [SN_TIMESTAMP_NTZ] = CT_TIMESTAMP_NTZ, [SN_BINARY] = CT_BYTES};
    out->type = (unsigned)c < sizeof map / sizeof *map && map[c] ? map[c] : CT_STRING;
    out->precision = out->type == CT_DECIMAL ? src->precision : 0;
    out->scale = out->type == CT_DECIMAL ? src->scale : 0;
}

int jb__snap_fail(jb_snap_run *k, ut_error *e, ut_errkind kind, const char *fmt, ...)
{
    char m[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return ut_fail(e, kind, "job %s: table %s: %s", k->c->job->name, k->c->run->part, m);
}

/* The lake table's name: tables.<t>.target, else table_prefix + "s_t". */
static int lake_name(jb_snap_run *k, ut_error *e)
{
    const cf_job *j = k->c->job;
    char err[300], twin[200];
    if (jb__snap_lake_name(j, k->c->run->part, k->table, sizeof k->table))
        return jb__snap_fail(k, e, UT_EINVAL, "lake table %s%s is longer than %d bytes (set "
                             "target)", j->table_prefix, k->c->run->part, LK_TABLE_NAME_MAX);
    if (ut_name_check(UT_NAME_TABLE, k->table, strlen(k->table), err, sizeof err))
        return jb__snap_fail(k, e, UT_EINVAL, "lake table: %s", err);
    int t = jb__snap_lake_twin(k->c->cf, k->c->cat, j, k->c->run->part, k->table, twin,
                               sizeof twin, err, sizeof err);
    if (t < 0) return jb__snap_fail(k, e, UT_EIO, "%s", err);
    if (t) /* both would replace each other's snapshot */
        return jb__snap_fail(k, e, UT_EEXISTS, "%s lands in lake table %s too; give one of "
                             "them tables.<t>.target (or another table_prefix)", twin, k->table);
    return 0;
}

static int find_col(const sn_scan *s, const char *name)
{
    const sn_column *c = sn_scan_columns(s);
    for (int i = 0; i < sn_scan_ncols(s); i++)
        if (!strcmp(c[i].name, name)) return i;
    return -1;
}

/* Every column a setting names must exist (selected, for rename/mask). */
static int check_names(jb_snap_run *k, ut_error *e)
{
    const cf_snap_table *t = k->cfg;
    const char *what[] = {"columns", "drop"};
    const cf_strlist *lists[] = {&t->columns, &t->drop};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++)
            if (find_col(k->scan, lists[l]->v[i]) < 0)
                return jb__snap_fail(k, e, UT_EINVAL, "%s: the source has no column '%s'", what[l],
                            lists[l]->v[i]);
    const cf_strmap *maps[] = {&t->rename, &t->mask};
    const char *mwhat[] = {"rename", "mask"};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < maps[m]->n; i++) {
            int c = find_col(k->scan, maps[m]->k[i]), read = 0;
            for (int s = 0; c >= 0 && s < k->nsel; s++) read |= k->sel[s] == c;
            if (!read)
                return jb__snap_fail(k, e, UT_EINVAL, c < 0 ? "%s: the source has no column '%s'"
                                                   : "%s: column '%s' is not read (columns/drop)",
                            mwhat[m], maps[m]->k[i]);
        }
    return 0;
}

/* The source columns read, in order: columns, or all but drop. */
static int select_columns(jb_snap_run *k, ut_error *e)
{
    const cf_snap_table *t = k->cfg;
    int n = sn_scan_ncols(k->scan);
    k->sel = ut_calloc((size_t)n + 1, sizeof *k->sel);
    if (t && t->columns.n) {
        for (int i = 0; i < t->columns.n; i++) k->sel[k->nsel++] = find_col(k->scan, t->columns.v[i]);
    } else {
        for (int i = 0; i < n; i++) {
            int dropped = 0;
            for (int d = 0; t && d < t->drop.n; d++)
                dropped |= !strcmp(t->drop.v[d], sn_scan_columns(k->scan)[i].name);
            if (!dropped) k->sel[k->nsel++] = i;
        }
    }
    if (t && check_names(k, e)) return -1;
    if (!k->nsel) return jb__snap_fail(k, e, UT_EINVAL, "no column left to read (drop takes them all)");
    return 0;
}

/* The key of hash masks, from the secret mask_key. */
static int mask_key(jb_snap_run *k, ut_error *e)
{
    const cf_job *j = k->c->job;
    char err[400], v[JB_MAX_SECRET_BYTES];
    if (!j->mask_key[0] || k->keylen) return 0;
    if (jb__secret(k->c->cf, j->mask_key, v, err, sizeof err))
        return jb__snap_fail(k, e, UT_EINVAL, "mask_key: %s", err);
    k->keylen = strlen(v) < sizeof k->key ? strlen(v) : sizeof k->key - 1;
    memcpy(k->key, v, k->keylen);
    memset(v, 0, sizeof v);
    return 0;
}

/* The lake column for selected field s: name by the lake's rule, type by
 * the mapping (text once masked, unless the mask only nulls). */
/* The lake name of source column nm: its own by the lake's rule, or, when a
 * column of this table has it already (a case twin: "A" and "a"), nm_2,
 * nm_3, ...  0, or -1 when none is free. */
static int free_name(lk_names *names, const char *nm, char *out, size_t *n)
{
    if (lk_names_resolve(names, nm, strlen(nm), out, n) < 0 && *n) return 0;
    char cand[LK_NAME_MAX + 1], base[LK_NAME_MAX + 1];
    lk_colname_base(nm, strlen(nm), base);
    for (int i = 2; i <= LK_NAME_TRIES; i++) {
        snprintf(cand, sizeof cand, "%.*s_%d", LK_NAME_BASE, base, i);
        if (lk_names_resolve(names, cand, strlen(cand), out, n) < 0 && *n) return 0;
    }
    return -1;
}

static int plan_field(jb_snap_run *k, int s, lk_names *names, ct_column *out, jb_snap_col *sc,
                      ut_error *e)
{
    const sn_column *src = &sn_scan_columns(k->scan)[k->sel[s]];
    const char *rn = k->cfg ? cf_strmap_get(&k->cfg->rename, src->name) : NULL;
    const char *mk = k->cfg ? cf_strmap_get(&k->cfg->mask, src->name) : NULL;
    const char *nm = rn ? rn : src->name;
    char name[LK_NAME_MAX + 1];
    size_t nn = 0;
    if (!out->name[0]) { /* else kept from the last run (remembered_names) */
        if (free_name(names, nm, name, &nn))
            return jb__snap_fail(k, e, UT_EINVAL, "column '%s': no free lake column name for it "
                                 "(rename it)", src->name);
        lk_names_take(names, name, nn, s);
        snprintf(out->name, sizeof out->name, "%s", name);
    }
    *sc = (jb_snap_col){.sel = s, .cls = src->cls};
    if (mk) {
        ut_error me = {0};
        if (mask_key(k, e)) return -1;
        sc->mask = mk_create(mk, k->key, k->keylen, &me);
        if (!sc->mask) return jb__snap_fail(k, e, UT_EINVAL, "mask of column %s: %s", src->name, me.msg);
        if (mk_kind_of(sc->mask) != MK_NULL) sc->cls = SN_STRING;
    }
    lake_type(sc->cls, src, out);
    sc->type = out->type;
    return 0;
}

/* The lake columns of the fields read, in their order. */
/* The lake names the last run gave the source columns (kept with its
 * commit), taken first, so a column keeps its lake column whatever else
 * changed (a case twin dropped would otherwise hand its name on).  Not for
 * renamed columns: the rename says where they go. */
static void remembered_names(jb_snap_run *k, lk_names *names)
{
    if (!k->state.source_schema) return;
    sn_column *old = NULL;
    jb_lake_name *lake = NULL;
    int no = jb__snap_schema_lakes(k->state.source_schema, &old, &lake);
    for (int s = 0; s < k->nsel; s++) {
        const sn_column *src = &sn_scan_columns(k->scan)[k->sel[s]];
        if (k->cfg && cf_strmap_get(&k->cfg->rename, src->name)) continue;
        for (int i = 0; i < no; i++) {
            size_t n = strlen(lake[i]);
            if (!n || strcmp(old[i].name, src->name) || lk_names_find(names, lake[i], n) >= 0 ||
                lk_names_take(names, lake[i], n, s))
                continue;
            snprintf(k->cols[s].name, sizeof k->cols[s].name, "%s", lake[i]);
            break;
        }
    }
    free(old);
    free(lake);
}

static int plan_fields(jb_snap_run *k, ut_error *e)
{
    lk_names *names = lk_names_create(1);
    const char *pby = jb__partition_by(k->c->job->window, 0);
    for (const char *p = pby; *p;) { /* dt, hr are the partitions' */
        size_t n = strcspn(p, ",");
        lk_names_take(names, p, n, -1);
        p += n + (p[n] == ',');
    }
    k->cols = ut_calloc((size_t)k->nsel + 1, sizeof *k->cols);
    k->sc = ut_calloc((size_t)k->nsel + 1, sizeof *k->sc);
    remembered_names(k, names);
    int rc = 0;
    for (int s = 0; s < k->nsel && rc == 0; s++, k->ncols++)
        rc = plan_field(k, s, names, &k->cols[s], &k->sc[s], e);
    lk_names_destroy(names);
    return rc;
}

/* Field i of the run for lake column j of an existing table: the planned
 * one of that name (ASCII case ignored, as the catalog matches), or none. */
static int planned_of(const jb_snap_run *k, const char *name)
{
    for (int i = 0; i < k->ncols; i++)
        if (!strcasecmp(k->cols[i].name, name)) return i;
    return -1;
}

/* The table's partitioning must be the job's, and no stream may land it. */
static int check_table(jb_snap_run *k, ut_error *e)
{
    const char *want = jb__partition_by(k->c->job->window, 0);
    if (k->t.stream[0])
        return jb__snap_fail(k, e, UT_EEXISTS, "lake table %s is the one stream %s lands in", k->table,
                    k->t.stream);
    if (strcmp(k->t.partition, want))
        return jb__snap_fail(k, e, UT_EEXISTS, "lake table %s is partitioned by '%s', not as this job's "
                    "window writes", k->table, k->t.partition);
    return 0;
}

/* An existing lake table: extended by the run's columns (new ones added,
 * types widened; a type it cannot widen to makes the column string), then
 * every column it has is written, those the source lacks now as NULL. */
static int merge_table(jb_snap_run *k, ut_error *e)
{
    char err[700];
    int have = ct_table_get(k->c->cat, k->table, &k->t, err, sizeof err);
    if (have < 0) return jb__snap_fail(k, e, UT_EIO, "%s", err);
    if (!have) return 0;
    if (check_table(k, e)) return -1;
    for (int i = 0; i < k->t.ncols; i++) {
        int p = planned_of(k, k->t.cols[i].name);
        if (p >= 0 && !ct_column_widens(&k->t.cols[i], &k->cols[p]))
            k->cols[p].type = CT_STRING, k->cols[p].precision = k->cols[p].scale = 0; /* retyped at the
                                                          source: text holds both */
    }
    ct_table after;
    if (ct_schema_extend(k->c->cat, k->table, k->cols, k->ncols, &after, err, sizeof err) < 0)
        return jb__snap_fail(k, e, UT_EIO, "%s", err);
    ct_column *cols = ut_calloc((size_t)after.ncols + 1, sizeof *cols);
    jb_snap_col *sc = ut_calloc((size_t)after.ncols + 1, sizeof *sc);
    for (int i = 0; i < after.ncols; i++) {
        int p = planned_of(k, after.cols[i].name);
        cols[i] = after.cols[i];
        sc[i] = p >= 0 ? k->sc[p] : (jb_snap_col){.sel = -1};
        sc[i].type = after.cols[i].type;
    }
    free(k->cols);
    free(k->sc); /* its masks moved to sc */
    k->cols = cols, k->sc = sc, k->ncols = after.ncols;
    ct_table_free(&k->t);
    k->t = after;
    return 0;
}

/* The files replace the window's partitions, with the run, in one
 * transaction (creating the table with its columns when it is new). */
static int land(jb_snap_run *k, ut_error *e)
{
    jb_task_ctx *c = k->c;
    const cf_job *j = c->job;
    jb_window_parts wp;
    jb__window_parts(c, c->run->window_start, "", &wp);
    char part[200], loc[1200], err[1200], change[200];
    if (j->window == CF_WINDOW_MONTH) snprintf(part, sizeof part, "dt=%s", wp.ds);
    else snprintf(part, sizeof part, "%s", wp.prefix);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long stamp = (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    int nf = 0;
    for (int r = 0; r < k->nreaders; r++) nf += k->readers[r].nfiles;
    lk_land_file *lf = ut_calloc((size_t)nf + 1, sizeof *lf);
    char (*names)[LK_WRITER_NAME_MAX] = ut_calloc((size_t)nf + 1, sizeof *names);
    for (int r = 0, i = 0; r < k->nreaders; r++)
        for (int f = 0; f < k->readers[r].nfiles; f++, i++) {
            jb_snap_file *x = &k->readers[r].files[f];
            lk_writer_file_name(names[i], stamp, i);
            lf[i] = (lk_land_file){.w = x->w, .tmp = x->tmp, .partition = part, .name = names[i],
                                   .min_offset = -1, .max_offset = -1,
                                   .schema_version = k->t.id ? k->t.version : 1};
        }
    st_uri(c->store, k->table, loc, sizeof loc);
    snprintf(change, sizeof change, "created by snapshot job %s from %s", j->name, c->run->part);
    ct_new_table nt = {.name = k->table, .location = loc, .partition = jb__partition_by(j->window, 0),
                       .cols = k->cols, .ncols = k->ncols, .change = change, .exists_ok = 1};
    const char *replace[1] = {wp.prefix};
    ct_table_change tc = {.table_id = k->t.id, .create = k->t.id ? NULL : &nt,
                          .replace = k->incremental ? NULL : replace,
                          .nreplace = k->incremental ? 0 : 1}; /* incremental: appended */
    ct_run_io io = {.table = k->table, .partition = wp.prefix, .write = 1};
    c->done->rows = k->rows;
    c->done->io = &io, c->done->nio = 1;
    c->done->cursor = k->bounded ? k->cursor_new : NULL; /* with the files, in their commit, */
    c->done->cursor_from = k->state.has_cursor ? k->state.cursor : ""; /* if still the one read
                                                                         from (another run) */
    lk_landing l = {.cat = c->cat, .store = c->store, .tables = {k->table},
                    .change = {.tables = &tc, .ntables = 1, .run = c->done}};
    int rc = lk_land(&l, lf, nf, err, sizeof err);
    c->done->io = NULL, c->done->nio = 0, c->done->cursor = NULL, c->done->cursor_from = NULL;
    for (int r = 0; r < k->nreaders; r++) /* consumed or unlinked */
        for (int f = 0; f < k->readers[r].nfiles; f++) k->readers[r].files[f].tmp[0] = 0;
    free(lf);
    free(names);
    if (rc) return jb__snap_fail(k, e, l.change.err_kind ? l.change.err_kind : UT_EIO, "%s", err);
    c->done->bytes = (int64_t)l.bytes;
    return 1;
}

/* What the run did, for the log: rows, files, readers, values stored NULL. */
static void log_done(const jb_snap_run *k)
{
    char nulled[600] = "";
    size_t o = 0;
    int nf = 0;
    for (int r = 0; r < k->nreaders; r++) nf += k->readers[r].nfiles;
    for (int i = 0; i < k->ncols && o < sizeof nulled - 100; i++) {
        int64_t n = 0;
        for (int r = 0; r < k->nreaders; r++) n += k->readers[r].nulled[i];
        if (n)
            o += (size_t)snprintf(nulled + o, sizeof nulled - o, "%s%s %" PRId64, o ? ", " : "",
                                  k->cols[i].name, n);
    }
    lg_info("jobs", "job %s run %lld table %s -> %s: %" PRId64 " rows, %d files, %d readers%s%s%s",
            k->c->job->name, (long long)k->c->run->id, k->c->run->part, k->table, k->rows, nf,
            k->nreaders, o ? " (values with no lake form stored NULL: " : "", nulled, o ? ")" : "");
}

static void cleanup(jb_snap_run *k)
{
    jb__snap_readers_free(k);
    sn_scan_end(k->scan);
    sn_close(k->src);
    for (int i = 0; i < k->ncols; i++) mk_destroy(k->sc[i].mask);
    free(k->sc);
    free(k->cols);
    free(k->sel);
    ct_table_free(&k->t);
    ct_part_state_free(&k->state);
    ut_buf_free(&k->schema);
    for (int i = 0; i < k->changes.n; i++) free(k->alerts[i]);
    memset(k->key, 0, sizeof k->key);
    free(k);
}

/* The rows the run reads: `where` (templated: the run's window, params,
 * secrets), and for an incremental table those above the cursor committed
 * last. */
static int scan_where(jb_snap_run *k, ut_buf *w, ut_error *e)
{
    jb_task_ctx *c = k->c;
    char err[600];
    ut_buf where = {0};
    jb_vars v = {.cf = c->cf, .job = c->job, .timing = c->timing, .run_id = c->run->id,
                 .ws = c->run->window_start, .we = c->run->window_end,
                 .iterations = c->run->iterations};
    if (jb__expand(k->cfg ? k->cfg->where : "", &v, &where, c->redact, err, sizeof err)) {
        ut_buf_free(&where);
        return jb__snap_fail(k, e, UT_EINVAL, "where: %s", err);
    }
    int rc = 0;
    if (ct_part_state_get(c->cat, c->job->name, c->run->part, &k->state, err, sizeof err) < 0)
        rc = jb__snap_fail(k, e, UT_EIO, "%s", err);
    else if (k->incremental && k->state.has_cursor)
        sn_where_after(w, ut_buf_cstr(&where), k->cfg->cursor, k->state.cursor);
    else
        ut_buf_puts(w, ut_buf_cstr(&where));
    ut_buf_free(&where);
    return rc;
}

/* Connect and begin the scan of the run's table. */
static int open_scan(jb_snap_run *k, ut_error *e)
{
    const cf_job *j = k->c->job;
    char err[1200];
    ut_buf w = {0};
    if (scan_where(k, &w, e)) return -1;
    k->src = sn_open(k->c->cf, j->source, err, sizeof err);
    if (k->src)
        k->scan = sn_scan_begin(k->src, k->c->run->part, ut_buf_cstr(&w), err, sizeof err);
    ut_buf_free(&w);
    if (!k->src) return jb__snap_fail(k, e, UT_EIO, "%s", err);
    if (!k->scan) return jb__snap_fail(k, e, UT_ENOTFOUND, "%s", err);
    sn_scan_limits(k->scan, &k->c->rt->cancel, k->c->deadline_ms);
    if (!k->incremental) return 0;
    /* the first read takes the rows whose cursor is NULL too (no later one can) */
    int first = !k->state.has_cursor;
    int b = sn_scan_bound(k->scan, k->cfg->cursor, first, k->cursor_new, sizeof k->cursor_new,
                          err, sizeof err);
    if (b < 0) return jb__snap_fail(k, e, UT_EINVAL, "%s", err);
    k->bounded = b;
    k->unbounded_first = first && !b; /* no cursor value at all: read, then see */
    return 0;
}

/* A first incremental read found rows but no cursor value in any: nothing
 * could follow them (the next run would read them again).  0 / -1. */
static int check_unbounded(jb_snap_run *k, ut_error *e)
{
    if (!k->unbounded_first || k->rows == 0) return 0;
    return jb__snap_fail(k, e, UT_EINVAL, "cursor: column %s is NULL in every one of the %lld "
                         "rows read; an incremental read cannot follow it (pick another cursor, "
                         "or drop cursor for full snapshots)", k->cfg->cursor,
                         (long long)k->rows);
}

/* The source's columns against the last run's: the changes go with the
 * commit (the _alerts record in its outbox), the columns are kept by it. */
static void schema_changes(jb_snap_run *k)
{
    jb_task_ctx *c = k->c;
    const char **lake = ut_calloc((size_t)sn_scan_ncols(k->scan) + 1, sizeof *lake);
    for (int i = 0; i < k->ncols; i++) /* where each source column read went */
        if (k->sc[i].sel >= 0) lake[k->sel[k->sc[i].sel]] = k->cols[i].name;
    jb__snap_schema_text(sn_scan_columns(k->scan), sn_scan_ncols(k->scan), lake, &k->schema);
    free((void *)lake);
    c->done->source_schema = ut_buf_cstr(&k->schema);
    if (!k->state.source_schema) return; /* the first run: nothing to compare */
    int n = jb__snap_schema_diff(k->state.source_schema, sn_scan_columns(k->scan),
                                 sn_scan_ncols(k->scan), &k->changes);
    if (n < 0)
        lg_warn("jobs", "job %s table %s: the columns kept by the last run do not parse; "
                "compared with nothing", c->job->name, c->run->part);
    if (n <= 0) return;
    for (int i = 0; i < k->changes.n; i++) {
        ut_buf b = {0};
        jb__snap_alert_record(c, k->table, &k->changes.v[i], &b);
        k->alerts[i] = ut_strdup(ut_buf_cstr(&b));
        ut_buf_free(&b);
    }
    c->done->outbox_stream = JB_ALERTS_STREAM;
    c->done->outbox = (const char *const *)k->alerts;
    c->done->noutbox = k->changes.n;
}

/* After the commit: the change in the lake table's schema history, the
 * log, the webhook (best effort). */
static void announce_changes(jb_snap_run *k)
{
    jb_task_ctx *c = k->c;
    if (!k->changes.n) return;
    ut_buf words = {0}, msg = {0}, url = {0};
    char err[600];
    jb__snap_schema_words(&k->changes, &words);
    ut_buf_printf(&msg, "source %s table %s: %s", c->job->source, c->run->part,
                  ut_buf_cstr(&words));
    lg_warn("jobs", "job %s: %s (lake table %s)", c->job->name, ut_buf_cstr(&msg), k->table);
    if (k->t.id > 0 && ct_schema_note(c->cat, k->t.id, ut_buf_cstr(&msg), NULL, err, sizeof err))
        lg_warn("jobs", "job %s table %s: %s", c->job->name, c->run->part, err);
    jb_vars v = {.cf = c->cf, .job = c->job, .timing = c->timing, .run_id = c->run->id,
                 .ws = c->run->window_start, .we = c->run->window_end};
    if (c->job->alert_webhook[0]) {
        ut_buf_printf(&msg, " (job %s, lake table %s, run %lld)", c->job->name, k->table,
                      (long long)c->run->id);
        if (jb__expand(c->job->alert_webhook, &v, &url, c->redact, err, sizeof err) ||
            jb__alert_post(ut_buf_cstr(&url), ut_buf_cstr(&msg), err, sizeof err)) {
            jb__redact(c->redact, err, sizeof err);
            lg_warn("jobs", "job %s table %s: %s", c->job->name, c->run->part, err);
        }
    }
    ut_buf_free(&words);
    ut_buf_free(&msg);
    ut_buf_free(&url);
}

int jb__kind_snapshot(jb_task_ctx *c, ut_error *e)
{
    jb_snap_run *k = ut_calloc(1, sizeof *k);
    k->c = c;
    k->cfg = cf_snap_table_find(c->job, c->run->part);
    k->incremental = k->cfg && k->cfg->cursor[0];
    int rc = lake_name(k, e) || open_scan(k, e) || select_columns(k, e) || plan_fields(k, e) ||
                     merge_table(k, e) ? -1 : 0;
    if (rc == 0) schema_changes(k);
    if (rc == 0) rc = jb__snap_view(k, e); /* merge view: c->done->view (snap_view.c) */
    if (rc == 0 && (!k->incremental || k->bounded || k->unbounded_first))
        rc = jb__snap_read(k, e) || check_unbounded(k, e) ? -1 : 0; /* else nothing new */
    if (rc == 0) {
        sn_scan_end(k->scan); /* COMMIT: the snapshot is read */
        k->scan = NULL;
        log_done(k);
        rc = land(k, e);
    }
    if (rc == 1) announce_changes(k);
    c->done->source_schema = NULL, c->done->outbox_stream = NULL;
    c->done->outbox = NULL, c->done->noutbox = 0;
    jb__snap_view_free(c);
    cleanup(k);
    return rc;
}
