/* The header watchdog: a client that opens a connection and trickles its
 * request headers (a byte a second keeps libmicrohttpd's idle timeout from
 * firing) holds a connection and a thread for ever.  Every open connection is
 * listed here; one thread looks at the list four times a second and shuts
 * down (shutdown(2), not close: libmicrohttpd owns the descriptor and closes
 * it when it sees the end of the stream) each connection whose headers have
 * not arrived header_timeout_s after it opened or after its last request
 * ended.  A connection is removed from the list in libmicrohttpd's "closed"
 * notification, before the descriptor is closed, so a shutdown never hits a
 * reused descriptor.
 *
 * The same thread applies the streams' journal retention once a second:
 * the journal applies it when a segment rolls, and a quiet stream (or one
 * refused for its disk budget) may not roll for days, keeping segments
 * long past their retention. */
#include "log/log.h"
#include "server/sv_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define WATCH_PERIOD_MS 250
#define RETAIN_PERIOD_MS 1000

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Shut down the connections past the deadline (with watch_mu held). */
static void cut_slow(sv_server *s, uint64_t now)
{
    uint64_t limit = (uint64_t)s->o.header_timeout_s * 1000;
    for (sv__conn *c = s->conns; c; c = c->next) {
        if (c->in_request || c->cut || now - c->since_ms < limit) continue;
        c->cut = 1;
        (void)shutdown(c->fd, SHUT_RDWR);
        s->slow_cut++;
    }
}

/* Retention of every stream (without watch_mu: appends take the streams'
 * own locks). */
static void retain_all(sv_server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nstreams;
    pthread_mutex_unlock(&s->mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (int i = 0; i < n; i++) /* registered streams stay until sv_stop */
        if (jr_stream_retain(s->streams[i]->jr, now) > 0)
            lg_info("server", "stream %s: retention removed expired segments", s->streams[i]->name);
}

static void *watch_main(void *arg)
{
    sv_server *s = arg;
    uint64_t last_retain = mono_ms();
    pthread_mutex_lock(&s->watch_mu);
    while (!s->watch_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += WATCH_PERIOD_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->watch_cv, &s->watch_mu, &ts);
        if (s->watch_stop) break;
        uint64_t now = mono_ms();
        if (s->o.header_timeout_s > 0) cut_slow(s, now);
        if (now - last_retain >= RETAIN_PERIOD_MS) {
            last_retain = now;
            pthread_mutex_unlock(&s->watch_mu);
            retain_all(s);
            pthread_mutex_lock(&s->watch_mu);
        }
    }
    pthread_mutex_unlock(&s->watch_mu);
    return NULL;
}

int sv__watch_start(sv_server *s, char *err, size_t errlen)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->watch_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->watch_mu, NULL);
    s->watch_running = -1; /* initialised, thread not (yet) running */
    int rc = pthread_create(&s->watch_thread, NULL, watch_main, s);
    if (rc) return ut_err(err, errlen, "cannot start the watchdog: %s", strerror(rc));
    s->watch_running = 1;
    return 0;
}

void sv__watch_stop(sv_server *s)
{
    if (!s->watch_running) return;
    if (s->watch_running > 0) {
        pthread_mutex_lock(&s->watch_mu);
        s->watch_stop = 1;
        pthread_cond_signal(&s->watch_cv);
        pthread_mutex_unlock(&s->watch_mu);
        pthread_join(s->watch_thread, NULL);
    }
    while (s->conns) { /* only after the daemon stopped: nothing left normally */
        sv__conn *c = s->conns;
        s->conns = c->next;
        free(c);
    }
    pthread_cond_destroy(&s->watch_cv);
    pthread_mutex_destroy(&s->watch_mu);
    s->watch_running = 0;
}

sv__conn *sv__watch_add(sv_server *s, int fd)
{
    sv__conn *c = ut_calloc(1, sizeof *c);
    c->fd = fd;
    c->since_ms = mono_ms();
    pthread_mutex_lock(&s->watch_mu);
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    pthread_mutex_unlock(&s->watch_mu);
    return c;
}

void sv__watch_remove(sv_server *s, sv__conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&s->watch_mu);
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&s->watch_mu);
    free(c);
}

void sv__watch_request(sv_server *s, sv__conn *c, int in_request)
{
    if (!c) return;
    pthread_mutex_lock(&s->watch_mu);
    c->in_request = in_request;
    if (!in_request) c->since_ms = mono_ms();
    pthread_mutex_unlock(&s->watch_mu);
}
