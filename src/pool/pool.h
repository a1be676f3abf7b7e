/* pool — shared rate limits and concurrency caps on an outside resource.
 *
 * Prefix: pl_.  Cross-file internals: pl__ (pl_int.h).  docs/pools.md.
 *
 * A pool stands for something outside that must not be overrun (an ad API, a
 * database): a token bucket (rate, burst), a cap on the tasks using it at
 * once (concurrency) and a pause (a 429 with Retry-After).  It is shared by
 * every thread of every process that opens the same directory, with no
 * server: the whole state of a pool is one small file, read, changed and
 * written back under flock(LOCK_EX) by every call.
 *
 *   <data_dir>/jobs/pools/<name>.pool     fixed-size record (state.c draws it)
 *
 * pl_acquire waits for a concurrency slot and one token; pl_take waits for
 * tokens alone (a task holding a slot takes one per API call); pl_pause stops
 * every taker of the pool, in every process, until a time.
 *
 * A slot is a lease held by (host, pid, holder) until pl_release.  The holder
 * renews it with pl_renew (the worker's heartbeat); any caller takes a slot
 * back when its lease has expired, or when its holder's process is gone (same
 * host name and kill(pid, 0) fails with ESRCH), so a worker killed with -9
 * never keeps a slot for longer than it takes the next acquirer to look.
 *
 * Waiting sleeps until the next token is due or the pause ends, at most
 * PL_POLL_MS at a time so that releases and pauses by other processes are
 * seen; a release through the same handle wakes its waiters at once.  There
 * is no queue: waiters are not served in arrival order.
 *
 * Times are milliseconds of CLOCK_REALTIME, so that processes agree;
 * deadlines are absolute times on that clock.
 *
 * Thread safety: every function may be called from any thread.  A handle
 * belongs to the process that opened it: a forked child opens its own (a
 * child sharing the parent's descriptors would share its flock locks); calls
 * through a parent's handle in a child fail.
 */
#ifndef SLUICE_POOL_H
#define SLUICE_POOL_H

#include "util/util.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PL_MAX_SLOTS 1024          /* highest concurrency cap */
#define PL_MAX_POOLS 256           /* pools configured on one handle */
#define PL_MAX_RATE 1e9            /* tokens per second */
#define PL_MAX_BURST 1e9           /* tokens */
#define PL_HOLDER_MAX 95           /* bytes of a holder name kept (longer ones are cut) */
#define PL_POLL_MS 100             /* longest sleep between two looks at the file */
#define PL_MAX_PAUSE_MS (24 * 3600 * 1000LL) /* pl_pause never reaches further ahead */
#define PL_DEFAULT_LEASE_MS 60000
#define PL_MAX_LEASE_MS (24 * 3600 * 1000LL)
#define PL_NO_DEADLINE (-1)

typedef struct pl_pools pl_pools;

/* Open (creating if needed) the pools directory `dir`, normally
 * <data_dir>/jobs/pools.  Returns NULL with a message naming the directory
 * on failure. */
pl_pools *pl_open(const char *dir, char *err, size_t errlen);
/* End every wait of the handle (UT_ECANCELED), wait for the calls in
 * progress to return, close and free.  No call may start once it is called.
 * Slots still held are not released: they are reclaimed when their lease
 * expires (or at once, by others, when the process exits).  Accepts NULL. */
void pl_close(pl_pools *p);
/* End every wait of the handle now and refuse new ones (UT_ECANCELED);
 * pl_release, pl_renew, pl_pause and pl_info keep working.  For shutdown:
 * call it, join the workers, then pl_close. */
void pl_shutdown(pl_pools *p);
/* Wake every wait of the handle to look again at once (after setting the
 * cancel flag of one of them). */
void pl_wake(pl_pools *p);

/* Declare pool `name` (1-64 of A-Z a-z 0-9 _ . -, not starting with . or -)
 * on this handle, or change its settings, and write them into its file: the
 * last pl_configure of any process sets them for all (every process should
 * configure the same values, from the same config).
 *   rate_per_s   tokens per second; 0 = no rate limit (at most PL_MAX_RATE)
 *   burst        bucket size; 0 = max(1, rate_per_s) (at most PL_MAX_BURST)
 *   concurrency  slots held at once; 0 = no cap (at most PL_MAX_SLOTS)
 *   lease_ms     how long a slot acquired through this handle stays held
 *                without pl_renew; 0 = PL_DEFAULT_LEASE_MS (at most
 *                PL_MAX_LEASE_MS).  Renew well within it.
 * A smaller burst cuts the tokens in the bucket down to it; a smaller
 * concurrency takes effect as slots are released (none is taken away).
 * Returns 0, or -1 with UT_EINVAL (a bad name or value, too many pools) or
 * UT_EIO (the file). */
