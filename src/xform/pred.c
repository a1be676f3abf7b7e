/* Predicates of drop_where / keep_where (grammar in xform.h).
 *
 *   text ──► tokens (lex) ──► tree of at most XF_MAX_NODES nodes in a fixed
 *   array (recursive descent; the depth is bounded by the node cap) ──►
 *   eval per record, short-circuit, over the values a lookup hands out.
 *
 * Keys and string literals are copied unquoted into the predicate's arena,
 * which is as big as the longest text allowed, so nothing here allocates. */
#include "xform/xf_int.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum tok_kind {
    T_END,
    T_WORD,   /* a bare key or keyword */
    T_QKEY,   /* "quoted key" */
    T_STR,    /* 'text' */
    T_NUM,
    T_OP,     /* a comparison operator */
    T_LPAREN,
    T_RPAREN,
    T_COMMA
} tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t at;      /* offset in the text (messages say at + 1) */
    uint32_t s, n;  /* T_WORD/T_QKEY/T_STR: arena span; T_NUM: text span */
    xf__op op;
} tok;

typedef struct parser {
    const char *text;
    size_t pos, len;
    xf__pred *p;
    tok t;          /* the current token */
    char *msg;
    size_t msglen;
} parser;

static int fail(parser *ps, const char *what)
{
    snprintf(ps->msg, ps->msglen, "%s at character %zu", what, ps->t.at + 1);
    return -1;
}

static int is_key_char(int c)
{
    return isalnum(c) || c == '_' || c == '$' || c == '@' || c == '.' || c == '-';
}

/* A quoted token (q doubled inside for itself) into the arena. */
static int lex_quoted(parser *ps, char q)
{
    xf__pred *p = ps->p;
    ps->t.s = p->arena_len;
    for (size_t i = ps->pos + 1;; i++) {
        if (i >= ps->len) return fail(ps, q == '"' ? "unterminated quoted key" : "unterminated string");
        if (ps->text[i] == q) {
            if (i + 1 < ps->len && ps->text[i + 1] == q) {
                i++;
            } else {
                ps->pos = i + 1;
                break;
            }
        }
        assert(p->arena_len < sizeof p->arena - 1); /* the text is at most XF_MAX_EXPR */
        p->arena[p->arena_len++] = ps->text[i];
    }
    ps->t.n = p->arena_len - ps->t.s;
    p->arena[p->arena_len] = 0;
    return 0;
}

static int lex_op(parser *ps)
{
    static const struct { const char *s; xf__op op; } ops[] = {
        {"==", XF_EQ}, {"!=", XF_NE}, {"<>", XF_NE}, {"<=", XF_LE},
        {">=", XF_GE}, {"=", XF_EQ},  {"<", XF_LT},  {">", XF_GT}};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        size_t k = strlen(ops[i].s);
        if (ps->pos + k <= ps->len && !memcmp(ps->text + ps->pos, ops[i].s, k)) {
            ps->t.kind = T_OP;
            ps->t.op = ops[i].op;
            ps->pos += k;
            return 0;
        }
    }
    return fail(ps, "unexpected character");
}

static int lex_word(parser *ps)
{
    xf__pred *p = ps->p;
    size_t a = ps->pos;
    while (ps->pos < ps->len && is_key_char((unsigned char)ps->text[ps->pos])) ps->pos++;
    const char *w = ps->text + a;
    size_t n = ps->pos - a;
    char *end = NULL;
    errno = 0;
    if ((isdigit((unsigned char)w[0]) || w[0] == '-' || w[0] == '.')) {
        strtod(w, &end); /* a number literal if it is one whole */
        if (end == w + n) {
            ps->t.kind = T_NUM;
            ps->t.s = (uint32_t)a, ps->t.n = (uint32_t)n;
            return 0;
        }
    }
    ps->t.kind = T_WORD;
    ps->t.s = p->arena_len;
    ps->t.n = (uint32_t)n;
    memcpy(p->arena + p->arena_len, w, n);
    p->arena_len += (uint32_t)n;
    p->arena[p->arena_len] = 0;
    return 0;
}

