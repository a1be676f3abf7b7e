/* snap: Redis as a snapshot source (hiredis).
 *
 * A "table" is a named key pattern of the connection (redis.<name>.tables:
 * sessions: "session:*"), called "db<N>.<name>"; its rows are the keys the
 * pattern matches, one a row:
 *
 *   key        the key (text; bytes that are not UTF-8 pass as they are)
 *   type       string, hash, list, set, zset, stream, or "other" (a module's
 *              type: value and size NULL)
 *   value      the value as JSON text: string -> "…", hash -> {"field": "…"}
 *              (fields sorted), list -> ["…"], set -> ["…"] (sorted), zset ->
 *              [["member", score], …] in score order, stream -> [{"id": "…",
 *              "fields": {…}}, …]; a module type -> NULL
 *   ttl_ms     PTTL: milliseconds to expiry, NULL when the key has none
 *   size       the value's elements (a string's bytes)
 *   truncated  the value holds fewer: over max_items elements, over
 *              RD_MAX_STRING bytes of a string, or over RD_MAX_VALUE bytes of
 *              JSON
 *
 * The read, per batch of keys: SCAN <cursor> MATCH <pattern> COUNT
 * <scan_count> (never KEYS), then TYPE of each key pipelined, then for each
 * key MULTI / PTTL / <len> / <value> / EXEC pipelined, the replies read one
 * key at a time by sn_scan_next.  Memory: one SCAN reply's keys and one
 * key's value.  A key gone between SCAN and its read (TYPE none, PTTL -2,
 * or a WRONGTYPE because it was replaced by another type) is skipped.
 *
 * Consistency: Redis has no snapshot.  Each key's TTL, size and value are
 * read together (MULTI), but keys are read at different moments: a key
 * that exists for the whole read is read (at least once: SCAN may return a
 * key twice when the keyspace is resized during the read), one added or
 * removed meanwhile may or may not be.  There is no `where` and no cursor. */
#include "snap/sn_int.h"

#include <hiredis.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define RD_MAX_PASSWORD 1024
#define RD_MAX_STRING (16u << 20)  /* bytes of a string value read (GETRANGE) */
#define RD_MAX_VALUE (64u << 20)   /* JSON bytes of one value before it is cut */
#define RD_IO_TIMEOUT_S 30         /* one reply waited for at most this long */
#define RD_NCOLS 6

enum { T_STRING, T_HASH, T_LIST, T_SET, T_ZSET, T_STREAM, T_OTHER, T_NONE };
static const char *const type_names[] = {"string", "hash", "list", "set", "zset", "stream"};

typedef struct rd_src {
    redisContext *c;
    int64_t db, scan_count, max_items;
    char **tname, **tpat;
    int ntables;
} rd_src;

typedef struct rd_scan {
    const char *pattern;
    char cursor[32];
    int scan_done;     /* the last SCAN gave cursor 0 */
    redisReply *batch; /* the SCAN reply holding the batch's keys */
    int *type;         /* per key of the batch */
    int nkeys, pos;    /* keys of the batch; the next one to read */
    int sel[RD_NCOLS], nsel;
    ut_buf val;
    char ttl[24], size[24];
    int broken;        /* a reply was not as expected: the connection is out of step */
} rd_scan;

