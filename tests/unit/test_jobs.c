/* Unit tests of the jobs runtime: config checks, the scheduler's plan
 * under a fake clock (catchup, lookback, start), templates, the run
 * store's fencing, workers running command tasks (success, retries,
 * failure), the task endpoints of sluice worker and their HTTP client. */
#include "catalog/catalog.h"
#include "config/config.h"
#include "jobs/jb_int.h"
#include "pool/pool.h"
#include "t.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static int64_t at(const char *rfc3339)
{
    int64_t us = 0;
    if (jb__parse_time(NULL, rfc3339, &us)) abort();
    return us;
}

/* Load `body` (jobs etc.) under a data_dir line for dir. */
static cf_config *load(const char *dir, const char *body, char *err, size_t n)
{
    char *text = malloc(strlen(body) + 4300);
    sprintf(text, "data_dir: %s\n%s", dir, body);
    cf_config *c = cf_load_mem(text, strlen(text), "test.yaml", err, n);
    free(text);
    return c;
}

/* jb_check's message for a config (or "ok"). */
static const char *check_msg(const char *body, char *err, size_t n)
{
    cf_config *c = load(t_tmpdir(), body, err, n);
    if (!c) return err;
    if (jb_check(c, err, n) == 0) snprintf(err, n, "ok");
    cf_destroy(c);
    return err;
}

TEST(jobs_check_errors_name_job_and_line)
{
    char err[1024];
    CHECK(strstr(check_msg("jobs:\n  a:\n    kind: command\n    schedule: \"61 * * * *\"\n"
                           "    command: [true]\n", err, sizeof err), "test.yaml:3: jobs.a:"));
    CHECK(strstr(err, "minute"));
    CHECK(strstr(check_msg("jobs:\n  b:\n    kind: command\n    command: [echo, '{{dss}}']\n",
                           err, sizeof err), "unknown template variable '{{dss}}'"));
    CHECK(strstr(err, "jobs.b"));
    CHECK(strstr(check_msg("jobs:\n  c:\n    kind: command\n    pool: nope\n    command: [x]\n",
                           err, sizeof err), "no pool 'nope'"));
    CHECK(strstr(check_msg("jobs:\n  d:\n    kind: command\n    command: ['{{secret.nope_x}}']\n",
                           err, sizeof err), "secret 'nope_x' not found"));
    CHECK(strstr(check_msg("jobs:\n  e:\n    kind: command\n    command: ['{{params.p}}']\n",
                           err, sizeof err), "no param 'p'"));
    CHECK_EQ_STR(check_msg("jobs:\n  f:\n    kind: command\n    params: {p: 1}\n"
                           "    command: ['{{params.p}}', '{{ ds }}']\n", err, sizeof err), "ok");
    CHECK(strstr(check_msg("jobs:\n  g:\n    kind: command\n    timezone: Mars/Base\n"
                           "    command: [x]\n", err, sizeof err), "jobs.g"));
    CHECK(strstr(check_msg("jobs:\n  h:\n    kind: command\n    depends_on: [zz]\n"
                           "    command: [x]\n", err, sizeof err), "'zz' is neither a job"));
}

TEST(jobs_check_cycles_and_producers)
{
    char err[1024];
    const char *cyc = "jobs:\n"
                      "  a:\n    kind: command\n    depends_on: [c]\n    command: [x]\n"
                      "  b:\n    kind: command\n    depends_on: [a]\n    command: [x]\n"
                      "  c:\n    kind: sql\n    sql: SELECT 1\n    table: t2_c\n    mode: replace\n"
                      "    depends_on: [b]\n";
    CHECK(strstr(check_msg(cyc, err, sizeof err), "dependency cycle"));
    CHECK(strstr(err, "a -> c -> b -> a") || strstr(err, "-> a"));
    const char *two = "jobs:\n"
                      "  a:\n    kind: sql\n    sql: SELECT 1\n    table: t2_x\n    mode: replace\n"
                      "  b:\n    kind: sql\n    sql: SELECT 2\n    table: T2_X\n    mode: replace\n";
    CHECK(strstr(check_msg(two, err, sizeof err), "also written by job"));
    const char *stream = "streams:\n  ev: {}\njobs:\n"
                         "  a:\n    kind: sql\n    sql: SELECT 1\n    table: t1_ev\n    mode: replace\n";
    CHECK(strstr(check_msg(stream, err, sizeof err), "stream ev lands in"));
    /* a table dependency on a job-written table resolves to its producer */
    const char *dep = "jobs:\n"
                      "  a:\n    kind: sql\n    sql: SELECT 1\n    table: t2_a\n    mode: replace\n"
                      "  b:\n    kind: command\n    depends_on: [t2_a]\n    command: [x]\n";
    CHECK_EQ_STR(check_msg(dep, err, sizeof err), "ok");
}

TEST(jobs_config_shapes)
{
    char err[1024];
    CHECK(strstr(check_msg("jobs:\n  a:\n    kind: sql\n    table: t2_a\n", err, sizeof err),
                 "exactly one of sql and sql_file"));
    CHECK(strstr(check_msg("jobs:\n  a:\n    kind: sql\n    sql: SELECT 1\n    table: t2_a\n",
                           err, sizeof err), "replace_window needs a window"));
    CHECK(strstr(check_msg("jobs:\n  a:\n    kind: command\n", err, sizeof err),
                 "needs command"));
    cf_config *c = load(t_tmpdir(), "jobs:\n  a:\n    kind: command\n    command: [x]\n    lookback: 2\n", err,
             sizeof err);
    CHECK(!c && strstr(err, "lookback needs a window"));
    c = load(t_tmpdir(), "jobs:\n  a:\n    kind: command\n    command: [x]\n    every: 1m\n"
                         "    schedule: '@hourly'\n", err, sizeof err);
    CHECK(!c && strstr(err, "either schedule or every"));
    c = load(t_tmpdir(), "pools:\n  api: {rate: 5/s, burst: 3, concurrency: 2}\n", err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(c->npools == 1 && c->pools[0].rate == 5.0 && c->pools[0].burst == 3);
    cf_destroy(c);
    c = load(t_tmpdir(), "pools:\n  api: {rate: 5/x}\n", err, sizeof err);
    CHECK(!c && strstr(err, "rate like 10/s"));
    c = load(t_tmpdir(), "jobs:\n  a:\n    kind: command\n    command: [x]\n    env: {1bad: x}\n",
             err, sizeof err);
    CHECK(!c && strstr(err, "identifiers"));
}

TEST(jobs_templates_expand_window_values)
{
    char err[512];
    cf_config *c = load(t_tmpdir(), "jobs:\n  a:\n    kind: command\n    window: hour\n"
                                    "    timezone: Asia/Kolkata\n    params: {x: hello}\n"
                                    "    command: [x]\n", err, sizeof err);
    CHECK_MSG(c, "%s", err);
    jb_timing t;
    CHECK(jb__timing_init(&t, &c->jobs[0], err, sizeof err) == 0);
    jb_vars v = {.cf = c, .job = &c->jobs[0], .timing = &t, .run_id = 42,
                 .ws = at("2026-03-01T20:30:00Z"), .we = at("2026-03-01T21:30:00Z")};
    ut_buf b = {0};
    CHECK(jb__expand("{{ds}}|{{ds_nodash}}|{{hr}}|{{window_start}}|{{window_end}}|{{run_id}}|"
                     "{{job}}|{{params.x}}", &v, &b, NULL, err, sizeof err) == 0);
    /* 20:30Z is 02:00 the next day in Kolkata (+05:30) */
    CHECK_EQ_STR(ut_buf_cstr(&b), "2026-03-02|20260302|02|2026-03-01T20:30:00.000000Z|"
                                  "2026-03-01T21:30:00.000000Z|42|a|hello");
    CHECK(jb__expand("{{nope}}", &v, &b, NULL, err, sizeof err) == -1 && strstr(err, "nope"));
    CHECK(jb__expand("x {{ds", &v, &b, NULL, err, sizeof err) == -1 && strstr(err, "closing"));
    ut_buf_free(&b);
    jb__timing_free(&t);
    cf_destroy(c);
}

TEST(jobs_secrets_redacted)
{
    char err[512], val[JB_MAX_SECRET_BYTES];
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/secrets", t_tmpdir());
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/api_token", dir);
    FILE *f = fopen(path, "w");
    fputs("s3cr3t-value\nsecond line\n", f);
    fclose(f);
    char body[4400];
    snprintf(body, sizeof body, "secrets_dir: %s\n", dir);
    cf_config *c = load(t_tmpdir(), body, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(jb__secret(c, "api_token", val, err, sizeof err) == 0);
    CHECK_EQ_STR(val, "s3cr3t-value");
    CHECK(jb__secret(c, "../etc", val, err, sizeof err) == -1);
    setenv("SLUICE_SECRET_FROM_ENV", "envval", 1);
    CHECK(jb__secret(c, "from-env", val, err, sizeof err) == 0 && !strcmp(val, "envval"));
    jb_redact r = {0};
    r.v[0] = strdup("s3cr3t-value");
    snprintf(r.name[0], sizeof r.name[0], "api_token");
    r.n = 1;
    char msg[128] = "curl: 401 for token s3cr3t-value (s3cr3t-value)";
    jb__redact(&r, msg, sizeof msg);
    CHECK_EQ_STR(msg, "curl: 401 for token [secret api_token] ([secret api_token])");
    char tail[128] = "r3t-value ... end: s3cr3t-v"; /* a tail cut inside the secret, twice */
    jb__redact(&r, tail, sizeof tail);
    CHECK_EQ_STR(tail, "[secret api_token] ... end: [secret api_token]");
    jb__redact_free(&r);
    cf_destroy(c);
}

/* Runs of job `job` in the catalog of dir, optionally only state st. */
static int count_runs(const char *dir, const char *job, unsigned mask)
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

static jb_runtime *start(cf_config *c, const char *dir, int workers, char *err, size_t n)
{
    jb_opts o = {.cf = c, .data_dir = dir, .workers = workers, .now_us = fake_clock};
    return jb_create(&o, err, n);
}

TEST(jobs_scheduler_catchup_lookback_start)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/sched", t_tmpdir());
    cf_config *c = load(dir,
                        "jobs:\n"
                        "  hourly:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    command: ['true']\n    max_active: 100\n"
                        "  nocatch:\n    kind: command\n    window: hour\n    catchup: false\n"
                        "    start: 2026-01-01\n    command: ['true']\n"
                        "  daily:\n    kind: command\n    window: day\n    lookback: 2\n"
                        "    start: 2026-01-01\n    command: ['true']\n    max_active: 100\n"
                        "  fresh:\n    kind: command\n    window: hour\n    command: ['true']\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T03:30:00Z");
    jb_runtime *r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK_MSG(jb_tick(r, &e) >= 0, "%s", e.msg);
    CHECK_EQ_INT(count_runs(dir, "hourly", 0), 3); /* 00-01, 01-02, 02-03 */
    CHECK_EQ_INT(count_runs(dir, "nocatch", 0), 1); /* only the latest */
    CHECK_EQ_INT(count_runs(dir, "daily", 0), 0);   /* no day closed since the start */
    CHECK_EQ_INT(count_runs(dir, "fresh", 0), 0);   /* first seen now: from now on */
    CHECK_EQ_INT(count_runs(dir, "hourly", 1u << CT_RUN_QUEUED), 3);
    CHECK_EQ_INT(count_runs(dir, "nocatch", 1u << CT_RUN_QUEUED), 1);
    /* a second pass at the same time creates nothing */
    CHECK(jb_tick(r, &e) >= 0);
    CHECK_EQ_INT(count_runs(dir, "hourly", 0), 3);
    /* three days later (catchup): every hour; lookback does not pile up open runs */
    fake_now = at("2026-01-04T01:10:00Z");
    CHECK(jb_tick(r, &e) >= 0);
    CHECK_EQ_INT(count_runs(dir, "hourly", 0), 3 * 24 + 1);
    CHECK_EQ_INT(count_runs(dir, "nocatch", 0), 2);
    CHECK_EQ_INT(count_runs(dir, "daily", 0), 3); /* Jan 1, 2, 3 */
    CHECK_EQ_INT(count_runs(dir, "fresh", 0), 3 * 24 - 2); /* 04:00 Jan 1 .. 01:00 Jan 4 */
    jb_destroy(r);
    cf_destroy(c);
}

TEST(jobs_max_active_limits_queued_runs)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/maxact", t_tmpdir());
    cf_config *c = load(dir,
                        "jobs:\n  h:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    command: ['true']\n    max_active: 2\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T10:00:00Z");
    jb_runtime *r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0);
    CHECK_EQ_INT(count_runs(dir, "h", 0), 10);
    CHECK_EQ_INT(count_runs(dir, "h", 1u << CT_RUN_QUEUED), 2);
    CHECK_EQ_INT(count_runs(dir, "h", 1u << CT_RUN_WAITING), 8);
    jb_destroy(r);
    cf_destroy(c);
}

