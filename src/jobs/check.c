/* jobs: what `config --check` and start-up verify about jobs beyond the
 * loader's shapes: schedules and zones compile, templates name known
 * variables (params listed, secrets present), pools exist, depends_on names
 * a job or a lake table, there is no dependency cycle, no table has two
 * producers; and a warning for table names that break the tier rule
 * (t1_|t2_|t3_ <subject> _ <kind> _ <cadence>). */
#include "jobs/jb_int.h"
#include "log/log.h"
#include "lake/lake.h"
#include "mask/mask.h"
#include "snap/snap.h"
#include "wh/wh.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "file:line: jobs.NAME: msg" into err; -1. */
static int job_err(const cf_config *cf, const cf_job *j, char *err, size_t errlen,
                   const char *msg)
{
    return ut_err(err, errlen, "%s:%d: jobs.%s: %s", cf->file ? cf->file : "config", j->line,
                  j->name, msg);
}

/* The templates of one request of a collect job; what failed or NULL. */
static const char *request_templates(const cf_config *cf, const cf_job *j, const cf_request *q,
                                     const char *name, char *m, size_t n)
{
    if (jb__tmpl_check(cf, j, q->url, m, n) || jb__tmpl_check(cf, j, q->body, m, n)) return name;
    for (int i = 0; i < q->params.n; i++)
        if (jb__tmpl_check(cf, j, q->params.v[i], m, n)) return name;
    for (int i = 0; i < q->headers.n; i++)
        if (jb__tmpl_check(cf, j, q->headers.v[i], m, n)) return name;
    return NULL;
}

static const char *collect_templates(const cf_config *cf, const cf_job *j, char *m, size_t n)
{
    const cf_auth *a = &j->auth;
    const char *what = request_templates(cf, j, &j->request, "request", m, n);
    if (!what) what = request_templates(cf, j, &j->report.create, "report.create", m, n);
    if (!what) what = request_templates(cf, j, &j->report.status, "report.status", m, n);
    const char *const v[] = {a->token, a->username, a->password, a->token_url, a->refresh_token,
                             a->client_id, a->client_secret};
    for (size_t i = 0; !what && i < sizeof v / sizeof v[0]; i++)
        if (jb__tmpl_check(cf, j, v[i], m, n)) what = "auth";
    return what;
}

static int check_templates(const cf_config *cf, const cf_job *j, char *msg, size_t n)
{
    char m[600];
    const char *what = NULL;
    if (j->kind == CF_JOB_COLLECT) what = collect_templates(cf, j, m, sizeof m);
    if (!what && jb__tmpl_check(cf, j, j->sql, m, sizeof m)) what = "sql";
    for (int i = 0; !what && i < j->command.n; i++)
        if (jb__tmpl_check(cf, j, j->command.v[i], m, sizeof m)) what = "command";
    for (int i = 0; !what && i < j->env.n; i++)
        if (jb__tmpl_check(cf, j, j->env.v[i], m, sizeof m)) what = "env";
    if (what) return ut_err(msg, n, "%s: %s", what, m);
    return 0;
}

/* The job producing table t (by name, any case), or NULL. */
static const cf_job *producer(const cf_config *cf, const char *t)
{
    for (int i = 0; i < cf->njobs; i++)
        if (cf->jobs[i].table[0] && !strcasecmp(cf->jobs[i].table, t)) return &cf->jobs[i];
    return NULL;
}

/* Is t a table a declared stream lands in? */
static const cf_stream *stream_table(const cf_config *cf, const char *t)
{
    char name[CF_TABLE_MAX];
    for (int i = 0; i < cf->nstreams; i++) {
        cf_sink_table(cf->streams[i].name, cf->streams[i].sink.table, name, sizeof name);
        if (cf->streams[i].sink.enabled && !strcasecmp(name, t)) return &cf->streams[i];
    }
    return NULL;
}

/* The upstream job of depends_on entry d of j (a job, or a table's
 * producer), or NULL. */
static const cf_job *upstream(const cf_config *cf, const char *d)
{
    const cf_job *u = cf_job_find(cf, d);
    return u ? u : producer(cf, d);
}

/* The DFS of the cycle check: jobs done (no cycle through them) are not
 * walked again, so the check is linear in jobs + dependencies. */
