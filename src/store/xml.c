/* A small, bounded, non-validating XML reader for the few S3 responses we
 * need: ListObjectsV2 pages, <Error> documents, InitiateMultipartUpload and
 * CompleteMultipartUpload results.
 *
 * It tokenises tags, text, CDATA, comments, processing instructions and
 * DOCTYPE (skipped; no entity definitions are honoured, so no expansion
 * attacks), decodes the five predefined entities and numeric character
 * references, ignores attributes and namespaces prefixes are kept as part of
 * the name.  Limits: ST_XML_MAX bytes of input, 32 levels of nesting, element
 * names of 64 bytes, 16 KiB of text per element (more is truncated).  Each
 * element's direct text is handed to a callback when the element ends. */
#include "store/st_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XML_DEPTH 32
#define XML_NAME 64
#define XML_TEXT 16384

typedef int (*xml_cb)(void *ctx, char (*stack)[XML_NAME], int depth, const char *text, size_t tn,
                      int truncated);

/* Append the UTF-8 encoding of code point cp.  0 or -1 for an invalid one. */
static int put_utf8(ut_buf *b, unsigned long cp)
{
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return -1;
    if (cp < 0x80) {
        ut_buf_putc(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        ut_buf_putc(b, (uint8_t)(0xC0 | (cp >> 6)));
        ut_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        ut_buf_putc(b, (uint8_t)(0xE0 | (cp >> 12)));
        ut_buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        ut_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3F)));
    } else {
        ut_buf_putc(b, (uint8_t)(0xF0 | (cp >> 18)));
        ut_buf_putc(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3F)));
        ut_buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        ut_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3F)));
    }
    return 0;
}

/* Append text s[0..n) with entities decoded.  0 or -1. */
static int decode_text(ut_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '&') {
            ut_buf_putc(b, (uint8_t)s[i]);
            continue;
        }
        const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
        if (!semi) return -1;
        const char *ent = s + i + 1;
        size_t en = (size_t)(semi - ent);
        if (en == 2 && !memcmp(ent, "lt", 2)) ut_buf_putc(b, '<');
        else if (en == 2 && !memcmp(ent, "gt", 2)) ut_buf_putc(b, '>');
        else if (en == 3 && !memcmp(ent, "amp", 3)) ut_buf_putc(b, '&');
        else if (en == 4 && !memcmp(ent, "quot", 4)) ut_buf_putc(b, '"');
        else if (en == 4 && !memcmp(ent, "apos", 4)) ut_buf_putc(b, '\'');
        else if (en >= 2 && ent[0] == '#') {
            unsigned long cp = 0;
            int hex = ent[1] == 'x' || ent[1] == 'X';
            size_t j = hex ? 2 : 1;
            if (j >= en) return -1;
            for (; j < en; j++) {
                char c = ent[j];
                int d;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
                else return -1;
                cp = cp * (hex ? 16 : 10) + (unsigned long)d;
                if (cp > 0x10FFFF) return -1;
            }
            if (put_utf8(b, cp) < 0) return -1;
        } else {
            return -1;
        }
        i = (size_t)(semi - s);
    }
    return 0;
}

static const char *find(const char *p, const char *e, const char *what)
{
    size_t wn = strlen(what);
    for (; p + wn <= e; p++)
        if (*p == what[0] && !memcmp(p, what, wn)) return p;
    return NULL;
}

static int is_name_end(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/';
}

/* Walk the document; cb at each element end (stop when it returns non-zero,
 * which xml_walk returns).  0 at the end of a well-formed document, -1 with
 * a message otherwise. */
