/* SQL engine: lake tables over a lake written by the real sink, pushdown
 * counts, schema evolution, the journal tail, table functions, safety. */
#include "t.h"
#include "catalog/catalog.h"
#include "lake/lake.h"
#include "sql/sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char err[2048];

/* One text result of a query ("" for no rows; values joined by ','). */
typedef struct qres {
    char text[4096];
    int rows;
} qres;

static int collect(void *ctx, sqlite3_stmt *st)
{
    qres *r = ctx;
    size_t l = strlen(r->text);
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *v = (const char *)sqlite3_column_text(st, i);
        l += (size_t)snprintf(r->text + l, sizeof r->text - l, "%s%s", i ? "," : (r->rows ? ";" : ""),
                              v ? v : "NULL");
        if (l >= sizeof r->text) l = sizeof r->text - 1;
    }
    r->rows++;
    return 0;
}

static int64_t q(sq_engine *e, const char *sql, qres *r)
{
    memset(r, 0, sizeof *r);
    sq_sink s = {r, NULL, collect};
    int64_t n = sq_query(e, sql, &s, err, sizeof err);
    if (n < 0) printf("  query failed: %s: %s\n", sql, err);
    return n;
}

static void append(jr_stream *s, const char *rec)
{
    jr_iov v = {rec, strlen(rec)};
    uint64_t first;
    if (jr_append(s, &v, 1, 1714521600000000LL, &first, err, sizeof err)) printf("append: %s\n", err);
}

typedef struct lake {
    char dir[512];
    jr_stream *js;
    st_store *st;
    lk_sink *sink;
} lake;

/* 3 partitions x 100 records (ids 0..299), flushed; returns 0. */
static int lake_build(lake *L, const char *name)
{
    snprintf(L->dir, sizeof L->dir, "%s/%s", t_tmpdir(), name);
    char p[700];
    snprintf(p, sizeof p, "%s/streams", L->dir);
    mkdir(L->dir, 0755);
    mkdir(p, 0755);
    L->js = jr_stream_open(p, "ev", NULL, err, sizeof err);
    if (!L->js) return -1;
    snprintf(p, sizeof p, "%s/lake", L->dir);
    L->st = st_local_create(p, err, sizeof err);
    if (!L->st) return -1;
    static const char *ts[] = {"2024-05-01T00:10:00Z", "2024-05-01T05:20:00Z", "2024-05-02T07:00:00Z"};
    for (int i = 0; i < 300; i++) {
        char rec[256];
        snprintf(rec, sizeof rec,
                 "{\"id\":%d,\"event_time\":\"%s\",\"name\":\"n%03d\",\"price\":%d.5,\"ok\":%s}", i,
                 ts[i / 100], i, i, i % 2 ? "true" : "false");
        append(L->js, rec);
    }
    lk_sink_opts o;
    lk_sink_opts_init(&o);
    char cat[700], tmp[700];
    snprintf(cat, sizeof cat, "%s/catalog.db", L->dir);
    snprintf(tmp, sizeof tmp, "%s/lake-tmp", L->dir);
    mkdir(tmp, 0755);
    o.stream_name = "ev";
    o.stream = L->js;
    o.table = "t1_ev";
    o.catalog_path = cat;
    o.store = L->st;
    o.tmp_dir = tmp;
    L->sink = lk_sink_create(&o, err, sizeof err);
    if (!L->sink) return -1;
    if (lk_sink_step(L->sink, 1, err, sizeof err) < 0) return -1;
    return 0;
}

static void lake_free(lake *L)
{
    lk_sink_destroy(L->sink);
    jr_stream_close(L->js);
    st_destroy(L->st);
}

static sq_engine *open_engine(lake *L, int64_t timeout_ms)
{
    sq_opts o = {0};
    o.data_dir = L->dir;
    o.store = L->st;
    o.timeout_ms = timeout_ms;
    sq_engine *e = sq_open(&o, err, sizeof err);
    if (!e) printf("  sq_open: %s\n", err);
    return e;
}

/* A lake with only a local store under <tmp>/<name>/lake (no stream):
 * what sq_write tests need.  0, or -1 with err. */
static int store_lake(lake *L, const char *name)
{
    snprintf(L->dir, sizeof L->dir, "%s/%s", t_tmpdir(), name);
    char p[700];
    snprintf(p, sizeof p, "%s/lake", L->dir);
    mkdir(L->dir, 0755);
    L->st = st_local_create(p, err, sizeof err);
    return L->st ? 0 : -1;
}

TEST(sql_lake_basic_and_pruning)
{
    lake L = {0};
    CHECK_MSG(lake_build(&L, "basic") == 0, "%s", err);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    sq_stats s;
    CHECK(q(e, "SELECT count(*), sum(id), min(name), max(price) FROM t1_ev", &r) == 1);
    CHECK_EQ_STR(r.text, "300,44850,n000,299.5");
    CHECK(q(e, "SELECT count(*) FROM lake.t1_ev WHERE ok", &r) == 1);
    CHECK_EQ_STR(r.text, "150");
    /* partition pruning: one of three partitions */
    CHECK(q(e, "SELECT count(*) FROM t1_ev WHERE dt = '2024-05-02'", &r) == 1);
    CHECK_EQ_STR(r.text, "100");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_total, 3);
    CHECK_EQ_INT(s.files_read, 1);
    CHECK_EQ_INT(s.partitions_total, 3);
    CHECK_EQ_INT(s.partitions_read, 1);
    CHECK(q(e, "SELECT count(*) FROM t1_ev WHERE dt = '2024-05-01' AND hr >= '05'", &r) == 1);
    CHECK_EQ_STR(r.text, "100");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_read, 1);
    CHECK(q(e, "SELECT count(*) FROM t1_ev WHERE hr IN ('00', '07')", &r) == 1);
    CHECK_EQ_STR(r.text, "200");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_read, 2);
    /* hr = 5 (a number): TEXT affinity makes it '5', which matches nothing */
    CHECK(q(e, "SELECT count(*) FROM t1_ev WHERE hr = 5", &r) == 1);
    CHECK_EQ_STR(r.text, "0");
    /* file skipping by catalog min/max */
    CHECK(q(e, "SELECT count(*) FROM t1_ev WHERE id >= 250", &r) == 1);
    CHECK_EQ_STR(r.text, "50");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_read, 1);
    CHECK(q(e, "SELECT name FROM t1_ev WHERE name = 'n123'", &r) == 1);
    CHECK_EQ_STR(r.text, "n123");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_read, 1);
    /* timestamps as sortable text */
    CHECK(q(e, "SELECT min(_ingest_ts), count(*) FROM t1_ev WHERE dt || 'T' || hr < '2024-05-01T06'", &r) == 1);
    CHECK_EQ_STR(r.text, "2024-05-01T00:00:00.000000Z,200");
    /* projection: one column reads fewer bytes than all */
    CHECK(q(e, "SELECT id FROM t1_ev", &r) == 300);
    sq_get_stats(e, &s);
    int64_t one = s.bytes_read;
    CHECK(q(e, "SELECT * FROM t1_ev", &r) == 300);
    sq_get_stats(e, &s);
    CHECK_MSG(one > 0 && one < s.bytes_read, "bytes %lld vs %lld", (long long)one, (long long)s.bytes_read);
    /* LIMIT stops the scan */
    CHECK(q(e, "SELECT id FROM t1_ev LIMIT 3", &r) == 3);
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_read, 1);
    CHECK_EQ_INT(s.limit_stops, 1);
    CHECK_MSG(s.rows_read <= 3, "%lld rows", (long long)s.rows_read);
    CHECK(q(e, "SELECT id FROM t1_ev WHERE dt = '2024-05-02' LIMIT 2 OFFSET 1", &r) == 2);
    CHECK_EQ_STR(r.text, "201;202");
    sq_close(e);
    lake_free(&L);
}

