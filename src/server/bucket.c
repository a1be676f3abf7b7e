/* "bucket" of POST /v1/query: a chart's result aggregated on the server to
 * at most `points` x values, so a chart over a million rows gets a few
 * hundred (the console asks for it when drawing a line, area or bar chart).
 *
 *   {"bucket": {"x": "ts", "y": ["n", "cost"], "points": 500, "agg": "sum"}}
 *
 *   WITH "sluice bucket q" AS (<the query>),
 *        "sluice bucket r" AS (SELECT count(*) n, min(x) lo, max(x) hi FROM q),
 *        "sluice bucket k" AS (the bucket: none when n <= points; numbers:
 *              (hi - lo) / points wide; timestamps / dates: the first prefix of
 *              'YYYY-MM-DDTHH:MM:SS' (second, minute, hour, day, month,
 *              year) with at most `points` values over [lo, hi]; other
 *              text: none)
 *   SELECT <x bucketed> AS x, agg(y1) AS y1, ... FROM "sluice bucket q" AS q,
 *   "sluice bucket k" AS k GROUP BY 1 ORDER BY 1 LIMIT <points, or 10000 for unbucketed text>
 *
 * The CTE names have a space, which no lake table's name has: the query's
 * own tables (CTAS lets a user make one called q, r or k) stay visible in
 * it, where a plain q would shadow them ("circular reference: q").  The
 * query's trailing semicolons and comments are cut (sql_end): a ';' before
 * a last "-- comment" would otherwise end the statement inside the WITH.
 *
 * One statement: q is referenced twice, so SQLite materialises it once.
 * The query's :name parameters stay as they are (bound as before).  Column
 * names are quoted identifiers; agg is one of sum, avg, min, max, count. */
#include "server/sv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET_MAX_POINTS 10000
#define BUCKET_MAX_Y 16
#define BUCKET_NAME_MAX 128

typedef struct bucket {
    char x[BUCKET_NAME_MAX + 1];
    char y[BUCKET_MAX_Y][BUCKET_NAME_MAX + 1];
    int ny;
    int64_t points;
    char agg[8];
} bucket;

static void ident(ut_buf *b, const char *name)
{
    ut_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, (uint8_t)*p);
    }
    ut_buf_putc(b, '"');
}

static int name_of(const js_value *v, char *out, const char *what, char *err, size_t errlen)
{
    if (v->kind != JS_STRING || !v->n || v->n > BUCKET_NAME_MAX || memchr(v->s, 0, v->n))
        return ut_err(err, errlen, "bucket: %s is a column name (1-%d bytes)", what, BUCKET_NAME_MAX);
    memcpy(out, v->s, v->n);
    out[v->n] = 0;
    return 0;
}

static int parse_y(const js_value *v, bucket *b, char *err, size_t errlen)
{
    if (v->kind != JS_ARRAY) return ut_err(err, errlen, "bucket: \"y\" is an array of column names");
    js_parser *a = js_parser_create(0, 3);
    const char *el;
    size_t en, off;
    int rc = js_array_begin(a, v->s, v->n, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_array_next(a, &el, &en, &off, err, errlen)) == 1) {
        js_value s = {.kind = JS_STRING, .s = el + 1, .n = en >= 2 && el[0] == '"' ? en - 2 : 0};
        if (b->ny == BUCKET_MAX_Y) rc = ut_err(err, errlen, "bucket: more than %d y columns", BUCKET_MAX_Y);
        else if (en < 2 || el[0] != '"' || memchr(el + 1, '\\', en - 2)) rc = ut_err(err, errlen, "bucket: \"y\" is an array of column names");
        else if (name_of(&s, b->y[b->ny++], "each y", err, errlen)) rc = -1;
    }
    js_parser_destroy(a);
    return rc < 0 ? -1 : 0;
}

static int parse(const char *json, bucket *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    b->points = 500;
    snprintf(b->agg, sizeof b->agg, "sum");
    js_parser *p = js_parser_create(0, 4);
    js_field f;
    int rc = js_obj_begin(p, json, strlen(json), err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        if (f.key_len == 1 && f.key[0] == 'x') rc = name_of(&f.v, b->x, "\"x\"", err, errlen) ? -1 : 1;
        else if (f.key_len == 1 && f.key[0] == 'y') rc = parse_y(&f.v, b, err, errlen) ? -1 : 1;
        else if (f.key_len == 6 && !memcmp(f.key, "points", 6) && f.v.kind == JS_INT) b->points = f.v.i;
        else if (f.key_len == 3 && !memcmp(f.key, "agg", 3) && f.v.kind == JS_STRING && f.v.n < sizeof b->agg)
            snprintf(b->agg, sizeof b->agg, "%.*s", (int)f.v.n, f.v.s);
        else rc = ut_err(err, errlen, "bucket: field '%.*s' is not valid (x, y, points, agg)",
                         (int)(f.key_len > 40 ? 40 : f.key_len), f.key);
    }
    js_parser_destroy(p);
    if (rc < 0) return -1;
    if (!b->x[0] || !b->ny) return ut_err(err, errlen, "bucket: needs \"x\" and \"y\"");
    if (b->points < 2 || b->points > BUCKET_MAX_POINTS)
        return ut_err(err, errlen, "bucket: \"points\" is 2 to %d", BUCKET_MAX_POINTS);
    static const char *const aggs[] = {"sum", "avg", "min", "max", "count"};
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
        if (!strcmp(b->agg, aggs[i])) return 0;
    return ut_err(err, errlen, "bucket: \"agg\" is one of sum, avg, min, max, count");
}

