/* The Kinesis / Firehose protocol layer (src/kinesis): request shapes and
 * AWS's limits, and SigV4 checked against what the store's signer makes. */
#include "t.h"
#include "kinesis/kinesis.h"
#include "store/store.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int parse(kn_op op, const char *body, kn_req *q, kn_err *e, char *msg)
{
    return kn_parse(op, body, strlen(body), q, e, msg, 512);
}

TEST(kinesis_ops_and_types)
{
    CHECK(kn_op_of("Kinesis_20131202.PutRecords") == KN_PUT_RECORDS);
    CHECK(kn_op_of("Firehose_20150804.PutRecordBatch") == KN_FH_PUT_RECORD_BATCH);
    CHECK(kn_op_of("Kinesis_20131202.putrecords") == KN_OP_UNKNOWN);
    CHECK(kn_op_of(NULL) == KN_OP_UNKNOWN);
    CHECK_EQ_STR(kn_op_name(KN_LIST_SHARDS), "ListShards");
    CHECK_EQ_STR(kn_err_type(KN_THROUGHPUT, 0), "ProvisionedThroughputExceededException");
    CHECK_EQ_STR(kn_err_type(KN_THROUGHPUT, 1), "ServiceUnavailableException");
    ut_buf b = {0};
    kn_error_reply(&b, KN_NOT_FOUND, 0, "Stream \"x\" not found.");
    CHECK_EQ_STR(ut_buf_cstr(&b),
                 "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Stream \\\"x\\\" not found.\"}");
    ut_buf_free(&b);
}

TEST(kinesis_parse_puts)
{
    kn_req q;
    kn_err e;
    char msg[512];
    CHECK(parse(KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"eyJhIjoxfQ==\","
                "\"PartitionKey\":\"k\"},{\"Data\":\"@@@@\",\"PartitionKey\":\"k\"},"
                "{\"Data\":\"\",\"PartitionKey\":\"k\"}]}", &q, &e, msg) == 0);
    CHECK_EQ_STR(q.stream, "s");
    CHECK(q.nrecs == 3);
    CHECK(q.recs[0].err == KN_OK && q.recs[0].n == 7 && !memcmp(q.data.p + q.recs[0].off, "{\"a\":1}", 7));
    CHECK(q.recs[1].err == KN_INVALID_ARGUMENT); /* not base64: that record alone */
    CHECK(q.recs[2].err == KN_OK && q.recs[2].n == 0);
    kn_req_free(&q);
    /* the stream by ARN, PutRecord's record is the request */
    CHECK(parse(KN_PUT_RECORD, "{\"StreamARN\":\"arn:aws:kinesis:eu-west-1:1:stream/ev.x-1\","
                "\"Data\":\"e30=\",\"PartitionKey\":\"p\"}", &q, &e, msg) == 0);
    CHECK_EQ_STR(q.stream, "ev.x-1");
    CHECK(q.nrecs == 1 && q.recs[0].n == 2);
    kn_req_free(&q);
    CHECK(parse(KN_FH_PUT_RECORD, "{\"DeliveryStreamName\":\"f\",\"Record\":{\"Data\":\"e30K\"}}",
                &q, &e, msg) == 0);
    CHECK(q.nrecs == 1 && q.recs[0].n == 3);
    kn_req_free(&q);
}