static int next(parser *ps)
{
    while (ps->pos < ps->len && isspace((unsigned char)ps->text[ps->pos])) ps->pos++;
    ps->t.at = ps->pos;
    if (ps->pos >= ps->len) {
        ps->t.kind = T_END;
        return 0;
    }
    char c = ps->text[ps->pos];
    if (c == '"' || c == '\'') {
        ps->t.kind = c == '"' ? T_QKEY : T_STR;
        return lex_quoted(ps, c);
    }
    if (c == '(' || c == ')' || c == ',') {
        ps->t.kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
        ps->pos++;
        return 0;
    }
    if (is_key_char((unsigned char)c)) return lex_word(ps);
    return lex_op(ps);
}

static int is_kw(const parser *ps, const char *kw)
{
    return ps->t.kind == T_WORD && ps->t.n == strlen(kw) &&
           !strncasecmp(ps->p->arena + ps->t.s, kw, ps->t.n);
}

static int new_node(parser *ps, xf__node_kind kind)
{
    xf__pred *p = ps->p;
    if (p->nnodes >= XF_MAX_NODES) return fail(ps, "more than 64 terms and operators");
    memset(&p->nodes[p->nnodes], 0, sizeof p->nodes[0]);
    p->nodes[p->nnodes].kind = kind;
    return p->nnodes++;
}

/* The current token as a literal into p->lits. */
static int literal(parser *ps)
{
    xf__pred *p = ps->p;
    if (p->nlits >= (int)(sizeof p->lits / sizeof *p->lits)) return fail(ps, "too many literals");
    xf__lit *l = &p->lits[p->nlits];
    memset(l, 0, sizeof *l);
    if (ps->t.kind == T_STR) {
        l->kind = XF_LIT_STR, l->s = ps->t.s, l->n = ps->t.n;
    } else if (ps->t.kind == T_NUM) {
        char buf[64];
        if (ps->t.n >= sizeof buf) return fail(ps, "number too long");
        memcpy(buf, ps->text + ps->t.s, ps->t.n);
        buf[ps->t.n] = 0;
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (!*end && !errno) {
            l->kind = XF_LIT_INT, l->i = v;
        } else {
            l->kind = XF_LIT_DBL, l->d = strtod(buf, NULL);
            if (!isfinite(l->d)) return fail(ps, "number out of range");
        }
    } else if (is_kw(ps, "true") || is_kw(ps, "false")) {
        l->kind = XF_LIT_BOOL, l->b = is_kw(ps, "true");
    } else if (is_kw(ps, "null")) {
        return fail(ps, "compare with null by 'is null' / 'is not null'");
    } else {
        return fail(ps, "expected a number, a 'string', true or false");
    }
    p->nlits++;
    return next(ps);
}

static int in_list(parser *ps, int n)
{
    xf__node *nd = &ps->p->nodes[n];
    if (next(ps) || (ps->t.kind != T_LPAREN && fail(ps, "expected '(' after in"))) return -1;
    nd->kind = XF_N_IN;
    nd->lit = ps->p->nlits;
    do {
        if (next(ps)) return -1;
        if (nd->nlit >= XF_MAX_IN) return fail(ps, "more than 64 values in one in list");
        if (literal(ps)) return -1;
        if (ps->p->lits[ps->p->nlits - 1].kind == XF_LIT_BOOL)
            return fail(ps, "in lists hold numbers or strings");
        nd->nlit++;
    } while (ps->t.kind == T_COMMA);
    if (ps->t.kind != T_RPAREN) return fail(ps, "expected ',' or ')' in the in list");
    return next(ps);
}