static rd_src *src_of(sn_source *s) { return s->impl; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The connection's error, or the reply's. */
static int rd_err(sn_source *s, const char *what, const redisReply *r, char *err, size_t errlen)
{
    const redisContext *c = src_of(s)->c;
    const char *m = r && r->type == REDIS_REPLY_ERROR ? r->str
                    : c && c->err                     ? c->errstr
                                                      : "an unexpected reply";
    return ut_err(err, errlen, "redis \"%s\": %s: %s", s->name, what, m);
}

/* One command (argv, binary-safe), its reply or NULL with a message. */
static redisReply *command(sn_source *s, int argc, const char **argv, const size_t *len,
                           char *err, size_t errlen)
{
    redisReply *r = redisCommandArgv(src_of(s)->c, argc, argv, len);
    if (!r) rd_err(s, argv[0], NULL, err, errlen);
    else if (r->type == REDIS_REPLY_ERROR) {
        rd_err(s, argv[0], r, err, errlen);
        freeReplyObject(r);
        r = NULL;
    }
    return r;
}

/* ---- connecting -------------------------------------------------------------------- */

static int read_password(const cf_redis *c, char *pw, size_t cap, char *err, size_t errlen)
{
    FILE *f = fopen(c->password_file, "r");
    if (!f)
        return ut_err(err, errlen, "redis \"%s\": password_file %s: %s", c->name,
                      c->password_file, strerror(errno));
    if (!fgets(pw, (int)cap, f)) pw[0] = 0;
    fclose(f);
    pw[strcspn(pw, "\r\n")] = 0;
    return 0;
}

/* AUTH and SELECT on the new connection. */
static int login(sn_source *s, const cf_redis *c, char *err, size_t errlen)
{
    if (c->password_file && c->password_file[0]) {
        char pw[RD_MAX_PASSWORD + 1];
        if (read_password(c, pw, sizeof pw, err, errlen)) return -1;
        const char *argv[3] = {"AUTH", c->username, pw};
        size_t len[3] = {4, 0, strlen(pw)};
        int user = c->username && c->username[0];
        if (user) len[1] = strlen(c->username);
        else argv[1] = pw, len[1] = len[2];
        redisReply *r = command(s, user ? 3 : 2, argv, len, err, errlen);
        memset(pw, 0, sizeof pw);
        if (!r) return -1;
        freeReplyObject(r);
    }
    char db[24];
    snprintf(db, sizeof db, "%lld", (long long)c->db);
    const char *argv[2] = {"SELECT", db};
    size_t len[2] = {6, strlen(db)};
    redisReply *r = command(s, 2, argv, len, err, errlen);
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

static void src_free(rd_src *m)
{
    if (!m) return;
    if (m->c) redisFree(m->c);
    for (int i = 0; i < m->ntables; i++) free(m->tname[i]), free(m->tpat[i]);
    free(m->tname);
    free(m->tpat);
    free(m);
}

sn_source *sn_open_redis(const cf_redis *c, char *err, size_t errlen)
{
    rd_src *m = ut_calloc(1, sizeof *m);
    m->db = c->db, m->scan_count = c->scan_count, m->max_items = c->max_items;
    m->tname = ut_calloc((size_t)c->tables.n + 1, sizeof *m->tname);
    m->tpat = ut_calloc((size_t)c->tables.n + 1, sizeof *m->tpat);
    for (; m->ntables < c->tables.n; m->ntables++) {
        m->tname[m->ntables] = ut_strdup(c->tables.k[m->ntables]);
        m->tpat[m->ntables] = ut_strdup(c->tables.v[m->ntables]);
    }
    sn_source *s = ut_calloc(1, sizeof *s);
    s->ops = &sn__redis_ops;
    snprintf(s->name, sizeof s->name, "%s", c->name);
    s->impl = m;
    const char *host = c->host && c->host[0] ? c->host : "127.0.0.1";
    struct timeval tv = {(time_t)(c->connect_timeout_ms / 1000),
                         (suseconds_t)(c->connect_timeout_ms % 1000 * 1000)};
    m->c = redisConnectWithTimeout(host, (int)c->port, tv);
    if (!m->c || m->c->err) {
        ut_err(err, errlen, "redis \"%s\": cannot connect to %s:%lld: %s", c->name, host,
               (long long)c->port, m->c ? m->c->errstr : "out of memory");
        goto fail;
    }
    struct timeval io = {RD_IO_TIMEOUT_S, 0};
    if (redisSetTimeout(m->c, io) != REDIS_OK) {
        ut_err(err, errlen, "redis \"%s\": cannot set a timeout: %s", c->name, m->c->errstr);
        goto fail;
    }
    if (login(s, c, err, errlen)) goto fail;
    return s;
fail:
    src_free(m);
    free(s);
    return NULL;
}

/* ---- list, begin, max -------------------------------------------------------------- */

static int rd_list(sn_source *s, char ***out, char *err, size_t errlen)
{
    rd_src *m = src_of(s);
    char **v = ut_calloc((size_t)m->ntables + 1, sizeof *v);
    for (int i = 0; i < m->ntables; i++) {
        char name[CF_NAME_MAX + 32];
        snprintf(name, sizeof name, "db%lld.%s", (long long)m->db, m->tname[i]);
        v[i] = ut_strdup(name);
    }
    *out = v;
    return m->ntables;
}

static void set_col(sn_column *c, int i, const char *name, const char *type, sn_class cls)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->type, sizeof c->type, "%s", type);
    c->cls = cls;
    c->position = i + 1;
    c->not_null = i < 3;
}

