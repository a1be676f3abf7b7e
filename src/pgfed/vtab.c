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

static int vt_err(pgf_vtab *v, const char *msg)
{
    sqlite3_free(v->base.zErrMsg);
    v->base.zErrMsg = sqlite3_mprintf("%s", msg);
    return SQLITE_ERROR;
}

/* ---- connect ------------------------------------------------------------------ */

/* argv[3]: the relation's index in the connection's list. */
static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                     sqlite3_vtab **out, char **pzErr)
{
    pgf_conn *c = aux;
    pgf_vtab *v = NULL;
    ut_buf ddl = {0};
    int rc = SQLITE_ERROR;
    long idx = argc > 3 ? strtol(argv[3], NULL, 10) : -1;
    if (idx < 0 || idx >= c->nrels) {
        *pzErr = sqlite3_mprintf("pgfed: bad table argument");
        goto fail;
    }
    const pgf_rel *r = &c->rels[idx];
    ut_buf_puts(&ddl, "CREATE TABLE x(");
    for (int i = 0; i < r->ncols; i++) {
        if (i) ut_buf_puts(&ddl, ", ");
        pgf__quote_ident(&ddl, r->cols[i].name);
        ut_buf_printf(&ddl, " %s", pgf__decltype(r->cols[i].kind));
    }
    ut_buf_puts(&ddl, ")");
    ut_buf_putc(&ddl, 0);
    rc = sqlite3_declare_vtab(db, (const char *)ddl.p);
    if (rc != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("pgfed: %s", sqlite3_errmsg(db));
        goto fail;
    }
    v = sqlite3_malloc(sizeof *v);
    if (!v) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    memset(v, 0, sizeof *v);
    v->c = c;
    v->rel = r;
    *out = &v->base;
    ut_buf_free(&ddl);
    return SQLITE_OK;
fail:
    ut_buf_free(&ddl);
    return rc;
}

static int x_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* ---- planning ----------------------------------------------------------------- */

static int map_op(unsigned char op, pgf_op *out)
{
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: *out = PGF_EQ; return 1;
    case SQLITE_INDEX_CONSTRAINT_LT: *out = PGF_LT; return 1;
    case SQLITE_INDEX_CONSTRAINT_LE: *out = PGF_LE; return 1;
    case SQLITE_INDEX_CONSTRAINT_GT: *out = PGF_GT; return 1;
    case SQLITE_INDEX_CONSTRAINT_GE: *out = PGF_GE; return 1;
    case SQLITE_INDEX_CONSTRAINT_ISNULL: *out = PGF_ISNULL; return 1;
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: *out = PGF_NOTNULL; return 1;
    default: return 0;
    }
}

static void to_val(sqlite3_value *sv, pgf_val *out)
{
    memset(out, 0, sizeof *out);
    out->type = sqlite3_value_type(sv);
    if (out->type == SQLITE_INTEGER) out->i = sqlite3_value_int64(sv);
    else if (out->type == SQLITE_FLOAT) out->d = sqlite3_value_double(sv);
    else if (out->type == SQLITE_TEXT) {
        out->p = (const char *)sqlite3_value_text(sv);
        out->n = sqlite3_value_bytes(sv);
    } else if (out->type == SQLITE_BLOB) {
        out->p = sqlite3_value_blob(sv);
        out->n = sqlite3_value_bytes(sv);
        if (!out->p) out->p = "";
    }
}

/* idxStr: "<colUsed hex>" then per argument/term "/col:op:omit" (col -1 with
 * op PGF_LIMIT for the LIMIT).  Terms with an argument come in argv order;
 * IS [NOT] NULL terms take none. */
