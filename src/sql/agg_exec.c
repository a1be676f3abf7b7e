/* The aggregate fast path's executor: the row groups the lake scan keeps
 * (its pruning and value mapping: sq__lscan), predicates and aggregates in
 * C, one state per (group, aggregate), the result into temp._sq_agg.
 *
 * Aggregates follow SQLite 3.40's own (func.c): sum adds integers exactly
 * and every value into a double; an integer overflow before any real value
 * is SQLite's "integer overflow" error (the fast path declines and SQLite's
 * path reports it); a real value makes the result the double sum; avg is the
 * double sum over the count; min/max keep the first of equal values. */
#include "sql/agg_int.h"
#include "sql/agg_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <unistd.h>

typedef struct astate {
    int64_t cnt, isum;
    double rsum;
    uint8_t approx, has;
    uint64_t absum; /* sum of |integers| (saturating): over INT64_MAX, some order may overflow */
    sq_val best; /* min/max: text owned (own) */
    char *own;
    sqa_keys *distinct;
} astate;

typedef struct run {
    sq_engine *e;
    const sqa_plan *p;
    sq__lscan *s;
    int gcol[SQA_MAX_GROUPS], acol[SQA_MAX_AGGS], pcol[SQA_MAX_PREDS];
    ct_type gtype[SQA_MAX_GROUPS];
    sqlite3_value *lit[SQA_MAX_LITS];
    sq_val litv[SQA_MAX_LITS];
    char *why;
    size_t whylen;
} run;

/* One thread's partial aggregates over the files its scan takes. */
typedef struct apart {
    run *r;
    sq__lscan *s;
    sqa_keys *groups;
    astate *st;
    int64_t cap; /* groups st has room for */
    ut_buf key;
    int64_t hour[SQA_MAX_GROUPS]; /* hour bucket cache: the last timestamp's hour + 1 (0 none) */
    char htext[SQA_MAX_GROUPS][16];
    int rc;      /* scan(): 1, 0 declined, -1 */
    char err[1024];
} apart;

static int decline(run *r, const char *fmt, const char *arg)
{
    snprintf(r->why, r->whylen, fmt, arg);
    return 0;
}

/* ---- setup ------------------------------------------------------------------------ */

static int find_col(const run *r, const char *name, ct_type *type)
{
    for (int i = 0; i < sq__lscan_ncols(r->s); i++) {
        int part;
        const char *n = sq__lscan_col(r->s, i, type, &part);
        if (!strcasecmp(n, name)) return i;
    }
    return -1;
}

static int numeric(ct_type t)
{
    return !strcmp(sq__decl(t), "INTEGER") || !strcmp(sq__decl(t), "REAL");
}

/* Columns of the plan in the table.  1 or 0 (declined). */
static int resolve(run *r, uint64_t *used)
{
    const sqa_plan *p = r->p;
    ct_type t;
    *used = 0;
#define USE(i) (*used |= 1ULL << ((i) < 63 ? (i) : 63))
    for (int i = 0; i < p->ngroups; i++) {
        if ((r->gcol[i] = find_col(r, p->groups[i].col, &r->gtype[i])) < 0)
            return decline(r, "no column '%s'", p->groups[i].col);
        if (p->groups[i].alias[0] && find_col(r, p->groups[i].alias, &t) >= 0)
            return decline(r, "GROUP BY '%s' names a column and an alias", p->groups[i].alias);
        if (p->groups[i].kind != SQA_G_COL && numeric(r->gtype[i]))
            return decline(r, "substr/strftime of the numeric column '%s'", p->groups[i].col);
        USE(r->gcol[i]);
    }
    for (int i = 0; i < p->naggs; i++) {
        r->acol[i] = -1;
        if (p->aggs[i].fn == SQA_COUNT_STAR) continue;
        if ((r->acol[i] = find_col(r, p->aggs[i].col, &t)) < 0)
            return decline(r, "no column '%s'", p->aggs[i].col);
        if ((p->aggs[i].fn == SQA_SUM || p->aggs[i].fn == SQA_AVG) && !numeric(t))
            return decline(r, "sum/avg of the non-numeric column '%s'", p->aggs[i].col);
        USE(r->acol[i]);
    }
    for (int i = 0; i < p->npreds; i++) {
        if ((r->pcol[i] = find_col(r, p->preds[i].col, &t)) < 0)
            return decline(r, "no column '%s'", p->preds[i].col);
        USE(r->pcol[i]);
    }
#undef USE
    return 1;
}

