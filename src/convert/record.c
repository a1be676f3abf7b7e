/* The workers' shredder: one chunk's records into a (memory) Parquet writer,
 * with the speculative-schema check.  Each worker has its own cv__shred: a
 * copy of the schema (the lookup hints and kind bits change as it goes), a
 * JSON parser and per-column scratch. */
#include "convert/pipe.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cv__shred {
    const cv__plan *pl;
    cv_schema *s;  /* own copy */
    unsigned *k0;  /* kinds at the start of every chunk */
    pq_writer *w;
    js_parser *p;
    int64_t *stamp;
    int *req, nreq;
    int64_t gen;   /* record attempt counter for stamps */
    int *pcol, npend; /* pending kind bits of the current record */
    unsigned *pk;
    /* the current record */
    const char *rec;
    size_t len;
    const char *bytes;
    const cv__fld *f;
};

enum { REC_OK = 0, REC_BAD = -1, REC_DIVERGED = 1, REC_REDO = 2 };

cv__shred *cv__shred_create(const cv__plan *pl)
{
    cv__shred *sh = ut_calloc(1, sizeof *sh);
    int nc = cv_schema_ncols(pl->s);
    sh->pl = pl;
    sh->s = cv_schema_create();
    sh->k0 = ut_calloc((size_t)nc + 1, sizeof *sh->k0);
    sh->stamp = ut_calloc((size_t)nc + 1, sizeof *sh->stamp);
    sh->req = ut_calloc((size_t)nc + 1, sizeof *sh->req);
    sh->pcol = ut_calloc((size_t)nc + 1, sizeof *sh->pcol);
    sh->pk = ut_calloc((size_t)nc + 1, sizeof *sh->pk);
    for (int i = 0; i < nc; i++) {
        const cv__col *c = &pl->s->c[i];
        int rc = cv__add(sh->s, c->name, c->len, c->type, c->required);
        assert(rc == i);
        (void)rc;
        sh->k0[i] = c->kinds;
        sh->stamp[i] = -1;
        if (c->required) sh->req[sh->nreq++] = i;
    }
    sh->p = js_parser_create(pl->o->max_record, pl->o->max_depth);
    return sh;
}

void cv__shred_destroy(cv__shred *sh)
{
    if (!sh) return;
    cv_schema_destroy(sh->s);
    js_parser_destroy(sh->p);
    free(sh->k0);
    free(sh->stamp);
    free(sh->req);
    free(sh->pcol);
    free(sh->pk);
    free(sh);
}

static int unknown(cv__shred *sh, const char *key, size_t n, char *why, size_t whylen)
{
    int show = n > 64 ? 64 : (int)n;
    if (sh->pl->o->schema)
        return ut_err(why, whylen, "key '%.*s' is not in --schema (see --ignore-unknown)", show, key);
    return ut_err(why, whylen,
                  "key '%.*s' was not seen in the first %lld records used to infer the schema "
                  "(raise --sample or use --ignore-unknown)",
                  show, key, (long long)sh->pl->o->sample);
}

/* After the keys of a JSON record: required columns present?  Then the
 * outcome of the kinds held back while tracking. */
static int json_finish(cv__shred *sh, int64_t gen, int hold, int newkey, char *why, size_t whylen)
{
    for (int i = 0; i < sh->nreq; i++)
        if (sh->stamp[sh->req[i]] != gen) {
            ut_err(why, whylen, "required column '%s' is missing", sh->s->c[sh->req[i]].name);
            return REC_BAD;
        }
    if (!hold) return REC_OK;
    int diverged = newkey;
    for (int i = 0; i < sh->npend; i++)
        diverged |= cv__apply_kinds(&sh->s->c[sh->pcol[i]], sh->pk[i]);
    return diverged ? REC_DIVERGED : REC_REDO;
}

/* Shred one NDJSON record: REC_OK, REC_BAD (reason in why), and when
 * tracking: REC_DIVERGED (the record widens the schema) or REC_REDO (its
 * kinds were new but did not change any type: shred it again). */
