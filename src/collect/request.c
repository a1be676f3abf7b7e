/* collect: one attempt's request, built from a cl__target.
 *
 *   url      rq->url with {{page.*}} / {{report.id}} / {{auth.token}}
 *            (URL-encoded), then rq's params and the page parameters
 *            (encoded; a page parameter replaces rq's of that name) -- or
 *            the target's own URL (a next page, a file, a redirect) as it is
 *   auth     Bearer / API-key header / query parameter / basic, only when
 *            the target says so (same origin as the spec's requests)
 *   headers  rq's (templated; CR, LF and non-token names refused), Expect
 *            off (call.c adds Accept-Encoding: gzip to data calls)
 *   body     templated: form bodies get URL-encoded values, JSON bodies
 *            JSON-escaped ones
 *
 * It is built again for every attempt: a refreshed OAuth2 token or a
 * redirect changes it.  Caps: CL__MAX_URL, CL__MAX_BODY. */
#include "collect/cl_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int header_name_ok(const char *n)
{
    if (!*n) return 0;
    for (; *n; n++)
        if (!strchr("!#$%&'*+-.^_`|~", *n) && !((*n >= '0' && *n <= '9') ||
                                                 ((*n | 0x20) >= 'a' && (*n | 0x20) <= 'z')))
            return 0;
    return 1;
}

static int add_header(cl__cx *cx, cl__built *b, const char *name, const char *value)
{
    if (!header_name_ok(name))
        return cl__fail(cx, CL_INVALID, NULL, "header name '%.60s' is not a token", name);
    ut_buf h = {.max = CL__MAX_HEADER};
    ut_buf_printf(&h, "%s: ", name);
    if (cl__subst(&h, value, b->vars, CL__ESC_NONE) || strpbrk(ut_buf_cstr(&h), "\r\n")) {
        ut_buf_free(&h);
        return cl__fail(cx, CL_INVALID, NULL, "header %.60s: its value is over %d bytes or has "
                        "a line break", name, CL__MAX_HEADER);
    }
    b->hdr = curl_slist_append(b->hdr, ut_buf_cstr(&h));
    memset(h.p, 0, h.len); /* it may hold a token */
    ut_buf_free(&h);
    return 0;
}

static int build_url(cl__cx *cx, const cl__target *t, cl__built *b)
{
    const cl_request *rq = t->rq;
    if (t->url) {
        ut_buf_puts(&b->url, t->url);
    } else {
        cl__subst(&b->url, rq->url, b->vars, CL__ESC_URL);
        for (int i = 0; i < rq->nparams; i++) {
            const cl_kv *kv = &rq->params[i];
            if ((t->pname && !strcmp(kv->name, t->pname)) || (t->sname && !strcmp(kv->name, t->sname)))
                continue;
            ut_buf v = {.max = CL__MAX_URL};
            cl__subst(&v, kv->value ? kv->value : "", b->vars, CL__ESC_NONE);
            cl__url_add_param(&b->url, kv->name, ut_buf_cstr(&v));
            ut_buf_free(&v);
        }
    }
    if (t->pname) cl__url_add_param(&b->url, t->pname, t->pvalue ? t->pvalue : "");
    if (t->sname) cl__url_add_param(&b->url, t->sname, t->svalue ? t->svalue : "");
    const cl_auth *au = &cx->s->auth;
    if (t->auth && au->type == CL_AUTH_QUERY && !cl__url_has_param(ut_buf_cstr(&b->url), au->name))
        cl__url_add_param(&b->url, au->name, au->token);
    const char *u = ut_buf_cstr(&b->url);
    if (ut_buf_over(&b->url))
        return cl__fail(cx, CL_INVALID, NULL, "a request URL is over %d bytes", CL__MAX_URL);
    if ((strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) || strpbrk(u, " \r\n\t"))
        return cl__fail(cx, CL_INVALID, u, "URL '%.200s' is not an http(s) URL without spaces", u);
    return 0;
}

static int build_auth(cl__cx *cx, const cl__target *t, cl__built *b)
{
    const cl_auth *au = &cx->s->auth;
    if (!t->auth) return 0;
    switch (au->type) {
    case CL_AUTH_BEARER: case CL_AUTH_OAUTH2: {
        const char *tok = au->type == CL_AUTH_OAUTH2 ? cx->token : au->token;
        ut_buf h = {0};
        ut_buf_printf(&h, "Authorization: Bearer %s", tok);
        b->hdr = curl_slist_append(b->hdr, ut_buf_cstr(&h));
        memset(h.p, 0, h.len);
        ut_buf_free(&h);
        return 0;
    }
    case CL_AUTH_HEADER: {
        cl__vars none = {0};
        const cl__vars *keep = b->vars;
        b->vars = &none; /* the key as it is, no templates */
        int rc = add_header(cx, b, au->name, au->token);
        b->vars = keep;
        return rc;
    }
    case CL_AUTH_BASIC:
        b->user = au->username, b->pass = au->password;
        return 0;
    default:
        return 0;
    }
}

static int build_body(cl__cx *cx, const cl__target *t, cl__built *b)
{
    const cl_request *rq = t->rq;
    if (!rq->body || t->no_body) return 0;
    const char *ct = rq->content_type ? rq->content_type : "application/json";
    int esc = !strncasecmp(ct, "application/x-www-form-urlencoded", 33) ? CL__ESC_URL
            : strstr(ct, "json") ? CL__ESC_JSON : CL__ESC_NONE;
    b->body.max = CL__MAX_BODY;
    if (cl__subst(&b->body, rq->body, b->vars, esc))
        return cl__fail(cx, CL_INVALID, NULL, "a request body is over %zu bytes", CL__MAX_BODY);
    b->has_body = 1;
    if (strpbrk(ct, "\r\n")) return cl__fail(cx, CL_INVALID, NULL, "content_type has a line break");
    ut_buf h = {0};
    ut_buf_printf(&h, "Content-Type: %s", ct);
    b->hdr = curl_slist_append(b->hdr, ut_buf_cstr(&h));
    ut_buf_free(&h);
    return 0;
}

int cl__build(cl__cx *cx, const cl__target *t, const cl__vars *v, cl__built *b)
{
    const cl_request *rq = t->rq;
    memset(b, 0, sizeof *b);
    b->vars = v;
    b->url.max = CL__MAX_URL;
    b->method = t->method ? t->method : rq->method ? rq->method : "GET";
    if (build_url(cx, t, b)) return -1;
    for (int i = 0; !t->no_headers && i < rq->nheaders; i++) {
        if (!strcasecmp(rq->headers[i].name, "Accept-Encoding")) b->accept_encoding = 1;
        if (add_header(cx, b, rq->headers[i].name, rq->headers[i].value ? rq->headers[i].value : ""))
            return -1;
    }
    b->hdr = curl_slist_append(b->hdr, "Expect:");
    if (build_auth(cx, t, b) || build_body(cx, t, b)) return -1;
    return 0;
}

void cl__built_free(cl__built *b)
{
    if (b->body.p) memset(b->body.p, 0, b->body.len);
    if (b->url.p) memset(b->url.p, 0, b->url.len);
    ut_buf_free(&b->url);
    ut_buf_free(&b->body);
    curl_slist_free_all(b->hdr);
    b->hdr = NULL;
}
