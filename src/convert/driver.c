/* cv_convert: the two passes, rejected-record reporting, progress, and the
 * temp-file-then-rename output. */
#include "convert/source.h"
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cv_opts_init(cv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_report = 20;
    o->max_record = JS_MAX_RECORD_DEFAULT;
    o->max_depth = JS_MAX_DEPTH_DEFAULT;
    pq_writer_opts_init(&o->wopts);
}

typedef struct run {
    const cv_opts *o;
    cv_stats *st;
    cv__src src;
    cv_schema *s;
    pq_writer *w;
    js_parser *p;
    int64_t *stamp;
    int *req, nreq;
    int *map; /* CSV: header field -> column, -1 = ignored */
    uint64_t t0, last;
    /* speculative inference (see cv_convert) */
    int tracking;
    int64_t gen;                /* record attempt counter for stamps */
    int *pcol, npend;           /* pending kind bits of the current record */
    unsigned *pk;
    int64_t printed, quiet_until; /* rejects already shown by an aborted attempt */
} run;

#define SPECULATE_RECORDS 20000
enum { REC_OK = 0, REC_BAD = -1, REC_DIVERGED = 1, REC_REDO = 2 };

static void progress(run *r, const char *phase, int64_t recs, int final)
{
    if (!r->o->on_progress) return;
    uint64_t now = ut_now_ns();
    if (!final && now - r->last < 250000000ull) return;
    r->last = now;
    cv_progress p = {phase, recs, (int64_t)io_bytes_out(r->src.in), (double)(now - r->t0) / 1e9,
                     final};
    r->o->on_progress(&p, r->o->report_arg);
}

static void reject(run *r, int64_t recno, int64_t line, const char *why)
{
    r->st->rejected++;
    if (recno <= r->quiet_until || r->printed >= r->o->max_report) return;
    r->printed++;
    if (r->o->on_reject)
        r->o->on_reject(io_name(r->src.in), line, why, r->o->report_arg);
    else
        lg_warn("convert", "%s:%lld: %s", io_name(r->src.in), (long long)line, why);
}

/* ---- pass 1 ---------------------------------------------------------------- */

/* Infer r->s from the first `limit` records (0 = all); *eof = 1 when the
 * whole input was seen. */
static int infer_pass(run *r, int64_t limit, int *eof, char *err, size_t errlen)
{
    int ret = -1, nh = r->src.nhead;
    cv_infer *inf = cv_infer_create();
    const char **fields = ut_calloc((size_t)nh + 1, sizeof *fields);
    size_t *lens = ut_calloc((size_t)nh + 1, sizeof *lens);
    int *quoted = ut_calloc((size_t)nh + 1, sizeof *quoted);
    int csv = r->src.fmt != CV_NDJSON;
    char tmp[512];
    int64_t seen = 0;
    *eof = 0;
    if (csv && cv_infer_header(inf, r->src.head, r->src.headlen, nh, err, errlen)) goto fail;
    for (;;) {
        int rc = cv__src_next(&r->src, tmp, sizeof tmp);
        if (rc == CV_REC_EOF) {
            *eof = 1;
            break;
        }
        if (rc == CV_REC_ERR) {
            ut_err(err, errlen, "%s", tmp);
            goto fail;
        }
        if ((++seen & 0xffff) == 0) progress(r, "inferring", seen, 0);
        if (rc == CV_REC_BAD) continue; /* reported by the write pass */
        if (csv) {
            for (int i = 0; i < nh; i++) fields[i] = csv_field(r->src.csv, i, &lens[i], &quoted[i]);
            cv_infer_text(inf, fields, lens, quoted, nh);
        } else if (cv_infer_json(inf, r->p, r->src.rec, r->src.len, tmp, sizeof tmp)) {
            continue;
        }
        if (limit > 0 && cv_infer_records(inf) >= limit) break;
    }
    cv_schema_destroy(r->s);
    r->s = cv_infer_schema(inf);
    if (cv_schema_ncols(r->s) == 0 && (*eof || !limit)) {
        ut_err(err, errlen, "%s: no records to infer a schema from (give --schema)",
               io_name(r->src.in));
        goto fail;
    }
    ret = 0;
fail:
    progress(r, "", 0, 1);
    free(fields);
    free(lens);
    free(quoted);
    cv_infer_destroy(inf);
    return ret;
}

