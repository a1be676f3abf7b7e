/* AWS Signature Version 4: canonical request, string to sign, signing key,
 * Authorization header and presigned query strings.  Hashing and HMAC come
 * from OpenSSL's libcrypto (EVP); nothing here is hand-written crypto.
 *
 * The canonical URI follows the SDKs: for every service but "s3" the path as
 * sent is URI-encoded once more ("double encoding") after optional dot-segment
 * and duplicate-slash removal; for "s3" the path as sent is used verbatim. */
#include "store/st_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIG_MAX_HEADERS 64
#define SIG_MAX_HEADER_BYTES 16384 /* one "Name:value" */
#define SIG_MAX_PARAMS 256
#define SIG_MAX_QUERY 65536

static const char hexd[] = "0123456789abcdef";
static const char hexu[] = "0123456789ABCDEF";

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[p[i] >> 4];
        out[2 * i + 1] = hexd[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

void st__uri_encode(ut_buf *b, const char *s, size_t n, int keep_slash)
{
    ut_buf_reserve(b, n * 3 + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            b->p[b->len++] = c;
        } else {
            b->p[b->len++] = '%';
            b->p[b->len++] = (uint8_t)hexu[c >> 4];
            b->p[b->len++] = (uint8_t)hexu[c & 15];
        }
    }
}

void st__sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        /* libcrypto cannot fail here short of memory exhaustion */
        abort();
    }
    to_hex(md, 32, hex);
}

int st__sha256_fd_hex(int fd, uint64_t off, uint64_t len, char hex[65])
{
    int rc = -1;
    size_t bufsz = 1 << 20;
    unsigned char *buf = ut_malloc(bufsz), md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) goto fail;
    while (len > 0) {
        size_t want = len < bufsz ? (size_t)len : bufsz;
        ssize_t got = pread(fd, buf, want, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) goto fail;
        if (got == 0) {
            errno = EIO; /* the file shrank under us */
            goto fail;
        }
        if (!EVP_DigestUpdate(ctx, buf, (size_t)got)) goto fail;
        off += (uint64_t)got;
        len -= (uint64_t)got;
    }
    if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32) goto fail;
    to_hex(md, 32, hex);
    rc = 0;
fail:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

/* out[32] = HMAC-SHA256(key, data).  0 or -1. */
static int hmac256(const void *key, size_t keylen, const void *data, size_t n, unsigned char *out)
{
    size_t outlen = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data, n, out, 32, &outlen))
        return -1;
    return outlen == 32 ? 0 : -1;
}

/* ---- canonical URI ---------------------------------------------------------- */

/* Remove "." and ".." segments and empty segments (RFC 3986 5.2.4 plus
 * duplicate slashes, as the AWS SDKs normalise).  Appends to out. */
static void normalize_path(ut_buf *out, const char *p, size_t n)
{
    /* segment start offsets in out, for popping on ".." */
    size_t *starts = ut_malloc((n / 2 + 2) * sizeof *starts), nseg = 0;
    size_t base = out->len, i = 0;
    int trailing = 0;
    while (i < n) {
        while (i < n && p[i] == '/') i++;
        if (i >= n) {
            trailing = 1;
            break;
        }
        size_t j = i;
        while (j < n && p[j] != '/') j++;
        size_t sl = j - i;
        if (sl == 1 && p[i] == '.') {
            trailing = 1;
        } else if (sl == 2 && p[i] == '.' && p[i + 1] == '.') {
            if (nseg) out->len = starts[--nseg];
            trailing = 1;
        } else {
            starts[nseg++] = out->len;
            ut_buf_putc(out, '/');
            ut_buf_put(out, p + i, sl);
            trailing = 0;
        }
        i = j;
    }
    if (out->len == base || trailing) ut_buf_putc(out, '/');
    free(starts);
}

static void canonical_uri(ut_buf *cr, const st_sigv4_req *r, int s3)
{
    const char *p = r->path && r->path[0] ? r->path : "/";
    size_t n = strlen(p);
    ut_buf tmp = {0};
    if (r->normalize_path) {
        normalize_path(&tmp, p, n);
        p = (const char *)tmp.p;
        n = tmp.len;
    }
    if (s3) ut_buf_put(cr, p, n);
    else st__uri_encode(cr, p, n, 1);
    ut_buf_free(&tmp);
}

/* ---- canonical query -------------------------------------------------------- */

