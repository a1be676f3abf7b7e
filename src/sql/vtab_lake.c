/* Virtual tables over Parquet files: "sluice_lake" (a catalog table: its
 * committed files plus the journal tail) and "sluice_parquet" (the files of a
 * path or glob, for read_parquet).
 *
 * xBestIndex encodes the plan in idxStr: "<colUsed hex>|col:op:flags,..." with
 * flags 1 = omitted (evaluated exactly here: partition columns vs literals),
 * 2 = the right-hand side is a literal, 4 = IN handled all at once.  col -1
 * carries LIMIT / OFFSET.  xFilter prunes partitions, skips files by catalog
 * min/max and row groups by Parquet statistics, reads only the used columns
 * of the remaining row groups, and stops after LIMIT + OFFSET rows when SQLite
 * handed the LIMIT down (only when every constraint is exact here). */
#include "sql/sq_int.h"
#include "lake/lake.h"

#include <assert.h>
#include <dirent.h>
#include <stdatomic.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { F_OMIT = 1, F_CONST = 2, F_IN = 4 };

typedef struct vcol {
    char *name;
    ct_type type;
    int part;          /* 0 data, else 1-based index into the partition keys */
    int added_version; /* lake: schema version that added it (0 unknown) */
    int stats_since;   /* lake: files of older schema versions hold the column in a
                          type whose statistics do not compare in this one (0: all do) */
} vcol;

typedef struct lvtab {
    sqlite3_vtab base;
    sq_engine *e;
    int is_lake;
    char table[128];
    int64_t table_id;
    char location[1024];
    char stream[72];
    char partspec[64];
    char pkeys[4][16]; /* partition keys in order */
    int npkeys;
    int has_tail;
    int since_ready;   /* cols[].stats_since loaded (load_since) */
    vcol *cols;
    int ncols;
    ct_file *pfiles; /* sluice_parquet: the files (path absolute) */
    int npfiles;
} lvtab;

typedef struct fcons {
    int col, op, flags;
    sqlite3_value *v;          /* dup */
    sqlite3_value **in;        /* IN values (dups) */
    int nin;
} fcons;

typedef struct lcur {
    sqlite3_vtab_cursor base;
    fcons cons[SQ_MAX_CONS];
    int ncons;
    uint64_t used;
    int64_t limit; /* -1 none: stop after limit rows (limit + offset) */
    int64_t emitted, rowid;
    ct_file *files;
    int nfiles, fi, own_files;
    pq_reader *r;
    ut_buf mem;
    int rg, nrg;
    int *fcol;
    pq_type *fpt;
    int *fscale;       /* per column: a DECIMAL's scale in the open file */
    pq_col *vals;
    lk_tstext **tst;   /* per column: a TIMESTAMP in the file, string in the table: the
                          records' texts (lake.h), NULL without them */
    int64_t rgbase;    /* rows of the file before row group rg */
    int64_t row, nrows;
    char pvals[4][LK_SEGMENT_MAX + 1]; /* unescaped partition values */
    char lastpart[256];
    sq_tail *tail;
    int in_tail, eof;
    lk_pin *pin; /* lake: held from the first file list until the cursor closes */
    sq_stats *st;          /* what files and row groups it read (the engine's, or a fork's) */
    _Atomic int *claim;    /* a fork: the next file index to take (shared) */
    _Atomic unsigned char *opened; /* a fork: which files were opened, by index (shared:
                                      partitions are counted once, at the last join) */
} lcur;

/* ---- helpers ------------------------------------------------------------------- */

static int col_used(uint64_t used, int i) { return i >= 63 ? (used >> 63) & 1 : (used >> i) & 1; }

static void free_cols(vcol *c, int n)
{
    for (int i = 0; i < n; i++) free(c[i].name);
    free(c);
}

static void add_col(lvtab *t, int *cap, const char *name, ct_type type, int part, int added)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name)) return; /* partition key wins over a data column */
    if (t->ncols == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        t->cols = ut_realloc(t->cols, (size_t)*cap * sizeof *t->cols);
    }
    t->cols[t->ncols++] = (vcol){ut_strdup(name), type, part, added, 0};
}

/* Do statistics of a column of type `old` compare in type `cur`?  Numbers
 * with numbers; anything else only with itself (an int64 file's min/max are
 * not the bounds of its values as text, nor a timestamp's as text). */
static int stats_comparable(ct_type cur, ct_type old)
{
    if (cur == old) return 1;
    int n1 = cur == CT_INT64 || cur == CT_INT32 || cur == CT_DOUBLE || cur == CT_FLOAT;
    int n2 = old == CT_INT64 || old == CT_INT32 || old == CT_DOUBLE || old == CT_FLOAT;
    return n1 && n2;
}

typedef struct since_ctx {
    lvtab *t;
    lk_names *names;
} since_ctx;

static void note_type(void *arg, const char *column, ct_type type, int last_version)
{
    since_ctx *x = arg;
    int i = lk_names_find(x->names, column, strlen(column));
    if (i < 0 || i >= x->t->ncols) return;
    vcol *c = &x->t->cols[i];
    if (!stats_comparable(c->type, type) && c->stats_since < last_version + 1)
        c->stats_since = last_version + 1;
}

/* Fill the columns' stats_since from the catalog's schema history, once per
 * table (only scans that skip files by statistics need it). */
static void load_since(lvtab *t)
{
    if (t->since_ready) return;
    t->since_ready = 1;
    char err[512];
    lk_names *names = lk_names_create(0);
    for (int i = 0; i < t->ncols; i++)
        if (!t->cols[i].part) lk_names_take(names, t->cols[i].name, strlen(t->cols[i].name), i);
    since_ctx sx = {t, names};
    if (ct_column_types(t->e->cat, t->table_id, note_type, &sx, err, sizeof err)) {
        sq__warn_once("table %s: %s (files are not skipped by statistics)", t->table, err);
        for (int i = 0; i < t->ncols; i++) t->cols[i].stats_since = INT32_MAX;
    }
    lk_names_destroy(names);
}

/* The data columns of catalog table tb, by the naming rule: a column whose
 * name equals (up to ASCII case) a reserved name or an earlier column — only
 * in catalogs written before the rule — is left out with a warning, so the
 * table can still be declared. */