typedef struct walk {
    const cf_config *cf;
    const cf_job **path; /* the chain being walked */
    char *color;         /* per job: 0 new, 1 on the chain, 2 done */
} walk;

/* A cycle through j (its depends_on and the tables its SQL reads)?  1
 * found (msg names it). */
static int cycle_from(walk *w, const cf_job *j, int depth, char *msg, size_t n)
{
    int ji = (int)(j - w->cf->jobs), found = 0;
    if (w->color[ji] == 2) return 0;
    if (w->color[ji] == 1) {
        int i = 0;
        while (i < depth && w->path[i] != j) i++;
        size_t o = (size_t)snprintf(msg, n, "dependency cycle: ");
        for (int k = i; k < depth && o < n; k++)
            o += (size_t)snprintf(msg + o, n - o, "%s -> ", w->path[k]->name);
        if (o < n) snprintf(msg + o, n - o, "%s", j->name);
        return 1;
    }
    char **deps = NULL, e2[300];
    int nd = jb__deps(w->cf, j, NULL, &deps, e2, sizeof e2);
    w->color[ji] = 1;
    w->path[depth] = j;
    for (int i = 0; i < nd && !found; i++) {
        const cf_job *u = upstream(w->cf, deps[i]);
        if (u && u != j && cycle_from(w, u, depth + 1, msg, n)) found = 1;
    }
    jb__deps_free(deps, nd > 0 ? nd : 0);
    w->color[ji] = found ? 1 : 2;
    return found;
}

/* What a collect job needs: where to ask, how to page, what the answer is. */
static int check_collect(const cf_job *j, char *msg, size_t n)
{
    const cf_report *r = &j->report;
    const cf_pagination *p = &j->pagination;
    const cf_auth *a = &j->auth;
    if (!j->table[0]) return ut_err(msg, n, "a collect job needs the table it lands in");
    if (strlen(j->name) + 6 > ut_name_max(UT_NAME_STREAM))
        return ut_err(msg, n, "the name of a collect job is at most %zu characters (its files "
                      "are announced on the stream <job>.files)", ut_name_max(UT_NAME_STREAM) - 6);
    if (!r->async && !j->request.url[0]) return ut_err(msg, n, "request.url is missing");
    if (r->async && (!r->create.url[0] || !r->status.url[0] || !r->id_path[0] ||
                     !r->status_path[0] || !r->file_url_path[0]))
        return ut_err(msg, n, "report.async needs report.create.url, report.status.url, "
                      "report.id_path, report.status_path and report.file_url_path");
    if (r->async && p->type != CF_PAGE_NONE)
        return ut_err(msg, n, "an async report is one file: no pagination");
    if (r->format == CF_FMT_JSON && r->async == 0 && !r->records[0] && p->type == CF_PAGE_NEXT_URL)
        return ut_err(msg, n, "pagination next_url needs report.records (the records array "
                      "beside the next link)");
    if ((p->type == CF_PAGE_NEXT_URL || p->type == CF_PAGE_CURSOR) && !p->path[0])
        return ut_err(msg, n, "pagination %s needs pagination.path",
                      p->type == CF_PAGE_CURSOR ? "cursor" : "next_url");
    if ((p->type == CF_PAGE_CURSOR || p->type == CF_PAGE_NUMBER || p->type == CF_PAGE_OFFSET) &&
        !p->param[0])
        return ut_err(msg, n, "pagination needs pagination.param");
    if ((a->type == CF_AUTH_HEADER || a->type == CF_AUTH_QUERY) && (!a->name[0] || !a->token[0]))
        return ut_err(msg, n, "auth %s needs auth.name and auth.token",
                      a->type == CF_AUTH_HEADER ? "header" : "query");
    if (a->type == CF_AUTH_BEARER && !a->token[0]) return ut_err(msg, n, "auth bearer needs auth.token");
    if (a->type == CF_AUTH_BASIC && !a->username[0])
        return ut_err(msg, n, "auth basic needs auth.username");
    if (a->type == CF_AUTH_OAUTH2 && (!a->token_url[0] || !a->refresh_token[0]))
        return ut_err(msg, n, "auth oauth2 needs auth.token_url and auth.refresh_token");
    return 0;
}

