/* The write pipeline: the main thread reads chunks and commits them in
 * order, `threads` workers shred and encode them (see pipe.h).  Memory is
 * bounded by the slots: threads + 1 chunks (each at most CV_CHUNK_BYTES of
 * records plus one record) and their encoded row groups are in flight. */
#include "convert/pipe.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cv__threads(int n)
{
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)(c > CV_MAX_THREADS ? CV_MAX_THREADS : c) : 1;
    }
    return n > CV_MAX_THREADS ? CV_MAX_THREADS : n;
}

enum { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

typedef struct slot {
    int state;
    cv__chunk c;
    pq_writer *w; /* memory writer: the chunk's row group */
    cv__result res;
} slot;

typedef struct cvpipe {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    slot *slots;
    int nslots;
    int64_t nread, ntake, ncommit; /* chunk sequence numbers */
    int stop;
    const cv__plan *pl;
} cvpipe;

typedef struct worker {
    cvpipe *p;
    cv__shred *sh;
    pthread_t t;
} worker;

static void *work(void *arg)
{
    worker *wk = arg;
    cvpipe *p = wk->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && (p->ntake == p->nread ||
                            p->slots[p->ntake % p->nslots].state != SLOT_READY))
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop) break;
        slot *s = &p->slots[p->ntake++ % p->nslots];
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&p->mu);
        cv__shred_chunk(wk->sh, s->w, &s->c, &s->res);
        pthread_mutex_lock(&p->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Fold a chunk's kinds into s: 1 if some column's type would change. */
static int kinds_diverge(cv_schema *s, const unsigned *k)
{
    int d = 0;
    for (int i = 0; i < s->n; i++)
        if (k[i] & ~s->c[i].kinds) d |= cv__apply_kinds(&s->c[i], k[i]);
    return d;
}

/* Commit slot s: rejects, schema check, append.  CV_PIPE_*. */
static int commit(cvpipe *p, slot *s, cv_schema *sc, pq_writer *out, const cv__sink *sk,
                  int64_t *rejected, int64_t *diverged, char *err, size_t errlen)
{
    cv__result *r = &s->res;
    const uint8_t *q = r->shown.p;
    for (int i = 0; i < r->nshown; i++) {
        int64_t recno, line;
        uint32_t len;
        char why[4097];
        memcpy(&recno, q, 8);
        memcpy(&line, q + 8, 8);
        memcpy(&len, q + 16, 4);
        memcpy(why, q + 20, len);
        why[len] = 0;
        q += 20 + len;
        sk->reject(sk->arg, recno, line, why);
    }
    *rejected += r->rejected;
    if (r->failed) return ut_err(err, errlen, "%s", r->err);
    if (r->diverged) {
        *diverged = r->diverged;
        return CV_PIPE_DIVERGED;
    }
    if (p->pl->tracking && kinds_diverge(sc, r->kinds)) {
        *diverged = s->c.first + s->c.n - 1;
        return CV_PIPE_DIVERGED;
    }
    if (pq_writer_append(out, s->w, err, errlen)) return CV_PIPE_ERR;
    sk->progress(sk->arg, s->c.first + s->c.n - 1);
    return CV_PIPE_DONE;
}

static int slots_init(cvpipe *p, int n, const pq_column_spec *spec, int ncols, const cv_opts *o,
                      char *err, size_t errlen)
{
    p->nslots = n;
    p->slots = ut_calloc((size_t)n, sizeof *p->slots);
    for (int i = 0; i < n; i++) {
        slot *s = &p->slots[i];
        s->w = pq_writer_create_mem("chunk", spec, ncols, &o->wopts, err, errlen);
        if (!s->w) return -1;
        s->res.kinds = ut_calloc((size_t)ncols + 1, sizeof *s->res.kinds);
    }
    return 0;
}

static void slots_free(cvpipe *p)
{
    for (int i = 0; p->slots && i < p->nslots; i++) {
        slot *s = &p->slots[i];
        cv__chunk_free(&s->c);
        pq_writer_destroy(s->w);
        ut_buf_free(&s->res.shown);
        free(s->res.kinds);
    }
    free(p->slots);
}

/* The main thread's loop: fill free slots, commit done ones in order. */
static int drive(cvpipe *p, cv__src *src, cv_schema *sc, pq_writer *out, const cv__sink *sk,
                 int64_t *rejected, int64_t *diverged, char *err, size_t errlen)
{
    int eof = 0;
    int64_t recno = 1;
    int64_t rg = p->pl->o->wopts.row_group_rows;
    int max_recs = rg <= 0 ? 1 << 20 : rg > INT_MAX ? INT_MAX : (int)rg; /* as the writer */
    for (;;) {
        slot *c = &p->slots[p->ncommit % p->nslots];
        pthread_mutex_lock(&p->mu);
        int ready = p->ncommit < p->nread && c->state == SLOT_DONE;
        pthread_mutex_unlock(&p->mu);
        if (ready) {
            int rc = commit(p, c, sc, out, sk, rejected, diverged, err, errlen);
            if (rc != CV_PIPE_DONE) return rc;
            pthread_mutex_lock(&p->mu);
            c->state = SLOT_FREE;
            p->ncommit++;
            pthread_mutex_unlock(&p->mu);
            continue;
        }
        if (!eof && p->nread - p->ncommit < p->nslots) {
            slot *f = &p->slots[p->nread % p->nslots];
            assert(f->state == SLOT_FREE);
            int rc = cv__chunk_fill(&f->c, src, recno, max_recs, CV_CHUNK_BYTES, err, errlen);
            if (rc < 0) return CV_PIPE_ERR;
            eof = rc == 1;
            if (!f->c.n) continue;
            recno += f->c.n;
            pthread_mutex_lock(&p->mu);
            f->state = SLOT_READY;
            p->nread++;
            pthread_cond_signal(&p->work);
            pthread_mutex_unlock(&p->mu);
            continue;
        }
        if (p->ncommit == p->nread) return CV_PIPE_DONE; /* eof and all committed */
        pthread_mutex_lock(&p->mu);
        while (c->state != SLOT_DONE) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

int cv__pipe_run(cv__src *src, const cv__plan *pl, cv_schema *s, const pq_column_spec *spec,
                 pq_writer *out, int threads, const cv__sink *sk, int64_t *rejected,
                 int64_t *diverged, char *err, size_t errlen)
{
    assert(threads >= 1 && threads <= CV_MAX_THREADS);
    cvpipe p;
    memset(&p, 0, sizeof p);
    p.pl = pl;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.work, NULL);
    pthread_cond_init(&p.done, NULL);
    worker *wk = ut_calloc((size_t)threads, sizeof *wk);
    int started = 0, rc = CV_PIPE_ERR;
    *rejected = *diverged = 0;
    if (slots_init(&p, threads + 1, spec, cv_schema_ncols(s), pl->o, err, errlen)) goto done;
    for (; started < threads; started++) {
        wk[started].p = &p;
        wk[started].sh = cv__shred_create(pl);
        if (pthread_create(&wk[started].t, NULL, work, &wk[started])) {
            cv__shred_destroy(wk[started].sh);
            ut_err(err, errlen, "convert: cannot start a worker thread");
            goto done;
        }
    }
    rc = drive(&p, src, s, out, sk, rejected, diverged, err, errlen);
done:
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_broadcast(&p.work);
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; i < started; i++) {
        pthread_join(wk[i].t, NULL);
        cv__shred_destroy(wk[i].sh);
    }
    free(wk);
    slots_free(&p);
    pthread_cond_destroy(&p.work);
    pthread_cond_destroy(&p.done);
    pthread_mutex_destroy(&p.mu);
    return rc;
}
