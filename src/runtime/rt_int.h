/* runtime internals (rt__ prefix). */
#ifndef SLUICE_RT_INT_H
#define SLUICE_RT_INT_H

#include "runtime/runtime.h"
#include "jobs/jobs.h"
#include "server/server.h"
#include "store/store.h"

typedef struct rt__outbox rt__outbox;
typedef struct rt__sources rt__sources;
struct tl_stats;

struct rt_runtime {
    const cf_config *cf;
    rt_mode mode;
    char *data_dir;
    st_store *store;
    sq_tail_conf *tails;  /* event-time settings of the declared streams */
    int ntails;
    char host[256];
    int port;
    sv_server *server;    /* RT_SERVER */
    rt__outbox *outbox;   /* RT_SERVER: the outbox sender (outbox.c) */
    rt__sources *sources; /* RT_SERVER with sources: the log-file shipper (sources.c) */
    jb_runtime *jobs;     /* RT_SERVER: the scheduler and workers; RT_WORKER: workers */
    char server_url[1024]; /* RT_WORKER: the server's URL */
    char *token;          /* RT_WORKER: its Bearer token, or NULL */
    int threads;          /* RT_WORKER: worker threads */
    int stopped;          /* rt_stop ran */
    int abandoned;        /* rt_stop gave up on a sink: the server is left as is */
};

/* server.c: start the HTTP server with the config's streams. 0 or -1. */
int rt__serve(rt_runtime *rt, char *err, size_t errlen);
/* outbox.c: start / stop the thread appending the catalog outbox's records
 * to their streams (rt->server must be running).  NULL with a message. */
rt__outbox *rt__outbox_start(rt_runtime *rt, char *err, size_t errlen);
void rt__outbox_stop(rt__outbox *o); /* accepts NULL */
/* sources.c: ship the config's sources into the server's journals (or
 * their url) on a thread; rt->server must be running.  NULL with a message.
 * stats: as of about a second ago (also after stop).  stop: ships the
 * batch and ends the shipper (idempotent); free: after the server stopped
 * (its /metrics reads the stats).  Both accept NULL. */
rt__sources *rt__sources_start(rt_runtime *rt, char *err, size_t errlen);
void rt__sources_stats(rt__sources *s, struct tl_stats *out);
void rt__sources_stop(rt__sources *s);
void rt__sources_free(rt__sources *s);
/* sql.c: the engine options every caller shares (tails). */
void rt__sql_init(rt_runtime *rt);
void rt__sql_free(rt_runtime *rt);

#endif
