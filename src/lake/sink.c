/* The lake sink: journal → per-partition buffers → Parquet files → one catalog
 * commit of the files and the stream position (see lake.h). */
#include "lake/lk_int.h"
#include "lake/sink_int.h"
#include "log/log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define READ_BATCH 4096
#define READ_BYTES (16u << 20)

void lk_sink_opts_init(lk_sink_opts *o)
{
    memset(o, 0, sizeof *o);
    o->event_time_field = "event_time";
    o->roll_bytes = 64ull << 20;
    o->roll_rows = 1000000;
    o->roll_age_ms = 60000;
    o->max_open_partitions = 100;
    o->max_buffer_bytes = 256ull << 20;
    o->max_columns = 1000;
    o->compact_min_files = 8;
    o->compact_target_bytes = 128ull << 20;
    o->maintenance_interval_ms = 60000;
    o->trash_grace_ms = 600000;
    o->codec = PQ_ZSTD;
}

int64_t lk__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- buffers ------------------------------------------------------------------- */

static void buf_add(lk__buf *b, const uint8_t *p, uint32_t n, int64_t ts, uint64_t off,
                    const char *reason)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->len = ut_realloc(b->len, b->cap * sizeof *b->len);
        b->ts = ut_realloc(b->ts, b->cap * sizeof *b->ts);
        b->off = ut_realloc(b->off, b->cap * sizeof *b->off);
        if (reason) b->why = ut_realloc(b->why, b->cap * sizeof *b->why);
    }
    b->len[b->n] = n;
    b->ts[b->n] = ts;
    b->off[b->n] = off;
    if (reason) {
        b->why[b->n] = (uint32_t)b->reasons.len;
        ut_buf_put(&b->reasons, reason, strlen(reason) + 1);
    }
    b->n++;
    ut_buf_put(&b->data, p, n);
}

static void buf_free(lk__buf *b)
{
    ut_buf_free(&b->data);
    ut_buf_free(&b->reasons);
    free(b->len);
    free(b->ts);
    free(b->off);
    free(b->why);
    memset(b, 0, sizeof *b);
}

/* The open partition of key, creating it; NULL when at the open-partition
 * cap (the caller flushes first). */
static lk__buf *part_buf(lk_sink *s, int64_t key, int create)
{
    if (s->last_part >= 0 && s->parts[s->last_part].key == key) return &s->parts[s->last_part];
    for (int i = 0; i < s->nparts; i++) /* the open set is small (capped) */
        if (s->parts[i].key == key) {
            s->last_part = i;
            return &s->parts[i];
        }
    if (!create || s->nparts >= s->o.max_open_partitions) return NULL;
    if (s->nparts == s->cap_parts) {
        s->cap_parts = s->cap_parts ? s->cap_parts * 2 : 16;
        s->parts = ut_realloc(s->parts, (size_t)s->cap_parts * sizeof *s->parts);
    }
    lk__buf *b = &s->parts[s->nparts];
    memset(b, 0, sizeof *b);
    b->key = key;
    b->min_off = INT64_MAX;
    s->last_part = s->nparts++;
    return b;
}

/* ---- shred one record -------------------------------------------------------------- *
 *
 * One parse per record: its fields are collected, checked against the schema,
 * and put straight into the Parquet writer of the record's partition.  A new
 * key or a wider type changes the schema; files must have one schema, so the
 * open partitions are flushed and committed first (rare after a table's first
 * records), the change is recorded, and new writers take the new columns. */

/* A string is a timestamp when it parses as RFC 3339 and its text can be
 * written again exactly from the instant and its layout (so a column that
 * widens to string later keeps every text: tstext.c); "…00.123456789Z"
 * does not fit in microseconds, so it is a string. */
static int is_timestamp_text(const js_value *v)
{
    int64_t us;
    ut_ts_layout lay;
    return v->n >= 19 && v->n <= 40 && ut_ts_parse_layout(v->s, v->n, &us, &lay) == 0;
}

/* Two different keys of one record in one column (the naming rule maps
 * "name" and "name_2" to name_2 once "Name" exists): the record is rejected.
 * The same key twice keeps its first value.  0 or 1 (*why set). */
