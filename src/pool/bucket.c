/* The rules of a pool's state, without I/O: the token bucket, the pause and
 * the slot leases.  pool.c runs them on the state loaded from the file under
 * its lock.
 *
 * Bucket: `tokens` is the content at time refill_ms; at time t >= refill_ms
 * it holds min(burst, tokens + (t - refill_ms) * rate / 1000).  A time before
 * refill_ms (a pause moves refill_ms to its end; another process's clock may
 * be a little behind) adds nothing and never moves refill_ms back.
 *
 * Slots: an array of nslots entries (nslots >= concurrency, so that a free
 * entry exists while fewer than `concurrency` are held); a lease is free when
 * its id is 0.  Shrinking the cap keeps every live lease: the array is
 * compacted and stays as long as needed. */
#include "pool/pl_int.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void pl__state_reserve(pl__state *s, uint32_t n)
{
    assert(n <= PL_MAX_SLOTS);
    if (n <= s->capslots) return;
    uint32_t c = s->capslots ? s->capslots : 16;
    while (c < n) c *= 2;
    if (c > PL_MAX_SLOTS) c = PL_MAX_SLOTS;
    s->slots = ut_realloc(s->slots, c * sizeof *s->slots);
    memset(s->slots + s->capslots, 0, (c - s->capslots) * sizeof *s->slots);
    s->capslots = c;
}

void pl__state_free(pl__state *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}

void pl__state_init(pl__state *s, double rate, double burst, int64_t concurrency, int64_t now)
{
    assert(concurrency >= 0 && concurrency <= PL_MAX_SLOTS);
    pl__state_reserve(s, (uint32_t)concurrency);
    s->rate = rate;
    s->burst = burst;
    s->concurrency = concurrency;
    s->tokens = burst;
    s->refill_ms = now;
    s->paused_until_ms = 0;
    /* ids from the time, so that a slot taken before a reset cannot match a
     * lease granted after it */
    s->next_lease = now > 0 ? (uint64_t)now << 20 : 1;
    s->nslots = (uint32_t)concurrency;
    if (s->slots) memset(s->slots, 0, s->capslots * sizeof *s->slots);
}

/* Move the live leases to the front; how many there are. */
static uint32_t compact(pl__state *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nslots; i++)
        if (s->slots[i].id) s->slots[n++] = s->slots[i];
    if (n < s->nslots) memset(s->slots + n, 0, (s->nslots - n) * sizeof *s->slots);
    return n;
}

void pl__state_set(pl__state *s, double rate, double burst, int64_t concurrency)
{
    assert(concurrency >= 0 && concurrency <= PL_MAX_SLOTS);
    s->rate = rate;
    s->burst = burst;
    if (s->tokens > burst) s->tokens = burst;
    s->concurrency = concurrency;
    uint32_t want = (uint32_t)concurrency;
    if (want < s->nslots) {
        uint32_t live = compact(s);
        if (want < live) want = live;
    }
    pl__state_reserve(s, want);
    if (want > s->nslots)
        memset(s->slots + s->nslots, 0, (want - s->nslots) * sizeof *s->slots);
    s->nslots = want;
}

/* ---- bucket ----------------------------------------------------------------- */

void pl__refill(pl__state *s, int64_t now)
{
    if (s->rate <= 0) {
        s->tokens = s->burst;
        return;
    }
    if (now <= s->refill_ms) return;
    double t = s->tokens + (double)(now - s->refill_ms) * s->rate / 1000.0;
    s->tokens = t < s->burst ? t : s->burst;
    s->refill_ms = now;
}

int64_t pl__token_wait_ms(const pl__state *s, double need, int64_t now)
{
    if (s->rate <= 0 || s->tokens + PL__EPS >= need) return 0;
    double ms = ceil((need - s->tokens) * 1000.0 / s->rate);
    int64_t w = ms < 1 ? 1 : ms > 1e12 ? (int64_t)1e12 : (int64_t)ms;
    return w + (s->refill_ms > now ? s->refill_ms - now : 0);
}

int pl__take(pl__state *s, double need)
{
    if (s->rate <= 0) return 1;
    if (s->tokens + PL__EPS < need) return 0;
    s->tokens -= need;
    if (s->tokens < 0) s->tokens = 0; /* the slack */
    return 1;
}

int pl__pause(pl__state *s, int64_t until_ms, int64_t now)
{
    if (until_ms <= now || until_ms <= s->paused_until_ms) return 0;
    s->paused_until_ms = until_ms;
    if (s->tokens > 1) s->tokens = 1;
    if (s->rate > 0 && s->refill_ms < until_ms) s->refill_ms = until_ms;
    return 1;
}

/* ---- slots ------------------------------------------------------------------ */

uint32_t pl__used(const pl__state *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nslots; i++) n += s->slots[i].id != 0;
    return n;
}

int pl__reclaim_expired(pl__state *s, int64_t now)
{
    int n = 0;
    for (uint32_t i = 0; i < s->nslots; i++) {
        pl__lease *l = &s->slots[i];
        if (l->id && now >= l->expires_ms) {
            memset(l, 0, sizeof *l);
            n++;
        }
    }
    return n;
}

int pl__reclaim_dead(pl__state *s, const char *host)
{
    int n = 0;
    for (uint32_t i = 0; i < s->nslots; i++) {
        pl__lease *l = &s->slots[i];
        if (!l->id || strcmp(l->host, host)) continue;
        /* pid > 0 is checked when the file is loaded: kill(0 or -1) would
         * signal a whole group */
        assert(l->pid > 0);
        if (kill((pid_t)l->pid, 0) == 0 || errno != ESRCH) continue;
        memset(l, 0, sizeof *l);
        n++;
    }
    return n;
}

int64_t pl__next_expiry(const pl__state *s)
{
    int64_t t = INT64_MAX;
    for (uint32_t i = 0; i < s->nslots; i++)
        if (s->slots[i].id && s->slots[i].expires_ms < t) t = s->slots[i].expires_ms;
    return t;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    memset(dst + n, 0, cap - n);
}

int pl__grant(pl__state *s, int64_t now, int64_t lease_ms, int32_t pid, const char *host,
              const char *holder)
{
    assert(s->concurrency > 0 && s->nslots >= (uint32_t)s->concurrency);
    if (pl__used(s) >= (uint32_t)s->concurrency) return -1;
    for (uint32_t i = 0; i < s->nslots; i++) {
        pl__lease *l = &s->slots[i];
        if (l->id) continue;
        l->id = s->next_lease++;
        l->pid = pid;
        l->acquired_ms = now;
        l->expires_ms = now + lease_ms;
        copy_name(l->host, sizeof l->host, host);
        copy_name(l->holder, sizeof l->holder, holder);
        return (int)i;
    }
    assert(!"no free slot entry below the cap");
    return -1;
}

int pl__find(const pl__state *s, uint32_t hint, uint64_t id)
{
    if (!id) return -1;
    if (hint < s->nslots && s->slots[hint].id == id) return (int)hint;
    for (uint32_t i = 0; i < s->nslots; i++)
        if (s->slots[i].id == id) return (int)i;
    return -1;
}