static int json_record(cv__shred *sh, char *why, size_t whylen)
{
    js_field f;
    int rc, pos = 0, newkey = 0, hold = 0, tracking = sh->pl->tracking;
    int64_t gen = ++sh->gen;
    sh->npend = 0;
    if (js_obj_begin(sh->p, sh->rec, sh->len, why, whylen)) return REC_BAD;
    while ((rc = js_obj_next(sh->p, &f, why, whylen)) == 1) {
        int c = cv__find_at(sh->s, f.key, f.key_len, pos++);
        if (c < 0) {
            if (tracking) {
                newkey = hold = 1;
                continue;
            }
            if (sh->pl->o->ignore_unknown) continue;
            unknown(sh, f.key, f.key_len, why, whylen);
            return REC_BAD;
        }
        if (sh->stamp[c] == gen) {
            int show = f.key_len > 64 ? 64 : (int)f.key_len;
            ut_err(why, whylen, "duplicate key '%.*s'", show, f.key);
            return REC_BAD;
        }
        sh->stamp[c] = gen;
        cv__col *col = &sh->s->c[c];
        unsigned k = 0;
        /* a string into a timestamp column is checked by the put itself */
        int by_put = f.v.kind == JS_STRING && col->type == PQ_TIMESTAMP;
        if (tracking && (!by_put || hold)) k = cv__track_json(col, &f.v);
        if (!k && !hold) {
            if (!cv__put_json(sh->w, c, col, &f.v, why, whylen)) continue;
            if (!tracking || !(k = cv__track_json(col, &f.v))) return REC_BAD;
        }
        if (k) {
            sh->pcol[sh->npend] = c;
            sh->pk[sh->npend++] = k;
            hold = 1;
        }
    }
    if (rc < 0) return REC_BAD;
    return json_finish(sh, gen, hold, newkey, why, whylen);
}

static int csv_record(cv__shred *sh, char *why, size_t whylen)
{
    const cv__plan *pl = sh->pl;
    if (pl->tracking) {
        int diverged = 0;
        for (int i = 0; i < pl->nhead; i++) {
            cv__col *c = &sh->s->c[pl->map[i]];
            if (c->kinds & K_STR) continue;
            const cv__fld *f = &sh->f[i];
            unsigned k = cv__track_text(c, sh->bytes + f->off, f->len, f->quoted);
            if (k) diverged |= cv__apply_kinds(c, k);
        }
        if (diverged) return REC_DIVERGED;
    }
    for (int i = 0; i < pl->nhead; i++) {
        int c = pl->map[i];
        if (c < 0) continue;
        const cv__fld *f = &sh->f[i];
        if (cv__put_text(sh->w, c, &sh->s->c[c], sh->bytes + f->off, f->len, f->quoted, why,
                         whylen))
            return REC_BAD;
    }
    return REC_OK;
}

static void add_reject(cv__shred *sh, cv__result *res, int64_t recno, int64_t line,
                       const char *why, size_t n)
{
    res->rejected++;
    if (recno <= sh->pl->quiet_until || res->nshown >= sh->pl->o->max_report) return;
    uint32_t len = (uint32_t)(n > 4096 ? 4096 : n);
    ut_buf_put(&res->shown, &recno, sizeof recno);
    ut_buf_put(&res->shown, &line, sizeof line);
    ut_buf_put(&res->shown, &len, sizeof len);
    ut_buf_put(&res->shown, why, len);
    res->nshown++;
}

/* One record: -1 = stop the chunk (diverged or writer error), else 0. */
static int one(cv__shred *sh, const cv__chunk *c, int i, cv__result *res)
{
    char why[512];
    const cv__rec *r = &c->r[i];
    int64_t recno = c->first + i;
    if (r->bad) {
        add_reject(sh, res, recno, r->line, c->bytes.p ? (const char *)c->bytes.p + r->off : "",
                   r->len);
        return 0;
    }
    sh->rec = c->bytes.p ? (const char *)c->bytes.p + r->off : "";
    sh->len = r->len;
    sh->f = c->f ? c->f + r->field : NULL; /* NDJSON chunks have no fields */
    int rc;
    do {
        rc = sh->pl->nhead ? csv_record(sh, why, sizeof why) : json_record(sh, why, sizeof why);
        if (rc != REC_OK) pq_writer_cancel_row(sh->w);
    } while (rc == REC_REDO);
    if (rc == REC_DIVERGED) {
        res->diverged = recno;
        return -1;
    }
    if (rc == REC_BAD) {
        add_reject(sh, res, recno, r->line, why, strlen(why));
        return 0;
    }
    if (pq_writer_end_row(sh->w)) {
        res->failed = 1;
        snprintf(res->err, sizeof res->err, "%s", pq_writer_error(sh->w));
        return -1;
    }
    return 0;
}

void cv__shred_chunk(cv__shred *sh, pq_writer *w, const cv__chunk *c, cv__result *res)
{
    int nc = cv_schema_ncols(sh->s);
    res->rejected = 0;
    res->nshown = 0;
    ut_buf_reset(&res->shown);
    res->diverged = 0;
    res->failed = 0;
    res->err[0] = 0;
    sh->w = w;
    sh->bytes = c->bytes.p ? (const char *)c->bytes.p : "";
    for (int i = 0; i < nc; i++) sh->s->c[i].kinds = sh->k0[i];
    for (int i = 0; i < c->n; i++)
        if (one(sh, c, i, res)) break;
    for (int i = 0; i < nc; i++) res->kinds[i] = sh->s->c[i].kinds;
}
