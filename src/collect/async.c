/* collect: an asynchronous report -- create, poll, download.
 *
 *   create   async.create (a POST, say) ──► the id at id_path (required;
 *            a state and file URL already there are taken too)
 *   poll     wait poll_ms, doubling up to 30 s, then async.status with
 *            {{report.id}} ──► the state at status_path (required):
 *              `ready`   ──► the file URL at file_url_path
 *              `failed`  ──► CL_REPORT with the reason at reason_path
 *              other     ──► poll again, until max_wait_ms: CL_REPORT
 *   download the file URL (relative ones against the status URL) as one
 *            data part, with Range resume; credentials only when it is on
 *            the status URL's origin (a signed storage URL gets none), and
 *            none of the status request's headers.
 *
 * Every step is an HTTP call of its own (cl__call): each takes a pool
 * token, a 429 pauses and retries that step only, a 401 refreshes once. */
#include "collect/cl_int.h"

#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { K_ID, K_STATE, K_FILE, K_REASON };

typedef struct report {
    ut_buf id, state, file, reason, from; /* from: the URL that gave the file URL */
} report;

static void take(const cl__jscan *js, int i, ut_buf *out)
{
    size_t n = 0;
    const char *v = cl__jscan_value(js, i, &n);
    if (!v) return;
    ut_buf_reset(out);
    ut_buf_put(out, v, n);
}

/* One control call (create or status) and the values of its answer. */
static int control(cl__cx *cx, const cl_request *rq, const cl__vars *v, report *rp, int need_state)
{
    const cl_async *a = &cx->s->async;
    const char *keep[4] = {a->id_path, a->status_path, a->file_url_path, a->reason_path};
    cl__target t = {.rq = rq, .vars = v, .auth = 1};
    cl__resp r = {0};
    int rc = cl__call(cx, &t, NULL, &r);
    cl__jscan *js = rc ? NULL : cl__control_parse(cx, &r, keep, a->reason_path ? 4 : 3);
    if (js) {
        if (!rp->id.len) take(js, K_ID, &rp->id);
        ut_buf_reset(&rp->state);
        take(js, K_STATE, &rp->state);
        take(js, K_FILE, &rp->file);
        if (a->reason_path) take(js, K_REASON, &rp->reason);
        if (cl__jscan_value(js, K_FILE, &(size_t){0})) ut_buf_reset(&rp->from), ut_buf_puts(&rp->from, r.url);
        if (need_state && !rp->state.len)
            rc = cl__fail(cx, CL_PARSE, r.url, "%s: no report state at '%s'", r.url, a->status_path);
        else if (!rp->id.len)
            rc = cl__fail(cx, CL_PARSE, r.url, "%s: no report id at '%s'", r.url, a->id_path);
    }
    if (!js) rc = -1;
    cl__jscan_destroy(js);
    cl__resp_free(&r);
    return rc;
}

static int is(const ut_buf *b, const char *v) { return v && b->len && !strcasecmp(ut_buf_cstr(b), v); }

/* Poll until ready; 0, or -1 (failed, too long, an error). */
static int poll_ready(cl__cx *cx, report *rp, cl__vars *v)
{
    const cl_async *a = &cx->s->async;
    int64_t t0 = cl__now_ms(), wait = cx->poll_ms;
    for (int polls = 0;; polls++) {
        if (is(&rp->state, a->failed))
            return cl__fail(cx, CL_REPORT, NULL, "report %s failed: %.300s", ut_buf_cstr(&rp->id),
                            rp->reason.len ? ut_buf_cstr(&rp->reason) : "(no reason given)");
        if (is(&rp->state, a->ready)) {
            if (!rp->file.len)
                return cl__fail(cx, CL_PARSE, NULL, "report %s is %s without a file URL at '%s'",
                                ut_buf_cstr(&rp->id), a->ready, a->file_url_path);
            cl__log(cx, LG_DEBUG, "report %s ready after %d polls, %lld ms", ut_buf_cstr(&rp->id),
                    polls, (long long)(cl__now_ms() - t0));
            return 0;
        }
        int64_t left = t0 + cx->max_wait_ms - cl__now_ms();
        if (left <= 0)
            return cl__fail(cx, CL_REPORT, NULL, "report %s not ready after %lld s (state '%.60s', "
                            "%d polls)", ut_buf_cstr(&rp->id), (long long)(cx->max_wait_ms / 1000),
                            rp->state.len ? ut_buf_cstr(&rp->state) : "none", polls);
        if (cl__sleep(cx, wait < left ? wait : left))
            return cl__fail(cx, CL_CANCELED, NULL, "report %s: cancelled while waiting",
                            ut_buf_cstr(&rp->id));
        wait = wait * 2 > CL__BACKOFF_MAX_MS ? CL__BACKOFF_MAX_MS : wait * 2;
        v->report_id = ut_buf_cstr(&rp->id);
        if (control(cx, &a->status, v, rp, 1)) return -1;
    }
}

static int download(cl__cx *cx, report *rp)
{
    ut_buf u = {.max = CL__MAX_URL};
    const char *base = rp->from.len ? ut_buf_cstr(&rp->from) : cx->s->async.status.url;
    if (cl__url_resolve(base, ut_buf_cstr(&rp->file), &u)) {
        ut_buf_free(&u);
        return cl__fail(cx, CL_PARSE, NULL, "report %s: the file URL '%.200s' is not http(s)",
                        ut_buf_cstr(&rp->id), ut_buf_cstr(&rp->file));
    }
    static const cl_request get = {.method = "GET"};
    cl__target t = {.rq = &get, .url = ut_buf_cstr(&u), .auth = cl__same_origin(ut_buf_cstr(&u), base),
                    .no_headers = 1};
    cl__resp r = {0};
    int64_t n = 0;
    int rc = cl__data_call(cx, &t, &r, &n);
    cl__resp_free(&r);
    ut_buf_free(&u);
    return rc;
}

int cl__async(cl__cx *cx)
{
    report rp;
    memset(&rp, 0, sizeof rp);
    rp.id.max = rp.state.max = rp.file.max = rp.reason.max = rp.from.max = CL__MAX_VALUE;
    cl__vars v = {0};
    int rc = control(cx, &cx->s->async.create, &v, &rp, 0);
    if (rc == 0) rc = poll_ready(cx, &rp, &v);
    if (rc == 0) rc = download(cx, &rp);
    ut_buf_free(&rp.id);
    ut_buf_free(&rp.state);
    ut_buf_free(&rp.file);
    ut_buf_free(&rp.reason);
    ut_buf_free(&rp.from);
    return rc;
}
