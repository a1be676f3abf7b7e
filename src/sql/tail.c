/* The journal tail: records acknowledged but not yet in a committed file,
 * shredded into a lake table's columns the way the sink would write them
 * (same event-time and partition rules: lake/part.c).
 *
 * Cost is bounded by the tail, not the retained journal: the stream is
 * opened read-only (sealed segments are only listed, not read), and reading
 * starts at the sink's committed position (segment found by binary search on
 * base offsets, then the segment's sparse index), so only segments holding
 * records past the position are ever mapped and verified. */
#include "lake/lk_int.h"
#include "sql/sq_int.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define TAIL_BATCH 256
#define TAIL_BYTES (4u << 20)

typedef struct tval {
    js_kind kind; /* JS_NULL when absent */
    int set;
    const char *key; /* the key that set it (in the record) */
    size_t key_len;
    int b;
    int64_t i;
    double d;
    size_t off, n; /* text in t->text */
} tval;

struct sq_tail {
    jr_reader *r;
    js_parser *js;
    uint64_t next, end;
    jr_record recs[TAIL_BATCH];
    int nrec, at;
    const char *etf;
    lk_time_format tf;
    lk_partitioning part;
    sq_tail_col *cols;
    int ncols;
    lk_names *names; /* the naming rule: key -> column */
    int ci;          /* keys ignore ASCII case (the sink's option) */
    tval *vals;
    ut_buf text;
    int64_t ingest_us;
    char partv[64];
};

jr_stream *sq__stream(sq_engine *e, const char *name)
{
    for (int i = 0; i < e->nstreams; i++)
        if (!strcmp(e->streams[i].name, name)) return e->streams[i].s;
    if (e->nstreams >= SQ_MAX_STREAMS || !e->data_dir[0]) return NULL;
    sq_stream_ent *ent = &e->streams[e->nstreams++];
    snprintf(ent->name, sizeof ent->name, "%s", name);
    ent->s = NULL;
    char dir[1200], sdir[1400];
    snprintf(dir, sizeof dir, "%s/streams", e->data_dir);
    snprintf(sdir, sizeof sdir, "%s/%s", dir, name);
    struct stat st;
    if (stat(sdir, &st) || !S_ISDIR(st.st_mode)) return NULL; /* opening would create it */
    jr_opts o;
    jr_opts_init(&o);
    o.retention_ms = 0; /* a reader never deletes anything */
    o.read_only = 1;    /* ... nor truncates the tail a running server is writing */
    o.retention_bytes = 0;
    char err[512];
    ent->s = jr_stream_open(dir, name, &o, err, sizeof err);
    if (!ent->s) lg_warn("sql", "stream %s: %s (no journal tail)", name, err);
    return ent->s;
}

sq_tail *sq__tail_open(sq_engine *e, jr_stream *s, const char *stream, uint64_t from,
                       uint64_t to, const sq_tail_col *cols, int ncols, const char *part)
{
    sq_tail *t = ut_calloc(1, sizeof *t);
    t->r = jr_reader_create(s);
    t->js = js_parser_create(0, 0);
    t->next = from;
    t->end = to;
    t->etf = "event_time";
    t->tf = LK_TIME_AUTO;
    int ci = 0;
    for (int i = 0; i < e->ntails; i++)
        if (!strcmp(e->tails[i].stream, stream)) {
            t->etf = e->tails[i].event_time_field ? e->tails[i].event_time_field : "";
            t->tf = (lk_time_format)e->tails[i].time_format;
            ci = e->tails[i].case_insensitive;
        }
    t->part = !strcmp(part, "dt,hr") ? LK_PART_DT_HR : !strcmp(part, "dt") ? LK_PART_DT : LK_PART_NONE;
    t->cols = ut_calloc((size_t)ncols, sizeof *t->cols);
    memcpy(t->cols, cols, (size_t)ncols * sizeof *cols);
    t->ncols = ncols;
    t->vals = ut_calloc((size_t)ncols, sizeof *t->vals);
    t->names = lk_names_create(ci);
    t->ci = ci;
    for (int i = 0; i < ncols; i++) /* partition and _ingest_ts columns take no key */
        lk_names_take(t->names, cols[i].name, strlen(cols[i].name),
                      cols[i].part || cols[i].ingest ? -1 : i);
    return t;
}

void sq__tail_close(sq_tail *t)
{
    if (!t) return;
    jr_reader_destroy(t->r);
    js_parser_destroy(t->js);
    free(t->cols);
    free(t->vals);
    lk_names_destroy(t->names);
    ut_buf_free(&t->text);
    free(t);
}

