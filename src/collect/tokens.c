/* collect: OAuth2 access tokens -- the shared cache and the refresh-token
 * grant.
 *
 *   cl__oauth_token ──► the collection's own new token not used yet, else
 *                       the cache (per cache_key, thread-safe) unless
 *                       forced; forced after a 401: the token that failed
 *                       is dropped from the cache
 *                   ──► POST token_url, form grant_type=refresh_token,
 *                       refresh_token, client_id, client_secret (through
 *                       cl__call: pool token, retries, 429; a 4xx is CL_AUTH)
 *                   ──► {"access_token", "expires_in"} (default 3600 s),
 *                       the collection's own until a call with it was
 *                       answered (cl__oauth_used), then in the cache until
 *                       a little before it expires
 *
 * A new token joins the cache only once it worked: shared at once, another
 * collection could use it first, and an API whose tokens expire on use (or
 * are revoked by a newer grant) would then refuse this collection's retry
 * with a token it never used -- a 401 "after a new token" that is no
 * refusal of the credentials.
 *
 * Tokens are printable ASCII without spaces, at most CL__MAX_TOKEN bytes;
 * each one obtained joins the collection's secrets, so no message holds it.
 * The cache holds at most MAX_ENTRIES keys (the expired, then the soonest
 * to expire, go first) and wipes what it frees. */
#include "collect/cl_int.h"

#include "log/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ENTRIES 4096
#define DEFAULT_TTL_S 3600

typedef struct entry {
    char *key, *tok;
    int64_t exp_ms; /* monotonic */
} entry;

struct cl_tokens {
    pthread_mutex_t mu;
    entry *v;
    int n, cap;
    char *dir; /* rotated refresh tokens (rotate.c); NULL: kept nowhere */
};

cl_tokens *cl_tokens_create(void)
{
    cl_tokens *t = ut_calloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

static void entry_free(entry *e)
{
    memset(e->tok, 0, strlen(e->tok));
    free(e->tok);
    free(e->key);
}

void cl_tokens_destroy(cl_tokens *t)
{
    if (!t) return;
    for (int i = 0; i < t->n; i++) entry_free(&t->v[i]);
    free(t->v);
    free(t->dir);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int cl_tokens_persist(cl_tokens *t, const char *dir, char *err, size_t errlen)
{
    if (ut_mkdir_p(dir, err, errlen)) return -1;
    if (chmod(dir, 0700) < 0)
        return ut_err(err, errlen, "refresh tokens: cannot chmod %s: %s", dir, strerror(errno));
    free(t->dir);
    t->dir = ut_strdup(dir);
    return 0;
}

static entry *find(cl_tokens *t, const char *key)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].key, key)) return &t->v[i];
    return NULL;
}

/* The valid token for key into out: 1, or 0 (none or expired). */
static int get(cl_tokens *t, const char *key, char *out, size_t cap)
{
    pthread_mutex_lock(&t->mu);
    entry *e = find(t, key);
    int ok = e && e->exp_ms > cl__now_ms() && strlen(e->tok) < cap;
    if (ok) memcpy(out, e->tok, strlen(e->tok) + 1);
    pthread_mutex_unlock(&t->mu);
    return ok;
}

/* Drop key's token if it is still `used`. */
static void drop(cl_tokens *t, const char *key, const char *used)
{
    pthread_mutex_lock(&t->mu);
    entry *e = find(t, key);
    if (e && !strcmp(e->tok, used)) {
        entry_free(e);
        *e = t->v[--t->n];
    }
    pthread_mutex_unlock(&t->mu);
}

static void put(cl_tokens *t, const char *key, const char *tok, int64_t exp_ms)
{
    pthread_mutex_lock(&t->mu);
    entry *e = find(t, key);
    if (!e && t->n == MAX_ENTRIES) { /* the one expiring first goes */
        e = &t->v[0];
        for (int i = 1; i < t->n; i++)
            if (t->v[i].exp_ms < e->exp_ms) e = &t->v[i];
        entry_free(e);
        *e = t->v[--t->n];
        e = NULL;
    }
    if (!e) {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 16;
            t->v = ut_realloc(t->v, (size_t)t->cap * sizeof *t->v);
        }
        e = &t->v[t->n++];
        e->key = ut_strdup(key);
    } else {
        memset(e->tok, 0, strlen(e->tok));
        free(e->tok);
    }
    e->tok = ut_strdup(tok);
    e->exp_ms = exp_ms;
    pthread_mutex_unlock(&t->mu);
}

static int token_ok(const char *s, size_t n)
{
    if (n == 0 || n >= CL__MAX_TOKEN) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return 0;
    return 1;
}

static void form_add(ut_buf *b, const char *name, const char *v)
{
    if (!v) return;
    if (b->len) ut_buf_putc(b, '&');
    ut_buf_puts(b, name);
    ut_buf_putc(b, '=');
    cl__url_encode(b, v, strlen(v));
}

