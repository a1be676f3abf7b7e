/* collect: one response body, from the bytes libcurl pushes to records.
 *
 *   bytes ──► gzip? (the first two bytes are 1f 8b: a gzip file, whatever
 *             the headers say; members one after another are read on)
 *         ──► inflate into a 64 KiB window, window by window
 *         ──► the format's splitter: JSON (cl__jscan, owned by the caller so
 *             that it keeps the values pagination needs), NDJSON lines
 *             (each checked as an object by src/json), CSV / TSV (cl__csv)
 *         ──► the emit callback, one record at a time
 *
 * Nothing grows with the body: the inflate window, one NDJSON line (at most
 * max_record bytes) and what the splitters keep. */
#include "collect/cl_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define WINDOW (64u << 10)

struct cl__body {
    cl_format fmt;
    cl__jscan *js;
    cl__csv *csv;
    js_parser *jp;
    size_t max_record;
    cl__emit_fn emit;
    void *ctx;
    int gz;              /* -1 undecided, 0 plain, 1 gzip */
    unsigned char head;  /* a first byte 1f held back until the second came */
    int nhead;
    z_stream z;
    int zinit, zend;     /* zend: a member ended, the next may start */
    unsigned char *win;
    ut_buf line;         /* NDJSON: a line that spans chunks */
    int64_t nrec, lineno;
};

cl__body *cl__body_create(cl_format fmt, cl__jscan *js, size_t max_record, cl__emit_fn fn,
                          void *ctx)
{
    assert(fmt != CL_FMT_JSON || js);
    cl__body *b = ut_calloc(1, sizeof *b);
    b->fmt = fmt;
    b->js = js;
    b->max_record = max_record;
    b->emit = fn;
    b->ctx = ctx;
    b->gz = -1;
    b->lineno = 1;
    if (fmt == CL_FMT_CSV || fmt == CL_FMT_TSV)
        b->csv = cl__csv_create(fmt == CL_FMT_CSV ? ',' : '\t', max_record, fn, ctx);
    if (fmt == CL_FMT_NDJSON) b->jp = js_parser_create(max_record, 0);
    if (js) {
        cl__jscan_reset(js);
        cl__jscan_on_record(js, fn, ctx);
    }
    return b;
}

void cl__body_destroy(cl__body *b)
{
    if (!b) return;
    if (b->zinit) inflateEnd(&b->z);
    free(b->win);
    cl__csv_destroy(b->csv);
    js_parser_destroy(b->jp);
    ut_buf_free(&b->line);
    free(b);
}

int64_t cl__body_records(const cl__body *b)
{
    if (b->js) return cl__jscan_records(b->js);
    if (b->csv) return cl__csv_records(b->csv);
    return b->nrec;
}

int cl__body_gzip(const cl__body *b) { return b->gz == 1; }

void cl__body_on_rows(cl__body *b, cl__row_fn fn, void *ctx)
{
    if (b->csv) cl__csv_on_rows(b->csv, fn, ctx);
}

int cl__body_columns(const cl__body *b, const char **names, size_t *lens, const char **kinds)
{
    return b->csv ? cl__csv_columns(b->csv, names, lens, kinds) : 0;
}

/* One NDJSON line (without its newline). */
static int ndjson_line(cl__body *b, const char *s, size_t n, char *err, size_t errlen)
{
    if (n && s[n - 1] == '\r') n--;
    size_t k = 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
    b->lineno++;
    if (k == n) return CL__OK; /* blank */
    char e[200];
    if (js_obj_check(b->jp, s, n, NULL, e, sizeof e)) {
        ut_err(err, errlen, "line %lld: %s", (long long)(b->lineno - 1), e);
        return CL__BAD;
    }
    b->nrec++;
    return b->emit && b->emit(b->ctx, s, n) ? CL__STOP : CL__OK;
}

