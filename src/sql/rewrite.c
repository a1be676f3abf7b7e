/* Table functions with a schema that depends on their argument:
 * read_parquet('path/or/glob'), read_csv('path'[, sample[, 'types']]),
 * read_ndjson('path'[, sample[, 'types']])
 * (sample: the records whose keys and values decide the columns, 0 = all).
 * SQLite's table-valued functions have fixed columns, so each call with a
 * string literal is replaced, before SQLite sees the statement, by a temp
 * virtual table (temp._sq_file_N) created for that file; sq_query drops them
 * afterwards.  Strings, quoted identifiers and comments are skipped.  At
 * most SQ_MAX_FILE_FUNCS calls per query (each is a table SQLite holds). */
#include "sql/sq_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *fn, *module;
} fns[] = {{"read_parquet", "sluice_parquet"}, {"read_csv", "sluice_csv"},
           {"read_ndjson", "sluice_ndjson"}, {"read_json", "sluice_ndjson"}};

static size_t skip_ws(const char *s, size_t i)
{
    for (;;) {
        while (s[i] && isspace((unsigned char)s[i])) i++;
        if (s[i] == '-' && s[i + 1] == '-') {
            while (s[i] && s[i] != '\n') i++;
        } else if (s[i] == '/' && s[i + 1] == '*') {
            const char *end = strstr(s + i + 2, "*/");
            i = end ? (size_t)(end - s) + 2 : strlen(s);
        } else {
            return i;
        }
    }
}

/* End of the quoted token starting at s[i] (quote q, doubled to escape). */
static size_t skip_quoted(const char *s, size_t i, char q)
{
    i++;
    while (s[i]) {
        if (s[i] == q) {
            if (s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return i;
}

char *sq__rewrite(sq_engine *e, const char *sql, char *err, size_t errlen)
{
    ut_buf out = {0};
    size_t i = 0, n = strlen(sql);
    char prev = 0;
    while (i < n) {
        char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            size_t j = skip_quoted(sql, i, c);
            ut_buf_put(&out, sql + i, j - i);
            i = j;
            prev = c;
            continue;
        }
        if (c == '[') {
            const char *end = strchr(sql + i, ']');
            size_t j = end ? (size_t)(end - sql) + 1 : n;
            ut_buf_put(&out, sql + i, j - i);
            i = j;
            prev = ']';
            continue;
        }
        if ((c == '-' && sql[i + 1] == '-') || (c == '/' && sql[i + 1] == '*')) {
            size_t j = skip_ws(sql, i);
            ut_buf_put(&out, sql + i, j - i);
            i = j;
            continue;
        }
        if (isalpha((unsigned char)c) || c == '_') {
            size_t j = i;
            while (j < n && (isalnum((unsigned char)sql[j]) || sql[j] == '_' || sql[j] == '$')) j++;
            int f = -1;
            for (int k = 0; k < (int)(sizeof fns / sizeof fns[0]); k++)
                if (strlen(fns[k].fn) == j - i && !strncasecmp(sql + i, fns[k].fn, j - i)) f = k;
            size_t a = skip_ws(sql, j);
            if (f >= 0 && prev != '.' && sql[a] == '(') {
                size_t q = skip_ws(sql, a + 1);
                if (sql[q] == '\'') {
                    size_t qe = skip_quoted(sql, q, '\'');
                    size_t r = skip_ws(sql, qe), ae = qe; /* ae: end of the arguments */
                    if (sql[r] == ',' && f > 0) { /* read_csv/read_ndjson('p', sample) */
                        size_t d = skip_ws(sql, r + 1), de = d;
                        while (isdigit((unsigned char)sql[de]) && de - d < 12) de++;
                        if (de > d) r = skip_ws(sql, ae = de);
                        size_t t = skip_ws(sql, r + 1); /* ..., 'types') */
                        if (de > d && sql[r] == ',' && sql[t] == '\'')
                            r = skip_ws(sql, ae = skip_quoted(sql, t, '\''));
                    }
                    if (sql[r] == ')') {
                        if (e->o.no_files) {
                            ut_err(err, errlen, "%s is disabled here (files are not readable)",
                                   fns[f].fn);
                            goto fail;
                        }
                        if (e->nfile_tabs >= SQ_MAX_FILE_FUNCS) {
                            ut_err(err, errlen, "more than %d table functions in one query",
                                   SQ_MAX_FILE_FUNCS);
                            goto fail;
                        }
                        if (qe - q > 4000 || ae - qe > SQ_MAX_TYPES_ARG) {
                            ut_err(err, errlen, "%s: %s", fns[f].fn, qe - q > 4000
                                   ? "path over 4000 bytes" : "arguments too long");
                            goto fail;
                        }
                        ut_buf create = {0};
                        ut_buf_printf(&create, "CREATE VIRTUAL TABLE temp._sq_file_%d USING %s(",
                                      e->nfile_tabs, fns[f].module);
                        ut_buf_put(&create, sql + q, ae - q);
                        ut_buf_puts(&create, ")");
                        char *msg = NULL;
                        int xrc = sqlite3_exec(e->db, ut_buf_cstr(&create), NULL, NULL, &msg);
                        ut_buf_free(&create);
                        if (xrc != SQLITE_OK) {
                            ut_err(err, errlen, "%s", msg ? msg : sqlite3_errmsg(e->db));
                            sqlite3_free(msg);
                            goto fail;
                        }
                        ut_buf_printf(&out, "temp._sq_file_%d", e->nfile_tabs++);
                        i = r + 1;
                        prev = ')';
                        continue;
                    }
                }
            }
            ut_buf_put(&out, sql + i, j - i);
            i = j;
            prev = 'a';
            continue;
        }
        ut_buf_putc(&out, (uint8_t)c);
        if (!isspace((unsigned char)c)) prev = c;
        i++;
    }
    ut_buf_putc(&out, 0);
    char *nl = sq__nulls_last((const char *)out.p); /* Trino's NULL order (nulls.c) */
    if (nl) {
        ut_buf_free(&out);
        return nl;
    }
    return (char *)out.p;
fail:
    ut_buf_free(&out);
    return NULL;
}
