/* Review 9 (jobs, 6f2e365): regression tests for defects found in review.
 * Each fails on the reviewed code. */
#include "catalog/catalog.h"
#include "config/config.h"
#include "jobs/jb_int.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t r9_now;
static int64_t r9_clock(void *ctx)
{
    (void)ctx;
    return r9_now;
}

static int64_t r9_at(const char *rfc3339)
{
    int64_t us = 0;
    if (jb__parse_time(NULL, rfc3339, &us)) abort();
    return us;
}

static cf_config *r9_load(const char *dir, const char *body, char *err, size_t n)
{
    char *text = malloc(strlen(body) + 4300);
    sprintf(text, "data_dir: %s\n%s", dir, body);
    cf_config *c = cf_load_mem(text, strlen(text), "test.yaml", err, n);
    free(text);
    return c;
}

static int r9_count(const char *dir, const char *job, unsigned mask)
{
    char path[4300], err[512];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    if (!cat) return -1;
    ct_run *v = NULL;
    ct_run_filter f = {.job = job, .state_mask = mask, .limit = 100000};
    int n = ct_runs(cat, &f, &v, err, sizeof err);
    free(v);
    ct_close(cat);
    return n;
}

/* A serial backfill is ONE run whose window_start is the first window; the
 * scheduler and the dependency gate look runs up by (job, window_start),
 * so the other windows it covered count as never run: a downstream run of
 * one of them waits forever. */
TEST(review9_serial_backfill_windows_satisfy_dependencies)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/serialdeps", t_tmpdir());
    cf_config *c = r9_load(dir,
                           "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                           "jobs:\n"
                           "  up:\n    kind: command\n    window: day\n    command: ['true']\n"
                           "  down:\n    kind: command\n    window: day\n    depends_on: [up]\n"
                           "    command: ['true']\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    r9_now = r9_at("2024-02-01T00:00:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 2, .now_us = r9_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    int nw = 0;
    CHECK_MSG(jb_backfill(c, dir, "up", r9_at("2024-01-01T00:00:00Z"), r9_at("2024-01-04T00:00:00Z"),
                          0, "up_serial", 0, &nw, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(nw, 3);
    for (int i = 0; i < 10 && r9_count(dir, "up", 1u << CT_RUN_SUCCEEDED) < 1; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 3000);
    }
    CHECK_EQ_INT(r9_count(dir, "up", 1u << CT_RUN_SUCCEEDED), 1);
    int64_t id = 0;
    CHECK(jb_trigger(c, dir, "down", r9_at("2024-01-02T12:00:00Z"), 0, &id, &e) == 0);
    for (int i = 0; i < 10; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 1000);
    }
    int ok = r9_count(dir, "down", 1u << CT_RUN_SUCCEEDED);
    int waiting = r9_count(dir, "down", 1u << CT_RUN_WAITING);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_MSG(ok == 1, "down for 2024-01-02 (covered by the serial backfill of up): %d succeeded, "
                       "%d still waiting", ok, waiting);
}

/* catchup: false creates a run only for the latest fire; after a downtime
 * of more than JB_MAX_FIRES_PER_TICK fires every pass stops at the
 * 10000th fire and creates a run for that stale one. */
TEST(review9_catchup_false_after_long_downtime_runs_only_latest)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/nocatch", t_tmpdir());
    cf_config *c = r9_load(dir,
                           "jobs:\n  e:\n    kind: command\n    every: 1m\n    catchup: false\n"
                           "    command: ['true']\n    max_active: 1000\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    r9_now = r9_at("2026-01-01T00:00:30Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 0, .now_us = r9_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0); /* first seen: from now on */
    r9_now = r9_at("2026-01-31T00:00:30Z"); /* 30 days down: 43200 missed fires */
    for (int i = 0; i < 6; i++) CHECK(jb_tick(r, &e) >= 0);
    int n = r9_count(dir, "e", 0);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_MSG(n == 1, "catchup: false made %d runs after the downtime", n);
}

/* Backfill runs are promoted after scheduled ones, but the pass only looks
 * at the 10000 oldest waiting runs: a backfill of more windows than that
 * hides every newer scheduled run until it drains. */
