/* jobs: templates.  `{{ name }}` in a job's SQL, command arguments and
 * environment is replaced by the run's value:
 *
 *   ds            window start, local date in the job's zone   2024-05-01
 *   ds_nodash     the same without dashes                       20240501
 *   hr            window start, local hour                      07
 *   window_start  window start in UTC, as lake timestamps are   2024-05-01T07:00:00.000000Z
 *   window_end    window end (exclusive), the same form         2024-05-01T08:00:00.000000Z
 *   run_id, job, iterations (windows of a serial backfill run), account (the
 *   run's account, "" for a job without accounts)
 *   params.NAME   the job's params
 *   secret.NAME   a secret (never logged; cut from errors)
 *
 * Anything else between {{ and }} is an error, at config check time
 * (jb__tmpl_check) as at run time.  There is no escaping: `{{` always
 * starts a variable. */
#include "jobs/jb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 80

/* The next variable at or after p: *open at "{{", name copied (trimmed)
 * into name[NAME_MAX_LEN + 1], *close just after "}}".  1 found, 0 none,
 * -1 malformed (message). */
static int next_var(const char *p, const char **open, char *name, const char **close, char *err,
                    size_t errlen)
{
    const char *o = strstr(p, "{{");
    if (!o) return 0;
    const char *c = strstr(o + 2, "}}");
    if (!c) return ut_err(err, errlen, "'{{' without a closing '}}'");
    const char *a = o + 2, *b = c;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    if (b == a) return ut_err(err, errlen, "empty template variable '{{}}'");
    if ((size_t)(b - a) > NAME_MAX_LEN)
        return ut_err(err, errlen, "template variable '%.40s...' is too long", a);
    memcpy(name, a, (size_t)(b - a));
    name[b - a] = 0;
    *open = o;
    *close = c + 2;
    return 1;
}

static const char *const plain_vars[] = {"ds", "ds_nodash", "hr", "window_start", "window_end",
                                         "run_id", "job", "iterations", "account", NULL};

static int is_plain(const char *name)
{
    for (int i = 0; plain_vars[i]; i++)
        if (!strcmp(name, plain_vars[i])) return 1;
    return 0;
}

/* Variables kind collect's engine fills in per call (collect.h): left as
 * they are by jb__expand, for cl_fetch. */
static int engine_var(const char *name)
{
    static const char *const v[] = {"page.cursor", "page.number", "page.offset", "page.size",
                                    "report.id", "auth.token", NULL};
    for (int i = 0; v[i]; i++)
        if (!strcmp(name, v[i])) return 1;
    return 0;
}

/* "unknown template variable 'x' (known: ...)". */
static int unknown(const char *name, char *err, size_t errlen)
{
    return ut_err(err, errlen,
                  "unknown template variable '{{%s}}' (known: ds, ds_nodash, hr, window_start, "
                  "window_end, run_id, job, iterations, account, account.FIELD, account_secret.FIELD, "
                  "params.NAME, secret.NAME)",
                  name);
}

int jb__tmpl_check(const cf_config *cf, const cf_job *j, const char *text, char *err,
                   size_t errlen)
{
    char name[NAME_MAX_LEN + 1], val[JB_MAX_SECRET_BYTES], e2[300];
    const char *p = text, *o, *c;
    int r;
    while ((r = next_var(p, &o, name, &c, err, errlen)) == 1) {
        p = c;
        if (is_plain(name)) continue;
        if (j->kind == CF_JOB_COLLECT && engine_var(name)) continue;
        if (!strncmp(name, "params.", 7)) {
            if (!cf_strmap_get(&j->params, name + 7))
                return ut_err(err, errlen, "template variable '{{%s}}': no param '%s' in params",
                              name, name + 7);
            continue;
        }
        if (!strncmp(name, "account.", 8) || !strncmp(name, "account_secret.", 15)) {
            if (!j->accounts.sql[0])
                return ut_err(err, errlen, "template variable '{{%s}}': only accounts from "
                              "accounts.sql have fields (their columns)", name);
            continue;
        }
        if (!strncmp(name, "secret.", 7)) {
            if (jb__secret(cf, name + 7, val, e2, sizeof e2))
                return ut_err(err, errlen, "template variable '{{%s}}': %s", name, e2);
            memset(val, 0, sizeof val);
            continue;
        }
        return unknown(name, err, errlen);
    }
    return r < 0 ? -1 : 0;
}