static void lake_columns(lvtab *t, const ct_table *tb, lk_names *names, int *cap)
{
    lk_names_take(names, "_ingest_ts", 10, -1);
    for (int p = 0; p < t->npkeys; p++) lk_names_take(names, t->pkeys[p], strlen(t->pkeys[p]), -1);
    for (int i = 0; i < tb->ncols; i++) {
        const char *nm = tb->cols[i].name;
        int is_pkey = 0;
        for (int p = 0; p < t->npkeys; p++) is_pkey |= !strcmp(nm, t->pkeys[p]);
        if (is_pkey) continue; /* the partition key replaces a data column of its name */
        if (!strcmp(nm, "_ingest_ts")) { /* copied by CREATE TABLE AS: it is the column */
            add_col(t, cap, nm, tb->cols[i].type, 0, tb->cols[i].added_version);
            continue;
        }
        if (lk_names_take(names, nm, strlen(nm), t->ncols) < 0) {
            sq__warn_once("table %s: column '%s' equals another column or a reserved name up "
                          "to case (a catalog from before the naming rule): left out",
                          tb->name, nm);
            continue;
        }
        add_col(t, cap, nm, tb->cols[i].type, 0, tb->cols[i].added_version);
    }
}

static char *declare(const lvtab *t)
{
    ut_buf b = {0};
    ut_buf_puts(&b, "CREATE TABLE x(");
    for (int i = 0; i < t->ncols; i++) {
        if (i) ut_buf_puts(&b, ", ");
        sq__ident(&b, t->cols[i].name);
        ut_buf_printf(&b, " %s", sq__decl(t->cols[i].type));
    }
    ut_buf_puts(&b, ")");
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

/* Strip SQL quotes from a module argument into out. */
static void dequote(const char *a, char *out, size_t n)
{
    size_t len = strlen(a), j = 0;
    if (len >= 2 && (a[0] == '\'' || a[0] == '"') && a[len - 1] == a[0]) {
        for (size_t i = 1; i + 1 < len && j + 1 < n; i++) {
            out[j++] = a[i];
            if (a[i] == a[0] && a[i + 1] == a[0]) i++;
        }
        out[j] = 0;
    } else {
        snprintf(out, n, "%s", a);
    }
}

/* ---- files of a glob (read_parquet) ------------------------------------------------ */

typedef struct globctx {
    const char *pat;
    char **v;
    int n, cap;
} globctx;

static void walk(globctx *g, const char *dir, int depth)
{
    if (depth > 32 || g->n >= SQ_MAX_GLOB) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) && g->n < SQ_MAX_GLOB) {
        if (de->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st)) continue;
        if (S_ISDIR(st.st_mode)) walk(g, p, depth + 1);
        else if (S_ISREG(st.st_mode) && !fnmatch(g->pat, p, 0)) {
            if (g->n == g->cap) {
                g->cap = g->cap ? g->cap * 2 : 64;
                g->v = ut_realloc(g->v, (size_t)g->cap * sizeof *g->v);
            }
            g->v[g->n++] = ut_strdup(p);
        }
    }
    closedir(d);
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand pattern (glob, with ** matching across directories) into sorted
 * paths.  Count (0 = none) . */
static int expand(const char *pat, char ***out)
{
    globctx g = {pat, NULL, 0, 0};
    if (strstr(pat, "**")) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", pat);
        char *w = strpbrk(dir, "*?[");
        if (w) *w = 0;
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
        walk(&g, dir[0] ? dir : "/", 0);
    } else {
        glob_t gl;
        if (glob(pat, 0, NULL, &gl) == 0) {
            for (size_t i = 0; i < gl.gl_pathc && g.n < SQ_MAX_GLOB; i++) {
                if (g.n == g.cap) {
                    g.cap = g.cap ? g.cap * 2 : 64;
                    g.v = ut_realloc(g.v, (size_t)g.cap * sizeof *g.v);
                }
                g.v[g.n++] = ut_strdup(gl.gl_pathv[i]);
            }
            globfree(&gl);
        }
    }
    if (g.n) qsort(g.v, (size_t)g.n, sizeof *g.v, cmpstr);
    *out = g.v;
    return g.n;
}

/* ---- connect ---------------------------------------------------------------------- */

/* Is t the errors table of its stream's table (lk_errors_table_name of a
 * table of the same stream)?  A stream's tail belongs to its main table only;
 * a stream may well be called "x_errors". */
static int errors_table(const lvtab *t)
{
    char **names = NULL, err[256], en[LK_TABLE_NAME_MAX + 1];
    int n = ct_tables(t->e->cat, &names, err, sizeof err), found = 0;
    for (int i = 0; i < n && !found; i++) {
        lk_errors_table_name(names[i], en);
        if (strcmp(en, t->table)) continue;
        ct_table m;
        if (ct_table_get(t->e->cat, names[i], &m, err, sizeof err) == 1) {
            found = !strcmp(m.stream, t->stream);
            ct_table_free(&m);
        }
    }
    ct_names_free(names, n);
    return found;
}

static int connect_lake(lvtab *t, const char *name, char **pzErr)
{
    char err[512];
    ct_table tb = {0};
    int rc = ct_table_get(t->e->cat, name, &tb, err, sizeof err);
    if (rc <= 0) {
        *pzErr = sqlite3_mprintf("lake table '%s': %s", name, rc < 0 ? err : "not in the catalog");
        return -1;
    }
    t->is_lake = 1;
    snprintf(t->table, sizeof t->table, "%s", tb.name);
    t->table_id = tb.id;
    snprintf(t->location, sizeof t->location, "%s", tb.location);
    snprintf(t->stream, sizeof t->stream, "%s", tb.stream);
    snprintf(t->partspec, sizeof t->partspec, "%s", tb.partition);
    char spec[64];
    snprintf(spec, sizeof spec, "%s", tb.partition);
    for (char *sv = NULL, *k = strtok_r(spec, ",", &sv); k && t->npkeys < 4;
         k = strtok_r(NULL, ",", &sv)) {
        snprintf(t->pkeys[t->npkeys], sizeof t->pkeys[0], "%s", k);
        t->npkeys++;
    }
    int cap = 0;
    lk_names *names = lk_names_create(0);
    lake_columns(t, &tb, names, &cap);
    add_col(t, &cap, "_ingest_ts", CT_TIMESTAMP, 0, 0);
    for (int p = 0; p < t->npkeys; p++) add_col(t, &cap, t->pkeys[p], CT_STRING, p + 1, 0);
    lk_names_destroy(names);
    t->has_tail = t->stream[0] && !errors_table(t);
    ct_table_free(&tb);
    return 0;
}

