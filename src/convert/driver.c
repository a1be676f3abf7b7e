/* cv_convert: the two passes, rejected-record reporting, progress, and the
 * temp-file-then-rename output. */
#include "convert/source.h"

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
    int shown; /* a progress line is on screen */
} run;

static void progress(run *r, const char *phase, int64_t recs, int final)
{
    if (!r->o->progress) return;
    uint64_t now = ut_now_ns();
    if (!final && now - r->last < 250000000ull) return;
    r->last = now;
    if (final) {
        if (r->shown) fputs("\r\033[K", stderr);
        r->shown = 0;
        return;
    }
    double secs = (double)(now - r->t0) / 1e9, mb = (double)io_bytes_out(r->src.in) / 1e6;
    fprintf(stderr, "\r\033[K%s: %lld records, %.1f MB, %.1f MB/s", phase, (long long)recs, mb,
            secs > 0 ? mb / secs : 0.0);
    r->shown = 1;
}

static void reject(run *r, int64_t line, const char *why)
{
    r->st->rejected++;
    if (r->st->rejected > r->o->max_report) return;
    if (r->shown) fputs("\r\033[K", stderr);
    r->shown = 0;
    fprintf(stderr, "%s:%lld: %s\n", io_name(r->src.in), (long long)line, why);
}

/* ---- pass 1 ---------------------------------------------------------------- */

static int infer_pass(run *r, char *err, size_t errlen)
{
    int ret = -1, nh = r->src.nhead;
    cv_infer *inf = cv_infer_create();
    const char **fields = ut_calloc((size_t)nh + 1, sizeof *fields);
    size_t *lens = ut_calloc((size_t)nh + 1, sizeof *lens);
    int *quoted = ut_calloc((size_t)nh + 1, sizeof *quoted);
    int csv = r->src.fmt != CV_NDJSON;
    char tmp[512];
    int64_t seen = 0;
    if (csv && cv_infer_header(inf, r->src.head, r->src.headlen, nh, err, errlen)) goto fail;
    for (;;) {
        int rc = cv__src_next(&r->src, tmp, sizeof tmp);
        if (rc == CV_REC_EOF) break;
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
        if (r->o->sample > 0 && cv_infer_records(inf) >= r->o->sample) break;
    }
    r->s = cv_infer_schema(inf);
    if (cv_schema_ncols(r->s) == 0) {
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

/* Shred one NDJSON record.  0, or -1 with the reason. */
static int json_record(run *r, int64_t recno, char *why, size_t whylen)
{
    js_field f;
    int rc, pos = 0;
    if (js_obj_begin(r->p, r->src.rec, r->src.len, why, whylen)) return -1;
    while ((rc = js_obj_next(r->p, &f, why, whylen)) == 1) {
        int c = cv__find_at(r->s, f.key, f.key_len, pos++);
        if (c < 0) {
            if (r->o->ignore_unknown) continue;
            return unknown(r, f.key, f.key_len, why, whylen);
        }
        if (r->stamp[c] == recno) {
            int show = f.key_len > 64 ? 64 : (int)f.key_len;
            return ut_err(why, whylen, "duplicate key '%.*s'", show, f.key);
        }
        r->stamp[c] = recno;
        if (cv__put_json(r->w, c, &r->s->c[c], &f.v, why, whylen)) return -1;
    }
    if (rc < 0) return -1;
    for (int i = 0; i < r->nreq; i++)
        if (r->stamp[r->req[i]] != recno)
            return ut_err(why, whylen, "required column '%s' is missing", r->s->c[r->req[i]].name);
    return 0;
}

static int csv_record(run *r, char *why, size_t whylen)
{
    for (int i = 0; i < r->src.nhead; i++) {
        int c = r->map[i];
        if (c < 0) continue;
        size_t n;
        int q;
        const char *f = csv_field(r->src.csv, i, &n, &q);
        if (cv__put_text(r->w, c, &r->s->c[c], f, n, q, why, whylen)) return -1;
    }
    return 0;
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
            reject(r, r->src.line, why);
            continue;
        }
        if (csv ? csv_record(r, why, sizeof why) : json_record(r, recno, why, sizeof why)) {
            pq_writer_cancel_row(r->w);
            reject(r, r->src.line, why);
            continue;
        }
        if (pq_writer_end_row(r->w))
            return ut_err(err, errlen, "%s", pq_writer_error(r->w));
    }
    progress(r, "", 0, 1);
    return 0;
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

int cv_convert(const char *in, const char *out, const cv_opts *o, cv_stats *st, char *err,
               size_t errlen)
{
    run r = {0};
    int ret = -1, created = 0;
    char *tmp = NULL;
    pq_column_spec *spec = NULL;
    memset(st, 0, sizeof *st);
    r.o = o;
    r.st = st;
    r.t0 = r.last = ut_now_ns();
    r.p = js_parser_create(o->max_record, o->max_depth);
    cv_format fmt = o->format != CV_AUTO ? o->format : cv_format_from_name(in);
    if (o->schema && !(r.s = cv_schema_parse(o->schema, err, errlen))) goto fail;
    if (cv__src_open(&r.src, in, fmt, !o->schema, o->max_record, err, errlen)) goto fail;
    if (!o->schema) {
        if (infer_pass(&r, err, errlen)) goto fail;
        if (cv__src_rewind(&r.src, err, errlen)) goto fail;
    }
    st->infer_seconds = (double)(ut_now_ns() - r.t0) / 1e9;
    int nc = cv_schema_ncols(r.s);
    st->ncols = nc;
    spec = ut_calloc((size_t)nc, sizeof *spec);
    r.stamp = ut_calloc((size_t)nc, sizeof *r.stamp);
    r.req = ut_calloc((size_t)nc, sizeof *r.req);
    for (int i = 0; i < nc; i++) {
        spec[i].name = r.s->c[i].name;
        spec[i].type = r.s->c[i].type;
        spec[i].optional = !r.s->c[i].required;
        r.stamp[i] = -1;
        if (r.s->c[i].required) r.req[r.nreq++] = i;
    }
    if (r.src.fmt != CV_NDJSON && csv_map(&r, err, errlen)) goto fail;
    size_t tl = strlen(out) + 32;
    tmp = ut_malloc(tl);
    snprintf(tmp, tl, "%s.tmp-%d", out, (int)getpid());
    r.w = pq_writer_create(tmp, spec, nc, &o->wopts, err, errlen);
    if (!r.w) goto fail;
    created = 1;
    pq_writer_set_kv(r.w, "sluice.source", io_name(r.src.in));
    if (write_pass(&r, err, errlen)) goto fail;
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
    free(spec);
    free(tmp);
    return ret;
}
