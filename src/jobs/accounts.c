/* jobs: the accounts a job runs for (jobs.<name>.accounts).
 *
 *   list  the config's ids
 *   sql   a SELECT run by the scheduler when the job fires (jb__accounts_
 *         resolve): first column the id, the others the account's fields,
 *         kept as a JSON object in the catalog (job_accounts) -- triggers,
 *         backfills and tasks in any process read them from there
 *   none  one part, "": a run per window
 *
 * A run's part is its account id; tasks read the account's fields at the
 * time they run ({{account.<field>}}, {{account_secret.<field>}}). */
#include "jobs/jb_rt.h"
#include "json/json.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ACCOUNTS 10000

static char *no_parts[1] = {""};

int jb__parts(ct_catalog *c, const cf_job *j, jb_parts *p, ut_error *e)
{
    memset(p, 0, sizeof *p);
    if (j->accounts.list.n) {
        p->v = j->accounts.list.v;
        p->n = j->accounts.list.n;
        return 0;
    }
    if (!j->accounts.sql[0] && j->kind != CF_JOB_SNAPSHOT) { /* snapshot: its tables */
        p->v = no_parts;
        p->n = 1;
        return 0;
    }
    char err[512];
    int n = ct_job_accounts(c, j->name, &p->v, err, sizeof err);
    if (n < 0) return ut_fail(e, UT_EIO, "job %s: accounts: %s", j->name, err);
    p->n = n;
    p->owned = 1;
    return 0;
}

void jb__parts_free(jb_parts *p)
{
    if (p->owned)
        for (int i = 0; i < p->n; i++) free(p->v[i]);
    if (p->owned) free(p->v);
    memset(p, 0, sizeof *p);
}

/* ---- accounts.sql --------------------------------------------------------------- */

typedef struct acct_rows {
    const cf_job *j;
    char **ids, **args;
    int n, skipped;
    ut_buf row;
} acct_rows;

static int valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* One row: the id and a JSON object of the other columns. */
static int on_row(void *ctx, sqlite3_stmt *st)
{
    acct_rows *f = ctx;
    const char *id = (const char *)sqlite3_column_text(st, 0);
    if (!valid_id(id) || f->n >= MAX_ACCOUNTS) {
        f->skipped++;
        return 0;
    }
    ut_buf *b = &f->row;
    ut_buf_reset(b);
    ut_buf_putc(b, '{');
    for (int i = 1; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i), *v = (const char *)sqlite3_column_text(st, i);
        if (i > 1) ut_buf_putc(b, ',');
        ut_json_str(b, name, strlen(name));
        ut_buf_putc(b, ':');
        int t = sqlite3_column_type(st, i);
        if (t == SQLITE_NULL) ut_buf_puts(b, "null");
        else if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) ut_buf_puts(b, v);
        else ut_json_str(b, v ? v : "", v ? strlen(v) : 0);
    }
    ut_buf_putc(b, '}');
    if (b->len > CT_ACCOUNT_ARGS_MAX - 1) {
        f->skipped++;
        return 0;
    }
    f->ids = ut_realloc(f->ids, sizeof *f->ids * (size_t)(f->n + 1));
    f->args = ut_realloc(f->args, sizeof *f->args * (size_t)(f->n + 1));
    f->ids[f->n] = ut_strdup(id);
    f->args[f->n++] = ut_strdup(ut_buf_cstr(b));
    return 0;
}

int jb__accounts_resolve(jb_runtime *r, const cf_job *j, ut_error *e)
{
    char err[512];
    if (!j->accounts.sql[0]) return 0;
    if (!r->o.sql_open)
        return ut_fail(e, UT_EINTERNAL, "job %s: accounts.sql needs the server's SQL engine",
                       j->name);
    sq_engine *eng = r->o.sql_open(r->o.sql_ctx, j->timeout_ms, err, sizeof err);
    if (!eng) return ut_fail(e, UT_EIO, "job %s: accounts: %s", j->name, err);
    acct_rows f = {.j = j};
    sq_sink sink = {.ctx = &f, .row = on_row};
    int rc = sq_query(eng, j->accounts.sql, &sink, err, sizeof err) < 0 ? -1 : 0;
    sq_close(eng);
    if (rc) ut_fail(e, UT_EINVAL, "job %s: accounts.sql: %s", j->name, err);
    if (rc == 0 && f.skipped)
        lg_warn("jobs", "job %s: accounts.sql: %d rows skipped (an id that is not 1-64 of "
                "A-Za-z0-9_.-, fields over %d bytes, or more than %d accounts)", j->name,
                f.skipped, CT_ACCOUNT_ARGS_MAX, MAX_ACCOUNTS);
    if (rc == 0 && ct_job_accounts_set(r->cat, j->name, (const char *const *)f.ids,
                                       (const char *const *)f.args, f.n, err, sizeof err))
        rc = ut_fail(e, UT_EIO, "job %s: accounts: %s", j->name, err);
    for (int i = 0; i < f.n; i++) free(f.ids[i]), free(f.args[i]);
    free(f.ids);
    free(f.args);
    ut_buf_free(&f.row);
    return rc;
}

/* ---- fields for the templates ------------------------------------------------------ */

int jb__account_field(const char *args, const char *field, ut_buf *out, char *err, size_t errlen)
{
    js_parser *p = js_parser_create(CT_ACCOUNT_ARGS_MAX, 4);
    js_field f;
    int rc = js_obj_begin(p, args, strlen(args), err, errlen), found = 0;
    while (rc >= 0 && !found && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        if (f.key_len != strlen(field) || memcmp(f.key, field, f.key_len)) continue;
        found = 1;
        if (f.v.kind != JS_NULL) ut_buf_put(out, f.v.s, f.v.n);
    }
    js_parser_destroy(p);
    if (rc < 0) return -1;
    return found ? 0 : ut_err(err, errlen, "the account has no field '%s'", field);
}
