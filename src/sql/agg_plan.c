/* The aggregate fast path's planner: a tokenizer and parser for exactly the
 * shape agg_int.h describes; anything else is "not this shape" with the
 * reason (the statement then takes SQLite's path unchanged). */
#include "sql/agg_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { T_END, T_ID, T_QID, T_STR, T_NUM, T_OP } tkind;

typedef struct tok {
    tkind k;
    int off, len;
} tok;

typedef struct ps {
    const char *sql;
    tok *t;
    int nt, at;
    sqa_plan *p;
    char *why;
    size_t whylen;
    int failed;
    char alias[SQA_MAX_AGGS + SQA_MAX_GROUPS][SQA_MAX_NAME];
    int nalias;
} ps;

static int no(ps *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int no(ps *s, const char *fmt, ...)
{
    if (!s->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->why, s->whylen, fmt, ap);
        va_end(ap);
    }
    s->failed = 1;
    return -1;
}

/* ---- tokens ------------------------------------------------------------------ */

static int quoted_len(const char *p, char q)
{
    int i = 1;
    for (;;) {
        if (!p[i]) return -1;
        if (p[i] == q) {
            if (p[i + 1] != q) return i + 1;
            i++;
        }
        i++;
    }
}

static int op_len(const char *p)
{
    static const char *two[] = {"<=", ">=", "<>", "!=", "==", "||"};
    for (int i = 0; i < 6; i++)
        if (p[0] == two[i][0] && p[1] == two[i][1]) return 2;
    return strchr("(),*+-/%=<>.;", p[0]) ? 1 : 0;
}

static int lex_one(const char *p, tok *t)
{
    if (isalpha((unsigned char)*p) || *p == '_') {
        while (isalnum((unsigned char)p[t->len]) || p[t->len] == '_') t->len++;
        t->k = T_ID;
    } else if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
        while (isalnum((unsigned char)p[t->len]) || p[t->len] == '.') t->len++;
        t->k = T_NUM;
    } else if (*p == '\'' || *p == '"') {
        t->len = quoted_len(p, *p);
        t->k = *p == '\'' ? T_STR : T_QID;
    } else {
        t->len = op_len(p);
        t->k = T_OP;
    }
    return t->len > 0 ? 0 : -1;
}

