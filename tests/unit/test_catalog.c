#include "t.h"
#include "catalog/catalog.h"
#include "catalog/ct_int.h"
#include "cli/cli.h"
#include "util/util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[1024];

/* A fresh catalog file path for one test. */
static const char *db_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s.db", t_tmpdir(), name);
    return p;
}

static ct_file mkfile(const char *partition, const char *name, int64_t rows)
{
    ct_file f;
    memset(&f, 0, sizeof f);
    snprintf(f.partition, sizeof f.partition, "%s", partition);
    snprintf(f.path, sizeof f.path, "%s%s%s", partition, *partition ? "/" : "", name);
    f.rows = rows;
    f.bytes = rows * 10;
    f.schema_version = 1;
    f.min_offset = -1;
    f.max_offset = -1;
    return f;
}

static int64_t mktable(ct_catalog *c, const char *name)
{
    ct_table t;
    if (ct_table_ensure(c, name, "/lake/x", "dt,hr", "events", &t, err, sizeof err) < 0) return -1;
    int64_t id = t.id;
    ct_table_free(&t);
    return id;
}

static int nfiles(ct_catalog *c, int64_t tid)
{
    ct_file *f;
    int n = ct_files(c, tid, NULL, &f, err, sizeof err);
    ct_files_free(f, n < 0 ? 0 : n);
    return n;
}

TEST(catalog_table_ensure_idempotent)
{
    const char *p = db_path("ensure");
    ct_catalog *c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_table t;
    CHECK_EQ_INT(ct_table_ensure(c, "events", "/lake/events", "dt,hr", "ev", &t, err, sizeof err), 1);
    int64_t id = t.id;
    CHECK_EQ_STR(t.name, "events");
    CHECK_EQ_STR(t.partition, "dt,hr");
    CHECK_EQ_INT(t.version, 0);
    CHECK_EQ_INT(t.ncols, 0);
    CHECK(t.created_ms > 0);
    ct_table_free(&t);
    /* second time: exists, creation arguments ignored */
    CHECK_EQ_INT(ct_table_ensure(c, "events", "/elsewhere", "", "ev", &t, err, sizeof err), 0);
    CHECK_EQ_INT(t.id, id);
    CHECK_EQ_STR(t.location, "/lake/events");
    ct_table_free(&t);
    /* but never adopted by another writer: another stream, or CREATE TABLE AS */
    CHECK_EQ_INT(ct_table_ensure(c, "events", "/lake/events", "dt,hr", "ev2", &t, err, sizeof err), -1);
    CHECK(strstr(err, "already exists for stream 'ev', not for stream 'ev2'") != NULL);
    CHECK_EQ_INT(ct_table_ensure(c, "events", "/lake/events", "dt,hr", "", &t, err, sizeof err), -1);
    CHECK(strstr(err, "not for CREATE TABLE AS") != NULL);
    CHECK_EQ_INT(ct_table_ensure(c, "aaa", "/lake/aaa", "", NULL, NULL, err, sizeof err), 1);
    char **names;
    int n = ct_tables(c, &names, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(names[0], "aaa");
    CHECK_EQ_STR(names[1], "events");
    ct_names_free(names, n);
    CHECK_EQ_INT(ct_table_get(c, "nope", &t, err, sizeof err), 0);
    CHECK_EQ_INT(ct_table_get(c, "events", &t, err, sizeof err), 1);
    CHECK_EQ_INT(t.id, id);
    ct_table_free(&t);
    /* bad names and partition specs are refused with the catalog named */
    CHECK_EQ_INT(ct_table_ensure(c, "a/b", "/x", "", "", NULL, err, sizeof err), -1);
    CHECK(strstr(err, p) && strstr(err, "table name 'a/b' is not valid"));
    CHECK_EQ_INT(ct_table_ensure(c, "ok", "/x", "dt,,hr", "", NULL, err, sizeof err), -1);
    CHECK(strstr(err, "bad partition columns"));
    ct_close(c);
    /* reopen: same tables, no migration trouble */
    c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_INT(ct_table_get(c, "events", NULL, err, sizeof err), 1);
    ct_close(c);
}

TEST(catalog_open_refuses_foreign_and_newer_files)
{
    const char *p = db_path("foreign");
    sqlite3 *db;
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE x(a)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    ct_catalog *c = ct_open(p, err, sizeof err);
    CHECK(!c);
    CHECK_MSG(strstr(err, "not a sluice catalog"), "%s", err);

    p = db_path("newer");
    c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_close(c);
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    sqlite3_stmt *s;
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM schema_migrations", -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(s, 0), 12); /* v1 tables, v2 runs, v3, v4 parts, v5 accounts, v6 outbox, v7 part_state, v8 views, v9 load_history, v10 console, v11 run_logs, v12 failed runs index */
    sqlite3_finalize(s);
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_part_span'",
                             -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(s, 0), 1);
    sqlite3_finalize(s);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    c = ct_open(p, err, sizeof err);
    CHECK(!c);
    CHECK_MSG(strstr(err, "newer than this sluice"), "%s", err);
}

