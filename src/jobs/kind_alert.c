/* jobs: kind alert — a SELECT checked on the job's schedule (Redash's
 * alerts, docs/jobs.md#alerts).
 *
 *   query (templated), or a console saved query (saved_query: its name; its
 *   parameters at their defaults) ──► the first row as a JSON object, plus "_rows": how
 *   many rows came back ──► condition (an xform condition over that object:
 *   `cost > 1000`, `_rows > 0`) ──► the state machine
 *
 *        ok ──holds──► triggered (notify)
 *        triggered ──holds, cooldown since the last notice──► notify again
 *        triggered ──does not hold──► ok (notify "resolved")
 *
 *   ──► alert_webhook POST (Slack-compatible {"text": ...}) ──► the state
 *   saved in <data_dir>/jobs/alerts/<job>.json (ut_file_replace) only after
 *   the notice went out: a failed POST fails the run, which retries and
 *   notifies then.  A condition that cannot be evaluated (a type mismatch)
 *   fails the run with the reason. */
#include "jobs/jb_rt.h"
#include "json/json.h"
#include "log/log.h"
#include "server/server.h"
#include "xform/xform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ALERT_ROW_MAX ((size_t)64 << 10) /* the first row's JSON */

typedef struct arow {
    ut_buf json;    /* {"col":value,... (not closed) */
    int64_t rows;
    int too_big;
} arow;

static int on_row(void *ctx, sqlite3_stmt *st)
{
    arow *a = ctx;
    if (a->rows++) return 0;
    ut_buf *b = &a->json;
    ut_buf_putc(b, '{');
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i) ut_buf_putc(b, ',');
        ut_json_str(b, name, strlen(name));
        ut_buf_putc(b, ':');
        char t[32];
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER: ut_buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: {
            double d = sqlite3_column_double(st, i);
            if (d != d || d - d != 0) ut_buf_puts(b, "null"); /* NaN, inf: no JSON number */
            else ut_buf_put(b, t, (size_t)ut_fmt_double(t, d));
            break;
        }
        case SQLITE_TEXT:
            ut_json_str(b, sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
            break;
        default: ut_buf_puts(b, "null"); break;
        }
        if (b->len > ALERT_ROW_MAX) a->too_big = 1;
    }
    return 0;
}

/* The saved query named j->saved_query (exact name, else the one equal
 * ignoring case): its SQL with its parameters bound at their defaults
 * (sv_params_bind: relative dates are today's), into *b.  0 / -1 with e. */
static int saved_query(jb_task_ctx *c, sv_bound *b, ut_error *e)
{
    const cf_job *j = c->job;
    char err[600];
    ct_obj *o = NULL;
    int n = ct_objs(c->cat, CT_OBJ_SAVED_QUERY, 0, &o, err, sizeof err), k = -1;
    if (n < 0) return ut_fail(e, UT_EIO, "job %s: saved_query: %s", j->name, err);
    for (int i = 0; i < n && k < 0; i++) if (!strcmp(o[i].name, j->saved_query)) k = i;
    for (int i = 0; i < n && k < 0; i++) if (!strcasecmp(o[i].name, j->saved_query)) k = i;
    int rc = k < 0 ? ut_fail(e, UT_ENOTFOUND, "job %s: no saved query named '%s'", j->name,
                             j->saved_query) : 0;
    char *sql = NULL, *params = NULL;
    js_parser *p = js_parser_create(CT_OBJ_SPEC_MAX, 8);
    js_field f;
    if (!rc && js_obj_begin(p, o[k].spec, strlen(o[k].spec), err, sizeof err) == 0)
        while (js_obj_next(p, &f, err, sizeof err) == 1) {
            if (f.key_len == 3 && !memcmp(f.key, "sql", 3) && f.v.kind == JS_STRING && !sql)
                sql = ut_strndup(f.v.s, f.v.n);
            else if (f.key_len == 6 && !memcmp(f.key, "params", 6) && f.v.kind == JS_ARRAY && !params)
                params = ut_strndup(f.v.s, f.v.n);
        }
    js_parser_destroy(p);
    if (!rc && !sql) rc = ut_fail(e, UT_EINVAL, "job %s: saved query '%s' has no SQL", j->name, j->saved_query);
    if (!rc && sv_params_bind(sql, params, params ? strlen(params) : 0, NULL, 0, b, err, sizeof err))
        rc = ut_fail(e, UT_EINVAL, "job %s: saved query '%s': %s", j->name, j->saved_query, err);
    free(sql);
    free(params);
    ct_objs_free(o, n);
    return rc;
}

