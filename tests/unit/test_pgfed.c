/* pgfed without a server: type mapping, value conversion, identifier
 * quoting, WHERE rendering from constraints, exactness, conninfo display
 * and password scrubbing, attach errors that need no server. */
#include "pgfed/pgf_int.h"
#include "t.h"

#include <stdlib.h>

/* Render one predicate; returns the term ("" if not pushed) in out and the
 * parameters joined by '|' in params. */
static int render(pgf_kind k, fed_op op, const fed_val *v, int nv, char *out, size_t outlen,
                  char *params, size_t plen)
{
    ut_buf b = {0};
    pgf_params *p = calloc(1, sizeof *p);
    int r = pgf__render_pred(&b, p, "\"c\"", k, op, v, nv);
    snprintf(out, outlen, "%.*s", (int)b.len, b.p ? (const char *)b.p : "");
    size_t o = 0;
    params[0] = 0;
    for (int i = 0; i < p->n && o < plen; i++)
        o += (size_t)snprintf(params + o, plen - o, "%s%s", i ? "|" : "",
                              p->fmt[i] ? "<bin>" : p->v[i]);
    pgf__params_clear(p);
    free(p);
    ut_buf_free(&b);
    return r;
}

static fed_val vint(int64_t i) { return (fed_val){.type = SQLITE_INTEGER, .i = i}; }
static fed_val vdbl(double d) { return (fed_val){.type = SQLITE_FLOAT, .d = d}; }
static fed_val vtxt(const char *s) { return (fed_val){.type = SQLITE_TEXT, .p = s, .n = (int)strlen(s)}; }

TEST(pgfed_kinds)
{
    CHECK_EQ_INT(pgf__kind("int2"), PGF_INT);
    CHECK_EQ_INT(pgf__kind("int4"), PGF_INT);
    CHECK_EQ_INT(pgf__kind("int8"), PGF_INT);
    CHECK_EQ_INT(pgf__kind("bool"), PGF_BOOL);
    CHECK_EQ_INT(pgf__kind("numeric"), PGF_NUMERIC);
    CHECK_EQ_INT(pgf__kind("float4"), PGF_FLOAT4);
    CHECK_EQ_INT(pgf__kind("varchar"), PGF_TEXT);
    CHECK_EQ_INT(pgf__kind("uuid"), PGF_OTHER);
    CHECK_EQ_INT(pgf__kind("jsonb"), PGF_OTHER);
    CHECK_EQ_INT(pgf__kind("_int4"), PGF_OTHER);
    CHECK_EQ_INT(pgf__kind("bpchar"), PGF_BPCHAR);
    CHECK_EQ_INT(pgf__kind("timestamptz"), PGF_TSTZ);
    CHECK_EQ_INT(pgf__kind("date"), PGF_DATE);
    CHECK_EQ_INT(pgf__kind("bytea"), PGF_BYTEA);
    CHECK_EQ_STR(pgf__decltype(PGF_BOOL), "INTEGER");
    CHECK_EQ_STR(pgf__decltype(PGF_NUMERIC), "REAL");
    CHECK_EQ_STR(pgf__decltype(PGF_TSTZ), "TEXT");
    CHECK_EQ_STR(pgf__decltype(PGF_BYTEA), "BLOB");
    CHECK_EQ_STR(pgf__decltype(PGF_OTHER), "TEXT");
}

TEST(pgfed_quote_ident)
{
    ut_buf b = {0};
    fed_quote_ident(&b, "we\"ird name");
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((const char *)b.p, "\"we\"\"ird name\"");
    ut_buf_free(&b);
}

/* pgf__result through SQLite: a function converting (kind, text). */
static void conv_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    pgf__result(ctx, (pgf_kind)sqlite3_value_int(argv[0]), (const char *)sqlite3_value_text(argv[1]),
                sqlite3_value_bytes(argv[1]));
}

