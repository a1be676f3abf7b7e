/* The server's streams: opened from the configuration, reopened from the
 * data directory (every stream a previous run created, so its sink resumes
 * and it answers GET), or created on first write when auto_create is on.
 * Every stream that lands holds its table name; a stream whose table would
 * collide with another's (cf_tables_collide) is refused before anything is
 * created.  A stream is registered only once its sink runs: one whose sink
 * fails to start is closed again and never takes a write (the next request
 * tries again from scratch).  Streams are never removed while serving, so a
 * sv__stream pointer stays valid until sv_stop. */
#include "log/log.h"
#include "server/sv_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static sv__stream *find(sv_server *s, const char *name)
{
    for (int i = 0; i < s->nstreams; i++)
        if (!strcmp(s->streams[i]->name, name)) return s->streams[i];
    return NULL;
}

/* Refuse a table another stream lands in (or one's errors table). */
static int check_table(sv_server *s, const char *name, const char *table, ut_error *e)
{
    for (int i = 0; i < s->nstreams; i++) {
        const sv__stream *o = s->streams[i];
        if (!o->table[0] || !cf_tables_collide(o->table, table)) continue;
        char msg[UT_ERRMSG_MAX];
        cf_tables_clash(msg, sizeof msg, o->name, o->table, name, table);
        return ut_fail(e, UT_EEXISTS, "%s", msg);
    }
    return 0;
}

/* Start the lake sink of a stream. */
static int open_sink(sv_server *s, sv__stream *st, const lk_sink_opts *base, ut_error *e)
{
    lk_sink_opts o = *base;
    o.table = st->table;
    o.stream_name = st->name;
    o.stream = st->jr;
    o.store = s->o.store;
    o.catalog_path = s->catalog_path;
    o.tmp_dir = s->tmp_dir;
    char err[UT_ERRMSG_MAX - 64];
    st->sink = lk_sink_create(&o, err, sizeof err);
    if (!st->sink || lk_sink_start(st->sink, err, sizeof err))
        return ut_fail(e, UT_EIO, "stream %s: lake sink: %s", st->name, err);
    return 0;
}

/* Close a stream's sink and journals and free it. */
static void stream_free(sv__stream *st)
{
    lk_sink_destroy(st->sink); /* first: its last flush reads the stream */
    xf_destroy(st->xf);
    jr_stream_close(st->jr);
    jr_stream_close(st->errors);
    for (int k = 0; k < st->ntokens; k++) free(st->tokens[k]);
    free(st->tokens);
    for (int k = 0; k < st->naws; k++) {
        free(st->aws_ids[k]);
        memset(st->aws_secrets[k], 0, strlen(st->aws_secrets[k]));
        free(st->aws_secrets[k]);
    }
    free(st->aws_ids);
    free(st->aws_secrets);
    pthread_mutex_destroy(&st->errors_mu);
    free(st);
}

/* Open one stream and start its sink; l: the catalog's tables (a table
 * another writer has there is refused). */
static sv__stream *open_stream(sv_server *s, const sv_stream_conf *c, const sv__landed *l,
                               ut_error *e)
{
    char nerr[256];
    if (ut_name_check(UT_NAME_STREAM, c->name, strlen(c->name), nerr, sizeof nerr)) {
        ut_fail(e, UT_EINVAL, "%s", nerr);
        return NULL;
    }
    if (s->nstreams >= SV__MAX_STREAMS) {
        ut_fail(e, UT_ELIMIT, "too many streams (limit %d)", SV__MAX_STREAMS);
        return NULL;
    }
    int sink = c->sink && s->o.store;
    char table[CF_TABLE_MAX] = "";
    if (sink) cf_sink_table(c->name, c->sink_opts.table, table, sizeof table);
    if (sink && (check_table(s, c->name, table, e) || sv__landed_check(l, c->name, table, e)))
        return NULL;
    char err[UT_ERRMSG_MAX];
    jr_stream *jr = jr_stream_open(s->streams_dir, c->name, &c->jr, err, sizeof err);
    if (!jr) {
        ut_fail(e, UT_EIO, "%s", err);
        return NULL;
    }
    xf_program *xf = NULL;
    if (c->transform && !(xf = xf_compile(c->transform, e))) {
        char msg[UT_ERRMSG_MAX];
        memcpy(msg, e->msg, sizeof msg);
        ut_fail(e, UT_EINVAL, "stream %s: transform: %.400s", c->name, msg);
        jr_stream_close(jr);
        return NULL;
    }
    sv__stream *st = ut_calloc(1, sizeof *st);
    st->xf = xf;
    snprintf(st->name, sizeof st->name, "%s", c->name);
    snprintf(st->table, sizeof st->table, "%s", table);
    st->jr = jr;
    st->found = c->found;
    st->max_bytes = c->max_bytes;
    st->ntokens = c->ntokens;
    st->tokens = ut_calloc((size_t)c->ntokens + 1, sizeof *st->tokens);
    for (int i = 0; i < c->ntokens; i++) st->tokens[i] = ut_strdup(c->tokens[i]);
    st->naws = c->naws;
    st->aws_anonymous = c->aws_anonymous;
    st->aws_ids = ut_calloc((size_t)c->naws + 1, sizeof *st->aws_ids);
    st->aws_secrets = ut_calloc((size_t)c->naws + 1, sizeof *st->aws_secrets);
    for (int i = 0; i < c->naws; i++) {
        st->aws_ids[i] = ut_strdup(c->aws_ids[i]);
        st->aws_secrets[i] = ut_strdup(c->aws_secrets[i]);
    }
    st->created_s = (int64_t)time(NULL);
    pthread_mutex_init(&st->errors_mu, NULL);
    if (sink && open_sink(s, st, &c->sink_opts, e)) {
        stream_free(st); /* not registered: it takes no write its sink would not land */
        return NULL;
    }
    s->streams[s->nstreams++] = st;
    return st;
}

