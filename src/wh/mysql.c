/* wh: MySQL / MariaDB rows as multi-row INSERTs (kind export).  The
 * session runs with ANSI_QUOTES and NO_BACKSLASH_ESCAPES: identifiers are
 * "x" (wh_ident) and a literal is '...' with ' doubled, every other byte as
 * it is. */
#include "wh/wh.h"

#include <string.h>

void wh_my_insert(ut_buf *b, const wh_plan *p)
{
    char into[160];
    ut_buf_puts(b, "INSERT INTO ");
    wh_table_ident(b, wh_copy_into(p, into, sizeof into));
    ut_buf_puts(b, " (");
    for (int i = 0; i < p->ncols; i++) {
        if (i) ut_buf_puts(b, ", ");
        wh_ident(b, p->cols[i].name);
    }
    ut_buf_puts(b, ") VALUES ");
}

void wh_my_insert_end(ut_buf *b, const wh_plan *p)
{
    if (p->mode != WH_UPSERT) return;
    int set = 0;
    for (int i = 0; i < p->ncols; i++) {
        int key = 0;
        for (int k = 0; k < p->nkey; k++) key |= !strcmp(p->key[k], p->cols[i].name);
        if (key) continue;
        ut_buf_puts(b, set++ ? ", " : " ON DUPLICATE KEY UPDATE ");
        wh_ident(b, p->cols[i].name);
        ut_buf_puts(b, " = VALUES(");
        wh_ident(b, p->cols[i].name);
        ut_buf_putc(b, ')');
    }
    if (!set && p->nkey) { /* only key columns: a no-op update keeps the row */
        ut_buf_puts(b, " ON DUPLICATE KEY UPDATE ");
        wh_ident(b, p->key[0]);
        ut_buf_puts(b, " = ");
        wh_ident(b, p->key[0]);
    }
}

void wh_my_literal(ut_buf *b, const char *v, size_t n)
{
    size_t run = 0;
    ut_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (v[i] != '\'') continue;
        ut_buf_put(b, v + run, i + 1 - run);
        ut_buf_putc(b, '\'');
        run = i + 1;
    }
    ut_buf_put(b, v + run, n - run);
    ut_buf_putc(b, '\'');
}

void wh_my_hex(ut_buf *b, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ut_buf_puts(b, "X'");
    for (size_t i = 0; i < n; i++) {
        ut_buf_putc(b, (uint8_t)hex[v[i] >> 4]);
        ut_buf_putc(b, (uint8_t)hex[v[i] & 15]);
    }
    ut_buf_putc(b, '\'');
}