static int rd_begin(sn_scan *sc, const char *table, char *err, size_t errlen)
{
    rd_src *m = src_of(sc->src);
    rd_scan *r = ut_calloc(1, sizeof *r);
    sc->impl = r;
    if (!m->c)
        return ut_err(err, errlen, "redis \"%s\": the connection was closed after a read that "
                      "did not finish", sc->src->name);
    char db[32], schema[32], name[256];
    int found = -1;
    snprintf(db, sizeof db, "db%lld", (long long)m->db);
    if (!sn__split_name(table, schema, sizeof schema, name, sizeof name) && !strcmp(schema, db))
        for (int i = 0; i < m->ntables; i++)
            if (!strcmp(m->tname[i], name)) found = i;
    if (found < 0)
        return ut_err(err, errlen, "redis \"%s\": table %s does not exist (the tables are "
                      "%s.<name> of redis.%s.tables)", sc->src->name, table, db, sc->src->name);
    if (sc->where[0])
        return ut_err(err, errlen, "redis \"%s\": table %s: Redis has no `where` (a table is "
                      "the keys its pattern matches)", sc->src->name, table);
    r->pattern = m->tpat[found];
    snprintf(r->cursor, sizeof r->cursor, "0");
    sc->cols = ut_calloc(RD_NCOLS, sizeof *sc->cols);
    set_col(&sc->cols[0], 0, "key", "key", SN_STRING);
    set_col(&sc->cols[1], 1, "type", "type", SN_STRING);
    set_col(&sc->cols[2], 2, "value", "json", SN_STRING);
    set_col(&sc->cols[3], 3, "ttl_ms", "pttl", SN_INT64);
    set_col(&sc->cols[4], 4, "size", "integer", SN_INT64);
    set_col(&sc->cols[5], 5, "truncated", "boolean", SN_BOOL);
    sc->ncols = RD_NCOLS;
    return 0;
}

static int rd_max(sn_scan *sc, const char *column, char *out, size_t cap, char *err,
                  size_t errlen)
{
    return ut_err(err, errlen, "redis \"%s\": table %s: an incremental cursor does not apply to "
                  "Redis (keys have no order to resume from and no snapshot); remove "
                  "tables.%s.cursor, every run reads all the keys", sc->src->name, sc->table,
                  sc->table);
}

static int rd_start(sn_scan *sc, const int *sel, int nsel, char *err, size_t errlen)
{
    rd_scan *r = sc->impl;
    if (nsel > RD_NCOLS) return ut_err(err, errlen, "table %s: too many columns", sc->table);
    memcpy(r->sel, sel, (size_t)nsel * sizeof *sel);
    r->nsel = nsel;
    ut_buf_reset(&r->val);
    return 0;
}

/* ---- a batch: SCAN, TYPE, then the value blocks ----------------------------------- */

