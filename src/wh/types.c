/* wh: the type mapping, identifiers and literals, the COPY text encoding. */
#include "wh/wh.h"

#include <stdio.h>
#include <string.h>

const char *wh_type(wh_dialect d, const ct_column *c, char *out, size_t n)
{
    const char *t = "text";
    switch (c->type) {
    case CT_BOOL: t = "boolean"; break;
    case CT_INT32: t = d == WH_MYSQL ? "int" : "integer"; break;
    case CT_INT64: t = "bigint"; break;
    case CT_FLOAT: t = d == WH_MYSQL ? "float" : "real"; break;
    case CT_DOUBLE: t = d == WH_MYSQL ? "double" : "double precision"; break;
    case CT_TIMESTAMP: t = d == WH_MYSQL ? "datetime(6)" : "timestamptz"; break; /* UTC */
    case CT_TIMESTAMP_NTZ: t = d == WH_MYSQL ? "datetime(6)" : "timestamp"; break;
    case CT_DATE: t = "date"; break;
    case CT_TIME: t = d == WH_MYSQL ? "time(6)" : "time"; break;
    case CT_BYTES: t = d == WH_REDSHIFT ? "varbyte" : d == WH_MYSQL ? "longblob" : "bytea"; break;
    case CT_DECIMAL:
        snprintf(out, n, "%s(%d,%d)", d == WH_MYSQL ? "decimal" : "numeric", c->precision,
                 c->scale);
        return out;
    case CT_STRING:
        t = d == WH_REDSHIFT ? "varchar(65535)" : d == WH_MYSQL ? "longtext" : "text";
        break;
    default: break;
    }
    snprintf(out, n, "%s", t);
    return out;
}

void wh_ident(ut_buf *b, const char *name)
{
    ut_buf_putc(b, '"');
    for (const char *s = name; *s; s++) {
        if (*s == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, (uint8_t)*s);
    }
    ut_buf_putc(b, '"');
}

void wh_table_ident(ut_buf *b, const char *table)
{
    const char *dot = strchr(table, '.');
    if (!dot) {
        wh_ident(b, table);
        return;
    }
    char schema[WH_IDENT_MAX + 1];
    size_t n = (size_t)(dot - table);
    snprintf(schema, sizeof schema, "%.*s", (int)(n < WH_IDENT_MAX ? n : WH_IDENT_MAX), table);
    wh_ident(b, schema);
    ut_buf_putc(b, '.');
    wh_ident(b, dot + 1);
}

void wh_literal(ut_buf *b, const char *s)
{
    ut_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') ut_buf_putc(b, '\'');
        ut_buf_putc(b, (uint8_t)*s);
    }
    ut_buf_putc(b, '\'');
}

static int ident_ok(const char *s, size_t n)
{
    if (n == 0 || n > WH_IDENT_MAX || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '$'))
            return 0;
    }
    return 1;
}

int wh_table_check(const char *table, char *err, size_t errlen)
{
    const char *dot = strchr(table, '.');
    size_t n = strlen(table);
    int ok = dot ? ident_ok(table, (size_t)(dot - table)) &&
                       ident_ok(dot + 1, n - (size_t)(dot - table) - 1)
                 : ident_ok(table, n);
    if (ok) return 0;
    return ut_err(err, errlen, "target table '%.80s': expected name or schema.name, each 1 to %d "
                  "letters, digits, _ or $ (not starting with a digit)", table, WH_IDENT_MAX);
}

/* v with each byte that esc maps escaped as '\\' esc[byte]. */
static void escape_with(ut_buf *b, const char *v, size_t n, const char esc[256])
{
    size_t run = 0; /* bytes of v copied as they are, pending */
    for (size_t i = 0; i < n; i++) {
        char e = esc[(uint8_t)v[i]];
        if (!e) continue;
        ut_buf_put(b, v + run, i - run);
        ut_buf_putc(b, '\\');
        ut_buf_putc(b, (uint8_t)e);
        run = i + 1;
    }
    ut_buf_put(b, v + run, n - run);
}

void wh_copy_text(ut_buf *b, const char *v, size_t n)
{
    static const char esc[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r'};
    escape_with(b, v, n, esc);
}

void wh_my_tsv(ut_buf *b, const char *v, size_t n)
{
    static const char esc[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r',
                                  [0] = '0'};
    escape_with(b, v, n, esc);
}

void wh_copy_bytea(ut_buf *b, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ut_buf_puts(b, "\\\\x");
    for (size_t i = 0; i < n; i++) {
        ut_buf_putc(b, (uint8_t)hex[v[i] >> 4]);
        ut_buf_putc(b, (uint8_t)hex[v[i] & 15]);
    }
}
