/* Byte-string keys to dense indices (group keys, count(DISTINCT) values) and
 * the encoding of values into such keys: equal as SQLite compares them
 * (BINARY) <=> equal bytes, for values of one column's class. */
#include "sql/agg_keys.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct sqa_keys {
    ut_buf arena;
    uint64_t *off; /* key i: arena[off[i] .. off[i + 1]) */
    uint32_t *slot; /* open addressing: index + 1, 0 empty */
    uint64_t *hash;
    int64_t n, cap, nslot;
};

sqa_keys *sqa_keys_create(void)
{
    sqa_keys *k = ut_calloc(1, sizeof *k);
    k->nslot = 16;
    k->slot = ut_calloc((size_t)k->nslot, sizeof *k->slot);
    k->cap = 8;
    k->off = ut_calloc((size_t)k->cap + 1, sizeof *k->off);
    k->hash = ut_calloc((size_t)k->cap, sizeof *k->hash);
    return k;
}

void sqa_keys_destroy(sqa_keys *k)
{
    if (!k) return;
    ut_buf_free(&k->arena);
    free(k->off);
    free(k->slot);
    free(k->hash);
    free(k);
}

int64_t sqa_keys_count(const sqa_keys *k) { return k->n; }

const uint8_t *sqa_keys_get(const sqa_keys *k, int64_t i, size_t *n)
{
    *n = (size_t)(k->off[i + 1] - k->off[i]);
    return *n ? k->arena.p + k->off[i] : (const uint8_t *)"";
}

static void grow(sqa_keys *k)
{
    int64_t ns = k->nslot * 2;
    uint32_t *s = ut_calloc((size_t)ns, sizeof *s);
    for (int64_t i = 0; i < k->n; i++) {
        uint64_t h = k->hash[i] & (uint64_t)(ns - 1);
        while (s[h]) h = (h + 1) & (uint64_t)(ns - 1);
        s[h] = (uint32_t)(i + 1);
    }
    free(k->slot);
    k->slot = s;
    k->nslot = ns;
}

int64_t sqa_keys_find(sqa_keys *k, const void *key, size_t n, int *added)
{
    uint64_t hv = XXH3_64bits(key, n);
    uint64_t mask = (uint64_t)(k->nslot - 1), h = hv & mask;
    *added = 0;
    for (; k->slot[h]; h = (h + 1) & mask) {
        int64_t i = k->slot[h] - 1;
        if (k->hash[i] == hv && k->off[i + 1] - k->off[i] == n &&
            (!n || !memcmp(k->arena.p + k->off[i], key, n)))
            return i;
    }
    if (k->n >= SQA_KEYS_MAX) return -1;
    if (k->n == k->cap) {
        k->cap *= 2;
        k->off = ut_realloc(k->off, (size_t)(k->cap + 1) * sizeof *k->off);
        k->hash = ut_realloc(k->hash, (size_t)k->cap * sizeof *k->hash);
    }
    int64_t i = k->n++;
    if (n) ut_buf_put(&k->arena, key, n);
    k->off[i + 1] = k->arena.len;
    k->hash[i] = hv;
    k->slot[h] = (uint32_t)(i + 1);
    *added = 1;
    if (k->n * 2 > k->nslot) grow(k);
    return i;
}

void sqa_key_put(ut_buf *b, const sq_val *v)
{
    uint8_t tag = (uint8_t)v->t;
    ut_buf_putc(b, tag);
    if (v->t == SQLITE_INTEGER) ut_buf_put(b, &v->i, 8);
    else if (v->t == SQLITE_FLOAT) {
        double d = v->d == 0 ? 0.0 : v->d; /* -0.0 = 0.0 */
        ut_buf_put(b, &d, 8);
    } else if (v->t == SQLITE_TEXT || v->t == SQLITE_BLOB) {
        uint32_t n = (uint32_t)v->n;
        ut_buf_put(b, &n, 4);
        ut_buf_put(b, v->s, v->n);
    }
}

size_t sqa_key_get(const uint8_t *p, size_t n, sq_val *v)
{
    memset(v, 0, sizeof *v);
    if (n < 1) return 0;
    v->t = p[0];
    if (v->t == SQLITE_INTEGER || v->t == SQLITE_FLOAT) {
        assert(n >= 9);
        if (v->t == SQLITE_INTEGER) memcpy(&v->i, p + 1, 8);
        else memcpy(&v->d, p + 1, 8);
        return 9;
    }
    if (v->t == SQLITE_TEXT || v->t == SQLITE_BLOB) {
        uint32_t len;
        assert(n >= 5);
        memcpy(&len, p + 1, 4);
        v->s = (const char *)p + 5;
        v->n = len;
        return 5 + (size_t)len;
    }
    return 1;
}
