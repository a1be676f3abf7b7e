/* sluice tables / describe / ddl for the catalog's views (a snapshot's
 * merge view): listed after the tables, described by their definition,
 * and printed as a CREATE VIEW for another engine. */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void key_text(ut_buf *b, const ct_view *v)
{
    for (int k = 0; k < v->nkey; k++) {
        if (k) ut_buf_puts(b, ", ");
        ut_buf_puts(b, v->key[k]);
    }
}

void cli__view_location(const ct_view *v, char *out, size_t n)
{
    snprintf(out, n, "view: latest row per key of %s (job %s)", v->base, v->job);
}

int cli__view_describe(ct_catalog *c, const char *name, int json)
{
    ct_view v;
    char err[1024];
    int found = ct_view_get(c, name, &v, err, sizeof err);
    if (found < 0) cli_errorf("describe", "%s", err);
    if (found <= 0) return found;
    ut_buf b = {0};
    if (json) {
        ct_view_json(&b, &v);
        ut_buf_putc(&b, '\n');
    } else {
        ut_buf_printf(&b, "view       %s\nkind       view (the latest row per key)\nbase       "
                      "%s\njob        %s\nkey        ", v.name, v.base, v.job);
        key_text(&b, &v);
        ut_buf_printf(&b, "\nlatest     the largest %s (ties: the later partition)\n\n"
                      "definition\n  %s\n", v.order, v.sql);
    }
    fwrite(b.p, 1, b.len, stdout);
    ut_buf_free(&b);
    ct_view_free(&v);
    return 1;
}

int cli__view_ddl(ct_catalog *c, const char *name, const char *dialect, const char *schema)
{
    ct_view v;
    ct_table t = {0};
    char err[1024];
    int found = ct_view_get(c, name, &v, err, sizeof err);
    if (found <= 0) {
        if (found < 0) cli_errorf("ddl", "%s", err);
        return found;
    }
    int have = ct_table_get(c, v.base, &t, err, sizeof err);
    char *sql = have > 0 ? ct_view_sql(&v, &t, dialect, schema, 1, err, sizeof err) : NULL;
    if (have == 0) snprintf(err, sizeof err, "view %s: its table %s is gone", v.name, v.base);
    if (sql) fputs(sql, stdout);
    else cli_errorf("ddl", "%s", err);
    free(sql);
    ct_table_free(&t);
    ct_view_free(&v);
    return sql ? 1 : -1;
}
