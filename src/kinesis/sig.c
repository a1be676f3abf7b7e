/* kinesis: AWS Signature Version 4 of an incoming request, checked.
 *
 *   Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<YYYYMMDD>/<region>/
 *                  <service>/aws4_request, SignedHeaders=<h1;h2;...>,
 *                  Signature=<64 hex>
 *
 *   kn_sig_parse    the three parts, each capped and checked for shape
 *   kn_sig_headers  the signed headers' values as the request carries them
 *   kn_sig_verify   X-Amz-Date within 15 minutes of the clock and of the
 *                   scope's date; the request signed again with the key's
 *                   secret by the store's signer (st_sigv4: the one
 *                   canonicalisation, tested with AWS's suite) and the two
 *                   signatures compared in constant time
 *
 * The payload is hashed (AWS's JSON services sign it; no
 * UNSIGNED-PAYLOAD), by the server as the body arrives (kn_sig.payload_hash)
 * or here.  The path is "/" with no query for every operation. */
#include "kinesis/kinesis.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SIGNED 32
#define MAX_SKEW_S (15 * 60)

__attribute__((format(printf, 4, 5))) static int bad(kn_err *err, char *msg, size_t msglen,
                                                      const char *fmt, ...)
{
    *err = KN_INVALID_SIGNATURE;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The value after "name=" in h up to ',' (or the end) into out. */
static int part(const char *h, const char *name, char *out, size_t cap)
{
    const char *p = strstr(h, name);
    if (!p) return -1;
    p += strlen(name);
    size_t n = strcspn(p, ", ");
    if (n == 0 || n >= cap) return -1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

static int split_scope(kn_sig *s, const char *cred)
{
    const char *f[5];
    size_t len[5];
    const char *p = cred;
    for (int i = 0; i < 5; i++) {
        const char *slash = strchr(p, '/');
        f[i] = p, len[i] = slash ? (size_t)(slash - p) : strlen(p);
        if ((i < 4 && !slash) || (i == 4 && slash)) return -1;
        p = slash ? slash + 1 : p + len[i];
    }
    if (len[0] == 0 || len[0] >= sizeof s->key_id || len[1] != 8 || len[2] == 0 ||
        len[2] >= sizeof s->region || len[3] == 0 || len[3] >= sizeof s->service ||
        len[4] != 12 || memcmp(f[4], "aws4_request", 12))
        return -1;
    memcpy(s->key_id, f[0], len[0]), s->key_id[len[0]] = 0;
    memcpy(s->date, f[1], 8), s->date[8] = 0;
    memcpy(s->region, f[2], len[2]), s->region[len[2]] = 0;
    memcpy(s->service, f[3], len[3]), s->service[len[3]] = 0;
    return 0;
}

int kn_sig_parse(const char *h, kn_sig *out, kn_err *err, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    if (!h || strncmp(h, "AWS4-HMAC-SHA256 ", 17)) {
        *err = KN_MISSING_AUTH;
        snprintf(msg, msglen, "Missing Authentication Token: the request is not signed with "
                 "AWS Signature Version 4");
        return -1;
    }
    if (strlen(h) > 4096) return bad(err, msg, msglen, "the Authorization header is too long");
    char cred[400];
    if (part(h, "Credential=", cred, sizeof cred) || split_scope(out, cred))
        return bad(err, msg, msglen, "Authorization header requires a Credential of the form "
                   "<key id>/<date>/<region>/<service>/aws4_request");
    if (part(h, "SignedHeaders=", out->signed_headers, sizeof out->signed_headers))
        return bad(err, msg, msglen, "Authorization header requires 'SignedHeaders' parameter");
    if (part(h, "Signature=", out->signature, sizeof out->signature) ||
        strlen(out->signature) != 64 || strspn(out->signature, "0123456789abcdef") != 64)
        return bad(err, msg, msglen, "Authorization header requires a 'Signature' of 64 hex "
                   "digits");
    return 0;
}

int kn_sig_headers(const kn_sig *s, const char *(*get)(void *ctx, const char *name), void *ctx,
                   char out[][1024], int max, char *msg, size_t msglen)
{
    int n = 0;
    for (const char *p = s->signed_headers; *p;) {
        size_t k = strcspn(p, ";");
        char name[128];
        if (k == 0 || k >= sizeof name || n == max || n == MAX_SIGNED) {
            snprintf(msg, msglen, "SignedHeaders has an empty, too long or too many names");
            return -1;
        }
        memcpy(name, p, k), name[k] = 0;
        const char *v = get(ctx, name);
        if (!v) {
            snprintf(msg, msglen, "the signed header '%s' is not in the request", name);
            return -1;
        }
        if ((size_t)snprintf(out[n], 1024, "%s:%s", name, v) >= 1024) {
            snprintf(msg, msglen, "the signed header '%s' is over 1 KiB", name);
            return -1;
        }
        n++;
        p += k + (p[k] == ';');
    }
    return n;
}

/* "20150830T123600Z" into Unix seconds; -1 when malformed. */
static int64_t amz_time(const char *d)
{
    struct tm tm = {0};
    if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z') return -1;
    char *end = strptime(d, "%Y%m%dT%H%M%SZ", &tm);
    if (!end || *end) return -1;
    return (int64_t)timegm(&tm);
}

int kn_sig_verify(const kn_sig *s, const char *path, char headers[][1024], int nheaders,
                  const void *body, size_t n, const char *amz_date, int64_t now_s,
                  const char *secret, kn_err *err, char *msg, size_t msglen)
{
    int64_t t = amz_time(amz_date);
    if (t < 0) return bad(err, msg, msglen, "X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ");
    if (strncmp(amz_date, s->date, 8))
        return bad(err, msg, msglen, "the credential scope's date %s is not X-Amz-Date's day",
                   s->date);
    if (t < now_s - MAX_SKEW_S || t > now_s + MAX_SKEW_S)
        return bad(err, msg, msglen, "Signature expired: %s is more than 15 minutes from the "
                   "server's time", amz_date);
    const char *hv[MAX_SIGNED];
    for (int i = 0; i < nheaders && i < MAX_SIGNED; i++) hv[i] = headers[i];
    st_sigv4_req r = {.method = "POST", .path = path, .query = "", .headers = hv,
                      .nheaders = nheaders, .payload = body ? body : "", .payload_len = n,
                      .payload_hash = s->payload_hash[0] ? s->payload_hash : NULL,
                      .amz_date = amz_date, .region = s->region, .service = s->service,
                      .access_key = s->key_id, .secret_key = secret, .normalize_path = 1};
    ut_buf auth = {0};
    char serr[256];
    int rc = st_sigv4(&r, NULL, NULL, &auth, serr, sizeof serr);
    const char *sig = rc == 0 ? strstr(ut_buf_cstr(&auth), "Signature=") : NULL;
    int same = sig && strlen(sig + 10) == 64 && CRYPTO_memcmp(sig + 10, s->signature, 64) == 0;
    ut_buf_free(&auth);
    if (rc) return bad(err, msg, msglen, "the request cannot be signed again: %s", serr);
    if (!same)
        return bad(err, msg, msglen, "The request signature we calculated does not match the "
                   "signature you provided. Check your AWS Secret Access Key and signing "
                   "method.");
    return 0;
}
