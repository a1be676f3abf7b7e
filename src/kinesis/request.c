/* kinesis: operations, exception types, and the request bodies.
 *
 *   body ──► js_obj_begin: the top-level fields (the stream by name or ARN,
 *            Limit, ExclusiveStart…, Record / Records as raw JSON text)
 *        ──► PutRecords / PutRecordBatch: js_array_begin over Records, each
 *            element walked for Data (base64, decoded at once into
 *            req->data) and PartitionKey; first tried in one pass
 *            (parse_one_pass: Records walked in place during the top-level
 *            walk), the walk above only for a request that pass refuses
 *        ──► AWS's limits: 1..500 records, a record's payload (and key) and
 *            the request's together
 *
 * A request that breaks a rule is refused whole with the exception AWS
 * would send; a record whose Data is no base64 is refused alone. */
#include "kinesis/kinesis.h"
#include "json/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTITION_KEY 256
#define KN_RECORD_MAX ((size_t)1 << 20)         /* Kinesis: data + partition key */
#define KN_REQUEST_MAX ((size_t)5 << 20)        /* Kinesis: the request's */
#define FH_RECORD_MAX ((size_t)1000 * 1024)     /* Firehose */
#define FH_REQUEST_MAX ((size_t)4 << 20)
#define BODY_DEPTH 16                           /* containers, the body counting */

static const struct {
    const char *target;
    kn_op op;
} OPS[] = {
    {"Kinesis_20131202.PutRecord", KN_PUT_RECORD},
    {"Kinesis_20131202.PutRecords", KN_PUT_RECORDS},
    {"Kinesis_20131202.DescribeStream", KN_DESCRIBE_STREAM},
    {"Kinesis_20131202.DescribeStreamSummary", KN_DESCRIBE_STREAM_SUMMARY},
    {"Kinesis_20131202.ListStreams", KN_LIST_STREAMS},
    {"Kinesis_20131202.ListShards", KN_LIST_SHARDS},
    {"Firehose_20150804.PutRecord", KN_FH_PUT_RECORD},
    {"Firehose_20150804.PutRecordBatch", KN_FH_PUT_RECORD_BATCH},
    {"Firehose_20150804.DescribeDeliveryStream", KN_FH_DESCRIBE},
    {"Firehose_20150804.ListDeliveryStreams", KN_FH_LIST},
};

kn_op kn_op_of(const char *target)
{
    for (size_t i = 0; target && i < sizeof OPS / sizeof OPS[0]; i++)
        if (!strcmp(target, OPS[i].target)) return OPS[i].op;
    return KN_OP_UNKNOWN;
}

const char *kn_op_name(kn_op op)
{
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (OPS[i].op == op) return strchr(OPS[i].target, '.') + 1;
    return "Unknown";
}

int kn_op_firehose(kn_op op) { return op >= KN_FH_PUT_RECORD; }

int kn_op_writes(kn_op op)
{
    return op == KN_PUT_RECORD || op == KN_PUT_RECORDS || op == KN_FH_PUT_RECORD ||
           op == KN_FH_PUT_RECORD_BATCH;
}

const char *kn_err_type(kn_err e, int firehose)
{
    switch (e) {
    case KN_OK: return "";
    case KN_VALIDATION: return "ValidationException";
    case KN_INVALID_ARGUMENT: return "InvalidArgumentException";
    case KN_SERIALIZATION: return "SerializationException";
    case KN_NOT_FOUND: return "ResourceNotFoundException";
    case KN_THROUGHPUT:
        return firehose ? "ServiceUnavailableException" : "ProvisionedThroughputExceededException";
    case KN_UNRECOGNIZED_CLIENT: return "UnrecognizedClientException";
    case KN_INVALID_SIGNATURE: return "InvalidSignatureException";
    case KN_MISSING_AUTH: return "MissingAuthenticationTokenException";
    case KN_ACCESS_DENIED: return "AccessDeniedException";
    case KN_UNKNOWN_OP: return "UnknownOperationException";
    case KN_INTERNAL: return firehose ? "ServiceUnavailableException" : "InternalFailure";
    }
    return "InternalFailure";
}

