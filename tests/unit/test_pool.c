/* Pools: token bucket math, concurrency caps across handles (as processes
 * would have them), slots of dead processes and expired leases taken back,
 * pauses, deadlines, cancellation, corrupt state files, and a real
 * multi-process rate check. */
#include "t.h"
#include "journal/journal.h"
#include "log/log.h"
#include "pool/pl_int.h"
#include "pool/pool.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 1700000000000LL /* fake clocks start here (ms) */

static const char *pdir(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/pools-%s", t_tmpdir(), name);
    return p;
}

static int64_t fake_clock(void *ctx)
{
    return *(_Atomic int64_t *)ctx;
}

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static pl_pools *open_pools(const char *dir)
{
    char err[256];
    pl_pools *p = pl_open(dir, err, sizeof err);
    if (!p) printf("  pl_open: %s\n", err);
    return p;
}

/* Configure, printing the error. */
static int conf(pl_pools *p, const char *name, double rate, int64_t burst, int64_t conc,
                int64_t lease_ms)
{
    ut_error e = {0};
    int rc = pl_configure(p, name, rate, burst, conc, lease_ms, &e);
    if (rc) printf("  configure: %s\n", e.msg);
    return rc;
}

/* One try at a token (deadline = now on the handle's clock): the error kind,
 * UT_EOK when taken. */
static int try_take(pl_pools *p, const char *name, int64_t now)
{
    ut_error e = {0};
    return pl_take(p, name, 1, now, NULL, &e) ? (int)e.kind : UT_EOK;
}

static int try_acquire(pl_pools *p, const char *name, int64_t now, pl_slot *s)
{
    ut_error e = {0};
    return pl_acquire(p, name, "test:1:main", now, NULL, s, &e) ? (int)e.kind : UT_EOK;
}

static pl_stats stats(pl_pools *p, const char *name)
{
    pl_stats st;
    ut_error e = {0};
    if (pl_info(p, name, &st, &e)) printf("  info: %s\n", e.msg);
    return st;
}

/* ---- the bucket ------------------------------------------------------------------ */

TEST(pool_bucket_fake_clock)
{
    _Atomic int64_t now = T0;
    pl_pools *p = open_pools(pdir("bucket"));
    CHECK(p);
    pl_set_clock(p, fake_clock, (void *)&now);
    CHECK(conf(p, "api", 5, 2, 0, 0) == 0);
    /* the first 2 at once, then one per 200 ms */
    CHECK_EQ_INT(try_take(p, "api", now), UT_EOK);
    CHECK_EQ_INT(try_take(p, "api", now), UT_EOK);
    CHECK_EQ_INT(try_take(p, "api", now), UT_ETIMEOUT);
    for (int i = 1; i <= 5; i++) {
        now = T0 + i * 200 - 1;
        CHECK_EQ_INT(try_take(p, "api", now), UT_ETIMEOUT);
        now = T0 + i * 200;
        CHECK_EQ_INT(try_take(p, "api", now), UT_EOK);
        CHECK_EQ_INT(try_take(p, "api", now), UT_ETIMEOUT);
    }
    /* a quiet time fills the bucket up to the burst, no further */
    now += 60000;
    pl_stats st = stats(p, "api");
    CHECK(fabs(st.tokens - 2) < 1e-9);
    CHECK_EQ_INT(try_take(p, "api", now), UT_EOK);
    CHECK_EQ_INT(try_take(p, "api", now), UT_EOK);
    CHECK_EQ_INT(try_take(p, "api", now), UT_ETIMEOUT);
    /* pl_acquire takes a token too (no cap here: no slot) */
    now += 200;
    pl_slot s;
    CHECK_EQ_INT(try_acquire(p, "api", now, &s), UT_EOK);
    CHECK(s.lease == 0);
    CHECK_EQ_INT(s.granted_ms, now); /* the time its bucket was computed at */
    CHECK_EQ_INT(try_acquire(p, "api", now, &s), UT_ETIMEOUT);
    CHECK_EQ_INT(s.granted_ms, 0);
    st = stats(p, "api");
    CHECK_EQ_INT(st.acquired, 1);
    CHECK(fabs(st.taken - 10) < 1e-9);
    CHECK_EQ_INT(st.timeouts, 13);
    /* several tokens at once; more than the burst can never be had */
    now += 400;
    ut_error e = {0};
    CHECK(pl_take(p, "api", 2, now, NULL, &e) == 0);
    CHECK(pl_take(p, "api", 3, PL_NO_DEADLINE, NULL, &e) == -1);
    CHECK_EQ_INT(e.kind, UT_EINVAL);
    CHECK(strstr(e.msg, "'api'") && strstr(e.msg, "burst"));
    pl_close(p);
}

