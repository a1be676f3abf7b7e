/* Lake sink flush: buffers → Parquet files → store → one catalog commit.
 *
 *   tmp_dir/<table>.<position>.<i>.parquet     written, fsynced (pq_writer_close)
 *   store: <table>/dt=YYYY-MM-DD/hr=HH/part-<position:020>-<i:04>.parquet
 *   catalog: files + stream position, one transaction
 *
 * <position> is the committed position the flush starts from, so names never
 * repeat across flushes; a flush that fails before its commit leaves only
 * garbage that the retry overwrites or the next start collects.
 */
#include "lake/sink_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pq_type lk__pq_type(ct_type t)
{
    switch (t) {
    case CT_BOOL: return PQ_BOOL;
    case CT_INT64: return PQ_INT64;
    case CT_DOUBLE: return PQ_DOUBLE;
    case CT_TIMESTAMP: return PQ_TIMESTAMP;
    case CT_DATE: return PQ_DATE;
    case CT_INT32: return PQ_INT32;
    case CT_FLOAT: return PQ_FLOAT;
    default: return PQ_STRING;
    }
}

/* Put JSON value v into column col of type t (the schema has widened t to
 * hold every observed value, so a mismatch cannot happen; it becomes null). */
void lk__put_value(pq_writer *w, int col, ct_type t, const js_value *v)
{
    int rc = -1;
    switch (v->kind == JS_NULL ? -1 : (int)t) {
    case CT_BOOL:
        if (v->kind == JS_BOOL) rc = pq_writer_put_bool(w, col, v->b);
        break;
    case CT_INT64:
        if (v->kind == JS_INT) rc = pq_writer_put_i64(w, col, v->i);
        break;
    case CT_DOUBLE:
        if (v->kind == JS_INT) rc = pq_writer_put_double(w, col, (double)v->i);
        else if (v->kind == JS_DOUBLE) rc = pq_writer_put_double(w, col, v->d);
        break;
    case CT_TIMESTAMP: {
        int64_t us;
        if (v->kind == JS_STRING && ut_ts_parse(v->s, v->n, &us) == 0)
            rc = pq_writer_put_i64(w, col, us);
        break;
    }
    case CT_STRING:
        rc = pq_writer_put_bytes(w, col, v->s, v->n); /* strings unescaped, others as JSON text */
        break;
    default:
        break;
    }
    if (rc) (void)pq_writer_put_null(w, col); /* fails harmlessly for a duplicate key */
}

static pq_writer *open_writer(lk_sink *s, const char *tmp, const pq_column_spec *specs, int n,
                              char *err, size_t errlen)
{
    pq_writer_opts wo;
    pq_writer_opts_init(&wo);
    wo.codec = s->o.codec;
    pq_writer *w = pq_writer_create(tmp, specs, n, &wo, err, errlen);
    if (w) pq_writer_set_kv(w, "sluice.stream", s->o.stream_name);
    return w;
}

int lk__part_open(lk_sink *s, lk__buf *b, char *err, size_t errlen)
{
    int n = s->schema.n, m = 0;
    pq_column_spec *specs = ut_calloc((size_t)n + 2, sizeof *specs);
    b->wcol = ut_malloc(((size_t)n + 1) * sizeof *b->wcol);
    b->wn = n;
    for (int i = 0; i < n; i++) {
        const lk__col *c = &s->schema.cols[i];
        if (!c->type || c->legacy) { /* only nulls so far / a clashing old name: not in the file */
            b->wcol[i] = -1;
            continue;
        }
        b->wcol[i] = m;
        specs[m].name = c->name;
        specs[m].type = lk__pq_type(c->type);
        specs[m].optional = 1;
        m++;
    }
    b->wcol[n] = m;
    specs[m++] = (pq_column_spec){"_ingest_ts", PQ_TIMESTAMP, 0};
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s/%s.%020llu.%lld.parquet", s->o.tmp_dir, s->o.table,
             (unsigned long long)s->position, (long long)b->key);
    b->tmp = ut_strdup(tmp);
    b->w = open_writer(s, tmp, specs, m, err, errlen);
    free(specs);
    return b->w ? 0 : -1;
}

