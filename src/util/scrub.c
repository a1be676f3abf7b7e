/* util: secrets cut from a byte stream (a raw API response on its way to the
 * store), as ut_redact cuts them from a message.
 *
 *   feed(p, n) ──► buf = carry + up to SCRUB_PIECE new bytes
 *              ──► scan: a position whose two bytes start some needle (a
 *                  65536-bit table of first bigrams) is compared with each
 *                  needle; the longest there is replaced by repl
 *              ──► bytes before the last (longest needle - 1) are final and
 *                  go out; those are the next carry (a needle may straddle
 *                  two feeds)
 *   end()      ──► the carry scanned to its end and sent
 *
 * One pass over the bytes, one copy; memory: one piece, whatever the
 * stream's length.  Needles are at least UT_SCRUB_MIN bytes (shorter ones
 * are ignored: they would cut ordinary text), at most UT_SCRUB_MAX_LEN. */
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRUB_PIECE (64 * 1024)

struct ut_scrub {
    char *needle[UT_SCRUB_MAX];
    size_t nlen[UT_SCRUB_MAX];
    int n;
    size_t maxlen;
    char repl[64];
    size_t repl_len;
    uint8_t first[65536 / 8]; /* bigrams that start a needle */
    char *buf;                /* carry + piece */
    size_t len;
    uint64_t cuts;
};

ut_scrub *ut_scrub_create(const char *repl)
{
    ut_scrub *s = ut_calloc(1, sizeof *s);
    snprintf(s->repl, sizeof s->repl, "%s", repl ? repl : "");
    s->repl_len = strlen(s->repl);
    return s;
}

int ut_scrub_add(ut_scrub *s, const void *needle, size_t n)
{
    if (n < UT_SCRUB_MIN || n > UT_SCRUB_MAX_LEN) return 0;
    for (int i = 0; i < s->n; i++)
        if (s->nlen[i] == n && !memcmp(s->needle[i], needle, n)) return 0;
    if (s->n == UT_SCRUB_MAX) return -1;
    assert(!s->buf); /* needles come before the first byte */
    s->needle[s->n] = ut_malloc(n);
    memcpy(s->needle[s->n], needle, n);
    s->nlen[s->n++] = n;
    if (n > s->maxlen) s->maxlen = n;
    const uint8_t *b = needle;
    unsigned k = (unsigned)b[0] << 8 | b[1];
    s->first[k >> 3] |= (uint8_t)(1u << (k & 7));
    return 0;
}

int ut_scrub_count(const ut_scrub *s) { return s ? s->n : 0; }
uint64_t ut_scrub_cuts(const ut_scrub *s) { return s ? s->cuts : 0; }

/* The longest needle at p (avail bytes there), or 0. */
static size_t match_at(const ut_scrub *s, const char *p, size_t avail)
{
    size_t best = 0;
    for (int i = 0; i < s->n; i++)
        if (s->nlen[i] <= avail && s->nlen[i] > best && !memcmp(p, s->needle[i], s->nlen[i]))
            best = s->nlen[i];
    return best;
}

/* Scan buf; send what is final (all at the end), keep the rest.  0 / -1. */
static int scan(ut_scrub *s, int end, ut_scrub_out out, void *ctx)
{
    size_t safe = end ? s->len : s->len > s->maxlen - 1 ? s->len - (s->maxlen - 1) : 0;
    size_t from = 0, i = 0;
    const uint8_t *b = (const uint8_t *)s->buf;
    while (i < safe) {
        size_t m = 0;
        if (i + 1 < s->len) {
            unsigned k = (unsigned)b[i] << 8 | b[i + 1];
            if (s->first[k >> 3] & (1u << (k & 7))) m = match_at(s, s->buf + i, s->len - i);
        }
        if (!m) {
            i++;
            continue;
        }
        if (i > from && out(ctx, s->buf + from, i - from)) return -1;
        if (s->repl_len && out(ctx, s->repl, s->repl_len)) return -1;
        s->cuts++;
        i += m, from = i;
    }
    if (i > from && out(ctx, s->buf + from, i - from)) return -1;
    memmove(s->buf, s->buf + i, s->len - i);
    s->len -= i;
    return 0;
}

int ut_scrub_feed(ut_scrub *s, const void *p, size_t n, ut_scrub_out out, void *ctx)
{
    if (!s->n) return n ? out(ctx, p, n) : 0;
    if (!s->buf) s->buf = ut_malloc(SCRUB_PIECE + s->maxlen);
    const char *c = p;
    while (n) {
        size_t k = n < SCRUB_PIECE ? n : SCRUB_PIECE;
        assert(s->len < s->maxlen);
        memcpy(s->buf + s->len, c, k);
        s->len += k, c += k, n -= k;
        if (scan(s, 0, out, ctx)) return -1;
    }
    return 0;
}

int ut_scrub_end(ut_scrub *s, ut_scrub_out out, void *ctx)
{
    if (!s->n || !s->len) return 0;
    return scan(s, 1, out, ctx);
}

void ut_scrub_destroy(ut_scrub *s)
{
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        memset(s->needle[i], 0, s->nlen[i]);
        free(s->needle[i]);
    }
    if (s->buf) memset(s->buf, 0, SCRUB_PIECE + s->maxlen);
    free(s->buf);
    free(s);
}
