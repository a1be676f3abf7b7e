/* collect: a streaming JSON scanner for response bodies.
 *
 * The body arrives in chunks of any size.  The scanner checks the JSON
 * grammar byte by byte with a pushdown state machine (strings and their
 * escapes, numbers, literals, nesting up to CL__MAX_DEPTH) and keeps
 * nothing of the body but:
 *
 *   - the elements of the array at the records path: each element's text
 *     is cut out as it passes (copied span by span, at most max_record
 *     bytes), checked as an object by src/json (js_obj_check: UTF-8,
 *     escapes, numbers, depth) and handed to the record callback;
 *   - the values at up to CL__MAX_TARGETS - 1 other paths (paging.next, a
 *     cursor, a report id or state), each at most CL__MAX_VALUE bytes,
 *     decoded by src/json when they are strings.
 *
 * Paths are object keys only ("paging.next"); a key is compared after
 * unescaping.  Which paths the current position still lies on is a bit mask
 * per nesting level, so a key is compared only where a path can go on.  A
 * record's newlines (pretty-printed input) become spaces: in valid JSON they
 * are never inside a string, and a record must fit on one NDJSON line. */
#include "collect/cl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { J_VALUE, J_ARR_FIRST, J_OBJ_FIRST, J_KEY, J_COLON, J_AFTER, J_STR, J_NUM, J_LIT, J_DONE };

struct cl__jscan {
    cl__path path[CL__MAX_TARGETS];
    int ntarget, rec_t;            /* rec_t: the records target, or -1 */
    uint8_t at_depth[CL__MAX_SEGS + 1]; /* targets whose path has d keys */
    size_t max_record;
    js_parser *jp;
    cl__emit_fn emit;
    void *ectx;
    /* grammar */
    int st, esc, key;              /* esc: 1 after '\', 2..5 in \uXXXX; key: a key string */
    const char *lit;               /* J_LIT: the literal, lit_pos matched */
    int lit_pos;
    char num[JS_MAX_NUMBER_LEN + 1];
    size_t num_len;
    int depth;
    uint8_t kind[CL__MAX_DEPTH];   /* '{' or '[' per level */
    uint8_t mask[CL__MAX_SEGS + 2]; /* paths the container at level L lies on */
    uint8_t vmask;                 /* paths the next value lies on */
    int rec_depth;                 /* level of the records array, 0: none open */
    int64_t off, nrec;             /* bytes consumed; records emitted */
    int bom;                       /* BOM bytes matched; 3: past it */
    /* the key being read */
    char kbuf[CL__MAX_KEY];
    size_t klen;
    int kover, kesc;
    /* the value being cut out: a record (rtarget -1) or a kept value */
    int recording, rtarget, rdepth;
    size_t rfrom;
    ut_buf rbuf;
    ut_buf val[CL__MAX_TARGETS];
    int have[CL__MAX_TARGETS];
    ut_buf tmp;
};

static int fail(cl__jscan *s, size_t i, char *err, size_t errlen, const char *what)
{
    ut_err(err, errlen, "%s at byte %lld", what, (long long)(s->off + (int64_t)i + 1));
    return CL__BAD;
}

