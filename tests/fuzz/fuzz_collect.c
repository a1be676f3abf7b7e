/* libFuzzer target: the collect engine's response parsers on arbitrary
 * bytes -- the streaming JSON records scanner (records at a path, kept
 * values), the CSV / TSV splitter, bodies (gzip detection and inflate,
 * NDJSON lines), the Link and Retry-After headers.
 *
 * Input: byte 0 picks the parser, byte 1 the chunk size, the rest is the
 * body.  Each body is parsed twice, in one piece and in chunks, and the two
 * must agree exactly (result, records, kept values): a difference is a
 * chunk-boundary bug and aborts.  CSV / TSV bodies are also split into rows
 * as fields (cl__body_on_rows, in one piece and in chunks, which must agree
 * too); when both ways succeed they give as many records and the same
 * column kinds.  Must never crash, hang, leak or overread. */
#include "collect/cl_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct out {
    ut_buf recs;
    int64_t n;
} out;

static int rec(void *ctx, const char *r, size_t n)
{
    out *o = ctx;
    if (o->recs.len < (1u << 20)) ut_buf_put(&o->recs, r, n), ut_buf_putc(&o->recs, '\n');
    return ++o->n > 100000 ? -1 : 0;
}

/* A row as fields: lengths, quoted flags and bytes into o->recs. */
static int row(void *ctx, const cl_row *r)
{
    out *o = ctx;
    if (!r->fields) return 0;
    for (int i = 0; i < r->n && o->recs.len < (1u << 20); i++) {
        ut_buf_printf(&o->recs, "%zu%c", r->lens[i], r->quoted[i] ? 'q' : 'u');
        ut_buf_put(&o->recs, r->fields[i], r->lens[i]);
    }
    ut_buf_putc(&o->recs, '\n');
    return ++o->n > 100000 ? -1 : 0;
}

/* Parse body with parser mode in chunks of step (0: one piece) into o;
 * rows: CSV / TSV rows as fields.  The kinds of the columns into kept. */
static int parse_as(int mode, int rows, const char *body, size_t n, size_t step, out *o,
                    ut_buf *kept)
{
    char err[512];
    static const char *const keep[] = {"paging.next", "meta.cursor", "id"};
    cl__jscan *js = NULL;
    if (mode == 0 || mode == 4)
        js = cl__jscan_create(mode == 0 ? "data" : "", keep, mode == 0 ? 3 : 0, 4096, err, sizeof err);
    if ((mode == 0 || mode == 4) && !js) abort();
    cl_format f = mode <= 0 || mode == 4 ? CL_FMT_JSON : mode == 1 ? CL_FMT_CSV
                : mode == 2 ? CL_FMT_TSV : CL_FMT_NDJSON;
    cl__body *b = cl__body_create(f, js, 4096, rec, o);
    if (rows) cl__body_on_rows(b, row, o);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i += step ? step : n) {
        size_t k = step && n - i > step ? step : n - i;
        rc = cl__body_feed(b, body + i, k, err, sizeof err);
    }
    if (!rc) rc = cl__body_end(b, err, sizeof err);
    for (int i = 0; js && i < (mode == 0 ? 3 : 0); i++) {
        size_t vn = 0;
        const char *v = cl__jscan_value(js, i, &vn);
        ut_buf_printf(kept, "%d:", i);
        if (v) ut_buf_put(kept, v, vn);
        ut_buf_putc(kept, '\n');
    }
    if (f == CL_FMT_CSV || f == CL_FMT_TSV) {
        const char **names = calloc(CL__MAX_FIELDS, sizeof *names), *kinds = NULL;
        size_t *lens = calloc(CL__MAX_FIELDS, sizeof *lens);
        int nc = cl__body_columns(b, names, lens, &kinds);
        if (nc > 0) ut_buf_put(kept, kinds, (size_t)nc);
        free(names);
        free(lens);
    }
    cl__body_destroy(b);
    cl__jscan_destroy(js);
    return rc;
}

static int parse(int mode, const char *body, size_t n, size_t step, out *o, ut_buf *kept)
{
    return parse_as(mode, 0, body, n, step, o, kept);
}

static void headers(const char *s, size_t n)
{
    ut_buf o = {.max = CL__MAX_URL};
    cl__link_next(s, n, &o);
    ut_buf_free(&o);
    char t[80];
    size_t k = n < sizeof t - 1 ? n : sizeof t - 1;
    memcpy(t, s, k);
    t[k] = 0;
    int64_t ms;
    if (cl__retry_after(t, 1700000000, &ms) == 0 && (ms < 0 || ms > CL__RETRY_AFTER_MAX_MS)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int mode = data[0] % 6;
    size_t step = (size_t)(data[1] % 17) + 1;
    const char *body = (const char *)data + 2;
    size_t n = size - 2;
    if (mode == 5) {
        headers(body, n);
        return 0;
    }
    out a = {{0}, 0}, b = {{0}, 0};
    ut_buf ka = {0}, kb = {0};
    int ra = parse(mode, body, n, 0, &a, &ka);
    int rb = parse(mode, body, n, step, &b, &kb);
    if (ra != rb || a.n != b.n || a.recs.len != b.recs.len ||
        (a.recs.len && memcmp(a.recs.p, b.recs.p, a.recs.len)) || ka.len != kb.len ||
        (ka.len && memcmp(ka.p, kb.p, ka.len)))
        abort(); /* the chunk boundaries changed the result */
    if (mode == 1 || mode == 2) { /* rows as fields */
        out c = {{0}, 0}, d = {{0}, 0};
        ut_buf kc = {0}, kd = {0};
        int rc = parse_as(mode, 1, body, n, 0, &c, &kc);
        int rd = parse_as(mode, 1, body, n, step, &d, &kd);
        if (rc != rd || c.n != d.n || c.recs.len != d.recs.len ||
            (c.recs.len && memcmp(c.recs.p, d.recs.p, c.recs.len)) || kc.len != kd.len ||
            (kc.len && memcmp(kc.p, kd.p, kc.len)))
            abort();
        if (ra == 0 && rc == 0 && (a.n != c.n || ka.len != kc.len ||
                                   (ka.len && memcmp(ka.p, kc.p, ka.len))))
            abort(); /* rows and JSON records disagree */
        ut_buf_free(&c.recs);
        ut_buf_free(&d.recs);
        ut_buf_free(&kc);
        ut_buf_free(&kd);
    }
    ut_buf_free(&a.recs);
    ut_buf_free(&b.recs);
    ut_buf_free(&ka);
    ut_buf_free(&kb);
    return 0;
}
