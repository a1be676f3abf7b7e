/* Pool internals (pl__ prefix). */
#ifndef SLUICE_POOL_INT_H
#define SLUICE_POOL_INT_H

#include "pool/pool.h"
#include "util/util.h"

#include <pthread.h>
#include <sys/types.h>

#define PL__MAGIC "SLPOOL01" /* 8 bytes */
#define PL__HDR 128          /* header bytes (state.c) */
#define PL__SLOT 192         /* bytes per slot entry */
#define PL__HOST_MAX 63      /* bytes of a host name kept */
#define PL__FILE_MAX (PL__HDR + PL_MAX_SLOTS * PL__SLOT)
#define PL__EPS 1e-9         /* token arithmetic slack (sums of fractions) */

/* One slot entry, decoded. */
typedef struct pl__lease {
    uint64_t id;             /* 0 = free */
    int32_t pid;
    int64_t acquired_ms, expires_ms;
    char host[PL__HOST_MAX + 1];
    char holder[PL_HOLDER_MAX + 1];
} pl__lease;

/* A pool file, decoded.  slots has room for capslots entries. */
typedef struct pl__state {
    double rate, burst;
    int64_t concurrency;
    double tokens;
    int64_t refill_ms;       /* tokens is as of this time (a pause moves it ahead) */
    int64_t paused_until_ms;
    uint64_t next_lease;
    uint32_t nslots, capslots;
    pl__lease *slots;
} pl__state;

/* One pool configured on a handle.  Everything but the name and path is
 * guarded by io. */
typedef struct pl__pool {
    int index;               /* in the handle's pools[] (pl_slot.pool) */
    char name[UT_NAME_MAX + 1];
    char *path;
    int fd;
    pthread_mutex_t io;      /* one thread of the handle at a time on fd:
                                flock does not separate threads sharing it */
    double rate, burst;      /* as configured through this handle */
    int64_t concurrency, lease_ms;
    pl__state st;            /* valid between pl__begin and pl__end */
    int64_t now;             /* the transaction's time */
    int dirty;               /* pl__begin changed the state (reset, reclaim) */
    off_t file_size;         /* size found by pl__load */
    uint8_t *buf;            /* the file's bytes (grown up to PL__FILE_MAX) */
    size_t capbuf;
    pl_stats c;              /* this handle's counters (acquired ... resets) */
} pl__pool;

struct pl_pools {
    char *dir;
    pid_t pid;               /* the process that opened it */
    char host[PL__HOST_MAX + 1];
    pthread_mutex_t mu;      /* pools, npools, closing, active, gen */
    pthread_cond_t cv;       /* waiters sleep here (CLOCK_MONOTONIC) */
    pl__pool *pools[PL_MAX_POOLS];
    int npools;
    int closing;             /* pl_shutdown / pl_close */
    int active;              /* calls in progress (pl_close waits for 0) */
    uint64_t gen;            /* bumped by every wake-up */
    int64_t (*clock)(void *ctx);
    void *clock_ctx;
};

/* ---- bucket.c: the state's rules, no I/O ---------------------------------- */

/* Fresh state: full bucket, no pause, no slot held. */
void pl__state_init(pl__state *s, double rate, double burst, int64_t concurrency, int64_t now);
/* Apply settings: tokens cut to the burst, slots resized (live leases kept). */
void pl__state_set(pl__state *s, double rate, double burst, int64_t concurrency);
/* Make room for n slot entries. */
void pl__state_reserve(pl__state *s, uint32_t n);
void pl__state_free(pl__state *s);

/* Bring tokens up to now (never back in time, never past the burst). */
void pl__refill(pl__state *s, int64_t now);
/* Milliseconds after now until `need` tokens are in the bucket (0 = they
 * are); the pause is not counted. */
int64_t pl__token_wait_ms(const pl__state *s, double need, int64_t now);
/* Take `need` tokens if they are there (1) or not (0).  No rate: always 1. */
int pl__take(pl__state *s, double need);
/* Raise the pause to until_ms (later than now and than the pause in force),
 * freezing the bucket until then with at most one token; 1 if raised. */
int pl__pause(pl__state *s, int64_t until_ms, int64_t now);

/* Live leases. */
uint32_t pl__used(const pl__state *s);
/* Free the leases that expired by now; how many. */
int pl__reclaim_expired(pl__state *s, int64_t now);
/* Free the leases of processes of this host that no longer exist; how many. */
int pl__reclaim_dead(pl__state *s, const char *host);
/* Earliest lease expiry (INT64_MAX if none). */
int64_t pl__next_expiry(const pl__state *s);
/* Hand a free slot to (pid, host, holder) until now + lease_ms: its index,
 * or -1 when the cap is reached. */
int pl__grant(pl__state *s, int64_t now, int64_t lease_ms, int32_t pid, const char *host,
              const char *holder);
/* Index of lease id (hint first), or -1. */
int pl__find(const pl__state *s, uint32_t hint, uint64_t id);

/* ---- state.c: the file ---------------------------------------------------- */

/* Read the file into q->st.  An empty file becomes a fresh state; a corrupt
 * one (bad size, magic, CRC or value) is logged and becomes a fresh state
 * (*reset = 1).  0, or -1 with UT_EIO. */
int pl__load(pl__pool *q, int64_t now, int *reset, ut_error *e);
/* Write q->st back (one pwrite; the file is cut when it shrank). */
int pl__store(pl__pool *q, ut_error *e);

/* ---- pool.c ------------------------------------------------------------- */

int64_t pl__now(const pl_pools *p);
/* Lock q (io, then flock), load and refill its state and free expired
 * leases (q->now = the time).  0, or -1 unlocked. */
int pl__begin(pl_pools *p, pl__pool *q, ut_error *e);
/* Write the state back when dirty (or when pl__begin reset or reclaimed),
 * then unlock.  0, or -1 (unlocked all the same). */
int pl__end(pl__pool *q, int dirty, ut_error *e);
/* Enter a call: the pool called name, or NULL with UT_ENOTFOUND / UT_EINVAL
 * (forked child).  Every successful pl__enter is paired with pl__leave. */
pl__pool *pl__enter(pl_pools *p, const char *name, ut_error *e);
void pl__leave(pl_pools *p);
/* Wake every waiter of the handle. */
void pl__broadcast(pl_pools *p);

/* Test hook: pretend to run on another host (leases then are not checked by
 * pid: another host's process cannot be asked). */
void pl__set_host(pl_pools *p, const char *host);

#endif