cl__jscan *cl__jscan_create(const char *records, const char *const *keep, int nkeep,
                            size_t max_record, char *err, size_t errlen)
{
    if (nkeep < 0 || nkeep > CL__MAX_TARGETS - 1) {
        ut_err(err, errlen, "too many JSON paths");
        return NULL;
    }
    cl__jscan *s = ut_calloc(1, sizeof *s);
    s->rec_t = -1;
    for (int i = 0; i < nkeep + 1; i++) {
        const char *p = i < nkeep ? keep[i] : records;
        if (!p) continue;
        if (cl__path_parse(&s->path[s->ntarget], p, err, errlen)) goto bad;
        if (i == nkeep) s->rec_t = s->ntarget;
        s->ntarget++;
    }
    if (s->rec_t >= 0) /* a kept value must not hold the records, nor lie in them */
        for (int t = 0; t < s->rec_t; t++) {
            const cl__path *a = &s->path[t], *r = &s->path[s->rec_t];
            int n = a->n < r->n ? a->n : r->n, prefix = 1;
            for (int k = 0; prefix && k < n; k++)
                prefix = a->len[k] == r->len[k] && !memcmp(a->seg[k], r->seg[k], a->len[k]);
            if (prefix) {
                ut_err(err, errlen, "JSON path '%s' %s the records at '%s'", keep[t],
                       a->n <= r->n ? "holds" : "lies inside", records);
                goto bad;
            }
        }
    for (int t = 0; t < s->ntarget; t++) s->at_depth[s->path[t].n] |= (uint8_t)(1u << t);
    s->max_record = max_record;
    s->jp = js_parser_create(max_record, 0);
    s->rbuf.max = max_record > CL__MAX_VALUE ? max_record : CL__MAX_VALUE;
    cl__jscan_reset(s);
    return s;
bad:
    free(s);
    return NULL;
}

void cl__jscan_destroy(cl__jscan *s)
{
    if (!s) return;
    js_parser_destroy(s->jp);
    ut_buf_free(&s->rbuf);
    ut_buf_free(&s->tmp);
    for (int i = 0; i < CL__MAX_TARGETS; i++) ut_buf_free(&s->val[i]);
    free(s);
}

void cl__jscan_reset(cl__jscan *s)
{
    s->st = J_VALUE;
    s->esc = s->key = s->depth = s->rec_depth = s->recording = 0;
    s->vmask = (uint8_t)((1u << s->ntarget) - 1);
    s->off = s->nrec = 0;
    s->num_len = 0;
    s->bom = 0;
    ut_buf_reset(&s->rbuf);
    for (int i = 0; i < CL__MAX_TARGETS; i++) ut_buf_reset(&s->val[i]), s->have[i] = 0;
}

void cl__jscan_on_record(cl__jscan *s, cl__emit_fn fn, void *ctx)
{
    s->emit = fn;
    s->ectx = ctx;
}

int64_t cl__jscan_records(const cl__jscan *s) { return s->nrec; }

const char *cl__jscan_value(const cl__jscan *s, int i, size_t *n)
{
    if (i < 0 || i >= s->ntarget || i == s->rec_t || !s->have[i]) return NULL;
    *n = s->val[i].len;
    return ut_buf_cstr(&s->val[i]);
}

/* Decode one JSON value text through src/json: wrapped as {"v":...}.
 * JS_NULL when it is null.  0 / -1. */
static int decode(cl__jscan *s, const char *t, size_t n, ut_buf *out, js_kind *kind,
                  char *err, size_t errlen)
{
    ut_buf_reset(&s->tmp);
    ut_buf_puts(&s->tmp, "{\"v\":");
    ut_buf_put(&s->tmp, t, n);
    ut_buf_putc(&s->tmp, '}');
    js_field f;
    if (js_obj_begin(s->jp, (const char *)s->tmp.p, s->tmp.len, err, errlen) ||
        js_obj_next(s->jp, &f, err, errlen) != 1)
        return -1;
    *kind = f.v.kind;
    ut_buf_reset(out);
    ut_buf_put(out, f.v.s, f.v.n);
    return 0;
}

/* The cut-out value is complete in rbuf. */
static int finish_recording(cl__jscan *s, size_t i, char *err, size_t errlen)
{
    s->recording = 0;
    char e[200];
    if (s->rtarget < 0) {
        s->nrec++;
        if (js_obj_check(s->jp, (const char *)s->rbuf.p, s->rbuf.len, NULL, e, sizeof e)) {
            ut_err(err, errlen, "record %lld (ending at byte %lld): %s", (long long)s->nrec,
                   (long long)(s->off + (int64_t)i), e);
            return CL__BAD;
        }
        for (uint8_t *p = s->rbuf.p, *end = p + s->rbuf.len; (p = memchr(p, '\n', (size_t)(end - p)));)
            *p = ' ';
        for (uint8_t *p = s->rbuf.p, *end = p + s->rbuf.len; (p = memchr(p, '\r', (size_t)(end - p)));)
            *p = ' ';
        if (s->emit && s->emit(s->ectx, (const char *)s->rbuf.p, s->rbuf.len)) return CL__STOP;
        return CL__OK;
    }
    int t = s->rtarget;
    js_kind k;
    if (decode(s, (const char *)s->rbuf.p, s->rbuf.len, &s->val[t], &k, e, sizeof e)) {
        ut_err(err, errlen, "the value at '%s' (ending at byte %lld): %s", s->path[t].buf,
               (long long)(s->off + (int64_t)i), e);
        return CL__BAD;
    }
    s->have[t] = k != JS_NULL;
    return CL__OK;
}