static int x_best(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    pgf_vtab *v = (pgf_vtab *)vt;
    const pgf_rel *r = v->rel;
    ut_buf s = {0};
    int argv = 0, all_exact = 1, limit_i = -1, offset = 0;
    double rows = r->rows > 0 ? r->rows : 100000;
    ut_buf_printf(&s, "%llx", (unsigned long long)info->colUsed);
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *k = &info->aConstraint[i];
        pgf_op op;
        if (k->op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
            if (k->usable) limit_i = i;
            continue;
        }
        if (k->op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
            offset = 1;
            continue;
        }
        if (!k->usable || k->iColumn < 0 || k->iColumn >= r->ncols || !map_op(k->op, &op)) {
            all_exact = 0;
            continue;
        }
        pgf_kind kind = r->cols[k->iColumn].kind;
        int nullop = op == PGF_ISNULL || op == PGF_NOTNULL;
        const char *coll = sqlite3_vtab_collation(info, i);
        if (!nullop && (kind == PGF_BPCHAR || (coll && sqlite3_stricmp(coll, "BINARY")))) {
            all_exact = 0;
            continue;
        }
        if (op == PGF_EQ && sqlite3_vtab_in(info, i, -1)) {
            sqlite3_vtab_in(info, i, 1);
            op = PGF_IN;
        }
        sqlite3_value *rv = NULL;
        pgf_val pv;
        int known = !nullop && op != PGF_IN && sqlite3_vtab_rhs_value(info, i, &rv) == SQLITE_OK;
        if (known) to_val(rv, &pv);
        int exact = pgf__exact(kind, op, known ? &pv : NULL, v->c->utf8);
        if (!exact) all_exact = 0;
        if (!nullop) info->aConstraintUsage[i].argvIndex = ++argv;
        info->aConstraintUsage[i].omit = (unsigned char)exact;
        ut_buf_printf(&s, "/%d:%d:%d", k->iColumn, (int)op, exact);
        rows /= op == PGF_EQ ? 20 : op == PGF_IN ? 5 : op == PGF_ISNULL ? 10 : 2;
    }
    /* LIMIT applies after SQLite's filtering and ordering: only when it has
     * neither left to do */
    if (limit_i >= 0 && all_exact && !offset && info->nOrderBy == 0) {
        info->aConstraintUsage[limit_i].argvIndex = ++argv;
        ut_buf_printf(&s, "/-1:%d:0", (int)PGF_LIMIT);
    }
    if (rows < 1) rows = 1;
    ut_buf_putc(&s, 0);
    info->idxStr = sqlite3_mprintf("%s", (const char *)s.p);
    info->needToFreeIdxStr = 1;
    ut_buf_free(&s);
    if (!info->idxStr) return SQLITE_NOMEM;
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = 1000.0 + rows * 2;
    return SQLITE_OK;
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
        vt_err(v, err);
        return -1;
    }
    snprintf(sql, sizeof sql, "FETCH %d FROM %s", k->fetch, k->name);
    k->res = PQexec(k->c->pg, sql);
    if (PQresultStatus(k->res) != PGRES_TUPLES_OK) {
        pgf__pg_err(k->c, k->res, err, sizeof err);
        pgf__abort(k->c);
        k->declared = 0;
        vt_err(v, err);
        return -1;
    }
    k->nrows = PQntuples(k->res);
    if (k->nrows < k->fetch) k->server_done = 1;
    return 0;
}

/* Values of argument a: an all-at-once IN list or one value.  Returns the
 * count (at most cap; cap + 1 means "more"). */
/* The values of argument a (an IN list's, one at a time, or the one) into
 * out[].  An IN list's values are copies kept in keep[] (the caller frees
 * them with free_kept once rendered): sqlite3_vtab_in_next invalidates the
 * value it returned before, text and all. */
static int arg_values(sqlite3_value *a, int in, pgf_val *out, sqlite3_value **keep, int cap)
{
    int n = 0;
    sqlite3_value *x = NULL;
    if (in && sqlite3_vtab_in_first(a, &x) == SQLITE_OK) {
        for (; x; ) {
            if (n >= cap) return cap + 1;
            keep[n] = sqlite3_value_dup(x);
            if (!keep[n]) return cap + 1; /* out of memory: not pushed down */
            to_val(keep[n], &out[n]);
            n++;
            if (sqlite3_vtab_in_next(a, &x) != SQLITE_OK) break;
        }
        return n;
    }
    to_val(a, &out[0]);
    return 1;
}

