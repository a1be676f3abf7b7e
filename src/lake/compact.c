/* Lake maintenance, run by the sink thread between flushes (so it never races
 * the sink's own commits):
 *
 *   compaction: a partition with >= compact_min_files files smaller than
 *     compact_target_bytes gets them merged into one file (written with the
 *     table's current columns; older files' missing columns become NULL and
 *     narrower types are widened, a timestamp to its record's text, tstext.c;
 *     more than one file when the timestamp texts would pass their cap) and
 *     landed by lk_land replacing them in the same transaction; the old files
 *     go to the trash.
 *   retention: partitions whose date is older than retention are dropped
 *     (ct_drop_before), their objects deleted through the trash.
 *   trash: right after the commit, removed files' objects are moved out of
 *     the table's directory to ".trash/<table>/..." (trash.c), so engines
 *     listing the directory never count them twice; those the catalog
 *     removed more than trash_grace_ms ago are deleted and forgotten (also
 *     after a crash between the catalog change and the deletion).  The grace
 *     period lets a scan that listed the files before the removal — in this
 *     process or another one, such as `sluice sql` beside the server — still
 *     read them (at their trash key); a scan running longer holds a pin
 *     (pin.c) and nothing removed after the oldest pin's start is deleted.
 */
#include "lake/sink_int.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MERGE_FILES 256

/* ---- the merged files ------------------------------------------------------------ *
 * Normally one; a new one starts when a timestamp column's texts (tstext.c)
 * would not fit in the current one, and all of them land together. */

typedef struct out_file {
    pq_writer *w;
    char tmp[4400], name[128];
    lk_tstext **tst;       /* per column: the texts of a TIMESTAMP data column */
    int64_t min_off, max_off;
} out_file;

typedef struct merge_out {
    lk_sink *s;
    const ct_column *cols;
    int ncols;
    pq_column_spec *specs;
    out_file *f;
    int n, cap;
} merge_out;

static int out_open(merge_out *m, char *err, size_t errlen)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 2;
        m->f = ut_realloc(m->f, (size_t)m->cap * sizeof *m->f);
    }
    out_file *o = &m->f[m->n];
    memset(o, 0, sizeof *o);
    o->min_off = INT64_MAX;
    o->max_off = -1;
    lk_tmp_path(m->s->o.tmp_dir, m->s->table.name, o->tmp, sizeof o->tmp);
    pq_writer_opts wo;
    pq_writer_opts_init(&wo);
    wo.codec = m->s->o.codec;
    o->w = pq_writer_create(o->tmp, m->specs, m->ncols, &wo, err, errlen);
    if (!o->w) return -1;
    m->n++;
    pq_writer_set_kv(o->w, "sluice.stream", m->s->o.stream_name);
    o->tst = ut_calloc((size_t)m->ncols + 1, sizeof *o->tst);
    for (int k = 0; k < m->ncols; k++)
        if (m->cols[k].type == CT_TIMESTAMP && strcmp(m->cols[k].name, "_ingest_ts"))
            o->tst[k] = lk_tstext_create();
    return 0;
}

/* The file the next row goes to (a new one when a text would not fit). */
static out_file *out_for_row(merge_out *m, char *err, size_t errlen)
{
    out_file *o = &m->f[m->n - 1];
    for (int k = 0; k < m->ncols; k++)
        if (o->tst[k] && !lk_tstext_room(o->tst[k])) return out_open(m, err, errlen) ? NULL : &m->f[m->n - 1];
    return o;
}

static void out_free(merge_out *m)
{
    for (int i = 0; i < m->n; i++) {
        pq_writer_destroy(m->f[i].w);
        unlink(m->f[i].tmp);
        for (int k = 0; k < m->ncols; k++) lk_tstext_destroy(m->f[i].tst[k]);
        free(m->f[i].tst);
    }
    free(m->f);
}

/* ---- value conversion between a file's column and the table's column ------------ */