static int same_column(lk_sink *s, int nf, char *why, size_t nwhy)
{
    if (s->cap_seen < s->schema.n) {
        int old = s->cap_seen;
        s->cap_seen = s->schema.n * 2;
        s->seen = ut_realloc(s->seen, (size_t)s->cap_seen * sizeof *s->seen);
        s->seen_field = ut_realloc(s->seen_field, (size_t)s->cap_seen * sizeof *s->seen_field);
        for (int i = old; i < s->cap_seen; i++) s->seen[i] = 0;
    }
    uint64_t seq = ++s->shred_seq;
    for (int i = 0; i < nf; i++) {
        struct lk__fv *x = &s->fv[i];
        if (x->ci < 0) continue;
        if (s->seen[x->ci] != seq) {
            s->seen[x->ci] = seq;
            s->seen_field[x->ci] = i;
            continue;
        }
        const js_field *a = &s->fv[s->seen_field[x->ci]].f, *b = &x->f;
        if (a->key_len == b->key_len &&
            (s->schema.case_insensitive ? !strncasecmp(a->key, b->key, a->key_len)
                                        : !memcmp(a->key, b->key, a->key_len))) {
            x->ci = -1; /* a repeated key: the first value stays */
            continue;
        }
        char ka[LK_NAME_MAX + 1], kb[LK_NAME_MAX + 1];
        lk_colname_base(a->key, a->key_len, ka);
        lk_colname_base(b->key, b->key_len, kb);
        return ut_err(why, nwhy, "keys '%.60s' and '%.60s' both map to column '%.60s' of table %s",
                      ka, kb, s->schema.cols[x->ci].name, s->o.table), 1;
    }
    return 0;
}

/* Add the record's new columns and widen the others (after the open files
 * were landed).  0, 1 (rejected: nothing changed), -1 (error). */
static int evolve(lk_sink *s, int nf, char *why, size_t nwhy, char *err, size_t errlen)
{
    lk__schema_mark mark = lk__schema_save(&s->schema);
    for (int i = 0; i < nf; i++) {
        struct lk__fv *x = &s->fv[i];
        if (x->ci >= 0) continue;
        x->ci = lk__schema_observe(&s->schema, x->f.key, x->f.key_len, x->f.v.kind, x->is_ts);
        if (x->ci < 0) {
            int cap = x->ci == -1;
            lk__schema_rollback(&s->schema, mark);
            if (cap)
                return ut_err(why, nwhy, "record would take table %s over its %d-column cap",
                              s->o.table, s->schema.max_columns), 1;
            char k[LK_NAME_MAX + 1];
            lk_colname_base(x->f.key, x->f.key_len, k);
            return ut_err(why, nwhy, "key '%.60s' has no free column name in table %s "
                                     "(%d suffixes taken)", k, s->o.table, LK_NAME_TRIES), 1;
        }
    }
    if (same_column(s, nf, why, nwhy)) {
        lk__schema_rollback(&s->schema, mark);
        return 1;
    }
    for (int i = 0; i < nf; i++) {
        struct lk__fv *x = &s->fv[i];
        if (x->ci >= 0 && x->f.v.kind != JS_NULL)
            lk__schema_note(&s->schema, x->ci, x->f.v.kind, x->is_ts);
    }
    if (s->schema.dirty && lk__schema_commit(s, err, errlen)) return -1;
    return 0;
}

/* Returns 0 (landed in a writer), 1 (rejected: *why says why), 2 (a timestamp
 * or double column widened to string while records were buffered: the buffers
 * were dropped and the sink went back to its committed position, so they land
 * again in the wider type and keep their original text), -1 (error). */
