/* The catalog's views (ct_views: a snapshot's merge view) as TEMP views of
 * the engine, made by sq_refresh, not by a user statement.  TEMP because
 * lake tables are DIRECTONLY (no view of a persistent schema may read one:
 * an attached file's schema cannot reach the lake); the authorizer refuses
 * a user statement that drops one.  A view whose text changed (its base
 * table gained columns) is made again; one gone from the catalog dropped. */
#include "sql/sq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static int exec(sq_engine *e, ut_buf *b, char *why, size_t n)
{
    ut_buf_putc(b, 0);
    char *msg = NULL;
    int rc = sqlite3_exec(e->db, (const char *)b->p, NULL, NULL, &msg);
    if (rc != SQLITE_OK) snprintf(why, n, "%s", msg ? msg : sqlite3_errmsg(e->db));
    sqlite3_free(msg);
    ut_buf_free(b);
    return rc == SQLITE_OK ? 0 : -1;
}

static void drop(sq_engine *e, const char *name)
{
    ut_buf b = {0};
    char why[256];
    ut_buf_puts(&b, "DROP VIEW IF EXISTS temp.");
    sq__ident(&b, name);
    exec(e, &b, why, sizeof why);
}

/* Make view v (its text hashed h) as the catalog has it. */
static void make(sq_engine *e, const ct_view *v)
{
    ut_buf b = {0};
    char why[512];
    ut_buf_puts(&b, "CREATE TEMP VIEW ");
    sq__ident(&b, v->name);
    ut_buf_puts(&b, " AS ");
    ut_buf_puts(&b, v->sql);
    if (exec(e, &b, why, sizeof why)) /* one bad view never fails the others */
        sq__warn_once("view %s is skipped (cannot be declared): %s", v->name, why);
}

int sq__views_refresh(sq_engine *e, char *err, size_t errlen)
{
    ct_view *v = NULL;
    int all = ct_views(e->cat, &v, err, errlen);
    if (all < 0) return -1;
    int n = all < SQ_MAX_TABLES ? all : SQ_MAX_TABLES;
    sq_known_view *now = ut_calloc((size_t)n + 1, sizeof *now);
    for (int i = 0; i < n; i++) {
        snprintf(now[i].name, sizeof now[i].name, "%s", v[i].name);
        now[i].hash = XXH3_64bits(v[i].sql, strlen(v[i].sql));
        int k = 0;
        while (k < e->nviews && strcmp(e->views[k].name, v[i].name)) k++;
        if (k < e->nviews && e->views[k].hash == now[i].hash) {
            e->views[k].name[0] = 0; /* kept */
            continue;
        }
        if (k < e->nviews) e->views[k].name[0] = 0, drop(e, v[i].name);
        make(e, &v[i]);
    }
    for (int k = 0; k < e->nviews; k++)
        if (e->views[k].name[0]) drop(e, e->views[k].name);
    free(e->views);
    e->views = now, e->nviews = n;
    ct_views_free(v, all);
    return 0;
}

int sq__is_view(const sq_engine *e, const char *name)
{
    for (int k = 0; name && k < e->nviews; k++)
        if (!sqlite3_stricmp(e->views[k].name, name)) return 1;
    return 0;
}