int pl_configure(pl_pools *p, const char *name, double rate_per_s, int64_t burst,
                 int64_t concurrency, int64_t lease_ms, ut_error *e);

/* A slot held by a task.  Zero-initialised = none.  pool, index and lease
 * are the module's: copy the struct, do not interpret them. */
typedef struct pl_slot {
    int32_t pool;       /* index of the pool in the handle */
    uint32_t index;     /* slot entry in the file (a hint) */
    uint64_t lease;     /* lease id, unique in the pool's file; 0 = no slot */
    int64_t granted_ms; /* when pl_acquire took the token (and slot): ms of the pool's
                           clock, the time its bucket was computed at (for logs) */
} pl_slot;

/* Wait until pool `name` has a free slot (when it has a concurrency cap),
 * one token (when it has a rate) and no pause, and take both at once; *out
 * is the slot (its lease is 0 when the pool has no cap: pl_release and
 * pl_renew then do nothing), its granted_ms when they were taken.  `holder`
 * names the worker for people, e.g. "host:pid:thread" (cut to PL_HOLDER_MAX
 * bytes).  Waits until deadline_ms (absolute; PL_NO_DEADLINE = no limit; a
 * deadline already passed means one try), or until *cancel is non-zero
 * (cancel may be NULL; it is looked at after every sleep, pl_wake makes
 * that at once).  Returns 0, or -1 with
 * UT_ETIMEOUT (deadline passed; at once when a pause lasts past the
 * deadline), UT_ECANCELED (*cancel, pl_shutdown, pl_close), UT_ENOTFOUND
 * (pool not configured on this handle), UT_EINVAL, UT_EIO. */
int pl_acquire(pl_pools *p, const char *name, const char *holder, int64_t deadline_ms,
               const atomic_int *cancel, pl_slot *out, ut_error *e);

/* Wait the same way for `tokens` tokens (> 0, at most the burst: UT_EINVAL
 * otherwise) and take them, without a slot.  A pool without a rate only
 * waits for its pause to end. */
int pl_take(pl_pools *p, const char *name, double tokens, int64_t deadline_ms,
            const atomic_int *cancel, ut_error *e);

/* Free the slot (and zero *s).  A slot already reclaimed by someone else, a
 * zeroed one and s == NULL are ignored. */
void pl_release(pl_pools *p, pl_slot *s);

/* Extend the slot's lease to now + the pool's lease_ms.  Returns 0 (also for
 * a slot with lease 0), or -1 with UT_ENOTFOUND when the lease was lost (it
 * expired before this renewal, or the state file was reset: the task no
 * longer counts against the cap), UT_EIO. */
int pl_renew(pl_pools *p, const pl_slot *s, ut_error *e);

/* Pause the pool until until_ms (absolute; at most PL_MAX_PAUSE_MS ahead):
 * every pl_acquire and pl_take of it, in every process, waits until then.
 * Pauses only extend: an earlier time than the pause in force changes
 * nothing.  The bucket does not fill during a pause and holds at most one
 * token when it ends, so the resource is not hit by a burst right after a
 * 429.  Returns 0, or -1 (UT_ENOTFOUND, UT_EIO). */
int pl_pause(pl_pools *p, const char *name, int64_t until_ms, ut_error *e);

/* For /metrics. */
typedef struct pl_stats {
    /* the pool, as its file says now (every process) */
    double rate, burst;        /* in effect */
    int64_t concurrency;       /* in effect; 0 = no cap */
    double tokens;             /* available now (burst when there is no rate) */
    int64_t slots_used;        /* live leases (expired or dead holders not counted) */
    int64_t paused_until_ms;   /* 0 = never paused; in the past = not paused now */
    /* this handle, since pl_open */
    uint64_t acquired;         /* slots (or grants, uncapped) by pl_acquire */
    double taken;              /* tokens taken by pl_acquire and pl_take */
    uint64_t waits;            /* pl_acquire / pl_take calls that had to wait */
    uint64_t wait_ms;          /* the time they waited, in total */
    uint64_t timeouts;         /* calls that ended with UT_ETIMEOUT */
    uint64_t reclaimed;        /* leases of dead or expired holders taken back */
    uint64_t resets;           /* corrupt state files found and reset */
} pl_stats;

/* Fill *out for pool `name` configured on this handle.  Returns 0, or -1
 * (UT_ENOTFOUND, UT_EIO). */
int pl_info(pl_pools *p, const char *name, pl_stats *out, ut_error *e);

/* Test hook: use now_ms(ctx) instead of CLOCK_REALTIME on this handle (NULL
 * restores the real clock).  Sleeps stay real (at most PL_POLL_MS each). */
void pl_set_clock(pl_pools *p, int64_t (*now_ms)(void *ctx), void *ctx);

#endif