static int type_of(const redisReply *t)
{
    if (!t || t->type != REDIS_REPLY_STATUS) return T_NONE;
    for (int i = 0; i < T_OTHER; i++)
        if (!strcmp(t->str, type_names[i])) return i;
    return strcmp(t->str, "none") ? T_OTHER : T_NONE;
}

static void free_batch(rd_scan *r)
{
    if (r->batch) freeReplyObject(r->batch);
    r->batch = NULL;
    free(r->type);
    r->type = NULL;
    r->nkeys = r->pos = 0;
}

static const redisReply *key_at(const rd_scan *r, int i)
{
    return r->batch->element[1]->element[i];
}

/* Queue MULTI / PTTL / <len> / <value> / EXEC for key i of type t. */
static void queue_block(sn_source *s, const rd_scan *r, int i, int t)
{
    redisContext *c = src_of(s)->c;
    const redisReply *k = key_at(r, i);
    char cap[24], last[24];
    long long items = (long long)src_of(s)->max_items;
    snprintf(cap, sizeof cap, "%lld", items);
    snprintf(last, sizeof last, "%lld", t == T_STRING ? (long long)RD_MAX_STRING - 1 : items - 1);
    static const char *const len_cmd[] = {"STRLEN", "HLEN", "LLEN", "SCARD", "ZCARD", "XLEN"};
    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "PTTL %b", k->str, k->len);
    switch (t) {
    case T_STRING: redisAppendCommand(c, "GETRANGE %b 0 %s", k->str, k->len, last); break;
    case T_HASH: redisAppendCommand(c, "HSCAN %b 0 COUNT %s", k->str, k->len, cap); break;
    case T_LIST: redisAppendCommand(c, "LRANGE %b 0 %s", k->str, k->len, last); break;
    case T_SET: redisAppendCommand(c, "SSCAN %b 0 COUNT %s", k->str, k->len, cap); break;
    case T_ZSET: redisAppendCommand(c, "ZRANGE %b 0 %s WITHSCORES", k->str, k->len, last); break;
    case T_STREAM: redisAppendCommand(c, "XRANGE %b - + COUNT %s", k->str, k->len, cap); break;
    default: break;
    }
    if (t < T_OTHER) redisAppendCommand(c, "%s %b", len_cmd[t], k->str, k->len);
    redisAppendCommand(c, "EXEC");
}

/* TYPE of every key of the batch, pipelined; then their blocks queued. */
static int type_batch(sn_scan *sc, char *err, size_t errlen)
{
    rd_scan *r = sc->impl;
    redisContext *c = src_of(sc->src)->c;
    for (int i = 0; i < r->nkeys; i++)
        redisAppendCommand(c, "TYPE %b", key_at(r, i)->str, key_at(r, i)->len);
    r->type = ut_calloc((size_t)r->nkeys + 1, sizeof *r->type);
    for (int i = 0; i < r->nkeys; i++) {
        void *p = NULL;
        if (redisGetReply(c, &p) != REDIS_OK) return rd_err(sc->src, "TYPE", NULL, err, errlen);
        r->type[i] = type_of(p);
        int bad = p && ((redisReply *)p)->type == REDIS_REPLY_ERROR;
        if (bad) rd_err(sc->src, "TYPE", p, err, errlen);
        freeReplyObject(p);
        if (bad) return -1;
    }
    for (int i = 0; i < r->nkeys; i++)
        if (r->type[i] != T_NONE) queue_block(sc->src, r, i, r->type[i]);
    return 0;
}