TEST(pool_burst_default)
{
    _Atomic int64_t now = T0;
    pl_pools *p = open_pools(pdir("burstdef"));
    CHECK(p);
    pl_set_clock(p, fake_clock, (void *)&now);
    CHECK(conf(p, "five", 5, 0, 0, 0) == 0);  /* burst = rate */
    CHECK(conf(p, "slow", 0.5, 0, 0, 0) == 0); /* burst = 1 */
    CHECK(conf(p, "free", 0, 0, 0, 0) == 0);  /* no limit */
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(try_take(p, "five", now), UT_EOK);
    CHECK_EQ_INT(try_take(p, "five", now), UT_ETIMEOUT);
    CHECK_EQ_INT(try_take(p, "slow", now), UT_EOK);
    CHECK_EQ_INT(try_take(p, "slow", now), UT_ETIMEOUT);
    now += 1999;
    CHECK_EQ_INT(try_take(p, "slow", now), UT_ETIMEOUT);
    now += 1;
    CHECK_EQ_INT(try_take(p, "slow", now), UT_EOK);
    for (int i = 0; i < 1000; i++) CHECK_EQ_INT(try_take(p, "free", now), UT_EOK);
    pl_close(p);
}

/* Real clock: waiting sleeps until the next token is due. */
TEST(pool_bucket_waits)
{
    pl_pools *p = open_pools(pdir("wait"));
    CHECK(p);
    CHECK(conf(p, "api", 5, 2, 0, 0) == 0);
    ut_error e = {0};
    int64_t t0 = real_ms();
    CHECK(pl_take(p, "api", 1, PL_NO_DEADLINE, NULL, &e) == 0);
    CHECK(pl_take(p, "api", 1, PL_NO_DEADLINE, NULL, &e) == 0);
    CHECK_MSG(real_ms() - t0 < 100, "the burst took %lld ms", (long long)(real_ms() - t0));
    CHECK(pl_take(p, "api", 1, PL_NO_DEADLINE, NULL, &e) == 0);
    CHECK(pl_take(p, "api", 1, PL_NO_DEADLINE, NULL, &e) == 0);
    int64_t took = real_ms() - t0;
    CHECK_MSG(took >= 380 && took < 900, "2 more tokens took %lld ms", (long long)took);
    pl_stats st = stats(p, "api");
    CHECK_EQ_INT(st.waits, 2);
    CHECK(st.wait_ms >= 370 && st.wait_ms < 900);
    pl_close(p);
}

TEST(pool_deadline_timeout)
{
    pl_pools *p = open_pools(pdir("deadline"));
    CHECK(p);
    CHECK(conf(p, "db", 1, 1, 1, 0) == 0);
    ut_error e = {0};
    pl_slot a, b;
    CHECK(pl_acquire(p, "db", "w1", PL_NO_DEADLINE, NULL, &a, &e) == 0);
    CHECK(a.lease != 0);
    /* no slot: waits until the deadline */
    int64_t t0 = real_ms();
    CHECK(pl_acquire(p, "db", "w2", t0 + 150, NULL, &b, &e) == -1);
    int64_t took = real_ms() - t0;
    CHECK_EQ_INT(e.kind, UT_ETIMEOUT);
    CHECK(strstr(e.msg, "'db'") && strstr(e.msg, "slot"));
    CHECK_MSG(took >= 140 && took < 700, "timed out after %lld ms", (long long)took);
    CHECK(b.lease == 0);
    pl_release(p, &a);
    CHECK(a.lease == 0);
    /* a slot now, but no token (rate 1/s, burst 1, one taken) */
    t0 = real_ms();
    memset(&e, 0, sizeof e);
    CHECK(pl_acquire(p, "db", "w2", t0 + 150, NULL, &b, &e) == -1);
    CHECK_EQ_INT(e.kind, UT_ETIMEOUT);
    CHECK(strstr(e.msg, "token"));
    CHECK(stats(p, "db").timeouts == 2);
    CHECK(stats(p, "db").slots_used == 0);
    pl_close(p);
}

/* ---- slots across handles ------------------------------------------------------- */

typedef struct waiter {
    pl_pools *p;
    const char *pool;
    int64_t deadline;
    const atomic_int *cancel;
    int rc;
    ut_error e;
    pl_slot s;
    _Atomic int done;
    int64_t done_ms;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->rc = pl_acquire(w->p, w->pool, "test:1:thread", w->deadline, w->cancel, &w->s, &w->e);
    w->done_ms = real_ms();
    w->done = 1;
    return NULL;
}