/* Append p[rfrom..end) to the value being cut out. */
static int record_span(cl__jscan *s, const char *p, size_t end, char *err, size_t errlen)
{
    size_t cap = s->rtarget < 0 ? s->max_record : CL__MAX_VALUE;
    if (end > s->rfrom) {
        if (s->rbuf.len + (end - s->rfrom) > cap) {
            if (s->rtarget < 0)
                ut_err(err, errlen, "record %lld is over the %zu-byte record cap",
                       (long long)s->nrec + 1, cap);
            else
                ut_err(err, errlen, "the value at '%s' is over %zu bytes", s->path[s->rtarget].buf,
                       cap);
            return CL__BAD;
        }
        ut_buf_put(&s->rbuf, p + s->rfrom, end - s->rfrom);
    }
    s->rfrom = end;
    return CL__OK;
}

/* A value that began at the current depth ended just before p[end]. */
static int value_end(cl__jscan *s, const char *p, size_t end, char *err, size_t errlen)
{
    s->st = s->depth ? J_AFTER : J_DONE;
    if (!s->recording || s->rdepth != s->depth) return CL__OK;
    int rc = p ? record_span(s, p, end, err, errlen) : CL__OK;
    return rc ? rc : finish_recording(s, end, err, errlen);
}

/* A value starts with p[i] = c at the current depth. */
static int value_start(cl__jscan *s, const char *p, size_t i, char *err, size_t errlen)
{
    char c = p[i];
    uint8_t hit = s->depth <= CL__MAX_SEGS ? s->vmask & s->at_depth[s->depth] : 0;
    if (s->rec_depth && s->depth == s->rec_depth) { /* an element of the records */
        if (c != '{') return fail(s, i, err, errlen, "a record that is not a JSON object");
        s->recording = 1, s->rtarget = -1, s->rdepth = s->depth, s->rfrom = i;
        ut_buf_reset(&s->rbuf);
    } else if (hit & ~(s->rec_t >= 0 ? 1u << s->rec_t : 0u)) {
        int t = __builtin_ctz(hit & ~(s->rec_t >= 0 ? 1u << s->rec_t : 0u));
        s->recording = 1, s->rtarget = t, s->rdepth = s->depth, s->rfrom = i;
        ut_buf_reset(&s->rbuf);
    }
    int records_here = s->rec_t >= 0 && (hit >> s->rec_t & 1);
    if (records_here && c != '[' && c != 'n')
        return fail(s, i, err, errlen, "the value at the records path is not an array");
    if (c == '{' || c == '[') {
        if (s->depth == CL__MAX_DEPTH) return fail(s, i, err, errlen, "JSON nested too deep");
        s->kind[s->depth++] = (uint8_t)c;
        if (s->depth <= CL__MAX_SEGS + 1)
            s->mask[s->depth] = c == '{' ? s->vmask & (uint8_t)~hit : 0;
        if (c == '[' && records_here) s->rec_depth = s->depth;
        s->st = c == '{' ? J_OBJ_FIRST : J_ARR_FIRST;
        s->vmask = 0;
    } else if (c == '"') {
        s->st = J_STR, s->key = 0, s->esc = 0;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        s->st = J_NUM, s->num[0] = c, s->num_len = 1;
    } else if (c == 't' || c == 'f' || c == 'n') {
        s->st = J_LIT, s->lit = c == 't' ? "true" : c == 'f' ? "false" : "null", s->lit_pos = 1;
    } else {
        return fail(s, i, err, errlen, "expected a JSON value");
    }
    return CL__OK;
}

