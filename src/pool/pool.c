/* Pools: the handle, configuration, the locked read-modify-write of a pool's
 * file (pl__begin .. pl__end), and pl_info.  The waiting calls are in
 * wait.c, the state's rules in bucket.c, the file format in state.c.
 *
 * Locks, always in this order: the handle's mu (briefly: the pool list and
 * the waiters' condition, never held during I/O), then a pool's io (one
 * thread of this handle on the file at a time), then flock on the file (one
 * handle of any process at a time).  flock is taken on a descriptor this
 * handle opened: two handles, in one process or two, exclude each other. */
#include "pool/pl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static int64_t real_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pl__now(const pl_pools *p)
{
    return p->clock(p->clock_ctx);
}

void pl_set_clock(pl_pools *p, int64_t (*now_ms)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&p->mu);
    p->clock = now_ms ? now_ms : real_now_ms;
    p->clock_ctx = now_ms ? ctx : NULL;
    pthread_mutex_unlock(&p->mu);
}

void pl__set_host(pl_pools *p, const char *host)
{
    snprintf(p->host, sizeof p->host, "%s", host);
}

pl_pools *pl_open(const char *dir, char *err, size_t errlen)
{
    if (ut_mkdir_p(dir, err, errlen)) return NULL;
    pl_pools *p = ut_calloc(1, sizeof *p);
    p->dir = ut_strdup(dir);
    p->pid = getpid();
    if (gethostname(p->host, sizeof p->host - 1)) snprintf(p->host, sizeof p->host, "localhost");
    p->host[sizeof p->host - 1] = 0;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->clock = real_now_ms;
    return p;
}