static int prune_op(sqa_op op)
{
    switch (op) {
    case SQA_EQ: return SQLITE_INDEX_CONSTRAINT_EQ;
    case SQA_LT: return SQLITE_INDEX_CONSTRAINT_LT;
    case SQA_LE: return SQLITE_INDEX_CONSTRAINT_LE;
    case SQA_GT: return SQLITE_INDEX_CONSTRAINT_GT;
    case SQA_GE: return SQLITE_INDEX_CONSTRAINT_GE;
    default: return 0;
    }
}

/* The WHERE literals as SQLite reads them, in the class each column compares
 * them in; the scan's pruning constraints.  1, 0 (declined), -1. */
static int literals(run *r, char *err, size_t errlen)
{
    const sqa_plan *p = r->p;
    if (!p->nlits) return 1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->e->db, p->lits, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        ut_err(err, errlen, "%s", sqlite3_errmsg(r->e->db));
        sqlite3_finalize(st);
        return -1;
    }
    for (int i = 0; i < p->nlits; i++) r->lit[i] = sqlite3_value_dup(sqlite3_column_value(st, i));
    sqlite3_finalize(st);
    for (int i = 0; i < p->npreds; i++) {
        const sqa_pred *q = &p->preds[i];
        ct_type t;
        int part;
        sq__lscan_col(r->s, r->pcol[i], &t, &part);
        if (part) t = CT_STRING;
        for (int k = q->lit; k < q->lit + q->nlit; k++)
            if (!r->lit[k] || sqlite3_value_type(r->lit[k]) == SQLITE_NULL ||
                sq__val_for(t, 1, r->lit[k], &r->litv[k]) < 0)
                return decline(r, "a literal compared with '%s' the fast path cannot", q->col);
        int op = prune_op(q->op), c = r->pcol[i];
        if (op) sq__lscan_cons(r->s, c, op, r->lit[q->lit], NULL, 0);
        if (q->op == SQA_BETWEEN) {
            sq__lscan_cons(r->s, c, SQLITE_INDEX_CONSTRAINT_GE, r->lit[q->lit], NULL, 0);
            sq__lscan_cons(r->s, c, SQLITE_INDEX_CONSTRAINT_LE, r->lit[q->lit + 1], NULL, 0);
        }
        if (q->op == SQA_IN) sq__lscan_cons(r->s, c, SQLITE_INDEX_CONSTRAINT_EQ, NULL, r->lit + q->lit, q->nlit);
    }
    return 1;
}

/* ---- rows ------------------------------------------------------------------------- */

static int holds(const run *r, const sqa_pred *q, const sq_val *v)
{
    if (q->op == SQA_ISNULL) return v->t == SQLITE_NULL;
    if (v->t == SQLITE_NULL) return q->op == SQA_NOTNULL ? 0 : 0;
    if (q->op == SQA_NOTNULL) return 1;
    const sq_val *l = &r->litv[q->lit];
    switch (q->op) {
    case SQA_EQ: return sq__cmp(v, l) == 0;
    case SQA_NE: return sq__cmp(v, l) != 0;
    case SQA_LT: return sq__cmp(v, l) < 0;
    case SQA_LE: return sq__cmp(v, l) <= 0;
    case SQA_GT: return sq__cmp(v, l) > 0;
    case SQA_GE: return sq__cmp(v, l) >= 0;
    case SQA_BETWEEN: return sq__cmp(v, l) >= 0 && sq__cmp(v, l + 1) <= 0;
    case SQA_IN:
        for (int k = 0; k < q->nlit; k++)
            if (sq__cmp(v, l + k) == 0) return 1;
        return 0;
    default: return 0;
    }
}

