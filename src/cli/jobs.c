/* sluice jobs / runs / run / backfill — the jobs of a config and their runs.
 *
 *   sluice jobs -c FILE                       each job: kind, schedule, window, next
 *                                             fire, last run and its state
 *   sluice runs JOB -c FILE [--window W] [--state S] [--limit N] [--format table|json]
 *   sluice run JOB -c FILE --window W [--force] [--wait SECONDS]
 *   sluice backfill JOB -c FILE --from D --to D [--parallel N | --serial] --name NAME
 *                   [--dry-run] [--wait SECONDS]
 *
 * They read and write the run history in <data_dir>/catalog.db only; the
 * scheduler of the `sluice serve` on that data directory queues what they
 * add within a tick.  --wait polls the catalog until the runs finish (a
 * line of progress per second on a terminal).  Exit codes: 0 ok, 1 failure
 * (unknown job, a run failed), 2 usage error. */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "config/config.h"
#include "jobs/jobs.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The config (checked as serve checks it when check is set: commands that
 * start runs; listing needs no secrets). */
static cf_config *load(const char *cmd, const char *config, const char *data, int check)
{
    char err[1024];
    cf_config *cf = config ? cf_load(config, err, sizeof err) : cf_default();
    if (!cf) {
        cli_errorf(cmd, "%s", err);
        return NULL;
    }
    if (check && jb_check(cf, err, sizeof err)) {
        cli_errorf(cmd, "%s", err);
        cf_destroy(cf);
        return NULL;
    }
    if (data) {
        free(cf->data_dir);
        cf->data_dir = ut_strdup(data);
    }
    return cf;
}

static ct_catalog *open_cat(const char *cmd, const cf_config *cf)
{
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/catalog.db", cf->data_dir);
    if (ut_mkdir_p(cf->data_dir, err, sizeof err)) {
        cli_errorf(cmd, "%s", err);
        return NULL;
    }
    ct_catalog *c = ct_open(path, err, sizeof err);
    if (!c) cli_errorf(cmd, "%s", err);
    return c;
}

/* µs → "2026-01-01T03:00:00Z" (out: 40 bytes). */
static void ts_text(char *out, int64_t us)
{
    if (ut_ts_format(out, us / 1000000 * 1000000) <= 0) snprintf(out, 40, "-");
}

static void print_run(const ct_run *r)
{
    char ws[40], we[40];
    ts_text(ws, r->window_start);
    ts_text(we, r->window_end);
    printf("%-8lld %-20s %-20s %-10s %-8d %-10s %-12s %10lld  %s\n", (long long)r->id, ws, we,
           ct_run_state_name(r->state), r->attempt, r->trigger, r->part[0] ? r->part : "-",
           (long long)r->rows, r->error);
}

static void json_run(ut_buf *b, const ct_run *r)
{
    char ws[40], we[40];
    ts_text(ws, r->window_start);
    ts_text(we, r->window_end);
    ut_buf_printf(b, "{\"id\":%lld,\"job\":", (long long)r->id);
    ut_json_str(b, r->job, strlen(r->job));
    ut_buf_printf(b, ",\"window_start\":\"%s\",\"window_end\":\"%s\",\"state\":\"%s\","
                     "\"attempt\":%d,\"deliveries\":%d,\"trigger\":\"%s\",\"backfill\":",
                  ws, we, ct_run_state_name(r->state), r->attempt, r->deliveries, r->trigger);
    ut_json_str(b, r->backfill, strlen(r->backfill));
    ut_buf_puts(b, ",\"account\":");
    ut_json_str(b, r->part, strlen(r->part));
    ut_buf_printf(b, ",\"iterations\":%d,\"worker\":", r->iterations);
    ut_json_str(b, r->worker, strlen(r->worker));
    ut_buf_printf(b, ",\"created_ms\":%lld,\"due_ms\":%lld,\"started_ms\":%lld,"
                     "\"finished_ms\":%lld,\"rows\":%lld,\"bytes\":%lld,\"error\":",
                  (long long)r->created_ms, (long long)r->due_ms, (long long)r->started_ms,
                  (long long)r->finished_ms, (long long)r->rows, (long long)r->bytes);
    ut_json_str(b, r->error, strlen(r->error));
    ut_buf_putc(b, '}');
}