static int connect_parquet(lvtab *t, const char *pat, char **pzErr)
{
    char **paths = NULL;
    int n = expand(pat, &paths), cap = 0, rc = -1;
    lk_names *names = lk_names_create(0); /* SQL cannot declare names equal up to case */
    if (n == 0) {
        *pzErr = sqlite3_mprintf("read_parquet: no file matches '%s'", pat);
        goto fail;
    }
    t->pfiles = ut_calloc((size_t)n, sizeof *t->pfiles);
    t->npfiles = n;
    for (int i = 0; i < n; i++) {
        char err[512];
        snprintf(t->pfiles[i].path, sizeof t->pfiles[i].path, "%s", paths[i]);
        t->pfiles[i].min_offset = t->pfiles[i].max_offset = -1;
        pq_reader *r = pq_reader_open(paths[i], err, sizeof err);
        if (!r) {
            *pzErr = sqlite3_mprintf("read_parquet: %s", err);
            goto fail;
        }
        t->pfiles[i].rows = pq_reader_num_rows(r);
        struct stat st;
        if (!stat(paths[i], &st)) t->pfiles[i].bytes = st.st_size;
        for (int c = 0; c < pq_reader_num_columns(r) && t->ncols < CT_MAX_COLUMNS; c++) {
            pq_column_info ci;
            pq_reader_column(r, c, &ci);
            ct_type ct = sq__ct_of_pq(ci.type);
            if (!ct) continue;
            int have = lk_names_find(names, ci.name, strlen(ci.name));
            if (have < 0 && lk_names_take(names, ci.name, strlen(ci.name), t->ncols) < 0) {
                sq__warn_once("read_parquet: %s: column '%s' equals an earlier column up to case: "
                              "left out", paths[i], ci.name);
                continue;
            }
            add_col(t, &cap, ci.name, ct, 0, 0);
        }
        pq_reader_destroy(r);
    }
    rc = 0;
fail:
    lk_names_destroy(names);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    return rc;
}

static int xconnect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                    sqlite3_vtab **out, char **pzErr)
{
    sq_engine *e = aux;
    int parquet = !strcmp(argv[0], "sluice_parquet");
    if (argc < 4) {
        *pzErr = sqlite3_mprintf("%s: one argument expected", argv[0]);
        return SQLITE_ERROR;
    }
    lvtab *t = ut_calloc(1, sizeof *t);
    t->e = e;
    char arg[4096];
    dequote(argv[3], arg, sizeof arg);
    if ((parquet ? connect_parquet(t, arg, pzErr) : connect_lake(t, arg, pzErr)) < 0) goto fail;
    if (t->ncols == 0) {
        *pzErr = sqlite3_mprintf("%s: no columns", arg);
        goto fail;
    }
    char *decl = declare(t);
    /* ours, not the user's: a table may be (re)connected while a user
     * statement is prepared (after the schema was reset), under the authorizer */
    int in_user = e->in_user;
    e->in_user = 0;
    int rc = sqlite3_declare_vtab(db, decl);
    e->in_user = in_user;
    if (rc != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("%s: cannot declare columns: %s (%s)", arg, sqlite3_errmsg(db),
                                 decl);
        free(decl);
        goto fail;
    }
    free(decl);
    sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    *out = &t->base;
    return SQLITE_OK;
fail:
    free_cols(t->cols, t->ncols);
    free(t->pfiles);
    free(t);
    return SQLITE_ERROR;
}

static int xdisconnect(sqlite3_vtab *v)
{
    lvtab *t = (lvtab *)v;
    free_cols(t->cols, t->ncols);
    free(t->pfiles);
    free(t);
    return SQLITE_OK;
}

/* ---- plan ------------------------------------------------------------------------- */

static int simple_op(int op)
{
    return op == SQLITE_INDEX_CONSTRAINT_EQ || op == SQLITE_INDEX_CONSTRAINT_LT ||
           op == SQLITE_INDEX_CONSTRAINT_LE || op == SQLITE_INDEX_CONSTRAINT_GT ||
           op == SQLITE_INDEX_CONSTRAINT_GE;
}

static int xbestindex(sqlite3_vtab *v, sqlite3_index_info *info)
{
    lvtab *t = (lvtab *)v;
    ut_buf b = {0};
    ut_buf_printf(&b, "%llx|", (unsigned long long)info->colUsed);
    int argv = 0, all_omitted = 1, limit_i = -1, offset_i = -1, npart_eq = 0, nother = 0;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
            if (c->usable) limit_i = i;
            continue;
        }
        if (c->op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
            if (c->usable) offset_i = i;
            continue;
        }
        if (!c->usable || c->iColumn < 0 || c->iColumn >= t->ncols || !simple_op(c->op) ||
            argv >= SQ_MAX_CONS - 2) {
            all_omitted = 0;
            continue;
        }
        int flags = 0;
        sqlite3_value *rhs = NULL;
        int is_in = c->op == SQLITE_INDEX_CONSTRAINT_EQ && sqlite3_vtab_in(info, i, -1);
        if (is_in) {
            sqlite3_vtab_in(info, i, 1);
            flags |= F_IN;
        } else if (sqlite3_vtab_rhs_value(info, i, &rhs) == SQLITE_OK && rhs) {
            flags |= F_CONST;
        }
        const char *coll = sqlite3_vtab_collation(info, i);
        int binary = !coll || !sqlite3_stricmp(coll, "BINARY");
        if (t->cols[c->iColumn].part && (flags & F_CONST) && binary) flags |= F_OMIT;
        if (!(flags & F_OMIT)) all_omitted = 0;
        info->aConstraintUsage[i].argvIndex = ++argv;
        info->aConstraintUsage[i].omit = (flags & F_OMIT) != 0;
        ut_buf_printf(&b, "%d:%d:%d,", c->iColumn, c->op, flags);
        if (t->cols[c->iColumn].part) npart_eq += c->op == SQLITE_INDEX_CONSTRAINT_EQ ? 2 : 1;
        else nother++;
    }
    if (all_omitted && info->nOrderBy == 0 && limit_i >= 0) {
        info->aConstraintUsage[limit_i].argvIndex = ++argv;
        ut_buf_printf(&b, "-1:%d:0,", SQLITE_INDEX_CONSTRAINT_LIMIT);
        if (offset_i >= 0) {
            info->aConstraintUsage[offset_i].argvIndex = ++argv;
            ut_buf_printf(&b, "-1:%d:0,", SQLITE_INDEX_CONSTRAINT_OFFSET);
        }
    }
    ut_buf_putc(&b, 0);
    info->idxStr = sqlite3_mprintf("%s", (char *)b.p);
    info->needToFreeIdxStr = 1;
    ut_buf_free(&b);
    double cost = 1e6;
    for (int i = 0; i < npart_eq; i++) cost /= 4;
    for (int i = 0; i < nother; i++) cost /= 2;
    info->estimatedCost = cost;
    info->estimatedRows = (sqlite3_int64)(cost > 1 ? cost : 1);
    return SQLITE_OK;
}

/* ---- cursor ----------------------------------------------------------------------- */

