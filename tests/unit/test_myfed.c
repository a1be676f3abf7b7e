/* myfed without a server: type mapping, collation flags, WHERE rendering
 * from constraints (literals, widening, LIKE prefixes), exactness, value
 * conversion to the lake's forms, attach errors that need no server. */
#include "myfed/myf_int.h"
#include "t.h"

#include <stdlib.h>

static myf_col col(myf_kind k, int flags) { return (myf_col){.name = "c", .kind = k, .flags = flags}; }
static fed_val vint(int64_t i) { return (fed_val){.type = SQLITE_INTEGER, .i = i}; }
static fed_val vdbl(double d) { return (fed_val){.type = SQLITE_FLOAT, .d = d}; }
static fed_val vtxt(const char *s) { return (fed_val){.type = SQLITE_TEXT, .p = s, .n = (int)strlen(s)}; }

/* The term for one predicate ("" when not pushed) into out. */
static int render(myf_col c, fed_op op, const fed_val *v, int nv, char *out, size_t n)
{
    ut_buf b = {0};
    int r = myf__render_pred(&b, &c, op, v, nv);
    snprintf(out, n, "%s", ut_buf_cstr(&b));
    ut_buf_free(&b);
    return r;
}

TEST(myfed_kinds)
{
    CHECK_EQ_INT(myf__kind("int", "int(11)"), MYF_INT);
    CHECK_EQ_INT(myf__kind("bigint", "bigint(20) unsigned"), MYF_UINT64);
    CHECK_EQ_INT(myf__kind("int", "int(10) unsigned"), MYF_INT);
    CHECK_EQ_INT(myf__kind("tinyint", "tinyint(1)"), MYF_INT);
    CHECK_EQ_INT(myf__kind("year", "year(4)"), MYF_YEAR);
    CHECK_EQ_INT(myf__kind("bit", "bit(10)"), MYF_BIT);
    CHECK_EQ_INT(myf__kind("decimal", "decimal(12,2)"), MYF_DECIMAL);
    CHECK_EQ_INT(myf__kind("timestamp", "timestamp(6)"), MYF_TIMESTAMP);
    CHECK_EQ_INT(myf__kind("enum", "enum('a')"), MYF_STRING);
    CHECK_EQ_INT(myf__kind("varbinary", "varbinary(8)"), MYF_BLOB);
    CHECK_EQ_INT(myf__kind("point", "point"), MYF_GEOM);
    CHECK_EQ_INT(myf__kind("time", "time"), MYF_OTHER);
    CHECK_EQ_INT(myf__kind("json", "json"), MYF_OTHER);
    CHECK_EQ_STR(myf__decltype(MYF_BIT), "INTEGER");
    CHECK_EQ_STR(myf__decltype(MYF_DECIMAL), "REAL");
    CHECK_EQ_STR(myf__decltype(MYF_DATETIME), "TEXT");
    CHECK_EQ_STR(myf__decltype(MYF_GEOM), "BLOB");
    CHECK_EQ_INT(myf__coll_flags("utf8mb4", "utf8mb4_general_ci"), MYF_UTF8 | MYF_CI);
    CHECK_EQ_INT(myf__coll_flags("utf8mb4", "utf8mb4_bin"), MYF_UTF8 | MYF_BIN);
    CHECK_EQ_INT(myf__coll_flags("utf8mb4", "utf8mb4_0900_bin"), MYF_UTF8 | MYF_BIN | MYF_NOPAD);
    CHECK_EQ_INT(myf__coll_flags("utf8mb4", "utf8mb4_nopad_bin"), MYF_UTF8 | MYF_BIN | MYF_NOPAD);
    CHECK_EQ_INT(myf__coll_flags("latin1", "latin1_swedish_ci"), MYF_CI);
}

