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

static int vt_err(myf_vtab *v, const char *msg)
{
    sqlite3_free(v->base.zErrMsg);
    v->base.zErrMsg = sqlite3_mprintf("%s", msg);
    return SQLITE_ERROR;
}

/* ---- connect ------------------------------------------------------------------ */

/* argv[3]: the table's index in the connection's list. */
static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                     sqlite3_vtab **out, char **pzErr)
{
    myf_conn *c = aux;
    ut_buf ddl = {0};
    long idx = argc > 3 ? strtol(argv[3], NULL, 10) : -1;
    if (idx < 0 || idx >= c->nrels) {
        *pzErr = sqlite3_mprintf("myfed: bad table argument");
        return SQLITE_ERROR;
    }
    const myf_rel *r = &c->rels[idx];
    ut_buf_puts(&ddl, "CREATE TABLE x(");
    for (int i = 0; i < r->ncols; i++) {
        if (i) ut_buf_puts(&ddl, ", ");
        myf__quote_ident(&ddl, r->cols[i].name);
        ut_buf_printf(&ddl, " %s", myf__decltype(r->cols[i].kind));
    }
    ut_buf_puts(&ddl, ")");
    int rc = sqlite3_declare_vtab(db, ut_buf_cstr(&ddl));
    ut_buf_free(&ddl);
    if (rc != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("myfed: %s", sqlite3_errmsg(db));
        return rc;
    }
    myf_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->c = c;
    v->rel = r;
    *out = &v->base;
    return SQLITE_OK;
}

static int x_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* ---- planning ----------------------------------------------------------------- */

static int map_op(unsigned char op, myf_op *out)
{
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: *out = MYF_EQ; return 1;
    case SQLITE_INDEX_CONSTRAINT_LT: *out = MYF_LT; return 1;
    case SQLITE_INDEX_CONSTRAINT_LE: *out = MYF_LE; return 1;
    case SQLITE_INDEX_CONSTRAINT_GT: *out = MYF_GT; return 1;
    case SQLITE_INDEX_CONSTRAINT_GE: *out = MYF_GE; return 1;
    case SQLITE_INDEX_CONSTRAINT_ISNULL: *out = MYF_ISNULL; return 1;
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: *out = MYF_NOTNULL; return 1;
    case SQLITE_INDEX_CONSTRAINT_LIKE: *out = MYF_LIKE; return 1;
    default: return 0;
    }
}

static void to_val(sqlite3_value *sv, myf_val *out)
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

/* Constraint i, if it can be pushed: its op (IN when SQLite hands the list
 * over at once) and whether it is exact.  0 if not pushed. */
static int plan_term(myf_vtab *v, sqlite3_index_info *info, int i, myf_op *op, int *exact)
{
    const struct sqlite3_index_constraint *k = &info->aConstraint[i];
    const myf_rel *r = v->rel;
    if (!k->usable || k->iColumn < 0 || k->iColumn >= r->ncols || !map_op(k->op, op)) return 0;
    const myf_col *col = &r->cols[k->iColumn];
    int nullop = *op == MYF_ISNULL || *op == MYF_NOTNULL;
    const char *coll = sqlite3_vtab_collation(info, i);
    if (!nullop && *op != MYF_LIKE && coll && sqlite3_stricmp(coll, "BINARY")) return 0;
    if (!myf__pushable(col, *op)) return 0;
    if (*op == MYF_EQ && sqlite3_vtab_in(info, i, -1)) {
        sqlite3_vtab_in(info, i, 1);
        *op = MYF_IN;
    }
    sqlite3_value *rv = NULL;
    myf_val pv;
    int known = !nullop && *op != MYF_IN && sqlite3_vtab_rhs_value(info, i, &rv) == SQLITE_OK;
    if (known) to_val(rv, &pv);
    *exact = myf__exact(col, *op, known ? &pv : NULL);
    return 1;
}

/* idxStr: "<colUsed hex>" then per argument/term "/col:op:omit" (col -1 with
 * op MYF_LIMIT for the LIMIT).  Terms with an argument come in argv order;
 * IS [NOT] NULL terms take none. */
static int x_best(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    myf_vtab *v = (myf_vtab *)vt;
    ut_buf s = {0};
    int argv = 0, all_exact = 1, limit_i = -1, offset = 0;
    double rows = v->rel->rows > 0 ? v->rel->rows : 100000;
    ut_buf_printf(&s, "%llx", (unsigned long long)info->colUsed);
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *k = &info->aConstraint[i];
        myf_op op;
        int exact = 0;
        if (k->op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
            if (k->usable) limit_i = i;
            continue;
        }
        if (k->op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
            offset = 1;
            continue;
        }
        if (!plan_term(v, info, i, &op, &exact)) {
            all_exact = 0;
            continue;
        }
        if (!exact) all_exact = 0;
        if (op != MYF_ISNULL && op != MYF_NOTNULL) info->aConstraintUsage[i].argvIndex = ++argv;
        info->aConstraintUsage[i].omit = (unsigned char)exact;
        ut_buf_printf(&s, "/%d:%d:%d", k->iColumn, (int)op, exact);
        rows /= op == MYF_EQ ? 20 : op == MYF_IN ? 5 : op == MYF_ISNULL ? 10 : 2;
    }
    /* LIMIT applies after SQLite's filtering and ordering: only when it has
     * neither left to do */
    if (limit_i >= 0 && all_exact && !offset && info->nOrderBy == 0) {
        info->aConstraintUsage[limit_i].argvIndex = ++argv;
        ut_buf_printf(&s, "/-1:%d:0", (int)MYF_LIMIT);
    }
    if (rows < 1) rows = 1;
    info->idxStr = sqlite3_mprintf("%s", ut_buf_cstr(&s));
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
    vt_err((myf_vtab *)k->base.pVtab, err);
    return -1;
}