int cli_jobs(int argc, char **argv)
{
    const char *config = NULL, *data = NULL;
    cli_flag flags[] = {{"config", 'c', CLI_STR, &config, "FILE", "YAML configuration"},
                        {"data", 'd', CLI_STR, &data, "DIR", "data directory (default: the config's)"},
                        {0}};
    cli_cmd cmd = {"jobs", "", "list the jobs of a config with their last runs", flags, 0, 0, NULL};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    cf_config *cf = load("jobs", config, data, 0);
    if (!cf) return 1;
    ct_catalog *c = open_cat("jobs", cf);
    if (!c) return cf_destroy(cf), 1;
    printf("%-32s %-8s %-16s %-6s %-10s %s\n", "job", "kind", "schedule", "window", "last", "last window");
    for (int i = 0; i < cf->njobs; i++) {
        const cf_job *j = &cf->jobs[i];
        ct_run *v = NULL;
        char err[512], ws[40] = "-", sched[64];
        ct_run_filter f = {.job = j->name, .limit = 1};
        int n = ct_runs(c, &f, &v, err, sizeof err);
        if (n > 0) ts_text(ws, v[0].window_start);
        if (j->every_ms) snprintf(sched, sizeof sched, "every %llds", (long long)(j->every_ms / 1000));
        else snprintf(sched, sizeof sched, "%s", j->schedule[0] ? j->schedule : "(window end)");
        printf("%-32s %-8s %-16s %-6s %-10s %s\n", j->name, cf_job_kind_name(j->kind), sched, cf_window_name(j->window),
               n > 0 ? ct_run_state_name(v[0].state) : "-", ws);
        free(v);
    }
    ct_close(c);
    cf_destroy(cf);
    return 0;
}

int cli_runs(int argc, char **argv)
{
    const char *config = NULL, *data = NULL, *window = NULL, *state = NULL, *format = "table",
               *backfill = NULL;
    long limit = 100;
    cli_flag flags[] = {{"config", 'c', CLI_STR, &config, "FILE", "YAML configuration"},
                        {"data", 'd', CLI_STR, &data, "DIR", "data directory (default: the config's)"},
                        {"window", 'w', CLI_STR, &window, "W", "only the run(s) of the window starting at W"},
                        {"state", 's', CLI_STR, &state, "S", "only runs in state S (succeeded, failed, dead, ...)"},
                        {"backfill", 0, CLI_STR, &backfill, "NAME", "only the runs of that backfill"},
                        {"limit", 'n', CLI_INT, &limit, "N", "at most N runs, newest first (default 100)"},
                        {"format", 'f', CLI_STR, &format, "F", "table or json"},
                        {0}};
    cli_cmd cmd = {"runs", "JOB", "the run history of a job", flags, 1, 1, NULL};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    ct_run_filter f = {.job = pos[0], .limit = (int)limit, .backfill = backfill};
    ct_run_state st;
    if (state) {
        if (ct_run_state_parse(state, &st)) {
            cli_errorf("runs", "unknown state '%s'", state);
            return 2;
        }
        f.state_mask = 1u << st;
    }
    cf_config *cf = load("runs", config, data, 0);
    if (!cf) return 1;
    ut_error e = {0};
    if (window && cf_job_find(cf, pos[0])) {
        if (jb_parse_time(cf, pos[0], window, &f.window_from, &e)) {
            cli_errorf("runs", "--window: %s", e.msg);
            cf_destroy(cf);
            return 2;
        }
        f.window_to = f.window_from + 1;
    }
    if (!cf_job_find(cf, pos[0])) {
        cli_errorf("runs", "no job '%s' in the config", pos[0]);
        cf_destroy(cf);
        return 1;
    }
    ct_catalog *c = open_cat("runs", cf);
    if (!c) return cf_destroy(cf), 1;
    ct_run *v = NULL;
    char err[512];
    int n = ct_runs(c, &f, &v, err, sizeof err);
    if (n < 0) cli_errorf("runs", "%s", err);
    ut_buf b = {0};
    int json = !strcmp(format, "json");
    if (json) ut_buf_putc(&b, '[');
    else if (n >= 0)
        printf("%-8s %-20s %-20s %-10s %-8s %-10s %-12s %10s  %s\n", "run", "window_start",
               "window_end", "state", "attempt", "trigger", "account", "rows", "error");
    for (int i = 0; i < n; i++) {
        if (json) {
            if (i) ut_buf_putc(&b, ',');
            json_run(&b, &v[i]);
        } else {
            print_run(&v[i]);
        }
    }
    if (json && n >= 0) printf("%s]\n", ut_buf_cstr(&b));
    ut_buf_free(&b);
    free(v);
    ct_close(c);
    cf_destroy(cf);
    return n < 0 ? 1 : 0;
}

