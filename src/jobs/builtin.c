/* jobs: the built-in alerts of sluice serve (config `alerts:`,
 * docs/jobs.md#built-in-alerts), on a thread of the scheduling runtime.
 *
 *   every alerts.every:
 *
 *   job_failures    runs that failed or were dead-lettered, paged in
 *                   (finished_ms, id) order from BI_GRACE_MS before the
 *                   cursor (a run's finish is stamped before its commit
 *                   waits for the write lock, so a run can appear late
 *                   and behind one already seen), less the ids already
 *                   notified in that span ──► one notice counting all and
 *                   naming the first.  The jobs whose latest finished run
 *                   failed are the alert's state: triggered while there
 *                   is one, "resolved" once there is none.
 *   schema_changes  schema versions created since BI_GRACE_MS before the
 *                   cursor, less those notified ──► one notice
 *   sink_lag        each sink's lag (jb_opts.sink_lag): above
 *                   alerts.sink_lag since T and never below its value at T,
 *                   for sink_lag_for ──► triggered (again each cooldown);
 *                   back at or under the threshold ──► resolved.  A sink
 *                   stopped past the journal's end triggers at once.
 *
 *   ──► the webhook (jb__alert_post; none set: the log only), and only then
 *   the cursors saved in <data_dir>/jobs/alerts/_builtin.json: a webhook
 *   that fails leaves them, so the next check sends the notice again (at
 *   least once, never silently lost).  The last BI_NOTICES notices stay in
 *   memory for GET /v1/alerts.  Lag state is not saved: after a restart a
 *   lagging sink takes sink_lag_for to trigger again.
 *
 * Locking: b->mu guards everything below it; a check holds it only while
 * it reads or updates the state, never during the webhook's POST. */
#include "jobs/jb_rt.h"
#include "json/json.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BI_NOTICES 50
#define BI_TEXT_MAX 2048
#define BI_MAX_SINKS 256
#define BI_LIST_MAX 10 /* runs or changes named in one notice */
#define BI_STATE_MAX (256 << 10)
#define BI_GRACE_MS (120 * 1000) /* how late a failed run may show up behind the cursor */
#define BI_SEEN_MAX 4096         /* notified runs remembered within the grace span */
#define BI_PAGE 1000

typedef struct bi_lag {
    char stream[CF_NAME_MAX + 1];
    int64_t lag;             /* the last reading; -1: unknown (the sink stopped) */
    int64_t above_ms;        /* since when above the threshold; 0: not above */
    int64_t above_from;      /* the lag then */
    int triggered;
    int64_t since_ms, notified_ms;
} bi_lag;

typedef struct bi_notice {
    int64_t at_ms;
    char alert[96];
    char text[BI_TEXT_MAX];
    int delivered;
} bi_notice;

struct jb__builtin {
    jb_runtime *r;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int loaded;                  /* the cursors are read (or set at the first check) */
    int64_t fail_ms;             /* job_failures: the newest finish notified */
    struct bi_seen {
        int64_t id, ms;
    } seen[BI_SEEN_MAX];         /* runs notified that finished after fail_ms - BI_GRACE_MS */
    int nseen;
    int64_t schema_ms;           /* schema_changes: the newest version notified */
    struct bi_seen sseen[BI_SEEN_MAX]; /* versions notified in the grace span (key: table, version) */
    int nsseen;
    int failing;                 /* jobs whose latest finished run failed, last check */
    int64_t failing_since_ms, failing_notified_ms;
    char failing_text[512];
    bi_lag lags[BI_MAX_SINKS];
    int nlags;
    bi_notice notices[BI_NOTICES];
    int nnotices, next_notice;
    int64_t checks, last_check_ms;
    char last_error[800];
};

/* The wall clock, as the catalog stamps runs and schema versions (not the
 * runtime's test clock, which moves windows, not time). */
