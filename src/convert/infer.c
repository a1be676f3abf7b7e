/* Schema inference: per-column kind bits widened record by record. */
#include "convert/cv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cv_infer {
    cv_schema *s;
    int64_t records;
    js_field *tmp; /* fields of the record being added */
    int tmpcap;
    int64_t *stamp, gen; /* duplicate-key check */
    int stampcap;
};

cv_infer *cv_infer_create(void)
{
    cv_infer *inf = ut_calloc(1, sizeof *inf);
    inf->s = cv_schema_create();
    return inf;
}

void cv_infer_destroy(cv_infer *inf)
{
    if (!inf) return;
    cv_schema_destroy(inf->s);
    free(inf->tmp);
    free(inf->stamp);
    free(inf);
}

int64_t cv_infer_records(const cv_infer *inf) { return inf->records; }

static unsigned json_kind(const cv__col *c, const js_value *v)
{
    switch (v->kind) {
    case JS_NULL: return K_NULL;
    case JS_BOOL: return K_BOOL;
    case JS_INT: return K_INT;
    case JS_DOUBLE: return K_DOUBLE;
    case JS_STRING:
        if (c->kinds & K_STR) return K_STR;
        return cv__is_ts(v->s, v->n) ? K_TS : K_STR;
    default: return K_NESTED;
    }
}

/* Does the record in inf->tmp[0..nf) repeat a key? */
static int dup_keys(cv_infer *inf, int nf)
{
    cv_schema *s = inf->s;
    if (inf->stampcap < s->n + nf) {
        inf->stampcap = (s->n + nf) * 2;
        inf->stamp = ut_realloc(inf->stamp, (size_t)inf->stampcap * sizeof *inf->stamp);
        for (int i = 0; i < inf->stampcap; i++) inf->stamp[i] = -1;
    }
    int64_t gen = ++inf->gen;
    for (int i = 0; i < nf; i++) {
        const js_field *f = &inf->tmp[i];
        int c = cv__find_at(s, f->key, f->key_len, i);
        if (c >= 0) {
            if (inf->stamp[c] == gen) return 1;
            inf->stamp[c] = gen;
            continue;
        }
        /* a key not seen before: compare with the other new keys */
        for (int j = 0; j < i; j++) {
            const js_field *g = &inf->tmp[j];
            if (g->key_len == f->key_len && !memcmp(g->key, f->key, f->key_len)) return 1;
        }
    }
    return 0;
}

int cv_infer_json(cv_infer *inf, struct js_parser *p, const char *rec, size_t n, char *err,
                  size_t errlen)
{
    int nf = 0, rc;
    if (js_obj_begin(p, rec, n, err, errlen)) return -1;
    for (;;) {
        if (nf == inf->tmpcap) {
            if (nf >= CV_MAX_COLUMNS) return ut_err(err, errlen, "more than %d keys", CV_MAX_COLUMNS);
            inf->tmpcap = inf->tmpcap ? inf->tmpcap * 2 : 64;
            inf->tmp = ut_realloc(inf->tmp, (size_t)inf->tmpcap * sizeof *inf->tmp);
        }
        rc = js_obj_next(p, &inf->tmp[nf], err, errlen);
        if (rc < 0) return -1;
        if (rc == 0) break;
        nf++;
    }
    /* the record is valid: reject duplicate keys (the write pass does), then
     * apply it */
    cv_schema *s = inf->s;
    if (dup_keys(inf, nf)) return ut_err(err, errlen, "duplicate key");
    for (int i = 0; i < nf; i++) {
        const js_field *f = &inf->tmp[i];
        int c = cv__find_at(s, f->key, f->key_len, i);
        if (c < 0) {
            c = cv__add(s, f->key, f->key_len, PQ_STRING, 0);
            if (c < 0)
                return ut_err(err, errlen, "key '%.*s': too long or more than %d columns",
                              (int)(f->key_len > 64 ? 64 : f->key_len), f->key, CV_MAX_COLUMNS);
            if (i < 256) s->hint[i] = c + 1;
        }
        s->c[c].kinds |= json_kind(&s->c[c], &f->v);
    }
    inf->records++;
    return 0;
}