TEST(kinesis_parse_refusals)
{
    static const struct { kn_op op; const char *body; kn_err want; const char *says; } cases[] = {
        {KN_PUT_RECORDS, "{\"Records\":[{\"Data\":\"e30=\",\"PartitionKey\":\"k\"}]}", KN_VALIDATION, "streamName"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":[]}", KN_VALIDATION, "greater than or equal to 1"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"s\"}", KN_VALIDATION, "records"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"e30=\"}]}", KN_VALIDATION, "partitionKey"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":[{\"PartitionKey\":\"k\"}]}", KN_VALIDATION, "data"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"bad name\",\"Records\":[]}", KN_VALIDATION, "[a-zA-Z0-9_.-]+"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":{}}", KN_SERIALIZATION, "list"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"e30=\",", KN_SERIALIZATION, ""},
        {KN_PUT_RECORDS, "[1]", KN_SERIALIZATION, "not a JSON object"},
        {KN_PUT_RECORDS, "{\"StreamName\":\"a\",\"StreamARN\":\"arn:aws:kinesis:r:1:stream/b\",\"Records\":[]}", KN_INVALID_ARGUMENT, "another stream"},
        {KN_DESCRIBE_STREAM, "{\"StreamARN\":\"stream/b\"}", KN_VALIDATION, "ARN"},
        {KN_LIST_STREAMS, "{\"Limit\":0}", KN_VALIDATION, "limit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kn_req q;
        kn_err e = KN_OK;
        char msg[512] = "";
        int rc = parse(cases[i].op, cases[i].body, &q, &e, msg);
        if (rc != -1 || e != cases[i].want || !strstr(msg, cases[i].says))
            fprintf(stderr, "case %zu: rc %d type %s msg %s\n", i, rc, kn_err_type(e, 0), msg);
        CHECK(rc == -1 && e == cases[i].want && strstr(msg, cases[i].says));
        kn_req_free(&q);
    }
    /* 501 records; a record over 1 MiB */
    ut_buf b = {0};
    ut_buf_puts(&b, "{\"StreamName\":\"s\",\"Records\":[");
    for (int i = 0; i < 501; i++) ut_buf_puts(&b, i ? ",{\"Data\":\"e30=\",\"PartitionKey\":\"k\"}" : "{\"Data\":\"e30=\",\"PartitionKey\":\"k\"}");
    ut_buf_puts(&b, "]}");
    kn_req q;
    kn_err e;
    char msg[512];
    CHECK(kn_parse(KN_PUT_RECORDS, ut_buf_cstr(&b), b.len, &q, &e, msg, sizeof msg) == -1 && e == KN_VALIDATION);
    CHECK(strstr(msg, "500") != NULL);
    kn_req_free(&q);
    ut_buf_reset(&b);
    ut_buf_puts(&b, "{\"StreamName\":\"s\",\"PartitionKey\":\"k\",\"Data\":\"");
    for (int i = 0; i < (1 << 20) / 3 + 2; i++) ut_buf_puts(&b, "AAAA");
    ut_buf_puts(&b, "\"}");
    CHECK(kn_parse(KN_PUT_RECORD, ut_buf_cstr(&b), b.len, &q, &e, msg, sizeof msg) == -1 && e == KN_VALIDATION);
    CHECK(strstr(msg, "1048576") != NULL);
    kn_req_free(&q);
    ut_buf_free(&b);
}

/* PutRecords in one pass (Records walked in place) gives what the walk in
 * three passes gave: escapes, duplicate fields, unknown nested fields, the
 * depth cap at the same level, refusals worded the same. */
TEST(kinesis_parse_one_pass)
{
    kn_req q;
    kn_err e;
    char msg[512];
    CHECK(parse(KN_PUT_RECORDS, " {\"Records\" : [ {\"D\\u0061ta\":\"e30\\u003d\",\"PartitionKey\":\"k\","
                "\"X\":{\"y\":[1,{\"z\":null}]}} ,{\"PartitionKey\":\"k\",\"Data\":\"eyJhIjoxfQ==\"}],"
                "\"Extra\":[[{}]],\"StreamName\":\"s\"}\n", &q, &e, msg) == 0);
    CHECK(q.nrecs == 2 && q.recs[0].n == 2 && q.recs[1].n == 7);
    CHECK(!memcmp(q.data.p + q.recs[1].off, "{\"a\":1}", 7));
    kn_req_free(&q);
    /* Records twice: the last one counts */
    CHECK(parse(KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"e30=\",\"PartitionKey\":\"k\"}],"
                "\"Records\":[{\"Data\":\"\",\"PartitionKey\":\"k\"},{\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
                &q, &e, msg) == 0);
    CHECK(q.nrecs == 2 && q.recs[0].n == 0);
    kn_req_free(&q);
    /* 16 containers deep is the cap: the record's field at 16 passes, at 17 not */
    for (int depth = 15; depth <= 16; depth++) {
        ut_buf b = {0};
        ut_buf_puts(&b, "{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"\",\"PartitionKey\":\"k\",\"X\":");
        for (int i = 0; i < depth - 2; i++) ut_buf_putc(&b, '[');
        for (int i = 0; i < depth - 2; i++) ut_buf_putc(&b, ']');
        ut_buf_puts(&b, "}]}");
        int rc = kn_parse(KN_PUT_RECORDS, ut_buf_cstr(&b), b.len, &q, &e, msg, sizeof msg);
        CHECK_MSG(depth == 15 ? rc == 0 : rc == -1 && e == KN_SERIALIZATION && strstr(msg, "too deep"),
                  "depth %d rc %d %s", depth + 1, rc, msg);
        kn_req_free(&q);
        ut_buf_free(&b);
    }
    /* a refusal after a bad record is the JSON's, as before */
    CHECK(parse(KN_PUT_RECORDS, "{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"e30=\"}],\"x\":tru}", &q, &e,
                msg) == -1 && e == KN_SERIALIZATION && !strcmp(msg, "unexpected 't' at byte 51"));
    kn_req_free(&q);
    CHECK(parse(KN_FH_PUT_RECORD_BATCH, "{\"DeliveryStreamName\":\"f\",\"Records\":[{\"Data\":\"e30K\"},[]]}",
                &q, &e, msg) == -1 && e == KN_SERIALIZATION && strstr(msg, "Records[1]: record is an array"));
    kn_req_free(&q);
}

/* Sign like an SDK (st_sigv4), then check like the server. */
TEST(kinesis_sigv4_verify)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char date[20], day[9];
    strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
    memcpy(day, date, 8), day[8] = 0;
    const char *body = "{\"StreamName\":\"s\"}";
    char h0[64], h1[64];
    snprintf(h0, sizeof h0, "x-amz-date:%s", date);
    snprintf(h1, sizeof h1, "host:127.0.0.1:8080");
    const char *hv[] = {"content-type:application/x-amz-json-1.1", h1, h0,
                        "x-amz-target:Kinesis_20131202.ListStreams"};
    st_sigv4_req r = {.method = "POST", .path = "/", .query = "", .headers = hv, .nheaders = 4,
                      .payload = body, .payload_len = strlen(body), .amz_date = date,
                      .region = "us-east-1", .service = "kinesis", .access_key = "AKIDX",
                      .secret_key = "s3cr3t", .normalize_path = 1};
    ut_buf auth = {0};
    char err[256], msg[512];
    CHECK(st_sigv4(&r, NULL, NULL, &auth, err, sizeof err) == 0);
    kn_sig sig;
    kn_err e;
    CHECK(kn_sig_parse(ut_buf_cstr(&auth), &sig, &e, msg, sizeof msg) == 0);
    CHECK_EQ_STR(sig.key_id, "AKIDX");
    CHECK_EQ_STR(sig.date, day);
    CHECK_EQ_STR(sig.service, "kinesis");
    char hdrs[4][1024];
    for (int i = 0; i < 4; i++) snprintf(hdrs[i], sizeof hdrs[i], "%s", hv[i]);
    CHECK(kn_sig_verify(&sig, "/", hdrs, 4, body, strlen(body), date, (int64_t)now, "s3cr3t", &e,
                        msg, sizeof msg) == 0);
    CHECK(kn_sig_verify(&sig, "/", hdrs, 4, body, strlen(body), date, (int64_t)now, "wrong", &e,
                        msg, sizeof msg) == -1 && e == KN_INVALID_SIGNATURE);
    CHECK(kn_sig_verify(&sig, "/", hdrs, 4, "{}", 2, date, (int64_t)now, "s3cr3t", &e, msg,
                        sizeof msg) == -1); /* another body */
    CHECK(kn_sig_verify(&sig, "/", hdrs, 4, body, strlen(body), date, (int64_t)now + 3600,
                        "s3cr3t", &e, msg, sizeof msg) == -1 && strstr(msg, "expired"));
    /* the body's hash taken as it arrived: used, and checked as the body would be */
    unsigned char md[32];
    unsigned int mdn = 0;
    CHECK(EVP_Digest(body, strlen(body), md, &mdn, EVP_sha256(), NULL) && mdn == 32);
    for (int i = 0; i < 32; i++) snprintf(sig.payload_hash + 2 * i, 3, "%02x", md[i]);
    CHECK(kn_sig_verify(&sig, "/", hdrs, 4, NULL, 0, date, (int64_t)now, "s3cr3t", &e, msg,
                        sizeof msg) == 0);
    sig.payload_hash[0] = sig.payload_hash[0] == '0' ? '1' : '0';
    CHECK(kn_sig_verify(&sig, "/", hdrs, 4, body, strlen(body), date, (int64_t)now, "s3cr3t", &e,
                        msg, sizeof msg) == -1 && e == KN_INVALID_SIGNATURE);
    sig.payload_hash[0] = 0;
    snprintf(hdrs[3], sizeof hdrs[3], "x-amz-target:Kinesis_20131202.PutRecords");
    CHECK(kn_sig_verify(&sig, "/", hdrs, 4, body, strlen(body), date, (int64_t)now, "s3cr3t", &e,
                        msg, sizeof msg) == -1); /* another operation */
    ut_buf_free(&auth);
    CHECK(kn_sig_parse("Bearer x", &sig, &e, msg, sizeof msg) == -1 && e == KN_MISSING_AUTH);
    CHECK(kn_sig_parse("AWS4-HMAC-SHA256 Credential=A/2024/us/k/aws4_request, SignedHeaders=host, "
                       "Signature=00", &sig, &e, msg, sizeof msg) == -1 && e == KN_INVALID_SIGNATURE);
}

