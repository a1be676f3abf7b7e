/* Table schema of the lake sink: columns by name (the naming rule of
 * colname.c decides which column a key lands in), evolution by widening. */
#include "lake/lk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lk__schema_init(lk__schema *s, int case_insensitive, int max_columns)
{
    memset(s, 0, sizeof *s);
    s->case_insensitive = case_insensitive;
    s->max_columns = max_columns > 0 ? max_columns : 1000;
    if (s->max_columns > CT_MAX_COLUMNS) s->max_columns = CT_MAX_COLUMNS; /* else the catalog
        refuses the schema and the sink is stuck */
    s->names = lk_names_create(case_insensitive);
    lk_names_take(s->names, "_ingest_ts", 10, -1);
}

void lk__schema_reserve(lk__schema *s, const char *name)
{
    lk_names_take(s->names, name, strlen(name), -1);
}

void lk__schema_free(lk__schema *s)
{
    for (int i = 0; i < s->n; i++) free(s->cols[i].name);
    free(s->cols);
    lk_names_destroy(s->names);
    memset(s, 0, sizeof *s);
}

static int name_eq(const lk__schema *s, const lk__col *c, const char *k, size_t n)
{
    if (c->nlen != n || c->legacy) return 0;
    if (!s->case_insensitive) return !memcmp(c->name, k, n);
    for (size_t i = 0; i < n; i++) {
        char a = c->name[i], b = k[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
        if (a != b) return 0;
    }
    return 1;
}

int lk__schema_find(const lk__schema *s, const char *key, size_t n)
{
    return lk_names_resolve(s->names, key, n, NULL, NULL);
}

int lk__schema_find_hint(const lk__schema *s, const char *key, size_t n, int *hint)
{
    int h = *hint;
    /* a column named exactly like a clean key is that key's first candidate */
    if (h >= 0 && h < s->n && n <= LK_NAME_BASE && name_eq(s, &s->cols[h], key, n)) return h;
    return *hint = lk__schema_find(s, key, n);
}

/* Append column `name`; legacy when the name is taken (a catalog written
 * before the naming rule): kept, but no key lands in it. */
static int add_col(lk__schema *s, const char *name, size_t n, ct_type t, ct_type recorded)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->cols = ut_realloc(s->cols, (size_t)s->cap * sizeof *s->cols);
    }
    lk__col *c = &s->cols[s->n];
    c->name = ut_strndup(name, n);
    c->nlen = n;
    c->type = t;
    c->recorded = recorded;
    c->precision = c->scale = 0;
    c->legacy = lk_names_take(s->names, name, n, s->n) < 0;
    return s->n++;
}

void lk__schema_load(lk__schema *s, const ct_table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        const char *nm = t->cols[i].name;
        if (!strcmp(nm, "_ingest_ts")) continue;
        size_t n = strlen(nm);
        int k = add_col(s, nm, n, t->cols[i].type, t->cols[i].type);
        s->cols[k].precision = t->cols[i].precision;
        s->cols[k].scale = t->cols[i].scale;
        if (!s->cols[k].legacy && !lk_colname_printable(nm, n)) { /* not a name the rule makes */
            s->cols[k].legacy = 1;
            lk_names_truncate(s->names, lk_names_count(s->names) - 1);
        }
        if (s->cols[k].legacy)
            lg_warn("sink", "table %s: column '%s' breaks the naming rule (control characters, or "
                            "equal up to case to another column or a reserved name): it keeps "
                            "its old files, new records never land in it", t->name, nm);
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
    char name[LK_NAME_MAX + 1];
    size_t nn;
    int i = lk_names_resolve(s->names, key, n, name, &nn);
    if (i >= 0) {
        lk__schema_note(s, i, k, is_ts);
        return i;
    }
    if (s->n >= s->max_columns) return -1;
    if (!nn) return -2; /* every suffix taken */
    i = add_col(s, name, nn, kind_type(k, is_ts), (ct_type)0);
    assert(!s->cols[i].legacy);
    s->dirty = 1;
    return i;
}

lk__schema_mark lk__schema_save(const lk__schema *s)
{
    return (lk__schema_mark){s->n, lk_names_count(s->names), s->dirty};
}

void lk__schema_rollback(lk__schema *s, lk__schema_mark m)
{
    assert(m.n <= s->n);
    for (int i = m.n; i < s->n; i++) free(s->cols[i].name);
    s->n = m.n;
    lk_names_truncate(s->names, m.names);
    s->dirty = m.dirty;
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
        (*cols)[m].type = t;
        if (t == CT_DECIMAL) {
            (*cols)[m].precision = c->precision;
            (*cols)[m].scale = c->scale;
        }
        m++;
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
