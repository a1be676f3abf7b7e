/* jobs: the tables of a snapshot job, which are its parts.
 *
 *   include / exclude ──► the source's tables now (sn_tables) ──► + every
 *   name without wildcards (include, tables:) ──► kept as the job's parts
 *   in the catalog (the store accounts.sql uses: job_accounts), so the
 *   scheduler, triggers, backfills and workers in any process see the same
 *   list.
 *
 * Looked at when the job fires, and by triggers and backfills.  A name given
 * outright is kept even when the source lacks it, so that its run fails on
 * its own with "table ... does not exist" rather than vanishing silently. */
#include "jobs/jb_int.h"
#include "lake/lake.h"
#include "log/log.h"
#include "snap/snap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTS 10000

static int has_wildcard(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int valid_part(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

typedef struct part_list {
    char **v;
    int n, skipped;
} part_list;

static void add(part_list *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->v[i], name)) return;
    if (!valid_part(name) || p->n >= MAX_PARTS) {
        p->skipped++;
        return;
    }
    p->v = ut_realloc(p->v, sizeof *p->v * (size_t)(p->n + 1));
    p->v[p->n++] = ut_strdup(name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names matched in the source (patterns only).  0 / -1 with err. */
static int from_source(const cf_config *cf, const cf_job *j, part_list *p, char *err,
                       size_t errlen)
{
    int patterns = 0;
    for (int i = 0; i < j->include.n; i++) patterns |= has_wildcard(j->include.v[i]);
    if (!patterns) return 0;
    sn_source *s = sn_open(cf, j->source, err, errlen);
    if (!s) return -1;
    char **names = NULL;
    int n = sn_tables(s, (const char *const *)j->include.v, j->include.n,
                      (const char *const *)j->exclude.v, j->exclude.n, &names, err, errlen);
    sn_close(s);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) add(p, names[i]);
    sn_names_free(names, n);
    return 0;
}

int jb__snap_resolve(const cf_config *cf, ct_catalog *cat, const cf_job *j, ut_error *e)
{
    char err[600];
    part_list p = {0};
    for (int i = 0; i < j->include.n; i++)
        if (!has_wildcard(j->include.v[i])) add(&p, j->include.v[i]);
    for (int i = 0; i < j->ntables; i++) add(&p, j->tables[i].name);
    int rc = 0;
    if (from_source(cf, j, &p, err, sizeof err)) {
        char **old = NULL, oerr[300];
        int n = ct_job_accounts(cat, j->name, &old, oerr, sizeof oerr);
        for (int i = 0; i < n; i++) free(old[i]);
        free(old);
        if (n <= 0 && !p.n) {
            for (int i = 0; i < p.n; i++) free(p.v[i]);
            free(p.v);
            return ut_fail(e, UT_EIO, "job %s: %s", j->name, err);
        }
        lg_warn("jobs", "job %s: the source's tables could not be listed (%s); %s", j->name, err,
                n > 0 ? "the tables found last are snapshotted" : "only the tables named outright "
                "are snapshotted");
        if (n > 0) {
            for (int i = 0; i < p.n; i++) free(p.v[i]);
            free(p.v);
            return 0;
        }
    }
    if (p.skipped)
        lg_warn("jobs", "job %s: %d source tables left out: a name must be 1-64 of "
                "A-Za-z0-9_.- (and at most %d tables)", j->name, p.skipped, MAX_PARTS);
    qsort(p.v, (size_t)p.n, sizeof *p.v, cmp_str);
    const char **args = ut_calloc((size_t)p.n + 1, sizeof *args);
    for (int i = 0; i < p.n; i++) args[i] = "{}";
    if (ct_job_accounts_set(cat, j->name, (const char *const *)p.v, args, p.n, err, sizeof err))
        rc = ut_fail(e, UT_EIO, "job %s: tables: %s", j->name, err);
    free(args);
    for (int i = 0; i < p.n; i++) free(p.v[i]);
    free(p.v);
    return rc;
}

int jb__snap_lake_name(const cf_job *j, const char *part, char *out, size_t n)
{
    const cf_snap_table *t = cf_snap_table_find(j, part);
    int m = t && t->target[0] ? snprintf(out, n, "%s", t->target)
                              : snprintf(out, n, "%s%s", j->table_prefix, part);
    if (m < 0 || (size_t)m >= n) return -1;
    if (!(t && t->target[0]))
        for (char *p = out + strlen(j->table_prefix); *p; p++)
            if (*p == '.') *p = '_';
    return 0;
}

/* Another part of job o (as last resolved) whose lake table is `table`
 * (not `part` of job j itself).  1 / 0 / -1. */
static int twin_in(ct_catalog *cat, const cf_job *o, const cf_job *j, const char *part,
                   const char *table, char *twin, size_t n, char *err, size_t errlen)
{
    char **parts = NULL, other[LK_TABLE_NAME_MAX + 1];
    int np = ct_job_accounts(cat, o->name, &parts, err, errlen), found = 0;
    if (np < 0) return -1;
    for (int i = 0; i < np && !found; i++)
        if (!(o == j && !strcmp(parts[i], part)) &&
            !jb__snap_lake_name(o, parts[i], other, sizeof other) && !strcasecmp(other, table)) {
            if (o == j) snprintf(twin, n, "source table %s", parts[i]);
            else snprintf(twin, n, "source table %s of job %s", parts[i], o->name);
            found = 1;
        }
    for (int i = 0; i < np; i++) free(parts[i]);
    free(parts);
    return found;
}

int jb__snap_lake_twin(const cf_config *cf, ct_catalog *cat, const cf_job *j, const char *part,
                       const char *table, char *twin, size_t n, char *err, size_t errlen)
{
    int rc = twin_in(cat, j, j, part, table, twin, n, err, errlen);
    for (int i = 0; i < cf->njobs && rc == 0; i++)
        if (cf->jobs[i].kind == CF_JOB_SNAPSHOT && &cf->jobs[i] != j)
            rc = twin_in(cat, &cf->jobs[i], j, part, table, twin, n, err, errlen);
    return rc;
}
