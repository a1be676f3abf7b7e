/* The built-in job_failures alert (src/jobs/builtin.c) against runs the
 * catalog holds in orders a busy server produces: every failed run is
 * notified, once.  Runs are written straight into the catalog's runs table
 * (the check reads only state, finished_ms, id, job and error). */
#include "catalog/catalog.h"
#include "config/config.h"
#include "jobs/jb_int.h"
#include "jobs/jb_rt.h"
#include "t.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static jb_runtime *alerts_runtime(const char *dir, cf_config **cf, char *err, size_t n)
{
    char text[4600];
    snprintf(text, sizeof text,
             "data_dir: %s\nalerts: {schema_changes: false}\n"
             "jobs:\n  a:\n    kind: command\n    schedule: \"0 0 1 1 *\"\n    command: ['true']\n",
             dir);
    *cf = cf_load_mem(text, strlen(text), "test.yaml", err, n);
    if (!*cf || ut_mkdir_p(dir, err, n)) return NULL;
    jb_opts o = {.cf = *cf, .data_dir = dir};
    jb_runtime *r = jb_create(&o, err, n);
    if (r && jb__builtin_start(r, 0, err, n)) return NULL; /* no thread: the test checks */
    return r;
}

static int sql(const char *dir, const char *text)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) return -1;
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, text, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "sql: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* A run of job a, id `id`, in `state`, finished at `fin`. */
static int put_run(const char *dir, int64_t id, const char *state, int64_t fin, const char *error)
{
    char text[512];
    snprintf(text, sizeof text,
             "INSERT INTO runs(id, job, window_start, window_end, state, trigger, created_ms, "
             "due_ms, finished_ms, error) VALUES (%lld, 'a', 0, 0, '%s', 'manual', %lld, %lld, "
             "%lld, '%s')",
             (long long)id, state, (long long)fin, (long long)fin, (long long)fin, error);
    return sql(dir, text);
}

/* Occurrences of s in GET /v1/alerts' built-in part. */
static int in_json(jb_runtime *r, const char *s)
{
    ut_buf b = {0};
    jb__builtin_json(r, &b);
    int n = 0;
    for (const char *p = ut_buf_cstr(&b); (p = strstr(p, s)); p++) n++;
    ut_buf_free(&b);
    return n;
}

/* Two runs fail in the same millisecond T; the one with the higher id
 * commits first and a check runs between the commits (the cursor becomes
 * (T, higher id)); the lower id's commit lands after.  It must still be
 * notified. */
TEST(builtin_alerts_same_ms_committed_out_of_id_order)
{
    char err[1024], dir[4200];
    snprintf(dir, sizeof dir, "%s/same-ms", t_tmpdir());
    cf_config *cf = NULL;
    jb_runtime *r = alerts_runtime(dir, &cf, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err); /* cursors: now */
    int64_t t = wall_ms() + 50;
    CHECK(put_run(dir, 101, "running", 0, "") == 0);
    CHECK(put_run(dir, 102, "failed", t, "second thread") == 0);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(in_json(r, "a run 102 failed"), 1);
    char up[256];
    snprintf(up, sizeof up,
             "UPDATE runs SET state = 'failed', finished_ms = %lld, error = 'first thread' "
             "WHERE id = 101", (long long)t);
    CHECK(sql(dir, up) == 0);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(in_json(r, "a run 101 failed") == 1, "run 101 (failed at the same ms as 102, "
              "committed after a check saw 102) was never notified");
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(in_json(r, "a run 101 failed"), 1);
    CHECK_EQ_INT(in_json(r, "a run 102 failed"), 1);
    jb_destroy(r);
    cf_destroy(cf);
}

/* A long run (a low id) fails after 1000 runs created after it failed: the
 * check lists the 1000 newest ids, so it never saw the long run. */
TEST(builtin_alerts_failure_behind_1000_newer_failed_runs)
{
    char err[1024], dir[4200];
    snprintf(dir, sizeof dir, "%s/behind-1000", t_tmpdir());
    cf_config *cf = NULL;
    jb_runtime *r = alerts_runtime(dir, &cf, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    int64_t t = wall_ms() + 50;
    CHECK(put_run(dir, 1, "running", 0, "") == 0);
    ut_buf b = {0};
    ut_buf_puts(&b, "BEGIN;");
    for (int i = 2; i <= 1001; i++)
        ut_buf_printf(&b, "INSERT INTO runs(id, job, window_start, window_end, state, trigger, "
                          "created_ms, due_ms, finished_ms, error) VALUES (%d, 'a', 0, 0, "
                          "'failed', 'manual', %lld, %lld, %lld, 'fast');",
                      i, (long long)t, (long long)t, (long long)t);
    ut_buf_puts(&b, "COMMIT;");
    CHECK(sql(dir, ut_buf_cstr(&b)) == 0);
    ut_buf_free(&b);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(in_json(r, "1000 runs failed"), 1);
    char up[256];
    snprintf(up, sizeof up,
             "UPDATE runs SET state = 'failed', finished_ms = %lld, error = 'long' WHERE id = 1",
             (long long)t + 1000);
    CHECK(sql(dir, up) == 0);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(in_json(r, "a run 1 failed") == 1, "run 1 failed after the cursor and was never notified");
    jb_destroy(r);
    cf_destroy(cf);
}

/* More than 1000 runs fail between two checks: the notice counts them all. */
TEST(builtin_alerts_counts_over_1000_failures)
{
    char err[1024], dir[4200];
    snprintf(dir, sizeof dir, "%s/over-1000", t_tmpdir());
    cf_config *cf = NULL;
    jb_runtime *r = alerts_runtime(dir, &cf, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    int64_t t = wall_ms() + 50;
    ut_buf b = {0};
    ut_buf_puts(&b, "BEGIN;");
    for (int i = 1; i <= 1500; i++)
        ut_buf_printf(&b, "INSERT INTO runs(id, job, window_start, window_end, state, trigger, "
                          "created_ms, due_ms, finished_ms, error) VALUES (%d, 'a', 0, 0, "
                          "'failed', 'manual', %lld, %lld, %lld, 'x');",
                      i, (long long)t, (long long)t, (long long)t + i);
    ut_buf_puts(&b, "COMMIT;");
    CHECK(sql(dir, ut_buf_cstr(&b)) == 0);
    ut_buf_free(&b);
    CHECK_MSG(jb__builtin_check(r, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(in_json(r, "1500 runs failed") == 1, "the notice does not count 1500 failed runs");
    jb_destroy(r);
    cf_destroy(cf);
}
