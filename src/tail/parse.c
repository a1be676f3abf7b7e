/* Record parsers: json, combined (Apache/nginx), regex with named groups,
 * plain.  Each appends JSON members (no braces) to the caller's buffer. */
#include "json/json.h"
#include "tail/tail.h"

#include <assert.h>
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct tl_parser {
    tl_format fmt;
    regex_t re;
    int have_re;
    int ngroups;                  /* groups in the translated pattern */
    char *names[TL_MAX_GROUPS + 1]; /* by group number (1..); NULL = unnamed */
    js_parser *js;
};

/* (?P<name>...) / (?<name>...) -> (...), names kept by group number;
 * (?:...) -> (...).  Bracket expressions and escapes are copied as they are. */
static int translate(tl_parser *p, const char *pat, ut_buf *out, ut_error *e)
{
    size_t n = strlen(pat);
    if (n > TL_MAX_PATTERN) return ut_fail(e, UT_EINVAL, "pattern over %d bytes", TL_MAX_PATTERN);
    for (size_t i = 0; i < n; i++) {
        char c = pat[i];
        if (c == '\\' && i + 1 < n) {
            ut_buf_put(out, pat + i, 2);
            i++;
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < n && pat[j] == '^') j++;
            if (j < n && pat[j] == ']') j++;
            while (j < n && pat[j] != ']') j++;
            if (j >= n) return ut_fail(e, UT_EINVAL, "pattern: '[' at byte %zu is not closed", i);
            ut_buf_put(out, pat + i, j - i + 1);
            i = j;
        } else if (c == '(') {
            if (++p->ngroups > TL_MAX_GROUPS)
                return ut_fail(e, UT_EINVAL, "pattern: more than %d groups", TL_MAX_GROUPS);
            ut_buf_putc(out, '(');
            if (i + 1 < n && pat[i + 1] == '?') {
                size_t s = i + 2;
                if (s < n && pat[s] == ':') {
                    i = s;
                    continue;
                }
                if (s < n && pat[s] == 'P') s++;
                if (s >= n || pat[s] != '<')
                    return ut_fail(e, UT_EINVAL, "pattern: '(?' at byte %zu: only (?P<name>...), "
                                   "(?<name>...) and (?:...) are known", i);
                size_t t = ++s;
                while (t < n && (isalnum((unsigned char)pat[t]) || pat[t] == '_')) t++;
                if (t >= n || pat[t] != '>' || t == s || t - s > 64)
                    return ut_fail(e, UT_EINVAL, "pattern: bad group name at byte %zu", s);
                p->names[p->ngroups] = ut_strndup(pat + s, t - s);
                i = t;
            }
        } else {
            ut_buf_putc(out, (uint8_t)c);
        }
    }
    return 0;
}

tl_parser *tl_parser_create(tl_format fmt, const char *pattern, ut_error *e)
{
    tl_parser *p = ut_calloc(1, sizeof *p);
    p->fmt = fmt == TL_NGINX ? TL_COMBINED : fmt;
    p->js = js_parser_create(16u << 20, 64);
    if (p->fmt != TL_REGEX) return p;
    ut_buf b = {0};
    if (!pattern || !pattern[0]) {
        ut_fail(e, UT_EINVAL, "format regex needs a pattern");
        goto fail;
    }
    if (translate(p, pattern, &b, e)) goto fail;
    int rc = regcomp(&p->re, ut_buf_cstr(&b), REG_EXTENDED);
    if (rc) {
        char m[256];
        regerror(rc, &p->re, m, sizeof m);
        ut_fail(e, UT_EINVAL, "pattern: %s", m);
        goto fail;
    }
    p->have_re = 1;
    int named = 0;
    for (int i = 1; i <= p->ngroups; i++) named += p->names[i] != NULL;
    if (!named) {
        ut_fail(e, UT_EINVAL, "pattern has no named group (?P<name>...)");
        goto fail;
    }
    ut_buf_free(&b);
    return p;
fail:
    ut_buf_free(&b);
    tl_parser_destroy(p);
    return NULL;
}

