/* Lake maintenance, run by the sink thread between flushes (so it never races
 * the sink's own commits):
 *
 *   compaction: a partition with >= compact_min_files files smaller than
 *     compact_target_bytes gets them merged into one file (written with the
 *     table's current columns; older files' missing columns become NULL and
 *     narrower types are widened) and landed by lk_land replacing them in the
 *     same transaction; the old files go to the trash.
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

/* ---- value conversion between a file's column and the table's column ------------ */

static void put_text(pq_writer *w, int col, const char *s)
{
    pq_writer_put_bytes(w, col, s, strlen(s));
}

/* Put value i of column c (file type ft) into column col of table type tt. */
static void put_converted(pq_writer *w, int col, ct_type tt, pq_type ft, const pq_col *c, int64_t i)
{
    if (c->nulls && c->nulls[i]) {
        pq_writer_put_null(w, col);
        return;
    }
    char buf[64];
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
        if (tt == CT_INT64 || tt == CT_TIMESTAMP) pq_writer_put_i64(w, col, v);
        else if (tt == CT_INT32 || tt == CT_DATE) pq_writer_put_i32(w, col, (int32_t)v);
        else if (tt == CT_DOUBLE) pq_writer_put_double(w, col, (double)v);
        else if (tt == CT_STRING) {
            if (ft == PQ_TIMESTAMP) ut_ts_format(buf, v);
            else if (ft == PQ_DATE) ut_date_format(buf, (int32_t)v);
            else snprintf(buf, sizeof buf, "%lld", (long long)v);
            put_text(w, col, buf);
        } else pq_writer_put_null(w, col);
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
        if (tt == CT_STRING)
            pq_writer_put_bytes(w, col, c->data + c->off[i], (size_t)(c->off[i + 1] - c->off[i]));
        else pq_writer_put_null(w, col);
        return;
    }
}


/* Append every row of file `path` to w (columns cols[0..n) of the table). */
static int copy_rows(pq_writer *w, const char *path, const ct_column *cols, int n, const char *key,
                     char *err, size_t errlen)
{
    char e2[300];
    pq_reader *r = pq_reader_open(path, e2, sizeof e2);
    if (!r) return ut_err(err, errlen, "compacting %s: %s", key, e2);
    int rc = -1, nfc = pq_reader_num_columns(r);
    int *map = ut_malloc((size_t)n * sizeof *map);
    pq_type *ft = ut_malloc((size_t)(nfc + 1) * sizeof *ft);
    pq_col *cc = ut_calloc((size_t)(nfc + 1), sizeof *cc);
    for (int j = 0; j < nfc; j++) {
        pq_column_info ci;
        pq_reader_column(r, j, &ci);
        ft[j] = ci.type;
    }
    for (int k = 0; k < n; k++) map[k] = pq_reader_find_column(r, cols[k].name);
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        for (int j = 0; j < nfc; j++) pq_col_free(&cc[j]);
        for (int k = 0; k < n; k++) {
            if (map[k] < 0 || cc[map[k]].kind) continue;
            if (pq_reader_read(r, g, map[k], &cc[map[k]], e2, sizeof e2)) {
                ut_err(err, errlen, "compacting %s: %s", key, e2);
                goto done;
            }
        }
        int64_t rows = pq_reader_row_group_rows(r, g);
        for (int64_t i = 0; i < rows; i++) {
            for (int k = 0; k < n; k++) {
                if (map[k] < 0) pq_writer_put_null(w, k);
                else put_converted(w, k, cols[k].type, ft[map[k]], &cc[map[k]], i);
            }
            if (pq_writer_end_row(w)) {
                ut_err(err, errlen, "compacting %s: %s", key, pq_writer_error(w));
                goto done;
            }
        }
    }
    rc = 0;
done:
    for (int j = 0; j < nfc; j++) pq_col_free(&cc[j]);
    free(cc);
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
 * store could be read in place) to w. 0 or -1. */
static int copy_stored(lk_sink *s, pq_writer *w, const ct_file *f, const ct_column *cols,
                       int ncols, char *err, size_t errlen)
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
    int rc = ok ? copy_rows(w, src, cols, ncols, key, err, errlen)
                : ut_err(err, errlen, "compacting %s: cannot write %s", key, src);
    unlink(src);
    return rc;
}

/* Merge files[a..b) (one partition) into one, landed in place of them. */
static int merge(lk_sink *s, ct_file *files, int a, int b, const ct_column *cols, int ncols,
                 char *err, size_t errlen)
{
    int rc = -1;
    char tmp[4400], name[96];
    pq_column_spec *specs = ut_calloc((size_t)ncols + 1, sizeof *specs);
    for (int i = 0; i < ncols; i++) {
        specs[i].name = cols[i].name;
        specs[i].type = lk__pq_type(cols[i].type);
        specs[i].optional = strcmp(cols[i].name, "_ingest_ts") != 0;
    }
    lk_tmp_path(s->o.tmp_dir, s->table.name, tmp, sizeof tmp);
    pq_writer_opts wo;
    pq_writer_opts_init(&wo);
    wo.codec = s->o.codec;
    pq_writer *w = pq_writer_create(tmp, specs, ncols, &wo, err, errlen);
    int64_t *ids = ut_malloc((size_t)(b - a) * sizeof *ids);
    if (!w) goto done;
    pq_writer_set_kv(w, "sluice.stream", s->o.stream_name);
    int64_t min_off = INT64_MAX, max_off = -1;
    for (int i = a; i < b; i++) {
        if (copy_stored(s, w, &files[i], cols, ncols, err, errlen)) goto done;
        ids[i - a] = files[i].id;
        if (files[i].min_offset >= 0 && files[i].min_offset < min_off) min_off = files[i].min_offset;
        if (files[i].max_offset > max_off) max_off = files[i].max_offset;
    }
    snprintf(name, sizeof name, "part-c%020lld-%020lld.parquet", (long long)files[a].id,
             (long long)files[b - 1].id);
    lk_land_file lf = {.w = w, .tmp = tmp, .table = 0, .partition = files[a].partition,
                       .name = name, .min_offset = min_off == INT64_MAX ? -1 : min_off,
                       .max_offset = max_off, .schema_version = s->schema.version};
    ct_table_change t = {.table_id = s->table.id, .remove = ids, .nremove = b - a};
    lk_landing l = {.cat = s->cat, .store = s->o.store, .tables = {s->table.name},
                    .change = {.tables = &t, .ntables = 1}, .removed = {files + a}};
    if (lk_land(&l, &lf, 1, err, errlen)) goto done;
    pthread_mutex_lock(&s->mu);
    s->stats.files_compacted += (uint64_t)(b - a);
    pthread_mutex_unlock(&s->mu);
    rc = 0;
done:
    pq_writer_destroy(w);
    unlink(tmp);
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