/* ---- pass 2 ---------------------------------------------------------------- */

static int unknown(run *r, const char *key, size_t n, char *why, size_t whylen)
{
    int show = n > 64 ? 64 : (int)n;
    if (r->o->schema)
        return ut_err(why, whylen, "key '%.*s' is not in --schema (see --ignore-unknown)", show, key);
    return ut_err(why, whylen,
                  "key '%.*s' was not seen in the first %lld records used to infer the schema "
                  "(raise --sample or use --ignore-unknown)",
                  show, key, (long long)r->o->sample);
}

/* Shred one NDJSON record: REC_OK, REC_BAD (reason in why), and when
 * tracking: REC_DIVERGED (the record widens the schema) or REC_REDO (its
 * kinds were new but did not change any type: shred it again). */
static int json_record(run *r, char *why, size_t whylen)
{
    js_field f;
    int rc, pos = 0, newkey = 0, hold = 0;
    int64_t gen = ++r->gen;
    r->npend = 0;
    if (js_obj_begin(r->p, r->src.rec, r->src.len, why, whylen)) return REC_BAD;
    while ((rc = js_obj_next(r->p, &f, why, whylen)) == 1) {
        int c = cv__find_at(r->s, f.key, f.key_len, pos++);
        if (c < 0) {
            if (r->tracking) {
                newkey = hold = 1;
                continue;
            }
            if (r->o->ignore_unknown) continue;
            unknown(r, f.key, f.key_len, why, whylen);
            return REC_BAD;
        }
        if (r->stamp[c] == gen) {
            int show = f.key_len > 64 ? 64 : (int)f.key_len;
            ut_err(why, whylen, "duplicate key '%.*s'", show, f.key);
            return REC_BAD;
        }
        r->stamp[c] = gen;
        cv__col *col = &r->s->c[c];
        unsigned k = 0;
        /* a string into a timestamp column is checked by the put itself */
        int by_put = f.v.kind == JS_STRING && col->type == PQ_TIMESTAMP;
        if (r->tracking && (!by_put || hold)) k = cv__track_json(col, &f.v);
        if (!k && !hold) {
            if (!cv__put_json(r->w, c, col, &f.v, why, whylen)) continue;
            if (!r->tracking || !(k = cv__track_json(col, &f.v))) return REC_BAD;
        }
        if (k) {
            r->pcol[r->npend] = c;
            r->pk[r->npend++] = k;
            hold = 1;
        }
    }
    if (rc < 0) return REC_BAD;
    for (int i = 0; i < r->nreq; i++)
        if (r->stamp[r->req[i]] != gen) {
            ut_err(why, whylen, "required column '%s' is missing", r->s->c[r->req[i]].name);
            return REC_BAD;
        }
    if (!hold) return REC_OK;
    int diverged = newkey;
    for (int i = 0; i < r->npend; i++) diverged |= cv__apply_kinds(&r->s->c[r->pcol[i]], r->pk[i]);
    return diverged ? REC_DIVERGED : REC_REDO;
}

static int csv_record(run *r, char *why, size_t whylen)
{
    size_t n;
    int q;
    const char *f;
    if (r->tracking) {
        int diverged = 0;
        for (int i = 0; i < r->src.nhead; i++) {
            cv__col *c = &r->s->c[r->map[i]];
            if (c->kinds & K_STR) continue;
            f = csv_field(r->src.csv, i, &n, &q);
            unsigned k = cv__track_text(c, f, n, q);
            if (k) diverged |= cv__apply_kinds(c, k);
        }
        if (diverged) return REC_DIVERGED;
    }
    for (int i = 0; i < r->src.nhead; i++) {
        int c = r->map[i];
        if (c < 0) continue;
        f = csv_field(r->src.csv, i, &n, &q);
        if (cv__put_text(r->w, c, &r->s->c[c], f, n, q, why, whylen)) return REC_BAD;
    }
    return REC_OK;
}

