/* collect: CSV / TSV response bodies to JSON records, pushed chunk by chunk.
 *
 * The same dialect as src/csv (which pulls from an io_reader and so cannot
 * take a body as libcurl pushes it): RFC 4180 quotes with "" escapes and
 * newlines inside quotes (CSV only; TSV has no quoting), LF or CRLF line
 * ends (a CR just before the LF is dropped, elsewhere it is data), a UTF-8
 * BOM first, blank lines skipped, the first line the header.
 *
 * Each row becomes one JSON object keyed by the header, in header order.
 * An unquoted field that is a JSON number the lake keeps exactly — an
 * integer of at most 18 digits, or a decimal without exponent of at most
 * 15 digits — is written as that number (so the lake types the column
 * int64 or double, as read_csv and DuckDB do); every other value is a JSON
 * string (`007`, `1e5`, a 20-digit id and every quoted field stay text), an
 * empty unquoted field null and a quoted empty field "" (as `sluice
 * convert` reads CSV).  An empty header name becomes column_<N>; a repeated one
 * <name>_2, _3 ...  A row with another field count than the header, a
 * quote that is not closed, or bytes after a closing quote fail the body,
 * naming the line.
 *
 * A field that ends in the chunk where it began is used in place; one that
 * spans chunks or has "" escapes is gathered in a scratch buffer.  Caps: a
 * field and a row's JSON at max_record bytes, CL__MAX_FIELDS columns. */
#include "collect/cl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C_START, C_UNQ, C_QUO, C_QUOQ, C_QCR };

struct cl__csv {
    char delim, quote;
    size_t max_record;
    cl__emit_fn emit;
    void *ctx;
    int st, bom;
    int64_t off, line, rline, nrec;
    /* the field being read */
    ut_buf fbuf;      /* its bytes when they span chunks or had escapes */
    int inbuf;        /* the field's bytes so far are in fbuf */
    size_t fs, qend;  /* its pending span p[fs..) in this chunk; C_QUOQ: up to qend */
    int pend;         /* C_QUOQ: p[fs..qend) is still to be taken */
    /* the row */
    int nf, blank;
    ut_buf row;
    size_t rowkeys;   /* rows as fields: the keys' bytes of the row so far */
    /* the header */
    int have_header, ncols;
    ut_buf names;     /* raw names one after another (header line) */
    size_t *noff;     /* ncols + 1 offsets into names, then into keys */
    ut_buf keys;      /* "name": per column, JSON-encoded */
    size_t ncap;
    ut_buf dnames;    /* the keys as names (not encoded), one after another */
    size_t *doff;     /* ncols + 1 offsets into dnames */
    char *kinds;      /* per column: the widest value so far (cl__csv_columns) */
    /* rows as fields (cl__csv_on_rows): the row's bytes in `row` */
    cl__row_fn rowfn;
    void *rowctx;
    int rows;         /* this body's rows go to rowfn (its answer to the header) */
    const char **nptr, **fptr;
    size_t *nlen, *flen, *foff;
    unsigned char *fq;
};

void cl__csv_on_rows(cl__csv *c, cl__row_fn fn, void *ctx)
{
    c->rowfn = fn;
    c->rowctx = ctx;
}

cl__csv *cl__csv_create(char delim, size_t max_record, cl__emit_fn fn, void *ctx)
{
    cl__csv *c = ut_calloc(1, sizeof *c);
    c->delim = delim;
    c->quote = delim == ',' ? '"' : 0;
    c->max_record = max_record;
    c->emit = fn;
    c->ctx = ctx;
    c->line = c->rline = 1;
    return c;
}

void cl__csv_destroy(cl__csv *c)
{
    if (!c) return;
    ut_buf_free(&c->fbuf);
    ut_buf_free(&c->row);
    ut_buf_free(&c->names);
    ut_buf_free(&c->keys);
    ut_buf_free(&c->dnames);
    free(c->noff);
    free(c->doff);
    free(c->kinds);
    free(c->nptr);
    free(c->fptr);
    free(c->nlen);
    free(c->flen);
    free(c->foff);
    free(c->fq);
    free(c);
}

int64_t cl__csv_records(const cl__csv *c) { return c->nrec; }