/* The next batch of keys: SCAN, and their TYPEs.  0 / -1. */
static int next_batch(sn_scan *sc, char *err, size_t errlen)
{
    rd_scan *r = sc->impl;
    rd_src *m = src_of(sc->src);
    free_batch(r);
    char count[24];
    snprintf(count, sizeof count, "%lld", (long long)m->scan_count);
    const char *argv[6] = {"SCAN", r->cursor, "MATCH", r->pattern, "COUNT", count};
    size_t len[6] = {4, strlen(r->cursor), 5, strlen(r->pattern), 5, strlen(count)};
    redisReply *b = command(sc->src, 6, argv, len, err, errlen);
    if (!b) return -1;
    if (b->type != REDIS_REPLY_ARRAY || b->elements != 2 ||
        b->element[0]->type != REDIS_REPLY_STRING || b->element[0]->len >= sizeof r->cursor ||
        b->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(b);
        return rd_err(sc->src, "SCAN", NULL, err, errlen);
    }
    memcpy(r->cursor, b->element[0]->str, b->element[0]->len + 1);
    r->scan_done = !strcmp(r->cursor, "0");
    r->batch = b;
    r->nkeys = (int)b->element[1]->elements;
    for (int i = 0; i < r->nkeys; i++)
        if (key_at(r, i)->type != REDIS_REPLY_STRING)
            return rd_err(sc->src, "SCAN", NULL, err, errlen);
    return r->nkeys ? type_batch(sc, err, errlen) : 0;
}

/* ---- values as JSON ---------------------------------------------------------------- */

