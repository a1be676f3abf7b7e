/* catalog: CREATE statements that let other engines read a lake table in
 * place (Trino's Hive connector, Athena, Spark SQL, DuckDB).
 *
 * Choices shared by every dialect (docs/catalog.md explains them):
 *   - Partition columns are strings: they are the text of the dt=/hr=
 *     directory names, and a string compares and prunes the same way in
 *     every engine.  They come after the data columns (Trino requires it).
 *     A data column with a partition column's name is left out.
 *   - Local locations ("/abs/dir") become file:// URIs for Trino and Spark;
 *     Athena needs s3://; DuckDB takes paths and URIs as they are.
 *   - Identifiers are always quoted ("x" for Trino/DuckDB, `x` for
 *     Athena/Spark), string literals single-quoted, quotes doubled. */
#include "catalog/ct_int.h"
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { D_TRINO, D_ATHENA, D_SPARK, D_DUCKDB };

static const char *const dialects[] = {"trino", "athena", "spark", "duckdb"};

/* Column type per dialect, indexed by ct_type (a decimal's precision and
 * scale are added by col_type).  TIME: Trino's own type; Athena and Spark
 * (Hive tables) have none, so the column is its Parquet INT64, µs since
 * midnight.  TIMESTAMP_NTZ: Trino's and Athena's timestamp is wall-clock
 * already (Trino at the configured hive.timestamp-precision, as for
 * timestamp columns), Spark's needs TIMESTAMP_NTZ (3.4+). */
static const char *const types[4][CT_TYPE_END] = {
    [D_TRINO] = {"", "boolean", "bigint", "double", "varchar", "timestamp(3)", "date", "integer",
                 "real", "decimal", "time(6)", "timestamp(3)", "varbinary"},
    [D_ATHENA] = {"", "boolean", "bigint", "double", "string", "timestamp", "date", "int", "float",
                  "decimal", "bigint", "timestamp", "binary"},
    [D_SPARK] = {"", "BOOLEAN", "BIGINT", "DOUBLE", "STRING", "TIMESTAMP", "DATE", "INT", "FLOAT",
                 "DECIMAL", "BIGINT", "TIMESTAMP_NTZ", "BINARY"},
};

static void col_type(ut_buf *b, int d, const ct_column *c)
{
    assert(c->type >= CT_BOOL && c->type < CT_TYPE_END && d != D_DUCKDB);
    ut_buf_puts(b, types[d][c->type]);
    if (c->type == CT_DECIMAL) ut_buf_printf(b, "(%d,%d)", c->precision, c->scale);
}

/* Has t a data column of type ty? */
static int has_type(const ct_table *t, ct_type ty)
{
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].type == ty) return 1;
    return 0;
}

/* Notes on the types a dialect cannot spell as the lake does. */
static void type_notes(ut_buf *b, int d, const ct_table *t)
{
    if (has_type(t, CT_TIME) && d == D_TRINO)
        ut_buf_puts(b, "-- time columns are time(6); a Hive metastore that refuses TIME needs "
                       "them left out.\n");
    if (has_type(t, CT_TIME) && d != D_TRINO)
        ut_buf_puts(b, "-- time columns have no type here: bigint, microseconds since "
                       "midnight.\n");
    if (has_type(t, CT_TIMESTAMP_NTZ) && d == D_TRINO)
        ut_buf_puts(b, "-- timestamp_ntz columns are wall-clock times: timestamp(3) too.\n");
}

void ct__quote_ident(ut_buf *b, char q, const char *name)
{
    ut_buf_putc(b, (uint8_t)q);
    for (const char *p = name; *p; p++) {
        if (*p == q) ut_buf_putc(b, (uint8_t)q);
        ut_buf_putc(b, (uint8_t)*p);
    }
    ut_buf_putc(b, (uint8_t)q);
}

static void ident(ut_buf *b, int d, const char *name)
{
    ct__quote_ident(b, d == D_ATHENA || d == D_SPARK ? '`' : '"', name);
}

/* [schema.]table */
static void table_ident(ut_buf *b, int d, const char *schema, const char *name)
{
    if (schema && *schema) {
        ident(b, d, schema);
        ut_buf_putc(b, '.');
    }
    ident(b, d, name);
}

