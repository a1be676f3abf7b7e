/* Request bodies: decompression with a cap, NDJSON / JSON-array splitting,
 * per-record validation. */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

static const char *reject_names[SV_REJ_COUNT] = {"invalid_json", "not_object", "too_large",
                                                 "too_deep", "transform"};

/* Bytes of transformed records: blocks that never move, so the jr_iov
 * spans into them stay valid while the batch lives. */
typedef struct sv__xblk {
    struct sv__xblk *next;
    size_t len, cap;
    char data[];
} sv__xblk;

#define XBLK_MIN ((size_t)64 << 10)

static const char *xblk_copy(sv_batch *b, const char *p, size_t n)
{
    sv__xblk *k = b->xblk;
    if (!k || k->cap - k->len < n) {
        size_t cap = n > XBLK_MIN ? n : XBLK_MIN;
        k = ut_malloc(sizeof *k + cap);
        k->next = b->xblk, k->len = 0, k->cap = cap;
        b->xblk = k;
    }
    char *dst = k->data + k->len;
    memcpy(dst, p, n);
    k->len += n;
    return dst;
}

const char *sv_reject_name(sv_reject r)
{
    return r < SV_REJ_COUNT ? reject_names[r] : "unknown";
}

static int gunzip_capped(const void *in, size_t n, size_t cap, ut_buf *out, char *err,
                         size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return ut_err(err, errlen, "gzip: cannot initialise");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    int rc = Z_OK, status = 0;
    while (z.avail_in > 0) {
        ut_buf_reserve(out, 64 << 10);
        z.next_out = out->p + out->len;
        z.avail_out = (uInt)(out->cap - out->len);
        size_t before = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += before - z.avail_out;
        if (out->len > cap) {
            status = 413;
            ut_err(err, errlen, "body decompresses to more than %zu bytes", cap);
            break;
        }
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0) break;
            if (inflateReset(&z) != Z_OK) break; /* another gzip member */
            continue;
        }
        if (rc != Z_OK) {
            status = 400;
            ut_err(err, errlen, "body is not valid gzip (%s)", z.msg ? z.msg : "corrupt data");
            break;
        }
    }
    if (!status && rc != Z_STREAM_END) {
        status = 400;
        ut_err(err, errlen, "gzip body is truncated");
    }
    inflateEnd(&z);
    return status;
}

static int unzstd_capped(const void *in, size_t n, size_t cap, ut_buf *out, char *err,
                         size_t errlen)
{
    ZSTD_DStream *d = ZSTD_createDStream();
    if (!d) return ut_err(err, errlen, "zstd: cannot initialise"), 400;
    ZSTD_inBuffer ib = {in, n, 0};
    size_t r = 1;
    int status = 0;
    while (ib.pos < ib.size) {
        ut_buf_reserve(out, 64 << 10);
        ZSTD_outBuffer ob = {out->p + out->len, out->cap - out->len, 0};
        r = ZSTD_decompressStream(d, &ob, &ib);
        out->len += ob.pos;
        if (ZSTD_isError(r)) {
            status = 400;
            ut_err(err, errlen, "body is not valid zstd (%s)", ZSTD_getErrorName(r));
            break;
        }
        if (out->len > cap) {
            status = 413;
            ut_err(err, errlen, "body decompresses to more than %zu bytes", cap);
            break;
        }
        if (ob.pos == 0 && ib.pos == ib.size) break;
    }
    if (!status && r != 0) {
        status = 400;
        ut_err(err, errlen, "zstd body is truncated");
    }
    ZSTD_freeDStream(d);
    return status;
}

static void add_ok(sv_batch *b, const char *p, size_t n)
{
    if (b->nok == b->cap_ok) {
        b->cap_ok = b->cap_ok ? b->cap_ok * 2 : 256;
        b->ok = ut_realloc(b->ok, (size_t)b->cap_ok * sizeof *b->ok);
    }
    b->ok[b->nok].p = p;
    b->ok[b->nok].n = n;
    b->nok++;
    b->nrecords++;
}