void pl__broadcast(pl_pools *p)
{
    pthread_mutex_lock(&p->mu);
    p->gen++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pl_wake(pl_pools *p)
{
    pl__broadcast(p);
}

void pl_shutdown(pl_pools *p)
{
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    p->gen++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void pool_free(pl__pool *q)
{
    if (q->fd >= 0) close(q->fd);
    pthread_mutex_destroy(&q->io);
    pl__state_free(&q->st);
    free(q->buf);
    free(q->path);
    free(q);
}

void pl_close(pl_pools *p)
{
    if (!p) return;
    pl_shutdown(p);
    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->npools; i++) pool_free(p->pools[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->dir);
    free(p);
}

static int forked(const pl_pools *p, ut_error *e)
{
    pid_t me = getpid();
    if (me == p->pid) return 0;
    return ut_fail(e, UT_EINVAL,
                   "pools %s: handle of process %d used in process %d (a forked child opens "
                   "its own)", p->dir, (int)p->pid, (int)me);
}

static pl__pool *find(const pl_pools *p, const char *name)
{
    for (int i = 0; i < p->npools; i++)
        if (!strcmp(p->pools[i]->name, name)) return p->pools[i];
    return NULL;
}

pl__pool *pl__enter(pl_pools *p, const char *name, ut_error *e)
{
    if (forked(p, e)) return NULL;
    pthread_mutex_lock(&p->mu);
    pl__pool *q = name ? find(p, name) : NULL;
    if (q) p->active++;
    pthread_mutex_unlock(&p->mu);
    if (!q)
        ut_fail(e, UT_ENOTFOUND, "pool '%s' is not configured (pools %s)", name ? name : "(null)",
                p->dir);
    return q;
}

void pl__leave(pl_pools *p)
{
    pthread_mutex_lock(&p->mu);
    p->active--;
    if (p->closing && !p->active) pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- the locked read-modify-write --------------------------------------------- */

int pl__begin(pl_pools *p, pl__pool *q, ut_error *e)
{
    pthread_mutex_lock(&q->io);
    int r;
    while ((r = flock(q->fd, LOCK_EX)) && errno == EINTR) {}
    if (r) {
        ut_fail(e, UT_EIO, "pool '%s': %s: lock: %s", q->name, q->path, strerror(errno));
        pthread_mutex_unlock(&q->io);
        return -1;
    }
    q->now = pl__now(p);
    int reset = 0;
    if (pl__load(q, q->now, &reset, e)) {
        flock(q->fd, LOCK_UN);
        pthread_mutex_unlock(&q->io);
        return -1;
    }
    pl__refill(&q->st, q->now);
    int n = pl__reclaim_expired(&q->st, q->now);
    q->c.reclaimed += (uint64_t)n;
    q->dirty = reset || n;
    return 0;
}

int pl__end(pl__pool *q, int dirty, ut_error *e)
{
    int rc = dirty || q->dirty ? pl__store(q, e) : 0;
    flock(q->fd, LOCK_UN);
    pthread_mutex_unlock(&q->io);
    return rc;
}

/* ---- configuration -------------------------------------------------------------- */

static int check_settings(const char *name, double rate, int64_t burst, int64_t conc,
                          int64_t lease_ms, ut_error *e)
{
    if (!name || !ut_name_ok(UT_NAME_POOL, name))
        return ut_fail(e, UT_EINVAL,
                       "pool name '%.80s' is not valid: use 1-64 of A-Z a-z 0-9 _ . -, not "
                       "starting with . or -", name ? name : "(null)");
    if (!isfinite(rate) || rate < 0 || rate > PL_MAX_RATE)
        return ut_fail(e, UT_EINVAL, "pool '%s': rate %g is not in 0..%g per second", name, rate,
                       PL_MAX_RATE);
    if (burst < 0 || (double)burst > PL_MAX_BURST)
        return ut_fail(e, UT_EINVAL, "pool '%s': burst %lld is not in 0..%g", name,
                       (long long)burst, PL_MAX_BURST);
    if (conc < 0 || conc > PL_MAX_SLOTS)
        return ut_fail(e, UT_EINVAL, "pool '%s': concurrency %lld is not in 0..%d", name,
                       (long long)conc, PL_MAX_SLOTS);
    if (lease_ms < 0 || lease_ms > PL_MAX_LEASE_MS)
        return ut_fail(e, UT_EINVAL, "pool '%s': lease %lld ms is not in 0..%lld", name,
                       (long long)lease_ms, (long long)PL_MAX_LEASE_MS);
    return 0;
}

/* A new pool on the handle (p->mu held). */
static pl__pool *add_pool(pl_pools *p, const char *name, ut_error *e)
{
    if (p->npools == PL_MAX_POOLS) {
        ut_fail(e, UT_EINVAL, "pool '%s': more than %d pools", name, PL_MAX_POOLS);
        return NULL;
    }
    size_t n = strlen(p->dir) + strlen(name) + 8;
    char *path = ut_malloc(n);
    snprintf(path, n, "%s/%s.pool", p->dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ut_fail(e, UT_EIO, "pool '%s': %s: %s", name, path, strerror(errno));
        free(path);
        return NULL;
    }
    pl__pool *q = ut_calloc(1, sizeof *q);
    q->index = p->npools;
    snprintf(q->name, sizeof q->name, "%s", name);
    q->path = path;
    q->fd = fd;
    pthread_mutex_init(&q->io, NULL);
    q->burst = 1;
    p->pools[p->npools++] = q;
    return q;
}

int pl_configure(pl_pools *p, const char *name, double rate_per_s, int64_t burst,
                 int64_t concurrency, int64_t lease_ms, ut_error *e)
{
    if (forked(p, e) || check_settings(name, rate_per_s, burst, concurrency, lease_ms, e))
        return -1;
    pthread_mutex_lock(&p->mu);
    pl__pool *q = find(p, name);
    if (!q) q = add_pool(p, name, e);
    if (q) p->active++;
    pthread_mutex_unlock(&p->mu);
    if (!q) return -1;
    double b = burst ? (double)burst : rate_per_s > 1 ? rate_per_s : 1;
    pthread_mutex_lock(&q->io);
    q->rate = rate_per_s;
    q->burst = b;
    q->concurrency = concurrency;
    q->lease_ms = lease_ms ? lease_ms : PL_DEFAULT_LEASE_MS;
    pthread_mutex_unlock(&q->io);
    int rc = pl__begin(p, q, e);
    if (!rc) {
        pl__state_set(&q->st, rate_per_s, b, concurrency);
        rc = pl__end(q, 1, e);
    }
    pl__broadcast(p); /* a higher cap or rate may let waiters through */
    pl__leave(p);     /* last: pl_close may free p once it is out */
    return rc;
}

int pl_info(pl_pools *p, const char *name, pl_stats *out, ut_error *e)
{
    memset(out, 0, sizeof *out);
    pl__pool *q = pl__enter(p, name, e);
    if (!q) return -1;
    int rc = pl__begin(p, q, e);
    if (!rc) {
        pl__state *s = &q->st;
        int n = pl__reclaim_dead(s, p->host);
        q->c.reclaimed += (uint64_t)n;
        *out = q->c;
        out->rate = s->rate;
        out->burst = s->burst;
        out->concurrency = s->concurrency;
        out->tokens = s->paused_until_ms > q->now ? 0 : s->tokens;
        out->slots_used = pl__used(s);
        out->paused_until_ms = s->paused_until_ms;
        rc = pl__end(q, n > 0, e);
    }
    pl__leave(p);
    return rc;
}
