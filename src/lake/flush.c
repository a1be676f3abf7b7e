/* Lake sink flush: buffers → Parquet files → lk_land (store + one commit).
 *
 *   tmp_dir/sl-<pid>-<seq>-<table>.parquet   written by the partition's writer
 *   store: <table>/dt=YYYY-MM-DD/hr=HH/part-<position:020>-<i:04>.parquet
 *   catalog: files + stream position, one transaction (lk_land)
 *
 * <position> is the committed position the flush starts from, so names never
 * repeat across flushes of this sink (and an existing key is refused by the
 * store, never overwritten); a flush that fails before its commit removes
 * what it stored, and what a crash leaves is collected when the sink starts.
 */
#include "lake/sink_int.h"
#include "log/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pq_type lk_pq_type(ct_type t)
{
    switch (t) {
    case CT_BOOL: return PQ_BOOL;
    case CT_INT64: return PQ_INT64;
    case CT_DOUBLE: return PQ_DOUBLE;
    case CT_TIMESTAMP: return PQ_TIMESTAMP;
    case CT_DATE: return PQ_DATE;
    case CT_INT32: return PQ_INT32;
    case CT_FLOAT: return PQ_FLOAT;
    case CT_DECIMAL: return PQ_DECIMAL;
    case CT_TIME: return PQ_TIME;
    case CT_TIMESTAMP_NTZ: return PQ_TIMESTAMP_NTZ;
    case CT_BYTES: return PQ_BYTES;
    default: return PQ_STRING;
    }
}

void lk_pq_spec(const ct_column *c, pq_column_spec *out)
{
    out->type = lk_pq_type(c->type);
    out->precision = c->type == CT_DECIMAL ? c->precision : 0;
    out->scale = c->type == CT_DECIMAL ? c->scale : 0;
}

/* Put JSON value v into column col of type t (the schema has widened t to
 * hold every observed value, so a mismatch cannot happen; it becomes null). */
void lk__put_value(pq_writer *w, int col, ct_type t, const js_value *v, lk_tstext *tst)
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
        ut_ts_layout lay; /* only texts it gives back exactly are timestamps (shred) */
        if (v->kind == JS_STRING && ut_ts_parse_layout(v->s, v->n, &us, &lay) == 0) {
            rc = pq_writer_put_i64(w, col, us);
            if (!rc && tst) lk_tstext_note(tst, pq_writer_rows(w), &lay);
        }
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

int lk__ts_room(const lk__buf *b, const struct lk__fv *fv, int nf)
{
    for (int i = 0; i < nf; i++) {
        int ci = fv[i].ci;
        if (ci >= 0 && ci < b->wn && b->tst[ci] && fv[i].f.v.kind == JS_STRING &&
            !lk_tstext_room(b->tst[ci]))
            return 0;
    }
    return 1;
}

void lk__ts_set(lk_sink *s, lk__buf *b)
{
    for (int i = 0; i < b->wn; i++)
        if (b->tst[i]) lk_tstext_set(b->w, s->schema.cols[i].name, b->tst[i]);
}

int lk__part_open(lk_sink *s, lk__buf *b, char *err, size_t errlen)
{
    int n = s->schema.n, m = 0;
    pq_column_spec *specs = ut_calloc((size_t)n + 2, sizeof *specs);
    b->wcol = ut_malloc(((size_t)n + 1) * sizeof *b->wcol);
    b->tst = ut_calloc((size_t)n + 1, sizeof *b->tst);
    b->wn = n;
    for (int i = 0; i < n; i++) {
        const lk__col *c = &s->schema.cols[i];
        if (!c->type || c->legacy) { /* only nulls so far / a clashing old name: not in the file */
            b->wcol[i] = -1;
            continue;
        }
        if (c->type == CT_TIMESTAMP) b->tst[i] = lk_tstext_create();
        b->wcol[i] = m;
        specs[m].name = c->name;
        ct_column cc = {.type = c->type, .precision = c->precision, .scale = c->scale};
        lk_pq_spec(&cc, &specs[m]);
        specs[m].optional = 1;
        m++;
    }
    b->wcol[n] = m;
    specs[m++] = (pq_column_spec){"_ingest_ts", PQ_TIMESTAMP, 0};
    char tmp[4400];
    lk_tmp_path(s->o.tmp_dir, s->o.table, tmp, sizeof tmp);
    b->tmp = ut_strdup(tmp);
    b->w = open_writer(s, tmp, specs, m, err, errlen);
    free(specs);
    if (b->w) return 0;
    free(b->tmp); /* the retry opens it again: nothing may stay behind */
    free(b->wcol);
    for (int i = 0; i < n; i++) lk_tstext_destroy(b->tst[i]);
    free(b->tst);
    b->tmp = NULL;
    b->wcol = NULL;
    b->tst = NULL;
    return -1;
}

/* The error records of b in a writer on tmp (not closed yet), or NULL. */
static pq_writer *write_errors(lk_sink *s, const lk__buf *b, const char *tmp, char *err,
                               size_t errlen)
{
    pq_column_spec specs[] = {{"_ingest_ts", PQ_TIMESTAMP, 0},
                              {"_offset", PQ_INT64, 0},
                              {"reason", PQ_STRING, 0},
                              {"record", PQ_STRING, 0}};
    pq_writer *w = open_writer(s, tmp, specs, 4, err, errlen);
    if (!w) return NULL;
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
            unlink(tmp);
            return NULL;
        }
        p += b->len[i];
    }
    return w;
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
            lg_info("sink", "table %s: schema version %d: %s", s->o.table, version, change);
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
        for (int k = 0; b->tst && k < b->wn; k++) lk_tstext_destroy(b->tst[k]);
        free(b->tst);
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

