/* myfed virtual table: xBestIndex picks the predicates to push down (and
 * which of them are exact), xFilter renders them into one SELECT sent on a
 * link of the pool and read with mysql_use_result, one row at a time. */
#include "myfed/myf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct myf_vtab {
    sqlite3_vtab base;
    myf_conn *c;
    const myf_rel *rel;
} myf_vtab;

typedef struct myf_cur {
    sqlite3_vtab_cursor base;
    myf_conn *c;
    myf_link *link;     /* held while res is open */
    MYSQL_RES *res;
    MYSQL_ROW row;      /* the current row; NULL at the end */
    unsigned long *lens;
    int64_t rowid;
    int *field;         /* per table column: result field, or -1 */
} myf_cur;

/* ---- connect ------------------------------------------------------------------ */

static const char *col_name(const void *arg, int i) { return ((const myf_rel *)arg)->cols[i].name; }
static const char *col_decl(const void *arg, int i)
{
    return myf__decltype(((const myf_rel *)arg)->cols[i].kind);
}

/* argv[3]: the table's index in the connection's list. */
static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                     sqlite3_vtab **out, char **pzErr)
{
    myf_conn *c = aux;
    long idx = argc > 3 ? strtol(argv[3], NULL, 10) : -1;
    if (idx < 0 || idx >= c->nrels) {
        *pzErr = sqlite3_mprintf("myfed: bad table argument");
        return SQLITE_ERROR;
    }
    const myf_rel *r = &c->rels[idx];
    int rc = fed_declare(db, "myfed", r->ncols, col_name, col_decl, r, pzErr);
    if (rc != SQLITE_OK) return rc;
    myf_vtab *v = sqlite3_malloc(sizeof *v);
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
    myf_vtab *v = arg;
    const struct sqlite3_index_constraint *k = &info->aConstraint[i];
    const myf_rel *r = v->rel;
    if (!k->usable || k->iColumn < 0 || k->iColumn >= r->ncols || !fed_map_op(k->op, 1, op))
        return 0;
    const myf_col *col = &r->cols[k->iColumn];
    int nullop = *op == FED_ISNULL || *op == FED_NOTNULL;
    const char *coll = sqlite3_vtab_collation(info, i);
    if (!nullop && *op != FED_LIKE && coll && sqlite3_stricmp(coll, "BINARY")) return 0;
    if (!myf__pushable(col, *op)) return 0;
    if (*op == FED_EQ && sqlite3_vtab_in(info, i, -1)) {
        sqlite3_vtab_in(info, i, 1);
        *op = FED_IN;
    }
    sqlite3_value *rv = NULL;
    fed_val pv;
    int known = !nullop && *op != FED_IN && sqlite3_vtab_rhs_value(info, i, &rv) == SQLITE_OK;
    if (known) fed_to_val(rv, &pv);
    *exact = myf__exact(col, *op, known ? &pv : NULL);
    return 1;
}

static int x_best(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    myf_vtab *v = (myf_vtab *)vt;
    return fed_best_index(info, v->rel->rows, plan_term, v);
}

/* ---- scanning ----------------------------------------------------------------- */

static int x_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    myf_vtab *v = (myf_vtab *)vt;
    myf_cur *k = sqlite3_malloc(sizeof *k);
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

/* End the scan's statement and give its link back.  Rows left unread
 * (SQLite stopped early) are read up to MYF_DRAIN_ROWS; past that the
 * connection is cut rather than reading the rest of the table. */
static void cur_release(myf_cur *k)
{
    int ok = 1;
    if (k->res) {
        int n = 0;
        while (k->row && n++ < MYF_DRAIN_ROWS) k->row = mysql_fetch_row(k->res);
        ok = !k->row && !mysql_errno(k->link->my);
        if (!ok) (void)shutdown(mysql_get_socket(k->link->my), SHUT_RDWR);
        mysql_free_result(k->res);
        k->res = NULL;
    }
    k->row = NULL;
    if (k->link) myf__release(k->c, k->link, ok);
    k->link = NULL;
}

static int x_close(sqlite3_vtab_cursor *cur)
{
    myf_cur *k = (myf_cur *)cur;
    cur_release(k);
    sqlite3_free(k->field);
    sqlite3_free(k);
    return SQLITE_OK;
}

/* The next row into k->row (NULL at the end).  0, or -1 with a message in
 * the vtab when the read failed (the server went away mid-rows). */
static int fetch(myf_cur *k)
{
    k->row = mysql_fetch_row(k->res);
    if (k->row) {
        k->lens = mysql_fetch_lengths(k->res);
        return 0;
    }
    if (!mysql_errno(k->link->my)) return 0;
    char err[1200];
    myf__my_err(k->c, k->link->my, err, sizeof err);
    mysql_free_result(k->res);
    k->res = NULL;
    myf__release(k->c, k->link, 0);
    k->link = NULL;
    fed_vt_err(k->base.pVtab, err);
    return -1;
}