static int xml_walk(const char *xml, size_t n, xml_cb cb, void *ctx, char *err, size_t errlen)
{
    int rc = -1, depth = 0, seen_root = 0;
    char stack[XML_DEPTH][XML_NAME];
    ut_buf text[XML_DEPTH];
    int trunc[XML_DEPTH];
    memset(text, 0, sizeof text);
    memset(trunc, 0, sizeof trunc);
    const char *p = xml, *e = xml + n;
    if (n > ST_XML_MAX) {
        ut_err(err, errlen, "XML response larger than %u bytes", ST_XML_MAX);
        goto fail;
    }
    while (p < e) {
        if (*p != '<') {
            const char *lt = memchr(p, '<', (size_t)(e - p));
            if (!lt) lt = e;
            if (depth > 0) {
                ut_buf *t = &text[depth - 1];
                size_t before = t->len;
                if (decode_text(t, p, (size_t)(lt - p)) < 0) {
                    ut_err(err, errlen, "XML: bad entity in <%s>", stack[depth - 1]);
                    goto fail;
                }
                if (t->len > XML_TEXT) {
                    ut_buf_truncate(t, before > XML_TEXT ? before : XML_TEXT);
                    trunc[depth - 1] = 1;
                }
            } else {
                for (const char *q = p; q < lt; q++)
                    if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
                        ut_err(err, errlen, "XML: text outside the root element");
                        goto fail;
                    }
            }
            p = lt;
            continue;
        }
        if (e - p >= 2 && p[1] == '?') {
            const char *q = find(p + 2, e, "?>");
            if (!q) goto truncated;
            p = q + 2;
        } else if (e - p >= 4 && !memcmp(p, "<!--", 4)) {
            const char *q = find(p + 4, e, "-->");
            if (!q) goto truncated;
            p = q + 3;
        } else if (e - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
            const char *q = find(p + 9, e, "]]>");
            if (!q) goto truncated;
            if (depth > 0) {
                ut_buf *t = &text[depth - 1];
                size_t room = t->len < XML_TEXT ? XML_TEXT - t->len : 0, cn = (size_t)(q - p - 9);
                if (cn > room) {
                    cn = room;
                    trunc[depth - 1] = 1;
                }
                ut_buf_put(t, p + 9, cn);
            }
            p = q + 3;
        } else if (e - p >= 2 && p[1] == '!') {
            const char *q = memchr(p, '>', (size_t)(e - p));
            if (!q) goto truncated;
            p = q + 1;
        } else if (e - p >= 2 && p[1] == '/') {
            const char *ns = p + 2, *q = ns;
            while (q < e && !is_name_end(*q)) q++;
            size_t nl = (size_t)(q - ns);
            while (q < e && *q != '>') q++;
            if (q >= e) goto truncated;
            if (depth == 0 || nl != strlen(stack[depth - 1]) || memcmp(ns, stack[depth - 1], nl)) {
                ut_err(err, errlen, "XML: unexpected </%.*s>", (int)(nl < 64 ? nl : 64), ns);
                goto fail;
            }
            ut_buf *t = &text[depth - 1];
            assert(depth <= XML_DEPTH && t->len <= XML_TEXT + 4);
            int r = cb(ctx, stack, depth, ut_buf_cstr(t), t->len, trunc[depth - 1]);
            ut_buf_reset(t);
            trunc[depth - 1] = 0;
            depth--;
            p = q + 1;
            if (r) {
                rc = r;
                goto fail;
            }
        } else {
            const char *ns = p + 1, *q = ns;
            while (q < e && !is_name_end(*q)) q++;
            size_t nl = (size_t)(q - ns);
            char quote = 0;
            while (q < e && (quote || *q != '>')) {
                if (quote && *q == quote) quote = 0;
                else if (!quote && (*q == '"' || *q == '\'')) quote = *q;
                q++;
            }
            if (q >= e) goto truncated;
            int selfclose = q[-1] == '/';
            if (nl == 0 || nl >= XML_NAME) {
                ut_err(err, errlen, "XML: element name empty or longer than %d bytes", XML_NAME - 1);
                goto fail;
            }
            if (depth == 0 && seen_root) {
                ut_err(err, errlen, "XML: more than one root element");
                goto fail;
            }
            if (depth == XML_DEPTH) {
                ut_err(err, errlen, "XML: nested deeper than %d", XML_DEPTH);
                goto fail;
            }
            memcpy(stack[depth], ns, nl);
            stack[depth][nl] = 0;
            ut_buf_reset(&text[depth]);
            trunc[depth] = 0;
            depth++;
            seen_root = 1;
            p = q + 1;
            if (selfclose) {
                int r = cb(ctx, stack, depth, "", 0, 0);
                depth--;
                if (r) {
                    rc = r;
                    goto fail;
                }
            }
        }
    }
    if (depth || !seen_root) goto truncated;
    rc = 0;
    goto fail;
truncated:
    ut_err(err, errlen, "XML: document ends early");
fail:
    for (int i = 0; i < XML_DEPTH; i++) ut_buf_free(&text[i]);
    return rc;
}

/* ---- ListObjectsV2 ------------------------------------------------------------ */