static int64_t now_ms(const jb_runtime *r)
{
    (void)r;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void state_path(const jb_runtime *r, char *out, size_t n)
{
    jb__alert_state_path(r->data_dir, "_builtin", out, n); /* beside the alert jobs' */
}

/* "seen" / "schema_seen":[id, ms, id, ms, ...] of the state file. */
static void load_seen(struct bi_seen *seen, int *nseen, const js_value *v)
{
    js_parser *a = js_parser_create(0, 2);
    const char *el;
    size_t en, off;
    char err[200];
    int64_t pair[2];
    int k = 0;
    if (js_array_begin(a, v->s, v->n, err, sizeof err) == 0)
        while (*nseen < BI_SEEN_MAX && js_array_next(a, &el, &en, &off, err, sizeof err) == 1) {
            pair[k++] = strtoll(el, NULL, 10);
            if (k == 2) seen[(*nseen)++] = (struct bi_seen){pair[0], pair[1]}, k = 0;
        }
    js_parser_destroy(a);
}

/* The cursors from the state file: 1 read, 0 none yet (or unreadable: logged). */
static int load_cursors(jb__builtin *b)
{
    char path[4400], err[600];
    state_path(b->r, path, sizeof path);
    ut_buf t = {0};
    int rc = ut_file_read(path, BI_STATE_MAX, &t, err, sizeof err);
    if (rc < 0) lg_warn("alerts", "%s (starting the built-in alerts afresh)", err);
    int got = 0;
    js_parser *p = js_parser_create(BI_STATE_MAX, 4);
    js_field f;
    if (rc == 0 && js_obj_begin(p, (const char *)t.p, t.len, err, sizeof err) == 0)
        while (js_obj_next(p, &f, err, sizeof err) == 1) {
            if (f.key_len == 4 && !memcmp(f.key, "seen", 4) && f.v.kind == JS_ARRAY)
                load_seen(b->seen, &b->nseen, &f.v);
            if (f.key_len == 11 && !memcmp(f.key, "schema_seen", 11) && f.v.kind == JS_ARRAY)
                load_seen(b->sseen, &b->nsseen, &f.v);
            if (f.v.kind != JS_INT) continue;
            got = 1;
            if (f.key_len == 7 && !memcmp(f.key, "fail_ms", 7)) b->fail_ms = f.v.i;
            else if (f.key_len == 9 && !memcmp(f.key, "schema_ms", 9)) b->schema_ms = f.v.i;
            else if (f.key_len == 7 && !memcmp(f.key, "failing", 7)) b->failing = (int)f.v.i;
            else if (f.key_len == 13 && !memcmp(f.key, "failing_since", 13)) b->failing_since_ms = f.v.i;
        }
    js_parser_destroy(p);
    ut_buf_free(&t);
    return got;
}

static int save_cursors(jb__builtin *b, char *err, size_t errlen)
{
    char path[4400];
    state_path(b->r, path, sizeof path);
    char *slash = strrchr(path, '/');
    *slash = 0;
    if (ut_mkdir_p(path, err, errlen)) return -1;
    *slash = '/';
    ut_buf t = {0};
    ut_buf_printf(&t, "{\"fail_ms\":%lld,\"schema_ms\":%lld,\"failing\":%d,\"failing_since\":%lld,"
                      "\"seen\":[",
                  (long long)b->fail_ms, (long long)b->schema_ms, b->failing,
                  (long long)b->failing_since_ms);
    for (int i = 0; i < b->nseen; i++)
        ut_buf_printf(&t, "%s%lld,%lld", i ? "," : "", (long long)b->seen[i].id, (long long)b->seen[i].ms);
    ut_buf_puts(&t, "],\"schema_seen\":[");
    for (int i = 0; i < b->nsseen; i++)
        ut_buf_printf(&t, "%s%lld,%lld", i ? "," : "", (long long)b->sseen[i].id, (long long)b->sseen[i].ms);
    ut_buf_puts(&t, "]}\n");
    int rc = ut_file_replace(path, (const char *)t.p, t.len, 0644, err, errlen);
    ut_buf_free(&t);
    return rc;
}

/* The webhook of alerts.webhook, expanded (secrets), into url ("" = none). */
static int webhook_url(const jb_runtime *r, ut_buf *url, char *err, size_t errlen)
{
    static cf_job builtin_job = {.name = "alerts", .kind = CF_JOB_ALERT};
    jb_vars v = {.cf = r->cf, .job = &builtin_job};
    jb_redact red = {0};
    int rc = jb__expand(r->cf->alerts.webhook, &v, url, &red, err, errlen);
    jb__redact_free(&red);
    return rc;
}

/* Log the notice, POST it, keep it for the API.  0 delivered (or no webhook), -1. */
static int notify(jb__builtin *b, const char *alert, const char *text)
{
    char err[600] = "";
    int rc = 0;
    lg_warn("alerts", "%s", text);
    if (b->r->cf->alerts.webhook[0]) {
        ut_buf url = {0};
        rc = webhook_url(b->r, &url, err, sizeof err) ||
             jb__alert_post_cancel(ut_buf_cstr(&url), text, &b->stop, err, sizeof err);
        ut_buf_free(&url);
        if (rc) lg_error("alerts", "%s: %s (sent again at the next check)", alert, err);
    }
    pthread_mutex_lock(&b->mu);
    bi_notice *n = &b->notices[b->next_notice];
    b->next_notice = (b->next_notice + 1) % BI_NOTICES;
    if (b->nnotices < BI_NOTICES) b->nnotices++;
    n->at_ms = now_ms(b->r);
    snprintf(n->alert, sizeof n->alert, "%s", alert);
    snprintf(n->text, sizeof n->text, "%s", text);
    n->delivered = !rc;
    if (rc) snprintf(b->last_error, sizeof b->last_error, "%.90s: %.600s", alert, err);
    pthread_mutex_unlock(&b->mu);
    return rc ? -1 : 0;
}

/* ---- job_failures ---------------------------------------------------------------- */

/* The jobs whose latest finished run failed, named into text.  Count or -1. */
static int failing_jobs(jb__builtin *b, ct_catalog *c, ut_buf *text, char *err, size_t errlen)
{
    int n = 0;
    for (int i = 0; i < b->r->cf->njobs; i++) {
        ct_run_filter f = {.job = b->r->cf->jobs[i].name, .limit = 1,
                           .state_mask = 1u << CT_RUN_SUCCEEDED | 1u << CT_RUN_FAILED |
                                         1u << CT_RUN_DEAD};
        ct_run *runs = NULL;
        int got = ct_runs(c, &f, &runs, err, errlen);
        if (got < 0) return -1;
        if (got && runs[0].state != CT_RUN_SUCCEEDED) {
            if (n < BI_LIST_MAX) ut_buf_printf(text, "%s%s", n ? ", " : "", runs[0].job);
            n++;
        }
        free(runs);
    }
    return n;
}

static int was_seen(const struct bi_seen *seen, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (seen[i].id == id) return 1;
    return 0;
}

/* Remember (id, ms) as notified; forget those before the grace span of cursor. */
static void remember(struct bi_seen *seen, int *n, int64_t cursor, int64_t id, int64_t ms)
{
    int k = 0;
    for (int i = 0; i < *n; i++)
        if (seen[i].ms >= cursor - BI_GRACE_MS) seen[k++] = seen[i];
    *n = k;
    if (*n == BI_SEEN_MAX) { /* the oldest goes: at worst notified twice, never lost */
        memmove(seen, seen + 1, (BI_SEEN_MAX - 1) * sizeof *seen);
        (*n)--;
    }
    seen[(*n)++] = (struct bi_seen){id, ms};
}

typedef struct bi_new {
    int64_t *id, *ms;
    int n, cap;
} bi_new;

/* Every failed run since the cursor's grace span not yet notified, paged;
 * the first BI_LIST_MAX described into text.  Count or -1. */
static int new_failures(jb__builtin *b, ct_catalog *c, ut_buf *text, bi_new *nw, char *err,
                        size_t errlen)
{
    int64_t since = b->fail_ms - BI_GRACE_MS, after_ms = INT64_MIN, after_id = 0;
    for (;;) {
        ct_run *runs = NULL;
        int got = ct_runs_failed_since(c, since, after_ms, after_id, BI_PAGE, &runs, err, errlen);
        if (got < 0) return -1;
        for (int i = 0; i < got; i++) {
            const ct_run *r = &runs[i];
            if (was_seen(b->seen, b->nseen, r->id)) continue;
            if (nw->n == nw->cap) {
                nw->cap = nw->cap ? nw->cap * 2 : 64;
                nw->id = ut_realloc(nw->id, (size_t)nw->cap * sizeof *nw->id);
                nw->ms = ut_realloc(nw->ms, (size_t)nw->cap * sizeof *nw->ms);
            }
            nw->id[nw->n] = r->id, nw->ms[nw->n] = r->finished_ms;
            if (nw->n < BI_LIST_MAX)
                ut_buf_printf(text, "%s%s run %lld %s: %.300s", nw->n ? "; " : "", r->job,
                              (long long)r->id, r->state == CT_RUN_DEAD ? "dead" : "failed", r->error);
            nw->n++;
        }
        if (got) after_ms = runs[got - 1].finished_ms, after_id = runs[got - 1].id;
        free(runs);
        if (got < BI_PAGE) break;
    }
    if (nw->n > BI_LIST_MAX) ut_buf_printf(text, "; and %d more", nw->n - BI_LIST_MAX);
    return nw->n;
}

/* The runs of nw notified: remembered, the cursor at the newest. */
static void notified(jb__builtin *b, const bi_new *nw)
{
    for (int i = 0; i < nw->n; i++)
        if (nw->ms[i] > b->fail_ms) b->fail_ms = nw->ms[i];
    for (int i = 0; i < nw->n; i++) remember(b->seen, &b->nseen, b->fail_ms, nw->id[i], nw->ms[i]);
}

/* The failing jobs now (mu taken): the alert's state for the API. */
static void set_failing(jb__builtin *b, int nf, const ut_buf *jobs)
{
    pthread_mutex_lock(&b->mu);
    if (nf && !b->failing) b->failing_since_ms = now_ms(b->r);
    b->failing = nf;
    snprintf(b->failing_text, sizeof b->failing_text, "%s", nf ? ut_buf_cstr(jobs) : "");
    pthread_mutex_unlock(&b->mu);
}

static int check_failures(jb__builtin *b, ct_catalog *c, char *err, size_t errlen)
{
    ut_buf list = {0}, jobs = {0}, text = {0};
    bi_new nw = {0};
    int n = new_failures(b, c, &list, &nw, err, errlen);
    int nf = n < 0 ? -1 : failing_jobs(b, c, &jobs, err, errlen);
    int rc = n < 0 || nf < 0 ? -1 : 0;
    if (!rc && n > 0) {
        ut_buf_printf(&text, "sluice alert job_failures: %d run%s failed: %s", n, n == 1 ? "" : "s",
                      ut_buf_cstr(&list));
        if (notify(b, "job_failures", ut_buf_cstr(&text))) goto out; /* again next time */
        notified(b, &nw);
        pthread_mutex_lock(&b->mu);
        b->failing_notified_ms = now_ms(b->r);
        pthread_mutex_unlock(&b->mu);
        if (nf) set_failing(b, nf, &jobs);
    }
    if (!rc && nf == 0 && b->failing) {
        if (notify(b, "job_failures", "sluice alert job_failures: resolved: every job's latest "
                                      "finished run succeeded") == 0)
            set_failing(b, 0, &jobs);
    } else if (!rc && nf > 0) {
        set_failing(b, nf, &jobs);
    }
out:
    free(nw.id);
    free(nw.ms);
    ut_buf_free(&list);
    ut_buf_free(&jobs);
    ut_buf_free(&text);
    return rc;
}

/* ---- schema_changes ----------------------------------------------------------------- */

/* A schema version's key for the seen list: FNV-1a of the table, and the version. */
static int64_t version_key(const char *table, int version)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = table; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (int64_t)((h ^ (uint64_t)(uint32_t)version) * 1099511628211ull & INT64_MAX);
}