/* The source tables snapshot job j names outright (tables:, include
 * without wildcards): fn(arg, part) each.  Stops at the first non-zero. */
static int named_parts(const cf_job *j, int (*fn)(void *, const cf_job *, const char *), void *arg)
{
    int rc = 0;
    for (int i = 0; i < j->ntables && !rc; i++) rc = fn(arg, j, j->tables[i].name);
    for (int i = 0; i < j->include.n && !rc; i++)
        if (!strpbrk(j->include.v[i], "*?[") && !cf_snap_table_find(j, j->include.v[i]))
            rc = fn(arg, j, j->include.v[i]);
    return rc;
}

typedef struct lake_clash {
    const cf_config *cf;
    const cf_job *j;     /* the job being checked */
    const char *part;    /* its part */
    char table[LK_TABLE_NAME_MAX + 1];
    char *msg;
    size_t n;
} lake_clash;

/* Another named part (of any snapshot job) with the same lake table? */
static int same_lake(void *arg, const cf_job *o, const char *part)
{
    lake_clash *c = arg;
    char t[LK_TABLE_NAME_MAX + 1];
    if ((o == c->j && !strcmp(part, c->part)) || jb__snap_lake_name(o, part, t, sizeof t) ||
        strcasecmp(t, c->table))
        return 0;
    return ut_err(c->msg, c->n, "source table %s lands in lake table %s, as %s of job %s does; "
                  "give one of them tables.<t>.target", c->part, c->table, part, o->name);
}

/* One named part's lake table: a valid name, not another producer's. */
static int check_lake_table(void *arg, const cf_job *j, const char *part)
{
    lake_clash *c = arg;
    c->j = j, c->part = part;
    if (jb__snap_lake_name(j, part, c->table, sizeof c->table))
        return ut_err(c->msg, c->n, "source table %s: its lake table name is longer than %d "
                      "bytes (set tables.<t>.target)", part, LK_TABLE_NAME_MAX);
    if (ut_name_check(UT_NAME_TABLE, c->table, strlen(c->table), c->msg, c->n)) return -1;
    const cf_job *p = producer(c->cf, c->table);
    const cf_stream *st = stream_table(c->cf, c->table);
    if (p || st)
        return ut_err(c->msg, c->n, "source table %s lands in lake table %s, which %s %s writes "
                      "(a table has one producer)", part, c->table, p ? "job" : "stream",
                      p ? p->name : st->name);
    for (int i = 0; i < c->cf->njobs; i++)
        if (c->cf->jobs[i].kind == CF_JOB_SNAPSHOT && named_parts(&c->cf->jobs[i], same_lake, c))
            return -1;
    return 0;
}

typedef struct view_clash {
    const cf_job *j;     /* the job being checked */
    const char *part;    /* its table with a merge view */
    const char *view;    /* the view's name */
    char *msg;
    size_t n;
} view_clash;

/* Does a named part of job o land in a table, or have a view, named c->view? */
static int view_vs_part(void *arg, const cf_job *o, const char *part)
{
    view_clash *c = arg;
    char t[LK_TABLE_NAME_MAX + 1], v[160];
    if (!jb__snap_lake_name(o, part, t, sizeof t) && !strcasecmp(t, c->view))
        return ut_err(c->msg, c->n, "tables.%s.merge: view %s has the name of lake table %s "
                      "(source table %s of job %s; names are compared without case): set "
                      "merge.view", c->part, c->view, t, part, o->name);
    if ((o != c->j || strcmp(part, c->part)) && jb__snap_view_name(o, part, v, sizeof v) > 0 &&
        !strcasecmp(v, c->view))
        return ut_err(c->msg, c->n, "tables.%s.merge: view %s is also the merge view of source "
                      "table %s of job %s (names are compared without case)", c->part, c->view,
                      part, o->name);
    return 0;
}

/* A key column masked to one value for every row makes every row one key. */
static int key_masks(const cf_snap_table *t, char *msg, size_t n)
{
    for (int i = 0; i < t->merge.key.n; i++) {
        const char *m = cf_strmap_get(&t->mask, t->merge.key.v[i]);
        ut_error e = {0};
        mk_mask *mk = m ? mk_create(m, "k", 1, &e) : NULL;
        int one = mk && (mk_kind_of(mk) == MK_NULL || mk_kind_of(mk) == MK_REDACT);
        mk_destroy(mk);
        if (one)
            return ut_err(msg, n, "tables.%s.merge.key: column %s is masked to one value for "
                          "every row (%s): it cannot tell rows apart", t->name,
                          t->merge.key.v[i], m);
    }
    return 0;
}