/* SELECT <used columns> FROM "db"."t" into q; the field map into k. */
static void select_list(myf_cur *k, const myf_rel *r, unsigned long long used, ut_buf *q)
{
    int nf = 0;
    ut_buf_puts(q, "SELECT ");
    for (int i = 0; i < r->ncols; i++) {
        int u = fed_col_used(used, i);
        k->field[i] = u ? nf : -1;
        if (!u) continue;
        if (nf++) ut_buf_puts(q, ", ");
        /* FLOAT's own text has 6 digits; as a double it has all of them */
        if (r->cols[i].kind == MYF_FLOAT) ut_buf_putc(q, '(');
        fed_quote_ident(q, r->cols[i].name);
        if (r->cols[i].kind == MYF_FLOAT) ut_buf_puts(q, " + 0e0)");
    }
    if (!nf) ut_buf_puts(q, "1");
    ut_buf_puts(q, " FROM ");
    fed_quote_ident(q, r->db);
    ut_buf_putc(q, '.');
    fed_quote_ident(q, r->table);
}

/* The WHERE and LIMIT of idxStr's terms (from t) with SQLite's argv.  0, or
 * -1 when an exact term could not be rendered (a bug). */
static int where_limit(const myf_rel *r, const char *t, int argc, sqlite3_value **argv,
                       fed_val *vals, sqlite3_value **keep, ut_buf *q)
{
    int ai = 0, nterms = 0;
    int64_t limit = -1;
    for (int ci, op, omit; fed_idx_term(&t, &ci, &op, &omit);) {
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
            fed_keep_free(keep, MYF_MAX_IN + 1);
            nv = fed_arg_values(argv[ai++], op == FED_IN, vals, keep, MYF_MAX_IN);
            if (nv < 0) return -2;
            if (op == FED_IN && nv == 1) op = FED_EQ; /* one value of a one-at-a-time IN */
        }
        size_t before = q->len;
        ut_buf_puts(q, nterms ? " AND " : " WHERE ");
        if (myf__render_pred(q, &r->cols[ci], (fed_op)op, vals, nv)) {
            nterms++;
        } else {
            ut_buf_truncate(q, before);
            if (omit) return -1; /* cannot happen: exact terms always render */
        }
    }
    if (limit >= 0) ut_buf_printf(q, " LIMIT %lld", (long long)limit);
    return 0;
}

static int x_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                    sqlite3_value **argv)
{
    myf_cur *k = (myf_cur *)cur;
    myf_vtab *v = (myf_vtab *)cur->pVtab;
    ut_buf q = {0};
    char err[1200];
    const char *terms;
    int rc = SQLITE_ERROR;
    (void)idxNum;
    cur_release(k);
    k->rowid = 0;
    fed_val *vals = malloc(sizeof *vals * (MYF_MAX_IN + 1));
    sqlite3_value **keep = calloc(MYF_MAX_IN + 1, sizeof *keep);
    if (!vals || !keep) {
        free(vals);
        free(keep);
        return SQLITE_NOMEM;
    }
    unsigned long long used = fed_idx_used(idxStr, &terms);
    select_list(k, v->rel, used, &q);
    int wrc = where_limit(v->rel, terms, argc, argv, vals, keep, &q);
    if (wrc == -2) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    if (wrc) {
        fed_vt_err(&v->base, "myfed: internal error: an exact predicate could not be rendered");
        goto done;
    }
    if (!(k->link = myf__acquire(k->c, err, sizeof err))) {
        fed_vt_err(&v->base, err);
        goto done;
    }
    int qrc = myf__query(k->c, k->link, (const char *)q.p, q.len, err, sizeof err);
    if (qrc || !(k->res = mysql_use_result(k->link->my))) {
        if (!qrc) myf__my_err(k->c, k->link->my, err, sizeof err);
        myf__release(k->c, k->link, 0);
        k->link = NULL;
        fed_vt_err(&v->base, err);
        goto done;
    }
    if (fetch(k) == 0) rc = SQLITE_OK;
done:
    fed_keep_free(keep, MYF_MAX_IN + 1);
    free(keep);
    free(vals);
    ut_buf_free(&q);
    return rc;
}

static int x_next(sqlite3_vtab_cursor *cur)
{
    myf_cur *k = (myf_cur *)cur;
    k->rowid++;
    if (fetch(k)) return SQLITE_ERROR;
    if (!k->row) cur_release(k); /* all read: the link is free for the next scan */
    return SQLITE_OK;
}

static int x_eof(sqlite3_vtab_cursor *cur) { return ((myf_cur *)cur)->row == NULL; }

static int x_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
    myf_cur *k = (myf_cur *)cur;
    const myf_rel *r = ((myf_vtab *)cur->pVtab)->rel;
    if (i < 0 || i >= r->ncols || k->field[i] < 0 || !k->row || !k->row[k->field[i]])
        return SQLITE_OK; /* NULL */
    myf__result(ctx, r->cols[i].kind, k->row[k->field[i]], k->lens[k->field[i]]);
    return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
    *out = ((myf_cur *)cur)->rowid;
    return SQLITE_OK;
}

const sqlite3_module myf__module = {
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
