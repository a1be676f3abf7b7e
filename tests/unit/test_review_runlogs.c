/* ct_run_log_put's pruning (catalog runs.c, S_RUN_LOG_PRUNE): a job keeps
 * the logs of its last CT_RUN_LOGS_KEPT attempts written.  The prune went
 * by run id, so the log of a run created early and finishing late (a long
 * run, a retry after a backfill's later runs) was deleted the moment it was
 * written, with its earlier attempts' logs. */
#include "catalog/catalog.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

static void count_row(void *arg, int attempt, int64_t created_ms, const char *text, size_t n)
{
    (void)attempt, (void)created_ms, (void)text, (void)n;
    ++*(int *)arg;
}

TEST(catalog_run_log_of_an_old_run_written_late_is_kept)
{
    char err[512], path[4300];
    snprintf(path, sizeof path, "%s/late-log.db", t_tmpdir());
    ct_catalog *c = ct_open(path, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_run r = {.window_start = 0, .window_end = 1, .state = CT_RUN_WAITING, .attempt = 1};
    snprintf(r.job, sizeof r.job, "j");
    snprintf(r.trigger, sizeof r.trigger, "manual");
    CHECK_MSG(ct_run_create(c, &r, err, sizeof err) == 0, "%s", err);
    int64_t early = r.id;
    CHECK(ct_run_log_put(c, early, 1, "j", "attempt 1 failed", 16, err, sizeof err) == 0);
    for (int i = 0; i < CT_RUN_LOGS_KEPT; i++) { /* later runs finish meanwhile */
        ct_run x = r;
        x.id = 0;
        CHECK(ct_run_create(c, &x, err, sizeof err) == 0);
        CHECK(ct_run_log_put(c, x.id, 1, "j", "x", 1, err, sizeof err) == 0);
    }
    /* the early run's retry ends now: its log is the newest one written */
    CHECK(ct_run_log_put(c, early, 2, "j", "attempt 2 done", 14, err, sizeof err) == 0);
    int n = 0;
    CHECK_MSG(ct_run_logs(c, early, count_row, &n, err, sizeof err) >= 0, "%s", err);
    CHECK_MSG(n >= 1, "the log just written of run %lld was pruned at once", (long long)early);
    ct_close(c);
}
