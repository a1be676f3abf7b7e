/* jobs: a snapshot's rows into Parquet files, by one reader or several.
 *
 *   serial     the run's own scan ──► its files
 *   parallel   (tables.<t>.split_by + parallel: N) min/max of split_by in
 *              the run's scan ──► its snapshot exported ──► N-1 more
 *              connections begin in that snapshot ──► each scan narrowed to
 *              one range of split_by (the first also takes NULLs) ──► N
 *              threads, each streaming its range into its own files
 *
 *   per row: each value masked, converted (sn_convert), put into the
 *   reader's writer; a new file every SNAP_FILE_BYTES.
 *
 * The ranges cut [min, max] into N equal spans, so together they are
 * exactly the rows one scan reads, from the same snapshot.  A reader that
 * fails (or a stop) sets k->abort and every other ends at its next row;
 * the run then fails and lands nothing. */
#include "jobs/jb_snap.h"
#include "log/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_file(jb_snap_reader *r, ut_error *e)
{
    jb_snap_run *k = r->k;
    char dir[4200], err[600];
    if (r->nfiles == SNAP_MAX_FILES)
        return jb__snap_fail(k, e, UT_ETOOBIG, "more than %d files of %u MiB in one snapshot",
                             SNAP_MAX_FILES, SNAP_FILE_BYTES >> 20);
    snprintf(dir, sizeof dir, "%s/lake-tmp", jb__data_dir(k->c->rt));
    if (ut_mkdir_p(dir, err, sizeof err)) return jb__snap_fail(k, e, UT_EIO, "%s", err);
    if (r->nfiles == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->files = ut_realloc(r->files, sizeof *r->files * (size_t)r->cap);
    }
    jb_snap_file *f = &r->files[r->nfiles];
    lk_tmp_path(dir, k->table, f->tmp, sizeof f->tmp);
    pq_column_spec *spec = ut_calloc((size_t)k->ncols + 1, sizeof *spec);
    for (int i = 0; i < k->ncols; i++) {
        spec[i] = (pq_column_spec){.name = k->cols[i].name, .optional = 1};
        lk_pq_spec(&k->cols[i], &spec[i]);
    }
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.level = SNAP_ZSTD_LEVEL;
    /* the readers' buffers together stay within one writer's defaults (memory): row
     * groups, pages and dictionaries shared out, each with a floor */
    size_t nr = (size_t)(k->nreaders > 0 ? k->nreaders : 1);
    size_t rg = SNAP_ROW_GROUP_BYTES / nr, pg = o.page_bytes / nr, dict = o.dict_max_bytes / nr;
    o.row_group_bytes = rg < SNAP_MIN_ROW_GROUP_BYTES ? SNAP_MIN_ROW_GROUP_BYTES : rg;
    o.page_bytes = pg < SNAP_MIN_PAGE_BYTES ? SNAP_MIN_PAGE_BYTES : pg;
    o.dict_max_bytes = dict < SNAP_MIN_PAGE_BYTES ? SNAP_MIN_PAGE_BYTES : dict;
    f->w = pq_writer_create(f->tmp, spec, k->ncols, &o, err, sizeof err);
    free(spec);
    if (!f->w) return jb__snap_fail(k, e, UT_EIO, "%s", err);
    r->nfiles++;
    return 0;
}

/* Put the converted value of class c into column col of type t. */
static int put_typed(pq_writer *w, int col, ct_type t, sn_class c, const sn_value *v)
{
    switch (t) {
    case CT_BOOL: return pq_writer_put_bool(w, col, (int)v->i);
    case CT_INT32:
    case CT_DATE: return pq_writer_put_i32(w, col, (int32_t)v->i);
    case CT_INT64:
    case CT_TIME: return pq_writer_put_i64(w, col, v->i);
    case CT_FLOAT: return pq_writer_put_float(w, col, (float)v->d);
    case CT_DOUBLE:
        return pq_writer_put_double(w, col, c == SN_INT32 || c == SN_INT64 ? (double)v->i : v->d);
    case CT_TIMESTAMP:
    case CT_TIMESTAMP_NTZ:
        return pq_writer_put_i64(w, col, c == SN_DATE ? v->i * 86400000000LL : v->i);
    case CT_DECIMAL: return pq_writer_put_decimal(w, col, v->p, v->n); /* the exact text */
    default: return pq_writer_put_bytes(w, col, v->p, v->n);
    }
}