/* The settings of a stream that is not declared: the auto_conf ones. */
static void auto_conf(sv_server *s, const char *name, int found, sv_stream_conf *c)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->tokens = s->o.auto_conf.tokens;
    c->ntokens = s->o.auto_conf.ntokens;
    c->jr = s->auto_jr;
    c->max_bytes = s->auto_max_bytes;
    c->sink = s->auto_sink;
    c->sink_opts = s->auto_sink_opts;
    c->found = found;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The journals of rejected records and dead letters beside each stream. */
static int side_journal(const char *name)
{
    size_t n = strlen(name);
    return (n > 7 && !strcmp(name + n - 7, ".errors")) || (n > 4 && !strcmp(name + n - 4, ".dlq"));
}

/* Names of the stream directories under streams_dir, sorted (malloc'ed). */
static int list_dirs(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    int n = 0, cap = 0;
    *out = NULL;
    if (!d) return 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < SV__MAX_STREAMS + 1) {
        if (de->d_name[0] == '.' || side_journal(de->d_name)) continue;
        char path[4400];
        struct stat stt;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &stt) || !S_ISDIR(stt.st_mode)) continue;
        if (n == cap) *out = ut_realloc(*out, sizeof **out * (size_t)(cap = cap ? cap * 2 : 16));
        (*out)[n++] = ut_strdup(de->d_name);
    }
    closedir(d);
    if (n) qsort(*out, (size_t)n, sizeof **out, cmp_str);
    return n;
}

/* Settings of a stream found in the data directory: the auto_conf ones, in
 * the table (and its partitioning) the catalog says it landed in. */
static void found_conf(sv_server *s, const sv__landed *l, const char *name, sv_stream_conf *c)
{
    auto_conf(s, name, 1, c);
    const ct_table *t = sv__landed_table(l, name);
    if (!t) return;
    c->sink_opts.table = t->name;
    c->sink_opts.partition = !strcmp(t->partition, "dt,hr") ? LK_PART_DT_HR
                             : !strcmp(t->partition, "dt") ? LK_PART_DT : LK_PART_NONE;
}

/* Reopen every stream a previous run left in the data directory.  A table
 * collision refuses the start (naming both); a stream that cannot be opened
 * is reported and skipped, so the others still serve. */
static int reopen_found(sv_server *s, const sv__landed *l, char *err, size_t errlen)
{
    char **names;
    int n = list_dirs(s->streams_dir, &names), rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc || find(s, names[i])) continue;
        sv_stream_conf c;
        found_conf(s, l, names[i], &c);
        ut_error e = {0};
        if (open_stream(s, &c, l, &e)) {
            lg_info("server", "stream %s: reopened from %s (not declared in the config)",
                    names[i], s->streams_dir);
        } else if (e.kind == UT_EEXISTS || e.kind == UT_ELIMIT) {
            rc = ut_err(err, errlen, "%s/%s: %s", s->streams_dir, names[i], e.msg);
        } else {
            lg_error("server", "stream %s found in %s: %s (the other streams are served)",
                     names[i], s->streams_dir, e.msg);
        }
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int sv__streams_open(sv_server *s, char *err, size_t errlen)
{
    sv__landed l;
    sv__landed_load(s, &l);
    int rc = 0;
    for (int i = 0; !rc && i < s->o.nstreams; i++) {
        const sv_stream_conf *c = &s->o.streams[i];
        ut_error e = {0};
        if (find(s, c->name)) rc = ut_err(err, errlen, "stream '%s' declared twice", c->name);
        else if (!open_stream(s, c, &l, &e)) rc = ut_err(err, errlen, "%s", e.msg);
    }
    if (!rc) rc = reopen_found(s, &l, err, errlen);
    sv__landed_free(&l);
    return rc;
}

