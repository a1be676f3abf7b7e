/* Pool state files: one fixed-size record per pool, read and written whole
 * under flock(LOCK_EX) (pool.c holds the lock around pl__load .. pl__store).
 *
 *   <dir>/<name>.pool              little-endian (as the host: x86-64, arm64)
 *   +-----+--------------+------+----------------------------------------------+
 *   | off | field        | type |                                              |
 *   +-----+--------------+------+----------------------------------------------+
 *   |   0 | magic        | 8    | "SLPOOL01"                                   |
 *   |   8 | crc          | u32  | CRC-32C of bytes [12, size)                  |
 *   |  12 | size         | u32  | bytes in the file = 128 + nslots * 192       |
 *   |  16 | nslots       | u32  | slot entries (>= concurrency, <= 1024)       |
 *   |  20 | flags        | u32  | 0                                            |
 *   |  24 | rate         | f64  | tokens per second; 0 = no rate limit         |
 *   |  32 | burst        | f64  | bucket size, tokens                          |
 *   |  40 | concurrency  | i64  | slots held at once; 0 = no cap               |
 *   |  48 | tokens       | f64  | tokens in the bucket at refill_ms            |
 *   |  56 | refill_ms    | i64  | when tokens was last brought up to date      |
 *   |  64 | paused_until | i64  | no token is taken before (ms); 0 = none      |
 *   |  72 | next_lease   | u64  | id of the next lease (never reused)          |
 *   |  80 | reserved     | 48   | 0                                            |
 *   | 128 | slot[nslots] |      | 192 bytes each:                              |
 *   +-----+--------------+------+----------------------------------------------+
 *   |  +0 | lease        | u64  | lease id; 0 = the entry is free              |
 *   |  +8 | pid          | i32  | process holding it (> 0)                     |
 *   | +12 | reserved     | u32  | 0                                            |
 *   | +16 | acquired_ms  | i64  | when it was acquired                         |
 *   | +24 | expires_ms   | i64  | lease end; pl_renew moves it                 |
 *   | +32 | host         | 64   | the holder's host name, NUL-padded           |
 *   | +96 | holder       | 96   | the holder's name, NUL-padded                |
 *   +-----+--------------+------+----------------------------------------------+
 *   Times are ms of CLOCK_REALTIME.
 *
 * Nothing is fsync'ed: the state only matters to running processes, and a
 * crash of the machine ends them all.  Each write is one pwrite of the whole
 * record; one cut short (a process killed in the middle of a large write, a
 * full disk) fails the CRC.  An empty file (created, never written) is a new
 * pool.  Anything else that fails a check (size, magic, CRC, a value out of
 * range) is corrupt: logged as a warning and replaced by a full bucket with
 * the handle's settings, no pause and no slot held (the next store writes
 * it; holders of the lost leases learn it from pl_renew).
 */
#include "pool/pl_int.h"

#include "journal/journal.h"
#include "log/log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void putf(uint8_t *p, double v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static int64_t geti(const uint8_t *p) { return (int64_t)get64(p); }
static double getf(const uint8_t *p) { double v; memcpy(&v, p, 8); return v; }

static void grow_buf(pl__pool *q, size_t n)
{
    if (n <= q->capbuf) return;
    q->buf = ut_realloc(q->buf, n);
    q->capbuf = n;
}

static size_t file_bytes(uint32_t nslots)
{
    return PL__HDR + (size_t)nslots * PL__SLOT;
}

/* ---- decoding ----------------------------------------------------------------- */

static const char *check_header(const uint8_t *b, size_t n, uint32_t *nslots)
{
    if (n < PL__HDR || n > PL__FILE_MAX) return "its size is not a pool file's";
    if (memcmp(b, PL__MAGIC, 8)) return "bad magic";
    *nslots = get32(b + 16);
    if (get32(b + 12) != n || *nslots > PL_MAX_SLOTS || file_bytes(*nslots) != n)
        return "its size does not match its header";
    if (get32(b + 8) != jr_crc32c(0, b + 12, n - 12)) return "CRC mismatch";
    return NULL;
}

static const char *decode_settings(const uint8_t *b, uint32_t nslots, pl__state *s)
{
    s->rate = getf(b + 24);
    s->burst = getf(b + 32);
    s->concurrency = geti(b + 40);
    s->tokens = getf(b + 48);
    s->refill_ms = geti(b + 56);
    s->paused_until_ms = geti(b + 64);
    s->next_lease = get64(b + 72);
    if (!isfinite(s->rate) || s->rate < 0 || s->rate > PL_MAX_RATE) return "bad rate";
    if (!isfinite(s->burst) || s->burst <= 0 || s->burst > PL_MAX_BURST) return "bad burst";
    if (s->concurrency < 0 || s->concurrency > (int64_t)nslots) return "bad concurrency";
    if (!isfinite(s->tokens) || s->tokens < 0 || s->tokens > s->burst) return "bad tokens";
    if (s->paused_until_ms < 0 || s->next_lease < 1) return "bad pause or lease counter";
    return NULL;
}

