/* RFC 4180 CSV / TSV record parser over an io_reader window. */
#include "csv/csv.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct csv_fld {
    size_t off, len; /* in the window, or in scratch when in_scratch */
    uint8_t quoted, in_scratch;
} csv_fld;

struct csv_reader {
    io_reader *in;
    csv_opts o;
    int expect;        /* expected field count, 0 = any */
    csv_fld *f;
    int nf, fcap;
    ut_buf scratch;
    const uint8_t *base; /* window start of the current record */
    size_t pending;      /* bytes to consume before the next record */
    int64_t line, next_line;
    int started, eof;
};

void csv_opts_init(csv_opts *o, char delim)
{
    o->delim = delim;
    o->quote = delim == '\t' ? 0 : '"';
    o->max_field = (size_t)16 << 20;
    o->max_record = (size_t)64 << 20;
    o->max_fields = 10000;
}

csv_reader *csv_create(io_reader *in, const csv_opts *opts)
{
    csv_reader *r = ut_calloc(1, sizeof *r);
    r->in = in;
    if (opts) r->o = *opts;
    else csv_opts_init(&r->o, ',');
    if (!r->o.max_field) r->o.max_field = (size_t)16 << 20;
    if (!r->o.max_record) r->o.max_record = (size_t)64 << 20;
    if (r->o.max_fields <= 0) r->o.max_fields = 10000;
    r->next_line = 1;
    return r;
}

void csv_destroy(csv_reader *r)
{
    if (!r) return;
    free(r->f);
    ut_buf_free(&r->scratch);
    free(r);
}

void csv_set_nfields(csv_reader *r, int n) { r->expect = n; }
int csv_nfields(const csv_reader *r) { return r->nf; }
int64_t csv_line(const csv_reader *r) { return r->line; }

const char *csv_field(const csv_reader *r, int i, size_t *n, int *quoted)
{
    const csv_fld *f = &r->f[i];
    *n = f->len;
    if (quoted) *quoted = f->quoted;
    return (const char *)(f->in_scratch ? r->scratch.p : r->base) + f->off;
}

enum { P_DONE, P_MORE, P_BAD };

static int add_field(csv_reader *r, size_t off, size_t len, int quoted, int in_scratch)
{
    if (r->nf >= r->o.max_fields) return -1;
    if (r->nf == r->fcap) {
        r->fcap = r->fcap ? r->fcap * 2 : 64;
        r->f = ut_realloc(r->f, (size_t)r->fcap * sizeof *r->f);
    }
    r->f[r->nf++] = (csv_fld){off, len, (uint8_t)quoted, (uint8_t)in_scratch};
    return 0;
}

/* Parse one record at p[0..n).  P_DONE sets *used (bytes incl. the line
 * end) and *nl (newlines inside).  P_MORE: the record is not complete in the
 * window (and input is not at EOF).  P_BAD: err set, *used and *nl cover what to
 * skip when known (0 = resync by skipping to the next line end). */
static int parse(csv_reader *r, const uint8_t *p, size_t n, size_t *used, int64_t *nl, char *err,
                 size_t errlen)
{
    const char d = r->o.delim, q = r->o.quote;
    size_t i = 0;
    int64_t lines = 0;
    r->nf = 0;
    ut_buf_reset(&r->scratch);
    for (;;) { /* one field per iteration */
        size_t start = i;
        if (q && i < n && p[i] == (uint8_t)q) {
            i++;
            size_t fs = i, sstart = r->scratch.len;
            int esc = 0;
            for (;;) {
                const uint8_t *e = i < n ? memchr(p + i, q, n - i) : NULL;
                if (!e) {
                    if (!r->eof) return P_MORE;
                    *used = n;
                    *nl = 0;
                    return ut_err(err, errlen, "unterminated quoted field"), P_BAD;
                }
                size_t qi = (size_t)(e - p);
                for (const uint8_t *x = p + i; (x = memchr(x, '\n', (size_t)(e - x))); x++) lines++;
                if (qi + 1 >= n && !r->eof) return P_MORE;
                if (qi + 1 < n && p[qi + 1] == (uint8_t)q) { /* "" escape */
                    if (!esc) {
                        esc = 1;
                        ut_buf_put(&r->scratch, p + fs, qi + 1 - fs);
                    } else {
                        ut_buf_put(&r->scratch, p + i, qi + 1 - i);
                    }
                    i = qi + 2;
                    continue;
                }
                if (esc) ut_buf_put(&r->scratch, p + i, qi - i);
                size_t flen = esc ? r->scratch.len - sstart : qi - fs;
                if (flen > r->o.max_field) {
                    *used = 0;
                    return ut_err(err, errlen, "field %d is over the %zu-byte cap", r->nf + 1,
                                  r->o.max_field), P_BAD;
                }
                if (add_field(r, esc ? sstart : fs, flen, 1, esc)) goto too_many;
                i = qi + 1;
                break;
            }
            if (i >= n) goto record_end_eof;
            if (p[i] == (uint8_t)d) {
                i++;
                continue;
            }
            if (p[i] == '\n') {
                i++;
                goto record_end;
            }
            if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
                i += 2;
                goto record_end;
            }
            if (p[i] == '\r' && i + 1 >= n && !r->eof) return P_MORE;
            *used = 0;
            return ut_err(err, errlen, "unexpected character after closing quote of field %d",
                          r->nf), P_BAD;
        }
        while (i < n && p[i] != (uint8_t)d && p[i] != '\n') i++;
        if (i >= n && !r->eof) return P_MORE;
        size_t end = i;
        if (i < n && p[i] == '\n' && end > start && p[end - 1] == '\r') end--;
        else if (i >= n && end > start && p[end - 1] == '\r') end--;
        if (end - start > r->o.max_field) {
            *used = 0;
            return ut_err(err, errlen, "field %d is over the %zu-byte cap", r->nf + 1,
                          r->o.max_field), P_BAD;
        }
        if (add_field(r, start, end - start, 0, 0)) goto too_many;
        if (i >= n) goto record_end_eof;
        if (p[i] == (uint8_t)d) {
            i++;
            if (i >= n && r->eof) { /* trailing delimiter at EOF: one more empty field */
                if (add_field(r, i, 0, 0, 0)) goto too_many;
                goto record_end_eof;
            }
            continue;
        }
        i++; /* '\n' */
        goto record_end;
    }
