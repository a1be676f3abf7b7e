/* libFuzzer target: the "bucket" object of a query request (bucket.c).
 * Input: the bucket JSON.  A wrapped query keeps the SQL it was given, has
 * balanced double quotes (every name quoted, its quotes doubled) and parses
 * as one SQLite statement. */
#include "server/server.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char SQL[] = "SELECT 1 AS a, 2 AS \"b c\"";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    char *json = malloc(size + 1);
    memcpy(json, data, size);
    json[size] = 0;
    char err[512], *out = NULL;
    if (sv_bucket_sql(SQL, json, &out, err, sizeof err) == 0) {
        static const char head[] = "WITH \"sluice bucket q\" AS (" "SELECT 1 AS a, 2 AS \"b c\"";
        if (strncmp(out, head, sizeof head - 1)) __builtin_trap();
        size_t quotes = 0;
        for (const char *p = out; *p; p++) quotes += *p == '"';
        if (quotes % 2) __builtin_trap();
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_open(":memory:", &db) == SQLITE_OK) {
            /* a bad name is "no such column": never a second statement */
            if (sqlite3_prepare_v2(db, out, -1, &st, &tail) == SQLITE_OK && tail && *tail) __builtin_trap();
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        free(out);
    } else if (!err[0]) {
        __builtin_trap();
    }
    free(json);
    return 0;
}