/* New schema versions: created since the grace span before the cursor, less
 * those notified (a version stamped in the same millisecond as one seen, or
 * committed a little after, is still new). */
static int check_schema(jb__builtin *b, ct_catalog *c, char *err, size_t errlen)
{
    ct_schema_change *v = NULL;
    int got = ct_schema_recent(c, 1000, &v, err, errlen);
    if (got < 0) return -1;
    ut_buf text = {0};
    int n = 0;
    int64_t newest = b->schema_ms;
    int64_t *keys = ut_calloc((size_t)got + 1, sizeof *keys), *ms = ut_calloc((size_t)got + 1, sizeof *ms);
    for (int i = got - 1; i >= 0; i--) { /* newest first: walk oldest first */
        int64_t key = version_key(v[i].table, v[i].v.version);
        if (v[i].v.created_ms < b->schema_ms - BI_GRACE_MS || was_seen(b->sseen, b->nsseen, key)) continue;
        if (v[i].v.created_ms > newest) newest = v[i].v.created_ms;
        if (n < BI_LIST_MAX)
            ut_buf_printf(&text, "%s%s version %d: %.300s", n ? "; " : "", v[i].table,
                          v[i].v.version, v[i].v.change);
        keys[n] = key, ms[n] = v[i].v.created_ms;
        n++;
    }
    free(v);
    if (n > BI_LIST_MAX) ut_buf_printf(&text, "; and %d more", n - BI_LIST_MAX);
    if (n) {
        ut_buf msg = {0};
        ut_buf_printf(&msg, "sluice alert schema_changes: %d change%s: %s", n, n == 1 ? "" : "s",
                      ut_buf_cstr(&text));
        if (notify(b, "schema_changes", ut_buf_cstr(&msg)) == 0) {
            b->schema_ms = newest;
            for (int i = 0; i < n; i++) remember(b->sseen, &b->nsseen, b->schema_ms, keys[i], ms[i]);
        }
        ut_buf_free(&msg);
    }
    free(keys);
    free(ms);
    ut_buf_free(&text);
    return 0;
}

