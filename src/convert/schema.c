/* Column tables: names, types, hash lookup, --schema specs. */
#include "convert/cv_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

cv_schema *cv_schema_create(void)
{
    cv_schema *s = ut_calloc(1, sizeof *s);
    s->hcap = 64;
    s->hash = ut_calloc(s->hcap, sizeof *s->hash);
    return s;
}

void cv_schema_destroy(cv_schema *s)
{
    if (!s) return;
    for (int i = 0; i < s->n; i++) free(s->c[i].name);
    free(s->c);
    free(s->hash);
    free(s);
}

/* Equality for short keys without a libc call. */
static inline int key_eq(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    while (n >= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++) return 0;
    return 1;
}

static uint32_t hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static int lookup(const cv_schema *s, const char *name, size_t n)
{
    size_t m = s->hcap - 1;
    for (size_t i = hash(name, n) & m;; i = (i + 1) & m) {
        int32_t v = s->hash[i];
        if (!v) return -1;
        const cv__col *c = &s->c[v - 1];
        if (c->len == n && !memcmp(c->name, name, n)) return v - 1;
    }
}

int cv_schema_find(const cv_schema *s, const char *name, size_t n)
{
    return lookup(s, name, n);
}

int cv__find_at(cv_schema *s, const char *name, size_t n, int pos)
{
    if (pos < 256) {
        int h = s->hint[pos] - 1;
        if (h >= 0 && s->c[h].len == n && key_eq(s->c[h].name, name, n)) return h;
        int i = lookup(s, name, n);
        s->hint[pos] = i + 1;
        return i;
    }
    return lookup(s, name, n);
}

static void rehash(cv_schema *s)
{
    free(s->hash);
    s->hcap *= 2;
    s->hash = ut_calloc(s->hcap, sizeof *s->hash);
    size_t m = s->hcap - 1;
    for (int k = 0; k < s->n; k++) {
        size_t i = hash(s->c[k].name, s->c[k].len) & m;
        while (s->hash[i]) i = (i + 1) & m;
        s->hash[i] = k + 1;
    }
}

int cv__add(cv_schema *s, const char *name, size_t n, pq_type type, int required)
{
    if (s->n >= CV_MAX_COLUMNS || n > CV_MAX_NAME || lookup(s, name, n) >= 0) return -1;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->c = ut_realloc(s->c, (size_t)s->cap * sizeof *s->c);
    }
    cv__col *c = &s->c[s->n];
    memset(c, 0, sizeof *c);
    c->name = ut_strndup(name, n);
    c->len = n;
    c->type = type;
    c->required = required;
    s->n++;
    if ((size_t)s->n * 2 > s->hcap) {
        rehash(s);
    } else {
        size_t m = s->hcap - 1, i = hash(name, n) & m;
        while (s->hash[i]) i = (i + 1) & m;
        s->hash[i] = s->n;
    }
    return s->n - 1;
}

int cv_schema_ncols(const cv_schema *s) { return s->n; }
const char *cv_schema_name(const cv_schema *s, int i) { return s->c[i].name; }
pq_type cv_schema_type(const cv_schema *s, int i) { return s->c[i].type; }
int cv_schema_required(const cv_schema *s, int i) { return s->c[i].required; }

static const struct {
    const char *name;
    pq_type t;
} types[] = {{"bool", PQ_BOOL},     {"int32", PQ_INT32},   {"int64", PQ_INT64},
             {"float", PQ_FLOAT},   {"double", PQ_DOUBLE}, {"string", PQ_STRING},
             {"timestamp", PQ_TIMESTAMP}, {"date", PQ_DATE}};

const char *cv_type_name(pq_type t)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].t == t) return types[i].name;
    return NULL;
}

static void trim(const char **a, const char **b)
{
    while (*a < *b && (**a == ' ' || **a == '\t')) (*a)++;
    while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t')) (*b)--;
}

cv_schema *cv_schema_parse(const char *spec, char *err, size_t errlen)
{
    cv_schema *s = cv_schema_create();
    const char *p = spec;
    int item = 0;
    if (strlen(spec) > (size_t)1 << 20) {
        ut_err(err, errlen, "--schema is over 1 MiB");
        goto fail;
    }
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        item++;
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (!colon) {
            ut_err(err, errlen, "--schema item %d '%.*s': expected name:type", item,
                   (int)(end - p), p);
            goto fail;
        }
        const char *na = p, *nb = colon, *ta = colon + 1, *tb = end;
        trim(&na, &nb);
        trim(&ta, &tb);
        int required = 0;
        if (tb > ta && tb[-1] == '!') {
            required = 1;
            tb--;
            trim(&ta, &tb);
        }
        pq_type t = 0;
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strlen(types[i].name) == (size_t)(tb - ta) &&
                !strncasecmp(types[i].name, ta, (size_t)(tb - ta)))
                t = types[i].t;
        if (nb == na) {
            ut_err(err, errlen, "--schema item %d: empty column name", item);
            goto fail;
        }
        if (!t) {
            ut_err(err, errlen,
                   "--schema column '%.*s': unknown type '%.*s' (bool, int32, int64, float, "
                   "double, string, timestamp, date)",
                   (int)(nb - na), na, (int)(tb - ta), ta);
            goto fail;
        }
        if (cv__add(s, na, (size_t)(nb - na), t, required) < 0) {
            ut_err(err, errlen, "--schema column '%.*s': duplicate name, too long, or over %d columns",
                   (int)(nb - na), na, CV_MAX_COLUMNS);
            goto fail;
        }
        if (!*end) break;
        p = end + 1;
    }
    return s;
fail:
    cv_schema_destroy(s);
    return NULL;
}