static int xopen(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    lcur *c = ut_calloc(1, sizeof *c);
    lvtab *t = (lvtab *)v;
    c->fcol = ut_calloc((size_t)t->ncols, sizeof *c->fcol);
    c->fpt = ut_calloc((size_t)t->ncols, sizeof *c->fpt);
    c->fscale = ut_calloc((size_t)t->ncols, sizeof *c->fscale);
    c->vals = ut_calloc((size_t)t->ncols, sizeof *c->vals);
    c->tst = ut_calloc((size_t)t->ncols, sizeof *c->tst);
    c->st = &t->e->stats;
    *out = &c->base;
    return SQLITE_OK;
}

static void close_file(lcur *c, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        pq_col_free(&c->vals[i]);
        lk_tstext_destroy(c->tst[i]);
        c->tst[i] = NULL;
    }
    pq_reader_destroy(c->r);
    c->r = NULL;
    ut_buf_free(&c->mem);
}

static void reset(lcur *c, int ncols)
{
    close_file(c, ncols);
    for (int i = 0; i < c->ncons; i++) {
        sqlite3_value_free(c->cons[i].v);
        for (int k = 0; k < c->cons[i].nin; k++) sqlite3_value_free(c->cons[i].in[k]);
        free(c->cons[i].in);
    }
    c->ncons = 0;
    if (c->own_files) ct_files_free(c->files, c->nfiles);
    c->files = NULL;
    c->nfiles = 0;
    sq__tail_close(c->tail);
    c->tail = NULL;
    c->in_tail = 0;
}

static int xclose(sqlite3_vtab_cursor *cur)
{
    lcur *c = (lcur *)cur;
    lvtab *t = (lvtab *)cur->pVtab;
    reset(c, t->ncols);
    lk_pin_destroy(c->pin);
    free(c->fcol);
    free(c->fpt);
    free(c->fscale);
    free(c->vals);
    free(c->tst);
    free(c);
    return SQLITE_OK;
}

/* Values of the partition keys of "dt=2024-05-01/hr=03" into pv (by key order). */
static void split_part(const lvtab *t, const char *part, char pv[4][LK_SEGMENT_MAX + 1])
{
    for (int k = 0; k < 4; k++) pv[k][0] = 0;
    const char *p = part;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq)
            for (int k = 0; k < t->npkeys; k++)
                if ((size_t)(eq - p) == strlen(t->pkeys[k]) && !memcmp(p, t->pkeys[k], (size_t)(eq - p))) {
                    /* Hive-escaped in the path (lk_part_escape); a segment fits */
                    if (lk_part_unescape(eq + 1, n - (size_t)(eq - p) - 1, pv[k],
                                         LK_SEGMENT_MAX + 1) < 0)
                        pv[k][0] = 0;
                }
        if (!end) break;
        p = end + 1;
    }
}

/* Exact `text op v` for an omitted partition constraint (v a literal: TEXT
 * affinity applies, BINARY collation). */
static int part_holds_exact(const char *text, int op, sqlite3_value *v)
{
    int vt = sqlite3_value_type(v);
    if (vt == SQLITE_NULL) return 0;
    int c;
    if (vt == SQLITE_BLOB) c = -1; /* text sorts before blobs */
    else {
        const char *s = (const char *)sqlite3_value_text(v);
        sq_val a = {.t = SQLITE_TEXT, .s = text, .n = strlen(text)};
        sq_val b = {.t = SQLITE_TEXT, .s = s ? s : "", .n = (size_t)sqlite3_value_bytes(v)};
        c = sq__cmp(&a, &b);
    }
    return sq__op_holds(op, c);
}

/* May a row with value range [mn, mx] of column col (type t) satisfy fc? */
static int cons_may(const fcons *fc, ct_type t, const sq_val *mn, const sq_val *mx)
{
    if (fc->flags & F_IN) {
        if (!fc->nin) return 1;
        for (int k = 0; k < fc->nin; k++) {
            sq_val v;
            if (sq__val_for(t, 0, fc->in[k], &v) < 0) return 1;
            if (sq__range_may(mn, mx, SQLITE_INDEX_CONSTRAINT_EQ, &v)) return 1;
        }
        return 0;
    }
    sq_val v;
    if (sq__val_for(t, (fc->flags & F_CONST) != 0, fc->v, &v) < 0) return 1;
    return sq__range_may(mn, mx, fc->op, &v);
}

/* Does partition pv pass every partition constraint? */
static int part_ok(const lvtab *t, const lcur *c, char pv[4][LK_SEGMENT_MAX + 1])
{
    for (int i = 0; i < c->ncons; i++) {
        const fcons *fc = &c->cons[i];
        if (fc->col < 0) continue;
        int k = t->cols[fc->col].part;
        if (!k) continue;
        const char *val = pv[k - 1];
        if (fc->flags & F_OMIT) {
            if (!part_holds_exact(val, fc->op, fc->v)) return 0;
            continue;
        }
        sq_val x = {.t = SQLITE_TEXT, .s = val, .n = strlen(val)};
        if (!cons_may(fc, CT_STRING, &x, &x)) return 0;
    }
    return 1;
}

/* May file f hold rows matching every data constraint (catalog stats)? */
static int file_may(lvtab *t, const lcur *c, const ct_file *f)
{
    for (int i = 0; i < c->ncons; i++) {
        const fcons *fc = &c->cons[i];
        if (fc->col < 0 || t->cols[fc->col].part) continue;
        const vcol *vc = &t->cols[fc->col];
        if (t->is_lake && vc->added_version > 0 && f->schema_version > 0 &&
            f->schema_version < vc->added_version)
            return 0; /* the file predates the column: all NULL, no comparison holds */
        for (int s = 0; s < f->nstats; s++) {
            const ct_colstat *st = &f->stats[s];
            if (strcmp(st->name, vc->name)) continue;
            if (st->nulls == f->rows && f->rows > 0) return 0;
            if (t->is_lake) load_since(t);
            if (t->is_lake && vc->stats_since && f->schema_version < vc->stats_since)
                break; /* written before the column widened: bounds in the old type */
            sq_val mn, mx;
            if (!st->has_minmax || sq__stat_val(vc->type, st->min, &mn) ||
                sq__stat_val(vc->type, st->max, &mx) || sq__cmp(&mn, &mx) > 0)
                break;
            if (!cons_may(fc, vc->type, &mn, &mx)) return 0;
            break;
        }
    }
    return 1;
}