record_end_eof:
    i = n;
record_end:
    *used = i;
    *nl = lines + 1;
    return P_DONE;
too_many:
    *used = 0;
    return ut_err(err, errlen, "more than %d fields", r->o.max_fields), P_BAD;
}

/* Skip to just past the next line end outside quotes, counting lines. */
static int resync(csv_reader *r, char *err, size_t errlen)
{
    int inq = 0;
    for (;;) {
        const uint8_t *p;
        size_t n;
        io_window(r->in, &p, &n);
        for (size_t i = 0; i < n; i++) {
            if (r->o.quote && p[i] == (uint8_t)r->o.quote) inq = !inq;
            else if (p[i] == '\n') {
                r->next_line++;
                if (!inq) {
                    io_consume(r->in, i + 1);
                    return 0;
                }
            }
        }
        io_consume(r->in, n);
        int rc = io_more(r->in, err, errlen);
        if (rc <= 0) return rc;
    }
}

int csv_next(csv_reader *r, char *err, size_t errlen)
{
    if (r->pending) {
        io_consume(r->in, r->pending);
        r->pending = 0;
    }
    for (;;) {
        const uint8_t *p;
        size_t n;
        io_window(r->in, &p, &n);
        if (!r->started) {
            if (n < 3 && !r->eof) goto more;
            if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
                io_consume(r->in, 3);
                io_window(r->in, &p, &n);
            }
            r->started = 1;
        }
        if (n == 0) {
            if (r->eof) return CSV_EOF;
            goto more;
        }
        /* blank line */
        if (p[0] == '\n' || (p[0] == '\r' && n > 1 && p[1] == '\n')) {
            io_consume(r->in, p[0] == '\n' ? 1 : 2);
            r->next_line++;
            continue;
        }
        if (p[0] == '\r' && n == 1) {
            if (!r->eof) goto more;
            io_consume(r->in, 1);
            continue;
        }
        size_t used = 0;
        int64_t nl = 0;
        r->line = r->next_line;
        int rc = parse(r, p, n, &used, &nl, err, errlen);
        if (rc == P_MORE) {
            if (n > r->o.max_record) {
                char tmp[8];
                if (resync(r, tmp, sizeof tmp) < 0)
                    return ut_err(err, errlen, "%s: read error while skipping a bad record",
                                  io_name(r->in)), CSV_ERR;
                return ut_err(err, errlen, "record over the %zu-byte cap", r->o.max_record),
                       CSV_BAD;
            }
            goto more;
        }
        if (rc == P_BAD) {
            if (used) {
                io_consume(r->in, used);
                r->next_line += nl;
            } else {
                char tmp[8];
                if (resync(r, tmp, sizeof tmp) < 0) {
                    ut_err(err, errlen, "%s: read error while skipping a bad record",
                           io_name(r->in));
                    return CSV_ERR;
                }
            }
            return CSV_BAD;
        }
        r->pending = used;
        r->next_line += nl;
        r->base = p;
        if (used > r->o.max_record)
            return ut_err(err, errlen, "record over the %zu-byte cap", r->o.max_record), CSV_BAD;
        if (r->expect && r->nf != r->expect)
            return ut_err(err, errlen, "expected %d fields, got %d", r->expect, r->nf), CSV_BAD;
        return CSV_OK;
    more:;
        int m = io_more(r->in, err, errlen);
        if (m < 0) return CSV_ERR;
        if (m == 0) r->eof = 1;
    }
}
