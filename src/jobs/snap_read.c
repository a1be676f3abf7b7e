/* jobs: a snapshot's rows into Parquet files, by one reader or by ranges.
 *
 *   serial     the run's own scan ──► its files
 *   parallel   (tables.<t>.split_by + parallel: N) min/max of split_by in
 *              the run's scan ──► ranges as tasks that any worker of any
 *              process reads into staged files (snap_range.c)
 *
 *   per row: each value masked, converted (sn_convert), put into the
 *   reader's writer; a new file every SNAP_FILE_BYTES.
 *
 * The ranges cut [min, max] into N equal spans, so together they are
 * exactly the rows one scan reads, from the same snapshot. */
#include "jobs/jb_snap.h"
#include "log/log.h"

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
    /* the range readers one process may run at once share one writer's defaults (memory):
     * row groups, pages and dictionaries shared out, each with a floor */
    size_t nr = (size_t)(k->share > 0 ? k->share : 1);
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

int jb__snap_read_rows(jb_snap_reader *r)
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
        if (rc == 0 && k->tick && (r->rows & 4095) == 0) k->tick(r);
    }
    free(v);
    free(n);
    return r->rc = rc;
}

void jb__snap_reader_init(jb_snap_reader *r, jb_snap_run *k, sn_source *src, sn_scan *scan)
{
    *r = (jb_snap_reader){.k = k, .src = src, .scan = scan};
    r->nulled = ut_calloc((size_t)k->ncols + 1, sizeof *r->nulled);
}

void jb__snap_reader_free(jb_snap_reader *r, int own_scan)
{
    for (int f = 0; f < r->nfiles; f++) {
        pq_writer_destroy(r->files[f].w);
        if (r->files[f].tmp[0]) unlink(r->files[f].tmp);
    }
    if (own_scan) {
        sn_scan_end(r->scan);
        sn_close(r->src);
    }
    free(r->files);
    free(r->nulled);
    ut_buf_free(&r->bytes);
    ut_buf_free(&r->masked);
    memset(r, 0, sizeof *r);
}

/* One reader, or tables.<t>.parallel ranges (snap_range.c).  0 / -1. */
int jb__snap_read(jb_snap_run *k, ut_error *e)
{
    const cf_snap_table *t = k->cfg;
    int n = t && t->split_by[0] ? (int)t->parallel : 1;
    int64_t lo = 0, hi = 0;
    if (n > 1) {
        char err[600];
        int have = sn_scan_int_range(k->scan, t->split_by, &lo, &hi, err, sizeof err);
        if (have < 0) return jb__snap_fail(k, e, UT_EINVAL, "%s", err);
        if (have && (__int128)hi - lo + 1 < n) n = (int)(hi - lo + 1);
        if (!have) n = 1; /* no rows (or one key): nothing to share */
    }
    if (n > 1) return jb__snap_ranges(k, n, lo, hi, e);
    k->readers = ut_calloc(1, sizeof *k->readers);
    k->nreaders = 1;
    jb__snap_reader_init(&k->readers[0], k, k->src, k->scan);
    int rc = jb__snap_read_rows(&k->readers[0]);
    if (rc) *e = k->readers[0].err;
    k->rows = k->readers[0].rows;
    k->nfiles = k->readers[0].nfiles;
    for (int i = 0; i < k->ncols; i++) k->nulled[i] = k->readers[0].nulled[i];
    return rc;
}

void jb__snap_readers_free(jb_snap_run *k)
{
    for (int i = 0; i < k->nreaders; i++) jb__snap_reader_free(&k->readers[i], 0); /* the run's */
    free(k->readers);
    k->readers = NULL;
    k->nreaders = 0;
}
