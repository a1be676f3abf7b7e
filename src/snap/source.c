/* snap: sources behind one interface, table patterns, and scans. */
#include "snap/sn_int.h"

#include <assert.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sn_source *sn_open(const cf_config *cf, const char *name, char *err, size_t errlen)
{
    const cf_postgres *pg = cf_postgres_find(cf, name);
    if (pg) return sn_open_postgres(pg, err, errlen);
    const cf_mysql *my = cf_mysql_find(cf, name);
    if (my) return sn_open_mysql(my, err, errlen);
    const cf_sqlite *sq = cf_sqlite_find(cf, name);
    if (sq) return sn_open_sqlite(sq, err, errlen);
    const cf_redis *rd = cf_redis_find(cf, name);
    if (rd) return sn_open_redis(rd, err, errlen);
    ut_err(err, errlen, "source: no connection '%s' under postgres, mysql, sqlite or redis", name);
    return NULL;
}

int sn_source_exists(const cf_config *cf, const char *name)
{
    return cf_postgres_find(cf, name) != NULL || cf_mysql_find(cf, name) != NULL ||
           cf_sqlite_find(cf, name) != NULL || cf_redis_find(cf, name) != NULL;
}

int sn_match(const char *pattern, const char *name)
{
    return fnmatch(pattern, name, FNM_NOESCAPE) == 0;
}

int sn__split_name(const char *name, char *s, size_t sn, char *t, size_t tn)
{
    const char *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1]) return -1;
    size_t a = (size_t)(dot - name), b = strlen(dot + 1);
    if (a >= sn || b >= tn) return -1;
    memcpy(s, name, a), s[a] = 0;
    memcpy(t, dot + 1, b + 1);
    return 0;
}

void sn_names_free(char **v, int n)
{
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int matches_any(const char *const *pats, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (sn_match(pats[i], name)) return 1;
    return 0;
}

int sn_tables(sn_source *s, const char *const *include, int ninclude,
              const char *const *exclude, int nexclude, char ***out, char *err, size_t errlen)
{
    char **all = NULL;
    int n = s->ops->list(s, &all, err, errlen), k = 0;
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        if (matches_any(include, ninclude, all[i]) && !matches_any(exclude, nexclude, all[i]) &&
            k < SN_MAX_TABLES)
            all[k++] = all[i];
        else
            free(all[i]);
    }
    qsort(all, (size_t)k, sizeof *all, cmp_str);
    *out = all;
    return k;
}

void sn_close(sn_source *s)
{
    if (!s) return;
    sn_scan_end(s->scan);
    s->ops->close(s);
    free(s);
}

static void and_where(sn_scan *sc, const char *cond);
static sn_scan *scan_begin(sn_source *s, const char *table, const char *where, const char *id,
                           char *err, size_t errlen);

sn_scan *sn_scan_begin(sn_source *s, const char *table, const char *where, char *err,
                       size_t errlen)
{
    return scan_begin(s, table, where, "", err, errlen);
}

sn_scan *sn_scan_begin_shared(sn_source *s, const char *table, const char *where,
                              const char *id, char *err, size_t errlen)
{
    if (!id || !id[0] || strlen(id) >= sizeof s->scan->snapshot) {
        ut_err(err, errlen, "%s \"%s\": table %s: no snapshot to share", s->ops->name, s->name,
               table);
        return NULL;
    }
    return scan_begin(s, table, where, id, err, errlen);
}

static sn_scan *scan_begin(sn_source *s, const char *table, const char *where, const char *id,
                           char *err, size_t errlen)
{
    if (s->scan) {
        ut_err(err, errlen, "%s \"%s\": a scan is open already", s->ops->name, s->name);
        return NULL;
    }
    sn_scan *sc = ut_calloc(1, sizeof *sc);
    sc->src = s;
    snprintf(sc->table, sizeof sc->table, "%s", table);
    sc->where = ut_strdup(where ? where : "");
    snprintf(sc->snapshot, sizeof sc->snapshot, "%s", id);
    s->scan = sc;
    if (s->ops->begin(sc, table, err, errlen)) {
        sn_scan_end(sc);
        return NULL;
    }
    return sc;
}

int sn_scan_ncols(const sn_scan *sc) { return sc->ncols; }
const sn_column *sn_scan_columns(const sn_scan *sc) { return sc->cols; }

int sn_scan_start(sn_scan *sc, const int *sel, int nsel, char *err, size_t errlen)
{
    if (sc->started || nsel < 1)
        return ut_err(err, errlen, "table %s: a scan starts once, with at least one column",
                      sc->table);
    for (int i = 0; i < nsel; i++)
        if (sel[i] < 0 || sel[i] >= sc->ncols)
            return ut_err(err, errlen, "table %s: column index %d out of range", sc->table, sel[i]);
    sc->started = 1;
    return sc->src->ops->start(sc, sel, nsel, err, errlen);
}

int sn_scan_next(sn_scan *sc, const char **v, size_t *n, const atomic_int *cancel,
                 int64_t deadline_ms, char *err, size_t errlen)
{
    return sc->src->ops->next(sc, v, n, cancel, deadline_ms, err, errlen);
}