TEST(catalog_schema_versions)
{
    ct_catalog *c = ct_open(db_path("schema"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "t");
    ct_column cols[4] = {{"id", CT_INT64, 0}, {"name", CT_STRING, 0}, {"cost", CT_DOUBLE, 0},
                         {"n", CT_INT32, 0}};
    int v = -1;
    CHECK_MSG(ct_schema_set(c, tid, cols, 2, NULL, &v, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(v, 1);
    /* unchanged: no new version */
    CHECK(ct_schema_set(c, tid, cols, 2, "ignored", &v, err, sizeof err) == 0);
    CHECK_EQ_INT(v, 1);
    /* added */
    CHECK(ct_schema_set(c, tid, cols, 3, NULL, &v, err, sizeof err) == 0);
    CHECK_EQ_INT(v, 2);
    /* widened, with the caller's change text */
    cols[0].type = CT_DOUBLE;
    CHECK(ct_schema_set(c, tid, cols, 3, "widened id int64 -> double", &v, err, sizeof err) == 0);
    CHECK_EQ_INT(v, 3);
    /* narrowing and dropping are refused, naming the table */
    cols[0].type = CT_BOOL;
    CHECK_EQ_INT(ct_schema_set(c, tid, cols, 3, NULL, &v, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "table 't'") && strstr(err, "'id' cannot change from double to bool"),
              "%s", err);
    cols[0].type = CT_DOUBLE;
    CHECK_EQ_INT(ct_schema_set(c, tid, cols + 1, 2, NULL, &v, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "lacks column 'id'"), "%s", err);
    ct_column dup[2] = {{"id", CT_DOUBLE, 0}, {"id", CT_DOUBLE, 0}};
    CHECK_EQ_INT(ct_schema_set(c, tid, dup, 2, NULL, &v, err, sizeof err), -1);

    ct_table t;
    CHECK_EQ_INT(ct_table_get(c, "t", &t, err, sizeof err), 1);
    CHECK_EQ_INT(t.version, 3);
    CHECK_EQ_INT(t.ncols, 3);
    CHECK_EQ_STR(t.cols[0].name, "id");
    CHECK_EQ_INT(t.cols[0].type, CT_DOUBLE);
    CHECK_EQ_INT(t.cols[0].added_version, 1);
    CHECK_EQ_INT(t.cols[2].added_version, 2);
    ct_table_free(&t);

    ct_schema_version *h;
    int n = ct_schema_history(c, tid, &h, err, sizeof err);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(h[0].change, "added id int64, name string");
    CHECK_EQ_STR(h[1].change, "added cost double");
    CHECK_EQ_STR(h[2].change, "widened id int64 -> double");
    CHECK_EQ_INT(h[1].ncols, 3);
    CHECK(h[2].created_ms >= h[0].created_ms);
    free(h);

    /* automatic text for add + widen together */
    cols[3].type = CT_INT32;
    cols[2].type = CT_STRING;
    CHECK(ct_schema_set(c, tid, cols, 4, NULL, &v, err, sizeof err) == 0);
    n = ct_schema_history(c, tid, &h, err, sizeof err);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_STR(h[3].change, "added n int32; widened cost double -> string");
    free(h);

    /* the latest changes over all tables: versions after the first, newest first */
    int64_t t2 = mktable(c, "u");
    CHECK(ct_schema_set(c, t2, cols, 1, NULL, &v, err, sizeof err) == 0);
    ct_schema_change *rc;
    n = ct_schema_recent(c, 10, &rc, err, sizeof err);
    CHECK_EQ_INT(n, 3); /* t's versions 2..4; u has only its first */
    CHECK_EQ_STR(rc[0].table, "t");
    CHECK_EQ_INT(rc[0].v.version, 4);
    CHECK_EQ_STR(rc[0].v.change, "added n int32; widened cost double -> string");
    CHECK_EQ_INT(rc[2].v.version, 2);
    CHECK(rc[0].v.created_ms >= rc[2].v.created_ms);
    free(rc);
    CHECK(ct_schema_set(c, t2, cols, 2, NULL, &v, err, sizeof err) == 0);
    n = ct_schema_recent(c, 2, &rc, err, sizeof err);
    CHECK_EQ_INT(n, 2); /* the limit holds */
    CHECK(rc[0].v.created_ms >= rc[1].v.created_ms);
    CHECK(!strcmp(rc[0].table, "u") || rc[0].v.created_ms == rc[1].v.created_ms);
    free(rc);
    ct_close(c);
}

TEST(catalog_commit_atomic_with_position)
{
    const char *p = db_path("commit");
    ct_catalog *c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "events");
    ct_file f[3] = {mkfile("dt=2024-05-01/hr=03", "part-1.parquet", 10),
                    mkfile("dt=2024-05-01/hr=04", "part-2.parquet", 20),
                    mkfile("dt=2024-05-01/hr=04", "part-3.parquet", 30)};
    uint64_t pos = 7;
    CHECK(ct_position(c, "events", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 0);
    CHECK_MSG(ct_commit(c, tid, f, 2, "events", 100, err, sizeof err) == 0, "%s", err);
    CHECK(ct_position(c, "events", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 100);
    /* a commit containing an already-live path fails as a whole */
    ct_file again[2] = {f[2], f[1]};
    CHECK_EQ_INT(ct_commit(c, tid, again, 2, "events", 200, err, sizeof err), -1);
    CHECK_MSG(strstr(err, p) && strstr(err, "table 'events'") &&
                  strstr(err, "'dt=2024-05-01/hr=04/part-2.parquet' is already live"),
              "%s", err);
    CHECK_EQ_INT(nfiles(c, tid), 2);
    CHECK_EQ_INT(ct_file_live(c, tid, f[2].path, err, sizeof err), 0);
    CHECK(ct_position(c, "events", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 100);
    /* duplicates inside one commit too */
    ct_file twice[2] = {f[2], f[2]};
    CHECK_EQ_INT(ct_commit(c, tid, twice, 2, "events", 200, err, sizeof err), -1);
    CHECK_EQ_INT(nfiles(c, tid), 2);
    /* a file outside its partition, a bad path, an unknown table */
    ct_file bad = mkfile("dt=2024-05-01/hr=03", "x.parquet", 1);
    snprintf(bad.partition, sizeof bad.partition, "dt=2024-05-02");
    CHECK_EQ_INT(ct_commit(c, tid, &bad, 1, "events", 300, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "not inside its partition"), "%s", err);
    bad = mkfile("", "../escape.parquet", 1);
    CHECK_EQ_INT(ct_commit(c, tid, &bad, 1, NULL, 0, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "bad file path"), "%s", err);
    CHECK_EQ_INT(ct_commit(c, 9999, f, 1, "events", 300, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "no table with id 9999"), "%s", err);
    CHECK(ct_position(c, "events", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 100);
    /* the good commit, then a commit without a stream (position untouched) */
    CHECK(ct_commit(c, tid, f + 2, 1, "events", 250, err, sizeof err) == 0);
    ct_file f4 = mkfile("dt=2024-05-02/hr=00", "ctas.parquet", 5);
    CHECK(ct_commit(c, tid, &f4, 1, NULL, 999, err, sizeof err) == 0);
    CHECK_EQ_INT(nfiles(c, tid), 4);
    ct_close(c);
    /* durable and visible after reopening */
    c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ct_position(c, "events", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 250);
    CHECK(ct_position(c, "other", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 0);
    CHECK_EQ_INT(nfiles(c, tid), 4);
    ct_close(c);
}

TEST(catalog_files_order_prefix_and_stats)
{
    ct_catalog *c = ct_open(db_path("stats"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "t");
    ct_colstat st[3];
    memset(st, 0, sizeof st);
    snprintf(st[0].name, sizeof st[0].name, "id");
    st[0].has_minmax = 1;
    snprintf(st[0].min, sizeof st[0].min, "-5");
    snprintf(st[0].max, sizeof st[0].max, "9000000000");
    snprintf(st[1].name, sizeof st[1].name, "ts");
    st[1].has_minmax = 1;
    snprintf(st[1].min, sizeof st[1].min, "2024-05-01T03:00:00Z");
    snprintf(st[1].max, sizeof st[1].max, "2024-05-01T03:59:59.999999Z");
    st[1].nulls = 3;
    snprintf(st[2].name, sizeof st[2].name, "s");
    st[2].nulls = 10;
    ct_file f[3] = {mkfile("dt=2024-05-02/hr=00", "b.parquet", 1),
                    mkfile("dt=2024-05-01/hr=03", "a.parquet", 10),
                    mkfile("dt=2024-05-01/hr=10", "c.parquet", 2)};
    f[1].stats = st;
    f[1].nstats = 3;
    f[1].min_offset = 1000;
    f[1].max_offset = 1009;
    f[1].created_ms = 1714533000000LL;
    CHECK_MSG(ct_commit(c, tid, f, 3, "s1", 10, err, sizeof err) == 0, "%s", err);
    ct_file *out;
    int n = ct_files(c, tid, NULL, &out, err, sizeof err);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(out[0].path, "dt=2024-05-01/hr=03/a.parquet"); /* by partition */
    CHECK_EQ_STR(out[2].partition, "dt=2024-05-02/hr=00");
    CHECK_EQ_INT(out[0].nstats, 3);
    CHECK_EQ_INT(out[0].table_id, tid);
    CHECK_EQ_INT(out[0].min_offset, 1000);
    CHECK_EQ_INT(out[0].max_offset, 1009);
    CHECK_EQ_INT(out[0].created_ms, 1714533000000LL);
    CHECK_EQ_INT(out[0].bytes, 100);
    CHECK_EQ_STR(out[0].stats[0].name, "id");
    CHECK_EQ_STR(out[0].stats[0].max, "9000000000");
    CHECK_EQ_STR(out[0].stats[1].min, "2024-05-01T03:00:00Z");
    CHECK_EQ_INT(out[0].stats[1].nulls, 3);
    CHECK_EQ_INT(out[0].stats[2].has_minmax, 0);
    CHECK_EQ_STR(out[0].stats[2].min, "");
    CHECK_EQ_INT(out[0].stats[2].nulls, 10);
    CHECK_EQ_INT(out[1].nstats, 0);
    CHECK(out[1].created_ms > 0); /* defaulted to now */
    ct_files_free(out, n);
    n = ct_files(c, tid, "dt=2024-05-01", &out, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    ct_files_free(out, n);
    n = ct_files(c, tid, "dt=2024-05-01/hr=1", &out, err, sizeof err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(out[0].path, "dt=2024-05-01/hr=10/c.parquet");
    ct_files_free(out, n);
    n = ct_files(c, tid, "dt=2024-06", &out, err, sizeof err);
    CHECK_EQ_INT(n, 0);
    ct_files_free(out, n);
    /* over-long min value is refused, not truncated */
    memset(st[0].min, 'x', sizeof st[0].min);
    ct_file g = mkfile("dt=2024-05-03/hr=00", "g.parquet", 1);
    g.stats = st;
    g.nstats = 1;
    CHECK_EQ_INT(ct_commit(c, tid, &g, 1, NULL, 0, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "malformed"), "%s", err);

    struct ct_table_stats ts;
    CHECK(ct_table_stats(c, tid, &ts, err, sizeof err) == 0);
    CHECK_EQ_INT(ts.files, 3);
    CHECK_EQ_INT(ts.rows, 13);
    CHECK_EQ_INT(ts.bytes, 130);
    CHECK_EQ_INT(ts.partitions, 3);
    CHECK_EQ_STR(ts.min_partition, "dt=2024-05-01/hr=03");
    CHECK_EQ_STR(ts.max_partition, "dt=2024-05-02/hr=00");
    int64_t empty = mktable(c, "empty");
    CHECK(ct_table_stats(c, empty, &ts, err, sizeof err) == 0);
    CHECK_EQ_INT(ts.files, 0);
    CHECK_EQ_INT(ts.rows, 0);
    CHECK_EQ_STR(ts.min_partition, "");
    ct_close(c);
}

TEST(catalog_replace_atomic)
{
    ct_catalog *c = ct_open(db_path("replace"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "t");
    ct_file f[3] = {mkfile("dt=2024-05-01/hr=03", "a.parquet", 1),
                    mkfile("dt=2024-05-01/hr=03", "b.parquet", 2),
                    mkfile("dt=2024-05-01/hr=04", "c.parquet", 3)};
    CHECK(ct_commit(c, tid, f, 3, "s", 3, err, sizeof err) == 0);
    ct_file *live;
    int n = ct_files(c, tid, "dt=2024-05-01/hr=03", &live, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    int64_t old[2] = {live[0].id, live[1].id};
    ct_files_free(live, n);
    ct_file merged = mkfile("dt=2024-05-01/hr=03", "compact-1.parquet", 3);
    CHECK_MSG(ct_replace(c, tid, old, 2, &merged, 1, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(nfiles(c, tid), 2);
    CHECK_EQ_INT(ct_file_live(c, tid, "dt=2024-05-01/hr=03/a.parquet", err, sizeof err), 0);
    CHECK_EQ_INT(ct_file_live(c, tid, "dt=2024-05-01/hr=03/compact-1.parquet", err, sizeof err), 1);
    ct_file *tr;
    n = ct_trash(c, &tr, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(tr[0].path, "dt=2024-05-01/hr=03/a.parquet");
    CHECK_EQ_INT(tr[0].table_id, tid);
    ct_files_free(tr, n);
    /* a second compaction that still names a replaced file changes nothing */
    n = ct_files(c, tid, NULL, &live, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    int64_t stale[2] = {live[1].id, old[0]};
    ct_files_free(live, n);
    ct_file merged2 = mkfile("dt=2024-05-01/hr=03", "compact-2.parquet", 6);
    CHECK_EQ_INT(ct_replace(c, tid, stale, 2, &merged2, 1, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "table 't'") && strstr(err, "is no longer live"), "%s", err);
    CHECK_EQ_INT(nfiles(c, tid), 2);
    CHECK_EQ_INT(ct_file_live(c, tid, merged2.path, err, sizeof err), 0);
    /* unknown ids and other tables' files are refused too */
    int64_t nope = 424242;
    CHECK_EQ_INT(ct_replace(c, tid, &nope, 1, NULL, 0, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "does not exist"), "%s", err);
    int64_t t2 = mktable(c, "u");
    CHECK_EQ_INT(ct_replace(c, t2, stale, 1, NULL, 0, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "belongs to table 't'"), "%s", err);
    /* a trashed path cannot be committed again until it is forgotten */
    CHECK_EQ_INT(ct_commit(c, tid, &f[0], 1, NULL, 0, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "in the trash"), "%s", err);
    ct_close(c);
}

TEST(catalog_drop_before_trash_forget)
{
    ct_catalog *c = ct_open(db_path("drop"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "t");
    ct_file f[4] = {mkfile("dt=2024-04-30/hr=23", "a.parquet", 1),
                    mkfile("dt=2024-05-01/hr=00", "b.parquet", 1),
                    mkfile("dt=2024-05-01/hr=01", "c.parquet", 1),
                    mkfile("dt=2024-05-02/hr=00", "d.parquet", 1)};
    CHECK(ct_commit(c, tid, f, 4, "s", 4, err, sizeof err) == 0);
    ct_file *rm;
    int n = ct_drop_before(c, tid, "2024-05-02", &rm, err, sizeof err);
    CHECK_MSG(n == 3, "%d %s", n, err);
    CHECK_EQ_STR(rm[0].path, "dt=2024-04-30/hr=23/a.parquet");
    CHECK_EQ_STR(rm[2].path, "dt=2024-05-01/hr=01/c.parquet");
    ct_files_free(rm, n);
    CHECK_EQ_INT(nfiles(c, tid), 1);
    n = ct_drop_before(c, tid, "2024-05-02", &rm, err, sizeof err);
    CHECK_EQ_INT(n, 0);
    ct_files_free(rm, n);
    ct_file *tr;
    n = ct_trash(c, &tr, err, sizeof err);
    CHECK_EQ_INT(n, 3);
    for (int i = 0; i < n; i++) CHECK(ct_forget(c, tr[i].id, err, sizeof err) == 0);
    CHECK(ct_forget(c, tr[0].id, err, sizeof err) == 0); /* idempotent */
    ct_files_free(tr, n);
    n = ct_trash(c, &tr, err, sizeof err);
    CHECK_EQ_INT(n, 0);
    ct_files_free(tr, n);
    /* a live file cannot be forgotten */
    ct_file *live;
    n = ct_files(c, tid, NULL, &live, err, sizeof err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(ct_forget(c, live[0].id, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "is live"), "%s", err);
    ct_files_free(live, n);
    /* after forgetting, the path may be committed again */
    CHECK(ct_commit(c, tid, f, 1, NULL, 0, err, sizeof err) == 0);
    /* unpartitioned tables have nothing to drop by date */
    ct_table u;
    CHECK(ct_table_ensure(c, "flat", "/lake/flat", "", "", &u, err, sizeof err) == 1);
    CHECK_EQ_INT(ct_drop_before(c, u.id, "2024-01-01", &rm, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "table 'flat' is not partitioned"), "%s", err);
    ct_table_free(&u);
    ct_close(c);
}

struct worker {
    const char *path, *table;
    int commits, failed;
    char err[512];
};

static void *commit_loop(void *arg)
{
    struct worker *w = arg;
    ct_catalog *c = ct_open(w->path, w->err, sizeof w->err);
    if (!c) {
        w->failed = 1;
        return NULL;
    }
    ct_table t;
    if (ct_table_ensure(c, w->table, "/lake", "dt", w->table, &t, w->err, sizeof w->err) < 0) {
        w->failed = 1;
        ct_close(c);
        return NULL;
    }
    for (int i = 0; i < w->commits && !w->failed; i++) {
        char name[64];
        snprintf(name, sizeof name, "part-%04d.parquet", i);
        ct_file f = mkfile("dt=2024-05-01", name, i);
        if (ct_commit(c, t.id, &f, 1, w->table, (uint64_t)i + 1, w->err, sizeof w->err) < 0)
            w->failed = 1;
    }
    ct_table_free(&t);
    ct_close(c);
    return NULL;
}

TEST(catalog_concurrent_connections)
{
    const char *p = db_path("threads");
    struct worker w[3] = {{p, "ta", 150, 0, ""}, {p, "tb", 150, 0, ""}, {p, "tc", 150, 0, ""}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, commit_loop, &w[i]);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) CHECK_MSG(!w[i].failed, "%s: %s", w[i].table, w[i].err);
    ct_catalog *c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    for (int i = 0; i < 3; i++) {
        ct_table t;
        CHECK_EQ_INT(ct_table_get(c, w[i].table, &t, err, sizeof err), 1);
        CHECK_EQ_INT(nfiles(c, t.id), 150);
        uint64_t pos;
        CHECK(ct_position(c, w[i].table, t.id, &pos, err, sizeof err) == 0);
        CHECK_EQ_INT(pos, 150);
        ct_table_free(&t);
    }
    ct_close(c);
}

struct opener {
    const char *path;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, ok;
    uint64_t done_ns;
    char err[512];
};

static void *open_once(void *arg)
{
    struct opener *o = arg;
    pthread_mutex_lock(&o->mu);
    o->started = 1;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    ct_catalog *c = ct_open(o->path, o->err, sizeof o->err);
    o->done_ns = ut_now_ns();
    o->ok = c != NULL;
    ct_close(c);
    return NULL;
}

/* Another connection holds a write lock on a new catalog file while ct_open
 * runs: PRAGMA journal_mode = WAL meets SQLITE_BUSY (the busy handler does
 * not cover it), and the open waits for the lock instead of failing. */
TEST(catalog_open_waits_for_a_locked_new_file)
{
    const char *p = db_path("walbusy");
    sqlite3 *holder = NULL;
    CHECK(sqlite3_open_v2(p, &holder, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) ==
          SQLITE_OK);
    CHECK_MSG(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "%s",
              sqlite3_errmsg(holder));
    struct opener o = {.path = p};
    pthread_mutex_init(&o.mu, NULL);
    pthread_cond_init(&o.cv, NULL);
    pthread_t th;
    pthread_create(&th, NULL, open_once, &o);
    pthread_mutex_lock(&o.mu);
    while (!o.started) pthread_cond_wait(&o.cv, &o.mu);
    pthread_mutex_unlock(&o.mu);
    usleep(200 * 1000); /* ct_open meets the lock meanwhile */
    uint64_t released_ns = ut_now_ns();
    int rb = sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
    pthread_join(th, NULL);
    sqlite3_close(holder);
    pthread_cond_destroy(&o.cv);
    pthread_mutex_destroy(&o.mu);
    CHECK(rb == SQLITE_OK);
    CHECK_MSG(o.ok, "ct_open under a held lock failed: %s", o.err);
    CHECK_MSG(o.done_ns >= released_ns, "ct_open returned %.0f ms before the lock was released",
              (double)(released_ns - o.done_ns) / 1e6);
    ct_catalog *c = ct_open(p, err, sizeof err); /* a complete catalog in WAL mode */
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_INT(mktable(c, "after_busy") > 0, 1);
    ct_close(c);
}

/* A connection inside a write transaction that does not hold the process's
 * writer mutex has SQLite's write lock: its statements must not wait for
 * the mutex, whose holder may be waiting for that very lock.  That state is
 * what a transaction is in after ct_begin's timed lock gave up (CT_BUSY_MS:
 * a writer of another process held SQLite's lock that long); the test makes
 * it by hand instead of waiting 10 s.  (Both waited CT_BUSY_MS, then the
 * other writer failed "busy"; each such round set off the next.) */
struct wbegin {
    ct_catalog *c;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, rc;
    char err[512];
};

static void *begin_write(void *p)
{
    struct wbegin *w = p;
    pthread_mutex_lock(&w->mu);
    w->started = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    w->rc = ct_begin(w->c, 1, w->err, sizeof w->err); /* the mutex, then SQLite's lock */
    if (w->rc == 0) ct_rollback(w->c);
    return NULL;
}

TEST(catalog_write_without_the_writer_mutex_does_not_wait_for_it)
{
    const char *p = db_path("wlockorder");
    ct_catalog *b = ct_open(p, err, sizeof err);
    CHECK_MSG(b, "%s", err);
    struct wbegin w = {.c = ct_open(p, err, sizeof err)};
    CHECK_MSG(w.c, "%s", err);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    CHECK(ct_begin(b, 1, err, sizeof err) == 0);
    ct__wunlock(b); /* in the transaction, without the mutex: as after a timeout */
    pthread_t th;
    pthread_create(&th, NULL, begin_write, &w);
    pthread_mutex_lock(&w.mu);
    while (!w.started) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    usleep(100 * 1000); /* it takes the mutex and waits for SQLite's lock */
    uint64_t t0 = ut_now_ns();
    ct_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.job, sizeof r.job, "j");
    r.state = CT_RUN_WAITING;
    int created = ct_run_create(b, &r, err, sizeof err);
    int committed = created == 0 ? ct_commit_tx(b, err, sizeof err) : -1;
    double ms = (double)(ut_now_ns() - t0) / 1e6;
    pthread_join(th, NULL);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    ct_close(w.c);
    ct_close(b);
    CHECK_MSG(created == 0 && committed == 0, "%s", err);
    CHECK_MSG(w.rc == 0, "the other writer: %s", w.err);
    CHECK_MSG(ms < 5000, "the insert waited %.0f ms for the writer mutex", ms);
}

/* ---- DDL ------------------------------------------------------------------ */

static ct_table ddl_table(ct_column *cols)
{
    ct_table t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "events");
    snprintf(t.location, sizeof t.location, "/data/sluice data/events");
    snprintf(t.partition, sizeof t.partition, "dt,hr");
    t.created_ms = 1714780800000LL; /* 2024-05-04 */
    const char *names[] = {"flag", "id", "cost", "name", "ts", "day", "n", "ratio", "dt"};
    ct_type tys[] = {CT_BOOL, CT_INT64, CT_DOUBLE, CT_STRING, CT_TIMESTAMP, CT_DATE, CT_INT32,
                     CT_FLOAT, CT_STRING};
    for (int i = 0; i < 9; i++) {
        memset(&cols[i], 0, sizeof cols[i]);
        snprintf(cols[i].name, sizeof cols[i].name, "%s", names[i]);
        cols[i].type = tys[i];
    }
    snprintf(cols[3].name, sizeof cols[3].name, "na\"me`x");
    t.cols = cols;
    t.ncols = 9;
    t.version = 1;
    return t;
}

TEST(catalog_ddl_trino)
{
    ct_column cols[9];
    ct_table t = ddl_table(cols);
    char *s = ct_ddl(&t, NULL, "trino", NULL, NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_STR(s,
                 "-- Trino (Hive connector): lake table events, Parquet files read in place.\n"
                 "-- Partition columns are strings (the dt=/hr= directory values) and come last.\n"
                 "-- timestamp columns hold UTC instants; timestamp(3) matches the default\n"
                 "-- hive.timestamp-precision=MILLISECONDS (with MICROSECONDS use timestamp(6)).\n"
                 "CREATE TABLE \"events\" (\n"
                 "  \"flag\" boolean,\n"
                 "  \"id\" bigint,\n"
                 "  \"cost\" double,\n"
                 "  \"na\"\"me`x\" varchar,\n"
                 "  \"ts\" timestamp(3),\n"
                 "  \"day\" date,\n"
                 "  \"n\" integer,\n"
                 "  \"ratio\" real,\n"
                 "  \"dt\" varchar,\n"
                 "  \"hr\" varchar\n"
                 ")\n"
                 "WITH (\n"
                 "  external_location = 'file:///data/sluice%20data/events',\n"
                 "  format = 'PARQUET',\n"
                 "  partitioned_by = ARRAY['dt', 'hr']\n"
                 ");\n"
                 "-- Register partitions now and whenever new ones appear (FULL also forgets "
                 "removed ones):\n"
                 "CALL system.sync_partition_metadata('default', 'events', 'FULL');\n");
    free(s);
    s = ct_ddl(&t, NULL, "trino", "s3://bucket/lake/events/", "web", err, sizeof err);
    CHECK(s);
    CHECK(strstr(s, "CREATE TABLE \"web\".\"events\" ("));
    CHECK(strstr(s, "external_location = 's3://bucket/lake/events',"));
    CHECK(strstr(s, "sync_partition_metadata('web', 'events', 'FULL')"));
    free(s);
}

TEST(catalog_ddl_athena)
{
    ct_column cols[9];
    ct_table t = ddl_table(cols);
    struct ct_table_stats st;
    memset(&st, 0, sizeof st);
    snprintf(st.min_partition, sizeof st.min_partition, "dt=2024-04-28/hr=17");
    char *s = ct_ddl(&t, &st, "athena", NULL, NULL, err, sizeof err);
    CHECK(!s);
    CHECK_MSG(strstr(err, "Athena reads only s3:// locations"), "%s", err);
    s = ct_ddl(&t, &st, "athena", "s3://bucket/lake/events", NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_STR(s,
                 "-- Athena: lake table events, Parquet files read in place.\n"
                 "-- Partition columns are strings (the dt=/hr= directory values).\n"
                 "-- Partition projection computes the partitions: no MSCK REPAIR needed.\n"
                 "-- The dt range starts at the table's first day; widen it for older backfills.\n"
                 "CREATE EXTERNAL TABLE `events` (\n"
                 "  `flag` boolean,\n"
                 "  `id` bigint,\n"
                 "  `cost` double,\n"
                 "  `na\"me``x` string,\n"
                 "  `ts` timestamp,\n"
                 "  `day` date,\n"
                 "  `n` int,\n"
                 "  `ratio` float\n"
                 ")\n"
                 "PARTITIONED BY (`dt` string, `hr` string)\n"
                 "STORED AS PARQUET\n"
                 "LOCATION 's3://bucket/lake/events/'\n"
                 "TBLPROPERTIES (\n"
                 "  'projection.enabled' = 'true',\n"
                 "  'projection.dt.type' = 'date',\n"
                 "  'projection.dt.format' = 'yyyy-MM-dd',\n"
                 "  'projection.dt.range' = '2024-04-28,NOW',\n"
                 "  'projection.dt.interval' = '1',\n"
                 "  'projection.dt.interval.unit' = 'DAYS',\n"
                 "  'projection.hr.type' = 'integer',\n"
                 "  'projection.hr.range' = '0,23',\n"
                 "  'projection.hr.digits' = '2',\n"
                 "  'storage.location.template' = 's3://bucket/lake/events/dt=${dt}/hr=${hr}/'\n"
                 ");\n");
    free(s);
    /* no files: the range starts at the table's creation day */
    s = ct_ddl(&t, NULL, "athena", "s3://b/events", NULL, err, sizeof err);
    CHECK(s && strstr(s, "'projection.dt.range' = '2024-05-04,NOW'"));
    free(s);
    /* other partition layouts: no projection, MSCK REPAIR */
    snprintf(t.partition, sizeof t.partition, "region");
    s = ct_ddl(&t, NULL, "athena", "s3://b/events", NULL, err, sizeof err);
    CHECK(s && !strstr(s, "TBLPROPERTIES") && strstr(s, "PARTITIONED BY (`region` string)") &&
          strstr(s, "MSCK REPAIR TABLE `events`;"));
    free(s);
}

TEST(catalog_ddl_spark)
{
    ct_column cols[9];
    ct_table t = ddl_table(cols);
    char *s = ct_ddl(&t, NULL, "spark", NULL, NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_STR(s, "-- Spark SQL: lake table events, Parquet files read in place.\n"
                    "-- Partition columns are strings (the dt=/hr= directory values).\n"
                    "CREATE TABLE `events` (\n"
                    "  `flag` BOOLEAN,\n"
                    "  `id` BIGINT,\n"
                    "  `cost` DOUBLE,\n"
                    "  `na\"me``x` STRING,\n"
                    "  `ts` TIMESTAMP,\n"
                    "  `day` DATE,\n"
                    "  `n` INT,\n"
                    "  `ratio` FLOAT,\n"
                    "  `dt` STRING,\n"
                    "  `hr` STRING\n"
                    ")\n"
                    "USING parquet\n"
                    "PARTITIONED BY (`dt`, `hr`)\n"
                    "LOCATION 'file:///data/sluice%20data/events';\n"
                    "-- Register partitions now and whenever new ones appear:\n"
                    "MSCK REPAIR TABLE `events`;\n");
    free(s);
}

TEST(catalog_ddl_duckdb)
{
    ct_column cols[9];
    ct_table t = ddl_table(cols);
    snprintf(t.location, sizeof t.location, "/data/it's/events/");
    char *s = ct_ddl(&t, NULL, "duckdb", NULL, NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_STR(s, "-- DuckDB: lake table events as a view over its Parquet files.\n"
                    "-- Partition columns are strings (hive_types_autocast = false).\n"
                    "CREATE OR REPLACE VIEW \"events\" AS\n"
                    "SELECT * FROM read_parquet('/data/it''s/events/**/*.parquet', "
                    "hive_partitioning = true, hive_types_autocast = false, union_by_name = true);\n");
    free(s);
    t.partition[0] = 0;
    t.ncols = 0; /* DuckDB needs no column list */
    s = ct_ddl(&t, NULL, "duckdb", NULL, NULL, err, sizeof err);
    CHECK(s && strstr(s, "hive_partitioning = false, union_by_name = true);"));
    free(s);
    CHECK(!ct_ddl(&t, NULL, "spark", NULL, NULL, err, sizeof err));
    CHECK_MSG(strstr(err, "no columns yet"), "%s", err);
    CHECK(!ct_ddl(&t, NULL, "oracle", NULL, NULL, err, sizeof err));
    CHECK_MSG(strstr(err, "unknown dialect 'oracle'"), "%s", err);
}

/* ---- the CLI commands, run in-process with stdout captured --------------------- */

/* Run fn(argv) with stdout (and stderr) going to files; returns the exit
 * code and leaves the output in out[cap]. */
static int run_cli(int (*fn)(int, char **), char **argv, char *out, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cli.out", t_tmpdir());
    fflush(stdout);
    fflush(stderr);
    int saved = dup(1), saved2 = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    int argc = 0;
    while (argv[argc]) argc++;
    int rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, 1);
    dup2(saved2, 2);
    close(saved);
    close(saved2);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f) fclose(f);
    return rc;
}

TEST(catalog_cli_commands)
{
    char dir[512], path[600], out[16384];
    snprintf(dir, sizeof dir, "%s/clidata", t_tmpdir());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *c = ct_open(path, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "events");
    ct_column cols[2] = {{"id", CT_INT64, 0}, {"ts", CT_TIMESTAMP, 0}};
    int v;
    CHECK(ct_schema_set(c, tid, cols, 2, NULL, &v, err, sizeof err) == 0);
    ct_file f[2] = {mkfile("dt=2024-05-01/hr=03", "a.parquet", 10),
                    mkfile("dt=2024-05-02/hr=00", "b.parquet", 2048)};
    CHECK(ct_commit(c, tid, f, 2, "events", 2, err, sizeof err) == 0);
    ct_close(c);

    char *a1[] = {"tables", "--data", dir, NULL};
    CHECK_EQ_INT(run_cli(cli_tables, a1, out, sizeof out), 0);
    CHECK_MSG(strstr(out, "NAME") && strstr(out, "events") && strstr(out, "20.1 KiB") &&
                  strstr(out, "dt=2024-05-01/hr=03..dt=2024-05-02/hr=00"),
              "%s", out);
    char *a2[] = {"tables", "--data", dir, "--format", "json", NULL};
    CHECK_EQ_INT(run_cli(cli_tables, a2, out, sizeof out), 0);
    CHECK_MSG(strstr(out, "\"name\":\"events\",\"files\":2,\"rows\":2058,\"bytes\":20580,"
                          "\"partitions\":2"),
              "%s", out);
    char *a3[] = {"tables", "--format", "xml", NULL};
    CHECK_EQ_INT(run_cli(cli_tables, a3, out, sizeof out), 2);
    char *a4[] = {"describe", "--data", dir, "events", "--files", "--json", NULL};
    CHECK_EQ_INT(run_cli(cli_describe, a4, out, sizeof out), 0);
    CHECK_MSG(strstr(out, "{\"name\":\"id\",\"type\":\"int64\",\"added_version\":1}") &&
                  strstr(out, "\"change\":\"added id int64, ts timestamp\"") &&
                  strstr(out, "\"path\":\"dt=2024-05-02/hr=00/b.parquet\""),
              "%s", out);
    char *a5[] = {"describe", "--data", dir, "nope", NULL};
    CHECK_EQ_INT(run_cli(cli_describe, a5, out, sizeof out), 1);
    CHECK_MSG(strstr(out, "unknown table 'nope' (sluice tables lists them)"), "%s", out);
    char *a6[] = {"ddl", "--data", dir, "events", NULL};
    CHECK_EQ_INT(run_cli(cli_ddl, a6, out, sizeof out), 2);
    char *a7[] = {"ddl", "--data", dir, "events", "--dialect", "duckdb", NULL};
    CHECK_EQ_INT(run_cli(cli_ddl, a7, out, sizeof out), 0);
    CHECK_MSG(strstr(out, "read_parquet('/lake/x/**/*.parquet'"), "%s", out);
    char *a8[] = {"ddl", "--data", dir, "events", "--dialect", "athena", NULL};
    CHECK_EQ_INT(run_cli(cli_ddl, a8, out, sizeof out), 2);
    char *a9[] = {"ddl", "--data", dir, "events", "-D", "athena", "-l", "s3://b/x", NULL};
    CHECK_EQ_INT(run_cli(cli_ddl, a9, out, sizeof out), 0);
    CHECK_MSG(strstr(out, "'projection.dt.range' = '2024-05-01,NOW'"), "%s", out);
    char *a10[] = {"ddl", "--data", dir, "nope", "--dialect", "trino", NULL};
    CHECK_EQ_INT(run_cli(cli_ddl, a10, out, sizeof out), 1);
}

/* ct_apply: a table created, files added and replaced and a position set in
 * one transaction; any failure changes nothing (no table left behind). */
TEST(catalog_apply_creates_table_with_files_atomically)
{
    ct_catalog *c = ct_open(db_path("apply"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_column cols[2] = {{.name = "a", .type = CT_INT64}, {.name = "b", .type = CT_STRING}};
    ct_new_table nt = {.name = "t2_new", .location = "/lake/t2_new", .partition = "k",
                       .cols = cols, .ncols = 2, .change = "created by test"};
    /* the second file lies outside its partition: refused, and no table remains */
    ct_file f[2] = {mkfile("k=a", "part-1.parquet", 3), mkfile("k=b", "part-2.parquet", 4)};
    snprintf(f[1].path, sizeof f[1].path, "k=c/part-2.parquet");
    ct_table_change t = {.create = &nt, .add = f, .nadd = 2};
    ct_change ch = {.tables = &t, .ntables = 1};
    CHECK_EQ_INT(ct_apply(c, &ch, err, sizeof err), -1);
    CHECK(strstr(err, "not inside its partition") != NULL);
    CHECK_EQ_INT(t.table_id, 0);
    ct_table tb;
    CHECK_EQ_INT(ct_table_get(c, "t2_new", &tb, err, sizeof err), 0);
    /* fixed: table, columns (version 1) and files in one go */
    snprintf(f[1].path, sizeof f[1].path, "k=b/part-2.parquet");
    CHECK_MSG(ct_apply(c, &ch, err, sizeof err) == 0, "%s", err);
    CHECK(t.table_id > 0);
    int64_t tid = t.table_id;
    CHECK_EQ_INT(ct_table_get(c, "t2_new", &tb, err, sizeof err), 1);
    CHECK_EQ_INT(tb.version, 1);
    CHECK_EQ_INT(tb.ncols, 2);
    CHECK_EQ_STR(tb.partition, "k");
    ct_table_free(&tb);
    /* creating it again is an error */
    t.add = NULL;
    t.nadd = 0;
    CHECK_EQ_INT(ct_apply(c, &ch, err, sizeof err), -1);
    CHECK(strstr(err, "already exists") != NULL);
    CHECK_EQ_INT(t.table_id, 0); /* this change created nothing */
    /* replace both files by one and set a position, atomically */
    ct_file *live = NULL;
    int n = ct_files(c, tid, NULL, &live, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    int64_t ids[2] = {n == 2 ? live[0].id : 0, n == 2 ? live[1].id : 0};
    ct_files_free(live, n);
    ct_file m = mkfile("k=a", "part-c1.parquet", 7);
    ct_table_change r = {.table_id = tid, .add = &m, .nadd = 1, .remove = ids, .nremove = 2};
    ct_change ch2 = {.tables = &r, .ntables = 1, .stream = "s", .next_offset = 9};
    CHECK_MSG(ct_apply(c, &ch2, err, sizeof err) == 0, "%s", err);
    uint64_t pos = 0;
    CHECK(ct_position(c, "s", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 9);
    n = ct_files(c, tid, NULL, &live, err, sizeof err);
    CHECK_EQ_INT(n, 1);
    ct_files_free(live, n);
    /* the trash is due only after the removal time */
    ct_file *tr = NULL;
    CHECK_EQ_INT(ct_trash_due(c, 0, &tr, err, sizeof err), 0);
    free(tr);
    n = ct_trash_due(c, INT64_MAX, &tr, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    ct_files_free(tr, n);
    CHECK_EQ_INT(ct_file_known(c, tid, "k=b/part-2.parquet", err, sizeof err), 1);
    CHECK_EQ_INT(ct_file_live(c, tid, "k=b/part-2.parquet", err, sizeof err), 0);
    /* a stale replace (already trashed ids) changes nothing, not even the position */
    ct_file m2 = mkfile("k=a", "part-c2.parquet", 7);
    r.add = &m2;
    ch2.next_offset = 20;
    CHECK_EQ_INT(ct_apply(c, &ch2, err, sizeof err), -1);
    CHECK(ct_position(c, "s", tid, &pos, err, sizeof err) == 0);
    CHECK_EQ_INT(pos, 9);
    ct_close(c);
}

/* Two writers (two connections) create the same new table at once, as two
 * windows of a new job do: the second finds it made by the first and, the
 * table being the same, commits into it; one that differs is UT_EEXISTS
 * naming both schemas.  `replace` finds the partition's files in the
 * commit's transaction, so the other writer's file there is replaced. */
TEST(catalog_apply_create_race_same_table_is_success)
{
    const char *path = db_path("create_race");
    ct_catalog *c1 = ct_open(path, err, sizeof err), *c2 = ct_open(path, err, sizeof err);
    CHECK_MSG(c1 && c2, "%s", err);
    ct_column cols[2] = {{.name = "n", .type = CT_INT64}, {.name = "s", .type = CT_STRING}};
    ct_new_table nt = {.name = "t2_race", .location = "/lake/t2_race", .partition = "dt",
                       .cols = cols, .ncols = 2, .change = "created by a job", .exists_ok = 1};
    /* both looked and found no table; writer 1 commits first */
    ct_file f1 = mkfile("dt=2024-05-01", "part-1.parquet", 3);
    ct_table_change t1 = {.create = &nt, .add = &f1, .nadd = 1};
    ct_change ch1 = {.tables = &t1, .ntables = 1};
    CHECK_MSG(ct_apply(c1, &ch1, err, sizeof err) == 0, "%s", err);
    ct_file f2 = mkfile("dt=2024-05-02", "part-2.parquet", 4);
    ct_table_change t2 = {.create = &nt, .add = &f2, .nadd = 1};
    ct_change ch2 = {.tables = &t2, .ntables = 1};
    CHECK_MSG(ct_apply(c2, &ch2, err, sizeof err) == 0, "%s", err);
    CHECK(t1.table_id > 0 && t2.table_id == t1.table_id);
    ct_file *live = NULL;
    int n = ct_files(c1, t1.table_id, NULL, &live, err, sizeof err);
    CHECK_EQ_INT(n, 2);
    ct_files_free(live, n);
    ct_schema_version *hist = NULL;
    CHECK_EQ_INT(ct_schema_history(c1, t1.table_id, &hist, err, sizeof err), 1);
    free(hist);
    /* a third writer whose SELECT typed n as double: a typed error naming both */
    ct_column other[2] = {{.name = "n", .type = CT_DOUBLE}, {.name = "s", .type = CT_STRING}};
    ct_new_table nt3 = nt;
    nt3.cols = other;
    ct_file f3 = mkfile("dt=2024-05-03", "part-3.parquet", 1);
    ct_table_change t3 = {.create = &nt3, .add = &f3, .nadd = 1};
    ct_change ch3 = {.tables = &t3, .ntables = 1};
    CHECK_EQ_INT(ct_apply(c2, &ch3, err, sizeof err), -1);
    CHECK_EQ_INT(ch3.err_kind, UT_EEXISTS);
    CHECK_MSG(strstr(err, "t2_race") && strstr(err, "(n int64, s string) partitioned by dt") &&
                  strstr(err, "(n double, s string) partitioned by dt"), "%s", err);
    CHECK_EQ_INT(t3.table_id, 0);
    /* other partition columns differ too */
    ct_new_table nt4 = nt;
    nt4.partition = "dt,hr";
    t3.create = &nt4;
    CHECK_EQ_INT(ct_apply(c2, &ch3, err, sizeof err), -1);
    CHECK_EQ_INT(ch3.err_kind, UT_EEXISTS);
    /* without exists_ok (CREATE TABLE AS) the name is taken: UT_EEXISTS */
    ct_new_table nt5 = nt;
    nt5.exists_ok = 0;
    t3.create = &nt5;
    CHECK_EQ_INT(ct_apply(c2, &ch3, err, sizeof err), -1);
    CHECK_EQ_INT(ch3.err_kind, UT_EEXISTS);
    CHECK(strstr(err, "already exists") != NULL);
    /* writer 2 replaces dt=2024-05-01, where writer 1 committed after it looked */
    static const char *const parts[] = {"dt=2024-05-01"};
    ct_file f4 = mkfile("dt=2024-05-01", "part-4.parquet", 5);
    ct_table_change t4 = {.create = &nt, .add = &f4, .nadd = 1, .replace = parts, .nreplace = 1};
    ct_change ch4 = {.tables = &t4, .ntables = 1};
    CHECK_MSG(ct_apply(c2, &ch4, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(t4.nreplaced, 1);
    CHECK(t4.replaced && !strcmp(t4.replaced[0].path, "dt=2024-05-01/part-1.parquet"));
    ct_files_free(t4.replaced, t4.nreplaced);
    n = ct_files(c1, t1.table_id, "dt=2024-05-01", &live, err, sizeof err);
    CHECK(n == 1 && !strcmp(live[0].path, "dt=2024-05-01/part-4.parquet"));
    ct_files_free(live, n);
    ct_close(c1);
    ct_close(c2);
}

/* ---- the types of snapshot columns: decimal, time, timestamp_ntz, bytes ---- */

static ct_column mkcol(const char *name, ct_type t, int p, int s)
{
    ct_column c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    c.type = t;
    c.precision = p;
    c.scale = s;
    return c;
}

TEST(catalog_column_type_text_round_trip)
{
    const char *texts[] = {"bool", "int64", "double", "string", "timestamp", "date", "int32",
                           "float", "decimal(12,2)", "decimal(38,38)", "decimal(1,0)", "time",
                           "timestamp_ntz", "bytes"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        ct_column c = mkcol("x", (ct_type)0, 0, 0);
        CHECK_MSG(ct_column_type_parse(texts[i], &c.type, &c.precision, &c.scale) == 0, "%s",
                  texts[i]);
        char out[CT_TYPE_TEXT_MAX];
        CHECK_EQ_STR(ct_column_type_text(&c, out, sizeof out), texts[i]);
        ct_type t;
        CHECK_EQ_INT(ct_type_parse(texts[i], &t), 0);
        CHECK_EQ_INT(t, c.type);
    }
    ct_type t;
    int p = 7, s = 7;
    CHECK_EQ_INT(ct_column_type_parse("decimal(12,2)", &t, &p, &s), 0);
    CHECK(t == CT_DECIMAL && p == 12 && s == 2);
    CHECK_EQ_INT(ct_column_type_parse("time", &t, &p, &s), 0);
    CHECK(t == CT_TIME && p == 0 && s == 0);
    const char *bad[] = {"decimal", "decimal()", "decimal(0,0)", "decimal(39,2)", "decimal(5,6)",
                         "decimal( 5,2)", "decimal(5,2) ", "decimal(5,2)x", "decimal(05,2)",
                         "decimal(5,-1)", "DECIMAL(5,2)", "decimal(5)", "Time", "binary", "",
                         "decimal(100,2)"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(ct_column_type_parse(bad[i], &t, &p, &s) == -1, "'%s' parsed", bad[i]);
    CHECK_EQ_INT(ct_type_parse(NULL, &t), -1);
    char out[CT_TYPE_TEXT_MAX];
    ct_column c = mkcol("x", CT_DECIMAL, 0, 0); /* no precision: not a type */
    CHECK_EQ_STR(ct_column_type_text(&c, out, sizeof out), "?");
    c = mkcol("x", CT_TYPE_END, 0, 0);
    CHECK_EQ_STR(ct_column_type_text(&c, out, sizeof out), "?");
    CHECK_EQ_STR(ct_type_name(CT_DECIMAL), "decimal");
    CHECK_EQ_STR(ct_type_name(CT_BYTES), "bytes");
}

TEST(catalog_widening_table)
{
    struct {
        ct_type f;
        int fp, fs;
        ct_type t;
        int tp, ts, ok;
    } w[] = {
        {CT_DECIMAL, 10, 2, CT_DECIMAL, 12, 2, 1},  {CT_DECIMAL, 10, 2, CT_DECIMAL, 11, 3, 1},
        {CT_DECIMAL, 10, 2, CT_DECIMAL, 10, 3, 0},  {CT_DECIMAL, 10, 2, CT_DECIMAL, 12, 1, 0},
        {CT_DECIMAL, 10, 2, CT_DECIMAL, 9, 2, 0},   {CT_DECIMAL, 10, 2, CT_DOUBLE, 0, 0, 1},
        {CT_DECIMAL, 10, 2, CT_STRING, 0, 0, 1},    {CT_DECIMAL, 10, 2, CT_INT64, 0, 0, 0},
        {CT_DECIMAL, 10, 2, CT_FLOAT, 0, 0, 0},     {CT_INT32, 0, 0, CT_DECIMAL, 10, 0, 1},
        {CT_INT32, 0, 0, CT_DECIMAL, 12, 2, 1},     {CT_INT32, 0, 0, CT_DECIMAL, 11, 2, 0},
        {CT_INT64, 0, 0, CT_DECIMAL, 19, 0, 1},     {CT_INT64, 0, 0, CT_DECIMAL, 18, 0, 0},
        {CT_INT64, 0, 0, CT_DECIMAL, 38, 20, 0},    {CT_INT64, 0, 0, CT_DECIMAL, 38, 19, 1},
        {CT_DOUBLE, 0, 0, CT_DECIMAL, 38, 2, 0},    {CT_STRING, 0, 0, CT_DECIMAL, 38, 2, 0},
        {CT_TIME, 0, 0, CT_STRING, 0, 0, 1},        {CT_TIME, 0, 0, CT_INT64, 0, 0, 0},
        {CT_TIME, 0, 0, CT_TIMESTAMP, 0, 0, 0},     {CT_TIMESTAMP_NTZ, 0, 0, CT_STRING, 0, 0, 1},
        {CT_TIMESTAMP_NTZ, 0, 0, CT_TIMESTAMP, 0, 0, 0}, {CT_TIMESTAMP, 0, 0, CT_TIMESTAMP_NTZ, 0, 0, 0},
        {CT_DATE, 0, 0, CT_TIMESTAMP_NTZ, 0, 0, 1}, {CT_DATE, 0, 0, CT_TIMESTAMP, 0, 0, 1},
        {CT_BYTES, 0, 0, CT_STRING, 0, 0, 1},       {CT_STRING, 0, 0, CT_BYTES, 0, 0, 0},
        {CT_INT64, 0, 0, CT_BYTES, 0, 0, 0},        {CT_BYTES, 0, 0, CT_BYTES, 0, 0, 1},
        {CT_TIME, 0, 0, CT_TIME, 0, 0, 1},          {CT_INT32, 0, 0, CT_INT64, 0, 0, 1},
        {CT_INT64, 0, 0, CT_INT32, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
        ct_column a = mkcol("x", w[i].f, w[i].fp, w[i].fs), b = mkcol("x", w[i].t, w[i].tp, w[i].ts);
        CHECK_MSG(ct_column_widens(&a, &b) == w[i].ok, "row %zu: %s(%d,%d) -> %s(%d,%d)", i,
                  ct_type_name(w[i].f), w[i].fp, w[i].fs, ct_type_name(w[i].t), w[i].tp, w[i].ts);
    }
    /* by types alone (kind_snapshot's question) */
    CHECK_EQ_INT(ct_type_widens(CT_DECIMAL, CT_DOUBLE), 1);
    CHECK_EQ_INT(ct_type_widens(CT_DECIMAL, CT_DECIMAL), 1);
    CHECK_EQ_INT(ct_type_widens(CT_INT64, CT_DECIMAL), 0);
    CHECK_EQ_INT(ct_type_widens(CT_TIME, CT_STRING), 1);
    CHECK_EQ_INT(ct_type_widens(CT_TIME, CT_INT64), 0);
    CHECK_EQ_INT(ct_type_widens(CT_DATE, CT_TIMESTAMP_NTZ), 1);
    CHECK_EQ_INT(ct_type_widens(CT_BYTES, CT_STRING), 1);
    CHECK_EQ_INT(ct_type_widens(CT_STRING, CT_BYTES), 0);

    /* the merge: the wider, or for two decimals the one holding both */
    ct_column o, a = mkcol("x", CT_DECIMAL, 10, 2), b = mkcol("x", CT_DECIMAL, 10, 4);
    CHECK_EQ_INT(ct_column_widen(&a, &b, &o), 1);
    CHECK(o.type == CT_DECIMAL && o.precision == 12 && o.scale == 4);
    b = mkcol("x", CT_DECIMAL, 8, 1); /* a holds it */
    CHECK_EQ_INT(ct_column_widen(&a, &b, &o), 1);
    CHECK(o.type == CT_DECIMAL && o.precision == 10 && o.scale == 2);
    a = mkcol("x", CT_DECIMAL, 38, 0);
    b = mkcol("x", CT_DECIMAL, 10, 5); /* 38 integer digits + 5: no decimal holds both */
    CHECK_EQ_INT(ct_column_widen(&a, &b, &o), 1);
    CHECK_EQ_INT(o.type, CT_STRING);
    CHECK(o.precision == 0 && o.scale == 0);
    a = mkcol("x", CT_INT32, 0, 0);
    b = mkcol("x", CT_DECIMAL, 12, 2);
    CHECK_EQ_INT(ct_column_widen(&a, &b, &o), 1);
    CHECK(o.type == CT_DECIMAL && o.precision == 12 && o.scale == 2);
    a = mkcol("x", CT_INT64, 0, 0); /* does not fit: refused, old kept */
    CHECK_EQ_INT(ct_column_widen(&a, &b, &o), 0);
    CHECK(o.type == CT_INT64 && o.precision == 0);
    a = mkcol("x", CT_TIME, 0, 0);
    b = mkcol("x", CT_TIMESTAMP_NTZ, 0, 0);
    CHECK_EQ_INT(ct_column_widen(&a, &b, &o), 0);
    CHECK_EQ_INT(o.type, CT_TIME);
}

TEST(catalog_snapshot_types_stored_and_widened)
{
    const char *p = db_path("ltypes");
    ct_catalog *c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "snap");
    ct_column cols[5] = {mkcol("amount", CT_DECIMAL, 12, 2), mkcol("at", CT_TIME, 0, 0),
                         mkcol("local", CT_TIMESTAMP_NTZ, 0, 0), mkcol("blob", CT_BYTES, 0, 0),
                         mkcol("n", CT_INT32, 0, 0)};
    int v = -1;
    CHECK_MSG(ct_schema_set(c, tid, cols, 5, NULL, &v, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(v, 1);
    CHECK_EQ_INT(ct_schema_set(c, tid, cols, 5, NULL, &v, err, sizeof err), 0); /* unchanged */
    CHECK_EQ_INT(v, 1);
    /* a scale that loses an integer digit is refused, naming both types */
    cols[0] = mkcol("amount", CT_DECIMAL, 12, 3);
    CHECK_EQ_INT(ct_schema_set(c, tid, cols, 5, NULL, &v, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "'amount' cannot change from decimal(12,2) to decimal(12,3)"), "%s", err);
    cols[0] = mkcol("amount", CT_DECIMAL, 0, 0);
    CHECK_EQ_INT(ct_schema_set(c, tid, cols, 5, NULL, &v, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "unknown type"), "%s", err);
    cols[0] = mkcol("amount", CT_DECIMAL, 14, 3);
    CHECK_MSG(ct_schema_set(c, tid, cols, 5, NULL, &v, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(v, 2);
    /* the merge: int32 n into decimal(10,0) fits, amount decimal(14,3) + decimal(10,5) */
    ct_column want[2] = {mkcol("AMOUNT", CT_DECIMAL, 10, 5), mkcol("n", CT_DECIMAL, 10, 0)};
    ct_table t;
    CHECK_MSG(ct_schema_extend(c, "snap", want, 2, &t, err, sizeof err) == 1, "%s", err);
    CHECK_EQ_INT(t.version, 3);
    ct_table_free(&t);
    ct_close(c);

    c = ct_open(p, err, sizeof err); /* as stored */
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_INT(ct_table_get(c, "snap", &t, err, sizeof err), 1);
    CHECK_EQ_INT(t.ncols, 5);
    char ty[5][CT_TYPE_TEXT_MAX];
    for (int i = 0; i < 5; i++) ct_column_type_text(&t.cols[i], ty[i], sizeof ty[i]);
    CHECK_EQ_STR(ty[0], "decimal(16,5)");
    CHECK_EQ_STR(ty[1], "time");
    CHECK_EQ_STR(ty[2], "timestamp_ntz");
    CHECK_EQ_STR(ty[3], "bytes");
    CHECK_EQ_STR(ty[4], "decimal(10,0)");
    ct_table_free(&t);
    ct_schema_version *h;
    int n = ct_schema_history(c, tid, &h, err, sizeof err);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(h[0].change, "added amount decimal(12,2), at time, local timestamp_ntz, blob "
                              "bytes, n int32");
    CHECK_EQ_STR(h[1].change, "widened amount decimal(12,2) -> decimal(14,3)");
    CHECK_EQ_STR(h[2].change, "widened amount decimal(14,3) -> decimal(16,5), n int32 -> "
                              "decimal(10,0)");
    free(h);
    ct_close(c);
    /* the version JSON holds the same text */
    sqlite3 *db;
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    sqlite3_stmt *s;
    CHECK(sqlite3_prepare_v2(db, "SELECT columns_json FROM schema_versions WHERE version = 3",
                             -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    const char *j = (const char *)sqlite3_column_text(s, 0);
    CHECK_MSG(j && strstr(j, "\"name\":\"amount\",\"type\":\"decimal(16,5)\"") &&
              strstr(j, "\"type\":\"timestamp_ntz\""), "%s", j ? j : "(null)");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

TEST(catalog_old_column_types_still_read)
{
    /* a catalog's columns as older versions wrote them: the bare names */
    const char *p = db_path("oldtypes");
    ct_catalog *c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "old");
    ct_close(c);
    sqlite3 *db;
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO columns(table_id, ordinal, name, type, added_version) VALUES "
             "(%lld,0,'a','bool',1),(%lld,1,'b','int64',1),(%lld,2,'c','double',1),"
             "(%lld,3,'d','string',1),(%lld,4,'e','timestamp',1),(%lld,5,'f','date',1),"
             "(%lld,6,'g','int32',1),(%lld,7,'h','float',1); "
             "UPDATE tables SET version = 1 WHERE id = %lld",
             (long long)tid, (long long)tid, (long long)tid, (long long)tid, (long long)tid,
             (long long)tid, (long long)tid, (long long)tid, (long long)tid);
    CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_table t;
    CHECK_MSG(ct_table_get(c, "old", &t, err, sizeof err) == 1, "%s", err);
    CHECK_EQ_INT(t.ncols, 8);
    ct_type want[] = {CT_BOOL, CT_INT64, CT_DOUBLE, CT_STRING, CT_TIMESTAMP, CT_DATE, CT_INT32,
                      CT_FLOAT};
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(t.cols[i].type, want[i]);
        CHECK(t.cols[i].precision == 0 && t.cols[i].scale == 0);
    }
    ct_table_free(&t);
    ct_close(c);
    /* a type text no version wrote is an error naming it */
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE columns SET type = 'decimal(40,2)' WHERE name = 'c'", NULL,
                       NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_INT(ct_table_get(c, "old", &t, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "column 'c' has unknown type 'decimal(40,2)'"), "%s", err);
    ct_close(c);
}

TEST(catalog_ddl_snapshot_types)
{
    ct_column cols[5] = {mkcol("amount", CT_DECIMAL, 12, 2), mkcol("at", CT_TIME, 0, 0),
                         mkcol("local", CT_TIMESTAMP_NTZ, 0, 0), mkcol("blob", CT_BYTES, 0, 0),
                         mkcol("big", CT_DECIMAL, 38, 0)};
    ct_table t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "snap");
    snprintf(t.location, sizeof t.location, "s3://b/lake/snap");
    t.cols = cols;
    t.ncols = 5;
    t.version = 1;
    const char *dialects[] = {"trino", "athena", "spark"};
    const char *want[] = {
        "  \"amount\" decimal(12,2),\n  \"at\" time(6),\n  \"local\" timestamp(3),\n"
        "  \"blob\" varbinary,\n  \"big\" decimal(38,0)\n)",
        "  `amount` decimal(12,2),\n  `at` bigint,\n  `local` timestamp,\n  `blob` binary,\n"
        "  `big` decimal(38,0)\n)",
        "  `amount` DECIMAL(12,2),\n  `at` BIGINT,\n  `local` TIMESTAMP_NTZ,\n  `blob` BINARY,\n"
        "  `big` DECIMAL(38,0)\n)"};
    const char *note[] = {"-- time columns are time(6)",
                          ("-- time columns have no type here: bigint, microseconds since "
                           "midnight."),
                          "-- time columns have no type"};
    for (int d = 0; d < 3; d++) {
        char *s = ct_ddl(&t, NULL, dialects[d], NULL, NULL, err, sizeof err);
        CHECK_MSG(s, "%s: %s", dialects[d], err);
        CHECK_MSG(strstr(s, want[d]) && strstr(s, note[d]), "%s:\n%s", dialects[d], s);
        free(s);
    }
    char *s = ct_ddl(&t, NULL, "duckdb", NULL, NULL, err, sizeof err); /* types from the files */
    CHECK_MSG(s && strstr(s, "read_parquet"), "%s", s ? s : err);
    free(s);
}

TEST(catalog_describe_json)
{
    ut_buf b = {0};
    CHECK(ct_tables_json(NULL, &b, err, sizeof err) == 0); /* no catalog yet */
    CHECK_MSG(!strcmp(ut_buf_cstr(&b), "[]\n"), "%s", ut_buf_cstr(&b));
    ut_buf_free(&b);
    ct_catalog *c = ct_open(db_path("describe"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t tid = mktable(c, "events");
    ct_file f[3] = {mkfile("dt=2024-05-01/hr=03", "part-1.parquet", 10),
                    mkfile("dt=2024-05-01/hr=04", "part-2.parquet", 20),
                    mkfile("dt=2024-05-01/hr=04", "part-3.parquet", 30)};
    CHECK_MSG(ct_commit(c, tid, f, 3, "events", 60, err, sizeof err) == 0, "%s", err);
    CHECK(ct_tables_json(c, &b, err, sizeof err) == 0);
    const char *s = ut_buf_cstr(&b);
    CHECK_MSG(strstr(s, "\"name\":\"events\",\"files\":3,\"rows\":60,\"bytes\":600,\"partitions\":2") &&
                  strstr(s, "\"last_commit\":\"20"), "%s", s);
    ut_buf_free(&b);
    ct_description d;
    CHECK_EQ_INT(ct_describe(c, "nope", &d, err, sizeof err), 0);
    ct_description_free(&d);
    CHECK_EQ_INT(ct_describe(c, "events", &d, err, sizeof err), 1);
    CHECK_EQ_INT(d.nfiles, 3);
    CHECK_EQ_INT(d.nparts, 2);
    CHECK_EQ_INT(d.parts[1].rows, 50);
    CHECK(!d.has_producer && !strcmp(d.reads, ""));
    ct_description_json(&d, 2, &b); /* cut: two files, files_total says 3 */
    s = ut_buf_cstr(&b);
    CHECK_MSG(strstr(s, "part-2.parquet") && !strstr(s, "part-3.parquet") &&
                  strstr(s, "\"files_total\":3") && strstr(s, "\"producer\":null}\n"), "%s", s);
    ut_buf_free(&b);
    ct_description_json(&d, 0, &b); /* none */
    CHECK(!strstr(ut_buf_cstr(&b), "\"files\":[") && !strstr(ut_buf_cstr(&b), "files_total"));
    ut_buf_free(&b);
    ct_description_json(&d, -1, &b); /* all */
    CHECK(strstr(ut_buf_cstr(&b), "part-3.parquet") && !strstr(ut_buf_cstr(&b), "files_total"));
    ut_buf_free(&b);
    ct_description_free(&d);
    ct_description_free(NULL);
    ct_close(c);
}

/* ---- views ---------------------------------------------------------------- */

static ct_view order_view(void)
{
    ct_view v;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "events_latest");
    snprintf(v.base, sizeof v.base, "events");
    snprintf(v.job, sizeof v.job, "shop");
    snprintf(v.key[0], sizeof v.key[0], "id");
    v.nkey = 1;
    snprintf(v.order, sizeof v.order, "ts");
    return v;
}

TEST(catalog_view_sql_dialects)
{
    ct_column cols[9];
    ct_table t = ddl_table(cols);
    ct_view v = order_view();
    char *s = ct_view_sql(&v, &t, "sqlite", NULL, 0, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    /* data columns only (dt is the partition's), ties: later partitions, then the others */
    CHECK_EQ_STR(s, "SELECT \"flag\", \"id\", \"cost\", \"na\"\"me`x\", \"ts\", \"day\", \"n\", "
                    "\"ratio\" FROM (SELECT *, row_number() OVER (PARTITION BY \"id\" ORDER BY "
                    "\"ts\" DESC NULLS LAST, \"dt\" DESC, \"hr\" DESC, \"flag\", \"cost\", "
                    "\"na\"\"me`x\", \"day\", \"n\", \"ratio\") AS \"_sluice_rn\" FROM "
                    "\"events\") WHERE \"_sluice_rn\" = 1");
    free(s);
    s = ct_view_sql(&v, &t, "spark", "web", 1, err, sizeof err);
    CHECK_MSG(s && strstr(s, "CREATE OR REPLACE VIEW `web`.`events_latest` AS\n") &&
                  strstr(s, "PARTITION BY `id` ORDER BY `ts` DESC NULLS LAST") &&
                  strstr(s, "`na\"me``x`") && strstr(s, "FROM `web`.`events`\n) AS `latest`"),
              "%s", s ? s : err);
    free(s);
    CHECK(!ct_view_sql(&v, &t, "oracle", NULL, 1, err, sizeof err) && strstr(err, "oracle"));
    snprintf(v.key[0], sizeof v.key[0], "dt"); /* a partition column is no key */
    CHECK(!ct_view_sql(&v, &t, "trino", NULL, 1, err, sizeof err) &&
          strstr(err, "has no column 'dt'"));
}

TEST(catalog_view_put_names)
{
    ct_catalog *c = ct_open(db_path("views"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_column cols[2] = {{.name = "id", .type = CT_INT64}, {.name = "ts", .type = CT_TIMESTAMP}};
    ct_table t;
    CHECK(ct_table_ensure(c, "events", "/x/events", "dt", "", &t, err, sizeof err) == 1);
    int ver;
    CHECK_MSG(ct_schema_set(c, t.id, cols, 2, "created", &ver, err, sizeof err) == 0, "%s", err);
    ct_table_free(&t);
    ct_view v = order_view();
    CHECK_MSG(ct_view_put(c, &v, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ct_view_put(c, &v, err, sizeof err) == 0, "again: %s", err); /* an update */
    ct_view g;
    CHECK(ct_view_get(c, "EVENTS_LATEST", &g, err, sizeof err) == 1);
    CHECK_EQ_STR(g.base, "events");
    CHECK_EQ_INT(g.nkey, 1);
    CHECK_EQ_STR(g.key[0], "id");
    CHECK(strstr(g.sql, "PARTITION BY \"id\" ORDER BY \"ts\" DESC") != NULL);
    ct_view_free(&g);
    snprintf(v.job, sizeof v.job, "other"); /* another job's view of that name */
    CHECK(ct_view_put(c, &v, err, sizeof err) < 0 && strstr(err, "is job shop's"));
    snprintf(v.name, sizeof v.name, "Events"); /* a table's name, in another case */
    CHECK(ct_view_put(c, &v, err, sizeof err) < 0 && strstr(err, "a table named events"));
    /* and no table may take a view's name */
    CHECK(ct_table_ensure(c, "Events_Latest", "/x/e2", "", "", NULL, err, sizeof err) < 0 &&
          strstr(err, "a view named 'events_latest' exists"));
    ct_view *all;
    CHECK_EQ_INT(ct_views(c, &all, err, sizeof err), 1);
    ct_views_free(all, 1);
    v = order_view(); /* renamed in the config: the new name replaces the old */
    snprintf(v.name, sizeof v.name, "events_now");
    CHECK_MSG(ct_view_put(c, &v, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(ct_views(c, &all, err, sizeof err), 1);
    CHECK_EQ_STR(all[0].name, "events_now");
    ct_views_free(all, 1);
    ct_close(c);
}

TEST(catalog_console_objects_versions)
{
    const char *p = db_path("objs");
    ct_catalog *c = ct_open(p, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int64_t a = ct_obj_create(c, CT_OBJ_SAVED_QUERY, "b query", "{\"sql\":\"SELECT 1\"}", err, sizeof err);
    int64_t b = ct_obj_create(c, CT_OBJ_SAVED_QUERY, "A query", "{}", err, sizeof err);
    int64_t d = ct_obj_create(c, CT_OBJ_DASHBOARD, "dash", "{}", err, sizeof err);
    CHECK(a > 0 && b > a && d > 0);
    ct_obj *o = NULL;
    CHECK_EQ_INT(ct_objs(c, CT_OBJ_SAVED_QUERY, 0, &o, err, sizeof err), 2);
    CHECK_EQ_STR(o[0].name, "A query"); /* by name, case ignored */
    CHECK_EQ_INT(o[1].version, 1);
    ct_objs_free(o, 2);
    int64_t cur = 0;
    CHECK_EQ_INT(ct_obj_update(c, CT_OBJ_SAVED_QUERY, a, 1, "b2", "{\"x\":1}", &cur, err, sizeof err), 0);
    CHECK_EQ_INT(cur, 2);
    /* a stale version changes nothing and says which version it is at */
    CHECK_EQ_INT(ct_obj_update(c, CT_OBJ_SAVED_QUERY, a, 1, "lost", "{}", &cur, err, sizeof err), CT_OBJ_STALE);
    CHECK_EQ_INT(cur, 2);
    CHECK(strstr(err, "version 2, not 1"));
    CHECK_EQ_INT(ct_objs(c, CT_OBJ_SAVED_QUERY, a, &o, err, sizeof err), 1);
    CHECK_EQ_STR(o[0].name, "b2");
    CHECK_EQ_STR(o[0].spec, "{\"x\":1}");
    ct_objs_free(o, 1);
    CHECK_EQ_INT(ct_obj_delete(c, CT_OBJ_SAVED_QUERY, a, 1, &cur, err, sizeof err), CT_OBJ_STALE);
    CHECK_EQ_INT(ct_obj_delete(c, CT_OBJ_SAVED_QUERY, a, 2, &cur, err, sizeof err), 0);
    CHECK_EQ_INT(ct_obj_delete(c, CT_OBJ_SAVED_QUERY, a, 2, &cur, err, sizeof err), CT_OBJ_NOTFOUND);
    CHECK_EQ_INT(ct_obj_update(c, CT_OBJ_DASHBOARD, 999, 1, "x", "{}", &cur, err, sizeof err), CT_OBJ_NOTFOUND);
    CHECK_EQ_INT(ct_objs(c, CT_OBJ_DASHBOARD, 0, &o, err, sizeof err), 1);
    ct_objs_free(o, 1);
    ct_close(c);
}

/* Run logs: one per attempt, replaced on a rewrite, the end kept past the
 * cap (on a UTF-8 boundary), a job's oldest dropped past CT_RUN_LOGS_KEPT. */
typedef struct logs_seen {
    int n, attempt[4];
    size_t len[4];
    char first[4][32], last[4][32];
} logs_seen;

static void on_log_row(void *arg, int attempt, int64_t created_ms, const char *text, size_t n)
{
    logs_seen *s = arg;
    (void)created_ms;
    if (s->n >= 4) return;
    s->attempt[s->n] = attempt;
    s->len[s->n] = n;
    snprintf(s->first[s->n], sizeof s->first[0], "%.*s", (int)(n < 31 ? n : 31), text);
    snprintf(s->last[s->n], sizeof s->last[0], "%s", n > 8 ? text + n - 8 : text);
    s->n++;
}

TEST(catalog_run_logs)
{
    ct_catalog *c = ct_open(db_path("runlogs"), err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_run r = {.window_start = 0, .window_end = 1, .state = CT_RUN_WAITING, .attempt = 1};
    snprintf(r.job, sizeof r.job, "j");
    snprintf(r.trigger, sizeof r.trigger, "manual");
    CHECK_MSG(ct_run_create(c, &r, err, sizeof err) == 0, "%s", err);
    CHECK(ct_run_log_put(c, r.id, 1, "j", "first try\n", 10, err, sizeof err) == 0);
    CHECK(ct_run_log_put(c, r.id, 2, "j", "second", 6, err, sizeof err) == 0);
    CHECK(ct_run_log_put(c, r.id, 2, "j", "second, again", 13, err, sizeof err) == 0);
    logs_seen s = {0};
    CHECK_EQ_INT(ct_run_logs(c, r.id, on_log_row, &s, err, sizeof err), 2);
    CHECK_EQ_INT(s.attempt[0], 1);
    CHECK_EQ_STR(s.first[0], "first try\n");
    CHECK_EQ_STR(s.first[1], "second, again");
    /* over the cap: the end is kept, starting on a character */
    size_t big = CT_RUN_LOG_MAX + 1001;
    char *t = malloc(big); /* "é" repeated (2 bytes each) from byte 1: the cut lands mid-character */
    t[0] = 'a', t[1] = 'b'; /* pairs from byte 2: byte 1001, where the cut falls, is a second byte */
    for (size_t i = 2; i + 1 < big; i += 2) memcpy(t + i, "\xc3\xa9", 2);
    memcpy(t + big - 4, "END!", 4);
    CHECK(ct_run_log_put(c, r.id, 3, "j", t, big, err, sizeof err) == 0);
    free(t);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(ct_run_logs(c, r.id, on_log_row, &s, err, sizeof err), 3);
    CHECK_EQ_INT((long)s.len[2], (long)CT_RUN_LOG_MAX - 1); /* one byte of a character dropped */
    CHECK(((unsigned char)s.first[2][0] & 0xC0) != 0x80);
    CHECK(strstr(s.last[2], "END!") != NULL);
    /* a job keeps its last CT_RUN_LOGS_KEPT runs' logs */
    int64_t first_id = r.id;
    for (int i = 0; i < CT_RUN_LOGS_KEPT + 5; i++) {
        ct_run x = r;
        x.id = 0;
        CHECK(ct_run_create(c, &x, err, sizeof err) == 0);
        CHECK(ct_run_log_put(c, x.id, 1, "j", "x", 1, err, sizeof err) == 0);
    }
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(ct_run_logs(c, first_id, on_log_row, &s, err, sizeof err), 0);
    ct_close(c);
}