/* Values of argument a: an all-at-once IN list (each value copied into
 * keep[]: sqlite3_vtab_in_next frees the one before) or one value.
 * Returns the count (at most cap; cap + 1 means "more"), or -1 out of
 * memory. */
static int arg_values(sqlite3_value *a, int in, myf_val *out, sqlite3_value **keep, int cap)
{
    int n = 0;
    sqlite3_value *x = NULL;
    if (in && sqlite3_vtab_in_first(a, &x) == SQLITE_OK) {
        for (; x;) {
            if (n >= cap) return cap + 1;
            if (!(keep[n] = sqlite3_value_dup(x))) return -1;
            to_val(keep[n], &out[n]);
            n++;
            if (sqlite3_vtab_in_next(a, &x) != SQLITE_OK) break;
        }
        return n;
    }
    to_val(a, &out[0]);
    return 1;
}

/* SELECT <used columns> FROM "db"."t" into q; the field map into k. */
static void select_list(myf_cur *k, const myf_rel *r, unsigned long long used, ut_buf *q)
{
    int nf = 0;
    ut_buf_puts(q, "SELECT ");
    for (int i = 0; i < r->ncols; i++) {
        int u = i < 63 ? (int)((used >> i) & 1) : (int)((used >> 63) & 1);
        k->field[i] = u ? nf : -1;
        if (!u) continue;
        if (nf++) ut_buf_puts(q, ", ");
        /* FLOAT's own text has 6 digits; as a double it has all of them */
        if (r->cols[i].kind == MYF_FLOAT) ut_buf_putc(q, '(');
        myf__quote_ident(q, r->cols[i].name);
        if (r->cols[i].kind == MYF_FLOAT) ut_buf_puts(q, " + 0e0)");
    }
    if (!nf) ut_buf_puts(q, "1");
    ut_buf_puts(q, " FROM ");
    myf__quote_ident(q, r->db);
    ut_buf_putc(q, '.');
    myf__quote_ident(q, r->table);
}

/* The WHERE and LIMIT of idxStr's terms (from t) with SQLite's argv.  0, or
 * -1 when an exact term could not be rendered (a bug). */
static int where_limit(const myf_rel *r, const char *t, int argc, sqlite3_value **argv,
                       myf_val *vals, sqlite3_value **keep, ut_buf *q)
{
    int ai = 0, nterms = 0;
    int64_t limit = -1;
    while (t && *t == '/') {
        int ci, op, omit, used_n = 0;
        if (sscanf(t, "/%d:%d:%d%n", &ci, &op, &omit, &used_n) != 3) break;
        t += used_n;
        if (op == MYF_LIMIT) {
            if (ai < argc && sqlite3_value_type(argv[ai]) == SQLITE_INTEGER)
                limit = sqlite3_value_int64(argv[ai]);
            ai++;
            continue;
        }
        if (ci < 0 || ci >= r->ncols) continue;
        int nv = 0;
        if (op != MYF_ISNULL && op != MYF_NOTNULL) {
            if (ai >= argc) break;
            for (int i = 0; i < MYF_MAX_IN + 1 && keep[i]; i++) sqlite3_value_free(keep[i]);
            memset(keep, 0, sizeof *keep * (MYF_MAX_IN + 1));
            nv = arg_values(argv[ai++], op == MYF_IN, vals, keep, MYF_MAX_IN);
            if (nv < 0) return -2;
            if (op == MYF_IN && nv == 1) op = MYF_EQ; /* one value of a one-at-a-time IN */
        }
        size_t before = q->len;
        ut_buf_puts(q, nterms ? " AND " : " WHERE ");
        if (myf__render_pred(q, &r->cols[ci], (myf_op)op, vals, nv)) {
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
    char err[1200], *end;
    int rc = SQLITE_ERROR;
    (void)idxNum;
    cur_release(k);
    k->rowid = 0;
    myf_val *vals = malloc(sizeof *vals * (MYF_MAX_IN + 1));
    sqlite3_value **keep = calloc(MYF_MAX_IN + 1, sizeof *keep);
    if (!vals || !keep) {
        free(vals);
        free(keep);
        return SQLITE_NOMEM;
    }
    unsigned long long used = strtoull(idxStr ? idxStr : "0", &end, 16);
    select_list(k, v->rel, used, &q);
    int wrc = where_limit(v->rel, end, argc, argv, vals, keep, &q);
    if (wrc == -2) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    if (wrc) {
        vt_err(v, "myfed: internal error: an exact predicate could not be rendered");
        goto done;
    }
    if (!(k->link = myf__acquire(k->c, err, sizeof err))) {
        vt_err(v, err);
        goto done;
    }
    int qrc = myf__query(k->c, k->link, (const char *)q.p, q.len, err, sizeof err);
    if (qrc || !(k->res = mysql_use_result(k->link->my))) {
        if (!qrc) myf__my_err(k->c, k->link->my, err, sizeof err);
        myf__release(k->c, k->link, 0);
        k->link = NULL;
        vt_err(v, err);
        goto done;
    }
    if (fetch(k) == 0) rc = SQLITE_OK;
done:
    for (int i = 0; i < MYF_MAX_IN + 1 && keep[i]; i++) sqlite3_value_free(keep[i]);
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
