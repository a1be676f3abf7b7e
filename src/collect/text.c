/* collect: pure text helpers -- JSON paths, URL encoding and parameters,
 * the {{page.*}} / {{report.id}} / {{auth.token}} templates, the Link and
 * Retry-After headers, and cutting secrets out of messages.  No I/O; every
 * output goes to a ut_buf the caller caps. */
#include "collect/cl_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- JSON paths ------------------------------------------------------------ */

int cl__path_parse(cl__path *p, const char *s, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    size_t n = strlen(s);
    if (n >= sizeof p->buf)
        return ut_err(err, errlen, "JSON path '%.40s...' is longer than %zu bytes", s,
                      sizeof p->buf - 1);
    if (n == 0) return 0;
    memcpy(p->buf, s, n + 1);
    const char *a = p->buf;
    for (;;) {
        const char *dot = strchr(a, '.');
        size_t l = dot ? (size_t)(dot - a) : strlen(a);
        if (l == 0) return ut_err(err, errlen, "JSON path '%s' has an empty key", s);
        if (p->n == CL__MAX_SEGS)
            return ut_err(err, errlen, "JSON path '%.60s' has more than %d keys", s, CL__MAX_SEGS);
        p->seg[p->n] = a;
        p->len[p->n++] = l;
        if (!dot) return 0;
        a = dot + 1;
    }
}

/* ---- URLs -------------------------------------------------------------------- */

void cl__url_encode(ut_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            ut_buf_putc(b, c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ut_buf_put(b, e, 3);
        }
    }
}

/* v with a backslash before each '/' (JSON's escaped solidus) into b. */
static void slash_escaped(ut_buf *b, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '/') ut_buf_putc(b, '\\');
        ut_buf_putc(b, v[i]);
    }
}

int cl_scrub_secret(ut_scrub *s, const char *v)
{
    size_t n = strlen(v);
    ut_buf f[4] = {{0}, {0}, {0}, {0}};
    ut_buf_put(&f[0], v, n);
    cl__url_encode(&f[1], v, n);
    slash_escaped(&f[2], v, n);
    slash_escaped(&f[3], ut_buf_cstr(&f[1]), f[1].len);
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        if (rc == 0 && ut_scrub_add(s, ut_buf_cstr(&f[i]), f[i].len)) rc = -1;
        if (f[i].p) memset(f[i].p, 0, f[i].len);
        ut_buf_free(&f[i]);
    }
    return rc;
}

void cl__url_add_param(ut_buf *url, const char *name, const char *value)
{
    const char *s = ut_buf_cstr(url);
    const char *hash = strchr(s, '#');
    if (hash) ut_buf_truncate(url, (size_t)(hash - s)); /* a fragment is never sent */
    s = ut_buf_cstr(url);
    const char *q = strchr(s, '?');
    size_t n = url->len;
    if (!q) ut_buf_putc(url, '?');
    else if (n && s[n - 1] != '?' && s[n - 1] != '&') ut_buf_putc(url, '&');
    cl__url_encode(url, name, strlen(name));
    ut_buf_putc(url, '=');
    cl__url_encode(url, value, strlen(value));
}

int cl__url_has_param(const char *url, const char *name)
{
    const char *q = strchr(url, '?');
    size_t nl = strlen(name);
    while (q) {
        q++;
        if (!strncmp(q, name, nl) && (q[nl] == '=' || q[nl] == '&' || q[nl] == 0 || q[nl] == '#'))
            return 1;
        q = strchr(q, '&');
    }
    return 0;
}

/* scheme://authority of u: *n its length (without a path), 0 if not http(s). */
static size_t origin_len(const char *u)
{
    size_t s = !strncasecmp(u, "http://", 7) ? 7 : !strncasecmp(u, "https://", 8) ? 8 : 0;
    if (!s) return 0;
    return s + strcspn(u + s, "/?#");
}

int cl__same_origin(const char *a, const char *b)
{
    size_t la = origin_len(a), lb = origin_len(b);
    if (!la || la != lb || strncasecmp(a, b, la)) return 0;
    const char *at = memchr(a, '@', la); /* userinfo: never the same by accident */
    return at == NULL;
}