static void free_kept(sqlite3_value **keep, int n)
{
    for (int i = 0; i < n; i++) sqlite3_value_free(keep[i]), keep[i] = NULL;
}

static int x_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                    sqlite3_value **argv)
{
    pgf_cur *k = (pgf_cur *)cur;
    pgf_vtab *v = (pgf_vtab *)cur->pVtab;
    pgf_conn *c = k->c;
    const pgf_rel *r = v->rel;
    pgf_params *p = NULL;
    pgf_val *vals = NULL;
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
    char *end;
    unsigned long long used = strtoull(idxStr ? idxStr : "0", &end, 16);
    /* the select list: used columns only */
    k->c->seq++;
    snprintf(k->name, sizeof k->name, "sluice_c%u", c->seq);
    ut_buf_printf(&sql, "DECLARE %s NO SCROLL CURSOR FOR SELECT ", k->name);
    int nf = 0;
    for (int i = 0; i < r->ncols; i++) {
        int u = i < 63 ? (int)((used >> i) & 1) : (int)((used >> 63) & 1);
        k->field[i] = u ? nf : -1;
        if (!u) continue;
        if (nf++) ut_buf_puts(&sql, ", ");
        pgf__quote_ident(&sql, r->cols[i].name);
    }
    if (!nf) ut_buf_puts(&sql, "1");
    ut_buf_puts(&sql, " FROM ");
    pgf__quote_ident(&sql, r->schema);
    ut_buf_putc(&sql, '.');
    pgf__quote_ident(&sql, r->table);
    /* the predicates */
    for (const char *t = end; t && *t == '/';) {
        int ci, op, omit, used_n = 0;
        if (sscanf(t, "/%d:%d:%d%n", &ci, &op, &omit, &used_n) != 3) break;
        t += used_n;
        if (op == PGF_LIMIT) {
            if (ai < argc && sqlite3_value_type(argv[ai]) == SQLITE_INTEGER)
                limit = sqlite3_value_int64(argv[ai]);
            ai++;
            continue;
        }
        if (ci < 0 || ci >= r->ncols) continue;
        int nv = 0;
        if (op != PGF_ISNULL && op != PGF_NOTNULL) {
            if (ai >= argc) break;
            free_kept(kept, nkept);
            nv = arg_values(argv[ai++], op == PGF_IN, vals, kept, PGF_MAX_IN);
            nkept = op == PGF_IN ? (nv > PGF_MAX_IN ? PGF_MAX_IN : nv) : 0;
            if (op == PGF_IN && nv == 1) op = PGF_EQ; /* one value of a one-at-a-time IN */
        }
        ut_buf_reset(&col);
        pgf__quote_ident(&col, r->cols[ci].name);
        ut_buf_putc(&col, 0);
        size_t before = where.len;
        if (nterms) ut_buf_puts(&where, " AND ");
        if (pgf__render_pred(&where, p, (const char *)col.p, r->cols[ci].kind, (pgf_op)op, vals,
                             nv)) {
            nterms++;
        } else {
            where.len = before;
            if (omit) { /* cannot happen: exact terms always render */
                vt_err(v, "pgfed: internal error: an exact predicate could not be rendered");
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
        vt_err(v, err);
        goto fail;
    }
    res = PQexecParams(c->pg, (const char *)sql.p, p->n, NULL, (const char *const *)p->v, p->len,
                       p->fmt, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pgf__pg_err(c, res, err, sizeof err);
        pgf__abort(c);
        vt_err(v, err);
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
    if (kept) free_kept(kept, nkept);
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
    .xDisconnect = x_disconnect,
    .xDestroy = x_disconnect,
    .xOpen = x_open,
    .xClose = x_close,
    .xFilter = x_filter,
    .xNext = x_next,
    .xEof = x_eof,
    .xColumn = x_column,
    .xRowid = x_rowid,
};