/* Map CSV header fields to schema columns; check required columns exist. */
static int csv_map(run *r, char *err, size_t errlen)
{
    int nh = r->src.nhead;
    r->map = ut_calloc((size_t)nh + 1, sizeof *r->map);
    if (!r->o->schema) { /* inferred from this header: same order */
        for (int i = 0; i < nh; i++) r->map[i] = i;
        return 0;
    }
    uint8_t *have = ut_calloc((size_t)cv_schema_ncols(r->s) + 1, 1);
    int ret = -1;
    for (int i = 0; i < nh; i++) {
        r->map[i] = cv_schema_find(r->s, r->src.head[i], r->src.headlen[i]);
        if (r->map[i] >= 0) {
            have[r->map[i]] = 1;
        } else if (!r->o->ignore_unknown) {
            ut_err(err, errlen, "%s: column '%.*s' of the header is not in --schema (see --ignore-unknown)",
                   io_name(r->src.in), (int)(r->src.headlen[i] > 64 ? 64 : r->src.headlen[i]),
                   r->src.head[i]);
            goto fail;
        }
    }
    for (int i = 0; i < r->nreq; i++)
        if (!have[r->req[i]]) {
            ut_err(err, errlen, "%s: required column '%s' is not in the header", io_name(r->src.in),
                   r->s->c[r->req[i]].name);
            goto fail;
        }
    ret = 0;
fail:
    free(have);
    return ret;
}

/* 0 = all records written or rejected; REC_DIVERGED = stopped because the
 * speculative schema does not hold; -1 = error. */
static int write_pass(run *r, char *err, size_t errlen)
{
    char why[512];
    int64_t recno = 0;
    int csv = r->src.fmt != CV_NDJSON;
    for (;;) {
        int rc = cv__src_next(&r->src, why, sizeof why);
        if (rc == CV_REC_EOF) break;
        if (rc == CV_REC_ERR) return ut_err(err, errlen, "%s", why);
        recno++;
        if ((recno & 0xffff) == 0) progress(r, "converting", recno, 0);
        if (rc == CV_REC_BAD) {
            reject(r, recno, r->src.line, why);
            continue;
        }
        do {
            rc = csv ? csv_record(r, why, sizeof why) : json_record(r, why, sizeof why);
            if (rc != REC_OK) pq_writer_cancel_row(r->w);
        } while (rc == REC_REDO);
        if (rc == REC_DIVERGED) {
            r->quiet_until = recno;
            progress(r, "", 0, 1);
            return REC_DIVERGED;
        }
        if (rc == REC_BAD) {
            reject(r, recno, r->src.line, why);
            continue;
        }
        if (pq_writer_end_row(r->w))
            return ut_err(err, errlen, "%s", pq_writer_error(r->w));
    }
    progress(r, "", 0, 1);
    return 0;
}

/* Create the writer on the temp path for the current schema r->s. */
static int start_writer(run *r, const char *tmp, char *err, size_t errlen)
{
    int nc = cv_schema_ncols(r->s), ret = -1;
    pq_column_spec *spec = ut_calloc((size_t)nc, sizeof *spec);
    free(r->stamp);
    free(r->req);
    free(r->pcol);
    free(r->pk);
    free(r->map);
    r->map = NULL;
    r->stamp = ut_calloc((size_t)nc, sizeof *r->stamp);
    r->req = ut_calloc((size_t)nc, sizeof *r->req);
    r->pcol = ut_calloc((size_t)nc, sizeof *r->pcol);
    r->pk = ut_calloc((size_t)nc, sizeof *r->pk);
    r->nreq = 0;
    for (int i = 0; i < nc; i++) {
        spec[i].name = r->s->c[i].name;
        spec[i].type = r->s->c[i].type;
        spec[i].optional = !r->s->c[i].required;
        r->stamp[i] = -1;
        if (r->s->c[i].required) r->req[r->nreq++] = i;
    }
    r->st->ncols = nc;
    if (r->src.fmt != CV_NDJSON && csv_map(r, err, errlen)) goto fail;
    r->w = pq_writer_create(tmp, spec, nc, &r->o->wopts, err, errlen);
    if (!r->w) goto fail;
    pq_writer_set_kv(r->w, "sluice.source", io_name(r->src.in));
    ret = 0;
fail:
    free(spec);
    return ret;
}