TEST(pool_concurrency_two_handles)
{
    const char *dir = pdir("conc");
    pl_pools *a = open_pools(dir), *b = open_pools(dir);
    CHECK(a && b);
    CHECK(conf(a, "db", 0, 0, 2, 0) == 0);
    CHECK(conf(b, "db", 0, 0, 2, 0) == 0);
    pl_slot s1, s2, s3;
    int64_t now = real_ms();
    CHECK_EQ_INT(try_acquire(a, "db", now, &s1), UT_EOK);
    CHECK(s1.lease && s1.granted_ms >= now && s1.granted_ms <= real_ms());
    CHECK_EQ_INT(try_acquire(b, "db", now, &s2), UT_EOK);
    CHECK_EQ_INT(try_acquire(a, "db", now, &s3), UT_ETIMEOUT);
    CHECK_EQ_INT(try_acquire(b, "db", now, &s3), UT_ETIMEOUT);
    CHECK_EQ_INT(stats(a, "db").slots_used, 2);
    CHECK_EQ_INT(stats(b, "db").slots_used, 2);
    /* a waiter on b gets the slot a releases (seen by polling the file) */
    waiter w = {.p = b, .pool = "db", .deadline = real_ms() + 5000};
    pthread_t th;
    pthread_create(&th, NULL, wait_thread, &w);
    nap_ms(150);
    CHECK(!w.done);
    int64_t rel = real_ms();
    pl_release(a, &s1);
    pthread_join(th, NULL);
    CHECK_MSG(w.rc == 0, "%s", w.e.msg);
    CHECK_MSG(w.done_ms - rel < 400, "seen %lld ms after the release", (long long)(w.done_ms - rel));
    CHECK_EQ_INT(stats(a, "db").slots_used, 2);
    /* releasing someone else's copy twice changes nothing */
    pl_slot copy = s2;
    pl_release(b, &s2);
    pl_release(b, &copy);
    CHECK_EQ_INT(stats(a, "db").slots_used, 1);
    pl_release(b, &w.s);
    CHECK_EQ_INT(stats(a, "db").slots_used, 0);
    pl_close(a);
    pl_close(b);
}

/* A waiter on the same handle is woken by the release at once. */
TEST(pool_release_wakes_local_waiter)
{
    pl_pools *a = open_pools(pdir("local"));
    CHECK(a);
    CHECK(conf(a, "db", 0, 0, 1, 0) == 0);
    pl_slot s;
    CHECK_EQ_INT(try_acquire(a, "db", real_ms(), &s), UT_EOK);
    waiter w = {.p = a, .pool = "db", .deadline = PL_NO_DEADLINE};
    pthread_t th;
    pthread_create(&th, NULL, wait_thread, &w);
    nap_ms(130);
    int64_t rel = real_ms();
    pl_release(a, &s);
    pthread_join(th, NULL);
    CHECK(w.rc == 0);
    CHECK_MSG(w.done_ms - rel < 50, "woken %lld ms after", (long long)(w.done_ms - rel));
    pl_release(a, &w.s);
    pl_close(a);
}

/* Reconfiguring: a smaller cap keeps the live leases; a bigger one lets
 * waiters in. */
TEST(pool_reconfigure)
{
    pl_pools *a = open_pools(pdir("reconf"));
    CHECK(a);
    CHECK(conf(a, "db", 0, 0, 3, 0) == 0);
    pl_slot s[3], x;
    int64_t now = real_ms();
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(try_acquire(a, "db", now, &s[i]), UT_EOK);
    CHECK(conf(a, "db", 0, 0, 1, 0) == 0);
    CHECK_EQ_INT(stats(a, "db").slots_used, 3);
    pl_release(a, &s[0]);
    pl_release(a, &s[2]);
    CHECK_EQ_INT(try_acquire(a, "db", now, &x), UT_ETIMEOUT); /* 1 held, cap 1 */
    ut_error e = {0};
    CHECK(pl_renew(a, &s[1], &e) == 0); /* the compacted lease is still found */
    CHECK(conf(a, "db", 0, 0, 2, 0) == 0);
    CHECK_EQ_INT(try_acquire(a, "db", now, &x), UT_EOK);
    pl_release(a, &x);
    pl_release(a, &s[1]);
    CHECK(conf(a, "db", 0, 0, 0, 0) == 0); /* no cap: no slots */
    CHECK_EQ_INT(try_acquire(a, "db", now, &x), UT_EOK);
    CHECK(x.lease == 0);
    pl_close(a);
}

/* ---- crashed holders and leases ----------------------------------------------- */

