/* jobs: kind collect — the records announcing a run's stored files on the
 * stream <job>.files, put in the catalog outbox with the run's success
 * (catalog.h: ct_run_done.outbox), so each is announced exactly when, and
 * once after, the run's commit:
 *
 *   {"outbox_id":N,                      (added by the sender)
 *    "job":"fb_insights","run":42,"account":"acc01",
 *    "window_start":"2022-09-10T00:00:00Z","window_end":"2022-09-11T00:00:00Z",
 *    "ds":"2022-09-10","kind":"raw"|"manifest","format":"json",
 *    "key":"raw/fb_insights/acc01/2022-09-10/run42-0000.json.gz",
 *    "url":"s3://bucket/lake/raw/...","bytes":1234,"rows":25}
 *
 * rows: the records the file's part gave (-1 for the manifest). */
#include "jobs/jb_rt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void field_str(ut_buf *b, const char *k, const char *v)
{
    ut_buf_printf(b, ",\"%s\":", k);
    ut_json_str(b, v, strlen(v));
}

/* One record into out[i] (malloc'ed). */
static char *record(const jb_task_ctx *c, const jb_stored_file *f)
{
    ut_buf b = {0};
    char ws[40], we[40], uri[1200];
    char ds[JB_DS_LEN];
    jb__ds(c->timing, c->run->window_start, ds);
    ut_ts_format(ws, c->run->window_start);
    ut_ts_format(we, c->run->window_end);
    ut_buf_puts(&b, "{\"job\":");
    ut_json_str(&b, c->job->name, strlen(c->job->name));
    ut_buf_printf(&b, ",\"run\":%lld", (long long)c->run->id);
    field_str(&b, "account", c->run->part);
    field_str(&b, "window_start", ws);
    field_str(&b, "window_end", we);
    field_str(&b, "ds", ds);
    field_str(&b, "kind", f->manifest ? "manifest" : "raw");
    field_str(&b, "format", f->format);
    field_str(&b, "key", f->key);
    field_str(&b, "url", st_uri(c->store, f->key, uri, sizeof uri));
    ut_buf_printf(&b, ",\"bytes\":%" PRIu64 ",\"rows\":%" PRId64 "}", f->bytes,
                  f->manifest ? (int64_t)-1 : f->rows);
    char *s = ut_strdup(ut_buf_cstr(&b));
    ut_buf_free(&b);
    return s;
}

int jb__collect_announce(const jb_task_ctx *c, const jb_stored_file *files, int n,
                         jb_announce *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->stream, sizeof a->stream, "%s.files", c->job->name);
    if (!ut_name_ok(UT_NAME_STREAM, a->stream)) return -1;
    a->recs = ut_calloc((size_t)n + 1, sizeof *a->recs);
    for (int i = 0; i < n; i++) a->recs[a->n++] = record(c, &files[i]);
    c->done->outbox_stream = a->stream;
    c->done->outbox = (const char *const *)a->recs;
    c->done->noutbox = a->n;
    return 0;
}

void jb__collect_announce_free(jb_task_ctx *c, jb_announce *a)
{
    if (c->done->outbox == (const char *const *)a->recs) {
        c->done->outbox = NULL;
        c->done->noutbox = 0;
        c->done->outbox_stream = NULL;
    }
    for (int i = 0; i < a->n; i++) free(a->recs[i]);
    free(a->recs);
    memset(a, 0, sizeof *a);
}