void tl_parser_destroy(tl_parser *p)
{
    if (!p) return;
    if (p->have_re) regfree(&p->re);
    for (int i = 0; i <= TL_MAX_GROUPS; i++) free(p->names[i]);
    js_parser_destroy(p->js);
    free(p);
}

static void member(ut_buf *out, const char *key, const char *v, size_t n)
{
    if (out->len && out->p[out->len - 1] != '{') ut_buf_putc(out, ',');
    ut_json_str(out, key, strlen(key));
    ut_buf_putc(out, ':');
    ut_json_str(out, v, n);
}

static void member_int(ut_buf *out, const char *key, long long v)
{
    if (out->len && out->p[out->len - 1] != '{') ut_buf_putc(out, ',');
    ut_json_str(out, key, strlen(key));
    ut_buf_printf(out, ":%lld", v);
}

static void plain(ut_buf *out, const char *s, size_t n)
{
    member(out, "message", s, n);
}

/* ---- json ------------------------------------------------------------------- */

static int parse_json(tl_parser *p, const char *s, size_t n, ut_buf *out)
{
    char err[128];
    js_kind k;
    if (js_validate(p->js, s, n, &k, err, sizeof err) || k != JS_OBJECT) return 0;
    size_t a = 0, b = n;
    while (a < b && s[a] != '{') a++;
    while (b > a && s[b - 1] != '}') b--;
    assert(b > a + 1 || b == a + 1);
    size_t in0 = a + 1, in1 = b - 1;
    while (in0 < in1 && isspace((unsigned char)s[in0])) in0++;
    if (in1 > in0) {
        if (out->len && out->p[out->len - 1] != '{') ut_buf_putc(out, ',');
        ut_buf_put(out, s + in0, in1 - in0);
    }
    return 1;
}

/* ---- combined --------------------------------------------------------------- */

typedef struct cursor {
    const char *s;
    size_t n, i;
} cursor;

static int word(cursor *c, const char **w, size_t *wn)
{
    size_t a = c->i;
    while (c->i < c->n && c->s[c->i] != ' ') c->i++;
    if (c->i == a) return -1;
    *w = c->s + a;
    *wn = c->i - a;
    while (c->i < c->n && c->s[c->i] == ' ') c->i++;
    return 0;
}

/* A field between open and close (a quoted string may hold \" escapes). */
static int delimited(cursor *c, char open, char close, const char **w, size_t *wn)
{
    if (c->i >= c->n || c->s[c->i] != open) return -1;
    size_t a = ++c->i;
    while (c->i < c->n && c->s[c->i] != close) c->i += c->s[c->i] == '\\' && c->i + 1 < c->n ? 2 : 1;
    if (c->i >= c->n) return -1;
    *w = c->s + a;
    *wn = c->i - a;
    c->i++;
    while (c->i < c->n && c->s[c->i] == ' ') c->i++;
    return 0;
}

static int num(const char *w, size_t n, long long *v)
{
    if (n == 1 && w[0] == '-') return *v = 0, 0;
    if (!n || n > 18) return -1;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)w[i])) return -1;
        x = x * 10 + (w[i] - '0');
    }
    return *v = x, 0;
}

static int two(const char *s)
{
    return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) ? (s[0] - '0') * 10 + s[1] - '0' : -1;
}

