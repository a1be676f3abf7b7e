/* Taking from a pool: pl_acquire, pl_take (waiting), pl_release, pl_renew,
 * pl_pause.
 *
 * A wait is a loop of tries.  Each try is one locked read-modify-write of
 * the pool's file (pl__begin .. pl__end): it takes everything asked at once
 * (slot and token), or nothing and says how long until it could succeed —
 * the end of the pause, the next token's due time, or the earliest lease
 * expiry when every slot is held.  The waiter then sleeps that long, at most
 * PL_POLL_MS (others' releases, pauses and reconfigurations are only seen by
 * looking again) and never past its deadline, on the handle's condition, so
 * that a release, pl_wake or pl_shutdown through this handle wakes it at
 * once.  A wake-up that happened between the try and the sleep is not lost:
 * the sleep is skipped when the handle's wake-up count moved. */
#include "pool/pl_int.h"

#include "log/log.h"

#include <assert.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum why { W_NONE, W_PAUSE, W_SLOT, W_TOKEN } why;

typedef struct try_ctx {
    const char *holder;  /* pl_acquire; NULL for pl_take */
    double need;         /* tokens */
    pl_slot *out;
    /* the last try that had to wait: why, for how long, what it saw */
    why why;
    int64_t wait_ms, paused_until;
    uint32_t used;
    int64_t cap;
    double tokens, rate;
} try_ctx;

/* Any wait of the handle over?  *gen: the wake-up count before the try. */
static int stopped(pl_pools *p, const atomic_int *cancel, uint64_t *gen)
{
    pthread_mutex_lock(&p->mu);
    int closing = p->closing;
    *gen = p->gen;
    pthread_mutex_unlock(&p->mu);
    return closing ? 1 : cancel && atomic_load(cancel) ? 2 : 0;
}

static void sleep_ms(pl_pools *p, uint64_t gen, int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&p->mu);
    if (p->gen == gen && !p->closing) pthread_cond_timedwait(&p->cv, &p->mu, &t);
    pthread_mutex_unlock(&p->mu);
}

/* Should the try wait, and how long?  W_NONE: go.  May free the slots of
 * dead processes. */
static why must_wait(pl_pools *p, pl__pool *q, try_ctx *t)
{
    pl__state *s = &q->st;
    int64_t now = q->now;
    t->used = pl__used(s);
    t->cap = s->concurrency;
    t->tokens = s->tokens;
    t->rate = s->rate;
    t->paused_until = s->paused_until_ms;
    if (s->paused_until_ms > now) {
        t->wait_ms = s->paused_until_ms - now;
        return W_PAUSE;
    }
    if (t->holder && s->concurrency > 0 && t->used >= (uint32_t)s->concurrency) {
        int n = pl__reclaim_dead(s, p->host);
        q->c.reclaimed += (uint64_t)n;
        q->dirty |= n > 0;
        t->used -= (uint32_t)n;
        if (!n) {
            int64_t next = pl__next_expiry(s);
            t->wait_ms = next - now < PL_POLL_MS ? next - now : PL_POLL_MS;
            return W_SLOT;
        }
    }
    t->wait_ms = pl__token_wait_ms(s, t->need, now);
    return t->wait_ms > 0 ? W_TOKEN : W_NONE;
}

/* One try: 0 = taken, 1 = wait (t says why), -1 = error. */
static int try_once(pl_pools *p, pl__pool *q, try_ctx *t, ut_error *e)
{
    if (pl__begin(p, q, e)) return -1;
    pl__state *s = &q->st;
    if (s->rate > 0 && t->need > s->burst + PL__EPS) {
        ut_fail(e, UT_EINVAL, "pool '%s': %g tokens asked at once, more than its burst of %g",
                q->name, t->need, s->burst);
        pl__end(q, 0, NULL);
        return -1;
    }
    t->why = must_wait(p, q, t);
    int got = t->why == W_NONE;
    if (got && t->holder && s->concurrency > 0) {
        int i = pl__grant(s, q->now, q->lease_ms, (int32_t)p->pid, p->host, t->holder);
        assert(i >= 0); /* must_wait saw a free slot below the cap */
        *t->out = (pl_slot){q->index, (uint32_t)i, s->slots[i].id, q->now};
    } else if (got && t->holder) {
        t->out->granted_ms = q->now; /* no cap: no slot, lease 0 */
    }
    if (got && s->rate > 0) {
        pl__take(s, t->need);
        q->c.taken += t->need;
    }
    if (got && t->holder) q->c.acquired++;
    if (pl__end(q, got, e)) return -1;
    return got ? 0 : 1;
}

static int timed_out(pl__pool *q, const try_ctx *t, ut_error *e)
{
    char ts[40];
    switch (t->why) {
    case W_PAUSE:
        ut_ts_format(ts, t->paused_until * 1000);
        return ut_fail(e, UT_ETIMEOUT, "pool '%s': paused until %s, past the deadline", q->name,
                       ts);
    case W_SLOT:
        return ut_fail(e, UT_ETIMEOUT, "pool '%s': no slot free by the deadline (%u of %lld held)",
                       q->name, t->used, (long long)t->cap);
    default:
        return ut_fail(e, UT_ETIMEOUT,
                       "pool '%s': no token by the deadline (%.3g in the bucket, %g per second)",
                       q->name, t->tokens, t->rate);
    }
}

