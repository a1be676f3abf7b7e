/* sluice load --plan JOB --window W -c FILE — print the statements a run of
 * load job JOB for window W would send to its warehouse (docs/warehouse.md).
 * Nothing is written anywhere; the target's columns are read from the
 * warehouse (PostgreSQL) to show the DDL the run would add.  Exit codes:
 * 0 printed, 1 failure (unknown job, the warehouse unreachable), 2 usage. */
#include "cli/cli.h"
#include "config/config.h"
#include "jobs/jobs.h"
#include "runtime/runtime.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

static int plan(cf_config *cf, const char *data, const char *job, const char *window)
{
    char err[1024];
    ut_error e = {0};
    int64_t at = 0;
    if (jb_parse_time(cf, job, window, &at, &e)) {
        cli_errorf("load", "--window: %s", e.msg);
        return 2;
    }
    rt_opts ro = {.mode = RT_CLIENT, .data_dir = data, .port = -1};
    rt_runtime *rt = rt_create(cf, &ro, err, sizeof err);
    rt_sql_req q = {.read_only = 1, .no_tail = 1};
    sq_engine *eng = rt ? rt_sql_open(rt, &q, err, sizeof err) : NULL;
    int rc = 1;
    ut_buf out = {0};
    if (!eng) cli_errorf("load", "%s", err);
    else if (jb_load_plan(cf, data ? data : cf->data_dir, job, at, eng, &out, &e))
        cli_errorf("load", "%s", e.msg);
    else {
        fputs(ut_buf_cstr(&out), stdout);
        rc = 0;
    }
    ut_buf_free(&out);
    sq_close(eng);
    rt_destroy(rt);
    return rc;
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
    char err[1024];
    cf_config *cf = config ? cf_load(config, err, sizeof err) : cf_default();
    if (!cf) {
        cli_errorf("load", "%s", err);
        return 1;
    }
    if (jb_check(cf, err, sizeof err)) {
        cli_errorf("load", "%s", err);
        cf_destroy(cf);
        return 1;
    }
    rc = plan(cf, data, pos[0], window);
    cf_destroy(cf);
    return rc;
}
