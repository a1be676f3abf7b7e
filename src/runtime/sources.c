/* runtime: the config's sources (the log-file shipper, src/tail) inside
 * sluice serve.
 *
 *   sources.<name> ──► tl_run on a thread of its own ──► the stream's
 *   journal: the server's own (sv_journal, created on first use as an HTTP
 *   write would create it), so the shipper and HTTP ingest append to one
 *   journal, and the stream's sink lands both.  Sources with a `url` send
 *   to that sluice instead, as `sluice tail` does.
 *
 * Checkpoints and their crash rules are the shipper's (src/tail/ckpt.c):
 * a record is appended once whatever the moment the server is killed.  A
 * shipper that fails (a remote target past its retries) is logged and
 * started again after RESTART_MS; stopping the server stops it first,
 * after it shipped its batch. */
#include "log/log.h"
#include "runtime/rt_int.h"
#include "tail/tail.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#define RESTART_MS 5000

struct rt__sources {
    rt_runtime *rt;
    tl_shipper *t;
    pthread_t th;
    volatile sig_atomic_t stop;
    pthread_mutex_t mu;
    tl_stats st;        /* as of the shipper's last progress call (about 1 s) */
};

/* tl_opts.progress, on the shipper's thread: a copy for /metrics. */
static void progress(const tl_stats *st, void *arg)
{
    rt__sources *s = arg;
    pthread_mutex_lock(&s->mu);
    s->st = *st;
    pthread_mutex_unlock(&s->mu);
}

static jr_stream *journal(void *ctx, const char *stream, ut_error *e)
{
    rt_runtime *rt = ctx;
    return sv_journal(rt->server, stream, 1, e);
}

static void pause_ms(rt__sources *s, int64_t ms)
{
    for (int64_t t = 0; t < ms && !s->stop; t += 100) {
        struct timespec d = {0, 100 * 1000000};
        nanosleep(&d, NULL);
    }
}

static void *sources_main(void *arg)
{
    rt__sources *s = arg;
    while (!s->stop) {
        ut_error e = {0};
        if (tl_run(s->t, &s->stop, &e) == 0) break;
        lg_error("sources", "%s (starting again in %d s)", e.msg, RESTART_MS / 1000);
        pause_ms(s, RESTART_MS);
    }
    return NULL;
}

rt__sources *rt__sources_start(rt_runtime *rt, char *err, size_t errlen)
{
    ut_error e = {0};
    rt__sources *s = ut_calloc(1, sizeof *s);
    tl_opts o = {.journal = journal, .journal_ctx = rt, .progress = progress, .arg = s,
                 .defer_recovery = 1};
    s->rt = rt;
    pthread_mutex_init(&s->mu, NULL);
    s->t = tl_create(rt->cf, &o, &e);
    if (!s->t) {
        ut_err(err, errlen, "%s", e.msg);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    if (pthread_create(&s->th, NULL, sources_main, s)) {
        ut_err(err, errlen, "sources: cannot start the shipper's thread");
        tl_destroy(s->t);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    lg_info("sources", "shipping %d source%s", rt->cf->nsources, rt->cf->nsources == 1 ? "" : "s");
    return s;
}

void rt__sources_stats(rt__sources *s, tl_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

void rt__sources_stop(rt__sources *s)
{
    if (!s || !s->t) return;
    s->stop = 1;
    pthread_join(s->th, NULL);
    tl_destroy(s->t);
    s->t = NULL;
}

void rt__sources_free(rt__sources *s)
{
    if (!s) return;
    rt__sources_stop(s);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
