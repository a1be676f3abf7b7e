/* fed: the shared vtab skeleton (fed.h). */
#include "fed/fed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fed_to_val(sqlite3_value *sv, fed_val *out)
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

int fed_map_op(unsigned char op, int like, fed_op *out)
{
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: *out = FED_EQ; return 1;
    case SQLITE_INDEX_CONSTRAINT_LT: *out = FED_LT; return 1;
    case SQLITE_INDEX_CONSTRAINT_LE: *out = FED_LE; return 1;
    case SQLITE_INDEX_CONSTRAINT_GT: *out = FED_GT; return 1;
    case SQLITE_INDEX_CONSTRAINT_GE: *out = FED_GE; return 1;
    case SQLITE_INDEX_CONSTRAINT_ISNULL: *out = FED_ISNULL; return 1;
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: *out = FED_NOTNULL; return 1;
    case SQLITE_INDEX_CONSTRAINT_LIKE: *out = FED_LIKE; return like;
    default: return 0;
    }
}

void fed_quote_ident(ut_buf *b, const char *s)
{
    ut_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') ut_buf_putc(b, '"');
        ut_buf_putc(b, (uint8_t)*s);
    }
    ut_buf_putc(b, '"');
}

int fed_vt_err(sqlite3_vtab *v, const char *msg)
{
    sqlite3_free(v->zErrMsg);
    v->zErrMsg = sqlite3_mprintf("%s", msg);
    return SQLITE_ERROR;
}

int fed_declare(sqlite3 *db, const char *who, int ncols,
                const char *(*name)(const void *arg, int i),
                const char *(*decl)(const void *arg, int i), const void *arg, char **pzErr)
{
    ut_buf ddl = {0};
    ut_buf_puts(&ddl, "CREATE TABLE x(");
    for (int i = 0; i < ncols; i++) {
        if (i) ut_buf_puts(&ddl, ", ");
        fed_quote_ident(&ddl, name(arg, i));
        ut_buf_printf(&ddl, " %s", decl(arg, i));
    }
    ut_buf_puts(&ddl, ")");
    int rc = sqlite3_declare_vtab(db, ut_buf_cstr(&ddl));
    ut_buf_free(&ddl);
    if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("%s: %s", who, sqlite3_errmsg(db));
    return rc;
}

int fed_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* idxStr: "<colUsed hex>" then per argument/term "/col:op:omit" (col -1 with
 * op FED_LIMIT for the LIMIT).  Terms with an argument come in argv order;
 * IS [NOT] NULL terms take none. */
int fed_best_index(sqlite3_index_info *info, double rows, fed_plan_fn plan, void *arg)
{
    ut_buf s = {0};
    int argv = 0, all_exact = 1, limit_i = -1, offset = 0;
    if (rows <= 0) rows = 100000;
    ut_buf_printf(&s, "%llx", (unsigned long long)info->colUsed);
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *k = &info->aConstraint[i];
        fed_op op;
        int exact = 0;
        if (k->op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
            if (k->usable) limit_i = i;
            continue;
        }
        if (k->op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
            offset = 1;
            continue;
        }
        if (!plan(arg, info, i, &op, &exact)) {
            all_exact = 0;
            continue;
        }
        if (!exact) all_exact = 0;
        if (op != FED_ISNULL && op != FED_NOTNULL) info->aConstraintUsage[i].argvIndex = ++argv;
        info->aConstraintUsage[i].omit = (unsigned char)exact;
        ut_buf_printf(&s, "/%d:%d:%d", k->iColumn, (int)op, exact);
        rows /= op == FED_EQ ? 20 : op == FED_IN ? 5 : op == FED_ISNULL ? 10 : 2;
    }
    /* LIMIT applies after SQLite's filtering and ordering: only when it has
     * neither left to do */
    if (limit_i >= 0 && all_exact && !offset && info->nOrderBy == 0) {
        info->aConstraintUsage[limit_i].argvIndex = ++argv;
        ut_buf_printf(&s, "/-1:%d:0", (int)FED_LIMIT);
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

unsigned long long fed_idx_used(const char *idxStr, const char **terms)
{
    char *end;
    unsigned long long used = strtoull(idxStr ? idxStr : "0", &end, 16);
    *terms = end;
    return used;
}

int fed_col_used(unsigned long long used, int i)
{
    return i < 63 ? (int)((used >> i) & 1) : (int)((used >> 63) & 1);
}

int fed_idx_term(const char **terms, int *col, int *op, int *omit)
{
    int n = 0;
    const char *t = *terms;
    if (!t || *t != '/' || sscanf(t, "/%d:%d:%d%n", col, op, omit, &n) != 3) return 0;
    *terms = t + n;
    return 1;
}

int fed_arg_values(sqlite3_value *a, int in, fed_val *out, sqlite3_value **keep, int cap)
{
    int n = 0;
    sqlite3_value *x = NULL;
    if (in && sqlite3_vtab_in_first(a, &x) == SQLITE_OK) {
        for (; x;) {
            if (n >= cap) return cap + 1;
            if (!(keep[n] = sqlite3_value_dup(x))) return -1;
            fed_to_val(keep[n], &out[n]);
            n++;
            if (sqlite3_vtab_in_next(a, &x) != SQLITE_OK) break;
        }
        return n;
    }
    fed_to_val(a, &out[0]);
    return 1;
}

void fed_keep_free(sqlite3_value **keep, int n)
{
    for (int i = 0; i < n; i++) {
        sqlite3_value_free(keep[i]);
        keep[i] = NULL;
    }
}