static int write_errors(lk_sink *s, const lk__buf *b, const char *tmp, char *err, size_t errlen)
{
    pq_column_spec specs[] = {{"_ingest_ts", PQ_TIMESTAMP, 0},
                              {"_offset", PQ_INT64, 0},
                              {"reason", PQ_STRING, 0},
                              {"record", PQ_STRING, 0}};
    pq_writer *w = open_writer(s, tmp, specs, 4, err, errlen);
    if (!w) return -1;
    const uint8_t *p = b->data.p;
    for (size_t i = 0; i < b->n; i++) {
        const char *why = (const char *)b->reasons.p + b->why[i];
        pq_writer_put_i64(w, 0, b->ts[i]);
        pq_writer_put_i64(w, 1, (int64_t)b->off[i]);
        pq_writer_put_bytes(w, 2, why, strlen(why));
        pq_writer_put_bytes(w, 3, p, b->len[i]);
        if (pq_writer_end_row(w)) {
            ut_err(err, errlen, "%s", pq_writer_error(w));
            pq_writer_destroy(w);
            return -1;
        }
        p += b->len[i];
    }
    int rc = pq_writer_close(w, err, errlen);
    pq_writer_destroy(w);
    return rc;
}

/* ---- per-column statistics for the catalog ------------------------------------------ */

static int cmp_val(const pq_value *a, const pq_value *b)
{
    switch (a->kind) {
    case PQ_K_F32:
    case PQ_K_F64: return (a->u.d > b->u.d) - (a->u.d < b->u.d);
    case PQ_K_BYTES: {
        size_t m = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        int r = m ? memcmp(a->u.s.p, b->u.s.p, m) : 0;
        return r ? r : (a->u.s.n > b->u.s.n) - (a->u.s.n < b->u.s.n);
    }
    default: return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    }
}

static void val_text(const pq_value *v, pq_type t, char *out, size_t n, int is_max)
{
    char tmp[48];
    switch (t) {
    case PQ_BOOL: snprintf(out, n, "%s", v->u.i ? "true" : "false"); break;
    case PQ_TIMESTAMP: ut_ts_format(tmp, v->u.i); snprintf(out, n, "%s", tmp); break;
    case PQ_DATE: ut_date_format(tmp, (int32_t)v->u.i); snprintf(out, n, "%s", tmp); break;
    case PQ_DOUBLE: case PQ_FLOAT: ut_fmt_double(tmp, v->u.d); snprintf(out, n, "%s", tmp); break;
    case PQ_STRING: case PQ_BYTES:
        if (v->u.s.n >= n) { /* a truncated min is still a lower bound; a max is not */
            if (is_max) out[0] = 0;
            else snprintf(out, n, "%.*s", (int)(n - 1), (const char *)v->u.s.p);
        } else {
            snprintf(out, n, "%.*s", (int)v->u.s.n, (const char *)v->u.s.p);
        }
        break;
    default: snprintf(out, n, "%lld", (long long)v->u.i); break;
    }
}

void lk__file_stats(const char *tmp, ct_file *f)
{
    char err[256];
    pq_reader *r = pq_reader_open(tmp, err, sizeof err);
    if (!r) return;
    int nc = pq_reader_num_columns(r), nrg = pq_reader_num_row_groups(r);
    f->stats = ut_calloc((size_t)nc + 1, sizeof *f->stats);
    f->nstats = nc;
    for (int c = 0; c < nc; c++) {
        pq_column_info ci;
        pq_reader_column(r, c, &ci);
        ct_colstat *cs = &f->stats[c];
        snprintf(cs->name, sizeof cs->name, "%s", ci.name);
        pq_value mn = {0}, mx = {0};
        int ok = nrg > 0;
        for (int g = 0; g < nrg; g++) {
            pq_chunk_info ch;
            if (pq_reader_chunk(r, g, c, &ch)) { ok = 0; break; }
            cs->nulls += ch.stats.has_null_count ? ch.stats.null_count : 0;
            if (!ch.stats.has_min_max) {
                if (ch.num_values > ch.stats.null_count) ok = 0;
                continue;
            }
            if (!mn.kind || cmp_val(&ch.stats.min, &mn) < 0) mn = ch.stats.min;
            if (!mx.kind || cmp_val(&ch.stats.max, &mx) > 0) mx = ch.stats.max;
        }
        if (ok && mn.kind) {
            cs->has_minmax = 1;
            val_text(&mn, ci.type, cs->min, sizeof cs->min, 0);
            val_text(&mx, ci.type, cs->max, sizeof cs->max, 1);
            if (!cs->max[0] && (ci.type == PQ_STRING || ci.type == PQ_BYTES)) cs->has_minmax = 0;
        }
    }
    pq_reader_destroy(r);
}

