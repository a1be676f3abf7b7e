/* kinesis — the wire protocol of Amazon Kinesis Data Streams and Data
 * Firehose, so that producers written for them (the AWS SDKs, the Kinesis
 * Agent, Fluent Bit's kinesis output) write to sluice unchanged
 * (docs/producers.md).
 *
 * Prefix: kn_.  Pure protocol: no sockets, no journal.  The server
 * (src/server/kinesis.c) takes a request (POST /, Content-Type
 * application/x-amz-json-1.1, X-Amz-Target naming the operation) and:
 *
 *   kn_op_of(X-Amz-Target)          which operation
 *   kn_sig_parse + kn_sig_verify    SigV4 of the request, against the secret
 *                                   of the access key it names
 *   kn_parse(op, body)              the stream and the records' payloads
 *                                   (base64 decoded), AWS's limits checked
 *   ... its own journal append ...
 *   kn_put_reply / kn_error_reply   the answer exactly as AWS shapes it
 *
 * Every input is capped: the body by the server (KN_MAX_BODY), records per
 * request (500), a record's payload (1 MiB Kinesis, 1000 KiB Firehose), the
 * request's payloads (5 MiB Kinesis, 4 MiB Firehose), names (128 / 64
 * characters), partition keys (256).  Errors carry AWS's exception type and
 * a message naming the field, as AWS words them. */
#ifndef SLUICE_KINESIS_H
#define SLUICE_KINESIS_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

#define KN_MAX_BODY ((size_t)10 << 20) /* base64 of 5 MiB, and the JSON around it */
#define KN_MAX_RECORDS 500
#define KN_MAX_NAME 128

typedef enum kn_op {
    KN_OP_UNKNOWN = 0,
    KN_PUT_RECORD,              /* Kinesis_20131202.PutRecord */
    KN_PUT_RECORDS,             /* Kinesis_20131202.PutRecords */
    KN_DESCRIBE_STREAM,         /* Kinesis_20131202.DescribeStream */
    KN_DESCRIBE_STREAM_SUMMARY, /* Kinesis_20131202.DescribeStreamSummary */
    KN_LIST_STREAMS,            /* Kinesis_20131202.ListStreams */
    KN_LIST_SHARDS,             /* Kinesis_20131202.ListShards */
    KN_FH_PUT_RECORD,           /* Firehose_20150804.PutRecord */
    KN_FH_PUT_RECORD_BATCH,     /* Firehose_20150804.PutRecordBatch */
    KN_FH_DESCRIBE,             /* Firehose_20150804.DescribeDeliveryStream */
    KN_FH_LIST                  /* Firehose_20150804.ListDeliveryStreams */
} kn_op;

/* The operation an X-Amz-Target value names (NULL: KN_OP_UNKNOWN). */
kn_op kn_op_of(const char *target);
const char *kn_op_name(kn_op op);         /* "PutRecords" */
int kn_op_firehose(kn_op op);             /* 1 for Firehose's operations */
int kn_op_writes(kn_op op);               /* 1 for the puts */

/* AWS's exception types, as sent in "__type" and x-amzn-ErrorType. */
typedef enum kn_err {
    KN_OK = 0,
    KN_VALIDATION,          /* ValidationException */
    KN_INVALID_ARGUMENT,    /* InvalidArgumentException (Firehose: InvalidArgumentException) */
    KN_SERIALIZATION,       /* SerializationException: the body is no such JSON */
    KN_NOT_FOUND,           /* ResourceNotFoundException */
    KN_THROUGHPUT,          /* ProvisionedThroughputExceededException (Firehose:
                               ServiceUnavailableException) */
    KN_UNRECOGNIZED_CLIENT, /* UnrecognizedClientException: unknown access key */
    KN_INVALID_SIGNATURE,   /* InvalidSignatureException */
    KN_MISSING_AUTH,        /* MissingAuthenticationTokenException */
    KN_ACCESS_DENIED,       /* AccessDeniedException: a key not allowed on the stream */
    KN_UNKNOWN_OP,          /* UnknownOperationException */
    KN_INTERNAL             /* InternalFailure (Firehose: ServiceUnavailableException) */
} kn_err;