/* Tick and wait until the runs of dir are all finished or n passes. */
static void drive(jb_runtime *r, const char *dir, int passes)
{
    ut_error e = {0};
    unsigned open = (1u << CT_RUN_WAITING) | (1u << CT_RUN_QUEUED) | (1u << CT_RUN_RUNNING) |
                    (1u << CT_RUN_RETRYING);
    for (int i = 0; i < passes && (i == 0 || count_runs(dir, NULL, open) > 0); i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 5000);
    }
}

TEST(jobs_workers_run_commands_and_retry)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/work", t_tmpdir());
    cf_config *c = load(dir,
                        "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                        "jobs:\n"
                        "  ok:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    command: [sh, -c, 'test \"$SLUICE_DS\" = 2026-01-01']\n"
                        "  bad:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    retries: 2\n    retry_delay: 0s\n"
                        "    command: [sh, -c, 'echo boom >&2; exit 3']\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T02:00:00Z");
    jb_runtime *r = start(c, dir, 2, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    drive(r, dir, 20);
    CHECK_EQ_INT(count_runs(dir, "ok", 1u << CT_RUN_SUCCEEDED), 2);
    CHECK_EQ_INT(count_runs(dir, "bad", 1u << CT_RUN_FAILED), 2);
    char path[4300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    ct_run *v = NULL;
    ct_run_filter f = {.job = "bad"};
    int n = ct_runs(cat, &f, &v, err, sizeof err);
    CHECK(n == 2);
    CHECK_EQ_INT(v[0].attempt, 3); /* the first try and two retries */
    CHECK_MSG(strstr(v[0].error, "exited with status 3: boom"), "%s", v[0].error);
    free(v);
    ct_close(cat);
    jb_destroy(r);
    cf_destroy(c);
}

/* The pause a command's SLUICE_PAUSE line set on pool `name` of dir (ms; 0 = none). */
static int64_t paused_until(const char *dir, const char *name)
{
    char pd[4300];
    snprintf(pd, sizeof pd, "%s/jobs/pools", dir);
    pl_pools *p = pl_open(pd, NULL, 0);
    ut_error e = {0};
    pl_stats st = {0};
    if (!p || pl_configure(p, name, 0, 0, 0, 0, &e) || pl_info(p, name, &st, &e)) st.paused_until_ms = -1;
    pl_close(p);
    return st.paused_until_ms;
}

/* SLUICE_PAUSE values past the longest pause (1e300, inf) pause for the
 * longest one (24 h) instead of casting an out-of-range double to int64
 * (undefined; on x86 a time far in the past: no pause at all); a last line
 * without its newline still counts; NaN, 0 and negative ones do nothing. */
TEST(jobs_command_pause_line_edges)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/pauseline", t_tmpdir());
    cf_config *c = load(dir,
                        "pools: {a: {rate: 0/s}, b: {rate: 0/s}, c: {rate: 0/s}, d: {rate: 0/s}}\n"
                        "jobs:\n"
                        "  huge:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    pool: a\n    command: [sh, -c, 'echo SLUICE_PAUSE 1e300 >&2']\n"
                        "  inf:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    pool: b\n    command: [sh, -c, 'echo SLUICE_PAUSE inf >&2']\n"
                        "  tail:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    pool: c\n    command: [sh, -c, 'printf \"x\\nSLUICE_PAUSE 30\" >&2']\n"
                        "  junk:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    pool: d\n    command: [sh, -c, 'exec >&2; echo SLUICE_PAUSE nan; echo SLUICE_PAUSE -5; "
                        "echo SLUICE_PAUSE 0; echo SLUICE_PAUSE 5x; echo SLUICE_PAUSE; echo SLUICE_PAUSEx 9'"
                        "]\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T01:00:00Z");
    jb_runtime *r = start(c, dir, 2, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    drive(r, dir, 20);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(count_runs(dir, NULL, 1u << CT_RUN_SUCCEEDED), 4);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t a = paused_until(dir, "a"), b = paused_until(dir, "b");
    int64_t tl = paused_until(dir, "c"), d = paused_until(dir, "d");
    CHECK_MSG(a > now + PL_MAX_PAUSE_MS - 60000 && a <= now + PL_MAX_PAUSE_MS,
              "SLUICE_PAUSE 1e300: paused until %lld, now %lld", (long long)a, (long long)now);
    CHECK_MSG(b > now + PL_MAX_PAUSE_MS - 60000 && b <= now + PL_MAX_PAUSE_MS,
              "SLUICE_PAUSE inf: paused until %lld, now %lld", (long long)b, (long long)now);
    CHECK_MSG(tl > now + 20000 && tl <= now + 30000,
              "SLUICE_PAUSE 30 without a newline: paused until %lld, now %lld", (long long)tl,
              (long long)now);
    CHECK_MSG(d == 0, "junk SLUICE_PAUSE lines: paused until %lld", (long long)d);
}

/* A waiting run of job "j" (no window, no task) in c.  0 or -1. */
static int new_run(ct_catalog *c, ct_run *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    snprintf(r->job, sizeof r->job, "j");
    r->state = CT_RUN_WAITING;
    r->task = -1;
    return ct_run_create(c, r, err, errlen);
}

TEST(jobs_run_fencing)
{
    char err[512], path[4200];
    snprintf(path, sizeof path, "%s/fence.db", t_tmpdir());
    ct_catalog *c = ct_open(path, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_run r;
    CHECK(new_run(c, &r, err, sizeof err) == 0);
    CHECK_EQ_INT(ct_run_start(c, r.id, 5, 1, "w1", err, sizeof err), 0); /* not queued yet */
    CHECK_EQ_INT(ct_run_queue(c, r.id, 5, err, sizeof err), 1);
    CHECK_EQ_INT(ct_run_start(c, r.id, 4, 1, "w1", err, sizeof err), 0); /* another task */
    CHECK_EQ_INT(ct_run_start(c, r.id, 5, 1, "w1", err, sizeof err), 1);
    CHECK_EQ_INT(ct_run_start(c, r.id, 5, 1, "w2", err, sizeof err), 0); /* same delivery */
    CHECK_EQ_INT(ct_run_start(c, r.id, 5, 2, "w2", err, sizeof err), 1); /* a takeover */
    ct_run_done d = {.id = r.id, .task = 5, .deliveries = 1, .state = CT_RUN_SUCCEEDED};
    CHECK_EQ_INT(ct_run_finish(c, &d, err, sizeof err), 0); /* w1 was fenced out */
    d.deliveries = 2;
    d.rows = 7;
    CHECK_EQ_INT(ct_run_finish(c, &d, err, sizeof err), 1);
    CHECK_EQ_INT(ct_run_start(c, r.id, 5, 3, "w3", err, sizeof err), 0); /* finished */
    ct_run got;
    CHECK(ct_run_get(c, r.id, &got, err, sizeof err) == 1);
    CHECK(got.state == CT_RUN_SUCCEEDED && got.rows == 7 && !strcmp(got.worker, "w2"));
    ct_close(c);
}

/* A started run of job "j" for part (task = its id). */
static int64_t part_run(ct_catalog *c, const char *part)
{
    char err[512];
    ct_run r = {.state = CT_RUN_WAITING, .task = -1};
    snprintf(r.job, sizeof r.job, "j");
    snprintf(r.part, sizeof r.part, "%s", part);
    if (ct_run_create(c, &r, err, sizeof err)) return -1;
    if (ct_run_queue(c, r.id, r.id, err, sizeof err) != 1 ||
        ct_run_start(c, r.id, r.id, 1, "w", err, sizeof err) != 1)
        return -1;
    return r.id;
}

/* Finish run id with cursor `to`, read from `from`: ct_run_finish's result. */
static int finish_cursor(ct_catalog *c, int64_t id, const char *from, const char *to)
{
    char err[512];
    ct_run_done d = {.id = id, .task = id, .deliveries = 1, .state = CT_RUN_SUCCEEDED,
                     .cursor = to, .cursor_from = from};
    return ct_run_finish(c, &d, err, sizeof err);
}

static const char *cursor_of(ct_catalog *c, const char *part)
{
    static ct_part_state st;
    char err[512];
    ct_part_state_free(&st);
    int rc = ct_part_state_get(c, "j", part, &st, err, sizeof err);
    return rc == 1 && st.has_cursor ? st.cursor : "(none)";
}

/* Two runs of one snapshot table read from the same cursor (two windows at
 * once: a catch-up, a backfill): the second to commit must not, or its rows
 * are in the lake twice and the cursor can go back. */
TEST(jobs_part_cursor_compare_and_set)
{
    char err[512], path[4200];
    snprintf(path, sizeof path, "%s/cursor_cas.db", t_tmpdir());
    ct_catalog *c = ct_open(path, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    /* the first runs: both read every row (no cursor kept yet) */
    int64_t a = part_run(c, "public.t"), b = part_run(c, "public.t");
    CHECK(a > 0 && b > 0);
    CHECK_EQ_INT(finish_cursor(c, a, "", "10"), 1);
    CHECK_EQ_INT(finish_cursor(c, b, "", "12"), -1);
    CHECK_MSG(!strcmp(cursor_of(c, "public.t"), "10"), "cursor %s", cursor_of(c, "public.t"));
    ct_run got;
    CHECK(ct_run_get(c, b, &got, err, sizeof err) == 1 && got.state == CT_RUN_RUNNING);
    /* then from 10: the later commit of an older read would move it back */
    int64_t x = part_run(c, "public.t"), y = part_run(c, "public.t");
    CHECK_EQ_INT(finish_cursor(c, x, "10", "20"), 1);
    CHECK_EQ_INT(finish_cursor(c, y, "10", "15"), -1);
    CHECK_MSG(!strcmp(cursor_of(c, "public.t"), "20"), "cursor %s", cursor_of(c, "public.t"));
    /* the retry of y reads from 20 */
    CHECK_EQ_INT(finish_cursor(c, y, "20", "25"), 1);
    CHECK(!strcmp(cursor_of(c, "public.t"), "25"));
    /* no cursor_from: no check (as before) */
    int64_t z = part_run(c, "public.t");
    CHECK_EQ_INT(finish_cursor(c, z, NULL, "5"), 1);
    CHECK(!strcmp(cursor_of(c, "public.t"), "5"));
    (void)cursor_of(c, "nothing"); /* frees the last state */
    ct_close(c);
}

static uint64_t fake_pos, fake_end;
static int fake_progress(void *ctx, const char *table, uint64_t *pos, uint64_t *end)
{
    (void)ctx;
    if (strcmp(table, "t1_ev")) return 0;
    *pos = fake_pos;
    *end = fake_end;
    return 1;
}

/* A run depending on a stream table waits until the sink has committed
 * what the stream held when the run was first looked at. */
TEST(jobs_stream_table_gates_runs)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/gate", t_tmpdir());
    cf_config *c = load(dir,
                        "streams:\n  ev: {}\n"
                        "jobs:\n  h:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    depends_on: [t1_ev]\n    command: ['true']\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK_MSG(jb_check(c, err, sizeof err) == 0, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T01:30:00Z");
    fake_pos = 100, fake_end = 250;
    jb_opts o = {.cf = c, .data_dir = dir, .now_us = fake_clock, .table_progress = fake_progress};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0);
    CHECK_EQ_INT(count_runs(dir, "h", 1u << CT_RUN_WAITING), 1);
    fake_end = 400; /* more arrives later: the gate stays at 250 */
    fake_pos = 249;
    CHECK(jb_tick(r, &e) >= 0);
    CHECK_EQ_INT(count_runs(dir, "h", 1u << CT_RUN_WAITING), 1);
    fake_pos = 250;
    CHECK(jb_tick(r, &e) >= 0);
    CHECK_EQ_INT(count_runs(dir, "h", 1u << CT_RUN_QUEUED), 1);
    jb_destroy(r);
    cf_destroy(c);
}

static void collect(void *arg, const char *t)
{
    char *out = arg;
    strcat(out, t);
    strcat(out, ";");
}

/* The tables a SELECT reads become dependencies: literals and comments do
 * not count, lake.x is x, case is ignored, the job's own table is not one. */
TEST(jobs_sql_lineage_reads_and_cycles)
{
    char err[1024];
    cf_config *c = load(t_tmpdir(),
                        "streams:\n  ev: {}\n"
                        "jobs:\n"
                        "  a:\n    kind: sql\n    window: hour\n    table: t2_a\n"
                        "    sql: \"SELECT * FROM lake.T1_EV JOIN t2_a USING (x) WHERE y = 't2_b' -- t2_b\"\n"
                        "  b:\n    kind: sql\n    window: hour\n    table: t2_b\n"
                        "    sql: \"SELECT * FROM \\\"t2_a\\\" /* t1_ev */\"\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    char got[256] = "";
    CHECK_EQ_INT(jb__sql_reads(c, &c->jobs[0], c->jobs[0].sql, collect, got), 1);
    CHECK_EQ_STR(got, "t1_ev;");
    got[0] = 0;
    CHECK_EQ_INT(jb__sql_reads(c, &c->jobs[1], c->jobs[1].sql, collect, got), 1);
    CHECK_EQ_STR(got, "t2_a;");
    char **deps = NULL;
    int n = jb__deps(c, &c->jobs[1], NULL, &deps, err, sizeof err);
    CHECK(n == 1 && !strcmp(deps[0], "t2_a"));
    jb__deps_free(deps, n);
    CHECK_MSG(jb_check(c, err, sizeof err) == 0, "%s", err);
    cf_destroy(c);
    /* b reads a's table; a depends on b: a cycle through the SQL */
    CHECK(strstr(check_msg("jobs:\n"
                           "  a:\n    kind: sql\n    window: hour\n    table: t2_a\n"
                           "    depends_on: [b]\n    sql: SELECT 1\n"
                           "  b:\n    kind: sql\n    window: hour\n    table: t2_b\n"
                           "    sql: SELECT * FROM t2_a\n", err, sizeof err), "dependency cycle"));
}

/* A run of a job whose SQL reads another job's table waits for that job's
 * window without depends_on. */
TEST(jobs_sql_lineage_gates_runs)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/lineage", t_tmpdir());
    cf_config *c = load(dir,
                        "jobs:\n"
                        "  up:\n    kind: command\n    window: hour\n    command: ['true']\n"
                        "    output: ndjson\n    table: t2_up\n"
                        "  down:\n    kind: sql\n    window: hour\n    start: 2026-01-01\n"
                        "    table: t2_down\n    sql: SELECT count(*) AS n FROM t2_up\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T01:30:00Z");
    jb_runtime *r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0);
    CHECK_EQ_INT(count_runs(dir, "down", 1u << CT_RUN_WAITING), 1); /* up has no run for 00:00 */
    jb_destroy(r);
    cf_destroy(c);
}
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int gone_yes(const void *conn)
{
    (void)conn;
    return 1;
}

