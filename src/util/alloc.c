/* Allocation wrappers that abort on out-of-memory. */
#include "util/util.h"

#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    lg_error("alloc", "out of memory allocating %zu bytes", n);
    abort();
}

void *ut_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *ut_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *ut_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *ut_strdup(const char *s)
{
    return ut_strndup(s, strlen(s));
}

char *ut_strndup(const char *s, size_t n)
{
    char *p = ut_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}