int cl__csv_columns(const cl__csv *c, const char **names, size_t *lens, const char **kinds)
{
    if (!c->have_header) return 0;
    for (int j = 0; j < c->ncols; j++) {
        names[j] = (const char *)c->dnames.p + c->doff[j];
        lens[j] = c->doff[j + 1] - c->doff[j];
    }
    *kinds = c->kinds;
    return c->ncols;
}

static int bad(cl__csv *c, char *err, size_t errlen, const char *what)
{
    ut_err(err, errlen, "line %lld: %s", (long long)c->rline, what);
    return CL__BAD;
}

/* Gather p[from..to) into the field buffer. */
static int gather(cl__csv *c, const char *p, size_t from, size_t to, char *err, size_t errlen)
{
    if (!c->inbuf) ut_buf_reset(&c->fbuf), c->inbuf = 1;
    if (c->fbuf.len + (to - from) > c->max_record)
        return bad(c, err, errlen, "a field is over the record cap");
    ut_buf_put(&c->fbuf, p + from, to - from);
    return CL__OK;
}

static void add_offset(cl__csv *c, size_t off)
{
    if ((size_t)c->ncols + 2 > c->ncap) {
        c->ncap = c->ncap ? c->ncap * 2 : 64;
        c->noff = ut_realloc(c->noff, c->ncap * sizeof *c->noff);
    }
    c->noff[c->ncols + 1] = off;
}

/* Has key text k already been taken by one of the first n columns? */
static int name_taken(const cl__csv *c, const ut_buf *k, int n)
{
    for (int j = 0; j < n; j++)
        if (c->noff[j + 1] - c->noff[j] == k->len && !memcmp(c->keys.p + c->noff[j], k->p, k->len))
            return 1;
    return 0;
}

/* The header line is complete: its names become JSON keys. */
static void header_done(cl__csv *c)
{
    ut_buf k = {0};
    size_t *raw = ut_malloc(((size_t)c->ncols + 1) * sizeof *raw);
    memcpy(raw, c->noff, ((size_t)c->ncols + 1) * sizeof *raw);
    ut_buf_reset(&c->keys);
    ut_buf_reset(&c->dnames);
    c->noff[0] = 0;
    free(c->doff);
    free(c->kinds);
    c->doff = ut_calloc((size_t)c->ncols + 1, sizeof *c->doff);
    c->kinds = ut_calloc((size_t)c->ncols + 1, 1);
    memset(c->kinds, 'n', (size_t)c->ncols);
    for (int j = 0; j < c->ncols; j++) {
        const char *nm = (const char *)c->names.p + raw[j];
        size_t nl = raw[j + 1] - raw[j];
        for (int dup = 1;; dup++) {
            ut_buf_reset(&k);
            ut_buf tmp = {0};
            if (nl == 0) ut_buf_printf(&tmp, "column_%d", j + 1);
            else ut_buf_put(&tmp, nm, nl);
            if (dup > 1) ut_buf_printf(&tmp, "_%d", dup);
            ut_json_str(&k, tmp.p, tmp.len);
            ut_buf_putc(&k, ':');
            if (!name_taken(c, &k, j)) {
                ut_buf_put(&c->dnames, tmp.p, tmp.len);
                ut_buf_free(&tmp);
                break;
            }
            ut_buf_free(&tmp);
        }
        c->doff[j + 1] = c->dnames.len;
        ut_buf_put(&c->keys, k.p, k.len);
        c->noff[j + 1] = c->keys.len;
    }
    ut_buf_free(&k);
    free(raw);
    c->have_header = 1;
}

/* The header is complete: with rows as fields, the arrays for them, and
 * rowfn's answer (1: JSON records after all).  CL__OK / CL__STOP. */
static int rows_begin(cl__csv *c)
{
    if (!c->rowfn) return CL__OK;
    size_t n = (size_t)c->ncols + 1;
    c->nptr = ut_realloc(c->nptr, n * sizeof *c->nptr);
    c->fptr = ut_realloc(c->fptr, n * sizeof *c->fptr);
    c->nlen = ut_realloc(c->nlen, n * sizeof *c->nlen);
    c->flen = ut_realloc(c->flen, n * sizeof *c->flen);
    c->foff = ut_realloc(c->foff, n * sizeof *c->foff);
    c->fq = ut_realloc(c->fq, n);
    for (int j = 0; j < c->ncols; j++) {
        c->nptr[j] = (const char *)c->dnames.p + c->doff[j];
        c->nlen[j] = c->doff[j + 1] - c->doff[j];
    }
    cl_row r = {.n = c->ncols, .names = c->nptr, .name_lens = c->nlen};
    int rc = c->rowfn(c->rowctx, &r);
    c->rows = rc == 0;
    return rc < 0 ? CL__STOP : CL__OK;
}

