/* snap: one row of PostgreSQL's COPY text format, split and unescaped in
 * place (the row is libpq's buffer; nothing is copied).
 *
 *   a<TAB>b\tc<TAB>\N<TAB>\\x0a1b\n
 *   │     │        │     └ "\x0a1b"  (bytea's hex form, its backslash escaped)
 *   │     │        └ NULL
 *   │     └ "b<TAB>c"
 *   └ "a"
 *
 * Escapes (PostgreSQL's COPY docs, "Text Format"): \b \f \n \r \t \v, \\,
 * \NNN (1-3 octal digits), \xHH (1-2 hex digits), any other \c is c.  \N is
 * NULL only as a whole field.  The unescaped text is never longer than the
 * escaped one, so decoding in place is safe. */
#include "snap/snap.h"

#include <string.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode the escape at s[*i] (just after its backslash, *i < end) into *out;
 * advance *i past it. */
static unsigned char unescape(const char *s, size_t *i, size_t end)
{
    unsigned char c = (unsigned char)s[(*i)++];
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case 'x':
        if (*i < end && hexval((unsigned char)s[*i]) >= 0) {
            int v = hexval((unsigned char)s[(*i)++]);
            if (*i < end && hexval((unsigned char)s[*i]) >= 0) v = v * 16 + hexval((unsigned char)s[(*i)++]);
            return (unsigned char)v;
        }
        return 'x';
    default:
        if (c >= '0' && c <= '7') {
            int v = c - '0';
            for (int k = 0; k < 2 && *i < end && s[*i] >= '0' && s[*i] <= '7'; k++)
                v = v * 8 + (s[(*i)++] - '0');
            return (unsigned char)v; /* \777 wraps like PostgreSQL's (char) cast */
        }
        return c;
    }
}

/* Decode field s[start..end) in place; its new length, or -1 when it ends
 * in a lone backslash (PostgreSQL never writes one). */
static long decode(char *s, size_t start, size_t end)
{
    size_t o = start;
    for (size_t i = start; i < end;) {
        if (s[i] != '\\') {
            s[o++] = s[i++];
            continue;
        }
        if (++i >= end) return -1;
        s[o++] = (char)unescape(s, &i, end);
    }
    return (long)(o - start);
}

/* The row is cut at every tab: the server writes a tab inside a value as
 * \t, never raw, so a raw tab always ends a field.  Only fields holding a
 * backslash are decoded (memchr finds both, a word at a time). */
int sn_copy_split(char *line, size_t len, char **v, size_t *n, int max, char *err, size_t errlen)
{
    if (len && line[len - 1] == '\n') len--;
    int nf = 0;
    for (size_t start = 0;;) {
        const char *tab = memchr(line + start, '\t', len - start);
        size_t end = tab ? (size_t)(tab - line) : len;
        if (nf == max) return ut_err(err, errlen, "a COPY row has more than %d fields", max);
        if (end - start == 2 && line[start] == '\\' && line[start + 1] == 'N') {
            v[nf] = NULL, n[nf++] = 0;
        } else {
            long m = (long)(end - start);
            if (memchr(line + start, '\\', end - start) && (m = decode(line, start, end)) < 0)
                return ut_err(err, errlen, "a COPY field ends in a lone backslash");
            v[nf] = line + start, n[nf++] = (size_t)m;
        }
        if (!tab) break;
        start = end + 1;
    }
    return nf;
}