/* Poll until every run of the filter is finished or seconds pass.  0 all
 * succeeded, 1 some failed or time ran out. */
static int wait_runs(const char *cmd, const cf_config *cf, ct_run_filter *f, long seconds)
{
    ct_catalog *c = open_cat(cmd, cf);
    if (!c) return 1;
    int tty = isatty(2), rc = 1;
    for (long t = 0; t <= seconds * 10; t++) {
        ct_run *v = NULL;
        char err[512];
        int n = ct_runs(c, f, &v, err, sizeof err), open = 0, bad = 0, ok = 0;
        for (int i = 0; i < n; i++) {
            if (!ct_run_state_terminal(v[i].state)) open++;
            else if (v[i].state == CT_RUN_SUCCEEDED) ok++;
            else bad++;
        }
        free(v);
        if (tty && t % 10 == 0) fprintf(stderr, "\r%d succeeded, %d failed, %d to go   ", ok, bad, open);
        if (n >= 0 && !open) {
            if (tty) fputc('\n', stderr);
            printf("%d succeeded, %d failed\n", ok, bad);
            rc = bad ? 1 : 0;
            break;
        }
        usleep(100 * 1000);
    }
    ct_close(c);
    return rc;
}

int cli_run(int argc, char **argv)
{
    const char *config = NULL, *data = NULL, *window = NULL;
    int force = 0;
    long wait = 0;
    cli_flag flags[] = {{"config", 'c', CLI_STR, &config, "FILE", "YAML configuration"},
                        {"data", 'd', CLI_STR, &data, "DIR", "data directory (default: the config's)"},
                        {"window", 'w', CLI_STR, &window, "W", "a time in the window (YYYY-MM-DD[THH:MM:SSZ])"},
                        {"force", 0, CLI_BOOL, &force, NULL, "run a window that already succeeded again"},
                        {"wait", 0, CLI_INT, &wait, "SECONDS", "wait for the run to finish"},
                        {0}};
    cli_cmd cmd = {"run", "JOB", "queue a run of a job for one window (the server runs it)", flags,
                   1, 1, NULL};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    int64_t at = 0;
    if (!window) {
        cli_errorf("run", "--window: expected YYYY-MM-DD (in the job's time zone) or RFC 3339");
        return 2;
    }
    cf_config *cf = load("run", config, data, 1);
    if (!cf) return 1;
    ut_error e = {0};
    int64_t id = 0;
    if (jb_parse_time(cf, pos[0], window, &at, &e)) {
        cli_errorf("run", "--window: %s", e.msg);
        cf_destroy(cf);
        return 2;
    }
    if (jb_trigger(cf, cf->data_dir, pos[0], at, force, &id, &e)) {
        cli_errorf("run", "%s", e.msg);
        cf_destroy(cf);
        return 1;
    }
    printf("run %lld queued\n", (long long)id);
    rc = 0;
    if (wait > 0) {
        ct_run_filter f = {.job = pos[0], .window_from = 0};
        ct_catalog *c = open_cat("run", cf);
        ct_run r;
        char err[512];
        if (c && ct_run_get(c, id, &r, err, sizeof err) == 1) {
            f.window_from = r.window_start;
            f.window_to = r.window_start + 1;
        }
        ct_close(c);
        f.limit = 1;
        rc = wait_runs("run", cf, &f, wait);
    }
    cf_destroy(cf);
    return rc;
}