sv__stream *sv__stream_get(sv_server *s, const char *name, int create, ut_error *e)
{
    pthread_mutex_lock(&s->mu);
    sv__stream *st = find(s, name);
    if (st && create && st->found && !s->o.auto_create) {
        ut_fail(e, UT_ENOTFOUND,
                "stream '%s' is not declared in the config (it was found in the data directory: "
                "it is landed and listed, but takes no writes while auto_create_streams is off)",
                name);
        st = NULL;
    } else if (!st && create && s->o.auto_create) {
        sv__landed l; /* read now: CREATE TABLE AS may have made tables since the start */
        sv__landed_load(s, &l);
        sv_stream_conf c;
        found_conf(s, &l, name, &c); /* a stream skipped at the start keeps its table */
        c.found = 0;
        st = open_stream(s, &c, &l, e);
        sv__landed_free(&l);
    } else if (!st && strlen(name) > ut_name_max(UT_NAME_STREAM)) {
        ut_fail(e, UT_EINVAL, "stream name '%.64s...' is %zu characters long (at most %zu)", name,
                strlen(name), ut_name_max(UT_NAME_STREAM));
    } else if (!st) {
        ut_fail(e, UT_ENOTFOUND, "unknown stream '%s'", name);
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

jr_stream *sv__errors_stream(sv_server *s, sv__stream *st, char *err, size_t errlen)
{
    pthread_mutex_lock(&st->errors_mu);
    if (!st->errors) {
        char name[LK_ERRORS_STREAM_MAX + 1];
        jr_opts o;
        jr_opts_init(&o);
        lk_errors_stream_name(st->name, name); /* <stream>.errors: the journal allows 71 */
        st->errors = jr_stream_open(s->streams_dir, name, &o, err, errlen);
    }
    jr_stream *e = st->errors;
    pthread_mutex_unlock(&st->errors_mu);
    return e;
}

xf_run *sv__xf_run(sv_server *s, const sv__stream *st)
{
    return st->xf ? xf_run_create(st->xf, s->o.limits.max_record, s->o.limits.max_depth) : NULL;
}

int sv__auth_ok(const sv__stream *st, const char *authorization)
{
    if (!st->ntokens) return 1;
    if (!authorization || strncmp(authorization, "Bearer ", 7)) return 0;
    const char *tok = authorization + 7;
    return ut_token_in((const char *const *)st->tokens, st->ntokens, tok, strlen(tok));
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every sink lands its buffers at the same time; 0, or -1 if one is late. */
static int stop_sinks(sv_server *s, int64_t timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : wall_ms() + timeout_ms;
    for (int i = 0; i < s->nstreams; i++) lk_sink_stop_begin(s->streams[i]->sink);
    int late = 0;
    for (int i = 0; i < s->nstreams; i++) {
        if (!lk_sink_stop_wait(s->streams[i]->sink, deadline)) continue;
        late++;
        lg_warn("server",
                "stream %s: the sink did not land its buffer within the shutdown timeout "
                "(%lld ms); its records are in the journal and land after the restart",
                s->streams[i]->name, (long long)timeout_ms);
    }
    return late ? -1 : 0;
}

int sv__streams_close(sv_server *s, int64_t timeout_ms)
{
    if (stop_sinks(s, timeout_ms)) return -1;
    for (int i = 0; i < s->nstreams; i++) stream_free(s->streams[i]);
    s->nstreams = 0;
    return 0;
}

jr_stream *sv_journal(sv_server *s, const char *name, int create, ut_error *e)
{
    if (!ut_name_ok(UT_NAME_STREAM, name)) {
        ut_fail(e, UT_EINVAL, "'%.80s' is not a stream name", name);
        return NULL;
    }
    sv__stream *st = sv__stream_get(s, name, create, e);
    return st ? st->jr : NULL;
}