TEST(pool_dead_holder_reclaimed)
{
    const char *dir = pdir("dead");
    pl_pools *p = open_pools(dir);
    CHECK(p);
    CHECK(conf(p, "db", 0, 0, 1, 60000) == 0);
    int up[2], go[2];
    CHECK(pipe(up) == 0 && pipe(go) == 0);
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        ut_error e = {0};
        pl_pools *c = pl_open(dir, NULL, 0);
        pl_slot s;
        char ok = c && !pl_configure(c, "db", 0, 0, 1, 60000, &e) &&
                  !pl_acquire(c, "db", "child", PL_NO_DEADLINE, NULL, &s, &e);
        if (write(up[1], &ok, 1) != 1 || read(go[0], &ok, 1) != 1) _exit(2);
        _exit(0); /* no release, no close: as if killed */
    }
    char ok = 0;
    CHECK(read(up[0], &ok, 1) == 1 && ok);
    pl_slot s;
    /* the child is alive: its slot stays */
    CHECK_EQ_INT(try_acquire(p, "db", real_ms(), &s), UT_ETIMEOUT);
    CHECK(write(go[1], &ok, 1) == 1);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status));
    /* gone, but the lease says another host: its pid cannot be asked */
    char host[PL__HOST_MAX + 1] = {0};
    gethostname(host, sizeof host - 1);
    pl__set_host(p, "some-other-host");
    CHECK_EQ_INT(try_acquire(p, "db", real_ms(), &s), UT_ETIMEOUT);
    pl__set_host(p, host);
    CHECK_EQ_INT(try_acquire(p, "db", real_ms(), &s), UT_EOK);
    CHECK_EQ_INT(stats(p, "db").reclaimed, 1);
    pl_release(p, &s);
    for (int i = 0; i < 2; i++) close(up[i]), close(go[i]);
    pl_close(p);
}

TEST(pool_lease_expiry)
{
    _Atomic int64_t now = T0;
    const char *dir = pdir("lease");
    pl_pools *a = open_pools(dir), *b = open_pools(dir);
    CHECK(a && b);
    pl_set_clock(a, fake_clock, (void *)&now);
    pl_set_clock(b, fake_clock, (void *)&now);
    CHECK(conf(a, "db", 0, 0, 1, 1000) == 0);
    CHECK(conf(b, "db", 0, 0, 1, 1000) == 0);
    pl_slot sa, sb;
    CHECK_EQ_INT(try_acquire(a, "db", now, &sa), UT_EOK);
    /* renewed at +800: held until +1800 */
    now = T0 + 800;
    ut_error e = {0};
    CHECK(pl_renew(a, &sa, &e) == 0);
    now = T0 + 1500;
    CHECK_EQ_INT(try_acquire(b, "db", now, &sb), UT_ETIMEOUT);
    now = T0 + 1799;
    CHECK_EQ_INT(try_acquire(b, "db", now, &sb), UT_ETIMEOUT);
    /* not renewed again: expired, taken back */
    now = T0 + 1800;
    CHECK_EQ_INT(try_acquire(b, "db", now, &sb), UT_EOK);
    CHECK_EQ_INT(stats(b, "db").reclaimed, 1);
    /* the old holder learns it lost the slot; its release frees nothing */
    CHECK(pl_renew(a, &sa, &e) == -1);
    CHECK_EQ_INT(e.kind, UT_ENOTFOUND);
    CHECK(strstr(e.msg, "'db'") && strstr(e.msg, "lost"));
    pl_release(a, &sa);
    CHECK_EQ_INT(stats(a, "db").slots_used, 1);
    pl_release(b, &sb);
    CHECK_EQ_INT(stats(a, "db").slots_used, 0);
    pl_close(a);
    pl_close(b);
}

/* ---- pauses ------------------------------------------------------------------------ */

TEST(pool_pause_extends_only)
{
    _Atomic int64_t now = T0;
    const char *dir = pdir("pause");
    pl_pools *a = open_pools(dir), *b = open_pools(dir);
    CHECK(a && b);
    pl_set_clock(a, fake_clock, (void *)&now);
    pl_set_clock(b, fake_clock, (void *)&now);
    CHECK(conf(a, "ads", 0, 0, 0, 0) == 0);
    CHECK(conf(b, "ads", 0, 0, 0, 0) == 0);
    ut_error e = {0};
    CHECK(pl_pause(a, "ads", T0 + 500, &e) == 0);
    CHECK(pl_pause(b, "ads", T0 + 200, &e) == 0); /* earlier: changes nothing */
    CHECK_EQ_INT(stats(b, "ads").paused_until_ms, T0 + 500);
    pl_slot s;
    now = T0 + 300;
    CHECK_EQ_INT(try_take(a, "ads", now), UT_ETIMEOUT);
    CHECK_EQ_INT(try_acquire(b, "ads", now, &s), UT_ETIMEOUT);
    /* a deadline before the pause ends: fails at once, without waiting */
    int64_t t0 = real_ms();
    CHECK(pl_take(b, "ads", 1, T0 + 400, NULL, &e) == -1);
    CHECK_EQ_INT(e.kind, UT_ETIMEOUT);
    CHECK(strstr(e.msg, "paused until"));
    CHECK(real_ms() - t0 < 50);
    now = T0 + 500;
    CHECK_EQ_INT(try_take(a, "ads", now), UT_EOK);
    CHECK_EQ_INT(try_acquire(b, "ads", now, &s), UT_EOK);
    pl_close(a);
    pl_close(b);
}