static void put_text(pq_writer *w, int col, const char *s)
{
    pq_writer_put_bytes(w, col, s, strlen(s));
}

/* Where a source value's text comes from: its file's layouts of the
 * column (NULL: a file without them) and its row in that file. */
typedef struct src_text {
    lk_tstext *tst;
    int64_t row;
} src_text;

/* A timestamp value v into column col of out file o (of table type tt). */
static void put_timestamp(out_file *o, int col, ct_type tt, int64_t v, src_text st)
{
    char buf[UT_TS_TEXT_MAX];
    if (tt == CT_TIMESTAMP) {
        ut_ts_layout lay;
        int legacy = !st.tst || lk_tstext_layout(st.tst, st.row, &lay);
        if (o->tst[col]) lk_tstext_note(o->tst[col], pq_writer_rows(o->w), legacy ? NULL : &lay);
        pq_writer_put_i64(o->w, col, v);
    } else if (tt == CT_STRING) { /* widened: the record's own text */
        lk_tstext_render(st.tst, st.row, v, buf);
        put_text(o->w, col, buf);
    } else {
        pq_writer_put_null(o->w, col);
    }
}

/* An integer value v of file type ft into column col of table type tt
 * (the time types' own values, or widened: text, a decimal, a date's
 * midnight). */
static void put_integer(out_file *o, int col, ct_type tt, pq_type ft, int64_t v, src_text st)
{
    pq_writer *w = o->w;
    char buf[64];
    if (ft == PQ_TIMESTAMP) put_timestamp(o, col, tt, v, st);
    else if (ft == PQ_DATE && tt == CT_TIMESTAMP_NTZ) pq_writer_put_i64(w, col, v * 86400000000LL);
    else if (tt == CT_INT64 || tt == CT_TIMESTAMP || tt == CT_TIME || tt == CT_TIMESTAMP_NTZ)
        pq_writer_put_i64(w, col, v);
    else if (tt == CT_INT32 || tt == CT_DATE) pq_writer_put_i32(w, col, (int32_t)v);
    else if (tt == CT_DOUBLE) pq_writer_put_double(w, col, (double)v);
    else if (tt == CT_DECIMAL || tt == CT_STRING) {
        if (ft == PQ_DATE) ut_date_format(buf, (int32_t)v);
        else if (ft == PQ_TIME) ut_time_format(buf, v);
        else if (ft == PQ_TIMESTAMP_NTZ) ut_ts_format_ntz(buf, v);
        else snprintf(buf, sizeof buf, "%lld", (long long)v);
        if (tt == CT_STRING) put_text(w, col, buf);
        else if (pq_writer_put_decimal(w, col, buf, strlen(buf))) pq_writer_put_null(w, col);
    } else pq_writer_put_null(w, col);
}

/* Exact decimal value i of c (pq_reader_read_decimal, at `scale`) into
 * column col of table type tt: a wider decimal takes its text as is (padded
 * to its scale), a string column the text. */
static void put_decimal(pq_writer *w, int col, ct_type tt, const pq_col *c, int64_t i, int scale)
{
    const pq_dec128 *d = (const pq_dec128 *)c->values + i;
    char buf[96];
    int n = pq_decimal_format(d->hi, d->lo, scale, buf, sizeof buf);
    if (n < 0) pq_writer_put_null(w, col);
    else if (tt == CT_STRING) pq_writer_put_bytes(w, col, buf, (size_t)n);
    else if (tt != CT_DECIMAL || pq_writer_put_decimal(w, col, buf, (size_t)n))
        pq_writer_put_null(w, col);
}

/* Put value i of column c (file type ft, a decimal's scale fscale) into
 * column col of table type tt. */
