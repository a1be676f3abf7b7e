/* sluice ingest — send NDJSON to a running server in batches. */
#include "cli/cli.h"
#include "util/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RETRIES 20

typedef struct batch {
    char *p;
    size_t n;
    long lines;        /* records in the batch */
    long first_line;   /* line number of its first record */
    struct batch *next;
} batch;

typedef struct job {
    const char *url, *token, *stream;
    int gzip_body, verbose;
    /* queue of batches from the reader to the senders */
    pthread_mutex_t mu;
    pthread_cond_t cv_put, cv_get;
    batch *head, *tail;
    int queued, max_queued, eof, failed;
    /* totals */
    long sent_records, accepted, rejected;
    uint64_t sent_bytes;
    char err[3072];
} job;

typedef struct resp {
    ut_buf body;
    long retry_after;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
    resp *r = u;
    if (r->body.len < (1u << 20)) ut_buf_put(&r->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
    resp *r = u;
    size_t len = sz * n;
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) r->retry_after = strtol(p + 12, NULL, 10);
    return len;
}

/* Pull a number field out of the JSON reply ("accepted":N). */
static long field(const ut_buf *b, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *s = memmem(b->p, b->len, pat, strlen(pat));
    return s ? strtol(s + strlen(pat), NULL, 10) : 0;
}

static int send_batch(job *j, CURL *c, batch *bt)
{
    char url[2048], auth[600];
    snprintf(url, sizeof url, "%s/v1/streams/%s/records", j->url, j->stream);
    for (int attempt = 0;; attempt++) {
        resp r = {{0}, 0};
        struct curl_slist *h = NULL;
        h = curl_slist_append(h, "Content-Type: application/x-ndjson");
        if (j->token) {
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", j->token);
            h = curl_slist_append(h, auth);
        }
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, bt->p);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bt->n);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
        CURLcode cc = curl_easy_perform(c);
        curl_slist_free_all(h);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (cc == CURLE_OK && (code == 200 || code == 400) && field(&r.body, "accepted") +
                                                                   field(&r.body, "rejected") > 0) {
            long acc = field(&r.body, "accepted"), rej = field(&r.body, "rejected");
            pthread_mutex_lock(&j->mu);
            j->accepted += acc;
            j->rejected += rej;
            j->sent_records += bt->lines;
            j->sent_bytes += bt->n;
            pthread_mutex_unlock(&j->mu);
            if (rej && j->verbose)
                fprintf(stderr, "sluice ingest: batch from line %ld: %.*s\n", bt->first_line,
                        (int)(r.body.len > 2000 ? 2000 : r.body.len), (char *)r.body.p);
            ut_buf_free(&r.body);
            return 0;
        }
        int retry = cc != CURLE_OK || code == 429 || code == 503 || code == 507;
        if (!retry || attempt >= MAX_RETRIES) {
            pthread_mutex_lock(&j->mu);
            if (cc != CURLE_OK)
                snprintf(j->err, sizeof j->err, "%s: %s", url, curl_easy_strerror(cc));
            else
                snprintf(j->err, sizeof j->err, "%s: HTTP %ld: %.*s", url, code,
                         (int)(r.body.len > 400 ? 400 : r.body.len), (char *)r.body.p);
            pthread_mutex_unlock(&j->mu);
            ut_buf_free(&r.body);
            return -1;
        }
        long wait_s = r.retry_after > 0 && r.retry_after < 60 ? r.retry_after : 1;
        ut_buf_free(&r.body);
        usleep((useconds_t)(wait_s * 1000000L / (cc != CURLE_OK ? 4 : 1)));
    }
}

static void *sender(void *arg)
{
    job *j = arg;
    CURL *c = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&j->mu);
        while (!j->head && !j->eof && !j->failed) pthread_cond_wait(&j->cv_get, &j->mu);
        batch *b = j->head;
        if (!b || j->failed) {
            pthread_mutex_unlock(&j->mu);
            break;
        }
        j->head = b->next;
        if (!j->head) j->tail = NULL;
        j->queued--;
        pthread_cond_signal(&j->cv_put);
        pthread_mutex_unlock(&j->mu);
        int rc = send_batch(j, c, b);
        free(b->p);
        free(b);
        if (rc) {
            pthread_mutex_lock(&j->mu);
            j->failed = 1;
            pthread_cond_broadcast(&j->cv_get);
            pthread_cond_broadcast(&j->cv_put);
            pthread_mutex_unlock(&j->mu);
            break;
        }
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int enqueue(job *j, ut_buf *cur, long lines, long first_line)
{
    batch *b = ut_calloc(1, sizeof *b);
    b->p = (char *)cur->p;
    b->n = cur->len;
    b->lines = lines;
    b->first_line = first_line;
    memset(cur, 0, sizeof *cur);
    pthread_mutex_lock(&j->mu);
    while (j->queued >= j->max_queued && !j->failed) pthread_cond_wait(&j->cv_put, &j->mu);
    int failed = j->failed;
    if (!failed) {
        if (j->tail) j->tail->next = b;
        else j->head = b;
        j->tail = b;
        j->queued++;
        pthread_cond_signal(&j->cv_get);
    }
    pthread_mutex_unlock(&j->mu);
    if (failed) {
        free(b->p);
        free(b);
    }
    return failed ? -1 : 0;
}