/* The merge views of j's tables: names that are free, keys that tell rows apart. */
static int check_views(const cf_config *cf, const cf_job *j, char *msg, size_t n)
{
    for (int t = 0; t < j->ntables; t++) {
        const cf_snap_table *st = &j->tables[t];
        char v[160];
        int has = jb__snap_view_name(j, st->name, v, sizeof v);
        if (!has) continue;
        char why[300];
        if (has < 0) snprintf(why, sizeof why, "it is over %zu bytes", sizeof v - 1);
        if (has < 0 || ut_name_check(UT_NAME_TABLE, v, strlen(v), why, sizeof why))
            return ut_err(msg, n, "tables.%s.merge: the view's name: %s (set merge.view)",
                          st->name, why);
        if (sqlite3_keyword_check(v, (int)strlen(v)))
            return ut_err(msg, n, "tables.%s.merge: view name %s is an SQL keyword (every "
                          "query would have to quote it): set merge.view", st->name, v);
        const cf_job *p = producer(cf, v);
        const cf_stream *s = stream_table(cf, v);
        if (p || s)
            return ut_err(msg, n, "tables.%s.merge: view %s has the name of the table %s %s "
                          "writes (names are compared without case): set merge.view", st->name,
                          v, p ? "job" : "stream", p ? p->name : s->name);
        view_clash c = {.j = j, .part = st->name, .view = v, .msg = msg, .n = n};
        for (int i = 0; i < cf->njobs; i++)
            if (cf->jobs[i].kind == CF_JOB_SNAPSHOT && named_parts(&cf->jobs[i], view_vs_part, &c))
                return -1;
        if (key_masks(st, msg, n)) return -1;
    }
    return 0;
}

/* kind snapshot: a source, tables to read, masks that build. */
static int check_snapshot(const cf_config *cf, const cf_job *j, char *msg, size_t n)
{
    if (!j->source[0]) return ut_err(msg, n, "a snapshot job needs source: a postgres, mysql, sqlite or redis connection");
    if (!sn_source_exists(cf, j->source))
        return ut_err(msg, n, "source: no connection '%s' under postgres, mysql, sqlite or redis", j->source);
    if (!j->include.n && !j->ntables)
        return ut_err(msg, n, "a snapshot job needs the tables it reads (include or tables)");
    if (j->table[0] || j->sql[0] || j->command.n)
        return ut_err(msg, n, "a snapshot job writes one lake table per source table "
                      "(table_prefix, tables.<t>.target): no table, sql or command");
    for (int t = 0; t < j->ntables; t++)
        for (int i = 0; i < j->tables[t].mask.n; i++) {
            ut_error e = {0};
            mk_mask *m = mk_create(j->tables[t].mask.v[i], "k", 1, &e);
            int hash = m && mk_kind_of(m) == MK_HASH;
            mk_destroy(m);
            if (!m)
                return ut_err(msg, n, "tables.%s.mask.%s: %s", j->tables[t].name,
                              j->tables[t].mask.k[i], e.msg);
            if (hash && !j->mask_key[0])
                return ut_err(msg, n, "tables.%s.mask.%s: hash needs mask_key (a secret)",
                              j->tables[t].name, j->tables[t].mask.k[i]);
        }
    char tm[600];
    for (int t = 0; t < j->ntables; t++) {
        if (jb__tmpl_check(cf, j, j->tables[t].where, tm, sizeof tm))
            return ut_err(msg, n, "tables.%s.where: %s", j->tables[t].name, tm);
        if (j->tables[t].parallel > 1 && !cf_postgres_find(cf, j->source))
            return ut_err(msg, n, "tables.%s.parallel: parallel reads need a PostgreSQL source "
                          "(its connections share one snapshot; %s's cannot)",
                          j->tables[t].name, j->source);
    }
    lake_clash lc = {.cf = cf, .msg = msg, .n = n};
    if (named_parts(j, check_lake_table, &lc)) return -1;
    if (check_views(cf, j, msg, n)) return -1;
    char v[JB_MAX_SECRET_BYTES], m[400];
    if (jb__tmpl_check(cf, j, j->alert_webhook, m, sizeof m))
        return ut_err(msg, n, "alert_webhook: %s", m);
    if (j->mask_key[0] && jb__secret(cf, j->mask_key, v, m, sizeof m))
        return ut_err(msg, n, "mask_key: %s", m);
    memset(v, 0, sizeof v);
    return 0;
}