static void put_converted(out_file *o, int col, ct_type tt, pq_type ft, int fscale,
                          const pq_col *c, int64_t i, src_text st)
{
    pq_writer *w = o->w;
    if (c->nulls && c->nulls[i]) {
        pq_writer_put_null(w, col);
        return;
    }
    char buf[64];
    if (!c->kind) { /* a decimal read exactly */
        put_decimal(w, col, tt, c, i, fscale);
        return;
    }
    switch (c->kind) {
    case PQ_K_BOOL: {
        int v = ((const uint8_t *)c->values)[i];
        if (tt == CT_BOOL) pq_writer_put_bool(w, col, v);
        else if (tt == CT_STRING) put_text(w, col, v ? "true" : "false");
        else pq_writer_put_null(w, col);
        return;
    }
    case PQ_K_I32:
    case PQ_K_I64: {
        int64_t v = c->kind == PQ_K_I32 ? ((const int32_t *)c->values)[i]
                                        : ((const int64_t *)c->values)[i];
        put_integer(o, col, tt, ft, v, st);
        return;
    }
    case PQ_K_F32:
    case PQ_K_F64: {
        double v = c->kind == PQ_K_F32 ? ((const float *)c->values)[i] : ((const double *)c->values)[i];
        if (tt == CT_DOUBLE) pq_writer_put_double(w, col, v);
        else if (tt == CT_FLOAT) pq_writer_put_float(w, col, (float)v);
        else if (tt == CT_STRING) {
            ut_fmt_double(buf, v);
            put_text(w, col, buf);
        } else pq_writer_put_null(w, col);
        return;
    }
    case PQ_K_BYTES:
        if (tt == CT_STRING || tt == CT_BYTES)
            pq_writer_put_bytes(w, col, c->data + c->off[i], (size_t)(c->off[i + 1] - c->off[i]));
        else pq_writer_put_null(w, col);
        return;
    }
}

/* The texts' layouts of r's timestamp columns (per file column; NULL: none). */
static lk_tstext **src_texts(pq_reader *r, const pq_type *ft, int nfc, const char *key)
{
    lk_tstext **t = ut_calloc((size_t)nfc + 1, sizeof *t);
    for (int j = 0; j < nfc; j++) {
        if (ft[j] != PQ_TIMESTAMP) continue;
        pq_column_info ci;
        char e2[300];
        pq_reader_column(r, j, &ci);
        if (lk_tstext_of(r, ci.name, &t[j], e2, sizeof e2) < 0)
            lg_warn("sink", "compacting %s: %s (the column's texts are its UTC form)", key, e2);
    }
    return t;
}

/* Append the rows of row group g (columns cc) of the file at `key` to m. */
static int copy_group(merge_out *m, const ct_file *f, const int *map, const pq_type *ft,
                      const int *fsc, const pq_col *cc, lk_tstext **st, int64_t base,
                      int64_t rows, const char *key, char *err, size_t errlen)
{
    for (int64_t i = 0; i < rows; i++) {
        out_file *o = out_for_row(m, err, errlen);
        if (!o) return -1;
        for (int k = 0; k < m->ncols; k++) {
            if (map[k] < 0) {
                pq_writer_put_null(o->w, k);
                continue;
            }
            src_text sx = {st[map[k]], base + i};
            put_converted(o, k, m->cols[k].type, ft[map[k]], fsc[map[k]], &cc[map[k]], i, sx);
        }
        if (pq_writer_end_row(o->w))
            return ut_err(err, errlen, "compacting %s: %s", key, pq_writer_error(o->w));
        if (f->min_offset >= 0 && f->min_offset < o->min_off) o->min_off = f->min_offset;
        if (f->max_offset > o->max_off) o->max_off = f->max_offset;
    }
    return 0;
}