static int conv(sqlite3 *db, pgf_kind k, const char *text, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int type = -1;
    if (sqlite3_prepare_v2(db, "SELECT conv(?1, ?2), typeof(conv(?1, ?2)), quote(conv(?1, ?2))",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(st, 1, (int)k);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        type = sqlite3_column_type(st, 0);
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    return type;
}

TEST(pgfed_value_conversion)
{
    sqlite3 *db = NULL;
    char out[128];
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(sqlite3_create_function(db, "conv", 2, SQLITE_UTF8, NULL, conv_fn, NULL, NULL) ==
          SQLITE_OK);
    CHECK_EQ_INT(conv(db, PGF_INT, "-9223372036854775808", out, sizeof out), SQLITE_INTEGER);
    CHECK_EQ_STR(out, "-9223372036854775808");
    CHECK_EQ_INT(conv(db, PGF_BOOL, "t", out, sizeof out), SQLITE_INTEGER);
    CHECK_EQ_STR(out, "1");
    CHECK_EQ_INT(conv(db, PGF_BOOL, "f", out, sizeof out), SQLITE_INTEGER);
    CHECK_EQ_STR(out, "0");
    CHECK_EQ_INT(conv(db, PGF_NUMERIC, "1234.50", out, sizeof out), SQLITE_FLOAT);
    CHECK_EQ_STR(out, "1234.5");
    CHECK_EQ_INT(conv(db, PGF_FLOAT4, "0.5", out, sizeof out), SQLITE_FLOAT);
    CHECK_EQ_INT(conv(db, PGF_FLOAT8, "Infinity", out, sizeof out), SQLITE_FLOAT);
    CHECK_EQ_INT(conv(db, PGF_TSTZ, "2024-05-01 12:00:00.5+00", out, sizeof out), SQLITE_TEXT);
    CHECK_EQ_STR(out, "'2024-05-01T12:00:00.500000Z'");
    CHECK_EQ_INT(conv(db, PGF_TS, "2024-05-01 12:00:00", out, sizeof out), SQLITE_TEXT);
    CHECK_EQ_STR(out, "'2024-05-01T12:00:00Z'");
    CHECK_EQ_INT(conv(db, PGF_TSTZ, "infinity", out, sizeof out), SQLITE_TEXT);
    CHECK_EQ_STR(out, "'infinity'");
    CHECK_EQ_INT(conv(db, PGF_BYTEA, "\\x00ff10", out, sizeof out), SQLITE_BLOB);
    CHECK_EQ_STR(out, "X'00FF10'");
    CHECK_EQ_INT(conv(db, PGF_BYTEA, "\\x", out, sizeof out), SQLITE_BLOB);
    CHECK_EQ_INT(conv(db, PGF_INT, "12x", out, sizeof out), SQLITE_TEXT); /* passed on as text */
    sqlite3_close(db);
}

TEST(pgfed_render_comparisons)
{
    char sql[512], params[512];
    fed_val v = vint(3);
    CHECK(render(PGF_INT, FED_EQ, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" = $1::int8");
    CHECK_EQ_STR(params, "3");
    CHECK(render(PGF_BOOL, FED_EQ, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\"::int4 = $1::int8");
    v = vdbl(0.1);
    CHECK(render(PGF_NUMERIC, FED_LT, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\"::float8 < $1::float8");
    CHECK_EQ_STR(params, "0.10000000000000001");
    v = vtxt("it's \"x\"; DROP TABLE t");
    CHECK(render(PGF_TEXT, FED_GE, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" >= $1::text COLLATE \"C\""); /* the value is only a parameter */
    CHECK_EQ_STR(params, "it's \"x\"; DROP TABLE t");
    CHECK(render(PGF_OTHER, FED_EQ, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\"::text = $1::text");
    /* a text value on an integer column is left to SQLite */
    CHECK(!render(PGF_INT, FED_EQ, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "");
    CHECK_EQ_STR(params, "");
    /* char(n) is never pushed: its padding compares differently */
    CHECK(!render(PGF_BPCHAR, FED_EQ, &v, 1, sql, sizeof sql, params, sizeof params));
    /* invalid UTF-8 cannot be a PostgreSQL text value */
    fed_val bad = {.type = SQLITE_TEXT, .p = "\xff", .n = 1};
    CHECK(!render(PGF_TEXT, FED_EQ, &bad, 1, sql, sizeof sql, params, sizeof params));
}

TEST(pgfed_render_time)
{
    char sql[512], params[512];
    fed_val v = vtxt("2024-05-01T10:00:00.500000Z");
    CHECK(render(PGF_TSTZ, FED_EQ, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" = $1::timestamptz");
    CHECK_EQ_STR(params, "2024-05-01T10:00:00.500000Z");
    /* ranges widen by a second: text order and time order differ within one */
    CHECK(render(PGF_TSTZ, FED_LT, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" <= $1::timestamptz");
    CHECK_EQ_STR(params, "2024-05-01T10:00:01.500000Z");
    CHECK(render(PGF_TS, FED_GT, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" >= $1::timestamp");
    CHECK_EQ_STR(params, "2024-05-01T09:59:59.500000Z");
    /* only the lake's canonical text form is pushed */
    v = vtxt("2024-05-01 10:00:00");
    CHECK(!render(PGF_TSTZ, FED_EQ, &v, 1, sql, sizeof sql, params, sizeof params));
    v = vtxt("2024-05-01");
    CHECK(!render(PGF_TSTZ, FED_GT, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK(render(PGF_DATE, FED_GT, &v, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" > $1::date");
    v = vtxt("2024-5-1");
    CHECK(!render(PGF_DATE, FED_GT, &v, 1, sql, sizeof sql, params, sizeof params));
}

TEST(pgfed_render_in_null_blob)
{
    char sql[512], params[512];
    fed_val vs[3] = {vint(1), vint(5), vint(-7)};
    CHECK(render(PGF_INT, FED_IN, vs, 3, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" IN ($1::int8, $2::int8, $3::int8)");
    CHECK_EQ_STR(params, "1|5|-7");
    vs[1] = vtxt("x"); /* one value that cannot be pushed: the whole IN stays in SQLite */
    CHECK(!render(PGF_INT, FED_IN, vs, 3, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(params, "");
    CHECK(render(PGF_FLOAT8, FED_ISNULL, NULL, 0, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" IS NULL");
    CHECK(render(PGF_BPCHAR, FED_NOTNULL, NULL, 0, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" IS NOT NULL");
    fed_val blob = {.type = SQLITE_BLOB, .p = "\0\1", .n = 2};
    CHECK(render(PGF_BYTEA, FED_EQ, &blob, 1, sql, sizeof sql, params, sizeof params));
    CHECK_EQ_STR(sql, "\"c\" = $1::bytea");
    CHECK_EQ_STR(params, "<bin>");
}

TEST(pgfed_exactness)
{
    fed_val i = vint(1), t = vtxt("a"), d = vdbl(1.5);
    CHECK(pgf__exact(PGF_INT, FED_EQ, &i, 1));
    CHECK(!pgf__exact(PGF_INT, FED_EQ, &d, 1));
    CHECK(!pgf__exact(PGF_INT, FED_EQ, NULL, 1)); /* unknown right-hand side (a join) */
    CHECK(pgf__exact(PGF_TEXT, FED_EQ, &t, 0));
    CHECK(pgf__exact(PGF_TEXT, FED_LT, &t, 1));
    CHECK(!pgf__exact(PGF_TEXT, FED_LT, &t, 0)); /* not UTF8: byte order may differ */
    CHECK(!pgf__exact(PGF_FLOAT8, FED_GT, &d, 1));
    CHECK(!pgf__exact(PGF_TSTZ, FED_EQ, &t, 1));
    CHECK(!pgf__exact(PGF_INT, FED_IN, NULL, 1));
    CHECK(pgf__exact(PGF_TSTZ, FED_ISNULL, NULL, 1));
    CHECK(!pgf__exact(PGF_NUMERIC, FED_ISNULL, NULL, 1)); /* NaN reads as NULL */
}

TEST(pgfed_conninfo_display_and_scrub)
{
    char *d = pgf__display("host=db.example port=5433 dbname=app user=app password=hunter22");
    CHECK(d != NULL);
    CHECK(strstr(d, "host=db.example") && strstr(d, "port=5433") && strstr(d, "user=app"));
    CHECK(!strstr(d, "hunter22"));
    free(d);
    d = pgf__display("postgresql://app:hunter22@db.example/app");
    CHECK(d && !strstr(d, "hunter22") && strstr(d, "host=db.example"));
    free(d);
    CHECK(pgf__display("host=x bogus") == NULL);
    char msg[] = "auth for hunter22 failed: hunter22";
    pgf__scrub(msg, "hunter22");
    CHECK_EQ_STR(msg, "auth for *** failed: ***");
}

TEST(pgfed_attach_errors_without_server)
{
    sqlite3 *db = NULL;
    char err[512];
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(pgf_attach(db, "main", "host=127.0.0.1", err, sizeof err) == -1);
    CHECK(strstr(err, "main") != NULL);
    CHECK(pgf_attach(db, "pg", "host=127.0.0.1 password=hunter22 junk", err, sizeof err) == -1);
    CHECK(strstr(err, "\"pg\"") && strstr(err, "does not parse"));
    CHECK(!strstr(err, "hunter22"));
    CHECK(pgf_attach_config(db, NULL, err, sizeof err) == 0);
    sqlite3_close(db);
}
