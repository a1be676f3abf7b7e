/* sum, total, avg (sql/sum.c): exact integers past int64 promote to REAL,
 * compensated double sums, SQLite's NULL/empty/text rules kept, and the
 * window form (xInverse) giving the same as recomputing each frame. */
#include "sql/sq_int.h"
#include "t.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* The first row of q as "v1|v2|..." with typeof: "6:integer|1.5:real". */
static const char *one(sqlite3 *db, const char *q)
{
    static char res[512];
    sqlite3_stmt *st;
    res[0] = 0;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
        snprintf(res, sizeof res, "ERR %s", sqlite3_errmsg(db));
        return res;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            size_t n = strlen(res);
            const char *t = (const char *)sqlite3_column_text(st, i);
            const char *types[] = {"", "integer", "real", "text", "blob", "null"};
            snprintf(res + n, sizeof res - n, "%s%s:%s", i ? "|" : "", t ? t : "",
                     types[sqlite3_column_type(st, i)]);
        }
    } else if (rc != SQLITE_DONE) {
        snprintf(res, sizeof res, "ERR %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return res;
}

TEST(sql_sum_semantics)
{
    sqlite3 *db;
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(sq__sum_register(db) == 0);
    static const struct { const char *q, *want; } cases[] = {
        {"SELECT sum(x) FROM (SELECT 1 AS x UNION ALL SELECT 2)", "3:integer"},
        {"SELECT sum(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1)", "9.22337203685478e+18:real"},
        {"SELECT sum(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1 UNION ALL SELECT -2)",
         "9223372036854775806:integer"}, /* back within int64: exact */
        {"SELECT sum(x) FROM (SELECT -9223372036854775807 - 1 AS x UNION ALL SELECT -1)", "-9.22337203685478e+18:real"},
        {"SELECT sum(x), total(x), avg(x), count(x) FROM (SELECT NULL AS x)", ":null|0.0:real|:null|0:integer"},
        {"SELECT sum(x), total(x), avg(x) FROM (SELECT 1 AS x WHERE 0)", ":null|0.0:real|:null"},
        {"SELECT sum(x), avg(x) FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT '3')", "6:integer|2.0:real"},
        {"SELECT sum(x) FROM (SELECT 1 AS x UNION ALL SELECT 'a')", "1.0:real"}, /* text: 0, REAL */
        {"SELECT sum(x) FROM (SELECT 1.5 AS x UNION ALL SELECT 2)", "3.5:real"},
        {"SELECT sum(x) = 100000.0 FROM (WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g "
         "WHERE i < 1000000) SELECT 0.1 AS x FROM g)", "1:integer"}, /* compensated */
        {"SELECT sum(x) FROM (SELECT 1e100 AS x UNION ALL SELECT 1.0 UNION ALL SELECT -1e100)", "1.0:real"},
        {"SELECT avg(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 9223372036854775807)",
         "9.22337203685478e+18:real"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_MSG(!strcmp(one(db, cases[i].q), cases[i].want), "%s: got %s, want %s", cases[i].q,
                  one(db, cases[i].q), cases[i].want);
    /* window: a sliding sum (xInverse) equals the frame recomputed */
    CHECK(!strcmp(one(db, "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 500), "
                          "v AS (SELECT i, CASE WHEN i % 7 = 0 THEN NULL WHEN i % 3 = 0 THEN i * 0.25 ELSE i END AS x FROM g), "
                          "w AS (SELECT i, sum(x) OVER (ORDER BY i ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS s FROM v) "
                          "SELECT count(*) FROM w WHERE s IS NOT (SELECT sum(x) FROM v AS b WHERE b.i BETWEEN w.i - 4 AND w.i)"),
                  "0:integer"));
    sqlite3_close(db);
}