/* One value into its column: masked, converted, put. */
static int put_value(jb_snap_reader *r, pq_writer *w, int col, const char *v, size_t n,
                     ut_error *e)
{
    jb_snap_run *k = r->k;
    const jb_snap_col *sc = &k->sc[col];
    int is_null = v == NULL;
    if (sc->mask && !is_null) {
        ut_error me = {0};
        if (mk_apply(sc->mask, v, n, &r->masked, &is_null, &me))
            return jb__snap_fail(k, e, UT_EINVAL, "column %s: %s", k->cols[col].name, me.msg);
        v = (const char *)r->masked.p, n = r->masked.len;
    }
    if (is_null) return pq_writer_put_null(w, col);
    sn_value val = {.bytes = &r->bytes};
    char err[200];
    int rc = sc->type == CT_STRING ? (val.p = v, val.n = n, 0)
                                   : sn_convert(sc->cls, v, n, &val, err, sizeof err);
    if (rc < 0) return jb__snap_fail(k, e, UT_EINVAL, "column %s: %s", k->cols[col].name, err);
    if (rc == 1) {
        r->nulled[col]++;
        return pq_writer_put_null(w, col);
    }
    if (put_typed(w, col, sc->type, sc->cls, &val))
        return jb__snap_fail(k, e, UT_EINTERNAL, "column %s: %s", k->cols[col].name,
                             pq_writer_error(w));
    return 0;
}

/* One row of the reader's scan into its current file.  0 / -1. */
static int put_row(jb_snap_reader *r, const char **v, const size_t *n, ut_error *e)
{
    jb_snap_run *k = r->k;
    pq_writer *w = r->files[r->nfiles - 1].w;
    for (int i = 0; i < k->ncols; i++) {
        int s = k->sc[i].sel;
        if (s < 0 ? pq_writer_put_null(w, i) : put_value(r, w, i, v[s], n[s], e)) return -1;
    }
    if (pq_writer_end_row(w)) return jb__snap_fail(k, e, UT_EINTERNAL, "%s", pq_writer_error(w));
    r->rows++;
    return pq_writer_bytes(w) >= (int64_t)SNAP_FILE_BYTES ? open_file(r, e) : 0;
}

/* Stream the reader's scan into its files.  0 / -1 (r->err). */
static int read_rows(jb_snap_reader *r)
{
    jb_snap_run *k = r->k;
    char err[1200];
    const char **v = ut_calloc((size_t)k->nsel, sizeof *v);
    size_t *n = ut_calloc((size_t)k->nsel, sizeof *n);
    int rc = open_file(r, &r->err);
    if (rc == 0 && sn_scan_start(r->scan, k->sel, k->nsel, err, sizeof err))
        rc = jb__snap_fail(k, &r->err, UT_EINVAL, "%s", err);
    while (rc == 0) {
        if (atomic_load(&k->c->rt->cancel)) atomic_store(&k->abort, 1);
        int got = sn_scan_next(r->scan, v, n, &k->abort, k->c->deadline_ms, err, sizeof err);
        if (got < 0) rc = jb__snap_fail(k, &r->err, UT_EIO, "%s", err);
        if (got <= 0) break;
        rc = put_row(r, v, n, &r->err);
    }
    int calm = 0;
    if (rc && atomic_compare_exchange_strong(&k->abort, &calm, 1))
        k->failed = (int)(r - k->readers); /* the first to fail, not one it stopped */
    free(v);
    free(n);
    return r->rc = rc;
}

static void *reader_main(void *arg)
{
    (void)read_rows(arg);
    return NULL;
}

static jb_snap_reader *add_reader(jb_snap_run *k, sn_source *src, sn_scan *scan)
{
    jb_snap_reader *r = &k->readers[k->nreaders++];
    *r = (jb_snap_reader){.k = k, .src = src, .scan = scan};
    r->nulled = ut_calloc((size_t)k->ncols + 1, sizeof *r->nulled);
    return r;
}

/* The readers of a parallel read: n - 1 more connections in the run
 * scan's snapshot, each with one range.  0 / -1. */
