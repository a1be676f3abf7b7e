/* NULLs sort last, as in Trino, Presto and DuckDB.
 *
 * SQLite holds NULL smaller than every value, so `ORDER BY x` puts NULLs
 * first (and `ORDER BY x DESC` last).  Users coming from Trino expect them
 * last either way: a dashboard's top row would otherwise be the NULL group.
 * Before SQLite sees a statement, every ascending ORDER BY term without an
 * explicit NULLS FIRST / NULLS LAST gets " NULLS LAST" (DESC terms already
 * sort NULLs last):
 *
 *   text ──► tokens (strings, quoted names, comments copied untouched)
 *        ──► at each ORDER BY: its terms, split at commas of its own
 *            parenthesis depth, ending at LIMIT, OFFSET, UNION, EXCEPT,
 *            INTERSECT, ROWS, RANGE, GROUPS, ')' closing the depth, ';' or
 *            the end
 *        ──► a term whose last word is not DESC and whose last two words
 *            are not NULLS FIRST|LAST: an insertion point after it
 *        ──► the text again with the insertions
 *
 * Window definitions (OVER (...), WINDOW w AS (...)) are left as written:
 * an unaliased window column is named by its text, which the insertion
 * would change; write NULLS LAST there for Trino's order.  At most
 * SQ_MAX_NULLS_TERMS insertions (then the statement is left as written). */
#include "sql/sq_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SQ_MAX_NULLS_TERMS 4096
#define MAX_DEPTH 256

typedef struct tok {
    size_t a, b;  /* [a, b) in the text; b == a at the end */
    int word;     /* an unquoted identifier or keyword */
} tok;

static size_t skip_quoted(const char *s, size_t i, size_t n, char close)
{
    for (i++; i < n; i++) {
        if (s[i] != close) continue;
        if (close != ']' && i + 1 < n && s[i + 1] == close) {
            i++;
            continue;
        }
        return i + 1;
    }
    return n;
}

/* The next significant token at or after i (whitespace and comments skipped). */
static tok next_tok(const char *s, size_t i, size_t n)
{
    for (;;) {
        while (i < n && isspace((unsigned char)s[i])) i++;
        if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') i++;
        } else if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            i = e && (size_t)(e - s) < n ? (size_t)(e - s) + 2 : n;
        } else {
            break;
        }
    }
    tok t = {i, i, 0};
    if (i >= n) return t;
    char c = s[i];
    if (c == '\'' || c == '"' || c == '`') t.b = skip_quoted(s, i, n, c);
    else if (c == '[') t.b = skip_quoted(s, i, n, ']');
    else if (isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80) {
        t.b = i;
        while (t.b < n && (isalnum((unsigned char)s[t.b]) || s[t.b] == '_' || s[t.b] == '$' ||
                           (unsigned char)s[t.b] >= 0x80))
            t.b++;
        t.word = !isdigit((unsigned char)c);
    } else {
        t.b = i + 1;
    }
    return t;
}

static int is(const char *s, tok t, const char *kw)
{
    size_t k = strlen(kw);
    return t.word && t.b - t.a == k && !strncasecmp(s + t.a, kw, k);
}

static int ends_clause(const char *s, tok t)
{
    static const char *const kws[] = {"LIMIT", "OFFSET", "UNION", "EXCEPT", "INTERSECT",
                                      "ROWS",  "RANGE",  "GROUPS", NULL};
    for (int k = 0; kws[k]; k++)
        if (is(s, t, kws[k])) return 1;
    return 0;
}

typedef struct scan {
    const char *s;
    size_t n;
    size_t *at;   /* insertion points (offsets after a term) */
    int nat;
} scan;

/* A term ended after `last` (its final token), prev before it: note an
 * insertion unless it says DESC or NULLS FIRST|LAST already. */
static void term_end(scan *sc, tok prev, tok last, int empty)
{
    if (empty || is(sc->s, last, "DESC")) return;
    if (is(sc->s, prev, "NULLS") && (is(sc->s, last, "FIRST") || is(sc->s, last, "LAST"))) return;
    if (sc->nat < SQ_MAX_NULLS_TERMS) sc->at[sc->nat] = last.b;
    sc->nat++;
}

/* The terms of one ORDER BY starting at i, at parenthesis depth 0 relative
 * to it.  Returns the offset of the token that ended the clause (not
 * consumed). */
static size_t order_terms(scan *sc, size_t i)
{
    int depth = 0, empty = 1;
    tok prev = {0, 0, 0}, last = {0, 0, 0};
    for (;;) {
        tok t = next_tok(sc->s, i, sc->n);
        int end = t.a >= sc->n || (depth == 0 && (sc->s[t.a] == ')' || sc->s[t.a] == ';' ||
                                                  ends_clause(sc->s, t)));
        if (end || (depth == 0 && sc->s[t.a] == ',')) {
            term_end(sc, prev, last, empty);
            if (end) return t.a;
            empty = 1;
            prev = last = (tok){0, 0, 0};
            i = t.b;
            continue;
        }
        int open = sc->s[t.a] == '(' && t.b == t.a + 1, close = sc->s[t.a] == ')' && t.b == t.a + 1;
        if (close) depth--;
        if (depth == 0) prev = last, last = t; /* a parenthesised part counts as its ')' */
        if (open) depth++;
        empty = 0;
        i = t.b;
    }
}

/* Is the '(' at t the start of a window definition: OVER (...), or
 * WINDOW w AS (...) (an AS ( that does not open a SELECT)? */
static int opens_window(const char *s, size_t n, tok prev, tok t)
{
    if (is(s, prev, "OVER")) return 1;
    if (!is(s, prev, "AS")) return 0;
    tok in = next_tok(s, t.b, n);
    return !(is(s, in, "SELECT") || is(s, in, "VALUES") || is(s, in, "WITH") ||
             (in.a < n && s[in.a] == '('));
}

char *sq__nulls_last(const char *sql)
{
    size_t n = strlen(sql);
    scan sc = {sql, n, ut_malloc(SQ_MAX_NULLS_TERMS * sizeof(size_t)), 0};
    unsigned char win[MAX_DEPTH] = {0}; /* per open parenthesis: a window definition */
    int depth = 0;
    size_t i = 0;
    tok prev = {0, 0, 0};
    for (;;) {
        tok t = next_tok(sql, i, n);
        if (t.a >= n) break;
        if (sql[t.a] == '(') {
            if (depth < MAX_DEPTH) win[depth] = (unsigned char)opens_window(sql, n, prev, t);
            depth++;
        } else if (sql[t.a] == ')' && depth > 0) {
            depth--;
        }
        int in_window = depth > 0 && depth <= MAX_DEPTH && win[depth - 1];
        if (is(sql, t, "BY") && is(sql, prev, "ORDER") && !in_window) {
            i = order_terms(&sc, t.b);
            prev = (tok){0, 0, 0};
            continue;
        }
        prev = t;
        i = t.b;
    }
    char *out = NULL;
    if (sc.nat > 0 && sc.nat <= SQ_MAX_NULLS_TERMS) {
        ut_buf b = {0};
        size_t from = 0;
        for (int k = 0; k < sc.nat; k++) {
            ut_buf_put(&b, sql + from, sc.at[k] - from);
            ut_buf_puts(&b, " NULLS LAST");
            from = sc.at[k];
        }
        ut_buf_put(&b, sql + from, n - from);
        ut_buf_putc(&b, 0);
        out = (char *)b.p;
    }
    free(sc.at);
    return out;
}
