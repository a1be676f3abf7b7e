/* jobs: the lake tables a sql job's SELECT reads, found in its text, become
 * dependencies (docs/jobs.md, "Dependencies").
 *
 * The text is scanned as SQL tokens: '...' literals and -- and block
 * comments are skipped, "..." and `...` are identifiers, `lake.x` is x.
 * Every identifier that names a table some job or stream of the config
 * writes (ASCII case ignored) is a read; the job's own table is not (an
 * incremental job may read what it wrote).  Without a catalog this cannot
 * tell a column from a table of the same name: it errs on the side of a
 * dependency too many, never one too few. */
#include "jobs/jb_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_IDENT 128

/* Is name a table written by a job or landed by a stream?  Its canonical
 * spelling into out[CF_TABLE_MAX] (1), or 0. */
static int lake_table(const cf_config *cf, const char *name, char *out)
{
    for (int i = 0; i < cf->njobs; i++)
        if (cf->jobs[i].table[0] && !strcasecmp(cf->jobs[i].table, name)) {
            snprintf(out, CF_TABLE_MAX, "%s", cf->jobs[i].table);
            return 1;
        }
    for (int i = 0; i < cf->nstreams; i++) {
        char t[CF_TABLE_MAX];
        cf_sink_table(cf->streams[i].name, cf->streams[i].sink.table, t, sizeof t);
        if (cf->streams[i].sink.enabled && !strcasecmp(t, name)) {
            snprintf(out, CF_TABLE_MAX, "%s", t);
            return 1;
        }
    }
    return 0;
}

/* Skip a literal, comment or quoted identifier starting at p (copying a
 * quoted identifier into id); returns the position after it, or p. */
static const char *skip_special(const char *p, char *id, size_t *idn)
{
    if (p[0] == '-' && p[1] == '-') return p + strcspn(p, "\n");
    if (p[0] == '/' && p[1] == '*') {
        const char *e = strstr(p + 2, "*/");
        return e ? e + 2 : p + strlen(p);
    }
    if (*p == '\'') {
        for (p++; *p; p++)
            if (*p == '\'' && p[1] != '\'') return p + 1;
            else if (*p == '\'') p++;
        return p;
    }
    if (*p == '"' || *p == '`') {
        char q = *p++;
        *idn = 0;
        for (; *p && *p != q; p++)
            if (*idn < MAX_IDENT - 1) id[(*idn)++] = *p;
        id[*idn] = 0;
        return *p ? p + 1 : p;
    }
    return p;
}

int jb__sql_reads(const cf_config *cf, const cf_job *j, const char *sql,
                  void (*fn)(void *arg, const char *table), void *arg)
{
    char id[MAX_IDENT], t[CF_TABLE_MAX];
    int n = 0;
    for (const char *p = sql; p && *p;) {
        size_t idn = (size_t)-1;
        const char *q = skip_special(p, id, &idn);
        if (q == p && (isalpha((unsigned char)*p) || *p == '_')) {
            idn = 0;
            for (; isalnum((unsigned char)*q) || *q == '_'; q++)
                if (idn < MAX_IDENT - 1) id[idn++] = *q;
            id[idn] = 0;
        } else if (q == p) {
            q = p + 1;
        }
        p = q;
        if (idn == (size_t)-1 || !lake_table(cf, id, t)) continue;
        if (j->table[0] && !strcasecmp(t, j->table)) continue;
        fn(arg, t);
        n++;
    }
    return n;
}

#define SQL_FILE_MAX (1u << 20)

char *jb__sql_text(const cf_config *cf, const cf_job *j, const char *config_dir, char *err,
                   size_t errlen)
{
    if (j->kind != CF_JOB_SQL) return ut_strdup("");
    if (j->sql[0]) return ut_strdup(j->sql);
    char dir[4096] = ".", path[8400];
    if (config_dir) snprintf(dir, sizeof dir, "%s", config_dir);
    else if (cf->file && strrchr(cf->file, '/'))
        snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(cf->file, '/') - cf->file), cf->file);
    if (j->sql_file[0] == '/') snprintf(path, sizeof path, "%s", j->sql_file);
    else snprintf(path, sizeof path, "%s/%s", dir, j->sql_file);
    FILE *f = fopen(path, "rb");
    if (!f) return ut_err(err, errlen, "sql_file %s cannot be read", path), NULL;
    char *buf = ut_malloc(SQL_FILE_MAX + 1);
    size_t n = fread(buf, 1, SQL_FILE_MAX + 1, f);
    fclose(f);
    if (n > SQL_FILE_MAX) {
        free(buf);
        return ut_err(err, errlen, "sql_file %s is over %u bytes", path, SQL_FILE_MAX), NULL;
    }
    buf[n] = 0;
    return buf;
}

typedef struct dep_list {
    char **v;
    int n;
} dep_list;

static void add_dep(void *arg, const char *t)
{
    dep_list *d = arg;
    for (int i = 0; i < d->n; i++)
        if (!strcasecmp(d->v[i], t)) return;
    if (d->n >= 1000) return;
    d->v = ut_realloc(d->v, sizeof *d->v * (size_t)(d->n + 1));
    d->v[d->n++] = ut_strdup(t);
}

int jb__deps(const cf_config *cf, const cf_job *j, const char *config_dir, char ***out,
             char *err, size_t errlen)
{
    dep_list d = {0};
    for (int i = 0; i < j->depends_on.n; i++) add_dep(&d, j->depends_on.v[i]);
    char *sql = jb__sql_text(cf, j, config_dir, err, errlen);
    if (!sql) {
        jb__deps_free(d.v, d.n);
        return -1;
    }
    jb__sql_reads(cf, j, sql, add_dep, &d);
    free(sql);
    if (j->kind == CF_JOB_LOAD || j->kind == CF_JOB_EXPORT) { /* waits for its lake table */
        add_dep(&d, j->source);
        jb__sql_reads(cf, j, j->query, add_dep, &d);
    }
    *out = d.v;
    return d.n;
}

void jb__deps_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}