/* "10/Oct/2000:13:55:36 -0700" -> RFC 3339 UTC text; 0 or -1. */
static int clf_time(const char *s, size_t n, char out[40])
{
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[20] != ' ') return -1;
    int d = two(s), m = 0, hh = two(s + 12), mi = two(s + 15), ss = two(s + 18);
    while (m < 12 && memcmp(mon + 3 * m, s + 3, 3)) m++;
    int y1 = two(s + 7), y2 = two(s + 9), oh = two(s + 22), om = two(s + 24);
    if (d < 1 || d > 31 || m == 12 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 ||
        ss > 60 || y1 < 0 || y2 < 0 || oh < 0 || om < 0 || (s[21] != '+' && s[21] != '-'))
        return -1;
    int64_t days = ut_days_from_civil(y1 * 100 + y2, (unsigned)m + 1, (unsigned)d);
    int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss;
    int64_t off = (int64_t)oh * 3600 + om * 60;
    secs -= s[21] == '+' ? off : -off;
    ut_ts_format(out, secs * 1000000);
    return 0;
}

static void request_parts(ut_buf *out, const char *r, size_t n)
{
    const char *sp1 = memchr(r, ' ', n);
    if (!sp1) return;
    const char *rest = sp1 + 1;
    size_t rn = n - (size_t)(rest - r);
    const char *sp2 = memchr(rest, ' ', rn);
    member(out, "method", r, (size_t)(sp1 - r));
    if (!sp2) {
        member(out, "path", rest, rn);
        return;
    }
    member(out, "path", rest, (size_t)(sp2 - rest));
    member(out, "protocol", sp2 + 1, rn - (size_t)(sp2 + 1 - rest));
}

static int parse_combined(const char *s, size_t n, ut_buf *out)
{
    cursor c = {s, n, 0};
    const char *addr, *ident, *user, *tm, *req, *st, *by, *ref = NULL, *ua = NULL;
    size_t addr_n, ident_n, user_n, tm_n, req_n, st_n, by_n, ref_n = 0, ua_n = 0;
    long long status, bytes;
    if (word(&c, &addr, &addr_n) || word(&c, &ident, &ident_n) || word(&c, &user, &user_n) ||
        delimited(&c, '[', ']', &tm, &tm_n) || delimited(&c, '"', '"', &req, &req_n) ||
        word(&c, &st, &st_n) || word(&c, &by, &by_n) || num(st, st_n, &status) ||
        num(by, by_n, &bytes))
        return 0;
    if (c.i < n && (delimited(&c, '"', '"', &ref, &ref_n) || delimited(&c, '"', '"', &ua, &ua_n)))
        return 0;
    size_t at = out->len;
    member(out, "remote_addr", addr, addr_n);
    if (!(user_n == 1 && user[0] == '-')) member(out, "remote_user", user, user_n);
    member(out, "time_local", tm, tm_n);
    char ts[40];
    if (!clf_time(tm, tm_n, ts)) member(out, "event_time", ts, strlen(ts));
    member(out, "request", req, req_n);
    request_parts(out, req, req_n);
    member_int(out, "status", status);
    member_int(out, "body_bytes_sent", bytes);
    if (ref) member(out, "http_referer", ref, ref_n);
    if (ua) member(out, "http_user_agent", ua, ua_n);
    (void)at;
    return 1;
}

/* ---- regex ------------------------------------------------------------------ */

static int parse_regex(tl_parser *p, const char *s, size_t n, ut_buf *out)
{
    regmatch_t m[TL_MAX_GROUPS + 1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    if (regexec(&p->re, s, (size_t)p->ngroups + 1, m, REG_STARTEND)) return 0;
    for (int i = 1; i <= p->ngroups; i++)
        if (p->names[i] && m[i].rm_so >= 0)
            member(out, p->names[i], s + m[i].rm_so, (size_t)(m[i].rm_eo - m[i].rm_so));
    return 1;
}

int tl_parse(tl_parser *p, const char *text, size_t n, ut_buf *out)
{
    size_t at = out->len;
    int ok;
    switch (p->fmt) {
    case TL_JSON: ok = parse_json(p, text, n, out); break;
    case TL_COMBINED: ok = parse_combined(text, n, out); break;
    case TL_REGEX: ok = parse_regex(p, text, n, out); break;
    default: plain(out, text, n); return 1;
    }
    if (!ok) {
        ut_buf_truncate(out, at);
        plain(out, text, n);
    }
    return ok;
}
