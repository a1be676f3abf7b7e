/* config lifecycle and field operations driven by the tables: defaults,
 * setting one scalar, freeing; the small public lookups (streams, journal
 * options, tokens). */
#include "config/cf_int.h"
#include "log/log.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AT(obj, off) ((char *)(obj) + (off))

/* A value quoted for a message: at most 40 bytes, unprintables as '?'. */
static const char *quote(char out[48], const char *v, size_t n)
{
    size_t m = n > 40 ? 37 : n, o = 0;
    for (size_t i = 0; i < m; i++)
        out[o++] = (unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f ? '?' : v[i];
    if (m < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

static int range_err(const cf__field *f, const char *v, size_t n, char *msg, size_t msglen)
{
    char lo[32], hi[32], q[48];
    if (f->type == CF_SIZE) {
        cf__fmt_size(lo, (uint64_t)f->min);
        cf__fmt_size(hi, (uint64_t)f->max);
    } else if (f->type == CF_DURATION) {
        cf__fmt_duration(lo, f->min);
        cf__fmt_duration(hi, f->max);
    } else {
        snprintf(lo, sizeof lo, "%lld", (long long)f->min);
        snprintf(hi, sizeof hi, "%lld", (long long)f->max);
    }
    if (f->max == INT64_MAX)
        return ut_err(msg, msglen, "must be at least %s, got '%s'", lo, quote(q, v, n));
    return ut_err(msg, msglen, "must be between %s and %s, got '%s'", lo, hi, quote(q, v, n));
}

static int type_err(const cf__field *f, const char *v, size_t n, char *msg, size_t msglen)
{
    char q[48];
    if (f->type == CF_ENUM) {
        char list[256];
        size_t o = 0;
        list[0] = 0;
        for (int i = 0; f->names[i] && o < sizeof list - 64; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", f->names[i]);
        return ut_err(msg, msglen, "expected one of %s, got '%s'", list, quote(q, v, n));
    }
    return ut_err(msg, msglen, "expected %s, got '%s'", cf__types[f->type].expected,
                  quote(q, v, n));
}

int cf__set_scalar(const cf__field *f, void *obj, const char *v, size_t n, char *msg,
                   size_t msglen)
{
    void *dst = AT(obj, f->offset);
    int64_t i64;
    uint64_t u64;
    if (memchr(v, 0, n)) return ut_err(msg, msglen, "must not contain a NUL byte");
    if (n > CF_MAX_STRING)
        return ut_err(msg, msglen, "value is longer than %d bytes", CF_MAX_STRING);
    switch (f->type) {
    case CF_STRING: {
        char *s = ut_strndup(v, n);
        if (f->check && f->check(s, msg, msglen)) {
            free(s);
            return -1;
        }
        free(*(char **)dst);
        *(char **)dst = s;
        return 0;
    }
    case CF_STRLIST: {
        cf_strlist *l = dst;
        if (l->n >= f->max) return ut_err(msg, msglen, "at most %lld items", (long long)f->max);
        char *s = ut_strndup(v, n);
        if (f->check && f->check(s, msg, msglen)) {
            free(s);
            return -1;
        }
        for (int i = 0; i < l->n; i++)
            if (!strcmp(l->v[i], s)) {
                free(s);
                return ut_err(msg, msglen, "duplicate item");
            }
        l->v = ut_realloc(l->v, sizeof(char *) * (size_t)(l->n + 1));
        l->v[l->n++] = s;
        return 0;
    }
    case CF_BOOL:
        if (cf__parse_bool(v, n, (bool *)dst)) return type_err(f, v, n, msg, msglen);
        return 0;
    case CF_INT:
    case CF_DURATION:
        if ((f->type == CF_INT ? cf__parse_int(v, n, &i64) : cf__parse_duration(v, n, &i64)))
            return type_err(f, v, n, msg, msglen);
        if (i64 < f->min || i64 > f->max) return range_err(f, v, n, msg, msglen);
        *(int64_t *)dst = i64;
        return 0;
    case CF_SIZE:
        if (cf__parse_size(v, n, &u64)) return type_err(f, v, n, msg, msglen);
        if (u64 < (uint64_t)f->min || u64 > (uint64_t)f->max)
            return range_err(f, v, n, msg, msglen);
        *(uint64_t *)dst = u64;
        return 0;
    case CF_ENUM:
        if (cf__parse_enum(v, n, f->names, (int *)dst)) return type_err(f, v, n, msg, msglen);
        return 0;
    case CF_FSYNC:
        if (cf__parse_fsync(v, n, (cf_fsync *)dst)) return type_err(f, v, n, msg, msglen);
        return 0;
    case CF_HOSTPORT:
        if (cf__parse_hostport(v, n, (cf_hostport *)dst)) return type_err(f, v, n, msg, msglen);
        return 0;
    case CF_RATE:
        if (cf__parse_rate(v, n, (double *)dst)) return type_err(f, v, n, msg, msglen);
        return 0;
    default:
        return type_err(f, v, n, msg, msglen);
    }
}

void cf__apply_defaults(const cf__table *t, void *obj)
{
    char msg[256];
    for (const cf__field *f = t->fields; f->name; f++) {
        if (f->type == CF_SECTION) cf__apply_defaults(f->sub, AT(obj, f->offset));
        if (!f->def || (f->type == CF_STRLIST && !f->def[0])) continue;
        if (cf__set_scalar(f, obj, f->def, strlen(f->def), msg, sizeof msg)) {
            lg_error("config", "bad default for %s: %s", f->name, msg);
            abort(); /* a table bug the unit tests catch */
        }
    }
}

void cf__free_fields(const cf__table *t, void *obj)
{
    for (const cf__field *f = t->fields; f->name; f++) {
        void *p = AT(obj, f->offset);
        if (f->type == CF_STRING) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (f->type == CF_STRLIST) {
            cf_strlist *l = p;
            for (int i = 0; i < l->n; i++) free(l->v[i]);
            free(l->v);
            memset(l, 0, sizeof *l);
        } else if (f->type == CF_STRMAP) {
            cf_strmap *m = p;
            for (int i = 0; i < m->n; i++) free(m->k[i]), free(m->v[i]);
            free(m->k);
            free(m->v);
            memset(m, 0, sizeof *m);
        } else if (f->type == CF_SECTION) {
            cf__free_fields(f->sub, p);
        } else if (f->type == CF_MAP) {
            char *items = *(char **)p;
            int *count = (int *)AT(obj, f->count_offset);
            for (int i = 0; i < *count; i++) cf__free_fields(f->sub, items + (size_t)i * f->sub->size);
            free(items);
            *(char **)p = NULL;
            *count = 0;
        }
    }
}

cf_config *cf_default(void)
{
    cf_config *c = ut_calloc(1, sizeof *c);
    cf__apply_defaults(&cf__root, c);
    c->auto_create_streams = true;
    return c;
}

void cf_destroy(cf_config *c)
{
    if (!c) return;
    cf__free_fields(&cf__root, c);
    free(c->file);
    free(c);
}

cf_config *cf_load(const char *path, char *err, size_t errlen)
{
    cf_config *c = NULL;
    char *buf = ut_malloc((size_t)CF_MAX_FILE_BYTES + 1);
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        ut_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    n = fread(buf, 1, (size_t)CF_MAX_FILE_BYTES + 1, f);
    if (ferror(f)) {
        ut_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    if (n > CF_MAX_FILE_BYTES) {
        ut_err(err, errlen, "%s: file is bigger than %d bytes (the limit for config files)", path,
               CF_MAX_FILE_BYTES);
        goto fail;
    }
    c = cf_load_mem(buf, n, path, err, errlen);
fail:
    if (f) fclose(f);
    free(buf);
    return c;
}

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_stream *)elem)->name);
}

const cf_stream *cf_stream_find(const cf_config *c, const char *name)
{
    if (!c || !name || !c->nstreams) return NULL;
    return bsearch(name, c->streams, (size_t)c->nstreams, sizeof(cf_stream), cmp_name);
}

void cf_stream_defaults(cf_stream *out)
{
    memset(out, 0, sizeof *out);
    cf__apply_defaults(&cf__stream_table, out);
}

void cf_stream_clear(cf_stream *s)
{
    cf__free_fields(&cf__stream_table, s);
}

void cf_stream_journal_opts(const cf_config *c, const cf_stream *s, jr_opts *out)
{
    jr_opts_init(out);
    out->fsync = s->fsync.mode;
    if (s->fsync.mode == JR_FSYNC_BATCH) out->batch_ms = s->fsync.batch_ms;
    out->segment_bytes = s->segment_bytes;
    out->retention_ms = s->retention_ms;
    out->retention_bytes = s->retention_bytes;
    if (c) out->max_record_bytes = (uint32_t)c->limits.max_record_bytes;
}

int cf_token_ok(const cf_stream *s, const char *token, size_t len)
{
    if (!s || s->tokens.n == 0) return 1;
    if (!token) len = 0;
    unsigned ok = 0;
    for (int t = 0; t < s->tokens.n; t++) {
        const unsigned char *want = (const unsigned char *)s->tokens.v[t];
        size_t wl = strlen((const char *)want); /* >= 1 when loaded: empty ones are refused */
        if (!wl) continue;
        volatile unsigned diff = wl != len;
        for (size_t i = 0, j = 0; i < len; i++) {
            diff |= (unsigned)((const unsigned char *)token)[i] ^ want[j];
            j = j + 1 == wl ? 0 : j + 1;
        }
        ok |= (unsigned)(diff == 0);
    }
    return (int)ok;
}

const char *cf_strmap_get(const cf_strmap *m, const char *k)
{
    for (int i = 0; m && i < m->n; i++)
        if (!strcmp(m->k[i], k)) return m->v[i];
    return NULL;
}

static int cmp_job(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_job *)elem)->name);
}

