/* Table schema of the lake sink: columns by name, evolution by widening. */
#include "lake/lk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void lk__schema_init(lk__schema *s, int case_insensitive, int max_columns)
{
    memset(s, 0, sizeof *s);
    s->case_insensitive = case_insensitive;
    s->max_columns = max_columns > 0 ? max_columns : 1000;
}

void lk__schema_free(lk__schema *s)
{
    for (int i = 0; i < s->n; i++) free(s->cols[i].name);
    free(s->cols);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

static uint64_t name_hash(const lk__schema *s, const char *k, size_t n)
{
    if (!s->case_insensitive) return XXH3_64bits(k, n);
    char buf[256];
    uint64_t h = 0;
    size_t done = 0;
    while (done < n) { /* fold ASCII case in chunks */
        size_t m = n - done < sizeof buf ? n - done : sizeof buf;
        for (size_t i = 0; i < m; i++) {
            char c = k[done + i];
            buf[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        h = XXH3_64bits_withSeed(buf, m, h);
        done += m;
    }
    return h;
}

static int name_eq(const lk__schema *s, const lk__col *c, const char *k, size_t n)
{
    if (c->nlen != n) return 0;
    if (!s->case_insensitive) return !memcmp(c->name, k, n);
    for (size_t i = 0; i < n; i++) {
        char a = c->name[i], b = k[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
        if (a != b) return 0;
    }
    return 1;
}

static void rehash(lk__schema *s)
{
    uint32_t nslots = 64;
    while (nslots < (uint32_t)s->n * 3) nslots *= 2;
    free(s->slots);
    s->slots = ut_calloc(nslots, sizeof *s->slots);
    s->mask = nslots - 1;
    for (int i = 0; i < s->n; i++) {
        uint32_t h = (uint32_t)name_hash(s, s->cols[i].name, s->cols[i].nlen) & s->mask;
        while (s->slots[h]) h = (h + 1) & s->mask;
        s->slots[h] = (uint32_t)i + 1;
    }
}

int lk__schema_find(const lk__schema *s, const char *key, size_t n)
{
    if (!s->slots) return -1;
    uint32_t h = (uint32_t)name_hash(s, key, n) & s->mask;
    while (s->slots[h]) {
        const lk__col *c = &s->cols[s->slots[h] - 1];
        if (name_eq(s, c, key, n)) return (int)s->slots[h] - 1;
        h = (h + 1) & s->mask;
    }
    return -1;
}

int lk__schema_find_hint(const lk__schema *s, const char *key, size_t n, int *hint)
{
    int h = *hint;
    if (h >= 0 && h < s->n && name_eq(s, &s->cols[h], key, n)) return h;
    return *hint = lk__schema_find(s, key, n);
}

static int add_col(lk__schema *s, const char *key, size_t n, ct_type t, ct_type recorded)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->cols = ut_realloc(s->cols, (size_t)s->cap * sizeof *s->cols);
    }
    lk__col *c = &s->cols[s->n++];
    c->name = ut_strndup(key, n);
    c->nlen = n;
    c->type = t;
    c->recorded = recorded;
    if ((uint32_t)s->n * 3 > (s->mask + 1) * 2 || !s->slots) rehash(s);
    else {
        uint32_t h = (uint32_t)name_hash(s, key, n) & s->mask;
        while (s->slots[h]) h = (h + 1) & s->mask;
        s->slots[h] = (uint32_t)s->n;
    }
    return s->n - 1;
}

void lk__schema_load(lk__schema *s, const ct_table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        const char *nm = t->cols[i].name;
        if (!strcmp(nm, "_ingest_ts")) continue;
        add_col(s, nm, strlen(nm), t->cols[i].type, t->cols[i].type);
    }
    s->version = t->version;
}

/* The type that holds both a and b. */
static ct_type widen(ct_type a, ct_type b)
{
    if (!a) return b;
    if (!b || a == b) return a;
    if ((a == CT_INT64 && b == CT_DOUBLE) || (a == CT_DOUBLE && b == CT_INT64)) return CT_DOUBLE;
    return CT_STRING;
}

static ct_type kind_type(js_kind k, int is_ts)
{
    switch (k) {
    case JS_NULL: return (ct_type)0;
    case JS_BOOL: return CT_BOOL;
    case JS_INT: return CT_INT64;
    case JS_DOUBLE: return CT_DOUBLE;
    case JS_STRING: return is_ts ? CT_TIMESTAMP : CT_STRING;
    default: return CT_STRING;
    }
}

int lk__schema_observe(lk__schema *s, const char *key, size_t n, js_kind k, int is_ts)
{
    int i = lk__schema_find(s, key, n);
    ct_type t = kind_type(k, is_ts);
    if (i < 0) {
        if (s->n >= s->max_columns) return -1;
        i = add_col(s, key, n, t, (ct_type)0);
        s->dirty = 1;
        return i;
    }
    lk__schema_note(s, i, k, is_ts);
    return i;
}

int lk__schema_widens(const lk__schema *s, int i, js_kind k, int is_ts)
{
    ct_type t = s->cols[i].type;
    return widen(t, kind_type(k, is_ts)) != t;
}

void lk__schema_note(lk__schema *s, int i, js_kind k, int is_ts)
{
    lk__col *c = &s->cols[i];
    ct_type w = widen(c->type, kind_type(k, is_ts));
    if (w != c->type) {
        c->type = w;
        s->dirty = 1;
    }
}

int lk__schema_snapshot(const lk__schema *s, ct_column **cols, char *change, size_t n)
{
    *cols = ut_calloc((size_t)s->n + 1, sizeof **cols);
    size_t o = 0;
    int m = 0;
    change[0] = 0;
    for (int i = 0; i < s->n; i++) {
        const lk__col *c = &s->cols[i];
        ct_type t = c->type;
        if (!t) continue; /* only nulls so far: not a column yet (reads as NULL) */
        snprintf((*cols)[m].name, sizeof (*cols)[m].name, "%s", c->name);
        (*cols)[m++].type = t;
        int w = 0;
        if (!c->recorded)
            w = snprintf(change + o, n - o, "%sadded %s %s", o ? "; " : "", c->name, ct_type_name(t));
        else if (c->recorded != t)
            w = snprintf(change + o, n - o, "%swidened %s %s -> %s", o ? "; " : "", c->name,
                         ct_type_name(c->recorded), ct_type_name(t));
        if (w > 0) o = o + (size_t)w < n ? o + (size_t)w : n - 1;
    }
    return m;
}

void lk__schema_recorded(lk__schema *s, int version)
{
    for (int i = 0; i < s->n; i++) s->cols[i].recorded = s->cols[i].type;
    s->version = version;
    s->dirty = 0;
}