static int wait_for(pl_pools *p, pl__pool *q, try_ctx *t, int64_t deadline,
                    const atomic_int *cancel, ut_error *e)
{
    int64_t start = pl__now(p);
    int waited = 0, rc, stop;
    uint64_t gen;
    for (;;) {
        if ((stop = stopped(p, cancel, &gen))) {
            rc = ut_fail(e, UT_ECANCELED, "pool '%s': %s", q->name,
                         stop == 1 ? "shutting down" : "cancelled");
            break;
        }
        if ((rc = try_once(p, q, t, e)) <= 0) break;
        int64_t now = pl__now(p);
        if (deadline >= 0 && (now >= deadline || (t->why == W_PAUSE && t->paused_until > deadline))) {
            rc = timed_out(q, t, e);
            break;
        }
        int64_t ms = t->wait_ms < PL_POLL_MS ? t->wait_ms : PL_POLL_MS;
        if (deadline >= 0 && deadline - now < ms) ms = deadline - now;
        sleep_ms(p, gen, ms < 1 ? 1 : ms);
        waited = 1;
    }
    int64_t end = pl__now(p);
    pthread_mutex_lock(&q->io);
    q->c.waits += (uint64_t)waited;
    if (waited && end > start) q->c.wait_ms += (uint64_t)(end - start);
    q->c.timeouts += rc < 0 && e && e->kind == UT_ETIMEOUT;
    pthread_mutex_unlock(&q->io);
    return rc;
}

int pl_acquire(pl_pools *p, const char *name, const char *holder, int64_t deadline_ms,
               const atomic_int *cancel, pl_slot *out, ut_error *e)
{
    ut_error local = {0};
    if (!e) e = &local; /* the timeout counter looks at the kind */
    memset(out, 0, sizeof *out);
    if (!holder || !holder[0])
        return ut_fail(e, UT_EINVAL, "pool '%s': acquire needs a holder name",
                       name ? name : "(null)");
    pl__pool *q = pl__enter(p, name, e);
    if (!q) return -1;
    try_ctx t = {.holder = holder, .need = 1, .out = out};
    int rc = wait_for(p, q, &t, deadline_ms, cancel, e);
    if (rc) memset(out, 0, sizeof *out);
    pl__leave(p);
    return rc;
}

int pl_take(pl_pools *p, const char *name, double tokens, int64_t deadline_ms,
            const atomic_int *cancel, ut_error *e)
{
    ut_error local = {0};
    if (!e) e = &local;
    if (!isfinite(tokens) || tokens <= 0 || tokens > PL_MAX_BURST)
        return ut_fail(e, UT_EINVAL, "pool '%s': cannot take %g tokens", name ? name : "(null)",
                       tokens);
    pl__pool *q = pl__enter(p, name, e);
    if (!q) return -1;
    try_ctx t = {.need = tokens};
    int rc = wait_for(p, q, &t, deadline_ms, cancel, e);
    pl__leave(p);
    return rc;
}

/* The pool of slot s, entered (pl__leave after), or NULL. */
static pl__pool *enter_slot(pl_pools *p, const pl_slot *s)
{
    if (!s || !s->lease || getpid() != p->pid) return NULL;
    pthread_mutex_lock(&p->mu);
    pl__pool *q = s->pool >= 0 && s->pool < p->npools ? p->pools[s->pool] : NULL;
    if (q) p->active++;
    pthread_mutex_unlock(&p->mu);
    return q;
}

void pl_release(pl_pools *p, pl_slot *s)
{
    pl__pool *q = enter_slot(p, s);
    if (!q) {
        if (s) memset(s, 0, sizeof *s);
        return;
    }
    ut_error e = {0};
    int freed = 0;
    if (!pl__begin(p, q, &e)) {
        int i = pl__find(&q->st, s->index, s->lease);
        if (i >= 0) memset(&q->st.slots[i], 0, sizeof q->st.slots[i]);
        freed = i >= 0;
        if (pl__end(q, freed, &e)) freed = 0;
    }
    if (e.kind) lg_warn("pool", "release of a slot: %s", e.msg);
    memset(s, 0, sizeof *s);
    if (freed) pl__broadcast(p);
    pl__leave(p); /* last: pl_close may free p once it is out */
}

int pl_renew(pl_pools *p, const pl_slot *s, ut_error *e)
{
    if (!s || !s->lease) return 0;
    if (getpid() != p->pid)
        return ut_fail(e, UT_EINVAL, "pools %s: renew from a forked child", p->dir);
    pl__pool *q = enter_slot(p, s);
    if (!q) return ut_fail(e, UT_ENOTFOUND, "pools %s: renew of an unknown slot", p->dir);
    int rc = pl__begin(p, q, e);
    if (!rc) {
        int i = pl__find(&q->st, s->index, s->lease);
        if (i >= 0) q->st.slots[i].expires_ms = q->now + q->lease_ms;
        rc = pl__end(q, i >= 0, e);
        if (!rc && i < 0)
            rc = ut_fail(e, UT_ENOTFOUND,
                         "pool '%s': slot lease %llu was lost (it expired and was taken back, "
                         "or the state file was reset)", q->name, (unsigned long long)s->lease);
    }
    pl__leave(p);
    return rc;
}

int pl_pause(pl_pools *p, const char *name, int64_t until_ms, ut_error *e)
{
    pl__pool *q = pl__enter(p, name, e);
    if (!q) return -1;
    int rc = pl__begin(p, q, e);
    if (!rc) {
        int64_t until = until_ms;
        if (until > q->now + PL_MAX_PAUSE_MS) until = q->now + PL_MAX_PAUSE_MS;
        int raised = pl__pause(&q->st, until, q->now);
        if (raised) {
            char ts[40];
            ut_ts_format(ts, until * 1000);
            lg_debug("pool", "pool '%s': paused until %s (for %lld ms)", q->name, ts,
                     (long long)(until - q->now));
        }
        rc = pl__end(q, raised, e);
    }
    pl__leave(p);
    return rc;
}