static void add_bad(sv_batch *b, int line, sv_reject why, const char *msg, const char *p, size_t n)
{
    if (b->nbad == b->cap_bad) {
        b->cap_bad = b->cap_bad ? b->cap_bad * 2 : 16;
        b->bad = ut_realloc(b->bad, (size_t)b->cap_bad * sizeof *b->bad);
    }
    sv_bad *x = &b->bad[b->nbad++];
    x->index = b->nrecords++;
    x->line = line;
    x->why = why;
    snprintf(x->msg, sizeof x->msg, "%s", msg);
    x->p = p;
    x->n = n;
}

/* A valid record through the stream's transform: kept as it came, kept
 * rewritten, dropped (counted) or filed bad with the transform's reason. */
static void transform(sv_batch *b, int line, const char *rec, size_t n)
{
    const char *out;
    size_t outn;
    char msg[180];
    switch (xf_apply(b->xf, rec, n, &out, &outn, msg, sizeof msg)) {
    case XF_KEEP: add_ok(b, rec, n); break;
    case XF_CHANGED: add_ok(b, xblk_copy(b, out, outn), outn); break;
    case XF_DROP:
        b->ndropped++;
        b->nrecords++;
        break;
    case XF_FAIL: add_bad(b, line, SV_REJ_TRANSFORM, msg, rec, n); break;
    }
}

/* Validate one record and file it as ok or bad. */
void sv_batch_check(js_parser *p, sv_batch *b, const sv_limits *lim, const char *rec,
                         size_t n, int line)
{
    char msg[180];
    if (n > lim->max_record) {
        snprintf(msg, sizeof msg, "record is %zu bytes, over the %zu-byte limit", n,
                 lim->max_record);
        add_bad(b, line, SV_REJ_TOO_LARGE, msg, rec, n);
        return;
    }
    if (js_obj_check(p, rec, n, NULL, msg, sizeof msg) == 0) {
        if (b->xf) transform(b, line, rec, n);
        else add_ok(b, rec, n);
        return;
    }
    js_kind kind;
    char tmp[180];
    sv_reject why = SV_REJ_INVALID_JSON;
    if (js_error_kind(p) == UT_ETOODEEP) why = SV_REJ_TOO_DEEP;
    else if (js_validate(p, rec, n, &kind, tmp, sizeof tmp) == 0 && kind != JS_OBJECT)
        why = SV_REJ_NOT_OBJECT;
    add_bad(b, line, why, msg, rec, n);
}

static int split_ndjson(js_parser *p, sv_batch *b, const sv_limits *lim, char *err, size_t errlen)
{
    const char *s = (const char *)b->plain.p, *end = s + b->plain.len;
    int line = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        line++;
        const char *a = s, *z = e;
        while (a < z && (*a == ' ' || *a == '\t' || *a == '\r')) a++;
        while (z > a && (z[-1] == ' ' || z[-1] == '\t' || z[-1] == '\r')) z--;
        if (a < z) {
            if (b->nrecords >= lim->max_records)
                return ut_err(err, errlen, "more than %d records in one request",
                              lim->max_records), 413;
            sv_batch_check(p, b, lim, a, (size_t)(z - a), line);
        }
        s = nl ? nl + 1 : end;
    }
    return 0;
}