/* fsync the directory holding path (so the rename is durable). */
static void sync_dir(const char *path)
{
    char *copy = ut_strdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/* Without --schema (and without --sample) the schema is inferred
 * speculatively: from the first SPECULATE_RECORDS records, then the write pass
 * keeps folding every record's value kinds into the columns.  If a record
 * would change a column's type or add a column, the attempt is abandoned and
 * the classic two passes run (whole-input inference, then write).  Either
 * way the schema equals whole-input inference; homogeneous data is read once
 * (plus the sample). */
int cv_convert(const char *in, const char *out, const cv_opts *o, cv_stats *st, char *err,
               size_t errlen)
{
    run r = {0};
    int ret = -1, created = 0, eof = 0;
    char *tmp = NULL;
    memset(st, 0, sizeof *st);
    r.o = o;
    r.st = st;
    r.t0 = r.last = ut_now_ns();
    r.p = js_parser_create(o->max_record, o->max_depth);
    cv_format fmt = o->format != CV_AUTO ? o->format : cv_format_from_name(in);
    if (o->schema && !(r.s = cv_schema_parse(o->schema, err, errlen))) goto fail;
    if (cv__src_open(&r.src, in, fmt, !o->schema, o->max_record, err, errlen)) goto fail;
    if (!o->schema) {
        int64_t limit = o->sample > 0 ? o->sample : SPECULATE_RECORDS;
        if (infer_pass(&r, limit, &eof, err, errlen)) goto fail;
        if (cv__src_rewind(&r.src, err, errlen)) goto fail;
        r.tracking = !o->sample && !eof;
        if (r.tracking && cv_schema_ncols(r.s) == 0) { /* only {} so far: infer from all */
            r.tracking = 0;
            if (infer_pass(&r, 0, &eof, err, errlen) || cv__src_rewind(&r.src, err, errlen))
                goto fail;
        }
    }
    st->infer_seconds = (double)(ut_now_ns() - r.t0) / 1e9;
    size_t tl = strlen(out) + 32;
    tmp = ut_malloc(tl);
    snprintf(tmp, tl, "%s.tmp-%d", out, (int)getpid());
    for (;;) {
        if (start_writer(&r, tmp, err, errlen)) goto fail;
        created = 1;
        int rc = write_pass(&r, err, errlen);
        if (rc < 0) goto fail;
        if (rc == 0) break;
        /* the speculative schema does not hold: infer from everything */
        pq_writer_destroy(r.w);
        r.w = NULL;
        unlink(tmp);
        created = 0;
        st->rejected = 0;
        r.tracking = 0;
        if (cv__src_rewind(&r.src, err, errlen) || infer_pass(&r, 0, &eof, err, errlen) ||
            cv__src_rewind(&r.src, err, errlen))
            goto fail;
        st->infer_seconds = (double)(ut_now_ns() - r.t0) / 1e9;
    }
    st->rows = pq_writer_rows(r.w);
    if (pq_writer_close(r.w, err, errlen)) goto fail;
    st->bytes_out = pq_writer_bytes(r.w);
    pq_writer_destroy(r.w);
    r.w = NULL;
    if (rename(tmp, out)) {
        ut_err(err, errlen, "%s: rename from %s: %s", out, tmp, strerror(errno));
        goto fail;
    }
    created = 0;
    sync_dir(out);
    ret = 0;
fail:
    if (r.src.in) {
        st->bytes_in = io_bytes_in(r.src.in);
        st->bytes_raw = io_bytes_out(r.src.in);
    }
    st->seconds = (double)(ut_now_ns() - r.t0) / 1e9;
    pq_writer_destroy(r.w);
    if (created) unlink(tmp);
    cv__src_close(&r.src);
    cv_schema_destroy(r.s);
    js_parser_destroy(r.p);
    free(r.stamp);
    free(r.req);
    free(r.map);
    free(r.pcol);
    free(r.pk);
    free(tmp);
    return ret;
}