static int cmp_reply(const void *a, const void *b)
{
    const redisReply *x = *(redisReply *const *)a, *y = *(redisReply *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void json_bulk(ut_buf *b, const redisReply *e)
{
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
        ut_json_str(b, e->str, e->len);
    else if (e->type == REDIS_REPLY_INTEGER) ut_buf_printf(b, "%lld", e->integer);
    else ut_buf_puts(b, "null");
}

/* A score as JSON: a number, or "inf" / "-inf" (JSON has no infinities). */
static void json_score(ut_buf *b, const redisReply *e)
{
    char t[64], *end;
    size_t n = e->len < sizeof t - 1 ? e->len : sizeof t - 1;
    memcpy(t, e->str ? e->str : "", n), t[n] = 0;
    double d = strtod(t, &end);
    if (n && !*end && d == d && d - d == 0) ut_buf_puts(b, t);
    else ut_json_str(b, t, n);
}

/* Elements p[0..n) in groups of `step` (1: strings; 2: pairs), sorted by
 * their first when `sorted`, as an array (or an object of pairs).  Stops at
 * max elements or RD_MAX_VALUE bytes; 1 when it stopped early. */
static int json_elems(ut_buf *b, redisReply **p, size_t n, int step, int object, int zset,
                      size_t max)
{
    size_t groups = n / (size_t)step, k = 0;
    ut_buf_putc(b, object ? '{' : '[');
    for (; k < groups && k < max && b->len < RD_MAX_VALUE; k++) {
        redisReply **g = p + k * (size_t)step;
        if (k) ut_buf_putc(b, ',');
        if (step == 1) json_bulk(b, g[0]);
        else if (object) json_bulk(b, g[0]), ut_buf_putc(b, ':'), json_bulk(b, g[1]);
        else {
            ut_buf_putc(b, '['), json_bulk(b, g[0]), ut_buf_putc(b, ',');
            if (zset) json_score(b, g[1]);
            else json_bulk(b, g[1]);
            ut_buf_putc(b, ']');
        }
    }
    ut_buf_putc(b, object ? '}' : ']');
    return k < groups;
}

/* Sort pairs by their first element (a hash's fields): via an index. */
static void sort_pairs(redisReply **p, size_t n)
{
    size_t pairs = n / 2;
    redisReply **firsts = ut_calloc(pairs + 1, sizeof *firsts);
    redisReply **out = ut_calloc(n + 1, sizeof *out);
    for (size_t i = 0; i < pairs; i++) firsts[i] = p[2 * i];
    qsort(firsts, pairs, sizeof *firsts, cmp_reply);
    /* the field's value follows it in p: find it by identity */
    for (size_t i = 0, o = 0; i < pairs; i++)
        for (size_t j = 0; j < pairs; j++)
            if (p[2 * j] == firsts[i]) {
                out[o++] = p[2 * j], out[o++] = p[2 * j + 1];
                break;
            }
    memcpy(p, out, pairs * 2 * sizeof *p);
    free(firsts);
    free(out);
}

/* A stream's entries [[id, [f, v, ...]], ...] as [{"id": ..., "fields": {...}}]. */
static int json_stream(ut_buf *b, const redisReply *v, size_t max)
{
    size_t k = 0;
    ut_buf_putc(b, '[');
    for (; k < v->elements && k < max && b->len < RD_MAX_VALUE; k++) {
        const redisReply *e = v->element[k];
        if (k) ut_buf_putc(b, ',');
        ut_buf_puts(b, "{\"id\":");
        json_bulk(b, e->elements > 0 ? e->element[0] : e);
        ut_buf_puts(b, ",\"fields\":");
        if (e->elements > 1 && e->element[1]->type == REDIS_REPLY_ARRAY)
            json_elems(b, e->element[1]->element, e->element[1]->elements, 2, 1, 0, (size_t)-1);
        else ut_buf_puts(b, "{}");
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
    return k < v->elements;
}

/* The value reply v of a key of type t into r->val; *cut when it holds
 * less than the key has.  0, or 1 when v says the key is gone or retyped. */
static int json_value(rd_scan *r, int t, redisReply *v, size_t max, long long size, int *cut)
{
    ut_buf *b = &r->val;
    ut_buf_reset(b);
    if (v->type == REDIS_REPLY_ERROR || v->type == REDIS_REPLY_NIL) return 1;
    if (t == T_STRING) {
        if (v->type != REDIS_REPLY_STRING) return 1;
        ut_json_str(b, v->str, v->len);
        *cut = size > (long long)v->len;
        return 0;
    }
    if (t == T_HASH || t == T_SET) { /* [cursor, [elements]] */
        if (v->type != REDIS_REPLY_ARRAY || v->elements != 2 ||
            v->element[1]->type != REDIS_REPLY_ARRAY)
            return 1;
        redisReply *e = v->element[1];
        if (t == T_HASH) sort_pairs(e->element, e->elements);
        else qsort(e->element, e->elements, sizeof *e->element, cmp_reply);
        int stop = json_elems(b, e->element, e->elements, t == T_HASH ? 2 : 1, t == T_HASH, 0, max);
        size_t got = e->elements / (t == T_HASH ? 2 : 1);
        const char *more = v->element[0]->str ? v->element[0]->str : "0"; /* the cursor */
        *cut = stop || (long long)got < size || strcmp(more, "0");
        return size == 0;
    }
    if (v->type != REDIS_REPLY_ARRAY) return 1;
    int stop = t == T_STREAM ? json_stream(b, v, max)
                             : json_elems(b, v->element, v->elements, t == T_ZSET ? 2 : 1, 0,
                                          t == T_ZSET, max);
    size_t got = t == T_ZSET ? v->elements / 2 : v->elements;
    *cut = stop || (long long)got < size;
    return size == 0 && t != T_STREAM; /* an empty stream exists; no other empty value does */
}

/* ---- rows -------------------------------------------------------------------------- */

/* The replies of one key's block: OK, QUEUED..., then EXEC's array. */
static int read_block(sn_scan *sc, int queued, redisReply **exec, char *err, size_t errlen)
{
    redisContext *c = src_of(sc->src)->c;
    for (int i = 0; i < queued + 2; i++) {
        void *p = NULL;
        if (redisGetReply(c, &p) != REDIS_OK)
            return rd_err(sc->src, "reading a key", NULL, err, errlen);
        redisReply *q = p;
        if (i == queued + 1) {
            if (q->type != REDIS_REPLY_ARRAY || (int)q->elements != queued) {
                rd_err(sc->src, "EXEC", q, err, errlen);
                freeReplyObject(q);
                return -1;
            }
            *exec = q;
            return 0;
        }
        int bad = q->type == REDIS_REPLY_ERROR;
        if (bad) rd_err(sc->src, i ? "queueing a read" : "MULTI", q, err, errlen);
        freeReplyObject(q);
        if (bad) return -1;
    }
    return -1;
}

/* Fill the row of key i from its EXEC reply.  1 a row, 0 the key is gone. */
static int key_row(sn_scan *sc, int i, redisReply *x, const char **v, size_t *n)
{
    rd_scan *r = sc->impl;
    int t = r->type[i], cut = 0;
    const redisReply *k = key_at(r, i), *pttl = x->element[0];
    if (pttl->type != REDIS_REPLY_INTEGER || pttl->integer == -2) return 0;
    size_t max = (size_t)src_of(sc->src)->max_items;
    long long size = 0;
    if (t < T_OTHER && x->element[2]->type == REDIS_REPLY_INTEGER) size = x->element[2]->integer;
    if (t < T_OTHER && json_value(r, t, x->element[1], max, size, &cut)) return 0;
    snprintf(r->ttl, sizeof r->ttl, "%lld", pttl->integer);
    snprintf(r->size, sizeof r->size, "%lld", size);
    for (int s = 0; s < r->nsel; s++) {
        switch (r->sel[s]) {
        case 0: v[s] = k->str, n[s] = k->len; break;
        case 1: v[s] = t < T_OTHER ? type_names[t] : "other", n[s] = strlen(v[s]); break;
        case 2:
            v[s] = t < T_OTHER ? ut_buf_cstr(&r->val) : NULL;
            n[s] = t < T_OTHER ? r->val.len : 0;
            break;
        case 3: v[s] = pttl->integer >= 0 ? r->ttl : NULL, n[s] = strlen(r->ttl); break;
        case 4: v[s] = t < T_OTHER ? r->size : NULL, n[s] = strlen(r->size); break;
        default: v[s] = cut ? "1" : "0", n[s] = 1; break;
        }
    }
    return 1;
}

static int rd_next(sn_scan *sc, const char **v, size_t *n, const atomic_int *cancel,
                   int64_t deadline_ms, char *err, size_t errlen)
{
    rd_scan *r = sc->impl;
    for (;;) {
        if (cancel && atomic_load(cancel))
            return ut_err(err, errlen, "redis \"%s\": table %s: stopped", sc->src->name, sc->table);
        if (deadline_ms && now_ms() > deadline_ms)
            return ut_err(err, errlen, "redis \"%s\": table %s: the job's timeout passed",
                          sc->src->name, sc->table);
        if (r->pos == r->nkeys) {
            if (r->scan_done) return 0;
            if (next_batch(sc, err, errlen)) return r->broken = 1, -1;
            continue;
        }
        int i = r->pos++;
        if (r->type[i] == T_NONE) continue; /* gone since SCAN */
        redisReply *x = NULL;
        if (read_block(sc, r->type[i] < T_OTHER ? 3 : 1, &x, err, errlen)) return r->broken = 1, -1;
        int got = key_row(sc, i, x, v, n); /* the row points into r and the batch, not x */
        freeReplyObject(x);
        if (got) return 1;
    }
}

static void rd_end(sn_scan *sc)
{
    rd_scan *r = sc->impl;
    if (!r) return;
    rd_src *m = src_of(sc->src);
    /* replies still due (a scan ended early or failed mid-block): the
     * connection is out of step, so it is closed rather than drained */
    if (m->c && (r->pos < r->nkeys || r->broken)) {
        redisFree(m->c);
        m->c = NULL;
    }
    free_batch(r);
    ut_buf_free(&r->val);
    free(r);
    sc->impl = NULL;
}

static void rd_close(sn_source *s) { src_free(src_of(s)); }

const sn_ops sn__redis_ops = {.name = "redis", .list = rd_list, .begin = rd_begin, .max = rd_max,
                            .start = rd_start, .next = rd_next, .end = rd_end,
                            .close = rd_close}; /* no shared snapshots: no parallel reads */