static void literal(ut_buf *b, const char *s)
{
    ut_buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'') ut_buf_putc(b, '\'');
        ut_buf_putc(b, (uint8_t)*p);
    }
    ut_buf_putc(b, '\'');
}

/* "file://" + path with bytes outside [A-Za-z0-9/._~-] percent-encoded. */
static void file_uri(ut_buf *b, const char *path)
{
    ut_buf_puts(b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._~-", *p))
            ut_buf_putc(b, *p);
        else
            ut_buf_printf(b, "%%%02X", *p);
    }
}

/* The table location as an SQL string literal; local paths as file:// URIs. */
static void location_literal(ut_buf *b, const char *loc)
{
    if (loc[0] != '/') {
        literal(b, loc);
        return;
    }
    ut_buf t = {0};
    file_uri(&t, loc);
    ut_buf_putc(&t, 0);
    literal(b, (const char *)t.p);
    ut_buf_free(&t);
}

/* Split "dt,hr" into names[n][64]; returns n. */
static int split_partition(const char *spec, char names[][64], int max)
{
    int n = 0;
    while (*spec && n < max) {
        size_t len = strcspn(spec, ",");
        snprintf(names[n++], 64, "%.*s", (int)len, spec);
        spec += len;
        if (*spec == ',') spec++;
    }
    return n;
}

static int is_partition_col(const char *name, char parts[][64], int np)
{
    for (int i = 0; i < np; i++)
        if (!strcasecmp(name, parts[i])) return 1;
    return 0;
}

/* First day for Athena's dt projection: the earlier of the table's first
 * dt partition and its creation date, as YYYY-MM-DD in out[24]. */
static void first_day(const ct_table *t, const struct ct_table_stats *st, char *out)
{
    int64_t ms = t->created_ms > 0 ? t->created_ms : 0;
    int64_t days = ms / 86400000;
    ut_date_format(out, (int32_t)days);
    if (st && !strncmp(st->min_partition, "dt=", 3)) {
        const char *v = st->min_partition + 3;
        size_t n = strcspn(v, "/");
        int32_t d;
        if (ut_date_parse(v, n, &d) == 0 && d < days) ut_date_format(out, d);
    }
}

/* The column list: data columns, then (when with_parts) partition columns
 * as strings. */
static void column_list(ut_buf *b, int d, const ct_table *t, char parts[][64], int np,
                        int with_parts)
{
    int first = 1;
    ut_buf_puts(b, " (\n");
    for (int i = 0; i < t->ncols; i++) {
        if (is_partition_col(t->cols[i].name, parts, np)) continue;
        ut_buf_puts(b, first ? "  " : ",\n  ");
        first = 0;
        ident(b, d, t->cols[i].name);
        ut_buf_putc(b, ' ');
        col_type(b, d, &t->cols[i]);
    }
    for (int i = 0; with_parts && i < np; i++) {
        ut_buf_puts(b, first ? "  " : ",\n  ");
        first = 0;
        ident(b, d, parts[i]);
        ut_buf_puts(b, d == D_TRINO ? " varchar" : " STRING");
    }
    ut_buf_puts(b, "\n)");
}

static void ddl_trino(ut_buf *b, const ct_table *t, const char *loc, const char *schema,
                      char parts[][64], int np)
{
    ut_buf_printf(b, "-- Trino (Hive connector): lake table %s, Parquet files read in place.\n"
                     "-- Partition columns are strings (the dt=/hr= directory values) and come "
                     "last.\n"
                     "-- timestamp columns hold UTC instants; timestamp(3) matches the default\n"
                     "-- hive.timestamp-precision=MILLISECONDS (with MICROSECONDS use "
                     "timestamp(6)).\n",
                  t->name);
    type_notes(b, D_TRINO, t);
    ut_buf_puts(b, "CREATE TABLE ");
    table_ident(b, D_TRINO, schema, t->name);
    column_list(b, D_TRINO, t, parts, np, 1);
    ut_buf_puts(b, "\nWITH (\n  external_location = ");
    location_literal(b, loc);
    ut_buf_puts(b, ",\n  format = 'PARQUET'");
    if (np) {
        ut_buf_puts(b, ",\n  partitioned_by = ARRAY[");
        for (int i = 0; i < np; i++) {
            if (i) ut_buf_puts(b, ", ");
            literal(b, parts[i]);
        }
        ut_buf_putc(b, ']');
    }
    ut_buf_puts(b, "\n);\n");
    if (np) {
        ut_buf_puts(b, "-- Register partitions now and whenever new ones appear (FULL also "
                       "forgets removed ones):\n"
                       "CALL system.sync_partition_metadata(");
        literal(b, schema && *schema ? schema : "default");
        ut_buf_puts(b, ", ");
        literal(b, t->name);
        ut_buf_puts(b, ", 'FULL');\n");
    }
}

