/* Object walking (js_obj_*), whole-value validation, array splitting. */
#include "json/json_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

js_parser *js_parser_create(size_t max_record, int max_depth)
{
    js_parser *p = ut_calloc(1, sizeof *p);
    p->max_record = max_record ? max_record : JS_MAX_RECORD_DEFAULT;
    if (max_depth <= 0) max_depth = JS_MAX_DEPTH_DEFAULT;
    if (max_depth > JS_MAX_DEPTH_LIMIT) max_depth = JS_MAX_DEPTH_LIMIT;
    p->max_depth = max_depth;
    p->stack = ut_malloc((size_t)max_depth + 1);
    p->state = 2;
    p->astate = 2;
    return p;
}

void js_parser_destroy(js_parser *p)
{
    if (!p) return;
    free(p->scratch);
    free(p->stack);
    free(p);
}

const char *js_kind_name(js_kind k)
{
    static const char *names[] = {"null", "bool", "int", "double", "string", "object", "array"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void skip_bom_ws(js__cur *c)
{
    if (c->len >= 3 && !memcmp(c->s, "\xEF\xBB\xBF", 3)) c->pos = 3;
    js__ws(c);
}

static int not_object(js_parser *p, js__cur *c, char *err, size_t errlen)
{
    js_kind k;
    if (js__skip(p, c, 0, &k, err, errlen)) return -1; /* not JSON at all: say where */
    static const char *what[] = {"null", "a bool", "a number", "a number", "a string",
                                 "an object", "an array"};
    return ut_err(err, errlen, "record is %s, expected an object", what[k]);
}

ut_errkind js_error_kind(const js_parser *p)
{
    return p->last_kind == UT_ETOODEEP ? UT_ETOODEEP : UT_EINVAL;
}

/* Scratch for the unescaped strings of a record of up to len bytes. */
static void scratch_for(js_parser *p, size_t len)
{
    if (p->scratch_cap < len) {
        size_t cap = p->scratch_cap ? p->scratch_cap : 4096;
        while (cap < len) cap *= 2;
        free(p->scratch);
        p->scratch = ut_malloc(cap);
        p->scratch_cap = cap;
    }
    p->scratch_len = 0;
}

int js_obj_begin(js_parser *p, const char *buf, size_t len, char *err, size_t errlen)
{
    p->last_kind = UT_EINVAL;
    p->state = 2;
    if (len > p->max_record)
        return ut_err(err, errlen, "record is %zu bytes, over the %zu-byte cap", len,
                      p->max_record);
    js__cur c = {buf, len, 0};
    skip_bom_ws(&c);
    if (c.pos >= len) return ut_err(err, errlen, "empty record");
    if (buf[c.pos] != '{') return not_object(p, &c, err, errlen);
    scratch_for(p, len);
    p->buf = buf;
    p->len = len;
    p->pos = c.pos + 1;
    p->state = 0;
    p->at = 0;
    return 0;
}

int js_obj_begin_at(js_parser *p, const char *buf, size_t len, char *err, size_t errlen)
{
    p->last_kind = UT_EINVAL;
    p->state = 2;
    js__cur c = {buf, len, 0};
    if (!len || buf[0] != '{') return js__err_at(&c, err, errlen, "expected '{'");
    scratch_for(p, len);
    p->buf = buf;
    p->len = len;
    p->pos = 1;
    p->state = 0;
    p->at = 1;
    return 0;
}

size_t js_obj_end(const js_parser *p)
{
    return p->pos;
}

/* Decode one value at c->pos (whitespace already skipped). */
static int value(js_parser *p, js__cur *c, js_value *v, char *err, size_t errlen)
{
    if (c->pos >= c->len) return js__err_at(c, err, errlen, "expected a value");
    char ch = c->s[c->pos];
    size_t start = c->pos;
    switch (ch) {
    case '"':
        v->kind = JS_STRING;
        return js__string(p, c, 1, &v->s, &v->n, &v->escaped, err, errlen);
    case '{':
    case '[':
        if (js__skip(p, c, 1, &v->kind, err, errlen)) return -1;
        v->s = c->s + start;
        v->n = c->pos - start;
        v->escaped = 0;
        return 0;
    case 't':
    case 'f':
    case 'n':
        if (js__skip(p, c, 1, &v->kind, err, errlen)) return -1;
        v->b = ch == 't';
        v->s = c->s + start;
        v->n = c->pos - start;
        v->escaped = 0;
        return 0;
    default:
        if (ch == '-' || (ch >= '0' && ch <= '9')) return js__number(c, v, err, errlen);
        char tmp[16], what[64];
        snprintf(what, sizeof what, "unexpected %s, expected a value", js__what(c, tmp));
        return js__err_at(c, err, errlen, what);
    }
}

/* The next key and its ':' from c (p's walk), c->pos at the value: 1, 0 at
 * the end of the object, -1. */
static inline int key_at(js_parser *p, js__cur *c, const char **key, size_t *key_len, char *err,
                         size_t errlen)
{
    if (p->state != 0 && p->state != 1)
        return ut_err(err, errlen, "js_obj_next without js_obj_begin");
    js__ws(c);
    if (c->pos >= c->len) goto unterminated;
    char ch = c->s[c->pos];
    if (ch == '}') {
        c->pos++;
        p->pos = c->pos;
        js__ws(c);
        p->state = 2;
        if (c->pos < c->len && !p->at)
            return js__err_at(c, err, errlen, "unexpected data after the object");
        return 0;
    }
    if (p->state == 1) {
        if (ch != ',') return js__err_at(c, err, errlen, "expected ',' or '}' after value");
        c->pos++;
        js__ws(c);
        if (c->pos >= c->len) goto unterminated;
    }
    if (c->s[c->pos] != '"') {
        p->state = 2;
        return js__err_at(c, err, errlen, "expected '\"' to start a key");
    }
    int esc;
    if (js__string(p, c, 1, key, key_len, &esc, err, errlen)) goto fail;
    js__ws(c);
    if (c->pos >= c->len || c->s[c->pos] != ':') {
        js__err_at(c, err, errlen, "expected ':' after key");
        goto fail;
    }
    c->pos++;
    js__ws(c);
    return 1;
unterminated:
    js__err_at(c, err, errlen, "unterminated object");
fail:
    p->state = 2;
    return -1;
}

int js_obj_key(js_parser *p, const char **key, size_t *key_len, char *err, size_t errlen)
{
    js__cur c = {p->buf, p->len, p->pos};
    int rc = key_at(p, &c, key, key_len, err, errlen);
    if (rc == 1) p->pos = c.pos, p->state = 3;
    return rc;
}

int js_obj_value(js_parser *p, js_value *v, char *err, size_t errlen)
{
    if (p->state != 3) return ut_err(err, errlen, "js_obj_value without js_obj_key");
    js__cur c = {p->buf, p->len, p->pos};
    if (value(p, &c, v, err, errlen)) {
        p->state = 2;
        return -1;
    }
    p->pos = c.pos;
    p->state = 1;
    return 0;
}

int js_obj_value_at(js_parser *p, const char **s, size_t *n, char *err, size_t errlen)
{
    if (p->state != 3) return ut_err(err, errlen, "js_obj_value_at without js_obj_key");
    js__cur c = {p->buf, p->len, p->pos};
    if (c.pos >= c.len) {
        p->state = 2;
        return js__err_at(&c, err, errlen, "expected a value");
    }
    *s = p->buf + p->pos;
    *n = p->len - p->pos;
    p->state = 4;
    return 0;
}

void js_obj_resume(js_parser *p, size_t used)
{
    if (p->state != 4 || used > p->len - p->pos) {
        p->state = 2;
        return;
    }
    p->pos += used;
    p->state = 1;
}

/* js_obj_key then js_obj_value, on one cursor (the walk of every record). */
int js_obj_next(js_parser *p, js_field *f, char *err, size_t errlen)
{
    js__cur c = {p->buf, p->len, p->pos};
    int rc = key_at(p, &c, &f->key, &f->key_len, err, errlen);
    if (rc != 1) return rc;
    if (value(p, &c, &f->v, err, errlen)) {
        p->state = 2;
        return -1;
    }
    p->pos = c.pos;
    p->state = 1;
    return 1;
}

int js_obj_check(js_parser *p, const char *buf, size_t len, int *nfields, char *err,
                 size_t errlen)
{
    int n = 0, rc;
    js_field f;
    if (js_obj_begin(p, buf, len, err, errlen)) return -1;
    while ((rc = js_obj_next(p, &f, err, errlen)) == 1) n++;
    if (rc < 0) return -1;
    if (nfields) *nfields = n;
    return 0;
}

int js_validate(js_parser *p, const char *buf, size_t len, js_kind *kind, char *err,
                size_t errlen)
{
    p->last_kind = UT_EINVAL;
    if (len > p->max_record)
        return ut_err(err, errlen, "value is %zu bytes, over the %zu-byte cap", len,
                      p->max_record);
    js__cur c = {buf, len, 0};
    skip_bom_ws(&c);
    if (js__skip(p, &c, 0, kind, err, errlen)) return -1;
    js__ws(&c);
    if (c.pos < len) return js__err_at(&c, err, errlen, "unexpected data after the value");
    return 0;
}

int js_array_begin(js_parser *p, const char *buf, size_t len, char *err, size_t errlen)
{
    p->astate = 2;
    if (len > ((size_t)1 << 40)) return ut_err(err, errlen, "array body over the cap");
    js__cur c = {buf, len, 0};
    skip_bom_ws(&c);
    if (c.pos >= len || buf[c.pos] != '[')
        return js__err_at(&c, err, errlen, "expected '[' to start an array");
    p->abuf = buf;
    p->alen = len;
    p->apos = c.pos + 1;
    p->astate = 0;
    p->aat = 0;
    return 0;
}

int js_array_begin_at(js_parser *p, const char *buf, size_t len, char *err, size_t errlen)
{
    p->astate = 2;
    js__cur c = {buf, len, 0};
    if (!len || buf[0] != '[') return js__err_at(&c, err, errlen, "expected '[' to start an array");
    p->abuf = buf;
    p->alen = len;
    p->apos = 1;
    p->astate = 0;
    p->aat = 1;
    return 0;
}

size_t js_array_end(const js_parser *p)
{
    return p->apos;
}

/* To the next element: 1 with c->pos at it, 0 after the closing ']', -1. */
static int array_step(js_parser *p, js__cur *c, char *err, size_t errlen)
{
    if (p->astate != 0 && p->astate != 1)
        return ut_err(err, errlen, "js_array_next without js_array_begin");
    js__ws(c);
    if (c->pos >= c->len) goto unterminated;
    if (c->s[c->pos] == ']') {
        c->pos++;
        p->apos = c->pos;
        js__ws(c);
        p->astate = 2;
        if (c->pos < c->len && !p->aat)
            return js__err_at(c, err, errlen, "unexpected data after the array");
        return 0;
    }
    if (p->astate == 1) {
        if (c->s[c->pos] != ',') {
            p->astate = 2;
            return js__err_at(c, err, errlen, "expected ',' or ']' after element");
        }
        c->pos++;
        js__ws(c);
        if (c->pos >= c->len) goto unterminated;
    }
    return 1;
unterminated:
    p->astate = 2;
    return js__err_at(c, err, errlen, "unterminated array");
}

int js_array_next(js_parser *p, const char **elem, size_t *elen, size_t *offset, char *err,
                  size_t errlen)
{
    js__cur c = {p->abuf, p->alen, p->apos};
    int rc = array_step(p, &c, err, errlen);
    if (rc != 1) return rc;
    size_t start = c.pos;
    if (js__skip(p, &c, 0, NULL, err, errlen)) {
        p->astate = 2;
        return -1;
    }
    if (c.pos - start > p->max_record) {
        p->astate = 2;
        return ut_err(err, errlen, "element at byte %zu is %zu bytes, over the %zu-byte cap",
                      start + 1, c.pos - start, p->max_record);
    }
    *elem = c.s + start;
    *elen = c.pos - start;
    if (offset) *offset = start;
    p->apos = c.pos;
    p->astate = 1;
    return 1;
}

int js_array_elem_at(js_parser *p, const char **elem, size_t *elen, char *err, size_t errlen)
{
    js__cur c = {p->abuf, p->alen, p->apos};
    int rc = array_step(p, &c, err, errlen);
    if (rc != 1) return rc;
    *elem = c.s + c.pos;
    *elen = c.len - c.pos;
    p->apos = c.pos;
    p->astate = 3;
    return 1;
}

void js_array_resume(js_parser *p, size_t used)
{
    if (p->astate != 3 || used > p->alen - p->apos) {
        p->astate = 2;
        return;
    }
    p->apos += used;
    p->astate = 1;
}