/* kn_base64_decode answers as EVP_DecodeBlock does, on canonical text (the
 * SIMD blocks and the table) and on every other (handed to OpenSSL). */
static int b64_same(const char *in, size_t n)
{
    unsigned char a[1024 + 64], b[1024 + 64];
    memset(a, 0xAA, sizeof a), memset(b, 0xAA, sizeof b);
    int x = kn_base64_decode(a, in, n);
    int y = n ? EVP_DecodeBlock(b, (const unsigned char *)in, (int)n) : 0;
    return x == y && (x < 0 || !memcmp(a, b, (size_t)x)) && a[n / 4 * 3] == 0xAA;
}

TEST(kinesis_base64_decode)
{
    static const char *cases[] = {"", "e30=", "eyJhIjoxfQ==", "QQ==", "QUI=", "QUJD", "Q===", "====",
                                  "QQ=A", "=QQQ", "QUJ", "QUJDR", "  QUJD", "QUJD  ", "QUJD\n",
                                  "QU JD", "QUJ@", "QUJ\x80", "QUJD-", "A=BC", "QQ==QQ=="};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_MSG(b64_same(cases[i], strlen(cases[i])), "case %zu", i);
    /* every length to 1 KiB, then one character spoiled at each place */
    unsigned char raw[768];
    char text[1024 + 8];
    for (size_t i = 0; i < sizeof raw; i++) raw[i] = (unsigned char)(i * 131 + 7);
    for (int len = 0; len <= 768; len++) {
        int n = EVP_EncodeBlock((unsigned char *)text, raw, len);
        CHECK_MSG(b64_same(text, (size_t)n), "length %d", len);
        unsigned char out[800];
        CHECK(kn_base64_decode(out, text, (size_t)n) == (len + 2) / 3 * 3 && !memcmp(out, raw, (size_t)len));
    }
    int n = EVP_EncodeBlock((unsigned char *)text, raw, 768);
    static const char bad[] = {'=', '@', ' ', '\n', '-', '\0', (char)0xC3, '.'};
    for (int at = 0; at < n; at += 7)
        for (size_t k = 0; k < sizeof bad; k++) {
            char t[1024 + 8];
            memcpy(t, text, (size_t)n);
            t[at] = bad[k];
            CHECK_MSG(b64_same(t, (size_t)n), "at %d char 0x%02x", at, (unsigned char)bad[k]);
        }
    /* the largest record: 1 MiB decoded, AWS's record cap */
    size_t big = (size_t)1 << 20;
    unsigned char *src = malloc(big), *dst = malloc(big + 64);
    char *enc = malloc(big / 3 * 4 + 8);
    for (size_t i = 0; i < big; i++) src[i] = (unsigned char)(i ^ (i >> 8));
    int en = EVP_EncodeBlock((unsigned char *)enc, src, (int)big);
    CHECK(kn_base64_decode(dst, enc, (size_t)en) == (int)((big + 2) / 3 * 3) && !memcmp(dst, src, big));
    free(src), free(dst), free(enc);
}
