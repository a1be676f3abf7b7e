/* pgfed virtual table: xBestIndex picks the predicates to push down (and
 * which of them are exact), xFilter renders them as a parameterised query
 * behind a server-side cursor, xNext fetches the next batch when one runs
 * out. */
#include "pgfed/pgf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pgf_vtab {
    sqlite3_vtab base;
    pgf_conn *c;
    const pgf_rel *rel;
} pgf_vtab;

typedef struct pgf_cur {
    sqlite3_vtab_cursor base;
    pgf_conn *c;
    char name[32];      /* the PostgreSQL cursor */
    unsigned gen;       /* c->gen when declared */
    int declared;
    int server_done;    /* the last FETCH returned fewer rows than asked */
    int fetch;          /* rows per FETCH */
    PGresult *res;
    int row, nrows;
    int64_t rowid;
    int *field;         /* per table column: result field, or -1 */
} pgf_cur;

/* ---- connect ------------------------------------------------------------------ */

static const char *col_name(const void *arg, int i) { return ((const pgf_rel *)arg)->cols[i].name; }
static const char *col_decl(const void *arg, int i)
{
    return pgf__decltype(((const pgf_rel *)arg)->cols[i].kind);
}

/* argv[3]: the relation's index in the connection's list. */
static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                     sqlite3_vtab **out, char **pzErr)
{
    pgf_conn *c = aux;
    long idx = argc > 3 ? strtol(argv[3], NULL, 10) : -1;
    if (idx < 0 || idx >= c->nrels) {
        *pzErr = sqlite3_mprintf("pgfed: bad table argument");
        return SQLITE_ERROR;
    }
    const pgf_rel *r = &c->rels[idx];
    int rc = fed_declare(db, "pgfed", r->ncols, col_name, col_decl, r, pzErr);
    if (rc != SQLITE_OK) return rc;
    pgf_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->c = c;
    v->rel = r;
    *out = &v->base;
    return SQLITE_OK;
}

/* ---- planning ----------------------------------------------------------------- */

/* Constraint i, if it can be pushed: its op (IN when SQLite hands the list
 * over at once) and whether it is exact.  0 if not pushed. */
static int plan_term(void *arg, sqlite3_index_info *info, int i, fed_op *op, int *exact)
{
    pgf_vtab *v = arg;
    const pgf_rel *r = v->rel;
    const struct sqlite3_index_constraint *k = &info->aConstraint[i];
    if (!k->usable || k->iColumn < 0 || k->iColumn >= r->ncols || !fed_map_op(k->op, 0, op))
        return 0;
    pgf_kind kind = r->cols[k->iColumn].kind;
    int nullop = *op == FED_ISNULL || *op == FED_NOTNULL;
    const char *coll = sqlite3_vtab_collation(info, i);
    if (!nullop && (kind == PGF_BPCHAR || (coll && sqlite3_stricmp(coll, "BINARY")))) return 0;
    if (*op == FED_EQ && sqlite3_vtab_in(info, i, -1)) {
        sqlite3_vtab_in(info, i, 1);
        *op = FED_IN;
    }
    sqlite3_value *rv = NULL;
    fed_val pv;
    int known = !nullop && *op != FED_IN && sqlite3_vtab_rhs_value(info, i, &rv) == SQLITE_OK;
    if (known) fed_to_val(rv, &pv);
    *exact = pgf__exact(kind, *op, known ? &pv : NULL, v->c->utf8);
    return 1;
}

static int x_best(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    pgf_vtab *v = (pgf_vtab *)vt;
    return fed_best_index(info, v->rel->rows, plan_term, v);
}

/* ---- scanning ----------------------------------------------------------------- */

static int x_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    pgf_vtab *v = (pgf_vtab *)vt;
    pgf_cur *k = sqlite3_malloc(sizeof *k);
    if (!k) return SQLITE_NOMEM;
    memset(k, 0, sizeof *k);
    k->c = v->c;
    k->field = sqlite3_malloc((int)sizeof(int) * (v->rel->ncols ? v->rel->ncols : 1));
    if (!k->field) {
        sqlite3_free(k);
        return SQLITE_NOMEM;
    }
    *out = &k->base;
    return SQLITE_OK;
}

