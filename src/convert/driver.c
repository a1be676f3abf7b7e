/* cv_convert: the two passes, rejected-record reporting, progress, and the
 * temp-file-then-rename output. */
#include "convert/pipe.h"
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
    o->wopts.row_group_rows = CV_ROW_GROUP_ROWS;
}

typedef struct run {
    const cv_opts *o;
    cv_stats *st;
    cv__src src;
    cv_schema *s;
    pq_writer *w;
    js_parser *p;
    int *req, nreq;
    int *map; /* CSV: header field -> column, -1 = ignored */
    pq_column_spec *spec;
    uint64_t t0, last;
    /* speculative inference (see cv_convert) */
    int tracking;
    int64_t printed, quiet_until; /* rejects already shown by an aborted attempt */
} run;

#define SPECULATE_RECORDS 20000
enum { REC_DIVERGED = 1 };

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

/* Show a rejected record (the pipeline counts them). */
static void reject(void *arg, int64_t recno, int64_t line, const char *why)
{
    run *r = arg;
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

static void on_progress(void *arg, int64_t records)
{
    progress(arg, "converting", records, 0);
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

/* All records through the pipeline: 0 = written or rejected; REC_DIVERGED
 * = stopped because the speculative schema does not hold; -1 = error. */
static int write_pass(run *r, char *err, size_t errlen)
{
    cv__plan pl = {r->o, r->s, r->map, r->src.fmt != CV_NDJSON ? r->src.nhead : 0, r->tracking,
                   r->quiet_until};
    cv__sink sk = {reject, on_progress, r};
    int64_t rejected, diverged;
    int rc = cv__pipe_run(&r->src, &pl, r->s, r->spec, r->w, cv__threads(r->o->threads), &sk,
                          &rejected, &diverged, err, errlen);
    r->st->rejected += rejected;
    progress(r, "", 0, 1);
    if (rc == CV_PIPE_DIVERGED) {
        r->quiet_until = diverged;
        return REC_DIVERGED;
    }
    return rc == CV_PIPE_ERR ? -1 : 0;
}

/* Create the writer on the temp path for the current schema r->s. */
static int start_writer(run *r, const char *tmp, char *err, size_t errlen)
{
    int nc = cv_schema_ncols(r->s), ret = -1;
    free(r->spec);
    r->spec = ut_calloc((size_t)nc + 1, sizeof *r->spec);
    pq_column_spec *spec = r->spec;
    free(r->req);
    free(r->map);
    r->map = NULL;
    r->req = ut_calloc((size_t)nc + 1, sizeof *r->req);
    r->nreq = 0;
    for (int i = 0; i < nc; i++) {
        spec[i].name = r->s->c[i].name;
        spec[i].type = r->s->c[i].type;
        spec[i].optional = !r->s->c[i].required;
        if (r->s->c[i].required) r->req[r->nreq++] = i;
    }
    r->st->ncols = nc;
    if (r->src.fmt != CV_NDJSON && csv_map(r, err, errlen)) goto fail;
    r->w = pq_writer_create(tmp, spec, nc, &r->o->wopts, err, errlen);
    if (!r->w) goto fail;
    pq_writer_set_kv(r->w, "sluice.source", io_name(r->src.in));
    ret = 0;
fail:
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
    free(r.spec);
    free(r.req);
    free(r.map);
    free(tmp);
    return ret;
}