/* 'YYYY-MM-DD' optionally followed by [T ]HH:MM[:SS[.f..]][Z]: what
 * strftime('%Y-%m-%d', x) gives as its first 10 bytes. */
static int plain_time(const char *s, size_t n)
{
    static const char pat[] = "dddd-dd-dd";
    if (n < 10) return 0;
    for (int i = 0; i < 10; i++)
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-') return 0;
    int mo = (s[5] - '0') * 10 + s[6] - '0', d = (s[8] - '0') * 10 + s[9] - '0';
    int y = atoi(s);
    static const int dim[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > dim[mo - 1]) return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100) || y % 400 == 0)) return 0;
    if (n == 10) return 1;
    if ((s[10] != 'T' && s[10] != ' ') || n < 16) return 0;
    for (size_t i = 11; i < n; i++) {
        char c = s[i];
        if (c == 'Z' && i == n - 1) return 1;
        if (!((c >= '0' && c <= '9') || c == ':' || c == '.')) return 0;
    }
    return (s[11] - '0') * 10 + s[12] - '0' < 24 && s[13] == ':';
}

/* Group value of v by expression g.  0 or -1 (declined). */
static int bucket(const sqa_group *g, sq_val *v)
{
    if (g->kind == SQA_G_COL || v->t == SQLITE_NULL) return 0;
    if (v->t != SQLITE_TEXT) return -1;
    if (g->kind == SQA_G_DAY) {
        if (!plain_time(v->s, v->n)) return -1;
        v->n = 10;
        return 0;
    }
    size_t i = 0;
    for (int chars = 0; i < v->n && chars < g->n; chars++) {
        i++;
        while (i < v->n && ((unsigned char)v->s[i] & 0xc0) == 0x80) i++;
    }
    v->n = i;
    return 0;
}

static astate *states(apart *r, int64_t gi)
{
    int na = r->r->p->naggs;
    if (gi >= r->cap) {
        int64_t nc = r->cap ? r->cap * 2 : 64;
        r->st = ut_realloc(r->st, (size_t)(nc * na) * sizeof *r->st);
        memset(r->st + r->cap * na, 0, (size_t)((nc - r->cap) * na) * sizeof *r->st);
        r->cap = nc;
    }
    return r->st + gi * na;
}

static void keep_best(astate *a, const sq_val *v)
{
    free(a->own);
    a->own = NULL;
    a->best = *v;
    if (v->t == SQLITE_TEXT) {
        a->own = ut_strndup(v->s, v->n);
        a->best.s = a->own;
    }
    a->has = 1;
}

/* Add v to a.  0 or -1 (declined). */
static int step(apart *r, sqa_fn fn, astate *a, const sq_val *v)
{
    if (fn == SQA_COUNT_STAR) {
        a->cnt++;
        return 0;
    }
    if (v->t == SQLITE_NULL) return 0;
    if (v->t == SQLITE_BLOB) return -1;
    switch (fn) {
    case SQA_COUNT: a->cnt++; return 0;
    case SQA_COUNT_DISTINCT: {
        int added;
        if (!a->distinct) a->distinct = sqa_keys_create();
        ut_buf_reset(&r->key);
        sqa_key_put(&r->key, v);
        if (sqa_keys_find(a->distinct, r->key.p, r->key.len, &added) < 0) return -1;
        a->cnt += added;
        return 0;
    }
    case SQA_SUM:
    case SQA_AVG:
        a->cnt++;
        if (v->t == SQLITE_INTEGER) {
            uint64_t m = v->i < 0 ? 0 - (uint64_t)v->i : (uint64_t)v->i;
            a->rsum += (double)v->i;
            a->isum = (int64_t)((uint64_t)a->isum + (uint64_t)v->i); /* exact unless absum says */
            a->absum = a->absum + m < a->absum ? UINT64_MAX : a->absum + m;
        } else if (v->t == SQLITE_FLOAT) {
            a->rsum += v->d;
            a->approx = 1;
        } else return -1;
        return 0;
    default: {
        int c = a->has ? sq__cmp(&a->best, v) : 0;
        if (!a->has || (fn == SQA_MAX && c < 0) || (fn == SQA_MIN && c > 0)) keep_best(a, v);
        return 0;
    }
    }
}

