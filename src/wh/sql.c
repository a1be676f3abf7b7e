/* wh: the SQL statements of a load, per mode (see wh.h and
 * docs/warehouse.md#modes). */
#include "wh/wh.h"

#include <stdio.h>
#include <string.h>

#define STAGE_TEMP "sluice_stage"
#define NEW_SUFFIX "__sluice_new"
#define OLD_SUFFIX "__sluice_old"

static void col_list(ut_buf *b, const wh_plan *p, const char *prefix)
{
    for (int i = 0; i < p->ncols; i++) {
        if (i) ut_buf_puts(b, ", ");
        ut_buf_puts(b, prefix);
        wh_ident(b, p->cols[i].name);
    }
}

static void key_list(ut_buf *b, const wh_plan *p)
{
    for (int i = 0; i < p->nkey; i++) {
        if (i) ut_buf_puts(b, ", ");
        wh_ident(b, p->key[i]);
    }
}

static int is_key(const wh_plan *p, const char *name)
{
    for (int k = 0; k < p->nkey; k++)
        if (!strcmp(p->key[k], name)) return 1;
    return 0;
}

/* The type of column c in a CREATE TABLE. */
static const char *create_type(const wh_plan *p, const wh_col *c, char *t, size_t n)
{
    if (p->dialect == WH_MYSQL && p->mode == WH_UPSERT && is_key(p, c->name)) {
        if (c->lake.type == CT_STRING) return "varchar(255)"; /* an index needs a length */
        if (c->lake.type == CT_BYTES) return "varbinary(255)";
    }
    return wh_type(p->dialect, &c->lake, t, n);
}

/* Redshift: DISTSTYLE x DISTKEY (c) SORTKEY (a, b). */
static void redshift_keys(ut_buf *b, const wh_plan *p)
{
    static const char *const styles[] = {"", "AUTO", "EVEN", "KEY", "ALL"};
    wh_diststyle ds = p->distkey && p->diststyle == WH_DIST_DEFAULT ? WH_DIST_KEY : p->diststyle;
    if (ds != WH_DIST_DEFAULT) ut_buf_printf(b, " DISTSTYLE %s", styles[ds]);
    if (p->distkey) {
        ut_buf_puts(b, " DISTKEY (");
        wh_ident(b, p->distkey);
        ut_buf_putc(b, ')');
    }
    for (int i = 0; i < p->nsortkey; i++) {
        ut_buf_puts(b, i ? ", " : " SORTKEY (");
        wh_ident(b, p->sortkey[i]);
    }
    if (p->nsortkey) ut_buf_putc(b, ')');
}