static int ndjson_feed(cl__body *b, const char *p, size_t n, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t j = nl ? (size_t)(nl - p) : n;
        if (b->line.len + (j - i) > b->max_record) {
            ut_err(err, errlen, "line %lld is over the %zu-byte record cap", (long long)b->lineno,
                   b->max_record);
            return CL__BAD;
        }
        if (!nl) {
            ut_buf_put(&b->line, p + i, n - i);
            return CL__OK;
        }
        int rc;
        if (b->line.len) {
            ut_buf_put(&b->line, p + i, j - i);
            rc = ndjson_line(b, (const char *)b->line.p, b->line.len, err, errlen);
            ut_buf_reset(&b->line);
        } else {
            rc = ndjson_line(b, p + i, j - i, err, errlen);
        }
        if (rc) return rc;
        i = j + 1;
    }
    return CL__OK;
}

/* Decoded bytes to the format's splitter. */
static int split(cl__body *b, const char *p, size_t n, char *err, size_t errlen)
{
    if (!n) return CL__OK;
    if (b->js) return cl__jscan_feed(b->js, p, n, err, errlen);
    if (b->csv) return cl__csv_feed(b->csv, p, n, err, errlen);
    return ndjson_feed(b, p, n, err, errlen);
}

static int inflate_feed(cl__body *b, const unsigned char *p, size_t n, char *err, size_t errlen)
{
    if (!b->zinit) {
        if (inflateInit2(&b->z, 16 + MAX_WBITS) != Z_OK)
            return ut_err(err, errlen, "zlib: inflateInit2 failed"), CL__BAD;
        b->zinit = 1;
        b->win = ut_malloc(WINDOW);
    }
    b->z.next_in = (unsigned char *)p;
    b->z.avail_in = (uInt)n;
    while (b->z.avail_in) {
        if (b->zend) { /* another member follows */
            if (inflateReset(&b->z) != Z_OK) return ut_err(err, errlen, "zlib: reset failed"), CL__BAD;
            b->zend = 0;
        }
        b->z.next_out = b->win;
        b->z.avail_out = WINDOW;
        int zr = inflate(&b->z, Z_NO_FLUSH);
        /* what came out goes on first, as it would have in smaller pieces */
        int rc = split(b, (const char *)b->win, WINDOW - b->z.avail_out, err, errlen);
        if (rc) return rc;
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            return ut_err(err, errlen, "gzip: %s", b->z.msg ? b->z.msg : "corrupt data"), CL__BAD;
        if (zr == Z_STREAM_END) b->zend = 1;
        else if (zr == Z_BUF_ERROR && b->z.avail_out) break; /* needs more input */
    }
    return CL__OK;
}

int cl__body_feed(cl__body *b, const void *data, size_t n, char *err, size_t errlen)
{
    const unsigned char *p = data;
    if (!n) return CL__OK;
    if (b->gz < 0) { /* decide on the first two bytes */
        if (!b->nhead) {
            if (p[0] != 0x1f) {
                b->gz = 0;
            } else if (n == 1) {
                b->head = p[0], b->nhead = 1;
                return CL__OK;
            } else {
                b->gz = p[1] == 0x8b;
            }
        } else {
            b->gz = p[0] == 0x8b;
            int rc = b->gz ? inflate_feed(b, &b->head, 1, err, errlen)
                           : split(b, (const char *)&b->head, 1, err, errlen);
            if (rc) return rc;
        }
    }
    if (b->gz) return inflate_feed(b, p, n, err, errlen);
    return split(b, (const char *)p, n, err, errlen);
}

int cl__body_end(cl__body *b, char *err, size_t errlen)
{
    int rc;
    if (b->gz < 0 && b->nhead && (rc = split(b, (const char *)&b->head, 1, err, errlen))) return rc;
    if (b->gz == 1) {
        if (!b->zend)
            return ut_err(err, errlen, "the gzip body ends early (truncated)"), CL__BAD;
    }
    if (b->js) return cl__jscan_end(b->js, err, errlen);
    if (b->csv) return cl__csv_end(b->csv, err, errlen);
    if (b->line.len) {
        rc = ndjson_line(b, (const char *)b->line.p, b->line.len, err, errlen);
        ut_buf_reset(&b->line);
        return rc;
    }
    return CL__OK;
}