/* ---- sink_lag ------------------------------------------------------------------------- */

static bi_lag *lag_of(jb__builtin *b, const char *stream)
{
    for (int i = 0; i < b->nlags; i++)
        if (!strcmp(b->lags[i].stream, stream)) return &b->lags[i];
    if (b->nlags == BI_MAX_SINKS) return NULL;
    bi_lag *l = &b->lags[b->nlags++];
    memset(l, 0, sizeof *l);
    snprintf(l->stream, sizeof l->stream, "%s", stream);
    return l;
}

/* One reading of one sink through the state machine (mu held). *what: the
 * notice to send ("" none). */
static void lag_step(jb__builtin *b, bi_lag *l, int64_t lag, int64_t now, char *what, size_t n)
{
    const cf_alerts *a = &b->r->cf->alerts;
    int above = lag < 0 || lag > a->sink_lag;
    l->lag = lag;
    what[0] = 0;
    if (!above) {
        l->above_ms = 0;
        if (l->triggered)
            snprintf(what, n, "sluice alert sink_lag %s: resolved: %lld records behind (at most %lld)",
                     l->stream, (long long)lag, (long long)a->sink_lag);
        return;
    }
    if (!l->above_ms || (lag >= 0 && lag < l->above_from)) { /* shrinking: start again */
        l->above_ms = now;
        l->above_from = lag;
    }
    int holds = lag < 0 || now - l->above_ms >= a->sink_lag_for_ms;
    if (!holds) return;
    if (!l->triggered || now - l->notified_ms >= a->cooldown_ms) {
        if (lag < 0)
            snprintf(what, n, "sluice alert sink_lag %s: %s: the sink is stopped (its position "
                              "is past the stream's end: the journal lost records)",
                     l->stream, l->triggered ? "still triggered" : "triggered");
        else
            snprintf(what, n, "sluice alert sink_lag %s: %s: %lld records behind (over %lld for "
                              "%lld s, not shrinking)", l->stream,
                     l->triggered ? "still triggered" : "triggered", (long long)lag,
                     (long long)a->sink_lag, (long long)((now - l->above_ms) / 1000));
    }
}