int cl__url_resolve(const char *base, const char *ref, ut_buf *out)
{
    CURLU *h = curl_url();
    char *u = NULL;
    int rc = -1;
    if (h && curl_url_set(h, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(h, CURLUPART_URL, ref, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_URL, &u, 0) == CURLUE_OK && origin_len(u) &&
        strlen(u) < CL__MAX_URL && !strpbrk(u, " \r\n")) {
        ut_buf_reset(out);
        ut_buf_puts(out, u);
        rc = ut_buf_over(out) ? -1 : 0;
    }
    curl_free(u);
    curl_url_cleanup(h);
    return rc;
}

/* ---- templates -------------------------------------------------------------- */

static void put_esc(ut_buf *out, const char *s, int esc)
{
    size_t n = strlen(s);
    if (esc == CL__ESC_URL) {
        cl__url_encode(out, s, n);
    } else if (esc == CL__ESC_JSON) {
        ut_buf tmp = {0};
        ut_json_str(&tmp, s, n);
        ut_buf_put(out, tmp.p + 1, tmp.len - 2); /* without the quotes */
        ut_buf_free(&tmp);
    } else {
        ut_buf_put(out, s, n);
    }
}

/* The variable named a[0..n), or -1.  Writes its text into num[32] when it
 * is a number. */
static const char *var_value(const char *a, size_t n, const cl__vars *v, char *num)
{
#define IS(lit) (n == sizeof lit - 1 && !memcmp(a, lit, n))
    const char *s = NULL;
    if (IS("page.cursor")) s = v->cursor ? v->cursor : "";
    else if (IS("report.id")) s = v->report_id ? v->report_id : "";
    else if (IS("auth.token")) s = v->token ? v->token : "";
    else if (IS("page.number")) snprintf(num, 32, "%lld", (long long)v->number), s = num;
    else if (IS("page.offset")) snprintf(num, 32, "%lld", (long long)v->offset), s = num;
    else if (IS("page.size")) snprintf(num, 32, "%lld", (long long)v->size), s = num;
    return s;
#undef IS
}

int cl__subst(ut_buf *out, const char *in, const cl__vars *v, int esc)
{
    const char *p = in;
    for (;;) {
        const char *o = strstr(p, "{{");
        const char *c = o ? strstr(o + 2, "}}") : NULL;
        if (!c) break;
        const char *a = o + 2, *b = c;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        char num[32];
        const char *val = var_value(a, (size_t)(b - a), v, num);
        if (!val) { /* not ours: kept as it is */
            ut_buf_put(out, p, (size_t)(o + 2 - p));
            p = o + 2;
            continue;
        }
        ut_buf_put(out, p, (size_t)(o - p));
        put_esc(out, val, esc);
        p = c + 2;
    }
    ut_buf_puts(out, p);
    return ut_buf_over(out) ? -1 : 0;
}

/* ---- Link ------------------------------------------------------------------ */

static size_t ws(const char *v, size_t i, size_t n)
{
    while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
    return i;
}

/* A token or quoted-string param value at v[i] into val (capped); the index
 * after it, or (size_t)-1. */
static size_t param_value(const char *v, size_t i, size_t n, char *val, size_t cap)
{
    size_t k = 0;
    if (i < n && v[i] == '"') {
        for (i++; i < n && v[i] != '"'; i++) {
            if (v[i] == '\\' && i + 1 < n) i++;
            if (k + 1 < cap) val[k++] = v[i];
        }
        if (i >= n) return (size_t)-1;
        i++;
    } else {
        for (; i < n && !strchr(",; \t", v[i]); i++)
            if (k + 1 < cap) val[k++] = v[i];
    }
    val[k] = 0;
    return i;
}

/* Does rel value r (space-separated relation types) hold "next"? */
static int rel_has_next(const char *r)
{
    for (const char *t = r; *t;) {
        size_t l = strcspn(t, " \t");
        if (l == 4 && !strncasecmp(t, "next", 4)) return 1;
        t += l;
        t += strspn(t, " \t");
    }
    return 0;
}

int cl__link_next(const char *v, size_t n, ut_buf *out)
{
    size_t i = 0;
    for (;;) {
        i = ws(v, i, n);
        while (i < n && v[i] == ',') i = ws(v, i + 1, n); /* empty elements */
        if (i >= n) return 0;
        if (v[i] != '<') return -1;
        const char *gt = memchr(v + i, '>', n - i);
        if (!gt) return -1;
        size_t us = i + 1, ul = (size_t)(gt - v) - us;
        i = (size_t)(gt - v) + 1;
        int next = 0;
        for (;;) {
            i = ws(v, i, n);
            if (i >= n || v[i] == ',') break;
            if (v[i] != ';') return -1;
            i = ws(v, i + 1, n);
            size_t ns = i;
            while (i < n && !strchr("=;, \t", v[i])) i++;
            size_t nl = i - ns;
            i = ws(v, i, n);
            char val[256] = "";
            if (i < n && v[i] == '=') {
                i = param_value(v, ws(v, i + 1, n), n, val, sizeof val);
                if (i == (size_t)-1) return -1;
            }
            if (nl == 3 && !strncasecmp(v + ns, "rel", 3) && rel_has_next(val)) next = 1;
        }
        if (next) {
            ut_buf_reset(out);
            ut_buf_put(out, v + us, ul);
            return ut_buf_over(out) ? -1 : 1;
        }
    }
}

/* ---- Retry-After ----------------------------------------------------------- */

int cl__retry_after(const char *v, int64_t now_s, int64_t *ms)
{
    while (*v == ' ' || *v == '\t') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n == 0 || n > 64) return -1;
    char t[65];
    memcpy(t, v, n);
    t[n] = 0;
    if (strspn(t, "0123456789") == n) {
        int64_t s = 0;
        for (size_t i = 0; i < n && s <= CL__RETRY_AFTER_MAX_MS / 1000; i++) s = s * 10 + (t[i] - '0');
        *ms = s * 1000 > CL__RETRY_AFTER_MAX_MS ? CL__RETRY_AFTER_MAX_MS : s * 1000;
        return 0;
    }
    if (!strchr(t, ' ')) return -1; /* every HTTP-date form has spaces */
    time_t when = curl_getdate(t, NULL);
    if (when == (time_t)-1) return -1;
    int64_t d = ((int64_t)when - now_s) * 1000;
    *ms = d < 0 ? 0 : d > CL__RETRY_AFTER_MAX_MS ? CL__RETRY_AFTER_MAX_MS : d;
    return 0;
}