/* May row group rg of the open file hold matching rows? */
static int rg_may(const lvtab *t, lcur *c, int rg)
{
    for (int i = 0; i < c->ncons; i++) {
        const fcons *fc = &c->cons[i];
        if (fc->col < 0 || t->cols[fc->col].part) continue;
        int fcn = c->fcol[fc->col];
        if (fcn < 0) return 0; /* column missing in the file: all NULL */
        pq_chunk_info ci;
        if (pq_reader_chunk(c->r, rg, fcn, &ci)) continue;
        if (ci.stats.has_null_count && ci.stats.null_count == pq_reader_row_group_rows(c->r, rg) &&
            ci.stats.null_count > 0)
            return 0;
        sq_val mn, mx;
        if (!ci.stats.has_min_max || sq__pq_val(t->cols[fc->col].type, c->fpt[fc->col], &ci.stats.min, &mn) ||
            sq__pq_val(t->cols[fc->col].type, c->fpt[fc->col], &ci.stats.max, &mx))
            continue;
        if (!cons_may(fc, t->cols[fc->col].type, &mn, &mx)) return 0;
    }
    return 1;
}

/* A file the catalog removed after this scan listed it is moved to the
 * lake's trash (lk_trash_key): when it is gone from its key, read it there. */
static int get_trashed(st_store *st, const char *key, ut_buf *out)
{
    char tkey[4200], e2[512];
    if (st_head(st, key, NULL, NULL, e2, sizeof e2) != 0 || lk_trash_key(key, tkey, sizeof tkey))
        return -1;
    return st_get(st, tkey, 0, 0, out, e2, sizeof e2); /* a failed get leaves out as it was */
}

static pq_reader *open_trashed(st_store *st, const char *location, const char *rel)
{
    char root[2048], key[4200], tkey[4300], path[6400], e2[512];
    if (!st || st_is_s3(st)) return NULL;
    st_uri(st, "", root, sizeof root);
    size_t rl = strlen(root);
    while (rl && root[rl - 1] == '/') rl--;
    if (strncmp(location, root, rl) || location[rl] != '/') return NULL; /* not in the lake */
    snprintf(key, sizeof key, "%s/%s", location + rl + 1, rel);
    if (st_head(st, key, NULL, NULL, e2, sizeof e2) != 0 || lk_trash_key(key, tkey, sizeof tkey))
        return NULL;
    return pq_reader_open(st_uri(st, tkey, path, sizeof path), e2, sizeof e2);
}

/* Open file c->files[c->fi]: map columns.  0 or -1 (message in vtab). */
static int open_file(lvtab *t, lcur *c)
{
    sq_engine *e = t->e;
    const ct_file *f = &c->files[c->fi];
    char err[1024], path[4096];
    if (!t->is_lake) {
        c->r = pq_reader_open(f->path, err, sizeof err);
    } else if (!strncmp(t->location, "s3://", 5)) {
        if (!e->o.store) {
            t->base.zErrMsg = sqlite3_mprintf("table %s: location %s needs the S3 store (config)",
                                              t->table, t->location);
            return -1;
        }
        char root[2048];
        st_uri(e->o.store, "", root, sizeof root);
        size_t rl = strlen(root);
        while (rl && root[rl - 1] == '/') rl--;
        if (strncmp(t->location, root, rl) || (t->location[rl] != '/' && t->location[rl])) {
            t->base.zErrMsg = sqlite3_mprintf("table %s: location %s is not in the store %s",
                                              t->table, t->location, root);
            return -1;
        }
        const char *rel = t->location + rl;
        while (*rel == '/') rel++;
        snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", f->path);
        if (f->bytes > (int64_t)SQ_MAX_FILE_BYTES) {
            t->base.zErrMsg = sqlite3_mprintf("table %s: file %s is over the %llu-byte cap",
                                              t->table, f->path, (unsigned long long)SQ_MAX_FILE_BYTES);
            return -1;
        }
        if (st_get(e->o.store, path, 0, 0, &c->mem, err, sizeof err) < 0 &&
            get_trashed(e->o.store, path, &c->mem) < 0) {
            t->base.zErrMsg = sqlite3_mprintf("table %s: %s", t->table, err);
            return -1;
        }
        c->r = pq_reader_open_mem(c->mem.p, c->mem.len, path, err, sizeof err);
    } else {
        snprintf(path, sizeof path, "%s/%s", t->location, f->path);
        c->r = pq_reader_open(path, err, sizeof err);
        if (!c->r) c->r = open_trashed(e->o.store, t->location, f->path);
    }
    if (!c->r) {
        t->base.zErrMsg = sqlite3_mprintf("table %s: %s", t->is_lake ? t->table : "read_parquet", err);
        return -1;
    }
    for (int i = 0; i < t->ncols; i++) {
        c->fcol[i] = t->cols[i].part ? -1 : pq_reader_find_column(c->r, t->cols[i].name);
        if (c->fcol[i] >= 0) {
            pq_column_info ci;
            pq_reader_column(c->r, c->fcol[i], &ci);
            if (!sq__ct_of_pq(ci.type)) c->fcol[i] = -1;
            c->fpt[i] = ci.type;
            c->fscale[i] = ci.scale;
            if (c->fcol[i] >= 0 && ci.type == PQ_TIMESTAMP && t->cols[i].type == CT_STRING &&
                lk_tstext_of(c->r, t->cols[i].name, &c->tst[i], err, sizeof err) < 0)
                sq__warn_once("table %s: file %s: %s (the column reads in its UTC form)",
                              t->is_lake ? t->table : "read_parquet", f->path, err);
        }
    }
    c->nrg = pq_reader_num_row_groups(c->r);
    c->rg = -1;
    c->st->files_read++;
    c->st->row_groups_total += c->nrg;
    if (c->opened) {
        atomic_store(&c->opened[c->fi], 1);
    } else if (strcmp(c->lastpart, f->partition) || c->st->files_read == 1) {
        c->st->partitions_read++;
        snprintf(c->lastpart, sizeof c->lastpart, "%s", f->partition);
    }
    return 0;
}

/* Load row group c->rg: read the used columns.  0 or -1. */
static int load_rg(lvtab *t, lcur *c)
{
    char err[1024];
    for (int i = 0; i < t->ncols; i++) {
        pq_col_free(&c->vals[i]);
        if (c->fcol[i] < 0 || !col_used(c->used, i)) continue;
        /* a decimal in a column widened to string reads as its exact text, and
         * every decimal for an engine that asks (sq_opts.exact_decimals) */
        int exact = c->fpt[i] == PQ_DECIMAL && (t->cols[i].type == CT_STRING || t->e->o.exact_decimals);
        if ((exact ? pq_reader_read_decimal : pq_reader_read)(c->r, c->rg, c->fcol[i],
                                                              &c->vals[i], err, sizeof err)) {
            t->base.zErrMsg = sqlite3_mprintf("table %s: %s", t->is_lake ? t->table : "read_parquet", err);
            return -1;
        }
        pq_chunk_info ci;
        if (!pq_reader_chunk(c->r, c->rg, c->fcol[i], &ci)) c->st->bytes_read += ci.compressed_bytes;
    }
    c->nrows = pq_reader_row_group_rows(c->r, c->rg);
    c->rgbase = 0;
    for (int g = 0; g < c->rg; g++) c->rgbase += pq_reader_row_group_rows(c->r, g);
    c->row = 0;
    c->st->row_groups_read++;
    return 0;
}