/* Append every row of file `path` (f) to m. */
static int copy_rows(merge_out *m, const char *path, const ct_file *f, const char *key,
                     char *err, size_t errlen)
{
    char e2[300];
    pq_reader *r = pq_reader_open(path, e2, sizeof e2);
    if (!r) return ut_err(err, errlen, "compacting %s: %s", key, e2);
    int rc = -1, nfc = pq_reader_num_columns(r), n = m->ncols;
    int *map = ut_malloc((size_t)n * sizeof *map);
    pq_type *ft = ut_malloc((size_t)(nfc + 1) * sizeof *ft);
    int *fsc = ut_calloc((size_t)(nfc + 1), sizeof *fsc);
    uint8_t *got = ut_calloc((size_t)(nfc + 1), 1);
    pq_col *cc = ut_calloc((size_t)(nfc + 1), sizeof *cc);
    for (int j = 0; j < nfc; j++) {
        pq_column_info ci;
        pq_reader_column(r, j, &ci);
        ft[j] = ci.type;
        fsc[j] = ci.scale;
    }
    lk_tstext **st = src_texts(r, ft, nfc, key);
    for (int k = 0; k < n; k++) map[k] = pq_reader_find_column(r, m->cols[k].name);
    int64_t base = 0;
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        for (int j = 0; j < nfc; j++) pq_col_free(&cc[j]);
        memset(got, 0, (size_t)nfc);
        for (int k = 0; k < n; k++) {
            if (map[k] < 0 || got[map[k]]) continue;
            got[map[k]] = 1;
            ct_type tt = m->cols[k].type; /* a decimal kept as one or as text: exactly */
            int exact = ft[map[k]] == PQ_DECIMAL && (tt == CT_DECIMAL || tt == CT_STRING);
            if ((exact ? pq_reader_read_decimal : pq_reader_read)(r, g, map[k], &cc[map[k]], e2,
                                                                  sizeof e2)) {
                ut_err(err, errlen, "compacting %s: %s", key, e2);
                goto done;
            }
        }
        int64_t rows = pq_reader_row_group_rows(r, g);
        if (copy_group(m, f, map, ft, fsc, cc, st, base, rows, key, err, errlen)) goto done;
        base += rows;
    }
    rc = 0;
done:
    for (int j = 0; j < nfc; j++) {
        pq_col_free(&cc[j]);
        lk_tstext_destroy(st[j]);
    }
    free(st);
    free(cc);
    free(got);
    free(fsc);
    free(ft);
    free(map);
    pq_reader_destroy(r);
    return rc;
}

/* Files removed before this may be deleted: trash_grace ago, or earlier
 * when a running scan's pin started earlier (pin.c).  0 or -1. */
static int trash_cutoff(lk_sink *s, int64_t *cutoff, char *err, size_t errlen)
{
    int64_t grace = s->o.trash_grace_ms > 0 ? s->o.trash_grace_ms : 0, oldest = 0;
    *cutoff = lk__now_ms() - grace;
    int p = lk_pins_oldest(s->o.store, &oldest, err, errlen);
    if (p < 0) return -1;
    if (p && oldest - LK_PIN_SLACK_MS < *cutoff) {
        *cutoff = oldest - LK_PIN_SLACK_MS;
        lg_debug("sink", "table %s: a scan pinned at %lld holds back the trash", s->o.table,
                 (long long)oldest);
    }
    return 0;
}

/* Delete the objects of files the catalog has removed (at their trash key,
 * and at their old key in case the move to the trash never happened), then
 * forget them. */
int lk__empty_trash(lk_sink *s, char *err, size_t errlen)
{
    ct_file *t = NULL;
    int64_t cutoff;
    if (trash_cutoff(s, &cutoff, err, errlen)) return -1;
    int n = ct_trash_due(s->cat, cutoff, &t, err, errlen);
    if (n < 0) return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *tname = t[i].table_id == s->table.id ? s->table.name
                          : t[i].table_id == s->etable.id ? s->etable.name : NULL;
        if (!tname) continue; /* another sink's table */
        char key[1400], tkey[1500];
        snprintf(key, sizeof key, "%s/%s", tname, t[i].path);
        if (lk_trash_key(key, tkey, sizeof tkey)) {
            rc = ut_err(err, errlen, "table %s: file %.80s…: key too long", tname, t[i].path);
            break;
        }
        if (st_delete(s->o.store, tkey, err, errlen) ||
            st_delete(s->o.store, key, err, errlen) || ct_forget(s->cat, t[i].id, err, errlen))
            rc = -1;
    }
    ct_files_free(t, n);
    return rc;
}