typedef struct qparam {
    char *k, *v; /* encoded, NUL-terminated */
} qparam;

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode %XX in s[0..n) (other bytes as they are), then encode the AWS way. */
static char *reencode(const char *s, size_t n)
{
    ut_buf dec = {0}, enc = {0};
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            ut_buf_putc(&dec, (uint8_t)(h * 16 + l));
            i += 2;
        } else {
            ut_buf_putc(&dec, (uint8_t)s[i]);
        }
    }
    st__uri_encode(&enc, (const char *)dec.p, dec.len, 0);
    ut_buf_putc(&enc, 0);
    ut_buf_free(&dec);
    return (char *)enc.p;
}

static int qcmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* Append the canonical form of query (and extra, both raw "a=b&c" strings;
 * either may be NULL) to cr.  0 or -1. */
static int canonical_query(ut_buf *cr, const char *query, const char *extra, char *err,
                           size_t errlen)
{
    int rc = -1;
    qparam *v = NULL;
    size_t nv = 0;
    const char *parts[2] = {query, extra};
    for (int pi = 0; pi < 2; pi++) {
        const char *q = parts[pi];
        if (!q) continue;
        size_t qn = strlen(q);
        if (qn > SIG_MAX_QUERY) {
            ut_err(err, errlen, "sigv4: query string longer than %d bytes", SIG_MAX_QUERY);
            goto fail;
        }
        size_t i = 0;
        while (i < qn) {
            size_t j = i;
            while (j < qn && q[j] != '&') j++;
            if (j > i) {
                if (nv == SIG_MAX_PARAMS) {
                    ut_err(err, errlen, "sigv4: more than %d query parameters", SIG_MAX_PARAMS);
                    goto fail;
                }
                if (!v) v = ut_malloc(SIG_MAX_PARAMS * sizeof *v);
                const char *eq = memchr(q + i, '=', j - i);
                size_t kl = eq ? (size_t)(eq - (q + i)) : j - i;
                v[nv].k = reencode(q + i, kl);
                v[nv].v = eq ? reencode(eq + 1, (size_t)(q + j - eq - 1)) : ut_strdup("");
                nv++;
            }
            i = j + 1;
        }
    }
    if (nv) qsort(v, nv, sizeof *v, qcmp);
    for (size_t i = 0; i < nv; i++) {
        if (i) ut_buf_putc(cr, '&');
        ut_buf_puts(cr, v[i].k);
        ut_buf_putc(cr, '=');
        ut_buf_puts(cr, v[i].v);
    }
    rc = 0;
fail:
    for (size_t i = 0; i < nv; i++) {
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
    return rc;
}

/* ---- canonical headers ------------------------------------------------------ */

typedef struct hdr {
    char *name;  /* lower-case */
    char *value; /* trimmed, spaces collapsed */
    int order;
} hdr;

static int hcmp(const void *a, const void *b)
{
    const hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Canonical header block ("name:v1,v2\n"...) into block and the signed header
 * list ("a;b") into names.  0 or -1. */
static int canonical_headers(const st_sigv4_req *r, ut_buf *block, ut_buf *names, char *err,
                             size_t errlen)
{
    int rc = -1, n = 0;
    hdr *h = NULL;
    if (r->nheaders < 0 || r->nheaders > SIG_MAX_HEADERS || (r->nheaders && !r->headers)) {
        ut_err(err, errlen, "sigv4: header count %d outside 0..%d", r->nheaders, SIG_MAX_HEADERS);
        goto fail;
    }
    h = ut_calloc((size_t)r->nheaders + 1, sizeof *h);
    for (; n < r->nheaders; n++) {
        const char *s = r->headers[n];
        size_t sl = s ? strlen(s) : 0;
        const char *colon = s ? memchr(s, ':', sl) : NULL;
        if (!colon || sl > SIG_MAX_HEADER_BYTES) {
            ut_err(err, errlen, "sigv4: header %d is not \"Name:value\" (or longer than %d bytes)",
                   n, SIG_MAX_HEADER_BYTES);
            goto fail;
        }
        const char *a = s, *b = colon;
        while (a < b && is_ws(*a)) a++;
        while (b > a && is_ws(b[-1])) b--;
        if (a == b) {
            ut_err(err, errlen, "sigv4: header %d has an empty name", n);
            goto fail;
        }
        h[n].name = ut_strndup(a, (size_t)(b - a));
        for (char *c = h[n].name; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        /* value: trim, collapse whitespace runs (incl. folded lines) */
        ut_buf val = {0};
        const char *e = s + sl;
        for (const char *c = colon + 1; c < e; c++) {
            if (is_ws(*c)) {
                while (c + 1 < e && is_ws(c[1])) c++;
                if (val.len && c + 1 < e) ut_buf_putc(&val, ' ');
            } else {
                ut_buf_putc(&val, (uint8_t)*c);
            }
        }
        ut_buf_putc(&val, 0);
        h[n].value = (char *)val.p;
        h[n].order = n;
    }
    qsort(h, (size_t)n, sizeof *h, hcmp);
    for (int i = 0; i < n; i++) {
        if (i && !strcmp(h[i].name, h[i - 1].name)) {
            block->len--; /* drop the '\n', continue the line */
            ut_buf_putc(block, ',');
        } else {
            if (names->len) ut_buf_putc(names, ';');
            ut_buf_puts(names, h[i].name);
            ut_buf_puts(block, h[i].name);
            ut_buf_putc(block, ':');
        }
        ut_buf_puts(block, h[i].value);
        ut_buf_putc(block, '\n');
    }
    rc = 0;
fail:
    for (int i = 0; h && i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
    return rc;
}

/* ---- signing ---------------------------------------------------------------- */

static void buf_cstr(ut_buf *b)
{
    ut_buf_reserve(b, 1);
    b->p[b->len] = 0;
}

static int check_req(const st_sigv4_req *r, char *err, size_t errlen)
{
    if (!r->method || !r->method[0]) return ut_err(err, errlen, "sigv4: no method");
    if (!r->amz_date || strlen(r->amz_date) != 16 || r->amz_date[8] != 'T' ||
        r->amz_date[15] != 'Z')
        return ut_err(err, errlen, "sigv4: amz_date must look like 20150830T123600Z");
    if (!r->region || !r->region[0] || !r->service || !r->service[0])
        return ut_err(err, errlen, "sigv4: region and service are required");
    if (!r->access_key || !r->access_key[0] || !r->secret_key || !r->secret_key[0])
        return ut_err(err, errlen, "sigv4: access key and secret key are required");
    if (strchr(r->region, '/') || strchr(r->service, '/') || strchr(r->access_key, '/'))
        return ut_err(err, errlen, "sigv4: '/' in region, service or access key");
    return 0;
}

/* The shared core: canonical request over (r, extra query params), string
 * to sign, and the hex signature. */
static int sign_core(const st_sigv4_req *r, const char *extra_query, ut_buf *cr, ut_buf *sts,
                     char sig[65], char *err, size_t errlen)
{
    int rc = -1;
    ut_buf block = {0}, names = {0};
    unsigned char k[32];
    char hash[65];
    size_t slen = strlen(r->secret_key);
    char *kinit = ut_malloc(slen + 5);

    if (canonical_headers(r, &block, &names, err, errlen) < 0) goto fail;
    ut_buf_reset(cr);
    ut_buf_puts(cr, r->method);
    ut_buf_putc(cr, '\n');
    canonical_uri(cr, r, !strcmp(r->service, "s3"));
    ut_buf_putc(cr, '\n');
    if (canonical_query(cr, r->query, extra_query, err, errlen) < 0) goto fail;
    ut_buf_putc(cr, '\n');
    ut_buf_put(cr, block.p, block.len);
    ut_buf_putc(cr, '\n');
    ut_buf_put(cr, names.p, names.len);
    ut_buf_putc(cr, '\n');
    if (r->payload_hash) {
        ut_buf_puts(cr, r->payload_hash);
    } else {
        st__sha256_hex(r->payload ? r->payload : "", r->payload ? r->payload_len : 0, hash);
        ut_buf_puts(cr, hash);
    }
    buf_cstr(cr);

    st__sha256_hex(cr->p, cr->len, hash);
    ut_buf_reset(sts);
    ut_buf_printf(sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", r->amz_date,
                  r->amz_date, r->region, r->service, hash);
    buf_cstr(sts);

    memcpy(kinit, "AWS4", 4);
    memcpy(kinit + 4, r->secret_key, slen + 1);
    if (hmac256(kinit, slen + 4, r->amz_date, 8, k) < 0 ||
        hmac256(k, 32, r->region, strlen(r->region), k) < 0 ||
        hmac256(k, 32, r->service, strlen(r->service), k) < 0 ||
        hmac256(k, 32, "aws4_request", 12, k) < 0 || hmac256(k, 32, sts->p, sts->len, k) < 0) {
        ut_err(err, errlen, "sigv4: HMAC-SHA256 failed in libcrypto");
        goto fail;
    }
    to_hex(k, 32, sig);
    rc = 0;
fail:
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(kinit, slen + 5);
    free(kinit);
    ut_buf_free(&block);
    ut_buf_free(&names);
    return rc;
}

/* Replace dst (if non-NULL) with src as a NUL-terminated text. */
static void copy_out(ut_buf *dst, const ut_buf *src)
{
    if (!dst) return;
    ut_buf_reset(dst);
    ut_buf_put(dst, src->p, src->len);
    buf_cstr(dst);
}

int st_sigv4(const st_sigv4_req *r, ut_buf *canonical, ut_buf *string_to_sign,
             ut_buf *authorization, char *err, size_t errlen)
{
    int rc = -1;
    ut_buf cr = {0}, sts = {0}, block = {0}, names = {0};
    char sig[65];
    if (check_req(r, err, errlen) < 0) goto fail;
    if (sign_core(r, NULL, &cr, &sts, sig, err, errlen) < 0) goto fail;
    if (authorization) {
        if (canonical_headers(r, &block, &names, err, errlen) < 0) goto fail;
        ut_buf_reset(authorization);
        ut_buf_printf(authorization,
                      "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=",
                      r->access_key, r->amz_date, r->region, r->service);
        ut_buf_put(authorization, names.p, names.len);
        ut_buf_printf(authorization, ", Signature=%s", sig);
        buf_cstr(authorization);
    }
    copy_out(canonical, &cr);
    copy_out(string_to_sign, &sts);
    rc = 0;
fail:
    ut_buf_free(&cr);
    ut_buf_free(&sts);
    ut_buf_free(&block);
    ut_buf_free(&names);
    return rc;
}

int st_sigv4_presign(const st_sigv4_req *r, const char *session_token, int expires_s,
                     ut_buf *canonical, ut_buf *string_to_sign, ut_buf *query, char *err,
                     size_t errlen)
{
    int rc = -1;
    ut_buf cr = {0}, sts = {0}, block = {0}, names = {0}, extra = {0};
    char sig[65];
    if (check_req(r, err, errlen) < 0) goto fail;
    if (expires_s < 1 || expires_s > 604800) {
        ut_err(err, errlen, "sigv4: expiry %d s outside 1..604800", expires_s);
        goto fail;
    }
    if (canonical_headers(r, &block, &names, err, errlen) < 0) goto fail;
    ut_buf_printf(&extra, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
    ut_buf cred = {0};
    ut_buf_printf(&cred, "%s/%.8s/%s/%s/aws4_request", r->access_key, r->amz_date, r->region,
                  r->service);
    st__uri_encode(&extra, (const char *)cred.p, cred.len, 0);
    ut_buf_free(&cred);
    ut_buf_printf(&extra, "&X-Amz-Date=%s&X-Amz-Expires=%d", r->amz_date, expires_s);
    if (session_token) {
        ut_buf_puts(&extra, "&X-Amz-Security-Token=");
        st__uri_encode(&extra, session_token, strlen(session_token), 0);
    }
    ut_buf_puts(&extra, "&X-Amz-SignedHeaders=");
    st__uri_encode(&extra, (const char *)names.p, names.len, 0);
    buf_cstr(&extra);
    if (sign_core(r, (const char *)extra.p, &cr, &sts, sig, err, errlen) < 0) goto fail;
    if (query) {
        ut_buf_reset(query);
        if (r->query && r->query[0]) {
            ut_buf_puts(query, r->query);
            ut_buf_putc(query, '&');
        }
        ut_buf_put(query, extra.p, extra.len);
        ut_buf_printf(query, "&X-Amz-Signature=%s", sig);
        buf_cstr(query);
    }
    copy_out(canonical, &cr);
    copy_out(string_to_sign, &sts);
    rc = 0;
fail:
    ut_buf_free(&cr);
    ut_buf_free(&sts);
    ut_buf_free(&block);
    ut_buf_free(&names);
    ut_buf_free(&extra);
    return rc;
}