/* A time bucket of at most 13 characters of a UTC timestamp column is its
 * hour's: formatted once per hour seen in a row (rows come in time order
 * mostly).  1 with v set, 0 (the general path). */
static int hour_bucket(apart *r, int g, int64_t row, sq_val *v)
{
    const sqa_group *gr = &r->r->p->groups[g];
    int64_t us;
    if (gr->kind == SQA_G_COL || (gr->kind == SQA_G_SUBSTR && gr->n > 13) ||
        !sq__lscan_ts(r->s, r->r->gcol[g], row, &us) || us < 0 || us > SQ_NTZ_MAX_US)
        return 0;
    int64_t h = us / 3600000000LL + 1;
    if (r->hour[g] != h) {
        char b[48];
        sq__ts_text(b, (h - 1) * 3600000000LL);
        memcpy(r->htext[g], b, 13);
        r->hour[g] = h;
    }
    *v = (sq_val){.t = SQLITE_TEXT, .s = r->htext[g], .n = gr->kind == SQA_G_DAY ? 10 : (size_t)gr->n};
    return 1;
}

/* Key of the current row's groups into r->key.  0 or -1 (declined). */
static int row_key(apart *r, int64_t row)
{
    ut_buf_reset(&r->key);
    for (int g = 0; g < r->r->p->ngroups; g++) {
        sq_val v;
        if (hour_bucket(r, g, row, &v)) {
            sqa_key_put(&r->key, &v);
            continue;
        }
        if (sq__lscan_val(r->s, r->r->gcol[g], row, &v) || bucket(&r->r->p->groups[g], &v)) return -1;
        sqa_key_put(&r->key, &v);
    }
    return 0;
}

static int row(apart *pt, int64_t i)
{
    const run *r = pt->r;
    const sqa_plan *p = r->p;
    for (int k = 0; k < p->npreds; k++) {
        sq_val v;
        if (sq__lscan_val(pt->s, r->pcol[k], i, &v)) return -1;
        if (!holds(r, &p->preds[k], &v)) return 0;
    }
    int64_t gi = 0; /* no GROUP BY: the one group */
    if (p->ngroups) {
        int added;
        if (row_key(pt, i)) return -1;
        gi = sqa_keys_find(pt->groups, pt->key.p, pt->key.len, &added);
        if (gi < 0) return -1;
    }
    astate *a = states(pt, gi);
    for (int k = 0; k < p->naggs; k++) {
        sq_val v = {.t = SQLITE_NULL};
        if (r->acol[k] >= 0 && sq__lscan_val(pt->s, r->acol[k], i, &v)) return -1;
        if (step(pt, p->aggs[k].fn, &a[k], &v)) return -1;
    }
    return 0;
}

/* Every row group pt's scan takes: pt->rc 1, 0 (declined), -1 (pt->err). */
static void *scan(void *arg)
{
    apart *pt = arg;
    run *r = pt->r;
    int64_t rows;
    int rc;
    pt->groups = sqa_keys_create();
    if (!r->p->ngroups) { /* one row even when nothing matches */
        int added;
        sqa_keys_find(pt->groups, "", 0, &added);
        states(pt, 0);
    }
    while ((rc = sq__lscan_next_rg(pt->s, &rows, pt->err, sizeof pt->err)) > 0) {
        if (r->e->deadline_ns && ut_now_ns() > (uint64_t)r->e->deadline_ns) {
            pt->rc = ut_err(pt->err, sizeof pt->err, "query timed out after %lld ms (limit %lld ms)",
                            (long long)r->e->o.timeout_ms, (long long)r->e->o.timeout_ms);
            return NULL;
        }
        for (int64_t i = 0; i < rows; i++)
            if (row(pt, i)) {
                pt->rc = 0;
                return NULL;
            }
    }
    pt->rc = rc < 0 ? -1 : 1;
    return NULL;
}

