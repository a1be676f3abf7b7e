/* Targets: the local journal (intent, append, checkpoint) or a remote
 * sluice's HTTP ingest API (POST, retries with backoff, checkpoint after
 * the 200). */
#include "tail/tl_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tl__sink_open(tl__src *s, ut_error *e)
{
    const cf_source *cf = s->cf;
    if (cf->url[0]) {
        snprintf(s->url, sizeof s->url, "%s/v1/streams/%s/records", cf->url, cf->stream);
        s->curl = curl_easy_init();
        return s->curl ? 0 : ut_fail(e, UT_EIO, "source %s: curl init failed", cf->name);
    }
    if (s->o && s->o->journal) {
        ut_error je;
        s->jr = s->o->journal(s->o->journal_ctx, cf->stream, &je);
        if (!s->jr) return ut_fail(e, je.kind, "source %s: %s", cf->name, je.msg);
        s->jr_borrowed = 1;
        return 0;
    }
    char dir[PATH_MAX], err[512];
    snprintf(dir, sizeof dir, "%s/streams", s->c->data_dir);
    if (ut_mkdir_p(dir, err, sizeof err)) return ut_fail(e, UT_EIO, "%s", err);
    jr_opts o;
    const cf_stream *cs = cf_stream_find(s->c, cf->stream);
    cf_stream def;
    if (!cs) cf_stream_defaults(&def);
    cf_stream_journal_opts(s->c, cs ? cs : &def, &o);
    if (!cs) cf_stream_clear(&def);
    s->jr = jr_stream_open(dir, cf->stream, &o, err, sizeof err);
    if (!s->jr) return ut_fail(e, UT_EIO, "source %s: %s", cf->name, err);
    return 0;
}

void tl__sink_close(tl__src *s)
{
    if (!s->jr_borrowed) jr_stream_close(s->jr);
    s->jr = NULL;
    if (s->curl) curl_easy_cleanup(s->curl);
    s->curl = NULL;
}

/* Offsets of the open files as of the batch's end. */
static void advance(tl__src *s)
{
    for (int i = 0; i < s->nfiles; i++) {
        tl__file *f = s->files[i];
        f->e->offset = f->sent_pos;
    }
}

static int local_commit(tl__src *s, ut_error *e)
{
    jr_iov *iov = ut_malloc((size_t)s->nrec * sizeof *iov);
    for (int i = 0; i < s->nrec; i++) {
        size_t a = s->rec_off[i], b = s->rec_off[i + 1] - 1; /* without its '\n' */
        iov[i].p = s->body.p + a;
        iov[i].n = b - a;
    }
    jr_info in;
    jr_stream_info(s->jr, &in);
    uint64_t first;
    char err[512];
    char intent[128];
    snprintf(intent, sizeof intent, "intent %llu %d", (unsigned long long)in.next_offset, s->nrec);
    int rc = tl__ckpt_write(s, intent, e);
    if (!rc && jr_append(s->jr, iov, s->nrec, (int64_t)(ut_now_ns() / 1000), &first, err, sizeof err))
        rc = ut_fail(e, UT_EIO, "source %s: stream %s: %s", s->cf->name, s->cf->stream, err);
    free(iov);
    if (rc) {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/state.next", s->dir);
        unlink(p);
        return -1;
    }
    return tl__ckpt_commit(s, e);
}

typedef struct reply {
    char body[2048];
    size_t n;
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
    reply *r = u;
    size_t k = sz * n, room = sizeof r->body - 1 - r->n;
    memcpy(r->body + r->n, p, k < room ? k : room);
    r->n += k < room ? k : room;
    r->body[r->n] = 0;
    return sz * n;
}

/* One POST: 0 acknowledged (200, or 400 with every record rejected: they are
 * in the stream's .errors), 1 retry, -1 give up. */
static int post(tl__src *s, char *why, size_t whylen)
{
    CURL *c = s->curl;
    reply r = {{0}, 0};
    char auth[600];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    if (s->cf->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->cf->token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body.p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (cc == CURLE_OK && (code == 200 || (code == 400 && strstr(r.body, "\"rejected\""))))
        return 0;
    if (cc != CURLE_OK) snprintf(why, whylen, "%.1024s: %s", s->url, curl_easy_strerror(cc));
    else snprintf(why, whylen, "%.1024s: HTTP %ld: %.300s", s->url, code, r.body);
    if (cc != CURLE_OK || code == 429 || code >= 500) return 1;
    return -1;
}

static void drop_intent(tl__src *s)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/state.next", s->dir);
    unlink(p);
}

/* The table of the remote stream: what the server says its sink lands
 * (GET /v1/streams/<stream>: "table", which a custom sink.table changes),
 * else the default t1_<stream> with '-' and '.' as '_'. */