static int shred(lk_sink *s, const jr_record *r, char *why, size_t nwhy, char *err, size_t errlen)
{
    char jerr[200];
    int64_t event_us = r->ts_us;
    if (js_obj_begin(s->js, (const char *)r->p, r->n, jerr, sizeof jerr))
        return ut_err(why, nwhy, "%s", jerr), 1;
    size_t etl = strlen(s->o.event_time_field);
    int nf = 0, change = 0, lossy = 0, rc, nohint = -1;
    for (;;) {
        if (nf == s->cap_fv) {
            s->cap_fv = s->cap_fv ? s->cap_fv * 2 : 64;
            s->fv = ut_realloc(s->fv, (size_t)s->cap_fv * sizeof *s->fv);
        }
        struct lk__fv *x = &s->fv[nf];
        rc = js_obj_next(s->js, &x->f, jerr, sizeof jerr);
        if (rc != 1) break;
        const js_field *f = &x->f;
        if (etl && f->key_len == etl && !memcmp(f->key, s->o.event_time_field, etl)) {
            int64_t us;
            if (lk__event_time(&f->v, s->o.time_format, &us) == 0) event_us = us;
        }
        int *hint = nf < 64 ? &s->hints[nf] : &nohint;
        x->ci = lk__schema_find_hint(&s->schema, f->key, f->key_len, hint);
        x->is_ts = 0;
        if (f->v.kind == JS_STRING) {
            ct_type t = x->ci >= 0 ? s->schema.cols[x->ci].type : (ct_type)0;
            if (t == 0 || t == CT_TIMESTAMP) x->is_ts = is_timestamp_text(&f->v);
        }
        if (x->ci < 0) {
            change = 1;
        } else if (f->v.kind != JS_NULL && lk__schema_widens(&s->schema, x->ci, f->v.kind, x->is_ts)) {
            ct_type t = s->schema.cols[x->ci].type; /* these widen to string: their text differs */
            change = 1;
            lossy |= t == CT_TIMESTAMP || t == CT_DOUBLE;
        }
        nf++;
    }
    if (rc < 0) return ut_err(why, nwhy, "%s", jerr), 1;
    if (change) {
        /* land what the open writers hold, under the schema they were made
         * with -- unless a column widens to string from a type whose text
         * differs from the record's: then the buffers are read again (a few
         * times per file at most, so the work stays bounded) */
        int reread = lossy && s->buffered_records && s->rereads < LK__MAX_REREADS;
        if (s->buffered_records && !reread) {
            s->read_offset = r->offset;
            if (lk__flush(s, err, errlen)) return -1;
        }
        int e = evolve(s, nf, why, nwhy, err, errlen);
        if (e) return e;
        if (reread) {
            s->rereads++;
            lk__rewind(s);
            return 2;
        }
    } else if (same_column(s, nf, why, nwhy)) {
        return 1;
    }
    int64_t key = lk__part_key(event_us, s->o.partition);
    lk__buf *b = part_buf(s, key, 1);
    if (!b || (b->w && !lk__ts_room(b, s->fv, nf))) {
        /* open-partition cap, or the file's timestamp texts are full: land
         * everything so far */
        s->read_offset = r->offset;
        if (lk__flush(s, err, errlen)) return -1;
        b = part_buf(s, key, 1);
    }
    if (!b->w && lk__part_open(s, b, err, errlen)) return -1;
    for (int i = 0; i < nf; i++) {
        const struct lk__fv *x = &s->fv[i];
        if (x->ci < 0 || x->ci >= b->wn || b->wcol[x->ci] < 0) continue; /* null-only, repeated */
        lk__put_value(b->w, b->wcol[x->ci], s->schema.cols[x->ci].type, &x->f.v, b->tst[x->ci]);
    }
    int ing = b->wcol[b->wn]; /* _ingest_ts */
    if (pq_writer_put_i64(b->w, ing, r->ts_us) || pq_writer_end_row(b->w))
        return ut_err(err, errlen, "table %s: %s", s->o.table, pq_writer_error(b->w));
    b->n++;
    if ((int64_t)r->offset < b->min_off) b->min_off = (int64_t)r->offset;
    b->max_off = (int64_t)r->offset;
    return 0;
}

static int due(lk_sink *s, int64_t now_ms)
{
    if (!s->buffered_records && !s->errors.n) return 0;
    if (s->buffered_bytes >= s->o.roll_bytes || s->buffered_bytes >= s->o.max_buffer_bytes)
        return 1;
    if ((int64_t)s->buffered_records >= s->o.roll_rows) return 1;
    return now_ms - s->oldest_buffered_ms >= s->o.roll_age_ms;
}

/* Buffer records (flushing first whenever a new partition would pass the cap).
 * 0, 1 (went back to the committed position: read again), -1. */
