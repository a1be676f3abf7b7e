/* lake_driver: lands a lake table with lk_land from a text description, for
 * tests/integration/lake_types.mjs (column types no sink or CREATE TABLE AS
 * writes: decimal(p,s), time, timestamp_ntz, bytes, as snapshot jobs do).
 *
 *   build/san/lake_driver DATA_DIR TABLE [row_group_rows] < ROWS.tsv
 *
 * The table is created in DATA_DIR/catalog.db at DATA_DIR/lake/TABLE (the
 * local lake `sluice sql -d DATA_DIR` reads), its files landed in one
 * commit.  Line 1: the columns, tab-separated: name:type with type a lake
 * type text ("int64", "decimal(12,2)", "time", "timestamp_ntz", "bytes",
 * "string", "int32", "date", "timestamp", "double", "bool").  Every further
 * line is one row of tab-separated values, or "--" to start the next file:
 * \N = null; decimal: its text; time / timestamp* / int64: integer (µs);
 * date / int32: integer (days); bytes: hex digits.  Exit 0, or 1 with a
 * message on stderr. */
#include "catalog/catalog.h"
#include "lake/lake.h"
#include "store/store.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64
#define MAX_FILES 16
#define MAX_LINE (1 << 16)

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int put(pq_writer *w, int col, ct_type t, const char *v, uint8_t *tmp)
{
    if (!strcmp(v, "\\N")) return pq_writer_put_null(w, col);
    switch (t) {
    case CT_DECIMAL: return pq_writer_put_decimal(w, col, v, strlen(v));
    case CT_BYTES: {
        size_t n = strlen(v) / 2;
        for (size_t i = 0; i < n; i++) {
            int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
            if (hi < 0 || lo < 0) return -1;
            tmp[i] = (uint8_t)(hi << 4 | lo);
        }
        return pq_writer_put_bytes(w, col, tmp, n);
    }
    case CT_STRING: return pq_writer_put_bytes(w, col, v, strlen(v));
    case CT_INT32:
    case CT_DATE: return pq_writer_put_i32(w, col, (int32_t)strtol(v, NULL, 10));
    case CT_DOUBLE: return pq_writer_put_double(w, col, strtod(v, NULL));
    case CT_FLOAT: return pq_writer_put_float(w, col, strtof(v, NULL));
    case CT_BOOL: return pq_writer_put_bool(w, col, atoi(v) != 0);
    default: return pq_writer_put_i64(w, col, strtoll(v, NULL, 10));
    }
}

typedef struct land {
    const char *dir, *table;
    ct_column cols[MAX_COLS];
    pq_column_spec specs[MAX_COLS];
    int ncols;
    int64_t rg_rows;
    pq_writer *w[MAX_FILES];
    char tmp[MAX_FILES][4400], name[MAX_FILES][64];
    int nfiles;
} land;

static int header(land *L, char *head)
{
    for (char *save, *s = strtok_r(head, "\t", &save); s; s = strtok_r(NULL, "\t", &save)) {
        char *colon = strrchr(s, ':');
        ct_column *c = &L->cols[L->ncols];
        if (L->ncols == MAX_COLS || !colon) return fprintf(stderr, "bad column '%s'\n", s), -1;
        *colon = 0;
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", s);
        if (ct_column_type_parse(colon + 1, &c->type, &c->precision, &c->scale))
            return fprintf(stderr, "bad type '%s'\n", colon + 1), -1;
        L->specs[L->ncols] = (pq_column_spec){.name = c->name, .optional = 1};
        lk_pq_spec(c, &L->specs[L->ncols]);
        L->ncols++;
    }
    return 0;
}

static pq_writer *next_file(land *L)
{
    if (L->nfiles == MAX_FILES) return fprintf(stderr, "over %d files\n", MAX_FILES), NULL;
    int i = L->nfiles;
    char err[512];
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    if (L->rg_rows > 0) o.row_group_rows = L->rg_rows;
    char tmpdir[4200];
    snprintf(tmpdir, sizeof tmpdir, "%s/lake-tmp", L->dir);
    if (ut_mkdir_p(tmpdir, err, sizeof err)) return fprintf(stderr, "%s\n", err), NULL;
    lk_tmp_path(tmpdir, L->table, L->tmp[i], sizeof L->tmp[i]);
    snprintf(L->name[i], sizeof L->name[i], "part-%04d.parquet", i);
    L->w[i] = pq_writer_create(L->tmp[i], L->specs, L->ncols, &o, err, sizeof err);
    if (!L->w[i]) return fprintf(stderr, "%s\n", err), NULL;
    L->nfiles++;
    return L->w[i];
}

static int rows(land *L)
{
    static char line[MAX_LINE];
    static uint8_t tmp[MAX_LINE];
    pq_writer *w = next_file(L);
    for (long row = 2; w && fgets(line, sizeof line, stdin); row++) {
        line[strcspn(line, "\n")] = 0;
        if (!strcmp(line, "--")) {
            w = next_file(L);
            continue;
        }
        char *p = line;
        for (int c = 0; c < L->ncols; c++) {
            char *tab = strchr(p, '\t');
            if (tab) *tab = 0;
            if (put(w, c, L->cols[c].type, p, tmp))
                return fprintf(stderr, "line %ld column %s: %s\n", row, L->cols[c].name,
                               pq_writer_error(w)), -1;
            p = tab ? tab + 1 : p + strlen(p);
        }
        if (pq_writer_end_row(w))
            return fprintf(stderr, "line %ld: %s\n", row, pq_writer_error(w)), -1;
    }
    return w ? 0 : -1;
}

static int land_all(land *L)
{
    char err[1024], path[4200];
    snprintf(path, sizeof path, "%s/lake", L->dir);
    st_store *st = st_local_create(path, err, sizeof err);
    snprintf(path, sizeof path, "%s/catalog.db", L->dir);
    ct_catalog *c = st ? ct_open(path, err, sizeof err) : NULL;
    int rc = -1;
    if (c) {
        char loc[4300];
        snprintf(loc, sizeof loc, "%s/lake/%s", L->dir, L->table);
        ct_new_table nt = {.name = L->table, .location = loc, .partition = "", .cols = L->cols,
                           .ncols = L->ncols, .change = "created by lake_driver"};
        ct_table_change t = {.create = &nt};
        lk_landing l = {.cat = c, .store = st, .tables = {L->table},
                        .change = {.tables = &t, .ntables = 1}};
        lk_land_file lf[MAX_FILES];
        for (int i = 0; i < L->nfiles; i++)
            lf[i] = (lk_land_file){.w = L->w[i], .tmp = L->tmp[i], .partition = "",
                                   .name = L->name[i], .min_offset = -1, .max_offset = -1,
                                   .schema_version = 1};
        rc = lk_land(&l, lf, L->nfiles, err, sizeof err);
    }
    if (rc) fprintf(stderr, "%s\n", err);
    ct_close(c);
    st_destroy(st);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lake_driver DATA_DIR TABLE [row_group_rows] < rows.tsv\n");
        return 1;
    }
    static char head[MAX_LINE];
    static land L;
    L.dir = argv[1];
    L.table = argv[2];
    L.rg_rows = argc > 3 ? atoll(argv[3]) : 0;
    if (!fgets(head, sizeof head, stdin)) return fprintf(stderr, "no header line\n"), 1;
    head[strcspn(head, "\n")] = 0;
    int rc = header(&L, head) || rows(&L) || land_all(&L) ? 1 : 0;
    for (int i = 0; i < L.nfiles; i++) pq_writer_destroy(L.w[i]);
    return rc;
}