static int table_name(tl__src *s, char *out, size_t n)
{
    char url[2300];
    snprintf(url, sizeof url, "%.2048s/v1/streams/%s", s->cf->url, s->cf->stream);
    reply r = {{0}, 0};
    CURL *c = s->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L); /* a lookup at start: a dead peer */
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);        /* must not hold a stop for long */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long code = 0;
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (cc != CURLE_OK || code == 429 || code >= 500) return -1; /* no answer: ask again later */
    const char *t = code == 200 ? strstr(r.body, "\"table\":\"") : NULL;
    size_t k = t ? strcspn(t + 9, "\"") : 0;
    if (t && k && k < n && t[9 + k] == '"') {
        memcpy(out, t + 9, k);
        out[k] = 0;
        if (ut_name_ok(UT_NAME_TABLE, out)) return 0;
    }
    snprintf(out, n, "t1_%s", s->cf->stream);
    for (char *p = out; *p; p++)
        if (*p == '-' || *p == '.') *p = '_';
    return 0;
}

int tl__remote_has(tl__src *s, uint64_t id, uint64_t off, char *why, size_t whylen)
{
    char url[2200], sql[512], table[128], auth[600];
    if (table_name(s, table, sizeof table)) {
        snprintf(why, whylen, "%.1024s/v1/streams/%s: no answer", s->cf->url, s->cf->stream);
        return -2;
    }
    curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
    snprintf(url, sizeof url, "%.2048s/v1/query?format=csv", s->cf->url);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE file_id = '%016llx' AND "
             "file_offset = %llu", table, (unsigned long long)id, (unsigned long long)off);
    CURL *c = s->curl;
    reply r = {{0}, 0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/plain");
    if (s->cf->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->cf->token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, sql);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(sql));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L); /* a lookup at start: a dead peer */
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);        /* must not hold a stop for long */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (cc != CURLE_OK || code != 200) {
        snprintf(why, whylen, "%s: %s %ld %.300s", url, curl_easy_strerror(cc), code, r.body);
        return cc != CURLE_OK || code == 429 || code >= 500 ? -2 : -1;
    }
    const char *nl = strchr(r.body, '\n');
    long n = nl ? strtol(nl + 1, NULL, 10) : -1;
    if (n < 0) {
        snprintf(why, whylen, "%s: unexpected answer %.200s", url, r.body);
        return -1;
    }
    return n > 0;
}

static void nap(int64_t ms, volatile sig_atomic_t *stop)
{
    for (int64_t t = 0; t < ms && !(stop && *stop); t += 50) usleep(50000);
}

static int remote_commit(tl__src *s, volatile sig_atomic_t *stop, ut_error *e)
{
    char why[2048], intent[128];
    snprintf(intent, sizeof intent, "intent remote %llx %llu", (unsigned long long)s->first_id,
             (unsigned long long)s->first_off);
    if (tl__ckpt_write(s, intent, e)) return -1;
    int64_t backoff = 100;
    for (int64_t attempt = 0;; attempt++) {
        int rc = post(s, why, sizeof why);
        if (rc == 0) break;
        if (rc < 0 || (s->cf->max_retries && attempt >= s->cf->max_retries) || (stop && *stop))
            return drop_intent(s), ut_fail(e, rc < 0 ? UT_EINVAL : UT_EIO, "source %s: %s", s->cf->name, why);
        s->st.retries++;
        if (attempt == 0 || attempt % 10 == 0)
            lg_warn("tail", "source %s: %s; retrying", s->cf->name, why);
        nap(backoff / 2 + (int64_t)(ut_now_ns() % (uint64_t)(backoff / 2 + 1)), stop);
        backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
    }
    return tl__ckpt_commit(s, e);
}

int tl__commit(tl__src *s, volatile sig_atomic_t *stop, ut_error *e)
{
    if (!s->nrec) return 0;
    uint64_t *saved = ut_malloc((size_t)s->nent * sizeof *saved);
    uint32_t *fpl = ut_malloc((size_t)s->nent * sizeof *fpl);
    uint64_t *fps = ut_malloc((size_t)s->nent * sizeof *fps);
    for (int i = 0; i < s->nent; i++)
        saved[i] = s->ent[i]->offset, fpl[i] = s->ent[i]->fp_len, fps[i] = s->ent[i]->fp;
    advance(s);
    int rc = s->jr ? local_commit(s, e) : remote_commit(s, stop, e);
    if (rc) /* not acknowledged: the entries keep their offsets */
        for (int i = 0; i < s->nent; i++)
            s->ent[i]->offset = saved[i], s->ent[i]->fp_len = fpl[i], s->ent[i]->fp = fps[i];
    free(saved);
    free(fpl);
    free(fps);
    if (rc) return -1;
    s->st.records += (uint64_t)s->nrec;
    s->st.bytes += s->batch_src_bytes;
    s->st.batches++;
    ut_buf_reset(&s->body);
    s->nrec = 0;
    s->batch_src_bytes = 0;
    s->batch_since_ms = 0;
    return 0;
}
