/* What the catalog says about the lake tables streams land in: the table a
 * stream found in the data directory landed in before, and tables a new
 * stream must not take (fed by another stream, or written by CREATE TABLE
 * AS).  Read once at start-up, and again at each auto-create. */
#include "server/sv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sv__landed_load(sv_server *s, sv__landed *l)
{
    char err[512], **names = NULL;
    memset(l, 0, sizeof *l);
    ct_catalog *cat = s->o.store ? ct_open(s->catalog_path, err, sizeof err) : NULL;
    int n = cat ? ct_tables(cat, &names, err, sizeof err) : 0;
    if (n > 0) l->t = ut_calloc((size_t)n, sizeof *l->t);
    for (int i = 0; i < n; i++)
        if (ct_table_get(cat, names[i], &l->t[l->n], err, sizeof err) == 1) l->n++;
    if (n > 0) ct_names_free(names, n);
    ct_close(cat);
}

void sv__landed_free(sv__landed *l)
{
    for (int i = 0; i < l->n; i++) ct_table_free(&l->t[i]);
    free(l->t);
    memset(l, 0, sizeof *l);
}

/* t is the errors table (lk_errors_table_name) of another table fed by the
 * same stream. */
static int errors_of_sibling(const sv__landed *l, const ct_table *t)
{
    char en[LK_TABLE_NAME_MAX + 1];
    for (int j = 0; j < l->n; j++) {
        const ct_table *o = &l->t[j];
        if (o == t || strcmp(o->stream, t->stream)) continue;
        lk_errors_table_name(o->name, en);
        if (!strcmp(en, t->name)) return 1;
    }
    return 0;
}

const ct_table *sv__landed_table(const sv__landed *l, const char *stream)
{
    const ct_table *best = NULL;
    for (int i = 0; i < l->n; i++) {
        const ct_table *t = &l->t[i];
        if (!strcmp(t->stream, stream) && !errors_of_sibling(l, t) && (!best || t->id > best->id))
            best = t;
    }
    return best;
}

int sv__landed_check(const sv__landed *l, const char *stream, const char *table, ut_error *e)
{
    for (int i = 0; i < l->n; i++) {
        const ct_table *t = &l->t[i];
        if (!strcmp(t->stream, stream) || !cf_tables_collide(t->name, table)) continue;
        if (!t->stream[0])
            return ut_fail(e, UT_EEXISTS,
                           "stream %s would land in table %s, but the lake has table %s, "
                           "written by CREATE TABLE AS; give the stream its own sink.table",
                           stream, table, t->name);
        char msg[UT_ERRMSG_MAX - 96];
        cf_tables_clash(msg, sizeof msg, t->stream, t->name, stream, table);
        return ut_fail(e, UT_EEXISTS, "%s (the catalog has %s, fed by stream %s)", msg, t->name,
                       t->stream);
    }
    return 0;
}
