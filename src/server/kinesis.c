/* POST /  with X-Amz-Target: the Kinesis Data Streams and Firehose APIs
 * (docs/producers.md), on the same port as the native API.
 *
 *   headers ──► a body of at most KN_MAX_BODY, counted in the bytes in
 *               flight (over them: ProvisionedThroughputExceededException,
 *               the SDKs back off and retry)
 *   body    ──► kn_parse: the stream and the records (base64 decoded)
 *           ──► authorize: SigV4 with the secret of an access key the stream
 *               lists (streams.<s>.aws_keys), or no signature on a stream
 *               with aws_anonymous (the body's SHA-256 taken as it arrived)
 *           ──► puts: each record checked as the native API checks one
 *               (a JSON object within the limits); a Firehose record is
 *               NDJSON (its lines are records: what a Firehose destination
 *               does with newline-delimited data), all or none of it; the
 *               good ones appended in ONE group-committed batch and the
 *               answer sent once they are durable, exactly as POST
 *               /v1/streams/<s>/records; the refused ones in
 *               "<stream>.errors" and, per record, in the answer
 *               (ErrorCode InvalidArgumentException)
 *           ──► describe / list calls answered from the registry
 *
 * The stream is one shard, "shardId-000000000000"; SequenceNumber and
 * RecordId are the journal offset of the record (its first line) in
 * decimal. */
#include "kinesis/kinesis.h"
#include "log/log.h"
#include "server/sv_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CTYPE "application/x-amz-json-1.1"
#define SHARD "shardId-000000000000"
#define ACCOUNT "000000000000"

typedef struct kin_ctx {
    char tag[4]; /* "KIN" */
    ut_buf body;
    EVP_MD_CTX *sha; /* a signed request: SHA-256 of the body so far (NULL: none, or failed) */
    uint64_t held;
    char body_sha[65]; /* hex, once the body is in (sha_end); "": not hashed */
    int status;  /* 413 / 429 while reading the body */
    char msg[256];
} kin_ctx;

int sv__is_kinesis(struct MHD_Connection *c, const char *url, const char *method)
{
    return !strcmp(url, "/") && !strcmp(method, "POST") &&
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
}

void sv__kinesis_done(sv_server *s, void *ctx)
{
    kin_ctx *x = ctx;
    if (!x) return;
    sv__body_release(s, &x->body, &x->held);
    EVP_MD_CTX_free(x->sha);
    free(x);
}

/* ---- the body's SHA-256, as it arrives (SigV4 signs it) -------------------------- */

