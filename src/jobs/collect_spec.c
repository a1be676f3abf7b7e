/* jobs: kind collect's config → cl_spec (src/collect), for one run.
 *
 * Every string the config templates (URLs, parameters, headers, bodies,
 * auth values) is expanded for the run's window and account here; the
 * expanded texts live in the jb_cspec until jb__cspec_free.  The values
 * the engine fills in per call ({{page.*}}, {{report.id}}, {{auth.token}})
 * pass through (tmpl.c).  Secrets used are added to the run's redaction
 * list, which the engine also gets. */
#include "jobs/jb_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An expanded copy of text kept in s (owned), or NULL with e. */
static const char *keep(jb_cspec *s, const jb_vars *v, const char *text, jb_redact *r,
                        const char *what, ut_error *e)
{
    char err[600];
    ut_buf b = {0};
    if (!text) text = "";
    if (jb__expand(text, v, &b, r, err, sizeof err)) {
        ut_buf_free(&b);
        return ut_fail(e, UT_EINVAL, "job %s: %s: %s", v->job->name, what, err), NULL;
    }
    if (s->nkept == JB_CSPEC_MAX_STRINGS) {
        ut_buf_free(&b);
        return ut_fail(e, UT_ETOOBIG, "job %s: too many request strings", v->job->name), NULL;
    }
    char *out = ut_strdup(ut_buf_cstr(&b));
    ut_buf_free(&b);
    s->kept[s->nkept++] = out;
    return out;
}

static int request_of(jb_cspec *s, const jb_vars *v, const cf_request *in, cl_request *out,
                      jb_redact *r, const char *what, ut_error *e)
{
    memset(out, 0, sizeof *out);
    out->method = in->method == 1 ? "POST" : "GET";
    if (!(out->url = keep(s, v, in->url, r, what, e))) return -1;
    if (in->body[0] && !(out->body = keep(s, v, in->body, r, what, e))) return -1;
    if (in->content_type[0]) out->content_type = in->content_type;
    for (int i = 0; i < in->params.n && i < CL_MAX_PARAMS; i++) {
        out->params[i].name = in->params.k[i];
        if (!(out->params[i].value = keep(s, v, in->params.v[i], r, what, e))) return -1;
        out->nparams++;
    }
    for (int i = 0; i < in->headers.n && i < CL_MAX_PARAMS; i++) {
        out->headers[i].name = in->headers.k[i];
        if (!(out->headers[i].value = keep(s, v, in->headers.v[i], r, what, e))) return -1;
        out->nheaders++;
    }
    return 0;
}

static int auth_of(jb_cspec *s, const jb_vars *v, const cf_auth *a, cl_auth *out, jb_redact *r,
                   ut_error *e)
{
    static const cl_auth_type types[] = {CL_AUTH_NONE,  CL_AUTH_BEARER, CL_AUTH_HEADER,
                                         CL_AUTH_QUERY, CL_AUTH_BASIC,  CL_AUTH_OAUTH2};
    memset(out, 0, sizeof *out);
    out->type = types[a->type];
    out->name = a->name;
    const char *const in[] = {a->token, a->username, a->password, a->token_url,
                              a->refresh_token, a->client_id, a->client_secret};
    const char **dst[] = {&out->token, &out->username, &out->password, &out->token_url,
                          &out->refresh_token, &out->client_id, &out->client_secret};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        if (in[i][0] && !(*dst[i] = keep(s, v, in[i], r, "auth", e))) return -1;
    snprintf(s->cache_key, sizeof s->cache_key, "%s/%s", v->job->name,
             v->account ? v->account : "");
    out->cache_key = s->cache_key;
    return 0;
}

static void page_of(const cf_pagination *p, cl_pagination *out)
{
    static const cl_page_type types[] = {CL_PAGE_NONE,   CL_PAGE_NEXT_URL, CL_PAGE_LINK,
                                         CL_PAGE_CURSOR, CL_PAGE_NUMBER,   CL_PAGE_OFFSET};
    *out = (cl_pagination){.type = types[p->type], .path = p->path, .param = p->param,
                           .size_param = p->size_param[0] ? p->size_param : NULL,
                           .size = p->size, .start = p->start, .max_pages = p->max_pages};
}

int jb__cspec_init(jb_cspec *s, const jb_vars *v, jb_redact *r, ut_error *e)
{
    static const cl_format formats[] = {CL_FMT_JSON, CL_FMT_NDJSON, CL_FMT_CSV, CL_FMT_TSV};
    const cf_job *j = v->job;
    const cf_report *rp = &j->report;
    memset(s, 0, sizeof *s);
    cl_spec *c = &s->spec;
    c->name = j->name;
    c->account = v->account ? v->account : "";
    c->is_async = rp->async;
    c->format = formats[rp->format];
    c->records = rp->records;
    c->gzip = rp->gzip;
    c->retries = rp->call_retries > 0 ? (int)rp->call_retries : -1; /* 0: the engine's 3 */
    c->timeout_ms = rp->call_timeout_ms;
    c->backoff_ms = rp->call_backoff_ms;
    page_of(&j->pagination, &c->page);
    if (auth_of(s, v, &j->auth, &c->auth, r, e)) return -1;
    if (!rp->async) return request_of(s, v, &j->request, &c->request, r, "request", e);
    cl_async *a = &c->async;
    if (request_of(s, v, &rp->create, &a->create, r, "report.create", e) ||
        request_of(s, v, &rp->status, &a->status, r, "report.status", e))
        return -1;
    a->id_path = rp->id_path;
    a->status_path = rp->status_path;
    a->ready = rp->ready;
    a->failed = rp->failed;
    a->reason_path = rp->reason_path[0] ? rp->reason_path : NULL;
    a->file_url_path = rp->file_url_path;
    a->poll_ms = rp->poll_ms;
    a->max_wait_ms = rp->max_wait_ms;
    return 0;
}

void jb__cspec_free(jb_cspec *s)
{
    for (int i = 0; i < s->nkept; i++) {
        memset(s->kept[i], 0, strlen(s->kept[i])); /* may hold a secret */
        free(s->kept[i]);
    }
    s->nkept = 0;
}