void sn_scan_end(sn_scan *sc)
{
    if (!sc) return;
    sc->src->ops->end(sc);
    sc->src->scan = NULL;
    free(sc->cols);
    free(sc->where);
    free(sc);
}

void sn__quote_ident(ut_buf *b, const char *s)
{
    ut_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, (uint8_t)*s);
    }
    ut_buf_putc(b, '"');
}

void sn__quote_literal(ut_buf *b, const char *s)
{
    ut_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') ut_buf_putc(b, '\'');
        ut_buf_putc(b, (uint8_t)*s);
    }
    ut_buf_putc(b, '\'');
}

/* A where is closed on a line of its own: a `where` that ends in a -- comment
 * (or MySQL's #) would otherwise swallow what follows it (the cursor's
 * bounds, a range, the closing parenthesis). */
void sn_where_after(ut_buf *b, const char *where, const char *column, const char *value)
{
    if (where && where[0]) ut_buf_printf(b, "(%s\n) AND ", where);
    sn__quote_ident(b, column);
    ut_buf_puts(b, " > ");
    sn__quote_literal(b, value);
}

int sn_scan_bound(sn_scan *sc, const char *column, int with_nulls, char *max, size_t cap,
                  char *err, size_t errlen)
{
    int found = 0;
    for (int i = 0; i < sc->ncols; i++) found |= !strcmp(sc->cols[i].name, column);
    if (!found) return ut_err(err, errlen, "cursor: the source has no column '%s'", column);
    if (sc->started) return ut_err(err, errlen, "table %s: the scan has started", sc->table);
    int rc = sc->src->ops->max(sc, column, max, cap, err, errlen);
    if (rc != 1) return rc;
    ut_buf w = {0}, q = {0};
    sn__quote_ident(&q, column);
    ut_buf_printf(&w, "%s%s <= ", with_nulls ? "(" : "", ut_buf_cstr(&q));
    sn__quote_literal(&w, max);
    if (with_nulls) ut_buf_printf(&w, " OR %s IS NULL)", ut_buf_cstr(&q));
    and_where(sc, ut_buf_cstr(&w));
    ut_buf_free(&q);
    ut_buf_free(&w);
    return 1;
}

int sn_scan_export(sn_scan *sc, char *id, size_t cap, char *err, size_t errlen)
{
    if (!sc->src->ops->export_snapshot)
        return ut_err(err, errlen, "%s \"%s\": table %s: parallel reads need a source that "
                      "shares one snapshot between connections (PostgreSQL)", sc->src->ops->name,
                      sc->src->name, sc->table);
    return sc->src->ops->export_snapshot(sc, id, cap, err, errlen);
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

int sn_scan_int_range(sn_scan *sc, const char *column, int64_t *min, int64_t *max, char *err,
                      size_t errlen)
{
    int c = -1;
    for (int i = 0; i < sc->ncols; i++)
        if (!strcmp(sc->cols[i].name, column)) c = i;
    if (c < 0) return ut_err(err, errlen, "split_by: the source has no column '%s'", column);
    if (sc->cols[c].cls != SN_INT32 && sc->cols[c].cls != SN_INT64)
        return ut_err(err, errlen, "split_by: column %s is %s, not an integer", column,
                      sc->cols[c].type);
    if (!sc->src->ops->range)
        return ut_err(err, errlen, "split_by: %s sources cannot split a table",
                      sc->src->ops->name);
    char lo[64], hi[64];
    int rc = sc->src->ops->range(sc, column, lo, hi, sizeof lo, err, errlen);
    if (rc != 1) return rc;
    if (parse_i64(lo, min) || parse_i64(hi, max))
        return ut_err(err, errlen, "split_by: column %s: range '%s'..'%s' is not integer", column,
                      lo, hi);
    return 1;
}

const char *sn_scan_where(const sn_scan *sc) { return sc->where; }

/* AND cond into the scan's where. */
static void and_where(sn_scan *sc, const char *cond)
{
    ut_buf w = {0};
    if (sc->where[0]) ut_buf_printf(&w, "(%s\n) AND ", sc->where);
    ut_buf_puts(&w, cond);
    free(sc->where);
    sc->where = ut_strdup(ut_buf_cstr(&w));
    ut_buf_free(&w);
}

void sn_scan_narrow(sn_scan *sc, const char *col, int64_t lo, int64_t hi, int open_ends)
{
    assert(!sc->started);
    ut_buf c = {0}, q = {0};
    sn__quote_ident(&q, col);
    const char *n = ut_buf_cstr(&q);
    int from = open_ends & SN_FROM_START, to = open_ends & SN_TO_END;
    if (from && to) ut_buf_puts(&c, "TRUE");
    else if (from) ut_buf_printf(&c, "(%s < %lld OR %s IS NULL)", n, (long long)hi, n);
    else if (to) ut_buf_printf(&c, "%s >= %lld", n, (long long)lo);
    else ut_buf_printf(&c, "%s >= %lld AND %s < %lld", n, (long long)lo, n, (long long)hi);
    and_where(sc, ut_buf_cstr(&c));
    ut_buf_free(&c);
    ut_buf_free(&q);
}

void sn_scan_limits(sn_scan *sc, const atomic_int *cancel, int64_t deadline_ms)
{
    sc->cancel = cancel;
    sc->deadline_ms = deadline_ms;
}
