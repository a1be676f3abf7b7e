/* sluice tail — the log-file shipper: sources of the config to streams. */
#include "cli/cli.h"
#include "config/config.h"
#include "log/log.h"
#include "tail/tail.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void progress(const tl_stats *st, void *arg)
{
    (void)arg;
    fprintf(stderr, "\r%llu lines shipped, %.1f MB, %llu batches, %llu cut, %llu unparsed, "
                    "%llu retries   ",
            (unsigned long long)st->records, (double)st->bytes / 1e6,
            (unsigned long long)st->batches, (unsigned long long)st->cut_lines,
            (unsigned long long)st->parse_errors, (unsigned long long)st->retries);
}

static void summary(tl_shipper *t)
{
    tl_stats st;
    tl_stats_get(t, &st);
    lg_info("tail", "shipped %llu records (%llu bytes) in %llu batches; %llu lines cut, %llu "
            "unparsed, %llu files, %llu rotations closed, %llu truncations, %llu retries",
            (unsigned long long)st.records, (unsigned long long)st.bytes,
            (unsigned long long)st.batches, (unsigned long long)st.cut_lines,
            (unsigned long long)st.parse_errors, (unsigned long long)st.files,
            (unsigned long long)st.rotations, (unsigned long long)st.truncations,
            (unsigned long long)st.retries);
}

int cli_tail(int argc, char **argv)
{
    const char *cfg = NULL, *source = NULL;
    int once = 0, quiet = 0;
    cli_flag flags[] = {
        {"config", 'c', CLI_STR, &cfg, "FILE", "the config with the sources (required)"},
        {"source", 's', CLI_STR, &source, "NAME", "ship only this source"},
        {"once", 0, CLI_BOOL, &once, NULL, "ship what the files hold now, then exit"},
        {"quiet", 'q', CLI_BOOL, &quiet, NULL, "no progress line"},
        {0}};
    cli_cmd cmd = {"tail", "", "ship log files to a stream (sources: in the config)", flags, 0, 0,
                   "Follows the files of each source, parses their lines and sends them to the\n"
                   "source's stream (local journal or a remote sluice). Checkpoints are saved\n"
                   "only after a batch is acknowledged. SIGTERM/SIGINT ship the batch and stop.\n"
                   "Exit status: 0 after a stop (or --once), 1 on a failure, 2 usage error.\n"};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    if (!cfg) {
        cli_errorf("tail", "-c FILE is required");
        return 2;
    }
    char err[1024];
    cf_config *c = cf_load(cfg, err, sizeof err);
    if (!c) {
        fprintf(stderr, "sluice tail: %s\n", err);
        return 1;
    }
    lg_set_default_level((lg_level)c->log_level);
    tl_opts o = {source, once, NULL, NULL};
    if (!quiet && isatty(2)) o.progress = progress;
    ut_error e;
    tl_shipper *t = tl_create(c, &o, &e);
    if (!t) {
        fprintf(stderr, "sluice tail: %s\n", e.msg);
        cf_destroy(c);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = tl_run(t, &stop_flag, &e);
    if (o.progress) fputc('\n', stderr);
    summary(t);
    if (rc) fprintf(stderr, "sluice tail: %s\n", e.msg);
    tl_destroy(t);
    cf_destroy(c);
    return rc ? 1 : 0;
}
