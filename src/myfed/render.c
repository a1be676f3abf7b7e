/* myfed predicates: SQLite constraints rendered as a MySQL WHERE term with
 * literals.  The session's sql_mode has NO_BACKSLASH_ESCAPES (checked at
 * connect), so a string literal is '...' with ' doubled and no other byte
 * special; values with NUL or invalid UTF-8 are never pushed.  Blobs are
 * X'..' hex literals, numbers their decimal or double text. */
#include "myfed/myf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Valid UTF-8 without NUL, short enough to push. */
static int text_ok(const char *s, int n)
{
    if (n < 0 || n > MYF_MAX_LITERAL) return 0;
    for (int i = 0; i < n;) {
        size_t len = ut_utf8_len((const uint8_t *)s + i, (size_t)(n - i));
        if (!len || !s[i]) return 0;
        i += (int)len;
    }
    return 1;
}

static void put_string(ut_buf *b, const char *s, int n)
{
    ut_buf_putc(b, '\'');
    for (int i = 0; i < n; i++) {
        if (s[i] == '\'') ut_buf_putc(b, '\'');
        ut_buf_putc(b, (uint8_t)s[i]);
    }
    ut_buf_putc(b, '\'');
}

/* A double as a MySQL double literal: with an exponent, so that MySQL
 * compares in floating point (a plain 1.5 is DECIMAL, compared exactly
 * with a DECIMAL column — not the double SQLite sees). */
static int put_double(ut_buf *b, double d)
{
    char tmp[40];
    if (!isfinite(d)) return 0;
    int n = snprintf(tmp, sizeof tmp, "%.17g", d);
    ut_buf_put(b, tmp, (size_t)n);
    if (!strchr(tmp, 'e')) ut_buf_puts(b, "e0");
    return 1;
}

/* A timestamp value in its canonical lake form (what SQLite sees) as a
 * MySQL 'YYYY-MM-DD HH:MM:SS.ffffff' literal.  *op widened as pgfed does:
 * SQLite orders the texts, MySQL the times, and the two differ inside one
 * second ('...:00Z' sorts after '...:00.5Z'), so range bounds move out by
 * a second and SQLite re-checks. */
static int put_ts(ut_buf *b, myf_kind k, fed_op *op, const fed_val *v)
{
    char tmp[40];
    int64_t us;
    if (v->type != SQLITE_TEXT || v->n < 19 || v->n > 32 || ut_ts_parse(v->p, (size_t)v->n, &us))
        return 0;
    int n = k == MYF_TIMESTAMP ? ut_ts_format(tmp, us) : ut_ts_format_ntz(tmp, us);
    if (n != v->n || memcmp(tmp, v->p, (size_t)n)) return 0; /* only the canonical form */
    if (*op == FED_LT || *op == FED_LE) us += 1000000, *op = FED_LE;
    else if (*op == FED_GT || *op == FED_GE) us -= 1000000, *op = FED_GE;
    n = ut_ts_format_fixed(tmp, us); /* YYYY-MM-DDTHH:MM:SS.ffffffZ */
    if (n != 27) return 0;           /* years past 9999 */
    tmp[10] = ' ';
    put_string(b, tmp, 26);
    return 1;
}

/* One value for column c into b; 1, or 0 if it cannot be pushed. */
static int value_sql(ut_buf *b, const myf_col *c, fed_op *op, const fed_val *v)
{
    int32_t days;
    switch (c->kind) {
    case MYF_INT:
    case MYF_UINT64:
        if (v->type != SQLITE_INTEGER) return 0;
        ut_buf_printf(b, "%lld", (long long)v->i);
        return 1;
    case MYF_FLOAT:
    case MYF_DOUBLE:
    case MYF_DECIMAL:
        /* integers past 2^53 do not survive as a double literal */
        if (v->type == SQLITE_INTEGER && v->i >= -(1LL << 53) && v->i <= (1LL << 53))
            return put_double(b, (double)v->i);
        return v->type == SQLITE_FLOAT && put_double(b, v->d);
    case MYF_DATE:
        if (v->type != SQLITE_TEXT || v->n != 10 || ut_date_parse(v->p, 10, &days)) return 0;
        put_string(b, v->p, 10);
        return 1;
    case MYF_DATETIME:
    case MYF_TIMESTAMP: return put_ts(b, c->kind, op, v);
    case MYF_STRING:
        if (v->type != SQLITE_TEXT || !text_ok(v->p, v->n)) return 0;
        put_string(b, v->p, v->n);
        return 1;
    case MYF_BLOB:
        if (v->type != SQLITE_BLOB || v->n > MYF_MAX_LITERAL) return 0;
        ut_buf_puts(b, "X'");
        for (int i = 0; i < v->n; i++) ut_buf_printf(b, "%02x", (uint8_t)v->p[i]);
        ut_buf_putc(b, '\'');
        return 1;
    default: return 0;
    }
}

static const char *op_sql(fed_op op)
{
    switch (op) {
    case FED_EQ: return " = ";
    case FED_LT: return " < ";
    case FED_LE: return " <= ";
    case FED_GT: return " > ";
    case FED_GE: return " >= ";
    default: return " ? ";
    }
}

/* The column as compared.  String ranges compare bytes (CAST AS BINARY:
 * no collation, no padding), which is SQLite's BINARY order over UTF-8;
 * equality keeps the column's collation so an index serves it. */