/* ---- merging partial aggregates --------------------------------------------------- */

static void merge_state(sqa_fn fn, astate *a, const astate *b)
{
    a->cnt += b->cnt;
    a->rsum += b->rsum;
    a->isum = (int64_t)((uint64_t)a->isum + (uint64_t)b->isum);
    a->approx |= b->approx;
    a->absum = a->absum + b->absum < a->absum ? UINT64_MAX : a->absum + b->absum;
    if (fn == SQA_COUNT_DISTINCT && b->distinct) {
        if (!a->distinct) a->distinct = sqa_keys_create();
        for (int64_t i = 0; i < sqa_keys_count(b->distinct); i++) {
            size_t n;
            int added;
            const uint8_t *k = sqa_keys_get(b->distinct, i, &n);
            sqa_keys_find(a->distinct, k, n, &added);
        }
        a->cnt = sqa_keys_count(a->distinct);
    }
    if ((fn == SQA_MIN || fn == SQA_MAX) && b->has) {
        int c = a->has ? sq__cmp(&a->best, &b->best) : 0;
        if (!a->has || (fn == SQA_MAX && c < 0) || (fn == SQA_MIN && c > 0)) keep_best(a, &b->best);
    }
}

/* Add partial b's groups into a.  0, or -1 past the key cap. */
static int merge(apart *a, apart *b)
{
    int na = a->r->p->naggs;
    for (int64_t gi = 0; gi < sqa_keys_count(b->groups); gi++) {
        size_t n;
        int added;
        const uint8_t *k = sqa_keys_get(b->groups, gi, &n);
        int64_t g = sqa_keys_find(a->groups, k, n, &added);
        if (g < 0) return -1;
        astate *x = states(a, g), *y = states(b, gi);
        for (int j = 0; j < na; j++) merge_state(a->r->p->aggs[j].fn, &x[j], &y[j]);
    }
    return 0;
}

/* ---- the partial result ------------------------------------------------------------- */

static int bind_agg(run *r, sqlite3_stmt *ins, int col, sqa_fn fn, const astate *a)
{
    switch (fn) {
    case SQA_COUNT_STAR:
    case SQA_COUNT:
    case SQA_COUNT_DISTINCT: return sqlite3_bind_int64(ins, col, a->cnt);
    case SQA_SUM:
        if (!a->cnt) return sqlite3_bind_null(ins, col);
        if (!a->approx && a->absum > (uint64_t)INT64_MAX) /* SQLite's order decides */
            return decline(r, "%s", "sum: integers that may overflow (SQLite's path decides)") - 1;
        return a->approx ? sqlite3_bind_double(ins, col, a->rsum) : sqlite3_bind_int64(ins, col, a->isum);
    case SQA_AVG:
        return a->cnt ? sqlite3_bind_double(ins, col, a->rsum / (double)a->cnt) : sqlite3_bind_null(ins, col);
    default:
        if (!a->has) return sqlite3_bind_null(ins, col);
        if (a->best.t == SQLITE_INTEGER) return sqlite3_bind_int64(ins, col, a->best.i);
        if (a->best.t == SQLITE_FLOAT) return sqlite3_bind_double(ins, col, a->best.d);
        return sqlite3_bind_text(ins, col, a->best.s, (int)a->best.n, SQLITE_TRANSIENT);
    }
}

static int bind_group(sqlite3_stmt *ins, int col, const sq_val *v)
{
    switch (v->t) {
    case SQLITE_INTEGER: return sqlite3_bind_int64(ins, col, v->i);
    case SQLITE_FLOAT: return sqlite3_bind_double(ins, col, v->d);
    case SQLITE_TEXT: return sqlite3_bind_text(ins, col, v->s, (int)v->n, SQLITE_TRANSIENT);
    default: return sqlite3_bind_null(ins, col);
    }
}