/* A refresh_token in the answer that differs from the one sent: saved (the
 * one sent may be revoked now) before the access token is used. */
static int take_rotated(cl__cx *cx, cl__rt *rt, const char *sent, const char *v, size_t n)
{
    if (!v || (strlen(sent) == n && !memcmp(sent, v, n))) return 0;
    if (rt->fd < 0) {
        cl__log(cx, LG_WARN, "%s rotated the refresh token, and no state directory keeps it: "
                "the next grant sends the configured one", cx->s->auth.token_url);
        return 0;
    }
    char err[512];
    if (cl__rt_save(rt, v, n, err, sizeof err))
        return cl__fail(cx, CL_SERVER, cx->s->auth.token_url, "%s", err);
    cl__secrets_add_copy(&cx->sec, rt->tok);
    cl__log(cx, LG_INFO, "%s rotated the refresh token; the new one is saved",
            cx->s->auth.token_url);
    return 0;
}

/* The token endpoint's answer into cx->token and the cache. */
static int take_answer(cl__cx *cx, const cl__resp *r, cl__rt *rt, const char *sent)
{
    static const char *const keep[] = {"access_token", "expires_in", "refresh_token"};
    cl__jscan *js = cl__control_parse(cx, r, keep, 3);
    if (!js) return -1;
    size_t n = 0, en = 0, rn = 0;
    const char *tok = cl__jscan_value(js, 0, &n), *exp = cl__jscan_value(js, 1, &en);
    const char *rot = cl__jscan_value(js, 2, &rn);
    if (rot) cl__secrets_add_copy(&cx->sec, rot);
    if (!tok || !token_ok(tok, n)) {
        cl__jscan_destroy(js);
        return cl__fail(cx, CL_AUTH, cx->s->auth.token_url, "POST %s: the token endpoint's answer "
                        "has no usable access_token", cx->s->auth.token_url);
    }
    int64_t ttl = DEFAULT_TTL_S;
    if (exp) {
        char *end;
        double d = strtod(exp, &end);
        if (end != exp && d > 0 && d < 1e9) ttl = (int64_t)d;
    }
    memcpy(cx->token, tok, n + 1);
    if (take_rotated(cx, rt, sent, rot, rn)) {
        memset(cx->token, 0, sizeof cx->token);
        cl__jscan_destroy(js);
        return -1;
    }
    cl__jscan_destroy(js);
    cl__secrets_add_copy(&cx->sec, cx->token);
    int64_t margin = ttl * 1000 / 10 < 60000 ? ttl * 1000 / 10 : 60000;
    cx->token_own = 1;
    cx->token_exp_ms = cl__now_ms() + ttl * 1000 - margin;
    cx->res->refreshes++;
    cl__log(cx, LG_DEBUG, "a new access token from %s (valid %lld s)",
            cx->s->auth.token_url, (long long)ttl);
    return 0;
}

void cl__oauth_used(cl__cx *cx)
{
    if (!cx->token_own) return;
    put(cx->tokens, cx->cache_key, cx->token, cx->token_exp_ms);
    cx->token_own = 0;
}

int cl__oauth_token(cl__cx *cx, int force, const char *used)
{
    const cl_auth *au = &cx->s->auth;
    if (!force && cx->token_own && cx->token_exp_ms > cl__now_ms()) return 0;
    cx->token_own = 0;
    if (!force && get(cx->tokens, cx->cache_key, cx->token, sizeof cx->token)) return 0;
    if (force) drop(cx->tokens, cx->cache_key, used);
    cx->token[0] = 0;
    cl__rt rt = {.fd = -1};
    const char *refresh = au->refresh_token;
    if (cx->tokens->dir) {
        char err[512];
        if (cl__rt_begin(&rt, cx->tokens->dir, cx->cache_key, au->refresh_token, err, sizeof err))
            return cl__fail(cx, CL_SERVER, au->token_url, "%s", err);
        if (rt.tok[0]) refresh = rt.tok, cl__secrets_add_copy(&cx->sec, rt.tok);
    }
    ut_buf form = {.max = CL__MAX_BODY};
    form_add(&form, "grant_type", "refresh_token");
    form_add(&form, "refresh_token", refresh);
    form_add(&form, "client_id", au->client_id);
    form_add(&form, "client_secret", au->client_secret);
    cl_request rq = {.method = "POST", .url = au->token_url, .body = ut_buf_cstr(&form),
                     .content_type = "application/x-www-form-urlencoded"};
    cl__target t = {.rq = &rq, .auth_call = 1};
    cl__xfer x;
    memset(&x, 0, sizeof x);
    cl__resp r = {0};
    int rc = cl__call(cx, &t, &x, &r);
    memset(form.p, 0, form.len);
    ut_buf_free(&form);
    if (rc == 0) rc = take_answer(cx, &r, &rt, refresh);
    cl__rt_end(&rt);
    if (r.body.p) memset(r.body.p, 0, r.body.len);
    cl__resp_free(&r);
    return rc;
}
