/* sluice serve — the server on the embedded default or a YAML config. */
#include "cli/cli.h"
#include "config/config.h"
#include "log/log.h"
#include "runtime/runtime.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *more =
    "With no config the server runs the embedded default: data in ./sluice-data, HTTP on\n"
    "127.0.0.1:8080, streams created on first write.  On start every stream found in the\n"
    "data directory is reopened and its sink resumes.  SIGTERM or SIGINT stops it\n"
    "gracefully: no new connections, in-flight appends finish and are synced, the sinks\n"
    "land their buffers (within shutdown_timeout, default 5 s), exit 0.\n"
    "See docs/configuration.md for the config file.\n";

/* Split "host:port"; 0 or -1. */
static int split_listen(const char *s, char *host, size_t n, int *port)
{
    const char *c = strrchr(s, ':');
    if (!c || c == s || (size_t)(c - s) >= n) return -1;
    char *end;
    long p = strtol(c + 1, &end, 10);
    if (*end || end == c + 1 || p < 0 || p > 65535) return -1;
    memcpy(host, s, (size_t)(c - s));
    host[c - s] = 0;
    *port = (int)p;
    return 0;
}

static void write_port(const char *path, int port)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        lg_warn("serve", "cannot write the port to %s", path);
        return;
    }
    fprintf(f, "%d\n", port);
    fclose(f);
}

int cli_serve(int argc, char **argv)
{
    const char *config = NULL, *listen = NULL, *data = NULL, *port_file = NULL;
    cli_flag flags[] = {
        {"config", 'c', CLI_STR, &config, "FILE", "YAML configuration (default: embedded)"},
        {"listen", 'l', CLI_STR, &listen, "HOST:PORT", "override the listen address (port 0 = any free port)"},
        {"data", 'd', CLI_STR, &data, "DIR", "override the data directory"},
        {"port-file", 0, CLI_STR, &port_file, "FILE", "write the bound port to FILE once listening"},
        {0}};
    cli_cmd cmd = {"serve", "", "run the server: ingest, streams, /metrics, /healthz", flags, 0, 0,
                   more};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;

    char err[1024];
    cf_config *cf = config ? cf_load(config, err, sizeof err) : cf_default();
    if (!cf) {
        lg_error("serve", "%s", err);
        return 1;
    }
    char host[256];
    rt_opts ro = {.mode = RT_SERVER, .data_dir = data, .port = -1};
    if (listen && split_listen(listen, host, sizeof host, &ro.port)) {
        cli_errorf("serve", "--listen wants HOST:PORT, got '%s'", listen);
        cf_destroy(cf);
        return 2;
    }
    if (listen) ro.host = host;

    /* Keep freed memory in the heap instead of returning large blocks to the
     * kernel: the sinks and request handlers allocate and free big buffers all
     * the time, and fresh pages cost a page fault each. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);

    /* Signals are taken synchronously by this thread; block them before the
     * server's threads start so they inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rt_runtime *rt = rt_create(cf, &ro, err, sizeof err);
    if (!rt) {
        lg_error("serve", "%s", err);
        cf_destroy(cf);
        return 1;
    }
    lg_info("serve", "listening on http://%s:%d (data in %s%s)", rt_host(rt), rt_port(rt),
            rt_data_dir(rt), cf->auto_create_streams ? ", streams created on first write" : "");
    if (port_file) write_port(port_file, rt_port(rt));
    int sig = 0;
    sigwait(&set, &sig);
    lg_info("serve", "%s received: finishing in-flight requests, landing the sinks' buffers "
                     "(at most %lld ms)",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", (long long)cf->shutdown_timeout_ms);
    if (rt_stop(rt)) {
        /* a sink is still writing: exit now; its records are in the journal */
        lg_warn("serve", "stopped before every sink landed its buffer; the rest lands after the "
                         "restart");
        _exit(0);
    }
    rt_destroy(rt);
    cf_destroy(cf);
    lg_info("serve", "stopped cleanly");
    return 0;
}
