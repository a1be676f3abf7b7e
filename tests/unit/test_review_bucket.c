/* sv_bucket_sql (src/server/bucket.c) run by SQLite over a table of
 * numbers: "at most `points` x values".  The numeric bucket of x = hi was
 * index `points` (one past the last), so 1001 numbers in 10 points gave
 * 11 rows. */
#include "server/server.h"
#include "t.h"

#include <sqlite3.h>
#include <stdlib.h>

static int rows_of(sqlite3 *db, const char *sql, long long *sum)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int n = 0;
    *sum = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n++;
        *sum += sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return n;
}

TEST(bucket_numbers_at_most_points)
{
    sqlite3 *db;
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE t(x, n); WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL "
                           "SELECT i + 1 FROM c WHERE i < 1000) INSERT INTO t SELECT i, 1 FROM c",
                       NULL, NULL, NULL) == SQLITE_OK);
    static const int points[] = {2, 3, 7, 10, 500};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        char json[128], err[256], *sql = NULL;
        snprintf(json, sizeof json, "{\"x\":\"x\",\"y\":[\"n\"],\"points\":%d,\"agg\":\"sum\"}",
                 points[i]);
        CHECK_MSG(sv_bucket_sql("SELECT x, n FROM t", json, &sql, err, sizeof err) == 0, "%s", err);
        long long sum = 0;
        int n = rows_of(db, sql, &sum);
        free(sql);
        CHECK_MSG(n > 0 && n <= points[i], "points %d: %d rows", points[i], n);
        CHECK_EQ_INT((int)sum, 1001);
    }
    sqlite3_close(db);
}