/* A land file for partition buffer b (its writer moves to the landing). */
static void add_part(lk_sink *s, lk__buf *b, const char *part, const char *name,
                     lk_land_file *lf)
{
    lk__ts_set(s, b); /* the rows are all in: the texts' layouts go in the footer */
    *lf = (lk_land_file){.w = b->w, .tmp = b->tmp, .table = 0, .partition = part, .name = name,
                         .min_offset = b->min_off, .max_offset = b->max_off,
                         .schema_version = s->schema.version};
}

/* The landing of this flush: the table, its errors table, the position. */
static void landing_of(lk_sink *s, lk_landing *l, ct_table_change *t)
{
    memset(l, 0, sizeof *l);
    memset(t, 0, 2 * sizeof *t);
    t[0].table_id = s->table.id;
    t[1].table_id = s->etable.id;
    l->cat = s->cat;
    l->store = s->o.store;
    l->tables[0] = s->o.table;
    l->tables[1] = s->etable.name;
    l->change = (ct_change){.tables = t, .ntables = 2, .stream = s->o.stream_name,
                            .next_offset = s->read_offset};
}

/* Write the error records and add them to the landing as file *nf. 0 / -1. */
static int add_errors(lk_sink *s, lk_land_file *lf, char *part, size_t partn, char *name,
                      size_t namen, char *tmp, size_t tmpn, char *err, size_t errlen)
{
    lk__part_path(lk__part_key(s->errors.ts[0], LK_PART_DT_HR), LK_PART_DT_HR, part, partn);
    snprintf(name, namen, "part-%020llu-0000.parquet", (unsigned long long)s->position);
    lk_tmp_path(s->o.tmp_dir, s->etable.name, tmp, tmpn);
    pq_writer *w = write_errors(s, &s->errors, tmp, err, errlen);
    if (!w) return -1;
    *lf = (lk_land_file){.w = w, .tmp = tmp, .table = 1, .partition = part, .name = name,
                         .min_offset = (int64_t)s->errors.off[0],
                         .max_offset = (int64_t)s->errors.off[s->errors.n - 1]};
    return 0;
}

static void note_committed(lk_sink *s, int nfiles, uint64_t bytes)
{
    pthread_mutex_lock(&s->mu);
    s->stats.records_landed += s->buffered_records;
    s->stats.records_errored += s->errors.n;
    s->stats.files_committed += (uint64_t)nfiles;
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
}

int lk__flush(lk_sink *s, char *err, size_t errlen)
{
    if (!s->buffered_records && !s->errors.n) return 0;
    int rc = -1, n = 0;
    lk_land_file *lf = ut_calloc((size_t)s->nparts + 2, sizeof *lf);
    char (*names)[64] = ut_calloc((size_t)s->nparts + 2, sizeof *names);
    char (*parts)[64] = ut_calloc((size_t)s->nparts + 2, sizeof *parts);
    char etmp[4400];
    lk_landing l;
    ct_table_change t[2];
    pq_writer *ew = NULL;
    if (s->schema.dirty && lk__schema_commit(s, err, errlen)) goto done;
    qsort(s->parts, (size_t)s->nparts, sizeof *s->parts, cmp_part);
    s->last_part = -1;
    for (int i = 0; i < s->nparts; i++) {
        if (!s->parts[i].n) continue;
        lk__part_path(s->parts[i].key, s->o.partition, parts[n], sizeof parts[n]);
        snprintf(names[n], sizeof names[n], "part-%020llu-%04d.parquet",
                 (unsigned long long)s->position, i);
        add_part(s, &s->parts[i], parts[n], names[n], &lf[n]);
        n++;
    }
    if (s->errors.n) {
        if (add_errors(s, &lf[n], parts[n], sizeof parts[n], names[n], sizeof names[n], etmp,
                       sizeof etmp, err, errlen))
            goto done;
        ew = lf[n++].w;
    }
    landing_of(s, &l, t);
    if (lk_land(&l, lf, n, err, errlen)) goto done;
    /* committed: the records are in the lake */
    note_committed(s, n, l.bytes);
    s->position = s->read_offset;
    lk__parts_discard(s);
    s->buffered_records = s->buffered_bytes = 0;
    s->oldest_ingest_us = 0;
    s->flush_seq++;
    s->rereads = 0;
    rc = 0;
done:
    pq_writer_destroy(ew);
    if (rc) lk__rewind(s);
    free(lf);
    free(names);
    free(parts);
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
    /* a live file stays; a trashed one waits for its grace period in the
     * trash (a running scan may read it): a crash came before its move */
    int known = ct_file_known(g->s->cat, g->t->id, rel, g->err, sizeof g->err);
    if (known < 0) return 1; /* st_list returns it: the message is in g->err */
    int live = known ? ct_file_live(g->s->cat, g->t->id, rel, g->err, sizeof g->err) : 1;
    if (live < 0) return 1;
    if (!live && lk_trash_move(g->s->o.store, g->t->name, rel, g->err, sizeof g->err) < 0)
        lg_warn("sink", "%s", g->err);
    if (!known && st_delete(g->s->o.store, key, g->err, sizeof g->err) == 0) {
        g->deleted++;
        lg_info("sink", "table %s: removed %s (written but never committed)", g->t->name, key);
    }
    return 0;
}

int lk__gc(lk_sink *s, char *err, size_t errlen)
{
    lk_tmp_gc(s->o.tmp_dir); /* temp files of a sink or CTAS killed mid-write */
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
