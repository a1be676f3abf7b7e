/* sluice worker — more workers for the jobs of a server, in another process. */
#include "cli/cli.h"
#include "config/config.h"
#include "log/log.h"
#include "runtime/runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

static const char *more =
    "Runs job tasks next to `sluice serve` on the same data directory (the same config): it\n"
    "takes tasks from the server's queue over HTTP (the server found from the config's\n"
    "listen, or --server; the config's first query.write_tokens as the token, or --token)\n"
    "and reaches the catalog, the lake and the pools directly.  Any number of them can run;\n"
    "each thread is its own consumer (<host>-<pid>-w<N>).  While the server is down a worker\n"
    "keeps running its tasks and retries with backoff.  kill -9 is safe: its tasks are taken\n"
    "over after scheduler.task_timeout.  SIGTERM or SIGINT stops it cleanly: running commands\n"
    "are stopped and their tasks stay pending (taken over after task_timeout), exit 0.\n"
    "See docs/jobs.md.\n";

int cli_worker(int argc, char **argv)
{
    const char *config = NULL, *data = NULL, *server = NULL, *token = NULL;
    long threads = -1; /* not given */
    cli_flag flags[] = {
        {"config", 'c', CLI_STR, &config, "FILE", "YAML configuration (the server's)"},
        {"data", 'd', CLI_STR, &data, "DIR", "override the data directory (the server's)"},
        {"threads", 't', CLI_INT, &threads, "N", "worker threads (default: the config's workers, at least 1)"},
        {"server", 's', CLI_STR, &server, "URL", "the server (default: http://<the config's listen>)"},
        {"token", 0, CLI_STR, &token, "TOKEN", "a write token of the server (default: the config's first)"},
        {0}};
    cli_cmd cmd = {"worker", "", "run job workers in this process for the server's task queue",
                   flags, 0, 0, more};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    if (threads != -1 && (threads < 1 || threads > 256)) {
        cli_errorf("worker", "--threads wants 1 to 256, got %ld", threads);
        return 2;
    }
    char err[1024];
    cf_config *cf = config ? cf_load(config, err, sizeof err) : cf_default();
    if (!cf) {
        lg_error("worker", "%s", err);
        return 1;
    }
    /* Signals are taken synchronously by this thread; block them before the
     * workers start so they inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rt_opts ro = {.mode = RT_WORKER, .data_dir = data, .port = -1, .server = server,
                  .token = token, .threads = threads > 0 ? (int)threads : 0};
    rt_runtime *rt = rt_create(cf, &ro, err, sizeof err);
    if (!rt) {
        lg_error("worker", "%s", err);
        cf_destroy(cf);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    lg_info("worker", "%s received: stopping the running tasks (they stay pending)",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    rt_destroy(rt);
    cf_destroy(cf);
    lg_info("worker", "stopped cleanly");
    return 0;
}