typedef struct list_ctx {
    st_xml_list *l;
    st_xml_obj cur;
    int have_size, have_key;
    char *err;
    size_t errlen;
    int failed;
} list_ctx;

static int list_cb(void *vctx, char (*stack)[XML_NAME], int depth, const char *text, size_t tn,
                   int truncated)
{
    list_ctx *c = vctx;
    if (strcmp(stack[0], "ListBucketResult")) {
        c->failed = 1;
        return ut_err(c->err, c->errlen, "XML: expected <ListBucketResult>, got <%s>", stack[0]);
    }
    if (depth == 3 && !strcmp(stack[1], "Contents")) {
        const char *name = stack[2];
        if (!strcmp(name, "Key")) {
            if (truncated || tn > ST_KEY_MAX || tn == 0 || memchr(text, 0, tn)) {
                c->failed = 1;
                return ut_err(c->err, c->errlen, "XML: a listed key is empty or longer than %d bytes",
                              ST_KEY_MAX);
            }
            free(c->cur.key);
            c->cur.key = ut_strndup(text, tn);
            c->have_key = 1;
        } else if (!strcmp(name, "Size")) {
            char *end;
            if (!tn || text[0] < '0' || text[0] > '9') goto bad_size;
            errno = 0;
            unsigned long long v = strtoull(text, &end, 10);
            if (*end || errno == ERANGE) goto bad_size;
            c->cur.size = v;
            c->have_size = 1;
        } else if (!strcmp(name, "LastModified")) {
            int64_t us;
            if (ut_ts_parse(text, tn, &us) < 0) {
                c->failed = 1;
                return ut_err(c->err, c->errlen, "XML: bad LastModified %.40s", text);
            }
            c->cur.mtime_ms = us / 1000;
        }
        return 0;
    }
    if (depth == 2 && !strcmp(stack[1], "Contents")) {
        if (!c->have_key || !c->have_size) {
            c->failed = 1;
            return ut_err(c->err, c->errlen, "XML: <Contents> without Key or Size");
        }
        st_xml_list *l = c->l;
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 64;
            l->v = ut_realloc(l->v, l->cap * sizeof *l->v);
        }
        l->v[l->n++] = c->cur;
        memset(&c->cur, 0, sizeof c->cur);
        c->have_key = c->have_size = 0;
        return 0;
    }
    if (depth == 2 && !strcmp(stack[1], "IsTruncated")) {
        c->l->truncated = tn == 4 && !memcmp(text, "true", 4);
    } else if (depth == 2 && !strcmp(stack[1], "NextContinuationToken")) {
        if (truncated) {
            c->failed = 1;
            return ut_err(c->err, c->errlen, "XML: continuation token longer than %d bytes",
                          XML_TEXT);
        }
        free(c->l->next_token);
        c->l->next_token = ut_strndup(text, tn);
    }
    return 0;
bad_size:
    c->failed = 1;
    return ut_err(c->err, c->errlen, "XML: bad Size %.40s", text);
}

int st__xml_list_page(const char *xml, size_t n, st_xml_list *l, char *err, size_t errlen)
{
    list_ctx c = {.l = l, .err = err, .errlen = errlen};
    free(l->next_token);
    l->next_token = NULL;
    l->truncated = 0;
    int r = xml_walk(xml, n, list_cb, &c, err, errlen);
    free(c.cur.key);
    if (r != 0 || c.failed) return -1;
    if (l->truncated && (!l->next_token || !l->next_token[0]))
        return ut_err(err, errlen, "XML: IsTruncated without NextContinuationToken");
    return 0;
}

void st__xml_list_free(st_xml_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i].key);
    free(l->v);
    free(l->next_token);
    memset(l, 0, sizeof *l);
}

/* ---- ListMultipartUploads ------------------------------------------------------ */

typedef struct uploads_ctx {
    st_xml_uploads *u;
    st_xml_upload cur;
    char *err;
    size_t errlen;
    int failed;
} uploads_ctx;

static int uploads_fail(uploads_ctx *c, const char *what)
{
    c->failed = 1;
    return ut_err(c->err, c->errlen, "XML: %s", what);
}