/* Shred record r into t->vals.  0, or -1 when the sink would not land it in
 * this table (not an object: it goes to the errors table). */
static int shred(sq_tail *t, const jr_record *r)
{
    char err[200];
    for (int i = 0; i < t->ncols; i++) t->vals[i].set = 0;
    ut_buf_reset(&t->text);
    if (js_obj_begin(t->js, (const char *)r->p, r->n, err, sizeof err)) return -1;
    int64_t ev = r->ts_us;
    size_t etl = strlen(t->etf);
    js_field f;
    int rc;
    while ((rc = js_obj_next(t->js, &f, err, sizeof err)) == 1) {
        if (etl && f.key_len == etl && !memcmp(f.key, t->etf, etl)) {
            int64_t us;
            if (lk__event_time(&f.v, t->tf, &us) == 0) ev = us;
        }
        int i = lk_names_resolve(t->names, f.key, f.key_len, NULL, NULL);
        if (i < 0) continue; /* no column yet (or only nulls so far) */
        tval *v = &t->vals[i];
        if (v->set) {
            if (v->key_len == f.key_len && !(t->ci ? strncasecmp(v->key, f.key, f.key_len)
                                                    : memcmp(v->key, f.key, f.key_len)))
                continue; /* the same key again: its first value stays */
            return -1; /* two keys in one column: the sink rejects the record */
        }
        v->set = 1;
        v->key = f.key;
        v->key_len = f.key_len;
        v->kind = f.v.kind;
        v->b = f.v.b;
        v->i = f.v.i;
        v->d = f.v.d;
        v->off = t->text.len;
        v->n = f.v.n;
        if (f.v.kind != JS_NULL && f.v.s) ut_buf_put(&t->text, f.v.s, f.v.n);
    }
    if (rc < 0) return -1;
    t->ingest_us = r->ts_us;
    lk__part_path(lk__part_key(ev, t->part), t->part, t->partv, sizeof t->partv);
    return 0;
}

int sq__tail_next(sq_tail *t, char *err, size_t errlen)
{
    for (;;) {
        if (t->at < t->nrec) {
            const jr_record *r = &t->recs[t->at++];
            if (r->offset >= t->end) {
                t->nrec = 0;
                t->next = t->end;
                return 0;
            }
            t->next = r->offset + 1;
            if (shred(t, r) == 0) return 1;
            continue;
        }
        if (t->next >= t->end) return 0;
        int n = jr_read(t->r, t->next, t->recs, TAIL_BATCH, TAIL_BYTES, err, errlen);
        if (n < 0) return -1;
        if (n == 0) return 0;
        t->nrec = n;
        t->at = 0;
    }
}

const char *sq__tail_part(const sq_tail *t) { return t->partv; }

void sq__tail_result(sq_tail *t, sqlite3_context *ctx, int i)
{
    if (i < 0 || i >= t->ncols) return;
    if (t->cols[i].ingest) {
        char b[40];
        int n = sq__ts_text(b, t->ingest_us);
        sqlite3_result_text(ctx, b, n, SQLITE_TRANSIENT);
        return;
    }
    const tval *v = &t->vals[i];
    if (!v->set || v->kind == JS_NULL) return;
    const char *s = (const char *)t->text.p + v->off;
    ct_type ty = t->cols[i].type;
    if (ty == CT_STRING) { /* strings unescaped, others as their JSON text (as the sink) */
        sqlite3_result_text(ctx, s, (int)v->n, SQLITE_TRANSIENT);
        return;
    }
    switch (v->kind) {
    case JS_BOOL: sqlite3_result_int(ctx, v->b); return;
    case JS_INT:
        if (ty == CT_DOUBLE || ty == CT_FLOAT) sqlite3_result_double(ctx, (double)v->i);
        else sqlite3_result_int64(ctx, v->i);
        return;
    case JS_DOUBLE: sqlite3_result_double(ctx, v->d); return;
    case JS_STRING:
        if (ty == CT_TIMESTAMP) {
            int64_t us;
            if (ut_ts_parse(s, v->n, &us) == 0) {
                char b[40];
                int n = sq__ts_text(b, us);
                sqlite3_result_text(ctx, b, n, SQLITE_TRANSIENT);
                return;
            }
        }
        sqlite3_result_text(ctx, s, (int)v->n, SQLITE_TRANSIENT);
        return;
    default: sqlite3_result_text(ctx, s, (int)v->n, SQLITE_TRANSIENT); return;
    }
}