TEST(sql_schema_evolution_and_tail)
{
    lake L = {0};
    CHECK_MSG(lake_build(&L, "evo") == 0, "%s", err);
    /* a new column arrives; it is flushed; then records stay in the journal */
    append(L.js, "{\"id\":300,\"event_time\":\"2024-05-02T07:30:00Z\",\"extra\":\"x\",\"price\":1}");
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) >= 0, "%s", err);
    append(L.js, "{\"id\":301,\"event_time\":\"2024-05-03T01:00:00Z\",\"extra\":\"y\"}");
    append(L.js, "{\"id\":302,\"event_time\":\"2024-05-03T01:00:00Z\",\"name\":\"tail\"}");
    append(L.js, "[1,2]"); /* not an object: the errors table's, not ours */
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    sq_stats s;
    CHECK(q(e, "SELECT count(*), count(extra), count(DISTINCT id) FROM t1_ev", &r) == 1);
    CHECK_EQ_STR(r.text, "303,2,303");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.tail_records, 2);
    CHECK(q(e, "SELECT id, dt, hr, extra FROM t1_ev WHERE dt = '2024-05-03' ORDER BY id", &r) == 2);
    CHECK_EQ_STR(r.text, "301,2024-05-03,01,y;302,2024-05-03,01,NULL");
    /* the sink commits the tail: same answer, nothing twice */
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) >= 0, "%s", err);
    CHECK(q(e, "SELECT count(*), count(DISTINCT id) FROM t1_ev", &r) == 1);
    CHECK_EQ_STR(r.text, "303,303");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.tail_records, 0);
    /* files older than the column skip on a predicate on it */
    CHECK(q(e, "SELECT id FROM t1_ev WHERE extra = 'x'", &r) == 1);
    CHECK_EQ_STR(r.text, "300");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_read, 1);
    sq_close(e);
    lake_free(&L);
}

TEST(sql_read_parquet_row_groups_and_files)
{
    lake L = {0};
    CHECK_MSG(lake_build(&L, "files") == 0, "%s", err);
    char path[700];
    snprintf(path, sizeof path, "%s/rg.parquet", L.dir);
    pq_column_spec cols[] = {{"k", PQ_INT64, 0}, {"s", PQ_STRING, 1}};
    pq_writer_opts wo;
    pq_writer_opts_init(&wo);
    wo.row_group_rows = 100;
    pq_writer *w = pq_writer_create(path, cols, 2, &wo, err, sizeof err);
    CHECK(w);
    for (int i = 0; i < 1000; i++) {
        char b[16];
        snprintf(b, sizeof b, "s%d", i);
        pq_writer_put_i64(w, 0, i);
        pq_writer_put_bytes(w, 1, b, strlen(b));
        pq_writer_end_row(w);
    }
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    sq_stats s;
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*), sum(k) FROM read_parquet('%s') WHERE k >= 950", path);
    CHECK(q(e, sql, &r) == 1);
    CHECK_EQ_STR(r.text, "50,48725");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.row_groups_total, 10);
    CHECK_EQ_INT(s.row_groups_read, 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM read_parquet('%s/lake/t1_ev/**/*.parquet')", L.dir);
    CHECK(q(e, sql, &r) == 1);
    CHECK_EQ_STR(r.text, "300");
    /* csv and ndjson */
    snprintf(path, sizeof path, "%s/a.csv", L.dir);
    FILE *f = fopen(path, "w");
    fputs("a,b,c\n1,x,1.5\n2,\"y,z\",\n3,,2\n", f);
    fclose(f);
    snprintf(sql, sizeof sql, "SELECT sum(a), group_concat(b, '|'), sum(c), typeof(c) FROM read_csv('%s')", path);
    CHECK(q(e, sql, &r) == 1);
    CHECK_EQ_STR(r.text, "6,x|y,z,3.5,real");
    snprintf(path, sizeof path, "%s/a.ndjson", L.dir);
    f = fopen(path, "w");
    fputs("{\"a\":1,\"b\":\"x\"}\n{\"a\":2.5,\"c\":true}\n", f);
    fclose(f);
    snprintf(sql, sizeof sql, "SELECT sum(a), count(b), sum(c) FROM read_ndjson('%s')", path);
    CHECK(q(e, sql, &r) == 1);
    CHECK_EQ_STR(r.text, "3.5,1,1");
    sq_close(e);
    lake_free(&L);
}