static int plan_parallel(jb_snap_run *k, int n, int64_t lo, int64_t hi, ut_error *e)
{
    char id[128], err[1200];
    const char *col = k->cfg->split_by;
    if (sn_scan_export(k->scan, id, sizeof id, err, sizeof err))
        return jb__snap_fail(k, e, UT_EINVAL, "%s", err);
    __int128 span = (__int128)hi - lo + 1;
    char *base = ut_strdup(sn_scan_where(k->scan)); /* before reader 0's range narrows it */
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int64_t a = (int64_t)(lo + span * i / n), b = (int64_t)(lo + span * (i + 1) / n);
        int ends = (i == 0 ? SN_FROM_START : 0) | (i == n - 1 ? SN_TO_END : 0);
        sn_source *src = i ? sn_open(k->c->cf, k->c->job->source, err, sizeof err) : k->src;
        sn_scan *sc = !i ? k->scan : src ? sn_scan_begin_shared(src, k->c->run->part, base, id,
                                                                 err, sizeof err)
                                         : NULL;
        if (!sc) {
            sn_close(src == k->src ? NULL : src);
            rc = jb__snap_fail(k, e, UT_EIO, "parallel reader %d: %s", i + 1, err);
            break;
        }
        sn_scan_narrow(sc, col, a, b, ends);
        add_reader(k, src, sc);
    }
    free(base);
    return rc;
}

/* One reader, or tables.<t>.parallel of them.  0 / -1. */
static int plan_readers(jb_snap_run *k, ut_error *e)
{
    const cf_snap_table *t = k->cfg;
    int n = t && t->split_by[0] ? (int)t->parallel : 1;
    k->readers = ut_calloc((size_t)(n > 1 ? n : 1), sizeof *k->readers);
    if (n <= 1) {
        add_reader(k, k->src, k->scan);
        return 0;
    }
    int64_t lo, hi;
    char err[600];
    int have = sn_scan_int_range(k->scan, t->split_by, &lo, &hi, err, sizeof err);
    if (have < 0) return jb__snap_fail(k, e, UT_EINVAL, "%s", err);
    if (have && (__int128)hi - lo + 1 < n) n = (int)(hi - lo + 1);
    if (!have || n <= 1) { /* no rows (or one key): nothing to share */
        add_reader(k, k->src, k->scan);
        return 0;
    }
    return plan_parallel(k, n, lo, hi, e);
}

int jb__snap_read(jb_snap_run *k, ut_error *e)
{
    k->failed = -1;
    if (plan_readers(k, e)) return -1;
    if (k->nreaders == 1) {
        int rc = read_rows(&k->readers[0]);
        if (rc) *e = k->readers[0].err;
        k->rows = k->readers[0].rows;
        return rc;
    }
    pthread_t th[SNAP_MAX_PARALLEL];
    int started = 0;
    for (int i = 0; i < k->nreaders; i++, started++)
        if (pthread_create(&th[i], NULL, reader_main, &k->readers[i])) {
            atomic_store(&k->abort, 1);
            jb__snap_fail(k, &k->readers[i].err, UT_EIO, "parallel reader %d: no thread", i + 1);
            k->readers[i].rc = -1;
            break;
        }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    int rc = 0;
    k->rows = 0;
    for (int i = 0; i < k->nreaders; i++) {
        k->rows += k->readers[i].rows;
        if (k->readers[i].rc && !rc) *e = k->readers[i].err, rc = -1;
    }
    if (rc && k->failed >= 0) *e = k->readers[k->failed].err;
    return rc;
}

void jb__snap_readers_free(jb_snap_run *k)
{
    for (int i = 0; i < k->nreaders; i++) {
        jb_snap_reader *r = &k->readers[i];
        for (int f = 0; f < r->nfiles; f++) {
            pq_writer_destroy(r->files[f].w);
            if (r->files[f].tmp[0]) unlink(r->files[f].tmp);
        }
        if (i) { /* reader 0's scan and source are the run's */
            sn_scan_end(r->scan);
            sn_close(r->src);
        }
        free(r->files);
        free(r->nulled);
        ut_buf_free(&r->bytes);
        ut_buf_free(&r->masked);
    }
    free(k->readers);
    k->readers = NULL;
    k->nreaders = 0;
}
