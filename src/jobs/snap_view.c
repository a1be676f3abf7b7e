/* jobs: a snapshot table's merge view (tables.<t>.merge) — the latest row
 * per key of an incremental table, put in the catalog with every run's
 * commit (ct_run_done.view), so the view always lists the lake table's
 * columns as that commit left them and exists exactly when a commit does.
 *
 *   key: merge.key, else the source's primary key (sn_column.pk)
 *   ──► each key column and the cursor to its lake column (rename, the
 *       lake's name rule, names kept from earlier runs)
 *   ──► ct_view {name, base, job, key, order = the cursor's lake column} */
#include "jobs/jb_snap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jb__snap_view_name(const cf_job *j, const char *part, char *out, size_t n)
{
    const cf_snap_table *t = cf_snap_table_find(j, part);
    if (!t || !t->merge.line) return 0;
    if (t->merge.view[0]) return snprintf(out, n, "%s", t->merge.view) < (int)n ? 1 : -1;
    char lake[LK_TABLE_NAME_MAX + 1];
    if (jb__snap_lake_name(j, part, lake, sizeof lake)) return -1;
    return snprintf(out, n, "%s_latest", lake) < (int)n ? 1 : -1;
}

/* The lake column source column `name` went to in this run, or NULL (not
 * read: dropped, not among columns, not in the source). */
static const char *lake_col(const jb_snap_run *k, const char *name)
{
    const sn_column *src = sn_scan_columns(k->scan);
    for (int i = 0; i < k->ncols; i++) {
        int s = k->sc[i].sel;
        if (s >= 0 && !strcmp(src[k->sel[s]].name, name)) return k->cols[i].name;
    }
    return NULL;
}

/* The key's source columns: merge.key, else the primary key in its order. */
static int key_columns(const jb_snap_run *k, const char **key, ut_error *e)
{
    const cf_snap_merge *m = &k->cfg->merge;
    int n = 0;
    for (int i = 0; i < m->key.n && n < CT_VIEW_MAX_KEY; i++) key[n++] = m->key.v[i];
    if (n) return n;
    const sn_column *src = sn_scan_columns(k->scan);
    for (int i = 0; i < sn_scan_ncols(k->scan); i++)
        if (src[i].pk > CT_VIEW_MAX_KEY)
            return jb__snap_fail((jb_snap_run *)k, e, UT_EINVAL, "merge: the source's primary "
                                 "key has over %d columns; give merge.key", CT_VIEW_MAX_KEY);
    for (int pos = 1; pos <= CT_VIEW_MAX_KEY; pos++)
        for (int i = 0; i < sn_scan_ncols(k->scan); i++)
            if (src[i].pk == pos) key[n++] = src[i].name;
    if (!n)
        return jb__snap_fail((jb_snap_run *)k, e, UT_EINVAL, "merge: the source reports no "
                             "primary key; give merge.key (the columns that identify a row)");
    return n;
}

/* The mask a key column may not have: one that makes many keys one. */
static int collapses(const jb_snap_run *k, const char *lake)
{
    for (int i = 0; i < k->ncols; i++)
        if (!strcmp(k->cols[i].name, lake) && k->sc[i].mask) {
            mk_kind kd = mk_kind_of(k->sc[i].mask);
            return kd == MK_NULL || kd == MK_REDACT;
        }
    return 0;
}

static int fill(jb_snap_run *k, ct_view *out, ut_error *e)
{
    const cf_job *j = k->c->job;
    if (jb__snap_view_name(j, k->c->run->part, out->name, sizeof out->name) < 0)
        return jb__snap_fail(k, e, UT_EINVAL, "merge: the view's name is too long (set "
                             "merge.view)");
    snprintf(out->base, sizeof out->base, "%s", k->table);
    snprintf(out->job, sizeof out->job, "%s", j->name);
    const char *key[CT_VIEW_MAX_KEY];
    int n = key_columns(k, key, e);
    if (n < 0) return -1;
    for (int i = 0; i <= n; i++) {
        const char *c = i < n ? key[i] : k->cfg->cursor, *l = lake_col(k, c);
        if (!l)
            return jb__snap_fail(k, e, UT_EINVAL, "merge: %s column '%s' is not read (the "
                                 "source has no such column, or columns/drop leave it out)",
                                 i < n ? "key" : "cursor", c);
        if (i < n && collapses(k, l))
            return jb__snap_fail(k, e, UT_EINVAL, "merge: key column '%s' is masked to one "
                                 "value for every row (null/redact)", c);
        snprintf(i < n ? out->key[i] : out->order, sizeof out->order, "%s", l);
    }
    out->nkey = n;
    return 0;
}

int jb__snap_view(jb_snap_run *k, ut_error *e)
{
    jb__snap_view_free(k->c);
    if (!k->cfg || !k->cfg->merge.line) return 0;
    ct_view *v = ut_calloc(1, sizeof *v);
    if (fill(k, v, e)) {
        free(v);
        return -1;
    }
    k->c->done->view = v;
    return 0;
}

void jb__snap_view_free(jb_task_ctx *c)
{
    free((void *)c->done->view);
    c->done->view = NULL;
}
