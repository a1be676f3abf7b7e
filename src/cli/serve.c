/* sluice serve — the server on the embedded default or a YAML config. */
#include "cli/cli.h"
#include "config/config.h"
#include "server/server.h"
#include "store/store.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *more =
    "With no config the server runs the embedded default: data in ./sluice-data, HTTP on\n"
    "127.0.0.1:8080, streams created on first write.  SIGTERM or SIGINT stops it\n"
    "gracefully: no new connections, in-flight appends finish and are synced, exit 0.\n"
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

static void to_stream_conf(const cf_config *cf, const cf_stream *cs, sv_stream_conf *out)
{
    memset(out, 0, sizeof *out);
    out->name = cs->name;
    out->tokens = (const char *const *)cs->tokens.v;
    out->ntokens = cs->tokens.n;
    cf_stream_journal_opts(cf, cs, &out->jr);
    out->max_bytes = cs->max_bytes;
    const cf_sink *k = &cs->sink;
    out->sink = k->enabled;
    lk_sink_opts *o = &out->sink_opts;
    lk_sink_opts_init(o);
    o->table = k->table;
    o->event_time_field = k->event_time_field;
    o->time_format = (lk_time_format)k->event_time_format;
    o->partition = (lk_partitioning)k->partition;
    o->roll_bytes = k->roll_bytes;
    o->roll_rows = k->roll_rows;
    o->roll_age_ms = k->roll_age_ms;
    o->max_open_partitions = (int)k->max_open_partitions;
    o->max_buffer_bytes = k->max_buffer_bytes;
    o->case_insensitive = k->case_insensitive;
    o->max_columns = (int)k->max_columns;
    o->retention_ms = k->retention_ms;
    o->compact_min_files = (int)k->compact_min_files;
    o->compact_target_bytes = k->compact_target_bytes;
    o->maintenance_interval_ms = k->maintenance_interval_ms;
}

/* The lake's store from the config (local directory or S3). */
static st_store *open_store(const cf_config *cf, const char *data_dir, char *err, size_t errlen)
{
    if (cf->lake.store == CF_STORE_S3) {
        const cf_s3 *x = &cf->lake.s3;
        if (!x->endpoint[0] || !x->bucket[0]) {
            ut_err(err, errlen, "lake.s3 needs endpoint and bucket");
            return NULL;
        }
        st_s3_opts so = {0};
        so.endpoint = x->endpoint;
        so.region = x->region;
        so.bucket = x->bucket;
        so.prefix = x->prefix;
        so.credentials_file = x->credentials_file[0] ? x->credentials_file : NULL;
        so.profile = x->profile;
        so.part_bytes = x->part_bytes;
        st_store *st = st_s3_create(&so, err, errlen);
        if (st && st_check(st, err, errlen)) {
            st_destroy(st);
            return NULL;
        }
        return st;
    }
    char root[4096];
    if (cf->lake.path[0]) snprintf(root, sizeof root, "%s", cf->lake.path);
    else snprintf(root, sizeof root, "%s/lake", data_dir);
    return st_local_create(root, err, errlen);
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
        fprintf(stderr, "sluice serve: %s\n", err);
        return 1;
    }
    sv_opts o;
    sv_opts_init(&o);
    char host[256];
    snprintf(host, sizeof host, "%s", cf->listen.host);
    o.port = cf->listen.port;
    if (listen && split_listen(listen, host, sizeof host, &o.port)) {
        cli_errorf("serve", "--listen wants HOST:PORT, got '%s'", listen);
        cf_destroy(cf);
        return 2;
    }
    o.host = !strcmp(host, "localhost") ? "127.0.0.1" : host;
    o.data_dir = data ? data : cf->data_dir;
    o.max_connections = (int)cf->http.max_connections;
    o.conn_timeout_s = (int)((cf->http.connection_timeout_ms + 999) / 1000);
    o.header_timeout_s = (int)((cf->http.header_timeout_ms + 999) / 1000);
    o.max_per_client = (int)cf->http.max_connections_per_client;
    o.limits.max_body = (size_t)cf->limits.max_body_bytes;
    o.limits.max_record = (size_t)cf->limits.max_record_bytes;
    o.limits.max_depth = (int)cf->limits.max_depth;
    o.limits.max_records = (int)cf->limits.max_records_per_request;
    o.min_free_disk = cf->limits.min_free_disk;
    o.auto_create = cf->auto_create_streams;
    cf_stream defaults;
    cf_stream_defaults(&defaults);
    to_stream_conf(cf, &defaults, &o.auto_conf);
    if (ut_mkdir_p(o.data_dir, err, sizeof err)) {
        fprintf(stderr, "sluice serve: %s\n", err);
        cf_destroy(cf);
        return 1;
    }
    st_store *store = open_store(cf, o.data_dir, err, sizeof err);
    if (!store) {
        fprintf(stderr, "sluice serve: lake store: %s\n", err);
        cf_destroy(cf);
        return 1;
    }
    o.store = store;
    o.cf = cf;
    sv_stream_conf *sc = ut_calloc((size_t)cf->nstreams + 1, sizeof *sc);
    for (int i = 0; i < cf->nstreams; i++) to_stream_conf(cf, &cf->streams[i], &sc[i]);
    o.streams = sc;
    o.nstreams = cf->nstreams;

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

    sv_server *s = sv_start(&o, err, sizeof err);
    free(sc);
    cf_stream_clear(&defaults);
    if (!s) {
        fprintf(stderr, "sluice serve: %s\n", err);
        st_destroy(store);
        cf_destroy(cf);
        return 1;
    }
    fprintf(stderr, "sluice: listening on http://%s:%d (data in %s%s)\n", o.host, sv_port(s),
            o.data_dir, o.auto_create ? ", streams created on first write" : "");
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%d\n", sv_port(s));
            fclose(f);
        }
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "sluice: %s received, finishing in-flight requests\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    sv_stop(s);
    st_destroy(store);
    cf_destroy(cf);
    fprintf(stderr, "sluice: stopped cleanly\n");
    return 0;
}