void wh_sql_create(ut_buf *b, const wh_plan *p)
{
    char t[64];
    ut_buf_puts(b, "CREATE TABLE IF NOT EXISTS ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, " (");
    for (int i = 0; i < p->ncols; i++) {
        if (i) ut_buf_puts(b, ", ");
        wh_ident(b, p->cols[i].name);
        ut_buf_printf(b, " %s", create_type(p, &p->cols[i], t, sizeof t));
    }
    if (p->mode == WH_UPSERT && p->nkey) {
        ut_buf_puts(b, ", PRIMARY KEY (");
        key_list(b, p);
        ut_buf_putc(b, ')');
    }
    ut_buf_putc(b, ')');
    if (p->dialect == WH_REDSHIFT) redshift_keys(b, p);
}

void wh_sql_add_column(ut_buf *b, const wh_plan *p, const wh_col *c)
{
    char t[64];
    ut_buf_puts(b, "ALTER TABLE ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, p->dialect == WH_MYSQL ? " ADD COLUMN " : " ADD COLUMN IF NOT EXISTS ");
    wh_ident(b, c->name);
    ut_buf_printf(b, " %s", wh_type(p->dialect, &c->lake, t, sizeof t));
}

void wh_sql_delete_window(ut_buf *b, const wh_plan *p)
{
    ut_buf_puts(b, "DELETE FROM ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, " WHERE ");
    wh_ident(b, p->window_column);
    ut_buf_puts(b, " >= ");
    wh_literal(b, p->lo);
    ut_buf_puts(b, " AND ");
    wh_ident(b, p->window_column);
    ut_buf_puts(b, " < ");
    wh_literal(b, p->hi);
}

/* The bare name of the target (after the schema's dot). */
static const char *bare(const char *table)
{
    const char *dot = strchr(table, '.');
    return dot ? dot + 1 : table;
}

/* "schema.name<suffix>" (the schema kept) into out[n]. */
static const char *sibling(const char *table, const char *suffix, char *out, size_t n)
{
    snprintf(out, n, "%s%s", table, suffix);
    return out;
}

const char *wh_copy_into(const wh_plan *p, char *out, size_t n)
{
    if (p->mode == WH_UPSERT && p->dialect != WH_MYSQL) snprintf(out, n, "%s", STAGE_TEMP);
    else if (p->mode == WH_REPLACE_TABLE) sibling(p->table, NEW_SUFFIX, out, n);
    else snprintf(out, n, "%s", p->table);
    return out;
}

/* replace_table's staging table, made again as a copy of the target's
 * definition: "DROP ...; CREATE TABLE stage <like> target <after>". */
static void stage_table(ut_buf *b, const wh_plan *p, const char *like, const char *after)
{
    char into[160];
    wh_copy_into(p, into, sizeof into);
    ut_buf_puts(b, "DROP TABLE IF EXISTS ");
    wh_table_ident(b, into);
    ut_buf_puts(b, "; CREATE TABLE ");
    wh_table_ident(b, into);
    ut_buf_puts(b, like);
    wh_table_ident(b, p->table);
    ut_buf_puts(b, after);
}

/* MySQL: upsert INSERTs into the target in a transaction begun after the
 * DDL (which commits by itself); replace_table fills a copy of the target. */
static void my_before_copy(ut_buf *b, const wh_plan *p)
{
    if (p->mode == WH_UPSERT) ut_buf_puts(b, "START TRANSACTION");
    else if (p->mode == WH_REPLACE_TABLE) stage_table(b, p, " LIKE ", "; START TRANSACTION");
}

void wh_sql_before_copy(ut_buf *b, const wh_plan *p)
{
    if (p->dialect == WH_MYSQL) {
        my_before_copy(b, p);
    } else if (p->mode == WH_UPSERT) {
        ut_buf_puts(b, "CREATE TEMP TABLE " STAGE_TEMP " (LIKE ");
        wh_table_ident(b, p->table);
        ut_buf_puts(b, " INCLUDING DEFAULTS) ON COMMIT DROP");
    } else if (p->mode == WH_REPLACE_TABLE) {
        stage_table(b, p, " (LIKE ", " INCLUDING ALL)");
    }
}

void wh_sql_copy(ut_buf *b, const wh_plan *p)
{
    char into[160];
    if (p->dialect == WH_MYSQL) return; /* rows go as INSERTs: wh_my_insert */
    ut_buf_puts(b, "COPY ");
    wh_table_ident(b, wh_copy_into(p, into, sizeof into));
    ut_buf_puts(b, " (");
    col_list(b, p, "");
    ut_buf_puts(b, ") FROM STDIN");
}

/* INSERT INTO t (cols) SELECT DISTINCT ON (key) cols FROM stage
 * ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c, ... */
static void merge(ut_buf *b, const wh_plan *p)
{
    ut_buf_puts(b, "INSERT INTO ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, " (");
    col_list(b, p, "");
    ut_buf_puts(b, ") SELECT DISTINCT ON (");
    key_list(b, p);
    ut_buf_puts(b, ") ");
    col_list(b, p, "");
    ut_buf_puts(b, " FROM " STAGE_TEMP " ON CONFLICT (");
    key_list(b, p);
    ut_buf_puts(b, ") DO ");
    int set = 0;
    for (int i = 0; i < p->ncols; i++) {
        int is_key = 0;
        for (int k = 0; k < p->nkey; k++) is_key |= !strcmp(p->key[k], p->cols[i].name);
        if (is_key) continue;
        ut_buf_puts(b, set++ ? ", " : "UPDATE SET ");
        wh_ident(b, p->cols[i].name);
        ut_buf_puts(b, " = EXCLUDED.");
        wh_ident(b, p->cols[i].name);
    }
    if (!set) ut_buf_puts(b, "NOTHING");
}

/* ALTER TABLE t RENAME TO name__sluice_old; ALTER TABLE new RENAME TO name;
 * DROP TABLE old. */
static void swap(ut_buf *b, const wh_plan *p)
{
    char into[160], old[160], oldbare[160];
    wh_copy_into(p, into, sizeof into);
    sibling(p->table, OLD_SUFFIX, old, sizeof old);
    snprintf(oldbare, sizeof oldbare, "%s%s", bare(p->table), OLD_SUFFIX);
    ut_buf_puts(b, "ALTER TABLE ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, " RENAME TO ");
    wh_ident(b, oldbare);
    ut_buf_puts(b, "; ALTER TABLE ");
    wh_table_ident(b, into);
    ut_buf_puts(b, " RENAME TO ");
    wh_ident(b, bare(p->table));
    ut_buf_puts(b, "; DROP TABLE ");
    wh_table_ident(b, old);
}

/* MySQL: RENAME TABLE t TO old, new TO t (one atomic statement); DROP old. */
static void my_swap(ut_buf *b, const wh_plan *p)
{
    char into[160], old[160];
    wh_copy_into(p, into, sizeof into);
    sibling(p->table, OLD_SUFFIX, old, sizeof old);
    ut_buf_puts(b, "COMMIT; DROP TABLE IF EXISTS ");
    wh_table_ident(b, old);
    ut_buf_puts(b, "; RENAME TABLE ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, " TO ");
    wh_table_ident(b, old);
    ut_buf_puts(b, ", ");
    wh_table_ident(b, into);
    ut_buf_puts(b, " TO ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, "; DROP TABLE ");
    wh_table_ident(b, old);
}

void wh_sql_after_copy(ut_buf *b, const wh_plan *p)
{
    if (p->dialect == WH_MYSQL) {
        if (p->mode == WH_REPLACE_TABLE) my_swap(b, p);
    } else if (p->mode == WH_UPSERT) merge(b, p);
    else if (p->mode == WH_REPLACE_TABLE) swap(b, p);
}