/* kind load: its source, target and columns (docs/warehouse.md). */
/* kind export (docs/warehouse.md#exports): a load into a service database,
 * PostgreSQL or MySQL, replacing the table or upserting on key. */
static int check_export(const cf_config *cf, const cf_job *j, char *msg, size_t n)
{
    const cf_load_target *t = &j->target;
    if (!j->source[0]) return ut_err(msg, n, "an export job needs source: the lake table it exports");
    if (!t->connection[0] || !t->table[0])
        return ut_err(msg, n, "an export job needs target: {connection: <postgres or mysql "
                      "connection>, table: name}");
    if (!cf_postgres_find(cf, t->connection) && !cf_mysql_find(cf, t->connection))
        return ut_err(msg, n, "target.connection: no connection '%s' under postgres or mysql",
                      t->connection);
    if (t->dialect != CF_DIALECT_POSTGRES || t->iam_role[0] || t->distkey[0] || t->sortkey.n ||
        t->diststyle)
        return ut_err(msg, n, "target: dialect, iam_role, diststyle, distkey and sortkey are a "
                      "load's (Redshift), not an export's");
    if (j->mode != CF_MODE_REPLACE_TABLE && j->mode != CF_MODE_UPSERT)
        return ut_err(msg, n, "mode: an export's modes are replace_table and upsert (with key)");
    if (j->window_column[0])
        return ut_err(msg, n, "window_column: an export writes the whole table (replace_table) "
                      "or its keys (upsert), not a window");
    return 0;
}

static int check_redshift(const cf_job *j, char *msg, size_t n)
{
    const cf_load_target *t = &j->target;
    if (t->dialect != CF_DIALECT_REDSHIFT)
        return t->distkey[0] || t->sortkey.n || t->diststyle
                   ? ut_err(msg, n, "target: diststyle, distkey and sortkey are dialect "
                            "redshift's")
                   : 0;
    if (!t->iam_role[0]) return ut_err(msg, n, "dialect redshift needs target.iam_role");
    if (t->diststyle == CF_DIST_KEY && !t->distkey[0])
        return ut_err(msg, n, "target.diststyle key needs target.distkey");
    if (t->distkey[0] && t->diststyle && t->diststyle != CF_DIST_KEY)
        return ut_err(msg, n, "target.distkey needs diststyle key (or no diststyle)");
    return 0;
}

static int check_load(const cf_config *cf, const cf_job *j, char *msg, size_t n)
{
    const cf_load_target *t = &j->target;
    char m[300];
    if (j->kind == CF_JOB_EXPORT && check_export(cf, j, msg, n)) return -1;
    if (!j->source[0]) return ut_err(msg, n, "a load job needs source: the lake table it loads");
    if (!t->connection[0] || !t->table[0])
        return ut_err(msg, n, "a load job needs target: {connection: <postgres connection>, "
                      "table: schema.name}");
    if (j->kind == CF_JOB_LOAD && !cf_postgres_find(cf, t->connection))
        return ut_err(msg, n, "target.connection: no connection '%s' under postgres",
                      t->connection);
    if (wh_table_check(t->table, m, sizeof m)) return ut_err(msg, n, "%s", m);
    const char *dot = strchr(t->table, '.');
    if (j->mode == CF_MODE_REPLACE_TABLE && strlen(dot ? dot + 1 : t->table) > WH_IDENT_MAX - 12)
        return ut_err(msg, n, "mode replace_table: target table name over %d bytes (its staging "
                      "table adds __sluice_new)", WH_IDENT_MAX - 12);
    if (j->mode == CF_MODE_REPLACE)
        return ut_err(msg, n, "a load's modes are replace_window, append, upsert and "
                      "replace_table (the whole table: replace_table)");
    if (j->mode == CF_MODE_REPLACE_WINDOW && (!j->window_column[0] || j->window == CF_WINDOW_NONE))
        return ut_err(msg, n, "mode replace_window needs window_column (the date or timestamp "
                      "column of a row's window) and a window (hour, day or month)");
    if (j->mode == CF_MODE_UPSERT && !j->key.n)
        return ut_err(msg, n, "mode upsert needs key: [columns]");
    if (check_redshift(j, msg, n)) return -1;
    if (jb__tmpl_check(cf, j, j->query, m, sizeof m)) return ut_err(msg, n, "query: %s", m);
    return 0;
}