static void progress(job *j, uint64_t t0, int final)
{
    pthread_mutex_lock(&j->mu);
    double secs = (double)(ut_now_ns() - t0) / 1e9;
    fprintf(stderr, "\r%ld records sent, %ld accepted, %ld rejected, %.1f MB, %.0f records/s%s",
            j->sent_records, j->accepted, j->rejected, (double)j->sent_bytes / 1e6,
            secs > 0 ? (double)j->sent_records / secs : 0.0, final ? "\n" : "   ");
    pthread_mutex_unlock(&j->mu);
}

int cli_ingest(int argc, char **argv)
{
    const char *url = "http://127.0.0.1:8080", *token = NULL;
    long batch_bytes = 1000000, parallel = 1;
    int quiet = 0, verbose = 0;
    cli_flag flags[] = {
        {"url", 'u', CLI_STR, &url, "URL", "server address"},
        {"token", 't', CLI_STR, &token, "TOKEN", "Bearer write token (or $SLUICE_TOKEN)"},
        {"batch-bytes", 'b', CLI_INT, &batch_bytes, "N", "bytes of NDJSON per request"},
        {"parallel", 'p', CLI_INT, &parallel, "N", "concurrent requests (order across batches "
                                                  "is kept only with 1)"},
        {"quiet", 'q', CLI_BOOL, &quiet, NULL, "no progress line"},
        {"verbose", 'v', CLI_BOOL, &verbose, NULL, "print the server's reply for batches with "
                                                   "rejected records"},
        {0}};
    cli_cmd cmd = {"ingest", "STREAM [FILE]",
                   "send NDJSON records (FILE or standard input) to a running server", flags, 1,
                   2, "Exit status: 0 when every record was accepted, 1 otherwise.\n"};
    char *pos[2];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    if (!token) token = getenv("SLUICE_TOKEN");
    if (parallel < 1 || parallel > 64) {
        cli_errorf("ingest", "--parallel wants 1..64");
        return 2;
    }
    if (batch_bytes < 1024 || batch_bytes > (64L << 20)) {
        cli_errorf("ingest", "--batch-bytes wants 1024..67108864");
        return 2;
    }
    FILE *in = stdin;
    if (npos > 1 && strcmp(pos[1], "-")) {
        in = fopen(pos[1], "rb");
        if (!in) {
            cli_errorf("ingest", "%s: %s", pos[1], strerror(errno));
            return 1;
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    job j;
    memset(&j, 0, sizeof j);
    j.url = url;
    j.token = token;
    j.stream = pos[0];
    j.verbose = verbose;
    j.max_queued = (int)parallel * 2;
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv_put, NULL);
    pthread_cond_init(&j.cv_get, NULL);
    pthread_t th[64];
    for (long i = 0; i < parallel; i++) pthread_create(&th[i], NULL, sender, &j);

    int tty = !quiet && isatty(2);
    uint64_t t0 = ut_now_ns(), last = t0;
    ut_buf cur = {0};
    long lines = 0, line_no = 0, first_line = 1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        line_no++;
        int blank = 1;
        for (ssize_t k = 0; k < n && blank; k++) blank = line[k] == ' ' || line[k] == '\t' ||
                                                          line[k] == '\r' || line[k] == '\n';
        if (blank) continue;
        if (cur.len && cur.len + (size_t)n > (size_t)batch_bytes) {
            if (enqueue(&j, &cur, lines, first_line)) break;
            lines = 0;
        }
        if (!cur.len) first_line = line_no;
        ut_buf_put(&cur, line, (size_t)n);
        if (line[n - 1] != '\n') ut_buf_putc(&cur, '\n');
        lines++;
        if (tty && ut_now_ns() - last > 250000000ull) {
            progress(&j, t0, 0);
            last = ut_now_ns();
        }
    }
    free(line);
    if (cur.len && !j.failed) enqueue(&j, &cur, lines, first_line);
    ut_buf_free(&cur);
    pthread_mutex_lock(&j.mu);
    j.eof = 1;
    pthread_cond_broadcast(&j.cv_get);
    pthread_mutex_unlock(&j.mu);
    for (long i = 0; i < parallel; i++) pthread_join(th[i], NULL);
    if (in != stdin) fclose(in);
    if (!quiet) progress(&j, t0, 1);
    curl_global_cleanup();
    if (j.failed) {
        fprintf(stderr, "sluice ingest: %s\n", j.err);
        return 1;
    }
    if (j.rejected) {
        fprintf(stderr, "sluice ingest: %ld records rejected (see the stream's .errors stream; "
                        "-v shows the server's replies)\n", j.rejected);
        return 1;
    }
    return 0;
}