static int ddl_athena(ut_buf *b, const ct_table *t, const struct ct_table_stats *st,
                      const char *loc, const char *schema, char parts[][64], int np, char *err,
                      size_t errlen)
{
    if (strncmp(loc, "s3://", 5))
        return ut_err(err, errlen,
                      "table '%s': Athena reads only s3:// locations, not '%s' (pass --location "
                      "s3://BUCKET/PREFIX/%s)",
                      t->name, loc, t->name);
    /* Projection when the partitions are the lake's own dt[/hr] layout. */
    int project = (np == 1 && !strcmp(parts[0], "dt")) ||
                  (np == 2 && !strcmp(parts[0], "dt") && !strcmp(parts[1], "hr"));
    ut_buf_printf(b, "-- Athena: lake table %s, Parquet files read in place.\n"
                     "-- Partition columns are strings (the dt=/hr= directory values).\n",
                  t->name);
    if (project)
        ut_buf_puts(b, "-- Partition projection computes the partitions: no MSCK REPAIR needed.\n"
                       "-- The dt range starts at the table's first day; widen it for older "
                       "backfills.\n");
    type_notes(b, D_ATHENA, t);
    ut_buf_puts(b, "CREATE EXTERNAL TABLE ");
    table_ident(b, D_ATHENA, schema, t->name);
    column_list(b, D_ATHENA, t, parts, np, 0);
    if (np) {
        ut_buf_puts(b, "\nPARTITIONED BY (");
        for (int i = 0; i < np; i++) {
            if (i) ut_buf_puts(b, ", ");
            ident(b, D_ATHENA, parts[i]);
            ut_buf_puts(b, " string");
        }
        ut_buf_putc(b, ')');
    }
    ut_buf_puts(b, "\nSTORED AS PARQUET\nLOCATION ");
    ut_buf t2 = {0};
    ut_buf_printf(&t2, "%s/", loc);
    ut_buf_putc(&t2, 0);
    literal(b, (const char *)t2.p);
    if (project) {
        char day[24];
        first_day(t, st, day);
        ut_buf_printf(b,
                      "\nTBLPROPERTIES (\n"
                      "  'projection.enabled' = 'true',\n"
                      "  'projection.dt.type' = 'date',\n"
                      "  'projection.dt.format' = 'yyyy-MM-dd',\n"
                      "  'projection.dt.range' = '%s,NOW',\n"
                      "  'projection.dt.interval' = '1',\n"
                      "  'projection.dt.interval.unit' = 'DAYS',\n",
                      day);
        if (np == 2)
            ut_buf_puts(b, "  'projection.hr.type' = 'integer',\n"
                           "  'projection.hr.range' = '0,23',\n"
                           "  'projection.hr.digits' = '2',\n");
        ut_buf_reset(&t2);
        ut_buf_printf(&t2, "%s/dt=${dt}/%s", loc, np == 2 ? "hr=${hr}/" : "");
        ut_buf_putc(&t2, 0);
        ut_buf_puts(b, "  'storage.location.template' = ");
        literal(b, (const char *)t2.p);
        ut_buf_puts(b, "\n)");
    }
    ut_buf_free(&t2);
    ut_buf_puts(b, ";\n");
    if (np && !project) {
        ut_buf_puts(b, "-- Register partitions now and whenever new ones appear:\nMSCK REPAIR TABLE ");
        table_ident(b, D_ATHENA, schema, t->name);
        ut_buf_puts(b, ";\n");
    }
    return 0;
}