static int exec_sql(run *r, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(r->e->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    ut_err(err, errlen, "fast path: %s", msg ? msg : sqlite3_errmsg(r->e->db));
    sqlite3_free(msg);
    return -1;
}

static int create_result(run *r, char *err, size_t errlen)
{
    ut_buf b = {0};
    ut_buf_puts(&b, "DROP TABLE IF EXISTS temp._sq_agg; CREATE TEMP TABLE _sq_agg(");
    for (int g = 0; g < r->p->ngroups; g++) {
        int part;
        ct_type t;
        sq__lscan_col(r->s, r->gcol[g], &t, &part);
        ut_buf_printf(&b, "g%d %s, ", g, r->p->groups[g].kind == SQA_G_COL ? sq__decl(t) : "");
    }
    for (int a = 0; a < r->p->naggs; a++) ut_buf_printf(&b, "a%d%s", a, a + 1 < r->p->naggs ? ", " : ")");
    ut_buf_putc(&b, 0);
    int rc = exec_sql(r, (char *)b.p, err, errlen);
    ut_buf_free(&b);
    return rc;
}

/* Rows of temp._sq_agg.  1, 0 (declined), -1. */
static int store(run *r, apart *pt, char *err, size_t errlen)
{
    const sqa_plan *p = r->p;
    if (create_result(r, err, errlen)) return -1;
    ut_buf b = {0};
    ut_buf_puts(&b, "INSERT INTO temp._sq_agg VALUES (");
    for (int i = 0; i < p->ngroups + p->naggs; i++) ut_buf_puts(&b, i ? ", ?" : "?");
    ut_buf_puts(&b, ")");
    ut_buf_putc(&b, 0);
    sqlite3_stmt *ins = NULL;
    int rc = sqlite3_prepare_v2(r->e->db, (char *)b.p, -1, &ins, NULL) == SQLITE_OK ? 1 : -1;
    ut_buf_free(&b);
    for (int64_t gi = 0; rc > 0 && gi < sqa_keys_count(pt->groups); gi++) {
        size_t n, at = 0;
        const uint8_t *k = sqa_keys_get(pt->groups, gi, &n);
        for (int g = 0; g < p->ngroups; g++) {
            sq_val v;
            at += sqa_key_get(k + at, n - at, &v);
            bind_group(ins, g + 1, &v);
        }
        const astate *a = states(pt, gi);
        for (int j = 0; j < p->naggs && rc > 0; j++)
            if (bind_agg(r, ins, p->ngroups + j + 1, p->aggs[j].fn, &a[j]) < 0) rc = 0;
        if (rc > 0 && sqlite3_step(ins) != SQLITE_DONE) rc = -1;
        sqlite3_reset(ins);
    }
    if (rc < 0) ut_err(err, errlen, "fast path: %s", sqlite3_errmsg(r->e->db));
    sqlite3_finalize(ins);
    return rc;
}

/* The outer statement with bare group items named as the table spells them. */
static char *outer_sql(const run *r)
{
    ut_buf b = {0};
    for (const char *q = r->p->outer; *q; q++) {
        if (*q != '\x01') {
            ut_buf_putc(&b, (uint8_t)*q);
            continue;
        }
        int g = atoi(q + 1), part;
        ct_type t;
        sq__ident(&b, sq__lscan_col(r->s, r->gcol[g], &t, &part));
        q = strchr(q + 1, '\x01');
    }
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

/* Is `name` something other than the lake table when unqualified (a view, a
 * temp or main table of that name)? */
static int shadowed(sq_engine *e, const char *name)
{
    if (sq__is_view(e, name)) return 1;
    sqlite3_stmt *st = NULL;
    int found = 1;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT 1 FROM temp.sqlite_master WHERE name = ?1 COLLATE NOCASE "
                           "UNION ALL SELECT 1 FROM main.sqlite_master WHERE name = ?1 COLLATE NOCASE",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

static void part_free(apart *pt)
{
    int na = pt->r->p->naggs;
    int64_t ng = pt->groups ? sqa_keys_count(pt->groups) : 0;
    for (int64_t i = 0; i < ng * na && i < pt->cap * na; i++) {
        free(pt->st[i].own);
        sqa_keys_destroy(pt->st[i].distinct);
    }
    free(pt->st);
    sqa_keys_destroy(pt->groups);
    ut_buf_free(&pt->key);
}

static void run_free(run *r)
{
    for (int i = 0; i < r->p->nlits; i++) sqlite3_value_free(r->lit[i]);
    sq__lscan_close(r->s);
}

static int nthreads(const sq_engine *e)
{
    long n = e->o.threads > 0 ? e->o.threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > SQA_MAX_THREADS ? SQA_MAX_THREADS : (int)n;
}

/* Scan with the engine's threads (forks of r->s), merge into pts[0].  1, 0
 * (declined), -1. */
static int scan_all(run *r, apart *pts, int n, char *err, size_t errlen)
{
    pthread_t tid[SQA_MAX_THREADS];
    int started[SQA_MAX_THREADS] = {0};
    for (int i = 0; i < n; i++) {
        pts[i].r = r;
        pts[i].s = sq__lscan_fork(r->s);
    }
    for (int i = 1; i < n; i++) started[i] = !pthread_create(&tid[i], NULL, scan, &pts[i]);
    scan(&pts[0]);
    for (int i = 1; i < n; i++) {
        if (started[i]) pthread_join(tid[i], NULL);
        else scan(&pts[i]); /* no thread: read its share here */
    }
    int rc = 1;
    for (int i = 0; i < n; i++) {
        if (pts[i].rc < 0 && rc >= 0) {
            rc = -1;
            ut_err(err, errlen, "%s", pts[i].err);
        }
        if (pts[i].rc == 0 && rc > 0) rc = 0;
        sq__lscan_join(r->s, pts[i].s);
        pts[i].s = NULL;
    }
    if (pts[0].err[0] && rc < 0 && strstr(pts[0].err, "timed out")) r->e->timed_out = 1;
    if (rc == 0)
        decline(r, "%s", "a value only SQLite's path renders (a widened timestamp's text, an exact "
                         "decimal, a blob, text in sum, a time text strftime would parse otherwise)");
    for (int i = 1; rc > 0 && i < n; i++)
        if (merge(&pts[0], &pts[i])) rc = decline(r, "%s", "too many groups");
    return rc;
}

int sq__agg_run(sq_engine *e, const sqa_plan *p, char **outer, char *why, size_t whylen,
                char *err, size_t errlen)
{
    run *r = ut_calloc(1, sizeof *r);
    r->e = e;
    r->p = p;
    r->why = why;
    r->whylen = whylen;
    int rc = 0, tail = 0, n = 0;
    uint64_t used;
    char e2[512];
    apart *pts = NULL;
    if (shadowed(e, p->table)) {
        decline(r, "'%s' names a view or a temp table", p->table);
        goto out;
    }
    if (!(r->s = sq__lscan_open(e, p->table, e2, sizeof e2))) {
        decline(r, "%s", e2);
        goto out;
    }
    if (!resolve(r, &used) || (rc = literals(r, err, errlen)) <= 0) goto out;
    if ((rc = sq__lscan_start(r->s, used, &tail, err, errlen)) < 0) goto out;
    if (tail) {
        rc = decline(r, "%s", "the journal tail has records not yet in files");
        goto out;
    }
    n = sq__lscan_can_fork(r->s) ? nthreads(e) : 1;
    pts = ut_calloc((size_t)n, sizeof *pts);
    if ((rc = scan_all(r, pts, n, err, errlen)) <= 0 || (rc = store(r, &pts[0], err, errlen)) <= 0)
        goto out;
    *outer = outer_sql(r);
    r->e->agg_threads = n;
out:
    for (int i = 0; i < n; i++) part_free(&pts[i]);
    free(pts);
    run_free(r);
    free(r);
    return rc;
}