static int cmp_pool(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_pool *)elem)->name);
}

const cf_job *cf_job_find(const cf_config *c, const char *name)
{
    if (!c || !name || !c->njobs) return NULL;
    return bsearch(name, c->jobs, (size_t)c->njobs, sizeof(cf_job), cmp_job);
}

const cf_pool *cf_pool_find(const cf_config *c, const char *name)
{
    if (!c || !name || !c->npools) return NULL;
    return bsearch(name, c->pools, (size_t)c->npools, sizeof(cf_pool), cmp_pool);
}

static int cmp_postgres(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_postgres *)elem)->name);
}

static int cmp_mysql(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_mysql *)elem)->name);
}

static int cmp_sqlite(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_sqlite *)elem)->name);
}

static int cmp_redis(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_redis *)elem)->name);
}

static int cmp_snap_table(const void *key, const void *elem)
{
    return strcmp(key, ((const cf_snap_table *)elem)->name);
}

const cf_postgres *cf_postgres_find(const cf_config *c, const char *name)
{
    if (!c || !name || !c->npostgres) return NULL;
    return bsearch(name, c->postgres, (size_t)c->npostgres, sizeof(cf_postgres), cmp_postgres);
}

const cf_mysql *cf_mysql_find(const cf_config *c, const char *name)
{
    if (!c || !name || !c->nmysql) return NULL;
    return bsearch(name, c->mysql, (size_t)c->nmysql, sizeof(cf_mysql), cmp_mysql);
}

const cf_sqlite *cf_sqlite_find(const cf_config *c, const char *name)
{
    if (!c || !name || !c->nsqlite) return NULL;
    return bsearch(name, c->sqlite, (size_t)c->nsqlite, sizeof(cf_sqlite), cmp_sqlite);
}

const cf_redis *cf_redis_find(const cf_config *c, const char *name)
{
    if (!c || !name || !c->nredis) return NULL;
    return bsearch(name, c->redis, (size_t)c->nredis, sizeof(cf_redis), cmp_redis);
}

const cf_snap_table *cf_snap_table_find(const cf_job *j, const char *name)
{
    if (!j || !name || !j->ntables) return NULL;
    return bsearch(name, j->tables, (size_t)j->ntables, sizeof(cf_snap_table), cmp_snap_table);
}