/* k.len: 0 none, -1 numeric, else the prefix length of the time text. */
static void bucket_cte(ut_buf *o, const bucket *b)
{
    long long P = (long long)b->points;
    ut_buf_puts(o, "), \"sluice bucket r\" AS (SELECT count(*) AS n, min(");
    ident(o, b->x);
    ut_buf_puts(o, ") AS lo, max(");
    ident(o, b->x);
    ut_buf_printf(o, ") AS hi FROM \"sluice bucket q\"), "
                     "\"sluice bucket k\" AS (SELECT lo, hi, CASE WHEN n <= %lld THEN 0 "
                     "WHEN typeof(lo) IN ('integer', 'real') THEN -1 "
                     "WHEN julianday(lo) IS NULL OR julianday(hi) IS NULL THEN 0 "
                     "WHEN (julianday(hi) - julianday(lo)) * 86400 < %lld THEN 19 "
                     "WHEN (julianday(hi) - julianday(lo)) * 1440 < %lld THEN 16 "
                     "WHEN (julianday(hi) - julianday(lo)) * 24 < %lld THEN 13 "
                     "WHEN julianday(hi) - julianday(lo) < %lld THEN 10 "
                     "WHEN (julianday(hi) - julianday(lo)) / 30.44 < %lld THEN 7 ELSE 4 END AS len "
                     "FROM \"sluice bucket r\") ",
                  P, P, P, P, P, P);
}

/* The length of sql without what ends it and is not a token: whitespace,
 * ';' and comments (strings and quoted names skipped as SQLite reads them;
 * an unterminated one runs to the end). */
static size_t sql_end(const char *sql)
{
    size_t i = 0, end = 0, n = strlen(sql);
    while (i < n) {
        char c = sql[i];
        if (c == '-' && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n') i++;
        } else if (c == '/' && sql[i + 1] == '*') {
            const char *e = strstr(sql + i + 2, "*/");
            i = e ? (size_t)(e - sql) + 2 : n;
        } else if (c == ';' || c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
            i++;
        } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char q = c == '[' ? ']' : c;
            for (i++; i < n; i++)
                if (sql[i] == q) {
                    if (q != ']' && sql[i + 1] == q) i++;
                    else break;
                }
            i = i < n ? i + 1 : n;
            end = i;
        } else {
            end = ++i;
        }
    }
    return end;
}

int sv_bucket_sql(const char *sql, const char *json, char **out, char *err, size_t errlen)
{
    bucket b;
    if (parse(json, &b, err, errlen)) return -1;
    size_t n = sql_end(sql);
    ut_buf o = {0};
    ut_buf_puts(&o, "WITH \"sluice bucket q\" AS (");
    ut_buf_put(&o, sql, n);
    ut_buf_puts(&o, "\n");
    bucket_cte(&o, &b);
    ut_buf_puts(&o, "SELECT CASE WHEN k.len = 0 OR (k.len = -1 AND k.hi = k.lo) THEN q.");
    ident(&o, b.x);
    /* (x = hi is bucket `points`, one too many: it joins the last) */
    ut_buf_printf(&o, " WHEN k.len = -1 THEN k.lo + min(CAST((q.");
    ident(&o, b.x);
    ut_buf_printf(&o, " - k.lo) / ((k.hi - k.lo) / %lld.0) AS INTEGER), %lld) * "
                      "((k.hi - k.lo) / %lld.0) ELSE substr(q.",
                  (long long)b.points, (long long)b.points - 1, (long long)b.points);
    ident(&o, b.x);
    ut_buf_puts(&o, ", 1, k.len) END AS ");
    ident(&o, b.x);
    for (int i = 0; i < b.ny; i++) {
        ut_buf_printf(&o, ", %s(q.", b.agg);
        ident(&o, b.y[i]);
        ut_buf_puts(&o, ") AS ");
        ident(&o, b.y[i]);
    }
    ut_buf_printf(&o, " FROM \"sluice bucket q\" AS q, \"sluice bucket k\" AS k GROUP BY 1 "
                      "ORDER BY 1 LIMIT %d", BUCKET_MAX_POINTS);
    *out = ut_strdup(ut_buf_cstr(&o));
    ut_buf_free(&o);
    return 0;
}