static int consume(lk_sink *s, const jr_record *recs, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const jr_record *r = &recs[i];
        if (r->offset != s->read_offset) {
            /* retention removed records before they landed, or damage (journal recovery) */
            uint64_t lost = r->offset - s->read_offset;
            s->stats.lost_to_retention += lost;
            lg_warn("sink", "sink %s: offsets %llu..%llu are not in the journal (deleted by "
                    "retention, or lost to damage or skipped by recovery: see the journal's log) "
                    "and never land in the lake", s->o.table, (unsigned long long)s->read_offset,
                    (unsigned long long)r->offset - 1);
            if (!s->buffered_records && !s->errors.n) s->position_hint = r->offset;
        }
        char why[256];
        if (!s->buffered_records && !s->errors.n) s->oldest_buffered_ms = lk__now_ms();
        int rc = shred(s, r, why, sizeof why, err, errlen);
        if (rc < 0) return -1;
        if (rc == 2) return 1;
        if (!s->buffered_records && !s->errors.n) s->oldest_buffered_ms = lk__now_ms();
        if (rc == 1) {
            buf_add(&s->errors, r->p, r->n, r->ts_us, r->offset, why);
        } else {
            s->buffered_records++;
            s->buffered_bytes += r->n;
            if (r->ts_us < s->oldest_ingest_us || !s->oldest_ingest_us) s->oldest_ingest_us = r->ts_us;
        }
        s->read_offset = r->offset + 1;
        if (s->buffered_bytes >= s->o.roll_bytes || s->buffered_bytes >= s->o.max_buffer_bytes ||
            (int64_t)s->buffered_records >= s->o.roll_rows)
            if (lk__flush(s, err, errlen)) return -1;
    }
    return 0;
}

static void publish(lk_sink *s)
{
    pthread_mutex_lock(&s->mu);
    s->stats.read_offset = s->read_offset;
    s->stats.buffered_records = s->buffered_records + s->errors.n;
    s->stats.buffered_bytes = s->buffered_bytes;
    s->stats.open_partitions = s->nparts;
    s->stats.columns = s->schema.n;
    pthread_mutex_unlock(&s->mu);
}

/* A committed position past the stream's end means the journal lost records
 * that were already landed; reading on would wait for offsets that may never
 * come (or come back as other records).  The sink stops, loudly, until the
 * stream's end passes the position again.  0, or -1 with a message. */
static int check_past_end(lk_sink *s, char *err, size_t errlen)
{
    jr_info in;
    jr_stream_info(s->o.stream, &in);
    int past = s->read_offset > in.next_offset;
    pthread_mutex_lock(&s->mu);
    s->stats.past_end = past;
    s->stats.stream_end = in.next_offset;
    pthread_mutex_unlock(&s->mu);
    if (!past) return 0;
    return ut_err(err, errlen, "sink %s stopped: its position %llu is past the end of stream %s "
                  "(%llu): the journal lost acknowledged records", s->o.table,
                  (unsigned long long)s->read_offset, s->o.stream_name,
                  (unsigned long long)in.next_offset);
}

int lk_sink_step(lk_sink *s, int flush, char *err, size_t errlen)
{
    int total = 0;
    if (check_past_end(s, err, errlen)) return -1;
    /* While a flush keeps failing, stop reading: memory stays bounded. */
    while (s->buffered_bytes < s->o.max_buffer_bytes) {
        int n = jr_read(s->reader, s->read_offset, s->recs, READ_BATCH, READ_BYTES, err, errlen);
        if (n < 0) return -1;
        if (n == 0) break;
        int c = consume(s, s->recs, n, err, errlen);
        if (c < 0) return -1;
        total += n;
        publish(s);
        if (c) continue; /* rewound: read the dropped records again */
        if (n < READ_BATCH) break;
    }
    if ((flush && (s->buffered_records || s->errors.n)) || due(s, lk__now_ms()))
        if (lk__flush(s, err, errlen)) return -1;
    publish(s);
    return total;
}

/* ---- thread ---------------------------------------------------------------------- */

/* Wait ms, or less when a stop is asked (lk_sink_stop_begin wakes it). */
static void wait_or_stop(lk_sink *s, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->wake_mu);
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
        if (pthread_cond_timedwait(&s->wake, &s->wake_mu, &ts) == ETIMEDOUT) break;
    pthread_mutex_unlock(&s->wake_mu);
}

/* After a failed step: record it, wait (half to all of *base: sinks failing
 * together do not retry in step), double *base up to the cap. */
static void back_off(lk_sink *s, const char *err, int64_t *base)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    int64_t wait = *base / 2 + (int64_t)(s->rng % (uint64_t)(*base / 2 + 1));
    pthread_mutex_lock(&s->mu);
    snprintf(s->stats.last_error, sizeof s->stats.last_error, "%.255s", err);
    s->stats.retries++;
    s->stats.retry_backoff_ms = wait;
    pthread_mutex_unlock(&s->mu);
    lg_error("sink", "sink %s: %s (retrying in %lld ms)", s->o.table, err, (long long)wait);
    wait_or_stop(s, wait);
    *base = *base * 2 < LK_RETRY_MAX_MS ? *base * 2 : LK_RETRY_MAX_MS;
}