/* The row is complete, as fields: to rowfn. */
static int row_fields(cl__csv *c)
{
    for (int j = 0; j < c->ncols; j++) c->fptr[j] = (const char *)c->row.p + c->foff[j];
    cl_row r = {.n = c->ncols, .names = c->nptr, .name_lens = c->nlen, .fields = c->fptr,
                .lens = c->flen, .quoted = c->fq};
    return c->rowfn(c->rowctx, &r) ? CL__STOP : CL__OK;
}

/* ---- JSON text of a value, written in place ---------------------------------- */

/* Bytes copied as they are: printable ASCII but '"' and '\\'. */
static const uint8_t plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                              /* controls */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* '"' */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* '\\' */
    R16(1), R16(1),
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), /* not ASCII */
#undef R16
};

/* s[0..n) as a quoted JSON string at d (room for 6 n + 2 bytes), as
 * ut_json_str writes it (an invalid UTF-8 byte as \u00XX).  The length. */
static size_t json_str_at(uint8_t *d, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t *o = d;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && plain[s[j]]) j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        if ((i = j) == n) break;
        uint8_t c = s[i];
        size_t l;
        if (c == '"' || c == '\\') {
            *o++ = '\\', *o++ = c, i++;
        } else if (c >= 0x80 && (l = ut_utf8_len(s + i, n - i))) {
            memcpy(o, s + i, l), o += l, i += l;
        } else {
            const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
                          : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (e) memcpy(o, e, 2), o += 2;
            else memcpy(o, "\\u00", 4), o[4] = (uint8_t)hex[c >> 4], o[5] = (uint8_t)hex[c & 15], o += 6;
            i++;
        }
    }
    *o++ = '"';
    return (size_t)(o - d);
}

/* Is v[0..n) a number to write unquoted (see the top)?  JSON's grammar:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?, with the digit caps.  'i' an integer, 'r'
 * a decimal, 0 not. */
static char plain_number(const char *v, size_t n)
{
    size_t i = v[0] == '-', digits = 0;
    if (i == n || v[i] < '0' || v[i] > '9' || (v[i] == '0' && i + 1 < n && v[i + 1] != '.'))
        return 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) digits++;
    if (i == n) return digits <= 18 ? 'i' : 0;
    if (v[i++] != '.' || i == n) return 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) digits++;
    return i == n && digits <= 15 ? 'r' : 0;
}

/* Column kind k widened by a value of kind v (as read_ndjson widens: an
 * integer and a decimal make a decimal, anything with text text). */
static char widen(char k, char v)
{
    if (k == v || v == 'n' || k == 't') return k;
    if (k == 'n') return v;
    return (k == 'i' && v == 'r') || (k == 'r' && v == 'i') ? 'r' : 't';
}