static int uploads_cb(void *vctx, char (*stack)[XML_NAME], int depth, const char *text,
                      size_t tn, int truncated)
{
    uploads_ctx *c = vctx;
    if (strcmp(stack[0], "ListMultipartUploadsResult"))
        return uploads_fail(c, "expected <ListMultipartUploadsResult>");
    if (depth == 3 && !strcmp(stack[1], "Upload")) {
        const char *name = stack[2];
        int bad = truncated || tn > ST_KEY_MAX || memchr(text, 0, tn) != NULL;
        if (!strcmp(name, "Key")) {
            if (bad || !tn) return uploads_fail(c, "an upload's Key is empty or too long");
            free(c->cur.key);
            c->cur.key = ut_strndup(text, tn);
        } else if (!strcmp(name, "UploadId")) {
            if (bad || !tn) return uploads_fail(c, "an UploadId is empty or too long");
            free(c->cur.id);
            c->cur.id = ut_strndup(text, tn);
        } else if (!strcmp(name, "Initiated")) {
            int64_t us;
            if (ut_ts_parse(text, tn, &us) < 0) return uploads_fail(c, "bad Initiated");
            c->cur.initiated_ms = us / 1000;
        }
        return 0;
    }
    if (depth == 2 && !strcmp(stack[1], "Upload")) {
        if (!c->cur.key || !c->cur.id) return uploads_fail(c, "<Upload> without Key or UploadId");
        st_xml_uploads *u = c->u;
        if (u->n == u->cap) {
            u->cap = u->cap ? u->cap * 2 : 64;
            u->v = ut_realloc(u->v, u->cap * sizeof *u->v);
        }
        u->v[u->n++] = c->cur;
        memset(&c->cur, 0, sizeof c->cur);
        return 0;
    }
    if (depth != 2) return 0;
    char **dst = !strcmp(stack[1], "NextKeyMarker")        ? &c->u->next_key
                 : !strcmp(stack[1], "NextUploadIdMarker") ? &c->u->next_id
                                                           : NULL;
    if (dst) {
        if (truncated) return uploads_fail(c, "a marker longer than 16 KiB");
        free(*dst);
        *dst = ut_strndup(text, tn);
    } else if (!strcmp(stack[1], "IsTruncated")) {
        c->u->truncated = tn == 4 && !memcmp(text, "true", 4);
    }
    return 0;
}

int st__xml_uploads_page(const char *xml, size_t n, st_xml_uploads *u, char *err,
                         size_t errlen)
{
    uploads_ctx c = {.u = u, .err = err, .errlen = errlen};
    int r = xml_walk(xml, n, uploads_cb, &c, err, errlen);
    free(c.cur.key);
    free(c.cur.id);
    return r != 0 || c.failed ? -1 : 0;
}

void st__xml_uploads_free(st_xml_uploads *u)
{
    for (size_t i = 0; i < u->n; i++) {
        free(u->v[i].key);
        free(u->v[i].id);
    }
    free(u->v);
    free(u->next_key);
    free(u->next_id);
    memset(u, 0, sizeof *u);
}

/* ---- single values ------------------------------------------------------------- */

typedef struct text_ctx {
    const char *name; /* element to find */
    const char *root; /* required root, or NULL */
    int depth;        /* required depth, or 0 for any */
    char *out;
    size_t outlen;
} text_ctx;

static int text_cb(void *vctx, char (*stack)[XML_NAME], int depth, const char *text, size_t tn,
                   int truncated)
{
    text_ctx *c = vctx;
    (void)truncated;
    if (c->root && strcmp(stack[0], c->root)) return 2; /* wrong document */
    if ((c->depth && depth != c->depth) || strcmp(stack[depth - 1], c->name)) return 0;
    if (c->outlen) {
        size_t k = tn < c->outlen - 1 ? tn : c->outlen - 1;
        memcpy(c->out, text, k);
        c->out[k] = 0;
    }
    return 1;
}

int st__xml_text(const char *xml, size_t n, const char *name, char *out, size_t outlen)
{
    text_ctx c = {name, NULL, 0, out, outlen};
    char err[64];
    if (outlen) out[0] = 0;
    return xml_walk(xml, n, text_cb, &c, err, sizeof err) == 1;
}

int st__xml_error(const char *xml, size_t n, char *code, size_t codelen, char *msg,
                  size_t msglen)
{
    char err[64];
    if (codelen) code[0] = 0;
    if (msglen) msg[0] = 0;
    text_ctx c = {"Code", "Error", 2, code, codelen};
    if (xml_walk(xml, n, text_cb, &c, err, sizeof err) != 1) return 0;
    text_ctx m = {"Message", "Error", 2, msg, msglen};
    (void)xml_walk(xml, n, text_cb, &m, err, sizeof err);
    return 1;
}