static int lex(ps *s)
{
    const char *q = s->sql;
    int i = 0;
    for (;;) {
        while (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r') i++;
        if (q[i] == '-' && q[i + 1] == '-') return no(s, "comments are not read by the fast path");
        if (s->nt >= SQA_MAX_TOKENS - 1) return no(s, "over %d tokens", SQA_MAX_TOKENS);
        tok *t = &s->t[s->nt];
        *t = (tok){T_END, i, 0};
        if (!q[i]) break;
        if (lex_one(q + i, t)) return no(s, "a character the fast path does not read");
        if (t->k == T_OP && t->len == 1 && q[i] == ';') {
            size_t j = strspn(q + i, "; \t\r\n");
            if (q[i + j]) return no(s, "more than one statement");
            *t = (tok){T_END, i, 0};
            break;
        }
        i += t->len;
        s->nt++;
    }
    s->nt++;
    return 0;
}

static const tok *cur(const ps *s) { return &s->t[s->at]; }

static int is_kw(const ps *s, const tok *t, const char *kw)
{
    return t->k == T_ID && (size_t)t->len == strlen(kw) && !strncasecmp(s->sql + t->off, kw, (size_t)t->len);
}

static int is_op(const ps *s, const tok *t, const char *op)
{
    return t->k == T_OP && (size_t)t->len == strlen(op) && !strncmp(s->sql + t->off, op, (size_t)t->len);
}

static int accept_kw(ps *s, const char *kw)
{
    if (!is_kw(s, cur(s), kw)) return 0;
    s->at++;
    return 1;
}

static int accept_op(ps *s, const char *op)
{
    if (!is_op(s, cur(s), op)) return 0;
    s->at++;
    return 1;
}

static int expect_op(ps *s, const char *op)
{
    return accept_op(s, op) ? 0 : no(s, "'%s' expected at offset %d", op, cur(s)->off);
}

/* An identifier (bare or "quoted") into out.  0 or -1. */
static int ident(ps *s, char *out)
{
    const tok *t = cur(s);
    if (t->k != T_ID && t->k != T_QID) return no(s, "a name expected at offset %d", t->off);
    const char *p = s->sql + t->off;
    int j = 0;
    if (t->k == T_ID) {
        if (t->len >= SQA_MAX_NAME) return no(s, "a name over %d bytes", SQA_MAX_NAME - 1);
        memcpy(out, p, (size_t)t->len);
        j = t->len;
    } else {
        for (int i = 1; i < t->len - 1; i++) {
            if (j >= SQA_MAX_NAME - 1) return no(s, "a name over %d bytes", SQA_MAX_NAME - 1);
            out[j++] = p[i];
            if (p[i] == '"') i++;
        }
    }
    out[j] = 0;
    s->at++;
    return 0;
}

static const char *const reserved[] = {
    "select", "from", "where", "group", "by", "having", "order", "limit", "offset", "as",
    "and", "or", "not", "in", "is", "null", "between", "distinct", "join", "on", "union",
    "asc", "desc", "nulls", "first", "last", "like", "case", "when", "then", "else", "end",
    "exists", "cast", "collate", "escape", "glob", "window", "over", "filter", "all",
    "except", "intersect", "natural", "left", "inner", "cross", "using", "values", "with",
    "true", "false", NULL};

static int reserved_word(const ps *s, const tok *t)
{
    for (int i = 0; reserved[i]; i++)
        if (is_kw(s, t, reserved[i])) return 1;
    return 0;
}

/* ---- group expressions and aggregates ------------------------------------------ */

static int find_group(const sqa_plan *p, const sqa_group *g)
{
    for (int i = 0; i < p->ngroups; i++)
        if (p->groups[i].kind == g->kind && p->groups[i].n == g->n &&
            !strcasecmp(p->groups[i].col, g->col))
            return i;
    return -1;
}

/* substr(col, 1, N) | strftime('%Y-%m-%d', col) | date(col), at a function name.
 * 1 parsed into g, 0 not one of them (nothing consumed), -1 refused. */
static int group_call(ps *s, sqa_group *g)
{
    const tok *f = cur(s);
    int sub = is_kw(s, f, "substr"), day = is_kw(s, f, "strftime"), date = is_kw(s, f, "date");
    if (!(sub || day || date) || !is_op(s, &s->t[s->at + 1], "(")) return 0;
    s->at += 2;
    memset(g, 0, sizeof *g);
    if (day) {
        const tok *a = cur(s);
        if (a->k != T_STR || a->len != 10 || strncmp(s->sql + a->off, "'%Y-%m-%d'", 10))
            return no(s, "strftime with a format other than '%%Y-%%m-%%d'");
        s->at++;
        if (expect_op(s, ",")) return -1;
    }
    if (ident(s, g->col)) return -1;
    g->kind = sub ? SQA_G_SUBSTR : SQA_G_DAY;
    if (sub) {
        if (expect_op(s, ",")) return -1;
        const tok *one = cur(s);
        if (one->k != T_NUM || one->len != 1 || s->sql[one->off] != '1')
            return no(s, "substr not from position 1");
        s->at++;
        if (expect_op(s, ",")) return -1;
        const tok *n = cur(s);
        char nb[8] = "";
        if (n->k != T_NUM || n->len > 4) return no(s, "substr length not a small integer");
        memcpy(nb, s->sql + n->off, (size_t)n->len);
        char *end;
        long v = strtol(nb, &end, 10);
        if (*end || v < 1 || v > 1000) return no(s, "substr length not 1..1000");
        g->n = (int)v;
        s->at++;
    }
    return expect_op(s, ")") ? -1 : 1;
}

static const char *const agg_names[] = {"count", "sum", "min", "max", "avg", NULL};

static int agg_name(const ps *s, const tok *t)
{
    for (int i = 0; agg_names[i]; i++)
        if (is_kw(s, t, agg_names[i])) return i + 1;
    return 0;
}

/* An aggregate call at its name: its index in p->aggs (added if new), -1. */
static int agg_call(ps *s)
{
    int k = agg_name(s, cur(s));
    s->at += 2; /* name ( */
    sqa_agg a = {0};
    if (k == 1 && accept_op(s, "*")) a.fn = SQA_COUNT_STAR;
    else {
        int distinct = accept_kw(s, "distinct");
        if (distinct && k != 1) return no(s, "DISTINCT in an aggregate other than count");
        if (ident(s, a.col)) return -1;
        static const sqa_fn fns[] = {0, SQA_COUNT, SQA_SUM, SQA_MIN, SQA_MAX, SQA_AVG};
        a.fn = distinct ? SQA_COUNT_DISTINCT : fns[k];
    }
    if (!is_op(s, cur(s), ")")) return no(s, "an aggregate of something other than a column");
    s->at++;
    for (int i = 0; i < s->p->naggs; i++)
        if (s->p->aggs[i].fn == a.fn && !strcasecmp(s->p->aggs[i].col, a.col)) return i;
    if (s->p->naggs >= SQA_MAX_AGGS) return no(s, "over %d aggregates", SQA_MAX_AGGS);
    s->p->aggs[s->p->naggs] = a;
    return s->p->naggs++;
}

/* ---- expressions over the partial result ------------------------------------------ */

enum { X_ITEM, X_HAVING, X_ORDER };

static int stop_word(const ps *s, const tok *t, int where)
{
    static const char *const stops[] = {"from", "as", "order", "limit", "asc", "desc",
                                        "nulls", "offset", NULL};
    if (t->k == T_END || is_op(s, t, ",")) return 1;
    if (where == X_ITEM && t->k == T_ID && !reserved_word(s, t)) return 0;
    for (int i = 0; stops[i]; i++)
        if (is_kw(s, t, stops[i])) return 1;
    return 0;
}

static int allowed_word(const ps *s, const tok *t, int where)
{
    static const char *const kws[] = {"and", "or", "not", "is", "null", "between", "in", NULL};
    static const char *const fns[] = {"round", "abs", "coalesce", "ifnull", "nullif", NULL};
    for (int i = 0; where == X_HAVING && kws[i]; i++)
        if (is_kw(s, t, kws[i])) return 1;
    for (int i = 0; fns[i]; i++)
        if (is_kw(s, t, fns[i]) && is_op(s, t + 1, "(")) return 1;
    return 0;
}

static int is_alias(const ps *s, const char *name)
{
    for (int i = 0; i < s->nalias; i++)
        if (!strcasecmp(s->alias[i], name)) return 1;
    return 0;
}

/* One reference inside an expression (at an identifier): appended to out as
 * the partial result's column.  *bare_group: the group index when the whole
 * item is this one column.  0 or -1. */
static int reference(ps *s, ut_buf *out, int where)
{
    sqa_group g = {0};
    int r = group_call(s, &g);
    if (r < 0) return -1;
    if (r == 0 && agg_name(s, cur(s)) && is_op(s, &s->t[s->at + 1], "(")) {
        int k = agg_call(s);
        if (k < 0) return -1;
        ut_buf_printf(out, "a%d", k);
        return 0;
    }
    if (r == 0) {
        int at = s->at;
        if (ident(s, g.col)) return -1;
        if (is_op(s, cur(s), "(") || is_op(s, cur(s), "."))
            return no(s, "'%s' is not a function or name the fast path knows", g.col);
        g.kind = SQA_G_COL;
        if (where != X_ITEM && find_group(s->p, &g) < 0 && is_alias(s, g.col)) {
            ut_buf_put(out, s->sql + s->t[at].off, (size_t)s->t[at].len);
            return 0;
        }
    }
    int k = find_group(s->p, &g);
    if (k < 0) return no(s, "'%s' is neither grouped nor aggregated", g.col);
    ut_buf_printf(out, "g%d", k);
    return 0;
}

/* Tokens up to a stop word, references replaced.  0 or -1. */
static int expr(ps *s, ut_buf *out, int where)
{
    int depth = 0, n = 0, operand = 0;
    while (depth > 0 || !stop_word(s, cur(s), where)) {
        const tok *t = cur(s);
        if (!depth && operand && (t->k == T_QID || (t->k == T_ID && !reserved_word(s, t))))
            break; /* a bare alias */
        operand = (t->k != T_OP || is_op(s, t, ")")) && !(t->k == T_ID && reserved_word(s, t)) &&
                  !(t->k == T_ID && allowed_word(s, t, where));
        if (t->k == T_END) return no(s, "unbalanced parentheses");
        ut_buf_putc(out, ' ');
        if (t->k == T_ID && allowed_word(s, t, where)) {
            ut_buf_put(out, s->sql + t->off, (size_t)t->len);
            s->at++;
        } else if (t->k == T_ID || t->k == T_QID) {
            if (reserved_word(s, t) && t->k == T_ID) return no(s, "'%.*s' in an expression", t->len, s->sql + t->off);
            if (reference(s, out, where)) return -1;
        } else {
            if (is_op(s, t, "(")) depth++;
            if (is_op(s, t, ")") && --depth < 0) return no(s, "unbalanced parentheses");
            if (is_op(s, t, ".")) return no(s, "qualified names");
            ut_buf_put(out, s->sql + t->off, (size_t)t->len);
            s->at++;
        }
        n++;
    }
    return n ? 0 : no(s, "an empty expression at offset %d", cur(s)->off);
}

/* ---- WHERE ------------------------------------------------------------------------ */

/* A literal: 'text', a number, -number.  Appended to the plan's literals. */
static int literal(ps *s, ut_buf *lits)
{
    int neg = accept_op(s, "-");
    const tok *t = cur(s);
    if (!(t->k == T_NUM || (t->k == T_STR && !neg)))
        return no(s, "a comparison with something other than a literal at offset %d", t->off);
    if (s->p->nlits >= SQA_MAX_LITS) return no(s, "over %d literals", SQA_MAX_LITS);
    ut_buf_puts(lits, s->p->nlits ? ", " : "SELECT ");
    if (neg) ut_buf_putc(lits, '-');
    ut_buf_put(lits, s->sql + t->off, (size_t)t->len);
    s->p->nlits++;
    s->at++;
    return 0;
}

static sqa_op cmp_op(ps *s)
{
    static const struct { const char *op; sqa_op v; } ops[] = {
        {"=", SQA_EQ}, {"==", SQA_EQ}, {"<>", SQA_NE}, {"!=", SQA_NE}, {"<", SQA_LT},
        {"<=", SQA_LE}, {">", SQA_GT}, {">=", SQA_GE}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (accept_op(s, ops[i].op)) return ops[i].v;
    return 0;
}

static int pred(ps *s, ut_buf *lits)
{
    if (s->p->npreds >= SQA_MAX_PREDS) return no(s, "over %d predicates", SQA_MAX_PREDS);
    sqa_pred *q = &s->p->preds[s->p->npreds];
    if (reserved_word(s, cur(s)) || ident(s, q->col)) return no(s, "a predicate not on a column");
    if (is_op(s, cur(s), "(") || is_op(s, cur(s), ".")) return no(s, "a predicate not on a column");
    q->lit = s->p->nlits;
    if (accept_kw(s, "is")) {
        q->op = accept_kw(s, "not") ? SQA_NOTNULL : SQA_ISNULL;
        if (!accept_kw(s, "null")) return no(s, "IS with something other than NULL");
    } else if (accept_kw(s, "between")) {
        q->op = SQA_BETWEEN;
        if (literal(s, lits) || !accept_kw(s, "and") || literal(s, lits))
            return no(s, "BETWEEN not of two literals");
    } else if (accept_kw(s, "in")) {
        q->op = SQA_IN;
        if (expect_op(s, "(")) return -1;
        do {
            if (literal(s, lits)) return -1;
        } while (accept_op(s, ","));
        if (expect_op(s, ")")) return -1;
    } else {
        q->op = cmp_op(s);
        if (!q->op) return no(s, "a predicate the fast path does not evaluate at offset %d", cur(s)->off);
        if (literal(s, lits)) return -1;
    }
    q->nlit = s->p->nlits - q->lit;
    s->p->npreds++;
    return 0;
}

/* ---- the statement ------------------------------------------------------------------ */

/* Position of GROUP BY at depth 0 (the token after BY), or -1. */
static int find_group_by(const ps *s)
{
    int depth = 0;
    for (int i = 0; i + 1 < s->nt; i++) {
        if (is_op(s, &s->t[i], "(")) depth++;
        if (is_op(s, &s->t[i], ")")) depth--;
        if (!depth && is_kw(s, &s->t[i], "group") && is_kw(s, &s->t[i + 1], "by")) return i + 2;
    }
    return -1;
}

/* Start of select item k (0-based) and the token after it, or -1. */
static int item_span(const ps *s, int k, int *end)
{
    int depth = 0, item = 0, start = 1;
    for (int i = 1; i < s->nt; i++) {
        const tok *t = &s->t[i];
        if (is_op(s, t, "(")) depth++;
        if (is_op(s, t, ")")) depth--;
        int stop = !depth && (is_op(s, t, ",") || is_kw(s, t, "from") || t->k == T_END);
        if (!stop) continue;
        if (item == k) {
            *end = i;
            return start;
        }
        if (!is_op(s, t, ",")) return -1;
        item++;
        start = i + 1;
    }
    return -1;
}

/* Group expression of the tokens [from, end) minus an alias: 0 or -1. */
static int item_group(ps *s, int from, int end, sqa_group *g)
{
    int save = s->at;
    s->at = from;
    int r = group_call(s, g);
    if (r == 0 && !reserved_word(s, cur(s)) && ident(s, g->col) == 0) {
        g->kind = SQA_G_COL;
        r = 1;
    }
    if (r > 0) {
        accept_kw(s, "as");
        if (s->at < end) s->at++; /* the alias */
    }
    int ok = r > 0 && s->at == end;
    s->at = save;
    return ok ? 0 : no(s, "GROUP BY an item that is not a group expression");
}

static int by_position(ps *s, sqa_group *g)
{
    const tok *t = cur(s);
    int k = 0;
    for (int i = 0; i < t->len; i++) {
        char c = s->sql[t->off + i];
        if (c < '0' || c > '9' || k > 1000) return no(s, "GROUP BY of a number");
        k = k * 10 + c - '0';
    }
    int end, from = k > 0 ? item_span(s, k - 1, &end) : -1;
    if (from < 0) return no(s, "GROUP BY a position out of range");
    s->at++;
    return item_group(s, from, end, g);
}

/* GROUP BY name where an item is `expr [AS] name`: that expression (checked
 * at run time: a table column of that name would win). */
static int by_alias(ps *s, sqa_group *g)
{
    for (int k = 0;; k++) {
        int end, from = item_span(s, k, &end);
        if (from < 0) return 0;
        const tok *a = &s->t[end - 1];
        if (end - 1 <= from || (a->k != T_ID && a->k != T_QID)) continue;
        char name[SQA_MAX_NAME];
        int save = s->at;
        s->at = end - 1;
        int bad = ident(s, name);
        s->at = save;
        if (bad) return -1;
        if (strcasecmp(name, g->col)) continue;
        sqa_group x = {0};
        if (item_group(s, from, end, &x)) return -1;
        snprintf(x.alias, sizeof x.alias, "%s", name);
        *g = x;
        return 0;
    }
}

static int group_list(ps *s)
{
    do {
        if (s->p->ngroups >= SQA_MAX_GROUPS) return no(s, "over %d GROUP BY terms", SQA_MAX_GROUPS);
        sqa_group g = {0};
        int r = group_call(s, &g);
        if (r < 0) return -1;
        if (r == 0 && cur(s)->k == T_NUM) {
            if (by_position(s, &g)) return -1;
        } else if (r == 0) {
            if (reserved_word(s, cur(s)) || ident(s, g.col)) return no(s, "GROUP BY of an expression");
            g.kind = SQA_G_COL;
            if (by_alias(s, &g)) return -1;
        }
        if (find_group(s->p, &g) < 0) s->p->groups[s->p->ngroups++] = g;
    } while (accept_op(s, ","));
    const tok *t = cur(s);
    if (!(t->k == T_END || is_kw(s, t, "having") || is_kw(s, t, "order") || is_kw(s, t, "limit")))
        return no(s, "GROUP BY of an expression");
    return 0;
}

/* The output name of an item: AS alias, a bare alias, or its own text. */
static int item_name(ps *s, ut_buf *out, int from, int bare)
{
    char alias[SQA_MAX_NAME];
    const tok *t = cur(s);
    int has = accept_kw(s, "as") || t->k == T_QID || (t->k == T_ID && !reserved_word(s, t));
    if (has) {
        if (cur(s)->k == T_STR) return no(s, "a string as an alias");
        if (ident(s, alias)) return -1;
        if (s->nalias < SQA_MAX_AGGS + SQA_MAX_GROUPS) snprintf(s->alias[s->nalias++], SQA_MAX_NAME, "%s", alias);
        ut_buf_puts(out, " AS ");
        sq__ident(out, alias);
    } else if (bare >= 0) {
        ut_buf_printf(out, " AS \x01%d\x01", bare);
    } else {
        const tok *last = &s->t[s->at - 1];
        char *name = ut_strndup(s->sql + s->t[from].off, (size_t)(last->off + last->len - s->t[from].off));
        ut_buf_puts(out, " AS ");
        sq__ident(out, name);
        free(name);
    }
    return 0;
}

static int items(ps *s, ut_buf *out)
{
    int n = 0;
    do {
        int from = s->at, bare = -1;
        const tok *t = cur(s);
        if ((t->k == T_ID || t->k == T_QID) && stop_word(s, t + 1, X_ITEM + 99) && !agg_name(s, t)) {
            sqa_group g = {.kind = SQA_G_COL};
            if (ident(s, g.col)) return -1;
            bare = find_group(s->p, &g);
            if (bare < 0) return no(s, "'%s' is neither grouped nor aggregated", g.col);
            ut_buf_printf(out, "%sg%d", n ? ", " : "", bare);
        } else {
            if (n) ut_buf_puts(out, ",");
            if (expr(s, out, X_ITEM)) return -1;
        }
        if (item_name(s, out, from, bare)) return -1;
        n++;
    } while (accept_op(s, ","));
    return 0;
}

static int order_by(ps *s, ut_buf *out)
{
    ut_buf_puts(out, " ORDER BY");
    do {
        if (expr(s, out, X_ORDER)) return -1;
        if (accept_kw(s, "asc")) ut_buf_puts(out, " ASC");
        else if (accept_kw(s, "desc")) ut_buf_puts(out, " DESC");
        if (accept_kw(s, "nulls")) {
            if (accept_kw(s, "first")) ut_buf_puts(out, " NULLS FIRST");
            else if (accept_kw(s, "last")) ut_buf_puts(out, " NULLS LAST");
            else return no(s, "NULLS without FIRST or LAST");
        }
        ut_buf_puts(out, ",");
    } while (accept_op(s, ","));
    return 0;
}

static int limit(ps *s, ut_buf *out)
{
    ut_buf_puts(out, " LIMIT ");
    for (int i = 0; i < 2; i++) {
        const tok *t = cur(s);
        if (t->k != T_NUM) return no(s, "LIMIT of something other than a number");
        ut_buf_put(out, s->sql + t->off, (size_t)t->len);
        s->at++;
        if (i == 0 && accept_kw(s, "offset")) ut_buf_puts(out, " OFFSET ");
        else if (i == 0 && accept_op(s, ",")) ut_buf_puts(out, ", ");
        else break;
    }
    return 0;
}

static int from_where(ps *s, ut_buf *lits)
{
    if (!accept_kw(s, "from")) return no(s, "no FROM where the fast path expects it");
    char name[SQA_MAX_NAME];
    if (ident(s, name)) return -1;
    if (accept_op(s, ".")) {
        if (strcasecmp(name, "lake")) return no(s, "a table of schema '%s'", name);
        if (ident(s, name)) return -1;
    }
    snprintf(s->p->table, sizeof s->p->table, "%s", name);
    if (accept_kw(s, "where")) {
        do {
            if (pred(s, lits)) return -1;
        } while (accept_kw(s, "and"));
    }
    return 0;
}

static int parse(ps *s, ut_buf *out, ut_buf *lits)
{
    if (lex(s)) return -1;
    if (!accept_kw(s, "select")) return no(s, "not a SELECT");
    if (is_kw(s, cur(s), "distinct") || is_kw(s, cur(s), "all")) return no(s, "SELECT DISTINCT");
    int gb = find_group_by(s), start = s->at;
    if (gb >= 0) {
        s->at = gb;
        if (group_list(s)) return -1;
        s->at = start;
    }
    ut_buf_puts(out, "SELECT ");
    if (items(s, out)) return -1;
    ut_buf_puts(out, " FROM temp._sq_agg");
    if (from_where(s, lits)) return -1;
    if (gb >= 0) {
        if (!accept_kw(s, "group") || !accept_kw(s, "by")) return no(s, "a clause the fast path does not read");
        s->at = gb;
        if (group_list(s)) return -1; /* again: only to move past it */
    }
    if (s->p->naggs == 0) return no(s, "no aggregate");
    if (accept_kw(s, "having")) {
        if (gb < 0) return no(s, "HAVING without GROUP BY");
        ut_buf_puts(out, " WHERE (");
        if (expr(s, out, X_HAVING)) return -1;
        ut_buf_puts(out, " )");
    }
    int ordered = accept_kw(s, "order");
    if (ordered && !accept_kw(s, "by")) return no(s, "ORDER without BY");
    if (ordered && order_by(s, out)) return -1;
    if (s->p->ngroups && !ordered) ut_buf_puts(out, " ORDER BY ");
    for (int i = 0; i < s->p->ngroups; i++) ut_buf_printf(out, "%sg%d", i ? ", " : "", i);
    if (!s->p->ngroups && ordered) out->len--; /* the last ',' */
    if (accept_kw(s, "limit") && limit(s, out)) return -1;
    if (cur(s)->k != T_END) return no(s, "a clause the fast path does not read at offset %d", cur(s)->off);
    return s->failed ? -1 : 0;
}

int sq__agg_plan(const char *sql, sqa_plan *p, char *why, size_t whylen)
{
    memset(p, 0, sizeof *p);
    size_t n = strlen(sql);
    if (n > SQA_MAX_SQL) {
        ut_err(why, whylen, "statement over %d bytes", SQA_MAX_SQL);
        return 0;
    }
    ps s = {.sql = sql, .p = p, .why = why, .whylen = whylen};
    s.t = ut_calloc(SQA_MAX_TOKENS, sizeof *s.t);
    ut_buf out = {0}, lits = {0};
    int rc = parse(&s, &out, &lits);
    for (int i = 0; rc == 0 && i < s.nalias; i++)
        for (int g = 0; g < p->ngroups; g++)
            if (!strcasecmp(s.alias[i], p->groups[g].col) && strcasecmp(s.alias[i], p->groups[g].alias))
                rc = no(&s, "an alias that names a column");
    free(s.t);
    if (rc) {
        ut_buf_free(&out);
        ut_buf_free(&lits);
        memset(p, 0, sizeof *p);
        return 0;
    }
    ut_buf_putc(&out, 0);
    ut_buf_putc(&lits, 0);
    p->outer = (char *)out.p;
    p->lits = (char *)lits.p;
    return 1;
}

void sq__agg_plan_free(sqa_plan *p)
{
    if (!p) return;
    free(p->outer);
    free(p->lits);
    p->outer = p->lits = NULL;
}