/* One field is complete: v[0..n), quoted or not. */
static int field_done(cl__csv *c, const char *v, size_t n, int quoted, char *err, size_t errlen)
{
    if (c->nf == CL__MAX_FIELDS) return bad(c, err, errlen, "more than 10000 fields");
    c->blank = c->nf == 0 && n == 0 && !quoted;
    if (!c->have_header) {
        if (c->nf == 0) ut_buf_reset(&c->names), c->ncols = 0, add_offset(c, 0), c->noff[0] = 0;
        if (c->names.len + n > c->max_record)
            return bad(c, err, errlen, "the header line is over the record cap");
        ut_buf_put(&c->names, v, n);
        add_offset(c, c->names.len);
        c->ncols++;
        c->nf++;
        return CL__OK;
    }
    if (c->nf >= c->ncols) {
        c->nf++;
        return CL__OK; /* counted; the row fails at its end unless it is blank */
    }
    if (c->nf == 0) ut_buf_reset(&c->row), c->rowkeys = 0;
    size_t kl = c->noff[c->nf + 1] - c->noff[c->nf];
    if (c->rows) { /* the field's bytes as they are */
        char kind = n == 0 && !quoted ? 'n' : quoted ? 't' : plain_number(v, n);
        c->kinds[c->nf] = widen(c->kinds[c->nf], kind ? kind : 't');
        c->foff[c->nf] = c->row.len;
        c->flen[c->nf] = n;
        c->fq[c->nf] = (unsigned char)(quoted != 0);
        ut_buf_put(&c->row, v, n);
        c->rowkeys += kl + 1;
        c->nf++;
        if (c->row.len + c->rowkeys > c->max_record)
            return bad(c, err, errlen, "the row is over the record cap");
        return CL__OK;
    }
    ut_buf_reserve(&c->row, 1 + kl + 6 * n + 4); /* "," key, then "..." or null */
    uint8_t *o = c->row.p + c->row.len;
    *o++ = c->nf ? ',' : '{';
    memcpy(o, c->keys.p + c->noff[c->nf], kl);
    o += kl;
    char kind = n == 0 && !quoted ? 'n' : quoted ? 0 : plain_number(v, n);
    if (kind == 'n') memcpy(o, "null", 4), o += 4;
    else if (kind) memcpy(o, v, n), o += n;
    else o += json_str_at(o, (const uint8_t *)v, n), kind = 't';
    c->kinds[c->nf] = widen(c->kinds[c->nf], kind);
    ut_buf_setlen(&c->row, (size_t)(o - c->row.p));
    c->nf++;
    if (c->row.len > c->max_record) return bad(c, err, errlen, "the row is over the record cap");
    return CL__OK;
}

/* The row is complete. */
static int row_done(cl__csv *c, char *err, size_t errlen)
{
    int nf = c->nf;
    c->nf = 0;
    c->inbuf = 0;
    if (nf == 1 && c->blank) { /* a blank line */
        if (!c->have_header) c->ncols = 0;
        c->rline = c->line;
        return CL__OK;
    }
    if (!c->have_header) {
        header_done(c);
        c->rline = c->line;
        return rows_begin(c);
    }
    if (nf != c->ncols) {
        char m[96];
        snprintf(m, sizeof m, "%d fields, the header has %d", nf, c->ncols);
        return bad(c, err, errlen, m);
    }
    c->nrec++;
    c->rline = c->line;
    if (c->rows) return row_fields(c);
    ut_buf_putc(&c->row, '}');
    return c->emit && c->emit(c->ctx, (const char *)c->row.p, c->row.len) ? CL__STOP : CL__OK;
}

/* The field ends at p[end] (exclusive); quoted fields end at qend. */
static int take_field(cl__csv *c, const char *p, size_t end, int quoted, int crlf, char *err,
                      size_t errlen)
{
    const char *v = p + c->fs;
    size_t n = end - c->fs;
    if (c->inbuf) {
        if (gather(c, p, c->fs, end, err, errlen)) return CL__BAD;
        v = (const char *)c->fbuf.p, n = c->fbuf.len;
    } else if (n > c->max_record) {
        return bad(c, err, errlen, "a field is over the record cap");
    }
    if (crlf && n && v[n - 1] == '\r') n--;
    c->inbuf = 0;
    return field_done(c, v, n, quoted, err, errlen);
}

/* Newlines in p[a..b) (inside quotes: for line numbers). */
static void count_lines(cl__csv *c, const char *p, size_t a, size_t b)
{
    for (const char *x = p + a, *e = p + b; (x = memchr(x, '\n', (size_t)(e - x))); x++) c->line++;
}