TEST(sql_safety)
{
    lake L = {0};
    CHECK_MSG(lake_build(&L, "safety") == 0, "%s", err);
    sq_engine *e = open_engine(&L, 200);
    CHECK(e);
    qres r;
    CHECK(q(e, "ATTACH '/tmp/x.db' AS x", &r) < 0 && strstr(err, "not authorized"));
    CHECK(q(e, "SELECT load_extension('/tmp/evil.so')", &r) < 0 && strstr(err, "not authorized"));
    CHECK(q(e, "CREATE TABLE main.x(a)", &r) < 0 && strstr(err, "not authorized"));
    CHECK(q(e, "PRAGMA writable_schema = 1", &r) < 0 && strstr(err, "not authorized"));
    CHECK(q(e, "DROP TABLE lake.t1_ev", &r) < 0);
    CHECK(q(e, "INSERT INTO t1_ev(id) VALUES (1)", &r) < 0);
    /* temp tables are scratch space */
    CHECK(q(e, "CREATE TEMP TABLE s AS SELECT id FROM t1_ev WHERE id < 5", &r) == 0);
    CHECK(q(e, "SELECT count(*) FROM s", &r) == 1);
    CHECK_EQ_STR(r.text, "5");
    /* the error names the position */
    CHECK(q(e, "SELECT id FROM t1_ev WHERE nope = 1", &r) < 0);
    CHECK_MSG(strstr(err, "no such column: nope") && strstr(err, "offset"), "%s", err);
    /* the time limit */
    CHECK(q(e, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", &r) < 0);
    CHECK_MSG(strstr(err, "timed out"), "%s", err);
    /* usable after an interrupt */
    CHECK(q(e, "SELECT count(*) FROM t1_ev", &r) == 1);
    CHECK_EQ_STR(r.text, "300");
    sq_close(e);
    lake_free(&L);
}

/* ---- names, widening, tables that cannot be declared --------------------------------- */

/* A stream with a sink into table and no records yet (compact_min_files:
 * the sink's, 0 = the default). */
static int lake_stream_c(lake *L, const char *name, const char *stream, const char *table,
                         int compact_min_files)
{
    snprintf(L->dir, sizeof L->dir, "%s/%s", t_tmpdir(), name);
    char p[700], cat[700], tmp[700];
    snprintf(p, sizeof p, "%s/streams", L->dir);
    mkdir(L->dir, 0755);
    mkdir(p, 0755);
    L->js = jr_stream_open(p, stream, NULL, err, sizeof err);
    if (!L->js) return -1;
    snprintf(p, sizeof p, "%s/lake", L->dir);
    L->st = st_local_create(p, err, sizeof err);
    if (!L->st) return -1;
    lk_sink_opts o;
    lk_sink_opts_init(&o);
    snprintf(cat, sizeof cat, "%s/catalog.db", L->dir);
    snprintf(tmp, sizeof tmp, "%s/lake-tmp", L->dir);
    mkdir(tmp, 0755);
    o.stream_name = stream;
    o.stream = L->js;
    o.table = table;
    o.catalog_path = cat;
    o.store = L->st;
    o.tmp_dir = tmp;
    if (compact_min_files) o.compact_min_files = compact_min_files;
    L->sink = lk_sink_create(&o, err, sizeof err);
    return L->sink ? 0 : -1;
}

static int lake_stream(lake *L, const char *name, const char *stream, const char *table)
{
    return lake_stream_c(L, name, stream, table, 0);
}

static int lake_empty(lake *L, const char *name) { return lake_stream(L, name, "ev", "t1_ev"); }

TEST(sql_adversarial_keys_keep_queries_working)
{
    lake L = {0};
    CHECK_MSG(lake_empty(&L, "advkeys") == 0, "%s", err);
    append(L.js, "{\"id\":1,\"Name\":1,\"name\":2}");
    append(L.js, "{\"id\":2,\"DT\":3,\"_INGEST_TS\":4}");
    append(L.js, "{\"id\":3,\"\":5}");
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) == 3, "%s", err);
    append(L.js, "{\"id\":4,\"name\":6,\"nAme\":7}"); /* in the journal tail: same rule */
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    CHECK(q(e, "SELECT 1", &r) == 1);
    CHECK(q(e, "SELECT id, \"Name\", name_2, \"DT_2\", \"_INGEST_TS_2\", _empty FROM t1_ev ORDER BY id", &r) == 4);
    CHECK_EQ_STR(r.text, "1,1,2,NULL,NULL,NULL;2,NULL,NULL,3,4,NULL;3,NULL,NULL,NULL,NULL,5;"
                         "4,NULL,6,NULL,NULL,NULL"); /* the tail: nAme has no column yet */
    CHECK(q(e, "SELECT count(*) FROM t1_ev_errors", &r) == 1); /* the errors table is a table */
    CHECK_EQ_STR(r.text, "0");
    sq_close(e);
    lake_free(&L);
}

TEST(sql_undeclarable_tables_are_skipped)
{
    lake L = {0};
    CHECK_MSG(lake_build(&L, "legacy") == 0, "%s", err);
    char cat[700];
    snprintf(cat, sizeof cat, "%s/catalog.db", L.dir);
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    /* a catalog written before the naming rule: columns equal up to case */
    ct_table t;
    CHECK(ct_table_ensure(c, "t_old", "/nowhere/t_old", "dt,hr", "", &t, err, sizeof err) == 1);
    ct_column old[] = {{"Name", CT_INT64, 0}, {"name", CT_INT64, 0}, {"DT", CT_STRING, 0},
                       {"_INGEST_TS", CT_INT64, 0}, {"v", CT_INT64, 0}};
    int v;
    CHECK_MSG(ct_schema_set(c, t.id, old, 5, "", &v, err, sizeof err) == 0, "%s", err);
    ct_table_free(&t);
    /* and a table SQLite cannot declare at all (over its 2000-column limit) */
    CHECK(ct_table_ensure(c, "t_wide", "/nowhere/t_wide", "", "", &t, err, sizeof err) == 1);
    ct_column *wide = calloc(2100, sizeof *wide);
    for (int i = 0; i < 2100; i++) {
        snprintf(wide[i].name, sizeof wide[i].name, "c%d", i);
        wide[i].type = CT_INT64;
    }
    CHECK_MSG(ct_schema_set(c, t.id, wide, 2100, "", &v, err, sizeof err) == 0, "%s", err);
    free(wide);
    ct_table_free(&t);
    /* a table name equal up to case to another is refused */
    CHECK(ct_table_ensure(c, "T1_EV", "/nowhere/x", "", "", NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "differs only in case"));
    ct_close(c);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    CHECK(q(e, "SELECT 1", &r) == 1);
    CHECK(q(e, "SELECT count(*) FROM t1_ev", &r) == 1);
    CHECK_EQ_STR(r.text, "300");
    CHECK(q(e, "SELECT * FROM t_old", &r) == 0); /* declared without the clashing columns */
    CHECK(q(e, "SELECT \"Name\", v, dt, _ingest_ts FROM t_old", &r) == 0);
    CHECK(q(e, "SELECT name FROM t_old", &r) == 0); /* same column as Name, for SQL */
    CHECK(q(e, "SELECT * FROM t_wide", &r) < 0);   /* skipped: no such table */
    sq_close(e);
    lake_free(&L);
}

TEST(sql_ctas_names_and_case_twins)
{
    lake L = {0};
    CHECK_MSG(lake_build(&L, "ctasnames") == 0, "%s", err);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    CHECK(q(e, "CREATE TABLE T1_EV AS SELECT 1 AS a", &r) < 0);
    CHECK(strstr(err, "differs only in case"));
    CHECK(q(e, "INSERT INTO T1_ev SELECT 1 AS id", &r) < 0);
    CHECK(strstr(err, "differs only in case"));
    CHECK(q(e, "SELECT count(*) FROM t1_ev", &r) == 1); /* every query still works */
    CHECK_EQ_STR(r.text, "300");
    CHECK(q(e, "CREATE TABLE c2 AS SELECT 1 AS a, 2 AS A, 3 AS \"\", 4 AS \"_INGEST_TS\"", &r) >= 0);
    CHECK(q(e, "SELECT a, A_2, _empty, _INGEST_TS_2 FROM c2", &r) == 1);
    CHECK_EQ_STR(r.text, "1,2,3,4");
    CHECK(q(e, "INSERT INTO c2 SELECT 5 AS A, 6 AS a_2", &r) >= 0); /* found as SQL would */
    CHECK(q(e, "SELECT sum(a), sum(A_2) FROM c2", &r) == 1);
    CHECK_EQ_STR(r.text, "6,8");
    sq_close(e);
    lake_free(&L);
}

