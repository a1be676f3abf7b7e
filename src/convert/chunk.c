/* Splitting the input into chunks of whole records for the write pipeline.
 *
 * The records come from the sequential record source (cv__src_next: NDJSON
 * lines, JSON array elements, CSV/TSV records), so a record never straddles
 * two chunks: a line is cut at its newline wherever the read buffer ends, a
 * CRLF line loses its '\r' (io_line), and a CSV record
 * with a newline inside quotes is one record because the CSV reader, which
 * knows the quoting, finds its end.  Only the search for record ends is
 * sequential; parsing the records is the workers' job. */
#include "convert/pipe.h"

#include <stdlib.h>
#include <string.h>

void cv__chunk_free(cv__chunk *c)
{
    free(c->r);
    free(c->f);
    ut_buf_free(&c->bytes);
    memset(c, 0, sizeof *c);
}

static cv__rec *add_rec(cv__chunk *c, int64_t line, const void *p, size_t n, int bad)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->r = ut_realloc(c->r, (size_t)c->cap * sizeof *c->r);
    }
    cv__rec *r = &c->r[c->n++];
    r->line = line;
    r->off = c->bytes.len;
    r->len = n;
    r->field = c->nf;
    r->bad = bad;
    ut_buf_put(&c->bytes, p, n);
    return r;
}

/* Copy the CSV reader's current record's nhead fields into c. */
static void add_csv(cv__chunk *c, const cv__src *src)
{
    int nh = src->nhead;
    cv__rec *r = add_rec(c, src->line, "", 0, 0);
    if (c->nf + (size_t)nh > c->capf) {
        while (c->nf + (size_t)nh > c->capf) c->capf = c->capf ? c->capf * 2 : 4096;
        c->f = ut_realloc(c->f, c->capf * sizeof *c->f);
    }
    for (int i = 0; i < nh; i++) {
        cv__fld *f = &c->f[c->nf++];
        const char *p = csv_field(src->csv, i, &f->len, &f->quoted);
        f->off = c->bytes.len;
        ut_buf_put(&c->bytes, p, f->len);
    }
    r->len = c->bytes.len - r->off;
}

int cv__chunk_fill(cv__chunk *c, cv__src *src, int64_t first, int max_recs, size_t max_bytes,
                   char *err, size_t errlen)
{
    char why[512];
    int csv = src->fmt != CV_NDJSON;
    c->first = first;
    c->n = 0;
    c->nf = 0;
    ut_buf_reset(&c->bytes);
    while (c->n < max_recs && c->bytes.len < max_bytes) {
        int rc = cv__src_next(src, why, sizeof why);
        if (rc == CV_REC_EOF) return 1;
        if (rc == CV_REC_ERR) return ut_err(err, errlen, "%s", why);
        if (rc == CV_REC_BAD) add_rec(c, src->line, why, strlen(why), 1);
        else if (csv) add_csv(c, src);
        else add_rec(c, src->line, src->rec, src->len, 0);
    }
    return 0;
}