int cli_backfill(int argc, char **argv)
{
    const char *config = NULL, *data = NULL, *from = NULL, *to = NULL, *name = NULL;
    long parallel = 0, wait = 0;
    int serial = 0, dry = 0;
    cli_flag flags[] = {{"config", 'c', CLI_STR, &config, "FILE", "YAML configuration"},
                        {"data", 'd', CLI_STR, &data, "DIR", "data directory (default: the config's)"},
                        {"from", 0, CLI_STR, &from, "D", "first window (YYYY-MM-DD[THH:MM:SSZ])"},
                        {"to", 0, CLI_STR, &to, "D", "end, exclusive"},
                        {"parallel", 'p', CLI_INT, &parallel, "N", "one run per window, at most N at once"},
                        {"serial", 0, CLI_BOOL, &serial, NULL, "one run iterating over every window in order"},
                        {"name", 'n', CLI_STR, &name, "NAME", "the backfill's name (refused if it exists)"},
                        {"dry-run", 0, CLI_BOOL, &dry, NULL, "say how many windows, change nothing"},
                        {"wait", 0, CLI_INT, &wait, "SECONDS", "wait for its runs to finish"},
                        {0}};
    cli_cmd cmd = {"backfill", "JOB", "re-run a job over a range of windows", flags, 1, 1, NULL};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    int64_t f0 = 0, t0 = 0;
    if (!from || !to) {
        cli_errorf("backfill", "--from and --to: dates (in the job's time zone) or RFC 3339");
        return 2;
    }
    if (!serial == !(parallel > 0)) {
        cli_errorf("backfill", "give exactly one of --serial and --parallel N");
        return 2;
    }
    if (!name && !dry) {
        cli_errorf("backfill", "--name NAME is required (a backfill cannot be started twice)");
        return 2;
    }
    cf_config *cf = load("backfill", config, data, 1);
    if (!cf) return 1;
    ut_error e = {0};
    int n = 0;
    if (jb_parse_time(cf, pos[0], from, &f0, &e) || jb_parse_time(cf, pos[0], to, &t0, &e) ||
        t0 <= f0) {
        cli_errorf("backfill", "--from / --to: %s", e.msg[0] ? e.msg : "--to must be after --from");
        cf_destroy(cf);
        return 2;
    }
    if (jb_backfill(cf, cf->data_dir, pos[0], f0, t0, serial ? 0 : (int)parallel,
                    name ? name : "dry-run", dry, &n, &e)) {
        cli_errorf("backfill", "%s", e.msg);
        cf_destroy(cf);
        return 1;
    }
    printf("%s: %d window%s%s\n", name ? name : "dry run", n, n == 1 ? "" : "s",
           dry ? " (dry run: nothing queued)" : serial ? ", one serial run queued" : " queued");
    rc = 0;
    if (wait > 0 && !dry) {
        ct_run_filter f = {.job = pos[0], .backfill = name, .limit = 100000};
        rc = wait_runs("backfill", cf, &f, wait);
    }
    cf_destroy(cf);
    return rc;
}