static void *run(void *arg)
{
    lk_sink *s = arg;
    char err[512];
    int64_t base_ms = LK_RETRY_FIRST_MS;
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        int n = lk_sink_step(s, 0, err, sizeof err);
        if (n < 0) {
            back_off(s, err, &base_ms);
            /* a landing whose commit and cleanup both failed left objects at
             * the names the retry uses (the store never replaces one): collect
             * what the catalog does not know before trying again */
            if (lk__gc(s, err, sizeof err))
                lg_warn("sink", "sink %s: collecting uncommitted files: %s", s->o.table, err);
            continue;
        }
        if (base_ms != LK_RETRY_FIRST_MS) { /* recovered */
            base_ms = LK_RETRY_FIRST_MS;
            pthread_mutex_lock(&s->mu);
            s->stats.retry_backoff_ms = 0;
            pthread_mutex_unlock(&s->mu);
        }
        int64_t now = lk__now_ms();
        if (s->o.maintenance_interval_ms > 0 && now - s->last_maint_ms >= s->o.maintenance_interval_ms) {
            s->last_maint_ms = now;
            if (lk__maintain(s, err, sizeof err))
                lg_warn("sink", "table %s: maintenance: %s", s->o.table, err);
        }
        if (n > 0) continue;
        int wait_ms = 1000;
        if (s->buffered_records || s->errors.n) {
            int64_t left = s->oldest_buffered_ms + s->o.roll_age_ms - lk__now_ms();
            if (left < wait_ms) wait_ms = left < 1 ? 1 : (int)left;
        }
        jr_stream_wait(s->o.stream, s->read_offset, wait_ms);
    }
    /* final flush on the way out */
    if (lk_sink_step(s, 1, err, sizeof err) < 0)
        lg_error("sink", "sink %s: final flush failed: %s", s->o.table, err);
    return NULL;
}

int lk_sink_start(lk_sink *s, char *err, size_t errlen)
{
    if (s->running) return 0;
    if (pthread_create(&s->thread, NULL, run, s))
        return ut_err(err, errlen, "sink %s: cannot start thread", s->o.table);
    char name[16]; /* "sink:<stream>" shows in top -H and /proc/<pid>/task/<tid>/comm */
    snprintf(name, sizeof name, "sink:%.10s", s->o.stream_name);
    pthread_setname_np(s->thread, name);
    s->running = 1;
    return 0;
}

void lk_sink_stop_begin(lk_sink *s)
{
    if (!s || !s->running) return;
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&s->wake_mu); /* a retry's wait ends now */
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->wake_mu);
    jr_stream_wake(s->o.stream); /* and an idle one's wait for records (up to 1 s) */
}

int lk_sink_stop_wait(lk_sink *s, int64_t deadline_ms)
{
    if (!s || !s->running) return 0;
    assert(__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE));
    if (deadline_ms < 0) {
        pthread_join(s->thread, NULL);
    } else {
        struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000};
        if (pthread_timedjoin_np(s->thread, NULL, &ts)) return -1;
    }
    s->running = 0;
    return 0;
}

void lk_sink_stop(lk_sink *s)
{
    lk_sink_stop_begin(s);
    lk_sink_stop_wait(s, -1);
}

