/* snap: the SQLite source (classes from declared types and the values, the
 * rows' text, max for cursors, messages) and the redis.<name> config. */
#include "snap/snap.h"
#include "t.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static int make_db(char *path, size_t cap)
{
    snprintf(path, cap, "%s/snap.db", t_tmpdir());
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) return -1;
    int rc = sqlite3_exec(db,
                       "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT, r REAL, b BOOLEAN, "
                       "d DATETIME, x BLOB, u, s TEXT, bad INTEGER, two BOOLEAN);"
                       "INSERT INTO t VALUES (1, 5, 0.1, 1, '2024-05-01', x'00ff', 7, 'a', 1, 0);"
                       "INSERT INTO t VALUES (2, NULL, 2, 0, NULL, NULL, 8, x'0a', 'n/a', 2);"
                       "CREATE VIEW v AS SELECT id FROM t;",
                       NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

TEST(snap_sqlite_classes_rows_max)
{
    char path[600], err[300];
    CHECK_EQ_INT(make_db(path, sizeof path), 0);
    cf_sqlite c = {.name = "app", .path = path};
    sn_source *s = sn_open_sqlite(&c, err, sizeof err);
    CHECK(s != NULL);
    if (!s) return;
    const char *inc[] = {"main.*"};
    char **names = NULL;
    int n = sn_tables(s, inc, 1, NULL, 0, &names, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_STR(names[0], "main.t");
        CHECK_EQ_STR(names[1], "main.v");
    }
    sn_names_free(names, n);

    sn_scan *sc = sn_scan_begin(s, "main.t", "", err, sizeof err);
    CHECK(sc != NULL);
    if (!sc) return sn_close(s);
    static const sn_class want[] = {SN_INT64,  SN_INT64,  SN_DOUBLE, SN_BOOL,   SN_STRING,
                                    SN_BINARY, SN_INT64,  SN_STRING, SN_STRING, SN_INT64};
    CHECK_EQ_INT(sn_scan_ncols(sc), 10);
    for (int i = 0; i < 10 && i < sn_scan_ncols(sc); i++)
        if (sn_scan_columns(sc)[i].cls != want[i])
            t_fail(__FILE__, __LINE__, "column %s: %s, want %s", sn_scan_columns(sc)[i].name,
                   sn_class_name(sn_scan_columns(sc)[i].cls), sn_class_name(want[i]));
    char max[64];
    CHECK_EQ_INT(sn_scan_bound(sc, "id", 0, max, sizeof max, err, sizeof err), 1);
    CHECK_EQ_STR(max, "2");
    int sel[] = {2, 5, 7, 1};
    CHECK_EQ_INT(sn_scan_start(sc, sel, 4, err, sizeof err), 0);
    const char *v[4];
    size_t len[4];
    CHECK_EQ_INT(sn_scan_next(sc, v, len, NULL, 0, err, sizeof err), 1);
    CHECK(v[0] && len[0] == 3 && !memcmp(v[0], "0.1", 3)); /* shortest exact, not 15 digits */
    CHECK(v[1] && len[1] == 2 && !memcmp(v[1], "\x00\xff", 2));
    CHECK(v[2] && len[2] == 1 && v[2][0] == 'a');
    CHECK(v[3] && len[3] == 1 && v[3][0] == '5');
    CHECK_EQ_INT(sn_scan_next(sc, v, len, NULL, 0, err, sizeof err), 1);
    CHECK(v[0] && len[0] == 1 && v[0][0] == '2');
    CHECK(v[1] == NULL && v[3] == NULL);
    CHECK(v[2] && len[2] == 4 && !memcmp(v[2], "\\x0a", 4)); /* a blob among text */
    CHECK_EQ_INT(sn_scan_next(sc, v, len, NULL, 0, err, sizeof err), 0);
    sn_scan_end(sc);

    CHECK(sn_scan_begin(s, "main.nope", "", err, sizeof err) == NULL);
    CHECK(strstr(err, "sqlite \"app\": table main.nope does not exist") != NULL);
    CHECK(sn_scan_begin(s, "other.t", "", err, sizeof err) == NULL);
    CHECK(strstr(err, "is not main.<table>") != NULL);
    CHECK(sn_scan_begin(s, "main.t", "no such (", err, sizeof err) == NULL);
    CHECK(strstr(err, "main.t") != NULL);
    sn_close(s);

    cf_sqlite gone = {.name = "gone", .path = "/nonexistent/x.db"};
    CHECK(sn_open_sqlite(&gone, err, sizeof err) == NULL);
    CHECK(strstr(err, "sqlite \"gone\": cannot open /nonexistent/x.db") != NULL);
}

TEST(snap_redis_config)
{
    static const char y[] = "redis:\n"
                            "  cache: {port: 6380, db: 2, password_file: /pw, max_items: 5,\n"
                            "          tables: {sessions: \"session:*\", carts: \"cart:*\"}}\n"
                            "jobs:\n"
                            "  j: {kind: snapshot, source: cache, include: [\"db2.*\"]}\n";
    char err[400];
    cf_config *c = cf_load_mem(y, sizeof y - 1, "test", err, sizeof err);
    CHECK(c != NULL);
    if (!c) {
        t_fail(__FILE__, __LINE__, "%s", err);
        return;
    }
    const cf_redis *r = cf_redis_find(c, "cache");
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_INT(r->port, 6380);
        CHECK_EQ_INT(r->db, 2);
        CHECK_EQ_INT(r->max_items, 5);
        CHECK_EQ_INT(r->scan_count, 500);
        CHECK_EQ_STR(cf_strmap_get(&r->tables, "carts"), "cart:*");
    }
    CHECK(sn_source_exists(c, "cache"));
    cf_destroy(c);
    /* one namespace with the other sources */
    static const char dup[] = "redis: {app: {}}\nsqlite: {app: {path: x.db}}\n";
    c = cf_load_mem(dup, sizeof dup - 1, "test", err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, "sqlite.app and redis.app") != NULL);
    cf_destroy(c);
}