int kn_err_status(kn_err e)
{
    return e == KN_INTERNAL ? 500 : e == KN_OK ? 200 : 400;
}

void kn_error_reply(ut_buf *out, kn_err e, int firehose, const char *msg)
{
    ut_buf_reset(out);
    ut_buf_puts(out, "{\"__type\":\"");
    ut_buf_puts(out, kn_err_type(e, firehose));
    ut_buf_puts(out, "\",\"message\":");
    ut_json_str(out, msg, strlen(msg));
    ut_buf_puts(out, "}");
}

void kn_req_free(kn_req *r)
{
    if (!r) return;
    free(r->recs);
    ut_buf_free(&r->data);
    memset(r, 0, sizeof *r);
}

/* ---- parsing ------------------------------------------------------------------- */

typedef struct pstate {
    kn_req *r;
    js_parser *p;
    js_parser *rp;        /* parse_one_pass: the records' parser */
    kn_err *err;
    char *msg;
    size_t msglen;
    size_t payload;       /* the request's payload bytes so far (data + keys) */
    const char *recs;     /* Records / Record: raw JSON text */
    size_t nrecs_text;
    int recs_is_array;
    int walked;           /* the records were walked in the top-level pass */
} pstate;

__attribute__((format(printf, 3, 4))) static int fail(pstate *s, kn_err e, const char *fmt, ...)
{
    *s->err = e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, s->msglen, fmt, ap);
    va_end(ap);
    return -1;
}