/* POST /v1/jobs/_tasks/... as `sluice worker` calls it: the status, the
 * reply in out. */
static int tasks_post(jb_runtime *r, const char *what, const char *body, int writer,
                      int (*gone)(const void *), ut_buf *out)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/jobs/_tasks/%s", what);
    jb_http_args a = {NULL, gone, NULL};
    ut_buf_reset(out);
    return jb_http(r, "POST", path, body, strlen(body), writer, &a, out);
}

TEST(jobs_task_endpoints)
{
    char err[512], dir[4200], body[256];
    snprintf(dir, sizeof dir, "%s/tasks", t_tmpdir());
    cf_config *c = load(dir,
                        "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                        "jobs:\n  h:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    command: ['true']\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T01:00:00Z");
    jb_runtime *r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_buf out = {0};
    const char *take = "{\"consumer\":\"host-1-w0\",\"block_ms\":0,\"stale_ms\":0}";
    CHECK_EQ_INT(tasks_post(r, "take", take, 0, NULL, &out), 403); /* needs a write token */
    CHECK_EQ_INT(tasks_post(r, "take", "{\"consumer\":\"a b\"}", 1, NULL, &out), 400);
    CHECK_EQ_INT(tasks_post(r, "take", "{\"block_ms\":0}", 1, NULL, &out), 400);
    CHECK_EQ_INT(tasks_post(r, "nope", take, 1, NULL, &out), 404);
    CHECK_EQ_INT(tasks_post(r, "take", take, 1, NULL, &out), 204); /* nothing queued */
    /* a client that went away is handed nothing and not waited for */
    int64_t t0 = mono_ms();
    CHECK_EQ_INT(tasks_post(r, "take", "{\"consumer\":\"x\",\"block_ms\":3000}", 1, gone_yes,
                            &out), 204);
    CHECK_MSG(mono_ms() - t0 < 1000, "waited %lld ms", (long long)(mono_ms() - t0));
    ut_error e = {0};
    CHECK_EQ_INT(jb_tick(r, &e), 1); /* the hour 00-01 */
    CHECK_EQ_INT(tasks_post(r, "take", take, 1, NULL, &out), 200);
    unsigned long long off;
    int deliveries;
    long long run;
    CHECK_MSG(sscanf(ut_buf_cstr(&out), "{\"offset\":%llu,\"deliveries\":%d,\"run\":%lld}", &off,
                     &deliveries, &run) == 3, "%s", ut_buf_cstr(&out));
    CHECK_EQ_INT(deliveries, 1);
    CHECK_EQ_INT(tasks_post(r, "take", take, 1, NULL, &out), 204); /* it is pending */
    snprintf(body, sizeof body, "{\"consumer\":\"host-1-w0\",\"offset\":%llu,\"deliveries\":1,"
             "\"run\":%lld}", off, run);
    CHECK_EQ_INT(tasks_post(r, "heartbeat", body, 1, NULL, &out), 200);
    snprintf(body, sizeof body, "{\"consumer\":\"host-2-w0\",\"offset\":%llu,\"deliveries\":1,"
             "\"run\":%lld}", off, run);
    CHECK_EQ_INT(tasks_post(r, "heartbeat", body, 1, NULL, &out), 409); /* not its task */
    /* idle past task_timeout: another consumer takes it over, the first one has lost it */
    usleep(2100 * 1000);
    CHECK_EQ_INT(tasks_post(r, "take", "{\"consumer\":\"host-2-w0\",\"block_ms\":0,"
                                       "\"stale_ms\":0}", 1, NULL, &out), 200);
    CHECK_MSG(strstr(ut_buf_cstr(&out), "\"deliveries\":2"), "%s", ut_buf_cstr(&out));
    snprintf(body, sizeof body, "{\"consumer\":\"host-1-w0\",\"offset\":%llu,\"deliveries\":1,"
             "\"run\":%lld}", off, run);
    CHECK_EQ_INT(tasks_post(r, "heartbeat", body, 1, NULL, &out), 409);
    /* an ack by the consumer that lost it leaves it to the new holder */
    CHECK_EQ_INT(tasks_post(r, "ack", body, 1, NULL, &out), 200);
    CHECK_EQ_INT(jb_wait_idle(r, 300), 0);
    snprintf(body, sizeof body, "{\"consumer\":\"host-2-w0\",\"offset\":%llu,"
             "\"deliveries\":2,\"run\":%lld}", off, run);
    CHECK_EQ_INT(tasks_post(r, "ack", body, 1, NULL, &out), 200);
    CHECK_EQ_INT(jb_wait_idle(r, 1000), 1); /* nothing pending or waiting */
    /* a worker process's sub-tasks: pushed through the server, taken with their tag */
    CHECK_EQ_INT(tasks_post(r, "push", "{\"run\":5,\"tags\":\"r0.t1.d1 bad!\"}", 1, NULL, &out),
                 400);
    CHECK_EQ_INT(tasks_post(r, "push", "{\"tags\":\"r0.t1.d1\"}", 1, NULL, &out), 400);
    CHECK_EQ_INT(tasks_post(r, "push", "{\"run\":5,\"tags\":\"r0.t1.d1 r1.t1.d1\"}", 1, NULL,
                            &out), 200);
    CHECK_MSG(strstr(ut_buf_cstr(&out), "{\"first\":"), "%s", ut_buf_cstr(&out));
    CHECK_EQ_INT(tasks_post(r, "take", take, 1, NULL, &out), 200);
    CHECK_MSG(strstr(ut_buf_cstr(&out), "\"run\":5,\"tag\":\"r0.t1.d1\"}"), "%s",
              ut_buf_cstr(&out));
    ut_buf_reset(&out);
    jb_http_args a = {NULL, NULL, NULL};
    CHECK_EQ_INT(jb_http(r, "GET", "/v1/jobs/_tasks/take", "", 0, 1, &a, &out), 405);
    ut_buf_free(&out);
    jb_destroy(r);
    cf_destroy(c);
}

TEST(jobs_http_queue_client)
{
    char err[512];
    atomic_int cancel = 0;
    CHECK(jb__queue_open_http("ftp://x", NULL, &cancel, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "ftp://x"), "%s", err);
    CHECK(jb__queue_open_http("http://127.0.0.1:1", "a b", &cancel, err, sizeof err) == NULL);
    CHECK(strstr(err, "token"));
    /* nothing listens on port 1: a take fails naming the URL, a heartbeat cannot tell (-1:
     * try again), which is not "lost" (1) */
    jb_queue *q = jb__queue_open_http("http://127.0.0.1:1/", "tok", &cancel, err, sizeof err);
    CHECK_MSG(q, "%s", err);
    jb_task t = {.offset = 3, .deliveries = 1, .run_id = 9};
    CHECK_EQ_INT(jb__queue_take(q, "h-1-w0", 0, 1000, &t, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "http://127.0.0.1:1/v1/jobs/_tasks/take"), "%s", err);
    CHECK_EQ_INT(jb__queue_heartbeat(q, "h-1-w0", &t, err, sizeof err), -1);
    CHECK_EQ_INT(jb__queue_push(q, 9, &t.offset, err, sizeof err), -1);
    cancel = 1; /* an ack gives up retrying once the runtime stops */
    CHECK_EQ_INT(jb__queue_ack(q, "h-1-w0", &t, err, sizeof err), -1);
    jb__queue_close(q);
}

/* fn of jb__queue_dead: v[0] counts, v[1 + i] the runs. */
static void dead_seen(void *arg, uint64_t task, int64_t run)
{
    int64_t *v = arg;
    (void)task;
    if (v[0] < 6) v[1 + v[0]++] = run;
}

/* The consumers of the queue's group under dir (the queue closed). */
static int consumers_of(const char *dir, char *names, size_t n)
{
    char path[4300], err[512];
    snprintf(path, sizeof path, "%s/jobs", dir);
    jr_opts o;
    jr_opts_init(&o);
    jr_stream *s = jr_stream_open(path, "tasks", &o, err, sizeof err);
    jr_group *g = s ? jr_group_open(s, "workers", NULL, err, sizeof err) : NULL;
    jr_group_info gi;
    int k = -1;
    names[0] = 0;
    if (g && jr_group_info_get(g, &gi, err, sizeof err) == 0) {
        for (k = 0; k < gi.nconsumers; k++)
            snprintf(names + strlen(names), n - strlen(names), "%s%s:%llu", k ? " " : "",
                     gi.consumers[k].name, (unsigned long long)gi.consumers[k].pending);
        jr_group_info_free(&gi);
    }
    jr_group_close(g);
    jr_stream_close(s);
    return k;
}

TEST(jobs_queue_prunes_gone_consumers)
{
    char err[512], dir[4200], names[512];
    snprintf(dir, sizeof dir, "%s/prune", t_tmpdir());
    jb_queue *q = jb__queue_open(dir, 5, err, sizeof err);
    CHECK_MSG(q, "%s", err);
    uint64_t off;
    jb_task t;
    CHECK(jb__queue_push(q, 7, &off, err, sizeof err) == 0);
    CHECK_EQ_INT(jb__queue_take(q, "busy", 0, 60000, &t, err, sizeof err), 1);
    CHECK_EQ_INT(jb__queue_take(q, "idle", 0, 60000, &t, err, sizeof err), 0);
    usleep(300 * 1000);
    /* idle 300 ms > 10 x 20 ms with nothing pending: deleted; busy holds a task: kept (its
     * task is then taken over, as it is idle past 20 ms) */
    CHECK_EQ_INT(jb__queue_take(q, "next", 0, 20, &t, err, sizeof err), 1);
    CHECK_EQ_INT(t.deliveries, 2);
    jb__queue_close(q);
    CHECK_EQ_INT(consumers_of(dir, names, sizeof names), 2);
    CHECK_EQ_STR(names, "busy:0 next:1");
}

/* Sub-tasks: tagged records pushed with one write, taken with their tag (also
 * through the server's endpoints, push included), never dead-lettered onto
 * their run; a bad tag is refused. */
TEST(jobs_queue_tagged_sub_tasks)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/tagged", t_tmpdir());
    jb_queue *q = jb__queue_open(dir, 1, err, sizeof err);
    CHECK_MSG(q, "%s", err);
    const char *tags[] = {"r0.t5.d1", "r1.t5.d1"}, *bad[] = {"r 0"};
    uint64_t first;
    CHECK_EQ_INT(jb__queue_push_tagged(q, 7, bad, 1, &first, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "tag"), "%s", err);
    CHECK(jb__queue_push_tagged(q, 7, tags, 2, &first, err, sizeof err) == 0);
    uint64_t plain;
    CHECK(jb__queue_push(q, 8, &plain, err, sizeof err) == 0);
    CHECK_EQ_INT((int)(plain - first), 2);
    jb_task t;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(jb__queue_take(q, "w", 0, 60000, &t, err, sizeof err), 1);
        CHECK_EQ_INT((int)t.run_id, 7);
        CHECK_EQ_STR(t.tag, tags[i]);
    }
    CHECK_EQ_INT(jb__queue_take(q, "w", 0, 60000, &t, err, sizeof err), 1);
    CHECK_EQ_INT((int)t.run_id, 8);
    CHECK_EQ_STR(t.tag, "");
    /* taken over past max_deliveries: dead-lettered, but only the run's own task reaches fn */
    usleep(50 * 1000);
    for (int i = 0; i < 10; i++) {
        (void)jb__queue_take(q, "x", 0, 10, &t, err, sizeof err);
        usleep(20 * 1000);
    }
    int64_t seen[8] = {0};
    uint64_t cursor = 0;
    CHECK(jb__queue_dead(q, &cursor, dead_seen, seen, err, sizeof err) >= 0);
    CHECK_EQ_INT((int)seen[0], 1);
    CHECK_EQ_INT((int)seen[1], 8);
    jb__queue_close(q);
}