/* Copy the rows of stored file f (fetched to a local file first; a local
 * store could be read in place) to m. 0 or -1. */
static int copy_stored(lk_sink *s, merge_out *m, const ct_file *f, char *err, size_t errlen)
{
    char src[4400], key[1400];
    snprintf(key, sizeof key, "%s/%s", s->table.name, f->path);
    ut_buf obj = {0};
    if (st_get(s->o.store, key, 0, 0, &obj, err, errlen)) {
        ut_buf_free(&obj);
        return -1;
    }
    lk_tmp_path(s->o.tmp_dir, "compact-src", src, sizeof src);
    FILE *fp = fopen(src, "wb");
    int ok = fp && fwrite(obj.p, 1, obj.len, fp) == obj.len;
    if (fp && fclose(fp)) ok = 0;
    ut_buf_free(&obj);
    int rc = ok ? copy_rows(m, src, f, key, err, errlen)
                : ut_err(err, errlen, "compacting %s: cannot write %s", key, src);
    unlink(src);
    return rc;
}

/* Land m's files in place of files[a..b). */
static int land_merged(lk_sink *s, merge_out *m, ct_file *files, int a, int b, int64_t *ids,
                       char *err, size_t errlen)
{
    lk_land_file *lf = ut_calloc((size_t)m->n, sizeof *lf);
    for (int i = 0; i < m->n; i++) {
        out_file *o = &m->f[i];
        for (int k = 0; k < m->ncols; k++)
            if (o->tst[k]) lk_tstext_set(o->w, m->cols[k].name, o->tst[k]);
        if (i) snprintf(o->name, sizeof o->name, "part-c%020lld-%020lld-%d.parquet",
                        (long long)files[a].id, (long long)files[b - 1].id, i);
        else snprintf(o->name, sizeof o->name, "part-c%020lld-%020lld.parquet",
                      (long long)files[a].id, (long long)files[b - 1].id);
        lf[i] = (lk_land_file){.w = o->w, .tmp = o->tmp, .table = 0,
                               .partition = files[a].partition, .name = o->name,
                               .min_offset = o->min_off == INT64_MAX ? -1 : o->min_off,
                               .max_offset = o->max_off, .schema_version = s->schema.version};
    }
    ct_table_change t = {.table_id = s->table.id, .remove = ids, .nremove = b - a};
    lk_landing l = {.cat = s->cat, .store = s->o.store, .tables = {s->table.name},
                    .change = {.tables = &t, .ntables = 1}, .removed = {files + a}};
    int rc = lk_land(&l, lf, m->n, err, errlen);
    free(lf);
    return rc;
}

/* Merge files[a..b) (one partition) into one file (more when timestamp texts
 * would not fit in one), landed in place of them. */
static int merge(lk_sink *s, ct_file *files, int a, int b, const ct_column *cols, int ncols,
                 char *err, size_t errlen)
{
    int rc = -1;
    pq_column_spec *specs = ut_calloc((size_t)ncols + 1, sizeof *specs);
    for (int i = 0; i < ncols; i++) {
        specs[i].name = cols[i].name;
        lk_pq_spec(&cols[i], &specs[i]);
        specs[i].optional = strcmp(cols[i].name, "_ingest_ts") != 0;
    }
    merge_out m = {.s = s, .cols = cols, .ncols = ncols, .specs = specs};
    int64_t *ids = ut_malloc((size_t)(b - a) * sizeof *ids);
    if (out_open(&m, err, errlen)) goto done;
    for (int i = a; i < b; i++) {
        if (copy_stored(s, &m, &files[i], err, errlen)) goto done;
        ids[i - a] = files[i].id;
    }
    if (land_merged(s, &m, files, a, b, ids, err, errlen)) goto done;
    pthread_mutex_lock(&s->mu);
    s->stats.files_compacted += (uint64_t)(b - a);
    pthread_mutex_unlock(&s->mu);
    rc = 0;
done:
    out_free(&m);
    free(ids);
    free(specs);
    return rc;
}