static void take_name(char *dst, size_t cap, const uint8_t *src)
{
    memcpy(dst, src, cap - 1);
    dst[cap - 1] = 0;
}

static const char *decode_slots(const uint8_t *b, uint32_t nslots, pl__state *s)
{
    pl__state_reserve(s, nslots);
    s->nslots = nslots;
    for (uint32_t i = 0; i < nslots; i++) {
        const uint8_t *p = b + PL__HDR + (size_t)i * PL__SLOT;
        pl__lease *l = &s->slots[i];
        memset(l, 0, sizeof *l);
        l->id = get64(p);
        if (!l->id) continue;
        l->pid = (int32_t)get32(p + 8);
        l->acquired_ms = geti(p + 16);
        l->expires_ms = geti(p + 24);
        take_name(l->host, sizeof l->host, p + 32);
        take_name(l->holder, sizeof l->holder, p + 96);
        if (l->id >= s->next_lease || l->pid <= 0) return "bad slot entry";
    }
    return NULL;
}

/* ---- encoding ----------------------------------------------------------------- */

static size_t encode(pl__pool *q)
{
    const pl__state *s = &q->st;
    size_t n = file_bytes(s->nslots);
    grow_buf(q, n);
    uint8_t *b = q->buf;
    memset(b, 0, n);
    memcpy(b, PL__MAGIC, 8);
    put32(b + 12, (uint32_t)n);
    put32(b + 16, s->nslots);
    putf(b + 24, s->rate);
    putf(b + 32, s->burst);
    put64(b + 40, (uint64_t)s->concurrency);
    putf(b + 48, s->tokens);
    put64(b + 56, (uint64_t)s->refill_ms);
    put64(b + 64, (uint64_t)s->paused_until_ms);
    put64(b + 72, s->next_lease);
    for (uint32_t i = 0; i < s->nslots; i++) {
        const pl__lease *l = &s->slots[i];
        uint8_t *p = b + PL__HDR + (size_t)i * PL__SLOT;
        if (!l->id) continue;
        put64(p, l->id);
        put32(p + 8, (uint32_t)l->pid);
        put64(p + 16, (uint64_t)l->acquired_ms);
        put64(p + 24, (uint64_t)l->expires_ms);
        memcpy(p + 32, l->host, strnlen(l->host, 63));
        memcpy(p + 96, l->holder, strnlen(l->holder, PL_HOLDER_MAX));
    }
    put32(b + 8, jr_crc32c(0, b + 12, n - 12));
    return n;
}

/* ---- I/O ------------------------------------------------------------------------ */

static int read_all(int fd, uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static void reset(pl__pool *q, int64_t now, const char *why, int *was_reset)
{
    lg_warn("pool", "pool '%s': %s: %s; reset to a full bucket with no pause and no slot held",
            q->name, q->path, why);
    pl__state_init(&q->st, q->rate, q->burst, q->concurrency, now);
    q->c.resets++;
    *was_reset = 1;
}

int pl__load(pl__pool *q, int64_t now, int *was_reset, ut_error *e)
{
    struct stat st;
    *was_reset = 0;
    if (fstat(q->fd, &st))
        return ut_fail(e, UT_EIO, "pool '%s': %s: %s", q->name, q->path, strerror(errno));
    q->file_size = st.st_size;
    if (st.st_size == 0) {
        pl__state_init(&q->st, q->rate, q->burst, q->concurrency, now);
        *was_reset = 1; /* write it, without a warning */
        return 0;
    }
    if (st.st_size < PL__HDR || st.st_size > PL__FILE_MAX) {
        reset(q, now, "its size is not a pool file's", was_reset);
        return 0;
    }
    size_t n = (size_t)st.st_size;
    grow_buf(q, n);
    if (read_all(q->fd, q->buf, n))
        return ut_fail(e, UT_EIO, "pool '%s': %s: read: %s", q->name, q->path,
                       errno ? strerror(errno) : "short read");
    uint32_t nslots = 0;
    const char *why = check_header(q->buf, n, &nslots);
    if (!why) why = decode_settings(q->buf, nslots, &q->st);
    if (!why) why = decode_slots(q->buf, nslots, &q->st);
    if (why) reset(q, now, why, was_reset);
    return 0;
}

int pl__store(pl__pool *q, ut_error *e)
{
    size_t n = encode(q), put = 0;
    while (put < n) {
        ssize_t w = pwrite(q->fd, q->buf + put, n - put, (off_t)put);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return ut_fail(e, errno == ENOSPC ? UT_ENOSPACE : UT_EIO, "pool '%s': %s: write: %s",
                           q->name, q->path, w < 0 ? strerror(errno) : "short write");
        put += (size_t)w;
    }
    if ((off_t)n < q->file_size && ftruncate(q->fd, (off_t)n))
        return ut_fail(e, UT_EIO, "pool '%s': %s: truncate: %s", q->name, q->path,
                       strerror(errno));
    q->file_size = (off_t)n;
    return 0;
}
