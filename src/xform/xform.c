/* The transform steps (order and outcomes in xform.h).
 *
 *   record ──► walk its top-level fields into the run (keys and values
 *   copied into two arenas, offsets only while copying) ──► lowercase_keys,
 *   rename (key edits in place; a collision fails) ──► require, filters
 *   (lookups over the fields) ──► drop, set (marks) ──► nothing changed?
 *   KEEP : rewrite the object into run->out (capped at max_record).
 *
 * A run's buffers grow to the largest record seen and are reused. */
#include "xform/xf_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XF_MAX_NAME 1024 /* bytes of a key named in a step */
#define KEYSET_BITS 13    /* hash set of 8192 slots >= 2 * XF_MAX_FIELDS */

struct xf_program {
    int lowercase;
    char **rename_from, **rename_to;
    int nrename;
    char **require;
    int nrequire;
    xf__pred *drop_where, *keep_where;
    int ndrop_where, nkeep_where;
    char **drop;
    int ndrop;
    char **set_key, **set_json; /* set_json: the value as JSON text */
    int nset;
};

typedef struct field {
    size_t key, key_len; /* in run->keys */
    size_t val, val_len; /* in run->vals: strings unescaped, others raw JSON */
    js_value v;          /* v.s set once the walk is done */
    int gone;            /* dropped */
    int set;             /* 1 + index of the set entry that replaced the value */
} field;

struct xf_run {
    const xf_program *x;
    js_parser *p;
    size_t max_record;
    field *f;
    int nf, capf;
    ut_buf keys, vals, out;
    int slot[1 << KEYSET_BITS]; /* lowercase collisions: 1 + field index */
};

/* ---- compile ------------------------------------------------------------- */

static char **copy_names(const char *const *v, int n, const char *step, ut_error *e)
{
    if (n > XF_MAX_STEPS) {
        ut_fail(e, UT_EINVAL, "%s: more than %d entries", step, XF_MAX_STEPS);
        return NULL;
    }
    char **out = ut_calloc((size_t)n + 1, sizeof *out);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        if (!len || len > XF_MAX_NAME) {
            ut_fail(e, UT_EINVAL, "%s[%d]: a key name is 1 to %d bytes", step, i, XF_MAX_NAME);
            for (int k = 0; k < i; k++) free(out[k]);
            free(out);
            return NULL;
        }
        out[i] = ut_strdup(v[i]);
    }
    return out;
}