/* Load the next row group that may match (files in order, pruned by
 * partition, catalog min/max and row-group statistics): 1, 0 when the files
 * are done, -1 (message in vtab). */
static int next_rg(lvtab *t, lcur *c)
{
    for (;;) {
        if (c->r) {
            while (++c->rg < c->nrg)
                if (rg_may(t, c, c->rg)) break;
            if (c->rg < c->nrg) return load_rg(t, c) ? -1 : 1;
            close_file(c, t->ncols);
            c->fi = c->claim ? atomic_fetch_add(c->claim, 1) : c->fi + 1;
        }
        while (c->fi < c->nfiles) {
            const ct_file *f = &c->files[c->fi];
            split_part(t, f->partition, c->pvals);
            if (part_ok(t, c, c->pvals) && file_may(t, c, f)) break;
            c->fi = c->claim ? atomic_fetch_add(c->claim, 1) : c->fi + 1;
        }
        if (c->fi >= c->nfiles) return 0;
        if (open_file(t, c)) return -1;
    }
}

/* Move to the next row (from files, then the tail).  0 or -1. */
static int advance(lvtab *t, lcur *c)
{
    sq_engine *e = t->e;
    if (c->limit >= 0 && c->emitted >= c->limit) {
        c->eof = 1;
        return 0;
    }
    while (!c->in_tail && !(c->r && c->row < c->nrows)) {
        int rc = next_rg(t, c);
        if (rc < 0) return -1;
        if (rc == 0) c->in_tail = 1;
    }
    if (!c->in_tail) return 0;
    if (!c->tail) {
        c->eof = 1;
        return 0;
    }
    for (;;) {
        char err[512];
        int rc = sq__tail_next(c->tail, err, sizeof err);
        if (rc < 0) {
            t->base.zErrMsg = sqlite3_mprintf("table %s: journal tail: %s", t->table, err);
            return -1;
        }
        if (rc == 0) {
            c->eof = 1;
            return 0;
        }
        split_part(t, sq__tail_part(c->tail), c->pvals);
        if (part_ok(t, c, c->pvals)) {
            e->stats.tail_records++;
            return 0;
        }
    }
}

/* Files and the tail start, read consistently: the position and the file
 * list are read until the position did not move in between (a commit
 * changes both in one transaction, so an unchanged position means the file
 * list matches it).  0 or -1. */
static int lake_snapshot(lvtab *t, lcur *c, const char *prefix, uint64_t *pos)
{
    sq_engine *e = t->e;
    char err[512];
    for (int attempt = 0; attempt < 50; attempt++) {
        uint64_t p1 = 0, p2 = 0;
        if (t->has_tail && ct_position(e->cat, t->stream, t->table_id, &p1, err, sizeof err))
            goto fail;
        int n = ct_files(e->cat, t->table_id, prefix, &c->files, err, sizeof err);
        if (n < 0) goto fail;
        c->nfiles = n;
        c->own_files = 1;
        if (t->has_tail && ct_position(e->cat, t->stream, t->table_id, &p2, err, sizeof err))
            goto fail;
        if (p1 == p2) {
            *pos = p2;
            return 0;
        }
        ct_files_free(c->files, c->nfiles);
        c->files = NULL;
        c->nfiles = 0;
    }
    snprintf(err, sizeof err, "the sink kept committing; no consistent snapshot after 50 tries");
fail:
    t->base.zErrMsg = sqlite3_mprintf("table %s: %s", t->table, err);
    return -1;
}

/* Before the scan first lists its files: pin the trash (lk_pin_create), so
 * files removed while it runs stay readable at their trash key however long
 * it takes.  A later list of the same cursor (a join's inner loop) lists
 * files live then, removed later still: the first pin covers them. */
static void pin_trash(sq_engine *e, lcur *c)
{
    char err[512];
    if (c->pin || !e->o.store) return;
    c->pin = lk_pin_create(e->o.store, err, sizeof err);
    if (!c->pin && err[0])
        sq__warn_once("scans run without a trash pin (a file compaction replaces may be deleted "
                      "before a scan longer than trash_grace reads it): %s", err);
}

/* Start a scan whose constraints are set: the file list (lake: a
 * consistent snapshot with the journal tail's start) and the tail.  0 or -1. */
static int scan_begin(lvtab *t, lcur *c)
{
    sq_engine *e = t->e;
    e->stats.scans++;
    uint64_t pos = 0;
    if (t->is_lake) {
        /* an equality on the first partition key narrows the catalog read */
        char prefix[LK_SEGMENT_MAX + 2] = "", *pre = NULL;
        for (int i = 0; i < c->ncons; i++) {
            const fcons *fc = &c->cons[i];
            if (fc->col >= 0 && t->cols[fc->col].part == 1 && fc->op == SQLITE_INDEX_CONSTRAINT_EQ &&
                (fc->flags & F_OMIT) && sqlite3_value_type(fc->v) == SQLITE_TEXT) {
                char e2[8];
                /* the whole first segment (escaped as in the paths), not a prefix of it */
                if (lk_part_segment(t->pkeys[0], (const char *)sqlite3_value_text(fc->v),
                                    (size_t)sqlite3_value_bytes(fc->v), prefix, sizeof prefix - 1,
                                    e2, sizeof e2) == 0) {
                    pre = prefix;
                    if (t->npkeys > 1) strcat(prefix, "/");
                }
            }
        }
        pin_trash(e, c);
        if (lake_snapshot(t, c, pre, &pos)) return -1;
        struct ct_table_stats ts;
        char err[256];
        if (ct_table_stats(e->cat, t->table_id, &ts, err, sizeof err) == 0) {
            e->stats.files_total += ts.files;
            e->stats.bytes_total += ts.bytes;
            e->stats.partitions_total += ts.partitions;
        }
        jr_stream *js = t->has_tail && !e->o.no_tail ? sq__stream(e, t->stream) : NULL;
        if (js) {
            jr_info ji;
            jr_stream_info(js, &ji);
            if (ji.next_offset > pos) {
                sq_tail_col *tc = ut_calloc((size_t)t->ncols, sizeof *tc);
                for (int i = 0; i < t->ncols; i++) {
                    tc[i].name = t->cols[i].name;
                    tc[i].type = t->cols[i].type;
                    tc[i].part = t->cols[i].part;
                    tc[i].ingest = !strcmp(t->cols[i].name, "_ingest_ts");
                }
                c->tail = sq__tail_open(e, js, t->stream, pos, ji.next_offset, tc, t->ncols,
                                        t->partspec);
                free(tc);
            }
        }
    } else {
        c->files = t->pfiles;
        c->nfiles = t->npfiles;
        c->own_files = 0;
        for (int i = 0; i < c->nfiles; i++) e->stats.bytes_total += c->files[i].bytes;
        e->stats.files_total += c->nfiles;
    }
    return 0;
}

