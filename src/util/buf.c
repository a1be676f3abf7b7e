/* Growable byte buffer: capped (max, 0 = UT_BUF_MAX_DEFAULT) and always
 * NUL-terminated (the allocation is cap + 1 bytes; p[len] == 0 after every
 * call here). */
#include "util/util.h"

#include "log/log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t limit(const ut_buf *b)
{
    return b->max ? b->max : UT_BUF_MAX_DEFAULT;
}

/* The terminator; p may be NULL only for a buffer never grown. */
static void term(ut_buf *b)
{
    assert(b->len <= b->cap);
    if (b->p) b->p[b->len] = 0;
}

int ut_buf_reserve(ut_buf *b, size_t n)
{
    assert(b->len <= b->cap);
    if (b->p && b->cap - b->len >= n) return 0;
    size_t lim = limit(b);
    if (b->len > lim || n > lim - b->len) {
        if (!b->max) {
            lg_error("buf", "buffer of %zu bytes would pass the %zu-byte hard cap (+%zu)", b->len,
                     lim, n);
            abort();
        }
        b->over = 1;
        return -1;
    }
    size_t want = b->len + n;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < want) cap = cap < ((size_t)1 << 30) ? cap * 2 : cap + ((size_t)1 << 30);
    if (cap > lim) cap = lim;
    b->p = ut_realloc(b->p, cap + 1);
    b->cap = cap;
    term(b);
    return 0;
}

void ut_buf_put(ut_buf *b, const void *data, size_t n)
{
    if (ut_buf_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    term(b);
}

void ut_buf_putc(ut_buf *b, uint8_t c)
{
    if (b->len == b->cap || !b->p) {
        if (ut_buf_reserve(b, 1)) return;
    }
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

void ut_buf_puts(ut_buf *b, const char *s)
{
    ut_buf_put(b, s, strlen(s));
}

void ut_buf_printf(ut_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        ut_buf_put(b, tmp, (size_t)n);
        return;
    }
    if (ut_buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap); /* p[cap] is ours */
    va_end(ap);
    b->len += (size_t)n;
    term(b);
}

void ut_buf_put_le32(ut_buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ut_buf_put(b, t, 4);
}

void ut_buf_put_le64(ut_buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
    ut_buf_put(b, t, 8);
}

void ut_buf_put_uvarint(ut_buf *b, uint64_t v)
{
    uint8_t t[10], *p = t;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    ut_buf_put(b, t, (size_t)(p - t));
}

void ut_buf_setlen(ut_buf *b, size_t len)
{
    assert(len <= b->cap && (b->p || len == 0));
    b->len = len;
    term(b);
}

void ut_buf_truncate(ut_buf *b, size_t len)
{
    if (len < b->len) ut_buf_setlen(b, len);
}

const char *ut_buf_cstr(const ut_buf *b)
{
    return b->p ? (const char *)b->p : "";
}

int ut_buf_over(const ut_buf *b)
{
    return b->over;
}

void ut_buf_reset(ut_buf *b)
{
    b->len = 0;
    b->over = 0;
    term(b);
}

void ut_buf_free(ut_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->over = 0;
}