static void free_names(char **v, int n)
{
    if (!v) return;
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static xf__pred *compile_preds(const char *const *v, int n, const char *step, ut_error *e)
{
    if (n > XF_MAX_STEPS) {
        ut_fail(e, UT_EINVAL, "%s: more than %d entries", step, XF_MAX_STEPS);
        return NULL;
    }
    xf__pred *p = ut_calloc((size_t)n + 1, sizeof *p);
    for (int i = 0; i < n; i++) {
        char msg[300];
        if (xf__pred_parse(v[i], &p[i], msg, sizeof msg)) {
            ut_fail(e, UT_EINVAL, "%s[%d] '%.200s': %s", step, i, v[i], msg);
            free(p);
            return NULL;
        }
    }
    return p;
}

/* A set value: itself when it is JSON, else a JSON string of the text. */
static char *set_value_json(const char *text)
{
    js_parser *p = js_parser_create(0, 0);
    char msg[200];
    int is_json = text[0] && js_validate(p, text, strlen(text), NULL, msg, sizeof msg) == 0;
    js_parser_destroy(p);
    if (is_json) return ut_strdup(text);
    ut_buf b = {0};
    ut_json_str(&b, text, strlen(text));
    ut_buf_putc(&b, 0);
    return (char *)b.p; /* the buffer's bytes are the string now */
}

static int compile_renames(xf_program *x, const xf_spec *s, ut_error *e)
{
    x->nrename = s->nrename;
    if (!(x->rename_from = copy_names(s->rename_from, s->nrename, "rename", e))) return -1;
    if (!(x->rename_to = copy_names(s->rename_to, s->nrename, "rename", e))) return -1;
    for (int i = 0; i < s->nrename; i++)
        for (int k = 0; k < i; k++)
            if (!strcmp(x->rename_from[i], x->rename_from[k]) ||
                !strcmp(x->rename_to[i], x->rename_to[k]))
                return ut_fail(e, UT_EINVAL, "rename: '%s' → '%s' and '%s' → '%s' collide",
                               x->rename_from[k], x->rename_to[k], x->rename_from[i],
                               x->rename_to[i]);
    return 0;
}

static int compile_sets(xf_program *x, const xf_spec *s, ut_error *e)
{
    x->nset = s->nset;
    if (!(x->set_key = copy_names(s->set_key, s->nset, "set", e))) return -1;
    x->set_json = ut_calloc((size_t)s->nset + 1, sizeof *x->set_json);
    for (int i = 0; i < s->nset; i++) x->set_json[i] = set_value_json(s->set_value[i]);
    return 0;
}

xf_program *xf_compile(const xf_spec *s, ut_error *e)
{
    if (!(s->lowercase_keys || s->nrename || s->nrequire || s->ndrop_where || s->nkeep_where ||
          s->ndrop || s->nset)) {
        ut_fail(e, UT_EINVAL, "a transform needs at least one step");
        return NULL;
    }
    xf_program *x = ut_calloc(1, sizeof *x);
    x->lowercase = s->lowercase_keys;
    x->nrequire = s->nrequire, x->ndrop = s->ndrop;
    x->ndrop_where = s->ndrop_where, x->nkeep_where = s->nkeep_where;
    if (compile_renames(x, s, e) ||
        !(x->require = copy_names(s->require, s->nrequire, "require", e)) ||
        !(x->drop = copy_names(s->drop, s->ndrop, "drop", e)) ||
        !(x->drop_where = compile_preds(s->drop_where, s->ndrop_where, "drop_where", e)) ||
        !(x->keep_where = compile_preds(s->keep_where, s->nkeep_where, "keep_where", e)) ||
        compile_sets(x, s, e)) {
        xf_destroy(x);
        return NULL;
    }
    return x;
}

void xf_destroy(xf_program *x)
{
    if (!x) return;
    free_names(x->rename_from, x->nrename);
    free_names(x->rename_to, x->nrename);
    free_names(x->require, x->nrequire);
    free_names(x->drop, x->ndrop);
    free_names(x->set_key, x->nset);
    free_names(x->set_json, x->nset);
    free(x->drop_where);
    free(x->keep_where);
    free(x);
}

/* ---- runs ------------------------------------------------------------------ */

xf_run *xf_run_create(const xf_program *x, size_t max_record, int max_depth)
{
    assert(x);
    xf_run *r = ut_calloc(1, sizeof *r);
    r->x = x;
    r->max_record = max_record ? max_record : (size_t)1 << 20;
    r->p = js_parser_create(r->max_record + 64, max_depth);
    return r;
}

void xf_run_destroy(xf_run *r)
{
    if (!r) return;
    js_parser_destroy(r->p);
    free(r->f);
    ut_buf_free(&r->keys);
    ut_buf_free(&r->vals);
    ut_buf_free(&r->out);
    free(r);
}

static const char *key_of(const xf_run *r, const field *f) { return (const char *)r->keys.p + f->key; }

static field *find(xf_run *r, const char *key, size_t n)
{
    for (int i = 0; i < r->nf; i++) {
        field *f = &r->f[i];
        if (!f->gone && f->key_len == n && !memcmp(key_of(r, f), key, n)) return f;
    }
    return NULL;
}

static const js_value *lookup(void *ctx, const char *key, size_t n)
{
    field *f = find(ctx, key, n);
    return f ? &f->v : NULL;
}

/* Walk the record's fields into r->f.  0, or -1 with a message. */
static int walk(xf_run *r, const char *rec, size_t n, char *msg, size_t msglen)
{
    r->nf = 0;
    ut_buf_reset(&r->keys);
    ut_buf_reset(&r->vals);
    if (js_obj_begin(r->p, rec, n, msg, msglen)) return -1;
    js_field jf;
    int rc;
    while ((rc = js_obj_next(r->p, &jf, msg, msglen)) == 1) {
        if (r->nf >= XF_MAX_FIELDS)
            return ut_err(msg, msglen, "the record has more than %d keys", XF_MAX_FIELDS);
        if (r->nf == r->capf) {
            r->capf = r->capf ? 2 * r->capf : 64;
            r->f = ut_realloc(r->f, (size_t)r->capf * sizeof *r->f);
        }
        field *f = &r->f[r->nf++];
        memset(f, 0, sizeof *f);
        f->key = r->keys.len, f->key_len = jf.key_len;
        ut_buf_put(&r->keys, jf.key, jf.key_len);
        f->v = jf.v;
        f->val = r->vals.len, f->val_len = jf.v.n;
        ut_buf_put(&r->vals, jf.v.s, jf.v.n);
    }
    if (rc < 0) return -1;
    for (int i = 0; i < r->nf; i++) r->f[i].v.s = (const char *)r->vals.p + r->f[i].val;
    return 0;
}

static uint32_t hash_key(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* ASCII-lowercase every key; two keys that become one fail the record. */
static int lowercase(xf_run *r, int *changed, char *msg, size_t msglen)
{
    char *k = (char *)r->keys.p;
    for (size_t i = 0; i < r->keys.len; i++)
        if (k[i] >= 'A' && k[i] <= 'Z') k[i] = (char)(k[i] + 32), *changed = 1;
    memset(r->slot, 0, sizeof r->slot);
    const uint32_t mask = (1u << KEYSET_BITS) - 1;
    for (int i = 0; i < r->nf; i++) {
        const field *f = &r->f[i];
        uint32_t h = hash_key(key_of(r, f), f->key_len) & mask;
        for (; r->slot[h]; h = (h + 1) & mask) {
            const field *g = &r->f[r->slot[h] - 1];
            if (g->key_len == f->key_len && !memcmp(key_of(r, g), key_of(r, f), f->key_len))
                return ut_err(msg, msglen, "two keys are '%.*s' ignoring case", (int)f->key_len,
                              key_of(r, f));
        }
        r->slot[h] = i + 1;
    }
    return 0;
}

static int rename_keys(xf_run *r, int *changed, char *msg, size_t msglen)
{
    const xf_program *x = r->x;
    for (int i = 0; i < x->nrename; i++) {
        field *f = find(r, x->rename_from[i], strlen(x->rename_from[i]));
        if (!f) continue;
        size_t tn = strlen(x->rename_to[i]);
        field *g = find(r, x->rename_to[i], tn);
        if (g && g != f)
            return ut_err(msg, msglen, "rename '%s' → '%s': the record has both keys",
                          x->rename_from[i], x->rename_to[i]);
        f->key = r->keys.len, f->key_len = tn;
        ut_buf_put(&r->keys, x->rename_to[i], tn);
        *changed = 1;
    }
    return 0;
}

/* require and the filters: XF_KEEP, XF_DROP or XF_FAIL. */
static xf_result check(xf_run *r, char *msg, size_t msglen)
{
    const xf_program *x = r->x;
    for (int i = 0; i < x->nrequire; i++) {
        const js_value *v = lookup(r, x->require[i], strlen(x->require[i]));
        if (!v || v->kind == JS_NULL) {
            snprintf(msg, msglen, "required key '%s' is %s", x->require[i], v ? "null" : "missing");
            return XF_FAIL;
        }
    }
    for (int i = 0; i < x->ndrop_where; i++) {
        int t = xf__pred_eval(&x->drop_where[i], lookup, r, msg, msglen);
        if (t) return t < 0 ? XF_FAIL : XF_DROP;
    }
    for (int i = 0; i < x->nkeep_where; i++) {
        int t = xf__pred_eval(&x->keep_where[i], lookup, r, msg, msglen);
        if (t <= 0) return t < 0 ? XF_FAIL : XF_DROP;
    }
    return XF_KEEP;
}

static void mark_drops_and_sets(xf_run *r, int *changed)
{
    const xf_program *x = r->x;
    for (int i = 0; i < x->ndrop; i++) {
        field *f = find(r, x->drop[i], strlen(x->drop[i]));
        if (f) f->gone = 1, *changed = 1;
    }
    for (int i = 0; i < x->nset; i++) {
        field *f = find(r, x->set_key[i], strlen(x->set_key[i]));
        if (f) f->set = i + 1;
        *changed = 1;
    }
}

static void put_field(ut_buf *out, const char *key, size_t kn, const char *json, size_t jn, int *first)
{
    if (!*first) ut_buf_putc(out, ',');
    *first = 0;
    ut_json_str(out, key, kn);
    ut_buf_putc(out, ':');
    ut_buf_put(out, json, jn);
}

static int rewrite(xf_run *r, char *msg, size_t msglen)
{
    const xf_program *x = r->x;
    ut_buf *o = &r->out;
    ut_buf_reset(o);
    ut_buf_putc(o, '{');
    int first = 1;
    for (int i = 0; i < r->nf; i++) {
        const field *f = &r->f[i];
        if (f->gone) continue;
        if (f->set) {
            const char *j = x->set_json[f->set - 1];
            put_field(o, key_of(r, f), f->key_len, j, strlen(j), &first);
            continue;
        }
        if (!first) ut_buf_putc(o, ',');
        first = 0;
        ut_json_str(o, key_of(r, f), f->key_len);
        ut_buf_putc(o, ':');
        if (f->v.kind == JS_STRING) ut_json_str(o, f->v.s, f->v.n);
        else ut_buf_put(o, f->v.s, f->v.n);
    }
    for (int i = 0; i < x->nset; i++)
        if (!find(r, x->set_key[i], strlen(x->set_key[i])))
            put_field(o, x->set_key[i], strlen(x->set_key[i]), x->set_json[i],
                      strlen(x->set_json[i]), &first);
    ut_buf_putc(o, '}');
    if (o->len > r->max_record)
        return ut_err(msg, msglen, "the transformed record is %zu bytes, over the %zu-byte limit",
                      o->len, r->max_record);
    return 0;
}

xf_result xf_apply(xf_run *r, const char *rec, size_t n, const char **out, size_t *outn,
                   char *msg, size_t msglen)
{
    int changed = 0;
    if (walk(r, rec, n, msg, msglen)) return XF_FAIL;
    if (r->x->lowercase && lowercase(r, &changed, msg, msglen)) return XF_FAIL;
    if (rename_keys(r, &changed, msg, msglen)) return XF_FAIL;
    xf_result res = check(r, msg, msglen);
    if (res != XF_KEEP) return res;
    mark_drops_and_sets(r, &changed);
    if (!changed) return XF_KEEP;
    if (rewrite(r, msg, msglen)) return XF_FAIL;
    *out = (const char *)r->out.p;
    *outn = r->out.len;
    return XF_CHANGED;
}