void lk_file_stats(const char *path, ct_file *f)
{
    lk__file_stats(path, f);
}

/* ---- one flush ------------------------------------------------------------------------ */

typedef struct pending {
    ct_file *files;
    int n, cap;
} pending;

static ct_file *add_file(pending *p)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->files = ut_realloc(p->files, (size_t)p->cap * sizeof *p->files);
    }
    ct_file *f = &p->files[p->n++];
    memset(f, 0, sizeof *f);
    return f;
}

static void pending_free(pending *p)
{
    for (int i = 0; i < p->n; i++) free(p->files[i].stats);
    free(p->files);
}

/* Close partition b's file (or write the error records), store it under
 * <table>/<partition>/part-<position>-<idx>.parquet and fill f. */
static int land(lk_sink *s, lk__buf *b, const char *table, const char *partition, int idx,
                int is_errors, ct_file *f, char *err, size_t errlen)
{
    char tmp[4400], key[1400];
    int rc;
    if (is_errors) {
        snprintf(tmp, sizeof tmp, "%s/%s.%020llu.errors.parquet", s->o.tmp_dir, table,
                 (unsigned long long)s->position);
        rc = write_errors(s, b, tmp, err, errlen);
        f->min_offset = (int64_t)b->off[0];
        f->max_offset = (int64_t)b->off[b->n - 1];
    } else {
        snprintf(tmp, sizeof tmp, "%s", b->tmp);
        rc = pq_writer_close(b->w, err, errlen);
        pq_writer_destroy(b->w);
        b->w = NULL;
        f->min_offset = b->min_off;
        f->max_offset = b->max_off;
    }
    if (rc) {
        unlink(tmp);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s%spart-%020llu-%04d.parquet", partition,
             partition[0] ? "/" : "", (unsigned long long)s->position, idx);
    snprintf(f->partition, sizeof f->partition, "%s", partition);
    snprintf(key, sizeof key, "%s/%s", table, f->path);
    f->rows = (int64_t)b->n;
    f->schema_version = is_errors ? 0 : s->schema.version;
    f->created_ms = lk__now_ms();
    lk__file_stats(tmp, f);
    uint64_t size = 0;
    FILE *fp = fopen(tmp, "rb");
    if (fp) {
        fseek(fp, 0, SEEK_END);
        size = (uint64_t)ftell(fp);
        fclose(fp);
    }
    f->bytes = (int64_t)size;
    rc = st_move_file(s->o.store, key, tmp, err, errlen);
    if (rc) unlink(tmp);
    return rc;
}

static int cmp_part(const void *a, const void *b)
{
    int64_t x = ((const lk__buf *)a)->key, y = ((const lk__buf *)b)->key;
    return (x > y) - (x < y);
}

int lk__schema_commit(lk_sink *s, char *err, size_t errlen)
{
    ct_column *cols = NULL;
    char change[1024];
    int ncols = lk__schema_snapshot(&s->schema, &cols, change, sizeof change);
    int version, rc = 0;
    if (change[0]) {
        rc = ct_schema_set(s->cat, s->table.id, cols, ncols, change, &version, err, errlen);
        if (rc == 0) {
            lk__schema_recorded(&s->schema, version);
            fprintf(stderr, "sluice: table %s: schema version %d: %s\n", s->o.table, version, change);
        }
    } else {
        s->schema.dirty = 0; /* only null-only keys were added: nothing to record */
    }
    free(cols);
    return rc;
}

void lk__parts_discard(lk_sink *s)
{
    for (int i = 0; i < s->nparts; i++) {
        lk__buf *b = &s->parts[i];
        if (b->w) pq_writer_destroy(b->w);
        if (b->tmp) unlink(b->tmp);
        free(b->tmp);
        free(b->wcol);
    }
    s->nparts = 0;
    s->last_part = -1;
    lk__buf_free(&s->errors);
}

/* A failed flush drops everything buffered and goes back to the committed
 * position: the journal still has every record, so nothing is lost. */
void lk__rewind(lk_sink *s)
{
    lk__parts_discard(s);
    s->read_offset = s->position;
    s->buffered_records = s->buffered_bytes = 0;
    s->oldest_ingest_us = 0;
}