static size_t skip_ws(const char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

#define ELEM_TYPED_DEPTH 256 /* bracket types kept; deeper ones are only counted (too deep) */

/* End of the array element starting at s[i]: the offset of the ',' or ']'
 * that ends it at nesting level 0, or len if none does.  Brackets are
 * matched by type (a bounded stack) and strings skipped without validating
 * anything.  A closer that does not match its opener makes the element bad:
 * the count restarts there, so the element ends at the next ',' of the
 * array's own level and the elements after it are read (each is validated on
 * its own).  A stray '}' at level 0 stays part of the element. */
static size_t element_end(const char *s, size_t i, size_t len)
{
    char open[ELEM_TYPED_DEPTH];
    size_t depth = 0;
    for (; i < len; i++) {
        char ch = s[i];
        if (ch == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\') i++;
            if (i >= len) return len;
        } else if (ch == '{' || ch == '[') {
            if (depth < ELEM_TYPED_DEPTH) open[depth] = ch;
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (!depth) {
                if (ch == ']') return i;
            } else if (depth <= ELEM_TYPED_DEPTH && open[depth - 1] != (ch == '}' ? '{' : '[')) {
                depth = 0; /* mismatch: resync at the array's level */
            } else {
                depth--;
            }
        } else if (ch == ',' && !depth) {
            return i;
        }
    }
    return len;
}

/* A JSON array of records: every element is accounted for, accepted or
 * rejected with its index, even after a malformed one. */
static int split_array(js_parser *p, sv_batch *b, const sv_limits *lim, size_t start, char *err,
                       size_t errlen)
{
    const char *s = (const char *)b->plain.p;
    size_t len = b->plain.len, i = skip_ws(s, start + 1, len);
    if (i < len && s[i] == ']') i = skip_ws(s, i + 1, len); /* [] */
    else
        for (;;) {
            if (b->nrecords >= lim->max_records)
                return ut_err(err, errlen, "more than %d records in one request",
                              lim->max_records), 413;
            size_t e = element_end(s, i, len), z = e;
            while (z > i && (s[z - 1] == ' ' || s[z - 1] == '\t' || s[z - 1] == '\r' ||
                             s[z - 1] == '\n'))
                z--;
            if (e >= len) { /* no ']': a truncated body; its last element is suspect */
                add_bad(b, 0, SV_REJ_INVALID_JSON, "array ends without ']' (body truncated?)",
                        s + i, z - i);
                return 0;
            }
            if (z == i) add_bad(b, 0, SV_REJ_INVALID_JSON, "empty array element", s + i, 0);
            else sv_batch_check(p, b, lim, s + i, z - i, 0);
            i = skip_ws(s, e + 1, len);
            if (s[e] == ']') break;
        }
    if (i < len)
        add_bad(b, 0, SV_REJ_INVALID_JSON, "data after the array's closing ']'", s + i, len - i);
    return 0;
}

int sv_body_parse(js_parser *p, const void *body, size_t len, const char *encoding,
                  const sv_limits *lim, sv_batch *out, char *err, size_t errlen)
{
    int status = 0;
    if (len > lim->max_body)
        return ut_err(err, errlen, "body is %zu bytes, over the %zu-byte limit", len,
                      lim->max_body), 413;
    if (!encoding || !*encoding || !strcasecmp(encoding, "identity")) {
        ut_buf_put(&out->plain, body, len);
    } else if (!strcasecmp(encoding, "gzip") || !strcasecmp(encoding, "x-gzip")) {
        status = gunzip_capped(body, len, lim->max_body, &out->plain, err, errlen);
    } else if (!strcasecmp(encoding, "zstd")) {
        status = unzstd_capped(body, len, lim->max_body, &out->plain, err, errlen);
    } else {
        return ut_err(err, errlen, "Content-Encoding '%s' is not supported (gzip, zstd)",
                      encoding), 415;
    }
    if (status) return status;
    size_t i = 0;
    const uint8_t *q = out->plain.p;
    if (out->plain.len >= 3 && q[0] == 0xEF && q[1] == 0xBB && q[2] == 0xBF) i = 3;
    while (i < out->plain.len && (q[i] == ' ' || q[i] == '\t' || q[i] == '\r' || q[i] == '\n'))
        i++;
    if (i == out->plain.len) return ut_err(err, errlen, "body has no records"), 400;
    status = q[i] == '[' ? split_array(p, out, lim, i, err, errlen)
                         : split_ndjson(p, out, lim, err, errlen);
    if (status) return status;
    if (!out->nrecords) return ut_err(err, errlen, "body has no records"), 400;
    return 0;
}

void sv_batch_free(sv_batch *b)
{
    ut_buf_free(&b->plain);
    free(b->ok);
    free(b->bad);
    while (b->xblk) {
        sv__xblk *k = b->xblk;
        b->xblk = k->next;
        free(k);
    }
    memset(b, 0, sizeof *b);
}