int cv_infer_header(cv_infer *inf, const char *const *names, const size_t *lens, int n,
                    char *err, size_t errlen)
{
    char buf[CV_MAX_NAME + 32];
    for (int i = 0; i < n; i++) {
        size_t len = lens[i] > CV_MAX_NAME ? CV_MAX_NAME : lens[i];
        if (len == 0) len = (size_t)snprintf(buf, sizeof buf, "column_%d", i + 1);
        else memcpy(buf, names[i], len);
        size_t base = len;
        for (int k = 2; cv_schema_find(inf->s, buf, len) >= 0; k++)
            len = base + (size_t)snprintf(buf + base, sizeof buf - base, "_%d", k);
        if (cv__add(inf->s, buf, len, PQ_STRING, 0) < 0)
            return ut_err(err, errlen, "more than %d columns", CV_MAX_COLUMNS);
    }
    return 0;
}

static unsigned kind_of_type(pq_type t)
{
    switch ((int)t) {
    case 0: return K_NULL;
    case PQ_BOOL: return K_BOOL;
    case PQ_INT64: return K_INT;
    case PQ_DOUBLE: return K_DOUBLE;
    case PQ_TIMESTAMP: return K_TS;
    default: return K_STR;
    }
}

void cv_infer_text(cv_infer *inf, const char *const *fields, const size_t *lens,
                   const int *quoted, int n)
{
    cv_schema *s = inf->s;
    if (n > s->n) n = s->n;
    for (int i = 0; i < n; i++) {
        cv__col *c = &s->c[i];
        if (c->kinds & K_STR) continue; /* string is final */
        pq_type t = cv_classify_text(fields[i], lens[i], quoted[i]);
        c->kinds |= kind_of_type(t);
    }
    inf->records++;
}

static pq_type final_type(unsigned k)
{
    k &= ~(unsigned)K_NULL;
    if (!k || (k & (K_STR | K_NESTED))) return PQ_STRING;
    if (k == K_BOOL) return PQ_BOOL;
    if (k == K_INT) return PQ_INT64;
    if (!(k & ~(unsigned)(K_INT | K_DOUBLE))) return PQ_DOUBLE;
    if (k == K_TS) return PQ_TIMESTAMP;
    return PQ_STRING;
}

cv_schema *cv_infer_schema(const cv_infer *inf)
{
    cv_schema *out = cv_schema_create();
    for (int i = 0; i < inf->s->n; i++) {
        const cv__col *c = &inf->s->c[i];
        int k = cv__add(out, c->name, c->len, final_type(c->kinds), 0);
        if (k >= 0) out->c[k].kinds = c->kinds;
    }
    return out;
}

unsigned cv__track_json(const cv__col *c, const js_value *v)
{
    unsigned k;
    switch (v->kind) {
    case JS_NULL: k = K_NULL; break;
    case JS_BOOL: k = K_BOOL; break;
    case JS_INT: k = K_INT; break;
    case JS_DOUBLE: k = K_DOUBLE; break;
    case JS_STRING:
        if (c->kinds & K_STR) return 0;
        k = cv__is_ts(v->s, v->n) ? K_TS : K_STR;
        break;
    default: k = K_NESTED; break;
    }
    return k & ~c->kinds;
}

unsigned cv__track_text(const cv__col *c, const char *s, size_t n, int quoted)
{
    if (c->kinds & K_STR) return 0;
    return kind_of_type(cv_classify_text(s, n, quoted)) & ~c->kinds;
}

int cv__apply_kinds(cv__col *c, unsigned k)
{
    c->kinds |= k;
    return final_type(c->kinds) != c->type;
}