static int name_ok(const char *v, size_t n, size_t max)
{
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* The stream's name from StreamName / DeliveryStreamName (arn 0) or an ARN
 * ".../stream/NAME", ".../deliverystream/NAME" (arn 1). */
static int take_stream(pstate *s, const js_value *v, int arn)
{
    const char *name = v->s;
    size_t n = v->n;
    const char *field = arn ? "streamARN" : kn_op_firehose(s->r->op) ? "deliveryStreamName"
                                                                      : "streamName";
    if (v->kind != JS_STRING)
        return fail(s, KN_SERIALIZATION, "%s must be a string", field);
    if (arn) {
        const char *slash = memrchr(v->s, '/', v->n);
        if (n < 8 || memcmp(v->s, "arn:aws", 7) || !slash)
            return fail(s, KN_VALIDATION, "1 validation error detected: Value at '%s' failed "
                        "to satisfy constraint: Member must be a stream ARN", field);
        name = slash + 1, n = v->n - (size_t)(slash + 1 - v->s);
    }
    size_t max = kn_op_firehose(s->r->op) ? 64 : KN_MAX_NAME;
    if (!name_ok(name, n, max))
        return fail(s, KN_VALIDATION, "1 validation error detected: Value at '%s' failed to "
                    "satisfy constraint: Member must have length between 1 and %lld and match "
                    "[a-zA-Z0-9_.-]+", field, (long long)max);
    if (s->r->stream[0] && (strlen(s->r->stream) != n || memcmp(s->r->stream, name, n)))
        return fail(s, KN_INVALID_ARGUMENT, "%s names another stream than the request's other "
                    "stream field", field);
    memcpy(s->r->stream, name, n);
    s->r->stream[n] = 0;
    return 0;
}

static int key_is(const js_field *f, const char *k)
{
    return f->key_len == strlen(k) && !memcmp(f->key, k, f->key_len);
}

/* One top-level field. */
static int top_field(pstate *s, const js_field *f)
{
    kn_op op = s->r->op;
    if (key_is(f, "StreamName") || key_is(f, "DeliveryStreamName")) return take_stream(s, &f->v, 0);
    if (key_is(f, "StreamARN") || key_is(f, "DeliveryStreamARN")) return take_stream(s, &f->v, 1);
    if (key_is(f, "Limit")) {
        if (f->v.kind != JS_INT || f->v.i < 1 || f->v.i > 10000)
            return fail(s, KN_VALIDATION, "1 validation error detected: Value at '%s' failed to "
                        "satisfy constraint: Member must be between 1 and %d", "limit", 10000);
        s->r->limit = (int)f->v.i;
        return 0;
    }
    if (key_is(f, "ExclusiveStartStreamName") || key_is(f, "ExclusiveStartDeliveryStreamName")) {
        if (f->v.kind != JS_STRING || f->v.n > KN_MAX_NAME)
            return fail(s, KN_VALIDATION, "%s must be a stream name", "exclusiveStart");
        memcpy(s->r->start, f->v.s, f->v.n);
        s->r->start[f->v.n] = 0;
        return 0;
    }
    int single = op == KN_PUT_RECORD && (key_is(f, "Data") || key_is(f, "PartitionKey"));
    if (single) return 1; /* the record is the request itself: walked again below */
    if ((op == KN_PUT_RECORDS || op == KN_FH_PUT_RECORD_BATCH) && key_is(f, "Records")) {
        if (f->v.kind != JS_ARRAY)
            return fail(s, KN_SERIALIZATION, "%s must be a list", "Records");
        s->recs = f->v.s, s->nrecs_text = f->v.n, s->recs_is_array = 1;
    } else if (op == KN_FH_PUT_RECORD && key_is(f, "Record")) {
        if (f->v.kind != JS_OBJECT)
            return fail(s, KN_SERIALIZATION, "%s must be a structure", "Record");
        s->recs = f->v.s, s->nrecs_text = f->v.n;
    }
    return 0; /* other fields (ExplicitHashKey, NextToken, ...) are not used */
}

/* Base64 v into r->data as record rec.  0; a bad one marks rec alone. */
static void take_data(pstate *s, kn_record *rec, const js_value *v, int i)
{
    kn_req *r = s->r;
    size_t n = v->n;
    int pad = n >= 1 && v->s[n - 1] == '=' ? (n >= 2 && v->s[n - 2] == '=' ? 2 : 1) : 0;
    rec->off = r->data.len;
    if (v->kind != JS_STRING || n % 4) {
        rec->err = KN_INVALID_ARGUMENT;
        snprintf(rec->msg, sizeof rec->msg, "Records[%d].Data is not base64", i);
        return;
    }
    ut_buf_reserve(&r->data, r->data.len + n / 4 * 3 + 1);
    int got = kn_base64_decode((unsigned char *)r->data.p + r->data.len, v->s, n);
    if (got < 0) {
        rec->err = KN_INVALID_ARGUMENT;
        snprintf(rec->msg, sizeof rec->msg, "Records[%d].Data is not base64", i);
        return;
    }
    rec->n = (size_t)got - (size_t)pad;
    ut_buf_setlen(&r->data, r->data.len + rec->n);
}

/* The fields of one record object (or of PutRecord's request), begun on p. */
static int record_fields(pstate *s, js_parser *p, int i)
{
    kn_req *r = s->r;
    int firehose = kn_op_firehose(r->op);
    kn_record *rec = &r->recs[r->nrecs];
    rec->off = rec->n = 0, rec->err = KN_OK, rec->msg[0] = 0; /* not its 160-byte msg */
    char jerr[200];
    js_field f;
    int rc, have_data = 0;
    size_t key_len = 0;
    while ((rc = js_obj_next(p, &f, jerr, sizeof jerr)) == 1) {
        if (key_is(&f, "Data")) {
            take_data(s, rec, &f.v, i);
            have_data = 1;
        } else if (key_is(&f, "PartitionKey") && !firehose) {
            if (f.v.kind != JS_STRING || f.v.n < 1 || f.v.n > MAX_PARTITION_KEY)
                return fail(s, KN_VALIDATION, "1 validation error detected: Value at '%s' failed "
                            "to satisfy constraint: Member must have length between 1 and 256 "
                            "(record %d)", "partitionKey", i);
            key_len = f.v.n;
        }
    }
    if (rc < 0) return fail(s, KN_SERIALIZATION, "Records[%d]: %s", i, jerr);
    if (!have_data)
        return fail(s, KN_VALIDATION, "1 validation error detected: Value null at '%s' failed "
                    "to satisfy constraint: Member must not be null (record %d)", "data", i);
    if (!firehose && !key_len)
        return fail(s, KN_VALIDATION, "1 validation error detected: Value null at '%s' failed "
                    "to satisfy constraint: Member must not be null (record %d)",
                    "partitionKey", i);
    size_t max = firehose ? FH_RECORD_MAX : KN_RECORD_MAX;
    if (rec->n + key_len > max)
        return fail(s, KN_VALIDATION, "1 validation error detected: Value at '%s' failed to "
                    "satisfy constraint: Member must have length less than or equal to %lld",
                    "data", (long long)max);
    s->payload += rec->n + key_len;
    r->nrecs++;
    return 0;
}

static int walk_record(pstate *s, const char *text, size_t n, int i)
{
    char jerr[200];
    if (js_obj_begin(s->p, text, n, jerr, sizeof jerr))
        return fail(s, KN_SERIALIZATION, "Records[%d]: %s", i, jerr);
    return record_fields(s, s->p, i);
}

static int walk_records(pstate *s)
{
    kn_req *r = s->r;
    if (s->walked) return 0;
    r->recs = ut_malloc(KN_MAX_RECORDS * sizeof *r->recs); /* set by record_fields */
    if (!s->recs_is_array) return walk_record(s, s->recs, s->nrecs_text, 0);
    char jerr[200];
    if (js_array_begin(s->p, s->recs, s->nrecs_text, jerr, sizeof jerr))
        return fail(s, KN_SERIALIZATION, "Records: %s", jerr);
    const char *el;
    size_t eln, off;
    int rc, i = 0;
    while ((rc = js_array_next(s->p, &el, &eln, &off, jerr, sizeof jerr)) == 1) {
        if (i == KN_MAX_RECORDS)
            return fail(s, KN_VALIDATION, "1 validation error detected: Value at '%s' failed to "
                        "satisfy constraint: Member must have length less than or equal to %lld",
                        "records", (long long)KN_MAX_RECORDS);
        if (walk_record(s, el, eln, i++)) return -1;
    }
    if (rc < 0) return fail(s, KN_SERIALIZATION, "Records: %s", jerr);
    return 0;
}

/* The rules after the walk: a stream named, records present and in size. */
static int finish(pstate *s, const char *body, size_t n)
{
    kn_req *r = s->r;
    int firehose = kn_op_firehose(r->op);
    if (!r->stream[0] && r->op != KN_LIST_STREAMS && r->op != KN_FH_LIST)
        return fail(s, KN_VALIDATION, "1 validation error detected: Value null at '%s' failed "
                    "to satisfy constraint: Member must not be null",
                    firehose ? "deliveryStreamName" : "streamName");
    if (!kn_op_writes(r->op)) return 0;
    if (r->op == KN_PUT_RECORD) s->recs = body, s->nrecs_text = n;
    if (!s->recs)
        return fail(s, KN_VALIDATION, "1 validation error detected: Value null at '%s' failed "
                    "to satisfy constraint: Member must not be null",
                    r->op == KN_FH_PUT_RECORD ? "record" : "records");
    if (walk_records(s)) return -1;
    if (r->nrecs == 0)
        return fail(s, KN_VALIDATION, "1 validation error detected: Value '[]' at '%s' failed "
                    "to satisfy constraint: Member must have length greater than or equal to "
                    "%d", "records", 1);
    size_t max = firehose ? FH_REQUEST_MAX : KN_REQUEST_MAX;
    if (s->payload > max)
        return fail(s, KN_INVALID_ARGUMENT, "the %s request's records hold more than %lld "
                    "bytes", kn_op_name(r->op), (long long)max);
    return 0;
}

/* The top-level walk, then the rules and the records (walk_records). */
static int parse_walk(pstate *s, const char *body, size_t n)
{
    char jerr[200];
    if (js_obj_begin(s->p, body, n, jerr, sizeof jerr))
        return fail(s, KN_SERIALIZATION, "the body is not a JSON object: %s", jerr);
    js_field f;
    int more;
    while ((more = js_obj_next(s->p, &f, jerr, sizeof jerr)) == 1)
        if (top_field(s, &f) < 0) return -1;
    if (more < 0) return fail(s, KN_SERIALIZATION, "%s", jerr);
    return finish(s, body, n);
}

/* Records walked where they stand in the body (the one pass, below). */
static int records_in_place(pstate *s)
{
    const char *a, *el;
    size_t an, eln;
    char jerr[200];
    int rc, i = 0;
    if (s->recs || js_obj_value_at(s->p, &a, &an, jerr, sizeof jerr) ||
        js_array_begin_at(s->p, a, an, jerr, sizeof jerr))
        return -1;
    s->r->recs = ut_malloc(KN_MAX_RECORDS * sizeof *s->r->recs);
    while ((rc = js_array_elem_at(s->p, &el, &eln, jerr, sizeof jerr)) == 1) {
        if (i == KN_MAX_RECORDS || js_obj_begin_at(s->rp, el, eln, jerr, sizeof jerr) ||
            record_fields(s, s->rp, i++))
            return -1;
        js_array_resume(s->p, js_obj_end(s->rp));
    }
    if (rc < 0) return -1;
    js_obj_resume(s->p, js_array_end(s->p));
    s->recs = a, s->nrecs_text = js_array_end(s->p), s->recs_is_array = 1, s->walked = 1;
    return 0;
}

/* PutRecords / PutRecordBatch in one pass: the top-level walk hands the
 * Records array over in place and each record is walked where it stands,
 * so the body is scanned once, not three times (the array skipped whole,
 * split, each record walked).  The grammar and depth checked are the same
 * (the records' parser has the depth left under the body and the array).
 * On anything but a clean request (bad JSON, a rule broken, a record
 * refused) it gives up, -1, and the request is parsed again by parse_walk,
 * which words the refusal: the answers stay the same byte for byte. */
static int parse_one_pass(pstate *s, const char *body, size_t n)
{
    char jerr[200];
    if (js_obj_begin(s->p, body, n, jerr, sizeof jerr)) return -1;
    js_field f;
    int more;
    while ((more = js_obj_key(s->p, &f.key, &f.key_len, jerr, sizeof jerr)) == 1) {
        if (key_is(&f, "Records")) {
            if (records_in_place(s)) return -1;
        } else if (js_obj_value(s->p, &f.v, jerr, sizeof jerr) || top_field(s, &f) < 0) {
            return -1;
        }
    }
    return more < 0 ? -1 : finish(s, body, n);
}

int kn_parse(kn_op op, const char *body, size_t n, kn_req *out, kn_err *err, char *msg,
             size_t msglen)
{
    memset(out, 0, sizeof *out);
    out->op = op;
    *err = KN_OK;
    if (n > KN_MAX_BODY) {
        *err = KN_VALIDATION;
        snprintf(msg, msglen, "the request body is over %zu bytes", KN_MAX_BODY);
        return -1;
    }
    pstate s = {.r = out, .err = err, .msg = msg, .msglen = msglen};
    s.p = js_parser_create(KN_MAX_BODY, BODY_DEPTH);
    int rc = -1;
    if (op == KN_PUT_RECORDS || op == KN_FH_PUT_RECORD_BATCH) {
        s.rp = js_parser_create(KN_MAX_BODY, BODY_DEPTH - 2); /* under the body, Records */
        rc = parse_one_pass(&s, body, n);
        js_parser_destroy(s.rp);
    }
    if (rc) {
        kn_req_free(out);
        out->op = op;
        *err = KN_OK;
        s = (pstate){.r = out, .p = s.p, .err = err, .msg = msg, .msglen = msglen};
        rc = parse_walk(&s, body, n);
    }
    js_parser_destroy(s.p);
    return rc;
}