static int compact(lk_sink *s, char *err, size_t errlen)
{
    ct_file *files = NULL;
    int n = ct_files(s->cat, s->table.id, NULL, &files, err, errlen);
    if (n < 0) return -1;
    ct_table t;
    memset(&t, 0, sizeof t);
    int rc = 0;
    if (ct_table_get(s->cat, s->table.name, &t, err, errlen) != 1) {
        ct_files_free(files, n);
        return -1;
    }
    /* the table's columns plus _ingest_ts, as the sink writes them */
    ct_column *cols = ut_calloc((size_t)t.ncols + 1, sizeof *cols);
    int ncols = 0;
    for (int i = 0; i < t.ncols; i++)
        if (strcmp(t.cols[i].name, "_ingest_ts")) cols[ncols++] = t.cols[i];
    snprintf(cols[ncols].name, sizeof cols[ncols].name, "_ingest_ts");
    cols[ncols++].type = CT_TIMESTAMP;
    /* files come ordered by partition: take runs of small files per partition */
    for (int i = 0; i < n && rc == 0;) {
        int j = i, small = 0;
        while (j < n && !strcmp(files[j].partition, files[i].partition)) {
            if ((uint64_t)files[j].bytes < s->o.compact_target_bytes) small++;
            j++;
        }
        if (small >= s->o.compact_min_files) {
            /* gather the small ones of [i, j) to the front of the run */
            int k = i;
            uint64_t total = 0;
            for (int m = i; m < j; m++)
                if ((uint64_t)files[m].bytes < s->o.compact_target_bytes) {
                    ct_file tmpf = files[k];
                    files[k] = files[m];
                    files[m] = tmpf;
                    k++;
                }
            /* merge in groups up to the target size */
            int a = i;
            while (a < k && rc == 0) {
                int b = a;
                total = 0;
                while (b < k && b - a < MAX_MERGE_FILES &&
                       (b == a || total + (uint64_t)files[b].bytes <= s->o.compact_target_bytes)) {
                    total += (uint64_t)files[b].bytes;
                    b++;
                }
                if (b - a >= 2) rc = merge(s, files, a, b, cols, ncols, err, errlen);
                a = b;
            }
        }
        i = j;
    }
    free(cols);
    ct_table_free(&t);
    ct_files_free(files, n);
    return rc;
}

static int retain(lk_sink *s, char *err, size_t errlen)
{
    if (s->o.retention_ms <= 0 || s->o.partition == LK_PART_NONE) return 0;
    char before[24];
    int64_t cutoff_us = (lk__now_ms() - s->o.retention_ms) * 1000;
    lk__part_date(lk__part_key(cutoff_us, s->o.partition), s->o.partition, before, sizeof before);
    const ct_table *ts[2] = {&s->table, &s->etable};
    for (int i = 0; i < 2; i++) {
        ct_file *removed = NULL;
        int n = ct_drop_before(s->cat, ts[i]->id, before, &removed, err, errlen);
        if (n < 0) return -1;
        if (n) lg_info("sink", "table %s: retention dropped %d files before dt=%s", ts[i]->name,
                       n, before);
        lk_trash_files(s->o.store, ts[i]->name, removed, n); /* committed: out of the way */
        ct_files_free(removed, n);
    }
    return 0;
}

int lk__maintain(lk_sink *s, char *err, size_t errlen)
{
    if (retain(s, err, errlen)) return -1;
    if (s->o.compact_min_files >= 2 && compact(s, err, errlen)) return -1;
    return lk__empty_trash(s, err, errlen);
}

int lk_sink_maintain(lk_sink *s, char *err, size_t errlen)
{
    return lk__maintain(s, err, errlen);
}
