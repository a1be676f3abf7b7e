/* Line splitting over an io_reader window: memchr over large blocks. */
#include "io/io_int.h"

#include <string.h>

int io_line(io_reader *r, size_t max_line, const uint8_t **line, size_t *len, int64_t *lineno,
            char *err, size_t errlen)
{
    int skipping = 0;
    if (max_line == 0 || max_line >= r->max_window) max_line = r->max_window - 1;
    if (r->pending) {
        io_consume(r, r->pending);
        r->pending = 0;
    }
    for (;;) {
        const uint8_t *p;
        size_t n;
        io_window(r, &p, &n);
        const uint8_t *nl = n > r->scan ? memchr(p + r->scan, '\n', n - r->scan) : NULL;
        if (nl) {
            size_t l = (size_t)(nl - p);
            r->lineno++;
            *lineno = r->lineno;
            if (skipping || l > max_line) {
                io_consume(r, l + 1);
                return IO_LINE_TOO_LONG;
            }
            r->pending = l + 1;
            r->scan = 0;
            if (l && p[l - 1] == '\r') l--;
            *line = p;
            *len = l;
            return IO_LINE_OK;
        }
        r->scan = n;
        if (n > max_line) { /* drop what we have; remember to skip the rest */
            skipping = 1;
            io_consume(r, n);
        }
        int rc = io_more(r, err, errlen);
        if (rc < 0) return IO_LINE_ERR;
        if (rc == 0) {
            io_window(r, &p, &n);
            if (!n && !skipping) return IO_LINE_EOF;
            r->lineno++;
            *lineno = r->lineno;
            io_consume(r, n);
            if (skipping) return IO_LINE_TOO_LONG;
            /* the window stays intact until the next io_more */
            if (n && p[n - 1] == '\r') n--;
            *line = p;
            *len = n;
            return IO_LINE_OK;
        }
    }
}