static int xfilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                   sqlite3_value **argv)
{
    (void)idxNum;
    lcur *c = (lcur *)cur;
    lvtab *t = (lvtab *)cur->pVtab;
    sq_engine *e = t->e;
    reset(c, t->ncols);
    c->eof = 0;
    c->emitted = 0;
    c->rowid = 0;
    c->limit = -1;
    c->lastpart[0] = 0;
    const char *p = idxStr ? idxStr : "0|";
    c->used = strtoull(p, NULL, 16);
    p = strchr(p, '|');
    p = p ? p + 1 : "";
    int64_t lim = -1, off = 0;
    for (int a = 0; a < argc && *p; a++) {
        int col, op, flags, used;
        if (sscanf(p, "%d:%d:%d,%n", &col, &op, &flags, &used) != 3) break;
        p += used;
        if (col < 0) {
            if (op == SQLITE_INDEX_CONSTRAINT_LIMIT) lim = sqlite3_value_int64(argv[a]);
            else off = sqlite3_value_int64(argv[a]);
            continue;
        }
        fcons *fc = &c->cons[c->ncons++];
        memset(fc, 0, sizeof *fc);
        fc->col = col;
        fc->op = op;
        fc->flags = flags;
        if (flags & F_IN) {
            sqlite3_value *x;
            int rc = sqlite3_vtab_in_first(argv[a], &x);
            if (rc == SQLITE_ERROR) { /* not a list after all: a single value */
                fc->flags &= ~F_IN;
                fc->v = sqlite3_value_dup(argv[a]);
                continue;
            }
            fc->in = ut_calloc(SQ_MAX_IN, sizeof *fc->in);
            for (; rc == SQLITE_OK && x; rc = sqlite3_vtab_in_next(argv[a], &x)) {
                if (fc->nin == SQ_MAX_IN) {
                    fc->nin = 0; /* too many to prune with: ignore the list */
                    break;
                }
                fc->in[fc->nin++] = sqlite3_value_dup(x);
            }
            if (fc->nin == 0) {
                free(fc->in);
                fc->in = NULL;
                /* an empty list matches nothing; a long one prunes nothing */
                if (rc == SQLITE_DONE && !x) {
                    c->eof = 1;
                }
            }
        } else {
            fc->v = sqlite3_value_dup(argv[a]);
        }
    }
    if (lim >= 0) {
        c->limit = lim + (off > 0 ? off : 0);
        e->stats.limit_stops++;
    }
    if (scan_begin(t, c)) return SQLITE_ERROR;
    c->fi = 0;
    if (c->eof) return SQLITE_OK;
    return advance(t, c) ? SQLITE_ERROR : SQLITE_OK;
}

static int xnext(sqlite3_vtab_cursor *cur)
{
    lcur *c = (lcur *)cur;
    lvtab *t = (lvtab *)cur->pVtab;
    c->emitted++;
    c->rowid++;
    if (!c->in_tail) {
        c->row++;
        t->e->stats.rows_read++;
    }
    return advance(t, c) ? SQLITE_ERROR : SQLITE_OK;
}

static int xeof(sqlite3_vtab_cursor *cur) { return ((lcur *)cur)->eof; }