TEST(sql_widened_column_prunes_right)
{
    lake L = {0};
    CHECK_MSG(lake_empty(&L, "widen") == 0, "%s", err);
    /* file 1: id int64 1..10, ts timestamp */
    for (int i = 1; i <= 10; i++) {
        char rec[128];
        snprintf(rec, sizeof rec, "{\"id\":%d,\"ts\":\"2024-05-%02dT00:00:00Z\"}", i, i);
        append(L.js, rec);
    }
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) == 10, "%s", err);
    /* file 2: both widen to string */
    append(L.js, "{\"id\":\"x5\",\"ts\":\"soon\"}");
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) == 1, "%s", err);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    sq_stats s;
    /* as text '5' sorts after '10': file 1's int64 min/max must not skip it */
    CHECK(q(e, "SELECT id FROM t1_ev WHERE id = '5'", &r) == 1);
    CHECK_EQ_STR(r.text, "5");
    sq_get_stats(e, &s);
    CHECK_EQ_INT(s.files_read, 1); /* file 2 ('x5' only) is rightly skipped */
    CHECK(q(e, "SELECT count(*) FROM t1_ev WHERE ts >= '2024-05-09'", &r) == 1);
    CHECK_EQ_STR(r.text, "3");
    CHECK(q(e, "SELECT count(*) FROM t1_ev WHERE id > '1'", &r) == 1);
    CHECK_EQ_STR(r.text, "10");
    sq_close(e);
    /* a widening while records are buffered lands them in the wider type:
     * the timestamp keeps its original text */
    append(L.js, "{\"id\":\"y\",\"t2\":\"2024-05-01T05:30:00+05:30\"}");
    append(L.js, "{\"id\":\"z\",\"t2\":\"hello\"}");
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) >= 2, "%s", err);
    e = open_engine(&L, 0);
    CHECK(q(e, "SELECT t2 FROM t1_ev WHERE t2 IS NOT NULL ORDER BY id", &r) == 2);
    CHECK_EQ_STR(r.text, "2024-05-01T05:30:00+05:30;hello");
    sq_close(e);
    lake_free(&L);
}

/* The issue: files landed while a column was a timestamp read back in UTC
 * once it widened to string.  Now every record keeps its text: files
 * landed before the widening, a compaction of them before and after it. */
static const char *ts_texts[] = {
    "2024-05-01T05:30:00+05:30", "2024-05-01T00:00:00Z", "2024-05-01t00:00:00.5z",
    "2024-05-01 00:00:00", "2023-12-31T23:30:00-05:00", "2024-05-01T00:00:00.123456000-00:00",
    "2016-12-31T23:59:60Z", "2024-02-29T23:59:59.999+0100", "2024-01-01T00:15:00.000001+05:30",
};
#define NTS (int)(sizeof ts_texts / sizeof ts_texts[0])

static void ts_expect(char *out, size_t n, int upto)
{
    size_t l = 0;
    out[0] = 0;
    for (int i = 0; i < upto; i++) /* id i; id 100 + i: a record without ts */
        l += (size_t)snprintf(out + l, n - l, "%s%s;NULL", i ? ";" : "", ts_texts[i]);
}

TEST(sql_widened_timestamp_keeps_every_text)
{
    lake L = {0};
    CHECK_MSG(lake_stream_c(&L, "tstext", "x", "t1_x", 2) == 0, "%s", err);
    char rec[200];
    for (int f = 0; f < 2; f++) { /* two files while ts is a timestamp */
        for (int i = f * 5; i < NTS && i < f * 5 + 5; i++) {
            snprintf(rec, sizeof rec, "{\"id\":%d,\"ts\":\"%s\"}", 2 * i, ts_texts[i]);
            append(L.js, rec);
            snprintf(rec, sizeof rec, "{\"id\":%d}", 2 * i + 1);
            append(L.js, rec);
        }
        CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) > 0, "%s", err);
    }
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    CHECK(q(e, "SELECT ts FROM t1_x WHERE id = 0", &r) == 1);
    CHECK_EQ_STR(r.text, "2024-05-01T00:00:00.000000Z"); /* a timestamp: its UTC form */
    sq_close(e);
    CHECK_MSG(lk_sink_maintain(L.sink, err, sizeof err) == 0, "%s", err); /* merged: a timestamp */
    append(L.js, "{\"id\":1000,\"ts\":\"not a time\"}");
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) == 1, "%s", err);
    char want[2048];
    ts_expect(want, sizeof want, NTS);
    strcat(want, ";not a time");
    for (int pass = 0; pass < 2; pass++) { /* pass 1: after merging old and new files */
        e = open_engine(&L, 0);
        CHECK(e);
        CHECK(q(e, "SELECT ts FROM t1_x ORDER BY id", &r) == 2 * NTS + 1);
        CHECK_EQ_STR(r.text, want);
        sq_stats st;
        sq_get_stats(e, &st);
        CHECK_EQ_INT(st.files_read, pass ? 1 : 2); /* merged, then merged with the string file */
        /* statistics of the old type skip nothing */
        CHECK(q(e, "SELECT id FROM t1_x WHERE ts = '2024-05-01T05:30:00+05:30'", &r) == 1);
        CHECK_EQ_STR(r.text, "0");
        CHECK(q(e, "SELECT count(*) FROM t1_x WHERE ts > '2024-05-01T00:00:00.000000Z'", &r) == 1);
        CHECK_EQ_STR(r.text, "5"); /* as text: T05:30, T00:00:00Z, t00, .123456, not a time */
        sq_close(e);
        if (!pass) CHECK_MSG(lk_sink_maintain(L.sink, err, sizeof err) == 0, "%s", err);
    }
    lake_free(&L);
}

/* A text per row that differs from the row before (the offset): the runs of
 * one file reach the cap, so the sink lands the file and starts another; a
 * compaction of those files writes more than one again.  No text is lost. */
typedef struct ts_check {
    int rows, bad;
    char first_bad[200];
} ts_check;

static void ts_cap_text(char *out, size_t n, int id)
{
    int off = id % 97 * 29 - 1400; /* minutes, -1400 .. 1384 */
    int a = off < 0 ? -off : off;
    snprintf(out, n, "2024-05-01T12:%02d:%02d.%03d%c%02d:%02d", id / 60 % 60, id % 60, id % 1000,
             off < 0 ? '-' : '+', a / 60, a % 60);
}

static int ts_check_row(void *ctx, sqlite3_stmt *st)
{
    ts_check *c = ctx;
    char want[64];
    int id = sqlite3_column_int(st, 0);
    const char *got = (const char *)sqlite3_column_text(st, 1);
    if (id >= 100000) snprintf(want, sizeof want, "not a time");
    else ts_cap_text(want, sizeof want, id);
    if (!got || strcmp(got, want)) {
        if (!c->bad++)
            snprintf(c->first_bad, sizeof c->first_bad, "id %d: '%s', not '%s'", id, got ? got : "NULL", want);
    }
    c->rows++;
    return 0;
}

