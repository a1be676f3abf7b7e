/* jobs: alerts sent to a job's webhook (alert_webhook): one POST of a
 * Slack-compatible JSON body {"text": "..."} (Slack, Mattermost, Rocket.Chat
 * and Teams' incoming webhooks read it), 10 s at most, the answer read and
 * dropped (capped).  Best effort: the alert is in the _alerts stream either
 * way; a webhook that fails is logged, never fails the run.
 *
 * Also the saved state of an alert job, <data_dir>/jobs/alerts/<job>.json
 * ({"state":"ok|triggered","since":ms,"notified":ms}), which kind_alert.c
 * writes and GET /v1/alerts reads. */
#include "jobs/jb_rt.h"
#include "json/json.h"
#include "log/log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define ALERT_STATE_MAX 4096

#define ALERT_TIMEOUT_MS 10000
#define ALERT_ANSWER_MAX 4096

static size_t drop(char *p, size_t size, size_t n, void *arg)
{
    size_t *seen = arg;
    (void)p;
    *seen += size * n;
    return *seen > ALERT_ANSWER_MAX ? 0 : size * n; /* 0: curl stops reading */
}

/* CURLOPT_XFERINFOFUNCTION: a set *stop ends the POST (curl calls this
 * about once a second while it waits). */
static int cancelled(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return __atomic_load_n((const int *)arg, __ATOMIC_ACQUIRE) != 0;
}

int jb__alert_post(const char *url, const char *text, char *err, size_t errlen)
{
    return jb__alert_post_cancel(url, text, NULL, err, errlen);
}

int jb__alert_post_cancel(const char *url, const char *text, const int *stop, char *err,
                          size_t errlen)
{
    ut_buf body = {0};
    ut_buf_puts(&body, "{\"text\":");
    ut_json_str(&body, text, strlen(text));
    ut_buf_putc(&body, '}');
    CURL *h = curl_easy_init();
    if (!h) {
        ut_buf_free(&body);
        return ut_err(err, errlen, "alert webhook: out of memory");
    }
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    size_t seen = 0;
    long status = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body.p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ALERT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
    if (stop) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cancelled);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    ut_buf_free(&body);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status >= 200 && status < 300))
        return ut_err(err, errlen, "alert webhook: %s", curl_easy_strerror(rc));
    if (status < 200 || status >= 300)
        return ut_err(err, errlen, "alert webhook: HTTP %ld", status);
    return 0;
}

void jb__alert_state_path(const char *data_dir, const char *job, char *out, size_t n)
{
    snprintf(out, n, "%s/jobs/alerts/%s.json", data_dir, job);
}

void jb__alert_state_load(const char *data_dir, const char *job, jb_alert_state *s)
{
    char path[4400], err[600];
    memset(s, 0, sizeof *s);
    jb__alert_state_path(data_dir, job, path, sizeof path);
    ut_buf b = {0};
    int rc = ut_file_read(path, ALERT_STATE_MAX, &b, err, sizeof err);
    if (rc < 0) lg_warn("jobs", "job %s: alert state: %s (starting from ok)", job, err);
    js_parser *p = js_parser_create(ALERT_STATE_MAX, 4);
    js_field f;
    if (rc == 0 && js_obj_begin(p, (const char *)b.p, b.len, err, sizeof err) == 0)
        while (js_obj_next(p, &f, err, sizeof err) == 1) {
            if (f.key_len == 5 && !memcmp(f.key, "state", 5) && f.v.kind == JS_STRING)
                s->triggered = f.v.n == 9 && !memcmp(f.v.s, "triggered", 9);
            else if (f.key_len == 5 && !memcmp(f.key, "since", 5) && f.v.kind == JS_INT)
                s->since_ms = f.v.i;
            else if (f.key_len == 8 && !memcmp(f.key, "notified", 8) && f.v.kind == JS_INT)
                s->notified_ms = f.v.i;
        }
    js_parser_destroy(p);
    ut_buf_free(&b);
}