TEST(myfed_render_values)
{
    char out[256];
    fed_val v[3] = {vtxt("it's \\ \"x\""), vtxt("b"), vint(1)};
    CHECK(render(col(MYF_STRING, MYF_UTF8 | MYF_CI), FED_EQ, v, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" = 'it''s \\ \"x\"'"); /* NO_BACKSLASH_ESCAPES: \ is a plain byte */
    CHECK(render(col(MYF_STRING, MYF_UTF8 | MYF_CI), FED_IN, v, 2, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" IN ('it''s \\ \"x\"', 'b')");
    CHECK(!render(col(MYF_STRING, MYF_UTF8), FED_IN, v, 3, out, sizeof out)); /* an integer */
    CHECK(render(col(MYF_STRING, MYF_UTF8), FED_LT, &v[1], 1, out, sizeof out));
    CHECK_EQ_STR(out, "CAST(\"c\" AS BINARY) < 'b'");
    CHECK(!render(col(MYF_STRING, 0), FED_LT, &v[1], 1, out, sizeof out)); /* latin1: bytes differ */
    fed_val i = vint(-5), d = vdbl(1.5), big = vint(((int64_t)1 << 53) + 1);
    CHECK(render(col(MYF_INT, 0), FED_GE, &i, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" >= -5");
    CHECK(!render(col(MYF_INT, 0), FED_GE, &d, 1, out, sizeof out));
    CHECK(render(col(MYF_DECIMAL, 0), FED_LT, &d, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" < 1.5e0"); /* a double: compared as the double SQLite sees */
    CHECK(render(col(MYF_DOUBLE, 0), FED_EQ, &i, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" = -5e0");
    CHECK(!render(col(MYF_DOUBLE, 0), FED_EQ, &big, 1, out, sizeof out));
    fed_val blob = {.type = SQLITE_BLOB, .p = "\x00\xff", .n = 2};
    CHECK(render(col(MYF_BLOB, 0), FED_EQ, &blob, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" = X'00ff'");
    fed_val nul = {.type = SQLITE_TEXT, .p = "a\0b", .n = 3}, bad = vtxt("\xc3");
    CHECK(!render(col(MYF_STRING, MYF_UTF8), FED_EQ, &nul, 1, out, sizeof out));
    CHECK(!render(col(MYF_STRING, MYF_UTF8), FED_EQ, &bad, 1, out, sizeof out));
    CHECK(!render(col(MYF_YEAR, 0), FED_EQ, &i, 1, out, sizeof out));
    CHECK(!render(col(MYF_BIT, 0), FED_EQ, &i, 1, out, sizeof out));
    CHECK(render(col(MYF_BIT, 0), FED_ISNULL, NULL, 0, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" IS NULL");
}

TEST(myfed_render_times)
{
    char out[256];
    fed_val ts = vtxt("2024-05-01T12:00:00.500000Z"), short_ = vtxt("2024-05-01T12:00:00.5Z");
    fed_val ntz = vtxt("2024-05-01T12:00:00"), day = vtxt("2024-05-01"), badday = vtxt("2024-02-30");
    CHECK(render(col(MYF_TIMESTAMP, 0), FED_EQ, &ts, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" = '2024-05-01 12:00:00.500000'");
    CHECK(render(col(MYF_TIMESTAMP, 0), FED_GT, &ts, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" >= '2024-05-01 11:59:59.500000'"); /* widened */
    CHECK(render(col(MYF_DATETIME, 0), FED_LT, &ntz, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" <= '2024-05-01 12:00:01.000000'");
    CHECK(!render(col(MYF_TIMESTAMP, 0), FED_EQ, &short_, 1, out, sizeof out)); /* not canonical */
    CHECK(!render(col(MYF_DATETIME, 0), FED_EQ, &ts, 1, out, sizeof out));      /* a Z: not ntz */
    CHECK(render(col(MYF_DATE, 0), FED_GE, &day, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" >= '2024-05-01'");
    CHECK(!render(col(MYF_DATE, 0), FED_GE, &badday, 1, out, sizeof out));
    /* zero dates are NULL in SQLite but not in MySQL's IS NULL */
    CHECK(!render(col(MYF_DATE, 0), FED_ISNULL, NULL, 0, out, sizeof out));
    CHECK(render(col(MYF_DATE, 0), FED_NOTNULL, NULL, 0, out, sizeof out));
    CHECK(!myf__exact(&(myf_col){.name = "c", .kind = MYF_DATE}, FED_NOTNULL, NULL));
}

TEST(myfed_render_like)
{
    char out[256];
    myf_col ci = col(MYF_STRING, MYF_UTF8 | MYF_CI), bin = col(MYF_STRING, MYF_UTF8 | MYF_BIN);
    fed_val p = vtxt("Zü%"), digits = vtxt("2024-%"), mid = vtxt("a%b%"), under = vtxt("a_%"),
            none = vtxt("abc"), q = vtxt("O'%");
    CHECK(render(ci, FED_LIKE, &p, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" LIKE 'Zü%'");
    CHECK(render(ci, FED_LIKE, &q, 1, out, sizeof out));
    CHECK_EQ_STR(out, "\"c\" LIKE 'O''%'");
    CHECK(!render(bin, FED_LIKE, &p, 1, out, sizeof out)); /* case-sensitive: would lose rows */
    CHECK(render(bin, FED_LIKE, &digits, 1, out, sizeof out));
    CHECK(!render(ci, FED_LIKE, &mid, 1, out, sizeof out));
    CHECK(!render(ci, FED_LIKE, &under, 1, out, sizeof out));
    CHECK(!render(ci, FED_LIKE, &none, 1, out, sizeof out));
    CHECK(!myf__exact(&ci, FED_LIKE, &p));
}

TEST(myfed_exact)
{
    fed_val i = vint(3), t = vtxt("x"), d = vdbl(1);
    myf_col ci = col(MYF_STRING, MYF_UTF8 | MYF_CI), bin = col(MYF_STRING, MYF_UTF8 | MYF_BIN);
    myf_col nopad = col(MYF_STRING, MYF_UTF8 | MYF_BIN | MYF_NOPAD), n = col(MYF_INT, 0);
    CHECK(myf__exact(&n, FED_EQ, &i));
    CHECK(myf__exact(&n, FED_LT, &i));
    CHECK(!myf__exact(&n, FED_LT, &d));
    CHECK(!myf__exact(&n, FED_EQ, NULL));
    CHECK(!myf__exact(&ci, FED_EQ, &t));   /* 'X' = 'x' there */
    CHECK(!myf__exact(&bin, FED_EQ, &t));  /* PAD SPACE: 'x' = 'x ' there */
    CHECK(myf__exact(&nopad, FED_EQ, &t));
    CHECK(myf__exact(&ci, FED_LT, &t));    /* bytes, as SQLite */
    CHECK(!myf__exact(&(myf_col){.name = "c", .kind = MYF_DOUBLE}, FED_EQ, &d));
    CHECK(!myf__exact(&(myf_col){.name = "c", .kind = MYF_UINT64}, FED_EQ, &i));
    CHECK(myf__exact(&n, FED_ISNULL, NULL));
    CHECK(!myf__exact(&n, FED_IN, NULL));
}

/* myf_result(kind, text): myf__result as an SQL function. */
static void fn_result(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    myf__result(ctx, (myf_kind)sqlite3_value_int(argv[0]), (const char *)sqlite3_value_blob(argv[1]),
                (unsigned long)sqlite3_value_bytes(argv[1]));
}

static void conv(sqlite3 *db, myf_kind k, const char *in, char *out, size_t n)
{
    sqlite3_stmt *st = NULL;
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT typeof(v) || ':' || quote(v) FROM (SELECT r(%d, CAST(%s AS BLOB)) AS v)",
             (int)k, in);
    out[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

TEST(myfed_result_forms)
{
    sqlite3 *db = NULL;
    char out[128];
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    sqlite3_create_function(db, "r", 2, SQLITE_UTF8, NULL, fn_result, NULL, NULL);
    conv(db, MYF_INT, "'-9223372036854775808'", out, sizeof out);
    CHECK_EQ_STR(out, "integer:-9223372036854775808");
    conv(db, MYF_UINT64, "'18446744073709551615'", out, sizeof out);
    CHECK_EQ_STR(out, "real:1.84467440737095516156e+19");
    conv(db, MYF_BIT, "x'03ff'", out, sizeof out);
    CHECK_EQ_STR(out, "integer:1023");
    conv(db, MYF_DECIMAL, "'-12.345'", out, sizeof out);
    CHECK_EQ_STR(out, "real:-12.345");
    conv(db, MYF_DATE, "'0000-00-00'", out, sizeof out);
    CHECK_EQ_STR(out, "null:NULL");
    conv(db, MYF_DATETIME, "'2024-05-01 12:00:00.250000'", out, sizeof out);
    CHECK_EQ_STR(out, "text:'2024-05-01T12:00:00.250000'");
    conv(db, MYF_DATETIME, "'0000-00-00 00:00:00'", out, sizeof out);
    CHECK_EQ_STR(out, "null:NULL");
    conv(db, MYF_TIMESTAMP, "'1970-01-01 00:00:01'", out, sizeof out);
    CHECK_EQ_STR(out, "text:'1970-01-01T00:00:01Z'");
    conv(db, MYF_BLOB, "x'00ff'", out, sizeof out);
    CHECK_EQ_STR(out, "blob:X'00FF'");
    conv(db, MYF_STRING, "'Zoë'", out, sizeof out);
    CHECK_EQ_STR(out, "text:'Zoë'");
    sqlite3_close(db);
}

TEST(myfed_attach_errors)
{
    sqlite3 *db = NULL;
    char err[512];
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    cf_mysql m = {.port = 1, .user = "u", .connect_timeout_ms = 1000};
    snprintf(m.name, sizeof m.name, "bad name");
    CHECK(myf_attach(db, &m, NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "mysql") != NULL);
    snprintf(m.name, sizeof m.name, "down");
    CHECK(myf_attach(db, &m, "s3cret-pw", err, sizeof err) == -1); /* port 1: refused */
    CHECK_MSG(strstr(err, "mysql connection \"down\" (u@127.0.0.1:1)") != NULL, "%s", err);
    CHECK(strstr(err, "s3cret-pw") == NULL);
    m.password_file = "/nonexistent/pw";
    char pw[64];
    CHECK(myf_password(&m, pw, sizeof pw, err, sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent/pw") != NULL);
    sqlite3_close(db);
}
