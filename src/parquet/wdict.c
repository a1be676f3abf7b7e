/* Dictionary for the writer: distinct values -> dense indices (xxHash3,
 * open addressing with linear probing, load factor <= 1/2). */
#include "parquet/writer_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void pq__dict_init(pq__dict *d, int width)
{
    memset(d, 0, sizeof *d);
    d->width = width;
}

void pq__dict_reset(pq__dict *d)
{
    d->n = 0;
    ut_buf_reset(&d->plain);
    if (d->slots) memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
}

void pq__dict_free(pq__dict *d)
{
    ut_buf_free(&d->plain);
    free(d->pos);
    free(d->slots);
    free(d->hashes);
    memset(d, 0, sizeof *d);
}

const uint8_t *pq__dict_get(const pq__dict *d, uint32_t i, size_t *n)
{
    if (d->width) {
        *n = (size_t)d->width;
        return d->plain.p + (size_t)i * (size_t)d->width;
    }
    const uint8_t *p = d->plain.p + d->pos[i];
    uint32_t len;
    memcpy(&len, p, 4);
    *n = len;
    return p + 4;
}

static void grow(pq__dict *d)
{
    uint32_t nslots = d->slots ? (d->mask + 1) * 2 : 1024;
    free(d->slots);
    d->slots = ut_calloc(nslots, sizeof *d->slots);
    d->mask = nslots - 1;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t s = (uint32_t)d->hashes[i] & d->mask;
        while (d->slots[s]) s = (s + 1) & d->mask;
        d->slots[s] = (d->hashes[i] >> 32 << 32) | (i + 1);
    }
}

uint32_t pq__dict_put(pq__dict *d, const void *p, size_t n, int *added)
{
    uint64_t h = XXH3_64bits(p, n);
    if (!d->slots || (d->n + 1) * 2 > d->mask + 1) grow(d);
    uint32_t s = (uint32_t)h & d->mask;
    uint64_t tag = h >> 32 << 32;
    for (;;) {
        uint64_t slot = d->slots[s];
        if (!slot) break;
        if ((slot >> 32 << 32) == tag) {
            uint32_t e = (uint32_t)slot;
            size_t en;
            const uint8_t *ep = pq__dict_get(d, e - 1, &en);
            if (en == n && !memcmp(ep, p, n)) {
                *added = 0;
                return e - 1;
            }
        }
        s = (s + 1) & d->mask;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->hashes = ut_realloc(d->hashes, (size_t)d->cap * sizeof *d->hashes);
        if (!d->width) d->pos = ut_realloc(d->pos, (size_t)d->cap * sizeof *d->pos);
    }
    uint32_t idx = d->n++;
    d->hashes[idx] = h;
    if (!d->width) {
        d->pos[idx] = d->plain.len;
        ut_buf_put_le32(&d->plain, (uint32_t)n);
    }
    ut_buf_put(&d->plain, p, n);
    d->slots[s] = tag | (idx + 1);
    *added = 1;
    return idx;
}

void pq__dict_pop(pq__dict *d)
{
    if (!d->n) return;
    uint32_t idx = d->n - 1;
    /* The newest entry is the last one any probe sequence reached, so its
     * slot can simply be cleared. */
    uint32_t s = (uint32_t)d->hashes[idx] & d->mask;
    while ((uint32_t)d->slots[s] != idx + 1) s = (s + 1) & d->mask;
    d->slots[s] = 0;
    d->plain.len = d->width ? (size_t)idx * (size_t)d->width : d->pos[idx];
    d->n--;
}