static void ddl_spark(ut_buf *b, const ct_table *t, const char *loc, const char *schema,
                      char parts[][64], int np)
{
    ut_buf_printf(b, "-- Spark SQL: lake table %s, Parquet files read in place.\n"
                     "-- Partition columns are strings (the dt=/hr= directory values).\n",
                  t->name);
    type_notes(b, D_SPARK, t);
    ut_buf_puts(b, "CREATE TABLE ");
    table_ident(b, D_SPARK, schema, t->name);
    column_list(b, D_SPARK, t, parts, np, 1);
    ut_buf_puts(b, "\nUSING parquet");
    if (np) {
        ut_buf_puts(b, "\nPARTITIONED BY (");
        for (int i = 0; i < np; i++) {
            if (i) ut_buf_puts(b, ", ");
            ident(b, D_SPARK, parts[i]);
        }
        ut_buf_putc(b, ')');
    }
    ut_buf_puts(b, "\nLOCATION ");
    location_literal(b, loc);
    ut_buf_puts(b, ";\n");
    if (np) {
        ut_buf_puts(b, "-- Register partitions now and whenever new ones appear:\nMSCK REPAIR TABLE ");
        table_ident(b, D_SPARK, schema, t->name);
        ut_buf_puts(b, ";\n");
    }
}

static void ddl_duckdb(ut_buf *b, const ct_table *t, const char *loc, const char *schema, int np)
{
    ut_buf_printf(b, "-- DuckDB: lake table %s as a view over its Parquet files.\n", t->name);
    if (np)
        ut_buf_puts(b, "-- Partition columns are strings (hive_types_autocast = false).\n");
    ut_buf_puts(b, "CREATE OR REPLACE VIEW ");
    table_ident(b, D_DUCKDB, schema, t->name);
    ut_buf_puts(b, " AS\nSELECT * FROM read_parquet(");
    ut_buf t2 = {0};
    ut_buf_printf(&t2, "%s/**/*.parquet", loc);
    ut_buf_putc(&t2, 0);
    literal(b, (const char *)t2.p);
    ut_buf_free(&t2);
    if (np) ut_buf_puts(b, ", hive_partitioning = true, hive_types_autocast = false");
    else ut_buf_puts(b, ", hive_partitioning = false");
    ut_buf_puts(b, ", union_by_name = true);\n");
}

char *ct_ddl(const ct_table *t, const struct ct_table_stats *st, const char *dialect,
             const char *location, const char *schema, char *err, size_t errlen)
{
    ut_buf b = {0};
    char parts[8][64], loc[2048];
    int d = -1;
    for (int i = 0; i < 4; i++)
        if (dialect && !strcmp(dialect, dialects[i])) d = i;
    if (d < 0) {
        ut_err(err, errlen, "unknown dialect '%s' (trino, athena, spark or duckdb)",
               dialect ? dialect : "");
        goto fail;
    }
    const char *src = location && *location ? location : t->location;
    size_t n = strlen(src);
    while (n > 1 && src[n - 1] == '/') n--; /* no trailing slash: we add our own */
    if (n == 0 || n >= sizeof loc) {
        ut_err(err, errlen, "table '%s': location is empty or too long", t->name);
        goto fail;
    }
    memcpy(loc, src, n);
    loc[n] = 0;
    if (d != D_DUCKDB && t->ncols == 0) {
        ut_err(err, errlen, "table '%s' has no columns yet (nothing committed)", t->name);
        goto fail;
    }
    int np = split_partition(t->partition, parts, 8);
    switch (d) {
    case D_TRINO: ddl_trino(&b, t, loc, schema, parts, np); break;
    case D_ATHENA:
        if (ddl_athena(&b, t, st, loc, schema, parts, np, err, errlen) < 0) goto fail;
        break;
    case D_SPARK: ddl_spark(&b, t, loc, schema, parts, np); break;
    default: ddl_duckdb(&b, t, loc, schema, np); break;
    }
    ut_buf_putc(&b, 0);
    return (char *)b.p;
fail:
    ut_buf_free(&b);
    return NULL;
}
