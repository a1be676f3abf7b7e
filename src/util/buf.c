/* Growable byte buffer. */
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ut_buf_reserve(ut_buf *b, size_t n)
{
    if (b->cap - b->len >= n) return;
    size_t want = b->len + n;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < want) cap = cap < ((size_t)1 << 30) ? cap * 2 : cap + ((size_t)1 << 30);
    b->p = ut_realloc(b->p, cap);
    b->cap = cap;
}

void ut_buf_put(ut_buf *b, const void *data, size_t n)
{
    if (!n) return;
    ut_buf_reserve(b, n);
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void ut_buf_putc(ut_buf *b, uint8_t c)
{
    if (b->len == b->cap) ut_buf_reserve(b, 1);
    b->p[b->len++] = c;
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
    ut_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ut_buf_put_le32(ut_buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ut_buf_put(b, t, 4);
}

void ut_buf_put_le64(ut_buf *b, uint64_t v)
{
    ut_buf_put_le32(b, (uint32_t)v);
    ut_buf_put_le32(b, (uint32_t)(v >> 32));
}

void ut_buf_put_uvarint(ut_buf *b, uint64_t v)
{
    ut_buf_reserve(b, 10);
    uint8_t *p = b->p + b->len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->p);
}

void ut_buf_reset(ut_buf *b)
{
    b->len = 0;
}

void ut_buf_free(ut_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