/* Close the PostgreSQL cursor (if this scan still has one). */
static void cur_release(pgf_cur *k)
{
    PQclear(k->res);
    k->res = NULL;
    k->row = k->nrows = 0;
    if (!k->declared) return;
    k->declared = 0;
    pgf_conn *c = k->c;
    if (k->gen != c->gen) return;
    if (c->open_cursors > 1 && c->pg) {
        char sql[64];
        snprintf(sql, sizeof sql, "CLOSE %s", k->name);
        PGresult *r = PQexec(c->pg, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) pgf__abort(c);
        PQclear(r);
    }
    pgf__cursor_done(c, k->gen);
}

static int x_close(sqlite3_vtab_cursor *cur)
{
    pgf_cur *k = (pgf_cur *)cur;
    cur_release(k);
    sqlite3_free(k->field);
    sqlite3_free(k);
    return SQLITE_OK;
}

/* Fetch the next batch.  0 or -1 with a message in the vtab. */
static int fetch(pgf_cur *k)
{
    pgf_vtab *v = (pgf_vtab *)k->base.pVtab;
    char sql[64], err[1200];
    PQclear(k->res);
    k->res = NULL;
    k->row = k->nrows = 0;
    if (k->gen != k->c->gen) {
        snprintf(err, sizeof err, "postgres \"%s\": the scan's transaction ended after an earlier "
                 "error; run the query again", k->c->name);
        fed_vt_err(&v->base, err);
        return -1;
    }
    snprintf(sql, sizeof sql, "FETCH %d FROM %s", k->fetch, k->name);
    k->res = PQexec(k->c->pg, sql);
    if (PQresultStatus(k->res) != PGRES_TUPLES_OK) {
        pgf__pg_err(k->c, k->res, err, sizeof err);
        pgf__abort(k->c);
        k->declared = 0;
        fed_vt_err(&v->base, err);
        return -1;
    }
    k->nrows = PQntuples(k->res);
    if (k->nrows < k->fetch) k->server_done = 1;
    return 0;
}

