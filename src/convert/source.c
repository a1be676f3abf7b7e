/* Record sources for the convert passes: NDJSON lines, a JSON array body,
 * CSV/TSV records (header first).  Formats by name and by sniffing. */
#include "convert/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cv_format cv_format_from_name(const char *path)
{
    size_t n = io_strip_codec_ext(path);
    static const struct {
        const char *ext;
        cv_format f;
    } map[] = {{".ndjson", CV_NDJSON}, {".jsonl", CV_NDJSON}, {".json", CV_NDJSON},
               {".csv", CV_CSV},       {".tsv", CV_TSV},      {".tab", CV_TSV}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t e = strlen(map[i].ext);
        if (n > e && !strncasecmp(path + n - e, map[i].ext, e)) return map[i].f;
    }
    return CV_AUTO;
}

cv_format cv_format_sniff(const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    if (i >= n || p[i] == '{' || p[i] == '[') return CV_NDJSON;
    size_t tabs = 0, commas = 0;
    for (; i < n && p[i] != '\n'; i++) {
        tabs += p[i] == '\t';
        commas += p[i] == ',';
    }
    return tabs > commas ? CV_TSV : CV_CSV;
}

/* Fill the window until it has a non-space byte (or EOF); return it, -1 at
 * EOF, -2 on error. */
static int first_byte(cv__src *s, char *err, size_t errlen)
{
    for (;;) {
        const uint8_t *p;
        size_t n, i = 0;
        io_window(s->in, &p, &n);
        if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) i = 3;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
        if (i < n) return p[i];
        int rc = io_more(s->in, err, errlen);
        if (rc < 0) return -2;
        if (rc == 0) return -1;
    }
}

int cv__src_open(cv__src *s, const char *path, cv_format fmt, int rewindable, size_t max_record,
                 char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->max_record = max_record;
    s->in = io_open(path, rewindable ? IO_REWINDABLE : 0, CV_MAX_WINDOW, err, errlen);
    if (!s->in) return -1;
    int b = first_byte(s, err, errlen);
    if (b == -2) return -1;
    if (fmt == CV_AUTO) {
        const uint8_t *p;
        size_t n;
        io_window(s->in, &p, &n);
        fmt = cv_format_sniff(p, n);
    }
    s->fmt = fmt;
    if (fmt == CV_NDJSON) {
        s->array_mode = b == '[';
        s->ap = js_parser_create(max_record, 0);
    }
    return cv__src_start(s, err, errlen);
}

int cv__src_start(cv__src *s, char *err, size_t errlen)
{
    s->line = 0;
    if (s->fmt == CV_CSV || s->fmt == CV_TSV) {
        csv_opts o;
        csv_opts_init(&o, s->fmt == CV_TSV ? '\t' : ',');
        o.max_field = s->max_record;
        o.max_record = s->max_record;
        o.max_fields = CV_MAX_COLUMNS;
        csv_destroy(s->csv);
        s->csv = csv_create(s->in, &o);
        int rc = csv_next(s->csv, err, errlen);
        if (rc == CSV_ERR) return -1;
        if (rc == CSV_BAD) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err);
            return ut_err(err, errlen, "%s:%lld: bad header: %s", io_name(s->in),
                          (long long)csv_line(s->csv), tmp);
        }
        s->nhead = rc == CSV_EOF ? 0 : csv_nfields(s->csv);
        if (s->nhead) csv_set_nfields(s->csv, s->nhead);
        free(s->head);
        free(s->headlen);
        s->head = ut_calloc((size_t)s->nhead + 1, sizeof *s->head);
        s->headlen = ut_calloc((size_t)s->nhead + 1, sizeof *s->headlen);
        ut_buf_reset(&s->headbuf);
        size_t *offs = ut_calloc((size_t)s->nhead + 1, sizeof *offs);
        for (int i = 0; i < s->nhead; i++) {
            size_t n;
            const char *f = csv_field(s->csv, i, &n, NULL);
            offs[i] = s->headbuf.len;
            s->headlen[i] = n;
            ut_buf_put(&s->headbuf, f, n);
        }
        for (int i = 0; i < s->nhead; i++) s->head[i] = (const char *)s->headbuf.p + offs[i];
        free(offs);
        return 0;
    }
    if (s->array_mode) {
        /* the whole array must fit the window */
        int rc;
        while ((rc = io_more(s->in, err, errlen)) > 0) {}
        if (rc < 0) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err);
            return ut_err(err, errlen, "JSON array input: %s (use NDJSON for large inputs)", tmp);
        }
        const uint8_t *p;
        size_t n;
        io_window(s->in, &p, &n);
        if (js_array_begin(s->ap, (const char *)p, n, err, errlen)) return -1;
        s->arr = (const char *)p;
        s->arr_off = 0;
        s->line = 1;
    }
    return 0;
}

int cv__src_rewind(cv__src *s, char *err, size_t errlen)
{
    if (io_rewind(s->in, err, errlen)) return -1;
    if (s->array_mode || s->fmt == CV_CSV || s->fmt == CV_TSV) return cv__src_start(s, err, errlen);
    s->line = 0;
    return 0;
}

void cv__src_close(cv__src *s)
{
    csv_destroy(s->csv);
    js_parser_destroy(s->ap);
    io_close(s->in);
    free(s->head);
    free(s->headlen);
    ut_buf_free(&s->headbuf);
    memset(s, 0, sizeof *s);
}

int cv__src_next(cv__src *s, char *err, size_t errlen)
{
    if (s->fmt == CV_CSV || s->fmt == CV_TSV) {
        if (!s->nhead) return CV_REC_EOF;
        int rc = csv_next(s->csv, err, errlen);
        s->line = csv_line(s->csv);
        if (rc == CSV_OK) return CV_REC_OK;
        if (rc == CSV_EOF) return CV_REC_EOF;
        if (rc == CSV_BAD) return CV_REC_BAD;
        return CV_REC_ERR;
    }
    if (s->array_mode) {
        const char *e;
        size_t n, off;
        int rc = js_array_next(s->ap, &e, &n, &off, err, errlen);
        if (rc < 0) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err);
            return ut_err(err, errlen, "%s: JSON array malformed: %s", io_name(s->in), tmp),
                   CV_REC_ERR;
        }
        if (rc == 0) return CV_REC_EOF;
        for (const char *x = s->arr + s->arr_off; (x = memchr(x, '\n', (size_t)(s->arr + off - x)));
             x++)
            s->line++;
        s->arr_off = off;
        s->rec = e;
        s->len = n;
        return CV_REC_OK;
    }
    for (;;) {
        const uint8_t *l;
        size_t n;
        int rc = io_line(s->in, s->max_record, &l, &n, &s->line, err, errlen);
        if (rc == IO_LINE_EOF) return CV_REC_EOF;
        if (rc == IO_LINE_ERR) return CV_REC_ERR;
        if (rc == IO_LINE_TOO_LONG) {
            ut_err(err, errlen, "record longer than the %zu-byte cap", s->max_record);
            return CV_REC_BAD;
        }
        size_t i = 0;
        while (i < n && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r')) i++;
        if (i == n) continue; /* blank line */
        s->rec = (const char *)l;
        s->len = n;
        return CV_REC_OK;
    }
}