static void col_expr(ut_buf *b, const char *col, const myf_col *c, fed_op op)
{
    int range = op == FED_LT || op == FED_LE || op == FED_GT || op == FED_GE;
    if (c->kind == MYF_STRING && range) {
        ut_buf_puts(b, "CAST(");
        fed_quote_ident(b, col);
        ut_buf_puts(b, " AS BINARY)");
    } else {
        fed_quote_ident(b, col);
    }
}

/* LIKE 'prefix%': the prefix, or 0 if the pattern is not that form (no
 * other wildcard, no backslash) or MySQL's LIKE may keep fewer rows than
 * SQLite's (ASCII case-insensitive): a case-sensitive collation and ASCII
 * letters in the prefix. */
static int like_prefix(const myf_col *c, const fed_val *v, int *len)
{
    if (v->type != SQLITE_TEXT || v->n < 2 || v->p[v->n - 1] != '%' || !text_ok(v->p, v->n))
        return 0;
    int n = v->n - 1, letters = 0;
    for (int i = 0; i < n; i++) {
        char ch = v->p[i];
        if (ch == '%' || ch == '_' || ch == '\\') return 0;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) letters = 1;
    }
    if (letters && !(c->flags & MYF_CI)) return 0;
    *len = n;
    return 1;
}

int myf__pushable(const myf_col *c, fed_op op)
{
    int ts = c->kind == MYF_DATE || c->kind == MYF_DATETIME || c->kind == MYF_TIMESTAMP;
    switch (op) {
    case FED_ISNULL: return !ts; /* MySQL's zero dates are not NULL there, but here */
    case FED_NOTNULL: return 1;
    case FED_LIKE: return c->kind == MYF_STRING && (c->flags & MYF_UTF8);
    case FED_LT:
    case FED_LE:
    case FED_GT:
    case FED_GE:
        if (c->kind == MYF_STRING) return (c->flags & MYF_UTF8) != 0;
        /* fall through */
    case FED_EQ:
    case FED_IN:
        return c->kind == MYF_INT || c->kind == MYF_UINT64 || c->kind == MYF_FLOAT ||
               c->kind == MYF_DOUBLE || c->kind == MYF_DECIMAL || ts || c->kind == MYF_STRING ||
               c->kind == MYF_BLOB;
    default: return 0;
    }
}

int myf__render_pred(ut_buf *b, const myf_col *c, fed_op op, const fed_val *vals, int nvals)
{
    ut_buf term = {0};
    int ok = 0, plen = 0;
    if (!myf__pushable(c, op)) goto done;
    if (op == FED_ISNULL || op == FED_NOTNULL) {
        fed_quote_ident(&term, c->name);
        ut_buf_puts(&term, op == FED_ISNULL ? " IS NULL" : " IS NOT NULL");
        ok = 1;
    } else if (op == FED_IN) {
        if (nvals < 1 || nvals > MYF_MAX_IN) goto done;
        col_expr(&term, c->name, c, FED_EQ);
        ut_buf_puts(&term, " IN (");
        for (int i = 0; i < nvals; i++) {
            fed_op eq = FED_EQ;
            if (i) ut_buf_puts(&term, ", ");
            if (!value_sql(&term, c, &eq, &vals[i])) goto done;
        }
        ut_buf_putc(&term, ')');
        ok = 1;
    } else if (op == FED_LIKE) {
        if (nvals != 1 || !like_prefix(c, &vals[0], &plen)) goto done;
        fed_quote_ident(&term, c->name);
        ut_buf_puts(&term, " LIKE ");
        put_string(&term, vals[0].p, plen + 1); /* with its % */
        ok = 1;
    } else if (nvals == 1) {
        ut_buf v = {0};
        fed_op o = op;
        if (value_sql(&v, c, &o, &vals[0])) {
            col_expr(&term, c->name, c, o);
            ut_buf_puts(&term, op_sql(o));
            ut_buf_put(&term, v.p, v.len);
            ok = 1;
        }
        ut_buf_free(&v);
    }
done:
    if (ok) ut_buf_put(b, term.p, term.len);
    ut_buf_free(&term);
    return ok;
}

int myf__exact(const myf_col *c, fed_op op, const fed_val *rhs)
{
    int rhs_type = rhs ? rhs->type : 0;
    if (!myf__pushable(c, op)) return 0;
    switch (op) {
    case FED_ISNULL: return 1;
    case FED_NOTNULL: /* zero dates are NULL here only */
        return c->kind != MYF_DATE && c->kind != MYF_DATETIME && c->kind != MYF_TIMESTAMP;
    case FED_EQ:
    case FED_LT:
    case FED_LE:
    case FED_GT:
    case FED_GE:
        if (c->kind == MYF_INT) return rhs_type == SQLITE_INTEGER;
        if (c->kind == MYF_BLOB) return rhs_type == SQLITE_BLOB && rhs->n <= MYF_MAX_LITERAL;
        if (c->kind != MYF_STRING || rhs_type != SQLITE_TEXT || !text_ok(rhs->p, rhs->n))
            return 0;
        if (op != FED_EQ) return (c->flags & MYF_UTF8) != 0; /* bytes, as SQLite */
        /* = under the column's collation: exact only when it is bytes, unpadded */
        return (c->flags & (MYF_UTF8 | MYF_BIN | MYF_NOPAD)) == (MYF_UTF8 | MYF_BIN | MYF_NOPAD);
    default: return 0; /* IN: values unknown at plan time; LIKE: MySQL's differs */
    }
}
