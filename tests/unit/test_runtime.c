#include "t.h"
#include "log/log.h"
#include "runtime/runtime.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_rows(void *ctx, sqlite3_stmt *st)
{
    *(long long *)ctx = sqlite3_column_int64(st, 0);
    return 0;
}

TEST(runtime_client_store_sql_and_log_level)
{
    char dir[600], yaml[1400], err[1024];
    snprintf(dir, sizeof dir, "%s/rt", t_tmpdir());
    int n = snprintf(yaml, sizeof yaml,
                     "data_dir: %s\nlog_level: error\nstreams:\n  ev: {sink: {event_time_field: ts}}\n",
                     dir);
    cf_config *cf = cf_load_mem(yaml, (size_t)n, "rt.yaml", err, sizeof err);
    CHECK(cf != NULL);
    lg_level before = lg_get_level();
    rt_opts o = {.mode = RT_CLIENT, .port = -1};
    /* a reader creates nothing: a missing data directory is an error */
    rt_runtime *rt = rt_create(cf, &o, err, sizeof err);
    CHECK(rt == NULL && strstr(err, "does not exist"));
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    rt = rt_create(cf, &o, err, sizeof err);
    CHECK_MSG(rt != NULL, "%s", err);
    if (!getenv("SLUICE_LOG_LEVEL")) CHECK_EQ_INT(lg_get_level(), LG_ERROR);
    lg_set_level(before);
    CHECK_EQ_STR(rt_data_dir(rt), dir);
    rt_sql_req q = {0};
    q.read_only = 1;
    sq_engine *e = rt_sql_open(rt, &q, err, sizeof err);
    CHECK(e != NULL);
    long long v = 0;
    sq_sink s = {&v, NULL, count_rows};
    CHECK_EQ_INT(sq_query(e, "SELECT 41 + 1", &s, err, sizeof err), 1);
    CHECK_EQ_INT(v, 42);
    sq_close(e);
    CHECK_EQ_INT(rt_stop(rt), 0); /* nothing runs in client mode */
    rt_destroy(rt);
    rt_destroy(NULL);

    /* --data overrides the config's directory */
    char other[700];
    snprintf(other, sizeof other, "%s/other", dir);
    o.data_dir = other;
    CHECK(ut_mkdir_p(other, err, sizeof err) == 0);
    rt = rt_create(cf, &o, err, sizeof err);
    CHECK(rt != NULL);
    CHECK_EQ_STR(rt_data_dir(rt), other);
    rt_destroy(rt);
    cf_destroy(cf);

    /* a store that cannot work is refused at once, for every entry point */
    const char *bad = "lake: {store: s3}\n";
    cf = cf_load_mem(bad, strlen(bad), "rt.yaml", err, sizeof err);
    CHECK(cf != NULL);
    o.data_dir = dir;
    CHECK(rt_create(cf, &o, err, sizeof err) == NULL);
    CHECK(strstr(err, "lake store: lake.s3 needs endpoint and bucket") != NULL);
    cf_destroy(cf);
}

TEST(runtime_worker_finds_its_server)
{
    char dir[600], yaml[1400], err[1024];
    snprintf(dir, sizeof dir, "%s/rtw", t_tmpdir());
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    int n = snprintf(yaml, sizeof yaml, "data_dir: %s\nlog_level: error\nlisten: 127.0.0.1:0\n",
                     dir);
    cf_config *cf = cf_load_mem(yaml, (size_t)n, "rtw.yaml", err, sizeof err);
    CHECK_MSG(cf != NULL, "%s", err);
    rt_opts o = {.mode = RT_WORKER, .port = -1, .threads = 1};
    /* port 0 says nothing about where the server is */
    rt_runtime *rt = rt_create(cf, &o, err, sizeof err);
    CHECK_MSG(rt == NULL && strstr(err, "--server") && strstr(err, "rtw.yaml"), "%s", err);
    /* with --server it runs (and stops) with no server there: takes are retried */
    o.server = "http://127.0.0.1:1";
    rt = rt_create(cf, &o, err, sizeof err);
    CHECK_MSG(rt != NULL, "%s", err);
    CHECK_EQ_INT(rt_stop(rt), 0);
    rt_destroy(rt);
    o.server = "localhost:1"; /* not a URL */
    rt = rt_create(cf, &o, err, sizeof err);
    CHECK_MSG(rt == NULL && strstr(err, "localhost:1"), "%s", err);
    cf_destroy(cf);
}
