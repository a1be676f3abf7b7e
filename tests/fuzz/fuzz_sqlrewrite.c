/* libFuzzer target: the SQL table-function rewrite (sq__rewrite) on
 * arbitrary statement text.  The file modules are replaced by a stand-in
 * that opens no file and checks what the rewrite hands it: exactly one
 * argument, a complete single-quoted SQL string.  Must never crash, leak or
 * overread; text without a table function comes back unchanged. */
#include "sql/sq_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fake {
    sqlite3_vtab base;
} fake;

/* A complete '...' literal: quotes inside are doubled. */
static int is_literal(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[0] != '\'' || s[n - 1] != '\'') return 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] != '\'') continue;
        if (s[i + 1] != '\'' || i + 2 >= n) return 0;
        i++;
    }
    return 1;
}

static int fake_create(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **out, char **err)
{
    (void)aux;
    (void)err;
    if (argc != 4 || !is_literal(argv[3])) abort();
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(a)");
    if (rc != SQLITE_OK) return rc;
    fake *f = sqlite3_malloc(sizeof *f);
    if (!f) return SQLITE_NOMEM;
    memset(f, 0, sizeof *f);
    *out = &f->base;
    return SQLITE_OK;
}

static int fake_best(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    info->estimatedCost = 1;
    return SQLITE_OK;
}

static int fake_free(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static sqlite3_module fake_module = {
    .iVersion = 0,
    .xCreate = fake_create,
    .xConnect = fake_create,
    .xBestIndex = fake_best,
    .xDisconnect = fake_free,
    .xDestroy = fake_free,
};

static sq_engine *eng;
static char dir[] = "/tmp/fuzz_sqlrewrite.XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    sq_close(eng);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static sq_engine *engine(void)
{
    if (eng) return eng;
    char err[512];
    if (!mkdtemp(dir)) abort();
    atexit(cleanup);
    sq_opts o = {0};
    o.data_dir = dir;
    o.no_tail = 1;
    eng = sq_open(&o, err, sizeof err);
    if (!eng) {
        fprintf(stderr, "sq_open: %s\n", err);
        abort();
    }
    static const char *mods[] = {"sluice_parquet", "sluice_csv", "sluice_ndjson"};
    for (int i = 0; i < 3; i++)
        if (sqlite3_create_module(sq_db(eng), mods[i], &fake_module, NULL) != SQLITE_OK) abort();
    return eng;
}

static int mentions_function(const char *s)
{
    static const char *fns[] = {"read_parquet", "read_csv", "read_ndjson", "read_json"};
    for (const char *p = s; *p; p++)
        for (int k = 0; k < 4; k++)
            if (!strncasecmp(p, fns[k], strlen(fns[k]))) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    sq_engine *e = engine();
    /* exact-size heap copy with its NUL, so ASan catches any overread */
    char *sql = malloc(size + 1);
    memcpy(sql, data, size);
    sql[size] = 0;
    char err[512];
    err[0] = 0;
    char *out = sq__rewrite(e, sql, err, sizeof err);
    if (e->nfile_tabs > SQ_MAX_FILE_FUNCS) abort();
    if (!out) {
        if (!err[0]) abort();
    } else {
        if (!mentions_function(sql) && strcmp(out, sql)) abort();
        free(out);
    }
    for (int i = 0; i < e->nfile_tabs; i++) {
        char drop[96];
        snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS temp._sq_file_%d", i);
        sqlite3_exec(sq_db(e), drop, NULL, NULL, NULL);
    }
    e->nfile_tabs = 0;
    free(sql);
    return 0;
}
