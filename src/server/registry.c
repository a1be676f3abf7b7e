/* The server's streams: opened from the configuration, or created on first
 * write when auto_create is on.  Streams are never removed while serving, so
 * a sv__stream pointer stays valid until sv_stop. */
#include "server/sv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserved_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 7 && !strcmp(name + n - 7, ".errors")) || (n > 4 && !strcmp(name + n - 4, ".dlq"));
}

static sv__stream *find(sv_server *s, const char *name)
{
    for (int i = 0; i < s->nstreams; i++)
        if (!strcmp(s->streams[i]->name, name)) return s->streams[i];
    return NULL;
}

/* Start the lake sink of a stream (table "" = t1_<name>). */
static int open_sink(sv_server *s, sv__stream *st, const lk_sink_opts *base, char *err,
                     size_t errlen)
{
    lk_sink_opts o = *base;
    char table[160];
    if (!o.table || !o.table[0]) snprintf(table, sizeof table, "t1_%s", st->name);
    else snprintf(table, sizeof table, "%s", o.table);
    for (char *c = table; *c; c++) /* table names: stream names may hold '-' or '.' */
        if (*c == '-' || *c == '.') *c = '_';
    o.table = table;
    o.stream_name = st->name;
    o.stream = st->jr;
    o.store = s->o.store;
    o.catalog_path = s->catalog_path;
    o.tmp_dir = s->tmp_dir;
    st->sink = lk_sink_create(&o, err, errlen);
    if (!st->sink) return -1;
    return lk_sink_start(st->sink, err, errlen);
}

static sv__stream *open_stream(sv_server *s, const char *name, const char *const *tokens,
                               int ntokens, const jr_opts *jo, uint64_t max_bytes,
                               const lk_sink_opts *sink, char *err, size_t errlen)
{
    if (strlen(name) > 64) {
        ut_err(err, errlen, "stream name '%.64s...' is %zu characters long (at most 64)", name,
               strlen(name));
        return NULL;
    }
    if (reserved_name(name)) {
        ut_err(err, errlen, "stream name '%s' is not allowed (names ending in .errors or .dlq "
                            "are reserved)", name);
        return NULL;
    }
    if (s->nstreams >= SV__MAX_STREAMS) {
        ut_err(err, errlen, "too many streams (limit %d)", SV__MAX_STREAMS);
        return NULL;
    }
    jr_stream *jr = jr_stream_open(s->streams_dir, name, jo, err, errlen);
    if (!jr) return NULL;
    sv__stream *st = ut_calloc(1, sizeof *st);
    snprintf(st->name, sizeof st->name, "%s", name);
    st->jr = jr;
    st->max_bytes = max_bytes;
    st->ntokens = ntokens;
    st->tokens = ut_calloc((size_t)ntokens + 1, sizeof *st->tokens);
    for (int i = 0; i < ntokens; i++) st->tokens[i] = ut_strdup(tokens[i]);
    pthread_mutex_init(&st->errors_mu, NULL);
    s->streams[s->nstreams++] = st;
    if (sink && s->o.store && open_sink(s, st, sink, err, errlen)) {
        char e2[600];
        snprintf(e2, sizeof e2, "stream %s: lake sink: %s", name, err);
        ut_err(err, errlen, "%s", e2);
        return NULL; /* the stream stays registered; closed with the server */
    }
    return st;
}

int sv__streams_open(sv_server *s, char *err, size_t errlen)
{
    for (int i = 0; i < s->o.nstreams; i++) {
        const sv_stream_conf *c = &s->o.streams[i];
        if (find(s, c->name)) return ut_err(err, errlen, "stream '%s' declared twice", c->name);
        if (!open_stream(s, c->name, c->tokens, c->ntokens, &c->jr, c->max_bytes,
                         c->sink ? &c->sink_opts : NULL, err, errlen))
            return -1;
    }
    return 0;
}

sv__stream *sv__stream_get(sv_server *s, const char *name, int create, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->mu);
    sv__stream *st = find(s, name);
    if (!st && create && s->o.auto_create)
        st = open_stream(s, name, s->o.auto_conf.tokens, s->o.auto_conf.ntokens, &s->auto_jr,
                         s->auto_max_bytes, s->auto_sink ? &s->auto_sink_opts : NULL, err,
                         errlen);
    else if (!st)
        ut_err(err, errlen, "unknown stream '%s'", name);
    pthread_mutex_unlock(&s->mu);
    return st;
}

jr_stream *sv__errors_stream(sv_server *s, sv__stream *st, char *err, size_t errlen)
{
    pthread_mutex_lock(&st->errors_mu);
    if (!st->errors) {
        char name[96];
        jr_opts o;
        jr_opts_init(&o);
        snprintf(name, sizeof name, "%s.errors", st->name);
        st->errors = jr_stream_open(s->streams_dir, name, &o, err, errlen);
    }
    jr_stream *e = st->errors;
    pthread_mutex_unlock(&st->errors_mu);
    return e;
}

int sv__auth_ok(const sv__stream *st, const char *authorization)
{
    if (!st->ntokens) return 1;
    if (!authorization || strncmp(authorization, "Bearer ", 7)) return 0;
    const char *tok = authorization + 7;
    return ut_token_in((const char *const *)st->tokens, st->ntokens, tok, strlen(tok));
}

/* Stopping a sink waits for its thread (up to a poll interval, ~0.4 s), so
 * with a thousand streams one after another takes minutes: stop them from
 * up to CLOSERS threads at once. */
#define CLOSERS 64

typedef struct closer {
    sv_server *s;
    int first;
} closer;

static void *close_sinks(void *arg)
{
    closer *c = arg;
    for (int i = c->first; i < c->s->nstreams; i += CLOSERS) {
        lk_sink_destroy(c->s->streams[i]->sink);
        c->s->streams[i]->sink = NULL;
    }
    return NULL;
}

static void close_all_sinks(sv_server *s)
{
    closer cs[CLOSERS];
    pthread_t th[CLOSERS];
    int started[CLOSERS] = {0};
    int n = s->nstreams < CLOSERS ? s->nstreams : CLOSERS;
    for (int k = 0; k < n; k++) {
        cs[k].s = s;
        cs[k].first = k;
        started[k] = n > 1 && pthread_create(&th[k], NULL, close_sinks, &cs[k]) == 0;
        if (!started[k]) close_sinks(&cs[k]);
    }
    for (int k = 0; k < n; k++)
        if (started[k]) pthread_join(th[k], NULL);
}

void sv__streams_close(sv_server *s)
{
    close_all_sinks(s); /* sinks first: their last flush reads the streams */
    for (int i = 0; i < s->nstreams; i++) {
        sv__stream *st = s->streams[i];
        jr_stream_close(st->jr);
        jr_stream_close(st->errors);
        for (int k = 0; k < st->ntokens; k++) free(st->tokens[k]);
        free(st->tokens);
        pthread_mutex_destroy(&st->errors_mu);
        free(st);
    }
    s->nstreams = 0;
}