static int xcolumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
    lcur *c = (lcur *)cur;
    lvtab *t = (lvtab *)cur->pVtab;
    if (i < 0 || i >= t->ncols) return SQLITE_OK;
    const vcol *vc = &t->cols[i];
    if (vc->part) {
        const char *v = c->pvals[vc->part - 1];
        if (*v) sqlite3_result_text(ctx, v, -1, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    if (c->in_tail) {
        sq__tail_result(c->tail, ctx, i);
        return SQLITE_OK;
    }
    if (c->fcol[i] < 0 || !c->vals[i].n) return SQLITE_OK; /* NULL */
    const pq_col *pc = &c->vals[i];
    if (c->tst[i] && pc->kind == PQ_K_I64 && !(pc->nulls && pc->nulls[c->row])) {
        char b[UT_TS_TEXT_MAX]; /* widened from a timestamp: the record's own text */
        int n = lk_tstext_render(c->tst[i], c->rgbase + c->row, ((int64_t *)pc->values)[c->row], b);
        sqlite3_result_text(ctx, b, n, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    if (!pc->kind) sq__result_decimal(ctx, pc, c->row, c->fscale[i]); /* read exactly */
    else sq__result_col(ctx, vc->type, c->fpt[i], pc, c->row);
    return SQLITE_OK;
}

static int xrowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *r)
{
    *r = ((lcur *)cur)->rowid;
    return SQLITE_OK;
}

static sqlite3_module lake_module = {
    .iVersion = 2,
    .xCreate = xconnect,
    .xConnect = xconnect,
    .xBestIndex = xbestindex,
    .xDisconnect = xdisconnect,
    .xDestroy = xdisconnect,
    .xOpen = xopen,
    .xClose = xclose,
    .xFilter = xfilter,
    .xNext = xnext,
    .xEof = xeof,
    .xColumn = xcolumn,
    .xRowid = xrowid,
};

int sq__lake_register(sq_engine *e)
{
    if (sqlite3_create_module_v2(e->db, "sluice_lake", &lake_module, e, NULL) != SQLITE_OK)
        return -1;
    return sqlite3_create_module_v2(e->db, "sluice_parquet", &lake_module, e, NULL) == SQLITE_OK
               ? 0
               : -1;
}

/* ---- row groups for the aggregate fast path (agg_exec.c) ----------------------------- */

struct sq__lscan {
    lvtab *t;     /* a fork: a copy of the parent's (its columns borrowed) */
    lcur *c;
    int fork;
    sq_stats st;  /* a fork's reads (sq__lscan_join adds them to the engine's) */
    _Atomic int claim;
    _Atomic unsigned char *opened; /* the forks' opened files (lcur.opened) */
    int nforks;                    /* forks not joined yet */
};

sq__lscan *sq__lscan_open(sq_engine *e, const char *table, char *err, size_t errlen)
{
    lvtab *t = ut_calloc(1, sizeof *t);
    t->e = e;
    char *msg = NULL;
    if (connect_lake(t, table, &msg) < 0) {
        ut_err(err, errlen, "%s", msg ? msg : "not a lake table");
        sqlite3_free(msg);
        free_cols(t->cols, t->ncols);
        free(t);
        return NULL;
    }
    sq__lscan *s = ut_calloc(1, sizeof *s);
    s->t = t;
    sqlite3_vtab_cursor *cur = NULL;
    xopen(&t->base, &cur);
    s->c = (lcur *)cur;
    s->c->base.pVtab = &t->base;
    s->c->limit = -1;
    return s;
}

void sq__lscan_close(sq__lscan *s)
{
    if (!s) return;
    xclose(&s->c->base);
    sqlite3_free(s->t->base.zErrMsg);
    if (!s->fork) free_cols(s->t->cols, s->t->ncols);
    free((void *)s->opened);
    free(s->t);
    free(s);
}

int sq__lscan_can_fork(const sq__lscan *s)
{
    return strncmp(s->t->location, "s3://", 5) != 0; /* the store's client: one thread */
}

sq__lscan *sq__lscan_fork(sq__lscan *s)
{
    lvtab *pt = s->t;
    lcur *pc = s->c;
    if (pt->is_lake) load_since(pt); /* before any fork reads it */
    sq__lscan *f = ut_calloc(1, sizeof *f);
    f->fork = 1;
    f->t = ut_calloc(1, sizeof *f->t);
    *f->t = *pt;
    f->t->base.zErrMsg = NULL;
    sqlite3_vtab_cursor *cur = NULL;
    xopen(&f->t->base, &cur);
    lcur *c = (lcur *)cur;
    c->base.pVtab = &f->t->base;
    c->limit = -1;
    c->used = pc->used;
    c->files = pc->files;
    c->nfiles = pc->nfiles;
    c->own_files = 0;
    c->st = &f->st;
    c->claim = &s->claim;
    if (!s->opened) s->opened = ut_calloc((size_t)pc->nfiles + 1, 1);
    c->opened = s->opened;
    s->nforks++;
    c->fi = atomic_fetch_add(&s->claim, 1);
    for (int i = 0; i < pc->ncons; i++) {
        const fcons *a = &pc->cons[i];
        fcons *b = &c->cons[c->ncons++];
        *b = *a;
        b->v = a->v ? sqlite3_value_dup(a->v) : NULL;
        b->in = a->in ? ut_calloc((size_t)(a->nin ? a->nin : 1), sizeof *b->in) : NULL;
        for (int k = 0; k < a->nin; k++) b->in[k] = sqlite3_value_dup(a->in[k]);
    }
    f->c = c;
    return f;
}

void sq__lscan_join(sq__lscan *s, sq__lscan *fork)
{
    sq_stats *a = &s->t->e->stats, *b = &fork->st;
    a->files_read += b->files_read;
    assert(s->nforks > 0 && b->partitions_read == 0);
    if (--s->nforks == 0 && s->opened) { /* the partitions of the files any fork opened */
        const char *last = NULL;
        for (int i = 0; i < s->c->nfiles; i++) {
            if (!atomic_load(&s->opened[i])) continue;
            if (!last || strcmp(last, s->c->files[i].partition)) a->partitions_read++;
            last = s->c->files[i].partition;
        }
        free((void *)s->opened);
        s->opened = NULL;
    }
    a->row_groups_total += b->row_groups_total;
    a->row_groups_read += b->row_groups_read;
    a->bytes_read += b->bytes_read;
    a->rows_read += b->rows_read;
    sq__lscan_close(fork);
}

int sq__lscan_ncols(const sq__lscan *s) { return s->t->ncols; }

const char *sq__lscan_col(const sq__lscan *s, int i, ct_type *type, int *part)
{
    *type = s->t->cols[i].type;
    *part = s->t->cols[i].part;
    return s->t->cols[i].name;
}

int sq__lscan_cons(sq__lscan *s, int col, int op, sqlite3_value *v, sqlite3_value **in, int nin)
{
    lcur *c = s->c;
    if (c->ncons >= SQ_MAX_CONS || nin > SQ_MAX_IN) return -1;
    fcons *fc = &c->cons[c->ncons++];
    memset(fc, 0, sizeof *fc);
    fc->col = col;
    fc->op = op;
    fc->flags = F_CONST | (s->t->cols[col].part ? F_OMIT : 0);
    if (in) {
        fc->flags = F_IN; /* IN: pruning only, never exact */
        fc->in = ut_calloc((size_t)(nin ? nin : 1), sizeof *fc->in);
        for (int k = 0; k < nin; k++) fc->in[k] = sqlite3_value_dup(in[k]);
        fc->nin = nin;
    } else {
        fc->v = sqlite3_value_dup(v);
    }
    return 0;
}

int sq__lscan_start(sq__lscan *s, uint64_t used, int *has_tail, char *err, size_t errlen)
{
    s->c->used = used;
    s->c->fi = 0;
    atomic_store(&s->claim, 0);
    if (scan_begin(s->t, s->c)) {
        ut_err(err, errlen, "%s", s->t->base.zErrMsg ? s->t->base.zErrMsg : "scan failed");
        return -1;
    }
    *has_tail = s->c->tail != NULL;
    return 0;
}

int sq__lscan_next_rg(sq__lscan *s, int64_t *rows, char *err, size_t errlen)
{
    int rc = next_rg(s->t, s->c);
    if (rc < 0) ut_err(err, errlen, "%s", s->t->base.zErrMsg ? s->t->base.zErrMsg : "read failed");
    if (rc > 0) {
        *rows = s->c->nrows;
        s->c->st->rows_read += s->c->nrows;
    }
    return rc;
}

int sq__lscan_val(const sq__lscan *s, int i, int64_t row, sq_val *out)
{
    const lcur *c = s->c;
    const vcol *vc = &s->t->cols[i];
    out->t = SQLITE_NULL;
    if (vc->part) {
        const char *v = c->pvals[vc->part - 1];
        if (*v) *out = (sq_val){.t = SQLITE_TEXT, .s = v, .n = strlen(v)};
        return 0;
    }
    if (c->fcol[i] < 0 || !c->vals[i].n) return 0;
    if (c->tst[i] || !c->vals[i].kind) return -1; /* a record's own text, an exact decimal */
    sq__val_col(vc->type, c->fpt[i], &c->vals[i], row, out);
    return 0;
}

int sq__lscan_ts(const sq__lscan *s, int i, int64_t row, int64_t *us)
{
    const lcur *c = s->c;
    const vcol *vc = &s->t->cols[i];
    if (vc->part || vc->type != CT_TIMESTAMP || c->fcol[i] < 0 || c->fpt[i] != PQ_TIMESTAMP)
        return 0;
    const pq_col *pc = &c->vals[i];
    if (pc->kind != PQ_K_I64 || !pc->n || (pc->nulls && pc->nulls[row])) return 0;
    *us = ((const int64_t *)pc->values)[row];
    return 1;
}