/* Every acquirer, on every handle, blocks until the pause ends. */
TEST(pool_pause_blocks_all)
{
    _Atomic int64_t now = T0;
    const char *dir = pdir("pauseall");
    pl_pools *h[2] = {open_pools(dir), open_pools(dir)};
    CHECK(h[0] && h[1]);
    for (int i = 0; i < 2; i++) {
        pl_set_clock(h[i], fake_clock, (void *)&now);
        CHECK(conf(h[i], "ads", 5, 2, 4, 0) == 0);
    }
    ut_error e = {0};
    CHECK(pl_pause(h[0], "ads", T0 + 1000, &e) == 0);
    waiter w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (waiter){.p = h[i % 2], .pool = "ads", .deadline = PL_NO_DEADLINE};
        pthread_create(&th[i], NULL, wait_thread, &w[i]);
    }
    nap_ms(150);
    now = T0 + 999;
    nap_ms(150);
    for (int i = 0; i < 4; i++) CHECK(!w[i].done);
    /* at its end the bucket holds one token, not the burst */
    now = T0 + 1000;
    nap_ms(250);
    int done = 0;
    for (int i = 0; i < 4; i++) done += w[i].done;
    CHECK_EQ_INT(done, 1);
    now = T0 + 1200;
    nap_ms(250);
    done = 0;
    for (int i = 0; i < 4; i++) done += w[i].done;
    CHECK_EQ_INT(done, 2);
    now = T0 + 1600;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(w[i].rc == 0, "%s", w[i].e.msg);
        pl_release(w[i].p, &w[i].s);
    }
    pl_close(h[0]);
    pl_close(h[1]);
}

/* ---- cancellation ------------------------------------------------------------------- */

TEST(pool_cancel_and_shutdown)
{
    pl_pools *p = open_pools(pdir("cancel"));
    CHECK(p);
    CHECK(conf(p, "db", 0, 0, 1, 0) == 0);
    pl_slot held;
    CHECK_EQ_INT(try_acquire(p, "db", real_ms(), &held), UT_EOK);
    atomic_int flag = 0;
    waiter w1 = {.p = p, .pool = "db", .deadline = PL_NO_DEADLINE, .cancel = &flag};
    waiter w2 = {.p = p, .pool = "db", .deadline = PL_NO_DEADLINE};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, wait_thread, &w1);
    pthread_create(&t2, NULL, wait_thread, &w2);
    nap_ms(120);
    int64_t t0 = real_ms();
    atomic_store(&flag, 1);
    pl_wake(p);
    pthread_join(t1, NULL);
    CHECK_EQ_INT(w1.rc, -1);
    CHECK_EQ_INT(w1.e.kind, UT_ECANCELED);
    CHECK_EQ_STR(ut_errkind_name(w1.e.kind), "cancelled");
    CHECK(w1.done_ms - t0 < 50);
    CHECK(!w2.done);
    pl_shutdown(p);
    pthread_join(t2, NULL);
    CHECK_EQ_INT(w2.e.kind, UT_ECANCELED);
    /* after shutdown: no new waits, but releases and info work */
    pl_slot s;
    CHECK_EQ_INT(try_acquire(p, "db", real_ms(), &s), UT_ECANCELED);
    pl_release(p, &held);
    CHECK_EQ_INT(stats(p, "db").slots_used, 0);
    pl_close(p);
}

TEST(pool_close_ends_waits)
{
    pl_pools *p = open_pools(pdir("close"));
    CHECK(p);
    CHECK(conf(p, "db", 0, 0, 1, 0) == 0);
    pl_slot held;
    CHECK_EQ_INT(try_acquire(p, "db", real_ms(), &held), UT_EOK);
    waiter w = {.p = p, .pool = "db", .deadline = PL_NO_DEADLINE};
    pthread_t t;
    pthread_create(&t, NULL, wait_thread, &w);
    nap_ms(50);
    pl_close(p); /* ends the wait and returns once the waiter is out of p */
    pthread_join(t, NULL);
    CHECK_EQ_INT(w.e.kind, UT_ECANCELED);
    pl_close(NULL);
}

/* ---- bad input ------------------------------------------------------------------------ */

