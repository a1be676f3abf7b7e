/* SQL engine: lake tables over a lake written by the real sink, pushdown
 * counts, schema evolution, the journal tail, table functions, safety. */
#include "t.h"
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