/* ---- review 9 (jobs, 6f2e365): each failed on the reviewed code ---------------- */

/* A serial backfill is ONE run whose window_start is the first window; the
 * scheduler and the dependency gate look runs up by (job, window_start),
 * so the other windows it covered count as never run: a downstream run of
 * one of them waits forever. */
TEST(review9_serial_backfill_windows_satisfy_dependencies)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/serialdeps", t_tmpdir());
    cf_config *c = load(dir,
                           "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                           "jobs:\n"
                           "  up:\n    kind: command\n    window: day\n    command: ['true']\n"
                           "  down:\n    kind: command\n    window: day\n    depends_on: [up]\n"
                           "    command: ['true']\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2024-02-01T00:00:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 2, .now_us = fake_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    int nw = 0;
    CHECK_MSG(jb_backfill(c, dir, "up", at("2024-01-01T00:00:00Z"), at("2024-01-04T00:00:00Z"),
                          0, "up_serial", 0, &nw, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(nw, 3);
    for (int i = 0; i < 10 && count_runs(dir, "up", 1u << CT_RUN_SUCCEEDED) < 1; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 3000);
    }
    CHECK_EQ_INT(count_runs(dir, "up", 1u << CT_RUN_SUCCEEDED), 1);
    int64_t id = 0;
    CHECK(jb_trigger(c, dir, "down", at("2024-01-02T12:00:00Z"), 0, &id, &e) == 0);
    for (int i = 0; i < 10; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 1000);
    }
    int ok = count_runs(dir, "down", 1u << CT_RUN_SUCCEEDED);
    int waiting = count_runs(dir, "down", 1u << CT_RUN_WAITING);
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
    cf_config *c = load(dir,
                           "jobs:\n  e:\n    kind: command\n    every: 1m\n    catchup: false\n"
                           "    command: ['true']\n    max_active: 1000\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T00:00:30Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 0, .now_us = fake_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0); /* first seen: from now on */
    fake_now = at("2026-01-31T00:00:30Z"); /* 30 days down: 43200 missed fires */
    for (int i = 0; i < 6; i++) CHECK(jb_tick(r, &e) >= 0);
    int n = count_runs(dir, "e", 0);
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
    cf_config *c = load(dir,
                           "jobs:\n  h:\n    kind: command\n    window: hour\n"
                           "    command: ['true']\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T00:30:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 0, .now_us = fake_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0); /* first seen */
    int nw = 0;
    CHECK_MSG(jb_backfill(c, dir, "h", at("2024-01-01T00:00:00Z"), at("2025-03-01T00:00:00Z"),
                          2, "big", 0, &nw, &e) == 0, "%s", e.msg);
    CHECK(nw > 10000);
    fake_now = at("2026-01-01T01:30:00Z"); /* the 00:00-01:00 window's fire */
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
    cf_config *c = load(dir,
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
    fake_now = at("2024-02-01T00:00:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 1, .now_us = fake_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    int64_t id = 0;
    CHECK(jb_trigger(c, dir, "down", at("2024-01-02T00:00:00Z"), 0, &id, &e) == 0);
    for (int i = 0; i < 5; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 1000);
    }
    int waiting = count_runs(dir, "down", 1u << CT_RUN_WAITING);
    int ok = count_runs(dir, "down", 1u << CT_RUN_SUCCEEDED);
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
    cf_config *c = load(dir,
                           "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                           "jobs:\n  h:\n    kind: command\n    window: hour\n"
                           "    command: ['true']\n",
                           err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T10:30:00Z");
    jb_opts o = {.cf = c, .data_dir = dir, .workers = 1, .now_us = fake_clock};
    jb_runtime *r = jb_create(&o, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0); /* first seen */
    int64_t id = 0;
    int trig = jb_trigger(c, dir, "h", fake_now, 0, &id, &e); /* the hour still open */
    for (int i = 0; i < 5; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 2000);
    }
    fake_now = at("2026-01-01T11:00:30Z"); /* the 10:00-11:00 hour closes */
    for (int i = 0; i < 5; i++) {
        jb_tick(r, &e);
        jb_wait_idle(r, 2000);
    }
    char path[4300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    ct_run last;
    int have = ct_run_latest(cat, "h", NULL, at("2026-01-01T10:00:00Z"), &last, err, sizeof err);
    ct_close(cat);
    jb_destroy(r);
    cf_destroy(c);
    /* either the open window is refused, or the closed window runs again */
    CHECK_MSG(trig != 0 || (have == 1 && last.id != id),
              "window 10:00-11:00 ran only at 10:30 (run %lld, trigger '%s'): its last 30 "
              "minutes are never processed", (long long)id, have ? last.trigger : "?");
}

/* A config with one noop job `d` on day windows, its data dir
 * <tmp>/<name> into dir[600]; NULL with err[512]. */
static cf_config *noop_day_job(const char *name, char dir[600], char err[512])
{
    snprintf(dir, 600, "%s/%s", t_tmpdir(), name);
    return load(dir, "jobs:\n  d: {kind: noop, window: day}\n", err, 512);
}

/* Two triggers of one window at once create one run: the look at the
 * window's runs and the insert are one transaction (before, both could
 * look, see nothing and insert). */
typedef struct trig_arg {
    cf_config *c;
    const char *dir;
    int made;
} trig_arg;

static void *trigger_all(void *p)
{
    trig_arg *a = p;
    for (int d = 0; d < 20; d++) {
        char day[32];
        snprintf(day, sizeof day, "2024-02-%02dT00:00:00Z", d + 1);
        ut_error e = {0};
        int64_t id;
        if (jb_trigger(a->c, a->dir, "d", at(day), 0, &id, &e) == 0) a->made++;
    }
    return NULL;
}

TEST(jobs_concurrent_triggers_create_one_run_per_window)
{
    char err[512], dir[600];
    cf_config *c = noop_day_job("trig", dir, err);
    CHECK_MSG(c, "%s", err);
    if (!c) return;
    pthread_t th[6];
    trig_arg a[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (trig_arg){.c = c, .dir = dir};
        pthread_create(&th[i], NULL, trigger_all, &a[i]);
    }
    int made = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        made += a[i].made;
    }
    CHECK_EQ_INT(made, 20);
    CHECK_EQ_INT(count_runs(dir, "d", 0), 20);
    cf_destroy(c);
}

/* A backfill is one transaction: its name and all its runs, or nothing; a
 * second one of that name changes nothing; a window with an open run is
 * not queued twice. */
TEST(jobs_backfill_is_all_or_nothing)
{
    char err[512], dir[600];
    cf_config *c = noop_day_job("bf", dir, err);
    CHECK_MSG(c, "%s", err);
    if (!c) return;
    ut_error e = {0};
    int64_t id;
    CHECK_MSG(jb_trigger(c, dir, "d", at("2024-03-02T00:00:00Z"), 0, &id, &e) == 0, "%s", e.msg);
    int nw = 0;
    CHECK_MSG(jb_backfill(c, dir, "d", at("2024-03-01T00:00:00Z"), at("2024-03-05T00:00:00Z"), 2,
                          "b1", 0, &nw, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(nw, 4);
    CHECK_EQ_INT(count_runs(dir, "d", 0), 4); /* 03-02 has its manual run waiting */
    e = (ut_error){0};
    CHECK(jb_backfill(c, dir, "d", at("2024-03-05T00:00:00Z"), at("2024-03-09T00:00:00Z"), 2,
                      "b1", 0, &nw, &e) == -1);
    CHECK_EQ_INT(e.kind, UT_EEXISTS);
    CHECK_EQ_INT(count_runs(dir, "d", 0), 4);
    cf_destroy(c);
}

/* A runtime that starts (a server, a `sluice worker`) removes the staging
 * files of workers killed -9 (no one holds their lock, their pid is gone)
 * and keeps those a living worker holds. */
TEST(jobs_start_collects_staging_files_of_killed_workers)
{
    char err[512], dir[4200], tmp[4300], orphan[4400], held[4400], parquet[4400];
    snprintf(dir, sizeof dir, "%s/tmpgc", t_tmpdir());
    snprintf(tmp, sizeof tmp, "%s/jobs/tmp", dir);
    CHECK(ut_mkdir_p(tmp, err, sizeof err) == 0);
    snprintf(parquet, sizeof parquet, "%s/lake-tmp", dir);
    CHECK(ut_mkdir_p(parquet, err, sizeof err) == 0);
    pid_t child = fork();
    if (child == 0) _exit(0);
    int status;
    waitpid(child, &status, 0);
    snprintf(orphan, sizeof orphan, "%s/sl-%ld-0-run3.ndjson", tmp, (long)child);
    snprintf(parquet + strlen(parquet), sizeof parquet - strlen(parquet),
             "/sl-%ld-1-t2_x.parquet", (long)child);
    FILE *f = fopen(orphan, "w");
    if (f) fputs("{\"a\":1}\n", f), fclose(f);
    f = fopen(parquet, "w");
    if (f) fclose(f);
    int fd = ut_tmp_create(tmp, "sl-", "run4", ".ndjson", held, sizeof held, err, sizeof err);
    CHECK_MSG(fd >= 0, "%s", err);
    cf_config *c = load(dir, "jobs:\n  a:\n    kind: command\n    command: [true]\n", err,
                        sizeof err);
    CHECK_MSG(c, "%s", err);
    jb_runtime *r = start(c, dir, 1, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK(access(orphan, F_OK) != 0);
    CHECK(access(parquet, F_OK) != 0);
    CHECK(access(held, F_OK) == 0);
    jb_destroy(r);
    cf_destroy(c);
    unlink(held);
    close(fd);
}

/* accounts: one run per (account, window), each with its account in the
 * environment and the templates, failing on its own; a job depending on it
 * runs once every account's run ended and one succeeded; a trigger and a
 * backfill cover every account. */
TEST(jobs_accounts_one_run_per_account_and_window)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/accounts", t_tmpdir());
    cf_config *c = load(dir,
                        "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                        "jobs:\n"
                        "  pull:\n    kind: command\n    window: hour\n    start: 2026-01-01\n"
                        "    max_active: 10\n    retry_delay: 0s\n"
                        "    accounts: {list: [acc1, acc2, bad]}\n"
                        "    env: {WHO: 'x{{account}}'}\n"
                        "    command: [sh, -c, 'test \"$SLUICE_ACCOUNT\" != bad && "
                        "test \"$WHO\" = \"x$SLUICE_ACCOUNT\"']\n"
                        "  after:\n    kind: noop\n    window: hour\n    start: 2026-01-01\n"
                        "    depends_on: [pull]\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T02:00:00Z");
    jb_runtime *r = start(c, dir, 3, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    drive(r, dir, 30);
    int ok = count_runs(dir, "pull", 1u << CT_RUN_SUCCEEDED),
        failed = count_runs(dir, "pull", 1u << CT_RUN_FAILED),
        after = count_runs(dir, "after", 1u << CT_RUN_SUCCEEDED);
    char path[4300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    ct_run last;
    int have_bad = ct_run_latest(cat, "pull", "bad", at("2026-01-01T00:00:00Z"), &last, err,
                                 sizeof err);
    int bad_state = have_bad == 1 ? (int)last.state : -1;
    ct_close(cat);
    ut_error e = {0};
    int64_t id = 0;
    int trig = jb_trigger(c, dir, "pull", at("2025-12-31T05:00:00Z"), 0, &id, &e);
    int nw = 0;
    int bf = jb_backfill(c, dir, "pull", at("2025-12-30T00:00:00Z"), at("2025-12-30T02:00:00Z"),
                         2, "acc_bf", 0, &nw, &e);
    int total = count_runs(dir, "pull", 0);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(ok, 4);     /* 2 windows x acc1, acc2 */
    CHECK_EQ_INT(failed, 2); /* 2 windows x bad */
    CHECK_EQ_INT(bad_state, CT_RUN_FAILED);
    CHECK_EQ_INT(after, 2);  /* the failing account does not hold back the others */
    CHECK_MSG(trig == 0 && id > 0, "%s", e.msg);
    CHECK_MSG(bf == 0 && nw == 2, "%s", e.msg);
    CHECK_EQ_INT(total, 6 + 3 + 6); /* scheduled, triggered (3 accounts), backfill 2 x 3 */
}

TEST(jobs_accounts_bad_ids_are_config_errors)
{
    char err[512];
    const char *m = check_msg("jobs:\n  j:\n    kind: noop\n    accounts: {list: [a, 'b c']}\n",
                              err, sizeof err);
    CHECK_MSG(strstr(m, "account 'b c'") && strstr(m, "test.yaml:5"), "%s", m);
    m = check_msg("jobs:\n  j:\n    kind: noop\n    accounts: {list: [a, b, a]}\n", err,
                  sizeof err);
    CHECK_MSG(strstr(m, "accounts.list: duplicate item"), "%s", m);
    m = check_msg("jobs:\n  j:\n    kind: noop\n    accounts: {list: ['']}\n", err, sizeof err);
    CHECK_MSG(strstr(m, "account ''"), "%s", m);
}

/* The fields of an account (accounts.sql's other columns) for templates:
 * any position, numbers as written, null as nothing, a missing one named. */
TEST(jobs_account_fields)
{
    char err[256];
    const char *args = "{\"token_ref\":\"tok_a1\",\"n\":42,\"region\":null,\"x\":\"a\\\"b\"}";
    ut_buf b = {0};
    CHECK(jb__account_field(args, "token_ref", &b, err, sizeof err) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "tok_a1");
    ut_buf_reset(&b);
    CHECK(jb__account_field(args, "n", &b, err, sizeof err) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "42");
    ut_buf_reset(&b);
    CHECK(jb__account_field(args, "region", &b, err, sizeof err) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    ut_buf_reset(&b);
    CHECK(jb__account_field(args, "x", &b, err, sizeof err) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "a\"b");
    ut_buf_reset(&b);
    CHECK(jb__account_field(args, "nope", &b, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "no field 'nope'"), "%s", err);
    CHECK(jb__account_field("{broken", "x", &b, err, sizeof err) == -1);
    ut_buf_free(&b);
}

/* A serial backfill is one run over all its windows: a run out for its
 * first window does not make it skip the whole range (it did: the check a
 * parallel backfill makes per window looked at the serial run's start only
 * and left the backfill registered with no run -- "one serial run queued"
 * and nothing to run, the name used up). */
TEST(jobs_serial_backfill_over_an_open_first_window)
{
    char err[512], dir[600];
    cf_config *c = noop_day_job("bfserial", dir, err);
    CHECK_MSG(c, "%s", err);
    if (!c) return;
    ut_error e = {0};
    int64_t id;
    CHECK_MSG(jb_trigger(c, dir, "d", at("2024-03-01T00:00:00Z"), 0, &id, &e) == 0, "%s", e.msg);
    int nw = 0;
    CHECK_MSG(jb_backfill(c, dir, "d", at("2024-03-01T00:00:00Z"), at("2024-03-05T00:00:00Z"), 0,
                          "s1", 0, &nw, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(nw, 4);
    char path[700];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    CHECK_MSG(cat, "%s", err);
    ct_run *v = NULL;
    ct_run_filter f = {.job = "d", .backfill = "s1", .limit = 10};
    int n = ct_runs(cat, &f, &v, err, sizeof err);
    int iters = n == 1 ? v[0].iterations : 0;
    free(v);
    ct_close(cat);
    cf_destroy(c);
    CHECK_MSG(n == 1 && iters == 4, "serial backfill s1 over 03-01..03-05: %d runs (%d "
                                    "iterations)", n, iters);
}

/* An upstream job whose window was made finer in the config (day -> hour)
 * still gates on the runs it made before: its day's run covers each hour
 * of that day, so a downstream run over the day is ready.  (The two-seek
 * lookup found only runs starting at the hour, so every downstream run
 * over a day before the change waited forever: no hourly run of those
 * hours is ever scheduled.) */
TEST(jobs_upstream_window_made_finer_still_gates_on_its_old_runs)
{
    char err[512], dir[600];
    snprintf(dir, sizeof dir, "%s/finer", t_tmpdir());
    const char *before = "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                         "jobs:\n  up: {kind: noop, window: day, start: 2024-01-01}\n";
    cf_config *c = load(dir, before, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2024-01-04T00:30:00Z");
    jb_runtime *r = start(c, dir, 2, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    drive(r, dir, 10);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(count_runs(dir, "up", 1u << CT_RUN_SUCCEEDED), 3); /* Jan 1, 2, 3 */
    c = load(dir, "jobs:\n  up: {kind: noop, window: hour, start: 2024-01-01}\n"
                  "  down: {kind: noop, window: day, depends_on: [up]}\n", err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ut_error e = {0};
    int64_t id = 0;
    CHECK_MSG(jb_trigger(c, dir, "down", at("2024-01-02T00:00:00Z"), 0, &id, &e) == 0, "%s",
              e.msg);
    r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_MSG(jb_tick(r, &e) >= 0, "%s", e.msg);
    int queued = count_runs(dir, "down", 1u << CT_RUN_QUEUED);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_MSG(queued == 1, "down for 2024-01-02 (up's day run of 01-02 succeeded) is not queued");
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* GET /v1/jobs scans the run history once, not once per job: it holds the
 * scheduler's lock (cmu) meanwhile, so with 20 jobs and 10^5 runs every
 * request stopped the scheduler for seconds.  Measured against /metrics,
 * which makes one such scan. */
TEST(jobs_list_scans_the_run_history_once)
{
    char err[512], dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/listscan", t_tmpdir());
    ut_buf y = {0};
    ut_buf_puts(&y, "jobs:\n");
    for (int i = 0; i < 20; i++) ut_buf_printf(&y, "  j%d: {kind: noop, window: hour}\n", i);
    cf_config *c = load(dir, ut_buf_cstr(&y), err, sizeof err);
    ut_buf_free(&y);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T00:30:00Z");
    jb_runtime *r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    CHECK(sqlite3_prepare_v2(db, "INSERT INTO runs(job, window_start, window_end, state, trigger, "
                             "created_ms, due_ms) VALUES(?1, ?2, ?2 + 3600000000, 'succeeded', "
                             "'schedule', 0, 0)", -1, &s, NULL) == SQLITE_OK);
    for (int i = 0; i < 40000; i++) {
        char job[16];
        snprintf(job, sizeof job, "j%d", i % 20);
        sqlite3_bind_text(s, 1, job, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, at("2020-01-01T00:00:00Z") + (int64_t)(i / 20) * 3600000000LL);
        sqlite3_step(s);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    double list = 1e9, metrics = 1e9;
    int status = 0;
    ut_buf out = {0};
    jb_http_args ha = {0};
    for (int k = 0; k < 5; k++) { /* the best of 5 of each (a busy machine) */
        struct timespec t0;
        ut_buf_reset(&out);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        status = jb_http(r, "GET", "/v1/jobs", NULL, 0, 0, &ha, &out);
        double ms = elapsed_ms(&t0);
        list = ms < list ? ms : list;
        ut_buf b = {0};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        jb_metrics(r, &b);
        ms = elapsed_ms(&t0);
        metrics = ms < metrics ? ms : metrics;
        ut_buf_free(&b);
    }
    int counted = strstr(ut_buf_cstr(&out), "\"name\":\"j7\",") &&
                  strstr(strstr(ut_buf_cstr(&out), "\"name\":\"j7\","), "\"succeeded\":2000,");
    ut_buf_free(&out);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(status, 200);
    CHECK_MSG(counted, "GET /v1/jobs: j7 has not 2000 succeeded runs");
    /* one scan per job (the defect) is 20 x /metrics' one; 8 x leaves room
     * for a machine busy with other tests */
    CHECK_MSG(list < 8 * metrics + 40, "GET /v1/jobs of 20 jobs took %.1f ms, /metrics %.1f ms",
              list, metrics);
}

/* The task of a failed attempt whose finish (retrying) was recorded but
 * whose ack was not (kill -9 between the committer's commit and its acks,
 * or a power loss undoing the queue's lazily synced ack) is acked when it
 * is delivered again, like a finished run's.  It was refused for a second
 * (the worker waited for a queued mark), left unacked, and taken over every
 * task_timeout until it was dead-lettered -- counted as a dead letter while
 * its run was only waiting for its retry. */
TEST(jobs_task_of_a_recorded_failed_attempt_is_acked_again)
{
    char err[512], dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/retryack", t_tmpdir());
    cf_config *c = load(dir, "scheduler: {task_timeout: 1s, heartbeat: 200ms, max_deliveries: 10}\n"
                             "jobs:\n  d: {kind: noop, window: day, retries: 3}\n", err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    CHECK_MSG(cat, "%s", err);
    ct_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.job, sizeof run.job, "d");
    run.state = CT_RUN_WAITING;
    run.task = -1;
    CHECK(ct_run_create(cat, &run, err, sizeof err) == 0);
    jb_queue *q = jb__queue_open(dir, 10, err, sizeof err);
    CHECK_MSG(q, "%s", err);
    uint64_t off = 0;
    jb_task t = {0};
    CHECK(jb__queue_push(q, run.id, &off, err, sizeof err) == 0);
    CHECK_EQ_INT(ct_run_queue(cat, run.id, (int64_t)off, err, sizeof err), 1);
    CHECK(jb__queue_take(q, "gone-w0", 0, 1000, &t, err, sizeof err) == 1);
    CHECK_EQ_INT(ct_run_start(cat, run.id, (int64_t)off, t.deliveries, "gone-w0", err, sizeof err), 1);
    ct_run_done d = {.id = run.id, .task = (int64_t)off, .deliveries = t.deliveries,
                     .state = CT_RUN_RETRYING, .due_ms = mono_ms() + 3600 * 1000, /* far off */
                     .error = "boom"};
    CHECK_EQ_INT(ct_run_finish(cat, &d, err, sizeof err), 1); /* recorded; no ack */
    jb__queue_close(q);
    jb_runtime *r = start(c, dir, 1, err, sizeof err); /* no scheduler: the run stays retrying */
    CHECK_MSG(r, "%s", err);
    int pending = 1;
    for (int64_t t0 = mono_ms(); pending && mono_ms() - t0 < 3500;) { /* taken over after 1 s */
        ut_buf m = {0};
        jb_metrics(r, &m);
        static const char key[] = "\nsluice_jobs_queue_pending ";
        const char *p = strstr(ut_buf_cstr(&m), key);
        pending = p ? atoi(p + sizeof key - 1) : -1;
        ut_buf_free(&m);
        usleep(20 * 1000);
    }
    jb_destroy(r);
    ct_run got;
    CHECK(ct_run_get(cat, run.id, &got, err, sizeof err) == 1);
    ct_close(cat);
    cf_destroy(c);
    CHECK_EQ_INT(got.state, CT_RUN_RETRYING);
    CHECK_MSG(pending == 0, "the recorded failed attempt's task is still pending after 3.5 s");
}

/* Waiting runs of one job (a catch-up from a `start` two years back makes
 * 1000 per pass) do not hide another job's due run: the scheduler's look
 * is capped (10000 runs) and was the oldest windows first across all jobs,
 * so a job with more than the cap waiting starved every other job until it
 * had drained below it -- at its own max_active. */
TEST(jobs_catchup_backlog_does_not_starve_other_jobs)
{
    char err[512], dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/catchstarve", t_tmpdir());
    cf_config *c = load(dir, "jobs:\n  a: {kind: noop, window: hour}\n"
                             "  b: {kind: noop, window: hour}\n", err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-01T00:30:00Z");
    jb_runtime *r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK(jb_tick(r, &e) >= 0); /* both first seen */
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    CHECK(sqlite3_prepare_v2(db, "INSERT INTO runs(job, window_start, window_end, state, trigger, "
                             "created_ms, due_ms) VALUES('a', ?1, ?1 + 3600000000, 'waiting', "
                             "'schedule', 0, 0)", -1, &s, NULL) == SQLITE_OK);
    for (int i = 0; i < 12000; i++) { /* a's catch-up, not started yet */
        sqlite3_bind_int64(s, 1, at("2024-01-01T00:00:00Z") + (int64_t)i * 3600000000LL);
        sqlite3_step(s);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    fake_now = at("2026-01-01T01:00:30Z"); /* b's 00:00-01:00 window */
    CHECK_MSG(jb_tick(r, &e) >= 0, "%s", e.msg);
    int b = count_runs(dir, "b", 1u << CT_RUN_QUEUED), a = count_runs(dir, "a", 1u << CT_RUN_QUEUED);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(a, 4); /* max_active */
    CHECK_MSG(b == 1, "b's due run is not queued behind 12000 waiting runs of a");
}

/* A job whose window the config made coarser (hour -> day) runs the first
 * day: that the day's first hour succeeded does not make the day
 * succeeded (it did -- the run found for the day's start covered one hour
 * -- and the rest of the day was never processed), for the schedule and
 * for `sluice run`. */
TEST(jobs_window_made_coarser_runs_the_partly_covered_day)
{
    char err[512], dir[600];
    snprintf(dir, sizeof dir, "%s/coarser", t_tmpdir());
    cf_config *c = load(dir, "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                             "jobs:\n  h: {kind: noop, window: hour, start: 2024-01-01}\n"
                             "  g: {kind: noop, window: hour, start: 2024-01-01}\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2024-01-01T12:00:30Z");
    jb_runtime *r = start(c, dir, 2, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    drive(r, dir, 10);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(count_runs(dir, "h", 1u << CT_RUN_SUCCEEDED), 12); /* 00:00 .. 11:00 */
    CHECK_EQ_INT(count_runs(dir, "g", 1u << CT_RUN_SUCCEEDED), 12);
    c = load(dir, "jobs:\n  h: {kind: noop, window: day, start: 2024-01-01}\n"
                  "  g: {kind: noop, window: day}\n", err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ut_error e = {0};
    int64_t id = 0;
    int trig = jb_trigger(c, dir, "g", at("2024-01-01T00:00:00Z"), 0, &id, &e);
    fake_now = at("2024-01-02T00:00:30Z"); /* the day's window closes */
    r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    CHECK_MSG(jb_tick(r, &e) >= 0, "%s", e.msg);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_MSG(trig == 0, "sluice run g --window 2024-01-01: %s", e.msg);
    CHECK_MSG(count_runs(dir, "h", 0) == 13, "no run for 2024-01-01 (%d runs): its hours "
              "12:00-24:00 are never processed", count_runs(dir, "h", 0));
}

/* The same as an upstream: a downstream day waits for the whole of its
 * upstream's day, not for a run of the first hour (of the finer window the
 * upstream had until the config changed). */
TEST(jobs_upstream_window_made_coarser_gates_on_the_whole_day)
{
    char err[512], dir[600];
    snprintf(dir, sizeof dir, "%s/coarserup", t_tmpdir());
    cf_config *c = load(dir, "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                             "jobs:\n  up: {kind: noop, window: hour, start: 2024-01-01}\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2024-01-01T12:00:30Z");
    jb_runtime *r = start(c, dir, 2, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    drive(r, dir, 10);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(count_runs(dir, "up", 1u << CT_RUN_SUCCEEDED), 12); /* 00:00 .. 11:00 */
    c = load(dir, "jobs:\n  up: {kind: noop, window: day, delay: 2h}\n"
                  "  down: {kind: noop, window: day, depends_on: [up], start: 2024-01-01}\n",
             err, sizeof err);
    CHECK_MSG(c, "%s", err);
    fake_now = at("2024-01-02T00:30:00Z"); /* down's day closed, up's not plus its delay */
    r = start(c, dir, 0, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    ut_error e = {0};
    CHECK_MSG(jb_tick(r, &e) >= 0, "%s", e.msg);
    int made = count_runs(dir, "down", 0), queued = count_runs(dir, "down", 1u << CT_RUN_QUEUED);
    jb_destroy(r);
    cf_destroy(c);
    CHECK_EQ_INT(made, 1);
    CHECK_MSG(queued == 0, "down for 2024-01-01 is queued on up's hours 00:00-12:00 only");
}

/* The scheduler's insert of a window's run looks again for an open run in
 * its own transaction: a trigger that opened one between the scheduler's
 * look and its insert is not doubled (jb__add_run with unless_open). */
TEST(jobs_scheduled_insert_does_not_double_a_triggered_run)
{
    char err[512], dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/unless", t_tmpdir());
    cf_config *c = load(dir, "jobs:\n  d: {kind: noop, window: day}\n", err, sizeof err);
    CHECK_MSG(c, "%s", err);
    if (!c) return;
    ut_error e = {0};
    int64_t id = 0, id2 = 0;
    CHECK_MSG(jb_trigger(c, dir, "d", at("2024-04-01T00:00:00Z"), 0, &id, &e) == 0, "%s", e.msg);
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    ct_catalog *cat = ct_open(path, err, sizeof err);
    CHECK_MSG(cat, "%s", err);
    jb_new_run nr = {.job = cf_job_find(c, "d"), .ws = at("2024-04-01T00:00:00Z"),
                     .we = at("2024-04-02T00:00:00Z"), .trigger = "schedule", .iterations = 1,
                     .unless_open = 1};
    int rc = jb__add_run(cat, &nr, &id2, &e);
    nr.ws = at("2024-04-02T00:00:00Z"), nr.we = at("2024-04-03T00:00:00Z");
    int rc2 = jb__add_run(cat, &nr, &id2, &e);
    ct_close(cat);
    int n = count_runs(dir, "d", 0);
    cf_destroy(c);
    CHECK_EQ_INT(rc, 1);  /* the triggered run is open: not inserted */
    CHECK_EQ_INT(rc2, 0); /* another window: inserted */
    CHECK_EQ_INT(n, 2);
}

/* The outbox: a run's records go in with its success only (a fenced-out
 * attempt adds none), come out oldest first, and leave the pending list
 * once marked; the stream's last marked offset is what a sender reconciles
 * from. */
TEST(jobs_outbox_with_the_run)
{
    char err[512], path[4200];
    snprintf(path, sizeof path, "%s/outbox.db", t_tmpdir());
    ct_catalog *c = ct_open(path, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_run r;
    CHECK(new_run(c, &r, err, sizeof err) == 0);
    CHECK_EQ_INT(ct_run_queue(c, r.id, 5, err, sizeof err), 1);
    CHECK_EQ_INT(ct_run_start(c, r.id, 5, 2, "w2", err, sizeof err), 1);
    static const char *const recs[] = {"{\"path\":\"a\"}", "{\"path\":\"b\"}"};
    ct_run_done d = {.id = r.id, .task = 5, .deliveries = 1, .state = CT_RUN_SUCCEEDED,
                     .outbox_stream = "j.files", .outbox = recs, .noutbox = 2};
    CHECK_EQ_INT(ct_run_finish(c, &d, err, sizeof err), 0); /* fenced out: nothing added */
    ct_outbox_rec *v = NULL;
    CHECK_EQ_INT(ct_outbox_pending(c, 10, NULL, 0, &v, err, sizeof err), 0);
    ct_outbox_free(v, 0);
    d.deliveries = 2;
    CHECK_EQ_INT(ct_run_finish(c, &d, err, sizeof err), 1);
    CHECK_EQ_INT(ct_outbox_pending(c, 10, NULL, 0, &v, err, sizeof err), 2);
    CHECK(v[0].id < v[1].id && !strcmp(v[0].record, recs[0]) && !strcmp(v[1].stream, "j.files"));
    uint64_t off = 0;
    CHECK_EQ_INT(ct_outbox_last_sent(c, "j.files", &off, err, sizeof err), 0);
    int64_t ids[1] = {v[0].id};
    uint64_t offs[1] = {41};
    CHECK_EQ_INT(ct_outbox_mark(c, ids, offs, 1, err, sizeof err), 0);
    ct_outbox_free(v, 2);
    CHECK_EQ_INT(ct_outbox_pending(c, 10, NULL, 0, &v, err, sizeof err), 1);
    CHECK(!strcmp(v[0].record, recs[1]));
    ct_outbox_free(v, 1);
    CHECK_EQ_INT(ct_outbox_last_sent(c, "j.files", &off, err, sizeof err), 1);
    CHECK_EQ_INT((int)off, 41);
    ct_close(c);
}

/* Hourly fires of a day window with a lookback (a collector re-collecting
 * the trailing days every hour): each fire re-runs the fire's own window
 * too, not only the windows before it (the day just closed was collected
 * once, at its first fire, and then left stale all day).  Without a
 * lookback a succeeded window is not scheduled again. */
TEST(jobs_hourly_fires_of_a_day_window_rerun_it_with_lookback)
{
    char err[512], dir[4200];
    snprintf(dir, sizeof dir, "%s/hourlyday", t_tmpdir());
    cf_config *c = load(dir,
                        "scheduler: {task_timeout: 2s, heartbeat: 200ms}\n"
                        "jobs:\n"
                        "  lb:\n    kind: command\n    window: day\n    schedule: '0 * * * *'\n"
                        "    lookback: 1\n    start: 2026-01-01\n    command: ['true']\n"
                        "  once:\n    kind: command\n    window: day\n    schedule: '0 * * * *'\n"
                        "    start: 2026-01-01\n    command: ['true']\n",
                        err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    fake_now = at("2026-01-02T00:30:00Z");
    jb_runtime *r = start(c, dir, 2, err, sizeof err);
    CHECK_MSG(r, "%s", err);
    drive(r, dir, 20); /* catch-up of 24 hourly fires for Jan 1: one run open at a time */
    int lb0 = count_runs(dir, "lb", 1u << CT_RUN_SUCCEEDED);
    CHECK_EQ_INT(count_runs(dir, "once", 0), 1);
    fake_now = at("2026-01-02T01:30:00Z"); /* the 01:00 fire: Jan 1 again, Dec 31 < start */
    drive(r, dir, 20);
    CHECK_EQ_INT(count_runs(dir, "lb", 1u << CT_RUN_SUCCEEDED), lb0 + 1);
    CHECK_EQ_INT(count_runs(dir, "once", 0), 1);
    fake_now = at("2026-01-03T00:30:00Z"); /* 23 more fires: Jan 1 (lookback) and Jan 2 */
    drive(r, dir, 40);
    CHECK_MSG(count_runs(dir, "lb", 0) >= lb0 + 3, "%d runs", count_runs(dir, "lb", 0));
    CHECK_EQ_INT(count_runs(dir, "once", 0), 2);
    jb_destroy(r);
    cf_destroy(c);
}

/* ---- snapshot schema changes (snap_schema.c) --------------------------------------- */

static sn_column scol(const char *name, const char *type, int pos)
{
    sn_column c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.type, sizeof c.type, "%s", type);
    c.position = pos;
    return c;
}

/* The changes from old to now, in words. */
static const char *schema_words(const sn_column *old, int no, const sn_column *now, int n)
{
    static char out[2048];
    ut_buf t = {0}, w = {0};
    jb__snap_schema_text(old, no, NULL, &t);
    jb_schema_changes *c = malloc(sizeof *c);
    int k = jb__snap_schema_diff(ut_buf_cstr(&t), now, n, c);
    if (k < 0) snprintf(out, sizeof out, "<ERR>");
    else jb__snap_schema_words(c, &w), snprintf(out, sizeof out, "%s", w.len ? ut_buf_cstr(&w) : "");
    free(c);
    ut_buf_free(&t);
    ut_buf_free(&w);
    return out;
}

TEST(snap_schema_diff)
{
    sn_column old[] = {scol("id", "bigint", 1), scol("name", "text", 2), scol("phone", "text", 3),
                       scol("age", "integer", 4), scol("city", "text", 5)};
    CHECK_EQ_STR(schema_words(old, 5, old, 5), "");
    sn_column now[] = {scol("id", "bigint", 1), scol("name", "text", 2), scol("age", "bigint", 4),
                       scol("town", "text", 5), scol("email", "text", 6)};
    CHECK_EQ_STR(schema_words(old, 5, now, 5), "dropped phone (text); retyped age integer -> bigint; "
                                               "renamed city -> town (text); added email (text)");
    /* a rename with a type change; a dropped column and a new one at another position */
    sn_column r[] = {scol("id", "bigint", 1), scol("full_name", "varchar(80)", 2),
                     scol("phone", "text", 3), scol("age", "integer", 4), scol("x", "text", 9)};
    CHECK_EQ_STR(schema_words(old, 5, r, 5),
                 "renamed name -> full_name (text -> varchar(80)); dropped city (text); added x (text)");
    /* names are compared exactly (case counts) */
    sn_column up[] = {scol("ID", "bigint", 10)};
    CHECK_EQ_STR(schema_words(old, 1, up, 1), "dropped id (bigint); added ID (bigint)");
    /* what the last run kept does not parse: -1 */
    jb_schema_changes *c = malloc(sizeof *c);
    CHECK(jb__snap_schema_diff("[{\"name\":", now, 5, c) < 0);
    CHECK(jb__snap_schema_diff("{}", now, 5, c) < 0);
    /* more changes than the cap are counted */
    sn_column many[300];
    for (int i = 0; i < 300; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%d", i);
        many[i] = scol(nm, "int", 100 + i);
    }
    ut_buf t = {0};
    jb__snap_schema_text(old, 1, NULL, &t);
    CHECK(jb__snap_schema_diff(ut_buf_cstr(&t), many, 300, c) == 301);
    CHECK(c->n == JB_MAX_SCHEMA_CHANGES && c->more == 301 - JB_MAX_SCHEMA_CHANGES);
    ut_buf_free(&t);
    free(c);
}

/* Snapshot jobs' lake tables: one producer each, checked before anything
 * runs (a clash would make two source tables replace each other). */
TEST(jobs_check_snapshot_lake_tables)
{
    char err[1024];
    const char *pg = "postgres:\n  db: {conninfo: \"host=127.0.0.1 port=1\"}\n";
    char body[2048];
    snprintf(body, sizeof body, "%sjobs:\n  s:\n    kind: snapshot\n    source: db\n"
             "    include: [shop.order_items, shop_order.items]\n", pg);
    CHECK(strstr(check_msg(body, err, sizeof err), "lands in lake table shop_order_items, as "));
    snprintf(body, sizeof body, "%sjobs:\n  s:\n    kind: snapshot\n    source: db\n"
             "    include: [shop.order_items, shop_order.items]\n    tables:\n"
             "      shop_order.items: {target: t1_items}\n", pg);
    CHECK_EQ_STR(check_msg(body, err, sizeof err), "ok");
    snprintf(body, sizeof body, "%sstreams:\n  ev: {}\njobs:\n  s:\n    kind: snapshot\n"
             "    source: db\n    tables:\n      shop.x: {target: t1_ev}\n", pg);
    CHECK(strstr(check_msg(body, err, sizeof err), "which stream ev writes"));
    snprintf(body, sizeof body, "%sjobs:\n  a:\n    kind: snapshot\n    source: db\n"
             "    include: [shop.x]\n    table_prefix: t1_\n  b:\n    kind: snapshot\n"
             "    source: db\n    tables:\n      other.y: {target: T1_SHOP_X}\n", pg);
    CHECK(strstr(check_msg(body, err, sizeof err), "as other.y of job b does"));
    snprintf(body, sizeof body, "%sjobs:\n  s:\n    kind: snapshot\n    source: nowhere\n"
             "    include: [a.b]\n", pg);
    CHECK(strstr(check_msg(body, err, sizeof err), "no connection 'nowhere'"));
    snprintf(body, sizeof body, "%sjobs:\n  s:\n    kind: snapshot\n    source: db\n"
             "    tables:\n      a.b: {mask: {email: hash}}\n", pg);
    CHECK(strstr(check_msg(body, err, sizeof err), "hash needs mask_key"));
    snprintf(body, sizeof body, "%sjobs:\n  s:\n    kind: snapshot\n    source: db\n"
             "    tables:\n      a.b: {mask: {email: \"truncate:x\"}}\n", pg);
    CHECK(strstr(check_msg(body, err, sizeof err), "tables.a.b.mask.email"));
    snprintf(body, sizeof body, "%sjobs:\n  s:\n    kind: snapshot\n    source: db\n"
             "    tables:\n      a.b: {parallel: 4}\n", pg);
    CHECK(strstr(check_msg(body, err, sizeof err), "parallel needs split_by"));
    snprintf(body, sizeof body, "sqlite:\n  f: {path: /tmp/x.db}\njobs:\n  s:\n    kind: snapshot\n"
             "    source: f\n    tables:\n      main.t: {split_by: id, parallel: 4}\n");
    CHECK(strstr(check_msg(body, err, sizeof err), "parallel reads need a PostgreSQL source"));
}

/* report.call_backoff reaches the collector's spec (its first retry wait);
 * unset it is the engine's 1 s. */
TEST(jobs_collect_call_backoff_reaches_the_spec)
{
    char err[512];
    const char *body[2] = {
        "jobs:\n  a:\n    kind: collect\n    request: {url: \"http://127.0.0.1:1/x\"}\n"
        "    report: {format: json, call_backoff: 20ms, call_retries: 5}\n    table: t\n",
        "jobs:\n  a:\n    kind: collect\n    request: {url: \"http://127.0.0.1:1/x\"}\n"
        "    report: {format: json}\n    table: t\n"};
    const int64_t want_ms[2] = {20, 1000}, want_retries[2] = {5, 3};
    for (int i = 0; i < 2; i++) {
        cf_config *c = load(t_tmpdir(), body[i], err, sizeof err);
        CHECK_MSG(c, "%s", err);
        if (!c) continue;
        jb_timing t;
        CHECK(jb__timing_init(&t, &c->jobs[0], err, sizeof err) == 0);
        jb_vars v = {.cf = c, .job = &c->jobs[0], .timing = &t, .run_id = 1};
        jb_cspec s;
        jb_redact r = {0};
        ut_error e = {0};
        CHECK_MSG(jb__cspec_init(&s, &v, &r, &e) == 0, "%s", e.msg);
        CHECK_EQ_INT(s.spec.backoff_ms, want_ms[i]);
        CHECK_EQ_INT(s.spec.retries, want_retries[i]);
        jb__cspec_free(&s);
        jb__redact_free(&r);
        jb__timing_free(&t);
        cf_destroy(c);
    }
    CHECK(!load(t_tmpdir(), "jobs:\n  a:\n    kind: collect\n    request: {url: \"http://x\"}\n"
                            "    report: {call_backoff: 1ms}\n    table: t\n", err, sizeof err));
}
