/* sluice load --plan JOB --window W -c FILE — print the statements a run of
 * load job JOB for window W would send to its warehouse (docs/warehouse.md).
 * Nothing is written anywhere; the target's columns are read from the
 * warehouse (PostgreSQL) to show the DDL the run would add.
 * sluice export JOB --sample N [--to CONN] [--table T] -c FILE — export the
 * first N lake rows of export job JOB to a development target (no run is
 * recorded).  Exit codes: 0 done, 1 failure (unknown job, the target
 * unreachable), 2 usage. */
#include "cli/cli.h"
#include "config/config.h"
#include "jobs/jobs.h"
#include "runtime/runtime.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

/* What a command does once the lake's SQL engine (committed files) is open. */
typedef struct load_cmd {
    const char *cmd, *job, *window;
    long sample;
    const char *to, *table;
} load_cmd;

static int act(cf_config *cf, const char *data, const load_cmd *t, sq_engine *eng, ut_error *e)
{
    const char *dir = data ? data : cf->data_dir;
    if (t->sample) {
        int64_t rows = 0;
        if (jb_export_sample(cf, dir, t->job, t->sample, t->to, t->table, eng, &rows, e))
            return -1;
        printf("%lld rows exported\n", (long long)rows);
        return 0;
    }
    int64_t at = 0;
    if (jb_parse_time(cf, t->job, t->window, &at, e)) return -1;
    ut_buf out = {0};
    int rc = jb_load_plan(cf, dir, t->job, at, eng, &out, e);
    if (!rc) fputs(ut_buf_cstr(&out), stdout);
    ut_buf_free(&out);
    return rc;
}

static int plan(cf_config *cf, const char *data, const load_cmd *t)
{
    char err[1024];
    ut_error e = {0};
    rt_opts ro = {.mode = RT_CLIENT, .data_dir = data, .port = -1};
    rt_runtime *rt = rt_create(cf, &ro, err, sizeof err);
    rt_sql_req q = {.read_only = 1, .no_tail = 1};
    sq_engine *eng = rt ? rt_sql_open(rt, &q, err, sizeof err) : NULL;
    int rc = 1;
    if (!eng) cli_errorf(t->cmd, "%s", err);
    else if (act(cf, data, t, eng, &e)) cli_errorf(t->cmd, "%s", e.msg);
    else rc = 0;
    sq_close(eng);
    rt_destroy(rt);
    return rc;
}

/* The config loaded and checked, then plan(). */
static int with_config(const char *config, const char *data, const load_cmd *t)
{
    char err[1024];
    cf_config *cf = config ? cf_load(config, err, sizeof err) : cf_default();
    if (!cf) {
        cli_errorf(t->cmd, "%s", err);
        return 1;
    }
    if (jb_check(cf, err, sizeof err)) {
        cli_errorf(t->cmd, "%s", err);
        cf_destroy(cf);
        return 1;
    }
    int rc = plan(cf, data, t);
    cf_destroy(cf);
    return rc;
}

int cli_export(int argc, char **argv)
{
    const char *config = NULL, *data = NULL, *to = NULL, *table = NULL;
    long sample = 0;
    cli_flag flags[] = {{"config", 'c', CLI_STR, &config, "FILE", "YAML configuration"},
                        {"data", 'd', CLI_STR, &data, "DIR", "data directory (default: the config's)"},
                        {"sample", 0, CLI_INT, &sample, "N", "export the first N rows of the lake table"},
                        {"to", 0, CLI_STR, &to, "CONN", "the postgres or mysql connection (default: the job's)"},
                        {"table", 0, CLI_STR, &table, "T", "the target table (default: the job's)"},
                        {0}};
    cli_cmd cmd = {"export", "JOB", "export a sample of an export job's lake rows to a "
                   "development database", flags, 1, 1, NULL};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    if (sample < 1) {
        cli_errorf("export", "give --sample N (N >= 1); runs are started with sluice run");
        return 2;
    }
    load_cmd t = {.cmd = "export", .job = pos[0], .sample = sample, .to = to, .table = table};
    return with_config(config, data, &t);
}

int cli_load(int argc, char **argv)
{
    const char *config = NULL, *data = NULL, *window = NULL;
    int show = 0;
    cli_flag flags[] = {{"config", 'c', CLI_STR, &config, "FILE", "YAML configuration"},
                        {"data", 'd', CLI_STR, &data, "DIR", "data directory (default: the config's)"},
                        {"window", 'w', CLI_STR, &window, "W", "a time in the window (YYYY-MM-DD[THH:MM:SSZ])"},
                        {"plan", 0, CLI_BOOL, &show, NULL, "print the statements a run would send"},
                        {0}};
    cli_cmd cmd = {"load", "JOB", "show what a load job's run for a window sends to the warehouse",
                   flags, 1, 1, NULL};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    if (!show || !window) {
        cli_errorf("load", "give --plan and --window W (runs are started with sluice run)");
        return 2;
    }
    load_cmd t = {.cmd = "load", .job = pos[0], .window = window};
    return with_config(config, data, &t);
}