int lk__flush(lk_sink *s, char *err, size_t errlen)
{
    if (!s->buffered_records && !s->errors.n) return 0;
    pending main = {0}, errs = {0};
    int rc = -1;
    if (s->schema.dirty && lk__schema_commit(s, err, errlen)) goto done;
    qsort(s->parts, (size_t)s->nparts, sizeof *s->parts, cmp_part);
    s->last_part = -1;
    for (int i = 0; i < s->nparts; i++) {
        char part[64];
        if (!s->parts[i].n) continue;
        lk__part_path(s->parts[i].key, s->o.partition, part, sizeof part);
        if (land(s, &s->parts[i], s->o.table, part, i, 0, add_file(&main), err, errlen)) goto done;
    }
    if (s->errors.n) {
        char part[64];
        lk__part_path(lk__part_key(s->errors.ts[0], LK_PART_DT_HR), LK_PART_DT_HR, part,
                      sizeof part);
        if (land(s, &s->errors, s->etable.name, part, 0, 1, add_file(&errs), err, errlen))
            goto done;
    }
    if (ct_commit_many(s->cat, s->table.id, main.files, main.n, s->etable.id, errs.files, errs.n,
                       s->o.stream_name, s->read_offset, err, errlen))
        goto done;
    /* committed: the records are in the lake */
    uint64_t bytes = 0;
    for (int i = 0; i < main.n; i++) bytes += (uint64_t)main.files[i].bytes;
    pthread_mutex_lock(&s->mu);
    s->stats.records_landed += s->buffered_records;
    s->stats.records_errored += s->errors.n;
    s->stats.files_committed += (uint64_t)(main.n + errs.n);
    s->stats.bytes_committed += bytes;
    s->stats.flushes++;
    s->stats.position = s->read_offset;
    s->stats.read_offset = s->read_offset;
    s->stats.last_flush_ms = lk__now_ms();
    s->stats.columns = s->schema.n;
    s->stats.schema_version = s->schema.version;
    if (s->oldest_ingest_us)
        s->stats.last_commit_lag_us = (uint64_t)(s->stats.last_flush_ms * 1000 - s->oldest_ingest_us);
    s->stats.buffered_records = s->stats.buffered_bytes = 0;
    s->stats.open_partitions = 0;
    s->stats.last_error[0] = 0;
    pthread_mutex_unlock(&s->mu);
    s->position = s->read_offset;
    lk__parts_discard(s);
    s->buffered_records = s->buffered_bytes = 0;
    s->oldest_ingest_us = 0;
    s->flush_seq++;
    s->rereads = 0;
    rc = 0;
done:
    if (rc) lk__rewind(s);
    pending_free(&main);
    pending_free(&errs);
    return rc;
}

/* ---- garbage collection ------------------------------------------------------------------ */

typedef struct gc_ctx {
    lk_sink *s;
    const ct_table *t;
    int deleted;
    char err[256];
} gc_ctx;

static int gc_one(void *arg, const char *key, uint64_t size, int64_t mtime_ms)
{
    gc_ctx *g = arg;
    (void)size;
    (void)mtime_ms;
    size_t tl = strlen(g->t->name), kl = strlen(key);
    if (kl <= tl + 1 || strncmp(key, g->t->name, tl) || key[tl] != '/') return 0;
    if (kl < 8 || strcmp(key + kl - 8, ".parquet") || !strstr(key, "part-")) return 0;
    const char *rel = key + tl + 1;
    int live = ct_file_live(g->s->cat, g->t->id, rel, g->err, sizeof g->err);
    if (live < 0) return -1;
    if (!live && st_delete(g->s->o.store, key, g->err, sizeof g->err) == 0) {
        g->deleted++;
        fprintf(stderr, "sluice: table %s: removed %s (written but never committed)\n",
                g->t->name, key);
    }
    return 0;
}

int lk__gc(lk_sink *s, char *err, size_t errlen)
{
    if (lk__empty_trash(s, err, errlen)) return -1; /* a crash between removal and delete */
    const ct_table *ts[2] = {&s->table, &s->etable};
    for (int i = 0; i < 2; i++) {
        gc_ctx g = {s, ts[i], 0, ""};
        char prefix[200];
        snprintf(prefix, sizeof prefix, "%s/", ts[i]->name);
        int rc = st_list(s->o.store, prefix, gc_one, &g, err, errlen);
        if (rc < 0) return -1;
        if (rc > 0) return ut_err(err, errlen, "%s", g.err);
    }
    return 0;
}