/* key ... : the rest of a term. */
static int term_rest(parser *ps, int n)
{
    xf__node *nd = &ps->p->nodes[n];
    if (is_kw(ps, "exists") || is_kw(ps, "missing")) {
        nd->kind = is_kw(ps, "exists") ? XF_N_EXISTS : XF_N_MISSING;
        return next(ps);
    }
    if (is_kw(ps, "is")) {
        if (next(ps)) return -1;
        int neg = is_kw(ps, "not");
        if (neg && next(ps)) return -1;
        if (!is_kw(ps, "null")) return fail(ps, "expected null after is");
        nd->kind = neg ? XF_N_NOTNULL : XF_N_ISNULL;
        return next(ps);
    }
    if (is_kw(ps, "in")) return in_list(ps, n);
    if (ps->t.kind != T_OP) return fail(ps, "expected an operator, in, exists, missing or is");
    nd->kind = XF_N_CMP;
    nd->op = ps->t.op;
    nd->lit = ps->p->nlits;
    nd->nlit = 1;
    if (next(ps) || literal(ps)) return -1;
    if (ps->p->lits[nd->lit].kind == XF_LIT_BOOL && nd->op != XF_EQ && nd->op != XF_NE)
        return fail(ps, "true and false compare with = and != only");
    return 0;
}

static int expr(parser *ps);

static int unary(parser *ps)
{
    if (is_kw(ps, "not")) {
        int n = new_node(ps, XF_N_NOT);
        if (n < 0 || next(ps)) return -1;
        int a = unary(ps);
        if (a < 0) return -1;
        ps->p->nodes[n].a = a;
        return n;
    }
    if (ps->t.kind == T_LPAREN) {
        if (next(ps)) return -1;
        int a = expr(ps);
        if (a < 0) return -1;
        if (ps->t.kind != T_RPAREN) return fail(ps, "expected ')'");
        return next(ps) ? -1 : a;
    }
    if (ps->t.kind != T_WORD && ps->t.kind != T_QKEY) return fail(ps, "expected a key");
    if (ps->t.kind == T_WORD && (is_kw(ps, "and") || is_kw(ps, "or")))
        return fail(ps, "expected a key");
    int n = new_node(ps, XF_N_CMP);
    if (n < 0) return -1;
    ps->p->nodes[n].key = ps->t.s;
    ps->p->nodes[n].key_len = ps->t.n;
    if (next(ps) || term_rest(ps, n)) return -1;
    return n;
}

static int binary(parser *ps, const char *kw, xf__node_kind kind, int (*sub)(parser *))
{
    int a = sub(ps);
    while (a >= 0 && is_kw(ps, kw)) {
        int n = new_node(ps, kind);
        if (n < 0 || next(ps)) return -1;
        int b = sub(ps);
        if (b < 0) return -1;
        ps->p->nodes[n].a = a, ps->p->nodes[n].b = b;
        a = n;
    }
    return a;
}

static int and_expr(parser *ps) { return binary(ps, "and", XF_N_AND, unary); }
static int expr(parser *ps) { return binary(ps, "or", XF_N_OR, and_expr); }

int xf__pred_parse(const char *text, xf__pred *p, char *msg, size_t msglen)
{
    memset(p, 0, sizeof *p);
    size_t len = strlen(text);
    if (len > XF_MAX_EXPR) return ut_err(msg, msglen, "longer than %d characters", XF_MAX_EXPR);
    parser ps = {.text = text, .len = len, .p = p, .msg = msg, .msglen = msglen};
    if (next(&ps)) return -1;
    if (ps.t.kind == T_END) return ut_err(msg, msglen, "empty condition");
    p->root = expr(&ps);
    if (p->root < 0) return -1;
    if (ps.t.kind != T_END) return fail(&ps, "expected and, or or the end");
    return 0;
}

/* ---- evaluation ------------------------------------------------------------ */

static int cmp_op(xf__op op, int c)
{
    switch (op) {
    case XF_EQ: return c == 0;
    case XF_NE: return c != 0;
    case XF_LT: return c < 0;
    case XF_LE: return c <= 0;
    case XF_GT: return c > 0;
    case XF_GE: return c >= 0;
    }
    return 0;
}