static void sha_begin(kin_ctx *x, struct MHD_Connection *c)
{
    if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")) return;
    x->sha = EVP_MD_CTX_new();
    if (x->sha && !EVP_DigestInit_ex(x->sha, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(x->sha);
        x->sha = NULL;
    }
}

static void sha_add(kin_ctx *x, const char *p, size_t n)
{
    if (x->sha && !EVP_DigestUpdate(x->sha, p, n)) {
        EVP_MD_CTX_free(x->sha);
        x->sha = NULL;
    }
}

/* The hex digest into hex (65), or "" (kn_sig_verify then hashes the body). */
static void sha_end(kin_ctx *x, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    hex[0] = 0;
    if (!x->sha || !EVP_DigestFinal_ex(x->sha, md, &n) || n != 32) return;
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    hex[64] = 0;
}

static enum MHD_Result reply_err(sv_server *s, struct MHD_Connection *c, kn_err e, int fh,
                                 const char *msg)
{
    ut_buf out = {0};
    kn_error_reply(&out, e, fh, msg);
    enum MHD_Result r = sv__reply(s, c, kn_err_status(e), CTYPE, out.p, out.len, NULL);
    ut_buf_free(&out);
    return r;
}

/* ---- authorization ------------------------------------------------------------ */

static const char *header_of(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/* The secret of key id on st, or NULL. */
static const char *secret_on(const sv__stream *st, const char *id)
{
    for (int i = 0; i < st->naws; i++)
        if (!strcmp(st->aws_ids[i], id)) return st->aws_secrets[i];
    return NULL;
}

/* The secret of key id on any stream, or NULL. */
static const char *secret_anywhere(sv_server *s, const char *id)
{
    const char *sec = NULL;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nstreams && !sec; i++) sec = secret_on(s->streams[i], id);
    pthread_mutex_unlock(&s->mu);
    return sec;
}

/* May the caller use st (NULL: a list call)?  KN_OK with *sig filled (its
 * key_id "" when unsigned), else the refusal with msg. */
static kn_err authorize(sv_server *s, struct MHD_Connection *c, const sv__stream *st,
                        const kin_ctx *x, kn_sig *sig, char *msg, size_t n)
{
    const ut_buf *body = &x->body;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    kn_err e = KN_OK;
    memset(sig, 0, sizeof *sig);
    if (!auth) {
        if (!st || st->aws_anonymous) return KN_OK;
        snprintf(msg, n, "Missing Authentication Token: stream %s takes signed requests only",
                 st->name);
        return KN_MISSING_AUTH;
    }
    if (kn_sig_parse(auth, sig, &e, msg, n)) return e;
    memcpy(sig->payload_hash, x->body_sha, sizeof sig->payload_hash);
    const char *secret = st ? secret_on(st, sig->key_id) : NULL;
    const char *any = secret ? secret : secret_anywhere(s, sig->key_id);
    if (!any) {
        snprintf(msg, n, "The security token included in the request is invalid.");
        return KN_UNRECOGNIZED_CLIENT;
    }
    char hdrs[32][1024];
    int nh = kn_sig_headers(sig, header_of, c, hdrs, 32, msg, n);
    if (nh < 0) return KN_INVALID_SIGNATURE;
    const char *date = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Date");
    if (kn_sig_verify(sig, "/", hdrs, nh, body->p, body->len, date, (int64_t)time(NULL), any, &e,
                      msg, n))
        return e;
    if (st && !secret) {
        snprintf(msg, n, "access key %s is not allowed on stream %s (streams.%s.aws_keys)",
                 sig->key_id, st->name, st->name);
        return KN_ACCESS_DENIED;
    }
    return KN_OK;
}

/* ---- puts ---------------------------------------------------------------------- */

typedef struct put_state {
    const kn_req *q;
    sv_batch b;
    int *first;         /* per request record: its first ok index */
    char (*why)[240];   /* per record: "" or why it was refused */
} put_state;

static size_t trim_end(const char *p, size_t n)
{
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return n;
}

/* Check record i into the batch: its payload (Kinesis) or each line of it
 * (Firehose), all or none. */
static void check_one(put_state *ps, js_parser *p, const sv_limits *lim, int i)
{
    const kn_record *r = &ps->q->recs[i];
    const char *d = (const char *)ps->q->data.p + r->off;
    int nbad = ps->b.nbad, ndropped = ps->b.ndropped;
    ps->first[i] = ps->b.nok;
    ps->why[i][0] = 0;
    if (r->err) {
        snprintf(ps->why[i], sizeof ps->why[i], "%s", r->msg);
        return;
    }
    if (!kn_op_firehose(ps->q->op)) {
        sv_batch_check(p, &ps->b, lim, d, trim_end(d, r->n), 0);
    } else {
        for (size_t a = 0, line = 1; a < r->n; line++) {
            const char *nl = memchr(d + a, '\n', r->n - a);
            size_t z = nl ? (size_t)(nl - d) : r->n, len = trim_end(d + a, z - a);
            if (len) sv_batch_check(p, &ps->b, lim, d + a, len, (int)line);
            a = z + 1;
        }
    }
    if (ps->b.nbad > nbad) {
        ps->b.nok = ps->first[i]; /* none of it */
        snprintf(ps->why[i], sizeof ps->why[i], "%s: %s", sv_reject_name(ps->b.bad[nbad].why),
                 ps->b.bad[nbad].msg);
    } else if (ps->b.nok == ps->first[i] && ps->b.ndropped == ndropped) {
        snprintf(ps->why[i], sizeof ps->why[i], "the record holds no JSON record");
    } /* else some or all of it was kept, or the transform dropped it: a success */
}

/* head, v in decimal, tail: a record's answer without printf (500 a request). */
static void put_u64(ut_buf *out, const char *head, uint64_t v, const char *tail)
{
    char d[24], *p = d + sizeof d;
    do *--p = (char)('0' + v % 10);
    while (v /= 10);
    ut_buf_puts(out, head);
    ut_buf_put(out, p, (size_t)(d + sizeof d - p));
    ut_buf_puts(out, tail);
}

static void put_reply(const put_state *ps, uint64_t first, ut_buf *out)
{
    const kn_req *q = ps->q;
    int fh = kn_op_firehose(q->op), failed = 0;
    for (int i = 0; i < q->nrecs; i++) failed += ps->why[i][0] != 0;
    if (q->op == KN_PUT_RECORD) {
        ut_buf_printf(out, "{\"SequenceNumber\":\"%llu\",\"ShardId\":\"" SHARD "\","
                      "\"EncryptionType\":\"NONE\"}", (unsigned long long)first);
        return;
    }
    if (q->op == KN_FH_PUT_RECORD) {
        ut_buf_printf(out, "{\"RecordId\":\"%llu\",\"Encrypted\":false}",
                      (unsigned long long)first);
        return;
    }
    ut_buf_printf(out, fh ? "{\"FailedPutCount\":%d,\"Encrypted\":false,\"RequestResponses\":["
                          : "{\"FailedRecordCount\":%d,\"EncryptionType\":\"NONE\",\"Records\":[",
                  failed);
    for (int i = 0; i < q->nrecs; i++) {
        if (i) ut_buf_putc(out, ',');
        if (ps->why[i][0]) {
            ut_buf_puts(out, "{\"ErrorCode\":\"InvalidArgumentException\",\"ErrorMessage\":");
            ut_json_str(out, ps->why[i], strlen(ps->why[i]));
            ut_buf_putc(out, '}');
        } else if (fh) {
            put_u64(out, "{\"RecordId\":\"", first + (uint64_t)ps->first[i], "\"}");
        } else {
            put_u64(out, "{\"SequenceNumber\":\"", first + (uint64_t)ps->first[i],
                    "\",\"ShardId\":\"" SHARD "\"}");
        }
    }
    ut_buf_puts(out, "]}");
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Append what passed; the answer into out.  KN_OK, or the request's refusal. */
static kn_err put_append(sv_server *s, sv__stream *st, put_state *ps, ut_buf *out, char *msg,
                         size_t n)
{
    int64_t ts = now_us();
    uint64_t first = 0;
    if (ps->b.nok) {
        ut_error je = {0};
        if (jr_append_e(st->jr, ps->b.ok, ps->b.nok, ts, &first, &je)) {
            snprintf(msg, n, "stream %s: %.300s", st->name, je.msg);
            return je.kind == UT_ELIMIT || je.kind == UT_ENOSPACE ? KN_THROUGHPUT : KN_INTERNAL;
        }
        uint64_t bytes = 0;
        for (int i = 0; i < ps->b.nok; i++) bytes += ps->b.ok[i].n;
        __atomic_fetch_add(&st->records_in, (uint64_t)ps->b.nok, __ATOMIC_RELAXED);
        __atomic_fetch_add(&st->bytes_in, bytes, __ATOMIC_RELAXED);
    }
    if (ps->b.nbad) {
        for (int i = 0; i < ps->b.nbad; i++)
            __atomic_fetch_add(&st->rejects[ps->b.bad[i].why], 1, __ATOMIC_RELAXED);
        sv__record_errors(s, st, &ps->b, ts);
    }
    put_reply(ps, first, out);
    return KN_OK;
}

static kn_err put(sv_server *s, sv__stream *st, const kn_req *q, ut_buf *out, char *msg,
                  size_t n)
{
    if (sv__storage_full(s, st, msg, n)) return KN_THROUGHPUT;
    put_state ps = {.q = q};
    ps.first = ut_malloc((size_t)q->nrecs * sizeof *ps.first); /* both set by check_one */
    ps.why = ut_malloc((size_t)q->nrecs * sizeof *ps.why);
    js_parser *p = js_parser_create(s->o.limits.max_record + 64, s->o.limits.max_depth);
    ps.b.xf = sv__xf_run(s, st);
    for (int i = 0; i < q->nrecs; i++) check_one(&ps, p, &s->o.limits, i);
    js_parser_destroy(p);
    xf_run_destroy(ps.b.xf);
    ps.b.xf = NULL;
    __atomic_fetch_add(&st->dropped, (uint64_t)ps.b.ndropped, __ATOMIC_RELAXED);
    kn_err e = KN_OK;
    int single = q->op == KN_PUT_RECORD || q->op == KN_FH_PUT_RECORD;
    if (single && ps.why[0][0]) {
        e = KN_INVALID_ARGUMENT;
        snprintf(msg, n, "stream %s: %s", st->name, ps.why[0]);
        if (ps.b.nbad) sv__record_errors(s, st, &ps.b, now_us());
    } else {
        e = put_append(s, st, &ps, out, msg, n);
    }
    sv_batch_free(&ps.b);
    free(ps.first), free(ps.why);
    return e;
}

/* ---- describe and list ------------------------------------------------------------ */

static void arn(ut_buf *out, const kn_sig *sig, const sv__stream *st, int fh)
{
    ut_buf_printf(out, "\"arn:aws:%s:%s:" ACCOUNT ":%s/%s\"", fh ? "firehose" : "kinesis",
                  sig->region[0] ? sig->region : "us-east-1", fh ? "deliverystream" : "stream",
                  st->name);
}

static void shard(ut_buf *out)
{
    ut_buf_puts(out, "{\"ShardId\":\"" SHARD "\",\"HashKeyRange\":{\"StartingHashKey\":\"0\","
                "\"EndingHashKey\":\"340282366920938463463374607431768211455\"},"
                "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"0\"}}");
}

static void describe(const kn_req *q, const kn_sig *sig, const sv__stream *st, ut_buf *out)
{
    int fh = kn_op_firehose(q->op);
    if (q->op == KN_LIST_SHARDS) {
        ut_buf_puts(out, "{\"Shards\":[");
        shard(out);
        ut_buf_puts(out, "]}");
        return;
    }
    if (fh) {
        ut_buf_puts(out, "{\"DeliveryStreamDescription\":{\"DeliveryStreamName\":");
        ut_json_str(out, st->name, strlen(st->name));
        ut_buf_puts(out, ",\"DeliveryStreamARN\":");
        arn(out, sig, st, 1);
        ut_buf_printf(out, ",\"DeliveryStreamStatus\":\"ACTIVE\",\"DeliveryStreamType\":"
                      "\"DirectPut\",\"VersionId\":\"1\",\"CreateTimestamp\":%lld,"
                      "\"Destinations\":[],\"HasMoreDestinations\":false}}",
                      (long long)st->created_s);
        return;
    }
    int summary = q->op == KN_DESCRIBE_STREAM_SUMMARY;
    ut_buf_puts(out, summary ? "{\"StreamDescriptionSummary\":{\"StreamName\":"
                             : "{\"StreamDescription\":{\"StreamName\":");
    ut_json_str(out, st->name, strlen(st->name));
    ut_buf_puts(out, ",\"StreamARN\":");
    arn(out, sig, st, 0);
    ut_buf_printf(out, ",\"StreamStatus\":\"ACTIVE\",\"StreamModeDetails\":{\"StreamMode\":"
                  "\"ON_DEMAND\"},\"RetentionPeriodHours\":24,\"StreamCreationTimestamp\":%lld,"
                  "\"EnhancedMonitoring\":[{\"ShardLevelMetrics\":[]}],\"EncryptionType\":"
                  "\"NONE\"", (long long)st->created_s);
    if (summary) {
        ut_buf_puts(out, ",\"OpenShardCount\":1,\"ConsumerCount\":0}}");
    } else {
        ut_buf_puts(out, ",\"Shards\":[");
        shard(out);
        ut_buf_puts(out, "],\"HasMoreShards\":false}}");
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The streams the caller may use (its key, or anonymous ones), by name. */
static void list(sv_server *s, const kn_req *q, const kn_sig *sig, ut_buf *out)
{
    int fh = kn_op_firehose(q->op), n = 0, max = q->limit ? q->limit : 10000;
    char **names = ut_calloc(SV__MAX_STREAMS, sizeof *names);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nstreams; i++) {
        const sv__stream *st = s->streams[i];
        int may = sig->key_id[0] ? secret_on(st, sig->key_id) != NULL : st->aws_anonymous;
        if (may && strcmp(st->name, q->start) > 0) names[n++] = ut_strdup(st->name);
    }
    pthread_mutex_unlock(&s->mu);
    qsort(names, (size_t)n, sizeof *names, name_cmp);
    ut_buf_puts(out, fh ? "{\"DeliveryStreamNames\":[" : "{\"StreamNames\":[");
    for (int i = 0; i < n && i < max; i++) {
        if (i) ut_buf_putc(out, ',');
        ut_json_str(out, names[i], strlen(names[i]));
    }
    ut_buf_printf(out, "],\"%s\":%s}", fh ? "HasMoreDeliveryStreams" : "HasMoreStreams",
                  n > max ? "true" : "false");
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ---- the request -------------------------------------------------------------------- */

/* The parsed request q answered into out; KN_OK or the refusal. */
static kn_err serve(sv_server *s, struct MHD_Connection *c, const kin_ctx *x, const kn_req *q,
                    ut_buf *out, char *msg, size_t n)
{
    int fh = kn_op_firehose(q->op);
    kn_sig sig;
    if (q->op == KN_LIST_STREAMS || q->op == KN_FH_LIST) {
        kn_err e = authorize(s, c, NULL, x, &sig, msg, n);
        if (e == KN_OK) list(s, q, &sig, out);
        return e;
    }
    ut_error se = {0};
    sv__stream *st = sv__stream_get(s, q->stream, 0, &se);
    if (!st) {
        snprintf(msg, n, fh ? "Firehose %s under account " ACCOUNT " not found."
                            : "Stream %s under account " ACCOUNT " not found.", q->stream);
        return se.kind == UT_ENOTFOUND ? KN_NOT_FOUND : KN_INTERNAL;
    }
    kn_err e = authorize(s, c, st, x, &sig, msg, n);
    if (e != KN_OK) {
        __atomic_fetch_add(&st->requests, 1, __ATOMIC_RELAXED);
        return e;
    }
    if (!kn_op_writes(q->op)) {
        describe(q, &sig, st, out);
        return KN_OK;
    }
    __atomic_fetch_add(&st->requests, 1, __ATOMIC_RELAXED);
    return put(s, st, q, out, msg, n);
}

static enum MHD_Result finish(sv_server *s, struct MHD_Connection *c, kin_ctx *x)
{
    const char *target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
    kn_op op = kn_op_of(target);
    int fh = target && !strncmp(target, "Firehose_", 9);
    if (x->status)
        return reply_err(s, c, x->status == 429 ? KN_THROUGHPUT : KN_VALIDATION, fh, x->msg);
    char msg[512];
    if (op == KN_OP_UNKNOWN) {
        snprintf(msg, sizeof msg, "X-Amz-Target %.200s is not an operation sluice serves",
                 target);
        return reply_err(s, c, KN_UNKNOWN_OP, fh, msg);
    }
    kn_req q;
    kn_err e = KN_OK;
    ut_buf out = {0};
    enum MHD_Result r;
    sha_end(x, x->body_sha);
    if (kn_parse(op, ut_buf_cstr(&x->body), x->body.len, &q, &e, msg, sizeof msg) == 0)
        e = serve(s, c, x, &q, &out, msg, sizeof msg);
    if (e == KN_OK) r = sv__reply(s, c, 200, CTYPE, out.p, out.len, NULL);
    else r = reply_err(s, c, e, fh, msg);
    if (e != KN_OK && e != KN_NOT_FOUND)
        lg_debug("kinesis", "%s %s: %s: %s", kn_op_name(op), q.stream, kn_err_type(e, fh), msg);
    kn_req_free(&q);
    ut_buf_free(&out);
    return r;
}

enum MHD_Result sv__kinesis(sv_server *s, struct MHD_Connection *c, const char *upload,
                            size_t *upload_size, void **ctx)
{
    kin_ctx *x = *ctx;
    if (!x) {
        x = ut_calloc(1, sizeof *x);
        memcpy(x->tag, "KIN", 4);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > KN_MAX_BODY) {
            x->status = 413;
            snprintf(x->msg, sizeof x->msg, "the request body is over %zu bytes", KN_MAX_BODY);
        } else if (cl) {
            ut_buf_reserve(&x->body, (size_t)strtoull(cl, NULL, 10));
        }
        sha_begin(x, c);
        *ctx = x;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (!x->status)
            x->status = sv__body_take(s, &x->body, &x->held, KN_MAX_BODY, upload, n, x->msg,
                                      sizeof x->msg);
        if (!x->status) sha_add(x, upload, n);
        return MHD_YES;
    }
    return finish(s, c, x);
}