TEST(sql_widened_timestamp_texts_over_the_cap)
{
    lake L = {0};
    CHECK_MSG(lake_stream_c(&L, "tscap", "x", "t1_x", 2) == 0, "%s", err);
    const int N = 40000;
    static char recs[1000][100];
    jr_iov v[1000];
    for (int i = 0; i < N; i += 1000) { /* appended 1000 at a time (one sync each) */
        for (int k = 0; k < 1000; k++) {
            char text[64];
            ts_cap_text(text, sizeof text, i + k);
            v[k].p = recs[k];
            v[k].n = (size_t)snprintf(recs[k], sizeof recs[k], "{\"id\":%d,\"ts\":\"%s\"}", i + k, text);
        }
        uint64_t first;
        CHECK_MSG(jr_append(L.js, v, 1000, 1714521600000000LL, &first, err, sizeof err) == 0, "%s", err);
    }
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) == N, "%s", err);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    sq_stats st;
    CHECK(q(e, "SELECT count(*) FROM t1_x", &r) == 1);
    CHECK_EQ_STR(r.text, "40000");
    sq_get_stats(e, &st);
    int64_t files = st.files_read;
    CHECK_MSG(files >= 2, "%lld files", (long long)files); /* cut at the cap */
    sq_close(e);
    CHECK_MSG(lk_sink_maintain(L.sink, err, sizeof err) == 0, "%s", err);
    lk_sink_stats k;
    lk_sink_get_stats(L.sink, &k);
    CHECK_EQ_INT(k.files_compacted, files);
    append(L.js, "{\"id\":100000,\"ts\":\"not a time\"}");
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) == 1, "%s", err);
    e = open_engine(&L, 0);
    CHECK(e);
    ts_check c = {0};
    sq_sink out = {&c, NULL, ts_check_row};
    CHECK_MSG(sq_query(e, "SELECT id, ts FROM t1_x", &out, err, sizeof err) == N + 1, "%s", err);
    CHECK_MSG(!c.bad, "%d texts differ, e.g. %s", c.bad, c.first_bad);
    sq_get_stats(e, &st);
    CHECK_MSG(st.files_read >= 3, "%lld files", (long long)st.files_read); /* the merge: 2 or more */
    sq_close(e);
    lake_free(&L);
}

/* A file's texts over several row groups, some skipped by statistics, read
 * under the string type (read_parquet takes the first file's types). */