static int num_cmp(const js_value *v, const xf__lit *l)
{
    if (v->kind == JS_INT && l->kind == XF_LIT_INT) return (v->i > l->i) - (v->i < l->i);
    double a = v->kind == JS_INT ? (double)v->i : v->d;
    double b = l->kind == XF_LIT_INT ? (double)l->i : l->d;
    return (a > b) - (a < b);
}

static int str_cmp(const xf__pred *p, const js_value *v, const xf__lit *l)
{
    size_t n = v->n < l->n ? v->n : l->n;
    int c = n ? memcmp(v->s, p->arena + l->s, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return (v->n > l->n) - (v->n < l->n);
}

static const char *lit_type(const xf__lit *l)
{
    return l->kind == XF_LIT_STR ? "a string" : l->kind == XF_LIT_BOOL ? "a boolean" : "a number";
}

/* One value against one literal: 1/0, or -1 on a type mismatch. */
static int cmp_one(const xf__pred *p, const xf__node *nd, const js_value *v, const xf__lit *l,
                   char *msg, size_t msglen)
{
    int num = v->kind == JS_INT || v->kind == JS_DOUBLE;
    if (num && (l->kind == XF_LIT_INT || l->kind == XF_LIT_DBL))
        return cmp_op(nd->op, num_cmp(v, l));
    if (v->kind == JS_STRING && l->kind == XF_LIT_STR) return cmp_op(nd->op, str_cmp(p, v, l));
    if (v->kind == JS_BOOL && l->kind == XF_LIT_BOOL) return cmp_op(nd->op, (v->b != 0) - (l->b != 0));
    snprintf(msg, msglen, "key '%.*s' is %s %s, compared with %s", (int)nd->key_len,
             p->arena + nd->key, v->kind == JS_INT || v->kind == JS_ARRAY || v->kind == JS_OBJECT ? "an" : "a",
             js_kind_name(v->kind), lit_type(l));
    return -1;
}

static int eval(const xf__pred *p, int i, xf__lookup get, void *ctx, char *msg, size_t msglen)
{
    const xf__node *nd = &p->nodes[i];
    if (nd->kind == XF_N_AND || nd->kind == XF_N_OR) {
        int a = eval(p, nd->a, get, ctx, msg, msglen);
        if (a < 0 || a == (nd->kind == XF_N_OR)) return a;
        return eval(p, nd->b, get, ctx, msg, msglen);
    }
    if (nd->kind == XF_N_NOT) {
        int a = eval(p, nd->a, get, ctx, msg, msglen);
        return a < 0 ? a : !a;
    }
    const js_value *v = get(ctx, p->arena + nd->key, nd->key_len);
    switch (nd->kind) {
    case XF_N_EXISTS: return v != NULL;
    case XF_N_MISSING: return v == NULL;
    case XF_N_ISNULL: return v && v->kind == JS_NULL;
    case XF_N_NOTNULL: return v && v->kind != JS_NULL;
    default: break;
    }
    if (!v || v->kind == JS_NULL) return 0;
    if (nd->kind == XF_N_CMP) return cmp_one(p, nd, v, &p->lits[nd->lit], msg, msglen);
    xf__node eq = *nd;
    eq.op = XF_EQ;
    for (int k = 0; k < nd->nlit; k++) {
        int r = cmp_one(p, &eq, v, &p->lits[nd->lit + k], msg, msglen);
        if (r) return r;
    }
    return 0;
}

int xf__pred_eval(const xf__pred *p, xf__lookup get, void *ctx, char *msg, size_t msglen)
{
    assert(p->nnodes > 0 && p->root >= 0 && p->root < p->nnodes);
    return eval(p, p->root, get, ctx, msg, msglen);
}

int xf_check_predicate(const char *text, char *msg, size_t msglen)
{
    xf__pred *p = ut_malloc(sizeof *p);
    int rc = xf__pred_parse(text, p, msg, msglen);
    free(p);
    return rc;
}