void lk_sink_get_stats(lk_sink *s, lk_sink_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

/* ---- create / destroy -------------------------------------------------------------- */

static void copy_opts(lk_sink *s, const lk_sink_opts *o)
{
    s->o = *o;
    s->o.stream_name = s->own_stream_name = ut_strdup(o->stream_name);
    s->o.table = s->own_table = ut_strdup(o->table);
    s->o.catalog_path = s->own_catalog = ut_strdup(o->catalog_path);
    s->o.tmp_dir = s->own_tmp = ut_strdup(o->tmp_dir);
    s->o.event_time_field = s->own_etf = ut_strdup(o->event_time_field ? o->event_time_field : "");
    if (s->o.max_open_partitions <= 0) s->o.max_open_partitions = 100;
    if (!s->o.max_buffer_bytes) s->o.max_buffer_bytes = 256ull << 20;
    if (!s->o.roll_bytes) s->o.roll_bytes = 64ull << 20;
    if (s->o.roll_rows <= 0) s->o.roll_rows = 1000000;
    if (s->o.roll_age_ms <= 0) s->o.roll_age_ms = 60000;
    if (!s->o.compact_target_bytes) s->o.compact_target_bytes = 128ull << 20;
}

/* After journal recovery the stream may end below the committed position:
 * have it hand out offsets from the position on, so that none is reused and
 * new records land (read-only streams cannot: the sink then stops). */
static void reserve_offsets(lk_sink *s)
{
    jr_info in;
    jr_stream_info(s->o.stream, &in);
    if (s->position <= in.next_offset) return;
    char who[300], e2[256];
    snprintf(who, sizeof who, "the lake sink of table %s", s->o.table);
    if (jr_stream_reserve(s->o.stream, s->position, who, e2, sizeof e2))
        lg_error("sink", "sink %s: position %llu is past the end of stream %s (%llu): %s",
                 s->o.table, (unsigned long long)s->position, s->o.stream_name,
                 (unsigned long long)in.next_offset, e2);
}

lk_sink *lk_sink_create(const lk_sink_opts *o, char *err, size_t errlen)
{
    lk_sink *s = ut_calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wake_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    s->rng = ((uint64_t)lk__now_ms() << 20) ^ (uint64_t)(uintptr_t)s ^ (uint64_t)getpid();
    s->rng |= 1;
    copy_opts(s, o);
    s->last_part = -1;
    for (int i = 0; i < 64; i++) s->hints[i] = -1;
    lk__schema_init(&s->schema, o->case_insensitive, o->max_columns);
    if (o->partition != LK_PART_NONE) lk__schema_reserve(&s->schema, "dt");
    if (o->partition == LK_PART_DT_HR) lk__schema_reserve(&s->schema, "hr");
    if (ut_mkdir_p(s->o.tmp_dir, err, errlen)) goto fail;
    s->cat = ct_open(s->o.catalog_path, err, errlen);
    if (!s->cat) goto fail;
    char loc[1200], errtable[LK_TABLE_NAME_MAX + 1];
    st_uri(s->o.store, s->o.table, loc, sizeof loc);
    const char *part = o->partition == LK_PART_DT_HR ? "dt,hr" : o->partition == LK_PART_DT ? "dt" : "";
    if (ct_table_ensure(s->cat, s->o.table, loc, part, s->o.stream_name, &s->table, err, errlen) < 0)
        goto fail;
    lk_errors_table_name(s->o.table, errtable);
    st_uri(s->o.store, errtable, loc, sizeof loc);
    if (ct_table_ensure(s->cat, errtable, loc, "dt,hr", s->o.stream_name, &s->etable, err,
                        errlen) < 0)
        goto fail;
    static const ct_column ecols[] = {{"_offset", CT_INT64, 0}, {"reason", CT_STRING, 0},
                                      {"record", CT_STRING, 0}};
    if (ct_schema_set(s->cat, s->etable.id, ecols, 3, "errors table", &s->etable.version, err,
                      errlen)) /* declared: queryable before (and without) its first file */
        goto fail;
    lk__schema_load(&s->schema, &s->table);
    if (ct_position(s->cat, s->o.stream_name, s->table.id, &s->position, err, errlen)) goto fail;
    s->read_offset = s->position;
    reserve_offsets(s);
    s->stats.position = s->position;
    s->stats.read_offset = s->position;
    s->stats.columns = s->schema.n;
    s->stats.schema_version = s->schema.version;
    s->js = js_parser_create(0, 0);
    s->reader = jr_reader_create(s->o.stream);
    s->recs = ut_calloc(READ_BATCH, sizeof *s->recs);
    if (lk__gc(s, err, errlen)) goto fail;
    s->last_maint_ms = lk__now_ms(); /* first pass one interval after start */
    return s;
fail:
    lk_sink_destroy(s);
    return NULL;
}

void lk_sink_destroy(lk_sink *s)
{
    if (!s) return;
    lk_sink_stop(s);
    lk__parts_discard(s);
    free(s->parts);
    free(s->fv);
    free(s->seen);
    free(s->seen_field);
    lk__schema_free(&s->schema);
    ct_table_free(&s->table);
    ct_table_free(&s->etable);
    ct_close(s->cat);
    js_parser_destroy(s->js);
    jr_reader_destroy(s->reader);
    free(s->recs);
    free(s->own_stream_name);
    free(s->own_table);
    free(s->own_catalog);
    free(s->own_tmp);
    free(s->own_etf);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->wake_mu);
    pthread_cond_destroy(&s->wake);
    free(s);
}

/* exported for flush.c */
void lk__buf_free(lk__buf *b)
{
    buf_free(b);
}