const char *kn_err_type(kn_err e, int firehose);
int kn_err_status(kn_err e); /* 400, or 500 / 503 */

/* {"__type":"<type>","message":"<msg>"} into out (replaced). */
void kn_error_reply(ut_buf *out, kn_err e, int firehose, const char *msg);

/* ---- requests ------------------------------------------------------------------ */

typedef struct kn_record {
    size_t off, n;   /* the decoded payload: data.p + off, n bytes */
    kn_err err;      /* KN_OK, or why this record alone is refused */
    char msg[160];
} kn_record;

typedef struct kn_req {
    kn_op op;
    char stream[KN_MAX_NAME + 1]; /* StreamName, the name of StreamARN, DeliveryStreamName */
    kn_record *recs;
    int nrecs;
    ut_buf data;                  /* the decoded payloads, one after another */
    int limit;                    /* list calls: Limit (0: none) */
    char start[KN_MAX_NAME + 1];  /* ListStreams: ExclusiveStartStreamName */
} kn_req;

/* Parse the body of op into *out (zeroed here; free with kn_req_free either
 * way).  0, or -1 with *err and msg for a request-level refusal (bad JSON,
 * a missing or invalid field, over a limit).  A record whose Data is not
 * base64 is refused alone (its kn_record.err). */
int kn_parse(kn_op op, const char *body, size_t n, kn_req *out, kn_err *err, char *msg,
             size_t msglen);
void kn_req_free(kn_req *r);

/* Base64 in[0..n) into out (room for n / 4 * 3 bytes): what OpenSSL's
 * EVP_DecodeBlock answers, bytes written (padding counted, as zeros) or -1,
 * with the canonical text (alphabet, '=' padding at the end) decoded by
 * SIMD where the CPU has AVX2. */
int kn_base64_decode(unsigned char *out, const char *in, size_t n);

/* ---- SigV4 ------------------------------------------------------------------------ */

typedef struct kn_sig {
    char key_id[129];
    char date[9];            /* the credential scope's YYYYMMDD */
    char region[64], service[32];
    char signed_headers[1024]; /* "content-type;host;x-amz-date;x-amz-target" */
    char signature[65];
    char payload_hash[65];   /* set by the caller: hex SHA-256 of the body when it
                                hashed it as it arrived; "": kn_sig_verify hashes it */
} kn_sig;

/* Parse an Authorization header "AWS4-HMAC-SHA256 Credential=<id>/<date>/
 * <region>/<service>/aws4_request, SignedHeaders=<h;h>, Signature=<hex>".
 * 0, or -1 with msg (kind KN_INVALID_SIGNATURE, or KN_MISSING_AUTH when the
 * scheme is not SigV4). */
int kn_sig_parse(const char *authorization, kn_sig *out, kn_err *err, char *msg, size_t msglen);

/* The headers SignedHeaders names, as "name:value" strings, from get(ctx,
 * name) (NULL: absent) into out (at most 32); count, or -1 when one is
 * missing (msg says which). */
int kn_sig_headers(const kn_sig *s, const char *(*get)(void *ctx, const char *name), void *ctx,
                   char out[][1024], int max, char *msg, size_t msglen);

/* Check the signature of POST path with the given signed headers and body
 * against secret; amz_date is X-Amz-Date ("20150830T123600Z"), now_s the
 * clock: a date more than 15 minutes away is refused (as AWS does).  0, or
 * -1 with KN_INVALID_SIGNATURE and msg. */
int kn_sig_verify(const kn_sig *s, const char *path, char headers[][1024], int nheaders,
                  const void *body, size_t n, const char *amz_date, int64_t now_s,
                  const char *secret, kn_err *err, char *msg, size_t msglen);

#endif
