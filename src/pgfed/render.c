/* pgfed predicates: SQLite constraints rendered as a parameterised
 * PostgreSQL WHERE term.  Values never enter the SQL text: each becomes a
 * $n parameter with an explicit cast. */
#include "pgfed/pgf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgf__params_clear(pgf_params *p)
{
    for (int i = 0; i < p->n; i++) free(p->v[i]);
    p->n = 0;
}

int pgf__add_param(pgf_params *p, const void *data, int n, int binary)
{
    if (p->n >= PGF_MAX_PARAMS) return 0;
    char *v = ut_malloc((size_t)n + 1);
    if (n) memcpy(v, data, (size_t)n);
    v[n] = 0;
    p->v[p->n] = v;
    p->len[p->n] = n;
    p->fmt[p->n] = binary;
    return ++p->n;
}

/* Valid UTF-8 without NUL (what a PostgreSQL text value can be). */
static int pg_text_ok(const char *s, int n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (int i = 0; i < n;) {
        unsigned c = u[i];
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (c == 0 || len == 0 || (len == 2 && c < 0xc2) || i + len > n) return 0;
        for (int j = 1; j < len; j++)
            if ((u[i + j] & 0xc0) != 0x80) return 0;
        if (len == 3) {
            unsigned cp = (c & 0x0f) << 12 | (u[i + 1] & 0x3fu) << 6 | (u[i + 2] & 0x3fu);
            if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        } else if (len == 4) {
            unsigned cp = (c & 0x07) << 18 | (u[i + 1] & 0x3fu) << 12 | (u[i + 2] & 0x3fu) << 6 |
                          (u[i + 3] & 0x3fu);
            if (cp < 0x10000 || cp > 0x10ffff) return 0;
        }
        i += len;
    }
    return 1;
}

/* The column as compared: casts that make PostgreSQL compare the value
 * SQLite sees. */
static void col_expr(ut_buf *b, const char *col, pgf_kind k)
{
    ut_buf_puts(b, col);
    if (k == PGF_BOOL) ut_buf_puts(b, "::int4");
    else if (k == PGF_NUMERIC) ut_buf_puts(b, "::float8");
    else if (k == PGF_OTHER) ut_buf_puts(b, "::text");
}

/* One value as "$n::type" in out, its parameter added to p.  *op may be
 * widened (timestamps: < becomes <= one second later, so that PostgreSQL's
 * time order keeps every row SQLite's text order keeps).  1, or 0 if this
 * value cannot be pushed. */