static void check_lag(jb__builtin *b)
{
    if (!b->r->cf->alerts.sink_lag || !b->r->o.sink_lag) return;
    char stream[CF_NAME_MAX + 1], what[600];
    int64_t lag;
    for (int i = 0; i < BI_MAX_SINKS &&
                    b->r->o.sink_lag(b->r->o.progress_ctx, i, stream, sizeof stream, &lag) == 1;
         i++) {
        int64_t now = now_ms(b->r);
        pthread_mutex_lock(&b->mu);
        bi_lag *l = lag_of(b, stream);
        if (l) lag_step(b, l, lag, now, what, sizeof what);
        pthread_mutex_unlock(&b->mu);
        if (!l || !what[0] || notify(b, "sink_lag", what)) continue;
        pthread_mutex_lock(&b->mu); /* delivered: the state moves */
        int resolved = l->lag >= 0 && l->lag <= b->r->cf->alerts.sink_lag;
        if (!l->triggered && !resolved) l->since_ms = now;
        l->triggered = !resolved;
        l->notified_ms = now;
        pthread_mutex_unlock(&b->mu);
    }
}

/* ---- the check ------------------------------------------------------------------------ */

/* The cursors at the first check: saved ones, else now (history is not news). */
static void first_cursors(jb__builtin *b, ct_catalog *c)
{
    char err[512];
    if (!load_cursors(b)) { /* history is not news: what failed before now counts as seen */
        b->fail_ms = b->schema_ms = now_ms(b->r);
        ut_buf junk = {0};
        bi_new nw = {0};
        if (new_failures(b, c, &junk, &nw, err, sizeof err) >= 0) notified(b, &nw);
        free(nw.id);
        free(nw.ms);
        ut_buf_free(&junk);
        ct_schema_change *v = NULL;
        int got = ct_schema_recent(c, 1000, &v, err, sizeof err);
        for (int i = got - 1; i >= 0; i--)
            if (v[i].v.created_ms >= b->schema_ms - BI_GRACE_MS)
                remember(b->sseen, &b->nsseen, b->schema_ms, version_key(v[i].table, v[i].v.version),
                         v[i].v.created_ms);
        free(v);
        if (save_cursors(b, err, sizeof err)) lg_warn("alerts", "%s", err);
    }
    b->loaded = 1;
}