TEST(review9_big_backfill_does_not_hold_back_scheduled_runs)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/bigbf", t_tmpdir());
    cf_config *c = r9_load(dir,
                           "jobs:\n  h:\n    kind: command\n    window: hour\n"
                           "    command: ['true']\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    r9_now = r9_at("2026-01-01T00:30:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 0, .now_us = r9_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0); /* first seen */
    int nw = 0;
    CHECK_MSG(jb_backfill(c, dir, "h", r9_at("2024-01-01T00:00:00Z"), r9_at("2025-03-01T00:00:00Z"),
                          2, "big", 0, &nw, &e) == 0, "%s", e.msg);
    CHECK(nw > 10000);
    r9_now = r9_at("2026-01-01T01:30:00Z"); /* the 00:00-01:00 window's fire */
    CHECK(jb_tick(r, &e) >= 0);
    ct_run_filter f = {.job = "h", .state_mask = 1u << CT_RUN_QUEUED, .limit = 100};
    char path[4300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    ct_run *v = NULL;
    int n = ct_runs(cat, &f, &v, err, sizeof err), sched = 0;
    for (int i = 0; i < n; i++) sched += !v[i].backfill[0];
    free(v);
    ct_close(cat);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_MSG(sched == 1, "%d queued runs, %d of them scheduled (the new window's run waits "
                          "behind %d backfill windows)", n, sched, nw);
}

/* depends_on may name the lake table a job writes (jb_check resolves it to
 * its producer), but the scheduler looks depends_on entries up as job
 * names only: a table dependency never gates. */
TEST(review9_table_dependency_gates_like_its_producer)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/tabledep", t_tmpdir());
    cf_config *c = r9_load(dir,
                           "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                           "jobs:\n"
                           "  up:\n    kind: sql\n    window: day\n    sql: SELECT 1 AS x\n"
                           "    table: t2_up_snapshot_daily\n"
                           "  down:\n    kind: command\n    window: day\n"
                           "    depends_on: [t2_up_snapshot_daily]\n    command: ['true']\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK_MSG(jb_check(c, err, sizeof err) == 0, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    r9_now = r9_at("2024-02-01T00:00:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 1, .now_us = r9_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    int64_t id = 0;
    CHECK(jb_trigger(c, dir, "down", r9_at("2024-01-02T00:00:00Z"), 0, &id, &e) == 0);
    for (int i = 0; i < 5; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 1000);
    }
    int waiting = r9_count(dir, "down", 1u << CT_RUN_WAITING);
    int ok = r9_count(dir, "down", 1u << CT_RUN_SUCCEEDED);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_MSG(waiting == 1, "down ran (%d succeeded) though its upstream table's job never ran "
                            "for the window", ok);
}

/* A manual run of a window that has not closed yet (`sluice run J --window
 * <now>`) succeeds on partial data, and the scheduler then skips that
 * window at its real fire because it "succeeded": the late part of the
 * window is never processed. */
TEST(review9_manual_run_of_open_window_does_not_suppress_its_scheduled_run)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/openwin", t_tmpdir());
    cf_config *c = r9_load(dir,
                           "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                           "jobs:\n  h:\n    kind: command\n    window: hour\n"
                           "    command: ['true']\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    r9_now = r9_at("2026-01-01T10:30:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 1, .now_us = r9_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0); /* first seen */
    int64_t id = 0;
    int trig = jb_trigger(c, dir, "h", r9_now, 0, &id, &e); /* the hour still open */
    for (int i = 0; i < 5; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 2000);
    }
    r9_now = r9_at("2026-01-01T11:00:30Z"); /* the 10:00-11:00 hour closes */
    for (int i = 0; i < 5; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 2000);
    }
    char path[4300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    ct_run last;
    int have = ct_run_latest(cat, "h", r9_at("2026-01-01T10:00:00Z"), &last, err, sizeof err);
    ct_close(cat);
    jb_destroy(r);
    cf_destroy(c);
    /* either the open window is refused, or the closed window runs again */
    CHECK_MSG(trig != 0 || (have == 1 && last.id != id),
              "window 10:00-11:00 ran only at 10:30 (run %lld, trigger '%s'): its last 30 "
              "minutes are never processed", (long long)id, have ? last.trigger : "?");
}