/* Run the query: the first row and the count into a. */
static int query(jb_task_ctx *c, arow *a, ut_error *e)
{
    const cf_job *j = c->job;
    jb_vars v = {.cf = c->cf, .job = j, .timing = c->timing, .run_id = c->run->id,
                 .account = c->run->part, .account_args = c->account_args,
                 .ws = c->run->window_start, .we = c->run->window_end};
    ut_buf sql = {0};
    char err[1024];
    sv_bound b = {0};
    if (j->saved_query[0]) {
        if (saved_query(c, &b, e)) return -1;
        ut_buf_puts(&sql, b.sql);
    } else if (jb__expand(j->query, &v, &sql, c->redact, err, sizeof err)) {
        ut_buf_free(&sql);
        return ut_fail(e, UT_EINVAL, "job %s: query: %s", j->name, err);
    }
    sq_engine *eng = c->rt->o.sql_open ? c->rt->o.sql_open(c->rt->o.sql_ctx, j->timeout_ms, err,
                                                           sizeof err)
                                       : NULL;
    if (!eng) {
        ut_buf_free(&sql);
        sv_bound_free(&b);
        return ut_fail(e, UT_EIO, "job %s: %s", j->name, c->rt->o.sql_open ? err : "no SQL engine");
    }
    if (b.n) sq_set_params(eng, b.p, b.n);
    jb__task_engine(c, eng);
    sq_sink sink = {.ctx = a, .row = on_row};
    int64_t n = sq_query(eng, ut_buf_cstr(&sql), &sink, err, sizeof err);
    if (n < 0) ut_fail(e, sq_error_kind(eng), "job %s: query: %s", j->name, err);
    jb__task_engine(c, NULL);
    sq_close(eng);
    ut_buf_free(&sql);
    sv_bound_free(&b);
    if (n >= 0 && a->too_big)
        return ut_fail(e, UT_ETOOBIG, "job %s: the query's first row is over %zu bytes", j->name,
                       ALERT_ROW_MAX);
    if (n < 0) return -1;
    if (!a->rows) ut_buf_putc(&a->json, '{');
    ut_buf_printf(&a->json, "%s\"_rows\":%lld}", a->rows ? "," : "", (long long)a->rows);
    return 0;
}

/* Does the condition hold for the row?  1 / 0, -1 with e. */
static int holds(const cf_job *j, const ut_buf *row, ut_error *e)
{
    const char *conds[] = {j->condition};
    xf_spec s = {.keep_where = conds, .nkeep_where = 1};
    xf_program *x = xf_compile(&s, e);
    if (!x) return -1;
    xf_run *r = xf_run_create(x, ALERT_ROW_MAX + 64, 0);
    const char *out;
    size_t outn;
    char msg[300];
    xf_result k = xf_apply(r, (const char *)row->p, row->len, &out, &outn, msg, sizeof msg);
    xf_run_destroy(r);
    xf_destroy(x);
    if (k == XF_FAIL) return ut_fail(e, UT_EINVAL, "job %s: condition '%s': %s", j->name,
                                     j->condition, msg);
    return k == XF_KEEP;
}

typedef jb_alert_state astate;

static void state_path(const jb_task_ctx *c, char *out, size_t n)
{
    jb__alert_state_path(c->rt->data_dir, c->job->name, out, n);
}

static void load_state(const jb_task_ctx *c, astate *s)
{
    jb__alert_state_load(c->rt->data_dir, c->job->name, s);
}

static int save_state(const jb_task_ctx *c, const astate *s, ut_error *e)
{
    char path[4400], err[600];
    state_path(c, path, sizeof path);
    char *slash = strrchr(path, '/');
    *slash = 0;
    if (ut_mkdir_p(path, err, sizeof err)) return ut_fail(e, UT_EIO, "job %s: %s", c->job->name, err);
    *slash = '/';
    char text[200];
    int n = snprintf(text, sizeof text, "{\"state\":\"%s\",\"since\":%lld,\"notified\":%lld}\n",
                     s->triggered ? "triggered" : "ok", (long long)s->since_ms,
                     (long long)s->notified_ms);
    if (ut_file_replace(path, text, (size_t)n, 0644, err, sizeof err))
        return ut_fail(e, UT_EIO, "job %s: alert state: %s", c->job->name, err);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* POST the notice.  0 / -1 with e (the run fails and retries). */
static int notify(jb_task_ctx *c, const char *what, const ut_buf *row, ut_error *e)
{
    const cf_job *j = c->job;
    ut_buf text = {0}, url = {0};
    ut_buf_printf(&text, "sluice alert %s: %s: %s (%.*s%s)", j->name, what, j->condition,
                  (int)(row->len < 400 ? row->len : 400), (const char *)row->p,
                  row->len > 400 ? "…" : "");
    lg_warn("jobs", "%s", ut_buf_cstr(&text));
    jb_vars v = {.cf = c->cf, .job = j, .timing = c->timing, .run_id = c->run->id,
                 .ws = c->run->window_start, .we = c->run->window_end};
    char err[600];
    int rc = 0;
    if (jb__expand(j->alert_webhook, &v, &url, c->redact, err, sizeof err) ||
        jb__alert_post(ut_buf_cstr(&url), ut_buf_cstr(&text), err, sizeof err))
        rc = ut_fail(e, UT_EIO, "job %s: %s", j->name, err);
    ut_buf_free(&text);
    ut_buf_free(&url);
    return rc;
}

int jb__kind_alert(jb_task_ctx *c, ut_error *e)
{
    arow a = {0};
    int rc = query(c, &a, e);
    int h = rc ? -1 : holds(c->job, &a.json, e);
    if (h < 0) {
        ut_buf_free(&a.json);
        return -1;
    }
    c->done->rows = a.rows;
    astate s;
    load_state(c, &s);
    int64_t now = now_ms();
    const char *what = NULL;
    if (h && !s.triggered) what = "triggered", s.since_ms = now;
    else if (h && now - s.notified_ms >= c->job->cooldown_ms) what = "still triggered";
    else if (!h && s.triggered) what = "resolved";
    if (what && notify(c, what, &a.json, e)) rc = -1;
    if (what && !rc) {
        s.triggered = h;
        s.notified_ms = now;
        rc = save_state(c, &s, e);
    }
    ut_buf_free(&a.json);
    return rc ? -1 : 0;
}