/* The key just read: which paths go on into its value. */
static void key_done(cl__jscan *s)
{
    uint8_t m = s->depth <= CL__MAX_SEGS ? s->mask[s->depth] : 0, child = 0;
    const char *k = s->kbuf;
    size_t kl = s->klen;
    if (m && !s->kover && s->kesc) { /* compare the unescaped key */
        ut_buf raw = {0}, dec = {0};
        ut_buf_putc(&raw, '"');
        ut_buf_put(&raw, s->kbuf, s->klen);
        ut_buf_putc(&raw, '"');
        js_kind kind;
        char e[64];
        if (decode(s, (const char *)raw.p, raw.len, &dec, &kind, e, sizeof e) == 0 &&
            dec.len < sizeof s->kbuf) {
            memcpy(s->kbuf, dec.p, dec.len);
            kl = dec.len;
        } else {
            m = 0;
        }
        ut_buf_free(&raw);
        ut_buf_free(&dec);
    }
    for (int t = 0; m && !s->kover && t < s->ntarget; t++) {
        const cl__path *p = &s->path[t];
        int L = s->depth - 1; /* the key's index in a path */
        if ((m >> t & 1) && p->n > L && p->len[L] == kl && !memcmp(p->seg[L], k, kl))
            child |= (uint8_t)(1u << t);
    }
    s->vmask = child;
}

/* Inside a string at p[i]: consume as much as possible.  Returns the index
 * after what was consumed, or (size_t)-1 on an error. */