static int value_sql(ut_buf *out, pgf_params *p, pgf_kind k, fed_op *op, const fed_val *v)
{
    char tmp[64];
    int n = 0, num = 0;
    const char *cast = "";
    switch (k) {
    case PGF_INT:
    case PGF_BOOL:
        if (v->type != SQLITE_INTEGER) return 0;
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
        num = pgf__add_param(p, tmp, n, 0);
        cast = "::int8";
        break;
    case PGF_FLOAT8:
    case PGF_FLOAT4:
    case PGF_NUMERIC:
        if (v->type == SQLITE_INTEGER) n = snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
        else if (v->type != SQLITE_FLOAT) return 0;
        else if (v->d > 1.7976931348623157e308) n = snprintf(tmp, sizeof tmp, "Infinity");
        else if (v->d < -1.7976931348623157e308) n = snprintf(tmp, sizeof tmp, "-Infinity");
        else n = snprintf(tmp, sizeof tmp, "%.17g", v->d);
        num = pgf__add_param(p, tmp, n, 0);
        cast = "::float8";
        break;
    case PGF_TEXT:
    case PGF_OTHER:
        if (v->type != SQLITE_TEXT || !pg_text_ok(v->p, v->n)) return 0;
        num = pgf__add_param(p, v->p, v->n, 0);
        cast = "::text";
        break;
    case PGF_TS:
    case PGF_TSTZ: {
        int64_t us;
        if (v->type != SQLITE_TEXT || v->n < 20 || v->n > 32 || ut_ts_parse(v->p, (size_t)v->n, &us))
            return 0;
        n = ut_ts_format(tmp, us);
        if (n != v->n || memcmp(tmp, v->p, (size_t)n)) return 0; /* only the canonical form */
        if (*op == FED_LT || *op == FED_LE) {
            n = ut_ts_format(tmp, us + 1000000);
            *op = FED_LE;
        } else if (*op == FED_GT || *op == FED_GE) {
            n = ut_ts_format(tmp, us - 1000000);
            *op = FED_GE;
        }
        num = pgf__add_param(p, tmp, n, 0);
        cast = k == PGF_TS ? "::timestamp" : "::timestamptz";
        break;
    }
    case PGF_DATE: {
        int32_t days;
        if (v->type != SQLITE_TEXT || v->n != 10 || ut_date_parse(v->p, 10, &days)) return 0;
        n = ut_date_format(tmp, days);
        if (n != 10 || memcmp(tmp, v->p, 10)) return 0;
        num = pgf__add_param(p, tmp, n, 0);
        cast = "::date";
        break;
    }
    case PGF_BYTEA:
        if (v->type != SQLITE_BLOB) return 0;
        num = pgf__add_param(p, v->p, v->n, 1);
        cast = "::bytea";
        break;
    default: return 0;
    }
    if (!num) return 0;
    ut_buf_printf(out, "$%d%s", num, cast);
    return 1;
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

int pgf__render_pred(ut_buf *b, pgf_params *p, const char *col, pgf_kind k, fed_op op,
                     const fed_val *vals, int nvals)
{
    ut_buf term = {0};
    int n0 = p->n, ok = 0;
    if (op == FED_ISNULL || op == FED_NOTNULL) {
        ut_buf_puts(&term, col);
        ut_buf_puts(&term, op == FED_ISNULL ? " IS NULL" : " IS NOT NULL");
        ok = 1;
        goto done;
    }
    if (k == PGF_BPCHAR || op == FED_LIMIT) goto done;
    if (op == FED_IN) {
        if (nvals < 1 || nvals > PGF_MAX_IN) goto done;
        col_expr(&term, col, k);
        ut_buf_puts(&term, " IN (");
        for (int i = 0; i < nvals; i++) {
            fed_op eq = FED_EQ;
            if (i) ut_buf_puts(&term, ", ");
            if (!value_sql(&term, p, k, &eq, &vals[i])) goto done;
        }
        ut_buf_putc(&term, ')');
        ok = 1;
        goto done;
    }
    if (nvals != 1) goto done;
    ut_buf v = {0};
    fed_op o = op;
    if (!value_sql(&v, p, k, &o, &vals[0])) {
        ut_buf_free(&v);
        goto done;
    }
    col_expr(&term, col, k);
    ut_buf_puts(&term, op_sql(o));
    ut_buf_put(&term, v.p, v.len);
    ut_buf_free(&v);
    /* SQLite's BINARY order is byte order: so is collation "C" over UTF-8. */
    if ((k == PGF_TEXT || k == PGF_OTHER) && o != FED_EQ) ut_buf_puts(&term, " COLLATE \"C\"");
    ok = 1;
done:
    if (ok) {
        ut_buf_put(b, term.p, term.len);
    } else {
        while (p->n > n0) free(p->v[--p->n]);
    }
    ut_buf_free(&term);
    return ok;
}

int pgf__exact(pgf_kind k, fed_op op, const fed_val *rhs, int utf8)
{
    int rhs_type = rhs ? rhs->type : 0;
    switch (op) {
    case FED_ISNULL:
    case FED_NOTNULL: /* NaN is not NULL in PostgreSQL but NULL in SQLite */
        return k != PGF_FLOAT8 && k != PGF_FLOAT4 && k != PGF_NUMERIC;
    case FED_EQ:
    case FED_LT:
    case FED_LE:
    case FED_GT:
    case FED_GE:
        if (k == PGF_INT) return rhs_type == SQLITE_INTEGER;
        if (k == PGF_BYTEA) return rhs_type == SQLITE_BLOB;
        if (k == PGF_TEXT && rhs_type == SQLITE_TEXT && pg_text_ok(rhs->p, rhs->n))
            return op == FED_EQ || utf8;
        return 0;
    default: return 0;
    }
}