int jb__builtin_check(jb_runtime *r, char *err, size_t errlen)
{
    jb__builtin *b = r->builtin;
    if (!b) return 0;
    ct_catalog *c = ct_open(r->catalog, err, errlen);
    if (!c) return -1;
    if (!b->loaded) first_cursors(b, c);
    const cf_alerts *a = &r->cf->alerts;
    int rc = 0;
    if (a->job_failures && check_failures(b, c, err, errlen)) rc = -1;
    if (!rc && a->schema_changes && check_schema(b, c, err, errlen)) rc = -1;
    ct_close(c);
    check_lag(b);
    char serr[512];
    if (save_cursors(b, serr, sizeof serr)) lg_warn("alerts", "%s", serr);
    pthread_mutex_lock(&b->mu);
    b->checks++;
    b->last_check_ms = now_ms(r);
    if (rc) snprintf(b->last_error, sizeof b->last_error, "%.700s", err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static void *builtin_main(void *arg)
{
    jb__builtin *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        pthread_mutex_unlock(&b->mu);
        char err[600];
        if (jb__builtin_check(b->r, err, sizeof err)) lg_error("alerts", "check: %s", err);
        pthread_mutex_lock(&b->mu);
        if (b->stop) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ms = b->r->cf->alerts.every_ms;
        int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
        ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

int jb__builtin_start(jb_runtime *r, int thread, char *err, size_t errlen)
{
    const cf_alerts *a = &r->cf->alerts;
    if (!a->job_failures && !a->schema_changes && !a->sink_lag) return 0;
    jb__builtin *b = ut_calloc(1, sizeof *b);
    b->r = r;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    r->builtin = b;
    if (thread && pthread_create(&b->th, NULL, builtin_main, b))
        return ut_err(err, errlen, "alerts: cannot start the built-in alerts' thread");
    b->started = thread;
    return 0;
}

void jb__builtin_stop(jb_runtime *r)
{
    jb__builtin *b = r->builtin;
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    __atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE); /* (a webhook's POST reads it: ends) */
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (b->started) pthread_join(b->th, NULL);
    b->started = 0;
}

void jb__builtin_free(jb_runtime *r)
{
    jb__builtin *b = r->builtin;
    if (!b) return;
    jb__builtin_stop(r);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
    r->builtin = NULL;
}

/* ---- GET /v1/alerts: "builtin" ----------------------------------------------------- */

static void check_json(ut_buf *out, const char *name, int enabled, int triggered, int64_t since,
                       int64_t notified, const char *detail)
{
    ut_buf_printf(out, "{\"name\":\"%s\",\"enabled\":%s,\"state\":\"%s\",\"since_ms\":%lld,"
                       "\"notified_ms\":%lld,\"detail\":",
                  name, enabled ? "true" : "false", triggered ? "triggered" : "ok",
                  (long long)since, (long long)notified);
    ut_json_str(out, detail, strlen(detail));
    ut_buf_putc(out, '}');
}

static void lags_json(const jb__builtin *b, ut_buf *out)
{
    for (int i = 0; i < b->nlags; i++) {
        const bi_lag *l = &b->lags[i];
        char d[300];
        if (l->lag < 0) snprintf(d, sizeof d, "%s: the sink is stopped", l->stream);
        else snprintf(d, sizeof d, "%s: %lld records behind", l->stream, (long long)l->lag);
        ut_buf_putc(out, ',');
        check_json(out, "sink_lag", 1, l->triggered, l->since_ms, l->notified_ms, d);
        ut_buf_truncate(out, out->len - 1); /* the object goes on */
        ut_buf_puts(out, ",\"stream\":");
        ut_json_str(out, l->stream, strlen(l->stream));
        ut_buf_printf(out, ",\"lag\":%lld}", (long long)l->lag);
    }
}

static void notices_json(const jb__builtin *b, ut_buf *out)
{
    ut_buf_puts(out, ",\"notices\":[");
    for (int k = 0; k < b->nnotices; k++) { /* newest first */
        const bi_notice *n = &b->notices[(b->next_notice - 1 - k + 2 * BI_NOTICES) % BI_NOTICES];
        ut_buf_printf(out, "%s{\"at_ms\":%lld,\"alert\":", k ? "," : "", (long long)n->at_ms);
        ut_json_str(out, n->alert, strlen(n->alert));
        ut_buf_puts(out, ",\"text\":");
        ut_json_str(out, n->text, strlen(n->text));
        ut_buf_printf(out, ",\"delivered\":%s}", n->delivered ? "true" : "false");
    }
    ut_buf_putc(out, ']');
}

void jb__builtin_json(jb_runtime *r, ut_buf *out)
{
    const cf_alerts *a = &r->cf->alerts;
    jb__builtin *b = r->builtin;
    ut_buf_printf(out, "{\"webhook\":%s,\"every_ms\":%lld,\"sink_lag\":%lld,"
                       "\"sink_lag_for_ms\":%lld,\"cooldown_ms\":%lld",
                  a->webhook[0] ? "true" : "false", (long long)a->every_ms, (long long)a->sink_lag,
                  (long long)a->sink_lag_for_ms, (long long)a->cooldown_ms);
    if (!b) {
        ut_buf_puts(out, ",\"checks\":[],\"notices\":[]}");
        return;
    }
    pthread_mutex_lock(&b->mu);
    ut_buf_printf(out, ",\"checks_run\":%lld,\"last_check_ms\":%lld,\"last_error\":",
                  (long long)b->checks, (long long)b->last_check_ms);
    ut_json_str(out, b->last_error, strlen(b->last_error));
    ut_buf_puts(out, ",\"checks\":[");
    char d[600];
    snprintf(d, sizeof d, "%s", b->failing ? b->failing_text : "");
    check_json(out, "job_failures", a->job_failures, b->failing > 0, b->failing_since_ms,
               b->failing_notified_ms, d);
    ut_buf_putc(out, ',');
    check_json(out, "schema_changes", a->schema_changes, 0, 0, 0, "");
    lags_json(b, out);
    ut_buf_putc(out, ']');
    notices_json(b, out);
    pthread_mutex_unlock(&b->mu);
    ut_buf_putc(out, '}');
}