/* One step at p[i] in state C_START, C_QUOQ or C_QCR; the index after. */
static size_t step(cl__csv *c, const char *p, size_t i, int *rc, char *err, size_t errlen)
{
    char ch = p[i];
    if (c->st == C_QCR) {
        if (ch != '\n') return *rc = bad(c, err, errlen, "a CR after a closing quote"), 0;
        c->line++;
        c->st = C_START;
        *rc = row_done(c, err, errlen);
        return i + 1;
    }
    if (c->st == C_QUOQ) {
        if (ch == c->quote) { /* "" : the first quote is the character */
            if (c->pend) *rc = gather(c, p, c->fs, c->qend + 1, err, errlen);
            else *rc = gather(c, "\"", 0, 1, err, errlen);
            c->fs = i + 1;
            c->st = C_QUO;
            return i + 1;
        }
        if (c->pend) *rc = take_field(c, p, c->qend, 1, 0, err, errlen);
        else *rc = field_done(c, (const char *)c->fbuf.p, c->fbuf.len, 1, err, errlen), c->inbuf = 0;
        if (*rc) return 0;
        c->st = C_START;
        if (ch == c->delim) return i + 1;
        if (ch == '\r') return c->st = C_QCR, i + 1;
        if (ch != '\n') return *rc = bad(c, err, errlen, "a character after a closing quote"), 0;
        c->line++;
        *rc = row_done(c, err, errlen);
        return i + 1;
    }
    /* C_START */
    if (c->quote && ch == c->quote) {
        c->st = C_QUO, c->fs = i + 1, c->inbuf = 0;
        return i + 1;
    }
    if (ch == c->delim) return *rc = field_done(c, "", 0, 0, err, errlen), i + 1;
    if (ch == '\n') {
        c->line++;
        *rc = field_done(c, "", 0, 0, err, errlen);
        if (!*rc) *rc = row_done(c, err, errlen);
        return i + 1;
    }
    c->st = C_UNQ, c->fs = i, c->inbuf = 0;
    return i;
}

int cl__csv_feed(cl__csv *c, const char *p, size_t n, char *err, size_t errlen)
{
    size_t i = 0;
    int rc = CL__OK;
    c->fs = 0;
    c->pend = 0;
    while (i < n && c->bom < 3 && c->off + (int64_t)i == c->bom) {
        if ((unsigned char)p[i] != (unsigned char)"\xef\xbb\xbf"[c->bom]) {
            if (c->bom) return bad(c, err, errlen, "a broken byte order mark");
            c->bom = 3;
            break;
        }
        c->bom++, i++;
    }
    if (c->st == C_UNQ || c->st == C_QUO) c->fs = i;
    while (i < n && rc == CL__OK) {
        if (c->st == C_UNQ) {
            size_t j = i;
            const char d = c->delim; /* a local: p's bytes may alias c */
            while (j < n && p[j] != d && p[j] != '\n') j++;
            if (j == n) {
                rc = gather(c, p, c->fs, n, err, errlen);
                i = n;
                break;
            }
            rc = take_field(c, p, j, 0, p[j] == '\n', err, errlen);
            c->st = C_START;
            if (!rc && p[j] == '\n') c->line++, rc = row_done(c, err, errlen);
            i = j + 1;
        } else if (c->st == C_QUO) {
            const char *q = memchr(p + i, c->quote, n - i);
            size_t j = q ? (size_t)(q - p) : n;
            count_lines(c, p, i, j);
            if (!q) {
                rc = gather(c, p, c->fs, n, err, errlen);
                i = n;
                break;
            }
            c->st = C_QUOQ, c->qend = j, c->pend = 1;
            i = j + 1;
        } else {
            i = step(c, p, i, &rc, err, errlen);
        }
    }
    if (rc) return rc;
    if (c->st == C_QUOQ && c->pend) { /* the span up to the quote, before the next chunk */
        if ((rc = gather(c, p, c->fs, c->qend, err, errlen))) return rc;
        c->pend = 0;
    }
    c->off += (int64_t)n;
    return CL__OK;
}

int cl__csv_end(cl__csv *c, char *err, size_t errlen)
{
    int rc = CL__OK;
    switch (c->st) {
    case C_QUO: return bad(c, err, errlen, "a quoted field is not closed at the end of the body");
    case C_UNQ: { /* the field's bytes are all in fbuf (gathered at the chunk's end) */
        size_t n = c->fbuf.len;
        if (n && c->fbuf.p[n - 1] == '\r') n--;
        rc = field_done(c, (const char *)c->fbuf.p, n, 0, err, errlen);
        break;
    }
    case C_QUOQ:
        rc = field_done(c, (const char *)c->fbuf.p, c->fbuf.len, 1, err, errlen);
        break;
    case C_START:
        if (c->nf) rc = field_done(c, "", 0, 0, err, errlen); /* "a,b," : one more, empty */
        else return CL__OK;
        break;
    case C_QCR: break;
    }
    c->st = C_START;
    c->inbuf = 0;
    return rc ? rc : row_done(c, err, errlen);
}