/* 2024-05-01T07:00:00.000000Z */
static void utc_text(int64_t us, char out[96])
{
    time_t s = (time_t)(us / 1000000);
    int64_t frac = us % 1000000;
    if (frac < 0) frac += 1000000, s--;
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

/* The value of a plain variable into out[64]. */
static void plain_value(const jb_vars *v, const char *name, char out[96])
{
    struct tm tm;
    int off;
    jb__local(v->timing, v->ws, &tm, &off);
    if (!strcmp(name, "ds"))
        snprintf(out, 96, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    else if (!strcmp(name, "ds_nodash"))
        snprintf(out, 96, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    else if (!strcmp(name, "hr")) snprintf(out, 96, "%02d", tm.tm_hour);
    else if (!strcmp(name, "window_start")) utc_text(v->ws, out);
    else if (!strcmp(name, "window_end")) utc_text(v->we, out);
    else if (!strcmp(name, "run_id")) snprintf(out, 96, "%lld", (long long)v->run_id);
    else if (!strcmp(name, "job")) snprintf(out, 96, "%s", v->job->name);
    else if (!strcmp(name, "account")) snprintf(out, 96, "%s", v->account ? v->account : "");
    else snprintf(out, 96, "%d", v->iterations > 0 ? v->iterations : 1);
}

/* Remember a secret's value so that reports can cut it out.  0, or -1
 * when r is full (the value must then not be used: nothing would cut it). */
static int remember(jb_redact *r, const char *name, const char *val, char *err, size_t errlen)
{
    if (!r || !val[0]) return 0;
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->name[i], name)) return 0;
    if (r->n >= JB_REDACT_MAX)
        return ut_err(err, errlen, "secret '%s': a run uses at most %d secrets (each is cut from "
                      "what the run reports)", name, JB_REDACT_MAX);
    snprintf(r->name[r->n], sizeof r->name[r->n], "%s", name);
    r->v[r->n++] = ut_strdup(val);
    return 0;
}

/* {{account.F}}: field F of the run's account; {{account_secret.F}}: the
 * secret that field names (remembered for redaction).  0 or -1. */
static int account_value(const jb_vars *v, const char *name, ut_buf *out, jb_redact *r,
                         char *err, size_t errlen)
{
    int secret = name[7] == '_';
    const char *field = name + (secret ? 15 : 8);
    char e2[300];
    if (!v->account_args)
        return ut_err(err, errlen, "template variable '{{%s}}': the run has no account fields",
                      name);
    ut_buf val = {0};
    int rc = jb__account_field(v->account_args, field, &val, e2, sizeof e2);
    if (rc) ut_err(err, errlen, "template variable '{{%s}}': account %s: %s", name,
                   v->account ? v->account : "?", e2);
    if (rc == 0 && !secret) ut_buf_put(out, val.p, val.len);
    if (rc == 0 && secret) {
        char *sv = ut_malloc(JB_MAX_SECRET_BYTES);
        rc = jb__secret(v->cf, ut_buf_cstr(&val), sv, e2, sizeof e2);
        if (rc) ut_err(err, errlen, "template variable '{{%s}}': account %s: %s", name,
                       v->account ? v->account : "?", e2);
        else if (!(rc = remember(r, ut_buf_cstr(&val), sv, err, errlen))) ut_buf_puts(out, sv);
        memset(sv, 0, JB_MAX_SECRET_BYTES);
        free(sv);
    }
    ut_buf_free(&val);
    return rc;
}

/* Append the value of variable `name` to out.  0 or -1. */
static int put_value(const jb_vars *v, const char *name, ut_buf *out, jb_redact *r, char *err,
                     size_t errlen)
{
    char small[96], e2[300];
    if (v->job->kind == CF_JOB_COLLECT && engine_var(name)) {
        ut_buf_printf(out, "{{%s}}", name);
        return 0;
    }
    if (is_plain(name)) {
        plain_value(v, name, small);
        ut_buf_puts(out, small);
        return 0;
    }
    if (!strncmp(name, "params.", 7)) {
        const char *p = cf_strmap_get(&v->job->params, name + 7);
        if (!p) return ut_err(err, errlen, "template variable '{{%s}}': no such param", name);
        ut_buf_puts(out, p);
        return 0;
    }
    if (!strncmp(name, "account.", 8) || !strncmp(name, "account_secret.", 15))
        return account_value(v, name, out, r, err, errlen);
    if (!strncmp(name, "secret.", 7)) {
        char *val = ut_malloc(JB_MAX_SECRET_BYTES);
        int rc = jb__secret(v->cf, name + 7, val, e2, sizeof e2);
        if (rc) ut_err(err, errlen, "template variable '{{%s}}': %s", name, e2);
        else if (!(rc = remember(r, name + 7, val, err, errlen))) {
            ut_buf_puts(out, val);
        }
        memset(val, 0, JB_MAX_SECRET_BYTES);
        free(val);
        return rc;
    }
    return unknown(name, err, errlen);
}

int jb__expand(const char *text, const jb_vars *v, ut_buf *out, jb_redact *r, char *err,
               size_t errlen)
{
    char name[NAME_MAX_LEN + 1];
    const char *p = text, *o, *c;
    int found;
    ut_buf_reset(out);
    while ((found = next_var(p, &o, name, &c, err, errlen)) == 1) {
        ut_buf_put(out, p, (size_t)(o - p));
        if (put_value(v, name, out, r, err, errlen)) return -1;
        p = c;
        if (out->len > JB_MAX_TEMPLATE_OUT)
            return ut_err(err, errlen, "template expands to more than %u bytes",
                          JB_MAX_TEMPLATE_OUT);
    }
    if (found < 0) return -1;
    ut_buf_puts(out, p);
    return 0;
}