static int x_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                    sqlite3_value **argv)
{
    pgf_cur *k = (pgf_cur *)cur;
    pgf_vtab *v = (pgf_vtab *)cur->pVtab;
    pgf_conn *c = k->c;
    const pgf_rel *r = v->rel;
    pgf_params *p = NULL;
    fed_val *vals = NULL;
    sqlite3_value **kept = NULL;
    int nkept = 0;
    ut_buf sql = {0}, where = {0}, col = {0};
    char err[1200];
    int rc = SQLITE_ERROR, ai = 0, nterms = 0;
    int64_t limit = -1;
    PGresult *res = NULL;
    cur_release(k);
    k->server_done = 0;
    k->rowid = 0;
    p = calloc(1, sizeof *p);
    vals = malloc(sizeof *vals * (PGF_MAX_IN + 1));
    kept = calloc(PGF_MAX_IN + 1, sizeof *kept);
    if (!p || !vals || !kept) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    const char *terms;
    unsigned long long used = fed_idx_used(idxStr, &terms);
    /* the select list: used columns only */
    k->c->seq++;
    snprintf(k->name, sizeof k->name, "sluice_c%u", c->seq);
    ut_buf_printf(&sql, "DECLARE %s NO SCROLL CURSOR FOR SELECT ", k->name);
    int nf = 0;
    for (int i = 0; i < r->ncols; i++) {
        int u = fed_col_used(used, i);
        k->field[i] = u ? nf : -1;
        if (!u) continue;
        if (nf++) ut_buf_puts(&sql, ", ");
        fed_quote_ident(&sql, r->cols[i].name);
    }
    if (!nf) ut_buf_puts(&sql, "1");
    ut_buf_puts(&sql, " FROM ");
    fed_quote_ident(&sql, r->schema);
    ut_buf_putc(&sql, '.');
    fed_quote_ident(&sql, r->table);
    /* the predicates */
    for (int ci, op, omit; fed_idx_term(&terms, &ci, &op, &omit);) {
        if (op == FED_LIMIT) {
            if (ai < argc && sqlite3_value_type(argv[ai]) == SQLITE_INTEGER)
                limit = sqlite3_value_int64(argv[ai]);
            ai++;
            continue;
        }
        if (ci < 0 || ci >= r->ncols) continue;
        int nv = 0;
        if (op != FED_ISNULL && op != FED_NOTNULL) {
            if (ai >= argc) break;
            fed_keep_free(kept, nkept);
            nv = fed_arg_values(argv[ai++], op == FED_IN, vals, kept, PGF_MAX_IN);
            if (nv < 0) nv = PGF_MAX_IN + 1; /* out of memory: not pushed down */
            nkept = op == FED_IN ? (nv > PGF_MAX_IN ? PGF_MAX_IN : nv) : 0;
            if (op == FED_IN && nv == 1) op = FED_EQ; /* one value of a one-at-a-time IN */
        }
        ut_buf_reset(&col);
        fed_quote_ident(&col, r->cols[ci].name);
        ut_buf_putc(&col, 0);
        size_t before = where.len;
        if (nterms) ut_buf_puts(&where, " AND ");
        if (pgf__render_pred(&where, p, (const char *)col.p, r->cols[ci].kind, (fed_op)op, vals,
                             nv)) {
            nterms++;
        } else {
            where.len = before;
            if (omit) { /* cannot happen: exact terms always render */
                fed_vt_err(&v->base,
                           "pgfed: internal error: an exact predicate could not be rendered");
                goto fail;
            }
        }
    }
    if (nterms) {
        ut_buf_puts(&sql, " WHERE ");
        ut_buf_put(&sql, where.p, where.len);
    }
    k->fetch = c->fetch_rows;
    if (limit >= 0) {
        char num[32];
        int len = snprintf(num, sizeof num, "%lld", (long long)limit);
        int pn = pgf__add_param(p, num, len, 0);
        if (pn) ut_buf_printf(&sql, " LIMIT $%d::int8", pn);
        if (limit < k->fetch) k->fetch = limit > 0 ? (int)limit : 1;
    }
    ut_buf_putc(&sql, 0);
    if (pgf__begin(c, err, sizeof err)) {
        fed_vt_err(&v->base, err);
        goto fail;
    }
    res = PQexecParams(c->pg, (const char *)sql.p, p->n, NULL, (const char *const *)p->v, p->len,
                       p->fmt, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pgf__pg_err(c, res, err, sizeof err);
        pgf__abort(c);
        fed_vt_err(&v->base, err);
        goto fail;
    }
    c->open_cursors++;
    k->declared = 1;
    k->gen = c->gen;
    if (fetch(k)) goto fail;
    rc = SQLITE_OK;
fail:
    (void)idxNum;
    PQclear(res);
    if (p) pgf__params_clear(p);
    free(p);
    if (kept) fed_keep_free(kept, nkept);
    free(kept);
    free(vals);
    ut_buf_free(&sql);
    ut_buf_free(&where);
    ut_buf_free(&col);
    return rc;
}

static int x_next(sqlite3_vtab_cursor *cur)
{
    pgf_cur *k = (pgf_cur *)cur;
    k->row++;
    k->rowid++;
    if (k->row >= k->nrows && !k->server_done && fetch(k)) return SQLITE_ERROR;
    return SQLITE_OK;
}

static int x_eof(sqlite3_vtab_cursor *cur)
{
    pgf_cur *k = (pgf_cur *)cur;
    return k->row >= k->nrows;
}

static int x_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
    pgf_cur *k = (pgf_cur *)cur;
    const pgf_rel *r = ((pgf_vtab *)cur->pVtab)->rel;
    if (i < 0 || i >= r->ncols || k->field[i] < 0 || !k->res || k->row >= k->nrows ||
        PQgetisnull(k->res, k->row, k->field[i]))
        return SQLITE_OK; /* NULL */
    pgf__result(ctx, r->cols[i].kind, PQgetvalue(k->res, k->row, k->field[i]),
                PQgetlength(k->res, k->row, k->field[i]));
    return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
    *out = ((pgf_cur *)cur)->rowid;
    return SQLITE_OK;
}

const sqlite3_module pgf__module = {
    .iVersion = 0,
    .xCreate = x_connect,
    .xConnect = x_connect,
    .xBestIndex = x_best,
    .xDisconnect = fed_disconnect,
    .xDestroy = fed_disconnect,
    .xOpen = x_open,
    .xClose = x_close,
    .xFilter = x_filter,
    .xNext = x_next,
    .xEof = x_eof,
    .xColumn = x_column,
    .xRowid = x_rowid,
};