/* ---- secrets --------------------------------------------------------------- */

static void keep_own(cl__secrets *s, char *c);

void cl__secrets_add(cl__secrets *s, const char *v)
{
    if (!v || strlen(v) < 3) return;
    if (s->n < CL__MAX_SECRETS) s->v[s->n++] = v;
    else keep_own(s, ut_strdup(v));
    ut_buf enc = {0};
    cl__url_encode(&enc, v, strlen(v));
    if (strcmp(ut_buf_cstr(&enc), v)) keep_own(s, ut_strdup(ut_buf_cstr(&enc)));
    ut_buf_free(&enc);
}

/* Keep an owned copy; when full the oldest copy goes (an older token is
 * used by no request any more, so no message can hold it). */
static void keep_own(cl__secrets *s, char *c)
{
    for (int i = 0; i < s->nown; i++)
        if (!strcmp(s->own[i], c)) {
            free(c);
            return;
        }
    if (s->nown == CL__MAX_SECRETS) {
        memset(s->own[0], 0, strlen(s->own[0]));
        free(s->own[0]);
        memmove(s->own, s->own + 1, (CL__MAX_SECRETS - 1) * sizeof *s->own);
        s->nown--;
    }
    s->own[s->nown++] = c;
}

void cl__secrets_add_copy(cl__secrets *s, const char *v)
{
    if (!v || strlen(v) < 3) return;
    ut_buf enc = {0};
    cl__url_encode(&enc, v, strlen(v));
    if (strcmp(ut_buf_cstr(&enc), v)) keep_own(s, ut_strdup(ut_buf_cstr(&enc)));
    memset(enc.p, 0, enc.len);
    ut_buf_free(&enc);
    keep_own(s, ut_strdup(v));
}

void cl__secrets_free(cl__secrets *s)
{
    for (int i = 0; i < s->nown; i++) {
        memset(s->own[i], 0, strlen(s->own[i]));
        free(s->own[i]);
    }
    memset(s, 0, sizeof *s);
}

void cl__redact(const cl__secrets *sec, char *s, size_t cap)
{
    for (int i = 0; sec && i < sec->n; i++) ut_redact(s, cap, sec->v[i], "[redacted]");
    for (int i = 0; sec && i < sec->nown; i++) ut_redact(s, cap, sec->own[i], "[redacted]");
}
