/* Validating skip over any JSON value (iterative, depth-capped). */
#include "json/json_int.h"

#include <stdio.h>
#include <string.h>

const char *js__what(const js__cur *c, char *tmp)
{
    if (c->pos >= c->len) return "end of record";
    unsigned char ch = (unsigned char)c->s[c->pos];
    if (ch >= 0x20 && ch < 0x7f) snprintf(tmp, 16, "'%c'", ch);
    else snprintf(tmp, 16, "byte 0x%02x", ch);
    return tmp;
}

int js__err_at(const js__cur *c, char *err, size_t errlen, const char *what)
{
    if (c->pos >= c->len) return ut_err(err, errlen, "%s: unexpected end of record", what);
    return ut_err(err, errlen, "%s at byte %zu", what, c->pos + 1);
}

static int literal(js__cur *c, const char *word, size_t n, char *err, size_t errlen)
{
    if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n)) {
        char tmp[16];
        char what[64];
        snprintf(what, sizeof what, "unexpected %s", js__what(c, tmp));
        return js__err_at(c, err, errlen, what);
    }
    c->pos += n;
    return 0;
}

/* A scalar value at c->pos (not a container). */
static int scalar(js_parser *p, js__cur *c, js_kind *kind, char *err, size_t errlen)
{
    char ch = c->s[c->pos];
    switch (ch) {
    case '"':
        *kind = JS_STRING;
        return js__string(p, c, 0, NULL, NULL, NULL, err, errlen);
    case 't': *kind = JS_BOOL; return literal(c, "true", 4, err, errlen);
    case 'f': *kind = JS_BOOL; return literal(c, "false", 5, err, errlen);
    case 'n': *kind = JS_NULL; return literal(c, "null", 4, err, errlen);
    default:
        if (ch == '-' || (ch >= '0' && ch <= '9')) {
            js_value v;
            if (js__number(c, &v, err, errlen)) return -1;
            *kind = v.kind;
            return 0;
        }
        char tmp[16], what[64];
        snprintf(what, sizeof what, "unexpected %s, expected a value", js__what(c, tmp));
        return js__err_at(c, err, errlen, what);
    }
}

int js__skip(js_parser *p, js__cur *c, int depth, js_kind *kind, char *err, size_t errlen)
{
    js_kind k_dummy;
    if (!kind) kind = &k_dummy;
    js__ws(c);
    if (c->pos >= c->len) return js__err_at(c, err, errlen, "expected a value");
    char ch = c->s[c->pos];
    if (ch != '{' && ch != '[') return scalar(p, c, kind, err, errlen);
    *kind = ch == '{' ? JS_OBJECT : JS_ARRAY;
    int sp = 0, first = 1;
    if (depth + 1 > p->max_depth) {
        p->last_kind = UT_ETOODEEP;
        return js__err_at(c, err, errlen, "nesting too deep");
    }
    p->stack[sp++] = ch;
    c->pos++;
    for (;;) {
        js__ws(c);
        if (c->pos >= c->len) return js__err_at(c, err, errlen, "unterminated object/array");
        char top = p->stack[sp - 1], close = top == '{' ? '}' : ']';
        ch = c->s[c->pos];
        if (ch == close) {
            c->pos++;
            if (--sp == 0) return 0;
            first = 0;
            continue;
        }
        if (!first) {
            if (ch != ',')
                return js__err_at(c, err, errlen,
                                  top == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
            c->pos++;
            js__ws(c);
            if (c->pos >= c->len) return js__err_at(c, err, errlen, "expected a value");
        }
        if (top == '{') {
            if (c->s[c->pos] != '"') return js__err_at(c, err, errlen, "expected '\"' to start a key");
            if (js__string(p, c, 0, NULL, NULL, NULL, err, errlen)) return -1;
            js__ws(c);
            if (c->pos >= c->len || c->s[c->pos] != ':')
                return js__err_at(c, err, errlen, "expected ':' after key");
            c->pos++;
            js__ws(c);
            if (c->pos >= c->len) return js__err_at(c, err, errlen, "expected a value");
        }
        ch = c->s[c->pos];
        if (ch == '{' || ch == '[') {
            if (depth + sp + 1 > p->max_depth) {
                p->last_kind = UT_ETOODEEP;
                return js__err_at(c, err, errlen, "nesting too deep");
            }
            p->stack[sp++] = ch;
            c->pos++;
            first = 1;
            continue;
        }
        js_kind k;
        if (scalar(p, c, &k, err, errlen)) return -1;
        first = 0;
    }
}