TEST(sql_widened_timestamp_texts_span_row_groups)
{
    lake L = {0};
    CHECK_MSG(lake_empty(&L, "tsrg") == 0, "%s", err);
    char dir[700], path[800], sql[1200];
    snprintf(dir, sizeof dir, "%s/rg", L.dir);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/a.parquet", dir);
    pq_column_spec sa[] = {{"id", PQ_INT64, 0}, {"ts", PQ_STRING, 1}};
    pq_writer *w = pq_writer_create(path, sa, 2, NULL, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    pq_writer_put_i64(w, 0, -1);
    pq_writer_put_bytes(w, 1, "x", 1);
    CHECK(pq_writer_end_row(w) == 0 && pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    snprintf(path, sizeof path, "%s/b.parquet", dir);
    pq_column_spec sb[] = {{"id", PQ_INT64, 0}, {"ts", PQ_TIMESTAMP, 1}};
    pq_writer_opts wo;
    pq_writer_opts_init(&wo);
    wo.row_group_rows = 10;
    w = pq_writer_create(path, sb, 2, &wo, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    lk_tstext *t = lk_tstext_create();
    char want[4096] = "";
    size_t wl = 0;
    for (int i = 0; i < 35; i++) {
        const char *text = ts_texts[i / 3 % NTS]; /* runs of 3 that cross row groups */
        pq_writer_put_i64(w, 0, i);
        if (i % 7 == 6) {
            pq_writer_put_null(w, 1);
        } else {
            int64_t us;
            ut_ts_layout lay;
            CHECK(ut_ts_parse_layout(text, strlen(text), &us, &lay) == 0);
            lk_tstext_note(t, pq_writer_rows(w), &lay);
            pq_writer_put_i64(w, 1, us);
        }
        CHECK(pq_writer_end_row(w) == 0);
        if (i >= 25)
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "%s%d,%s", wl ? ";" : "", i,
                                   i % 7 == 6 ? "NULL" : text);
    }
    lk_tstext_set(w, "ts", t);
    lk_tstext_destroy(t);
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    snprintf(sql, sizeof sql, "SELECT id, ts FROM read_parquet('%s/*.parquet') WHERE id >= 25 ORDER BY id", dir);
    CHECK(q(e, sql, &r) == 10);
    CHECK_EQ_STR(r.text, want);
    sq_stats st;
    sq_get_stats(e, &st);
    CHECK_EQ_INT(st.row_groups_read, 2); /* 2 of b's 4 skipped; a's one skipped too */
    sq_close(e);
    lake_free(&L);
}

TEST(sql_read_parquet_case_twins)
{
    char path[600];
    snprintf(path, sizeof path, "%s/twins.parquet", t_tmpdir());
    pq_column_spec specs[] = {{"Name", PQ_INT64, 0}, {"name", PQ_INT64, 0}, {"v", PQ_INT64, 0}};
    pq_writer *w = pq_writer_create(path, specs, 3, NULL, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    pq_writer_put_i64(w, 0, 1);
    pq_writer_put_i64(w, 1, 2);
    pq_writer_put_i64(w, 2, 3);
    CHECK(pq_writer_end_row(w) == 0);
    CHECK(pq_writer_close(w, err, sizeof err) == 0);
    pq_writer_destroy(w);
    sq_opts o = {0};
    char cat[700], sqlq[800];
    snprintf(cat, sizeof cat, "%s/twins-catalog.db", t_tmpdir());
    o.catalog_path = cat;
    sq_engine *e = sq_open(&o, err, sizeof err);
    CHECK_MSG(e, "%s", err);
    qres r;
    snprintf(sqlq, sizeof sqlq, "SELECT * FROM read_parquet('%s')", path);
    CHECK(q(e, sqlq, &r) == 1); /* the later twin is left out, the file still reads */
    CHECK_EQ_STR(r.text, "1,3");
    sq_close(e);
}

TEST(sql_tail_of_a_stream_named_like_errors)
{
    lake L = {0};
    CHECK_MSG(lake_stream(&L, "xerr", "x_errors", "t1_x_errors") == 0, "%s", err);
    append(L.js, "{\"id\":1}");
    CHECK_MSG(lk_sink_step(L.sink, 1, err, sizeof err) == 1, "%s", err);
    append(L.js, "{\"id\":2}"); /* in the journal only */
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    CHECK(q(e, "SELECT count(*) FROM t1_x_errors", &r) == 1); /* its own tail */
    CHECK_EQ_STR(r.text, "2");
    CHECK(q(e, "SELECT count(*) FROM t1_x_errors_errors", &r) == 1); /* no tail */
    CHECK_EQ_STR(r.text, "0");
    sq_close(e);
    lake_free(&L);
}

/* sq_write of a table that does not exist yet, while another writer (a
 * second engine: another window of the same new job) creates it: the
 * interleave() function of the first SELECT runs the second write to its
 * commit after the first found no table.  The same table: both windows
 * land on their first try.  REPLACE: the other writer's file is replaced.
 * Another schema: UT_EEXISTS naming the table and both schemas. */
typedef struct interleave {
    sq_engine *other;
    const sq_write_spec *w;
    int64_t rows;
    char err[1024];
} interleave;

static void interleave_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc, (void)argv;
    interleave *il = sqlite3_user_data(cx);
    if (il->w) il->rows = sq_write(il->other, il->w, il->err, sizeof il->err);
    il->w = NULL; /* once per statement */
    sqlite3_result_int(cx, 1);
}

TEST(sql_write_new_table_created_meanwhile)
{
    lake L = {0};
    CHECK_MSG(store_lake(&L, "racewrite") == 0, "%s", err);
    sq_engine *a = open_engine(&L, 0), *b = open_engine(&L, 0);
    CHECK(a && b);
    interleave il = {.other = b};
    CHECK(sqlite3_create_function(sq_db(a), "interleave", 0, SQLITE_UTF8, &il, interleave_fn,
                                  NULL, NULL) == SQLITE_OK);
    static const char *const dcol[] = {"dt"}, *const d1[] = {"2024-05-01"},
                             *const d2[] = {"2024-05-02"};
    static const char *const p1[] = {"dt=2024-05-01"}, *const p2[] = {"dt=2024-05-02"};
    sq_write_spec wa = {.table = "t2_race_daily", .select = "SELECT interleave() AS n, 'a' AS s",
                        .mode = SQ_WRITE_REPLACE_PARTITIONS, .partition_by = "dt",
                        .default_cols = dcol, .default_vals = d1, .ndefaults = 1,
                        .partitions = p1, .npartitions = 1};
    sq_write_spec wb = wa;
    wb.select = "SELECT 2 AS n, 'b' AS s";
    wb.default_vals = d2;
    wb.partitions = p2;
    il.w = &wb;
    int64_t n = sq_write(a, &wa, err, sizeof err);
    CHECK_MSG(il.rows == 1, "the other writer: %s", il.err);
    CHECK_MSG(n == 1, "%s", err);
    qres r;
    CHECK(q(a, "SELECT dt, n, s FROM t2_race_daily ORDER BY dt", &r) == 2);
    CHECK_EQ_STR(r.text, "2024-05-01,1,a;2024-05-02,2,b");
    /* mode replace (the whole table): the other writer's rows are replaced */
    wa.table = wb.table = "t2_race_whole";
    wa.mode = wb.mode = SQ_WRITE_REPLACE;
    wa.partition_by = wb.partition_by = "";
    wa.ndefaults = wb.ndefaults = 0;
    il.w = &wb;
    n = sq_write(a, &wa, err, sizeof err);
    CHECK_MSG(il.rows == 1, "the other writer: %s", il.err);
    CHECK_MSG(n == 1, "%s", err);
    CHECK(q(a, "SELECT n, s FROM t2_race_whole", &r) == 1);
    CHECK_EQ_STR(r.text, "1,a");
    /* the other writer's n is text: a typed error naming both schemas */
    wa.table = wb.table = "t2_race_other";
    wb.select = "SELECT 'two' AS n, 'b' AS s";
    il.w = &wb;
    n = sq_write(a, &wa, err, sizeof err);
    CHECK_MSG(il.rows == 1, "the other writer: %s", il.err);
    CHECK_EQ_INT(n, -1);
    CHECK_EQ_INT(sq_error_kind(a), UT_EEXISTS);
    CHECK_MSG(strstr(err, "t2_race_other") && strstr(err, "(n string, s string)") &&
                  strstr(err, "(n int64, s string)"), "%s", err);
    CHECK(q(a, "SELECT n, s FROM t2_race_other", &r) == 1);
    CHECK_EQ_STR(r.text, "two,b");
    sq_close(a);
    sq_close(b);
    st_destroy(L.st);
}

/* read_ndjson('p', 0) infers from every record: a key first seen after the
 * default sample (1000 records) gets its column, a late double widens its
 * column; keys that differ in case are one column, named as first seen.
 * Without the argument, the sample decides (the late key is not a column). */
TEST(sql_read_ndjson_sample_all_and_case)
{
    lake L = {0};
    snprintf(L.dir, sizeof L.dir, "%s/ndjsonall", t_tmpdir());
    mkdir(L.dir, 0755);
    char p[700], sql[900];
    snprintf(p, sizeof p, "%s/late.ndjson", L.dir);
    FILE *f = fopen(p, "w");
    CHECK(f);
    for (int i = 0; i < 1500; i++)
        fprintf(f, i < 1200 ? "{\"n\":%d}\n" : "{\"N\":%d.5,\"late\":\"x%d\"}\n", i, i);
    fclose(f);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    snprintf(sql, sizeof sql, "SELECT count(late), sum(n), typeof(n) FROM read_ndjson('%s', 0) "
             "WHERE n >= 1499", p);
    CHECK_MSG(q(e, sql, &r) == 1, "%s", err);
    CHECK_EQ_STR(r.text, "1,1499.5,real");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM read_ndjson('%s') WHERE n IS NULL", p);
    CHECK_MSG(q(e, sql, &r) == 1, "%s", err); /* sampled as integer: late doubles are text */
    CHECK_EQ_STR(r.text, "0");
    snprintf(sql, sizeof sql, "SELECT late FROM read_ndjson('%s') LIMIT 1", p);
    CHECK(q(e, sql, &r) < 0 && strstr(err, "late"));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM read_ndjson('%s', 'x')", p);
    CHECK(q(e, sql, &r) < 0);
    sq_close(e);
}

/* Keys in another order, or another case, than the columns were first seen
 * in land in the right column (find_col tries the key's position first). */
TEST(sql_read_ndjson_key_order)
{
    lake L = {0};
    snprintf(L.dir, sizeof L.dir, "%s/ndjsonorder", t_tmpdir());
    mkdir(L.dir, 0755);
    char p[700], sql[900];
    snprintf(p, sizeof p, "%s/order.ndjson", L.dir);
    FILE *f = fopen(p, "w");
    CHECK(f);
    fputs("{\"a\":1,\"b\":\"x\",\"c\":10}\n{\"c\":20,\"a\":2,\"b\":\"y\"}\n"
          "{\"B\":\"z\",\"C\":30,\"A\":3}\n{\"b\":\"w\"}\n", f);
    fclose(f);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r;
    snprintf(sql, sizeof sql, "SELECT sum(a), group_concat(b, ''), sum(c), count(*) FROM "
             "read_ndjson('%s', 0)", p);
    CHECK_MSG(q(e, sql, &r) == 1, "%s", err);
    CHECK_EQ_STR(r.text, "6,xyzw,60,4");
    sq_close(e);
}

/* sq_write into a table that exists: a column the SELECT adds is added
 * (a new schema version), an int64 column a double reaches is widened, a
 * column spelt in another case is the same column; older files read with
 * the new column NULL.  A second writer that extended the schema meanwhile
 * (interleave) keeps its column: extensions merge. */
TEST(sql_write_evolves_the_schema)
{
    lake L = {0};
    CHECK_MSG(store_lake(&L, "evolve") == 0, "%s", err);
    sq_engine *a = open_engine(&L, 0), *b = open_engine(&L, 0);
    CHECK(a && b);
    static const char *const dcol[] = {"dt"}, *const d1[] = {"2024-05-01"},
                             *const d2[] = {"2024-05-02"}, *const d3[] = {"2024-05-03"};
    static const char *const p1[] = {"dt=2024-05-01"}, *const p2[] = {"dt=2024-05-02"},
                             *const p3[] = {"dt=2024-05-03"};
    sq_write_spec w = {.table = "t1_ev_daily", .select = "SELECT 1 AS n, 'a' AS s",
                       .mode = SQ_WRITE_REPLACE_PARTITIONS, .partition_by = "dt",
                       .default_cols = dcol, .default_vals = d1, .ndefaults = 1,
                       .partitions = p1, .npartitions = 1};
    CHECK_MSG(sq_write(a, &w, err, sizeof err) == 1, "%s", err);
    w.select = "SELECT 2.5 AS N, 'b' AS S, 7 AS extra";
    w.default_vals = d2, w.partitions = p2;
    CHECK_MSG(sq_write(a, &w, err, sizeof err) == 1, "%s", err);
    qres r;
    CHECK(q(a, "SELECT dt, n, s, extra FROM t1_ev_daily ORDER BY dt", &r) == 2);
    CHECK_EQ_STR(r.text, "2024-05-01,1.0,a,NULL;2024-05-02,2.5,b,7");
    ct_table t;
    char p[700];
    snprintf(p, sizeof p, "%s/catalog.db", L.dir);
    ct_catalog *cat = ct_open(p, err, sizeof err);
    CHECK_MSG(cat, "%s", err);
    CHECK(ct_table_get(cat, "t1_ev_daily", &t, err, sizeof err) == 1);
    ct_close(cat);
    CHECK_EQ_INT(t.version, 2);
    CHECK_EQ_INT(t.ncols, 3);
    CHECK_EQ_STR(t.cols[0].name, "n");
    CHECK_EQ_STR(ct_type_name(t.cols[0].type), "double");
    ct_table_free(&t);
    /* the other writer adds `other` between this one's plan and its extension */
    interleave il = {.other = b};
    CHECK(sqlite3_create_function(sq_db(a), "interleave", 0, SQLITE_UTF8, &il, interleave_fn,
                                  NULL, NULL) == SQLITE_OK);
    sq_write_spec wb = w;
    wb.select = "SELECT 3 AS n, 'other' AS other";
    wb.default_vals = d3, wb.partitions = p3;
    il.w = &wb;
    w.select = "SELECT interleave() AS n, 'late' AS late";
    w.default_vals = d1, w.partitions = p1;
    CHECK_MSG(sq_write(a, &w, err, sizeof err) == 1, "%s", err);
    CHECK_MSG(il.rows == 1, "the other writer: %s", il.err);
    CHECK(q(a, "SELECT dt, n, other, late FROM t1_ev_daily ORDER BY dt", &r) == 3);
    CHECK_EQ_STR(r.text, "2024-05-01,1.0,NULL,late;2024-05-02,2.5,NULL,NULL;2024-05-03,3.0,other,NULL");
    sq_close(a);
    sq_close(b);
    st_destroy(L.st);
}

/* A lake for the sq_write evolution tests, table t1_ev2_daily from
 * `SELECT 1 AS n` (partition dt=2024-05-01); *cat the catalog. */
static sq_engine *evolve_lake(lake *L, const char *name, ct_catalog **cat)
{
    if (store_lake(L, name)) return NULL;
    char p[700];
    sq_engine *e = open_engine(L, 0);
    static const char *const dcol[] = {"dt"}, *const d1[] = {"2024-05-01"};
    static const char *const p1[] = {"dt=2024-05-01"};
    sq_write_spec w = {.table = "t1_ev2_daily", .select = "SELECT 1 AS n",
                       .mode = SQ_WRITE_REPLACE_PARTITIONS, .partition_by = "dt",
                       .default_cols = dcol, .default_vals = d1, .ndefaults = 1,
                       .partitions = p1, .npartitions = 1};
    if (!e || sq_write(e, &w, err, sizeof err) != 1) return NULL;
    snprintf(p, sizeof p, "%s/catalog.db", L->dir);
    *cat = ct_open(p, err, sizeof err);
    return *cat ? e : NULL;
}

static int evolve_write(sq_engine *e, const char *select)
{
    static const char *const dcol[] = {"dt"}, *const d2[] = {"2024-05-02"};
    static const char *const p2[] = {"dt=2024-05-02"};
    sq_write_spec w = {.table = "t1_ev2_daily", .select = select,
                       .mode = SQ_WRITE_REPLACE_PARTITIONS, .partition_by = "dt",
                       .default_cols = dcol, .default_vals = d2, .ndefaults = 1,
                       .partitions = p2, .npartitions = 1};
    return (int)sq_write(e, &w, err, sizeof err);
}

/* A SELECT naming a new column twice (up to case) fails as CREATE's does,
 * and extends nothing: no column, and no `X_2` made up for the second. */
TEST(sql_write_evolve_duplicate_names_extend_nothing)
{
    lake L = {0};
    ct_catalog *cat = NULL;
    sq_engine *e = evolve_lake(&L, "evolvedup", &cat);
    CHECK_MSG(e, "%s", err);
    CHECK(evolve_write(e, "SELECT 2 AS n, 3 AS x, 4 AS X") < 0);
    CHECK_MSG(strstr(err, "twice"), "%s", err);
    ct_table t;
    CHECK(ct_table_get(cat, "t1_ev2_daily", &t, err, sizeof err) == 1);
    CHECK_EQ_INT(t.version, 1);
    CHECK_EQ_INT(t.ncols, 1);
    ct_table_free(&t);
    ct_close(cat);
    sq_close(e);
    st_destroy(L.st);
}

/* `_INGEST_TS` (the reserved name in another case) added by an evolution
 * gets the naming rule's `_INGEST_TS_2`, as CREATE names it: a catalog
 * column spelt `_INGEST_TS` is left out by every reader (it equals the
 * reserved _ingest_ts up to case), and its values with it. */
TEST(sql_write_evolve_reserved_name_in_another_case)
{
    lake L = {0};
    ct_catalog *cat = NULL;
    sq_engine *e = evolve_lake(&L, "evolveingest", &cat);
    CHECK_MSG(e, "%s", err);
    CHECK_MSG(evolve_write(e, "SELECT 2 AS n, 5 AS _INGEST_TS") == 1, "%s", err);
    ct_table t;
    CHECK(ct_table_get(cat, "t1_ev2_daily", &t, err, sizeof err) == 1);
    CHECK_EQ_INT(t.ncols, 2);
    CHECK_EQ_STR(t.cols[1].name, "_INGEST_TS_2");
    ct_table_free(&t);
    qres r;
    CHECK_MSG(q(e, "SELECT n, \"_INGEST_TS_2\" FROM t1_ev2_daily WHERE dt = '2024-05-02'", &r) == 1,
              "%s", err);
    CHECK_EQ_STR(r.text, "2,5");
    ct_close(cat);
    sq_close(e);
    st_destroy(L.st);
}

/* A write that fails after its SELECT added a column (a later row does not
 * fit the table's int64 column) changes nothing: the schema changes in the
 * transaction that commits the files, not before them.  Then the same new
 * column written well is one new version, recorded on the file. */
TEST(sql_write_evolve_failed_write_keeps_the_schema)
{
    lake L = {0};
    ct_catalog *cat = NULL;
    sq_engine *e = evolve_lake(&L, "evolvefail", &cat);
    CHECK_MSG(e, "%s", err);
    CHECK(evolve_write(e, "SELECT 2 AS n, 'v' AS added UNION ALL SELECT 'text', 'w'") < 0);
    CHECK_MSG(strstr(err, "int64"), "%s", err);
    ct_table t;
    CHECK(ct_table_get(cat, "t1_ev2_daily", &t, err, sizeof err) == 1);
    CHECK_EQ_INT(t.version, 1);
    CHECK_EQ_INT(t.ncols, 1);
    ct_table_free(&t);
    CHECK_MSG(evolve_write(e, "SELECT 2 AS n, 'v' AS added") == 1, "%s", err);
    CHECK(ct_table_get(cat, "t1_ev2_daily", &t, err, sizeof err) == 1);
    CHECK_EQ_INT(t.version, 2);
    CHECK_EQ_INT(t.ncols, 2);
    ct_file *files = NULL;
    int n = ct_files(cat, t.id, "dt=2024-05-02", &files, err, sizeof err);
    CHECK_MSG(n == 1, "%s", err);
    CHECK_EQ_INT(files[0].schema_version, 2);
    ct_files_free(files, n);
    ct_table_free(&t);
    ct_close(cat);
    sq_close(e);
    st_destroy(L.st);
}

/* read_ndjson('p', 0, 'types'): the columns the first record's keys, typed
 * by the letters (i INTEGER, r REAL, t TEXT, n only nulls: TEXT), the file
 * read once; values as the inferring read gives them.  A count that is not
 * the columns', or another letter, is an error. */
TEST(sql_read_ndjson_given_types)
{
    lake L = {0};
    snprintf(L.dir, sizeof L.dir, "%s/ndjsontypes", t_tmpdir());
    mkdir(L.dir, 0755);
    char p[700], sql[900];
    snprintf(p, sizeof p, "%s/typed.ndjson", L.dir);
    FILE *f = fopen(p, "w");
    CHECK(f);
    fputs("{\"a\":1,\"b\":2,\"c\":\"x\",\"d\":null}\n{\"a\":2,\"b\":2.5,\"c\":7,\"d\":null}\n", f);
    fclose(f);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    qres r, r2;
    snprintf(sql, sizeof sql, "SELECT sum(a), typeof(a), sum(b), typeof(b), group_concat(c, ''), "
             "typeof(c), typeof(d) FROM read_ndjson('%s', 0)", p);
    CHECK_MSG(q(e, sql, &r) == 1, "%s", err);
    snprintf(sql, sizeof sql, "SELECT sum(a), typeof(a), sum(b), typeof(b), group_concat(c, ''), "
             "typeof(c), typeof(d) FROM read_ndjson('%s', 0, 'irtn')", p);
    CHECK_MSG(q(e, sql, &r2) == 1, "%s", err);
    CHECK_EQ_STR(r2.text, r.text);
    CHECK_EQ_STR(r2.text, "3,integer,4.5,real,x7,text,null");
    snprintf(sql, sizeof sql, "SELECT * FROM read_ndjson('%s', 0, 'irt')", p);
    CHECK(q(e, sql, &r) < 0 && strstr(err, "3 column types for 4 columns"));
    snprintf(sql, sizeof sql, "SELECT * FROM read_ndjson('%s', 0, 'irtz')", p);
    CHECK(q(e, sql, &r) < 0 && strstr(err, "column type 'z'"));
    sq_close(e);
}

/* sq_write of `SELECT * FROM read_ndjson|read_csv(p, 0[, 'types'])` reads the
 * file without SQLite (kind collect's landing): the table it writes equals
 * the one the same rows written through SQLite give (a WHERE makes the
 * statement SQLite's), values converted as SQLite converts them too (an
 * integer into the table's string column, a real into its int64 one is an
 * error naming it). */
TEST(sql_write_file_rows_direct_equals_sqlite)
{
    lake L = {0};
    CHECK_MSG(store_lake(&L, "direct") == 0, "%s", err);
    sq_engine *e = open_engine(&L, 0);
    CHECK(e);
    char p[700], pc[700], sql[1600];
    snprintf(p, sizeof p, "%s/recs.ndjson", L.dir);
    snprintf(pc, sizeof pc, "%s/recs.csv", L.dir);
    FILE *f = fopen(p, "w");
    CHECK(f);
    fputs("{\"a\":1,\"b\":2,\"c\":\"x\",\"d\":null}\n{\"a\":-7,\"b\":2.5,\"c\":\"\",\"d\":null}\n"
          "{\"a\":null,\"b\":1e300,\"c\":\"caf\\u00e9\",\"d\":null}\n", f);
    fclose(f);
    f = fopen(pc, "w");
    CHECK(f);
    fputs("\"a\",\"b\",\"s\"\n1,2,x\n-7,2.5,\"\"\n,0.1,\"q\"\"\n\"\n", f);
    fclose(f);
    static const char *const dcol[] = {"dt"}, *const d1[] = {"2024-05-01"};
    static const char *const p1[] = {"dt=2024-05-01"};
    sq_write_spec w = {.mode = SQ_WRITE_REPLACE_PARTITIONS, .partition_by = "dt",
                       .default_cols = dcol, .default_vals = d1, .ndefaults = 1,
                       .partitions = p1, .npartitions = 1};
    const char *fn[4] = {"read_ndjson", "read_csv", "read_ndjson", "read_csv"};
    const char *path[4] = {p, pc, p, pc}, *ty[4] = {", 'irtn'", ", 'irt'", "", ""};
    for (int i = 0; i < 4; i++) { /* given types, then inferred from every record */
        char s1[900], s2[1000];
        snprintf(s1, sizeof s1, "SELECT * FROM %s('%s', 0%s)", fn[i], path[i], ty[i]);
        snprintf(s2, sizeof s2, "%s WHERE 1", s1);
        w.table = "t1_direct_daily", w.select = s1;
        CHECK_MSG(sq_write(e, &w, err, sizeof err) == 3, "%s", err);
        w.table = "t1_sqlite_daily", w.select = s2;
        CHECK_MSG(sq_write(e, &w, err, sizeof err) == 3, "%s", err);
        qres r, r2;
        CHECK(q(e, "SELECT * FROM t1_direct_daily ORDER BY a", &r) == 3);
        CHECK(q(e, "SELECT * FROM t1_sqlite_daily ORDER BY a", &r2) == 3);
        CHECK_EQ_STR(r.text, r2.text);
        CHECK(q(e, "SELECT typeof(a), typeof(b) FROM t1_direct_daily LIMIT 1", &r) == 1);
        CHECK_EQ_STR(r.text, "integer,real");
    }
    /* an integer column into the table's string one; a real into its int64 one */
    snprintf(p, sizeof p, "%s/s.csv", L.dir);
    f = fopen(p, "w");
    CHECK(f);
    fputs("s,a\n12,1\n", f);
    fclose(f);
    snprintf(sql, sizeof sql, "SELECT * FROM read_csv('%s', 0, 'ii')", p);
    w.table = "t1_direct_daily", w.select = sql;
    CHECK_MSG(sq_write(e, &w, err, sizeof err) == 1, "%s", err);
    qres r;
    CHECK(q(e, "SELECT s, typeof(s) FROM t1_direct_daily", &r) == 1);
    CHECK_EQ_STR(r.text, "12,text");
    sq_close(e);
    st_destroy(L.st);
}