TEST(pool_bad_settings)
{
    pl_pools *p = open_pools(pdir("bad"));
    CHECK(p);
    ut_error e = {0};
    CHECK(pl_configure(p, "a/b", 1, 1, 1, 0, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_configure(p, ".hidden", 1, 1, 1, 0, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_configure(p, "", 1, 1, 1, 0, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_configure(p, "x", -1, 1, 1, 0, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_configure(p, "x", NAN, 1, 1, 0, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_configure(p, "x", 1, -1, 1, 0, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_configure(p, "x", 1, 1, PL_MAX_SLOTS + 1, 0, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(strstr(e.msg, "concurrency"));
    CHECK(pl_configure(p, "x", 1, 1, PL_MAX_SLOTS, 0, &e) == 0);
    pl_slot s;
    CHECK(pl_acquire(p, "nope", "w", PL_NO_DEADLINE, NULL, &s, &e) == -1);
    CHECK_EQ_INT(e.kind, UT_ENOTFOUND);
    CHECK(strstr(e.msg, "'nope'"));
    CHECK(pl_acquire(p, "x", "", PL_NO_DEADLINE, NULL, &s, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_take(p, "x", 0, PL_NO_DEADLINE, NULL, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_take(p, "x", NAN, PL_NO_DEADLINE, NULL, &e) == -1 && e.kind == UT_EINVAL);
    CHECK(pl_pause(p, "nope", real_ms() + 10, &e) == -1 && e.kind == UT_ENOTFOUND);
    /* a holder name longer than the cap is cut, not refused */
    char longname[300];
    memset(longname, 'h', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(pl_acquire(p, "x", longname, PL_NO_DEADLINE, NULL, &s, &e) == 0);
    pl_release(p, &s);
    /* a pause far ahead is cut to PL_MAX_PAUSE_MS */
    int64_t now = real_ms();
    CHECK(pl_pause(p, "x", now + 10 * PL_MAX_PAUSE_MS, &e) == 0);
    CHECK(stats(p, "x").paused_until_ms <= real_ms() + PL_MAX_PAUSE_MS);
    pl_close(p);
}

/* A forked child must open its own handle: its parent's is refused. */
TEST(pool_forked_child_refused)
{
    pl_pools *p = open_pools(pdir("forked"));
    CHECK(p);
    CHECK(conf(p, "db", 0, 0, 1, 0) == 0);
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        ut_error e = {0};
        int rc = pl_take(p, "db", 1, PL_NO_DEADLINE, NULL, &e);
        _exit(rc == -1 && e.kind == UT_EINVAL ? 0 : 1);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    pl_close(p);
}

/* ---- corrupt state files -------------------------------------------------------------- */

typedef struct warn_cap {
    int n;
    char msg[LG_LINE_MAX];
} warn_cap;

static void warn_sink(lg_level level, const char *comp, const char *msg, void *arg)
{
    warn_cap *c = arg;
    if (level == LG_WARN && !strcmp(comp, "pool")) {
        c->n++;
        snprintf(c->msg, sizeof c->msg, "%s", msg);
    }
}

/* Damage kinds for the file. */
enum { D_FLIP, D_SHORT, D_MAGIC, D_NAN, D_GARBAGE, D_COUNT };

static int damage(const char *path, int how)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) return -1;
    uint8_t b[PL__FILE_MAX];
    ssize_t n = pread(fd, b, sizeof b, 0);
    int rc = 0;
    if (n < PL__HDR) rc = -1;
    else if (how == D_FLIP) b[50] ^= 0x40;
    else if (how == D_MAGIC) b[3] = 'X';
    else if (how == D_NAN) { /* well-formed, CRC right, value out of range */
        double v = NAN;
        memcpy(b + 48, &v, 8);
        uint32_t crc = jr_crc32c(0, b + 12, (size_t)n - 12);
        memcpy(b + 8, &crc, 4);
    } else if (how == D_GARBAGE) memset(b, 0xa5, (size_t)n);
    if (!rc && how == D_SHORT) rc = ftruncate(fd, 50);
    else if (!rc && pwrite(fd, b, (size_t)n, 0) != n) rc = -1;
    close(fd);
    return rc;
}

TEST(pool_corrupt_file_reset)
{
    const char *dir = pdir("corrupt");
    char path[600];
    snprintf(path, sizeof path, "%s/api.pool", dir);
    for (int how = 0; how < D_COUNT; how++) {
        pl_pools *p = open_pools(dir);
        CHECK(p);
        CHECK(conf(p, "api", 5, 3, 2, 0) == 0);
        ut_error e = {0};
        CHECK(pl_take(p, "api", 3, PL_NO_DEADLINE, NULL, &e) == 0);
        pl_close(p);
        CHECK_MSG(damage(path, how) == 0, "damage %d", how);
        warn_cap c = {0};
        lg_set_sink(warn_sink, &c);
        p = open_pools(dir);
        CHECK(p);
        pl_stats st = {0};
        int rc = conf(p, "api", 5, 3, 2, 0);
        if (!rc) st = stats(p, "api");
        lg_set_sink(NULL, NULL);
        CHECK(rc == 0);
        CHECK_MSG(c.n == 1, "damage %d: %d warnings", how, c.n);
        CHECK(strstr(c.msg, "'api'") && strstr(c.msg, path) && strstr(c.msg, "reset"));
        CHECK_EQ_INT(st.resets, 1);
        CHECK_MSG(fabs(st.tokens - 3) < 1e-9, "damage %d: %g tokens", how, st.tokens);
        pl_close(p);
        /* written back whole: the next open finds it good */
        c.n = 0;
        lg_set_sink(warn_sink, &c);
        p = open_pools(dir);
        rc = p ? conf(p, "api", 5, 3, 2, 0) : -1;
        st = stats(p, "api");
        lg_set_sink(NULL, NULL);
        CHECK(rc == 0 && c.n == 0 && st.resets == 0);
        struct stat sb;
        CHECK(stat(path, &sb) == 0 && sb.st_size == PL__HDR + 2 * PL__SLOT);
        pl_close(p);
        unlink(path);
    }
}

/* ---- several processes ---------------------------------------------------------------- */

#define MP_CHILDREN 4
#define MP_MS 2000
#define MP_HOLD_MS 300

typedef struct mp_rec {
    int64_t acq, rel; /* after pl_acquire returned, before pl_release (this clock) */
    int64_t granted;  /* the pool's time of the grant (pl_slot.granted_ms) */
} mp_rec;

static void mp_child(const char *dir, int fd, int64_t end)
{
    ut_error e = {0};
    pl_pools *p = pl_open(dir, NULL, 0);
    if (!p || pl_configure(p, "api", 5, 2, 2, 0, &e)) _exit(2);
    while (real_ms() < end) {
        pl_slot s;
        if (pl_acquire(p, "api", "child", end, NULL, &s, &e)) _exit(e.kind == UT_ETIMEOUT ? 0 : 3);
        mp_rec r = {real_ms(), 0, s.granted_ms};
        nap_ms(MP_HOLD_MS);
        r.rel = real_ms();
        pl_release(p, &s);
        if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(4);
    }
    _exit(0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Most slots held at once: +1 at each acquire, -1 at each release, a
 * release sorting first at equal times (the intervals are inside the real
 * leases, so any overlap seen is real). */
static int max_overlap(const mp_rec *r, int n)
{
    int64_t *ev = malloc(sizeof *ev * (size_t)n * 2);
    for (int i = 0; i < n; i++) {
        ev[2 * i] = r[i].acq * 2 + 1;
        ev[2 * i + 1] = r[i].rel * 2;
    }
    qsort(ev, (size_t)n * 2, sizeof *ev, cmp_i64);
    int cur = 0, max = 0;
    for (int i = 0; i < 2 * n; i++) {
        cur += ev[i] & 1 ? 1 : -1;
        if (cur > max) max = cur;
    }
    free(ev);
    return max;
}

TEST(pool_multi_process_rate)
{
    const char *dir = pdir("multi");
    int fds[2];
    CHECK(pipe(fds) == 0);
    int64_t t0 = real_ms(), end = t0 + MP_MS;
    fflush(stdout);
    pid_t kids[MP_CHILDREN];
    for (int i = 0; i < MP_CHILDREN; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            close(fds[0]);
            mp_child(dir, fds[1], end);
        }
    }
    close(fds[1]);
    mp_rec r[256];
    int n = 0;
    ssize_t got;
    while (n < 256 && (got = read(fds[0], &r[n], sizeof r[n])) == (ssize_t)sizeof r[n]) n++;
    close(fds[0]);
    for (int i = 0; i < MP_CHILDREN; i++) {
        int status;
        CHECK(waitpid(kids[i], &status, 0) == kids[i]);
        CHECK_MSG(WIFEXITED(status), "child %d: status %#x", i, status);
        CHECK_MSG(WEXITSTATUS(status) == 0, "child %d exited %d", i, WEXITSTATUS(status));
    }
    /* 5/s for 2 s plus a burst of 2 (+1 for the edges), and at least 60% */
    double most = 5.0 * MP_MS / 1000 + 2;
    CHECK_MSG(n <= most + 1 && n >= 0.6 * most, "%d grants in %d ms", n, MP_MS);
    /* in any second, at most the rate plus the burst */
    int64_t at[256];
    for (int i = 0; i < n; i++) at[i] = r[i].acq;
    qsort(at, (size_t)n, sizeof *at, cmp_i64);
    for (int i = 0, j = 0; i < n; i++) {
        while (at[i] - at[j] >= 1000) j++;
        CHECK_MSG(i - j + 1 <= 5 + 2 + 1, "%d grants within one second", i - j + 1);
    }
    /* exactly as docs/pools.md promises, on the pool's own grant times: in any
     * interval of t s at most burst + rate * t (+ its 1e-9 slack per grant) */
    for (int i = 0; i < n; i++) at[i] = r[i].granted;
    qsort(at, (size_t)n, sizeof *at, cmp_i64);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            CHECK_MSG(j - i + 1 <= 2 + 5.0 * (double)(at[j] - at[i]) / 1000 + 1e-6,
                      "%d grants within %lld ms", j - i + 1, (long long)(at[j] - at[i]));
    CHECK_MSG(max_overlap(r, n) <= 2, "%d slots held at once (cap 2)", max_overlap(r, n));
}

/* The lock: processes that all wake when the next token is due (so they
 * race for it) never take more than the rate allows, nor hold more slots
 * than the cap (counted in shared memory). */
#define EX_CHILDREN 4
#define EX_MS 500
#define EX_RATE 200

typedef struct ex_shared {
    atomic_int held, most, grants;
} ex_shared;

static void ex_child(const char *dir, ex_shared *sh, int64_t end)
{
    ut_error e = {0};
    pl_pools *p = pl_open(dir, NULL, 0);
    if (!p || pl_configure(p, "db", EX_RATE, 1, 2, 0, &e)) _exit(2);
    while (real_ms() < end) {
        pl_slot s;
        if (pl_acquire(p, "db", "child", end, NULL, &s, &e)) _exit(e.kind == UT_ETIMEOUT ? 0 : 3);
        int h = atomic_fetch_add(&sh->held, 1) + 1, m = atomic_load(&sh->most);
        while (h > m && !atomic_compare_exchange_weak(&sh->most, &m, h)) {}
        atomic_fetch_add(&sh->grants, 1);
        for (volatile int k = 0; k < 20000; k++) {}
        atomic_fetch_sub(&sh->held, 1);
        pl_release(p, &s);
    }
    _exit(0);
}

TEST(pool_multi_process_exclusive)
{
    const char *dir = pdir("exclusive");
    ex_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED);
    memset(sh, 0, sizeof *sh);
    int64_t t0 = real_ms(), end = t0 + EX_MS;
    fflush(stdout);
    pid_t kids[EX_CHILDREN];
    for (int i = 0; i < EX_CHILDREN; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) ex_child(dir, sh, end);
    }
    for (int i = 0; i < EX_CHILDREN; i++) {
        int status;
        CHECK(waitpid(kids[i], &status, 0) == kids[i]);
        CHECK_MSG(WIFEXITED(status) && !WEXITSTATUS(status), "child %d: status %#x", i, status);
    }
    int grants = atomic_load(&sh->grants), most = atomic_load(&sh->most);
    double top = (double)EX_RATE * EX_MS / 1000 + 1; /* + the burst */
    CHECK_MSG(grants <= top + 2 && grants >= 0.6 * top, "%d grants in %d ms at %d/s", grants,
              EX_MS, EX_RATE);
    CHECK_MSG(most <= 2, "%d slots held at once (cap 2)", most);
    munmap(sh, sizeof *sh);
}

/* After a reset, a slot taken before it is lost, and releasing it cannot
 * free a slot granted after it (lease ids are not reused). */
TEST(pool_reset_forgets_leases)
{
    _Atomic int64_t now = T0;
    const char *dir = pdir("resetlease");
    char path[600];
    snprintf(path, sizeof path, "%s/db.pool", dir);
    pl_pools *p = open_pools(dir);
    CHECK(p);
    pl_set_clock(p, fake_clock, (void *)&now);
    CHECK(conf(p, "db", 0, 0, 1, 0) == 0);
    pl_slot old, fresh;
    CHECK_EQ_INT(try_acquire(p, "db", now, &old), UT_EOK);
    CHECK(damage(path, D_FLIP) == 0);
    now += 10;
    ut_error e = {0};
    lg_set_sink(warn_sink, &(warn_cap){0});
    int rc = pl_renew(p, &old, &e);
    lg_set_sink(NULL, NULL);
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_INT(e.kind, UT_ENOTFOUND);
    CHECK_EQ_INT(try_acquire(p, "db", now, &fresh), UT_EOK);
    CHECK(fresh.lease != old.lease);
    pl_release(p, &old);
    CHECK_EQ_INT(stats(p, "db").slots_used, 1);
    pl_release(p, &fresh);
    CHECK_EQ_INT(stats(p, "db").slots_used, 0);
    pl_close(p);
}