/* kind alert: a query, a condition, somewhere to send notices. */
static int check_alert(const cf_config *cf, const cf_job *j, char *msg, size_t n)
{
    char m[400];
    if (!j->query[0] == !j->saved_query[0] || !j->condition[0] || !j->alert_webhook[0])
        return ut_err(msg, n, "an alert job needs query (a SELECT) or saved_query (a saved query's "
                      "name), condition (when it is triggered) and alert_webhook (where notices go)");
    if (j->table[0] || j->sql[0] || j->sql_file[0] || j->command.n)
        return ut_err(msg, n, "an alert job writes nothing: no table, sql or command");
    if (jb__tmpl_check(cf, j, j->query, m, sizeof m)) return ut_err(msg, n, "query: %s", m);
    if (jb__tmpl_check(cf, j, j->alert_webhook, m, sizeof m))
        return ut_err(msg, n, "alert_webhook: %s", m);
    return 0;
}

/* What the job's kind needs. */
static int check_kind(const cf_config *cf, const cf_job *j, char *msg, size_t n)
{
    if (j->every_ms > 0 && j->every_ms < 1000)
        return ut_err(msg, n, "every: at least 1s");
    int windowed = j->window != CF_WINDOW_NONE;
    if (j->kind == CF_JOB_LOAD || j->kind == CF_JOB_EXPORT) return check_load(cf, j, msg, n);
    if (j->kind == CF_JOB_ALERT) return check_alert(cf, j, msg, n);
    if (j->mode == CF_MODE_UPSERT || j->mode == CF_MODE_REPLACE_TABLE)
        return ut_err(msg, n, "modes upsert and replace_table are a load job's");
    if (j->kind == CF_JOB_SQL) {
        if (!j->sql[0] == !j->sql_file[0])
            return ut_err(msg, n, "a sql job needs exactly one of sql and sql_file");
        if (!j->table[0]) return ut_err(msg, n, "a sql job needs the table it writes");
    } else if (j->kind == CF_JOB_COMMAND) {
        if (!j->command.n) return ut_err(msg, n, "a command job needs command: [program, args...]");
        if (j->output == CF_OUTPUT_NDJSON && !j->table[0])
            return ut_err(msg, n, "output: ndjson needs the table it lands in");
    } else if (j->kind == CF_JOB_COLLECT) {
        if (check_collect(j, msg, n)) return -1;
    } else if (j->kind == CF_JOB_SNAPSHOT) {
        if (check_snapshot(cf, j, msg, n)) return -1;
        if (j->mode == CF_MODE_APPEND)
            return ut_err(msg, n, "a snapshot replaces its window's partition (or the table "
                          "without a window): mode append is not one of its modes");
        return 0;
    } else if (j->table[0] || j->sql[0] || j->sql_file[0] || j->command.n) {
        return ut_err(msg, n, "a noop job runs nothing and writes nothing: no table, sql or "
                      "command");
    }
    int writes = j->kind == CF_JOB_SQL || j->kind == CF_JOB_COLLECT ||
                 (j->kind == CF_JOB_COMMAND && j->output == CF_OUTPUT_NDJSON);
    if (writes && j->mode == CF_MODE_REPLACE_WINDOW && !windowed)
        return ut_err(msg, n, "mode replace_window needs a window (hour, day or month); use "
                      "mode replace or append without one");
    return 0;
}