static size_t in_string(cl__jscan *s, const char *p, size_t i, size_t n, char *err,
                        size_t errlen, int *rc)
{
    size_t j = i;
    if (!s->esc)
        while (j < n && p[j] != '"' && p[j] != '\\' && (unsigned char)p[j] >= 0x20) j++;
    if (s->key && j > i) {
        if (s->klen + (j - i) > sizeof s->kbuf) s->kover = 1;
        else memcpy(s->kbuf + s->klen, p + i, j - i), s->klen += j - i;
    }
    if (j == n) return j;
    unsigned char c = (unsigned char)p[j];
    if (s->esc == 1) {
        if (!strchr("\"\\/bfnrtu", c) || !c) return *rc = fail(s, j, err, errlen, "bad escape"), (size_t)-1;
        s->esc = c == 'u' ? 2 : 0;
    } else if (s->esc >= 2) {
        if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')))
            return *rc = fail(s, j, err, errlen, "bad \\u escape"), (size_t)-1;
        s->esc = s->esc == 5 ? 0 : s->esc + 1;
    } else if (c == '\\') {
        s->esc = 1, s->kesc = 1;
    } else if (c < 0x20) {
        return *rc = fail(s, j, err, errlen, "control character in a string"), (size_t)-1;
    } else { /* the closing quote */
        if (s->key) {
            key_done(s);
            s->st = J_COLON;
        } else if ((*rc = value_end(s, p, j + 1, err, errlen))) {
            return (size_t)-1;
        }
        return j + 1;
    }
    if (s->key) { /* the escape's byte belongs to the key too */
        if (s->klen + 1 > sizeof s->kbuf) s->kover = 1;
        else s->kbuf[s->klen++] = (char)c;
    }
    return j + 1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_ok(const char *t, size_t n)
{
    size_t i = 0;
    if (i < n && t[i] == '-') i++;
    if (i < n && t[i] == '0') i++;
    else if (i < n && t[i] >= '1' && t[i] <= '9') while (i < n && t[i] >= '0' && t[i] <= '9') i++;
    else return 0;
    if (i < n && t[i] == '.') {
        size_t d = ++i;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++;
        if (i == d) return 0;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-')) i++;
        size_t d = i;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++;
        if (i == d) return 0;
    }
    return i == n;
}

/* Structural bytes: whitespace, ',', ':', closing brackets, value starts. */
static int structural(cl__jscan *s, const char *p, size_t i, char *err, size_t errlen)
{
    char c = p[i];
    switch (s->st) {
    case J_DONE: return fail(s, i, err, errlen, "data after the JSON value");
    case J_COLON:
        if (c != ':') return fail(s, i, err, errlen, "expected ':' after a key");
        s->st = J_VALUE;
        return CL__OK;
    case J_OBJ_FIRST: case J_KEY:
        if (c == '}' && s->st == J_OBJ_FIRST) break;
        if (c != '"') return fail(s, i, err, errlen, "expected a key");
        s->st = J_STR, s->key = 1, s->esc = 0, s->klen = 0, s->kover = 0, s->kesc = 0;
        return CL__OK;
    case J_ARR_FIRST:
        if (c == ']') break;
        /* fall through */
    case J_VALUE:
        return value_start(s, p, i, err, errlen);
    case J_AFTER:
        if (c == ',') {
            s->st = s->kind[s->depth - 1] == '{' ? J_KEY : J_VALUE;
            s->vmask = 0;
            return CL__OK;
        }
        if (c != '}' && c != ']') return fail(s, i, err, errlen, "expected ',' or a closing bracket");
        break;
    }
    /* a closing bracket */
    if ((c == '}') != (s->kind[s->depth - 1] == '{'))
        return fail(s, i, err, errlen, "mismatched closing bracket");
    if (s->rec_depth == s->depth) s->rec_depth = 0;
    s->depth--;
    return value_end(s, p, i + 1, err, errlen);
}

int cl__jscan_feed(cl__jscan *s, const char *p, size_t n, char *err, size_t errlen)
{
    size_t i = 0;
    int rc = CL__OK;
    if (s->recording) s->rfrom = 0;
    while (i < n) {
        char c = p[i];
        if (s->st == J_STR) {
            i = in_string(s, p, i, n, err, errlen, &rc);
            if (i == (size_t)-1) return rc;
            continue;
        }
        if (s->st == J_NUM) {
            if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
                if (s->num_len == JS_MAX_NUMBER_LEN) return fail(s, i, err, errlen, "number too long");
                s->num[s->num_len++] = c;
                i++;
                continue;
            }
            if (!number_ok(s->num, s->num_len)) return fail(s, i, err, errlen, "bad number");
            if ((rc = value_end(s, p, i, err, errlen))) return rc;
            continue; /* c is looked at again */
        }
        if (s->st == J_LIT) {
            if (c != s->lit[s->lit_pos]) return fail(s, i, err, errlen, "bad literal");
            i++;
            if (!s->lit[++s->lit_pos] && (rc = value_end(s, p, i, err, errlen))) return rc;
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            i++;
            continue;
        }
        if (s->bom < 3 && s->off + (int64_t)i == s->bom) { /* a UTF-8 BOM first */
            if ((unsigned char)c == (unsigned char)"\xef\xbb\xbf"[s->bom]) {
                s->bom++, i++;
                continue;
            }
            if (s->bom) return fail(s, i, err, errlen, "a broken byte order mark");
            s->bom = 3;
        }
        if ((rc = structural(s, p, i, err, errlen))) return rc;
        i++;
    }
    if (s->recording && (rc = record_span(s, p, n, err, errlen))) return rc;
    s->off += (int64_t)n;
    return CL__OK;
}

int cl__jscan_end(cl__jscan *s, char *err, size_t errlen)
{
    if (s->st == J_NUM) {
        if (!number_ok(s->num, s->num_len)) return fail(s, 0, err, errlen, "bad number");
        int rc = value_end(s, NULL, 0, err, errlen);
        if (rc) return rc;
    }
    if (s->st == J_DONE) return CL__OK;
    if (s->off == 0) return ut_err(err, errlen, "empty body, expected JSON"), CL__BAD;
    return ut_err(err, errlen, "the JSON body ends early at byte %lld", (long long)s->off), CL__BAD;
}