static int check_one(const cf_config *cf, const cf_job *j, walk *w, char *msg, size_t n)
{
    if (j->saved_query[0] && j->kind != CF_JOB_ALERT)
        return ut_err(msg, n, "saved_query is for kind alert");
    if (check_kind(cf, j, msg, n)) return -1;
    jb_timing t;
    char m[600];
    if (jb__timing_init(&t, j, m, sizeof m)) return ut_err(msg, n, "%s", m);
    int64_t us;
    int bad_start = j->start[0] && jb__parse_time(&t, j->start, &us);
    jb__timing_free(&t);
    if (bad_start)
        return ut_err(msg, n, "start: expected YYYY-MM-DD or RFC 3339, got '%.40s'", j->start);
    if (check_templates(cf, j, msg, n)) return -1;
    char *sql = jb__sql_text(cf, j, NULL, m, sizeof m);
    if (!sql) return ut_err(msg, n, "%s", m);
    int bad = j->sql_file[0] && jb__tmpl_check(cf, j, sql, m, sizeof m);
    free(sql);
    if (bad) return ut_err(msg, n, "sql_file: %s", m);
    if (j->pool[0] && !cf_pool_find(cf, j->pool))
        return ut_err(msg, n, "pool: no pool '%s' under pools", j->pool);
    for (int i = 0; i < j->depends_on.n; i++) {
        const char *d = j->depends_on.v[i];
        if (!upstream(cf, d) && !stream_table(cf, d))
            return ut_err(msg, n, "depends_on: '%s' is neither a job nor a table a stream or job "
                          "writes", d);
    }
    if (cycle_from(w, j, 0, msg, n)) return -1;
    if (j->table[0]) {
        const cf_job *p = producer(cf, j->table);
        const cf_stream *s = stream_table(cf, j->table);
        if (p != j)
            return ut_err(msg, n, "table %s is also written by job %s (a table has one producer)",
                          j->table, p->name);
        if (s)
            return ut_err(msg, n, "table %s is the table stream %s lands in (a table has one "
                          "producer)", j->table, s->name);
    }
    return 0;
}

/* The tier naming rule: t1_|t2_|t3_, a subject, a kind and a cadence. */
static void naming_warning(const cf_config *cf, const cf_job *j)
{
    const char *t = j->table;
    if (!t[0]) return;
    static const char *const cadences[] = {"_hourly", "_daily", "_weekly", "_monthly", NULL};
    int tier = (t[0] == 't' && (t[1] == '1' || t[1] == '2' || t[1] == '3') && t[2] == '_');
    int cad = 0;
    size_t n = strlen(t);
    for (int i = 0; cadences[i]; i++) {
        size_t c = strlen(cadences[i]);
        if (n > c && !strcmp(t + n - c, cadences[i])) cad = 1;
    }
    int kind = strstr(t, "_timeseries") || strstr(t, "_snapshot") || strstr(t, "_aggr_");
    if (!tier || !cad || !kind)
        lg_warn("config", "%s:%d: jobs.%s: table %s breaks the naming rule "
                "t1_|t2_|t3_<subject>_<timeseries|snapshot|aggr_Nd>_<hourly|daily|...> (e.g. "
                "t2_events_aggr_1h_hourly)",
                cf->file ? cf->file : "config", j->line, j->name, t);
}

int jb_check(const cf_config *cf, char *err, size_t errlen)
{
    walk w = {.cf = cf, .path = ut_calloc((size_t)cf->njobs + 1, sizeof *w.path),
              .color = ut_calloc((size_t)cf->njobs + 1, 1)};
    char msg[800];
    int rc = 0;
    for (int i = 0; i < cf->njobs && rc == 0; i++) {
        const cf_job *j = &cf->jobs[i];
        if (check_one(cf, j, &w, msg, sizeof msg)) rc = job_err(cf, j, err, errlen, msg);
        else naming_warning(cf, j);
    }
    free(w.path);
    free(w.color);
    if (rc == 0 && cf->alerts.webhook[0]) { /* the built-in alerts' webhook (builtin.c) */
        static const cf_job builtin_job = {.name = "alerts", .kind = CF_JOB_ALERT};
        if (jb__tmpl_check(cf, &builtin_job, cf->alerts.webhook, msg, sizeof msg))
            rc = ut_err(err, errlen, "%s: alerts.webhook: %s", cf->file ? cf->file : "config",
                        msg);
    }
    return rc;
}
